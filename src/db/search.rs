//! Text search in lists (`q`): the parameter read and bounded, and the LIKE
//! pattern that `db::lower(column).like(…)` matches case-insensitively on both
//! backends.

use crate::domain::values::BoundedText;
use crate::domain::Message;

/// The `q` search parameter: absent or blank means no search.
pub fn search_text(q: Option<&str>) -> Result<Option<String>, Message> {
    q.filter(|t| !t.trim().is_empty())
        .map(|t| BoundedText::parse(t, 100).map(BoundedText::into_inner))
        .transpose()
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
