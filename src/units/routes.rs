//! `/api/v1/units`: list, read, create, change and delete units.

use actix_web::{web, HttpResponse};

use super::model::{CreateUnit, UnitFilter, UnitView, UpdateUnit};
use super::service;
use crate::auth::{AuthUser, Permission};
use crate::domain::UnitId;
use crate::http::problem::{ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/units")
            .route(web::get().to(list_units))
            .route(web::post().to(create_unit)),
    )
    .service(
        web::resource("/units/{id}")
            .route(web::get().to(get_unit))
            .route(web::patch().to(update_unit))
            .route(web::delete().to(delete_unit)),
    );
}

/// List units.
#[utoipa::path(get, path = "/api/v1/units", tag = "units", params(UnitFilter),
    responses((status = 200, body = Page<UnitView>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_units(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<UnitFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadUnits)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let page = state
        .db(move |conn| service::list(conn, &filter, paging))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read one unit.
#[utoipa::path(get, path = "/api/v1/units/{id}", tag = "units",
    responses((status = 200, body = UnitView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_unit(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadUnits)?;
    let id = UnitId(id.into_inner());
    let unit = state.db(move |conn| service::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(unit))
}

/// Create a unit (admin).
#[utoipa::path(post, path = "/api/v1/units", tag = "units", request_body = CreateUnit,
    responses((status = 201, body = UnitView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_unit(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<CreateUnit>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageUnits)?;
    let req = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| service::create(conn, auth.id, req, now))
        .await?;
    Ok(HttpResponse::Created().json(UnitView::from_row(row)?))
}

/// Change a unit (admin); `active: false` deactivates it. Send the `version` you read.
#[utoipa::path(patch, path = "/api/v1/units/{id}", tag = "units", request_body = UpdateUnit,
    responses((status = 200, body = UnitView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_unit(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<UpdateUnit>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageUnits)?;
    let id = UnitId(id.into_inner());
    let req = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| service::update(conn, auth.id, id, req, now))
        .await?;
    Ok(HttpResponse::Ok().json(UnitView::from_row(row)?))
}

/// Delete a unit nothing refers to (admin); otherwise 409 `unit_in_use`.
#[utoipa::path(delete, path = "/api/v1/units/{id}", tag = "units",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = [])))]
pub async fn delete_unit(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageUnits)?;
    let id = UnitId(id.into_inner());
    let now = chrono::Utc::now().naive_utc();
    state
        .db(move |conn| service::delete(conn, auth.id, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
