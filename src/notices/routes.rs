//! `/api/v1/notices`: extract, check the permission, call
//! `notices::outbox`, answer.

use actix_web::{web, HttpResponse};

use super::outbox::{self, NoticeFilter};
use super::NoticeView;
use crate::auth::{AuthUser, Permission};
use crate::domain::{NoticeId, UnitId};
use crate::http::problem::{ApiResult, Problem};
use crate::http::{Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices", web::get().to(list_notices))
        .route("/notices/{id}/retry", web::post().to(retry_notice));
}

/// Notices, newest first. A unit clerk sees the own unit's.
#[utoipa::path(get, path = "/api/v1/notices", tag = "notices", params(NoticeFilter),
    responses((status = 200, body = Page<NoticeView>)), security(("bearer" = [])))]
pub async fn list_notices(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<NoticeFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let own_unit = auth.unit_records_scope()?.map(UnitId);
    let page = state
        .db(move |conn| Ok(outbox::list(conn, own_unit, &filter, paging)?))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Send a dead notice again (office).
#[utoipa::path(post, path = "/api/v1/notices/{id}/retry", tag = "notices",
    responses((status = 200, body = NoticeView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn retry_notice(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let id = NoticeId(id.into_inner());
    let now = state.clock().now;
    let row = state.db(move |conn| outbox::retry(conn, id, now)).await?;
    Ok(HttpResponse::Ok().json(NoticeView::from_row(row)))
}
