//! The promises of docs/security.md that hold under concurrency and hostile
//! input: sign-in throttling under parallel guesses, per address and per
//! account, client addresses behind trusted proxies only, the password
//! policy, calendar feeds of deactivated accounts, and bounded imports.

use std::io::{Cursor, Write};

use futures_util::future::join_all;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::api_tests;
use crate::helpers::{
    expect_json, expect_problem, problem_fields, spawn_app_with, TestApp, ADMIN_PASSWORD,
};

api_tests![
    parallel_wrong_passwords_get_at_most_the_limit_of_401s,
    one_address_is_throttled_across_usernames,
    one_account_is_throttled_across_addresses_except_where_it_signed_in,
    forwarded_headers_count_only_from_a_trusted_proxy,
    weak_passwords_are_refused_on_create_reset_and_change,
    a_reactivated_accounts_old_feeds_stay_revoked,
    an_xlsx_bomb_is_refused_naming_what_is_too_large,
    an_overlong_csv_cell_is_refused_by_reference,
];

/// Signs in, as a client behind the proxy when `client` is given.
async fn login_as(app: &TestApp, client: Option<&str>, username: &str, password: &str) -> Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }));
    if let Some(client) = client {
        req = req.header("X-Forwarded-For", client);
    }
    req.send().await.expect("request sent")
}

fn statuses(responses: &[Response]) -> (usize, usize, usize) {
    let count = |s: u16| responses.iter().filter(|r| r.status() == s).count();
    (
        count(401),
        count(429),
        responses.len() - count(401) - count(429),
    )
}

