//! The office's queues: the submitted tasks waiting for review (oldest
//! submission first, with the submission note and the evidence), the
//! extension requests waiting for a decision, and the overdue tasks by lead
//! unit. Each is built from the task list's own query (`service::list`) and
//! the functions the task page uses, so a queue shows exactly what the list
//! and the task page would.

use std::collections::HashMap;

use diesel::prelude::*;
use serde::Serialize;

use super::attachments::{self, AttachmentView};
use super::extensions::ExtensionRow;
use super::input::{ListFilter, Sort};
use super::model::TaskView;
use super::service;
use super::visibility::{self, Scope};
use crate::db::schema::{extensions, tasks, users};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::ExtensionStatus;
use crate::domain::task_state::TaskStatus;
use crate::domain::{TaskId, UnitId, UserId};
use crate::error::Result;
use crate::http::Paging;

/// A queue shows at most this many rows (the list's largest page).
pub const QUEUE_MAX: i64 = 200;

const FIRST: Paging = Paging {
    page: 1,
    per_page: QUEUE_MAX,
};

/// A submitted task as the reviewer needs it: the task (its version, the
/// submission note in `completion_note`, `submitted_at`), its lead unit's
/// name and the evidence to look at.
#[derive(Debug, Serialize)]
pub struct ToReview {
    pub task: TaskView,
    pub lead_unit: String,
    pub attachments: Vec<AttachmentView>,
}

/// The submitted tasks in sight, oldest submission first, and how many
/// there are in all.
pub fn review(
    conn: &mut DbConnection,
    scope: Scope,
    clock: &Clock,
) -> Result<(Vec<ToReview>, i64)> {
    let filter = ListFilter {
        status: Some(TaskStatus::Submitted),
        sort: Sort::Submitted,
        ..ListFilter::default()
    };
    let page = service::list(conn, scope, &filter, FIRST, clock)?;
    let ids: Vec<UnitId> = page.items.iter().map(|t| t.lead_unit_id).collect();
    let names = crate::units::service::names(conn, &ids)?;
    let mut out = Vec::with_capacity(page.items.len());
    for task in page.items {
        let attachments = attachments::list(conn, scope, task.id)?;
        out.push(ToReview {
            lead_unit: name_of(&names, task.lead_unit_id),
            attachments,
            task,
        });
    }
    Ok((out, page.total))
}

/// How many submitted tasks in sight wait for review.
pub fn review_count(conn: &mut DbConnection, scope: Scope, clock: &Clock) -> Result<i64> {
    let filter = ListFilter {
        status: Some(TaskStatus::Submitted),
        ..ListFilter::default()
    };
    let one = Paging {
        page: 1,
        per_page: 1,
    };
    Ok(service::list(conn, scope, &filter, one, clock)?.total)
}

/// A pending extension request with the task it concerns.
#[derive(Debug, Serialize)]
pub struct PendingExtension {
    pub extension: ExtensionRow,
    pub task_code: String,
    pub task_title: String,
    pub lead_unit: String,
    pub requested_by: String,
}

/// The extension requests waiting for a decision on tasks in sight, oldest
/// request first.
pub fn pending_extensions(conn: &mut DbConnection, scope: Scope) -> Result<Vec<PendingExtension>> {
    type Row = (ExtensionRow, crate::tasks::model::TaskRow, Option<String>);
    let rows: Vec<Row> = extensions::table
        .inner_join(tasks::table)
        .left_join(users::table.on(users::id.eq(extensions::requested_by)))
        .filter(extensions::status.eq(ExtensionStatus::Pending))
        .select((
            ExtensionRow::as_select(),
            crate::tasks::model::TaskRow::as_select(),
            users::display_name.nullable(),
        ))
        .order((extensions::created_at.asc(), extensions::id.asc()))
        .limit(QUEUE_MAX)
        .load(conn)?;
    let task_ids: Vec<TaskId> = rows.iter().map(|(_, t, _)| t.id).collect();
    let parties = visibility::PartiesOf::load(conn, &task_ids)?;
    let unit_ids: Vec<UnitId> = rows.iter().map(|(_, t, _)| t.lead_unit_id).collect();
    let names = crate::units::service::names(conn, &unit_ids)?;
    Ok(rows
        .into_iter()
        .filter(|(_, task, _)| parties.sees(scope, task))
        .map(|(extension, task, requester)| PendingExtension {
            requested_by: requester.unwrap_or_else(|| user_label(extension.requested_by)),
            lead_unit: name_of(&names, task.lead_unit_id),
            task_code: task.code,
            task_title: task.title,
            extension,
        })
        .collect())
}

/// One lead unit's overdue tasks, most days overdue first.
#[derive(Debug, Serialize)]
pub struct UnitQueue {
    pub unit_id: UnitId,
    pub unit: String,
    pub count: i64,
    pub most_days: i64,
    pub tasks: Vec<TaskView>,
}

/// The overdue tasks in sight grouped by lead unit, worst unit first (most
/// overdue tasks, then the most days): the groups of
/// `service::overdue_by_lead_unit`, each filled from the list's own
/// `overdue` filter for that lead unit.
pub fn overdue_by_unit(
    conn: &mut DbConnection,
    scope: Scope,
    clock: &Clock,
) -> Result<Vec<UnitQueue>> {
    let groups = service::overdue_by_lead_unit(conn, scope, clock)?;
    let ids: Vec<UnitId> = groups.iter().map(|g| g.unit_id).collect();
    let names = crate::units::service::names(conn, &ids)?;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let filter = ListFilter {
            overdue: Some(true),
            lead_unit_id: Some(g.unit_id),
            sort: Sort::DueDate,
            ..ListFilter::default()
        };
        let mut tasks = service::list(conn, scope, &filter, FIRST, clock)?.items;
        tasks.sort_by(|a, b| b.days_overdue.cmp(&a.days_overdue).then(a.id.cmp(&b.id)));
        out.push(UnitQueue {
            unit: name_of(&names, g.unit_id),
            unit_id: g.unit_id,
            count: g.count,
            most_days: g.most_days,
            tasks,
        });
    }
    Ok(out)
}

fn name_of(names: &HashMap<UnitId, String>, id: UnitId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

fn user_label(id: UserId) -> String {
    format!("#{id}")
}
