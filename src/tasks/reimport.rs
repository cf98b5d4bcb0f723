//! Re-importing a corrected breakdown table (`mode=update`): rows whose code
//! the plan already has change that task through the task service's one
//! update (its rules, e.g. a reason for moving an assigned task's deadline),
//! new codes are created, and the plan's tasks missing from the table are
//! listed, never deleted. All rows or none, in one transaction; the preview
//! runs the very same writes and rolls them back, so it shows exactly what the
//! real run would do (or refuse).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::import::{
    check_rows, create_row, load_known, AbsentTask, FieldChange, ImportMode, ImportOptions,
    ImportReport, ImportedTask, TaskDiff,
};
use super::input::{self, TaskChanges};
use super::model::TaskRow;
use super::service;
use super::visibility;
use crate::db::schema::tasks;
use crate::db::DbConnection;
use crate::domain::{Message, PlanId, TaskId, UnitId, UserId};
use crate::error::{Error, FieldError, Result};
use crate::import::ImportRow;
use crate::plans;

/// Imports a table in the mode asked for: new tasks (`import::import`) or
/// a corrected table (`run`).
pub fn by_mode(
    conn: &mut DbConnection,
    actor: UserId,
    plan: PlanId,
    rows: Vec<ImportRow>,
    options: ImportOptions,
    now: NaiveDateTime,
) -> Result<ImportReport> {
    match options.mode {
        ImportMode::Create => super::import::import(conn, actor, plan, rows, options, now),
        ImportMode::Update => run(conn, actor, plan, rows, options, now),
    }
}

/// Why the transaction ends without committing: a refusal, or a preview
/// that ran every write only to show them.
enum Stop {
    Failed(Error),
    Preview(Box<ImportReport>),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Stop {
        Stop::Failed(e.into())
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Failed(e)
    }
}

/// Names for the diff's old and new values.
struct Names {
    units: HashMap<UnitId, String>,
    leaders: HashMap<UserId, String>,
}

impl Names {
    fn units(&self, ids: &[UnitId]) -> String {
        ids.iter()
            .map(|u| {
                self.units
                    .get(u)
                    .cloned()
                    .unwrap_or_else(|| u.0.to_string())
            })
            .collect::<Vec<_>>()
            .join("、")
    }

    fn leader(&self, id: Option<UserId>) -> String {
        self.leaders(id.as_slice())
    }

    fn leaders(&self, ids: &[UserId]) -> String {
        ids.iter()
            .map(|l| {
                self.leaders
                    .get(l)
                    .cloned()
                    .unwrap_or_else(|| l.0.to_string())
            })
            .collect::<Vec<_>>()
            .join("、")
    }
}

fn text<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Re-imports `rows` into the plan (see the module header).
pub fn run(
    conn: &mut DbConnection,
    actor: UserId,
    plan: PlanId,
    rows: Vec<ImportRow>,
    options: ImportOptions,
    now: NaiveDateTime,
) -> Result<ImportReport> {
    let outcome = conn.write(|conn| -> std::result::Result<ImportReport, Stop> {
        let report = update_all(conn, actor, plan, &rows, &options, now)?;
        if options.dry_run {
            Err(Stop::Preview(Box::new(report)))
        } else {
            Ok(report)
        }
    });
    match outcome {
        Ok(report) => Ok(report),
        Err(Stop::Preview(report)) => Ok(*report),
        Err(Stop::Failed(e)) => Err(e),
    }
}

