//! The monthly bulletin job: on `bulletin_day` (after the scan time) the
//! scheduler drafts the previous month's bulletin once, and publishes it only
//! when `bulletin_auto_publish` says so; otherwise publishing stays with the
//! office. The run is recorded like the scan's (`jobs::run_once`): once per
//! period, taken over after a crash. This is the scheduling glue; drafting and
//! publishing are the bulletins' own (`bulletins::create`, `bulletins::publish`).

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use super::run_once;
use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::period::Period;
use crate::domain::BulletinId;
use crate::error::{Conflict, Error};

#[derive(Debug, Serialize)]
pub struct BulletinRun {
    pub period: String,
    /// The draft made, or None when the office had already made one.
    pub bulletin_id: Option<BulletinId>,
    pub published: bool,
}

/// Drafts last month's bulletin if today is the day and it has not been done.
/// A period in which no task counts (none assigned and due by its end) is
/// left alone: a fresh installation does not draft an empty bulletin for the
/// month before it was set up (which would also stand in the way of `duban
/// demo`); the run is not recorded, so tasks entered later with past due
/// dates still get their bulletin.
pub fn bulletin_if_due(
    pool: &DbPool,
    settings: &Settings,
    holder: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<BulletinRun>> {
    let clock = settings.clock(now);
    let local = now.with_timezone(&clock.tz);
    if settings.bulletin_day == 0
        || clock.today.day() < settings.bulletin_day
        || local.time() < settings.scan_time.0
    {
        return Ok(None);
    }
    let period = Period::previous_month(clock.today);
    if !crate::rankings::anything_counts(&mut *pool.get()?, period.end)? {
        return Ok(None);
    }
    run_once(
        pool,
        "bulletin",
        &period.label(),
        holder,
        settings.job_lease_secs,
        || {
            let mut conn = pool.get()?;
            // Drafting and publishing in one transaction: a crash leaves
            // neither or both, so the run taken over after a crash finds
            // the bulletin complete (or nothing) and never a draft that
            // should have been published.
            conn.write(|conn| -> anyhow::Result<BulletinRun> {
                let created = match crate::bulletins::create(conn, settings, &clock, None, period) {
                    Ok(row) => row,
                    Err(Error::Conflict(Conflict::BulletinExists { .. })) => {
                        return Ok(BulletinRun {
                            period: period.label(),
                            bulletin_id: None,
                            published: false,
                        })
                    }
                    Err(e) => return Err(anyhow::Error::new(e).context("drafting the bulletin")),
                };
                let published = settings.bulletin_auto_publish
                    && crate::bulletins::publish::publish(conn, settings, &clock, None, created.id)
                        .map_err(|e| anyhow::Error::new(e).context("publishing the bulletin"))?
                        .1;
                Ok(BulletinRun {
                    period: period.label(),
                    bulletin_id: Some(created.id),
                    published,
                })
            })
        },
    )
}
