//! Embedded migrations, one directory per backend with the same names and meaning.

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
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map_err(to_anyhow)?,
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES).map_err(to_anyhow)?,
    };
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Reverts every applied migration, newest first; returns the versions reverted.
pub fn revert_all(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map_err(to_anyhow)?,
        DbConnection::Postgres(c) => c.revert_all_migrations(POSTGRES).map_err(to_anyhow)?,
    };
    Ok(reverted.iter().map(|v| v.to_string()).collect())
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
