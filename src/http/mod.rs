//! HTTP plumbing shared by every area: request-body and query extractors that
//! answer bad input with problem+json naming the field, pagination, and the
//! middleware that makes every error a localised problem document.

pub mod client_address;
pub mod download;
pub mod json;
pub mod middleware;
pub mod multipart;
pub mod page;
pub mod query;

pub use json::JsonBody;
pub use page::{Page, Paging};
pub use query::QueryParams;

use crate::domain::message::{Lang, Message};

/// Turns a serde error message into a field error. serde reports unknown and
/// missing fields at the parent's path with the name in the message; this puts
/// the name into the field path instead, and drops the "at line … column …" tail.
pub(crate) fn describe_serde_error(path: &str, message: &str) -> (String, Message) {
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(head, _)| head)
        .to_string();
    let join = |name: &str| {
        if path.is_empty() || path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    let quoted = |prefix: &str| {
        message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string)
    };
    if let Some(name) = quoted("unknown field `") {
        // serde_path_to_error already ends the path with the unknown name.
        let field = if path.rsplit('.').next() == Some(name.as_str()) {
            path.to_string()
        } else {
            join(&name)
        };
        return (field, Message::new("不允许的字段", "unknown field"));
    }
    if let Some(name) = quoted("missing field `") {
        return (join(&name), Message::new("缺少必填字段", "is required"));
    }
    let field = if path.is_empty() {
        ".".to_string()
    } else {
        path.to_string()
    };
    (
        field,
        Message::owned(format!("取值类型或格式不正确（{message}）"), message),
    )
}

/// The language a request asks for.
pub fn request_lang(req: &actix_web::HttpRequest) -> Lang {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let (field, msg) = describe_serde_error(
            "role_x",
            "unknown field `role_x`, expected one of `a` at line 1 column 9",
        );
        assert_eq!(field, "role_x");
        let (field, _) = describe_serde_error(".", "unknown field `x`, expected `a`");
        assert_eq!(field, "x");
        assert_eq!(msg.en, "unknown field");
        let (field, _) =
            describe_serde_error("contact", "missing field `email` at line 1 column 30");
        assert_eq!(field, "contact.email");
        let (field, msg) = describe_serde_error(
            "per_page",
            "invalid type: string \"x\", expected i64 at line 1 column 3",
        );
        assert_eq!(field, "per_page");
        assert_eq!(msg.en, "invalid type: string \"x\", expected i64");
    }
}
