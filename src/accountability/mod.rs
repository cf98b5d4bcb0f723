//! Accountability records (问责): proposals from the escalation ladder and
//! from published bulletins, or entries by the office, which the office confirms
//! or dismisses with a note.

pub mod routes;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::accountability_records as records;
use crate::db::DbConnection;
use crate::domain::kinds::{AccountabilityLevel, RecordSource, RecordStatus};
use crate::domain::values::BoundedText;
use crate::domain::{BulletinId, Message, RecordId, UnitId, UserId};
use crate::error::{Conflict, Error, Result, Validator};
use crate::http::{Page, Paging};

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = records)]
pub struct RecordRow {
    pub id: RecordId,
    pub unit_id: UnitId,
    pub user_id: Option<UserId>,
    pub level: AccountabilityLevel,
    pub reason: String,
    pub task_ids: String,
    pub source: RecordSource,
    pub status: RecordStatus,
    pub dedupe_key: Option<String>,
    pub created_by: Option<UserId>,
    pub decided_by: Option<UserId>,
    pub decision_note: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub bulletin_id: Option<BulletinId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub id: RecordId,
    pub unit_id: UnitId,
    /// The person concerned, if any.
    pub user_id: Option<UserId>,
    pub level: AccountabilityLevel,
    pub reason: String,
    pub task_ids: Vec<i64>,
    pub source: RecordSource,
    pub status: RecordStatus,
    pub decided_by: Option<UserId>,
    pub decision_note: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The bulletin that named the unit, for records from a bulletin.
    pub bulletin_id: Option<BulletinId>,
}

impl From<RecordRow> for RecordView {
    fn from(r: RecordRow) -> Self {
        RecordView {
            id: r.id,
            unit_id: r.unit_id,
            user_id: r.user_id,
            level: r.level,
            reason: r.reason,
            task_ids: serde_json::from_str(&r.task_ids).unwrap_or_default(),
            source: r.source,
            status: r.status,
            decided_by: r.decided_by,
            decision_note: r.decision_note,
            decided_at: r.decided_at.map(|d| d.and_utc()),
            created_at: r.created_at.and_utc(),
            bulletin_id: r.bulletin_id,
        }
    }
}

/// A proposal from the ladder's last rung. Its dedupe key is the notice's,
/// so it exists once.
pub struct Proposal<'a> {
    pub unit_id: i64,
    pub task_ids: &'a [i64],
    pub reason: &'a str,
    pub dedupe_key: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = records)]
// None is NULL, not DEFAULT: SQLite has no DEFAULT in a multi-row VALUES,
// and diesel would insert such rows one by one.
#[diesel(treat_none_as_default_value = false)]
struct NewProposal<'a> {
    unit_id: i64,
    level: AccountabilityLevel,
    reason: &'a str,
    task_ids: String,
    source: RecordSource,
    status: RecordStatus,
    dedupe_key: Option<&'a str>,
    created_at: NaiveDateTime,
}

/// Proposals per INSERT: eight values a row, well under SQLite's 32,766.
const PROPOSALS_PER_INSERT: usize = 1000;

/// Writes `proposals` in the caller's transaction (the scan's), a multi-row
/// INSERT that skips those already there: each one's record id, in order,
/// which its notice links to. A proposal written by an earlier scan keeps
/// its record; one another scan is writing at the same instant is waited
/// for (PostgreSQL) and then read like an earlier one.
pub fn propose_all(
    conn: &mut DbConnection,
    proposals: &[Proposal],
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    let mut ids: std::collections::HashMap<String, i64> = Default::default();
    for chunk in proposals.chunks(PROPOSALS_PER_INSERT) {
        let rows: Vec<NewProposal> = chunk
            .iter()
            .map(|p| NewProposal {
                unit_id: p.unit_id,
                level: AccountabilityLevel::Accountability,
                reason: p.reason,
                task_ids: serde_json::json!(p.task_ids).to_string(),
                source: RecordSource::Ladder,
                status: RecordStatus::Proposed,
                dedupe_key: Some(p.dedupe_key),
                created_at: now,
            })
            .collect();
        let got: Vec<(i64, Option<String>)> = crate::db::per_backend!(conn, c => diesel::insert_into(records::table)
                .values(&rows)
                .on_conflict(records::dedupe_key)
                .do_nothing()
                .returning((records::id, records::dedupe_key))
                .get_results(c))?;
        ids.extend(got.into_iter().filter_map(|(id, key)| Some((key?, id))));
    }
    let there: Vec<&str> = proposals
        .iter()
        .map(|p| p.dedupe_key)
        .filter(|k| !ids.contains_key(*k))
        .collect();
    for chunk in there.chunks(PROPOSALS_PER_INSERT) {
        let got: Vec<(i64, Option<String>)> = records::table
            .filter(records::dedupe_key.eq_any(chunk))
            .select((records::id, records::dedupe_key))
            .load(conn)?;
        ids.extend(got.into_iter().filter_map(|(id, key)| Some((key?, id))));
    }
    proposals
        .iter()
        .map(|p| {
            ids.get(p.dedupe_key)
                .copied()
                .ok_or(diesel::result::Error::NotFound)
        })
        .collect()
}

/// What a list of records is narrowed to; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub unit_id: Option<UnitId>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub bulletin_id: Option<BulletinId>,
}

/// The unit whose records `auth` reads (`None`: all), after checking that
/// the role reads records at all: leaders get 403, as in the API.
fn scope(auth: &AuthUser) -> Result<Option<UnitId>> {
    auth.permit(Permission::ReadTasks)?;
    auth.records_scope()
}

