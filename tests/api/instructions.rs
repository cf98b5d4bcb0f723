//! 批示 (instructions): leaders who see a task write them, the lead unit is
//! told at once, answers with a progress report (批示落实情况), and an
//! instruction not answered by its date climbs the ladder. API and pages.

use chrono::Duration;
use reqwest::multipart::Form;
use serde_json::{json, Value};

use crate::city::{self, local_day, City};
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};
use crate::notices::{addressed_city, Outbox};
use crate::smtp::SmtpServer;

crate::api_tests![
    leaders_who_see_the_task_write_instructions_and_its_units_read_them,
    the_lead_unit_is_told_at_once_and_answers_with_a_report_once,
    an_instruction_not_answered_by_its_date_climbs_the_ladder,
    leaders_write_and_clerks_answer_instructions_on_the_task_page,
];

fn path(task: i64) -> String {
    format!("/api/v1/tasks/{task}/instructions")
}

async fn instruct(app: &TestApp, token: &str, task: i64, body: Value) -> reqwest::Response {
    app.post(&path(task), token, body).await
}

/// A second leader, responsible for nothing in the city.
async fn other_leader(app: &TestApp, c: &City) -> String {
    app.create_user(&c.admin, "leader-2", "leader", None)
        .await
        .1
}

async fn leaders_who_see_the_task_write_instructions_and_its_units_read_them(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "2.1", 30).await;
    let id = task["id"].as_i64().unwrap();
    let body = json!({ "body": "请于月底前完成整改，确保水质达标", "reply_by": local_day(5) });

    // The responsible leader writes; the API answers with the instruction.
    let made = expect_json(instruct(&app, &c.leader, id, body.clone()).await, 201).await;
    assert_eq!(made["body"], "请于月底前完成整改，确保水质达标");
    assert_eq!(made["reply_by"], local_day(5));
    assert_eq!(made["author_id"], c.leader_id);
    assert_eq!(made["reply"], Value::Null);
    assert_eq!(made["overdue"], false);
    // The office may too; clerks and viewers may not.
    expect_json(
        instruct(&app, &c.office, id, json!({ "body": "督查室跟踪" })).await,
        201,
    )
    .await;
    expect_problem(
        instruct(&app, &c.clerk_a, id, body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        instruct(&app, &c.viewer, id, body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    // A leader who does not see the task learns nothing of it.
    let stranger = other_leader(&app, &c).await;
    expect_problem(
        instruct(&app, &stranger, id, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(app.get(&path(id), &stranger).await, 404, "not_found").await;
    expect_problem(app.get(&path(id), &c.clerk_c).await, 404, "not_found").await;

    // The lead and cooperating units and the viewer read them, newest first.
    for token in [&c.clerk_a, &c.clerk_b, &c.viewer, &c.leader] {
        let list = expect_json(app.get(&path(id), token).await, 200).await;
        let bodies: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["body"].as_str().unwrap())
            .collect();
        assert_eq!(bodies, ["督查室跟踪", "请于月底前完成整改，确保水质达标"]);
    }

    // Fields at fault are named; a date in the past is refused.
    let bad = expect_problem(
        instruct(
            &app,
            &c.leader,
            id,
            json!({ "body": " ", "reply_by": local_day(-1) }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = problem_fields(&bad);
    fields.sort();
    assert_eq!(fields, ["body", "reply_by"]);
    // A draft is not the units' yet: no instruction on it.
    let draft = c.task(&app, "2.2", 30, json!({})).await;
    let draft_id = draft["id"].as_i64().unwrap();
    expect_problem(
        instruct(&app, &c.leader, draft_id, json!({ "body": "尽快交办" })).await,
        409,
        "task_not_open",
    )
    .await;

    // The timeline records who said what.
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/events"), &c.clerk_a)
            .await,
        200,
    )
    .await;
    let said: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "instructed")
        .collect();
    assert_eq!(said.len(), 2);
    assert_eq!(said[0]["actor_id"], c.leader_id);
    assert_eq!(said[0]["note"], "请于月底前完成整改，确保水质达标");
}

async fn report(app: &TestApp, token: &str, task: i64, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/tasks/{task}/reports"), token, body)
        .await
}

async fn the_lead_unit_is_told_at_once_and_answers_with_a_report_once(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "2.3", 30).await;
    let id = task["id"].as_i64().unwrap();
    let out = Outbox::new(&app, &smtp.url());
    out.deliver();
    let before = smtp.received().len();

    let made = expect_json(
        instruct(
            &app,
            &c.leader,
            id,
            json!({ "body": "加快进度，本周内拿出方案", "reply_by": local_day(3) }),
        )
        .await,
        201,
    )
    .await;
    let instruction = made["id"].as_i64().unwrap();
    assert_eq!(out.deliver().sent, 1, "the lead unit, at once");
    let mail = smtp.received().into_iter().skip(before).collect::<Vec<_>>();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, ["t01@example.gov.cn"]);
    assert!(
        mail[0].subject().starts_with("【领导批示】2.3"),
        "{}",
        mail[0].subject()
    );
    let text = mail[0].text();
    assert!(
        text.contains("批示内容：加快进度，本周内拿出方案")
            && text.contains(&format!("回复期限：{}", local_day(3)))
            && text.contains(&format!("/tasks/{id}")),
        "{text}"
    );
    let notices = expect_json(
        app.get(
            &format!("/api/v1/notices?task_id={id}&step=instruction"),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(notices["total"], 1);

    // A cooperating unit's report is no reply; nor is a report naming an
    // instruction of another task.
    let coop = expect_problem(
        report(
            &app,
            &c.clerk_b,
            id,
            json!({ "percent": 20, "body": "配合中", "instruction_id": instruction }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&coop), ["instruction_id"]);
    let other = c.in_progress(&app, "2.4", 30).await;
    let other_id = other["id"].as_i64().unwrap();
    let wrong = expect_problem(
        report(
            &app,
            &c.clerk_a,
            other_id,
            json!({ "percent": 20, "body": "x", "instruction_id": instruction }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&wrong), ["instruction_id"]);

    // The lead unit's report answers it.
    let answer = expect_json(
        report(
            &app,
            &c.clerk_a,
            id,
            json!({ "percent": 40, "body": "方案已报分管领导审定", "instruction_id": instruction }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(answer["instruction_id"], instruction);
    let list = expect_json(app.get(&path(id), &c.leader).await, 200).await;
    let reply = &list[0]["reply"];
    assert_eq!(reply["report_id"], answer["id"]);
    assert_eq!(reply["body"], "方案已报分管领导审定");
    assert_eq!(reply["percent"], 40);
    assert_eq!(reply["unit_id"], c.unit_a);

    // A second answer is refused by the database write, and its report is
    // not kept.
    expect_problem(
        report(
            &app,
            &c.clerk_a,
            id,
            json!({ "percent": 50, "body": "再次反馈", "instruction_id": instruction }),
        )
        .await,
        409,
        "instruction_replied",
    )
    .await;
    let reports = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/reports"), &c.office)
            .await,
        200,
    )
    .await;
    let bodies: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert!(!bodies.contains(&"再次反馈"), "{bodies:?}");
    assert_eq!(
        reports
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["instruction_id"] == instruction)
            .count(),
        1
    );
}

/// The subjects of the notices about instruction replies on `task`.
async fn instruction_notices(app: &TestApp, c: &City, task: i64) -> Vec<(String, Vec<String>)> {
    let list = expect_json(
        app.get(
            &format!("/api/v1/notices?task_id={task}&per_page=200"),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    let mut found: Vec<(String, Vec<String>)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["channel"] == "email" && n["subject"].as_str().unwrap().starts_with("【批示落实")
        })
        .map(|n| {
            let to = n["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect();
            (n["subject"].as_str().unwrap().to_string(), to)
        })
        .collect();
    found.sort();
    found
}

async fn an_instruction_not_answered_by_its_date_climbs_the_ladder(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "2.5", 60).await;
    let id = task["id"].as_i64().unwrap();
    let made = expect_json(
        instruct(
            &app,
            &c.leader,
            id,
            json!({ "body": "请报送整改清单", "reply_by": local_day(0) }),
        )
        .await,
        201,
    )
    .await;
    let out = Outbox::new(&app, &smtp.url());
    let today = chrono::NaiveDate::parse_from_str(&local_day(0), "%Y-%m-%d").unwrap();

    // On the date itself nothing is late yet.
    out.scan(today);
    assert!(instruction_notices(&app, &c, id).await.is_empty());
    // The day after: a chase notice to the lead unit, once however often
    // the scan runs.
    out.scan(today + Duration::days(1));
    out.scan(today + Duration::days(1));
    let chased = instruction_notices(&app, &c, id).await;
    assert_eq!(chased.len(), 1, "{chased:?}");
    assert!(
        chased[0].0.starts_with("【批示落实催办通知】2.5"),
        "{chased:?}"
    );
    assert_eq!(chased[0].1, ["t01@example.gov.cn"]);
    // A week late: a supervision order to the unit head, the leader who
    // wrote it and the office.
    out.scan(today + Duration::days(7));
    let supervised = instruction_notices(&app, &c, id).await;
    assert_eq!(supervised.len(), 2, "{supervised:?}");
    let order = supervised
        .iter()
        .find(|n| n.0.contains("督办通知"))
        .unwrap();
    for who in [
        "head-t01@example.gov.cn",
        "leader@example.gov.cn",
        "office@example.gov.cn",
    ] {
        assert!(order.1.contains(&who.to_string()), "{order:?}");
    }
    let counts = out.deliver();
    let mail = smtp.received();
    let subjects: Vec<String> = mail.iter().map(|m| m.subject()).collect();
    let sent = mail
        .iter()
        .find(|m| m.subject().starts_with("【批示落实督办通知】"))
        .unwrap_or_else(|| panic!("{counts:?} {subjects:?}"));
    assert!(
        sent.text().contains("批示内容：请报送整改清单"),
        "{}",
        sent.text()
    );
    // The timeline shows them.
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/events"), &c.office)
            .await,
        200,
    )
    .await;
    assert!(events
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "supervision_order"
            && e["note"]
                .as_str()
                .unwrap()
                .starts_with("【批示落实督办通知】")));

    // Once answered it climbs no further.
    let instruction = made["id"].as_i64().unwrap();
    expect_json(
        report(
            &app,
            &c.clerk_a,
            id,
            json!({ "percent": 30, "body": "整改清单已报送", "instruction_id": instruction }),
        )
        .await,
        201,
    )
    .await;
    out.scan(today + Duration::days(16));
    assert_eq!(instruction_notices(&app, &c, id).await.len(), 2);
    let list = expect_json(app.get(&path(id), &c.leader).await, 200).await;
    assert_eq!(list[0]["overdue"], false);
}

async fn leaders_write_and_clerks_answer_instructions_on_the_task_page(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "2.6", 30).await;
    let id = task["id"].as_i64().unwrap();
    let page = format!("/tasks/{id}");

    // The leader sees the form, and the page refuses a post without its token.
    let leader = Visitor::signed_in(&app, "leader", &password_of("leader")).await;
    let shown = leader.get(&page).await;
    shown.assert_has("作出批示");
    let refused = leader
        .post(&format!("{page}/instructions"), &[("body", "无令牌")])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // A bad date is said on the page, with what was typed kept.
    let bad = leader
        .post(
            &format!("{page}/instructions"),
            &[
                ("csrf", &shown.csrf()),
                ("body", "请抓紧推进"),
                ("reply_by", "2020-01-01"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    bad.assert_has("回复期限不能早于今天");
    bad.assert_has("请抓紧推进");
    let done = leader
        .post(
            &format!("{page}/instructions"),
            &[
                ("csrf", &shown.csrf()),
                ("body", "请抓紧推进，月底前见成效"),
                ("reply_by", &local_day(10)),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{page}?done=instruction"));
    let after = leader.get(done.location()).await;
    after.assert_has("批示已发出");
    after.assert_has("请抓紧推进，月底前见成效");
    after.assert_has("待反馈");

    // A leader who does not see the task gets no page and cannot post.
    other_leader(&app, &c).await;
    settle_accounts(&app);
    let stranger = Visitor::signed_in(&app, "leader-2", &password_of("leader-2")).await;
    assert_eq!(stranger.get(&page).await.status, 404);
    let home = stranger.get("/").await;
    let posted = stranger
        .post(
            &format!("{page}/instructions"),
            &[("csrf", &home.csrf()), ("body", "越权")],
        )
        .await;
    assert_eq!(posted.status, 404);

    // The cooperating clerk reads it but writes none and answers none.
    let coop = Visitor::signed_in(&app, "clerk-b", &password_of("clerk-b")).await;
    let seen = coop.get(&page).await;
    seen.assert_has("请抓紧推进，月底前见成效");
    assert!(!seen.body.contains("作出批示") && !seen.body.contains("作为批示落实情况反馈"));

    // The lead clerk answers it with a report chosen on the form.
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let form_page = clerk.get(&page).await;
    form_page.assert_has("作为批示落实情况反馈");
    assert!(!form_page.body.contains("id=\"instruction-body\""));
    let list = expect_json(app.get(&path(id), &c.leader).await, 200).await;
    let instruction = list[0]["id"].as_i64().unwrap().to_string();
    let form = Form::new()
        .text("csrf", form_page.csrf())
        .text("percent", "60")
        .text("body", "已完成主体工程，月底前完工")
        .text("instruction_id", instruction);
    let reported = clerk.post_multipart(&format!("{page}/reports"), form).await;
    assert_eq!(reported.status, 303, "{}", reported.body);
    // Answered, it is no longer offered.
    assert!(!clerk.get(&page).await.body.contains("作为批示落实情况反馈"));

    // The leader sees the answer under the instruction.
    let answered = leader.get(&page).await;
    answered.assert_has("已反馈");
    answered.assert_has("落实情况（");
    answered.assert_has("已完成主体工程，月底前完工");
}
