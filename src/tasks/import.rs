//! Importing a plan's breakdown table (xlsx or csv) as tasks, and exporting
//! the plan's tasks back in the same shape. All rows or none: any bad cell
//! rejects the whole file with one error per cell, named like `C5`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::input::{self, NewTask, TaskLinks};
use super::model::TaskRow;
use super::service::{self, Origin};
use super::visibility::{self, Scope};
use crate::db::schema::{progress_reports, tasks, units, users};
use crate::db::DbConnection;
use crate::domain::calendar::{last_working_day_before_holiday, DayKind, WorkCalendar};
use crate::domain::clock::Clock;
use crate::domain::deadline::{deadline_from_excel_serial, parse_deadline, Deadline};
use crate::domain::kinds::{Category, Priority};
use crate::domain::report_cycle::ReportCadence;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::{self, TrafficLight};
use crate::domain::unit_kind::UnitKind;
use crate::domain::unit_names::{
    group_word, match_unit, split_units, vague_group_message, GroupWord, UnitRef,
};
use crate::domain::{Message, PlanId, Role, TaskId, UnitId, UserId};
use crate::error::{Error, FieldError, Result, Validator};
use crate::import::{task_rows, ExportRow, ImportRow};
use crate::plans;

/// One task the import would create (or created).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedTask {
    /// The sheet row it came from.
    pub row: usize,
    pub code: String,
    pub title: String,
    pub lead_unit_id: UnitId,
    pub cooperating_unit_ids: Vec<UnitId>,
    /// The first leader the leader cell names.
    pub responsible_leader_id: Option<UserId>,
    /// The others it names (张副市长、李副市长: 李副市长), co-responsible.
    pub co_leader_ids: Vec<UserId>,
    pub due_date: Option<chrono::NaiveDate>,
    /// Report day, from deadlines like 每月25日前 or 每季度最后一个月25日前
    /// (31 for 每季度末, 每半年末).
    pub report_day: Option<i32>,
    /// How often the report is due: monthly (每月…), quarterly (每季度…) or
    /// half_yearly (每半年…).
    pub report_cadence: ReportCadence,
    /// The code of the parent task, from the numbering (2.5 is the parent of 2.5.3).
    pub parent_code: Option<String>,
    /// The deadline cell as written (2026年6月底前), kept beside the date.
    pub due_text: Option<String>,
    /// The group word (各乡镇) this sub-task was made for, one per unit of
    /// the kind; `None` for a task written in the table.
    pub from_group: Option<String>,
    /// Set once created (or, re-importing, the task the code matched).
    pub id: Option<TaskId>,
    /// Re-importing: the version of the task the code matched, to send back
    /// with the real run (`versions`) so that a task changed since the
    /// preview is refused, not overwritten.
    pub version: Option<i64>,
    /// The 备注 cell, kept as the task's description.
    #[serde(skip)]
    pub note: Option<String>,
    /// Where the row's cells are, and which columns the table has.
    #[serde(skip)]
    pub columns: crate::import::ColumnRefs,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    pub mode: ImportMode,
    pub created: usize,
    /// Tasks of the plan changed by a re-import (`mode=update`).
    pub updated: usize,
    /// The rows, as created or matched.
    pub tasks: Vec<ImportedTask>,
    /// Re-import: per matched task, what changes field by field (unchanged
    /// tasks are left out).
    pub changes: Vec<TaskDiff>,
    /// Re-import: the plan's tasks whose code is not in the table. They are
    /// listed, never deleted.
    pub absent: Vec<AbsentTask>,
}

impl ImportReport {
    fn created(dry_run: bool, created: usize, tasks: Vec<ImportedTask>) -> ImportReport {
        ImportReport {
            dry_run,
            mode: ImportMode::Create,
            created,
            updated: 0,
            tasks,
            changes: Vec::new(),
            absent: Vec::new(),
        }
    }
}

/// What an import does with codes the plan already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Every row is a new task; a code the plan has is refused (the default).
    Create,
    /// Rows whose code the plan has update that task; new codes are created.
    Update,
}

impl ImportMode {
    pub fn parse(s: &str) -> std::result::Result<ImportMode, Message> {
        match s {
            "create" => Ok(ImportMode::Create),
            "update" => Ok(ImportMode::Update),
            _ => Err(Message::new(
                "导入方式只能是 create 或 update",
                "mode must be create or update",
            )),
        }
    }
}

