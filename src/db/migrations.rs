//! Embedded migrations, one directory per backend with the same names and meaning.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationVersion;
use diesel::sql_types::Text;
use diesel::{QueryResult, QueryableByName, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn to_anyhow(err: BoxError) -> anyhow::Error {
    anyhow::anyhow!(err)
}

/// Applies every pending migration; returns the versions applied.
pub fn run(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => versions(c.run_pending_migrations(SQLITE))?,
        DbConnection::Postgres(c) => versions(c.run_pending_migrations(POSTGRES))?,
    };
    if let DbConnection::Sqlite(c) = conn {
        if !applied.is_empty() {
            analyze_new_indexes(c)?;
        }
    }
    Ok(applied)
}

/// The versions a harness reports, as text (they borrow the connection).
fn versions(reported: Result<Vec<MigrationVersion<'_>>, BoxError>) -> anyhow::Result<Vec<String>> {
    Ok(reported
        .map_err(to_anyhow)?
        .iter()
        .map(|v| v.to_string())
        .collect())
}

/// Keeps SQLite's statistics whole after migrations: an index a migration
/// made or rebuilt has no row in `sqlite_stat1` while the other indexes of
/// its table have theirs (from the `ANALYZE` after a bulk load), and the
/// planner, guessing for it alone, took a worse plan over a million tasks
/// (the bulletin's raw aggregate 0.06 → 2 s after migration 30). Each such
/// index is analyzed (0.25 s for that one); a database never analyzed is
/// left so. PostgreSQL keeps its statistics per column, across index
/// rebuilds.
fn analyze_new_indexes(c: &mut SqliteConnection) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct Index {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let kept: Vec<Index> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
    )
    .load(c)?;
    if kept.is_empty() {
        return Ok(());
    }
    let missing: Vec<Index> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'index' \
         AND tbl_name IN (SELECT tbl FROM sqlite_stat1) \
         AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)",
    )
    .load(c)?;
    for index in missing {
        c.batch_execute(&format!("ANALYZE \"{}\"", index.name.replace('"', "\"\"")))?;
    }
    Ok(())
}

/// Reverts every applied migration, newest first; returns the versions reverted.
pub fn revert_all(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    match conn {
        DbConnection::Sqlite(c) => versions(c.revert_all_migrations(SQLITE)),
        DbConnection::Postgres(c) => versions(c.revert_all_migrations(POSTGRES)),
    }
}

/// Applies the oldest pending migration; returns its name, or None when
/// nothing is pending. The migration tests step through the history with it.
pub fn run_next(conn: &mut DbConnection) -> anyhow::Result<Option<String>> {
    let Some(next) = pending(conn)?.into_iter().next() else {
        return Ok(None);
    };
    match conn {
        DbConnection::Sqlite(c) => c.run_next_migration(SQLITE).map_err(to_anyhow)?,
        DbConnection::Postgres(c) => c.run_next_migration(POSTGRES).map_err(to_anyhow)?,
    };
    Ok(Some(next))
}

/// Reverts the newest applied migration; returns its version.
pub fn revert_last(conn: &mut DbConnection) -> anyhow::Result<String> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE).map_err(to_anyhow)?,
        DbConnection::Postgres(c) => c.revert_last_migration(POSTGRES).map_err(to_anyhow)?,
    };
    Ok(reverted.to_string())
}

/// The names of the migrations not yet applied, oldest first.
pub fn pending(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let names = match conn {
        DbConnection::Sqlite(c) => c
            .pending_migrations(SQLITE)
            .map_err(to_anyhow)?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
        DbConnection::Postgres(c) => c
            .pending_migrations(POSTGRES)
            .map_err(to_anyhow)?
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    };
    Ok(names)
}
