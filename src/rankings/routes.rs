//! `GET /api/v1/rankings`: the live ranking of any period, a closed one's
//! kept between requests (`super::cache`), with its most overdue tasks;
//! `GET /api/v1/rankings/overdue`: all of its overdue tasks, page by page.

use actix_web::http::header::{self, AcceptEncoding, Encoding, Header};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::cache::RankingCache;
use super::{OverdueTask, Ranking};
use crate::auth::{AuthUser, Permission};
use crate::domain::period::Period;
use crate::http::problem::{ApiError, ApiResult, Problem};
use crate::http::{Page, Paging, QueryParams};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/rankings", web::get().to(get_ranking))
        .route("/rankings/overdue", web::get().to(get_overdue));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// 2026-11, 2026-Q4, 2026 or 2026-01-01..2026-03-31
    pub period: String,
}

/// The ranking of a period as the tasks stand now, with rank changes
/// against the last bulletin published before it, and its 100 most overdue
/// tasks (`overdue_total` counts them all; `GET /rankings/overdue` pages
/// through them). A closed period's ranking is kept between requests until
/// anything it reads changes (header `X-Ranking-Source`: `cache` or
/// `computed`). Sent gzipped to a client that accepts it, compressed once
/// for all the readers of a kept ranking.
#[utoipa::path(get, path = "/api/v1/rankings", tag = "bulletins", params(RankingQuery),
    responses((status = 200, body = Ranking, headers(("X-Ranking-Source" = String,
            description = "cache: kept from an earlier request; computed: for this one"))),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn get_ranking(
    req: HttpRequest,
    state: web::Data<AppState>,
    kept: web::Data<RankingCache>,
    auth: AuthUser,
    query: QueryParams<RankingQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadRankings)?;
    let period =
        Period::parse(&query.0.period).map_err(|m| ApiError::invalid_field("period", m))?;
    let clock = state.clock();
    let policy = state.settings.policy();
    let gzip = accepts_gzip(&req);
    let (json, gzipped, source) = state
        .db(move |conn| {
            let (answer, source) = super::answer(conn, &kept, period, &policy, &clock)?;
            // Compressed here, on the blocking pool, not on the server's thread.
            let gzipped = if gzip { answer.gzipped() } else { None };
            Ok((answer.json, gzipped, source))
        })
        .await?;
    let mut res = HttpResponse::Ok();
    res.content_type("application/json")
        .insert_header((SOURCE_HEADER, source.as_str()))
        .insert_header((header::VARY, "Accept-Encoding"));
    let body = match gzipped {
        Some(bytes) => {
            res.insert_header((header::CONTENT_ENCODING, "gzip"));
            bytes
        }
        None => json,
    };
    let len = u64::try_from(body.len()).unwrap_or(u64::MAX);
    Ok(res.no_chunking(len).streaming(slices(body)))
}

/// Whether the request's Accept-Encoding prefers gzip to the plain body
/// (no header: the plain body).
fn accepts_gzip(req: &HttpRequest) -> bool {
    AcceptEncoding::parse(req).is_ok_and(|accept| {
        accept.negotiate([Encoding::gzip(), Encoding::identity()].iter()) == Some(Encoding::gzip())
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OverdueQuery {
    /// 2026-11, 2026-Q4, 2026 or 2026-01-01..2026-03-31
    pub period: String,
    /// From 1.
    pub page: Option<i64>,
    /// 1 to 200; 50 when not given.
    pub per_page: Option<i64>,
}

/// The tasks and indicator reports overdue in a period's ranking, most days
/// overdue first, page by page: the same list, from the same kept ranking,
/// as the one `GET /rankings` starts (header `X-Ranking-Source`).
#[utoipa::path(get, path = "/api/v1/rankings/overdue", tag = "bulletins", params(OverdueQuery),
    responses((status = 200, body = Page<OverdueTask>, headers(("X-Ranking-Source" = String,
            description = "cache: kept from an earlier request; computed: for this one"))),
        (status = 422, body = Problem)), security(("bearer" = [])))]
pub async fn get_overdue(
    state: web::Data<AppState>,
    kept: web::Data<RankingCache>,
    auth: AuthUser,
    query: QueryParams<OverdueQuery>,
) -> ApiResult<HttpResponse> {
    auth.require(Permission::ReadRankings)?;
    let query = query.0;
    let period = Period::parse(&query.period).map_err(|m| ApiError::invalid_field("period", m))?;
    let paging = Paging::parse(query.page, query.per_page)?;
    let clock = state.clock();
    let policy = state.settings.policy();
    let from = usize::try_from(paging.offset()).unwrap_or(usize::MAX);
    let per_page = usize::try_from(paging.per_page).unwrap_or(0);
    let (items, total, source) = state
        .db(move |conn| {
            let (answer, source) = super::answer(conn, &kept, period, &policy, &clock)?;
            let all = &answer.overdue;
            let page = &all[from.min(all.len())..from.saturating_add(per_page).min(all.len())];
            let items: Vec<OverdueTask> = super::overdue_words(conn, page)?;
            Ok((items, all.len(), source))
        })
        .await?;
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    Ok(HttpResponse::Ok()
        .insert_header((SOURCE_HEADER, source.as_str()))
        .json(Page::new(items, total, paging)))
}

/// How much of a kept ranking goes to the socket at a time.
const SLICE: usize = 64 * 1024;

/// The body as slices of the one kept buffer (no copies): actix writes a
/// streamed body as the socket drains, where a body handed over whole is
/// first copied into each connection's write buffer. When a ranking listed
/// every overdue task (24.5 MB at a million tasks), 64 readers at once held
/// a copy each (1.9 GB of RSS in `bench/run`); a province's ranking is
/// still over a megabyte plain.
fn slices(
    json: actix_web::web::Bytes,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, std::convert::Infallible>> {
    let starts = (0..json.len()).step_by(SLICE);
    futures_util::stream::iter(
        starts.map(move |at| Ok(json.slice(at..(at + SLICE).min(json.len())))),
    )
}

/// Says whether the answer was kept or computed.
pub const SOURCE_HEADER: &str = "X-Ranking-Source";
