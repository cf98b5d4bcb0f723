//! Traffic lights (红黄绿灯) and days overdue, computed for a given local "today".
//!
//! A task is overdue on the first local day after its due date while not done.
//! A submitted task counts as done on the day it was submitted (if the office
//! then verifies it), so it is judged by its submission date, not by today.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::report_cycle::ReportCycle;
use super::task_state::TaskStatus;
use super::Message;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrafficLight {
    /// On track, or done.
    Green,
    /// At risk: due within the warning period, or returned by the office.
    Yellow,
    /// Overdue.
    Red,
}

impl TrafficLight {
    pub fn as_str(self) -> &'static str {
        match self {
            TrafficLight::Green => "green",
            TrafficLight::Yellow => "yellow",
            TrafficLight::Red => "red",
        }
    }

    /// The worse of two lights (red over yellow over green); a task without
    /// a light (a draft, a cancelled task) does not change the other.
    pub fn worst(a: Option<TrafficLight>, b: Option<TrafficLight>) -> Option<TrafficLight> {
        let rank = |l: &Option<TrafficLight>| match l {
            None => 0,
            Some(TrafficLight::Green) => 1,
            Some(TrafficLight::Yellow) => 2,
            Some(TrafficLight::Red) => 3,
        };
        if rank(&b) > rank(&a) {
            b
        } else {
            a
        }
    }

    pub fn parse(s: &str) -> Result<TrafficLight, Message> {
        match s {
            "green" => Ok(TrafficLight::Green),
            "yellow" => Ok(TrafficLight::Yellow),
            "red" => Ok(TrafficLight::Red),
            _ => Err(Message::new(
                "红黄绿灯必须是 green、yellow 或 red",
                "light must be one of green, yellow, red",
            )),
        }
    }
}

/// What the light depends on.
#[derive(Debug, Clone, Copy)]
pub struct TaskTiming {
    pub status: TaskStatus,
    pub due: Option<NaiveDate>,
    /// Local date the task was last submitted (for submitted and completed tasks).
    pub submitted_on: Option<NaiveDate>,
    /// The office returned it and it has not been resubmitted since.
    pub returned: bool,
}

/// The day work stopped counting against the deadline, if it has.
fn finished_on(t: &TaskTiming) -> Option<NaiveDate> {
    match t.status {
        TaskStatus::Submitted | TaskStatus::Completed => t.submitted_on,
        _ => None,
    }
}

/// Days past the due date: as of today while open, as of the submission for
/// submitted or completed tasks. Zero when not late; cancelled tasks are never late.
pub fn days_overdue(t: &TaskTiming, today: NaiveDate) -> i64 {
    let Some(due) = t.due else { return 0 };
    if t.status == TaskStatus::Cancelled || t.status == TaskStatus::Draft {
        return 0;
    }
    days_late(due, finished_on(t).unwrap_or(today))
}

/// Days past `due` as of `on`: zero on the due date itself and before it.
/// Also how late an owed indicator report is.
pub fn days_late(due: NaiveDate, on: NaiveDate) -> i64 {
    (on - due).num_days().max(0)
}

/// Whether signing for (签收) a task is late: it is still assigned more than
/// `accept_days` local days after the day it was assigned.
pub fn acceptance_overdue(
    status: TaskStatus,
    assigned_on: Option<NaiveDate>,
    today: NaiveDate,
    accept_days: i64,
) -> bool {
    status == TaskStatus::Assigned
        && assigned_on.is_some_and(|on| (today - on).num_days() > accept_days)
}

/// The light, or None for drafts and cancelled tasks (nothing to judge).
pub fn light(t: &TaskTiming, today: NaiveDate, warn_days: i64) -> Option<TrafficLight> {
    match t.status {
        TaskStatus::Draft | TaskStatus::Cancelled => return None,
        TaskStatus::Completed => return Some(TrafficLight::Green),
        _ => {}
    }
    if days_overdue(t, today) > 0 && t.status != TaskStatus::Submitted {
        return Some(TrafficLight::Red);
    }
    if t.status == TaskStatus::Submitted {
        // Waiting for the office: judged by when it was submitted.
        return Some(if days_overdue(t, today) > 0 {
            TrafficLight::Red
        } else {
            TrafficLight::Green
        });
    }
    let due_soon = t
        .due
        .is_some_and(|due| (due - today).num_days() < warn_days);
    Some(if t.returned || due_soon {
        TrafficLight::Yellow
    } else {
        TrafficLight::Green
    })
}

