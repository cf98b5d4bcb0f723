//! Progress reports (进展反馈): the lead unit and each cooperating unit report
//! their part; the lead unit's latest percent is the task's progress. A lead
//! unit's report may answer an instruction (批示落实情况), recorded on the
//! instruction in the report's transaction; likewise the receipt (回执) of a
//! supervision order (`receipts`).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::visibility::{self, Scope};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::{instructions, progress_reports, tasks};
use crate::db::DbConnection;
use crate::domain::task_state::TaskStatus;
use crate::domain::values::BoundedText;
use crate::domain::{InstructionId, Message, OrderId, ReportId, TaskId, UnitId, UserId};
use crate::error::Validator;
use crate::error::{Conflict, Error, Result, TaskUse};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    /// 0–100: how far the reporting unit's part is done.
    pub percent: i32,
    pub body: String,
    /// The instruction (批示) this report answers (批示落实情况): lead unit
    /// only, once per instruction.
    pub instruction_id: Option<InstructionId>,
    /// The supervision order (督办单) this report answers (its receipt,
    /// 回执): lead unit only, once per order.
    pub order_id: Option<OrderId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: ReportId,
    pub task_id: TaskId,
    pub unit_id: UnitId,
    /// lead or cooperating
    pub role: &'static str,
    pub author_id: UserId,
    pub percent: i32,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// The instruction (批示) this report answers, if it does.
    pub instruction_id: Option<InstructionId>,
    /// The supervision order (督办单) this report is the receipt of, if it is.
    pub order_id: Option<OrderId>,
}

pub fn create(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    req: CreateReport,
    now: NaiveDateTime,
) -> Result<ReportView> {
    auth.permit(Permission::ActForUnit)?;
    let mut v = Validator::default();
    if !(0..=100).contains(&req.percent) {
        v.add(
            "percent",
            Message::new("进度必须在 0 到 100 之间", "must be between 0 and 100"),
        );
    }
    let body = v.check("body", BoundedText::parse(&req.body, 5000));
    let Some(body) = body else {
        return Err(v.into_error());
    };
    v.finish()?;
    let unit = auth.unit_id.ok_or(Error::Forbidden)?;
    conn.write(|conn| {
        let task = visibility::lock_visible(conn, scope, id)?;
        let status = task.status;
        if !matches!(
            status,
            TaskStatus::Assigned | TaskStatus::InProgress | TaskStatus::Submitted
        ) {
            return Err(Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Report,
            }
            .into());
        }
        let is_lead = task.lead_unit_id == unit;
        if req.instruction_id.is_some() && !is_lead {
            return Err(Error::invalid_field(
                "instruction_id",
                Message::new(
                    "只有牵头单位可以反馈批示落实情况",
                    "only the lead unit replies to an instruction",
                ),
            ));
        }
        if req.order_id.is_some() && !is_lead {
            return Err(Error::invalid_field(
                "order_id",
                Message::new(
                    "只有牵头单位可以回执督办单",
                    "only the lead unit replies to a supervision order",
                ),
            ));
        }
        let row: (ReportId, NaiveDateTime) = diesel::insert_into(progress_reports::table)
            .values((
                progress_reports::task_id.eq(task.id),
                progress_reports::unit_id.eq(unit),
                progress_reports::author_id.eq(auth.id),
                progress_reports::percent.eq(req.percent),
                progress_reports::body.eq(body.as_str()),
                progress_reports::created_at.eq(now),
            ))
            .returning((progress_reports::id, progress_reports::created_at))
            .get_result(conn)?;
        if is_lead {
            diesel::update(tasks::table.find(task.id))
                .set(tasks::progress.eq(req.percent))
                .execute(conn)?;
        }
        if let Some(instruction) = req.instruction_id {
            answer(conn, task.id, instruction, row.0, now)?;
        }
        if let Some(order) = req.order_id {
            super::receipts::answer_order(conn, task.id, order, row.0, now)?;
        }
        let data = serde_json::json!({
            "report_id": row.0, "percent": req.percent, "instruction_id": req.instruction_id,
            "order_id": req.order_id,
        });
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: "reported",
                actor: Some(auth.id),
                unit_id: Some(unit),
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
                entity: "progress_report",
                entity_id: Some(row.0 .0),
                before: None,
                after: Some(data),
            },
            now,
        )?;
        Ok(ReportView {
            id: row.0,
            task_id: id,
            unit_id: unit,
            role: if is_lead { "lead" } else { "cooperating" },
            author_id: auth.id,
            percent: req.percent,
            body: body.into_inner(),
            created_at: row.1.and_utc(),
            instruction_id: req.instruction_id,
            order_id: req.order_id,
        })
    })
}

/// Records `report` as the reply to `instruction` of `task`, in the report's
/// transaction. The database decides between two replies: only a row with
/// no reply yet is changed, so the second finds none and is refused (and
/// its report rolled back with it).
fn answer(
    conn: &mut DbConnection,
    task: TaskId,
    instruction: InstructionId,
    report: ReportId,
    now: NaiveDateTime,
) -> Result<()> {
    let changed = diesel::update(
        instructions::table
            .find(instruction)
            .filter(instructions::task_id.eq(task))
            .filter(instructions::reply_report_id.is_null()),
    )
    .set((
        instructions::reply_report_id.eq(report),
        instructions::replied_at.eq(now),
    ))
    .execute(conn)?;
    if changed == 1 {
        return Ok(());
    }
    let exists: Option<InstructionId> = instructions::table
        .find(instruction)
        .filter(instructions::task_id.eq(task))
        .select(instructions::id)
        .first(conn)
        .optional()?;
    match exists {
        Some(_) => Err(Conflict::InstructionReplied.into()),
        None => Err(Error::invalid_field(
            "instruction_id",
            Message::new("该任务没有这条批示", "the task has no such instruction"),
        )),
    }
}

type ReportTuple = (ReportId, UnitId, UserId, i32, String, NaiveDateTime);

pub fn list(conn: &mut DbConnection, scope: Scope, id: TaskId) -> Result<Vec<ReportView>> {
    let task = visibility::find_visible(conn, scope, id)?;
    let rows: Vec<ReportTuple> = progress_reports::table
        .filter(progress_reports::task_id.eq(task.id))
        .select((
            progress_reports::id,
            progress_reports::unit_id,
            progress_reports::author_id,
            progress_reports::percent,
            progress_reports::body,
            progress_reports::created_at,
        ))
        .order(progress_reports::id.asc())
        .load(conn)?;
    let answered: std::collections::HashMap<ReportId, InstructionId> = instructions::table
        .filter(instructions::task_id.eq(task.id))
        .filter(instructions::reply_report_id.is_not_null())
        .select((instructions::reply_report_id, instructions::id))
        .load::<(Option<ReportId>, InstructionId)>(conn)?
        .into_iter()
        .filter_map(|(r, i)| Some((r?, i)))
        .collect();
    let receipts = super::receipts::order_receipts(conn, task.id)?;
    Ok(rows
        .into_iter()
        .map(|(rid, unit_id, author_id, percent, body, at)| ReportView {
            id: rid,
            task_id: id,
            unit_id,
            role: if unit_id == task.lead_unit_id {
                "lead"
            } else {
                "cooperating"
            },
            author_id,
            percent,
            body,
            created_at: at.and_utc(),
            instruction_id: answered.get(&rid).copied(),
            order_id: receipts.get(&rid).copied(),
        })
        .collect())
}
