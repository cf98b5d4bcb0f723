//! Rankings (排名): each unit's figures for a period read from the database,
//! scored and ranked by the rules in `domain::figures` and `domain::scoring`.
//! The live `GET /rankings` and every bulletin snapshot are built here, so
//! both always agree. A closed period's ranking is kept in `cache` between
//! requests while nothing it reads changes.

pub mod cache;
pub mod routes;

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::{bulletins, extensions, notices, task_cooperators, tasks, units, users};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::figures::{classify, Judgement, Outcome, TaskFacts};
use crate::domain::kinds::{BulletinStatus, Channel, ExtensionStatus, NoticeStatus};
use crate::domain::ladder::Step;
use crate::domain::notice_step::NoticeStep;
use crate::domain::period::{number_label, Period};
use crate::domain::scoring::{standings, Policy, Totals, UnitFigures};
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::domain::{IndicatorId, TaskId, UnitId, UnitKind};

/// A unit as named in a ranking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct UnitRef {
    pub code: String,
    pub id: UnitId,
    pub name: String,
    /// township, park or department
    pub kind: UnitKind,
}

/// One unit's line in a ranking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RankingRow {
    pub unit: UnitRef,
    pub figures: UnitFigures,
    /// Percentages over `figures.due`, two decimals.
    pub completion_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub average_days_late: Option<f64>,
    /// Null for a unit with nothing due (listed apart, unranked).
    pub score: Option<f64>,
    pub rank: Option<u32>,
    /// Rank in the previous published bulletin.
    pub previous_rank: Option<u32>,
    /// Places gained since then (negative: lost).
    pub rank_change: Option<i64>,
    pub light: Option<TrafficLight>,
    /// Named for criticism (通报批评) / commendation (通报表扬).
    pub criticised: bool,
    pub commended: bool,
    /// Shares its rank with another unit (并列): equal score, tasks on time
    /// and days overdue. Tied units are always named alike. False in
    /// bulletins published before the flag existed.
    #[serde(default)]
    pub tied: bool,
}

/// A task, or an indicator report, still overdue at the end of the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OverdueTask {
    /// The task; null for an indicator report.
    pub task_id: Option<TaskId>,
    /// The indicator, for an overdue indicator report.
    pub indicator_id: Option<IndicatorId>,
    pub code: String,
    pub title: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub due_date: NaiveDate,
    pub days_overdue: i64,
    pub leader: Option<String>,
}

/// An overdue task or indicator report as the ranking finds it: what
/// orders and places it, without its words. A task's title, leader and
/// unit name are read for the rows shown (`overdue_words`): at a million
/// tasks the 100,000 overdue ones' words took 45 MiB while a ranking was
/// computed, and most of that again for each closed period kept.
#[derive(Debug, Clone)]
pub struct Overdue {
    late: Late,
    /// The code, the list's order after the days overdue.
    pub code: Box<str>,
    pub unit_id: UnitId,
    pub due_date: NaiveDate,
    pub days_overdue: i64,
}

/// What is overdue: a task, or an indicator report with its title (made
/// when the report is found, from the indicator's name and the period).
#[derive(Debug, Clone)]
enum Late {
    Task(TaskId),
    Report(IndicatorId, Box<str>),
}

impl Overdue {
    fn task_id(&self) -> Option<TaskId> {
        match self.late {
            Late::Task(id) => Some(id),
            Late::Report(..) => None,
        }
    }
}

/// The published bulletin a ranking compares with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PreviousBulletin {
    pub id: i64,
    pub period: String,
    /// 2026年第N期
    pub number: String,
}

/// A period's ranking: totals, ranked units, units with nothing due, and
/// the overdue tasks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Ranking {
    /// 2026-11, 2026-Q4, 2026 or start..end
    pub period: String,
    /// 2026年11月
    pub period_name: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Deadlines before this day have passed: the day after the period, or
    /// today while it runs.
    pub judged_on: NaiveDate,
    /// The period has not ended yet: figures can still change.
    pub running: bool,
    pub totals: Totals,
    /// Ranked units, best first.
    pub ranked: Vec<RankingRow>,
    /// Units with nothing due: not ranked.
    pub unranked: Vec<RankingRow>,
    /// Most days overdue first. `GET /rankings` lists the first 100 here
    /// (`overdue_total` says how many there are) and pages through all of
    /// them at `GET /rankings/overdue`; a bulletin keeps them all.
    pub overdue_tasks: Vec<OverdueTask>,
    /// How many tasks and indicator reports are overdue, listed or not.
    #[serde(default)]
    pub overdue_total: usize,
    pub previous_bulletin: Option<PreviousBulletin>,
}

