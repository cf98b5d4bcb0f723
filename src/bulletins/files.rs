//! A bulletin as files: the printable page (`render`), the Markdown
//! (`markdown`) and the spreadsheets (`sheets`), by download format, and
//! the files' name. The one place that picks a renderer, so the renderers
//! share their tables without knowing one another.

use super::{BulletinRow, Snapshot};
use crate::domain::message::Lang;
use crate::http::download::Format;

/// The bulletin in a file format (JSON is served by the route itself).
pub fn file_bytes(
    row: &BulletinRow,
    s: &Snapshot,
    format: Format,
    lang: Lang,
) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => serde_json::to_vec_pretty(s)?,
        Format::Html => super::render::html(row, s, lang)?.into_bytes(),
        Format::Markdown => super::markdown::markdown(row, s, lang).into_bytes(),
        Format::Csv => super::sheets::csv(s, lang),
        Format::Xlsx => super::sheets::xlsx(row, s, lang)?,
    })
}

/// The file name (without extension): 督查通报-2026年第3期, or
/// 督查通报-草稿-2026-11 for a draft.
pub fn file_name(row: &BulletinRow) -> String {
    match row.number_label() {
        Some(label) => format!("督查通报-{label}"),
        None => format!("督查通报-草稿-{}", row.period),
    }
}
