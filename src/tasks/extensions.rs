//! Extension requests (延期申请): the lead unit asks for a later date before
//! the deadline; the office approves (the due date moves, the first one is
//! kept) or rejects. At most one request per task is pending.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::model::TaskRow;
use super::service;
use super::visibility::{self, InSight, Scope};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::{extensions, tasks};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::ExtensionStatus;
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::{ExtensionId, Message, TaskId, UserId};
use crate::error::Validator;
use crate::error::{Conflict, Error, Result, TaskUse};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = extensions)]
pub struct ExtensionRow {
    pub id: ExtensionId,
    pub task_id: TaskId,
    pub requested_by: UserId,
    pub old_due_date: NaiveDate,
    pub new_due_date: NaiveDate,
    pub reason: String,
    pub status: ExtensionStatus,
    pub decided_by: Option<UserId>,
    pub decision_note: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionView {
    pub id: ExtensionId,
    pub task_id: TaskId,
    pub requested_by: UserId,
    pub old_due_date: NaiveDate,
    pub new_due_date: NaiveDate,
    pub reason: String,
    pub status: ExtensionStatus,
    pub decided_by: Option<UserId>,
    pub decision_note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<ExtensionRow> for ExtensionView {
    fn from(r: ExtensionRow) -> Self {
        ExtensionView {
            id: r.id,
            task_id: r.task_id,
            requested_by: r.requested_by,
            old_due_date: r.old_due_date,
            new_due_date: r.new_due_date,
            reason: r.reason,
            status: r.status,
            decided_by: r.decided_by,
            decision_note: r.decision_note,
            decided_at: r.decided_at.map(|d| d.and_utc()),
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateExtension {
    /// YYYY-MM-DD, after the current due date.
    pub new_due_date: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideExtension {
    /// Optional for approval, required for rejection.
    pub note: Option<String>,
}

pub fn request(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    req: CreateExtension,
    clock: &Clock,
) -> Result<ExtensionRow> {
    auth.permit(Permission::ActForUnit)?;
    let mut v = Validator::default();
    let new_due = v.check("new_due_date", parse_date(&req.new_due_date));
    let reason = v.check("reason", BoundedText::parse(&req.reason, 2000));
    let (Some(new_due), Some(reason)) = (new_due, reason) else {
        return Err(v.into_error());
    };
    conn.write(|conn| {
        let task = visibility::lock_visible(conn, scope, id)?;
        if auth.unit_id != Some(task.lead_unit_id) {
            return Err(Error::Forbidden);
        }
        let status = task.status;
        if !status.is_open() || status == crate::domain::task_state::TaskStatus::Draft {
            return Err(Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Extension,
            }
            .into());
        }
        let Some(due) = task.due_date else {
            return Err(Conflict::NoDueDate.into());
        };
        if clock.today > due {
            return Err(Conflict::ExtensionTooLate { due }.into());
        }
        if new_due <= due {
            return Err(Error::invalid_field(
                "new_due_date",
                Message::new(
                    "新的完成时限必须晚于当前时限",
                    "must be after the current due date",
                ),
            ));
        }
        let row: ExtensionRow = diesel::insert_into(extensions::table)
            .values((
                extensions::task_id.eq(task.id),
                extensions::requested_by.eq(auth.id),
                extensions::old_due_date.eq(due),
                extensions::new_due_date.eq(new_due),
                extensions::reason.eq(reason.as_str()),
                extensions::status.eq(ExtensionStatus::Pending),
                extensions::created_at.eq(clock.now),
            ))
            .returning(extensions::all_columns)
            .get_result(conn)
            .map_err(|e| Error::unique_or(e, Conflict::ExtensionPending))?;
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: "extension_requested",
                actor: Some(auth.id),
                unit_id: Some(task.lead_unit_id),
                note: Some(reason.into_inner()),
                data: Some(
                    serde_json::json!({ "extension_id": row.id, "from": due, "to": new_due }),
                ),
            },
            clock.now,
        )?;
        audit::record_change(
            conn,
            Some(auth.id),
            "create",
            ("extension", row.id.0),
            None,
            Some(&row),
            clock.now,
        )?;
        Ok(row)
    })
}

pub fn find(conn: &mut DbConnection, id: ExtensionId) -> Result<ExtensionRow> {
    extensions::table
        .find(id)
        .select(ExtensionRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)
}

/// Approves or rejects a pending request (office).
pub fn decide(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: ExtensionId,
    approve: bool,
    req: DecideExtension,
    now: NaiveDateTime,
) -> Result<ExtensionRow> {
    auth.permit(Permission::ManageTasks)?;
    let note = match req.note.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => Some(
            BoundedText::parse(n, 2000)
                .map_err(|m| Error::invalid_field("note", m))?
                .into_inner(),
        ),
        None if !approve => {
            return Err(Error::invalid_field(
                "note",
                Message::new("驳回须说明理由", "a rejection needs a reason"),
            ))
        }
        None => None,
    };
    conn.write(|conn| {
        // The task first, then the request: every writer of a task's
        // extensions locks in this order, so two deciders queue instead of
        // deadlocking, and the second sees the first one's decision.
        let task_id = find(conn, id)?.task_id;
        service::find_locked(conn, task_id)?;
        crate::db::lock_row(conn, crate::db::Locked::Extensions, id.0)?;
        let ext = find(conn, id)?;
        if ext.status != ExtensionStatus::Pending {
            return Err(Conflict::ExtensionDecided { status: ext.status }.into());
        }
        let status = if approve {
            ExtensionStatus::Approved
        } else {
            ExtensionStatus::Rejected
        };
        let decided: ExtensionRow = diesel::update(
            extensions::table
                .find(id)
                .filter(extensions::status.eq(ExtensionStatus::Pending)),
        )
        .set((
                extensions::status.eq(status),
                extensions::decided_by.eq(auth.id),
                extensions::decision_note.eq(&note),
                extensions::decided_at.eq(now),
            ))
            .returning(extensions::all_columns)
            .get_result(conn)?;
        if approve {
            let task: TaskRow = service::find(conn, ext.task_id)?.ok_or(Error::NotFound)?;
            let updated: TaskRow = diesel::update(tasks::table.find(task.id))
                .set((
                    tasks::original_due_date.eq(task.original_due_date.or(task.due_date)),
                    tasks::due_date.eq(ext.new_due_date),
                    // The table's wording said the old date.
                    tasks::due_text.eq(None::<String>),
                    tasks::version.eq(tasks::version + 1),
                    tasks::updated_at.eq(now),
                ))
                .returning(tasks::all_columns)
                .get_result(conn)?;
            service::audit_task(conn, Some(auth.id), "extend", Some(&task), Some(&updated), now)?;
        }
        events::record(
            conn,
            NewEvent {
                task_id: ext.task_id,
                kind: if approve { "extension_approved" } else { "extension_rejected" },
                actor: Some(auth.id),
                unit_id: None,
                note,
                data: Some(serde_json::json!({ "extension_id": id, "from": ext.old_due_date, "to": ext.new_due_date })),
            },
            now,
        )?;
        audit::record_change(conn, Some(auth.id), status.as_str(), ("extension", id.0), Some(&ext), Some(&decided), now)?;
        Ok(decided)
    })
}

pub fn list_for_task(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
) -> Result<Vec<ExtensionView>> {
    let task = visibility::in_sight(conn, scope, id)?;
    list_in_sight(conn, task)
}

/// `list_for_task` for a task already shown to be in sight.
pub fn list_in_sight(conn: &mut DbConnection, task: InSight) -> Result<Vec<ExtensionView>> {
    let rows: Vec<ExtensionRow> = extensions::table
        .filter(extensions::task_id.eq(task.id()))
        .select(ExtensionRow::as_select())
        .order(extensions::id.asc())
        .load(conn)?;
    Ok(rows.into_iter().map(ExtensionView::from).collect())
}
