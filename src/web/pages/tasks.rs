//! The task list and the task page with the actions the person may take now.
//! Every action calls the same service function as its API route; a form
//! carries the version the page showed, so a change by someone else in
//! between is told in words with the current state, keeping what was typed.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{units, users};
use crate::db::DbConnection;
use crate::domain::task_state::TaskStatus;
use crate::domain::{AttachmentId, ExtensionId, InstructionId, Role, TaskId, UnitId, UserId};
use crate::http::multipart::read_form;
use crate::http::problem::{ApiError, ApiResult};
use crate::http::Paging;
use crate::instructions::{self, CreateInstruction, InstructionView};
use crate::state::AppState;
use crate::tasks::model::{ActionRequest, TaskDetail, TaskFilter, TaskView};
use crate::tasks::{actions, attachments, events, extensions, reports, service, visibility};
use crate::web::page::{filled, page_link, render, see_other, Choice, OrPage, PageError};
use crate::web::session::Person;

const PER_PAGE: i64 = 30;

/// Timeline entries the task page shows unless asked for all of them: more
/// than a task's ordinary life writes, far fewer than the tens of thousands
/// a task fed by an automated source can hold (a page of megabytes).
const TIMELINE_LINES: i64 = 100;

/// The names of the units and people a page shows, for showing ids as
/// words (only those: a city has thousands).
pub(crate) fn names(
    conn: &mut DbConnection,
    mut unit_ids: Vec<UnitId>,
    people_ids: Vec<UserId>,
) -> QueryResult<(HashMap<UnitId, String>, HashMap<UserId, String>)> {
    // Each unit once: a long timeline names the same few units thousands of
    // times, more values than SQLite binds in one statement.
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units: Vec<(UnitId, String)> = units::table
        .filter(units::id.eq_any(unit_ids))
        .select((units::id, units::name))
        .load(conn)?;
    // No statement for no one: an `IN (…)` is parsed again at each use.
    let people: Vec<(UserId, String)> = if people_ids.is_empty() {
        Vec::new()
    } else {
        users::table
            .filter(users::id.eq_any(people_ids))
            .select((users::id, users::display_name))
            .load(conn)?
    };
    Ok((units.into_iter().collect(), people.into_iter().collect()))
}

/// The plans and (for all but unit clerks) the active units the list's form
/// offers.
fn choices(conn: &mut DbConnection, with_units: bool) -> QueryResult<(Vec<Choice>, Vec<Choice>)> {
    use crate::db::schema::plans;
    let plans = plans::table
        .select((plans::id, plans::title))
        .order((plans::year.desc(), plans::id.desc()))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, name)| Choice { id, name })
        .collect();
    let units = if with_units {
        units::table
            .filter(units::active.eq(true))
            .select((units::id, units::name))
            .order(units::code.asc())
            .load::<(i64, String)>(conn)?
            .into_iter()
            .map(|(id, name)| Choice { id, name })
            .collect()
    } else {
        Vec::new()
    };
    Ok((plans, units))
}

/// The list's filters as the form sends them: empty fields mean "any".
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListQuery {
    plan_id: String,
    unit_id: String,
    /// Set by the home's overdue-by-unit links; kept across pages.
    lead_unit_id: String,
    /// Set by 我分管的 (`/leading`): the leader's tasks, responsible or
    /// co-responsible; kept across pages.
    leader_id: String,
    status: String,
    light: String,
    overdue: String,
    returned: String,
    /// owed or missing progress reports.
    report: String,
    q: String,
    due_before: String,
    due_after: String,
    sort: String,
    page: Option<i64>,
}

