//! Indicators (catalogue, values, the ladder and rankings for unreported
//! values), the work calendar with its iCalendar feeds, and `duban demo`.

use chrono::{Duration, NaiveDate};
use duban::domain::indicator::{owed_periods, Frequency};
use icalendar::Component;
use serde_json::{json, Value};

use crate::api_tests;
use crate::city::{self, local_day, City};
use crate::helpers::processes::output;
use crate::helpers::{duban, expect_json, expect_problem, problem_fields, TestApp};
use crate::notices::Outbox;
use crate::smtp::SmtpServer;

api_tests![
    the_catalogue_template_imports_and_round_trips_through_csv_and_xlsx,
    values_are_judged_against_their_targets_and_verified_by_the_office,
    an_unreported_value_climbs_the_ladder_and_lowers_the_rank,
    a_digest_unit_finds_its_overdue_reports_in_its_digest,
    the_calendar_feed_shows_only_what_its_owner_may_see,
    the_demo_city_is_consistent_and_loaded_only_once,
    the_demo_city_is_the_same_for_the_same_seed,
];

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

fn today() -> NaiveDate {
    local_day(0).parse().unwrap()
}

async fn upload_table(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    app.client
        .post(app.url("/api/v1/indicators/import"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The catalogue without what changes on every write.
fn comparable(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let mut i = i.clone();
            for key in [
                "id",
                "version",
                "created_at",
                "updated_at",
                "reporting_from",
            ] {
                i.as_object_mut().unwrap().remove(key);
            }
            i
        })
        .collect()
}

async fn the_catalogue_template_imports_and_round_trips_through_csv_and_xlsx(app: TestApp) {
    let c = city::build(&app).await;
    let template = std::fs::read("docs/indicators-template.csv").unwrap();
    expect_problem(
        upload_table(&app, &c.clerk_a, "t.csv", template.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let report = expect_json(
        upload_table(&app, &c.office, "指标模板.csv", template).await,
        201,
    )
    .await;
    assert_eq!(
        (report["created"].as_i64(), report["updated"].as_i64()),
        (Some(40), Some(0))
    );
    let list = expect_json(app.get("/api/v1/indicators", &c.office).await, 200).await;
    let first = &list[0];
    assert_eq!(first["domain"], "生态制度");
    assert_eq!(first["name"], "生态文明建设规划");
    assert_eq!(first["comparison"], "qualitative");
    assert_eq!(
        first["checked"], "已核对",
        "the template says what was checked"
    );
    let share = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == "3")
        .unwrap();
    assert_eq!(
        (share["comparison"].as_str(), share["target_value"].as_f64()),
        (Some("ge"), Some(20.0))
    );
    let domains: std::collections::BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["domain"].as_str().unwrap())
        .collect();
    assert_eq!(domains.len(), 6);

    // Give one a lead unit, then export and import again: nothing changes.
    let water = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == "27")
        .unwrap()
        .clone();
    expect_json(
        app.patch(
            &format!("/api/v1/indicators/{}", id(&water)),
            &c.office,
            json!({ "version": water["version"], "lead_unit_id": c.unit_b, "cooperating_unit_ids": [c.unit_a], "frequency": "monthly" }),
        )
        .await,
        200,
    )
    .await;
    let before = expect_json(app.get("/api/v1/indicators", &c.office).await, 200).await;
    for format in ["csv", "xlsx"] {
        let res = app
            .get(
                &format!("/api/v1/indicators/export?format={format}"),
                &c.office,
            )
            .await;
        assert_eq!(res.status(), 200);
        let bytes = res.bytes().await.unwrap().to_vec();
        if format == "csv" {
            assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
            assert!(String::from_utf8_lossy(&bytes).contains("市生态环境局,城关镇,每月"));
        }
        let again = expect_json(
            upload_table(&app, &c.office, &format!("catalogue.{format}"), bytes).await,
            201,
        )
        .await;
        assert_eq!(
            (again["created"].as_i64(), again["updated"].as_i64()),
            (Some(0), Some(40)),
            "{format}"
        );
        let after = expect_json(app.get("/api/v1/indicators", &c.office).await, 200).await;
        assert_eq!(
            comparable(&after),
            comparable(&before),
            "{format} round trip"
        );
    }

    // A bad table is refused as a whole, naming each bad cell.
    let bad =
        "领域,类别,序号,指标名称,单位,目标值,指标属性,适用范围,牵头单位,配合单位,报送频次\r\n\
               生态制度,,90,新指标,,≥1,约束性,city,,,每年\r\n\
               生态天空,,91,坏指标,,≥1,约束性,city,市不存在局,,每周\r\n";
    let problem = expect_problem(
        upload_table(&app, &c.office, "bad.csv", bad.as_bytes().to_vec()).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&problem), ["I3", "A3", "K3"]);
    let list = expect_json(app.get("/api/v1/indicators", &c.office).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 40, "nothing was written");
    // The clerk of a unit sees only its indicators.
    let mine = expect_json(app.get("/api/v1/indicators", &c.clerk_b).await, 200).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    expect_problem(
        app.get(&format!("/api/v1/indicators/{}", id(&list[0])), &c.clerk_b)
            .await,
        404,
        "not_found",
    )
    .await;
}

