//! Working days and local dates. Deadlines are local calendar dates in the
//! configured time zone; "N working days" skips weekends and public holidays
//! but counts the make-up working days (调休) that fall on weekends.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

/// The admin's holiday calendar: public holidays, and weekend days that are
/// working days (调休).
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
}

/// What a calendar entry says about its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayKind {
    Holiday,
    Workday,
}

impl DayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Holiday => "holiday",
            DayKind::Workday => "workday",
        }
    }

    pub fn parse(s: &str) -> Option<DayKind> {
        match s.trim() {
            "holiday" | "休" | "假" | "节假日" => Some(DayKind::Holiday),
            "workday" | "班" | "调休上班" | "工作日" => Some(DayKind::Workday),
            _ => None,
        }
    }
}

impl WorkCalendar {
    pub fn new(entries: impl IntoIterator<Item = (NaiveDate, DayKind)>) -> Self {
        let mut cal = WorkCalendar::default();
        for (date, kind) in entries {
            match kind {
                DayKind::Holiday => cal.holidays.insert(date),
                DayKind::Workday => cal.workdays.insert(date),
            };
        }
        cal
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The date `n` working days after `start` (start itself not counted):
    /// assigned on a Monday with 1 working day means due on Tuesday.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut date = start;
        let mut left = n;
        while left > 0 {
            date += Duration::days(1);
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }
}

/// The local calendar date of `now` in `tz`.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekends_are_skipped_without_a_calendar() {
        let cal = WorkCalendar::default();
        // 2026-11-27 is a Friday.
        assert_eq!(cal.add_working_days(d(2026, 11, 27), 1), d(2026, 11, 30));
        assert_eq!(cal.add_working_days(d(2026, 11, 27), 0), d(2026, 11, 27));
        assert_eq!(cal.add_working_days(d(2026, 11, 23), 5), d(2026, 11, 30));
    }

    #[test]
    fn holidays_are_skipped_and_make_up_days_count() {
        // National Day 2026: 10-01..10-07 off, Sunday 10-11 worked.
        let mut entries: Vec<_> = (1..=7)
            .map(|day| (d(2026, 10, day), DayKind::Holiday))
            .collect();
        entries.push((d(2026, 10, 11), DayKind::Workday));
        let cal = WorkCalendar::new(entries);
        assert!(!cal.is_working_day(d(2026, 10, 5)));
        assert!(cal.is_working_day(d(2026, 10, 11)));
        // Wednesday 09-30 + 1 working day: Thursday 10-08.
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 1), d(2026, 10, 8));
        // 10-09 (Fri) + 1: Sunday 10-11 is a make-up working day.
        assert_eq!(cal.add_working_days(d(2026, 10, 9), 1), d(2026, 10, 11));
    }

    #[test]
    fn local_midnight_decides_the_date() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // 15:59:59 UTC is 23:59:59 in Shanghai; one second later it is the next day.
        let before = DateTime::parse_from_rfc3339("2026-06-30T15:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let after = before + Duration::seconds(1);
        assert_eq!(local_date(before, tz), d(2026, 6, 30));
        assert_eq!(local_date(after, tz), d(2026, 7, 1));
    }

    proptest! {
        #[test]
        fn n_working_days_later_is_a_working_day_and_exactly_n_are_counted(
            start in 0i64..3650, n in 1u32..60, holidays in proptest::collection::vec(0i64..3800, 0..40)
        ) {
            let base = d(2024, 1, 1);
            let cal = WorkCalendar::new(holidays.iter().map(|h| (base + Duration::days(*h), DayKind::Holiday)));
            let start = base + Duration::days(start);
            let due = cal.add_working_days(start, n);
            prop_assert!(cal.is_working_day(due));
            let counted = (1..=(due - start).num_days())
                .filter(|i| cal.is_working_day(start + Duration::days(*i)))
                .count();
            prop_assert_eq!(counted, n as usize);
        }
    }
}
