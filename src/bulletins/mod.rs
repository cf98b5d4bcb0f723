//! Supervision bulletins (督查通报): a draft snapshot of a period's ranking
//! with its free text, regenerated and edited by the office, then published:
//! frozen, numbered per year (2026年第N期), a rectification task and an
//! accountability proposal for each criticised unit, and an email with the
//! bulletin attached to every unit, all in one transaction.

pub mod files;
pub mod markdown;
pub mod pictures;
pub mod publish;
pub mod render;
pub mod routes;
pub mod sheets;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::config::Settings;
use crate::db::schema::bulletins;
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::BulletinStatus;
use crate::domain::period::{number_label, Period};
use crate::domain::values::BoundedText;
use crate::domain::UnitKind;
use crate::domain::{BulletinId, Message, TaskId, UnitId, UserId};
use crate::error::{Conflict, Error, Result, Validator};
use crate::rankings::{self, Ranking, RankingRow};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bulletins)]
pub struct BulletinRow {
    pub id: BulletinId,
    pub period: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: BulletinStatus,
    pub year: Option<i32>,
    pub number: Option<i32>,
    pub snapshot: String,
    pub version: i64,
    pub created_by: Option<UserId>,
    pub published_by: Option<UserId>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
}

impl BulletinRow {
    pub fn snapshot(&self) -> crate::error::Result<Snapshot> {
        let mut snapshot: Snapshot = serde_json::from_str(&self.snapshot).map_err(|e| {
            crate::error::Error::Internal(anyhow::anyhow!("bulletin {} snapshot: {e}", self.id))
        })?;
        // A snapshot keeps every overdue task; those taken before the count
        // was stored say so by the length of their list.
        let r = &mut snapshot.ranking;
        r.overdue_total = r.overdue_total.max(r.overdue_tasks.len());
        Ok(snapshot)
    }

    /// 2026年第3期, once published.
    pub fn number_label(&self) -> Option<String> {
        Some(number_label(self.year?, self.number?))
    }

    pub fn is_published(&self) -> bool {
        self.status == BulletinStatus::Published
    }
}

/// What a criticised unit must put right, by when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rectification {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub requirement: String,
    /// Working days from publication unless the office set it.
    pub deadline: NaiveDate,
    /// The office set the deadline; publishing keeps it.
    #[serde(default)]
    pub deadline_fixed: bool,
    /// The office rewrote the requirement; regenerating keeps it.
    #[serde(default)]
    pub requirement_edited: bool,
    /// The unit's overdue tasks named in the bulletin.
    pub overdue_task_ids: Vec<TaskId>,
    /// The rectification task, created on publishing.
    pub task_id: Option<TaskId>,
}

/// Everything a bulletin shows; frozen when published.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Snapshot {
    /// Who issues it: the office unit's name.
    pub issuer: String,
    pub title: String,
    /// The opening summary (总体情况); generated from the figures until edited.
    pub foreword: String,
    #[serde(default)]
    pub foreword_edited: bool,
    /// The closing requirements (工作要求).
    pub closing: String,
    pub ranking: Ranking,
    pub rectifications: Vec<Rectification>,
    pub generated_at: DateTime<Utc>,
    /// The local day the figures were taken, and (once published) the local
    /// day of publication: the date printed on the bulletin.
    pub generated_on: NaiveDate,
    #[serde(default)]
    pub published_on: Option<NaiveDate>,
    /// The city's rates in the published bulletins up to this one's period
    /// (oldest first, at most twelve), read when the draft was made: the
    /// line in the bulletin's pictures (`pictures`). Empty in bulletins
    /// made before pictures existed.
    #[serde(default)]
    pub history: Vec<pictures::PeriodRates>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinView {
    pub id: BulletinId,
    pub period: String,
    pub status: BulletinStatus,
    pub year: Option<i32>,
    pub number: Option<i32>,
    /// 2026年第3期, once published.
    pub number_label: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub snapshot: Snapshot,
}

