//! The responsibility chain over HTTP: plans, tasks, the life cycle, reports,
//! evidence, extensions, lists, visibility and concurrent edits.

use reqwest::Method;
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, local_day, upload};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    the_whole_chain_from_plan_to_verification,
    the_detail_shows_each_unit_s_latest_report,
    wrong_transitions_are_conflicts_naming_the_current_state,
    only_the_right_role_and_unit_may_act,
    a_foreign_unit_gets_404_on_every_task_route,
    leaders_see_the_tasks_they_answer_for,
    a_stale_version_is_refused_and_changes_nothing,
    extensions_move_the_due_date_and_keep_the_original,
    an_overdue_task_cannot_be_extended_by_the_unit_but_by_the_office,
    working_day_deadlines_skip_holidays,
    lists_filter_by_unit_status_lateness_and_light,
    sub_tasks_roll_up_to_their_parent,
    the_roll_up_reads_only_the_task_s_own_subtree,
    missing_reports_and_unsigned_tasks_are_flagged,
    task_input_is_validated_field_by_field,
    the_overview_counts_by_status_light_and_unit,
];

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn the_whole_chain_from_plan_to_verification(app: TestApp) {
    let c = city::build(&app).await;
    let task = c
        .task(
            &app,
            "2.5.3",
            30,
            json!({ "evidence_required": true, "priority": "high" }),
        )
        .await;
    assert_eq!(task["status"], "draft");
    assert_eq!(task["light"], Value::Null);
    let t = id(&task);

    let assigned = c.ok(&app, &c.office, &task, "assign", None).await;
    assert_eq!(assigned["status"], "assigned");
    assert!(assigned["assigned_at"].is_string());
    let accepted = c.ok(&app, &c.clerk_a, &task, "accept", None).await;
    assert_eq!(accepted["status"], "in_progress");
    assert!(
        accepted["accepted_at"].is_string(),
        "the sign-for time is recorded"
    );

    // The cooperating unit reports its part; the lead unit reports the whole.
    let r = app
        .post(
            &format!("/api/v1/tasks/{t}/reports"),
            &c.clerk_b,
            json!({ "percent": 50, "body": "监测点位已布设" }),
        )
        .await;
    assert_eq!(expect_json(r, 201).await["role"], "cooperating");
    let r = app
        .post(
            &format!("/api/v1/tasks/{t}/reports"),
            &c.clerk_a,
            json!({ "percent": 60, "body": "整体推进过半" }),
        )
        .await;
    assert_eq!(expect_json(r, 201).await["role"], "lead");
    let detail = expect_json(
        app.get(&format!("/api/v1/tasks/{t}"), &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(detail["progress"], 60);
    let inputs = detail["unit_inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2);
    assert_eq!(
        (inputs[0]["role"].as_str(), inputs[0]["percent"].as_i64()),
        (Some("lead"), Some(60))
    );
    assert_eq!(
        (inputs[1]["role"].as_str(), inputs[1]["percent"].as_i64()),
        (Some("cooperating"), Some(50))
    );
    assert_eq!(inputs[1]["body"], "监测点位已布设");

    // Evidence is required before submitting.
    let problem = expect_problem(
        c.act(&app, &c.clerk_a, &task, "submit", Some("已完成"))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["evidence"]);
    let problem = expect_problem(
        c.act(&app, &c.clerk_a, &task, "submit", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["note"]);
    let pdf = b"%PDF-1.4 evidence".to_vec();
    let att = expect_json(
        upload(
            &app,
            &c.clerk_a,
            t,
            "验收报告.pdf",
            "application/pdf",
            pdf.clone(),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(att["size"], pdf.len());
    let submitted = c
        .ok(
            &app,
            &c.clerk_a,
            &task,
            "submit",
            Some("已完成整治并通过验收"),
        )
        .await;
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["completion_note"], "已完成整治并通过验收");

    // The office returns it; the unit resubmits; the office verifies.
    expect_problem(
        c.act(&app, &c.office, &task, "return", None).await,
        422,
        "validation_failed",
    )
    .await;
    let returned = c
        .ok(
            &app,
            &c.office,
            &task,
            "return",
            Some("佐证材料不全，请补充现场照片"),
        )
        .await;
    assert_eq!(returned["status"], "in_progress");
    assert_eq!(returned["returned"], true);
    assert_eq!(returned["light"], "yellow");
    let resubmitted = c
        .ok(&app, &c.clerk_a, &task, "submit", Some("已补充照片"))
        .await;
    assert_eq!(resubmitted["returned"], false);
    let done = c.ok(&app, &c.office, &task, "verify", None).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["light"], "green");
    assert_eq!(done["progress"], 100);
    assert_eq!(done["days_overdue"], 0);

    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/events"), &c.clerk_b)
            .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "assigned",
            // 交办通知 to the lead and the cooperating unit, in the same step.
            "assign_notice",
            "assign_notice",
            "accepted",
            "reported",
            "reported",
            "attachment_added",
            "submitted",
            "returned",
            "return_notice",
            "submitted",
            "verified"
        ]
    );
    let returned_event = &events[9];
    assert_eq!(returned_event["note"], "佐证材料不全，请补充现场照片");
    assert_eq!(returned_event["actor_name"], "office");

    // Evidence downloads intact for a unit that takes part.
    let res = app
        .get(
            &format!("/api/v1/tasks/{t}/attachments/{}", id(&att)),
            &c.clerk_b,
        )
        .await;
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
}

/// The detail's side-by-side inputs: each unit's latest report on this task,
/// a unit that has not reported with none, and no other task's reports.
async fn the_detail_shows_each_unit_s_latest_report(app: TestApp) {
    let c = city::build(&app).await;
    let coops = json!({ "cooperating_unit_ids": [c.unit_b, c.unit_c] });
    let task = c.task(&app, "3.1.1", 30, coops.clone()).await;
    let other = c.task(&app, "3.1.2", 30, coops).await;
    for t in [&task, &other] {
        c.ok(&app, &c.office, t, "assign", None).await;
        c.ok(&app, &c.clerk_a, t, "accept", None).await;
    }
    let report = |t: i64, token: String, percent: i64, body: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    &format!("/api/v1/tasks/{t}/reports"),
                    &token,
                    json!({ "percent": percent, "body": body }),
                )
                .await;
            expect_json(r, 201).await;
        }
    };
    let (t, o) = (id(&task), id(&other));
    report(t, c.clerk_a.clone(), 20, "第一次汇报").await;
    report(t, c.clerk_b.clone(), 30, "配合单位汇报").await;
    report(t, c.clerk_a.clone(), 70, "第二次汇报").await;
    report(o, c.clerk_a.clone(), 99, "另一项任务").await;
    report(o, c.clerk_b.clone(), 98, "另一项任务").await;

    let detail = expect_json(
        app.get(&format!("/api/v1/tasks/{t}"), &c.clerk_a).await,
        200,
    )
    .await;
    let inputs: Vec<(i64, &str, Option<i64>, Option<&str>)> = detail["unit_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["unit_id"].as_i64().unwrap(),
                i["role"].as_str().unwrap(),
                i["percent"].as_i64(),
                i["body"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        inputs,
        [
            (c.unit_a, "lead", Some(70), Some("第二次汇报")),
            (c.unit_b, "cooperating", Some(30), Some("配合单位汇报")),
            (c.unit_c, "cooperating", None, None),
        ]
    );
    assert!(detail["unit_inputs"][2]["reported_at"].is_null());
    assert!(detail["unit_inputs"][0]["reported_at"].is_string());
}

