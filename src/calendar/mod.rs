//! The work calendar (工作行事历): task deadlines, indicator reporting days
//! and bulletin dates in a date window, as the caller may see them; and
//! personal iCalendar feeds, whose long random token stands in for the bearer
//! token that calendar apps cannot send (only its hash is stored).

pub mod ics;
pub mod routes;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::schema::{bulletins, calendar_feeds, tasks, units, users};
use crate::db::DbConnection;
use crate::domain::kinds::BulletinStatus;
use crate::domain::period::Period;
use crate::domain::task_state::TaskStatus;
use crate::domain::{Role, TaskId, UnitId, UserId};
use crate::http::problem::{ApiError, ApiResult};
use crate::indicators::Sight;
use crate::tasks::model::TaskRow;
use crate::tasks::visibility;

/// One day in the calendar.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarEvent {
    /// Stable across feeds and refreshes.
    pub uid: String,
    pub date: NaiveDate,
    /// task_due, indicator_report, bulletin_published or bulletin_draft
    pub kind: String,
    pub title: String,
    pub description: String,
    pub unit_id: Option<i64>,
    pub task_id: Option<i64>,
    pub indicator_id: Option<i64>,
    pub bulletin_id: Option<i64>,
    /// Past the date and not done.
    pub overdue: bool,
}

