//! The delivery worker: claims due notices with a lease, checks that their
//! reason still holds, sends them, and records the outcome. Failures are
//! retried with exponential backoff and jitter; a permanent failure, or too
//! many attempts, makes a notice `dead` with its last error kept.
//!
//! A claim reserves a few due notices at once (one commit), reads the
//! clock afresh and carries a token of its own; each notice's lease is
//! renewed right before it is sent when the claim has aged, and while the
//! send runs, so a live deliverer never loses a notice to another one
//! (another instance, or `duban deliver`) in the middle of a send; renewing
//! and recording the outcome succeed only for the claim that still holds
//! the notice. A round that is stopped gives back what it claimed and did
//! not send.
//!
//! Guarantee: a notice is never lost (it stays in the table until sent, dead
//! or cancelled). It can be sent twice only if the process dies between the
//! SMTP server's acceptance and the database commit (or the database stays
//! out of reach for longer than the lease at that moment); both copies then
//! carry the same Message-ID.

use std::time::Instant;

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use rand::Rng;
use serde::Serialize;

use super::{robots, NoticeRow};
use crate::config::Settings;
use crate::db::schema::{notices, tasks, units};
use crate::db::{DbConnection, DbPool};
use crate::domain::calendar::WorkCalendar;
use crate::domain::kinds::{Channel, NoticeStatus, ValueStatus, WebhookKind};
use crate::domain::notice_step::NoticeStep;
use crate::domain::task_state::TaskStatus;
use crate::domain::{BulletinId, InstructionId, NoticeId, UnitId};
use crate::heartbeat;
use crate::mail::{Mailer, Outgoing, SendError, Sender};

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub cancelled: usize,
}

impl DeliveryCounts {
    /// Counts a notice that ended this round in `status`.
    fn count(&mut self, status: NoticeStatus) {
        match status {
            NoticeStatus::Sent => self.sent += 1,
            NoticeStatus::Pending => self.retried += 1,
            NoticeStatus::Dead => self.dead += 1,
            NoticeStatus::Cancelled => self.cancelled += 1,
            // A claim never ends in `sending`.
            NoticeStatus::Sending => {}
        }
    }
}

/// How many due notices one query of a round reads. A round goes on
/// reading batches until none is due: the batch bounds memory and how stale
/// the list is, not how much a round sends.
const BATCH: i64 = 200;

/// The clock of a round: real time, shifted by how far the `now` the round
/// was asked for lies from the moment it started (tests run rounds hours
/// ahead). Every claim reads it afresh, so a lease counts from its claim.
struct RoundClock {
    offset: Duration,
}

impl RoundClock {
    fn new(now: NaiveDateTime) -> RoundClock {
        RoundClock {
            offset: now - Utc::now().naive_utc(),
        }
    }

    fn now(&self) -> NaiveDateTime {
        Utc::now().naive_utc() + self.offset
    }
}

/// A notice this deliverer holds: its id, the token of the claim and the
/// moment it was claimed (its lease runs from then).
struct Claim {
    id: NoticeId,
    token: String,
    claimed: Instant,
}

/// Delay before attempt `attempts + 1`: base·2^(attempts−1), at most 6 hours,
/// ±20 % jitter so that many failed notices do not retry in lockstep.
pub fn backoff(base_secs: i64, attempts: i32, jitter: f64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let secs = base_secs.max(1).saturating_mul(1i64 << exp).min(6 * 3600);
    let factor = 1.0 + jitter.clamp(-0.2, 0.2);
    Duration::seconds(((secs as f64) * factor).round() as i64)
}

/// Pending notices whose time has come, and notices whose deliverer's lease
/// lapsed.
#[diesel::dsl::auto_type(no_type_alias)]
fn due(now: NaiveDateTime) -> _ {
    let pending: NoticeStatus = NoticeStatus::Pending;
    let sending: NoticeStatus = NoticeStatus::Sending;
    notices::status
        .eq(pending)
        .and(notices::next_attempt_at.le(now))
        .or(notices::status
            .eq(sending)
            .and(notices::lease_until.lt(now)))
}

