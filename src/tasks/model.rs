//! Task rows as stored, and the API's task shapes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::tasks;
use crate::domain::kinds::{Category, Priority};
use crate::domain::report_cycle::{ReportCadence, ReportCycle};
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::domain::{ExtensionId, IndicatorId, PlanId, TaskId, UnitId, UserId};
use crate::http::json::double_option;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct TaskRow {
    pub id: TaskId,
    pub plan_id: PlanId,
    pub parent_id: Option<TaskId>,
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub lead_unit_id: UnitId,
    pub responsible_leader_id: Option<UserId>,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub original_due_date: Option<NaiveDate>,
    pub due_working_days: Option<i32>,
    pub priority: Priority,
    pub category: Category,
    pub status: TaskStatus,
    pub evidence_required: bool,
    pub report_day: Option<i32>,
    pub progress: i32,
    pub returned: bool,
    pub completion_note: Option<String>,
    pub assigned_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub submitted_at: Option<NaiveDateTime>,
    pub submitted_on: Option<NaiveDate>,
    pub completed_at: Option<NaiveDateTime>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The indicator the task was made from, if any.
    pub indicator_id: Option<IndicatorId>,
    /// The deadline as written in the imported table, when it came from one.
    pub due_text: Option<String>,
    /// How often the progress report is due, by `report_day`.
    pub report_cadence: ReportCadence,
}

impl TaskRow {
    /// The task's reporting cycle, when it has a report day.
    pub fn report_cycle(&self) -> Option<ReportCycle> {
        ReportCycle::new(self.report_cadence, self.report_day?)
    }

    /// When work on the task started, for the progress-report rule: when it
    /// was signed for, or else when it was assigned.
    pub fn started_at(&self) -> Option<NaiveDateTime> {
        self.accepted_at.or(self.assigned_at)
    }
}

/// A task as the API shows it, with its light and lateness for today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub id: TaskId,
    pub plan_id: PlanId,
    pub parent_id: Option<TaskId>,
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub lead_unit_id: UnitId,
    pub cooperating_unit_ids: Vec<UnitId>,
    pub responsible_leader_id: Option<UserId>,
    /// Co-responsible leaders (共同责任领导): they see the task and are
    /// copied on its supervision orders.
    pub co_leader_ids: Vec<UserId>,
    /// The co-responsible leaders with their names, in the order of `co_leader_ids`.
    pub co_leaders: Vec<LeaderRef>,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    /// The deadline as written in the imported table (2026年6月底前), kept
    /// while the date it gave stands.
    pub due_text: Option<String>,
    /// The due date before the first approved extension or date change.
    pub original_due_date: Option<NaiveDate>,
    /// Set when the deadline is "N working days from assignment".
    pub due_in_working_days: Option<i32>,
    pub priority: Priority,
    pub category: Category,
    pub status: TaskStatus,
    pub evidence_required: bool,
    /// Progress reports are due by this day (1–31; 31 is the month's last
    /// day) of each reporting cycle's last month.
    pub report_day: Option<i32>,
    /// How often the progress report is due: every month, quarter
    /// (March, June, September, December) or half-year (June, December).
    pub report_cadence: ReportCadence,
    /// Percent done, from the lead unit's latest report.
    pub progress: i32,
    /// Returned by the office and not resubmitted yet.
    pub returned: bool,
    pub completion_note: Option<String>,
    pub assigned_at: Option<DateTime<Utc>>,
    /// When the lead unit signed for the task (签收).
    pub accepted_at: Option<DateTime<Utc>>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// green, yellow, red; null for drafts and cancelled tasks.
    pub light: Option<TrafficLight>,
    pub days_overdue: i64,
    /// A required monthly progress report is missing.
    pub report_missing: bool,
    /// Assigned but not signed for within the configured number of days.
    pub acceptance_overdue: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A leader named on a task: the account and its display name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LeaderRef {
    pub id: UserId,
    pub name: String,
}

