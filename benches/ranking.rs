//! How the cost of a ranking grows with the city: builds the demo city at
//! each scale (DUBAN_BENCH_SCALES, default "1,4") in a temporary SQLite
//! database, then times the year's ranking (every unit's figures, scores and
//! ranks) and a bulletin draft against a baseline query timed in the same run.
//! The machines are shared and noisy, so the figures to quote are the ratios.
//!
//! Run with `cargo bench --bench ranking` (or `bench/run.sh`).

use std::time::{Duration, Instant};

use chrono::Datelike;
use diesel::prelude::*;
use duban::config::Settings;
use duban::db::schema::{notices, tasks, units};
use duban::domain::period::Period;

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn main() -> anyhow::Result<()> {
    let scales: Vec<u32> = std::env::var("DUBAN_BENCH_SCALES")
        .unwrap_or_else(|_| "1,4".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!("scale  units  tasks  notices  baseline(µs)  ranking(ms)  ranking/baseline  draft(ms)  draft/baseline");
    let mut first: Option<f64> = None;
    for scale in scales {
        let dir = tempfile::tempdir()?;
        let settings = Settings {
            database_url: Some(dir.path().join("duban.db").to_string_lossy().into_owned()),
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let pool = duban::startup::open_database(&settings)?;
        let passwords = duban::credentials::Passwords::new(&settings)?;
        let mut conn = pool.get()?;
        let clock = settings.clock(chrono::Utc::now());
        duban::demo::load(
            &mut conn,
            &settings,
            duban::demo::DemoOptions {
                scale,
                seed: 2026,
                today: clock.today,
            },
            &|p| passwords.hash_blocking(p),
        )?;
        let count = |conn: &mut duban::db::DbConnection| -> anyhow::Result<(i64, i64, i64)> {
            Ok((
                units::table.count().get_result(conn)?,
                tasks::table.count().get_result(conn)?,
                notices::table.count().get_result(conn)?,
            ))
        };
        let (u, t, n) = count(&mut conn)?;
        let baseline = median(201, || {
            let _ = units::table.count().get_result::<i64>(&mut conn);
        });
        let year = Period::parse(&clock.today.year().to_string())
            .map_err(|m| anyhow::anyhow!("{}", m.en))?;
        let policy = settings.policy();
        let ranking = median(11, || {
            let _ = duban::rankings::ranking(&mut conn, year, &policy, &clock);
        });
        // Where the time goes: the figures alone (the database reads).
        let judgement = duban::domain::figures::Judgement::new(year, clock.today);
        let figures = median(11, || {
            let _ = duban::rankings::unit_figures(&mut conn, &judgement, &clock);
        });
        let reports = median(11, || {
            let _ = duban::indicators::values::owed_reports(&mut conn, clock.today);
        });
        let draft = median(5, || {
            let _ = duban::bulletins::build(&mut conn, &settings, &clock, year, None);
        });
        let ratio = ranking.as_secs_f64() / baseline.as_secs_f64();
        println!(
            "{scale:>5}  {u:>5}  {t:>5}  {n:>7}  {:>12.1}  {:>11.2}  {ratio:>16.0}  {:>9.2}  {:>14.0}",
            baseline.as_secs_f64() * 1e6,
            ranking.as_secs_f64() * 1e3,
            draft.as_secs_f64() * 1e3,
            draft.as_secs_f64() / baseline.as_secs_f64(),
        );
        println!(
            "       of which figures {:.2} ms (indicator reports {:.2} ms)",
            figures.as_secs_f64() * 1e3,
            reports.as_secs_f64() * 1e3
        );
        match first {
            None => first = Some(ratio),
            Some(r1) => println!(
                "       ranking/baseline at scale {scale} is {:.1}× that at the first scale",
                ratio / r1
            ),
        }
    }
    Ok(())
}
