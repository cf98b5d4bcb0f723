//! What every pass of the scan reads, loaded once: the clock and the ladder,
//! where notices go (units, the office, leaders) and what may be owed (open
//! tasks with their cooperators and last reports, indicator reports not in).
//! Also who a notice goes to, the one routing rule the passes share.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::config::Settings;
use crate::db::schema::{instructions, supervision_orders, tasks, units, users};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::NoticeMode;
use crate::domain::ladder::{Ladder, Step};
use crate::domain::message::Lang;
use crate::domain::notice_step::NoticeStep;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TaskTiming;
use crate::domain::{InstructionId, OrderId, TaskId, UnitId, UnitKind, UserId};
use crate::indicators::values::OwedReport;
use crate::tasks::model::TaskRow;

pub(in crate::notices) struct UnitInfo {
    pub name: String,
    pub kind: UnitKind,
    pub active: bool,
    pub contacts: Vec<String>,
    pub head_email: Option<String>,
    pub robot: bool,
    /// Takes one daily digest instead of one email per task.
    pub digest: bool,
}

/// An assigned or in-progress task with what its notices depend on.
pub(in crate::notices) struct OpenTask {
    pub row: TaskRow,
    pub timing: TaskTiming,
    pub coops: Vec<UnitId>,
    /// The co-responsible leaders, copied with the responsible one.
    pub co_leaders: Vec<UserId>,
    /// The lead unit's latest progress report (the one that counts).
    pub last_lead_report: Option<NaiveDateTime>,
}

/// An instruction (批示) whose reply-by date has passed with no reply, on
/// an open task.
pub(in crate::notices) struct OwedInstruction {
    pub id: InstructionId,
    pub task_id: TaskId,
    pub author_id: UserId,
    pub body: String,
    pub reply_by: NaiveDate,
}

/// A supervision order (督办单) whose reply-by date has passed with no
/// receipt, on an open task.
pub(in crate::notices) struct OwedOrder {
    pub id: OrderId,
    pub task_id: TaskId,
    pub title: String,
    pub reply_by: NaiveDate,
}

/// One notice the scan wants to exist.
pub(in crate::notices) struct Wanted {
    pub step: NoticeStep,
    pub dedupe_key: String,
    pub event_kind: &'static str,
    pub recipients: Vec<String>,
    /// Units whose group robot also gets the notice.
    pub robots: Vec<UnitId>,
    /// Also propose accountability for the lead unit (the last rung).
    pub propose: bool,
    /// A unit concerned takes the daily digest instead of this email.
    pub digested: bool,
}

pub(in crate::notices) struct Context {
    /// `today` is the scan's day, which the command line may set.
    pub clock: Clock,
    pub ladder: Ladder,
    pub lang: Lang,
    /// For Message-IDs.
    pub mail_domain: String,
    /// Where links in notices point.
    pub base_url: String,
    /// When the notices written now may go (the next open send window).
    pub send_at: NaiveDateTime,
    /// Ordered by id, so notices are written in the same order every run.
    pub units: BTreeMap<UnitId, UnitInfo>,
    /// Every office unit, active or not (robots are checked when routing).
    pub office_units: Vec<UnitId>,
    /// The addresses of the active office units.
    pub office: Vec<String>,
    /// Active accounts' addresses, for the responsible and co-responsible leaders.
    pub leaders: HashMap<UserId, Option<String>>,
    /// Active accounts' names, for naming the responsible leader.
    pub people: HashMap<UserId, String>,
    pub open: Vec<OpenTask>,
    /// Indicator reports not yet in, due up to `horizon`.
    pub reports: Vec<OwedReport>,
    /// Instructions on open tasks not answered by their date.
    pub instructions: Vec<OwedInstruction>,
    /// Supervision orders on open tasks not answered by their date.
    pub orders: Vec<OwedOrder>,
    /// The reply-by date of a supervision order issued today: the
    /// configured number of working days on.
    pub order_reply_by: NaiveDate,
    /// Today plus the longest reminder period: what is due by then is owed
    /// a reminder or a digest line.
    pub horizon: NaiveDate,
    /// Notice rows written per transaction (`scan_batch_rows`).
    pub batch_rows: usize,
}

