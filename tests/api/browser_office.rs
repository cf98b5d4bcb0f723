//! The office's part 2 pages clicked through in Chromium (the harness and
//! its skipping rules are `browser`'s): an Excel breakdown table with a group
//! word and a unit alias, one marked cell, fixed, imported and bulk-assigned
//! until the units' 交办通知 arrive over SMTP; a re-import moving deadlines;
//! a bulletin drafted, edited, previewed and published, and its
//! accountability proposal confirmed. The import, plan, bulletin-edit and
//! accountability screenshots of docs/console.md come from here.

use std::path::Path;

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::city::{self, local_day};
use crate::console::{password_of, settle_accounts};
use crate::helpers::{expect_json, TestApp};
use crate::notices::Outbox;
use crate::smtp::SmtpServer;

crate::api_tests![
    the_office_imports_a_table_and_bulk_assigns_it_in_the_browser timeout 240,
    a_reimport_in_the_browser_moves_the_deadlines timeout 240,
    the_office_publishes_a_bulletin_and_confirms_its_proposal_in_the_browser timeout 240,
];

/// An .xlsx sheet of `rows` (the first is the header), as the office keeps it.
fn xlsx(dir: &Path, name: &str, rows: &[[&str; 5]]) -> std::path::PathBuf {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (col, v) in row.iter().enumerate() {
            ws.write_string(r as u32, col as u16, *v).unwrap();
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, wb.save_to_buffer().unwrap()).unwrap();
    path
}

const HEADER: [&str; 5] = ["序号", "任务", "牵头单位", "配合单位", "完成时限"];

/// The breakdown table; `lead4` is row 5's lead unit (cell C5).
fn breakdown(dir: &Path, name: &str, lead4: &str) -> std::path::PathBuf {
    xlsx(
        dir,
        name,
        &[
            HEADER,
            ["1", "农村生活污水治理", "城关镇", "各乡镇", "2027年6月底前"],
            ["2", "河道综合整治", "环保局", "", "2027-06-30"],
            ["3", "秸秆禁烧巡查", "东城镇", "", "2027-05-31"],
            ["4", "饮用水源地保护", lead4, "环保局", "2027-09-30"],
        ],
    )
}