impl BulletinView {
    pub fn of(row: &BulletinRow) -> Result<BulletinView> {
        Ok(BulletinView {
            id: row.id,
            period: row.period.clone(),
            status: row.status,
            year: row.year,
            number: row.number,
            number_label: row.number_label(),
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            published_at: row.published_at.map(|t| t.and_utc()),
            snapshot: row.snapshot()?,
        })
    }
}

/// A bulletin in a list: no snapshot.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinSummary {
    pub id: BulletinId,
    pub period: String,
    pub status: BulletinStatus,
    pub number_label: Option<String>,
    pub title: String,
    pub criticised: Vec<String>,
    pub commended: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
}

impl BulletinSummary {
    pub fn of(row: &BulletinRow) -> Result<BulletinSummary> {
        let s = row.snapshot()?;
        let names = |rows: &mut dyn Iterator<Item = &RankingRow>| -> Vec<String> {
            rows.map(|r| r.unit.name.clone()).collect()
        };
        let criticised = names(&mut s.ranking.criticised());
        let commended = names(&mut s.ranking.commended());
        Ok(BulletinSummary {
            id: row.id,
            period: row.period.clone(),
            status: row.status,
            number_label: row.number_label(),
            criticised,
            commended,
            title: s.title,
            published_at: row.published_at.map(|t| t.and_utc()),
        })
    }
}