/// The next batch of due notices after `after`, in id order: a round walks
/// the ids forward once, so a notice put back for a retry, or held by
/// another deliverer, waits for the next round rather than being tried again
/// in this one.
fn due_ids(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    after: NoticeId,
) -> QueryResult<Vec<NoticeId>> {
    notices::table
        .filter(due(now))
        .filter(notices::id.gt(after))
        .select(notices::id)
        .order(notices::id.asc())
        .limit(BATCH)
        .load(conn)
}

/// The most due notices one claim reserves: one commit for several
/// notices, where a claim per notice made PostgreSQL wait for a flush per
/// notice twice (claim and outcome). A round starts with one and doubles
/// while sending is fast (see `deliver_while`); small, so that the lease of
/// the last one rarely needs renewing before its turn (each is renewed
/// right before it is sent when its claim has aged; see
/// `Round::deliver_one`).
const CLAIM_AT_ONCE: usize = 16;

/// Reserves those of `ids` that are still due for this deliverer for
/// `lease_secs` from `now`, under one token, in id order; a notice someone
/// else holds is left out. Of two deliverers claiming at once, the
/// condition in the UPDATE lets one through for each notice.
fn claim(
    conn: &mut DbConnection,
    ids: &[NoticeId],
    now: NaiveDateTime,
    lease_secs: i64,
) -> QueryResult<Vec<(NoticeRow, Claim)>> {
    let token = crate::secrets::random_hex(8);
    let claimed = diesel::update(
        notices::table
            .filter(notices::id.eq_any(ids))
            .filter(due(now)),
    )
    .set((
        notices::status.eq(NoticeStatus::Sending),
        notices::lease_until.eq(now + Duration::seconds(lease_secs)),
        notices::claim_token.eq(&token),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(Vec::new());
    }
    let rows = notices::table
        .filter(notices::id.eq_any(ids))
        .filter(notices::claim_token.eq(&token))
        .select(NoticeRow::as_select())
        .order(notices::id.asc())
        .load(conn)?;
    let at = Instant::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let claim = Claim {
                id: row.id,
                token: token.clone(),
                claimed: at,
            };
            (row, claim)
        })
        .collect())
}

/// Gives back claimed notices a round will not send (it was stopped): due
/// again at once, not after their lease. Those another deliverer took since
/// (their lease had lapsed) are not this claim's to give back.
fn release(conn: &mut DbConnection, claims: &[Claim]) -> QueryResult<()> {
    let Some(token) = claims.first().map(|c| c.token.clone()) else {
        return Ok(());
    };
    let ids: Vec<NoticeId> = claims.iter().map(|c| c.id).collect();
    diesel::update(
        notices::table
            .filter(notices::id.eq_any(ids))
            .filter(notices::status.eq(NoticeStatus::Sending))
            .filter(notices::claim_token.eq(token)),
    )
    .set((
        notices::status.eq(NoticeStatus::Pending),
        notices::lease_until.eq(None::<NaiveDateTime>),
        notices::claim_token.eq(None::<String>),
    ))
    .execute(conn)?;
    Ok(())
}

/// The notice `claim` names, while that claim still holds it.
#[diesel::dsl::auto_type(no_type_alias)]
fn claimed(id: NoticeId, token: String) -> _ {
    let sending: NoticeStatus = NoticeStatus::Sending;
    notices::table
        .find(id)
        .filter(notices::status.eq(sending))
        .filter(notices::claim_token.eq(token))
}

/// Extends the claim to `lease_secs` from `now`; false when another
/// deliverer has claimed the notice since (this one's lease had lapsed).
fn renew(
    conn: &mut DbConnection,
    claim: &Claim,
    now: NaiveDateTime,
    lease_secs: i64,
) -> QueryResult<bool> {
    let renewed = diesel::update(claimed(claim.id, claim.token.clone()))
        .set(notices::lease_until.eq(now + Duration::seconds(lease_secs)))
        .execute(conn)?;
    Ok(renewed == 1)
}

