//! `/api/v1/scheduler`: who holds the scheduler's lease, the outbox by
//! status and the last job runs, for the office.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::JobRunView;
use crate::auth::{AuthUser, Permission};
use crate::http::problem::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/scheduler", web::get().to(scheduler_status));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SchedulerStatus {
    pub lease_holder: Option<String>,
    pub lease_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Notices by status.
    pub queue: std::collections::BTreeMap<String, i64>,
    pub recent_runs: Vec<JobRunView>,
}

/// The scheduler: who holds the lease, the outbox by status, the last runs (office).
#[utoipa::path(get, path = "/api/v1/scheduler", tag = "notices",
    responses((status = 200, body = SchedulerStatus)), security(("bearer" = [])))]
pub async fn scheduler_status(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadAudit)?;
    let status = state
        .db(|conn| {
            let lease = super::lease_holder(conn)?;
            Ok(SchedulerStatus {
                lease_holder: lease.as_ref().map(|l| l.0.clone()),
                lease_expires_at: lease.map(|l| l.1.and_utc()),
                queue: crate::notices::outbox::queue(conn)?,
                recent_runs: super::recent_runs(conn, 20)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(status))
}
