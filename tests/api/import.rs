//! Importing breakdown tables and exporting them again.

use serde_json::{json, Value};

use crate::api_tests;
use crate::city;
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    an_office_table_imports_with_merged_cells_and_chinese_deadlines,
    a_dry_run_reports_and_writes_nothing,
    a_bad_table_is_rejected_whole_with_an_error_per_cell,
    a_gbk_csv_from_chinese_excel_imports,
    export_is_formula_safe_and_imports_back,
    the_command_line_imports_a_table,
    the_documented_example_table_imports,
    group_words_expand_to_one_subtask_per_unit_of_the_kind,
    vague_and_empty_group_words_are_errors_at_their_cells,
    a_cell_matches_a_units_alias,
    a_holiday_anchored_deadline_needs_the_holiday_in_the_calendar,
];

/// Creates a unit of `kind` as admin; returns its id.
async fn unit_of_kind(app: &TestApp, admin: &str, kind: &str, code: &str, name: &str) -> i64 {
    let unit = expect_json(
        app.post(
            "/api/v1/units",
            admin,
            json!({ "code": code, "name": name, "kind": kind }),
        )
        .await,
        201,
    )
    .await;
    unit["id"].as_i64().unwrap()
}

/// Makes the city's 市生态环境局 a department (the test helper creates
/// every unit as a township).
async fn make_department(app: &TestApp, c: &city::City) {
    let path = format!("/api/v1/units/{}", c.unit_b);
    let unit = expect_json(app.get(&path, &c.admin).await, 200).await;
    expect_json(
        app.patch(
            &path,
            &c.admin,
            json!({ "version": unit["version"], "kind": "department" }),
        )
        .await,
        200,
    )
    .await;
}

pub async fn send(
    app: &TestApp,
    token: &str,
    plan: i64,
    name: &str,
    bytes: Vec<u8>,
    query: &str,
) -> reqwest::Response {
    app.post_file(
        &format!("/api/v1/plans/{plan}/import{query}"),
        token,
        name,
        bytes,
    )
    .await
}

/// An office-style workbook: a merged title row, the header on row 2, the lead
/// unit merged over three rows, deadlines written as text and one as a date cell.
fn office_workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let plain = Format::new();
    ws.merge_range(
        0,
        0,
        0,
        6,
        "创建国家生态文明建设示范市重点任务分解表",
        &plain,
    )
    .unwrap();
    for (c, h) in [
        "序号",
        "任务",
        "牵头单位",
        "配合单位",
        "责任领导",
        "完成时限",
        "备注",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    let rows = [
        ["1", "农业面源污染治理", "", "", "leader", "2026年底前", ""],
        [
            "1.1",
            "农膜回收率达到80%以上",
            "",
            "生态环境局、东城镇",
            "",
            "2026年6月底前",
            "按季度通报",
        ],
        ["1.2", "畜禽粪污综合利用", "", "", "", "每月25日前", ""],
        ["2", "饮用水水源地保护", "D01", "城关镇", "", "长期坚持", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(2 + r as u32, c as u16, *v).unwrap();
            }
        }
    }
    ws.merge_range(2, 2, 4, 2, "城关镇", &plain).unwrap();
    let date = ExcelDateTime::from_ymd(2026, 9, 30).unwrap();
    ws.write_datetime_with_format(5, 5, &date, &Format::new().set_num_format("yyyy-mm-dd"))
        .unwrap();
    wb.save_to_buffer().unwrap()
}

async fn an_office_table_imports_with_merged_cells_and_chinese_deadlines(app: TestApp) {
    let c = city::build(&app).await;
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "分解表.xlsx",
        office_workbook(),
        "",
    )
    .await;
    let report = expect_json(res, 201).await;
    assert_eq!(report["created"], 4);
    let list = expect_json(
        app.get(
            &format!("/api/v1/tasks?plan_id={}&sort=code", c.plan_id),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    let tasks: Vec<&Value> = list["items"].as_array().unwrap().iter().collect();
    let by_code = |code: &str| *tasks.iter().find(|t| t["code"] == code).unwrap();
    let t1 = by_code("1");
    assert_eq!(t1["due_date"], "2026-12-31");
    assert_eq!(t1["lead_unit_id"], c.unit_a);
    assert_eq!(t1["responsible_leader_id"], c.leader_id);
    let t11 = by_code("1.1");
    assert_eq!(t11["due_date"], "2026-06-30");
    assert_eq!(
        t11["lead_unit_id"], c.unit_a,
        "the merged lead cell applies to every row"
    );
    assert_eq!(t11["cooperating_unit_ids"], json!([c.unit_b, c.unit_c]));
    assert_eq!(t11["parent_id"], t1["id"], "1.1 sits under 1");
    assert_eq!(t11["description"], "按季度通报");
    let t12 = by_code("1.2");
    assert_eq!(
        (t12["due_date"].clone(), t12["report_day"].clone()),
        (Value::Null, json!(25))
    );
    let t2 = by_code("2");
    assert_eq!(t2["lead_unit_id"], c.unit_b, "matched by code");
    assert_eq!(
        t2["due_date"], "2026-09-30",
        "a date cell wins over the text"
    );
    assert_eq!(t2["status"], "draft");
}

async fn a_dry_run_reports_and_writes_nothing(app: TestApp) {
    let c = city::build(&app).await;
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "t.xlsx",
        office_workbook(),
        "?dry_run=true",
    )
    .await;
    let report = expect_json(res, 200).await;
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["tasks"].as_array().unwrap().len(), 4);
    assert_eq!(report["tasks"][1]["parent_code"], "1");
    let list = expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await;
    assert_eq!(list["total"], 0);
    // Units may not import.
    let res = send(&app, &c.clerk_a, c.plan_id, "t.xlsx", office_workbook(), "").await;
    expect_problem(res, 403, "forbidden").await;
}

