//! 系统管理 · 账号 (admin only): the accounts list with a create form (the
//! unit picked by name), and per account 手机 (shown and edited in place),
//! 重置密码 and 停用/启用. Each posts
//! to the service functions `/api/v1/users` calls (`parse_create` +
//! `insert`, `parse_update` + `update` with the version the list showed); a
//! password duban generates is shown once, on the page answering the post,
//! never in a link.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::admin_units::{admin_only, Refusal};
use crate::auth::Permission;
use crate::domain::{Role, UnitId, UserId};
use crate::http::problem::ApiError;
use crate::http::Paging;
use crate::state::AppState;
use crate::units::model::UnitFilter;
use crate::users::model::{CreateUser, UpdateUser, UserFilter, UserView};
use crate::users::{bootstrap, service};
use crate::web::page::{filled, render, see_other, OrPage, PageError};
use crate::web::session::Person;

/// The most accounts (and units to pick from) the page shows.
const LIST_MAX: i64 = 500;

/// The create form as posted (and shown again after a refusal).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct UserForm {
    #[serde(skip_serializing)]
    csrf: String,
    username: String,
    display_name: String,
    email: String,
    phone: String,
    role: String,
    /// The picked unit's id from the select; empty for none.
    unit_id: String,
    #[serde(skip_serializing)]
    password: String,
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    user: UserView,
    unit: String,
}

#[derive(Serialize)]
struct UnitChoice {
    id: i64,
    name: String,
}

/// A password shown once: whose, and the password.
#[derive(Serialize)]
struct Shown {
    username: String,
    password: String,
}

#[derive(Serialize)]
struct ListPage {
    users: Vec<Row>,
    units: Vec<UnitChoice>,
    roles: Vec<&'static str>,
    form: UserForm,
    shown: Option<Shown>,
    done: String,
    error: Option<String>,
    fields: HashMap<String, String>,
}

async fn list_page(
    state: &AppState,
    person: &Person,
    status: StatusCode,
    form: UserForm,
    shown: Option<Shown>,
    done: String,
    refusal: Option<Refusal>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    admin_only(person, Permission::ManageUsers)?;
    let auth = person.auth.clone();
    let paging = Paging {
        page: 1,
        per_page: LIST_MAX,
    };
    let (users, units) = state
        .db(move |conn| {
            let users = service::list(conn, &auth, &UserFilter::default(), paging)?;
            let units = crate::units::service::list(conn, &UnitFilter::default(), paging)?;
            Ok((users.items, units.items))
        })
        .await
        .page(lang)?;
    let names: HashMap<UnitId, String> = units.iter().map(|u| (u.id, u.name.clone())).collect();
    let users = users
        .into_iter()
        .map(|user| Row {
            unit: user
                .unit_id
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or_default(),
            user,
        })
        .collect();
    let units = units
        .into_iter()
        .filter(|u| u.active)
        .map(|u| UnitChoice {
            id: u.id.0,
            name: u.name,
        })
        .collect();
    let (status, error, fields) = match refusal {
        Some(r) => (r.status, Some(r.error), r.fields),
        None => (status, None, HashMap::new()),
    };
    let page = ListPage {
        users,
        units,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        form,
        shown,
        done,
        error,
        fields,
    };
    render(status, "admin_users.html", lang, Some(person), page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: String,
}

/// GET /admin/users
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let done = query.into_inner().done;
    let done = if ["deactivated", "reactivated", "phone"].contains(&done.as_str()) {
        done
    } else {
        String::new()
    };
    let form = UserForm {
        role: Role::Unit.as_str().to_string(),
        ..UserForm::default()
    };
    list_page(&state, &person, StatusCode::OK, form, None, done, None).await
}

/// The refused form again with the service's words, or the error page.
async fn refused(
    state: &AppState,
    person: &Person,
    form: UserForm,
    err: ApiError,
) -> Result<HttpResponse, PageError> {
    match Refusal::of(&err, person.lang) {
        Some(r) => list_page(state, person, r.status, form, None, String::new(), Some(r)).await,
        None => Err(PageError::from_api(person.lang, err)),
    }
}

