//! Races decided by the database: many parallel requests carrying the same
//! version (or deciding the same pending thing) have exactly one winner, one
//! audit entry and one timeline event; the losers get 409, never 500 and
//! never a second success.

use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, local_day, City};
use crate::helpers::{expect_json, TestApp};

api_tests![
    fifty_edits_of_one_task_version_have_one_winner with many_connections,
    parallel_life_cycle_actions_decide_once with many_connections,
    an_extension_is_approved_or_rejected_once with many_connections,
    plans_units_users_and_indicators_keep_one_winner_per_version with many_connections,
    parallel_drafts_of_one_period_all_name_the_same_bulletin with many_connections,
    a_bulletin_is_edited_once_per_version_and_published_once with many_connections,
    a_value_and_a_proposal_are_decided_once with many_connections,
    two_admins_demoting_each_other_leave_one_admin with many_connections,
    setting_one_holiday_in_parallel_keeps_one_entry with many_connections,
    reports_racing_the_verification_land_before_it_or_not_at_all with many_connections,
];

/// Enough pooled connections that the racing requests overlap in the database.
fn many_connections(settings: &mut duban::config::Settings) {
    settings.db_pool_size = 16;
}

/// One request of a race: the method, the path, the token and the body.
struct Shot {
    method: reqwest::Method,
    path: String,
    token: String,
    body: Value,
}

impl Shot {
    fn post(path: impl Into<String>, token: &str, body: Value) -> Shot {
        Shot {
            method: reqwest::Method::POST,
            path: path.into(),
            token: token.to_string(),
            body,
        }
    }

    fn patch(path: impl Into<String>, token: &str, body: Value) -> Shot {
        Shot {
            method: reqwest::Method::PATCH,
            path: path.into(),
            token: token.to_string(),
            body,
        }
    }
}

/// Fires every shot at once; returns each answer's status and body, in order.
async fn race(app: &TestApp, shots: Vec<Shot>) -> Vec<(u16, Value)> {
    let sent = shots.into_iter().map(|s| async move {
        let res = app
            .request(s.method, &s.path, Some(&s.token), Some(s.body))
            .await;
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    });
    join_all(sent).await
}

/// Exactly one 200 (or `ok`), every other answer a 409 with one of `codes`;
/// returns the index of the winner.
fn one_winner(answers: &[(u16, Value)], ok: u16, codes: &[&str]) -> usize {
    let winners: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, (s, _))| *s == ok)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != ok) {
        assert_eq!(*status, 409, "a loser gets 409: {body}");
        let code = body["code"].as_str().unwrap_or_default();
        assert!(codes.contains(&code), "loser's code {code} in {codes:?}");
    }
    winners[0]
}

async fn audit_count(app: &TestApp, c: &City, entity: &str, id: i64, action: &str) -> usize {
    let page = expect_json(
        app.get(
            &format!("/api/v1/audit?entity={entity}&entity_id={id}&per_page=200"),
            &c.admin,
        )
        .await,
        200,
    )
    .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .count()
}

async fn event_kinds(app: &TestApp, c: &City, task: i64) -> Vec<String> {
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{task}/events"), &c.office)
            .await,
        200,
    )
    .await;
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn fifty_edits_of_one_task_version_have_one_winner(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.task(&app, "1", 30, json!({})).await;
    let path = format!("/api/v1/tasks/{}", id(&task));
    let shots = (0..50)
        .map(|i| {
            Shot::patch(
                &path,
                &c.office,
                json!({ "version": 1, "title": format!("标题{i}") }),
            )
        })
        .collect();
    let answers = race(&app, shots).await;
    let winner = one_winner(&answers, 200, &["version_conflict"]);
    for (status, body) in &answers {
        if *status == 409 {
            assert_eq!(body["current_version"], 2, "{body}");
        }
    }
    let now = expect_json(app.get(&path, &c.office).await, 200).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["title"], format!("标题{winner}"));
    assert_eq!(audit_count(&app, &c, "task", id(&task), "update").await, 1);
    assert_eq!(count(&event_kinds(&app, &c, id(&task)).await, "updated"), 1);
}

