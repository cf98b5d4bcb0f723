//! `PageError`, the console's error: a redirect to sign in, a 404 page
//! exactly where the API answers 404, or a page that says what went wrong.
//! It sits below `page` and `session` (both use it, it uses neither); its
//! answer, which renders the error page, is `page`'s
//! `impl ResponseError for PageError`.

use actix_web::http::StatusCode;
use actix_web::ResponseError;

use crate::domain::message::Lang;
use crate::http::problem::ApiError;

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
        // `{:#}`: an anyhow error with its whole chain of causes.
        tracing::error!(error = %format_args!("{cause:#}"), "console page failed");
        PageError::Shown {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            lang,
            title: crate::i18n::text(lang, "error.internal").to_string(),
            detail: String::new(),
        }
    }

    pub fn not_found(lang: Lang) -> PageError {
        PageError::Shown {
            status: StatusCode::NOT_FOUND,
            lang,
            title: crate::i18n::text(lang, "error.not_found").to_string(),
            detail: crate::i18n::text(lang, "error.not_found_detail").to_string(),
        }
    }

    /// The API's error as a page: the same status and the same words.
    pub fn from_api(lang: Lang, err: ApiError) -> PageError {
        let status = err.status_code();
        if status == StatusCode::NOT_FOUND {
            return PageError::not_found(lang);
        }
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            // Logged with its cause chain (the API error's Display), not
            // only the sentence the page shows.
            return PageError::internal(lang, &err);
        }
        PageError::Shown {
            status,
            lang,
            title: crate::i18n::text(lang, "error.title").to_string(),
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
