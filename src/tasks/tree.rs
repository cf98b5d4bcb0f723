//! A plan's task tree as the office reads it: the tasks a person may see,
//! nested by their dotted codes (1, 1.1, 1.1.2), each parent with the worst
//! light of its subtree, and the plan's count of tasks per light.

use std::collections::{BTreeMap, HashMap};

use diesel::prelude::*;
use serde::Serialize;

use super::model::{TaskRow, TaskView};
use super::service;
use super::visibility::{self, Scope};
use crate::db::schema::{tasks, units};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::traffic::TrafficLight;
use crate::domain::{PlanId, UnitId};
use crate::error::Result;
use crate::plans::model::PlanRow;

/// A task and the tasks under it.
#[derive(Debug, Serialize)]
pub struct Node {
    pub task: TaskView,
    /// The lead unit's name.
    pub lead_unit: String,
    /// The worst light of the task and everything under it.
    pub rolled_up: Option<TrafficLight>,
    pub children: Vec<Node>,
}

/// The plan and its visible tasks as a tree, with the count per light
/// (`green`, `yellow`, `red`, `none`) of those tasks.
#[derive(Debug, Serialize)]
pub struct PlanTree {
    pub plan_id: PlanId,
    pub title: String,
    pub roots: Vec<Node>,
    pub total: usize,
    pub by_light: BTreeMap<&'static str, usize>,
}

/// The plan's tasks that `scope` sees, as a tree; 404 for no such plan.
pub fn load(
    conn: &mut DbConnection,
    scope: Scope,
    plan: PlanId,
    clock: &Clock,
) -> Result<PlanTree> {
    let row: PlanRow = crate::plans::service::get(conn, plan)?;
    let rows: Vec<TaskRow> = tasks::table
        .filter(tasks::plan_id.eq(plan))
        .select(TaskRow::as_select())
        .load(conn)?;
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let parties = visibility::PartiesOf::load(conn, &ids)?;
    let seen: Vec<TaskRow> = rows
        .into_iter()
        .filter(|r| parties.sees(scope, r))
        .collect();
    let views = service::views(conn, seen, clock)?;
    let leads: Vec<UnitId> = views.iter().map(|v| v.lead_unit_id).collect();
    let names: HashMap<UnitId, String> = units::table
        .filter(units::id.eq_any(leads))
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect();
    let mut by_light = BTreeMap::new();
    for v in &views {
        *by_light
            .entry(v.light.map_or("none", TrafficLight::as_str))
            .or_default() += 1;
    }
    Ok(PlanTree {
        plan_id: plan,
        title: row.title,
        total: views.len(),
        roots: build(views, &names),
        by_light,
    })
}

/// The parts of a dotted code as numbers where they are (so 1.10 follows
/// 1.9), as text otherwise.
pub fn sort_key(code: &str) -> Vec<(u64, String)> {
    code.split('.')
        .map(|p| (p.trim().parse().unwrap_or(u64::MAX), p.to_string()))
        .collect()
}

/// Nests tasks by code: a task goes under the task with the longest code
/// that is a dotted prefix of its own (1.1.2 under 1.1, or under 1 when 1.1
/// is not among them); the others are roots. Siblings in code order.
pub fn build(mut views: Vec<TaskView>, units: &HashMap<UnitId, String>) -> Vec<Node> {
    views.sort_by_key(|v| sort_key(&v.code));
    // In code order a parent comes before its children, so a stack of the
    // open ancestors finds each task's parent.
    let mut roots: Vec<Node> = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    for task in views {
        while let Some(top) = stack.last() {
            if task.code.starts_with(&format!("{}.", top.task.code)) {
                break;
            }
            close(&mut stack, &mut roots);
        }
        stack.push(Node {
            lead_unit: units.get(&task.lead_unit_id).cloned().unwrap_or_default(),
            rolled_up: task.light,
            task,
            children: Vec::new(),
        });
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    roots
}

/// Ends the innermost open node: its light rolled up into its parent's.
fn close(stack: &mut Vec<Node>, roots: &mut Vec<Node>) {
    let Some(done) = stack.pop() else { return };
    match stack.last_mut() {
        Some(parent) => {
            parent.rolled_up = TrafficLight::worst(parent.rolled_up, done.rolled_up);
            parent.children.push(done);
        }
        None => roots.push(done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_codes_nest_in_number_order() {
        let order = ["1.10", "2", "1.2.1", "1", "1.9", "1.2", "3.1.1", "10"];
        let sorted = {
            let mut v: Vec<&str> = order.to_vec();
            v.sort_by_key(|c| sort_key(c));
            v
        };
        assert_eq!(
            sorted,
            ["1", "1.2", "1.2.1", "1.9", "1.10", "2", "3.1.1", "10"]
        );
    }
}
