//! The office's task forms: `/tasks/new` (the plan preselected from the plan
//! page) and `/tasks/{id}/edit`. Units, cooperating units and the
//! responsible and co-responsible leaders are typed by name with the browser's suggestions
//! (`<input list>` + `<datalist>`, no JavaScript) and resolved here, as the
//! import resolves its cells (`unit_names::match_unit`: code, name, alias,
//! short form), so nobody types ids; an unknown or ambiguous name is told at
//! its field. Both post to the task service the API calls (`create`, and
//! `update` with the version the form showed: a change in between is a
//! conflict told in words, nothing overwritten).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::auth::Permission;
use crate::db::schema::{plans, units, users};
use crate::db::DbConnection;
use crate::domain::kinds::{Category, Priority};
use crate::domain::report_cycle::ReportCadence;
use crate::domain::unit_names::{match_unit, split_units, UnitRef};
use crate::domain::{Message, PlanId, Role, TaskId, UnitId, UserId};
use crate::error::{Error, FieldError, Result};
use crate::state::AppState;
use crate::tasks::input::{NewTask, TaskChanges};
use crate::tasks::model::{CreateTask, UpdateTask};
use crate::tasks::service::{self, Origin};
use crate::tasks::visibility;
use crate::web::page::{filled, render, see_other, Choice, OrPage, PageError};
use crate::web::pages::admin_units::Refusal;
use crate::web::session::Person;

/// The task forms are the office's, as `POST/PATCH /api/v1/tasks` are.
fn office_only(person: &Person) -> std::result::Result<(), PageError> {
    person
        .auth
        .require(Permission::ManageTasks)
        .page(person.lang)
}

/// The form as posted (and shown again after a refusal): names, not ids.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TaskForm {
    #[serde(skip_serializing)]
    csrf: String,
    version: i64,
    plan_id: String,
    code: String,
    title: String,
    description: String,
    category: String,
    priority: String,
    due_date: String,
    due_date_reason: String,
    lead_unit: String,
    /// Several names, separated by 、 or commas.
    cooperating: String,
    leader: String,
    /// Co-responsible leaders: several names, separated by 、 or commas.
    co_leaders: String,
    /// 1–31, or empty: no progress report due.
    report_day: String,
    /// monthly, quarterly or half_yearly.
    report_cadence: String,
}

/// The active units and leaders the names are looked up among.
struct Directory {
    /// id, code, name, aliases.
    units: Vec<(UnitId, String, String, Vec<String>)>,
    /// id, username, display name.
    leaders: Vec<(UserId, String, String)>,
}

impl Directory {
    fn load(conn: &mut DbConnection) -> Result<Directory> {
        let rows: Vec<(UnitId, String, String, String)> = units::table
            .filter(units::active.eq(true))
            .select((units::id, units::code, units::name, units::aliases))
            .order(units::code)
            .load(conn)?;
        let units = rows
            .into_iter()
            .map(|(id, code, name, aliases)| {
                Ok((id, code, name, crate::units::aliases_of(&aliases)?))
            })
            .collect::<Result<_>>()?;
        let leaders = users::table
            .filter(users::role.eq(Role::Leader))
            .filter(users::active.eq(true))
            .select((users::id, users::username, users::display_name))
            .order(users::display_name)
            .load(conn)?;
        Ok(Directory { units, leaders })
    }

    /// Each name of `text` as a unit, or what is wrong with the names.
    fn units(&self, text: &str) -> std::result::Result<Vec<UnitId>, Message> {
        let refs: Vec<UnitRef> = self
            .units
            .iter()
            .map(|(id, code, name, aliases)| UnitRef {
                id: id.0,
                code,
                name,
                aliases,
            })
            .collect();
        let mut ids = Vec::new();
        let mut wrong: Vec<Message> = Vec::new();
        for name in split_units(text) {
            match match_unit(&name, &refs).into_result(&name) {
                Ok(id) if !ids.contains(&UnitId(id)) => ids.push(UnitId(id)),
                Ok(_) => {}
                Err(m) => wrong.push(m),
            }
        }
        if wrong.is_empty() {
            Ok(ids)
        } else {
            Err(Message::owned(
                wrong
                    .iter()
                    .map(|m| m.zh.as_ref())
                    .collect::<Vec<_>>()
                    .join("；"),
                wrong
                    .iter()
                    .map(|m| m.en.as_ref())
                    .collect::<Vec<_>>()
                    .join("; "),
            ))
        }
    }

