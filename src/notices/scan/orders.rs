//! The supervision orders pass: a 督办单 whose receipt (回执) is not in by
//! its reply-by date climbs the ladder as an instruction's reply does: a
//! chase notice to the lead unit the day after, then a supervision notice to
//! its head, the task's leaders and the office, then an accountability
//! proposal, on the ladder's days counted from the reply-by date. Each step
//! once per order (the dedupe key); the receipt takes the order out of the
//! pass. No step here issues another order.

use super::context::{Context, OwedOrder, Parties};
use super::write::{self, About, Item};
use super::ScanCounts;
use crate::db::DbConnection;
use crate::domain::ladder::Step;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic;
use crate::domain::TaskId;
use crate::mail::templates::TaskFacts;

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let today = ctx.clock.today;
    let mut items = Vec::new();
    let ids: Vec<TaskId> = ctx.orders.iter().map(|o| o.task_id).collect();
    let parties = Parties::load(conn, &ids)?;
    for owed in &ctx.orders {
        let Some(task) = ctx.open_task(owed.task_id) else {
            continue;
        };
        let row = &task.row;
        let lead = row.lead_unit_id;
        let days_late = traffic::days_late(owed.reply_by, today);
        let leaders = parties.leaders(row);
        let steps = ctx
            .ladder
            .owed(TaskStatus::InProgress, Some(owed.reply_by), today)
            .into_iter()
            .filter(|s| !matches!(s, Step::Reminder(_)));
        for step in steps {
            let key = format!("order:{}:{}:{}", owed.id, step.key(), owed.reply_by);
            let wanted = match step {
                // The lead unit alone: it owes the receipt.
                Step::Chase(_) => ctx.direct(step.into(), "chase_notice", key, lead),
                _ => ctx.climb(step, key, lead, &[], &leaders),
            };
            let facts = TaskFacts {
                step: wanted.step,
                code: row.code.clone(),
                title: row.title.clone(),
                lead_unit: ctx.unit_name(lead),
                due_date: row.due_date,
                days_overdue: days_late,
                link: ctx.link(&format!("/tasks/{}", row.id)),
                leader: row
                    .responsible_leader_id
                    .and_then(|l| ctx.people.get(&l).cloned()),
                latest: None,
                reply_by: Some(owed.reply_by),
                note: None,
                instruction: None,
                cooperating: false,
                order: Some(owed.title.clone()),
            };
            items.push(Item {
                about: about(owed, &row.code, &row.title, lead, days_late),
                wanted,
                facts,
                order: None,
            });
        }
    }
    write::write_owed(conn, ctx, items, counts)
}

fn about(
    owed: &OwedOrder,
    code: &str,
    title: &str,
    lead: crate::domain::UnitId,
    days_late: i64,
) -> About {
    About {
        task_id: Some(owed.task_id),
        indicator: None,
        instruction: None,
        lead_unit: lead,
        due: Some(owed.reply_by),
        task_ids: vec![owed.task_id.0],
        reason: format!(
            "任务 {code} “{title}” 的{} 逾期 {days_late} 天未回执",
            owed.title
        ),
    }
}
