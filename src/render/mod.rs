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

/// Escapes text for Markdown, only where a character would change the
/// meaning at its position, so that `73.9%` stays `73.9%`:
///
/// - anywhere: `\\`, `` ` ``, `*`, `_`, `[`, `]`, `~` and `|` get a backslash
///   (emphasis, code, links, strikethrough, table cells); `<` becomes `&lt;`
///   (raw HTML is live in most renderers) and `&` becomes `&amp;` when it
///   could start an entity (`&copy;`);
/// - at the start of the text, which may start a line: leading white space
///   is dropped (four spaces make a code block); a leading `>`, and a
///   leading `#`, `-`, `+` or `=` followed by a space, the end or itself,
///   gets a backslash (quote, heading, list, rule), as does the `.` or `)`
///   after leading digits when a space or the end follows (`1. ` starts an
///   ordered list, `1.5` does not);
/// - line breaks become spaces, so the text stays one line (one table cell).
pub(crate) fn md(text: &str) -> String {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r']);
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    // A marker opens a block only when a space, the end, or (for `#`, `-`,
    // `+`, `=`) the same character follows: `-5` and `#3` stay as they are.
    let opens = |c: char, next: Option<char>| next.is_none_or(|n| n.is_whitespace() || n == c);
    let second = text.chars().nth(1);
    match text.chars().next() {
        Some('>') => {
            out.push_str("\\>");
            chars.next();
        }
        Some(c) if "#-+=".contains(c) && opens(c, second) => {
            out.push('\\');
            out.push(c);
            chars.next();
        }
        Some(c) if c.is_ascii_digit() => {
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                out.push(d);
                chars.next();
            }
            let mut after = chars.clone();
            let mark = after.next().filter(|m| *m == '.' || *m == ')');
            if let Some(m) = mark.filter(|_| after.next().is_none_or(char::is_whitespace)) {
                out.push('\\');
                out.push(m);
                chars.next();
            }
        }
        _ => {}
    }
    while let Some(c) = chars.next() {
        match c {
            '<' => out.push_str("&lt;"),
            '&' if chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '#') =>
            {
                out.push_str("&amp;")
            }
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '|' => {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_and_ordinary_punctuation_are_left_alone() {
        assert_eq!(md("73.9%"), "73.9%");
        assert_eq!(md("得分 95.50（第1名）"), "得分 95.50（第1名）");
        assert_eq!(md("2026-10-09"), "2026-10-09");
        assert_eq!(md("A-1 (draft)! {x} a+b #3"), "A-1 (draft)! {x} a+b #3");
        assert_eq!(md("R & D > all"), "R & D > all");
    }

    #[test]
    fn markers_are_escaped_where_they_mean_something() {
        assert_eq!(md("# 标题"), "\\# 标题");
        assert_eq!(md("- 项"), "\\- 项");
        assert_eq!(md("+ 项"), "\\+ 项");
        assert_eq!(md("> 引"), "\\> 引");
        assert_eq!(md("==="), "\\===");
        assert_eq!(md("1. 第一"), "1\\. 第一");
        assert_eq!(md("12) 第十二"), "12\\) 第十二");
        assert_eq!(md("2026年"), "2026年");
        assert_eq!(md("1.5倍"), "1.5倍");
        assert_eq!(md("-5"), "-5");
        assert_eq!(md("#3"), "#3");
        assert_eq!(md("---"), "\\---");
        assert_eq!(md("## 二"), "\\## 二");
        assert_eq!(md("-"), "\\-");
        assert_eq!(md("\n - 项"), "\\- 项");
        assert_eq!(md("    代码"), "代码");
        assert_eq!(md("*粗*与_斜_"), "\\*粗\\*与\\_斜\\_");
        assert_eq!(md("`x` [a](b) ~~c~~"), "\\`x\\` \\[a\\](b) \\~\\~c\\~\\~");
        assert_eq!(md("a|b"), "a\\|b");
        assert_eq!(md("a\\b"), "a\\\\b");
        assert_eq!(md("<script>"), "&lt;script>");
        assert_eq!(md("&copy; &#169;"), "&amp;copy; &amp;#169;");
        assert_eq!(md("一\n二\r\n三"), "一 二  三");
    }

    /// Reads an escaped text back: a backslash keeps the next character,
    /// `&lt;` and `&amp;` are the characters they name.
    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(r) = rest.strip_prefix("&lt;") {
                out.push('<');
                rest = r;
            } else if let Some(r) = rest.strip_prefix("&amp;") {
                out.push('&');
                rest = r;
            } else if c == '\\' {
                match rest[1..].chars().next() {
                    Some(next) => {
                        out.push(next);
                        rest = &rest[1 + next.len_utf8()..];
                    }
                    None => {
                        out.push(c);
                        rest = "";
                    }
                }
            } else {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        out
    }

    proptest! {
        #[test]
        fn a_cell_never_breaks_the_table(text in "[ -~\n\r一-十]{0,40}") {
            let cell = md(&text);
            prop_assert!(!cell.contains(['\n', '\r']));
            // Every `|` is escaped: preceded by an odd number of backslashes.
            let chars: Vec<char> = cell.chars().collect();
            for (i, c) in chars.iter().enumerate() {
                if *c == '|' {
                    let slashes = chars[..i].iter().rev().take_while(|c| **c == '\\').count();
                    prop_assert!(slashes % 2 == 1, "{cell:?}");
                }
            }
            let mut table = String::new();
            md_table(&mut table, &["a".into(), "b".into()], &[vec![text.clone(), "x".into()]]);
            prop_assert_eq!(table.lines().count(), 3);
        }

        #[test]
        fn escaping_loses_nothing_but_line_breaks_and_indentation(text in "[ -~\n\r一-十]{0,40}") {
            let expected = text.trim_start_matches([' ', '\t', '\n', '\r']).replace(['\n', '\r'], " ");
            prop_assert_eq!(unescape(&md(&text)), expected);
        }
    }
}
