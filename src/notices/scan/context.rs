//! What every pass of the scan reads, loaded once: the clock and the ladder,
//! where notices go (units, the office, leaders) and what may be owed (open
//! tasks with the lead unit's last report, indicator reports not in). A
//! task's cooperating units and co-leaders ([`Parties`]) are read later, for
//! the notices not written yet. Also who a notice goes to, the one routing
//! rule the passes share.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamp};

use crate::config::Settings;
use crate::db::schema::{instructions, supervision_orders, tasks, units, users};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::NoticeMode;
use crate::domain::ladder::{Ladder, Step};
use crate::domain::message::Lang;
use crate::domain::notice_step::NoticeStep;
use crate::domain::report_cycle::{ReportCadence, ReportCycle};
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TaskTiming;
use crate::domain::{InstructionId, OrderId, TaskId, UnitId, UnitKind, UserId};
use crate::indicators::values::OwedReport;
use crate::tasks::visibility;

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

/// An assigned or in-progress task with what decides the notices it owes.
/// Who they go to (its cooperating units and co-responsible leaders) is
/// read later, with [`Parties`], only for notices not written yet: a rescan
/// reads none.
pub(in crate::notices) struct OpenTask {
    pub row: OpenRow,
    pub timing: TaskTiming,
    /// The lead unit's latest progress report (the one that counts), read
    /// for tasks with a report cycle: the only rule that asks.
    pub last_lead_report: Option<NaiveDateTime>,
}

/// The columns of an open task the scan's rules and notices use (not the
/// description, notes or bookkeeping a whole `TaskRow` carries).
#[derive(Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub(in crate::notices) struct OpenRow {
    pub id: TaskId,
    pub code: String,
    pub title: String,
    pub lead_unit_id: UnitId,
    pub responsible_leader_id: Option<UserId>,
    pub due_date: Option<NaiveDate>,
    pub status: TaskStatus,
    pub report_day: Option<i32>,
    pub report_cadence: ReportCadence,
    pub returned: bool,
    pub assigned_at: Option<NaiveDateTime>,
    pub accepted_at: Option<NaiveDateTime>,
    pub submitted_on: Option<NaiveDate>,
}

impl OpenRow {
    /// The task's reporting cycle, when it has a report day (as `TaskRow`'s).
    pub fn report_cycle(&self) -> Option<ReportCycle> {
        ReportCycle::new(self.report_cadence, self.report_day?)
    }

    /// When work started, for the progress-report rule (as `TaskRow`'s).
    pub fn started_at(&self) -> Option<NaiveDateTime> {
        self.accepted_at.or(self.assigned_at)
    }
}

/// The cooperating units and co-responsible leaders of some open tasks: who
/// their notices go to, read only for tasks with a notice still to write.
#[derive(Default)]
pub(in crate::notices) struct Parties {
    coops: HashMap<TaskId, Vec<UnitId>>,
    co_leaders: HashMap<TaskId, Vec<UserId>>,
}

impl Parties {
    /// The parties of `ids`, a thousand tasks a query (the orders' pass may
    /// ask for more tasks than SQLite binds in one statement); none read
    /// when there are none.
    pub fn load(conn: &mut DbConnection, ids: &[TaskId]) -> QueryResult<Parties> {
        let mut parties = Parties::default();
        for chunk in ids.chunks(1000) {
            parties
                .coops
                .extend(visibility::cooperators_of(conn, chunk)?);
            parties.co_leaders.extend(
                visibility::co_leaders_of(conn, chunk)?
                    .into_iter()
                    .map(|(task, leaders)| (task, leaders.into_iter().map(|(id, _)| id).collect())),
            );
        }
        Ok(parties)
    }

    pub fn coops(&self, task: TaskId) -> &[UnitId] {
        self.coops.get(&task).map_or(&[], Vec::as_slice)
    }

    pub fn co_leaders(&self, task: TaskId) -> &[UserId] {
        self.co_leaders.get(&task).map_or(&[], Vec::as_slice)
    }

