//! Failing fast while the database cannot be reached. A request waits up to
//! the pool's connection timeout (10 s) for a connection; during an outage
//! every request would wait that long, one after another on its worker's
//! few blocking threads (`Backend::blocking_threads_per_worker`), so the
//! last of many would be told 503 after minutes. Once a wait has failed,
//! one request at a time waits to find out whether the database is back
//! (the probe) and the others are answered 503 at once, unless an idle
//! connection is there to take. The first connection had ends the outage.

use std::sync::atomic::{AtomicBool, Ordering};

use super::{DbPool, PooledConn};
use crate::error::Error;

/// Whether the last wait for a connection failed, and whether a request is
/// waiting now to find out if the database is back.
#[derive(Debug, Default)]
pub struct Outage {
    down: AtomicBool,
    probing: AtomicBool,
}

impl Outage {
    /// A connection from `pool`: waited for as usual, or, during an
    /// outage, refused at once (503) while another request probes.
    pub fn connection(&self, pool: &DbPool) -> Result<PooledConn, Error> {
        if self.down.load(Ordering::Acquire) {
            if let Some(conn) = pool.try_get() {
                self.down.store(false, Ordering::Release);
                return Ok(conn);
            }
            let Some(_probe) = Probe::take(&self.probing) else {
                return Err(Error::Unavailable(anyhow::anyhow!(
                    "no database connection: the database was unreachable and is being tried again"
                )));
            };
            return self.wait(pool);
        }
        self.wait(pool)
    }

    /// Waits up to the pool's timeout; the outcome says whether the
    /// database is reachable.
    fn wait(&self, pool: &DbPool) -> Result<PooledConn, Error> {
        let got = pool.get();
        // Written only when it changes: every request reads the flag, and
        // a store on each would move its cache line between the workers.
        if self.down.load(Ordering::Acquire) != got.is_err() {
            self.down.store(got.is_err(), Ordering::Release);
        }
        Ok(got?)
    }
}

/// The one request probing the database; the next may probe once it is
/// dropped (answered or failed, or its thread unwound).
struct Probe<'a>(&'a AtomicBool);

impl<'a> Probe<'a> {
    fn take(flag: &'a AtomicBool) -> Option<Probe<'a>> {
        flag.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| Probe(flag))
    }
}

impl Drop for Probe<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_probe_at_a_time_and_the_next_once_it_is_done() {
        let flag = AtomicBool::new(false);
        let first = Probe::take(&flag).expect("the first probes");
        assert!(Probe::take(&flag).is_none(), "a second waits for nobody");
        drop(first);
        assert!(Probe::take(&flag).is_some(), "the next may probe");
    }

    #[test]
    fn an_unreachable_database_is_refused_at_once_while_one_request_probes() {
        // A pool whose connections can never be made: a PostgreSQL port
        // nothing listens on, a short timeout.
        let manager = super::super::ConnectionManager::new("postgres://nobody@127.0.0.1:1/none")
            .expect("a URL");
        let pool = diesel::r2d2::Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(std::time::Duration::from_millis(200))
            .build_unchecked(manager);
        let outage = Outage::default();
        let refusal = |outage: &Outage| match outage.connection(&pool) {
            Err(Error::Unavailable(cause)) => format!("{cause:#}"),
            other => panic!("not unavailable: {:?}", other.map(|_| ())),
        };
        let waited = refusal(&outage);
        assert!(!waited.contains("tried again"), "{waited}");
        assert!(
            outage.down.load(Ordering::Acquire),
            "the failed wait marks it"
        );
        // While a probe is out, the others are refused without a wait.
        let probe = Probe::take(&outage.probing).expect("no probe out");
        let refused = refusal(&outage);
        assert!(refused.contains("tried again"), "{refused}");
        drop(probe);
        // With none out, the next request probes: it waits, and fails.
        let probed = refusal(&outage);
        assert!(!probed.contains("tried again"), "{probed}");
        assert!(!outage.probing.load(Ordering::Acquire), "the probe is done");
    }
}
