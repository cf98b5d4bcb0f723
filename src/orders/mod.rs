//! 督办单 (supervision orders): a numbered official document on a task
//! (督办〔2026〕N号, one sequence per year and installation), issued by the
//! scan when the ladder's 督办 step fires (in the 督办 notice's transaction,
//! `notices::scan::write`) or by the office for any open task at will. The
//! lead unit completes its receipt (回执) online: a progress report marked
//! as the order's reply, recorded by `tasks::reports::create` in the
//! report's transaction; an order not answered by its reply-by date climbs
//! the ladder (`notices::scan`). The printable document is `document`.

pub mod document;
pub mod routes;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{permissions, AuthUser, Permission};
use crate::config::Settings;
use crate::db::schema::{supervision_order_counters, supervision_orders};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::message::Lang;
use crate::domain::task_state::TaskStatus;
use crate::domain::values::{parse_date, BoundedText};
use crate::domain::{Message, OrderId, ReportId, Role, TaskId, UserId};
use crate::error::{Conflict, Error, Result, TaskUse, Validator};
use crate::tasks::events::{self, NewEvent};
use crate::tasks::model::TaskRow;
use crate::tasks::receipts::{Replies, ReplyView};
use crate::tasks::visibility::{self, InSight, Scope};

/// The longest requirement, in characters.
const MAX_REQUIREMENT: usize = 2000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    /// What the lead unit is required to do (督办要求).
    pub requirement: String,
    /// YYYY-MM-DD, today or later: the lead unit completes the receipt
    /// (回执) by then, or the reply climbs the escalation ladder. None: the
    /// configured number of working days (`order_reply_working_days`) from
    /// today.
    pub reply_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    pub id: OrderId,
    pub task_id: TaskId,
    pub year: i32,
    /// The number within the year.
    pub number: i64,
    /// The document number as printed: 督办〔2026〕3号.
    pub title: String,
    pub requirement: String,
    pub reply_by: NaiveDate,
    /// Who issued it; None: the escalation ladder (the 督办 step).
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    /// The lead unit's report that answered it (回执); None while open.
    pub reply: Option<ReplyView>,
    /// Not answered and its reply-by date has passed.
    pub overdue: bool,
}

/// The printed number of an order: 督办〔2026〕3号.
pub fn number_label(year: i32, number: i64) -> String {
    format!("督办〔{year}〕{number}号")
}

/// An order about to be issued.
pub struct Draft<'a> {
    pub task_id: TaskId,
    pub requirement: &'a str,
    pub reply_by: NaiveDate,
    /// None: the ladder.
    pub created_by: Option<UserId>,
    /// The local year it is numbered in.
    pub year: i32,
}

/// An order as issued: its id and number.
#[derive(Debug, Clone, Copy)]
pub struct Issued {
    pub id: OrderId,
    pub year: i32,
    pub number: i64,
    pub reply_by: NaiveDate,
}

impl Issued {
    pub fn title(&self) -> String {
        number_label(self.year, self.number)
    }
}

/// Writes an order with the next number of its year, inside the caller's
/// transaction: a rollback of the caller gives the number back.
pub fn issue(conn: &mut DbConnection, draft: &Draft, now: NaiveDateTime) -> QueryResult<Issued> {
    let issued = issue_all(conn, std::slice::from_ref(draft), now)?;
    issued
        .into_iter()
        .next()
        .ok_or(diesel::result::Error::NotFound)
}

/// A supervision order row as inserted.
#[derive(Insertable)]
#[diesel(table_name = supervision_orders)]
// None is NULL, not DEFAULT: SQLite has no DEFAULT in a multi-row VALUES,
// and diesel would insert such rows one by one.
#[diesel(treat_none_as_default_value = false)]
struct NewOrder<'a> {
    task_id: TaskId,
    year: i32,
    number: i64,
    requirement: &'a str,
    reply_by: NaiveDate,
    created_by: Option<UserId>,
    created_at: NaiveDateTime,
}

