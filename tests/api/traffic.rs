//! Rules stated once: the task list's `light` and `overdue` filters, which
//! are SQL (`tasks::service`), pick exactly the tasks to which
//! `domain::traffic` gives that light, and the views show that light. Tasks
//! are generated around today (status, due date, submission date, start
//! date, returned) and written straight into the database; proptest shrinks
//! a disagreement to a small batch.

use chrono::{Duration, NaiveDate};
use diesel::prelude::*;
use duban::db::schema::tasks;
use duban::db::DbConnection;
use duban::domain::task_state::TaskStatus;
use duban::domain::traffic::{self, TaskTiming, TrafficLight};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{json, Value};

use crate::helpers::{expect_json, TestApp};

crate::api_tests![list_filters_agree_with_the_traffic_rule];

/// A task relative to today: the dates are days from today.
#[derive(Debug, Clone)]
struct Generated {
    status: TaskStatus,
    due: Option<i64>,
    submitted: Option<i64>,
    start: Option<i64>,
    returned: bool,
}

fn generated() -> impl Strategy<Value = Generated> {
    (
        prop::sample::select(TaskStatus::ALL.to_vec()),
        prop::option::of(-10i64..10),
        prop::option::of(-12i64..3),
        prop::option::of(-40i64..10),
        any::<bool>(),
    )
        .prop_map(|(status, due, submitted, start, returned)| Generated {
            status,
            due,
            submitted,
            start,
            returned,
        })
}

/// Whether a task with this light (None: drafts and cancelled) belongs in a list.
type Picks = fn(Option<TrafficLight>) -> bool;

/// Each filter and the lights it should pick.
const FILTERS: [(&str, Picks); 5] = [
    ("light=red", |l| l == Some(TrafficLight::Red)),
    ("light=yellow", |l| l == Some(TrafficLight::Yellow)),
    ("light=green", |l| l == Some(TrafficLight::Green)),
    ("overdue=true", |l| l == Some(TrafficLight::Red)),
    ("overdue=false", |l| l != Some(TrafficLight::Red)),
];

struct Fixture {
    app: TestApp,
    token: String,
    plan: i64,
    unit: i64,
    pool: duban::db::DbPool,
}

async fn list_filters_agree_with_the_traffic_rule(app: TestApp) {
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "T01", "城关镇").await["id"]
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

/// Writes the batch as the only tasks, codes G0, G1, …; their lights by the rule.
fn insert(
    conn: &mut DbConnection,
    f: &Fixture,
    today: NaiveDate,
    batch: &[Generated],
) -> Vec<(String, Option<TrafficLight>)> {
    let day = |d: Option<i64>| d.map(|d| today + Duration::days(d));
    let now = chrono::Utc::now().naive_utc();
    diesel::delete(tasks::table).execute(conn).unwrap();
    let warn = f.app.settings.yellow_warning_days;
    let mut expected = Vec::new();
    for (i, g) in batch.iter().enumerate() {
        let code = format!("G{i}");
        diesel::insert_into(tasks::table)
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
                tasks::created_at.eq(now),
                tasks::updated_at.eq(now),
            ))
            .execute(conn)
            .unwrap();
        let timing = TaskTiming {
            status: g.status,
            due: day(g.due),
            submitted_on: day(g.submitted),
            returned: g.returned,
        };
        expected.push((code, traffic::light(&timing, today, warn)));
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
    let today = local_today(&f.app);
    let expected = {
        let mut conn = f.pool.get().unwrap();
        conn.transaction(|conn| Ok::<_, diesel::result::Error>(insert(conn, f, today, batch)))
            .unwrap()
    };
    let mut seen = Vec::new();
    for item in list(f, "sort=code").await {
        let light = item["light"].as_str().map(str::to_string);
        seen.push((item["code"].as_str().unwrap().to_string(), light));
    }
    seen.sort();
    let mut filtered = Vec::new();
    for (query, _) in FILTERS {
        filtered.push(codes(&list(f, query).await));
    }
    // The day turned while the lists were read: judged against two days.
    prop_assume!(local_today(&f.app) == today);
    let mut shown: Vec<(String, Option<String>)> = expected
        .iter()
        .map(|(code, l)| (code.clone(), l.map(|l| l.as_str().to_string())))
        .collect();
    shown.sort();
    prop_assert_eq!(seen, shown, "the views' lights are the rule's");
    for ((query, picks), listed) in FILTERS.iter().zip(filtered) {
        let mut wanted: Vec<String> = expected
            .iter()
            .filter(|(_, l)| picks(*l))
            .map(|(code, _)| code.clone())
            .collect();
        wanted.sort();
        prop_assert_eq!(listed, wanted, "{} lists what the rule says", query);
    }
    Ok(())
}
