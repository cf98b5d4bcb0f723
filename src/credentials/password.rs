//! argon2id password hashing, run off the async runtime with a bound on how
//! many hashes run at once (each takes ~19 MiB and tens of milliseconds).
//!
//! Hashing takes at most all cores but one, so a flood of sign-ins leaves a
//! core for everything else, and each of those lanes hashes at most
//! `hashing_share_percent` of its time (after a hash it rests in proportion,
//! holding its permit), so the reads beside a flood keep most of the machine
//! even on two cores. A few more requests may wait for a permit, and any
//! beyond that are refused at once with 503 and `Retry-After` instead of
//! queueing without end (and holding their memory and connections).
//!
//! The hashes' working memory is kept between hashes, one buffer per lane
//! (see `Memory`), so a flood does not leave the process larger than it found it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::config::Settings;
use crate::domain::values::Password;
use crate::http::problem::{ApiError, ApiResult};

#[derive(Clone)]
pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    /// Hashes running or waiting for a permit, and how many may be.
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    /// `hashing_share_percent`: how much of its time a lane may hash.
    share_percent: u32,
    /// A hash of a random password: an unknown user's sign-in is checked
    /// against it so that it takes as long as a wrong password.
    dummy_hash: Arc<str>,
    memory: Memory,
}

impl Passwords {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
        let lanes = hashing_lanes(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let mut passwords = Passwords {
            params,
            permits: Arc::new(Semaphore::new(lanes)),
            admitted: Arc::new(AtomicUsize::new(0)),
            capacity: lanes + WAITING.max(WAITING_PER_LANE * lanes),
            share_percent: settings.hashing_share_percent,
            dummy_hash: Arc::from(""),
            memory: Memory::new(lanes),
        };
        let random = crate::secrets::random_hex(16);
        passwords.dummy_hash = Arc::from(passwords.hash_blocking(&random)?);
        Ok(passwords)
    }

    /// A place among the hashes running or waiting, or 503 when they are
    /// all taken. A sign-in takes it before anything else (the throttle's
    /// write, the account's lookup), so that an attempt in excess of a flood
    /// is refused at once and costs the database nothing.
    pub fn admit(&self) -> ApiResult<Admitted> {
        let before = self.admitted.fetch_add(1, Ordering::SeqCst);
        let admitted = Admitted(self.admitted.clone());
        if before >= self.capacity {
            return Err(ApiError::busy());
        }
        Ok(admitted)
    }

