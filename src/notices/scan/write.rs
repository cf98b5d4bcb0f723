//! Writing what the passes want into the outbox. Notices go in batches: the
//! keys already written are looked up a few hundred at a time (a rescan
//! with nothing new stops there), and the rest are written a few hundred
//! rows a transaction: one multi-row INSERT of the notices and their robot
//! copies that skips keys already there (`ON CONFLICT DO NOTHING`, no
//! rollback), one UPDATE for their Message-IDs, one INSERT for their
//! timeline events. A 督办 notice issues its supervision order (督办单) and
//! the last rung proposes accountability in the batch's transaction, before
//! the notices (the batch's orders numbered by one counter UPDATE and
//! written by one INSERT, its proposals by another), so each email is
//! rendered once, with its order's number or its proposal's link. A digest
//! (a unit's or a follower's) is written on its own.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::context::{Context, Wanted};
use super::ScanCounts;
use crate::db::schema::notices;
use crate::db::{self, DbConnection};
use crate::domain::kinds::{Channel, NoticeStatus};
use crate::domain::notice_step::NoticeStep;
use crate::domain::{IndicatorId, InstructionId, NoticeId, OrderId, TaskId, UnitId};
use crate::mail::templates::{task_notice, TaskFacts};
use crate::tasks::events::{self, NewEvent};

/// What a notice is about: a task, or an indicator's report for a period.
pub(in crate::notices) struct About {
    pub task_id: Option<TaskId>,
    /// (indicator id, period label)
    pub indicator: Option<(IndicatorId, String)>,
    /// The instruction (批示) a notice is about, kept in its own column.
    pub instruction: Option<InstructionId>,
    pub lead_unit: UnitId,
    pub due: Option<NaiveDate>,
    /// For an accountability proposal: the tasks concerned and why.
    pub task_ids: Vec<i64>,
    pub reason: String,
}

/// The supervision order (督办单) a 督办 notice issues with itself.
pub(in crate::notices) struct OrderWanted {
    pub requirement: String,
    pub reply_by: NaiveDate,
    /// The local year it is numbered in.
    pub year: i32,
}

#[derive(Clone, Insertable)]
#[diesel(table_name = notices)]
// None is NULL, not DEFAULT: SQLite has no DEFAULT in a multi-row VALUES,
// and diesel would insert such rows one by one.
#[diesel(treat_none_as_default_value = false)]
struct NewNotice<'a> {
    task_id: Option<TaskId>,
    indicator_id: Option<IndicatorId>,
    period: Option<&'a str>,
    instruction_id: Option<InstructionId>,
    unit_id: Option<UnitId>,
    step: NoticeStep,
    due_date: Option<NaiveDate>,
    dedupe_key: &'a str,
    recipients: &'a str,
    subject: &'a str,
    body_text: &'a str,
    body_html: &'a str,
    status: NoticeStatus,
    last_error: Option<&'a str>,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
    channel: Channel,
    supervision_order_id: Option<OrderId>,
}

/// Dedupe keys per lookup of those already written.
const KEYS_PER_LOOKUP: usize = 500;

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// The outbox state of a new notice: sent by email unless nobody would get
/// it, which the digest explains or which is a dead end.
fn initial_status(w: &Wanted) -> (NoticeStatus, Option<&'static str>) {
    if w.recipients.is_empty() && w.digested {
        (
            NoticeStatus::Cancelled,
            Some("included in the unit's daily digest"),
        )
    } else if w.recipients.is_empty() {
        (
            NoticeStatus::Dead,
            Some("no recipients: the units and people concerned have no active address"),
        )
    } else {
        (NoticeStatus::Pending, None)
    }
}

/// One notice a pass wants, with what its email says and, for a 督办 step,
/// the supervision order it issues.
pub(in crate::notices) struct Item {
    pub about: About,
    pub wanted: Wanted,
    pub facts: TaskFacts,
    pub order: Option<OrderWanted>,
}

/// An [`Item`] borrowed: what `write_notice_with` is given.
#[derive(Clone, Copy)]
struct ItemRef<'a> {
    about: &'a About,
    wanted: &'a Wanted,
    facts: &'a TaskFacts,
    order: Option<&'a OrderWanted>,
}

impl Item {
    fn as_ref(&self) -> ItemRef<'_> {
        ItemRef {
            about: &self.about,
            wanted: &self.wanted,
            facts: &self.facts,
            order: self.order.as_ref(),
        }
    }
}

impl ItemRef<'_> {
    /// Whether writing it takes work of its own: issuing its supervision
    /// order or proposing accountability, whose record the email names.
    fn issues_a_record(&self) -> bool {
        self.wanted.propose || (self.order.is_some() && self.about.task_id.is_some())
    }
}

