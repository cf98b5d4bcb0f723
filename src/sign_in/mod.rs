//! Signing in and changing the own password, shared by the API (tokens) and
//! the console (sessions): the same throttle, the same password check, the
//! same answers for a wrong password and an unknown user. Built on `auth`
//! (the throttle) and `users` (the account), which know nothing of it.

pub mod routes;

use crate::auth::throttle;
use crate::domain::message::Message;
use crate::domain::values::{Password, Username};
use crate::domain::UserId;
use crate::error::Error;
use crate::http::problem::{ApiError, ApiResult};
use crate::state::AppState;
use crate::users::model::UserRow;
use crate::users::service as users;

pub fn invalid_credentials() -> ApiError {
    ApiError::unauthorized(
        "invalid_credentials",
        Message::new("用户名或密码错误", "wrong username or password"),
    )
}

/// The active account `username` signs into with `password` from `client`,
/// or 401 (wrong either way, or inactive) or 429 (throttled).
pub async fn authenticate(
    state: &AppState,
    username: &str,
    password: String,
    client: &str,
) -> ApiResult<UserRow> {
    // A name that could never have been created is not looked up, and all
    // such names share one throttle key (no account has the empty name);
    // each still costs one hash check, like any unknown user.
    let username = Username::parse(username).ok().map(Username::into_inner);
    let now = chrono::Utc::now().naive_utc();
    // The throttle first: an attempt over its limit is answered 429 without
    // a hashing place. Beyond the hashing queue, 503: that attempt never
    // reached the password check, so its row is withdrawn and it does not
    // count as a failure against the account.
    let attempt = throttle::begin(state, username.as_deref().unwrap_or(""), client, now).await?;
    let place = match state.passwords.admit() {
        Ok(place) => place,
        Err(busy) => {
            attempt.withdraw(state).await?;
            return Err(busy);
        }
    };
    let user = match username {
        Some(name) => {
            state
                .db(move |conn| Ok(users::find_by_username(conn, &name)?))
                .await?
        }
        None => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = state.passwords.verify(&place, password, hash).await?;
    drop(place);
    match user {
        Some(row) if ok && row.active => {
            attempt.succeeded(state, now).await?;
            tracing::info!(user = row.id.0, "signed in");
            Ok(row)
        }
        // The attempt stays recorded as a failure.
        _ => Err(invalid_credentials()),
    }
}

/// Changes the own password after checking the current one; the account's
/// tokens and console sessions issued before stop working.
pub async fn change_own_password(
    state: &AppState,
    id: UserId,
    current_password: String,
    new_password: &str,
) -> ApiResult<UserRow> {
    let new_password =
        Password::parse(new_password).map_err(|m| ApiError::invalid_field("new_password", m))?;
    let row = state
        .db(move |conn| users::find(conn, id)?.ok_or(Error::NotFound))
        .await?;
    new_password
        .check_not_username(&row.username)
        .map_err(|m| ApiError::invalid_field("new_password", m))?;
    let place = state.passwords.admit()?;
    if !state
        .passwords
        .verify(&place, current_password, Some(row.password_hash.clone()))
        .await?
    {
        return Err(ApiError::invalid_field(
            "current_password",
            Message::new("当前密码不正确", "the current password is wrong"),
        ));
    }
    drop(place);
    let hash = state.passwords.hash(&new_password).await?;
    let now = chrono::Utc::now().naive_utc();
    let changes = users::UserChanges {
        version: row.version,
        ..Default::default()
    };
    state
        .db(move |conn| users::update(conn, Some(id), id, changes, Some(hash), now))
        .await
}
