//! 问责: the accountability records, and a record's page where the office
//! confirms or dismisses a proposal. The list, the record and the decision
//! are the API's service functions, so who sees what (a clerk the own
//! unit's, leaders nothing: 403) and the audit trail are the API's.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::accountability::{self as records, Filter, RecordView};
use crate::db::schema::{tasks, units, users};
use crate::domain::kinds::{AccountabilityLevel, RecordStatus};
use crate::domain::Role;
use crate::domain::{RecordId, UnitId};
use crate::http::problem::ApiError;
use crate::http::Paging;
use crate::state::AppState;
use crate::web::page::{
    filled, local_time, page_link, render, see_other, Choice, OrPage, PageError,
};
use crate::web::session::Person;

const PER_PAGE: i64 = 30;

/// The list's filters as the form sends them: empty fields mean "any".
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    unit_id: String,
    level: String,
    page: Option<i64>,
}

impl ListQuery {
    fn filter(&self) -> Filter {
        Filter {
            unit_id: self.unit_id.trim().parse().ok().map(UnitId),
            status: filled(&self.status),
            level: filled(&self.level),
            bulletin_id: None,
        }
    }

    /// The query string of page `page` with the same filters.
    fn page_link(&self, page: i64) -> String {
        page_link(
            "/accountability",
            &[
                ("status", &self.status),
                ("unit_id", &self.unit_id),
                ("level", &self.level),
            ],
            page,
        )
    }
}

#[derive(Serialize)]
struct Row {
    record: RecordView,
    unit: String,
    /// Local time of the configured zone.
    created: String,
}

#[derive(Serialize)]
struct ListPage {
    query: ListQuery,
    /// Empty for a unit clerk, who sees the own unit's records only.
    units: Vec<Choice>,
    levels: &'static [AccountabilityLevel],
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
}

fn unit_names(
    conn: &mut crate::db::DbConnection,
    ids: Vec<UnitId>,
) -> QueryResult<HashMap<UnitId, String>> {
    Ok(units::table
        .filter(units::id.eq_any(ids))
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect())
}

/// GET /accountability
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let query = query.into_inner();
    let filter = query.filter();
    let paging = Paging {
        page: query.page.unwrap_or(1).max(1),
        per_page: PER_PAGE,
    };
    let auth = person.auth.clone();
    let pick_unit = person.auth.role != Role::Unit;
    let (page, names, choices) = state
        .db(move |conn| {
            let page = records::list(conn, &auth, &filter, paging)?;
            let names = unit_names(conn, page.items.iter().map(|r| r.unit_id).collect())?;
            let choices: Vec<(i64, String)> = if pick_unit {
                units::table
                    .filter(units::active.eq(true))
                    .select((units::id, units::name))
                    .order(units::code.asc())
                    .load(conn)?
            } else {
                Vec::new()
            };
            Ok((page, names, choices))
        })
        .await
        .page(lang)?;
    let pages = ((page.total + PER_PAGE - 1) / PER_PAGE).max(1);
    let rows = page
        .items
        .into_iter()
        .map(|record| Row {
            unit: names.get(&record.unit_id).cloned().unwrap_or_default(),
            created: local_time(&state, record.created_at),
            record,
        })
        .collect();
    let shown = ListPage {
        prev: (paging.page > 1).then(|| query.page_link(paging.page - 1)),
        next: (paging.page < pages).then(|| query.page_link(paging.page + 1)),
        query,
        units: choices
            .into_iter()
            .map(|(id, name)| Choice { id, name })
            .collect(),
        levels: &AccountabilityLevel::ALL,
        rows,
        total: page.total,
        page: paging.page,
        pages,
    };
    render(
        StatusCode::OK,
        "accountability.html",
        lang,
        Some(&person),
        shown,
    )
}

/// A task the record concerns, as a link.
#[derive(Serialize)]
struct TaskLink {
    id: i64,
    code: String,
    title: String,
}

