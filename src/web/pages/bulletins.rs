//! 督查通报: the bulletins list with the office's draft form, a draft's edit
//! form (title, foreword, closing, each rectification's requirement and
//! deadline), its preview and the 发布 step behind a confirmation page, and a
//! published bulletin read-only with its downloads. Every step calls the
//! same service function as `/api/v1/bulletins…`, under the API's rules:
//! drafts only for those who read rankings, changes only for the office.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use crate::auth::Permission;
use crate::bulletins::routes::readable;
use crate::bulletins::{self, BulletinRow, BulletinSummary, EditBulletin, RectificationEdit};
use crate::domain::BulletinId;
use crate::http::download::{self, Format};
use crate::http::problem::ApiError;
use crate::http::Paging;
use crate::i18n;
use crate::state::AppState;
use crate::web::page::{render, see_other, OrPage, PageError};
use crate::web::session::Person;

/// The API's refusal as a page: 403 for a step the role may not take.
fn allowed(person: &Person, permission: Permission) -> Result<(), PageError> {
    person
        .auth
        .require(permission)
        .map_err(|e| PageError::from_api(person.lang, e))
}

#[derive(Serialize)]
struct ListPage {
    bulletins: Vec<BulletinSummary>,
    can_draft: bool,
    period: String,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    person: &Person,
    status: StatusCode,
    period: String,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    allowed(person, Permission::ReadTasks)?;
    let published_only = person.auth.require(Permission::ReadRankings).is_err();
    let paging = Paging {
        page: 1,
        per_page: 200,
    };
    let page = state
        .db(move |conn| bulletins::list(conn, published_only, None, None, paging))
        .await
        .page(lang)?;
    let page = ListPage {
        bulletins: page.items,
        can_draft: person.auth.require(Permission::ManageBulletins).is_ok(),
        period,
        error,
    };
    render(status, "bulletins.html", lang, Some(person), page)
}

/// GET /bulletins
pub async fn list(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    list_page(&state, &person, StatusCode::OK, String::new(), None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DraftForm {
    csrf: String,
    period: String,
}

/// POST /bulletins: draft the bulletin of a period.
pub async fn draft(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<DraftForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    allowed(&person, Permission::ManageBulletins)?;
    let clock = state.clock();
    let settings = state.settings.clone();
    let actor = person.auth.id;
    let text = form.period.trim().to_string();
    let result = state
        .db(move |conn| {
            let period = bulletins::parse_period("period", &text)?;
            bulletins::create(conn, &settings, &clock, Some(actor), period)
        })
        .await;
    match result {
        Ok(row) => Ok(see_other(&format!("/bulletins/{}?done=drafted", row.id.0))),
        Err(e) => {
            let e = refused_outright(&person, e)?;
            let status = e.status_code();
            let error = Some(e.sentence(person.lang));
            list_page(&state, &person, status, form.period, error).await
        }
    }
}

/// 403, 404 and server errors are pages of their own; other refusals are
/// told on the form's page, with this status.
fn refused_outright(person: &Person, err: ApiError) -> Result<ApiError, PageError> {
    let status = err.status_code();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(person.lang, err));
    }
    Ok(err)
}

/// The bulletin the person may read, else a 404 page as in the API.
async fn readable_row(
    state: &AppState,
    person: &Person,
    id: BulletinId,
) -> Result<BulletinRow, PageError> {
    allowed(person, Permission::ReadTasks)?;
    let auth = person.auth.clone();
    state
        .db(move |conn| Ok(bulletins::find(conn, id)?))
        .await
        .page(person.lang)?
        .filter(|row| readable(&auth, row))
        .ok_or_else(|| PageError::not_found(person.lang))
}

#[derive(Serialize)]
struct ShowPage {
    id: i64,
    period: String,
    status: String,
    number_label: Option<String>,
    version: i64,
    snapshot: bulletins::Snapshot,
    /// The draft's edit form and 发布 are offered.
    can_edit: bool,
    flash: Option<String>,
    error: Option<String>,
}

async fn show_page(
    state: &AppState,
    person: &Person,
    id: BulletinId,
    status: StatusCode,
    flash: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let row = readable_row(state, person, id).await?;
    let snapshot = row.snapshot().map_err(|e| PageError::internal(lang, e))?;
    let page = ShowPage {
        id: row.id.0,
        period: row.period.clone(),
        status: row.status.as_str().to_string(),
        number_label: row.number_label(),
        version: row.version,
        snapshot,
        can_edit: !row.is_published() && person.auth.require(Permission::ManageBulletins).is_ok(),
        flash,
        error,
    };
    render(status, "bulletin.html", lang, Some(person), page)
}

/// GET /bulletins/{id}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let flash = query
        .get("done")
        .filter(|d| ["drafted", "saved", "published"].contains(&d.as_str()))
        .map(|d| i18n::text(person.lang, &format!("bulletin.done_{d}")).to_string());
    let id = BulletinId(id.into_inner());
    show_page(&state, &person, id, StatusCode::OK, flash, None).await
}

/// The changed text of a field: `None` when it is what the page showed, so
/// saving the form untouched marks nothing as the office's edit.
fn changed(sent: Option<&String>, shown: &str) -> Option<String> {
    sent.filter(|s| s.as_str() != shown).cloned()
}

