//! `/api/v1/scheduler`: who holds the scheduler's lease, the outbox by
//! status and the last job runs, for the office.

use actix_web::{web, HttpResponse};

use super::SchedulerStatus;
use crate::auth::{AuthUser, Permission};
use crate::http::problem::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/scheduler", web::get().to(scheduler_status));
}

/// The scheduler: who holds the lease, the outbox by status, the last runs (office).
#[utoipa::path(get, path = "/api/v1/scheduler", tag = "notices",
    responses((status = 200, body = SchedulerStatus)), security(("bearer" = [])))]
pub async fn scheduler_status(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadAudit)?;
    let status = state.db(|conn| Ok(super::status(conn, 20)?)).await?;
    Ok(HttpResponse::Ok().json(status))
}
