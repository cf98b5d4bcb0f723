//! The scan's statements held to their indexes on SQLite (`db::plan`). A
//! rescan looks up every key it owes, a batch a statement, and reads every
//! task that may owe: without these indexes each lookup walks the notices
//! or the reports, which no other test notices and a million tasks do.

use chrono::NaiveDate;

use crate::db::{self, plan, DbConnection};
use crate::domain::TaskId;

/// A fresh migrated SQLite database (not analyzed: the plans are those of
/// a new installation).
fn migrated() -> (tempfile::TempDir, db::PooledConn) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("plans.db").display());
    let pool = db::connect(&url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    db::migrations::run(&mut conn).unwrap();
    (dir, conn)
}

fn uses(steps: &[String], step: &str) -> bool {
    steps.iter().any(|s| s == step)
}

fn walks(steps: &[String], table: &str) -> bool {
    steps
        .iter()
        .any(|s| s.starts_with(&format!("SCAN {table}")))
}

#[test]
fn the_scan_s_lookups_seek_their_indexes() {
    let (_dir, mut conn) = migrated();
    let conn: &mut DbConnection = &mut conn;

    let keys = ["task:1:chase:1", "task:2:reminder:3", "digest:5:2026-12-02"];
    let steps = plan::of(conn, super::write::written_among(&keys)).unwrap();
    assert!(
        uses(
            &steps,
            "SEARCH notices USING COVERING INDEX sqlite_autoindex_notices_1 (dedupe_key=?)"
        ),
        "keys already written: {steps:?}"
    );
    assert!(!walks(&steps, "notices"), "{steps:?}");

    let ids = [TaskId(1), TaskId(7)];
    let steps = plan::of(conn, super::tasks::reports_of(&ids)).unwrap();
    assert!(
        steps.iter().any(|s| s.starts_with(
            "SEARCH progress_reports USING INDEX progress_reports_task_id (task_id=?)"
        )),
        "late tasks' latest progress: {steps:?}"
    );
    assert!(!walks(&steps, "progress_reports"), "{steps:?}");
}

#[test]
fn the_tasks_that_may_owe_are_read_with_their_reports_by_seek() {
    use diesel::prelude::*;
    let (_dir, mut conn) = migrated();
    let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
    let query = super::context::open_tasks(day(9), day(2)).select((
        crate::db::schema::tasks::id,
        super::context::last_lead_report(),
    ));
    let steps = plan::of(&mut conn, query).unwrap();
    // The tasks themselves are most of the open ones: a walk of the table is
    // the plan to have. What each row adds must be a seek.
    for step in [
        "SEARCH r USING COVERING INDEX progress_reports_task_unit (task_id=? AND unit_id=?)",
        "SEARCH instructions USING INDEX instructions_open_reply_by (reply_by<?)",
        "SEARCH supervision_orders USING INDEX supervision_orders_open_reply_by (reply_by<?)",
    ] {
        assert!(uses(&steps, step), "{step} in {steps:?}");
    }
    for table in [
        "progress_reports",
        "r",
        "instructions",
        "supervision_orders",
    ] {
        assert!(!walks(&steps, table), "{table} walked: {steps:?}");
    }
}
