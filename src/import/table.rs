//! Reading an uploaded task table (xlsx or CSV) into rows of text cells, and
//! finding the task columns in it.

use std::io::Cursor;

use calamine::{DataRef, Dimensions, Reader, SheetType, SheetVisible, Xlsx, XlsxError};
use chrono::NaiveDate;

use crate::domain::Message;
use crate::render::table::unguard_cell;

/// Most rows read from one table. Task tables have tens to hundreds of rows;
/// the cap keeps a hostile file (a few bytes of XML can name cell XFD1048576)
/// from costing gigabytes.
pub const MAX_ROWS: usize = 10_000;
/// Most columns read from one table, for the same reason.
pub const MAX_COLS: usize = 64;

/// Limits on what an uploaded table may cost (settings `import_max_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes an xlsx may unpack to, all parts together; also the most text
    /// the read table may hold once merged cells are filled.
    pub max_unpacked_bytes: u64,
    /// Characters in one cell.
    pub max_cell_chars: usize,
}

impl Limits {
    /// The limits as configured.
    pub fn of(settings: &crate::config::Settings) -> Limits {
        Limits {
            max_unpacked_bytes: settings.import_max_unpacked_bytes,
            max_cell_chars: settings.import_max_cell_chars,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_unpacked_bytes: 64 * 1024 * 1024,
            // Excel's own limit: a cell holds at most 32,767 characters.
            max_cell_chars: 32_767,
        }
    }
}

/// The formats `read_table` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Xlsx,
    Csv,
}

impl FileKind {
    /// The kind named by a file's extension (`任务表.XLSX` → `Xlsx`).
    pub fn from_file_name(name: &str) -> Option<FileKind> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "xlsx" => Some(FileKind::Xlsx),
            "csv" => Some(FileKind::Csv),
            _ => None,
        }
    }
}

/// One cell as text. `date` is set when an xlsx cell holds a date; `text`
/// then holds it as `YYYY-MM-DD` (with ` HH:MM:SS` when it has a time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub date: Option<NaiveDate>,
}

impl Cell {
    /// A cell holding text only.
    pub fn from_text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            date: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.date.is_none()
    }
}

/// A worksheet as rows of cells; `rows[0]` is sheet row 1 and `rows[r][0]` is
/// column A. Rows are as long as their last non-empty cell, so they differ
/// in length; a missing cell is an empty one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    pub rows: Vec<Vec<Cell>>,
}

impl Sheet {
    /// The cell at (row, col), both 0-based; `None` past a row's end.
    pub fn cell(&self, row: usize, col: usize) -> Option<&Cell> {
        self.rows.get(row)?.get(col)
    }

    /// The cell's text, "" past a row's end.
    pub fn text(&self, row: usize, col: usize) -> &str {
        self.cell(row, col).map_or("", |c| c.text.as_str())
    }
}

/// Reads an uploaded file: the first visible worksheet of an xlsx workbook,
/// or a CSV file in UTF-8 (with or without BOM) or GBK/GB18030, as Chinese
/// Excel and WPS save it.
///
/// In xlsx, every cell of a merged region gets the region's value: tables
/// merge the lead-unit column over the rows of one unit, and each of those
/// rows is a task of that unit. Only cells inside the sheet's used area are
/// filled, so a merge reaching past the last row does not invent rows.
///
/// Within `limits`: an xlsx that unpacks to more is refused before it is
/// read, and a cell longer than the limit is refused by its reference.
pub fn read_table(bytes: &[u8], kind: FileKind, limits: &Limits) -> Result<Sheet, Message> {
    match kind {
        FileKind::Xlsx => read_xlsx(bytes, limits),
        FileKind::Csv => read_csv(bytes, limits),
    }
}

/// The A1-style reference of a 0-based cell position: `(4, 2)` → `"C5"`.
pub fn cell_ref(row_index: usize, col_index: usize) -> String {
    format!(
        "{}{}",
        column_letters(col_index),
        row_index.saturating_add(1)
    )
}

/// The letters of a 0-based column: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letters(col_index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = col_index;
    loop {
        // n % 26 < 26, so the sum stays within ASCII upper-case letters.
        letters.push(char::from(b'A' + (n % 26) as u8));
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    letters.iter().rev().collect()
}

// ---------------------------------------------------------------------------
// Building a sheet within the limits

struct SheetBuilder {
    rows: Vec<Vec<Cell>>,
    /// Bytes of text held, and the most allowed: filling merged regions
    /// copies a cell many times, and a long cell copied over the whole sheet
    /// would otherwise cost gigabytes.
    text_bytes: u64,
    max_text_bytes: u64,
}

impl SheetBuilder {
    fn new(limits: &Limits) -> SheetBuilder {
        SheetBuilder {
            rows: Vec::new(),
            text_bytes: 0,
            max_text_bytes: limits.max_unpacked_bytes,
        }
    }