fn update_all(
    conn: &mut DbConnection,
    actor: UserId,
    plan: PlanId,
    rows: &[ImportRow],
    options: &ImportOptions,
    now: NaiveDateTime,
) -> Result<ImportReport> {
    let plan_row = plans::service::get(conn, plan)?;
    let mut table = check_rows(conn, plan, plan_row.year, rows, ImportMode::Update)?;
    let known = load_known(conn, plan)?;
    let names = Names {
        units: known
            .units
            .iter()
            .map(|(id, _, n, _)| (*id, n.clone()))
            .collect(),
        leaders: known
            .leaders
            .iter()
            .map(|(id, _, n)| (*id, n.clone()))
            .collect(),
    };
    let existing: Vec<TaskRow> = tasks::table
        .filter(tasks::plan_id.eq(plan))
        .select(TaskRow::as_select())
        .load(conn)?;
    let ids: Vec<TaskId> = existing.iter().map(|r| r.id).collect();
    let coops = visibility::cooperators_of(conn, &ids)?;
    let co_leaders = visibility::co_leaders_of(conn, &ids)?;
    let in_table: HashSet<&str> = table.iter().map(|t| t.code.as_str()).collect();
    let mut absent: Vec<AbsentTask> = existing
        .iter()
        .filter(|r| !in_table.contains(r.code.as_str()))
        .map(|r| AbsentTask {
            id: r.id,
            code: r.code.clone(),
            title: r.title.clone(),
            status: r.status,
        })
        .collect();
    absent.sort_by_key(|a| super::import::natural_key(&a.code));
    let by_code: HashMap<String, TaskRow> =
        existing.into_iter().map(|r| (r.code.clone(), r)).collect();

    let mut codes = service::codes_in_plan(conn, plan)?;
    let mut cells: Vec<FieldError> = Vec::new();
    let mut diffs = Vec::new();
    let (mut created, mut updated) = (0, 0);
    for t in &mut table {
        let Some(current) = by_code.get(&t.code) else {
            let row = create_row(conn, actor, plan, &codes, t, now).map_err(|e| Error::AtRow {
                row: t.row,
                error: Box::new(e),
            })?;
            codes.insert(row.code.clone(), row.id);
            t.id = (!options.dry_run).then_some(row.id);
            created += 1;
            continue;
        };
        t.id = Some(current.id);
        t.version = Some(current.version);
        let current_coops = coops.get(&current.id).cloned().unwrap_or_default();
        let current_co_leaders: Vec<UserId> = co_leaders
            .get(&current.id)
            .into_iter()
            .flatten()
            .map(|l| l.0)
            .collect();
        let stored = Stored {
            row: current,
            coops: &current_coops,
            co_leaders: &current_co_leaders,
        };
        let (diff, changes) = diff(stored, t, &names, options, &mut cells);
        if diff.fields.is_empty() {
            continue;
        }
        match service::update(conn, actor, current.id, changes, now) {
            Ok(_) => updated += 1,
            Err(Error::Invalid(fields)) => {
                cells.extend(fields.into_iter().map(|f| at_cell(t, &diff, f)));
            }
            Err(e) => {
                return Err(Error::AtRow {
                    row: t.row,
                    error: Box::new(e),
                })
            }
        }
        diffs.push(diff);
    }
    if !cells.is_empty() {
        return Err(Error::InvalidTable {
            rows: rows.len(),
            cells,
        });
    }
    Ok(ImportReport {
        dry_run: options.dry_run,
        mode: ImportMode::Update,
        created,
        updated,
        tasks: table,
        changes: diffs,
        absent,
    })
}

/// The cell a refusal of the task service belongs to: the cell of the field
/// it names (a deadline that needs a reason: the deadline cell), the row
/// otherwise.
fn at_cell(t: &ImportedTask, diff: &TaskDiff, f: FieldError) -> FieldError {
    let field = match f.field.as_str() {
        "due_date_reason" => "due_date",
        other => other,
    };
    let cell = diff
        .fields
        .iter()
        .find(|c| c.field == field)
        .map_or_else(|| format!("row {}", t.row), |c| c.cell.clone());
    let message = if f.field == "due_date_reason" {
        Message::owned(
            format!("{}（重新导入时请填写调整理由 reason）", f.message.zh),
            format!("{} (give the re-import a reason)", f.message.en),
        )
    } else {
        f.message
    };
    FieldError {
        field: cell,
        message,
    }
}

/// What changes between the stored task and its row, field by field, and the
/// changes for the task service. Optional columns the table lacks leave their
/// fields as they are; so does the deadline wording alone (an exported table
/// writes the date where the office wrote words).
/// A stored task with its cooperating units and co-responsible leaders.
struct Stored<'a> {
    row: &'a TaskRow,
    coops: &'a [UnitId],
    co_leaders: &'a [UserId],
}

