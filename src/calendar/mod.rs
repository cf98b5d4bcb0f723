//! The work calendar (工作行事历): task deadlines, indicator reporting days
//! and bulletin dates in a date window, as the caller may see them; and
//! personal iCalendar feeds, whose long random token stands in for the bearer
//! token that calendar apps cannot send (only its hash is stored).

pub mod ics;
pub mod routes;

use std::collections::HashMap;

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
use crate::domain::{BulletinId, FeedId, IndicatorId, Role, TaskId, UnitId, UserId};
use crate::error::{Error, Result};
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
    pub unit_id: Option<UnitId>,
    pub task_id: Option<TaskId>,
    pub indicator_id: Option<IndicatorId>,
    pub bulletin_id: Option<BulletinId>,
    /// Past the date and not done.
    pub overdue: bool,
}

/// What a calendar is asked for: the caller, the date window (inclusive),
/// the one unit it is narrowed to (if any), and today.
struct Window<'a> {
    auth: &'a AuthUser,
    from: NaiveDate,
    to: NaiveDate,
    unit: Option<UnitId>,
    today: NaiveDate,
}

impl Window<'_> {
    /// Whether work led by `lead` with `coops` cooperating is in the window's unit.
    fn for_unit(&self, lead: UnitId, coops: &[UnitId]) -> bool {
        self.unit.is_none_or(|u| lead == u || coops.contains(&u))
    }
}

/// The caller's events between `from` and `to` (inclusive), by date;
/// `unit` narrows them to one unit's work.
pub fn events(
    conn: &mut DbConnection,
    settings: &Settings,
    auth: &AuthUser,
    (from, to): (NaiveDate, NaiveDate),
    unit: Option<UnitId>,
    today: NaiveDate,
) -> Result<Vec<CalendarEvent>> {
    let w = Window {
        auth,
        from,
        to,
        unit,
        today,
    };
    let unit_names: HashMap<UnitId, String> = units::table
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect();
    let name = |id: UnitId| unit_names.get(&id).cloned().unwrap_or_default();
    let mut out = task_deadlines(conn, settings, &w, &name)?;
    out.extend(indicator_reports(conn, &w, &name)?);
    out.extend(bulletins_published(conn, settings, &w)?);
    out.extend(bulletin_drafts(settings, &w));
    out.sort_by(|a, b| (a.date, &a.kind, &a.uid).cmp(&(b.date, &b.kind, &b.uid)));
    Ok(out)
}

/// The due dates of tasks in sight that are neither drafts nor cancelled.
fn task_deadlines(
    conn: &mut DbConnection,
    settings: &Settings,
    w: &Window<'_>,
    name: &dyn Fn(UnitId) -> String,
) -> Result<Vec<CalendarEvent>> {
    let scope = visibility::scope(w.auth, settings);
    let rows: Vec<TaskRow> = tasks::table
        .filter(tasks::due_date.between(w.from, w.to))
        .filter(tasks::status.ne_all([TaskStatus::Draft, TaskStatus::Cancelled]))
        .select(TaskRow::as_select())
        .order((tasks::due_date, tasks::code))
        .load(conn)?;
    let ids: Vec<TaskId> = rows.iter().map(|r| r.id).collect();
    let parties = visibility::PartiesOf::load(conn, &ids)?;
    let mut out = Vec::new();
    for row in rows {
        let c = parties.of(row.id).coops;
        let lead = row.lead_unit_id;
        if !parties.sees(scope, &row) || !w.for_unit(lead, c) {
            continue;
        }
        let Some(due) = row.due_date else { continue };
        let done = matches!(row.status, TaskStatus::Submitted | TaskStatus::Completed);
        out.push(CalendarEvent {
            uid: format!("task-{}@duban", row.id),
            date: due,
            kind: "task_due".into(),
            title: format!("【任务截止】{} {}", row.code, row.title),
            description: format!("牵头单位：{}；状态：{}", name(lead), row.status.zh()),
            unit_id: Some(lead),
            task_id: Some(row.id),
            indicator_id: None,
            bulletin_id: None,
            overdue: !done && due < w.today,
        });
    }
    Ok(out)
}

