//! Migrations you can trust: every migration's down.sql restores exactly the
//! schema its up.sql found, the SQLite and PostgreSQL migrations mean the same,
//! and the hand-kept `src/db/schema.rs` matches the migrated database.

use std::collections::BTreeMap;

use diesel::sql_types::{BigInt, Nullable};
use diesel::{QueryableByName, RunQueryDsl};
use duban::db::introspect::{introspect, Column, ColumnKind, Schema, Table};
use duban::db::migrations;

use crate::helpers::{Backend, FreshDatabase, TestApp};
use crate::{api_tests, once_tests};

api_tests![
    every_migration_reverts_to_the_schema_it_found,
    schema_rs_matches_the_migrated_database,
    bulletin_references_keep_every_row_and_clear_dangling_ones,
    an_index_a_migration_rebuilds_keeps_the_planners_statistics,
];
once_tests![sqlite_and_postgresql_schemas_mean_the_same];

/// Fails with one line per difference when `a` and `b` differ.
fn assert_same(a: &Schema, b: &Schema, left: &str, right: &str, context: &str) {
    let differences = a.differences(b, left, right);
    assert!(
        differences.is_empty(),
        "{context}:\n  {}",
        differences.join("\n  ")
    );
    // `differences` reads every part of the schema; this guards that claim.
    assert_eq!(a, b, "{context}");
}

async fn every_migration_reverts_to_the_schema_it_found(app: TestApp) {
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    // The app has migrated its database at start-up.
    let started = introspect(&mut conn).unwrap();
    assert!(started.tables.contains_key("users") && started.tables.contains_key("notices"));

    let reverted = migrations::revert_all(&mut conn).unwrap();
    assert!(!reverted.is_empty());
    assert_same(
        &introspect(&mut conn).unwrap(),
        &Schema::default(),
        "after",
        "an empty database",
        "reverting every migration leaves tables behind",
    );

    // Step through the history: apply one, revert it, compare, apply it again.
    let mut applied = Vec::new();
    loop {
        let before = introspect(&mut conn).unwrap();
        let Some(name) = migrations::run_next(&mut conn).unwrap() else {
            break;
        };
        migrations::revert_last(&mut conn)
            .unwrap_or_else(|e| panic!("{name}: down.sql fails: {e:#}"));
        assert_same(
            &before,
            &introspect(&mut conn).unwrap(),
            "before up.sql",
            "after down.sql",
            &format!("{name}: down.sql does not restore the schema up.sql found"),
        );
        assert_eq!(
            migrations::run_next(&mut conn).unwrap().as_deref(),
            Some(name.as_str()),
            "{name} applies again after its down.sql"
        );
        applied.push(name);
    }
    assert_eq!(applied.len(), reverted.len(), "applied {applied:?}");
    assert_same(
        &started,
        &introspect(&mut conn).unwrap(),
        "start-up",
        "stepwise",
        "migrating step by step ends where start-up did",
    );
    assert!(migrations::pending(&mut conn).unwrap().is_empty());
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Refs {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    bulletin_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    indicator_id: Option<i64>,
}

fn refs(conn: &mut duban::db::DbConnection, sql: &str) -> Vec<(i64, Option<i64>, Option<i64>)> {
    diesel::sql_query(sql)
        .load::<Refs>(conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.bulletin_id, r.indicator_id))
        .collect()
}

const NOTICE_REFS: &str = "SELECT id, bulletin_id, indicator_id FROM notices ORDER BY id";
const RECORD_REFS: &str = "SELECT id, bulletin_id, CAST(NULL AS BIGINT) AS indicator_id \
                           FROM accountability_records ORDER BY id";
const TASK_REFS: &str =
    "SELECT id, CAST(NULL AS BIGINT) AS bulletin_id, indicator_id FROM tasks ORDER BY id";

