//! Notices over real SMTP: the ladder across simulated days, stopping and
//! restarting it, no doubles, nothing lost when the mail server fails.

use chrono::{Duration, NaiveDate};
use duban::config::Settings;
use duban::db::DbPool;
use duban::mail::Mailer;
use duban::notices::{deliver, scan};
use secrecy::SecretString;
use serde_json::json;

use crate::api_tests;
use crate::city::{self, City};
use crate::helpers::processes::{output, Process};
use crate::helpers::{duban, expect_json, expect_problem, TestApp};
use crate::smtp::{closed_port_url, Mode, SmtpServer};
use crate::webhook::Receiver;

api_tests![
    the_ladder_climbs_day_by_day_to_the_right_people with crate::helpers::ladder_only,
    completion_stops_the_ladder_and_an_extension_restarts_it with crate::helpers::ladder_only,
    scanning_twice_or_concurrently_creates_each_notice_once with crate::helpers::ladder_only,
    a_refusing_mail_server_delays_but_loses_nothing with crate::helpers::ladder_only,
    a_mail_server_down_for_a_whole_run_loses_nothing with crate::helpers::ladder_only,
    a_permanent_refusal_goes_dead_and_can_be_retried with crate::helpers::ladder_only,
    the_command_line_scans_and_delivers with crate::helpers::ladder_only,
    a_fresh_install_writes_eml_files with crate::helpers::ladder_only,
    one_scheduler_holds_the_lease_and_a_days_scan_runs_once,
    notices_written_outside_the_send_window_wait with crate::helpers::ladder_only,
    group_robots_get_the_notices_too with crate::helpers::ladder_only,
    a_killed_instance_loses_no_notice timeout 300,
    the_last_rung_proposes_accountability_for_the_office_to_decide,
    a_digest_unit_gets_one_daily_email_listing_its_tasks with crate::helpers::ladder_only,
    a_cooperating_digest_unit_finds_the_tasks_it_helps_with_in_its_digest with crate::helpers::ladder_only,
    unsigned_tasks_and_missing_reports_get_their_own_reminders with crate::helpers::ladder_only,
    a_quarterly_report_is_reminded_of_once_the_quarter_is_over with crate::helpers::ladder_only,
    titles_and_names_cannot_smuggle_mail_headers,
    assigning_and_returning_tell_the_units_at_once,
    one_round_drains_the_outbox_over_one_connection with crate::helpers::ladder_only,
    a_connection_the_server_closes_is_opened_again with crate::helpers::ladder_only,
    a_stopped_round_gives_back_what_it_claimed_and_did_not_send with crate::helpers::ladder_only,
];

