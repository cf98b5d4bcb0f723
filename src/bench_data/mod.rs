//! `duban bench-data`: a synthetic city at province scale for the benchmark
//! suite (`bench/run`, docs/performance.md): thousands of units, tens of
//! thousands of accounts, a million tasks and millions of events, about a
//! tenth of the tasks overdue. Unlike `duban demo` (a story told through the
//! services, row by row), this writes set-wise: explicit ids, multi-row
//! INSERTs, one transaction per chunk of tasks, no savepoints, and one
//! password hash shared by every account (argon2 is slow on purpose).
//!
//! Everything is decided by a seeded generator: the same options give the
//! same city. A load that fails part-way leaves a partial database: drop it
//! and load again (the command refuses a database that holds anything).

mod batch;
mod tasks;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::schema::{plans, tasks as tasks_table, units, users};
use crate::db::DbConnection;
use crate::domain::Role;
use batch::{text, Batch};

/// What to build.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Units, the office included.
    pub units: u32,
    /// Accounts besides the first admin: the office, two leaders, a viewer,
    /// and clerks spread over the units (at least one per unit).
    pub users: u32,
    pub tasks: u64,
    /// Timeline events in all (about `events / tasks` per task).
    pub events: u64,
    /// Percent of tasks open past their due date.
    pub overdue_percent: u32,
    pub seed: u64,
    pub today: NaiveDate,
}

/// What was built, and who to sign in as.
#[derive(Debug, Default)]
pub struct BenchSummary {
    pub units: u64,
    pub users: u64,
    pub tasks: u64,
    pub events: u64,
    pub reports: u64,
    pub overdue: u64,
    /// A clerk and a task of their unit, for the read benchmarks.
    pub sample_clerk: String,
    pub sample_task: i64,
    pub sample_unit: i64,
}

/// Tasks per transaction: big enough that commits cost nothing, small enough
/// that SQLite's WAL and PostgreSQL's memory stay bounded.
const TASKS_PER_CHUNK: u64 = 50_000;
/// Tasks per plan (so a plan's tree is a realistic size).
pub(crate) const TASKS_PER_PLAN: u64 = 100_000;

/// Refuses bad sizes with a sentence naming the option.
pub fn check(options: &BenchOptions) -> anyhow::Result<()> {
    anyhow::ensure!(
        options.units >= 2,
        "--units must be at least 2 (the office and one unit)"
    );
    anyhow::ensure!(
        u64::from(options.users) >= u64::from(options.units) + 3,
        "--users must be at least --units + 3 (the office, two leaders, a viewer, a clerk per unit)"
    );
    anyhow::ensure!(options.tasks >= 1, "--tasks must be at least 1");
    anyhow::ensure!(
        options.overdue_percent <= 100,
        "--overdue-percent must be between 0 and 100"
    );
    Ok(())
}

/// Refuses a database that holds anything but the first admin.
fn check_empty(conn: &mut DbConnection) -> anyhow::Result<()> {
    let units: i64 = units::table.count().get_result(conn)?;
    let plans: i64 = plans::table.count().get_result(conn)?;
    let accounts: i64 = users::table
        .filter(users::role.ne(Role::Admin.as_str()))
        .count()
        .get_result(conn)?;
    anyhow::ensure!(
        units == 0 && plans == 0 && accounts == 0,
        "the database already holds data ({units} units, {plans} plans, {accounts} accounts besides admins); \
         `duban bench-data` only fills an empty database"
    );
    Ok(())
}

/// The units and accounts made, by id.
pub(crate) struct People {
    /// Every unit but the office.
    pub working_units: Vec<i64>,
    pub office_user: i64,
    pub leaders: [i64; 2],
    /// The first clerk of each working unit, in `working_units` order.
    pub clerks: Vec<i64>,
}

