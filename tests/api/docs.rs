//! The API description and the health endpoints.

use crate::api_tests;
use crate::helpers::{expect_json, TestApp};

api_tests![
    served_openapi_matches_the_committed_document,
    swagger_ui_is_served_from_the_binary,
    health_and_readiness_answer,
];

async fn served_openapi_matches_the_committed_document(app: TestApp) {
    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    let served = expect_json(res, 200).await;
    assert_eq!(served["openapi"], "3.1.0");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(committed_path).expect("docs/openapi.json exists"),
    )
    .expect("docs/openapi.json is JSON");
    assert!(
        served == committed,
        "docs/openapi.json is out of date: run `cargo run -q -- openapi > docs/openapi.json`"
    );
    for path in ["/api/v1/auth/login", "/api/v1/units/{id}", "/api/v1/users"] {
        assert!(served["paths"].get(path).is_some(), "{path} documented");
    }
}

async fn swagger_ui_is_served_from_the_binary(app: TestApp) {
    let res = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(res.status().is_redirection());
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("cdn") && !html.contains("unpkg"),
        "no CDN links"
    );
    let res = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().len() > 100_000);
    let init = app
        .client
        .get(app.url("/docs/swagger-initializer.js"))
        .send()
        .await
        .unwrap();
    assert!(init.text().await.unwrap().contains("/api/v1/openapi.json"));
}

async fn health_and_readiness_answer(app: TestApp) {
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(expect_json(res, 200).await["status"], "ok");
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    let body = expect_json(res, 200).await;
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["database"],
        if app.backend == crate::helpers::Backend::Sqlite {
            "SQLite"
        } else {
            "PostgreSQL"
        }
    );
}
