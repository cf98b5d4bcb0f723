//! The monthly bulletin job: on `bulletin_day` (after the scan time) the
//! scheduler drafts the previous month's bulletin once, and publishes it only
//! when `bulletin_auto_publish` says so; otherwise publishing stays with the
//! office.

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::config::Settings;
use crate::db::DbPool;
use crate::domain::period::Period;
use crate::jobs::run_once;
use crate::tasks::service::TaskClock;

#[derive(Debug, Serialize)]
pub struct BulletinRun {
    pub period: String,
    /// The draft made, or None when the office had already made one.
    pub bulletin_id: Option<i64>,
    pub published: bool,
}

/// Drafts last month's bulletin if today is the day and it has not been done.
pub fn bulletin_if_due(
    pool: &DbPool,
    settings: &Settings,
    holder: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<BulletinRun>> {
    let clock = TaskClock::new(settings, now)?;
    let local = now.with_timezone(&clock.tz);
    if settings.bulletin_day == 0
        || clock.today.day() < settings.bulletin_day
        || local.time() < settings.scan_at()?
    {
        return Ok(None);
    }
    let period = Period::previous_month(clock.today);
    run_once(pool, "bulletin", &period.label(), holder, || {
        let mut conn = pool.get()?;
        let created = match super::create(&mut conn, settings, &clock, None, period) {
            Ok(row) => row,
            Err(e) if e.code() == "bulletin_exists" => {
                return Ok(BulletinRun {
                    period: period.label(),
                    bulletin_id: None,
                    published: false,
                })
            }
            Err(e) => return Err(anyhow::anyhow!("drafting the bulletin: {e:?}")),
        };
        let published = settings.bulletin_auto_publish
            && super::publish::publish(&mut conn, settings, &clock, None, created.id)
                .map_err(|e| anyhow::anyhow!("publishing the bulletin: {e:?}"))?
                .1;
        Ok(BulletinRun {
            period: period.label(),
            bulletin_id: Some(created.id),
            published,
        })
    })
}
