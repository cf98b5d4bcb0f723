//! Rankings, bulletins, the unit record and the annual assessment, built on
//! the worked example of `docs/scoring.md` (October 2026 in a small city).

use std::collections::HashMap;

use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use duban::db::schema::{extensions, task_cooperators, tasks};
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, local_day, City};
use crate::helpers::processes::output;
use crate::helpers::{duban, expect_json, expect_problem, problem_fields, TestApp};
use crate::notices::Outbox;
use crate::smtp::SmtpServer;

api_tests![
    the_worked_example_of_the_scoring_docs_is_reproduced,
    a_task_due_before_the_period_and_done_in_it_counts_there_late,
    publishing_freezes_numbers_and_creates_rectification_once,
    published_bulletins_reach_every_unit_by_email_with_the_files_attached,
    hostile_names_are_escaped_and_spreadsheet_cells_are_defused,
    drafts_are_edited_regenerated_and_kept_from_unit_clerks,
    ties_share_a_rank_and_units_with_nothing_due_stand_apart,
    the_monthly_job_drafts_last_months_bulletin_once,
    a_units_record_shows_its_lateness_notices_and_bulletins,
    the_annual_assessment_grades_units_and_names_what_lowered_them,
    the_command_line_generates_and_publishes_a_bulletin,
];

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// The example city: the task fixture's three units plus a park committee
/// with nothing due, and the tasks of `docs/scoring.md`.
pub(crate) struct Example {
    pub(crate) c: City,
    pub(crate) park: i64,
    pub(crate) tasks: HashMap<&'static str, i64>,
}

/// (code, lead unit: a/b/c, due date, done on, cooperating with b)
const TASKS: [(&str, char, &str, Option<&str>, bool); 11] = [
    ("A1", 'a', "2026-10-10", Some("2026-09-30"), false),
    ("A2", 'a', "2026-10-20", Some("2026-10-20"), true),
    ("A3", 'a', "2026-10-15", Some("2026-10-18"), false),
    ("A4", 'a', "2026-10-09", None, false),
    ("A5", 'a', "2026-10-05", Some("2026-10-05"), false),
    ("B1", 'b', "2026-10-31", Some("2026-10-31"), false),
    ("B2", 'b', "2026-10-12", Some("2026-10-12"), false),
    ("C1", 'c', "2026-10-05", Some("2026-10-08"), false),
    ("C2", 'c', "2026-09-30", None, false),
    ("C3", 'c', "2026-11-15", None, false),
    ("C4", 'c', "2026-09-20", Some("2026-09-19"), false),
];

/// Builds the example through the API, then dates its history: the tasks
/// were worked on in September and October 2026, so the days they were
/// submitted, the extension's decision and the daily scan of 16 October are
/// set to those days (the only writes that bypass the API).
pub(crate) async fn example(app: &TestApp) -> Example {
    let c = city::build(app).await;
    let park = id(&app.create_unit(&c.admin, "P01", "高新区管委会").await);
    let mut ids = HashMap::new();
    for (code, lead, due, done, coop) in TASKS {
        let (unit, clerk) = match lead {
            'a' => (c.unit_a, &c.clerk_a),
            'b' => (c.unit_b, &c.clerk_b),
            _ => (c.unit_c, &c.clerk_c),
        };
        // B1 was due on 25 October and extended to the 31st.
        let due_at_creation = if code == "B1" {
            local_day(10)
        } else {
            due.to_string()
        };
        let coops: Vec<i64> = if coop { vec![c.unit_b] } else { vec![] };
        let task = expect_json(
            app.post(
                "/api/v1/tasks",
                &c.office,
                json!({ "plan_id": c.plan_id, "code": code, "title": format!("任务 {code}"),
                        "lead_unit_id": unit, "cooperating_unit_ids": coops,
                        "responsible_leader_id": c.leader_id, "due_date": due_at_creation }),
            )
            .await,
            201,
        )
        .await;
        c.ok(app, &c.office, &task, "assign", None).await;
        c.ok(app, clerk, &task, "accept", None).await;
        if code == "B1" {
            let ext = expect_json(
                app.post(
                    &format!("/api/v1/tasks/{}/extensions", id(&task)),
                    clerk,
                    json!({ "new_due_date": local_day(16), "reason": "汛期施工受限" }),
                )
                .await,
                201,
            )
            .await;
            expect_json(
                app.post(
                    &format!("/api/v1/extensions/{}/approve", id(&ext)),
                    &c.office,
                    json!({}),
                )
                .await,
                200,
            )
            .await;
        }
        if done.is_some() {
            c.ok(app, clerk, &task, "submit", Some("已完成")).await;
            c.ok(app, &c.office, &task, "verify", Some("核验通过"))
                .await;
        }
        ids.insert(code, id(&task));
    }
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    for (code, _, due, done, _) in TASKS {
        diesel::update(tasks::table.find(ids[code]))
            .set((
                tasks::due_date.eq(d(due)),
                tasks::submitted_on.eq(done.map(d)),
            ))
            .execute(&mut conn)
            .unwrap();
    }
    diesel::update(tasks::table.find(ids["B1"]))
        .set(tasks::original_due_date.eq(d("2026-10-25")))
        .execute(&mut conn)
        .unwrap();
    diesel::update(extensions::table.filter(extensions::task_id.eq(ids["B1"])))
        .set((
            extensions::old_due_date.eq(d("2026-10-25")),
            extensions::new_due_date.eq(d("2026-10-31")),
            extensions::decided_at.eq(at("2026-10-20 02:00")),
        ))
        .execute(&mut conn)
        .unwrap();
    // The daily scan of 16 October (10:00 in Shanghai): A4 is 7 days
    // overdue, C2 16 days.
    duban::notices::scan::scan(
        &mut conn,
        &app.settings,
        d("2026-10-16"),
        at("2026-10-16 02:00"),
    )
    .unwrap();
    Example {
        c,
        park,
        tasks: ids,
    }
}

