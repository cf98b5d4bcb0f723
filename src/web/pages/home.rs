//! 工作台: what waits for the signed-in person, by role, each figure a link to
//! exactly the list it counts.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{extensions, notices, tasks};
use crate::domain::clock::Clock;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::domain::Role;
use crate::http::problem::ApiResult;
use crate::http::Paging;
use crate::state::AppState;
use crate::tasks::input::ListFilter as TaskFilter;
use crate::tasks::{service, visibility};
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

#[derive(Serialize)]
struct Card {
    /// The i18n key of its label.
    label: &'static str,
    count: i64,
    href: String,
    /// Draws attention when not zero.
    alarm: bool,
}

#[derive(Serialize)]
struct PendingExtension {
    task_id: i64,
    code: String,
    title: String,
    new_due_date: String,
}

#[derive(Serialize)]
struct HomePage {
    cards: Vec<Card>,
    extensions: Vec<PendingExtension>,
}

fn count(
    conn: &mut crate::db::DbConnection,
    scope: visibility::Scope,
    filter: TaskFilter,
    clock: &Clock,
) -> ApiResult<i64> {
    let paging = Paging {
        page: 1,
        per_page: 1,
    };
    Ok(service::list(conn, scope, &filter, paging, clock)?.total)
}

fn status(s: TaskStatus) -> TaskFilter {
    TaskFilter {
        status: Some(s),
        ..Default::default()
    }
}

/// GET /
pub async fn home(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let scope = visibility::scope(&person.auth, &state.settings);
    let role = person.auth.role;
    let clock = state.clock();
    let page = state
        .db_api(move |conn| {
            let mut cards = Vec::new();
            let mut card =
                |label, filter: TaskFilter, href: &str, alarm, conn: &mut _| -> ApiResult<()> {
                    let count = count(conn, scope, filter, &clock)?;
                    cards.push(Card {
                        label,
                        count,
                        href: href.into(),
                        alarm: alarm && count > 0,
                    });
                    Ok(())
                };
            let overdue = || TaskFilter {
                overdue: Some(true),
                ..Default::default()
            };
            let light = |l: TrafficLight| TaskFilter {
                light: Some(l),
                ..Default::default()
            };
            match role {
                Role::Unit => {
                    card(
                        "home.to_accept",
                        status(TaskStatus::Assigned),
                        "/tasks?status=assigned",
                        true,
                        conn,
                    )?;
                    card(
                        "home.in_progress",
                        status(TaskStatus::InProgress),
                        "/tasks?status=in_progress",
                        false,
                        conn,
                    )?;
                    let returned = TaskFilter {
                        returned: Some(true),
                        ..Default::default()
                    };
                    card(
                        "home.returned",
                        returned,
                        "/tasks?returned=true",
                        true,
                        conn,
                    )?;
                    card("home.overdue", overdue(), "/tasks?overdue=true", true, conn)?;
                    card(
                        "home.submitted_unit",
                        status(TaskStatus::Submitted),
                        "/tasks?status=submitted",
                        false,
                        conn,
                    )?;
                }
                Role::Leader => {
                    card(
                        "home.red",
                        light(TrafficLight::Red),
                        "/tasks?light=red",
                        true,
                        conn,
                    )?;
                    card(
                        "home.yellow",
                        light(TrafficLight::Yellow),
                        "/tasks?light=yellow",
                        false,
                        conn,
                    )?;
                    card(
                        "home.green",
                        light(TrafficLight::Green),
                        "/tasks?light=green",
                        false,
                        conn,
                    )?;
                }
                Role::Office | Role::Admin | Role::Viewer => {
                    card(
                        "home.to_verify",
                        status(TaskStatus::Submitted),
                        "/tasks?status=submitted",
                        true,
                        conn,
                    )?;
                    card(
                        "home.overdue",
                        overdue(),
                        "/tasks?overdue=true&sort=due_date",
                        true,
                        conn,
                    )?;
                    card(
                        "home.drafts",
                        status(TaskStatus::Draft),
                        "/tasks?status=draft",
                        false,
                        conn,
                    )?;
                    let dead: i64 = notices::table
                        .filter(notices::status.eq("dead"))
                        .count()
                        .get_result(conn)?;
                    cards.push(Card {
                        label: "home.dead_notices",
                        count: dead,
                        href: "/notices?status=dead".into(),
                        alarm: dead > 0,
                    });
                }
            }
            let extensions = if matches!(role, Role::Office | Role::Admin | Role::Viewer) {
                extensions::table
                    .inner_join(tasks::table)
                    .filter(extensions::status.eq("pending"))
                    .select((
                        tasks::id,
                        tasks::code,
                        tasks::title,
                        extensions::new_due_date,
                    ))
                    .order(extensions::id.asc())
                    .limit(50)
                    .load::<(i64, String, String, chrono::NaiveDate)>(conn)?
                    .into_iter()
                    .map(|(task_id, code, title, d)| PendingExtension {
                        task_id,
                        code,
                        title,
                        new_due_date: d.to_string(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Ok(HomePage { cards, extensions })
        })
        .await
        .page(lang)?;
    render(StatusCode::OK, "home.html", lang, Some(&person), page)
}
