//! `/api/v1/indicators`: the catalogue, its table, the dashboard, indicator
//! tasks, and values with their evidence.

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::catalogue::{self, CatalogueImport};
use super::dashboard::{self, DomainGroup};
use super::values::{self, SubmitValue, ValueAttachment, ValueView};
use super::{IndicatorInput, IndicatorTask, IndicatorView, Sight, UpdateIndicator};
use crate::auth::{AuthUser, Permission};
use crate::domain::{IndicatorId, ValueAttachmentId, ValueId};
use crate::http::download::{self, FileBytes, Format};
use crate::http::multipart::read_file;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{JsonBody, OptionalJsonBody, QueryParams};
use crate::state::AppState;
use crate::tasks::model::TaskView;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The fixed paths first: `/indicators/{id}` would take them otherwise.
    cfg.route("/indicators/dashboard", web::get().to(get_dashboard))
        .route("/indicators/export", web::get().to(export_catalogue))
        .route("/indicators/import", web::post().to(import_catalogue))
        .service(
            web::resource("/indicators")
                .route(web::get().to(list_indicators))
                .route(web::post().to(create_indicator)),
        )
        .service(
            web::resource("/indicators/{id}")
                .route(web::get().to(get_indicator))
                .route(web::patch().to(update_indicator)),
        )
        .route(
            "/indicators/{id}/tasks",
            web::post().to(create_indicator_task),
        )
        .service(
            web::resource("/indicators/{id}/values")
                .route(web::get().to(list_values))
                .route(web::post().to(submit_value)),
        )
        .route(
            "/indicators/{id}/values/{value}/verify",
            web::post().to(verify_value),
        )
        .route(
            "/indicators/{id}/values/{value}/return",
            web::post().to(return_value),
        )
        .service(
            web::resource("/indicators/{id}/values/{value}/attachments")
                .route(web::get().to(list_value_attachments))
                .route(web::post().to(upload_value_attachment)),
        )
        .route(
            "/indicators/{id}/values/{value}/attachments/{attachment}",
            web::get().to(download_value_attachment),
        );
}

/// The catalogue (unit clerks: the indicators their unit leads or cooperates on).
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators",
    responses((status = 200, body = Vec<IndicatorView>)), security(("bearer" = [])))]
