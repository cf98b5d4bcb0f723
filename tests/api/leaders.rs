//! Leaders: co-responsible leaders (共同责任领导) set through the API and the
//! import, who see the task and are copied on its supervision order, and the
//! leader's 我分管的 page.

use chrono::{Duration, NaiveDate};
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, City};
use crate::console::{settle_accounts, Visitor};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};
use crate::notices::{addressed_city, Outbox};
use crate::smtp::SmtpServer;

api_tests![
    co_leaders_are_set_on_create_and_update_and_must_be_leaders,
    a_co_responsible_leader_sees_the_task_and_another_leader_does_not,
    a_two_leader_cell_imports_as_responsible_and_co_responsible,
    the_supervision_order_is_copied_to_the_co_leaders with crate::helpers::ladder_only,
    the_leading_page_counts_the_leaders_share_by_unit_and_light,
];

/// Creates an account with its own display name; returns its id.
async fn account(app: &TestApp, c: &City, username: &str, name: &str, role: &str) -> i64 {
    let user = expect_json(
        app.post(
            "/api/v1/users",
            &c.admin,
            json!({ "username": username, "display_name": name, "role": role,
                    "password": crate::console::password_of(username) }),
        )
        .await,
        201,
    )
    .await;
    user["id"].as_i64().unwrap()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn co_leaders_are_set_on_create_and_update_and_must_be_leaders(app: TestApp) {
    let c = city::build(&app).await;
    let li = account(&app, &c, "li-fu", "李副市长", "leader").await;
    let viewer = account(&app, &c, "viewer-2", "纪委监委", "viewer").await;
    let task = c
        .task(&app, "1", 10, json!({ "co_leader_ids": [li] }))
        .await;
    assert_eq!(task["responsible_leader_id"], c.leader_id);
    assert_eq!(task["co_leader_ids"], json!([li]));
    assert_eq!(
        task["co_leaders"],
        json!([{ "id": li, "name": "李副市长" }])
    );

    // A viewer, an unknown account and the responsible leader himself are
    // refused, each at its place in the list.
    let body = json!({
        "plan_id": c.plan_id, "code": "2", "title": "任务 2", "lead_unit_id": c.unit_a,
        "responsible_leader_id": c.leader_id, "co_leader_ids": [li, viewer, li + 1000, c.leader_id],
    });
    let p = expect_problem(
        app.post("/api/v1/tasks", &c.office, body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem_fields(&p),
        ["co_leader_ids[1]", "co_leader_ids[2]", "co_leader_ids[3]"]
    );
    assert!(p["errors"]
        .to_string()
        .contains("共同责任领导必须是有效的领导账号"));

    // Update: a non-leader is refused and nothing changes; an empty list clears.
    let path = format!("/api/v1/tasks/{}", id(&task));
    let p = expect_problem(
        app.patch(
            &path,
            &c.office,
            json!({ "version": task["version"], "co_leader_ids": [viewer] }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["co_leader_ids[0]"]);
    let same = expect_json(app.get(&path, &c.office).await, 200).await;
    assert_eq!(same["co_leader_ids"], json!([li]));
    let cleared = expect_json(
        app.patch(
            &path,
            &c.office,
            json!({ "version": task["version"], "co_leader_ids": [] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cleared["co_leader_ids"], json!([]));
    // Moving the co-leader into the responsible place goes together.
    let swapped = expect_json(
        app.patch(
            &path,
            &c.office,
            json!({ "version": cleared["version"], "responsible_leader_id": li,
                    "co_leader_ids": [c.leader_id] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(swapped["responsible_leader_id"], li);
    assert_eq!(swapped["co_leaders"][0]["name"], "leader");
}

async fn a_co_responsible_leader_sees_the_task_and_another_leader_does_not(app: TestApp) {
    let c = city::build(&app).await;
    let li = account(&app, &c, "li-fu", "李副市长", "leader").await;
    account(&app, &c, "wang-fu", "王副市长", "leader").await;
    let task = c
        .task(&app, "1", 10, json!({ "co_leader_ids": [li] }))
        .await;
    c.task(&app, "2", 10, json!({})).await;
    let li_token = app
        .login("li-fu", &crate::console::password_of("li-fu"))
        .await;
    let wang_token = app
        .login("wang-fu", &crate::console::password_of("wang-fu"))
        .await;
    let path = format!("/api/v1/tasks/{}", id(&task));

    // The API: the co-leader sees exactly that task; another leader nothing.
    expect_json(app.get(&path, &li_token).await, 200).await;
    let list = expect_json(app.get("/api/v1/tasks", &li_token).await, 200).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], task["id"]);
    expect_problem(app.get(&path, &wang_token).await, 404, "not_found").await;
    let none = expect_json(app.get("/api/v1/tasks", &wang_token).await, 200).await;
    assert_eq!(none["total"], 0);
    // The list's leader filter matches responsible or co-responsible.
    let by_li = expect_json(
        app.get(&format!("/api/v1/tasks?leader_id={li}"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(by_li["total"], 1);
    let by_leader = expect_json(
        app.get(
            &format!("/api/v1/tasks?leader_id={}", c.leader_id),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(by_leader["total"], 2);
    // A write checks the same sight: the co-leader may instruct on the
    // task, another leader finds no such task.
    c.ok(&app, &c.office, &task, "assign", None).await;
    let said = json!({ "body": "请抓紧推进" });
    let instructions = format!("{path}/instructions");
    expect_json(app.post(&instructions, &li_token, said.clone()).await, 201).await;
    expect_problem(
        app.post(&instructions, &wang_token, said).await,
        404,
        "not_found",
    )
    .await;

    // The pages: the same sight; the task page names both leaders.
    settle_accounts(&app);
    let li_pages = Visitor::signed_in(&app, "li-fu", &crate::console::password_of("li-fu")).await;
    let page = li_pages.get(&format!("/tasks/{}", id(&task))).await;
    assert_eq!(page.status, 200);
    page.assert_has("共同责任领导");
    page.assert_has("<dd class=\"co-leaders\">李副市长</dd>");
    let wang_pages =
        Visitor::signed_in(&app, "wang-fu", &crate::console::password_of("wang-fu")).await;
    let page = wang_pages.get(&format!("/tasks/{}", id(&task))).await;
    assert_eq!(page.status, 404);
}

async fn a_two_leader_cell_imports_as_responsible_and_co_responsible(app: TestApp) {
    let c = city::build(&app).await;
    let zhang = account(&app, &c, "zhang-fu", "张副市长", "leader").await;
    let li = account(&app, &c, "li-fu", "李副市长", "leader").await;
    let csv = "序号,任务,牵头单位,责任领导,完成时限\n\
               1,河道清淤,城关镇,张副市长、李副市长,2026-06-30\n\
               2,秸秆禁烧,城关镇,张副市长，赵副市长,2026-06-30\n";
    let send = |csv: String, query: &'static str| {
        let (app, office) = (&app, &c.office);
        async move {
            crate::import::send(app, office, c.plan_id, "t.csv", csv.into_bytes(), query).await
        }
    };
    // An unknown name is an error at its cell, as before.
    let p = expect_problem(send(csv.to_string(), "").await, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["D3"]);
    assert!(p["errors"].to_string().contains("赵副市长"), "{p}");

    let csv = csv.replace("张副市长，赵副市长", "李副市长 / 张副市长");
    let report = expect_json(send(csv.clone(), "").await, 201).await;
    let tasks = &report["tasks"];
    assert_eq!(tasks[0]["responsible_leader_id"], zhang);
    assert_eq!(tasks[0]["co_leader_ids"], json!([li]));
    assert_eq!(tasks[1]["responsible_leader_id"], li);
    assert_eq!(tasks[1]["co_leader_ids"], json!([zhang]));
    let first = expect_json(
        app.get(&format!("/api/v1/tasks/{}", tasks[0]["id"]), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(
        first["co_leaders"],
        json!([{ "id": li, "name": "李副市长" }])
    );

    // Re-importing with the leaders swapped on row 2 changes both places.
    let csv = csv.replace("李副市长 / 张副市长", "张副市长");
    let report = expect_json(send(csv, "?mode=update").await, 201).await;
    let fields: Vec<&str> = report["changes"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["responsible_leader_id", "co_leader_ids"],
        "{report}"
    );
    let second = expect_json(
        app.get(&format!("/api/v1/tasks/{}", tasks[1]["id"]), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(second["responsible_leader_id"], zhang);
    assert_eq!(second["co_leader_ids"], json!([]));
}

async fn the_supervision_order_is_copied_to_the_co_leaders(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let li = account(&app, &c, "li-fu", "李副市长", "leader").await;
    expect_json(
        app.patch(
            &format!("/api/v1/users/{li}"),
            &c.admin,
            json!({ "version": 1, "email": "li@example.gov.cn" }),
        )
        .await,
        200,
    )
    .await;
    let task = c
        .task(&app, "1", 10, json!({ "co_leader_ids": [li] }))
        .await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    c.ok(&app, &c.clerk_a, &task, "accept", None).await;
    let due: NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    let out = Outbox::new(&app, &smtp.url());

    // The chase goes to the units only; the supervision order to the head,
    // both leaders and the office, once however often the scan runs.
    assert_eq!(out.scan(due + Duration::days(1)).created, 1);
    assert_eq!(out.deliver().sent, 1);
    assert!(!smtp.received()[0]
        .to
        .contains(&"li@example.gov.cn".to_string()));
    assert_eq!(out.scan(due + Duration::days(7)).created, 1);
    assert_eq!(out.scan(due + Duration::days(7)).created, 0);
    assert_eq!(out.deliver().sent, 1);
    let got = smtp.received();
    assert_eq!(got.len(), 2);
    let mut to = got[1].to.clone();
    to.sort();
    assert_eq!(
        to,
        [
            "head-t01@example.gov.cn",
            "leader@example.gov.cn",
            "li@example.gov.cn",
            "office@example.gov.cn",
        ]
    );
    assert!(got[1].subject().contains("督办通知"));
    // The order names both leaders, the responsible one first.
    let text = got[1].text();
    assert!(text.contains("责任领导：leader、李副市长"), "{text}");
}

async fn the_leading_page_counts_the_leaders_share_by_unit_and_light(app: TestApp) {
    let c = city::build(&app).await;
    let li = account(&app, &c, "li-fu", "李副市长", "leader").await;
    // The leader's share: two tasks of 城关镇 (one due soon: yellow; one
    // green), one of 东城镇 as co-responsible leader; one task of someone else.
    let soon = c.in_progress(&app, "1", 1).await;
    c.in_progress(&app, "2", 40).await;
    let east = c
        .task(
            &app,
            "3",
            40,
            json!({ "lead_unit_id": c.unit_c, "cooperating_unit_ids": [],
                    "responsible_leader_id": li, "co_leader_ids": [c.leader_id] }),
        )
        .await;
    c.ok(&app, &c.office, &east, "assign", None).await;
    c.task(
        &app,
        "4",
        40,
        json!({ "lead_unit_id": c.unit_b, "cooperating_unit_ids": [], "responsible_leader_id": li }),
    )
    .await;

    settle_accounts(&app);
    let leader = Visitor::signed_in(&app, "leader", &crate::console::password_of("leader")).await;
    let home = leader.get("/").await;
    home.assert_has("href=\"/leading\"");
    let page = leader.get("/leading").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has("我分管的");
    // Links are escaped as the templates escape them ("/" as &#x2f;).
    let all = format!("&#x2f;tasks?leader_id={}", c.leader_id);
    // Totals: 3 tasks, 1 yellow, 2 green.
    page.assert_has(&format!("<a href=\"{all}\"><span class=\"count\">3</span>"));
    page.assert_has(&format!(
        "<a href=\"{all}&amp;light=yellow\"><span class=\"count\">1</span>"
    ));
    page.assert_has(&format!(
        "<a href=\"{all}&amp;light=green\"><span class=\"count\">2</span>"
    ));
    // By lead unit, each count a link to exactly those tasks.
    let town = format!("{all}&amp;lead_unit_id={}", c.unit_a);
    page.assert_has(&format!("<a href=\"{town}\">城关镇</a>"));
    page.assert_has(&format!("<a href=\"{town}\">2</a>"));
    page.assert_has(&format!("<a href=\"{town}&amp;light=yellow\">1</a>"));
    page.assert_has(&format!("<a href=\"{town}&amp;light=green\">1</a>"));
    let east_town = format!("{all}&amp;lead_unit_id={}", c.unit_c);
    page.assert_has(&format!("<a href=\"{east_town}\">东城镇</a>"));
    assert!(
        !page.body.contains("市生态环境局"),
        "another leader's unit is not in the share"
    );
    // No bulletin is published: the live ranking of the month, by unit.
    page.assert_has("实时排名");
    page.assert_has(&format!("id=\"standing-{}\"", c.unit_a));
    // A count's link lists what it counted.
    let link = format!(
        "/tasks?leader_id={}&lead_unit_id={}&light=yellow",
        c.leader_id, c.unit_a
    );
    let list = leader.get(&link).await;
    assert_eq!(list.status, 200);
    list.assert_has(&format!("/tasks/{}", id(&soon)));
    list.assert_has("共 1 项");

    // The page is the leaders': a clerk and the office get 404, and no link.
    for username in ["clerk-a", "office"] {
        let v = Visitor::signed_in(&app, username, &crate::console::password_of(username)).await;
        assert_eq!(v.get("/leading").await.status, 404, "{username}");
        assert!(!v.get("/").await.body.contains("href=\"/leading\""));
    }
}
