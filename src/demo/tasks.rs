//! The programme's tasks, each with a simulated history up to today (signed
//! for, reported on, submitted on time, late or not at all), written through
//! the task service like any other task; and the extensions granted.

use std::collections::HashMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::Rng;

use super::city::{City, People, DEPARTMENT_TASKS, PARK_TASKS, TOWNSHIP_TASKS};
use super::failed;
use crate::db::schema::{extensions, plans, progress_reports, task_events, tasks};
use crate::db::DbConnection;
use crate::domain::kinds::{Category, ExtensionStatus, PlanStatus, Priority};
use crate::domain::period::Period;
use crate::domain::task_state::TaskStatus;
use crate::domain::{PlanId, TaskId, UnitId, UserId};
use crate::tasks::input::{NewTask, TaskLinks};
use crate::tasks::service::Origin;

/// The first day of the month `offset` months from `day`'s.
pub(super) fn month_start(day: NaiveDate, offset: i32) -> NaiveDate {
    let months = day.year() * 12 + day.month0() as i32 + offset;
    NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(day)
}

fn day_in_month(day: NaiveDate, offset: i32, dom: u32) -> NaiveDate {
    let start = month_start(day, offset);
    let last = Period::parse(&format!("{}-{:02}", start.year(), start.month()))
        .map(|p| p.end)
        .unwrap_or(start);
    start.with_day(dom).unwrap_or(last).min(last)
}

/// How a task turned out.
enum Outcome {
    OnTime,
    Late,
    Open,
}

/// Writes the demo's history: the connection, the time zone, the seeded
/// generator and the people who act.
pub(super) struct Builder<'a> {
    pub conn: &'a mut DbConnection,
    pub tz: chrono_tz::Tz,
    pub rng: StdRng,
    pub today: NaiveDate,
    /// The first day of the simulated history.
    pub start: NaiveDate,
    pub office_user: i64,
    /// Clerk by unit id.
    pub clerks: HashMap<i64, i64>,
}

