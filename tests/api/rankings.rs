//! The ranking of a closed period is kept between requests
//! (`rankings::cache`) and is never stale: whatever it reads changes, the
//! next read shows it; a running period is computed every time. Built on the
//! worked example of `docs/scoring.md` (October 2026, closed).

use chrono::{NaiveDate, NaiveDateTime};
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::api_tests;
use crate::bulletins::{draft, example, publish};
use crate::city::{self, local_day};
use crate::helpers::{expect_json, expect_problem, TestApp};

api_tests![
    a_closed_periods_ranking_is_kept_until_what_it_reads_changes,
    a_running_period_is_computed_every_time,
    instances_sharing_a_database_see_each_others_writes_with_their_own_policy,
    reads_racing_a_rename_never_outlive_it,
    a_ranking_larger_than_a_slice_arrives_whole,
    the_ranking_lists_the_most_overdue_and_pages_through_all,
    a_notice_the_deliverer_cancels_shows_at_the_next_read,
];

const OCTOBER: &str = "/api/v1/rankings?period=2026-10";

/// A ranking read: its JSON, its body as sent, and where it came from.
struct Read {
    json: Value,
    body: String,
    source: String,
}

async fn read_at(app: &TestApp, base: &str, path: &str, token: &str) -> Read {
    let res = app
        .client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let source = res.headers()["x-ranking-source"]
        .to_str()
        .unwrap()
        .to_string();
    let body = res.text().await.unwrap();
    Read {
        json: serde_json::from_str(&body).unwrap(),
        body,
        source,
    }
}

