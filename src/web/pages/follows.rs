//! The 关注/取消关注 buttons: on the task page for a task, on the home page
//! for a unit on its record page and on the home page. Each posts to the same service functions as
//! `/api/v1/follows` (same visibility: a task out of sight is a 404 page)
//! and leads back where it was pressed.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::domain::{TaskId, UnitId};
use crate::follows::{self, Target};
use crate::state::AppState;
use crate::tasks::visibility;
use crate::web::page::{see_other, OrPage, PageError};
use crate::web::session::Person;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FollowForm {
    csrf: String,
    /// `true` to follow, anything else to stop following.
    follow: String,
    /// `record` when pressed on the unit's record page: back there.
    back: String,
}

async fn set(
    state: &AppState,
    person: &Person,
    form: FollowForm,
    target: Target,
) -> Result<bool, PageError> {
    person.check_csrf(&form.csrf)?;
    let on = form.follow == "true";
    let scope = visibility::scope(&person.auth, &state.settings);
    let auth = person.auth.clone();
    let now = chrono::Utc::now().naive_utc();
    state
        .db(move |conn| {
            if on {
                follows::follow(conn, &auth, scope, target, now).map(|_| ())
            } else {
                follows::unfollow(conn, &auth, scope, target)
            }
        })
        .await
        .page(person.lang)?;
    Ok(on)
}

fn done(on: bool) -> &'static str {
    if on {
        "follow"
    } else {
        "unfollow"
    }
}

/// POST /tasks/{id}/follow
pub async fn task(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<FollowForm>,
) -> Result<HttpResponse, PageError> {
    let id = TaskId(id.into_inner());
    let on = set(&state, &person, form.into_inner(), Target::Task(id)).await?;
    Ok(see_other(&format!("/tasks/{id}?done={}", done(on))))
}

/// POST /units/{id}/follow
pub async fn unit(
    state: web::Data<AppState>,
    person: Person,
    id: web::Path<i64>,
    form: web::Form<FollowForm>,
) -> Result<HttpResponse, PageError> {
    let id = UnitId(id.into_inner());
    let form = form.into_inner();
    let back = form.back == "record";
    let on = set(&state, &person, form, Target::Unit(id)).await?;
    if back {
        return Ok(see_other(&format!("/units/{id}?done={}", done(on))));
    }
    Ok(see_other("/"))
}
