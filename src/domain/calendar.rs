//! Working days and local dates. Deadlines are local calendar dates in the
//! configured time zone; "N working days" skips weekends and public holidays
//! but counts the make-up working days (调休) that fall on weekends.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

/// The admin's holiday calendar: public holidays, and weekend days that are
/// working days (调休).
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: HashSet<NaiveDate>,
    workdays: HashSet<NaiveDate>,
}

/// What a calendar entry says about its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
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

/// The last working day before `year`'s `holiday` (a stem such as 春节),
/// found in the calendar's named entries `(day, kind, name)`: the holiday
/// starts on the earliest holiday day of that year whose name contains the
/// stem (劳动节 also answers to 五一), extended back over the days right
/// before it of the same holiday (元旦 may start on 30 December). `None`
/// when the calendar has no such holiday in that year.
pub fn last_working_day_before_holiday(
    entries: &[(NaiveDate, DayKind, String)],
    calendar: &WorkCalendar,
    year: i32,
    holiday: &str,
) -> Option<NaiveDate> {
    let named =
        |name: &str| name.contains(holiday) || (holiday == "劳动节" && name.contains("五一"));
    let days: HashSet<NaiveDate> = entries
        .iter()
        .filter(|(_, kind, name)| *kind == DayKind::Holiday && named(name))
        .map(|(day, _, _)| *day)
        .collect();
    let mut first = *days.iter().filter(|d| d.year() == year).min()?;
    while let Some(before) = first.pred_opt().filter(|d| days.contains(d)) {
        first = before;
    }
    let mut day = first.pred_opt()?;
    while !calendar.is_working_day(day) {
        day = day.pred_opt()?;
    }
    Some(day)
}

/// When notices may go out: between `start` and `end` local time, on working
/// days only unless `non_working_days` is set. None means at any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub non_working_days: bool,
}

impl SendWindow {
    /// Parses `HH:MM-HH:MM` (start before end); an empty text means no window.
    pub fn parse(text: &str, non_working_days: bool) -> Result<Option<SendWindow>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let (a, b) = text
            .split_once('-')
            .ok_or_else(|| format!("{text:?} is not HH:MM-HH:MM"))?;
        let parse = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format!("{t:?} is not HH:MM"))
        };
        let (start, end) = (parse(a)?, parse(b)?);
        if start >= end {
            return Err(format!("{text:?}: the window must start before it ends"));
        }
        Ok(Some(SendWindow {
            start,
            end,
            non_working_days,
        }))
    }

    /// The first local instant at or after `at` inside the window: notices
    /// written at night or on a holiday wait for the next working morning.
    pub fn next_open(&self, at: NaiveDateTime, calendar: &WorkCalendar) -> NaiveDateTime {
        let day_ok = |d: NaiveDate| self.non_working_days || calendar.is_working_day(d);
        let date = at.date();
        if day_ok(date) && at.time() >= self.start && at.time() < self.end {
            return at;
        }
        if day_ok(date) && at.time() < self.start {
            return date.and_time(self.start);
        }
        let mut d = date + Duration::days(1);
        for _ in 0..366 {
            if day_ok(d) {
                return d.and_time(self.start);
            }
            d += Duration::days(1);
        }
        at
    }
}