    /// Hashes on the calling thread: for start-up and the command line.
    pub fn hash_blocking(&self, password: &str) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = self
            .compute(
                password.as_bytes(),
                Algorithm::Argon2id,
                Version::V0x13,
                self.params.clone(),
                salt.as_salt(),
            )
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
            .context("argon2")?;
        Ok(hash.to_string())
    }

    /// Whether `candidate` is the password of the PHC string `stored`, hashed
    /// with the parameters `stored` names (which may be older than ours).
    fn verify_blocking(&self, candidate: &[u8], stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let computed = self.recompute(candidate, &parsed, salt);
        // `Output`'s equality is constant-time.
        matches!(computed, Ok(PasswordHash { hash: Some(out), .. }) if out == expected)
    }

    /// `candidate` hashed with the algorithm, version and parameters of `stored`.
    fn recompute<'a>(
        &self,
        candidate: &[u8],
        stored: &PasswordHash<'_>,
        salt: Salt<'a>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        let algorithm = Algorithm::try_from(stored.algorithm)?;
        let version = stored
            .version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let params = Params::try_from(stored)?;
        self.compute(candidate, algorithm, version, params, salt)
    }

    /// argon2's own `hash_password`, but in memory taken from the pool.
    fn compute<'a>(
        &self,
        password: &[u8],
        algorithm: Algorithm,
        version: Version,
        params: Params,
        salt: Salt<'a>,
    ) -> argon2::password_hash::Result<PasswordHash<'a>> {
        let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
        let raw_salt = salt.decode_b64(&mut salt_buffer)?;
        let blocks = params.block_count();
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let params_string = ParamsString::try_from(&params)?;
        let argon2 = Argon2::new(algorithm, version, params);
        let output = Output::init_with(output_len, |out| {
            self.memory.with(blocks, |memory| {
                argon2.hash_password_into_with_memory(password, raw_salt, out, memory)
            })?;
            Ok(())
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: params_string,
            salt: Some(salt),
            hash: Some(output),
        })
    }

    /// Hashes a new password on the blocking pool.
    pub async fn hash(&self, password: &Password) -> ApiResult<String> {
        let _admitted = self.admit()?;
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::new)?;
        let this = self.clone();
        let password = password.expose().to_string();
        let started = Instant::now();
        let hash = actix_web::web::block(move || this.hash_blocking(&password)).await?;
        self.rest(started.elapsed()).await;
        Ok(hash?)
    }

    /// Checks `candidate` against `hash`, or against the dummy hash when there
    /// is no such user, so both cases cost the same. `_place`: see `admit`.
    pub async fn verify(
        &self,
        _place: &Admitted,
        candidate: String,
        hash: Option<String>,
    ) -> ApiResult<bool> {
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::new)?;
        let this = self.clone();
        let started = Instant::now();
        let ok = actix_web::web::block(move || {
            let known = hash.is_some();
            let stored = hash.as_deref().unwrap_or(&this.dummy_hash);
            let ok = this.verify_blocking(candidate.as_bytes(), stored);
            known && ok
        })
        .await
        .map_err(ApiError::from)?;
        self.rest(started.elapsed()).await;
        Ok(ok)
    }

    /// The lane's rest after a hash that took `busy`, its permit still held
    /// by the caller: the rest is a timer, not a thread, and the hash's
    /// answer waits for it, so a flood's sign-ins are paced while everyone
    /// else's requests run.
    async fn rest(&self, busy: Duration) {
        let rest = rest_after(busy, self.share_percent);
        if !rest.is_zero() {
            tokio::time::sleep(rest).await;
        }
    }
}

/// How long a lane rests after hashing for `busy` so that it hashes
/// `share_percent` of its time: busy / (busy + rest) = share.
fn rest_after(busy: Duration, share_percent: u32) -> Duration {
    let share = share_percent.clamp(1, 100);
    busy.saturating_mul(100 - share) / share
}

/// How many hashes may wait for a permit: 16, or four per permit when that
/// is more. Enough for the sign-in throttle's own limit (ten attempts per
/// account or address reach the check) to be answered 401, not 503.
const WAITING: usize = 16;
const WAITING_PER_LANE: usize = 4;

/// Hashes that may run at once on `cores` cores: all but one, at least one.
fn hashing_lanes(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}

/// argon2's working memory (19 MiB at the default parameters), kept for the
/// next hash: at most one buffer per lane, since no more hashes than lanes
/// run at once (the command line's hashes, which take no permit, allocate
/// their own when the pool is empty and keep no more than `keep`).
///
/// Why: allocated per hash, the buffer went back to glibc in whichever
/// blocking thread ran that hash. After the first such free glibc raises its
/// mmap threshold past 19 MiB, so later buffers came from the threads' own
/// arenas and stayed there: the process grew by a buffer for every thread
/// that had hashed, to hundreds of MiB after a sign-in flood.
#[derive(Clone)]
struct Memory {
    free: Arc<Mutex<Vec<Vec<Block>>>>,
    keep: usize,
}

impl Memory {
    fn new(keep: usize) -> Memory {
        Memory {
            free: Arc::new(Mutex::new(Vec::with_capacity(keep))),
            keep,
        }
    }

    /// Runs `f` on a buffer of at least `blocks` blocks, then keeps the
    /// buffer for the next hash.
    fn with<R>(&self, blocks: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        let mut buffer = self
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::new());
        }
        let result = f(&mut buffer);
        if let Ok(mut free) = self.free.lock() {
            if free.len() < self.keep {
                free.push(buffer);
            }
        }
        result
    }
}

