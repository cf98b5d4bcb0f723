//! Notices: reminders, chase notices, supervision orders and accountability
//! proposals. The scan writes them to an outbox table in the same transaction
//! as the timeline event that records them; the delivery worker sends them.
//! A unique dedupe key (task, step, due date) makes every notice exist once.

pub mod days;
pub mod deliver;
pub mod outbox;
pub mod robots;
pub mod routes;
pub mod scan;
pub mod tell;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::notices;
use crate::domain::kinds::{Channel, NoticeStatus};
use crate::domain::notice_step::NoticeStep;
use crate::domain::{BulletinId, IndicatorId, InstructionId, NoticeId, OrderId, TaskId, UnitId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct NoticeRow {
    pub id: NoticeId,
    pub task_id: Option<TaskId>,
    pub unit_id: Option<UnitId>,
    pub step: NoticeStep,
    pub due_date: Option<NaiveDate>,
    pub dedupe_key: String,
    pub message_id: String,
    pub recipients: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: NoticeStatus,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub lease_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// By email, or to the unit's group robot.
    pub channel: Channel,
    /// A bulletin notice carries the bulletin's renderings as attachments.
    pub bulletin_id: Option<BulletinId>,
    /// A notice about an indicator's report for `period`.
    pub indicator_id: Option<IndicatorId>,
    pub period: Option<String>,
    /// A notice about an instruction (批示): its own, or a chase of its reply.
    pub instruction_id: Option<InstructionId>,
    /// A 督办 notice carries its supervision order (督办单) as an attachment.
    pub supervision_order_id: Option<OrderId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    pub id: NoticeId,
    pub task_id: Option<TaskId>,
    /// For a notice about an indicator's report: the indicator and the period.
    pub indicator_id: Option<IndicatorId>,
    pub period: Option<String>,
    /// For a bulletin sent to a unit.
    pub bulletin_id: Option<BulletinId>,
    pub unit_id: Option<UnitId>,
    /// reminder_7, chase_1, supervise_7, accountability_15, accept_overdue,
    /// report_missing, assigned, returned, instruction, digest or bulletin
    pub step: NoticeStep,
    /// email, or webhook: the group robot of `unit_id`.
    pub channel: Channel,
    pub due_date: Option<NaiveDate>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub status: NoticeStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub message_id: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl NoticeView {
    pub fn from_row(row: NoticeRow) -> NoticeView {
        NoticeView {
            message_id: row.message_id,
            recipients: serde_json::from_str(&row.recipients).unwrap_or_default(),
            id: row.id,
            task_id: row.task_id,
            indicator_id: row.indicator_id,
            period: row.period,
            bulletin_id: row.bulletin_id,
            unit_id: row.unit_id,
            step: row.step,
            channel: row.channel,
            due_date: row.due_date,
            subject: row.subject,
            status: row.status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.and_utc(),
            last_error: row.last_error,
            sent_at: row.sent_at.map(|s| s.and_utc()),
            created_at: row.created_at.and_utc(),
        }
    }
}

/// The first instant at or after `at` (UTC) inside the configured send
/// window, in UTC: notices written at night or on a holiday wait for the next
/// working morning.
pub fn next_open(
    settings: &crate::config::Settings,
    calendar: &crate::domain::calendar::WorkCalendar,
    at: NaiveDateTime,
) -> anyhow::Result<NaiveDateTime> {
    use chrono::TimeZone;
    let Some(window) = settings.window() else {
        return Ok(at);
    };
    let tz = settings.timezone;
    let local = at.and_utc().with_timezone(&tz).naive_local();
    let open = window.next_open(local, calendar);
    Ok(tz
        .from_local_datetime(&open)
        .earliest()
        .map_or(at, |t| t.naive_utc()))
}

/// The Message-ID of a notice: derived from its id, so every attempt to send
/// it, including one after a crash, carries the same id.
pub fn message_id(id: i64, mail_domain: &str) -> String {
    format!("<duban-notice-{id}@{mail_domain}>")
}

/// Gives the notices `ids` their Message-IDs (`message_id` of each id) in
/// one UPDATE: the scan writes hundreds of notices a transaction and learns
/// their ids only from the INSERT.
pub(crate) fn set_message_ids(
    conn: &mut crate::db::DbConnection,
    ids: &[NoticeId],
    mail_domain: &str,
) -> QueryResult<usize> {
    use diesel::dsl::sql;
    use diesel::sql_types::Text;
    if ids.is_empty() {
        return Ok(0);
    }
    // The same text as `message_id`, put together by the database.
    let derived = sql::<Text>("'<duban-notice-' || CAST(id AS TEXT) || '@' || ")
        .bind::<Text, _>(mail_domain)
        .sql(" || '>'");
    diesel::update(notices::table.filter(notices::id.eq_any(ids)))
        .set(notices::message_id.eq(derived))
        .execute(conn)
}

/// The domain of the configured From address, for Message-IDs.
pub fn mail_domain(mail_from: &str) -> String {
    mail_from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "duban.local".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_come_from_the_notice_id() {
        assert_eq!(
            mail_domain("督办系统 <duban@example.gov.cn>"),
            "example.gov.cn"
        );
        assert_eq!(mail_domain("nobody"), "duban.local");
        assert_eq!(
            message_id(42, "example.gov.cn"),
            "<duban-notice-42@example.gov.cn>"
        );
    }
}
