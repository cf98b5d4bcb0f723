//! The console's plans and task tree: the office sees the tree with each
//! parent's rolled-up light and bulk-assigns from the form; a clerk sees its
//! own tasks only and no bulk steps.

use serde_json::json;

use crate::city;
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, TestApp};

crate::api_tests![
    the_office_sees_the_tree_with_rolled_up_lights_and_bulk_assigns_from_the_form,
    a_clerk_sees_its_own_tasks_and_cannot_bulk_assign,
];

/// The part of the page from the node with `code` to the next node.
fn node<'a>(body: &'a str, code: &str) -> &'a str {
    let at = body
        .find(&format!("data-code=\"{code}\""))
        .unwrap_or_else(|| panic!("node {code} in {body}"));
    let rest = &body[at + 1..];
    let end = rest.find("data-code=").unwrap_or(rest.len());
    &rest[..end]
}

async fn status_of(app: &TestApp, c: &city::City, id: i64) -> String {
    let t = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    t["status"].as_str().unwrap().to_string()
}

async fn the_office_sees_the_tree_with_rolled_up_lights_and_bulk_assigns_from_the_form(
    app: TestApp,
) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    // 1 on track, its 1.1 overdue (red), 1.1.1 a draft; 2 and 2.1 drafts.
    let one = c.task(&app, "1", 30, json!({})).await;
    c.ok(&app, &c.office, &one, "assign", None).await;
    let late = c.task(&app, "1.1", -3, json!({})).await;
    c.ok(&app, &c.office, &late, "assign", None).await;
    c.task(&app, "1.1.1", 30, json!({})).await;
    let two = c.task(&app, "2", 30, json!({})).await;
    let two_one = c.task(&app, "2.1", 30, json!({})).await;
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;

    let plans = office.get("/plans").await;
    assert_eq!(plans.status, 200);
    plans.assert_has("创建国家生态文明建设示范市实施方案");
    let path = format!("/plans/{}", c.plan_id);
    let tree = office.get(&path).await;
    assert_eq!(tree.status, 200, "{}", tree.body);
    tree.assert_has("共 5 项任务");
    // 1 is green itself, red with its subtree; 1.1.1 nests under 1.1.
    let n1 = node(&tree.body, "1");
    assert!(n1.contains("light-green"), "{n1}");
    assert!(n1.contains("data-light=\"red\""), "{n1}");
    assert!(n1.contains("城关镇"), "the lead unit by name: {n1}");
    assert!(node(&tree.body, "1.1").contains("data-light=\"red\""));
    assert!(node(&tree.body, "2").contains("data-light=\"none\""));
    let order: Vec<usize> = ["\"1\"", "\"1.1\"", "\"1.1.1\"", "\"2\"", "\"2.1\""]
        .iter()
        .map(|c| tree.body.find(&format!("data-code={c}")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "code order");
    assert!(
        tree.body
            .contains("light-count-red\"><span class=\"light light-red\">红灯</span> 1"),
        "{}",
        tree.body
    );
    assert!(
        tree.body.contains("light-count-none\">未亮灯 3"),
        "{}",
        tree.body
    );
    tree.assert_has("批量交办");

    // Bulk-assign 2 and 2.1 from the form.
    let csrf = tree.csrf();
    let pick = |t: &serde_json::Value| format!("{}:{}", t["id"], t["version"]);
    let (p2, p21) = (pick(&two), pick(&two_one));
    let form = [
        ("csrf", csrf.as_str()),
        ("task", p2.as_str()),
        ("task", p21.as_str()),
        ("note", ""),
        ("action", "assign"),
    ];
    let done = office.post(&format!("{path}/bulk"), &form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=assign&n=2"));
    office
        .get(done.location())
        .await
        .assert_has("已交办 2 项任务");
    for t in [&two, &two_one] {
        assert_eq!(
            status_of(&app, &c, t["id"].as_i64().unwrap()).await,
            "assigned"
        );
    }

    // The same form again: the versions are stale, the page says which task
    // stopped it and that nothing changed.
    let again = office.post(&format!("{path}/bulk"), &form).await;
    assert_eq!(again.status, 409, "{}", again.body);
    again.assert_has("未作任何更改");
    again.assert_has("（任务 2）");

    // Cancelling needs a reason, said on the page.
    let cancel = [
        ("csrf", csrf.as_str()),
        ("task", p2.as_str()),
        ("note", ""),
        ("action", "cancel"),
    ];
    let refused = office.post(&format!("{path}/bulk"), &cancel).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_has("须说明理由");
}

async fn a_clerk_sees_its_own_tasks_and_cannot_bulk_assign(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let mine = c.task(&app, "1", 30, json!({})).await;
    c.task(
        &app,
        "2",
        30,
        json!({ "title": "东城镇的任务", "lead_unit_id": c.unit_c, "cooperating_unit_ids": [] }),
    )
    .await;
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let path = format!("/plans/{}", c.plan_id);
    let tree = clerk.get(&path).await;
    assert_eq!(tree.status, 200, "{}", tree.body);
    tree.assert_has("任务 1");
    assert!(!tree.body.contains("东城镇的任务"), "{}", tree.body);
    assert!(!tree.body.contains("批量交办"), "{}", tree.body);
    assert!(!tree.body.contains("name=\"task\""), "{}", tree.body);
    // The form posted anyway is refused, and nothing changes.
    let home = clerk.get("/").await;
    let csrf = home.csrf();
    let pick = format!("{}:1", mine["id"]);
    let refused = clerk
        .post(
            &format!("{path}/bulk"),
            &[
                ("csrf", csrf.as_str()),
                ("task", pick.as_str()),
                ("action", "assign"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        status_of(&app, &c, mine["id"].as_i64().unwrap()).await,
        "draft"
    );
}
