//! Deadlines as offices write them in task tables ("2026年6月底前", "三季度末",
//! "每月25日前", "每季度末", "长期坚持"), read into a date, a reporting cycle or
//! "ongoing".

use chrono::{Months, NaiveDate};

use super::report_cycle::{ReportCadence, ReportCycle};
use super::Message;

/// When a task is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Due on this day (inclusive: "6月30日前" means by the end of 30 June).
    Date(NaiveDate),
    /// Due every cycle (month, quarter, half-year) by a day, 1–31, of the
    /// cycle's last month. Day 31 ("每月底前", "每季度末") means the month's
    /// last day; whoever schedules the reports clamps to month end.
    Recurring(ReportCycle),
    /// No end date: "长期坚持", "持续推进".
    Ongoing,
    /// Due the last working day before a public holiday of a year
    /// ("2027年春节前"); the holiday calendar says when that is
    /// (`calendar::last_working_day_before_holiday`). `holiday` is the name's
    /// stem as calendars write it (春节, 国庆, 劳动节, …).
    BeforeHoliday { year: i32, holiday: &'static str },
}

/// Holidays a deadline may be anchored to: the written name, and the stem
/// the holiday calendar's names contain.
const HOLIDAYS: &[(&str, &str)] = &[
    ("元旦", "元旦"),
    ("春节", "春节"),
    ("清明节", "清明"),
    ("清明", "清明"),
    ("劳动节", "劳动节"),
    ("五一", "劳动节"),
    ("端午节", "端午"),
    ("端午", "端午"),
    ("中秋节", "中秋"),
    ("中秋", "中秋"),
    ("国庆节", "国庆"),
    ("国庆", "国庆"),
];

/// Texts that mean the work never finishes. Compared after normalisation,
/// so surrounding spaces and a trailing 前 do not matter.
const ONGOING: &[&str] = &["长期坚持", "长期", "持续推进", "长期推进", "持续开展"];

/// Longest text worth parsing; anything longer is not a deadline, and quoting
/// it whole in an error message would swamp the message.
const MAX_CHARS: usize = 40;

/// Reads a deadline cell. `plan_year` fills in the year when the text leaves
/// it out ("6月底前", "年底前", "三季度末"), as tables for one year's plan do.
///
/// Accepted forms, with surrounding whitespace, full-width digits and a
/// trailing 前/之前/以前 tolerated everywhere:
/// `2026-06-30`, `2026/6/30`, `2026.6.30`, `2026年6月30日` (or 号),
/// `[2026年]6月底` (or 末), `[2026]年底` (or 年末), `[2026年]上半年`/`下半年`,
/// `[2026年][第]三季度[末]` (digits or 一二三四), `每月25日`, `每月底`,
/// `每季度末`, `每季度最后一个月25日`, `每半年[末]`,
/// `[2027年]春节前` (also 元旦, 清明, 五一/劳动节, 端午, 中秋, 国庆), and the
/// ongoing phrases (长期坚持, 长期, 持续推进, …). Months and days may also be
/// written in Chinese numerals (六月底, 十二月三十一日).
pub fn parse_deadline(text: &str, plan_year: i32) -> Result<Deadline, Message> {
    let shown: String = text.trim().chars().take(MAX_CHARS).collect();
    if shown.is_empty() {
        return Err(Message::new("完成时限为空", "the deadline is empty"));
    }
    if text.trim().chars().count() > MAX_CHARS {
        return Err(unreadable(&shown));
    }
    let normal = normalise(text);
    let body = strip_before_suffix(&normal);
    if ONGOING.contains(&body) {
        return Ok(Deadline::Ongoing);
    }
    for cadence in ReportCadence::ALL {
        if let Some(rest) = body.strip_prefix(cadence.zh()) {
            return recurring(cadence, rest).ok_or_else(|| unreadable(&shown))?;
        }
    }
    if let Some(result) = numeric_date(body) {
        return result.map(Deadline::Date).map_err(|e| e.explain(&shown));
    }
    match chinese_date(body, plan_year) {
        Some(Ok(date)) => Ok(Deadline::Date(date)),
        Some(Err(e)) => Err(e.explain(&shown)),
        None => before_holiday(body, plan_year).ok_or_else(|| unreadable(&shown)),
    }
}

