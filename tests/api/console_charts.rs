//! The console's charts: the plan page draws its tasks by lead unit and
//! light and its rates by month, the indicator page its indicators by
//! domain, each an inline SVG carrying its numbers in its description.

use serde_json::json;

use crate::city::{self, local_day};
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, TestApp};

crate::api_tests![
    the_plan_page_draws_lights_by_unit_and_rates_by_month,
    the_indicator_page_draws_the_domains,
];

/// The SVG chart whose title is `title`, from its start to its end.
fn chart<'a>(body: &'a str, title: &str) -> &'a str {
    let at = body
        .find(&format!("{title}</title>"))
        .unwrap_or_else(|| panic!("a chart titled {title} in {body}"));
    let start = body[..at].rfind("<svg").expect("the chart's <svg>");
    let end = at + body[at..].find("</svg>").expect("the chart's </svg>");
    &body[start..end + "</svg>".len()]
}

async fn the_plan_page_draws_lights_by_unit_and_rates_by_month(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    // One task on track (green) and one overdue (red), both led by 城关镇;
    // a draft has no light and is not drawn.
    let on_track = c.task(&app, "1", 30, json!({})).await;
    c.ok(&app, &c.office, &on_track, "assign", None).await;
    let late = c.task(&app, "2", -3, json!({})).await;
    c.ok(&app, &c.office, &late, "assign", None).await;
    c.task(&app, "3", 30, json!({})).await;
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office.get(&format!("/plans/{}", c.plan_id)).await;
    assert_eq!(page.status, 200, "{}", page.body);

    let lights = chart(&page.body, "各牵头单位任务灯色分布");
    assert!(lights.contains("role=\"img\""), "{lights}");
    assert!(lights.contains("'Noto Sans CJK SC'"), "{lights}");
    assert!(
        lights.contains("城关镇：绿灯 1，黄灯 0，红灯 1"),
        "the numbers in the description: {lights}"
    );
    assert!(
        lights.contains(">城关镇</text>"),
        "the unit named on the bar"
    );
    assert!(lights.contains(">合计 2</text>"), "{lights}");

    // The overdue task's month: one due, not done.
    let trend = chart(&page.body, "各月完成率与按时完成率");
    let due = chrono::NaiveDate::parse_from_str(&local_day(-3), "%Y-%m-%d").unwrap();
    let month = format!("{}", due.format("%Y年%-m月"));
    assert!(
        trend.contains(&format!("{month}：完成率 0%，按时完成率 0%")),
        "{trend}"
    );
    assert!(trend.contains(">0%</text>"), "each point labelled: {trend}");

    // In English the same figures, in English words.
    let en = Visitor::with_language(&app, "en");
    assert_eq!(
        en.sign_in("office", &password_of("office"), "/")
            .await
            .status,
        303
    );
    let english = en.get(&format!("/plans/{}", c.plan_id)).await;
    let lights = chart(&english.body, "Tasks by lead unit and light");
    assert!(lights.contains("green 1, yellow 0, red 1"), "{lights}");
}

async fn the_indicator_page_draws_the_domains(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    // A monthly indicator reported since 100 days ago and never reported:
    // no value, and a report overdue.
    expect_json(
        app.post(
            "/api/v1/indicators",
            &c.office,
            json!({ "domain": "生态生活", "number": "30", "name": "<b>城镇污水</b>", "measure_unit": "%",
                    "target": "≥95", "lead_unit_id": c.unit_a, "frequency": "monthly",
                    "report_day": 10, "reporting_from": local_day(-100) }),
        )
        .await,
        201,
    )
    .await;
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office.get("/indicators").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let domains = chart(&page.body, "各领域指标达标情况");
    assert!(
        domains.contains("生态生活：达标 0，未达标 0，未报送 1，逾期 1"),
        "{domains}"
    );
    assert!(domains.contains("生态文化：达标 0，未达标 0，未报送 0，逾期 0"));
    assert!(domains.contains(">合计 1 逾期 1</text>"), "{domains}");
    // A clerk reads its reports, not the dashboard.
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    assert!(!clerk.get("/indicators").await.body.contains("<svg"));
}