/// The local calendar date of `now` in `tz`.
pub fn local_date(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// Stored by the English names; `parse` also reads the Chinese ones people write.
impl super::closed::ClosedSet for DayKind {
    const ALL: &'static [DayKind] = &[DayKind::Holiday, DayKind::Workday];
    fn as_str(self) -> &'static str {
        DayKind::as_str(self)
    }
    fn from_name(name: &str) -> Option<DayKind> {
        <DayKind as super::closed::ClosedSet>::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn spring_festival_2027() -> Vec<(NaiveDate, DayKind, String)> {
        // 春节 2027 (6 February): holidays 5–11 February, make-up working
        // day Saturday 20 February; 元旦 from 30 December 2026.
        let mut entries: Vec<(NaiveDate, DayKind, String)> = (5..=11)
            .map(|day| (d(2027, 2, day), DayKind::Holiday, "春节".to_string()))
            .collect();
        entries.push((d(2027, 2, 20), DayKind::Workday, "春节调休上班".into()));
        for day in [d(2026, 12, 30), d(2026, 12, 31), d(2027, 1, 1)] {
            entries.push((day, DayKind::Holiday, "元旦".into()));
        }
        entries
    }

    #[test]
    fn holidays_anchor_the_last_working_day_before_them() {
        let entries = spring_festival_2027();
        let cal = WorkCalendar::new(entries.iter().map(|(d, k, _)| (*d, *k)));
        // 5 February 2027 is a Friday: the Thursday before.
        assert_eq!(
            last_working_day_before_holiday(&entries, &cal, 2027, "春节"),
            Some(d(2027, 2, 4))
        );
        // 元旦 2027 starts on Wednesday 30 December 2026.
        assert_eq!(
            last_working_day_before_holiday(&entries, &cal, 2027, "元旦"),
            Some(d(2026, 12, 29))
        );
        assert_eq!(
            last_working_day_before_holiday(&entries, &cal, 2028, "春节"),
            None
        );
        assert_eq!(
            last_working_day_before_holiday(&entries, &cal, 2027, "国庆"),
            None
        );
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

    #[test]
    fn notices_written_at_night_or_on_holidays_wait_for_the_next_working_morning() {
        let w = SendWindow::parse("08:00-20:00", false).unwrap().unwrap();
        let cal = WorkCalendar::new([
            (d(2026, 10, 1), DayKind::Holiday),
            (d(2026, 10, 11), DayKind::Workday),
        ]);
        let at = |y, m, day, h, min| d(y, m, day).and_hms_opt(h, min, 0).unwrap();
        // Inside the window: at once.
        assert_eq!(
            w.next_open(at(2026, 9, 30, 9, 15), &cal),
            at(2026, 9, 30, 9, 15)
        );
        // Early morning: the same day at 08:00.
        assert_eq!(
            w.next_open(at(2026, 9, 29, 6, 0), &cal),
            at(2026, 9, 29, 8, 0)
        );
        // Evening before a holiday: the next working day (10-02 is a Friday).
        assert_eq!(
            w.next_open(at(2026, 9, 30, 21, 0), &cal),
            at(2026, 10, 2, 8, 0)
        );
        // Saturday: Monday; but a make-up working Sunday counts.
        assert_eq!(
            w.next_open(at(2026, 11, 28, 10, 0), &cal),
            at(2026, 11, 30, 8, 0)
        );
        assert_eq!(
            w.next_open(at(2026, 10, 10, 10, 0), &cal),
            at(2026, 10, 11, 8, 0)
        );
        let any_day = SendWindow::parse("08:00-20:00", true).unwrap().unwrap();
        assert_eq!(
            any_day.next_open(at(2026, 11, 28, 10, 0), &cal),
            at(2026, 11, 28, 10, 0)
        );
        assert_eq!(SendWindow::parse("", false), Ok(None));
        assert!(SendWindow::parse("20:00-08:00", false).is_err());
        assert!(SendWindow::parse("8-20", false).is_err());
    }

    proptest! {
        #[test]
        fn the_day_before_a_holiday_is_a_working_day_before_it(
            start in 0i64..3000, len in 1i64..10
        ) {
            let first = d(2020, 1, 1) + Duration::days(start);
            let entries: Vec<(NaiveDate, DayKind, String)> = (0..len)
                .map(|i| (first + Duration::days(i), DayKind::Holiday, "国庆节、中秋节".to_string()))
                .collect();
            let cal = WorkCalendar::new(entries.iter().map(|(d, k, _)| (*d, *k)));
            let day = last_working_day_before_holiday(&entries, &cal, first.year(), "国庆").unwrap();
            prop_assert!(day < first);
            prop_assert!(cal.is_working_day(day));
            prop_assert!(first - day <= Duration::days(3), "at most a weekend between");
        }

        #[test]
        fn the_next_open_instant_is_never_earlier_and_always_inside(
            minutes in 0i64..(60 * 24 * 60), start in 0u32..12, len in 1u32..12
        ) {
            let w = SendWindow {
                start: NaiveTime::from_hms_opt(start, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(start + len, 0, 0).unwrap(),
                non_working_days: false,
            };
            let cal = WorkCalendar::default();
            let at = d(2026, 1, 1).and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minutes);
            let next = w.next_open(at, &cal);
            prop_assert!(next >= at);
            prop_assert!(cal.is_working_day(next.date()));
            prop_assert!(next.time() >= w.start && next.time() < w.end);
        }

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