/// Writes `drafts` as orders, numbered in their order within each year,
/// inside the caller's transaction: one counter UPDATE per year and one
/// multi-row INSERT, where the scan's 督办 step issued thousands one
/// statement at a time. What was issued, in the order of `drafts`.
pub fn issue_all(
    conn: &mut DbConnection,
    drafts: &[Draft],
    now: NaiveDateTime,
) -> QueryResult<Vec<Issued>> {
    let mut numbers: Vec<i64> = Vec::with_capacity(drafts.len());
    let mut next: std::collections::BTreeMap<i32, i64> = Default::default();
    for d in drafts {
        *next.entry(d.year).or_default() += 1;
    }
    for (year, count) in next.iter_mut() {
        // From here on: the year's next number to hand out.
        *count = next_numbers(conn, *year, *count)?;
    }
    for d in drafts {
        let n = next
            .get_mut(&d.year)
            .ok_or(diesel::result::Error::NotFound)?;
        numbers.push(*n);
        *n += 1;
    }
    let rows: Vec<NewOrder> = drafts
        .iter()
        .zip(&numbers)
        .map(|(d, number)| NewOrder {
            task_id: d.task_id,
            year: d.year,
            number: *number,
            requirement: d.requirement,
            reply_by: d.reply_by,
            created_by: d.created_by,
            created_at: now,
        })
        .collect();
    let mut ids: Vec<(OrderId, i32, i64)> = Vec::with_capacity(rows.len());
    // Chunks keep a statement under SQLite's limit of bound values.
    for chunk in rows.chunks(ORDERS_PER_INSERT) {
        let got: Vec<(OrderId, i32, i64)> = crate::db::per_backend!(conn, c => diesel::insert_into(supervision_orders::table)
                .values(chunk)
                .returning((
                    supervision_orders::id,
                    supervision_orders::year,
                    supervision_orders::number,
                ))
                .get_results(c))?;
        ids.extend(got);
    }
    let by_number: std::collections::HashMap<(i32, i64), OrderId> =
        ids.into_iter().map(|(id, y, n)| ((y, n), id)).collect();
    drafts
        .iter()
        .zip(numbers)
        .map(|(d, number)| {
            let id = *by_number
                .get(&(d.year, number))
                .ok_or(diesel::result::Error::NotFound)?;
            Ok(Issued {
                id,
                year: d.year,
                number,
                reply_by: d.reply_by,
            })
        })
        .collect()
}

/// Orders per INSERT: seven values a row, well under SQLite's 32,766.
const ORDERS_PER_INSERT: usize = 1000;

/// Takes the next `count` numbers of `year` in the caller's transaction and
/// returns the first. The UPDATE locks the year's row until the transaction
/// ends, so concurrent creations take their numbers in turn, and a
/// rolled-back one leaves no gap.
fn next_numbers(conn: &mut DbConnection, year: i32, count: i64) -> QueryResult<i64> {
    if let Some(last) = bump(conn, year, count)? {
        return Ok(last - count + 1);
    }
    // The year's first order. The row is inserted in a savepoint: when
    // another transaction inserts it at the same time, the unique key
    // refuses this one, only the savepoint is rolled back, and the UPDATE
    // then waits for the other's row like any later creation.
    let first = conn.write(|c| {
        diesel::insert_into(supervision_order_counters::table)
            .values((
                supervision_order_counters::year.eq(i64::from(year)),
                supervision_order_counters::last_number.eq(count),
            ))
            .execute(c)
    });
    match first {
        Ok(_) => Ok(1),
        Err(e) if crate::db::is_unique_violation(&e) => {
            let last = bump(conn, year, count)?.ok_or(diesel::result::Error::NotFound)?;
            Ok(last - count + 1)
        }
        Err(e) => Err(e),
    }
}

