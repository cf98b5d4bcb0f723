//! HTTP plumbing shared by every area: request-body and query extractors that
//! answer bad input with problem+json naming the field, pagination, and the
//! middleware that makes every error a localised problem document.

pub mod client_address;
pub mod download;
pub mod instant;
pub mod json;
pub mod middleware;
pub mod multipart;
pub mod page;
pub mod problem;
pub mod query;
pub mod request_line;

pub use json::{JsonBody, OptionalJsonBody};
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
    let message = describe_value_error(&message)
        .unwrap_or_else(|| Message::owned("取值类型或格式不正确".to_string(), message));
    (field, message)
}

/// serde's (and `FromStr`'s) words for a value of the wrong type or form, said
/// again in Chinese and plain English, naming the type that was expected.
/// None for a message of another shape.
fn describe_value_error(message: &str) -> Option<Message> {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ")?;
        let (zh, en) = expected_type(expected)?;
        let (got_zh, got_en) = unexpected(got);
        return Some(Message::owned(
            format!("类型不正确：应为{zh}，收到{got_zh}"),
            format!("wrong type: expected {en}, got {got_en}"),
        ));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ")?;
        let (got_zh, got_en) = unexpected(got);
        return Some(match expected_type(expected) {
            Some((zh, en)) => Message::owned(
                format!("取值不正确：应为{zh}，收到{got_zh}"),
                format!("invalid value: expected {en}, got {got_en}"),
            ),
            None => Message::owned(
                format!("取值不正确：{got_zh}"),
                format!("invalid value: {got_en}"),
            ),
        });
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, rest) = rest.split_once('`')?;
        let allowed: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
        return Some(Message::owned(
            format!("取值 “{value}” 无效，应为 {} 之一", allowed.join("、")),
            format!(
                "“{value}” is not allowed; use one of {}",
                allowed.join(", ")
            ),
        ));
    }
    if message.starts_with("duplicate field `") {
        return Some(Message::new(
            "字段重复出现",
            "the field appears more than once",
        ));
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        // serde reads a struct from an array too, and then complains of
        // the array's length: what was wrong is that it is an array.
        if rest.contains(", expected struct ") {
            return Some(Message::new(
                "类型不正确：应为对象，收到数组",
                "wrong type: expected an object, got an array",
            ));
        }
        return Some(Message::new("元素个数不正确", "wrong number of elements"));
    }
    // Query parameters are parsed with `FromStr`, whose errors say what
    // could not be read rather than what was expected.
    let (zh, en) = match message {
        "invalid digit found in string" | "cannot parse integer from empty string" => {
            ("整数", "an integer")
        }
        "number too large to fit in target type" | "number too small to fit in target type" => {
            return Some(Message::new("整数超出范围", "the integer is out of range"));
        }
        "provided string was not `true` or `false`" => ("布尔值（true 或 false）", "true or false"),
        "invalid float literal" | "cannot parse float from empty string" => ("数字", "a number"),
        _ => return None,
    };
    Some(Message::owned(
        format!("格式不正确：应为{zh}"),
        format!("wrong format: expected {en}"),
    ))
}

/// serde's name of an expected type, in Chinese and plain English.
fn expected_type(expected: &str) -> Option<(&'static str, &'static str)> {
    Some(match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "an integer" | "integer" => {
            ("整数", "an integer")
        }
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => ("非负整数", "a non-negative integer"),
        "f32" | "f64" | "a number" | "number" => ("数字", "a number"),
        "a string" | "a borrowed string" | "string" => ("字符串", "a string"),
        "a formatted date string" => ("日期（YYYY-MM-DD）", "a date (YYYY-MM-DD)"),
        "a formatted date and time string"
        | "a formatted date and time string or a unix timestamp" => {
            ("日期时间（RFC 3339）", "a date and time (RFC 3339)")
        }
        "a boolean" | "bool" => ("布尔值（true 或 false）", "a boolean (true or false)"),
        "a character" | "char" => ("单个字符", "a single character"),
        "a sequence" | "sequence" | "an array" => ("数组", "an array"),
        "a map" | "map" => ("对象", "an object"),
        e if e.starts_with("struct ") => ("对象", "an object"),
        _ => return None,
    })
}

