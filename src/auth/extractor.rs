//! `AuthUser`: the signed-in account behind a request's bearer token.
//! The account is checked on every request (`credentials::account_check`),
//! so a deactivated account, a changed password, role or unit takes effect
//! at once: role and unit are the token's, and only while the database
//! still says the same. The check goes with the request's own database
//! work; outside a request's scope (no `account_check::scope` around it)
//! it is made here, at once.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use super::permissions::{self, Permission};
use crate::credentials::account_check::{self, Claim};
use crate::credentials::token::TokenError;
use crate::domain::message::Message;
use crate::domain::{Role, UnitId, UserId};
use crate::http::problem::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    pub unit_id: Option<UnitId>,
}

impl AuthUser {
    /// For records that belong to a unit (notices, accountability records):
    /// a unit clerk reads the own unit's (`Some(unit)`; `Some(-1)`, nothing,
    /// when the account has no unit), office, admin and viewers read all
    /// (`None`), leaders none of them (403).
    pub fn unit_records_scope(&self) -> ApiResult<Option<i64>> {
        Ok(self.records_scope()?.map(|u| u.0))
    }

    /// `unit_records_scope` for services that answer with the domain's `Error`.
    pub fn records_scope(&self) -> crate::error::Result<Option<UnitId>> {
        match self.role {
            Role::Unit => Ok(Some(self.unit_id.unwrap_or(UnitId(-1)))),
            Role::Leader => Err(crate::error::Error::Forbidden),
            Role::Admin | Role::Office | Role::Viewer => Ok(None),
        }
    }

    /// 403 unless the caller's role has `permission` in the permission table.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if permissions::allows(self.role, permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// `Error::Forbidden` unless the caller's role has `permission`: the
    /// check for services that answer with the domain's `Error`.
    pub fn permit(&self, permission: Permission) -> crate::error::Result<()> {
        if permissions::allows(self.role, permission) {
            Ok(())
        } else {
            Err(crate::error::Error::Forbidden)
        }
    }
}

fn unauthorized_missing() -> ApiError {
    ApiError::unauthorized(
        "missing_token",
        Message::new(
            "请先登录（Authorization: Bearer <令牌>）",
            "sign in first (Authorization: Bearer <token>)",
        ),
    )
}

fn unauthorized_invalid() -> ApiError {
    ApiError::unauthorized(
        "token_invalid",
        Message::new(
            "登录令牌无效，请重新登录",
            "the access token is invalid; sign in again",
        ),
    )
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            let token = bearer.ok_or_else(unauthorized_missing)?;
            let claims = state.tokens.verify(&token).map_err(|e| match e {
                TokenError::Expired => ApiError::unauthorized(
                    "token_expired",
                    Message::new(
                        "登录已过期，请重新登录",
                        "the access token has expired; sign in again",
                    ),
                ),
                TokenError::Invalid => unauthorized_invalid(),
            })?;
            let id = UserId(claims.sub.parse().map_err(|_| unauthorized_invalid())?);
            let claim = Claim {
                id,
                version: claims.ver,
                role: claims.role,
                unit_id: claims.unit.map(UnitId),
            };
            if !account_check::defer(claim) {
                state.db(move |conn| claim.check(conn)).await?;
            }
            Ok(AuthUser {
                id,
                role: claim.role,
                unit_id: claim.unit_id,
            })
        })
    }
}
