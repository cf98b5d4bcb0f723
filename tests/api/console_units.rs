//! The unit record page (`/units/{id}`): what the office, a leader, the
//! viewer and the unit's own clerk read there (tasks by light, lateness,
//! notices, accountability, standing in the published bulletins), who is
//! refused (another unit's clerk: 404), the 关注 button, and the links to
//! the page from the task page and 我分管的. Both backends, no browser.

use serde_json::Value;

use crate::bulletins::{draft, example, publish};
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::TestApp;

crate::api_tests![
    the_unit_record_page_shows_the_record_to_those_the_api_shows_it,
    the_unit_record_page_follows_the_unit_and_is_linked_where_units_are_named,
    the_assessment_page_grades_units_and_itemises_deductions,
];

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn the_unit_record_page_shows_the_record_to_those_the_api_shows_it(app: TestApp) {
    let e = example(&app).await;
    let b = draft(&app, &e.c.office, "2026-10").await;
    publish(&app, &e.c.office, &b).await;
    settle_accounts(&app);
    let path = format!("/units/{}", e.c.unit_a);

    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has("城关镇");
    page.assert_has("单位履职档案");
    // A4 is open and overdue: red, linked, with its days.
    let a4 = e.tasks["A4"];
    page.assert_has(&format!("<tr id=\"task-{a4}\">"));
    page.assert_has(&format!("href=\"/tasks/{a4}\""));
    page.assert_has("当前逾期 1 项");
    page.assert_has(&format!("<li id=\"overdue-{a4}\">"));
    // A3 was submitted three days late.
    page.assert_has("逾期办结 1 项");
    page.assert_has("晚 3 天");
    // The cards link to the task list of the unit by light.
    page.assert_has(&format!(
        "href=\"&#x2f;tasks?lead_unit_id={}&amp;light=red\"",
        e.c.unit_a
    ));
    // The supervision order and the bulletin sent to it.
    page.assert_has("逾期第 7 天督办");
    page.assert_has("督查通报</td><td>1</td>");
    // Its accountability record from the bulletin, and its standing there.
    page.assert_has("通报批评");
    page.assert_has(&format!("<tr id=\"bulletin-{}\">", id(&b)));
    page.assert_has("2026年第1期");
    page.assert_has("<td>2 <span class=\"tag\">");
    // And the same standing as a picture, its numbers in the text alternative.
    page.assert_has("<svg");
    page.assert_has("第2名");
    page.assert_has("关注</button>");

    // A leader reads it and may follow; the viewer reads it and may not.
    let leader = Visitor::signed_in(&app, "leader", &password_of("leader")).await;
    let page = leader.get(&path).await;
    assert_eq!(page.status, 200);
    page.assert_has("通报批评");
    page.assert_has("action=\"/units/");
    let viewer = Visitor::signed_in(&app, "viewer", &password_of("viewer")).await;
    let page = viewer.get(&path).await;
    assert_eq!(page.status, 200);
    page.assert_has("当前逾期 1 项");
    assert!(!page.body.contains("/follow"), "the viewer follows nothing");

    // The unit's own clerk reads it; another unit's clerk gets a 404 page,
    // as for a unit that does not exist.
    let clerk_a = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let page = clerk_a.get(&path).await;
    assert_eq!(page.status, 200);
    page.assert_has("当前逾期 1 项");
    assert!(!page.body.contains("/follow"), "a clerk follows nothing");
    let other = clerk_a.get(&format!("/units/{}", e.c.unit_c)).await;
    assert_eq!(other.status, 404);
    let clerk_c = Visitor::signed_in(&app, "clerk-c", &password_of("clerk-c")).await;
    let refused = clerk_c.get(&path).await;
    assert_eq!(refused.status, 404);
    assert!(!refused.body.contains("城关镇"));
    let missing = office.get("/units/999999").await;
    assert_eq!(missing.status, 404);
}