/// Bulletins, newest period first; `published_only` for those who may not
/// read drafts (the API's list and the console's).
pub fn list(
    conn: &mut DbConnection,
    published_only: bool,
    year: Option<i32>,
    status: Option<&str>,
    paging: crate::http::Paging,
) -> Result<crate::http::Page<BulletinSummary>> {
    let query = || {
        let mut q = bulletins::table.into_boxed();
        if published_only {
            q = q.filter(bulletins::status.eq(BulletinStatus::Published));
        }
        if let Some(y) = year {
            q = q.filter(bulletins::year.eq(y));
        }
        if let Some(s) = status {
            q = q.filter(bulletins::status.eq(s.to_string()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<BulletinRow> = query()
        .select(BulletinRow::as_select())
        .order((bulletins::period_end.desc(), bulletins::id.desc()))
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    let items = rows
        .iter()
        .map(BulletinSummary::of)
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::http::Page::new(items, total, paging))
}

pub fn find(conn: &mut DbConnection, id: BulletinId) -> QueryResult<Option<BulletinRow>> {
    bulletins::table
        .find(id)
        .select(BulletinRow::as_select())
        .first(conn)
        .optional()
}

/// The bulletin of exactly this period, if any.
pub fn find_for_period(
    conn: &mut DbConnection,
    period: Period,
) -> QueryResult<Option<BulletinRow>> {
    bulletins::table
        .filter(bulletins::period_start.eq(period.start))
        .filter(bulletins::period_end.eq(period.end))
        .select(BulletinRow::as_select())
        .first(conn)
        .optional()
}

fn default_title(period: &Period) -> String {
    format!("关于{}重点工作任务落实情况的督查通报", period.label_zh())
}

const DEFAULT_CLOSING: &str = "各单位要对照通报指出的问题，逐项分析原因，压实工作责任，\
倒排工期、挂图作战，确保各项任务按时保质完成。被通报批评的单位要按要求限期整改，\
并将整改情况书面报送领导小组办公室。对措施不力、行动迟缓、整改不到位的，将依规依纪严肃追究责任。";

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{r:.1}%"))
}

/// The generated opening summary.
fn foreword(r: &Ranking) -> String {
    let t = &r.totals;
    let mut text = format!(
        "{}，纳入督查排名的{}个单位共有到期任务{}项，按时完成{}项，逾期完成{}项，逾期未完成{}项，\
完成率{}，按时完成率{}。",
        r.period_name,
        t.units_ranked,
        t.due,
        t.completed_on_time,
        t.completed_late,
        t.overdue,
        pct(t.completion_rate),
        pct(t.on_time_rate),
    );
    if r.running {
        text.push_str(&format!(
            "本期尚未结束，数据截至{}。",
            crate::domain::period::zh_date(r.judged_on)
        ));
    }
    let commended: Vec<&str> = r.commended().map(|u| u.unit.name.as_str()).collect();
    if !commended.is_empty() {
        text.push_str(&format!(
            "{}等单位工作推进有力，予以通报表扬。",
            commended.join("、")
        ));
    }
    let criticised: Vec<&str> = r.criticised().map(|u| u.unit.name.as_str()).collect();
    if !criticised.is_empty() {
        text.push_str(&format!(
            "{}等单位任务推进滞后，予以通报批评。",
            criticised.join("、")
        ));
    }
    text
}

fn requirement(row: &RankingRow) -> String {
    let f = &row.figures;
    let mut issues = Vec::new();
    if f.overdue > 0 {
        issues.push(format!("{}项任务逾期未完成", f.overdue));
    }
    if f.completed_late > 0 {
        issues.push(format!("{}项任务逾期完成", f.completed_late));
    }
    if issues.is_empty() {
        issues.push("得分低于通报标准".to_string());
    }
    format!(
        "针对{}的问题，逐项查找原因，明确责任人和完成时限，限期整改到位，并将整改情况书面报送领导小组办公室。",
        issues.join("、")
    )
}

/// Builds a draft snapshot of `period`, keeping the office's edits from `keep`.
pub fn build(
    conn: &mut DbConnection,
    settings: &Settings,
    clock: &Clock,
    period: Period,
    keep: Option<&Snapshot>,
) -> Result<Snapshot> {
    let ranking = rankings::ranking(conn, period, &settings.policy(), clock)?;
    let calendar = crate::holidays::calendar(conn)?;
    let deadline = calendar.add_working_days(clock.today, settings.bulletin_rectify_working_days);
    let kept: HashMap<UnitId, &Rectification> = keep
        .map(|k| k.rectifications.iter().map(|r| (r.unit_id, r)).collect())
        .unwrap_or_default();
    // Each criticised unit's overdue tasks, in the ranking's order (one
    // pass: at a million tasks, filtering the 100,000 for each unit took a
    // tenth of the bulletin's time).
    let mut overdue_of: HashMap<UnitId, Vec<TaskId>> = HashMap::new();
    for t in &ranking.overdue_tasks {
        if let Some(id) = t.task_id {
            overdue_of.entry(t.unit_id).or_default().push(id);
        }
    }
    let rectifications = ranking
        .criticised()
        .map(|row| {
            let old = kept.get(&row.unit.id);
            let edited = old.filter(|o| o.requirement_edited);
            let fixed = old.filter(|o| o.deadline_fixed);
            Rectification {
                unit_id: row.unit.id,
                unit_name: row.unit.name.clone(),
                requirement: edited.map_or_else(|| requirement(row), |o| o.requirement.clone()),
                requirement_edited: edited.is_some(),
                deadline: fixed.map_or(deadline, |o| o.deadline),
                deadline_fixed: fixed.is_some(),
                overdue_task_ids: overdue_of.remove(&row.unit.id).unwrap_or_default(),
                task_id: None,
            }
        })
        .collect();
    let issuer: Option<String> = crate::db::schema::units::table
        .filter(crate::db::schema::units::kind.eq(UnitKind::Office))
        .filter(crate::db::schema::units::active.eq(true))
        .order(crate::db::schema::units::code)
        .select(crate::db::schema::units::name)
        .first(conn)
        .optional()?;
    let history = pictures::published_rates(conn, ranking.end, 12)?;
    Ok(Snapshot {
        issuer: issuer.unwrap_or_else(|| "领导小组办公室".into()),
        title: keep.map_or_else(|| default_title(&period), |k| k.title.clone()),
        foreword: match keep {
            Some(k) if k.foreword_edited => k.foreword.clone(),
            _ => foreword(&ranking),
        },
        foreword_edited: keep.is_some_and(|k| k.foreword_edited),
        closing: keep.map_or_else(|| DEFAULT_CLOSING.to_string(), |k| k.closing.clone()),
        ranking,
        rectifications,
        generated_at: clock.now.and_utc(),
        generated_on: clock.today,
        published_on: None,
        history,
    })
}

fn snapshot_json(s: &Snapshot) -> Result<String> {
    serde_json::to_string(s).map_err(|e| anyhow::Error::new(e).context("bulletin snapshot").into())
}

fn bulletin_exists(row: &BulletinRow) -> Error {
    Conflict::BulletinExists {
        id: row.id,
        status: row.status,
    }
    .into()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBulletin {
    /// 2026-11, 2026-Q4, 2026 or 2026-01-01..2026-03-31
    pub period: String,
}

/// Parses a period field.
pub fn parse_period(field: &str, text: &str) -> Result<Period> {
    Period::parse(text).map_err(|m| Error::invalid_field(field, m))
}

/// Creates the draft for a period (one bulletin per period).
pub fn create(
    conn: &mut DbConnection,
    settings: &Settings,
    clock: &Clock,
    actor: Option<UserId>,
    period: Period,
) -> Result<BulletinRow> {
    conn.write(|conn| {
        // Drafting takes the bulletins' lock, so a second drafter of the same
        // period waits and then finds the first one's draft.
        crate::db::lock_rule(conn, crate::db::Rule::Bulletins)?;
        if let Some(row) = find_for_period(conn, period)? {
            return Err(bulletin_exists(&row));
        }
        let snapshot = build(conn, settings, clock, period, None)?;
        let row: BulletinRow = diesel::insert_into(bulletins::table)
            .values((
                bulletins::period.eq(period.label()),
                bulletins::period_start.eq(period.start),
                bulletins::period_end.eq(period.end),
                bulletins::status.eq(BulletinStatus::Draft),
                bulletins::snapshot.eq(snapshot_json(&snapshot)?),
                bulletins::created_by.eq(actor.map(|a| a.0)),
                bulletins::created_at.eq(clock.now),
                bulletins::updated_at.eq(clock.now),
            ))
            .returning(bulletins::all_columns)
            .get_result(conn)?;
        audit_bulletin(conn, actor, "create", &row, clock.now)?;
        Ok(row)
    })
}

fn audit_bulletin(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    action: &str,
    row: &BulletinRow,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let summary = serde_json::json!({
        "id": row.id, "period": row.period, "status": row.status, "year": row.year,
        "number": row.number, "version": row.version,
    });
    audit::record_change(
        conn,
        actor,
        action,
        ("bulletin", row.id.0),
        None,
        Some(&summary),
        now,
    )
}

/// Loads a draft for a change, checking the version when one is given.
fn draft_for_change(
    conn: &mut DbConnection,
    id: BulletinId,
    version: Option<i64>,
) -> Result<BulletinRow> {
    crate::db::lock_row(conn, crate::db::Locked::Bulletins, id.0)?;
    let row = find(conn, id)?.ok_or(Error::NotFound)?;
    if row.is_published() {
        return Err(Conflict::BulletinPublished.into());
    }
    if let Some(sent) = version.filter(|v| *v != row.version) {
        return Err(Error::stale(sent, row.version));
    }
    Ok(row)
}

fn save_draft(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    row: &BulletinRow,
    snapshot: &Snapshot,
    action: &str,
    now: NaiveDateTime,
) -> Result<BulletinRow> {
    let saved: BulletinRow = diesel::update(
        bulletins::table
            .find(row.id)
            .filter(bulletins::version.eq(row.version))
            .filter(bulletins::status.eq(BulletinStatus::Draft)),
    )
    .set((
        bulletins::snapshot.eq(snapshot_json(snapshot)?),
        bulletins::version.eq(row.version + 1),
        bulletins::updated_at.eq(now),
    ))
    .returning(bulletins::all_columns)
    .get_result(conn)
    .optional()?
    .ok_or(Error::StaleVersion {
        sent: Some(row.version),
        current: row.version,
    })?;
    audit_bulletin(conn, actor, action, &saved, now)?;
    Ok(saved)
}

/// Rebuilds a draft's figures from today's data, keeping the office's edits.
pub fn regenerate(
    conn: &mut DbConnection,
    settings: &Settings,
    clock: &Clock,
    actor: Option<UserId>,
    id: BulletinId,
    version: Option<i64>,
) -> Result<BulletinRow> {
    conn.write(|conn| {
        let row = draft_for_change(conn, id, version)?;
        let old = row.snapshot()?;
        let period = Period {
            start: row.period_start,
            end: row.period_end,
        };
        let snapshot = build(conn, settings, clock, period, Some(&old))?;
        save_draft(conn, actor, &row, &snapshot, "regenerate", clock.now)
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RectificationEdit {
    pub unit_id: UnitId,
    pub requirement: Option<String>,
    /// YYYY-MM-DD; publishing keeps it instead of counting working days.
    pub deadline: Option<String>,
}

/// The free-text parts of a draft.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBulletin {
    pub version: i64,
    pub title: Option<String>,
    pub foreword: Option<String>,
    pub closing: Option<String>,
    #[serde(default)]
    pub rectifications: Vec<RectificationEdit>,
}

pub fn edit(
    conn: &mut DbConnection,
    clock: &Clock,
    actor: UserId,
    id: BulletinId,
    req: EditBulletin,
) -> Result<BulletinRow> {
    let mut v = Validator::default();
    let title = req
        .title
        .as_deref()
        .and_then(|t| v.check("title", BoundedText::parse(t, 200)));
    let foreword = req
        .foreword
        .as_deref()
        .and_then(|t| v.check("foreword", BoundedText::parse(t, 5000)));
    let closing = req
        .closing
        .as_deref()
        .and_then(|t| v.check("closing", BoundedText::parse(t, 5000)));
    let mut edits = Vec::new();
    for (i, e) in req.rectifications.iter().enumerate() {
        let requirement = e.requirement.as_deref().and_then(|t| {
            v.check(
                &format!("rectifications[{i}].requirement"),
                BoundedText::parse(t, 2000),
            )
        });
        let deadline = e.deadline.as_deref().and_then(|d| {
            v.check(
                &format!("rectifications[{i}].deadline"),
                crate::domain::values::parse_date(d),
            )
        });
        edits.push((i, e.unit_id, requirement, deadline));
    }
    conn.write(|conn| {
        let row = draft_for_change(conn, id, Some(req.version))?;
        let mut s = row.snapshot()?;
        for (i, unit, requirement, deadline) in edits {
            match s.rectifications.iter_mut().find(|r| r.unit_id == unit) {
                Some(r) => {
                    if let Some(text) = requirement {
                        r.requirement = text.into_inner();
                        r.requirement_edited = true;
                    }
                    if let Some(d) = deadline {
                        r.deadline = d;
                        r.deadline_fixed = true;
                    }
                }
                None => v.add(
                    &format!("rectifications[{i}].unit_id"),
                    Message::new(
                        "该单位不在本期通报批评之列",
                        "this unit is not criticised in the bulletin",
                    ),
                ),
            }
        }
        std::mem::take(&mut v).finish()?;
        if let Some(t) = title {
            s.title = t.into_inner();
        }
        if let Some(f) = foreword {
            s.foreword = f.into_inner();
            s.foreword_edited = true;
        }
        if let Some(c) = closing {
            s.closing = c.into_inner();
        }
        save_draft(conn, Some(actor), &row, &s, "update", clock.now)
    })
}

/// Deletes a draft (a published bulletin stays for ever).
pub fn delete_draft(
    conn: &mut DbConnection,
    actor: UserId,
    id: BulletinId,
    now: NaiveDateTime,
) -> Result<()> {
    conn.write(|conn| {
        let row = draft_for_change(conn, id, None)?;
        diesel::delete(
            bulletins::table
                .find(id)
                .filter(bulletins::status.eq(BulletinStatus::Draft)),
        )
        .execute(conn)?;
        audit_bulletin(conn, Some(actor), "delete", &row, now)?;
        Ok(())
    })
}
