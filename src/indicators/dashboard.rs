//! The indicator dashboard: every indicator's latest value against its
//! target, the trend from the value before, and any reports overdue, grouped
//! by the six domains.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::values::{owed_reports, ValueRow, ValueView};
use super::{list, IndicatorView, Sight};
use crate::db::schema::indicator_values;
use crate::db::DbConnection;
use crate::domain::indicator::Attainment;
use crate::domain::kinds::{IndicatorDomain, ValueStatus};
use crate::domain::IndicatorId;
use crate::error::Result;

#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardEntry {
    pub indicator: IndicatorView,
    /// The latest reported (not returned) value.
    pub latest: Option<ValueView>,
    /// up, down or flat against the value reported before; null without two numbers.
    pub trend: Option<String>,
    /// Periods whose report is past due and not in (oldest first).
    pub overdue_periods: Vec<String>,
    /// Days since the oldest missing report was due.
    pub days_overdue: i64,
    /// The next report owed: its period and due date.
    pub next_period: Option<String>,
    pub next_due: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainGroup {
    pub domain: IndicatorDomain,
    pub met: usize,
    pub not_met: usize,
    /// Indicators with nothing reported yet.
    pub no_value: usize,
    /// Indicators with a report overdue.
    pub overdue: usize,
    pub indicators: Vec<DashboardEntry>,
}

pub fn dashboard(
    conn: &mut DbConnection,
    sight: Sight,
    today: NaiveDate,
) -> Result<Vec<DomainGroup>> {
    let catalogue = list(conn, sight)?;
    let mut values: HashMap<IndicatorId, Vec<ValueRow>> = HashMap::new();
    let rows: Vec<ValueRow> = indicator_values::table
        .filter(indicator_values::status.ne(ValueStatus::Returned))
        .select(ValueRow::as_select())
        .order(indicator_values::period_start.desc())
        .load(conn)?;
    for r in rows {
        values.entry(r.indicator_id).or_default().push(r);
    }
    // Owed through a year ahead, to find each indicator's next report.
    let owed = owed_reports(conn, today + chrono::Duration::days(400))?;
    let mut groups: Vec<DomainGroup> = IndicatorDomain::ALL
        .into_iter()
        .map(|domain| DomainGroup {
            domain,
            met: 0,
            not_met: 0,
            no_value: 0,
            overdue: 0,
            indicators: Vec::new(),
        })
        .collect();
    let mut rows: HashMap<IndicatorId, super::IndicatorRow> = crate::db::schema::indicators::table
        .select(super::IndicatorRow::as_select())
        .load::<super::IndicatorRow>(conn)?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    for view in catalogue {
        let id = view.id;
        let mine = values.remove(&id).unwrap_or_default();
        let numbers: Vec<f64> = mine.iter().filter_map(|v| v.value).take(2).collect();
        let trend = match numbers[..] {
            [latest, before] if latest > before => Some("up".to_string()),
            [latest, before] if latest < before => Some("down".to_string()),
            [_, _] => Some("flat".to_string()),
            _ => None,
        };
        let reports: Vec<_> = owed.iter().filter(|r| r.indicator_id == id).collect();
        let overdue: Vec<_> = reports
            .iter()
            .filter(|r| r.reported_on.is_none() && r.due < today)
            .collect();
        let next = reports
            .iter()
            .find(|r| r.reported_on.is_none() && r.due >= today);
        let Some(row) = rows.remove(&id) else {
            continue;
        };
        let latest = mine.into_iter().next().map(|v| ValueView::of(v, &row));
        let Some(group) = groups.iter_mut().find(|g| g.domain == view.domain) else {
            continue;
        };
        match latest.as_ref().map(|l| l.attainment) {
            Some(Attainment::Met) => group.met += 1,
            Some(Attainment::NotMet) => group.not_met += 1,
            Some(Attainment::NoTarget) => {}
            None => group.no_value += 1,
        }
        group.overdue += usize::from(!overdue.is_empty());
        group.indicators.push(DashboardEntry {
            days_overdue: overdue.first().map_or(0, |r| (today - r.due).num_days()),
            overdue_periods: overdue.iter().map(|r| r.period.label()).collect(),
            next_period: next.map(|r| r.period.label()),
            next_due: next.map(|r| r.due),
            indicator: view,
            latest,
            trend,
        });
    }
    Ok(groups)
}
