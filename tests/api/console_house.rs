//! The administrator keeps the house in the console: accounts created from a
//! list (one-time passwords shown once, each changed at first sign-in; a bad
//! cell marked and nothing created), the holiday calendar imported, the
//! audit chain verified (intact, then broken by tampering), the settings
//! read with their secrets masked; the office and a clerk are refused all of
//! it. Both backends.

use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, expect_problem, TestApp, ADMIN_PASSWORD};

crate::api_tests![
    the_admin_creates_accounts_from_a_list_and_each_changes_its_password_first,
    a_bad_cell_refuses_the_whole_list_and_is_marked_at_its_place,
    the_admin_imports_the_holiday_calendar_and_a_bad_line_is_named,
    verifying_the_audit_chain_says_intact_then_finds_the_altered_entry,
    the_settings_page_masks_the_secrets with secrets,
    the_office_and_a_clerk_are_refused_the_house,
];

const JWT_SECRET: &str = "house-test-signing-key-0123456789abcdef";
const SMTP_PASSWORD: &str = "mail-pass-77x";

fn secrets(s: &mut duban::config::Settings) {
    s.jwt_secret = Some(secrecy::SecretString::from(JWT_SECRET));
    s.smtp_url = Some(secrecy::SecretString::from(format!(
        "smtp://mailer:{SMTP_PASSWORD}@mail.example.gov.cn:587"
    )));
}

/// A unit with a short name (别名) as lists write it.
async fn development_zone(app: &TestApp, token: &str) -> serde_json::Value {
    expect_json(
        app.post(
            "/api/v1/units",
            token,
            json!({ "code": "jkq", "name": "经济技术开发区管理委员会", "kind": "park",
                    "aliases": ["经开区管委会"], "contact_emails": ["jkq@example.gov.cn"] }),
        )
        .await,
        201,
    )
    .await
}

