//! The plan's table routes: import a breakdown table (new tasks, or a
//! corrected table with `mode=update`) and export the task ledger.

use super::import::{export_rows, parse_file, ImportMode, ImportOptions, ImportReport};
use super::visibility;
use std::collections::HashMap;

use crate::domain::{Message, PlanId, TaskId};

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::auth::{AuthUser, Permission};
use crate::http::multipart::read_file;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::QueryParams;
use crate::state::AppState;

/// The largest table accepted.
pub const MAX_TABLE_BYTES: usize = 10 * 1024 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/plans/{id}/import", web::post().to(import_table))
        .route("/plans/{id}/export", web::get().to(export_table));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Report what would be created (or changed) without writing anything.
    pub dry_run: Option<bool>,
    /// `create` (default): every row is a new task and a code the plan has is
    /// refused; `update`: rows whose code the plan has update that task, new
    /// codes are created, tasks missing from the table are listed.
    pub mode: Option<String>,
    /// With `mode=update`: why the due dates of assigned tasks move (kept on
    /// their timelines). Without it, such rows are refused at their deadline cell.
    pub reason: Option<String>,
    /// With `mode=update`: the matched tasks' versions as the preview
    /// reported them (`tasks[].id:tasks[].version`, comma separated, e.g.
    /// `12:3,13:1`). A task changed since then is refused with 409
    /// `stale_version` instead of being overwritten.
    pub versions: Option<String>,
}

/// `12:3,13:1` → task 12 at version 3, task 13 at version 1.
pub fn parse_versions(text: &str) -> Result<HashMap<TaskId, i64>, Message> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            pair.split_once(':')
                .and_then(|(id, v)| Some((TaskId(id.trim().parse().ok()?), v.trim().parse().ok()?)))
                .ok_or_else(|| {
                    Message::owned(
                        format!("无法识别的任务版本“{pair}”（应为 任务id:版本）"),
                        format!("{pair:?} is not a task id:version pair"),
                    )
                })
        })
        .collect()
}

/// Import the plan's breakdown table (multipart field `file`, .xlsx or .csv,
/// UTF-8 or GBK) as tasks (office). Any bad cell rejects the whole file with an
/// error per cell (`field` is the cell, e.g. `C5`); nothing is written.
#[utoipa::path(post, path = "/api/v1/plans/{id}/import", tag = "plans", params(ImportQuery),
    request_body(content = crate::http::multipart::FileUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportReport), (status = 200, body = ImportReport, description = "dry run"),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn import_table(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    query: QueryParams<ImportQuery>,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ManageTasks)?;
    let plan = PlanId(id.into_inner());
    let query = query.0;
    let dry_run = query.dry_run.unwrap_or(false);
    let mode = match query.mode.as_deref() {
        None => ImportMode::Create,
        Some(m) => ImportMode::parse(m).map_err(|msg| ApiError::invalid_field("mode", msg))?,
    };
    let reason = query
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(ApiError::invalid_field(
            "reason",
            Message::new(
                "理由不能超过 1000 个字符",
                "the reason is longer than 1000 characters",
            ),
        ));
    }
    let seen = query
        .versions
        .as_deref()
        .map(parse_versions)
        .transpose()
        .map_err(|msg| ApiError::invalid_field("versions", msg))?;
    let options = ImportOptions {
        mode,
        dry_run,
        reason,
        seen,
    };
    let file = read_file(multipart, MAX_TABLE_BYTES).await?;
    let limits = crate::import::Limits::of(&state.settings);
    let rows =
        web::block(move || parse_file(&file.filename, &file.content_type, &file.bytes, &limits))
            .await??;
    let now = chrono::Utc::now().naive_utc();
    let report = state
        .db(move |conn| super::reimport::by_mode(conn, auth.id, plan, rows, options, now))
        .await?;
    Ok(if dry_run {
        HttpResponse::Ok()
    } else {
        HttpResponse::Created()
    }
    .json(report))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// xlsx (default) or csv
    pub format: Option<String>,
}

/// Export the plan's task ledger (台账) as a table (.xlsx or .csv, every cell
/// guarded against formula injection): a title row (plan, 台账, export date),
/// then per task the importer's columns (完成时限 as the table wrote it), the
/// due date, the latest progress report and its date, status, light (红/黄/绿)
/// and days overdue.
#[utoipa::path(get, path = "/api/v1/plans/{id}/export", tag = "plans", params(ExportQuery),
    responses((status = 200, description = "the table in the `format` asked for", content(
        (String = "text/csv"), (crate::http::download::FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 404, body = Problem)), security(("bearer" = [])))]
pub async fn export_table(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
    query: QueryParams<ExportQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadTasks)?;
    let plan = PlanId(id.into_inner());
    let format = query.0.format.unwrap_or_else(|| "xlsx".into());
    if format != "xlsx" && format != "csv" {
        return Err(ApiError::invalid_field(
            "format",
            Message::new("格式必须是 xlsx 或 csv", "format must be xlsx or csv"),
        ));
    }
    let scope = visibility::scope(&auth, &state.settings);
    let clock = state.clock();
    let (title, rows) = state
        .db(move |conn| export_rows(conn, scope, plan, &clock))
        .await?;
    let (body, content_type) = if format == "csv" {
        (
            crate::import::to_csv(&rows, Some(&title)),
            "text/csv; charset=utf-8",
        )
    } else {
        (
            web::block(move || crate::import::to_xlsx(&rows, "任务台账", Some(&title))).await??,
            crate::http::download::XLSX,
        )
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"plan-{}-tasks.{format}\"", plan.0),
        ))
        .body(body))
}
