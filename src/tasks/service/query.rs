//! Task queries: finding one task (locked for a write or not), the plan's
//! codes, and the filtered, sorted, paged list with its SQL filters (unit,
//! overdue, light, report: the rules of `domain::traffic` written as SQL).

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::db::schema::{progress_reports, task_co_leaders, task_cooperators, tasks};
use crate::db::search::like_pattern;
use crate::db::{DbBackend, DbConnection};
use crate::domain::clock::Clock;
use crate::domain::report_cycle::{ReportCadence, ReportCycle};
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::domain::{PlanId, TaskId, UnitId, UserId};
use crate::error::{Error, Result};
use crate::http::{Page, Paging};
use crate::tasks::input::{ListFilter, ReportFilter, Sort};
use crate::tasks::model::{TaskRow, TaskView};
use crate::tasks::visibility::Scope;

use super::view::views;
type TaskQuery = tasks::BoxedQuery<'static, DbBackend>;

// The tasks table under another name, for subqueries over tasks inside a
// query over tasks.
diesel::alias!(tasks as inner: InnerTasks);

/// Tasks the unit leads or cooperates on: one `IN` over two index lookups
/// (`UNION ALL`), not `lead_unit_id = ? OR id IN (…)`: PostgreSQL cannot
/// serve an OR with a subquery from an index and read every task of the
/// city for each clerk's list (a clerk's home page took 30 s at 100,000
/// tasks); the union costs what the unit's own tasks hold.
fn unit_filter(q: TaskQuery, unit: UnitId) -> TaskQuery {
    q.filter(
        tasks::id.eq_any(
            inner
                .filter(inner.field(tasks::lead_unit_id).eq(unit))
                .select(inner.field(tasks::id))
                .union_all(
                    task_cooperators::table
                        .filter(task_cooperators::unit_id.eq(unit))
                        .select(task_cooperators::task_id),
                ),
        ),
    )
}

/// Tasks the leader is responsible or co-responsible for (a union, as
/// `unit_filter` says why).
fn leader_filter(q: TaskQuery, leader: UserId) -> TaskQuery {
    q.filter(
        tasks::id.eq_any(
            inner
                .filter(inner.field(tasks::responsible_leader_id).eq(leader))
                .select(inner.field(tasks::id))
                .union_all(
                    task_co_leaders::table
                        .filter(task_co_leaders::user_id.eq(leader))
                        .select(task_co_leaders::task_id),
                ),
        ),
    )
}

const OPEN: [TaskStatus; 2] = [TaskStatus::Assigned, TaskStatus::InProgress];

/// Red, as `domain::traffic::light` says (`tests/api/traffic.rs` checks that
/// they agree): open and past due, or submitted after the due date (as of
/// today when the submission date is unknown).
fn red_filter(q: TaskQuery, today: NaiveDate, red: bool) -> TaskQuery {
    let due = tasks::due_date.assume_not_null();
    let open_late = tasks::status
        .eq_any(OPEN)
        .and(tasks::due_date.is_not_null())
        .and(due.lt(today));
    let submitted_late = tasks::status
        .eq(TaskStatus::Submitted)
        .and(tasks::due_date.is_not_null())
        .and(
            tasks::submitted_on
                .is_not_null()
                .and(tasks::submitted_on.assume_not_null().gt(due))
                .or(tasks::submitted_on.is_null().and(due.lt(today))),
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
            .filter(tasks::status.ne_all([TaskStatus::Draft, TaskStatus::Cancelled]))
            .filter(diesel::dsl::not(yellow)),
    }
}

type Condition = Box<dyn BoxableExpression<tasks::table, DbBackend, SqlType = Bool>>;

