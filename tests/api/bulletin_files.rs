//! What a bulletin must get right to persuade: units tied at the cut are
//! named alike (six tied at rank 1 are all commended, not the first three by
//! code), the workbook keeps numbers as numbers (sortable, with a title row
//! and a chart sheet), and the Markdown escapes only what Markdown needs.

use std::io::Read;

use calamine::{Data, Reader};
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, local_day, City};
use crate::helpers::{expect_json, TestApp};

api_tests![
    six_units_tied_at_rank_one_are_all_commended_in_the_published_bulletin,
    the_workbook_keeps_numbers_as_numbers_with_a_title_row_and_a_chart,
    the_markdown_leaves_numbers_unescaped,
    the_printed_bulletin_draws_the_ranking_and_the_city_rate_over_the_bulletins,
];

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// The city's three units and three more each finish one task on time (six
/// identical records); 市住房和城乡建设局 (D09) lets one go overdue; 市档案馆
/// (A01) has nothing due. Returns the city and the published bulletin.
async fn six_tied(app: &TestApp) -> (City, Value) {
    let c = city::build(app).await;
    let mut clerks = vec![
        (c.unit_a, c.clerk_a.clone()),
        (c.unit_b, c.clerk_b.clone()),
        (c.unit_c, c.clerk_c.clone()),
    ];
    for (code, name) in [
        ("T03", "西城镇"),
        ("T04", "南山镇"),
        ("P01", "高新区管委会"),
    ] {
        let unit = id(&app.create_unit(&c.admin, code, name).await);
        let (_, clerk) = app
            .create_user(&c.admin, &format!("clerk-{code}"), "unit", Some(unit))
            .await;
        clerks.push((unit, clerk));
    }
    for (i, (unit, clerk)) in clerks.iter().enumerate() {
        let task = expect_json(
            app.post(
                "/api/v1/tasks",
                &c.office,
                json!({ "plan_id": c.plan_id, "code": format!("S{i}"), "title": "同样的任务",
                        "lead_unit_id": unit, "due_date": local_day(3) }),
            )
            .await,
            201,
        )
        .await;
        c.ok(app, &c.office, &task, "assign", None).await;
        c.ok(app, clerk, &task, "accept", None).await;
        c.ok(app, clerk, &task, "submit", Some("完成")).await;
    }
    let late = id(&app.create_unit(&c.admin, "D09", "市住房和城乡建设局").await);
    let task = expect_json(
        app.post(
            "/api/v1/tasks",
            &c.office,
            json!({ "plan_id": c.plan_id, "code": "L1", "title": "老旧小区改造",
                    "lead_unit_id": late, "due_date": local_day(-2) }),
        )
        .await,
        201,
    )
    .await;
    c.ok(app, &c.office, &task, "assign", None).await;
    app.create_unit(&c.admin, "A01", "市档案馆").await;
    let period = format!("{}..{}", local_day(-5), local_day(10));
    let draft = expect_json(
        app.post("/api/v1/bulletins", &c.office, json!({ "period": period }))
            .await,
        201,
    )
    .await;
    let published = expect_json(
        app.post(
            &format!("/api/v1/bulletins/{}/publish", id(&draft)),
            &c.office,
            json!({}),
        )
        .await,
        200,
    )
    .await;
    (c, published)
}