async fn the_unit_record_page_follows_the_unit_and_is_linked_where_units_are_named(app: TestApp) {
    let c = crate::city::build(&app).await;
    let task = c.in_progress(&app, "1.1", -3).await;
    settle_accounts(&app);
    let path = format!("/units/{}", c.unit_a);

    let leader = Visitor::signed_in(&app, "leader", &password_of("leader")).await;
    // 我分管的 links each unit to its record.
    let leading = leader.get("/leading").await;
    leading.assert_has(&format!("href=\"/units/{}\"", c.unit_a));
    // So does the task page, at its lead unit.
    let page = leader.get(&format!("/tasks/{}", id(&task))).await;
    page.assert_has(&format!(
        "<a href=\"/units/{}\" class=\"unit-record\">城关镇</a>",
        c.unit_a
    ));

    let page = leader.get(&path).await;
    assert_eq!(page.status, 200);
    // Without the form's token nothing is followed.
    let forged = leader
        .post(
            &format!("{path}/follow"),
            &[("follow", "true"), ("back", "record")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let done = leader
        .post(
            &format!("{path}/follow"),
            &[
                ("csrf", &page.csrf()),
                ("follow", "true"),
                ("back", "record"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), format!("{path}?done=follow"));
    let page = leader.get(done.location()).await;
    page.assert_has("已关注该单位");
    page.assert_has("取消关注</button>");
    // The home page heads with it, linked back to the record.
    let home = leader.get("/").await;
    home.assert_has(&format!("href=\"/units/{}\">城关镇</a>", c.unit_a));
    // And unfollowed from the record again.
    let done = leader
        .post(
            &format!("{path}/follow"),
            &[
                ("csrf", &page.csrf()),
                ("follow", "false"),
                ("back", "record"),
            ],
        )
        .await;
    assert_eq!(done.location(), format!("{path}?done=unfollow"));
    leader
        .get(done.location())
        .await
        .assert_has("关注</button>");
    assert!(!leader.get("/").await.body.contains("/units/"));

    // The cooperating unit's clerk sees the task but not unit A's record:
    // the lead unit is named without a link.
    let clerk_b = Visitor::signed_in(&app, "clerk-b", &password_of("clerk-b")).await;
    let page = clerk_b.get(&format!("/tasks/{}", id(&task))).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("class=\"unit-record\""));
    // The lead unit's clerk has the link to the own record.
    let clerk_a = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let page = clerk_a.get(&format!("/tasks/{}", id(&task))).await;
    page.assert_has("class=\"unit-record\"");
}

async fn the_assessment_page_grades_units_and_itemises_deductions(app: TestApp) {
    let e = example(&app).await;
    let b = draft(&app, &e.c.office, "2026-10").await;
    publish(&app, &e.c.office, &b).await;
    settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    // The bulletins page links to this year's assessment.
    let list = office.get("/bulletins").await;
    list.assert_has("href=\"/assessments\"");
    let here = office.get("/assessments").await;
    assert_eq!(here.status, 303);
    assert!(here.location().starts_with("/assessments/20"));

    let page = office.get("/assessments/2026").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has("2026年度目标责任考核");
    // 市生态环境局 first and excellent, 东城镇 failing with its deductions.
    let d01 = page
        .body
        .find(&format!("<tr id=\"unit-{}\"", e.c.unit_b))
        .unwrap();
    let t02 = page
        .body
        .find(&format!("<tr id=\"unit-{}\"", e.c.unit_c))
        .unwrap();
    assert!(d01 < t02, "best first");
    page.assert_has(&format!(
        "<tr id=\"unit-{}\" class=\"grade-excellent\"><td>1</td>",
        e.c.unit_b
    ));
    page.assert_has(&format!(
        "<tr id=\"unit-{}\" class=\"grade-fail\">",
        e.c.unit_c
    ));
    page.assert_has(&format!("<a href=\"/units/{}\">东城镇</a>", e.c.unit_c));
    let section = &page.body[page
        .body
        .find(&format!("id=\"deductions-{}\"", e.c.unit_c))
        .unwrap()..];
    assert!(section.contains("逾期未完成") && section.contains("督办"));
    assert!(section.contains(&format!("href=\"/tasks/{}\"", e.tasks["C2"])));
    page.assert_has("高新区管委会");
    // Printing leaves out the bar and the year links.
    page.assert_has("class=\"no-print\"");

    // A leader and the viewer read it; a clerk gets a 403 page; a year
    // outside the API's range is no page.
    for who in ["leader", "viewer"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        let page = v.get("/assessments/2026").await;
        assert_eq!(page.status, 200, "{who}");
        page.assert_has("不合格");
    }
    let leader = Visitor::signed_in(&app, "leader", &password_of("leader")).await;
    leader
        .get("/leading")
        .await
        .assert_has("href=\"/assessments\"");
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let refused = clerk.get("/assessments/2026").await;
    assert_eq!(refused.status, 403);
    assert!(!refused.body.contains("东城镇"));
    assert!(!clerk.get("/bulletins").await.body.contains("/assessments"));
    assert_eq!(office.get("/assessments/20x6").await.status, 404);
}
