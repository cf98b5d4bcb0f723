//! The tasks of the benchmark city, with their cooperating units, timeline
//! events and latest progress report, written a chunk at a time. Every tenth
//! task heads a small family of three sub-tasks, so a task's roll-up has
//! something to roll up.

use std::ops::Range;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::QueryResult;
use rand::rngs::StdRng;
use rand::Rng;

use super::batch::{self, boolean, opt, text, Batch};
use super::{day_near, BenchOptions, People, TASKS_PER_PLAN};
use crate::db::DbConnection;

const TITLES: [&str; 8] = [
    "农村生活垃圾集中收集清运",
    "秸秆禁烧和综合利用",
    "河道“清四乱”专项整治",
    "农村户用卫生厕所改造",
    "建筑工地扬尘治理",
    "饮用水水源地规范化建设",
    "重点企业清洁生产审核",
    "城镇生活垃圾分类",
];

/// An event to write: kind, actor, unit, note, when.
type Event<'s> = (
    &'s str,
    &'s str,
    Option<&'s str>,
    Option<&'s str>,
    NaiveDateTime,
);

const REPORT: &str = "已制定工作方案，明确责任人和时间节点，正在推进。";

/// How a task stands today.
#[derive(Clone, Copy, PartialEq)]
enum Standing {
    /// Open and past its due date.
    Overdue,
    Completed,
    Submitted,
    /// Open, due today or later.
    Open,
}

pub(super) struct Writer<'a> {
    options: &'a BenchOptions,
    people: &'a People,
    plans: &'a [i64],
    first_task: i64,
    created_at: NaiveDateTime,
    tasks: Batch,
    cooperators: Batch,
    pub events: Batch,
    pub reports: Batch,
    pub overdue: u64,
}