async fn indicator(
    app: &TestApp,
    c: &City,
    number: &str,
    target: &str,
    frequency: &str,
    from: &str,
) -> Value {
    expect_json(
        app.post(
            "/api/v1/indicators",
            &c.office,
            json!({ "domain": "生态生活", "number": number, "name": format!("指标{number}"), "measure_unit": "%",
                    "target": target, "lead_unit_id": c.unit_a, "cooperating_unit_ids": [c.unit_b],
                    "frequency": frequency, "report_day": 10, "reporting_from": from }),
        )
        .await,
        201,
    )
    .await
}

async fn values_are_judged_against_their_targets_and_verified_by_the_office(app: TestApp) {
    let c = city::build(&app).await;
    let from = local_day(-40);
    let yearly = |n| (n, "yearly");
    let this_year = today().format("%Y").to_string();
    let mut cases = Vec::new();
    for ((number, frequency), target, value, qualitative, expected) in [
        (yearly("1"), "≥80", Some(80.0), None, "met"),
        (yearly("2"), "≥80", Some(79.5), None, "not_met"),
        (yearly("3"), "≤0.5", Some(0.4), None, "met"),
        (yearly("4"), "≤0.5", Some(0.6), None, "not_met"),
        (yearly("5"), "100", Some(100.0), None, "met"),
        (yearly("6"), "100%", Some(98.0), None, "not_met"),
        (yearly("7"), "制定实施", None, Some("met"), "met"),
        (yearly("8"), "全面实施", None, Some("not_met"), "not_met"),
        (yearly("9"), "", Some(3.0), None, "no_target"),
    ] {
        let i = indicator(&app, &c, number, target, frequency, &from).await;
        let v = expect_json(
            app.post(
                &format!("/api/v1/indicators/{}/values", id(&i)),
                &c.clerk_a,
                json!({ "period": this_year, "value": value, "qualitative": qualitative, "note": "据统计年报" }),
            )
            .await,
            201,
        )
        .await;
        assert_eq!(
            v["attainment"], expected,
            "target {target:?} value {value:?} {qualitative:?}"
        );
        assert_eq!(v["status"], "submitted");
        cases.push((i, v));
    }
    let (i, v) = cases[0].clone();
    let values = format!("/api/v1/indicators/{}/values", id(&i));
    // Wrong period shape, missing number, the wrong units.
    let p = expect_problem(
        app.post(
            &values,
            &c.clerk_a,
            json!({ "period": "2026-11", "value": 1 }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["period"]);
    let p = expect_problem(
        app.post(&values, &c.clerk_a, json!({ "period": this_year }))
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["value"]);
    expect_problem(
        app.post(
            &values,
            &c.clerk_b,
            json!({ "period": this_year, "value": 1 }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        app.post(
            &values,
            &c.clerk_c,
            json!({ "period": this_year, "value": 1 }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    expect_problem(
        app.post(
            &values,
            &c.office,
            json!({ "period": this_year, "value": 1 }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // Evidence on the value; the cooperating unit reads it, others do not.
    let part = reqwest::multipart::Part::bytes(b"%PDF-1.4 data".to_vec())
        .file_name("统计年报.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let res = app
        .client
        .post(app.url(&format!("{values}/{}/attachments", id(&v))))
        .bearer_auth(&c.clerk_a)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    let file = expect_json(res, 201).await;
    assert!(
        file["created_at"].as_str().unwrap().ends_with('Z'),
        "an instant in UTC: {file}"
    );
    let path = format!("{values}/{}/attachments/{}", id(&v), id(&file));
    let got = app.get(&path, &c.clerk_b).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"%PDF-1.4 data");
    expect_problem(app.get(&path, &c.clerk_c).await, 404, "not_found").await;
    // Returning needs a reason; the unit corrects and resubmits; verified is final.
    // A value is decided through its own indicator only.
    let elsewhere = format!(
        "/api/v1/indicators/{}/values/{}/verify",
        id(&cases[1].0),
        id(&v)
    );
    expect_problem(
        app.post(&elsewhere, &c.office, json!({})).await,
        404,
        "not_found",
    )
    .await;
    let decide = |what: &str| format!("{values}/{}/{what}", id(&v));
    let p = expect_problem(
        app.post(&decide("return"), &c.office, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["note"]);
    expect_problem(
        app.post(&decide("verify"), &c.clerk_a, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let returned = expect_json(
        app.post(&decide("return"), &c.office, json!({ "note": "口径不对" }))
            .await,
        200,
    )
    .await;
    assert_eq!(returned["status"], "returned");
    let again = expect_json(
        app.post(
            &values,
            &c.clerk_a,
            json!({ "period": this_year, "value": 85.0 }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (again["id"].clone(), again["status"].as_str()),
        (v["id"].clone(), Some("submitted"))
    );
    let verified = expect_json(app.post(&decide("verify"), &c.office, json!({})).await, 200).await;
    assert_eq!(verified["status"], "verified");
    expect_problem(
        app.post(
            &values,
            &c.clerk_a,
            json!({ "period": this_year, "value": 90.0 }),
        )
        .await,
        409,
        "value_verified",
    )
    .await;
    expect_problem(
        app.post(&decide("verify"), &c.office, json!({})).await,
        409,
        "value_not_submitted",
    )
    .await;
    // The dashboard: by domain, the latest value and whether it is met.
    let board = expect_json(
        app.get("/api/v1/indicators/dashboard", &c.office).await,
        200,
    )
    .await;
    let life = board
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["domain"] == "生态生活")
        .unwrap();
    assert_eq!(
        (life["met"].as_i64(), life["not_met"].as_i64()),
        (Some(4), Some(4))
    );
    let first = life["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["indicator"]["number"] == "1")
        .unwrap();
    assert_eq!(first["latest"]["value"], 85.0);
    // An indicator task takes the indicator's units in one step.
    let task = expect_json(
        app.post(
            &format!("/api/v1/indicators/{}/tasks", id(&i)),
            &c.office,
            json!({ "plan_id": c.plan_id, "code": "ZB-1", "due_date": local_day(30) }),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(
        (task["lead_unit_id"].as_i64(), task["category"].as_str()),
        (Some(c.unit_a), Some("indicator"))
    );
    assert_eq!(task["cooperating_unit_ids"], json!([c.unit_b]));
    assert_eq!(task["title"], "指标1");
}

async fn an_unreported_value_climbs_the_ladder_and_lowers_the_rank(app: TestApp) {
    let c = city::build(&app).await;
    let from = today() - Duration::days(100);
    let i = indicator(&app, &c, "29", "≥95", "monthly", &from.to_string()).await;
    let values = format!("/api/v1/indicators/{}/values", id(&i));
    // Units A and C each finish one task on time: equal, until A's reports count.
    for (code, unit, clerk) in [("T1", c.unit_a, &c.clerk_a), ("T2", c.unit_c, &c.clerk_c)] {
        let task = expect_json(
            app.post("/api/v1/tasks", &c.office, json!({ "plan_id": c.plan_id, "code": code, "title": "同样的任务", "lead_unit_id": unit, "due_date": local_day(2) })).await,
            201,
        )
        .await;
        c.ok(&app, &c.office, &task, "assign", None).await;
        c.ok(&app, clerk, &task, "accept", None).await;
        c.ok(&app, clerk, &task, "submit", Some("完成")).await;
    }
    // Reports due before today and not in: at least two, the oldest 59+ days late.
    let overdue: Vec<_> = owed_periods(Frequency::Monthly, 10, from, today())
        .into_iter()
        .filter(|(_, due)| *due < today())
        .collect();
    assert!(overdue.len() >= 2);
    let (oldest, oldest_due) = overdue[0];
    let (second, _) = overdue[1];

    let smtp = SmtpServer::start();
    let outbox = Outbox::new(&app, &smtp.url());
    let counts = outbox.scan(today());
    assert_eq!(
        outbox.scan(today()).created,
        0,
        "a second scan writes nothing new"
    );
    let notices = expect_json(
        app.get("/api/v1/notices?per_page=200", &c.office).await,
        200,
    )
    .await;
    let about = |period: &str| -> Vec<Value> {
        notices["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["indicator_id"] == id(&i) && n["period"] == period)
            .cloned()
            .collect()
    };
    let steps: Vec<String> = about(&oldest.label())
        .iter()
        .filter(|n| n["channel"] == "email")
        .map(|n| n["step"].as_str().unwrap().to_string())
        .collect();
    assert!(
        steps.contains(&"chase_1".to_string())
            && steps.contains(&"supervise_7".to_string())
            && steps.contains(&"accountability_15".to_string()),
        "{steps:?} of {counts:?}"
    );
    let proposals = expect_json(
        app.get(
            &format!("/api/v1/accountability?unit_id={}", c.unit_a),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        proposals["total"].as_i64(),
        Some(
            overdue
                .iter()
                .filter(|(_, d)| (today() - *d).num_days() >= 15)
                .count() as i64
        )
    );

    // The oldest report comes in (late) before the mail goes out: its notices
    // are cancelled at delivery; the others are sent.
    expect_json(
        app.post(
            &values,
            &c.clerk_a,
            json!({ "period": oldest.label(), "value": 96.0 }),
        )
        .await,
        201,
    )
    .await;
    outbox.deliver();
    let mail = smtp.received();
    let subjects: Vec<String> = mail.iter().map(|m| m.subject()).collect();
    assert!(
        !subjects
            .iter()
            .any(|s| s.contains(&format!("{}数据报送", oldest.label_zh()))),
        "{subjects:?}"
    );
    let chase = mail
        .iter()
        .find(|m| {
            m.subject().contains("催办")
                && m.subject()
                    .contains(&format!("{}数据报送", second.label_zh()))
        })
        .unwrap_or_else(|| panic!("no chase for {}: {subjects:?}", second.label()));
    assert!(
        chase.to.contains(&"t01@example.gov.cn".to_string()),
        "the lead unit is chased"
    );
    assert!(
        chase.to.contains(&"d01@example.gov.cn".to_string()),
        "the cooperating unit is copied"
    );
    assert!(chase.text().contains("指标29"));
    let notices = expect_json(
        app.get("/api/v1/notices?per_page=200", &c.office).await,
        200,
    )
    .await;
    let oldest_status: Vec<&str> = notices["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| {
            n["indicator_id"] == id(&i) && n["period"] == oldest.label() && n["channel"] == "email"
        })
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    // Cancelled at delivery; (steps with nobody to address were dead from the start).
    assert!(
        oldest_status.contains(&"cancelled") && !oldest_status.contains(&"sent"),
        "{oldest_status:?}"
    );

    // The next bulletin ranks A below C, naming A's overdue reports.
    let period = format!("{}..{}", oldest_due - Duration::days(1), local_day(10));
    let b = expect_json(
        app.post("/api/v1/bulletins", &c.office, json!({ "period": period }))
            .await,
        201,
    )
    .await;
    let ranking = &b["snapshot"]["ranking"];
    let order: Vec<&str> = ranking["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["unit"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["T02", "T01"]);
    let named: Vec<&Value> = ranking["overdue_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["indicator_id"] == id(&i))
        .collect();
    assert_eq!(named.len(), overdue.len() - 1);
    assert_eq!(named[0]["code"], "指标29");
    assert_eq!(named[0]["task_id"], Value::Null);
    let title = named[0]["title"].as_str().unwrap();
    assert!(title.ends_with("数据报送）"), "{title}");
    assert_eq!(named[0]["unit_name"], "城关镇", "{}", named[0]);
    // All reported (late): nothing overdue, every report counted late.
    for (p, _) in &overdue[1..] {
        expect_json(
            app.post(
                &values,
                &c.clerk_a,
                json!({ "period": p.label(), "value": 96.0 }),
            )
            .await,
            201,
        )
        .await;
    }
    let r = expect_json(
        app.get(&format!("/api/v1/rankings?period={period}"), &c.office)
            .await,
        200,
    )
    .await;
    let a = r["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["unit"]["code"] == "T01")
        .unwrap();
    assert_eq!(a["figures"]["overdue"], 0);
    assert_eq!(
        a["figures"]["completed_late"].as_u64(),
        Some(overdue.len() as u64)
    );
}

async fn a_digest_unit_finds_its_overdue_reports_in_its_digest(app: TestApp) {
    let c = city::build(&app).await;
    let res = app
        .patch(
            &format!("/api/v1/units/{}", c.unit_a),
            &c.admin,
            json!({ "version": 1, "notice_mode": "digest" }),
        )
        .await;
    expect_json(res, 200).await;
    let from = today() - Duration::days(45);
    indicator(&app, &c, "31", "≥15", "monthly", &from.to_string()).await;
    let smtp = SmtpServer::start();
    let outbox = Outbox::new(&app, &smtp.url());
    outbox.scan(today());
    outbox.deliver();
    let mail = smtp.received();
    let to_a = |m: &&crate::smtp::Received| m.to.contains(&"t01@example.gov.cn".to_string());
    let digest = mail
        .iter()
        .filter(to_a)
        .find(|m| m.subject().contains("督办日报"))
        .unwrap_or_else(|| panic!("{:?}", mail.iter().map(|m| m.subject()).collect::<Vec<_>>()));
    assert!(digest.text().contains("指标31"), "{}", digest.text());
    assert!(
        !mail
            .iter()
            .filter(to_a)
            .any(|m| m.subject().contains("催办")),
        "no separate chase for a digest unit"
    );
    assert!(
        mail.iter()
            .any(|m| m.subject().contains("催办")
                && m.to.contains(&"d01@example.gov.cn".to_string())),
        "the cooperating unit, not on the digest, is chased by itself"
    );
}

async fn the_calendar_feed_shows_only_what_its_owner_may_see(app: TestApp) {
    let c = city::build(&app).await;
    let mine = c.in_progress(&app, "A-1", 5).await; // unit A leads, B cooperates
    let theirs = expect_json(
        app.post("/api/v1/tasks", &c.office, json!({ "plan_id": c.plan_id, "code": "C-1", "title": "东城镇的任务", "lead_unit_id": c.unit_c, "due_date": local_day(6) })).await,
        201,
    )
    .await;
    c.ok(&app, &c.office, &theirs, "assign", None).await;
    let i = indicator(&app, &c, "40", "≥80", "quarterly", &today().to_string()).await;

    let events = expect_json(app.get("/api/v1/calendar", &c.clerk_a).await, 200).await;
    let uids: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap())
        .collect();
    assert!(
        uids.contains(&format!("task-{}@duban", id(&mine)).as_str()),
        "{uids:?}"
    );
    assert!(
        !uids
            .iter()
            .any(|u| u.starts_with(&format!("task-{}@", id(&theirs)))),
        "another unit's task"
    );
    let office = expect_json(
        app.get(
            &format!("/api/v1/calendar?to={}", local_day(200)),
            &c.office,
        )
        .await,
        200,
    )
    .await;
    let kinds: std::collections::BTreeSet<&str> = office
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("task_due")
            && kinds.contains("indicator_report")
            && kinds.contains("bulletin_draft"),
        "{kinds:?}"
    );
    let due = office
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["task_id"] == mine["id"])
        .expect("the task's deadline");
    assert_eq!(
        due["description"], "牵头单位：城关镇；状态：办理中",
        "the status in Chinese"
    );
    let p = expect_problem(
        app.get(
            &format!(
                "/api/v1/calendar?from={}&to={}",
                local_day(0),
                local_day(-1)
            ),
            &c.office,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["to"]);

    // A personal feed for a calendar app: no bearer token needed.
    let feed = expect_json(
        app.post(
            "/api/v1/calendar/feeds",
            &c.clerk_a,
            json!({ "name": "城关镇督办" }),
        )
        .await,
        201,
    )
    .await;
    let url = feed["url"].as_str().unwrap().to_string();
    let path = url
        .split_once("/api/v1/")
        .map(|(_, p)| format!("/api/v1/{p}"))
        .unwrap();
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    let unfolded = icalendar::parser::unfold(&text);
    let parsed = icalendar::parser::read_calendar(&unfolded).unwrap();
    let calendar: icalendar::Calendar = parsed.into();
    let got: Vec<(String, String, String)> = calendar
        .events()
        .map(|e| {
            (
                e.get_uid().unwrap_or_default().to_string(),
                e.get_summary().unwrap_or_default().to_string(),
                format!("{:?}", e.get_start()),
            )
        })
        .collect();
    let task_event = got
        .iter()
        .find(|(uid, _, _)| uid.starts_with(&format!("task-{}@", id(&mine))))
        .expect("the own task");
    assert!(
        task_event.1.contains("A-1") && task_event.1.contains("任务 A-1"),
        "{task_event:?}"
    );
    assert!(
        task_event.2.contains(&local_day(5).replace('-', ""))
            || task_event.2.contains(&local_day(5)),
        "{task_event:?}"
    );
    assert!(
        got.iter()
            .any(|(uid, _, _)| uid.starts_with(&format!("indicator-{}-", id(&i)))),
        "the unit's indicator report"
    );
    assert!(
        !got.iter()
            .any(|(uid, _, _)| uid.starts_with(&format!("task-{}@", id(&theirs)))),
        "nothing of another unit"
    );
    assert!(text.contains("X-WR-CALNAME:城关镇督办"));
    // An all-day event ends the next day (DTEND is exclusive, RFC 5545).
    let due: NaiveDate = local_day(5).parse().unwrap();
    let task_block = text
        .split("BEGIN:VEVENT")
        .find(|block| block.contains(&format!("UID:task-{}@duban", id(&mine))))
        .expect("the task's event");
    assert!(
        task_block.contains(&format!("DTSTART;VALUE=DATE:{}", due.format("%Y%m%d")))
            && task_block.contains(&format!(
                "DTEND;VALUE=DATE:{}",
                (due + Duration::days(1)).format("%Y%m%d")
            )),
        "{task_block}"
    );

    // Listing shows no address; another user cannot revoke it; the owner can.
    let list = expect_json(app.get("/api/v1/calendar/feeds", &c.clerk_a).await, 200).await;
    assert_eq!(list[0]["url"], Value::Null);
    assert!(
        list[0]["created_at"].as_str().unwrap().ends_with('Z'),
        "an instant in UTC: {list}"
    );
    let revoke = format!("/api/v1/calendar/feeds/{}", id(&feed));
    let res = app
        .request(reqwest::Method::DELETE, &revoke, Some(&c.clerk_c), None)
        .await;
    expect_problem(res, 404, "not_found").await;
    let res = app
        .request(reqwest::Method::DELETE, &revoke, Some(&c.clerk_a), None)
        .await;
    assert_eq!(res.status(), 204);
    let res = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 404, "a revoked feed is refused");
    let res = app
        .client
        .get(app.url("/api/v1/calendar/feeds/00ff.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

async fn the_demo_city_is_consistent_and_loaded_only_once(app: TestApp) {
    let run = || {
        output(
            duban()
                .args(["demo", "--seed", "7"])
                .env("DATABASE_URL", &app.database.url)
                .env("DUBAN_DATA_DIR", app.data_dir.path()),
        )
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("demo city loaded"), "{stdout}");
    let accounts = std::fs::read_to_string(app.data_dir.path().join("demo-accounts.txt")).unwrap();
    let password = |user: &str| {
        accounts
            .lines()
            .find(|l| l.starts_with(&format!("{user}\t")))
            .and_then(|l| l.split('\t').nth(3))
            .unwrap()
            .to_string()
    };
    let office = app.login("office", &password("office")).await;
    let clerk = app.login("clerk-t01", &password("clerk-t01")).await;
    let units = expect_json(app.get("/api/v1/units?per_page=200", &office).await, 200).await;
    assert_eq!(
        units["total"], 30,
        "office, 12 townships, the zone, 16 departments"
    );
    let bulletins = expect_json(app.get("/api/v1/bulletins", &clerk).await, 200).await;
    assert_eq!(bulletins["total"], 2, "two published bulletins");
    // Each bulletin is what the data say: the live ranking of its period matches.
    for b in bulletins["items"].as_array().unwrap() {
        let full = expect_json(
            app.get(&format!("/api/v1/bulletins/{}", id(b)), &office)
                .await,
            200,
        )
        .await;
        let frozen = &full["snapshot"]["ranking"];
        let live = expect_json(
            app.get(
                &format!("/api/v1/rankings?period={}", b["period"].as_str().unwrap()),
                &office,
            )
            .await,
            200,
        )
        .await;
        for key in ["ranked", "unranked", "totals", "overdue_tasks", "judged_on"] {
            assert_eq!(live[key], frozen[key], "{} {key}", b["period"]);
        }
    }
    let ranking = expect_json(
        app.get(
            &format!(
                "/api/v1/rankings?period={}",
                bulletins["items"][0]["period"].as_str().unwrap()
            ),
            &office,
        )
        .await,
        200,
    )
    .await;
    let scores: Vec<f64> = ranking["ranked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_f64().unwrap())
        .collect();
    assert!(scores.first() > scores.last(), "units differ: {scores:?}");
    let tasks = expect_json(
        app.get("/api/v1/tasks?overdue=true&per_page=200", &office)
            .await,
        200,
    )
    .await;
    assert!(tasks["total"].as_i64().unwrap() > 0, "some work is overdue");
    let board = expect_json(app.get("/api/v1/indicators/dashboard", &office).await, 200).await;
    assert_eq!(
        board
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["indicators"].as_array().unwrap().len())
            .sum::<usize>(),
        40
    );
    // A second run refuses: the database holds data.
    let again = run();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));
    let units = expect_json(app.get("/api/v1/units?per_page=200", &office).await, 200).await;
    assert_eq!(units["total"], 30, "nothing added");
}

async fn the_demo_city_is_the_same_for_the_same_seed(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::{notices, tasks};
    type Line = (String, Option<NaiveDate>, String, Option<NaiveDate>, i64);
    let build = |url: String, seed: u64| {
        let settings = duban::config::Settings {
            database_url: Some(url.clone()),
            ..app.settings.clone()
        };
        std::thread::spawn(move || -> (Vec<Line>, i64) {
            let pool = duban::startup::open_database(&settings).unwrap();
            let mut conn = pool.get().unwrap();
            let options = duban::demo::DemoOptions {
                scale: 2,
                seed,
                today: "2026-11-20".parse().unwrap(),
            };
            // Passwords are not what this test is about: a stand-in hash.
            duban::demo::load(&mut conn, &settings, options, &|_| Ok("x".into())).unwrap();
            let lines: Vec<Line> = tasks::table
                .select((
                    tasks::code,
                    tasks::due_date,
                    tasks::status,
                    tasks::submitted_on,
                    tasks::lead_unit_id,
                ))
                .order(tasks::code)
                .load(&mut conn)
                .unwrap();
            let n: i64 = notices::table.count().get_result(&mut conn).unwrap();
            (lines, n)
        })
        .join()
        .unwrap()
    };
    let other = crate::helpers::FreshDatabase::new(app.backend);
    let third = crate::helpers::FreshDatabase::new(app.backend);
    let (a, na) = build(app.database.url.clone(), 11);
    let (b, nb) = build(other.url.clone(), 11);
    assert_eq!(
        a.len(),
        2 * 20 + 2 * 12 * 4 + 2 * 2 + a.iter().filter(|l| l.0.starts_with("ZG-")).count()
    );
    assert_eq!(
        (a.clone(), na),
        (b, nb),
        "the same seed and day give the same city"
    );
    let (c, _) = build(third.url.clone(), 12);
    assert_ne!(a, c, "another seed gives another city");
}
