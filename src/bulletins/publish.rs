//! Publishing a bulletin: in one transaction it is numbered and frozen, each
//! criticised unit gets a rectification task and an accountability proposal,
//! and every unit (and the office) gets the bulletin by email through the
//! outbox. Publishing a published bulletin again changes nothing, so a retry
//! after a lost answer never creates a second task or email.

use chrono::Datelike;
use diesel::prelude::*;

use super::{audit_bulletin, find, BulletinRow, Snapshot};
use crate::config::Settings;
use crate::db::schema::{
    accountability_records as records, bulletins, notices, plans, tasks, units,
};
use crate::db::{self, DbConnection};
use crate::domain::clock::Clock;
use crate::domain::kinds::{
    AccountabilityLevel, BulletinStatus, Category, PlanStatus, Priority, RecordSource, RecordStatus,
};
use crate::domain::notice_step::NoticeStep;
use crate::domain::{BulletinId, PlanId, TaskId, UnitId, UserId};
use crate::error::{Error, Result};
use crate::mail::templates::{bulletin_notice, BulletinLetter};
use crate::tasks::input::{NewTask, TaskLinks};
use crate::tasks::service::{self, Origin};

/// Publishes the draft `id`. Returns the bulletin and whether this call
/// published it (false: it already was).
pub fn publish(
    conn: &mut DbConnection,
    settings: &Settings,
    clock: &Clock,
    actor: Option<UserId>,
    id: BulletinId,
) -> Result<(BulletinRow, bool)> {
    conn.write(|conn| {
        // One publisher at a time: numbers are max + 1 within the year.
        db::lock_rule(conn, db::Rule::Bulletins)?;
        db::lock_row(conn, db::Locked::Bulletins, id.0)?;
        let row = find(conn, id)?.ok_or(Error::NotFound)?;
        if row.is_published() {
            return Ok((row, false));
        }
        let mut snapshot = row.snapshot()?;
        snapshot.published_on = Some(clock.today);
        let year = clock.today.year();
        let last: Option<i32> = bulletins::table
            .filter(bulletins::year.eq(year))
            .select(diesel::dsl::max(bulletins::number))
            .first(conn)?;
        let number = last.unwrap_or(0) + 1;
        let label = crate::domain::period::number_label(year, number);
        let calendar = crate::holidays::calendar(conn)?;
        let deadline =
            calendar.add_working_days(clock.today, settings.bulletin_rectify_working_days);
        if !snapshot.rectifications.is_empty() {
            let plan = rectification_plan(conn, year, clock)?;
            for r in &mut snapshot.rectifications {
                if !r.deadline_fixed {
                    r.deadline = deadline;
                }
                r.task_id = Some(rectification_task(
                    conn,
                    plan,
                    r,
                    &label,
                    &snapshot.title,
                    actor,
                    clock,
                )?);
                diesel::insert_into(records::table)
                    .values((
                        records::unit_id.eq(r.unit_id),
                        records::level.eq(AccountabilityLevel::PublicCriticism),
                        records::reason.eq(format!("{label}《{}》通报批评", snapshot.title)),
                        records::task_ids.eq(serde_json::json!(r.overdue_task_ids).to_string()),
                        records::source.eq(RecordSource::Bulletin),
                        records::status.eq(RecordStatus::Proposed),
                        records::dedupe_key.eq(format!("bulletin:{id}:unit:{}", r.unit_id)),
                        records::bulletin_id.eq(id),
                        records::created_at.eq(clock.now),
                    ))
                    .execute(conn)?;
            }
        }
        let published: BulletinRow = diesel::update(
            bulletins::table
                .find(id)
                .filter(bulletins::status.eq(BulletinStatus::Draft)),
        )
        .set((
            bulletins::status.eq(BulletinStatus::Published),
            bulletins::year.eq(year),
            bulletins::number.eq(number),
            bulletins::snapshot.eq(super::snapshot_json(&snapshot)?),
            bulletins::version.eq(row.version + 1),
            bulletins::published_by.eq(actor.map(|a| a.0)),
            bulletins::published_at.eq(clock.now),
            bulletins::updated_at.eq(clock.now),
        ))
        .returning(bulletins::all_columns)
        .get_result(conn)?;
        queue_emails(conn, settings, clock, &published, &snapshot, &calendar)?;
        audit_bulletin(conn, actor, "publish", &published, clock.now)?;
        Ok((published, true))
    })
}

/// The year's plan that holds rectification tasks, made on first need.
fn rectification_plan(conn: &mut DbConnection, year: i32, clock: &Clock) -> QueryResult<i64> {
    let title = format!("{year}年督查通报整改");
    let found: Option<i64> = plans::table
        .filter(plans::year.eq(year))
        .filter(plans::title.eq(&title))
        .select(plans::id)
        .first(conn)
        .optional()?;
    if let Some(id) = found {
        return Ok(id);
    }
    diesel::insert_into(plans::table)
        .values((
            plans::title.eq(&title),
            plans::year.eq(year),
            plans::description.eq("督查通报提出的整改任务，印发通报时自动生成。"),
            plans::status.eq(PlanStatus::Active),
            plans::created_at.eq(clock.now),
            plans::updated_at.eq(clock.now),
        ))
        .returning(plans::id)
        .get_result(conn)
}

