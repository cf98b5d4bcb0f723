//! Sign-in throttling, decided by the database.
//!
//! Every attempt is written *before* its password is checked, in the write
//! transaction that counts the attempts already made and decides whether this
//! one may go on; a refused attempt is rolled back and leaves nothing behind.
//! An attempt counts as a failure until it is marked as succeeded, so sixty
//! guesses sent at once find each other's rows and at most the limit of them
//! reach the password check.
//!
//! Three sliding-window limits, each with its own reason:
//!
//! - per account *and* client address (`login_max_failures`, 10): the guesser
//!   at one address is stopped, and the real user elsewhere (the office) is
//!   not affected by it;
//! - per client address across accounts (`login_max_failures_per_address`,
//!   100): one address spraying many usernames is stopped. It is high because
//!   a whole office may sit behind one NAT or proxy, and it only counts that
//!   address's own failures, so nobody elsewhere can exhaust it;
//! - per account across addresses (`login_max_failures_per_account`, 50): many
//!   addresses guessing one account are stopped. An address the account
//!   signed in from within `login_known_address_days` is exempt, so such an
//!   attack cannot lock the real user out of the office; a new address may
//!   have to wait while the attack lasts.
//!
//! A sliding window means no refusal outlives the window: the wait ends when
//! enough counted failures have aged out. The console will call the same
//! `begin` and `Attempt::succeeded` as the API's sign-in.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::sign_in_attempts as attempts;
use crate::db::{self, DbBackend, DbConnection};
use crate::error::{Error, Result};
use crate::http::problem::ApiResult;
use crate::state::AppState;

/// The throttle's limits (settings `login_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub per_account_and_address: i64,
    pub per_account: i64,
    pub per_address: i64,
    pub window: Duration,
    /// How long a successful sign-in exempts its address from the per-account
    /// limit; zero for never.
    pub known_address_for: Duration,
}

impl Limits {
    /// The limits as configured.
    pub fn of(settings: &crate::config::Settings) -> Limits {
        Limits {
            per_account_and_address: settings.login_max_failures,
            per_account: settings.login_max_failures_per_account,
            per_address: settings.login_max_failures_per_address,
            window: Duration::minutes(settings.login_window_minutes),
            known_address_for: Duration::days(settings.login_known_address_days),
        }
    }
}

/// An attempt let through to the password check. It counts as a failure
/// unless `succeeded` is called.
#[derive(Debug)]
#[must_use = "an attempt not marked as succeeded counts as a failure"]
pub struct Attempt {
    id: i64,
    username: String,
    client: String,
}

/// Records a sign-in attempt for `username` from `client` at `now`, or
/// refuses it with 429 and `Retry-After` when a limit is reached. Usable
/// from any handler: the client is `http::client_address::client_address`.
pub async fn begin(
    state: &AppState,
    username: &str,
    client: &str,
    now: NaiveDateTime,
) -> ApiResult<Attempt> {
    let limits = Limits::of(&state.settings);
    let (username, client) = (username.to_string(), client.to_string());
    state
        .db(move |conn| admit(conn, &limits, &username, &client, now))
        .await
}

impl Attempt {
    /// The attempt was refused before its password was checked (the
    /// hashing queue was full): it leaves nothing behind, like an attempt
    /// the throttle refused.
    pub async fn withdraw(self, state: &AppState) -> ApiResult<()> {
        let id = self.id;
        state
            .db(move |conn| {
                diesel::delete(attempts::table.find(id)).execute(conn)?;
                Ok(())
            })
            .await
    }

    /// The password was right: this attempt and the account's earlier
    /// failures from this address stop counting, and the address is
    /// remembered. Old rows are swept on the way.
    pub async fn succeeded(self, state: &AppState, now: NaiveDateTime) -> ApiResult<()> {
        let limits = Limits::of(&state.settings);
        state
            .db(move |conn| Ok(mark_succeeded(conn, &self, &limits, now)?))
            .await?;
        let swept = state.db(move |conn| Ok(sweep(conn, &limits, now)?)).await;
        if let Err(e) = swept {
            // Only housekeeping: stale rows never count, so the sign-in stands.
            tracing::warn!(error = ?e, "sweeping old sign-in attempts failed");
        }
        Ok(())
    }
}

