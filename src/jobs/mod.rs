//! Scheduled jobs: the daily scan, the monthly bulletin draft
//! (`jobs::bulletin`) and the delivery rounds. Each run is recorded under a
//! unique (job, period) key, so a day's scan runs once however many restarts
//! or instances. With several instances a lease lets one of them run the
//! jobs, and another takes over within a lease period if it dies.
//!
//! A run holds a lease of its own, renewed while it works: a run whose
//! instance died (started, never finished) is taken over once that lease
//! lapses, so a crash delays the day's work instead of losing it. The jobs
//! are idempotent (notices and bulletins have unique keys), so work done
//! before the crash is not done twice.

pub mod bulletin;
pub mod routes;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::db::schema::{job_runs, scheduler_lease};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::calendar::local_date;
use crate::heartbeat;
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
    // Look before inserting: a standby instance asks every tick, and a
    // refused insert would put an error into the PostgreSQL log each time.
    let exists: i64 = scheduler_lease::table
        .find(LEASE)
        .count()
        .get_result(conn)?;
    if exists > 0 {
        return Ok(false);
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

/// A job run held by this instance. `attempts` tells this start of the run
/// from an earlier one, so renewing or finishing succeeds only while no other
/// instance has taken the run over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunClaim {
    pub id: i64,
    pub holder: String,
    pub attempts: i32,
}