/// Whether the report of the current cycle is owed (报告待报): the task is
/// assigned or in progress, started before the next report date (on or
/// after today), today is within a month of it ([`ReportCycle::owed_after`]:
/// always so for monthly reports; in the quarter's or half-year's last
/// month for the others), and its lead unit has not reported since the
/// report date before that one. Every task whose report is missing
/// ([`report_missing`]) owes one too.
pub fn report_owed(
    cycle: Option<ReportCycle>,
    status: TaskStatus,
    started_on: Option<NaiveDate>,
    last_report_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    let (Some(cycle), Some(started)) = (cycle, started_on) else {
        return false;
    };
    if !matches!(status, TaskStatus::Assigned | TaskStatus::InProgress) {
        return false;
    }
    if missing_report(Some(cycle), status, started_on, last_report_on, today).is_some() {
        return true;
    }
    // The report date before the next one is the latest strictly before today.
    match (cycle.next_report_date(today), cycle.report_dates(today)) {
        (Some(next), Some((since, _))) => {
            cycle.owed_after(next).is_some_and(|opens| opens < today)
                && started < next
                && last_report_on.is_none_or(|r| r <= since)
        }
        _ => false,
    }
}

/// Whether a progress report (due by the cycle's day of each cycle's last
/// month, [`ReportCycle`]) is missing: the latest report date before today
/// has passed since the task started, and no report was made after the
/// report date before it.
pub fn report_missing(
    cycle: Option<ReportCycle>,
    status: TaskStatus,
    started_on: Option<NaiveDate>,
    last_report_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    missing_report(cycle, status, started_on, last_report_on, today).is_some()
}

