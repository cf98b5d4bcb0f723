//! Evidence storage, both ways, and the audit trail.

use serde_json::json;

use crate::api_tests;
use crate::city::{self, upload};
use duban::domain::kinds::StorageKind;

use crate::helpers::{expect_json, expect_problem, problem_fields, spawn_app_with, TestApp};

api_tests![
    evidence_round_trips_in_files_and_in_the_database,
    the_same_evidence_twice_is_stored_once_in_the_database,
    evidence_type_and_size_are_limited,
    an_own_upload_can_be_removed_until_the_task_is_submitted,
    the_audit_trail_records_changes_and_detects_tampering,
];

async fn evidence_round_trips_in_files_and_in_the_database(app: TestApp) {
    for storage in [StorageKind::Fs, StorageKind::Db] {
        let app = spawn_app_with(app.backend, |s| s.attachment_storage = storage).await;
        let c = city::build(&app).await;
        let task = c.in_progress(&app, "1", 10).await;
        let t = task["id"].as_i64().unwrap();
        // A PNG signature, then every byte value.
        let bytes: Vec<u8> = b"\x89PNG\r\n\x1a\n"
            .iter()
            .copied()
            .chain((0..=255u8).cycle().take(70_000))
            .collect();
        let att = expect_json(
            upload(
                &app,
                &c.clerk_b,
                t,
                "现场照片.png",
                "image/png",
                bytes.clone(),
            )
            .await,
            201,
        )
        .await;
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&bytes))
        };
        assert_eq!(att["sha256"], sha, "{storage}");
        let res = app
            .get(
                &format!("/api/v1/tasks/{t}/attachments/{}", att["id"]),
                &c.clerk_a,
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.bytes().await.unwrap().to_vec(), bytes, "{storage}");
        let on_disk = app
            .data_dir
            .path()
            .join("attachments")
            .join(&sha[..2])
            .join(&sha)
            .exists();
        assert_eq!(
            on_disk,
            storage == StorageKind::Fs,
            "{storage}: kept where configured"
        );
    }
}

async fn the_same_evidence_twice_is_stored_once_in_the_database(app: TestApp) {
    let app = spawn_app_with(app.backend, |s| s.attachment_storage = StorageKind::Db).await;
    let c = city::build(&app).await;
    let bytes = b"%PDF-1.4 the same acceptance report".to_vec();
    let mut uploaded = Vec::new();
    for code in ["1", "2"] {
        let task = c.in_progress(&app, code, 10).await;
        let t = task["id"].as_i64().unwrap();
        // The second upload finds the content already stored: on PostgreSQL
        // that must not abort the upload's transaction.
        let att = expect_json(
            upload(
                &app,
                &c.clerk_a,
                t,
                "验收报告.pdf",
                "application/pdf",
                bytes.clone(),
            )
            .await,
            201,
        )
        .await;
        uploaded.push((t, att["id"].as_i64().unwrap()));
    }
    for (t, id) in uploaded {
        let res = app
            .get(&format!("/api/v1/tasks/{t}/attachments/{id}"), &c.clerk_a)
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    }
}

async fn evidence_type_and_size_are_limited(app: TestApp) {
    let app = spawn_app_with(app.backend, |s| s.attachment_max_bytes = 1024).await;
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 10).await;
    let t = task["id"].as_i64().unwrap();
    let p = expect_problem(
        upload(
            &app,
            &c.clerk_a,
            t,
            "run.exe",
            "application/x-msdownload",
            b"MZ".to_vec(),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem_fields(&p), ["file"]);
    expect_problem(
        upload(
            &app,
            &c.clerk_a,
            t,
            "big.pdf",
            "application/pdf",
            vec![b'x'; 2048],
        )
        .await,
        413,
        "payload_too_large",
    )
    .await;
    let form = reqwest::multipart::Form::new().text("note", "no file");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/tasks/{t}/attachments")))
        .bearer_auth(&c.clerk_a)
        .multipart(form)
        .send()
        .await
        .unwrap();
    expect_problem(res, 422, "validation_failed").await;
    let list = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/attachments"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 0);
}

