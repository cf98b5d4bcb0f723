//! `/api/v1/tasks` and `/api/v1/extensions`: thin handlers over the task services.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};

use super::actions;
use super::attachments::{self, AttachmentView};
use super::bulk::{self, BulkAction, BulkRequest, BulkResult};
use super::events::{self, EventView};
use super::extensions::{self, CreateExtension, DecideExtension, ExtensionView};
use super::input::{ListFilter, NewTask, TaskChanges};
use super::model::{ActionRequest, CreateTask, TaskDetail, TaskFilter, TaskView, UpdateTask};
use super::reports::{self, CreateReport, ReportView};
use super::service;
use super::service::Origin;
use super::visibility;
use crate::auth::{AuthUser, Permission};
use crate::domain::task_state::TaskAction;
use crate::domain::{AttachmentId, ExtensionId, PlanId, TaskId};
use crate::http::problem::{ApiResult, Problem};
use crate::http::{JsonBody, Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    super::import_routes::configure(cfg);
    cfg.service(
        web::resource("/tasks")
            .route(web::get().to(list_tasks))
            .route(web::post().to(create_task)),
    )
    .service(
        web::resource("/tasks/{id}")
            .route(web::get().to(get_task))
            .route(web::patch().to(update_task)),
    )
    .route("/tasks/{id}/events", web::get().to(task_events))
    .service(
        web::resource("/tasks/{id}/reports")
            .route(web::get().to(list_reports))
            .route(web::post().to(create_report)),
    )
    .service(
        web::resource("/tasks/{id}/attachments")
            .route(web::get().to(list_attachments))
            .route(web::post().to(upload_attachment)),
    )
    .route(
        "/tasks/{id}/attachments/{attachment}",
        web::get().to(download_attachment),
    )
    .route(
        "/tasks/{id}/attachments/{attachment}",
        web::delete().to(remove_attachment),
    )
    .service(
        web::resource("/tasks/{id}/extensions")
            .route(web::get().to(list_extensions))
            .route(web::post().to(request_extension)),
    )
    .route("/tasks/{id}/assign", web::post().to(assign))
    .route("/tasks/{id}/accept", web::post().to(accept))
    .route("/tasks/{id}/submit", web::post().to(submit))
    .route("/tasks/{id}/verify", web::post().to(verify))
    .route("/tasks/{id}/return", web::post().to(return_task))
    .route("/tasks/{id}/cancel", web::post().to(cancel))
    .route("/tasks/{id}/reopen", web::post().to(reopen))
    .route("/plans/{id}/assign", web::post().to(bulk_assign))
    .route("/plans/{id}/cancel", web::post().to(bulk_cancel))
    .route(
        "/extensions/{id}/approve",
        web::post().to(approve_extension),
    )
    .route("/extensions/{id}/reject", web::post().to(reject_extension));
}

