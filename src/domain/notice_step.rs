//! What a notice is for: a rung of the escalation ladder (`ladder::Step`,
//! whose days are configured, so `chase_1` or `chase_2`) or one of the
//! notices outside the ladder. Stored in the notice's `step` column and sent
//! in the API as its text (`db::sql_types`); not a `closed_set!`, because
//! the ladder's rungs carry their day.

use std::fmt;

use super::ladder::Step;

/// A notice's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum NoticeStep {
    /// `reminder_7`, `chase_1`, `supervise_7`, `accountability_15`.
    Ladder(Step),
    /// `accept_overdue`: the lead unit has not signed for the task in time.
    AcceptOverdue,
    /// `report_missing`: the lead unit's monthly progress report is missing.
    ReportMissing,
    /// `assigned`: 交办通知, to the lead and each cooperating unit.
    Assigned,
    /// `returned`: 退回通知, the office returned the submission.
    Returned,
    /// `instruction`: 批示通知, a leader's instruction on the task, to the
    /// lead unit.
    Instruction,
    /// `digest`: a unit's daily digest.
    Digest,
    /// `follow_digest`: a follower's daily digest of what changed in the
    /// tasks and units followed (关注).
    FollowDigest,
    /// `bulletin`: a published bulletin, to a unit.
    Bulletin,
}

impl NoticeStep {
    /// The stored and sent text, e.g. `chase_1` or `accept_overdue`.
    pub fn key(self) -> String {
        match self {
            NoticeStep::Ladder(step) => step.key(),
            NoticeStep::AcceptOverdue => "accept_overdue".into(),
            NoticeStep::ReportMissing => "report_missing".into(),
            NoticeStep::Assigned => "assigned".into(),
            NoticeStep::Returned => "returned".into(),
            NoticeStep::Instruction => "instruction".into(),
            NoticeStep::Digest => "digest".into(),
            NoticeStep::FollowDigest => "follow_digest".into(),
            NoticeStep::Bulletin => "bulletin".into(),
        }
    }

    /// The step with this text, if it is one.
    pub fn parse(key: &str) -> Option<NoticeStep> {
        Some(match key {
            "accept_overdue" => NoticeStep::AcceptOverdue,
            "report_missing" => NoticeStep::ReportMissing,
            "assigned" => NoticeStep::Assigned,
            "returned" => NoticeStep::Returned,
            "instruction" => NoticeStep::Instruction,
            "digest" => NoticeStep::Digest,
            "follow_digest" => NoticeStep::FollowDigest,
            "bulletin" => NoticeStep::Bulletin,
            _ => return Step::parse(key).map(NoticeStep::Ladder),
        })
    }

    /// The ladder's rung, for a notice of the ladder.
    pub fn rung(self) -> Option<Step> {
        match self {
            NoticeStep::Ladder(step) => Some(step),
            _ => None,
        }
    }

    /// A chase notice or a supervision order: the task is late and the unit
    /// is asked to reply by a date.
    pub fn chases(self) -> bool {
        matches!(self.rung(), Some(Step::Chase(_) | Step::Supervise(_)))
    }
}

impl From<Step> for NoticeStep {
    fn from(step: Step) -> NoticeStep {
        NoticeStep::Ladder(step)
    }
}

impl fmt::Display for NoticeStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

impl serde::Serialize for NoticeStep {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.key())
    }
}

impl utoipa::PartialSchema for NoticeStep {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "reminder_N, chase_N, supervise_N, accountability_N (N: the ladder's day), \
                 accept_overdue, report_missing, assigned, returned, instruction, digest, \
                 follow_digest or bulletin",
            ))
            .into()
    }
}

impl utoipa::ToSchema for NoticeStep {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_round_trips_through_its_text_and_json() {
        let steps = [
            NoticeStep::Ladder(Step::Reminder(7)),
            NoticeStep::Ladder(Step::Chase(1)),
            NoticeStep::Ladder(Step::Supervise(7)),
            NoticeStep::Ladder(Step::Accountability(15)),
        ]
        .into_iter()
        .chain([
            NoticeStep::AcceptOverdue,
            NoticeStep::ReportMissing,
            NoticeStep::Assigned,
            NoticeStep::Returned,
            NoticeStep::Instruction,
            NoticeStep::Digest,
            NoticeStep::FollowDigest,
            NoticeStep::Bulletin,
        ]);
        for step in steps {
            assert_eq!(NoticeStep::parse(&step.key()), Some(step));
            assert_eq!(
                serde_json::to_string(&step).unwrap(),
                format!("\"{}\"", step.key())
            );
        }
        assert_eq!(NoticeStep::Digest.key(), "digest");
        assert_eq!(NoticeStep::Ladder(Step::Chase(2)).key(), "chase_2");
        assert_eq!(NoticeStep::parse("chase"), None);
        assert_eq!(NoticeStep::parse("Digest"), None);
    }

    #[test]
    fn only_chase_and_supervision_chase() {
        assert!(NoticeStep::Ladder(Step::Chase(1)).chases());
        assert!(NoticeStep::Ladder(Step::Supervise(7)).chases());
        assert!(!NoticeStep::Ladder(Step::Reminder(1)).chases());
        assert!(!NoticeStep::Ladder(Step::Accountability(15)).chases());
        assert!(!NoticeStep::AcceptOverdue.chases());
    }
}
