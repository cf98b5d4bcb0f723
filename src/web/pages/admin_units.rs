//! 系统管理 · 单位 (admin only): the units list with a create form, and a
//! unit's edit form. Both post to the service functions the API calls
//! (`units::service::create` and `update`, the latter with the version the
//! page showed); a refusal shows the form again as typed, each field's
//! message beside its field and a stale version said in words.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};

use crate::auth::Permission;
use crate::domain::kinds::NoticeMode;
use crate::domain::{UnitId, UnitKind};
use crate::http::problem::ApiError;
use crate::http::Paging;
use crate::state::AppState;
use crate::units::model::{CreateUnit, UnitFilter, UnitView, UpdateUnit};
use crate::units::service;
use crate::web::page::{filled, render, see_other, Lang, OrPage, PageError};
use crate::web::session::Person;

/// The units pages are the admin's, as `/api/v1/units`' changes are: anyone
/// else gets the 403 page.
pub fn admin_only(person: &Person, permission: Permission) -> Result<(), PageError> {
    person.auth.require(permission).page(person.lang)
}

/// A refusal's words for the form: each field's message under the field's
/// name (`contact_emails[1]` is told at `contact_emails`), and the message.
pub struct Refusal {
    pub status: StatusCode,
    pub error: String,
    pub fields: HashMap<String, String>,
}

impl Refusal {
    /// `None` when the refusal is no form's business (403, 404, 5xx): the
    /// error page then says it.
    pub fn of(err: &ApiError, lang: Lang) -> Option<Refusal> {
        let status = err.status_code();
        if status == StatusCode::NOT_FOUND
            || status == StatusCode::FORBIDDEN
            || status.is_server_error()
        {
            return None;
        }
        let mut fields = HashMap::new();
        for f in err.fields() {
            let name = f.field.split('[').next().unwrap_or(&f.field).to_string();
            fields
                .entry(name)
                .or_insert_with(|| f.message.get(lang).to_string());
        }
        Some(Refusal {
            status,
            error: err.message().get(lang).to_string(),
            fields,
        })
    }
}

/// One entry a line, blank lines dropped.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The unit form as posted (and as shown again after a refusal).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct UnitForm {
    #[serde(skip_serializing)]
    csrf: String,
    version: i64,
    code: String,
    name: String,
    kind: String,
    aliases: String,
    head_name: String,
    head_email: String,
    contact_emails: String,
    notice_mode: String,
    /// A checkbox: present ("on") when ticked.
    active: Option<String>,
}

impl UnitForm {
    fn of(u: &UnitView) -> UnitForm {
        UnitForm {
            csrf: String::new(),
            version: u.version,
            code: u.code.clone(),
            name: u.name.clone(),
            kind: u.kind.as_str().to_string(),
            aliases: u.aliases.join("\n"),
            head_name: u.head_name.clone().unwrap_or_default(),
            head_email: u.head_email.clone().unwrap_or_default(),
            contact_emails: u.contact_emails.join("\n"),
            notice_mode: u.notice_mode.as_str().to_string(),
            active: u.active.then(|| "on".to_string()),
        }
    }

    fn blank() -> UnitForm {
        UnitForm {
            kind: UnitKind::Township.as_str().to_string(),
            notice_mode: NoticeMode::PerTask.as_str().to_string(),
            active: Some("on".into()),
            ..UnitForm::default()
        }
    }
}

#[derive(Serialize)]
struct Choices {
    kinds: Vec<&'static str>,
    notice_modes: Vec<&'static str>,
}

fn choices() -> Choices {
    Choices {
        kinds: UnitKind::ALL.iter().map(|k| k.as_str()).collect(),
        notice_modes: NoticeMode::ALL.iter().map(|m| m.as_str()).collect(),
    }
}

#[derive(Serialize)]
struct ListPage {
    units: Vec<UnitView>,
    total: i64,
    form: UnitForm,
    #[serde(flatten)]
    choices: Choices,
    error: Option<String>,
    fields: HashMap<String, String>,
}

/// The most units the list shows: a county's units, not a province's.
const LIST_MAX: i64 = 500;

