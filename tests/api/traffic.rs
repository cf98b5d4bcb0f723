//! Rules stated once: the task list's `light`, `overdue` and `report`
//! filters, which are SQL (`tasks::service`), pick exactly the tasks to
//! which `domain::traffic` gives that light or whose progress report it finds
//! owed or missing, and the views show the same. Tasks are generated around
//! today (status, due date, submission date, start date, returned, report
//! day and cadence, when they were assigned and signed for, the reports made on them,
//! some at the very edges of local days) and written straight into the
//! database; proptest shrinks a disagreement to a small batch.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use duban::db::schema::{progress_reports, tasks, users};
use duban::db::DbConnection;
use duban::domain::clock::Clock;
use duban::domain::report_cycle::{ReportCadence, ReportCycle};
use duban::domain::task_state::TaskStatus;
use duban::domain::traffic::{self, TaskTiming, TrafficLight};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{json, Value};

use crate::helpers::{expect_json, TestApp};

crate::api_tests![list_filters_agree_with_the_traffic_rule timeout 600];

/// An instant relative to today: a local day (days from today) and seconds
/// into it, often the very first or last second.
type Instant = (i64, i64);

/// A task relative to today: the dates are days from today.
#[derive(Debug, Clone)]
struct Generated {
    status: TaskStatus,
    due: Option<i64>,
    submitted: Option<i64>,
    start: Option<i64>,
    returned: bool,
    report_day: Option<i32>,
    report_cadence: ReportCadence,
    assigned: Option<Instant>,
    accepted: Option<Instant>,
    /// Progress reports: by the lead unit (true) or a cooperating one.
    reports: Vec<(bool, Instant)>,
}

fn instant() -> impl Strategy<Value = Instant> {
    let second = prop_oneof![Just(0i64), Just(86_399i64), 0i64..86_400,];
    (-70i64..3, second)
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        (
            prop::sample::select(TaskStatus::ALL.to_vec()),
            prop::option::of(-10i64..10),
            prop::option::of(-12i64..3),
            prop::option::of(-40i64..10),
            any::<bool>(),
        ),
        (
            prop::option::of(1i32..=31),
            prop::sample::select(ReportCadence::ALL.to_vec()),
            prop::option::of(instant()),
            prop::option::of(instant()),
            prop::collection::vec((any::<bool>(), instant()), 0..3),
        ),
    )
        .prop_map(
            |(
                (status, due, submitted, start, returned),
                (report_day, report_cadence, assigned, accepted, reports),
            )| Generated {
                status,
                due,
                submitted,
                start,
                returned,
                report_day,
                report_cadence,
                assigned,
                accepted,
                reports,
            },
        )
}

/// What the rules say of a generated task.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    light: Option<TrafficLight>,
    report_owed: bool,
    report_missing: bool,
}

/// Whether a task the rules judge so belongs in a list.
type Picks = fn(&Expected) -> bool;

/// Each filter and the tasks it should pick.
const FILTERS: [(&str, Picks); 7] = [
    ("light=red", |e| e.light == Some(TrafficLight::Red)),
    ("light=yellow", |e| e.light == Some(TrafficLight::Yellow)),
    ("light=green", |e| e.light == Some(TrafficLight::Green)),
    ("overdue=true", |e| e.light == Some(TrafficLight::Red)),
    ("overdue=false", |e| e.light != Some(TrafficLight::Red)),
    ("report=owed", |e| e.report_owed),
    ("report=missing", |e| e.report_missing),
];

struct Fixture {
    app: TestApp,
    token: String,
    plan: i64,
    unit: i64,
    /// Cooperates on no generated task: its reports never count.
    other_unit: i64,
    pool: duban::db::DbPool,
}

async fn list_filters_agree_with_the_traffic_rule(app: TestApp) {
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "T01", "城关镇").await["id"]
        .as_i64()
        .unwrap();
    let other_unit = app.create_unit(&token, "T02", "河西镇").await["id"]
        .as_i64()
        .unwrap();
    let plan = expect_json(
        app.post(
            "/api/v1/plans",
            &token,
            json!({ "title": "红黄绿灯", "year": 2026 }),
        )
        .await,
        201,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let f = Fixture {
        app,
        token,
        plan,
        unit,
        other_unit,
        pool,
    };
    // proptest runs the cases synchronously; each drives its requests on
    // the test's runtime from this blocking thread.
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut runner = TestRunner::new(Config {
            cases: 48,
            failure_persistence: None,
            ..Config::default()
        });
        let batches = prop::collection::vec(generated(), 1..40);
        let result = runner.run(&batches, |batch| handle.block_on(check(&f, &batch)));
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, batch)) => panic!("{why}\nminimal batch: {batch:#?}"),
            Err(e) => panic!("{e}"),
        }
    })
    .await
    .unwrap();
}

fn local_today(app: &TestApp) -> NaiveDate {
    duban::domain::calendar::local_date(chrono::Utc::now(), app.settings.timezone)
}

fn clock(app: &TestApp) -> Clock {
    Clock::at(chrono::Utc::now(), app.settings.timezone, 0, 0)
}