/// `[2027年]春节`: the holiday and its year (the 前 is already stripped).
fn before_holiday(s: &str, plan_year: i32) -> Option<Deadline> {
    let mut cursor = Cursor::new(s);
    let year = cursor.year().unwrap_or(plan_year);
    HOLIDAYS
        .iter()
        .find(|(written, _)| cursor.rest() == *written)
        .map(|(_, holiday)| Deadline::BeforeHoliday { year, holiday })
}

/// Converts an Excel serial day number (1900 date system, the default on
/// Windows and in WPS) to a date. The time of day, the fraction, is dropped.
///
/// Serial 1 is 1900-01-01. Excel counts a 29 February 1900 that never was
/// (serial 60, kept for Lotus 1-2-3 compatibility), so serials from 61 on are
/// one day ahead of a plain count; serial 60 itself gives `None`, as do
/// values below 1, above 9999-12-31 (2958465) and non-finite ones.
pub fn deadline_from_excel_serial(serial: f64) -> Option<NaiveDate> {
    const MAX_SERIAL: f64 = 2_958_465.0;
    if !serial.is_finite() || !(1.0..MAX_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    // In range, so the cast is exact and cannot overflow.
    let days = serial.floor() as u64;
    let epoch = match days {
        60 => return None,
        0..=59 => NaiveDate::from_ymd_opt(1899, 12, 31)?,
        _ => NaiveDate::from_ymd_opt(1899, 12, 30)?,
    };
    epoch.checked_add_days(chrono::Days::new(days))
}

/// Why a deadline that looked like a date is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateError {
    Month(u32),
    Day,
    Quarter(u32),
}

impl DateError {
    fn explain(self, shown: &str) -> Message {
        match self {
            DateError::Month(m) => Message::owned(
                format!("完成时限“{shown}”中的月份 {m} 不存在，月份应在 1 到 12 之间"),
                format!("the deadline \"{shown}\" has month {m}; months run from 1 to 12"),
            ),
            DateError::Day => Message::owned(
                format!("完成时限“{shown}”不是真实存在的日期"),
                format!("the deadline \"{shown}\" is not a real calendar date"),
            ),
            DateError::Quarter(q) => Message::owned(
                format!("完成时限“{shown}”中的季度 {q} 不存在，季度应在 1 到 4 之间"),
                format!("the deadline \"{shown}\" has quarter {q}; quarters run from 1 to 4"),
            ),
        }
    }
}

fn unreadable(shown: &str) -> Message {
    Message::owned(
        format!(
            "无法识别完成时限“{shown}”，请写成 2026-06-30、2026年6月底前、三季度末、每月25日前或长期坚持等形式"
        ),
        format!(
            "cannot read the deadline \"{shown}\"; write it like 2026-06-30, 2026年6月底前, 三季度末, 每月25日前 or 长期坚持"
        ),
    )
}

/// Full-width ASCII (０-９, ／, ．, －) to half-width, all whitespace removed
/// ("2026 年 6 月"), and a trailing clock time dropped ("2026/6/30 0:00", as
/// Excel writes dates into CSV).
fn normalise(text: &str) -> String {
    let text = text.trim();
    super::text::compact(strip_clock_time(text).unwrap_or(text))
}

/// `"2026/6/30 0:00[:00]"` → `Some("2026/6/30")`; `None` when there is no
/// clock time after a space.
fn strip_clock_time(text: &str) -> Option<&str> {
    let (date, time) = text.rsplit_once(char::is_whitespace)?;
    let mut parts = time.split(':');
    let shape_ok = parts.next().is_some_and(|h| is_digits(h, 1, 2))
        && parts.next().is_some_and(|m| is_digits(m, 2, 2))
        && parts.next().is_none_or(|s| is_digits(s, 2, 2))
        && parts.next().is_none();
    shape_ok.then(|| date.trim_end())
}

