//! Tables for spreadsheets: CSV for Excel (UTF-8 with a byte-order mark, CRLF)
//! and xlsx workbooks with one sheet per table. Every text cell is guarded
//! against formula injection and written as text, never as a formula. Task
//! exports, bulletins and assessments all go through here; typed tables
//! (`Table`, `typed_xlsx`) keep numbers as numbers, with formats, so an
//! office can sort and sum them, and may add a native bar chart.

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{
    Chart, ChartDataLabel, ChartType, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet,
};

/// One table: a sheet of a workbook, or the whole of a CSV file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    /// Column widths in Excel's character units; missing ones get 14.
    pub widths: Vec<f64>,
    pub rows: Vec<Vec<String>>,
}

/// Characters that make a spreadsheet treat a cell as a formula (or, tab and
/// carriage return, that shift it into one), after OWASP's CSV injection
/// advice.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Defuses formula injection: text starting with `=` `+` `-` `@`, a tab or a
/// carriage return gets a leading `'`, so `=HYPERLINK(…)` from a task title
/// shows as text instead of running when the file is opened. Text already
/// starting with `'` gets one more, so that reading the file back (which
/// drops one quote, see `unguard_cell`) returns exactly the original.
pub fn guard_cell(text: &str) -> String {
    if text.starts_with(FORMULA_STARTS) || text.starts_with('\'') {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// Undoes `guard_cell`: drops a leading `'` that precedes a formula
/// character or another `'`. Imported text is stored, never evaluated, and
/// is guarded again on export.
pub fn unguard_cell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => text,
    }
}

/// The table as CSV for Excel: UTF-8 with a byte-order mark (without it,
/// Chinese Excel reads UTF-8 as GBK and shows garbage), CRLF line ends.
pub fn to_csv(sheet: &Sheet) -> Vec<u8> {
    titled_csv(sheet, None)
}

/// The table as CSV for Excel with a title line above the header (a ledger's
/// 台账 heading); readers that look for the header row skip it.
pub fn titled_csv(sheet: &Sheet, title: Option<&str>) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    if let Some(title) = title {
        push_csv_record(&mut out, &[title.to_string()]);
    }
    push_csv_record(&mut out, &sheet.headers);
    for row in &sheet.rows {
        push_csv_record(&mut out, row);
    }
    out.into_bytes()
}

fn push_csv_record(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, &guard_cell(cell));
    }
    out.push_str("\r\n");
}

/// RFC 4180 quoting, written here rather than with the csv crate's writer
/// because writing into a `String` cannot fail and needs no error path.
fn push_csv_field(out: &mut String, field: &str) {
    let needs_quotes = field.contains([',', '"', '\n', '\r'])
        || field.starts_with(char::is_whitespace)
        || field.ends_with(char::is_whitespace);
    if needs_quotes {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// A workbook zipped at Excel's own level (3), not the crate's default (6):
/// the bulletin's workbook of 100,000 overdue tasks was a third of its time,
/// and level 3 saves about 30 % of that for a file about 5 % larger
/// (rust_xlsxwriter's performance notes).
fn new_workbook() -> Workbook {
    let mut book = Workbook::new();
    book.set_zip_compression_level(3);
    book
}

/// The tables as an xlsx workbook, one worksheet each (names made valid, see
/// `sheet_name`): bold header row frozen at the top, the given widths, long
/// text wrapped. Every cell is written as a string.
pub fn to_xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, anyhow::Error> {
    titled_xlsx(sheets, None)
}

/// The tables as an xlsx workbook as `to_xlsx` makes it, each sheet headed by
/// `title` in a bold row merged across its columns, above the header row.
pub fn titled_xlsx(sheets: &[Sheet], title: Option<&str>) -> Result<Vec<u8>, anyhow::Error> {
    let mut book = new_workbook();
    let heading = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let top = u32::from(title.is_some());
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let body = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for table in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&table.name))?;
        if let Some(title) = title {
            let last = u16::try_from(table.headers.len().saturating_sub(1)).unwrap_or(0);
            if last > 0 {
                sheet.merge_range(0, 0, 0, last, &guard_cell(title), &heading)?;
            } else {
                sheet.write_string_with_format(0, 0, guard_cell(title), &heading)?;
            }
            sheet.set_row_height(0, 28)?;
        }
        for (col, name) in (0u16..).zip(&table.headers) {
            let width = table.widths.get(usize::from(col)).copied().unwrap_or(14.0);
            sheet.set_column_width(col, width)?;
            sheet.write_string_with_format(top, col, guard_cell(name), &header)?;
        }
        for (row, cells) in (top + 1..).zip(&table.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                sheet.write_string_with_format(row, col, guard_cell(cell), &body)?;
            }
        }
        sheet.set_freeze_panes(top + 1, 0)?;
    }
    Ok(book.save_to_buffer()?)
}

