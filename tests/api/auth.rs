//! Sign-in, tokens, password changes, throttling and the permission table.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

use crate::api_tests;
use crate::helpers::{expect_json, expect_problem, TestApp, ADMIN_PASSWORD};

api_tests![
    login_returns_a_bearer_token_that_opens_me,
    wrong_password_and_unknown_user_answer_alike,
    missing_token_is_unauthorized_with_bearer_challenge,
    expired_token_is_refused,
    token_signed_with_another_key_is_refused,
    alg_none_token_is_refused,
    wrong_audience_or_issuer_is_refused,
    old_tokens_stop_working_after_a_password_change,
    repeated_failures_are_throttled_until_the_window_passes,
    throttling_one_address_does_not_lock_out_another,
    each_role_is_refused_what_it_may_not_do,
    deactivated_account_is_signed_out_at_once,
    a_deactivated_account_s_refused_request_is_401_and_its_write_is_not_made,
    a_changed_role_or_unit_signs_the_old_token_out,
    a_token_claiming_another_role_than_its_account_s_is_refused,
    sessions_survive_a_restart_with_the_generated_key,
    a_sign_in_flood_is_answered_and_reads_go_on with production_hashing,
];

fn secret(app: &TestApp) -> Vec<u8> {
    std::fs::read_to_string(app.data_dir.path().join("jwt-secret"))
        .expect("generated key in the data directory")
        .trim()
        .as_bytes()
        .to_vec()
}

fn claims(exp_offset: i64, iss: &str, aud: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "1", "role": "admin", "unit": null, "ver": 1,
            "iat": now, "exp": now + exp_offset, "iss": iss, "aud": aud })
}

fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(key),
    )
    .unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> (u16, Value) {
    let res = app.get("/api/v1/me", token).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn login_returns_a_bearer_token_that_opens_me(app: TestApp) {
    let res = app.try_login("Admin", ADMIN_PASSWORD).await;
    let body = expect_json(res, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 480 * 60);
    let token = body["access_token"].as_str().unwrap();
    let me = expect_json(app.get("/api/v1/me", token).await, 200).await;
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert!(me.get("password_hash").is_none());
}

async fn wrong_password_and_unknown_user_answer_alike(app: TestApp) {
    let wrong = expect_problem(
        app.try_login("admin", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    let unknown = expect_problem(
        app.try_login("nobody", "not-the-password").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong, unknown);
}

async fn missing_token_is_unauthorized_with_bearer_challenge(app: TestApp) {
    let res = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    expect_problem(res, 401, "missing_token").await;
    let res = app.get("/api/v1/units", "not-a-jwt").await;
    expect_problem(res, 401, "token_invalid").await;
}

async fn expired_token_is_refused(app: TestApp) {
    let token = sign(&claims(-3600, "duban", "duban-api"), &secret(&app));
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_expired").await;
    // The same claims, unexpired, are accepted: the key and claims are right.
    let token = sign(&claims(3600, "duban", "duban-api"), &secret(&app));
    assert_eq!(me_status(&app, &token).await.0, 200);
}

async fn token_signed_with_another_key_is_refused(app: TestApp) {
    let token = sign(
        &claims(3600, "duban", "duban-api"),
        b"some-other-key-some-other-key-123456",
    );
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_invalid").await;
}

async fn alg_none_token_is_refused(app: TestApp) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = b64.encode(claims(3600, "duban", "duban-api").to_string());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        expect_problem(app.get("/api/v1/me", &token).await, 401, "token_invalid").await;
    }
    // HS512 with the right key is refused too: the algorithm is pinned.
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims(3600, "duban", "duban-api"),
        &EncodingKey::from_secret(&secret(&app)),
    )
    .unwrap();
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_invalid").await;
}

async fn wrong_audience_or_issuer_is_refused(app: TestApp) {
    let key = secret(&app);
    let token = sign(&claims(3600, "duban", "another-api"), &key);
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_invalid").await;
    let token = sign(&claims(3600, "someone-else", "duban-api"), &key);
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_invalid").await;
}

