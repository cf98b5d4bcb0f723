//! `duban demo`: a living demo city built from the speech — the office, a
//! dozen townships, the development zone, the departments the speech names,
//! an account for each, the programme's tasks (some done on time, some late,
//! some overdue), indicators with reported values, the notices the ladder
//! sent, and two published bulletins. The history is simulated day by day
//! over the last two months, so every bulletin is what the data say.
//!
//! `--scale N` makes the city N times larger (townships, zones, their tasks
//! and clerks) for load and benchmark work. Everything is decided by a seeded
//! random generator: the same seed and `--today` give the same city.

mod city;
mod days;
mod indicators;
mod tasks;

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::config::Settings;
use crate::db::schema::{notices, plans, units, users};
use crate::db::DbConnection;
use crate::domain::Role;

/// What to build.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub scale: u32,
    pub seed: u64,
    pub today: NaiveDate,
}

/// An account made for the demo, with its password (printed once).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub role: &'static str,
    pub unit: String,
    pub password: String,
}

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub units: usize,
    pub accounts: Vec<DemoAccount>,
    /// Synthetic clerks beyond the first copy of the city share this password.
    pub shared_password: Option<String>,
    pub tasks: usize,
    pub indicators: usize,
    pub notices: usize,
    pub bulletins: Vec<String>,
}
/// An error of a service the demo calls, as a sentence for the terminal.
fn failed(doing: &str, e: crate::http::problem::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{doing}: {}", e.sentence(crate::domain::message::Lang::En))
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
         `duban demo` only fills an empty database"
    );
    Ok(())
}

/// Builds the demo city in one transaction: all of it or nothing. `hash`
/// turns a password into its stored hash.
pub fn load(
    conn: &mut DbConnection,
    settings: &Settings,
    options: DemoOptions,
    hash: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<DemoSummary> {
    conn.write(|conn| build(conn, settings, options, hash))
}

fn build(
    conn: &mut DbConnection,
    settings: &Settings,
    options: DemoOptions,
    hash: &dyn Fn(&str) -> anyhow::Result<String>,
) -> anyhow::Result<DemoSummary> {
    check_empty(conn)?;
    let today = options.today;
    let start = tasks::month_start(today, -2);
    let mut rng = StdRng::seed_from_u64(options.seed);
    let mut summary = DemoSummary::default();
    let created = start - Duration::days(10);
    let created_at = created.and_hms_opt(1, 0, 0).unwrap_or_default();

    let city = city::units(conn, options.scale, &mut rng, created_at)?;
    summary.units = city.unit_count();
    let people =
        city::Accounts { hash, created_at }.people(conn, &city, options.scale, &mut summary)?;
    let plan = tasks::plan(conn, today, created_at)?;
    let mut b = tasks::Builder {
        conn,
        tz: settings.timezone,
        rng,
        today,
        start,
        office_user: people.office_user,
        clerks: people.clerks.clone(),
    };
    summary.tasks = tasks::programme(&mut b, plan, &city, &people, options.scale)?;
    tasks::extensions(&mut b)?;
    summary.indicators = indicators::load(&mut b, settings, &city, created)?;
    summary.bulletins = days::simulate(&mut b, settings)?;
    summary.notices =
        usize::try_from(notices::table.count().get_result::<i64>(b.conn)?).unwrap_or(0);
    crate::audit::record_change(
        b.conn,
        None,
        "demo",
        ("database", 0),
        None,
        Some(
            &serde_json::json!({ "scale": options.scale, "seed": options.seed, "today": today,
            "units": summary.units, "tasks": summary.tasks, "notices": summary.notices }),
        ),
        chrono::Utc::now().naive_utc(),
    )?;
    Ok(summary)
}