/// One cell of a typed table. Numbers are written as numbers (they cannot
/// carry a formula, so they need no guard); text is guarded as everywhere.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A share as a fraction (0.739), shown as 73.90%.
    Percent(f64),
    /// Two decimals: a score, average days.
    Decimal(f64),
    /// Places gained (negative: lost), shown as ↑2, ↓1 or →.
    Change(i64),
    Date(NaiveDate),
    Blank,
}

/// A table whose cells keep their types: one worksheet of a workbook.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub name: String,
    pub headers: Vec<String>,
    /// Column widths in Excel's character units; missing ones get 12.
    pub widths: Vec<f64>,
    pub rows: Vec<Vec<Cell>>,
    /// Sentences under the table, after a blank row, each merged across its
    /// columns (outside the filter range, so sorting leaves them below).
    pub notes: Vec<String>,
}

/// A native Excel bar chart on a chart sheet of its own: one numeric column
/// of a table against its label column, over the table's first `rows` rows,
/// the first at the top.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    pub sheet_name: String,
    pub title: String,
    /// Which table (index into the tables given) and which of its columns.
    pub table: usize,
    pub labels: u16,
    pub values: u16,
    pub rows: u32,
    /// The value axis ends here (100 for a score out of a hundred).
    pub max: Option<f64>,
}

/// The tables as an xlsx workbook: each sheet headed by `title` in a bold
/// row merged across its columns, a bold header row frozen below it, typed
/// cells with number formats; then the chart, if any, on its chart sheet.
pub fn typed_xlsx(
    tables: &[Table],
    title: &str,
    chart: Option<&BarChart>,
) -> Result<Vec<u8>, anyhow::Error> {
    let mut book = new_workbook();
    let mut names = Vec::with_capacity(tables.len());
    for table in tables {
        let sheet = book.add_worksheet();
        let name = sheet_name(&table.name);
        sheet.set_name(&name)?;
        write_typed(sheet, table, title)?;
        names.push(name);
    }
    if let Some(c) = chart {
        if let Some(source) = names.get(c.table).filter(|_| c.rows > 0) {
            // Data start below the title row and the header row.
            let (first, last) = (2, 1 + c.rows);
            let mut bars = Chart::new(ChartType::Bar);
            bars.title().set_name(&c.title);
            bars.legend().set_hidden();
            bars.add_series()
                .set_categories((source.as_str(), first, c.labels, last, c.labels))
                .set_values((source.as_str(), first, c.values, last, c.values))
                .set_data_label(ChartDataLabel::new().show_value());
            // A bar chart lists its first category at the bottom; reversed,
            // rank 1 is at the top as in the table.
            bars.y_axis().set_reverse();
            bars.x_axis().set_min(0.0);
            if let Some(max) = c.max {
                bars.x_axis().set_max(max);
            }
            let sheet = book.add_chartsheet();
            sheet.set_name(sheet_name(&c.sheet_name))?;
            sheet.insert_chart(0, 0, &bars)?;
        }
    }
    Ok(book.save_to_buffer()?)
}