/// Those of `items` whose notices are not written yet, looked up a few
/// hundred keys a query; the others are counted as existing. A rescan with
/// nothing new stops here, before rendering anything.
pub(super) fn absent(
    conn: &mut DbConnection,
    items: Vec<Item>,
    counts: &mut ScanCounts,
) -> QueryResult<Vec<Item>> {
    let keys: Vec<&str> = items.iter().map(|i| i.wanted.dedupe_key.as_str()).collect();
    let there = written(conn, &keys)?;
    let (old, new): (Vec<Item>, Vec<Item>) = items
        .into_iter()
        .partition(|i| there.contains(&i.wanted.dedupe_key));
    counts.existing += old.len();
    Ok(new)
}

/// Writes `items` in batches of `ctx.batch_rows` rows (a notice and its
/// robot copies; `scan_batch_rows`, checked to keep a statement under
/// SQLite's limit of bound values), one transaction each, so a scan killed
/// mid-way keeps what it committed,
/// in their order, and counts them: created, or written meanwhile by
/// another scan (the insert skips a key already there).
pub(super) fn write_all(
    conn: &mut DbConnection,
    ctx: &Context,
    items: &[Item],
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let mut start = 0;
    while start < items.len() {
        let (mut end, mut rows) = (start, 0);
        while end < items.len() {
            let more = 1 + items[end].wanted.robots.len();
            if end > start && rows + more > ctx.batch_rows {
                break;
            }
            rows += more;
            end += 1;
        }
        let batch: Vec<ItemRef> = items[start..end].iter().map(Item::as_ref).collect();
        let created = match conn.write(|c| write_batch(c, ctx, &batch)) {
            // Another scan wrote some of them meanwhile, one carrying an
            // order or a proposal: the batch was taken back; each on its
            // own, then.
            Err(diesel::result::Error::RollbackTransaction) => batch
                .iter()
                .map(|item| write_one(conn, ctx, *item))
                .collect::<anyhow::Result<_>>()?,
            other => other?,
        };
        for c in created {
            counts.tally(c);
        }
        start = end;
    }
    Ok(())
}

/// Writes those of `items` not written yet: `absent`, then `write_all`.
pub(super) fn write_owed(
    conn: &mut DbConnection,
    ctx: &Context,
    items: Vec<Item>,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let items = absent(conn, items, counts)?;
    write_all(conn, ctx, &items, counts)
}

/// The dedupe key of a notice's copy for a unit's robot.
fn robot_key(key: &str, unit: UnitId) -> String {
    format!("{key}:robot:{unit}")
}

/// Renders a notice's email. The templates were all rendered at start-up,
/// so this fails only on a defect; the batch then rolls back rather than
/// send a blank.
fn render(facts: &TaskFacts, ctx: &Context) -> QueryResult<(String, String, String)> {
    task_notice(facts, ctx.lang).map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))
}

