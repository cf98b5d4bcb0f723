//! The holiday calendar the admin maintains: public holidays and make-up
//! working days (调休), used for deadlines given in working days.

pub mod routes;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::holidays;
use crate::db::DbConnection;
use crate::domain::calendar::{DayKind, WorkCalendar};
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::Message;
use crate::error::FieldError;
use crate::http::problem::ApiError;

/// The whole calendar (a few dozen rows a year).
pub fn calendar(conn: &mut DbConnection) -> QueryResult<WorkCalendar> {
    let rows: Vec<(NaiveDate, String)> = holidays::table
        .select((holidays::day, holidays::kind))
        .load(conn)?;
    Ok(WorkCalendar::new(rows.into_iter().filter_map(
        |(day, kind)| DayKind::parse(&kind).map(|k| (day, k)),
    )))
}

/// One parsed calendar line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

/// Parses a calendar CSV: `date,kind,name` per line (`kind` is holiday/workday
/// or 休/班); a header line and blank or `#` lines are skipped. Every bad line
/// is reported as `line N`.
pub fn parse_csv(text: &str) -> Result<Vec<Entry>, ApiError> {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        let line = line.trim();
        if line.is_empty()
            || line.starts_with('#')
            || (i == 0 && line.to_ascii_lowercase().starts_with("date"))
        {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, [',', '，']).map(str::trim).collect();
        let field = format!("line {}", i + 1);
        let day = parts.first().map(|d| parse_date(d));
        let kind = parts.get(1).and_then(|k| DayKind::parse(k));
        let name = parts.get(2).copied().unwrap_or("").trim_matches('"');
        match (day, kind) {
            (Some(Ok(day)), Some(kind)) => entries.push(Entry {
                day,
                kind,
                name: BoundedText::parse(if name.is_empty() { kind.as_str() } else { name }, 100)
                    .map(BoundedText::into_inner)
                    .unwrap_or_else(|_| kind.as_str().to_string()),
            }),
            (Some(Err(m)), _) => errors.push(FieldError { field, message: m }),
            _ => errors.push(FieldError {
                field,
                message: Message::new(
                    "每行格式：日期,类型(holiday/workday 或 休/班),名称",
                    "each line is: date,kind (holiday/workday),name",
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Writes entries, replacing any existing entry for the same date. Call inside
/// a write transaction: it takes the calendar's lock, so two writers of one
/// date queue instead of colliding on its key.
pub fn upsert(conn: &mut DbConnection, entries: &[Entry]) -> QueryResult<()> {
    crate::db::lock_rule(conn, crate::db::Rule::HolidayCalendar)?;
    for e in entries {
        diesel::delete(holidays::table.find(e.day)).execute(conn)?;
        diesel::insert_into(holidays::table)
            .values((
                holidays::day.eq(e.day),
                holidays::kind.eq(e.kind.as_str()),
                holidays::name.eq(&e.name),
            ))
            .execute(conn)?;
    }
    Ok(())
}
