//! The console in a real browser: Debian's chromium, headless, driven through
//! chromedriver with fantoccini. Skipped (and said so) when chromium or
//! chromedriver is missing, unless DUBAN_TEST_REQUIRE_BROWSER=1 (CI), which
//! makes that a failure. With DUBAN_SCREENSHOTS=<dir> the tests also save the
//! screenshots that docs/console.md shows (`bash docs/console/refresh.sh`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::city;
use crate::helpers::processes::Process;
use crate::helpers::{expect_json, TestApp};

crate::api_tests![
    a_clerk_and_the_office_close_a_task_in_the_browser,
    a_chase_emails_link_leads_through_sign_in_to_the_task with crate::helpers::ladder_only,
    a_leader_instructs_the_clerk_replies_and_the_leader_sees_it,
    a_published_bulletin_prints_on_a4,
    a_supervision_order_prints_on_a4,
];

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Why browser tests cannot run here, if they cannot.
pub fn missing() -> Option<String> {
    [CHROMIUM, CHROMEDRIVER]
        .iter()
        .find(|p| !Path::new(p).exists())
        .map(|p| format!("{p} is not installed (apt-get install chromium chromium-driver)"))
}

/// chromedriver on a free port; the harness's process guard kills it with
/// its test (chromedriver takes its chromium along).
struct Driver {
    _process: Process,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Process::spawn(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        Driver {
            _process: process,
            port,
        }
    }
}

/// A headless chromium that may only reach 127.0.0.1.
pub struct Browser {
    pub(crate) client: Client,
    driver: Driver,
    base: String,
    shots: Option<PathBuf>,
}

impl Browser {
    pub async fn open(app: &TestApp) -> Browser {
        let driver = Driver::start();
        let caps = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--lang=zh-CN",
                    // Every host but the test server resolves to nothing.
                    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                    "--no-first-run", "--disable-background-networking", "--disable-sync",
                    "--disable-component-update", "--disable-default-apps",
                ],
                "prefs": { "intl.accept_languages": "zh-CN,zh" },
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let url = format!("http://127.0.0.1:{}", driver.port);
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(30) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("chromium session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            base: app.address.clone(),
            shots: std::env::var_os("DUBAN_SCREENSHOTS").map(PathBuf::from),
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Opens a full URL, as a person clicking a link in an email does.
    pub async fn open_url(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks the button labelled `label` (the first such button) and waits
    /// for the next page.
    pub async fn press(&self, label: &str) {
        let before = self.path().await;
        let xpath = format!("//button[normalize-space()='{label}']");
        let button = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {label} on {before}: {e}"));
        let page = self.client.find(Locator::Css("html")).await.unwrap();
        button.click().await.unwrap();
        self.settle(&before, page).await;
    }

    /// Waits until the page has changed from `before` (a redirect after a
    /// form) or was replaced by the answer to a form posted to its own
    /// address (the import's preview: `page`, the old document, is gone),
    /// and finished loading.
    async fn settle(&self, before: &str, page: fantoccini::elements::Element) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            let ready = self
                .client
                .execute("return document.readyState", vec![])
                .await
                .map(|v| v == "complete")
                .unwrap_or(false);
            if ready && (self.path().await != before || page.tag_name().await.is_err()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Chooses `file` in the file field `css`.
    pub async fn choose_file(&self, css: &str, file: &Path) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.send_keys(&file.to_string_lossy()).await.unwrap();
    }

    /// Clicks the element `css` (a checkbox, a radio button) on this page.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Scrolls the element `css` to the top of the window (for a screenshot).
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView()",
                vec![json!(css)],
            )
            .await
            .unwrap();
    }

    /// How many elements `css` matches.
    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    pub async fn sign_in(&self, username: &str, password: &str) {
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.press("登录").await;
    }

    pub async fn sign_out(&self) {
        self.press("退出").await;
        assert!(self.path().await.starts_with("/login"));
    }

