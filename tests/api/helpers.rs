//! The test harness: spawn the app with a fresh database, sign in, and send
//! requests. Modelled on zero2prod's `spawn_app`.

use std::future::Future;
use std::pin::Pin;

use diesel::{Connection, PgConnection, RunQueryDsl};
use duban::config::Settings;
use duban::startup::Application;
use reqwest::{Method, Response};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

pub type TestFuture = Pin<Box<dyn Future<Output = ()>>>;

pub struct ApiTest {
    pub name: &'static str,
    pub run: fn(TestApp) -> TestFuture,
    /// Changes the test's settings before its app starts.
    pub settings: fn(&mut Settings),
}

/// Lists a module's tests: `api_tests![a, b with adjust]` defines `tests()`
/// returning them; `with adjust` names a `fn(&mut Settings)` applied to that
/// test's settings. A test not listed here is dead code, which clippy refuses.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident $(with $adjust:path)?),* $(,)?) => {
        pub fn tests() -> Vec<$crate::helpers::ApiTest> {
            vec![$($crate::helpers::ApiTest {
                name: concat!(module_path!(), "::", stringify!($name))
                    .trim_start_matches("api::"),
                run: |app| Box::pin($name(app)),
                settings: $crate::api_tests!(@settings $($adjust)?),
            }),*]
        }
    };
    (@settings) => { |_| {} };
    (@settings $adjust:path) => { $adjust };
}

/// A test that runs once, not once per backend, and starts no app: it makes
/// the databases it needs itself (`FreshDatabase`), on both backends. It is
/// skipped with the PostgreSQL tests when no server is reachable.
pub struct OnceTest {
    pub name: &'static str,
    pub run: fn() -> TestFuture,
}

/// Lists a module's tests that need both backends at once: `once_tests![a, b]`
/// defines `once_tests()` returning them.
#[macro_export]
macro_rules! once_tests {
    ($($name:ident),* $(,)?) => {
        pub fn once_tests() -> Vec<$crate::helpers::OnceTest> {
            vec![$($crate::helpers::OnceTest {
                name: concat!(module_path!(), "::", stringify!($name))
                    .trim_start_matches("api::"),
                run: || Box::pin($name()),
            }),*]
        }
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("DUBAN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub fn check_postgres(url: &str) -> Result<(), String> {
    PgConnection::establish(url)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> PgDatabase {
        let admin_url = postgres_admin_url();
        let name = format!("duban_test_{}", duban::secrets::random_hex(8));
        let mut conn = PgConnection::establish(&admin_url).expect("PostgreSQL reachable");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        let base = admin_url
            .rsplit_once('/')
            .map(|(base, _)| base.to_string())
            .expect("URL has a database path");
        PgDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

/// A fresh, empty database of `backend`: its URL, and what keeps it alive.
pub struct FreshDatabase {
    pub url: String,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

impl FreshDatabase {
    pub fn new(backend: Backend) -> FreshDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        let (url, pg) = match backend {
            Backend::Sqlite => (
                dir.path().join("duban.db").to_string_lossy().into_owned(),
                None,
            ),
            Backend::Postgres => {
                let pg = PgDatabase::create();
                (pg.url.clone(), Some(pg))
            }
        };
        FreshDatabase {
            url,
            _dir: dir,
            _pg: pg,
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub backend: Backend,
    pub client: reqwest::Client,
    pub settings: Settings,
    pub data_dir: tempfile::TempDir,
    handle: actix_web::dev::ServerHandle,
    // Dropped after the server is told to stop (fields drop in order).
    pub database: FreshDatabase,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for it.
        drop(self.handle.stop(false));
    }
}

/// Settings for a test: port 0, its own data directory and database.
pub fn test_settings(data_dir: &std::path::Path, database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        database_url: Some(database_url.to_string()),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        db_pool_size: 4,
        // Tests deliver at any hour; the send window has its own test.
        send_window: duban::config::Hours(None),
        ..Settings::default()
    }
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = FreshDatabase::new(backend);
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(data_dir.path(), &database.url);
    adjust(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://{}", app.address());
    let handle = app.handle();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        backend,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        settings,
        data_dir,
        handle,
        database,
    }
}

pub fn run_test(backend: Backend, test: fn(TestApp) -> TestFuture, settings: fn(&mut Settings)) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let app = spawn_app_with(backend, settings).await;
        test(app).await;
    });
}

pub fn run_once(test: fn() -> TestFuture) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(test());
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    /// Signs in; returns the raw response.
    pub async fn try_login(&self, username: &str, password: &str) -> Response {
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "username": username, "password": password })),
        )
        .await
    }

    /// Signs in and returns the access token; panics when sign-in fails.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self.try_login(username, password).await;
        assert_eq!(res.status(), 200, "sign-in of {username} failed");
        let body: Value = res.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a unit as admin; returns it.
    pub async fn create_unit(&self, admin: &str, code: &str, name: &str) -> Value {
        let res = self
            .post(
                "/api/v1/units",
                admin,
                json!({ "code": code, "name": name, "kind": "township",
                        "contact_emails": [format!("{}@example.gov.cn", code.to_lowercase())] }),
            )
            .await;
        assert_eq!(res.status(), 201, "creating unit {code}");
        res.json().await.expect("json")
    }

    /// Creates an account as admin with a known password; returns it and its token.
    pub async fn create_user(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        unit_id: Option<i64>,
    ) -> (Value, String) {
        let password = format!("{username}-password-1");
        let res = self
            .post(
                "/api/v1/users",
                admin,
                json!({ "username": username, "display_name": username, "role": role,
                        "unit_id": unit_id, "password": password }),
            )
            .await;
        assert_eq!(res.status(), 201, "creating user {username}");
        let user: Value = res.json().await.expect("json");
        let token = self.login(username, &password).await;
        (user, token)
    }
}

/// Reads a response as JSON after checking its status, printing the body when it differs.
pub async fn expect_json(res: Response, status: u16) -> Value {
    let actual = res.status().as_u16();
    let text = res.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Checks a response is a problem document with `status` and `code`; returns it.
pub async fn expect_problem(res: Response, status: u16, code: &str) -> Value {
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = expect_json(res, status).await;
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string());
    body
}

/// The fields named in a validation problem.
pub fn problem_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
