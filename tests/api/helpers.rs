//! The test harness: spawn the app with a fresh database, sign in, and send
//! requests. Modelled on zero2prod's `spawn_app`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

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

/// How long a test may run before it fails, unless it names its own limit
/// (`name timeout SECS` in `api_tests!`/`once_tests!`). `TEST_TIMEOUT_SECS`
/// changes this default, e.g. for a slow machine or a debugger.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

pub struct ApiTest {
    pub name: &'static str,
    pub run: fn(TestApp) -> TestFuture,
    /// Changes the test's settings before its app starts.
    pub settings: fn(&mut Settings),
    /// Its own time limit, if it needs more (or less) than the default.
    pub timeout: Option<Duration>,
}

/// Lists a module's tests: `api_tests![a, b with adjust, c timeout 300]`
/// defines `tests()` returning them; `with adjust` names a
/// `fn(&mut Settings)` applied to that test's settings, `timeout SECS` gives
/// it its own time limit (both may be given, the limit first). A test not
/// listed here is dead code, which clippy refuses.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident $(timeout $secs:literal)? $(with $adjust:path)?),* $(,)?) => {
        pub fn tests() -> Vec<$crate::helpers::ApiTest> {
            vec![$($crate::helpers::ApiTest {
                name: concat!(module_path!(), "::", stringify!($name))
                    .trim_start_matches("api::"),
                run: |app| Box::pin($name(app)),
                settings: $crate::api_tests!(@settings $($adjust)?),
                timeout: $crate::api_tests!(@timeout $($secs)?),
            }),*]
        }
    };
    (@settings) => { |_| {} };
    (@settings $adjust:path) => { $adjust };
    (@timeout) => { None };
    (@timeout $secs:literal) => { Some(std::time::Duration::from_secs($secs)) };
}

/// A test that runs once, not once per backend, and starts no app: it makes
/// the databases it needs itself (`FreshDatabase`), on both backends. It is
/// skipped with the PostgreSQL tests when no server is reachable.
pub struct OnceTest {
    pub name: &'static str,
    pub run: fn() -> TestFuture,
    pub timeout: Option<Duration>,
}

/// Lists a module's tests that need both backends at once: `once_tests![a,
/// b timeout 300]` defines `once_tests()` returning them.
#[macro_export]
macro_rules! once_tests {
    ($($name:ident $(timeout $secs:literal)?),* $(,)?) => {
        pub fn once_tests() -> Vec<$crate::helpers::OnceTest> {
            vec![$($crate::helpers::OnceTest {
                name: concat!(module_path!(), "::", stringify!($name))
                    .trim_start_matches("api::"),
                run: || Box::pin($name()),
                timeout: $crate::api_tests!(@timeout $($secs)?),
            }),*]
        }
    };
}

/// The time limit of a test: its own, else `TEST_TIMEOUT_SECS`, else the default.
pub fn time_limit(own: Option<Duration>) -> Duration {
    own.unwrap_or_else(|| {
        std::env::var("TEST_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs)
    })
}

/// With `TEST_LOG=1` (or any value but `0`), the app's tracing goes to
/// standard error, filtered by `RUST_LOG` (default `info`): a 500's cause,
/// every request line. Each line names its thread, and a test's runtime
/// threads are named after the test. Off by default: a passing run stays quiet.
pub fn init_test_log() {
    if std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0") {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_thread_names(true)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_writer(std::io::stderr)
            .try_init();
    }
}

/// Runs `body` on a thread of its own, named `name`, and fails when it has
/// not finished within `limit`. A timed-out test's child processes are
/// killed at once (which also wakes a test blocked on one); the thread itself
/// cannot be stopped and is left behind, the run carries on. With
/// `TEST_TIMES` set, says how long each test took (on stderr), to find the
/// slow ones.
pub fn run_with_limit(
    name: &str,
    limit: Duration,
    body: impl FnOnce() + Send + 'static,
) -> Result<(), libtest_mimic::Failed> {
    let id = processes::new_test_id();
    let started = std::time::Instant::now();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            processes::set_current_test(id);
            body();
            let _ = done.send(());
        })
        .map_err(|e| format!("could not start the test's thread: {e}"))?;
    let outcome = finished.recv_timeout(limit);
    if std::env::var_os("TEST_TIMES").is_some() {
        eprintln!("{:7.1} s  {name}", started.elapsed().as_secs_f64());
    }
    match outcome {
        // Disconnected: the body panicked; the join hands the panic on.
        Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Ok(()) => Ok(()),
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            let killed = processes::kill_test(id);
            Err(format!(
                "timed out after {} s ({killed} child processes killed); a test that needs \
                 longer says so in its list: `name timeout SECS`, or set TEST_TIMEOUT_SECS",
                limit.as_secs()
            )
            .into())
        }
    }
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