impl Ranking {
    pub fn criticised(&self) -> impl Iterator<Item = &RankingRow> {
        self.ranked.iter().filter(|r| r.criticised)
    }

    pub fn commended(&self) -> impl Iterator<Item = &RankingRow> {
        self.ranked.iter().filter(|r| r.commended)
    }
}

/// A counted task as the ranking reads it: id, lead unit, due date, status
/// and submission day (its words are read only if it is overdue).
type TaskLine = (
    TaskId,
    UnitId,
    Option<NaiveDate>,
    TaskStatus,
    Option<NaiveDate>,
);

/// The task's facts for the rules: done on its submission day when submitted
/// or completed.
fn facts(due: NaiveDate, status: TaskStatus, submitted_on: Option<NaiveDate>) -> TaskFacts {
    let done = DONE.contains(&status);
    TaskFacts {
        due,
        done_on: if done { submitted_on } else { None },
    }
}

/// Statuses whose tasks count: assigned to a unit and not cancelled.
const COUNTED: [TaskStatus; 4] = [
    TaskStatus::Assigned,
    TaskStatus::InProgress,
    TaskStatus::Submitted,
    TaskStatus::Completed,
];

/// Statuses whose tasks are done, on the day they were submitted.
const DONE: [TaskStatus; 2] = [TaskStatus::Submitted, TaskStatus::Completed];

/// The tasks that may count in the judged period, asked of the database:
/// counted, due by its end, and not both due and done before its start,
/// which are the tasks `classify` does not turn away before it looks at
/// the days (the rest are left to it). At a million tasks this leaves out
/// the quarter million done in earlier months before they are read.
#[diesel::dsl::auto_type(no_type_alias)]
fn may_count(start: NaiveDate, end: NaiveDate) -> _ {
    // auto_type reads the arrays' types from these bindings.
    let counted: [TaskStatus; 4] = COUNTED;
    let done: [TaskStatus; 2] = DONE;
    tasks::status
        .eq_any(counted)
        .nullable()
        .and(tasks::due_date.le(end))
        .and(
            tasks::due_date
                .ge(start)
                .or(tasks::status.ne_all(done).nullable())
                .or(tasks::submitted_on.is_null().nullable())
                .or(tasks::submitted_on.ge(start)),
        )
}

/// Whether any task counts in a period ending on `end`: one assigned to a
/// unit, not cancelled, due by then. A period where none does has nothing
/// to rank (a fresh installation's past months, say).
pub fn anything_counts(conn: &mut DbConnection, end: NaiveDate) -> QueryResult<bool> {
    let first: Option<TaskId> = tasks::table
        .filter(tasks::status.eq_any(COUNTED))
        .filter(tasks::due_date.le(end))
        .select(tasks::id)
        .first(conn)
        .optional()?;
    Ok(first.is_some())
}

/// The figures being added up, by unit, and the work still overdue.
struct Tally {
    figures: HashMap<UnitId, UnitFigures>,
    overdue: Vec<Overdue>,
}

impl Tally {
    /// A unit's figures, started at zero the first time it is met.
    fn of(&mut self, unit: UnitId) -> &mut UnitFigures {
        self.figures
            .entry(unit)
            .or_insert_with(|| UnitFigures::zero(unit))
    }
}

/// Every unit's figures for the judged period, keyed by unit id: active
/// units, and any other unit that has tasks counting.
pub fn unit_figures(
    conn: &mut DbConnection,
    j: &Judgement,
    clock: &Clock,
) -> QueryResult<(HashMap<UnitId, UnitFigures>, Vec<Overdue>)> {
    // The office (a unit of kind office) runs the ranking and is not in it,
    // unless it leads counted tasks itself.
    let active: Vec<UnitId> = units::table
        .filter(units::active.eq(true))
        .filter(units::kind.ne(UnitKind::Office))
        .select(units::id)
        .load(conn)?;
    let mut tally = Tally {
        figures: HashMap::new(),
        overdue: Vec::new(),
    };
    for id in active {
        tally.of(id);
    }
    lead_tasks(conn, j, &mut tally)?;
    indicator_reports(conn, j, &mut tally)?;
    cooperations(conn, j, &mut tally)?;
    extensions_and_notices(conn, j, clock, &mut tally)?;
    let Tally {
        figures,
        mut overdue,
    } = tally;
    overdue.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.code.cmp(&b.code))
            .then_with(|| a.task_id().cmp(&b.task_id()))
    });
    Ok((figures, overdue))
}

