//! Integration tests: each test starts the real server on port 0 with its own
//! fresh database and talks HTTP to it. Every test runs on SQLite and on
//! PostgreSQL; the PostgreSQL runs are skipped (and say so) when no server is
//! reachable, unless DUBAN_TEST_REQUIRE_POSTGRES=1, which makes that a failure.
//! The few tests that compare the backends (`once_tests!`) run once, named
//! `both::…`, and are skipped with the PostgreSQL runs.
//!
//! Each test has a time limit (`helpers::DEFAULT_TIMEOUT` unless it names its
//! own), its child processes die with it, `TEST_LOG=1` shows the app's
//! tracing and `TEST_TIMES=1` each test's duration (see `helpers`).

mod helpers;

mod auth;
mod browser;
mod browser_office;
mod bulk;
mod bulletin_files;
mod bulletins;
mod cadences;
mod city;
mod cli;
mod console;
mod console_admin;
mod console_bulletins;
mod console_charts;
mod console_home;
mod console_house;
mod console_import;
mod console_plans;
mod console_queues;
mod console_task_fields;
mod console_units;
mod contract;
mod docs;
mod errors;
mod evidence;
mod faults;
mod follows;
mod import;
mod indicators;
mod instruction_notices;
mod instructions;
mod leaders;
mod ledger;
mod migrations;
mod notices;
mod orders;
mod races;
mod rankings;
mod security;
mod smtp;
mod sql_types;
mod tasks;
mod traffic;
mod units;
mod user_phones;
mod users;
mod webhook;

use helpers::{postgres_admin_url, Backend};
use libtest_mimic::{Arguments, Trial};

fn main() -> std::process::ExitCode {
    let args = Arguments::from_args();
    helpers::init_test_log();
    let tests: Vec<helpers::ApiTest> = [
        auth::tests(),
        bulk::tests(),
        bulletin_files::tests(),
        bulletins::tests(),
        cadences::tests(),
        cli::tests(),
        console::tests(),
        console_admin::tests(),
        console_house::tests(),
        console_home::tests(),
        console_queues::tests(),
        console_units::tests(),
        console_task_fields::tests(),
        instruction_notices::tests(),
        user_phones::tests(),
        follows::tests(),
        console_import::tests(),
        console_plans::tests(),
        console_charts::tests(),
        console_bulletins::tests(),
        contract::tests(),
        docs::tests(),
        errors::tests(),
        evidence::tests(),
        faults::tests(),
        import::tests(),
        leaders::tests(),
        ledger::tests(),
        indicators::tests(),
        instructions::tests(),
        orders::tests(),
        migrations::tests(),
        notices::tests(),
        races::tests(),
        rankings::tests(),
        security::tests(),
        sql_types::tests(),
        tasks::tests(),
        traffic::tests(),
        units::tests(),
        users::tests(),
    ]
    .into_iter()
    .flatten()
    .collect();

    let once_tests: Vec<helpers::OnceTest> =
        [migrations::once_tests()].into_iter().flatten().collect();

    let pg_url = postgres_admin_url();
    let pg_error = helpers::check_postgres(&pg_url).err();
    let require_pg = std::env::var("DUBAN_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if let Some(err) = &pg_error {
        if require_pg {
            eprintln!("PostgreSQL is required (DUBAN_TEST_REQUIRE_POSTGRES=1) but {pg_url} is not reachable: {err}");
            return std::process::ExitCode::FAILURE;
        }
        eprintln!(
            "note: PostgreSQL not reachable at {pg_url} ({err}); the {} PostgreSQL tests \
             and the {} tests that compare both backends are skipped. \
             Set DUBAN_TEST_POSTGRES_URL to point at a server.",
            tests.len(),
            once_tests.len()
        );
    }

    let browser_tests: Vec<helpers::ApiTest> = [browser::tests(), browser_office::tests()]
        .into_iter()
        .flatten()
        .collect();
    let browser_missing = browser::missing();
    let require_browser = std::env::var("DUBAN_TEST_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    if let Some(why) = &browser_missing {
        if require_browser {
            eprintln!("A browser is required (DUBAN_TEST_REQUIRE_BROWSER=1) but {why}");
            return std::process::ExitCode::FAILURE;
        }
        eprintln!(
            "note: {why}; the {} browser tests are skipped.",
            browser_tests.len() * 2
        );
    }

    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let browser = browser_tests.iter().map(|t| (t, true));
        for (test, needs_browser) in tests.iter().map(|t| (t, false)).chain(browser) {
            let (run, settings) = (test.run, test.settings);
            let limit = helpers::time_limit(test.timeout);
            let skip = (backend == Backend::Postgres && pg_error.is_some())
                || (needs_browser && browser_missing.is_some());
            let name = format!("{}::{}", backend.name(), test.name);
            let trial = Trial::test(name.clone(), move || {
                helpers::run_with_limit(&name, limit, move || {
                    helpers::run_test(backend, run, settings)
                })
            })
            .with_ignored_flag(skip);
            trials.push(trial);
        }
    }
    for test in &once_tests {
        let run = test.run;
        let limit = helpers::time_limit(test.timeout);
        let name = format!("both::{}", test.name);
        let trial = Trial::test(name.clone(), move || {
            helpers::run_with_limit(&name, limit, move || helpers::run_once(run))
        })
        .with_ignored_flag(pg_error.is_some());
        trials.push(trial);
    }
    let conclusion = libtest_mimic::run(&args, trials);
    helpers::processes::kill_all();
    conclusion.exit_code()
}
