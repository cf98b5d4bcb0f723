//! `/api/v1/accountability`.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;

use super::{CreateRecord, RecordRow, RecordView};
use crate::auth::{AuthUser, Permission};
use crate::db::schema::accountability_records as records;
use crate::http::problem::{ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/accountability")
            .route(web::get().to(list_records))
            .route(web::post().to(create_record)),
    )
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
    pub unit_id: Option<i64>,
    pub status: Option<String>,
    pub level: Option<String>,
    pub bulletin_id: Option<i64>,
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
    auth.require(Permission::ReadTasks)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let own = auth.unit_records_scope()?;
    let page = state
        .db_api(move |conn| {
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
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
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
        .db_api(move |conn| super::create(conn, auth.id, req, now))
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
    decide(state, auth, id.into_inner(), true, body.into_inner()).await
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
    decide(state, auth, id.into_inner(), false, body.into_inner()).await
}

async fn decide(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: i64,
    confirm: bool,
    body: Decision,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db_api(move |conn| super::decide(conn, auth.id, id, confirm, body.note, now))
        .await?;
    Ok(HttpResponse::Ok().json(RecordView::from(row)))
}
