//! The indicator reports pass: a report owed and not in climbs the same
//! ladder as a task in progress due on the report's date.

use super::context::Context;
use super::write::{self, About, Item};
use super::ScanCounts;
use crate::db::DbConnection;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic;
use crate::indicators::values::OwedReport;
use crate::mail::templates::TaskFacts;

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let today = ctx.clock.today;
    let mut items = Vec::new();
    for report in &ctx.reports {
        for step in ctx
            .ladder
            .owed(TaskStatus::InProgress, Some(report.due), today)
        {
            let key = format!(
                "indicator:{}:{}:{}:{}",
                report.indicator_id,
                report.period.label(),
                step.key(),
                report.due
            );
            let w = ctx.climb(step, key, report.lead_unit_id, &report.cooperating, &[]);
            let facts = TaskFacts {
                step: w.step,
                code: report.code(),
                title: report.title(),
                lead_unit: ctx.unit_name(report.lead_unit_id),
                due_date: Some(report.due),
                days_overdue: traffic::days_late(report.due, today),
                link: ctx.link(&format!("/api/v1/indicators/{}", report.indicator_id)),
                leader: None,
                latest: None,
                reply_by: None,
                note: None,
                instruction: None,
                cooperating: false,
                order: None,
            };
            items.push(Item {
                about: about(report, traffic::days_late(report.due, today)),
                wanted: w,
                facts,
                order: None,
            });
        }
    }
    write::write_owed(conn, ctx, items, counts)
}

fn about(report: &OwedReport, days_overdue: i64) -> About {
    About {
        task_id: None,
        indicator: Some((report.indicator_id, report.period.label())),
        instruction: None,
        lead_unit: report.lead_unit_id,
        due: Some(report.due),
        task_ids: Vec::new(),
        reason: format!(
            "{} {} 逾期 {days_overdue} 天未报送",
            report.code(),
            report.title()
        ),
    }
}
