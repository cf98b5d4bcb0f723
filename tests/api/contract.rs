//! Small promises of the API contract: bodies and query strings read the
//! same way everywhere, messages in the client's language, instants in UTC,
//! search alike on both backends, and a lost database connection is a
//! retryable 503.

use std::io::{Read, Write};

use serde_json::{json, Value};

use crate::api_tests;
use crate::city;
use crate::helpers::{expect_json, expect_problem, problem_fields, Backend, TestApp};

api_tests![
    an_optional_body_is_read_as_strictly_as_any_other,
    raw_utf8_in_a_query_string_works_and_other_bytes_are_refused_by_name,
    a_nul_character_in_a_query_parameter_is_refused_by_name,
    wrong_types_are_explained_in_the_clients_language,
    a_version_ahead_of_the_record_is_not_blamed_on_another_editor,
    instants_in_the_audit_trail_are_utc_with_z,
    search_ignores_case_on_both_backends,
    a_lost_database_connection_is_retryable_never_a_500,
];

async fn feed_post(
    app: &TestApp,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/api/v1/calendar/feeds"))
        .bearer_auth(token)
        .body(body.to_string());
    if let Some(content_type) = content_type {
        req = req.header("content-type", content_type);
    }
    req.send().await.unwrap()
}

async fn an_optional_body_is_read_as_strictly_as_any_other(app: TestApp) {
    let admin = app.admin_token().await;
    let json_type = Some("application/json");
    // Leaving the body out is allowed, and so is `null`.
    expect_json(feed_post(&app, &admin, None, "").await, 201).await;
    expect_json(feed_post(&app, &admin, json_type, "null").await, 201).await;
    let feed = expect_json(
        feed_post(&app, &admin, json_type, r#"{"name": "手机"}"#).await,
        201,
    )
    .await;
    assert_eq!(feed["name"], "手机");
    // A body that is sent is not silently dropped.
    expect_problem(
        feed_post(&app, &admin, json_type, r#"{"name": "#).await,
        400,
        "malformed_json",
    )
    .await;
    expect_problem(
        feed_post(&app, &admin, Some("text/plain"), r#"{"name": "x"}"#).await,
        415,
        "unsupported_media_type",
    )
    .await;
    expect_problem(
        feed_post(&app, &admin, None, r#"{"name": "x"}"#).await,
        415,
        "unsupported_media_type",
    )
    .await;
    let p = expect_problem(
        feed_post(&app, &admin, json_type, r#"{"nmae": "x"}"#).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["nmae"]);
    let list = expect_json(app.get("/api/v1/calendar/feeds", &admin).await, 200).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        3,
        "only the three accepted bodies made feeds"
    );
}

/// Sends `target` byte for byte, as curl does with unencoded text; returns
/// the status and the body.
async fn raw_get(app: &TestApp, target: &'static [u8], token: &str) -> (u16, String) {
    let address = app.address.trim_start_matches("http://").to_string();
    let token = token.to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(target);
        request.extend_from_slice(
            format!(
                " HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        );
        stream.write_all(&request).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .unwrap()
}

async fn raw_utf8_in_a_query_string_works_and_other_bytes_are_refused_by_name(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_unit(&admin, "T01", "城关镇").await;
    app.create_unit(&admin, "T02", "东城镇").await;
    // `?q=城关` as UTF-8 bytes, not percent-encoded.
    let (status, body) = raw_get(&app, "/api/v1/units?q=城关".as_bytes(), &admin).await;
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["name"], "城关镇");
    // Bytes that are no UTF-8, raw or percent-encoded: a problem naming `q`.
    for target in [
        &b"/api/v1/units?q=\xff\xfe"[..],
        &b"/api/v1/units?q=%FF%FE"[..],
    ] {
        let (status, body) = raw_get(&app, target, &admin).await;
        assert_eq!(status, 400, "{body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["code"], "bad_query", "{problem}");
        assert_eq!(problem_fields(&problem), ["q"]);
    }
}

async fn a_nul_character_in_a_query_parameter_is_refused_by_name(app: TestApp) {
    // Found by schemathesis on PostgreSQL, which refuses NUL in text: the
    // notices filter compared it with a column and answered 500.
    let admin = app.admin_token().await;
    for (path, field) in [
        ("/api/v1/notices?status=sent%00", "status"),
        ("/api/v1/notices?step=%00", "step"),
        ("/api/v1/units?q=%E5%9F%8E%00", "q"),
    ] {
        let p = expect_problem(app.get(path, &admin).await, 422, "validation_failed").await;
        assert_eq!(problem_fields(&p), [field], "{path}");
    }
}

async fn wrong_types_are_explained_in_the_clients_language(app: TestApp) {
    let c = city::build(&app).await;
    let body =
        json!({ "plan_id": c.plan_id, "code": "1", "title": "整治", "lead_unit_id": "东城镇" });
    let p = expect_problem(
        app.post("/api/v1/tasks", &c.office, body.clone()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["lead_unit_id"]);
    assert_eq!(
        p["errors"][0]["message"],
        "类型不正确：应为整数，收到字符串 \"东城镇\""
    );
    let res = app
        .client
        .post(app.url("/api/v1/tasks"))
        .bearer_auth(&c.office)
        .header("accept-language", "en")
        .json(&body)
        .send()
        .await
        .unwrap();
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(
        p["errors"][0]["message"],
        "wrong type: expected an integer, got the string \"东城镇\""
    );
    // In the query string too.
    let p = expect_problem(
        app.get("/api/v1/tasks?per_page=ten", &c.office).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["per_page"]);
    assert_eq!(p["errors"][0]["message"], "格式不正确：应为整数");
    let p = expect_problem(
        app.post("/api/v1/tasks", &c.office, json!([1, 2])).await,
        422,
        "validation_failed",
    )
    .await;
    let message = p["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("应为对象") && !message.contains("expected"),
        "{message}"
    );
}

async fn a_version_ahead_of_the_record_is_not_blamed_on_another_editor(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T01", "城关镇").await;
    let path = format!("/api/v1/units/{}", unit["id"]);
    let ahead = expect_problem(
        app.patch(&path, &admin, json!({ "version": 5, "name": "城关街道" }))
            .await,
        409,
        "version_conflict",
    )
    .await;
    assert_eq!(ahead["current_version"], 1);
    assert_eq!(
        ahead["detail"],
        "版本号 5 不是当前版本（当前为 1），请刷新后重试"
    );
    expect_json(
        app.patch(&path, &admin, json!({ "version": 1, "name": "城关街道" }))
            .await,
        200,
    )
    .await;
    let behind = expect_problem(
        app.patch(&path, &admin, json!({ "version": 1, "name": "城关镇" }))
            .await,
        409,
        "version_conflict",
    )
    .await;
    assert_eq!(behind["current_version"], 2);
    assert_eq!(behind["detail"], "该记录已被他人修改，请刷新后重试");
}

async fn instants_in_the_audit_trail_are_utc_with_z(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_unit(&admin, "T01", "城关镇").await;
    let page = expect_json(app.get("/api/v1/audit", &admin).await, 200).await;
    let items = page["items"].as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        let at = item["created_at"].as_str().unwrap();
        assert!(
            at.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(at).is_ok(),
            "RFC 3339 in UTC: {at}"
        );
    }
}

async fn search_ignores_case_on_both_backends(app: TestApp) {
    let c = city::build(&app).await;
    let unit = app
        .create_unit(&c.admin, "RV-01", "Riverside District")
        .await;
    app.create_user(&c.admin, "zhang.wei", "viewer", None).await;
    let task = c
        .task(
            &app,
            "ENV-7",
            10,
            json!({ "title": "Public Toilet Renovation" }),
        )
        .await;
    for q in ["riverside", "RIVERSIDE", "rIvErSiDe", "rv-01"] {
        let page = expect_json(
            app.get(&format!("/api/v1/units?q={q}"), &c.admin).await,
            200,
        )
        .await;
        assert_eq!(page["total"], 1, "units ?q={q}: {page}");
        assert_eq!(page["items"][0]["id"], unit["id"]);
    }
    for q in ["toilet", "TOILET", "env-7"] {
        let page = expect_json(
            app.get(&format!("/api/v1/tasks?q={q}"), &c.office).await,
            200,
        )
        .await;
        assert_eq!(page["total"], 1, "tasks ?q={q}: {page}");
        assert_eq!(page["items"][0]["id"], task["id"]);
    }
    for q in ["ZHANG", "Zhang.Wei"] {
        let page = expect_json(
            app.get(&format!("/api/v1/users?q={q}"), &c.admin).await,
            200,
        )
        .await;
        assert_eq!(page["total"], 1, "users ?q={q}: {page}");
    }
    // LIKE's wildcards are still taken literally.
    let page = expect_json(app.get("/api/v1/units?q=%25", &c.admin).await, 200).await;
    assert_eq!(page["total"], 0, "{page}");
}

/// Runs `sql` on the PostgreSQL server as the administrator.
fn pg_admin(sql: &str) {
    use diesel::{Connection, RunQueryDsl};
    let mut conn = diesel::PgConnection::establish(&crate::helpers::postgres_admin_url()).unwrap();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

async fn a_lost_database_connection_is_retryable_never_a_500(app: TestApp) {
    // Only PostgreSQL has connections that an administrator can end; an
    // embedded SQLite file cannot be lost this way.
    if app.backend != Backend::Postgres {
        return;
    }
    let name = app.database.url.rsplit('/').next().unwrap().to_string();
    let terminate = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );
    let admin = app.admin_token().await;
    app.create_unit(&admin, "T01", "城关镇").await;
    // Each request below goes on an HTTP connection of its own. Once in CI
    // the request that followed the pool's twenty-second wait (below) was
    // reset at the TCP level on the kept-alive connection it reused; 64 runs
    // under load did not do it again. The answer is what this test is
    // about, not the reuse of HTTP connections.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let get = |path: &str, token: Option<&str>| {
        let mut req = client.get(app.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move { req.send().await.expect("request sent") }
    };
    // The server ends every connection between requests: the next request
    // answers on a fresh connection (or asks to retry), never a 500.
    for round in 0..5 {
        pg_admin(&terminate);
        for path in ["/api/v1/units", "/api/v1/me", "/readyz"] {
            let res = get(path, Some(&admin)).await;
            let status = res.status().as_u16();
            assert!(
                status == 200 || status == 503,
                "round {round}, {path}: {status} {}",
                res.text().await.unwrap()
            );
        }
    }
    // While no connection can be had at all: 503 unavailable, retryable.
    pg_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"));
    pg_admin(&terminate);
    let res = get("/api/v1/units", Some(&admin)).await;
    assert!(
        res.headers().contains_key("retry-after"),
        "{:?}",
        res.headers()
    );
    expect_problem(res, 503, "unavailable").await;
    expect_problem(get("/readyz", None).await, 503, "unavailable").await;
    // More requests at once than the server's blocking threads: one waits
    // to find out whether the database is back, the others are told 503 at
    // once instead of each waiting the pool's ten seconds in turn (four at
    // a time: before, these 16 requests were answered after 50 to 80 s).
    let burst = (0..16).map(|_| async {
        let started = std::time::Instant::now();
        let res = get("/api/v1/units", Some(&admin)).await;
        let waited = started.elapsed();
        assert!(res.headers().contains_key("retry-after"));
        expect_problem(res, 503, "unavailable").await;
        waited
    });
    let waits = futures_util::future::join_all(burst).await;
    let long = waits
        .iter()
        .filter(|w| **w > std::time::Duration::from_secs(5))
        .count();
    assert!(long <= 1, "requests that waited for the pool: {waits:?}");
    pg_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
    let page = expect_json(get("/api/v1/units", Some(&admin)).await, 200).await;
    assert_eq!(page["total"], 1, "back once the database is");
}
