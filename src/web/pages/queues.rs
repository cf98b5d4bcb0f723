//! The office's queues (office and admin): 待审核 (submitted tasks, oldest
//! submission first, with the note and the evidence, and the task page's own
//! verify/return forms), 延期审批 (pending extension requests with the task
//! page's own decide form), 逾期任务 by lead unit, and 投递失败 (dead notices
//! with 重新投递, beside the scheduler's state). Each calls the service the
//! API calls: `tasks::queues`, `notices::outbox`, `jobs::status`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use crate::auth::Permission;
use crate::domain::clock::Clock;
use crate::domain::ladder::Step;
use crate::domain::notice_step::NoticeStep;
use crate::domain::NoticeId;
use crate::http::problem::ApiError;
use crate::http::Paging;
use crate::jobs::SchedulerStatus;
use crate::notices::outbox::{self, NoticeFilter};
use crate::notices::NoticeView;
use crate::state::AppState;
use crate::tasks::queues::{self, PendingExtension, ToReview, UnitQueue};
use crate::tasks::visibility::{self, Scope};
use crate::web::page::{local_time, render, see_other, OrPage, PageError};
use crate::web::session::Person;

/// The queues' own paths, the only places the task page's forms may send
/// the office back to after a step taken from a queue.
pub const BACK: &[&str] = &["/queues/review", "/queues/extensions"];

/// How many rows wait in each queue: the tabs' and the home page's figures.
#[derive(Debug, Serialize)]
pub struct Counts {
    pub review: i64,
    pub extensions: i64,
    pub overdue: i64,
    pub dead: i64,
}

/// The figures of the four queues for `scope`.
pub fn counts(
    conn: &mut crate::db::DbConnection,
    scope: Scope,
    clock: &Clock,
) -> crate::error::Result<Counts> {
    let review = queues::review_count(conn, scope, clock)?;
    let extensions =
        i64::try_from(queues::pending_extensions(conn, scope)?.len()).unwrap_or(i64::MAX);
    let overdue = crate::tasks::service::overdue_by_lead_unit(conn, scope, clock)?
        .iter()
        .map(|u| u.count)
        .sum();
    let dead = outbox::queue(conn)?.get("dead").copied().unwrap_or(0);
    Ok(Counts {
        review,
        extensions,
        overdue,
        dead,
    })
}

/// The queues are the office's (and the admin's): anyone else is refused as
/// the API refuses them (403).
fn office_only(state: &AppState, person: &Person) -> Result<Scope, PageError> {
    person
        .auth
        .require(Permission::ManageTasks)
        .page(person.lang)?;
    Ok(visibility::scope(&person.auth, &state.settings))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: String,
}

#[derive(Serialize)]
struct QueuePage<T: Serialize> {
    tab: &'static str,
    counts: Counts,
    /// The step just taken from this queue, said in words.
    done: String,
    error: Option<String>,
    #[serde(flatten)]
    rows: T,
}

async fn show<T, F>(
    state: &AppState,
    person: &Person,
    tab: &'static str,
    done: String,
    error: Option<(StatusCode, String)>,
    rows: F,
) -> Result<HttpResponse, PageError>
where
    T: Serialize + Send + 'static,
    F: FnOnce(&mut crate::db::DbConnection, Scope, &Clock) -> crate::error::Result<T>
        + Send
        + 'static,
{
    let lang = person.lang;
    let scope = office_only(state, person)?;
    let clock = state.clock();
    let (counts, rows) = state
        .db(move |conn| Ok((counts(conn, scope, &clock)?, rows(conn, scope, &clock)?)))
        .await
        .page(lang)?;
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let done = if ["verify", "return", "approve", "reject", "retry"].contains(&done.as_str()) {
        done
    } else {
        String::new()
    };
    let page = QueuePage {
        tab,
        counts,
        done,
        error,
        rows,
    };
    render(
        status,
        &format!("queue_{tab}.html"),
        lang,
        Some(person),
        page,
    )
}

/// GET /queues: the four queues with their figures.
pub async fn index(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    show(&state, &person, "index", String::new(), None, |_, _, _| {
        Ok(())
    })
    .await
}

#[derive(Serialize)]
struct ReviewRows {
    tasks: Vec<Reviewed>,
    total: i64,
}

#[derive(Serialize)]
struct Reviewed {
    #[serde(flatten)]
    row: ToReview,
    submitted: String,
}

/// GET /queues/review: 待审核.
pub async fn review(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    show(
        &state,
        &person,
        "review",
        query.into_inner().done,
        None,
        move |conn, scope, clock| {
            let (rows, total) = queues::review(conn, scope, clock)?;
            let tasks = rows
                .into_iter()
                .map(|row| Reviewed {
                    submitted: row
                        .task
                        .submitted_at
                        .map(|at| local_time(&st, at))
                        .unwrap_or_default(),
                    row,
                })
                .collect();
            Ok(ReviewRows { tasks, total })
        },
    )
    .await
}

#[derive(Serialize)]
struct ExtensionRows {
    extensions: Vec<Requested>,
}

#[derive(Serialize)]
struct Requested {
    #[serde(flatten)]
    row: PendingExtension,
    requested: String,
}