    fn put(&mut self, row: usize, col: usize, cell: Cell) -> Result<(), Message> {
        if row >= MAX_ROWS || col >= MAX_COLS {
            return Err(too_large(row, col));
        }
        if self.rows.len() <= row {
            self.rows.resize_with(row + 1, Vec::new);
        }
        let cells = &mut self.rows[row];
        if cells.len() <= col {
            cells.resize_with(col + 1, Cell::default);
        }
        let held = self.text_bytes - cells[col].text.len() as u64 + cell.text.len() as u64;
        if held > self.max_text_bytes {
            return Err(too_much_text(row, col, self.max_text_bytes));
        }
        self.text_bytes = held;
        cells[col] = cell;
        Ok(())
    }

    fn width(&self) -> usize {
        self.rows.iter().map(Vec::len).max().unwrap_or(0)
    }

    /// Copies each region's top-left value into the rest of the region,
    /// clipped to the area that holds data.
    ///
    /// Excel never lets merged regions overlap, but a crafted file can list
    /// the whole sheet many times over; the work is capped at filling the
    /// largest sheet once.
    fn fill_merged(&mut self, regions: &[Dimensions]) -> Result<(), Message> {
        let (height, width) = (self.rows.len(), self.width());
        let mut budget = MAX_ROWS * MAX_COLS;
        for region in regions {
            let (top, left) = (region.start.0 as usize, region.start.1 as usize);
            let value = self.rows.get(top).and_then(|r| r.get(left)).cloned();
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            let bottom = (region.end.0 as usize).min(height.saturating_sub(1));
            let right = (region.end.1 as usize).min(width.saturating_sub(1));
            for row in top..=bottom {
                for col in left..=right {
                    budget = budget.checked_sub(1).ok_or_else(too_many_merges)?;
                    self.put(row, col, value.clone())?;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Sheet {
        Sheet { rows: self.rows }
    }
}

fn too_large(row: usize, col: usize) -> Message {
    Message::owned(
        format!(
            "表格过大：单元格 {} 超出可导入范围（最多 {MAX_ROWS} 行、{MAX_COLS} 列）",
            cell_ref(row, col)
        ),
        format!(
            "the table is too large: cell {} is outside the importable area (at most {MAX_ROWS} rows and {MAX_COLS} columns)",
            cell_ref(row, col)
        ),
    )
}

fn too_much_text(row: usize, col: usize, limit: u64) -> Message {
    let limit = super::unpack::human_size(limit);
    Message::owned(
        format!(
            "表格内容过多：填充合并单元格后文字超过 {limit}（在单元格 {} 处超出）",
            cell_ref(row, col)
        ),
        format!(
            "the table holds too much text: more than {limit} once merged cells are filled (passed at cell {})",
            cell_ref(row, col)
        ),
    )
}

/// Refuses a cell longer than the limit, naming it (and its worksheet).
fn check_cell_length(
    text: &str,
    row: usize,
    col: usize,
    sheet: Option<&str>,
    limits: &Limits,
) -> Result<(), Message> {
    // Bytes bound characters from above: most cells need no counting.
    if text.len() <= limits.max_cell_chars {
        return Ok(());
    }
    let chars = text.chars().count();
    if chars <= limits.max_cell_chars {
        return Ok(());
    }
    let (max, at) = (limits.max_cell_chars, cell_ref(row, col));
    let (zh_where, en_where) = match sheet {
        Some(name) => (
            format!("工作表“{name}”的单元格 {at}"),
            format!("cell {at} of worksheet “{name}”"),
        ),
        None => (format!("单元格 {at}"), format!("cell {at}")),
    };
    Err(Message::owned(
        format!("{zh_where} 内容过长（{chars} 个字符，最多 {max} 个）"),
        format!("{en_where} is too long ({chars} characters; at most {max})"),
    ))
}

fn too_many_merges() -> Message {
    Message::new(
        "表格中的合并单元格过多，无法导入",
        "the table has too many merged cells to import",
    )
}

// ---------------------------------------------------------------------------
// xlsx

fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Sheet, Message> {
    super::unpack::check_unpacked_size(bytes, limits.max_unpacked_bytes)?;
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(xlsx_error)?;
    let name = first_worksheet(&book)
        .ok_or_else(|| Message::new("Excel 文件中没有工作表", "the Excel file has no worksheet"))?;
    let mut sheet = SheetBuilder::new(limits);
    {
        let mut cells = book.worksheet_cells_reader(&name).map_err(xlsx_error)?;
        while let Some(cell) = cells.next_cell().map_err(xlsx_error)? {
            let value = xlsx_cell(cell.get_value());
            if !value.is_empty() {
                let (row, col) = cell.get_position();
                let (row, col) = (row as usize, col as usize);
                check_cell_length(&value.text, row, col, Some(&name), limits)?;
                sheet.put(row, col, value)?;
            }
        }
    }
    let merged = book.merge_cells_by_sheet_name(&name).map_err(xlsx_error)?;
    sheet.fill_merged(&merged)?;
    Ok(sheet.finish())
}

/// The first visible worksheet, else the first worksheet (chart and macro
/// sheets hold no table).
fn first_worksheet(book: &Xlsx<Cursor<&[u8]>>) -> Option<String> {
    let sheets = book.sheets_metadata();
    let worksheets = || sheets.iter().filter(|s| s.typ == SheetType::WorkSheet);
    worksheets()
        .find(|s| s.visible == SheetVisible::Visible)
        .or_else(|| worksheets().next())
        .map(|s| s.name.clone())
}

fn xlsx_error(error: XlsxError) -> Message {
    if matches!(error, XlsxError::Password) {
        return Message::new(
            "Excel 文件设有密码保护，请取消密码后再上传",
            "the Excel file is password-protected; remove the password and upload it again",
        );
    }
    Message::owned(
        format!("无法读取 Excel 文件，文件可能已损坏或不是 .xlsx 格式（{error}）"),
        format!("cannot read the Excel file; it may be damaged or not in .xlsx format ({error})"),
    )
}

fn xlsx_cell(value: &DataRef<'_>) -> Cell {
    match value {
        DataRef::Empty => Cell::default(),
        DataRef::String(s) | DataRef::DurationIso(s) => Cell::from_text(s.as_str()),
        DataRef::SharedString(s) => Cell::from_text(*s),
        DataRef::DateTimeIso(s) => Cell::from_text(s.as_str()).with_iso_date(),
        DataRef::Int(n) => Cell::from_text(n.to_string()),
        // f64's Display writes whole numbers without ".0": 序号 1 reads "1".
        DataRef::Float(f) => Cell::from_text(f.to_string()),
        DataRef::Bool(b) => Cell::from_text(if *b { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(dt) => excel_date_cell(dt),
        DataRef::Error(e) => Cell::from_text(e.to_string()),
    }
}

/// A date cell. Calamine knows the workbook's date system (1900 or 1904), so
/// its own conversion is used rather than `deadline_from_excel_serial`.
fn excel_date_cell(dt: &calamine::ExcelDateTime) -> Cell {
    let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
    let date = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d))
        // Below serial 1 there is only a time of day, no date.
        .filter(|_| dt.is_datetime() && dt.as_f64() >= 1.0);
    let Some(date) = date else {
        return Cell::from_text(dt.as_f64().to_string());
    };
    let text = if (hh, mm, ss) == (0, 0, 0) {
        date.format("%Y-%m-%d").to_string()
    } else {
        format!("{} {hh:02}:{mm:02}:{ss:02}", date.format("%Y-%m-%d"))
    };
    Cell {
        text,
        date: Some(date),
    }
}

impl Cell {
    /// Sets `date` from an ISO date cell (`2026-06-30`, `2026-06-30T08:00:00`).
    fn with_iso_date(mut self) -> Cell {
        let prefix = self.text.get(..10).unwrap_or("");
        let rest = self.text.get(10..).unwrap_or("");
        if rest.is_empty() || rest.starts_with('T') {
            self.date = NaiveDate::parse_from_str(prefix, "%Y-%m-%d").ok();
        }
        self
    }
}

// ---------------------------------------------------------------------------
// CSV

fn read_csv(bytes: &[u8], limits: &Limits) -> Result<Sheet, Message> {
    let text = decode_text(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut sheet = SheetBuilder::new(limits);
    let mut rows = CsvRowCounter::default();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let row = rows.row_of(text.as_bytes(), &record);
        for (col, field) in record.iter().enumerate() {
            if !field.is_empty() {
                check_cell_length(field, row, col, None, limits)?;
                sheet.put(row, col, Cell::from_text(field))?;
            }
        }
    }
    Ok(sheet.finish())
}

/// Gives each CSV record the row number Excel shows for it. The csv reader
/// skips empty lines, but Excel shows them as empty rows, and error messages
/// must name the row the person sees. A quoted field with line breaks is
/// still one row.
#[derive(Default)]
struct CsvRowCounter {
    /// The row the next record takes if no empty line comes before it.
    next_row: usize,
}

impl CsvRowCounter {
    /// `text` is what the reader reads; a record's position is where the
    /// reader stood before skipping the empty lines in front of the record.
    fn row_of(&mut self, text: &[u8], record: &csv::StringRecord) -> usize {
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(0);
        let row = self.next_row.saturating_add(empty_lines_at(text, start));
        self.next_row = row.saturating_add(1);
        row
    }
}

/// How many empty lines start at `start`. The reader ends a record at the
/// `\r` of a CRLF, so a `\n` right after a `\r` finishes that line and is
/// not an empty line of its own.
fn empty_lines_at(text: &[u8], start: usize) -> usize {
    let mut rest = text.get(start..).unwrap_or_default();
    if start > 0 && text.get(start - 1) == Some(&b'\r') {
        rest = rest.strip_prefix(b"\n").unwrap_or(rest);
    }
    let mut count = 0;
    loop {
        rest = match rest {
            [b'\r', b'\n', tail @ ..] | [b'\r' | b'\n', tail @ ..] => tail,
            _ => return count,
        };
        count += 1;
    }
}

/// UTF-8 (a BOM is dropped), else GB18030, the superset of the GBK that
/// Chinese Windows writes. Real GBK text is almost never valid UTF-8, so
/// trying UTF-8 first is safe.
pub fn decode_text(bytes: &[u8]) -> Result<String, Message> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or_else(|| {
            Message::new(
                "无法识别 CSV 文件的编码，请保存为 UTF-8 或 GBK 编码",
                "cannot tell the CSV file's encoding; save it as UTF-8 or GBK",
            )
        })
}

fn csv_error(error: csv::Error) -> Message {
    Message::owned(
        format!("无法读取 CSV 文件（{error}）"),
        format!("cannot read the CSV file ({error})"),
    )
}

// ---------------------------------------------------------------------------
// Task tables

/// One task row of an imported table, its text as written (trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The sheet row, 1-based as Excel shows it.
    pub row: usize,
    /// 序号/编号, when the table has that column and the cell is filled.
    pub code: Option<String>,
    pub title: String,
    pub lead: String,
    pub cooperating: String,
    pub leader: String,
    pub deadline: String,
    /// Set when the deadline cell is an xlsx date cell.
    pub deadline_date: Option<NaiveDate>,
    pub note: String,
    pub columns: ColumnRefs,
}

impl ImportRow {
    /// The reference of this row's cell in a column: `row.at(&row.columns.lead)` → `"C5"`.
    pub fn at(&self, column: &str) -> String {
        format!("{column}{}", self.row)
    }
}

/// The column letters of each field, for error messages; `None` when the
/// table has no such column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRefs {
    pub code: Option<String>,
    pub title: String,
    pub lead: String,
    pub cooperating: Option<String>,
    pub leader: Option<String>,
    pub deadline: Option<String>,
    pub note: Option<String>,
}

/// The task fields a column can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Code,
    Title,
    Lead,
    Cooperating,
    Leader,
    Deadline,
    Note,
}