    pub async fn screenshot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            std::fs::create_dir_all(dir).unwrap();
            let png = self.client.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        }
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Runs a Chrome DevTools command through chromedriver (for what W3C
    /// WebDriver lacks: print media, a page's own @page size).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self.client.session_id().await.unwrap().unwrap();
        let url = format!(
            "http://127.0.0.1:{}/session/{session}/goog/cdp/execute",
            self.driver.port
        );
        let res = reqwest::Client::new()
            .post(url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        assert!(body["value"].get("error").is_none(), "{cmd}: {body}");
        body["value"].clone()
    }

    /// Evaluates `script` (a function body that returns) in the page.
    pub async fn run(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Whether the page fits its window's width (no horizontal scrolling).
    pub async fn fits_width(&self) -> (bool, Value) {
        let sizes = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth]",
                vec![],
            )
            .await
            .unwrap();
        (sizes[0].as_i64() <= sizes[1].as_i64(), sizes)
    }

    /// Every resource the pages loaded that did not come from the test server.
    pub async fn foreign_requests(&self) -> Vec<String> {
        let urls = self
            .client
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await
            .unwrap();
        urls.as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|u| !u.starts_with(&self.base))
            .map(str::to_string)
            .collect()
    }

    /// The browser console's errors since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let session = self.client.session_id().await.unwrap().unwrap();
        let log: Value = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/session/{session}/se/log",
                self.driver.port
            ))
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        log["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .map(|e| e["message"].to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Shows the pages as they print: print media, at the width an A4 page
    /// leaves inside 2 cm side margins (the bulletin's and the 督办单's).
    pub async fn as_printed_on_a4(&self) {
        let width = A4_PRINT_WIDTH.floor() as i64;
        self.cdp("Emulation.setEmulatedMedia", json!({ "media": "print" }))
            .await;
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": 1100, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
    }

    /// The elements of the page wider than the window: `tag.class` each.
    pub async fn overflowing(&self) -> Vec<Value> {
        self.run(
            "return [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + '.' + e.className);",
        )
        .await
        .as_array()
        .unwrap()
        .clone()
    }

    /// The page printed by Chromium with its own @page size: each page's
    /// size in points (its MediaBox).
    pub async fn printed_pages(&self) -> Vec<(f64, f64)> {
        let pdf = self
            .cdp(
                "Page.printToPDF",
                json!({ "preferCSSPageSize": true, "printBackground": true }),
            )
            .await;
        use base64::Engine as _;
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(pdf["data"].as_str().unwrap())
            .unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let raw = String::from_utf8_lossy(&pdf);
        raw.match_indices("/MediaBox [")
            .map(|(at, m)| {
                let nums: Vec<f64> = raw[at + m.len()..]
                    .split(']')
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .map(|n| n.parse().unwrap())
                    .collect();
                (nums[2] - nums[0], nums[3] - nums[1])
            })
            .collect()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

async fn a_clerk_and_the_office_close_a_task_in_the_browser(app: TestApp) {
    let c = city::build(&app).await;
    crate::console::settle_accounts(&app);
    let task = c
        .task(&app, "1.2", 12, json!({ "evidence_required": true }))
        .await;
    let id = task["id"].as_i64().unwrap();
    c.ok(&app, &c.office, &task, "assign", None).await;
    let evidence = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
    std::fs::write(evidence.path(), b"%PDF-1.4 evidence").unwrap();
    let clerk_pw = crate::console::password_of("clerk-a");
    let office_pw = crate::console::password_of("office");

    let b = Browser::open(&app).await;
    // A link to the task leads through sign-in to the task.
    b.goto(&format!("/tasks/{id}")).await;
    assert!(
        b.path().await.starts_with("/login?next="),
        "{}",
        b.path().await
    );
    b.screenshot("login").await;
    b.sign_in("clerk-a", &clerk_pw).await;
    assert_eq!(b.path().await, format!("/tasks/{id}"));
    b.press("签收").await;
    assert!(b.text().await.contains("已签收"));

    b.fill("#percent", "50").await;
    b.fill("#body", "已完成一半，整改照片见附件").await;
    let file = b.client.find(Locator::Css("#report-files")).await.unwrap();
    file.send_keys(&evidence.path().to_string_lossy())
        .await
        .unwrap();
    b.press("报告进展").await;
    let page = b.text().await;
    assert!(page.contains("进展已报告"), "{page}");
    assert!(page.contains("50%"));
    b.screenshot("task").await;
    b.fill("#note-submit", "已全部完成").await;
    b.press("提交办结").await;
    b.goto("/").await;
    b.screenshot("home-clerk").await;

    // The office returns it with a note.
    b.sign_out().await;
    b.goto(&format!("/tasks/{id}")).await;
    b.sign_in("office", &office_pw).await;
    b.fill("#note-return", "照片不清晰，请补充").await;
    b.press("退回").await;
    b.goto("/").await;
    b.screenshot("home-office").await;
    b.goto("/tasks").await;
    b.screenshot("tasks").await;

    // The clerk sees why, and submits again.
    b.sign_out().await;
    b.goto(&format!("/tasks/{id}")).await;
    b.sign_in("clerk-a", &clerk_pw).await;
    let page = b.text().await;
    assert!(
        page.contains("被退回") && page.contains("照片不清晰，请补充"),
        "{page}"
    );
    b.fill("#note-submit", "已补充清晰照片").await;
    b.press("提交办结").await;

    // At a phone's width the home and task pages need no sideways scrolling.
    b.resize(375, 800).await;
    for path in [
        "/".to_string(),
        format!("/tasks/{id}"),
        "/tasks".to_string(),
    ] {
        b.goto(&path).await;
        let (fits, sizes) = b.fits_width().await;
        assert!(
            fits,
            "{path} at 375 px: scroll width, window width = {sizes}"
        );
    }
    b.goto(&format!("/tasks/{id}")).await;
    b.screenshot("task-phone").await;
    b.resize(1280, 900).await;

    // The office verifies; the timeline tells the whole story.
    b.sign_out().await;
    b.goto(&format!("/tasks/{id}")).await;
    b.sign_in("office", &office_pw).await;
    b.press("审核通过").await;
    let page = b.text().await;
    assert!(page.contains("已办结"), "{page}");
    for step in [
        "交办",
        "签收",
        "报告进展",
        "上传佐证材料",
        "提交办结",
        "退回",
        "审核通过",
    ] {
        assert!(page.contains(step), "{step} in the timeline");
    }
    let now = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(now["status"], "completed");
    let files = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/attachments"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(
        files[0]["filename"].as_str().unwrap(),
        evidence.path().file_name().unwrap().to_str().unwrap()
    );

    assert_eq!(
        b.foreign_requests().await,
        Vec::<String>::new(),
        "nothing loaded from elsewhere"
    );
    assert_eq!(
        b.console_errors().await,
        Vec::<String>::new(),
        "no errors in the browser console"
    );
    b.close().await;
}

async fn a_chase_emails_link_leads_through_sign_in_to_the_task(app: TestApp) {
    let smtp = crate::smtp::SmtpServer::start();
    let c = city::build(&app).await;
    crate::console::settle_accounts(&app);
    let task = c.in_progress(&app, "4.2", 5).await;
    let id = task["id"].as_i64().unwrap();
    let due: chrono::NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    // One scan on the day after the deadline: the chase notice, delivered.
    let out = crate::notices::Outbox::new(&app, &smtp.url());
    assert_eq!(out.scan(due + chrono::Duration::days(1)).created, 1);
    assert_eq!(out.deliver().sent, 1);
    let mail = smtp.received().pop().unwrap();
    assert!(mail.subject().contains("催办通知"), "{}", mail.subject());
    let html = mail.html();
    let at = html.find("<a href=\"").expect("a link in the HTML part") + "<a href=\"".len();
    let link = html[at..].split('"').next().unwrap().to_string();
    assert_eq!(link, format!("{}/tasks/{id}", app.address));
    assert!(
        mail.text().contains(&link),
        "the text part has the same URL"
    );

    let b = Browser::open(&app).await;
    b.open_url(&link).await;
    assert_eq!(
        b.path().await,
        format!("/login?next=%2Ftasks%2F{id}"),
        "signed out: to the sign-in page first"
    );
    b.sign_in("clerk-a", &crate::console::password_of("clerk-a"))
        .await;
    assert_eq!(b.path().await, format!("/tasks/{id}"));
    let page = b.text().await;
    assert!(
        page.contains("4.2") && page.contains("催办通知"),
        "the task, with the chase on its timeline: {page}"
    );
    b.close().await;
}

async fn a_leader_instructs_the_clerk_replies_and_the_leader_sees_it(app: TestApp) {
    let c = city::build(&app).await;
    crate::console::settle_accounts(&app);
    let task = c.in_progress(&app, "3.2", 20).await;
    let id = task["id"].as_i64().unwrap();
    let leader_pw = crate::console::password_of("leader");
    let clerk_pw = crate::console::password_of("clerk-a");

    let b = Browser::open(&app).await;
    // The responsible leader writes a 批示 with a reply-by date.
    b.goto(&format!("/tasks/{id}")).await;
    b.sign_in("leader", &leader_pw).await;
    assert_eq!(b.path().await, format!("/tasks/{id}"));
    b.fill(
        "#instruction-body",
        "请于本周内完成河道清淤，并报送落实情况",
    )
    .await;
    // The date picker's typing order depends on the locale: set its value.
    let due = city::local_day(5);
    b.client
        .execute(
            "document.querySelector('#instruction-reply-by').value = arguments[0]",
            vec![json!(due)],
        )
        .await
        .unwrap();
    b.press("作出批示").await;
    let page = b.text().await;
    assert!(page.contains("批示已发出"), "{page}");
    assert!(page.contains("待反馈"), "{page}");

    // The lead unit's clerk answers it with a progress report.
    b.sign_out().await;
    b.goto(&format!("/tasks/{id}")).await;
    b.sign_in("clerk-a", &clerk_pw).await;
    let page = b.text().await;
    assert!(page.contains("请于本周内完成河道清淤"), "{page}");
    b.fill("#percent", "70").await;
    b.fill("#body", "清淤已完成七成，周五前全部完成").await;
    let choice = b
        .client
        .find(Locator::Css("#report-instruction"))
        .await
        .unwrap();
    choice.select_by_index(1).await.unwrap();
    b.press("报告进展").await;
    assert!(b.text().await.contains("进展已报告"));

    // The leader sees the reply under the instruction.
    b.sign_out().await;
    b.goto(&format!("/tasks/{id}")).await;
    b.sign_in("leader", &leader_pw).await;
    let page = b.text().await;
    assert!(
        page.contains("已反馈") && page.contains("清淤已完成七成，周五前全部完成"),
        "{page}"
    );
    b.screenshot("task-instruction").await;
    let list = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/instructions"), &c.leader)
            .await,
        200,
    )
    .await;
    assert_eq!(list[0]["reply_by"], due);
    assert_eq!(list[0]["reply"]["percent"], 70);
    assert_eq!(
        b.console_errors().await,
        Vec::<String>::new(),
        "no errors in the browser console"
    );
    b.close().await;
}