/// A notice row naming `bulletin` and `indicator` (SQL literals).
fn notice(key: &str, bulletin: &str, indicator: &str) -> String {
    format!(
        "INSERT INTO notices (task_id, unit_id, step, dedupe_key, recipients, subject, body_text, \
         body_html, status, next_attempt_at, created_at, bulletin_id, indicator_id, period) \
         VALUES (1, 1, 'bulletin', '{key}', '[]', 's', 'b', 'h', 'sent', '2026-11-30 08:00:00', \
         '2026-11-30 08:00:00', {bulletin}, {indicator}, '2026-10')"
    )
}

/// 2026-11-30-000011_bulletin_references rebuilds three tables on SQLite:
/// every row stays, a reference to a missing bulletin or indicator (possible
/// on SQLite before it) becomes NULL, ids are not handed out twice, and the
/// references hold afterwards. On PostgreSQL the migration changes nothing.
async fn bulletin_references_keep_every_row_and_clear_dangling_ones(app: TestApp) {
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    migrations::revert_all(&mut conn).unwrap();
    while !migrations::pending(&mut conn).unwrap()[0].ends_with("_bulletin_references") {
        migrations::run_next(&mut conn).unwrap();
    }
    // Missing parents, which SQLite accepted before this migration.
    let (missing_bulletin, missing_indicator) = match app.backend {
        Backend::Sqlite => ("77", "88"),
        Backend::Postgres => ("NULL", "NULL"),
    };
    let ts = "'2026-11-30 08:00:00'";
    let mut statements = vec![
        format!(
            "INSERT INTO units (id, code, name, kind, created_at, updated_at) \
             VALUES (1, 'U1', '一号', 'township', {ts}, {ts})"
        ),
        format!(
            "INSERT INTO plans (id, title, year, status, created_at, updated_at) \
             VALUES (1, 'p', 2026, 'active', {ts}, {ts})"
        ),
        format!(
            "INSERT INTO indicators (id, domain, number, name, comparison, kind, frequency, \
             report_day, reporting_from, created_at, updated_at) \
             VALUES (1, '生态制度', '1', 'i', 'none', 'binding', 'monthly', 10, '2026-01-01', \
             {ts}, {ts})"
        ),
        format!(
            "INSERT INTO bulletins (id, period, period_start, period_end, status, snapshot, \
             created_at, updated_at) \
             VALUES (1, '2026-10', '2026-10-01', '2026-10-31', 'published', '{{}}', {ts}, {ts})"
        ),
        format!(
            "INSERT INTO tasks (plan_id, code, title, lead_unit_id, priority, category, status, \
             created_at, updated_at, indicator_id) \
             VALUES (1, 'T1', 't', 1, 'normal', 'indicator', 'assigned', {ts}, {ts}, 1), \
             (1, 'T2', 't', 1, 'normal', 'indicator', 'assigned', {ts}, {ts}, {missing_indicator})"
        ),
        // A row that refers to tasks, which stays valid through its rebuild.
        format!("INSERT INTO task_events (task_id, kind, created_at) VALUES (1, 'created', {ts})"),
        notice("n1", "1", "1"),
        notice("n2", missing_bulletin, missing_indicator),
        // The highest id handed out so far is 3, though that row is gone.
        notice("n3", "NULL", "NULL"),
        "DELETE FROM notices WHERE dedupe_key = 'n3'".to_string(),
    ];
    for (key, bulletin) in [("r1", "1"), ("r2", missing_bulletin)] {
        statements.push(format!(
            "INSERT INTO accountability_records (unit_id, level, reason, source, status, \
             dedupe_key, created_at, bulletin_id) \
             VALUES (1, 'public_criticism', 'r', 'bulletin', 'proposed', '{key}', {ts}, {bulletin})"
        ));
    }
    for sql in &statements {
        diesel::sql_query(sql)
            .execute(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    assert_eq!(
        migrations::run_next(&mut conn).unwrap().as_deref(),
        Some("2026-11-30-000011_bulletin_references")
    );
    assert_eq!(
        refs(&mut conn, NOTICE_REFS),
        vec![(1, Some(1), Some(1)), (2, None, None)]
    );
    assert_eq!(
        refs(&mut conn, RECORD_REFS),
        vec![(1, Some(1), None), (2, None, None)]
    );
    assert_eq!(
        refs(&mut conn, TASK_REFS),
        vec![(1, None, Some(1)), (2, None, None)]
    );
    let events = "SELECT task_id AS id, CAST(NULL AS BIGINT) AS bulletin_id, \
                  CAST(NULL AS BIGINT) AS indicator_id FROM task_events";
    assert_eq!(refs(&mut conn, events), vec![(1, None, None)]);

    // The next notice gets a new id, and a missing bulletin is refused now.
    diesel::sql_query(notice("n4", "NULL", "NULL"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(refs(&mut conn, NOTICE_REFS).last().map(|r| r.0), Some(4));
    for sql in [
        notice("n5", "77", "NULL"),
        notice("n6", "NULL", "88"),
        "UPDATE accountability_records SET bulletin_id = 77 WHERE id = 1".to_string(),
        "UPDATE tasks SET indicator_id = 88 WHERE id = 1".to_string(),
    ] {
        let err = diesel::sql_query(&sql).execute(&mut conn).unwrap_err();
        assert!(duban::db::is_foreign_key_violation(&err), "{sql}: {err}");
    }

    // Reverting keeps the rows too.
    migrations::revert_last(&mut conn).unwrap();
    assert_eq!(refs(&mut conn, NOTICE_REFS).len(), 3);
    assert_eq!(refs(&mut conn, RECORD_REFS).len(), 2);
    assert_eq!(refs(&mut conn, TASK_REFS).len(), 2);
    migrations::run(&mut conn).unwrap();
}

/// A fresh database of `backend` with every migration applied, and its schema.
fn migrated(backend: Backend) -> (FreshDatabase, Schema) {
    let database = FreshDatabase::new(backend);
    let pool = duban::db::connect(&database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    migrations::run(&mut conn).unwrap();
    let schema = introspect(&mut conn).unwrap();
    (database, schema)
}

async fn sqlite_and_postgresql_schemas_mean_the_same() {
    let (_sqlite_db, sqlite) = migrated(Backend::Sqlite);
    let (_postgres_db, postgres) = migrated(Backend::Postgres);
    assert!(sqlite.tables.contains_key("notices"));
    // Names differ between the backends (SQLite's autoindexes, PostgreSQL's
    // `_key` indexes and `_fkey`/`_check` constraints): compare by meaning.
    assert_same(
        &sqlite.meaning(),
        &postgres.meaning(),
        "SQLite",
        "PostgreSQL",
        "the SQLite and PostgreSQL migrations differ",
    );
}

async fn schema_rs_matches_the_migrated_database(app: TestApp) {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs")).unwrap();
    let declared = tables_in_schema_rs(&source);
    assert!(declared.tables.contains_key("units"), "parsed {declared:?}");

    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let database = columns_only(&introspect(&mut conn).unwrap());
    assert_same(
        &database,
        &declared,
        "the database",
        "schema.rs",
        "src/db/schema.rs does not match the migrated database",
    );
}

/// What `schema.rs` can say about a schema: tables, their primary keys and
/// their columns' kinds and nullability.
fn columns_only(schema: &Schema) -> Schema {
    let tables = schema
        .tables
        .iter()
        .map(|(name, table)| {
            let columns = table
                .columns
                .iter()
                .map(|(name, c)| {
                    let column = Column {
                        default: None,
                        ..c.clone()
                    };
                    (name.clone(), column)
                })
                .collect();
            let table = Table {
                columns,
                primary_key: table.primary_key.clone(),
                ..Table::default()
            };
            (name.clone(), table)
        })
        .collect();
    Schema { tables }
}

/// Reads the `diesel::table!` blocks of `schema.rs` (diesel's print-schema
/// format: `name (key, …) { column -> Type, … }`, `Nullable<Type>`, and
/// `#[sql_name = "…"]` where the Rust name differs from the column's).
fn tables_in_schema_rs(source: &str) -> Schema {
    let mut tables = BTreeMap::new();
    let mut rest = source;
    while let Some(at) = rest.find("diesel::table!") {
        let block = &rest[at..];
        let open = block.find('{').expect("table! {");
        let mut depth = 0;
        let mut end = block.len();
        for (i, c) in block.char_indices().skip(open) {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let (name, table) = table_in_block(&block[open + 1..end]);
        tables.insert(name, table);
        rest = &block[end..];
    }
    Schema { tables }
}

fn table_in_block(block: &str) -> (String, Table) {
    let mut name = String::new();
    let mut table = Table::default();
    let mut sql_name = None;
    for line in block.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") || line.starts_with("use ") {
            continue;
        }
        if let Some(attr) = line.strip_prefix("#[sql_name") {
            sql_name = attr.split('"').nth(1).map(str::to_string);
        } else if line.starts_with("#[") || line == "}" {
            continue;
        } else if let Some((column, ty)) = line.split_once("->") {
            let column = sql_name.take().unwrap_or_else(|| column.trim().to_string());
            let ty = ty.trim().trim_end_matches(',').trim();
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.trim_end_matches('>'), true),
                None => (ty, false),
            };
            let kind = diesel_kind(ty.rsplit("::").next().unwrap_or(ty));
            table.column_order.push(column.clone());
            table.columns.insert(
                column,
                Column {
                    kind,
                    nullable,
                    default: None,
                },
            );
        } else if let Some((head, keys)) = line.trim_end_matches('{').split_once('(') {
            // `name (key, …) {`, perhaps `schema.name`.
            let head = sql_name.take().unwrap_or_else(|| head.trim().to_string());
            name = head.rsplit('.').next().unwrap_or(&head).to_string();
            table.primary_key = keys
                .trim()
                .trim_end_matches(')')
                .split(',')
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .collect();
        }
    }
    // `schema.rs` need not list columns in table order.
    table.column_order.clear();
    (name, table)
}

/// The portable kind of a diesel SQL type name.
fn diesel_kind(ty: &str) -> ColumnKind {
    match ty {
        "BigInt" | "Int8" | "BigSerial" => ColumnKind::BigInt,
        "Integer" | "Int4" | "Serial" => ColumnKind::Integer,
        "Text" | "Varchar" | "VarChar" => ColumnKind::Text,
        "Bool" => ColumnKind::Bool,
        "Date" => ColumnKind::Date,
        "Timestamp" => ColumnKind::Timestamp,
        "Double" | "Float8" => ColumnKind::Double,
        "Binary" | "Bytea" | "Blob" => ColumnKind::Binary,
        other => ColumnKind::Other(other.to_string()),
    }
}

#[derive(QueryableByName)]
struct Stat {
    #[diesel(sql_type = diesel::sql_types::Text)]
    stat: String,
}

/// 2026-12-02-000030 rebuilds `tasks_status_due_date` on a database with
/// tasks. On SQLite, where `ANALYZE` had run (as after a bulk load), the
/// rebuilt index gets its row of statistics back when duban migrates, so
/// the planner does not guess for that index alone; on PostgreSQL (whose
/// statistics are per column) the migration runs on the populated table.
async fn an_index_a_migration_rebuilds_keeps_the_planners_statistics(app: TestApp) {
    let c = crate::city::build(&app).await;
    c.task(&app, "1", 10, serde_json::json!({})).await;
    c.task(&app, "2", 20, serde_json::json!({})).await;
    let pool = duban::db::connect(&app.database.url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    let rebuild = "_tasks_status_due_date_covering";
    while !migrations::pending(&mut conn)
        .unwrap()
        .iter()
        .any(|m| m.ends_with(rebuild))
    {
        migrations::revert_last(&mut conn).unwrap();
    }
    diesel::sql_query("ANALYZE").execute(&mut conn).unwrap();
    migrations::run(&mut conn).unwrap();
    assert!(migrations::pending(&mut conn).unwrap().is_empty());
    if app.backend == Backend::Sqlite {
        let stats: Vec<Stat> =
            diesel::sql_query("SELECT stat FROM sqlite_stat1 WHERE idx = 'tasks_status_due_date'")
                .load(&mut conn)
                .unwrap();
        assert_eq!(stats.len(), 1, "no statistics for the rebuilt index");
        assert!(
            stats[0].stat.starts_with("2 "),
            "two tasks: {}",
            stats[0].stat
        );
    }
}