async fn parallel_life_cycle_actions_decide_once(app: TestApp) {
    let c = city::build(&app).await;
    // Signing for a task: thirty clerks' clicks, one signature.
    let task = c.task(&app, "1", 30, json!({})).await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    let path = |action: &str| format!("/api/v1/tasks/{}/{action}", id(&task));
    let shots = (0..30)
        .map(|_| Shot::post(path("accept"), &c.clerk_a, json!({ "version": 2 })))
        .collect();
    one_winner(
        &race(&app, shots).await,
        200,
        &["version_conflict", "invalid_transition"],
    );
    // A submission verified and returned at once: one of them wins.
    c.ok(&app, &c.clerk_a, &task, "submit", Some("已完成"))
        .await;
    let shots = (0..20)
        .map(|i| {
            let (action, note) = if i % 2 == 0 {
                ("verify", None)
            } else {
                ("return", Some("材料不全"))
            };
            Shot::post(
                path(action),
                &c.office,
                json!({ "version": 4, "note": note }),
            )
        })
        .collect();
    let answers = race(&app, shots).await;
    let winner = one_winner(&answers, 200, &["version_conflict", "invalid_transition"]);
    let kinds = event_kinds(&app, &c, id(&task)).await;
    assert_eq!(count(&kinds, "accepted"), 1, "{kinds:?}");
    assert_eq!(
        count(&kinds, "verified") + count(&kinds, "returned"),
        1,
        "{kinds:?}"
    );
    let expected = if winner.is_multiple_of(2) {
        "completed"
    } else {
        "in_progress"
    };
    assert_eq!(answers[winner].1["status"], expected);
    assert_eq!(audit_count(&app, &c, "task", id(&task), "accept").await, 1);
}

async fn an_extension_is_approved_or_rejected_once(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 5).await;
    let ext = expect_json(
        app.post(
            &format!("/api/v1/tasks/{}/extensions", id(&task)),
            &c.clerk_a,
            json!({ "new_due_date": local_day(20), "reason": "汛期施工受阻" }),
        )
        .await,
        201,
    )
    .await;
    let shots = (0..20)
        .map(|i| {
            let action = if i % 2 == 0 { "approve" } else { "reject" };
            Shot::post(
                format!("/api/v1/extensions/{}/{action}", id(&ext)),
                &c.office,
                json!({ "note": "研究决定" }),
            )
        })
        .collect();
    let answers = race(&app, shots).await;
    let winner = one_winner(&answers, 200, &["extension_decided"]);
    let decided = if winner.is_multiple_of(2) {
        "approved"
    } else {
        "rejected"
    };
    assert_eq!(answers[winner].1["status"], decided);
    let kinds = event_kinds(&app, &c, id(&task)).await;
    assert_eq!(
        count(&kinds, "extension_approved") + count(&kinds, "extension_rejected"),
        1,
        "{kinds:?}"
    );
    assert_eq!(count(&kinds, &format!("extension_{decided}")), 1);
    let now = expect_json(
        app.get(&format!("/api/v1/tasks/{}", id(&task)), &c.office)
            .await,
        200,
    )
    .await;
    let due = if decided == "approved" {
        local_day(20)
    } else {
        local_day(5)
    };
    assert_eq!(now["due_date"], due);
}

/// Thirty parallel PATCHes of `path` at version 1: one winner, one audit entry.
async fn thirty_patches(
    app: &TestApp,
    c: &City,
    path: &str,
    token: &str,
    entity: &str,
    change: impl Fn(usize) -> Value,
) {
    let shots = (0..30)
        .map(|i| {
            let mut body = change(i);
            body["version"] = json!(1);
            Shot::patch(path, token, body)
        })
        .collect();
    let answers = race(app, shots).await;
    let winner = one_winner(&answers, 200, &["version_conflict"]);
    assert_eq!(answers[winner].1["version"], 2, "{path}");
    let entity_id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(
        audit_count(app, c, entity, entity_id, "update").await,
        1,
        "{path}"
    );
}

