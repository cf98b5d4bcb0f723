//! The HTTP edge of errors: every failure a client sees is
//! `application/problem+json` (RFC 9457) with a stable `code`, a message in
//! zh-CN (default) or English, and for validation failures the list of fields
//! at fault. Services say what went wrong in the domain's words
//! (`crate::error::Error`); `From<Error> for ApiError` below is the one place
//! that turns each of those into a status, a code and a problem document.
//! Extractors (bodies, tokens, queries) build `ApiError`s of their own for
//! what goes wrong before a service is reached.
//!
//! Anything unexpected (a database failure, a failed blocking task) is an
//! opaque 500 whose cause chain is logged with the request id, never shown; a
//! lost database connection is a retryable 503.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::message::{Lang, Message};
use crate::error::{AuthFailure, Conflict, Error, FieldError};

/// The problem code of a stale `version`, written by every path that
/// reports one.
const VERSION_CONFLICT: &str = "version_conflict";

/// Boxed so that `Result<T, ApiError>` stays small on the happy path.
#[derive(Debug)]
pub struct ApiError(Box<ErrorInner>);

#[derive(Debug)]
pub struct ErrorInner {
    status: StatusCode,
    code: &'static str,
    message: Message,
    fields: Vec<FieldError>,
    extra: Option<serde_json::Map<String, serde_json::Value>>,
    retry_after_secs: Option<u64>,
    source: Option<anyhow::Error>,
}