/// The counted tasks, for their lead units; the overdue ones are listed.
/// A million tasks are read without their codes and titles (which held
/// over a hundred megabytes at once); the overdue ones' codes, which order
/// the list, are read by id afterwards.
fn lead_tasks(conn: &mut DbConnection, j: &Judgement, tally: &mut Tally) -> QueryResult<()> {
    let lines: Vec<TaskLine> = tasks::table
        .filter(may_count(j.period.start, j.period.end))
        .select((
            tasks::id,
            tasks::lead_unit_id,
            tasks::due_date,
            tasks::status,
            tasks::submitted_on,
        ))
        .load(conn)?;
    let mut overdue: Vec<(TaskId, UnitId, NaiveDate, i64)> = Vec::new();
    for (id, unit, due, status, submitted_on) in lines {
        let Some(due) = due else { continue };
        let Some(outcome) = classify(&facts(due, status, submitted_on), j) else {
            continue;
        };
        tally.of(unit).add(outcome);
        if let Outcome::Overdue { days } = outcome {
            overdue.push((id, unit, due, days));
        }
    }
    // By id, so that each query reads the rows of a run of the table's pages
    // (the list is sorted by days overdue afterwards).
    overdue.sort_unstable_by_key(|t| t.0);
    for chunk in overdue.chunks(WORDS_PER_QUERY) {
        let ids: Vec<TaskId> = chunk.iter().map(|t| t.0).collect();
        let mut codes: HashMap<TaskId, String> = tasks::table
            .filter(tasks::id.eq_any(ids))
            .select((tasks::id, tasks::code))
            .load(conn)?
            .into_iter()
            .collect();
        for &(id, unit, due, days) in chunk {
            tally.overdue.push(Overdue {
                late: Late::Task(id),
                code: codes.remove(&id).unwrap_or_default().into(),
                unit_id: unit,
                due_date: due,
                days_overdue: days,
            });
        }
    }
    Ok(())
}

/// Overdue tasks whose code or words one query reads.
const WORDS_PER_QUERY: usize = 500;

/// The overdue tasks and indicator reports `items` with their words: each
/// task's title and responsible leader and each unit's name as they are
/// now, read by id.
pub fn overdue_words(conn: &mut DbConnection, items: &[Overdue]) -> QueryResult<Vec<OverdueTask>> {
    let unit_ids: Vec<UnitId> = items.iter().map(|t| t.unit_id).collect();
    let units = unit_refs(conn, &unit_ids)?;
    // In id order, so that each query reads a run of the table's pages (the
    // items are in the list's order).
    let mut task_ids: Vec<TaskId> = items.iter().filter_map(Overdue::task_id).collect();
    task_ids.sort_unstable();
    let mut words: HashMap<TaskId, (String, Option<String>)> =
        HashMap::with_capacity(task_ids.len());
    for chunk in task_ids.chunks(WORDS_PER_QUERY) {
        words.extend(
            tasks::table
                .left_join(users::table.on(users::id.nullable().eq(tasks::responsible_leader_id)))
                .filter(tasks::id.eq_any(chunk))
                .select((tasks::id, (tasks::title, users::display_name.nullable())))
                .load::<(TaskId, (String, Option<String>))>(conn)?,
        );
    }
    Ok(items
        .iter()
        .map(|t| {
            let (title, leader) = match &t.late {
                Late::Task(id) => words.remove(id).unwrap_or_default(),
                Late::Report(_, title) => (title.to_string(), None),
            };
            OverdueTask {
                task_id: t.task_id(),
                indicator_id: match t.late {
                    Late::Report(id, _) => Some(id),
                    Late::Task(_) => None,
                },
                code: t.code.to_string(),
                title,
                unit_id: t.unit_id,
                unit_name: units
                    .get(&t.unit_id)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                due_date: t.due_date,
                days_overdue: t.days_overdue,
                leader,
            }
        })
        .collect())
}