/// Header texts for each field, as `header_key` leaves them (no spaces,
/// lower-case). The Chinese ones are what offices write; the English ones
/// are for tables made from duban's English interface.
const HEADERS: &[(Field, &[&str])] = &[
    (Field::Code, &["序号", "编号", "no", "no.", "code"]),
    (
        Field::Title,
        &[
            "任务",
            "工作任务",
            "重点任务",
            "任务内容",
            "任务名称",
            "task",
            "title",
        ],
    ),
    (
        Field::Lead,
        &["牵头单位", "牵头部门", "leadunit", "leadunits", "lead"],
    ),
    (
        Field::Cooperating,
        &["配合单位", "配合部门", "cooperatingunits", "cooperating"],
    ),
    (
        Field::Leader,
        &["责任领导", "分管领导", "responsibleleader", "leader"],
    ),
    (
        Field::Deadline,
        &[
            "完成时限",
            "完成时间",
            "时限要求",
            "完成期限",
            "deadline",
            "due",
            "duedate",
        ],
    ),
    (Field::Note, &["备注", "note", "notes", "remarks"]),
];

/// A header cell reduced for comparison: whitespace removed (also line breaks
/// inside the cell), full-width letters made half-width, lower-cased, a
/// trailing bracketed explanation and required-field marks dropped
/// ("完成时限（年月日）", "*牵头单位", "Deadline:").
fn header_key(text: &str) -> String {
    let mut key: String = crate::domain::text::compact(text)
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    if key.ends_with(')') {
        if let Some(open) = key.rfind('(').filter(|&i| i > 0) {
            key.truncate(open);
        }
    }
    key.trim_matches(|c| matches!(c, '*' | ':')).to_string()
}