/// Writes `items` in the caller's transaction: first the records some of
/// them carry (their supervision orders in one numbering and one INSERT,
/// their accountability proposals), so that every email is rendered once,
/// with its order's number and its proposal's link; then their notices and robot copies in one
/// multi-row INSERT that skips keys already written, their Message-IDs in
/// one UPDATE, their timeline events in one INSERT. Whether each was
/// written now, in order. Fails with `RollbackTransaction` when a notice
/// carrying a record was written meanwhile by another scan: the rollback
/// takes back its order and its number.
fn write_batch(
    conn: &mut DbConnection,
    ctx: &Context,
    items: &[ItemRef],
) -> QueryResult<Vec<bool>> {
    let now = ctx.clock.now;
    let records = records(conn, ctx, items)?;
    let rendered: Vec<(String, String, String)> = items
        .iter()
        .zip(&records)
        .map(|(i, r)| match r.facts(i.facts) {
            Some(facts) => render(&facts, ctx),
            None => render(i.facts, ctx),
        })
        .collect::<QueryResult<_>>()?;
    let recipients: Vec<String> = items
        .iter()
        .map(|i| json_list(&i.wanted.recipients))
        .collect();
    let robot_keys: Vec<Vec<(UnitId, String)>> = items
        .iter()
        .map(|i| {
            let w = i.wanted;
            w.robots
                .iter()
                .map(|u| (*u, robot_key(&w.dedupe_key, *u)))
                .collect()
        })
        .collect();
    let mut rows: Vec<NewNotice> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let (about, w) = (item.about, item.wanted);
        let (status, error) = initial_status(w);
        let (subject, text, html) = &rendered[n];
        let email = NewNotice {
            task_id: about.task_id,
            indicator_id: about.indicator.as_ref().map(|i| i.0),
            period: about.indicator.as_ref().map(|i| i.1.as_str()),
            instruction_id: about.instruction,
            unit_id: Some(about.lead_unit),
            step: w.step,
            due_date: about.due,
            dedupe_key: &w.dedupe_key,
            recipients: &recipients[n],
            subject,
            body_text: text,
            body_html: html,
            status,
            last_error: error,
            next_attempt_at: ctx.send_at,
            created_at: now,
            channel: Channel::Email,
            supervision_order_id: records[n].issued.map(|i| i.id),
        };
        // The same notice for each unit robot, right after it.
        let copies: Vec<NewNotice> = robot_keys[n]
            .iter()
            .map(|(unit, key)| NewNotice {
                unit_id: Some(*unit),
                dedupe_key: key,
                recipients: "[]",
                status: NoticeStatus::Pending,
                last_error: None,
                channel: Channel::Webhook,
                ..email.clone()
            })
            .collect();
        rows.push(email);
        rows.extend(copies);
    }
    let inserted = insert_new(conn, &rows)?;
    let raced = items
        .iter()
        .any(|i| i.issues_a_record() && !inserted.contains_key(&i.wanted.dedupe_key));
    if raced {
        return Err(diesel::result::Error::RollbackTransaction);
    }
    let ids: Vec<NoticeId> = inserted.values().copied().collect();
    super::super::set_message_ids(conn, &ids, &ctx.mail_domain)?;
    let mut created = Vec::with_capacity(items.len());
    let mut timeline = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let Some(&id) = inserted.get(&item.wanted.dedupe_key) else {
            created.push(false);
            continue;
        };
        created.push(true);
        if let Some(task_id) = item.about.task_id {
            let w = item.wanted;
            let issued = records[n].issued;
            let data = serde_json::json!({
                "notice_id": id, "step": w.step, "recipients": w.recipients,
                "order_id": issued.map(|i| i.id), "order": issued.map(|i| i.title()),
            });
            timeline.push(NewEvent {
                task_id,
                kind: w.event_kind,
                actor: None,
                unit_id: Some(item.about.lead_unit),
                note: Some(rendered[n].0.clone()),
                data: Some(data),
            });
        }
    }
    events::record_all(conn, &timeline, now)?;
    Ok(created)
}

/// What a notice's records add to its email: the supervision order it
/// issues, the accountability proposal it links to.
#[derive(Default)]
struct Records {
    issued: Option<crate::orders::Issued>,
    link: Option<String>,
}

impl Records {
    /// The notice's facts with its records named; None when it has none.
    fn facts(&self, facts: &TaskFacts) -> Option<TaskFacts> {
        if self.issued.is_none() && self.link.is_none() {
            return None;
        }
        let mut facts = facts.clone();
        if let Some(i) = &self.issued {
            facts.order = Some(i.title());
            facts.reply_by = Some(i.reply_by);
        }
        if let Some(link) = &self.link {
            facts.link = link.clone();
        }
        Some(facts)
    }
}

/// Issues the supervision orders of `items` (numbered in their order, one
/// statement for all) and proposes their accountability (one statement for
/// all), in the caller's transaction: each item's records.
fn records(conn: &mut DbConnection, ctx: &Context, items: &[ItemRef]) -> QueryResult<Vec<Records>> {
    let now = ctx.clock.now;
    let mut out: Vec<Records> = items.iter().map(|_| Records::default()).collect();
    let (mut which, mut drafts) = (Vec::new(), Vec::new());
    for (n, item) in items.iter().enumerate() {
        if let (Some(o), Some(task_id)) = (item.order, item.about.task_id) {
            which.push(n);
            drafts.push(crate::orders::Draft {
                task_id,
                requirement: &o.requirement,
                reply_by: o.reply_by,
                created_by: None,
                year: o.year,
            });
        }
    }
    let issued = crate::orders::issue_all(conn, &drafts, now)?;
    for (n, issued) in which.into_iter().zip(issued) {
        out[n].issued = Some(issued);
    }
    let (mut which, mut proposals) = (Vec::new(), Vec::new());
    for (n, item) in items.iter().enumerate() {
        let (about, w) = (item.about, item.wanted);
        if w.propose {
            which.push(n);
            proposals.push(crate::accountability::Proposal {
                unit_id: about.lead_unit.0,
                task_ids: &about.task_ids,
                reason: &about.reason,
                dedupe_key: &w.dedupe_key,
            });
        }
    }
    let records = crate::accountability::propose_all(conn, &proposals, now)?;
    for (n, record) in which.into_iter().zip(records) {
        out[n].link = Some(ctx.link(&format!("/accountability/{record}")));
    }
    Ok(out)
}