async fn old_tokens_stop_working_after_a_password_change(app: TestApp) {
    let old = app.admin_token().await;
    let res = app
        .post(
            "/api/v1/me/password",
            &old,
            json!({ "current_password": "wrong-wrong-wrong", "new_password": "a-new-password-42" }),
        )
        .await;
    let problem = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let res = app
        .post(
            "/api/v1/me/password",
            &old,
            json!({ "current_password": ADMIN_PASSWORD, "new_password": "short" }),
        )
        .await;
    expect_problem(res, 422, "validation_failed").await;

    let res = app
        .post(
            "/api/v1/me/password",
            &old,
            json!({ "current_password": ADMIN_PASSWORD, "new_password": "a-new-password-42" }),
        )
        .await;
    let body = expect_json(res, 200).await;
    let fresh = body["access_token"].as_str().unwrap().to_string();
    expect_problem(app.get("/api/v1/me", &old).await, 401, "token_revoked").await;
    assert_eq!(me_status(&app, &fresh).await.0, 200);
    expect_problem(
        app.try_login("admin", ADMIN_PASSWORD).await,
        401,
        "invalid_credentials",
    )
    .await;
    app.login("admin", "a-new-password-42").await;
}

async fn repeated_failures_are_throttled_until_the_window_passes(app: TestApp) {
    for _ in 0..10 {
        expect_problem(
            app.try_login("admin", "guess-guess-guess").await,
            401,
            "invalid_credentials",
        )
        .await;
    }
    let res = app.try_login("admin", ADMIN_PASSWORD).await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60 + 1).contains(&retry), "Retry-After {retry}");
    expect_problem(res, 429, "too_many_attempts").await;

    // Age the failures past the 15-minute window: the account opens again.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    use diesel::prelude::*;
    use duban::db::schema::sign_in_attempts;
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(16);
    diesel::update(sign_in_attempts::table)
        .set(sign_in_attempts::attempted_at.eq(long_ago))
        .execute(&mut conn)
        .unwrap();
    app.login("admin", ADMIN_PASSWORD).await;
}

async fn throttling_one_address_does_not_lock_out_another(app: TestApp) {
    // Failures recorded from another address (as an attacker elsewhere would
    // cause) do not throttle this client.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    let limits = duban::auth::throttle::Limits::of(&app.settings);
    let mut refused = 0;
    for _ in 0..20 {
        // Each admitted attempt that is never marked as succeeded is a failure.
        if duban::auth::throttle::admit(&mut conn, &limits, "admin", "203.0.113.9", now).is_err() {
            refused += 1;
        }
    }
    assert_eq!(refused, 10, "the other address is throttled");
    app.login("admin", ADMIN_PASSWORD).await;
}

async fn each_role_is_refused_what_it_may_not_do(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T01", "城关镇").await;
    let unit_id = unit["id"].as_i64().unwrap();
    let (target, _) = app.create_user(&admin, "target", "viewer", None).await;
    let target_id = target["id"].as_i64().unwrap();
    for role in ["office", "leader", "unit", "viewer"] {
        let (_, token) = app
            .create_user(&admin, &format!("{role}-user"), role, Some(unit_id))
            .await;
        let attempts = [
            (
                Method::POST,
                "/api/v1/units".to_string(),
                Some(json!({ "code": "X1", "name": "x", "kind": "other" })),
            ),
            (
                Method::PATCH,
                format!("/api/v1/units/{unit_id}"),
                Some(json!({ "version": 1, "name": "改名" })),
            ),
            (Method::DELETE, format!("/api/v1/units/{unit_id}"), None),
            (
                Method::POST,
                "/api/v1/users".to_string(),
                Some(
                    json!({ "username": "sneaky", "display_name": "s", "role": "admin", "password": "sneaky-password-1" }),
                ),
            ),
            (
                Method::PATCH,
                format!("/api/v1/users/{target_id}"),
                Some(json!({ "version": 1, "role": "admin" })),
            ),
        ];
        for (method, path, body) in attempts {
            let res = app.request(method.clone(), &path, Some(&token), body).await;
            expect_problem(res, 403, "forbidden").await;
        }
    }
    // Nothing changed.
    let unit = expect_json(
        app.get(&format!("/api/v1/units/{unit_id}"), &admin).await,
        200,
    )
    .await;
    assert_eq!(unit["name"], "城关镇");
    let target = expect_json(
        app.get(&format!("/api/v1/users/{target_id}"), &admin).await,
        200,
    )
    .await;
    assert_eq!(target["role"], "viewer");
    expect_problem(
        app.try_login("sneaky", "sneaky-password-1").await,
        401,
        "invalid_credentials",
    )
    .await;
}

