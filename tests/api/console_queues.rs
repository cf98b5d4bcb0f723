//! The office's queues in the console: 待审核 oldest submission first with
//! the note and the evidence, approved and returned from the queue's forms;
//! 延期审批 decided inline; 逾期任务 by lead unit, worst first; 投递失败
//! with 重新投递 and the scheduler's state. Clerks, leaders and viewers are
//! refused as the API refuses them. Both backends, no browser.

use serde_json::{json, Value};

use crate::city::{self, local_day, upload, City};
use crate::console::{password_of, settle_accounts, Page, Visitor};
use crate::helpers::{expect_json, TestApp};
use crate::notices::{addressed_city, Outbox};
use crate::smtp::{Mode, SmtpServer};

crate::api_tests![
    the_office_works_its_queues_from_the_console with crate::helpers::ladder_only,
    only_the_office_and_admins_see_the_queues,
];

fn id(task: &Value) -> i64 {
    task["id"].as_i64().unwrap()
}

/// Where each text first appears on the page (panics when one is missing).
fn positions(page: &Page, texts: &[&str]) -> Vec<usize> {
    texts
        .iter()
        .map(|t| {
            page.body
                .find(t)
                .unwrap_or_else(|| panic!("page lacks {t:?}:\n{}", page.body))
        })
        .collect()
}

#[track_caller]
fn assert_in_order(page: &Page, texts: &[&str]) {
    let at = positions(page, texts);
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{texts:?} out of order");
}

/// The `version` the queue's forms carry for `task`.
fn version_of(page: &Page, task: i64) -> String {
    let at = page
        .body
        .find(&format!("action=\"/tasks/{task}/act\""))
        .expect("a form for the task");
    let rest = &page.body[at..];
    let v = rest.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
    rest[v..].split('"').next().unwrap().to_string()
}

/// The id of the first extension the queue offers to decide.
fn first_extension(page: &Page) -> String {
    let at = page
        .body
        .find("action=\"/extensions/")
        .expect("an extension form")
        + "action=\"/extensions/".len();
    page.body[at..].split('/').next().unwrap().to_string()
}

async fn submit(app: &TestApp, c: &City, task: &Value, note: &str) -> Value {
    c.ok(app, &c.clerk_a, task, "submit", Some(note)).await
}

