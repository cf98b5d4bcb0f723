//! Database access: the one connection type for SQLite and PostgreSQL, the pool,
//! transactions and migrations. Backend-specific SQL lives here and nowhere else.

pub mod bulk;
pub mod introspect;
pub mod migrations;
pub mod outage;
#[cfg(test)]
pub mod plan;
pub mod schema;
pub mod search;
pub mod sql_types;
pub mod stable_plans;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};

/// One connection to whichever backend the configured URL names.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The backend type of `DbConnection` (diesel's generated MultiBackend).
pub type DbBackend = <DbConnection as Connection>::Backend;

pub type DbPool = Pool<ConnectionManager>;
pub type PooledConn = PooledConnection<ConnectionManager>;

/// Which database engine a URL names. Chosen from the scheme alone, so a
/// mistyped PostgreSQL URL fails loudly instead of becoming a SQLite file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` or `postgresql://`: PostgreSQL; `sqlite://` or a plain
    /// file path: SQLite. Any other scheme (`postgress://`, `mysql://`) is
    /// refused rather than taken for a SQLite file of that odd name.
    pub fn from_url(url: &str) -> anyhow::Result<Backend> {
        let scheme = url.split_once("://").map(|(scheme, _)| scheme).filter(|s| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        match scheme.map(str::to_ascii_lowercase).as_deref() {
            Some("postgres" | "postgresql") => Ok(Backend::Postgres),
            Some("sqlite") | None => Ok(Backend::Sqlite),
            Some(other) => anyhow::bail!(
                "DATABASE_URL: unknown scheme `{other}://`; use postgres:// (or postgresql://) \
                 for PostgreSQL, or a file path (optionally sqlite://) for SQLite"
            ),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// How many blocking tasks (`web::block`: a request's database work, a
    /// password hash, a file rendered) each of `workers` HTTP workers runs
    /// at once, for a pool of `pool_size` connections on `cores` cores.
    ///
    /// PostgreSQL's work runs in its own server: as many as there are
    /// connections to wait on. SQLite's runs on this process's cores, one
    /// writer at a time: more threads than twice the cores only take turns
    /// (a waiting writer sleeps in SQLite's busy handler) and each keeps
    /// its own malloc arena. At a million tasks on two cores, four threads
    /// instead of one per waiting request served 1.2–1.3× the task reads,
    /// 1.5× the lists and 1.8–1.9× the progress reports, and the server
    /// peaked 30 MiB lower (docs/performance.md, "Blocking threads").
    pub fn blocking_threads_per_worker(
        self,
        pool_size: u32,
        workers: usize,
        cores: usize,
    ) -> usize {
        let pool = usize::try_from(pool_size).unwrap_or(usize::MAX);
        let at_once = match self {
            Backend::Postgres => pool,
            Backend::Sqlite => pool.min(2 * cores),
        };
        at_once.div_ceil(workers.max(1)).max(1)
    }
}

/// r2d2 manager that opens the backend named by the URL scheme and applies the
/// per-connection SQLite settings (WAL, foreign keys, busy timeout).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    backend: Backend,
    url: String,
}

impl ConnectionManager {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let backend = Backend::from_url(url)?;
        let url = match backend {
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_string(),
            Backend::Postgres => url.to_string(),
        };
        Ok(ConnectionManager { backend, url })
    }
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = diesel::PgConnection::establish(&self.url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // No JIT: the task list's report filter (one branch per
                // reporting cycle) is costed above `jit_above_cost`, and
                // compiling ~1,000 functions took half a second of a read
                // that runs in milliseconds; duban's queries are short.
                conn.batch_execute("SET jit = off")
                    .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Postgres(conn))
            }
            Backend::Sqlite => {
                stable_plans::install();
                let mut conn = diesel::SqliteConnection::establish(&self.url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers proceed during a write; busy_timeout makes a
                // second writer wait instead of failing at once.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Opens a pool for `url`. For SQLite the parent directory of the file is created.
pub fn connect(url: &str, max_size: u32) -> anyhow::Result<DbPool> {
    let manager = ConnectionManager::new(url)?;
    if manager.backend == Backend::Sqlite {
        if let Some(parent) = std::path::Path::new(&manager.url).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)?;
            }
        }
    }
    let pool = Pool::builder()
        .max_size(max_size)
        // Connections open on demand, in the caller's wait, never in the
        // background: with a minimum of idle connections r2d2 replaces the one
        // a caller takes on its worker thread, and a one-shot command (`duban
        // audit verify`, `scan`, `import`) that exits while libpq is still
        // connecting there crashes in OpenSSL's exit handlers (SIGSEGV in about
        // one run in five on PostgreSQL). Idle connections still stay pooled
        // until the idle timeout.
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?;
    Ok(pool)
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (so two
    /// writers queue on the busy timeout instead of failing on lock upgrade),
    /// a plain `BEGIN` on PostgreSQL. Rolls back when `f` fails.
    pub fn write<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        // Inside an open transaction (one service calling another) this is a
        // savepoint of it.
        let depth = match self {
            DbConnection::Sqlite(c) => {
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
            }
            DbConnection::Postgres(c) => {
                AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
            }
        };
        if depth?.is_some() {
            return self.transaction(f);
        }
        match self {
            DbConnection::Sqlite(c) => {
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
            }
            DbConnection::Postgres(c) => AnsiTransactionManager::begin_transaction(c)?,
        }
        match f(self) {
            Ok(value) => {
                <DbConnection as Connection>::TransactionManager::commit_transaction(self)?;
                Ok(value)
            }
            Err(err) => {
                // The original error matters more than a failed rollback.
                let _ =
                    <DbConnection as Connection>::TransactionManager::rollback_transaction(self);
                Err(err)
            }
        }
    }
}