/// The code of the parent in a dotted numbering: `2.5.3` → `2.5`.
pub(crate) fn parent_code(code: &str) -> Option<&str> {
    code.rsplit_once(['.', '．'])
        .map(|(head, _)| head)
        .filter(|h| !h.is_empty())
}

/// What the rows are checked against: the active units and leaders, and the
/// codes the plan already has.
pub(super) struct Known {
    pub(super) units: Vec<(UnitId, String, String, UnitKind)>,
    /// Each unit's aliases, in the order of `units`.
    pub(super) aliases: Vec<Vec<String>>,
    pub(super) leaders: Vec<(UserId, String, String)>,
    codes: HashSet<String>,
    /// The holiday calendar's named entries, for 2027年春节前.
    holidays: Vec<(chrono::NaiveDate, DayKind, String)>,
    calendar: WorkCalendar,
}

pub(super) fn load_known(conn: &mut DbConnection, plan: PlanId) -> Result<Known> {
    let rows: Vec<(UnitId, String, String, UnitKind, String)> = units::table
        .filter(units::active.eq(true))
        .select((
            units::id,
            units::code,
            units::name,
            units::kind,
            units::aliases,
        ))
        .order(units::code)
        .load(conn)?;
    let aliases = rows
        .iter()
        .map(|u| crate::units::aliases_of(&u.4))
        .collect::<Result<_>>()?;
    let units = rows
        .into_iter()
        .map(|(id, code, name, kind, _)| (id, code, name, kind))
        .collect();
    let leaders = users::table
        .filter(users::role.eq(Role::Leader))
        .filter(users::active.eq(true))
        .select((users::id, users::username, users::display_name))
        .load(conn)?;
    let codes = tasks::table
        .filter(tasks::plan_id.eq(plan))
        .select(tasks::code)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let holidays = crate::db::schema::holidays::table
        .select((
            crate::db::schema::holidays::day,
            crate::db::schema::holidays::kind,
            crate::db::schema::holidays::name,
        ))
        .load::<(chrono::NaiveDate, String, String)>(conn)?
        .into_iter()
        .filter_map(|(day, kind, name)| DayKind::parse(&kind).map(|k| (day, k, name)))
        .collect::<Vec<_>>();
    let calendar = WorkCalendar::new(holidays.iter().map(|(day, kind, _)| (*day, *kind)));
    Ok(Known {
        holidays,
        calendar,
        units,
        aliases,
        leaders,
        codes,
    })
}

/// The units one row names.
struct RowUnits {
    lead: Option<UnitId>,
    cooperating: Vec<UnitId>,
    /// One sub-task per unit, with the group word that brought it.
    expanded: Vec<(UnitId, String)>,
}

/// Checks rows one cell at a time, keeping every cell at fault so that the
/// office fixes the whole table in one go.
struct RowCheck<'a> {
    known: &'a Known,
    refs: Vec<UnitRef<'a>>,
    plan_year: i32,
    /// Re-importing: codes the plan has name the task to update.
    update: bool,
    /// Codes met so far in the table, for duplicates within it.
    seen: HashSet<String>,
    cells: Vec<FieldError>,
}

impl<'a> RowCheck<'a> {
    fn new(known: &'a Known, plan_year: i32, update: bool) -> Self {
        let refs = known
            .units
            .iter()
            .zip(&known.aliases)
            .map(|((id, code, name, _), aliases)| UnitRef {
                id: id.0,
                code,
                name,
                aliases,
            })
            .collect();
        RowCheck {
            known,
            refs,
            plan_year,
            update,
            seen: HashSet::new(),
            cells: Vec::new(),
        }
    }

    fn fault(&mut self, cell: String, message: Message) {
        self.cells.push(FieldError {
            field: cell,
            message,
        });
    }

