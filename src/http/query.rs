//! `QueryParams<T>`: query-string parameters parsed strictly (unknown
//! parameters rejected), with the offending parameter named on failure.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::domain::Message;
use crate::http::problem::ApiError;

pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(QueryParams))
    }
}

/// Parses a query string into `T`: 400 `bad_query` naming a parameter whose
/// name or value is not UTF-8 once percent-decoded (rather than reading it
/// with replacement characters), 422 naming a parameter of the wrong form or
/// holding a NUL character (no text has one, and PostgreSQL refuses it in a
/// query: a filter compared with it would fail as a 500).
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    check_text(query)?;
    let parsed = form_urlencoded::parse(query.as_bytes());
    let de = serde_urlencoded::Deserializer::new(parsed);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let (field, message) = super::describe_serde_error(&path, &err.into_inner().to_string());
        ApiError::invalid_field(field, message)
    })
}

fn check_text(query: &str) -> Result<(), ApiError> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = |text: &str| {
            let plus_as_space = text.replace('+', " ");
            let bytes: Vec<u8> = percent_encoding::percent_decode_str(&plus_as_space).collect();
            String::from_utf8(bytes).map_err(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        };
        let name = match decoded(name) {
            Ok(name) => name,
            Err(lossy) => return Err(not_utf8(&lossy)),
        };
        match decoded(value) {
            Err(_) => return Err(not_utf8(&name)),
            Ok(value) if value.contains('\0') => {
                return Err(ApiError::invalid_field(
                    name,
                    Message::new("不能包含空字符（NUL）", "must not contain a NUL character"),
                ))
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn not_utf8(name: &str) -> ApiError {
    ApiError::bad_request(
        "bad_query",
        Message::owned(
            format!("查询参数 {name} 不是有效的 UTF-8 编码"),
            format!("the query parameter `{name}` is not valid UTF-8"),
        ),
    )
    .with_field(
        name,
        Message::new(
            "应为 UTF-8 文本（可按百分号编码）",
            "must be UTF-8 text (percent-encoded if need be)",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        q: Option<String>,
        page: Option<i64>,
    }

    #[test]
    fn utf8_text_is_read_and_other_bytes_are_refused_by_name() {
        let f: Filter = parse("q=%E5%8E%95%E6%89%80+A&page=2").expect("UTF-8 reads");
        assert_eq!(f.q.as_deref(), Some("厕所 A"));
        assert_eq!(f.page, Some(2));
        let err = parse::<Filter>("page=1&q=%FF%FE").expect_err("not UTF-8");
        assert_eq!(err.code(), "bad_query");
        let problem = err.problem(crate::domain::message::Lang::Zh);
        assert_eq!(problem["status"], 400);
        assert_eq!(problem["errors"][0]["field"], "q");
        assert!(problem["detail"].as_str().unwrap_or_default().contains('q'));
    }

    #[test]
    fn a_nul_character_is_refused_by_name() {
        let err = parse::<Filter>("q=a%00b").expect_err("NUL");
        let problem = err.problem(crate::domain::message::Lang::Zh);
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["errors"][0]["field"], "q");
    }

    #[test]
    fn a_value_of_the_wrong_form_names_the_parameter() {
        let err = parse::<Filter>("page=abc").expect_err("not a number");
        let problem = err.problem(crate::domain::message::Lang::Zh);
        assert_eq!(problem["status"], 422);
        assert_eq!(problem["errors"][0]["field"], "page");
        assert_eq!(problem["errors"][0]["message"], "格式不正确：应为整数");
    }
}
