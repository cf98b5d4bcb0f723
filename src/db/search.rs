//! Text search in lists (`q`): the parameter read and bounded, and the LIKE
//! pattern that `db::lower(column).like(…)` matches case-insensitively on both
//! backends.

use crate::domain::values::BoundedText;
use crate::error::Validator;

/// The `q` search parameter: absent or blank means no search.
pub fn search_text(v: &mut Validator, q: Option<&str>) -> Option<String> {
    q.filter(|t| !t.trim().is_empty())
        .and_then(|t| v.check("q", BoundedText::parse(t, 100)))
        .map(BoundedText::into_inner)
}

/// `%text%` in lower case for `db::lower(column).like(…)`, with LIKE's own
/// wildcards escaped.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
