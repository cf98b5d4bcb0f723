//! Notices about an instruction (批示) carry it in `notices.instruction_id`:
//! its own notice, its chases and their robot copies; delivery decides
//! whether a chase is still owed from that column, not from the dedupe key
//! (which stays `instruction:{id}:…`). Both backends.

use chrono::Duration;
use diesel::prelude::*;
use duban::db::schema::notices;
use serde_json::json;

use crate::city::local_day;
use crate::helpers::{expect_json, TestApp};
use crate::notices::{addressed_city, Outbox};
use crate::smtp::SmtpServer;

crate::api_tests![an_instructions_notices_name_it_and_delivery_reads_the_column];

/// (id, dedupe key, instruction id, status) of every notice about `task`.
fn notices_of(out: &Outbox, task: i64) -> Vec<(i64, String, Option<i64>, String)> {
    let mut conn = out.pool.get().unwrap();
    notices::table
        .filter(notices::task_id.eq(task))
        .select((
            notices::id,
            notices::dedupe_key,
            notices::instruction_id,
            notices::status,
        ))
        .order(notices::id)
        .load(&mut conn)
        .unwrap()
}

async fn an_instructions_notices_name_it_and_delivery_reads_the_column(app: TestApp) {
    let smtp = SmtpServer::start();
    let c = addressed_city(&app).await;
    let task = c.in_progress(&app, "4.2", 60).await;
    let id = task["id"].as_i64().unwrap();
    let out = Outbox::new(&app, &smtp.url());
    out.deliver();
    let made = expect_json(
        app.post(
            &format!("/api/v1/tasks/{id}/instructions"),
            &c.leader,
            json!({ "body": "月底前完成管网验收", "reply_by": local_day(0) }),
        )
        .await,
        201,
    )
    .await;
    let instruction = made["id"].as_i64().unwrap();
    let told: Vec<_> = notices_of(&out, id)
        .into_iter()
        .filter(|n| n.1.starts_with("instruction:"))
        .collect();
    assert!(!told.is_empty(), "the instruction's own notice");
    for n in &told {
        assert_eq!(n.2, Some(instruction), "{n:?}");
        assert!(
            n.1.starts_with(&format!("instruction:{instruction}:")),
            "the key as it was"
        );
    }
    // Notices about anything else name no instruction.
    assert!(notices_of(&out, id)
        .iter()
        .filter(|n| !n.1.starts_with("instruction:"))
        .all(|n| n.2.is_none()));
    out.deliver();

    // The day after its date: a chase, naming it.
    let today = chrono::NaiveDate::parse_from_str(&local_day(0), "%Y-%m-%d").unwrap();
    out.scan(today + Duration::days(1));
    let chases: Vec<_> = notices_of(&out, id)
        .into_iter()
        .filter(|n| n.3 == "pending" && n.1.contains(":chase_"))
        .collect();
    assert!(!chases.is_empty(), "a chase is queued");
    assert!(
        chases.iter().all(|n| n.2 == Some(instruction)),
        "{chases:?}"
    );

    // Delivery no longer reads the key: with it renamed, the chase is still
    // known to be about the instruction, and once answered it is not sent.
    {
        let mut conn = out.pool.get().unwrap();
        for n in &chases {
            diesel::update(notices::table.find(n.0))
                .set(notices::dedupe_key.eq(format!("renamed-{}", n.0)))
                .execute(&mut conn)
                .unwrap();
        }
    }
    expect_json(
        app.post(
            &format!("/api/v1/tasks/{id}/reports"),
            &c.clerk_a,
            json!({ "percent": 60, "body": "管网已验收", "instruction_id": instruction }),
        )
        .await,
        201,
    )
    .await;
    let before = smtp.received().len();
    out.deliver();
    let sent: Vec<String> = smtp
        .received()
        .into_iter()
        .skip(before)
        .map(|m| m.subject())
        .collect();
    assert!(
        !sent.iter().any(|s| s.starts_with("【批示落实")),
        "an answered instruction is chased no more: {sent:?}"
    );
    for n in notices_of(&out, id)
        .into_iter()
        .filter(|n| chases.iter().any(|c| c.0 == n.0))
    {
        assert_eq!(n.3, "cancelled", "{n:?}");
    }
}
