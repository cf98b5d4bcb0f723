//! 工作台: what waits for the signed-in person, by role, each figure a link to
//! exactly the list it counts: a card is the list page's own query string,
//! counted through the same filter the list page applies; the clerk's
//! indicator card counts the same function `/indicators?owed=true` lists;
//! the office's overdue-by-unit table groups the task list's own overdue
//! filter by lead unit, each row linking to that unit's list. Leaders, the
//! office and administrators find what they follow (关注) at the top.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Serialize;

use super::tasks::ListQuery;
use crate::db::schema::{extensions, notices, tasks, units};
use crate::db::DbConnection;
use crate::domain::clock::Clock;
use crate::domain::kinds::{ExtensionStatus, NoticeStatus};
use crate::domain::{Role, UnitId};
use crate::error::{Error, Result};
use crate::http::Paging;
use crate::indicators::{reports, Sight};
use crate::state::AppState;
use crate::tasks::input::ListFilter;
use crate::tasks::{service, visibility};
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

/// When a card is an alarm.
#[derive(Clone, Copy)]
enum Alarm {
    Never,
    /// When it counts anything.
    AnyListed,
    /// When this narrower list of the same tasks is not empty: reports owed
    /// are an alarm once one of them is missing (past its report date).
    AnyIn(&'static str),
}

/// A card: the i18n key of its label, the task list's query it counts, and
/// when it is an alarm.
type CardSpec = (&'static str, &'static str, Alarm);

const CLERK: &[CardSpec] = &[
    ("home.to_accept", "status=assigned", Alarm::AnyListed),
    ("home.in_progress", "status=in_progress", Alarm::Never),
    ("home.returned", "returned=true", Alarm::AnyListed),
    ("home.overdue", "overdue=true", Alarm::AnyListed),
    (
        "home.reports_owed",
        "report=owed",
        Alarm::AnyIn("report=missing"),
    ),
    ("home.submitted_unit", "status=submitted", Alarm::Never),
];

const LEADER: &[CardSpec] = &[
    ("home.red", "light=red", Alarm::AnyListed),
    ("home.yellow", "light=yellow", Alarm::Never),
    ("home.green", "light=green", Alarm::Never),
];

const OFFICE: &[CardSpec] = &[
    ("home.to_verify", "status=submitted", Alarm::AnyListed),
    (
        "home.overdue",
        "overdue=true&sort=due_date",
        Alarm::AnyListed,
    ),
    ("home.drafts", "status=draft", Alarm::Never),
];

#[derive(Serialize)]
struct Card {
    label: &'static str,
    count: i64,
    href: String,
    alarm: bool,
}

#[derive(Serialize)]
struct PendingExtension {
    task_id: i64,
    code: String,
    title: String,
    new_due_date: String,
}

/// A lead unit with overdue tasks, linked to exactly those.
#[derive(Serialize)]
struct OverdueUnit {
    name: String,
    count: i64,
    most_days: i64,
    href: String,
}

#[derive(Serialize)]
struct HomePage {
    /// What the person follows (关注), at the head of the page: leaders,
    /// the office and administrators.
    followed: Option<crate::follows::Followed>,
    cards: Vec<Card>,
    extensions: Vec<PendingExtension>,
    overdue_units: Vec<OverdueUnit>,
    /// The office's queues with their figures (office and admin).
    queues: Option<super::queues::Counts>,
}

/// How many tasks in sight the list page would show for `query`.
fn count(
    conn: &mut DbConnection,
    scope: visibility::Scope,
    query: &str,
    clock: &Clock,
) -> Result<i64> {
    let query: ListQuery = serde_urlencoded::from_str(query)
        .map_err(|e| Error::Internal(anyhow::anyhow!("home card query {query}: {e}")))?;
    let filter = ListFilter::try_from(query.filter())?;
    let paging = Paging {
        page: 1,
        per_page: 1,
    };
    Ok(service::list(conn, scope, &filter, paging, clock)?.total)
}

fn task_cards(
    conn: &mut DbConnection,
    scope: visibility::Scope,
    specs: &[CardSpec],
    clock: &Clock,
) -> Result<Vec<Card>> {
    specs
        .iter()
        .map(|(label, query, alarm)| {
            let count = count(conn, scope, query, clock)?;
            let alarm = match alarm {
                Alarm::Never => false,
                Alarm::AnyListed => count > 0,
                Alarm::AnyIn(narrower) => {
                    count > 0 && self::count(conn, scope, narrower, clock)? > 0
                }
            };
            Ok(Card {
                label,
                count,
                href: format!("/tasks?{query}"),
                alarm,
            })
        })
        .collect()
}

/// Notices that could not be delivered: the office must act on them.
fn dead_notices(conn: &mut DbConnection) -> Result<Card> {
    let count: i64 = notices::table
        .filter(notices::status.eq(NoticeStatus::Dead))
        .count()
        .get_result(conn)?;
    Ok(Card {
        label: "home.dead_notices",
        count,
        href: "/notices?status=dead".into(),
        alarm: count > 0,
    })
}

/// Extension requests waiting for the office's decision, oldest first.
fn pending_extensions(conn: &mut DbConnection) -> Result<Vec<PendingExtension>> {
    let rows = extensions::table
        .inner_join(tasks::table)
        .filter(extensions::status.eq(ExtensionStatus::Pending))
        .select((
            tasks::id,
            tasks::code,
            tasks::title,
            extensions::new_due_date,
        ))
        .order(extensions::id.asc())
        .limit(50)
        .load::<(i64, String, String, chrono::NaiveDate)>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(task_id, code, title, d)| PendingExtension {
            task_id,
            code,
            title,
            new_due_date: d.to_string(),
        })
        .collect())
}