#[derive(Serialize)]
struct RecordPage {
    record: RecordView,
    unit: String,
    tasks: Vec<TaskLink>,
    decided_by: Option<String>,
    created: String,
    decided: Option<String>,
    /// The office may confirm or dismiss it now.
    can_decide: bool,
    /// Set when the decision failed: what went wrong, and what was typed.
    error: Option<String>,
    typed_note: String,
    flash: Option<String>,
}

/// How the record page is shown: after a decision that failed, or one that worked.
#[derive(Default)]
struct Shown {
    status: Option<StatusCode>,
    error: Option<String>,
    typed_note: String,
    flash: Option<String>,
}

async fn record_page(
    state: &AppState,
    person: &Person,
    id: i64,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let auth = person.auth.clone();
    let (record, unit, tasks, decided_by) = state
        .db(move |conn| {
            let record = records::find(conn, &auth, RecordId(id))?;
            let unit = unit_names(conn, vec![record.unit_id])?
                .remove(&record.unit_id)
                .unwrap_or_default();
            let tasks: Vec<(i64, String, String)> = tasks::table
                .filter(tasks::id.eq_any(record.task_ids.clone()))
                .select((tasks::id, tasks::code, tasks::title))
                .order(tasks::id.asc())
                .load(conn)?;
            let decided_by: Option<String> = match record.decided_by {
                Some(u) => users::table
                    .find(u)
                    .select(users::display_name)
                    .first(conn)
                    .optional()?,
                None => None,
            };
            Ok((record, unit, tasks, decided_by))
        })
        .await
        .page(lang)?;
    let page = RecordPage {
        unit,
        tasks: tasks
            .into_iter()
            .map(|(id, code, title)| TaskLink { id, code, title })
            .collect(),
        decided_by,
        created: local_time(state, record.created_at),
        decided: record.decided_at.map(|at| local_time(state, at)),
        can_decide: record.status == RecordStatus::Proposed
            && matches!(person.auth.role, Role::Office | Role::Admin),
        record,
        error: shown.error,
        typed_note: shown.typed_note,
        flash: shown.flash,
    };
    render(
        shown.status.unwrap_or(StatusCode::OK),
        "accountability_record.html",
        lang,
        Some(person),
        page,
    )
}

/// GET /accountability/{id}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let flash = query
        .get("done")
        .filter(|d| ["confirmed", "dismissed"].contains(&d.as_str()))
        .map(|key| crate::i18n::text(person.lang, &format!("done.{key}")).to_string());
    let shown = Shown {
        flash,
        ..Shown::default()
    };
    record_page(&state, &person, id.into_inner(), shown).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    /// `confirm` or `dismiss`: the button pressed.
    decision: String,
    note: String,
}

/// POST /accountability/{id}/decide: the office confirms or dismisses
/// (a dismissal with its reason).
pub async fn decide(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<DecideForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let confirm = match form.decision.as_str() {
        "confirm" => true,
        "dismiss" => false,
        _ => return Err(PageError::not_found(lang)),
    };
    let auth = person.auth.clone();
    let note = filled(&form.note);
    let now = chrono::Utc::now().naive_utc();
    let result = state
        .db(move |conn| {
            // The record must be one the person sees (404 as in the API).
            records::find(conn, &auth, RecordId(id))?;
            records::decide(conn, &auth, RecordId(id), confirm, note, now)
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!(
            "/accountability/{id}?done={}",
            row.status
        ))),
        Err(e) => failed(&state, &person, id, e, form.note).await,
    }
}

/// After a failed decision: the record page again with the reason in words
/// and the note as typed; 403 and 404 are pages of their own.
async fn failed(
    state: &AppState,
    person: &Person,
    id: i64,
    err: ApiError,
    typed_note: String,
) -> Result<HttpResponse, PageError> {
    let status = actix_web::ResponseError::status_code(&err);
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(person.lang, err));
    }
    let shown = Shown {
        status: Some(status),
        error: Some(err.sentence(person.lang)),
        typed_note,
        flash: None,
    };
    record_page(state, person, id, shown).await
}
