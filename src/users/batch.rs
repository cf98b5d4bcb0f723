//! Creating many accounts from one list, as offices keep them in Excel or
//! CSV (单位/姓名/用户名/角色/手机/邮箱): every cell is checked against the
//! units and the accounts first, each bad one named by its cell (C5); then
//! every account is created in one transaction through `service::insert`,
//! or none is. Each gets a one-time password, returned once, that its owner
//! must change at first sign-in.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use super::model::{UserRow, UserView};
use super::service::{self, NewUser};
use crate::db::schema::users;
use crate::db::DbConnection;
use crate::domain::unit_names::{match_unit, UnitRef};
use crate::domain::values::{BoundedText, Email, Phone, Username};
use crate::domain::{Message, Role, UnitId, UserId};
use crate::error::{Error, Result, Validator};
use crate::http::problem::{ApiError, ApiResult};
use crate::import::{cell_ref, Sheet};
use crate::state::AppState;
use crate::units::model::UnitFilter;

/// Most accounts one list may create: a county's clerks fit many times over.
pub const MAX_ACCOUNTS: usize = 1000;

/// The list's columns, each with the headers it goes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Column {
    Unit,
    Name,
    Username,
    Role,
    Phone,
    Email,
}

const HEADERS: &[(Column, &[&str])] = &[
    (Column::Unit, &["单位", "所在单位", "unit"]),
    (Column::Name, &["姓名", "name", "display_name"]),
    (Column::Username, &["用户名", "账号", "username"]),
    (Column::Role, &["角色", "role"]),
    (
        Column::Phone,
        &["手机", "手机号", "手机号码", "phone", "mobile"],
    ),
    (Column::Email, &["邮箱", "电子邮箱", "email"]),
];

/// The columns a list must have; 手机 and 邮箱 may be left out.
const REQUIRED: &[(Column, &str)] = &[
    (Column::Unit, "单位"),
    (Column::Name, "姓名"),
    (Column::Username, "用户名"),
    (Column::Role, "角色"),
];

/// One account of the list, checked, and the sheet row it came from (1-based).
#[derive(Debug)]
pub struct Planned {
    pub row: usize,
    pub user: NewUser,
}

/// An account the list created, with its one-time password (shown only in
/// the answer to the upload).
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchCreated {
    /// The sheet row the account came from (1-based, as Excel numbers it).
    pub row: usize,
    #[serde(flatten)]
    pub user: UserView,
    /// To be changed at first sign-in.
    pub generated_password: String,
}

/// The answer to a batch creation.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchReport {
    pub created: Vec<BatchCreated>,
}

/// The header row (the first row naming 用户名 among the first ten) and
/// where each column is.
fn header(sheet: &Sheet) -> Result<(usize, HashMap<Column, usize>)> {
    for (r, row) in sheet.rows.iter().enumerate().take(10) {
        let mut found = HashMap::new();
        for (c, cell) in row.iter().enumerate() {
            let text = crate::import::table::clean(&cell.text).to_lowercase();
            if let Some((col, _)) = HEADERS.iter().find(|(_, names)| names.contains(&&*text)) {
                found.entry(*col).or_insert(c);
            }
        }
        if found.contains_key(&Column::Username) {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .filter(|(c, _)| !found.contains_key(c))
                .map(|(_, name)| *name)
                .collect();
            if !missing.is_empty() {
                let list = missing.join("、");
                return Err(Error::invalid_field(
                    "file",
                    Message::owned(
                        format!("第 {} 行是表头，但缺少列：{list}", r + 1),
                        format!("row {} is the header but lacks the columns {list}", r + 1),
                    ),
                ));
            }
            return Ok((r, found));
        }
    }
    Err(Error::invalid_field(
        "file",
        Message::new(
            "找不到表头：前 10 行中应有一行写着 单位、姓名、用户名、角色（手机、邮箱可选）",
            "no header row: one of the first ten rows must name 单位, 姓名, 用户名 and 角色 (手机 and 邮箱 optional)",
        ),
    ))
}

/// The account's 手机 as the API takes it (`Phone`), the cell's text named
/// in the message.
fn check_phone(text: &str) -> std::result::Result<Phone, Message> {
    Phone::parse(text).map_err(|m| {
        Message::owned(
            format!("手机号“{text}”不正确：{}", m.zh),
            format!("{text:?} is not a phone number: {}", m.en),
        )
    })
}

