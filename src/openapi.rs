//! The OpenAPI 3.1 document, generated from the handlers' annotations, served
//! at `/api/v1/openapi.json` and committed as `docs/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{auth, error, health, units, users};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "duban 督办",
        description = "Responsibility-chain task and accountability tracker. Errors are application/problem+json; send `Accept-Language: en` for English messages.",
    ),
    paths(
        health::healthz,
        health::readyz,
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
    ),
    components(schemas(error::Problem, error::ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in and the own account"),
        (name = "units", description = "Units (单位)"),
        (name = "users", description = "Accounts"),
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
