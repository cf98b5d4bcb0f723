//! The console's pages, one module per area.

pub mod account;
pub mod accountability;
pub mod admin_audit;
pub mod admin_batch;
pub mod admin_holidays;
pub mod admin_settings;
pub mod admin_units;
pub mod admin_users;
pub mod assessments;
pub mod bulletins;
pub mod calendar;
pub mod follows;
pub mod home;
pub mod import;
pub mod indicators;
pub mod leading;
pub mod notices;
pub mod orders;
pub mod plans;
pub mod queues;
pub mod task_form;
pub mod tasks;
pub mod units;

use actix_web::{HttpRequest, HttpResponse};

use super::page::{lang_of, PageError};
use crate::http::problem::ApiError;

/// Any path nobody claimed: a 404 page, or a problem document under the
/// API's paths.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, actix_web::Error> {
    if crate::http::is_api_path(req.path()) {
        return Err(ApiError::not_found().into());
    }
    Err(PageError::not_found(lang_of(&req)).into())
}