/// Whether the reason for the notice still holds: the task is still open,
/// still due on the date the notice was about, and (for a signing reminder)
/// still not signed for; or the indicator's report is still not in; or the
/// instruction still has no reply.
fn still_owed(conn: &mut DbConnection, notice: &NoticeRow) -> QueryResult<bool> {
    if let (Some(indicator), Some(period)) = (notice.indicator_id, &notice.period) {
        // An indicator report: owed while no value for the period is in.
        let reported: i64 = crate::db::schema::indicator_values::table
            .filter(crate::db::schema::indicator_values::indicator_id.eq(indicator))
            .filter(crate::db::schema::indicator_values::period.eq(period))
            .filter(crate::db::schema::indicator_values::status.ne(ValueStatus::Returned))
            .count()
            .get_result(conn)?;
        return Ok(reported == 0);
    }
    let Some(task_id) = notice.task_id else {
        return Ok(true);
    };
    let task: Option<(TaskStatus, Option<chrono::NaiveDate>)> = tasks::table
        .find(task_id)
        .select((tasks::status, tasks::due_date))
        .first(conn)
        .optional()?;
    let Some((status, due)) = task else {
        return Ok(false);
    };
    let open = matches!(status, TaskStatus::Assigned | TaskStatus::InProgress);
    if let Some(order) = order_of(notice) {
        if notice.supervision_order_id == Some(order) {
            // The 督办 email of an order issued by hand (`notices::tell`)
            // serves the order: news while the task is worked on or
            // awaits review, as a new instruction is.
            return Ok(open || status == TaskStatus::Submitted);
        }
        // A receipt chased: owed while the order has none.
        return Ok(open && unreceipted(conn, order)?);
    }
    if let Some(instruction) = notice.instruction_id {
        return Ok(match notice.step {
            // A new instruction is news while the unit still works on the task.
            NoticeStep::Instruction => open || status == TaskStatus::Submitted,
            // A reply chased: owed while the instruction has none.
            _ => open && unanswered(conn, instruction)?,
        });
    }
    Ok(match notice.step {
        NoticeStep::AcceptOverdue => status == TaskStatus::Assigned,
        NoticeStep::Ladder(_) => open && due == notice.due_date,
        _ => open,
    })
}

fn unanswered(conn: &mut DbConnection, id: InstructionId) -> QueryResult<bool> {
    use crate::db::schema::instructions;
    let open: i64 = instructions::table
        .find(id)
        .filter(instructions::reply_report_id.is_null())
        .count()
        .get_result(conn)?;
    Ok(open == 1)
}

/// The supervision order whose receipt a notice chases: its dedupe key
/// starts with `order:{id}:` (the scan's orders pass).
fn order_of(notice: &NoticeRow) -> Option<crate::domain::OrderId> {
    let rest = notice.dedupe_key.strip_prefix("order:")?;
    let id = rest.split(':').next()?.parse().ok()?;
    Some(crate::domain::OrderId(id))
}

fn unreceipted(conn: &mut DbConnection, id: crate::domain::OrderId) -> QueryResult<bool> {
    use crate::db::schema::supervision_orders as o;
    let open: i64 = o::table
        .find(id)
        .filter(o::reply_report_id.is_null())
        .count()
        .get_result(conn)?;
    Ok(open == 1)
}

/// How a claimed notice ends this attempt.
#[derive(AsChangeset)]
#[diesel(table_name = notices)]
struct Outcome {
    status: NoticeStatus,
    attempts: i32,
    next_attempt_at: Option<NaiveDateTime>,
    last_error: Option<Option<String>>,
    sent_at: Option<Option<NaiveDateTime>>,
    lease_until: Option<Option<NaiveDateTime>>,
    claim_token: Option<Option<String>>,
}

impl Outcome {
    fn new(status: NoticeStatus, attempts: i32, error: Option<String>) -> Outcome {
        Outcome {
            status,
            attempts,
            next_attempt_at: None,
            last_error: Some(error),
            sent_at: None,
            lease_until: Some(None),
            claim_token: Some(None),
        }
    }
}