/// An indicator report counts as a task of the lead unit (and a cooperation
/// of its cooperating units), due on the report day, done on the day the
/// value was submitted.
fn indicator_reports(conn: &mut DbConnection, j: &Judgement, tally: &mut Tally) -> QueryResult<()> {
    for report in crate::indicators::values::owed_reports(conn, j.period.end)? {
        let fact = TaskFacts {
            due: report.due,
            done_on: report.reported_on,
        };
        let Some(outcome) = classify(&fact, j) else {
            continue;
        };
        tally.of(report.lead_unit_id).add(outcome);
        for c in &report.cooperating {
            tally.of(*c).add_cooperating(outcome);
        }
        if let Outcome::Overdue { days } = outcome {
            tally.overdue.push(Overdue {
                late: Late::Report(report.indicator_id, report.title().into()),
                code: report.code().into(),
                unit_id: report.lead_unit_id,
                due_date: report.due,
                days_overdue: days,
            });
        }
    }
    Ok(())
}

/// The counted tasks, for their cooperating units.
fn cooperations(conn: &mut DbConnection, j: &Judgement, tally: &mut Tally) -> QueryResult<()> {
    let coops: Vec<(UnitId, Option<NaiveDate>, TaskStatus, Option<NaiveDate>)> =
        task_cooperators::table
            .inner_join(tasks::table)
            .filter(may_count(j.period.start, j.period.end))
            .select((
                task_cooperators::unit_id,
                tasks::due_date,
                tasks::status,
                tasks::submitted_on,
            ))
            .load(conn)?;
    for (unit, due, status, submitted_on) in coops {
        let Some(due) = due else { continue };
        if let Some(outcome) = classify(&facts(due, status, submitted_on), j) {
            tally.of(unit).add_cooperating(outcome);
        }
    }
    Ok(())
}

/// The UTC instants between which an extension decided or a notice created
/// may fall on a local day of the judged period: its bounds widened by a day
/// each side, the local day decides.
fn notice_window(j: &Judgement) -> (NaiveDateTime, NaiveDateTime) {
    let from = (j.period.start - Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    let to = (j.last_counted + Duration::days(2))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    (from, to)
}

/// Extensions granted and ladder notices received in the period, by local
/// day, for the units already tallied.
fn extensions_and_notices(
    conn: &mut DbConnection,
    j: &Judgement,
    clock: &Clock,
    tally: &mut Tally,
) -> QueryResult<()> {
    let (from, to) = notice_window(j);
    let in_period = |at: NaiveDateTime| {
        let day = clock.local(at);
        j.period.start <= day && day <= j.last_counted
    };
    let granted: Vec<(UnitId, Option<NaiveDateTime>)> = extensions::table
        .inner_join(tasks::table)
        .filter(extensions::status.eq(ExtensionStatus::Approved))
        .filter(extensions::decided_at.between(from, to))
        .select((tasks::lead_unit_id, extensions::decided_at))
        .load(conn)?;
    for (unit, at) in granted {
        if at.is_some_and(in_period) {
            if let Some(f) = tally.figures.get_mut(&unit) {
                f.extensions += 1;
            }
        }
    }
    let sent: Vec<(Option<UnitId>, NoticeStep, NaiveDateTime)> = notices::table
        .filter(notices::channel.eq(Channel::Email))
        .filter(notices::status.ne(NoticeStatus::Cancelled))
        .filter(
            notices::task_id
                .is_not_null()
                .or(notices::indicator_id.is_not_null()),
        )
        .filter(notices::created_at.between(from, to))
        .select((notices::unit_id, notices::step, notices::created_at))
        .load(conn)?;
    for (unit, step, at) in sent {
        let Some(f) = unit.and_then(|u| tally.figures.get_mut(&u)) else {
            continue;
        };
        if !in_period(at) {
            continue;
        }
        match step.rung() {
            Some(Step::Reminder(_)) => f.reminders += 1,
            Some(Step::Chase(_)) => f.chases += 1,
            Some(Step::Supervise(_)) => f.supervision_orders += 1,
            Some(Step::Accountability(_)) => f.accountability_notices += 1,
            None => {}
        }
    }
    Ok(())
}

/// The units named in a ranking, by id.
fn unit_refs(conn: &mut DbConnection, ids: &[UnitId]) -> QueryResult<HashMap<UnitId, UnitRef>> {
    let ids: std::collections::HashSet<UnitId> = ids.iter().copied().collect();
    let rows: Vec<(UnitId, String, String, UnitKind)> = units::table
        .select((units::id, units::code, units::name, units::kind))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|r| ids.contains(&r.0))
        .map(|(id, code, name, kind)| {
            (
                id,
                UnitRef {
                    code,
                    id,
                    name,
                    kind,
                },
            )
        })
        .collect())
}

