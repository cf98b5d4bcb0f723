//! What a task is made or changed from, parsed: `NewTask` and `TaskChanges`
//! carry dates, enums and ids, never the text they were written as. The API's
//! bodies (`CreateTask`, `UpdateTask`) become these by `TryFrom` at the edge,
//! collecting every bad field; the import, bulletins and the demo build them
//! directly from values they already hold. `ListFilter` is the list's query
//! string, parsed the same way.

use chrono::NaiveDate;

use super::model::{CreateTask, TaskFilter, UpdateTask};
use crate::db::search::search_text;
use crate::domain::kinds::{Category, Priority};
use crate::domain::report_cycle::ReportCadence;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::{Message, PlanId, TaskId, UnitId, UserId};
use crate::error::Validator;

/// The longest task code the API and the import accept.
pub const CODE_MAX: usize = 32;
pub const TITLE_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 5000;

/// The records a new task refers to; the service checks them against the
/// database (plan, parent in the plan, active units, an active leader).
#[derive(Debug, Clone)]
pub struct TaskLinks {
    pub plan_id: PlanId,
    pub parent_id: Option<TaskId>,
    pub lead_unit_id: UnitId,
    pub cooperating_unit_ids: Vec<UnitId>,
    /// A user with role leader.
    pub responsible_leader_id: Option<UserId>,
    /// Co-responsible leaders, users with role leader.
    pub co_leader_ids: Vec<UserId>,
}

/// A task to create. Texts are trimmed and bounded by whoever built it (the
/// API's `TryFrom`, the import's cell checks); generated ones (a bulletin's
/// rectification code) may be longer than a person may type, as before.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub links: TaskLinks,
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// The deadline as written in an imported table.
    pub due_text: Option<String>,
    /// Due N working days after assignment (1–365); resolved by the assign action.
    pub due_in_working_days: Option<i32>,
    pub priority: Priority,
    pub category: Category,
    pub evidence_required: bool,
    /// 1–31: a progress report is due by this day of each cycle's last month.
    pub report_day: Option<i32>,
    /// How often the report is due (monthly unless said otherwise).
    pub report_cadence: ReportCadence,
}

/// Changes to a task: `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    /// The version the caller read.
    pub version: i64,
    pub code: Option<String>,
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub parent_id: Option<Option<TaskId>>,
    pub lead_unit_id: Option<UnitId>,
    pub cooperating_unit_ids: Option<Vec<UnitId>>,
    pub responsible_leader_id: Option<Option<UserId>>,
    /// Replaces the co-responsible leaders.
    pub co_leader_ids: Option<Vec<UserId>>,
    pub start_date: Option<Option<NaiveDate>>,
    pub due_date: Option<Option<NaiveDate>>,
    /// The deadline as written in an imported table; left as it is, it is
    /// cleared when the due date or the report day changes (the old wording
    /// would no longer say the same).
    pub due_text: Option<Option<String>>,
    /// Why the due date of an assigned task moves; recorded on the timeline.
    pub due_date_reason: Option<String>,
    pub due_in_working_days: Option<Option<i32>>,
    pub priority: Option<Priority>,
    pub category: Option<Category>,
    pub evidence_required: Option<bool>,
    pub report_day: Option<Option<i32>>,
    pub report_cadence: Option<ReportCadence>,
}

/// Input with bad fields, and the part of it that did parse: the service
/// still checks that part against the database, so one answer names every
/// bad field (a bad date and an unknown unit together).
#[derive(Debug)]
pub struct Rejected<T> {
    pub errors: Validator,
    pub parsed: T,
}

impl TryFrom<CreateTask> for NewTask {
    type Error = Rejected<TaskLinks>;