/// The reports the clerk's unit has not sent that are due by a week from
/// today: what `/indicators?owed=true` lists, from the same function.
fn indicators_owed(conn: &mut DbConnection, sight: Sight, today: NaiveDate) -> Result<Card> {
    let owed = reports::owed_by(conn, sight, today, true)?;
    let count = i64::try_from(owed.len()).unwrap_or(i64::MAX);
    Ok(Card {
        label: "home.indicators_owed",
        count,
        href: "/indicators?owed=true".into(),
        // Due soon is not yet an alarm; late is.
        alarm: owed.iter().any(|r| r.report.due < today),
    })
}

/// Overdue tasks by lead unit, most first, each linked to its list.
fn overdue_units(
    conn: &mut DbConnection,
    scope: visibility::Scope,
    clock: &Clock,
) -> Result<Vec<OverdueUnit>> {
    let groups = service::overdue_by_lead_unit(conn, scope, clock)?;
    let ids: Vec<UnitId> = groups.iter().map(|g| g.unit_id).collect();
    let names: HashMap<UnitId, String> = units::table
        .filter(units::id.eq_any(ids))
        .select((units::id, units::name))
        .load::<(UnitId, String)>(conn)?
        .into_iter()
        .collect();
    Ok(groups
        .into_iter()
        .map(|g| OverdueUnit {
            name: names
                .get(&g.unit_id)
                .cloned()
                .unwrap_or_else(|| g.unit_id.to_string()),
            count: g.count,
            most_days: g.most_days,
            href: format!("/tasks?{}", overdue_query(g.unit_id)),
        })
        .collect())
}

/// The task list's query for one lead unit's overdue tasks.
fn overdue_query(unit: UnitId) -> String {
    format!("overdue=true&lead_unit_id={unit}")
}

/// GET /
pub async fn home(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let scope = visibility::scope(&person.auth, &state.settings);
    let role = person.auth.role;
    let sight = Sight::of(&person.auth);
    let clock = state.clock();
    let user = person.auth.id;
    let page = state
        .db(move |conn| {
            Ok(match role {
                Role::Unit => {
                    let mut cards = task_cards(conn, scope, CLERK, &clock)?;
                    cards.push(indicators_owed(conn, sight, clock.today)?);
                    HomePage {
                        followed: None,
                        cards,
                        extensions: Vec::new(),
                        overdue_units: Vec::new(),
                        queues: None,
                    }
                }
                Role::Leader => HomePage {
                    followed: Some(crate::follows::list(conn, user, scope, &clock)?),
                    cards: task_cards(conn, scope, LEADER, &clock)?,
                    extensions: Vec::new(),
                    overdue_units: Vec::new(),
                    queues: None,
                },
                Role::Office | Role::Admin | Role::Viewer => {
                    let mut cards = task_cards(conn, scope, OFFICE, &clock)?;
                    cards.push(dead_notices(conn)?);
                    HomePage {
                        followed: if role == Role::Viewer {
                            None
                        } else {
                            Some(crate::follows::list(conn, user, scope, &clock)?)
                        },
                        cards,
                        extensions: pending_extensions(conn)?,
                        overdue_units: overdue_units(conn, scope, &clock)?,
                        queues: if role == Role::Viewer {
                            None
                        } else {
                            Some(super::queues::counts(conn, scope, &clock)?)
                        },
                    }
                }
            })
        })
        .await
        .page(lang)?;
    render(StatusCode::OK, "home.html", lang, Some(&person), page)
}
