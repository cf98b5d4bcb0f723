//! The home's figures that lead elsewhere than the task cards: a clerk's
//! 待报指标 and the indicator page it links to (reporting a value through
//! its form), and the office's overdue tasks by lead unit, each figure equal
//! to the rows its link lists. Both backends, no browser.

use chrono::{Duration, NaiveDate};
use duban::domain::indicator::{owed_periods, Frequency};
use serde_json::{json, Value};

use crate::city::{self, local_day, City};
use crate::console::{password_of, settle_accounts, Page, Visitor};
use crate::helpers::{expect_json, TestApp};

crate::api_tests![
    a_clerk_reports_owed_indicator_values_from_the_console,
    the_office_sees_overdue_tasks_by_unit_and_each_link_lists_them,
];

fn today() -> NaiveDate {
    local_day(0).parse().unwrap()
}

/// How many periods from `from` are due by a week from today.
fn owed(frequency: Frequency, from: &str) -> usize {
    owed_periods(
        frequency,
        10,
        from.parse().unwrap(),
        today() + Duration::days(7),
    )
    .len()
}

async fn indicator(
    app: &TestApp,
    c: &City,
    (number, name): (&str, &str),
    target: &str,
    lead: i64,
    frequency: &str,
    from: &str,
) -> Value {
    expect_json(
        app.post(
            "/api/v1/indicators",
            &c.office,
            json!({ "domain": "生态生活", "number": number, "name": name, "measure_unit": "%",
                    "target": target, "lead_unit_id": lead, "frequency": frequency,
                    "report_day": 10, "reporting_from": from }),
        )
        .await,
        201,
    )
    .await
}

/// The number on the home card whose label is `label`.
fn card(home: &Page, label: &str) -> usize {
    let end = home
        .body
        .find(&format!("</span><span class=\"label\">{label}<"))
        .unwrap_or_else(|| panic!("no card {label}: {}", home.body));
    let start = home.body[..end].rfind('>').unwrap() + 1;
    home.body[start..end].parse().unwrap()
}

/// The count line of a list page (共 N 项).
fn total(page: &Page) -> usize {
    let at = page.body.find("共 ").expect("a count") + "共 ".len();
    page.body[at..].split(' ').next().unwrap().parse().unwrap()
}

/// The reporting forms on the page: (indicator id, period), in order.
fn forms(page: &Page) -> Vec<(i64, String)> {
    page.body
        .match_indices("action=\"/indicators/")
        .map(|(at, m)| {
            let rest = &page.body[at + m.len()..];
            let id = rest.split('/').next().unwrap().parse().unwrap();
            let p =
                rest.find("name=\"period\" value=\"").unwrap() + "name=\"period\" value=\"".len();
            (id, rest[p..].split('"').next().unwrap().to_string())
        })
        .collect()
}

/// Minijinja's escapes in an attribute, undone.
fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/").replace("&amp;", "&")
}