async fn the_audit_trail_records_changes_and_detects_tampering(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 10).await;
    let audit = expect_json(app.get("/api/v1/audit?entity=task", &c.office).await, 200).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["accept", "assign", "create"], "newest first");
    assert_eq!(audit["items"][0]["entity_id"], task["id"]);
    let units = expect_json(app.get("/api/v1/audit?entity=unit", &c.viewer).await, 200).await;
    assert_eq!(units["total"], 3);
    expect_problem(app.get("/api/v1/audit", &c.clerk_a).await, 403, "forbidden").await;
    let users = expect_json(app.get("/api/v1/audit?entity=user", &c.admin).await, 200).await;
    assert!(
        !users.to_string().contains("argon2"),
        "no password hashes in the audit trail"
    );

    let verify = || {
        crate::helpers::processes::output(
            crate::helpers::duban()
                .args(["audit", "verify"])
                .env("DATABASE_URL", &app.database.url)
                .env("DUBAN_DATA_DIR", app.data_dir.path()),
        )
    };
    let out = verify();
    assert!(
        out.status.success(),
        "audit verify: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("intact"));

    // Someone edits an entry directly in the database.
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let target: i64 = {
        use diesel::prelude::*;
        use duban::db::schema::audit_log;
        let target: i64 = audit_log::table
            .select(audit_log::id)
            .order(audit_log::id.asc())
            .offset(4)
            .first(&mut conn)
            .unwrap();
        diesel::update(audit_log::table.find(target))
            .set(audit_log::after_json.eq(json!({ "name": "篡改" }).to_string()))
            .execute(&mut conn)
            .unwrap();
        target
    };
    let out = verify();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("entry {target}")), "{stderr}");
    // Deleting an entry is found too, at the entry after the gap.
    {
        use diesel::prelude::*;
        use duban::db::schema::audit_log;
        diesel::delete(audit_log::table.find(target))
            .execute(&mut conn)
            .unwrap();
    }
    let check = duban::audit::verify(&mut conn).unwrap();
    assert!(
        matches!(check, duban::audit::ChainCheck::Broken { entry_id, .. } if entry_id > target)
    );
}

async fn an_own_upload_can_be_removed_until_the_task_is_submitted(app: TestApp) {
    let c = city::build(&app).await;
    let task = c.in_progress(&app, "1", 10).await;
    let t = task["id"].as_i64().unwrap();
    let mine = expect_json(
        upload(
            &app,
            &c.clerk_a,
            t,
            "错的.pdf",
            "application/pdf",
            b"%PDF-1.4 wrong".to_vec(),
        )
        .await,
        201,
    )
    .await;
    let kept = expect_json(
        upload(
            &app,
            &c.clerk_a,
            t,
            "对的.pdf",
            "application/pdf",
            b"%PDF-1.4 right".to_vec(),
        )
        .await,
        201,
    )
    .await;
    let path = |a: &serde_json::Value| format!("/api/v1/tasks/{t}/attachments/{}", a["id"]);
    // Someone else's upload is not theirs to remove; a foreign clerk sees nothing.
    expect_problem(
        app.request(
            reqwest::Method::DELETE,
            &path(&mine),
            Some(&c.clerk_b),
            None,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    expect_problem(
        app.request(
            reqwest::Method::DELETE,
            &path(&mine),
            Some(&c.clerk_c),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .request(
            reqwest::Method::DELETE,
            &path(&mine),
            Some(&c.clerk_a),
            None,
        )
        .await;
    assert_eq!(res.status(), 204);
    let list = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/attachments"), &c.office)
            .await,
        200,
    )
    .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], kept["id"]);
    let events = expect_json(
        app.get(&format!("/api/v1/tasks/{t}/events"), &c.office)
            .await,
        200,
    )
    .await;
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "attachment_removed");
    assert_eq!(last["note"], "错的.pdf");
    let audit = expect_json(
        app.get("/api/v1/audit?entity=attachment", &c.office).await,
        200,
    )
    .await;
    assert_eq!(audit["items"][0]["action"], "delete");
    assert_eq!(audit["items"][0]["entity_id"], mine["id"]);

    // Once submitted, the evidence is what the office judges.
    c.ok(&app, &c.clerk_a, &task, "submit", Some("完成")).await;
    let p = expect_problem(
        app.request(
            reqwest::Method::DELETE,
            &path(&kept),
            Some(&c.clerk_a),
            None,
        )
        .await,
        409,
        "evidence_fixed",
    )
    .await;
    assert_eq!(p["current_status"], "submitted");
}
