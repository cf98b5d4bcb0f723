//! Reporting periods: a month (`2026-11`), a quarter (`2026-Q4`), a year
//! (`2026`) or an explicit range (`2026-01-01..2026-03-31`), as inclusive
//! local date ranges.

use chrono::{Datelike, NaiveDate};

use super::values::parse_date;
use super::Message;

enum Shape {
    Month,
    Quarter(u32),
    Year,
    Range,
}

/// 2026年3月31日
pub fn zh_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// 2026年第3期: a bulletin's issue, numbered within its year.
pub fn number_label(year: i32, number: i32) -> String {
    format!("{year}年第{number}期")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
}

fn bad() -> Message {
    Message::new(
        "期间格式应为 2026-11、2026-Q4、2026 或 2026-01-01..2026-03-31",
        "period must look like 2026-11, 2026-Q4, 2026 or 2026-01-01..2026-03-31",
    )
}

fn last_day(year: i32, month: u32) -> Option<NaiveDate> {
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(ny, nm, 1).and_then(|d| d.pred_opt())
}

fn year(s: &str) -> Result<i32, Message> {
    if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().map_err(|_| bad())
    } else {
        Err(bad())
    }
}

impl Period {
    pub fn parse(text: &str) -> Result<Period, Message> {
        let text = text.trim();
        if let Some((a, b)) = text.split_once("..") {
            let (start, end) = (parse_date(a)?, parse_date(b)?);
            if end < start {
                return Err(Message::new(
                    "期间结束日期早于开始日期",
                    "the period ends before it starts",
                ));
            }
            return Ok(Period { start, end });
        }
        if let Some((y, q)) = text.split_once("-Q").or_else(|| text.split_once("-q")) {
            let y = year(y)?;
            let q: u32 = match q {
                "1" | "2" | "3" | "4" => q.parse().map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            let start = NaiveDate::from_ymd_opt(y, 3 * q - 2, 1).ok_or_else(bad)?;
            let end = last_day(y, 3 * q).ok_or_else(bad)?;
            return Ok(Period { start, end });
        }
        if let Some((y, m)) = text.split_once('-') {
            let y = year(y)?;
            let m: u32 = if m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()) {
                m.parse().map_err(|_| bad())?
            } else {
                return Err(bad());
            };
            let start = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
            let end = last_day(y, m).ok_or_else(bad)?;
            return Ok(Period { start, end });
        }
        let y = year(text)?;
        Ok(Period {
            start: NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(bad)?,
            end: NaiveDate::from_ymd_opt(y, 12, 31).ok_or_else(bad)?,
        })
    }

    /// The month before the one `self` starts in, as a period (for "the
    /// previous month's bulletin").
    pub fn previous_month(day: NaiveDate) -> Period {
        let (y, m) = if day.month() == 1 {
            (day.year() - 1, 12)
        } else {
            (day.year(), day.month() - 1)
        };
        let start = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(day);
        Period {
            start,
            end: last_day(y, m).unwrap_or(day),
        }
    }

    /// The canonical short form: `2026-11`, `2026-Q4`, `2026` or `start..end`.
    pub fn label(&self) -> String {
        match self.shape() {
            Shape::Month => format!("{}-{:02}", self.start.year(), self.start.month()),
            Shape::Quarter(q) => format!("{}-Q{q}", self.start.year()),
            Shape::Year => self.start.year().to_string(),
            Shape::Range => format!("{}..{}", self.start, self.end),
        }
    }

    /// The Chinese name: 2026年11月, 2026年第四季度, 2026年度, or
    /// 2026年1月1日至2026年3月31日.
    pub fn label_zh(&self) -> String {
        let (y, m) = (self.start.year(), self.start.month());
        match self.shape() {
            Shape::Month => format!("{y}年{m}月"),
            Shape::Quarter(q) => {
                format!("{y}年第{}季度", ["一", "二", "三", "四"][(q - 1) as usize])
            }
            Shape::Year => format!("{y}年度"),
            Shape::Range => format!("{}至{}", zh_date(self.start), zh_date(self.end)),
        }
    }

    fn shape(&self) -> Shape {
        let (y, m) = (self.start.year(), self.start.month());
        let starts_month = self.start.day() == 1;
        if starts_month && last_day(y, m) == Some(self.end) {
            Shape::Month
        } else if starts_month
            && m == 1
            && self.end == NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(self.end)
            && self.end.year() == y
        {
            Shape::Year
        } else if starts_month && m % 3 == 1 && last_day(y, m + 2) == Some(self.end) {
            Shape::Quarter(m.div_ceil(3))
        } else {
            Shape::Range
        }
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn labels_round_trip() {
        for (text, zh) in [
            ("2026-11", "2026年11月"),
            ("2026-02", "2026年2月"),
            ("2026-Q4", "2026年第四季度"),
            ("2026-Q1", "2026年第一季度"),
            ("2026", "2026年度"),
            ("2026-01-05..2026-03-31", "2026年1月5日至2026年3月31日"),
        ] {
            let p = Period::parse(text).unwrap();
            assert_eq!(p.label(), text);
            assert_eq!(p.label_zh(), zh);
            assert_eq!(Period::parse(&p.label()).unwrap(), p);
        }
        // a range that is exactly a month is named as the month
        assert_eq!(
            Period::parse("2026-11-01..2026-11-30").unwrap().label(),
            "2026-11"
        );
    }

    #[test]
    fn months_quarters_years_and_ranges() {
        assert_eq!(
            Period::parse("2026-11").unwrap(),
            Period {
                start: d(2026, 11, 1),
                end: d(2026, 11, 30)
            }
        );
        assert_eq!(Period::parse("2028-02").unwrap().end, d(2028, 2, 29));
        assert_eq!(
            Period::parse("2026-Q4").unwrap(),
            Period {
                start: d(2026, 10, 1),
                end: d(2026, 12, 31)
            }
        );
        assert_eq!(Period::parse("2026-Q1").unwrap().end, d(2026, 3, 31));
        assert_eq!(
            Period::parse("2026").unwrap(),
            Period {
                start: d(2026, 1, 1),
                end: d(2026, 12, 31)
            }
        );
        assert_eq!(
            Period::parse("2026-01-15..2026-02-15").unwrap(),
            Period {
                start: d(2026, 1, 15),
                end: d(2026, 2, 15)
            }
        );
        for bad in [
            "",
            "2026-13",
            "2026-Q5",
            "26",
            "2026-1",
            "2026-02-01..2026-01-01",
            "november",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Period::previous_month(d(2026, 1, 1)),
            Period::parse("2025-12").unwrap()
        );
    }

    proptest! {
        #[test]
        fn every_month_is_whole_and_contains_its_days(y in 2000i32..2100, m in 1u32..=12, day in 1u32..=31) {
            let p = Period::parse(&format!("{y}-{m:02}")).unwrap();
            prop_assert_eq!(p.start.day(), 1);
            prop_assert_eq!(p.end.succ_opt().unwrap().day(), 1);
            if let Some(date) = NaiveDate::from_ymd_opt(y, m, day) {
                prop_assert!(p.contains(date));
            }
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,30}") {
            let _ = Period::parse(&s);
        }
    }
}