/// The report date whose report is missing, when [`report_missing`]: a
/// reminder about it is owed once per report date.
pub fn missing_report(
    cycle: Option<ReportCycle>,
    status: TaskStatus,
    started_on: Option<NaiveDate>,
    last_report_on: Option<NaiveDate>,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let (cycle, started) = (cycle?, started_on?);
    if !matches!(status, TaskStatus::Assigned | TaskStatus::InProgress) {
        return None;
    }
    let (due, previous) = cycle.report_dates(today)?;
    (started < due && last_report_on.is_none_or(|r| r <= previous)).then_some(due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report_cycle::ReportCadence;

    #[test]
    fn the_worst_light_wins_and_no_light_changes_nothing() {
        use TrafficLight::{Green, Red, Yellow};
        assert_eq!(TrafficLight::worst(Some(Green), Some(Red)), Some(Red));
        assert_eq!(TrafficLight::worst(Some(Yellow), Some(Green)), Some(Yellow));
        assert_eq!(TrafficLight::worst(None, Some(Green)), Some(Green));
        assert_eq!(TrafficLight::worst(Some(Red), None), Some(Red));
        assert_eq!(TrafficLight::worst(None, None), None);
    }
    use proptest::prelude::*;

    #[test]
    fn monthly_reports_are_due_by_their_day() {
        let s = TaskStatus::InProgress;
        let started = Some(d(2026, 9, 1));
        // Due by the 25th: on 11-25 the October report (after 09-25) still counts.
        assert!(!report_missing(
            m(25),
            s,
            started,
            Some(d(2026, 10, 20)),
            d(2026, 11, 25)
        ));
        // On 11-26 the report for 11-25 must be after 10-25.
        assert!(report_missing(
            m(25),
            s,
            started,
            Some(d(2026, 10, 20)),
            d(2026, 11, 26)
        ));
        assert!(!report_missing(
            m(25),
            s,
            started,
            Some(d(2026, 10, 26)),
            d(2026, 11, 26)
        ));
        assert!(report_missing(m(25), s, started, None, d(2026, 11, 26)));
        // Started after the last report date: nothing due yet.
        assert!(!report_missing(
            m(25),
            s,
            Some(d(2026, 11, 25)),
            None,
            d(2026, 11, 28)
        ));
        // Day 31 in a 30-day month means the 30th; February of a leap year the 29th.
        assert!(report_missing(
            m(31),
            s,
            started,
            Some(d(2026, 9, 15)),
            d(2026, 11, 30)
        ));
        assert!(!report_missing(
            m(31),
            s,
            started,
            Some(d(2028, 1, 31)),
            d(2028, 2, 28)
        ));
        // The February 2028 report is due by the 29th: missing from 03-01.
        assert!(!report_missing(
            m(31),
            s,
            Some(d(2027, 12, 1)),
            Some(d(2028, 1, 20)),
            d(2028, 2, 29)
        ));
        assert!(report_missing(
            m(31),
            s,
            Some(d(2027, 12, 1)),
            Some(d(2028, 1, 20)),
            d(2028, 3, 1)
        ));
        // Done tasks owe nothing.
        assert!(!report_missing(
            m(25),
            TaskStatus::Completed,
            started,
            None,
            d(2026, 11, 26)
        ));
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Monthly reports due by `day`.
    fn m(day: impl TryInto<i32>) -> Option<ReportCycle> {
        ReportCycle::new(ReportCadence::Monthly, day.try_into().ok()?)
    }

    fn monthly_next(day: i32, today: NaiveDate) -> Option<NaiveDate> {
        m(day)?.next_report_date(today)
    }

    #[test]
    fn the_next_report_date_is_on_or_after_today() {
        assert_eq!(monthly_next(25, d(2026, 11, 25)), Some(d(2026, 11, 25)));
        assert_eq!(monthly_next(25, d(2026, 11, 26)), Some(d(2026, 12, 25)));
        assert_eq!(monthly_next(25, d(2026, 12, 26)), Some(d(2027, 1, 25)));
        // Day 31 falls on a short month's last day.
        assert_eq!(monthly_next(31, d(2026, 11, 2)), Some(d(2026, 11, 30)));
        assert_eq!(monthly_next(31, d(2028, 2, 1)), Some(d(2028, 2, 29)));
        assert_eq!(monthly_next(0, d(2028, 2, 1)), None);
    }

    #[test]
    fn a_quarterly_report_is_owed_in_the_quarters_last_month_only() {
        let s = TaskStatus::InProgress;
        let q = ReportCycle::new(ReportCadence::Quarterly, 31);
        let started = Some(d(2026, 8, 1));
        let reported = Some(d(2026, 9, 20));
        // The Q3 report came in: in November nothing is owed yet.
        assert!(!report_owed(q, s, started, reported, d(2026, 11, 10)));
        assert!(!report_owed(q, s, started, reported, d(2026, 11, 30)));
        // December, the quarter's last month: owed, not missing.
        assert!(report_owed(q, s, started, reported, d(2026, 12, 1)));
        assert!(!report_missing(q, s, started, reported, d(2026, 12, 31)));
        // From January the Q4 report is missing, and stays owed.
        assert_eq!(
            missing_report(q, s, started, reported, d(2027, 1, 1)),
            Some(d(2026, 12, 31))
        );
        assert!(report_owed(q, s, started, reported, d(2027, 2, 10)));
        // Reported in December: settled until next March.
        let december = Some(d(2026, 12, 5));
        assert!(!report_owed(q, s, started, december, d(2027, 2, 10)));
        assert!(report_owed(q, s, started, december, d(2027, 3, 1)));
        // Half-yearly, reported in the first half: owed in December only.
        let h = ReportCycle::new(ReportCadence::HalfYearly, 31);
        let june = Some(d(2026, 6, 20));
        assert!(!report_owed(h, s, started, june, d(2026, 10, 15)));
        assert!(report_owed(h, s, started, june, d(2026, 12, 15)));
        // A report any time in the half-year settles it.
        assert!(!report_owed(h, s, started, reported, d(2026, 12, 15)));
    }

    #[test]
    fn a_report_is_owed_until_the_lead_unit_reports_in_the_cycle() {
        let s = TaskStatus::InProgress;
        let started = Some(d(2026, 9, 1));
        // Due by the 25th, today 11-10: the report for 11-25 must come after 10-25.
        let today = d(2026, 11, 10);
        assert!(report_owed(m(25), s, started, None, today));
        assert!(report_owed(m(25), s, started, Some(d(2026, 10, 25)), today));
        assert!(!report_owed(
            m(25),
            s,
            started,
            Some(d(2026, 10, 26)),
            today
        ));
        // Owed but not missing: the 11-25 report is not late yet.
        assert!(!report_missing(
            m(25),
            s,
            started,
            Some(d(2026, 10, 20)),
            today
        ));
        // On the report date itself the cycle's report is still owed, not missing.
        let due_day = d(2026, 11, 25);
        assert!(report_owed(
            m(25),
            s,
            started,
            Some(d(2026, 10, 20)),
            due_day
        ));
        assert!(!report_missing(
            m(25),
            s,
            started,
            Some(d(2026, 10, 20)),
            due_day
        ));
        // Started after the last report date: the first report is owed by the next.
        assert!(report_owed(m(25), s, Some(d(2026, 11, 1)), None, today));
        // Started on the next report date: nothing owed yet.
        assert!(!report_owed(m(25), s, Some(d(2026, 11, 25)), None, due_day));
        // Missing is owed: no report since 10-25 on 11-26.
        assert!(report_owed(
            m(25),
            s,
            started,
            Some(d(2026, 10, 20)),
            d(2026, 11, 26)
        ));
        // Done, submitted, unscheduled or unstarted tasks owe nothing.
        for status in [
            TaskStatus::Submitted,
            TaskStatus::Completed,
            TaskStatus::Draft,
        ] {
            assert!(!report_owed(m(25), status, started, None, today));
        }
        assert!(!report_owed(None, s, started, None, today));
        assert!(!report_owed(m(25), s, None, None, today));
    }

    #[test]
    fn signing_for_is_late_after_the_allowed_days() {
        let assigned = Some(d(2026, 6, 1));
        let a = TaskStatus::Assigned;
        assert!(!acceptance_overdue(a, assigned, d(2026, 6, 4), 3));
        assert!(acceptance_overdue(a, assigned, d(2026, 6, 5), 3));
        assert!(!acceptance_overdue(
            TaskStatus::InProgress,
            assigned,
            d(2026, 6, 5),
            3
        ));
        assert!(!acceptance_overdue(a, None, d(2026, 6, 5), 3));
    }

    #[test]
    fn the_missing_report_is_the_latest_report_date() {
        let s = TaskStatus::InProgress;
        let started = Some(d(2026, 9, 1));
        assert_eq!(
            missing_report(m(25), s, started, None, d(2026, 11, 26)),
            Some(d(2026, 11, 25))
        );
        assert_eq!(
            missing_report(m(25), s, started, Some(d(2026, 10, 26)), d(2026, 11, 26)),
            None
        );
    }

    fn open(due: NaiveDate) -> TaskTiming {
        TaskTiming {
            status: TaskStatus::InProgress,
            due: Some(due),
            submitted_on: None,
            returned: false,
        }
    }

    #[test]
    fn overdue_starts_the_day_after_the_due_date() {
        let t = open(d(2026, 6, 30));
        assert_eq!(days_overdue(&t, d(2026, 6, 30)), 0);
        assert_eq!(light(&t, d(2026, 6, 30), 3), Some(TrafficLight::Yellow));
        assert_eq!(days_overdue(&t, d(2026, 7, 1)), 1);
        assert_eq!(light(&t, d(2026, 7, 1), 3), Some(TrafficLight::Red));
    }

    #[test]
    fn yellow_within_the_warning_period_or_when_returned() {
        let t = open(d(2026, 3, 1));
        // 2028 is a leap year elsewhere; 2026-02 has 28 days: 02-26 is 3 days before 03-01.
        assert_eq!(light(&t, d(2026, 2, 26), 3), Some(TrafficLight::Green));
        assert_eq!(light(&t, d(2026, 2, 27), 3), Some(TrafficLight::Yellow));
        let returned = TaskTiming {
            returned: true,
            ..open(d(2026, 12, 31))
        };
        assert_eq!(
            light(&returned, d(2026, 1, 1), 3),
            Some(TrafficLight::Yellow)
        );
    }

    #[test]
    fn leap_day_counts() {
        let t = open(d(2028, 2, 28));
        assert_eq!(days_overdue(&t, d(2028, 3, 1)), 2);
    }

    #[test]
    fn a_submission_before_the_deadline_is_on_time_even_if_verified_later() {
        let t = TaskTiming {
            status: TaskStatus::Completed,
            due: Some(d(2026, 6, 30)),
            submitted_on: Some(d(2026, 6, 30)),
            returned: false,
        };
        assert_eq!(days_overdue(&t, d(2026, 8, 1)), 0);
        assert_eq!(light(&t, d(2026, 8, 1), 3), Some(TrafficLight::Green));
        let late = TaskTiming {
            status: TaskStatus::Submitted,
            submitted_on: Some(d(2026, 7, 3)),
            ..t
        };
        assert_eq!(days_overdue(&late, d(2026, 8, 1)), 3);
        assert_eq!(light(&late, d(2026, 8, 1), 3), Some(TrafficLight::Red));
    }

    #[test]
    fn drafts_cancelled_and_undated_tasks() {
        let draft = TaskTiming {
            status: TaskStatus::Draft,
            ..open(d(2020, 1, 1))
        };
        assert_eq!(light(&draft, d(2026, 1, 1), 3), None);
        let cancelled = TaskTiming {
            status: TaskStatus::Cancelled,
            ..open(d(2020, 1, 1))
        };
        assert_eq!(days_overdue(&cancelled, d(2026, 1, 1)), 0);
        let ongoing = TaskTiming {
            due: None,
            ..open(d(2020, 1, 1))
        };
        assert_eq!(light(&ongoing, d(2026, 1, 1), 3), Some(TrafficLight::Green));
    }

    proptest! {
        #[test]
        fn a_missing_report_is_owed(
            day in 1i32..=31,
            cadence in prop::sample::select(ReportCadence::ALL.to_vec()),
            status in prop::sample::select(TaskStatus::ALL.to_vec()),
            started in prop::option::of(0i64..900),
            reported in prop::option::of(0i64..900),
            today in 0i64..900,
        ) {
            let base = d(2026, 1, 1);
            let at = |n: i64| base + chrono::Duration::days(n);
            let (started, reported, today) = (started.map(at), reported.map(at), at(today));
            let cycle = ReportCycle::new(cadence, day);
            if report_missing(cycle, status, started, reported, today) {
                prop_assert!(report_owed(cycle, status, started, reported, today));
            }
            // A report made today settles what is owed.
            prop_assert!(!report_owed(cycle, status, started, Some(today), today));
        }

        #[test]
        fn red_exactly_when_an_open_task_is_past_due(due in 0i64..2000, today in 0i64..2000) {
            let base = d(2025, 1, 1);
            let t = open(base + chrono::Duration::days(due));
            let today = base + chrono::Duration::days(today);
            let red = light(&t, today, 3) == Some(TrafficLight::Red);
            prop_assert_eq!(red, today > t.due.unwrap());
            prop_assert_eq!(days_overdue(&t, today) > 0, red);
        }

        #[test]
        fn days_overdue_never_decreases_for_an_open_task(due in 0i64..1000, a in 0i64..1000, b in 0i64..1000) {
            let base = d(2025, 1, 1);
            let t = open(base + chrono::Duration::days(due));
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(days_overdue(&t, base + chrono::Duration::days(early)) <= days_overdue(&t, base + chrono::Duration::days(late)));
        }
    }
}