impl ListQuery {
    pub fn filter(&self) -> TaskFilter {
        TaskFilter {
            plan_id: self.plan_id.trim().parse().ok(),
            unit_id: self.unit_id.trim().parse().ok(),
            lead_unit_id: self.lead_unit_id.trim().parse().ok(),
            leader_id: self.leader_id.trim().parse().ok(),
            status: filled(&self.status),
            light: filled(&self.light),
            overdue: (self.overdue == "true").then_some(true),
            returned: (self.returned == "true").then_some(true),
            report: filled(&self.report),
            q: filled(&self.q),
            due_before: filled(&self.due_before),
            due_after: filled(&self.due_after),
            sort: filled(&self.sort),
            ..Default::default()
        }
    }

    /// The query string of page `page` with the same filters.
    fn page_link(&self, page: i64) -> String {
        page_link(
            "/tasks",
            &[
                ("plan_id", &self.plan_id),
                ("unit_id", &self.unit_id),
                ("lead_unit_id", &self.lead_unit_id),
                ("leader_id", &self.leader_id),
                ("status", &self.status),
                ("light", &self.light),
                ("overdue", &self.overdue),
                ("returned", &self.returned),
                ("report", &self.report),
                ("q", &self.q),
                ("due_before", &self.due_before),
                ("due_after", &self.due_after),
                ("sort", &self.sort),
            ],
            page,
        )
    }
}

#[derive(Serialize)]
struct Row {
    task: TaskView,
    lead_unit: String,
}

#[derive(Serialize)]
struct ListPage {
    query: ListQuery,
    plans: Vec<Choice>,
    /// Empty for a unit clerk, who sees the own unit's work only.
    units: Vec<Choice>,
    rows: Vec<Row>,
    total: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    error: Option<String>,
}

