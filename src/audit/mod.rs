//! The audit trail: every change anywhere appends an entry (actor, action,
//! entity, before, after) whose hash covers the previous entry's hash, so a row
//! altered or deleted later breaks the chain at that point.

pub mod routes;

use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::schema::audit_log;
use crate::db::DbConnection;
use crate::domain::UserId;

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Queryable, Selectable, Serialize, utoipa::ToSchema)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub action: String,
    /// The kind of record changed; `entity_id` is an id of that kind.
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    #[serde(serialize_with = "crate::http::instant::utc")]
    #[schema(value_type = chrono::DateTime<chrono::Utc>)]
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

/// The hashed content of one entry.
struct Hashed<'a> {
    prev: &'a str,
    actor: Option<UserId>,
    action: &'a str,
    entity: &'a str,
    entity_id: Option<i64>,
    before: Option<&'a str>,
    after: Option<&'a str>,
    at: NaiveDateTime,
}

impl Hashed<'_> {
    fn hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed fields, so no two different entries hash the same text.
        for part in [
            self.prev.to_string(),
            self.actor.map_or_else(String::new, |a| a.to_string()),
            self.action.to_string(),
            self.entity.to_string(),
            self.entity_id.map_or_else(String::new, |e| e.to_string()),
            self.before.unwrap_or("").to_string(),
            self.after.unwrap_or("").to_string(),
            self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// One change to record.
pub struct Change<'a> {
    pub actor: Option<UserId>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Appends `change` to the chain. Call inside the write transaction of the
/// change itself, so the entry and the change commit or roll back together.
pub fn record(conn: &mut DbConnection, change: Change<'_>, now: NaiveDateTime) -> QueryResult<()> {
    crate::db::lock_rule(conn, crate::db::Rule::AuditChain)?;
    // Stored timestamps keep microseconds on every backend; hash what is stored.
    let at = now.trunc_subsecs(6);
    let prev: Option<String> = audit_log::table
        .select(audit_log::hash)
        .order(audit_log::id.desc())
        .first(conn)
        .optional()?;
    let prev = prev.unwrap_or_else(|| GENESIS.to_string());
    let before = change.before.map(|v| v.to_string());
    let after = change.after.map(|v| v.to_string());
    let actor = change.actor;
    let hash = Hashed {
        prev: &prev,
        actor,
        action: change.action,
        entity: change.entity,
        entity_id: change.entity_id,
        before: before.as_deref(),
        after: after.as_deref(),
        at,
    }
    .hash();
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::actor_id.eq(actor),
            audit_log::action.eq(change.action),
            audit_log::entity.eq(change.entity),
            audit_log::entity_id.eq(change.entity_id),
            audit_log::before_json.eq(before),
            audit_log::after_json.eq(after),
            audit_log::created_at.eq(at),
            audit_log::prev_hash.eq(&prev),
            audit_log::hash.eq(&hash),
        ))
        .execute(conn)?;
    Ok(())
}

/// Shorthand for the usual case: a serialisable record before and/or after.
pub fn record_change<T: Serialize>(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    action: &str,
    (entity, entity_id): (&str, i64),
    before: Option<&T>,
    after: Option<&T>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let to_value = |v: &T| serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    record(
        conn,
        Change {
            actor,
            action,
            entity,
            entity_id: Some(entity_id),
            before: before.map(to_value),
            after: after.map(to_value),
        },
        now,
    )
}

/// Which entries a reader of the trail asks for.
#[derive(Debug, Default, Clone)]
pub struct TrailFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<UserId>,
}

/// One page of the trail, newest first, for the API and the console.
pub fn list(
    conn: &mut DbConnection,
    filter: &TrailFilter,
    paging: crate::http::Paging,
) -> QueryResult<crate::http::Page<AuditRow>> {
    let query = || {
        let mut q = audit_log::table.into_boxed();
        if let Some(entity) = &filter.entity {
            q = q.filter(audit_log::entity.eq(entity.clone()));
        }
        if let Some(id) = filter.entity_id {
            q = q.filter(audit_log::entity_id.eq(id));
        }
        if let Some(actor) = filter.actor_id {
            q = q.filter(audit_log::actor_id.eq(actor));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query()
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok(crate::http::Page::new(rows, total, paging))
}

/// The kinds of record the trail holds, for the console's filter.
pub fn entities(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    audit_log::table
        .select(audit_log::entity)
        .distinct()
        .order(audit_log::entity.asc())
        .load(conn)
}

/// The outcome of checking the chain.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainCheck {
    Intact {
        entries: usize,
    },
    /// The first entry whose stored hash or link does not match.
    Broken {
        entry_id: i64,
        reason: BreakReason,
    },
}

/// Why an entry breaks the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// It links to a previous entry that is not there.
    Unlinked,
    /// Its content does not match its hash.
    Altered,
}

impl BreakReason {
    /// The reason in words, for the console and the command line.
    pub fn message(self) -> crate::domain::Message {
        match self {
            BreakReason::Unlinked => crate::domain::Message::new(
                "它指向的上一条记录不存在（有记录被删除或修改）",
                "links to a previous entry that is not there (an entry was deleted or altered)",
            ),
            BreakReason::Altered => crate::domain::Message::new(
                "内容与其哈希不符（该记录被修改过）",
                "its content does not match its hash (the entry was altered)",
            ),
        }
    }
}

impl std::fmt::Display for BreakReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message().en)
    }
}

/// Walks the chain oldest first and reports the first broken link.
pub fn verify(conn: &mut DbConnection) -> QueryResult<ChainCheck> {
    let rows: Vec<AuditRow> = audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.asc())
        .load(conn)?;
    let mut prev = GENESIS.to_string();
    for row in &rows {
        if row.prev_hash != prev {
            return Ok(ChainCheck::Broken {
                entry_id: row.id,
                reason: BreakReason::Unlinked,
            });
        }
        let expected = Hashed {
            prev: &row.prev_hash,
            actor: row.actor_id,
            action: &row.action,
            entity: &row.entity,
            entity_id: row.entity_id,
            before: row.before_json.as_deref(),
            after: row.after_json.as_deref(),
            at: row.created_at,
        }
        .hash();
        if expected != row.hash {
            return Ok(ChainCheck::Broken {
                entry_id: row.id,
                reason: BreakReason::Altered,
            });
        }
        prev = row.hash.clone();
    }
    Ok(ChainCheck::Intact {
        entries: rows.len(),
    })
}