/// POST /admin/users: `POST /api/v1/users`'s service; an empty password
/// has one generated and shown once.
pub async fn create(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<UserForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::ManageUsers)?;
    let form = form.into_inner();
    let unit_id = match form.unit_id.trim() {
        "" => None,
        id => match id.parse() {
            Ok(id) => Some(UnitId(id)),
            Err(_) => return Err(PageError::not_found(person.lang)),
        },
    };
    let req = CreateUser {
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        email: filled(&form.email),
        phone: filled(&form.phone),
        role: form.role.clone(),
        unit_id,
        password: filled(&form.password),
    };
    let result = async {
        let (user, password) = service::parse_create(req)?;
        let (password, shown) = match password {
            Some(p) => (p, None),
            None => {
                let (p, text) = bootstrap::one_time_password()?;
                (p, Some(text))
            }
        };
        let hash = state.passwords.hash(&password).await?;
        let actor = person.auth.id;
        let now = state.clock().now;
        let row = state
            .db(move |conn| service::insert(conn, Some(actor), &user, hash, now))
            .await?;
        Ok::<_, ApiError>((row.username, shown))
    }
    .await;
    match result {
        Ok((username, shown)) => {
            let shown = Some(Shown {
                username,
                password: shown.unwrap_or_default(),
            });
            let blank = UserForm {
                role: Role::Unit.as_str().to_string(),
                ..UserForm::default()
            };
            list_page(
                &state,
                &person,
                StatusCode::CREATED,
                blank,
                shown,
                String::new(),
                None,
            )
            .await
        }
        Err(e) => refused(&state, &person, form, e).await,
    }
}

/// A per-account step's form: the CSRF token, the version the list showed,
/// and for 停用/启用 which one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StepForm {
    csrf: String,
    version: i64,
    active: String,
    /// For 手机: the new number, empty to clear it.
    phone: String,
}

/// POST /admin/users/{id}/password: a new generated password, shown once;
/// the account is signed out everywhere (as `PATCH /api/v1/users/{id}`).
pub async fn reset_password(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::ManageUsers)?;
    let id = UserId(id.into_inner());
    let version = form.version;
    let result = async {
        let (password, text) = bootstrap::one_time_password()?;
        let changes = service::parse_update(UpdateUser {
            version,
            display_name: None,
            email: None,
            phone: None,
            role: None,
            unit_id: None,
            active: None,
            password: None,
        })?;
        let hash = state.passwords.hash(&password).await?;
        let changes = service::UserChanges {
            password: Some(password),
            ..changes
        };
        let actor = person.auth.id;
        let now = state.clock().now;
        let row = state
            .db(move |conn| service::update(conn, Some(actor), id, changes, Some(hash), now))
            .await?;
        Ok::<_, ApiError>(Shown {
            username: row.username,
            password: text,
        })
    }
    .await;
    let blank = UserForm {
        role: Role::Unit.as_str().to_string(),
        ..UserForm::default()
    };
    match result {
        Ok(shown) => {
            list_page(
                &state,
                &person,
                StatusCode::OK,
                blank,
                Some(shown),
                String::new(),
                None,
            )
            .await
        }
        Err(e) => refused(&state, &person, blank, e).await,
    }
}

/// POST /admin/users/{id}/active: 停用 (`active=false`) or 启用 (`true`).
pub async fn set_active(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::ManageUsers)?;
    let id = UserId(id.into_inner());
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(PageError::not_found(person.lang)),
    };
    let version = form.version;
    let actor = person.auth.id;
    let now = state.clock().now;
    let result = async {
        let changes = service::parse_update(UpdateUser {
            version,
            display_name: None,
            email: None,
            phone: None,
            role: None,
            unit_id: None,
            active: Some(active),
            password: None,
        })?;
        state
            .db(move |conn| service::update(conn, Some(actor), id, changes, None, now))
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(if active {
            "/admin/users?done=reactivated"
        } else {
            "/admin/users?done=deactivated"
        })),
        Err(e) => {
            let blank = UserForm {
                role: Role::Unit.as_str().to_string(),
                ..UserForm::default()
            };
            refused(&state, &person, blank, e).await
        }
    }
}

/// POST /admin/users/{id}/phone: the account's 手机 set (or cleared when
/// empty) as `PATCH /api/v1/users/{id}` with `phone` does.
pub async fn set_phone(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<StepForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::ManageUsers)?;
    let id = UserId(id.into_inner());
    let form = form.into_inner();
    let actor = person.auth.id;
    let now = state.clock().now;
    let result = async {
        let changes = service::parse_update(UpdateUser {
            version: form.version,
            display_name: None,
            email: None,
            phone: Some(filled(&form.phone)),
            role: None,
            unit_id: None,
            active: None,
            password: None,
        })?;
        state
            .db(move |conn| service::update(conn, Some(actor), id, changes, None, now))
            .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/users?done=phone")),
        Err(e) => {
            let blank = UserForm {
                role: Role::Unit.as_str().to_string(),
                ..UserForm::default()
            };
            refused(&state, &person, blank, e).await
        }
    }
}