impl<'a> Writer<'a> {
    pub fn new(
        options: &'a BenchOptions,
        people: &'a People,
        plans: &'a [i64],
        first_task: i64,
        created_at: NaiveDateTime,
    ) -> Writer<'a> {
        Writer {
            options,
            people,
            plans,
            first_task,
            created_at,
            tasks: Batch::new(
                "tasks",
                &[
                    "id",
                    "plan_id",
                    "parent_id",
                    "code",
                    "title",
                    "lead_unit_id",
                    "responsible_leader_id",
                    "start_date",
                    "due_date",
                    "original_due_date",
                    "priority",
                    "category",
                    "status",
                    "evidence_required",
                    "report_day",
                    "progress",
                    "assigned_at",
                    "accepted_at",
                    "submitted_at",
                    "submitted_on",
                    "completed_at",
                    "created_at",
                    "updated_at",
                ],
            ),
            cooperators: Batch::new("task_cooperators", &["task_id", "unit_id"]),
            events: Batch::new(
                "task_events",
                &[
                    "task_id",
                    "kind",
                    "actor_id",
                    "unit_id",
                    "note",
                    "created_at",
                ],
            ),
            reports: Batch::new(
                "progress_reports",
                &[
                    "task_id",
                    "unit_id",
                    "author_id",
                    "percent",
                    "body",
                    "created_at",
                ],
            ),
            overdue: 0,
        }
    }

    /// Tasks number `range` (0-based), all their rows, flushed.
    pub fn chunk(
        &mut self,
        conn: &mut DbConnection,
        rng: &mut StdRng,
        range: Range<u64>,
    ) -> QueryResult<()> {
        // Parents first: a sub-task's row names its parent's id.
        for n in range {
            self.task(rng, n);
            if self.tasks.full() || self.events.full() || self.reports.full() {
                self.flush(conn)?;
            }
        }
        self.flush(conn)
    }

    /// Writes what is pending, the tasks before the rows that name them.
    fn flush(&mut self, conn: &mut DbConnection) -> QueryResult<()> {
        self.tasks.flush(conn)?;
        self.cooperators.flush(conn)?;
        self.events.flush(conn)?;
        self.reports.flush(conn)
    }

    fn task(&mut self, rng: &mut StdRng, n: u64) {
        let today = self.options.today;
        let units = &self.people.working_units;
        let id = self.first_task + n as i64;
        let k = (n % units.len() as u64) as usize;
        let (lead, clerk) = (units[k], self.people.clerks[k]);
        let plan = self.plans[(n / TASKS_PER_PLAN) as usize];
        let parent = (n % 10 >= 7).then(|| self.first_task + (n - n % 10) as i64);
        let roll = rng.gen_range(0..100u32);
        let overdue = self.options.overdue_percent;
        let standing = if roll < overdue {
            Standing::Overdue
        } else if roll < overdue + 35 {
            Standing::Completed
        } else if roll < overdue + 40 {
            Standing::Submitted
        } else {
            Standing::Open
        };
        let due = match standing {
            Standing::Overdue => day_near(rng, today, -90..=-1),
            Standing::Completed => day_near(rng, today, -180..=30),
            Standing::Submitted | Standing::Open => day_near(rng, today, 0..=240),
        };
        let assigned_at = self.created_at + Duration::hours(rng.gen_range(0..24 * 30));
        let accepted_at = assigned_at + Duration::hours(rng.gen_range(2..72));
        let submitted_on: Option<NaiveDate> = match standing {
            Standing::Completed => {
                // One in five late.
                let d = if rng.gen_range(0..5) == 0 {
                    day_near(rng, due, 1..=20)
                } else {
                    day_near(rng, due, -20..=0)
                };
                Some(d.min(today).max(accepted_at.date()))
            }
            Standing::Submitted => Some(day_near(rng, today, -5..=0).max(accepted_at.date())),
            _ => None,
        };
        let submitted_at = submitted_on.map(|d| d.and_hms_opt(8, 0, 0).unwrap_or_default());
        let completed_at = match standing {
            Standing::Completed => submitted_at.map(|t| t + Duration::days(1)),
            _ => None,
        };
        let (status, progress) = match standing {
            Standing::Completed => ("completed", 100),
            Standing::Submitted => ("submitted", 100),
            _ if rng.gen_range(0..5) == 0 => ("assigned", 0),
            _ => ("in_progress", rng.gen_range(10..90)),
        };
        if standing == Standing::Overdue {
            self.overdue += 1;
        }
        let priority = match rng.gen_range(0..10) {
            0 => "high",
            1 | 2 => "low",
            _ => "normal",
        };
        let updated_at = completed_at.or(submitted_at).unwrap_or(accepted_at);
        let leader = self.people.leaders[(n % 2) as usize];
        let accepted = status != "assigned";
        self.tasks.push(&[
            &id.to_string(),
            &plan.to_string(),
            &opt(parent, |p| p.to_string()),
            &text(&format!("BT{n:07}")),
            &text(&format!("{}（{}）", TITLES[(n % 8) as usize], n + 1)),
            &lead.to_string(),
            &leader.to_string(),
            &batch::date(self.created_at.date()),
            &batch::date(due),
            &batch::date(due),
            &text(priority),
            &text("key_task"),
            &text(status),
            boolean(n.is_multiple_of(3)),
            &opt(n.is_multiple_of(4).then_some(25), |d: i32| d.to_string()),
            &progress.to_string(),
            &batch::at(assigned_at),
            &opt(accepted.then_some(accepted_at), batch::at),
            &opt(submitted_at, batch::at),
            &opt(submitted_on, batch::date),
            &opt(completed_at, batch::at),
            &batch::at(self.created_at),
            &batch::at(updated_at),
        ]);
        if units.len() > 1 && rng.gen_range(0..5) == 0 {
            let other = units[(k + 1 + rng.gen_range(0..units.len() - 1)) % units.len()];
            if other != lead {
                self.cooperators
                    .push(&[&id.to_string(), &other.to_string()]);
            }
        }
        self.timeline(
            rng,
            (id, lead, clerk),
            accepted,
            (accepted_at, submitted_at, completed_at),
            progress,
        )
    }

    /// The task's events: assigned, accepted, progress reports, submitted,
    /// verified, as many as the average asks (rounded at random), and the
    /// latest report's row.
    #[allow(clippy::too_many_arguments)]
    fn timeline(
        &mut self,
        rng: &mut StdRng,
        (id, lead, clerk): (i64, i64, i64),
        accepted: bool,
        (accepted_at, submitted_at, completed_at): (
            NaiveDateTime,
            Option<NaiveDateTime>,
            Option<NaiveDateTime>,
        ),
        progress: i32,
    ) {
        let per_task = self.options.events as f64 / self.options.tasks as f64;
        let mut wanted = per_task.floor() as u64;
        if rng.gen_bool((per_task - per_task.floor()).clamp(0.0, 1.0)) {
            wanted += 1;
        }
        let office = self.people.office_user;
        let (id, lead_s, clerk_s, office_s) = (
            id.to_string(),
            lead.to_string(),
            clerk.to_string(),
            office.to_string(),
        );
        let mut events: Vec<Event> = vec![("assigned", &office_s, None, None, self.created_at)];
        if accepted {
            events.push(("accepted", &clerk_s, Some(&lead_s), None, accepted_at));
        }
        let closing = usize::from(submitted_at.is_some()) + usize::from(completed_at.is_some());
        let reports = (wanted as usize).saturating_sub(events.len() + closing);
        let until = submitted_at
            .unwrap_or_else(|| self.options.today.and_hms_opt(7, 0, 0).unwrap_or_default());
        let mut last_report = None;
        if accepted {
            let span = (until - accepted_at).num_minutes().max(reports as i64 + 1);
            for r in 0..reports {
                let t =
                    accepted_at + Duration::minutes(span * (r as i64 + 1) / (reports as i64 + 1));
                events.push(("reported", &clerk_s, Some(&lead_s), Some("工作正在推进"), t));
                last_report = Some(t);
            }
        }
        if let Some(t) = submitted_at {
            events.push((
                "submitted",
                &clerk_s,
                Some(&lead_s),
                Some("已按要求完成"),
                t,
            ));
        }
        if let Some(t) = completed_at {
            events.push(("verified", &office_s, None, Some("经核验，完成情况属实"), t));
        }
        for (kind, actor, unit, note, at) in events.into_iter().take(wanted.max(1) as usize) {
            self.events.push(&[
                &id,
                &text(kind),
                actor,
                unit.unwrap_or("NULL"),
                &opt(note, text),
                &batch::at(at),
            ]);
        }
        if let Some(t) = last_report {
            self.reports.push(&[
                &id,
                &lead_s,
                &clerk_s,
                &progress.min(99).to_string(),
                &text(REPORT),
                &batch::at(t),
            ]);
        }
    }
}
