//! `/api/v1/plans`.

use actix_web::{web, HttpResponse};

use super::model::{CreatePlan, PlanFilter, PlanView, UpdatePlan};
use super::service;
use crate::auth::{AuthUser, Permission};
use crate::domain::PlanId;
use crate::http::problem::{ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/plans")
            .route(web::get().to(list_plans))
            .route(web::post().to(create_plan)),
    )
    .service(
        web::resource("/plans/{id}")
            .route(web::get().to(get_plan))
            .route(web::patch().to(update_plan)),
    );
}

/// List plans.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", params(PlanFilter),
    responses((status = 200, body = Page<PlanView>)), security(("bearer" = [])))]
pub async fn list_plans(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<PlanFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let page = state
        .db(move |conn| service::list(conn, &filter, paging))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read a plan.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans",
    responses((status = 200, body = PlanView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let id = PlanId(id.into_inner());
    let row = state.db(move |conn| service::get(conn, id)).await?;
    Ok(HttpResponse::Ok().json(PlanView::from(row)))
}

/// Create a plan (office).
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans", request_body = CreatePlan,
    responses((status = 201, body = PlanView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<CreatePlan>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let req = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| service::create(conn, auth.id, req, now))
        .await?;
    Ok(HttpResponse::Created().json(PlanView::from(row)))
}

/// Change a plan (office). Send the `version` you read.
#[utoipa::path(patch, path = "/api/v1/plans/{id}", tag = "plans", request_body = UpdatePlan,
    responses((status = 200, body = PlanView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<UpdatePlan>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let id = PlanId(id.into_inner());
    let req = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| service::update(conn, auth.id, id, req, now))
        .await?;
    Ok(HttpResponse::Ok().json(PlanView::from(row)))
}
