//! The daily scan: for every open task and every indicator report not yet
//! in, the notices the ladder says it is owed today, each written once (its
//! dedupe key is unique) together with the timeline event that records it
//! (for tasks).

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
    let ladder = settings.ladder();
    let tz = settings.timezone;
    let lang = settings.notice_language;
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
            let (recipients, robot_units, event_kind) = route(
                step,
                task.lead_unit_id,
                &task_coops,
                task.responsible_leader_id,
                &units,
                &office_units,
                &office,
                &leaders,
            );
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
            let about = About {
                task_id: Some(task.id),
                indicator: None,
                lead_unit: task.lead_unit_id,
                due: task.due_date,
                task_ids: vec![task.id],
                reason: format!(
                    "任务 {} “{}” 逾期 {} 天未完成",
                    task.code, task.title, facts.days_overdue
                ),
            };
            if write_notice(conn, &about, &w, &facts, lang, &domain, (now, send_at))? {
                counts.created += 1;
            } else {
                counts.existing += 1;
            }
        }
    }
    // Indicator reports not yet in, up to the longest reminder period ahead:
    // they go into digests and climb the ladder below.
    let horizon = today
        + chrono::Duration::days(i64::from(
            ladder.reminder_days.iter().copied().max().unwrap_or(0),
        ));
    let reports: Vec<_> = crate::indicators::values::owed_reports(conn, horizon)?
        .into_iter()
        .filter(|r| r.reported_on.is_none())
        .collect();
    for (unit_id, unit) in units
        .iter()
        .filter(|(_, u)| u.active && u.digest && !u.contacts.is_empty())
    {
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
        lines.extend(
            reports
                .iter()
                .filter(|r| r.lead_unit_id == *unit_id || r.cooperating.contains(unit_id))
                .map(|r| DigestLine {
                    code: r.code(),
                    title: r.title(),
                    due_date: r.due,
                    days_overdue: (today - r.due).num_days().max(0),
                }),
        );
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
        let written = conn.write(|conn| -> Result<bool, diesel::result::Error> {
            if exists(conn, &key)? {
                return Ok(false);
            }
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
            Ok(true)
        });
        match written {
            Ok(true) => counts.created += 1,
            Ok(false) => counts.existing += 1,
            Err(e) if db::is_unique_violation(&e) => counts.existing += 1,
            Err(e) => return Err(e.into()),
        }
    }
    // Indicator reports owed and not in climb the same ladder.
    let horizon = today
        + chrono::Duration::days(i64::from(
            ladder.reminder_days.iter().copied().max().unwrap_or(0),
        ));
    for report in crate::indicators::values::owed_reports(conn, horizon)? {
        if report.reported_on.is_some() {
            continue;
        }
        for step in ladder.owed(TaskStatus::InProgress, Some(report.due), today) {
            let (recipients, robot_units, event_kind) = route(
                step,
                report.lead_unit_id,
                &report.cooperating,
                None,
                &units,
                &office_units,
                &office,
                &leaders,
            );
            let period = report.period.label();
            let w = Wanted {
                step: step.key(),
                dedupe_key: format!(
                    "indicator:{}:{period}:{}:{}",
                    report.indicator_id,
                    step.key(),
                    report.due
                ),
                event_kind,
                recipients,
                digested: matches!(step, Step::Reminder(_) | Step::Chase(_))
                    && digests(&robot_units),
                robots: with_robot(robot_units),
                propose: matches!(step, Step::Accountability(_)),
            };
            let days_overdue = (today - report.due).num_days().max(0);
            let facts = TaskFacts {
                step: w.step.clone(),
                code: report.code(),
                title: report.title(),
                lead_unit: units
                    .get(&report.lead_unit_id)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                due_date: Some(report.due),
                days_overdue,
                link: format!(
                    "{}/api/v1/indicators/{}",
                    base.trim_end_matches('/'),
                    report.indicator_id
                ),
            };
            let about = About {
                task_id: None,
                indicator: Some((report.indicator_id, period)),
                lead_unit: report.lead_unit_id,
                due: Some(report.due),
                task_ids: Vec::new(),
                reason: format!(
                    "{} {} 逾期 {days_overdue} 天未报送",
                    report.code(),
                    report.title()
                ),
            };
            if write_notice(conn, &about, &w, &facts, lang, &domain, (now, send_at))? {
                counts.created += 1;
            } else {
                counts.existing += 1;
            }
        }
    }
    Ok(counts)
}

