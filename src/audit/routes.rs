//! `GET /api/v1/audit`: the audit trail, newest first.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;

use super::AuditRow;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::audit_log;
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
    let page = state
        .db(move |conn| {
            let query = || {
                let mut q = audit_log::table.into_boxed();
                if let Some(entity) = &filter.entity {
                    q = q.filter(audit_log::entity.eq(entity.clone()));
                }
                if let Some(id) = filter.entity_id {
                    q = q.filter(audit_log::entity_id.eq(id));
                }
                if let Some(actor) = filter.actor_id {
                    q = q.filter(audit_log::actor_id.eq(UserId(actor)));
                }
                q
            };
            let total: i64 = query().count().get_result(conn)?;
            let rows = query()
                .select(AuditRow::as_select())
                .order(audit_log::id.desc())
                .limit(paging.per_page)
                .offset(paging.offset())
                .load(conn)?;
            Ok(Page::new(rows, total, paging))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
