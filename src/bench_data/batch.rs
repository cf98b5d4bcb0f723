//! Multi-row INSERT statements built from literal values, flushed every few
//! hundred rows: one statement parses and plans once for many rows, which is
//! what makes a million-row load take minutes instead of hours. The values
//! are generated here (numbers, dates, fixed words), never typed by anyone,
//! and text is quoted anyway.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConnection;

/// Rows per statement: large enough to amortise the parse, small enough to
/// keep each statement under a megabyte.
const ROWS_PER_STATEMENT: usize = 500;

/// One table's pending rows.
pub(super) struct Batch {
    head: String,
    sql: String,
    rows: usize,
    pub written: u64,
}

impl Batch {
    pub fn new(table: &str, columns: &[&str]) -> Batch {
        let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        Batch {
            sql: head.clone(),
            head,
            rows: 0,
            written: 0,
        }
    }

    /// Adds a row of already-rendered values (see `text`, `date`, `at`),
    /// and writes the statement when it is full.
    pub fn row(&mut self, conn: &mut DbConnection, values: &[&str]) -> QueryResult<()> {
        self.push(values);
        if self.full() {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// Adds a row without writing: for rows that reference rows of another
    /// batch, which the caller flushes first.
    pub fn push(&mut self, values: &[&str]) {
        if self.rows > 0 {
            self.sql.push(',');
        }
        self.sql.push('(');
        self.sql.push_str(&values.join(","));
        self.sql.push(')');
        self.rows += 1;
    }

    pub fn full(&self) -> bool {
        self.rows >= ROWS_PER_STATEMENT
    }

    pub fn flush(&mut self, conn: &mut DbConnection) -> QueryResult<()> {
        if self.rows == 0 {
            return Ok(());
        }
        diesel::sql_query(std::mem::replace(&mut self.sql, self.head.clone())).execute(conn)?;
        self.written += self.rows as u64;
        self.rows = 0;
        Ok(())
    }
}

/// A quoted text literal.
pub(super) fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub(super) fn date(d: NaiveDate) -> String {
    format!("'{}'", d.format("%Y-%m-%d"))
}

pub(super) fn at(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S"))
}

pub(super) fn opt<T>(v: Option<T>, render: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "NULL".to_string(), render)
}

pub(super) fn boolean(b: bool) -> &'static str {
    if b {
        "TRUE"
    } else {
        "FALSE"
    }
}
