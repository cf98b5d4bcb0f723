//! 通知: what duban sent to the person's unit (all units for the office),
//! when, by which step of the ladder, and whether it went out.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{notices, tasks};
use crate::domain::kinds::NoticeStatus;
use crate::domain::notice_step::NoticeStep;
use crate::domain::{TaskId, UnitId};
use crate::state::AppState;
use crate::web::page::{local_time, render, OrPage, PageError};
use crate::web::session::Person;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NoticeQuery {
    // Text: a status that is none of them shows nothing, as it always has.
    status: String,
}

#[derive(Serialize)]
struct Line {
    created: String,
    step: NoticeStep,
    status: NoticeStatus,
    subject: String,
    task_id: Option<TaskId>,
    task_code: Option<String>,
    recipients: String,
}

#[derive(Serialize)]
struct NoticesPage {
    lines: Vec<Line>,
    status: String,
}

type NoticeTuple = (
    chrono::NaiveDateTime,
    NoticeStep,
    NoticeStatus,
    String,
    Option<TaskId>,
    Option<String>,
    String,
);

/// GET /notices: the latest 200.
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<NoticeQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let own_unit = person.auth.unit_records_scope().page(lang)?.map(UnitId);
    let status = query.into_inner().status;
    let filter_status = status.clone();
    let rows: Vec<NoticeTuple> = state
        .db(move |conn| {
            let mut q = notices::table.left_join(tasks::table).into_boxed();
            if let Some(u) = own_unit {
                q = q.filter(notices::unit_id.eq(u));
            }
            if !filter_status.is_empty() {
                q = q.filter(notices::status.eq(filter_status));
            }
            Ok(q.select((
                notices::created_at,
                notices::step,
                notices::status,
                notices::subject,
                notices::task_id,
                tasks::code.nullable(),
                notices::recipients,
            ))
            .order(notices::id.desc())
            .limit(200)
            .load(conn)?)
        })
        .await
        .page(lang)?;
    let lines = rows
        .into_iter()
        .map(
            |(created, step, status, subject, task_id, task_code, recipients)| Line {
                created: local_time(&state, created.and_utc()),
                step,
                status,
                subject,
                task_id,
                task_code,
                recipients,
            },
        )
        .collect();
    render(
        StatusCode::OK,
        "notices.html",
        lang,
        Some(&person),
        NoticesPage { lines, status },
    )
}
