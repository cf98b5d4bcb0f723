//! `/api/v1/tasks/{id}/instructions`: thin handlers over the instructions
//! service.

use actix_web::{web, HttpResponse};

use super::{CreateInstruction, InstructionView};
use crate::auth::AuthUser;
use crate::domain::TaskId;
use crate::http::problem::{ApiResult, Problem};
use crate::http::JsonBody;
use crate::state::AppState;
use crate::tasks::visibility;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/tasks/{id}/instructions")
            .route(web::get().to(list_instructions))
            .route(web::post().to(create_instruction)),
    );
}

/// A task's instructions (批示), newest first, each with its reply
/// (批示落实情况) once the lead unit has sent it.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/instructions", tag = "tasks",
    responses((status = 200, body = Vec<InstructionView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_instructions(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let today = state.clock().today;
    let list = state
        .db(move |conn| super::list(conn, &auth, scope, id, today))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Write an instruction (批示) on a task: leaders who see the task, the
/// office and admins. The lead unit is told at once (email and group robot);
/// with `reply_by`, a reply not in by then climbs the escalation ladder.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/instructions", tag = "tasks", request_body = CreateInstruction,
    responses((status = 201, body = InstructionView),
        (status = 403, body = Problem, description = "unit clerks and viewers do not write instructions"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`task_not_open`: a draft, completed or cancelled task"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_instruction(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<CreateInstruction>,
) -> ApiResult<HttpResponse> {
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let req = body.into_inner();
    let clock = state.clock();
    let settings = state.settings.clone();
    let view = state
        .db(move |conn| super::create(conn, &auth, scope, id, req, &clock, &settings))
        .await?;
    Ok(HttpResponse::Created().json(view))
}
