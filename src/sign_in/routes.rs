//! `/api/v1/auth/login`, `/api/v1/me` and `/api/v1/me/password`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;

use crate::error::Error;
use crate::http::client_address::client_address;
use crate::http::problem::{ApiResult, Problem};
use crate::http::JsonBody;
use crate::sign_in;
use crate::state::AppState;
use crate::users::model::UserView;
use crate::users::service as users;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/me", web::get().to(me))
        .route("/me/password", web::post().to(change_password));
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

fn token_response(
    state: &AppState,
    row: &crate::users::model::UserRow,
) -> ApiResult<TokenResponse> {
    let token = state.tokens.issue(
        row.id,
        row.role,
        row.unit_id,
        row.token_version,
        chrono::Utc::now(),
    )?;
    Ok(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_secs(),
    })
}

/// Sign in. Wrong password and unknown user answer alike. Too many failures
/// for one account from one address, from one address for any accounts, or
/// for one account from addresses it has not signed in from lately get 429
/// with `Retry-After` (see docs/security.md).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body.into_inner();
    let client = client_address(&req, &state.trusted_proxies);
    let row = sign_in::authenticate(&state, &username, password, &client).await?;
    let body = token_response(&state, &row)?;
    Ok(HttpResponse::Ok().json(body))
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub async fn me(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    let id = auth.id;
    let row = state
        .db(move |conn| users::find(conn, id)?.ok_or(Error::NotFound))
        .await?;
    Ok(HttpResponse::Ok().json(UserView::from_row(row)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    /// 10–128 characters, not the username, not one character repeated,
    /// not a common password.
    pub new_password: String,
}

/// Change the own password. Every token issued before stops working; the
/// response carries a fresh one.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = ChangePassword,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<ChangePassword>,
) -> ApiResult<HttpResponse> {
    let req = body.into_inner();
    let id = auth.id;
    let updated =
        sign_in::change_own_password(&state, id, req.current_password, &req.new_password).await?;
    Ok(HttpResponse::Ok().json(token_response(&state, &updated)?))
}