fn header_field(text: &str) -> Option<Field> {
    let key = header_key(text);
    HEADERS
        .iter()
        .find(|(_, names)| names.contains(&key.as_str()))
        .map(|(field, _)| *field)
}

/// Where each field's column is (0-based); the first column wins when two
/// have the same header.
#[derive(Debug, Clone, Default)]
struct Columns {
    code: Option<usize>,
    title: Option<usize>,
    lead: Option<usize>,
    cooperating: Option<usize>,
    leader: Option<usize>,
    deadline: Option<usize>,
    note: Option<usize>,
}

impl Columns {
    fn of_row(cells: &[Cell]) -> Columns {
        let mut columns = Columns::default();
        for (col, cell) in cells.iter().enumerate() {
            if let Some(field) = header_field(&cell.text) {
                columns.slot(field).get_or_insert(col);
            }
        }
        columns
    }

    fn slot(&mut self, field: Field) -> &mut Option<usize> {
        match field {
            Field::Code => &mut self.code,
            Field::Title => &mut self.title,
            Field::Lead => &mut self.lead,
            Field::Cooperating => &mut self.cooperating,
            Field::Leader => &mut self.leader,
            Field::Deadline => &mut self.deadline,
            Field::Note => &mut self.note,
        }
    }

    fn refs(&self, title: usize, lead: usize) -> ColumnRefs {
        ColumnRefs {
            code: self.code.map(column_letters),
            title: column_letters(title),
            lead: column_letters(lead),
            cooperating: self.cooperating.map(column_letters),
            leader: self.leader.map(column_letters),
            deadline: self.deadline.map(column_letters),
            note: self.note.map(column_letters),
        }
    }
}