/// Records newest first: a unit clerk the own unit's, office, admin and
/// viewers all of them.
pub fn list(
    conn: &mut DbConnection,
    auth: &AuthUser,
    filter: &Filter,
    paging: Paging,
) -> Result<Page<RecordView>> {
    let own = scope(auth)?;
    let query = || {
        let mut q = records::table.into_boxed();
        if let Some(u) = own {
            q = q.filter(records::unit_id.eq(u));
        }
        if let Some(u) = filter.unit_id {
            q = q.filter(records::unit_id.eq(u));
        }
        if let Some(s) = &filter.status {
            q = q.filter(records::status.eq(s.clone()));
        }
        if let Some(b) = filter.bulletin_id {
            q = q.filter(records::bulletin_id.eq(b));
        }
        if let Some(l) = &filter.level {
            q = q.filter(records::level.eq(l.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<RecordRow> = query()
        .select(RecordRow::as_select())
        .order(records::id.desc())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok(Page::new(
        rows.into_iter().map(RecordView::from).collect(),
        total,
        paging,
    ))
}

/// One record, for whoever may read it; 404 for a record of another unit,
/// as for one that does not exist.
pub fn find(conn: &mut DbConnection, auth: &AuthUser, id: RecordId) -> Result<RecordView> {
    let own = scope(auth)?;
    let mut q = records::table.filter(records::id.eq(id)).into_boxed();
    if let Some(u) = own {
        q = q.filter(records::unit_id.eq(u));
    }
    q.select(RecordRow::as_select())
        .first(conn)
        .optional()?
        .map(RecordView::from)
        .ok_or(Error::NotFound)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRecord {
    pub unit_id: UnitId,
    pub user_id: Option<UserId>,
    pub level: String,
    pub reason: String,
    #[serde(default)]
    pub task_ids: Vec<i64>,
    /// The bulletin the measure follows from, if any.
    pub bulletin_id: Option<BulletinId>,
}

/// A record entered by the office: confirmed at once.
pub fn create(
    conn: &mut DbConnection,
    actor: UserId,
    req: CreateRecord,
    now: NaiveDateTime,
) -> Result<RecordRow> {
    let mut v = Validator::default();
    let level = AccountabilityLevel::parse(&req.level);
    if let Err(m) = &level {
        v.add("level", m.clone());
    }
    let reason = v.check("reason", BoundedText::parse(&req.reason, 2000));
    let Some(reason) = reason else {
        return Err(v.into_error());
    };
    conn.write(|conn| {
        if crate::units::service::find(conn, req.unit_id)?.is_none() {
            v.add("unit_id", Message::new("单位不存在", "no such unit"));
        }
        if let Some(user) = req.user_id {
            if crate::users::service::find(conn, user)?.is_none() {
                v.add("user_id", Message::new("用户不存在", "no such user"));
            }
        }
        if let Some(b) = req.bulletin_id {
            if crate::bulletins::find(conn, b)?.is_none() {
                v.add(
                    "bulletin_id",
                    Message::new("督查通报不存在", "no such bulletin"),
                );
            }
        }
        std::mem::take(&mut v).finish()?;
        // Reported above with the other fields; not reached when wrong.
        let level = level.map_err(|m| Error::invalid_field("level", m))?;
        let row: RecordRow = diesel::insert_into(records::table)
            .values((
                records::unit_id.eq(req.unit_id),
                records::user_id.eq(req.user_id),
                records::level.eq(level),
                records::reason.eq(reason.as_str()),
                records::task_ids.eq(serde_json::json!(req.task_ids).to_string()),
                records::source.eq(RecordSource::Office),
                records::bulletin_id.eq(req.bulletin_id),
                records::status.eq(RecordStatus::Confirmed),
                records::created_by.eq(actor.0),
                records::decided_by.eq(actor.0),
                records::decided_at.eq(now),
                records::created_at.eq(now),
            ))
            .returning(records::all_columns)
            .get_result(conn)?;
        audit::record_change(
            conn,
            Some(actor),
            "create",
            ("accountability", row.id.0),
            None,
            Some(&row),
            now,
        )?;
        Ok(row)
    })
}

/// Confirms or dismisses a proposal (office, admin: 403 for others); a
/// dismissal needs a note.
pub fn decide(
    conn: &mut DbConnection,
    auth: &AuthUser,
    id: RecordId,
    confirm: bool,
    note: Option<String>,
    now: NaiveDateTime,
) -> Result<RecordRow> {
    auth.permit(Permission::ManageTasks)?;
    let actor = auth.id;
    let note = match note.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(n) => Some(
            BoundedText::parse(n, 2000)
                .map_err(|m| Error::invalid_field("note", m))?
                .into_inner(),
        ),
        None if !confirm => {
            return Err(Error::invalid_field(
                "note",
                Message::new("不予问责须说明理由", "dismissing needs a reason"),
            ))
        }
        None => None,
    };
    conn.write(|conn| {
        crate::db::lock_row(conn, crate::db::Locked::AccountabilityRecords, id.0)?;
        let current: RecordRow = records::table
            .find(id)
            .select(RecordRow::as_select())
            .first(conn)
            .optional()?
            .ok_or(Error::NotFound)?;
        if current.status != RecordStatus::Proposed {
            return Err(Conflict::RecordDecided {
                status: current.status,
            }
            .into());
        }
        let status = if confirm {
            RecordStatus::Confirmed
        } else {
            RecordStatus::Dismissed
        };
        let row: RecordRow = diesel::update(records::table.find(id))
            .set((
                records::status.eq(status),
                records::decided_by.eq(actor.0),
                records::decision_note.eq(&note),
                records::decided_at.eq(now),
            ))
            .returning(records::all_columns)
            .get_result(conn)?;
        audit::record_change(
            conn,
            Some(actor),
            status.as_str(),
            ("accountability", id.0),
            Some(&current),
            Some(&row),
            now,
        )?;
        Ok(row)
    })
}
