//! Account rows as stored, and the API's request and response shapes.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::schema::users;
use crate::domain::{Role, UnitId, UserId};
use crate::http::json::double_option;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    pub password_hash: String,
    pub token_version: i64,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set when an administrator chose the password (creation or reset); the
    /// console asks for a new one before anything else.
    pub must_change_password: bool,
    /// 手机: digits with an optional leading +.
    pub phone: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUserRow {
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub must_change_password: bool,
    pub phone: Option<String>,
}

/// An account as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// 手机: digits with an optional leading +.
    pub phone: Option<String>,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    pub active: bool,
    /// Send back with a PATCH; a stale one gets 409.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    pub fn from_row(row: UserRow) -> anyhow::Result<UserView> {
        Ok(UserView {
            id: row.id,
            role: row.role,
            username: row.username,
            display_name: row.display_name,
            email: row.email,
            phone: row.phone,
            unit_id: row.unit_id,
            active: row.active,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 3–64 of a–z, 0–9, `.`, `_`, `-` (upper case is folded to lower).
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    /// 7–20 characters: digits, optionally after a `+` (spaces, hyphens and
    /// brackets between them are dropped).
    pub phone: Option<String>,
    pub role: String,
    /// Required for role `unit`.
    pub unit_id: Option<UnitId>,
    /// 10–128 characters, not the username, not one character repeated, not
    /// a common password. Omit to have one generated and returned once.
    pub password: Option<String>,
}

/// The new account, and its password when duban generated it (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    /// The `version` last read.
    pub version: i64,
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// 7–20 characters: digits, optionally after a `+`; null or "" clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub role: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub unit_id: Option<Option<UnitId>>,
    pub active: Option<bool>,
    /// Resets the password and signs the account out everywhere. 10–128
    /// characters, not the username, not one character repeated, not a
    /// common password.
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub role: Option<String>,
    pub unit_id: Option<i64>,
    pub active: Option<bool>,
    /// Matches username or display name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}