impl Builder<'_> {
    /// A UTC instant for local `day` at `hour`.
    pub fn at(&self, day: NaiveDate, hour: u32) -> NaiveDateTime {
        let local = day.and_hms_opt(hour, 0, 0).unwrap_or_default();
        self.tz
            .from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.naive_utc())
    }

    pub fn event(
        &mut self,
        task: TaskId,
        kind: &str,
        actor: i64,
        unit: Option<i64>,
        note: Option<&str>,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(task_events::table)
            .values((
                task_events::task_id.eq(task),
                task_events::kind.eq(kind),
                task_events::actor_id.eq(actor),
                task_events::unit_id.eq(unit),
                task_events::note.eq(note),
                task_events::created_at.eq(at),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// One task with its history up to today, as `outcome` decides.
    #[allow(clippy::too_many_arguments)]
    fn task(
        &mut self,
        plan: i64,
        code: String,
        title: &str,
        lead: i64,
        coops: &[i64],
        leader: Option<i64>,
        due: NaiveDate,
        diligence: f64,
    ) -> anyhow::Result<TaskId> {
        let assigned_on = self.start.min(due - Duration::days(5));
        let accepted_on = (assigned_on + Duration::days(self.rng.gen_range(0..4))).min(self.today);
        let roll: f64 = self.rng.gen();
        let outcome = if due >= self.today {
            if roll < diligence * 0.3 {
                Outcome::OnTime
            } else {
                Outcome::Open
            }
        } else if roll < diligence {
            Outcome::OnTime
        } else if roll < diligence + (1.0 - diligence) * 0.5 {
            Outcome::Late
        } else {
            Outcome::Open
        };
        let submitted_on = match outcome {
            Outcome::OnTime => {
                let early = self.rng.gen_range(0..12);
                Some(
                    (due - Duration::days(early))
                        .max(accepted_on)
                        .min(self.today),
                )
            }
            Outcome::Late => {
                let late = (due + Duration::days(self.rng.gen_range(1..20)))
                    .min(self.today - Duration::days(1));
                Some(late.max(due + Duration::days(1)).min(self.today))
            }
            Outcome::Open => None,
        };
        // A submission in the last two days still awaits the office's check.
        let status = match submitted_on {
            Some(d) if d >= self.today - Duration::days(1) => TaskStatus::Submitted,
            Some(_) => TaskStatus::Completed,
            None => TaskStatus::InProgress,
        };
        let progress = match status {
            TaskStatus::InProgress => self.rng.gen_range(10..90),
            _ => 100,
        };
        let clerk = self.clerks.get(&lead).copied().unwrap_or(self.office_user);
        let created = self.at(assigned_on, 9);
        let new = NewTask {
            links: TaskLinks {
                plan_id: PlanId(plan),
                parent_id: None,
                lead_unit_id: UnitId(lead),
                cooperating_unit_ids: coops.iter().copied().map(UnitId).collect(),
                responsible_leader_id: leader.map(UserId),
                co_leader_ids: Vec::new(),
            },
            code,
            title: title.to_string(),
            description: None,
            start_date: Some(assigned_on),
            due_date: Some(due),
            due_text: None,
            due_in_working_days: None,
            priority: Priority::Normal,
            category: Category::KeyTask,
            evidence_required: false,
            report_day: None,
            report_cadence: crate::domain::report_cycle::ReportCadence::Monthly,
        };
        let origin = Origin {
            actor: Some(UserId(self.office_user)),
            assigned: true,
            note: None,
        };
        let id = crate::tasks::service::create(self.conn, origin, new, created)
            .map_err(|e| failed("creating a task", e.into()))?
            .id;
        // What happened since, simulated: the unit signed for it and worked on it.
        diesel::update(tasks::table.find(id))
            .set((
                tasks::status.eq(status),
                tasks::progress.eq(progress),
                tasks::accepted_at.eq(self.at(accepted_on, 10)),
                tasks::submitted_at.eq(submitted_on.map(|d| self.at(d, 16))),
                tasks::submitted_on.eq(submitted_on),
                tasks::completed_at.eq((status == TaskStatus::Completed)
                    .then(|| self.at(submitted_on.unwrap_or(due) + Duration::days(1), 11))),
            ))
            .execute(self.conn)?;
        let office = self.office_user;
        self.event(
            id,
            "accepted",
            clerk,
            Some(lead),
            None,
            self.at(accepted_on, 10),
        )?;
        let report_on = (accepted_on + Duration::days(7)).min(self.today);
        let reported = self.at(report_on, 15);
        diesel::insert_into(progress_reports::table)
            .values((
                progress_reports::task_id.eq(id),
                progress_reports::unit_id.eq(lead),
                progress_reports::author_id.eq(clerk),
                progress_reports::percent.eq(progress.min(60)),
                progress_reports::body.eq("已制定工作方案，明确责任人和时间节点，正在推进。"),
                progress_reports::created_at.eq(reported),
            ))
            .execute(self.conn)?;
        self.event(
            id,
            "reported",
            clerk,
            Some(lead),
            Some("已制定工作方案，正在推进"),
            reported,
        )?;
        if let Some(d) = submitted_on {
            self.event(
                id,
                "submitted",
                clerk,
                Some(lead),
                Some("已按要求完成"),
                self.at(d, 16),
            )?;
            if status == TaskStatus::Completed {
                self.event(
                    id,
                    "verified",
                    office,
                    None,
                    Some("经核验，完成情况属实"),
                    self.at(d + Duration::days(1), 11),
                )?;
            }
        }
        Ok(id)
    }
}

/// The programme: every department measure, and every township's and
/// zone's own measures, `scale` times over. Returns how many tasks.
pub(super) fn programme(
    b: &mut Builder,
    plan: i64,
    city: &City,
    people: &People,
    scale: u32,
) -> anyhow::Result<usize> {
    let today = b.today;
    let [leader_a, leader_b] = people.leaders;
    let depts = &city.depts;
    let mut count = 0;
    for k in 1..=scale {
        for (i, (lead, coops, title, month, day)) in DEPARTMENT_TASKS.iter().enumerate() {
            let (lead_id, diligence) = depts[lead];
            let coop_ids: Vec<i64> = coops.iter().map(|c| depts[c].0).collect();
            let due = day_in_month(today, *month, *day);
            let leader = if i % 2 == 0 { leader_a } else { leader_b };
            let code = if k == 1 {
                format!("1.{}", i + 1)
            } else {
                format!("1.{}-{k}", i + 1)
            };
            b.task(
                plan,
                code,
                title,
                lead_id,
                &coop_ids,
                Some(leader),
                due,
                diligence,
            )?;
            count += 1;
        }
    }
    for (t, (id, code, name, diligence)) in city.towns.iter().enumerate() {
        for (i, (title, coop, month, day)) in TOWNSHIP_TASKS.iter().enumerate() {
            // Townships finish within a few days of each other, not all on one day.
            let due = day_in_month(today, *month, *day) + Duration::days((t % 3) as i64);
            let leader = if t % 2 == 0 { leader_a } else { leader_b };
            let title = format!("{name}：{title}");
            b.task(
                plan,
                format!("2.{}.{code}", i + 1),
                &title,
                *id,
                &[depts[coop].0],
                Some(leader),
                due,
                *diligence,
            )?;
            count += 1;
        }
    }
    for (id, code, name, diligence) in &city.parks {
        for (i, (title, coop, month, day)) in PARK_TASKS.iter().enumerate() {
            let due = day_in_month(today, *month, *day);
            let title = format!("{name}：{title}");
            b.task(
                plan,
                format!("3.{}.{code}", i + 1),
                &title,
                *id,
                &[depts[coop].0],
                Some(leader_a),
                due,
                *diligence,
            )?;
            count += 1;
        }
    }
    Ok(count)
}

/// The year's plan the programme's tasks belong to.
pub(super) fn plan(
    conn: &mut DbConnection,
    today: NaiveDate,
    created_at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(plans::table)
        .values((
            plans::title.eq(format!(
                "创建国家生态文明建设示范市实施方案（{}年）",
                today.year()
            )),
            plans::year.eq(today.year()),
            plans::description
                .eq("按照“党委领导、政府负责、部门协同、全民参与”的要求，分解落实创建目标任务。"),
            plans::status.eq(PlanStatus::Active),
            plans::created_at.eq(created_at),
            plans::updated_at.eq(created_at),
        ))
        .returning(plans::id)
        .get_result(conn)
}

/// Three departments were granted extensions last month.
pub(super) fn extensions(b: &mut Builder) -> QueryResult<()> {
    let (today, office_user) = (b.today, b.office_user);
    let extended: Vec<(TaskId, Option<NaiveDate>)> = tasks::table
        .filter(tasks::code.eq_any(["1.2", "1.6", "1.12"]))
        .select((tasks::id, tasks::due_date))
        .load(b.conn)?;
    for (id, due) in extended {
        let Some(due) = due else { continue };
        let old = due - Duration::days(10);
        let decided = b.at((old - Duration::days(3)).min(today), 10);
        diesel::insert_into(extensions::table)
            .values((
                extensions::task_id.eq(id),
                extensions::requested_by.eq(office_user),
                extensions::old_due_date.eq(old),
                extensions::new_due_date.eq(due),
                extensions::reason.eq("受汛期和施工条件影响，申请延期"),
                extensions::status.eq(ExtensionStatus::Approved),
                extensions::decided_by.eq(office_user),
                extensions::decided_at.eq(decided),
                extensions::created_at.eq(decided - Duration::days(2)),
            ))
            .execute(b.conn)?;
        diesel::update(tasks::table.find(id))
            .set(tasks::original_due_date.eq(old))
            .execute(b.conn)?;
    }
    Ok(())
}
