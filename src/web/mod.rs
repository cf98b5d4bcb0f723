//! The web console: server-rendered pages for people in a browser, under `/`
//! (everything outside `/api/`, `/docs`, the probes and the metrics). Pages
//! call the same service functions as the API, so the rules, the visibility
//! check and the audit trail are the API's; forms post and redirect, and work
//! without JavaScript.

mod assets;
mod csrf;
mod error;
mod headers;
mod page;
mod pages;
pub mod session;
mod templates;

use actix_web::middleware::from_fn;
use actix_web::web;

pub use templates::check as check_templates;

/// Mounts the console. Call last: its default service answers every path the
/// API did not claim (an HTML 404 page, or a problem for API paths).
pub fn configure(cfg: &mut web::ServiceConfig) {
    use pages::{
        account, accountability, admin_audit, admin_batch, admin_holidays, admin_settings,
        admin_units, admin_users, assessments, bulletins, calendar, follows, home, import,
        indicators, leading, notices, orders, plans, queues, task_form, tasks, units,
    };
    cfg.service(
        web::scope("")
            .wrap(from_fn(headers::console_headers))
            .route("/static/{name}", web::get().to(assets::serve))
            .route("/login", web::get().to(account::login_form))
            .route("/login", web::post().to(account::login))
            .route("/logout", web::post().to(account::logout))
            .route("/password", web::get().to(account::password_form))
            .route("/password", web::post().to(account::change_password))
            .route("/lang", web::post().to(account::set_lang))
            .route("/", web::get().to(home::home))
            .route("/leading", web::get().to(leading::show))
            .route("/plans", web::get().to(plans::list))
            .route("/plans/{id}", web::get().to(plans::show))
            .route("/plans/{id}/bulk", web::post().to(plans::bulk_step))
            .route("/plans/{id}/import", web::get().to(import::form))
            .route("/plans/{id}/import", web::post().to(import::submit))
            .route("/tasks", web::get().to(tasks::list))
            // Before /tasks/{id}, which "new" would otherwise meet.
            .route("/tasks/new", web::get().to(task_form::new_form))
            .route("/tasks/new", web::post().to(task_form::create))
            .route("/tasks/{id}/edit", web::get().to(task_form::edit_form))
            .route("/tasks/{id}/edit", web::post().to(task_form::update))
            .route("/tasks/{id}", web::get().to(tasks::show))
            .route("/tasks/{id}/act", web::post().to(tasks::act))
            .route("/tasks/{id}/follow", web::post().to(follows::task))
            .route("/units/{id}", web::get().to(units::show))
            .route("/units/{id}/follow", web::post().to(follows::unit))
            .route("/calendar", web::get().to(calendar::month))
            .route("/calendar/feed", web::post().to(calendar::create_feed))
            .route("/tasks/{id}/reports", web::post().to(tasks::report))
            .route("/tasks/{id}/instructions", web::post().to(tasks::instruct))
            .route("/tasks/{id}/orders", web::post().to(tasks::issue_order))
            .route("/tasks/{id}/attachments", web::post().to(tasks::upload))
            .route(
                "/tasks/{id}/attachments/{attachment}",
                web::get().to(tasks::download),
            )
            .route(
                "/tasks/{id}/attachments/{attachment}/delete",
                web::post().to(tasks::remove_upload),
            )
            .route(
                "/tasks/{id}/extensions",
                web::post().to(tasks::request_extension),
            )
            .route(
                "/extensions/{id}/decide",
                web::post().to(tasks::decide_extension),
            )
            .route("/notices", web::get().to(notices::list))
            .route("/orders/{id}", web::get().to(orders::show))
            .route("/queues", web::get().to(queues::index))
            .route("/queues/review", web::get().to(queues::review))
            .route("/queues/extensions", web::get().to(queues::extensions))
            .route("/queues/overdue", web::get().to(queues::overdue))
            .route("/queues/notices", web::get().to(queues::notices))
            .route("/queues/notices/{id}/retry", web::post().to(queues::retry))
            .route("/accountability", web::get().to(accountability::list))
            .route("/accountability/{id}", web::get().to(accountability::show))
            .route(
                "/accountability/{id}/decide",
                web::post().to(accountability::decide),
            )
            .route("/assessments", web::get().to(assessments::current))
            .route("/assessments/{year}", web::get().to(assessments::show))
            .route("/bulletins", web::get().to(bulletins::list))
            .route("/bulletins", web::post().to(bulletins::draft))
            .route("/bulletins/{id}", web::get().to(bulletins::show))
            .route("/bulletins/{id}", web::post().to(bulletins::save))
            .route("/bulletins/{id}/publish", web::get().to(bulletins::confirm))
            .route(
                "/bulletins/{id}/publish",
                web::post().to(bulletins::publish),
            )
            .route("/bulletins/{id}/file", web::get().to(bulletins::file))
            .route("/indicators", web::get().to(indicators::list))
            .route(
                "/indicators/{id}/values",
                web::post().to(indicators::submit),
            )
            .route("/admin/units", web::get().to(admin_units::list))
            .route("/admin/units", web::post().to(admin_units::create))
            .route("/admin/units/{id}", web::get().to(admin_units::edit))
            .route("/admin/units/{id}", web::post().to(admin_units::update))
            .route("/admin/users", web::get().to(admin_users::list))
            .route("/admin/users", web::post().to(admin_users::create))
            .route("/admin/users/batch", web::post().to(admin_batch::create))
            .route(
                "/admin/users/{id}/phone",
                web::post().to(admin_users::set_phone),
            )
            .route("/admin/holidays", web::get().to(admin_holidays::list))
            .route(
                "/admin/holidays/import",
                web::post().to(admin_holidays::import),
            )
            .route("/admin/audit", web::get().to(admin_audit::list))
            .route("/admin/audit/verify", web::post().to(admin_audit::verify))
            .route("/admin/settings", web::get().to(admin_settings::show))
            .route(
                "/admin/users/{id}/password",
                web::post().to(admin_users::reset_password),
            )
            .route(
                "/admin/users/{id}/active",
                web::post().to(admin_users::set_active),
            )
            .default_service(web::to(pages::not_found)),
    );
}