/// The reporting days of indicators in sight (`indicators::Sight`).
fn indicator_reports(
    conn: &mut DbConnection,
    w: &Window<'_>,
    name: &dyn Fn(UnitId) -> String,
) -> Result<Vec<CalendarEvent>> {
    let sight = Sight::of(w.auth);
    let mut out = Vec::new();
    for report in crate::indicators::values::owed_reports(conn, w.to)? {
        if report.due < w.from {
            continue;
        }
        let lead = report.lead_unit_id;
        let coops = &report.cooperating;
        let sees = match sight {
            Sight::All => true,
            Sight::Unit(u) => lead == u || coops.contains(&u),
        };
        if !sees || !w.for_unit(lead, coops) {
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
            description: format!("牵头单位：{}", name(lead)),
            unit_id: Some(lead),
            task_id: None,
            indicator_id: Some(report.indicator_id),
            bulletin_id: None,
            overdue: report.reported_on.is_none() && report.due < w.today,
        });
    }
    Ok(out)
}

/// The days bulletins were published (local dates), for everyone.
fn bulletins_published(
    conn: &mut DbConnection,
    settings: &Settings,
    w: &Window<'_>,
) -> Result<Vec<CalendarEvent>> {
    // A day either side of the window in UTC: the local date may differ.
    let from_at = w.from.and_hms_opt(0, 0, 0).unwrap_or_default() - chrono::Duration::days(1);
    let to_at = w.to.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::days(2);
    type Published = (
        BulletinId,
        String,
        Option<i32>,
        Option<i32>,
        Option<NaiveDateTime>,
    );
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
    let mut out = Vec::new();
    for (id, period, year, number, at) in published {
        let Some(day) = at.map(|t| crate::domain::calendar::local_date(t.and_utc(), tz)) else {
            continue;
        };
        if day < w.from || day > w.to {
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
    Ok(out)
}

/// The office's own dates: the monthly bulletin is drafted on bulletin_day.
/// Only the office and admins see them, and not in one unit's calendar.
fn bulletin_drafts(settings: &Settings, w: &Window<'_>) -> Vec<CalendarEvent> {
    let mut out = Vec::new();
    if settings.bulletin_day == 0
        || !matches!(w.auth.role, Role::Admin | Role::Office)
        || w.unit.is_some()
    {
        return out;
    }
    let mut month = NaiveDate::from_ymd_opt(w.from.year(), w.from.month(), 1).unwrap_or(w.from);
    while month <= w.to {
        if let Some(day) = month
            .with_day(settings.bulletin_day)
            .filter(|d| *d >= w.from && *d <= w.to)
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
            .unwrap_or(w.to + chrono::Duration::days(1));
    }
    out
}

/// A personal feed as listed (the token itself is shown once, on creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    pub id: FeedId,
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
) -> Result<FeedView> {
    let name = match name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => crate::domain::values::BoundedText::parse(n, 100)
            .map_err(|m| Error::invalid_field("name", m))?
            .into_inner(),
        None => "工作行事历".to_string(),
    };
    // 32 random bytes: guessing one is out of the question, so the address
    // itself is the credential.
    let token = crate::secrets::random_hex(32);
    let (id, created_at): (FeedId, NaiveDateTime) = diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::user_id.eq(user),
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
        ("calendar_feed", id.0),
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

pub fn list_feeds(conn: &mut DbConnection, user: UserId) -> Result<Vec<FeedView>> {
    let rows: Vec<(FeedId, String, NaiveDateTime, Option<NaiveDateTime>)> = calendar_feeds::table
        .filter(calendar_feeds::user_id.eq(user))
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
    id: FeedId,
    now: NaiveDateTime,
) -> Result<()> {
    let n = diesel::update(
        calendar_feeds::table
            .find(id)
            .filter(calendar_feeds::user_id.eq(user))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(now))
    .execute(conn)?;
    if n == 0 {
        let exists: i64 = calendar_feeds::table
            .find(id)
            .filter(calendar_feeds::user_id.eq(user))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(Error::NotFound);
        }
        return Ok(()); // already revoked
    }
    crate::audit::record_change(
        conn,
        Some(user),
        "revoke",
        ("calendar_feed", id.0),
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
) -> Result<()> {
    let revoked: Vec<FeedId> = diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user))
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
            ("calendar_feed", id.0),
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
pub fn feed_owner(conn: &mut DbConnection, token: &str) -> Result<(AuthUser, String)> {
    let found: Option<(UserId, String)> = calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash(token)))
        .filter(calendar_feeds::revoked_at.is_null())
        .select((calendar_feeds::user_id, calendar_feeds::name))
        .first(conn)
        .optional()?;
    let (user_id, name) = found.ok_or(Error::NotFound)?;
    let (role, unit_id, active): (Role, Option<UnitId>, bool) = users::table
        .find(user_id)
        .select((users::role, users::unit_id, users::active))
        .first(conn)?;
    if !active {
        return Err(Error::NotFound);
    }
    Ok((
        AuthUser {
            id: user_id,
            role,
            unit_id,
        },
        name,
    ))
}
