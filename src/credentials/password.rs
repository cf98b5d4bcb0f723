//! argon2id password hashing, run off the async runtime with a bound on how
//! many hashes run at once (each takes ~19 MiB and tens of milliseconds).
//!
//! Hashing takes at most all cores but one, so a flood of sign-ins leaves a
//! core for everything else; a few more requests may wait for a permit, and
//! any beyond that are refused at once with 503 and `Retry-After` instead of
//! queueing without end (and holding their memory and connections).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
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
    /// A hash of a random password: an unknown user's sign-in is checked
    /// against it so that it takes as long as a wrong password.
    dummy_hash: Arc<str>,
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
            dummy_hash: Arc::from(""),
        };
        let random = crate::secrets::random_hex(16);
        passwords.dummy_hash = Arc::from(passwords.hash_blocking(&random)?);
        Ok(passwords)
    }

    /// A place among the hashes running or waiting, or 503 when they are
    /// all taken.
    fn admit(&self) -> ApiResult<Admitted> {
        let before = self.admitted.fetch_add(1, Ordering::SeqCst);
        let admitted = Admitted(self.admitted.clone());
        if before >= self.capacity {
            return Err(ApiError::busy());
        }
        Ok(admitted)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes on the calling thread: for start-up and the command line.
    pub fn hash_blocking(&self, password: &str) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = self
            .argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
            .context("argon2")?;
        Ok(hash.to_string())
    }

    /// Hashes a new password on the blocking pool.
    pub async fn hash(&self, password: &Password) -> ApiResult<String> {
        let _admitted = self.admit()?;
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::new)?;
        let this = self.clone();
        let password = password.expose().to_string();
        let hash = actix_web::web::block(move || this.hash_blocking(&password)).await??;
        Ok(hash)
    }

    /// Checks `candidate` against `hash`, or against the dummy hash when there
    /// is no such user, so both cases cost the same.
    pub async fn verify(&self, candidate: String, hash: Option<String>) -> ApiResult<bool> {
        let _admitted = self.admit()?;
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::new)?;
        let this = self.clone();
        let ok = actix_web::web::block(move || {
            let known = hash.is_some();
            let stored = hash.as_deref().unwrap_or(&this.dummy_hash);
            let ok = PasswordHash::new(stored)
                .map(|parsed| {
                    this.argon2()
                        .verify_password(candidate.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false);
            known && ok
        })
        .await
        .map_err(ApiError::from)?;
        Ok(ok)
    }
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

/// A place among the admitted hashes, given back when dropped (also when the
/// request is abandoned while it waits).
struct Admitted(Arc<AtomicUsize>);

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
