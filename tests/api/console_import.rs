//! The office's import page and task forms: a bad table comes back as the
//! sheet with the bad cell marked, nothing written; a good one is previewed
//! (group words expanded) and imported on `确认导入`; a re-import shows what
//! changes and is refused when a task changed since the preview. The task
//! forms take names, tell an unknown one at its field, and refuse a stale
//! edit. Clerks and leaders get neither.

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::city;
use crate::console::{password_of, settle_accounts, Page, Visitor};
use crate::helpers::{expect_json, TestApp};

crate::api_tests![
    the_office_previews_fixes_and_imports_a_table_in_the_console,
    a_reimport_shows_the_changes_and_refuses_a_task_changed_since_the_preview,
    the_office_creates_and_edits_tasks_by_names_in_forms,
    clerks_and_leaders_get_neither_the_import_nor_the_task_forms,
];

/// The value of the first field `name` on the page, unescaped.
pub fn hidden(page: &Page, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = page
        .body
        .find(&key)
        .unwrap_or_else(|| panic!("no field {name} in {}", page.body))
        + key.len();
    page.body[at..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn upload(csrf: &str, name: &str, csv: &str, mode: &str, reason: &str) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .text("mode", mode.to_string())
        .text("reason", reason.to_string())
        .part(
            "file",
            Part::bytes(csv.as_bytes().to_vec()).file_name(name.to_string()),
        )
}

/// The confirm form of a preview page, as the browser posts it.
fn confirm(preview: &Page, reason: &str) -> Form {
    Form::new()
        .text("csrf", preview.csrf())
        .text("confirm", "1")
        .text("mode", hidden(preview, "mode"))
        .text("filename", hidden(preview, "filename"))
        .text("versions", hidden(preview, "versions"))
        .text("table", hidden(preview, "table"))
        .text("reason", reason.to_string())
}

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
    list["items"].as_array().unwrap().clone()
}

const BAD: &str = "序号,任务,牵头单位,配合单位,责任领导,完成时限\n\
                   1,农村生活污水治理,城关镇,各乡镇,leader,2026-12-31\n\
                   2,河道综合整治,不存在的局,,,2026-06-30\n";
const GOOD: &str = "序号,任务,牵头单位,配合单位,责任领导,完成时限\n\
                    1,农村生活污水治理,城关镇,各乡镇,leader,2026-12-31\n\
                    2,河道综合整治,生态环境局,,,2026-06-30\n";