/// The last bulletin published for a period ending before `before`, and
/// each unit's rank in it: read from the ranking its snapshot keeps (the
/// rest of the snapshot is the bulletins' own).
pub fn previous_ranks(
    conn: &mut DbConnection,
    before: NaiveDate,
) -> QueryResult<(Option<PreviousBulletin>, HashMap<UnitId, u32>)> {
    /// The part of a bulletin's snapshot a later ranking compares with.
    #[derive(Deserialize)]
    struct Published {
        ranking: Ranking,
    }
    type Columns = (i64, String, Option<i32>, Option<i32>, String);
    let row: Option<Columns> = bulletins::table
        .filter(bulletins::status.eq(BulletinStatus::Published))
        .filter(bulletins::period_end.lt(before))
        .order((bulletins::period_end.desc(), bulletins::id.desc()))
        .select((
            bulletins::id,
            bulletins::period,
            bulletins::year,
            bulletins::number,
            bulletins::snapshot,
        ))
        .first(conn)
        .optional()?;
    let Some((id, period, year, number, snapshot)) = row else {
        return Ok((None, HashMap::new()));
    };
    let Ok(published) = serde_json::from_str::<Published>(&snapshot) else {
        return Ok((None, HashMap::new()));
    };
    let ranks = published
        .ranking
        .ranked
        .iter()
        .filter_map(|r| Some((r.unit.id, r.rank?)))
        .collect();
    Ok((
        Some(PreviousBulletin {
            id,
            period,
            number: year
                .zip(number)
                .map(|(y, n)| number_label(y, n))
                .unwrap_or_default(),
        }),
        ranks,
    ))
}

/// The ranking of `period` judged for `clock.today`, compared with the last
/// bulletin published for an earlier period, every overdue task listed.
pub fn ranking(
    conn: &mut DbConnection,
    period: Period,
    policy: &Policy,
    clock: &Clock,
) -> QueryResult<Ranking> {
    let (mut ranking, overdue) = ranking_and_overdue(conn, period, policy, clock)?;
    ranking.overdue_tasks = overdue_words(conn, &overdue)?;
    Ok(ranking)
}

/// The ranking as `ranking` makes it, but its overdue tasks apart and
/// without their words: `overdue_tasks` is empty, `overdue_total` counts
/// them.
pub fn ranking_and_overdue(
    conn: &mut DbConnection,
    period: Period,
    policy: &Policy,
    clock: &Clock,
) -> QueryResult<(Ranking, Vec<Overdue>)> {
    let j = Judgement::new(period, clock.today);
    let (figures, overdue) = unit_figures(conn, &j, clock)?;
    let ids: Vec<UnitId> = figures.keys().copied().collect();
    let refs = unit_refs(conn, &ids)?;
    let (previous_bulletin, previous) = previous_ranks(conn, period.start)?;
    let keyed: Vec<(UnitFigures, UnitRef)> = figures
        .values()
        .filter_map(|f| refs.get(&f.unit_id).map(|u| (*f, u.clone())))
        .collect();
    let rows: Vec<RankingRow> = standings(&keyed, policy, &previous)
        .into_iter()
        .map(|s| RankingRow {
            completion_rate: s.figures.completion_rate(),
            on_time_rate: s.figures.on_time_rate(),
            average_days_late: s.figures.average_days_late(),
            score: s.score,
            rank: s.rank,
            previous_rank: s.previous_rank,
            rank_change: s.rank_change(),
            light: s.light,
            criticised: s.criticised,
            commended: s.commended,
            tied: s.tied,
            figures: s.figures,
            unit: s.key,
        })
        .collect();
    let (ranked, unranked): (Vec<RankingRow>, Vec<RankingRow>) =
        rows.into_iter().partition(|r| r.rank.is_some());
    let ranking = Ranking {
        period: period.label(),
        period_name: period.label_zh(),
        start: period.start,
        end: period.end,
        judged_on: j.judged_on,
        running: j.is_open(),
        totals: Totals::of(ranked.iter().chain(&unranked).map(|r| &r.figures)),
        ranked,
        unranked,
        overdue_total: overdue.len(),
        overdue_tasks: Vec::new(),
        previous_bulletin,
    };
    Ok((ranking, overdue))
}

