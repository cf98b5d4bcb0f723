//! The holiday calendar the admin maintains: public holidays and make-up
//! working days (调休), used for deadlines given in working days.

pub mod routes;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::audit;
use crate::db::schema::holidays;
use crate::db::DbConnection;
use crate::domain::calendar::{DayKind, WorkCalendar};
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::{Message, UserId};
use crate::error::{Error, FieldError, Result, Validator};

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
pub fn parse_csv(text: &str) -> Result<Vec<Entry>> {
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
        Err(Error::Invalid(errors))
    }
}

/// The entries of `year` (every year when None), by date: (date, kind, name).
pub fn entries(
    conn: &mut DbConnection,
    year: Option<i32>,
) -> QueryResult<Vec<(NaiveDate, String, String)>> {
    let rows: Vec<(NaiveDate, String, String)> = holidays::table
        .select((holidays::day, holidays::kind, holidays::name))
        .order(holidays::day.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(day, _, _)| year.is_none_or(|y| day.year() == y))
        .collect())
}

/// One date as the admin sets it (`PUT /holidays/{date}`), every bad field named.
pub fn entry(date: &str, kind: &str, name: &str) -> Result<Entry> {
    let mut v = Validator::default();
    let day = v.check("date", parse_date(date));
    let kind = v.check(
        "kind",
        DayKind::parse(kind).ok_or(Message::new(
            "类型必须是 holiday 或 workday",
            "kind must be holiday or workday",
        )),
    );
    let name = v.check("name", BoundedText::parse(name, 100));
    let (Some(day), Some(kind), Some(name)) = (day, kind, name) else {
        return Err(v.into_error());
    };
    Ok(Entry {
        day,
        kind,
        name: name.into_inner(),
    })
}

/// Writes an imported calendar, all lines or none, with its audit entry.
pub fn import(
    conn: &mut DbConnection,
    entries: &[Entry],
    actor: UserId,
    now: NaiveDateTime,
) -> Result<()> {
    let after = serde_json::json!({ "imported": entries.len() });
    conn.write(|conn| {
        upsert(conn, entries)?;
        Ok(record(conn, actor, "import", (None, Some(after)), now)?)
    })
}

/// Sets one date, with its audit entry.
pub fn set(
    conn: &mut DbConnection,
    entry: &Entry,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<()> {
    let after =
        serde_json::json!({ "date": entry.day, "kind": entry.kind.as_str(), "name": entry.name });
    conn.write(|conn| {
        upsert(conn, std::slice::from_ref(entry))?;
        Ok(record(conn, actor, "set", (None, Some(after)), now)?)
    })
}

/// Removes one date, with its audit entry; `NotFound` when it is not set.
pub fn remove(
    conn: &mut DbConnection,
    day: NaiveDate,
    actor: UserId,
    now: NaiveDateTime,
) -> Result<()> {
    conn.write(|conn| {
        let n = diesel::delete(holidays::table.find(day)).execute(conn)?;
        if n == 0 {
            return Err(Error::NotFound);
        }
        let before = serde_json::json!({ "date": day });
        Ok(record(conn, actor, "delete", (Some(before), None), now)?)
    })
}

/// The audit entry of a change to the calendar (which has no record ids).
fn record(
    conn: &mut DbConnection,
    actor: UserId,
    action: &str,
    (before, after): (Option<serde_json::Value>, Option<serde_json::Value>),
    now: NaiveDateTime,
) -> QueryResult<()> {
    let change = audit::Change {
        actor: Some(actor),
        action,
        entity: "holiday",
        entity_id: None,
        before,
        after,
    };
    audit::record(conn, change, now)
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
