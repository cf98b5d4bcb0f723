//! An account's 手机 (`users.phone`): taken and shown by the user API (a
//! malformed one a 422 naming `phone`), kept from the batch list's 手机
//! column, shown and edited on the admin's accounts page. Both backends.

use serde_json::{json, Value};

use crate::console::{Page, Visitor};
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp, ADMIN_PASSWORD};

crate::api_tests![
    the_user_api_takes_and_checks_a_phone,
    the_batch_list_keeps_phones_and_the_admin_edits_them,
];

async fn user(app: &TestApp, token: &str, username: &str) -> Value {
    let list = expect_json(
        app.get(&format!("/api/v1/users?q={username}"), token).await,
        200,
    )
    .await;
    list["items"][0].clone()
}

/// Sends the batch list `csv` through the API.
async fn batch(app: &TestApp, token: &str, csv: &str) -> reqwest::Response {
    app.post_file(
        "/api/v1/users/batch",
        token,
        "list.csv",
        csv.as_bytes().to_vec(),
    )
    .await
}

/// Saves `phone` on the accounts page's row form `action` (with the row's
/// `version`), as `visitor`.
async fn save_phone(
    visitor: &Visitor,
    action: &str,
    csrf: &str,
    version: &str,
    phone: &str,
) -> Page {
    visitor
        .post(
            action,
            &[("csrf", csrf), ("version", version), ("phone", phone)],
        )
        .await
}

async fn the_user_api_takes_and_checks_a_phone(app: TestApp) {
    let admin = app.admin_token().await;
    let made = expect_json(
        app.post(
            "/api/v1/users",
            &admin,
            json!({ "username": "zhou", "display_name": "周主任", "role": "office",
                    "phone": "+86 138-0000-0001", "password": "zhou-password-1" }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(made["phone"], "+8613800000001", "separators dropped");
    for bad in [
        "12345",
        "138 0000 000a",
        "++8613800000001",
        "1234567890123456789012",
    ] {
        let problem = expect_problem(
            app.post(
                "/api/v1/users",
                &admin,
                json!({ "username": "wuming", "display_name": "吴", "role": "office",
                        "phone": bad, "password": "wu-password-123" }),
            )
            .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(problem_fields(&problem), ["phone"], "{bad}");
    }
    assert_eq!(
        expect_json(app.get("/api/v1/users?q=wuming", &admin).await, 200).await["total"],
        0
    );
    let id = made["id"].as_i64().unwrap();
    let path = format!("/api/v1/users/{id}");
    let problem = expect_problem(
        app.patch(
            &path,
            &admin,
            json!({ "version": made["version"], "phone": "电话" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["phone"]);
    let changed = expect_json(
        app.patch(
            &path,
            &admin,
            json!({ "version": made["version"], "phone": "09318888888" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["phone"], "09318888888");
    // Left out, it stays; null clears it.
    let renamed = expect_json(
        app.patch(
            &path,
            &admin,
            json!({ "version": changed["version"], "display_name": "周处长" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(renamed["phone"], "09318888888");
    let cleared = expect_json(
        app.patch(
            &path,
            &admin,
            json!({ "version": renamed["version"], "phone": null }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(cleared["phone"], Value::Null);
}

async fn the_batch_list_keeps_phones_and_the_admin_edits_them(app: TestApp) {
    let admin_token = app.admin_token().await;
    app.create_unit(&admin_token, "T01", "城关镇").await;
    let list = "单位,姓名,用户名,角色,手机,邮箱\n城关镇,张三,zhangsan,unit,138-0000-0002,\n,李四,lisi,office,,\n";
    expect_json(batch(&app, &admin_token, list).await, 201).await;
    assert_eq!(
        user(&app, &admin_token, "zhangsan").await["phone"],
        "13800000002"
    );
    assert_eq!(user(&app, &admin_token, "lisi").await["phone"], Value::Null);
    // A number that is none refuses the list at its cell.
    let list = "单位,姓名,用户名,角色,手机\n城关镇,王五,wangwu,unit,138\n";
    let problem = expect_problem(
        batch(&app, &admin_token, list).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["E2"]);

    // The accounts page shows each phone in its row, and saves a new one.
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, 200);
    let zhang = user(&app, &admin_token, "zhangsan").await;
    let id = zhang["id"].as_i64().unwrap();
    page.assert_has(&format!("action=\"/admin/users/{id}/phone\""));
    page.assert_has("name=\"phone\" value=\"13800000002\"");
    let csrf = page.csrf();
    let version = zhang["version"].to_string();
    let action = format!("/admin/users/{id}/phone");
    let bad = save_phone(&admin, &action, &csrf, &version, "手机").await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.assert_has("手机号应为 7 到 20 位数字");
    assert_eq!(
        user(&app, &admin_token, "zhangsan").await["phone"],
        "13800000002"
    );
    let forged = admin
        .post(&action, &[("version", &version), ("phone", "13900000009")])
        .await;
    assert_eq!(forged.status, 403);
    let saved = save_phone(&admin, &action, &csrf, &version, "139 0000 0009").await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), "/admin/users?done=phone");
    let page = admin.get(saved.location()).await;
    page.assert_has("手机号已保存");
    page.assert_has("name=\"phone\" value=\"13900000009\"");
    // A stale row is said in words, nothing overwritten.
    let stale = save_phone(&admin, &action, &csrf, &version, "13700000007").await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(
        user(&app, &admin_token, "zhangsan").await["phone"],
        "13900000009"
    );
    // The create form takes one too.
    let made = admin
        .post(
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("username", "zhaoliu"),
                ("display_name", "赵六"),
                ("phone", "13600000006"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(
        user(&app, &admin_token, "zhaoliu").await["phone"],
        "13600000006"
    );
    // The office is refused the step, as the API refuses it.
    app.create_user(&admin_token, "office", "office", None)
        .await;
    crate::console::settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &crate::console::password_of("office")).await;
    let csrf = office.get("/").await.csrf();
    let version = user(&app, &admin_token, "zhangsan").await["version"].to_string();
    let refused = save_phone(&office, &action, &csrf, &version, "13500000005").await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        user(&app, &admin_token, "zhangsan").await["phone"],
        "13900000009"
    );
}
