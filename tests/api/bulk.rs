//! Bulk assign and bulk cancel (`POST /api/v1/plans/{id}/assign|cancel`):
//! all or nothing, the task that stops it named, the units told as by a
//! single assign, the office alone, and parallel requests decided once.

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, City};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    office_bulk_assigns_drafts_and_the_units_get_their_notices,
    one_stale_version_rolls_back_the_whole_bulk_assign,
    bulk_cancel_needs_a_reason_and_names_the_task_that_cannot_be_cancelled,
    a_unit_clerk_cannot_bulk_assign,
    a_task_of_another_plan_is_refused,
    parallel_bulk_assigns_of_the_same_tasks_have_one_winner with many_connections,
];

fn many_connections(settings: &mut duban::config::Settings) {
    settings.db_pool_size = 16;
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn drafts(app: &TestApp, c: &City, codes: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for code in codes {
        out.push(c.task(app, code, 30, json!({})).await);
    }
    out
}

fn body(tasks: &[Value]) -> Value {
    let list: Vec<Value> = tasks
        .iter()
        .map(|t| json!({ "id": t["id"], "version": t["version"] }))
        .collect();
    json!({ "tasks": list })
}

async fn status_of(app: &TestApp, c: &City, task: &Value) -> (String, i64) {
    let now = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(task)), &c.office)
            .await,
        200,
    )
    .await;
    (
        now["status"].as_str().unwrap().to_string(),
        now["version"].as_i64().unwrap(),
    )
}