    /// The task the row describes, followed by the sub-tasks its group words
    /// (各乡镇) expand to; faults are kept in `cells`.
    fn row(&mut self, index: usize, row: &ImportRow) -> Vec<ImportedTask> {
        let code = row.code.clone().unwrap_or_else(|| (index + 1).to_string());
        let code_cell = row
            .columns
            .code
            .as_deref()
            .map_or_else(|| format!("row {}", row.row), |c| row.at(c));
        self.code(&code_cell, &code);
        self.title(row);
        let units = self.units(row);
        let (leader, co_leaders) = self.leaders(row);
        let task = ImportedTask {
            row: row.row,
            parent_code: None,
            from_group: None,
            code,
            title: row.title.trim().to_string(),
            lead_unit_id: units.lead.unwrap_or(UnitId(0)),
            cooperating_unit_ids: units.cooperating,
            responsible_leader_id: leader,
            co_leader_ids: co_leaders,
            due_date: None,
            report_day: None,
            report_cadence: ReportCadence::Monthly,
            due_text: Some(row.deadline.trim().to_string()).filter(|d| !d.is_empty()),
            id: None,
            version: None,
            note: Some(row.note.trim().to_string()).filter(|n| !n.is_empty()),
            columns: row.columns.clone(),
        }
        .with_deadline(self.deadline(row));
        let subtasks: Vec<ImportedTask> = units
            .expanded
            .iter()
            .enumerate()
            .map(|(i, (unit, word))| ImportedTask {
                row: task.row,
                parent_code: Some(task.code.clone()),
                from_group: Some(word.clone()),
                code: format!("{}.{}", task.code, i + 1),
                title: task.title.clone(),
                lead_unit_id: *unit,
                cooperating_unit_ids: Vec::new(),
                responsible_leader_id: task.responsible_leader_id,
                co_leader_ids: task.co_leader_ids.clone(),
                due_date: task.due_date,
                report_day: task.report_day,
                report_cadence: task.report_cadence,
                due_text: task.due_text.clone(),
                id: None,
                version: None,
                note: task.note.clone(),
                columns: task.columns.clone(),
            })
            .collect();
        for sub in &subtasks {
            self.code(&code_cell, &sub.code);
        }
        std::iter::once(task).chain(subtasks).collect()
    }

    /// A code (the row's, or one made for a sub-task): short, and new to the
    /// plan and to the table; faults go to `cell`.
    fn code(&mut self, cell: &str, code: &str) {
        let cell = cell.to_string();
        if code.chars().count() > 32 {
            self.fault(
                cell,
                Message::new(
                    "编号不能超过 32 个字符",
                    "the code is longer than 32 characters",
                ),
            );
        } else if (self.known.codes.contains(code) && !self.update)
            || !self.seen.insert(code.to_string())
        {
            self.fault(
                cell,
                Message::owned(
                    format!("编号“{code}”重复"),
                    format!("the code {code:?} is used twice"),
                ),
            );
        }
    }

    fn title(&mut self, row: &ImportRow) {
        let cell = row.at(&row.columns.title);
        if row.title.trim().is_empty() {
            self.fault(cell, Message::new("任务内容为空", "the task is empty"));
        } else if row.title.chars().count() > 500 {
            self.fault(
                cell,
                Message::new(
                    "任务内容超过 500 个字符",
                    "the task is longer than 500 characters",
                ),
            );
        }
    }