/// Who a ladder step goes to for a piece of work led by `lead`: the
/// recipients, the units whose robots get a copy, and the timeline event.
#[allow(clippy::too_many_arguments)]
fn route(
    step: Step,
    lead: i64,
    coops: &[i64],
    leader: Option<i64>,
    units: &HashMap<i64, UnitInfo>,
    office_units: &[i64],
    office: &[String],
    leaders: &HashMap<i64, Option<String>>,
) -> (Vec<String>, Vec<i64>, &'static str) {
    // Digest units' addresses get the daily digest instead of per-task emails.
    let contacts = |unit: i64| -> Vec<String> {
        units
            .get(&unit)
            .filter(|u| u.active && !u.digest)
            .map(|u| u.contacts.clone())
            .unwrap_or_default()
    };
    let mut recipients = Vec::new();
    match step {
        Step::Reminder(_) => {
            push_unique(&mut recipients, contacts(lead));
            (recipients, vec![lead], "reminder")
        }
        Step::Chase(_) => {
            push_unique(&mut recipients, contacts(lead));
            for c in coops {
                push_unique(&mut recipients, contacts(*c));
            }
            let robots = std::iter::once(lead).chain(coops.iter().copied()).collect();
            (recipients, robots, "chase_notice")
        }
        Step::Supervise(_) => {
            if let Some(u) = units.get(&lead).filter(|u| u.active) {
                push_unique(&mut recipients, u.head_email.clone());
            }
            if let Some(l) = leader {
                push_unique(&mut recipients, leaders.get(&l).cloned().flatten());
            }
            push_unique(&mut recipients, office.to_vec());
            (recipients, office_units.to_vec(), "supervision_order")
        }
        Step::Accountability(_) => {
            push_unique(&mut recipients, office.to_vec());
            (recipients, office_units.to_vec(), "accountability_proposed")
        }
    }
}

/// What a notice is about: a task, or an indicator's report for a period.
struct About {
    task_id: Option<i64>,
    /// (indicator id, period label)
    indicator: Option<(i64, String)>,
    lead_unit: i64,
    due: Option<NaiveDate>,
    /// For an accountability proposal: the tasks concerned and why.
    task_ids: Vec<i64>,
    reason: String,
}

/// Writes one notice and its event; false when it already existed.
fn write_notice(
    conn: &mut DbConnection,
    about: &About,
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
    let result = conn.write(|conn| -> Result<bool, diesel::result::Error> {
        if exists(conn, &w.dedupe_key)? {
            return Ok(false);
        }
        let id: i64 = diesel::insert_into(notices::table)
            .values((
                notices::task_id.eq(about.task_id),
                notices::indicator_id.eq(about.indicator.as_ref().map(|i| i.0)),
                notices::period.eq(about.indicator.as_ref().map(|i| i.1.clone())),
                notices::unit_id.eq(about.lead_unit),
                notices::step.eq(&w.step),
                notices::due_date.eq(about.due),
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
            crate::accountability::propose(conn, about.lead_unit, &about.task_ids, &about.reason, &w.dedupe_key, now)?;
        }
        // The same notice for each unit robot, written with it: all or none.
        for unit in &w.robots {
            let robot_id: i64 = diesel::insert_into(notices::table)
                .values((
                    notices::task_id.eq(about.task_id),
                    notices::indicator_id.eq(about.indicator.as_ref().map(|i| i.0)),
                    notices::period.eq(about.indicator.as_ref().map(|i| i.1.clone())),
                    notices::unit_id.eq(unit),
                    notices::step.eq(&w.step),
                    notices::due_date.eq(about.due),
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
        if let Some(task_id) = about.task_id {
            events::record(
                conn,
                NewEvent {
                    task_id,
                    kind: w.event_kind,
                    actor: None,
                    unit_id: Some(about.lead_unit),
                    note: Some(subject.clone()),
                    data: Some(serde_json::json!({ "notice_id": id, "step": w.step, "recipients": w.recipients })),
                },
                now,
            )?;
        }
        Ok(true)
    });
    match result {
        Ok(created) => Ok(created),
        Err(e) if db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Whether the notice with this key is already written. Looked up before
/// inserting, so that a scan run again (after a crash, or by hand) does not
/// put a refused insert into the database log for every notice; two scans
/// at the same instant are still told apart by the unique key.
fn exists(conn: &mut DbConnection, dedupe_key: &str) -> QueryResult<bool> {
    let found: Option<i64> = notices::table
        .filter(notices::dedupe_key.eq(dedupe_key))
        .select(notices::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}
