//! `/api/v1/accountability`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::{CreateRecord, Filter, RecordView};
use crate::auth::{AuthUser, Permission};
use crate::domain::{BulletinId, RecordId, UnitId};
use crate::http::problem::{ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/accountability")
            .route(web::get().to(list_records))
            .route(web::post().to(create_record)),
    )
    .route("/accountability/{id}", web::get().to(get_record))
    .route(
        "/accountability/{id}/confirm",
        web::post().to(confirm_record),
    )
    .route(
        "/accountability/{id}/dismiss",
        web::post().to(dismiss_record),
    );
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordFilter {
    pub unit_id: Option<UnitId>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub bulletin_id: Option<BulletinId>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Accountability records, newest first. A unit clerk sees the own unit's.
#[utoipa::path(get, path = "/api/v1/accountability", tag = "accountability", params(RecordFilter),
    responses((status = 200, body = Page<RecordView>)), security(("bearer" = [])))]
pub async fn list_records(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<RecordFilter>,
) -> ApiResult<HttpResponse> {
    let q = query.0;
    let paging = Paging::parse(q.page, q.per_page)?;
    let filter = Filter {
        unit_id: q.unit_id,
        status: q.status,
        level: q.level,
        bulletin_id: q.bulletin_id,
    };
    let page = state
        .db(move |conn| super::list(conn, &auth, &filter, paging))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One accountability record; a unit clerk's own unit's only (404 otherwise).
#[utoipa::path(get, path = "/api/v1/accountability/{id}", tag = "accountability",
    responses((status = 200, body = RecordView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = RecordId(id.into_inner());
    let record = state.db(move |conn| super::find(conn, &auth, id)).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// Record an accountability measure (office); confirmed at once.
#[utoipa::path(post, path = "/api/v1/accountability", tag = "accountability", request_body = CreateRecord,
    responses((status = 201, body = RecordView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<CreateRecord>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let req = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| super::create(conn, auth.id, req, now))
        .await?;
    Ok(HttpResponse::Created().json(RecordView::from(row)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Required to dismiss.
    pub note: Option<String>,
}

/// Confirm a proposal (office).
#[utoipa::path(post, path = "/api/v1/accountability/{id}/confirm", tag = "accountability", request_body = Decision,
    responses((status = 200, body = RecordView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn confirm_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<Decision>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        auth,
        RecordId(id.into_inner()),
        true,
        body.into_inner(),
    )
    .await
}

/// Dismiss a proposal with a reason (office).
#[utoipa::path(post, path = "/api/v1/accountability/{id}/dismiss", tag = "accountability", request_body = Decision,
    responses((status = 200, body = RecordView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn dismiss_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<Decision>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        auth,
        RecordId(id.into_inner()),
        false,
        body.into_inner(),
    )
    .await
}

async fn decide(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: RecordId,
    confirm: bool,
    body: Decision,
) -> ApiResult<HttpResponse> {
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| super::decide(conn, &auth, id, confirm, body.note, now))
        .await?;
    Ok(HttpResponse::Ok().json(RecordView::from(row)))
}
