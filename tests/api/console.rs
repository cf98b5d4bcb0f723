//! The web console as a person uses it, without a browser: pages, forms with
//! their CSRF tokens, redirects and cookies, on both backends. What needs a
//! real browser (layout, scripts, screenshots) is in `browser.rs`.

use reqwest::header::{HeaderMap, ACCEPT_LANGUAGE, LOCATION, SET_COOKIE};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::city::{self, City};
use crate::helpers::{expect_json, TestApp, ADMIN_PASSWORD};

crate::api_tests![
    signing_in_leads_back_and_signing_out_ends_the_session,
    pages_carry_security_headers_and_forms_need_their_token,
    a_clerk_and_the_office_work_a_task_through_the_console,
    the_clerk_sees_the_progress_reports_owed_and_lists_exactly_them,
    a_task_out_of_sight_is_a_404_page,
    a_stale_form_says_so_and_keeps_what_was_typed,
    an_idle_session_ends,
    an_account_set_up_by_an_admin_chooses_its_own_password_first,
    the_console_speaks_english_when_asked,
    the_office_decides_accountability_proposals_in_the_console,
    a_task_with_a_long_timeline_shows_its_page,
];

/// A person with a browser's cookie jar, who does not follow redirects (so
/// the tests see where they lead).
pub struct Visitor {
    client: reqwest::Client,
    base: String,
}

/// A page as received.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    async fn of(res: Response) -> Page {
        Page {
            status: res.status(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The task page's timeline, from its list to the end of the page.
    pub fn timeline(&self) -> &str {
        let at = self.body.find("class=\"timeline\"").expect("a timeline");
        &self.body[at..]
    }

    /// The first CSRF token a form on the page carries.
    pub fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + "name=\"csrf\" value=\"".len();
        self.body[at..].split('"').next().unwrap().to_string()
    }

    /// The value of the hidden `version` field the page's forms carry.
    pub fn version(&self) -> String {
        let at = self
            .body
            .find("name=\"version\" value=\"")
            .expect("a versioned form")
            + "name=\"version\" value=\"".len();
        self.body[at..].split('"').next().unwrap().to_string()
    }

    #[track_caller]
    pub fn assert_has(&self, text: &str) {
        assert!(
            self.body.contains(text),
            "page ({}) lacks {text:?}:\n{}",
            self.status,
            self.body
        );
    }
}

impl Visitor {
    pub fn new(app: &TestApp) -> Visitor {
        Visitor::with_language(app, "zh-CN,zh;q=0.9")
    }

