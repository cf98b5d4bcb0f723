//! Who sees which task. A unit clerk sees the tasks where the own unit leads or
//! cooperates; a leader those they are responsible or co-responsible for (or
//! all, if configured); office, admin and viewers see all. A task out of sight
//! answers 404.

use std::collections::HashMap;

use diesel::prelude::*;

use super::model::TaskRow;
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::schema::{task_co_leaders, task_cooperators, users};
use crate::db::DbConnection;
use crate::domain::{Role, TaskId, UnitId, UserId};
use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Tasks the unit leads or cooperates on.
    Unit(UnitId),
    /// Tasks the leader is responsible or co-responsible for.
    Leader(UserId),
    Nothing,
}

pub fn scope(auth: &AuthUser, settings: &Settings) -> Scope {
    match auth.role {
        Role::Admin | Role::Office | Role::Viewer => Scope::All,
        Role::Leader if settings.leaders_see_all => Scope::All,
        Role::Leader => Scope::Leader(auth.id),
        Role::Unit => auth.unit_id.map_or(Scope::Nothing, Scope::Unit),
    }
}

pub fn cooperators(conn: &mut DbConnection, task: TaskId) -> QueryResult<Vec<UnitId>> {
    crate::db::per_backend!(conn, c => task_cooperators::table
        .filter(task_cooperators::task_id.eq(task))
        .select(task_cooperators::unit_id)
        .order(task_cooperators::unit_id.asc())
        .load(c))
}

pub fn cooperators_of(
    conn: &mut DbConnection,
    ids: &[TaskId],
) -> QueryResult<HashMap<TaskId, Vec<UnitId>>> {
    let pairs: Vec<(TaskId, UnitId)> = task_cooperators::table
        .filter(task_cooperators::task_id.eq_any(ids))
        .select((task_cooperators::task_id, task_cooperators::unit_id))
        .order((
            task_cooperators::task_id.asc(),
            task_cooperators::unit_id.asc(),
        ))
        .load(conn)?;
    let mut map: HashMap<TaskId, Vec<UnitId>> = HashMap::new();
    for (task, unit) in pairs {
        map.entry(task).or_default().push(unit);
    }
    Ok(map)
}

/// The co-responsible leaders of a task, by id.
pub fn co_leaders(conn: &mut DbConnection, task: TaskId) -> QueryResult<Vec<UserId>> {
    task_co_leaders::table
        .filter(task_co_leaders::task_id.eq(task))
        .select(task_co_leaders::user_id)
        .order(task_co_leaders::user_id.asc())
        .load(conn)
}

/// The co-responsible leaders of one task, with their names. One task's
/// reads compare with `eq`, not `eq_any(&[id])`: diesel keeps a statement
/// prepared only when its SQL cannot change, which an `IN (…)` list can, so
/// on SQLite an `eq_any` is parsed and planned again at every request.
pub fn co_leaders_named(
    conn: &mut DbConnection,
    task: TaskId,
) -> QueryResult<Vec<(UserId, String)>> {
    crate::db::per_backend!(conn, c => task_co_leaders::table
        .inner_join(users::table)
        .filter(task_co_leaders::task_id.eq(task))
        .select((task_co_leaders::user_id, users::display_name))
        .order(task_co_leaders::user_id.asc())
        .load(c))
}

/// The co-responsible leaders of many tasks, with their names, by task.
pub fn co_leaders_of(
    conn: &mut DbConnection,
    ids: &[TaskId],
) -> QueryResult<HashMap<TaskId, Vec<(UserId, String)>>> {
    let rows: Vec<(TaskId, UserId, String)> = task_co_leaders::table
        .inner_join(users::table)
        .filter(task_co_leaders::task_id.eq_any(ids))
        .select((
            task_co_leaders::task_id,
            task_co_leaders::user_id,
            users::display_name,
        ))
        .order((
            task_co_leaders::task_id.asc(),
            task_co_leaders::user_id.asc(),
        ))
        .load(conn)?;
    let mut map: HashMap<TaskId, Vec<(UserId, String)>> = HashMap::new();
    for (task, user, name) in rows {
        map.entry(task).or_default().push((user, name));
    }
    Ok(map)
}

/// Who takes part in a task besides its lead unit and responsible leader:
/// what `sees` reads for units and leaders.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parties<'a> {
    pub coops: &'a [UnitId],
    pub co_leaders: &'a [UserId],
}

/// The parties of many tasks, loaded in bulk for `sees`.
#[derive(Debug, Default)]
pub struct PartiesOf {
    coops: HashMap<TaskId, Vec<UnitId>>,
    co_leaders: HashMap<TaskId, Vec<UserId>>,
}