/// Builds the city. `password_hash` is stored for every account.
pub fn load(
    conn: &mut DbConnection,
    options: &BenchOptions,
    password_hash: &str,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<BenchSummary> {
    check(options)?;
    check_empty(conn)?;
    crate::db::bulk::relax_durability(conn)?;
    let mut rng = StdRng::seed_from_u64(options.seed);
    let created_at = (options.today - Duration::days(200))
        .and_hms_opt(1, 0, 0)
        .unwrap_or_default();
    let mut summary = BenchSummary::default();
    let people = conn.write(|conn| -> anyhow::Result<People> {
        people(conn, options, password_hash, created_at, &mut summary)
    })?;
    progress(&format!(
        "{} units, {} accounts",
        summary.units, summary.users
    ));
    let plan_count = options.tasks.div_ceil(TASKS_PER_PLAN);
    let plan_ids = conn.write(|conn| -> QueryResult<Vec<i64>> {
        (0..plan_count)
            .map(|p| {
                diesel::insert_into(plans::table)
                    .values((
                        plans::title.eq(format!("基准测试实施方案（第{}册）", p + 1)),
                        plans::year.eq(chrono::Datelike::year(&options.today)),
                        plans::status.eq(crate::domain::kinds::PlanStatus::Active),
                        plans::created_at.eq(created_at),
                        plans::updated_at.eq(created_at),
                    ))
                    .returning(plans::id)
                    .get_result(conn)
            })
            .collect()
    })?;
    let first_task: i64 = tasks_table::table
        .select(diesel::dsl::max(tasks_table::id))
        .get_result::<Option<i64>>(conn)?
        .unwrap_or(0)
        + 1;
    let mut writer = tasks::Writer::new(options, &people, &plan_ids, first_task, created_at);
    let mut start = 0;
    while start < options.tasks {
        let end = (start + TASKS_PER_CHUNK).min(options.tasks);
        conn.write(|conn| writer.chunk(conn, &mut rng, start..end))?;
        start = end;
        progress(&format!("{end} tasks"));
    }
    crate::db::bulk::sync_id_sequence(conn, "units")?;
    crate::db::bulk::sync_id_sequence(conn, "users")?;
    crate::db::bulk::sync_id_sequence(conn, "tasks")?;
    crate::db::bulk::analyze(conn)?;
    summary.tasks = options.tasks;
    summary.events = writer.events.written;
    summary.reports = writer.reports.written;
    summary.overdue = writer.overdue;
    summary.sample_unit = people.working_units[0];
    summary.sample_task = first_task;
    summary.sample_clerk = "clerk-b00001".to_string();
    crate::audit::record_change(
        conn,
        None,
        "bench_data",
        ("database", 0),
        None,
        Some(&serde_json::json!({
            "units": summary.units, "users": summary.users, "tasks": summary.tasks,
            "events": summary.events, "seed": options.seed, "today": options.today,
        })),
        chrono::Utc::now().naive_utc(),
    )?;
    Ok(summary)
}

/// The units (the office, then townships, zones and departments coded
/// B00001…) and the accounts, all sharing `hash`.
fn people(
    conn: &mut DbConnection,
    options: &BenchOptions,
    hash: &str,
    created_at: NaiveDateTime,
    summary: &mut BenchSummary,
) -> anyhow::Result<People> {
    let max_unit: Option<i64> = units::table
        .select(diesel::dsl::max(units::id))
        .get_result(conn)?;
    let first_unit = max_unit.unwrap_or(0) + 1;
    let at = batch::at(created_at);
    let mut rows = Batch::new(
        "units",
        &[
            "id",
            "code",
            "name",
            "kind",
            "contact_emails",
            "head_name",
            "head_email",
            "created_at",
            "updated_at",
        ],
    );
    let mut working_units = Vec::new();
    for n in 0..i64::from(options.units) {
        let id = first_unit + n;
        let (code, name, kind) = if n == 0 {
            ("OFFICE".to_string(), "领导小组办公室".to_string(), "office")
        } else {
            working_units.push(id);
            let kind = match n % 20 {
                0 | 1 => "department",
                2 => "park",
                _ => "township",
            };
            let name = match kind {
                "department" => format!("基准部门{n:05}"),
                "park" => format!("基准园区{n:05}"),
                _ => format!("基准乡镇{n:05}"),
            };
            (format!("B{n:05}"), name, kind)
        };
        let lower = code.to_lowercase();
        rows.row(
            conn,
            &[
                &id.to_string(),
                &text(&code),
                &text(&name),
                &text(kind),
                &text(&format!("[\"{lower}@bench.duban.local\"]")),
                &text(&format!("{name}主要负责人")),
                &text(&format!("head-{lower}@bench.duban.local")),
                &at,
                &at,
            ],
        )?;
    }
    rows.flush(conn)?;
    summary.units = rows.written;

    let max_user: Option<i64> = users::table
        .select(diesel::dsl::max(users::id))
        .get_result(conn)?;
    let first_user = max_user.unwrap_or(0) + 1;
    let mut rows = Batch::new(
        "users",
        &[
            "id",
            "username",
            "display_name",
            "email",
            "role",
            "unit_id",
            "password_hash",
            "created_at",
            "updated_at",
        ],
    );
    let hash = text(hash);
    let mut id = first_user;
    let mut account = |conn: &mut DbConnection,
                       username: &str,
                       display: &str,
                       role: &str,
                       unit: Option<i64>|
     -> QueryResult<i64> {
        let this = id;
        id += 1;
        rows.row(
            conn,
            &[
                &this.to_string(),
                &text(username),
                &text(display),
                &text(&format!("{username}@bench.duban.local")),
                &text(role),
                &unit.map_or_else(|| "NULL".into(), |u| u.to_string()),
                &hash,
                &at,
                &at,
            ],
        )?;
        Ok(this)
    };
    let office_user = account(
        conn,
        "bench-office",
        "办公室督查员",
        "office",
        Some(first_unit),
    )?;
    let leaders = [
        account(conn, "bench-leader-1", "分管领导甲", "leader", None)?,
        account(conn, "bench-leader-2", "分管领导乙", "leader", None)?,
    ];
    account(conn, "bench-viewer", "纪委监委", "viewer", None)?;
    let clerk_count = u64::from(options.users) - 4;
    let mut clerks = Vec::new();
    for c in 0..clerk_count {
        let k = (c % working_units.len() as u64) as usize;
        let round = c / working_units.len() as u64;
        let n = k + 1;
        let username = if round == 0 {
            format!("clerk-b{n:05}")
        } else {
            format!("clerk-b{n:05}-{}", round + 1)
        };
        let user = account(
            conn,
            &username,
            &format!("联络员{n:05}-{}", round + 1),
            "unit",
            Some(working_units[k]),
        )?;
        if round == 0 {
            clerks.push(user);
        }
    }
    rows.flush(conn)?;
    summary.users = rows.written;
    Ok(People {
        working_units,
        office_user,
        leaders,
        clerks,
    })
}

/// A random local day within `days` of `from` (both ends included).
pub(crate) fn day_near(
    rng: &mut StdRng,
    from: NaiveDate,
    days: std::ops::RangeInclusive<i64>,
) -> NaiveDate {
    from + Duration::days(rng.gen_range(days))
}
