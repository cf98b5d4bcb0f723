//! Progress-reporting cycles of a task: monthly (每月25日前), quarterly
//! (每季度末, 每季度最后一个月25日前) or half-yearly (每半年末). A cycle is a
//! run of whole months ending in a month divisible by its length (March,
//! June, September, December for quarters; June and December for halves),
//! and its report is due by the cycle's day of that last month.

use chrono::{Datelike, NaiveDate};

use super::period::Period;

crate::closed_set! {
    /// How often a task's progress report is due (报送周期): monthly
    /// (default), quarterly (due in March, June, September and December) or
    /// half_yearly (due in June and December), each by the task's report_day
    /// of the cycle's last month (31 meaning the month's last day).
    pub enum ReportCadence ("报送周期", "report_cadence") {
        Monthly = "monthly",
        Quarterly = "quarterly",
        HalfYearly = "half_yearly",
    }
}

impl ReportCadence {
    /// How many months one cycle spans.
    pub fn months(self) -> u32 {
        match self {
            ReportCadence::Monthly => 1,
            ReportCadence::Quarterly => 3,
            ReportCadence::HalfYearly => 6,
        }
    }

    /// 每月, 每季度, 每半年: the phrase a deadline cell starts with.
    pub fn zh(self) -> &'static str {
        match self {
            ReportCadence::Monthly => "每月",
            ReportCadence::Quarterly => "每季度",
            ReportCadence::HalfYearly => "每半年",
        }
    }
}

/// A reporting cycle: the cadence and the day of the cycle's last month the
/// report is due by (1–31; a day past the month's end means its last day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportCycle {
    pub cadence: ReportCadence,
    pub day: u32,
}

impl ReportCycle {
    /// A cycle from stored values; `None` for a day outside 1–31.
    pub fn new(cadence: ReportCadence, day: i32) -> Option<ReportCycle> {
        let day = u32::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
        Some(ReportCycle { cadence, day })
    }

    /// The reporting period `date` falls in: the whole months of its cycle.
    pub fn period_of(self, date: NaiveDate) -> Period {
        let (year, last) = (date.year(), self.last_month(date.month()));
        let first = last + 1 - self.cadence.months();
        Period {
            start: NaiveDate::from_ymd_opt(year, first, 1).unwrap_or(date),
            end: clamped(year, last, 31).unwrap_or(date),
        }
    }

    /// When the report of the cycle `date` falls in is due.
    pub fn due_in_cycle_of(self, date: NaiveDate) -> Option<NaiveDate> {
        clamped(date.year(), self.last_month(date.month()), self.day)
    }

    /// The latest report date strictly before `today` (a report due today is
    /// not late yet), and the report date before that one.
    pub fn report_dates(self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let mut due = self.due_in_cycle_of(today)?;
        if due >= today {
            due = self.due_in_cycle_of(self.cycle_before(due))?;
        }
        Some((due, self.due_in_cycle_of(self.cycle_before(due))?))
    }

    /// The first report date on or after `today`: the one the current
    /// cycle's report is due by.
    pub fn next_report_date(self, today: NaiveDate) -> Option<NaiveDate> {
        let due = self.due_in_cycle_of(today)?;
        if due >= today {
            return Some(due);
        }
        let next_start = self.period_of(today).end.succ_opt()?;
        self.due_in_cycle_of(next_start)
    }

    /// The report date the report due by `next` starts being owed after:
    /// the cycle's day of the month before (so a report is owed for at most
    /// a month before it is due; for monthly reports that is the report date
    /// before `next`, and the whole cycle).
    pub fn owed_after(self, next: NaiveDate) -> Option<NaiveDate> {
        let month_before = next.with_day(1)?.pred_opt()?;
        clamped(month_before.year(), month_before.month(), self.day)
    }

    /// 每月25日前, 每季度末, 每季度最后一个月25日前, 每半年末: the deadline
    /// as the import reads it back.
    pub fn written(self) -> String {
        match (self.cadence, self.day) {
            (ReportCadence::Monthly, 31) => "每月底前".into(),
            (ReportCadence::Monthly, d) => format!("每月{d}日前"),
            (c, 31) => format!("{}末", c.zh()),
            (c, d) => format!("{}最后一个月{d}日前", c.zh()),
        }
    }

    /// The last month of the cycle holding `month` (1–12).
    fn last_month(self, month: u32) -> u32 {
        let k = self.cadence.months();
        month.div_ceil(k) * k
    }

    /// A day in the cycle before the one holding `date`.
    fn cycle_before(self, date: NaiveDate) -> NaiveDate {
        let start = self.period_of(date).start;
        start.pred_opt().unwrap_or(start)
    }
}