/// List tasks visible to the caller, with filters, sorting and pages.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskFilter),
    responses((status = 200, body = Page<TaskView>), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn list_tasks(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<TaskFilter>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let filter = query.0;
    let paging = Paging::parse(filter.page, filter.per_page)?;
    let filter = ListFilter::try_from(filter)?;
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let page = state
        .db(move |conn| service::list(conn, scope, &filter, paging, &clock))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Read a task: its light, sub-task roll-up and the units' inputs side by side.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    responses((status = 200, body = TaskDetail), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let clock = state.clock();
    let detail = state
        .db(move |conn| service::detail(conn, scope, id, &clock).map(|(detail, _)| detail))
        .await?;
    Ok(HttpResponse::Ok().json(detail))
}

/// Create a draft task (office).
#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = CreateTask,
    responses((status = 201, body = TaskView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<CreateTask>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let input = NewTask::try_from(body.into_inner());
    let clock = state.clock();
    let view = state
        .db(move |conn| {
            let row = match input {
                Ok(new) => service::create(conn, Origin::draft(auth.id), new, clock.now)?,
                Err(rejected) => return Err(service::refuse_new(conn, rejected)),
            };
            service::view_one(conn, row, &clock)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Change a task (office). Send the `version` you read; moving the due date of
/// an assigned task needs `due_date_reason`.
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks", request_body = UpdateTask,
    responses((status = 200, body = TaskView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn update_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<UpdateTask>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let id = TaskId(id.into_inner());
    let input = TaskChanges::try_from(body.into_inner());
    let clock = state.clock();
    let view = state
        .db(move |conn| {
            let row = match input {
                Ok(changes) => service::update(conn, auth.id, id, changes, clock.now)?,
                Err(rejected) => {
                    return Err(service::refuse_changes(
                        conn, auth.id, id, rejected, clock.now,
                    ))
                }
            };
            service::view_one(conn, row, &clock)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn run_action(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
    action: TaskAction,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let id = TaskId(id.into_inner());
    let req = body.into_inner();
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let settings = state.settings.clone();
    let tell = *tell.get_ref();
    let view = state
        .db(move |conn| {
            let row = actions::act(
                conn,
                &auth,
                scope,
                id,
                actions::Step {
                    action,
                    version: req.version,
                    note: req.note,
                },
                &clock,
                &settings,
                tell,
            )?;
            service::view_one(conn, row, &clock)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Assign a draft task to its units (office). A deadline in working days is fixed now.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/assign", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn assign(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Assign).await
}

/// Sign for the task (签收; lead unit).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/accept", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn accept(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Accept).await
}

/// Apply for completion (申请办结; lead unit) with a completion note.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/submit", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn submit(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Submit).await
}

/// Verify a submitted task (审核办结; office).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/verify", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn verify(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Verify).await
}

/// Return a submitted task to the unit with a reason (退回; office).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/return", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn return_task(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Return).await
}

/// Cancel an open task with a reason (office).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/cancel", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn cancel(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Cancel).await
}

/// Reopen a completed task with a reason (office).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reopen", tag = "task life cycle", request_body = ActionRequest,
    responses((status = 200, body = TaskView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn reopen(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<ActionRequest>,
) -> ApiResult<HttpResponse> {
    run_action(state, tell, auth, id, body, TaskAction::Reopen).await
}

async fn run_bulk(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    plan: web::Path<i64>,
    body: JsonBody<BulkRequest>,
    action: BulkAction,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let plan = PlanId(plan.into_inner());
    let req = body.into_inner();
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let settings = state.settings.clone();
    let tell = *tell.get_ref();
    let result = state
        .db(move |conn| {
            let ctx = bulk::BulkContext {
                auth: &auth,
                scope,
                clock: &clock,
                settings: &settings,
                tell,
            };
            let rows = bulk::act(conn, &ctx, plan, action, req)?;
            let tasks = service::views(conn, rows, &clock)?;
            Ok(BulkResult {
                changed: tasks.len(),
                tasks,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// Assign several draft tasks of the plan at once (批量交办; office), all or
/// nothing in one transaction: each as `POST /tasks/{id}/assign` would, with
/// its 交办通知 to the units. A task that is not a draft of this plan or whose
/// `version` is stale stops it: the 409/422 names it (`index` in `tasks`,
/// `task_id`, `task_code`) and nothing is changed.
#[utoipa::path(post, path = "/api/v1/plans/{id}/assign", tag = "task life cycle", request_body = BulkRequest,
    params(("id" = i64, Path, description = "the plan")),
    responses((status = 200, body = BulkResult), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn bulk_assign(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    plan: web::Path<i64>,
    body: JsonBody<BulkRequest>,
) -> ApiResult<HttpResponse> {
    run_bulk(state, tell, auth, plan, body, BulkAction::Assign).await
}

/// Cancel several open tasks of the plan at once with one reason (`note`,
/// required; 批量撤销; office), all or nothing in one transaction. A task that
/// is not open, not of this plan or whose `version` is stale stops it: the
/// 409/422 names it (`index`, `task_id`, `task_code`) and nothing is changed.
#[utoipa::path(post, path = "/api/v1/plans/{id}/cancel", tag = "task life cycle", request_body = BulkRequest,
    params(("id" = i64, Path, description = "the plan")),
    responses((status = 200, body = BulkResult), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn bulk_cancel(
    state: web::Data<AppState>,
    tell: web::Data<actions::StepNotices>,
    auth: AuthUser,
    plan: web::Path<i64>,
    body: JsonBody<BulkRequest>,
) -> ApiResult<HttpResponse> {
    run_bulk(state, tell, auth, plan, body, BulkAction::Cancel).await
}

/// The task's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/events", tag = "tasks",
    responses((status = 200, body = Vec<EventView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn task_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let list = state
        .db(move |conn| {
            let task = visibility::find_visible(conn, scope, id)?;
            Ok(events::list(conn, task.id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Progress reports, oldest first.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/reports", tag = "tasks",
    responses((status = 200, body = Vec<ReportView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_reports(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let list = state.db(move |conn| reports::list(conn, scope, id)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Report progress (lead or cooperating unit).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/reports", tag = "tasks", request_body = CreateReport,
    responses((status = 201, body = ReportView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`task_not_open`: the task is completed or cancelled"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_report(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<CreateReport>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let req = body.into_inner();
    let now = chrono::Utc::now().naive_utc();
    let report = state
        .db(move |conn| reports::create(conn, &auth, scope, id, req, now))
        .await?;
    Ok(HttpResponse::Created().json(report))
}

/// Evidence attached to the task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/attachments", tag = "tasks",
    responses((status = 200, body = Vec<AttachmentView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_attachments(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let list = state
        .db(move |conn| attachments::list(conn, scope, id))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Attach evidence: a multipart form with the file in field `file`.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/attachments", tag = "tasks",
    request_body(content = crate::http::multipart::FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView),
        (status = 409, body = Problem, description = "`task_not_open`: the task is completed or cancelled"),
        (status = 413, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn upload_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let allowed = state.settings.attachment_types.clone();
    let upload =
        attachments::read_upload(multipart, state.settings.attachment_max_bytes, &allowed).await?;
    let storage = state.storage.clone();
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| attachments::store(conn, &auth, scope, id, upload, &storage, now))
        .await?;
    Ok(HttpResponse::Created().json(AttachmentView::from(row)))
}

/// Download one piece of evidence.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/attachments/{attachment}", tag = "tasks",
    responses((status = 200, description = "the file, with the content type it was uploaded with", content((crate::http::download::FileBytes = "*/*"))),
        (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn download_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let (id, attachment) = path.into_inner();
    let storage = state.storage.clone();
    let data_dir = state.settings.data_dir.clone();
    let (row, bytes) = state
        .db(move |conn| {
            attachments::fetch(
                conn,
                scope,
                TaskId(id),
                AttachmentId(attachment),
                &storage,
                &data_dir,
            )
        })
        .await?;
    let mut response = crate::http::download::named(bytes, &row.content_type, &row.filename, false);
    response.headers_mut().insert(
        header::HeaderName::from_static("x-checksum-sha256"),
        header::HeaderValue::from_str(&row.sha256)
            .map_err(|e| crate::http::problem::ApiError::internal(e.into()))?,
    );
    Ok(response)
}

/// Remove an own upload while the task is not yet submitted; the timeline
/// and the audit trail keep the removal.
#[utoipa::path(delete, path = "/api/v1/tasks/{id}/attachments/{attachment}", tag = "tasks",
    responses((status = 204, description = "removed"),
        (status = 403, body = Problem, description = "someone else uploaded it"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "`evidence_fixed`: the task is submitted or closed")),
    security(("bearer" = [])))]
pub async fn remove_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let (id, attachment) = path.into_inner();
    let now = chrono::Utc::now().naive_utc();
    state
        .db(move |conn| {
            attachments::remove(
                conn,
                &auth,
                scope,
                TaskId(id),
                AttachmentId(attachment),
                now,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Extension requests of the task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}/extensions", tag = "extensions",
    responses((status = 200, body = Vec<ExtensionView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_extensions(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let list = state
        .db(move |conn| extensions::list_for_task(conn, scope, id))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Request a later due date (lead unit, before the due date).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/extensions", tag = "extensions", request_body = CreateExtension,
    responses((status = 201, body = ExtensionView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn request_extension(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<CreateExtension>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let scope = visibility::scope(&auth, &state.settings);
    let id = TaskId(id.into_inner());
    let req = body.into_inner();
    let clock = state.clock();
    let row = state
        .db(move |conn| extensions::request(conn, &auth, scope, id, req, &clock))
        .await?;
    Ok(HttpResponse::Created().json(ExtensionView::from(row)))
}

/// Approve an extension request (office): the task's due date moves.
#[utoipa::path(post, path = "/api/v1/extensions/{id}/approve", tag = "extensions", request_body = DecideExtension,
    responses((status = 200, body = ExtensionView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn approve_extension(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<DecideExtension>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        auth,
        ExtensionId(id.into_inner()),
        true,
        body.into_inner(),
    )
    .await
}

/// Reject an extension request with a reason (office).
#[utoipa::path(post, path = "/api/v1/extensions/{id}/reject", tag = "extensions", request_body = DecideExtension,
    responses((status = 200, body = ExtensionView), (status = 409, body = Problem), (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn reject_extension(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<DecideExtension>,
) -> ApiResult<HttpResponse> {
    decide(
        state,
        auth,
        ExtensionId(id.into_inner()),
        false,
        body.into_inner(),
    )
    .await
}

async fn decide(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: ExtensionId,
    approve: bool,
    req: DecideExtension,
) -> ApiResult<HttpResponse> {
    let now = chrono::Utc::now().naive_utc();
    let row = state
        .db(move |conn| extensions::decide(conn, &auth, id, approve, req, now))
        .await?;
    Ok(HttpResponse::Ok().json(ExtensionView::from(row)))
}