/// For tests about the ladder and the outbox, which count every notice: no
/// 交办/退回 notices beside the ladder's (their own test is in notices.rs).
pub fn ladder_only(settings: &mut Settings) {
    settings.step_notices = false;
}

/// Settings for a test: port 0, its own data directory and database.
pub fn test_settings(data_dir: &std::path::Path, database_url: &str) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.to_path_buf(),
        database_url: Some(database_url.to_string()),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        db_pool_size: 4,
        workers: TEST_WORKERS,
        argon2_memory_kib: cheap_hashing().0,
        argon2_iterations: cheap_hashing().1,
        argon2_parallelism: cheap_hashing().2,
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

/// A runtime for one test: two workers, named after the test (so that its
/// log lines say whose they are), its child processes counted as the test's.
fn test_runtime() -> tokio::runtime::Runtime {
    let id = processes::current_test();
    let name = std::thread::current()
        .name()
        .map_or_else(|| "test".to_string(), str::to_string);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .on_thread_start(move || processes::set_current_test(id))
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn run_test(backend: Backend, test: fn(TestApp) -> TestFuture, settings: fn(&mut Settings)) {
    test_runtime().block_on(async move {
        let app = spawn_app_with(backend, settings).await;
        test(app).await;
    });
}

pub fn run_once(test: fn() -> TestFuture) {
    test_runtime().block_on(test());
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

    /// Posts `bytes` as the multipart field `file` named `file_name` (an
    /// upload through the API).
    pub async fn post_file(
        &self,
        path: &str,
        token: &str,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string());
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await
            .expect("request sent")
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

/// The `duban` binary, inheriting no DUBAN_* setting from the test run, with
/// the test settings that keep a run fast: cheap password hashing
/// (`cheap_hashing`) and two server workers. A test about either sets its own.
pub fn duban() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_duban"));
    for (key, _) in std::env::vars() {
        if key.starts_with("DUBAN_") || key == "DATABASE_URL" {
            cmd.env_remove(key);
        }
    }
    let cheap = cheap_hashing();
    cmd.env("RUST_LOG", "warn")
        .env("DUBAN_WORKERS", TEST_WORKERS.to_string())
        .env("DUBAN_ARGON2_MEMORY_KIB", cheap.0.to_string())
        .env("DUBAN_ARGON2_ITERATIONS", cheap.1.to_string())
        .env("DUBAN_ARGON2_PARALLELISM", cheap.2.to_string());
    cmd
}

/// Server workers of every app a test starts: enough for requests to overlap,
/// few enough that a many-core CI machine does not start dozens per test.
pub const TEST_WORKERS: usize = 2;

/// argon2id memory (KiB), passes and lanes for tests not about hashing: the
/// least argon2 accepts. Production keeps the OWASP parameters (the
/// defaults, checked by `cli::first_start_prints_the_admin_password_once_and_restarts_keep_data`
/// and `auth::password`'s unit test).
pub fn cheap_hashing() -> (u32, u32, u32) {
    (8, 1, 1)
}

/// Child processes of the tests, killed when their test fails or times out.
///
/// A signal is only ever sent to a child still held unreaped, under the lock
/// that every wait takes: a reaped child's pid may already belong to another
/// process (another test's `duban audit verify`, say), so no pid number is
/// ever handed to `kill` outside that lock.
pub mod processes {
    use std::cell::Cell;
    use std::io::Read;
    use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Output, Stdio};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
    use std::time::Duration;

    thread_local! {
        static CURRENT_TEST: Cell<u64> = const { Cell::new(0) };
    }

    /// Every child started through `Process`, with the test that started it
    /// (0: a thread of unknown test).
    static CHILDREN: Mutex<Vec<(u64, Weak<Mutex<Child>>)>> = Mutex::new(Vec::new());
    static NEXT_TEST: AtomicU64 = AtomicU64::new(1);

    pub(super) fn new_test_id() -> u64 {
        NEXT_TEST.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts the children started on this thread as test `id`'s: for a
    /// thread a test starts itself, with the id `current_test` gave it.
    pub fn set_current_test(id: u64) {
        CURRENT_TEST.with(|c| c.set(id));
    }

    /// The test running on this thread (0 on a thread the harness did not start).
    pub fn current_test() -> u64 {
        CURRENT_TEST.with(Cell::get)
    }

    fn registry() -> MutexGuard<'static, Vec<(u64, Weak<Mutex<Child>>)>> {
        CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(child: &Mutex<Child>) -> MutexGuard<'_, Child> {
        child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// SIGKILL unless already reaped (std's `kill` checks), then reap.
    fn kill_and_reap(child: &Mutex<Child>) {
        let mut child = lock(child);
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Kills the children of test `id` still running; returns how many there were.
    pub(super) fn kill_test(id: u64) -> usize {
        let children: Vec<_> = registry()
            .iter()
            .filter(|(test, _)| *test == id)
            .filter_map(|(_, child)| child.upgrade())
            .collect();
        let mut killed = 0;
        for child in children {
            if matches!(lock(&child).try_wait(), Ok(None)) {
                killed += 1;
            }
            kill_and_reap(&child);
        }
        killed
    }

    /// Kills every child still running: the last thing the harness does, for
    /// the children of timed-out tests whose threads never finished.
    pub fn kill_all() {
        let children: Vec<_> = registry()
            .iter()
            .filter_map(|(_, child)| child.upgrade())
            .collect();
        for child in children {
            kill_and_reap(&child);
        }
    }

    /// A child process, killed (and reaped) when dropped: a failed assertion
    /// or a panic never leaves it running. Signals go through it alone.
    pub struct Process {
        child: Arc<Mutex<Child>>,
    }

    impl Process {
        /// Starts `cmd`; panics when it cannot start.
        pub fn spawn(cmd: &mut Command) -> Process {
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("starting {:?}: {e}", cmd.get_program()));
            let child = Arc::new(Mutex::new(child));
            let mut children = registry();
            children.retain(|(_, c)| c.strong_count() > 0);
            children.push((current_test(), Arc::downgrade(&child)));
            Process { child }
        }

        pub fn take_stdin(&self) -> ChildStdin {
            lock(&self.child).stdin.take().expect("stdin piped")
        }

        pub fn take_stdout(&self) -> ChildStdout {
            lock(&self.child).stdout.take().expect("stdout piped")
        }

        /// SIGKILL: no chance to finish anything. Returns once it is reaped.
        pub fn kill(&self) {
            kill_and_reap(&self.child);
        }

        /// SIGTERM (a graceful stop), then its exit status.
        pub fn terminate(&self) -> ExitStatus {
            {
                let mut child = lock(&self.child);
                // Unreaped, under the lock: the pid is still this child's.
                if matches!(child.try_wait(), Ok(None)) {
                    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
                    // SAFETY: kill(2) only reads its two integer arguments.
                    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
                    assert_eq!(
                        sent,
                        0,
                        "SIGTERM to {pid}: {}",
                        std::io::Error::last_os_error()
                    );
                }
            }
            self.wait()
        }

        /// Waits for it to exit. Polls, so that the lock is free in between
        /// for a kill from the timeout.
        pub fn wait(&self) -> ExitStatus {
            loop {
                if let Some(status) = lock(&self.child).try_wait().expect("try_wait") {
                    return status;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }

        /// Waits for it to exit and returns what it printed on stdout and
        /// stderr (those piped; the others empty).
        pub fn output(self) -> Output {
            let (stdout, stderr) = {
                let mut child = lock(&self.child);
                (child.stdout.take(), child.stderr.take())
            };
            let read = |pipe: Option<Box<dyn Read + Send>>| {
                std::thread::spawn(move || {
                    let mut bytes = Vec::new();
                    if let Some(mut pipe) = pipe {
                        let _ = pipe.read_to_end(&mut bytes);
                    }
                    bytes
                })
            };
            let stdout = read(stdout.map(|p| Box::new(p) as Box<dyn Read + Send>));
            let stderr = read(stderr.map(|p| Box::new(p) as Box<dyn Read + Send>));
            let status = self.wait();
            Output {
                status,
                stdout: stdout.join().expect("stdout read"),
                stderr: stderr.join().expect("stderr read"),
            }
        }
    }

    impl Drop for Process {
        fn drop(&mut self) {
            kill_and_reap(&self.child);
        }
    }

    /// Runs `cmd` to its end like `Command::output` (stdin closed, stdout
    /// and stderr captured), killed if its test fails or times out meanwhile.
    pub fn output(cmd: &mut Command) -> Output {
        Process::spawn(
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )
        .output()
    }
}
