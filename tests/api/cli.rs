//! The `duban` binary itself: first start, restart, `admin create`, `--help`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::api_tests;
use crate::helpers::processes::{output, Process};
use crate::helpers::{duban, expect_json, FreshDatabase, TestApp};

api_tests![
    first_start_prints_the_admin_password_once_and_restarts_keep_data,
    admin_create_makes_an_account_that_can_sign_in,
    admin_create_refuses_a_unit_account_without_a_unit,
    help_explains_each_command,
    an_unknown_database_url_scheme_is_refused_at_start,
    log_lines_written_to_a_file_carry_no_colour_codes,
    one_shot_commands_exit_cleanly_every_time,
    bench_data_builds_a_city_the_server_serves,
    templates_export_writes_the_defaults_to_edit,
    a_broken_template_override_stops_the_start_naming_its_file_and_line,
];

/// A running `duban serve` and the lines it has printed.
struct Served {
    process: Process,
    lines: Vec<String>,
}

impl Served {
    /// Starts `duban` with nothing but its database and data directory set,
    /// so with production's password hashing.
    fn start_as_in_production(data_dir: &std::path::Path, database_url: &str) -> Served {
        let mut cmd = duban();
        for key in [
            "DUBAN_ARGON2_MEMORY_KIB",
            "DUBAN_ARGON2_ITERATIONS",
            "DUBAN_ARGON2_PARALLELISM",
        ] {
            cmd.env_remove(key);
        }
        Served::launch(cmd, data_dir, database_url, &[], "warn").0
    }

    fn start_with(data_dir: &std::path::Path, database_url: &str, args: &[&str]) -> Served {
        Served::start_logging(data_dir, database_url, args, "warn").0
    }

    /// Starts `duban` logging at `level`; also returns the lines printed
    /// after the banner, as they come.
    fn start_logging(
        data_dir: &std::path::Path,
        database_url: &str,
        args: &[&str],
        level: &str,
    ) -> (Served, mpsc::Receiver<String>) {
        Served::launch(duban(), data_dir, database_url, args, level)
    }