/// How much of a SQLite database file a long read maps into memory
/// (`with_mapped_reads`); SQLite caps it at its compiled maximum (2 GB).
const MAPPED_READ_BYTES: i64 = 1 << 32;

/// Runs `work`, a long read over much of the database (the daily scan),
/// with SQLite reading the file through a memory map instead of a `pread`
/// and a copy per page (its page cache holds 2 MB; a rescan at a million
/// tasks read some 200,000 pages). The map is dropped afterwards, whatever
/// `work` returned: the mapped pages are the kernel's page cache, shown in
/// the process's RSS while mapped. PostgreSQL: `work` as it is.
pub fn with_mapped_reads<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    if conn.backend() != Backend::Sqlite {
        return work(conn);
    }
    conn.batch_execute(&format!("PRAGMA mmap_size = {MAPPED_READ_BYTES}"))?;
    let result = work(conn);
    let unmapped = conn.batch_execute("PRAGMA mmap_size = 0");
    let value = result?;
    unmapped?;
    Ok(value)
}

/// Runs `$body` with `$c` bound to the backend's own connection inside
/// `$conn`: for statements diesel's MultiConnection cannot build (`ON
/// CONFLICT`), would run one row at a time (multi-row inserts on SQLite), or
/// costs most on a hot read: MultiConnection writes a statement's whole SQL
/// anew at each use, twice (to ask whether it may be cached, and to collect
/// its values), even when the statement is prepared already.
/// `$body` is the same typed query for both, so the SQL stays portable.
macro_rules! per_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}
pub(crate) use per_backend;

/// True when `err` is a unique-constraint violation: the row is already there.
pub fn is_unique_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// True when `err` says the connection to the database is gone (the server
/// closed it, restarted, or an administrator ended the session), so the
/// request may succeed on a fresh connection. libpq reports some of these
/// without a SQLSTATE, so the message is read too.
pub fn is_connection_lost(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    const LOST: [&str; 7] = [
        "server closed the connection",
        "terminating connection",
        "connection to server",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "ssl connection has been closed",
    ];
    match err {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            LOST.iter().any(|m| message.contains(m))
        }
        // A transaction whose connection broke cannot be rolled back either.
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

/// True when `err` is a foreign-key violation: something still refers to the row.
pub fn is_foreign_key_violation(err: &diesel::result::Error) -> bool {
    matches!(
        err,
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            _
        )
    )
}

