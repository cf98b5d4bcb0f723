//! Notices a life-cycle step sends at once, written in the step's own
//! transaction (the step and its notice commit together or not at all):
//! 交办通知 to the lead unit and each cooperating unit when a task is
//! assigned, 退回通知 to the lead unit when the office returns a submission,
//! with its note; 批示通知 to the lead unit when a leader writes an
//! instruction (`instruction`, called by `instructions::create`); the 督办
//! email with the 督办单 attached when the office issues an order by hand
//! (`order_issued`, handed to `orders::create` as its `OrderNotice`). The same
//! outbox as the ladder's notices: group robots, the send window,
//! Message-IDs, once per step and task version (or instruction).
//! `tasks::actions::act` calls it as the `StepNotices` its caller hands in
//! (startup registers it for the API; the console page passes it).

use diesel::prelude::*;

use super::scan::context::Context;
use super::scan::write::{write_notice, About};
use crate::config::Settings;
use crate::db::schema::{notices, task_cooperators};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::ladder::Step;
use crate::domain::notice_step::NoticeStep;
use crate::domain::task_state::TaskAction;
use crate::domain::traffic;
use crate::domain::{InstructionId, UnitId};
use crate::mail::templates::TaskFacts;
use crate::orders::Issued;
use crate::tasks::model::TaskRow;
use crate::tasks::visibility;
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

/// Sends the 督办单 the office issued by hand on `task` as the ladder's 督办
/// step sends its own: the 督办 email to the lead unit's head, copied to the
/// task's leaders and the office, the order attached when it is delivered
/// (`supervision_order_id`), its robots told; written in the order's
/// transaction, once per order (dedupe key `order:{id}:issued`). Not
/// subject to `step_notices`: the email is how the order is served.
pub fn order_issued(
    conn: &mut DbConnection,
    settings: &Settings,
    task: &TaskRow,
    order: &Issued,
    clock: &Clock,
) -> anyhow::Result<()> {
    let ctx = Context::without_work(conn, settings, clock.today, clock.now)?;
    let lead = task.lead_unit_id;
    let coops: Vec<UnitId> = task_cooperators::table
        .filter(task_cooperators::task_id.eq(task.id))
        .select(task_cooperators::unit_id)
        .order(task_cooperators::unit_id.asc())
        .load(conn)?;
    let co_leaders = visibility::co_leaders_of(conn, &[task.id])?
        .remove(&task.id)
        .unwrap_or_default();
    let leaders: Vec<_> = task
        .responsible_leader_id
        .into_iter()
        .chain(co_leaders.iter().map(|l| l.0))
        .collect();
    let key = format!("order:{}:issued", order.id);
    let wanted = ctx.climb(
        Step::Supervise(ctx.ladder.supervise_day),
        key.clone(),
        lead,
        &coops,
        &leaders,
    );
    let days_overdue = traffic::days_overdue(&crate::tasks::service::timing(task), clock.today);
    let about = About {
        task_id: Some(task.id),
        indicator: None,
        instruction: None,
        lead_unit: lead,
        due: task.due_date,
        task_ids: vec![task.id.0],
        reason: String::new(),
    };
    let names: Vec<String> = leaders
        .iter()
        .filter_map(|l| ctx.people.get(l).cloned())
        .collect();
    let facts = TaskFacts {
        step: wanted.step,
        code: task.code.clone(),
        title: task.title.clone(),
        lead_unit: ctx.unit_name(lead),
        due_date: task.due_date,
        days_overdue,
        link: ctx.link(&format!("/tasks/{}", task.id)),
        leader: (!names.is_empty()).then(|| names.join("、")),
        latest: None,
        reply_by: Some(order.reply_by),
        note: None,
        instruction: None,
        cooperating: false,
        order: Some(order.title()),
    };
    if write_notice(conn, &ctx, &about, &wanted, &facts)? {
        // Delivery attaches the order to the email this column names; set
        // in the same transaction, before anything can send it.
        diesel::update(notices::table.filter(notices::dedupe_key.eq(&key)))
            .set(notices::supervision_order_id.eq(order.id))
            .execute(conn)?;
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