/// Owed or missing progress reports, as `domain::traffic::report_owed` and
/// `report_missing` say (`tests/api/traffic.rs` checks that they agree). Each
/// reads "started before local date S, and the lead unit has not reported
/// since local date R", with S and R set by the reporting cycle (owed is
/// also missing, or, within a month of the next report date, the report of
/// the next one); stored instants are UTC, so each local date becomes the
/// instant its day starts, and the cycles that share both instants and a
/// cadence share one branch.
fn report_filter(q: TaskQuery, which: ReportFilter, clock: &Clock) -> TaskQuery {
    type Bounds = (NaiveDateTime, NaiveDateTime, ReportCadence);
    let mut bounds: BTreeMap<Bounds, Vec<i32>> = BTreeMap::new();
    for cadence in ReportCadence::ALL {
        for day in 1..=31 {
            let Some(cycle) = ReportCycle::new(cadence, day) else {
                continue;
            };
            let Some((due, previous)) = cycle.report_dates(clock.today) else {
                continue;
            };
            // Missing implies owed within the month before the next report
            // date, so there the one condition covers both.
            let next = cycle.next_report_date(clock.today);
            let opens = next.and_then(|n| cycle.owed_after(n));
            let (started_before, reported_after) = match (which, next, opens) {
                (ReportFilter::Owed, Some(next), Some(opens)) if opens < clock.today => (next, due),
                _ => (due, previous),
            };
            let since = clock.day_start(reported_after + Duration::days(1));
            bounds
                .entry((clock.day_start(started_before), since, cadence))
                .or_default()
                .push(day);
        }
    }
    let mut any: Option<Condition> = None;
    for ((started_before, since, cadence), days) in bounds {
        // Started: signed for, or else assigned (`TaskRow::started_at`).
        let started = tasks::accepted_at
            .is_not_null()
            .and(tasks::accepted_at.assume_not_null().lt(started_before))
            .or(tasks::accepted_at.is_null().and(
                tasks::assigned_at
                    .is_not_null()
                    .and(tasks::assigned_at.assume_not_null().lt(started_before)),
            ));
        let reported = progress_reports::table
            .filter(progress_reports::task_id.eq(tasks::id))
            .filter(progress_reports::unit_id.eq(tasks::lead_unit_id))
            .filter(progress_reports::created_at.ge(since))
            .select(progress_reports::id);
        let branch = tasks::report_cadence
            .eq(cadence)
            .and(tasks::report_day.assume_not_null().eq_any(days))
            .and(started)
            .and(diesel::dsl::not(diesel::dsl::exists(reported)));
        any = Some(match any {
            None => Box::new(branch),
            Some(earlier) => Box::new(earlier.or(branch)),
        });
    }
    let q = q
        .filter(tasks::status.eq_any(OPEN))
        .filter(tasks::report_day.is_not_null());
    match any {
        Some(any) => q.filter(any),
        None => q.filter(tasks::id.eq(-1)),
    }
}

/// Every task in `scope`.
fn in_sight(scope: Scope) -> TaskQuery {
    let q = tasks::table.into_boxed();
    match scope {
        Scope::All => q,
        Scope::Unit(u) => unit_filter(q, u),
        Scope::Leader(l) => leader_filter(q, l),
        Scope::Nothing => q.filter(tasks::id.eq(-1)),
    }
}

/// The overdue tasks in sight of one lead unit: how many (the rows
/// `?overdue=true&lead_unit_id=` lists) and the most days one is overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitOverdue {
    pub unit_id: UnitId,
    pub count: i64,
    pub most_days: i64,
}

/// Lead unit, status, submission day; how many, the oldest due date.
type OverdueGroup = (
    UnitId,
    TaskStatus,
    Option<NaiveDate>,
    i64,
    Option<NaiveDate>,
);

/// The overdue tasks in sight, by lead unit, most first: the list's own
/// `overdue` filter, counted by GROUP BY. Days overdue differ between open
/// tasks (as of today) and submitted ones (as of their submission), so the
/// groups are also split by status and submission day, and the oldest due
/// date of each group is judged by `domain::traffic::days_overdue`.
pub fn overdue_by_lead_unit(
    conn: &mut DbConnection,
    scope: Scope,
    clock: &Clock,
) -> Result<Vec<UnitOverdue>> {
    use diesel::dsl::{count_star, min};
    // Boxed queries cannot be grouped, nor (on diesel's MultiBackend) nest
    // as subqueries: the list's own filter picks the ids first, then SQL
    // groups them (in chunks: SQLite bounds the number of parameters).
    let overdue: Vec<TaskId> = red_filter(in_sight(scope), clock.today, true)
        .select(tasks::id)
        .load(conn)?;
    let mut groups: Vec<OverdueGroup> = Vec::new();
    for ids in overdue.chunks(5000) {
        groups.extend(
            tasks::table
                .filter(tasks::id.eq_any(ids))
                .group_by((tasks::lead_unit_id, tasks::status, tasks::submitted_on))
                .select((
                    tasks::lead_unit_id,
                    tasks::status,
                    tasks::submitted_on,
                    count_star(),
                    min(tasks::due_date),
                ))
                .load::<OverdueGroup>(conn)?,
        );
    }
    let mut out: Vec<UnitOverdue> = Vec::new();
    for (unit_id, status, submitted_on, count, due) in groups {
        let timing = crate::domain::traffic::TaskTiming {
            status,
            due,
            submitted_on,
            returned: false,
        };
        let days = crate::domain::traffic::days_overdue(&timing, clock.today);
        match out.iter_mut().find(|u| u.unit_id == unit_id) {
            Some(u) => {
                u.count += count;
                u.most_days = u.most_days.max(days);
            }
            None => out.push(UnitOverdue {
                unit_id,
                count,
                most_days: days,
            }),
        }
    }
    out.sort_by(|a, b| (b.count, b.most_days, a.unit_id).cmp(&(a.count, a.most_days, b.unit_id)));
    Ok(out)
}

