//! Scheduled jobs: the daily scan, the monthly bulletin draft
//! (`bulletins::job`) and the delivery rounds. Each run is
//! recorded under a unique (job, period) key, so a day's scan runs once however
//! many restarts or instances; with several instances a lease lets one of them
//! run the jobs, and another takes over within a lease period if it dies.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::db::schema::{job_runs, scheduler_lease};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::calendar::local_date;
use crate::mail::Mailer;
use crate::notices::{deliver, scan};

const LEASE: &str = "scheduler";

/// Takes or renews the scheduler lease for `holder`; false when another
/// instance holds an unexpired one.
pub fn try_lease(
    conn: &mut DbConnection,
    holder: &str,
    ttl_secs: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let until = now + Duration::seconds(ttl_secs);
    let renewed = diesel::update(
        scheduler_lease::table.find(LEASE).filter(
            scheduler_lease::holder
                .eq(holder)
                .or(scheduler_lease::expires_at.lt(now)),
        ),
    )
    .set((
        scheduler_lease::holder.eq(holder),
        scheduler_lease::expires_at.eq(until),
    ))
    .execute(conn)?;
    if renewed == 1 {
        return Ok(true);
    }
    let inserted = diesel::insert_into(scheduler_lease::table)
        .values((
            scheduler_lease::name.eq(LEASE),
            scheduler_lease::holder.eq(holder),
            scheduler_lease::expires_at.eq(until),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Runs `job` for `period` unless it already ran (or runs) for it. Returns the
/// counts when it ran here. A failed run is forgotten so a later try can run it.
pub fn run_once<T: Serialize>(
    pool: &DbPool,
    job: &str,
    period: &str,
    holder: &str,
    work: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    let mut conn = pool.get()?;
    let started = Utc::now().naive_utc();
    let inserted = diesel::insert_into(job_runs::table)
        .values((
            job_runs::job.eq(job),
            job_runs::period.eq(period),
            job_runs::holder.eq(holder),
            job_runs::started_at.eq(started),
        ))
        .returning(job_runs::id)
        .get_result::<i64>(&mut conn);
    let id = match inserted {
        Ok(id) => id,
        Err(e) if db::is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    drop(conn);
    let result = work();
    let mut conn = pool.get()?;
    match &result {
        Ok(counts) => {
            diesel::update(job_runs::table.find(id))
                .set((
                    job_runs::finished_at.eq(Utc::now().naive_utc()),
                    job_runs::outcome.eq("ok"),
                    job_runs::counts.eq(serde_json::to_string(counts).ok()),
                ))
                .execute(&mut conn)?;
        }
        Err(e) => {
            tracing::error!(job, period, error = ?e, "job failed");
            diesel::delete(job_runs::table.find(id)).execute(&mut conn)?;
        }
    }
    result.map(Some)
}

/// Runs today's scan if its time has come and it has not run yet.
pub fn scan_if_due(
    pool: &DbPool,
    settings: &Settings,
    holder: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<scan::ScanCounts>> {
    let tz = settings.tz()?;
    let local = now.with_timezone(&tz);
    if local.time() < settings.scan_at()? {
        return Ok(None);
    }
    let today = local_date(now, tz);
    run_once(pool, "scan", &today.to_string(), holder, || {
        let mut conn = pool.get()?;
        scan::scan(&mut conn, settings, today, now.naive_utc())
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunView {
    pub job: String,
    pub period: String,
    pub holder: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub counts: Option<serde_json::Value>,
}

pub fn recent_runs(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<JobRunView>> {
    type Row = (
        String,
        String,
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = job_runs::table
        .select((
            job_runs::job,
            job_runs::period,
            job_runs::holder,
            job_runs::started_at,
            job_runs::finished_at,
            job_runs::outcome,
            job_runs::counts,
        ))
        .order(job_runs::id.desc())
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(job, period, holder, started, finished, outcome, counts)| JobRunView {
                job,
                period,
                holder,
                started_at: started.and_utc(),
                finished_at: finished.map(|f| f.and_utc()),
                outcome,
                counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
            },
        )
        .collect())
}

pub fn lease_holder(conn: &mut DbConnection) -> QueryResult<Option<(String, NaiveDateTime)>> {
    scheduler_lease::table
        .find(LEASE)
        .select((scheduler_lease::holder, scheduler_lease::expires_at))
        .first(conn)
        .optional()
}

/// One tick of the scheduler: take the lease, scan and draft the bulletin if
/// due, deliver.
pub fn tick(
    pool: &DbPool,
    settings: &Settings,
    mailer: &Mailer,
    holder: &str,
) -> anyhow::Result<()> {
    let now = Utc::now();
    let leader = {
        let mut conn = pool.get()?;
        try_lease(
            &mut conn,
            holder,
            settings.scheduler_lease_secs,
            now.naive_utc(),
        )?
    };
    if !leader {
        return Ok(());
    }
    if let Some(counts) = scan_if_due(pool, settings, holder, now)? {
        tracing::info!(?counts, "daily scan");
    }
    // After the scan, so the month's last notices are in the figures.
    if let Some(run) = crate::bulletins::job::bulletin_if_due(pool, settings, holder, now)? {
        tracing::info!(?run, "monthly bulletin");
    }
    let counts = deliver::deliver(pool, mailer, settings, Utc::now().naive_utc())?;
    if counts != deliver::DeliveryCounts::default() {
        tracing::info!(?counts, "delivery");
    }
    Ok(())
}

/// Runs the scheduler until the process stops. Each tick runs on the blocking pool.
pub async fn run(pool: DbPool, settings: Arc<Settings>, mailer: Mailer) {
    let holder = format!("{}-{}", hostname(), crate::auth::token::random_hex(4));
    tracing::info!(%holder, "scheduler started");
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(
        settings.delivery_interval_secs.max(1),
    ));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let (pool, settings, mailer, holder) = (
            pool.clone(),
            settings.clone(),
            mailer.clone(),
            holder.clone(),
        );
        match tokio::task::spawn_blocking(move || tick(&pool, &settings, &mailer, &holder)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = ?e, "scheduler tick failed"),
            Err(e) => tracing::error!(error = ?e, "scheduler tick panicked"),
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "duban".into())
}
