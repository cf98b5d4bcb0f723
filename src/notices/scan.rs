//! The daily scan: for every open task, the notices the ladder says it is owed
//! today, each written once (its dedupe key is unique) together with the
//! timeline event that records it.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::db::schema::{notices, tasks, units, users};
use crate::db::{self, DbConnection};
use crate::domain::ladder::Step;
use crate::domain::message::Lang;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::{self, TaskTiming};
use crate::mail::templates::{digest, task_notice, DigestLine, TaskFacts};
use crate::tasks::events::{self, NewEvent};
use crate::tasks::model::TaskRow;
use crate::tasks::visibility;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ScanCounts {
    pub tasks: usize,
    pub created: usize,
    /// Notices already written by an earlier run (or another instance).
    pub existing: usize,
}

struct UnitInfo {
    name: String,
    kind: String,
    active: bool,
    contacts: Vec<String>,
    head_email: Option<String>,
    robot: bool,
    /// Takes one daily digest instead of one email per task.
    digest: bool,
}

/// One notice the scan wants to exist.
struct Wanted {
    step: String,
    dedupe_key: String,
    event_kind: &'static str,
    recipients: Vec<String>,
    /// Units whose group robot also gets the notice.
    robots: Vec<i64>,
    /// Also propose accountability for the lead unit (the last rung).
    propose: bool,
    /// A unit concerned takes the daily digest instead of this email.
    digested: bool,
}

fn push_unique(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !item.trim().is_empty() && !list.contains(&item) {
            list.push(item);
        }
    }
}