/// One page of the tasks in sight that `filter` selects, as views for today.
pub fn list(
    conn: &mut DbConnection,
    scope: Scope,
    filter: &ListFilter,
    paging: Paging,
    clock: &Clock,
) -> Result<Page<TaskView>> {
    let query = || {
        let mut q = in_sight(scope);
        if let Some(plan) = filter.plan_id {
            q = q.filter(tasks::plan_id.eq(plan));
        }
        if let Some(unit) = filter.unit_id {
            q = unit_filter(q, unit);
        }
        if let Some(unit) = filter.lead_unit_id {
            q = q.filter(tasks::lead_unit_id.eq(unit));
        }
        if let Some(status) = filter.status {
            q = q.filter(tasks::status.eq(status));
        }
        if let Some(leader) = filter.leader_id {
            q = leader_filter(q, leader);
        }
        if let Some(parent) = filter.parent_id {
            q = q.filter(tasks::parent_id.eq(parent));
        }
        if let Some(category) = &filter.category {
            q = q.filter(tasks::category.eq(category.clone()));
        }
        if let Some(d) = filter.due_before {
            q = q.filter(tasks::due_date.le(d));
        }
        if let Some(d) = filter.due_after {
            q = q.filter(tasks::due_date.ge(d));
        }
        if let Some(returned) = filter.returned {
            q = q.filter(tasks::returned.eq(returned));
        }
        if let Some(overdue) = filter.overdue {
            q = red_filter(q, clock.today, overdue);
        }
        if let Some(light) = filter.light {
            q = light_filter(q, light, clock);
        }
        if let Some(report) = filter.report {
            q = report_filter(q, report, clock);
        }
        if let Some(text) = &filter.text {
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
    let ordered = match filter.sort {
        Sort::DueDateDesc => query().order((
            tasks::due_date.is_null().asc(),
            tasks::due_date.desc(),
            tasks::id.desc(),
        )),
        Sort::Code => query().order((tasks::code.asc(), tasks::id.asc())),
        Sort::CodeDesc => query().order((tasks::code.desc(), tasks::id.desc())),
        Sort::Updated => query().order((tasks::updated_at.asc(), tasks::id.asc())),
        Sort::UpdatedDesc => query().order((tasks::updated_at.desc(), tasks::id.desc())),
        Sort::Submitted => query().order((
            tasks::submitted_at.is_null().asc(),
            tasks::submitted_at.asc(),
            tasks::id.asc(),
        )),
        Sort::DueDate => query().order((
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

/// Code → id of every task in the plan.
pub fn codes_in_plan(
    conn: &mut DbConnection,
    plan: PlanId,
) -> QueryResult<HashMap<String, TaskId>> {
    Ok(tasks::table
        .filter(tasks::plan_id.eq(plan))
        .select((tasks::code, tasks::id))
        .load::<(String, TaskId)>(conn)?
        .into_iter()
        .collect())
}

/// The task, its row locked for this write transaction by the statement
/// that reads it (`db::read_locked`).
pub fn find_locked(conn: &mut DbConnection, id: TaskId) -> Result<TaskRow> {
    crate::db::read_locked(
        conn,
        |conn| find(conn, id),
        |pg| {
            tasks::table
                .find(id)
                .select(TaskRow::as_select())
                .for_update()
                .first(pg)
                .optional()
        },
    )?
    .ok_or(Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: TaskId) -> QueryResult<Option<TaskRow>> {
    // Every read and write of a task starts here: on the backend's own
    // connection (`db::per_backend`).
    crate::db::per_backend!(conn, c => tasks::table
        .find(id)
        .select(TaskRow::as_select())
        .first(c)
        .optional())
}
