//! The demo's indicators: the national template imported as the catalogue,
//! leads for those reported monthly or quarterly, and their reported values
//! (most on time, some late, one in five not at all).

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use rand::Rng;

use super::city::{City, REPORTED};
use super::failed;
use super::tasks::Builder;
use crate::config::Settings;
use crate::db::schema::{indicator_cooperators, indicator_values, indicators};
use crate::domain::indicator::{owed_periods, Frequency};
use crate::domain::kinds::ValueStatus;
use crate::domain::UserId;

/// Imports the catalogue and reports its values; returns how many indicators.
pub(super) fn load(
    b: &mut Builder,
    settings: &Settings,
    city: &City,
    created: NaiveDate,
) -> anyhow::Result<usize> {
    let (today, start, office_user) = (b.today, b.start, b.office_user);
    let depts = &city.depts;
    let template = crate::import::read_table(
        include_bytes!("../../docs/indicators-template.csv"),
        crate::import::FileKind::Csv,
        &crate::import::Limits::of(settings),
    )
    .map_err(|m| anyhow::anyhow!("{}", m.en))?;
    let imported = crate::indicators::catalogue::import(
        b.conn,
        UserId(office_user),
        &template,
        today,
        b.at(created, 9),
    )
    .map_err(|e| failed("importing the indicator catalogue", e.into()))?;
    for (number, lead, coops, frequency) in REPORTED {
        let coop_ids: Vec<i64> = coops.iter().map(|c| depts[c].0).collect();
        let id: i64 = indicators::table
            .filter(indicators::number.eq(number))
            .select(indicators::id)
            .first(b.conn)?;
        diesel::update(indicators::table.find(id))
            .set((
                indicators::lead_unit_id.eq(depts[lead].0),
                indicators::frequency.eq(frequency),
                indicators::report_day.eq(10),
                indicators::reporting_from.eq(start),
            ))
            .execute(b.conn)?;
        for c in coop_ids {
            diesel::insert_into(indicator_cooperators::table)
                .values((
                    indicator_cooperators::indicator_id.eq(id),
                    indicator_cooperators::unit_id.eq(c),
                ))
                .execute(b.conn)?;
        }
        let freq = Frequency::parse(frequency).map_err(|m| anyhow::anyhow!("{}", m.en))?;
        for (period, due) in owed_periods(freq, 10, start, today) {
            let roll: f64 = b.rng.gen();
            let on = if roll < 0.6 {
                due - Duration::days(b.rng.gen_range(0..5))
            } else if roll < 0.8 {
                due + Duration::days(b.rng.gen_range(1..8))
            } else {
                continue;
            };
            if on > today {
                continue;
            }
            let value: f64 = (b.rng.gen_range(70.0..100.0_f64) * 10.0).round() / 10.0;
            diesel::insert_into(indicator_values::table)
                .values((
                    indicator_values::indicator_id.eq(id),
                    indicator_values::period.eq(period.label()),
                    indicator_values::period_start.eq(period.start),
                    indicator_values::period_end.eq(period.end),
                    indicator_values::due_date.eq(due),
                    indicator_values::value.eq(value),
                    indicator_values::status.eq(ValueStatus::Verified),
                    indicator_values::submitted_by.eq(b.clerks[&depts[lead].0]),
                    indicator_values::submitted_on.eq(on),
                    indicator_values::submitted_at.eq(b.at(on, 15)),
                    indicator_values::decided_by.eq(office_user),
                    indicator_values::decided_at.eq(b.at(on, 17)),
                ))
                .execute(b.conn)?;
        }
    }
    Ok(imported.created)
}
