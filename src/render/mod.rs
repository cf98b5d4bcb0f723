//! The pieces printable documents share: the formal page style, escaped
//! HTML and Markdown tables, and spreadsheet tables (CSV and xlsx,
//! formula-injection safe). Each document's rendering lives with what it
//! renders (`bulletins::render`, `assessments::render`) and takes these.

pub mod table;

use crate::domain::message::Lang;

/// The text for the language.
pub(crate) fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// The page style shared by printable documents: A4, 仿宋 body, 黑体
/// headings, a red masthead, ruled tables.
pub(crate) const STYLE: &str = "@page{size:A4;margin:2.5cm 2.2cm}\
body{font-family:FangSong,'仿宋',STFangsong,serif;font-size:16px;line-height:1.7;max-width:60em;margin:0 auto;padding:1em;color:#000}\
.masthead{color:#c00;text-align:center;font-family:SimSun,'宋体',serif;font-size:44px;font-weight:bold;letter-spacing:.4em;margin:.2em 0}\
.number{text-align:center;margin:0}.issuer{display:flex;justify-content:space-between;margin:.3em 0}\
hr.rule{border:0;border-top:3px solid #c00;margin:.2em 0 1.2em}\
h1{font-family:SimHei,'黑体',sans-serif;font-size:22px;text-align:center;margin:1em 0}\
h2{font-family:SimHei,'黑体',sans-serif;font-size:17px;margin:1.2em 0 .4em}\
p{text-indent:2em;margin:.3em 0}p.to,p.sign{text-indent:0}p.sign{text-align:right;margin-top:2em}\
table{border-collapse:collapse;width:100%;font-size:12px;line-height:1.4;margin:.5em 0;page-break-inside:auto}\
th,td{border:1px solid #000;padding:2px 4px;text-align:center}td.name{text-align:left}\
tr.criticised td{background:#fde8e8}tr.commended td{background:#e8f5e9}\
@media print{body{padding:0}}";

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

/// An HTML table, every cell escaped; `left` lists the columns aligned left
/// (names and titles), `classes` an optional class per row.
pub(crate) fn html_table(
    out: &mut String,
    headers: &[String],
    rows: &[Vec<String>],
    left: &[usize],
    classes: &[&str],
) {
    use html_escape::encode_text;
    out.push_str("<table>\n<thead><tr>");
    for head in headers {
        out.push_str("<th>");
        out.push_str(&encode_text(head));
        out.push_str("</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (i, cells) in rows.iter().enumerate() {
        match classes.get(i).filter(|c| !c.is_empty()) {
            Some(class) => {
                out.push_str("<tr class=\"");
                out.push_str(class);
                out.push_str("\">");
            }
            None => out.push_str("<tr>"),
        }
        for (col, c) in cells.iter().enumerate() {
            out.push_str(if left.contains(&col) {
                "<td class=\"name\">"
            } else {
                "<td>"
            });
            out.push_str(&encode_text(c));
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}
