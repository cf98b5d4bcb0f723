//! 系统管理 · 节假日 (admin only): a year's calendar entries (holidays and
//! make-up working days, 调休), and importing the State Council's yearly
//! calendar as a CSV file through `holidays::parse_csv` and
//! `holidays::import`, the service `POST /api/v1/holidays/import` calls:
//! all lines or none, every bad line named.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::Datelike;
use serde::{Deserialize, Serialize};

use super::admin_units::{admin_only, Refusal};
use crate::auth::Permission;
use crate::domain::Message;
use crate::http::multipart::read_form;
use crate::http::problem::ApiError;
use crate::state::AppState;
use crate::web::page::{render, see_other, OrPage, PageError};
use crate::web::session::Person;

/// Largest calendar file: a year is a few dozen lines.
const MAX_CSV_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HolidayQuery {
    year: String,
    imported: String,
}

#[derive(Serialize)]
struct Day {
    date: String,
    weekday: u32,
    kind: String,
    name: String,
}

#[derive(Serialize)]
struct Fault {
    line: String,
    message: String,
}

#[derive(Serialize)]
struct HolidaysPage {
    year: i32,
    days: Vec<Day>,
    imported: String,
    error: Option<String>,
    faults: Vec<Fault>,
}

async fn holidays_page(
    state: &AppState,
    person: &Person,
    status: StatusCode,
    year: i32,
    imported: String,
    refusal: Option<(String, Vec<Fault>)>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    admin_only(person, Permission::ManageCalendar)?;
    let rows = state
        .db(move |conn| Ok(crate::holidays::entries(conn, Some(year))?))
        .await
        .page(lang)?;
    let days = rows
        .into_iter()
        .map(|(day, kind, name)| Day {
            date: day.to_string(),
            weekday: day.weekday().number_from_monday(),
            kind,
            name,
        })
        .collect();
    let (error, faults) = match refusal {
        Some((e, f)) => (Some(e), f),
        None => (None, Vec::new()),
    };
    let page = HolidaysPage {
        year,
        days,
        imported,
        error,
        faults,
    };
    render(status, "admin_holidays.html", lang, Some(person), page)
}

/// GET /admin/holidays?year=2027 (this year by default)
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<HolidayQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let this_year = state.clock().today.year();
    let year = query
        .year
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (1900..=2200).contains(y))
        .unwrap_or(this_year);
    let imported = query
        .imported
        .trim()
        .parse::<usize>()
        .map(|n| n.to_string())
        .unwrap_or_default();
    holidays_page(&state, &person, StatusCode::OK, year, imported, None).await
}

/// POST /admin/holidays/import: the CSV in `file` (UTF-8 or GBK); then
/// the year of its first date is shown.
pub async fn import(
    state: web::Data<AppState>,
    person: Person,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = read_form(multipart, MAX_CSV_BYTES).await.page(lang)?;
    person.check_csrf(form.text("csrf"))?;
    admin_only(&person, Permission::ManageCalendar)?;
    let year = state.clock().today.year();
    let result = async {
        let file = form.files.into_iter().next().ok_or_else(|| {
            ApiError::invalid_field(
                "file",
                Message::new("请选择节假日 CSV 文件", "choose the calendar's CSV file"),
            )
        })?;
        let text = crate::import::table::decode_text(&file.bytes)
            .map_err(|m| ApiError::invalid_field("file", m))?;
        let entries = crate::holidays::parse_csv(&text)?;
        if entries.is_empty() {
            return Err(ApiError::invalid_field(
                "file",
                Message::new("文件中没有日期", "the file holds no dates"),
            ));
        }
        let first = entries.iter().map(|e| e.day).min();
        let count = entries.len();
        let actor = person.auth.id;
        let now = state.clock().now;
        state
            .db(move |conn| crate::holidays::import(conn, &entries, actor, now))
            .await?;
        Ok::<_, ApiError>((count, first.map_or(year, |d| d.year())))
    }
    .await;
    match result {
        Ok((count, year)) => Ok(see_other(&format!(
            "/admin/holidays?year={year}&imported={count}"
        ))),
        Err(err) => {
            let Some(refusal) = Refusal::of(&err, lang) else {
                return Err(PageError::from_api(lang, err));
            };
            let faults = err
                .fields()
                .iter()
                .map(|f| Fault {
                    // The service names a line `line N`; the page says it in
                    // the reader's language.
                    line: match f.field.strip_prefix("line ") {
                        Some(n) => crate::i18n::text(lang, "holidays.line").replace("{n}", n),
                        None => f.field.clone(),
                    },
                    message: f.message.get(lang).to_string(),
                })
                .collect();
            holidays_page(
                &state,
                &person,
                refusal.status,
                year,
                String::new(),
                Some((refusal.error, faults)),
            )
            .await
        }
    }
}
