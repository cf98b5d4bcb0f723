//! The rankings of closed periods, kept in memory between requests.
//!
//! A period that ended before today is judged on the day after its end, so
//! its ranking no longer moves with the clock: it changes only when the data
//! it is read from change. What it reads (see `super::ranking`): tasks and
//! their cooperating units, the leaders' names, the units, indicators, their
//! cooperating units and reported values, approved extensions, the ladder's
//! notices created in the period, and the last bulletin published before it;
//! and, from the settings, the scoring policy and the time zone.
//!
//! Every change to those rows but the notices is made by a service that
//! appends to the audit trail in the same transaction (`audit::record`),
//! and the audit chain takes one append at a time in commit order (its lock
//! is held to the commit), so the highest audit id moves with every such
//! commit. Notices are written by the scan and the deliverer without audit
//! entries: a notice counts in the period it was created in, and once
//! cancelled it stays cancelled, so the number of notices created on the
//! period's days and the number of those cancelled move with every change
//! the ranking could see; both are kept per day in `notice_days`, in the
//! transactions that write the notices (`notices::days`). The three numbers
//! are the `Fingerprint`: read through the audit log's primary key and a
//! month's rows of `notice_days`, without touching the tasks or counting
//! the notices (a month's notices counted on every read took most of a
//! second on PostgreSQL at a million tasks). A write that bypasses the services (hand SQL,
//! `duban demo`) does not move it: restart the server after one.
//!
//! The settings are fixed for the life of the process and the cache lives in
//! it, so the policy is part of the key only to make that explicit; several
//! instances each keep their own cache keyed by the same database numbers.
//!
//! A published bulletin's snapshot is not used for its own period: it was
//! frozen with the data of its day, and a task reopened or a unit renamed
//! since makes the live ranking differ from it.

use std::sync::Mutex;

use diesel::dsl::max;
use diesel::prelude::*;

use super::Answer;
use crate::db::schema::audit_log;
use crate::db::DbConnection;
use crate::domain::figures::Judgement;
use crate::domain::period::Period;
use crate::domain::scoring::Policy;

/// How many rankings are kept: the last few months, quarters and the year
/// the office reads, each one serialised answer.
pub const CAPACITY: usize = 8;

/// What the database says about everything a closed period's ranking reads.
/// Each number only grows, so a fingerprint at least as high as another in
/// every part was read no earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// The last audit entry: every service write that can change a ranking.
    pub audit: Option<i64>,
    /// Notices created on the days of the period's window
    /// (`super::notice_window`).
    pub notices: i64,
    /// Of those, the ones cancelled.
    pub cancelled: i64,
}

impl Fingerprint {
    /// Whether `self` was read no earlier than `other`.
    fn at_least(&self, other: &Fingerprint) -> bool {
        self.audit >= other.audit
            && self.notices >= other.notices
            && self.cancelled >= other.cancelled
    }
}

/// Reads the fingerprint for the judged period. Read it before the ranking:
/// the ranking then reflects at least what the fingerprint says.
pub fn fingerprint(conn: &mut DbConnection, j: &Judgement) -> QueryResult<Fingerprint> {
    let audit: Option<i64> = audit_log::table.select(max(audit_log::id)).first(conn)?;
    // The whole days of the window (a little more than it: never less).
    let (from, to) = super::notice_window(j);
    let (notices, cancelled) = crate::notices::days::sums(conn, from.date(), to.date())?;
    Ok(Fingerprint {
        audit,
        notices,
        cancelled,
    })
}

/// One kept ranking: its key and its answer.
struct Entry {
    period: Period,
    policy: Policy,
    fingerprint: Fingerprint,
    body: Answer,
    /// When it was last used, for evicting the least recently used.
    used: u64,
}

/// The kept rankings, at most `CAPACITY`, one per period and policy.
#[derive(Default)]
pub struct RankingCache {
    inner: Mutex<Kept>,
    /// Taken to compute a closed period's ranking: of many requests missing
    /// at once, one computes and the others find its answer when they get
    /// their turn (and compute anew only if the data moved meanwhile).
    computing: Mutex<()>,
}

#[derive(Default)]
struct Kept {
    entries: Vec<Entry>,
    tick: u64,
}

