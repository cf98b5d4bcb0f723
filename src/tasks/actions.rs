//! The life-cycle actions: assign, accept (签收), submit, verify, return,
//! cancel, reopen. Each checks role and unit, the task's version and the
//! transition, then writes the change, a timeline event and an audit entry in
//! one transaction.

use diesel::prelude::*;

use super::events::{self, NewEvent};
use super::model::TaskRow;
use super::service;
use super::visibility::{self, Scope};
use crate::auth::{AuthUser, Permission};
use crate::db::schema::{attachments, tasks};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::task_state::{next_status, TaskAction, TaskStatus};
use crate::domain::values::BoundedText;
use crate::domain::{Message, TaskId};
use crate::error::{Error, Result};
use crate::holidays;

#[derive(AsChangeset, Default)]
#[diesel(table_name = tasks)]
struct ActionChangeset {
    status: Option<TaskStatus>,
    due_date: Option<Option<chrono::NaiveDate>>,
    returned: Option<bool>,
    completion_note: Option<Option<String>>,
    assigned_at: Option<Option<chrono::NaiveDateTime>>,
    accepted_at: Option<Option<chrono::NaiveDateTime>>,
    submitted_at: Option<Option<chrono::NaiveDateTime>>,
    submitted_on: Option<Option<chrono::NaiveDate>>,
    completed_at: Option<Option<chrono::NaiveDateTime>>,
    progress: Option<i32>,
    version: Option<i64>,
    updated_at: Option<chrono::NaiveDateTime>,
}

/// Who may take `action`: the office for its own steps, the lead unit for
/// signing for and submitting.
fn check_actor(auth: &AuthUser, action: TaskAction, task: &TaskRow) -> Result<()> {
    match action {
        TaskAction::Accept | TaskAction::Submit => {
            auth.permit(Permission::ActForUnit)?;
            if auth.unit_id != Some(task.lead_unit_id) {
                return Err(Error::OnlyLeadUnit);
            }
            Ok(())
        }
        _ => auth.permit(Permission::ManageTasks),
    }
}

/// One action as asked for: what, on which version, with which note.
pub struct Step {
    pub action: TaskAction,
    pub version: i64,
    pub note: Option<String>,
}

/// Writes the notices a step owes the units (交办, 退回) inside the step's
/// transaction: `notices::tell::after_step`. The caller hands it in (startup
/// registers it for the API, the console passes it), because the notice scan
/// reads tasks and tasks does not import notices.
#[derive(Clone, Copy)]
pub struct StepNotices(pub WriteStepNotices);

/// `notices::tell::after_step`'s shape: the task as it is after `action`.
pub type WriteStepNotices = fn(
    &mut DbConnection,
    &crate::config::Settings,
    &TaskRow,
    TaskAction,
    Option<&str>,
    &Clock,
) -> anyhow::Result<()>;

#[allow(clippy::too_many_arguments)]
pub fn act(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    step: Step,
    clock: &Clock,
    settings: &crate::config::Settings,
    tell: StepNotices,
) -> Result<TaskRow> {
    let Step {
        action,
        version,
        note,
    } = step;
    let note = match note.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => Some(
            BoundedText::parse(n, 5000)
                .map_err(|m| Error::invalid_field("note", m))?
                .into_inner(),
        ),
        None => None,
    };
    conn.write(|conn| {
        let task = visibility::lock_visible(conn, scope, id)?;
        check_actor(auth, action, &task)?;
        let current = task.status;
        if task.version != version {
            return Err(Error::stale(version, task.version));
        }
        let next =
            next_status(current, action).ok_or(Error::InvalidTransition { action, current })?;
        if action.needs_note() && note.is_none() {
            let message = if action == TaskAction::Submit {
                Message::new(
                    "申请办结须填写办结说明",
                    "submitting needs a completion note",
                )
            } else {
                Message::new("须说明理由", "a reason is required")
            };
            return Err(Error::invalid_field("note", message));
        }
        let now = clock.now;
        let mut changes = ActionChangeset {
            status: Some(next),
            version: Some(task.version + 1),
            updated_at: Some(now),
            ..Default::default()
        };
        match action {
            TaskAction::Assign => {
                changes.assigned_at = Some(Some(now));
                if let Some(n) = task.due_working_days {
                    let calendar = holidays::calendar(conn)?;
                    let days = u32::try_from(n).unwrap_or(0);
                    changes.due_date = Some(Some(calendar.add_working_days(clock.today, days)));
                }
            }
            TaskAction::Accept => changes.accepted_at = Some(Some(now)),
            TaskAction::Submit => {
                if task.evidence_required {
                    let evidence: i64 = attachments::table
                        .filter(attachments::task_id.eq(task.id))
                        .count()
                        .get_result(conn)?;
                    if evidence == 0 {
                        return Err(Error::invalid_field(
                            "evidence",
                            Message::new(
                                "该任务须上传佐证材料后才能申请办结",
                                "this task needs evidence before it can be submitted",
                            ),
                        ));
                    }
                }
                changes.submitted_at = Some(Some(now));
                changes.submitted_on = Some(Some(clock.today));
                changes.completion_note = Some(note.clone());
                changes.returned = Some(false);
            }
            TaskAction::Verify => {
                changes.completed_at = Some(Some(now));
                changes.progress = Some(100);
            }
            TaskAction::Return => changes.returned = Some(true),
            TaskAction::Reopen => {
                changes.completed_at = Some(None);
                changes.submitted_at = Some(None);
                changes.submitted_on = Some(None);
            }
            TaskAction::Cancel => {}
        }
        let updated: TaskRow = diesel::update(
            tasks::table
                .find(task.id)
                .filter(tasks::version.eq(task.version)),
        )
        .set(&changes)
        .returning(tasks::all_columns)
        .get_result(conn)
        .optional()?
        .ok_or(Error::StaleVersion {
            sent: None,
            current: task.version + 1,
        })?;
        let data = (action == TaskAction::Assign && updated.due_date != task.due_date)
            .then(|| serde_json::json!({ "due_date": updated.due_date }));
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: action.event_kind(),
                actor: Some(auth.id),
                unit_id: auth.unit_id,
                note: note.clone(),
                data,
            },
            now,
        )?;
        // 交办 and 退回 tell the units in the same transaction.
        (tell.0)(conn, settings, &updated, action, note.as_deref(), clock)?;
        service::audit_task(
            conn,
            Some(auth.id),
            action.as_str(),
            Some(&task),
            Some(&updated),
            now,
        )?;
        Ok(updated)
    })
}
