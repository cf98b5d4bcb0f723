//! Which tasks count for a unit in a reporting period, and how each counts:
//! completed on time, completed late, still overdue, or not yet due. These
//! figures feed the score (`scoring`), the rankings and the bulletins; the
//! definitions are written out in `docs/scoring.md`.
//!
//! A period is judged on one day: the day after it ends, or today while it is
//! still running. A task counts when it has a due date on or before the
//! period's last day and was not both due and done before the period began; a task
//! is done on the day it was submitted (and then verified or awaiting
//! verification), as for the traffic lights.

use chrono::{Duration, NaiveDate};

use super::period::Period;

/// Completed at least this many days before the due date counts as early.
pub const EARLY_DAYS: i64 = 7;

/// The day a period is judged on and the last day whose work counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    pub period: Period,
    /// Deadlines before this day have passed.
    pub judged_on: NaiveDate,
    /// Submissions up to and including this day count.
    pub last_counted: NaiveDate,
}

impl Judgement {
    pub fn new(period: Period, today: NaiveDate) -> Judgement {
        if today <= period.end {
            Judgement {
                period,
                judged_on: today,
                last_counted: today,
            }
        } else {
            Judgement {
                period,
                judged_on: period.end + Duration::days(1),
                last_counted: period.end,
            }
        }
    }

    /// Whether the period is still running.
    pub fn is_open(&self) -> bool {
        self.judged_on == self.last_counted
    }
}

/// What the rules need to know about one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskFacts {
    pub due: NaiveDate,
    /// The local day it was submitted, for submitted and completed tasks.
    pub done_on: Option<NaiveDate>,
}

/// How a task counts in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    OnTime { early: bool },
    Late { days: i64 },
    Overdue { days: i64 },
    NotYetDue,
}

/// How `task` counts in the judged period, or None when it does not count.
pub fn classify(task: &TaskFacts, j: &Judgement) -> Option<Outcome> {
    if task.due > j.period.end {
        return None;
    }
    // Due and done before the period: it counted in an earlier one. (Done
    // early but due in the period, it counts here, on time.)
    if task.due < j.period.start && matches!(task.done_on, Some(d) if d < j.period.start) {
        return None;
    }
    match task.done_on.filter(|d| *d <= j.last_counted) {
        Some(done) if done <= task.due => Some(Outcome::OnTime {
            early: (task.due - done).num_days() >= EARLY_DAYS,
        }),
        Some(done) => Some(Outcome::Late {
            days: (done - task.due).num_days(),
        }),
        None if task.due < j.judged_on => Some(Outcome::Overdue {
            days: (j.judged_on - task.due).num_days(),
        }),
        None => Some(Outcome::NotYetDue),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn november() -> Period {
        Period::parse("2026-11").unwrap()
    }

    fn task(due: NaiveDate, done_on: Option<NaiveDate>) -> TaskFacts {
        TaskFacts { due, done_on }
    }

    #[test]
    fn a_closed_month_is_judged_on_the_first_of_the_next() {
        let j = Judgement::new(november(), d(12, 15));
        assert_eq!((j.judged_on, j.last_counted), (d(12, 1), d(11, 30)));
        assert!(!j.is_open());
        let open = Judgement::new(november(), d(11, 20));
        assert_eq!((open.judged_on, open.last_counted), (d(11, 20), d(11, 20)));
        assert!(open.is_open());
    }

    #[test]
    fn each_outcome_by_example() {
        let j = Judgement::new(november(), d(12, 15));
        use Outcome::*;
        let cases = [
            // due in the month, done 10 days early
            (
                task(d(11, 20), Some(d(11, 10))),
                Some(OnTime { early: true }),
            ),
            (
                task(d(11, 20), Some(d(11, 20))),
                Some(OnTime { early: false }),
            ),
            (task(d(11, 20), Some(d(11, 23))), Some(Late { days: 3 })),
            // carried over from October and finished late in November
            (task(d(10, 31), Some(d(11, 2))), Some(Late { days: 2 })),
            // still open when the month closed: overdue as of 1 December
            (task(d(11, 30), None), Some(Overdue { days: 1 })),
            (task(d(10, 1), None), Some(Overdue { days: 61 })),
            // finished in December: as of November's close it was overdue
            (task(d(11, 25), Some(d(12, 3))), Some(Overdue { days: 6 })),
            // due and done before the month: counted in October
            (task(d(10, 31), Some(d(10, 30))), None),
            (task(d(10, 1), Some(d(10, 20))), None),
            // done in October but due in November: counts in November, early
            (
                task(d(11, 20), Some(d(10, 20))),
                Some(OnTime { early: true }),
            ),
            // due later
            (task(d(12, 1), None), None),
        ];
        for (t, want) in cases {
            assert_eq!(classify(&t, &j), want, "{t:?}");
        }
    }

    #[test]
    fn in_a_running_month_later_deadlines_are_not_yet_due() {
        let j = Judgement::new(november(), d(11, 20));
        assert_eq!(
            classify(&task(d(11, 25), None), &j),
            Some(Outcome::NotYetDue)
        );
        assert_eq!(
            classify(&task(d(11, 20), None), &j),
            Some(Outcome::NotYetDue),
            "due today is not late yet"
        );
        assert_eq!(
            classify(&task(d(11, 19), None), &j),
            Some(Outcome::Overdue { days: 1 })
        );
        assert_eq!(
            classify(&task(d(11, 20), Some(d(11, 20))), &j),
            Some(Outcome::OnTime { early: false }),
            "submitted today counts today"
        );
    }

    proptest! {
        #[test]
        fn finishing_earlier_never_makes_a_task_count_worse(
            due in 0i64..120, done in 0i64..120, earlier in 1i64..30, today in 0i64..150,
        ) {
            let base = d(9, 1);
            let j = Judgement::new(november(), base + Duration::days(today));
            let t = task(base + Duration::days(due), Some(base + Duration::days(done)));
            let sooner = task(t.due, Some(base + Duration::days(done - earlier)));
            let rank = |o: Option<Outcome>| match o {
                Some(Outcome::OnTime { .. }) => 3,
                Some(Outcome::NotYetDue) => 2,
                Some(Outcome::Late { .. }) => 1,
                Some(Outcome::Overdue { .. }) => 0,
                None => 4,
            };
            prop_assert!(rank(classify(&sooner, &j)) >= rank(classify(&t, &j)) || classify(&sooner, &j).is_none());
        }
    }
}
