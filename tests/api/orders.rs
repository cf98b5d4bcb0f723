//! 督办单 (supervision orders): issued by the ladder's 督办 step with its
//! email (which carries the order as an HTML attachment) and by the office
//! at will; numbered per year in the database; answered once by the lead
//! unit's receipt (回执); a receipt not in by its date climbs the ladder.
//! API and pages.

use chrono::{Datelike, Duration, NaiveDate};
use futures_util::future::join_all;
use reqwest::multipart::Form;
use serde_json::{json, Value};

use crate::city::{self, local_day, City};
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};
use crate::notices::{addressed_city, Outbox};
use crate::smtp::SmtpServer;

crate::api_tests![
    the_office_issues_orders_by_hand_and_whoever_sees_the_task_reads_them,
    concurrent_orders_take_consecutive_numbers_and_a_rollback_leaves_no_gap,
    the_supervision_step_issues_an_order_attached_to_its_email_and_the_receipt_closes_it,
    a_receipt_not_in_by_its_date_climbs_the_ladder,
    the_office_issues_an_order_on_the_task_page,
    an_order_issued_by_hand_sends_the_supervision_email_with_it,
    concurrent_scans_issue_one_order_a_task_numbered_without_gaps,
];

fn path(task: i64) -> String {
    format!("/api/v1/tasks/{task}/orders")
}

fn year() -> i32 {
    local_day(0)[..4].parse().unwrap()
}

fn title(n: i64) -> String {
    format!("督办〔{}〕{n}号", year())
}

async fn order(app: &TestApp, token: &str, task: i64, body: Value) -> reqwest::Response {
    app.post(&path(task), token, body).await
}

async fn report(app: &TestApp, token: &str, task: i64, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/tasks/{task}/reports"), token, body)
        .await
}

