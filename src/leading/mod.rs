//! 我分管的 (a leader's share): the tasks a leader is responsible or
//! co-responsible for, counted by light for each lead unit, and how those
//! units stand in the latest published bulletin (or, before the first one,
//! in the running month's ranking). Every count is the task list's own
//! `leader_id` filter, so each links to exactly the tasks it counts.

use std::collections::BTreeMap;

use chrono::Datelike;
use diesel::prelude::*;
use serde::Serialize;

use crate::bulletins::BulletinRow;
use crate::db::schema::{bulletins, units};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::BulletinStatus;
use crate::domain::period::Period;
use crate::domain::scoring::Policy;
use crate::domain::traffic::TrafficLight;
use crate::domain::{UnitId, UserId};
use crate::error::{Error, Result};
use crate::http::Paging;
use crate::rankings::RankingRow;
use crate::tasks::input::ListFilter;
use crate::tasks::service;
use crate::tasks::visibility::Scope;

/// The most tasks one leader's share reads at once; a leader directs tens.
const SHARE_MAX: i64 = 10_000;

/// One lead unit's tasks in the share, by light.
#[derive(Debug, Serialize)]
pub struct UnitShare {
    pub unit_id: UnitId,
    pub name: String,
    /// Every task of the share the unit leads (drafts and cancelled ones too).
    pub total: i64,
    pub red: i64,
    pub yellow: i64,
    pub green: i64,
}

/// Where the standing comes from.
#[derive(Debug, Serialize)]
pub struct StandingSource {
    /// The published bulletin's number (2026年第3期), when there is one.
    pub bulletin_id: Option<i64>,
    pub number_label: Option<String>,
    /// The period ranked (2026-11).
    pub period: String,
    /// True when no bulletin is published yet: the running month's ranking.
    pub live: bool,
}

/// The leader's share: the lead units with their counts, the totals, and
/// the units' lines in the ranking.
#[derive(Debug, Serialize)]
pub struct Share {
    pub leader_id: UserId,
    pub units: Vec<UnitShare>,
    pub total: i64,
    pub red: i64,
    pub yellow: i64,
    pub green: i64,
    pub source: StandingSource,
    /// The ranking lines of the share's lead units, best rank first
    /// (unranked units last).
    pub standing: Vec<RankingRow>,
}

/// The share of `leader` within `scope` (the leader's own sight).
pub fn share(
    conn: &mut DbConnection,
    scope: Scope,
    leader: UserId,
    policy: &Policy,
    clock: &Clock,
) -> Result<Share> {
    let filter = ListFilter {
        leader_id: Some(leader),
        ..ListFilter::default()
    };
    let paging = Paging {
        page: 1,
        per_page: SHARE_MAX,
    };
    let tasks = service::list(conn, scope, &filter, paging, clock)?.items;
    let mut by_unit: BTreeMap<UnitId, UnitShare> = BTreeMap::new();
    for t in &tasks {
        let line = by_unit.entry(t.lead_unit_id).or_insert_with(|| UnitShare {
            unit_id: t.lead_unit_id,
            name: String::new(),
            total: 0,
            red: 0,
            yellow: 0,
            green: 0,
        });
        line.total += 1;
        match t.light {
            Some(TrafficLight::Red) => line.red += 1,
            Some(TrafficLight::Yellow) => line.yellow += 1,
            Some(TrafficLight::Green) => line.green += 1,
            None => {}
        }
    }
    let ids: Vec<UnitId> = by_unit.keys().copied().collect();
    let names: Vec<(UnitId, String, String)> = units::table
        .filter(units::id.eq_any(&ids))
        .select((units::id, units::code, units::name))
        .load(conn)?;
    let mut lines: Vec<(String, UnitShare)> = Vec::new();
    for (id, mut line) in by_unit {
        let (code, name) = names
            .iter()
            .find(|n| n.0 == id)
            .map(|n| (n.1.clone(), n.2.clone()))
            .unwrap_or_else(|| (String::new(), id.to_string()));
        line.name = name;
        lines.push((code, line));
    }
    // The most red first, then by the units' own order (their codes).
    lines.sort_by(|a, b| (b.1.red, b.1.yellow, &a.0).cmp(&(a.1.red, a.1.yellow, &b.0)));
    let units: Vec<UnitShare> = lines.into_iter().map(|l| l.1).collect();
    let (source, mut standing) = standing(conn, policy, clock)?;
    standing.retain(|r| ids.contains(&r.unit.id));
    standing.sort_by_key(|r| (r.rank.is_none(), r.rank, r.unit.code.clone()));
    Ok(Share {
        leader_id: leader,
        total: units.iter().map(|u| u.total).sum(),
        red: units.iter().map(|u| u.red).sum(),
        yellow: units.iter().map(|u| u.yellow).sum(),
        green: units.iter().map(|u| u.green).sum(),
        units,
        source,
        standing,
    })
}

/// Every unit's line in the latest published bulletin, or in the running
/// month's ranking when none is published yet.
fn standing(
    conn: &mut DbConnection,
    policy: &Policy,
    clock: &Clock,
) -> Result<(StandingSource, Vec<RankingRow>)> {
    let latest: Option<BulletinRow> = bulletins::table
        .filter(bulletins::status.eq(BulletinStatus::Published))
        .select(BulletinRow::as_select())
        .order((bulletins::period_end.desc(), bulletins::id.desc()))
        .first(conn)
        .optional()?;
    if let Some(b) = latest {
        let snapshot = b.snapshot()?;
        let source = StandingSource {
            bulletin_id: Some(b.id.0),
            number_label: b.number_label(),
            period: b.period.clone(),
            live: false,
        };
        let ranking = snapshot.ranking;
        return Ok((
            source,
            ranking.ranked.into_iter().chain(ranking.unranked).collect(),
        ));
    }
    let month = format!("{:04}-{:02}", clock.today.year(), clock.today.month());
    let period = Period::parse(&month)
        .map_err(|m| Error::Internal(anyhow::anyhow!("current month {month}: {}", m.en)))?;
    // The standings only: the overdue tasks' words are not read.
    let (ranking, _) = crate::rankings::ranking_and_overdue(conn, period, policy, clock)?;
    let source = StandingSource {
        bulletin_id: None,
        number_label: None,
        period: ranking.period.clone(),
        live: true,
    };
    Ok((
        source,
        ranking.ranked.into_iter().chain(ranking.unranked).collect(),
    ))
}
