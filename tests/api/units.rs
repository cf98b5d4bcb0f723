//! Units: create, list, read, change, deactivate, delete.

use reqwest::Method;
use serde_json::json;

use crate::api_tests;
use crate::helpers::{expect_json, expect_problem, problem_fields, TestApp};

api_tests![
    admin_creates_reads_and_changes_a_unit,
    every_role_can_read_the_unit_directory,
    duplicate_unit_code_is_a_conflict,
    stale_version_is_a_conflict_and_changes_nothing,
    a_unit_in_use_is_deactivated_not_deleted,
    a_unit_cannot_be_placed_under_itself,
    unit_lists_filter_and_paginate,
    bad_unit_fields_are_all_named,
    unit_aliases_are_kept_and_never_shared,
];

async fn admin_creates_reads_and_changes_a_unit(app: TestApp) {
    let admin = app.admin_token().await;
    let office = app.create_unit(&admin, "OFFICE", "创建办").await;
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "ZF-HB", "name": "市生态环境局", "kind": "department",
                    "parent_id": office["id"], "contact_emails": ["hb@example.gov.cn", "HB2@Example.gov.cn"],
                    "head_name": "王局长", "head_email": "wang@example.gov.cn" }),
        )
        .await;
    let unit = expect_json(res, 201).await;
    assert_eq!(unit["kind"], "department");
    assert_eq!(unit["parent_id"], office["id"]);
    assert_eq!(
        unit["contact_emails"],
        json!(["hb@example.gov.cn", "HB2@example.gov.cn"])
    );
    assert_eq!(unit["version"], 1);
    let id = unit["id"].as_i64().unwrap();

    let res = app
        .patch(
            &format!("/api/v1/units/{id}"),
            &admin,
            json!({ "version": 1, "name": "市生态环境局（更名）", "head_email": null }),
        )
        .await;
    let changed = expect_json(res, 200).await;
    assert_eq!(changed["name"], "市生态环境局（更名）");
    assert_eq!(changed["head_email"], json!(null));
    assert_eq!(changed["head_name"], "王局长");
    assert_eq!(changed["version"], 2);

    let read = expect_json(app.get(&format!("/api/v1/units/{id}"), &admin).await, 200).await;
    assert_eq!(read, changed);
    expect_problem(
        app.get("/api/v1/units/999999", &admin).await,
        404,
        "not_found",
    )
    .await;
}

async fn every_role_can_read_the_unit_directory(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T01", "城关镇").await;
    let (_, clerk) = app
        .create_user(&admin, "clerk", "unit", unit["id"].as_i64())
        .await;
    let list = expect_json(app.get("/api/v1/units", &clerk).await, 200).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["code"], "T01");
}

async fn duplicate_unit_code_is_a_conflict(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_unit(&admin, "T01", "城关镇").await;
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "T01", "name": "另一个", "kind": "township" }),
        )
        .await;
    expect_problem(res, 409, "unit_code_taken").await;
    let other = app.create_unit(&admin, "T02", "东城镇").await;
    let res = app
        .patch(
            &format!("/api/v1/units/{}", other["id"]),
            &admin,
            json!({ "version": 1, "code": "T01" }),
        )
        .await;
    expect_problem(res, 409, "unit_code_taken").await;
}

async fn stale_version_is_a_conflict_and_changes_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T01", "城关镇").await;
    let path = format!("/api/v1/units/{}", unit["id"]);
    expect_json(
        app.patch(&path, &admin, json!({ "version": 1, "name": "第一次" }))
            .await,
        200,
    )
    .await;
    let problem = expect_problem(
        app.patch(&path, &admin, json!({ "version": 1, "name": "第二次" }))
            .await,
        409,
        "version_conflict",
    )
    .await;
    assert_eq!(problem["current_version"], 2);
    let read = expect_json(app.get(&path, &admin).await, 200).await;
    assert_eq!(read["name"], "第一次");
}

async fn a_unit_in_use_is_deactivated_not_deleted(app: TestApp) {
    let admin = app.admin_token().await;
    let used = app.create_unit(&admin, "T01", "城关镇").await;
    app.create_user(&admin, "clerk", "unit", used["id"].as_i64())
        .await;
    let path = format!("/api/v1/units/{}", used["id"]);
    expect_problem(
        app.request(Method::DELETE, &path, Some(&admin), None).await,
        409,
        "unit_in_use",
    )
    .await;
    let res = app
        .patch(&path, &admin, json!({ "version": 1, "active": false }))
        .await;
    assert_eq!(expect_json(res, 200).await["active"], false);
    let active = expect_json(app.get("/api/v1/units?active=true", &admin).await, 200).await;
    assert_eq!(active["total"], 0);

    let unused = app.create_unit(&admin, "T02", "东城镇").await;
    let path = format!("/api/v1/units/{}", unused["id"]);
    let res = app.request(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(res.status(), 204);
    expect_problem(app.get(&path, &admin).await, 404, "not_found").await;
}

async fn a_unit_cannot_be_placed_under_itself(app: TestApp) {
    let admin = app.admin_token().await;
    let top = app.create_unit(&admin, "A", "上级").await;
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "B", "name": "下级", "kind": "other", "parent_id": top["id"] }),
        )
        .await;
    let child = expect_json(res, 201).await;
    for parent in [&top["id"], &child["id"]] {
        let res = app
            .patch(
                &format!("/api/v1/units/{}", top["id"]),
                &admin,
                json!({ "version": 1, "parent_id": parent }),
            )
            .await;
        let problem = expect_problem(res, 422, "validation_failed").await;
        assert_eq!(problem_fields(&problem), ["parent_id"]);
    }
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "C", "name": "x", "kind": "other", "parent_id": 424242 }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["parent_id"]);
}

