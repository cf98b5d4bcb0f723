//! The account check of a bearer token, made on the connection of the
//! request's own database work instead of in a round trip of its own.
//!
//! A token names the account, its role, unit and token version; the account
//! must still be active, at that version, in that role and unit. `AuthUser`
//! takes role and unit from the verified token and leaves the check here;
//! `AppState::db` makes it on the pooled connection it took for the
//! handler's work, before that work (so nothing is read or written for a
//! revoked token). Every request runs in `scope` (the middleware
//! `auth::middleware::account_check`), which hands back a claim the handler
//! left unchecked, never having reached the database; the middleware checks
//! it then and answers 401 instead of the handler's answer when it fails.
//! Either way every request with a revoked token is refused, as when the
//! check had a round trip of its own, for one blocking-pool hand-over and
//! one pooled connection a request less.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::DbConnection;
use crate::domain::{Role, UnitId, UserId};
use crate::error::{AuthFailure, Error, Result};

/// What a verified token says of its account, to be checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub id: UserId,
    pub version: i64,
    pub role: Role,
    pub unit_id: Option<UnitId>,
}

impl Claim {
    /// `Ok` when the account is active and still what the token says;
    /// `token_revoked` when it was deactivated, its password or token
    /// version changed, or it was given another role or unit (the person
    /// signs in again and gets a token that says so).
    pub fn check(&self, conn: &mut DbConnection) -> Result<()> {
        // Every API request reads this: on the backend's own connection.
        let found = crate::db::per_backend!(conn, c => users::table
            .find(self.id.0)
            .select((
                users::active,
                users::token_version,
                users::role,
                users::unit_id,
            ))
            .first::<(bool, i64, String, Option<i64>)>(c)
            .optional())?;
        match found {
            Some((true, version, role, unit_id))
                if version == self.version
                    && role == self.role.as_str()
                    && unit_id == self.unit_id.map(|u| u.0) =>
            {
                Ok(())
            }
            _ => Err(Error::Unauthorized(AuthFailure::TokenRevoked)),
        }
    }
}

/// A request's claim while it is still to be checked.
#[derive(Debug, Default)]
struct Pending(Mutex<Option<Claim>>);

impl Pending {
    /// The slot, whatever became of another holder (nothing here panics
    /// while holding it, and a claim must never be lost to a poisoned lock).
    fn slot(&self) -> MutexGuard<'_, Option<Claim>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

tokio::task_local! {
    static PENDING: Arc<Pending>;
}

/// Runs `request` (the extractors and the handler) with a place for its
/// token's claim; returns the claim still unchecked when it is over, for the
/// caller to check (the handler made no database work).
pub async fn scope<F: Future>(request: F) -> (F::Output, Option<Claim>) {
    let pending = Arc::new(Pending::default());
    let output = PENDING.scope(pending.clone(), request).await;
    let unchecked = *pending.slot();
    (output, unchecked)
}

/// Leaves `claim` to be checked with the request's database work; `false`
/// outside `scope` (the caller checks at once).
pub fn defer(claim: Claim) -> bool {
    PENDING
        .try_with(|pending| *pending.slot() = Some(claim))
        .is_ok()
}

/// The claim still to be checked by the request running on this task, if any.
pub fn unchecked() -> Option<Claim> {
    PENDING.try_with(|pending| *pending.slot()).ok().flatten()
}

/// The request's claim was checked (once is enough for the request).
pub fn checked() {
    // Outside a request's scope there is nothing to mark.
    let _ = PENDING.try_with(|pending| *pending.slot() = None);
}
