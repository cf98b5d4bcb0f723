//! `/orders/{id}`: a supervision order (督办单) as its printable A4 page,
//! to whoever sees its task (404 otherwise). The page is the document alone
//! (`orders::document`): no navigation, its own print styles.

use actix_web::{web, HttpResponse};

use crate::domain::OrderId;
use crate::orders;
use crate::state::AppState;
use crate::tasks::visibility;
use crate::web::page::{OrPage, PageError};
use crate::web::session::Person;

/// GET /orders/{id}
pub async fn show(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    let id = OrderId(id.into_inner());
    let scope = visibility::scope(&person.auth, &state.settings);
    let auth = person.auth.clone();
    let today = state.clock().today;
    let settings = state.settings.clone();
    let doc = state
        .db(move |conn| {
            // The same check as the API: 404 when the task is out of sight.
            orders::find(conn, &auth, scope, id, today)?;
            orders::document::load(conn, &settings, id, lang).map_err(crate::error::Error::from)
        })
        .await
        .page(lang)?
        .ok_or_else(|| PageError::not_found(lang))?;
    let html = orders::document::render(&doc).map_err(|e| PageError::internal(lang, e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page carries its own <style>; nothing else may load or run.
        .insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'none'",
        ))
        .body(html))
}
