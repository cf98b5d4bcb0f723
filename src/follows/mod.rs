//! 关注 (follows): a leader, the office or an administrator follows a task or
//! a unit. Followed items head the person's home page, and the daily scan
//! sends each follower one digest of what changed in them
//! (`notices::scan::follows`). One may follow only what one can see: a task
//! out of sight answers 404 as everywhere else (`tasks::visibility`). A
//! second follow of the same item changes nothing: the unique indexes decide.

pub mod routes;

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{AuthUser, Permission};
use crate::db::schema::{follows, tasks, units};
use crate::db::{self, DbConnection};
use crate::domain::clock::Clock;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::domain::{TaskId, UnitId, UserId};
use crate::error::{Error, Result};
use crate::tasks::model::TaskRow;
use crate::tasks::service;
use crate::tasks::visibility::{self, Scope};

/// What is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Task(TaskId),
    Unit(UnitId),
}

impl Target {
    fn columns(self) -> (Option<TaskId>, Option<UnitId>) {
        match self {
            Target::Task(t) => (Some(t), None),
            Target::Unit(u) => (None, Some(u)),
        }
    }
}

/// The answer to a follow or an unfollow.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowState {
    pub task_id: Option<TaskId>,
    pub unit_id: Option<UnitId>,
    pub following: bool,
}

impl FollowState {
    pub fn of(target: Target, following: bool) -> FollowState {
        let (task_id, unit_id) = target.columns();
        FollowState {
            task_id,
            unit_id,
            following,
        }
    }
}

/// A followed task as the follower sees it today.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowedTask {
    pub task_id: TaskId,
    pub code: String,
    pub title: String,
    pub lead_unit_id: UnitId,
    pub lead_unit: String,
    pub status: TaskStatus,
    pub light: Option<TrafficLight>,
    pub due_date: Option<NaiveDate>,
    pub days_overdue: i64,
    #[serde(serialize_with = "crate::http::instant::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub followed_at: NaiveDateTime,
}

/// A followed unit with its overdue tasks in the follower's sight.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowedUnit {
    pub unit_id: UnitId,
    pub name: String,
    /// Overdue tasks it leads (as the task list's `overdue=true` counts them).
    pub overdue: i64,
    /// The most days one of them is overdue; 0 when none is.
    pub most_days_overdue: i64,
    #[serde(serialize_with = "crate::http::instant::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub followed_at: NaiveDateTime,
}

/// Everything a person follows, tasks by code, units by name. A followed
/// task that has left the person's sight is not listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Followed {
    pub tasks: Vec<FollowedTask>,
    pub units: Vec<FollowedUnit>,
}

impl Followed {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.units.is_empty()
    }
}

/// 404 unless the person may see what `target` names.
fn check_visible(conn: &mut DbConnection, scope: Scope, target: Target) -> Result<()> {
    match target {
        Target::Task(id) => visibility::find_visible(conn, scope, id).map(|_| ()),
        Target::Unit(id) => {
            // Every role that may follow reads every unit's record.
            let found: i64 = units::table.find(id.0).count().get_result(conn)?;
            if found == 0 {
                Err(Error::NotFound)
            } else {
                Ok(())
            }
        }
    }
}

fn follow_row(
    user: UserId,
    target: Target,
) -> follows::BoxedQuery<'static, crate::db::DbBackend, diesel::sql_types::BigInt> {
    let q = follows::table
        .filter(follows::user_id.eq(user))
        .select(follows::id)
        .into_boxed();
    match target {
        Target::Task(t) => q.filter(follows::task_id.eq(t)),
        Target::Unit(u) => q.filter(follows::unit_id.eq(u)),
    }
}