/// Drops one trailing 之前/以前/前: "by" is what a deadline means anyway.
fn strip_before_suffix(s: &str) -> &str {
    ["之前", "以前", "前"]
        .iter()
        .find_map(|suffix| s.strip_suffix(suffix))
        .unwrap_or(s)
}

fn is_digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// What follows 每月, 每季度 or 每半年: `25日`, `25号`, `25`, `底`, `末`
/// after 每月; for quarters and halves `末`/`底` (or nothing: 每半年), or
/// `最后一个月` and a day as after 每月.
fn recurring(cadence: ReportCadence, rest: &str) -> Option<Result<Deadline, Message>> {
    let day = if cadence == ReportCadence::Monthly {
        day_of_month(rest)?
    } else if ["", "末", "底"].contains(&rest) {
        Ok(31)
    } else {
        day_of_month(rest.strip_prefix("最后一个月")?)?
    };
    Some(day.map(|day| Deadline::Recurring(ReportCycle { cadence, day })))
}

/// `25日`, `25号`, `25`, `底`, `末`: a day of a month.
fn day_of_month(rest: &str) -> Option<Result<u32, Message>> {
    if rest == "底" || rest == "末" {
        return Some(Ok(31));
    }
    let mut cursor = Cursor::new(rest);
    let day = cursor.number()?;
    cursor.eat_any(&["日", "号"]);
    if !cursor.is_done() {
        return None;
    }
    if !(1..=31).contains(&day) {
        return Some(Err(Message::owned(
            format!("每月（或周期最后一个月）的截止日 {day} 不存在，应在 1 到 31 之间"),
            format!("the day of the month {day} does not exist; it must be 1 to 31"),
        )));
    }
    Some(Ok(day))
}

/// `2026-06-30`, `2026/6/30`, `2026.6.30` (one separator throughout).
/// `None` when the text does not have this shape at all.
fn numeric_date(s: &str) -> Option<Result<NaiveDate, DateError>> {
    let sep = s.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    let mut parts = s.split(sep);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let shape_ok =
        parts.next().is_none() && is_digits(y, 4, 4) && is_digits(m, 1, 2) && is_digits(d, 1, 2);
    if !shape_ok {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    Some(ymd(y, m, d))
}

fn ymd(year: i32, month: u32, day: u32) -> Result<NaiveDate, DateError> {
    if !(1..=12).contains(&month) {
        return Err(DateError::Month(month));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::Day)
}

fn month_end(year: i32, month: u32) -> Result<NaiveDate, DateError> {
    let first = ymd(year, month, 1)?;
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .ok_or(DateError::Day)
}

/// The Chinese forms, with an optional leading `2026年`. `None` when the text
/// is not one of them.
fn chinese_date(s: &str, plan_year: i32) -> Option<Result<NaiveDate, DateError>> {
    let mut cursor = Cursor::new(s);
    let written_year = cursor.year();
    let year = written_year.unwrap_or(plan_year);
    let named = match cursor.rest() {
        // "2026年底" leaves "底"; "年底" and "2026年年底" leave "年底".
        "底" | "末" if written_year.is_some() => Some(month_end(year, 12)),
        "年底" | "年末" => Some(month_end(year, 12)),
        "上半年" => Some(month_end(year, 6)),
        "下半年" => Some(month_end(year, 12)),
        _ => None,
    };
    named
        .or_else(|| quarter(cursor, year))
        .or_else(|| month_day(cursor, year))
}

/// `[第]3季度[末|底]`, `三季度末`.
fn quarter(mut cursor: Cursor<'_>, year: i32) -> Option<Result<NaiveDate, DateError>> {
    cursor.eat("第");
    let q = cursor.number()?;
    if !cursor.eat("季度") {
        return None;
    }
    cursor.eat_any(&["末", "底"]);
    if !cursor.is_done() {
        return None;
    }
    if !(1..=4).contains(&q) {
        return Some(Err(DateError::Quarter(q)));
    }
    Some(month_end(year, q * 3))
}

/// `6月30日`, `6月30号`, `6月底`, `6月末`.
fn month_day(mut cursor: Cursor<'_>, year: i32) -> Option<Result<NaiveDate, DateError>> {
    let month = cursor.number()?;
    if !cursor.eat("月") {
        return None;
    }
    if cursor.eat_any(&["底", "末"]) {
        return cursor.is_done().then(|| month_end(year, month));
    }
    let day = cursor.number()?;
    let unit = cursor.eat_any(&["日", "号"]);
    (unit && cursor.is_done()).then(|| ymd(year, month, day))
}

/// A position in the normalised text, consuming from the front.
#[derive(Debug, Clone, Copy)]
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { rest: s }
    }

    fn rest(&self) -> &'a str {
        self.rest
    }

    fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn eat_any(&mut self, prefixes: &[&str]) -> bool {
        prefixes.iter().any(|p| self.eat(p))
    }

    /// Four ASCII digits followed by 年. Leaves the cursor alone otherwise.
    fn year(&mut self) -> Option<i32> {
        let digits = self.rest.get(..4).filter(|d| is_digits(d, 4, 4))?;
        let after = self.rest.get(4..)?.strip_prefix('年')?;
        let year = digits.parse().ok()?;
        self.rest = after;
        Some(year)
    }

    /// One or two ASCII digits, or a Chinese numeral from 一 to 三十九.
    fn number(&mut self) -> Option<u32> {
        let ascii_len = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if ascii_len > 0 {
            let digits = self.rest.get(..ascii_len).filter(|d| d.len() <= 2)?;
            let n = digits.parse().ok()?;
            self.rest = self.rest.get(ascii_len..)?;
            return Some(n);
        }
        let (n, used) = chinese_numeral(self.rest)?;
        self.rest = self.rest.get(used..)?;
        Some(n)
    }
}

