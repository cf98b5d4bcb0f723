//! The console's 系统管理 pages: the admin edits a unit (aliases one per
//! line, a bad email told at its field with nothing changed, a stale form
//! said in words), creates accounts, resets passwords and deactivates; an
//! office user is refused as the API refuses them. Both backends.

use crate::console::{password_of, settle_accounts, Visitor};
use crate::helpers::{expect_json, TestApp, ADMIN_PASSWORD};

crate::api_tests![
    the_admin_edits_a_unit_from_the_form_and_a_bad_email_changes_nothing,
    the_admin_creates_an_account_resets_its_password_and_deactivates_it,
    an_office_user_is_refused_the_admin_pages,
];

/// The password the page shows once.
fn shown_password(page: &crate::console::Page) -> String {
    let at = page
        .body
        .find("<code class=\"password\">")
        .unwrap_or_else(|| panic!("a shown password in {}", page.body))
        + "<code class=\"password\">".len();
    page.body[at..].split('<').next().unwrap().to_string()
}

/// The hidden `version` of `username`'s row.
fn row_version(page: &crate::console::Page, username: &str) -> String {
    let at = page
        .body
        .find(&format!("data-user=\"{username}\""))
        .unwrap_or_else(|| panic!("{username}'s row in {}", page.body));
    let rest = &page.body[at..];
    let v = rest.find("name=\"version\" value=\"").unwrap() + "name=\"version\" value=\"".len();
    rest[v..].split('"').next().unwrap().to_string()
}