async fn a_bad_table_is_rejected_whole_with_an_error_per_cell(app: TestApp) {
    let c = city::build(&app).await;
    let csv = "重点任务分解表\n序号,任务,牵头单位,配合单位,完成时限\n1,好的任务,城关镇,,2026-06-30\n2,未知单位,西城镇,,2026-06-30\n3,坏日期,城关镇,,2026年13月底前\n1,重复编号,城关镇,,2026-06-30\n4,,城关镇,无此局,2026-06-30\n";
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "bad.csv",
        csv.as_bytes().to_vec(),
        "",
    )
    .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    let mut cells = problem_fields(&p);
    cells.sort();
    assert_eq!(cells, ["A6", "B7", "C4", "D7", "E5"]);
    assert!(p["errors"].to_string().contains("西城镇"));
    let list = expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await;
    assert_eq!(list["total"], 0, "nothing was written");
    // A file that is no table at all names the file.
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "notes.txt",
        b"hello".to_vec(),
        "",
    )
    .await;
    assert_eq!(
        problem_fields(&expect_problem(res, 422, "validation_failed").await),
        ["file"]
    );
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "x.csv",
        "a,b\n1,2\n".as_bytes().to_vec(),
        "",
    )
    .await;
    assert_eq!(
        problem_fields(&expect_problem(res, 422, "validation_failed").await),
        ["file"]
    );
    let res = send(&app, &c.office, 999, "t.xlsx", office_workbook(), "").await;
    expect_problem(res, 404, "not_found").await;
}