/// GET /tasks
pub async fn list(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let query = query.into_inner();
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let filter = query.filter();
    let paging = Paging {
        page: query.page.unwrap_or(1).max(1),
        per_page: PER_PAGE,
    };
    let result = state
        .db(move |conn| {
            let filter = crate::tasks::input::ListFilter::try_from(filter)?;
            let page = service::list(conn, scope, &filter, paging, &clock)?;
            let leads = page.items.iter().map(|t| t.lead_unit_id).collect();
            let (units, _) = names(conn, leads, Vec::new())?;
            Ok((page, units))
        })
        .await;
    let pick_unit = person.auth.role != Role::Unit;
    let (plans, unit_choices) = state
        .db(move |conn| Ok(choices(conn, pick_unit)?))
        .await
        .page(lang)?;
    let (rows, total, error) = match result {
        Ok((page, units)) => {
            let rows = page
                .items
                .into_iter()
                .map(|task| Row {
                    lead_unit: units.get(&task.lead_unit_id).cloned().unwrap_or_default(),
                    task,
                })
                .collect();
            (rows, page.total, None)
        }
        // A bad filter (a date typed wrong) is said on the page, the form kept.
        Err(e) if e.status_code() == StatusCode::UNPROCESSABLE_ENTITY => {
            (Vec::new(), 0, Some(e.sentence(lang)))
        }
        Err(e) => return Err(PageError::from_api(lang, e)),
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = ListPage {
        prev: (paging.page > 1).then(|| query.page_link(paging.page - 1)),
        next: (paging.page < pages).then(|| query.page_link(paging.page + 1)),
        query,
        plans,
        units: unit_choices,
        rows,
        total,
        page: paging.page,
        pages,
        error,
    };
    render(StatusCode::OK, "tasks.html", lang, Some(&person), page)
}

/// One button of the task page.
#[derive(Serialize)]
struct Action {
    /// The `action` value posted to /tasks/{id}/act.
    name: &'static str,
    /// A note is required (return, cancel, reopen) or offered (submit).
    note: &'static str,
}

/// A timeline line: the event and the unit it concerns, by name.
#[derive(Serialize)]
struct Line {
    #[serde(flatten)]
    event: events::EventView,
    unit: Option<String>,
    /// Local time of the configured zone.
    when: String,
}

#[derive(Serialize)]
struct Input {
    unit: String,
    role: &'static str,
    percent: Option<i32>,
    body: Option<String>,
    reported_at: Option<String>,
}

#[derive(Serialize, Default)]
struct Typed {
    action: String,
    note: String,
    percent: String,
    body: String,
    new_due_date: String,
    reason: String,
    instruction_id: String,
    order_id: String,
    instruction_body: String,
    reply_by: String,
    /// The order form's requirement and reply-by date (`action` "order").
    requirement: String,
    order_reply_by: String,
}

#[derive(Serialize)]
struct TaskPage {
    detail: TaskDetail,
    lead_unit: String,
    /// The person may open the lead unit's record (`/units/{id}`).
    lead_unit_record: bool,
    cooperating_units: Vec<String>,
    leader: Option<String>,
    inputs: Vec<Input>,
    /// The timeline's latest entries (all of them when asked), oldest first.
    events: Vec<Line>,
    /// How many earlier entries `events` leaves out.
    earlier_events: i64,
    attachments: Vec<attachments::AttachmentView>,
    extensions: Vec<extensions::ExtensionView>,
    /// 批示, newest first, shown at the top of the page.
    instructions: Vec<InstructionLine>,
    /// The person may write an instruction now (a leader who sees the task,
    /// the office, an admin; the task open).
    can_instruct: bool,
    /// For the lead unit's report form: the instructions it may answer.
    open_instructions: Vec<InstructionLine>,
    /// 督办单, newest first, each linking to its printable page.
    orders: Vec<crate::orders::OrderView>,
    /// For the lead unit's report form: the orders whose receipt (回执) it
    /// may complete.
    open_orders: Vec<crate::orders::OrderView>,
    /// The office's form to issue an order by hand, prefilled; `None` when
    /// the person may not issue one on the task now (`orders::may_issue`).
    order_form: Option<OrderForm>,
    actions: Vec<Action>,
    /// The person's unit takes part (lead or cooperating): reports, evidence.
    takes_part: bool,
    is_lead: bool,
    can_decide_extension: bool,
    allowed_types: String,
    max_mb: usize,
    /// Whether the person follows the task (关注); `None` for those who
    /// may not follow.
    following: Option<bool>,
    /// Set when the last form failed: what went wrong, and what was typed.
    error: Option<String>,
    conflict: bool,
    typed: Typed,
    /// The failed form's fields at fault, each with its message.
    fields: HashMap<String, String>,
    flash: Option<String>,
}

/// What the order form shows before anything is typed: the ladder's own
/// requirement (in the notice language, as the order is printed) and the
/// default reply-by date.
#[derive(Serialize)]
struct OrderForm {
    requirement: String,
    reply_by: String,
}

fn actions_for(person: &Person, task: &TaskView, is_lead: bool) -> Vec<Action> {
    let status = task.status;
    let mut out = Vec::new();
    let mut add = |name, note| out.push(Action { name, note });
    match person.auth.role {
        Role::Unit if is_lead => {
            if status == TaskStatus::Assigned {
                add("accept", "");
            }
            if status == TaskStatus::InProgress {
                add("submit", "optional");
            }
        }
        Role::Office | Role::Admin => match status {
            TaskStatus::Draft => add("assign", ""),
            TaskStatus::Submitted => {
                add("verify", "");
                add("return", "required");
            }
            TaskStatus::Completed => add("reopen", "required"),
            _ => {}
        },
        _ => {}
    }
    if matches!(person.auth.role, Role::Office | Role::Admin)
        && !matches!(status, TaskStatus::Completed | TaskStatus::Cancelled)
    {
        add("cancel", "required");
    }
    out
}

/// An instruction as the page shows it: its times in local words.
#[derive(Serialize)]
struct InstructionLine {
    #[serde(flatten)]
    instruction: InstructionView,
    when: String,
    replied_when: Option<String>,
}

/// Everything the task page shows besides the task's own facts.
type Loaded = (
    TaskDetail,
    Timeline,
    Vec<attachments::AttachmentView>,
    Vec<extensions::ExtensionView>,
    Vec<InstructionView>,
    Vec<crate::orders::OrderView>,
    HashMap<UnitId, String>,
    HashMap<UserId, String>,
);

/// The timeline's entries the page shows, oldest first, and how many earlier
/// ones it leaves out (none when the whole timeline is asked for).
struct Timeline {
    events: Vec<events::EventView>,
    earlier: i64,
}

/// Loads everything the task page shows (the whole timeline or its latest
/// entries); 404 exactly where the API says so.
async fn load(state: &AppState, person: &Person, id: TaskId, whole: bool) -> ApiResult<Loaded> {
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let auth = person.auth.clone();
    state
        .db(move |conn| {
            // One visibility check for the whole page: its parts are read
            // for the task the detail found in sight.
            let (detail, seen) = service::detail(conn, scope, id, &clock)?;
            let timeline = if whole {
                Timeline {
                    events: events::list(conn, id)?,
                    earlier: 0,
                }
            } else {
                let (events, earlier) = events::latest(conn, id, TIMELINE_LINES)?;
                Timeline { events, earlier }
            };
            let files = attachments::list_in_sight(conn, seen)?;
            let exts = extensions::list_in_sight(conn, seen)?;
            let said = instructions::list_in_sight(conn, &auth, seen, clock.today)?;
            let orders = crate::orders::list_in_sight(conn, &auth, seen, clock.today)?;
            let task = &detail.task;
            let unit_ids = std::iter::once(task.lead_unit_id)
                .chain(task.cooperating_unit_ids.iter().copied())
                .chain(detail.unit_inputs.iter().map(|i| i.unit_id))
                .chain(timeline.events.iter().filter_map(|e| e.unit_id))
                .collect();
            let leader = task.responsible_leader_id.into_iter().collect();
            let (units, people) = names(conn, unit_ids, leader)?;
            Ok((detail, timeline, files, exts, said, orders, units, people))
        })
        .await
}

/// How the task page is shown besides the task: after a form that failed
/// (status, reason, what was typed) or one that worked (flash).
struct Shown {
    status: StatusCode,
    error: Option<String>,
    conflict: bool,
    typed: Typed,
    fields: HashMap<String, String>,
    flash: Option<String>,
    /// The whole timeline (`?timeline=all`), not only its latest entries.
    whole_timeline: bool,
}

impl Default for Shown {
    fn default() -> Self {
        Shown {
            status: StatusCode::OK,
            error: None,
            conflict: false,
            typed: Typed::default(),
            fields: HashMap::new(),
            flash: None,
            whole_timeline: false,
        }
    }
}

async fn task_page(
    state: &AppState,
    person: &Person,
    id: TaskId,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let (detail, timeline, attachments, extensions, said, orders, units, people) =
        load(state, person, id, shown.whole_timeline)
            .await
            .page(lang)?;
    let following =
        if crate::auth::permissions::allows(person.auth.role, crate::auth::Permission::Follow) {
            let user = person.auth.id;
            let target = crate::follows::Target::Task(id);
            Some(
                state
                    .db(move |conn| crate::follows::is_following(conn, user, target))
                    .await
                    .page(lang)?,
            )
        } else {
            None
        };
    let task = &detail.task;
    let unit = person.auth.unit_id;
    let is_lead = person.auth.role == Role::Unit && unit == Some(task.lead_unit_id);
    let takes_part = is_lead
        || (person.auth.role == Role::Unit
            && task.cooperating_unit_ids.iter().any(|u| Some(*u) == unit));
    let unit_name = |id: UnitId| units.get(&id).cloned().unwrap_or_else(|| id.to_string());
    let inputs = detail
        .unit_inputs
        .iter()
        .map(|i| Input {
            unit: unit_name(i.unit_id),
            role: i.role,
            percent: i.percent,
            body: i.body.clone(),
            reported_at: i
                .reported_at
                .map(|t| crate::web::page::local_time(state, t)),
        })
        .collect();
    let open = matches!(
        task.status,
        TaskStatus::Assigned | TaskStatus::InProgress | TaskStatus::Submitted
    );
    let can_instruct = open
        && crate::auth::permissions::allows(person.auth.role, crate::auth::Permission::Instruct);
    let lines: Vec<InstructionLine> = said
        .into_iter()
        .map(|i| InstructionLine {
            when: crate::web::page::local_time(state, i.created_at),
            replied_when: i
                .reply
                .as_ref()
                .map(|r| crate::web::page::local_time(state, r.at)),
            instruction: i,
        })
        .collect();
    let open_instructions = if is_lead {
        lines
            .iter()
            .filter(|l| l.instruction.reply.is_none())
            .map(|l| InstructionLine {
                instruction: l.instruction.clone(),
                when: l.when.clone(),
                replied_when: None,
            })
            .collect()
    } else {
        Vec::new()
    };
    let open_orders = if is_lead {
        orders
            .iter()
            .filter(|o| o.reply.is_none())
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let order_form = order_form(state, person, task).await?;
    let page = TaskPage {
        order_form,
        orders,
        open_orders,
        instructions: lines,
        can_instruct,
        open_instructions,
        lead_unit: unit_name(task.lead_unit_id),
        lead_unit_record: super::units::may_see(&person.auth, task.lead_unit_id),
        cooperating_units: task
            .cooperating_unit_ids
            .iter()
            .map(|u| unit_name(*u))
            .collect(),
        leader: task
            .responsible_leader_id
            .and_then(|l| people.get(&l).cloned()),
        inputs,
        actions: actions_for(person, task, is_lead),
        takes_part,
        is_lead,
        can_decide_extension: matches!(person.auth.role, Role::Office | Role::Admin),
        allowed_types: state.settings.attachment_types.join(", "),
        max_mb: state.settings.attachment_max_bytes / (1024 * 1024),
        earlier_events: timeline.earlier,
        events: timeline
            .events
            .into_iter()
            .map(|event| Line {
                unit: event.unit_id.map(unit_name),
                when: crate::web::page::local_time(state, event.at),
                event,
            })
            .collect(),
        attachments,
        extensions,
        detail,
        following,
        error: shown.error,
        conflict: shown.conflict,
        typed: shown.typed,
        fields: shown.fields,
        flash: shown.flash,
    };
    render(shown.status, "task.html", lang, Some(person), page)
}

/// The order form as it first shows, when the person may issue an order on
/// `task` now.
async fn order_form(
    state: &AppState,
    person: &Person,
    task: &TaskView,
) -> Result<Option<OrderForm>, PageError> {
    if !crate::orders::may_issue(person.auth.role, task.status) {
        return Ok(None);
    }
    let settings = state.settings.clone();
    let today = state.clock().today;
    let days_overdue = task.days_overdue;
    let form = state
        .db(move |conn| {
            let reply_by = crate::orders::default_reply_by(conn, &settings, today)?;
            let lang = settings.notice_language;
            Ok(OrderForm {
                requirement: crate::orders::default_requirement(lang, days_overdue, reply_by),
                reply_by: reply_by.to_string(),
            })
        })
        .await
        .page(person.lang)?;
    Ok(Some(form))
}

/// GET /tasks/{id}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let flash = query
        .get("done")
        .map(|key| crate::i18n::text(person.lang, &format!("done.{key}")).to_string());
    let id = TaskId(id.into_inner());
    task_page(
        &state,
        &person,
        id,
        Shown {
            flash,
            whole_timeline: query.get("timeline").is_some_and(|v| v == "all"),
            ..Shown::default()
        },
    )
    .await
}

/// After a failed form: the task page again with the reason and what was typed.
async fn failed(
    state: &AppState,
    person: &Person,
    id: TaskId,
    err: ApiError,
    typed: Typed,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let status = err.status_code();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(lang, err));
    }
    let conflict = err.is_version_conflict();
    let error = if conflict {
        crate::i18n::text(lang, "task.conflict").to_string()
    } else {
        err.sentence(lang)
    };
    let fields = super::admin_units::Refusal::of(&err, lang)
        .map(|r| r.fields)
        .unwrap_or_default();
    let shown = Shown {
        status,
        error: Some(error),
        conflict,
        typed,
        fields,
        flash: None,
        whole_timeline: false,
    };
    task_page(state, person, id, shown).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActForm {
    csrf: String,
    action: String,
    version: i64,
    note: String,
    /// A queue the form was shown on (`queues::BACK`): where to go on.
    back: String,
}