    /// The row's units: the lead, the cooperating ones (each once), and the
    /// units its group words expand to (each with the word, in unit code
    /// order). A lead cell holding only group words leaves the row's task to
    /// the office (the one active unit of kind office) to lead.
    fn units(&mut self, row: &ImportRow) -> RowUnits {
        let lead_cell = row.at(&row.columns.lead);
        let lead_names = split_units(&row.lead);
        if lead_names.is_empty() {
            self.fault(
                lead_cell.clone(),
                Message::new("缺少牵头单位", "no lead unit"),
            );
        }
        let coop_cell = optional_cell(row, row.columns.cooperating.as_deref());
        let coop_names = split_units(&row.cooperating);
        let names = lead_names
            .iter()
            .map(|n| (n, &lead_cell, true))
            .chain(coop_names.iter().map(|n| (n, &coop_cell, false)));
        let mut ids = Vec::new();
        let mut groups: Vec<(UnitKind, &String, &String)> = Vec::new();
        let mut lead_named = false;
        for (name, cell, in_lead) in names {
            match group_word(name) {
                Some(GroupWord::Kind(kind)) => groups.push((kind, name, cell)),
                Some(GroupWord::Vague) => self.fault(cell.clone(), vague_group_message(name)),
                None => match match_unit(name, &self.refs).into_result(name) {
                    Ok(id) => {
                        lead_named |= in_lead;
                        if !ids.contains(&UnitId(id)) {
                            ids.push(UnitId(id));
                        }
                    }
                    Err(message) => self.fault(cell.clone(), message),
                },
            }
        }
        if !lead_names.is_empty() && !lead_named && !groups.is_empty() {
            match self.office_unit() {
                Some(office) => {
                    ids.retain(|id| *id != office);
                    ids.insert(0, office);
                }
                None => self.fault(
                    lead_cell.clone(),
                    Message::new(
                        "牵头单位只写了“各乡镇”等统称时，总任务由办公室（类型为 office 的单位）牵头，但没有唯一的在用办公室单位；请在牵头单位中写出总牵头单位",
                        "when the lead cell holds only a group word such as 各乡镇, the office (the unit of kind office) leads the row's task, but there is no single active office unit; name the unit that leads the whole task",
                    ),
                ),
            }
        }
        let lead = ids.first().copied();
        let mut expanded: Vec<(UnitId, String)> = Vec::new();
        for (kind, word, cell) in groups {
            let members: Vec<UnitId> = self
                .known
                .units
                .iter()
                .filter(|u| u.3 == kind)
                .map(|u| u.0)
                .collect();
            if members.is_empty() {
                self.fault(
                    cell.clone(),
                    Message::owned(
                        format!(
                            "没有类型为 {} 的在用单位，无法把“{word}”分解到各单位",
                            kind.as_str()
                        ),
                        format!(
                            "there is no active unit of kind {}, so {word:?} cannot be broken down",
                            kind.as_str()
                        ),
                    ),
                );
            }
            for unit in members {
                if Some(unit) != lead && !expanded.iter().any(|(u, _)| *u == unit) {
                    expanded.push((unit, word.clone()));
                }
            }
        }
        // Units of the groups in code order, whichever word brought them.
        let order = |id: &UnitId| self.known.units.iter().position(|u| u.0 == *id);
        expanded.sort_by_key(|(u, _)| order(u));
        let cooperating = ids.into_iter().skip(1).collect();
        RowUnits {
            lead,
            cooperating,
            expanded,
        }
    }

    /// The one active unit of kind office, if there is exactly one.
    fn office_unit(&self) -> Option<UnitId> {
        let mut offices = self.known.units.iter().filter(|u| u.3 == UnitKind::Office);
        match (offices.next(), offices.next()) {
            (Some(u), None) => Some(u.0),
            _ => None,
        }
    }

    /// The leaders the cell names, separated by 、，,/ or spaces: the first
    /// is the responsible leader, the others co-responsible. Each name, by
    /// account name or display name, must match exactly one leader; a name
    /// given twice counts once.
    fn leaders(&mut self, row: &ImportRow) -> (Option<UserId>, Vec<UserId>) {
        let mut found: Vec<UserId> = Vec::new();
        for name in split_leaders(&row.leader) {
            match self.leader(row, name) {
                Some(l) if !found.contains(&l) => found.push(l),
                _ => {}
            }
        }
        let mut found = found.into_iter();
        (found.next(), found.collect())
    }

    /// One leader by account name or display name: exactly one.
    fn leader(&mut self, row: &ImportRow, name: &str) -> Option<UserId> {
        let found: Vec<UserId> = self
            .known
            .leaders
            .iter()
            .filter(|(_, u, d)| u == name || d == name)
            .map(|l| l.0)
            .collect();
        if found.len() != 1 {
            self.fault(
                optional_cell(row, row.columns.leader.as_deref()),
                Message::owned(
                    format!("找不到唯一的责任领导“{name}”"),
                    format!("no single leader account named {name:?}"),
                ),
            );
        }
        found.first().copied()
    }

    /// The deadline cell: a date (typed, an Excel serial, or written in
    /// Chinese), a monthly report day, or ongoing (none).
    fn deadline(&mut self, row: &ImportRow) -> Option<Deadline> {
        if let Some(date) = row.deadline_date {
            return Some(Deadline::Date(date));
        }
        let text = row.deadline.trim();
        if text.is_empty() {
            return None;
        }
        let serial = text
            .parse::<f64>()
            .ok()
            .and_then(deadline_from_excel_serial);
        match serial
            .map(Deadline::Date)
            .ok_or(())
            .or_else(|_| parse_deadline(text, self.plan_year))
        {
            Ok(Deadline::BeforeHoliday { year, holiday }) => {
                let day = last_working_day_before_holiday(
                    &self.known.holidays,
                    &self.known.calendar,
                    year,
                    holiday,
                );
                if day.is_none() {
                    self.fault(
                        optional_cell(row, row.columns.deadline.as_deref()),
                        Message::owned(
                            format!("节假日日历中没有{year}年{holiday}，请先导入节假日安排"),
                            format!("the holiday calendar has no {holiday} in {year}; import that year's holiday arrangements first"),
                        ),
                    );
                }
                day.map(Deadline::Date)
            }
            Ok(deadline) => Some(deadline),
            Err(message) => {
                self.fault(optional_cell(row, row.columns.deadline.as_deref()), message);
                None
            }
        }
    }
}