/// `day` of `year-month`, or the month's last day when the month is shorter.
fn clamped(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    (1..=day.min(31))
        .rev()
        .find_map(|d| NaiveDate::from_ymd_opt(year, month, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn cycle(cadence: ReportCadence, day: u32) -> ReportCycle {
        ReportCycle { cadence, day }
    }

    #[test]
    fn quarters_end_in_march_june_september_december() {
        let q = cycle(ReportCadence::Quarterly, 31);
        assert_eq!(
            q.period_of(d(2026, 11, 5)),
            Period {
                start: d(2026, 10, 1),
                end: d(2026, 12, 31)
            }
        );
        assert_eq!(q.due_in_cycle_of(d(2026, 4, 1)), Some(d(2026, 6, 30)));
        // In November the last quarter's report (09-30) is the latest due.
        assert_eq!(
            q.report_dates(d(2026, 11, 5)),
            Some((d(2026, 9, 30), d(2026, 6, 30)))
        );
        assert_eq!(q.next_report_date(d(2026, 11, 5)), Some(d(2026, 12, 31)));
        // Due today is not late yet; the day after it is.
        assert_eq!(
            q.report_dates(d(2026, 12, 31)),
            Some((d(2026, 9, 30), d(2026, 6, 30)))
        );
        assert_eq!(q.next_report_date(d(2027, 1, 1)), Some(d(2027, 3, 31)));
        let q25 = cycle(ReportCadence::Quarterly, 25);
        assert_eq!(q25.next_report_date(d(2026, 12, 26)), Some(d(2027, 3, 25)));
        assert_eq!(
            q25.report_dates(d(2026, 12, 26)),
            Some((d(2026, 12, 25), d(2026, 9, 25)))
        );
    }

    #[test]
    fn halves_end_in_june_and_december() {
        let h = cycle(ReportCadence::HalfYearly, 31);
        assert_eq!(h.period_of(d(2026, 3, 1)).start, d(2026, 1, 1));
        assert_eq!(h.next_report_date(d(2026, 7, 1)), Some(d(2026, 12, 31)));
        assert_eq!(
            h.report_dates(d(2026, 7, 1)),
            Some((d(2026, 6, 30), d(2025, 12, 31)))
        );
    }

    #[test]
    fn the_written_form_is_what_the_import_reads() {
        assert_eq!(cycle(ReportCadence::Monthly, 25).written(), "每月25日前");
        assert_eq!(cycle(ReportCadence::Quarterly, 31).written(), "每季度末");
        assert_eq!(
            cycle(ReportCadence::Quarterly, 25).written(),
            "每季度最后一个月25日前"
        );
        assert_eq!(cycle(ReportCadence::HalfYearly, 31).written(), "每半年末");
        assert_eq!(ReportCycle::new(ReportCadence::Monthly, 0), None);
        assert_eq!(ReportCycle::new(ReportCadence::Monthly, 32), None);
    }

    fn any_cadence() -> impl Strategy<Value = ReportCadence> {
        prop::sample::select(ReportCadence::ALL.to_vec())
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..3000).prop_map(|n| d(2025, 1, 1) + chrono::Duration::days(n))
    }

    /// The monthly rule as it was before cadences: the report date of a
    /// month is its `day`, clamped to the month's end.
    fn old_monthly(day: u32, today: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate) {
        let month = |y: i32, m: u32| clamped(y, m, day).unwrap();
        let back = |(y, m): (i32, u32)| if m == 1 { (y - 1, 12) } else { (y, m - 1) };
        let this = (today.year(), today.month());
        let (y, m) = if month(this.0, this.1) >= today {
            back(this)
        } else {
            this
        };
        let (py, pm) = back((y, m));
        let next = if month(this.0, this.1) >= today {
            month(this.0, this.1)
        } else if this.1 == 12 {
            month(this.0 + 1, 1)
        } else {
            month(this.0, this.1 + 1)
        };
        (month(y, m), month(py, pm), next)
    }

    proptest! {
        #[test]
        fn monthly_behaves_exactly_as_before(day in 1u32..=31, today in any_date()) {
            let c = cycle(ReportCadence::Monthly, day);
            let (due, previous, next) = old_monthly(day, today);
            prop_assert_eq!(c.report_dates(today), Some((due, previous)));
            prop_assert_eq!(c.next_report_date(today), Some(next));
            // Owed over the whole cycle, as before.
            prop_assert_eq!(c.owed_after(next), Some(due));
        }

        #[test]
        fn a_report_is_due_in_its_cycles_last_month(
            cadence in any_cadence(), day in 1u32..=31, today in any_date()
        ) {
            let c = cycle(cadence, day);
            let (due, previous) = c.report_dates(today).unwrap();
            let next = c.next_report_date(today).unwrap();
            for date in [due, previous, next] {
                prop_assert_eq!(date.month() % cadence.months(), 0);
                prop_assert_eq!(c.period_of(date).end.month(), date.month());
                prop_assert_eq!(date.day(), day.min(c.period_of(date).end.day()));
            }
            if cadence == ReportCadence::Quarterly {
                prop_assert!([3, 6, 9, 12].contains(&next.month()));
            }
            // Owed at most a month before it is due, never before the
            // previous report date.
            let opens = c.owed_after(next).unwrap();
            prop_assert!(due <= opens && opens < next);
            prop_assert!((next - opens).num_days() <= 31);
            // In order: the one before, the latest past one, then the next one
            // (today or later), each a cycle apart.
            prop_assert!(previous < due && due < today && today <= next);
            prop_assert_eq!(c.period_of(due).start.pred_opt(), Some(c.period_of(previous).end));
            prop_assert_eq!(c.period_of(due).end.succ_opt(), Some(c.period_of(next).start));
        }

        #[test]
        fn a_period_holds_its_date_and_spans_the_cadence(
            cadence in any_cadence(), today in any_date()
        ) {
            let p = cycle(cadence, 1).period_of(today);
            prop_assert!(p.start <= today && today <= p.end);
            prop_assert_eq!(p.start.day(), 1);
            prop_assert_eq!(p.end.month() + 1 - p.start.month(), cadence.months());
            prop_assert_eq!(p.end.succ_opt().map(|n| n.day()), Some(1));
        }
    }
}