/// Writes the batch as the only tasks, codes G0, G1, …; what the rules say of them.
fn insert(
    conn: &mut DbConnection,
    f: &Fixture,
    clock: &Clock,
    batch: &[Generated],
) -> Vec<(String, Expected)> {
    let today = clock.today;
    let day = |d: Option<i64>| d.map(|d| today + Duration::days(d));
    let at = |(d, s): Instant| -> NaiveDateTime {
        clock.day_start(today + Duration::days(d)) + Duration::seconds(s)
    };
    let now = chrono::Utc::now().naive_utc();
    let author: i64 = users::table
        .select(users::id)
        .order(users::id.asc())
        .first(conn)
        .unwrap();
    diesel::delete(progress_reports::table)
        .execute(conn)
        .unwrap();
    diesel::delete(tasks::table).execute(conn).unwrap();
    let warn = f.app.settings.yellow_warning_days;
    let mut expected = Vec::new();
    for (i, g) in batch.iter().enumerate() {
        let code = format!("G{i}");
        let id: i64 = diesel::insert_into(tasks::table)
            .values((
                tasks::plan_id.eq(f.plan),
                tasks::code.eq(&code),
                tasks::title.eq(format!("生成的任务 {i}")),
                tasks::lead_unit_id.eq(f.unit),
                tasks::start_date.eq(day(g.start)),
                tasks::due_date.eq(day(g.due)),
                tasks::priority.eq("normal"),
                tasks::category.eq("key_task"),
                tasks::status.eq(g.status),
                tasks::returned.eq(g.returned),
                tasks::submitted_on.eq(day(g.submitted)),
                tasks::report_day.eq(g.report_day),
                tasks::report_cadence.eq(g.report_cadence),
                tasks::assigned_at.eq(g.assigned.map(at)),
                tasks::accepted_at.eq(g.accepted.map(at)),
                tasks::created_at.eq(now),
                tasks::updated_at.eq(now),
            ))
            .returning(tasks::id)
            .get_result(conn)
            .unwrap();
        for &(by_lead, when) in &g.reports {
            diesel::insert_into(progress_reports::table)
                .values((
                    progress_reports::task_id.eq(id),
                    progress_reports::unit_id.eq(if by_lead { f.unit } else { f.other_unit }),
                    progress_reports::author_id.eq(author),
                    progress_reports::percent.eq(10),
                    progress_reports::body.eq("进展"),
                    progress_reports::created_at.eq(at(when)),
                ))
                .execute(conn)
                .unwrap();
        }
        let timing = TaskTiming {
            status: g.status,
            due: day(g.due),
            submitted_on: day(g.submitted),
            returned: g.returned,
        };
        // Local dates of the stored instants, as the views read them.
        let started = g.accepted.or(g.assigned).map(|i| clock.local(at(i)));
        let last_report = g
            .reports
            .iter()
            .filter(|(by_lead, _)| *by_lead)
            .map(|&(_, i)| at(i))
            .max()
            .map(|i| clock.local(i));
        let cycle = g
            .report_day
            .and_then(|d| ReportCycle::new(g.report_cadence, d));
        let rule = |f: fn(_, _, _, _, _) -> bool| f(cycle, g.status, started, last_report, today);
        expected.push((
            code,
            Expected {
                light: traffic::light(&timing, today, warn),
                report_owed: rule(traffic::report_owed),
                report_missing: rule(traffic::report_missing),
            },
        ));
    }
    expected
}

async fn list(f: &Fixture, query: &str) -> Vec<Value> {
    let path = format!("/api/v1/tasks?{query}&per_page=200");
    let page = expect_json(f.app.get(&path, &f.token).await, 200).await;
    page["items"].as_array().unwrap().clone()
}

fn codes(items: &[Value]) -> Vec<String> {
    let mut codes: Vec<String> = items
        .iter()
        .map(|t| t["code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    codes
}

async fn check(f: &Fixture, batch: &[Generated]) -> Result<(), TestCaseError> {
    let clock = clock(&f.app);
    let expected = {
        let mut conn = f.pool.get().unwrap();
        conn.transaction(|conn| Ok::<_, diesel::result::Error>(insert(conn, f, &clock, batch)))
            .unwrap()
    };
    let mut seen = Vec::new();
    for item in list(f, "sort=code").await {
        let light = item["light"].as_str().map(str::to_string);
        let missing = item["report_missing"].as_bool().unwrap();
        seen.push((item["code"].as_str().unwrap().to_string(), light, missing));
    }
    seen.sort();
    let mut filtered = Vec::new();
    for (query, _) in FILTERS {
        filtered.push(codes(&list(f, query).await));
    }
    // The day turned while the lists were read: judged against two days.
    prop_assume!(local_today(&f.app) == clock.today);
    let mut shown: Vec<(String, Option<String>, bool)> = expected
        .iter()
        .map(|(code, e)| {
            let light = e.light.map(|l| l.as_str().to_string());
            (code.clone(), light, e.report_missing)
        })
        .collect();
    shown.sort();
    prop_assert_eq!(
        seen,
        shown,
        "the views' lights and missing reports are the rule's"
    );
    for ((query, picks), listed) in FILTERS.iter().zip(filtered) {
        let mut wanted: Vec<String> = expected
            .iter()
            .filter(|(_, e)| picks(e))
            .map(|(code, _)| code.clone())
            .collect();
        wanted.sort();
        prop_assert_eq!(listed, wanted, "{} lists what the rule says", query);
    }
    Ok(())
}
