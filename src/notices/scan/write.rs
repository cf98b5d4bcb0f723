//! Writing what the passes want into the outbox: a notice with its robot
//! copies, its accountability proposal and its timeline event in one
//! transaction, or a digest (a unit's or a follower's). Each is looked up by its dedupe key
//! first and written only when absent; false when it was already there. A
//! 督办 notice issues its supervision order (督办单) in its transaction too.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::context::{Context, Wanted};
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
struct NewNotice<'a> {
    task_id: Option<TaskId>,
    indicator_id: Option<IndicatorId>,
    period: Option<&'a str>,
    instruction_id: Option<InstructionId>,
    unit_id: Option<UnitId>,
    step: NoticeStep,
    due_date: Option<NaiveDate>,
    dedupe_key: &'a str,
    recipients: String,
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

/// Inserts a notice and gives it the Message-ID derived from its id.
fn insert(conn: &mut DbConnection, notice: &NewNotice, domain: &str) -> QueryResult<NoticeId> {
    let id: NoticeId = diesel::insert_into(notices::table)
        .values(notice)
        .returning(notices::id)
        .get_result(conn)?;
    diesel::update(notices::table.find(id))
        .set(notices::message_id.eq(super::super::message_id(id.0, domain)))
        .execute(conn)?;
    Ok(id)
}

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

/// Writes one notice, its robot copies and its event; false when it already
/// existed. An accountability proposal is written first, in the same
/// transaction, because its notice links to the record, not to the task.
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
/// already there issues none, and a failed write gives its number back.
pub(in crate::notices) fn write_notice_with(
    conn: &mut DbConnection,
    ctx: &Context,
    about: &About,
    w: &Wanted,
    facts: &TaskFacts,
    order: Option<&OrderWanted>,
) -> anyhow::Result<bool> {
    let (status, error) = initial_status(w);
    let now = ctx.clock.now;
    let result = conn.write(|conn| -> QueryResult<bool> {
        if exists(conn, &w.dedupe_key)? {
            return Ok(false);
        }
        let issued = match (order, about.task_id) {
            (Some(o), Some(task_id)) => Some(crate::orders::issue(
                conn,
                &crate::orders::Draft {
                    task_id,
                    requirement: &o.requirement,
                    reply_by: o.reply_by,
                    created_by: None,
                    year: o.year,
                },
                now,
            )?),
            _ => None,
        };
        let with_order;
        let facts = match &issued {
            Some(i) => {
                with_order = TaskFacts {
                    order: Some(i.title()),
                    reply_by: Some(i.reply_by),
                    ..facts.clone()
                };
                &with_order
            }
            None => facts,
        };
        let proposal = if w.propose {
            let (unit, tasks) = (about.lead_unit, &about.task_ids);
            let record = crate::accountability::propose(
                conn,
                unit.0,
                tasks,
                &about.reason,
                &w.dedupe_key,
                now,
            )?;
            Some(TaskFacts {
                link: ctx.link(&format!("/accountability/{record}")),
                ..facts.clone()
            })
        } else {
            None
        };
        // The templates were all rendered at start-up, so this fails only on
        // a defect; it then rolls the notice back rather than send a blank.
        let (subject, text, html) = task_notice(proposal.as_ref().unwrap_or(facts), ctx.lang)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
        let email = NewNotice {
            task_id: about.task_id,
            indicator_id: about.indicator.as_ref().map(|i| i.0),
            period: about.indicator.as_ref().map(|i| i.1.as_str()),
            instruction_id: about.instruction,
            unit_id: Some(about.lead_unit),
            step: w.step,
            due_date: about.due,
            dedupe_key: &w.dedupe_key,
            recipients: json_list(&w.recipients),
            subject: &subject,
            body_text: &text,
            body_html: &html,
            status,
            last_error: error,
            next_attempt_at: ctx.send_at,
            created_at: now,
            channel: Channel::Email,
            supervision_order_id: issued.map(|i| i.id),
        };
        let id = insert(conn, &email, &ctx.mail_domain)?;
        // The same notice for each unit robot, written with it: all or none.
        for unit in &w.robots {
            let key = format!("{}:robot:{unit}", w.dedupe_key);
            let robot = NewNotice {
                unit_id: Some(*unit),
                dedupe_key: &key,
                recipients: "[]".into(),
                status: NoticeStatus::Pending,
                last_error: None,
                channel: Channel::Webhook,
                ..email.clone()
            };
            insert(conn, &robot, &ctx.mail_domain)?;
        }
        if let Some(task_id) = about.task_id {
            let data = serde_json::json!({
                "notice_id": id, "step": w.step, "recipients": w.recipients,
                "order_id": issued.map(|i| i.id), "order": issued.map(|i| i.title()),
            });
            let event = NewEvent {
                task_id,
                kind: w.event_kind,
                actor: None,
                unit_id: Some(about.lead_unit),
                note: Some(subject.clone()),
                data: Some(data),
            };
            events::record(conn, event, now)?;
        }
        Ok(true)
    });
    settle(result)
}

/// Writes a daily digest (a unit's, or a follower's with no unit); false
/// when it already existed.
pub(super) fn write_digest(
    conn: &mut DbConnection,
    ctx: &Context,
    (step, unit_id): (NoticeStep, Option<UnitId>),
    contacts: &[String],
    key: &str,
    (subject, text, html): (&str, &str, &str),
) -> anyhow::Result<bool> {
    let digest = NewNotice {
        task_id: None,
        indicator_id: None,
        period: None,
        instruction_id: None,
        unit_id,
        step,
        due_date: None,
        dedupe_key: key,
        recipients: json_list(contacts),
        subject,
        body_text: text,
        body_html: html,
        status: NoticeStatus::Pending,
        last_error: None,
        next_attempt_at: ctx.send_at,
        created_at: ctx.clock.now,
        channel: Channel::Email,
        supervision_order_id: None,
    };
    let result = conn.write(|conn| -> QueryResult<bool> {
        if exists(conn, key)? {
            return Ok(false);
        }
        insert(conn, &digest, &ctx.mail_domain)?;
        Ok(true)
    });
    settle(result)
}

/// A notice written by another scan at the same instant is there already.
fn settle(result: QueryResult<bool>) -> anyhow::Result<bool> {
    match result {
        Ok(created) => Ok(created),
        Err(e) if db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether the notice with this key is already written. Looked up before
/// inserting, so that a scan run again (after a crash, or by hand) does not
/// put a refused insert into the database log for every notice; two scans
/// at the same instant are still told apart by the unique key.
fn exists(conn: &mut DbConnection, dedupe_key: &str) -> QueryResult<bool> {
    let found: Option<i64> = notices::table
        .filter(notices::dedupe_key.eq(dedupe_key))
        .select(notices::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}