async fn deactivated_account_is_signed_out_at_once(app: TestApp) {
    let admin = app.admin_token().await;
    let (user, token) = app.create_user(&admin, "leaving", "viewer", None).await;
    assert_eq!(me_status(&app, &token).await.0, 200);
    let id = user["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "version": 1, "active": false }),
        )
        .await;
    expect_json(res, 200).await;
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_revoked").await;
    expect_problem(
        app.try_login("leaving", "leaving-password-1").await,
        401,
        "invalid_credentials",
    )
    .await;
}

/// Deactivates (or reactivates) `user`, at `version`, as `admin`.
async fn set_active(app: &TestApp, admin: &str, user: &Value, version: i64, active: bool) {
    let id = user["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/users/{id}"),
            admin,
            json!({ "version": version, "active": active }),
        )
        .await;
    expect_json(res, 200).await;
}

/// The account check goes with the handler's database work, or after the
/// handler when it reached no database: either way a revoked token gets 401
/// and its work is not done.
async fn a_deactivated_account_s_refused_request_is_401_and_its_write_is_not_made(app: TestApp) {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "T1", "城关镇").await;
    let unit_id = unit["id"].as_i64().unwrap();
    let (viewer, viewer_token) = app
        .create_user(&admin, "leaving.viewer", "viewer", None)
        .await;
    let (clerk, clerk_token) = app
        .create_user(&admin, "leaving.clerk", "unit", Some(unit_id))
        .await;
    for user in [&viewer, &clerk] {
        set_active(&app, &admin, user, 1, false).await;
    }
    // Refused by the role before any database work (a viewer may not add a
    // unit): the check after the handler answers 401, not 403.
    let res = app
        .post(
            "/api/v1/units",
            &viewer_token,
            json!({ "code": "X1", "name": "x", "kind": "other" }),
        )
        .await;
    expect_problem(res, 401, "token_revoked").await;
    // A write the role allows: refused before it is made.
    let res = app
        .request(
            Method::POST,
            "/api/v1/me/password",
            Some(&clerk_token),
            Some(json!({ "current_password": "leaving.clerk-password-1", "new_password": "a-new-password-42" })),
        )
        .await;
    expect_problem(res, 401, "token_revoked").await;
    // Back in service, the clerk still has the old password, not the new one.
    set_active(&app, &admin, &clerk, 2, true).await;
    expect_problem(
        app.try_login("leaving.clerk", "a-new-password-42").await,
        401,
        "invalid_credentials",
    )
    .await;
    app.login("leaving.clerk", "leaving.clerk-password-1").await;
    let units = expect_json(app.get("/api/v1/units", &admin).await, 200).await;
    let names: Vec<&str> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["城关镇"]);
}

/// A token says its role and unit; given another, the person signs in again
/// and is served in the new one, never in the old one.
async fn a_changed_role_or_unit_signs_the_old_token_out(app: TestApp) {
    let admin = app.admin_token().await;
    let first = app.create_unit(&admin, "T1", "城关镇").await;
    let second = app.create_unit(&admin, "T2", "河口镇").await;
    let (user, token) = app
        .create_user(
            &admin,
            "moving",
            "unit",
            Some(first["id"].as_i64().unwrap()),
        )
        .await;
    let id = user["id"].as_i64().unwrap();
    assert_eq!(me_status(&app, &token).await.0, 200);
    let res = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "version": 1, "unit_id": second["id"] }),
        )
        .await;
    expect_json(res, 200).await;
    expect_problem(app.get("/api/v1/me", &token).await, 401, "token_revoked").await;
    let token = app.login("moving", "moving-password-1").await;
    let (status, me) = me_status(&app, &token).await;
    assert_eq!((status, me["unit_id"].clone()), (200, second["id"].clone()));

    let res = app
        .patch(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "version": 2, "role": "viewer", "unit_id": null }),
        )
        .await;
    expect_json(res, 200).await;
    expect_problem(app.get("/api/v1/tasks", &token).await, 401, "token_revoked").await;
    let token = app.login("moving", "moving-password-1").await;
    let (status, me) = me_status(&app, &token).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("viewer")));
}

