//! `notice_days`: how many notices were created, and of those cancelled, on
//! each UTC day, kept in the transaction that writes them. A closed
//! period's ranking counts the ladder's notices of its days that were not
//! cancelled, so these sums over its days move whenever what it read could
//! have (`rankings::cache::fingerprint`), for the price of reading a month's
//! rows rather than counting a month's notices.
//!
//! Every write that creates a notice or cancels one calls this in its own
//! transaction: the scan's inserts (`scan::write`), a bulletin's emails
//! (`bulletins::publish`) and the deliverer's cancellations (`deliver`). A
//! notice is never deleted, and once cancelled stays cancelled.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::schema::notice_days;
use crate::db::DbConnection;

/// Counts notices just written, each given by its creation instant and
/// whether it was written cancelled.
pub fn created(
    conn: &mut DbConnection,
    notices: impl IntoIterator<Item = (NaiveDateTime, bool)>,
) -> QueryResult<()> {
    // By day, in day order: concurrent writers take the days' rows in the
    // same order.
    let mut days: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
    for (at, cancelled) in notices {
        let day = days.entry(at.date()).or_default();
        day.0 += 1;
        day.1 += i64::from(cancelled);
    }
    for (day, (created, cancelled)) in days {
        add(conn, day, created, cancelled)?;
    }
    Ok(())
}

/// Counts a notice created at `created_at` as cancelled now.
pub fn cancelled(conn: &mut DbConnection, created_at: NaiveDateTime) -> QueryResult<()> {
    add(conn, created_at.date(), 0, 1)
}

/// Adds to a day's row, making it if it is the day's first notice.
fn add(conn: &mut DbConnection, day: NaiveDate, created: i64, cancelled: i64) -> QueryResult<()> {
    crate::db::per_backend!(conn, c => diesel::insert_into(notice_days::table)
        .values((
            notice_days::day.eq(day),
            notice_days::created.eq(created),
            notice_days::cancelled.eq(cancelled),
        ))
        .on_conflict(notice_days::day)
        .do_update()
        .set((
            notice_days::created.eq(notice_days::created + excluded(notice_days::created)),
            notice_days::cancelled.eq(notice_days::cancelled + excluded(notice_days::cancelled)),
        ))
        .execute(c))?;
    Ok(())
}

/// The notices created from `from` to `to` (whole UTC days, both included)
/// and of those the cancelled: (created, cancelled).
pub fn sums(conn: &mut DbConnection, from: NaiveDate, to: NaiveDate) -> QueryResult<(i64, i64)> {
    let rows: Vec<(i64, i64)> = notice_days::table
        .filter(notice_days::day.between(from, to))
        .select((notice_days::created, notice_days::cancelled))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .fold((0, 0), |(c, x), (created, cancelled)| {
            (c + created, x + cancelled)
        }))
}