fn retry_after(res: &Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// An app behind a reverse proxy on this machine.
async fn behind_proxy(app: &TestApp, adjust: impl FnOnce(&mut duban::config::Settings)) -> TestApp {
    spawn_app_with(app.backend, |s| {
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        adjust(s);
    })
    .await
}

const OFFICE: &str = "203.0.113.5";
const ATTACKER: &str = "198.51.100.7";

async fn parallel_wrong_passwords_get_at_most_the_limit_of_401s(app: TestApp) {
    let app = behind_proxy(&app, |_| {}).await;
    let guesses = (0..60).map(|i| {
        let password = format!("wrong-guess-{i:03}");
        let app = &app;
        async move { login_as(app, Some(ATTACKER), "admin", &password).await }
    });
    let responses = join_all(guesses).await;
    let (unauthorized, throttled, other) = statuses(&responses);
    // Every attempt is counted before its password is checked: exactly the
    // limit reach the check, whatever the timing.
    assert_eq!(
        (unauthorized, throttled, other),
        (10, 50, 0),
        "401s, 429s and anything else"
    );
    for res in responses.iter().filter(|r| r.status() == 429) {
        assert!((1..=15 * 60 + 1).contains(&retry_after(res)));
    }
    let last = responses.into_iter().find(|r| r.status() == 429).unwrap();
    expect_problem(last, 429, "too_many_attempts").await;

    // The right password from the attacker's address waits too…
    expect_problem(
        login_as(&app, Some(ATTACKER), "admin", ADMIN_PASSWORD).await,
        429,
        "too_many_attempts",
    )
    .await;
    // …while the real user in the office signs in.
    expect_json(
        login_as(&app, Some(OFFICE), "admin", ADMIN_PASSWORD).await,
        200,
    )
    .await;
}

async fn one_address_is_throttled_across_usernames(app: TestApp) {
    let app = behind_proxy(&app, |s| s.login_max_failures_per_address = 5).await;
    let guesses = (0..20).map(|i| {
        let username = format!("guess-{i:02}");
        let app = &app;
        async move { login_as(app, Some(ATTACKER), &username, "password-spray-1").await }
    });
    let responses = join_all(guesses).await;
    assert_eq!(
        statuses(&responses),
        (5, 15, 0),
        "401s, 429s and anything else"
    );
    // The address is spent for every account, the admin's included…
    let res = login_as(&app, Some(ATTACKER), "admin", ADMIN_PASSWORD).await;
    expect_problem(res, 429, "too_many_attempts").await;
    // …names no account could have count against it too…
    let res = login_as(&app, Some(ATTACKER), "张三", "password-spray-1").await;
    expect_problem(res, 429, "too_many_attempts").await;
    // …but another address is not affected.
    expect_json(
        login_as(&app, Some(OFFICE), "admin", ADMIN_PASSWORD).await,
        200,
    )
    .await;
}

async fn one_account_is_throttled_across_addresses_except_where_it_signed_in(app: TestApp) {
    let app = behind_proxy(&app, |s| {
        s.login_max_failures = 3;
        s.login_max_failures_per_account = 6;
    })
    .await;
    // The admin works from the office.
    let signed_in = expect_json(
        login_as(&app, Some(OFFICE), "admin", ADMIN_PASSWORD).await,
        200,
    )
    .await;
    let admin = signed_in["access_token"].as_str().unwrap().to_string();
    // Guessers at two addresses use up the account's limit: three each.
    for attacker in ["198.51.100.1", "198.51.100.2"] {
        for i in 0..3 {
            let res = login_as(&app, Some(attacker), "admin", &format!("guess-{i}-guess")).await;
            expect_problem(res, 401, "invalid_credentials").await;
        }
        let res = login_as(&app, Some(attacker), "admin", "one-more-guess").await;
        expect_problem(res, 429, "too_many_attempts").await;
    }
    // A third address is refused before it guesses, even with the password…
    for password in ["guess-at-three", ADMIN_PASSWORD] {
        let res = login_as(&app, Some("198.51.100.3"), "admin", password).await;
        expect_problem(res, 429, "too_many_attempts").await;
    }
    // …but the office, where the admin signed in lately, is not locked out.
    expect_json(
        login_as(&app, Some(OFFICE), "admin", ADMIN_PASSWORD).await,
        200,
    )
    .await;
    // Another account is not affected at all, from any address.
    app.create_user(&admin, "clerk", "viewer", None).await;
}

async fn forwarded_headers_count_only_from_a_trusted_proxy(app: TestApp) {
    // No trusted proxy: the headers are ignored, every request is 127.0.0.1.
    for i in 0..10 {
        let res = login_as(
            &app,
            Some(&format!("198.51.100.{i}")),
            "admin",
            "guess-guess-1",
        )
        .await;
        expect_problem(res, 401, "invalid_credentials").await;
    }
    let res = login_as(&app, Some(OFFICE), "admin", ADMIN_PASSWORD).await;
    expect_problem(res, 429, "too_many_attempts").await;

    // Behind a trusted proxy the client is the hop the proxy appended.
    let app = behind_proxy(&app, |_| {}).await;
    for _ in 0..10 {
        let res = login_as(&app, Some(ATTACKER), "admin", "guess-guess-1").await;
        expect_problem(res, 401, "invalid_credentials").await;
    }
    let res = login_as(&app, Some(ATTACKER), "admin", ADMIN_PASSWORD).await;
    expect_problem(res, 429, "too_many_attempts").await;
    // A forged first entry does not help: the rightmost untrusted hop counts.
    let forged = format!("{OFFICE}, {ATTACKER}");
    let res = login_as(&app, Some(&forged), "admin", ADMIN_PASSWORD).await;
    expect_problem(res, 429, "too_many_attempts").await;
    // `Forwarded: for=` is read when there is no X-Forwarded-For.
    let forwarded = |client: &str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("Forwarded", format!("for={client};proto=https"))
            .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
            .send()
    };
    expect_problem(forwarded(ATTACKER).await.unwrap(), 429, "too_many_attempts").await;
    expect_json(forwarded(OFFICE).await.unwrap(), 200).await;
    expect_json(
        login_as(&app, Some(OFFICE), "admin", ADMIN_PASSWORD).await,
        200,
    )
    .await;
}