/// Follows `target`; true when the follow is new, false when it was there.
pub fn follow(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    target: Target,
    now: NaiveDateTime,
) -> Result<bool> {
    auth.permit(Permission::Follow)?;
    check_visible(conn, scope, target)?;
    let (task_id, unit_id) = target.columns();
    let inserted = conn.write(|conn| -> QueryResult<bool> {
        // Looked up first so that a repeated click does not put a refused
        // insert into the database log; two clicks at once are told apart
        // by the unique index.
        if follow_row(auth.id, target)
            .first::<i64>(conn)
            .optional()?
            .is_some()
        {
            return Ok(false);
        }
        diesel::insert_into(follows::table)
            .values((
                follows::user_id.eq(auth.id),
                follows::task_id.eq(task_id),
                follows::unit_id.eq(unit_id),
                follows::created_at.eq(now),
            ))
            .execute(conn)?;
        Ok(true)
    });
    match inserted {
        Ok(created) => Ok(created),
        Err(e) if db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Stops following `target` (nothing happens when it was not followed).
pub fn unfollow(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    target: Target,
) -> Result<()> {
    auth.permit(Permission::Follow)?;
    check_visible(conn, scope, target)?;
    let ids: Vec<i64> = follow_row(auth.id, target).load(conn)?;
    diesel::delete(follows::table.filter(follows::id.eq_any(ids))).execute(conn)?;
    Ok(())
}

/// Whether the person follows `target`.
pub fn is_following(conn: &mut DbConnection, user: UserId, target: Target) -> Result<bool> {
    Ok(follow_row(user, target)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

/// What the person follows, as seen today.
pub fn list(
    conn: &mut DbConnection,
    user: UserId,
    scope: Scope,
    clock: &Clock,
) -> Result<Followed> {
    type Row = (Option<TaskId>, Option<UnitId>, NaiveDateTime);
    let rows: Vec<Row> = follows::table
        .filter(follows::user_id.eq(user))
        .select((follows::task_id, follows::unit_id, follows::created_at))
        .order(follows::id.asc())
        .load(conn)?;
    let when_task: HashMap<TaskId, NaiveDateTime> = rows
        .iter()
        .filter_map(|(t, _, at)| Some(((*t)?, *at)))
        .collect();
    let when_unit: HashMap<UnitId, NaiveDateTime> = rows
        .iter()
        .filter_map(|(_, u, at)| Some(((*u)?, *at)))
        .collect();

    let task_rows: Vec<TaskRow> = tasks::table
        .filter(tasks::id.eq_any(when_task.keys().copied().collect::<Vec<_>>()))
        .select(TaskRow::as_select())
        .load(conn)?;
    let ids: Vec<TaskId> = task_rows.iter().map(|r| r.id).collect();
    let parties = visibility::PartiesOf::load(conn, &ids)?;
    let seen: Vec<TaskRow> = task_rows
        .into_iter()
        .filter(|r| parties.sees(scope, r))
        .collect();
    let views = service::views(conn, seen, clock)?;

    let unit_ids: Vec<UnitId> = views
        .iter()
        .map(|v| v.lead_unit_id)
        .chain(when_unit.keys().copied())
        .collect();
    let names: HashMap<UnitId, String> = units::table
        .filter(units::id.eq_any(unit_ids))
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect();
    let name = |id: UnitId| names.get(&id).cloned().unwrap_or_else(|| id.to_string());

    let mut tasks: Vec<FollowedTask> = views
        .into_iter()
        .map(|v| FollowedTask {
            followed_at: when_task.get(&v.id).copied().unwrap_or_default(),
            task_id: v.id,
            lead_unit: name(v.lead_unit_id),
            lead_unit_id: v.lead_unit_id,
            code: v.code,
            title: v.title,
            status: v.status,
            light: v.light,
            due_date: v.due_date,
            days_overdue: v.days_overdue,
        })
        .collect();
    tasks.sort_by_cached_key(|t| crate::tasks::tree::sort_key(&t.code));

    let overdue: HashMap<UnitId, (i64, i64)> = if when_unit.is_empty() {
        HashMap::new()
    } else {
        service::overdue_by_lead_unit(conn, scope, clock)?
            .into_iter()
            .map(|g| (g.unit_id, (g.count, g.most_days)))
            .collect()
    };
    let mut units: Vec<FollowedUnit> = when_unit
        .iter()
        .map(|(id, at)| {
            let (count, days) = overdue.get(id).copied().unwrap_or((0, 0));
            FollowedUnit {
                unit_id: *id,
                name: name(*id),
                overdue: count,
                most_days_overdue: days,
                followed_at: *at,
            }
        })
        .collect();
    units.sort_by(|a, b| (&a.name, a.unit_id).cmp(&(&b.name, b.unit_id)));
    Ok(Followed { tasks, units })
}

/// One follow: the follower and the task or the unit followed.
pub type FollowRow = (UserId, Option<TaskId>, Option<UnitId>);

/// Every follow: what the daily digest reads.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<FollowRow>> {
    follows::table
        .select((follows::user_id, follows::task_id, follows::unit_id))
        .order(follows::id.asc())
        .load(conn)
}