/// The problem document as it is sent (and documented in OpenAPI).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:duban:problem:<code>`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path in the request, e.g. `contact_emails[1]` or `per_page`.
    pub field: String,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: Message) -> Self {
        ApiError(Box::new(ErrorInner {
            status,
            code,
            message,
            fields: Vec::new(),
            extra: None,
            retry_after_secs: None,
            source: None,
        }))
    }

    pub fn validation(fields: Vec<FieldError>) -> Self {
        let mut err = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Message::new("提交的数据未通过校验", "the request has invalid fields"),
        );
        err.fields = fields;
        err
    }

    /// One field is wrong in a way found while reading the request.
    pub fn invalid_field(field: impl Into<String>, message: Message) -> Self {
        ApiError::validation(vec![FieldError {
            field: field.into(),
            message,
        }])
    }

    pub fn bad_request(code: &'static str, message: Message) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: Message) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            Message::new("您的角色无权执行此操作", "your role may not do this"),
        )
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Message::new("未找到该资源", "no such resource"),
        )
    }

    pub fn conflict(code: &'static str, message: Message) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// `conflict()` when `err` is a unique-constraint violation (the record is
    /// already there), an opaque 500 otherwise.
    pub fn unique_or(err: diesel::result::Error, conflict: impl FnOnce() -> ApiError) -> ApiError {
        if crate::db::is_unique_violation(&err) {
            conflict()
        } else {
            err.into()
        }
    }

    /// The client sent `version` `sent` but the record is at `current`: a
    /// version behind means someone else changed the record
    /// (`stale_version`); one ahead was never the record's version, so the
    /// message says that instead of blaming another editor. Both are 409
    /// `version_conflict` with `current_version`.
    pub fn stale_version_sent(sent: i64, current: i64) -> Self {
        if sent <= current {
            return ApiError::stale_version(current);
        }
        ApiError::conflict(
            VERSION_CONFLICT,
            Message::owned(
                format!("版本号 {sent} 不是当前版本（当前为 {current}），请刷新后重试"),
                format!(
                    "version {sent} is not the current version (it is {current}); reload the record and try again"
                ),
            ),
        )
        .with_extra("current_version", current.into())
    }

    /// Whether this is a `version_conflict`: the record changed since the
    /// client read it (the console then shows the current state).
    pub fn is_version_conflict(&self) -> bool {
        self.0.code == VERSION_CONFLICT
    }

    /// A `version` that is no longer the current one: someone else changed the record.
    pub fn stale_version(current: i64) -> Self {
        ApiError::conflict(
            VERSION_CONFLICT,
            Message::new(
                "该记录已被他人修改，请刷新后重试",
                "the record was changed by someone else; reload it and try again",
            ),
        )
        .with_extra("current_version", current.into())
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut err = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            Message::owned(
                format!("登录失败次数过多，请在 {retry_after_secs} 秒后重试"),
                format!("too many failed sign-ins; try again in {retry_after_secs} seconds"),
            ),
        );
        err.retry_after_secs = Some(retry_after_secs);
        err
    }

    /// Too many sign-ins (password hashes) at once: refused at once rather
    /// than queued, retryable in a second.
    pub fn busy() -> Self {
        let mut err = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            Message::new(
                "登录请求过多，请稍后重试",
                "too many sign-ins at once; try again in a moment",
            ),
        );
        err.retry_after_secs = Some(1);
        err
    }

    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            Message::owned(
                format!("请求体超过 {limit} 字节的上限"),
                format!("the request body is larger than the {limit}-byte limit"),
            ),
        )
    }

    pub fn unsupported_media_type() -> Self {
        ApiError::unsupported_media_type_of(Message::new(
            "请求体必须是 JSON（Content-Type: application/json）",
            "the request body must be JSON (Content-Type: application/json)",
        ))
    }

    /// The body is not of the media type the route reads; `message` says which it is.
    pub fn unsupported_media_type_of(message: Message) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    /// The database cannot be reached (no connection in time, or the one in
    /// use was lost): retryable, so 503 with `Retry-After`, not a 500.
    pub fn unavailable(source: anyhow::Error) -> Self {
        let mut err = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            Message::new(
                "服务暂时不可用，请稍后重试",
                "the service is unavailable; try again later",
            ),
        );
        err.retry_after_secs = Some(UNAVAILABLE_RETRY_AFTER_SECS);
        err.source = Some(source);
        err
    }

    /// An unexpected failure: logged with its cause chain, shown as an opaque
    /// 500. A lost database connection anywhere in the chain is no bug of the
    /// request but a passing outage: it becomes `unavailable` (503) instead,
    /// whichever way the error travelled (`?` on a diesel error, or wrapped
    /// in anyhow by a service).
    pub fn internal(source: anyhow::Error) -> Self {
        if crate::error::connection_lost(&source) {
            return ApiError::unavailable(source);
        }
        let mut err = ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            Message::new(
                "服务器内部错误，已记录",
                "internal error; it has been logged",
            ),
        );
        err.source = Some(source);
        err
    }

    /// A generic problem for a status produced outside duban's handlers
    /// (e.g. 405 from the router).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            404 => return ApiError::not_found(),
            405 => (
                "method_not_allowed",
                Message::new("不支持该请求方法", "method not allowed"),
            ),
            413 => (
                "payload_too_large",
                Message::new("请求体过大", "the request body is too large"),
            ),
            s if s >= 500 => (
                "internal_error",
                Message::new(
                    "服务器内部错误，已记录",
                    "internal error; it has been logged",
                ),
            ),
            _ => ("bad_request", Message::new("请求无效", "bad request")),
        };
        ApiError::new(status, code, message)
    }

    /// Names a field at fault in a problem that is not a validation failure
    /// (a query parameter that cannot be decoded).
    pub fn with_field(mut self, field: &str, message: Message) -> Self {
        self.fields.push(FieldError {
            field: field.to_string(),
            message,
        });
        self
    }

    /// Adds a member to the problem document (e.g. the task's current state).
    pub fn with_extra(mut self, key: &str, value: serde_json::Value) -> Self {
        self.extra
            .get_or_insert_with(Default::default)
            .insert(key.to_string(), value);
        self
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn message(&self) -> &Message {
        &self.message
    }

    pub fn fields(&self) -> &[FieldError] {
        &self.fields
    }

    /// The error as one line for a person at a terminal: the message, then
    /// each field at fault.
    pub fn sentence(&self, lang: Lang) -> String {
        let mut line = self.message.get(lang).to_string();
        for f in &self.fields {
            line.push_str(&format!("; {}: {}", f.field, f.message.get(lang)));
        }
        line
    }

    fn title(&self, lang: Lang) -> &'static str {
        let (zh, en) = match self.status.as_u16() {
            400 => ("请求无效", "Bad request"),
            401 => ("未登录或登录已失效", "Unauthorized"),
            403 => ("无权操作", "Forbidden"),
            404 => ("未找到", "Not found"),
            405 => ("请求方法不被允许", "Method not allowed"),
            409 => ("冲突", "Conflict"),
            413 => ("请求体过大", "Payload too large"),
            415 => ("不支持的媒体类型", "Unsupported media type"),
            422 => ("数据校验失败", "Validation failed"),
            429 => ("请求过于频繁", "Too many requests"),
            503 => ("服务不可用", "Service unavailable"),
            _ => ("服务器错误", "Server error"),
        };
        match lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The problem document in `lang`.
    pub fn problem(&self, lang: Lang) -> serde_json::Value {
        let problem = Problem {
            type_: format!("urn:duban:problem:{}", self.code),
            title: self.title(lang).to_string(),
            status: self.status.as_u16(),
            detail: self.message.get(lang).to_string(),
            code: self.code.to_string(),
            errors: self
                .fields
                .iter()
                .map(|f| ProblemField {
                    field: f.field.clone(),
                    message: f.message.get(lang).to_string(),
                })
                .collect(),
        };
        let mut value = serde_json::to_value(problem).unwrap_or_default();
        if let (Some(extra), Some(obj)) = (&self.extra, value.as_object_mut()) {
            for (k, v) in extra {
                obj.insert(k.clone(), v.clone());
            }
        }
        value
    }

    /// The HTTP response in `lang`.
    pub fn render(&self, lang: Lang) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        builder.insert_header((
            header::CONTENT_LANGUAGE,
            match lang {
                Lang::Zh => "zh-CN",
                Lang::En => "en",
            },
        ));
        if let Some(secs) = self.retry_after_secs {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        builder.body(self.problem(lang).to_string())
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorInner;
    fn deref(&self) -> &ErrorInner {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorInner {
        &mut self.0
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code, self.sentence(Lang::En))?;
        if let Some(source) = &self.source {
            write!(f, ": {source:#}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            tracing::error!(code = self.code, error = ?source, "request failed");
        }
        self.render(Lang::Zh)
    }
}

/// Seconds a client is told to wait after a 503.
const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        Error::from(err).into()
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Error::from(err).into()
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        ApiError::internal(anyhow::Error::new(err).context("blocking task failed"))
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Error::from(err).into()
    }
}

