//! Accounts: create, read, change; who sees whom.

use serde_json::json;

use crate::api_tests;
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    admin_creates_an_account_that_can_sign_in,
    a_generated_password_is_returned_once_and_works,
    a_unit_user_must_belong_to_a_unit,
    usernames_are_unique_regardless_of_case,
    unit_clerk_cannot_see_another_units_accounts,
    the_last_admin_cannot_be_deactivated_or_demoted,
    an_admin_password_reset_signs_the_user_out,
    accounts_cannot_join_an_inactive_unit,
];

async fn admin_creates_an_account_that_can_sign_in(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T01", "城关镇").await;
    let res = app
        .post(
            "/api/v1/users",
            &admin,
            json!({ "username": "ZhangSan", "display_name": "张三", "email": "zhangsan@example.gov.cn",
                    "role": "unit", "unit_id": unit["id"], "password": "zhangsan-secret-1" }),
        )
        .await;
    let user = expect_json(res, 201).await;
    assert_eq!(user["username"], "zhangsan");
    assert_eq!(user["unit_id"], unit["id"]);
    assert!(user.get("generated_password").is_none());
    let token = app.login("zhangsan", "zhangsan-secret-1").await;
    let me = expect_json(app.get("/api/v1/me", &token).await, 200).await;
    assert_eq!(me["display_name"], "张三");
    assert_eq!(me["role"], "unit");
}

async fn a_generated_password_is_returned_once_and_works(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/users",
            &admin,
            json!({ "username": "li4", "display_name": "李四", "role": "office" }),
        )
        .await;
    let user = expect_json(res, 201).await;
    let password = user["generated_password"].as_str().unwrap();
    assert!(password.len() >= 10);
    app.login("li4", password).await;
    let read = expect_json(
        app.get(&format!("/api/v1/users/{}", user["id"]), &admin)
            .await,
        200,
    )
    .await;
    assert!(read.get("generated_password").is_none());
}

async fn a_unit_user_must_belong_to_a_unit(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post("/api/v1/users", &admin, json!({ "username": "orphan", "display_name": "x", "role": "unit", "password": "orphan-password-1" }))
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["unit_id"]);
    let (viewer, _) = app.create_user(&admin, "viewer1", "viewer", None).await;
    let res = app
        .patch(
            &format!("/api/v1/users/{}", viewer["id"]),
            &admin,
            json!({ "version": 1, "role": "unit" }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["unit_id"]);
}

async fn usernames_are_unique_regardless_of_case(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_user(&admin, "wangwu", "viewer", None).await;
    let res = app
        .post("/api/v1/users", &admin, json!({ "username": "WangWu", "display_name": "x", "role": "viewer", "password": "another-password-1" }))
        .await;
    expect_problem(res, 409, "username_taken").await;
}

async fn unit_clerk_cannot_see_another_units_accounts(app: TestApp) {
    let admin = app.admin_token().await;
    let a = app.create_unit(&admin, "T01", "城关镇").await;
    let b = app.create_unit(&admin, "T02", "东城镇").await;
    let (mine, clerk) = app
        .create_user(&admin, "clerk-a", "unit", a["id"].as_i64())
        .await;
    let (colleague, _) = app
        .create_user(&admin, "clerk-a2", "unit", a["id"].as_i64())
        .await;
    let (other, _) = app
        .create_user(&admin, "clerk-b", "unit", b["id"].as_i64())
        .await;

    let list = expect_json(app.get("/api/v1/users", &clerk).await, 200).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["clerk-a", "clerk-a2"]);
    assert_eq!(list["total"], 2);
    // Asking for the other unit's accounts by filter shows nothing either.
    let filtered = expect_json(
        app.get(&format!("/api/v1/users?unit_id={}", b["id"]), &clerk)
            .await,
        200,
    )
    .await;
    assert_eq!(filtered["total"], 0);
    expect_problem(
        app.get(&format!("/api/v1/users/{}", other["id"]), &clerk)
            .await,
        404,
        "not_found",
    )
    .await;
    expect_json(
        app.get(&format!("/api/v1/users/{}", colleague["id"]), &clerk)
            .await,
        200,
    )
    .await;
    expect_json(
        app.get(&format!("/api/v1/users/{}", mine["id"]), &clerk)
            .await,
        200,
    )
    .await;
    // The office sees everyone.
    let (_, office) = app.create_user(&admin, "office1", "office", None).await;
    let all = expect_json(app.get("/api/v1/users", &office).await, 200).await;
    assert_eq!(all["total"], 5);
}

async fn the_last_admin_cannot_be_deactivated_or_demoted(app: TestApp) {
    let admin = app.admin_token().await;
    let me = expect_json(app.get("/api/v1/me", &admin).await, 200).await;
    let path = format!("/api/v1/users/{}", me["id"]);
    expect_problem(
        app.patch(&path, &admin, json!({ "version": 1, "active": false }))
            .await,
        409,
        "last_admin",
    )
    .await;
    expect_problem(
        app.patch(&path, &admin, json!({ "version": 1, "role": "viewer" }))
            .await,
        409,
        "last_admin",
    )
    .await;
    // With a second admin the first may step down.
    app.create_user(&admin, "admin2", "admin", None).await;
    let res = app
        .patch(&path, &admin, json!({ "version": 1, "role": "viewer" }))
        .await;
    assert_eq!(expect_json(res, 200).await["role"], "viewer");
}

async fn an_admin_password_reset_signs_the_user_out(app: TestApp) {
    let admin = app.admin_token().await;
    let (user, token) = app.create_user(&admin, "forgetful", "leader", None).await;
    let res = app
        .patch(
            &format!("/api/v1/users/{}", user["id"]),
            &admin,
            json!({ "version": 1, "password": "reset-password-99" }),
        )
        .await;
    expect_json(res, 200).await;
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_revoked").await;
    app.login("forgetful", "reset-password-99").await;
}

async fn accounts_cannot_join_an_inactive_unit(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T01", "城关镇").await;
    app.patch(
        &format!("/api/v1/units/{}", unit["id"]),
        &admin,
        json!({ "version": 1, "active": false }),
    )
    .await;
    let res = app
        .post("/api/v1/users", &admin, json!({ "username": "late", "display_name": "x", "role": "unit", "unit_id": unit["id"], "password": "late-password-1" }))
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["unit_id"]);
}
