//! `GET /api/v1/assessments/{year}`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::Assessment;
use crate::auth::{AuthUser, Permission};
use crate::domain::Message;
use crate::http::download::{self, FileBytes, Format};
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{request_lang, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/assessments/{year}", web::get().to(get_assessment));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssessmentQuery {
    /// json (default), html, md, csv or xlsx
    pub format: Option<String>,
}

/// The annual assessment of a year: scores, grades and what lowered them.
#[utoipa::path(get, path = "/api/v1/assessments/{year}", tag = "bulletins",
    params(("year" = i32, Path, description = "2000–2100", minimum = 2000, maximum = 2100), AssessmentQuery),
    responses((status = 200, description = "the assessment in the `format` asked for", content(
        (Assessment = "application/json"), (String = "text/html"), (String = "text/markdown"),
        (String = "text/csv"), (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn get_assessment(
    state: web::Data<AppState>,
    auth: AuthUser,
    req: HttpRequest,
    year: web::Path<String>,
    query: QueryParams<AssessmentQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadRankings)?;
    let format = Format::parse(query.0.format.as_deref())?;
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| {
            ApiError::invalid_field(
                "year",
                Message::new(
                    "年份应为 2000 到 2100 之间的四位数",
                    "year must be a four-digit year between 2000 and 2100",
                ),
            )
        })?;
    let clock = state.clock();
    let settings = state.settings.clone();
    let assessment: Assessment = state
        .db(move |conn| super::assess(conn, &settings, &clock, year))
        .await?;
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(assessment));
    }
    let lang = request_lang(&req);
    let name = format!("{year}年度目标责任考核");
    let bytes = web::block(move || super::render::file_bytes(&assessment, format, lang))
        .await?
        .map_err(ApiError::internal)?;
    Ok(download::file(bytes, format, &name, format == Format::Html))
}
