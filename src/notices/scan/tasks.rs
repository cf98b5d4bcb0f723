//! The tasks pass: each open task's ladder steps, a late signing-for and a
//! missing progress report (monthly, quarterly or half-yearly), as the
//! domain rules judge them today. The 督办 step issues a supervision order
//! (督办单) with its notice. Decided a few hundred tasks at a time, and
//! written in batches (`write`).

use std::collections::HashMap;

use diesel::prelude::*;

use super::context::{Context, OpenTask, Parties, Wanted};
use super::write::{self, About, Item, OrderWanted};
use super::ScanCounts;
use crate::db::schema::progress_reports;
use crate::db::DbConnection;
use crate::domain::ladder::Step;
use crate::domain::notice_step::NoticeStep;
use crate::domain::traffic;
use crate::domain::{TaskId, UnitId, UserId};
use crate::mail::templates::TaskFacts;

/// Open tasks whose notices are decided, looked up and written together.
const TASKS_PER_BATCH: usize = 500;

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    for batch in ctx.open.chunks(TASKS_PER_BATCH) {
        // The keys first: who each notice goes to and what it says are
        // built only for those not written yet (on a rescan, none).
        let owed: Vec<(&OpenTask, Owed)> = batch
            .iter()
            .flat_map(|t| owed(ctx, t).into_iter().map(move |o| (t, o)))
            .collect();
        let keys: Vec<&str> = owed.iter().map(|(_, o)| o.key.as_str()).collect();
        let there = write::written(conn, &keys)?;
        counts.existing += there.len();
        let owed: Vec<(&OpenTask, Owed)> = owed
            .into_iter()
            .filter(|(_, o)| !there.contains(&o.key))
            .collect();
        let mut ids: Vec<TaskId> = owed.iter().map(|(t, _)| t.row.id).collect();
        ids.dedup();
        let parties = Parties::load(conn, &ids)?;
        let mut items: Vec<Item> = owed
            .into_iter()
            .map(|(t, o)| item(ctx, t, &parties, o.route(ctx, t, &parties)))
            .collect();
        // Only a late task's notices state its latest progress: read for
        // those still to write, in one query.
        let late: Vec<(TaskId, UnitId)> = items
            .iter()
            .filter(|i| i.wanted.step.chases())
            .filter_map(|i| i.about.task_id.map(|t| (t, i.about.lead_unit)))
            .collect();
        let latest = latest_progress(conn, &late)?;
        for item in items.iter_mut().filter(|i| i.wanted.step.chases()) {
            item.facts.latest = item.about.task_id.and_then(|t| latest.get(&t).cloned());
        }
        write::write_all(conn, ctx, &items, counts)?;
    }
    Ok(())
}

/// The notice `w` that `task` is owed today, with what it says (but its
/// latest progress, read only for those not yet written).
fn item(ctx: &Context, task: &OpenTask, parties: &Parties, w: Wanted) -> Item {
    let row = &task.row;
    let days_overdue = traffic::days_overdue(&task.timing, ctx.clock.today);
    let about = About {
        task_id: Some(row.id),
        indicator: None,
        instruction: None,
        lead_unit: row.lead_unit_id,
        due: row.due_date,
        task_ids: vec![row.id.0],
        reason: format!(
            "任务 {} “{}” 逾期 {days_overdue} 天未完成",
            row.code, row.title
        ),
    };
    let late = w.step.chases();
    let facts = TaskFacts {
        step: w.step,
        code: row.code.clone(),
        title: row.title.clone(),
        lead_unit: ctx.unit_name(row.lead_unit_id),
        due_date: row.due_date,
        days_overdue,
        link: ctx.link(&format!("/tasks/{}", row.id)),
        leader: leader_names(ctx, &parties.leaders(row)),
        latest: None,
        reply_by: late.then(|| ctx.clock.today + chrono::Duration::days(REPLY_DAYS)),
        note: None,
        instruction: None,
        cooperating: false,
        order: None,
    };
    // The 督办 step issues its supervision order (督办单) with the notice,
    // which carries it as an attachment.
    let order = matches!(w.step.rung(), Some(Step::Supervise(_))).then(|| OrderWanted {
        requirement: crate::orders::default_requirement(ctx.lang, days_overdue, ctx.order_reply_by),
        reply_by: ctx.order_reply_by,
        year: chrono::Datelike::year(&ctx.clock.today),
    });
    Item {
        about,
        wanted: w,
        facts,
        order,
    }
}

