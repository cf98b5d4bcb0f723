//! 系统管理 · 配置 (admin only): the settings in force, read only, as
//! `Settings::for_display` gives them: secrets only say whether they are
//! set, and URLs lose their passwords. Changing a setting stays a matter of
//! the configuration file and the environment (docs/configuration.md).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::admin_units::admin_only;
use crate::auth::Permission;
use crate::config::ShownSetting;
use crate::state::AppState;
use crate::web::page::{render, PageError};
use crate::web::session::Person;

#[derive(Serialize)]
struct SettingsPage {
    settings: Vec<ShownSetting>,
}

/// GET /admin/settings
pub async fn show(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    admin_only(&person, Permission::Administer)?;
    let page = SettingsPage {
        settings: state.settings.for_display(),
    };
    render(
        StatusCode::OK,
        "admin_settings.html",
        person.lang,
        Some(&person),
        page,
    )
}
