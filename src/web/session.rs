//! Console sessions: a random token in an HttpOnly, SameSite=Lax cookie (and
//! `Secure` when `public_url` is https); the database keeps only its SHA-256.
//! A session ends when signed out, after `session_idle_minutes` without a
//! request (each request slides it) or `session_max_minutes` after sign-in.
//! `Person` is the signed-in account of a console request.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::error::PageError;
use crate::auth::AuthUser;
use crate::config::Settings;
use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::domain::message::Lang;
use crate::domain::{UnitId, UserId};
use crate::state::AppState;

pub const COOKIE: &str = "duban_session";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether cookies must be `Secure`: the person reaches duban over https.
pub fn secure(settings: &Settings) -> bool {
    settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
}

/// The session cookie for `token` (an empty token with max-age 0 removes it).
pub fn cookie(settings: &Settings, token: &str) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, token.to_string())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure(settings))
        .finish();
    if token.is_empty() {
        c.make_removal();
    }
    c
}

/// Opens a session for `user`; returns the token for the cookie.
pub fn open(conn: &mut DbConnection, user: UserId, now: NaiveDateTime) -> QueryResult<String> {
    let token = crate::secrets::random_hex(32);
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(hash(&token)),
            sessions::user_id.eq(user.0),
            sessions::csrf_token.eq(crate::secrets::random_hex(24)),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Ends the session behind `token` for good.
pub fn revoke(conn: &mut DbConnection, token: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(hash(token)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

/// The signed-in person of a console request.
#[derive(Debug, Clone)]
pub struct Person {
    pub auth: AuthUser,
    pub username: String,
    pub display_name: String,
    pub csrf: String,
    pub must_change_password: bool,
    pub lang: Lang,
}

impl Person {
    /// A 403 page unless `sent` is this session's CSRF token: the first step
    /// of every state-changing form.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        if super::csrf::matches(sent, &self.csrf) {
            Ok(())
        } else {
            Err(super::csrf::refused(self.lang))
        }
    }
}

/// A session and its account, as `find` reads them.
#[derive(Queryable)]
struct Found {
    id: i64,
    csrf: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    user_id: i64,
    username: String,
    display_name: String,
    role: String,
    unit_id: Option<i64>,
    active: bool,
    must_change_password: bool,
}

/// Looks the session up and slides its idle limit; `None` when it is not
/// (or no longer) valid.
fn find(
    conn: &mut DbConnection,
    token: &str,
    settings: &Settings,
    now: NaiveDateTime,
) -> crate::error::Result<Option<Found>> {
    // Every console request reads this: on the backend's own connection
    // (`db::per_backend`).
    let found: Option<Found> = crate::db::per_backend!(conn, c => sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(hash(token)))
        .filter(sessions::revoked_at.is_null())
        .select((
            sessions::id,
            sessions::csrf_token,
            sessions::created_at,
            sessions::last_seen_at,
            users::id,
            users::username,
            users::display_name,
            users::role,
            users::unit_id,
            users::active,
            users::must_change_password,
        ))
        .first(c)
        .optional())?;
    let Some(found) = found else { return Ok(None) };
    let idle = Duration::minutes(settings.session_idle_minutes);
    let max = Duration::minutes(settings.session_max_minutes);
    if found.last_seen_at + idle < now || found.created_at + max < now || !found.active {
        return Ok(None);
    }
    // Written at most once a minute: a page with many requests costs one write.
    if now - found.last_seen_at > Duration::minutes(1) {
        diesel::update(sessions::table.find(found.id))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(found))
}

impl FromRequest for Person {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req.cookie(COOKIE).map(|c| c.value().to_string());
        let lang = crate::i18n::lang_of(req);
        let path = req.path().to_string();
        let next = req
            .uri()
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| PageError::internal(lang, "no app state"))?;
            let sign_in = || PageError::SignIn { next: next.clone() };
            let token = token.filter(|t| !t.is_empty()).ok_or_else(sign_in)?;
            let settings = state.settings.clone();
            let now = chrono::Utc::now().naive_utc();
            let found = state
                .db(move |conn| find(conn, &token, &settings, now))
                .await
                .map_err(|e| PageError::from_api(lang, e))?
                .ok_or_else(sign_in)?;
            let role = crate::domain::Role::parse(&found.role)
                .map_err(|_| PageError::internal(lang, "stored role is unknown"))?;
            let person = Person {
                auth: AuthUser {
                    id: UserId(found.user_id),
                    role,
                    unit_id: found.unit_id.map(UnitId),
                },
                username: found.username,
                display_name: found.display_name,
                csrf: found.csrf,
                must_change_password: found.must_change_password,
                lang,
            };
            // An administrator chose this password: nothing else until the
            // person has chosen their own.
            if person.must_change_password && path != "/password" && path != "/logout" {
                return Err(PageError::Redirect("/password".into()));
            }
            Ok(person)
        })
    }
}