impl Context {
    /// Everything the scan's passes need: `without_work`, plus the open
    /// tasks and the indicator reports owed.
    pub fn load(
        conn: &mut DbConnection,
        settings: &Settings,
        today: NaiveDate,
        now: NaiveDateTime,
    ) -> anyhow::Result<Context> {
        let mut ctx = Context::without_work(conn, settings, today, now)?;
        ctx.open = load_open_tasks(conn)?;
        ctx.reports = crate::indicators::values::owed_reports(conn, ctx.horizon)?
            .into_iter()
            .filter(|r| r.reported_on.is_none())
            .collect();
        ctx.instructions = load_owed_instructions(conn, today)?;
        ctx.orders = load_owed_orders(conn, today)?;
        Ok(ctx)
    }

    /// Where notices go and when they may leave, without the open work: what
    /// a single life-cycle step needs to tell the units (`notices::tell`).
    pub fn without_work(
        conn: &mut DbConnection,
        settings: &Settings,
        today: NaiveDate,
        now: NaiveDateTime,
    ) -> anyhow::Result<Context> {
        let clock = Clock {
            now,
            today,
            tz: settings.timezone,
            warn_days: settings.yellow_warning_days,
            accept_days: settings.accept_within_days,
        };
        let ladder = settings.ladder();
        let longest = ladder.reminder_days.iter().copied().max().unwrap_or(0);
        let horizon = today + Duration::days(i64::from(longest));
        let calendar = crate::holidays::calendar(conn)?;
        let units = load_units(conn)?;
        let office_units = units
            .iter()
            .filter(|(_, u)| u.kind == UnitKind::Office)
            .map(|(id, _)| *id)
            .collect();
        let office = units
            .values()
            .filter(|u| u.active && u.kind == UnitKind::Office)
            .flat_map(|u| u.contacts.clone())
            .collect();
        let leaders = users::table
            .filter(users::active.eq(true))
            .select((users::id, users::email))
            .load::<(UserId, Option<String>)>(conn)?
            .into_iter()
            .collect();
        let people = users::table
            .filter(users::active.eq(true))
            .select((users::id, users::display_name))
            .load::<(UserId, String)>(conn)?
            .into_iter()
            .collect();
        Ok(Context {
            clock,
            ladder,
            lang: settings.notice_language,
            mail_domain: super::super::mail_domain(&settings.mail_from),
            base_url: settings
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", settings.listen)),
            send_at: super::super::next_open(settings, &calendar, now)?,
            units,
            office_units,
            office,
            leaders,
            people,
            open: Vec::new(),
            reports: Vec::new(),
            instructions: Vec::new(),
            orders: Vec::new(),
            order_reply_by: calendar.add_working_days(today, settings.order_reply_working_days),
            horizon,
            batch_rows: settings.scan_batch_rows,
        })
    }

    /// The open task `id`, found by halving (`open` is ordered by id).
    pub fn open_task(&self, id: TaskId) -> Option<&OpenTask> {
        self.open
            .binary_search_by_key(&id, |t| t.row.id)
            .ok()
            .map(|n| &self.open[n])
    }

