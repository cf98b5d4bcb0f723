//! 年度目标责任考核 (`/assessments/{year}`): the annual assessment of
//! `assessments::assess` as a printable page — grades and scores, then each
//! unit's itemised deductions and the tasks still overdue. Who may read it is
//! the API's (`GET /api/v1/assessments/{year}`): the office, admin, leaders
//! and viewers; a unit clerk gets a 403 page. Printing leaves out the top
//! bar and the year links (the stylesheet's print rules).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::Datelike;
use serde::Serialize;

use crate::assessments::Assessment;
use crate::auth::Permission;
use crate::state::AppState;
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

#[derive(Serialize)]
struct AssessmentPage {
    assessment: Assessment,
    prev: i32,
    next: i32,
    /// The year running now: no link beyond it.
    this_year: i32,
}

/// GET /assessments: this year's.
pub async fn current(state: web::Data<AppState>) -> HttpResponse {
    let year = state.clock().today.year();
    crate::web::page::see_other(&format!("/assessments/{year}"))
}

/// GET /assessments/{year}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    year: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    person
        .auth
        .require(Permission::ReadRankings)
        .map_err(|e| PageError::from_api(lang, e))?;
    // The API's range; any other path segment is no page.
    let Some(year) = year
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
    else {
        return Err(PageError::not_found(lang));
    };
    let clock = state.clock();
    let this_year = clock.today.year();
    let settings = state.settings.clone();
    let assessment = state
        .db(move |conn| crate::assessments::assess(conn, &settings, &clock, year))
        .await
        .page(lang)?;
    let page = AssessmentPage {
        assessment,
        prev: year - 1,
        next: year + 1,
        this_year,
    };
    render(StatusCode::OK, "assessment.html", lang, Some(&person), page)
}
