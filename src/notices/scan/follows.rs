//! The followers' pass: each person who follows tasks or units (关注) gets
//! one email a day listing what changed during the last day in the tasks
//! followed and the tasks the followed units lead, as far as that person
//! may see them; none when nothing changed. "Changed" means what someone did
//! (an event with an actor: assigned, reported, submitted, an extension…),
//! not the notices the scan itself sends. One digest per (person, day): its
//! dedupe key is unique in the outbox.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use diesel::prelude::*;

use super::context::Context;
use super::write;
use super::ScanCounts;
use crate::auth::{permissions, AuthUser, Permission};
use crate::config::Settings;
use crate::db::schema::{task_events, tasks, users};
use crate::db::DbConnection;
use crate::domain::notice_step::NoticeStep;
use crate::domain::{Role, TaskId, UnitId, UserId};
use crate::mail::templates::{follow_digest, FollowChange, FollowedChanges};
use crate::tasks::model::TaskRow;
use crate::tasks::visibility;

/// An event of the last day: (task, kind, actor, note, when).
type EventRow = (
    TaskId,
    String,
    Option<UserId>,
    Option<String>,
    NaiveDateTime,
);

/// A follower: (id, role, unit, email, name).
type Follower = (UserId, Role, Option<UnitId>, Option<String>, String);

#[derive(Default)]
struct Follows {
    tasks: HashSet<TaskId>,
    units: HashSet<UnitId>,
}

pub(super) fn run(
    conn: &mut DbConnection,
    ctx: &Context,
    settings: &Settings,
    counts: &mut ScanCounts,
) -> anyhow::Result<()> {
    let mut by_user: BTreeMap<UserId, Follows> = BTreeMap::new();
    for (user, task, unit) in crate::follows::all(conn)? {
        let f = by_user.entry(user).or_default();
        f.tasks.extend(task);
        f.units.extend(unit);
    }
    if by_user.is_empty() {
        return Ok(());
    }
    let now = ctx.clock.now;
    let since = now - Duration::days(1);
    let events: Vec<EventRow> = task_events::table
        .filter(task_events::created_at.gt(since))
        .filter(task_events::created_at.le(now))
        .filter(task_events::actor_id.is_not_null())
        .select((
            task_events::task_id,
            task_events::kind,
            task_events::actor_id,
            task_events::note,
            task_events::created_at,
        ))
        .order(task_events::id.asc())
        .load(conn)?;
    if events.is_empty() {
        return Ok(());
    }
    let changed: Vec<TaskId> = {
        let mut ids: Vec<TaskId> = events.iter().map(|e| e.0).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let rows: HashMap<TaskId, TaskRow> = tasks::table
        .filter(tasks::id.eq_any(&changed))
        .select(TaskRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let parties = visibility::PartiesOf::load(conn, &changed)?;
    let followers: Vec<Follower> = users::table
        .filter(users::id.eq_any(by_user.keys().copied().collect::<Vec<_>>()))
        .filter(users::active.eq(true))
        .select((
            users::id,
            users::role,
            users::unit_id,
            users::email,
            users::display_name,
        ))
        .order(users::id.asc())
        .load(conn)?;
    let today = ctx.clock.today;
    let mut owed = Vec::new();
    for (id, role, unit_id, email, name) in followers {
        let Some(email) = email.filter(|e| !e.trim().is_empty()) else {
            continue;
        };
        // An account whose role changed since it followed gets nothing.
        if !permissions::allows(role, Permission::Follow) {
            continue;
        }
        let Some(follows) = by_user.get(&id) else {
            continue;
        };
        let scope = visibility::scope(&AuthUser { id, role, unit_id }, settings);
        let tasks: Vec<&TaskRow> = changed
            .iter()
            .filter_map(|task_id| rows.get(task_id))
            .filter(|row| {
                follows.tasks.contains(&row.id) || follows.units.contains(&row.lead_unit_id)
            })
            .filter(|row| parties.sees(scope, row))
            .collect();
        if !tasks.is_empty() {
            owed.push((format!("follow_digest:{id}:{today}"), email, name, tasks));
        }
    }
    // Rendered only for those not written yet: a rescan renders nothing.
    let keys: Vec<&str> = owed.iter().map(|o| o.0.as_str()).collect();
    let there = write::written(conn, &keys)?;
    let mut digests = Vec::new();
    for (key, email, name, tasks) in owed {
        if there.contains(&key) {
            counts.tally(false);
            continue;
        }
        let tasks: Vec<FollowedChanges> = tasks
            .into_iter()
            .map(|row| changes_of(ctx, row, &events))
            .collect();
        let link = ctx.link("/");
        let (subject, text, html) = follow_digest(&name, today, &tasks, &link, ctx.lang)?;
        digests.push(write::Digest {
            step: NoticeStep::FollowDigest,
            unit_id: None,
            recipients: vec![email],
            key,
            subject,
            text,
            html,
        });
    }
    write::write_digests(conn, ctx, &digests, counts)
}

/// The task's events of the last day, in the timeline's words.
fn changes_of(ctx: &Context, row: &TaskRow, events: &[EventRow]) -> FollowedChanges {
    let tz = ctx.clock.tz;
    let changes = events
        .iter()
        .filter(|e| e.0 == row.id)
        .map(|(_, kind, actor, note, at)| FollowChange {
            when: Utc
                .from_utc_datetime(at)
                .with_timezone(&tz)
                .format("%m-%d %H:%M")
                .to_string(),
            what: crate::i18n::text(ctx.lang, &format!("event.{kind}")).to_string(),
            who: actor.and_then(|a| ctx.people.get(&a).cloned()),
            note: note.clone(),
        })
        .collect();
    FollowedChanges {
        code: row.code.clone(),
        title: row.title.clone(),
        lead_unit: ctx.unit_name(row.lead_unit_id),
        link: ctx.link(&format!("/tasks/{}", row.id)),
        changes,
    }
}