fn today() -> NaiveDate {
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

/// The app's settings with SMTP pointing at `url`.
fn smtp_settings(app: &TestApp, url: &str) -> Settings {
    Settings {
        mail_transport: duban::config::MailTransport::Smtp,
        smtp_url: Some(SecretString::from(url.to_string())),
        mail_from: "督办系统 <duban@example.gov.cn>".into(),
        smtp_timeout_secs: 5,
        // As `serve` does without a public URL: links use the bound address.
        public_url: Some(app.address.clone()),
        ..app.settings.clone()
    }
}

/// The scan and delivery, run as the scheduler would, against an SMTP URL.
pub struct Outbox {
    pub pool: DbPool,
    pub settings: Settings,
    mailer: Mailer,
}

impl Outbox {
    pub fn new(app: &TestApp, url: &str) -> Outbox {
        let settings = smtp_settings(app, url);
        Outbox {
            pool: duban::db::connect(&app.database.url, 4).unwrap(),
            mailer: Mailer::from_settings(&settings).unwrap(),
            settings,
        }
    }

    pub fn scan(&self, day: NaiveDate) -> scan::ScanCounts {
        let mut conn = self.pool.get().unwrap();
        scan::scan(
            &mut conn,
            &self.settings,
            day,
            chrono::Utc::now().naive_utc(),
        )
        .unwrap()
    }

    /// A delivery round `hours` from now (to get past retry delays), on a
    /// plain thread as in the scheduler (the webhook client blocks).
    pub fn deliver_in(&self, hours: i64) -> deliver::DeliveryCounts {
        let (pool, mailer, settings) = (
            self.pool.clone(),
            self.mailer.clone(),
            self.settings.clone(),
        );
        let at = chrono::Utc::now().naive_utc() + Duration::hours(hours);
        std::thread::spawn(move || {
            deliver::deliver(
                &pool,
                &mailer,
                &settings,
                duban::bulletins::publish::attachments,
                at,
            )
            .unwrap()
        })
        .join()
        .unwrap()
    }

    pub fn deliver(&self) -> deliver::DeliveryCounts {
        self.deliver_in(0)
    }
}

/// The city with addresses: the office unit, unit heads and the leader.
pub async fn addressed_city(app: &TestApp) -> City {
    let c = city::build(app).await;
    let office = expect_json(
        app.post("/api/v1/units", &c.admin, json!({ "code": "OFFICE", "name": "创建办", "kind": "office", "contact_emails": ["office@example.gov.cn"] })).await,
        201,
    )
    .await;
    assert_eq!(office["kind"], "office");
    let res = app
        .patch(
            &format!("/api/v1/units/{}", c.unit_a),
            &c.admin,
            json!({ "version": 1, "head_name": "张镇长", "head_email": "head-t01@example.gov.cn" }),
        )
        .await;
    expect_json(res, 200).await;
    let res = app
        .patch(
            &format!("/api/v1/users/{}", c.leader_id),
            &c.admin,
            json!({ "version": 1, "email": "leader@example.gov.cn" }),
        )
        .await;
    expect_json(res, 200).await;
    c
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn the_ladder_climbs_day_by_day_to_the_right_people(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "2.5.3", 10).await;
    let due: NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    let mut out = Outbox::new(&app, &smtp.url());
    // The supervision order issued on day 7 gets a month for its receipt
    // here, so that the receipt's own chase (tests/api/orders.rs) stays out
    // of this ladder's count.
    out.settings.order_reply_working_days = 30;

    assert_eq!(out.scan(due - Duration::days(8)).created, 0);
    let expected = [
        (
            due - Duration::days(7),
            "到期提醒",
            vec!["t01@example.gov.cn"],
        ),
        (
            due - Duration::days(3),
            "到期提醒",
            vec!["t01@example.gov.cn"],
        ),
        (
            due - Duration::days(1),
            "到期提醒",
            vec!["t01@example.gov.cn"],
        ),
        (
            due + Duration::days(1),
            "催办通知",
            vec!["d01@example.gov.cn", "t01@example.gov.cn"],
        ),
        (
            due + Duration::days(7),
            "督办通知",
            vec![
                "head-t01@example.gov.cn",
                "leader@example.gov.cn",
                "office@example.gov.cn",
            ],
        ),
        (
            due + Duration::days(15),
            "问责建议",
            vec!["office@example.gov.cn"],
        ),
    ];
    for (i, (day, label, to)) in expected.iter().enumerate() {
        assert_eq!(out.scan(*day).created, 1, "{day}");
        assert_eq!(out.scan(*day).created, 0, "{day} again");
        assert_eq!(out.deliver().sent, 1, "{day}");
        let got = smtp.received();
        assert_eq!(got.len(), i + 1);
        let m = &got[i];
        assert_eq!(
            sorted(m.to.clone()),
            sorted(to.iter().map(|s| s.to_string()).collect()),
            "{label}"
        );
        assert!(m.subject().contains(label), "{}", m.subject());
        assert!(m.subject().contains("2.5.3"));
        let text = m.text();
        assert!(
            text.contains("城关镇") && text.contains(&due.to_string()),
            "{text}"
        );
        assert!(m
            .header("Message-ID")
            .unwrap()
            .starts_with("<duban-notice-"));
        assert!(m.header("From").unwrap().contains("duban@example.gov.cn"));
    }
    // Each step reads as what it is, and links to the task's page; the
    // proposal links to the record the office decides on.
    let got = smtp.received();
    let link = format!("{}/tasks/{}", app.address, task["id"]);
    let proposed = expect_json(
        app.get("/api/v1/accountability?status=proposed", &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(proposed["total"], 1);
    let record = proposed["items"][0]["id"].as_i64().unwrap();
    let record_link = format!("{}/accountability/{record}", app.address);
    for (i, m) in got.iter().enumerate() {
        let link = if i == 5 { &record_link } else { &link };
        assert!(m.text().contains(link.as_str()), "{}", m.text());
        assert!(
            m.html().contains(&format!("<a href=\"{link}\">")),
            "{}",
            m.html()
        );
    }
    assert!(
        !got[5].text().contains(&link),
        "the proposal links to the record only"
    );
    let reminder = got[0].text();
    assert!(
        reminder.contains("还有 7 天") && !reminder.contains("逾期天数"),
        "{reminder}"
    );
    let chase = got[3].text();
    assert!(
        chase.contains("逾期天数：1") && chase.contains("回复期限") && chase.contains("最新进展"),
        "{chase}"
    );
    let supervise = got[4].text();
    assert!(supervise.contains("逾期天数：7"), "{supervise}");
    assert!(
        supervise.contains("负责同志") && supervise.contains("责任领导：leader"),
        "{supervise}"
    );
    let proposal = got[5].text();
    assert!(
        proposal.contains("请督查室审定")
            && !proposal.contains("抓紧办理")
            && proposal.contains(&format!("审定入口：{record_link}")),
        "{proposal}"
    );
    // The chase's link, opened signed out, leads through sign-in to the task.
    crate::console::settle_accounts(&app);
    let visitor = crate::console::Visitor::new(&app);
    let path = link.trim_start_matches(&app.address).to_string();
    let page = visitor.get(&path).await;
    assert_eq!(
        page.location(),
        format!("/login?next=%2Ftasks%2F{}", task["id"])
    );
    let signed_in = visitor
        .sign_in("clerk-a", &crate::console::password_of("clerk-a"), &path)
        .await;
    assert_eq!(signed_in.location(), path);
    visitor.get(&path).await.assert_has("2.5.3");
    // The proposal's link, opened signed out, leads through sign-in to the
    // record; the office confirms it there, as the API then says.
    let office = crate::console::Visitor::new(&app);
    let record_path = format!("/accountability/{record}");
    let page = office.get(&record_path).await;
    assert_eq!(
        page.location(),
        format!("/login?next=%2Faccountability%2F{record}")
    );
    let signed_in = office
        .sign_in(
            "office",
            &crate::console::password_of("office"),
            &record_path,
        )
        .await;
    assert_eq!(signed_in.location(), record_path);
    let page = office.get(&record_path).await;
    assert_eq!(page.status, 200);
    for part in [
        "城关镇",
        "问责",
        "逾期 15 天",
        "待审定",
        "2.5.3",
        "确认问责",
        "不予问责",
    ] {
        page.assert_has(part);
    }
    page.assert_has(&format!("href=\"/tasks/{}\"", task["id"]));
    let confirmed = office
        .post(
            &format!("{record_path}/decide"),
            &[
                ("csrf", &page.csrf()),
                ("decision", "confirm"),
                ("note", "约谈主要负责人"),
            ],
        )
        .await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    assert_eq!(
        confirmed.location(),
        format!("{record_path}?done=confirmed")
    );
    let after = office.get(confirmed.location()).await;
    after.assert_has("已确认问责");
    after.assert_has("约谈主要负责人");
    let api = format!("/api/v1/accountability/{record}");
    let now = expect_json(app.get(&api, &c.office).await, 200).await;
    assert_eq!(now["status"], "confirmed");
    assert_eq!(now["decision_note"], "约谈主要负责人");
    // Others get what the API gives them: the unit's clerk reads it without
    // the office's form, another unit's clerk a 404 page, the leader a 403 page.
    let own = visitor.get(&record_path).await;
    assert_eq!(own.status, 200);
    own.assert_has("已确认");
    assert!(!own.body.contains("/decide"), "{}", own.body);
    expect_json(app.get(&api, &c.clerk_a).await, 200).await;
    for (who, token, status) in [("clerk-c", &c.clerk_c, 404), ("leader", &c.leader, 403)] {
        let v =
            crate::console::Visitor::signed_in(&app, who, &crate::console::password_of(who)).await;
        assert_eq!(v.get(&record_path).await.status, status, "{who}");
        assert_eq!(app.get(&api, token).await.status(), status, "{who}");
    }
    // The notices are on the task's timeline and in the notices list.
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{}/events", task["id"]), &c.office)
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
    assert!(
        kinds.ends_with(&[
            "reminder",
            "reminder",
            "reminder",
            "chase_notice",
            "supervision_order",
            "accountability_proposed"
        ]),
        "{kinds:?}"
    );
    let list = expect_json(
        app.get(
            &format!("/api/v1/notices?task_id={}&step=chase_1", task["id"]),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["status"], "sent");
    let mine = expect_json(app.get("/api/v1/notices", &c.clerk_a).await, 200).await;
    assert_eq!(mine["total"], 6);
    let foreign = expect_json(app.get("/api/v1/notices", &c.clerk_c).await, 200).await;
    assert_eq!(foreign["total"], 0);
}

async fn completion_stops_the_ladder_and_an_extension_restarts_it(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let out = Outbox::new(&app, &smtp.url());
    // A task finished between the scan and the delivery: its notice is cancelled.
    let done = c.in_progress(&app, "1", 3).await;
    let due: NaiveDate = done["due_date"].as_str().unwrap().parse().unwrap();
    assert_eq!(out.scan(due - Duration::days(3)).created, 1);
    c.ok(&app, &c.clerk_a, &done, "submit", Some("完成")).await;
    let counts = out.deliver();
    assert_eq!((counts.sent, counts.cancelled), (0, 1));
    assert!(smtp.received().is_empty());
    assert_eq!(
        out.scan(due + Duration::days(1)).created,
        0,
        "a submitted task is not chased"
    );

    // An extension: the old reminder is cancelled, the ladder restarts from the new date.
    let ext = c.in_progress(&app, "2", 3).await;
    let t = ext["id"].as_i64().unwrap();
    let due: NaiveDate = ext["due_date"].as_str().unwrap().parse().unwrap();
    assert_eq!(out.scan(due - Duration::days(3)).created, 1);
    let req = expect_json(
        app.post(
            &format!("/api/v1/tasks/{t}/extensions"),
            &c.clerk_a,
            json!({ "new_due_date": city::local_day(30), "reason": "需协调用地" }),
        )
        .await,
        201,
    )
    .await;
    expect_json(
        app.post(
            &format!("/api/v1/extensions/{}/approve", req["id"]),
            &c.office,
            json!({}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(out.deliver().cancelled, 1);
    assert_eq!(
        out.scan(due + Duration::days(1)).created,
        0,
        "not overdue any more"
    );
    let new_due: NaiveDate = city::local_day(30).parse().unwrap();
    assert_eq!(
        out.scan(new_due - Duration::days(3)).created,
        1,
        "the ladder restarts from the new date"
    );
    assert_eq!(out.deliver().sent, 1);
    assert!(smtp.received()[0].text().contains(&new_due.to_string()));
}

async fn scanning_twice_or_concurrently_creates_each_notice_once(app: TestApp) {
    let c = addressed_city(&app).await;
    for i in 0..5 {
        c.in_progress(&app, &format!("{i}"), -1).await;
    }
    let out = Outbox::new(&app, &closed_port_url());
    let day = today();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (pool, settings) = (out.pool.clone(), out.settings.clone());
            std::thread::spawn(move || {
                let mut conn = pool.get().unwrap();
                scan::scan(&mut conn, &settings, day, chrono::Utc::now().naive_utc()).unwrap()
            })
        })
        .collect();
    let created: usize = handles.into_iter().map(|h| h.join().unwrap().created).sum();
    assert_eq!(created, 5, "one chase notice per task, whoever scanned");
    assert_eq!(out.scan(day).existing, 5);
    let list = expect_json(
        app.get("/api/v1/notices?per_page=200", &c.office).await,
        200,
    )
    .await;
    assert_eq!(list["total"], 5);
}

async fn a_refusing_mail_server_delays_but_loses_nothing(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    for i in 0..3 {
        c.in_progress(&app, &format!("{i}"), -1).await;
    }
    let out = Outbox::new(&app, &smtp.url());
    out.scan(today());
    smtp.set_mode(Mode::TempFail);
    assert_eq!(out.deliver().retried, 3);
    assert_eq!(
        out.deliver().retried,
        0,
        "nothing is retried before its backoff"
    );
    let list = expect_json(app.get("/api/v1/notices", &c.office).await, 200).await;
    assert_eq!(list["items"][0]["status"], "pending");
    assert_eq!(list["items"][0]["attempts"], 1);
    assert!(list["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("451"));
    smtp.set_mode(Mode::Accept);
    assert_eq!(out.deliver_in(1).sent, 3);
    assert_eq!(out.deliver_in(48).sent, 0, "nothing twice");
    let ids: Vec<String> = smtp
        .received()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((ids.len(), unique.len()), (3, 3));
}

async fn a_mail_server_down_for_a_whole_run_loses_nothing(app: TestApp) {
    let c = addressed_city(&app).await;
    c.in_progress(&app, "1", -1).await;
    c.in_progress(&app, "2", -1).await;
    let down = Outbox::new(&app, &closed_port_url());
    down.scan(today());
    for hours in [0, 1, 3, 8] {
        let counts = down.deliver_in(hours);
        assert_eq!(counts.sent, 0);
        assert_eq!(counts.dead, 0);
    }
    // The server is back hours later: everything goes out once.
    let smtp = SmtpServer::start();
    let up = Outbox::new(&app, &smtp.url());
    assert_eq!(up.deliver_in(24).sent, 2);
    assert_eq!(smtp.received().len(), 2);
}

async fn a_permanent_refusal_goes_dead_and_can_be_retried(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    c.in_progress(&app, "1", -1).await;
    let out = Outbox::new(&app, &smtp.url());
    out.scan(today());
    smtp.set_mode(Mode::PermFail);
    assert_eq!(out.deliver().dead, 1);
    let list = expect_json(app.get("/api/v1/notices?status=dead", &c.office).await, 200).await;
    let notice = &list["items"][0];
    assert!(notice["last_error"].as_str().unwrap().contains("554"));
    let id = notice["id"].as_i64().unwrap();
    expect_problem(
        app.post(
            &format!("/api/v1/notices/{id}/retry"),
            &c.clerk_a,
            json!({}),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    smtp.set_mode(Mode::Accept);
    let retried = expect_json(
        app.post(&format!("/api/v1/notices/{id}/retry"), &c.office, json!({}))
            .await,
        200,
    )
    .await;
    assert_eq!(retried["status"], "pending");
    expect_problem(
        app.post(&format!("/api/v1/notices/{id}/retry"), &c.office, json!({}))
            .await,
        409,
        "notice_not_dead",
    )
    .await;
    assert_eq!(out.deliver().sent, 1);
    assert_eq!(
        smtp.received()[0].header("Message-ID").unwrap(),
        notice["message_id"].as_str().unwrap()
    );
    let status = expect_json(app.get("/api/v1/scheduler", &c.office).await, 200).await;
    assert_eq!(status["queue"]["sent"], 1);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "duban_notices_created_total 1",
        "duban_notices_sent_total 1",
        "duban_notice_failures_total 1",
        "duban_outbox_depth 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
}

async fn the_command_line_scans_and_delivers(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "1", 5).await;
    let due: NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    let run = |args: &[&str]| {
        let out = output(
            duban()
                .args(args)
                .env("DATABASE_URL", &app.database.url)
                .env("DUBAN_DATA_DIR", app.data_dir.path())
                .env("DUBAN_MAIL_TRANSPORT", "smtp")
                .env("DUBAN_SMTP_URL", smtp.url())
                .env("DUBAN_MAIL_FROM", "duban@example.gov.cn")
                .env("DUBAN_SEND_WINDOW", ""),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let day = (due + Duration::days(1)).to_string();
    assert!(run(&["scan", "--today", &day]).contains("1 notices created"));
    assert!(run(&["scan", "--today", &day]).contains("0 notices created, 1 already there"));
    assert!(run(&["deliver"]).contains("1 sent"));
    assert_eq!(smtp.received().len(), 1);
    assert!(smtp.received()[0].subject().contains("催办通知"));
}

async fn a_fresh_install_writes_eml_files(app: TestApp) {
    let c = addressed_city(&app).await;
    c.in_progress(&app, "1", -1).await;
    let settings = app.settings.clone();
    assert_eq!(
        settings.mail_transport,
        duban::config::MailTransport::File,
        "the embedded default"
    );
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let mailer = Mailer::from_settings(&settings).unwrap();
    scan::scan(
        &mut pool.get().unwrap(),
        &settings,
        today(),
        chrono::Utc::now().naive_utc(),
    )
    .unwrap();
    assert_eq!(
        deliver::deliver(
            &pool,
            &mailer,
            &settings,
            duban::bulletins::publish::attachments,
            chrono::Utc::now().naive_utc()
        )
        .unwrap()
        .sent,
        1
    );
    let dir = app.data_dir.path().join("outbox");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("Message-ID: <duban-notice-"));
    assert!(eml.contains("t01@example.gov.cn"));
}

async fn one_scheduler_holds_the_lease_and_a_days_scan_runs_once(app: TestApp) {
    use duban::jobs;
    let c = addressed_city(&app).await;
    c.in_progress(&app, "1", -1).await;
    let out = Outbox::new(&app, &closed_port_url());
    let mut conn = out.pool.get().unwrap();
    let now = chrono::Utc::now().naive_utc();
    assert!(jobs::try_lease(&mut conn, "a", 60, now).unwrap());
    assert!(
        !jobs::try_lease(&mut conn, "b", 60, now).unwrap(),
        "b waits while a holds it"
    );
    assert!(
        jobs::try_lease(&mut conn, "a", 60, now + Duration::seconds(30)).unwrap(),
        "a renews"
    );
    assert!(!jobs::try_lease(&mut conn, "b", 60, now + Duration::seconds(80)).unwrap());
    assert!(
        jobs::try_lease(&mut conn, "b", 60, now + Duration::seconds(91)).unwrap(),
        "b takes over once a's lease lapses"
    );
    assert!(!jobs::try_lease(&mut conn, "a", 60, now + Duration::seconds(92)).unwrap());
    drop(conn);

    let settings = Settings {
        scan_time: "00:00".parse().unwrap(),
        ..out.settings.clone()
    };
    let first = jobs::scan_if_due(&out.pool, &settings, "a", chrono::Utc::now()).unwrap();
    assert_eq!(first.map(|c| c.created), Some(1));
    let second = jobs::scan_if_due(&out.pool, &settings, "b", chrono::Utc::now()).unwrap();
    assert!(second.is_none(), "the day's scan already ran");
    let status = expect_json(app.get("/api/v1/scheduler", &c.office).await, 200).await;
    assert_eq!(status["recent_runs"][0]["job"], "scan");
    assert_eq!(status["recent_runs"][0]["outcome"], "ok");
    assert_eq!(status["recent_runs"][0]["counts"]["created"], 1);
    assert_eq!(status["lease_holder"], "b");
}

async fn a_killed_instance_loses_no_notice(app: TestApp) {
    let smtp = SmtpServer::start();
    smtp.set_delay(std::time::Duration::from_millis(300));
    let c = addressed_city(&app).await;
    const TASKS: usize = 12;
    for i in 0..TASKS {
        c.in_progress(&app, &format!("{i}"), -1).await;
    }
    // The outbox already holds each task's 交办通知; the scan adds one
    // overdue notice per task. Every one of them must arrive.
    let total_of = |status: &'static str| {
        let (app, office) = (&app, &c.office);
        async move {
            let list = expect_json(
                app.get(&format!("/api/v1/notices?{status}per_page=1"), office)
                    .await,
                200,
            )
            .await;
            list["total"].as_u64().unwrap() as usize
        }
    };
    let assigned = total_of("").await;
    assert!(assigned >= TASKS, "each task's 交办通知 is in the outbox");
    let expected = assigned + TASKS;
    let data_dir = tempfile::tempdir().unwrap();
    let start = || {
        Process::spawn(
            duban()
                .env("DATABASE_URL", &app.database.url)
                .env("DUBAN_DATA_DIR", data_dir.path())
                .env("DUBAN_LISTEN", "127.0.0.1:0")
                .env("DUBAN_MAIL_TRANSPORT", "smtp")
                .env("DUBAN_SMTP_URL", smtp.url())
                .env("DUBAN_SMTP_TIMEOUT_SECS", "1")
                .env("DUBAN_SCAN_TIME", "00:00")
                .env("DUBAN_DELIVERY_INTERVAL_SECS", "1")
                .env("DUBAN_SCHEDULER_LEASE_SECS", "2")
                // The notice in flight at the kill goes out again once its lease lapses.
                .env("DUBAN_DELIVERY_LEASE_SECS", "2")
                .env("DUBAN_SEND_WINDOW", "")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null()),
        )
    };
    let distinct = || {
        let mut ids: Vec<String> = smtp
            .received()
            .iter()
            .filter_map(|m| m.header("Message-ID"))
            .collect();
        ids.sort();
        ids.dedup();
        ids.len()
    };
    let first = start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while distinct() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(distinct() >= 2, "the first instance starts delivering");
    first.kill(); // SIGKILL, mid-delivery
    let before = smtp.received().len();
    assert!(before < expected, "killed before it finished ({before})");

    let second = start();
    // Until every notice is recorded as sent (the second instance scans
    // again, finds the day's notices written or writes them, and delivers).
    let mut sent = 0;
    for _ in 0..900 {
        sent = total_of("status=sent&").await;
        if sent >= expected && total_of("").await == sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    second.kill();
    assert_eq!(
        sent, expected,
        "every notice is recorded as sent after the restart"
    );
    let got = smtp.received();
    let seen: Vec<(String, String)> = got
        .iter()
        .map(|m| {
            let id = m.header("Message-ID").unwrap_or_default();
            (id, m.header("Subject").unwrap_or_default())
        })
        .collect();
    assert_eq!(distinct(), expected, "one message per notice: {seen:#?}");
    assert!(
        got.len() - expected <= 1,
        "at most the one message in flight at the kill is sent again, with the same Message-ID"
    );
}

async fn notices_written_outside_the_send_window_wait(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    c.in_progress(&app, "1", -1).await;
    // A one-hour window starting an hour from now (local time): now is outside it.
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let local = chrono::Utc::now().with_timezone(&tz);
    let start = (chrono::Timelike::hour(&local) + 1) % 22 + 1;
    let window = format!("{start:02}:00-{:02}:00", start + 1);
    let mut out = Outbox::new(&app, &smtp.url());
    out.settings.send_window = window.parse().unwrap();
    out.settings.send_on_non_working_days = true;
    out.scan(today());
    assert_eq!(out.deliver().sent, 0, "it waits for the window");
    let list = expect_json(app.get("/api/v1/notices", &c.office).await, 200).await;
    let next: chrono::DateTime<chrono::Utc> = list["items"][0]["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > chrono::Utc::now());
    let next_local = next.with_timezone(&tz);
    assert_eq!(
        (
            chrono::Timelike::hour(&next_local),
            chrono::Timelike::minute(&next_local)
        ),
        (start, 0)
    );
    assert_eq!(out.deliver_in(25).sent, 1, "and goes out once it opens");
}

async fn group_robots_get_the_notices_too(app: TestApp) {
    let smtp = SmtpServer::start();
    let hooks = Receiver::start();
    let c = addressed_city(&app).await;
    // Unit A has a WeCom robot; the office a signed generic webhook.
    let res = app
        .patch(&format!("/api/v1/units/{}", c.unit_a), &c.admin, json!({ "version": 2, "webhook_kind": "wecom", "webhook_url": hooks.url("/wecom?key=k1") }))
        .await;
    let unit = expect_json(res, 200).await;
    assert_eq!(
        (
            unit["webhook_kind"].as_str(),
            unit["webhook_secret_set"].as_bool()
        ),
        (Some("wecom"), Some(false))
    );
    let office = expect_json(app.get("/api/v1/units?kind=office", &c.admin).await, 200).await;
    let office_id = office["items"][0]["id"].as_i64().unwrap();
    let res = app
        .patch(
            &format!("/api/v1/units/{office_id}"),
            &c.admin,
            json!({ "version": 1, "webhook_kind": "generic", "webhook_url": hooks.url("/hook"), "webhook_secret": "s3cret" }),
        )
        .await;
    let office_unit = expect_json(res, 200).await;
    assert_eq!(office_unit["webhook_secret_set"], true);
    assert!(
        office_unit.get("webhook_secret").is_none(),
        "the secret is never shown"
    );
    let bad = app
        .patch(
            &format!("/api/v1/units/{office_id}"),
            &c.admin,
            json!({ "version": 2, "webhook_kind": "icq", "webhook_url": "ftp://x" }),
        )
        .await;
    let p = expect_problem(bad, 422, "validation_failed").await;
    assert!(crate::helpers::problem_fields(&p).contains(&"webhook_kind".to_string()));

    let task = c.in_progress(&app, "1", 10).await;
    let due: NaiveDate = task["due_date"].as_str().unwrap().parse().unwrap();
    let mut out = Outbox::new(&app, &smtp.url());
    // The supervision order issued on day 7 gets a month for its receipt
    // here, so that the receipt's own chase (tests/api/orders.rs) stays out
    // of this ladder's count.
    out.settings.order_reply_working_days = 30;
    assert_eq!(
        out.scan(due + Duration::days(1)).created,
        1,
        "one chase notice, with its robot copy"
    );
    let counts = out.deliver();
    assert_eq!(counts.sent, 2, "the email and the robot message");
    let hits = hooks.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].target, "/wecom?key=k1");
    let body: serde_json::Value = serde_json::from_str(&hits[0].body).unwrap();
    assert_eq!(body["msgtype"], "text");
    assert!(body["text"]["content"]
        .as_str()
        .unwrap()
        .contains("催办通知"));

    // The supervision order goes to the office's signed webhook.
    out.scan(due + Duration::days(7));
    out.deliver();
    let hit = hooks
        .hits()
        .into_iter()
        .find(|h| h.target == "/hook")
        .unwrap();
    let ts = &hit.headers["x-duban-timestamp"];
    let expected = {
        use hmac::{KeyInit, Mac};
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"s3cret").unwrap();
        mac.update(format!("{ts}.{}", hit.body).as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(hit.headers["x-duban-signature"], expected);
    let payload: serde_json::Value = serde_json::from_str(&hit.body).unwrap();
    assert_eq!(payload["step"], "supervise_7");

    // A robot that fails with 500 is retried; one that refuses with 400 is dead.
    hooks.reply_with(500, "oops");
    out.scan(due + Duration::days(15));
    let counts = out.deliver();
    assert_eq!(
        (counts.sent, counts.retried),
        (1, 1),
        "the email goes, the robot waits"
    );
    hooks.reply_with(400, "bad");
    assert_eq!(out.deliver_in(2).dead, 1);
    let dead = expect_json(app.get("/api/v1/notices?status=dead", &c.office).await, 200).await;
    assert_eq!(dead["items"][0]["channel"], "webhook");
    assert!(dead["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("400"));
}

async fn the_last_rung_proposes_accountability_for_the_office_to_decide(app: TestApp) {
    let c = addressed_city(&app).await;
    let late = c.in_progress(&app, "1", -15).await;
    c.in_progress(&app, "2", -15).await;
    let out = Outbox::new(&app, &closed_port_url());
    out.scan(today());
    out.scan(today());
    let proposed = expect_json(
        app.get("/api/v1/accountability?status=proposed", &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(
        proposed["total"], 2,
        "one proposal per task, however often the scan runs"
    );
    let first = &proposed["items"][1];
    assert_eq!(first["unit_id"], c.unit_a);
    assert_eq!(first["source"], "ladder");
    assert_eq!(first["task_ids"], json!([late["id"]]));
    assert!(first["reason"].as_str().unwrap().contains("逾期 15 天"));
    let id = first["id"].as_i64().unwrap();
    let path = |action: &str| format!("/api/v1/accountability/{id}/{action}");
    expect_problem(
        app.post(&path("confirm"), &c.clerk_a, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        app.post(&path("dismiss"), &c.office, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    let confirmed = expect_json(
        app.post(
            &path("confirm"),
            &c.office,
            json!({ "note": "约谈主要负责人" }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(confirmed["status"], "confirmed");
    expect_problem(
        app.post(&path("dismiss"), &c.office, json!({ "note": "x" }))
            .await,
        409,
        "record_decided",
    )
    .await;
    // The office records an admonitory talk directly; the unit sees its own record.
    let talk = app
        .post("/api/v1/accountability", &c.office, json!({ "unit_id": c.unit_a, "level": "admonitory_talk", "reason": "连续两月排名末位" }))
        .await;
    assert_eq!(expect_json(talk, 201).await["status"], "confirmed");
    let bad = app
        .post(
            "/api/v1/accountability",
            &c.office,
            json!({ "unit_id": 9999, "level": "jail", "reason": "x" }),
        )
        .await;
    let p = expect_problem(bad, 422, "validation_failed").await;
    assert_eq!(crate::helpers::problem_fields(&p), ["level", "unit_id"]);
    let mine = expect_json(app.get("/api/v1/accountability", &c.clerk_a).await, 200).await;
    assert_eq!(mine["total"], 3);
    let foreign = expect_json(app.get("/api/v1/accountability", &c.clerk_c).await, 200).await;
    assert_eq!(foreign["total"], 0);
}

async fn a_digest_unit_gets_one_daily_email_listing_its_tasks(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let res = app
        .patch(
            &format!("/api/v1/units/{}", c.unit_a),
            &c.admin,
            json!({ "version": 2, "notice_mode": "digest" }),
        )
        .await;
    assert_eq!(expect_json(res, 200).await["notice_mode"], "digest");
    let bad = app
        .patch(
            &format!("/api/v1/units/{}", c.unit_a),
            &c.admin,
            json!({ "version": 3, "notice_mode": "weekly" }),
        )
        .await;
    expect_problem(bad, 422, "validation_failed").await;
    c.in_progress(&app, "1", -2).await; // overdue: chase to A (digest) and B
    c.in_progress(&app, "2", 3).await; // reminder_3 to A (digest)
    c.in_progress(&app, "3", 60).await; // not due soon: not in the digest
    let out = Outbox::new(&app, &smtp.url());
    let counts = out.scan(today());
    assert_eq!(counts.created, 3, "chase, reminder and the digest");
    assert_eq!(out.scan(today()).created, 0, "one digest a day");
    assert_eq!(out.deliver().sent, 2);
    let got = smtp.received();
    let text = digest_text(&got, "t01@example.gov.cn");
    assert!(
        text.contains("任务 1") && text.contains("任务 2") && !text.contains("任务 3"),
        "{text}"
    );
    let chase = got
        .iter()
        .find(|m| m.to == ["d01@example.gov.cn"])
        .expect("the cooperating unit still gets its chase");
    assert!(chase.subject().contains("催办通知"));
    let reminder = expect_json(
        app.get("/api/v1/notices?step=reminder_3", &c.office).await,
        200,
    )
    .await;
    assert_eq!(reminder["items"][0]["status"], "cancelled");
    assert!(reminder["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("digest"));
}

/// The text of the daily digest sent to `to`, checking it is the digest.
fn digest_text(got: &[crate::smtp::Received], to: &str) -> String {
    let digest = got
        .iter()
        .find(|m| m.to == [to])
        .unwrap_or_else(|| panic!("no digest to {to}"));
    assert!(
        digest.subject().contains("督办日报"),
        "{}",
        digest.subject()
    );
    digest.text()
}

/// Switches `unit` to the daily digest (as the admin, at its current version).
async fn takes_the_digest(app: &TestApp, c: &City, unit: i64) {
    let current = expect_json(
        app.get(&format!("/api/v1/units/{unit}"), &c.admin).await,
        200,
    )
    .await;
    expect_json(
        app.patch(
            &format!("/api/v1/units/{unit}"),
            &c.admin,
            json!({ "version": current["version"], "notice_mode": "digest" }),
        )
        .await,
        200,
    )
    .await;
}

async fn a_cooperating_digest_unit_finds_the_tasks_it_helps_with_in_its_digest(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    takes_the_digest(&app, &c, c.unit_b).await;
    // Unit B cooperates on task 1 (overdue) and on task 3 (not due soon),
    // not on task 2 (due in three days, unit A's alone).
    c.in_progress(&app, "1", -2).await;
    let alone = c
        .task(&app, "2", 3, json!({ "cooperating_unit_ids": [] }))
        .await;
    c.ok(&app, &c.office, &alone, "assign", None).await;
    c.in_progress(&app, "3", 60).await;
    let out = Outbox::new(&app, &smtp.url());
    out.scan(today());
    out.deliver();
    let text = digest_text(&smtp.received(), "d01@example.gov.cn");
    assert!(
        text.contains("任务 1") && !text.contains("任务 2") && !text.contains("任务 3"),
        "{text}"
    );
}

async fn unsigned_tasks_and_missing_reports_get_their_own_reminders(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let unsigned = c.task(&app, "1", 60, json!({})).await;
    c.ok(&app, &c.office, &unsigned, "assign", None).await;
    let reporting = c.task(&app, "2", 90, json!({ "report_day": 1 })).await;
    c.ok(&app, &c.office, &reporting, "assign", None).await;
    c.ok(&app, &c.clerk_a, &reporting, "accept", None).await;
    // The cooperating unit reports; the lead unit's report is still owed.
    let r = app
        .post(
            &format!("/api/v1/tasks/{}/reports", reporting["id"]),
            &c.clerk_b,
            json!({ "percent": 10, "body": "配合单位进展" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let out = Outbox::new(&app, &smtp.url());
    assert_eq!(out.scan(today()).created, 0, "nothing owed yet");
    // Time passes: both started two months ago.
    {
        use diesel::prelude::*;
        use duban::db::schema::tasks;
        let mut conn = out.pool.get().unwrap();
        let long_ago = chrono::Utc::now().naive_utc() - Duration::days(62);
        diesel::update(tasks::table)
            .set((
                tasks::assigned_at.eq(long_ago),
                tasks::accepted_at.eq(long_ago),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(out.scan(today()).created, 2);
    assert_eq!(out.scan(today()).created, 0);
    assert_eq!(out.deliver().sent, 2);
    let subjects: Vec<String> = smtp.received().iter().map(|m| m.subject()).collect();
    assert!(
        subjects.iter().any(|s| s.contains("签收提醒")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("进展报送提醒")),
        "{subjects:?}"
    );
    // Signing for the task makes a pending signing reminder moot.
    let again = c.task(&app, "3", 60, json!({})).await;
    c.ok(&app, &c.office, &again, "assign", None).await;
    {
        use diesel::prelude::*;
        use duban::db::schema::tasks;
        let mut conn = out.pool.get().unwrap();
        diesel::update(tasks::table.find(again["id"].as_i64().unwrap()))
            .set(tasks::assigned_at.eq(chrono::Utc::now().naive_utc() - Duration::days(10)))
            .execute(&mut conn)
            .unwrap();
    }
    assert_eq!(out.scan(today()).created, 1);
    c.ok(&app, &c.clerk_a, &again, "accept", None).await;
    assert_eq!(out.deliver().cancelled, 1);
}

/// The report dates the scan found missing for `task`, from its notices' keys.
fn missing_report_dates(out: &Outbox, task: i64) -> Vec<String> {
    use diesel::prelude::*;
    use duban::db::schema::notices;
    let prefix = format!("task:{task}:report_missing:");
    let mut conn = out.pool.get().unwrap();
    let mut keys: Vec<String> = notices::table
        .filter(notices::task_id.eq(task))
        .select(notices::dedupe_key)
        .load::<String>(&mut conn)
        .unwrap()
        .into_iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

async fn a_quarterly_report_is_reminded_of_once_the_quarter_is_over(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    // No due date: only the progress reports can be late.
    let quarterly = c
        .task(
            &app,
            "1",
            0,
            json!({ "due_date": null, "report_day": 31, "report_cadence": "quarterly" }),
        )
        .await;
    let monthly = c
        .task(&app, "2", 0, json!({ "due_date": null, "report_day": 31 }))
        .await;
    let mut ids = Vec::new();
    for task in [&quarterly, &monthly] {
        let id = task["id"].as_i64().unwrap();
        c.ok(&app, &c.office, task, "assign", None).await;
        c.ok(&app, &c.clerk_a, task, "accept", None).await;
        let r = app
            .post(
                &format!("/api/v1/tasks/{id}/reports"),
                &c.clerk_a,
                json!({ "percent": 30, "body": "三季度进展" }),
            )
            .await;
        assert_eq!(r.status(), 201);
        ids.push(id);
    }
    let (q, m) = (ids[0], ids[1]);
    let out = Outbox::new(&app, &smtp.url());
    // Both started on 1 August 2026 and reported on 20 September.
    {
        use diesel::prelude::*;
        use duban::db::schema::{progress_reports, tasks};
        let mut conn = out.pool.get().unwrap();
        let at = |m: u32, d: u32| {
            NaiveDate::from_ymd_opt(2026, m, d)
                .unwrap()
                .and_hms_opt(4, 0, 0)
                .unwrap()
        };
        diesel::update(tasks::table)
            .set((
                tasks::assigned_at.eq(at(8, 1)),
                tasks::accepted_at.eq(at(8, 1)),
            ))
            .execute(&mut conn)
            .unwrap();
        diesel::update(progress_reports::table)
            .set(progress_reports::created_at.eq(at(9, 20)))
            .execute(&mut conn)
            .unwrap();
    }
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    // November: the monthly report for 31 October is missing; the quarterly
    // one is not due before 31 December.
    out.scan(day(2026, 11, 15));
    assert_eq!(missing_report_dates(&out, m), ["2026-10-31"]);
    assert!(missing_report_dates(&out, q).is_empty());
    // On the quarter's report date it is owed but not late yet.
    out.scan(day(2026, 12, 31));
    assert!(missing_report_dates(&out, q).is_empty());
    // From 1 January it is missing: one reminder, for that report date.
    out.scan(day(2027, 1, 1));
    out.scan(day(2027, 2, 10));
    assert_eq!(missing_report_dates(&out, q), ["2026-12-31"]);
    assert_eq!(
        missing_report_dates(&out, m),
        ["2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31"]
    );
    assert!(out.deliver().sent >= 1);
    assert!(
        smtp.received()
            .iter()
            .any(|mail| mail.subject().contains("进展报送提醒")),
        "the lead unit is reminded"
    );
}

async fn titles_and_names_cannot_smuggle_mail_headers(app: TestApp) {
    let c = city::build(&app).await;
    let res = app
        .post(
            "/api/v1/units",
            &c.admin,
            json!({ "code": "X", "name": "镇\r\nBcc: spy@example.com", "kind": "other" }),
        )
        .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(crate::helpers::problem_fields(&p), ["name"]);
    let res = app
        .post("/api/v1/tasks", &c.office, json!({ "plan_id": c.plan_id, "code": "1", "title": "任务\nBcc: spy@example.com", "lead_unit_id": c.unit_a }))
        .await;
    let p = expect_problem(res, 422, "validation_failed").await;
    assert_eq!(crate::helpers::problem_fields(&p), ["title"]);
}

async fn assigning_and_returning_tell_the_units_at_once(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    // Unit B takes the daily digest; news of a new task still reaches it today.
    takes_the_digest(&app, &c, c.unit_b).await;
    let task = c.task(&app, "3.1", 20, json!({})).await;
    let id = task["id"].as_i64().unwrap();
    c.ok(&app, &c.office, &task, "assign", None).await;
    let out = Outbox::new(&app, &smtp.url());
    assert_eq!(out.deliver().sent, 2, "the lead and the cooperating unit");
    let got = smtp.received();
    let lead = got
        .iter()
        .find(|m| m.to.contains(&"t01@example.gov.cn".to_string()))
        .unwrap();
    assert!(
        lead.subject().starts_with("【交办通知】3.1"),
        "{}",
        lead.subject()
    );
    assert!(
        lead.text().contains("牵头办理") && lead.text().contains(&format!("/tasks/{id}")),
        "{}",
        lead.text()
    );
    let coop = got
        .iter()
        .find(|m| m.to.contains(&"d01@example.gov.cn".to_string()))
        .unwrap();
    assert!(coop.text().contains("请贵单位配合办理"), "{}", coop.text());

    c.ok(&app, &c.clerk_a, &task, "accept", None).await;
    c.ok(&app, &c.clerk_a, &task, "submit", Some("已完成"))
        .await;
    c.ok(&app, &c.office, &task, "return", Some("请补充验收报告"))
        .await;
    assert_eq!(out.deliver().sent, 1, "the lead unit alone");
    let returned = smtp.received().pop().unwrap();
    assert_eq!(returned.to, ["t01@example.gov.cn"]);
    assert!(
        returned.subject().starts_with("【退回通知】"),
        "{}",
        returned.subject()
    );
    assert!(
        returned.text().contains("退回意见：请补充验收报告"),
        "{}",
        returned.text()
    );

    // Recorded where the office looks: the notices list and the timeline.
    let notices = expect_json(
        app.get(&format!("/api/v1/notices?task_id={id}"), &c.office)
            .await,
        200,
    )
    .await;
    let mut steps: Vec<&str> = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["step"].as_str().unwrap())
        .collect();
    steps.sort();
    assert_eq!(steps, ["assigned", "assigned", "returned"]);
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
        kinds.iter().filter(|k| **k == "assign_notice").count(),
        2,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"return_notice"));
    // Returning again after a resubmission tells the unit again.
    c.ok(&app, &c.clerk_a, &task, "submit", Some("已补充"))
        .await;
    c.ok(&app, &c.office, &task, "return", Some("报告未盖章"))
        .await;
    assert_eq!(out.deliver().sent, 1);
}

/// Queues `n` pending email notices that are due now and owed whatever
/// happens (a digest: no task, nothing to cancel them), straight into the
/// outbox, as a burst of thousands would stand there after a scan.
fn queue_digests(out: &Outbox, n: usize) {
    use diesel::prelude::*;
    use duban::db::schema::notices;
    let now = chrono::Utc::now().naive_utc();
    let mut conn = out.pool.get().unwrap();
    for i in 0..n {
        diesel::insert_into(notices::table)
            .values((
                notices::step.eq("digest"),
                notices::dedupe_key.eq(format!("test:{i}")),
                notices::message_id.eq(format!("<test-notice-{i}@example.gov.cn>")),
                notices::recipients.eq(r#"["t01@example.gov.cn"]"#),
                notices::subject.eq(format!("督办日报 {i}")),
                notices::body_text.eq("今日到期任务"),
                notices::body_html.eq("<p>今日到期任务</p>"),
                notices::status.eq("pending"),
                notices::next_attempt_at.eq(now),
                notices::created_at.eq(now),
            ))
            .execute(&mut conn)
            .unwrap();
    }
}

/// Each received Message-ID, with how often it came.
fn arrivals(smtp: &SmtpServer) -> std::collections::BTreeMap<String, usize> {
    let mut seen = std::collections::BTreeMap::new();
    for m in smtp.received() {
        *seen.entry(m.header("Message-ID").unwrap()).or_insert(0) += 1;
    }
    seen
}

async fn one_round_drains_the_outbox_over_one_connection(app: TestApp) {
    // More than a batch (200) and far more than the old 50 a tick.
    const N: usize = 450;
    let smtp = SmtpServer::start();
    let out = Outbox::new(&app, &smtp.url());
    queue_digests(&out, N);
    let counts = out.deliver();
    assert_eq!(counts.sent, N, "{counts:?}");
    let seen = arrivals(&smtp);
    assert_eq!(seen.len(), N);
    assert!(seen.values().all(|n| *n == 1), "each once");
    assert_eq!(smtp.connections(), 1, "one connection carried them all");
    assert_eq!(out.deliver().sent, 0, "nothing left for the next round");
    let c = city::build(&app).await;
    let list = expect_json(
        app.get("/api/v1/notices?status=sent&per_page=1", &c.admin)
            .await,
        200,
    )
    .await;
    assert_eq!(list["total"], N);
}

async fn a_connection_the_server_closes_is_opened_again(app: TestApp) {
    const N: usize = 10;
    let smtp = SmtpServer::start();
    // The server hangs up after every third message, unannounced.
    smtp.set_messages_per_connection(3);
    let out = Outbox::new(&app, &smtp.url());
    queue_digests(&out, N);
    let counts = out.deliver();
    assert_eq!(counts.sent, N, "no message waits for a retry: {counts:?}");
    let seen = arrivals(&smtp);
    assert_eq!(seen.len(), N);
    assert!(seen.values().all(|n| *n == 1), "each once: {seen:?}");
    assert_eq!(smtp.connections(), 4, "a new connection after each hang-up");
}

/// A round told to stop (the process is stopping, or its lease went to
/// another instance) in the middle of a claim gives the claim's unsent
/// notices back: the next round sends them at once, not after their lease.
async fn a_stopped_round_gives_back_what_it_claimed_and_did_not_send(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::notices;
    const N: usize = 12;
    let smtp = SmtpServer::start();
    let out = Outbox::new(&app, &smtp.url());
    queue_digests(&out, N);
    // Claims grow 1, 2, 4 while sending is fast. Asked before the first
    // claim, before the second, inside it, before the third and after its
    // first notice: the fifth answer stops the round with three of that
    // claim unsent.
    let (pool, mailer, settings) = (out.pool.clone(), out.mailer.clone(), out.settings.clone());
    let counts = std::thread::spawn(move || {
        let mut asked = 0;
        deliver::deliver_while(
            &pool,
            &mailer,
            &settings,
            duban::bulletins::publish::attachments,
            chrono::Utc::now().naive_utc(),
            &mut || {
                asked += 1;
                Ok(asked < 5)
            },
        )
        .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(counts.sent, 4, "{counts:?}");
    let mut conn = out.pool.get().unwrap();
    let held: i64 = notices::table
        .filter(
            notices::status
                .eq("sending")
                .or(notices::claim_token.is_not_null()),
        )
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(held, 0, "no notice stays claimed by the stopped round");
    // The next round, at once, sends the rest, each notice once.
    assert_eq!(out.deliver().sent, N - 4);
    let seen = arrivals(&smtp);
    assert_eq!(seen.len(), N);
    assert!(seen.values().all(|n| *n == 1), "each once: {seen:?}");
}
