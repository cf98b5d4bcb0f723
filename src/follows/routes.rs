//! `/api/v1/follows`: follow and unfollow a task or a unit, list what one
//! follows. Leaders, the office and administrators; thin handlers over
//! `follows`.

use actix_web::{web, HttpResponse};

use super::{FollowState, Followed, Target};
use crate::auth::{AuthUser, Permission};
use crate::domain::{TaskId, UnitId};
use crate::http::problem::{ApiResult, Problem};
use crate::state::AppState;
use crate::tasks::visibility;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/follows", web::get().to(list_follows))
        .service(
            web::resource("/follows/tasks/{id}")
                .route(web::put().to(follow_task))
                .route(web::delete().to(unfollow_task)),
        )
        .service(
            web::resource("/follows/units/{id}")
                .route(web::put().to(follow_unit))
                .route(web::delete().to(unfollow_unit)),
        );
}

/// What the caller follows: the tasks with their status and light, the
/// units with their overdue tasks.
#[utoipa::path(get, path = "/api/v1/follows", tag = "follows",
    responses((status = 200, body = Followed)), security(("bearer" = [])))]
pub async fn list_follows(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    auth.require(Permission::Follow)?;
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let list = state
        .db(move |conn| super::list(conn, auth.id, scope, &clock))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

async fn follow(
    state: web::Data<AppState>,
    auth: AuthUser,
    target: Target,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::Follow)?;
    let scope = visibility::scope(&auth, &state.settings);
    let now = chrono::Utc::now().naive_utc();
    let created = state
        .db(move |conn| super::follow(conn, &auth, scope, target, now))
        .await?;
    let state = FollowState::of(target, true);
    Ok(if created {
        HttpResponse::Created().json(state)
    } else {
        HttpResponse::Ok().json(state)
    })
}

async fn unfollow(
    state: web::Data<AppState>,
    auth: AuthUser,
    target: Target,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::Follow)?;
    let scope = visibility::scope(&auth, &state.settings);
    state
        .db(move |conn| super::unfollow(conn, &auth, scope, target))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Follow a task the caller can see: 201 when new, 200 when already followed.
#[utoipa::path(put, path = "/api/v1/follows/tasks/{id}", tag = "follows",
    responses((status = 201, body = FollowState), (status = 200, body = FollowState), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn follow_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    follow(state, auth, Target::Task(TaskId(id.into_inner()))).await
}

/// Stop following a task (also when it was not followed).
#[utoipa::path(delete, path = "/api/v1/follows/tasks/{id}", tag = "follows",
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn unfollow_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    unfollow(state, auth, Target::Task(TaskId(id.into_inner()))).await
}

/// Follow a unit: 201 when new, 200 when already followed.
#[utoipa::path(put, path = "/api/v1/follows/units/{id}", tag = "follows",
    responses((status = 201, body = FollowState), (status = 200, body = FollowState), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn follow_unit(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    follow(state, auth, Target::Unit(UnitId(id.into_inner()))).await
}

/// Stop following a unit (also when it was not followed).
#[utoipa::path(delete, path = "/api/v1/follows/units/{id}", tag = "follows",
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn unfollow_unit(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    unfollow(state, auth, Target::Unit(UnitId(id.into_inner()))).await
}
