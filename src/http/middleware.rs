//! Response middleware: every error becomes a problem document in the language
//! the client asked for, and every response carries its request id.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use tracing_actix_web::RequestId;

use crate::domain::message::Lang;
use crate::http::problem::ApiError;

/// Re-renders duban's errors in English when asked, and turns errors produced
/// outside the handlers (405 from the router, …) into problem documents too.
pub async fn problem_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let lang = super::request_lang(req.request());
    // The console answers its own errors with pages.
    let api = super::is_api_path(req.path());
    let res = next.call(req).await?;
    if !api {
        return Ok(res.map_into_left_body());
    }
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_into_left_body());
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let api_error = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>());
    let replacement = match api_error {
        Some(err) if lang == Lang::En => Some(err.render(lang)),
        Some(_) => None,
        None if !is_problem => Some(ApiError::from_status(status).render(lang)),
        None => None,
    };
    Ok(match replacement {
        Some(new) => res.into_response(new).map_into_right_body(),
        None => res.map_into_left_body(),
    })
}

/// Copies the request id that `TracingLogger` gave the request into an
/// `x-request-id` response header, so a user's report can be found in the logs.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}