/// POST /tasks/{id}/act: one life-cycle step.
pub async fn act(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<ActForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let id = TaskId(id.into_inner());
    let Some(action) = crate::domain::task_state::TaskAction::ALL
        .into_iter()
        .find(|a| a.as_str() == form.action)
    else {
        return Err(PageError::not_found(lang));
    };
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let auth = person.auth.clone();
    let req = ActionRequest {
        version: form.version,
        note: filled(&form.note),
    };
    let settings = state.settings.clone();
    let result = state
        .db(move |conn| {
            actions::act(
                conn,
                &auth,
                scope,
                id,
                actions::Step {
                    action,
                    version: req.version,
                    note: req.note,
                },
                &clock,
                &settings,
                actions::StepNotices(crate::notices::tell::after_step),
            )
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&match super::queues::back_to(&form.back) {
            Some(queue) => format!("{queue}?done={}", form.action),
            None => format!("/tasks/{}?done={}", id.0, form.action),
        })),
        Err(e) => {
            let typed = Typed {
                action: form.action,
                note: form.note,
                ..Default::default()
            };
            failed(&state, &person, id, e, typed).await
        }
    }
}

/// POST /tasks/{id}/reports: percent, text and optional files, one form.
pub async fn report(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let id = TaskId(id.into_inner());
    let form = read_form(
        multipart,
        state.settings.attachment_max_bytes.saturating_mul(10),
    )
    .await
    .page(lang)?;
    person.check_csrf(form.text("csrf"))?;
    let typed = Typed {
        percent: form.text("percent").to_string(),
        body: form.text("body").to_string(),
        instruction_id: form.text("instruction_id").to_string(),
        order_id: form.text("order_id").to_string(),
        ..Default::default()
    };
    let percent = match form.text("percent").trim().parse::<i32>() {
        Ok(p) => p,
        Err(_) => {
            let err = ApiError::invalid_field(
                "percent",
                crate::domain::message::Message::new(
                    "进度须为 0 到 100 的整数",
                    "must be a whole number from 0 to 100",
                ),
            );
            return failed(&state, &person, id, err, typed).await;
        }
    };
    let instruction_id = match form.text("instruction_id").trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(InstructionId(n)),
            Err(_) => return Err(PageError::not_found(lang)),
        },
    };
    let order_id = match form.text("order_id").trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(n) => Some(crate::domain::OrderId(n)),
            Err(_) => return Err(PageError::not_found(lang)),
        },
    };
    let req = reports::CreateReport {
        percent,
        body: form.text("body").to_string(),
        instruction_id,
        order_id,
    };
    let uploads = match checked_files(&state, form.files) {
        Ok(u) => u,
        Err(e) => return failed(&state, &person, id, e, typed).await,
    };
    let scope = visibility::scope(&person.auth, &state.settings);
    let auth = person.auth.clone();
    let storage = state.storage.clone();
    let now = chrono::Utc::now().naive_utc();
    let result = state
        .db(move |conn| {
            // The report and its files stand or fall together.
            conn.write(|conn| {
                reports::create(conn, &auth, scope, id, req, now)?;
                for upload in uploads {
                    attachments::store(conn, &auth, scope, id, upload, &storage, now)?;
                }
                Ok(())
            })
        })
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/tasks/{}?done=report", id.0))),
        Err(e) => failed(&state, &person, id, e, typed).await,
    }
}

