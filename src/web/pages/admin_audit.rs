//! 系统管理 · 审计 (admin only): the audit trail, newest first, paged and
//! filtered by entity and actor (`audit::list`, as `GET /api/v1/audit`), and
//! `校验审计链`, which runs `audit::verify`, the check `duban audit verify`
//! makes, and says whether the chain is intact or where it first breaks.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::admin_units::admin_only;
use crate::audit::{self, ChainCheck, TrailFilter};
use crate::auth::Permission;
use crate::domain::UserId;
use crate::http::Paging;
use crate::state::AppState;
use crate::users::model::UserFilter;
use crate::web::page::{filled, local_time, page_link, render, Choice, OrPage, PageError};
use crate::web::session::Person;

/// Entries a page shows.
const PER_PAGE: i64 = 50;

/// The page's filters as the query gives them (strings, so that a cleared
/// select is no error).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    entity: String,
    actor: String,
    page: String,
}

impl AuditQuery {
    fn link(&self, page: i64) -> String {
        page_link(
            "/admin/audit",
            &[("entity", &self.entity), ("actor", &self.actor)],
            page,
        )
    }
}

#[derive(Serialize)]
struct Entry {
    id: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    entity_id: Option<i64>,
    before: Option<String>,
    after: Option<String>,
}

/// What `校验审计链` found.
#[derive(Serialize)]
struct Verdict {
    intact: bool,
    entries: usize,
    entry_id: Option<i64>,
    reason: String,
}

#[derive(Serialize)]
struct AuditPage {
    entries: Vec<Entry>,
    entities: Vec<String>,
    actors: Vec<Choice>,
    entity: String,
    actor: String,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    verdict: Option<Verdict>,
}

async fn audit_page(
    state: &AppState,
    person: &Person,
    query: AuditQuery,
    verdict: Option<Verdict>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    admin_only(person, Permission::Administer)?;
    let page = query.page.trim().parse::<i64>().unwrap_or(1).max(1);
    let paging = Paging {
        page,
        per_page: PER_PAGE,
    };
    let filter = TrailFilter {
        entity: filled(&query.entity),
        entity_id: None,
        actor_id: query.actor.trim().parse().ok().map(UserId),
    };
    let auth = person.auth.clone();
    let (trail, entities, users) = state
        .db(move |conn| {
            let trail = audit::list(conn, &filter, paging)?;
            let entities = audit::entities(conn)?;
            let users = crate::users::service::list(
                conn,
                &auth,
                &UserFilter::default(),
                Paging {
                    page: 1,
                    per_page: 1000,
                },
            )?;
            Ok((trail, entities, users.items))
        })
        .await
        .page(lang)?;
    let names: HashMap<UserId, String> = users
        .iter()
        .map(|u| (u.id, format!("{}（{}）", u.display_name, u.username)))
        .collect();
    let entries = trail
        .items
        .into_iter()
        .map(|row| Entry {
            id: row.id,
            at: local_time(state, row.created_at.and_utc()),
            actor: row
                .actor_id
                .map(|a| {
                    names
                        .get(&a)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", a.0))
                })
                .unwrap_or_default(),
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            before: row.before_json,
            after: row.after_json,
        })
        .collect();
    let pages = ((trail.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let body = AuditPage {
        entries,
        entities,
        actors: users
            .into_iter()
            .map(|u| Choice {
                id: u.id.0,
                name: format!("{}（{}）", u.display_name, u.username),
            })
            .collect(),
        prev: (page > 1).then(|| query.link(page - 1)),
        next: (page < pages).then(|| query.link(page + 1)),
        entity: query.entity,
        actor: query.actor,
        total: trail.total,
        page,
        pages,
        verdict,
    };
    render(StatusCode::OK, "admin_audit.html", lang, Some(person), body)
}

/// GET /admin/audit
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    audit_page(&state, &person, query.into_inner(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerifyForm {
    csrf: String,
}

/// POST /admin/audit/verify: `校验审计链`, answered on the trail's page.
pub async fn verify(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::Administer)?;
    let lang = person.lang;
    let check = state.db(|conn| Ok(audit::verify(conn)?)).await.page(lang)?;
    let verdict = match check {
        ChainCheck::Intact { entries } => Verdict {
            intact: true,
            entries,
            entry_id: None,
            reason: String::new(),
        },
        ChainCheck::Broken { entry_id, reason } => Verdict {
            intact: false,
            entries: 0,
            entry_id: Some(entry_id),
            reason: reason.message().get(lang).to_string(),
        },
    };
    audit_page(&state, &person, AuditQuery::default(), Some(verdict)).await
}
