//! `/api/v1/users`: list, read, create and change accounts.

use actix_web::{web, HttpResponse};

use super::model::{CreateUser, CreatedUser, UpdateUser, UserFilter, UserView};
use super::service;
use crate::auth::{AuthUser, Permission};
use crate::domain::UserId;
use crate::error::Error;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/users")
            .route(web::get().to(list_users))
            .route(web::post().to(create_user)),
    )
    .service(
        web::resource("/users/{id}")
            .route(web::get().to(get_user))
            .route(web::patch().to(update_user)),
    );
}

/// List accounts (a unit clerk sees the own unit's).
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserFilter),
    responses((status = 200, body = Page<UserView>), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn list_users(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<UserFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadUsers)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let page = state
        .db(move |conn| service::list(conn, &auth, &filter, paging))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read one account.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    responses((status = 200, body = UserView), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadUsers)?;
    let id = UserId(id.into_inner());
    let user = state.db(move |conn| service::get(conn, &auth, id)).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Create an account (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = CreatedUser), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<CreateUser>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageUsers)?;
    let (user, password) = service::parse_create(body.into_inner())?;
    let (password, generated) = match password {
        Some(p) => (p, None),
        None => {
            let generated = super::bootstrap::generate_password();
            let parsed = crate::domain::values::Password::parse(&generated)
                .map_err(|m| anyhow::anyhow!("generated password rejected: {}", m.en))?;
            (parsed, Some(generated))
        }
    };
    let hash = state.passwords.hash(&password).await?;
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| service::insert(conn, Some(auth.id), &user, hash, now))
        .await?;
    Ok(HttpResponse::Created().json(CreatedUser {
        user: UserView::from_row(row)?,
        generated_password: generated,
    }))
}

/// Change an account (admin). Send the `version` you read; a stale one gets 409.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser,
    responses((status = 200, body = UserView), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<UpdateUser>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageUsers)?;
    let id = UserId(id.into_inner());
    let changes = service::parse_update(body.into_inner())?;
    let hash = match &changes.password {
        Some(p) => {
            // The password policy needs the account's name.
            let account = state
                .db(move |conn| service::find(conn, id)?.ok_or(Error::NotFound))
                .await?;
            p.check_not_username(&account.username)
                .map_err(|m| ApiError::invalid_field("password", m))?;
            Some(state.passwords.hash(p).await?)
        }
        None => None,
    };
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| service::update(conn, Some(auth.id), id, changes, hash, now))
        .await?;
    Ok(HttpResponse::Ok().json(UserView::from_row(row)?))
}