fn row<'a>(ranking: &'a Value, code: &str) -> &'a Value {
    ranking["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .chain(ranking["unranked"].as_array().unwrap())
        .find(|r| r["unit"]["code"] == code)
        .unwrap_or_else(|| panic!("{code} not in {ranking}"))
}

async fn the_worked_example_of_the_scoring_docs_is_reproduced(app: TestApp) {
    let e = example(&app).await;
    let r = expect_json(
        app.get("/api/v1/rankings?period=2026-10", &e.c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(r["period"], "2026-10");
    assert_eq!(r["period_name"], "2026年10月");
    assert_eq!(r["judged_on"], "2026-11-01");
    assert_eq!(r["running"], false);
    let order: Vec<(&str, i64)> = r["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["unit"]["code"].as_str().unwrap(),
                x["rank"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(order, [("D01", 1), ("T01", 2), ("T02", 3)]);

    let t01 = row(&r, "T01");
    assert_eq!(
        t01["figures"],
        json!({ "unit_id": e.c.unit_a, "due": 5, "completed_on_time": 3, "completed_late": 1,
                "overdue": 1, "overdue_days": 23, "late_days": 3, "completed_early": 1,
                "not_yet_due": 0, "extensions": 0, "reminders": 0, "chases": 1,
                "supervision_orders": 1, "accountability_notices": 0,
                "cooperating": 0, "cooperating_overdue": 0 })
    );
    assert_eq!(t01["score"], 64.0);
    assert_eq!(t01["completion_rate"], 80.0);
    assert_eq!(t01["on_time_rate"], 60.0);
    assert_eq!(t01["average_days_late"], 3.0);
    assert_eq!(t01["light"], "yellow");
    assert_eq!(
        (t01["criticised"].as_bool(), t01["commended"].as_bool()),
        (Some(true), Some(false))
    );

    let d01 = row(&r, "D01");
    assert_eq!(d01["score"], 100.0);
    assert_eq!(d01["figures"]["extensions"], 1);
    assert_eq!(d01["figures"]["cooperating"], 1, "D01 cooperates on A2");
    assert_eq!(d01["light"], "green");
    assert_eq!(
        (d01["criticised"].as_bool(), d01["commended"].as_bool()),
        (Some(false), Some(true))
    );

    let t02 = row(&r, "T02");
    assert_eq!(t02["score"], 15.0);
    assert_eq!(
        t02["figures"]["due"], 2,
        "C3 is due later, C4 was done in September"
    );
    assert_eq!(t02["figures"]["overdue_days"], 32);
    assert_eq!(t02["figures"]["accountability_notices"], 1);
    assert_eq!(t02["light"], "red");
    assert_eq!(t02["criticised"], true);

    let park = row(&r, "P01");
    assert_eq!(park["rank"], Value::Null);
    assert_eq!(park["score"], Value::Null);
    assert_eq!(park["unit"]["id"], e.park);
    assert_eq!(r["unranked"].as_array().unwrap().len(), 1);

    assert_eq!(
        r["totals"],
        json!({ "units": 4, "units_ranked": 3, "due": 9, "completed_on_time": 5,
                "completed_late": 2, "overdue": 2, "overdue_days": 55, "not_yet_due": 0,
                "extensions": 1, "supervision_orders": 2,
                "completion_rate": 77.78, "on_time_rate": 55.56 })
    );
    let overdue: Vec<(&str, i64)> = r["overdue_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["code"].as_str().unwrap(),
                t["days_overdue"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(overdue, [("C2", 32), ("A4", 23)]);
    assert_eq!(r["overdue_tasks"][0]["unit_name"], "东城镇");

    // The same figures for the whole year so far and for the quarter.
    let q = expect_json(
        app.get("/api/v1/rankings?period=2026-Q4", &e.c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(q["period_name"], "2026年第四季度");
    let problem = expect_problem(
        app.get("/api/v1/rankings?period=2026-13", &e.c.office)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["period"]);
    expect_problem(
        app.get("/api/v1/rankings?period=2026-10", &e.c.clerk_a)
            .await,
        403,
        "forbidden",
    )
    .await;
    expect_json(
        app.get("/api/v1/rankings?period=2026-10", &e.c.leader)
            .await,
        200,
    )
    .await;
}

pub(crate) async fn draft(app: &TestApp, token: &str, period: &str) -> Value {
    expect_json(
        app.post("/api/v1/bulletins", token, json!({ "period": period }))
            .await,
        201,
    )
    .await
}

pub(crate) async fn publish(app: &TestApp, token: &str, bulletin: &Value) -> Value {
    expect_json(
        app.post(
            &format!("/api/v1/bulletins/{}/publish", id(bulletin)),
            token,
            json!({}),
        )
        .await,
        200,
    )
    .await
}

fn this_year() -> i32 {
    use chrono::Datelike;
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    chrono::Utc::now().with_timezone(&tz).year()
}

async fn rectification_tasks(app: &TestApp, token: &str) -> Vec<Value> {
    let list = expect_json(
        app.get("/api/v1/tasks?category=rectification&per_page=100", token)
            .await,
        200,
    )
    .await;
    list["items"].as_array().unwrap().clone()
}

/// A task due before the month and done in it counts in that month, late,
/// for its lead unit and its cooperating units; one due and done before the
/// month does not (C4 in the worked example). C4, due on 20 September, is
/// here done on 3 October, with unit B (D01) helping.
async fn a_task_due_before_the_period_and_done_in_it_counts_there_late(app: TestApp) {
    let e = example(&app).await;
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::update(tasks::table.find(e.tasks["C4"]))
        .set(tasks::submitted_on.eq(d("2026-10-03")))
        .execute(&mut conn)
        .unwrap();
    diesel::insert_into(task_cooperators::table)
        .values((
            task_cooperators::task_id.eq(e.tasks["C4"]),
            task_cooperators::unit_id.eq(e.c.unit_b),
        ))
        .execute(&mut conn)
        .unwrap();
    let r = expect_json(
        app.get("/api/v1/rankings?period=2026-10", &e.c.office)
            .await,
        200,
    )
    .await;
    let t02 = &row(&r, "T02")["figures"];
    assert_eq!(
        (&t02["due"], &t02["completed_late"], &t02["late_days"]),
        (&json!(3), &json!(2), &json!(16)),
        "C1 three days late, C4 thirteen: {t02}"
    );
    assert_eq!(row(&r, "D01")["figures"]["cooperating"], 2, "A2 and C4");
}

async fn publishing_freezes_numbers_and_creates_rectification_once(app: TestApp) {
    let e = example(&app).await;
    let office = &e.c.office;
    let september = draft(&app, office, "2026-09").await;
    let only: Vec<&str> = september["snapshot"]["ranking"]["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(only, ["T02"], "in September only 东城镇 had anything due");
    let september = publish(&app, office, &september).await;
    let year = this_year();
    assert_eq!(september["number_label"], format!("{year}年第1期"));
    assert_eq!(september["status"], "published");

    let october = draft(&app, office, "2026-10").await;
    assert_eq!(october["number_label"], Value::Null);
    let ranking = &october["snapshot"]["ranking"];
    assert_eq!(ranking["previous_bulletin"]["id"], id(&september));
    let t02 = row(ranking, "T02");
    assert_eq!(
        (t02["previous_rank"].as_i64(), t02["rank"].as_i64()),
        (Some(1), Some(3))
    );
    assert_eq!(t02["rank_change"], -2);
    assert_eq!(
        row(ranking, "T01")["rank_change"],
        Value::Null,
        "not ranked in September"
    );
    let criticised: Vec<i64> = october["snapshot"]["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit_id"].as_i64().unwrap())
        .collect();
    assert_eq!(criticised, [e.c.unit_a, e.c.unit_c]);

    let before = rectification_tasks(&app, office).await.len();
    let published = publish(&app, office, &october).await;
    assert_eq!(published["number_label"], format!("{year}年第2期"));
    // A retry (say the answer was lost) changes nothing.
    let again = publish(&app, office, &october).await;
    assert_eq!(again, published);
    let rect = rectification_tasks(&app, office).await;
    assert_eq!(
        rect.len() - before,
        2,
        "one rectification task per criticised unit: {rect:?}"
    );
    let t01_task = rect
        .iter()
        .find(|t| t["lead_unit_id"] == e.c.unit_a && t["title"].as_str().unwrap().contains("第2期"))
        .expect("a rectification task for 城关镇");
    assert_eq!(t01_task["status"], "assigned");
    let rects = published["snapshot"]["rectifications"].as_array().unwrap();
    assert_eq!(rects[0]["task_id"], t01_task["id"]);
    assert_eq!(rects[0]["deadline"], t01_task["due_date"]);
    assert_eq!(t01_task["priority"], "high");
    assert_eq!(t01_task["evidence_required"], true);
    // Made by the task service like every task: created and assigned on the
    // timeline, saying which bulletin asked for it.
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{}/events", id(t01_task)), office)
            .await,
        200,
    )
    .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|ev| ev["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "assigned"]);
    assert_eq!(events[1]["unit_id"], e.c.unit_a);
    assert!(events[1]["note"].as_str().unwrap().contains("整改任务"));
    // The clerk sees the rectification task among the own unit's tasks.
    let mine = rectification_tasks(&app, &e.c.clerk_a).await;
    assert!(mine.iter().any(|t| t["id"] == t01_task["id"]));

    let proposals = expect_json(
        app.get(
            &format!("/api/v1/accountability?bulletin_id={}", id(&october)),
            office,
        )
        .await,
        200,
    )
    .await;
    let levels: Vec<(i64, &str, &str)> = proposals["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["unit_id"].as_i64().unwrap(),
                p["level"].as_str().unwrap(),
                p["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(levels.len(), 2);
    assert!(levels.contains(&(e.c.unit_a, "public_criticism", "proposed")));
    assert!(levels.contains(&(e.c.unit_c, "public_criticism", "proposed")));

    // Later work does not change a published bulletin.
    let c2 = json!({ "id": e.tasks["C2"] });
    e.c.ok(&app, &e.c.clerk_c, &c2, "submit", Some("补办完成"))
        .await;
    e.c.ok(&app, office, &c2, "verify", Some("核验通过")).await;
    let path = format!("/api/v1/bulletins/{}", id(&october));
    let frozen = expect_json(app.get(&path, office).await, 200).await;
    assert_eq!(frozen["snapshot"], published["snapshot"]);
    let html = app
        .get(&format!("{path}?format=html"), office)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("C2"), "the overdue list still names C2");
    expect_problem(
        app.patch(
            &path,
            office,
            json!({ "version": published["version"], "title": "改" }),
        )
        .await,
        409,
        "bulletin_published",
    )
    .await;
    expect_problem(
        app.post(&format!("{path}/regenerate"), office, json!({}))
            .await,
        409,
        "bulletin_published",
    )
    .await;
    let res = app
        .request(reqwest::Method::DELETE, &path, Some(office), None)
        .await;
    expect_problem(res, 409, "bulletin_published").await;
    // The live ranking moved on: as of today C2 is done, late.
    let since = format!("/api/v1/rankings?period=2026-10-01..{}", local_day(0));
    let live = expect_json(app.get(&since, office).await, 200).await;
    assert_eq!(row(&live, "T02")["figures"]["completed_late"], 2);
    let still: Vec<&str> = live["overdue_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["code"].as_str().unwrap())
        .collect();
    assert!(!still.contains(&"C2"), "{still:?}");
}

/// The attachments of a received message: (file name, decoded bytes).
/// The committed sample, `docs/bulletin-sample.html`, is this bulletin as
/// the units get it: the same but for what depends on the day the test
/// runs (the issue date, the number's year, the rectification deadlines).
/// With DUBAN_SAMPLES=<dir> the test writes `<dir>/bulletin-sample.html`
/// (`bash docs/console/refresh.sh` does it).
fn same_as_the_sample(html: &str, label: &str) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(dir) = std::env::var_os("DUBAN_SAMPLES") {
        std::fs::write(root.join(dir).join("bulletin-sample.html"), html).unwrap();
    }
    let sample = std::fs::read_to_string(root.join("docs/bulletin-sample.html")).unwrap();
    let number = |text: &str| {
        let start = text.find("<p class=\"number\">").map(|i| i + 18);
        start.and_then(|i| text[i..].split('<').next().map(str::to_string))
    };
    let day_free = |text: &str, label: &str| undated(&text.replace(label, "〔期号〕"));
    let sample_label = number(&sample).unwrap_or_default();
    assert_eq!(
        day_free(html, label),
        day_free(&sample, &sample_label),
        "docs/bulletin-sample.html is stale: run the test with DUBAN_SAMPLES=docs"
    );
}

/// `text` with each full date (2026年11月29日) as 某年某月某日.
fn undated(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    // Digits from `at`, then `mark`: the index after the mark.
    let part = |at: usize, mark: char, most: usize| {
        let n = chars[at..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        (n >= 1 && n <= most && chars.get(at + n) == Some(&mark)).then_some(at + n + 1)
    };
    while i < chars.len() {
        let date = part(i, '年', 4)
            .and_then(|j| part(j, '月', 2))
            .and_then(|j| part(j, '日', 2));
        match date {
            Some(end) if i + 4 < end => {
                out.push_str("某年某月某日");
                i = end;
            }
            _ => {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

fn attachments(data: &str) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for part in data.split("\r\n--").skip(1) {
        let (head, body) = part.split_once("\r\n\r\n").unwrap_or((part, ""));
        if !head.contains("Content-Disposition: attachment") {
            continue;
        }
        // RFC 2231: filename*=utf-8''…, or split as filename*0*=utf-8''…; filename*1*=…
        let mut encoded = String::new();
        for token in head.split([';', '\r', '\n']).map(str::trim) {
            if let Some((key, value)) = token.split_once('=') {
                if key.starts_with("filename") {
                    encoded.push_str(value.trim_matches('"'));
                }
            }
        }
        let name = percent_decode(encoded.trim_start_matches("utf-8''"));
        let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap_or_default();
        out.push((name, bytes));
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn published_bulletins_reach_every_unit_by_email_with_the_files_attached(app: TestApp) {
    let e = example(&app).await;
    expect_json(
        app.post(
            "/api/v1/units",
            &e.c.admin,
            json!({ "code": "OFFICE", "name": "市创建办", "kind": "office",
                "contact_emails": ["office@example.gov.cn"] }),
        )
        .await,
        201,
    )
    .await;
    let smtp = SmtpServer::start();
    let outbox = Outbox::new(&app, &smtp.url());
    outbox.deliver(); // the example's own notices out of the way
    let before = smtp.received().len();
    let bulletin = draft(&app, &e.c.office, "2026-10").await;
    assert_eq!(bulletin["snapshot"]["issuer"], "市创建办");
    let published = publish(&app, &e.c.office, &bulletin).await;
    let label = published["number_label"].as_str().unwrap().to_string();
    publish(&app, &e.c.office, &bulletin).await;
    let counts = outbox.deliver();
    assert_eq!(
        counts.sent, 5,
        "four units and the office, once each: {counts:?}"
    );
    let mail: Vec<_> = smtp.received().into_iter().skip(before).collect();
    let mut to: Vec<String> = mail.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        [
            "d01@example.gov.cn",
            "office@example.gov.cn",
            "p01@example.gov.cn",
            "t01@example.gov.cn",
            "t02@example.gov.cn"
        ]
    );
    let t01 = mail
        .iter()
        .find(|m| m.to.contains(&"t01@example.gov.cn".to_string()))
        .unwrap();
    assert_eq!(
        t01.subject(),
        format!("【督查通报】{label} 关于2026年10月重点工作任务落实情况的督查通报")
    );
    let text = t01.text();
    assert!(text.contains("城关镇"), "{text}");
    assert!(text.contains("排名第2名（共3个单位），得分64.00"), "{text}");
    assert!(text.contains("通报批评"), "{text}");
    let files = attachments(&t01.data);
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("督查通报-{label}.html"),
            format!("督查通报-{label}.xlsx")
        ]
    );
    let html = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(html.contains(&label) && html.contains("督查通报") && html.contains("东城镇"));
    same_as_the_sample(&html, &label);
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(files[1].1.clone())).unwrap();
    assert_eq!(book.sheet_names(), ["排名", "逾期任务", "排名图"]);
    let ranking = book.worksheet_range("排名").unwrap();
    // Below the title row and the header row; the score is a number.
    assert_eq!(
        ranking.get_value((2, 1)).unwrap().to_string(),
        "市生态环境局"
    );
    assert_eq!(
        ranking.get_value((3, 16)),
        Some(&calamine::Data::Float(64.0))
    );
    let park = mail
        .iter()
        .find(|m| m.to.contains(&"p01@example.gov.cn".to_string()))
        .unwrap();
    assert!(park.text().contains("未参加排名"));
    // Each notice is recorded as sent, with the bulletin step.
    let notices = expect_json(
        app.get("/api/v1/notices?per_page=100", &e.c.office).await,
        200,
    )
    .await;
    let sent = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["step"] == "bulletin" && n["status"] == "sent")
        .count();
    assert_eq!(sent, 5);
}

async fn hostile_names_are_escaped_and_spreadsheet_cells_are_defused(app: TestApp) {
    let c = city::build(&app).await;
    let evil_unit = "<script>alert('x')</script>镇";
    let formula_unit = "=HYPERLINK(\"http://evil.example\",\"点我\")";
    let u1 = expect_json(
        app.patch(
            &format!("/api/v1/units/{}", c.unit_a),
            &c.admin,
            json!({ "version": 1, "name": evil_unit }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(u1["name"], evil_unit);
    expect_json(
        app.patch(
            &format!("/api/v1/units/{}", c.unit_c),
            &c.admin,
            json!({ "version": 1, "name": formula_unit }),
        )
        .await,
        200,
    )
    .await;
    let task = expect_json(
        app.post(
            "/api/v1/tasks",
            &c.office,
            json!({ "plan_id": c.plan_id, "code": "X1", "title": "<img src=x onerror=alert(1)>-@SUM(A1)",
                    "lead_unit_id": c.unit_a, "due_date": local_day(-3) }),
        )
        .await,
        201,
    )
    .await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    let other = expect_json(
        app.post(
            "/api/v1/tasks",
            &c.office,
            json!({ "plan_id": c.plan_id, "code": "X2", "title": "+cmd|' /C calc'!A0",
                    "lead_unit_id": c.unit_c, "due_date": local_day(-2) }),
        )
        .await,
        201,
    )
    .await;
    c.ok(&app, &c.office, &other, "assign", None).await;
    let period = format!("{}..{}", local_day(-10), local_day(0));
    let b = draft(&app, &c.office, &period).await;
    let path = format!("/api/v1/bulletins/{}", id(&b));

    let res = app.get(&format!("{path}?format=html"), &c.office).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "unit name must be escaped");
    assert!(!html.contains("<img src=x"), "task title must be escaped");
    assert!(html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;镇"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("（草稿，未印发）"));
    let en = app
        .client
        .get(app.url(&format!("{path}?format=html")))
        .bearer_auth(&c.office)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Supervision Bulletin") && en.contains("1. Overview"),
        "{en}"
    );

    let md = app
        .get(&format!("{path}?format=md"), &c.office)
        .await
        .text()
        .await
        .unwrap();
    assert!(!md.contains("<script>") && !md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script>"));

    let res = app.get(&format!("{path}?format=csv"), &c.office).await;
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let csv = res.bytes().await.unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with BOM for Excel");
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(text.starts_with("排名,单位,"));
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "unguarded cell {cell:?}"
            );
        }
    }
    assert!(text.contains("'=HYPERLINK"));

    let xlsx = app
        .get(&format!("{path}?format=xlsx"), &c.office)
        .await
        .bytes()
        .await
        .unwrap();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    let overdue = book.worksheet_range("逾期任务").unwrap();
    let titles: Vec<String> = overdue.rows().skip(1).map(|r| r[2].to_string()).collect();
    assert!(
        titles.contains(&"'+cmd|' /C calc'!A0".to_string()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"<img src=x onerror=alert(1)>-@SUM(A1)".to_string()),
        "{titles:?}"
    );
    let formulas = book.worksheet_formula("排名").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );
    expect_problem(
        app.get(&format!("{path}?format=pdf"), &c.office).await,
        422,
        "validation_failed",
    )
    .await;
}

async fn drafts_are_edited_regenerated_and_kept_from_unit_clerks(app: TestApp) {
    let e = example(&app).await;
    let office = &e.c.office;
    let b = draft(&app, office, "2026-10").await;
    let path = format!("/api/v1/bulletins/{}", id(&b));
    let existing = expect_problem(
        app.post(
            "/api/v1/bulletins",
            office,
            json!({ "period": "2026-10-01..2026-10-31" }),
        )
        .await,
        409,
        "bulletin_exists",
    )
    .await;
    assert_eq!(existing["bulletin_id"], id(&b));
    let bad = expect_problem(
        app.post("/api/v1/bulletins", office, json!({ "period": "十月" }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&bad), ["period"]);
    expect_problem(
        app.post(
            "/api/v1/bulletins",
            &e.c.clerk_a,
            json!({ "period": "2026-09" }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // Unit clerks see no drafts.
    expect_problem(app.get(&path, &e.c.clerk_a).await, 404, "not_found").await;
    let list = expect_json(app.get("/api/v1/bulletins", &e.c.clerk_a).await, 200).await;
    assert_eq!(list["total"], 0);

    let edited = expect_json(
        app.patch(
            &path,
            office,
            json!({ "version": b["version"], "foreword": "十月份，各单位总体推进有序。",
                    "rectifications": [{ "unit_id": e.c.unit_c, "requirement": "十日内报送C2整改方案。", "deadline": "2026-12-20" }] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited["version"], b["version"].as_i64().unwrap() + 1);
    expect_problem(
        app.patch(
            &path,
            office,
            json!({ "version": b["version"], "closing": "x" }),
        )
        .await,
        409,
        "version_conflict",
    )
    .await;
    let bad = expect_problem(
        app.patch(
            &path,
            office,
            json!({ "version": edited["version"], "rectifications": [{ "unit_id": e.c.unit_b, "requirement": "x" },
                    { "unit_id": e.c.unit_a, "deadline": "2026-02-30" }] }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(
        problem_fields(&bad),
        ["rectifications[1].deadline", "rectifications[0].unit_id"]
    );
    // C2 gets done; regenerating updates the figures and keeps the edits.
    let c2 = json!({ "id": e.tasks["C2"] });
    e.c.ok(&app, &e.c.clerk_c, &c2, "submit", Some("完成"))
        .await;
    let regenerated = expect_json(
        app.post(
            &format!("{path}/regenerate"),
            office,
            json!({ "version": edited["version"] }),
        )
        .await,
        200,
    )
    .await;
    let s = &regenerated["snapshot"];
    assert_eq!(s["foreword"], "十月份，各单位总体推进有序。");
    assert_eq!(
        row(&s["ranking"], "T02")["figures"]["overdue"],
        1,
        "submitted in November: still overdue in October"
    );
    let t02 = s["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == e.c.unit_c)
        .unwrap();
    assert_eq!(t02["requirement"], "十日内报送C2整改方案。");
    assert_eq!(t02["deadline"], "2026-12-20");
    let published = publish(&app, office, &regenerated).await;
    let t02 = published["snapshot"]["rectifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit_id"] == e.c.unit_c)
        .unwrap()
        .clone();
    assert_eq!(
        t02["deadline"], "2026-12-20",
        "a deadline the office set is kept"
    );
    // Published: every unit reads it.
    let seen = expect_json(app.get(&path, &e.c.clerk_a).await, 200).await;
    assert_eq!(seen["status"], "published");
    let list = expect_json(app.get("/api/v1/bulletins", &e.c.clerk_b).await, 200).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["criticised"], json!(["城关镇", "东城镇"]));
    assert_eq!(list["items"][0]["commended"], json!(["市生态环境局"]));
    // A draft can be deleted, a published one cannot.
    let other = draft(&app, office, "2026-09").await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &format!("/api/v1/bulletins/{}", id(&other)),
            Some(office),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
}

async fn ties_share_a_rank_and_units_with_nothing_due_stand_apart(app: TestApp) {
    let c = city::build(&app).await;
    for (code, unit, clerk) in [("T1", c.unit_a, &c.clerk_a), ("T2", c.unit_c, &c.clerk_c)] {
        let task = expect_json(
            app.post(
                "/api/v1/tasks",
                &c.office,
                json!({ "plan_id": c.plan_id, "code": code, "title": "同样的任务",
                        "lead_unit_id": unit, "due_date": local_day(3) }),
            )
            .await,
            201,
        )
        .await;
        c.ok(&app, &c.office, &task, "assign", None).await;
        c.ok(&app, clerk, &task, "accept", None).await;
        c.ok(&app, clerk, &task, "submit", Some("完成")).await;
    }
    let period = format!("{}..{}", local_day(-5), local_day(10));
    let r = expect_json(
        app.get(&format!("/api/v1/rankings?period={period}"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(r["running"], true);
    let ranked: Vec<(&str, i64, f64)> = r["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["unit"]["code"].as_str().unwrap(),
                x["rank"].as_i64().unwrap(),
                x["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ranked,
        [("T01", 1, 100.0), ("T02", 1, 100.0)],
        "equal on every rule: same rank, by code"
    );
    let unranked: Vec<&str> = r["unranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["unit"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(unranked, ["D01"]);
    assert_eq!(row(&r, "D01")["figures"]["due"], 0);
    // A task not yet due is shown but not scored.
    let task = c.task(&app, "L1", 5, json!({})).await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    let r = expect_json(
        app.get(&format!("/api/v1/rankings?period={period}"), &c.office)
            .await,
        200,
    )
    .await;
    let t01 = row(&r, "T01");
    assert_eq!(
        (
            t01["figures"]["not_yet_due"].as_i64(),
            t01["score"].as_f64()
        ),
        (Some(1), Some(100.0))
    );
}

async fn the_monthly_job_drafts_last_months_bulletin_once(app: TestApp) {
    let e = example(&app).await;
    let pool = duban::db::connect(&app.database.url, 2).unwrap();
    let settings = app.settings.clone();
    let run = |now: &str| {
        let (pool, settings) = (pool.clone(), settings.clone());
        let now = at(now).and_utc();
        std::thread::spawn(move || {
            duban::jobs::bulletin::bulletin_if_due(&pool, &settings, "test", now).unwrap()
        })
        .join()
        .unwrap()
    };
    assert!(
        run("2026-10-31 23:00").is_none(),
        "1 November 07:00 local: before the scan time"
    );
    let first = run("2026-11-01 02:00").expect("drafted on the 1st after 08:00");
    assert_eq!(first.period, "2026-10");
    assert!(!first.published, "publishing stays with the office");
    assert!(run("2026-11-01 05:00").is_none(), "once per month");
    assert!(run("2026-11-02 05:00").is_none());
    let list = expect_json(app.get("/api/v1/bulletins", &e.c.office).await, 200).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["status"], "draft");
    assert_eq!(list["items"][0]["period"], "2026-10");
    // With auto-publishing, the next month's draft is published at once.
    let auto = duban::config::Settings {
        bulletin_auto_publish: true,
        ..settings.clone()
    };
    let pool2 = pool.clone();
    let run = std::thread::spawn(move || {
        duban::jobs::bulletin::bulletin_if_due(
            &pool2,
            &auto,
            "test",
            at("2026-12-01 02:00").and_utc(),
        )
        .unwrap()
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(run.period, "2026-11");
    assert!(run.published);
}

async fn a_units_record_shows_its_lateness_notices_and_bulletins(app: TestApp) {
    let e = example(&app).await;
    let b = draft(&app, &e.c.office, "2026-10").await;
    publish(&app, &e.c.office, &b).await;
    let path = format!("/api/v1/units/{}/record", e.c.unit_a);
    let r = expect_json(app.get(&path, &e.c.clerk_a).await, 200).await;
    assert_eq!(r["unit"]["name"], "城关镇");
    assert_eq!(r["tasks_by_status"]["completed"], 4);
    // A4 and the new rectification task (not yet due).
    assert_eq!(r["tasks_by_status"]["in_progress"], 1);
    assert_eq!(r["tasks_by_status"]["assigned"], 1);
    assert_eq!(r["overdue"][0]["code"], "A4");
    assert_eq!(r["finished_late"][0]["code"], "A3");
    assert_eq!(r["finished_late"][0]["days_late"], 3);
    assert_eq!(r["notices_by_step"]["supervise_7"], 1);
    assert_eq!(r["notices_by_step"]["bulletin"], 1);
    assert_eq!(r["bulletins"][0]["rank"], 2);
    assert_eq!(r["bulletins"][0]["criticised"], true);
    assert_eq!(r["accountability"][0]["level"], "public_criticism");
    assert_eq!(r["accountability"][0]["bulletin_id"], id(&b));
    // Another unit's clerk cannot read it; the viewer can.
    expect_problem(app.get(&path, &e.c.clerk_c).await, 404, "not_found").await;
    expect_json(app.get(&path, &e.c.viewer).await, 200).await;
    expect_problem(
        app.get("/api/v1/units/999999/record", &e.c.office).await,
        404,
        "not_found",
    )
    .await;
}

async fn the_annual_assessment_grades_units_and_names_what_lowered_them(app: TestApp) {
    let e = example(&app).await;
    let office = &e.c.office;
    let b = draft(&app, office, "2026-10").await;
    publish(&app, office, &b).await;
    let a = expect_json(app.get("/api/v1/assessments/2026", office).await, 200).await;
    assert_eq!(a["thresholds"], json!([90.0, 75.0, 60.0]));
    let unit = |a: &Value, code: &str| {
        a["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit"]["code"] == code)
            .unwrap()
            .clone()
    };
    let d01 = unit(&a, "D01");
    assert_eq!(
        (
            d01["rank"].as_i64(),
            d01["grade"].as_str(),
            d01["grade_name"].as_str()
        ),
        (Some(1), Some("excellent"), Some("优秀"))
    );
    assert_eq!(d01["deductions"], json!([]));
    let t02 = unit(&a, "T02");
    assert_eq!(t02["grade_name"], "不合格");
    let kinds: Vec<&str> = t02["deductions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"overdue")
            && kinds.contains(&"supervision_order")
            && kinds.contains(&"late"),
        "{kinds:?}"
    );
    assert!(t02["overdue_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "C2"));
    let t01 = unit(&a, "T01");
    let before = t01["score"].as_f64().unwrap();
    // Confirming the bulletin's criticism of 城关镇 costs it points.
    let proposals = expect_json(
        app.get(
            &format!(
                "/api/v1/accountability?unit_id={}&status=proposed&level=public_criticism",
                e.c.unit_a
            ),
            office,
        )
        .await,
        200,
    )
    .await;
    let record = proposals["items"][0]["id"].as_i64().unwrap();
    expect_json(
        app.post(
            &format!("/api/v1/accountability/{record}/confirm"),
            office,
            json!({}),
        )
        .await,
        200,
    )
    .await;
    let a = expect_json(app.get("/api/v1/assessments/2026", office).await, 200).await;
    let t01 = unit(&a, "T01");
    assert_eq!(t01["score"].as_f64().unwrap(), before - 5.0);
    let penalty = t01["deductions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "accountability")
        .unwrap();
    assert_eq!(penalty["record_id"], record);
    assert_eq!(penalty["points"], 5.0);
    assert!(a["not_assessed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["code"] == "P01"));
    // Exported like a bulletin.
    let res = app
        .get("/api/v1/assessments/2026?format=xlsx", office)
        .await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    use calamine::Reader;
    let book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["考核结果", "扣分明细"]);
    let html = app
        .get("/api/v1/assessments/2026?format=html", office)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("2026年度目标责任考核结果") && html.contains("优秀"));
    expect_problem(
        app.get("/api/v1/assessments/20x6", office).await,
        422,
        "validation_failed",
    )
    .await;
    expect_problem(
        app.get("/api/v1/assessments/2026", &e.c.clerk_a).await,
        403,
        "forbidden",
    )
    .await;
}

async fn the_command_line_generates_and_publishes_a_bulletin(app: TestApp) {
    let e = example(&app).await;
    let out_dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let out = output(
            duban()
                .args(["bulletin", "generate", "--period", "2026-10", "--out"])
                .arg(out_dir.path())
                .args(extra)
                .env("DATABASE_URL", &app.database.url)
                .env("DUBAN_DATA_DIR", app.data_dir.path()),
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run(&[]);
    assert!(
        first.contains("draft") && first.contains("criticised: 城关镇、东城镇"),
        "{first}"
    );
    let html = std::fs::read_to_string(out_dir.path().join("督查通报-草稿-2026-10.html")).unwrap();
    assert!(html.contains("关于2026年10月重点工作任务落实情况的督查通报"));
    for ext in ["md", "csv", "xlsx", "json"] {
        assert!(
            out_dir
                .path()
                .join(format!("督查通报-草稿-2026-10.{ext}"))
                .exists(),
            "{ext}"
        );
    }
    let published = run(&["--publish"]);
    let label = format!("{}年第1期", this_year());
    assert!(
        published.contains(&format!("published {label}")),
        "{published}"
    );
    assert!(out_dir
        .path()
        .join(format!("督查通报-{label}.xlsx"))
        .exists());
    let list = expect_json(app.get("/api/v1/bulletins", &e.c.office).await, 200).await;
    assert_eq!(list["total"], 1, "the draft was published, not duplicated");
    let bad = output(
        duban()
            .args(["bulletin", "generate", "--period", "2026-13"])
            .env("DATABASE_URL", &app.database.url)
            .env("DUBAN_DATA_DIR", app.data_dir.path()),
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--period"));
}
