//! 单位履职档案 (`/units/{id}`): a unit's record in the console — its tasks
//! counted by light (each count a link to the task list), lateness, the
//! notices sent to it, its accountability records and its standing in every
//! published bulletin — with a 关注 button for those who may follow. The
//! figures are `unit_record::record`'s and who may see them is the API's
//! rule (a unit clerk only the own unit; anyone else without the rankings'
//! permission a 404).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::auth::{permissions, Permission};
use crate::domain::notice_step::NoticeStep;
use crate::domain::traffic::TrafficLight;
use crate::domain::{Role, UnitId};
use crate::http::Paging;
use crate::state::AppState;
use crate::tasks::input::ListFilter;
use crate::tasks::visibility;
use crate::unit_record::{self, UnitRecord};
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

/// Open tasks shown on the page, at most: the count links list them all.
const SHOWN: i64 = 200;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RecordQuery {
    /// `follow` or `unfollow` after the button: the message to show.
    done: String,
}

#[derive(Serialize)]
struct TaskLine {
    id: i64,
    code: String,
    title: String,
    status: crate::domain::task_state::TaskStatus,
    light: Option<TrafficLight>,
    due_date: Option<chrono::NaiveDate>,
    days_overdue: i64,
}

#[derive(Serialize)]
struct StepCount {
    key: &'static str,
    days: u32,
    count: i64,
}

#[derive(Serialize)]
struct UnitPage {
    record: UnitRecord,
    total: i64,
    red: i64,
    yellow: i64,
    green: i64,
    /// The unit's tasks, most urgent light first.
    tasks: Vec<TaskLine>,
    steps: Vec<StepCount>,
    /// Whether the person follows the unit; `None` for those who may not.
    following: Option<bool>,
    flash: Option<String>,
    /// The record over the published bulletins as a picture (escaped SVG).
    chart: Option<String>,
}

/// Whether `auth` may see unit `id`'s record: the API's rule (the pages
/// that name a unit link to its record only then).
pub fn may_see(auth: &crate::auth::AuthUser, id: UnitId) -> bool {
    match auth.role {
        Role::Unit => auth.unit_id == Some(id),
        role => permissions::allows(role, Permission::ReadRankings),
    }
}

/// GET /units/{id}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<RecordQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let id = UnitId(id.into_inner());
    if !may_see(&person.auth, id) {
        return Err(PageError::not_found(lang));
    }
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let user = person.auth.id;
    let may_follow = permissions::allows(person.auth.role, Permission::Follow);
    let (record, views, following) = state
        .db(move |conn| {
            let record = unit_record::record(conn, id, &clock)?;
            let filter = ListFilter {
                lead_unit_id: Some(id),
                ..ListFilter::default()
            };
            let paging = Paging {
                page: 1,
                per_page: SHOWN,
            };
            let views = crate::tasks::service::list(conn, scope, &filter, paging, &clock)?;
            let following = if may_follow {
                Some(crate::follows::is_following(
                    conn,
                    user,
                    crate::follows::Target::Unit(id),
                )?)
            } else {
                None
            };
            Ok((record, views, following))
        })
        .await
        .page(lang)?;
    let (mut red, mut yellow, mut green) = (0, 0, 0);
    let mut tasks: Vec<TaskLine> = views
        .items
        .into_iter()
        .map(|t| {
            match t.light {
                Some(TrafficLight::Red) => red += 1,
                Some(TrafficLight::Yellow) => yellow += 1,
                Some(TrafficLight::Green) => green += 1,
                None => {}
            }
            TaskLine {
                id: t.id.0,
                code: t.code,
                title: t.title,
                status: t.status,
                light: t.light,
                due_date: t.due_date,
                days_overdue: t.days_overdue,
            }
        })
        .collect();
    // Red first, then yellow, green and the lightless (drafts, finished).
    let rank = |l: &Option<TrafficLight>| match l {
        Some(TrafficLight::Red) => 0,
        Some(TrafficLight::Yellow) => 1,
        Some(TrafficLight::Green) => 2,
        None => 3,
    };
    tasks.sort_by_key(|t| (rank(&t.light), std::cmp::Reverse(t.days_overdue)));
    let steps = record
        .notices_by_step
        .iter()
        .map(|(step, count)| {
            let (key, days) = NoticeStep::parse(step)
                .map(super::queues::step_words)
                .unwrap_or(("digest", 0));
            StepCount {
                key,
                days,
                count: *count,
            }
        })
        .collect();
    let flash = match query.done.as_str() {
        "follow" => Some(crate::i18n::text(lang, "done.follow_unit").to_string()),
        "unfollow" => Some(crate::i18n::text(lang, "done.unfollow").to_string()),
        _ => None,
    };
    let chart =
        (!record.bulletins.is_empty()).then(|| unit_record::chart::chart(&record.bulletins, lang));
    let page = UnitPage {
        chart,
        total: views.total,
        red,
        yellow,
        green,
        tasks,
        steps,
        following,
        flash,
        record,
    };
    render(StatusCode::OK, "unit.html", lang, Some(&person), page)
}
