//! The digests pass: each active digest unit with an address gets one email
//! a day listing its tasks and indicator reports due by the horizon or
//! overdue, most overdue first.

use super::context::Context;
use super::write::write_digest;
use super::ScanCounts;
use crate::db::DbConnection;
use crate::domain::notice_step::NoticeStep;
use crate::domain::traffic;
use crate::domain::UnitId;
use crate::mail::templates::{digest, DigestLine};

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let today = ctx.clock.today;
    for (unit_id, unit) in ctx
        .units
        .iter()
        .filter(|(_, u)| u.active && u.digest && !u.contacts.is_empty())
    {
        let lines = lines(ctx, *unit_id);
        if lines.is_empty() {
            continue;
        }
        let link = ctx.link("/tasks?sort=due_date");
        let (subject, text, html) = digest(&unit.name, today, &lines, &link, ctx.lang)?;
        let key = format!("digest:{unit_id}:{today}");
        counts.tally(write_digest(
            conn,
            ctx,
            (NoticeStep::Digest, Some(*unit_id)),
            &unit.contacts,
            &key,
            (&subject, &text, &html),
        )?);
    }
    Ok(())
}

/// The unit's lines: open tasks it leads or cooperates on and indicator
/// reports it owes, due by the horizon.
fn lines(ctx: &Context, unit_id: UnitId) -> Vec<DigestLine> {
    let today = ctx.clock.today;
    let tasks = ctx
        .open
        .iter()
        .filter(|t| t.row.lead_unit_id == unit_id || t.coops.contains(&unit_id))
        .filter_map(|t| {
            let due = t.row.due_date.filter(|d| *d <= ctx.horizon)?;
            Some(DigestLine {
                code: t.row.code.clone(),
                title: t.row.title.clone(),
                due_date: due,
                days_overdue: traffic::days_overdue(&t.timing, today),
            })
        });
    let reports = ctx
        .reports
        .iter()
        .filter(|r| r.lead_unit_id == unit_id || r.cooperating.contains(&unit_id))
        .map(|r| DigestLine {
            code: r.code(),
            title: r.title(),
            due_date: r.due,
            days_overdue: traffic::days_late(r.due, today),
        });
    let mut lines: Vec<DigestLine> = tasks.chain(reports).collect();
    lines.sort_by_key(|l| (std::cmp::Reverse(l.days_overdue), l.due_date));
    lines
}
