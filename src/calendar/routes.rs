//! `/api/v1/calendar`: the work calendar as JSON, personal feed tokens, and
//! the iCalendar feed itself (authenticated by its token alone).

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::{CalendarEvent, FeedView};
use crate::auth::{AuthUser, Permission};
use crate::domain::values::parse_date;
use crate::domain::{FeedId, Message, UnitId};
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{OptionalJsonBody, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/calendar", web::get().to(get_calendar))
        .service(
            web::resource("/calendar/feeds")
                .route(web::get().to(list_feeds))
                .route(web::post().to(create_feed)),
        )
        .route(
            "/calendar/feeds/{token:[0-9a-f]+}.ics",
            web::get().to(get_feed),
        )
        .route("/calendar/feeds/{id}", web::delete().to(revoke_feed));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// YYYY-MM-DD; default 30 days ago.
    pub from: Option<String>,
    /// YYYY-MM-DD; default 90 days ahead. At most 400 days after `from`.
    pub to: Option<String>,
    /// Only this unit's work (lead or cooperating).
    pub unit_id: Option<UnitId>,
}

fn window(q: &CalendarQuery, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
    let from = match &q.from {
        Some(d) => parse_date(d).map_err(|m| ApiError::invalid_field("from", m))?,
        None => today - Duration::days(30),
    };
    let to = match &q.to {
        Some(d) => parse_date(d).map_err(|m| ApiError::invalid_field("to", m))?,
        None => today + Duration::days(90),
    };
    if to < from || (to - from).num_days() > 400 {
        return Err(ApiError::invalid_field(
            "to",
            Message::new(
                "结束日期须在开始日期之后 400 天以内",
                "to must be within 400 days after from",
            ),
        ));
    }
    Ok((from, to))
}

/// Deadlines, reporting days and bulletin dates the caller may see.
#[utoipa::path(get, path = "/api/v1/calendar", tag = "calendar", params(CalendarQuery),
    responses((status = 200, body = Vec<CalendarEvent>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn get_calendar(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<CalendarQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let clock = state.clock();
    let range = window(&query.0, clock.today)?;
    let unit = query.0.unit_id;
    let settings = state.settings.clone();
    let events = state
        .db(move |conn| super::events(conn, &settings, &auth, range, unit, clock.today))
        .await?;
    Ok(HttpResponse::Ok().json(events))
}

/// The caller's calendar feeds (without their addresses).
#[utoipa::path(get, path = "/api/v1/calendar/feeds", tag = "calendar",
    responses((status = 200, body = Vec<FeedView>)), security(("bearer" = [])))]
pub async fn list_feeds(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    let list = state
        .db(move |conn| super::list_feeds(conn, auth.id))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFeed {
    pub name: Option<String>,
}

/// Create a personal feed address for a calendar app. The address is shown
/// only in this answer; it shows what the caller may see; revoke it when lost.
#[utoipa::path(post, path = "/api/v1/calendar/feeds", tag = "calendar", request_body = Option<NewFeed>,
    responses((status = 201, body = FeedView)), security(("bearer" = [])))]
pub async fn create_feed(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: OptionalJsonBody<NewFeed>,
) -> ApiResult<HttpResponse> {
    let name = body.into_inner().and_then(|b| b.name);
    let base = state
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.settings.listen));
    let now = chrono::Utc::now().naive_utc();
    let feed = state
        .db(move |conn| super::create_feed(conn, auth.id, name, &base, now))
        .await?;
    Ok(HttpResponse::Created().json(feed))
}

/// Revoke one of the caller's feeds: its address stops working at once.
#[utoipa::path(delete, path = "/api/v1/calendar/feeds/{id}", tag = "calendar",
    responses((status = 204), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn revoke_feed(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = FeedId(id.parse().map_err(|_| ApiError::not_found())?);
    let now = chrono::Utc::now().naive_utc();
    state
        .db(move |conn| super::revoke_feed(conn, auth.id, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The iCalendar feed of a personal token: 30 days back, a year ahead.
#[utoipa::path(get, path = "/api/v1/calendar/feeds/{token}.ics", tag = "calendar",
    responses((status = 200, description = "the iCalendar feed (RFC 5545)", body = String, content_type = "text/calendar"),
        (status = 404, body = Problem)))]
pub async fn get_feed(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let token = token.into_inner();
    let clock = state.clock();
    let settings = state.settings.clone();
    let range = (
        clock.today - Duration::days(30),
        clock.today + Duration::days(365),
    );
    let (name, events) = state
        .db(move |conn| {
            let (owner, name) = super::feed_owner(conn, &token)?;
            let events = super::events(conn, &settings, &owner, range, None, clock.today)?;
            Ok((name, events))
        })
        .await?;
    let body = super::ics::feed(&name, &events, chrono::Utc::now());
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/calendar; charset=utf-8"))
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(body))
}
