//! `/api/v1/holidays`: read the calendar; the admin imports or edits it.
//! The handlers check and call; the writes and their audit entries are in
//! `holidays`.

use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::parse_csv;
use crate::auth::{AuthUser, Permission};
use crate::domain::values::parse_date;
use crate::domain::Message;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{JsonBody, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/holidays", web::get().to(list_holidays))
        .route("/holidays/import", web::post().to(import_holidays))
        .route("/holidays/{date}", web::put().to(put_holiday))
        .route("/holidays/{date}", web::delete().to(delete_holiday));
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayView {
    pub date: NaiveDate,
    /// holiday, or workday (a weekend day worked, 调休)
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HolidayFilter {
    pub year: Option<i32>,
}

/// The calendar entries, by date.
#[utoipa::path(get, path = "/api/v1/holidays", tag = "calendar", params(HolidayFilter),
    responses((status = 200, body = Vec<HolidayView>)), security(("bearer" = [])))]
pub async fn list_holidays(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<HolidayFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let year = query.0.year;
    let rows = state
        .db(move |conn| Ok(super::entries(conn, year)?))
        .await?;
    let list: Vec<HolidayView> = rows
        .into_iter()
        .map(|(date, kind, name)| HolidayView { date, kind, name })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

/// Import a calendar CSV (`date,kind,name` lines) as the request body (admin).
/// All lines or none: any bad line rejects the import.
#[utoipa::path(post, path = "/api/v1/holidays/import", tag = "calendar", request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = HolidayImport), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn import_holidays(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageCalendar)?;
    let text = std::str::from_utf8(&body).map_err(|_| {
        ApiError::bad_request(
            "not_utf8",
            Message::new("文件必须是 UTF-8 编码", "the file must be UTF-8"),
        )
    })?;
    let entries = parse_csv(text)?;
    let count = entries.len();
    let now = state.clock().now;
    state
        .db(move |conn| super::import(conn, &entries, auth.id, now))
        .await?;
    Ok(HttpResponse::Ok().json(HolidayImport { imported: count }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayImport {
    /// Dates set by the import.
    pub imported: usize,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutHoliday {
    /// holiday or workday
    pub kind: String,
    pub name: String,
}

/// Set one date (admin).
#[utoipa::path(put, path = "/api/v1/holidays/{date}", tag = "calendar", request_body = PutHoliday,
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = HolidayView), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn put_holiday(
    state: web::Data<AppState>,
    auth: AuthUser,
    date: web::Path<String>,
    body: JsonBody<PutHoliday>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageCalendar)?;
    let req = body.into_inner();
    let entry = super::entry(&date, &req.kind, &req.name)?;
    let view = HolidayView {
        date: entry.day,
        kind: entry.kind.as_str().into(),
        name: entry.name.clone(),
    };
    let now = state.clock().now;
    state
        .db(move |conn| super::set(conn, &entry, auth.id, now))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Remove one date (admin).
#[utoipa::path(delete, path = "/api/v1/holidays/{date}", tag = "calendar",
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses((status = 204), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "`validation_failed`: the date is not YYYY-MM-DD")),
    security(("bearer" = [])))]
pub async fn delete_holiday(
    state: web::Data<AppState>,
    auth: AuthUser,
    date: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageCalendar)?;
    let day = parse_date(&date).map_err(|m| ApiError::invalid_field("date", m))?;
    let now = state.clock().now;
    state
        .db(move |conn| super::remove(conn, day, auth.id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