    /// The one unit `name` means.
    fn unit(&self, name: &str) -> std::result::Result<UnitId, Message> {
        match self.units(name)?.as_slice() {
            [one] => Ok(*one),
            [] => Err(Message::new("请填写牵头单位", "name the lead unit")),
            _ => Err(Message::new(
                "牵头单位只能是一个单位",
                "the lead unit is one unit",
            )),
        }
    }

    /// The leader by display name or username; none when left empty.
    fn leader(&self, name: &str) -> std::result::Result<Option<UserId>, Message> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(None);
        }
        let by_username: Vec<UserId> = self
            .leaders
            .iter()
            .filter(|(_, u, _)| u == name)
            .map(|l| l.0)
            .collect();
        let by_name: Vec<UserId> = self
            .leaders
            .iter()
            .filter(|(_, _, d)| d == name)
            .map(|l| l.0)
            .collect();
        match (by_username.as_slice(), by_name.as_slice()) {
            ([one], _) | ([], [one]) => Ok(Some(*one)),
            ([], []) => Err(Message::owned(
                format!("找不到领导“{name}”"),
                format!("no leader named {name:?}"),
            )),
            _ => Err(Message::owned(
                format!("有多位领导名为“{name}”，请填写其用户名"),
                format!("several leaders are named {name:?}; write the username"),
            )),
        }
    }

    /// Each leader named in `text` (separated by 、 or commas), in order,
    /// or what is wrong with the names.
    fn leader_list(&self, text: &str) -> std::result::Result<Vec<UserId>, Message> {
        let mut ids = Vec::new();
        let mut wrong: Vec<Message> = Vec::new();
        for name in text.split(['、', ',', '，', ';', '；']) {
            match self.leader(name) {
                Ok(Some(id)) if !ids.contains(&id) => ids.push(id),
                Ok(_) => {}
                Err(m) => wrong.push(m),
            }
        }
        if wrong.is_empty() {
            return Ok(ids);
        }
        Err(Message::owned(
            wrong
                .iter()
                .map(|m| m.zh.as_ref())
                .collect::<Vec<_>>()
                .join("；"),
            wrong
                .iter()
                .map(|m| m.en.as_ref())
                .collect::<Vec<_>>()
                .join("; "),
        ))
    }

    /// What the form shows for stored ids.
    fn unit_names(&self, ids: &[UnitId]) -> String {
        ids.iter()
            .filter_map(|id| self.units.iter().find(|u| u.0 == *id).map(|u| u.2.clone()))
            .collect::<Vec<_>>()
            .join("、")
    }

    fn leader_name(&self, id: Option<UserId>) -> String {
        id.and_then(|id| self.leaders.iter().find(|l| l.0 == id))
            .map(|l| l.2.clone())
            .unwrap_or_default()
    }

    fn leader_names(&self, ids: &[UserId]) -> String {
        ids.iter()
            .map(|id| self.leader_name(Some(*id)))
            .filter(|n| !n.is_empty())
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// The names of the form resolved to ids, and each name field at fault.
struct Resolved {
    lead: UnitId,
    cooperating: Vec<UnitId>,
    leader: Option<UserId>,
    co_leaders: Vec<UserId>,
    report_day: Option<i32>,
    faults: Vec<FieldError>,
}

fn resolve(dir: &Directory, form: &TaskForm) -> Resolved {
    let mut faults = Vec::new();
    let mut fault = |field: &str, message: Message| {
        faults.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let lead = dir.unit(&form.lead_unit).unwrap_or_else(|m| {
        fault("lead_unit", m);
        UnitId(0)
    });
    let cooperating = dir.units(&form.cooperating).unwrap_or_else(|m| {
        fault("cooperating", m);
        Vec::new()
    });
    let leader = dir.leader(&form.leader).unwrap_or_else(|m| {
        fault("leader", m);
        None
    });
    let co_leaders = dir.leader_list(&form.co_leaders).unwrap_or_else(|m| {
        fault("co_leaders", m);
        Vec::new()
    });
    // Out-of-range days are the service's to refuse; only a non-number is
    // told here, as written.
    let day = form.report_day.trim();
    let report_day = if day.is_empty() {
        None
    } else {
        day.parse().map(Some).unwrap_or_else(|_| {
            fault(
                "report_day",
                Message::new(
                    "每月报送日应为 1 到 31 之间的数字",
                    "the report day is a number from 1 to 31",
                ),
            );
            None
        })
    };
    Resolved {
        lead,
        cooperating,
        leader,
        co_leaders,
        report_day,
        faults,
    }
}

/// The service's refusal with the name faults first (a name that did not
/// resolve is told as the person wrote it, not as a missing id).
fn with_faults(err: Error, mut faults: Vec<FieldError>) -> Error {
    match err {
        Error::Invalid(fields) => {
            faults.extend(fields);
            Error::Invalid(faults)
        }
        other if faults.is_empty() => other,
        _ => Error::Invalid(faults),
    }
}

/// The form's field for a field the service names.
fn form_field(api: &str) -> &str {
    match api {
        "lead_unit_id" => "lead_unit",
        "cooperating_unit_ids" => "cooperating",
        "responsible_leader_id" => "leader",
        "co_leader_ids" => "co_leaders",
        other => other,
    }
}

#[derive(Serialize)]
struct FormPage {
    /// `None` for a new task.
    task_id: Option<i64>,
    form: TaskForm,
    plans: Vec<Choice>,
    unit_names: Vec<String>,
    /// Display name and username of each leader, for the suggestions.
    leaders: Vec<(String, String)>,
    categories: Vec<&'static str>,
    priorities: Vec<&'static str>,
    cadences: Vec<&'static str>,
    error: Option<String>,
    conflict: bool,
    fields: HashMap<String, String>,
}

async fn form_page(
    state: &AppState,
    person: &Person,
    task_id: Option<TaskId>,
    form: TaskForm,
    status: StatusCode,
    refusal: Option<Refusal>,
) -> std::result::Result<HttpResponse, PageError> {
    let lang = person.lang;
    let (plans, dir) = state
        .db(|conn| {
            let plans = plans::table
                .select((plans::id, plans::title))
                .order((plans::year.desc(), plans::id.desc()))
                .load::<(i64, String)>(conn)?
                .into_iter()
                .map(|(id, name)| Choice { id, name })
                .collect::<Vec<_>>();
            Ok((plans, Directory::load(conn)?))
        })
        .await
        .page(lang)?;
    let (error, fields) = match refusal {
        Some(r) => (
            Some(r.error),
            r.fields
                .into_iter()
                .map(|(k, v)| (form_field(&k).to_string(), v))
                .collect(),
        ),
        None => (None, HashMap::new()),
    };
    let page = FormPage {
        task_id: task_id.map(|t| t.0),
        form,
        plans,
        unit_names: dir.units.iter().map(|u| u.2.clone()).collect(),
        leaders: dir
            .leaders
            .iter()
            .map(|l| (l.2.clone(), l.1.clone()))
            .collect(),
        categories: Category::ALL.iter().map(|c| c.as_str()).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        cadences: ReportCadence::ALL.iter().map(|c| c.as_str()).collect(),
        error,
        conflict: status == StatusCode::CONFLICT,
        fields,
    };
    render(status, "task_form.html", lang, Some(person), page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    plan_id: String,
}

/// GET /tasks/new?plan_id=…
pub async fn new_form(
    state: web::Data<AppState>,
    person: Person,
    query: web::Query<NewQuery>,
) -> std::result::Result<HttpResponse, PageError> {
    office_only(&person)?;
    let form = TaskForm {
        plan_id: query.plan_id.trim().to_string(),
        category: Category::KeyTask.as_str().into(),
        priority: Priority::Normal.as_str().into(),
        report_cadence: ReportCadence::Monthly.as_str().into(),
        ..TaskForm::default()
    };
    form_page(&state, &person, None, form, StatusCode::OK, None).await
}

/// The refusal's page: the form again as typed, each field's message beside it.
async fn refused(
    state: &AppState,
    person: &Person,
    task_id: Option<TaskId>,
    form: TaskForm,
    err: crate::http::problem::ApiError,
) -> std::result::Result<HttpResponse, PageError> {
    let Some(r) = Refusal::of(&err, person.lang) else {
        return Err(PageError::from_api(person.lang, err));
    };
    let status = r.status;
    form_page(state, person, task_id, form, status, Some(r)).await
}

/// POST /tasks/new: `POST /api/v1/tasks`'s service, a draft; its parent is
/// the plan's task whose code is the dotted prefix of this one (2.5 for 2.5.3).
pub async fn create(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<TaskForm>,
) -> std::result::Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    office_only(&person)?;
    let form = form.into_inner();
    let actor = person.auth.id;
    let now = state.clock().now;
    let typed = TaskForm {
        csrf: String::new(),
        ..form
    };
    let shown = typed.clone();
    let result = state
        .db(move |conn| -> Result<TaskId> {
            let dir = Directory::load(conn)?;
            let names = resolve(&dir, &typed);
            let plan = PlanId(typed.plan_id.trim().parse().unwrap_or(0));
            let code = typed.code.trim().to_string();
            let parent_id = crate::tasks::import::parent_code(&code)
                .map(str::to_string)
                .map(|p| service::codes_in_plan(conn, plan).map(|c| c.get(&p).copied()))
                .transpose()?
                .flatten();
            let req = CreateTask {
                plan_id: plan,
                parent_id,
                code,
                title: typed.title.clone(),
                description: filled(&typed.description),
                lead_unit_id: names.lead,
                cooperating_unit_ids: names.cooperating,
                responsible_leader_id: names.leader,
                co_leader_ids: names.co_leaders,
                start_date: None,
                due_date: filled(&typed.due_date),
                due_in_working_days: None,
                priority: filled(&typed.priority),
                category: filled(&typed.category),
                evidence_required: false,
                report_day: names.report_day,
                report_cadence: filled(&typed.report_cadence),
            };
            match NewTask::try_from(req) {
                Ok(_) if !names.faults.is_empty() => Err(Error::Invalid(names.faults)),
                Ok(new) => Ok(service::create(conn, Origin::draft(actor), new, now)?.id),
                Err(rejected) => Err(with_faults(
                    service::refuse_new(conn, rejected),
                    names.faults,
                )),
            }
        })
        .await;
    match result {
        Ok(id) => Ok(see_other(&format!("/tasks/{}?done=created", id.0))),
        Err(e) => refused(&state, &person, None, shown, e).await,
    }
}

/// GET /tasks/{id}/edit
pub async fn edit_form(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
) -> std::result::Result<HttpResponse, PageError> {
    office_only(&person)?;
    let id = TaskId(id.into_inner());
    let form = state
        .db(move |conn| {
            let row = service::find(conn, id)?.ok_or(Error::NotFound)?;
            let coops = visibility::cooperators(conn, id)?;
            let co_leaders = visibility::co_leaders(conn, id)?;
            let dir = Directory::load(conn)?;
            Ok(TaskForm {
                csrf: String::new(),
                version: row.version,
                plan_id: row.plan_id.0.to_string(),
                code: row.code,
                title: row.title,
                description: row.description.unwrap_or_default(),
                category: row.category.as_str().into(),
                priority: row.priority.as_str().into(),
                due_date: row.due_date.map(|d| d.to_string()).unwrap_or_default(),
                due_date_reason: String::new(),
                lead_unit: dir.unit_names(&[row.lead_unit_id]),
                cooperating: dir.unit_names(&coops),
                leader: dir.leader_name(row.responsible_leader_id),
                co_leaders: dir.leader_names(&co_leaders),
                report_day: row.report_day.map(|d| d.to_string()).unwrap_or_default(),
                report_cadence: row.report_cadence.as_str().into(),
            })
        })
        .await
        .page(person.lang)?;
    form_page(&state, &person, Some(id), form, StatusCode::OK, None).await
}

/// POST /tasks/{id}/edit: `PATCH /api/v1/tasks/{id}`'s service with the
/// version the form showed.
pub async fn update(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<TaskForm>,
) -> std::result::Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    office_only(&person)?;
    let id = TaskId(id.into_inner());
    let typed = TaskForm {
        csrf: String::new(),
        ..form.into_inner()
    };
    let shown = typed.clone();
    let actor = person.auth.id;
    let now = state.clock().now;
    let result = state
        .db(move |conn| -> Result<()> {
            let dir = Directory::load(conn)?;
            let names = resolve(&dir, &typed);
            let req = UpdateTask {
                version: typed.version,
                code: Some(typed.code.clone()),
                title: Some(typed.title.clone()),
                description: Some(filled(&typed.description)),
                lead_unit_id: Some(names.lead),
                cooperating_unit_ids: Some(names.cooperating),
                responsible_leader_id: Some(names.leader),
                co_leader_ids: Some(names.co_leaders),
                report_day: Some(names.report_day),
                report_cadence: filled(&typed.report_cadence),
                due_date: Some(filled(&typed.due_date)),
                due_date_reason: filled(&typed.due_date_reason),
                priority: filled(&typed.priority),
                category: filled(&typed.category),
                ..UpdateTask::default()
            };
            match TaskChanges::try_from(req) {
                Ok(_) if !names.faults.is_empty() => Err(Error::Invalid(names.faults)),
                Ok(changes) => service::update(conn, actor, id, changes, now).map(|_| ()),
                Err(rejected) => Err(with_faults(
                    service::refuse_changes(conn, actor, id, rejected, now),
                    names.faults,
                )),
            }
        })
        .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/tasks/{}?done=saved", id.0))),
        Err(e) => refused(&state, &person, Some(id), shown, e).await,
    }
}