/// The task's leaders as a notice names them: the responsible one, then the
/// co-responsible ones (张副市长、李副市长).
fn leader_names(ctx: &Context, leaders: &[UserId]) -> Option<String> {
    let names: Vec<String> = leaders
        .iter()
        .filter_map(|l| ctx.people.get(l).cloned())
        .collect();
    (!names.is_empty()).then(|| names.join("、"))
}

/// Days a chased or supervised unit has to reply in writing.
const REPLY_DAYS: i64 = 3;

/// The lead unit's latest progress report of each of `late` (task, lead
/// unit) as one line: "60%，2026-06-20：…". One query, through the reports'
/// `(task_id, id)` index, newest first.
fn latest_progress(
    conn: &mut DbConnection,
    late: &[(TaskId, UnitId)],
) -> anyhow::Result<HashMap<TaskId, String>> {
    let mut found = HashMap::new();
    if late.is_empty() {
        return Ok(found);
    }
    let lead: HashMap<TaskId, UnitId> = late.iter().copied().collect();
    let ids: Vec<TaskId> = lead.keys().copied().collect();
    let rows: Vec<(TaskId, UnitId, i32, String, chrono::NaiveDateTime)> =
        reports_of(&ids).load(conn)?;
    for (task, unit, percent, body, at) in rows {
        if lead.get(&task) != Some(&unit) || found.contains_key(&task) {
            continue;
        }
        let body: String = body.chars().take(120).collect();
        found.insert(
            task,
            format!("{percent}%，{}：{body}", at.format("%Y-%m-%d")),
        );
    }
    Ok(found)
}

/// The progress reports of `ids`, each task's newest first: through the
/// reports' task index.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn reports_of<'a>(ids: &'a [TaskId]) -> _ {
    progress_reports::table
        .filter(progress_reports::task_id.eq_any(ids))
        .order((progress_reports::task_id.asc(), progress_reports::id.desc()))
        .select((
            progress_reports::task_id,
            progress_reports::unit_id,
            progress_reports::percent,
            progress_reports::body,
            progress_reports::created_at,
        ))
}

/// A notice a task owes today, known by its dedupe key before anything
/// else about it is built.
struct Owed {
    key: String,
    notice: OwedNotice,
}

enum OwedNotice {
    Ladder(Step),
    AcceptOverdue,
    ReportMissing,
}

impl Owed {
    /// The notice with its recipients.
    fn route(self, ctx: &Context, task: &OpenTask, parties: &Parties) -> Wanted {
        let row = &task.row;
        match self.notice {
            OwedNotice::Ladder(step) => ctx.climb(
                step,
                self.key,
                row.lead_unit_id,
                parties.coops(row.id),
                &parties.leaders(row),
            ),
            OwedNotice::AcceptOverdue => ctx.to_lead(
                NoticeStep::AcceptOverdue,
                "accept_reminder",
                self.key,
                row.lead_unit_id,
            ),
            OwedNotice::ReportMissing => ctx.to_lead(
                NoticeStep::ReportMissing,
                "report_reminder",
                self.key,
                row.lead_unit_id,
            ),
        }
    }
}

/// The notices `task` is owed today: its ladder steps, then signing for,
/// then the progress report.
fn owed(ctx: &Context, task: &OpenTask) -> Vec<Owed> {
    let (row, clock) = (&task.row, &ctx.clock);
    let status = task.timing.status;
    let due = row.due_date.map(|d| d.to_string()).unwrap_or_default();
    let mut owed: Vec<Owed> = ctx
        .ladder
        .owed(status, row.due_date, clock.today)
        .into_iter()
        .map(|step| Owed {
            key: format!("task:{}:{}:{due}", row.id, step.key()),
            notice: OwedNotice::Ladder(step),
        })
        .collect();
    let assigned = row.assigned_at.map(|at| clock.local(at));
    if let Some(assigned) = assigned
        .filter(|_| traffic::acceptance_overdue(status, assigned, clock.today, clock.accept_days))
    {
        owed.push(Owed {
            key: format!("task:{}:accept_overdue:{assigned}", row.id),
            notice: OwedNotice::AcceptOverdue,
        });
    }
    let started = row.started_at().map(|at| clock.local(at));
    let last_report = task.last_lead_report.map(|at| clock.local(at));
    if let Some(report_date) = traffic::missing_report(
        row.report_cycle(),
        status,
        started,
        last_report,
        clock.today,
    ) {
        owed.push(Owed {
            key: format!("task:{}:report_missing:{report_date}", row.id),
            notice: OwedNotice::ReportMissing,
        });
    }
    owed
}