/// The A4 page's printable width in CSS pixels: 210 mm less the bulletin's
/// 2 cm side margins (96 px to the inch).
const A4_PRINT_WIDTH: f64 = (210.0 - 40.0) / 25.4 * 96.0;

async fn a_published_bulletin_prints_on_a4(app: TestApp) {
    let c = city::build(&app).await;
    crate::console::settle_accounts(&app);
    // A city's worth of units with the long names that wrapped over five
    // lines, each with a task overdue, and some with nothing due.
    let names = [
        "市住房和城乡建设局",
        "市自然资源和规划局",
        "经济技术开发区管理委员会",
        "市农业农村局",
        "市发展和改革委员会",
        "市交通运输局",
        "高新技术产业园区管委会",
        "市水利局",
        "市文化广电旅游体育局",
        "市市场监督管理局",
        "西山镇",
        "北湖街道办事处",
    ];
    for (i, name) in names.iter().enumerate() {
        let unit = app.create_unit(&c.admin, &format!("U{i:02}"), name).await;
        let task = expect_json(
            app.post(
                "/api/v1/tasks",
                &c.office,
                json!({ "plan_id": c.plan_id, "code": format!("3.{i}"),
                        "title": format!("{name}落实生态环境问题整改和长效管护机制建设"),
                        "lead_unit_id": unit["id"], "responsible_leader_id": c.leader_id,
                        "due_date": city::local_day(-(i as i64 % 4) - 2) }),
            )
            .await,
            201,
        )
        .await;
        c.ok(&app, &c.office, &task, "assign", None).await;
    }
    for i in 0..6 {
        app.create_unit(&c.admin, &format!("Z{i:02}"), &format!("无到期任务单位{i}"))
            .await;
    }
    let period = format!("{}..{}", city::local_day(-10), city::local_day(0));
    let draft = expect_json(
        app.post("/api/v1/bulletins", &c.office, json!({ "period": period }))
            .await,
        201,
    )
    .await;
    let id = draft["id"].as_i64().unwrap();
    expect_json(
        app.post(
            &format!("/api/v1/bulletins/{id}/publish"),
            &c.office,
            json!({}),
        )
        .await,
        200,
    )
    .await;

    let b = Browser::open(&app).await;
    b.goto("/login").await;
    b.sign_in("office", &crate::console::password_of("office"))
        .await;
    let width = A4_PRINT_WIDTH.floor() as i64;
    b.as_printed_on_a4().await;
    b.goto(&format!("/bulletins/{id}/file?format=html")).await;
    let text = b.text().await;
    assert!(
        text.contains("督查通报") && text.contains("本期为首期通报，不列名次升降。"),
        "{text}"
    );
    assert!(
        text.contains("本期无到期任务、未参加排名的单位"),
        "units with nothing due in one sentence: {text}"
    );
    assert!(!text.contains("未排名"), "no rows of zeros: {text}");
    let sizes = b
        .run(
            "const over = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + '.' + e.className);
             const lines = [...document.querySelectorAll('table.ranking td.name')].map(td => {
                 const r = document.createRange(); r.selectNodeContents(td);
                 return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; });
             return [document.documentElement.scrollWidth, window.innerWidth, over,
                     Math.max(...lines), lines.length];",
        )
        .await;
    assert!(
        sizes[0].as_i64() <= sizes[1].as_i64() && sizes[2].as_array().unwrap().is_empty(),
        "wider than the A4 print width {width}px: {sizes}"
    );
    assert_eq!(
        sizes[4],
        json!(names.len()),
        "every unit with a task is ranked"
    );
    assert!(
        sizes[3].as_i64().unwrap() <= 2,
        "unit names take at most two lines: {sizes}"
    );
    b.screenshot("bulletin-print").await;
    // Its pictures: the ranking by light and the city's rate over the bulletins.
    assert_eq!(b.count("section.charts svg").await, 2);
    b.scroll_to("section.charts").await;
    b.screenshot("bulletin-charts").await;

    // Printed by Chromium with the page's own @page size.
    let boxes = b.printed_pages().await;
    assert_a4(&boxes);
    // Twelve criticised units, each with its rectification paragraph: four
    // pages, where the 18-column table alone used to run to five.
    assert!(boxes.len() <= 4, "{} pages", boxes.len());
    b.close().await;
}