/// Where a ranking served as JSON came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Kept from an earlier request: the period is closed and nothing it
    /// reads has changed since.
    Cache,
    /// Computed for this request.
    Computed,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::Computed => "computed",
        }
    }
}

/// How many of the overdue tasks `GET /rankings` lists with the ranking,
/// the most days overdue: at a million tasks all of them made a 24.5 MB
/// answer; the rest are paged at `GET /rankings/overdue`.
pub const OVERDUE_LISTED: usize = 100;

/// A ranking as the API answers it: its JSON, listing the first
/// `OVERDUE_LISTED` overdue tasks, and all of them, without their words,
/// for the pages of `GET /rankings/overdue`. Cheap to clone: what a closed
/// period keeps.
#[derive(Clone)]
pub struct Answer {
    pub json: actix_web::web::Bytes,
    pub overdue: std::sync::Arc<[Overdue]>,
    /// The JSON gzipped, made by the first reader that accepts it and kept
    /// with the answer: 2,000 units' rows are over a megabyte, and 64
    /// readers of a closed period's ranking are bound by sending it.
    gzip: std::sync::Arc<std::sync::OnceLock<Option<actix_web::web::Bytes>>>,
}

impl Answer {
    /// The answer for the ranking of `period`.
    fn of(
        conn: &mut DbConnection,
        period: Period,
        policy: &Policy,
        clock: &Clock,
    ) -> crate::error::Result<Answer> {
        let (mut r, overdue) = ranking_and_overdue(conn, period, policy, clock)?;
        r.overdue_tasks = overdue_words(conn, &overdue[..overdue.len().min(OVERDUE_LISTED)])?;
        let json = serde_json::to_vec(&r).map_err(anyhow::Error::new)?;
        Ok(Answer::new(json.into(), overdue.into()))
    }

    /// An answer of this JSON and overdue list, not gzipped yet.
    pub(crate) fn new(json: actix_web::web::Bytes, overdue: std::sync::Arc<[Overdue]>) -> Answer {
        Answer {
            json,
            overdue,
            gzip: Default::default(),
        }
    }

    /// The JSON gzipped, compressed once for all the answer's readers;
    /// None if compressing failed (the plain JSON is sent then).
    pub fn gzipped(&self) -> Option<actix_web::web::Bytes> {
        self.gzip
            .get_or_init(|| {
                use std::io::Write;
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                let done = encoder.write_all(&self.json).and_then(|_| encoder.finish());
                match done {
                    Ok(bytes) => Some(bytes.into()),
                    Err(e) => {
                        tracing::warn!(error = %e, "the ranking could not be gzipped");
                        None
                    }
                }
            })
            .clone()
    }
}

/// The answer for `period`. A closed period's comes from `kept` when the
/// database's fingerprint is the one it was computed after, and is kept
/// there when computed; a running period's is computed every time.
pub fn answer(
    conn: &mut DbConnection,
    kept: &cache::RankingCache,
    period: Period,
    policy: &Policy,
    clock: &Clock,
) -> crate::error::Result<(Answer, Source)> {
    let j = Judgement::new(period, clock.today);
    if j.is_open() {
        return Ok((Answer::of(conn, period, policy, clock)?, Source::Computed));
    }
    // Read before the ranking, so what is kept under it is no older.
    let fingerprint = cache::fingerprint(conn, &j)?;
    if let Some(answer) = kept.get(period, policy, &fingerprint) {
        return Ok((answer, Source::Cache));
    }
    let _turn = kept.turn();
    if let Some(answer) = kept.get(period, policy, &fingerprint) {
        return Ok((answer, Source::Cache));
    }
    let answer = Answer::of(conn, period, policy, clock)?;
    kept.put(period, policy, fingerprint, answer.clone());
    Ok((answer, Source::Computed))
}
