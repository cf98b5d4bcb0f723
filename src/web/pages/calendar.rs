//! 工作行事历: a month of deadlines, reporting days and bulletin dates as the
//! person may see them, from `calendar::events` (what `/api/v1/calendar`
//! answers), with the previous and next months one link away; and the
//! button that creates the person's feed address for a calendar app
//! (`calendar::create_feed`, as `POST /api/v1/calendar/feeds`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{Datelike, Duration, Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::CalendarEvent;
use crate::state::AppState;
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MonthQuery {
    /// YYYY-MM; the current month when empty.
    month: String,
}

#[derive(Serialize)]
struct Day {
    date: NaiveDate,
    day: u32,
    /// Of the month shown (the grid's first and last weeks reach into the
    /// months around it).
    in_month: bool,
    today: bool,
    events: Vec<CalendarEvent>,
}

#[derive(Serialize)]
struct CalendarPage {
    /// YYYY-MM
    month: String,
    prev: String,
    next: String,
    /// Weeks from Monday to Sunday.
    weeks: Vec<Vec<Day>>,
    /// How many events the month has (the grid's days of other months aside).
    count: usize,
    /// The month asked for was not a month: said, and the current one shown.
    error: bool,
    /// Just created: the feed's address, shown this once.
    feed_url: Option<String>,
}

/// The first day of the month `YYYY-MM`.
fn parse_month(s: &str) -> Option<NaiveDate> {
    let (y, m) = s.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
}

fn month_label(first: NaiveDate) -> String {
    first.format("%Y-%m").to_string()
}

async fn month_page(
    state: &AppState,
    person: &Person,
    month: &str,
    feed_url: Option<String>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let clock = state.clock();
    let this_month = clock.today.with_day(1).unwrap_or(clock.today);
    let asked = (!month.trim().is_empty()).then(|| parse_month(month));
    let error = matches!(asked, Some(None));
    let first = asked.flatten().unwrap_or(this_month);
    let last = first
        .checked_add_months(Months::new(1))
        .map_or(first, |d| d - Duration::days(1));
    // The grid: from the Monday on or before the 1st to the Sunday on or
    // after the last day.
    let start = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
    let end = last + Duration::days(i64::from(6 - last.weekday().num_days_from_monday()));
    let settings = state.settings.clone();
    let auth = person.auth.clone();
    let today = clock.today;
    let events = state
        .db(move |conn| crate::calendar::events(conn, &settings, &auth, (start, end), None, today))
        .await
        .page(lang)?;
    let count = events
        .iter()
        .filter(|e| e.date >= first && e.date <= last)
        .count();
    let mut weeks: Vec<Vec<Day>> = Vec::new();
    let mut date = start;
    while date <= end {
        if date.weekday().num_days_from_monday() == 0 {
            weeks.push(Vec::new());
        }
        let day = Day {
            date,
            day: date.day(),
            in_month: date.month() == first.month(),
            today: date == today,
            events: events.iter().filter(|e| e.date == date).cloned().collect(),
        };
        if let Some(week) = weeks.last_mut() {
            week.push(day);
        }
        date += Duration::days(1);
    }
    let page = CalendarPage {
        month: month_label(first),
        prev: month_label(first.checked_sub_months(Months::new(1)).unwrap_or(first)),
        next: month_label(first.checked_add_months(Months::new(1)).unwrap_or(first)),
        weeks,
        count,
        error,
        feed_url,
    };
    let status = if error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, "calendar.html", lang, Some(person), page)
}

/// GET /calendar?month=YYYY-MM
pub async fn month(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<MonthQuery>,
) -> Result<HttpResponse, PageError> {
    month_page(&state, &person, &query.month, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FeedForm {
    csrf: String,
    /// The month the button was pressed on, shown again.
    month: String,
}

/// POST /calendar/feed: a new feed address, shown on the month's page. Not
/// a redirect like the other forms: the address is a credential shown this
/// once (only its hash is kept), so it cannot travel in a link.
pub async fn create_feed(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<FeedForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let base = state
        .settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.settings.listen));
    let now = chrono::Utc::now().naive_utc();
    let user = person.auth.id;
    let feed = state
        .db(move |conn| crate::calendar::create_feed(conn, user, None, &base, now))
        .await
        .page(person.lang)?;
    month_page(&state, &person, &form.month, feed.url).await
}