async fn six_units_tied_at_rank_one_are_all_commended_in_the_published_bulletin(app: TestApp) {
    let (c, b) = six_tied(&app).await;
    assert_eq!(b["status"], "published");
    let ranking = &b["snapshot"]["ranking"];
    let ranked: Vec<(&str, i64, bool, bool, bool)> = ranking["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["unit"]["code"].as_str().unwrap(),
                r["rank"].as_i64().unwrap(),
                r["commended"].as_bool().unwrap(),
                r["criticised"].as_bool().unwrap(),
                r["tied"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        [
            ("D01", 1, true, false, true),
            ("P01", 1, true, false, true),
            ("T01", 1, true, false, true),
            ("T02", 1, true, false, true),
            ("T03", 1, true, false, true),
            ("T04", 1, true, false, true),
            ("D09", 7, false, true, false),
        ],
        "all six tied at rank 1 are commended although the nominal count is 3"
    );
    // The list of bulletins, the foreword and every rendering say the same.
    let list = expect_json(app.get("/api/v1/bulletins", &c.office).await, 200).await;
    let commended = list["items"][0]["commended"].as_array().unwrap().len();
    assert_eq!(commended, 6);
    let foreword = b["snapshot"]["foreword"].as_str().unwrap();
    for name in [
        "城关镇",
        "市生态环境局",
        "东城镇",
        "西城镇",
        "南山镇",
        "高新区管委会",
    ] {
        assert!(foreword.contains(name), "{name} in {foreword}");
    }
    let md = app
        .get(
            &format!("/api/v1/bulletins/{}?format=md", id(&b)),
            &c.office,
        )
        .await
        .text()
        .await
        .unwrap();
    let line = md
        .lines()
        .find(|l| l.starts_with("- 通报表扬："))
        .unwrap_or_default();
    assert_eq!(
        line.matches('、').count(),
        5,
        "six units named in one line: {line}"
    );
}

/// A number as calamine reads it; any text fails the test.
fn float(cell: &Data) -> f64 {
    match cell {
        Data::Float(x) => *x,
        other => panic!("expected a number, got {other:?}"),
    }
}

async fn the_workbook_keeps_numbers_as_numbers_with_a_title_row_and_a_chart(app: TestApp) {
    let (c, b) = six_tied(&app).await;
    let res = app
        .get(
            &format!("/api/v1/bulletins/{}?format=xlsx", id(&b)),
            &c.office,
        )
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let ranking = book.worksheet_range("排名").unwrap();
    let title = ranking.get((0, 0)).unwrap().to_string();
    let label = b["number_label"].as_str().unwrap();
    assert!(
        title.contains("督查通报") && title.contains(label),
        "title row: {title}"
    );
    let headers: Vec<String> = (0..20)
        .map(|col| ranking.get((1, col)).unwrap().to_string())
        .collect();
    assert_eq!(&headers[..3], ["排名", "单位", "到期任务"]);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let unit_row = |name: &str| {
        (2..ranking.height())
            .find(|r| matches!(ranking.get((*r, 1)), Some(Data::String(s)) if s == name))
            .unwrap()
    };
    let first = unit_row("城关镇");
    assert_eq!(float(ranking.get((first, col("排名"))).unwrap()), 1.0);
    assert_eq!(float(ranking.get((first, col("到期任务"))).unwrap()), 1.0);
    assert_eq!(float(ranking.get((first, col("按时完成"))).unwrap()), 1.0);
    assert_eq!(
        float(ranking.get((first, col("完成率"))).unwrap()),
        1.0,
        "100% as the fraction a percent cell holds"
    );
    assert_eq!(float(ranking.get((first, col("按时完成率"))).unwrap()), 1.0);
    assert_eq!(float(ranking.get((first, col("得分"))).unwrap()), 100.0);
    let late = unit_row("市住房和城乡建设局");
    assert_eq!(float(ranking.get((late, col("逾期未完成"))).unwrap()), 1.0);
    assert_eq!(float(ranking.get((late, col("逾期天数"))).unwrap()), 2.0);
    assert_eq!(float(ranking.get((late, col("按时完成率"))).unwrap()), 0.0);
    assert_eq!(float(ranking.get((late, col("排名"))).unwrap()), 7.0);
    assert_eq!(
        ranking.get((late, col("通报"))).unwrap().to_string(),
        "通报批评"
    );
    // The seven ranked units, then a blank row and the units with nothing
    // due in one sentence, as on the printed page: no row of zeros.
    let at = |r: usize| ranking.get((r, 0));
    let sentence = (2..ranking.height())
        .find_map(|r| match at(r) {
            Some(Data::String(s)) if s.starts_with("本期无到期任务") => Some((r, s.clone())),
            _ => None,
        })
        .expect("the sentence under the table");
    assert_eq!(sentence.0, 2 + 7 + 1, "under the table, after a blank row");
    assert_eq!(
        sentence.1,
        "本期无到期任务、未参加排名的单位（1个）：市档案馆。"
    );
    assert!(matches!(at(2 + 7), None | Some(Data::Empty)));
    assert!(
        ranking.used_cells().all(|(_, _, cell)| *cell != "未排名"),
        "no unranked rows"
    );
    // Counts are whole numbers; rates are fractions in 0..=1.
    for r in 2..2 + 7 {
        for name in [
            "到期任务",
            "按时完成",
            "逾期完成",
            "逾期未完成",
            "逾期天数",
            "提醒",
            "催办",
            "督办",
        ] {
            let n = float(ranking.get((r, col(name))).unwrap());
            assert_eq!(n.fract(), 0.0, "{name} in row {r}: {n}");
        }
        let rate = float(ranking.get((r, col("完成率"))).unwrap());
        assert!((0.0..=1.0).contains(&rate));
    }
    let overdue = book.worksheet_range("逾期任务").unwrap();
    assert!(overdue
        .get((0, 0))
        .unwrap()
        .to_string()
        .contains("督查通报"));
    assert_eq!(overdue.get((2, 2)).unwrap().to_string(), "老旧小区改造");
    assert!(
        matches!(overdue.get((2, 4)).unwrap(), Data::DateTime(_)),
        "the due date is a date: {:?}",
        overdue.get((2, 4))
    );
    assert_eq!(float(overdue.get((2, 5)).unwrap()), 2.0);

    // The chart sheet: a native Excel bar chart over the ranking's scores.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    assert!(
        names.iter().any(|n| n == "xl/chartsheets/sheet1.xml"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "xl/charts/chart1.xml"),
        "{names:?}"
    );
    let mut chart = String::new();
    zip.by_name("xl/charts/chart1.xml")
        .unwrap()
        .read_to_string(&mut chart)
        .unwrap();
    assert!(chart.contains("<c:barChart>"), "{chart}");
    assert!(
        chart.contains("排名") && chart.contains("$Q$3:$Q$9"),
        "the scores of the 7 ranked units: {chart}"
    );
    let mut workbook = String::new();
    zip.by_name("xl/workbook.xml")
        .unwrap()
        .read_to_string(&mut workbook)
        .unwrap();
    assert!(workbook.contains("name=\"排名图\""), "{workbook}");

    // The CSV says the same under its table.
    let csv = app
        .get(
            &format!("/api/v1/bulletins/{}?format=csv", id(&b)),
            &c.office,
        )
        .await
        .text()
        .await
        .unwrap();
    let last = csv.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("本期无到期任务、未参加排名的单位（1个）：市档案馆。,"),
        "{last}"
    );
    assert!(!csv.contains("未排名"), "{csv}");
}