/// Checks every row of the list against the active units (found by name,
/// code or alias) and the usernames already taken; any bad cell refuses the
/// whole list, every bad cell named (`C5`).
pub fn plan(conn: &mut DbConnection, sheet: &Sheet) -> Result<Vec<Planned>> {
    let units = crate::units::service::list(
        conn,
        &UnitFilter::default(),
        crate::http::Paging {
            page: 1,
            per_page: 10_000,
        },
    )?
    .items;
    let taken: HashSet<String> = users::table
        .select(users::username)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let active: Vec<_> = units.into_iter().filter(|u| u.active).collect();
    let refs: Vec<UnitRef<'_>> = active
        .iter()
        .map(|u| UnitRef {
            id: u.id.0,
            code: u.code.as_str(),
            name: u.name.as_str(),
            aliases: &u.aliases,
        })
        .collect();
    check(sheet, &refs, &taken)
}

/// The pure part of `plan`.
fn check(sheet: &Sheet, units: &[UnitRef<'_>], taken: &HashSet<String>) -> Result<Vec<Planned>> {
    let (head, cols) = header(sheet)?;
    let mut v = Validator::default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut planned = Vec::new();
    for r in head + 1..sheet.rows.len() {
        let at = |col: Column| cols.get(&col).copied();
        let text = |col: Column| {
            at(col)
                .map(|c| crate::import::table::clean(sheet.text(r, c)))
                .unwrap_or_default()
        };
        let cell = |col: Column| cell_ref(r, at(col).unwrap_or(0));
        if HEADERS.iter().all(|(col, _)| text(*col).is_empty()) {
            continue;
        }
        let role = v.check(&cell(Column::Role), Role::from_written(&text(Column::Role)));
        let name = v.check(
            &cell(Column::Name),
            BoundedText::parse(&text(Column::Name), 100),
        );
        let username = v.check(
            &cell(Column::Username),
            Username::parse(&text(Column::Username)),
        );
        if let Some(u) = &username {
            if let Some(first) = seen.get(u.as_str()) {
                v.add(
                    &cell(Column::Username),
                    Message::owned(
                        format!("用户名“{}”与第 {first} 行重复", u.as_str()),
                        format!("the username {:?} repeats row {first}", u.as_str()),
                    ),
                );
            } else if taken.contains(u.as_str()) {
                v.add(
                    &cell(Column::Username),
                    Message::owned(
                        format!("用户名“{}”已被占用", u.as_str()),
                        format!("the username {:?} is taken", u.as_str()),
                    ),
                );
            }
            seen.entry(u.as_str().to_string()).or_insert(r + 1);
        }
        let unit_text = text(Column::Unit);
        let unit = if unit_text.is_empty() {
            if role == Some(Role::Unit) {
                v.add(
                    &cell(Column::Unit),
                    Message::new("单位用户必须写明单位", "a unit user must name the unit"),
                );
            }
            Some(None)
        } else {
            v.check(
                &cell(Column::Unit),
                match_unit(&unit_text, units)
                    .into_result(&unit_text)
                    .map(|id| Some(UnitId(id))),
            )
        };
        let phone_text = text(Column::Phone);
        let phone = if phone_text.is_empty() {
            Some(None)
        } else {
            v.check(&cell(Column::Phone), check_phone(&phone_text).map(Some))
        };
        let email_text = text(Column::Email);
        let email = if email_text.is_empty() {
            Some(None)
        } else {
            v.check(&cell(Column::Email), Email::parse(&email_text).map(Some))
        };
        if let (Some(role), Some(name), Some(username), Some(unit), Some(email), Some(phone)) =
            (role, name, username, unit, email, phone)
        {
            planned.push(Planned {
                row: r + 1,
                user: NewUser {
                    username,
                    display_name: name,
                    email,
                    phone,
                    role,
                    unit_id: unit,
                },
            });
        }
    }
    v.finish()?;
    if planned.is_empty() {
        return Err(Error::invalid_field(
            "file",
            Message::new("表中没有账号", "the list holds no accounts"),
        ));
    }
    if planned.len() > MAX_ACCOUNTS {
        return Err(Error::invalid_field(
            "file",
            Message::owned(
                format!("一次最多创建 {MAX_ACCOUNTS} 个账号"),
                format!("at most {MAX_ACCOUNTS} accounts at once"),
            ),
        ));
    }
    Ok(planned)
}

/// Inserts the planned accounts, each with its password hash, all or none.
pub fn insert_all(
    conn: &mut DbConnection,
    actor: UserId,
    accounts: &[(Planned, String)],
    now: NaiveDateTime,
) -> Result<Vec<UserRow>> {
    conn.write(|conn| {
        accounts
            .iter()
            .map(|(p, hash)| service::insert(conn, Some(actor), &p.user, hash.clone(), now))
            .collect()
    })
}

/// The whole step, for the API and the console alike: read the uploaded
/// list, check it, give each account a one-time password and create them
/// all in one transaction.
pub async fn create_from_upload(
    state: &AppState,
    actor: UserId,
    file: crate::http::multipart::FilePart,
) -> ApiResult<BatchReport> {
    let limits = crate::import::Limits::of(&state.settings);
    let sheet = actix_web::web::block(move || {
        crate::import::read_upload(&file.filename, &file.content_type, &file.bytes, &limits)
    })
    .await??;
    create_from_sheet(state, actor, sheet).await
}

/// `create_from_upload` once the file is read.
pub async fn create_from_sheet(
    state: &AppState,
    actor: UserId,
    sheet: Sheet,
) -> ApiResult<BatchReport> {
    let planned = state.db(move |conn| plan(conn, &sheet)).await?;
    let mut accounts = Vec::with_capacity(planned.len());
    let mut passwords = Vec::with_capacity(planned.len());
    for p in planned {
        let (password, text) = super::bootstrap::one_time_password()?;
        let hash = state.passwords.hash(&password).await?;
        passwords.push((p.row, text));
        accounts.push((p, hash));
    }
    let now = state.clock().now;
    let rows = state
        .db(move |conn| insert_all(conn, actor, &accounts, now))
        .await?;
    let created = rows
        .into_iter()
        .zip(passwords)
        .map(|(row, (r, password))| {
            Ok(BatchCreated {
                row: r,
                user: UserView::from_row(row)?,
                generated_password: password,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(ApiError::internal)?;
    Ok(BatchReport { created })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Cell;

    fn sheet(rows: &[&[&str]]) -> Sheet {
        Sheet {
            rows: rows
                .iter()
                .map(|r| r.iter().map(|t| Cell::from_text(*t)).collect())
                .collect(),
        }
    }

    fn units() -> Vec<String> {
        vec!["经开区管委会".to_string()]
    }

    #[test]
    fn every_bad_cell_is_named() {
        let aliases = units();
        let refs = [UnitRef {
            id: 1,
            code: "JKQ",
            name: "经济技术开发区管理委员会",
            aliases: &aliases,
        }];
        let taken: HashSet<String> = ["old".to_string()].into();
        let s = sheet(&[
            &["单位", "姓名", "用户名", "角色", "手机", "邮箱"],
            &[
                "经开区管委会",
                "张三",
                "zhang",
                "单位用户",
                "13800000000",
                "z@x.cn",
            ],
            &["某某局", "李四", "zhang", "局长", "12ab", "not-mail"],
            &["", "王五", "old", "viewer", "", ""],
        ]);
        let Err(Error::Invalid(errors)) = check(&s, &refs, &taken) else {
            panic!("expected cell errors");
        };
        let cells: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for c in ["A3", "C3", "D3", "E3", "F3", "C4"] {
            assert!(cells.contains(&c), "{c} in {cells:?}");
        }
        assert!(!cells.iter().any(|c| c.ends_with('2')), "{cells:?}");
    }

    #[test]
    fn a_clean_list_plans_every_account() {
        let aliases = units();
        let refs = [UnitRef {
            id: 1,
            code: "JKQ",
            name: "经济技术开发区管理委员会",
            aliases: &aliases,
        }];
        let s = sheet(&[
            &["用户名", "姓名", "单位", "角色"],
            &["zhang", "张三", "经开区管委会", "unit"],
            &[],
            &["lisi", "李四", "", "创建办"],
        ]);
        let planned = check(&s, &refs, &HashSet::new()).expect("plans");
        assert_eq!(planned.len(), 2);
        assert_eq!(planned[0].user.unit_id, Some(UnitId(1)));
        assert_eq!(planned[1].user.role, Role::Office);
        assert_eq!(planned[1].row, 4);
    }
}
