//! Task rules and queries: creating and changing tasks, the detail view with
//! its roll-up and unit inputs, and the filtered list.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::events::{self, NewEvent};
use super::input::{NewTask, Rejected, TaskChanges, TaskLinks};
use super::model::{Rollup, TaskDetail, TaskFilter, TaskRow, TaskView, UnitInput};
use super::visibility::{self, Scope};
use crate::audit;
use crate::db::schema::{
    extensions, plans, progress_reports, task_cooperators, tasks, units, users,
};
use crate::db::search::{like_pattern, search_text};
use crate::db::{DbBackend, DbConnection};
use crate::domain::clock::Clock;
use crate::domain::kinds::{Category, Priority};
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::{self, TaskTiming, TrafficLight};
use crate::domain::values::parse_date;
use crate::domain::{Message, PlanId, Role, TaskId, UnitId, UserId};
use crate::error::Validator;
use crate::http::problem::{ApiError, ApiResult};
use crate::http::{Page, Paging};

pub fn timing(row: &TaskRow) -> anyhow::Result<TaskTiming> {
    Ok(TaskTiming {
        status: row.status()?,
        due: row.due_date,
        submitted_on: row.submitted_on,
        returned: row.returned,
    })
}

/// The view of a task for `clock.today`.
pub fn to_view(
    row: TaskRow,
    coops: Vec<i64>,
    last_lead_report: Option<NaiveDateTime>,
    clock: &Clock,
) -> anyhow::Result<TaskView> {
    let t = timing(&row)?;
    let started = row
        .accepted_at
        .or(row.assigned_at)
        .map(|at| clock.local(at));
    let report_missing = traffic::report_missing(
        row.report_day,
        t.status,
        started,
        last_lead_report.map(|at| clock.local(at)),
        clock.today,
    );
    let acceptance_overdue = t.status == TaskStatus::Assigned
        && row
            .assigned_at
            .is_some_and(|at| (clock.today - clock.local(at)).num_days() > clock.accept_days);
    Ok(TaskView {
        id: TaskId(row.id),
        plan_id: PlanId(row.plan_id),
        parent_id: row.parent_id.map(TaskId),
        code: row.code,
        title: row.title,
        description: row.description,
        lead_unit_id: UnitId(row.lead_unit_id),
        cooperating_unit_ids: coops.into_iter().map(UnitId).collect(),
        responsible_leader_id: row.responsible_leader_id.map(UserId),
        start_date: row.start_date,
        due_date: row.due_date,
        original_due_date: row.original_due_date,
        due_in_working_days: row.due_working_days,
        priority: row.priority,
        category: row.category,
        status: t.status,
        evidence_required: row.evidence_required,
        report_day: row.report_day,
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
    })
}

/// Latest report instant per (task, unit) for the given tasks.
pub fn last_reports(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<HashMap<(i64, i64), NaiveDateTime>> {
    let rows: Vec<(i64, i64, Option<NaiveDateTime>)> = progress_reports::table
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

/// Views of `rows` for today, with cooperators and report dates loaded in bulk.
pub fn views(
    conn: &mut DbConnection,
    rows: Vec<TaskRow>,
    clock: &Clock,
) -> ApiResult<Vec<TaskView>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut coops = visibility::cooperators_of(conn, &ids)?;
    let reports = last_reports(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let last = reports.get(&(row.id, row.lead_unit_id)).copied();
            let c = coops.remove(&row.id).unwrap_or_default();
            to_view(row, c, last, clock).map_err(ApiError::from)
        })
        .collect()
}

pub fn view_one(conn: &mut DbConnection, row: TaskRow, clock: &Clock) -> ApiResult<TaskView> {
    let mut list = views(conn, vec![row], clock)?;
    list.pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("view of one task is empty")))
}

