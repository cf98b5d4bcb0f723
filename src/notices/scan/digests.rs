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
use crate::domain::UnitId;
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
    let mut lines = lines_by_unit(ctx, &units);
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
fn lines_by_unit(ctx: &Context, units: &[(UnitId, &UnitInfo)]) -> HashMap<UnitId, Vec<DigestLine>> {
    let today = ctx.clock.today;
    let mut lines: HashMap<UnitId, Vec<DigestLine>> =
        units.iter().map(|(id, _)| (*id, Vec::new())).collect();
    for t in &ctx.open {
        let Some(due) = t.row.due_date.filter(|d| *d <= ctx.horizon) else {
            continue;
        };
        let concerned = std::iter::once(&t.row.lead_unit_id).chain(&t.coops);
        let mut seen = Vec::new();
        for unit in concerned {
            if seen.contains(unit) {
                continue;
            }
            seen.push(*unit);
            if let Some(list) = lines.get_mut(unit) {
                list.push(DigestLine {
                    code: t.row.code.clone(),
                    title: t.row.title.clone(),
                    due_date: due,
                    days_overdue: traffic::days_overdue(&t.timing, today),
                });
            }
        }
    }
    for r in &ctx.reports {
        let concerned = std::iter::once(&r.lead_unit_id).chain(&r.cooperating);
        let mut seen = Vec::new();
        for unit in concerned {
            if seen.contains(unit) {
                continue;
            }
            seen.push(*unit);
            if let Some(list) = lines.get_mut(unit) {
                list.push(DigestLine {
                    code: r.code(),
                    title: r.title(),
                    due_date: r.due,
                    days_overdue: traffic::days_late(r.due, today),
                });
            }
        }
    }
    for list in lines.values_mut() {
        list.sort_by_key(|l| (std::cmp::Reverse(l.days_overdue), l.due_date));
    }
    lines
}
