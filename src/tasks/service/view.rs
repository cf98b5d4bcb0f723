//! Task views: a row as the API shows it for today (light, lateness, missing
//! reports), many at once with their cooperators and reports loaded in bulk,
//! and the detail with its roll-up and the units' inputs side by side.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{extensions, progress_reports, tasks};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::ExtensionStatus;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::{self, TaskTiming};
use crate::domain::{ExtensionId, TaskId, UnitId, UserId};
use crate::error::{Error, Result};
use crate::tasks::model::{LeaderRef, Rollup, TaskDetail, TaskRow, TaskView, UnitInput};
use crate::tasks::visibility::{self, InSight, Scope};
/// What the traffic-light rules read of a stored task.
pub fn timing(row: &TaskRow) -> TaskTiming {
    TaskTiming {
        status: row.status,
        due: row.due_date,
        submitted_on: row.submitted_on,
        returned: row.returned,
    }
}

/// The view of a task for `clock.today`, with its cooperating units and its
/// co-responsible leaders (id, name).
pub fn to_view(
    row: TaskRow,
    coops: Vec<UnitId>,
    co_leaders: Vec<(UserId, String)>,
    last_lead_report: Option<NaiveDateTime>,
    clock: &Clock,
) -> TaskView {
    let t = timing(&row);
    let started = row.started_at().map(|at| clock.local(at));
    let report_missing = traffic::report_missing(
        row.report_cycle(),
        t.status,
        started,
        last_lead_report.map(|at| clock.local(at)),
        clock.today,
    );
    let acceptance_overdue = traffic::acceptance_overdue(
        t.status,
        row.assigned_at.map(|at| clock.local(at)),
        clock.today,
        clock.accept_days,
    );
    TaskView {
        id: row.id,
        plan_id: row.plan_id,
        parent_id: row.parent_id,
        code: row.code,
        title: row.title,
        description: row.description,
        lead_unit_id: row.lead_unit_id,
        cooperating_unit_ids: coops,
        responsible_leader_id: row.responsible_leader_id,
        co_leader_ids: co_leaders.iter().map(|l| l.0).collect(),
        co_leaders: co_leaders
            .into_iter()
            .map(|(id, name)| LeaderRef { id, name })
            .collect(),
        start_date: row.start_date,
        due_date: row.due_date,
        due_text: row.due_text,
        original_due_date: row.original_due_date,
        due_in_working_days: row.due_working_days,
        priority: row.priority,
        category: row.category,
        status: t.status,
        evidence_required: row.evidence_required,
        report_day: row.report_day,
        report_cadence: row.report_cadence,
        progress: row.progress,
        returned: row.returned,
        completion_note: row.completion_note,
        assigned_at: row.assigned_at.map(|a| a.and_utc()),
        accepted_at: row.accepted_at.map(|a| a.and_utc()),
        submitted_at: row.submitted_at.map(|a| a.and_utc()),
        completed_at: row.completed_at.map(|a| a.and_utc()),
        light: traffic::light(&t, clock.today, clock.warn_days),
        days_overdue: traffic::days_overdue(&t, clock.today),
        report_missing,
        acceptance_overdue,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    }
}

/// Latest report instant per (task, unit) for the given tasks.
pub fn last_reports(
    conn: &mut DbConnection,
    ids: &[TaskId],
) -> QueryResult<HashMap<(TaskId, UnitId), NaiveDateTime>> {
    let rows: Vec<(TaskId, UnitId, Option<NaiveDateTime>)> = progress_reports::table
        .filter(progress_reports::task_id.eq_any(ids))
        .group_by((progress_reports::task_id, progress_reports::unit_id))
        .select((
            progress_reports::task_id,
            progress_reports::unit_id,
            diesel::dsl::max(progress_reports::created_at),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(t, u, at)| at.map(|at| ((t, u), at)))
        .collect())
}

/// Views of `rows` for today, with cooperators, co-responsible leaders and
/// report dates loaded in bulk.
pub fn views(conn: &mut DbConnection, rows: Vec<TaskRow>, clock: &Clock) -> Result<Vec<TaskView>> {
    let ids: Vec<TaskId> = rows.iter().map(|r| r.id).collect();
    let mut coops = visibility::cooperators_of(conn, &ids)?;
    let mut co_leaders = visibility::co_leaders_of(conn, &ids)?;
    let reports = last_reports(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let last = reports.get(&(row.id, row.lead_unit_id)).copied();
            let c = coops.remove(&row.id).unwrap_or_default();
            let l = co_leaders.remove(&row.id).unwrap_or_default();
            to_view(row, c, l, last, clock)
        })
        .collect())
}

pub fn view_one(conn: &mut DbConnection, row: TaskRow, clock: &Clock) -> Result<TaskView> {
    let mut list = views(conn, vec![row], clock)?;
    list.pop()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("view of one task is empty")))
}

/// The detail: the view, children, the roll-up of all descendants, the units'
/// latest inputs side by side, and any pending extension request; with the
/// proof that the task is in sight, for reading more of it.
pub fn detail(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
    clock: &Clock,
) -> Result<(TaskDetail, InSight)> {
    let visibility::Shown {
        row,
        coops,
        co_leaders,
        seen,
    } = visibility::load_in_sight(conn, scope, id)?;
    let (children, rollup) = descendants(conn, row.id)?;
    let inputs = unit_inputs(conn, &row, &coops)?;
    let pending: Option<ExtensionId> = crate::db::per_backend!(conn, c => extensions::table
        .filter(extensions::task_id.eq(row.id))
        .filter(extensions::status.eq(ExtensionStatus::Pending))
        .select(extensions::id)
        .first(c)
        .optional())?;
    // The lead unit's latest report is the first input: read once, for both.
    let last_lead_report = inputs
        .first()
        .and_then(|input| input.reported_at)
        .map(|at| at.naive_utc());
    // The parties were read with the visibility check: the view reads nothing.
    let task = to_view(row, coops, co_leaders, last_lead_report, clock);
    let detail = TaskDetail {
        task,
        children,
        rollup,
        unit_inputs: inputs,
        pending_extension_id: pending,
    };
    Ok((detail, seen))
}

