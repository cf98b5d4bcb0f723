//! The escalation ladder: which notices a task is owed on a given local day.
//!
//! Reminders go out before the due date (by default 7, 3 and 1 days before);
//! once overdue the task climbs: a chase notice (催办) on day 1, a supervision
//! order (督办) on day 7, an accountability proposal on day 15. Each step is
//! owed once per due date, so an extension (a new due date) restarts the
//! ladder. A scan that missed days sends only the latest reminder (older ones
//! are stale) but every escalation step passed, since each is a record.

use chrono::{Duration, NaiveDate};

use super::task_state::TaskStatus;

/// A rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// N days before the due date.
    Reminder(u32),
    /// Overdue day N: chase notice (催办) to the lead and cooperating units.
    Chase(u32),
    /// Overdue day N: supervision order (督办) to the unit head and the responsible leader.
    Supervise(u32),
    /// Overdue day N: an accountability proposal for the office.
    Accountability(u32),
}

impl Step {
    /// Stable text for dedupe keys and the API, e.g. `reminder_3`, `chase_1`.
    pub fn key(self) -> String {
        match self {
            Step::Reminder(n) => format!("reminder_{n}"),
            Step::Chase(n) => format!("chase_{n}"),
            Step::Supervise(n) => format!("supervise_{n}"),
            Step::Accountability(n) => format!("accountability_{n}"),
        }
    }

    pub fn parse(key: &str) -> Option<Step> {
        let (kind, n) = key.rsplit_once('_')?;
        let n: u32 = n.parse().ok()?;
        match kind {
            "reminder" => Some(Step::Reminder(n)),
            "chase" => Some(Step::Chase(n)),
            "supervise" => Some(Step::Supervise(n)),
            "accountability" => Some(Step::Accountability(n)),
            _ => None,
        }
    }

    /// The local date this step falls on for a task due on `due`.
    pub fn date(self, due: NaiveDate) -> NaiveDate {
        match self {
            Step::Reminder(n) => due - Duration::days(i64::from(n)),
            Step::Chase(n) | Step::Supervise(n) | Step::Accountability(n) => {
                due + Duration::days(i64::from(n))
            }
        }
    }
}

/// The configured rungs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    pub reminder_days: Vec<u32>,
    pub chase_day: u32,
    pub supervise_day: u32,
    pub accountability_day: u32,
}

impl Default for Ladder {
    fn default() -> Self {
        Ladder {
            reminder_days: vec![7, 3, 1],
            chase_day: 1,
            supervise_day: 7,
            accountability_day: 15,
        }
    }
}

impl Ladder {
    /// The last due date a step can be owed for on `today`: today plus the
    /// longest reminder period (a task due later owes no step yet).
    pub fn horizon(&self, today: NaiveDate) -> NaiveDate {
        let longest = self.reminder_days.iter().copied().max().unwrap_or(0);
        today + Duration::days(i64::from(longest))
    }

    /// Whether an open task may owe any of a task's notices on `today`: a
    /// ladder step (due by the horizon), a signing-for reminder (still
    /// assigned) or a progress-report reminder (it has a report cycle). A
    /// necessary condition only, which the scan asks of the database to pass
    /// over the tasks that owe nothing; the rules themselves decide the rest.
    pub fn may_owe(
        &self,
        status: TaskStatus,
        due: Option<NaiveDate>,
        has_report_cycle: bool,
        today: NaiveDate,
    ) -> bool {
        due.is_some_and(|d| d <= self.horizon(today))
            || status == TaskStatus::Assigned
            || has_report_cycle
    }

