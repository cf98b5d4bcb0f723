//! Promises kept under concurrency and faults: several deliverers racing
//! over a slow mail server send each notice once; a server killed in the
//! middle of the morning scan only delays the day's notices; a job run left
//! unfinished is taken over once; the metrics never go down; and a fresh
//! server leaves the database fit for `duban demo`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::prelude::*;
use duban::config::Settings;
use duban::db::schema::{accountability_records, bulletins, job_runs, notices, task_events};
use duban::db::DbPool;
use duban::notices::deliver;
use serde_json::json;

use crate::api_tests;
use crate::city;
use crate::helpers::processes::{self, output, Process};
use crate::helpers::{duban, expect_json, expect_problem, FreshDatabase, TestApp};
use crate::notices::Outbox;
use crate::smtp::{Mode, SmtpServer};

api_tests![
    two_deliverers_at_once_over_a_slow_mail_server_send_each_notice_once with crate::helpers::ladder_only,
    two_servers_and_the_deliver_command_send_each_notice_once timeout 300 with crate::helpers::ladder_only,
    a_server_killed_mid_scan_leaves_the_days_notices_to_its_restart timeout 300 with crate::helpers::ladder_only,
    an_unfinished_job_run_is_taken_over_once_its_lease_lapses,
    metrics_never_go_down_when_a_dead_notice_is_retried with crate::helpers::ladder_only,
    a_fresh_server_drafts_no_bulletin_and_the_demo_loads_after_it,
];