async fn weak_passwords_are_refused_on_create_reset_and_change(app: TestApp) {
    let admin = app.admin_token().await;
    let english = |method: Method, path: &str, token: &str, body: Value| {
        app.client
            .request(method, app.url(path))
            .bearer_auth(token)
            .header("Accept-Language", "en")
            .json(&body)
            .send()
    };
    let refused = [
        ("Wang.Wei.2026", "password must not be the username"),
        (
            "aaaaaaaaaaaa",
            "password must not be one character repeated",
        ),
        (
            "Password123",
            "password is a commonly used one and easily guessed; choose another",
        ),
        ("short-1", "password must be at least 10 characters"),
    ];
    for (password, message) in refused {
        let res = english(
            Method::POST,
            "/api/v1/users",
            &admin,
            json!({ "username": "wang.wei.2026", "display_name": "王伟", "role": "viewer",
                    "password": password }),
        )
        .await
        .unwrap();
        let p = expect_problem(res, 422, "validation_failed").await;
        assert_eq!(problem_fields(&p), ["password"], "{password}");
        assert_eq!(p["errors"][0]["message"], message, "{password}");
    }
    // zh-CN by default.
    let res = app
        .post(
            "/api/v1/users",
            &admin,
            json!({ "username": "wang.wei.2026", "display_name": "王伟", "role": "viewer",
                    "password": "1qaz2wsx3edc" }),
        )
        .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(
        p["errors"][0]["message"],
        "该密码是常见密码，很容易被猜中，请换一个"
    );
    // Nothing was created; a good password is accepted.
    let (user, token) = app
        .create_user(&admin, "wang.wei.2026", "viewer", None)
        .await;
    let id = user["id"].as_i64().unwrap();

    // An admin's reset (PATCH) follows the same rules.
    let res = english(
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({ "version": 1, "password": "WANG.WEI.2026" }),
    )
    .await
    .unwrap();
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["password"]);
    assert_eq!(
        p["errors"][0]["message"],
        "password must not be the username"
    );
    let res = english(
        Method::PATCH,
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({ "version": 1, "password": "0000000000" }),
    )
    .await
    .unwrap();
    expect_problem(res, 422, "validation_failed").await;

    // So does changing the own password.
    let current = "wang.wei.2026-password-1";
    for weak in ["wang.wei.2026", "qwertyuiop", "zzzzzzzzzzzzzz"] {
        let res = english(
            Method::POST,
            "/api/v1/me/password",
            &token,
            json!({ "current_password": current, "new_password": weak }),
        )
        .await
        .unwrap();
        let p = expect_problem(res, 422, "validation_failed").await;
        assert_eq!(problem_fields(&p), ["new_password"], "{weak}");
    }
    // The account is untouched: the old password still signs in.
    let user = expect_json(app.get(&format!("/api/v1/users/{id}"), &admin).await, 200).await;
    assert_eq!(user["version"], 1);
    app.login("wang.wei.2026", current).await;
}

