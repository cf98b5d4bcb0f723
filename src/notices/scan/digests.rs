//! The digests pass: each active digest unit with an address gets one email
//! a day listing its tasks and indicator reports due by the horizon or
//! overdue, most overdue first.

use std::collections::HashMap;

use super::context::{Context, UnitInfo};
use super::write;
use super::ScanCounts;
use crate::db::DbConnection;
use crate::domain::notice_step::NoticeStep;
use crate::domain::traffic;
use crate::domain::{TaskId, UnitId};
use crate::mail::templates::{digest, DigestLine};

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let today = ctx.clock.today;
    let units: Vec<(UnitId, &UnitInfo)> = ctx
        .units
        .iter()
        .filter(|(_, u)| u.active && u.digest && !u.contacts.is_empty())
        .map(|(id, u)| (*id, u))
        .collect();
    if units.is_empty() {
        return Ok(());
    }
    let coops = super::context::coops_due_by(conn, ctx.horizon)?;
    let mut lines = lines_by_unit(ctx, &units, &coops);
    let owed: Vec<(UnitId, &UnitInfo, Vec<DigestLine>)> = units
        .iter()
        .filter_map(|(id, u)| Some((*id, *u, lines.remove(id).filter(|l| !l.is_empty())?)))
        .collect();
    let keys: Vec<String> = owed
        .iter()
        .map(|(id, _, _)| format!("digest:{id}:{today}"))
        .collect();
    let there = write::written(conn, &keys.iter().map(String::as_str).collect::<Vec<_>>())?;
    let mut digests = Vec::new();
    for ((unit_id, unit, lines), key) in owed.into_iter().zip(keys) {
        if there.contains(&key) {
            counts.tally(false);
            continue;
        }
        let link = ctx.link("/tasks?sort=due_date");
        let (subject, text, html) = digest(&unit.name, today, &lines, &link, ctx.lang)?;
        digests.push(write::Digest {
            step: NoticeStep::Digest,
            unit_id: Some(unit_id),
            recipients: unit.contacts.clone(),
            key,
            subject,
            text,
            html,
        });
    }
    write::write_digests(conn, ctx, &digests, counts)
}

/// Each of `units`' lines: open tasks it leads or cooperates on and
/// indicator reports it owes, due by the horizon, most overdue first. One
/// pass over the open tasks for all the units.
/// Adds `line()` once to the list of each digest unit among the lead unit and
/// its cooperators (a unit named twice, as lead and cooperator, gets it once).
fn push_once(
    lines: &mut HashMap<UnitId, Vec<DigestLine>>,
    lead: &UnitId,
    coops: &[UnitId],
    line: impl Fn() -> DigestLine,
) {
    let mut seen: Vec<UnitId> = Vec::new();
    for unit in std::iter::once(lead).chain(coops) {
        if seen.contains(unit) {
            continue;
        }
        seen.push(*unit);
        if let Some(list) = lines.get_mut(unit) {
            list.push(line());
        }
    }
}

fn lines_by_unit(
    ctx: &Context,
    units: &[(UnitId, &UnitInfo)],
    coops: &HashMap<TaskId, Vec<UnitId>>,
) -> HashMap<UnitId, Vec<DigestLine>> {
    let today = ctx.clock.today;
    let mut lines: HashMap<UnitId, Vec<DigestLine>> =
        units.iter().map(|(id, _)| (*id, Vec::new())).collect();
    for t in &ctx.open {
        let Some(due) = t.row.due_date.filter(|d| *d <= ctx.horizon) else {
            continue;
        };
        let coops = coops.get(&t.row.id).map_or(&[][..], Vec::as_slice);
        push_once(&mut lines, &t.row.lead_unit_id, coops, || DigestLine {
            code: t.row.code.clone(),
            title: t.row.title.clone(),
            due_date: due,
            days_overdue: traffic::days_overdue(&t.timing, today),
        });
    }
    for r in &ctx.reports {
        push_once(&mut lines, &r.lead_unit_id, &r.cooperating, || DigestLine {
            code: r.code(),
            title: r.title(),
            due_date: r.due,
            days_overdue: traffic::days_late(r.due, today),
        });
    }
    for list in lines.values_mut() {
        list.sort_by_key(|l| (std::cmp::Reverse(l.days_overdue), l.due_date));
    }
    lines
}
