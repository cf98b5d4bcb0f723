//! Account rules and queries: who may see which account, creating and changing
//! accounts, and keeping at least one active admin.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{CreateUser, NewUserRow, UpdateUser, UserFilter, UserRow, UserView};
use crate::audit;
use crate::auth::AuthUser;
use crate::db::schema::users;
use crate::db::search::{like_pattern, search_text};
use crate::db::DbConnection;
use crate::domain::message::Message;
use crate::domain::values::{BoundedText, Email, Password, Phone, Username};
use crate::domain::{Role, UnitId, UserId};
use crate::error::{Conflict, Error, Result, Validator};
use crate::http::{Page, Paging};
use crate::units;

pub fn find(conn: &mut DbConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id.0)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// A unit clerk sees the accounts of the own unit; every other role sees all.
fn unit_scope(auth: &AuthUser) -> Option<Option<UnitId>> {
    match auth.role {
        Role::Unit => Some(auth.unit_id),
        _ => None,
    }
}

pub fn get(conn: &mut DbConnection, auth: &AuthUser, id: UserId) -> Result<UserView> {
    let row = find(conn, id)?.ok_or(Error::NotFound)?;
    if let Some(scope) = unit_scope(auth) {
        if row.unit_id != scope && row.id != auth.id {
            return Err(Error::NotFound);
        }
    }
    Ok(UserView::from_row(row)?)
}

pub fn list(
    conn: &mut DbConnection,
    auth: &AuthUser,
    filter: &UserFilter,
    paging: Paging,
) -> Result<Page<UserView>> {
    let mut v = Validator::default();
    let role = filter
        .role
        .as_deref()
        .and_then(|r| v.check("role", Role::parse(r)));
    let text = v.check("q", search_text(filter.q.as_deref())).flatten();
    v.finish()?;
    let scope = unit_scope(auth);
    let query = || {
        let mut q = users::table.into_boxed();
        if let Some(scope) = scope {
            q = match scope {
                Some(unit) => q.filter(users::unit_id.eq(unit.0)),
                None => q.filter(users::id.eq(auth.id.0)),
            };
        }
        if let Some(role) = role {
            q = q.filter(users::role.eq(role.as_str()));
        }
        if let Some(unit) = filter.unit_id {
            q = q.filter(users::unit_id.eq(unit));
        }
        if let Some(active) = filter.active {
            q = q.filter(users::active.eq(active));
        }
        if let Some(text) = &text {
            let pattern = like_pattern(text);
            q = q.filter(
                crate::db::lower(users::username)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(crate::db::lower(users::display_name)
                        .like(pattern)
                        .escape('\\')),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<UserRow> = query()
        .select(UserRow::as_select())
        .order(users::id.asc())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(UserView::from_row)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Page::new(items, total, paging))
}

/// A new account, checked.
#[derive(Debug)]
pub struct NewUser {
    pub username: Username,
    pub display_name: BoundedText,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub role: Role,
    pub unit_id: Option<UnitId>,
}

/// Checks a create request; returns the account and the password to set, if given.
pub fn parse_create(req: CreateUser) -> Result<(NewUser, Option<Password>)> {
    let mut v = Validator::default();
    let username = v.check("username", Username::parse(&req.username));
    let display_name = v.check("display_name", BoundedText::parse(&req.display_name, 100));
    let email = match req.email.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(e) => v.check("email", Email::parse(e)).map(Some),
        None => Some(None),
    };
    let phone = match req.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => v.check("phone", Phone::parse(p)).map(Some),
        None => Some(None),
    };
    let role = v.check("role", Role::parse(&req.role));
    let password = match req.password.as_deref() {
        Some(p) => v
            .check("password", Password::parse_for(p, &req.username))
            .map(Some),
        None => Some(None),
    };
    if role == Some(Role::Unit) && req.unit_id.is_none() {
        v.add("unit_id", unit_required());
    }
    let (Some(username), Some(display_name), Some(email), Some(phone), Some(role), Some(password)) =
        (username, display_name, email, phone, role, password)
    else {
        return Err(v.into_error());
    };
    v.finish()?;
    Ok((
        NewUser {
            username,
            display_name,
            email,
            phone,
            role,
            unit_id: req.unit_id,
        },
        password,
    ))
}

