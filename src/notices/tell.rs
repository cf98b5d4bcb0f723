//! Notices a life-cycle step sends at once, written in the step's own
//! transaction (the step and its notice commit together or not at all):
//! 交办通知 to the lead unit and each cooperating unit when a task is
//! assigned, 退回通知 to the lead unit when the office returns a submission,
//! with its note; 批示通知 to the lead unit when a leader writes an
//! instruction (`instruction`, called by `instructions::create`). The same
//! outbox as the ladder's notices: group robots, the send window,
//! Message-IDs, once per step and task version (or instruction).
//! `tasks::actions::act` calls it as the `StepNotices` its caller hands in
//! (startup registers it for the API; the console page passes it).

use diesel::prelude::*;

use super::scan::context::Context;
use super::scan::write::{write_notice, About};
use crate::config::Settings;
use crate::db::schema::task_cooperators;
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::notice_step::NoticeStep;
use crate::domain::task_state::TaskAction;
use crate::domain::{InstructionId, UnitId};
use crate::mail::templates::TaskFacts;
use crate::tasks::model::TaskRow;
use chrono::NaiveDate;

/// Writes the notices `action` owes the units, for `task` as it is after it.
pub fn after_step(
    conn: &mut DbConnection,
    settings: &Settings,
    task: &TaskRow,
    action: TaskAction,
    note: Option<&str>,
    clock: &Clock,
) -> anyhow::Result<()> {
    if !settings.step_notices {
        return Ok(());
    }
    let (step, event_kind) = match action {
        TaskAction::Assign => (NoticeStep::Assigned, "assign_notice"),
        TaskAction::Return => (NoticeStep::Returned, "return_notice"),
        _ => return Ok(()),
    };
    let ctx = Context::without_work(conn, settings, clock.today, clock.now)?;
    let mut units = vec![task.lead_unit_id];
    if action == TaskAction::Assign {
        let coops: Vec<UnitId> = task_cooperators::table
            .filter(task_cooperators::task_id.eq(task.id))
            .select(task_cooperators::unit_id)
            .order(task_cooperators::unit_id.asc())
            .load(conn)?;
        units.extend(coops);
    }
    for unit in units {
        let key = format!("task:{}:{step}:v{}:unit:{unit}", task.id, task.version);
        let wanted = ctx.direct(step, event_kind, key, unit);
        let about = About {
            task_id: Some(task.id),
            indicator: None,
            instruction: None,
            lead_unit: unit,
            due: task.due_date,
            task_ids: Vec::new(),
            reason: String::new(),
        };
        let facts = TaskFacts {
            step,
            code: task.code.clone(),
            title: task.title.clone(),
            lead_unit: ctx.unit_name(task.lead_unit_id),
            due_date: task.due_date,
            days_overdue: 0,
            link: ctx.link(&format!("/tasks/{}", task.id)),
            leader: task
                .responsible_leader_id
                .and_then(|l| ctx.people.get(&l).cloned()),
            latest: None,
            reply_by: None,
            note: note.map(str::to_string),
            instruction: None,
            cooperating: unit != task.lead_unit_id,
            order: None,
        };
        write_notice(conn, &ctx, &about, &wanted, &facts)?;
    }
    Ok(())
}

/// A new instruction (批示), as its notice names it.
pub struct Instruction<'a> {
    pub id: InstructionId,
    /// The author's name.
    pub author: &'a str,
    pub body: &'a str,
    pub reply_by: Option<NaiveDate>,
}

/// Tells `task`'s lead unit of a new instruction at once, in the
/// instruction's transaction: by email and to its group robot, even when the
/// unit takes the daily digest (which lists only what is due), like a
/// 交办通知. Once per instruction.
pub fn instruction(
    conn: &mut DbConnection,
    settings: &Settings,
    task: &TaskRow,
    instruction: &Instruction,
    clock: &Clock,
) -> anyhow::Result<()> {
    if !settings.step_notices {
        return Ok(());
    }
    let ctx = Context::without_work(conn, settings, clock.today, clock.now)?;
    let step = NoticeStep::Instruction;
    let unit = task.lead_unit_id;
    let key = format!("instruction:{}:unit:{unit}", instruction.id);
    let wanted = ctx.direct(step, "instruction_notice", key, unit);
    let about = About {
        task_id: Some(task.id),
        indicator: None,
        instruction: Some(instruction.id),
        lead_unit: unit,
        due: task.due_date,
        task_ids: Vec::new(),
        reason: String::new(),
    };
    let facts = TaskFacts {
        step,
        code: task.code.clone(),
        title: task.title.clone(),
        lead_unit: ctx.unit_name(unit),
        due_date: task.due_date,
        days_overdue: 0,
        link: ctx.link(&format!("/tasks/{}", task.id)),
        leader: task
            .responsible_leader_id
            .and_then(|l| ctx.people.get(&l).cloned()),
        latest: None,
        reply_by: instruction.reply_by,
        note: None,
        instruction: Some((instruction.author.to_string(), instruction.body.to_string())),
        cooperating: false,
        order: None,
    };
    write_notice(conn, &ctx, &about, &wanted, &facts)?;
    Ok(())
}
