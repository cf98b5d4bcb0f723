//! Bulk life-cycle steps on tasks of one plan (批量交办, 批量撤销): several
//! tasks, each with the version the office saw, changed all or nothing. Each
//! task goes through `actions::act`, the one writer of life-cycle steps, so
//! its timeline, audit entry and notices (the units' 交办通知) are what a
//! single step writes; the whole list is one transaction.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::actions::{self, Step, StepNotices};
use super::model::{TaskRow, TaskView};
use super::service;
use super::visibility::Scope;
use crate::auth::{AuthUser, Permission};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::task_state::TaskAction;
use crate::domain::{Message, PlanId, TaskId};
use crate::error::{Error, Result, Validator};

/// The most tasks one bulk request may name.
pub const MAX_TASKS: usize = 500;

/// One task of a bulk request: its id and the `version` last read.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkTask {
    pub id: i64,
    pub version: i64,
}

/// The body of a bulk step: the tasks, and the note (a reason, required to
/// cancel) said on every task's timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// 1 to 500 tasks of the plan, each once.
    pub tasks: Vec<BulkTask>,
    pub note: Option<String>,
}

/// What a bulk step did: how many tasks changed, and each as it is now, in
/// the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub changed: usize,
    pub tasks: Vec<TaskView>,
}

/// The steps that may be taken in bulk: the office's assigning of drafts and
/// its cancelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Assign,
    Cancel,
}

impl BulkAction {
    fn step(self) -> TaskAction {
        match self {
            BulkAction::Assign => TaskAction::Assign,
            BulkAction::Cancel => TaskAction::Cancel,
        }
    }
}

/// Everything a bulk step needs besides the connection.
pub struct BulkContext<'a> {
    pub auth: &'a AuthUser,
    pub scope: Scope,
    pub clock: &'a Clock,
    pub settings: &'a crate::config::Settings,
    pub tell: StepNotices,
}

/// Checks the request's shape: some tasks, not too many, each once, and a
/// reason when the step needs one. Names the field at fault.
fn check_request(action: BulkAction, req: &BulkRequest) -> Result<()> {
    let mut v = Validator::default();
    if req.tasks.is_empty() {
        v.add(
            "tasks",
            Message::new("请至少选择一项任务", "choose at least one task"),
        );
    } else if req.tasks.len() > MAX_TASKS {
        v.add(
            "tasks",
            Message::owned(
                format!("一次最多处理 {MAX_TASKS} 项任务"),
                format!("at most {MAX_TASKS} tasks at once"),
            ),
        );
    }
    for (i, t) in req.tasks.iter().enumerate() {
        if req.tasks[..i].iter().any(|u| u.id == t.id) {
            v.add(
                &format!("tasks[{i}].id"),
                Message::new("同一任务选择了两次", "the task is named twice"),
            );
        }
    }
    let blank = req.note.as_deref().is_none_or(|n| n.trim().is_empty());
    if action.step().needs_note() && blank {
        v.add("note", Message::new("须说明理由", "a reason is required"));
    }
    v.finish()
}

/// Takes `action` on every task of `req`, all or nothing: the first task that
/// is not in `plan`, has moved on (stale version) or cannot take the step
/// stops it and is named (`Error::AtTask`), and nothing is written. Tasks are
/// locked in id order so that two bulk requests over the same tasks queue
/// rather than deadlock; the loser sees the winner's versions (409).
pub fn act(
    conn: &mut DbConnection,
    ctx: &BulkContext<'_>,
    plan: PlanId,
    action: BulkAction,
    req: BulkRequest,
) -> Result<Vec<TaskRow>> {
    ctx.auth.permit(Permission::ManageTasks)?;
    check_request(action, &req)?;
    let mut order: Vec<usize> = (0..req.tasks.len()).collect();
    order.sort_by_key(|&i| req.tasks[i].id);
    conn.write(|conn| {
        crate::plans::service::get(conn, plan)?;
        let mut done: Vec<Option<TaskRow>> = vec![None; req.tasks.len()];
        for index in order {
            let BulkTask { id, version } = req.tasks[index];
            let id = TaskId(id);
            let found = service::find(conn, id)?.filter(|t| t.plan_id == plan);
            let Some(task) = found else {
                return Err(Error::invalid_field(
                    format!("tasks[{index}].id"),
                    Message::new(
                        "该任务不存在或不属于此实施方案",
                        "no such task in this plan",
                    ),
                ));
            };
            let step = Step {
                action: action.step(),
                version,
                note: req.note.clone(),
            };
            let row = actions::act(
                conn,
                ctx.auth,
                ctx.scope,
                id,
                step,
                ctx.clock,
                ctx.settings,
                ctx.tell,
            )
            .map_err(|error| Error::AtTask {
                index,
                task_id: id,
                code: task.code.clone(),
                error: Box::new(error),
            })?;
            done[index] = Some(row);
        }
        Ok(done.into_iter().flatten().collect())
    })
}