pub async fn list_indicators(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let sight = Sight::of(&auth);
    let list = state.db(move |conn| super::list(conn, sight)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Add an indicator to the catalogue (office).
#[utoipa::path(post, path = "/api/v1/indicators", tag = "indicators", request_body = IndicatorInput,
    responses((status = 201, body = IndicatorView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn create_indicator(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: JsonBody<IndicatorInput>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let req = body.into_inner();
    let clock = state.clock();
    let view = state
        .db(move |conn| super::create(conn, auth.id, req, clock.today, clock.now))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, path = "/api/v1/indicators/{id}", tag = "indicators",
    responses((status = 200, body = IndicatorView), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn get_indicator(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let (sight, id) = (Sight::of(&auth), IndicatorId(id.into_inner()));
    let view = state
        .db(move |conn| {
            let (row, coops) = super::load_visible(conn, sight, id)?;
            Ok(IndicatorView::of(row, coops))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Change an indicator (office).
#[utoipa::path(patch, path = "/api/v1/indicators/{id}", tag = "indicators", request_body = UpdateIndicator,
    responses((status = 200, body = IndicatorView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn update_indicator(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<UpdateIndicator>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let (id, req) = (IndicatorId(id.into_inner()), body.into_inner());
    let clock = state.clock();
    let view = state
        .db(move |conn| super::update(conn, auth.id, id, req, clock.today, clock.now))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogueFormat {
    /// xlsx (default) or csv
    pub format: Option<String>,
}

/// The catalogue as a table (.xlsx or .csv), in the columns the import reads.
#[utoipa::path(get, path = "/api/v1/indicators/export", tag = "indicators", params(CatalogueFormat),
    responses((status = 200, description = "the table in the `format` asked for", content(
        (String = "text/csv"), (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))),
    security(("bearer" = [])))]
pub async fn export_catalogue(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: QueryParams<CatalogueFormat>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let format = match query.0.format.as_deref().unwrap_or("xlsx") {
        "csv" => Format::Csv,
        "xlsx" => Format::Xlsx,
        _ => {
            return Err(ApiError::invalid_field(
                "format",
                crate::domain::Message::new("格式必须是 xlsx 或 csv", "format must be xlsx or csv"),
            ))
        }
    };
    let sight = Sight::of(&auth);
    let sheet = state
        .db(move |conn| {
            let list = super::list(conn, sight)?;
            Ok(catalogue::sheet(conn, &list)?)
        })
        .await?;
    let bytes = match format {
        Format::Csv => crate::render::table::to_csv(&sheet),
        _ => web::block(move || crate::render::table::to_xlsx(&[sheet])).await??,
    };
    Ok(download::file(bytes, format, "考核指标", false))
}

/// Import a catalogue table (office): all rows or none; rows whose number
/// exists update that indicator.
#[utoipa::path(post, path = "/api/v1/indicators/import", tag = "indicators",
    request_body(content = crate::http::multipart::FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = CatalogueImport), (status = 422, body = Problem, description = "one error per bad cell")),
    security(("bearer" = [])))]
pub async fn import_catalogue(
    state: web::Data<AppState>,
    auth: AuthUser,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let file = read_file(multipart, 10 * 1024 * 1024).await?;
    let limits = crate::import::Limits::of(&state.settings);
    let sheet = web::block(move || {
        crate::import::read_upload(&file.filename, &file.content_type, &file.bytes, &limits)
    })
    .await??;
    let clock = state.clock();
    let report = state
        .db(move |conn| catalogue::import(conn, auth.id, &sheet, clock.today, clock.now))
        .await?;
    Ok(HttpResponse::Created().json(report))
}

/// Every indicator's latest value, attainment, trend and lateness, by domain.
#[utoipa::path(get, path = "/api/v1/indicators/dashboard", tag = "indicators",
    responses((status = 200, body = Vec<DomainGroup>)), security(("bearer" = [])))]
pub async fn get_dashboard(state: web::Data<AppState>, auth: AuthUser) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let sight = Sight::of(&auth);
    let today = state.clock().today;
    let groups = state
        .db(move |conn| dashboard::dashboard(conn, sight, today))
        .await?;
    Ok(HttpResponse::Ok().json(groups))
}

/// Make a task from an indicator: its lead and cooperating units in one step (office).
#[utoipa::path(post, path = "/api/v1/indicators/{id}/tasks", tag = "indicators", request_body = IndicatorTask,
    responses((status = 201, body = TaskView),
        (status = 409, body = Problem, description = "`task_code_taken`: the plan has a task with this code"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn create_indicator_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<IndicatorTask>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let (id, req) = (IndicatorId(id.into_inner()), body.into_inner());
    let clock = state.clock();
    let view = state
        .db(move |conn| {
            let row = super::create_task(conn, auth.id, id, req, clock.now)?;
            crate::tasks::service::view_one(conn, row, &clock)
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// The indicator's values, newest period first.
#[utoipa::path(get, path = "/api/v1/indicators/{id}/values", tag = "indicators",
    responses((status = 200, body = Vec<ValueView>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_values(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let (sight, id) = (Sight::of(&auth), IndicatorId(id.into_inner()));
    let list = state.db(move |conn| values::list(conn, sight, id)).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Report a period's value (the lead unit); until verified it can be corrected.
#[utoipa::path(post, path = "/api/v1/indicators/{id}/values", tag = "indicators", request_body = SubmitValue,
    responses((status = 201, body = ValueView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn submit_value(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    body: JsonBody<SubmitValue>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let (id, req) = (IndicatorId(id.into_inner()), body.into_inner());
    let clock = state.clock();
    let view = state
        .db(move |conn| values::submit(conn, &auth, id, req, clock.today, clock.now))
        .await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueDecision {
    /// Required to return.
    pub note: Option<String>,
}

async fn decide(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(IndicatorId, ValueId)>,
    body: OptionalJsonBody<ValueDecision>,
    verify: bool,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let ids = path.into_inner();
    let note = body.into_inner().and_then(|b| b.note);
    let now = chrono::Utc::now().naive_utc();
    let view = state
        .db(move |conn| values::decide(conn, auth.id, ids, verify, note, now))
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Verify a reported value (office).
#[utoipa::path(post, path = "/api/v1/indicators/{id}/values/{value}/verify", tag = "indicators", request_body = Option<ValueDecision>,
    responses((status = 200, body = ValueView), (status = 409, body = Problem)), security(("bearer" = [])))]
pub async fn verify_value(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(IndicatorId, ValueId)>,
    body: OptionalJsonBody<ValueDecision>,
) -> ApiResult<HttpResponse> {
    decide(state, auth, path, body, true).await
}

/// Return a reported value to the unit (office), with a note.
#[utoipa::path(post, path = "/api/v1/indicators/{id}/values/{value}/return", tag = "indicators", request_body = Option<ValueDecision>,
    responses((status = 200, body = ValueView), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn return_value(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(IndicatorId, ValueId)>,
    body: OptionalJsonBody<ValueDecision>,
) -> ApiResult<HttpResponse> {
    decide(state, auth, path, body, false).await
}

#[utoipa::path(get, path = "/api/v1/indicators/{id}/values/{value}/attachments", tag = "indicators",
    responses((status = 200, body = Vec<ValueAttachment>), (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn list_value_attachments(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(IndicatorId, ValueId)>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let (sight, (id, value)) = (Sight::of(&auth), path.into_inner());
    let list = state
        .db(move |conn| values::attachments(conn, sight, id, value))
        .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Attach evidence to a value (multipart field `file`; the lead unit).
#[utoipa::path(post, path = "/api/v1/indicators/{id}/values/{value}/attachments", tag = "indicators",
    request_body(content = crate::http::multipart::FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ValueAttachment),
        (status = 409, body = Problem, description = "`value_verified`: the value is verified and cannot change"),
        (status = 413, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = [])))]
pub async fn upload_value_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(IndicatorId, ValueId)>,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let allowed = state.settings.attachment_types.clone();
    let upload = crate::tasks::attachments::read_upload(
        multipart,
        state.settings.attachment_max_bytes,
        &allowed,
    )
    .await?;
    let storage = state.storage.clone();
    let now = chrono::Utc::now().naive_utc();
    let ids = path.into_inner();
    let row = state
        .db(move |conn| values::attach(conn, &auth, ids, upload, &storage, now))
        .await?;
    Ok(HttpResponse::Created().json(row))
}

#[utoipa::path(get, path = "/api/v1/indicators/{id}/values/{value}/attachments/{attachment}", tag = "indicators",
    responses((status = 200, description = "the file, with the content type it was uploaded with", content((FileBytes = "*/*"))),
        (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn download_value_attachment(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(IndicatorId, ValueId, ValueAttachmentId)>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let sight = Sight::of(&auth);
    let ids = path.into_inner();
    let storage = state.storage.clone();
    let data_dir = state.settings.data_dir.clone();
    let (row, bytes) = state
        .db(move |conn| values::fetch(conn, sight, ids, &storage, &data_dir))
        .await?;
    Ok(download::named(
        bytes,
        &row.content_type,
        &row.filename,
        false,
    ))
}