async fn a_gbk_csv_from_chinese_excel_imports(app: TestApp) {
    let c = city::build(&app).await;
    let text = "序号,任务,牵头单位,配合单位,责任领导,完成时限,备注\r\n1,建筑工地湿法作业,城关镇,\"市生态环境局，东城镇\",leader,6月底前,\r\n";
    let (gbk, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    let res = send(&app, &c.office, c.plan_id, "gbk.csv", gbk.into_owned(), "").await;
    let report = expect_json(res, 201).await;
    assert_eq!(report["tasks"][0]["title"], "建筑工地湿法作业");
    assert_eq!(
        report["tasks"][0]["due_date"], "2026-06-30",
        "6月底前 in the plan's year"
    );
    assert_eq!(
        report["tasks"][0]["cooperating_unit_ids"],
        json!([c.unit_b, c.unit_c])
    );
}

async fn export_is_formula_safe_and_imports_back(app: TestApp) {
    let c = city::build(&app).await;
    c.task(
        &app,
        "1",
        10,
        json!({ "title": "=HYPERLINK(\"http://evil\",\"点击\")" }),
    )
    .await;
    c.task(&app, "2", 20, json!({ "report_day": 25, "due_date": null }))
        .await;
    let res = app
        .get(
            &format!("/api/v1/plans/{}/export?format=csv", c.plan_id),
            &c.office,
        )
        .await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = res.bytes().await.unwrap().to_vec();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM");
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.contains("'=HYPERLINK"), "{text}");
    assert!(text.contains("每月25日前"));
    assert!(text.contains("市生态环境局"));
    // The foreign clerk's export holds none of these tasks.
    let res = app
        .get(
            &format!("/api/v1/plans/{}/export?format=csv", c.plan_id),
            &c.clerk_c,
        )
        .await;
    assert!(!res.text().await.unwrap().contains("HYPERLINK"));
    // The xlsx export imports into a new plan and gives the same tasks back.
    let xlsx = app
        .get(&format!("/api/v1/plans/{}/export", c.plan_id), &c.office)
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
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
    let report = expect_json(
        send(
            &app,
            &c.office,
            plan2["id"].as_i64().unwrap(),
            "export.xlsx",
            xlsx,
            "",
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        report["tasks"][0]["title"],
        "=HYPERLINK(\"http://evil\",\"点击\")"
    );
    assert_eq!(
        report["tasks"][0]["cooperating_unit_ids"],
        json!([c.unit_b])
    );
    assert_eq!(report["tasks"][1]["report_day"], 25);
    expect_problem(
        app.get(
            &format!("/api/v1/plans/{}/export?format=pdf", c.plan_id),
            &c.office,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
}

async fn the_command_line_imports_a_table(app: TestApp) {
    let c = city::build(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("分解表.xlsx");
    std::fs::write(&path, office_workbook()).unwrap();
    let run = |dry: bool| {
        let mut cmd = crate::helpers::duban();
        cmd.arg("import")
            .arg(&path)
            .args(["--plan", &c.plan_id.to_string()]);
        if dry {
            cmd.arg("--dry-run");
        }
        cmd.env("DATABASE_URL", &app.database.url)
            .env("DUBAN_DATA_DIR", app.data_dir.path());
        crate::helpers::processes::output(&mut cmd)
    };
    let out = run(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("would create 4 tasks"));
    assert_eq!(
        expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await["total"],
        0
    );
    let out = run(false);
    assert!(out.status.success());
    assert_eq!(
        expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await["total"],
        4
    );
    // Again: every code is now taken, so the whole file is refused.
    let out = run(false);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("A3"));
}

async fn the_documented_example_table_imports(app: TestApp) {
    let c = city::build(&app).await;
    let names = [
        "市农业农村局",
        "市供销社",
        "市水利局",
        "市自然资源局",
        "市发展改革委",
        "市公安局",
        "市交通运输局",
        "市商务局",
    ];
    for (i, name) in names.iter().enumerate() {
        app.create_unit(&c.admin, &format!("X{i}"), name).await;
    }
    let example = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/import-example.csv"
    ))
    .unwrap();
    let report = expect_json(
        send(
            &app,
            &c.office,
            c.plan_id,
            "import-example.csv",
            example,
            "",
        )
        .await,
        201,
    )
    .await;
    assert_eq!(report["created"], 6);
    let due: Vec<Value> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["due_date"].clone())
        .collect();
    assert_eq!(
        due,
        [
            json!("2026-12-31"),
            json!("2026-06-30"),
            Value::Null,
            Value::Null,
            json!("2026-09-30"),
            json!("2026-09-30")
        ]
    );
}

async fn group_words_expand_to_one_subtask_per_unit_of_the_kind(app: TestApp) {
    let c = city::build(&app).await;
    make_department(&app, &c).await;
    let office_unit = unit_of_kind(&app, &c.admin, "office", "B00", "创建办").await;
    let park = unit_of_kind(&app, &c.admin, "park", "P01", "经济技术开发区管委会").await;
    // An xlsx as offices write it: one row for every township, one where the
    // department leads and the parks each do their part.
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let rows = [
        ["序号", "任务", "牵头单位", "配合单位", "完成时限", "备注"],
        [
            "1",
            "农村生活垃圾治理",
            "各乡镇（街道）",
            "",
            "2026年9月底前",
            "每季度报送",
        ],
        [
            "2",
            "园区污水管网排查",
            "市生态环境局",
            "各园区",
            "2026年底前",
            "",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (col, v) in row.iter().enumerate() {
            ws.write_string(r as u32, col as u16, *v).unwrap();
        }
    }
    let xlsx = wb.save_to_buffer().unwrap();
    let preview = expect_json(
        send(
            &app,
            &c.office,
            c.plan_id,
            "分解表.xlsx",
            xlsx.clone(),
            "?dry_run=true",
        )
        .await,
        200,
    )
    .await;
    let codes: Vec<&str> = preview["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["1", "1.1", "1.2", "2", "2.1"]);
    let report = expect_json(
        send(&app, &c.office, c.plan_id, "分解表.xlsx", xlsx, "").await,
        201,
    )
    .await;
    assert_eq!(report["created"], 5);
    let list = expect_json(
        app.get(&format!("/api/v1/tasks?plan_id={}", c.plan_id), &c.office)
            .await,
        200,
    )
    .await;
    let tasks = list["items"].as_array().unwrap();
    let by_code = |code: &str| tasks.iter().find(|t| t["code"] == code).unwrap();
    let parent = by_code("1");
    assert_eq!(
        parent["lead_unit_id"], office_unit,
        "the office leads the whole"
    );
    assert_eq!(parent["cooperating_unit_ids"], json!([]));
    // Townships in unit code order: T01 城关镇, T02 东城镇.
    for (code, unit) in [("1.1", c.unit_a), ("1.2", c.unit_c)] {
        let sub = by_code(code);
        assert_eq!(sub["lead_unit_id"], unit, "{code}");
        assert_eq!(sub["parent_id"], parent["id"], "{code}");
        assert_eq!(sub["title"], "农村生活垃圾治理");
        assert_eq!(sub["due_date"], "2026-09-30");
        assert_eq!(sub["description"], "每季度报送");
    }
    let t2 = by_code("2");
    assert_eq!(t2["lead_unit_id"], c.unit_b, "a named lead keeps the whole");
    let t21 = by_code("2.1");
    assert_eq!(t21["lead_unit_id"], park);
    assert_eq!(t21["parent_id"], t2["id"]);
    assert_eq!(t21["due_date"], "2026-12-31");
    // The township clerk sees its own share.
    let mine = expect_json(
        app.get(&format!("/api/v1/tasks?plan_id={}", c.plan_id), &c.clerk_c)
            .await,
        200,
    )
    .await;
    assert!(mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "1.2"));
}

async fn vague_and_empty_group_words_are_errors_at_their_cells(app: TestApp) {
    let c = city::build(&app).await;
    make_department(&app, &c).await;
    // No office unit and no park: 各乡镇 alone cannot lead, 各园区 is empty,
    // 各有关单位 names nobody, and 1.1 is both written and made for 各乡镇.
    let csv = "序号,任务,牵头单位,配合单位,完成时限\n\
               1,甲,各乡镇,,2026-06-30\n\
               2,乙,市生态环境局,各有关单位,2026-06-30\n\
               3,丙,市生态环境局,各园区,2026-06-30\n\
               4,丁,市生态环境局,各部门,2026-06-30\n\
               5,戊,市生态环境局,各乡镇,2026-06-30\n\
               5.1,己,城关镇,,2026-06-30\n";
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "t.csv",
        csv.as_bytes().to_vec(),
        "",
    )
    .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    let mut cells = problem_fields(&p);
    cells.sort();
    assert_eq!(cells, ["A7", "C2", "D3", "D4"]);
    let text = p["errors"].to_string();
    assert!(text.contains("请写出单位名称"), "{text}");
    assert!(text.contains("office"), "{text}");
    assert!(text.contains("park"), "{text}");
    let list = expect_json(app.get("/api/v1/tasks", &c.office).await, 200).await;
    assert_eq!(list["total"], 0, "nothing was written");
}

