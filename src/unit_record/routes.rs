//! `GET /api/v1/units/{id}/record`: a unit's record, the own unit's only
//! for a unit clerk.

use actix_web::{web, HttpResponse};

use crate::auth::{AuthUser, Permission};
use crate::domain::{Role, UnitId};
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/units/{id}/record", web::get().to(unit_record));
}

/// A unit's record: tasks and lateness, notices (and undelivered ones),
/// accountability records and its place in every published bulletin. A unit
/// clerk sees the own unit's only.
#[utoipa::path(get, path = "/api/v1/units/{id}/record", tag = "units",
    responses((status = 200, body = super::UnitRecord), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn unit_record(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = UnitId(id.into_inner());
    match auth.role {
        Role::Unit if auth.unit_id != Some(id) => return Err(ApiError::not_found()),
        Role::Unit => {}
        _ => auth.require(Permission::ReadRankings)?,
    }
    let clock = state.clock();
    let record = state
        .db(move |conn| super::record(conn, id, &clock))
        .await?;
    Ok(HttpResponse::Ok().json(record))
}
