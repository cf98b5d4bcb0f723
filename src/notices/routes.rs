//! `/api/v1/notices` and `/api/v1/scheduler`.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{NoticeRow, NoticeView};
use crate::auth::{AuthUser, Permission};
use crate::db::schema::notices;
use crate::domain::Message;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{Page, Paging, QueryParams};
use crate::jobs::{self, JobRunView};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notices", web::get().to(list_notices))
        .route("/notices/{id}/retry", web::post().to(retry_notice))
        .route("/scheduler", web::get().to(scheduler_status));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeFilter {
    pub task_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub status: Option<String>,
    pub step: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
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
    let own_unit = auth.unit_records_scope()?;
    let page = state
        .db_api(move |conn| {
            let query = || {
                let mut q = notices::table.into_boxed();
                if let Some(u) = own_unit {
                    q = q.filter(notices::unit_id.eq(u));
                }
                if let Some(t) = filter.task_id {
                    q = q.filter(notices::task_id.eq(t));
                }
                if let Some(u) = filter.unit_id {
                    q = q.filter(notices::unit_id.eq(u));
                }
                if let Some(s) = &filter.status {
                    q = q.filter(notices::status.eq(s.clone()));
                }
                if let Some(s) = &filter.step {
                    q = q.filter(notices::step.eq(s.clone()));
                }
                q
            };
            let total: i64 = query().count().get_result(conn)?;
            let rows: Vec<NoticeRow> = query()
                .select(NoticeRow::as_select())
                .order(notices::id.desc())
                .limit(paging.per_page)
                .offset(paging.offset())
                .load(conn)?;
            Ok(Page::new(
                rows.into_iter().map(NoticeView::from_row).collect(),
                total,
                paging,
            ))
        })
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
    let id = id.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db_api(move |conn| {
            conn.write(|conn| {
                // The state is part of the condition: of two offices retrying
                // at once, one does it and the other is told it is not dead.
                let revived =
                    diesel::update(notices::table.find(id).filter(notices::status.eq("dead")))
                        // The attempt count stays: it is the notice's history.
                        .set((
                            notices::status.eq("pending"),
                            notices::next_attempt_at.eq(now),
                            notices::revivals.eq(notices::revivals + 1),
                        ))
                        .execute(conn)?;
                if revived == 1 {
                    return Ok(notices::table
                        .find(id)
                        .select(NoticeRow::as_select())
                        .first(conn)?);
                }
                let status: String = notices::table
                    .find(id)
                    .select(notices::status)
                    .first(conn)
                    .optional()?
                    .ok_or_else(ApiError::not_found)?;
                Err(ApiError::conflict(
                    "notice_not_dead",
                    Message::new("只能重发已失败的通知", "only a dead notice can be retried"),
                )
                .with_extra("current_status", serde_json::Value::String(status)))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(NoticeView::from_row(row)))
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
        .db_api(|conn| {
            let lease = jobs::lease_holder(conn)?;
            let queue: Vec<(String, i64)> = notices::table
                .group_by(notices::status)
                .select((notices::status, diesel::dsl::count_star()))
                .load(conn)?;
            Ok(SchedulerStatus {
                lease_holder: lease.as_ref().map(|l| l.0.clone()),
                lease_expires_at: lease.map(|l| l.1.and_utc()),
                queue: queue.into_iter().collect(),
                recent_runs: jobs::recent_runs(conn, 20)?,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(status))
}