/// serde's description of the value received, in Chinese and plain English.
fn unexpected(got: &str) -> (String, String) {
    let value = |prefix: &str| {
        got.strip_prefix(prefix)
            .map(|v| v.trim_matches('`').to_string())
    };
    if let Some(v) = value("string ") {
        return (format!("字符串 {v}"), format!("the string {v}"));
    }
    if let Some(v) = value("integer ") {
        return (format!("整数 {v}"), format!("the integer {v}"));
    }
    if let Some(v) = value("floating point ") {
        return (format!("小数 {v}"), format!("the number {v}"));
    }
    if let Some(v) = value("boolean ") {
        return (format!("布尔值 {v}"), format!("the boolean {v}"));
    }
    let (zh, en) = match got {
        "null" | "unit value" => ("空值 null", "null"),
        "sequence" => ("数组", "an array"),
        "map" => ("对象", "an object"),
        other => return (other.to_string(), other.to_string()),
    };
    (zh.to_string(), en.to_string())
}

/// Paths that belong to the API and its tools, never to the console: their
/// errors are problem documents, not pages (the console is everything else).
pub fn is_api_path(path: &str) -> bool {
    ["/api/", "/docs", "/healthz", "/readyz", "/metrics"]
        .iter()
        .any(|p| path == p.trim_end_matches('/') || path.starts_with(p))
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
        assert_eq!(
            msg.en,
            "wrong type: expected an integer, got the string \"x\""
        );
    }

    /// The zh-CN text of a value error, for `message`.
    fn zh(message: &str) -> String {
        describe_serde_error("f", message).1.zh.to_string()
    }

    #[test]
    fn wrong_types_are_named_in_chinese() {
        assert_eq!(
            zh("invalid type: string \"东城镇\", expected i64"),
            "类型不正确：应为整数，收到字符串 \"东城镇\""
        );
        assert_eq!(
            zh("invalid type: integer `5`, expected a string"),
            "类型不正确：应为字符串，收到整数 5"
        );
        assert_eq!(
            zh("invalid type: null, expected a boolean"),
            "类型不正确：应为布尔值（true 或 false），收到空值 null"
        );
        assert_eq!(
            zh("invalid type: map, expected a sequence"),
            "类型不正确：应为数组，收到对象"
        );
        assert_eq!(
            zh("invalid type: sequence, expected struct CreateTask"),
            "类型不正确：应为对象，收到数组"
        );
        assert_eq!(
            zh("invalid type: string \"x\", expected a formatted date string"),
            "类型不正确：应为日期（YYYY-MM-DD），收到字符串 \"x\""
        );
        assert_eq!(
            zh("invalid value: integer `-1`, expected u32"),
            "取值不正确：应为非负整数，收到整数 -1"
        );
        assert_eq!(
            zh("unknown variant `x`, expected one of `a`, `b`"),
            "取值 “x” 无效，应为 a、b 之一"
        );
        assert_eq!(
            zh("invalid length 2, expected struct CreateTask with 13 elements"),
            "类型不正确：应为对象，收到数组"
        );
        assert_eq!(zh("invalid digit found in string"), "格式不正确：应为整数");
        assert_eq!(
            zh("provided string was not `true` or `false`"),
            "格式不正确：应为布尔值（true 或 false）"
        );
    }

    #[test]
    fn no_english_leaks_into_chinese() {
        for message in [
            "invalid type: string \"x\", expected i64",
            "invalid value: integer `300`, expected u8",
            "invalid length 3, expected a tuple of size 2",
            "duplicate field `title`",
            "number too large to fit in target type",
            "something serde never said",
        ] {
            let text = zh(message);
            assert!(
                !text.contains("expected") && !text.contains("invalid"),
                "{message} → {text}"
            );
        }
        // English keeps an English sentence.
        let (_, msg) = describe_serde_error("f", "something serde never said");
        assert_eq!(msg.en, "something serde never said");
    }
}
