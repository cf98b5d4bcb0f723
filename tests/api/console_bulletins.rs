//! The console's 督查通报: the office drafts a bulletin from the form, edits
//! it at the version the page showed (a stale save is told in words),
//! publishes it behind a required confirmation, and a unit clerk is refused.

use serde_json::json;

use crate::city::{self, local_day};
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, TestApp};

crate::api_tests![
    the_office_drafts_edits_and_publishes_a_bulletin_from_the_console,
    a_unit_clerk_cannot_draft_or_see_drafts_in_the_console,
];

async fn the_office_drafts_edits_and_publishes_a_bulletin_from_the_console(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    // An overdue task of 城关镇 in the period, so the unit may be criticised.
    let late = c.task(&app, "1", -3, json!({})).await;
    c.ok(&app, &c.office, &late, "assign", None).await;
    let period = local_day(-3)[..7].to_string();
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;

    let list = office.get("/bulletins").await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.assert_has("href=\"/bulletins\"");
    list.assert_has("起草本期通报");
    let csrf = list.csrf();
    let bad = office
        .post("/bulletins", &[("csrf", csrf.as_str()), ("period", "十月")])
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let drafted = office
        .post(
            "/bulletins",
            &[("csrf", csrf.as_str()), ("period", &period)],
        )
        .await;
    assert_eq!(drafted.status, 303, "{}", drafted.body);
    let path = drafted.location().split('?').next().unwrap().to_string();
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let page = office.get(drafted.location()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has("已起草本期通报");
    page.assert_has(&format!("href=\"{path}/file?format=html\""));
    let version = page.version();

    // Edit the title and 城关镇's requirement at the version shown.
    let requirement = format!("requirement.{}", c.unit_a);
    let saved = office
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("title", "第十一期督查通报（测试）"),
                (requirement.as_str(), "十日内整改完毕并书面报告"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = office.get(saved.location()).await;
    page.assert_has("已保存修改");
    page.assert_has("第十一期督查通报（测试）");
    let preview = office.get(&format!("{path}/file?format=html")).await;
    assert_eq!(preview.status, 200);
    preview.assert_has("第十一期督查通报（测试）");
    let csp = preview.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("style-src 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "no script: {csp}");

    // The same form again: its version is stale, told in words, unsaved.
    let stale = office
        .post(
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("version", version.as_str()),
                ("title", "过时的标题"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.assert_has("此通报已被他人修改");
    assert!(
        !stale.body.contains("value=\"过时的标题\""),
        "{}",
        stale.body
    );

    // Publishing states what it does and needs the box ticked.
    let confirm = office.get(&format!("{path}/publish")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    confirm.assert_has("下一个期号");
    confirm.assert_has("城关镇");
    confirm.assert_has("整改任务");
    confirm.assert_has("问责建议");
    confirm.assert_has("邮件发送给每个单位");
    let unticked = office
        .post(&format!("{path}/publish"), &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(unticked.status, 422, "{}", unticked.body);
    unticked.assert_has("请勾选确认框");
    let api = format!("/api/v1/bulletins/{id}");
    assert_eq!(
        expect_json(app.get(&api, &c.office).await, 200).await["status"],
        "draft"
    );
    let published = office
        .post(
            &format!("{path}/publish"),
            &[("csrf", csrf.as_str()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.body);
    let page = office.get(published.location()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has("通报已发布");
    page.assert_has("年第1期");
    page.assert_has("已发布");
    assert!(!page.body.contains("name=\"version\""), "read-only");
    page.assert_has("十日内整改完毕并书面报告");
    page.assert_has(&format!("href=\"{path}/file?format=xlsx\""));
    let b = expect_json(app.get(&api, &c.office).await, 200).await;
    assert_eq!(b["status"], "published");
    let rectifications = b["snapshot"]["rectifications"].as_array().unwrap();
    assert!(!rectifications.is_empty(), "城关镇 criticised: {b}");
    for r in rectifications {
        assert!(r["task_id"].is_i64(), "a rectification task: {r}");
        page.assert_has(&format!("href=\"/tasks/{}\"", r["task_id"]));
    }
    let xlsx = office.get(&format!("{path}/file?format=xlsx")).await;
    assert_eq!(xlsx.status, 200);
}

async fn a_unit_clerk_cannot_draft_or_see_drafts_in_the_console(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
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
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let home = clerk.get("/").await;
    assert!(!home.body.contains("href=\"/bulletins\""), "{}", home.body);
    let csrf = home.csrf();
    let refused = clerk
        .post(
            "/bulletins",
            &[("csrf", csrf.as_str()), ("period", "2026-09")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let path = format!("/bulletins/{}", draft["id"]);
    assert_eq!(clerk.get(&path).await.status, 404);
    assert_eq!(clerk.get(&format!("{path}/publish")).await.status, 403);
    let publish = clerk
        .post(
            &format!("{path}/publish"),
            &[("csrf", csrf.as_str()), ("confirm", "yes")],
        )
        .await;
    assert_eq!(publish.status, 403, "{}", publish.body);
    let list = clerk.get("/bulletins").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(!list.body.contains("起草本期通报"), "{}", list.body);
    assert!(
        !list.body.contains(&format!("href=\"{path}\"")),
        "{}",
        list.body
    );
}