async fn wrong_transitions_are_conflicts_naming_the_current_state(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.task(&app, "1", 10, json!({})).await;
    let p = expect_problem(
        c.act(&app, &c.office, &task, "verify", None).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "draft");
    c.ok(&app, &c.office, &task, "assign", None).await;
    let p = expect_problem(
        c.act(&app, &c.clerk_a, &task, "submit", Some("x")).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "assigned");
    expect_problem(
        c.act(&app, &c.office, &task, "assign", None).await,
        409,
        "invalid_transition",
    )
    .await;
    expect_problem(
        c.act(&app, &c.office, &task, "reopen", Some("x")).await,
        409,
        "invalid_transition",
    )
    .await;
    c.ok(&app, &c.office, &task, "cancel", Some("任务调整"))
        .await;
    let p = expect_problem(
        c.act(&app, &c.clerk_a, &task, "accept", None).await,
        409,
        "invalid_transition",
    )
    .await;
    assert_eq!(p["current_status"], "cancelled");
    expect_problem(
        c.act(&app, &c.office, &task, "cancel", Some("again")).await,
        409,
        "invalid_transition",
    )
    .await;
    // A cancelled task takes no reports.
    let r = app
        .post(
            &format!("/api/v1/tasks/{}/reports", id(&task)),
            &c.clerk_a,
            json!({ "percent": 5, "body": "x" }),
        )
        .await;
    expect_problem(r, 409, "task_not_open").await;
}

