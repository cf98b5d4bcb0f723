//! `/api/v1/holidays`: read the calendar; the admin imports or edits it.

use actix_web::{web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{parse_csv, upsert, Entry};
use crate::audit;
use crate::auth::{AuthUser, Permission};
use crate::db::schema::holidays;
use crate::domain::calendar::DayKind;
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::Message;
use crate::error::Validator;
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
    let rows: Vec<(NaiveDate, String, String)> = state
        .db_api(move |conn| {
            Ok(holidays::table
                .select((holidays::day, holidays::kind, holidays::name))
                .order(holidays::day.asc())
                .load(conn)?)
        })
        .await?;
    let list: Vec<HolidayView> = rows
        .into_iter()
        .filter(|(day, _, _)| year.is_none_or(|y| day.year() == y))
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
    let now = chrono::Utc::now().naive_utc();
    state
        .db_api(move |conn| {
            conn.write(|conn| {
                upsert(conn, &entries)?;
                let after = serde_json::json!({ "imported": entries.len() });
                audit::record(
                    conn,
                    audit::Change {
                        actor: Some(auth.id),
                        action: "import",
                        entity: "holiday",
                        entity_id: None,
                        before: None,
                        after: Some(after),
                    },
                    now,
                )?;
                Ok(())
            })
        })
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
    let mut v = Validator::default();
    let day = v.check("date", parse_date(&date));
    let kind = v.check(
        "kind",
        DayKind::parse(&req.kind).ok_or(Message::new(
            "类型必须是 holiday 或 workday",
            "kind must be holiday or workday",
        )),
    );
    let name = v.check("name", BoundedText::parse(&req.name, 100));
    let (Some(day), Some(kind), Some(name)) = (day, kind, name) else {
        return Err(v.into_error().into());
    };
    let entry = Entry {
        day,
        kind,
        name: name.into_inner(),
    };
    let view = HolidayView {
        date: entry.day,
        kind: entry.kind.as_str().into(),
        name: entry.name.clone(),
    };
    let now = chrono::Utc::now().naive_utc();
    state
        .db_api(move |conn| {
            conn.write(|conn| {
                upsert(conn, std::slice::from_ref(&entry))?;
                let after = serde_json::json!({ "date": entry.day, "kind": entry.kind.as_str(), "name": entry.name });
                audit::record(
                    conn,
                    audit::Change { actor: Some(auth.id), action: "set", entity: "holiday", entity_id: None, before: None, after: Some(after) },
                    now,
                )?;
                Ok(())
            })
        })
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
    let now = chrono::Utc::now().naive_utc();
    state
        .db_api(move |conn| {
            conn.write(|conn| {
                let n = diesel::delete(holidays::table.find(day)).execute(conn)?;
                if n == 0 {
                    return Err(ApiError::not_found());
                }
                let before = serde_json::json!({ "date": day });
                audit::record(
                    conn,
                    audit::Change {
                        actor: Some(auth.id),
                        action: "delete",
                        entity: "holiday",
                        entity_id: None,
                        before: Some(before),
                        after: None,
                    },
                    now,
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
