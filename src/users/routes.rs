//! `/api/v1/users`: list, read, create and change accounts.

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};

use super::batch::BatchReport;
use crate::http::multipart::read_file;

use super::model::{CreateUser, CreatedUser, UpdateUser, UserFilter, UserView};
use super::service;
use crate::auth::{AuthUser, Permission};
use crate::domain::UserId;
use crate::error::Error;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

/// Largest account list, in bytes: thousands of rows fit in far less.
pub const MAX_LIST_BYTES: usize = 5 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/users")
            .route(web::get().to(list_users))
            .route(web::post().to(create_user)),
    )
    // Before `/users/{id}`, which would otherwise claim the path.
    .service(web::resource("/users/batch").route(web::post().to(create_users_batch)))
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
            let (parsed, generated) = super::bootstrap::one_time_password()?;
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

/// Create accounts from a list (admin): multipart field `file`, an .xlsx
/// or .csv table with the columns 单位/姓名/用户名/角色/手机/邮箱 (units by
/// name, code or alias; roles by their Chinese or English names). All or
/// none: any bad cell refuses the whole list with an error per cell
/// (`field` is the cell, e.g. `C5`) and nothing is created. Each account
/// gets a one-time password, returned only here, to be changed at first
/// sign-in.
#[utoipa::path(post, path = "/api/v1/users/batch", tag = "users",
    request_body(content = crate::http::multipart::FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = BatchReport), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_users_batch(
    state: web::Data<AppState>,
    auth: AuthUser,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageUsers)?;
    let file = read_file(multipart, MAX_LIST_BYTES).await?;
    let report = super::batch::create_from_upload(&state, auth.id, file).await?;
    Ok(HttpResponse::Created().json(report))
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
