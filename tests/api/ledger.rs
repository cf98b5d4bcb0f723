//! The task ledger export (导出台账) and re-importing a corrected table
//! (`mode=update`).

use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, local_day, City};
use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    the_ledger_has_a_title_the_written_deadline_progress_and_light,
    a_reimport_previews_then_updates_deadlines_and_lists_absent_tasks,
    the_command_line_reimports_with_update,
];

async fn send(app: &TestApp, c: &City, csv: &str, query: &str) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("分解表.csv");
    let form = reqwest::multipart::Form::new().part("file", part);
    app.client
        .post(app.url(&format!("/api/v1/plans/{}/import{query}", c.plan_id)))
        .bearer_auth(&c.office)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The plan's tasks by code.
async fn tasks_by_code(app: &TestApp, c: &City) -> Vec<Value> {
    let list = expect_json(
        app.get(
            &format!("/api/v1/tasks?plan_id={}&sort=code&per_page=200", c.plan_id),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    list["items"].as_array().unwrap().clone()
}

fn by_code<'a>(tasks: &'a [Value], code: &str) -> &'a Value {
    tasks
        .iter()
        .find(|t| t["code"] == code)
        .unwrap_or_else(|| panic!("no task {code}"))
}

async fn the_ledger_has_a_title_the_written_deadline_progress_and_light(app: TestApp) {
    let c = city::build(&app).await;
    let csv = "序号,任务,牵头单位,配合单位,责任领导,完成时限\n1,农膜回收,城关镇,,leader,2027年6月底前\n2,\"=HYPERLINK(\"\"http://evil\"\",\"\"点击\"\")\",城关镇,,,每月25日前\n";
    expect_json(send(&app, &c, csv, "").await, 201).await;
    let tasks = tasks_by_code(&app, &c).await;
    assert_eq!(by_code(&tasks, "1")["due_text"], "2027年6月底前");
    assert_eq!(by_code(&tasks, "1")["due_date"], "2027-06-30");
    // The console's task page shows the wording beside the date.
    settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office
        .get(&format!("/tasks/{}", by_code(&tasks, "1")["id"]))
        .await;
    assert!(
        page.body.contains("分解表原文：2027年6月底前"),
        "{}",
        page.body
    );
    // An assigned task three days late, with a progress report.
    let late = c.in_progress(&app, "3", -3).await;
    let r = app
        .post(
            &format!("/api/v1/tasks/{}/reports", late["id"]),
            &c.clerk_a,
            json!({ "percent": 40, "body": "=1+1 已完成选址" }),
        )
        .await;
    expect_json(r, 201).await;

    let xlsx = app
        .get(&format!("/api/v1/plans/{}/export", c.plan_id), &c.office)
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.clone())).unwrap();
    let sheet = book.worksheet_range("任务台账").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let title = &rows[0][0];
    let today = local_day(0);
    let (y, m, d) = (&today[0..4], &today[5..7], &today[8..10]);
    assert!(
        title.contains("创建国家生态文明建设示范市实施方案")
            && title.contains("台账")
            && title.contains(&format!("{y}年{m}月{d}日")),
        "{title}"
    );
    assert_eq!(
        rows[1],
        [
            "序号",
            "任务",
            "牵头单位",
            "配合单位",
            "责任领导",
            "完成时限",
            "到期日期",
            "最新进展",
            "进展日期",
            "状态",
            "红黄绿灯",
            "逾期天数",
            "备注"
        ]
    );
    let row = |code: &str| rows.iter().find(|r| r[0] == code).unwrap().clone();
    let one = row("1");
    assert_eq!(
        (one[5].as_str(), one[6].as_str()),
        ("2027年6月底前", "2027-06-30")
    );
    assert_eq!((one[9].as_str(), one[10].as_str()), ("草稿", ""));
    assert_eq!(row("2")[5], "每月25日前");
    assert_eq!(row("2")[1], "'=HYPERLINK(\"http://evil\",\"点击\")");
    let three = row("3");
    assert_eq!(three[6], local_day(-3));
    assert_eq!(three[7], "'=1+1 已完成选址", "guarded, as text");
    assert_eq!(three[8], today);
    assert_eq!(
        (three[9].as_str(), three[10].as_str(), three[11].as_str()),
        ("办理中", "红", "3")
    );
    let formulas = book.worksheet_formula("任务台账").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));

    // CSV: the same ledger, the title on the first line, every cell guarded.
    let text = app
        .get(
            &format!("/api/v1/plans/{}/export?format=csv", c.plan_id),
            &c.office,
        )
        .await
        .text()
        .await
        .unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.contains("台账"), "{first}");
    assert!(text.contains("'=1+1 已完成选址") && text.contains("2027年6月底前"));
    for line in text.lines() {
        for field in line.split(',') {
            let field = field.trim_start_matches(['"', '\u{feff}']);
            assert!(!field.starts_with(['=', '+', '@']), "unguarded: {field}");
        }
    }
    // A clerk's ledger holds only the tasks the clerk sees.
    let foreign = app
        .get(
            &format!("/api/v1/plans/{}/export?format=csv", c.plan_id),
            &c.clerk_c,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!foreign.contains("农膜回收") && !foreign.contains("选址"));

    // The ledger imports back as it is, with the deadline as written.
    let plan2 = expect_json(
        app.post(
            "/api/v1/plans",
            &c.office,
            json!({ "title": "复制", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    let part = reqwest::multipart::Part::bytes(xlsx).file_name("台账.xlsx");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/plans/{}/import", plan2["id"])))
        .bearer_auth(&c.office)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let report = expect_json(res, 201).await;
    assert_eq!(report["created"], 3);
    assert_eq!(report["tasks"][0]["due_text"], "2027年6月底前");
    assert_eq!(report["tasks"][0]["due_date"], "2027-06-30");
}

const FIRST: &str = "序号,任务,牵头单位,配合单位,责任领导,完成时限\n1,农膜回收,城关镇,,leader,2026年12月底前\n1.1,秸秆禁烧,城关镇,,,2027年3月底前\n2,水源地保护,城关镇,市生态环境局,,2027年6月底前\n";
const CORRECTED: &str = "序号,任务,牵头单位,配合单位,责任领导,完成时限\n1,农膜回收,城关镇,,leader,2027年1月底前\n1.1,秸秆禁烧,城关镇,,,2027年3月底前\n2,水源地保护,城关镇,市生态环境局,,2027年9月底前\n3,新增任务,东城镇,,,2027年12月底前\n";

async fn a_reimport_previews_then_updates_deadlines_and_lists_absent_tasks(app: TestApp) {
    let c = city::build(&app).await;
    expect_json(send(&app, &c, FIRST, "").await, 201).await;
    // Task 2 is assigned; task 9 was added by hand and is not in the table.
    let two = by_code(&tasks_by_code(&app, &c).await, "2").clone();
    c.ok(&app, &c.office, &two, "assign", None).await;
    c.task(&app, "9", 30, json!({})).await;

    // The default mode still refuses codes the plan has, as before.
    let p = expect_problem(
        send(&app, &c, CORRECTED, "").await,
        422,
        "validation_failed",
    )
    .await;
    assert!(p["errors"].to_string().contains("编号“1”重复"), "{p}");
    let p = expect_problem(
        send(&app, &c, CORRECTED, "?mode=replace").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["mode"]);

    // Moving an assigned task's deadline needs a reason, as for one task:
    // refused at its deadline cell.
    let p = expect_problem(
        send(&app, &c, CORRECTED, "?mode=update&dry_run=true").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["F4"], "{p}");

    // The preview: per task, field by field; nothing written.
    let q = "?mode=update&dry_run=true&reason=%E6%96%B9%E6%A1%88%E8%B0%83%E6%95%B4";
    let preview = expect_json(send(&app, &c, CORRECTED, q).await, 200).await;
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["mode"], "update");
    assert_eq!(
        (preview["created"].clone(), preview["updated"].clone()),
        (json!(1), json!(2))
    );
    let changes = preview["changes"].as_array().unwrap();
    let codes: Vec<&str> = changes
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1", "2"], "1.1 is unchanged");
    let due = changes[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "due_date")
        .unwrap();
    assert_eq!(
        (&due["cell"], &due["old"], &due["new"]),
        (&json!("F2"), &json!("2026-12-31"), &json!("2027-01-31"))
    );
    let absent: Vec<&str> = preview["absent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(absent, ["9"]);
    let tasks = tasks_by_code(&app, &c).await;
    assert_eq!(tasks.len(), 4, "the preview created nothing");
    assert_eq!(by_code(&tasks, "1")["due_date"], "2026-12-31");
    assert_eq!(by_code(&tasks, "2")["due_date"], "2027-06-30");

    // The real run.
    let q = "?mode=update&reason=%E6%96%B9%E6%A1%88%E8%B0%83%E6%95%B4";
    let report = expect_json(send(&app, &c, CORRECTED, q).await, 201).await;
    assert_eq!(
        (report["created"].clone(), report["updated"].clone()),
        (json!(1), json!(2))
    );
    let tasks = tasks_by_code(&app, &c).await;
    assert_eq!(tasks.len(), 5, "task 9 kept, task 3 created");
    let one = by_code(&tasks, "1");
    assert_eq!(
        (&one["due_date"], &one["due_text"]),
        (&json!("2027-01-31"), &json!("2027年1月底前"))
    );
    let two = by_code(&tasks, "2");
    assert_eq!(two["due_date"], "2027-09-30");
    assert_eq!(two["original_due_date"], "2027-06-30");
    assert_eq!(two["status"], "assigned");
    assert_eq!(by_code(&tasks, "1.1")["version"], 1, "unchanged, untouched");
    assert_eq!(by_code(&tasks, "3")["lead_unit_id"], c.unit_c);
    // Importing the same table again changes nothing.
    let again = expect_json(send(&app, &c, CORRECTED, "?mode=update").await, 201).await;
    assert_eq!(
        (again["created"].clone(), again["updated"].clone()),
        (json!(0), json!(0))
    );
}

async fn the_command_line_reimports_with_update(app: TestApp) {
    let c = city::build(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.csv");
    let corrected = dir.path().join("corrected.csv");
    std::fs::write(&first, FIRST).unwrap();
    std::fs::write(&corrected, CORRECTED).unwrap();
    let run = |file: &std::path::Path, args: &[&str]| {
        let mut cmd = crate::helpers::duban();
        cmd.arg("import")
            .arg(file)
            .args(["--plan", &c.plan_id.to_string()])
            .args(args)
            .env("DATABASE_URL", &app.database.url)
            .env("DUBAN_DATA_DIR", app.data_dir.path());
        crate::helpers::processes::output(&mut cmd)
    };
    assert!(run(&first, &[]).status.success());
    // Without --update the codes are taken.
    assert!(!run(&corrected, &[]).status.success());
    let out = run(&corrected, &["--update", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 tasks would be created, 2 would be updated"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"2026-12-31\" -> \"2027-01-31\""),
        "{stdout}"
    );
    assert_eq!(
        by_code(&tasks_by_code(&app, &c).await, "1")["due_date"],
        "2026-12-31"
    );
    let out = run(&corrected, &["--update"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tasks = tasks_by_code(&app, &c).await;
    assert_eq!(tasks.len(), 4);
    assert_eq!(by_code(&tasks, "2")["due_date"], "2027-09-30");
}