impl RankingCache {
    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while holding the lock leaves whole entries behind (each
        // is pushed or replaced in one step), so a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The ranking of `period` kept for exactly this policy and fingerprint.
    pub fn get(
        &self,
        period: Period,
        policy: &Policy,
        fingerprint: &Fingerprint,
    ) -> Option<Answer> {
        let mut kept = self.kept();
        kept.tick += 1;
        let tick = kept.tick;
        let entry = kept
            .entries
            .iter_mut()
            .find(|e| e.period == period && e.policy == *policy && e.fingerprint == *fingerprint)?;
        entry.used = tick;
        Some(entry.body.clone())
    }

    /// Keeps `body`, the ranking of `period` computed after `fingerprint`
    /// was read. It replaces the period's earlier one unless that one was
    /// read later (a slow request finishing after a quicker, newer one).
    pub fn put(&self, period: Period, policy: &Policy, fingerprint: Fingerprint, body: Answer) {
        let mut kept = self.kept();
        kept.tick += 1;
        let used = kept.tick;
        let entry = Entry {
            period,
            policy: *policy,
            fingerprint,
            body,
            used,
        };
        if let Some(old) = kept
            .entries
            .iter_mut()
            .find(|e| e.period == period && e.policy == *policy)
        {
            if fingerprint.at_least(&old.fingerprint) {
                *old = entry;
            }
            return;
        }
        if kept.entries.len() >= CAPACITY {
            if let Some(oldest) = kept
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i)
            {
                kept.entries.swap_remove(oldest);
            }
        }
        kept.entries.push(entry);
    }

    /// Waits for the turn to compute a ranking; the turn ends when the
    /// guard is dropped.
    pub fn turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.computing.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many rankings are kept.
    pub fn len(&self) -> usize {
        self.kept().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::web::Bytes;

    fn month(m: u32) -> Period {
        Period::parse(&format!("2026-{m:02}")).unwrap()
    }

    fn fp(audit: i64, notices: i64, cancelled: i64) -> Fingerprint {
        Fingerprint {
            audit: Some(audit),
            notices,
            cancelled,
        }
    }

    fn policy() -> Policy {
        crate::config::Settings::default().policy()
    }

    fn answer(json: &'static [u8]) -> Answer {
        Answer::new(Bytes::from_static(json), Vec::new().into())
    }

    #[test]
    fn a_ranking_is_served_only_for_its_period_policy_and_fingerprint() {
        let cache = RankingCache::default();
        let p = policy();
        cache.put(month(10), &p, fp(5, 2, 0), answer(b"october"));
        assert_eq!(
            cache
                .get(month(10), &p, &fp(5, 2, 0))
                .map(|a| a.json)
                .as_deref(),
            Some(&b"october"[..])
        );
        assert!(cache.get(month(9), &p, &fp(5, 2, 0)).is_none());
        // Any write since: an audit entry, a notice, a cancellation.
        assert!(cache.get(month(10), &p, &fp(6, 2, 0)).is_none());
        assert!(cache.get(month(10), &p, &fp(5, 3, 0)).is_none());
        assert!(cache.get(month(10), &p, &fp(5, 2, 1)).is_none());
        let mut stricter = p;
        stricter.criticise_below += 1.0;
        assert!(cache.get(month(10), &stricter, &fp(5, 2, 0)).is_none());
    }

    #[test]
    fn a_newer_ranking_replaces_the_older_but_never_the_reverse() {
        let cache = RankingCache::default();
        let p = policy();
        cache.put(month(10), &p, fp(5, 0, 0), answer(b"old"));
        cache.put(month(10), &p, fp(7, 0, 0), answer(b"new"));
        assert_eq!(cache.len(), 1);
        // A request that read fingerprint 6 finishes last: 7 stays.
        cache.put(month(10), &p, fp(6, 0, 0), answer(b"late"));
        assert_eq!(
            cache
                .get(month(10), &p, &fp(7, 0, 0))
                .map(|a| a.json)
                .as_deref(),
            Some(&b"new"[..])
        );
        assert!(cache.get(month(10), &p, &fp(6, 0, 0)).is_none());
    }

    #[test]
    fn memory_is_bounded_and_the_least_recently_used_goes_first() {
        let cache = RankingCache::default();
        let p = policy();
        for m in 1..=CAPACITY as u32 {
            cache.put(month(m), &p, fp(1, 0, 0), answer(b"x"));
        }
        assert!(cache.get(month(1), &p, &fp(1, 0, 0)).is_some());
        cache.put(month(12), &p, fp(1, 0, 0), answer(b"x"));
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get(month(1), &p, &fp(1, 0, 0)).is_some(), "just used");
        assert!(
            cache.get(month(2), &p, &fp(1, 0, 0)).is_none(),
            "least used"
        );
    }
}
