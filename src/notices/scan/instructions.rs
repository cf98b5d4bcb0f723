//! The instructions pass: an instruction (批示) not answered by its reply-by
//! date climbs the ladder as a task in progress due on that date would, the
//! way an indicator report not in does: a chase notice to the lead unit, a
//! supervision order to its head, the instruction's author and the office,
//! then an accountability proposal. Each step once per instruction and date
//! (the dedupe key); a reply takes the instruction out of the pass.

use super::context::{Context, OwedInstruction};
use super::write::{self, About, Item};
use super::ScanCounts;
use crate::db::DbConnection;
use crate::domain::ladder::Step;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic;
use crate::mail::templates::TaskFacts;

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let today = ctx.clock.today;
    let mut items = Vec::new();
    for owed in &ctx.instructions {
        let Some(task) = ctx.open_task(owed.task_id) else {
            continue;
        };
        let row = &task.row;
        let lead = row.lead_unit_id;
        let days_late = traffic::days_late(owed.reply_by, today);
        let steps = ctx
            .ladder
            .owed(TaskStatus::InProgress, Some(owed.reply_by), today)
            .into_iter()
            // Past the date only: the instruction's own notice named it.
            .filter(|s| !matches!(s, Step::Reminder(_)));
        for step in steps {
            let key = format!("instruction:{}:{}:{}", owed.id, step.key(), owed.reply_by);
            let wanted = match step {
                // The lead unit alone, even when it takes the daily digest,
                // which lists tasks, not instructions.
                Step::Chase(_) => ctx.direct(step.into(), "chase_notice", key, lead),
                _ => ctx.climb(step, key, lead, &[], std::slice::from_ref(&owed.author_id)),
            };
            let author = ctx.people.get(&owed.author_id).cloned().unwrap_or_default();
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
                instruction: Some((author, owed.body.clone())),
                cooperating: false,
                order: None,
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
    owed: &OwedInstruction,
    code: &str,
    title: &str,
    lead: crate::domain::UnitId,
    days_late: i64,
) -> About {
    About {
        task_id: Some(owed.task_id),
        indicator: None,
        instruction: Some(owed.id),
        lead_unit: lead,
        due: Some(owed.reply_by),
        task_ids: vec![owed.task_id.0],
        reason: format!("任务 {code} “{title}” 的领导批示逾期 {days_late} 天未反馈落实情况"),
    }
}