async fn plans_units_users_and_indicators_keep_one_winner_per_version(app: TestApp) {
    let c = city::build(&app).await;
    let plan = format!("/api/v1/plans/{}", c.plan_id);
    thirty_patches(
        &app,
        &c,
        &plan,
        &c.office,
        "plan",
        |i| json!({ "title": format!("方案{i}") }),
    )
    .await;
    let unit = format!("/api/v1/units/{}", c.unit_c);
    thirty_patches(
        &app,
        &c,
        &unit,
        &c.admin,
        "unit",
        |i| json!({ "name": format!("东城镇{i}") }),
    )
    .await;
    let user = format!("/api/v1/users/{}", c.leader_id);
    thirty_patches(
        &app,
        &c,
        &user,
        &c.admin,
        "user",
        |i| json!({ "display_name": format!("领导{i}") }),
    )
    .await;
    let indicator = expect_json(
        app.post(
            "/api/v1/indicators",
            &c.office,
            json!({ "domain": "生态生活", "number": "1", "name": "指标1", "measure_unit": "%",
                    "target": "≥80", "lead_unit_id": c.unit_a, "frequency": "yearly",
                    "report_day": 10, "reporting_from": local_day(-40) }),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/api/v1/indicators/{}", id(&indicator));
    thirty_patches(
        &app,
        &c,
        &path,
        &c.office,
        "indicator",
        |i| json!({ "name": format!("指标名{i}") }),
    )
    .await;
}

async fn parallel_drafts_of_one_period_all_name_the_same_bulletin(app: TestApp) {
    let c = city::build(&app).await;
    let shots = (0..10)
        .map(|_| {
            Shot::post(
                "/api/v1/bulletins",
                &c.office,
                json!({ "period": "2026-10" }),
            )
        })
        .collect();
    let answers = race(&app, shots).await;
    let winner = one_winner(&answers, 201, &["bulletin_exists"]);
    let bulletin = answers[winner].1["id"].as_i64().unwrap();
    for (status, body) in &answers {
        if *status == 409 {
            assert_eq!(
                body["bulletin_id"], bulletin,
                "every loser names the draft: {body}"
            );
        }
    }
    let list = expect_json(app.get("/api/v1/bulletins", &c.office).await, 200).await;
    assert_eq!(list["total"], 1);
}

async fn a_bulletin_is_edited_once_per_version_and_published_once(app: TestApp) {
    let c = city::build(&app).await;
    let draft = expect_json(
        app.post(
            "/api/v1/bulletins",
            &c.office,
            json!({ "period": "2026-10" }),
        )
        .await,
        201,
    )
    .await;
    let path = format!("/api/v1/bulletins/{}", id(&draft));
    let shots = (0..20)
        .map(|i| {
            Shot::patch(
                &path,
                &c.office,
                json!({ "version": draft["version"], "title": format!("通报{i}") }),
            )
        })
        .collect();
    one_winner(&race(&app, shots).await, 200, &["version_conflict"]);
    let shots = (0..10)
        .map(|_| Shot::post(format!("{path}/publish"), &c.office, json!({})))
        .collect();
    let answers = race(&app, shots).await;
    for (status, body) in &answers {
        assert_eq!(
            *status, 200,
            "publishing again answers the published bulletin: {body}"
        );
        assert_eq!(body["number"], 1, "{body}");
    }
    assert_eq!(
        audit_count(&app, &c, "bulletin", id(&draft), "publish").await,
        1
    );
    // A second bulletin gets the next number even when both publish at once.
    let drafts: Vec<i64> = join_all(["2026-09", "2026-08"].map(|p| {
        let office = c.office.clone();
        let app = &app;
        async move {
            id(&expect_json(
                app.post("/api/v1/bulletins", &office, json!({ "period": p }))
                    .await,
                201,
            )
            .await)
        }
    }))
    .await;
    let shots = drafts
        .iter()
        .map(|d| {
            Shot::post(
                format!("/api/v1/bulletins/{d}/publish"),
                &c.office,
                json!({}),
            )
        })
        .collect();
    let mut numbers: Vec<i64> = race(&app, shots)
        .await
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, 200, "{body}");
            body["number"].as_i64().unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, vec![2, 3]);
}