/// The caller's events between `from` and `to` (inclusive), by date;
/// `unit` narrows them to one unit's work.
pub fn events(
    conn: &mut DbConnection,
    settings: &Settings,
    auth: &AuthUser,
    (from, to): (NaiveDate, NaiveDate),
    unit: Option<i64>,
    today: NaiveDate,
) -> ApiResult<Vec<CalendarEvent>> {
    let unit_names: std::collections::HashMap<i64, String> = units::table
        .select((units::id, units::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let name = |id: i64| unit_names.get(&id).cloned().unwrap_or_default();
    let scope = visibility::scope(auth, settings);
    let rows: Vec<TaskRow> = tasks::table
        .filter(tasks::due_date.between(from, to))
        .filter(tasks::status.ne_all([TaskStatus::Draft, TaskStatus::Cancelled]))
        .select(TaskRow::as_select())
        .order((tasks::due_date, tasks::code))
        .load(conn)?;
    let ids: Vec<TaskId> = rows.iter().map(|r| r.id).collect();
    let coops = visibility::cooperators_of(conn, &ids)?;
    let mut out = Vec::new();
    for row in rows {
        let c = coops.get(&row.id).cloned().unwrap_or_default();
        if !visibility::sees(scope, &row, &c) {
            continue;
        }
        if unit
            .map(UnitId)
            .is_some_and(|u| row.lead_unit_id != u && !c.contains(&u))
        {
            continue;
        }
        let Some(due) = row.due_date else { continue };
        let done = matches!(row.status, TaskStatus::Submitted | TaskStatus::Completed);
        out.push(CalendarEvent {
            uid: format!("task-{}@duban", row.id),
            date: due,
            kind: "task_due".into(),
            title: format!("【任务截止】{} {}", row.code, row.title),
            description: format!(
                "牵头单位：{}；状态：{}",
                name(row.lead_unit_id.0),
                row.status.zh()
            ),
            unit_id: Some(row.lead_unit_id.0),
            task_id: Some(row.id.0),
            indicator_id: None,
            bulletin_id: None,
            overdue: !done && due < today,
        });
    }
    let sight = Sight::of(auth);
    for report in crate::indicators::values::owed_reports(conn, to)? {
        if report.due < from {
            continue;
        }
        let sees = match sight {
            Sight::All => true,
            Sight::Unit(u) => report.lead_unit_id == u || report.cooperating.contains(&u),
        };
        if !sees
            || unit.is_some_and(|u| report.lead_unit_id != u && !report.cooperating.contains(&u))
        {
            continue;
        }
        out.push(CalendarEvent {
            uid: format!(
                "indicator-{}-{}@duban",
                report.indicator_id,
                report.period.label()
            ),
            date: report.due,
            kind: "indicator_report".into(),
            title: format!("【数据报送】{} {}", report.code(), report.title()),
            description: format!("牵头单位：{}", name(report.lead_unit_id)),
            unit_id: Some(report.lead_unit_id),
            task_id: None,
            indicator_id: Some(report.indicator_id),
            bulletin_id: None,
            overdue: report.reported_on.is_none() && report.due < today,
        });
    }
    let from_at = from.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::days(1);
    let to_at = to.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::days(2);
    type Published = (i64, String, Option<i32>, Option<i32>, Option<NaiveDateTime>);
    let published: Vec<Published> = bulletins::table
        .filter(bulletins::status.eq(BulletinStatus::Published))
        .filter(bulletins::published_at.between(from_at, to_at))
        .select((
            bulletins::id,
            bulletins::period,
            bulletins::year,
            bulletins::number,
            bulletins::published_at,
        ))
        .load(conn)?;
    let tz = settings.timezone;
    for (id, period, year, number, at) in published {
        let Some(day) = at.map(|t| crate::domain::calendar::local_date(t.and_utc(), tz)) else {
            continue;
        };
        if day < from || day > to {
            continue;
        }
        let label = year
            .zip(number)
            .map(|(y, n)| crate::domain::period::number_label(y, n))
            .unwrap_or_default();
        out.push(CalendarEvent {
            uid: format!("bulletin-{id}@duban"),
            date: day,
            kind: "bulletin_published".into(),
            title: format!("【督查通报】{label}（{period}）印发"),
            description: String::new(),
            unit_id: None,
            task_id: None,
            indicator_id: None,
            bulletin_id: Some(id),
            overdue: false,
        });
    }
    // The office's own dates: the monthly bulletin is drafted on bulletin_day.
    if settings.bulletin_day > 0
        && matches!(auth.role, Role::Admin | Role::Office)
        && unit.is_none()
    {
        let mut month = NaiveDate::from_ymd_opt(from.year(), from.month(), 1).unwrap_or(from);
        while month <= to {
            if let Some(day) = month
                .with_day(settings.bulletin_day)
                .filter(|d| *d >= from && *d <= to)
            {
                let period = Period::previous_month(day);
                out.push(CalendarEvent {
                    uid: format!("bulletin-draft-{}@duban", period.label()),
                    date: day,
                    kind: "bulletin_draft".into(),
                    title: format!("【督查通报】起草{}督查通报", period.label_zh()),
                    description: String::new(),
                    unit_id: None,
                    task_id: None,
                    indicator_id: None,
                    bulletin_id: None,
                    overdue: false,
                });
            }
            month = Period::parse(&format!("{}-{:02}", month.year(), month.month()))
                .map(|p| p.end + chrono::Duration::days(1))
                .unwrap_or(to + chrono::Duration::days(1));
        }
    }
    out.sort_by(|a, b| (a.date, &a.kind, &a.uid).cmp(&(b.date, &b.kind, &b.uid)));
    Ok(out)
}

/// A personal feed as listed (the token itself is shown once, on creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    pub id: i64,
    pub name: String,
    #[serde(serialize_with = "crate::http::instant::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "crate::http::instant::utc_opt")]
    #[schema(value_type = Option<chrono::DateTime<chrono::Utc>>)]
    pub revoked_at: Option<NaiveDateTime>,
    /// Only in the answer to the creation: the feed's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn create_feed(
    conn: &mut DbConnection,
    user: UserId,
    name: Option<String>,
    base_url: &str,
    now: NaiveDateTime,
) -> ApiResult<FeedView> {
    let name = match name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => crate::domain::values::BoundedText::parse(n, 100)
            .map_err(|m| ApiError::invalid_field("name", m))?
            .into_inner(),
        None => "工作行事历".to_string(),
    };
    // 32 random bytes: guessing one is out of the question, so the address
    // itself is the credential.
    let token = crate::secrets::random_hex(32);
    let (id, created_at): (i64, NaiveDateTime) = diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(user.0),
            calendar_feeds::name.eq(&name),
            calendar_feeds::token_hash.eq(token_hash(&token)),
            calendar_feeds::created_at.eq(now),
        ))
        .returning((calendar_feeds::id, calendar_feeds::created_at))
        .get_result(conn)?;
    crate::audit::record_change(
        conn,
        Some(user),
        "create",
        ("calendar_feed", id),
        None,
        Some(&serde_json::json!({ "id": id, "name": name })),
        now,
    )?;
    Ok(FeedView {
        id,
        name,
        created_at,
        revoked_at: None,
        url: Some(format!(
            "{}/api/v1/calendar/feeds/{token}.ics",
            base_url.trim_end_matches('/')
        )),
    })
}