/// The one mapping from what went wrong to what a client is told: the
/// status, the stable code, and the members a client acts on
/// (`current_version`, `current_status`, `bulletin_id`, an import's `rows`
/// read and the `row` at fault).
impl From<Error> for ApiError {
    fn from(err: Error) -> ApiError {
        let message = err.message();
        match err {
            Error::NotFound => ApiError::not_found(),
            Error::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message),
            Error::OnlyLeadUnit => ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
                .with_extra("reason", "only the lead unit may do this".into()),
            Error::Invalid(fields) => ApiError::validation(fields),
            Error::InvalidTable { rows, cells } => {
                ApiError::validation(cells).with_extra("rows", rows.into())
            }
            Error::AtRow { row, error } => ApiError::from(*error).with_extra("row", row.into()),
            // The inner answer (409 stale version, 409 invalid transition,
            // 404, 422), said of the task that stopped the bulk change.
            Error::AtTask {
                index,
                task_id,
                code,
                error,
            } => {
                let mut api = ApiError::from(*error)
                    .with_extra("index", index.into())
                    .with_extra("task_id", task_id.0.into())
                    .with_extra("task_code", code.into());
                api.message = message;
                api
            }
            Error::StaleVersion { current, .. } => {
                ApiError::new(StatusCode::CONFLICT, VERSION_CONFLICT, message)
                    .with_extra("current_version", current.into())
            }
            Error::InvalidTransition { current, .. } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_transition", message)
                    .with_extra("current_status", current.as_str().into())
            }
            Error::Conflict(conflict) => {
                let (code, extra) = conflict_code(&conflict);
                let mut api = ApiError::new(StatusCode::CONFLICT, code, message);
                for (key, value) in extra {
                    api = api.with_extra(key, value);
                }
                api
            }
            Error::Unauthorized(AuthFailure::InvalidCredentials) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message)
            }
            Error::Unauthorized(AuthFailure::TokenRevoked) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "token_revoked", message)
            }
            Error::TooManyAttempts { retry_after_secs } => {
                ApiError::too_many_requests(retry_after_secs)
            }
            Error::Unavailable(cause) => ApiError::unavailable(cause),
            Error::Internal(cause) => ApiError::internal(cause),
        }
    }
}

