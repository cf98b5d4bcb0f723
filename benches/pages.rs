//! What a console page costs the server beside the JSON endpoint for the same
//! data: builds the demo city (DUBAN_BENCH_SCALE, default 4) in a temporary
//! SQLite database, starts the real server on a free port, signs an office
//! account in twice (a bearer token for the API, a session for the console)
//! and times sequential requests over loopback: the task list, a task page
//! and the notices, each page beside its JSON endpoint, all beside
//! `/healthz`. Rounds interleave the pairs so that the machine's noise falls
//! on both alike; the figures to quote are the ratios.
//!
//! Run with `cargo bench --bench pages` (or `bench/run.sh pages`).

use std::time::{Duration, Instant};

use diesel::prelude::*;
use duban::config::Settings;
use duban::db::schema::tasks;
use duban::startup::Application;

/// Requests per endpoint per round, and rounds.
const PER_ROUND: usize = 20;
const ROUNDS: usize = 10;

struct Endpoint {
    name: &'static str,
    path: String,
    /// Sent as a bearer token (API) or with the session cookie (console).
    api: bool,
    times: Vec<Duration>,
}

impl Endpoint {
    fn new(name: &'static str, path: String, api: bool) -> Endpoint {
        Endpoint {
            name,
            path,
            api,
            times: Vec::new(),
        }
    }

    fn median(&self) -> f64 {
        let mut t = self.times.clone();
        t.sort();
        t[t.len() / 2].as_secs_f64()
    }
}

fn main() -> anyhow::Result<()> {
    let scale: u32 = std::env::var("DUBAN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(scale))
}

async fn run(scale: u32) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        database_url: Some(dir.path().join("duban.db").to_string_lossy().into_owned()),
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".into(),
        workers: 2,
        ..Settings::default()
    };
    let app = Application::build(settings.clone()).await?;
    let pool = app.pool();
    let base = format!("http://{}", app.address());
    let (office, some_task) = {
        let mut conn = pool.get()?;
        let passwords = duban::credentials::Passwords::new(&settings)?;
        let clock = settings.clock(chrono::Utc::now());
        let summary = duban::demo::load(
            &mut conn,
            &settings,
            duban::demo::DemoOptions {
                scale,
                seed: 2026,
                today: clock.today,
            },
            &|p| passwords.hash_blocking(p),
        )?;
        let office = summary
            .accounts
            .into_iter()
            .find(|a| a.role == "office")
            .ok_or_else(|| anyhow::anyhow!("the demo has an office account"))?;
        // A department's task with a history: reports, an extension, events.
        let task: i64 = tasks::table
            .filter(tasks::code.eq("1.2"))
            .select(tasks::id)
            .first(&mut conn)?;
        let count: i64 = tasks::table.count().get_result(&mut conn)?;
        println!("scale {scale}: {count} tasks");
        (office, task)
    };
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());

    let api = reqwest::Client::new();
    let token: serde_json::Value = api
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": office.username, "password": office.password}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login answers a token: {token}"))?
        .to_string();
    let console = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let form = console
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"csrf\" value=\"";
    let csrf = form
        .split_once(marker)
        .and_then(|(_, rest)| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("the sign-in form carries a CSRF token"))?
        .to_string();
    let signed = console
        .post(format!("{base}/login"))
        .form(&[
            ("username", office.username.as_str()),
            ("password", office.password.as_str()),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        signed.status() == 303,
        "console sign-in: {}",
        signed.status()
    );

    let mut endpoints = vec![
        Endpoint::new("healthz (baseline)", "/healthz".into(), true),
        Endpoint::new(
            "task list, JSON",
            "/api/v1/tasks?sort=due_date&per_page=30".into(),
            true,
        ),
        Endpoint::new("task list, page", "/tasks?sort=due_date".into(), false),
        Endpoint::new("task, JSON", format!("/api/v1/tasks/{some_task}"), true),
        Endpoint::new("task, page", format!("/tasks/{some_task}"), false),
        Endpoint::new("notices, JSON", "/api/v1/notices?per_page=30".into(), true),
        Endpoint::new("notices, page", "/notices".into(), false),
        Endpoint::new("home, page", "/".into(), false),
    ];
    // Warm-up: templates compiled, connections open, caches filled.
    for e in &mut endpoints {
        for _ in 0..5 {
            fetch(&api, &console, &base, &token, e).await?;
        }
        e.times.clear();
    }
    for _ in 0..ROUNDS {
        for e in &mut endpoints {
            for _ in 0..PER_ROUND {
                let start = Instant::now();
                fetch(&api, &console, &base, &token, e).await?;
                e.times.push(start.elapsed());
            }
        }
    }
    handle.stop(true).await;

    let baseline = endpoints[0].median();
    println!("{:<20} {:>10} {:>14}", "endpoint", "median µs", "× healthz");
    for e in &endpoints {
        println!(
            "{:<20} {:>10.0} {:>14.1}",
            e.name,
            e.median() * 1e6,
            e.median() / baseline
        );
    }
    let ratio = |page: usize, json: usize| endpoints[page].median() / endpoints[json].median();
    println!(
        "page / JSON for the same data: task list {:.2}, task {:.2}, notices {:.2}",
        ratio(2, 1),
        ratio(4, 3),
        ratio(6, 5)
    );
    Ok(())
}

/// One request; fails on anything but 200 so that an error page is never
/// timed as a page.
async fn fetch(
    api: &reqwest::Client,
    console: &reqwest::Client,
    base: &str,
    token: &str,
    e: &Endpoint,
) -> anyhow::Result<()> {
    let url = format!("{base}{}", e.path);
    let res = if e.api {
        api.get(url).bearer_auth(token).send().await?
    } else {
        console.get(url).send().await?
    };
    anyhow::ensure!(res.status() == 200, "{}: {}", e.path, res.status());
    res.bytes().await?;
    Ok(())
}