    /// A link to a page of the console (or the API), `path` starting with `/`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    pub fn unit_name(&self, id: UnitId) -> String {
        self.units
            .get(&id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    /// A unit's addresses for a notice of its own: none for a digest unit,
    /// whose addresses get the daily digest instead.
    fn contacts(&self, unit: UnitId) -> Vec<String> {
        self.units
            .get(&unit)
            .filter(|u| u.active && !u.digest)
            .map(|u| u.contacts.clone())
            .unwrap_or_default()
    }

    /// Those of `ids` with an active unit's group robot.
    fn with_robot(&self, ids: Vec<UnitId>) -> Vec<UnitId> {
        ids.into_iter()
            .filter(|id| self.units.get(id).is_some_and(|u| u.active && u.robot))
            .collect()
    }

    /// Whether one of `ids` takes the daily digest.
    fn digests(&self, ids: &[UnitId]) -> bool {
        ids.iter()
            .any(|id| self.units.get(id).is_some_and(|u| u.active && u.digest))
    }

    /// A notice for `unit` itself, sent at once even when it takes the daily
    /// digest: a new task or a returned submission is news for today, and the
    /// digest lists only what is due or overdue.
    pub fn direct(
        &self,
        step: NoticeStep,
        event_kind: &'static str,
        key: String,
        unit: UnitId,
    ) -> Wanted {
        Wanted {
            step,
            dedupe_key: key,
            event_kind,
            recipients: self
                .units
                .get(&unit)
                .filter(|u| u.active)
                .map(|u| u.contacts.clone())
                .unwrap_or_default(),
            robots: self.with_robot(vec![unit]),
            propose: false,
            digested: false,
        }
    }

    /// A notice for the lead unit alone (signing for, progress reports).
    pub fn to_lead(
        &self,
        step: NoticeStep,
        event_kind: &'static str,
        key: String,
        lead: UnitId,
    ) -> Wanted {
        Wanted {
            step,
            dedupe_key: key,
            event_kind,
            recipients: self.contacts(lead),
            robots: self.with_robot(vec![lead]),
            propose: false,
            digested: self.digests(&[lead]),
        }
    }

    /// The notice of a ladder step for work led by `lead`, whose leaders
    /// (the responsible one first, then the co-responsible ones) are `leaders`.
    pub fn climb(
        &self,
        step: Step,
        key: String,
        lead: UnitId,
        coops: &[UnitId],
        leaders: &[UserId],
    ) -> Wanted {
        let (recipients, robot_units, event_kind) = self.route(step, lead, coops, leaders);
        Wanted {
            step: step.into(),
            dedupe_key: key,
            event_kind,
            recipients,
            digested: matches!(step, Step::Reminder(_) | Step::Chase(_))
                && self.digests(&robot_units),
            robots: self.with_robot(robot_units),
            propose: matches!(step, Step::Accountability(_)),
        }
    }

    /// Who a ladder step goes to for a piece of work led by `lead`: the
    /// recipients, the units whose robots get a copy, and the timeline event.
    fn route(
        &self,
        step: Step,
        lead: UnitId,
        coops: &[UnitId],
        leaders: &[UserId],
    ) -> (Vec<String>, Vec<UnitId>, &'static str) {
        let mut recipients = Vec::new();
        match step {
            Step::Reminder(_) => {
                push_unique(&mut recipients, self.contacts(lead));
                (recipients, vec![lead], "reminder")
            }
            Step::Chase(_) => {
                push_unique(&mut recipients, self.contacts(lead));
                for c in coops {
                    push_unique(&mut recipients, self.contacts(*c));
                }
                let robots = std::iter::once(lead).chain(coops.iter().copied()).collect();
                (recipients, robots, "chase_notice")
            }
            Step::Supervise(_) => {
                if let Some(u) = self.units.get(&lead).filter(|u| u.active) {
                    push_unique(&mut recipients, u.head_email.clone());
                }
                // The co-responsible leaders are copied like the responsible
                // one: the same notice, so its dedupe key still holds.
                for l in leaders {
                    push_unique(&mut recipients, self.leaders.get(l).cloned().flatten());
                }
                push_unique(&mut recipients, self.office.clone());
                (recipients, self.office_units.clone(), "supervision_order")
            }
            Step::Accountability(_) => {
                push_unique(&mut recipients, self.office.clone());
                (
                    recipients,
                    self.office_units.clone(),
                    "accountability_proposed",
                )
            }
        }
    }
}

fn push_unique(list: &mut Vec<String>, items: impl IntoIterator<Item = String>) {
    for item in items {
        if !item.trim().is_empty() && !list.contains(&item) {
            list.push(item);
        }
    }
}

fn load_units(conn: &mut DbConnection) -> QueryResult<BTreeMap<UnitId, UnitInfo>> {
    type UnitTuple = (
        UnitId,
        String,
        UnitKind,
        bool,
        String,
        Option<String>,
        Option<String>,
        NoticeMode,
    );
    let rows: Vec<UnitTuple> = units::table
        .select((
            units::id,
            units::name,
            units::kind,
            units::active,
            units::contact_emails,
            units::head_email,
            units::webhook_kind,
            units::notice_mode,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, kind, active, contacts, head, robot, mode)| {
            let info = UnitInfo {
                name,
                kind,
                active,
                contacts: serde_json::from_str(&contacts).unwrap_or_default(),
                head_email: head,
                robot: robot.is_some(),
                digest: mode == NoticeMode::Digest,
            };
            (id, info)
        })
        .collect())
}

/// The statuses of an open task: what the ladder climbs for.
const OPEN: [TaskStatus; 2] = [TaskStatus::Assigned, TaskStatus::InProgress];

