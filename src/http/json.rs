//! `JsonBody<T>`: a JSON request body read within the size limit and parsed
//! strictly, so that a bad body gets a 4xx naming the field instead of a 500.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::domain::message::Message;
use crate::http::problem::ApiError;

/// The largest body accepted, set once in `startup`.
#[derive(Debug, Clone, Copy)]
pub struct JsonLimit(pub usize);

pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A JSON body that may be left out (`POST /calendar/feeds` with nothing):
/// no body at all is `None`; a body that is sent is read exactly as strictly
/// as `JsonBody` reads it (415, 413, 400, 422), never silently dropped.
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T> OptionalJsonBody<T> {
    pub fn into_inner(self) -> Option<T> {
        self.0
    }
}

/// What the headers say about a request body.
struct BodyHead {
    limit: usize,
    /// None without a Content-Type header.
    is_json: Option<bool>,
    declared_len: Option<usize>,
}

impl BodyHead {
    fn of(req: &HttpRequest) -> BodyHead {
        let limit = req
            .app_data::<web::Data<JsonLimit>>()
            .map_or(256 * 1024, |l| l.0);
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().ok().and_then(|v| v.split(';').next()))
            .map(|v| {
                v.is_some_and(|v| {
                    let v = v.trim().to_ascii_lowercase();
                    v == "application/json"
                        || (v.starts_with("application/") && v.ends_with("+json"))
                })
            });
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        BodyHead {
            limit,
            is_json,
            declared_len,
        }
    }

    /// Reads the whole body, refusing more than the limit.
    async fn read(&self, mut payload: Payload) -> Result<web::BytesMut, ApiError> {
        if self.declared_len.is_some_and(|n| n > self.limit) {
            return Err(ApiError::payload_too_large(self.limit));
        }
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::bad_request(
                    "unreadable_body",
                    Message::new("无法读取请求体", "the request body could not be read"),
                )
            })?;
            if body.len() + chunk.len() > self.limit {
                return Err(ApiError::payload_too_large(self.limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let head = BodyHead::of(req);
        let payload = payload.take();
        Box::pin(async move {
            if head.is_json != Some(true) {
                return Err(ApiError::unsupported_media_type());
            }
            let body = head.read(payload).await?;
            parse(&body).map(JsonBody)
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let head = BodyHead::of(req);
        let payload = payload.take();
        Box::pin(async move {
            if head.is_json == Some(false) {
                return Err(ApiError::unsupported_media_type());
            }
            let body = head.read(payload).await?;
            if body.is_empty() {
                return Ok(OptionalJsonBody(None));
            }
            if head.is_json.is_none() {
                return Err(ApiError::unsupported_media_type());
            }
            // `null` is as good as no body.
            parse::<Option<T>>(&body).map(OptionalJsonBody)
        })
    }
}

/// Parses a JSON document into `T`, naming the offending field on failure.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            let zh = if inner.is_eof() {
                "请求体不是有效的 JSON：内容不完整".to_string()
            } else {
                format!(
                    "请求体不是有效的 JSON（第 {} 行第 {} 列）",
                    inner.line(),
                    inner.column()
                )
            };
            return ApiError::bad_request(
                "malformed_json",
                Message::owned(zh, format!("the request body is not valid JSON: {inner}")),
            );
        }
        let (field, message) = super::describe_serde_error(&path, &inner.to_string());
        ApiError::invalid_field(field, message)
    })?;
    de.end().map_err(|_| {
        ApiError::bad_request(
            "malformed_json",
            Message::new(
                "JSON 文档之后还有多余内容",
                "there is trailing content after the JSON document",
            ),
        )
    })?;
    Ok(value)
}

/// For PATCH bodies: tells "field absent" (`None`) from "field set to null"
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    Option::<T>::deserialize(de).map(Some)
}