async fn unit_lists_filter_and_paginate(app: TestApp) {
    let admin = app.admin_token().await;
    for i in 1..=5 {
        app.create_unit(&admin, &format!("T0{i}"), &format!("第{i}镇"))
            .await;
    }
    app.post(
        "/api/v1/units",
        &admin,
        json!({ "code": "D1", "name": "水利局", "kind": "department" }),
    )
    .await;
    let page = expect_json(
        app.get("/api/v1/units?kind=township&per_page=2&page=2", &admin)
            .await,
        200,
    )
    .await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 2);
    let codes: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["T03", "T04"]);
    let found = expect_json(
        app.get("/api/v1/units?q=%E6%B0%B4%E5%88%A9", &admin).await,
        200,
    )
    .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["code"], "D1");
    // LIKE wildcards in the search text are literal.
    let none = expect_json(app.get("/api/v1/units?q=%25", &admin).await, 200).await;
    assert_eq!(none["total"], 0);
    let problem = expect_problem(
        app.get("/api/v1/units?per_page=201", &admin).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["per_page"]);
    let problem = expect_problem(
        app.get("/api/v1/units?kind=village", &admin).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["kind"]);
    let problem = expect_problem(
        app.get("/api/v1/units?colour=red", &admin).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["colour"]);
}

async fn bad_unit_fields_are_all_named(app: TestApp) {
    let admin = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "bad code!", "name": "镇".repeat(101), "kind": "village",
                    "contact_emails": ["ok@example.gov.cn", "not-an-email"], "head_email": "x@" }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    let mut fields = problem_fields(&problem);
    fields.sort();
    assert_eq!(
        fields,
        ["code", "contact_emails[1]", "head_email", "kind", "name"]
    );
    let list = expect_json(app.get("/api/v1/units", &admin).await, 200).await;
    assert_eq!(list["total"], 0, "nothing was written");
}

async fn unit_aliases_are_kept_and_never_shared(app: TestApp) {
    let admin = app.admin_token().await;
    let park = expect_json(
        app.post(
            "/api/v1/units",
            &admin,
            json!({ "code": "P01", "name": "经济技术开发区管委会", "kind": "park",
                    "aliases": [" 经开区管委会 ", "经开区管委会", "开发区"] }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        park["aliases"],
        json!(["经开区管委会", "开发区"]),
        "trimmed, once"
    );
    let other = app.create_unit(&admin, "D01", "市生态环境局").await;
    assert_eq!(other["aliases"], json!([]));
    // Another unit's alias or name cannot become an alias, nor a name.
    let path = format!("/api/v1/units/{}", other["id"]);
    let p = expect_problem(
        app.patch(
            &path,
            &admin,
            json!({ "version": other["version"], "aliases": ["环保局", "开发区", "经济技术开发区管委会"] }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["aliases[1]", "aliases[2]"]);
    assert!(p["errors"].to_string().contains("经济技术开发区管委会"));
    let p = expect_problem(
        app.patch(
            &path,
            &admin,
            json!({ "version": other["version"], "name": "经开区管委会" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["name"]);
    let res = app
        .post(
            "/api/v1/units",
            &admin,
            json!({ "code": "X1", "name": "某局", "kind": "department", "aliases": ["经开区管委会"] }),
        )
        .await;
    assert_eq!(
        problem_fields(&expect_problem(res, 422, "validation_failed").await),
        ["aliases[0]"]
    );
    // Its own aliases may be replaced; the unit shows the new ones.
    let changed = expect_json(
        app.patch(
            &path,
            &admin,
            json!({ "version": other["version"], "aliases": ["环保局"] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(changed["aliases"], json!(["环保局"]));
    let park_path = format!("/api/v1/units/{}", park["id"]);
    let again = expect_json(
        app.patch(
            &park_path,
            &admin,
            json!({ "version": park["version"], "aliases": ["经开区管委会", "经开区"] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(again["aliases"], json!(["经开区管委会", "经开区"]));
}
