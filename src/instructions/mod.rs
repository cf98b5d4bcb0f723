//! 批示 (instructions): a leader (or the office) writes an instruction on a
//! task the person sees, optionally with a date to reply by. It is written
//! with its timeline event, its audit entry and its notice to the lead unit
//! (`notices::tell::instruction`) in one transaction. The lead unit answers
//! it with a progress report marked as its reply (批示落实情况), recorded by
//! `tasks::reports::create` in the report's transaction; an instruction not
//! answered by its date climbs the ladder (`notices::scan`).

pub mod routes;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::config::Settings;
use crate::db::schema::{instructions, users};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::task_state::TaskStatus;
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::{InstructionId, Message, ReportId, TaskId, UserId};
use crate::error::{Conflict, Error, Result, TaskUse, Validator};
use crate::tasks::events::{self, NewEvent};
use crate::tasks::receipts::{Replies, ReplyView};
use crate::tasks::visibility::{self, InSight, Scope};

/// The longest instruction, in characters.
const MAX_BODY: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstruction {
    /// The instruction's text.
    pub body: String,
    /// YYYY-MM-DD, today or later: the lead unit replies by then, or the
    /// reply climbs the escalation ladder. None: no date.
    pub reply_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InstructionView {
    pub id: InstructionId,
    pub task_id: TaskId,
    pub author_id: UserId,
    pub author_name: String,
    pub body: String,
    pub reply_by: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    /// The report that answered it; None while it is open.
    pub reply: Option<ReplyView>,
    /// Not answered and its reply-by date has passed.
    pub overdue: bool,
}

/// Writes an instruction on task `id` and tells the lead unit.
pub fn create(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    req: CreateInstruction,
    clock: &Clock,
    settings: &Settings,
) -> Result<InstructionView> {
    auth.permit(Permission::Instruct)?;
    let mut v = Validator::default();
    let body = v.check("body", BoundedText::parse(&req.body, MAX_BODY));
    let reply_by = match req.reply_by.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => v.check("reply_by", reply_date(text, clock.today)),
    };
    let Some(body) = body else {
        return Err(v.into_error());
    };
    v.finish()?;
    let now = clock.now;
    conn.write(|conn| {
        // Visibility first: a task out of the person's sight is 404 whatever
        // its state, as everywhere.
        let task = visibility::lock_visible(conn, scope, id)?;
        let status = task.status;
        if !matches!(
            status,
            TaskStatus::Assigned | TaskStatus::InProgress | TaskStatus::Submitted
        ) {
            return Err(Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Instruction,
            }
            .into());
        }
        let new_id: InstructionId = diesel::insert_into(instructions::table)
            .values((
                instructions::task_id.eq(task.id),
                instructions::author_id.eq(auth.id),
                instructions::body.eq(body.as_str()),
                instructions::reply_by.eq(reply_by),
                instructions::created_at.eq(now),
            ))
            .returning(instructions::id)
            .get_result(conn)?;
        let data = serde_json::json!({ "instruction_id": new_id, "reply_by": reply_by });
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: "instructed",
                actor: Some(auth.id),
                unit_id: Some(task.lead_unit_id),
                note: Some(body.as_str().to_string()),
                data: Some(data.clone()),
            },
            now,
        )?;
        audit::record(
            conn,
            audit::Change {
                actor: Some(auth.id),
                action: "create",
                entity: "instruction",
                entity_id: Some(new_id.0),
                before: None,
                after: Some(serde_json::json!({
                    "task_id": task.id, "body": body.as_str(), "reply_by": reply_by,
                })),
            },
            now,
        )?;
        let author = author_name(conn, auth.id)?;
        let told = crate::notices::tell::Instruction {
            id: new_id,
            author: &author,
            body: body.as_str(),
            reply_by,
        };
        crate::notices::tell::instruction(conn, settings, &task, &told, clock)?;
        let mut list = load(conn, task.id, clock.today)?;
        list.retain(|i| i.id == new_id);
        list.pop().ok_or(Error::NotFound)
    })
}

/// A reply-by date: a real date, not before today.
fn reply_date(text: &str, today: NaiveDate) -> std::result::Result<NaiveDate, Message> {
    let date = parse_date(text)?;
    if date < today {
        return Err(Message::new(
            "回复期限不能早于今天",
            "the reply-by date cannot be before today",
        ));
    }
    Ok(date)
}

fn author_name(conn: &mut DbConnection, id: UserId) -> QueryResult<String> {
    users::table
        .find(id)
        .select(users::display_name)
        .first(conn)
}

/// The instructions on task `id`, newest first; 404 when out of sight.
pub fn list(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    today: NaiveDate,
) -> Result<Vec<InstructionView>> {
    let task = visibility::in_sight(conn, scope, id)?;
    list_in_sight(conn, auth, task, today)
}

/// `list` for a task already shown to be in sight.
pub fn list_in_sight(
    conn: &mut DbConnection,
    auth: &AuthUser,
    task: InSight,
    today: NaiveDate,
) -> Result<Vec<InstructionView>> {
    auth.permit(Permission::ReadTasks)?;
    Ok(load(conn, task.id(), today)?)
}

type Row = (
    InstructionId,
    UserId,
    String,
    String,
    Option<NaiveDate>,
    NaiveDateTime,
    Option<ReportId>,
    Option<NaiveDateTime>,
);

/// The task's instructions with their replies, newest first.
fn load(
    conn: &mut DbConnection,
    task: TaskId,
    today: NaiveDate,
) -> QueryResult<Vec<InstructionView>> {
    let rows: Vec<Row> = instructions::table
        .inner_join(users::table.on(users::id.eq(instructions::author_id)))
        .filter(instructions::task_id.eq(task))
        .select((
            instructions::id,
            instructions::author_id,
            users::display_name,
            instructions::body,
            instructions::reply_by,
            instructions::created_at,
            instructions::reply_report_id,
            instructions::replied_at,
        ))
        .order(instructions::id.desc())
        .load(conn)?;
    let replies = Replies::load(conn, rows.iter().filter_map(|r| r.6))?;
    Ok(rows
        .into_iter()
        .map(
            |(id, author_id, author_name, body, reply_by, created_at, report, replied_at)| {
                let reply = replies.view(report, replied_at);
                InstructionView {
                    overdue: reply.is_none() && reply_by.is_some_and(|d| d < today),
                    id,
                    task_id: task,
                    author_id,
                    author_name,
                    body,
                    reply_by,
                    created_at: created_at.and_utc(),
                    reply,
                }
            },
        )
        .collect())
}
