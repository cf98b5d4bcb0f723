//! Plan rules and queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{CreatePlan, PlanFilter, PlanRow, PlanView, UpdatePlan};
use crate::audit;
use crate::db::schema::plans;
use crate::db::DbConnection;
use crate::domain::values::BoundedText;
use crate::domain::{Message, PlanId, UserId};
use crate::error::Validator;
use crate::error::{Error, Result};
use crate::http::{Page, Paging};

const STATUSES: [&str; 3] = ["draft", "active", "closed"];

fn parse_status(s: &str) -> Result<String, Message> {
    if STATUSES.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(Message::new(
            "方案状态必须是 draft、active 或 closed",
            "status must be one of draft, active, closed",
        ))
    }
}

fn parse_year(year: i32) -> Result<i32, Message> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(Message::new(
            "年份必须在 2000 到 2100 之间",
            "year must be between 2000 and 2100",
        ))
    }
}

pub fn find(conn: &mut DbConnection, id: PlanId) -> QueryResult<Option<PlanRow>> {
    plans::table
        .find(id.0)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()
}

pub fn get(conn: &mut DbConnection, id: PlanId) -> Result<PlanRow> {
    find(conn, id)?.ok_or(Error::NotFound)
}

pub fn list(
    conn: &mut DbConnection,
    filter: &PlanFilter,
    paging: Paging,
) -> Result<Page<PlanView>> {
    let query = || {
        let mut q = plans::table.into_boxed();
        if let Some(year) = filter.year {
            q = q.filter(plans::year.eq(year));
        }
        if let Some(status) = &filter.status {
            q = q.filter(plans::status.eq(status.clone()));
        }
        q
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows: Vec<PlanRow> = query()
        .select(PlanRow::as_select())
        .order((plans::year.desc(), plans::id.asc()))
        .limit(paging.per_page)
        .offset(paging.offset())
        .load(conn)?;
    Ok(Page::new(
        rows.into_iter().map(PlanView::from).collect(),
        total,
        paging,
    ))
}

fn parse_description(v: &mut Validator, text: Option<&str>) -> Option<Option<String>> {
    match text.filter(|t| !t.trim().is_empty()) {
        Some(t) => v
            .check("description", BoundedText::parse(t, 5000))
            .map(|t| Some(t.into_inner())),
        None => Some(None),
    }
}

pub fn create(
    conn: &mut DbConnection,
    actor: UserId,
    req: CreatePlan,
    now: NaiveDateTime,
) -> Result<PlanRow> {
    let mut v = Validator::default();
    let title = v.check("title", BoundedText::parse(&req.title, 200));
    let year = v.check("year", parse_year(req.year));
    let description = parse_description(&mut v, req.description.as_deref());
    let status = v.check(
        "status",
        parse_status(req.status.as_deref().unwrap_or("active")),
    );
    let (Some(title), Some(year), Some(description), Some(status)) =
        (title, year, description, status)
    else {
        return Err(v.into_error());
    };
    conn.write(|conn| {
        let row: PlanRow = diesel::insert_into(plans::table)
            .values((
                plans::title.eq(title.into_inner()),
                plans::year.eq(year),
                plans::description.eq(description),
                plans::status.eq(status),
                plans::created_at.eq(now),
                plans::updated_at.eq(now),
            ))
            .returning(plans::all_columns)
            .get_result(conn)?;
        let after = PlanView::from(row.clone());
        audit::record_change(
            conn,
            Some(actor),
            "create",
            ("plan", row.id),
            None,
            Some(&after),
            now,
        )?;
        Ok(row)
    })
}

#[derive(AsChangeset)]
#[diesel(table_name = plans)]
struct PlanChangeset {
    title: Option<String>,
    year: Option<i32>,
    description: Option<Option<String>>,
    status: Option<String>,
    version: i64,
    updated_at: NaiveDateTime,
}

pub fn update(
    conn: &mut DbConnection,
    actor: UserId,
    id: PlanId,
    req: UpdatePlan,
    now: NaiveDateTime,
) -> Result<PlanRow> {
    let mut v = Validator::default();
    let title = req
        .title
        .as_deref()
        .and_then(|t| v.check("title", BoundedText::parse(t, 200)))
        .map(BoundedText::into_inner);
    let year = req.year.and_then(|y| v.check("year", parse_year(y)));
    let description = match &req.description {
        Some(d) => parse_description(&mut v, d.as_deref()),
        None => None,
    };
    let status = req
        .status
        .as_deref()
        .and_then(|s| v.check("status", parse_status(s)));
    v.finish()?;
    conn.write(|conn| {
        crate::db::lock_row(conn, crate::db::Locked::Plans, id.0)?;
        let current = get(conn, id)?;
        if current.version != req.version {
            return Err(Error::stale(req.version, current.version));
        }
        let updated: PlanRow = diesel::update(plans::table.find(id.0))
            .set(&PlanChangeset {
                title,
                year,
                description,
                status,
                version: current.version + 1,
                updated_at: now,
            })
            .returning(plans::all_columns)
            .get_result(conn)?;
        let before = PlanView::from(current);
        let after = PlanView::from(updated.clone());
        audit::record_change(
            conn,
            Some(actor),
            "update",
            ("plan", id.0),
            Some(&before),
            Some(&after),
            now,
        )?;
        Ok(updated)
    })
}