async fn the_markdown_leaves_numbers_unescaped(app: TestApp) {
    let (c, b) = six_tied(&app).await;
    let md = app
        .get(
            &format!("/api/v1/bulletins/{}?format=md", id(&b)),
            &c.office,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(md.contains("| 100.00% |"), "{md}");
    assert!(
        md.contains("\n本期无到期任务、未参加排名的单位（1个）：市档案馆。\n"),
        "units with nothing due in one sentence: {md}"
    );
    assert!(!md.contains("未排名"), "{md}");
    assert!(!md.contains("\\."), "no escaped dot: {md}");
    assert!(!md.contains("\\-"), "no escaped hyphen: {md}");
    // Each table keeps its shape: every row has as many cells as its header.
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    let mut header: Option<usize> = None;
    let mut tables = 0;
    for line in md.lines() {
        match (line.starts_with("| "), header) {
            (true, None) => {
                header = Some(cells(line));
                tables += 1;
            }
            (true, Some(n)) => assert_eq!(cells(line), n, "{line}"),
            (false, _) => header = None,
        }
    }
    assert_eq!(tables, 2, "the ranking and the overdue tasks");
}

/// The printed bulletin carries its pictures: the ranking as bars (every
/// ranked unit with its score and light, in the text alternative) and the
/// city's on-time rate over the bulletins, the published October one
/// included in November's draft.
async fn the_printed_bulletin_draws_the_ranking_and_the_city_rate_over_the_bulletins(app: TestApp) {
    let e = crate::bulletins::example(&app).await;
    let office = &e.c.office;
    let october = crate::bulletins::draft(&app, office, "2026-10").await;
    let published = crate::bulletins::publish(&app, office, &october).await;
    let rate = published["snapshot"]["ranking"]["totals"]["on_time_rate"].clone();
    let november = crate::bulletins::draft(&app, office, "2026-11").await;
    let history = november["snapshot"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["period"], "2026-10");
    assert_eq!(history[0]["on_time_rate"], rate);

    let html = |id: i64| {
        let app = &app;
        async move {
            app.get(&format!("/api/v1/bulletins/{id}?format=html"), office)
                .await
                .text()
                .await
                .unwrap()
        }
    };
    let oct = html(id(&published)).await;
    assert_eq!(oct.matches("<svg").count(), 2, "ranking and trend");
    for row in published["snapshot"]["ranking"]["ranked"]
        .as_array()
        .unwrap()
    {
        let name = row["unit"]["name"].as_str().unwrap();
        assert!(oct.contains(&format!("{name}：")), "{name} is drawn");
    }
    let nov = html(id(&november)).await;
    assert!(nov.contains("2026年10月："), "October on the line");
    assert!(nov.contains("2026年11月："), "and November after it");
}