impl ImportedTask {
    fn with_deadline(mut self, deadline: Option<Deadline>) -> Self {
        match deadline {
            Some(Deadline::Date(d)) => self.due_date = Some(d),
            Some(Deadline::Recurring(cycle)) => {
                self.report_day = i32::try_from(cycle.day).ok();
                self.report_cadence = cycle.cadence;
            }
            // Resolved to a date against the calendar while checking.
            Some(Deadline::Ongoing | Deadline::BeforeHoliday { .. }) | None => {}
        }
        self
    }
}

/// The cell of an optional column in the row (empty when the table has no
/// such column).
/// The names in a leader cell: 张副市长、李副市长 (also ，,/ and spaces).
fn split_leaders(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(|c: char| matches!(c, '、' | '，' | ',' | '/' | '／') || c.is_whitespace())
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

fn optional_cell(row: &ImportRow, column: Option<&str>) -> String {
    column.map(|c| row.at(c)).unwrap_or_default()
}

/// Sets each task's parent from the numbering, among the imported rows and
/// the plan's tasks.
fn link_parents(tasks: &mut [ImportedTask], existing: &HashSet<String>) {
    let codes: HashSet<&str> = tasks
        .iter()
        .map(|t| t.code.as_str())
        .chain(existing.iter().map(String::as_str))
        .collect();
    let parents: Vec<Option<String>> = tasks
        .iter()
        .map(|t| {
            parent_code(&t.code)
                .filter(|p| codes.contains(p))
                .map(str::to_string)
        })
        .collect();
    for (t, parent) in tasks.iter_mut().zip(parents) {
        t.parent_code = parent;
    }
}

/// Checks every row against the plan, the units and the leaders: the tasks
/// to create, or every cell at fault.
pub(super) fn check_rows(
    conn: &mut DbConnection,
    plan: PlanId,
    plan_year: i32,
    rows: &[ImportRow],
    mode: ImportMode,
) -> Result<Vec<ImportedTask>> {
    let known = load_known(conn, plan)?;
    let mut check = RowCheck::new(&known, plan_year, mode == ImportMode::Update);
    let mut tasks: Vec<ImportedTask> = rows
        .iter()
        .enumerate()
        .flat_map(|(i, row)| check.row(i, row))
        .collect();
    if !check.cells.is_empty() {
        return Err(Error::InvalidTable {
            rows: rows.len(),
            cells: check.cells,
        });
    }
    link_parents(&mut tasks, &known.codes);
    Ok(tasks)
}

/// How an import runs: create or update, and whether only to preview.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub mode: ImportMode,
    pub dry_run: bool,
    /// Re-importing: why the due dates of assigned tasks move (the rule of
    /// the single-task update; without it those rows are refused).
    pub reason: Option<String>,
    /// Re-importing: the version of each matched task as the preview showed
    /// it. A task changed since (or matched now but not then) is refused
    /// with a version conflict; `None` takes the versions as they are.
    pub seen: Option<HashMap<TaskId, i64>>,
}

/// One field of a task that the re-import changes, as text for people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldChange {
    /// The task field, as the task API names it (`due_date`, `lead_unit_id`…).
    pub field: String,
    /// The cell of the table it comes from, e.g. `F5`.
    pub cell: String,
    pub old: String,
    pub new: String,
}

/// A task matched by its code, and what changes in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskDiff {
    /// The sheet row.
    pub row: usize,
    pub id: TaskId,
    pub code: String,
    pub status: TaskStatus,
    pub fields: Vec<FieldChange>,
}

/// A task of the plan whose code the table does not have: kept as it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsentTask {
    pub id: TaskId,
    pub code: String,
    pub title: String,
    pub status: TaskStatus,
}