/// The criticised unit's rectification task, assigned at once so the
/// notice ladder follows it like any other task; written by the task
/// service like every task (its checks, timeline and audit entry).
fn rectification_task(
    conn: &mut DbConnection,
    plan: i64,
    r: &super::Rectification,
    label: &str,
    title: &str,
    actor: Option<UserId>,
    clock: &Clock,
) -> Result<TaskId> {
    let overdue: Vec<(String, String)> = tasks::table
        .filter(tasks::id.eq_any(&r.overdue_task_ids))
        .select((tasks::code, tasks::title))
        .order(tasks::code)
        .load(conn)?;
    let mut description = r.requirement.clone();
    if !overdue.is_empty() {
        description.push_str("\n逾期任务：");
        for (code, t) in &overdue {
            description.push_str(&format!("\n{code} {t}"));
        }
    }
    let unit_code: String = units::table
        .find(r.unit_id)
        .select(units::code)
        .first(conn)?;
    let new = NewTask {
        links: TaskLinks {
            plan_id: PlanId(plan),
            parent_id: None,
            lead_unit_id: r.unit_id,
            cooperating_unit_ids: Vec::new(),
            responsible_leader_id: None,
            co_leader_ids: Vec::new(),
        },
        code: format!("ZG-{label}-{unit_code}"),
        title: format!("落实{label}督查通报整改要求"),
        description: Some(description),
        start_date: Some(clock.today),
        due_date: Some(r.deadline),
        due_text: None,
        due_in_working_days: None,
        priority: Priority::High,
        category: Category::Rectification,
        evidence_required: true,
        report_day: None,
        report_cadence: crate::domain::report_cycle::ReportCadence::Monthly,
    };
    let origin = Origin {
        actor,
        assigned: true,
        note: Some(format!("{label}《{title}》整改任务")),
    };
    Ok(service::create(conn, origin, new, clock.now)?.id)
}

/// One email per active unit, the office included (its contact addresses
/// and its head), each carrying the bulletin.
fn queue_emails(
    conn: &mut DbConnection,
    settings: &Settings,
    clock: &Clock,
    row: &BulletinRow,
    snapshot: &Snapshot,
    calendar: &crate::domain::calendar::WorkCalendar,
) -> Result<()> {
    let lang = settings.notice_language;
    let send_at = crate::notices::next_open(settings, calendar, clock.now)?;
    let domain = crate::notices::mail_domain(&settings.mail_from);
    let label = row.number_label().unwrap_or_default();
    let all: Vec<(UnitId, String, String, Option<String>)> = units::table
        .filter(units::active.eq(true))
        .select((
            units::id,
            units::name,
            units::contact_emails,
            units::head_email,
        ))
        .order(units::code)
        .load(conn)?;
    let written = all.len();
    for (unit_id, name, contacts, head) in all {
        let mut to: Vec<String> = serde_json::from_str(&contacts).unwrap_or_default();
        to.extend(head.filter(|h| !to.contains(h)));
        to.retain(|a| !a.trim().is_empty());
        let line = snapshot
            .ranking
            .ranked
            .iter()
            .chain(&snapshot.ranking.unranked)
            .find(|r| r.unit.id == unit_id);
        let letter = BulletinLetter {
            number_label: &label,
            title: &snapshot.title,
            unit_name: &name,
            standing: line.and_then(|l| Some((l.rank?, l.score?))),
            units_ranked: snapshot.ranking.totals.units_ranked,
            rectification: line
                .and_then(|l| {
                    snapshot
                        .rectifications
                        .iter()
                        .find(|x| x.unit_id == l.unit.id)
                })
                .map(|r| (r.deadline, r.requirement.as_str())),
        };
        let (subject, text, html) = bulletin_notice(&letter, lang)?;
        let (status, error) = if to.is_empty() {
            (
                "dead",
                Some("no recipients: the unit has no address".to_string()),
            )
        } else {
            ("pending", None)
        };
        let notice: i64 = diesel::insert_into(notices::table)
            .values((
                notices::unit_id.eq(unit_id),
                notices::step.eq(NoticeStep::Bulletin),
                notices::dedupe_key.eq(format!("bulletin:{}:unit:{unit_id}", row.id)),
                notices::recipients.eq(serde_json::to_string(&to).unwrap_or_else(|_| "[]".into())),
                notices::subject.eq(&subject),
                notices::body_text.eq(&text),
                notices::body_html.eq(&html),
                notices::status.eq(status),
                notices::last_error.eq(error),
                notices::next_attempt_at.eq(send_at),
                notices::created_at.eq(clock.now),
                notices::bulletin_id.eq(row.id),
            ))
            .returning(notices::id)
            .get_result(conn)?;
        diesel::update(notices::table.find(notice))
            .set(notices::message_id.eq(crate::notices::message_id(notice, &domain)))
            .execute(conn)?;
    }
    // One email a unit, none of them cancelled, counted in one statement.
    crate::notices::days::created(conn, std::iter::repeat_n((clock.now, false), written))?;
    Ok(())
}

/// The bulletin a notice carries, as a printable HTML page and a workbook
/// (handed to the delivery worker as its `notices::deliver::Attach`).
/// A published bulletin never changes, so a resend attaches the same files.
pub fn attachments(
    conn: &mut DbConnection,
    settings: &Settings,
    id: BulletinId,
) -> anyhow::Result<Vec<crate::mail::Attachment>> {
    use super::files;
    use crate::http::download::Format;
    let row = find(conn, id)?.ok_or_else(|| anyhow::anyhow!("bulletin {id} is gone"))?;
    let snapshot = row.snapshot().map_err(anyhow::Error::new)?;
    let lang = settings.notice_language;
    let name = files::file_name(&row);
    [Format::Html, Format::Xlsx]
        .into_iter()
        .map(|format| {
            Ok(crate::mail::Attachment {
                filename: format!("{name}.{}", format.extension()),
                content_type: format.content_type().to_string(),
                bytes: files::file_bytes(&row, &snapshot, format, lang)?,
            })
        })
        .collect()
}
