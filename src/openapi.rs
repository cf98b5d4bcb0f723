//! The OpenAPI 3.1 document, generated from the handlers' annotations, served
//! at `/api/v1/openapi.json` and committed as `docs/openapi.json`.

use std::collections::BTreeSet;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, ObjectBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::{
    accountability, assessments, audit, bulletins, calendar, follows, health, holidays, http,
    indicators, instructions, jobs, notices, orders, plans, rankings, sign_in, stats, tasks,
    unit_record, units, users,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "duban 督办",
        description = "Responsibility-chain task and accountability tracker. Errors are application/problem+json; send `Accept-Language: en` for English messages.",
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        sign_in::routes::login,
        sign_in::routes::me,
        sign_in::routes::change_password,
        units::routes::list_units,
        units::routes::get_unit,
        units::routes::create_unit,
        units::routes::update_unit,
        units::routes::delete_unit,
        users::routes::list_users,
        users::routes::get_user,
        users::routes::create_user,
        users::routes::create_users_batch,
        users::routes::update_user,
        plans::routes::list_plans,
        plans::routes::get_plan,
        plans::routes::create_plan,
        plans::routes::update_plan,
        tasks::routes::list_tasks,
        tasks::routes::get_task,
        tasks::routes::create_task,
        tasks::routes::update_task,
        tasks::routes::assign,
        tasks::routes::accept,
        tasks::routes::submit,
        tasks::routes::verify,
        tasks::routes::return_task,
        tasks::routes::cancel,
        tasks::routes::reopen,
        tasks::routes::bulk_assign,
        tasks::routes::bulk_cancel,
        tasks::routes::task_events,
        tasks::routes::list_reports,
        tasks::routes::create_report,
        instructions::routes::list_instructions,
        instructions::routes::create_instruction,
        orders::routes::list_orders,
        orders::routes::create_order,
        orders::routes::get_order,
        tasks::routes::list_attachments,
        tasks::routes::upload_attachment,
        tasks::routes::download_attachment,
        tasks::routes::remove_attachment,
        tasks::routes::list_extensions,
        tasks::routes::request_extension,
        tasks::routes::approve_extension,
        tasks::routes::reject_extension,
        holidays::routes::list_holidays,
        holidays::routes::import_holidays,
        holidays::routes::put_holiday,
        holidays::routes::delete_holiday,
        audit::routes::list_audit,
        stats::overview,
        notices::routes::list_notices,
        notices::routes::retry_notice,
        jobs::routes::scheduler_status,
        accountability::routes::list_records,
        accountability::routes::get_record,
        accountability::routes::create_record,
        accountability::routes::confirm_record,
        accountability::routes::dismiss_record,
        unit_record::routes::unit_record,
        rankings::routes::get_ranking,
        rankings::routes::get_overdue,
        bulletins::routes::list_bulletins,
        bulletins::routes::create_bulletin,
        bulletins::routes::get_bulletin,
        bulletins::routes::update_bulletin,
        bulletins::routes::delete_bulletin,
        bulletins::routes::regenerate_bulletin,
        bulletins::routes::publish_bulletin,
        assessments::routes::get_assessment,
        indicators::routes::list_indicators,
        indicators::routes::create_indicator,
        indicators::routes::get_indicator,
        indicators::routes::update_indicator,
        indicators::routes::export_catalogue,
        indicators::routes::import_catalogue,
        indicators::routes::get_dashboard,
        indicators::routes::create_indicator_task,
        indicators::routes::list_values,
        indicators::routes::submit_value,
        indicators::routes::verify_value,
        indicators::routes::return_value,
        indicators::routes::list_value_attachments,
        indicators::routes::upload_value_attachment,
        indicators::routes::download_value_attachment,
        calendar::routes::get_calendar,
        calendar::routes::list_feeds,
        calendar::routes::create_feed,
        calendar::routes::revoke_feed,
        calendar::routes::get_feed,
        tasks::import_routes::import_table,
        tasks::import_routes::export_table,
        follows::routes::list_follows,
        follows::routes::follow_task,
        follows::routes::unfollow_task,
        follows::routes::follow_unit,
        follows::routes::unfollow_unit,
    ),
    components(schemas(http::problem::Problem, http::problem::ProblemField)),
    modifiers(&BearerAuth, &ProblemResponses),
    tags(
        (name = "auth", description = "Sign-in and the own account"),
        (name = "units", description = "Units (单位)"),
        (name = "users", description = "Accounts"),
        (name = "plans", description = "Implementation plans (实施方案)"),
        (name = "tasks", description = "Tasks, progress reports, instructions (批示), evidence and the timeline"),
        (name = "task life cycle", description = "assign → accept → submit → verify; return, cancel, reopen"),
        (name = "extensions", description = "Extension requests (延期申请)"),
        (name = "calendar", description = "Holiday calendar for working-day deadlines; the work calendar (工作行事历) and its iCalendar feeds"),
        (name = "indicators", description = "Assessment indicators (考核指标): the catalogue, reported values, the dashboard"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "notices", description = "Reminders, chase notices, supervision orders; the outbox and the scheduler"),
        (name = "accountability", description = "Accountability records (问责): proposed, confirmed, dismissed"),
        (name = "bulletins", description = "Rankings, supervision bulletins (督查通报) and the annual assessment"),
        (name = "follows", description = "Following tasks and units (关注): the home page and a daily digest"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The problem document's media type: every error answer carries it.
const PROBLEM_JSON: &str = "application/problem+json";

/// Operations that take a bearer token but check no role: any signed-in
/// account may call them, so they never answer 403.
const NO_ROLE_CHECK: &[&str] = &[
    "me",
    "change_password",
    "list_feeds",
    "create_feed",
    "revoke_feed",
];

/// Operations with a path parameter that never answer 404: it names no
/// record (a year, a date being set), and a bad one is 422.
const NEVER_NOT_FOUND: &[&str] = &["get_assessment", "put_holiday"];

/// Adds to every operation the error answers that the shared plumbing can
/// give, from what the operation takes, so that no annotation has to repeat
/// them (and none can forget one):
///
/// | the operation takes | it can answer |
/// | --- | --- |
/// | a JSON body (`JsonBody`) | 400 malformed JSON, 413, 415, 422 |
/// | another body (multipart, CSV) | 400 unreadable, 413, 415 (multipart), 422 |
/// | query parameters (`QueryParams`) | 400 undecodable query, 422 |
/// | a bearer token (`AuthUser`) | 401; 403 unless in `NO_ROLE_CHECK` |
/// | a path id | 404 (absent, out of sight, or not an id) |
/// | a body with `version` | 409 `version_conflict` |
/// | the database (every `/api/v1` operation, `/readyz`, `/metrics`) | 503 `unavailable` |
///
/// Statuses a handler gives for its own reasons (409 for a state conflict,
/// 429 at sign-in) stay in its annotation. Every 4xx/5xx answer, whether
/// listed here or there, is documented as `application/problem+json` with
/// the `Problem` schema, as `ApiError` sends it.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let versioned = versioned_schemas(openapi.components.as_ref());
        for (path, item) in openapi.paths.paths.iter_mut() {
            for op in operations(item) {
                for status in error_statuses(path, op, &versioned) {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(problem_response(status)));
                }
                for (status, response) in op.responses.responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (status.starts_with(['4', '5']), response) {
                        as_problem(status, response);
                    }
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Names of the component schemas with a `version` property: a body of one
/// of them is a versioned write.
fn versioned_schemas(components: Option<&Components>) -> BTreeSet<String> {
    components
        .map(|c| {
            c.schemas
                .iter()
                .filter(|(_, schema)| match schema {
                    RefOr::T(Schema::Object(object)) => object.properties.contains_key("version"),
                    _ => false,
                })
                .map(|(name, _)| name.clone())
                .collect()
        })
        .unwrap_or_default()
}

fn error_statuses(path: &str, op: &Operation, versioned: &BTreeSet<String>) -> BTreeSet<u16> {
    let mut statuses = BTreeSet::new();
    let params = op.parameters.as_deref().unwrap_or_default();
    if let Some(body) = &op.request_body {
        statuses.extend([400, 413, 422]);
        if body
            .content
            .keys()
            .any(|t| t == "application/json" || t == "multipart/form-data")
        {
            statuses.insert(415);
        }
        // The body's schema, or for an optional body (`Option<T>`) the
        // schema beside `null`.
        let schema_names = |content: &utoipa::openapi::Content| match &content.schema {
            Some(RefOr::Ref(r)) => vec![r.ref_location.clone()],
            Some(RefOr::T(Schema::OneOf(one_of))) => one_of
                .items
                .iter()
                .filter_map(|item| match item {
                    RefOr::Ref(r) => Some(r.ref_location.clone()),
                    RefOr::T(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        if body
            .content
            .values()
            .flat_map(schema_names)
            .filter_map(|location| {
                location
                    .strip_prefix("#/components/schemas/")
                    .map(str::to_string)
            })
            .any(|name| versioned.contains(&name))
        {
            statuses.insert(409);
        }
    }
    if params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query))
    {
        statuses.extend([400, 422]);
    }
    let id = op.operation_id.as_deref().unwrap_or_default();
    if params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path))
        && !NEVER_NOT_FOUND.contains(&id)
    {
        statuses.insert(404);
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        statuses.insert(401);
        if !NO_ROLE_CHECK.contains(&id) {
            statuses.insert(403);
        }
    }
    if path.starts_with("/api/") || path == "/readyz" || path == "/metrics" {
        statuses.insert(503);
    }
    statuses
}

fn problem_description(status: u16) -> &'static str {
    match status {
        400 => "`malformed_json`, `malformed_multipart`, `bad_query`, …: the body or the query string cannot be read",
        401 => "`missing_token`, `token_invalid`, `token_expired`, …: sign in (again)",
        403 => "`forbidden`: the caller's role may not do this",
        404 => "`not_found`: no such record, or not one the caller may see",
        409 => "a conflict: `version_conflict` (the record changed since it was read; `current_version` tells the current one) or a state that does not allow this",
        413 => "`payload_too_large`",
        415 => "`unsupported_media_type`: the body has another content type",
        422 => "`validation_failed`: `errors` names each field at fault",
        429 => "`too_many_attempts`: wait for `Retry-After` seconds",
        503 => "`unavailable`: the database cannot be reached; retry after `Retry-After` seconds",
        _ => "a problem document",
    }
}

fn problem_response(status: u16) -> Response {
    let mut response = ResponseBuilder::new()
        .description(problem_description(status))
        .build();
    as_problem(&status.to_string(), &mut response);
    response
}

/// Documents `response` as a problem document, keeping its description.
fn as_problem(status: &str, response: &mut Response) {
    let code: u16 = status.parse().unwrap_or_default();
    if response.description.is_empty() {
        response.description = problem_description(code).to_string();
    }
    response.content.clear();
    response.content.insert(
        PROBLEM_JSON.to_string(),
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if matches!(code, 429 | 503) {
        response.headers.insert(
            "Retry-After".to_string(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some("seconds to wait before trying again"))
                .build(),
        );
    }
}

/// The document as pretty JSON with a trailing newline, as committed.
pub fn document() -> anyhow::Result<String> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    Ok(format!("{}\n", doc.to_pretty_json()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_answer_is_a_documented_problem() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("serialises");
        let paths = doc["paths"].as_object().expect("paths");
        assert!(paths.len() > 50);
        for (path, operations) in paths {
            for (method, op) in operations.as_object().expect("operations") {
                let at = format!("{method} {path}");
                let responses = op["responses"].as_object().expect("responses");
                let has = |status: &str| responses.contains_key(status);
                for (status, response) in responses {
                    if status.starts_with(['4', '5']) {
                        assert_eq!(
                            response["content"][PROBLEM_JSON]["schema"]["$ref"],
                            "#/components/schemas/Problem",
                            "{at} {status}"
                        );
                        assert_eq!(response["content"].as_object().map(|c| c.len()), Some(1));
                    }
                }
                if path.starts_with("/api/") {
                    assert!(has("503"), "{at}: 503");
                }
                if op["requestBody"]["content"]
                    .get("application/json")
                    .is_some()
                {
                    for status in ["400", "413", "415", "422"] {
                        assert!(has(status), "{at}: {status}");
                    }
                }
                if op["parameters"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|p| p["in"] == "query"))
                {
                    assert!(has("400") && has("422"), "{at}: query");
                }
                if op.get("security").is_some() {
                    assert!(has("401"), "{at}: 401");
                }
            }
        }
        let patch_task = &doc["paths"]["/api/v1/tasks/{id}"]["patch"]["responses"];
        for status in ["401", "403", "404", "409"] {
            assert!(
                patch_task.get(status).is_some(),
                "PATCH /tasks/{{id}}: {status}"
            );
        }
        let me = &doc["paths"]["/api/v1/me"]["get"]["responses"];
        assert!(
            me.get("403").is_none(),
            "any signed-in account may read itself"
        );
    }
}
