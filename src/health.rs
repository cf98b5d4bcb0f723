//! `/healthz` (the process answers), `/readyz` (the database answers too)
//! and `/metrics` (Prometheus).

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::domain::kinds::NoticeStatus;
use crate::error::Error;
use crate::http::problem::ApiResult;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics));
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`
    status: &'static str,
    /// `SQLite` or `PostgreSQL`
    database: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database is reachable; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Readiness), (status = 503)))]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state
        .db(|conn| db::ping(conn).map_err(|e| Error::Unavailable(e.into())))
        .await?;
    Ok(HttpResponse::Ok().json(Readiness {
        status: "ready",
        database: state.backend.name(),
    }))
}

/// Prometheus text metrics, read from the database so that every instance
/// reports the same figures for the shared outbox. One aggregate query, by
/// status; the counters only ever go up: a notice is never deleted, `sent`
/// is final, attempts only grow, and a dead notice sent again is counted in
/// its `revivals`.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
pub async fn metrics(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    use crate::db::schema::notices;
    use diesel::dsl::{count_star, sum};
    use diesel::prelude::*;
    type ByStatus = (NoticeStatus, i64, Option<i64>, Option<i64>);
    let by_status: Vec<ByStatus> = state
        .db(|conn| {
            Ok(notices::table
                .group_by(notices::status)
                .select((
                    notices::status,
                    count_star(),
                    sum(notices::attempts),
                    sum(notices::revivals),
                ))
                .load(conn)?)
        })
        .await?;
    let count = |s: NoticeStatus| {
        by_status
            .iter()
            .find(|(k, ..)| *k == s)
            .map_or(0, |(_, n, ..)| *n)
    };
    let created: i64 = by_status.iter().map(|(_, n, ..)| n).sum();
    let attempts: i64 = by_status.iter().filter_map(|(_, _, a, _)| *a).sum();
    let revivals: i64 = by_status.iter().filter_map(|(.., r)| *r).sum();
    // Every attempt failed except the last one of each sent notice.
    let failures = (attempts - count(NoticeStatus::Sent)).max(0);
    // Each time a notice went dead: the dead ones, and those sent again.
    let dead = count(NoticeStatus::Dead) + revivals;
    let mut out = String::new();
    out.push_str("# HELP duban_notices_created_total Notices written by the scan.\n# TYPE duban_notices_created_total counter\n");
    out.push_str(&format!("duban_notices_created_total {created}\n"));
    out.push_str("# HELP duban_notices_sent_total Notices delivered.\n# TYPE duban_notices_sent_total counter\n");
    out.push_str(&format!(
        "duban_notices_sent_total {}\n",
        count(NoticeStatus::Sent)
    ));
    out.push_str("# HELP duban_notice_failures_total Delivery attempts that failed.\n# TYPE duban_notice_failures_total counter\n");
    out.push_str(&format!("duban_notice_failures_total {failures}\n"));
    out.push_str("# HELP duban_notices_dead_total Times a notice was given up on (again after a retry).\n# TYPE duban_notices_dead_total counter\n");
    out.push_str(&format!("duban_notices_dead_total {dead}\n"));
    out.push_str(
        "# HELP duban_outbox_depth Notices waiting to be sent.\n# TYPE duban_outbox_depth gauge\n",
    );
    out.push_str(&format!(
        "duban_outbox_depth {}\n",
        count(NoticeStatus::Pending) + count(NoticeStatus::Sending)
    ));
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out))
}
