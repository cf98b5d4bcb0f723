//! The task life cycle: which action moves a task from which status to which.
//!
//! ```text
//! draft --assign--> assigned --accept--> in_progress --submit--> submitted --verify--> completed
//!                                             ^                      |
//!                                             +-------return---------+
//! any open status --cancel--> cancelled;  completed --reopen--> in_progress
//! ```

crate::closed_set! {
    /// Where a task is in its life cycle.
    pub enum TaskStatus ("状态", "status") {
        Draft = "draft",
        Assigned = "assigned",
        InProgress = "in_progress",
        Submitted = "submitted",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

impl TaskStatus {
    /// zh-CN name as used in tables and bulletins.
    pub fn zh(self) -> &'static str {
        match self {
            TaskStatus::Draft => "草稿",
            TaskStatus::Assigned => "已交办",
            TaskStatus::InProgress => "办理中",
            TaskStatus::Submitted => "申请办结",
            TaskStatus::Completed => "已办结",
            TaskStatus::Cancelled => "已撤销",
        }
    }

    /// Still work to do: neither completed nor cancelled.
    pub fn is_open(self) -> bool {
        !matches!(self, TaskStatus::Completed | TaskStatus::Cancelled)
    }
}

/// What someone does to a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskAction {
    Assign,
    Accept,
    Submit,
    Verify,
    Return,
    Cancel,
    Reopen,
}

impl TaskAction {
    pub const ALL: [TaskAction; 7] = [
        TaskAction::Assign,
        TaskAction::Accept,
        TaskAction::Submit,
        TaskAction::Verify,
        TaskAction::Return,
        TaskAction::Cancel,
        TaskAction::Reopen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskAction::Assign => "assign",
            TaskAction::Accept => "accept",
            TaskAction::Submit => "submit",
            TaskAction::Verify => "verify",
            TaskAction::Return => "return",
            TaskAction::Cancel => "cancel",
            TaskAction::Reopen => "reopen",
        }
    }

    /// The event kind recorded for the action.
    pub fn event_kind(self) -> &'static str {
        match self {
            TaskAction::Assign => "assigned",
            TaskAction::Accept => "accepted",
            TaskAction::Submit => "submitted",
            TaskAction::Verify => "verified",
            TaskAction::Return => "returned",
            TaskAction::Cancel => "cancelled",
            TaskAction::Reopen => "reopened",
        }
    }

    /// Whether the action must carry a note (a reason or a completion note).
    pub fn needs_note(self) -> bool {
        matches!(
            self,
            TaskAction::Submit | TaskAction::Return | TaskAction::Cancel | TaskAction::Reopen
        )
    }
}

/// The status after `action`, or None when the action is not allowed from `from`.
pub fn next_status(from: TaskStatus, action: TaskAction) -> Option<TaskStatus> {
    use TaskAction as A;
    use TaskStatus as S;
    match (from, action) {
        (S::Draft, A::Assign) => Some(S::Assigned),
        (S::Assigned, A::Accept) => Some(S::InProgress),
        (S::InProgress, A::Submit) => Some(S::Submitted),
        (S::Submitted, A::Verify) => Some(S::Completed),
        (S::Submitted, A::Return) => Some(S::InProgress),
        (S::Completed, A::Reopen) => Some(S::InProgress),
        (s, A::Cancel) if s.is_open() => Some(S::Cancelled),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use TaskAction as A;
    use TaskStatus as S;

    #[test]
    fn the_whole_chain_with_a_return() {
        let mut s = S::Draft;
        for action in [
            A::Assign,
            A::Accept,
            A::Submit,
            A::Return,
            A::Submit,
            A::Verify,
        ] {
            s = next_status(s, action).unwrap();
        }
        assert_eq!(s, S::Completed);
        assert_eq!(next_status(s, A::Reopen), Some(S::InProgress));
    }

    #[test]
    fn wrong_transitions_are_refused() {
        assert_eq!(next_status(S::Draft, A::Submit), None);
        assert_eq!(next_status(S::Assigned, A::Verify), None);
        assert_eq!(next_status(S::InProgress, A::Verify), None);
        assert_eq!(next_status(S::Completed, A::Cancel), None);
        assert_eq!(next_status(S::Cancelled, A::Reopen), None);
        assert_eq!(next_status(S::Submitted, A::Accept), None);
    }

    #[test]
    fn every_status_round_trips_through_its_name() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Ok(s));
        }
    }

    fn any_status() -> impl Strategy<Value = S> {
        proptest::sample::select(S::ALL.to_vec())
    }

    fn any_action() -> impl Strategy<Value = A> {
        proptest::sample::select(A::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn cancelled_is_final(actions in proptest::collection::vec(any_action(), 0..20)) {
            let mut s = S::Cancelled;
            for a in actions {
                prop_assert_eq!(next_status(s, a), None);
                s = next_status(s, a).unwrap_or(s);
            }
        }

        #[test]
        fn completed_is_reached_only_by_verifying_a_submitted_task(from in any_status(), action in any_action()) {
            if next_status(from, action) == Some(S::Completed) {
                prop_assert_eq!((from, action), (S::Submitted, A::Verify));
            }
        }

        #[test]
        fn any_walk_stays_in_known_states_and_never_returns_to_draft(
            actions in proptest::collection::vec(any_action(), 0..40)
        ) {
            let mut s = S::Draft;
            for a in actions {
                if let Some(next) = next_status(s, a) {
                    prop_assert_ne!(next, S::Draft);
                    s = next;
                }
            }
        }
    }
}