/// The plan's tasks through the API, in code order.
async fn plan_tasks(app: &TestApp, c: &city::City) -> Vec<Value> {
    let list = expect_json(
        app.get(
            &format!("/api/v1/tasks?plan_id={}&per_page=100", c.plan_id),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    let mut tasks = list["items"].as_array().unwrap().clone();
    tasks.sort_by_key(|t| t["code"].as_str().unwrap().to_string());
    tasks
}

/// Uploads `file` on the import page in `mode` (with the reason for moving
/// assigned tasks' deadlines) and waits for the answer.
async fn preview(b: &Browser, file: &Path, mode: &str, reason: &str) {
    b.choose_file("#file", file).await;
    b.click(&format!("input[name='mode'][value='{mode}']"))
        .await;
    b.fill("#reason", reason).await;
    b.press("预览").await;
}

async fn the_office_imports_a_table_and_bulk_assigns_it_in_the_browser(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = city::build(&app).await;
    settle_accounts(&app);
    // 市生态环境局 is 环保局 in the office's tables.
    let unit = format!("/api/v1/units/{}", c.unit_b);
    let b_unit = expect_json(app.get(&unit, &c.admin).await, 200).await;
    expect_json(
        app.patch(
            &unit,
            &c.admin,
            json!({ "version": b_unit["version"], "aliases": ["环保局"] }),
        )
        .await,
        200,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let bad = breakdown(dir.path(), "分解表.xlsx", "水务局");
    let good = breakdown(dir.path(), "分解表-改.xlsx", "东城镇");

    let b = Browser::open(&app).await;
    let plan = format!("/plans/{}", c.plan_id);
    b.goto(&format!("{plan}/import")).await;
    b.sign_in("office", &password_of("office")).await;
    assert_eq!(b.path().await, format!("{plan}/import"));

    // One unknown unit: the sheet with C5 marked and its message, the group
    // word and the alias accepted, nothing written.
    preview(&b, &bad, "create", "").await;
    let marked = b.client.find_all(Locator::Css("td.bad")).await.unwrap();
    assert_eq!(marked.len(), 1, "one marked cell");
    assert_eq!(
        marked[0].attr("data-cell").await.unwrap().as_deref(),
        Some("C5")
    );
    let text = b.text().await;
    assert!(text.contains("C5：找不到单位“水务局”"), "{text}");
    assert!(text.contains("未导入任何内容"), "{text}");
    b.screenshot("import-faults").await;
    let errors = b.console_errors().await;
    assert!(
        errors.len() == 1 && errors[0].contains("422"),
        "the refused table's status, nothing else: {errors:?}"
    );
    assert!(plan_tasks(&app, &c).await.is_empty());

    // Fixed: 各乡镇 becomes a sub-task per other township, 环保局 is 市生态环境局.
    preview(&b, &good, "create", "").await;
    let text = b.text().await;
    assert!(text.contains("将新建 6 项任务"), "{text}");
    assert!(text.contains("由“各乡镇”分解"), "{text}");
    assert_eq!(b.count("td.bad").await, 0);
    let row2 = b
        .client
        .find(Locator::Css("tr[data-code='2']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row2.contains("市生态环境局"), "the alias resolved: {row2}");
    b.screenshot("import-preview").await;
    b.press("确认导入").await;
    assert_eq!(b.path().await, format!("{plan}?done=import&n=6&m=0"));
    assert!(b.text().await.contains("已导入：新建 6 项任务"));
    let tasks = plan_tasks(&app, &c).await;
    assert_eq!(tasks.len(), 6);
    let two = tasks.iter().find(|t| t["code"] == "2").unwrap();
    assert_eq!(two["lead_unit_id"], c.unit_b);

    // The tree: tick every draft, 批量交办.
    for t in &tasks {
        assert_eq!(t["status"], "draft");
        b.click(&format!(
            "input[name='task'][value='{}:{}']",
            t["id"], t["version"]
        ))
        .await;
    }
    b.scroll_to("form.bulk").await;
    b.screenshot("plan-bulk").await;
    b.press("批量交办").await;
    let text = b.text().await;
    assert!(
        text.contains("已交办 6 项任务，各单位将收到交办通知。"),
        "{text}"
    );
    assert_eq!(
        text.matches("已交办").count(),
        7,
        "the note and 6 tasks: {text}"
    );
    for t in plan_tasks(&app, &c).await {
        assert_eq!(t["status"], "assigned", "{t}");
    }

    // The outbox delivers: each lead unit's address gets the 交办通知 of
    // every task it leads.
    let out = Outbox::new(&app, &smtp.url());
    assert!(out.deliver().sent >= 6);
    let mail = smtp.received();
    let address = |unit: &Value| match unit.as_i64().unwrap() {
        u if u == c.unit_a => "t01@example.gov.cn",
        u if u == c.unit_b => "d01@example.gov.cn",
        u if u == c.unit_c => "t02@example.gov.cn",
        u => panic!("unit {u}"),
    };
    for t in &tasks {
        let to = address(&t["lead_unit_id"]);
        let subject = format!("【交办通知】{}", t["code"].as_str().unwrap());
        assert!(
            mail.iter().any(|m| m.to.contains(&to.to_string())
                && m.subject().starts_with(&subject)
                && m.text().contains("牵头办理")),
            "{subject} to {to}: {:?}",
            mail.iter()
                .map(|m| (m.to.clone(), m.subject()))
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(
        b.console_errors().await,
        Vec::<String>::new(),
        "no errors in the browser console"
    );
    b.close().await;
}

async fn a_reimport_in_the_browser_moves_the_deadlines(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let dir = tempfile::tempdir().unwrap();
    let first = xlsx(
        dir.path(),
        "分解表.xlsx",
        &[
            HEADER,
            ["1", "甲任务", "城关镇", "", "2027-03-31"],
            ["2", "乙任务", "东城镇", "", "2027-04-30"],
        ],
    );
    let moved = xlsx(
        dir.path(),
        "分解表-调整.xlsx",
        &[
            HEADER,
            ["1", "甲任务", "城关镇", "", "2027-06-30"],
            ["2", "乙任务", "东城镇", "", "2027-04-30"],
        ],
    );
    let b = Browser::open(&app).await;
    let plan = format!("/plans/{}", c.plan_id);
    b.goto(&format!("{plan}/import")).await;
    b.sign_in("office", &password_of("office")).await;
    preview(&b, &first, "create", "").await;
    b.press("确认导入").await;
    assert!(b.text().await.contains("已导入：新建 2 项任务"));
    // Assigned meanwhile, so moving a deadline needs a reason.
    let tasks = plan_tasks(&app, &c).await;
    let list: Vec<Value> = tasks
        .iter()
        .map(|t| json!({ "id": t["id"], "version": t["version"] }))
        .collect();
    expect_json(
        app.post(
            &format!("/api/v1/plans/{}/assign", c.plan_id),
            &c.office,
            json!({ "tasks": list }),
        )
        .await,
        200,
    )
    .await;

    b.goto(&format!("{plan}/import")).await;
    preview(&b, &moved, "update", "省厅调整了验收时间").await;
    let text = b.text().await;
    assert!(
        text.contains("将新建 0 项任务，更新 1 项任务；方案中有 0 项任务不在表中。"),
        "{text}"
    );
    let change = b
        .client
        .find(Locator::Css("tr[data-task='1'][data-field='due_date']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        change.contains("完成时限")
            && change.contains("2027-03-31")
            && change.contains("2027-06-30"),
        "{change}"
    );
    assert_eq!(b.count("tr[data-task='2']").await, 0, "2 is unchanged");
    let reason = b
        .client
        .find(Locator::Css("#confirm-reason"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        reason.as_deref(),
        Some("省厅调整了验收时间"),
        "kept for the confirm"
    );
    b.press("确认导入").await;
    assert!(
        b.text()
            .await
            .contains("已导入：新建 0 项任务，更新 1 项任务。"),
        "{}",
        b.text().await
    );

    // The task pages show the deadlines as the table has them now.
    for (t, due) in tasks.iter().zip(["2027-06-30", "2027-04-30"]) {
        b.goto(&format!("/tasks/{}", t["id"])).await;
        let page = b.text().await;
        assert!(page.contains(due), "{} due {due}: {page}", t["code"]);
    }
    b.goto(&format!("/tasks/{}", tasks[0]["id"])).await;
    let page = b.text().await;
    assert!(
        page.contains("省厅调整了验收时间"),
        "the reason on the timeline: {page}"
    );
    b.close().await;
}

async fn the_office_publishes_a_bulletin_and_confirms_its_proposal_in_the_browser(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    // An overdue task of 城关镇 in the period: the bulletin criticises it.
    let late = c.task(&app, "1", -3, json!({})).await;
    c.ok(&app, &c.office, &late, "assign", None).await;
    let period = local_day(-3)[..7].to_string();

    let b = Browser::open(&app).await;
    b.goto("/bulletins").await;
    b.sign_in("office", &password_of("office")).await;
    assert_eq!(b.path().await, "/bulletins");
    b.fill("#period", &period).await;
    b.press("起草本期通报").await;
    assert!(b.text().await.contains("已起草本期通报"));
    let path = b.path().await.split('?').next().unwrap().to_string();
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();

    // The free texts, edited in the form.
    let texts = [
        ("#b-title", "第十一期督查通报（生态示范市创建）"),
        (
            "#b-foreword",
            "按照创建工作安排，现将本期任务推进情况通报如下。",
        ),
        (
            &format!("#req-{}", c.unit_a) as &str,
            "城关镇要在十日内完成整改，并书面报告创建办。",
        ),
        ("#b-closing", "各单位要对照通报，举一反三，抓好落实。"),
    ];
    for (field, text) in &texts {
        b.fill(field, text).await;
    }
    // Tall enough for the whole form in the picture.
    b.resize(1280, 1400).await;
    b.screenshot("bulletin-edit").await;
    b.resize(1280, 900).await;
    b.press("保存").await;
    let page = b.text().await;
    assert!(page.contains("已保存修改"), "{page}");

    // The preview is the bulletin as it will be sent, with the edits.
    b.goto(&format!("{path}/file?format=html")).await;
    let preview = b.text().await;
    for (_, text) in &texts {
        assert!(preview.contains(text), "{text} in the preview: {preview}");
    }

    // Publishing says what it does, and needs the box ticked.
    b.goto(&format!("{path}/publish")).await;
    let page = b.text().await;
    for what in [
        "下一个期号",
        "创建整改任务: 城关镇",
        "问责建议",
        "邮件发送给每个单位",
    ] {
        assert!(page.contains(what), "{what}: {page}");
    }
    b.click("input[name='confirm']").await;
    b.press("发布").await;
    assert_eq!(b.path().await.split('?').next().unwrap(), path);
    let page = b.text().await;
    assert!(page.contains("通报已发布"), "{page}");
    assert!(
        page.contains("年第1期") && page.contains("已发布"),
        "{page}"
    );
    assert!(page.contains("城关镇要在十日内完成整改"), "{page}");
    assert_eq!(b.count("#b-title").await, 0, "read-only");
    assert_eq!(b.count("textarea").await, 0, "read-only");

    // The proposal it made, confirmed with a note on its page.
    let proposals = expect_json(
        app.get(
            &format!("/api/v1/accountability?bulletin_id={id}&status=proposed"),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    let record = proposals["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["unit_id"] == c.unit_a)
        .unwrap_or_else(|| panic!("a proposal for 城关镇: {proposals}"))["id"]
        .as_i64()
        .unwrap();
    b.goto("/accountability?status=proposed").await;
    assert!(b.text().await.contains("待审定"));
    b.goto(&format!("/accountability/{record}")).await;
    let page = b.text().await;
    assert!(
        page.contains("城关镇") && page.contains("督查通报"),
        "{page}"
    );
    b.fill("#decision-note", "经领导小组研究，予以通报批评")
        .await;
    b.screenshot("accountability").await;
    b.press("确认问责").await;
    let page = b.text().await;
    assert!(
        page.contains("已确认") && page.contains("经领导小组研究，予以通报批评"),
        "{page}"
    );
    assert_eq!(b.count("#decision-note").await, 0, "decided: no form");
    let now = expect_json(
        app.get(&format!("/api/v1/accountability/{record}"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(now["status"], "confirmed");
    let bulletin = expect_json(
        app.get(&format!("/api/v1/bulletins/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(bulletin["status"], "published");
    assert_eq!(
        b.console_errors().await,
        Vec::<String>::new(),
        "no errors in the browser console"
    );
    b.close().await;
}
