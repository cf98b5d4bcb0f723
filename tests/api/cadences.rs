//! Quarterly and half-yearly reporting cycles: read from the import's
//! deadline cells, taken and returned by the API, followed by the
//! owed/missing list filters and the home card, and written back by the
//! ledger.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Value};

use crate::api_tests;
use crate::city;
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    each_cadence_phrase_imports_and_the_ledger_writes_it_back,
    the_api_takes_and_returns_the_cadence,
    a_quarterly_report_is_owed_in_the_quarters_last_month_only,
];

async fn import_csv(app: &TestApp, token: &str, plan: i64, csv: &str) -> reqwest::Response {
    app.post_file(
        &format!("/api/v1/plans/{plan}/import"),
        token,
        "t.csv",
        csv.as_bytes().to_vec(),
    )
    .await
}

async fn ledger_csv(app: &TestApp, token: &str, plan: i64) -> String {
    app.get(&format!("/api/v1/plans/{plan}/export?format=csv"), token)
        .await
        .text()
        .await
        .unwrap()
}

async fn each_cadence_phrase_imports_and_the_ledger_writes_it_back(app: TestApp) {
    let c = city::build(&app).await;
    let rows = [
        ("每月25日前", "monthly", 25),
        ("每季度末", "quarterly", 31),
        ("每季度最后一个月25日前", "quarterly", 25),
        ("每半年", "half_yearly", 31),
        ("每半年末", "half_yearly", 31),
    ];
    let mut csv = String::from("序号,任务,牵头单位,完成时限\n");
    for (i, (deadline, _, _)) in rows.iter().enumerate() {
        csv.push_str(&format!(
            "{},定期报送任务{},城关镇,{deadline}\n",
            i + 1,
            i + 1
        ));
    }
    let report = expect_json(import_csv(&app, &c.office, c.plan_id, &csv).await, 201).await;
    assert_eq!(report["created"], 5);
    for (i, (deadline, cadence, day)) in rows.iter().enumerate() {
        let t = &report["tasks"][i];
        assert_eq!(
            (t["report_cadence"].clone(), t["report_day"].clone()),
            (json!(cadence), json!(day)),
            "{deadline}"
        );
        assert_eq!(t["due_date"], Value::Null, "{deadline}");
        let task = expect_json(
            app.get(&format!("/api/v1/tasks/{}", t["id"]), &c.office)
                .await,
            200,
        )
        .await;
        assert_eq!(task["report_cadence"], *cadence, "{deadline}");
        assert_eq!(task["report_day"], *day, "{deadline}");
    }
    // A cadence the reader does not know is an error at its cell.
    let bad = "序号,任务,牵头单位,完成时限\n9,月报,城关镇,每季度25日\n";
    let p = expect_problem(
        import_csv(&app, &c.office, c.plan_id, bad).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["D2"]);

    // The ledger writes each deadline as the table wrote it; a task made
    // through the API, with no wording of its own, gets the reader's words.
    c.task(
        &app,
        "9",
        0,
        json!({ "due_date": null, "report_day": 25, "report_cadence": "quarterly" }),
    )
    .await;
    c.task(
        &app,
        "10",
        0,
        json!({ "due_date": null, "report_day": 31, "report_cadence": "half_yearly" }),
    )
    .await;
    let ledger = ledger_csv(&app, &c.office, c.plan_id).await;
    for (deadline, _, _) in rows {
        assert!(
            ledger.contains(&format!(",{deadline},")),
            "{deadline}: {ledger}"
        );
    }
    assert!(ledger.contains(",每季度最后一个月25日前,"), "{ledger}");
    let line = |code: &str| {
        ledger
            .lines()
            .find(|l| l.starts_with(&format!("{code},")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("9").contains(",每季度最后一个月25日前,"), "{ledger}");
    assert!(line("10").contains(",每半年末,"), "{ledger}");
}

async fn the_api_takes_and_returns_the_cadence(app: TestApp) {
    let c = city::build(&app).await;
    let monthly = c.task(&app, "1", 30, json!({ "report_day": 10 })).await;
    assert_eq!(monthly["report_cadence"], "monthly", "monthly by default");
    let quarterly = c
        .task(
            &app,
            "2",
            30,
            json!({ "report_day": 31, "report_cadence": "quarterly" }),
        )
        .await;
    assert_eq!(quarterly["report_cadence"], "quarterly");
    let id = quarterly["id"].as_i64().unwrap();
    let read = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(read["report_cadence"], "quarterly");
    assert_eq!(read["report_day"], 31);
    let changed = expect_json(
        app.patch(
            &format!("/api/v1/tasks/{id}"),
            &c.office,
            json!({ "version": read["version"], "report_cadence": "half_yearly" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["report_cadence"], "half_yearly");
    assert_eq!(changed["report_day"], 31);
    // An unknown cadence is refused, naming the field, on create and update.
    let p = expect_problem(
        app.post(
            "/api/v1/tasks",
            &c.office,
            json!({ "plan_id": c.plan_id, "code": "3", "title": "周报", "lead_unit_id": c.unit_a,
                    "report_day": 5, "report_cadence": "weekly" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["report_cadence"]);
    assert!(p.to_string().contains("报送周期"), "{p}");
    let p = expect_problem(
        app.patch(
            &format!("/api/v1/tasks/{id}"),
            &c.office,
            json!({ "version": changed["version"], "report_cadence": "yearly" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["report_cadence"]);
    // A clerk cannot change it.
    let res = app
        .patch(
            &format!("/api/v1/tasks/{id}"),
            &c.clerk_a,
            json!({ "version": changed["version"], "report_cadence": "monthly" }),
        )
        .await;
    assert!(
        res.status() == 403 || res.status() == 404,
        "{}",
        res.status()
    );
}

/// Moves a task's start back, as if it had been signed for long ago.
fn started_on(app: &TestApp, task: i64, at: chrono::NaiveDateTime) {
    use diesel::prelude::*;
    use duban::db::schema::tasks;
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::update(tasks::table.find(task))
        .set((tasks::assigned_at.eq(at), tasks::accepted_at.eq(at)))
        .execute(&mut conn)
        .unwrap();
}

/// Dates the task's progress reports back to `at`.
fn reported_on(app: &TestApp, task: i64, at: chrono::NaiveDateTime) {
    use diesel::prelude::*;
    use duban::db::schema::progress_reports;
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::update(progress_reports::table.filter(progress_reports::task_id.eq(task)))
        .set(progress_reports::created_at.eq(at))
        .execute(&mut conn)
        .unwrap();
}

/// The first day of the quarter `day` falls in.
fn quarter_start(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), (day.month() - 1) / 3 * 3 + 1, 1).unwrap()
}

/// The API's clock is the real one, so the months are today's: a quarterly
/// task that made its last quarter's report owes the next one only once the
/// quarter's last month has come (the scan's test, `notices.rs`, walks
/// through the months; `traffic.rs` checks the filters against the rule
/// for every cadence).
async fn a_quarterly_report_is_owed_in_the_quarters_last_month_only(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let today = duban::domain::calendar::local_date(chrono::Utc::now(), app.settings.timezone);
    let long_ago = chrono::Utc::now().naive_utc() - Duration::days(200);
    let quarterly = |code: &'static str| {
        let (c, app) = (&c, &app);
        async move {
            let task = c
                .task(
                    app,
                    code,
                    300,
                    json!({ "report_day": 31, "report_cadence": "quarterly" }),
                )
                .await;
            c.ok(app, &c.office, &task, "assign", None).await;
            let id = c.ok(app, &c.clerk_a, &task, "accept", None).await["id"]
                .as_i64()
                .unwrap();
            started_on(app, id, long_ago);
            id
        }
    };
    // Never reported since it started 200 days ago: a quarter has ended
    // since, so its report is missing whatever the month.
    let missing = quarterly("1").await;
    // Reported in the last quarter (ten days before this one began).
    let reported = quarterly("2").await;
    let r = app
        .post(
            &format!("/api/v1/tasks/{reported}/reports"),
            &c.clerk_a,
            json!({ "percent": 40, "body": "上季度进展" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let last_quarter = quarter_start(today) - Duration::days(10);
    reported_on(&app, reported, last_quarter.and_hms_opt(12, 0, 0).unwrap());
    let in_report_month = today.month().is_multiple_of(3);

    let ids = |list: &Value| -> Vec<i64> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_i64().unwrap())
            .collect()
    };
    let owed = expect_json(app.get("/api/v1/tasks?report=owed", &c.clerk_a).await, 200).await;
    let missing_list = expect_json(
        app.get("/api/v1/tasks?report=missing", &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(ids(&missing_list), [missing]);
    if in_report_month {
        assert_eq!(ids(&owed).len(), 2, "{owed}");
        assert!(ids(&owed).contains(&reported));
    } else {
        assert_eq!(ids(&owed), [missing], "not the quarter's last month");
    }
    let view = expect_json(
        app.get(&format!("/api/v1/tasks/{reported}"), &c.clerk_a)
            .await,
        200,
    )
    .await;
    assert_eq!(view["report_missing"], false);
    // The home card counts the same tasks.
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let home = clerk.get("/").await;
    let count = if in_report_month { 2 } else { 1 };
    assert!(
        home.body.contains(&format!(
            "<li class=\"card alarm\"><a href=\"&#x2f;tasks?report=owed\"><span class=\"count\">{count}</span><span class=\"label\">报告待报"
        )),
        "{}",
        home.body
    );
    let list = clerk.get("/tasks?report=owed").await;
    list.assert_has(&format!("共 {count} 项"));
}