/// Sub-task figures rolled up to a parent (all depths).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Rollup {
    pub descendants: i64,
    pub by_status: std::collections::BTreeMap<String, i64>,
    /// Mean progress of the descendants that are not cancelled.
    pub progress: i32,
}

/// The latest report of one unit on the task.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnitInput {
    pub unit_id: UnitId,
    /// lead or cooperating.
    pub role: &'static str,
    pub percent: Option<i32>,
    pub body: Option<String>,
    pub reported_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: TaskView,
    pub children: Vec<TaskId>,
    pub rollup: Option<Rollup>,
    /// The lead unit's and each cooperating unit's latest input, side by side.
    pub unit_inputs: Vec<UnitInput>,
    pub pending_extension_id: Option<ExtensionId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTask {
    pub plan_id: PlanId,
    pub parent_id: Option<TaskId>,
    /// Unique within the plan, e.g. `2.5.3`.
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub lead_unit_id: UnitId,
    #[serde(default)]
    pub cooperating_unit_ids: Vec<UnitId>,
    /// A user with role leader.
    pub responsible_leader_id: Option<UserId>,
    /// Co-responsible leaders: users with role leader, besides the responsible one.
    #[serde(default)]
    pub co_leader_ids: Vec<UserId>,
    /// YYYY-MM-DD
    pub start_date: Option<String>,
    /// YYYY-MM-DD; or give due_in_working_days instead.
    pub due_date: Option<String>,
    /// Due N working days after assignment (holiday calendar applies).
    pub due_in_working_days: Option<i32>,
    /// high, normal (default) or low.
    pub priority: Option<String>,
    /// key_task (default), indicator or rectification.
    pub category: Option<String>,
    #[serde(default)]
    pub evidence_required: bool,
    /// 1–31: a progress report is due by this day of each reporting
    /// cycle's last month (31: the month's last day).
    pub report_day: Option<i32>,
    /// monthly (default), quarterly or half_yearly: how often the report
    /// is due.
    #[schema(value_type = Option<ReportCadence>)]
    pub report_cadence: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTask {
    pub version: i64,
    pub code: Option<String>,
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub parent_id: Option<Option<TaskId>>,
    pub lead_unit_id: Option<UnitId>,
    pub cooperating_unit_ids: Option<Vec<UnitId>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub responsible_leader_id: Option<Option<UserId>>,
    /// Replaces the co-responsible leaders (users with role leader).
    pub co_leader_ids: Option<Vec<UserId>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub due_date: Option<Option<String>>,
    /// Required when the due date of an assigned task changes; recorded.
    pub due_date_reason: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub due_in_working_days: Option<Option<i32>>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub evidence_required: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>)]
    pub report_day: Option<Option<i32>>,
    /// monthly, quarterly or half_yearly.
    #[schema(value_type = Option<ReportCadence>)]
    pub report_cadence: Option<String>,
}

/// The body of a life-cycle action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// The task's `version` last read.
    pub version: i64,
    /// Completion note (submit) or reason (return, cancel, reopen); optional otherwise.
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    pub plan_id: Option<i64>,
    /// Lead or cooperating unit.
    pub unit_id: Option<i64>,
    /// Lead unit only.
    pub lead_unit_id: Option<i64>,
    pub status: Option<String>,
    /// Responsible or co-responsible leader.
    pub leader_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub category: Option<String>,
    /// YYYY-MM-DD, inclusive.
    pub due_before: Option<String>,
    /// YYYY-MM-DD, inclusive.
    pub due_after: Option<String>,
    pub overdue: Option<bool>,
    /// Returned by the office and not resubmitted yet (被退回).
    pub returned: Option<bool>,
    /// green, yellow or red.
    pub light: Option<String>,
    /// Monthly progress reports: `owed` (报告待报: the current cycle's report
    /// is not in yet, late or not) or `missing` (缺报: past its report date).
    pub report: Option<String>,
    /// Text in the title or code.
    pub q: Option<String>,
    /// due_date (default), code, updated; prefix `-` for descending; or
    /// submitted (oldest submission first).
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}