async fn a_value_and_a_proposal_are_decided_once(app: TestApp) {
    let c = city::build(&app).await;
    let indicator = expect_json(
        app.post(
            "/api/v1/indicators",
            &c.office,
            json!({ "domain": "生态生活", "number": "1", "name": "指标1", "measure_unit": "%",
                    "target": "≥80", "lead_unit_id": c.unit_a, "frequency": "yearly",
                    "report_day": 10, "reporting_from": local_day(-40) }),
        )
        .await,
        201,
    )
    .await;
    let year = &local_day(0)[..4];
    let values = format!("/api/v1/indicators/{}/values", id(&indicator));
    let value = expect_json(
        app.post(
            &values,
            &c.clerk_a,
            json!({ "period": year, "value": 85.0 }),
        )
        .await,
        201,
    )
    .await;
    let shots = (0..20)
        .map(|i| {
            let action = if i % 2 == 0 { "verify" } else { "return" };
            Shot::post(
                format!("{values}/{}/{action}", id(&value)),
                &c.office,
                json!({ "note": "核验意见" }),
            )
        })
        .collect();
    one_winner(&race(&app, shots).await, 200, &["value_not_submitted"]);
    assert_eq!(
        audit_count(&app, &c, "indicator_value", id(&value), "verify").await
            + audit_count(&app, &c, "indicator_value", id(&value), "return").await,
        1
    );
    // An accountability proposal from the ladder, confirmed and dismissed at once.
    c.in_progress(&app, "1", -15).await;
    crate::notices::Outbox::new(&app, "smtp://127.0.0.1:9")
        .scan(chrono::NaiveDate::parse_from_str(&local_day(0), "%Y-%m-%d").unwrap());
    let proposed = expect_json(
        app.get("/api/v1/accountability?status=proposed", &c.office)
            .await,
        200,
    )
    .await;
    let record = proposed["items"][0]["id"].as_i64().unwrap();
    let shots = (0..20)
        .map(|i| {
            let action = if i % 2 == 0 { "confirm" } else { "dismiss" };
            Shot::post(
                format!("/api/v1/accountability/{record}/{action}"),
                &c.office,
                json!({ "note": "研究决定" }),
            )
        })
        .collect();
    one_winner(&race(&app, shots).await, 200, &["record_decided"]);
    assert_eq!(
        audit_count(&app, &c, "accountability", record, "confirmed").await
            + audit_count(&app, &c, "accountability", record, "dismissed").await,
        1
    );
}

async fn two_admins_demoting_each_other_leave_one_admin(app: TestApp) {
    let admin = app.admin_token().await;
    let me = expect_json(app.get("/api/v1/me", &admin).await, 200).await;
    let (mut survivor, mut survivor_id) = (admin, id(&me));
    for round in 0..5 {
        let (other, other_token) = app
            .create_user(&survivor, &format!("admin{round}"), "admin", None)
            .await;
        let version_of = |user: i64, token: String| {
            let app = &app;
            async move {
                expect_json(app.get(&format!("/api/v1/users/{user}"), &token).await, 200).await
                    ["version"]
                    .clone()
            }
        };
        let mine = version_of(survivor_id, survivor.clone()).await;
        let theirs = version_of(id(&other), survivor.clone()).await;
        let answers = race(
            &app,
            vec![
                Shot::patch(
                    format!("/api/v1/users/{}", id(&other)),
                    &survivor,
                    json!({ "version": theirs, "active": false }),
                ),
                Shot::patch(
                    format!("/api/v1/users/{survivor_id}"),
                    &other_token,
                    json!({ "version": mine, "active": false }),
                ),
            ],
        )
        .await;
        let wins = answers.iter().filter(|(s, _)| *s == 200).count();
        assert!(wins <= 1, "both admins deactivated: {answers:?}");
        // Whoever can still read their own account is an active admin.
        let mut still = Vec::new();
        for (token, user) in [(survivor.clone(), survivor_id), (other_token, id(&other))] {
            if app.get("/api/v1/me", &token).await.status() == 200 {
                still.push((token, user));
            }
        }
        assert!(!still.is_empty(), "an active admin remains: {answers:?}");
        (survivor, survivor_id) = still.swap_remove(0);
    }
}

