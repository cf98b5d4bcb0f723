//! Bad input of every kind gets a problem document naming the problem; nothing
//! makes the server answer 500.

use reqwest::Method;
use serde_json::json;

use crate::api_tests;
use crate::helpers::{expect_problem, problem_fields, TestApp};

api_tests![
    unknown_fields_are_rejected_by_name,
    wrong_types_are_named,
    over_long_strings_are_named,
    bodies_over_the_limit_are_refused,
    malformed_json_and_wrong_content_types_are_refused,
    unknown_routes_and_methods_are_problems,
    errors_are_in_english_when_asked,
    every_response_carries_a_request_id,
    no_input_makes_the_server_fail,
];

async fn unknown_fields_are_rejected_by_name(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post("/api/v1/users", &admin, json!({ "username": "x1x", "display_name": "x", "role": "viewer", "is_superuser": true }))
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["is_superuser"]);
    let res = app.try_login_with_extra().await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["remember_me"]);
}

impl TestApp {
    async fn try_login_with_extra(&self) -> reqwest::Response {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "username": "admin", "password": "x", "remember_me": true })),
        )
        .await
    }
}

async fn wrong_types_are_named(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": 12, "name": "x", "kind": "other" }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["code"]);
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "A", "name": "x", "kind": "other", "contact_emails": [1] }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["contact_emails[0]"]);
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "name": "x", "kind": "other" }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["code"]);
    let res = app.get("/api/v1/users?active=maybe", &admin).await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["active"]);
}

async fn over_long_strings_are_named(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post("/api/v1/users", &admin, json!({ "username": "a".repeat(65), "display_name": "名".repeat(101), "role": "viewer" }))
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["username", "display_name"]);
    assert!(problem["errors"][1]["message"]
        .as_str()
        .unwrap()
        .contains("100"));
}

async fn bodies_over_the_limit_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let huge = "x".repeat(300 * 1024);
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "A", "name": huge, "kind": "other" }),
        )
        .await;
    expect_problem(res, 413, "payload_too_large").await;
}

async fn malformed_json_and_wrong_content_types_are_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .client
        .post(app.url("/api/v1/units"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{\"code\": \"A\",")
        .send()
        .await
        .unwrap();
    expect_problem(res, 400, "malformed_json").await;
    let res = app
        .client
        .post(app.url("/api/v1/units"))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("code=A")
        .send()
        .await
        .unwrap();
    expect_problem(res, 415, "unsupported_media_type").await;
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let admin = app.admin_token().await;
    expect_problem(
        app.get("/api/v1/nothing-here", &admin).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        app.get("/api/v1/units/not-a-number", &admin).await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        app.request(Method::PUT, "/api/v1/units", Some(&admin), None)
            .await,
        405,
        "method_not_allowed",
    )
    .await;
}

async fn errors_are_in_english_when_asked(app: TestApp) {
    let zh = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(zh.headers()["content-language"], "zh-CN");
    let zh = expect_problem(zh, 401, "missing_token").await;
    assert!(zh["detail"].as_str().unwrap().contains("请先登录"));
    let en = app
        .client
        .get(app.url("/api/v1/me"))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(en.headers()["content-language"], "en");
    let en = expect_problem(en, 401, "missing_token").await;
    assert_eq!(en["title"], "Unauthorized");
    assert!(en["detail"].as_str().unwrap().starts_with("sign in first"));
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let ok = app.client.get(app.url("/healthz")).send().await.unwrap();
    let err = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    let a = ok.headers()["x-request-id"].to_str().unwrap().to_string();
    let b = err.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!a.is_empty() && a != b);
}

async fn no_input_makes_the_server_fail(app: TestApp) {
    let admin = app.admin_token().await;
    let bodies = [
        "",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "1e999",
        "{\"version\": 1e400}",
        "{\"version\": -1}",
        "{\"code\": \"\\u0000\"}",
        "{\"code\": \"A\", \"code\": \"B\"}",
        "{\"parent_id\": 9223372036854775807}",
        "{\"version\": 9223372036854775807, \"name\": \"x\"}",
        "{\"contact_emails\": {}}",
        "{\"unit_id\": -5}",
        "\u{feff}{}",
        "{\"username\": \"\\u0000\", \"password\": \"x\"}",
        "{\"a\":".repeat(200).as_str(),
    ]
    .map(str::to_string);
    let paths = [
        "/api/v1/units",
        "/api/v1/users",
        "/api/v1/units/1",
        "/api/v1/users/1",
        "/api/v1/auth/login",
        "/api/v1/me/password",
    ];
    for path in paths {
        for method in [Method::POST, Method::PATCH] {
            for body in &bodies {
                let res = app
                    .client
                    .request(method.clone(), app.url(path))
                    .bearer_auth(&admin)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                assert!(
                    (400..500).contains(&status),
                    "{method} {path} {body:?} answered {status}"
                );
                assert_eq!(res.headers()["content-type"], "application/problem+json");
            }
        }
    }
    for query in [
        "q=%00abc",
        "page=0",
        "page=-1",
        "per_page=0",
        "page=99999999999999999999",
        "q=%00",
        "unit_id=x",
        "role=god",
    ] {
        let res = app.get(&format!("/api/v1/users?{query}"), &admin).await;
        let status = res.status().as_u16();
        assert!(
            status == 200 || (400..500).contains(&status),
            "{query} answered {status}"
        );
    }
}