async fn the_office_issues_orders_by_hand_and_whoever_sees_the_task_reads_them(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "3.1", 30).await;
    let id = task["id"].as_i64().unwrap();
    let body = json!({ "requirement": "请于三日内报送整改方案", "reply_by": local_day(3) });

    let made = expect_json(order(&app, &c.office, id, body.clone()).await, 201).await;
    assert_eq!(made["title"], title(1));
    assert_eq!(made["number"], 1);
    assert_eq!(made["year"], year());
    assert_eq!(made["requirement"], "请于三日内报送整改方案");
    assert_eq!(made["reply_by"], local_day(3));
    assert_eq!(made["reply"], Value::Null);
    assert_eq!(made["overdue"], false);
    assert!(made["created_by"].is_i64());
    // Without a date: the configured working days (5) from today, so at
    // least a week of calendar days minus a weekend.
    let second = expect_json(
        order(&app, &c.admin, id, json!({ "requirement": "跟踪督办" })).await,
        201,
    )
    .await;
    assert_eq!(second["title"], title(2));
    let reply_by: NaiveDate = second["reply_by"].as_str().unwrap().parse().unwrap();
    let today: NaiveDate = local_day(0).parse().unwrap();
    assert!(
        reply_by >= today + Duration::days(5) && reply_by <= today + Duration::days(9),
        "{reply_by}"
    );

    // Leaders, clerks and viewers do not issue orders.
    for token in [&c.leader, &c.clerk_a, &c.viewer] {
        expect_problem(order(&app, token, id, body.clone()).await, 403, "forbidden").await;
    }
    // A clerk whose unit takes no part learns nothing of the task.
    expect_problem(
        order(&app, &c.clerk_c, id, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(app.get(&path(id), &c.clerk_c).await, 404, "not_found").await;

    // Whoever sees the task reads them, newest first.
    for token in [&c.clerk_a, &c.clerk_b, &c.viewer, &c.leader, &c.office] {
        let list = expect_json(app.get(&path(id), token).await, 200).await;
        let titles: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_object().unwrap()["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, [title(2), title(1)]);
    }
    let one = expect_json(
        app.get(&format!("/api/v1/orders/{}", made["id"]), &c.clerk_a)
            .await,
        200,
    )
    .await;
    assert_eq!(one["title"], title(1));
    expect_problem(
        app.get(&format!("/api/v1/orders/{}", made["id"]), &c.clerk_c)
            .await,
        404,
        "not_found",
    )
    .await;

    // Fields at fault are named; nothing is numbered for them.
    let bad = expect_problem(
        order(
            &app,
            &c.office,
            id,
            json!({ "requirement": " ", "reply_by": local_day(-1) }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = problem_fields(&bad);
    fields.sort();
    assert_eq!(fields, ["reply_by", "requirement"]);
    let unknown = expect_problem(
        order(
            &app,
            &c.office,
            id,
            json!({ "requirement": "x", "number": 7 }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(unknown.to_string().contains("number"), "{unknown}");
    // A draft is not open: 409.
    let draft = c.task(&app, "3.2", 30, json!({})).await;
    expect_problem(
        order(&app, &c.office, draft["id"].as_i64().unwrap(), body.clone()).await,
        409,
        "task_not_open",
    )
    .await;

    // The timeline records the issue.
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/events"), &c.clerk_a)
            .await,
        200,
    )
    .await;
    let issued: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "order_issued")
        .collect();
    assert_eq!(issued.len(), 2);
    assert!(issued
        .iter()
        .any(|e| e["note"].as_str().unwrap().starts_with(&title(1))));
}

async fn concurrent_orders_take_consecutive_numbers_and_a_rollback_leaves_no_gap(app: TestApp) {
    let c = city::build(&app).await;
    let mut tasks = Vec::new();
    for code in ["3.3", "3.4", "3.5", "3.6"] {
        tasks.push(c.in_progress(&app, code, 30).await["id"].as_i64().unwrap());
    }
    // Eight at once, two on each task.
    let shots = (0..8).map(|i| {
        let task = tasks[i % tasks.len()];
        let (app, token) = (&app, c.office.clone());
        async move {
            let res = order(
                app,
                &token,
                task,
                json!({ "requirement": format!("并发督办 {i}") }),
            )
            .await;
            expect_json(res, 201).await
        }
    });
    let made = join_all(shots).await;
    let mut numbers: Vec<i64> = made.iter().map(|o| o["number"].as_i64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=8).collect::<Vec<i64>>());

    // A creation rolled back gives its number back.
    {
        use diesel::Connection;
        let pool = duban::db::connect(&app.database.url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let reply_by: NaiveDate = local_day(5).parse().unwrap();
        let taken = std::cell::Cell::new(0);
        let rolled: Result<(), diesel::result::Error> = conn.transaction(|conn| {
            let issued = duban::orders::issue(
                conn,
                &duban::orders::Draft {
                    task_id: duban::domain::TaskId(tasks[0]),
                    requirement: "回滚",
                    reply_by,
                    created_by: None,
                    year: year(),
                },
                chrono::Utc::now().naive_utc(),
            )?;
            taken.set(issued.number);
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(rolled.is_err());
        assert_eq!(taken.get(), 9, "the number it would have had");
    }
    // So does a request that fails (here: an unknown task).
    expect_problem(
        order(
            &app,
            &c.office,
            999_999,
            json!({ "requirement": "无此任务" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let next = expect_json(
        order(
            &app,
            &c.office,
            tasks[1],
            json!({ "requirement": "回滚之后" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(next["number"], 9);
    assert_eq!(next["title"], title(9));
}

/// The decoded attachment of a supervision order in a mail, if any.
fn attached_order(mail: &crate::smtp::Received) -> Option<String> {
    mail.attachment("supervision-order-")
}

async fn the_supervision_step_issues_an_order_attached_to_its_email_and_the_receipt_closes_it(
    app: TestApp,
) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "3.7", 10).await;
    let id = task["id"].as_i64().unwrap();
    let due: NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    let out = Outbox::new(&app, &smtp.url());
    out.deliver();
    let before = smtp.received().len();

    // Day 6 overdue: no order yet; day 7: one, however often the scan runs.
    out.scan(due + Duration::days(6));
    assert_eq!(
        expect_json(app.get(&path(id), &c.office).await, 200).await,
        json!([])
    );
    out.scan(due + Duration::days(7));
    out.scan(due + Duration::days(7));
    let list = expect_json(app.get(&path(id), &c.clerk_a).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let made = &list[0];
    let order_id = made["id"].as_i64().unwrap();
    assert_eq!(made["title"], title(made["number"].as_i64().unwrap()));
    assert_eq!(made["created_by"], Value::Null, "from the ladder");
    assert!(
        made["requirement"].as_str().unwrap().contains("逾期 7 天"),
        "{made}"
    );
    assert_eq!(made["year"], (due + Duration::days(7)).year());

    // The 督办 email carries it as an HTML page.
    out.deliver();
    let mail: Vec<_> = smtp.received().into_iter().skip(before).collect();
    let sent = mail
        .iter()
        .find(|m| m.subject().starts_with("【督办通知】3.7"))
        .unwrap_or_else(|| panic!("{:?}", mail.iter().map(|m| m.subject()).collect::<Vec<_>>()));
    assert!(
        sent.text()
            .contains(&format!("督办单：{}", made["title"].as_str().unwrap())),
        "{}",
        sent.text()
    );
    let page = attached_order(sent).expect("the order is attached");
    assert!(page.contains("<!DOCTYPE html>"), "{page}");
    assert!(page.contains(made["title"].as_str().unwrap()), "{page}");
    assert!(page.contains("城关镇") && page.contains("张镇长"), "{page}");
    assert!(
        page.contains("市生态环境局"),
        "the cooperating unit is copied"
    );
    assert!(page.contains("回 执") && page.contains("@page"), "{page}");
    // Only the 督办 email carries one.
    assert!(mail
        .iter()
        .filter(|m| !m.subject().starts_with("【督办通知】"))
        .all(|m| attached_order(m).is_none()));

    // The printable page, to whoever sees the task; listed on the task page.
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let doc = clerk.get(&format!("/orders/{order_id}")).await;
    assert_eq!(doc.status, 200);
    doc.assert_has(made["title"].as_str().unwrap());
    doc.assert_has("逾期天数");
    assert!(!doc.body.contains("<nav"), "no console navigation");
    let stranger = Visitor::signed_in(&app, "clerk-c", &password_of("clerk-c")).await;
    assert_eq!(
        stranger.get(&format!("/orders/{order_id}")).await.status,
        404
    );
    let task_page = clerk.get(&format!("/tasks/{id}")).await;
    task_page.assert_has(&format!("/orders/{order_id}"));
    task_page.assert_has("作为督办单回执");

    // A cooperating unit's report is no receipt.
    let coop = expect_problem(
        report(
            &app,
            &c.clerk_b,
            id,
            json!({ "percent": 20, "body": "配合中", "order_id": order_id }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&coop), ["order_id"]);
    // The lead clerk completes the receipt on the task page's report form.
    let form = Form::new()
        .text("csrf", task_page.csrf())
        .text("percent", "70")
        .text("body", "已倒排工期，月底前完工")
        .text("order_id", order_id.to_string());
    let reported = clerk
        .post_multipart(&format!("/tasks/{id}/reports"), form)
        .await;
    assert_eq!(reported.status, 303, "{}", reported.body);
    let list = expect_json(app.get(&path(id), &c.office).await, 200).await;
    assert_eq!(list[0]["reply"]["body"], "已倒排工期，月底前完工");
    assert_eq!(list[0]["reply"]["percent"], 70);
    assert!(!clerk
        .get(&format!("/tasks/{id}"))
        .await
        .body
        .contains("作为督办单回执"));
    clerk
        .get(&format!("/orders/{order_id}"))
        .await
        .assert_has("已倒排工期，月底前完工");

    // A second receipt is refused and its report not kept.
    expect_problem(
        report(
            &app,
            &c.clerk_a,
            id,
            json!({ "percent": 80, "body": "再次回执", "order_id": order_id }),
        )
        .await,
        409,
        "order_replied",
    )
    .await;
    let reports = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/reports"), &c.office)
            .await,
        200,
    )
    .await;
    let reports = reports.as_array().unwrap();
    assert!(reports.iter().all(|r| r["body"] != "再次回执"));
    assert_eq!(
        reports.iter().filter(|r| r["order_id"] == order_id).count(),
        1
    );
}

/// The notices serving or chasing an order on `task` (its 督办 email when
/// issued, then its receipt's chase): (subject, recipients).
async fn receipt_notices(app: &TestApp, c: &City, task: i64) -> Vec<(String, Vec<String>)> {
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
            let subject = n["subject"].as_str().unwrap();
            n["channel"] == "email"
                && (subject.contains("督办单回执") || subject.starts_with("【督办通知】"))
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

async fn a_receipt_not_in_by_its_date_climbs_the_ladder(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "3.8", 60).await;
    let id = task["id"].as_i64().unwrap();
    let made = expect_json(
        order(
            &app,
            &c.office,
            id,
            json!({ "requirement": "请报送整改清单", "reply_by": local_day(0) }),
        )
        .await,
        201,
    )
    .await;
    let out = Outbox::new(&app, &smtp.url());
    let today: NaiveDate = local_day(0).parse().unwrap();

    // On the date itself nothing is late: only the order's own 督办 email.
    out.scan(today);
    let served = receipt_notices(&app, &c, id).await;
    assert_eq!(served.len(), 1, "{served:?}");
    assert!(served[0].0.starts_with("【督办通知】3.8"), "{served:?}");
    // The day after: a chase notice to the lead unit, once.
    out.scan(today + Duration::days(1));
    out.scan(today + Duration::days(1));
    let chased = receipt_notices(&app, &c, id).await;
    assert_eq!(chased.len(), 2, "{chased:?}");
    let chase = chased
        .iter()
        .find(|n| n.0.starts_with("【督办单回执催办通知】3.8"))
        .unwrap_or_else(|| panic!("{chased:?}"));
    assert_eq!(chase.1, ["t01@example.gov.cn"]);
    // Still not in a week later: up to the unit head, the leader and the office.
    out.scan(today + Duration::days(7));
    let climbed = receipt_notices(&app, &c, id).await;
    assert_eq!(climbed.len(), 3, "{climbed:?}");
    let up: Vec<_> = climbed
        .iter()
        .filter(|n| n.0.starts_with("【督办通知】"))
        .collect();
    assert_eq!(up.len(), 2, "{climbed:?}");
    for who in [
        "head-t01@example.gov.cn",
        "leader@example.gov.cn",
        "office@example.gov.cn",
    ] {
        assert!(up.iter().all(|n| n.1.contains(&who.to_string())), "{up:?}");
    }
    // That step issues no second order.
    let orders = expect_json(app.get(&path(id), &c.office).await, 200).await;
    assert_eq!(orders.as_array().unwrap().len(), 1);
    let counts = out.deliver();
    assert!(counts.sent >= 3, "{counts:?}");

    // Answered, it climbs no further.
    expect_json(
        report(
            &app,
            &c.clerk_a,
            id,
            json!({ "percent": 30, "body": "整改清单已报送", "order_id": made["id"] }),
        )
        .await,
        201,
    )
    .await;
    out.scan(today + Duration::days(16));
    assert_eq!(receipt_notices(&app, &c, id).await.len(), 3);
    let listed = expect_json(app.get(&path(id), &c.office).await, 200).await;
    assert_eq!(listed[0]["reply"]["body"], "整改清单已报送");
}

/// The value of the order form's reply-by date on a task page.
fn form_reply_by(body: &str) -> String {
    let field = r#"id="order-reply-by" name="reply_by" type="date" value=""#;
    let at = body.find(field).expect("the order form's date") + field.len();
    body[at..at + 10].to_string()
}

async fn the_office_issues_an_order_on_the_task_page(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let id = c.in_progress(&app, "3.8", 30).await["id"].as_i64().unwrap();
    let action = format!(r#"action="/tasks/{id}/orders""#);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;

    // The form, prefilled with the ladder's wording and the default date.
    let page = office.get(&format!("/tasks/{id}")).await;
    assert_eq!(page.status, 200);
    page.assert_has(&action);
    page.assert_has("签发督办单");
    page.assert_has("请你单位主要负责同志亲自研究部署");
    let reply_by: NaiveDate = form_reply_by(&page.body).parse().unwrap();
    let today: NaiveDate = local_day(0).parse().unwrap();
    assert!(
        reply_by >= today + Duration::days(5) && reply_by <= today + Duration::days(9),
        "{reply_by}"
    );

    // Faults are told at their fields, what was typed kept; nothing issued.
    let yesterday = local_day(-1);
    let bad = office
        .post(
            &format!("/tasks/{id}/orders"),
            &[
                ("csrf", &page.csrf()),
                ("requirement", "   "),
                ("reply_by", &yesterday),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.assert_has(r#"id="requirement-error""#);
    bad.assert_has(r#"id="reply_by-error""#);
    bad.assert_has("回执期限不能早于今天");
    assert_eq!(form_reply_by(&bad.body), yesterday);
    assert_eq!(
        expect_json(app.get(&path(id), &c.office).await, 200).await,
        json!([])
    );
    // Without the form's token: refused.
    let forged = office
        .post(
            &format!("/tasks/{id}/orders"),
            &[("requirement", "伪造"), ("reply_by", "")],
        )
        .await;
    assert_ne!(forged.status, 303);

    // Issued: back to the task page, which says so and lists it.
    let done = office
        .post(
            &format!("/tasks/{id}/orders"),
            &[
                ("csrf", &page.csrf()),
                ("requirement", "请于三日内报送整改方案"),
                ("reply_by", &local_day(3)),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("/tasks/{id}?done=order"));
    let shown = office.get(done.location()).await;
    shown.assert_has("督办单已签发");
    let list = expect_json(app.get(&path(id), &c.office).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["title"], title(1));
    assert_eq!(list[0]["requirement"], "请于三日内报送整改方案");
    assert_eq!(list[0]["reply_by"], local_day(3));
    assert!(list[0]["created_by"].is_i64());
    shown.assert_has(&format!("/orders/{}", list[0]["id"]));

    // The lead clerk and the leader see the order, not the form; nor does
    // the office on a task not open.
    for who in ["clerk-a", "leader"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        let page = v.get(&format!("/tasks/{id}")).await;
        page.assert_has(&title(1));
        assert!(!page.body.contains(&action), "{who}");
        let refused = v
            .post(
                &format!("/tasks/{id}/orders"),
                &[("csrf", &page.csrf()), ("requirement", "越权督办")],
            )
            .await;
        assert_eq!(refused.status, 403, "{who}");
    }
    let draft = c.task(&app, "3.9", 30, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let page = office.get(&format!("/tasks/{draft}")).await;
    assert!(!page
        .body
        .contains(&format!(r#"action="/tasks/{draft}/orders""#)));
    let list = expect_json(app.get(&path(id), &c.office).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "nothing more issued");
}

async fn an_order_issued_by_hand_sends_the_supervision_email_with_it(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "3.10", 10).await;
    let id = task["id"].as_i64().unwrap();
    let out = Outbox::new(&app, &smtp.url());
    out.deliver();
    let before = smtp.received().len();

    // One order from the API, one from the task page: each its own email.
    let by_api = expect_json(
        order(
            &app,
            &c.office,
            id,
            json!({ "requirement": "请于三日内报送整改方案" }),
        )
        .await,
        201,
    )
    .await;
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office.get(&format!("/tasks/{id}")).await;
    let by_form = office
        .post(
            &format!("/tasks/{id}/orders"),
            &[
                ("csrf", &page.csrf()),
                ("requirement", "请主要负责同志专题研究"),
                ("reply_by", &local_day(4)),
            ],
        )
        .await;
    assert_eq!(by_form.status, 303, "{}", by_form.body);
    let list = expect_json(app.get(&path(id), &c.office).await, 200).await;
    let by_form = list[0].clone();
    assert_eq!(by_form["requirement"], "请主要负责同志专题研究");

    // The task is then submitted: the orders' emails still go (they serve
    // the orders), and a scan writes no second one.
    c.ok(&app, &c.clerk_a, &task, "submit", Some("已办结"))
        .await;
    let today: NaiveDate = local_day(0).parse().unwrap();
    out.scan(today);
    out.deliver();
    out.deliver();
    let mail: Vec<_> = smtp.received().into_iter().skip(before).collect();
    let supervision: Vec<_> = mail
        .iter()
        .filter(|m| m.subject().starts_with("【督办通知】3.10"))
        .collect();
    assert_eq!(
        supervision.len(),
        2,
        "{:?}",
        mail.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    for made in [&by_api, &by_form] {
        let number = made["title"].as_str().unwrap();
        let sent = supervision
            .iter()
            .find(|m| m.text().contains(&format!("督办单：{number}")))
            .unwrap_or_else(|| panic!("no email for {number}"));
        // To the lead unit's head, copied to the leader and the office.
        let mut to = sent.to.clone();
        to.sort();
        assert_eq!(
            to,
            [
                "head-t01@example.gov.cn",
                "leader@example.gov.cn",
                "office@example.gov.cn"
            ]
        );
        // Not yet late: the order is served, no days overdue claimed.
        let text = sent.text();
        assert!(text.contains("现对以下任务予以督办"), "{text}");
        assert!(!text.contains("逾期天数"), "{text}");
        let reply_by = made["reply_by"].as_str().unwrap();
        assert!(text.contains(&format!("回复期限：{reply_by}")), "{text}");
        let doc = attached_order(sent).expect("the order is attached");
        assert!(doc.contains("<!DOCTYPE html>"), "{doc}");
        assert!(doc.contains(number), "{doc}");
        assert!(doc.contains(made["requirement"].as_str().unwrap()), "{doc}");
        assert!(doc.contains("城关镇") && doc.contains("张镇长"), "{doc}");
        assert!(
            doc.contains("市生态环境局"),
            "the cooperating unit is copied"
        );
    }
    // The timeline records each email beside the issue.
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/events"), &c.office)
            .await,
        200,
    )
    .await;
    let sent = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "supervision_order")
        .count();
    assert_eq!(sent, 2, "{events}");
}

/// The scan numbers a batch's orders together and proposes its
/// accountability together, and writes each email with its own order's
/// number and its own proposal's link. Four scans at once: each task gets
/// one order, the numbers run 1..n without a gap (a scan that lost the race
/// takes its numbers back), each email names the order it carries, and
/// each last-rung task gets one proposal, linked from one notice.
async fn concurrent_scans_issue_one_order_a_task_numbered_without_gaps(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::notices;
    const TASKS: usize = 6;
    const LAST_RUNG: usize = 3;
    let c = addressed_city(&app).await;
    let mut due = None;
    let mut ids = Vec::new();
    for i in 0..TASKS - LAST_RUNG {
        let task = c.in_progress(&app, &format!("4.{i}"), 10).await;
        due = task["due_date"]
            .as_str()
            .map(|d| d.parse::<NaiveDate>().unwrap());
        ids.push(task["id"].as_i64().unwrap());
    }
    // Eight days earlier: 15 days overdue on the scan's day, the last rung
    // (its notice carries the order the task never had, and proposes).
    for i in 0..LAST_RUNG {
        let task = c.in_progress(&app, &format!("5.{i}"), 2).await;
        ids.push(task["id"].as_i64().unwrap());
    }
    let day = due.unwrap() + Duration::days(7);
    let out = Outbox::new(&app, &crate::smtp::closed_port_url());
    let scans: Vec<_> = (0..4)
        .map(|_| {
            let (pool, settings) = (out.pool.clone(), out.settings.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                duban::notices::scan::scan(
                    &mut conn,
                    &settings,
                    day,
                    chrono::Utc::now().naive_utc(),
                )
                .unwrap()
            })
        })
        .collect();
    for s in scans {
        s.join().unwrap();
    }
    let mut numbers = Vec::new();
    let mut titles = std::collections::HashMap::new();
    for id in &ids {
        let list = expect_json(app.get(&path(*id), &c.office).await, 200).await;
        assert_eq!(
            list.as_array().unwrap().len(),
            1,
            "one order for task {id}: {list}"
        );
        numbers.push(list[0]["number"].as_i64().unwrap());
        titles.insert(
            list[0]["id"].as_i64().unwrap(),
            list[0]["title"].as_str().unwrap().to_string(),
        );
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=TASKS as i64).collect::<Vec<_>>(),
        "no gap, none twice"
    );
    let mut conn = out.pool.get().unwrap();
    let emails: Vec<(Option<i64>, String)> = notices::table
        .filter(notices::supervision_order_id.is_not_null())
        .filter(notices::channel.eq("email"))
        .select((notices::supervision_order_id, notices::body_text))
        .load(&mut conn)
        .unwrap();
    assert_eq!(emails.len(), TASKS, "one 督办 email a task");
    for (order, text) in emails {
        let title = &titles[&order.unwrap()];
        assert!(
            text.contains(&format!("督办单：{title}")),
            "{title} in:\n{text}"
        );
    }
    // The last rung: one proposal a task, whichever scan wrote it, each
    // linked from its own notice.
    let proposed = expect_json(
        app.get("/api/v1/accountability?status=proposed", &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(proposed["total"], LAST_RUNG, "{proposed}");
    for record in proposed["items"].as_array().unwrap() {
        let link = format!("/accountability/{}", record["id"]);
        let linking: i64 = notices::table
            .filter(notices::body_text.like(format!("%{link}%")))
            .filter(notices::channel.eq("email"))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(linking, 1, "one notice links to {link}");
    }
}