fn unit_required() -> Message {
    Message::new(
        "单位用户必须属于一个单位",
        "a unit user must belong to a unit",
    )
}

/// The unit an account is attached to must exist and be active.
fn check_unit(conn: &mut DbConnection, unit: Option<UnitId>) -> Result<()> {
    if let Some(unit) = unit {
        match units::service::find(conn, unit)? {
            Some(row) if row.active => {}
            Some(_) => {
                return Err(Error::invalid_field(
                    "unit_id",
                    Message::new("该单位已停用", "the unit is inactive"),
                ))
            }
            None => {
                return Err(Error::invalid_field(
                    "unit_id",
                    Message::new("单位不存在", "no such unit"),
                ))
            }
        }
    }
    Ok(())
}

/// Inserts a checked account with an already computed password hash.
pub fn insert(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    user: &NewUser,
    password_hash: String,
    now: NaiveDateTime,
) -> Result<UserRow> {
    conn.write(|conn| {
        check_unit(conn, user.unit_id)?;
        let row = NewUserRow {
            username: user.username.as_str().to_string(),
            display_name: user.display_name.as_str().to_string(),
            email: user.email.as_ref().map(|e| e.as_str().to_string()),
            phone: user.phone.as_ref().map(|p| p.as_str().to_string()),
            role: user.role,
            unit_id: user.unit_id,
            password_hash,
            created_at: now,
            updated_at: now,
            // A password an administrator chose is known to two people.
            must_change_password: actor.is_some(),
        };
        let row: UserRow = diesel::insert_into(users::table)
            .values(&row)
            .returning(users::all_columns)
            .get_result(conn)
            .map_err(|e| Error::unique_or(e, Conflict::UsernameTaken))?;
        let after = UserView::from_row(row.clone())?;
        audit::record_change(
            conn,
            actor,
            "create",
            ("user", row.id.0),
            None,
            Some(&after),
            now,
        )?;
        Ok(row)
    })
}

/// A checked change to an account. `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct UserChanges {
    pub version: i64,
    pub display_name: Option<BoundedText>,
    pub email: Option<Option<Email>>,
    pub phone: Option<Option<Phone>>,
    pub role: Option<Role>,
    pub unit_id: Option<Option<UnitId>>,
    pub active: Option<bool>,
    pub password: Option<Password>,
}

pub fn parse_update(req: UpdateUser) -> Result<UserChanges> {
    let mut v = Validator::default();
    let changes = UserChanges {
        version: req.version,
        display_name: req
            .display_name
            .and_then(|d| v.check("display_name", BoundedText::parse(&d, 100))),
        email: match req.email {
            Some(Some(e)) if !e.trim().is_empty() => v.check("email", Email::parse(&e)).map(Some),
            Some(_) => Some(None),
            None => None,
        },
        phone: match req.phone {
            Some(Some(p)) if !p.trim().is_empty() => v.check("phone", Phone::parse(&p)).map(Some),
            Some(_) => Some(None),
            None => None,
        },
        role: req.role.and_then(|r| v.check("role", Role::parse(&r))),
        unit_id: req.unit_id,
        active: req.active,
        password: req
            .password
            .and_then(|p| v.check("password", Password::parse(&p))),
    };
    v.finish()?;
    Ok(changes)
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = users)]
struct UserChangeset {
    display_name: Option<String>,
    email: Option<Option<String>>,
    phone: Option<Option<String>>,
    role: Option<String>,
    unit_id: Option<Option<i64>>,
    active: Option<bool>,
    password_hash: Option<String>,
    token_version: Option<i64>,
    version: Option<i64>,
    updated_at: Option<NaiveDateTime>,
    must_change_password: Option<bool>,
}

fn active_admins_other_than(conn: &mut DbConnection, id: UserId) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .filter(users::id.ne(id.0))
        .count()
        .get_result(conn)
}