/// An account list as an office keeps it in Excel: a title row, then the
/// header, then the accounts.
fn list_workbook(rows: &[[&str; 6]]) -> Vec<u8> {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "2027 年督办系统账号名单").unwrap();
    for (c, h) in ["单位", "姓名", "用户名", "角色", "手机", "邮箱"]
        .iter()
        .enumerate()
    {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if !text.is_empty() {
                ws.write_string(r as u32 + 2, c as u16, *text).unwrap();
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

fn upload_form(csrf: &str, name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("csrf", csrf.to_string())
        .part("file", Part::bytes(bytes).file_name(name.to_string()))
}

/// The one-time password shown in `username`'s row.
fn password_in_row(body: &str, username: &str) -> String {
    let at = body
        .find(&format!("data-user=\"{username}\""))
        .unwrap_or_else(|| panic!("{username}'s row in {body}"));
    let rest = &body[at..];
    let p = rest.find("<code class=\"password\">").unwrap() + "<code class=\"password\">".len();
    rest[p..].split('<').next().unwrap().to_string()
}

async fn the_admin_creates_accounts_from_a_list_and_each_changes_its_password_first(app: TestApp) {
    let token = app.admin_token().await;
    let zone = development_zone(&app, &token).await;
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let users = admin.get("/admin/users").await;
    users.assert_has("action=\"/admin/users/batch\"");
    let csrf = users.csrf();
    let list = list_workbook(&[
        [
            "经开区管委会",
            "张三",
            "zhangsan",
            "单位用户",
            "13800000001",
            "zs@example.gov.cn",
        ],
        ["", "李四", "lisi", "创建办", "", ""],
    ]);
    let done = admin
        .post_multipart("/admin/users/batch", upload_form(&csrf, "名单.xlsx", list))
        .await;
    assert_eq!(done.status, 201, "{}", done.body);
    done.assert_has("已创建 2 个账号");
    let zhang = password_in_row(&done.body, "zhangsan");
    let li = password_in_row(&done.body, "lisi");
    assert!(zhang.len() >= 10 && li.len() >= 10 && zhang != li);

    // The accounts are as the list said: the unit found by its short name.
    let made = expect_json(app.get("/api/v1/users?q=zhangsan", &token).await, 200).await;
    assert_eq!(made["items"][0]["role"], "unit");
    assert_eq!(made["items"][0]["unit_id"], zone["id"]);
    assert_eq!(made["items"][0]["email"], "zs@example.gov.cn");
    let made = expect_json(app.get("/api/v1/users?q=lisi", &token).await, 200).await;
    assert_eq!(made["items"][0]["role"], "office");

    // Shown once: the accounts page does not carry the passwords again.
    let again = admin.get("/admin/users").await;
    again.assert_has("data-user=\"zhangsan\"");
    assert!(!again.body.contains(&zhang) && !again.body.contains(&li));

    // The first sign-in leads to choosing a new password, nothing else first.
    let v = Visitor::new(&app);
    let first = v.sign_in("zhangsan", &zhang, "/tasks").await;
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(first.location(), "/password");
    assert_eq!(v.get("/tasks").await.location(), "/password");

    // The API does the same: one-time passwords in the answer only.
    let res = app
        .post_file(
            "/api/v1/users/batch",
            &token,
            "list.csv",
            "单位,姓名,用户名,角色,手机,邮箱\njkq,王五,wangwu,leader,,\n"
                .as_bytes()
                .to_vec(),
        )
        .await;
    let report = expect_json(res, 201).await;
    assert_eq!(report["created"][0]["username"], "wangwu");
    assert_eq!(report["created"][0]["row"], 2);
    let password = report["created"][0]["generated_password"]
        .as_str()
        .unwrap()
        .to_string();
    let v = Visitor::new(&app);
    assert_eq!(
        v.sign_in("wangwu", &password, "/").await.location(),
        "/password"
    );
}

async fn a_bad_cell_refuses_the_whole_list_and_is_marked_at_its_place(app: TestApp) {
    let token = app.admin_token().await;
    development_zone(&app, &token).await;
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let csrf = admin.get("/admin/users").await.csrf();
    let list = list_workbook(&[
        ["经开区管委会", "张三", "zhangsan", "单位用户", "", ""],
        ["某某局", "李四", "lisi", "单位用户", "", ""],
        ["经开区管委会", "王五", "zhangsan", "局长", "", "not-mail"],
        ["", "赵六", "admin", "viewer", "", ""],
    ]);
    let refused = admin
        .post_multipart("/admin/users/batch", upload_form(&csrf, "名单.xlsx", list))
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_has("一个账号也没有创建");
    // Each bad cell is marked where it is, with its message.
    for cell in ["A4", "C5", "D5", "F5", "C6"] {
        refused.assert_has(&format!("<td data-cell=\"{cell}\" class=\"bad\""));
    }
    refused.assert_has("<td data-cell=\"C3\">zhangsan</td>");
    refused.assert_has("某某局");
    refused.assert_has("与第 3 行重复");
    refused.assert_has("已被占用");
    // Nothing was created, not even the good row.
    let none = expect_json(app.get("/api/v1/users?q=zhangsan", &token).await, 200).await;
    assert_eq!(none["total"], 0);

    // The API names the same cells.
    let res = app
        .post_file(
            "/api/v1/users/batch",
            &token,
            "list.csv",
            "单位,姓名,用户名,角色\n经开区管委会,张三,zhangsan,unit\n某某局,李四,lisi,unit\n"
                .as_bytes()
                .to_vec(),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{problem}"))
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["A3"], "{problem}");
    let none = expect_json(app.get("/api/v1/users?q=zhangsan", &token).await, 200).await;
    assert_eq!(none["total"], 0);
}

async fn the_admin_imports_the_holiday_calendar_and_a_bad_line_is_named(app: TestApp) {
    let token = app.admin_token().await;
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let empty = admin.get("/admin/holidays?year=2027").await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    empty.assert_has("这一年还没有节假日安排");
    let csrf = empty.csrf();
    let bad = "日期,类型,名称\n2027-02-06,休,春节\n2027-02-30,休,春节\n";
    let refused = admin
        .post_multipart(
            "/admin/holidays/import",
            upload_form(&csrf, "2027.csv", bad.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    refused.assert_has("未导入");
    refused.assert_has("第 3 行");
    let none = expect_json(app.get("/api/v1/holidays?year=2027", &token).await, 200).await;
    assert_eq!(none, json!([]), "all lines or none");

    let good = "date,kind,name\n2027-02-06,休,春节\n2027-02-07,休,春节\n2027-02-14,班,春节调休\n";
    let done = admin
        .post_multipart(
            "/admin/holidays/import",
            upload_form(&csrf, "2027.csv", good.as_bytes().to_vec()),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/admin/holidays?year=2027&imported=3");
    let page = admin.get(done.location()).await;
    page.assert_has("已导入 3 个日期");
    page.assert_has("data-date=\"2027-02-06\"");
    page.assert_has("调休上班");
    page.assert_has("春节调休");
    let set = expect_json(app.get("/api/v1/holidays?year=2027", &token).await, 200).await;
    assert_eq!(set.as_array().unwrap().len(), 3);
}

async fn verifying_the_audit_chain_says_intact_then_finds_the_altered_entry(app: TestApp) {
    let token = app.admin_token().await;
    app.create_unit(&token, "ct", "城关镇").await;
    app.create_unit(&token, "dc", "东城镇").await;
    app.create_user(&token, "office", "office", None).await;
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;

    let trail = admin.get("/admin/audit").await;
    assert_eq!(trail.status, 200, "{}", trail.body);
    // Newest first: the account was made after the units.
    let user_at = trail.body.find("<td>user #").unwrap();
    let unit_at = trail.body.find("<td>unit #").unwrap();
    assert!(user_at < unit_at, "newest first");
    let units = admin.get("/admin/audit?entity=unit").await;
    units.assert_has("共 2 条");
    assert!(!units.body.contains("<td>user #"));

    let csrf = trail.csrf();
    let verified = admin
        .post("/admin/audit/verify", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    verified.assert_has("data-verdict=\"intact\"");
    verified.assert_has("审计链完整");

    // Someone edits an entry directly in the database.
    let target: i64 = {
        use diesel::prelude::*;
        use duban::db::schema::audit_log;
        let pool = duban::db::connect(&app.database.url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let target: i64 = audit_log::table
            .select(audit_log::id)
            .order(audit_log::id.asc())
            .offset(1)
            .first(&mut conn)
            .unwrap();
        diesel::update(audit_log::table.find(target))
            .set(audit_log::after_json.eq(json!({ "name": "篡改" }).to_string()))
            .execute(&mut conn)
            .unwrap();
        target
    };
    let broken = admin
        .post("/admin/audit/verify", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(broken.status, 200, "{}", broken.body);
    broken.assert_has(&format!("data-verdict=\"broken\" data-entry=\"{target}\""));
    broken.assert_has(&format!("审计链在第 {target} 条记录处断开"));
    broken.assert_has("该记录被修改过");
}

async fn the_settings_page_masks_the_secrets(app: TestApp) {
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = admin.get("/admin/settings").await;
    assert_eq!(page.status, 200, "{}", page.body);
    page.assert_has("data-setting=\"jwt_issuer\"");
    page.assert_has("data-setting=\"yellow_warning_days\"");
    page.assert_has("mailer:***@mail.example.gov.cn:587");
    page.assert_has("已设置（不显示）");
    assert!(!page.body.contains(JWT_SECRET), "no signing key");
    assert!(!page.body.contains(SMTP_PASSWORD), "no SMTP password");
    assert!(!page.body.contains(ADMIN_PASSWORD), "no admin password");
    if let Some((_, rest)) = app.database.url.split_once("://") {
        if let Some((userinfo, _)) = rest.split_once('@') {
            if let Some((_, password)) = userinfo.split_once(':') {
                assert!(!page.body.contains(password), "no database password");
            }
        }
    }
}

async fn the_office_and_a_clerk_are_refused_the_house(app: TestApp) {
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "ct", "城关镇").await;
    let (_, office_token) = app.create_user(&token, "office", "office", None).await;
    app.create_user(&token, "clerk", "unit", unit["id"].as_i64())
        .await;
    settle_accounts(&app);
    for who in ["office", "clerk"] {
        let v = Visitor::signed_in(&app, who, &password_of(who)).await;
        let home = v.get("/").await;
        let csrf = home.csrf();
        for path in ["/admin/holidays", "/admin/audit", "/admin/settings"] {
            let page = v.get(path).await;
            assert_eq!(page.status, 403, "{who} {path}: {}", page.body);
        }
        let verify = v
            .post("/admin/audit/verify", &[("csrf", csrf.as_str())])
            .await;
        assert_eq!(verify.status, 403, "{who}");
        let list = list_workbook(&[["", "某人", "sneaky", "admin", "", ""]]);
        let batch = v
            .post_multipart("/admin/users/batch", upload_form(&csrf, "l.xlsx", list))
            .await;
        assert_eq!(batch.status, 403, "{who}: {}", batch.body);
        let import = v
            .post_multipart(
                "/admin/holidays/import",
                upload_form(&csrf, "h.csv", "2027-02-06,休,春节\n".as_bytes().to_vec()),
            )
            .await;
        assert_eq!(import.status, 403, "{who}");
    }
    assert_eq!(app.try_login("sneaky", "whatever-1").await.status(), 401);
    let none = expect_json(app.get("/api/v1/holidays?year=2027", &token).await, 200).await;
    assert_eq!(none, json!([]));
    // The API refuses the office too.
    let res = app
        .post_file("/api/v1/users/batch", &office_token, "l.csv", b"x".to_vec())
        .await;
    expect_problem(res, 403, "forbidden").await;
}