    fn try_from(req: CreateTask) -> Result<NewTask, Rejected<TaskLinks>> {
        let mut v = Validator::default();
        let code = v.check("code", task_code(&req.code));
        let title = v.check("title", task_title(&req.title));
        let description = optional_text(
            &mut v,
            "description",
            req.description.as_deref(),
            DESCRIPTION_MAX,
        );
        let start = optional_date(&mut v, "start_date", req.start_date.as_deref());
        let due = optional_date(&mut v, "due_date", req.due_date.as_deref());
        let working_days = req
            .due_in_working_days
            .and_then(|n| v.check("due_in_working_days", working_days(n)));
        if req.due_date.is_some() && req.due_in_working_days.is_some() {
            v.add(
                "due_in_working_days",
                Message::new(
                    "完成时限只能二选一：日期或工作日数",
                    "give either due_date or due_in_working_days, not both",
                ),
            );
        }
        if let (Some(Some(s)), Some(Some(d))) = (start, due) {
            if d < s {
                v.add(
                    "due_date",
                    Message::new("完成时限不能早于开始日期", "must not be before start_date"),
                );
            }
        }
        let priority = v.check(
            "priority",
            req.priority
                .as_deref()
                .map_or(Ok(Priority::Normal), Priority::parse),
        );
        let category = v.check(
            "category",
            req.category
                .as_deref()
                .map_or(Ok(Category::KeyTask), Category::parse),
        );
        let report_day = req
            .report_day
            .and_then(|d| v.check("report_day", report_day(d)));
        let report_cadence = v.check(
            "report_cadence",
            req.report_cadence
                .as_deref()
                .map_or(Ok(ReportCadence::Monthly), ReportCadence::parse),
        );
        let links = TaskLinks {
            plan_id: req.plan_id,
            parent_id: req.parent_id,
            lead_unit_id: req.lead_unit_id,
            cooperating_unit_ids: req.cooperating_unit_ids,
            responsible_leader_id: req.responsible_leader_id,
            co_leader_ids: req.co_leader_ids,
        };
        match (
            code,
            title,
            description,
            start,
            due,
            priority,
            category,
            report_cadence,
        ) {
            (
                Some(code),
                Some(title),
                Some(description),
                Some(start_date),
                Some(due_date),
                Some(priority),
                Some(category),
                Some(report_cadence),
            ) if v.is_empty() => Ok(NewTask {
                links,
                code,
                title,
                description,
                start_date,
                due_date,
                due_text: None,
                due_in_working_days: working_days,
                priority,
                category,
                evidence_required: req.evidence_required,
                report_day,
                report_cadence,
            }),
            _ => Err(Rejected {
                errors: v,
                parsed: links,
            }),
        }
    }
}

impl TryFrom<UpdateTask> for TaskChanges {
    type Error = Rejected<TaskChanges>;

    /// A bad field is left out of the changes that are handed on with the errors.
    fn try_from(req: UpdateTask) -> Result<TaskChanges, Rejected<TaskChanges>> {
        let mut v = Validator::default();
        let changes = TaskChanges {
            version: req.version,
            code: req
                .code
                .as_deref()
                .and_then(|c| v.check("code", task_code(c))),
            title: req
                .title
                .as_deref()
                .and_then(|t| v.check("title", task_title(t))),
            description: req
                .description
                .as_ref()
                .and_then(|d| optional_text(&mut v, "description", d.as_deref(), DESCRIPTION_MAX)),
            parent_id: req.parent_id,
            lead_unit_id: req.lead_unit_id,
            cooperating_unit_ids: req.cooperating_unit_ids,
            responsible_leader_id: req.responsible_leader_id,
            co_leader_ids: req.co_leader_ids,
            start_date: req
                .start_date
                .as_ref()
                .and_then(|d| optional_date(&mut v, "start_date", d.as_deref())),
            due_date: req
                .due_date
                .as_ref()
                .and_then(|d| optional_date(&mut v, "due_date", d.as_deref())),
            due_in_working_days: match req.due_in_working_days {
                Some(Some(n)) => v.check("due_in_working_days", working_days(n)).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            priority: req
                .priority
                .as_deref()
                .and_then(|p| v.check("priority", Priority::parse(p))),
            category: req
                .category
                .as_deref()
                .and_then(|c| v.check("category", Category::parse(c))),
            evidence_required: req.evidence_required,
            report_day: match req.report_day {
                Some(Some(d)) => v.check("report_day", report_day(d)).map(Some),
                Some(None) => Some(None),
                None => None,
            },
            report_cadence: req
                .report_cadence
                .as_deref()
                .and_then(|c| v.check("report_cadence", ReportCadence::parse(c))),
            due_text: None,
            due_date_reason: None,
        };
        let due_date_reason = optional_text(
            &mut v,
            "due_date_reason",
            req.due_date_reason.as_deref(),
            1000,
        )
        .flatten();
        let changes = TaskChanges {
            due_date_reason,
            ..changes
        };
        if v.is_empty() {
            Ok(changes)
        } else {
            Err(Rejected {
                errors: v,
                parsed: changes,
            })
        }
    }
}

/// The order of the task list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Soonest due first, tasks without a due date last.
    #[default]
    DueDate,
    DueDateDesc,
    Code,
    CodeDesc,
    Updated,
    UpdatedDesc,
    /// Oldest submission first (the office's review queue), tasks never
    /// submitted last.
    Submitted,
}

