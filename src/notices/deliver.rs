//! The delivery worker: claims due notices with a lease, checks that their
//! reason still holds, sends them, and records the outcome. Failures are
//! retried with exponential backoff and jitter; a permanent failure, or too
//! many attempts, makes a notice `dead` with its last error kept.
//!
//! Guarantee: a notice is never lost (it stays in the table until sent, dead
//! or cancelled). It can be sent twice only if the process dies between the
//! SMTP server's acceptance and the database commit; both copies then carry
//! the same Message-ID.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use serde::Serialize;

use super::{robots, NoticeRow};
use crate::config::Settings;
use crate::db::schema::{notices, tasks, units};
use crate::db::{DbConnection, DbPool};
use crate::domain::ladder::Step;
use crate::domain::task_state::TaskStatus;
use crate::mail::{Mailer, Outgoing, SendError};

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub cancelled: usize,
}

const BATCH: i64 = 50;

/// How long a claimed notice stays reserved for its claimer: longer than one
/// SMTP exchange can take, so a live claimer never loses it, short enough that
/// a notice claimed by a process that died goes out soon after.
fn claim_secs(settings: &Settings) -> i64 {
    i64::try_from(settings.smtp_timeout_secs)
        .unwrap_or(60)
        .saturating_mul(2)
        + 5
}

/// Delay before attempt `attempts + 1`: base·2^(attempts−1), at most 6 hours,
/// ±20 % jitter so that many failed notices do not retry in lockstep.
pub fn backoff(base_secs: i64, attempts: i32, jitter: f64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let secs = base_secs.max(1).saturating_mul(1i64 << exp).min(6 * 3600);
    let factor = 1.0 + jitter.clamp(-0.2, 0.2);
    Duration::seconds(((secs as f64) * factor).round() as i64)
}