async fn only_the_right_role_and_unit_may_act(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.task(&app, "1", 10, json!({})).await;
    // Units and viewers cannot create, change or assign.
    for token in [&c.clerk_a, &c.viewer, &c.leader] {
        let r = app.post("/api/v1/tasks", token, json!({ "plan_id": c.plan_id, "code": "x", "title": "x", "lead_unit_id": c.unit_a })).await;
        expect_problem(r, 403, "forbidden").await;
        expect_problem(
            c.act(&app, token, &task, "assign", None).await,
            403,
            "forbidden",
        )
        .await;
        let r = app
            .patch(
                &format!("/api/v1/tasks/{}", id(&task)),
                token,
                json!({ "version": 1, "title": "改" }),
            )
            .await;
        expect_problem(r, 403, "forbidden").await;
        let r = app
            .post(
                "/api/v1/plans",
                token,
                json!({ "title": "x", "year": 2026 }),
            )
            .await;
        expect_problem(r, 403, "forbidden").await;
    }
    c.ok(&app, &c.office, &task, "assign", None).await;
    // The cooperating unit sees the task but may not sign for or submit it.
    expect_problem(
        c.act(&app, &c.clerk_b, &task, "accept", None).await,
        403,
        "forbidden",
    )
    .await;
    // The office does not sign for a unit.
    expect_problem(
        c.act(&app, &c.office, &task, "accept", None).await,
        403,
        "forbidden",
    )
    .await;
    c.ok(&app, &c.clerk_a, &task, "accept", None).await;
    expect_problem(
        c.act(&app, &c.clerk_b, &task, "submit", Some("x")).await,
        403,
        "forbidden",
    )
    .await;
    c.ok(&app, &c.clerk_a, &task, "submit", Some("done")).await;
    // A unit cannot verify its own work.
    expect_problem(
        c.act(&app, &c.clerk_a, &task, "verify", None).await,
        403,
        "forbidden",
    )
    .await;
    let after = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&task)), &c.viewer)
            .await,
        200,
    )
    .await;
    assert_eq!(after["status"], "submitted");
}

async fn a_foreign_unit_gets_404_on_every_task_route(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 10).await;
    let t = id(&task);
    let att = expect_json(
        upload(
            &app,
            &c.clerk_a,
            t,
            "a.txt",
            "text/plain",
            b"hello".to_vec(),
        )
        .await,
        201,
    )
    .await;
    let ext = expect_json(
        app.post(
            &format!("/api/v1/tasks/{t}/extensions"),
            &c.clerk_a,
            json!({ "new_due_date": local_day(20), "reason": "汛期施工受限" }),
        )
        .await,
        201,
    )
    .await;
    let routes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/tasks/{t}"), None),
        (
            Method::PATCH,
            format!("/api/v1/tasks/{t}"),
            Some(json!({ "version": 3, "title": "x" })),
        ),
        (Method::GET, format!("/api/v1/tasks/{t}/events"), None),
        (Method::GET, format!("/api/v1/tasks/{t}/reports"), None),
        (
            Method::POST,
            format!("/api/v1/tasks/{t}/reports"),
            Some(json!({ "percent": 1, "body": "x" })),
        ),
        (Method::GET, format!("/api/v1/tasks/{t}/attachments"), None),
        (
            Method::GET,
            format!("/api/v1/tasks/{t}/attachments/{}", id(&att)),
            None,
        ),
        (Method::GET, format!("/api/v1/tasks/{t}/extensions"), None),
        (
            Method::POST,
            format!("/api/v1/tasks/{t}/extensions"),
            Some(json!({ "new_due_date": local_day(30), "reason": "x" })),
        ),
        (
            Method::POST,
            format!("/api/v1/tasks/{t}/submit"),
            Some(json!({ "version": 3, "note": "x" })),
        ),
        (
            Method::POST,
            format!("/api/v1/tasks/{t}/accept"),
            Some(json!({ "version": 3 })),
        ),
    ];
    for (method, path, body) in routes {
        let res = app
            .request(method.clone(), &path, Some(&c.clerk_c), body)
            .await;
        let status = res.status().as_u16();
        // PATCH is forbidden to every unit clerk before anything else is looked at.
        let expected = if method == Method::PATCH { 403 } else { 404 };
        assert_eq!(status, expected, "{method} {path}");
    }
    let up = upload(&app, &c.clerk_c, t, "b.txt", "text/plain", b"x".to_vec()).await;
    assert_eq!(up.status(), 404);
    // The extension is the office's to decide; the foreign clerk is refused.
    let r = app
        .post(
            &format!("/api/v1/extensions/{}/approve", id(&ext)),
            &c.clerk_c,
            json!({}),
        )
        .await;
    expect_problem(r, 403, "forbidden").await;
    let list = expect_json(app.get("/api/v1/tasks", &c.clerk_c).await, 200).await;
    assert_eq!(list["total"], 0);
    // Nothing the foreign clerk sent was written.
    let reports = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/reports"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(reports.as_array().unwrap().len(), 0);
    let files = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/attachments"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(files.as_array().unwrap().len(), 1);
}

