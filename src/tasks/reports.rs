//! Progress reports (进展反馈): the lead unit and each cooperating unit report
//! their part; the lead unit's latest percent is the task's progress.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::visibility::{self, Scope};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::{progress_reports, tasks};
use crate::db::DbConnection;
use crate::domain::task_state::TaskStatus;
use crate::domain::values::BoundedText;
use crate::domain::{Message, ReportId, TaskId, UnitId, UserId};
use crate::error::Validator;
use crate::error::{Conflict, Error, Result, TaskUse};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    /// 0–100: how far the reporting unit's part is done.
    pub percent: i32,
    pub body: String,
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
        let (task, _) = visibility::lock_visible(conn, scope, id)?;
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
        let data = serde_json::json!({ "report_id": row.0, "percent": req.percent });
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
        })
    })
}

type ReportTuple = (ReportId, UnitId, UserId, i32, String, NaiveDateTime);

pub fn list(conn: &mut DbConnection, scope: Scope, id: TaskId) -> Result<Vec<ReportView>> {
    let (task, _) = visibility::load_visible(conn, scope, id)?;
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
        })
        .collect())
}
