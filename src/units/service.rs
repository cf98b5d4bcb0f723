//! Unit rules and queries: unique codes, a parent chain without cycles, and
//! deactivation instead of deletion once anything refers to a unit.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{CreateUnit, NewUnitRow, UnitFilter, UnitRow, UnitView, UpdateUnit};
use crate::audit;
use crate::db::schema::units;
use crate::db::search::{like_pattern, search_text};
use crate::db::{self, DbConnection};
use crate::domain::kinds::{NoticeMode, WebhookKind};
use crate::domain::message::Message;
use crate::domain::text::compact;
use crate::domain::values::{BoundedText, Email, UnitCode};
use crate::domain::{UnitId, UnitKind, UserId};
use crate::error::Validator;
use crate::error::{Conflict, Error, Result};
use crate::http::{Page, Paging};

pub fn find(conn: &mut DbConnection, id: UnitId) -> QueryResult<Option<UnitRow>> {
    units::table
        .find(id.0)
        .select(UnitRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<UnitRow>> {
    units::table
        .filter(units::code.eq(code))
        .select(UnitRow::as_select())
        .first(conn)
        .optional()
}

/// The names of these units, for pages that show ids as words (only those
/// asked for: a city has thousands).
pub fn names(
    conn: &mut DbConnection,
    ids: &[UnitId],
) -> QueryResult<std::collections::HashMap<UnitId, String>> {
    Ok(units::table
        .filter(units::id.eq_any(ids))
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn get(conn: &mut DbConnection, id: UnitId) -> Result<UnitView> {
    let row = find(conn, id)?.ok_or(Error::NotFound)?;
    Ok(UnitView::from_row(row)?)
}

pub fn list(
    conn: &mut DbConnection,
    filter: &UnitFilter,
    paging: Paging,
) -> Result<Page<UnitView>> {
    let mut v = Validator::default();
    let kind = filter
        .kind
        .as_deref()
        .and_then(|k| v.check("kind", UnitKind::parse(k)));
    let text = v.check("q", search_text(filter.q.as_deref())).flatten();
    v.finish()?;
    let query = || {
        let mut q = units::table.into_boxed();
        if let Some(kind) = kind {
            q = q.filter(units::kind.eq(kind.as_str()));
        }
        if let Some(active) = filter.active {
            q = q.filter(units::active.eq(active));
        }
        if let Some(parent) = filter.parent_id {
            q = q.filter(units::parent_id.eq(parent));
        }
        if let Some(text) = &text {
            let pattern = like_pattern(text);
            q = q.filter(
                crate::db::lower(units::code)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(crate::db::lower(units::name).like(pattern).escape('\\')),
            );
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<UnitRow> = query()
        .select(UnitRow::as_select())
        .order(units::code.asc())
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    let items = rows
        .into_iter()
        .map(UnitView::from_row)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Page::new(items, total, paging))
}

fn parse_emails(v: &mut Validator, field: &str, emails: &[String]) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(emails.len());
    let mut ok = true;
    if emails.len() > 20 {
        v.add(
            field,
            Message::new("最多 20 个邮箱地址", "at most 20 addresses"),
        );
        return None;
    }
    for (i, e) in emails.iter().enumerate() {
        match v.check(&format!("{field}[{i}]"), Email::parse(e)) {
            Some(e) if !out.contains(&e.as_str().to_string()) => out.push(e.into_inner()),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Aliases (别名): each 1–100 characters, at most 20, written once (spaces
/// and full-width letters do not make a second one).
fn parse_aliases(v: &mut Validator, aliases: &[String]) -> Option<Vec<String>> {
    if aliases.len() > 20 {
        v.add(
            "aliases",
            Message::new("最多 20 个别名", "at most 20 aliases"),
        );
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(aliases.len());
    let mut ok = true;
    for (i, a) in aliases.iter().enumerate() {
        match v.check(&format!("aliases[{i}]"), BoundedText::parse(a, 100)) {
            Some(a) if !out.iter().any(|o| compact(o) == compact(a.as_str())) => {
                out.push(a.into_inner());
            }
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Refuses a name or aliases that another unit already goes by (as its name
/// or one of its aliases), so that a written name in a table means one unit:
/// 422 naming `name` or `aliases[i]`.
fn check_names_free(
    conn: &mut DbConnection,
    unit: Option<UnitId>,
    name: Option<&str>,
    aliases: Option<&[String]>,
) -> Result<()> {
    let others: Vec<(UnitId, String, String)> = units::table
        .select((units::id, units::name, units::aliases))
        .load(conn)?;
    // (the compacted name or alias, whose it is, whether it is an alias)
    let mut taken: Vec<(String, String, bool)> = Vec::new();
    for (id, other_name, other_aliases) in others {
        if Some(id) == unit {
            continue;
        }
        let list = super::aliases_of(&other_aliases)?;
        taken.push((compact(&other_name), other_name.clone(), false));
        taken.extend(
            list.into_iter()
                .map(|a| (compact(&a), other_name.clone(), true)),
        );
    }
    let owner = |written: &str, aliases_only: bool| {
        let key = compact(written);
        taken
            .iter()
            .find(|(k, _, alias)| *k == key && (*alias || !aliases_only))
            .map(|(_, o, _)| o.clone())
    };
    let mut v = Validator::default();
    if let Some(name) = name {
        // Two units with one name is the unique index's business (or
        // allowed); here a name may only not be another unit's alias.
        if let Some(other) = owner(name, true) {
            v.add("name", taken_message(name, &other));
        }
    }
    for (i, alias) in aliases.unwrap_or_default().iter().enumerate() {
        if let Some(other) = owner(alias, false) {
            v.add(&format!("aliases[{i}]"), taken_message(alias, &other));
        }
    }
    v.finish()
}

fn taken_message(written: &str, other: &str) -> Message {
    Message::owned(
        format!("“{written}”已是单位“{other}”的名称或别名"),
        format!("{written:?} is already the name or an alias of the unit {other:?}"),
    )
}

fn parse_optional_text(
    v: &mut Validator,
    field: &str,
    text: Option<&str>,
) -> Option<Option<String>> {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => v
            .check(field, BoundedText::parse(t, 100))
            .map(|t| Some(t.into_inner())),
        None => Some(None),
    }
}

fn parse_optional_email(
    v: &mut Validator,
    field: &str,
    text: Option<&str>,
) -> Option<Option<String>> {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => v
            .check(field, Email::parse(t))
            .map(|e| Some(e.into_inner())),
        None => Some(None),
    }
}

/// A robot: kind and URL together (or neither), and an optional secret.
struct Robot {
    kind: Option<WebhookKind>,
    url: Option<String>,
    secret: Option<String>,
}

fn parse_robot(
    v: &mut Validator,
    kind: Option<&str>,
    url: Option<&str>,
    secret: Option<&str>,
) -> Option<Robot> {
    let blank = |t: Option<&str>| {
        t.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let (kind_text, url, secret) = (blank(kind), blank(url), blank(secret));
    let mut ok = true;
    let kind = match kind_text.as_deref().map(WebhookKind::parse) {
        Some(Ok(k)) => Some(k),
        Some(Err(_)) => {
            v.add(
                "webhook_kind",
                Message::new(
                    "机器人类型必须是 wecom、dingtalk 或 generic",
                    "must be wecom, dingtalk or generic",
                ),
            );
            ok = false;
            None
        }
        None => None,
    };
    if let Some(u) = &url {
        let scheme_ok = u.starts_with("https://") || u.starts_with("http://");
        if !scheme_ok || u.len() > 500 || u.chars().any(char::is_whitespace) {
            v.add(
                "webhook_url",
                Message::new("机器人地址必须是 http(s) 网址", "must be an http(s) URL"),
            );
            ok = false;
        }
    }
    if kind_text.is_some() != url.is_some() {
        v.add(
            "webhook_url",
            Message::new(
                "机器人类型和地址须同时填写",
                "give webhook_kind and webhook_url together",
            ),
        );
        ok = false;
    }
    if secret.as_ref().is_some_and(|s| s.len() > 200) {
        v.add(
            "webhook_secret",
            Message::new("密钥过长", "at most 200 characters"),
        );
        ok = false;
    }
    ok.then_some(Robot { kind, url, secret })
}

fn parse_notice_mode(mode: &str) -> Result<NoticeMode, Message> {
    NoticeMode::parse(mode).map_err(|_| {
        Message::new(
            "通知方式必须是 per_task 或 digest",
            "notice_mode must be per_task or digest",
        )
    })
}

fn map_unique(e: diesel::result::Error) -> Error {
    Error::unique_or(e, Conflict::UnitCodeTaken)
}

fn no_such_parent() -> Error {
    Error::invalid_field(
        "parent_id",
        Message::new("上级单位不存在", "no such parent unit"),
    )
}

pub fn create(
    conn: &mut DbConnection,
    actor: UserId,
    req: CreateUnit,
    now: NaiveDateTime,
) -> Result<UnitRow> {
    let mut v = Validator::default();
    let code = v.check("code", UnitCode::parse(&req.code));
    let name = v.check("name", BoundedText::parse(&req.name, 100));
    let kind = v.check("kind", UnitKind::parse(&req.kind));
    let emails = parse_emails(&mut v, "contact_emails", &req.contact_emails);
    let aliases = parse_aliases(&mut v, &req.aliases);
    let head_name = parse_optional_text(&mut v, "head_name", req.head_name.as_deref());
    let head_email = parse_optional_email(&mut v, "head_email", req.head_email.as_deref());
    let robot = parse_robot(
        &mut v,
        req.webhook_kind.as_deref(),
        req.webhook_url.as_deref(),
        req.webhook_secret.as_deref(),
    );
    let notice_mode = v.check(
        "notice_mode",
        parse_notice_mode(req.notice_mode.as_deref().unwrap_or("per_task")),
    );
    let (
        Some(code),
        Some(name),
        Some(kind),
        Some(emails),
        Some(head_name),
        Some(head_email),
        Some(robot),
        Some(notice_mode),
        Some(aliases),
    ) = (
        code,
        name,
        kind,
        emails,
        head_name,
        head_email,
        robot,
        notice_mode,
        aliases,
    )
    else {
        return Err(v.into_error());
    };
    conn.write(|conn| {
        if let Some(parent) = req.parent_id {
            find(conn, parent)?.ok_or_else(no_such_parent)?;
        }
        check_names_free(conn, None, Some(name.as_str()), Some(&aliases))?;
        let row = NewUnitRow {
            code: code.into_inner(),
            name: name.into_inner(),
            kind,
            parent_id: req.parent_id,
            contact_emails: serde_json::to_string(&emails).map_err(anyhow::Error::new)?,
            head_name,
            head_email,
            webhook_kind: robot.kind,
            webhook_url: robot.url,
            webhook_secret: robot.secret,
            notice_mode,
            aliases: serde_json::to_string(&aliases).map_err(anyhow::Error::new)?,
            created_at: now,
            updated_at: now,
        };
        let row: UnitRow = diesel::insert_into(units::table)
            .values(&row)
            .returning(units::all_columns)
            .get_result(conn)
            .map_err(map_unique)?;
        let after = UnitView::from_row(row.clone())?;
        audit::record_change(
            conn,
            Some(actor),
            "create",
            ("unit", row.id.0),
            None,
            Some(&after),
            now,
        )?;
        Ok(row)
    })
}

#[derive(AsChangeset, Default)]
#[diesel(table_name = units)]
struct UnitChangeset {
    code: Option<String>,
    name: Option<String>,
    kind: Option<UnitKind>,
    parent_id: Option<Option<UnitId>>,
    contact_emails: Option<String>,
    aliases: Option<String>,
    head_name: Option<Option<String>>,
    head_email: Option<Option<String>>,
    webhook_kind: Option<Option<WebhookKind>>,
    webhook_url: Option<Option<String>>,
    webhook_secret: Option<Option<String>>,
    notice_mode: Option<NoticeMode>,
    active: Option<bool>,
    version: Option<i64>,
    updated_at: Option<NaiveDateTime>,
}

pub fn update(
    conn: &mut DbConnection,
    actor: UserId,
    id: UnitId,
    req: UpdateUnit,
    now: NaiveDateTime,
) -> Result<UnitRow> {
    let mut v = Validator::default();
    let aliases = req
        .aliases
        .as_deref()
        .and_then(|list| parse_aliases(&mut v, list));
    let changes = UnitChangeset {
        code: req
            .code
            .as_deref()
            .and_then(|c| v.check("code", UnitCode::parse(c)))
            .map(UnitCode::into_inner),
        name: req
            .name
            .as_deref()
            .and_then(|n| v.check("name", BoundedText::parse(n, 100)))
            .map(BoundedText::into_inner),
        kind: req
            .kind
            .as_deref()
            .and_then(|k| v.check("kind", UnitKind::parse(k))),
        parent_id: req.parent_id,
        contact_emails: match &req.contact_emails {
            Some(list) => parse_emails(&mut v, "contact_emails", list)
                .map(|l| serde_json::to_string(&l))
                .transpose()
                .map_err(anyhow::Error::new)?,
            None => None,
        },
        aliases: aliases
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(anyhow::Error::new)?,
        head_name: match &req.head_name {
            Some(t) => parse_optional_text(&mut v, "head_name", t.as_deref()),
            None => None,
        },
        head_email: match &req.head_email {
            Some(t) => parse_optional_email(&mut v, "head_email", t.as_deref()),
            None => None,
        },
        webhook_kind: None,
        webhook_url: None,
        webhook_secret: None,
        notice_mode: req
            .notice_mode
            .as_deref()
            .and_then(|m| v.check("notice_mode", parse_notice_mode(m))),
        active: req.active,
        version: None,
        updated_at: Some(now),
    };
    // The robot's three fields are replaced together.
    let robot_given =
        req.webhook_kind.is_some() || req.webhook_url.is_some() || req.webhook_secret.is_some();
    let flat = |f: &Option<Option<String>>| f.clone().flatten();
    let robot = robot_given
        .then(|| {
            parse_robot(
                &mut v,
                flat(&req.webhook_kind).as_deref(),
                flat(&req.webhook_url).as_deref(),
                flat(&req.webhook_secret).as_deref(),
            )
        })
        .flatten();
    v.finish()?;
    let changes = match robot {
        Some(r) => UnitChangeset {
            webhook_kind: Some(r.kind),
            webhook_url: Some(r.url),
            webhook_secret: Some(r.secret),
            ..changes
        },
        None => changes,
    };
    conn.write(|conn| {
        crate::db::lock_row(conn, crate::db::Locked::Units, id.0)?;
        let current = find(conn, id)?.ok_or(Error::NotFound)?;
        if current.version != req.version {
            return Err(Error::stale(req.version, current.version));
        }
        if let Some(Some(parent)) = req.parent_id {
            check_parent(conn, id, parent)?;
        }
        check_names_free(conn, Some(id), changes.name.as_deref(), aliases.as_deref())?;
        let changes = UnitChangeset {
            version: Some(current.version + 1),
            ..changes
        };
        let updated = diesel::update(
            units::table
                .filter(units::id.eq(id.0))
                .filter(units::version.eq(current.version)),
        )
        .set(&changes)
        .returning(units::all_columns)
        .get_result(conn)
        .optional()
        .map_err(map_unique)?;
        let updated: UnitRow = updated.ok_or(Error::StaleVersion {
            sent: None,
            current: current.version + 1,
        })?;
        let before = UnitView::from_row(current)?;
        let after = UnitView::from_row(updated.clone())?;
        audit::record_change(
            conn,
            Some(actor),
            "update",
            ("unit", updated.id.0),
            Some(&before),
            Some(&after),
            now,
        )?;
        Ok(updated)
    })
}

/// The new parent must exist and must not be the unit itself or below it.
fn check_parent(conn: &mut DbConnection, id: UnitId, parent: UnitId) -> Result<()> {
    let mut cursor = Some(parent);
    let mut steps = 0;
    while let Some(at) = cursor {
        if at == id {
            return Err(Error::invalid_field(
                "parent_id",
                Message::new(
                    "上级单位不能是本单位或其下级单位",
                    "a unit cannot be placed under itself",
                ),
            ));
        }
        let row = find(conn, at)?.ok_or_else(no_such_parent)?;
        cursor = row.parent_id;
        steps += 1;
        if steps > 1000 {
            return Err(Error::Internal(anyhow::anyhow!(
                "unit tree deeper than 1000"
            )));
        }
    }
    Ok(())
}

/// Deletes a unit that nothing refers to; otherwise 409 telling the caller to
/// deactivate it instead.
pub fn delete(
    conn: &mut DbConnection,
    actor: UserId,
    id: UnitId,
    now: NaiveDateTime,
) -> Result<()> {
    conn.write(|conn| {
        crate::db::lock_row(conn, crate::db::Locked::Units, id.0)?;
        let current = find(conn, id)?.ok_or(Error::NotFound)?;
        // Following a unit is a person's bookmark, not a use of it: it goes
        // with the unit (and comes back if the delete is refused).
        diesel::delete(
            crate::db::schema::follows::table.filter(crate::db::schema::follows::unit_id.eq(id)),
        )
        .execute(conn)?;
        diesel::delete(units::table.find(id.0))
            .execute(conn)
            .map_err(|e| {
                if db::is_foreign_key_violation(&e) {
                    Error::Conflict(Conflict::UnitInUse)
                } else {
                    e.into()
                }
            })?;
        let before = UnitView::from_row(current)?;
        audit::record_change(
            conn,
            Some(actor),
            "delete",
            ("unit", id.0),
            Some(&before),
            None,
            now,
        )?;
        Ok(())
    })
}
