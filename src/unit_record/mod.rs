//! A unit's record (单位履职档案): its tasks and lateness, the notices it
//! received (and those that could not reach it), its accountability records
//! and its place in every published bulletin. It reads across the slices
//! (units, tasks, notices, accountability, bulletins), so it lives above
//! them rather than in `units`, which they all refer to.

pub mod chart;
pub mod routes;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::accountability::{RecordRow, RecordView};
use crate::bulletins::BulletinRow;
use crate::db::schema::{
    accountability_records as records, bulletins, notices, task_cooperators, tasks,
};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::{BulletinStatus, Channel, NoticeStatus};
use crate::domain::traffic::TrafficLight;
use crate::domain::{BulletinId, UnitId};
use crate::error::{Error, Result};
use crate::notices::{NoticeRow, NoticeView};
use crate::rankings::UnitRef;

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordTask {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub status: String,
    pub due_date: Option<NaiveDate>,
    pub submitted_on: Option<NaiveDate>,
    /// Days overdue today (open tasks) or days late (finished late).
    pub days_late: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinStanding {
    pub bulletin_id: BulletinId,
    pub period: String,
    pub number_label: Option<String>,
    pub rank: Option<u32>,
    pub score: Option<f64>,
    pub light: Option<TrafficLight>,
    pub criticised: bool,
    pub commended: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitRecord {
    pub unit: UnitRef,
    /// Tasks the unit leads, by status.
    pub tasks_by_status: BTreeMap<String, i64>,
    pub cooperating_tasks: i64,
    /// Open tasks past their due date today, most overdue first.
    pub overdue: Vec<RecordTask>,
    /// Tasks finished after their due date, most recent first.
    pub finished_late: Vec<RecordTask>,
    /// Notices to the unit by step (reminder_7, chase_1, supervise_7, bulletin, …).
    pub notices_by_step: BTreeMap<String, i64>,
    /// Notices that could not be delivered (dead), with the reason.
    pub undelivered: Vec<NoticeView>,
    pub accountability: Vec<RecordView>,
    /// Published bulletins, newest first.
    pub bulletins: Vec<BulletinStanding>,
}

type TaskLine = (
    i64,
    String,
    String,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

pub fn record(conn: &mut DbConnection, id: UnitId, clock: &Clock) -> Result<UnitRecord> {
    let unit = crate::units::service::find(conn, id)?.ok_or(Error::NotFound)?;
    let lines: Vec<TaskLine> = tasks::table
        .filter(tasks::lead_unit_id.eq(id.0))
        .select((
            tasks::id,
            tasks::code,
            tasks::title,
            tasks::status,
            tasks::due_date,
            tasks::submitted_on,
        ))
        .order(tasks::id)
        .load(conn)?;
    let mut tasks_by_status = BTreeMap::new();
    let (mut overdue, mut finished_late) = (Vec::new(), Vec::new());
    for (task_id, code, title, status, due, submitted_on) in lines {
        *tasks_by_status.entry(status.clone()).or_insert(0) += 1;
        let Some(due) = due else { continue };
        let open = matches!(status.as_str(), "assigned" | "in_progress");
        let finished = matches!(status.as_str(), "submitted" | "completed");
        let line = |days_late| RecordTask {
            id: task_id,
            code: code.clone(),
            title: title.clone(),
            status: status.clone(),
            due_date: Some(due),
            submitted_on,
            days_late,
        };
        // Past due exactly as the traffic lights have it: due before today.
        if open && due < clock.today {
            overdue.push(line((clock.today - due).num_days()));
        } else if let Some(done) = submitted_on.filter(|d| finished && *d > due) {
            finished_late.push(line((done - due).num_days()));
        }
    }
    overdue.sort_by_key(|t| std::cmp::Reverse(t.days_late));
    finished_late.sort_by_key(|t| std::cmp::Reverse(t.submitted_on));
    let cooperating_tasks: i64 = task_cooperators::table
        .filter(task_cooperators::unit_id.eq(id.0))
        .count()
        .get_result(conn)?;
    let steps: Vec<(String, i64)> = notices::table
        .filter(notices::unit_id.eq(id.0))
        .filter(notices::channel.eq(Channel::Email))
        .filter(notices::status.ne(NoticeStatus::Cancelled))
        .group_by(notices::step)
        .select((notices::step, diesel::dsl::count_star()))
        .load(conn)?;
    let undelivered: Vec<NoticeRow> = notices::table
        .filter(notices::unit_id.eq(id.0))
        .filter(notices::status.eq(NoticeStatus::Dead))
        .select(NoticeRow::as_select())
        .order(notices::id.desc())
        .limit(100)
        .load(conn)?;
    let accountability: Vec<RecordRow> = records::table
        .filter(records::unit_id.eq(id.0))
        .select(RecordRow::as_select())
        .order(records::id.desc())
        .load(conn)?;
    let published: Vec<BulletinRow> = bulletins::table
        .filter(bulletins::status.eq(BulletinStatus::Published))
        .select(BulletinRow::as_select())
        .order((bulletins::period_end.desc(), bulletins::id.desc()))
        .load(conn)?;
    let mut standings = Vec::new();
    for b in published {
        let snapshot = b.snapshot()?;
        let line = snapshot
            .ranking
            .ranked
            .iter()
            .chain(&snapshot.ranking.unranked)
            .find(|r| r.unit.id == id);
        if let Some(r) = line {
            standings.push(BulletinStanding {
                bulletin_id: b.id,
                period: b.period.clone(),
                number_label: b.number_label(),
                rank: r.rank,
                score: r.score,
                light: r.light,
                criticised: r.criticised,
                commended: r.commended,
            });
        }
    }
    Ok(UnitRecord {
        unit: UnitRef {
            code: unit.code,
            id: unit.id,
            name: unit.name,
            kind: unit.kind,
        },
        tasks_by_status,
        cooperating_tasks,
        overdue,
        finished_late,
        notices_by_step: steps.into_iter().collect(),
        undelivered: undelivered.into_iter().map(NoticeView::from_row).collect(),
        accountability: accountability.into_iter().map(RecordView::from).collect(),
        bulletins: standings,
    })
}