/// A place among the admitted hashes, given back when dropped (also when the
/// request is abandoned while it waits).
pub struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_leaves_a_core_free() {
        assert_eq!(hashing_lanes(1), 1);
        assert_eq!(hashing_lanes(2), 1);
        assert_eq!(hashing_lanes(8), 7);
    }

    #[test]
    fn a_lane_rests_in_proportion_to_its_hash() {
        let busy = Duration::from_millis(30);
        assert_eq!(rest_after(busy, 100), Duration::ZERO);
        assert_eq!(rest_after(busy, 50), busy);
        assert_eq!(rest_after(busy, 25), busy * 3);
        assert_eq!(rest_after(Duration::ZERO, 10), Duration::ZERO);
    }

    proptest::proptest! {
        /// Whatever the hash took, the lane's busy share of hash and rest is
        /// the configured one (to the nanosecond's rounding).
        #[test]
        fn a_lane_hashes_its_share_of_the_time(
            busy_us in 0u64..10_000_000,
            share in 1u32..=100,
        ) {
            let busy = Duration::from_micros(busy_us);
            let rest = rest_after(busy, share);
            let total = (busy + rest).as_nanos();
            let share = u128::from(share);
            // The rest is rounded down to the nanosecond, never up.
            proptest::prop_assert!(total * share <= busy.as_nanos() * 100);
            proptest::prop_assert!(busy.as_nanos() * 100 < total * share + share);
        }
    }

    #[test]
    fn hashes_beyond_the_queue_are_refused_at_once() {
        let passwords = Passwords::new(&Settings::default()).unwrap();
        let held: Vec<Admitted> = (0..passwords.capacity)
            .map(|_| passwords.admit().unwrap())
            .collect();
        let refused = passwords.admit().err().unwrap();
        assert_eq!(
            actix_web::ResponseError::status_code(&refused),
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE
        );
        drop(held);
        assert!(passwords.admit().is_ok(), "places are given back");
    }

    /// The pooled hashing writes and reads the same PHC strings as argon2's
    /// own `hash_password` and `verify_password`, so stored hashes keep working.
    #[test]
    fn pooled_hashes_match_argon2_s_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let settings = Settings {
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            ..Settings::default()
        };
        let passwords = Passwords::new(&settings).unwrap();
        let ours = passwords.hash_blocking("a-password-1").unwrap();
        let theirs = Argon2::default();
        assert!(theirs
            .verify_password(b"a-password-1", &PasswordHash::new(&ours).unwrap())
            .is_ok());
        // A hash made elsewhere with other parameters (an older setting).
        let salt = SaltString::generate(&mut OsRng);
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(128, 2, 1, None).unwrap(),
        )
        .hash_password(b"a-password-2", &salt)
        .unwrap()
        .to_string();
        assert!(passwords.verify_blocking(b"a-password-2", &other));
        assert!(!passwords.verify_blocking(b"a-password-3", &other));
        assert!(passwords.verify_blocking(b"a-password-1", &ours));
        assert!(!passwords.verify_blocking(b"a-password-2", &ours));
        assert!(!passwords.verify_blocking(b"a-password-1", "not a hash"));
    }

    #[test]
    fn hashing_memory_is_kept_per_lane_not_per_hash() {
        let memory = Memory::new(1);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| memory.with(8, |m| assert!(m.len() >= 8)));
            }
        });
        let free = memory.free.lock().unwrap();
        assert_eq!(free.len(), 1, "one buffer kept for the one lane");
        assert_eq!(free[0].len(), 8);
    }

    #[test]
    fn production_hashes_with_the_owasp_parameters_by_default() {
        let passwords = Passwords::new(&Settings::default()).unwrap();
        let hash = passwords.hash_blocking("a-password-1").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }
}