    pub fn with_language(app: &TestApp, lang: &str) -> Visitor {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, lang.parse().unwrap());
        Visitor {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .default_headers(headers)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.address.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Page::of(
            self.client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        Page::of(
            self.client
                .post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post_multipart(&self, path: &str, form: Form) -> Page {
        Page::of(
            self.client
                .post(format!("{}{path}", self.base))
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Signs in through the form; returns the answer to the form post.
    pub async fn sign_in(&self, username: &str, password: &str, next: &str) -> Page {
        let url = reqwest::Url::parse_with_params("http://x/login", &[("next", next)]).unwrap();
        let form = self.get(&format!("/login?{}", url.query().unwrap())).await;
        assert_eq!(form.status, 200);
        let csrf = form.csrf();
        self.post(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("csrf", &csrf),
                ("next", next),
            ],
        )
        .await
    }

    /// Signs in and expects to be let in.
    pub async fn signed_in(app: &TestApp, username: &str, password: &str) -> Visitor {
        let v = Visitor::new(app);
        let res = v.sign_in(username, password, "/").await;
        assert_eq!(res.status, 303, "{username} signs in: {}", res.body);
        v
    }

    /// Posts a life-cycle action from the task page, as its form does.
    pub async fn act(&self, task: i64, action: &str, note: &str) -> Page {
        let page = self.get(&format!("/tasks/{task}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let (csrf, version) = (page.csrf(), page.version());
        self.post(
            &format!("/tasks/{task}/act"),
            &[
                ("csrf", &csrf),
                ("action", action),
                ("version", &version),
                ("note", note),
            ],
        )
        .await
    }
}

/// The city's accounts were set up by the admin; here they have chosen
/// their own passwords already (that first step has its own test).
pub fn settle_accounts(app: &TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::users;
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::update(users::table)
        .set(users::must_change_password.eq(false))
        .execute(&mut conn)
        .unwrap();
}

/// The password `TestApp::create_user` gives an account.
pub fn password_of(username: &str) -> String {
    format!("{username}-password-1")
}

async fn signing_in_leads_back_and_signing_out_ends_the_session(app: TestApp) {
    let v = Visitor::new(&app);
    // Signed out, a page leads to the sign-in form and back.
    let home = v.get("/tasks?status=assigned").await;
    assert_eq!(home.status, 303);
    assert_eq!(home.location(), "/login?next=%2Ftasks%3Fstatus%3Dassigned");
    let form = v.get(home.location()).await;
    assert_eq!(form.status, 200);
    for label in ["用户名", "密码", "登录"] {
        form.assert_has(label);
    }
    let wrong = v.sign_in("admin", "not-the-password", "/tasks").await;
    assert_eq!(wrong.status, 401);
    wrong.assert_has("用户名或密码错误");
    wrong.assert_has("value=\"admin\"");

    let ok = v
        .sign_in("admin", ADMIN_PASSWORD, "/tasks?status=assigned")
        .await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/tasks?status=assigned");
    let cookie = ok
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("duban_session="))
        .expect("a session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let session = cookie.split(';').next().unwrap().to_string();
    let home = v.get("/").await;
    assert_eq!(home.status, 200);
    home.assert_has("工作台");
    home.assert_has("退出");

    // A link from elsewhere is never followed off the site.
    let other = Visitor::new(&app);
    let res = other
        .sign_in("admin", ADMIN_PASSWORD, "//evil.example/x")
        .await;
    assert_eq!(res.location(), "/");

    // 退出 without the form's token does nothing; with it, the session ends
    // on the server: the old cookie no longer opens a page.
    let refused = v.post("/logout", &[("csrf", "forged")]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(v.get("/").await.status, 200);
    let csrf = v.get("/").await.csrf();
    let out = v.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/login");
    assert_eq!(v.get("/").await.status, 303);
    let replay = app
        .client
        .get(app.url("/"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 303, "a revoked session stays revoked");
}

async fn pages_carry_security_headers_and_forms_need_their_token(app: TestApp) {
    let v = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    let home = v.get("/").await;
    let csp = home.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(home.headers["x-content-type-options"], "nosniff");
    assert_eq!(home.headers["referrer-policy"], "same-origin");
    assert_eq!(home.headers["cache-control"], "no-store");
    assert!(!home.body.contains("<script>"), "no inline script");

    // The style sheet comes from the binary under a content-hashed name.
    let at = home.body.find("/static/duban.").unwrap();
    let href = home.body[at..].split('"').next().unwrap().to_string();
    let css = v.get(&href).await;
    assert_eq!(css.status, 200);
    assert!(css.headers["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert!(css.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert_eq!(
        v.get("/static/duban.css").await.status,
        404,
        "only hashed names"
    );

    // A password change posted by another site (no token) changes nothing.
    let forged = v
        .post(
            "/password",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("new_password", "a-new-password-2026"),
                ("confirm_password", "a-new-password-2026"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    forged.assert_has("表单已过期或来源不明");
    app.login("admin", ADMIN_PASSWORD).await;

    // The sign-in form's token must match the cookie set with the form.
    let stranger = Visitor::new(&app);
    let res = stranger
        .post(
            "/login",
            &[
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
                ("csrf", "guess"),
            ],
        )
        .await;
    assert_eq!(res.status, 403);

    // API paths keep their problem documents; other unknown paths are pages.
    let api = app
        .client
        .get(app.url("/api/v1/nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 404);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    let page = v.get("/nowhere").await;
    assert_eq!(page.status, 404);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    page.assert_has("未找到");
}

fn file(name: &str, mime: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap()
}

async fn a_clerk_and_the_office_work_a_task_through_the_console(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c
        .task(&app, "1.1", 20, json!({ "evidence_required": true }))
        .await;
    let id = task["id"].as_i64().unwrap();
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;

    // The office assigns the draft from its page.
    let drafts = office.get("/").await;
    drafts.assert_has("草稿待交办");
    let assigned = office.act(id, "assign", "").await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    assert_eq!(assigned.location(), format!("/tasks/{id}?done=assign"));

    // The clerk's home counts it under 待签收 and links to exactly that list.
    let home = clerk.get("/").await;
    assert!(
        home.body.contains("href=\"&#x2f;tasks?status=assigned\"><span class=\"count\">1</span><span class=\"label\">待签收"),
        "{}",
        home.body
    );
    let list = clerk.get("/tasks?status=assigned").await;
    list.assert_has("任务 1.1");
    list.assert_has("共 1 项");
    let page = clerk.get(&format!("/tasks/{id}")).await;
    page.assert_has(">签收</button>");
    assert!(
        !page.body.contains(">审核通过</button>"),
        "the clerk cannot verify"
    );

    let accepted = clerk.act(id, "accept", "").await;
    assert_eq!(accepted.status, 303);
    let page = clerk.get(accepted.location()).await;
    page.assert_has("已签收");
    page.assert_has(">提交办结</button>");

    // 报告进展 50% with a file; then more evidence, two files at once.
    let csrf = page.csrf();
    let form = Form::new()
        .text("csrf", csrf.clone())
        .text("percent", "50")
        .text("body", "已完成一半，见附件")
        .part(
            "file",
            file("进展.pdf", "application/pdf", b"%PDF-1.4 half"),
        );
    let reported = clerk
        .post_multipart(&format!("/tasks/{id}/reports"), form)
        .await;
    assert_eq!(reported.status, 303, "{}", reported.body);
    let form = Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            file("照片1.png", "image/png", b"\x89PNG\r\n\x1a\n one"),
        )
        // Sent as the browser often does: the type is judged from content and name.
        .part(
            "file",
            file("台账.xlsx", "application/octet-stream", b"PK\x03\x04 sheet"),
        );
    let uploaded = clerk
        .post_multipart(&format!("/tasks/{id}/attachments"), form)
        .await;
    assert_eq!(uploaded.status, 303, "{}", uploaded.body);
    let refused = clerk
        .post_multipart(
            &format!("/tasks/{id}/attachments"),
            Form::new()
                .text("csrf", csrf.clone())
                .part("file", file("x.exe", "application/x-msdownload", b"MZ")),
        )
        .await;
    assert_eq!(refused.status, 422);
    refused.assert_has("不接受可执行文件");
    let disguised = clerk
        .post_multipart(
            &format!("/tasks/{id}/attachments"),
            Form::new().text("csrf", csrf.clone()).part(
                "file",
                file("验收报告.pdf", "application/pdf", b"MZ\x90\x00"),
            ),
        )
        .await;
    assert_eq!(disguised.status, 422, "an executable labelled PDF");
    let files = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/attachments"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(files.as_array().unwrap().len(), 3, "{files}");
    let page = clerk.get(&format!("/tasks/{id}")).await;
    page.assert_has("50%");
    page.assert_has("进展.pdf");
    assert_eq!(
        files[2]["content_type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let download = clerk
        .get(&format!("/tasks/{id}/attachments/{}", files[0]["id"]))
        .await;
    assert_eq!(download.status, 200);
    assert_eq!(download.body, "%PDF-1.4 half");

    // A wrong upload goes again before submission, by its uploader only.
    let wrong = expect_json(
        city::upload(
            &app,
            &c.clerk_a,
            id,
            "错传.pdf",
            "application/pdf",
            b"%PDF-1.4 x".to_vec(),
        )
        .await,
        201,
    )
    .await;
    let page = clerk.get(&format!("/tasks/{id}")).await;
    page.assert_has("错传.pdf");
    let removed = clerk
        .post(
            &format!("/tasks/{id}/attachments/{}/delete", wrong["id"]),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    let page = clerk.get(&format!("/tasks/{id}")).await;
    assert!(!page.body.contains("错传.pdf</a>"), "removed from the list");
    page.assert_has("删除佐证材料");
    assert_eq!(clerk.act(id, "submit", "已全部完成").await.status, 303);
    // The office returns it; a return needs a note.
    let no_note = office.act(id, "return", "").await;
    assert_eq!(no_note.status, 422, "{}", no_note.body);
    let returned = office.act(id, "return", "照片不清晰，请补充").await;
    assert_eq!(returned.status, 303, "{}", returned.body);

    let home = clerk.get("/").await;
    assert!(
        home.body.contains("href=\"&#x2f;tasks?returned=true\"><span class=\"count\">1</span><span class=\"label\">被退回"),
        "{}",
        home.body
    );
    clerk
        .get("/tasks?returned=true")
        .await
        .assert_has("任务 1.1");
    let api = expect_json(
        app.get("/api/v1/tasks?returned=true", &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(api["total"], 1);
    let page = clerk.get(&format!("/tasks/{id}")).await;
    page.assert_has("被退回");
    page.assert_has("照片不清晰，请补充");
    assert_eq!(clerk.act(id, "submit", "已补充清晰照片").await.status, 303);
    let home = office.get("/").await;
    home.assert_has("待审核");
    let api = expect_json(
        app.get("/api/v1/tasks?returned=true", &c.clerk_a).await,
        200,
    )
    .await;
    assert_eq!(api["total"], 0, "resubmitted: no longer returned");
    let verified = office.act(id, "verify", "").await;
    assert_eq!(verified.status, 303);

    // The timeline, oldest first, tells the whole story.
    let page = clerk.get(&format!("/tasks/{id}")).await;
    page.assert_has("已办结");
    let story = [
        "创建",
        "交办",
        "签收",
        "报告进展",
        "上传佐证材料",
        "提交办结",
        "退回",
        "审核通过",
    ];
    let timeline = page.timeline();
    let mut at = 0;
    for step in story {
        let found = timeline[at..].find(&format!("<strong>{step}</strong>"));
        assert!(
            found.is_some(),
            "{step} after position {at} in the timeline:\n{timeline}"
        );
        at += found.unwrap();
    }
    assert!(
        timeline.contains("clerk-a · 城关镇"),
        "actor and unit on the line:\n{timeline}"
    );
    // The list's plan and unit filters.
    let in_plan = office.get(&format!("/tasks?plan_id={}", c.plan_id)).await;
    in_plan.assert_has("任务 1.1");
    in_plan.assert_has("创建国家生态文明建设示范市实施方案");
    let of_b = office.get(&format!("/tasks?unit_id={}", c.unit_b)).await;
    assert!(of_b.body.contains("任务 1.1"));
    let of_c = office.get(&format!("/tasks?unit_id={}", c.unit_c)).await;
    assert!(!of_c.body.contains("任务 1.1"));
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{id}/events"), &c.office)
            .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "submitted").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"verified"));
}

/// Started long ago (by the database's clock, as if signed for 60 days ago).
fn started_long_ago(app: &TestApp, task: i64) {
    use diesel::prelude::*;
    use duban::db::schema::tasks;
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let then = chrono::Utc::now().naive_utc() - chrono::Duration::days(60);
    diesel::update(tasks::table.find(task))
        .set((tasks::assigned_at.eq(then), tasks::accepted_at.eq(then)))
        .execute(&mut conn)
        .unwrap();
}

async fn the_clerk_sees_the_progress_reports_owed_and_lists_exactly_them(app: TestApp) {
    use chrono::Datelike;
    let c = city::build(&app).await;
    settle_accounts(&app);
    let today = duban::domain::calendar::local_date(chrono::Utc::now(), app.settings.timezone);
    // The next report date is tomorrow: a task signed for today owes its first report.
    let tomorrow = (today + chrono::Duration::days(1)).day();
    let working = |code: &'static str, report_day: Option<u32>| {
        let c = &c;
        let app = &app;
        async move {
            let task = c
                .task(app, code, 90, json!({ "report_day": report_day }))
                .await;
            c.ok(app, &c.office, &task, "assign", None).await;
            c.ok(app, &c.clerk_a, &task, "accept", None).await["id"]
                .as_i64()
                .unwrap()
        }
    };
    // Missing (and so owed): started long ago, never reported.
    let missing = working("1.1", Some(15)).await;
    started_long_ago(&app, missing);
    // Reported today: nothing owed.
    let reported = working("1.2", Some(15)).await;
    started_long_ago(&app, reported);
    let r = app
        .post(
            &format!("/api/v1/tasks/{reported}/reports"),
            &c.clerk_a,
            json!({ "percent": 40, "body": "本月进展" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    // Owed by tomorrow, not missing; and a task with no report day.
    let owed = working("1.3", Some(tomorrow)).await;
    working("1.4", None).await;

    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let home = clerk.get("/").await;
    assert!(
        home.body.contains("<li class=\"card alarm\"><a href=\"&#x2f;tasks?report=owed\"><span class=\"count\">2</span><span class=\"label\">报告待报"),
        "{}",
        home.body
    );
    let list = clerk.get("/tasks?report=owed").await;
    list.assert_has("共 2 项");
    list.assert_has(&format!("href=\"/tasks/{missing}\""));
    list.assert_has(&format!("href=\"/tasks/{owed}\""));
    assert!(!list.body.contains(&format!("href=\"/tasks/{reported}\"")));
    // Only the missing one is marked so, in words.
    assert_eq!(
        list.body.matches("<span class=\"tag\">缺报</span>").count(),
        1
    );
    list.assert_has("<option value=\"owed\" selected>");
    let list = clerk.get("/tasks?report=missing").await;
    list.assert_has("共 1 项");
    list.assert_has(&format!("href=\"/tasks/{missing}\""));

    // Once the lead unit reports, nothing is missing: no alarm.
    let r = app
        .post(
            &format!("/api/v1/tasks/{missing}/reports"),
            &c.clerk_a,
            json!({ "percent": 30, "body": "补报" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let home = clerk.get("/").await;
    assert!(
        home.body.contains("<li class=\"card\"><a href=\"&#x2f;tasks?report=owed\"><span class=\"count\">1</span><span class=\"label\">报告待报"),
        "{}",
        home.body
    );
}

async fn a_task_out_of_sight_is_a_404_page(app: TestApp) {
    let c: City = city::build(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "2.1", 10).await;
    let id = task["id"].as_i64().unwrap();
    let file = expect_json(
        city::upload(
            &app,
            &c.clerk_a,
            id,
            "a.pdf",
            "application/pdf",
            b"%PDF-1.4 a".to_vec(),
        )
        .await,
        201,
    )
    .await["id"]
        .clone();
    let foreign = Visitor::signed_in(&app, "clerk-c", &password_of("clerk-c")).await;
    let page = foreign.get(&format!("/tasks/{id}")).await;
    assert_eq!(page.status, 404);
    page.assert_has("未找到");
    assert!(!page.body.contains("任务 2.1"));
    assert_eq!(
        foreign
            .get(&format!("/tasks/{id}/attachments/{file}"))
            .await
            .status,
        404
    );
    let csrf = foreign.get("/").await.csrf();
    let act = foreign
        .post(
            &format!("/tasks/{id}/act"),
            &[
                ("csrf", &csrf),
                ("action", "submit"),
                ("version", "3"),
                ("note", "x"),
            ],
        )
        .await;
    assert_eq!(act.status, 404);
    let list = foreign.get("/tasks").await;
    assert!(!list.body.contains("任务 2.1"));
    // Nothing happened to the task.
    let now = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(now["status"], "in_progress");
}

async fn a_stale_form_says_so_and_keeps_what_was_typed(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.in_progress(&app, "3.1", 10).await;
    let id = task["id"].as_i64().unwrap();
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office.get(&format!("/tasks/{id}")).await;
    let (csrf, version) = (page.csrf(), page.version());
    // Meanwhile the clerk submits.
    c.ok(&app, &c.clerk_a, &task, "submit", Some("完成")).await;
    let stale = office
        .post(
            &format!("/tasks/{id}/act"),
            &[
                ("csrf", &csrf),
                ("action", "cancel"),
                ("version", &version),
                ("note", "方案调整，撤销此项"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    stale.assert_has("此任务已被他人更新");
    stale.assert_has("方案调整，撤销此项");
    stale.assert_has("待审核");
    let now = expect_json(
        app.get(&format!("/api/v1/tasks/{id}"), &c.office).await,
        200,
    )
    .await;
    assert_eq!(
        now["status"], "submitted",
        "the stale cancel changed nothing"
    );
}

async fn an_idle_session_ends(app: TestApp) {
    let v = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    assert_eq!(v.get("/").await.status, 200);
    // Three hours pass without a request (the idle limit is two).
    {
        use diesel::prelude::*;
        use duban::db::schema::sessions;
        let pool = duban::db::connect(&app.database.url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::hours(3);
        let changed = diesel::update(sessions::table)
            .set(sessions::last_seen_at.eq(earlier))
            .execute(&mut conn)
            .unwrap();
        assert_eq!(changed, 1);
    }
    let page = v.get("/tasks").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/login?next=%2Ftasks");
}

async fn an_account_set_up_by_an_admin_chooses_its_own_password_first(app: TestApp) {
    let admin = app.admin_token().await;
    let (user, _) = app.create_user(&admin, "newclerk", "office", None).await;
    let v = Visitor::new(&app);
    let res = v
        .sign_in("newclerk", &password_of("newclerk"), "/tasks")
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.location(), "/password");
    let elsewhere = v.get("/tasks").await;
    assert_eq!(elsewhere.location(), "/password", "nothing else first");
    let form = v.get("/password").await;
    form.assert_has("该账号的密码由管理员设置");
    let csrf = form.csrf();
    let current = password_of("newclerk");
    let mismatch = v
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", &current),
                ("new_password", "river-lamp-2026"),
                ("confirm_password", "river-lamp-2027"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, 422);
    mismatch.assert_has("两次输入的新密码不一致");
    let weak = v
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", &current),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    let done = v
        .post(
            "/password",
            &[
                ("csrf", &csrf),
                ("current_password", &current),
                ("new_password", "river-lamp-2026"),
                ("confirm_password", "river-lamp-2026"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/");
    assert_eq!(v.get("/tasks").await.status, 200);
    app.login("newclerk", "river-lamp-2026").await;
    // An admin's reset asks again.
    let row = expect_json(
        app.get(&format!("/api/v1/users/{}", user["id"]), &admin)
            .await,
        200,
    )
    .await;
    expect_json(
        app.patch(
            &format!("/api/v1/users/{}", user["id"]),
            &admin,
            json!({ "version": row["version"], "password": "admin-chosen-2026" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(v.get("/").await.status, 303, "the reset ended the session");
    let again = Visitor::new(&app)
        .sign_in("newclerk", "admin-chosen-2026", "/")
        .await;
    assert_eq!(again.location(), "/password");
}

async fn the_console_speaks_english_when_asked(app: TestApp) {
    let v = Visitor::with_language(&app, "en-US,en;q=0.9");
    let form = v.get("/login").await;
    form.assert_has("<html lang=\"en\">");
    form.assert_has("Username");
    let v = Visitor::signed_in(&app, "admin", ADMIN_PASSWORD).await;
    v.get("/").await.assert_has("工作台");
    let switched = v.post("/lang", &[("lang", "en"), ("next", "/tasks")]).await;
    assert_eq!(switched.location(), "/tasks");
    let page = v.get("/tasks").await;
    page.assert_has("<html lang=\"en\">");
    page.assert_has("Filter");
}

/// A proposal as the ladder's last rung writes it, for `task` of `unit`.
fn propose(app: &TestApp, unit: i64, task: i64, key: &str) -> i64 {
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    let reason = format!("任务 {task} 逾期 15 天未完成");
    let proposal = duban::accountability::Proposal {
        unit_id: unit,
        task_ids: &[task],
        reason: &reason,
        dedupe_key: key,
    };
    let propose = |conn: &mut duban::db::DbConnection| {
        duban::accountability::propose_all(conn, std::slice::from_ref(&proposal), now).unwrap()
    };
    let id = propose(&mut conn);
    let again = propose(&mut conn);
    assert_eq!(
        id, again,
        "one record per key: the second answer is the first record"
    );
    id[0]
}

async fn the_office_decides_accountability_proposals_in_the_console(app: TestApp) {
    let c = city::build(&app).await;
    settle_accounts(&app);
    let late = c.in_progress(&app, "3.1", -15).await;
    let task = late["id"].as_i64().unwrap();
    let first = propose(&app, c.unit_a, task, "test:a");
    let second = propose(&app, c.unit_a, task, "test:b");
    let foreign = propose(&app, c.unit_c, task, "test:c");

    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let list = office.get("/accountability?status=proposed").await;
    assert_eq!(list.status, 200);
    list.assert_has("共 3 项");
    list.assert_has("href=\"/accountability\"");
    for id in [first, second, foreign] {
        list.assert_has(&format!("href=\"/accountability/{id}\""));
    }
    list.assert_has("问责</td>");
    let filtered = office
        .get(&format!(
            "/accountability?status=&unit_id={}&level=accountability",
            c.unit_c
        ))
        .await;
    filtered.assert_has("共 1 项");

    // Dismissing needs a reason: said in words, on the record's page.
    let path = format!("/accountability/{first}");
    let page = office.get(&path).await;
    page.assert_has("href=\"/tasks/");
    page.assert_has("3.1");
    let csrf = page.csrf();
    let decide = format!("{path}/decide");
    let refused = office
        .post(
            &decide,
            &[("csrf", &csrf), ("decision", "dismiss"), ("note", " ")],
        )
        .await;
    assert_eq!(refused.status, 422);
    refused.assert_has("不予问责须说明理由");
    refused.assert_has("待审定");
    let forged = office
        .post(
            &decide,
            &[("csrf", "forged"), ("decision", "confirm"), ("note", "")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let dismissed = office
        .post(
            &decide,
            &[
                ("csrf", &csrf),
                ("decision", "dismiss"),
                ("note", "已整改到位"),
            ],
        )
        .await;
    assert_eq!(dismissed.status, 303, "{}", dismissed.body);
    let page = office.get(dismissed.location()).await;
    page.assert_has("已决定不予问责");
    page.assert_has("已整改到位");
    assert!(!page.body.contains("/decide"), "decided: no form");

    // Decided by someone else meanwhile: said so, what was typed kept.
    let second_path = format!("/accountability/{second}");
    let stale = office.get(&second_path).await;
    let api = format!("/api/v1/accountability/{second}/confirm");
    expect_json(app.post(&api, &c.office, json!({})).await, 200).await;
    let late_form = office
        .post(
            &format!("{second_path}/decide"),
            &[
                ("csrf", &stale.csrf()),
                ("decision", "dismiss"),
                ("note", "迟到的意见"),
            ],
        )
        .await;
    assert_eq!(late_form.status, 409);
    late_form.assert_has("该问责建议已处理");
    late_form.assert_has("已确认");

    // The API agrees with the pages.
    let now = expect_json(
        app.get(&format!("/api/v1/accountability/{first}"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(now["status"], "dismissed");
    assert_eq!(now["decision_note"], "已整改到位");

    // A unit's clerk sees the own unit's records, without the office's form
    // and cannot decide; another unit's record is a 404 page; the leader's
    // role reads no records (403), viewers read all and decide nothing.
    let clerk = Visitor::signed_in(&app, "clerk-a", &password_of("clerk-a")).await;
    let mine = clerk.get("/accountability").await;
    mine.assert_has("共 2 项");
    assert!(!mine.body.contains(&format!("/accountability/{foreign}\"")));
    assert!(
        !mine.body.contains("name=\"unit_id\""),
        "no unit choice for a clerk"
    );
    let own = clerk.get(&second_path).await;
    assert_eq!(own.status, 200);
    assert!(!own.body.contains("/decide"));
    let csrf = own.csrf();
    let third = propose(&app, c.unit_a, task, "test:d");
    let tried = clerk
        .post(
            &format!("/accountability/{third}/decide"),
            &[("csrf", &csrf), ("decision", "confirm"), ("note", "")],
        )
        .await;
    assert_eq!(tried.status, 403);
    assert_eq!(
        clerk
            .get(&format!("/accountability/{foreign}"))
            .await
            .status,
        404
    );
    assert_eq!(clerk.get("/accountability/999999").await.status, 404);
    let leader = Visitor::signed_in(&app, "leader", &password_of("leader")).await;
    assert_eq!(leader.get("/accountability").await.status, 403);
    assert!(!leader
        .get("/")
        .await
        .body
        .contains("href=\"/accountability\""));
    let viewer = Visitor::signed_in(&app, "viewer", &password_of("viewer")).await;
    viewer.get("/accountability").await.assert_has("共 4 项");
    let seen = viewer.get(&format!("/accountability/{third}")).await;
    seen.assert_has("待审定");
    assert!(!seen.body.contains("/decide"));
}

/// A task whose timeline holds more events than SQLite binds in one
/// statement (32,766): its page shows the latest hundred and says how many
/// earlier ones it leaves out; asked for the whole timeline, it names each
/// event's unit once, rather than failing with 500 (the full benchmark
/// run's POST figure made such a task).
async fn a_task_with_a_long_timeline_shows_its_page(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::task_events;
    let c = city::build(&app).await;
    settle_accounts(&app);
    let task = c.task(&app, "1.1", 20, json!({})).await;
    let id = task["id"].as_i64().unwrap();
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let kind: String = task_events::table
        .filter(task_events::task_id.eq(id))
        .select(task_events::kind)
        .first(&mut conn)
        .unwrap();
    let now = chrono::Utc::now().naive_utc();
    // Each event by 市生态环境局, which the page names only from its timeline.
    let rows: Vec<_> = (0..33_000)
        .map(|n| {
            (
                task_events::task_id.eq(id),
                task_events::kind.eq(kind.clone()),
                task_events::unit_id.eq(Some(c.unit_b)),
                task_events::note.eq(Some(format!("第{n}条"))),
                task_events::created_at.eq(now),
            )
        })
        .collect();
    // Multi-row inserts on each backend's own connection (diesel's
    // MultiConnection would insert them one by one).
    for chunk in rows.chunks(2_000) {
        let insert = diesel::insert_into(task_events::table).values(chunk);
        match &mut *conn {
            duban::db::DbConnection::Sqlite(c) => insert.execute(c),
            duban::db::DbConnection::Postgres(c) => insert.execute(c),
        }
        .unwrap();
    }
    let all: i64 = task_events::table
        .filter(task_events::task_id.eq(id))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let office = Visitor::signed_in(&app, "office", &password_of("office")).await;
    let page = office.get(&format!("/tasks/{id}")).await;
    assert_eq!(
        page.status,
        200,
        "{}",
        &page.body[..page.body.len().min(2000)]
    );
    // The latest hundred, oldest first, and a way to the rest.
    let timeline = page.timeline();
    let (first, last) = (
        timeline
            .find("第32900条")
            .expect("the hundredth latest entry"),
        timeline.find("第32999条").expect("the latest entry"),
    );
    assert!(first < last, "oldest first");
    assert_eq!(timeline.matches("<li>").count(), 100);
    assert!(
        !page.body.contains("第32899条"),
        "an earlier entry is left out"
    );
    page.assert_has(&format!("更早的 {} 条未显示", all - 100));
    page.assert_has("href=\"?timeline=all#timeline\"");
    assert!(
        page.body.contains("市生态环境局"),
        "the events' unit is named"
    );
    let whole = office.get(&format!("/tasks/{id}?timeline=all")).await;
    assert_eq!(
        whole.status,
        200,
        "{}",
        &whole.body[..whole.body.len().min(2000)]
    );
    let timeline = whole.timeline();
    assert_eq!(
        timeline.matches("<li>").count(),
        usize::try_from(all).unwrap()
    );
    whole.assert_has("第0条");
    whole.assert_has("第32999条");
    assert!(!whole.body.contains("?timeline=all"), "nothing left out");
}
