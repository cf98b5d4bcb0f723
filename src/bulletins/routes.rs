//! `/api/v1/bulletins`: drafts, edits, publishing and the renderings.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{BulletinRow, BulletinSummary, BulletinView, CreateBulletin, EditBulletin};
use crate::auth::{AuthUser, Permission};
use crate::domain::BulletinId;
use crate::http::download::{self, FileBytes, Format};
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{request_lang, JsonBody, OptionalJsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/bulletins")
            .route(web::get().to(list_bulletins))
            .route(web::post().to(create_bulletin)),
    )
    .service(
        web::resource("/bulletins/{id}")
            .route(web::get().to(get_bulletin))
            .route(web::patch().to(update_bulletin))
            .route(web::delete().to(delete_bulletin)),
    )
    .route(
        "/bulletins/{id}/regenerate",
        web::post().to(regenerate_bulletin),
    )
    .route("/bulletins/{id}/publish", web::post().to(publish_bulletin));
}

/// Whether the caller may read this bulletin: published ones are sent to
/// every unit; drafts only to those who read rankings.
pub fn readable(auth: &AuthUser, row: &BulletinRow) -> bool {
    row.is_published() || auth.require(Permission::ReadRankings).is_ok()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BulletinFilter {
    /// Year of publication.
    pub year: Option<i32>,
    /// draft or published
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Bulletins, newest period first. Unit clerks see the published ones.
#[utoipa::path(get, path = "/api/v1/bulletins", tag = "bulletins", params(BulletinFilter),
    responses((status = 200, body = Page<BulletinSummary>)), security(("bearer" = [])))]
pub async fn list_bulletins(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<BulletinFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let published_only = auth.require(Permission::ReadRankings).is_err();
    let page = state
        .db(move |conn| {
            super::list(
                conn,
                published_only,
                filter.year,
                filter.status.as_deref(),
                paging,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Draft the bulletin of a period (office): the ranking, overdue tasks,
/// criticism, commendation and rectification requirements as of now.
#[utoipa::path(post, path = "/api/v1/bulletins", tag = "bulletins", request_body = CreateBulletin,
    responses((status = 201, body = BulletinView), (status = 409, body = Problem, description = "bulletin_exists"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_bulletin(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<CreateBulletin>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageBulletins)?;
    let period = super::parse_period("period", &body.into_inner().period)?;
    let clock = state.clock();
    let settings = state.settings.clone();
    let row = state
        .db(move |conn| super::create(conn, &settings, &clock, Some(auth.id), period))
        .await?;
    Ok(HttpResponse::Created().json(BulletinView::of(&row)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RenderQuery {
    /// json (default), html (printable page), md, csv (the ranking) or xlsx
    /// (ranking and overdue sheets). Headings follow Accept-Language.
    pub format: Option<String>,
}

/// One bulletin, as JSON or rendered for print and spreadsheets.
#[utoipa::path(get, path = "/api/v1/bulletins/{id}", tag = "bulletins", params(RenderQuery),
    responses((status = 200, description = "the bulletin in the `format` asked for", content(
        (BulletinView = "application/json"), (String = "text/html"), (String = "text/markdown"),
        (String = "text/csv"), (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_bulletin(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<i64>,
    query: QueryParams<RenderQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let format = Format::parse(query.0.format.as_deref())?;
    let id = BulletinId(id.into_inner());
    let row = state
        .db(move |conn| Ok(super::find(conn, id)?))
        .await?
        .filter(|row| readable(&auth, row))
        .ok_or_else(ApiError::not_found)?;
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(BulletinView::of(&row)?));
    }
    let lang = request_lang(&req);
    let snapshot = row.snapshot()?;
    let name = super::files::file_name(&row);
    let bytes = web::block(move || super::files::file_bytes(&row, &snapshot, format, lang))
        .await?
        .map_err(ApiError::internal)?;
    Ok(download::file(bytes, format, &name, format == Format::Html))
}

/// Edit a draft's free text: title, foreword, closing, and each criticised
/// unit's requirement and deadline.
#[utoipa::path(patch, path = "/api/v1/bulletins/{id}", tag = "bulletins", request_body = EditBulletin,
    responses((status = 200, body = BulletinView), (status = 409, body = Problem, description = "bulletin_published or version_conflict"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update_bulletin(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<EditBulletin>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageBulletins)?;
    let (id, req) = (BulletinId(id.into_inner()), body.into_inner());
    let clock = state.clock();
    let row = state
        .db(move |conn| super::edit(conn, &clock, auth.id, id, req))
        .await?;
    Ok(HttpResponse::Ok().json(BulletinView::of(&row)?))
}

/// Delete a draft.
#[utoipa::path(delete, path = "/api/v1/bulletins/{id}", tag = "bulletins",
    responses((status = 204), (status = 409, body = Problem, description = "bulletin_published")), security(("bearer" = [])))]
pub async fn delete_bulletin(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageBulletins)?;
    let id = BulletinId(id.into_inner());
    let now = chrono::Utc::now().naive_utc();
    state
        .db(move |conn| super::delete_draft(conn, auth.id, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionBody {
    /// When given, the draft must still be at this version.
    pub version: Option<i64>,
}

/// Rebuild a draft from today's data, keeping the office's edits.
#[utoipa::path(post, path = "/api/v1/bulletins/{id}/regenerate", tag = "bulletins", request_body = Option<VersionBody>,
    responses((status = 200, body = BulletinView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn regenerate_bulletin(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: OptionalJsonBody<VersionBody>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageBulletins)?;
    let id = BulletinId(id.into_inner());
    let version = body.into_inner().and_then(|b| b.version);
    let clock = state.clock();
    let settings = state.settings.clone();
    let row = state
        .db(move |conn| super::regenerate(conn, &settings, &clock, Some(auth.id), id, version))
        .await?;
    Ok(HttpResponse::Ok().json(BulletinView::of(&row)?))
}

/// Publish a draft: freeze and number it, create the rectification tasks and
/// accountability proposals, and email it to every unit. Publishing again
/// answers with the published bulletin and changes nothing.
#[utoipa::path(post, path = "/api/v1/bulletins/{id}/publish", tag = "bulletins",
    responses((status = 200, body = BulletinView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn publish_bulletin(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageBulletins)?;
    let id = BulletinId(id.into_inner());
    let clock = state.clock();
    let settings = state.settings.clone();
    let (row, _) = state
        .db(move |conn| super::publish::publish(conn, &settings, &clock, Some(auth.id), id))
        .await?;
    Ok(HttpResponse::Ok().json(BulletinView::of(&row)?))
}
