//! What every page shares: the language (a remembered choice, else the
//! browser's), rendering a template into a response with the common context,
//! and `PageError`, the console's error: a redirect to sign in, a 404 page
//! exactly where the API answers 404, or a page that says what went wrong.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

pub use crate::domain::message::Lang;
use crate::http::problem::ApiError;

use super::session::Person;

/// The cookie that remembers the person's language choice.
pub const LANG_COOKIE: &str = "duban_lang";

/// The page language: the remembered choice, else the browser's first
/// language, zh-CN by default.
pub fn lang_of(req: &HttpRequest) -> Lang {
    match req.cookie(LANG_COOKIE).as_ref().map(|c| c.value()) {
        Some("en") => Lang::En,
        Some("zh-CN") => Lang::Zh,
        _ => crate::http::request_lang(req),
    }
}

/// The context every page template gets besides its own.
#[derive(Serialize)]
struct Common<'a, T: Serialize> {
    lang: &'static str,
    /// `None` on the sign-in page.
    me: Option<Me<'a>>,
    #[serde(flatten)]
    page: T,
}

#[derive(Serialize)]
struct Me<'a> {
    id: i64,
    name: &'a str,
    username: &'a str,
    role: &'static str,
    csrf: &'a str,
    /// The office's pages (verify, return, approve) are shown.
    office: bool,
}

/// Renders `template` for `person` (or for nobody) with `status`.
pub fn render<T: Serialize>(
    status: StatusCode,
    template: &str,
    lang: Lang,
    person: Option<&Person>,
    page: T,
) -> Result<HttpResponse, PageError> {
    let ctx = Common {
        lang: super::i18n::tag(lang),
        me: person.map(|p| Me {
            id: p.auth.id.0,
            name: &p.display_name,
            username: &p.username,
            role: p.auth.role.as_str(),
            csrf: &p.csrf,
            office: matches!(
                p.auth.role,
                crate::domain::Role::Office | crate::domain::Role::Admin
            ),
        }),
        page,
    };
    let html = super::templates::render(template, ctx).map_err(|e| PageError::internal(lang, e))?;
    Ok(HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_LANGUAGE, super::i18n::tag(lang)))
        .body(html))
}

/// An instant as the office reads it: local time of the configured zone.
pub fn local_time(state: &crate::state::AppState, at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&state.settings.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// 303 See Other to `to`: the answer to every form post that worked.
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// A `next` target from the query or a form is followed only when it is a
/// path on this site (never `//evil.example` or `https://…`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}

/// The console's errors.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): to the sign-in page, then back.
    SignIn { next: String },
    /// Somewhere else first (the password change an administrator requires).
    Redirect(String),
    /// A page that states the problem, with its status.
    Shown {
        status: StatusCode,
        lang: Lang,
        title: String,
        detail: String,
    },
}

impl PageError {
    pub fn internal(lang: Lang, cause: impl std::fmt::Display) -> PageError {
        tracing::error!(error = %cause, "console page failed");
        PageError::Shown {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            title: super::i18n::text(lang, "error.internal").to_string(),
            detail: String::new(),
        }
    }

    pub fn not_found(lang: Lang) -> PageError {
        PageError::Shown {
            status: StatusCode::NOT_FOUND,
            lang,
            title: super::i18n::text(lang, "error.not_found").to_string(),
            detail: super::i18n::text(lang, "error.not_found_detail").to_string(),
        }
    }

    /// The API's error as a page: the same status and the same words.
    pub fn from_api(lang: Lang, err: ApiError) -> PageError {
        let status = err.status_code();
        if status == StatusCode::NOT_FOUND {
            return PageError::not_found(lang);
        }
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            return PageError::internal(lang, err.sentence(Lang::En));
        }
        PageError::Shown {
            status,
            lang,
            title: super::i18n::text(lang, "error.title").to_string(),
            detail: err.sentence(lang),
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::SignIn { .. } => write!(f, "sign in first"),
            PageError::Redirect(to) => write!(f, "go to {to}"),
            PageError::Shown { status, detail, .. } => write!(f, "{status}: {detail}"),
        }
    }
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    title: &'a str,
    detail: &'a str,
    status: u16,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::SignIn { .. } | PageError::Redirect(_) => StatusCode::SEE_OTHER,
            PageError::Shown { status, .. } => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::SignIn { next } => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("next", next)
                    .finish();
                see_other(&format!("/login?{query}"))
            }
            PageError::Redirect(to) => see_other(to),
            PageError::Shown {
                status,
                lang,
                title,
                detail,
            } => {
                let page = ErrorPage {
                    title,
                    detail,
                    status: status.as_u16(),
                };
                render(*status, "error.html", *lang, None, page).unwrap_or_else(|_| {
                    HttpResponse::build(*status)
                        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
                        .body(title.clone())
                })
            }
        }
    }
}

/// `.page(lang)?`: an API or service result as a page result, the error
/// shown in the page's language.
pub trait OrPage<T> {
    fn page(self, lang: Lang) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, ApiError> {
    fn page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError::from_api(lang, e))
    }
}