/// Claims the run of `job` for `period`: a new run, or one that was started
/// and never finished and whose lease has lapsed (its instance died). None
/// when it is finished or another instance is running it.
pub fn claim_run(
    conn: &mut DbConnection,
    job: &str,
    period: &str,
    holder: &str,
    lease_secs: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<RunClaim>> {
    type Existing = (
        i64,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
        i32,
    );
    let until = now + Duration::seconds(lease_secs);
    // Look first: this runs every tick, and most ticks find the run done.
    let existing: Option<Existing> = job_runs::table
        .filter(job_runs::job.eq(job))
        .filter(job_runs::period.eq(period))
        .select((
            job_runs::id,
            job_runs::holder,
            job_runs::finished_at,
            job_runs::lease_until,
            job_runs::attempts,
        ))
        .first(conn)
        .optional()?;
    match existing {
        None => {
            let inserted = diesel::insert_into(job_runs::table)
                .values((
                    job_runs::job.eq(job),
                    job_runs::period.eq(period),
                    job_runs::holder.eq(holder),
                    job_runs::started_at.eq(now),
                    job_runs::lease_until.eq(until),
                    job_runs::attempts.eq(1),
                ))
                .returning(job_runs::id)
                .get_result::<i64>(conn);
            match inserted {
                Ok(id) => Ok(Some(RunClaim {
                    id,
                    holder: holder.to_string(),
                    attempts: 1,
                })),
                // Two lease holders in the same instant (a lease just changed hands).
                Err(e) if db::is_unique_violation(&e) => Ok(None),
                Err(e) => Err(e),
            }
        }
        Some((_, _, Some(_finished), _, _)) => Ok(None),
        Some((_, _, None, Some(lease), _)) if lease >= now => Ok(None),
        Some((id, previous, None, _, attempts)) => {
            // The condition repeats what was read, so of several instances
            // taking over at once exactly one succeeds.
            let taken = diesel::update(
                job_runs::table
                    .find(id)
                    .filter(job_runs::finished_at.is_null())
                    .filter(job_runs::attempts.eq(attempts))
                    .filter(
                        job_runs::lease_until
                            .is_null()
                            .or(job_runs::lease_until.lt(now)),
                    ),
            )
            .set((
                job_runs::holder.eq(holder),
                job_runs::lease_until.eq(until),
                job_runs::attempts.eq(attempts + 1),
            ))
            .execute(conn)?;
            if taken == 0 {
                return Ok(None);
            }
            tracing::warn!(
                job,
                period,
                previous_holder = %previous,
                "taking over a job run that was started and never finished"
            );
            Ok(Some(RunClaim {
                id,
                holder: holder.to_string(),
                attempts: attempts + 1,
            }))
        }
    }
}

/// The run `claim` names, while it is still that claim's.
#[diesel::dsl::auto_type(no_type_alias)]
fn owned_run(id: i64, holder: String, attempts: i32) -> _ {
    job_runs::table
        .find(id)
        .filter(job_runs::holder.eq(holder))
        .filter(job_runs::attempts.eq(attempts))
        .filter(job_runs::finished_at.is_null())
}

impl RunClaim {
    fn owned(&self) -> (i64, String, i32) {
        (self.id, self.holder.clone(), self.attempts)
    }
}

/// Extends the run's lease; false when another instance has taken it over.
pub fn renew_run(
    conn: &mut DbConnection,
    claim: &RunClaim,
    lease_secs: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let renewed = diesel::update({
        let (id, holder, attempts) = claim.owned();
        owned_run(id, holder, attempts)
    })
    .set(job_runs::lease_until.eq(now + Duration::seconds(lease_secs)))
    .execute(conn)?;
    Ok(renewed == 1)
}

/// Runs `job` for `period` unless it already ran, or runs now in a live
/// instance. Returns the counts when it ran here. While `work` runs, the
/// run's lease is renewed; a failed run is forgotten so a later try can run
/// it.
pub fn run_once<T: Serialize>(
    pool: &DbPool,
    job: &str,
    period: &str,
    holder: &str,
    lease_secs: i64,
    work: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    let claim = {
        let mut conn = pool.get()?;
        claim_run(
            &mut conn,
            job,
            period,
            holder,
            lease_secs,
            Utc::now().naive_utc(),
        )?
    };
    let Some(claim) = claim else {
        return Ok(None);
    };
    let renew = || -> anyhow::Result<bool> {
        let mut conn = pool.get()?;
        Ok(renew_run(
            &mut conn,
            &claim,
            lease_secs,
            Utc::now().naive_utc(),
        )?)
    };
    let (result, lost) = heartbeat::with_heartbeat(heartbeat::interval(lease_secs), renew, work);
    if lost {
        tracing::warn!(
            job,
            period,
            "the job run's lease lapsed while it ran and another instance took it over"
        );
    }
    let mut conn = pool.get()?;
    match &result {
        Ok(counts) => {
            let recorded = diesel::update({
                let (id, holder, attempts) = claim.owned();
                owned_run(id, holder, attempts)
            })
            .set((
                job_runs::finished_at.eq(Utc::now().naive_utc()),
                job_runs::outcome.eq("ok"),
                job_runs::counts.eq(serde_json::to_string(counts).ok()),
                job_runs::lease_until.eq(None::<NaiveDateTime>),
            ))
            .execute(&mut conn)?;
            if recorded == 0 {
                // The instance that took over records the run when it is done.
                tracing::warn!(
                    job,
                    period,
                    "finished a job run another instance had taken over"
                );
            }
        }
        Err(e) => {
            tracing::error!(job, period, error = ?e, "job failed");
            diesel::delete({
                let (id, holder, attempts) = claim.owned();
                owned_run(id, holder, attempts)
            })
            .execute(&mut conn)?;
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
    let tz = settings.timezone;
    let local = now.with_timezone(&tz);
    if local.time() < settings.scan_time.0 {
        return Ok(None);
    }
    let today = local_date(now, tz);
    run_once(
        pool,
        "scan",
        &today.to_string(),
        holder,
        settings.job_lease_secs,
        || {
            let mut conn = pool.get()?;
            scan::scan(&mut conn, settings, today, now.naive_utc())
        },
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JobRunView {
    pub job: String,
    pub period: String,
    /// The instance that runs or ran it (the last one, after a takeover).
    pub holder: String,
    pub started_at: DateTime<Utc>,
    /// Unset while it runs, or when its instance died before finishing it:
    /// another instance takes it over once the lease lapses.
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub counts: Option<serde_json::Value>,
    /// How many times it was started: more than 1 after a takeover.
    pub attempts: i32,
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
        i32,
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
            job_runs::attempts,
        ))
        .order(job_runs::id.desc())
        .limit(limit)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(job, period, holder, started, finished, outcome, counts, attempts)| JobRunView {
                job,
                period,
                holder,
                started_at: started.and_utc(),
                finished_at: finished.map(|f| f.and_utc()),
                outcome,
                counts: counts.and_then(|c| serde_json::from_str(&c).ok()),
                attempts,
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

/// The scheduler as the office sees it, read-only.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerStatus {
    pub lease_holder: Option<String>,
    pub lease_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Notices by status.
    pub queue: std::collections::BTreeMap<String, i64>,
    pub recent_runs: Vec<JobRunView>,
}

/// Who holds the lease and until when, the outbox by status and the last
/// `runs` job runs: what `GET /api/v1/scheduler` and the console's
/// 投递失败 queue show.
pub fn status(conn: &mut DbConnection, runs: i64) -> QueryResult<SchedulerStatus> {
    let lease = lease_holder(conn)?;
    Ok(SchedulerStatus {
        lease_holder: lease.as_ref().map(|l| l.0.clone()),
        lease_expires_at: lease.map(|l| l.1.and_utc()),
        queue: crate::notices::outbox::queue(conn)?,
        recent_runs: recent_runs(conn, runs)?,
    })
}

/// One tick of the scheduler: take the lease, scan and draft the bulletin if
/// due, deliver. The lease is renewed between the steps and, during the
/// delivery round, three times a lease between notices, so a long tick keeps
/// it, and a tick that lost it (its instance stalled longer than the lease)
/// stops. `stopping` says the process is shutting down: the tick ends after
/// the notice being sent.
pub fn tick(
    pool: &DbPool,
    settings: &Settings,
    mailer: &Mailer,
    holder: &str,
    stopping: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let lease = || -> anyhow::Result<bool> {
        let mut conn = pool.get()?;
        Ok(try_lease(
            &mut conn,
            holder,
            settings.scheduler_lease_secs,
            Utc::now().naive_utc(),
        )?)
    };
    if !lease()? {
        return Ok(());
    }
    if let Some(counts) = scan_if_due(pool, settings, holder, Utc::now())? {
        tracing::info!(?counts, "daily scan");
    }
    if stopping() || !lease()? {
        return Ok(());
    }
    // After the scan, so the month's last notices are in the figures.
    if let Some(run) = bulletin::bulletin_if_due(pool, settings, holder, Utc::now())? {
        tracing::info!(?run, "monthly bulletin");
    }
    // During a round the lease is renewed as a heartbeat would (three times
    // a lease), not before every notice: a write per notice would cost about
    // as much as sending it.
    let every = heartbeat::interval(settings.scheduler_lease_secs);
    let mut renewed: Option<std::time::Instant> = None;
    let mut keep_going = || -> anyhow::Result<bool> {
        if stopping() {
            return Ok(false);
        }
        if renewed.is_some_and(|at| at.elapsed() < every) {
            return Ok(true);
        }
        renewed = Some(std::time::Instant::now());
        lease()
    };
    let counts = deliver::deliver_while(
        pool,
        mailer,
        settings,
        crate::bulletins::publish::attachments,
        Utc::now().naive_utc(),
        &mut keep_going,
    )?;
    if counts != deliver::DeliveryCounts::default() {
        tracing::info!(?counts, "delivery");
    }
    Ok(())
}

/// Runs the scheduler until `stop` turns true (or its sender is dropped);
/// each tick runs on the blocking pool. A failed tick (the database is down,
/// say) is logged and the next one tries again. A tick that panicked is a
/// bug: the scheduler returns the error, and `serve` stops the process so
/// that whatever supervises it restarts it rather than leaving a server
/// without its jobs.
pub async fn run(
    pool: DbPool,
    settings: Arc<Settings>,
    mailer: Mailer,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let holder = format!("{}-{}", hostname(), crate::secrets::random_hex(4));
    tracing::info!(%holder, "scheduler started");
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(
        settings.delivery_interval_secs.max(1),
    ));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() || stop.has_changed().is_err() {
            tracing::info!("scheduler stopped");
            return Ok(());
        }
        let (pool, settings, mailer, holder, stopping) = (
            pool.clone(),
            settings.clone(),
            mailer.clone(),
            holder.clone(),
            stop.clone(),
        );
        let ticked = tokio::task::spawn_blocking(move || {
            tick(&pool, &settings, &mailer, &holder, &|| *stopping.borrow())
        })
        .await;
        match ticked {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = ?e, "scheduler tick failed"),
            Err(e) => match e.try_into_panic() {
                Ok(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "no message".into());
                    anyhow::bail!("a scheduled job panicked: {message}");
                }
                Err(e) => anyhow::bail!("a scheduled job was cancelled: {e}"),
            },
        }
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME").unwrap_or_else(|_| "duban".into())
}
