//! The tasks pass: each open task's ladder steps, a late signing-for and a
//! missing monthly progress report, as the domain rules judge them today.

use super::context::{Context, OpenTask, Wanted};
use super::write::{write_notice, About};
use super::ScanCounts;
use crate::db::DbConnection;
use crate::domain::traffic;
use crate::mail::templates::TaskFacts;

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    for task in &ctx.open {
        let row = &task.row;
        let days_overdue = traffic::days_overdue(&task.timing, ctx.clock.today);
        let about = About {
            task_id: Some(row.id),
            indicator: None,
            lead_unit: row.lead_unit_id,
            due: row.due_date,
            task_ids: vec![row.id],
            reason: format!(
                "任务 {} “{}” 逾期 {days_overdue} 天未完成",
                row.code, row.title
            ),
        };
        for w in wanted(ctx, task) {
            let facts = TaskFacts {
                step: w.step.clone(),
                code: row.code.clone(),
                title: row.title.clone(),
                lead_unit: ctx.unit_name(row.lead_unit_id),
                due_date: row.due_date,
                days_overdue,
                link: ctx.link(&format!("/api/v1/tasks/{}", row.id)),
            };
            counts.tally(write_notice(conn, ctx, &about, &w, &facts)?);
        }
    }
    Ok(())
}

/// The notices `task` is owed today: its ladder steps, then signing for,
/// then the progress report.
fn wanted(ctx: &Context, task: &OpenTask) -> Vec<Wanted> {
    let (row, clock) = (&task.row, &ctx.clock);
    let status = task.timing.status;
    let due = row.due_date.map(|d| d.to_string()).unwrap_or_default();
    let mut wanted: Vec<Wanted> = ctx
        .ladder
        .owed(status, row.due_date, clock.today)
        .into_iter()
        .map(|step| {
            let key = format!("task:{}:{}:{due}", row.id, step.key());
            ctx.climb(
                step,
                key,
                row.lead_unit_id,
                &task.coops,
                row.responsible_leader_id,
            )
        })
        .collect();
    let assigned = row.assigned_at.map(|at| clock.local(at));
    if let Some(assigned) = assigned
        .filter(|_| traffic::acceptance_overdue(status, assigned, clock.today, clock.accept_days))
    {
        let key = format!("task:{}:accept_overdue:{assigned}", row.id);
        wanted.push(ctx.to_lead("accept_overdue", "accept_reminder", key, row.lead_unit_id));
    }
    let started = row.started_at().map(|at| clock.local(at));
    let last_report = task.last_lead_report.map(|at| clock.local(at));
    if let Some(report_date) =
        traffic::missing_report(row.report_day, status, started, last_report, clock.today)
    {
        let key = format!("task:{}:report_missing:{report_date}", row.id);
        wanted.push(ctx.to_lead("report_missing", "report_reminder", key, row.lead_unit_id));
    }
    wanted
}