/// The synchronous core of `begin`: one write transaction that takes the
/// account's and the address's lock, inserts the attempt, then checks the
/// three limits. A refusal rolls the insert back.
pub fn admit(
    conn: &mut DbConnection,
    limits: &Limits,
    username: &str,
    client: &str,
    now: NaiveDateTime,
) -> Result<Attempt> {
    conn.write(|conn| {
        db::lock_sign_in(conn, username, client)?;
        let id: i64 = diesel::insert_into(attempts::table)
            .values((
                attempts::username.eq(username),
                attempts::client_ip.eq(client),
                attempts::attempted_at.eq(now),
                attempts::succeeded.eq(false),
            ))
            .returning(attempts::id)
            .get_result(conn)?;
        let known = limits.known_address_for > Duration::zero()
            && attempts::table
                .filter(attempts::username.eq(username))
                .filter(attempts::client_ip.eq(client))
                .filter(attempts::succeeded.eq(true))
                .filter(attempts::attempted_at.gt(now - limits.known_address_for))
                .count()
                .get_result::<i64>(conn)?
                > 0;
        let mut scopes = vec![
            (
                Scope {
                    username: Some(username),
                    client: Some(client),
                },
                limits.per_account_and_address,
            ),
            (
                Scope {
                    username: None,
                    client: Some(client),
                },
                limits.per_address,
            ),
        ];
        if !known {
            let scope = Scope {
                username: Some(username),
                client: None,
            };
            scopes.push((scope, limits.per_account));
        }
        let mut wait: Option<u64> = None;
        for (scope, limit) in scopes {
            if let Some(secs) = scope.wait(conn, id, limit, limits.window, now)? {
                wait = Some(wait.map_or(secs, |w| w.max(secs)));
            }
        }
        match wait {
            Some(secs) => Err(Error::TooManyAttempts {
                retry_after_secs: secs,
            }),
            None => Ok(Attempt {
                id,
                username: username.to_string(),
                client: client.to_string(),
            }),
        }
    })
}

/// Which attempts a limit counts: one account, one address, or both.
struct Scope<'a> {
    username: Option<&'a str>,
    client: Option<&'a str>,
}

impl Scope<'_> {
    /// The failures in the window, other than attempt `except`.
    fn failures(&self, since: NaiveDateTime, except: i64) -> attempts::BoxedQuery<'_, DbBackend> {
        let mut query = attempts::table
            .filter(attempts::succeeded.eq(false))
            .filter(attempts::attempted_at.gt(since))
            .filter(attempts::id.ne(except))
            .into_boxed();
        if let Some(username) = self.username {
            query = query.filter(attempts::username.eq(username));
        }
        if let Some(client) = self.client {
            query = query.filter(attempts::client_ip.eq(client));
        }
        query
    }

    /// Seconds until fewer than `limit` earlier failures remain in the
    /// window, or None when there are fewer already.
    fn wait(
        &self,
        conn: &mut DbConnection,
        except: i64,
        limit: i64,
        window: Duration,
        now: NaiveDateTime,
    ) -> QueryResult<Option<u64>> {
        let since = now - window;
        let count: i64 = self.failures(since, except).count().get_result(conn)?;
        if count < limit {
            return Ok(None);
        }
        // Enough failures must age out to leave `limit - 1`: the wait ends
        // when the one at this position (oldest first) leaves the window.
        let pivot: NaiveDateTime = self
            .failures(since, except)
            .select(attempts::attempted_at)
            .order((attempts::attempted_at.asc(), attempts::id.asc()))
            .offset(count - limit)
            .first(conn)?;
        Ok(Some(seconds_until_free(pivot, window, now)))
    }
}

fn seconds_until_free(pivot: NaiveDateTime, window: Duration, now: NaiveDateTime) -> u64 {
    let wait = (pivot + window - now).num_seconds() + 1;
    u64::try_from(wait.max(1)).unwrap_or(1)
}

/// Marks `attempt` as succeeded and forgets the pair's failures and older
/// successes. Only rows young enough that `sweep` leaves them alone are
/// touched, so the two never contend for a row.
pub fn mark_succeeded(
    conn: &mut DbConnection,
    attempt: &Attempt,
    limits: &Limits,
    now: NaiveDateTime,
) -> QueryResult<()> {
    conn.write(|conn| {
        diesel::delete(
            attempts::table
                .filter(attempts::username.eq(&attempt.username))
                .filter(attempts::client_ip.eq(&attempt.client))
                .filter(attempts::id.ne(attempt.id))
                .filter(
                    (attempts::succeeded
                        .eq(false)
                        .and(attempts::attempted_at.gt(now - limits.window)))
                    .or(attempts::succeeded
                        .eq(true)
                        .and(attempts::attempted_at.gt(now - limits.known_address_for))),
                ),
        )
        .execute(conn)?;
        diesel::update(attempts::table.find(attempt.id))
            .set(attempts::succeeded.eq(true))
            .execute(conn)?;
        Ok(())
    })
}

/// Deletes attempts that no longer count: failures older than the window and
/// successes older than the remembered period, each with an hour's margin
/// so that instances with slightly different clocks do not race for a row.
pub fn sweep(conn: &mut DbConnection, limits: &Limits, now: NaiveDateTime) -> QueryResult<usize> {
    let margin = Duration::hours(1);
    diesel::delete(
        attempts::table.filter(
            (attempts::succeeded
                .eq(false)
                .and(attempts::attempted_at.le(now - limits.window - margin)))
            .or(attempts::succeeded
                .eq(true)
                .and(attempts::attempted_at.le(now - limits.known_address_for - margin))),
        ),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_ends_when_the_pivot_failure_leaves_the_window() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let window = Duration::minutes(15);
        assert_eq!(
            seconds_until_free(now - Duration::minutes(5), window, now),
            601
        );
        assert_eq!(
            seconds_until_free(now - Duration::minutes(20), window, now),
            1
        );
    }
}