async fn read(app: &TestApp, path: &str, token: &str) -> Read {
    read_at(app, &app.address, path, token).await
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

/// The ladder's notices a unit received in the period, all steps together.
fn ladder_notices(ranking: &Value, code: &str) -> i64 {
    let f = &row(ranking, code)["figures"];
    [
        "reminders",
        "chases",
        "supervision_orders",
        "accountability_notices",
    ]
    .iter()
    .map(|k| f[*k].as_i64().unwrap())
    .sum()
}

async fn rename(app: &TestApp, base: &str, admin: &str, unit: i64, name: &str) {
    let path = format!("/api/v1/units/{unit}");
    let unit = expect_json(app.get(&path, admin).await, 200).await;
    let res = app
        .client
        .patch(format!("{base}{path}"))
        .bearer_auth(admin)
        .json(&json!({ "version": unit["version"], "name": name }))
        .send()
        .await
        .unwrap();
    expect_json(res, 200).await;
}

/// `notice_days` agrees with the notices themselves: every notice written
/// and every cancellation was counted on its creation day.
fn assert_days_agree(app: &TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::{notice_days, notices};
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let notices: Vec<(chrono::NaiveDateTime, String)> = notices::table
        .select((notices::created_at, notices::status))
        .load(&mut conn)
        .unwrap();
    let mut expected: std::collections::BTreeMap<NaiveDate, (i64, i64)> = Default::default();
    for (at, status) in notices {
        let day = expected.entry(at.date()).or_default();
        day.0 += 1;
        day.1 += i64::from(status == "cancelled");
    }
    let kept: std::collections::BTreeMap<NaiveDate, (i64, i64)> = notice_days::table
        .select((
            notice_days::day,
            (notice_days::created, notice_days::cancelled),
        ))
        .load(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(kept, expected);
}

async fn a_closed_periods_ranking_is_kept_until_what_it_reads_changes(app: TestApp) {
    let e = example(&app).await;
    let office = &e.c.office;
    let first = read(&app, OCTOBER, office).await;
    assert_eq!(first.source, "computed");
    assert_eq!(first.json["running"], false);
    let again = read(&app, OCTOBER, office).await;
    assert_eq!(again.source, "cache");
    assert_eq!(again.body, first.body, "served twice, the same ranking");
    // Kept or not, who may read it is checked on every request.
    expect_problem(app.get(OCTOBER, &e.c.clerk_a).await, 403, "forbidden").await;
    assert_eq!(read(&app, OCTOBER, &e.c.leader).await.body, first.body);

    // A unit renamed: its row and its overdue task say the new name.
    rename(&app, &app.address, &e.c.admin, e.c.unit_c, "东城街道").await;
    let renamed = read(&app, OCTOBER, office).await;
    assert_eq!(renamed.source, "computed");
    assert_eq!(row(&renamed.json, "T02")["unit"]["name"], "东城街道");
    assert_eq!(renamed.json["overdue_tasks"][0]["unit_name"], "东城街道");
    assert_eq!(read(&app, OCTOBER, office).await.source, "cache");

    // A task done in September and due in October reopened: overdue as of
    // 1 November after all.
    let a1 = json!({ "id": e.tasks["A1"] });
    e.c.ok(&app, office, &a1, "reopen", Some("核验发现问题"))
        .await;
    let reopened = read(&app, OCTOBER, office).await;
    assert_eq!(reopened.source, "computed");
    let t01 = &row(&reopened.json, "T01")["figures"];
    assert_eq!(
        (t01["overdue"].as_i64(), t01["completed_on_time"].as_i64()),
        (Some(2), Some(2))
    );
    assert!(reopened.json["overdue_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["code"] == "A1"));

    // The daily scan of 16 October run again (the only write here without an
    // audit entry): the reopened A1 gets its ladder notice in October.
    let before = ladder_notices(&reopened.json, "T01");
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let day: NaiveDate = "2026-10-16".parse().unwrap();
    let at = NaiveDateTime::parse_from_str("2026-10-16 02:00", "%Y-%m-%d %H:%M").unwrap();
    duban::notices::scan::scan(&mut conn, &app.settings, day, at).unwrap();
    let scanned = read(&app, OCTOBER, office).await;
    assert_eq!(scanned.source, "computed");
    assert!(
        ladder_notices(&scanned.json, "T01") > before,
        "{}",
        row(&scanned.json, "T01")
    );

    // September's bulletin published: October's ranks now move against it.
    assert_eq!(scanned.json["previous_bulletin"], Value::Null);
    let september = draft(&app, office, "2026-09").await;
    publish(&app, office, &september).await;
    let compared = read(&app, OCTOBER, office).await;
    assert_eq!(compared.source, "computed");
    assert_eq!(compared.json["previous_bulletin"]["period"], "2026-09");
    let again = read(&app, OCTOBER, office).await;
    assert_eq!(
        (again.source.as_str(), &again.body),
        ("cache", &compared.body)
    );
    // The scans' notices and the bulletin's emails were all counted.
    assert_days_agree(&app);
}

async fn a_running_period_is_computed_every_time(app: TestApp) {
    let c = city::build(&app).await;
    let running = format!(
        "/api/v1/rankings?period={}..{}",
        local_day(-5),
        local_day(10)
    );
    let first = read(&app, &running, &c.office).await;
    assert_eq!(first.json["running"], true);
    assert_eq!(first.source, "computed");
    assert_eq!(read(&app, &running, &c.office).await.source, "computed");
    // A period that ended yesterday is closed: kept.
    let closed = format!(
        "/api/v1/rankings?period={}..{}",
        local_day(-5),
        local_day(-1)
    );
    assert_eq!(read(&app, &closed, &c.office).await.source, "computed");
    let kept = read(&app, &closed, &c.office).await;
    assert_eq!(
        (kept.source.as_str(), &kept.json["running"]),
        ("cache", &json!(false))
    );
    // The running one shows a task the moment it is assigned.
    let task = c.task(&app, "L1", 5, json!({})).await;
    c.ok(&app, &c.office, &task, "assign", None).await;
    let after = read(&app, &running, &c.office).await;
    assert_eq!(row(&after.json, "T01")["figures"]["not_yet_due"], 1);
}

/// Two instances on one database, the second with a policy that commends
/// nobody: each answers with its own policy, and a write through either is
/// seen by both.
async fn instances_sharing_a_database_see_each_others_writes_with_their_own_policy(app: TestApp) {
    let e = example(&app).await;
    let office = &e.c.office;
    let mut settings = app.settings.clone();
    settings.bulletin_commend_from = 101.0;
    let second = duban::startup::Application::build(settings).await.unwrap();
    let other = format!("http://{}", second.address());
    let handle = second.handle();
    tokio::spawn(second.run_until_stopped());

    for _ in 0..2 {
        let mine = read(&app, OCTOBER, office).await;
        let theirs = read_at(&app, &other, OCTOBER, office).await;
        assert_eq!(row(&mine.json, "D01")["commended"], true);
        assert_eq!(row(&theirs.json, "D01")["commended"], false);
        assert_eq!(
            row(&mine.json, "D01")["score"],
            row(&theirs.json, "D01")["score"]
        );
    }
    assert_eq!(read(&app, OCTOBER, office).await.source, "cache");
    assert_eq!(read_at(&app, &other, OCTOBER, office).await.source, "cache");

    // Renamed through the second instance: the first sees it too.
    rename(&app, &other, &e.c.admin, e.c.unit_b, "市生态环境局（更名）").await;
    let mine = read(&app, OCTOBER, office).await;
    assert_eq!(mine.source, "computed");
    assert_eq!(
        row(&mine.json, "D01")["unit"]["name"],
        "市生态环境局（更名）"
    );
    handle.stop(false).await;
}

/// Reads racing a rename answer with the old name or the new one; every read
/// started after the rename was acknowledged has the new one.
async fn reads_racing_a_rename_never_outlive_it(app: TestApp) {
    let e = example(&app).await;
    let office = &e.c.office;
    read(&app, OCTOBER, office).await;
    for name in ["东城街道", "东城新区", "东城镇"] {
        let reads = join_all((0..8).map(|_| read(&app, OCTOBER, office)));
        let write = rename(&app, &app.address, &e.c.admin, e.c.unit_c, name);
        let (during, ()) = futures_util::join!(reads, write);
        for r in &during {
            let seen = row(&r.json, "T02")["unit"]["name"].as_str().unwrap();
            assert!(["东城镇", "东城街道", "东城新区"].contains(&seen), "{seen}");
        }
        let after = join_all((0..4).map(|_| read(&app, OCTOBER, office))).await;
        for r in after {
            assert_eq!(row(&r.json, "T02")["unit"]["name"], name);
        }
    }
}

/// A kept ranking is sent in 64 KiB slices of one buffer: one of several
/// slices arrives whole, with its length announced, and the same as computed.
async fn a_ranking_larger_than_a_slice_arrives_whole(app: TestApp) {
    let e = example(&app).await;
    const UNITS: usize = 400;
    for batch in (0..UNITS).collect::<Vec<_>>().chunks(50) {
        join_all(batch.iter().map(|n| {
            let (app, admin) = (&app, &e.c.admin);
            async move {
                let name = format!("第{n}号高新技术产业开发区管理委员会");
                app.create_unit(admin, &format!("Z{n:03}"), &name).await
            }
        }))
        .await;
    }
    let office = &e.c.office;
    let computed = read(&app, OCTOBER, office).await;
    assert_eq!(computed.source, "computed");
    let res = app
        .client
        .get(app.url(OCTOBER))
        .bearer_auth(office)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-ranking-source"], "cache");
    let announced: usize = res.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = res.text().await.unwrap();
    assert!(body.len() > 3 * 64 * 1024, "several slices: {}", body.len());
    assert_eq!(announced, body.len());
    assert_eq!(body, computed.body);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        row(&json, "Z399")["unit"]["name"],
        "第399号高新技术产业开发区管理委员会"
    );

    // A client that accepts gzip gets the same JSON gzipped (compressed
    // once, kept); one that refuses it, or says nothing, the plain body.
    let gzipped = |accept: &'static str| {
        let app = &app;
        async move {
            let res = app
                .client
                .get(app.url(OCTOBER))
                .bearer_auth(office)
                .header("accept-encoding", accept)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            let encoding = res
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            assert_eq!(res.headers()["vary"], "Accept-Encoding");
            (encoding, res.bytes().await.unwrap())
        }
    };
    for _ in 0..2 {
        let (encoding, raw) = gzipped("gzip, deflate, br").await;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert!(
            raw.len() * 4 < body.len(),
            "{} of {}",
            raw.len(),
            body.len()
        );
        let mut plain = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut plain)
            .unwrap();
        assert_eq!(plain, body);
    }
    let (encoding, raw) = gzipped("gzip;q=0, identity").await;
    assert_eq!((encoding, raw.len()), (None, body.len()));
}

/// The ranking lists its 100 most overdue tasks and counts them all; every
/// one of them is paged, in the same order, from the same kept ranking.
async fn the_ranking_lists_the_most_overdue_and_pages_through_all(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::tasks;
    let e = example(&app).await;
    const MORE: usize = 120;
    let mut ids = Vec::new();
    for batch in (0..MORE).collect::<Vec<_>>().chunks(12) {
        let made = join_all(batch.iter().map(|n| {
            let (app, c) = (&app, &e.c);
            async move { c.in_progress(app, &format!("9.{n}"), 30).await }
        }))
        .await;
        ids.extend(made.iter().map(|t| t["id"].as_i64().unwrap()));
    }
    // Due on the 1st to the 30th of October: overdue 1 to 31 days on 1 November.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    for (n, id) in ids.iter().enumerate() {
        let due = NaiveDate::from_ymd_opt(2026, 10, 1 + (n % 30) as u32).unwrap();
        diesel::update(tasks::table.find(id))
            .set(tasks::due_date.eq(due))
            .execute(&mut conn)
            .unwrap();
    }
    let office = &e.c.office;
    let ranking = read(&app, OCTOBER, office).await.json;
    let total = ranking["overdue_total"].as_u64().unwrap() as usize;
    assert!(total > MORE, "the example's and these: {total}");
    let listed = ranking["overdue_tasks"].as_array().unwrap();
    assert_eq!(listed.len(), 100);

    let mut paged: Vec<Value> = Vec::new();
    for page in 1.. {
        let path = format!("/api/v1/rankings/overdue?period=2026-10&page={page}&per_page=40");
        let res = app.get(&path, office).await;
        assert_eq!(res.headers()["x-ranking-source"], "cache", "page {page}");
        let body = expect_json(res, 200).await;
        assert_eq!(body["total"].as_u64(), Some(total as u64));
        let items = body["items"].as_array().unwrap().clone();
        if items.is_empty() {
            break;
        }
        paged.extend(items);
    }
    assert_eq!(paged.len(), total, "every overdue task, once");
    assert_eq!(
        &paged[..100],
        &listed[..],
        "the ranking lists the first of them"
    );
    let days: Vec<i64> = paged
        .iter()
        .map(|t| t["days_overdue"].as_i64().unwrap())
        .collect();
    assert!(
        days.windows(2).all(|w| w[0] >= w[1]),
        "most days overdue first"
    );
    assert!(paged.iter().any(|t| t["code"] == "9.0"));
    // Past the ranking's first hundred too, each with its words: title,
    // unit and responsible leader.
    for t in &paged[100..] {
        for word in ["title", "unit_name", "leader"] {
            assert!(
                t[word].as_str().is_some_and(|w| !w.is_empty()),
                "{word}: {t}"
            );
        }
    }

    // Who reads rankings reads these; bad paging names its field.
    let page = "/api/v1/rankings/overdue?period=2026-10";
    expect_problem(app.get(page, &e.c.clerk_a).await, 403, "forbidden").await;
    let bad = expect_problem(
        app.get(&format!("{page}&per_page=0"), office).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(crate::helpers::problem_fields(&bad), ["per_page"]);
    let bad = expect_problem(
        app.get("/api/v1/rankings/overdue?period=2026-13", office)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(crate::helpers::problem_fields(&bad), ["period"]);
}

/// The deliverer cancels a notice whose reason is gone, without an audit
/// entry: the kept ranking, which counts the ladder's notices that were not
/// cancelled, is computed again at the next read.
async fn a_notice_the_deliverer_cancels_shows_at_the_next_read(app: TestApp) {
    use diesel::prelude::*;
    use duban::db::schema::tasks;
    let e = example(&app).await;
    let office = &e.c.office;
    let before = read(&app, OCTOBER, office).await;
    assert_eq!(read(&app, OCTOBER, office).await.source, "cache");
    let counted = ladder_notices(&before.json, "T02");
    assert!(counted > 0, "C2's notices of 16 October");
    // C2's date moved by hand (a write the cache cannot see): its notices
    // about the old date are owed no more.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    diesel::update(tasks::table.find(e.tasks["C2"]))
        .set(tasks::due_date.eq(NaiveDate::from_ymd_opt(2026, 11, 15).unwrap()))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(read(&app, OCTOBER, office).await.source, "cache");
    let out = crate::notices::Outbox::new(&app, &crate::smtp::closed_port_url());
    assert!(out.deliver().cancelled > 0, "the deliverer cancels them");
    let after = read(&app, OCTOBER, office).await;
    assert_eq!(after.source, "computed");
    assert!(
        ladder_notices(&after.json, "T02") < counted,
        "{}",
        row(&after.json, "T02")
    );
    assert_days_agree(&app);
}