fn chinese_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九"
        .chars()
        .position(|d| d == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// Reads 一…九, 十, 十一…十九, 二十…三十九 at the start of `s`; returns
/// the value and the bytes used. Enough for months, days and quarters.
fn chinese_numeral(s: &str) -> Option<(u32, usize)> {
    let mut chars = s.char_indices().peekable();
    let mut value = 0;
    let mut used = 0;
    if let Some(&(_, c)) = chars.peek() {
        if let Some(d) = chinese_digit(c).filter(|&d| d > 0) {
            value = d;
            used = c.len_utf8();
            chars.next();
        }
    }
    if let Some(&(i, '十')) = chars.peek() {
        value = if used == 0 { 10 } else { value * 10 };
        used = i + '十'.len_utf8();
        chars.next();
        if let Some(&(i, c)) = chars.peek() {
            if let Some(d) = chinese_digit(c).filter(|&d| d > 0) {
                value += d;
                used = i + c.len_utf8();
            }
        }
    }
    (used > 0 && value < 40).then_some((value, used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> Deadline {
        Deadline::Date(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn parse(s: &str) -> Deadline {
        parse_deadline(s, 2026).unwrap_or_else(|e| panic!("{s}: {}", e.en))
    }

    #[test]
    fn holiday_anchored_deadlines() {
        let before = |year, holiday| Deadline::BeforeHoliday { year, holiday };
        assert_eq!(parse("2027年春节前"), before(2027, "春节"));
        assert_eq!(parse(" 2027 年春节之前 "), before(2027, "春节"));
        assert_eq!(parse("春节前"), before(2026, "春节"));
        assert_eq!(parse("国庆节前"), before(2026, "国庆"));
        assert_eq!(parse("2026年五一前"), before(2026, "劳动节"));
        assert_eq!(parse("中秋前"), before(2026, "中秋"));
        assert!(parse_deadline("2027年圣诞节前", 2026).is_err());
        assert!(parse_deadline("春节后", 2026).is_err());
    }

    #[test]
    fn numeric_dates() {
        for s in [
            "2026-06-30",
            "2026/6/30",
            "2026.6.30",
            "2026-6-30",
            " 2026/06/30 ",
            "２０２６-０６-３０",
            "２０２６／６／３０",
            "2026/6/30 0:00",
            "2026-06-30 00:00:00",
            "2026-06-30前",
        ] {
            assert_eq!(parse(s), date(2026, 6, 30), "{s}");
        }
    }

    #[test]
    fn chinese_dates() {
        for s in [
            "2026年6月30日",
            "2026年6月30日前",
            "2026年6月30日之前",
            "2026年6月30日以前",
            "2026年6月30号前",
            "2026 年 6 月 30 日前",
            "２０２６年６月３０日前",
            "2026年6月底前",
            "2026年6月末",
            "6月底前",
            "6月30日前",
            "六月底前",
            "六月三十日前",
            "上半年",
            "2026年上半年",
            "2026年第二季度",
            "二季度末",
        ] {
            assert_eq!(parse(s), date(2026, 6, 30), "{s}");
        }
    }

    #[test]
    fn year_end_and_second_half() {
        for s in [
            "2026年底前",
            "2026年年底前",
            "年底前",
            "年底",
            "年末",
            "下半年",
            "2026年下半年",
            "12月31日前",
            "十二月底",
            "第四季度末",
            "四季度",
        ] {
            assert_eq!(parse(s), date(2026, 12, 31), "{s}");
        }
        assert_eq!(parse("2027年底前"), date(2027, 12, 31));
    }

    #[test]
    fn quarters() {
        for s in [
            "2026年第三季度",
            "三季度末",
            "第3季度末",
            "第三季度底前",
            "3季度",
        ] {
            assert_eq!(parse(s), date(2026, 9, 30), "{s}");
        }
        assert_eq!(parse("一季度末"), date(2026, 3, 31));
        assert_eq!(parse("2025年第1季度"), date(2025, 3, 31));
    }

    #[test]
    fn month_ends_and_leap_years() {
        assert_eq!(parse("2028年2月底前"), date(2028, 2, 29));
        assert_eq!(parse("2026年2月底前"), date(2026, 2, 28));
        assert_eq!(parse("2100年2月底"), date(2100, 2, 28));
        assert_eq!(parse("2000年2月底"), date(2000, 2, 29));
        assert_eq!(parse("2028-02-29"), date(2028, 2, 29));
        assert_eq!(parse("4月底"), date(2026, 4, 30));
        assert_eq!(parse("2月底"), date(2026, 2, 28));
        assert_eq!(parse_deadline("2月底", 2028).unwrap(), date(2028, 2, 29));
        assert_eq!(parse_deadline("年底前", 2030).unwrap(), date(2030, 12, 31));
    }

    fn every(cadence: ReportCadence, day: u32) -> Deadline {
        Deadline::Recurring(ReportCycle { cadence, day })
    }

    #[test]
    fn monthly_and_ongoing() {
        use ReportCadence::Monthly;
        assert_eq!(parse("每月25日前"), every(Monthly, 25));
        assert_eq!(parse("每月25号"), every(Monthly, 25));
        assert_eq!(parse("每月５日"), every(Monthly, 5));
        assert_eq!(parse("每月底前"), every(Monthly, 31));
        for s in ["长期坚持", "长期", "持续推进", " 长期坚持 ", "长期推进"] {
            assert_eq!(parse(s), Deadline::Ongoing, "{s}");
        }
    }

    #[test]
    fn quarterly_and_half_yearly() {
        use ReportCadence::{HalfYearly, Quarterly};
        assert_eq!(parse("每季度末"), every(Quarterly, 31));
        assert_eq!(parse("每季度末前"), every(Quarterly, 31));
        assert_eq!(parse("每季度最后一个月25日前"), every(Quarterly, 25));
        assert_eq!(parse("每季度最后一个月 25 号"), every(Quarterly, 25));
        assert_eq!(parse("每季度最后一个月底前"), every(Quarterly, 31));
        assert_eq!(parse("每半年"), every(HalfYearly, 31));
        assert_eq!(parse("每半年末"), every(HalfYearly, 31));
        assert_eq!(parse("每半年最后一个月20日前"), every(HalfYearly, 20));
        // A quarter of one year is still a date, not a cycle.
        assert_eq!(parse("三季度末"), date(2026, 9, 30));
        for s in [
            "每季度25日",
            "每季度最后一个月",
            "每半年初",
            "每季度最后一个月32日",
        ] {
            assert!(parse_deadline(s, 2026).is_err(), "{s}");
        }
    }

    #[test]
    fn impossible_dates_are_explained() {
        let e = parse_deadline("2026-02-30", 2026).unwrap_err();
        assert!(e.zh.contains("不是真实存在的日期"), "{}", e.zh);
        assert!(e.en.contains("2026-02-30"), "{}", e.en);

        let e = parse_deadline("13月底前", 2026).unwrap_err();
        assert!(e.zh.contains("月份 13"), "{}", e.zh);
        assert!(e.en.contains("month 13"), "{}", e.en);

        let e = parse_deadline("2026年13月1日", 2026).unwrap_err();
        assert!(e.en.contains("month 13"), "{}", e.en);

        let e = parse_deadline("第5季度", 2026).unwrap_err();
        assert!(e.en.contains("quarter 5"), "{}", e.en);

        let e = parse_deadline("每月32日", 2026).unwrap_err();
        assert!(e.en.contains("32"), "{}", e.en);

        assert!(parse_deadline("2026年2月29日", 2026).is_err());
        assert!(parse_deadline("2026-00-10", 2026).is_err());
    }

    #[test]
    fn unreadable_text_is_explained() {
        for s in [
            "尽快",
            "6月",
            "6月前",
            "2026年",
            "2026",
            "2026-06",
            "2026/6-30",
            "26-6-30",
            "2026年6月30",
            "6月30日后",
            "每月",
            "前",
            "年底后",
            "底",
        ] {
            let e = parse_deadline(s, 2026).unwrap_err();
            assert!(e.zh.contains("无法识别"), "{s}: {}", e.zh);
            assert!(e.en.contains("cannot read"), "{s}: {}", e.en);
        }
        assert!(parse_deadline("   ", 2026)
            .unwrap_err()
            .en
            .contains("empty"));
        let long = "年".repeat(500);
        let e = parse_deadline(&long, 2026).unwrap_err();
        assert!(e.zh.chars().count() < 120, "long input is not quoted whole");
    }

    #[test]
    fn extreme_plan_years_do_not_panic() {
        assert!(parse_deadline("年底前", i32::MAX).is_err());
        assert!(parse_deadline("6月30日", i32::MIN).is_err());
    }

    #[test]
    fn excel_serials() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(deadline_from_excel_serial(1.0), d(1900, 1, 1));
        assert_eq!(deadline_from_excel_serial(59.0), d(1900, 2, 28));
        assert_eq!(deadline_from_excel_serial(60.0), None); // Excel's 1900-02-29
        assert_eq!(deadline_from_excel_serial(61.0), d(1900, 3, 1));
        assert_eq!(deadline_from_excel_serial(46203.0), d(2026, 6, 30));
        assert_eq!(deadline_from_excel_serial(46203.75), d(2026, 6, 30));
        assert_eq!(deadline_from_excel_serial(2_958_465.0), d(9999, 12, 31));
        assert_eq!(deadline_from_excel_serial(2_958_466.0), None);
        assert_eq!(deadline_from_excel_serial(0.0), None);
        assert_eq!(deadline_from_excel_serial(0.5), None);
        assert_eq!(deadline_from_excel_serial(-3.0), None);
        assert_eq!(deadline_from_excel_serial(f64::NAN), None);
        assert_eq!(deadline_from_excel_serial(f64::INFINITY), None);
    }

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        (0i64..80_000).prop_map(|days| {
            NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Duration::days(days)
        })
    }

    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 + 0xFEE0).unwrap(),
                _ => c,
            })
            .collect()
    }

    proptest! {
        #[test]
        fn every_holiday_reads_back_with_its_year(
            i in 0usize..HOLIDAYS.len(),
            year in 2000i32..2100,
            written_year in any::<bool>(),
            suffix in prop::sample::select(vec!["前", "之前", "以前"]),
        ) {
            let (written, holiday) = HOLIDAYS[i];
            let text = if written_year { format!("{year}年{written}{suffix}") } else { format!("{written}{suffix}") };
            let want_year = if written_year { year } else { 2026 };
            prop_assert_eq!(
                parse_deadline(&text, 2026),
                Ok(Deadline::BeforeHoliday { year: want_year, holiday })
            );
        }

        #[test]
        fn every_written_form_of_a_date_reads_back(
            date in any_date(),
            form in 0usize..5,
            suffix in prop::sample::select(vec!["", "前", "之前", "以前"]),
            wide in any::<bool>(),
            pad in "[ \t\u{3000}]{0,2}",
        ) {
            let (y, m, d) = (date.year(), date.month(), date.day());
            let body = match form {
                0 => date.format("%Y-%m-%d").to_string(),
                1 => format!("{y}/{m}/{d}"),
                2 => format!("{y}.{m}.{d}"),
                3 => format!("{y}年{m}月{d}日"),
                _ => format!("{y}年{m:02}月{d:02}号"),
            };
            let body = if wide { full_width(&body) } else { body };
            let text = format!("{pad}{body}{suffix}{pad}");
            prop_assert_eq!(parse_deadline(&text, 2000), Ok(Deadline::Date(date)));
        }

        #[test]
        fn month_end_is_the_day_before_the_next_month(year in 1950i32..2300, month in 1u32..=12) {
            let text = format!("{year}年{month}月底前");
            let Ok(Deadline::Date(end)) = parse_deadline(&text, 2000) else {
                return Err(TestCaseError::fail(format!("{text} did not parse")));
            };
            prop_assert_eq!(end.month(), month);
            prop_assert_eq!(end.succ_opt().unwrap().day(), 1);
            // The plan year fills in a missing year the same way.
            prop_assert_eq!(parse_deadline(&format!("{month}月底前"), year), Ok(Deadline::Date(end)));
        }

        #[test]
        fn quarter_end_is_a_month_end_of_the_quarter(year in 1950i32..2300, q in 1u32..=4) {
            let Ok(Deadline::Date(end)) = parse_deadline(&format!("{year}年第{q}季度末"), 0) else {
                return Err(TestCaseError::fail("quarter did not parse"));
            };
            prop_assert_eq!(end.month(), q * 3);
            prop_assert_eq!(end.succ_opt().unwrap().day(), 1);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,24}", year in any::<i32>()) {
            let _ = parse_deadline(&s, year);
        }

        #[test]
        fn parsing_chinese_looking_text_never_panics(
            s in "[0-9０-９年月日号底末前第季度上下半每长期一二三四五六七八九十 ./-]{0,16}",
        ) {
            let _ = parse_deadline(&s, 2026);
        }

        #[test]
        fn errors_are_in_both_languages(s in "\\PC{0,24}") {
            if let Err(e) = parse_deadline(&s, 2026) {
                prop_assert!(!e.zh.is_empty() && !e.en.is_empty());
            }
        }

        #[test]
        fn monthly_days_read_back(day in 1u32..=31) {
            prop_assert_eq!(parse_deadline(&format!("每月{day}日前"), 2026), Ok(every(ReportCadence::Monthly, day)));
        }

        #[test]
        fn every_cycle_reads_back_as_written(
            cadence in prop::sample::select(ReportCadence::ALL.to_vec()), day in 1u32..=31
        ) {
            let cycle = ReportCycle { cadence, day };
            prop_assert_eq!(parse_deadline(&cycle.written(), 2026), Ok(Deadline::Recurring(cycle)));
        }

        #[test]
        fn serials_agree_with_calamine(serial in 61u32..2_958_465, fraction in 0.0f64..0.99) {
            let value = f64::from(serial) + fraction;
            let excel = calamine::ExcelDateTime::new(value, calamine::ExcelDateTimeType::DateTime, false);
            let (y, m, d, ..) = excel.to_ymd_hms_milli();
            let expected = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d));
            prop_assert_eq!(deadline_from_excel_serial(value), expected);
        }

        #[test]
        fn serials_count_days(serial in 61u32..2_958_465) {
            let a = deadline_from_excel_serial(f64::from(serial)).unwrap();
            let b = deadline_from_excel_serial(f64::from(serial) + 1.0).unwrap();
            prop_assert_eq!(b.signed_duration_since(a).num_days(), 1);
        }
    }
}