fn write_typed(sheet: &mut Worksheet, table: &Table, title: &str) -> Result<(), anyhow::Error> {
    let heading = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter);
    let text = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let int = Format::new().set_num_format("0");
    let percent = Format::new().set_num_format("0.00%");
    let decimal = Format::new().set_num_format("0.00");
    let change = Format::new()
        .set_num_format("\"↑\"0;\"↓\"0;\"→\"")
        .set_align(FormatAlign::Center);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let last = u16::try_from(table.headers.len().saturating_sub(1)).unwrap_or(0);
    if last > 0 {
        sheet.merge_range(0, 0, 0, last, &guard_cell(title), &heading)?;
    } else {
        sheet.write_string_with_format(0, 0, guard_cell(title), &heading)?;
    }
    sheet.set_row_height(0, 28)?;
    for (col, name) in (0u16..).zip(&table.headers) {
        let width = table.widths.get(usize::from(col)).copied().unwrap_or(12.0);
        sheet.set_column_width(col, width)?;
        sheet.write_string_with_format(1, col, guard_cell(name), &header)?;
    }
    for (row, cells) in (2u32..).zip(&table.rows) {
        for (col, cell) in (0u16..).zip(cells) {
            match cell {
                Cell::Text(t) => {
                    sheet.write_string_with_format(row, col, guard_cell(t), &text)?;
                }
                Cell::Int(n) => {
                    // Counts and days are far below 2^53: exact as a double.
                    sheet.write_number_with_format(row, col, *n as f64, &int)?;
                }
                Cell::Percent(x) => {
                    sheet.write_number_with_format(row, col, *x, &percent)?;
                }
                Cell::Decimal(x) => {
                    sheet.write_number_with_format(row, col, *x, &decimal)?;
                }
                Cell::Change(n) => {
                    sheet.write_number_with_format(row, col, *n as f64, &change)?;
                }
                Cell::Date(d) => {
                    let day = ExcelDateTime::from_ymd(
                        u16::try_from(d.year()).unwrap_or(1900),
                        u8::try_from(d.month()).unwrap_or(1),
                        u8::try_from(d.day()).unwrap_or(1),
                    )?;
                    sheet.write_datetime_with_format(row, col, &day, &date)?;
                }
                Cell::Blank => {}
            }
        }
    }
    sheet.set_freeze_panes(2, 0)?;
    // Filter buttons on the header row: the office sorts and filters in place.
    let last_row = u32::try_from(table.rows.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    if !table.rows.is_empty() {
        sheet.autofilter(1, 0, last_row, last)?;
    }
    let width: f64 = (0..=usize::from(last))
        .map(|c| table.widths.get(c).copied().unwrap_or(12.0))
        .sum();
    for (row, note) in (last_row.saturating_add(2)..).zip(&table.notes) {
        if last > 0 {
            sheet.merge_range(row, 0, row, last, &guard_cell(note), &text)?;
        } else {
            sheet.write_string_with_format(row, 0, guard_cell(note), &text)?;
        }
        // A merged cell does not grow with its text: a line (15 points)
        // for each width's worth of it, a CJK character counting two.
        let units: usize = note.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
        let lines = (units as f64 / width.max(1.0)).ceil().max(1.0);
        sheet.set_row_height(row, 15.0 * lines)?;
    }
    Ok(())
}

/// A valid worksheet name from a title: Excel refuses `[ ] : * ? / \`,
/// a leading or trailing `'`, an empty name and more than 31 UTF-16 units.
fn sheet_name(title: &str) -> String {
    let mut name = String::new();
    let mut units = 0;
    let cleaned =
        title
            .chars()
            .filter(|c| !c.is_control())
            .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c });
    for c in cleaned {
        units += c.len_utf16();
        if units > 31 {
            break;
        }
        name.push(c);
    }
    let name = name.trim_matches(|c: char| c == '\'' || c.is_whitespace());
    if name.is_empty() {
        "Sheet1".to_string()
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_prefixes_formula_starts() {
        assert_eq!(guard_cell("=1+1"), "'=1+1");
        assert_eq!(guard_cell("+86 123"), "'+86 123");
        assert_eq!(guard_cell("-5"), "'-5");
        assert_eq!(guard_cell("@cmd"), "'@cmd");
        assert_eq!(guard_cell("\tx"), "'\tx");
        assert_eq!(guard_cell("\rx"), "'\rx");
        assert_eq!(guard_cell("'x"), "''x");
        assert_eq!(guard_cell("治理扬尘"), "治理扬尘");
        assert_eq!(guard_cell("a=b"), "a=b");
        assert_eq!(guard_cell(""), "");
    }

    #[test]
    fn unguard_drops_exactly_the_guard() {
        assert_eq!(unguard_cell("'=1+1"), "=1+1");
        assert_eq!(unguard_cell("''x"), "'x");
        assert_eq!(unguard_cell("'x"), "'x");
        assert_eq!(unguard_cell("'"), "'");
        assert_eq!(unguard_cell("x"), "x");
    }

    #[test]
    fn sheet_names_are_made_valid() {
        assert_eq!(sheet_name("2026年重点任务"), "2026年重点任务");
        assert_eq!(sheet_name("a/b:c[d]*?\\"), "a_b_c_d____");
        assert_eq!(sheet_name(""), "Sheet1");
        assert_eq!(sheet_name("'''"), "Sheet1");
        assert_eq!(sheet_name("'x'"), "x");
        assert_eq!(sheet_name("x' '"), "x");
        assert_eq!(sheet_name(&"任".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name(&"😀".repeat(20)).chars().count(), 15);
        // Every one of them is accepted by the writer.
        for title in [
            "",
            "'''",
            "a/b",
            &"任".repeat(40),
            &"😀".repeat(20),
            "\u{1}x",
        ] {
            let sheet = Sheet {
                name: title.to_string(),
                ..Sheet::default()
            };
            assert!(to_xlsx(&[sheet]).is_ok(), "{title:?}");
        }
    }
}