pub fn list_feeds(conn: &mut DbConnection, user: UserId) -> ApiResult<Vec<FeedView>> {
    let rows: Vec<(i64, String, NaiveDateTime, Option<NaiveDateTime>)> = calendar_feeds::table
        .filter(calendar_feeds::user_id.eq(user.0))
        .select((
            calendar_feeds::id,
            calendar_feeds::name,
            calendar_feeds::created_at,
            calendar_feeds::revoked_at,
        ))
        .order(calendar_feeds::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at, revoked_at)| FeedView {
            id,
            name,
            created_at,
            revoked_at,
            url: None,
        })
        .collect())
}

/// Revokes one of the caller's feeds; another user's is 404.
pub fn revoke_feed(
    conn: &mut DbConnection,
    user: UserId,
    id: i64,
    now: NaiveDateTime,
) -> ApiResult<()> {
    let n = diesel::update(
        calendar_feeds::table
            .find(id)
            .filter(calendar_feeds::user_id.eq(user.0))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(now))
    .execute(conn)?;
    if n == 0 {
        let exists: i64 = calendar_feeds::table
            .find(id)
            .filter(calendar_feeds::user_id.eq(user.0))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(ApiError::not_found());
        }
        return Ok(()); // already revoked
    }
    crate::audit::record_change(
        conn,
        Some(user),
        "revoke",
        ("calendar_feed", id),
        None::<&serde_json::Value>,
        None,
        now,
    )?;
    Ok(())
}

/// Revokes every live feed of `user`, when the account is deactivated: the
/// feeds stay revoked if it is reactivated later (the person may have left,
/// and an address that leaked with them must not come back to life).
/// Call inside the write transaction that deactivates the account.
pub fn revoke_all_feeds(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    user: UserId,
    now: NaiveDateTime,
) -> crate::error::Result<()> {
    let revoked: Vec<i64> = diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user.0))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(now))
    .returning(calendar_feeds::id)
    .get_results(conn)?;
    for id in revoked {
        crate::audit::record_change(
            conn,
            actor,
            "revoke",
            ("calendar_feed", id),
            None::<&serde_json::Value>,
            None,
            now,
        )?;
    }
    Ok(())
}

/// The owner of a live feed token, as the caller the feed is built for; an
/// unknown or revoked token, or an inactive account, is 404. (Deactivation
/// revokes the feeds too; the check stays for safety.)
pub fn feed_owner(conn: &mut DbConnection, token: &str) -> ApiResult<(AuthUser, String)> {
    let found: Option<(i64, String)> = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .select((calendar_feeds::user_id, calendar_feeds::name))
        .first(conn)
        .optional()?;
    let (user_id, name) = found.ok_or_else(feed_gone)?;
    let (role, unit, active): (String, Option<i64>, bool) = users::table
        .find(user_id)
        .select((users::role, users::unit_id, users::active))
        .first(conn)?;
    if !active {
        return Err(feed_gone());
    }
    let role = Role::parse(&role).map_err(|m| ApiError::internal(anyhow::anyhow!(m.en)))?;
    Ok((
        AuthUser {
            id: UserId(user_id),
            role,
            unit_id: unit.map(UnitId),
        },
        name,
    ))
}

fn feed_gone() -> ApiError {
    ApiError::not_found()
}
