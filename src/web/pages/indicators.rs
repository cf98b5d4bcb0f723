//! 考核指标: for a unit clerk, the reports the unit owes as lead unit (due by
//! a week from today), with a form on each one not yet reported that calls
//! `indicators::values::submit` like the API's route; for everyone else the
//! catalogue in sight with each indicator's latest period, read-only, under
//! the dashboard's chart by domain (`charts::indicator_domains`). The
//! lists come from `indicators::reports`, which the home's count also uses.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::units;
use crate::domain::indicator::Comparison;
use crate::domain::kinds::ValueStatus;
use crate::domain::traffic::days_late;
use crate::domain::{IndicatorId, Message, UnitId};
use crate::http::problem::ApiError;
use crate::indicators::reports::{self, UnitReport};
use crate::indicators::values::{self, SubmitValue};
use crate::indicators::Sight;
use crate::state::AppState;
use crate::web::page::{filled, render, see_other, OrPage, PageError};
use crate::web::session::Person;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct IndicatorsQuery {
    /// "true": only the reports not yet reported.
    owed: String,
    /// Set after a value was reported.
    done: String,
}

/// A report the clerk's unit owes (or has sent).
#[derive(Serialize)]
struct OwedRow {
    indicator_id: IndicatorId,
    number: String,
    name: String,
    period: String,
    due: String,
    days_late: i64,
    reported: bool,
    /// submitted, verified, returned or none.
    status: &'static str,
    /// The form asks met / not met instead of a number.
    qualitative: bool,
    measure_unit: Option<String>,
}

/// An indicator as those who only read see it.
#[derive(Serialize)]
struct CatalogueRow {
    number: String,
    name: String,
    lead_unit: Option<String>,
    frequency: &'static str,
    /// The latest period due by today, its due date and status.
    period: Option<String>,
    due: Option<String>,
    status: &'static str,
    days_late: i64,
}

/// What the failed form carried, shown again in its row.
#[derive(Serialize, Default)]
struct Typed {
    /// None when no form failed (it matches no row then).
    indicator_id: Option<IndicatorId>,
    period: String,
    value: String,
    qualitative: String,
    note: String,
}

#[derive(Serialize)]
struct IndicatorsPage {
    clerk: bool,
    owed: bool,
    rows: Vec<OwedRow>,
    catalogue: Vec<CatalogueRow>,
    /// SVG (escaped by `charts`): met / not met / no value by domain, with
    /// overdue reports; for those who read every indicator.
    chart: Option<String>,
    flash: Option<String>,
    error: Option<String>,
    typed: Typed,
}

fn status_of(report: &UnitReport) -> &'static str {
    report.status.map_or("none", ValueStatus::as_str)
}

fn late(report: &UnitReport, today: chrono::NaiveDate) -> i64 {
    days_late(
        report.report.due,
        report.report.reported_on.unwrap_or(today),
    )
}

/// The page for `person`, with what the last form left (if anything).
async fn page(
    state: &AppState,
    person: &Person,
    owed: bool,
    shown: (StatusCode, Option<String>, Option<String>, Typed),
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let sight = Sight::of(&person.auth);
    let today = state.clock().today;
    let clerk = matches!(sight, Sight::Unit(_));
    let (rows, catalogue, groups) = state
        .db(move |conn| {
            if clerk {
                let rows = reports::owed_by(conn, sight, today, owed)?
                    .into_iter()
                    .map(|r| OwedRow {
                        days_late: late(&r, today),
                        reported: !r.open(),
                        status: status_of(&r),
                        qualitative: r.comparison == Comparison::Qualitative,
                        indicator_id: r.report.indicator_id,
                        number: r.report.number.clone(),
                        name: r.report.name.clone(),
                        period: r.report.period.label(),
                        due: r.report.due.to_string(),
                        measure_unit: r.measure_unit,
                    })
                    .collect();
                return Ok((rows, Vec::new(), None));
            }
            let latest = reports::latest(conn, sight, today)?;
            let leads: Vec<UnitId> = latest.iter().filter_map(|(i, _)| i.lead_unit_id).collect();
            let names: std::collections::HashMap<UnitId, String> = units::table
                .filter(units::id.eq_any(leads))
                .select((units::id, units::name))
                .load::<(UnitId, String)>(conn)?
                .into_iter()
                .collect();
            let catalogue = latest
                .into_iter()
                .map(|(view, report)| CatalogueRow {
                    lead_unit: view.lead_unit_id.and_then(|u| names.get(&u).cloned()),
                    frequency: view.frequency.as_str(),
                    period: report.as_ref().map(|r| r.report.period.label()),
                    due: report.as_ref().map(|r| r.report.due.to_string()),
                    status: report.as_ref().map_or("", status_of),
                    days_late: report.as_ref().map_or(0, |r| late(r, today)),
                    number: view.number,
                    name: view.name,
                })
                .collect();
            let groups = crate::indicators::dashboard::dashboard(conn, sight, today)?;
            Ok((Vec::new(), catalogue, Some(groups)))
        })
        .await
        .page(lang)?;
    let (status, flash, error, typed) = shown;
    let body = IndicatorsPage {
        clerk,
        owed,
        rows,
        catalogue,
        chart: groups.map(|g| crate::charts::indicator_domains(&g, lang)),
        flash,
        error,
        typed,
    };
    render(status, "indicators.html", lang, Some(person), body)
}

/// GET /indicators
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<IndicatorsQuery>,
) -> Result<HttpResponse, PageError> {
    let flash = (query.done == "value")
        .then(|| crate::i18n::text(person.lang, "indicators.done").to_string());
    let owed = query.owed == "true";
    page(
        &state,
        &person,
        owed,
        (StatusCode::OK, flash, None, Typed::default()),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ValueForm {
    csrf: String,
    period: String,
    value: String,
    qualitative: String,
    note: String,
    /// The view the form was on ("true": the owed view), to return to.
    owed: String,
}

/// POST /indicators/{id}/values: the lead unit's clerk reports a period.
pub async fn submit(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<IndicatorId>,
    form: web::Form<ValueForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let id = id.into_inner();
    let owed = form.owed == "true";
    let value = match filled(&form.value).map(|v| v.parse::<f64>()) {
        None => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(_)) => Err(ApiError::invalid_field(
            "value",
            Message::new("数值无效", "not a number"),
        )),
    };
    let result = match value {
        Ok(value) => {
            let req = SubmitValue {
                period: form.period.clone(),
                value,
                qualitative: filled(&form.qualitative),
                note: filled(&form.note),
            };
            let clock = state.clock();
            let auth = person.auth.clone();
            state
                .db(move |conn| values::submit(conn, &auth, id, req, clock.today, clock.now))
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    let err = match result {
        Ok(()) => {
            let back = if owed { "owed=true&" } else { "" };
            return Ok(see_other(&format!("/indicators?{back}done=value")));
        }
        Err(e) => e,
    };
    let status = err.status_code();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(lang, err));
    }
    let typed = Typed {
        indicator_id: Some(id),
        period: form.period,
        value: form.value,
        qualitative: form.qualitative,
        note: form.note,
    };
    page(
        &state,
        &person,
        owed,
        (status, None, Some(err.sentence(lang)), typed),
    )
    .await
}
