//! 关注 (follows) and the work calendar page: leaders and the office follow
//! what they can see (through the API and the task page's button), followed
//! items head their home page, followers get one digest a day of what
//! changed (none when nothing did); the calendar page shows a month of
//! deadlines and makes a working feed address. Both backends, no browser.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Value};

use crate::city::{self, local_day, City};
use crate::console::{password_of, settle_accounts, Page, Visitor};
use crate::helpers::{expect_json, TestApp};
use crate::notices::{addressed_city, Outbox};
use crate::smtp::SmtpServer;

crate::api_tests![
    leaders_and_the_office_follow_only_what_they_see,
    the_task_page_follows_and_the_home_shows_followed_items,
    a_follower_gets_one_digest_a_day_of_what_changed,
    the_calendar_page_shows_a_month_and_makes_a_feed_address,
];

fn id(task: &Value) -> i64 {
    task["id"].as_i64().unwrap()
}

fn today() -> NaiveDate {
    local_day(0).parse().unwrap()
}

async fn put(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(reqwest::Method::PUT, path, Some(token), None)
        .await
}

async fn delete(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.request(reqwest::Method::DELETE, path, Some(token), None)
        .await
}

/// A task with no responsible leader: out of the leader's sight.
async fn unled_task(app: &TestApp, c: &City, code: &str) -> Value {
    c.task(app, code, 20, json!({ "responsible_leader_id": null }))
        .await
}

async fn leaders_and_the_office_follow_only_what_they_see(app: TestApp) {
    let c = city::build(&app).await;
    let mine = c.in_progress(&app, "1", -3).await; // overdue, the leader's
    let other = unled_task(&app, &c, "2").await;
    let path = format!("/api/v1/follows/tasks/{}", id(&mine));

    // Following is idempotent: the first time creates, the second finds it.
    assert_eq!(put(&app, &path, &c.leader).await.status(), 201);
    let again = expect_json(put(&app, &path, &c.leader).await, 200).await;
    assert_eq!(again["following"], true);
    assert_eq!(again["task_id"], id(&mine));

    // Out of sight is not found; units and viewers may not follow at all.
    let unseen = format!("/api/v1/follows/tasks/{}", id(&other));
    assert_eq!(put(&app, &unseen, &c.leader).await.status(), 404);
    assert_eq!(delete(&app, &unseen, &c.leader).await.status(), 404);
    assert_eq!(
        put(&app, "/api/v1/follows/tasks/99999", &c.leader)
            .await
            .status(),
        404
    );
    assert_eq!(put(&app, &path, &c.clerk_a).await.status(), 403);
    assert_eq!(put(&app, &path, &c.viewer).await.status(), 403);
    assert_eq!(app.get("/api/v1/follows", &c.clerk_a).await.status(), 403);
    // The office sees every task.
    assert_eq!(put(&app, &unseen, &c.office).await.status(), 201);

    let unit = format!("/api/v1/follows/units/{}", c.unit_a);
    assert_eq!(put(&app, &unit, &c.leader).await.status(), 201);
    assert_eq!(put(&app, &unit, &c.leader).await.status(), 200);
    assert_eq!(
        put(&app, "/api/v1/follows/units/99999", &c.leader)
            .await
            .status(),
        404
    );

    let list = expect_json(app.get("/api/v1/follows", &c.leader).await, 200).await;
    let tasks = list["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{list}");
    assert_eq!(tasks[0]["code"], "1");
    assert_eq!(tasks[0]["status"], "in_progress");
    assert_eq!(tasks[0]["light"], "red");
    assert_eq!(tasks[0]["lead_unit"], "城关镇");
    let units = list["units"].as_array().unwrap();
    assert_eq!(units.len(), 1);
    assert_eq!(units[0]["name"], "城关镇");
    assert_eq!(units[0]["overdue"], 1);
    assert_eq!(units[0]["most_days_overdue"], 3);
    // Each person has their own follows.
    let office = expect_json(app.get("/api/v1/follows", &c.office).await, 200).await;
    assert_eq!(office["tasks"][0]["code"], "2");
    assert_eq!(office["units"].as_array().unwrap().len(), 0);

    // Unfollowing is idempotent too.
    assert_eq!(delete(&app, &path, &c.leader).await.status(), 204);
    assert_eq!(delete(&app, &path, &c.leader).await.status(), 204);
    assert_eq!(delete(&app, &unit, &c.leader).await.status(), 204);
    let list = expect_json(app.get("/api/v1/follows", &c.leader).await, 200).await;
    assert_eq!(list, json!({ "tasks": [], "units": [] }));
}

