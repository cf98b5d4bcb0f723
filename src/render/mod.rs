//! The pieces printable documents share: escaped Markdown tables, and
//! spreadsheet tables (CSV and xlsx, formula-injection safe). Each
//! document's rendering lives with what it renders (`bulletins::render`,
//! `assessments::render`) and takes these; their HTML is a template (the
//! formal page style is `src/templates/documents/_style.css`).

pub mod table;

use crate::domain::message::Lang;

/// The text for the language.
pub(crate) fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// Escapes text for Markdown: ASCII punctuation that Markdown gives meaning
/// to gets a backslash, `<`, `>` and `&` become entities (raw HTML is live
/// in most renderers), and line breaks inside a table cell become spaces.
pub(crate) fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

pub(crate) fn md_table(out: &mut String, headers: &[String], rows: &[Vec<String>]) {
    let line = |cells: &[String]| -> String {
        format!(
            "| {} |\n",
            cells.iter().map(|c| md(c)).collect::<Vec<_>>().join(" | ")
        )
    };
    out.push_str(&line(headers));
    out.push_str(&format!("|{}\n", " --- |".repeat(headers.len())));
    for row in rows {
        out.push_str(&line(row));
    }
}
