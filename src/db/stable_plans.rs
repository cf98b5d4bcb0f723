//! SQLite's prepared statements kept prepared: every SQLite connection duban
//! opens has the query planner stability guarantee (QPSG) on.
//!
//! Why: SQLite plans a statement again, at its next step, whenever a value
//! that could change its plan is bound anew: the `?` of a `LIMIT ?` (which
//! every diesel `.first()` has), and, with the STAT4 statistics a bulk load's
//! `ANALYZE` writes, every `?` compared with an indexed column. diesel binds
//! its values at every execution, so its cached statements were parsed and
//! planned again at every use: 45–56 % of the CPU of a console task page at
//! 100,000 tasks. With QPSG a statement's plan is made once, when it is
//! prepared, from the statistics and the SQL alone.
//!
//! SQLite has no pragma for it and diesel does not hand out its connection
//! handle, so the setting is made by an auto-extension: a function SQLite
//! itself calls with each new connection's handle.

use std::ffi::{c_char, c_int};
use std::sync::Once;

use libsqlite3_sys as ffi;

/// Called by SQLite for each connection it opens, before it is returned.
unsafe extern "C" fn enable_qpsg(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; QPSG takes an int
    // (1: on) and an optional `int*` for the new state, here none.
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        );
    }
    ffi::SQLITE_OK
}

/// Registers `enable_qpsg` for every SQLite connection the process opens
/// from now on; once per process, before the first connection.
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // SAFETY: `enable_qpsg` has the entry point's signature and lives as
        // long as the process; registering twice would be a no-op anyway.
        unsafe {
            ffi::sqlite3_auto_extension(Some(enable_qpsg));
        }
    });
}

#[cfg(test)]
mod tests {
    use std::ffi::CString;

    use super::*;

    /// How often SQLite prepared `SELECT … LIMIT ?` again over ten
    /// executions with the limit bound anew each time (as diesel does), on
    /// a fresh in-memory connection; `qpsg_off`: the guarantee switched off
    /// on it first.
    fn reprepares(qpsg_off: bool) -> i32 {
        let mut db = std::ptr::null_mut();
        let name = CString::new(":memory:").unwrap();
        let sql = CString::new("SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2) LIMIT ?").unwrap();
        let mut stmt = std::ptr::null_mut();
        // SAFETY: plain use of the C API on handles made and freed here.
        unsafe {
            assert_eq!(ffi::sqlite3_open(name.as_ptr(), &mut db), ffi::SQLITE_OK);
            if qpsg_off {
                let off: c_int = 0;
                ffi::sqlite3_db_config(
                    db,
                    ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                    off,
                    std::ptr::null_mut::<c_int>(),
                );
            }
            assert_eq!(
                ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut stmt, std::ptr::null_mut()),
                ffi::SQLITE_OK
            );
            for _ in 0..10 {
                ffi::sqlite3_reset(stmt);
                ffi::sqlite3_bind_int(stmt, 1, 1);
                assert_eq!(ffi::sqlite3_step(stmt), ffi::SQLITE_ROW);
            }
            let count = ffi::sqlite3_stmt_status(stmt, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
            ffi::sqlite3_finalize(stmt);
            ffi::sqlite3_close(db);
            count
        }
    }

    #[test]
    fn a_bound_limit_does_not_make_sqlite_prepare_a_statement_again() {
        install();
        // Without the guarantee, each new binding of the limit planned the
        // statement again (the cost this module exists for) …
        assert!(reprepares(true) >= 9, "{}", reprepares(true));
        // … and every connection opened after `install` has it.
        assert_eq!(reprepares(false), 0);
    }
}