diesel::define_sql_function! {
    /// SQL `lower(text)`, for case-insensitive search: `LIKE` ignores ASCII
    /// case on SQLite but not on PostgreSQL, so a search compares
    /// `lower(column)` with a lower-case pattern on both. (SQLite's `lower`
    /// folds ASCII letters only, PostgreSQL's every letter.)
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `SELECT 1`: is the database there?
pub fn ping(conn: &mut DbConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1").execute(conn).map(|_| ())
}

/// Tables whose rows a write transaction locks before it reads, checks and
/// changes them (see `lock_row`). A task is read and locked in one
/// statement instead (`tasks::service::find_locked`, through `read_locked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    Plans,
    Units,
    Users,
    Extensions,
    Bulletins,
    Indicators,
    IndicatorValues,
    AccountabilityRecords,
}

impl Locked {
    fn table(self) -> &'static str {
        match self {
            Locked::Plans => "plans",
            Locked::Units => "units",
            Locked::Users => "users",
            Locked::Extensions => "extensions",
            Locked::Bulletins => "bulletins",
            Locked::Indicators => "indicators",
            Locked::IndicatorValues => "indicator_values",
            Locked::AccountabilityRecords => "accountability_records",
        }
    }
}

/// Locks row `id` of `table` until the transaction ends; false when there is
/// no such row. Every read-check-write of a record (its `version`, its
/// status) takes this lock first, so the database decides a race: on
/// PostgreSQL a second writer waits here and then reads what the first one
/// committed (`SELECT … FOR UPDATE`); on SQLite the write transaction's
/// `BEGIN IMMEDIATE` already admits one writer at a time. Call inside `write`.
pub fn lock_row(conn: &mut DbConnection, table: Locked, id: i64) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        #[allow(dead_code)]
        id: i64,
    }
    let lock = match conn {
        DbConnection::Sqlite(_) => "",
        DbConnection::Postgres(_) => " FOR UPDATE",
    };
    let sql = format!("SELECT id FROM {} WHERE id = $1{lock}", table.table());
    let sql = match conn {
        // SQLite numbers its parameters with ? as well; $1 is not one of them.
        DbConnection::Sqlite(_) => sql.replace("$1", "?"),
        DbConnection::Postgres(_) => sql,
    };
    let found: Vec<Found> = diesel::sql_query(sql)
        .bind::<diesel::sql_types::BigInt, _>(id)
        .load(conn)?;
    Ok(!found.is_empty())
}

/// Runs a read that locks what it reads for the write transaction: on
/// PostgreSQL `locking` (the query with `.for_update()`, so the row is read
/// and locked by one statement: a second writer waits, then reads what the
/// first committed); on SQLite `plain`, since `BEGIN IMMEDIATE` already admits
/// one writer at a time. Call inside `write`; `lock_row` is the same lock for
/// a caller that reads nothing.
pub fn read_locked<T>(
    conn: &mut DbConnection,
    plain: impl FnOnce(&mut DbConnection) -> QueryResult<T>,
    locking: impl FnOnce(&mut diesel::PgConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    match conn {
        DbConnection::Postgres(pg) => locking(pg),
        DbConnection::Sqlite(_) => plain(conn),
    }
}

/// Serialises changes that a rule over several rows must see whole (the last
/// active admin): a transaction-scoped advisory lock on PostgreSQL; SQLite's
/// `BEGIN IMMEDIATE` already admits one writer at a time. Call inside `write`.
pub fn lock_rule(conn: &mut DbConnection, rule: Rule) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgres(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_xact_lock({})", rule as i64))
                .execute(c)
                .map(|_| ())
        }
    }
}

/// The rules `lock_rule` serialises; each value is its advisory lock key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum Rule {
    /// The audit chain: one append at a time.
    AuditChain = 7_243_001,
    /// At least one active admin remains.
    LastAdmin = 7_243_002,
    /// Bulletins: one draft per period, numbers in one sequence per year.
    Bulletins = 7_243_003,
    /// The holiday calendar: one writer of a date at a time.
    HolidayCalendar = 7_243_004,
}

