//! What every handler can reach: the pool, the settings, the token and
//! password services, evidence storage. It imports no routes, so any handler
//! module can use it without a cycle through `startup`.

use std::sync::Arc;

use actix_web::web;

use crate::config::Settings;
use crate::credentials::{account_check, Passwords, Tokens};
use crate::db::outage::Outage;
use crate::db::{Backend, DbConnection, DbPool};
use crate::domain::clock::Clock;
use crate::http::client_address::TrustedProxies;
use crate::http::problem::ApiResult;
use crate::storage::Storage;

/// What every handler can reach.
pub struct AppState {
    pub pool: DbPool,
    /// Whether the database was found unreachable: requests then fail fast.
    pub outage: Arc<Outage>,
    pub backend: Backend,
    pub settings: Arc<Settings>,
    pub tokens: Tokens,
    pub passwords: Passwords,
    pub storage: Storage,
    /// Parsed `trusted_proxies`, for `http::client_address`.
    pub trusted_proxies: TrustedProxies,
}

impl AppState {
    /// Runs blocking database work on the blocking pool with a pooled
    /// connection; no connection is ever held across an `.await`. The work
    /// returns a service `Error`, which the caller's `?` turns into a problem.
    /// A request's bearer token still to be checked (`account_check`) is
    /// checked first, on the same connection: a revoked token's work is not
    /// run.
    pub async fn db<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut DbConnection) -> crate::error::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (pool, outage) = (self.pool.clone(), self.outage.clone());
        let claim = account_check::unchecked();
        let done = web::block(move || -> crate::error::Result<_> {
            let mut conn = outage.connection(&pool)?;
            if let Some(claim) = claim {
                claim.check(&mut conn)?;
            }
            Ok(f(&mut conn))
        })
        .await??;
        if claim.is_some() {
            account_check::checked();
        }
        Ok(done?)
    }

    /// "Now" for the rules, read from the system clock once per call.
    pub fn clock(&self) -> Clock {
        self.settings.clock(chrono::Utc::now())
    }
}
