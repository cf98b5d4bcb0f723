//! Cross-site request forgery: every state-changing form carries a token the
//! page was rendered with, compared in constant time with the session's (or,
//! on the sign-in form, with a cookie set when the form was shown).

use actix_web::http::StatusCode;
use subtle::ConstantTimeEq;

use super::error::PageError;
use crate::domain::message::Lang;

/// Whether the token a form sent is the expected one.
pub fn matches(sent: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(sent.as_bytes().ct_eq(expected.as_bytes()))
}

/// The answer to a form whose token is missing or not this session's: a 403
/// page, nothing changed.
pub fn refused(lang: Lang) -> PageError {
    PageError::Shown {
        status: StatusCode::FORBIDDEN,
        lang,
        title: crate::i18n::text(lang, "error.title").to_string(),
        detail: crate::i18n::text(lang, "error.csrf").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn only_the_same_token_matches() {
        assert!(matches("abc123", "abc123"));
        assert!(!matches("abc124", "abc123"));
        assert!(!matches("abc12", "abc123"));
        assert!(!matches("", ""));
    }
}
