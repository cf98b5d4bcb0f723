//! 我分管的 (`/leading`, leaders only): the tasks the leader is responsible
//! or co-responsible for, counted by light for each lead unit (each count a
//! link to the task list's `leader_id` filter), and the units' standing. The
//! figures come from `leading::share`; anyone else gets 404, as for a page
//! that is not theirs.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::domain::Role;
use crate::state::AppState;
use crate::tasks::visibility;
use crate::web::page::{render, OrPage, PageError};
use crate::web::session::Person;

/// GET /leading
pub async fn show(state: web::Data<AppState>, person: Person) -> Result<HttpResponse, PageError> {
    let lang = person.lang;
    if person.auth.role != Role::Leader {
        return Err(PageError::not_found(lang));
    }
    let scope = visibility::scope(&person.auth, &state.settings);
    let leader = person.auth.id;
    let policy = state.settings.policy();
    let clock = state.clock();
    let share = state
        .db(move |conn| crate::leading::share(conn, scope, leader, &policy, &clock))
        .await
        .page(lang)?;
    render(StatusCode::OK, "leading.html", lang, Some(&person), share)
}