/// Imports `rows` into the plan as new tasks; with `dry_run` only reports
/// what it would create. (`mode=update` is `reimport::run`; the route and the
/// command line choose.)
pub fn import(
    conn: &mut DbConnection,
    actor: UserId,
    plan: PlanId,
    rows: Vec<ImportRow>,
    options: ImportOptions,
    now: NaiveDateTime,
) -> Result<ImportReport> {
    let dry_run = options.dry_run;
    conn.write(|conn| {
        let plan_row = plans::service::get(conn, plan)?;
        let mut tasks = check_rows(conn, plan, plan_row.year, &rows, ImportMode::Create)?;
        if dry_run {
            return Ok(ImportReport::created(dry_run, 0, tasks));
        }
        let mut ids: HashMap<String, TaskId> = super::service::codes_in_plan(conn, plan)?;
        for t in &mut tasks {
            let row = create_row(conn, actor, plan, &ids, t, now).map_err(|e| Error::AtRow {
                row: t.row,
                error: Box::new(e),
            })?;
            ids.insert(row.code.clone(), row.id);
            t.id = Some(row.id);
        }
        Ok(ImportReport::created(dry_run, tasks.len(), tasks))
    })
}

/// Creates the task of one checked row, its parent found among `ids`. The
/// cells were checked for length; the task's text rules (no control
/// characters, a bounded note) are checked here, as for the API.
pub(super) fn create_row(
    conn: &mut DbConnection,
    actor: UserId,
    plan: PlanId,
    ids: &HashMap<String, TaskId>,
    t: &ImportedTask,
    now: NaiveDateTime,
) -> Result<TaskRow> {
    let mut v = Validator::default();
    let code = v.check("code", input::task_code(&t.code));
    let title = v.check("title", input::task_title(&t.title));
    let description = v.check("description", input::task_description(t.note.as_deref()));
    let (Some(code), Some(title), Some(description)) = (code, title, description) else {
        return Err(v.into_error());
    };
    let new = NewTask {
        links: TaskLinks {
            plan_id: plan,
            parent_id: t.parent_code.as_ref().and_then(|p| ids.get(p)).copied(),
            lead_unit_id: t.lead_unit_id,
            cooperating_unit_ids: t.cooperating_unit_ids.clone(),
            responsible_leader_id: t.responsible_leader_id,
            co_leader_ids: t.co_leader_ids.clone(),
        },
        code,
        title,
        description,
        start_date: None,
        due_date: t.due_date,
        due_text: t.due_text.clone(),
        due_in_working_days: None,
        priority: Priority::Normal,
        category: Category::KeyTask,
        evidence_required: false,
        report_day: t.report_day,
        report_cadence: t.report_cadence,
    };
    service::create(conn, Origin::draft(actor), new, now)
}

/// The plan's ledger for the caller: its heading (plan, 台账, today) and the
/// tasks the caller sees as table rows sorted by code, each with its deadline
/// as written, latest progress report, status, light and days overdue.
pub fn export_rows(
    conn: &mut DbConnection,
    scope: Scope,
    plan: PlanId,
    clock: &Clock,
) -> Result<(String, Vec<ExportRow>)> {
    let plan_row = plans::service::get(conn, plan)?;
    let rows: Vec<TaskRow> = tasks::table
        .filter(tasks::plan_id.eq(plan.0))
        .select(TaskRow::as_select())
        .load(conn)?;
    let ids: Vec<TaskId> = rows.iter().map(|r| r.id).collect();
    let parties = visibility::PartiesOf::load(conn, &ids)?;
    let coops = visibility::cooperators_of(conn, &ids)?;
    let unit_names: HashMap<UnitId, String> = units::table
        .select((units::id, units::name))
        .load(conn)?
        .into_iter()
        .collect();
    let leader_names: HashMap<UserId, String> = users::table
        .select((users::id, users::display_name))
        .load(conn)?
        .into_iter()
        .collect();
    let mut visible: Vec<TaskRow> = rows
        .into_iter()
        .filter(|r| parties.sees(scope, r))
        .collect();
    visible.sort_by_key(|t| natural_key(&t.code));
    let visible_ids: Vec<TaskId> = visible.iter().map(|r| r.id).collect();
    let latest = latest_reports(conn, &visible_ids)?;
    let co_leaders = visibility::co_leaders_of(conn, &visible_ids)?;
    let name = |id: &UnitId| unit_names.get(id).cloned().unwrap_or_default();
    let rows = visible
        .into_iter()
        .map(|r| {
            let timing = service::timing(&r);
            let light = traffic::light(&timing, clock.today, clock.warn_days);
            let overdue = traffic::days_overdue(&timing, clock.today);
            let written = match (r.due_date, r.report_cycle()) {
                (Some(d), _) => d.format("%Y-%m-%d").to_string(),
                (None, Some(cycle)) => cycle.written(),
                (None, None) => "长期坚持".to_string(),
            };
            let (progress, progress_on) = latest
                .get(&r.id)
                .map(|(body, at)| (body.clone(), clock.local(*at).to_string()))
                .unwrap_or_default();
            ExportRow {
                code: r.code.clone(),
                title: r.title.clone(),
                lead: name(&r.lead_unit_id),
                cooperating: coops
                    .get(&r.id)
                    .map(|c| c.iter().map(name).collect::<Vec<_>>().join("、"))
                    .unwrap_or_default(),
                // Written as the import reads it: the responsible leader
                // first, then the co-responsible ones.
                leader: r
                    .responsible_leader_id
                    .and_then(|l| leader_names.get(&l).cloned())
                    .into_iter()
                    .chain(
                        co_leaders
                            .get(&r.id)
                            .into_iter()
                            .flatten()
                            .map(|l| l.1.clone()),
                    )
                    .collect::<Vec<_>>()
                    .join("、"),
                deadline: r.due_text.clone().unwrap_or(written),
                due_date: r.due_date.map(|d| d.to_string()).unwrap_or_default(),
                progress,
                progress_on,
                status: r.status.zh().to_string(),
                light: light.map(light_zh).unwrap_or_default().to_string(),
                days_overdue: if overdue > 0 {
                    overdue.to_string()
                } else {
                    String::new()
                },
                note: r.description.clone().unwrap_or_default(),
            }
        })
        .collect();
    Ok((
        crate::import::export::ledger_title(&plan_row.title, clock.today),
        rows,
    ))
}

