//! The roles a user account can have.

crate::closed_set! {
    /// What an account is for; the permission table in `auth::permissions` says
    /// what each may do.
    pub enum Role ("角色", "role") {
        /// Accounts, units and settings.
        Admin = "admin",
        /// The leading-group office (创建办): assigns, verifies, publishes bulletins.
        Office = "office",
        /// A responsible leader (责任领导).
        Leader = "leader",
        /// A unit clerk: acts on the own unit's tasks only.
        Unit = "unit",
        /// Reads everything, changes nothing (e.g. discipline inspection).
        Viewer = "viewer",
    }
}

impl Role {
    /// A role as an office writes it in an account list: its name in any
    /// case (`office`, `Office`) or its Chinese name (创建办, 单位用户…), as
    /// the console shows them.
    pub fn from_written(text: &str) -> Result<Role, super::Message> {
        let text = text.trim();
        let zh = match text {
            "系统管理员" | "管理员" => Some(Role::Admin),
            "创建办" | "办公室" => Some(Role::Office),
            "责任领导" | "领导" => Some(Role::Leader),
            "单位用户" | "单位" => Some(Role::Unit),
            "只读用户" | "只读" => Some(Role::Viewer),
            _ => None,
        };
        match zh {
            Some(role) => Ok(role),
            None => Role::parse(&text.to_ascii_lowercase()).map_err(|_| {
                super::Message::owned(
                    format!("角色“{text}”不存在，可写：系统管理员、创建办、责任领导、单位用户、只读用户（或 admin、office、leader、unit、viewer）"),
                    format!("no role {text:?}; write one of 系统管理员, 创建办, 责任领导, 单位用户, 只读用户 (or admin, office, leader, unit, viewer)"),
                )
            }),
        }
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

    #[test]
    fn a_list_may_write_roles_in_chinese_or_english() {
        assert_eq!(Role::from_written("创建办"), Ok(Role::Office));
        assert_eq!(Role::from_written(" 单位用户 "), Ok(Role::Unit));
        assert_eq!(Role::from_written("Leader"), Ok(Role::Leader));
        assert!(Role::from_written("局长").is_err());
    }
}
