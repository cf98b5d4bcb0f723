//! Keeping a lease alive while long work runs: a job run, or a notice being
//! sent. The work runs on the calling thread; a scoped thread renews the
//! lease every so often until the work returns. A holder that dies stops
//! renewing, so its lease lapses and another instance takes the work over.
//! The scheduler (`jobs`) and the delivery worker (`notices::deliver`) both
//! use it; it knows neither.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often to renew a lease of `lease_secs`: three times per lease, so that
/// one slow or failed renewal does not let it lapse.
pub fn interval(lease_secs: i64) -> Duration {
    let millis = u64::try_from(lease_secs.max(1))
        .unwrap_or(1)
        .saturating_mul(1000)
        / 3;
    Duration::from_millis(millis.max(100))
}

/// Runs `work` while `renew` is called every `every`. `renew` answers
/// whether the lease is still held; an error (the database is unreachable)
/// is logged and the next renewal tried, since the lease may still be valid.
/// Returns what `work` returned and whether the lease was found lost.
pub fn with_heartbeat<T>(
    every: Duration,
    renew: impl Fn() -> anyhow::Result<bool> + Sync,
    work: impl FnOnce() -> T,
) -> (T, bool) {
    let lost = AtomicBool::new(false);
    let (done, stopped) = mpsc::channel::<()>();
    let (renew, lost_flag) = (&renew, &lost);
    let result = std::thread::scope(|scope| {
        scope.spawn(move || {
            // Wakes up every `every`, or at once when `done` is dropped.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                match renew() {
                    Ok(true) => {}
                    Ok(false) => {
                        lost_flag.store(true, Ordering::SeqCst);
                        return;
                    }
                    Err(e) => tracing::warn!(error = %format!("{e:#}"), "renewing a lease failed"),
                }
            }
        });
        let result = work();
        drop(done);
        result
    });
    (result, lost.load(Ordering::SeqCst))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn renews_while_the_work_runs_and_stops_after() {
        let beats = AtomicUsize::new(0);
        let (value, lost) = with_heartbeat(
            Duration::from_millis(20),
            || {
                beats.fetch_add(1, Ordering::SeqCst);
                Ok(true)
            },
            || {
                std::thread::sleep(Duration::from_millis(110));
                7
            },
        );
        assert_eq!(value, 7);
        assert!(!lost);
        let seen = beats.load(Ordering::SeqCst);
        assert!((3..=6).contains(&seen), "{seen} renewals");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(
            beats.load(Ordering::SeqCst),
            seen,
            "no renewal after the work"
        );
    }

    #[test]
    fn reports_a_lost_lease() {
        let (_, lost) = with_heartbeat(
            Duration::from_millis(10),
            || Ok(false),
            || std::thread::sleep(Duration::from_millis(50)),
        );
        assert!(lost);
    }

    #[test]
    fn short_work_returns_at_once() {
        let started = std::time::Instant::now();
        with_heartbeat(Duration::from_secs(30), || Ok(true), || ());
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn renewals_come_three_times_a_lease() {
        assert_eq!(interval(30), Duration::from_secs(10));
        assert_eq!(interval(0), Duration::from_millis(333));
    }
}
