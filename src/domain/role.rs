//! The roles a user account can have.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Message;

/// What an account is for; the permission table in `auth::permissions` says
/// what each may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Accounts, units and settings.
    Admin,
    /// The leading-group office (创建办): assigns, verifies, publishes bulletins.
    Office,
    /// A responsible leader (责任领导).
    Leader,
    /// A unit clerk: acts on the own unit's tasks only.
    Unit,
    /// Reads everything, changes nothing (e.g. discipline inspection).
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Office,
        Role::Leader,
        Role::Unit,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Office => "office",
            Role::Leader => "leader",
            Role::Unit => "unit",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Result<Role, Message> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                Message::new(
                    "角色必须是 admin、office、leader、unit 或 viewer",
                    "role must be one of admin, office, leader, unit, viewer",
                )
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::parse("Admin").is_err());
    }
}
