//! The task timeline: every change to a task is an event written in the same
//! transaction as the change.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{task_events, users};
use crate::db::DbConnection;
use crate::domain::{EventId, TaskId, UnitId, UserId};

/// One event to record.
pub struct NewEvent<'a> {
    pub task_id: TaskId,
    pub kind: &'a str,
    pub actor: Option<UserId>,
    pub unit_id: Option<UnitId>,
    pub note: Option<String>,
    pub data: Option<serde_json::Value>,
}

pub fn record(conn: &mut DbConnection, event: NewEvent<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(task_events::table)
        .values((
            task_events::task_id.eq(event.task_id),
            task_events::kind.eq(event.kind),
            task_events::actor_id.eq(event.actor),
            task_events::unit_id.eq(event.unit_id),
            task_events::note.eq(event.note),
            task_events::data.eq(event.data.map(|d| d.to_string())),
            task_events::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records `events` with one multi-row INSERT (for the scan, which writes
/// an event per notice, hundreds in one transaction).
pub fn record_all(
    conn: &mut DbConnection,
    events: &[NewEvent<'_>],
    now: NaiveDateTime,
) -> QueryResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<_> = events
        .iter()
        .map(|e| {
            (
                task_events::task_id.eq(e.task_id),
                task_events::kind.eq(e.kind),
                task_events::actor_id.eq(e.actor),
                task_events::unit_id.eq(e.unit_id),
                task_events::note.eq(e.note.as_deref()),
                task_events::data.eq(e.data.as_ref().map(|d| d.to_string())),
                task_events::created_at.eq(now),
            )
        })
        .collect();
    crate::db::per_backend!(conn, c => diesel::insert_into(task_events::table)
        .values(&rows)
        .execute(c))?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: EventId,
    /// created, updated, assigned, accepted, reported, attachment_added,
    /// submitted, verified, returned, cancelled, reopened, due_date_changed,
    /// extension_requested, extension_approved, extension_rejected, …
    pub kind: String,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub unit_id: Option<UnitId>,
    pub note: Option<String>,
    pub data: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

type EventTuple = (
    EventId,
    String,
    Option<UserId>,
    Option<String>,
    Option<UnitId>,
    Option<String>,
    Option<String>,
    NaiveDateTime,
);

/// The task's events, oldest first.
pub fn list(conn: &mut DbConnection, task_id: TaskId) -> QueryResult<Vec<EventView>> {
    Ok(views(read(conn, task_id, None)?))
}

/// The task's latest `limit` events, oldest first, and how many earlier
/// ones were left out: what a page shows of a timeline that may hold tens
/// of thousands (a read through the `(task_id, id)` index, newest first).
pub fn latest(
    conn: &mut DbConnection,
    task_id: TaskId,
    limit: i64,
) -> QueryResult<(Vec<EventView>, i64)> {
    let mut rows = read(conn, task_id, Some(limit + 1))?;
    let earlier = if rows.len() > usize::try_from(limit).unwrap_or(0) {
        rows.truncate(rows.len() - 1);
        let all: i64 = task_events::table
            .filter(task_events::task_id.eq(task_id))
            .count()
            .get_result(conn)?;
        all - limit
    } else {
        0
    };
    rows.reverse();
    Ok((views(rows), earlier))
}

/// The task's events: all, oldest first, or the `newest` latest, newest
/// first.
fn read(
    conn: &mut DbConnection,
    task_id: TaskId,
    newest: Option<i64>,
) -> QueryResult<Vec<EventTuple>> {
    let query = task_events::table
        .left_join(users::table.on(users::id.nullable().eq(task_events::actor_id)))
        .filter(task_events::task_id.eq(task_id))
        .select((
            task_events::id,
            task_events::kind,
            task_events::actor_id,
            users::display_name.nullable(),
            task_events::unit_id,
            task_events::note,
            task_events::data,
            task_events::created_at,
        ))
        .into_boxed();
    match newest {
        Some(n) => query.order(task_events::id.desc()).limit(n).load(conn),
        None => query.order(task_events::id.asc()).load(conn),
    }
}

fn views(rows: Vec<EventTuple>) -> Vec<EventView> {
    rows.into_iter()
        .map(
            |(id, kind, actor_id, actor_name, unit_id, note, data, at)| EventView {
                id,
                kind,
                actor_id,
                actor_name,
                unit_id,
                note,
                data: data.and_then(|d| serde_json::from_str(&d).ok()),
                at: at.and_utc(),
            },
        )
        .collect()
}