fn bump(conn: &mut DbConnection, year: i32, count: i64) -> QueryResult<Option<i64>> {
    diesel::update(supervision_order_counters::table.find(i64::from(year)))
        .set(
            supervision_order_counters::last_number
                .eq(supervision_order_counters::last_number + count),
        )
        .returning(supervision_order_counters::last_number)
        .get_result(conn)
        .optional()
}

/// Writes the 督办 notice of an order the office issued by hand, inside the
/// order's transaction: `notices::tell::order_issued`. The caller hands it
/// in (startup registers it for the API, the console page passes it),
/// because the notice scan issues orders and orders does not import notices.
#[derive(Clone, Copy)]
pub struct OrderNotice(pub WriteOrderNotice);

/// `notices::tell::order_issued`'s shape: the task and the order just issued.
pub type WriteOrderNotice =
    fn(&mut DbConnection, &Settings, &TaskRow, &Issued, &Clock) -> anyhow::Result<()>;

/// A task the office may issue an order on: assigned, in progress or
/// submitted (not a draft, not closed).
fn open_for_orders(status: TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Assigned | TaskStatus::InProgress | TaskStatus::Submitted
    )
}

/// Whether `role` may issue an order by hand on a task (that it sees) in
/// `status`: the rule `create` enforces, for the console to offer its form.
pub fn may_issue(role: Role, status: TaskStatus) -> bool {
    permissions::allows(role, Permission::ManageTasks) && open_for_orders(status)
}

/// The requirement an order from the ladder states, in the notice language.
pub fn default_requirement(lang: Lang, days_overdue: i64, reply_by: NaiveDate) -> String {
    let text = crate::i18n::text(lang, "order.default_requirement");
    text.replace("{n}", &days_overdue.to_string())
        .replace("{d}", &reply_by.to_string())
}

/// The reply-by date of an order issued today with no date of its own: the
/// configured number of working days on.
pub fn default_reply_by(
    conn: &mut DbConnection,
    settings: &Settings,
    today: NaiveDate,
) -> QueryResult<NaiveDate> {
    let calendar = crate::holidays::calendar(conn)?;
    Ok(calendar.add_working_days(today, settings.order_reply_working_days))
}

/// The office issues an order on task `id` with its own requirement; `tell`
/// writes its 督办 notice in the same transaction.
#[allow(clippy::too_many_arguments)]
pub fn create(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    req: CreateOrder,
    clock: &Clock,
    settings: &Settings,
    tell: OrderNotice,
) -> Result<OrderView> {
    auth.permit(Permission::ReadTasks)?;
    let mut v = Validator::default();
    let requirement = v.check(
        "requirement",
        BoundedText::parse(&req.requirement, MAX_REQUIREMENT),
    );
    let reply_by = match req.reply_by.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => v.check("reply_by", reply_date(text, clock.today)),
    };
    let Some(requirement) = requirement else {
        return Err(v.into_error());
    };
    v.finish()?;
    let now = clock.now;
    conn.write(|conn| {
        // Visibility first: a task out of sight is 404 whoever asks; then
        // the role (a unit clerk who sees the task is told 403).
        let task = visibility::lock_visible(conn, scope, id)?;
        auth.permit(Permission::ManageTasks)?;
        let status = task.status;
        if !open_for_orders(status) {
            return Err(Conflict::TaskNotOpen {
                status,
                attempted: TaskUse::Order,
            }
            .into());
        }
        let reply_by = match reply_by {
            Some(d) => d,
            None => default_reply_by(conn, settings, clock.today)?,
        };
        let issued = issue(
            conn,
            &Draft {
                task_id: task.id,
                requirement: requirement.as_str(),
                reply_by,
                created_by: Some(auth.id),
                year: clock.today.year(),
            },
            now,
        )?;
        let data = serde_json::json!({
            "order_id": issued.id, "number": issued.title(), "reply_by": reply_by,
        });
        events::record(
            conn,
            NewEvent {
                task_id: task.id,
                kind: "order_issued",
                actor: Some(auth.id),
                unit_id: Some(task.lead_unit_id),
                note: Some(format!("{}：{}", issued.title(), requirement.as_str())),
                data: Some(data),
            },
            now,
        )?;
        audit::record(
            conn,
            audit::Change {
                actor: Some(auth.id),
                action: "create",
                entity: "supervision_order",
                entity_id: Some(issued.id.0),
                before: None,
                after: Some(serde_json::json!({
                    "task_id": task.id, "number": issued.title(),
                    "requirement": requirement.as_str(), "reply_by": reply_by,
                })),
            },
            now,
        )?;
        // The lead unit's 督办 email with the order attached: sent once the
        // order is committed, or neither is.
        (tell.0)(conn, settings, &task, &issued, clock)?;
        let mut list = load(conn, task.id, clock.today)?;
        list.retain(|o| o.id == issued.id);
        list.pop().ok_or(Error::NotFound)
    })
}