/// POST /bulletins/{id}: save the edit form, at the version the page showed.
pub async fn save(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = form.into_inner();
    person.check_csrf(form.get("csrf").map_or("", String::as_str))?;
    allowed(&person, Permission::ManageBulletins)?;
    let id = BulletinId(id.into_inner());
    let row = readable_row(&state, &person, id).await?;
    let shown = row.snapshot().map_err(|e| PageError::internal(lang, e))?;
    // A version the page did not write is as stale as an old one.
    let version = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let rectifications = shown
        .rectifications
        .iter()
        .map(|r| RectificationEdit {
            unit_id: r.unit_id,
            requirement: changed(
                form.get(&format!("requirement.{}", r.unit_id.0)),
                &r.requirement,
            ),
            deadline: changed(
                form.get(&format!("deadline.{}", r.unit_id.0)),
                &r.deadline.to_string(),
            ),
        })
        .filter(|e| e.requirement.is_some() || e.deadline.is_some())
        .collect();
    let req = EditBulletin {
        version,
        title: changed(form.get("title"), &shown.title),
        foreword: changed(form.get("foreword"), &shown.foreword),
        closing: changed(form.get("closing"), &shown.closing),
        rectifications,
    };
    let clock = state.clock();
    let actor = person.auth.id;
    let result = state
        .db(move |conn| bulletins::edit(conn, &clock, actor, id, req))
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/bulletins/{}?done=saved", id.0))),
        Err(e) => {
            let e = refused_outright(&person, e)?;
            let status = e.status_code();
            let error = if e.is_version_conflict() {
                i18n::text(lang, "bulletin.stale").to_string()
            } else {
                e.sentence(lang)
            };
            show_page(&state, &person, id, status, None, Some(error)).await
        }
    }
}

#[derive(Serialize)]
struct ConfirmPage {
    id: i64,
    period: String,
    title: String,
    criticised: Vec<String>,
    error: Option<String>,
}

async fn confirm_page(
    state: &AppState,
    person: &Person,
    id: BulletinId,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    allowed(person, Permission::ManageBulletins)?;
    let row = readable_row(state, person, id).await?;
    if row.is_published() {
        return Ok(see_other(&format!("/bulletins/{}", id.0)));
    }
    let s = row.snapshot().map_err(|e| PageError::internal(lang, e))?;
    let page = ConfirmPage {
        id: id.0,
        period: row.period.clone(),
        title: s.title,
        criticised: s.rectifications.into_iter().map(|r| r.unit_name).collect(),
        error,
    };
    render(status, "bulletin_publish.html", lang, Some(person), page)
}

/// GET /bulletins/{id}/publish: what publishing does, and the form to do it.
pub async fn confirm(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let id = BulletinId(id.into_inner());
    confirm_page(&state, &person, id, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PublishForm {
    csrf: String,
    /// The required checkbox: `yes` when ticked.
    confirm: String,
}

/// POST /bulletins/{id}/publish: publish, once the box is ticked.
pub async fn publish(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<PublishForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    allowed(&person, Permission::ManageBulletins)?;
    let id = BulletinId(id.into_inner());
    if form.confirm != "yes" {
        let error = i18n::text(lang, "bulletin.confirm_required").to_string();
        return confirm_page(
            &state,
            &person,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error),
        )
        .await;
    }
    // Only a bulletin the person may read is published (404 otherwise).
    readable_row(&state, &person, id).await?;
    let clock = state.clock();
    let settings = state.settings.clone();
    let actor = person.auth.id;
    let result = state
        .db(move |conn| {
            bulletins::publish::publish(conn, &settings, &clock, Some(actor), id).map(|(r, _)| r)
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/bulletins/{}?done=published", id.0))),
        Err(e) => {
            let e = refused_outright(&person, e)?;
            let status = e.status_code();
            confirm_page(&state, &person, id, status, Some(e.sentence(lang))).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    format: Option<String>,
}

/// GET /bulletins/{id}/file?format=html|md|csv|xlsx: the preview and the
/// downloads, the same bytes as `GET /api/v1/bulletins/{id}?format=…`.
pub async fn file(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<FileQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let format = match Format::parse(query.format.as_deref()) {
        Ok(Format::Json) | Err(_) => return Err(PageError::not_found(lang)),
        Ok(f) => f,
    };
    let row = readable_row(&state, &person, BulletinId(id.into_inner())).await?;
    let snapshot = row.snapshot().map_err(|e| PageError::internal(lang, e))?;
    let name = bulletins::files::file_name(&row);
    let bytes = web::block(move || bulletins::files::file_bytes(&row, &snapshot, format, lang))
        .await
        .map_err(|e| PageError::internal(lang, e))?
        .map_err(|e| PageError::internal(lang, e))?;
    let mut res = download::file(bytes, format, &name, format == Format::Html);
    // The printable page carries its own <style>; nothing else may load or
    // run in it.
    res.headers_mut().insert(
        actix_web::http::header::CONTENT_SECURITY_POLICY,
        actix_web::http::header::HeaderValue::from_static(PREVIEW_CSP),
    );
    Ok(res)
}

/// The policy of the preview and downloads: inline styles only.
const PREVIEW_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