async fn the_office_works_its_queues_from_the_console(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    settle_accounts(&app);

    // 待审核: the second task is made first, the third after it; the third
    // is submitted first, the second (with evidence) after it: the queue
    // lists them by submission, not by id or code.
    let second = c.in_progress(&app, "2", 20).await;
    let third = c.in_progress(&app, "3", 20).await;
    submit(&app, &c, &third, "第三项已完成，请审核").await;
    let res = upload(
        &app,
        &c.clerk_a,
        id(&second),
        "验收报告.pdf",
        "application/pdf",
        b"%PDF-1.4 acceptance".to_vec(),
    )
    .await;
    let file = expect_json(res, 201).await;
    // Submission instants of two tasks are a second apart at least.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    submit(&app, &c, &second, "第二项已完成，附验收报告").await;

    // 延期审批: two requests, the older first.
    let fourth = c.in_progress(&app, "4", 5).await;
    let fifth = c.in_progress(&app, "5", 6).await;
    for (task, date, reason) in [
        (&fifth, local_day(30), "设备到货延迟"),
        (&fourth, local_day(40), "汛期无法施工"),
    ] {
        expect_json(
            app.post(
                &format!("/api/v1/tasks/{}/extensions", id(task)),
                &c.clerk_a,
                json!({ "new_due_date": date, "reason": reason }),
            )
            .await,
            201,
        )
        .await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }

    // 逾期任务: A leads two late tasks (1 and 12 days), B one (3 days).
    c.in_progress(&app, "1", -1).await;
    c.in_progress(&app, "7", -12).await;
    let b_task = c
        .task(
            &app,
            "6",
            -3,
            json!({ "lead_unit_id": c.unit_b, "cooperating_unit_ids": [] }),
        )
        .await;
    c.ok(&app, &c.office, &b_task, "assign", None).await;
    c.ok(&app, &c.clerk_b, &b_task, "accept", None).await;

    // The API lists the same queue in the same order.
    let api = expect_json(
        app.get("/api/v1/tasks?status=submitted&sort=submitted", &c.office)
            .await,
        200,
    )
    .await;
    let codes: Vec<&str> = api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["3", "2"]);

    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let home = office.get("/").await;
    home.assert_has("href=\"/queues/review\">待审核 2<");
    home.assert_has("href=\"/queues/extensions\">延期审批 2<");
    home.assert_has("href=\"/queues/overdue\">逾期任务 3<");
    home.assert_has("href=\"/queues\">待办队列</a>");

    // The review queue: oldest submission first, note and evidence inline.
    let review = office.get("/queues/review").await;
    assert_eq!(review.status, 200, "{}", review.body);
    assert_in_order(
        &review,
        &[
            "3 任务 3",
            "第三项已完成，请审核",
            "2 任务 2",
            "第二项已完成，附验收报告",
        ],
    );
    let href = format!("/tasks/{}/attachments/{}", id(&second), file["id"]);
    review.assert_has(&format!("href=\"{href}\""));
    let download = office.get(&href).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, "%PDF-1.4 acceptance");

    // Approve the third from the queue: back to the queue, which no longer
    // lists it.
    let done = office
        .post(
            &format!("/tasks/{}/act", id(&third)),
            &[
                ("csrf", &review.csrf()),
                ("version", &version_of(&review, id(&third))),
                ("action", "verify"),
                ("back", "/queues/review"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/queues/review?done=verify");
    let after = office.get(done.location()).await;
    after.assert_has("已审核通过");
    assert!(!after.body.contains("任务 3"));
    let verified = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&third)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(verified["status"], "completed");

    // Return the second with a reason; a form from before is stale (409).
    let stale = version_of(&after, id(&second));
    let returned = office
        .post(
            &format!("/tasks/{}/act", id(&second)),
            &[
                ("csrf", &after.csrf()),
                ("version", &stale),
                ("action", "return"),
                ("note", "验收报告缺少签章"),
                ("back", "/queues/review"),
            ],
        )
        .await;
    assert_eq!(returned.location(), "/queues/review?done=return");
    let again = office
        .post(
            &format!("/tasks/{}/act", id(&second)),
            &[
                ("csrf", &after.csrf()),
                ("version", &stale),
                ("action", "verify"),
                ("back", "/queues/review"),
            ],
        )
        .await;
    assert_eq!(again.status, 409);
    let empty = office.get("/queues/review").await;
    empty.assert_has("暂无待办");

    // The extension queue: the older request first, dates and reasons.
    let ext = office.get("/queues/extensions").await;
    assert_eq!(ext.status, 200);
    assert_in_order(
        &ext,
        &[
            "5 任务 5",
            &local_day(6),
            &local_day(30),
            "设备到货延迟",
            "4 任务 4",
            "汛期无法施工",
        ],
    );
    // A `back` that is not a queue is not followed.
    let approved = office
        .post(
            &format!("/extensions/{}/decide", first_extension(&ext)),
            &[
                ("csrf", &ext.csrf()),
                ("task_id", &id(&fifth).to_string()),
                ("decision", "approve"),
                ("note", ""),
                ("back", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(approved.status, 303);
    assert_eq!(
        approved.location(),
        format!("/tasks/{}?done=approve", id(&fifth))
    );
    let moved = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&fifth)), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(moved["due_date"], local_day(30));
    let ext = office.get("/queues/extensions").await;
    assert!(!ext.body.contains("设备到货延迟"));
    let rejected = office
        .post(
            &format!("/extensions/{}/decide", first_extension(&ext)),
            &[
                ("csrf", &ext.csrf()),
                ("task_id", &id(&fourth).to_string()),
                ("decision", "reject"),
                ("note", "汛期前应完成"),
                ("back", "/queues/extensions"),
            ],
        )
        .await;
    assert_eq!(rejected.location(), "/queues/extensions?done=reject");
    office
        .get("/queues/extensions")
        .await
        .assert_has("暂无待办");

    // Overdue by lead unit: A (two) before B (one); A's worst task first.
    let overdue = office.get("/queues/overdue").await;
    assert_eq!(overdue.status, 200);
    assert_in_order(
        &overdue,
        &[
            "城关镇",
            "2 项逾期",
            "最长逾期 12 天",
            "任务 7",
            "任务 1",
            "逾期 1 天",
            "市生态环境局",
            "1 项逾期",
            "最长逾期 3 天",
            "任务 6",
        ],
    );

    // 投递失败: every dead notice, with its reason; 重新投递 from the form.
    let out = Outbox::new(&app, &smtp.url());
    out.scan(local_day(0).parse().unwrap());
    smtp.set_mode(Mode::PermFail);
    assert!(out.deliver().dead >= 1);
    let api = expect_json(app.get("/api/v1/notices?status=dead", &c.office).await, 200).await;
    let queue = office.get("/queues/notices").await;
    assert_eq!(queue.status, 200);
    assert_eq!(
        queue.body.matches("/retry\"").count() as u64,
        api["total"].as_u64().unwrap()
    );
    queue.assert_has("554");
    queue.assert_has("逾期第 1 天催办");
    queue.assert_has("调度状态");
    let notice = api["items"][0]["id"].as_i64().unwrap();
    let recipient = api["items"][0]["recipients"][0].as_str().unwrap();
    let address = recipient.rsplit('<').next().unwrap().trim_end_matches('>');
    queue.assert_has(address);
    let retry = format!("/queues/notices/{notice}/retry");
    let retried = office.post(&retry, &[("csrf", &queue.csrf())]).await;
    assert_eq!(retried.status, 303, "{}", retried.body);
    assert_eq!(retried.location(), "/queues/notices?done=retry");
    office
        .get(retried.location())
        .await
        .assert_has("已重新投递");
    let pending = expect_json(
        app.get("/api/v1/notices?status=pending", &c.office).await,
        200,
    )
    .await;
    assert!(pending["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == notice));
    // The scheduler's state, as an instance leaves it: its lease and a run.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let now = chrono::Utc::now().naive_utc();
    assert!(duban::jobs::try_lease(&mut pool.get().unwrap(), "node-7:4242", 60, now).unwrap());
    duban::jobs::run_once(&pool, "scan", "2026-12-01", "node-7:4242", 60, || Ok(3)).unwrap();
    let state = office.get("/queues/notices").await;
    state.assert_has("<dd>node-7:4242</dd>");
    state.assert_has("<td>scan</td><td>2026-12-01</td><td>node-7:4242</td>");
    // The same form once more: the notice is no longer dead (409, in words).
    let twice = office.post(&retry, &[("csrf", &queue.csrf())]).await;
    assert_eq!(twice.status, 409);
    twice.assert_has("调度状态");
    // Without the token nothing happens.
    let forged = office.post(&retry, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);
}

async fn only_the_office_and_admins_see_the_queues(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "1", 20).await;
    c.ok(&app, &c.clerk_a, &task, "submit", Some("办结")).await;
    app.create_user(&c.admin, "admin2", "admin", None).await;
    settle_accounts(&app);
    for who in ["admin2", "office"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        for path in [
            "/queues",
            "/queues/review",
            "/queues/extensions",
            "/queues/overdue",
            "/queues/notices",
        ] {
            let page = v.get(path).await;
            assert_eq!(page.status, 200, "{who} {path}");
        }
        v.get("/queues/review").await.assert_has("办结");
    }
    for who in ["clerk-a", "leader", "viewer"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        let home = v.get("/").await;
        assert!(!home.body.contains("/queues"), "{who} has no link");
        for path in [
            "/queues",
            "/queues/review",
            "/queues/extensions",
            "/queues/overdue",
            "/queues/notices",
        ] {
            let page = v.get(path).await;
            assert_eq!(page.status, 403, "{who} {path}");
            assert!(!page.body.contains("办结"));
        }
        let refused = v
            .post("/queues/notices/1/retry", &[("csrf", &home.csrf())])
            .await;
        assert_eq!(refused.status, 403, "{who}");
    }
}
