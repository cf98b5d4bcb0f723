//! The annual assessment (年度目标责任考核): each unit's score over the
//! year's tasks, less points for confirmed public criticism, admonitory talks
//! and accountability records of the year, graded 优秀/良好/合格/不合格, with
//! the records that lowered it.

pub mod render;
pub mod routes;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::Settings;
use crate::db::schema::accountability_records as records;
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::{AccountabilityLevel, RecordStatus};
use crate::domain::period::Period;
use crate::domain::scoring::{grade, Grade};
use crate::domain::{RecordId, UnitId};
use crate::rankings::{self, OverdueTask, UnitRef};

/// Levels of accountability that count against the annual score.
pub const PENALISED_LEVELS: [AccountabilityLevel; 3] = [
    AccountabilityLevel::PublicCriticism,
    AccountabilityLevel::AdmonitoryTalk,
    AccountabilityLevel::Accountability,
];

crate::closed_set! {
    /// Why a unit lost points.
    pub enum DeductionKind ("扣分类型", "kind") {
        /// Tasks completed after their deadline.
        Late = "late",
        /// Tasks still overdue.
        Overdue = "overdue",
        /// Supervision orders (督办) received.
        SupervisionOrder = "supervision_order",
        /// A confirmed accountability record.
        Accountability = "accountability",
    }
}

/// Something that cost a unit points.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Deduction {
    pub kind: DeductionKind,
    /// How many tasks or orders (1 for an accountability record).
    pub count: u32,
    /// Points it cost, two decimals.
    pub points: f64,
    pub detail: String,
    /// The accountability record, for kind accountability.
    pub record_id: Option<RecordId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssessmentRow {
    pub unit: UnitRef,
    /// The year's score by the bulletin formula.
    pub task_score: f64,
    pub deductions: Vec<Deduction>,
    /// task_score less the accountability deductions, never below 0.
    pub score: f64,
    pub rank: u32,
    pub grade: Grade,
    /// 优秀, 良好, 合格 or 不合格
    pub grade_name: String,
    /// The unit's tasks still overdue at the end of the year.
    pub overdue_tasks: Vec<OverdueTask>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Assessment {
    pub year: i32,
    pub judged_on: NaiveDate,
    /// The year has not ended: the result can still change.
    pub running: bool,
    /// Lowest scores of 优秀, 良好, 合格.
    pub thresholds: [f64; 3],
    /// Best first.
    pub units: Vec<AssessmentRow>,
    /// Units with nothing due in the year: not assessed on tasks.
    pub not_assessed: Vec<UnitRef>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The assessment of `year` as of `clock.today`.
pub fn assess(
    conn: &mut DbConnection,
    settings: &Settings,
    clock: &Clock,
    year: i32,
) -> crate::error::Result<Assessment> {
    let period = Period::parse(&year.to_string()).map_err(|m| anyhow::anyhow!(m.en))?;
    let policy = settings.policy();
    let w = policy.weights;
    let thresholds = settings.assessment_grades.0;
    let ranking = rankings::ranking(conn, period, &policy, clock)?;
    // Confirmed records of the year, by local day of their creation.
    let from = NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.pred_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year + 1, 1, 2)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    let recs: Vec<(RecordId, UnitId, AccountabilityLevel, String, NaiveDateTime)> = records::table
        .filter(records::status.eq(RecordStatus::Confirmed))
        .filter(records::level.eq_any(PENALISED_LEVELS))
        .filter(records::created_at.between(from, to))
        .select((
            records::id,
            records::unit_id,
            records::level,
            records::reason,
            records::created_at,
        ))
        .order(records::id)
        .load(conn)?;
    let mut rows: Vec<AssessmentRow> = ranking
        .ranked
        .iter()
        .map(|r| {
            let f = &r.figures;
            let due = f64::from(f.due.max(1));
            let mut deductions = Vec::new();
            if f.completed_late > 0 {
                deductions.push(Deduction {
                    kind: DeductionKind::Late,
                    count: f.completed_late,
                    points: round2(w.on_time * f64::from(f.completed_late) / due),
                    detail: format!(
                        "逾期完成 {} 项任务，平均逾期 {:.1} 天",
                        f.completed_late,
                        r.average_days_late.unwrap_or(0.0)
                    ),
                    record_id: None,
                });
            }
            if f.overdue > 0 {
                deductions.push(Deduction {
                    kind: DeductionKind::Overdue,
                    count: f.overdue,
                    points: round2(
                        (w.on_time + w.completion) * f64::from(f.overdue) / due
                            + w.overdue_penalty * f64::from(f.overdue),
                    ),
                    detail: format!(
                        "{} 项任务逾期未完成，共逾期 {} 天",
                        f.overdue, f.overdue_days
                    ),
                    record_id: None,
                });
            }
            if f.supervision_orders > 0 {
                deductions.push(Deduction {
                    kind: DeductionKind::SupervisionOrder,
                    count: f.supervision_orders,
                    points: round2(w.supervision_penalty * f64::from(f.supervision_orders)),
                    detail: format!("收到督办通知 {} 次", f.supervision_orders),
                    record_id: None,
                });
            }
            let mut penalty = 0.0;
            for (id, unit, level, reason, at) in &recs {
                if *unit != r.unit.id || !period.contains(clock.local(*at)) {
                    continue;
                }
                penalty += settings.assessment_accountability_penalty;
                deductions.push(Deduction {
                    kind: DeductionKind::Accountability,
                    count: 1,
                    points: settings.assessment_accountability_penalty,
                    detail: format!("{level}: {reason}"),
                    record_id: Some(*id),
                });
            }
            let task_score = r.score.unwrap_or(0.0);
            let score = round2((task_score - penalty).max(0.0));
            let g = grade(score, thresholds);
            AssessmentRow {
                unit: r.unit.clone(),
                task_score,
                deductions,
                score,
                rank: 0,
                grade: g,
                grade_name: g.name_zh().into(),
                overdue_tasks: ranking
                    .overdue_tasks
                    .iter()
                    .filter(|t| t.unit_id == r.unit.id)
                    .cloned()
                    .collect(),
            }
        })
        .collect();
    // Rank by the final score, ties sharing a rank and listed by unit code.
    rows.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.unit.code.cmp(&b.unit.code))
    });
    let mut previous: Option<(f64, u32)> = None;
    for (i, row) in rows.iter_mut().enumerate() {
        let rank = match previous {
            Some((s, r)) if s == row.score => r,
            _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        row.rank = rank;
        previous = Some((row.score, rank));
    }
    Ok(Assessment {
        year,
        judged_on: ranking.judged_on,
        running: ranking.running,
        thresholds,
        units: rows,
        not_assessed: ranking.unranked.iter().map(|r| r.unit.clone()).collect(),
    })
}