async fn setting_one_holiday_in_parallel_keeps_one_entry(app: TestApp) {
    let admin = app.admin_token().await;
    let shots = (0..20)
        .map(|i| Shot {
            method: reqwest::Method::PUT,
            path: "/api/v1/holidays/2026-10-01".into(),
            token: admin.clone(),
            body: json!({ "kind": "holiday", "name": format!("国庆节{i}") }),
        })
        .collect();
    for (status, body) in race(&app, shots).await {
        assert_eq!(status, 200, "{body}");
    }
    let list = expect_json(app.get("/api/v1/holidays?year=2026", &admin).await, 200).await;
    let days = list
        .as_array()
        .or_else(|| list["items"].as_array())
        .unwrap()
        .iter()
        .filter(|d| d["date"] == "2026-10-01")
        .count();
    assert_eq!(days, 1);
}

/// Progress reports sent while the office verifies the task: each one
/// lands before the verification (in the timeline and the report list) or
/// is refused as the task is no longer open; none lands after it.
async fn reports_racing_the_verification_land_before_it_or_not_at_all(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 30).await;
    let submitted = c
        .ok(&app, &c.clerk_a, &task, "submit", Some("已完成"))
        .await;
    let earlier = event_kinds(&app, &c, id(&task)).await.len();
    let reports = format!("/api/v1/tasks/{}/reports", id(&task));
    let mut shots: Vec<Shot> = (0..20)
        .map(|i| {
            Shot::post(
                &reports,
                &c.clerk_a,
                json!({ "percent": 100, "body": format!("补充说明{i}") }),
            )
        })
        .collect();
    const VERIFY: usize = 10;
    shots.insert(
        VERIFY,
        Shot::post(
            format!("/api/v1/tasks/{}/verify", id(&task)),
            &c.office,
            json!({ "version": submitted["version"] }),
        ),
    );
    let answers = race(&app, shots).await;
    assert_eq!(answers[VERIFY].0, 200, "{:?}", answers[VERIFY]);
    let mut landed = 0;
    for (i, (status, body)) in answers.iter().enumerate() {
        match (i, status) {
            (VERIFY, _) => {}
            (_, 201) => landed += 1,
            (_, 409) => assert_eq!(body["code"], "task_not_open", "{body}"),
            _ => panic!("a report answered {status}: {body}"),
        }
    }
    let kinds = event_kinds(&app, &c, id(&task)).await;
    let raced = &kinds[earlier..];
    let verified = raced
        .iter()
        .position(|k| k == "verified")
        .unwrap_or_else(|| panic!("verified: {kinds:?}"));
    assert_eq!(count(&raced[..verified], "reported"), landed, "{kinds:?}");
    assert_eq!(count(&raced[verified..], "reported"), 0, "{kinds:?}");
    let listed = expect_json(app.get(&reports, &c.office).await, 200).await;
    let raced_reports = listed
        .as_array()
        .or_else(|| listed["items"].as_array())
        .unwrap()
        .iter()
        .filter(|r| {
            r["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("补充说明"))
        })
        .count();
    assert_eq!(raced_reports, landed, "{listed}");
}