async fn list_page(
    state: &AppState,
    person: &Person,
    form: UnitForm,
    refusal: Option<Refusal>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    admin_only(person, Permission::ManageUnits)?;
    let filter = UnitFilter::default();
    let paging = Paging {
        page: 1,
        per_page: LIST_MAX,
    };
    let page = state
        .db(move |conn| service::list(conn, &filter, paging))
        .await
        .page(lang)?;
    let (status, error, fields) = match refusal {
        Some(r) => (r.status, Some(r.error), r.fields),
        None => (StatusCode::OK, None, HashMap::new()),
    };
    let page = ListPage {
        units: page.items,
        total: page.total,
        form,
        choices: choices(),
        error,
        fields,
    };
    render(status, "admin_units.html", lang, Some(person), page)
}

/// GET /admin/units
pub async fn list(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    list_page(&state, &person, UnitForm::blank(), None).await
}

/// POST /admin/units: a new unit, `POST /api/v1/units`'s service.
pub async fn create(
    state: web::Data<AppState>,
    person: Person,
    form: web::Form<UnitForm>,
) -> Result<HttpResponse, PageError> {
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::ManageUnits)?;
    let form = form.into_inner();
    let req = CreateUnit {
        code: form.code.clone(),
        name: form.name.clone(),
        kind: form.kind.clone(),
        parent_id: None,
        aliases: lines(&form.aliases),
        contact_emails: lines(&form.contact_emails),
        head_name: filled(&form.head_name),
        head_email: filled(&form.head_email),
        webhook_kind: None,
        webhook_url: None,
        webhook_secret: None,
        notice_mode: filled(&form.notice_mode),
    };
    let actor = person.auth.id;
    let now = state.clock().now;
    match state
        .db(move |conn| service::create(conn, actor, req, now))
        .await
    {
        Ok(row) => Ok(see_other(&format!(
            "/admin/units/{}?done=created",
            row.id.0
        ))),
        Err(e) => match Refusal::of(&e, person.lang) {
            Some(r) => list_page(&state, &person, form, Some(r)).await,
            None => Err(PageError::from_api(person.lang, e)),
        },
    }
}

#[derive(Serialize)]
struct EditPage {
    id: i64,
    form: UnitForm,
    #[serde(flatten)]
    choices: Choices,
    done: bool,
    error: Option<String>,
    fields: HashMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: String,
}

/// GET /admin/units/{id}
pub async fn edit(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    admin_only(&person, Permission::ManageUnits)?;
    let id = UnitId(id.into_inner());
    let unit = state
        .db(move |conn| service::get(conn, id))
        .await
        .page(lang)?;
    let page = EditPage {
        id: id.0,
        form: UnitForm::of(&unit),
        choices: choices(),
        done: !query.done.is_empty(),
        error: None,
        fields: HashMap::new(),
    };
    render(StatusCode::OK, "admin_unit.html", lang, Some(&person), page)
}

/// POST /admin/units/{id}: `PATCH /api/v1/units/{id}`'s service with the
/// version the form showed.
pub async fn update(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<UnitForm>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    person.check_csrf(&form.csrf)?;
    admin_only(&person, Permission::ManageUnits)?;
    let id = UnitId(id.into_inner());
    let form = form.into_inner();
    let req = UpdateUnit {
        version: form.version,
        code: None,
        name: Some(form.name.clone()),
        kind: Some(form.kind.clone()),
        parent_id: None,
        aliases: Some(lines(&form.aliases)),
        contact_emails: Some(lines(&form.contact_emails)),
        head_name: Some(filled(&form.head_name)),
        head_email: Some(filled(&form.head_email)),
        webhook_kind: None,
        webhook_url: None,
        webhook_secret: None,
        notice_mode: Some(form.notice_mode.clone()),
        active: Some(form.active.is_some()),
    };
    let actor = person.auth.id;
    let now = state.clock().now;
    match state
        .db(move |conn| service::update(conn, actor, id, req, now))
        .await
    {
        Ok(_) => Ok(see_other(&format!("/admin/units/{}?done=saved", id.0))),
        Err(e) => {
            let Some(r) = Refusal::of(&e, lang) else {
                return Err(PageError::from_api(lang, e));
            };
            // The code is not edited here: show the stored one.
            let code = state
                .db(move |conn| service::get(conn, id))
                .await
                .page(lang)?
                .code;
            let page = EditPage {
                id: id.0,
                form: UnitForm { code, ..form },
                choices: choices(),
                done: false,
                error: Some(r.error),
                fields: r.fields,
            };
            render(r.status, "admin_unit.html", lang, Some(&person), page)
        }
    }
}