/// A reply-by date: a real date, not before today.
fn reply_date(text: &str, today: NaiveDate) -> std::result::Result<NaiveDate, Message> {
    let date = parse_date(text)?;
    if date < today {
        return Err(Message::new(
            "回执期限不能早于今天",
            "the reply-by date cannot be before today",
        ));
    }
    Ok(date)
}

/// The orders on task `id`, newest first; 404 when out of sight.
pub fn list(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: TaskId,
    today: NaiveDate,
) -> Result<Vec<OrderView>> {
    let task = visibility::in_sight(conn, scope, id)?;
    list_in_sight(conn, auth, task, today)
}

/// `list` for a task already shown to be in sight.
pub fn list_in_sight(
    conn: &mut DbConnection,
    auth: &AuthUser,
    task: InSight,
    today: NaiveDate,
) -> Result<Vec<OrderView>> {
    auth.permit(Permission::ReadTasks)?;
    Ok(load(conn, task.id(), today)?)
}

/// The order `id` if the person sees its task (404 otherwise).
pub fn find(
    conn: &mut DbConnection,
    auth: &AuthUser,
    scope: Scope,
    id: OrderId,
    today: NaiveDate,
) -> Result<OrderView> {
    auth.permit(Permission::ReadTasks)?;
    let task: TaskId = supervision_orders::table
        .find(id)
        .select(supervision_orders::task_id)
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
    visibility::find_visible(conn, scope, task)?;
    load(conn, task, today)?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or(Error::NotFound)
}

type Row = (
    OrderId,
    i32,
    i64,
    String,
    NaiveDate,
    Option<UserId>,
    NaiveDateTime,
    Option<ReportId>,
    Option<NaiveDateTime>,
);

/// The task's orders with their replies, newest first.
pub(crate) fn load(
    conn: &mut DbConnection,
    task: TaskId,
    today: NaiveDate,
) -> QueryResult<Vec<OrderView>> {
    let rows: Vec<Row> = supervision_orders::table
        .filter(supervision_orders::task_id.eq(task))
        .select((
            supervision_orders::id,
            supervision_orders::year,
            supervision_orders::number,
            supervision_orders::requirement,
            supervision_orders::reply_by,
            supervision_orders::created_by,
            supervision_orders::created_at,
            supervision_orders::reply_report_id,
            supervision_orders::replied_at,
        ))
        .order(supervision_orders::id.desc())
        .load(conn)?;
    let replies = Replies::load(conn, rows.iter().filter_map(|r| r.7))?;
    Ok(rows
        .into_iter()
        .map(
            |(id, year, number, requirement, reply_by, created_by, created_at, report, replied)| {
                let reply = replies.view(report, replied);
                OrderView {
                    overdue: reply.is_none() && reply_by < today,
                    id,
                    task_id: task,
                    year,
                    number,
                    title: number_label(year, number),
                    requirement,
                    reply_by,
                    created_by,
                    created_at: created_at.and_utc(),
                    reply,
                }
            },
        )
        .collect())
}