    fn launch(
        mut cmd: Command,
        data_dir: &std::path::Path,
        database_url: &str,
        args: &[&str],
        level: &str,
    ) -> (Served, mpsc::Receiver<String>) {
        let process = Process::spawn(
            cmd.args(args)
                .env("RUST_LOG", level)
                .env("DUBAN_LISTEN", "127.0.0.1:0")
                .env("DUBAN_DATA_DIR", data_dir)
                .env("DATABASE_URL", database_url)
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let stdout = process.take_stdout();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut lines = Vec::new();
        // The banner ends with the notices line.
        while !lines
            .iter()
            .any(|l: &String| l.trim_start().starts_with("notices:"))
        {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("banner printed");
            lines.push(line);
        }
        (Served { process, lines }, rx)
    }

    fn text(&self) -> String {
        self.lines.join("\n")
    }

    fn base_url(&self) -> String {
        let line = self
            .lines
            .iter()
            .find(|l| l.contains("listening on http://"))
            .expect("address printed");
        line[line.find("http://").expect("address printed")..]
            .trim()
            .to_string()
    }

    /// SIGTERM, then wait: a graceful stop exits 0.
    fn stop(self) {
        let exit = self.process.terminate();
        assert!(exit.success(), "duban exited with {exit:?} after SIGTERM");
    }
}

async fn first_start_prints_the_admin_password_once_and_restarts_keep_data(app: TestApp) {
    let database = FreshDatabase::new(app.backend);
    let data_dir = tempfile::tempdir().unwrap();

    let first = Served::start_as_in_production(data_dir.path(), &database.url);
    let text = first.text();
    let first_text = text.clone();
    assert!(text.contains("listening on http://127.0.0.1:"), "{text}");
    let password = text
        .split("first admin account created: username admin, password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("generated password printed")
        .to_string();
    let base = first.base_url();
    let login = |base: String, password: String| async move {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "username": "admin", "password": password }))
            .send()
            .await
            .unwrap()
    };
    let token = expect_json(login(base.clone(), password.clone()).await, 200).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/units"))
        .bearer_auth(&token)
        .json(&json!({ "code": "T01", "name": "城关镇", "kind": "township" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    first.stop();
    // Production hashes with the OWASP parameters unless told otherwise; the
    // other tests hash cheaply (`helpers::cheap_hashing`).
    let hash: String = {
        use diesel::prelude::*;
        use duban::db::schema::users;
        let pool = duban::db::connect(&database.url, 1).unwrap();
        users::table
            .filter(users::username.eq("admin"))
            .select(users::password_hash)
            .first(&mut pool.get().unwrap())
            .unwrap()
    };
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "the default hashing: {hash}"
    );

    let second = Served::start_with(data_dir.path(), &database.url, &["serve", "--no-scheduler"]);
    let text = second.text();
    assert!(
        !text.contains(&password),
        "the password is never printed again: {text}"
    );
    assert!(!text.contains("first admin account created"), "{text}");
    assert!(text.contains("scheduler off (--no-scheduler)"), "{text}");
    assert!(first_text.contains("daily scan at 08:00"), "{first_text}");
    let base = second.base_url();
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/units"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let units = expect_json(res, 200).await;
    assert_eq!(units["total"], 1, "data and sessions survive the restart");
    expect_json(login(base, password).await, 200).await;
    second.stop();
}

async fn admin_create_makes_an_account_that_can_sign_in(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_unit(&admin, "T01", "城关镇").await;
    let child = Process::spawn(
        duban()
            .args([
                "admin",
                "create",
                "--username",
                "clerk",
                "--role",
                "unit",
                "--unit",
                "T01",
                "--display-name",
                "办事员",
                "--password-stdin",
            ])
            .env("DATABASE_URL", &app.database.url)
            .env("DUBAN_DATA_DIR", app.data_dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    );
    child
        .take_stdin()
        .write_all(b"clerk-password-123\n")
        .unwrap();
    let out = child.output();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("created unit account clerk"));
    let token = app.login("clerk", "clerk-password-123").await;
    let me = expect_json(app.get("/api/v1/me", &token).await, 200).await;
    assert_eq!(me["display_name"], "办事员");
    assert_eq!(me["role"], "unit");
}

async fn admin_create_refuses_a_unit_account_without_a_unit(app: TestApp) {
    let out = output(
        duban()
            .args(["admin", "create", "--username", "orphan", "--role", "unit"])
            .env("DATABASE_URL", &app.database.url)
            .env("DUBAN_DATA_DIR", app.data_dir.path()),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unit_id"), "{stderr}");
    crate::helpers::expect_problem(
        app.try_login("orphan", "whatever-123").await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn help_explains_each_command(_app: TestApp) {
    let out = output(duban().arg("--help"));
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "admin", "openapi"] {
        assert!(help.contains(command), "{command} in --help: {help}");
    }
    let out = output(duban().args(["admin", "create", "--help"]));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--username", "--role", "--unit", "--password-stdin"] {
        assert!(help.contains(flag), "{flag} in admin create --help");
    }
}

async fn an_unknown_database_url_scheme_is_refused_at_start(_app: TestApp) {
    for url in [
        "postgress://postgres@127.0.0.1:5432/duban",
        "mysql://root@127.0.0.1:3306/duban",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = output(
            duban()
                .args(["serve", "--no-scheduler"])
                .current_dir(dir.path())
                .env("DUBAN_LISTEN", "127.0.0.1:0")
                .env("DUBAN_DATA_DIR", dir.path().join("data"))
                .env("DATABASE_URL", url),
        );
        assert!(!out.status.success(), "{url} refused");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let scheme = url.split("://").next().unwrap();
        assert!(
            stderr.contains(&format!("unknown scheme `{scheme}://`")),
            "{url}: {stderr}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name())
            .collect();
        assert!(
            left.iter()
                .all(|name| name != "postgress:" && name != "mysql:"),
            "no SQLite file is made of {url}: {left:?}"
        );
    }
}

async fn log_lines_written_to_a_file_carry_no_colour_codes(app: TestApp) {
    let database = FreshDatabase::new(app.backend);
    let data_dir = tempfile::tempdir().unwrap();
    let (served, rx) = Served::start_logging(
        data_dir.path(),
        &database.url,
        &["serve", "--no-scheduler"],
        "info",
    );
    let res = reqwest::get(format!("{}/healthz", served.base_url()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let mut logged = served.lines.clone();
    // The request's log line, written to a pipe like a log file.
    while !logged.iter().any(|l| l.contains("/healthz")) {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the request is logged");
        logged.push(line);
    }
    let text = logged.join("\n");
    assert!(!text.contains('\u{1b}'), "no ANSI escapes: {text:?}");
    served.stop();
}

/// A one-shot command finishes with its own exit status, not a crash on the
/// way out: r2d2 once reopened a connection in the background while the
/// process exited, and about one `audit verify` in five died of SIGSEGV in
/// libpq's exit handlers on PostgreSQL. Forty runs make a regression of that
/// size fail with near certainty.
async fn one_shot_commands_exit_cleanly_every_time(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_unit(&admin, "T01", "城关镇").await;
    for run in 0..40 {
        let out = output(
            duban()
                .args(["audit", "verify"])
                .env("DATABASE_URL", &app.database.url)
                .env("DUBAN_DATA_DIR", app.data_dir.path()),
        );
        assert!(
            out.status.success(),
            "run {run}: {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("audit chain intact"));
    }
}

/// `duban bench-data` at a small size: the counts asked for, about a tenth
/// overdue, a second load refused, and the server serves it: a clerk reads
/// their unit's task and not another's, reports progress, and the office
/// creates a task (the id sequences moved past the explicit ids).
async fn bench_data_builds_a_city_the_server_serves(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::{task_cooperators, task_events, tasks, units, users};

    let database = FreshDatabase::new(app.backend);
    let data_dir = tempfile::tempdir().unwrap();
    let load = || {
        output(
            duban()
                .args([
                    "bench-data",
                    "--units",
                    "50",
                    "--users",
                    "80",
                    "--tasks",
                    "2000",
                ])
                .args([
                    "--database-url",
                    &database.url,
                    "--password",
                    "bench-password-2026",
                ])
                .env("DUBAN_DATA_DIR", data_dir.path()),
        )
    };
    let loaded = load();
    let stdout = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    assert!(
        stdout.contains("50 units, 80 accounts, 2000 tasks"),
        "{stdout}"
    );
    let pool = duban::db::connect(&database.url, 1).unwrap();
    let conn = &mut pool.get().unwrap();
    let count = |n: QueryResult<i64>| n.unwrap();
    assert_eq!(count(units::table.count().get_result(conn)), 50);
    assert_eq!(
        count(users::table.count().get_result(conn)),
        81,
        "80 and the admin"
    );
    assert_eq!(count(tasks::table.count().get_result(conn)), 2000);
    let events = count(task_events::table.count().get_result(conn));
    assert!(
        (8_000..=10_000).contains(&events),
        "about five per task: {events}"
    );
    let today = duban::domain::calendar::local_date(chrono::Utc::now(), chrono_tz::Asia::Shanghai);
    let overdue = count(
        tasks::table
            .filter(tasks::status.eq_any(["assigned", "in_progress"]))
            .filter(tasks::due_date.lt(today))
            .count()
            .get_result(conn),
    );
    assert!(
        (120..=300).contains(&overdue),
        "about a tenth overdue: {overdue}"
    );

    let again = load();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("the database already holds data"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let (clerk_unit, plan): (i64, i64) = users::table
        .inner_join(tasks::table.on(tasks::lead_unit_id.nullable().eq(users::unit_id)))
        .filter(users::username.eq("clerk-b00001"))
        .select((tasks::lead_unit_id, tasks::plan_id))
        .first(conn)
        .unwrap();
    let own: i64 = tasks::table
        .filter(tasks::lead_unit_id.eq(clerk_unit))
        .filter(tasks::status.eq("in_progress"))
        .select(tasks::id)
        .first(conn)
        .unwrap();
    let cooperating = task_cooperators::table
        .filter(task_cooperators::unit_id.eq(clerk_unit))
        .select(task_cooperators::task_id);
    let foreign: i64 = tasks::table
        .filter(tasks::lead_unit_id.ne(clerk_unit))
        .filter(tasks::id.ne_all(cooperating))
        .select(tasks::id)
        .first(conn)
        .unwrap();
    let other_unit: i64 = units::table
        .filter(units::code.eq("B00002"))
        .select(units::id)
        .first(conn)
        .unwrap();

    let served = Served::start_with(data_dir.path(), &database.url, &["serve", "--no-scheduler"]);
    let base = served.base_url();
    let client = reqwest::Client::new();
    let token = |username: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let res = client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({ "username": username, "password": "bench-password-2026" }))
                .send()
                .await
                .unwrap();
            expect_json(res, 200).await["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let clerk = token("clerk-b00001").await;
    let get = |path: String, token: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let task = expect_json(
        get(format!("/api/v1/tasks/{own}"), clerk.clone()).await,
        200,
    )
    .await;
    assert_eq!(task["lead_unit_id"], clerk_unit);
    assert!(task["code"].as_str().unwrap().starts_with("BT"), "{task}");
    assert_eq!(
        get(format!("/api/v1/tasks/{foreign}"), clerk.clone())
            .await
            .status(),
        404,
        "another unit's task stays hidden"
    );
    let list = expect_json(
        get(
            "/api/v1/tasks?status=in_progress&sort=due_date&per_page=20".into(),
            clerk.clone(),
        )
        .await,
        200,
    )
    .await;
    assert!(list["total"].as_i64().unwrap() > 0, "{list}");
    let report = client
        .post(format!("{base}/api/v1/tasks/{own}/reports"))
        .bearer_auth(&clerk)
        .json(&json!({ "percent": 60, "body": "基准测试进展" }))
        .send()
        .await
        .unwrap();
    expect_json(report, 201).await;

    let office = token("bench-office").await;
    let created = client
        .post(format!("{base}/api/v1/tasks"))
        .bearer_auth(&office)
        .json(
            &json!({ "plan_id": plan, "code": "NEW-1", "title": "新增任务",
                       "lead_unit_id": other_unit, "due_date": "2030-01-31" }),
        )
        .send()
        .await
        .unwrap();
    let created = expect_json(created, 201).await;
    assert!(created["id"].as_i64().unwrap() > 2000, "{created}");
    served.stop();
}

async fn templates_export_writes_the_defaults_to_edit(_app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let out = output(duban().args(["templates", "export"]).arg(dir.path()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("templates written to"), "{said}");
    // The office edits these: the bulletin, the assessment, each email's parts.
    let bulletin = std::fs::read_to_string(dir.path().join("documents/bulletin.html")).unwrap();
    assert!(bulletin.contains("doc.bulletin.masthead") && bulletin.contains("{% include"));
    let style = std::fs::read_to_string(dir.path().join("documents/_style.css")).unwrap();
    assert!(style.contains("size: A4"), "{style}");
    for name in [
        "documents/assessment.html",
        "mail/task.subject.txt",
        "mail/task.txt",
        "mail/task.html",
        "mail/digest.html",
        "mail/follow_digest.txt",
        "mail/bulletin.html",
    ] {
        assert!(dir.path().join(name).is_file(), "{name}");
    }
    // No Rust source leaks into what an office is given to edit.
    assert!(!dir.path().join("samples.rs").exists());
}

/// Starts `duban serve` on a data directory whose template override is
/// `broken`, and returns what it printed on stderr (it must fail).
fn start_with_override(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let path = data.join("templates").join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    let out = output(
        duban()
            .args(["serve", "--no-scheduler"])
            .current_dir(dir.path())
            .env("DUBAN_LISTEN", "127.0.0.1:0")
            .env("DUBAN_DATA_DIR", &data),
    );
    assert!(!out.status.success(), "serve refuses a broken {name}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn a_broken_template_override_stops_the_start_naming_its_file_and_line(_app: TestApp) {
    // A syntax error: the file and line, before anything is served.
    let stderr = start_with_override("mail/task.txt", "{{ code }}\n{{ title }}\n{% if late %}\n");
    assert!(
        stderr.contains("templates/mail/task.txt, line 3"),
        "{stderr}"
    );
    // A name the template is never given shows when start-up renders it
    // with sample data, not when the first notice goes out.
    let stderr = start_with_override(
        "documents/bulletin.html",
        "<h1>{{ title }}</h1>\n<p>{{ no_such_thing.name }}</p>\n",
    );
    assert!(
        stderr.contains("templates/documents/bulletin.html, line 2"),
        "{stderr}"
    );
    // A misspelt name is refused rather than silently ignored.
    let stderr = start_with_override("mail/tsak.txt", "{{ code }}");
    assert!(stderr.contains("no template mail/tsak.txt"), "{stderr}");
}