    /// The steps owed on `today` by a task in `status` due on `due`: the most
    /// recent reminder whose day has come (if the task is not yet overdue),
    /// and every escalation step whose day has come.
    pub fn owed(&self, status: TaskStatus, due: Option<NaiveDate>, today: NaiveDate) -> Vec<Step> {
        let Some(due) = due else { return Vec::new() };
        if !matches!(status, TaskStatus::Assigned | TaskStatus::InProgress) {
            return Vec::new();
        }
        let mut owed = Vec::new();
        if today <= due {
            let latest = self
                .reminder_days
                .iter()
                .map(|n| Step::Reminder(*n))
                .filter(|s| s.date(due) <= today)
                .max_by_key(|s| s.date(due));
            owed.extend(latest);
        }
        for step in [
            Step::Chase(self.chase_day),
            Step::Supervise(self.supervise_day),
            Step::Accountability(self.accountability_day),
        ] {
            if step.date(due) <= today {
                owed.push(step);
            }
        }
        owed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    const S: TaskStatus = TaskStatus::InProgress;

    #[test]
    fn the_default_ladder_day_by_day() {
        let l = Ladder::default();
        let due = d(2026, 6, 30);
        assert!(l.owed(S, Some(due), d(2026, 6, 22)).is_empty());
        assert_eq!(l.owed(S, Some(due), d(2026, 6, 23)), [Step::Reminder(7)]);
        assert_eq!(l.owed(S, Some(due), d(2026, 6, 27)), [Step::Reminder(3)]);
        assert_eq!(l.owed(S, Some(due), d(2026, 6, 29)), [Step::Reminder(1)]);
        assert_eq!(l.owed(S, Some(due), d(2026, 6, 30)), [Step::Reminder(1)]);
        assert_eq!(l.owed(S, Some(due), d(2026, 7, 1)), [Step::Chase(1)]);
        assert_eq!(
            l.owed(S, Some(due), d(2026, 7, 7)),
            [Step::Chase(1), Step::Supervise(7)]
        );
        assert_eq!(
            l.owed(S, Some(due), d(2026, 7, 15)),
            [Step::Chase(1), Step::Supervise(7), Step::Accountability(15)]
        );
    }

    #[test]
    fn done_drafts_and_undated_tasks_owe_nothing() {
        let l = Ladder::default();
        for status in [
            TaskStatus::Draft,
            TaskStatus::Submitted,
            TaskStatus::Completed,
            TaskStatus::Cancelled,
        ] {
            assert!(l
                .owed(status, Some(d(2026, 1, 1)), d(2026, 3, 1))
                .is_empty());
        }
        assert!(l.owed(S, None, d(2026, 3, 1)).is_empty());
    }

    #[test]
    fn step_keys_round_trip() {
        for s in [
            Step::Reminder(7),
            Step::Chase(1),
            Step::Supervise(7),
            Step::Accountability(15),
        ] {
            assert_eq!(Step::parse(&s.key()), Some(s));
        }
        assert_eq!(Step::parse("nonsense"), None);
    }

    fn any_status() -> impl Strategy<Value = TaskStatus> {
        prop_oneof![
            Just(TaskStatus::Draft),
            Just(TaskStatus::Assigned),
            Just(TaskStatus::InProgress),
            Just(TaskStatus::Submitted),
            Just(TaskStatus::Completed),
            Just(TaskStatus::Cancelled),
        ]
    }

    #[test]
    fn a_task_due_after_the_horizon_in_progress_without_a_cycle_owes_nothing() {
        let l = Ladder::default();
        let today = d(2026, 6, 1);
        assert_eq!(l.horizon(today), d(2026, 6, 8));
        assert!(l.may_owe(S, Some(d(2026, 6, 8)), false, today));
        assert!(!l.may_owe(S, Some(d(2026, 6, 9)), false, today));
        assert!(!l.may_owe(S, None, false, today));
        assert!(l.may_owe(TaskStatus::Assigned, None, false, today));
        assert!(l.may_owe(S, None, true, today));
    }

    proptest! {
        /// What the scan skips by `may_owe` owes nothing by any of the rules
        /// of the tasks pass: the ladder, signing for, the progress report.
        #[test]
        fn a_task_may_owe_whenever_a_rule_says_it_owes(
            status in any_status(),
            // Days from today: the edges (the horizon, the due date) are hit.
            due in proptest::option::of(-40i64..40),
            today in 0i64..500,
            assigned in proptest::option::of(0i64..500),
            started in proptest::option::of(0i64..500),
            last_report in proptest::option::of(0i64..500),
            cycle in proptest::option::of((1i32..=31, 0usize..3)),
            reminders in proptest::collection::vec(0u32..30, 0..4),
            accept_days in 0i64..10,
        ) {
            use crate::domain::report_cycle::{ReportCadence, ReportCycle};
            use crate::domain::traffic;
            let l = Ladder { reminder_days: reminders, ..Ladder::default() };
            let base = d(2026, 1, 1);
            let day = |n: i64| base + Duration::days(n);
            let due = due.map(|offset| today + offset);
            let today = day(today);
            let cadences = [ReportCadence::Monthly, ReportCadence::Quarterly, ReportCadence::HalfYearly];
            let cycle = cycle.and_then(|(n, c)| ReportCycle::new(cadences[c], n));
            let owes = !l.owed(status, due.map(day), today).is_empty()
                || traffic::acceptance_overdue(status, assigned.map(day), today, accept_days)
                || traffic::missing_report(cycle, status, started.map(day), last_report.map(day), today).is_some();
            if owes {
                prop_assert!(l.may_owe(status, due.map(day), cycle.is_some(), today));
            }
        }

        #[test]
        fn escalation_steps_once_owed_stay_owed(due in 0i64..400, a in 0i64..500, b in 0i64..500) {
            let l = Ladder::default();
            let base = d(2026, 1, 1);
            let due = base + Duration::days(due);
            let (early, late) = (base + Duration::days(a.min(b)), base + Duration::days(a.max(b)));
            let before: Vec<Step> = l.owed(S, Some(due), early).into_iter().filter(|s| !matches!(s, Step::Reminder(_))).collect();
            let after = l.owed(S, Some(due), late);
            for s in before {
                prop_assert!(after.contains(&s));
            }
        }

        #[test]
        fn at_most_one_reminder_and_never_after_the_due_date(due in 0i64..400, today in 0i64..500) {
            let l = Ladder::default();
            let base = d(2026, 1, 1);
            let due = base + Duration::days(due);
            let today = base + Duration::days(today);
            let reminders = l.owed(S, Some(due), today).into_iter().filter(|s| matches!(s, Step::Reminder(_))).count();
            prop_assert!(reminders <= 1);
            if today > due { prop_assert_eq!(reminders, 0); }
        }
    }
}