impl Sort {
    fn parse(s: &str) -> Result<Sort, Message> {
        Ok(match s {
            "due_date" => Sort::DueDate,
            "-due_date" => Sort::DueDateDesc,
            "code" => Sort::Code,
            "-code" => Sort::CodeDesc,
            "updated" => Sort::Updated,
            "-updated" => Sort::UpdatedDesc,
            "submitted" => Sort::Submitted,
            _ => return Err(Message::new(
                "排序只能是 due_date、code、updated（前加 - 为倒序）或 submitted",
                "sort must be due_date, code or updated, optionally prefixed with -, or submitted",
            )),
        })
    }
}

/// The progress-report filter: tasks whose current report is owed (报告待报,
/// `domain::traffic::report_owed`) or missing (缺报, `report_missing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFilter {
    Owed,
    Missing,
}

impl ReportFilter {
    fn parse(s: &str) -> Result<ReportFilter, Message> {
        match s {
            "owed" => Ok(ReportFilter::Owed),
            "missing" => Ok(ReportFilter::Missing),
            _ => Err(Message::new(
                "报告筛选只能是 owed（待报）或 missing（缺报）",
                "report must be owed or missing",
            )),
        }
    }
}

/// Which tasks the list shows (within the caller's sight), in which order.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub plan_id: Option<PlanId>,
    /// Lead or cooperating unit.
    pub unit_id: Option<UnitId>,
    /// Lead unit only.
    pub lead_unit_id: Option<UnitId>,
    pub status: Option<TaskStatus>,
    pub leader_id: Option<UserId>,
    pub parent_id: Option<TaskId>,
    /// Compared as given: an unknown category shows no task, as it always did.
    pub category: Option<String>,
    /// Inclusive.
    pub due_before: Option<NaiveDate>,
    /// Inclusive.
    pub due_after: Option<NaiveDate>,
    pub overdue: Option<bool>,
    pub returned: Option<bool>,
    pub light: Option<TrafficLight>,
    pub report: Option<ReportFilter>,
    /// Text in the title or code (trimmed, bounded).
    pub text: Option<String>,
    pub sort: Sort,
}

impl TryFrom<TaskFilter> for ListFilter {
    type Error = crate::error::Error;

    fn try_from(f: TaskFilter) -> Result<ListFilter, crate::error::Error> {
        let mut v = Validator::default();
        let status = f
            .status
            .as_deref()
            .and_then(|s| v.check("status", TaskStatus::parse(s)));
        let light = f
            .light
            .as_deref()
            .and_then(|s| v.check("light", TrafficLight::parse(s)));
        let report = f
            .report
            .as_deref()
            .and_then(|s| v.check("report", ReportFilter::parse(s)));
        let due_before = f
            .due_before
            .as_deref()
            .and_then(|d| v.check("due_before", parse_date(d)));
        let due_after = f
            .due_after
            .as_deref()
            .and_then(|d| v.check("due_after", parse_date(d)));
        let text = v.check("q", search_text(f.q.as_deref())).flatten();
        let sort = v
            .check(
                "sort",
                f.sort.as_deref().map_or(Ok(Sort::DueDate), Sort::parse),
            )
            .unwrap_or_default();
        v.finish()?;
        Ok(ListFilter {
            plan_id: f.plan_id.map(PlanId),
            unit_id: f.unit_id.map(UnitId),
            lead_unit_id: f.lead_unit_id.map(UnitId),
            status,
            leader_id: f.leader_id.map(UserId),
            parent_id: f.parent_id.map(TaskId),
            category: f.category,
            due_before,
            due_after,
            overdue: f.overdue,
            returned: f.returned,
            light,
            report,
            text,
            sort,
        })
    }
}

pub fn task_code(s: &str) -> Result<String, Message> {
    BoundedText::parse(s, CODE_MAX).map(BoundedText::into_inner)
}

pub fn task_title(s: &str) -> Result<String, Message> {
    BoundedText::parse(s, TITLE_MAX).map(BoundedText::into_inner)
}

/// A description: blank is none.
pub fn task_description(s: Option<&str>) -> Result<Option<String>, Message> {
    match s.filter(|t| !t.trim().is_empty()) {
        Some(t) => BoundedText::parse(t, DESCRIPTION_MAX).map(|t| Some(t.into_inner())),
        None => Ok(None),
    }
}

fn working_days(n: i32) -> Result<i32, Message> {
    if (1..=365).contains(&n) {
        Ok(n)
    } else {
        Err(Message::new(
            "工作日数必须在 1 到 365 之间",
            "must be between 1 and 365 working days",
        ))
    }
}

fn report_day(n: i32) -> Result<i32, Message> {
    if (1..=31).contains(&n) {
        Ok(n)
    } else {
        Err(Message::new(
            "报送日必须在 1 到 31 之间",
            "must be a day of the month, 1 to 31",
        ))
    }
}