async fn a_clerk_reports_owed_indicator_values_from_the_console(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let monthly_from = local_day(-70);
    let quarterly_from = local_day(-200);
    let air = indicator(
        &app,
        &c,
        ("31", "空气质量优良天数比例"),
        "≥80",
        c.unit_a,
        "monthly",
        &monthly_from,
    )
    .await;
    let plan = indicator(
        &app,
        &c,
        ("32", "河长制全面实施"),
        "全面实施",
        c.unit_a,
        "quarterly",
        &quarterly_from,
    )
    .await;
    indicator(
        &app,
        &c,
        ("33", "东城镇污水处理率"),
        "≥90",
        c.unit_c,
        "monthly",
        &monthly_from,
    )
    .await;
    let (n_air, n_plan) = (
        owed(Frequency::Monthly, &monthly_from),
        owed(Frequency::Quarterly, &quarterly_from),
    );
    assert!(n_air >= 2 && n_plan >= 1, "the dates give reports to owe");
    let expected = n_air + n_plan;

    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let home = clerk.get("/").await;
    assert_eq!(card(&home, "待报指标"), expected);
    home.assert_has("href=\"&#x2f;indicators?owed=true\"");
    let page = clerk.get("/indicators?owed=true").await;
    assert_eq!(page.status, 200);
    assert_eq!(total(&page), expected);
    let owed_forms = forms(&page);
    assert_eq!(owed_forms.len(), expected, "one form a row");
    page.assert_has("空气质量优良天数比例");
    page.assert_has("河长制全面实施");
    page.assert_has("name=\"qualitative\"");
    assert!(
        !page.body.contains("东城镇污水处理率"),
        "another unit's indicator is out of sight"
    );

    // A value that is not a number: the field's error, what was typed kept.
    let csrf = page.csrf();
    let air_id = air["id"].as_i64().unwrap();
    let (_, first) = owed_forms
        .iter()
        .find(|(i, _)| *i == air_id)
        .unwrap()
        .clone();
    let path = format!("/indicators/{air_id}/values");
    let bad = clerk
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("period", &first),
                ("value", "八十五"),
                ("note", "统计局月报"),
                ("owed", "true"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.assert_has("数值无效");
    bad.assert_has("value=\"八十五\"");
    bad.assert_has("value=\"统计局月报\"");
    // No number at all: the service's own rule, said on the page.
    let empty = clerk
        .post(
            &path,
            &[("csrf", &csrf), ("period", &first), ("owed", "true")],
        )
        .await;
    assert_eq!(empty.status, 422);
    empty.assert_has("该指标须填报数值");
    // Without the form's token nothing is written.
    let forged = clerk
        .post(&path, &[("period", &first), ("value", "85")])
        .await;
    assert_eq!(forged.status, 403);

    // Reported through the form: back to the owed list, one fewer.
    let done = clerk
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("period", &first),
                ("value", "85.5"),
                ("note", "统计局月报"),
                ("owed", "true"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/indicators?owed=true&done=value");
    let after = clerk.get(done.location()).await;
    after.assert_has("指标数据已报送");
    assert_eq!(total(&after), expected - 1);
    assert_eq!(card(&clerk.get("/").await, "待报指标"), expected - 1);
    // The whole list still shows it, as reported and waiting.
    let all = clerk.get("/indicators").await;
    assert_eq!(total(&all), expected);
    all.assert_has("已报送待核验");
    let values = expect_json(
        app.get(&format!("/api/v1/indicators/{air_id}/values"), &c.clerk_a)
            .await,
        200,
    )
    .await;
    assert_eq!(values[0]["period"], first.as_str());
    assert_eq!(values[0]["value"], 85.5);
    assert_eq!(values[0]["attainment"], "met");

    // A target in words is reported met or not met.
    let plan_id = plan["id"].as_i64().unwrap();
    let (_, quarter) = owed_forms
        .iter()
        .find(|(i, _)| *i == plan_id)
        .unwrap()
        .clone();
    let met = clerk
        .post(
            &format!("/indicators/{plan_id}/values"),
            &[
                ("csrf", &csrf),
                ("period", &quarter),
                ("qualitative", "met"),
            ],
        )
        .await;
    assert_eq!(met.status, 303, "{}", met.body);
    assert_eq!(met.location(), "/indicators?done=value");
    assert_eq!(card(&clerk.get("/").await, "待报指标"), expected - 2);

    // The office returns the number: owed again, marked returned.
    let value_id = values[0]["id"].as_i64().unwrap();
    expect_json(
        app.post(
            &format!("/api/v1/indicators/{air_id}/values/{value_id}/return"),
            &c.office,
            json!({ "note": "请附统计月报" }),
        )
        .await,
        200,
    )
    .await;
    let owed_again = clerk.get("/indicators?owed=true").await;
    assert_eq!(total(&owed_again), expected - 1);
    owed_again.assert_has("被退回");
    assert_eq!(card(&clerk.get("/").await, "待报指标"), expected - 1);

    // Resubmitted and verified; a form still open from before is stale:
    // the page says so instead of writing.
    let resubmit = [
        ("csrf", csrf.as_str()),
        ("period", first.as_str()),
        ("value", "86"),
        ("owed", "true"),
    ];
    assert_eq!(clerk.post(&path, &resubmit).await.status, 303);
    expect_json(
        app.post(
            &format!("/api/v1/indicators/{air_id}/values/{value_id}/verify"),
            &c.office,
            json!({}),
        )
        .await,
        200,
    )
    .await;
    let stale = clerk.post(&path, &resubmit).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.assert_has("该期数据已核验");
    assert_eq!(card(&clerk.get("/").await, "待报指标"), expected - 2);

    // Another unit's clerk: its own figure, and no way into unit A's.
    let other = Visitor::signed_in(&app, "clerk-c", &password_of("clerk-c")).await;
    assert_eq!(
        card(&other.get("/").await, "待报指标"),
        owed(Frequency::Monthly, &monthly_from)
    );
    let theirs = other.get("/indicators").await;
    assert!(!theirs.body.contains("空气质量优良天数比例"));
    let csrf_c = theirs.csrf();
    let refused = other
        .post(
            &path,
            &[("csrf", &csrf_c), ("period", &first), ("value", "1")],
        )
        .await;
    assert_eq!(refused.status, 404);

    // The office reads the catalogue with lead units and the latest period.
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let list = office.get("/indicators").await;
    assert_eq!(list.status, 200);
    for text in [
        "空气质量优良天数比例",
        "河长制全面实施",
        "东城镇污水处理率",
        "城关镇",
        "东城镇",
    ] {
        list.assert_has(text);
    }
    assert!(forms(&list).is_empty(), "read-only for the office");
    assert!(
        !office.get("/").await.body.contains("待报指标"),
        "the card is the clerks'"
    );
}

/// The home's overdue-by-unit rows: (link, count shown).
fn overdue_rows(home: &Page) -> Vec<(String, usize)> {
    let Some(at) = home.body.find("class=\"overdue-units\"") else {
        return Vec::new();
    };
    let table = &home.body[at..home.body[at..].find("</table>").unwrap() + at];
    table
        .split("<tr><td><a href=\"")
        .skip(1)
        .map(|row| {
            let href = unescape(row.split('"').next().unwrap());
            let count_at = row.find("<td><a href=\"").unwrap();
            let count = row[count_at..].split('>').nth(2).unwrap();
            let count = count.split('<').next().unwrap().parse().unwrap();
            (href, count)
        })
        .collect()
}

async fn the_office_sees_overdue_tasks_by_unit_and_each_link_lists_them(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    // Unit A leads two late tasks and one on time; B leads one late task
    // that A cooperates on; C has none.
    c.in_progress(&app, "1.1", -5).await;
    c.in_progress(&app, "1.2", -12).await;
    c.in_progress(&app, "1.3", 10).await;
    let b_task = c
        .task(
            &app,
            "2.1",
            -3,
            json!({ "lead_unit_id": c.unit_b, "cooperating_unit_ids": [c.unit_a] }),
        )
        .await;
    c.ok(&app, &c.office, &b_task, "assign", None).await;
    c.ok(&app, &c.clerk_b, &b_task, "accept", None).await;

    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let home = office.get("/").await;
    home.assert_has("逾期任务（按单位）");
    let rows = overdue_rows(&home);
    assert_eq!(
        rows,
        [
            (format!("/tasks?overdue=true&lead_unit_id={}", c.unit_a), 2),
            (format!("/tasks?overdue=true&lead_unit_id={}", c.unit_b), 1),
        ]
    );
    home.assert_has("逾期 12 天");
    home.assert_has("逾期 3 天");
    // Each figure is exactly the rows its link lists.
    for (href, count) in &rows {
        let list = office.get(href).await;
        assert_eq!(list.status, 200);
        assert_eq!(total(&list), *count, "{href}");
    }
    // The unit filter alone counts cooperation too: A takes part in three.
    let any_part = office
        .get(&format!("/tasks?overdue=true&unit_id={}", c.unit_a))
        .await;
    assert_eq!(total(&any_part), 3);
    // The figures add up to the 逾期 card.
    let sum: usize = rows.iter().map(|(_, n)| n).sum();
    assert_eq!(card(&home, "逾期"), sum);
    // The list's form keeps the lead unit (a box to untick).
    let a_list = office.get(&rows[0].0).await;
    a_list.assert_has(&format!(
        "name=\"lead_unit_id\" value=\"{}\" checked",
        c.unit_a
    ));
    // The API takes the same filter.
    let api = expect_json(
        app.get(
            &format!("/api/v1/tasks?overdue=true&lead_unit_id={}", c.unit_a),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(api["total"], 2);

    // The viewer sees the same table; a clerk has none.
    let viewer = Visitor::signed_in(&app, "viewer", &password_of("viewer")).await;
    assert_eq!(overdue_rows(&viewer.get("/").await), rows);
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    assert!(overdue_rows(&clerk.get("/").await).is_empty());
}