/// The role a token names is used only while the account still has it: a
/// token signed with the installation's key but naming a role its account
/// does not have opens nothing, even where that role would be allowed.
async fn a_token_claiming_another_role_than_its_account_s_is_refused(app: TestApp) {
    let admin = app.admin_token().await;
    let (viewer, _) = app
        .create_user(&admin, "plain.viewer", "viewer", None)
        .await;
    let mut forged = claims(3600, "duban", "duban-api");
    forged["sub"] = json!(viewer["id"].as_i64().unwrap().to_string());
    let token = sign(&forged, &secret(&app));
    let res = app
        .post(
            "/api/v1/units",
            &token,
            json!({ "code": "X1", "name": "x", "kind": "other" }),
        )
        .await;
    expect_problem(res, 401, "token_revoked").await;
    expect_problem(app.get("/api/v1/users", &token).await, 401, "token_revoked").await;
    let units = expect_json(app.get("/api/v1/units", &admin).await, 200).await;
    assert_eq!(units["items"].as_array().unwrap().len(), 0);
}

async fn sessions_survive_a_restart_with_the_generated_key(app: TestApp) {
    let token = app.admin_token().await;
    // A second instance on the same data directory and database, as after a restart.
    let second = duban::startup::Application::build(app.settings.clone())
        .await
        .unwrap();
    assert_eq!(
        second.first_admin(),
        &duban::users::bootstrap::FirstAdmin::Existing
    );
    let address = format!("http://{}/api/v1/me", second.address());
    let handle = second.handle();
    tokio::spawn(second.run_until_stopped());
    let res = app
        .client
        .get(address)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    handle.stop(false).await;
}

/// The production (OWASP) argon2 parameters instead of the tests' cheap ones.
fn production_hashing(settings: &mut duban::config::Settings) {
    let owasp = duban::config::Settings::default();
    settings.argon2_memory_kib = owasp.argon2_memory_kib;
    settings.argon2_iterations = owasp.argon2_iterations;
    settings.argon2_parallelism = owasp.argon2_parallelism;
}

/// 40 wrong passwords at once, with the real hashing cost: every attempt is
/// answered 401, or refused as busy or throttled (503/429 with
/// `Retry-After`), never 500; a read in the middle of it still answers.
async fn a_sign_in_flood_is_answered_and_reads_go_on(app: TestApp) {
    use futures_util::future::join_all;
    let admin = app.admin_token().await;
    let shots = (0..40).map(|i| {
        let app = &app;
        async move {
            let res = app
                .try_login(&format!("nobody-{i}"), "wrong-password-1")
                .await;
            let status = res.status().as_u16();
            let retry = res.headers().get("retry-after").is_some();
            (status, retry)
        }
    });
    let read = async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        app.get("/api/v1/tasks", &admin).await.status().as_u16()
    };
    let (answers, read) = futures_util::join!(join_all(shots), read);
    assert_eq!(read, 200, "a task read during the flood is answered");
    for (status, retry) in &answers {
        assert!(
            matches!(status, 401 | 429 | 503),
            "every sign-in is answered 401, 429 or 503: {answers:?}"
        );
        if *status != 401 {
            assert!(retry, "a refusal says when to come back: {answers:?}");
        }
    }
    // Only the attempts that reached the password check are recorded: one
    // refused because the hashing queue is full (503) leaves no row and does
    // not count as a failure against its account.
    use diesel::prelude::*;
    use duban::db::schema::sign_in_attempts;
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let recorded: i64 = sign_in_attempts::table
        .filter(sign_in_attempts::username.like("nobody-%"))
        .count()
        .get_result(&mut pool.get().unwrap())
        .unwrap();
    let checked = answers.iter().filter(|(status, _)| *status == 401).count();
    assert_eq!(recorded, checked as i64, "{answers:?}");
}