/// Blank text is none; `None` back means the field was bad (and recorded).
fn optional_text(
    v: &mut Validator,
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Option<Option<String>> {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => v
            .check(field, BoundedText::parse(t, max))
            .map(|t| Some(t.into_inner())),
        None => Some(None),
    }
}

fn optional_date(v: &mut Validator, field: &str, text: Option<&str>) -> Option<Option<NaiveDate>> {
    match text {
        Some(t) => v.check(field, parse_date(t)).map(Some),
        None => Some(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CreateTask {
        CreateTask {
            plan_id: PlanId(1),
            parent_id: None,
            code: " 2.5.3 ".into(),
            title: "任务".into(),
            description: Some("  ".into()),
            lead_unit_id: UnitId(2),
            cooperating_unit_ids: vec![UnitId(3)],
            responsible_leader_id: None,
            co_leader_ids: Vec::new(),
            start_date: Some("2026-06-01".into()),
            due_date: Some("2026-06-30".into()),
            due_in_working_days: None,
            priority: None,
            category: Some("rectification".into()),
            evidence_required: true,
            report_day: Some(25),
            report_cadence: None,
        }
    }

    #[test]
    fn a_good_request_becomes_typed_values_with_defaults() {
        let new = NewTask::try_from(request()).unwrap();
        assert_eq!(new.code, "2.5.3");
        assert_eq!(new.description, None);
        assert_eq!(new.due_date, NaiveDate::from_ymd_opt(2026, 6, 30));
        assert_eq!(new.priority, Priority::Normal);
        assert_eq!(new.report_cadence, ReportCadence::Monthly);
        assert_eq!(new.category, Category::Rectification);
        assert_eq!(new.links.cooperating_unit_ids, [UnitId(3)]);
    }

    #[test]
    fn every_bad_field_is_named_and_the_links_are_kept() {
        let req = CreateTask {
            code: String::new(),
            due_date: Some("2026-02-30".into()),
            due_in_working_days: Some(400),
            priority: Some("urgent".into()),
            report_day: Some(32),
            report_cadence: Some("weekly".into()),
            ..request()
        };
        let bad = NewTask::try_from(req).unwrap_err();
        let fields: Vec<String> = bad
            .errors
            .into_fields()
            .into_iter()
            .map(|f| f.field)
            .collect();
        assert_eq!(
            fields,
            [
                "code",
                "due_date",
                "due_in_working_days",
                "due_in_working_days",
                "priority",
                "report_day",
                "report_cadence"
            ]
        );
        assert_eq!(bad.parsed.lead_unit_id, UnitId(2));
    }

    #[test]
    fn changes_keep_what_parsed_beside_the_errors() {
        let req = UpdateTask {
            version: 3,
            title: Some("新标题".into()),
            due_date: Some(Some("not a date".into())),
            start_date: Some(None),
            ..UpdateTask::default()
        };
        let bad = TaskChanges::try_from(req).unwrap_err();
        assert_eq!(bad.parsed.version, 3);
        assert_eq!(bad.parsed.title.as_deref(), Some("新标题"));
        assert_eq!(bad.parsed.start_date, Some(None));
        assert_eq!(bad.parsed.due_date, None, "the bad field is left unchanged");
    }

    #[test]
    fn the_list_query_is_parsed_with_every_bad_parameter_named() {
        let good = ListFilter::try_from(TaskFilter {
            unit_id: Some(4),
            status: Some("in_progress".into()),
            due_before: Some("2026-12-31".into()),
            q: Some("  厕所 ".into()),
            sort: Some("-code".into()),
            report: Some("owed".into()),
            ..TaskFilter::default()
        })
        .unwrap();
        assert_eq!(good.report, Some(ReportFilter::Owed));
        assert_eq!(good.unit_id, Some(UnitId(4)));
        assert_eq!(good.status, Some(TaskStatus::InProgress));
        assert_eq!(good.due_before, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert_eq!(good.text.as_deref(), Some("厕所"));
        assert_eq!(good.sort, Sort::CodeDesc);
        assert_eq!(
            ListFilter::try_from(TaskFilter::default()).unwrap().sort,
            Sort::DueDate
        );
        let bad = ListFilter::try_from(TaskFilter {
            status: Some("done".into()),
            light: Some("blue".into()),
            report: Some("late".into()),
            due_after: Some("2026-13-01".into()),
            sort: Some("title".into()),
            ..TaskFilter::default()
        })
        .unwrap_err();
        let crate::error::Error::Invalid(fields) = bad else {
            panic!("not a validation error: {bad:?}");
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["status", "light", "report", "due_after", "sort"]);
    }
}
