//! `GET /api/v1/audit`: the audit trail, newest first.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::AuditRow;
use crate::auth::{AuthUser, Permission};
use crate::domain::UserId;
use crate::http::problem::{ApiResult, Problem};
use crate::http::{Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(list_audit));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// unit, user, plan, task, extension, holiday…
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// The audit trail (admin, office, viewer).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = Page<AuditRow>), (status = 403, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_audit(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<AuditFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadAudit)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let trail = super::TrailFilter {
        entity: filter.entity,
        entity_id: filter.entity_id,
        actor_id: filter.actor_id.map(UserId),
    };
    let page = state
        .db(move |conn| Ok(super::list(conn, &trail, paging)?))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
