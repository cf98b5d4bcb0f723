//! Task writes: creating (the one writer of task rows) and changing tasks,
//! with the checks that need the database (plan, parent, units, leader), the
//! cooperating units, the timeline and the audit entry.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::audit;
use crate::db::schema::{plans, task_co_leaders, task_cooperators, tasks, units, users};
use crate::db::DbConnection;
use crate::domain::kinds::{Category, Priority};
use crate::domain::report_cycle::ReportCadence;
use crate::domain::task_state::TaskStatus;
use crate::domain::{Message, Role, TaskId, UnitId, UserId};
use crate::error::Validator;
use crate::error::{Conflict, Error, Result};
use crate::tasks::events::{self, NewEvent};
use crate::tasks::input::{NewTask, Rejected, TaskChanges, TaskLinks};
use crate::tasks::model::TaskRow;
use crate::tasks::visibility;

use super::query::{find, find_locked};
/// Checks that units exist and are active; names the failing field.
pub fn check_units(
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

/// Co-responsible leaders must be active leader accounts, other than the
/// responsible leader; names the failing `co_leader_ids[i]`.
fn check_co_leaders(
    conn: &mut DbConnection,
    v: &mut Validator,
    responsible: Option<UserId>,
    co_leaders: &[UserId],
) -> QueryResult<()> {
    if co_leaders.is_empty() {
        return Ok(());
    }
    let wanted: Vec<i64> = co_leaders.iter().map(|u| u.0).collect();
    let leaders: Vec<i64> = users::table
        .filter(users::id.eq_any(&wanted))
        .filter(users::role.eq(Role::Leader.as_str()))
        .filter(users::active.eq(true))
        .select(users::id)
        .load(conn)?;
    for (i, l) in co_leaders.iter().enumerate() {
        let field = format!("co_leader_ids[{i}]");
        if !leaders.contains(&l.0) {
            v.add(
                &field,
                Message::new(
                    "共同责任领导必须是有效的领导账号",
                    "must be an active user with role leader",
                ),
            );
        } else if Some(*l) == responsible {
            v.add(
                &field,
                Message::new(
                    "责任领导不能同时是共同责任领导",
                    "the responsible leader cannot also be a co-responsible leader",
                ),
            );
        }
    }
    Ok(())
}

fn replace_co_leaders(
    conn: &mut DbConnection,
    task: TaskId,
    co_leaders: &[UserId],
) -> QueryResult<()> {
    diesel::delete(task_co_leaders::table.filter(task_co_leaders::task_id.eq(task)))
        .execute(conn)?;
    let mut seen = Vec::new();
    for l in co_leaders {
        if !seen.contains(l) {
            seen.push(*l);
            diesel::insert_into(task_co_leaders::table)
                .values((
                    task_co_leaders::task_id.eq(task),
                    task_co_leaders::user_id.eq(l),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

fn replace_cooperators(conn: &mut DbConnection, task: TaskId, coops: &[UnitId]) -> QueryResult<()> {
    diesel::delete(task_cooperators::table.filter(task_cooperators::task_id.eq(task)))
        .execute(conn)?;
    let mut seen = Vec::new();
    for c in coops {
        if !seen.contains(c) {
            seen.push(*c);
            diesel::insert_into(task_cooperators::table)
                .values((
                    task_cooperators::task_id.eq(task),
                    task_cooperators::unit_id.eq(c),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
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
        .find(links.plan_id)
        .count()
        .get_result::<i64>(conn)?
        == 0
    {
        v.add("plan_id", Message::new("实施方案不存在", "no such plan"));
    }
    if let Some(parent) = links.parent_id {
        match find(conn, parent)? {
            Some(p) if p.plan_id == links.plan_id => {}
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
    check_leader(conn, v, links.responsible_leader_id)?;
    check_co_leaders(conn, v, links.responsible_leader_id, &links.co_leader_ids)
}

/// The answer to a task body that did not parse: its links are checked too,
/// so the one answer names every bad field.
pub fn refuse_new(conn: &mut DbConnection, rejected: Rejected<TaskLinks>) -> Error {
    let Rejected {
        errors: mut v,
        parsed: links,
    } = rejected;
    match check_links(conn, &mut v, &links) {
        Ok(()) => v.into_error(),
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
) -> Result<TaskRow> {
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
                tasks::due_text.eq(&new.due_text),
                tasks::due_working_days.eq(new.due_in_working_days),
                tasks::priority.eq(new.priority),
                tasks::category.eq(new.category),
                tasks::status.eq(status),
                tasks::evidence_required.eq(new.evidence_required),
                tasks::report_day.eq(new.report_day),
                tasks::report_cadence.eq(new.report_cadence),
                tasks::assigned_at.eq(origin.assigned.then_some(now)),
                tasks::created_at.eq(now),
                tasks::updated_at.eq(now),
            ))
            .returning(tasks::all_columns)
            .get_result(conn)
            .map_err(|e| Error::unique_or(e, Conflict::TaskCodeTaken))?;
        replace_cooperators(conn, row.id, &links.cooperating_unit_ids)?;
        replace_co_leaders(conn, row.id, &links.co_leader_ids)?;
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
) -> Result<()> {
    let snapshot = |conn: &mut DbConnection, row: &TaskRow| -> QueryResult<serde_json::Value> {
        let coops = visibility::cooperators(conn, row.id)?;
        let co_leaders = visibility::co_leaders(conn, row.id)?;
        Ok(serde_json::json!({
            "id": row.id, "plan_id": row.plan_id, "parent_id": row.parent_id, "code": row.code,
            "title": row.title, "lead_unit_id": row.lead_unit_id, "cooperating_unit_ids": coops,
            "responsible_leader_id": row.responsible_leader_id, "co_leader_ids": co_leaders,
            "due_date": row.due_date,
            "original_due_date": row.original_due_date, "status": row.status, "version": row.version,
        }))
    };
    let entity_id = after.or(before).map(|r| r.id.0);
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
    due_text: Option<Option<String>>,
    original_due_date: Option<Option<NaiveDate>>,
    due_working_days: Option<Option<i32>>,
    priority: Option<Priority>,
    category: Option<Category>,
    evidence_required: Option<bool>,
    report_day: Option<Option<i32>>,
    report_cadence: Option<ReportCadence>,
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
) -> Result<TaskRow> {
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
) -> Error {
    match apply(conn, actor, id, rejected.parsed, rejected.errors, now) {
        Err(e) => e,
        Ok(_) => Error::Internal(anyhow::anyhow!("rejected task changes were applied")),
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
) -> Result<TaskRow> {
    let mut changes = TaskChangeset {
        code: req.code.clone(),
        title: req.title.clone(),
        description: req.description.clone(),
        parent_id: req.parent_id,
        lead_unit_id: req.lead_unit_id,
        responsible_leader_id: req.responsible_leader_id,
        start_date: req.start_date,
        due_date: req.due_date,
        due_text: req.due_text.clone(),
        due_working_days: req.due_in_working_days,
        priority: req.priority,
        category: req.category,
        evidence_required: req.evidence_required,
        report_day: req.report_day,
        report_cadence: req.report_cadence,
        ..Default::default()
    };
    let reason = req.due_date_reason.clone();
    conn.write(|conn| {
        let current = find_locked(conn, id)?;
        if current.version != req.version {
            return Err(Error::stale(req.version, current.version));
        }
        let lead = req.lead_unit_id.or(Some(current.lead_unit_id));
        let coops: Vec<UnitId> = match &req.cooperating_unit_ids {
            Some(c) => c.clone(),
            None => visibility::cooperators(conn, current.id)?,
        };
        if req.lead_unit_id.is_some() || req.cooperating_unit_ids.is_some() {
            check_units(conn, &mut v, lead, &coops)?;
        }
        if let Some(Some(leader)) = req.responsible_leader_id {
            check_leader(conn, &mut v, Some(leader))?;
        }
        let responsible = req
            .responsible_leader_id
            .unwrap_or(current.responsible_leader_id);
        let co_leaders: Vec<UserId> = match &req.co_leader_ids {
            Some(c) => c.clone(),
            None => visibility::co_leaders(conn, current.id)?,
        };
        if req.co_leader_ids.is_some() || req.responsible_leader_id.is_some() {
            check_co_leaders(conn, &mut v, responsible, &co_leaders)?;
        }
        if let Some(Some(parent)) = req.parent_id {
            check_parent(conn, &mut v, &current, parent)?;
        }
        let due_moves = matches!(changes.due_date, Some(new) if new != current.due_date);
        let status = current.status;
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
        let report_day_moves = matches!(changes.report_day, Some(new) if new != current.report_day)
            || matches!(changes.report_cadence, Some(new) if new != current.report_cadence);
        if (due_moves || report_day_moves) && changes.due_text.is_none() {
            // The table's wording said the old deadline; it no longer holds.
            changes.due_text = Some(None);
        }
        changes.version = Some(current.version + 1);
        changes.updated_at = Some(now);
        // The version is checked again in the UPDATE itself, so that a
        // concurrent writer is refused by the database, not by a read.
        let updated: TaskRow = diesel::update(
            tasks::table
                .find(current.id)
                .filter(tasks::version.eq(current.version)),
        )
        .set(&changes)
        .returning(tasks::all_columns)
        .get_result(conn)
        .optional()
        .map_err(|e| Error::unique_or(e, Conflict::TaskCodeTaken))?
        .ok_or_else(|| Error::stale(req.version, current.version + 1))?;
        if req.cooperating_unit_ids.is_some() {
            replace_cooperators(conn, current.id, &coops)?;
        }
        if req.co_leader_ids.is_some() {
            replace_co_leaders(conn, current.id, &co_leaders)?;
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
    parent: TaskId,
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