/// Presses the task page's 关注/取消关注 button.
async fn press_follow(v: &Visitor, task: i64, follow: bool) -> Page {
    let page = v.get(&format!("/tasks/{task}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.csrf();
    let value = if follow { "true" } else { "false" };
    v.post(
        &format!("/tasks/{task}/follow"),
        &[("csrf", &csrf), ("follow", value)],
    )
    .await
}

async fn the_task_page_follows_and_the_home_shows_followed_items(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "3.1", -2).await;
    let other = unled_task(&app, &c, "3.2").await;
    let t = id(&task);

    let leader = Visitor::signed_in(&app, "leader", &password_of("leader")).await;
    let home = leader.get("/").await;
    home.assert_has("我的关注");
    home.assert_has("尚未关注任何任务或单位");

    let page = leader.get(&format!("/tasks/{t}")).await;
    page.assert_has(&format!("action=\"/tasks/{t}/follow\""));
    page.assert_has(">关注</button>");
    // Without the form's token nothing happens.
    let forged = leader
        .post(
            &format!("/tasks/{t}/follow"),
            &[("csrf", "forged"), ("follow", "true")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let api = expect_json(app.get("/api/v1/follows", &c.leader).await, 200).await;
    assert_eq!(api["tasks"].as_array().unwrap().len(), 0);

    let done = press_follow(&leader, t, true).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("/tasks/{t}?done=follow"));
    let page = leader.get(done.location()).await;
    page.assert_has("已关注");
    page.assert_has(">取消关注</button>");
    // The same follow the API lists.
    let api = expect_json(app.get("/api/v1/follows", &c.leader).await, 200).await;
    assert_eq!(api["tasks"][0]["task_id"], t);

    // The home page leads with it, light and status shown; a followed unit
    // shows its overdue tasks.
    let unit = format!("/api/v1/follows/units/{}", c.unit_a);
    assert_eq!(put(&app, &unit, &c.leader).await.status(), 201);
    let home = leader.get("/").await;
    let followed = home.body.find("我的关注").unwrap();
    assert!(
        followed < home.body.find("红灯任务").unwrap(),
        "followed items come first"
    );
    home.assert_has("任务 3.1");
    home.assert_has("light-red");
    home.assert_has("办理中");
    home.assert_has("城关镇");
    home.assert_has(&format!(
        "href=\"/tasks?overdue=true&amp;lead_unit_id={}\">1</a>",
        c.unit_a
    ));
    // 取消关注 of the unit on the home page.
    let csrf = home.csrf();
    let res = leader
        .post(
            &format!("/units/{}/follow", c.unit_a),
            &[("csrf", &csrf), ("follow", "false")],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/");

    // A task out of sight: the button's post answers 404, nothing followed.
    let csrf = leader.get("/").await.csrf();
    let refused = leader
        .post(
            &format!("/tasks/{}/follow", id(&other)),
            &[("csrf", &csrf), ("follow", "true")],
        )
        .await;
    assert_eq!(refused.status, 404);

    // A clerk has no button and may not follow.
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let page = clerk.get(&format!("/tasks/{t}")).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("/follow"),
        "no follow button for a clerk"
    );
    assert!(!clerk.get("/").await.body.contains("我的关注"));
    let csrf = page.csrf();
    let refused = clerk
        .post(
            &format!("/tasks/{t}/follow"),
            &[("csrf", &csrf), ("follow", "true")],
        )
        .await;
    assert_eq!(refused.status, 403);

    // The office follows from the same button; unfollowing empties the home.
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    assert_eq!(press_follow(&office, id(&other), true).await.status, 303);
    office.get("/").await.assert_has("任务 3.2");
    let done = press_follow(&leader, t, false).await;
    assert_eq!(done.location(), format!("/tasks/{t}?done=unfollow"));
    leader.get("/").await.assert_has("尚未关注任何任务或单位");
}

/// How many follower digests the outbox holds.
async fn follow_digests(app: &TestApp, c: &City) -> i64 {
    let list = expect_json(
        app.get("/api/v1/notices?step=follow_digest", &c.office)
            .await,
        200,
    )
    .await;
    list["total"].as_i64().unwrap()
}

async fn a_follower_gets_one_digest_a_day_of_what_changed(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "5", 30).await;
    let quiet = c.in_progress(&app, "6", 30).await;
    // The leader follows task 5; a second office account with an address
    // follows unit A, which leads both.
    let path = format!("/api/v1/follows/tasks/{}", id(&task));
    assert_eq!(put(&app, &path, &c.leader).await.status(), 201);
    let (office2, office2_token) = app.create_user(&c.admin, "office-2", "office", None).await;
    let res = app
        .patch(
            &format!("/api/v1/users/{}", office2["id"]),
            &c.admin,
            json!({ "version": office2["version"], "email": "office2@example.gov.cn" }),
        )
        .await;
    expect_json(res, 200).await;
    let unit = format!("/api/v1/follows/units/{}", c.unit_a);
    assert_eq!(put(&app, &unit, &office2_token).await.status(), 201);

    let report = app
        .post(
            &format!("/api/v1/tasks/{}/reports", id(&task)),
            &c.clerk_a,
            json!({ "percent": 40, "body": "完成管网改造一期" }),
        )
        .await;
    assert_eq!(report.status(), 201);

    let out = Outbox::new(&app, &smtp.url());
    out.scan(today());
    assert_eq!(follow_digests(&app, &c).await, 2, "one for each follower");
    out.scan(today());
    assert_eq!(follow_digests(&app, &c).await, 2, "one digest a day");
    out.deliver();
    let got = smtp.received();
    let to_leader = got
        .iter()
        .find(|m| m.to == ["leader@example.gov.cn"])
        .expect("the leader's digest");
    assert!(
        to_leader.subject().contains("关注日报"),
        "{}",
        to_leader.subject()
    );
    let text = to_leader.text();
    assert!(
        text.contains("任务 5") && text.contains("报告进展"),
        "{text}"
    );
    assert!(text.contains("完成管网改造一期"), "{text}");
    assert!(
        !text.contains("任务 6"),
        "the leader follows task 5 only: {text}"
    );
    assert!(text.contains(&format!("/tasks/{}", id(&task))), "{text}");
    // The unit's follower hears of both tasks it leads (both were assigned
    // and signed for today).
    let to_office = got
        .iter()
        .find(|m| m.to == ["office2@example.gov.cn"])
        .expect("the unit follower's digest");
    let text = to_office.text();
    assert!(text.contains("任务 5") && text.contains("任务 6"), "{text}");
    assert!(text.contains("签收"), "{text}");
    let _ = quiet;

    // Two days later nothing changed in the last day: no digest.
    let later = chrono::Utc::now().naive_utc() + Duration::days(2);
    let mut conn = out.pool.get().unwrap();
    duban::notices::scan::scan(&mut conn, &out.settings, today() + Duration::days(2), later)
        .unwrap();
    assert_eq!(
        follow_digests(&app, &c).await,
        2,
        "nothing changed, nothing sent"
    );
}

/// The value of the page's feed address field, unescaped.
fn feed_url(page: &Page) -> String {
    let at = page
        .body
        .find("id=\"feed-url\" type=\"text\" readonly value=\"")
        .expect("the feed address")
        + "id=\"feed-url\" type=\"text\" readonly value=\"".len();
    page.body[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

async fn the_calendar_page_shows_a_month_and_makes_a_feed_address(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.task(&app, "7", 40, json!({})).await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    let due: NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    let month = due.format("%Y-%m").to_string();

    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    clerk.get("/").await.assert_has("href=\"/calendar\"");
    let page = clerk.get(&format!("/calendar?month={month}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has(&format!("工作行事历 {month}"));
    // The deadline sits in its day's cell.
    let cell = page
        .body
        .find(&format!("data-date=\"{due}\""))
        .expect("the due day's cell");
    let end = page.body[cell..].find("</td>").unwrap() + cell;
    assert!(
        page.body[cell..end].contains("任务 7"),
        "{}",
        &page.body[cell..end]
    );
    page.assert_has(&format!("href=\"/tasks/{}\"", id(&task)));
    // Previous and next months.
    let prev = (due.with_day0(0).unwrap() - Duration::days(1))
        .format("%Y-%m")
        .to_string();
    page.assert_has(&format!("href=\"/calendar?month={prev}\""));
    // Not in this month (40 days away is always another month).
    let now = clerk.get("/calendar").await;
    assert_eq!(now.status, 200);
    assert!(!now.body.contains("任务 7"));
    // A foreign unit's clerk does not see it.
    let foreign = Visitor::signed_in(&app, "clerk-c", &password_of("clerk-c")).await;
    let theirs = foreign.get(&format!("/calendar?month={month}")).await;
    assert!(!theirs.body.contains("任务 7"));
    assert_eq!(clerk.get("/calendar?month=2026-13").await.status, 422);

    // The feed button: the address is shown once and works in a calendar app.
    let csrf = page.csrf();
    let made = clerk
        .post("/calendar/feed", &[("csrf", &csrf), ("month", &month)])
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    made.assert_has("订阅地址已生成");
    let url = feed_url(&made);
    assert!(url.ends_with(".ics"), "{url}");
    // Without a public URL the address names the configured listen address
    // (port 0 in tests): fetch its path from the running server.
    let path = url
        .split_once("/api/v1/")
        .map(|(_, p)| format!("/api/v1/{p}"))
        .unwrap();
    let ics = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(ics.status(), 200);
    assert!(ics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let body = ics.text().await.unwrap();
    assert!(
        body.contains("BEGIN:VCALENDAR") && body.contains("任务 7"),
        "{body}"
    );
    // The same feed the API lists.
    let feeds = expect_json(app.get("/api/v1/calendar/feeds", &c.clerk_a).await, 200).await;
    assert_eq!(feeds.as_array().unwrap().len(), 1);
    let forged = clerk
        .post("/calendar/feed", &[("csrf", "forged"), ("month", &month)])
        .await;
    assert_eq!(forged.status, 403);
}