async fn leaders_see_the_tasks_they_answer_for(app: TestApp) {
    let c = city::build(&app).await;
    let mine = c.task(&app, "1", 10, json!({})).await;
    let other = c
        .task(&app, "2", 10, json!({ "responsible_leader_id": null }))
        .await;
    let list = expect_json(app.get("/api/v1/tasks", &c.leader).await, 200).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], mine["id"]);
    expect_problem(
        app.get(&format!("/api/v1/tasks/{}", id(&other)), &c.leader)
            .await,
        404,
        "not_found",
    )
    .await;
    let all = expect_json(app.get("/api/v1/tasks", &c.viewer).await, 200).await;
    assert_eq!(all["total"], 2);
}

async fn a_stale_version_is_refused_and_changes_nothing(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.task(&app, "1", 10, json!({})).await;
    let path = format!("/api/v1/tasks/{}", id(&task));
    expect_json(
        app.patch(
            &path,
            &c.office,
            json!({ "version": 1, "title": "第一次修改" }),
        )
        .await,
        200,
    )
    .await;
    let p = expect_problem(
        app.patch(
            &path,
            &c.office,
            json!({ "version": 1, "title": "第二次修改" }),
        )
        .await,
        409,
        "version_conflict",
    )
    .await;
    assert_eq!(p["current_version"], 2);
    let r = app
        .post(
            &format!("{path}/assign"),
            &c.office,
            json!({ "version": 1 }),
        )
        .await;
    expect_problem(r, 409, "version_conflict").await;
    let now = expect_json(app.get(&path, &c.office).await, 200).await;
    assert_eq!(
        (now["title"].as_str(), now["status"].as_str()),
        (Some("第一次修改"), Some("draft"))
    );
}