/// Applies `changes` if `changes.version` is current. A new password hash or a
/// deactivation bumps the token version, signing the account out everywhere.
pub fn update(
    conn: &mut DbConnection,
    actor: Option<UserId>,
    id: UserId,
    changes: UserChanges,
    password_hash: Option<String>,
    now: NaiveDateTime,
) -> Result<UserRow> {
    conn.write(|conn| {
        // Demoting or deactivating two admins at once must not leave none.
        crate::db::lock_rule(conn, crate::db::Rule::LastAdmin)?;
        crate::db::lock_row(conn, crate::db::Locked::Users, id.0)?;
        let current = find(conn, id)?.ok_or(Error::NotFound)?;
        if current.version != changes.version {
            return Err(Error::stale(changes.version, current.version));
        }
        let role = changes.role.unwrap_or(current.role);
        let unit_id = changes.unit_id.unwrap_or(current.unit_id);
        let active = changes.active.unwrap_or(current.active);
        if role == Role::Unit && unit_id.is_none() {
            return Err(Error::invalid_field("unit_id", unit_required()));
        }
        if changes.unit_id.is_some() {
            check_unit(conn, unit_id)?;
        }
        let was_admin = current.role == Role::Admin && current.active;
        if was_admin && (role != Role::Admin || !active) && active_admins_other_than(conn, id)? == 0
        {
            return Err(Conflict::LastAdmin.into());
        }
        let password_changed = password_hash.is_some();
        let revoke = password_changed || (current.active && !active);
        let changeset = UserChangeset {
            display_name: changes.display_name.map(BoundedText::into_inner),
            email: changes.email.map(|e| e.map(Email::into_inner)),
            phone: changes.phone.map(|p| p.map(Phone::into_inner)),
            role: changes.role.map(|r| r.as_str().to_string()),
            unit_id: changes.unit_id.map(|u| u.map(|u| u.0)),
            active: changes.active,
            password_hash,
            token_version: revoke.then_some(current.token_version + 1),
            version: Some(current.version + 1),
            updated_at: Some(now),
            // Reset by someone else: the owner must choose a new one; the
            // owner's own change clears the flag.
            must_change_password: password_changed.then_some(actor != Some(id)),
        };
        let updated = diesel::update(
            users::table
                .filter(users::id.eq(id.0))
                .filter(users::version.eq(current.version)),
        )
        .set(&changeset)
        .returning(users::all_columns)
        .get_result(conn)
        .optional()?;
        let updated: UserRow = updated.ok_or(Error::StaleVersion {
            sent: None,
            current: current.version + 1,
        })?;
        if current.active && !active {
            crate::calendar::revoke_all_feeds(conn, actor, id, now)?;
        }
        if revoke {
            // Console sessions end with the tokens; the console opens a
            // fresh one for a person who changed their own password.
            diesel::update(
                crate::db::schema::sessions::table
                    .filter(crate::db::schema::sessions::user_id.eq(id.0))
                    .filter(crate::db::schema::sessions::revoked_at.is_null()),
            )
            .set(crate::db::schema::sessions::revoked_at.eq(now))
            .execute(conn)?;
        }
        let before = UserView::from_row(current)?;
        let after = UserView::from_row(updated.clone())?;
        let action = if revoke && password_changed {
            "change_password"
        } else {
            "update"
        };
        audit::record_change(
            conn,
            actor,
            action,
            ("user", updated.id.0),
            Some(&before),
            Some(&after),
            now,
        )?;
        Ok(updated)
    })
}

/// Creates the first admin when no admin account exists. Returns the password
/// used when one was created, None when an admin was already there.
pub fn ensure_first_admin(
    conn: &mut DbConnection,
    username: &Username,
    password_hash: impl FnOnce() -> anyhow::Result<String>,
    now: NaiveDateTime,
) -> Result<bool> {
    let admins: i64 = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)?;
    if admins > 0 {
        return Ok(false);
    }
    let user = NewUser {
        username: username.clone(),
        display_name: BoundedText::parse("系统管理员", 100)
            .map_err(|_| Error::Internal(anyhow::anyhow!("the admin display name is invalid")))?,
        email: None,
        phone: None,
        role: Role::Admin,
        unit_id: None,
    };
    match insert(conn, None, &user, password_hash()?, now) {
        Ok(_) => Ok(true),
        // Another instance created it first: that is the same outcome.
        Err(Error::Conflict(Conflict::UsernameTaken)) => Ok(false),
        Err(e) => Err(e),
    }
}
