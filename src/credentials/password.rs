//! argon2id password hashing, run off the async runtime with a bound on how
//! many hashes run at once (each takes ~19 MiB and tens of milliseconds).

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
        let lanes = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut passwords = Passwords {
            params,
            permits: Arc::new(Semaphore::new(lanes)),
            dummy_hash: Arc::from(""),
        };
        let random = crate::secrets::random_hex(16);
        passwords.dummy_hash = Arc::from(passwords.hash_blocking(&random)?);
        Ok(passwords)
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
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::new)?;
        let this = self.clone();
        let password = password.expose().to_string();
        let hash = actix_web::web::block(move || this.hash_blocking(&password)).await??;
        Ok(hash)
    }

    /// Checks `candidate` against `hash`, or against the dummy hash when there
    /// is no such user, so both cases cost the same.
    pub async fn verify(&self, candidate: String, hash: Option<String>) -> ApiResult<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