fn checked_files(
    state: &AppState,
    files: Vec<crate::http::multipart::FilePart>,
) -> ApiResult<Vec<attachments::Upload>> {
    files
        .into_iter()
        .map(|f| {
            if f.bytes.len() > state.settings.attachment_max_bytes {
                return Err(ApiError::payload_too_large(
                    state.settings.attachment_max_bytes,
                ));
            }
            Ok(attachments::check_upload(
                f,
                &state.settings.attachment_types,
            )?)
        })
        .collect()
}

/// POST /tasks/{id}/attachments: one or more evidence files.
pub async fn upload(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let id = TaskId(id.into_inner());
    let form = read_form(
        multipart,
        state.settings.attachment_max_bytes.saturating_mul(10),
    )
    .await
    .page(lang)?;
    person.check_csrf(form.text("csrf"))?;
    let uploads = match checked_files(&state, form.files) {
        Ok(u) if u.is_empty() => Err(ApiError::invalid_field(
            "file",
            crate::domain::message::Message::new(
                "请选择要上传的文件",
                "choose the files to upload",
            ),
        )),
        other => other,
    };
    let uploads = match uploads {
        Ok(u) => u,
        Err(e) => return failed(&state, &person, id, e, Typed::default()).await,
    };
    let scope = visibility::scope(&person.auth, &state.settings);
    let auth = person.auth.clone();
    let storage = state.storage.clone();
    let now = chrono::Utc::now().naive_utc();
    let result = state
        .db(move |conn| {
            conn.write(|conn| {
                for upload in uploads {
                    attachments::store(conn, &auth, scope, id, upload, &storage, now)?;
                }
                Ok(())
            })
        })
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/tasks/{}?done=upload", id.0))),
        Err(e) => failed(&state, &person, id, e, Typed::default()).await,
    }
}