async fn the_admin_creates_an_account_resets_its_password_and_deactivates_it(app: TestApp) {
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "ct", "城关镇").await;
    let unit_id = unit["id"].to_string();
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let list = admin.get("/admin/users").await;
    assert_eq!(list.status, 200, "{}", list.body);
    // The unit is picked by name.
    list.assert_has(&format!("<option value=\"{unit_id}\">城关镇</option>"));
    let csrf = list.csrf();
    let form = |username: &'static str, email: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("username", username.to_string()),
            ("display_name", "李办事员".to_string()),
            ("email", email.to_string()),
            ("role", "unit".to_string()),
            ("unit_id", unit_id.clone()),
            ("password", String::new()),
        ]
    };
    let post = |path: String, f: Vec<(&'static str, String)>| {
        let admin = &admin;
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post(&path, &f).await
        }
    };

    // A bad email is told at its field; no account.
    let bad = post("/admin/users".into(), form("clerk-x", "nope")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.assert_has("id=\"email-error\"");
    assert_eq!(
        app.try_login("clerk-x", "whatever-password").await.status(),
        401
    );

    let created = post("/admin/users".into(), form("clerk-x", "x@example.gov.cn")).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let password = shown_password(&created);
    assert!(password.len() >= 10, "{password}");
    created.assert_has("data-user=\"clerk-x\"");
    created.assert_has("城关镇");
    assert_eq!(app.try_login("clerk-x", &password).await.status(), 200);
    // Shown once: the list does not carry it again.
    let again = admin.get("/admin/users").await;
    assert!(!again.body.contains(&password));

    // 重置密码: a new one shown once; the old one no longer works.
    let version = row_version(&again, "clerk-x");
    let id = {
        let at = again.body.find("data-user=\"clerk-x\"").unwrap();
        let rest = &again.body[at..];
        let a = rest.find("/admin/users/").unwrap() + "/admin/users/".len();
        rest[a..].split('/').next().unwrap().to_string()
    };
    let reset = post(
        format!("/admin/users/{id}/password"),
        vec![("csrf", csrf.clone()), ("version", version.clone())],
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let fresh = shown_password(&reset);
    assert_ne!(fresh, password);
    assert_eq!(app.try_login("clerk-x", &password).await.status(), 401);
    assert_eq!(app.try_login("clerk-x", &fresh).await.status(), 200);
    // The stale version is said in words, nothing changed.
    let stale = post(
        format!("/admin/users/{id}/password"),
        vec![("csrf", csrf.clone()), ("version", version)],
    )
    .await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.assert_has("该记录已被他人修改");
    assert!(!stale.body.contains("<code class=\"password\">"));

    // 停用: the account cannot sign in; 启用 again.
    let list = admin.get("/admin/users").await;
    let version = row_version(&list, "clerk-x");
    let off = post(
        format!("/admin/users/{id}/active"),
        vec![
            ("csrf", csrf.clone()),
            ("version", version),
            ("active", "false".into()),
        ],
    )
    .await;
    assert_eq!(off.status, 303, "{}", off.body);
    admin.get(off.location()).await.assert_has("账号已停用");
    assert_ne!(app.try_login("clerk-x", &fresh).await.status(), 200);
    let user = expect_json(app.get(&format!("/api/v1/users/{id}"), &token).await, 200).await;
    assert_eq!(user["active"], false);
    let list = admin.get("/admin/users").await;
    let version = row_version(&list, "clerk-x");
    let on = post(
        format!("/admin/users/{id}/active"),
        vec![
            ("csrf", csrf.clone()),
            ("version", version),
            ("active", "true".into()),
        ],
    )
    .await;
    assert_eq!(on.status, 303, "{}", on.body);
    assert_eq!(app.try_login("clerk-x", &fresh).await.status(), 200);
}

async fn the_admin_edits_a_unit_from_the_form_and_a_bad_email_changes_nothing(app: TestApp) {
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "ct", "城关镇").await;
    let id = unit["id"].as_i64().unwrap();
    let admin = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;

    let list = admin.get("/admin/units").await;
    assert_eq!(list.status, 200, "{}", list.body);
    list.assert_has("系统管理");
    list.assert_has(&format!("href=\"/admin/units/{id}\">城关镇</a>"));

    let path = format!("/admin/units/{id}");
    let form = admin.get(&path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let (csrf, version) = (form.csrf(), form.version());
    let fields = |emails: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("version", version.clone()),
            ("name", "城关镇".to_string()),
            ("kind", "township".to_string()),
            ("aliases", "城关\r\n\r\n城关街道\r\n".to_string()),
            ("head_name", "王镇长".to_string()),
            ("head_email", "head@example.gov.cn".to_string()),
            ("contact_emails", emails.to_string()),
            ("notice_mode", "digest".to_string()),
            ("active", "on".to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let admin = &admin;
        let path = path.clone();
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post(&path, &f).await
        }
    };

    // A bad address: told beside its field, the form kept as typed, nothing changed.
    let bad = post(fields("ct@example.gov.cn\nnot-an-email")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    bad.assert_has("id=\"contact_emails-error\"");
    bad.assert_has("未保存");
    bad.assert_has("not-an-email</textarea>");
    let same = expect_json(app.get(&format!("/api/v1/units/{id}"), &token).await, 200).await;
    assert_eq!(same["version"], unit["version"]);
    assert_eq!(same["aliases"], serde_json::json!([]));

    // The good form saves; the API sees the aliases.
    let done = post(fields("ct@example.gov.cn\nban@example.gov.cn")).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=saved"));
    admin.get(done.location()).await.assert_has("已保存");
    let saved = expect_json(app.get(&format!("/api/v1/units/{id}"), &token).await, 200).await;
    assert_eq!(saved["aliases"], serde_json::json!(["城关", "城关街道"]));
    assert_eq!(
        saved["contact_emails"],
        serde_json::json!(["ct@example.gov.cn", "ban@example.gov.cn"])
    );
    assert_eq!(saved["notice_mode"], "digest");
    assert_eq!(saved["head_name"], "王镇长");

    // The same form again carries the old version: said in words.
    let stale = post(fields("ct@example.gov.cn")).await;
    assert_eq!(stale.status, 409, "{}", stale.body);
    stale.assert_has("该记录已被他人修改");

    // A new unit from the list's form.
    let list = admin.get("/admin/units").await;
    let csrf = list.csrf();
    let created = admin
        .post(
            "/admin/units",
            &[
                ("csrf", csrf.as_str()),
                ("code", "dc"),
                ("name", "东城镇"),
                ("kind", "township"),
                ("aliases", ""),
                ("head_name", ""),
                ("head_email", ""),
                ("contact_emails", "dc@example.gov.cn"),
                ("notice_mode", "per_task"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    admin.get("/admin/units").await.assert_has("东城镇");
}

async fn an_office_user_is_refused_the_admin_pages(app: TestApp) {
    let token = app.admin_token().await;
    let unit = app.create_unit(&token, "ct", "城关镇").await;
    app.create_user(&token, "office", "office", None).await;
    settle_accounts(&app);
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let home = office.get("/").await;
    assert!(!home.body.contains("/admin/units"), "no 系统管理 link");
    for path in [
        "/admin/units".to_string(),
        format!("/admin/units/{}", unit["id"]),
    ] {
        let page = office.get(&path).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
    }
    let csrf = home.csrf();
    let refused = office
        .post(
            &format!("/admin/units/{}", unit["id"]),
            &[("csrf", csrf.as_str()), ("version", "1"), ("name", "改名")],
        )
        .await;
    assert_eq!(refused.status, 403);
    let refused = office
        .post(
            "/admin/users",
            &[
                ("csrf", csrf.as_str()),
                ("username", "sneaky"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        app.try_login("sneaky", "sneaky-password-1").await.status(),
        401
    );
}
