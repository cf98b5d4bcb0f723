//! The OpenAPI 3.1 document, generated from the handlers' annotations, served
//! at `/api/v1/openapi.json` and committed as `docs/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    accountability, assessments, audit, auth, bulletins, calendar, error, health, holidays,
    indicators, notices, plans, rankings, stats, tasks, units, users,
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
        auth::routes::login,
        auth::routes::me,
        auth::routes::change_password,
        units::routes::list_units,
        units::routes::get_unit,
        units::routes::create_unit,
        units::routes::update_unit,
        units::routes::delete_unit,
        users::routes::list_users,
        users::routes::get_user,
        users::routes::create_user,
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
        tasks::routes::task_events,
        tasks::routes::list_reports,
        tasks::routes::create_report,
        tasks::routes::list_attachments,
        tasks::routes::upload_attachment,
        tasks::routes::download_attachment,
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
        notices::routes::scheduler_status,
        accountability::routes::list_records,
        accountability::routes::create_record,
        accountability::routes::confirm_record,
        accountability::routes::dismiss_record,
        units::routes::unit_record,
        rankings::routes::get_ranking,
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
        tasks::import::import_table,
        tasks::import::export_table,
    ),
    components(schemas(error::Problem, error::ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in and the own account"),
        (name = "units", description = "Units (单位)"),
        (name = "users", description = "Accounts"),
        (name = "plans", description = "Implementation plans (实施方案)"),
        (name = "tasks", description = "Tasks, progress reports, evidence and the timeline"),
        (name = "task life cycle", description = "assign → accept → submit → verify; return, cancel, reopen"),
        (name = "extensions", description = "Extension requests (延期申请)"),
        (name = "calendar", description = "Holiday calendar for working-day deadlines; the work calendar (工作行事历) and its iCalendar feeds"),
        (name = "indicators", description = "Assessment indicators (考核指标): the catalogue, reported values, the dashboard"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "notices", description = "Reminders, chase notices, supervision orders; the outbox and the scheduler"),
        (name = "accountability", description = "Accountability records (问责): proposed, confirmed, dismissed"),
        (name = "bulletins", description = "Rankings, supervision bulletins (督查通报) and the annual assessment"),
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

/// The document as pretty JSON with a trailing newline, as committed.
pub fn document() -> anyhow::Result<String> {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    Ok(format!("{}\n", doc.to_pretty_json()?))
}
