//! Migrations you can trust: every migration's down.sql restores exactly the
//! schema its up.sql found, and the hand-kept `src/db/schema.rs` matches the
//! migrated database.

use std::collections::BTreeMap;

use duban::db::introspect::{introspect, Column, ColumnKind, Schema, Table};
use duban::db::migrations;

use crate::api_tests;
use crate::helpers::TestApp;

api_tests![
    every_migration_reverts_to_the_schema_it_found,
    schema_rs_matches_the_migrated_database,
];

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