/// GET /queues/extensions: 延期审批.
pub async fn extensions(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    show(
        &state,
        &person,
        "extensions",
        query.into_inner().done,
        None,
        move |conn, scope, _| {
            let extensions = queues::pending_extensions(conn, scope)?
                .into_iter()
                .map(|row| Requested {
                    requested: local_time(&st, row.extension.created_at.and_utc()),
                    row,
                })
                .collect();
            Ok(ExtensionRows { extensions })
        },
    )
    .await
}

#[derive(Serialize)]
struct OverdueRows {
    units: Vec<UnitQueue>,
}

/// GET /queues/overdue: 逾期任务 by lead unit, worst first.
pub async fn overdue(
    state: web::Data<AppState>,
    person: Person,
) -> Result<HttpResponse, PageError> {
    show(
        &state,
        &person,
        "overdue",
        String::new(),
        None,
        |conn, scope, clock| {
            Ok(OverdueRows {
                units: queues::overdue_by_unit(conn, scope, clock)?,
            })
        },
    )
    .await
}

#[derive(Serialize)]
struct DeadRows {
    notices: Vec<Dead>,
    total: i64,
    scheduler: SchedulerStatus,
    lease_expires: String,
    runs: Vec<Run>,
}

#[derive(Serialize)]
struct Dead {
    #[serde(flatten)]
    notice: NoticeView,
    created: String,
    /// The step in words: the i18n key under `step.` and its day count.
    step_key: &'static str,
    step_days: u32,
}

/// A notice's step as the page names it: which kind, and the ladder's day.
pub(crate) fn step_words(step: NoticeStep) -> (&'static str, u32) {
    match step {
        NoticeStep::Ladder(Step::Reminder(n)) => ("reminder", n),
        NoticeStep::Ladder(Step::Chase(n)) => ("chase", n),
        NoticeStep::Ladder(Step::Supervise(n)) => ("supervise", n),
        NoticeStep::Ladder(Step::Accountability(n)) => ("accountability", n),
        NoticeStep::AcceptOverdue => ("accept_overdue", 0),
        NoticeStep::ReportMissing => ("report_missing", 0),
        NoticeStep::Assigned => ("assigned", 0),
        NoticeStep::Returned => ("returned", 0),
        NoticeStep::Instruction => ("instruction", 0),
        NoticeStep::Digest => ("digest", 0),
        NoticeStep::FollowDigest => ("follow_digest", 0),
        NoticeStep::Bulletin => ("bulletin", 0),
    }
}

#[derive(Serialize)]
struct Run {
    job: String,
    period: String,
    holder: String,
    started: String,
    finished: String,
    outcome: String,
    attempts: i32,
}

async fn dead_page(
    state: &web::Data<AppState>,
    person: &Person,
    done: String,
    error: Option<(StatusCode, String)>,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    show(state, person, "notices", done, error, move |conn, _, _| {
        let filter = NoticeFilter {
            task_id: None,
            unit_id: None,
            status: Some("dead".into()),
            step: None,
            page: None,
            per_page: None,
        };
        let paging = Paging {
            page: 1,
            per_page: queues::QUEUE_MAX,
        };
        let page = outbox::list(conn, None, &filter, paging)?;
        let scheduler = crate::jobs::status(conn, 20)?;
        let time = |at: chrono::DateTime<chrono::Utc>| local_time(&st, at);
        Ok(DeadRows {
            total: page.total,
            notices: page
                .items
                .into_iter()
                .map(|notice| {
                    let (step_key, step_days) = step_words(notice.step);
                    Dead {
                        created: time(notice.created_at),
                        step_key,
                        step_days,
                        notice,
                    }
                })
                .collect(),
            lease_expires: scheduler.lease_expires_at.map(time).unwrap_or_default(),
            runs: scheduler
                .recent_runs
                .iter()
                .map(|r| Run {
                    job: r.job.clone(),
                    period: r.period.clone(),
                    holder: r.holder.clone(),
                    started: time(r.started_at),
                    finished: r.finished_at.map(time).unwrap_or_default(),
                    outcome: r.outcome.clone().unwrap_or_default(),
                    attempts: r.attempts,
                })
                .collect(),
            scheduler,
        })
    })
    .await
}

/// GET /queues/notices: 投递失败 and the scheduler's state.
pub async fn notices(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    dead_page(&state, &person, query.into_inner().done, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RetryForm {
    csrf: String,
}

/// POST /queues/notices/{id}/retry: 重新投递, the API's
/// `POST /api/v1/notices/{id}/retry` (`notices::outbox::retry`).
pub async fn retry(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<RetryForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    office_only(&state, &person)?;
    let id = NoticeId(id.into_inner());
    let now = state.clock().now;
    match state.db(move |conn| outbox::retry(conn, id, now)).await {
        Ok(_) => Ok(see_other("/queues/notices?done=retry")),
        Err(e) => refused(&state, &person, e).await,
    }
}

/// A refused retry: the queue again with the API's words (a notice someone
/// retried meanwhile is not dead any more: 409); a missing one is a 404 page.
async fn refused(
    state: &web::Data<AppState>,
    person: &Person,
    err: ApiError,
) -> Result<HttpResponse, PageError> {
    let status = err.status_code();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(person.lang, err));
    }
    let words = err.sentence(person.lang);
    dead_page(state, person, String::new(), Some((status, words))).await
}

/// Whether `back` is one of the queues a task page form may return to.
pub fn back_to(back: &str) -> Option<&'static str> {
    BACK.iter().copied().find(|b| *b == back)
}
