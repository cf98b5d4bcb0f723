//! The daily scan: for every open task, every indicator report not yet in
//! every instruction (批示) and supervision order (督办单) not answered by
//! its date, the notices the
//! ladder says it is owed today, each written once (its dedupe key is
//! unique) together with the timeline event that records it (for tasks and
//! instructions); each digest unit's daily digest; and each follower's
//! digest of what changed in the tasks and units followed (关注).
//!
//! What every pass needs (the clock, the ladder, units, open tasks, owed
//! reports) is read once into a [`context::Context`]; the passes only decide
//! what is owed, with the rules in `domain::ladder` and `domain::traffic`,
//! and `write` puts it in the outbox in batches: one lookup of the keys
//! already written, then multi-row inserts that skip a key written
//! meanwhile, a few hundred rows a transaction (docs/performance.md).

pub(super) mod context;
mod digests;
mod follows;
mod instructions;
mod orders;
#[cfg(test)]
mod plans;
mod reports;
mod tasks;
pub(super) mod write;

use chrono::{NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::config::Settings;
use crate::db::DbConnection;

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ScanCounts {
    pub tasks: usize,
    pub created: usize,
    /// Notices already written by an earlier run (or another instance).
    pub existing: usize,
}

impl ScanCounts {
    /// Counts one notice the scan wanted: written now, or there already.
    fn tally(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.existing += 1;
        }
    }
}

/// Writes the notices owed on `today` (the local date of the scan; `now` is
/// the instant they are written at).
pub fn scan(
    conn: &mut DbConnection,
    settings: &Settings,
    today: NaiveDate,
    now: NaiveDateTime,
) -> anyhow::Result<ScanCounts> {
    // The scan reads the open tasks and looks up their notices' keys: on
    // SQLite through a memory map (docs/performance.md, "The daily scan").
    crate::db::with_mapped_reads(conn, |conn| {
        let ctx = context::Context::load(conn, settings, today, now)?;
        let mut counts = ScanCounts {
            tasks: usize::try_from(ctx.open_count).unwrap_or_default(),
            ..Default::default()
        };
        tasks::run(conn, &ctx, &mut counts)?;
        digests::run(conn, &ctx, &mut counts)?;
        reports::run(conn, &ctx, &mut counts)?;
        instructions::run(conn, &ctx, &mut counts)?;
        orders::run(conn, &ctx, &mut counts)?;
        follows::run(conn, &ctx, settings, &mut counts)?;
        Ok(counts)
    })
}