async fn the_office_previews_fixes_and_imports_a_table_in_the_console(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let plan = format!("/plans/{}", c.plan_id);
    let tree = office.get(&plan).await;
    tree.assert_has(&format!("href=\"{plan}/import\""));
    let form = office.get(&format!("{plan}/import")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    form.assert_has("上传分解表");
    let csrf = form.csrf();

    // C3 names no unit: the sheet comes back with that cell marked, and
    // nothing is written.
    let bad = office
        .post_multipart(
            &format!("{plan}/import"),
            upload(&csrf, "分解表.csv", BAD, "create", ""),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.assert_has("未导入任何内容");
    bad.assert_has("id=\"cell-C3\" class=\"bad\" data-cell=\"C3\"");
    bad.assert_has("找不到单位“不存在的局”");
    assert_eq!(bad.body.matches("class=\"bad\"").count(), 1, "one bad cell");
    assert!(plan_tasks(&app, &c).await.is_empty());

    // Fixed: the preview lists the rows, 各乡镇 made into a sub-task per
    // other township, still nothing written.
    let preview = office
        .post_multipart(
            &format!("{plan}/import"),
            upload(&csrf, "分解表.csv", GOOD, "create", ""),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    preview.assert_has("将新建 4 项任务");
    preview.assert_has("由“各乡镇”分解");
    preview.assert_has("data-code=\"1.2\"");
    preview.assert_has("确认导入");
    assert!(plan_tasks(&app, &c).await.is_empty());

    let done = office
        .post_multipart(&format!("{plan}/import"), confirm(&preview, ""))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{plan}?done=import&n=4&m=0"));
    office
        .get(done.location())
        .await
        .assert_has("已导入：新建 4 项任务，更新 0 项任务。");
    let tasks = plan_tasks(&app, &c).await;
    assert_eq!(tasks.len(), 4);
    let two = tasks.iter().find(|t| t["code"] == "2").unwrap();
    assert_eq!(two["lead_unit_id"], c.unit_b, "生态环境局 is 市生态环境局");
}

async fn a_reimport_shows_the_changes_and_refuses_a_task_changed_since_the_preview(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let plan = format!("/plans/{}", c.plan_id);
    let csrf = office.get(&format!("{plan}/import")).await.csrf();
    let first = "序号,任务,牵头单位,完成时限\n1,甲任务,城关镇,2026-12-31\n2,乙任务,东城镇,2026-06-30\n3,丙任务,东城镇,2026-06-30\n";
    let preview = office
        .post_multipart(
            &format!("{plan}/import"),
            upload(&csrf, "a.csv", first, "create", ""),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let done = office
        .post_multipart(&format!("{plan}/import"), confirm(&preview, ""))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);

    // The corrected table moves 2's deadline and lacks 3.
    let corrected =
        "序号,任务,牵头单位,完成时限\n1,甲任务,城关镇,2026-12-31\n2,乙任务,东城镇,2026-09-30\n";
    let preview = office
        .post_multipart(
            &format!("{plan}/import"),
            upload(&csrf, "b.csv", corrected, "update", ""),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    preview.assert_has("将新建 0 项任务，更新 1 项任务；方案中有 1 项任务不在表中。");
    preview.assert_has("data-task=\"2\" data-field=\"due_date\"");
    preview.assert_has("2026-06-30");
    preview.assert_has("2026-09-30");
    preview.assert_has("丙任务");

    // Someone changes 2 between the preview and the confirm: refused, not
    // overwritten.
    let tasks = plan_tasks(&app, &c).await;
    let two = tasks.iter().find(|t| t["code"] == "2").unwrap().clone();
    expect_json(
        app.patch(
            &format!("/api/v1/tasks/{}", two["id"]),
            &c.office,
            json!({ "version": two["version"], "title": "乙任务（修订）" }),
        )
        .await,
        200,
    )
    .await;
    let refused = office
        .post_multipart(&format!("{plan}/import"), confirm(&preview, ""))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    refused.assert_has("预览后有任务被他人修改");
    let after = expect_json(
        app.get(&format!("/api/v1/tasks/{}", two["id"]), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(after["title"], "乙任务（修订）");
    assert_eq!(after["due_date"], "2026-06-30");

    // Previewed again, it applies; 3 is kept.
    let preview = office
        .post_multipart(
            &format!("{plan}/import"),
            upload(&csrf, "b.csv", corrected, "update", ""),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.body);
    let done = office
        .post_multipart(&format!("{plan}/import"), confirm(&preview, ""))
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let tasks = plan_tasks(&app, &c).await;
    assert_eq!(tasks.len(), 3, "3 is listed, never deleted");
    let two = tasks.iter().find(|t| t["code"] == "2").unwrap();
    assert_eq!(two["due_date"], "2026-09-30");
    assert_eq!(two["title"], "乙任务", "the table's title");
}

async fn the_office_creates_and_edits_tasks_by_names_in_forms(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let parent = c.task(&app, "3", 30, json!({})).await;
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let form = office
        .get(&format!("/tasks/new?plan_id={}", c.plan_id))
        .await;
    assert_eq!(form.status, 200, "{}", form.body);
    form.assert_has(&format!("<option value=\"{}\" selected>", c.plan_id));
    form.assert_has(
        "<datalist id=\"unit-names\"><option value=\"市生态环境局\"><option value=\"城关镇\">",
    );
    form.assert_has("<option value=\"leader\"");
    let csrf = form.csrf();
    let plan_id = c.plan_id.to_string();
    let fields = |lead: &'static str, coop: &'static str, leader: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("plan_id", plan_id.clone()),
            ("code", "3.1".to_string()),
            ("title", "建设污水管网".to_string()),
            ("category", "key_task".to_string()),
            ("priority", "high".to_string()),
            ("due_date", "2026-11-30".to_string()),
            ("lead_unit", lead.to_string()),
            ("cooperating", coop.to_string()),
            ("leader", leader.to_string()),
        ]
    };

    // Unknown names are told at their fields; nothing is created.
    let bad = fields("水务局", "东城镇、不存在的单位", "王副市长");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = office.post("/tasks/new", &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_has("<p id=\"lead_unit-error\" class=\"error\">找不到单位“水务局”</p>");
    refused.assert_has("<p id=\"cooperating-error\" class=\"error\">找不到单位“不存在的单位”</p>");
    refused.assert_has("<p id=\"leader-error\" class=\"error\">找不到领导“王副市长”</p>");
    refused.assert_has("value=\"东城镇、不存在的单位\"");
    assert_eq!(
        expect_json(
            app.get(&format!("/api/v1/tasks?plan_id={}", c.plan_id), &c.office)
                .await,
            200
        )
        .await["total"],
        1
    );

    // Short names and the leader's name resolve; 3.1 goes under 3.
    let good = fields("城关镇", "生态环境局、东城镇", "leader");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = office.post("/tasks/new", &good).await;
    assert_eq!(created.status, 303, "{}", created.body);
    let id: i64 = created
        .location()
        .trim_start_matches("/tasks/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    office
        .get(created.location())
        .await
        .assert_has("任务已创建（草稿）");
    let task = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(task["lead_unit_id"], c.unit_a);
    assert_eq!(task["cooperating_unit_ids"], json!([c.unit_b, c.unit_c]));
    assert_eq!(task["responsible_leader_id"], c.leader_id);
    assert_eq!(task["parent_id"], parent["id"]);
    assert_eq!(task["priority"], "high");

    // Edit: the form shows names; a stale version is a conflict.
    let edit = office.get(&format!("/tasks/{id}/edit")).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    edit.assert_has("value=\"市生态环境局、东城镇\"");
    let version = edit.version();
    let edit_csrf = edit.csrf();
    let changed = |title: &'static str| {
        vec![
            ("csrf", edit_csrf.clone()),
            ("version", version.clone()),
            ("plan_id", plan_id.clone()),
            ("code", "3.1".to_string()),
            ("title", title.to_string()),
            ("category", "key_task".to_string()),
            ("priority", "normal".to_string()),
            ("due_date", "2026-11-30".to_string()),
            ("lead_unit", "东城镇".to_string()),
            ("cooperating", "".to_string()),
            ("leader", "".to_string()),
        ]
    };
    let first = changed("建设污水管网（一期）");
    let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = office.post(&format!("/tasks/{id}/edit"), &first).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), format!("/tasks/{id}?done=saved"));
    let task = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(task["title"], "建设污水管网（一期）");
    assert_eq!(task["lead_unit_id"], c.unit_c);
    assert_eq!(task["cooperating_unit_ids"], json!([]));
    assert_eq!(task["responsible_leader_id"], Value::Null);
    let again = changed("建设污水管网（二期）");
    let again: Vec<(&str, &str)> = again.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let stale = office.post(&format!("/tasks/{id}/edit"), &again).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.assert_has("载入最新内容");
    let task = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(task["title"], "建设污水管网（一期）", "not overwritten");
}

async fn clerks_and_leaders_get_neither_the_import_nor_the_task_forms(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.task(&app, "1", 30, json!({})).await;
    for who in ["clerk-a", "leader"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        let plan = format!("/plans/{}", c.plan_id);
        let tree = v.get(&plan).await;
        assert!(!tree.body.contains("/import\""), "{}", tree.body);
        assert!(!tree.body.contains("/tasks/new"), "{}", tree.body);
        for path in [
            format!("{plan}/import"),
            format!("/tasks/new?plan_id={}", c.plan_id),
            format!("/tasks/{}/edit", task["id"]),
        ] {
            assert_eq!(v.get(&path).await.status, 403, "{who} {path}");
        }
        let csrf = v.get("/").await.csrf();
        let posted = v
            .post(
                "/tasks/new",
                &[
                    ("csrf", csrf.as_str()),
                    ("plan_id", &c.plan_id.to_string()),
                    ("code", "9"),
                    ("title", "不该创建"),
                    ("lead_unit", "城关镇"),
                ],
            )
            .await;
        assert_eq!(posted.status, 403, "{who}");
        let imported = v
            .post_multipart(
                &format!("{plan}/import"),
                upload(&csrf, "a.csv", GOOD, "create", ""),
            )
            .await;
        assert_eq!(imported.status, 403, "{who}");
    }
    assert_eq!(plan_tasks(&app, &c).await.len(), 1);
}
