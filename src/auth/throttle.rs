//! Sign-in throttling. Failures are counted per account *and* client address
//! within a sliding window: past the limit that pair gets 429 until the oldest
//! counted failure leaves the window. Because the key includes the address, an
//! attacker elsewhere cannot lock the real user out, and because the window
//! slides, no lock lasts longer than the window.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::login_failures;
use crate::db::DbConnection;

/// Seconds the pair must wait, or None when it may try now.
pub fn retry_after(
    conn: &mut DbConnection,
    username: &str,
    client_ip: &str,
    now: NaiveDateTime,
    max_failures: i64,
    window: Duration,
) -> QueryResult<Option<u64>> {
    let since = now - window;
    let recent = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::client_ip.eq(client_ip))
        .filter(login_failures::failed_at.gt(since));
    let count: i64 = recent.count().get_result(conn)?;
    if count < max_failures {
        return Ok(None);
    }
    // The pair may try again once enough failures have aged out to leave
    // fewer than `max_failures` in the window.
    let pivot: NaiveDateTime = recent
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .offset(count - max_failures)
        .first(conn)?;
    Ok(Some(seconds_until_free(pivot, window, now)))
}

fn seconds_until_free(pivot: NaiveDateTime, window: Duration, now: NaiveDateTime) -> u64 {
    let wait = (pivot + window - now).num_seconds() + 1;
    u64::try_from(wait.max(1)).unwrap_or(1)
}

/// Records one failure and forgets failures older than the window.
pub fn record_failure(
    conn: &mut DbConnection,
    username: &str,
    client_ip: &str,
    now: NaiveDateTime,
    window: Duration,
) -> QueryResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::failed_at.le(now - window)))
        .execute(conn)?;
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::client_ip.eq(client_ip),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A successful sign-in forgets the pair's failures.
pub fn clear(conn: &mut DbConnection, username: &str, client_ip: &str) -> QueryResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::username.eq(username))
            .filter(login_failures::client_ip.eq(client_ip)),
    )
    .execute(conn)?;
    Ok(())
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