pub fn scan(
    conn: &mut DbConnection,
    settings: &Settings,
    today: NaiveDate,
    now: NaiveDateTime,
) -> anyhow::Result<ScanCounts> {
    let ladder = settings.ladder()?;
    let tz = settings.tz()?;
    let lang = if settings.notice_language.starts_with("en") {
        Lang::En
    } else {
        Lang::Zh
    };
    let domain = super::mail_domain(&settings.mail_from);
    let calendar = crate::holidays::calendar(conn)?;
    let send_at = super::next_open(settings, &calendar, now)?;
    let base = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    let open: Vec<TaskRow> = tasks::table
        .filter(tasks::status.eq_any([
            TaskStatus::Assigned.as_str(),
            TaskStatus::InProgress.as_str(),
        ]))
        .select(TaskRow::as_select())
        .order(tasks::id.asc())
        .load(conn)?;
    type UnitTuple = (
        i64,
        String,
        String,
        bool,
        String,
        Option<String>,
        Option<String>,
        String,
    );
    let unit_rows: Vec<UnitTuple> = units::table
        .select((
            units::id,
            units::name,
            units::kind,
            units::active,
            units::contact_emails,
            units::head_email,
            units::webhook_kind,
            units::notice_mode,
        ))
        .load(conn)?;
    let units: HashMap<i64, UnitInfo> = unit_rows
        .into_iter()
        .map(|(id, name, kind, active, contacts, head, robot, mode)| {
            let contacts = serde_json::from_str(&contacts).unwrap_or_default();
            let info = UnitInfo {
                name,
                kind,
                active,
                contacts,
                head_email: head,
                robot: robot.is_some(),
                digest: mode == "digest",
            };
            (id, info)
        })
        .collect();
    let office_units: Vec<i64> = units
        .iter()
        .filter(|(_, u)| u.kind == "office")
        .map(|(id, _)| *id)
        .collect();
    let with_robot = |ids: Vec<i64>| -> Vec<i64> {
        ids.into_iter()
            .filter(|id| units.get(id).is_some_and(|u| u.active && u.robot))
            .collect()
    };
    let office: Vec<String> = units
        .values()
        .filter(|u| u.active && u.kind == "office")
        .flat_map(|u| u.contacts.clone())
        .collect();
    let leaders: HashMap<i64, Option<String>> = users::table
        .filter(users::active.eq(true))
        .select((users::id, users::email))
        .load::<(i64, Option<String>)>(conn)?
        .into_iter()
        .collect();
    let ids: Vec<i64> = open.iter().map(|t| t.id).collect();
    let coops = visibility::cooperators_of(conn, &ids)?;
    // Latest report per (task, unit); the lead unit's is the one that counts.
    let last_reports = crate::tasks::service::last_reports(conn, &ids)?;
    let local = |at: NaiveDateTime| crate::domain::calendar::local_date(at.and_utc(), tz);
    // Digest units' addresses get the daily digest instead of per-task emails.
    let contacts = |unit: i64| -> Vec<String> {
        units
            .get(&unit)
            .filter(|u| u.active && !u.digest)
            .map(|u| u.contacts.clone())
            .unwrap_or_default()
    };
    let digests = |ids: &[i64]| {
        ids.iter()
            .any(|id| units.get(id).is_some_and(|u| u.active && u.digest))
    };

    let mut counts = ScanCounts {
        tasks: open.len(),
        ..Default::default()
    };
    for task in &open {
        let status = task.status()?;
        let task_coops = coops.get(&task.id).cloned().unwrap_or_default();
        let mut wanted = Vec::new();
        for step in ladder.owed(status, task.due_date, today) {
            let due = task.due_date.map(|d| d.to_string()).unwrap_or_default();
            let mut recipients = Vec::new();
            let robot_units = match step {
                Step::Reminder(_) => vec![task.lead_unit_id],
                Step::Chase(_) => std::iter::once(task.lead_unit_id)
                    .chain(task_coops.iter().copied())
                    .collect(),
                Step::Supervise(_) | Step::Accountability(_) => office_units.clone(),
            };
            let event_kind = match step {
                Step::Reminder(_) => {
                    push_unique(&mut recipients, contacts(task.lead_unit_id));
                    "reminder"
                }
                Step::Chase(_) => {
                    push_unique(&mut recipients, contacts(task.lead_unit_id));
                    for c in &task_coops {
                        push_unique(&mut recipients, contacts(*c));
                    }
                    "chase_notice"
                }
                Step::Supervise(_) => {
                    if let Some(u) = units.get(&task.lead_unit_id).filter(|u| u.active) {
                        push_unique(&mut recipients, u.head_email.clone());
                    }
                    if let Some(l) = task.responsible_leader_id {
                        push_unique(&mut recipients, leaders.get(&l).cloned().flatten());
                    }
                    push_unique(&mut recipients, office.clone());
                    "supervision_order"
                }
                Step::Accountability(_) => {
                    push_unique(&mut recipients, office.clone());
                    "accountability_proposed"
                }
            };
            wanted.push(Wanted {
                step: step.key(),
                dedupe_key: format!("task:{}:{}:{due}", task.id, step.key()),
                event_kind,
                recipients,
                digested: matches!(step, Step::Reminder(_) | Step::Chase(_))
                    && digests(&robot_units),
                robots: with_robot(robot_units),
                propose: matches!(step, Step::Accountability(_)),
            });
        }
        if status == TaskStatus::Assigned {
            if let Some(assigned) = task.assigned_at.map(local) {
                if (today - assigned).num_days() > settings.accept_within_days {
                    wanted.push(Wanted {
                        step: "accept_overdue".into(),
                        dedupe_key: format!("task:{}:accept_overdue:{assigned}", task.id),
                        event_kind: "accept_reminder",
                        recipients: contacts(task.lead_unit_id),
                        robots: with_robot(vec![task.lead_unit_id]),
                        propose: false,
                        digested: digests(&[task.lead_unit_id]),
                    });
                }
            }
        }
        let started = task.accepted_at.or(task.assigned_at).map(local);
        if traffic::report_missing(
            task.report_day,
            status,
            started,
            last_reports
                .get(&(task.id, task.lead_unit_id))
                .copied()
                .map(local),
            today,
        ) {
            if let Some((due, _)) = task
                .report_day
                .and_then(|d| traffic::report_dates(d, today))
            {
                wanted.push(Wanted {
                    step: "report_missing".into(),
                    dedupe_key: format!("task:{}:report_missing:{due}", task.id),
                    event_kind: "report_reminder",
                    recipients: contacts(task.lead_unit_id),
                    robots: with_robot(vec![task.lead_unit_id]),
                    propose: false,
                    digested: digests(&[task.lead_unit_id]),
                });
            }
        }
        let timing = TaskTiming {
            status,
            due: task.due_date,
            submitted_on: task.submitted_on,
            returned: task.returned,
        };
        for w in wanted {
            let facts = TaskFacts {
                step: w.step.clone(),
                code: task.code.clone(),
                title: task.title.clone(),
                lead_unit: units
                    .get(&task.lead_unit_id)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                due_date: task.due_date,
                days_overdue: traffic::days_overdue(&timing, today),
                link: format!("{}/api/v1/tasks/{}", base.trim_end_matches('/'), task.id),
            };
            if write_notice(conn, task, &w, &facts, lang, &domain, (now, send_at))? {
                counts.created += 1;
            } else {
                counts.existing += 1;
            }
        }
    }
    for (unit_id, unit) in units
        .iter()
        .filter(|(_, u)| u.active && u.digest && !u.contacts.is_empty())
    {
        let horizon = today
            + chrono::Duration::days(i64::from(
                ladder.reminder_days.iter().copied().max().unwrap_or(0),
            ));
        let mut lines: Vec<DigestLine> = open
            .iter()
            .filter(|t| {
                t.lead_unit_id == *unit_id || coops.get(&t.id).is_some_and(|c| c.contains(unit_id))
            })
            .filter_map(|t| {
                let due = t.due_date.filter(|d| *d <= horizon)?;
                let timing = TaskTiming {
                    status: t.status().ok()?,
                    due: Some(due),
                    submitted_on: t.submitted_on,
                    returned: t.returned,
                };
                Some(DigestLine {
                    code: t.code.clone(),
                    title: t.title.clone(),
                    due_date: due,
                    days_overdue: traffic::days_overdue(&timing, today),
                })
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        lines.sort_by_key(|l| (std::cmp::Reverse(l.days_overdue), l.due_date));
        let link = format!(
            "{}/api/v1/tasks?unit_id={unit_id}",
            base.trim_end_matches('/')
        );
        let (subject, text, html) = digest(&unit.name, today, &lines, &link, lang);
        let key = format!("digest:{unit_id}:{today}");
        let written = conn.write(|conn| -> Result<(), diesel::result::Error> {
            let id: i64 = diesel::insert_into(notices::table)
                .values((
                    notices::unit_id.eq(unit_id),
                    notices::step.eq("digest"),
                    notices::dedupe_key.eq(&key),
                    notices::recipients
                        .eq(serde_json::to_string(&unit.contacts).unwrap_or_else(|_| "[]".into())),
                    notices::subject.eq(&subject),
                    notices::body_text.eq(&text),
                    notices::body_html.eq(&html),
                    notices::status.eq("pending"),
                    notices::next_attempt_at.eq(send_at),
                    notices::created_at.eq(now),
                ))
                .returning(notices::id)
                .get_result(conn)?;
            diesel::update(notices::table.find(id))
                .set(notices::message_id.eq(super::message_id(id, &domain)))
                .execute(conn)?;
            Ok(())
        });
        match written {
            Ok(()) => counts.created += 1,
            Err(e) if db::is_unique_violation(&e) => counts.existing += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(counts)
}

/// Writes one notice and its event; false when it already existed.
fn write_notice(
    conn: &mut DbConnection,
    task: &TaskRow,
    w: &Wanted,
    facts: &TaskFacts,
    lang: Lang,
    domain: &str,
    (now, send_at): (NaiveDateTime, NaiveDateTime),
) -> anyhow::Result<bool> {
    let (subject, text, html) = task_notice(facts, lang);
    let (status, error) = if w.recipients.is_empty() && w.digested {
        (
            "cancelled",
            Some("included in the unit's daily digest".to_string()),
        )
    } else if w.recipients.is_empty() {
        (
            "dead",
            Some(
                "no recipients: the units and people concerned have no active address".to_string(),
            ),
        )
    } else {
        ("pending", None)
    };
    let result = conn.write(|conn| -> Result<(), diesel::result::Error> {
        let id: i64 = diesel::insert_into(notices::table)
            .values((
                notices::task_id.eq(task.id),
                notices::unit_id.eq(task.lead_unit_id),
                notices::step.eq(&w.step),
                notices::due_date.eq(task.due_date),
                notices::dedupe_key.eq(&w.dedupe_key),
                notices::recipients.eq(serde_json::to_string(&w.recipients).unwrap_or_else(|_| "[]".into())),
                notices::subject.eq(&subject),
                notices::body_text.eq(&text),
                notices::body_html.eq(&html),
                notices::status.eq(status),
                notices::last_error.eq(&error),
                notices::next_attempt_at.eq(send_at),
                notices::created_at.eq(now),
            ))
            .returning(notices::id)
            .get_result(conn)?;
        diesel::update(notices::table.find(id))
            .set(notices::message_id.eq(super::message_id(id, domain)))
            .execute(conn)?;
        if w.propose {
            let reason = format!("任务 {} “{}” 逾期 {} 天未完成", task.code, task.title, facts.days_overdue);
            crate::accountability::propose(conn, task.lead_unit_id, task.id, &reason, &w.dedupe_key, now)?;
        }
        // The same notice for each unit robot, written with it: all or none.
        for unit in &w.robots {
            let robot_id: i64 = diesel::insert_into(notices::table)
                .values((
                    notices::task_id.eq(task.id),
                    notices::unit_id.eq(unit),
                    notices::step.eq(&w.step),
                    notices::due_date.eq(task.due_date),
                    notices::dedupe_key.eq(format!("{}:robot:{unit}", w.dedupe_key)),
                    notices::recipients.eq("[]"),
                    notices::subject.eq(&subject),
                    notices::body_text.eq(&text),
                    notices::body_html.eq(&html),
                    notices::status.eq("pending"),
                    notices::next_attempt_at.eq(send_at),
                    notices::created_at.eq(now),
                    notices::channel.eq("webhook"),
                ))
                .returning(notices::id)
                .get_result(conn)?;
            diesel::update(notices::table.find(robot_id))
                .set(notices::message_id.eq(super::message_id(robot_id, domain)))
                .execute(conn)?;
        }
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: w.event_kind,
                actor: None,
                unit_id: Some(task.lead_unit_id),
                note: Some(subject.clone()),
                data: Some(serde_json::json!({ "notice_id": id, "step": w.step, "recipients": w.recipients })),
            },
            now,
        )?;
        Ok(())
    });
    match result {
        Ok(()) => Ok(true),
        Err(e) if db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