/// Inserts `rows`, skipping those whose dedupe key is already written (by
/// an earlier scan, or by another one at the same instant, which this
/// insert waits for on PostgreSQL): the ids of those inserted, by key.
/// They are counted in `notice_days` in the same transaction.
fn insert_new(
    conn: &mut DbConnection,
    rows: &[NewNotice],
) -> QueryResult<HashMap<String, NoticeId>> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let got: Vec<(NoticeId, String)> = db::per_backend!(conn, c => diesel::insert_into(notices::table)
        .values(rows)
        .on_conflict(notices::dedupe_key)
        .do_nothing()
        .returning((notices::id, notices::dedupe_key))
        .get_results(c))?;
    let got: HashMap<String, NoticeId> = got.into_iter().map(|(id, key)| (key, id)).collect();
    crate::notices::days::created(
        conn,
        rows.iter()
            .filter(|r| got.contains_key(r.dedupe_key))
            .map(|r| (r.created_at, r.status == NoticeStatus::Cancelled)),
    )?;
    Ok(got)
}

/// Writes one notice, its robot copies and its event; false when it already
/// existed. An accountability proposal is written in the same transaction.
pub(in crate::notices) fn write_notice(
    conn: &mut DbConnection,
    ctx: &Context,
    about: &About,
    w: &Wanted,
    facts: &TaskFacts,
) -> anyhow::Result<bool> {
    write_notice_with(conn, ctx, about, w, facts, None)
}

/// `write_notice`, and with `order` the supervision order the notice
/// carries, issued (numbered) in the same transaction: a notice that was
/// already there issues none. In the caller's transaction if there is one.
pub(in crate::notices) fn write_notice_with(
    conn: &mut DbConnection,
    ctx: &Context,
    about: &About,
    w: &Wanted,
    facts: &TaskFacts,
    order: Option<&OrderWanted>,
) -> anyhow::Result<bool> {
    let item = ItemRef {
        about,
        wanted: w,
        facts,
        order,
    };
    write_one(conn, ctx, item)
}

/// Writes one item in a transaction of its own (a savepoint of the
/// caller's): whether it was written now.
fn write_one(conn: &mut DbConnection, ctx: &Context, item: ItemRef) -> anyhow::Result<bool> {
    let result = conn.write(|conn| write_batch(conn, ctx, &[item]));
    settle(result.map(|created| created.first().copied().unwrap_or(false)))
}

/// A daily digest to write: a unit's, or a follower's (no unit).
pub(super) struct Digest {
    pub step: NoticeStep,
    pub unit_id: Option<UnitId>,
    pub recipients: Vec<String>,
    pub key: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Which of `keys` are written already, a few hundred a query.
pub(super) fn written(conn: &mut DbConnection, keys: &[&str]) -> QueryResult<HashSet<String>> {
    let mut there = HashSet::new();
    for chunk in keys.chunks(KEYS_PER_LOOKUP) {
        there.extend(written_among(chunk).load::<String>(conn)?);
    }
    Ok(there)
}

/// Those of `keys` written already: a seek of the notices' unique key each.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn written_among<'a>(keys: &'a [&'a str]) -> _ {
    notices::table
        .filter(notices::dedupe_key.eq_any(keys))
        .select(notices::dedupe_key)
}

/// Writes `digests` `ctx.batch_rows` a transaction (one INSERT skipping keys
/// written meanwhile, one UPDATE for their Message-IDs) and counts them.
pub(super) fn write_digests(
    conn: &mut DbConnection,
    ctx: &Context,
    digests: &[Digest],
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    for chunk in digests.chunks(ctx.batch_rows) {
        let recipients: Vec<String> = chunk.iter().map(|d| json_list(&d.recipients)).collect();
        let rows: Vec<NewNotice> = chunk
            .iter()
            .zip(&recipients)
            .map(|(d, recipients)| NewNotice {
                task_id: None,
                indicator_id: None,
                period: None,
                instruction_id: None,
                unit_id: d.unit_id,
                step: d.step,
                due_date: None,
                dedupe_key: &d.key,
                recipients,
                subject: &d.subject,
                body_text: &d.text,
                body_html: &d.html,
                status: NoticeStatus::Pending,
                last_error: None,
                next_attempt_at: ctx.send_at,
                created_at: ctx.clock.now,
                channel: Channel::Email,
                supervision_order_id: None,
            })
            .collect();
        let inserted = conn.write(|c| -> QueryResult<_> {
            let inserted = insert_new(c, &rows)?;
            let ids: Vec<NoticeId> = inserted.values().copied().collect();
            super::super::set_message_ids(c, &ids, &ctx.mail_domain)?;
            Ok(inserted)
        })?;
        for d in chunk {
            counts.tally(inserted.contains_key(&d.key));
        }
    }
    Ok(())
}

/// A notice written by another scan at the same instant is there already
/// (and the order this one would have issued was taken back with it).
fn settle(result: QueryResult<bool>) -> anyhow::Result<bool> {
    match result {
        Ok(created) => Ok(created),
        Err(diesel::result::Error::RollbackTransaction) => Ok(false),
        Err(e) if db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