impl PartiesOf {
    pub fn load(conn: &mut DbConnection, ids: &[TaskId]) -> QueryResult<PartiesOf> {
        let co_leaders = co_leaders_of(conn, ids)?
            .into_iter()
            .map(|(task, people)| (task, people.into_iter().map(|p| p.0).collect()))
            .collect();
        Ok(PartiesOf {
            coops: cooperators_of(conn, ids)?,
            co_leaders,
        })
    }

    pub fn of(&self, task: TaskId) -> Parties<'_> {
        Parties {
            coops: self.coops.get(&task).map_or(&[], Vec::as_slice),
            co_leaders: self.co_leaders.get(&task).map_or(&[], Vec::as_slice),
        }
    }

    /// Whether `scope` sees `row`.
    pub fn sees(&self, scope: Scope, row: &TaskRow) -> bool {
        sees(scope, row, self.of(row.id))
    }
}

pub fn sees(scope: Scope, row: &TaskRow, parties: Parties<'_>) -> bool {
    match scope {
        Scope::All => true,
        Scope::Unit(u) => row.lead_unit_id == u || parties.coops.contains(&u),
        Scope::Leader(l) => row.responsible_leader_id == Some(l) || parties.co_leaders.contains(&l),
        Scope::Nothing => false,
    }
}

/// A task its reader was shown to see, in the request that checked it. Only
/// this module makes one (`in_sight`, `load_in_sight`), so a reader of the
/// task's parts that takes one (its files, extensions, instructions, orders)
/// need not check again: a page showing all of them checks once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InSight(TaskId);

impl InSight {
    pub fn id(self) -> TaskId {
        self.0
    }
}

/// The task, or 404 when it does not exist or is out of sight.
pub fn find_visible(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
) -> crate::error::Result<TaskRow> {
    let row = crate::tasks::service::find(conn, id)?.ok_or(Error::NotFound)?;
    ensure_sees(conn, scope, &row)?;
    Ok(row)
}

/// `find_visible` for a write: the task's row is read and locked by one
/// statement (`service::find_locked`), so that the checks that follow see what
/// the last writer committed and no other writer changes the task until this
/// transaction ends.
pub fn lock_visible(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
) -> crate::error::Result<TaskRow> {
    let row = crate::tasks::service::find_locked(conn, id)?;
    ensure_sees(conn, scope, &row)?;
    Ok(row)
}

/// The proof that the task is in the reader's sight (404 otherwise).
pub fn in_sight(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
) -> crate::error::Result<InSight> {
    find_visible(conn, scope, id).map(|row| InSight(row.id))
}

/// A task as its detail shows it: the row, its cooperating units and
/// co-responsible leaders (with names), and the proof that it is in the
/// reader's sight.
pub struct Shown {
    pub row: TaskRow,
    pub coops: Vec<UnitId>,
    pub co_leaders: Vec<(UserId, String)>,
    pub seen: InSight,
}

/// The task with its parties for showing it (`Shown`); 404 when it does not
/// exist or is out of sight.
pub fn load_in_sight(
    conn: &mut DbConnection,
    scope: Scope,
    id: TaskId,
) -> crate::error::Result<Shown> {
    let row = crate::tasks::service::find(conn, id)?.ok_or(Error::NotFound)?;
    let coops = cooperators(conn, row.id)?;
    let co_leaders = co_leaders_named(conn, row.id)?;
    let leader_ids: Vec<UserId> = co_leaders.iter().map(|(id, _)| *id).collect();
    let parties = Parties {
        coops: &coops,
        co_leaders: &leader_ids,
    };
    if !sees(scope, &row, parties) {
        return Err(Error::NotFound);
    }
    let seen = InSight(row.id);
    Ok(Shown {
        row,
        coops,
        co_leaders,
        seen,
    })
}

/// 404 unless `scope` sees `row`. The cooperating units or co-leaders are
/// read only when the row's own columns do not decide it (the office, the
/// lead unit and the responsible leader need no second statement).
fn ensure_sees(conn: &mut DbConnection, scope: Scope, row: &TaskRow) -> crate::error::Result<()> {
    let coops = match scope {
        Scope::Unit(u) if row.lead_unit_id != u => cooperators(conn, row.id)?,
        _ => Vec::new(),
    };
    let co_leaders = match scope {
        Scope::Leader(l) if row.responsible_leader_id != Some(l) => co_leaders(conn, row.id)?,
        _ => Vec::new(),
    };
    let parties = Parties {
        coops: &coops,
        co_leaders: &co_leaders,
    };
    if sees(scope, row, parties) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}