/// Finds the header row and reads the task rows below it.
///
/// The header row is the first row with both a task column (任务, 工作任务,
/// 重点任务, 任务内容, `task`, `title`) and a lead-unit column (牵头单位,
/// `lead unit`, `lead`); title rows above it are ignored. The other columns
/// (序号, 配合单位, 责任领导, 完成时限, 备注 and their variants) are
/// optional. Header matching ignores spaces, case, a trailing bracketed
/// explanation and `*`/`:` marks.
///
/// Rows that carry nothing to import are skipped: empty rows, pre-numbered
/// template rows with only a 序号, section headings merged across the table
/// ("一、经济发展", which fill the task and lead columns with one text), and
/// the header repeated (as when a long table was pasted page by page).
/// Everything else is returned, even with an empty task or lead unit, so the
/// caller can report the cell.
pub fn task_rows(sheet: &Sheet) -> Result<Vec<ImportRow>, Message> {
    let (header, columns, title, lead) = find_header(sheet)?;
    let refs = columns.refs(title, lead);
    let rows = (header + 1..sheet.rows.len())
        .map(|r| read_row(sheet, r, &columns, title, lead, &refs))
        .filter(|row| !skippable(row))
        .collect();
    Ok(rows)
}

fn find_header(sheet: &Sheet) -> Result<(usize, Columns, usize, usize), Message> {
    let (mut saw_title, mut saw_lead) = (false, false);
    for (r, cells) in sheet.rows.iter().enumerate() {
        let columns = Columns::of_row(cells);
        match (columns.title, columns.lead) {
            (Some(title), Some(lead)) => return Ok((r, columns, title, lead)),
            (title, lead) => {
                saw_title |= title.is_some();
                saw_lead |= lead.is_some();
            }
        }
    }
    Err(missing_headers(saw_title, saw_lead))
}

fn missing_headers(saw_title: bool, saw_lead: bool) -> Message {
    let (zh, en) = match (saw_title, saw_lead) {
        (true, _) => ("“牵头单位”列", "a 牵头单位 (lead unit) column"),
        (false, true) => ("“任务”列", "a 任务 (task) column"),
        (false, false) => (
            "“任务”和“牵头单位”列",
            "a 任务 (task) and a 牵头单位 (lead unit) column",
        ),
    };
    Message::owned(
        format!("找不到表头：缺少{zh}。表头行须同时包含“任务”和“牵头单位”两列"),
        format!(
            "no header row found: missing {en}; the header row needs both a 任务 (task) and a 牵头单位 (lead unit) column"
        ),
    )
}

fn read_row(
    sheet: &Sheet,
    r: usize,
    columns: &Columns,
    title: usize,
    lead: usize,
    refs: &ColumnRefs,
) -> ImportRow {
    let text = |col: Option<usize>| col.map_or(String::new(), |c| clean(sheet.text(r, c)));
    let code = text(columns.code);
    ImportRow {
        row: r + 1,
        code: (!code.is_empty()).then_some(code),
        title: text(Some(title)),
        lead: text(Some(lead)),
        cooperating: text(columns.cooperating),
        leader: text(columns.leader),
        deadline: text(columns.deadline),
        deadline_date: columns
            .deadline
            .and_then(|c| sheet.cell(r, c))
            .and_then(|c| c.date),
        note: text(columns.note),
        columns: refs.clone(),
    }
}

/// Trimmed, and without the quote `render::table::guard_cell` adds, so a table
/// duban wrote reads back as it was.
pub fn clean(text: &str) -> String {
    unguard_cell(text.trim()).to_string()
}