/// The detail: the view, children, the roll-up of all descendants, the units'
/// latest inputs side by side, and any pending extension request.
pub fn detail(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
    clock: &Clock,
) -> ApiResult<TaskDetail> {
    let (row, coops) = visibility::load_visible(conn, scope, id)?;
    let plan_tasks: Vec<(i64, Option<i64>, String, i32)> = tasks::table
        .filter(tasks::plan_id.eq(row.plan_id))
        .select((tasks::id, tasks::parent_id, tasks::status, tasks::progress))
        .load(conn)?;
    let children: Vec<TaskId> = plan_tasks
        .iter()
        .filter(|t| t.1 == Some(row.id))
        .map(|t| TaskId(t.0))
        .collect();
    let rollup = rollup(row.id, &plan_tasks);
    let inputs = unit_inputs(conn, &row, &coops)?;
    let pending: Option<i64> = extensions::table
        .filter(extensions::task_id.eq(row.id))
        .filter(extensions::status.eq("pending"))
        .select(extensions::id)
        .first(conn)
        .optional()?;
    let task = view_one(conn, row, clock)?;
    Ok(TaskDetail {
        task,
        children,
        rollup,
        unit_inputs: inputs,
        pending_extension_id: pending,
    })
}

/// Status counts and mean progress of every descendant of `root`.
fn rollup(root: i64, plan_tasks: &[(i64, Option<i64>, String, i32)]) -> Option<Rollup> {
    let mut children: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, t) in plan_tasks.iter().enumerate() {
        if let Some(parent) = t.1 {
            children.entry(parent).or_default().push(i);
        }
    }
    let mut stack = children.get(&root).cloned().unwrap_or_default();
    if stack.is_empty() {
        return None;
    }
    let mut result = Rollup::default();
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    let (mut progress_sum, mut progress_n) = (0i64, 0i64);
    while let Some(i) = stack.pop() {
        let (id, _, status, progress) = &plan_tasks[i];
        result.descendants += 1;
        *by_status.entry(status.clone()).or_default() += 1;
        if status != "cancelled" {
            progress_sum += i64::from(if status == "completed" {
                100
            } else {
                *progress
            });
            progress_n += 1;
        }
        if let Some(more) = children.get(id) {
            stack.extend(more);
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

fn unit_inputs(conn: &mut DbConnection, row: &TaskRow, coops: &[i64]) -> ApiResult<Vec<UnitInput>> {
    let reports: Vec<(i64, i32, String, NaiveDateTime)> = progress_reports::table
        .filter(progress_reports::task_id.eq(row.id))
        .select((
            progress_reports::unit_id,
            progress_reports::percent,
            progress_reports::body,
            progress_reports::created_at,
        ))
        .order(progress_reports::id.desc())
        .load(conn)?;
    let latest = |unit: i64| reports.iter().find(|r| r.0 == unit);
    let mut out = Vec::with_capacity(coops.len() + 1);
    for (unit, role) in
        std::iter::once((row.lead_unit_id, "lead")).chain(coops.iter().map(|c| (*c, "cooperating")))
    {
        let r = latest(unit);
        out.push(UnitInput {
            unit_id: UnitId(unit),
            role,
            percent: r.map(|r| r.1),
            body: r.map(|r| r.2.clone()),
            reported_at: r.map(|r| r.3.and_utc()),
        });
    }
    Ok(out)
}

type TaskQuery = tasks::BoxedQuery<'static, DbBackend>;

fn unit_filter(q: TaskQuery, unit: i64) -> TaskQuery {
    q.filter(
        tasks::lead_unit_id.eq(unit).or(tasks::id.eq_any(
            task_cooperators::table
                .filter(task_cooperators::unit_id.eq(unit))
                .select(task_cooperators::task_id),
        )),
    )
}

const OPEN: [&str; 2] = ["assigned", "in_progress"];

/// Red: open and past due, or submitted after the due date.
fn red_filter(q: TaskQuery, today: NaiveDate, red: bool) -> TaskQuery {
    let open_late = tasks::status
        .eq_any(OPEN)
        .and(tasks::due_date.is_not_null())
        .and(tasks::due_date.assume_not_null().lt(today));
    let submitted_late = tasks::status
        .eq("submitted")
        .and(tasks::due_date.is_not_null())
        .and(tasks::submitted_on.is_not_null())
        .and(
            tasks::submitted_on
                .assume_not_null()
                .gt(tasks::due_date.assume_not_null()),
        );
    if red {
        q.filter(open_late.or(submitted_late))
    } else {
        q.filter(diesel::dsl::not(open_late.or(submitted_late)))
    }
}

fn light_filter(q: TaskQuery, light: TrafficLight, clock: &Clock) -> TaskQuery {
    let soon = clock.today + Duration::days(clock.warn_days);
    let yellow = tasks::status
        .eq_any(OPEN)
        .and(
            tasks::due_date
                .is_null()
                .or(tasks::due_date.assume_not_null().ge(clock.today)),
        )
        .and(
            tasks::returned.eq(true).or(tasks::due_date
                .is_not_null()
                .and(tasks::due_date.assume_not_null().lt(soon))),
        );
    match light {
        TrafficLight::Red => red_filter(q, clock.today, true),
        TrafficLight::Yellow => q.filter(yellow),
        TrafficLight::Green => red_filter(q, clock.today, false)
            .filter(tasks::status.ne_all(["draft", "cancelled"]))
            .filter(diesel::dsl::not(yellow)),
    }
}

pub fn list(
    conn: &mut DbConnection,
    scope: Scope,
    filter: &TaskFilter,
    paging: Paging,
    clock: &Clock,
) -> ApiResult<Page<TaskView>> {
    let mut v = Validator::default();
    let status = filter
        .status
        .as_deref()
        .and_then(|s| v.check("status", TaskStatus::parse(s)));
    let light = filter
        .light
        .as_deref()
        .and_then(|s| v.check("light", TrafficLight::parse(s)));
    let due_before = filter
        .due_before
        .as_deref()
        .and_then(|d| v.check("due_before", parse_date(d)));
    let due_after = filter
        .due_after
        .as_deref()
        .and_then(|d| v.check("due_after", parse_date(d)));
    let text = v.check("q", search_text(filter.q.as_deref())).flatten();
    let sort = filter.sort.clone().unwrap_or_else(|| "due_date".into());
    if ![
        "due_date",
        "-due_date",
        "code",
        "-code",
        "updated",
        "-updated",
    ]
    .contains(&sort.as_str())
    {
        v.add(
            "sort",
            Message::new(
                "排序只能是 due_date、code、updated（前加 - 为倒序）",
                "sort must be due_date, code or updated, optionally prefixed with -",
            ),
        );
    }
    v.finish()?;
    let query = || {
        let mut q = tasks::table.into_boxed();
        q = match scope {
            Scope::All => q,
            Scope::Unit(u) => unit_filter(q, u),
            Scope::Leader(l) => q.filter(tasks::responsible_leader_id.eq(l)),
            Scope::Nothing => q.filter(tasks::id.eq(-1)),
        };
        if let Some(plan) = filter.plan_id {
            q = q.filter(tasks::plan_id.eq(plan));
        }
        if let Some(unit) = filter.unit_id {
            q = unit_filter(q, unit);
        }
        if let Some(status) = status {
            q = q.filter(tasks::status.eq(status.as_str()));
        }
        if let Some(leader) = filter.leader_id {
            q = q.filter(tasks::responsible_leader_id.eq(leader));
        }
        if let Some(parent) = filter.parent_id {
            q = q.filter(tasks::parent_id.eq(parent));
        }
        if let Some(category) = &filter.category {
            q = q.filter(tasks::category.eq(category.clone()));
        }
        if let Some(d) = due_before {
            q = q.filter(tasks::due_date.le(d));
        }
        if let Some(d) = due_after {
            q = q.filter(tasks::due_date.ge(d));
        }
        if let Some(overdue) = filter.overdue {
            q = red_filter(q, clock.today, overdue);
        }
        if let Some(light) = light {
            q = light_filter(q, light, clock);
        }
        if let Some(text) = &text {
            let pattern = like_pattern(text);
            q = q.filter(
                crate::db::lower(tasks::title)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(crate::db::lower(tasks::code).like(pattern).escape('\\')),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let ordered = match sort.as_str() {
        "-due_date" => query().order((
            tasks::due_date.is_null().asc(),
            tasks::due_date.desc(),
            tasks::id.desc(),
        )),
        "code" => query().order((tasks::code.asc(), tasks::id.asc())),
        "-code" => query().order((tasks::code.desc(), tasks::id.desc())),
        "updated" => query().order((tasks::updated_at.asc(), tasks::id.asc())),
        "-updated" => query().order((tasks::updated_at.desc(), tasks::id.desc())),
        _ => query().order((
            tasks::due_date.is_null().asc(),
            tasks::due_date.asc(),
            tasks::id.asc(),
        )),
    };
    let rows: Vec<TaskRow> = ordered
        .select(TaskRow::as_select())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok(Page::new(views(conn, rows, clock)?, total, paging))
}

// ---- creating and changing tasks ----

/// Checks that units exist and are active; names the failing field.
pub(crate) fn check_units(
    conn: &mut DbConnection,
    v: &mut Validator,
    lead: Option<UnitId>,
    coops: &[UnitId],
) -> QueryResult<()> {
    let mut wanted: Vec<i64> = coops.iter().map(|u| u.0).collect();
    if let Some(l) = lead {
        wanted.push(l.0);
    }
    let active: Vec<i64> = units::table
        .filter(units::id.eq_any(&wanted))
        .filter(units::active.eq(true))
        .select(units::id)
        .load(conn)?;
    let missing = Message::new("单位不存在或已停用", "no such active unit");
    if let Some(l) = lead {
        if !active.contains(&l.0) {
            v.add("lead_unit_id", missing.clone());
        }
    }
    for (i, c) in coops.iter().enumerate() {
        if !active.contains(&c.0) {
            v.add(&format!("cooperating_unit_ids[{i}]"), missing.clone());
        } else if Some(*c) == lead {
            v.add(
                &format!("cooperating_unit_ids[{i}]"),
                Message::new(
                    "牵头单位不能同时是配合单位",
                    "the lead unit cannot also cooperate",
                ),
            );
        }
    }
    Ok(())
}

fn check_leader(
    conn: &mut DbConnection,
    v: &mut Validator,
    leader: Option<UserId>,
) -> QueryResult<()> {
    if let Some(l) = leader {
        let found: Option<(String, bool)> = users::table
            .find(l.0)
            .select((users::role, users::active))
            .first(conn)
            .optional()?;
        if found != Some((Role::Leader.as_str().to_string(), true)) {
            v.add(
                "responsible_leader_id",
                Message::new(
                    "责任领导必须是有效的领导账号",
                    "must be an active user with role leader",
                ),
            );
        }
    }
    Ok(())
}

fn code_taken() -> ApiError {
    ApiError::conflict(
        "task_code_taken",
        Message::new(
            "该方案中已有相同编号的任务",
            "the plan already has a task with this code",
        ),
    )
}

fn replace_cooperators(conn: &mut DbConnection, task: i64, coops: &[UnitId]) -> QueryResult<()> {
    diesel::delete(task_cooperators::table.filter(task_cooperators::task_id.eq(task)))
        .execute(conn)?;
    let mut seen = Vec::new();
    for c in coops {
        if !seen.contains(&c.0) {
            seen.push(c.0);
            diesel::insert_into(task_cooperators::table)
                .values((
                    task_cooperators::task_id.eq(task),
                    task_cooperators::unit_id.eq(c.0),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// Code → id of every task in the plan.
pub fn codes_in_plan(conn: &mut DbConnection, plan: i64) -> QueryResult<HashMap<String, i64>> {
    Ok(tasks::table
        .filter(tasks::plan_id.eq(plan))
        .select((tasks::code, tasks::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// The task, its row locked for this write transaction (`db::lock_row`).
pub fn find_locked(conn: &mut DbConnection, id: TaskId) -> ApiResult<TaskRow> {
    if !crate::db::lock_row(conn, crate::db::Locked::Tasks, id.0)? {
        return Err(ApiError::not_found());
    }
    find(conn, id.0)?.ok_or_else(ApiError::not_found)
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<TaskRow>> {
    tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(conn)
        .optional()
}

/// Who makes a task and how it starts.
pub struct Origin {
    /// None: the scheduler (a bulletin published by the monthly job).
    pub actor: Option<UserId>,
    /// Assigned at once (a bulletin's rectification task, the demo's history)
    /// rather than drafted; its due date is given, not counted in working days.
    pub assigned: bool,
    /// Why the task was made, said on its timeline.
    pub note: Option<String>,
}

impl Origin {
    /// A draft made by a person (the API, the import).
    pub fn draft(actor: UserId) -> Origin {
        Origin {
            actor: Some(actor),
            assigned: false,
            note: None,
        }
    }
}

/// Checks what a new task refers to: the plan, a parent in it, active units,
/// an active leader.
fn check_links(conn: &mut DbConnection, v: &mut Validator, links: &TaskLinks) -> QueryResult<()> {
    if plans::table
        .find(links.plan_id.0)
        .count()
        .get_result::<i64>(conn)?
        == 0
    {
        v.add("plan_id", Message::new("实施方案不存在", "no such plan"));
    }
    if let Some(parent) = links.parent_id {
        match find(conn, parent.0)? {
            Some(p) if p.plan_id == links.plan_id.0 => {}
            _ => v.add(
                "parent_id",
                Message::new("上级任务不存在或不属于该方案", "no such task in this plan"),
            ),
        }
    }
    check_units(
        conn,
        v,
        Some(links.lead_unit_id),
        &links.cooperating_unit_ids,
    )?;
    check_leader(conn, v, links.responsible_leader_id)
}

/// The answer to a task body that did not parse: its links are checked too,
/// so the one answer names every bad field.
pub fn refuse_new(conn: &mut DbConnection, rejected: Rejected<TaskLinks>) -> ApiError {
    let Rejected {
        errors: mut v,
        parsed: links,
    } = rejected;
    match check_links(conn, &mut v, &links) {
        Ok(()) => v.into_error().into(),
        Err(e) => e.into(),
    }
}

/// Creates a task: the one writer of task rows. A draft, or assigned at once
/// as `origin` says; with its cooperating units, the timeline ("created", and
/// "assigned" naming the lead unit) and the audit entry, in one transaction
/// (a savepoint inside a caller's).
pub fn create(
    conn: &mut DbConnection,
    origin: Origin,
    new: NewTask,
    now: NaiveDateTime,
) -> ApiResult<TaskRow> {
    conn.write(|conn| {
        let mut v = Validator::default();
        check_links(conn, &mut v, &new.links)?;
        v.finish()?;
        let links = &new.links;
        let status = if origin.assigned {
            TaskStatus::Assigned
        } else {
            TaskStatus::Draft
        };
        let row: TaskRow = diesel::insert_into(tasks::table)
            .values((
                tasks::plan_id.eq(links.plan_id),
                tasks::parent_id.eq(links.parent_id),
                tasks::code.eq(&new.code),
                tasks::title.eq(&new.title),
                tasks::description.eq(&new.description),
                tasks::lead_unit_id.eq(links.lead_unit_id),
                tasks::responsible_leader_id.eq(links.responsible_leader_id),
                tasks::start_date.eq(new.start_date),
                tasks::due_date.eq(new.due_date),
                tasks::due_working_days.eq(new.due_in_working_days),
                tasks::priority.eq(new.priority),
                tasks::category.eq(new.category),
                tasks::status.eq(status.as_str()),
                tasks::evidence_required.eq(new.evidence_required),
                tasks::report_day.eq(new.report_day),
                tasks::assigned_at.eq(origin.assigned.then_some(now)),
                tasks::created_at.eq(now),
                tasks::updated_at.eq(now),
            ))
            .returning(tasks::all_columns)
            .get_result(conn)
            .map_err(|e| ApiError::unique_or(e, code_taken))?;
        replace_cooperators(conn, row.id, &links.cooperating_unit_ids)?;
        let assigned = origin
            .assigned
            .then_some(("assigned", Some(row.lead_unit_id)));
        for (kind, unit_id) in std::iter::once(("created", None)).chain(assigned) {
            events::record(
                conn,
                NewEvent {
                    task_id: row.id,
                    kind,
                    actor: origin.actor,
                    unit_id,
                    note: origin.note.clone(),
                    data: None,
                },
                now,
            )?;
        }
        audit_task(conn, origin.actor, "create", None, Some(&row), now)?;
        Ok(row)
    })
}

/// The audit record of a task: its row as JSON, with the cooperating units.
pub fn audit_task(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    action: &str,
    before: Option<&TaskRow>,
    after: Option<&TaskRow>,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let snapshot = |conn: &mut DbConnection, row: &TaskRow| -> QueryResult<serde_json::Value> {
        let coops = visibility::cooperators(conn, row.id)?;
        Ok(serde_json::json!({
            "id": row.id, "plan_id": row.plan_id, "parent_id": row.parent_id, "code": row.code,
            "title": row.title, "lead_unit_id": row.lead_unit_id, "cooperating_unit_ids": coops,
            "responsible_leader_id": row.responsible_leader_id, "due_date": row.due_date,
            "original_due_date": row.original_due_date, "status": row.status, "version": row.version,
        }))
    };
    let entity_id = after.or(before).map(|r| r.id);
    let before = before.map(|r| snapshot(conn, r)).transpose()?;
    let after = after.map(|r| snapshot(conn, r)).transpose()?;
    audit::record(
        conn,
        audit::Change {
            actor,
            action,
            entity: "task",
            entity_id,
            before,
            after,
        },
        now,
    )?;
    Ok(())
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = tasks)]
struct TaskChangeset {
    code: Option<String>,
    title: Option<String>,
    description: Option<Option<String>>,
    parent_id: Option<Option<TaskId>>,
    lead_unit_id: Option<UnitId>,
    responsible_leader_id: Option<Option<UserId>>,
    start_date: Option<Option<NaiveDate>>,
    due_date: Option<Option<NaiveDate>>,
    original_due_date: Option<Option<NaiveDate>>,
    due_working_days: Option<Option<i32>>,
    priority: Option<Priority>,
    category: Option<Category>,
    evidence_required: Option<bool>,
    report_day: Option<Option<i32>>,
    version: Option<i64>,
    updated_at: Option<NaiveDateTime>,
}

/// Changes a task (office). Moving the due date of a task already assigned
/// needs a reason, which goes on the timeline; the first due date is kept.
pub fn update(
    conn: &mut DbConnection,
    actor: UserId,
    id: TaskId,
    changes: TaskChanges,
    now: NaiveDateTime,
) -> ApiResult<TaskRow> {
    apply(conn, actor, id, changes, Validator::default(), now)
}

/// The answer to changes that did not parse: the task, its version and what
/// did parse are checked as for good changes, so the answer is what it was
/// before parsing moved to the edge (404, then 409, then every bad field).
pub fn refuse_changes(
    conn: &mut DbConnection,
    actor: UserId,
    id: TaskId,
    rejected: Rejected<TaskChanges>,
    now: NaiveDateTime,
) -> ApiError {
    match apply(conn, actor, id, rejected.parsed, rejected.errors, now) {
        Err(e) => e,
        Ok(_) => ApiError::internal(anyhow::anyhow!("rejected task changes were applied")),
    }
}

/// Checks `req` against the stored task and writes it unless `v` holds errors.
fn apply(
    conn: &mut DbConnection,
    actor: UserId,
    id: TaskId,
    req: TaskChanges,
    mut v: Validator,
    now: NaiveDateTime,
) -> ApiResult<TaskRow> {
    let mut changes = TaskChangeset {
        code: req.code.clone(),
        title: req.title.clone(),
        description: req.description.clone(),
        parent_id: req.parent_id,
        lead_unit_id: req.lead_unit_id,
        responsible_leader_id: req.responsible_leader_id,
        start_date: req.start_date,
        due_date: req.due_date,
        due_working_days: req.due_in_working_days,
        priority: req.priority,
        category: req.category,
        evidence_required: req.evidence_required,
        report_day: req.report_day,
        ..Default::default()
    };
    let reason = req.due_date_reason.clone();
    conn.write(|conn| {
        let current = find_locked(conn, id)?;
        if current.version != req.version {
            return Err(ApiError::stale_version_sent(req.version, current.version));
        }
        let lead = req.lead_unit_id.or(Some(UnitId(current.lead_unit_id)));
        let coops: Vec<UnitId> = match &req.cooperating_unit_ids {
            Some(c) => c.clone(),
            None => visibility::cooperators(conn, current.id)?
                .into_iter()
                .map(UnitId)
                .collect(),
        };
        if req.lead_unit_id.is_some() || req.cooperating_unit_ids.is_some() {
            check_units(conn, &mut v, lead, &coops)?;
        }
        if let Some(Some(leader)) = req.responsible_leader_id {
            check_leader(conn, &mut v, Some(leader))?;
        }
        if let Some(Some(parent)) = req.parent_id {
            check_parent(conn, &mut v, &current, parent.0)?;
        }
        let due_moves = matches!(changes.due_date, Some(new) if new != current.due_date);
        let status = current.status()?;
        if due_moves && status != TaskStatus::Draft && reason.is_none() {
            v.add(
                "due_date_reason",
                Message::new(
                    "已交办任务调整完成时限须说明理由",
                    "changing the due date of an assigned task needs a reason",
                ),
            );
        }
        std::mem::take(&mut v).finish()?;
        if due_moves && status != TaskStatus::Draft && current.original_due_date.is_none() {
            changes.original_due_date = Some(current.due_date);
        }
        changes.version = Some(current.version + 1);
        changes.updated_at = Some(now);
        let updated: TaskRow = diesel::update(tasks::table.find(current.id))
            .set(&changes)
            .returning(tasks::all_columns)
            .get_result(conn)
            .map_err(|e| ApiError::unique_or(e, code_taken))?;
        if req.cooperating_unit_ids.is_some() {
            replace_cooperators(conn, current.id, &coops)?;
        }
        let (kind, note, data) = if due_moves && status != TaskStatus::Draft {
            (
                "due_date_changed",
                reason.clone(),
                Some(serde_json::json!({ "from": current.due_date, "to": updated.due_date })),
            )
        } else {
            ("updated", None, None)
        };
        events::record(
            conn,
            NewEvent {
                task_id: current.id,
                kind,
                actor: Some(actor),
                unit_id: None,
                note,
                data,
            },
            now,
        )?;
        audit_task(
            conn,
            Some(actor),
            "update",
            Some(&current),
            Some(&updated),
            now,
        )?;
        Ok(updated)
    })
}

/// A new parent must be in the same plan and must not be the task or below it.
fn check_parent(
    conn: &mut DbConnection,
    v: &mut Validator,
    task: &TaskRow,
    parent: i64,
) -> QueryResult<()> {
    let mut cursor = Some(parent);
    let mut steps = 0;
    while let Some(at) = cursor {
        if at == task.id || steps > 10_000 {
            v.add(
                "parent_id",
                Message::new(
                    "上级任务不能是本任务或其下级任务",
                    "a task cannot be placed under itself",
                ),
            );
            return Ok(());
        }
        match find(conn, at)? {
            Some(p) if p.plan_id == task.plan_id => cursor = p.parent_id,
            _ => {
                v.add(
                    "parent_id",
                    Message::new("上级任务不存在或不属于该方案", "no such task in this plan"),
                );
                return Ok(());
            }
        }
        steps += 1;
    }
    Ok(())
}
