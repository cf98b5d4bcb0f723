//! What a bulk load (`duban bench-data`) needs from the backend: a session
//! that does not wait for the disk on every commit, and identity sequences
//! moved past rows inserted with explicit ids. Backend-specific SQL, so it
//! lives here.

use diesel::connection::SimpleConnection;
use diesel::QueryResult;

use super::DbConnection;

/// Makes this connection's commits cheap for a load that is redone from
/// scratch if the machine crashes: SQLite stops syncing (the WAL stays), and
/// PostgreSQL commits without waiting for its WAL flush.
pub fn relax_durability(conn: &mut DbConnection) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => c.batch_execute("PRAGMA synchronous = OFF"),
        DbConnection::Postgres(c) => c.batch_execute("SET synchronous_commit = off"),
    }
}

/// After rows were inserted into `table` with explicit ids, moves
/// PostgreSQL's identity sequence past the largest id, so the next ordinary
/// insert does not collide. SQLite's AUTOINCREMENT follows by itself.
/// `table` is one of the names the caller hard-codes, never input.
pub fn sync_id_sequence(conn: &mut DbConnection, table: &'static str) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgres(c) => c.batch_execute(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
        )),
    }
}

/// Refreshes the planner's statistics after a bulk load.
pub fn analyze(conn: &mut DbConnection) -> QueryResult<()> {
    conn.batch_execute("ANALYZE")
}
