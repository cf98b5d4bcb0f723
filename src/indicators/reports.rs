//! The reports as the console lists them: what a lead unit owes (with each
//! period's stored status and the shape of value its target asks for), and
//! each indicator's latest period for those who only read. Built on
//! `values::owed_reports`, so "owed" means what the ladder and the rankings
//! mean: a period is reported once a value is submitted or verified, and a
//! returned value counts as not reported.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;

use super::values::{owed_reports, OwedReport};
use super::{IndicatorRow, IndicatorView, Sight};
use crate::db::schema::{indicator_values, indicators};
use crate::db::DbConnection;
use crate::domain::indicator::Comparison;
use crate::domain::kinds::ValueStatus;
use crate::domain::IndicatorId;
use crate::error::Result;

/// Reports due within this many days from today are listed as owed with the
/// late ones, so a unit sees the coming week's reports before they are late.
pub const OWED_AHEAD_DAYS: i64 = 7;

/// One period of one indicator: the owed report and what is stored for it.
#[derive(Debug, Clone)]
pub struct UnitReport {
    pub report: OwedReport,
    /// What the target asks for: a number (ge, le, eq, none) or met/not_met
    /// (qualitative).
    pub comparison: Comparison,
    pub measure_unit: Option<String>,
    /// `None` when nothing was sent.
    pub status: Option<ValueStatus>,
}

impl UnitReport {
    /// Not reported: nothing sent, or the office returned it.
    pub fn open(&self) -> bool {
        self.report.reported_on.is_none()
    }
}

/// The stored status of each (indicator, period start).
fn statuses(
    conn: &mut DbConnection,
    ids: &[IndicatorId],
) -> QueryResult<HashMap<(IndicatorId, NaiveDate), ValueStatus>> {
    Ok(indicator_values::table
        .filter(indicator_values::indicator_id.eq_any(ids))
        .select((
            indicator_values::indicator_id,
            indicator_values::period_start,
            indicator_values::status,
        ))
        .load::<(IndicatorId, NaiveDate, ValueStatus)>(conn)?
        .into_iter()
        .map(|(i, start, status)| ((i, start), status))
        .collect())
}

fn with_status(conn: &mut DbConnection, owed: Vec<OwedReport>) -> QueryResult<Vec<UnitReport>> {
    let mut ids: Vec<IndicatorId> = owed.iter().map(|r| r.indicator_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: HashMap<IndicatorId, IndicatorRow> = indicators::table
        .filter(indicators::id.eq_any(&ids))
        .select(IndicatorRow::as_select())
        .load::<IndicatorRow>(conn)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let mut statuses = statuses(conn, &ids)?;
    Ok(owed
        .into_iter()
        .map(|report| {
            let id = report.indicator_id;
            let row = rows.get(&id);
            UnitReport {
                comparison: row.map_or(Comparison::None, |r| r.target().comparison),
                measure_unit: row.and_then(|r| r.measure_unit.clone()),
                status: statuses.remove(&(id, report.period.start)),
                report,
            }
        })
        .collect())
}

/// The reports of the indicators `sight`'s unit leads that are due by
/// today + `OWED_AHEAD_DAYS`, oldest due first; with `open_only`, only those
/// not reported. Other sights owe nothing. The console's owed list and the
/// home's count both come from here, so they cannot disagree.
pub fn owed_by(
    conn: &mut DbConnection,
    sight: Sight,
    today: NaiveDate,
    open_only: bool,
) -> Result<Vec<UnitReport>> {
    let Sight::Unit(unit) = sight else {
        return Ok(Vec::new());
    };
    let owed: Vec<OwedReport> = owed_reports(conn, today + Duration::days(OWED_AHEAD_DAYS))?
        .into_iter()
        .filter(|r| r.lead_unit_id == unit)
        .collect();
    let mut out: Vec<UnitReport> = with_status(conn, owed)?
        .into_iter()
        .filter(|r| !open_only || r.open())
        .collect();
    out.sort_by(|a, b| {
        (a.report.due, super::number_order(&a.report.number))
            .cmp(&(b.report.due, super::number_order(&b.report.number)))
    });
    Ok(out)
}

/// Every indicator in sight with its latest period due by today (if any).
pub fn latest(
    conn: &mut DbConnection,
    sight: Sight,
    today: NaiveDate,
) -> Result<Vec<(IndicatorView, Option<UnitReport>)>> {
    let catalogue = super::list(conn, sight)?;
    // owed_reports lists each indicator's periods oldest first.
    let mut last: HashMap<IndicatorId, OwedReport> = HashMap::new();
    for report in owed_reports(conn, today)? {
        last.insert(report.indicator_id, report);
    }
    let mut reports: HashMap<IndicatorId, UnitReport> =
        with_status(conn, last.into_values().collect())?
            .into_iter()
            .map(|r| (r.report.indicator_id, r))
            .collect();
    Ok(catalogue
        .into_iter()
        .map(|view| {
            let report = reports.remove(&view.id);
            (view, report)
        })
        .collect())
}