/// Pages printed, each A4 portrait (595.28 x 841.89 points).
fn assert_a4(boxes: &[(f64, f64)]) {
    assert!(!boxes.is_empty(), "pages in the PDF");
    for (w, h) in boxes {
        assert!(
            (w - 595.3).abs() < 2.0 && (h - 841.9).abs() < 2.0,
            "an A4 portrait page: {w} x {h}"
        );
    }
}

async fn a_supervision_order_prints_on_a4(app: TestApp) {
    let c = city::build(&app).await;
    crate::console::settle_accounts(&app);
    // A long unit name, a long task title and a long requirement with an
    // unbroken address in it: none may push the page wider than A4.
    let unit = app
        .create_unit(
            &c.admin,
            "K01",
            "经济技术开发区管理委员会生态环境和城乡建设综合行政执法局",
        )
        .await;
    let task = c
        .task(
            &app,
            "4.1",
            -9,
            json!({ "lead_unit_id": unit["id"],
                    "title": "开发区化工园区挥发性有机物综合治理和雨污分流管网改造及长效管护机制建设" }),
        )
        .await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    let id = task["id"].as_i64().unwrap();
    let requirement = format!(
        "{}请登录 https://duban.example.gov.cn/tasks/{id}/reports?order=supervision-order-receipt-{} 填报回执。",
        "请你单位主要负责同志亲自研究部署，倒排工期、压实责任，逐项列出整改清单和完成时限，".repeat(4),
        "x".repeat(60)
    );
    let made = expect_json(
        app.post(
            &format!("/api/v1/tasks/{id}/orders"),
            &c.office,
            json!({ "requirement": requirement }),
        )
        .await,
        201,
    )
    .await;
    let number = made["title"].as_str().unwrap().to_string();
    let year = city::local_day(0)[..4].to_string();
    assert!(number.starts_with(&format!("督办〔{year}〕")) && number.ends_with('号'));

    let b = Browser::open(&app).await;
    b.goto("/login").await;
    b.sign_in("office", &crate::console::password_of("office"))
        .await;
    b.as_printed_on_a4().await;
    b.goto(&format!("/orders/{}", made["id"])).await;
    let text = b.text().await;
    assert!(text.contains(&number), "the number on it: {text}");
    assert!(
        text.contains("经济技术开发区管理委员会生态环境和城乡建设综合行政执法局")
            && text.contains("逾期天数")
            && text.contains("回 执"),
        "{text}"
    );
    let (fits, sizes) = b.fits_width().await;
    let over = b.overflowing().await;
    assert!(
        fits && over.is_empty(),
        "wider than the A4 print width: {sizes} {over:?}"
    );
    b.screenshot("order-print").await;

    let boxes = b.printed_pages().await;
    assert_a4(&boxes);
    assert!(boxes.len() <= 2, "{} pages", boxes.len());
    b.close().await;
}