/// GET /tasks/{id}/attachments/{attachment}: the file, for whoever sees the task.
pub async fn download(
    state: web::Data<AppState>,
    person: Person,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let (id, attachment) = path.into_inner();
    let scope = visibility::scope(&person.auth, &state.settings);
    let storage = state.storage.clone();
    let data_dir = state.settings.data_dir.clone();
    let (row, bytes) = state
        .db(move |conn| {
            attachments::fetch(
                conn,
                scope,
                TaskId(id),
                AttachmentId(attachment),
                &storage,
                &data_dir,
            )
        })
        .await
        .page(lang)?;
    Ok(crate::http::download::named(
        bytes,
        &row.content_type,
        &row.filename,
        false,
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CsrfOnly {
    csrf: String,
}

/// POST /tasks/{id}/attachments/{attachment}/delete: an own upload, before
/// the task is submitted.
pub async fn remove_upload(
    state: web::Data<AppState>,
    person: Person,
    path: web::Path<(i64, i64)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    let (id, attachment) = path.into_inner();
    let id = TaskId(id);
    let scope = visibility::scope(&person.auth, &state.settings);
    let auth = person.auth.clone();
    let now = chrono::Utc::now().naive_utc();
    let result = state
        .db(move |conn| attachments::remove(conn, &auth, scope, id, AttachmentId(attachment), now))
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/tasks/{}?done=removed", id.0))),
        Err(e) => failed(&state, &person, id, e, Typed::default()).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExtensionForm {
    csrf: String,
    new_due_date: String,
    reason: String,
}

/// POST /tasks/{id}/extensions: the lead unit asks for a later deadline.
pub async fn request_extension(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<ExtensionForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let id = TaskId(id.into_inner());
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let auth = person.auth.clone();
    let req = extensions::CreateExtension {
        new_due_date: form.new_due_date.clone(),
        reason: form.reason.clone(),
    };
    let result = state
        .db(move |conn| extensions::request(conn, &auth, scope, id, req, &clock))
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/tasks/{}?done=extension", id.0))),
        Err(e) => {
            let typed = Typed {
                new_due_date: form.new_due_date,
                reason: form.reason,
                ..Default::default()
            };
            failed(&state, &person, id, e, typed).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecideForm {
    csrf: String,
    task_id: i64,
    decision: String,
    note: String,
    /// A queue the form was shown on (`queues::BACK`): where to go on.
    back: String,
}

/// POST /extensions/{id}/decide: the office approves or rejects (with a note).
pub async fn decide_extension(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<DecideForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let extension = ExtensionId(id.into_inner());
    let task = TaskId(form.task_id);
    let approve = form.decision == "approve";
    let auth = person.auth.clone();
    let scope = visibility::scope(&person.auth, &state.settings);
    let now = chrono::Utc::now().naive_utc();
    let req = extensions::DecideExtension {
        note: filled(&form.note),
    };
    let result = state
        .db(move |conn| {
            // The extension must belong to a task the person sees.
            visibility::find_visible(conn, scope, task)?;
            let row = extensions::find(conn, extension)?;
            if row.task_id != task {
                return Err(crate::error::Error::NotFound);
            }
            extensions::decide(conn, &auth, extension, approve, req, now)
        })
        .await;
    match result {
        Ok(_) => Ok(see_other(&match super::queues::back_to(&form.back) {
            Some(queue) => format!("{queue}?done={}", form.decision),
            None => format!("/tasks/{}?done={}", task.0, form.decision),
        })),
        Err(e) => {
            let typed = Typed {
                note: form.note,
                action: form.decision,
                ..Default::default()
            };
            failed(&state, &person, task, e, typed).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct InstructionForm {
    csrf: String,
    body: String,
    reply_by: String,
}

/// POST /tasks/{id}/instructions: a leader (or the office) writes a 批示.
pub async fn instruct(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<InstructionForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let id = TaskId(id.into_inner());
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let settings = state.settings.clone();
    let auth = person.auth.clone();
    let req = CreateInstruction {
        body: form.body.clone(),
        reply_by: filled(&form.reply_by),
    };
    let result = state
        .db(move |conn| instructions::create(conn, &auth, scope, id, req, &clock, &settings))
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/tasks/{}?done=instruction", id.0))),
        Err(e) => {
            let typed = Typed {
                instruction_body: form.body,
                reply_by: form.reply_by,
                ..Default::default()
            };
            failed(&state, &person, id, e, typed).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OrderFormInput {
    csrf: String,
    requirement: String,
    reply_by: String,
}

/// POST /tasks/{id}/orders: the office issues a 督办单 by hand, as
/// `POST /api/v1/tasks/{id}/orders` does, its 督办 email with it.
pub async fn issue_order(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<OrderFormInput>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    person.check_csrf(&form.csrf)?;
    let id = TaskId(id.into_inner());
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let settings = state.settings.clone();
    let auth = person.auth.clone();
    let req = crate::orders::CreateOrder {
        requirement: form.requirement.clone(),
        reply_by: filled(&form.reply_by),
    };
    let tell = crate::orders::OrderNotice(crate::notices::tell::order_issued);
    let result = state
        .db(move |conn| crate::orders::create(conn, &auth, scope, id, req, &clock, &settings, tell))
        .await;
    match result {
        Ok(_) => Ok(see_other(&format!("/tasks/{}?done=order", id.0))),
        Err(e) => {
            let typed = Typed {
                action: "order".into(),
                requirement: form.requirement,
                order_reply_by: form.reply_by,
                ..Default::default()
            };
            failed(&state, &person, id, e, typed).await
        }
    }
}