    /// The task's leaders: the responsible one, then the co-responsible ones.
    pub fn leaders(&self, row: &OpenRow) -> Vec<UserId> {
        row.responsible_leader_id
            .into_iter()
            .chain(self.co_leaders(row.id).iter().copied())
            .collect()
    }
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
    /// The open tasks that may owe a notice today (`Ladder::may_owe`), and
    /// those with an instruction or a supervision order owed a reply.
    pub open: Vec<OpenTask>,
    /// All open tasks, for the scan's report.
    pub open_count: i64,
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
        ctx.open_count = count_open_tasks(conn)?;
        ctx.open = load_open_tasks(conn, ctx.horizon, today)?;
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
        let horizon = ladder.horizon(today);
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
            open_count: 0,
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

/// The open tasks that may owe a notice today, by id, each with the lead
/// unit's latest report (the highest id, as the task's detail has it) when
/// the task has a report cycle.
///
/// Which tasks: `Ladder::may_owe` asked of the database (due by `horizon`,
/// still assigned, or with a report cycle; a property test holds the rules
/// to it), and every task with an instruction or a supervision order owed
/// a reply by `today`, which the instructions' and orders' passes look up.
/// The report's date is read in the same pass over the tasks, by one seek
/// of the `(task_id, unit_id, id, created_at)` index, no row read. (Joined
/// the other way, SQLite walked every report and looked its task up.)
fn load_open_tasks(
    conn: &mut DbConnection,
    horizon: NaiveDate,
    today: NaiveDate,
) -> anyhow::Result<Vec<OpenTask>> {
    let rows: Vec<(OpenRow, Option<NaiveDateTime>)> = open_tasks(horizon, today)
        .select((OpenRow::as_select(), last_lead_report()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, last_lead_report)| OpenTask {
            timing: TaskTiming {
                status: row.status,
                due: row.due_date,
                submitted_on: row.submitted_on,
                returned: row.returned,
            },
            last_lead_report,
            row,
        })
        .collect())
}

/// The open tasks that may owe a notice today, by id: what
/// `load_open_tasks` reads, without its columns.
#[diesel::dsl::auto_type(no_type_alias)]
pub(super) fn open_tasks(horizon: NaiveDate, today: NaiveDate) -> _ {
    let open: [TaskStatus; 2] = OPEN;
    let assigned: TaskStatus = TaskStatus::Assigned;
    let instructed = instructions::table
        .filter(instructions::reply_report_id.is_null())
        .filter(instructions::reply_by.lt(today))
        .select(instructions::task_id);
    let ordered = supervision_orders::table
        .filter(supervision_orders::reply_report_id.is_null())
        .filter(supervision_orders::reply_by.lt(today))
        .select(supervision_orders::task_id);
    tasks::table
        .filter(tasks::status.eq_any(open))
        .filter(
            tasks::due_date
                .le(horizon)
                .or(tasks::status.eq(assigned).nullable())
                .or(tasks::report_day.is_not_null().nullable())
                .or(tasks::id.eq_any(instructed).nullable())
                .or(tasks::id.eq_any(ordered).nullable()),
        )
        .order(tasks::id.asc())
}

/// A task's lead unit's latest report's time, when it has a report cycle:
/// one seek of the `(task_id, unit_id, id, created_at)` index.
pub(super) fn last_lead_report() -> diesel::expression::SqlLiteral<Nullable<Timestamp>> {
    diesel::dsl::sql::<Nullable<Timestamp>>(
        "CASE WHEN tasks.report_day IS NOT NULL THEN \
         (SELECT r.created_at FROM progress_reports r \
         WHERE r.task_id = tasks.id AND r.unit_id = tasks.lead_unit_id \
         ORDER BY r.id DESC LIMIT 1) END",
    )
}

/// How many tasks are open (assigned or in progress).
fn count_open_tasks(conn: &mut DbConnection) -> QueryResult<i64> {
    tasks::table
        .filter(tasks::status.eq_any(OPEN))
        .count()
        .get_result(conn)
}

/// The cooperating units of the open tasks due by `horizon`, or overdue:
/// the tasks a digest lists.
pub(in crate::notices) fn coops_due_by(
    conn: &mut DbConnection,
    horizon: NaiveDate,
) -> QueryResult<HashMap<TaskId, Vec<UnitId>>> {
    use crate::db::schema::task_cooperators as c;
    let due = tasks::table
        .filter(tasks::status.eq_any(OPEN))
        .filter(tasks::due_date.le(horizon))
        .select(tasks::id);
    let mut coops: HashMap<TaskId, Vec<UnitId>> = HashMap::new();
    for (task, unit) in c::table
        .filter(c::task_id.eq_any(due))
        .select((c::task_id, c::unit_id))
        .order((c::task_id, c::unit_id))
        .load::<(TaskId, UnitId)>(conn)?
    {
        coops.entry(task).or_default().push(unit);
    }
    Ok(coops)
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