/// Records the outcome if the claim still holds the notice; false otherwise.
fn finish(conn: &mut DbConnection, claim: &Claim, outcome: &Outcome) -> QueryResult<bool> {
    let finished = diesel::update(claimed(claim.id, claim.token.clone()))
        .set(outcome)
        .execute(conn)?;
    Ok(finished == 1)
}

/// The unit's robot, if it has one and is active.
fn unit_robot(conn: &mut DbConnection, unit: Option<UnitId>) -> QueryResult<Option<robots::Robot>> {
    let Some(unit) = unit else { return Ok(None) };
    type RobotColumns = (bool, Option<WebhookKind>, Option<String>, Option<String>);
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

fn webhook_client(settings: &Settings) -> anyhow::Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(settings.smtp_timeout_secs))
        .build()?)
}

/// The files a notice about a bulletin carries, by the bulletin's id
/// (`bulletins::publish::attachments`). The caller hands it in: publishing a
/// bulletin writes its notices through the outbox, so the outbox does not
/// import bulletins.
pub type Attach =
    fn(&mut DbConnection, &Settings, BulletinId) -> anyhow::Result<Vec<crate::mail::Attachment>>;

/// One delivery round over the notices due from `now` on: batch after batch
/// until none is due, over one connection to the mail server. A failure on
/// one notice is recorded on it and does not stop the others.
pub fn deliver(
    pool: &DbPool,
    mailer: &Mailer,
    settings: &Settings,
    attach: Attach,
    now: NaiveDateTime,
) -> anyhow::Result<DeliveryCounts> {
    deliver_while(pool, mailer, settings, attach, now, &mut || Ok(true))
}

/// A delivery round that asks `keep_going` before each claim and before
/// each claimed notice after the first, and stops when it answers false (the
/// scheduler renews its lease there, and stops when the lease went to
/// another instance or the process is stopping). It also stops when the send
/// window closes while it drains.
pub fn deliver_while(
    pool: &DbPool,
    mailer: &Mailer,
    settings: &Settings,
    attach: Attach,
    now: NaiveDateTime,
    keep_going: &mut dyn FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<DeliveryCounts> {
    let clock = RoundClock::new(now);
    let mut counts = DeliveryCounts::default();
    let calendar = crate::holidays::calendar(&mut *pool.get()?)?;
    let round = Round {
        pool,
        settings,
        attach,
        calendar: &calendar,
        clock: &clock,
    };
    // One connection to the mail server for the whole round (QUIT when the
    // sender is dropped, at the end of the round).
    let mut sender = mailer.sender();
    let mut after = NoticeId(0);
    let mut at_once = 1;
    loop {
        // The first batch goes as before; the ones after it only while the
        // window is still open.
        if after != NoticeId(0) && !round.window_open()? {
            tracing::info!("the send window closed during the delivery round");
            break;
        }
        let ids = due_ids(&mut *pool.get()?, clock.now(), after)?;
        let Some(last) = ids.last().copied() else {
            break;
        };
        let mut rest = &ids[..];
        while !rest.is_empty() {
            if !keep_going()? {
                tracing::info!("delivery round stopped before its end");
                return Ok(counts);
            }
            let (chunk, after_chunk) = rest.split_at(at_once.min(rest.len()));
            rest = after_chunk;
            let started = Instant::now();
            let claims = pool
                .get()?
                .write(|c| claim(c, chunk, clock.now(), round.lease_secs()))?;
            let mut claims = claims.into_iter();
            while let Some((notice, claim)) = claims.next() {
                round.deliver_one(&mut sender, notice, claim, &mut counts)?;
                if claims.len() > 0 && !keep_going()? {
                    tracing::info!("delivery round stopped before its end");
                    let rest: Vec<Claim> = claims.map(|(_, c)| c).collect();
                    release(&mut *pool.get()?, &rest)?;
                    return Ok(counts);
                }
            }
            // Claim more at once while a claim's notices go out well within
            // a heartbeat; one at a time again when the mail server is slow,
            // so that a claim never holds notices another deliverer could
            // be sending.
            at_once = if started.elapsed() < heartbeat::interval(round.lease_secs()) / 2 {
                (at_once * 2).min(CLAIM_AT_ONCE)
            } else {
                1
            };
        }
        after = last;
    }
    Ok(counts)
}

/// What a round needs for each notice.
struct Round<'a> {
    pool: &'a DbPool,
    settings: &'a Settings,
    attach: Attach,
    calendar: &'a WorkCalendar,
    clock: &'a RoundClock,
}