async fn a_reactivated_accounts_old_feeds_stay_revoked(app: TestApp) {
    let admin = app.admin_token().await;
    let (user, token) = app.create_user(&admin, "leaving", "viewer", None).await;
    let id = user["id"].as_i64().unwrap();
    let feed = expect_json(
        app.post("/api/v1/calendar/feeds", &token, json!({})).await,
        201,
    )
    .await;
    let url = feed["url"].as_str().unwrap();
    let path = format!("/api/v1/{}", url.split_once("/api/v1/").unwrap().1);
    let fetch = || app.client.get(app.url(&path)).send();
    assert_eq!(fetch().await.unwrap().status(), 200);

    let user_path = format!("/api/v1/users/{id}");
    let set_active = |version: i64, active: bool| {
        app.patch(
            &user_path,
            &admin,
            json!({ "version": version, "active": active }),
        )
    };
    expect_json(set_active(1, false).await, 200).await;
    assert_eq!(fetch().await.unwrap().status(), 404);
    expect_json(set_active(2, true).await, 200).await;
    assert_eq!(
        fetch().await.unwrap().status(),
        404,
        "the old address stays dead after reactivation"
    );
    // The owner sees it revoked and can make a new one, which works.
    let token = app.login("leaving", "leaving-password-1").await;
    let list = expect_json(app.get("/api/v1/calendar/feeds", &token).await, 200).await;
    assert!(list[0]["revoked_at"].is_string(), "{list}");
    let fresh = expect_json(
        app.post("/api/v1/calendar/feeds", &token, json!({})).await,
        201,
    )
    .await;
    let url = fresh["url"].as_str().unwrap();
    let path = format!("/api/v1/{}", url.split_once("/api/v1/").unwrap().1);
    assert_eq!(
        app.client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// A workbook whose only cell is shared string 0: `len` times `a`, written in
/// pieces (never held whole). Deflate packs it about a thousand to one.
fn workbook_with_huge_shared_string(len: usize) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="任务表" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#,
        ),
    ];
    for (name, text) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.start_file("xl/sharedStrings.xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..len / chunk.len() {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(&chunk[..len % chunk.len()]).unwrap();
    zip.write_all(b"</t></si></sst>").unwrap();
    zip.finish().unwrap().into_inner()
}

async fn upload(app: &TestApp, token: &str, path: &str, name: &str, bytes: Vec<u8>) -> Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Accept-Language", "en")
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

async fn an_xlsx_bomb_is_refused_naming_what_is_too_large(app: TestApp) {
    // A small limit keeps the test quick; the default (64 MB) works the same.
    let app = spawn_app_with(app.backend, |s| s.import_max_unpacked_bytes = 2 << 20).await;
    let admin = app.admin_token().await;
    let plan = expect_json(
        app.post(
            "/api/v1/plans",
            &admin,
            json!({ "title": "方案", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    let bomb = workbook_with_huge_shared_string(16 << 20);
    assert!(
        bomb.len() < 200 * 1024,
        "a small upload: {} bytes",
        bomb.len()
    );
    for path in [
        format!("/api/v1/plans/{}/import", plan["id"]),
        "/api/v1/indicators/import".to_string(),
    ] {
        let res = upload(&app, &admin, &path, "任务表.xlsx", bomb.clone()).await;
        let p = expect_problem(res, 422, "validation_failed").await;
        assert_eq!(problem_fields(&p), ["file"], "{path}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert_eq!(
            message,
            "the shared strings (xl/sharedStrings.xml) in the Excel file unpacks to more than 2 MB; it cannot be imported",
            "{path}"
        );
    }
    // The server is fine afterwards, and a small workbook of the same shape
    // gets past the limit (to the header check).
    let res = upload(
        &app,
        &admin,
        &format!("/api/v1/plans/{}/import", plan["id"]),
        "任务表.xlsx",
        workbook_with_huge_shared_string(100),
    )
    .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no header row"),
        "{p}"
    );
}

async fn an_overlong_csv_cell_is_refused_by_reference(app: TestApp) {
    let app = spawn_app_with(app.backend, |s| s.import_max_cell_chars = 100).await;
    let admin = app.admin_token().await;
    let plan = expect_json(
        app.post(
            "/api/v1/plans",
            &admin,
            json!({ "title": "方案", "year": 2026 }),
        )
        .await,
        201,
    )
    .await;
    let csv = format!("序号,任务,牵头单位\n1,{},城关镇\n", "治".repeat(101));
    let res = upload(
        &app,
        &admin,
        &format!("/api/v1/plans/{}/import", plan["id"]),
        "任务表.csv",
        csv.into_bytes(),
    )
    .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&p), ["file"]);
    assert_eq!(
        p["errors"][0]["message"],
        "cell B2 is too long (101 characters; at most 100)"
    );
}
