//! What every page shares: the language (a remembered choice, else the
//! browser's), rendering a template into a response with the common context,
//! and how a `PageError` (`web::error`) answers: a redirect to sign in, or
//! the error page rendered here.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use super::error::{OrPage, PageError};
pub use crate::domain::message::Lang;
pub use crate::i18n::{lang_of, LANG_COOKIE};

use super::session::Person;

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
        lang: crate::i18n::tag(lang),
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
        .insert_header((header::CONTENT_LANGUAGE, crate::i18n::tag(lang)))
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

/// A form field as a filter: trimmed, and `None` when left empty.
pub fn filled(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// An option of a select: its value and what it shows.
#[derive(Serialize)]
pub struct Choice {
    pub id: i64,
    pub name: String,
}

/// The link to page `page` of the list at `path` with the same filters
/// (the empty ones left out).
pub fn page_link(path: &str, filters: &[(&str, &String)], page: i64) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    q.append_pair("page", &page.to_string());
    format!("{path}?{}", q.finish())
}