impl Round<'_> {
    fn lease_secs(&self) -> i64 {
        self.settings.delivery_lease_secs
    }

    /// Whether the round's clock stands inside the send window (a round
    /// that drains a long queue stops at its end like a tick would).
    fn window_open(&self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        Ok(super::next_open(self.settings, self.calendar, now)? <= now)
    }

    fn renew(&self, claim: &Claim) -> anyhow::Result<bool> {
        let mut conn = self.pool.get()?;
        Ok(renew(
            &mut conn,
            claim,
            self.clock.now(),
            self.lease_secs(),
        )?)
    }

    /// Checks, sends and records one claimed notice.
    fn deliver_one(
        &self,
        sender: &mut Sender<'_>,
        notice: NoticeRow,
        claim: Claim,
        counts: &mut DeliveryCounts,
    ) -> anyhow::Result<()> {
        let id = claim.id;
        let mut conn = self.pool.get()?;
        let via = match self.via(&mut conn, &notice)? {
            Ok(via) => via,
            Err(Cancelled(why)) => {
                let outcome =
                    Outcome::new(NoticeStatus::Cancelled, notice.attempts, Some(why.into()));
                // Counted in its creation day's tally in the same commit.
                let cancelled = conn.write(|c| -> QueryResult<bool> {
                    let done = finish(c, &claim, &outcome)?;
                    if done {
                        super::days::cancelled(c, notice.created_at)?;
                    }
                    Ok(done)
                })?;
                if cancelled {
                    counts.count(outcome.status);
                }
                return Ok(());
            }
        };
        let mut attachments = match notice.bulletin_id {
            Some(b) => (self.attach)(&mut conn, self.settings, b)?,
            None => Vec::new(),
        };
        // A 督办 email carries its supervision order (督办单) as a page.
        if let (Some(order), Channel::Email) = (notice.supervision_order_id, notice.channel) {
            attachments.push(crate::orders::document::attachment(
                &mut conn,
                self.settings,
                order,
            )?);
        }
        // The connection goes back to the pool while the other side talks.
        drop(conn);
        // Right before sending: the claim is still this one's, and its lease
        // runs in full from now, when the checks above took long enough to
        // matter (attachments rendered); otherwise the claim is fresher than
        // the heartbeat would renew it, and the write is spared.
        let renewal = heartbeat::interval(self.lease_secs());
        if claim.claimed.elapsed() >= renewal / 2 && !self.renew(&claim)? {
            tracing::warn!(
                notice = id.0,
                "another deliverer claimed the notice before it was sent"
            );
            return Ok(());
        }
        let (sent, lost) = heartbeat::with_heartbeat(
            renewal,
            || self.renew(&claim),
            || self.send(sender, &notice, &via, attachments),
        );
        if lost {
            tracing::warn!(
                notice = id.0,
                "the claim on the notice lapsed while it was sent; it may be sent again"
            );
        }
        let outcome = self.outcome(sent, notice.attempts + 1)?;
        if self.record(&claim, &outcome, renewal)? {
            counts.count(outcome.status);
        }
        Ok(())
    }

    /// How the notice goes out, or why it should not any more: its reason
    /// has passed, or its unit's robot is gone.
    fn via(
        &self,
        conn: &mut DbConnection,
        notice: &NoticeRow,
    ) -> anyhow::Result<Result<Via, Cancelled>> {
        if !still_owed(conn, notice)? {
            return Ok(Err(Cancelled(
                "the task was completed, cancelled or extended, or the report came in",
            )));
        }
        Ok(match notice.channel {
            Channel::Email => Ok(Via::Email),
            Channel::Webhook => match unit_robot(conn, notice.unit_id)? {
                Some(robot) => Ok(Via::Robot(robot, webhook_client(self.settings)?)),
                None => Err(Cancelled("the unit has no active robot any more")),
            },
        })
    }

    /// One attempt: the mail server's or the robot's answer, with the
    /// addresses the mail server refused.
    fn send(
        &self,
        sender: &mut Sender<'_>,
        notice: &NoticeRow,
        via: &Via,
        attachments: Vec<crate::mail::Attachment>,
    ) -> Result<Vec<String>, SendError> {
        match via {
            Via::Robot(robot, client) => {
                robots::post(client, robot, notice, Utc::now().timestamp_millis())
                    .map(|()| Vec::new())
            }
            Via::Email => sender.send(&Outgoing {
                message_id: notice.message_id.clone(),
                to: serde_json::from_str(&notice.recipients).unwrap_or_default(),
                subject: notice.subject.clone(),
                text: notice.body_text.clone(),
                html: notice.body_html.clone(),
                attachments,
            }),
        }
    }

    /// What attempt number `attempts` comes to: sent, dead (refused for good,
    /// or the last attempt allowed failed) or pending again after a backoff
    /// that lands in the send window.
    fn outcome(
        &self,
        sent: Result<Vec<String>, SendError>,
        attempts: i32,
    ) -> anyhow::Result<Outcome> {
        let settings = self.settings;
        Ok(match sent {
            Ok(invalid) => {
                let note = (!invalid.is_empty())
                    .then(|| format!("invalid addresses left out: {}", invalid.join(", ")));
                let mut outcome = Outcome::new(NoticeStatus::Sent, attempts, note);
                outcome.sent_at = Some(Some(self.clock.now()));
                outcome
            }
            Err(SendError::Permanent(e)) => Outcome::new(NoticeStatus::Dead, attempts, Some(e)),
            Err(SendError::Retry(e)) if attempts >= settings.delivery_max_attempts => Outcome::new(
                NoticeStatus::Dead,
                attempts,
                Some(format!("gave up after {attempts} attempts: {e}")),
            ),
            Err(SendError::Retry(e)) => {
                let jitter = rand::thread_rng().gen_range(-0.2..=0.2);
                let next = super::next_open(
                    settings,
                    self.calendar,
                    self.clock.now() + backoff(settings.delivery_backoff_secs, attempts, jitter),
                )?;
                let mut outcome = Outcome::new(NoticeStatus::Pending, attempts, Some(e));
                outcome.next_attempt_at = Some(next);
                outcome
            }
        })
    }

    /// Records the outcome; false when another deliverer claimed the notice
    /// first. The lease was renewed at most one `renewal` ago, so for that
    /// long the notice is still this claim's: a database that is briefly out
    /// of reach does not make the message go out twice.
    fn record(
        &self,
        claim: &Claim,
        outcome: &Outcome,
        renewal: std::time::Duration,
    ) -> anyhow::Result<bool> {
        let id = claim.id;
        let deadline = Instant::now() + renewal;
        loop {
            let recorded = self
                .pool
                .get()
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| Ok(finish(&mut conn, claim, outcome)?));
            match recorded {
                Ok(true) => return Ok(true),
                Ok(false) => {
                    tracing::warn!(
                        notice = id.0,
                        "another deliverer claimed the notice before its outcome was recorded"
                    );
                    return Ok(false);
                }
                Err(e) if Instant::now() < deadline => {
                    tracing::warn!(notice = id.0, error = %format!("{e:#}"), "recording a delivery failed; trying again");
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                Err(e) => return Err(e.context(format!("recording the delivery of notice {id}"))),
            }
        }
    }
}

/// How a notice that is still owed goes out.
enum Via {
    Email,
    /// The unit's group robot, and the client that posts to it.
    Robot(robots::Robot, reqwest::blocking::Client),
}

/// Why a claimed notice is cancelled instead of sent (kept as its last error).
struct Cancelled(&'static str);

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