fn diff(
    stored: Stored<'_>,
    t: &ImportedTask,
    names: &Names,
    options: &ImportOptions,
    cells: &mut Vec<FieldError>,
) -> (TaskDiff, TaskChanges) {
    let (current, current_coops) = (stored.row, stored.coops);
    let cols = &t.columns;
    let at = |col: &str| format!("{col}{}", t.row);
    let mut fields = Vec::new();
    // The version the preview saw goes into the update's WHERE: a task
    // changed in between is refused (409), not overwritten. A task the
    // preview did not match has no version to go by, and is refused too.
    let version = match &options.seen {
        None => current.version,
        Some(seen) => seen.get(&current.id).copied().unwrap_or(-1),
    };
    let mut changes = TaskChanges {
        version,
        ..TaskChanges::default()
    };
    let mut change = |field: &str, cell: String, old: String, new: String| {
        fields.push(FieldChange {
            field: field.into(),
            cell,
            old,
            new,
        });
    };
    if t.title != current.title {
        match input::task_title(&t.title) {
            Ok(title) => {
                change(
                    "title",
                    at(&cols.title),
                    current.title.clone(),
                    title.clone(),
                );
                changes.title = Some(title);
            }
            Err(message) => cells.push(FieldError {
                field: at(&cols.title),
                message,
            }),
        }
    }
    if let Some(col) = &cols.note {
        if t.note != current.description {
            match input::task_description(t.note.as_deref()) {
                Ok(description) => {
                    change(
                        "description",
                        at(col),
                        text(current.description.as_ref()),
                        text(description.as_ref()),
                    );
                    changes.description = Some(description);
                }
                Err(message) => cells.push(FieldError {
                    field: at(col),
                    message,
                }),
            }
        }
    }
    if t.lead_unit_id != current.lead_unit_id {
        change(
            "lead_unit_id",
            at(&cols.lead),
            names.units(&[current.lead_unit_id]),
            names.units(&[t.lead_unit_id]),
        );
        changes.lead_unit_id = Some(t.lead_unit_id);
    }
    let mut old_coops = current_coops.to_vec();
    old_coops.sort();
    let mut new_coops = t.cooperating_unit_ids.clone();
    new_coops.sort();
    // A lead unit given in both columns before must still move out of the
    // cooperating ones when the lead changes.
    if let Some(col) = cols.cooperating.as_ref().filter(|_| old_coops != new_coops) {
        change(
            "cooperating_unit_ids",
            at(col),
            names.units(current_coops),
            names.units(&t.cooperating_unit_ids),
        );
        changes.cooperating_unit_ids = Some(t.cooperating_unit_ids.clone());
    }
    let mut old_co_leaders = stored.co_leaders.to_vec();
    old_co_leaders.sort();
    let mut new_co_leaders = t.co_leader_ids.clone();
    new_co_leaders.sort();
    if let Some(col) = &cols.leader {
        if t.responsible_leader_id != current.responsible_leader_id {
            change(
                "responsible_leader_id",
                at(col),
                names.leader(current.responsible_leader_id),
                names.leader(t.responsible_leader_id),
            );
            changes.responsible_leader_id = Some(t.responsible_leader_id);
        }
        if old_co_leaders != new_co_leaders {
            change(
                "co_leader_ids",
                at(col),
                names.leaders(stored.co_leaders),
                names.leaders(&t.co_leader_ids),
            );
        }
        // Both are set together, so that leaders swapping places are
        // checked as the new pair, not against the old one.
        if changes.responsible_leader_id.is_some() || old_co_leaders != new_co_leaders {
            changes.co_leader_ids = Some(t.co_leader_ids.clone());
        }
    }
    if let Some(col) = &cols.deadline {
        let mut moved = false;
        if t.due_date != current.due_date {
            change(
                "due_date",
                at(col),
                text(current.due_date),
                text(t.due_date),
            );
            changes.due_date = Some(t.due_date);
            moved = true;
        }
        if t.report_day != current.report_day {
            change(
                "report_day",
                at(col),
                text(current.report_day),
                text(t.report_day),
            );
            changes.report_day = Some(t.report_day);
            moved = true;
        }
        if t.report_cadence != current.report_cadence {
            change(
                "report_cadence",
                at(col),
                current.report_cadence.to_string(),
                t.report_cadence.to_string(),
            );
            changes.report_cadence = Some(t.report_cadence);
            moved = true;
        }
        if moved {
            if t.due_text != current.due_text {
                change(
                    "due_text",
                    at(col),
                    text(current.due_text.as_ref()),
                    text(t.due_text.as_ref()),
                );
            }
            changes.due_text = Some(t.due_text.clone());
            changes.due_date_reason = options.reason.clone();
        }
    }
    let diff = TaskDiff {
        row: t.row,
        id: current.id,
        code: current.code.clone(),
        status: current.status,
        fields,
    };
    (diff, changes)
}