async fn extensions_move_the_due_date_and_keep_the_original(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 5).await;
    let t = id(&task);
    let original = task["due_date"].clone();
    let path = format!("/api/v1/tasks/{t}/extensions");
    let problem = expect_problem(
        app.post(
            &path,
            &c.clerk_a,
            json!({ "new_due_date": local_day(3), "reason": "早一点" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["new_due_date"]);
    expect_problem(
        app.post(
            &path,
            &c.clerk_b,
            json!({ "new_due_date": local_day(20), "reason": "x" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    let ext = expect_json(
        app.post(
            &path,
            &c.clerk_a,
            json!({ "new_due_date": local_day(20), "reason": "汛期施工受限" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(ext["status"], "pending");
    expect_problem(
        app.post(
            &path,
            &c.clerk_a,
            json!({ "new_due_date": local_day(25), "reason": "再延" }),
        )
        .await,
        409,
        "extension_pending",
    )
    .await;
    let detail = expect_json(app.get(&format!("/api/v1/tasks/{t}"), &c.office).await, 200).await;
    assert_eq!(detail["pending_extension_id"], ext["id"]);

    let approve = format!("/api/v1/extensions/{}/approve", id(&ext));
    expect_problem(
        app.post(&approve, &c.clerk_a, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let decided = expect_json(
        app.post(&approve, &c.office, json!({ "note": "同意" }))
            .await,
        200,
    )
    .await;
    assert_eq!(decided["status"], "approved");
    expect_problem(
        app.post(&approve, &c.office, json!({})).await,
        409,
        "extension_decided",
    )
    .await;
    let after = expect_json(
        app.get(&format!("/api/v1/tasks/{t}"), &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(after["due_date"], local_day(20));
    assert_eq!(after["original_due_date"], original);

    // A second request, rejected: the reason is required and the date stays.
    let ext2 = expect_json(
        app.post(
            &path,
            &c.clerk_a,
            json!({ "new_due_date": local_day(40), "reason": "再延期" }),
        )
        .await,
        201,
    )
    .await;
    let reject = format!("/api/v1/extensions/{}/reject", id(&ext2));
    expect_problem(
        app.post(&reject, &c.office, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    expect_json(
        app.post(&reject, &c.office, json!({ "note": "理由不充分" }))
            .await,
        200,
    )
    .await;
    let after = expect_json(
        app.get(&format!("/api/v1/tasks/{t}"), &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(after["due_date"], local_day(20));
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/events"), &c.office)
            .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.ends_with(&[
        "extension_requested",
        "extension_approved",
        "extension_requested",
        "extension_rejected"
    ]));
}

async fn an_overdue_task_cannot_be_extended_by_the_unit_but_by_the_office(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", -2).await;
    assert_eq!(task["light"], "red");
    assert_eq!(task["days_overdue"], 2);
    let t = id(&task);
    let p = expect_problem(
        app.post(
            &format!("/api/v1/tasks/{t}/extensions"),
            &c.clerk_a,
            json!({ "new_due_date": local_day(10), "reason": "来不及" }),
        )
        .await,
        409,
        "extension_too_late",
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("创建办"));
    // The office may move the date, with a reason that goes on the timeline.
    let path = format!("/api/v1/tasks/{t}");
    let version = task["version"].as_i64().unwrap();
    let p = expect_problem(
        app.patch(
            &path,
            &c.office,
            json!({ "version": version, "due_date": local_day(10) }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["due_date_reason"]);
    let moved = expect_json(
        app.patch(&path, &c.office, json!({ "version": version, "due_date": local_day(10), "due_date_reason": "市领导小组同意调整" })).await,
        200,
    )
    .await;
    assert_eq!(moved["due_date"], local_day(10));
    assert_eq!(moved["original_due_date"], local_day(-2));
    assert_eq!(moved["light"], "green");
    let events = expect_json(app.get(&format!("{path}/events"), &c.office).await, 200).await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "due_date_changed");
    assert_eq!(last["note"], "市领导小组同意调整");
}

async fn working_day_deadlines_skip_holidays(app: TestApp) {
    let c = city::build(&app).await;
    // The next three days are declared holidays.
    let csv = format!(
        "date,kind,name\n{},holiday,测试假日\n{},休,测试假日\n{},holiday,测试假日\n",
        local_day(1),
        local_day(2),
        local_day(3)
    );
    let res = app
        .client
        .post(app.url("/api/v1/holidays/import"))
        .bearer_auth(&c.admin)
        .body(csv.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 200).await["imported"], 3);
    let res = app
        .client
        .post(app.url("/api/v1/holidays/import"))
        .bearer_auth(&c.office)
        .body(csv)
        .send()
        .await
        .unwrap();
    expect_problem(res, 403, "forbidden").await;
    let bad = app
        .client
        .post(app.url("/api/v1/holidays/import"))
        .bearer_auth(&c.admin)
        .body("2026-02-30,holiday,x\nnot a line")
        .send()
        .await
        .unwrap();
    let p = expect_problem(bad, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["line 1", "line 2"]);

    let task = c
        .task(
            &app,
            "1",
            0,
            json!({ "due_date": null, "due_in_working_days": 1 }),
        )
        .await;
    assert_eq!(task["due_date"], Value::Null);
    let assigned = c.ok(&app, &c.office, &task, "assign", None).await;
    // The first weekday after the holidays.
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let mut day = chrono::Utc::now().with_timezone(&tz).date_naive() + chrono::Duration::days(4);
    while matches!(
        chrono::Datelike::weekday(&day),
        chrono::Weekday::Sat | chrono::Weekday::Sun
    ) {
        day += chrono::Duration::days(1);
    }
    assert_eq!(assigned["due_date"], day.format("%Y-%m-%d").to_string());
    assert_eq!(assigned["due_in_working_days"], 1);
}

async fn lists_filter_by_unit_status_lateness_and_light(app: TestApp) {
    let c = city::build(&app).await;
    let late = c.in_progress(&app, "3", -3).await;
    let soon = c.in_progress(&app, "1", 1).await;
    let later = c.in_progress(&app, "2", 30).await;
    let draft = c
        .task(&app, "4", 30, json!({ "title": "农村厕所改造" }))
        .await;
    let other = c
        .task(
            &app,
            "5",
            30,
            json!({ "lead_unit_id": c.unit_c, "cooperating_unit_ids": [] }),
        )
        .await;
    let ids = |v: &Value| -> Vec<i64> { v["items"].as_array().unwrap().iter().map(id).collect() };

    let all = expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await;
    assert_eq!(all["total"], 5);
    // Default order: by due date.
    assert_eq!(ids(&all)[..3], [id(&late), id(&soon), id(&later)]);
    let red = expect_json(app.get("/api/v1/tasks?overdue=true", &c.office).await, 200).await;
    assert_eq!(ids(&red), [id(&late)]);
    assert_eq!(red["items"][0]["days_overdue"], 3);
    let yellow = expect_json(app.get("/api/v1/tasks?light=yellow", &c.office).await, 200).await;
    assert_eq!(ids(&yellow), [id(&soon)]);
    let green = expect_json(app.get("/api/v1/tasks?light=green", &c.office).await, 200).await;
    assert_eq!(ids(&green), [id(&later)]);
    let drafts = expect_json(
        app.get("/api/v1/tasks?status=draft&sort=-code", &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&drafts), [id(&other), id(&draft)]);
    let by_unit = expect_json(
        app.get(&format!("/api/v1/tasks?unit_id={}", c.unit_c), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&by_unit), [id(&other)]);
    let coop = expect_json(
        app.get(
            &format!("/api/v1/tasks?unit_id={}&sort=code", c.unit_b),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(coop["total"], 4, "cooperating tasks count for the unit");
    let text = expect_json(
        app.get("/api/v1/tasks?q=%E5%8E%95%E6%89%80", &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&text), [id(&draft)]);
    let window = expect_json(
        app.get(
            &format!(
                "/api/v1/tasks?due_after={}&due_before={}",
                local_day(0),
                local_day(2)
            ),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ids(&window), [id(&soon)]);
    let paged = expect_json(
        app.get("/api/v1/tasks?sort=code&per_page=2&page=2", &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(ids(&paged), [id(&late), id(&draft)]);
    // A clerk sees only the tasks the own unit takes part in.
    let clerk = expect_json(app.get("/api/v1/tasks", &c.clerk_c).await, 200).await;
    assert_eq!(ids(&clerk), [id(&other)]);
    for bad in [
        "light=blue",
        "status=done",
        "sort=title",
        "due_before=2026-13-01",
        "overdue=perhaps",
        "report=bogus",
    ] {
        let p = expect_problem(
            app.get(&format!("/api/v1/tasks?{bad}"), &c.office).await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem_fields(&p), [bad.split('=').next().unwrap()]);
    }
}

async fn sub_tasks_roll_up_to_their_parent(app: TestApp) {
    let c = city::build(&app).await;
    let parent = c.task(&app, "2", 30, json!({})).await;
    let child1 = c
        .task(&app, "2.1", 30, json!({ "parent_id": parent["id"] }))
        .await;
    let child2 = c
        .task(&app, "2.2", 30, json!({ "parent_id": parent["id"] }))
        .await;
    let grandchild = c
        .task(&app, "2.2.1", 30, json!({ "parent_id": child2["id"] }))
        .await;
    for t in [&child1, &child2, &grandchild] {
        c.ok(&app, &c.office, t, "assign", None).await;
        c.ok(&app, &c.clerk_a, t, "accept", None).await;
    }
    c.ok(&app, &c.clerk_a, &child1, "submit", Some("完成"))
        .await;
    c.ok(&app, &c.office, &child1, "verify", None).await;
    app.post(
        &format!("/api/v1/tasks/{}/reports", id(&grandchild)),
        &c.clerk_a,
        json!({ "percent": 40, "body": "推进中" }),
    )
    .await;
    let detail = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&parent)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(detail["children"], json!([child1["id"], child2["id"]]));
    let rollup = &detail["rollup"];
    assert_eq!(rollup["descendants"], 3);
    assert_eq!(
        rollup["by_status"],
        json!({ "completed": 1, "in_progress": 2 })
    );
    // completed counts 100, the untouched child 0, the grandchild 40.
    assert_eq!(rollup["progress"], 140 / 3);
    // A task cannot move under its own descendant; codes are unique in a plan.
    let p = expect_problem(
        app.patch(
            &format!("/api/v1/tasks/{}", id(&parent)),
            &c.office,
            json!({ "version": parent["version"], "parent_id": grandchild["id"] }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["parent_id"]);
    let dup = app
        .post("/api/v1/tasks", &c.office, json!({ "plan_id": c.plan_id, "code": "2.1", "title": "重复", "lead_unit_id": c.unit_a }))
        .await;
    expect_problem(dup, 409, "task_code_taken").await;
}

/// The roll-up walks the task's own descendants: another plan with the same
/// codes, siblings in the same plan and the task's parent do not count.
async fn the_roll_up_reads_only_the_task_s_own_subtree(app: TestApp) {
    let c = city::build(&app).await;
    let other_plan = expect_json(
        app.post(
            "/api/v1/plans",
            &c.office,
            json!({ "title": "另一个实施方案", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    let in_other = json!({ "plan_id": other_plan["id"] });
    // The other plan: the same codes, more sub-tasks, one of them completed.
    let o_parent = c.task(&app, "1", 30, in_other.clone()).await;
    let mut o_extra = in_other.clone();
    o_extra["parent_id"] = o_parent["id"].clone();
    for code in ["1.1", "1.2", "1.3"] {
        c.task(&app, code, 30, o_extra.clone()).await;
    }
    // This plan: a root, its sibling with a child, and the task under test.
    let root = c.task(&app, "1", 30, json!({})).await;
    let sibling = c.task(&app, "2", 30, json!({})).await;
    c.task(&app, "2.1", 30, json!({ "parent_id": sibling["id"] }))
        .await;
    let task = c
        .task(&app, "1.1", 30, json!({ "parent_id": root["id"] }))
        .await;
    let child = c
        .task(&app, "1.1.1", 30, json!({ "parent_id": task["id"] }))
        .await;
    let grandchild = c
        .task(&app, "1.1.1.1", 30, json!({ "parent_id": child["id"] }))
        .await;
    c.ok(&app, &c.office, &grandchild, "assign", None).await;
    c.ok(&app, &c.clerk_a, &grandchild, "accept", None).await;
    app.post(
        &format!("/api/v1/tasks/{}/reports", id(&grandchild)),
        &c.clerk_a,
        json!({ "percent": 60, "body": "推进中" }),
    )
    .await;
    let detail = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&task)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(detail["children"], json!([child["id"]]));
    assert_eq!(
        detail["rollup"],
        json!({
            "descendants": 2,
            "by_status": { "draft": 1, "in_progress": 1 },
            "progress": 30,
        })
    );
    // The root counts its whole subtree, nothing of the other plan's "1".
    let top = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&root)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(top["children"], json!([task["id"]]));
    assert_eq!(top["rollup"]["descendants"], 3);
    // A leaf has no roll-up; the other plan's parent counts its own three.
    let leaf = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&grandchild)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(leaf["children"], json!([]));
    assert_eq!(leaf["rollup"], Value::Null);
    let other = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&o_parent)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(other["rollup"]["descendants"], 3);
    assert_eq!(other["rollup"]["by_status"], json!({ "draft": 3 }));
}

async fn missing_reports_and_unsigned_tasks_are_flagged(app: TestApp) {
    let c = city::build(&app).await;
    let reporting = c.task(&app, "1", 90, json!({ "report_day": 1 })).await;
    c.ok(&app, &c.office, &reporting, "assign", None).await;
    c.ok(&app, &c.clerk_a, &reporting, "accept", None).await;
    let unsigned = c.task(&app, "2", 90, json!({})).await;
    c.ok(&app, &c.office, &unsigned, "assign", None).await;
    let fresh = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&reporting)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(fresh["report_missing"], false);

    // Move both tasks' start two months back, as if time had passed.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    {
        use diesel::prelude::*;
        use duban::db::schema::tasks;
        let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(62);
        diesel::update(tasks::table)
            .set((
                tasks::assigned_at.eq(long_ago),
                tasks::accepted_at.eq(long_ago),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    let stale = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&reporting)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(stale["report_missing"], true);
    let unsigned_now = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&unsigned)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(unsigned_now["acceptance_overdue"], true);
    // The lead unit reports: the flag clears. A cooperating unit's report would not.
    app.post(
        &format!("/api/v1/tasks/{}/reports", id(&reporting)),
        &c.clerk_b,
        json!({ "percent": 10, "body": "配合" }),
    )
    .await;
    let still = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&reporting)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(still["report_missing"], true);
    app.post(
        &format!("/api/v1/tasks/{}/reports", id(&reporting)),
        &c.clerk_a,
        json!({ "percent": 30, "body": "本月进展" }),
    )
    .await;
    let cleared = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&reporting)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(cleared["report_missing"], false);
}

async fn task_input_is_validated_field_by_field(app: TestApp) {
    let c = city::build(&app).await;
    let res = app
        .post(
            "/api/v1/tasks",
            &c.office,
            json!({ "plan_id": 9999, "code": "", "title": "x", "lead_unit_id": 9999, "cooperating_unit_ids": [c.unit_b, 8888],
                    "responsible_leader_id": c.leader_id + 100, "start_date": "2026-06-01", "due_date": "2026-02-30",
                    "priority": "urgent", "category": "misc", "report_day": 32 }),
        )
        .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    let mut fields = problem_fields(&p);
    fields.sort();
    assert_eq!(
        fields,
        [
            "category",
            "code",
            "cooperating_unit_ids[1]",
            "due_date",
            "lead_unit_id",
            "plan_id",
            "priority",
            "report_day",
            "responsible_leader_id"
        ]
    );
    // A non-leader cannot be the responsible leader; dates in the wrong order are refused.
    let res = app
        .post(
            "/api/v1/tasks",
            &c.office,
            json!({ "plan_id": c.plan_id, "code": "1", "title": "x", "lead_unit_id": c.unit_a,
                    "start_date": "2026-06-01", "due_date": "2026-05-01" }),
        )
        .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["due_date"]);
    let res = app
        .post("/api/v1/tasks", &c.office, json!({ "plan_id": c.plan_id, "code": "1", "title": "x", "lead_unit_id": c.unit_a, "status": "completed" }))
        .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["status"]);
    let list = expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await;
    assert_eq!(list["total"], 0, "nothing was written");
}

async fn the_overview_counts_by_status_light_and_unit(app: TestApp) {
    let c = city::build(&app).await;
    c.in_progress(&app, "1", -1).await;
    c.in_progress(&app, "2", 1).await;
    c.task(&app, "3", 30, json!({})).await;
    c.task(
        &app,
        "4",
        30,
        json!({ "lead_unit_id": c.unit_c, "cooperating_unit_ids": [] }),
    )
    .await;
    let other_plan = expect_json(
        app.post(
            "/api/v1/plans",
            &c.office,
            json!({ "title": "另一方案", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    app.post(
        "/api/v1/tasks",
        &c.office,
        json!({ "plan_id": other_plan["id"], "code": "1", "title": "x", "lead_unit_id": c.unit_a }),
    )
    .await;

    let o = expect_json(
        app.get(
            &format!("/api/v1/stats/overview?plan_id={}", c.plan_id),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(o["total"], 4);
    assert_eq!(o["by_status"], json!({ "draft": 2, "in_progress": 2 }));
    assert_eq!(o["by_light"], json!({ "red": 1, "yellow": 1 }));
    assert_eq!(o["overdue"], 1);
    let units = o["units"].as_array().unwrap();
    assert_eq!(units.len(), 2);
    let a = units.iter().find(|u| u["unit_id"] == c.unit_a).unwrap();
    assert_eq!(
        (
            a["unit_name"].as_str(),
            a["total"].as_i64(),
            a["overdue"].as_i64()
        ),
        (Some("城关镇"), Some(3), Some(1))
    );
    let all = expect_json(app.get("/api/v1/stats/overview", &c.office).await, 200).await;
    assert_eq!(all["total"], 5);
    // A clerk's overview covers only the own unit's tasks.
    let mine = expect_json(app.get("/api/v1/stats/overview", &c.clerk_c).await, 200).await;
    assert_eq!(mine["total"], 1);
}