async fn a_cell_matches_a_units_alias(app: TestApp) {
    let c = city::build(&app).await;
    let park = expect_json(
        app.post(
            "/api/v1/units",
            &c.admin,
            json!({ "code": "P01", "name": "经济技术开发区管委会", "kind": "park",
                    "aliases": ["经开区管委会"] }),
        )
        .await,
        201,
    )
    .await;
    let csv = "序号,任务,牵头单位,配合单位,完成时限\n\
               1,园区雨污分流,经开区管委会,城关镇,2026-06-30\n\
               2,园区绿化,经开区,,2026-06-30\n";
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "t.csv",
        csv.as_bytes().to_vec(),
        "",
    )
    .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(
        problem_fields(&p),
        ["C3"],
        "经开区 is nobody's name or alias"
    );
    let csv = csv.replace("经开区,", "经开区管委会,");
    let report = expect_json(
        send(&app, &c.office, c.plan_id, "t.csv", csv.into_bytes(), "").await,
        201,
    )
    .await;
    assert_eq!(report["tasks"][0]["lead_unit_id"], park["id"]);
    assert_eq!(
        report["tasks"][0]["cooperating_unit_ids"],
        json!([c.unit_a])
    );
    assert_eq!(report["tasks"][1]["lead_unit_id"], park["id"]);
}

async fn a_holiday_anchored_deadline_needs_the_holiday_in_the_calendar(app: TestApp) {
    let c = city::build(&app).await;
    let csv = "序号,任务,牵头单位,完成时限\n1,春节前完成冬季清洁取暖排查,城关镇,2027年春节前\n";
    let res = send(
        &app,
        &c.office,
        c.plan_id,
        "t.csv",
        csv.as_bytes().to_vec(),
        "",
    )
    .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["D2"]);
    let text = p["errors"].to_string();
    assert!(
        text.contains("节假日日历中没有2027年春节，请先导入节假日安排"),
        "{text}"
    );
    // 春节 2027: holidays from Friday 5 February; the Thursday before is due.
    let calendar: String = (5..=11)
        .map(|day| format!("2027-02-{day:02},holiday,春节\n"))
        .collect();
    let res = app
        .client
        .post(app.url("/api/v1/holidays/import"))
        .bearer_auth(&c.admin)
        .body(calendar)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_json(res, 200).await["imported"], 7);
    let report = expect_json(
        send(
            &app,
            &c.office,
            c.plan_id,
            "t.csv",
            csv.as_bytes().to_vec(),
            "",
        )
        .await,
        201,
    )
    .await;
    assert_eq!(report["tasks"][0]["due_date"], "2027-02-04");
}