/// A conflict's stable code and the members that say what is there.
fn conflict_code(conflict: &Conflict) -> (&'static str, Vec<(&'static str, serde_json::Value)>) {
    let status = |s: &str| vec![("current_status", serde_json::Value::from(s))];
    match conflict {
        Conflict::UnitCodeTaken => ("unit_code_taken", vec![]),
        Conflict::UsernameTaken => ("username_taken", vec![]),
        Conflict::TaskCodeTaken => ("task_code_taken", vec![]),
        Conflict::IndicatorNumberTaken => ("indicator_number_taken", vec![]),
        Conflict::UnitInUse => ("unit_in_use", vec![]),
        Conflict::LastAdmin => ("last_admin", vec![]),
        Conflict::TaskNotOpen { status: s, .. } => ("task_not_open", status(s.as_str())),
        Conflict::NoDueDate => ("no_due_date", vec![]),
        Conflict::ExtensionTooLate { .. } => ("extension_too_late", vec![]),
        Conflict::ExtensionPending => ("extension_pending", vec![]),
        Conflict::InstructionReplied => ("instruction_replied", vec![]),
        Conflict::OrderReplied => ("order_replied", vec![]),
        Conflict::ExtensionDecided { status: s } => ("extension_decided", status(s.as_str())),
        Conflict::RecordDecided { status: s } => ("record_decided", status(s.as_str())),
        Conflict::ValueNotSubmitted { status: s } => ("value_not_submitted", status(s.as_str())),
        Conflict::ValueVerified => ("value_verified", vec![]),
        Conflict::BulletinExists { id, status: s } => (
            "bulletin_exists",
            vec![
                ("bulletin_id", serde_json::Value::from(id.0)),
                ("current_status", serde_json::Value::from(s.as_str())),
            ],
        ),
        Conflict::BulletinPublished => ("bulletin_published", vec![]),
        Conflict::NoticeNotDead { status: s } => ("notice_not_dead", status(s.as_str())),
        Conflict::EvidenceOnCancelled => ("task_not_open", vec![]),
        Conflict::EvidenceFixed { status: s } => ("evidence_fixed", status(s.as_str())),
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error as DieselError};

    #[test]
    fn a_lost_connection_is_unavailable_and_retryable() {
        let closed = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection unexpectedly".to_string()),
        );
        let terminated = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("terminating connection due to administrator command".to_string()),
        );
        for err in [closed, terminated, DieselError::BrokenTransactionManager] {
            let api = ApiError::from(err);
            assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(api.code(), "unavailable");
            let res = api.render(Lang::Zh);
            assert_eq!(
                res.headers().get(header::RETRY_AFTER).map(|v| v.as_bytes()),
                Some(&b"5"[..])
            );
        }
        // Also when a service wrapped the database error in anyhow.
        let wrapped = anyhow::Error::new(DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("connection lost".to_string()),
        ))
        .context("assessing the year");
        assert_eq!(ApiError::internal(wrapped).code(), "unavailable");
    }

    #[test]
    fn other_database_errors_stay_opaque_500s() {
        let api = ApiError::from(DieselError::NotFound);
        assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
        let syntax = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("syntax error at or near \"SELEC\"".to_string()),
        );
        assert_eq!(ApiError::from(syntax).code(), "internal_error");
    }

    #[test]
    fn a_version_ahead_is_told_apart_from_a_stale_one() {
        let ahead = ApiError::stale_version_sent(9, 3).problem(Lang::Zh);
        assert_eq!(ahead["status"], 409);
        assert_eq!(ahead["code"], "version_conflict");
        assert_eq!(ahead["current_version"], 3);
        assert_eq!(
            ahead["detail"],
            "版本号 9 不是当前版本（当前为 3），请刷新后重试"
        );
        let behind = ApiError::stale_version_sent(2, 3).problem(Lang::En);
        assert_eq!(behind["current_version"], 3);
        assert_eq!(
            behind["detail"],
            ApiError::stale_version(3).problem(Lang::En)["detail"]
        );
    }
}
