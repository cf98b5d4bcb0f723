//! The supervision order as a document: one printable A4 page (print CSS,
//! page numbers, no navigation) from the minijinja template
//! `src/templates/supervision_order.html`, shown by the console at
//! `/orders/{id}` and attached to the 督办 email. The template has an
//! environment of its own, so that the outbox (which attaches it) does not
//! depend on the console; it is checked when `serve` starts.

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::db::schema::{
    progress_reports, supervision_orders, task_co_leaders, task_cooperators, tasks, units, users,
};
use crate::db::DbConnection;
use crate::domain::message::Lang;
use crate::domain::traffic;
use crate::domain::UnitKind;
use crate::domain::{OrderId, ReportId, TaskId, UnitId, UserId};
use crate::i18n;

/// What the document states.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub lang: &'static str,
    pub id: OrderId,
    pub task_id: TaskId,
    /// 督办〔2026〕3号
    pub title: String,
    pub year: i32,
    pub number: i64,
    /// Who issues it: the office unit's name.
    pub issuer: String,
    /// The lead unit and its head (主送).
    pub lead_unit: String,
    pub head: Option<String>,
    /// The responsible and co-responsible leaders (抄送).
    pub leaders: Vec<String>,
    /// The cooperating units (抄送).
    pub cooperating: Vec<String>,
    pub code: String,
    pub task_title: String,
    pub due_date: Option<NaiveDate>,
    /// As of the day the order was issued.
    pub days_overdue: i64,
    pub requirement: String,
    pub reply_by: NaiveDate,
    pub issued_on: NaiveDate,
    /// Issued by the ladder (the 督办 step), not by a person.
    pub from_ladder: bool,
    /// The receipt (回执), once the lead unit has completed it.
    pub receipt: Option<Receipt>,
    /// Where the lead unit completes the receipt online.
    pub link: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub unit: String,
    pub author: String,
    pub percent: i32,
    pub body: String,
    pub on: NaiveDate,
}

type OrderRow = (
    TaskId,
    i32,
    i64,
    String,
    NaiveDate,
    Option<UserId>,
    chrono::NaiveDateTime,
    Option<ReportId>,
);

/// Reads what order `id` states; None when there is no such order. The
/// caller has checked that the person sees its task.
pub fn load(
    conn: &mut DbConnection,
    settings: &Settings,
    id: OrderId,
    lang: Lang,
) -> anyhow::Result<Option<Document>> {
    let row: Option<OrderRow> = supervision_orders::table
        .find(id)
        .select((
            supervision_orders::task_id,
            supervision_orders::year,
            supervision_orders::number,
            supervision_orders::requirement,
            supervision_orders::reply_by,
            supervision_orders::created_by,
            supervision_orders::created_at,
            supervision_orders::reply_report_id,
        ))
        .first(conn)
        .optional()?;
    let Some((task_id, year, number, requirement, reply_by, created_by, created_at, report)) = row
    else {
        return Ok(None);
    };
    let (code, task_title, due_date, lead, leader): (
        String,
        String,
        Option<NaiveDate>,
        UnitId,
        Option<UserId>,
    ) = tasks::table
        .find(task_id)
        .select((
            tasks::code,
            tasks::title,
            tasks::due_date,
            tasks::lead_unit_id,
            tasks::responsible_leader_id,
        ))
        .first(conn)?;
    let (lead_unit, head): (String, Option<String>) = units::table
        .find(lead)
        .select((units::name, units::head_name))
        .first(conn)?;
    let co_leaders: Vec<UserId> = task_co_leaders::table
        .filter(task_co_leaders::task_id.eq(task_id))
        .select(task_co_leaders::user_id)
        .load(conn)?;
    let leader_ids: Vec<UserId> = leader.into_iter().chain(co_leaders).collect();
    let mut leaders = Vec::new();
    for l in &leader_ids {
        let name: Option<String> = users::table
            .find(l)
            .select(users::display_name)
            .first(conn)
            .optional()?;
        leaders.extend(name);
    }
    let cooperating: Vec<String> = task_cooperators::table
        .inner_join(units::table.on(units::id.eq(task_cooperators::unit_id)))
        .filter(task_cooperators::task_id.eq(task_id))
        .order(units::code.asc())
        .select(units::name)
        .load(conn)?;
    let issuer: String = units::table
        .filter(units::kind.eq(UnitKind::Office))
        .filter(units::active.eq(true))
        .order(units::id.asc())
        .select(units::name)
        .first(conn)
        .optional()?
        .unwrap_or_else(|| i18n::text(lang, "order.issuer_default").to_string());
    let local =
        |at: chrono::NaiveDateTime| at.and_utc().with_timezone(&settings.timezone).date_naive();
    let receipt = match report {
        Some(r) => {
            let (unit, author, percent, body, at): (
                String,
                String,
                i32,
                String,
                chrono::NaiveDateTime,
            ) = progress_reports::table
                .find(r)
                .inner_join(units::table.on(units::id.eq(progress_reports::unit_id)))
                .inner_join(users::table.on(users::id.eq(progress_reports::author_id)))
                .select((
                    units::name,
                    users::display_name,
                    progress_reports::percent,
                    progress_reports::body,
                    progress_reports::created_at,
                ))
                .first(conn)?;
            Some(Receipt {
                unit,
                author,
                percent,
                body,
                on: local(at),
            })
        }
        None => None,
    };
    let issued_on = local(created_at);
    let base = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.listen));
    Ok(Some(Document {
        lang: i18n::tag(lang),
        id,
        task_id,
        title: super::number_label(year, number),
        year,
        number,
        issuer,
        lead_unit,
        head,
        leaders,
        cooperating,
        code,
        task_title,
        days_overdue: due_date.map_or(0, |d| traffic::days_late(d, issued_on).max(0)),
        due_date,
        requirement,
        reply_by,
        issued_on,
        from_ladder: created_by.is_none(),
        receipt,
        link: format!("{}/tasks/{}#report", base.trim_end_matches('/'), task_id.0),
    }))
}

/// The document as a page of its own (`documents/supervision_order.html`,
/// which an installation may override like every document).
pub fn render(doc: &Document) -> anyhow::Result<String> {
    let year = doc.issued_on.year();
    crate::templates::render(
        "documents/supervision_order.html",
        minijinja::context! { doc => doc, year => year, lang => doc.lang },
    )
}

/// The order as the HTML file the 督办 email carries, in the notice
/// language. Rendered when the email is sent, so a resend carries the
/// order as it stands (with its receipt, once completed).
pub fn attachment(
    conn: &mut DbConnection,
    settings: &Settings,
    id: OrderId,
) -> anyhow::Result<crate::mail::Attachment> {
    let lang = settings.notice_language;
    let doc = load(conn, settings, id, lang)?
        .ok_or_else(|| anyhow::anyhow!("supervision order {id} is gone"))?;
    Ok(crate::mail::Attachment {
        // ASCII, so that every mail client shows the same name.
        filename: format!("supervision-order-{}-{}.html", doc.year, doc.number),
        content_type: "text/html; charset=utf-8".into(),
        bytes: render(&doc)?.into_bytes(),
    })
}