/// Assigned and in-progress tasks, by id, with their cooperators,
/// co-responsible leaders and the lead unit's last report. Each is one
/// query over the open tasks as a subquery, not a list of their ids: a
/// million-task city has hundreds of thousands open, more than SQLite binds
/// in one statement.
fn load_open_tasks(conn: &mut DbConnection) -> anyhow::Result<Vec<OpenTask>> {
    use crate::db::schema::{progress_reports as r, task_co_leaders, task_cooperators};
    let open = || {
        tasks::table
            .filter(tasks::status.eq_any(OPEN))
            .select(tasks::id)
    };
    let rows: Vec<TaskRow> = tasks::table
        .filter(tasks::status.eq_any(OPEN))
        .select(TaskRow::as_select())
        .order(tasks::id.asc())
        .load(conn)?;
    let mut coops: HashMap<TaskId, Vec<UnitId>> = HashMap::new();
    for (task, unit) in task_cooperators::table
        .filter(task_cooperators::task_id.eq_any(open()))
        .select((task_cooperators::task_id, task_cooperators::unit_id))
        .order((task_cooperators::task_id, task_cooperators::unit_id))
        .load::<(TaskId, UnitId)>(conn)?
    {
        coops.entry(task).or_default().push(unit);
    }
    let mut co_leaders: HashMap<TaskId, Vec<UserId>> = HashMap::new();
    for (task, user) in task_co_leaders::table
        .filter(task_co_leaders::task_id.eq_any(open()))
        .select((task_co_leaders::task_id, task_co_leaders::user_id))
        .order((task_co_leaders::task_id, task_co_leaders::user_id))
        .load::<(TaskId, UserId)>(conn)?
    {
        co_leaders.entry(task).or_default().push(user);
    }
    let last_reports: HashMap<(TaskId, UnitId), NaiveDateTime> = r::table
        .filter(r::task_id.eq_any(open()))
        .group_by((r::task_id, r::unit_id))
        .select((r::task_id, r::unit_id, diesel::dsl::max(r::created_at)))
        .load::<(TaskId, UnitId, Option<NaiveDateTime>)>(conn)?
        .into_iter()
        .filter_map(|(t, u, at)| at.map(|at| ((t, u), at)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| OpenTask {
            timing: crate::tasks::service::timing(&row),
            coops: coops.remove(&row.id).unwrap_or_default(),
            co_leaders: co_leaders.remove(&row.id).unwrap_or_default(),
            last_lead_report: last_reports.get(&(row.id, row.lead_unit_id)).copied(),
            row,
        })
        .collect())
}

/// The instructions on open tasks with no reply and a reply-by date before
/// `today`, by id. Answered ones drop out: the reply is on the row.
fn load_owed_instructions(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> QueryResult<Vec<OwedInstruction>> {
    let open = tasks::table
        .filter(tasks::status.eq_any(OPEN))
        .select(tasks::id);
    let rows: Vec<(InstructionId, TaskId, UserId, String, Option<NaiveDate>)> = instructions::table
        .filter(instructions::task_id.eq_any(open))
        .filter(instructions::reply_report_id.is_null())
        .filter(instructions::reply_by.lt(today))
        .select((
            instructions::id,
            instructions::task_id,
            instructions::author_id,
            instructions::body,
            instructions::reply_by,
        ))
        .order(instructions::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, task_id, author_id, body, reply_by)| {
            Some(OwedInstruction {
                id,
                task_id,
                author_id,
                body,
                reply_by: reply_by?,
            })
        })
        .collect())
}

/// The supervision orders on open tasks with no receipt and a reply-by
/// date before `today`, by id.
fn load_owed_orders(conn: &mut DbConnection, today: NaiveDate) -> QueryResult<Vec<OwedOrder>> {
    let open = tasks::table
        .filter(tasks::status.eq_any(OPEN))
        .select(tasks::id);
    let rows: Vec<(OrderId, TaskId, i32, i64, NaiveDate)> = supervision_orders::table
        .filter(supervision_orders::task_id.eq_any(open))
        .filter(supervision_orders::reply_report_id.is_null())
        .filter(supervision_orders::reply_by.lt(today))
        .select((
            supervision_orders::id,
            supervision_orders::task_id,
            supervision_orders::year,
            supervision_orders::number,
            supervision_orders::reply_by,
        ))
        .order(supervision_orders::id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, task_id, year, number, reply_by)| OwedOrder {
            id,
            task_id,
            title: crate::orders::number_label(year, number),
            reply_by,
        })
        .collect())
}