fn due_ids(conn: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<i64>> {
    notices::table
        .filter(
            notices::status
                .eq("pending")
                .and(notices::next_attempt_at.le(now))
                .or(notices::status
                    .eq("sending")
                    .and(notices::lease_until.lt(now))),
        )
        .select(notices::id)
        .order(notices::id.asc())
        .limit(BATCH)
        .load(conn)
}

/// Reserves the notice for this worker; None when someone else has it.
fn claim(
    conn: &mut DbConnection,
    id: i64,
    now: NaiveDateTime,
    secs: i64,
) -> QueryResult<Option<NoticeRow>> {
    let claimed = diesel::update(
        notices::table.find(id).filter(
            notices::status
                .eq("pending")
                .and(notices::next_attempt_at.le(now))
                .or(notices::status
                    .eq("sending")
                    .and(notices::lease_until.lt(now))),
        ),
    )
    .set((
        notices::status.eq("sending"),
        notices::lease_until.eq(now + Duration::seconds(secs)),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(None);
    }
    notices::table
        .find(id)
        .select(NoticeRow::as_select())
        .first(conn)
        .optional()
}

/// Whether the reason for the notice still holds: the task is still open,
/// still due on the date the notice was about, and (for a signing reminder)
/// still not signed for; or the indicator's report is still not in.
fn still_owed(conn: &mut DbConnection, notice: &NoticeRow) -> QueryResult<bool> {
    if let (Some(indicator), Some(period)) = (notice.indicator_id, &notice.period) {
        // An indicator report: owed while no value for the period is in.
        let reported: i64 = crate::db::schema::indicator_values::table
            .filter(crate::db::schema::indicator_values::indicator_id.eq(indicator))
            .filter(crate::db::schema::indicator_values::period.eq(period))
            .filter(crate::db::schema::indicator_values::status.ne("returned"))
            .count()
            .get_result(conn)?;
        return Ok(reported == 0);
    }
    let Some(task_id) = notice.task_id else {
        return Ok(true);
    };
    let task: Option<(String, Option<chrono::NaiveDate>)> = tasks::table
        .find(task_id)
        .select((tasks::status, tasks::due_date))
        .first(conn)
        .optional()?;
    let Some((status, due)) = task else {
        return Ok(false);
    };
    let open = status == TaskStatus::Assigned.as_str() || status == TaskStatus::InProgress.as_str();
    Ok(match notice.step.as_str() {
        "accept_overdue" => status == TaskStatus::Assigned.as_str(),
        "report_missing" => open,
        step if Step::parse(step).is_some() => open && due == notice.due_date,
        _ => open,
    })
}

fn finish(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    error: Option<String>,
    sent_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::update(notices::table.find(id))
        .set((
            notices::status.eq(status),
            notices::last_error.eq(error),
            notices::sent_at.eq(sent_at),
            notices::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(())
}

/// The unit's robot, if it has one and is active.
fn unit_robot(conn: &mut DbConnection, unit: Option<i64>) -> QueryResult<Option<robots::Robot>> {
    let Some(unit) = unit else { return Ok(None) };
    type RobotColumns = (bool, Option<String>, Option<String>, Option<String>);
    let row: Option<RobotColumns> = units::table
        .find(unit)
        .select((
            units::active,
            units::webhook_kind,
            units::webhook_url,
            units::webhook_secret,
        ))
        .first(conn)
        .optional()?;
    Ok(match row {
        Some((true, Some(kind), Some(url), secret)) => Some(robots::Robot { kind, url, secret }),
        _ => None,
    })
}

/// The bulletin a notice carries, as a printable HTML page and a workbook.
/// A published bulletin never changes, so a resend attaches the same files.
fn bulletin_attachments(
    conn: &mut DbConnection,
    settings: &Settings,
    id: i64,
) -> anyhow::Result<Vec<crate::mail::Attachment>> {
    use crate::http::download::Format;
    use crate::render::bulletin;
    let row = crate::bulletins::find(conn, id)?
        .ok_or_else(|| anyhow::anyhow!("bulletin {id} is gone"))?;
    let snapshot = row.snapshot().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let lang = crate::domain::message::Lang::from_accept_language(&settings.notice_language);
    let name = bulletin::file_name(&row);
    [Format::Html, Format::Xlsx]
        .into_iter()
        .map(|format| {
            Ok(crate::mail::Attachment {
                filename: format!("{name}.{}", format.extension()),
                content_type: format.content_type().to_string(),
                bytes: bulletin::file_bytes(&row, &snapshot, format, lang)?,
            })
        })
        .collect()
}

fn webhook_client(settings: &Settings) -> anyhow::Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(settings.smtp_timeout_secs))
        .build()?)
}

/// One delivery round over the notices due at `now`. A failure on one notice
/// is recorded on it and does not stop the others.
pub fn deliver(
    pool: &DbPool,
    mailer: &Mailer,
    settings: &Settings,
    now: NaiveDateTime,
) -> anyhow::Result<DeliveryCounts> {
    let mut counts = DeliveryCounts::default();
    let (ids, calendar) = {
        let mut conn = pool.get()?;
        (
            due_ids(&mut conn, now)?,
            crate::holidays::calendar(&mut conn)?,
        )
    };
    for id in ids {
        let mut conn = pool.get()?;
        let Some(notice) = conn.write(|c| claim(c, id, now, claim_secs(settings)))? else {
            continue;
        };
        if !still_owed(&mut conn, &notice)? {
            finish(
                &mut conn,
                id,
                "cancelled",
                Some("the task was completed, cancelled or extended, or the report came in".into()),
                None,
            )?;
            counts.cancelled += 1;
            continue;
        }
        let robot = if notice.channel == "webhook" {
            match unit_robot(&mut conn, notice.unit_id)? {
                Some(robot) => Some(robot),
                None => {
                    finish(
                        &mut conn,
                        id,
                        "cancelled",
                        Some("the unit has no active robot any more".into()),
                        None,
                    )?;
                    counts.cancelled += 1;
                    continue;
                }
            }
        } else {
            None
        };
        let attachments = match notice.bulletin_id {
            Some(b) => bulletin_attachments(&mut conn, settings, b)?,
            None => Vec::new(),
        };
        // The connection goes back to the pool while the other side talks.
        drop(conn);
        let outcome = match &robot {
            Some(robot) => {
                let client = webhook_client(settings)?;
                robots::post(
                    &client,
                    robot,
                    &notice,
                    chrono::Utc::now().timestamp_millis(),
                )
                .map(|()| Vec::new())
            }
            None => mailer.send(&Outgoing {
                message_id: notice.message_id.clone(),
                to: serde_json::from_str(&notice.recipients).unwrap_or_default(),
                subject: notice.subject.clone(),
                text: notice.body_text.clone(),
                html: notice.body_html.clone(),
                attachments,
            }),
        };
        let mut conn = pool.get()?;
        let attempts = notice.attempts + 1;
        match outcome {
            Ok(invalid) => {
                let note = (!invalid.is_empty())
                    .then(|| format!("invalid addresses left out: {}", invalid.join(", ")));
                diesel::update(notices::table.find(id))
                    .set(notices::attempts.eq(attempts))
                    .execute(&mut conn)?;
                finish(&mut conn, id, "sent", note, Some(now))?;
                counts.sent += 1;
            }
            Err(SendError::Permanent(e)) => {
                diesel::update(notices::table.find(id))
                    .set(notices::attempts.eq(attempts))
                    .execute(&mut conn)?;
                finish(&mut conn, id, "dead", Some(e), None)?;
                counts.dead += 1;
            }
            Err(SendError::Retry(e)) if attempts >= settings.delivery_max_attempts => {
                diesel::update(notices::table.find(id))
                    .set(notices::attempts.eq(attempts))
                    .execute(&mut conn)?;
                finish(
                    &mut conn,
                    id,
                    "dead",
                    Some(format!("gave up after {attempts} attempts: {e}")),
                    None,
                )?;
                counts.dead += 1;
            }
            Err(SendError::Retry(e)) => {
                let jitter = rand::thread_rng().gen_range(-0.2..=0.2);
                let next = super::next_open(
                    settings,
                    &calendar,
                    now + backoff(settings.delivery_backoff_secs, attempts, jitter),
                )?;
                diesel::update(notices::table.find(id))
                    .set((
                        notices::status.eq("pending"),
                        notices::attempts.eq(attempts),
                        notices::next_attempt_at.eq(next),
                        notices::lease_until.eq(None::<NaiveDateTime>),
                        notices::last_error.eq(e),
                    ))
                    .execute(&mut conn)?;
                counts.retried += 1;
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(60, 1, 0.0), Duration::seconds(60));
        assert_eq!(backoff(60, 2, 0.0), Duration::seconds(120));
        assert_eq!(backoff(60, 4, 0.0), Duration::seconds(480));
        assert_eq!(backoff(60, 30, 0.0), Duration::seconds(6 * 3600));
    }

    proptest! {
        #[test]
        fn backoff_stays_within_the_jitter_band(attempts in 1i32..40, jitter in -1.0f64..1.0) {
            let plain = backoff(60, attempts, 0.0).num_seconds() as f64;
            let jittered = backoff(60, attempts, jitter).num_seconds() as f64;
            prop_assert!(jittered >= (plain * 0.8).floor() && jittered <= (plain * 1.2).ceil());
        }
    }
}