fn skippable(row: &ImportRow) -> bool {
    let contents = [
        &row.title,
        &row.lead,
        &row.cooperating,
        &row.leader,
        &row.deadline,
        &row.note,
    ];
    let empty = contents.iter().all(|s| s.is_empty());
    let section_heading = !row.title.is_empty() && row.title == row.lead;
    let repeated_header = header_field(&row.title) == Some(Field::Title)
        && header_field(&row.lead) == Some(Field::Lead);
    empty || section_heading || repeated_header
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

    fn csv_sheet(text: &str) -> Sheet {
        read_table(text.as_bytes(), FileKind::Csv, &Limits::default()).unwrap()
    }

    fn texts(sheet: &Sheet) -> Vec<Vec<&str>> {
        sheet
            .rows
            .iter()
            .map(|r| r.iter().map(|c| c.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref(4, 2), "C5");
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(column_letters(16_383), "XFD");
    }

    #[test]
    fn file_kinds_from_names() {
        assert_eq!(
            FileKind::from_file_name("任务表.XLSX"),
            Some(FileKind::Xlsx)
        );
        assert_eq!(FileKind::from_file_name("a.b.csv"), Some(FileKind::Csv));
        assert_eq!(FileKind::from_file_name("a.xls"), None);
        assert_eq!(FileKind::from_file_name("csv"), None);
    }

    #[test]
    fn csv_with_and_without_bom() {
        let plain = csv_sheet("序号,任务\n1,治理扬尘\n");
        let bom = read_table(
            "\u{FEFF}序号,任务\n1,治理扬尘\n".as_bytes(),
            FileKind::Csv,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(plain, bom);
        assert_eq!(texts(&plain), [vec!["序号", "任务"], vec!["1", "治理扬尘"]]);
    }

    #[test]
    fn csv_in_gbk() {
        let text = "序号,任务,牵头单位\r\n1,“蓝天”行动,市生态环境局\r\n";
        let (bytes, _, unmappable) = encoding_rs::GBK.encode(text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the test needs non-UTF-8 bytes"
        );
        let sheet = read_table(&bytes, FileKind::Csv, &Limits::default()).unwrap();
        assert_eq!(
            texts(&sheet),
            [
                vec!["序号", "任务", "牵头单位"],
                vec!["1", "“蓝天”行动", "市生态环境局"]
            ]
        );
    }

    #[test]
    fn csv_rows_are_flexible_and_keep_quoted_line_breaks() {
        let sheet = csv_sheet("a\nb,c,d\n\"x\ny\",\"say \"\"hi\"\"\"\n");
        assert_eq!(
            texts(&sheet),
            [vec!["a"], vec!["b", "c", "d"], vec!["x\ny", "say \"hi\""]]
        );
    }

    #[test]
    fn csv_row_numbers_count_empty_lines_and_multi_line_cells() {
        let sheet = csv_sheet("a\n\n\"x\ny\"\n\nb\r\n\r\nc\rd\r\re\n");
        assert_eq!(sheet.text(0, 0), "a");
        assert_eq!(sheet.text(2, 0), "x\ny");
        assert_eq!(sheet.text(4, 0), "b");
        assert_eq!(sheet.text(6, 0), "c");
        assert_eq!(sheet.text(7, 0), "d");
        assert_eq!(sheet.text(9, 0), "e");
        assert_eq!(sheet.rows.len(), 10);
        let sheet = csv_sheet("\n\r\n0\r\n\r\n\r\n1");
        assert_eq!(sheet.text(2, 0), "0");
        assert_eq!(sheet.text(5, 0), "1");
    }

    #[test]
    fn undecodable_csv_is_refused() {
        let e = read_table(b"\xFF\xFF\x80", FileKind::Csv, &Limits::default()).unwrap_err();
        assert!(e.en.contains("encoding"), "{}", e.en);
    }

    #[test]
    fn oversized_tables_are_refused() {
        let wide = format!("{}x\n", ",".repeat(MAX_COLS));
        let e = read_table(wide.as_bytes(), FileKind::Csv, &Limits::default()).unwrap_err();
        assert!(e.en.contains("too large"), "{}", e.en);
        let tall = "x\n".repeat(MAX_ROWS + 1);
        assert!(read_table(tall.as_bytes(), FileKind::Csv, &Limits::default()).is_err());
        let fits = "x\n".repeat(MAX_ROWS);
        assert_eq!(
            read_table(fits.as_bytes(), FileKind::Csv, &Limits::default())
                .unwrap()
                .rows
                .len(),
            MAX_ROWS
        );
    }

    #[test]
    fn damaged_xlsx_is_refused() {
        let e = read_table(b"not a zip file", FileKind::Xlsx, &Limits::default()).unwrap_err();
        assert!(e.zh.contains("无法读取 Excel 文件"), "{}", e.zh);
        let e = read_table(b"", FileKind::Xlsx, &Limits::default()).unwrap_err();
        assert!(e.en.contains("cannot read"), "{}", e.en);
    }

    /// A table as offices make it: a title merged across the top, the header
    /// in row 2, the lead unit merged down over the unit's three tasks, and a
    /// real date cell for one deadline.
    fn office_xlsx() -> Vec<u8> {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        let title = Format::new().set_bold();
        ws.merge_range(0, 0, 0, 6, "2026年重点工作任务分解表", &title)
            .unwrap();
        let header = [
            "序 号",
            "工作任务",
            "牵头单位",
            "配合单位",
            "责任领导",
            "完成时限",
            "备注",
        ];
        for (c, h) in header.iter().enumerate() {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        let tasks = ["治理扬尘", "整治黑臭水体", "推进垃圾分类"];
        for (i, task) in tasks.iter().enumerate() {
            let r = 2 + i as u32;
            ws.write_number(r, 0, (i + 1) as f64).unwrap();
            ws.write_string(r, 1, *task).unwrap();
            ws.write_string(r, 4, "张三").unwrap();
        }
        ws.merge_range(2, 2, 4, 2, "市生态环境局", &Format::new())
            .unwrap();
        ws.write_string(2, 3, "市住建局、市城管局\n市公安局")
            .unwrap();
        let date = ExcelDateTime::from_ymd(2026, 6, 30).unwrap();
        ws.write_datetime_with_format(2, 5, &date, &Format::new().set_num_format("yyyy年m月d日"))
            .unwrap();
        ws.write_string(3, 5, "2026年底前").unwrap();
        ws.write_string(4, 5, "长期坚持").unwrap();
        book.save_to_buffer().unwrap()
    }

    #[test]
    fn xlsx_merged_cells_fill_every_row() {
        let sheet = read_table(&office_xlsx(), FileKind::Xlsx, &Limits::default()).unwrap();
        assert_eq!(sheet.text(0, 6), "2026年重点工作任务分解表");
        for r in 2..=4 {
            assert_eq!(sheet.text(r, 2), "市生态环境局", "row {}", r + 1);
        }
        assert_eq!(sheet.rows.len(), 5, "no rows invented below the data");
    }

    #[test]
    fn xlsx_task_rows_below_a_title_row() {
        let sheet = read_table(&office_xlsx(), FileKind::Xlsx, &Limits::default()).unwrap();
        let rows = task_rows(&sheet).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.lead == "市生态环境局"));
        let first = &rows[0];
        assert_eq!(first.row, 3);
        assert_eq!(first.code.as_deref(), Some("1"));
        assert_eq!(first.title, "治理扬尘");
        assert_eq!(first.cooperating, "市住建局、市城管局\n市公安局");
        assert_eq!(first.leader, "张三");
        assert_eq!(first.deadline, "2026-06-30");
        assert_eq!(first.deadline_date, NaiveDate::from_ymd_opt(2026, 6, 30));
        assert_eq!(rows[1].deadline, "2026年底前");
        assert_eq!(rows[1].deadline_date, None);
        assert_eq!(rows[2].deadline, "长期坚持");
        assert_eq!(first.columns.lead, "C");
        assert_eq!(first.at(&first.columns.lead), "C3");
        assert_eq!(rows[2].at(&rows[2].columns.title), "B5");
        assert_eq!(first.columns.note.as_deref(), Some("G"));
    }

    #[test]
    fn xlsx_reads_the_first_worksheet() {
        let mut book = Workbook::new();
        book.add_worksheet().write_string(0, 0, "first").unwrap();
        book.add_worksheet().write_string(0, 0, "second").unwrap();
        let sheet = read_table(
            &book.save_to_buffer().unwrap(),
            FileKind::Xlsx,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(texts(&sheet), [vec!["first"]]);
    }

    #[test]
    fn xlsx_cells_far_away_are_refused() {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.write_string(0, 0, "a").unwrap();
        ws.write_string(1_000_000, 16_000, "far").unwrap();
        let e = read_table(
            &book.save_to_buffer().unwrap(),
            FileKind::Xlsx,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(e.en.contains("too large"), "{}", e.en);
    }

    #[test]
    fn csv_cells_longer_than_the_limit_are_refused_by_reference() {
        let limits = Limits {
            max_cell_chars: 5,
            ..Limits::default()
        };
        let fits = read_table("甲乙丙丁戊,ab\n".as_bytes(), FileKind::Csv, &limits);
        assert!(fits.is_ok(), "five characters, fifteen bytes");
        let e = read_table("a,b\nc,甲乙丙丁戊己\n".as_bytes(), FileKind::Csv, &limits).unwrap_err();
        assert_eq!(e.zh, "单元格 B2 内容过长（6 个字符，最多 5 个）");
        assert_eq!(e.en, "cell B2 is too long (6 characters; at most 5)");
    }

    #[test]
    fn xlsx_cells_longer_than_the_limit_are_refused_by_sheet_and_reference() {
        let cell = format!(
            r#"<c r="C1" t="inlineStr"><is><t>{}</t></is></c>"#,
            "长".repeat(40_000)
        );
        let bytes = crate::import::unpack::tests::workbook_with_cells(&cell);
        let e = read_table(&bytes, FileKind::Xlsx, &Limits::default()).unwrap_err();
        assert_eq!(
            e.en,
            "cell C1 of worksheet “任务表” is too long (40000 characters; at most 32767)"
        );
        assert!(e.zh.contains("工作表“任务表”的单元格 C1"), "{}", e.zh);
    }

    #[test]
    fn xlsx_bombs_are_refused_before_they_are_read() {
        let limits = Limits {
            max_unpacked_bytes: 1 << 20,
            ..Limits::default()
        };
        let bytes = crate::import::unpack::tests::workbook_with_shared_string(16 << 20);
        let e = read_table(&bytes, FileKind::Xlsx, &limits).unwrap_err();
        assert!(
            e.en.contains("the shared strings (xl/sharedStrings.xml)"),
            "{}",
            e.en
        );
        // The same workbook, small: calamine reads it.
        let bytes = crate::import::unpack::tests::workbook_with_shared_string(10);
        let sheet = read_table(&bytes, FileKind::Xlsx, &limits).unwrap();
        assert_eq!(sheet.text(0, 0), "aaaaaaaaaa");
    }

    #[test]
    fn merged_cells_cannot_multiply_text_past_the_limit() {
        let mut book = Workbook::new();
        let ws = book.add_worksheet();
        ws.merge_range(0, 0, 99, 9, &"x".repeat(1000), &Format::new())
            .unwrap();
        ws.write_string(99, 9, "end").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let limits = Limits {
            max_unpacked_bytes: 100_000,
            ..Limits::default()
        };
        let e = read_table(&bytes, FileKind::Xlsx, &limits).unwrap_err();
        assert!(e.en.contains("too much text"), "{}", e.en);
        assert!(read_table(&bytes, FileKind::Xlsx, &Limits::default()).is_ok());
    }

    #[test]
    fn headers_are_found_ignoring_spaces_case_and_marks() {
        let sheet = csv_sheet(
            "Tasks for 2026\n\
             No.,  TASK ,Lead Unit,Cooperating Units,Responsible Leader,Due,Remarks\n\
             7,Clean air,ZF-HB,,Li,2026-06-30,\n",
        );
        let rows = task_rows(&sheet).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row, 3);
        assert_eq!(rows[0].code.as_deref(), Some("7"));
        assert_eq!(rows[0].lead, "ZF-HB");
        assert_eq!(rows[0].leader, "Li");
        assert_eq!(rows[0].deadline, "2026-06-30");

        let sheet = csv_sheet("重点 任务,*牵头单位,完成时限（年月日）,备 注\n甲,乙,6月底前,丙\n");
        let rows = task_rows(&sheet).unwrap();
        assert_eq!(rows[0].title, "甲");
        assert_eq!(rows[0].deadline, "6月底前");
        assert_eq!(rows[0].note, "丙");
        assert_eq!(rows[0].code, None);
        assert_eq!(rows[0].columns.code, None);
        assert_eq!(rows[0].columns.deadline.as_deref(), Some("C"));
    }

    #[test]
    fn missing_headers_are_named() {
        let e = task_rows(&csv_sheet("任务,配合单位\na,b\n")).unwrap_err();
        assert!(e.zh.contains("缺少“牵头单位”列"), "{}", e.zh);
        assert!(e.en.contains("missing a 牵头单位"), "{}", e.en);
        let e = task_rows(&csv_sheet("序号,牵头单位\n")).unwrap_err();
        assert!(e.zh.contains("缺少“任务”列"), "{}", e.zh);
        let e = task_rows(&csv_sheet("a,b\n")).unwrap_err();
        assert!(e.zh.contains("缺少“任务”和“牵头单位”列"), "{}", e.zh);
        assert!(task_rows(&Sheet::default()).is_err());
    }

    #[test]
    fn rows_without_content_are_skipped() {
        let sheet = csv_sheet(
            "序号,任务,牵头单位,备注\n\
             一、经济发展,一、经济发展,一、经济发展,一、经济发展\n\
             1,甲,市财政局,\n\
             ,,,\n\
             \n\
             2,,,\n\
             序号,任务,牵头单位,备注\n\
             3,,,只有备注\n\
             4,乙,,\n",
        );
        let rows = task_rows(&sheet).unwrap();
        let kept: Vec<(usize, &str, &str, &str)> = rows
            .iter()
            .map(|r| (r.row, r.title.as_str(), r.lead.as_str(), r.note.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                (3, "甲", "市财政局", ""),
                (8, "", "", "只有备注"),
                (9, "乙", "", "")
            ]
        );
    }

    #[test]
    fn cells_are_trimmed_and_unguarded() {
        let sheet = csv_sheet("任务,牵头单位\n  '=1+1 , 市财政局 \n");
        let rows = task_rows(&sheet).unwrap();
        assert_eq!(rows[0].title, "=1+1");
        assert_eq!(rows[0].lead, "市财政局");
    }

    #[test]
    fn iso_text_dates_set_the_date() {
        assert_eq!(
            Cell::from_text("2026-06-30").with_iso_date().date,
            NaiveDate::from_ymd_opt(2026, 6, 30)
        );
        assert_eq!(
            Cell::from_text("2026-06-30T08:00:00").with_iso_date().date,
            NaiveDate::from_ymd_opt(2026, 6, 30)
        );
        assert_eq!(Cell::from_text("2026-06-30前").with_iso_date().date, None);
        assert_eq!(Cell::from_text("年底").with_iso_date().date, None);
    }

    fn letters_to_index(letters: &str) -> usize {
        letters
            .bytes()
            .fold(0, |n, b| n * 26 + usize::from(b - b'A') + 1)
            - 1
    }

    proptest! {
        #[test]
        fn column_letters_count_like_excel(col in 0usize..100_000) {
            let letters = column_letters(col);
            prop_assert!(letters.bytes().all(|b| b.is_ascii_uppercase()));
            prop_assert_eq!(letters_to_index(&letters), col);
        }

        #[test]
        fn reading_any_csv_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(sheet) = read_table(&bytes, FileKind::Csv, &Limits::default()) {
                let _ = task_rows(&sheet);
            }
        }

        #[test]
        fn reading_any_xlsx_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = read_table(&bytes, FileKind::Xlsx, &Limits::default());
        }

        #[test]
        fn csv_cells_read_back(rows in prop::collection::vec(prop::collection::vec("[^,\"\r\n\u{FEFF}]{0,8}", 1..6), 1..10)) {
            let text: String = rows.iter().map(|r| r.join(",") + "\n").collect();
            let sheet = read_table(text.as_bytes(), FileKind::Csv, &Limits::default()).unwrap();
            for (r, row) in rows.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    prop_assert_eq!(sheet.text(r, c), cell.as_str());
                }
            }
        }

        #[test]
        fn header_row_is_found_below_any_title_rows(titles in prop::collection::vec("[一-龥]{1,12}", 0..4)) {
            let mut text: String = titles.iter().map(|t| format!("{t}\n")).collect();
            text.push_str("序号,任务,牵头单位\n1,甲,乙\n");
            let rows = task_rows(&csv_sheet(&text)).unwrap();
            prop_assert_eq!(rows.len(), 1);
            prop_assert_eq!(rows[0].row, titles.len() + 2);
        }
    }
}