fn today() -> NaiveDate {
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// Starts a quiet child (a server), killed when dropped: a failed assertion
/// never leaves it running.
fn start(cmd: &mut Command) -> Process {
    Process::spawn(cmd.stdout(Stdio::null()).stderr(Stdio::null()))
}

/// `duban` with the database, its own data directory, and the given settings.
fn duban_on(database_url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = duban();
    cmd.env("DATABASE_URL", database_url)
        .env("DUBAN_DATA_DIR", data_dir)
        .env("DUBAN_LISTEN", "127.0.0.1:0")
        .env("DUBAN_SEND_WINDOW", "");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Polls `check` every few milliseconds until it holds or `secs` pass.
fn wait_until(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

fn count_notices(pool: &DbPool, status: Option<&str>) -> i64 {
    let mut conn = pool.get().unwrap();
    let mut q = notices::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(notices::status.eq(s.to_string()));
    }
    q.count().get_result(&mut conn).unwrap()
}

/// Message-IDs received, and how many times each came.
fn arrivals(smtp: &SmtpServer) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for m in smtp.received() {
        *seen
            .entry(m.header("Message-ID").expect("Message-ID"))
            .or_insert(0) += 1;
    }
    seen
}

/// `n` tasks of the city overdue since yesterday: one chase notice each.
async fn overdue_tasks(app: &TestApp, n: usize) -> city::City {
    let c = city::build(app).await;
    for i in 0..n {
        c.in_progress(app, &format!("R{i}"), -1).await;
    }
    c
}

async fn two_deliverers_at_once_over_a_slow_mail_server_send_each_notice_once(app: TestApp) {
    const N: usize = 4;
    let smtp = SmtpServer::start();
    // Each message takes a second, longer than a claim's lease: only its
    // renewal while the send runs keeps it from the other deliverer.
    smtp.set_delay(Duration::from_secs(1));
    overdue_tasks(&app, N).await;
    let out = Outbox::new(&app, &smtp.url());
    assert_eq!(out.scan(today()).created, N);
    let settings = Settings {
        delivery_lease_secs: 1,
        ..out.settings.clone()
    };
    let mailer = duban::mail::Mailer::from_settings(&settings).unwrap();
    let start = std::sync::Arc::new(std::sync::Barrier::new(2));
    let rounds: Vec<_> = (0..2)
        .map(|_| {
            let (pool, mailer, settings, start) = (
                out.pool.clone(),
                mailer.clone(),
                settings.clone(),
                start.clone(),
            );
            std::thread::spawn(move || {
                start.wait();
                deliver::deliver(
                    &pool,
                    &mailer,
                    &settings,
                    duban::bulletins::publish::attachments,
                    chrono::Utc::now().naive_utc(),
                )
                .unwrap()
            })
        })
        .collect();
    let counts: Vec<deliver::DeliveryCounts> =
        rounds.into_iter().map(|r| r.join().unwrap()).collect();
    assert_eq!(
        counts.iter().map(|c| c.sent).sum::<usize>(),
        N,
        "{counts:?}"
    );
    assert!(
        counts.iter().all(|c| c.sent > 0),
        "both deliverers worked: {counts:?}"
    );
    let seen = arrivals(&smtp);
    assert_eq!(seen.len(), N);
    assert!(
        seen.values().all(|n| *n == 1),
        "each exactly once: {seen:?}"
    );
}

async fn two_servers_and_the_deliver_command_send_each_notice_once(app: TestApp) {
    const N: usize = 6;
    let smtp = SmtpServer::start();
    smtp.set_delay(Duration::from_secs(1));
    overdue_tasks(&app, N).await;
    let out = Outbox::new(&app, &smtp.url());
    assert_eq!(out.scan(today()).created, N);
    let url = smtp.url();
    // A round of six one-second messages outlasts both the scheduler lease
    // and every claim's lease: the other server takes the scheduler over in
    // the middle of it, and `duban deliver` runs alongside both.
    let env = [
        ("DUBAN_MAIL_TRANSPORT", "smtp"),
        ("DUBAN_SMTP_URL", url.as_str()),
        ("DUBAN_MAIL_FROM", "duban@example.gov.cn"),
        ("DUBAN_SMTP_TIMEOUT_SECS", "5"),
        ("DUBAN_DELIVERY_INTERVAL_SECS", "1"),
        ("DUBAN_SCHEDULER_LEASE_SECS", "1"),
        ("DUBAN_DELIVERY_LEASE_SECS", "1"),
    ];
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let db = app.database.url.clone();
    let servers: Vec<Process> = dirs
        .iter()
        .map(|d| start(duban_on(&db, d.path(), &env).arg("serve")))
        .collect();
    let cli_dir = tempfile::tempdir().unwrap();
    let cli_dir_path = cli_dir.path().to_path_buf();
    let env_owned: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let db_for_cli = db.clone();
    let test = processes::current_test();
    let cli = std::thread::spawn(move || {
        processes::set_current_test(test);
        std::thread::sleep(Duration::from_millis(300));
        let pairs: Vec<(&str, &str)> = env_owned
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        output(duban_on(&db_for_cli, &cli_dir_path, &pairs).arg("deliver"))
    });
    let all_sent = wait_until(60, || count_notices(&out.pool, Some("sent")) == N as i64);
    let cli = cli.join().unwrap();
    drop(servers);
    // A message already on the wire when the servers were killed still lands.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(all_sent, "every notice recorded as sent");
    let seen = arrivals(&smtp);
    assert_eq!(seen.len(), N, "{seen:?}");
    assert!(
        seen.values().all(|n| *n == 1),
        "each exactly once: {seen:?}"
    );
    let mut conn = out.pool.get().unwrap();
    let attempts: Vec<i32> = notices::table
        .select(notices::attempts)
        .load(&mut conn)
        .unwrap();
    assert!(attempts.iter().all(|a| *a == 1), "{attempts:?}");
}

/// Holds every writer of the database off: SQLite's write lock, or an
/// exclusive lock on the notices table in PostgreSQL.
enum WriteLock {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

impl WriteLock {
    /// Takes the lock at a moment when some notices are written: the check
    /// is made holding the lock, so no writer can finish in between. Each
    /// try holds it for an instant, then lets the writers on.
    fn once_notices_exist(url: &str, secs: u64) -> WriteLock {
        use diesel::connection::SimpleConnection;
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut lock = if url.starts_with("postgres") {
            WriteLock::Postgres(diesel::PgConnection::establish(url).unwrap())
        } else {
            // No busy wait inside SQLite: its backoff sleeps up to 100 ms
            // between tries, long enough for a quick scan to finish
            // unseen; a refused BEGIN is tried again here after 1 ms.
            let mut c = diesel::SqliteConnection::establish(url).unwrap();
            c.batch_execute("PRAGMA busy_timeout = 0").unwrap();
            WriteLock::Sqlite(c)
        };
        loop {
            // Before the server has migrated, there is no table to count.
            let written = match &mut lock {
                WriteLock::Postgres(c) => c
                    .batch_execute("BEGIN; LOCK TABLE notices IN EXCLUSIVE MODE;")
                    .and_then(|()| notices::table.count().get_result::<i64>(c)),
                WriteLock::Sqlite(c) => c
                    .batch_execute("BEGIN IMMEDIATE")
                    .and_then(|()| notices::table.count().get_result::<i64>(c)),
            };
            if written.is_ok_and(|n| n > 0) {
                return lock;
            }
            assert!(Instant::now() < deadline, "no notice written in {secs} s");
            lock.rollback();
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn rollback(&mut self) {
        use diesel::connection::SimpleConnection;
        let _ = match self {
            WriteLock::Sqlite(c) => c.batch_execute("ROLLBACK"),
            WriteLock::Postgres(c) => c.batch_execute("ROLLBACK"),
        };
    }
}

/// The scan run of `day`: (finished, outcome, attempts), if there is one.
fn scan_run(pool: &DbPool, day: NaiveDate) -> Option<(bool, Option<String>, i32)> {
    let mut conn = pool.get().unwrap();
    job_runs::table
        .filter(job_runs::job.eq("scan"))
        .filter(job_runs::period.eq(day.to_string()))
        .select((
            job_runs::finished_at.is_not_null(),
            job_runs::outcome,
            job_runs::attempts,
        ))
        .first(&mut conn)
        .optional()
        .unwrap()
}

async fn a_server_killed_mid_scan_leaves_the_days_notices_to_its_restart(app: TestApp) {
    // Enough that the scan takes a while even when the machine is quiet.
    const TASKS: usize = 80;
    let c = city::build(&app).await;
    // Sixteen days overdue: a chase notice, a supervision order and an
    // accountability proposal for each task.
    for i in 0..TASKS {
        let task = c.task(&app, &format!("K{i}"), -16, json!({})).await;
        c.ok(&app, &c.office, &task, "assign", None).await;
    }
    let expected = 3 * TASKS as i64;
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let day = today();
    let data_dir = tempfile::tempdir().unwrap();
    let env = [
        ("DUBAN_SCAN_TIME", "00:00"),
        ("DUBAN_DELIVERY_INTERVAL_SECS", "1"),
        ("DUBAN_SCHEDULER_LEASE_SECS", "2"),
        ("DUBAN_JOB_LEASE_SECS", "2"),
        // Nothing is sent in this test: the scan is what matters.
        ("DUBAN_SEND_WINDOW", "03:00-03:01"),
        // A notice a transaction, so that this small scan is many
        // transactions long and the kill lands between two of them.
        ("DUBAN_SCAN_BATCH_ROWS", "1"),
    ];
    let serve = || start(duban_on(&app.database.url, data_dir.path(), &env).arg("serve"));

    let first = serve();
    // Once the scan has written some notices, every writer is held off, so
    // that the scan cannot finish before the kill.
    let mut lock = WriteLock::once_notices_exist(&app.database.url, 60);
    first.kill();
    lock.rollback();
    let written = count_notices(&pool, None);
    assert!(
        written > 0 && written < expected,
        "killed mid-scan: {written} of {expected}"
    );
    assert_eq!(
        scan_run(&pool, day),
        Some((false, None, 1)),
        "the run is left unfinished"
    );

    let second = serve();
    let finished = wait_until(60, || {
        scan_run(&pool, day).is_some_and(|(finished, ..)| finished)
    });
    assert_eq!(second.terminate().code(), Some(0), "a clean stop");
    assert!(finished, "the restarted server takes the day's scan over");
    assert_eq!(scan_run(&pool, day), Some((true, Some("ok".into()), 2)));
    assert_eq!(count_notices(&pool, None), expected);

    // A clean scan of the same data finds every notice there, none to add.
    let out = output(duban_on(&app.database.url, data_dir.path(), &[]).args([
        "scan",
        "--today",
        &day.to_string(),
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("0 notices created, {expected} already there")),
        "{text}"
    );
    // Each notice has its one timeline event, each task one proposal.
    let mut conn = pool.get().unwrap();
    let events: i64 = task_events::table
        .filter(task_events::kind.eq_any([
            "chase_notice",
            "supervision_order",
            "accountability_proposed",
        ]))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(events, expected);
    let proposals: i64 = accountability_records::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(proposals, TASKS as i64);
}

async fn an_unfinished_job_run_is_taken_over_once_its_lease_lapses(app: TestApp) {
    use chrono::Duration as Span;
    use duban::jobs::{claim_run, renew_run};
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    let a = claim_run(&mut conn, "scan", "2026-01-05", "a", 60, now)
        .unwrap()
        .expect("a starts the run");
    assert_eq!(a.attempts, 1);
    assert_eq!(
        claim_run(
            &mut conn,
            "scan",
            "2026-01-05",
            "b",
            60,
            now + Span::seconds(30)
        )
        .unwrap(),
        None,
        "a is alive: its lease runs"
    );
    assert!(renew_run(&mut conn, &a, 60, now + Span::seconds(50)).unwrap());
    assert_eq!(
        claim_run(
            &mut conn,
            "scan",
            "2026-01-05",
            "b",
            60,
            now + Span::seconds(100)
        )
        .unwrap(),
        None,
        "a renewed it"
    );
    // a dies: no renewal after the one at +50 s.
    let b = claim_run(
        &mut conn,
        "scan",
        "2026-01-05",
        "b",
        60,
        now + Span::seconds(111),
    )
    .unwrap()
    .expect("b takes over");
    assert_eq!(b.attempts, 2);
    assert_eq!(
        claim_run(
            &mut conn,
            "scan",
            "2026-01-05",
            "c",
            60,
            now + Span::seconds(111)
        )
        .unwrap(),
        None,
        "one taker only"
    );
    assert!(
        !renew_run(&mut conn, &a, 60, now + Span::seconds(112)).unwrap(),
        "a, back from a stall, finds the run gone to b"
    );
    drop(conn);

    // A run left unfinished by an older duban (no lease at all) is taken
    // over at once by the scheduler, and recorded as done.
    let mut conn = pool.get().unwrap();
    let day = today();
    diesel::insert_into(job_runs::table)
        .values((
            job_runs::job.eq("scan"),
            job_runs::period.eq(day.to_string()),
            job_runs::holder.eq("old"),
            job_runs::started_at.eq(now - Span::hours(1)),
        ))
        .execute(&mut conn)
        .unwrap();
    drop(conn);
    let settings = Settings {
        scan_time: "00:00".parse().unwrap(),
        ..app.settings.clone()
    };
    let ran = duban::jobs::scan_if_due(&pool, &settings, "b", chrono::Utc::now()).unwrap();
    assert!(ran.is_some(), "the stuck run is taken over");
    assert_eq!(scan_run(&pool, day), Some((true, Some("ok".into()), 2)));
    assert!(
        duban::jobs::scan_if_due(&pool, &settings, "c", chrono::Utc::now())
            .unwrap()
            .is_none(),
        "and then it is done"
    );
    let admin = app.admin_token().await;
    let status = expect_json(app.get("/api/v1/scheduler", &admin).await, 200).await;
    assert_eq!(status["recent_runs"][0]["attempts"], 2);
}

fn metrics(text: &str) -> std::collections::BTreeMap<String, i64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| k.ends_with("_total"))
        .map(|(k, v)| (k.to_string(), v.trim().parse().unwrap()))
        .collect()
}

async fn metrics_never_go_down_when_a_dead_notice_is_retried(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = overdue_tasks(&app, 1).await;
    let out = Outbox::new(&app, &smtp.url());
    out.scan(today());
    let scrape = || async {
        let text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metrics(&text)
    };
    let mut scrapes = vec![scrape().await];
    smtp.set_mode(Mode::PermFail);
    assert_eq!(out.deliver().dead, 1);
    scrapes.push(scrape().await);
    let id = expect_json(app.get("/api/v1/notices", &c.office).await, 200).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let retry = format!("/api/v1/notices/{id}/retry");
    expect_json(app.post(&retry, &c.office, json!({})).await, 200).await;
    scrapes.push(scrape().await);
    assert_eq!(out.deliver().dead, 1, "refused again");
    scrapes.push(scrape().await);
    expect_json(app.post(&retry, &c.office, json!({})).await, 200).await;
    expect_problem(
        app.post(&retry, &c.office, json!({})).await,
        409,
        "notice_not_dead",
    )
    .await;
    smtp.set_mode(Mode::Accept);
    assert_eq!(out.deliver().sent, 1);
    scrapes.push(scrape().await);
    for pair in scrapes.windows(2) {
        for (name, before) in &pair[0] {
            let after = pair[1][name];
            assert!(after >= *before, "{name} went from {before} to {after}");
        }
    }
    let last = scrapes.last().unwrap();
    assert_eq!(last["duban_notices_created_total"], 1);
    assert_eq!(last["duban_notices_dead_total"], 2, "given up on twice");
    assert_eq!(last["duban_notice_failures_total"], 2);
    assert_eq!(last["duban_notices_sent_total"], 1);
    assert_eq!(
        scrapes[2]["duban_notices_dead_total"], 1,
        "a retry does not undo it"
    );
}

async fn a_fresh_server_drafts_no_bulletin_and_the_demo_loads_after_it(app: TestApp) {
    // The README's order: start the server, then load the demo.
    let database = FreshDatabase::new(app.backend);
    let data_dir = tempfile::tempdir().unwrap();
    let pool = duban::db::connect(&database.url, 2).unwrap();
    let env = [
        ("DUBAN_SCAN_TIME", "00:00"),
        ("DUBAN_BULLETIN_DAY", "1"),
        ("DUBAN_DELIVERY_INTERVAL_SECS", "1"),
    ];
    let server = start(duban_on(&database.url, data_dir.path(), &env).arg("serve"));
    // The tables exist once the server has migrated the database.
    let scanned = || {
        job_runs::table
            .filter(job_runs::job.eq("scan"))
            .filter(job_runs::finished_at.is_not_null())
            .count()
            .get_result::<i64>(&mut pool.get().unwrap())
            .is_ok_and(|n| n == 1)
    };
    assert!(wait_until(60, scanned), "the scheduler ticked");
    // Two more ticks, each past the bulletin job.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(server.terminate().code(), Some(0));
    let drafted: i64 = bulletins::table
        .count()
        .get_result(&mut pool.get().unwrap())
        .unwrap();
    assert_eq!(drafted, 0, "no bulletin for a month with nothing in it");

    let demo = output(duban_on(&database.url, data_dir.path(), &[]).args(["demo"]));
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    assert!(String::from_utf8_lossy(&demo.stdout).contains("demo city loaded"));

    // A second load is refused with a sentence, not a dump.
    let again = output(duban_on(&database.url, data_dir.path(), &[]).args(["demo"]));
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.starts_with("duban: the database already holds data"),
        "{stderr}"
    );
    assert!(!stderr.contains("ErrorInner") && !stderr.contains("ApiError"));
}