/// Serialises the sign-in bookkeeping of one account and of one client
/// address, so that counting the attempts already made and adding this one
/// is a single step even when many arrive at once. SQLite's `BEGIN IMMEDIATE`
/// already lets one writer in at a time; PostgreSQL takes two
/// transaction-scoped advisory locks, always the account's first, so two
/// sign-ins never wait for each other in a cycle. Call inside a write
/// transaction.
pub fn lock_sign_in(conn: &mut DbConnection, username: &str, client: &str) -> QueryResult<()> {
    use diesel::sql_types::Text;
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgres(c) => {
            // Two-key locks (class, hash) live apart from `lock_rule`'s one-key locks.
            diesel::sql_query("SELECT pg_advisory_xact_lock(7243002, hashtext($1))")
                .bind::<Text, _>(username)
                .execute(c)?;
            diesel::sql_query("SELECT pg_advisory_xact_lock(7243003, hashtext($1))")
                .bind::<Text, _>(client)
                .execute(c)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Backend;

    #[test]
    fn a_long_read_maps_the_sqlite_file_and_unmaps_it_even_when_it_fails() {
        use diesel::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("map.db").display());
        let pool = super::connect(&url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        #[derive(QueryableByName)]
        struct Map {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            mmap_size: i64,
        }
        let mapped = |c: &mut super::DbConnection| -> i64 {
            diesel::sql_query("PRAGMA mmap_size")
                .get_result::<Map>(c)
                .unwrap()
                .mmap_size
        };
        assert_eq!(mapped(&mut conn), 0);
        let inside =
            super::with_mapped_reads(&mut conn, |c| Ok::<_, diesel::result::Error>(mapped(c)))
                .unwrap();
        assert!(inside > 0, "mapped while the work runs: {inside}");
        assert_eq!(mapped(&mut conn), 0, "unmapped after it");
        let failed: Result<(), diesel::result::Error> =
            super::with_mapped_reads(&mut conn, |_| Err(diesel::result::Error::NotFound));
        assert!(failed.is_err());
        assert_eq!(mapped(&mut conn), 0, "unmapped after a failure too");
    }

    #[test]
    fn the_backend_comes_from_the_scheme_and_unknown_schemes_are_refused() {
        for (url, backend) in [
            ("postgres://u@h/db", Backend::Postgres),
            ("postgresql://u@h/db", Backend::Postgres),
            ("sqlite://data/duban.db", Backend::Sqlite),
            ("data/duban.db", Backend::Sqlite),
            ("/var/lib/duban/duban.db", Backend::Sqlite),
            ("C:\\duban\\duban.db", Backend::Sqlite),
        ] {
            assert_eq!(Backend::from_url(url).ok(), Some(backend), "{url}");
        }
        for url in ["postgress://u@h/db", "mysql://root@h/db", "mariadb://h/db"] {
            let err = Backend::from_url(url).expect_err(url).to_string();
            assert!(err.contains("unknown scheme"), "{url}: {err}");
            assert!(
                !err.contains("u@h"),
                "the URL itself is not repeated: {err}"
            );
        }
    }

    #[test]
    fn sqlite_runs_at_most_twice_the_cores_at_once_postgresql_its_pool() {
        // The default pool of 10 on two workers of two cores.
        assert_eq!(Backend::Sqlite.blocking_threads_per_worker(10, 2, 2), 2);
        assert_eq!(Backend::Postgres.blocking_threads_per_worker(10, 2, 2), 5);
        // A pool smaller than the cores bounds SQLite too; a share is rounded up.
        assert_eq!(Backend::Sqlite.blocking_threads_per_worker(3, 2, 8), 2);
        assert_eq!(Backend::Postgres.blocking_threads_per_worker(10, 3, 2), 4);
        // Never no thread at all.
        assert_eq!(Backend::Sqlite.blocking_threads_per_worker(1, 4, 1), 1);
        assert_eq!(Backend::Postgres.blocking_threads_per_worker(1, 0, 1), 1);
    }
}