/// A descendant as the roll-up reads it: id, status, progress.
type Descendant = (TaskId, TaskStatus, i32);

/// How many parents one query of the walk asks about (well under SQLite's
/// bound on parameters).
const WALK_CHUNK: usize = 500;

/// The direct children of `root` and the roll-up of all its descendants,
/// read level by level through the `parent_id` index: the cost follows the
/// size of the task's own subtree, not of its plan or the city.
fn descendants(conn: &mut DbConnection, root: TaskId) -> Result<(Vec<TaskId>, Option<Rollup>)> {
    let mut found: Vec<Descendant> = Vec::new();
    let mut seen: HashSet<TaskId> = HashSet::from([root]);
    let mut children = Vec::new();
    // The first level by `eq`, a statement kept prepared (see
    // `visibility::co_leaders_named`): most tasks have no sub-tasks, and
    // their walk is this one statement.
    let mut level: Vec<Child> = crate::db::per_backend!(conn, c => tasks::table
        .filter(tasks::parent_id.eq(root))
        .select(CHILD)
        .order(tasks::id.asc())
        .load(c))?;
    loop {
        let mut next = Vec::new();
        for (id, parent, status, progress) in level {
            // A cycle cannot be written (the parent must exist first), but
            // a walk must end whatever the rows say.
            if !seen.insert(id) {
                continue;
            }
            if parent == Some(root) {
                children.push(id);
            }
            found.push((id, status, progress));
            next.push(id);
        }
        if next.is_empty() {
            return Ok((children, rollup(&found)));
        }
        level = Vec::new();
        for chunk in next.chunks(WALK_CHUNK) {
            level.extend(
                tasks::table
                    .filter(tasks::parent_id.eq_any(chunk))
                    .select(CHILD)
                    .order(tasks::id.asc())
                    .load::<Child>(conn)?,
            );
        }
    }
}

/// A task under another as the walk reads it: id, parent, status, progress.
type Child = (TaskId, Option<TaskId>, TaskStatus, i32);
const CHILD: (tasks::id, tasks::parent_id, tasks::status, tasks::progress) =
    (tasks::id, tasks::parent_id, tasks::status, tasks::progress);

/// Status counts and mean progress of the descendants; None when there are
/// none.
fn rollup(descendants: &[Descendant]) -> Option<Rollup> {
    if descendants.is_empty() {
        return None;
    }
    let mut result = Rollup::default();
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    let (mut progress_sum, mut progress_n) = (0i64, 0i64);
    for (_, status, progress) in descendants {
        result.descendants += 1;
        *by_status.entry(status.as_str().to_string()).or_default() += 1;
        if *status != TaskStatus::Cancelled {
            progress_sum += i64::from(if *status == TaskStatus::Completed {
                100
            } else {
                *progress
            });
            progress_n += 1;
        }
    }
    result.by_status = by_status;
    result.progress = if progress_n > 0 {
        i32::try_from(progress_sum / progress_n).unwrap_or(0)
    } else {
        0
    };
    Some(result)
}

/// The latest report of the lead unit and of each cooperating unit, in one
/// statement: each unit's latest report id is a seek through
/// `progress_reports (task_id, unit_id, id)` (a `max(id)` subquery), and the
/// reports are read by those ids, so a task with thousands of reports reads
/// as fast as one with a few.
fn unit_inputs(conn: &mut DbConnection, row: &TaskRow, coops: &[UnitId]) -> Result<Vec<UnitInput>> {
    let latest = diesel::alias!(progress_reports as latest);
    let units: Vec<(UnitId, &'static str)> = std::iter::once((row.lead_unit_id, "lead"))
        .chain(coops.iter().map(|c| (*c, "cooperating")))
        .collect();
    // Built for the backend's own connection (`db::per_backend`): a boxed
    // query is typed by its backend.
    let rows: Vec<(UnitId, i32, String, NaiveDateTime)> = crate::db::per_backend!(conn, c => {
        let mut query = progress_reports::table
            .select((
                progress_reports::unit_id,
                progress_reports::percent,
                progress_reports::body,
                progress_reports::created_at,
            ))
            .into_boxed();
        for (unit, _) in &units {
            let newest = latest
                .filter(latest.field(progress_reports::task_id).eq(row.id))
                .filter(latest.field(progress_reports::unit_id).eq(*unit))
                .select(diesel::dsl::max(latest.field(progress_reports::id)))
                .single_value();
            query = query.or_filter(progress_reports::id.nullable().eq(newest));
        }
        query.load(c)
    })?;
    let found: HashMap<UnitId, (i32, String, NaiveDateTime)> = rows
        .into_iter()
        .map(|(unit, percent, body, at)| (unit, (percent, body, at)))
        .collect();
    Ok(units
        .into_iter()
        .map(|(unit, role)| {
            // A unit both leads and cooperates only in a malformed row; it
            // shows its report in both places.
            let r = found.get(&unit).cloned();
            UnitInput {
                unit_id: unit,
                role,
                percent: r.as_ref().map(|r| r.0),
                reported_at: r.as_ref().map(|r| r.2.and_utc()),
                body: r.map(|r| r.1),
            }
        })
        .collect())
}
