//! `/api/v1/tasks/{id}/orders` and `/api/v1/orders/{id}`: thin handlers over
//! the supervision orders service.

use actix_web::{web, HttpResponse};

use super::{CreateOrder, OrderNotice, OrderView};
use crate::auth::AuthUser;
use crate::domain::{OrderId, TaskId};
use crate::http::problem::{ApiResult, Problem};
use crate::http::JsonBody;
use crate::state::AppState;
use crate::tasks::visibility;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tasks/{id}/orders")
            .route(web::get().to(list_orders))
            .route(web::post().to(create_order)),
    )
    .service(web::resource("/orders/{id}").route(web::get().to(get_order)));
}

/// A task's supervision orders (督办单), newest first, each with its
/// receipt (回执) once the lead unit has sent it.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/orders", tag = "tasks",
    responses((status = 200, body = Vec<OrderView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_orders(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let today = state.clock().today;
    let list = state
        .db(move |conn| super::list(conn, &auth, scope, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One supervision order (督办单), to whoever sees its task. The printable
/// document is the console page `/orders/{id}`.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "tasks",
    responses((status = 200, body = OrderView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_order(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let scope = visibility::scope(&auth, &state.settings);
    let id = OrderId(id.into_inner());
    let today = state.clock().today;
    let order = state
        .db(move |conn| super::find(conn, &auth, scope, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(order))
}

/// Issue a supervision order (督办单) on an open task with the office's
/// own requirement: the office and admins. It is numbered 督办〔year〕N号
/// in the database, one sequence per year; the lead unit completes its
/// receipt (回执) with a progress report carrying `order_id`, by
/// `reply_by`, or the reply climbs the escalation ladder. The lead unit's
/// head, the task's leaders and the office get the 督办 email with the
/// order attached, written in the order's transaction.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/orders", tag = "tasks", request_body = CreateOrder,
    responses((status = 201, body = OrderView),
        (status = 403, body = Problem, description = "only the office and admins issue orders"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`task_not_open`: a draft, completed or cancelled task"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_order(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<CreateOrder>,
    tell: web::Data<OrderNotice>,
) -> ApiResult<HttpResponse> {
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let req = body.into_inner();
    let clock = state.clock();
    let settings = state.settings.clone();
    let tell = **tell;
    let view = state
        .db(move |conn| super::create(conn, &auth, scope, id, req, &clock, &settings, tell))
        .await?;
    Ok(HttpResponse::Created().json(view))
}
