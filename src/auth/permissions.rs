//! The permission table: which role may do what. `AuthUser::require` is the one
//! place that checks it; object-level rules (a unit clerk sees only the own
//! unit's records) live in each area's service.

use crate::domain::Role;

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// List and read units.
    ReadUnits,
    /// Create, change, deactivate and delete units.
    ManageUnits,
    /// List and read accounts (a unit clerk: those of the own unit).
    ReadUsers,
    /// Create and change accounts, reset passwords.
    ManageUsers,
    /// Read plans and tasks (unit clerks and leaders: only those they take part in).
    ReadTasks,
    /// Create and change plans and tasks; assign, verify, return, cancel,
    /// reopen; decide extension requests.
    ManageTasks,
    /// Act for a unit on its tasks: accept, report, attach evidence, submit,
    /// request an extension.
    ActForUnit,
    /// Maintain the holiday calendar.
    ManageCalendar,
    /// Read the audit trail.
    ReadAudit,
    /// Read live rankings, bulletin drafts, assessments and any unit's record.
    ReadRankings,
    /// Draft, edit and publish bulletins.
    ManageBulletins,
    /// Write an instruction (批示) on a task the person sees.
    Instruct,
    /// Follow tasks and units (关注) and get their daily digest.
    Follow,
    /// Keep the house: read the effective settings and verify the audit
    /// chain from the console.
    Administer,
}

use Permission::*;
use Role::*;

/// The table itself. Reading it top to bottom answers "who may do X".
const TABLE: &[(Permission, &[Role])] = &[
    (ReadUnits, &[Admin, Office, Leader, Unit, Viewer]),
    (ManageUnits, &[Admin]),
    (ReadUsers, &[Admin, Office, Leader, Unit, Viewer]),
    (ManageUsers, &[Admin]),
    (ReadTasks, &[Admin, Office, Leader, Unit, Viewer]),
    (ManageTasks, &[Admin, Office]),
    (ActForUnit, &[Unit]),
    (ManageCalendar, &[Admin]),
    (ReadAudit, &[Admin, Office, Viewer]),
    (ReadRankings, &[Admin, Office, Leader, Viewer]),
    (ManageBulletins, &[Admin, Office]),
    (Instruct, &[Admin, Office, Leader]),
    (Follow, &[Admin, Office, Leader]),
    (Administer, &[Admin]),
];

pub fn allows(role: Role, permission: Permission) -> bool {
    TABLE
        .iter()
        .any(|(p, roles)| *p == permission && roles.contains(&role))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_units_and_accounts() {
        for role in Role::ALL {
            assert_eq!(allows(role, ManageUnits), role == Admin, "{role}");
            assert_eq!(allows(role, ManageUsers), role == Admin, "{role}");
            assert_eq!(allows(role, Administer), role == Admin, "{role}");
            assert!(allows(role, ReadUnits), "{role}");
        }
    }

    #[test]
    fn viewers_change_nothing() {
        for p in [
            ManageUnits,
            ManageUsers,
            ManageTasks,
            ActForUnit,
            ManageCalendar,
            ManageBulletins,
            Instruct,
            Administer,
        ] {
            assert!(!allows(Viewer, p), "{p:?}");
        }
    }

    #[test]
    fn every_permission_has_a_row() {
        for p in [
            ReadUnits,
            ManageUnits,
            ReadUsers,
            ManageUsers,
            ReadTasks,
            ManageTasks,
            ActForUnit,
            ManageCalendar,
            ReadAudit,
            Administer,
        ] {
            assert!(TABLE.iter().any(|(q, _)| *q == p), "{p:?}");
        }
    }
}
