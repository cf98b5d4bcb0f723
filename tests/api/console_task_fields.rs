//! The task forms' co-responsible leaders (several names with the leaders'
//! suggestions, resolved on the server; unknown and ambiguous names told at
//! the field) and report cadence (月/季/半年). Both backends, no browser.

use serde_json::{json, Value};

use crate::city;
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, TestApp};

crate::api_tests![the_task_forms_name_co_leaders_and_set_the_report_cadence];

async fn leader(app: &TestApp, admin: &str, username: &str, name: &str) -> i64 {
    let user = expect_json(
        app.post(
            "/api/v1/users",
            admin,
            json!({ "username": username, "display_name": name, "role": "leader",
                    "password": password_of(username) }),
        )
        .await,
        201,
    )
    .await;
    user["id"].as_i64().unwrap()
}

async fn the_task_forms_name_co_leaders_and_set_the_report_cadence(app: TestApp) {
    let c = city::build(&app).await;
    let zhang = leader(&app, &c.admin, "zhang-fsz", "张副市长").await;
    let li = leader(&app, &c.admin, "li-fsz", "李副市长").await;
    // Two leaders share a display name: only the username tells them apart.
    leader(&app, &c.admin, "wang-a", "王副市长").await;
    let wang2 = leader(&app, &c.admin, "wang-b", "王副市长").await;
    settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let form = office
        .get(&format!("/tasks/new?plan_id={}", c.plan_id))
        .await;
    assert_eq!(form.status, 200);
    form.assert_has("name=\"co_leaders\" list=\"leader-names\"");
    form.assert_has("<option value=\"quarterly\">每季度</option>");
    form.assert_has("<option value=\"monthly\" selected>每月</option>");
    let csrf = form.csrf();
    let plan_id = c.plan_id.to_string();
    let fields = |co: &str, day: &str, cadence: &str| -> Vec<(String, String)> {
        [
            ("csrf", csrf.as_str()),
            ("plan_id", plan_id.as_str()),
            ("code", "5"),
            ("title", "推进秸秆综合利用"),
            ("category", "key_task"),
            ("priority", "normal"),
            ("due_date", "2027-06-30"),
            ("lead_unit", "城关镇"),
            ("leader", "leader"),
            ("co_leaders", co),
            ("report_day", day),
            ("report_cadence", cadence),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let post = |path: String, f: Vec<(String, String)>| {
        let office = &office;
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            office.post(&path, &f).await
        }
    };

    // An unknown and an ambiguous name, each told at the field; a day that
    // is no number at its own; nothing created.
    let refused = post(
        "/tasks/new".into(),
        fields("张副市长、赵副市长、王副市长", "二十五", "quarterly"),
    )
    .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_has("<p id=\"co_leaders-error\" class=\"error\">找不到领导“赵副市长”；有多位领导名为“王副市长”，请填写其用户名</p>");
    refused.assert_has("<p id=\"report_day-error\" class=\"error\">");
    refused.assert_has("value=\"张副市长、赵副市长、王副市长\"");
    refused.assert_has("<option value=\"quarterly\" selected>");
    let listed = expect_json(
        app.get(&format!("/api/v1/tasks?plan_id={}", c.plan_id), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(listed["total"], 0);
    // An unknown cadence is the service's refusal, at the select.
    let refused = post("/tasks/new".into(), fields("", "25", "weekly")).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_has("<p id=\"report_cadence-error\" class=\"error\">");

    // Names and a username resolve, in order; quarterly by the 25th.
    let created = post(
        "/tasks/new".into(),
        fields("张副市长，李副市长、wang-b", "25", "quarterly"),
    )
    .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let id: i64 = created
        .location()
        .trim_start_matches("/tasks/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let task = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(task["co_leader_ids"], json!([zhang, li, wang2]));
    assert_eq!(task["report_cadence"], "quarterly");
    assert_eq!(task["report_day"], 25);
    // The task page names them.
    office
        .get(&format!("/tasks/{id}"))
        .await
        .assert_has("张副市长、李副市长、王副市长");

    // The edit form shows them by name; saving drops one and goes half-yearly.
    let edit = office.get(&format!("/tasks/{id}/edit")).await;
    assert_eq!(edit.status, 200);
    edit.assert_has("value=\"张副市长、李副市长、王副市长\"");
    edit.assert_has("<option value=\"quarterly\" selected>");
    edit.assert_has("name=\"report_day\" value=\"25\"");
    let mut changed = fields("李副市长", "31", "half_yearly");
    changed[0].1 = edit.csrf();
    changed.push(("version".into(), edit.version()));
    let saved = post(format!("/tasks/{id}/edit"), changed).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let task: Value = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(task["co_leader_ids"], json!([li]));
    assert_eq!(task["report_cadence"], "half_yearly");
    assert_eq!(task["report_day"], 31);
    // A co-responsible leader now sees the task.
    let li_visitor = Visitor::signed_in(&app, "li-fsz", &password_of("li-fsz")).await;
    assert_eq!(li_visitor.get(&format!("/tasks/{id}")).await.status, 200);

    // Leaders and clerks get no form and cannot post one.
    for who in ["leader", "clerk-a"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        assert_eq!(v.get(&format!("/tasks/{id}/edit")).await.status, 403);
        let csrf = v.get("/").await.csrf();
        let posted = v
            .post(
                "/tasks/new",
                &[
                    ("csrf", csrf.as_str()),
                    ("plan_id", plan_id.as_str()),
                    ("code", "9"),
                    ("title", "不该创建"),
                    ("lead_unit", "城关镇"),
                    ("co_leaders", "李副市长"),
                    ("report_cadence", "quarterly"),
                ],
            )
            .await;
        assert_eq!(posted.status, 403, "{who}");
    }
}