/// The light as the ledger names it (红黄绿灯).
fn light_zh(light: TrafficLight) -> &'static str {
    match light {
        TrafficLight::Green => "绿",
        TrafficLight::Yellow => "黄",
        TrafficLight::Red => "红",
    }
}

/// The latest progress report of each task (by any of its units): its text
/// and when it was made.
fn latest_reports(
    conn: &mut DbConnection,
    ids: &[TaskId],
) -> Result<HashMap<TaskId, (String, NaiveDateTime)>> {
    let reports: Vec<(TaskId, String, NaiveDateTime)> = progress_reports::table
        .filter(progress_reports::task_id.eq_any(ids))
        .order((progress_reports::created_at, progress_reports::id))
        .select((
            progress_reports::task_id,
            progress_reports::body,
            progress_reports::created_at,
        ))
        .load(conn)?;
    // Oldest first: the last one written for a task is its latest.
    Ok(reports
        .into_iter()
        .map(|(task, body, at)| (task, (body, at)))
        .collect())
}

/// Sorts `2.10` after `2.9`: numeric parts compare as numbers.
pub(super) fn natural_key(code: &str) -> Vec<(u64, String)> {
    code.split(['.', '．', '-'])
        .map(|part| (part.parse::<u64>().unwrap_or(u64::MAX), part.to_string()))
        .collect()
}

/// Reads an uploaded table into rows; the kind comes from the file name, else the content type.
pub fn parse_file(
    filename: &str,
    content_type: &str,
    bytes: &[u8],
    limits: &crate::import::Limits,
) -> Result<Vec<ImportRow>> {
    let sheet = crate::import::read_upload(filename, content_type, bytes, limits)?;
    task_rows(&sheet).map_err(|m| Error::invalid_field("file", m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_from_dotted_codes() {
        assert_eq!(parent_code("2.5.3"), Some("2.5"));
        assert_eq!(parent_code("2"), None);
        assert_eq!(parent_code(".1"), None);
    }

    #[test]
    fn a_leader_cell_names_several_leaders() {
        let names: Vec<&str> = split_leaders(" 张副市长、李副市长，王 / 赵,钱　孙 ").collect();
        assert_eq!(names, ["张副市长", "李副市长", "王", "赵", "钱", "孙"]);
    }

    #[test]
    fn codes_sort_naturally() {
        let mut codes = vec!["2.10", "2.9", "10", "2", "1.1"];
        codes.sort_by_key(|c| natural_key(c));
        assert_eq!(codes, ["1.1", "2", "2.9", "2.10", "10"]);
    }
}