async fn assign_notices(app: &TestApp, c: &City, task: &Value) -> i64 {
    let list = expect_json(
        app.get(
            &format!("/api/v1/notices?task_id={}&step=assigned", id(task)),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    list["total"].as_i64().unwrap()
}

async fn office_bulk_assigns_drafts_and_the_units_get_their_notices(app: TestApp) {
    let c = city::build(&app).await;
    let tasks = drafts(&app, &c, &["1", "1.1", "1.2"]).await;
    let path = format!("/api/v1/plans/{}/assign", c.plan_id);
    let done = expect_json(app.post(&path, &c.office, body(&tasks)).await, 200).await;
    assert_eq!(done["changed"], 3);
    let codes: Vec<&str> = done["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1", "1.1", "1.2"], "in the order asked");
    for t in &tasks {
        assert_eq!(status_of(&app, &c, t).await, ("assigned".into(), 2));
        // 交办通知 to the lead and the cooperating unit, as a single assign.
        assert_eq!(assign_notices(&app, &c, t).await, 2);
    }
    // The clerk of the lead unit now sees them assigned.
    let mine = expect_json(
        app.get("/api/v1/tasks?status=assigned", &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(mine["total"], 3);
}

async fn one_stale_version_rolls_back_the_whole_bulk_assign(app: TestApp) {
    let c = city::build(&app).await;
    let tasks = drafts(&app, &c, &["1", "2", "3"]).await;
    // Someone edits task 2 after the office read the list.
    expect_json(
        app.patch(
            &format!("/api/v1/tasks/{}", id(&tasks[1])),
            &c.office,
            json!({ "version": 1, "title": "改过的标题" }),
        )
        .await,
        200,
    )
    .await;
    let path = format!("/api/v1/plans/{}/assign", c.plan_id);
    let problem = expect_problem(
        app.post(&path, &c.office, body(&tasks)).await,
        409,
        "version_conflict",
    )
    .await;
    assert_eq!(problem["index"], 1, "{problem}");
    assert_eq!(problem["task_id"], id(&tasks[1]));
    assert_eq!(problem["task_code"], "2");
    assert_eq!(problem["current_version"], 2);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("第 2 项（任务 2）") && detail.contains("全部未作更改"),
        "{detail}"
    );
    // Nothing changed: the first task (assigned before the stale one was
    // reached) is a draft again, and no unit was told anything.
    assert_eq!(status_of(&app, &c, &tasks[0]).await, ("draft".into(), 1));
    assert_eq!(status_of(&app, &c, &tasks[1]).await, ("draft".into(), 2));
    assert_eq!(status_of(&app, &c, &tasks[2]).await, ("draft".into(), 1));
    for t in &tasks {
        assert_eq!(assign_notices(&app, &c, t).await, 0);
    }
    // With the current versions the same request goes through.
    let fresh = vec![
        tasks[0].clone(),
        json!({ "id": id(&tasks[1]), "version": 2 }),
        tasks[2].clone(),
    ];
    let done = expect_json(app.post(&path, &c.office, body(&fresh)).await, 200).await;
    assert_eq!(done["changed"], 3);
}

async fn bulk_cancel_needs_a_reason_and_names_the_task_that_cannot_be_cancelled(app: TestApp) {
    let c = city::build(&app).await;
    let tasks = drafts(&app, &c, &["1", "2"]).await;
    let path = format!("/api/v1/plans/{}/cancel", c.plan_id);
    let problem = expect_problem(
        app.post(&path, &c.office, body(&tasks)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["note"]);
    // Task 2 is cancelled on its own first: cancelling it again is refused.
    c.ok(&app, &c.office, &tasks[1], "cancel", Some("重复任务"))
        .await;
    let stale_free = vec![
        tasks[0].clone(),
        json!({ "id": id(&tasks[1]), "version": 2 }),
    ];
    let mut req = body(&stale_free);
    req["note"] = json!("方案调整");
    let problem = expect_problem(
        app.post(&path, &c.office, req.clone()).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(problem["index"], 1);
    assert_eq!(problem["current_status"], "cancelled");
    assert_eq!(status_of(&app, &c, &tasks[0]).await, ("draft".into(), 1));
    // Without it, the cancel goes through with the reason on the timeline.
    req["tasks"] = json!([{ "id": id(&tasks[0]), "version": 1 }]);
    let done = expect_json(app.post(&path, &c.office, req).await, 200).await;
    assert_eq!(done["tasks"][0]["status"], "cancelled");
    let events = expect_json(
        app.get(
            &format!("/api/v1/tasks/{}/events", id(&tasks[0])),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["note"], "方案调整", "{last}");
}

async fn a_unit_clerk_cannot_bulk_assign(app: TestApp) {
    let c = city::build(&app).await;
    let tasks = drafts(&app, &c, &["1"]).await;
    for (action, token) in [
        ("assign", &c.clerk_a),
        ("cancel", &c.clerk_a),
        ("assign", &c.leader),
        ("assign", &c.viewer),
    ] {
        let mut req = body(&tasks);
        req["note"] = json!("理由");
        expect_problem(
            app.post(&format!("/api/v1/plans/{}/{action}", c.plan_id), token, req)
                .await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_eq!(status_of(&app, &c, &tasks[0]).await, ("draft".into(), 1));
}

async fn a_task_of_another_plan_is_refused(app: TestApp) {
    let c = city::build(&app).await;
    let other = expect_json(
        app.post(
            "/api/v1/plans",
            &c.office,
            json!({ "title": "另一方案", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    let mine = c.task(&app, "1", 30, json!({})).await;
    let theirs = c
        .task(&app, "1", 30, json!({ "plan_id": other["id"] }))
        .await;
    let path = format!("/api/v1/plans/{}/assign", c.plan_id);
    let problem = expect_problem(
        app.post(&path, &c.office, body(&[mine.clone(), theirs.clone()]))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["tasks[1].id"]);
    assert_eq!(status_of(&app, &c, &mine).await, ("draft".into(), 1));
    assert_eq!(status_of(&app, &c, &theirs).await, ("draft".into(), 1));
    // A task named twice, an empty list and a plan that does not exist.
    let twice = body(&[mine.clone(), mine.clone()]);
    let problem = expect_problem(
        app.post(&path, &c.office, twice).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["tasks[1].id"]);
    let problem = expect_problem(
        app.post(&path, &c.office, json!({ "tasks": [] })).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["tasks"]);
    expect_problem(
        app.post("/api/v1/plans/999999/assign", &c.office, body(&[mine]))
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn parallel_bulk_assigns_of_the_same_tasks_have_one_winner(app: TestApp) {
    let c = city::build(&app).await;
    let tasks = drafts(&app, &c, &["1", "2", "3", "4"]).await;
    let path = format!("/api/v1/plans/{}/assign", c.plan_id);
    // Twenty offices' clicks over the same tasks, in different orders.
    let shots = (0..20).map(|i| {
        let mut list = tasks.clone();
        list.rotate_left(i % 4);
        if i % 2 == 1 {
            list.reverse();
        }
        let req = body(&list);
        let (app, path, token) = (&app, &path, &c.office);
        async move {
            let res = app.post(path, token, req).await;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            (
                status,
                serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
            )
        }
    });
    let answers = join_all(shots).await;
    let winners = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(winners, 1, "exactly one winner: {answers:?}");
    for (status, problem) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "a loser gets 409: {problem}");
        assert!(problem["task_id"].is_i64(), "names the task: {problem}");
        let code = problem["code"].as_str().unwrap_or_default();
        assert!(
            ["version_conflict", "invalid_transition"].contains(&code),
            "{problem}"
        );
    }
    for t in &tasks {
        assert_eq!(status_of(&app, &c, t).await, ("assigned".into(), 2));
        assert_eq!(assign_notices(&app, &c, t).await, 2, "told once");
    }
}
