//! 实施方案: the plans list and a plan's task tree (nested by dotted code,
//! lights rolled up to each parent, counts per light), with the office's
//! charts (tasks by lead unit and light, rates by month), its
//! bulk steps (批量交办, 批量撤销) posting to the same service function as
//! `POST /api/v1/plans/{id}/assign|cancel`. The result is told in words:
//! how many tasks changed, or which task stopped it and why, nothing changed.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Serialize;

use crate::domain::{PlanId, Role};
use crate::http::problem::ApiError;
use crate::http::Paging;
use crate::i18n;
use crate::plans::model::{PlanFilter, PlanView};
use crate::state::AppState;
use crate::tasks::actions::StepNotices;
use crate::tasks::bulk::{self, BulkAction, BulkRequest, BulkTask};
use crate::tasks::tree::{self, PlanTree};
use crate::tasks::visibility;
use crate::web::page::{filled, render, see_other, OrPage, PageError};
use crate::web::session::Person;

#[derive(Serialize)]
struct ListPage {
    plans: Vec<PlanView>,
}

/// GET /plans
pub async fn list(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let filter = PlanFilter {
        year: None,
        status: None,
        page: Some(1),
        per_page: Some(200),
    };
    let paging = Paging {
        page: 1,
        per_page: 200,
    };
    let page = state
        .db(move |conn| crate::plans::service::list(conn, &filter, paging))
        .await
        .page(lang)?;
    render(
        StatusCode::OK,
        "plans.html",
        lang,
        Some(&person),
        ListPage { plans: page.items },
    )
}

#[derive(Serialize)]
struct TreePage {
    tree: PlanTree,
    /// SVG (escaped by `charts`): tasks by lead unit and light, and the
    /// completion and on-time rates by month.
    charts: Vec<String>,
    /// The office's bulk steps are offered.
    bulk: bool,
    flash: Option<String>,
    error: Option<String>,
    note: String,
}

async fn tree_page(
    state: &AppState,
    person: &Person,
    plan: PlanId,
    status: StatusCode,
    flash: Option<String>,
    error: Option<String>,
    note: String,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let scope = visibility::scope(&person.auth, &state.settings);
    let clock = state.clock();
    let tree = state
        .db(move |conn| tree::load(conn, scope, plan, &clock))
        .await
        .page(lang)?;
    let charts = vec![
        crate::charts::light_by_unit(&tree, lang),
        crate::charts::plan_trend(&tree, &clock, lang),
    ];
    let page = TreePage {
        tree,
        charts,
        bulk: matches!(person.auth.role, Role::Office | Role::Admin),
        flash,
        error,
        note,
    };
    render(status, "plan.html", lang, Some(person), page)
}

/// GET /plans/{id}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let count = |key: &str| -> usize { query.get(key).and_then(|n| n.parse().ok()).unwrap_or(0) };
    let flash = match (query.get("done").map(String::as_str), query.get("n")) {
        (Some(done @ ("assign" | "cancel")), Some(_)) => Some(
            i18n::text(lang, &format!("plan.done_{done}")).replace("{n}", &count("n").to_string()),
        ),
        (Some("import"), Some(_)) => Some(
            i18n::text(lang, "plan.done_import")
                .replace("{n}", &count("n").to_string())
                .replace("{m}", &count("m").to_string()),
        ),
        _ => None,
    };
    let plan = PlanId(id.into_inner());
    tree_page(
        &state,
        &person,
        plan,
        StatusCode::OK,
        flash,
        None,
        String::new(),
    )
    .await
}

/// The bulk form: the CSRF token, the step, the note, and each checked task
/// as `task=<id>:<version>` (the version the tree showed).
struct BulkForm {
    csrf: String,
    action: String,
    note: String,
    tasks: Vec<BulkTask>,
}

impl BulkForm {
    fn parse(body: &[u8]) -> BulkForm {
        let mut form = BulkForm {
            csrf: String::new(),
            action: String::new(),
            note: String::new(),
            tasks: Vec::new(),
        };
        for (key, value) in form_urlencoded::parse(body) {
            match key.as_ref() {
                "csrf" => form.csrf = value.into_owned(),
                "action" => form.action = value.into_owned(),
                "note" => form.note = value.into_owned(),
                "task" => {
                    // A value the tree did not write is skipped, as a
                    // checkbox that was not there.
                    if let Some((id, version)) = value.split_once(':') {
                        if let (Ok(id), Ok(version)) = (id.parse(), version.parse()) {
                            form.tasks.push(BulkTask { id, version });
                        }
                    }
                }
                _ => {}
            }
        }
        form
    }
}

/// POST /plans/{id}/bulk: 批量交办 or 批量撤销 of the checked tasks.
pub async fn bulk_step(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let form = BulkForm::parse(&body);
    person.check_csrf(&form.csrf)?;
    let plan = PlanId(id.into_inner());
    let action = match form.action.as_str() {
        "assign" => BulkAction::Assign,
        "cancel" => BulkAction::Cancel,
        _ => return Err(PageError::not_found(lang)),
    };
    let req = BulkRequest {
        tasks: form.tasks,
        note: filled(&form.note),
    };
    let auth = person.auth.clone();
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let settings = state.settings.clone();
    let result = state
        .db(move |conn| {
            let ctx = bulk::BulkContext {
                auth: &auth,
                scope,
                clock: &clock,
                settings: &settings,
                tell: StepNotices(crate::notices::tell::after_step),
            };
            Ok(bulk::act(conn, &ctx, plan, action, req)?.len())
        })
        .await;
    match result {
        Ok(n) => Ok(see_other(&format!(
            "/plans/{}?done={}&n={n}",
            plan.0, form.action
        ))),
        Err(e) => failed(&state, &person, plan, e, form.note).await,
    }
}

/// The tree again, saying which task stopped the step and why; the note
/// typed is kept.
async fn failed(
    state: &AppState,
    person: &Person,
    plan: PlanId,
    err: ApiError,
    note: String,
) -> Result<HttpResponse, PageError> {
    let status = err.status_code();
    if status == StatusCode::NOT_FOUND
        || status == StatusCode::FORBIDDEN
        || status.is_server_error()
    {
        return Err(PageError::from_api(person.lang, err));
    }
    let error = Some(err.sentence(person.lang));
    tree_page(state, person, plan, status, None, error, note).await
}
