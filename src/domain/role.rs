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
