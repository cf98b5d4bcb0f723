//! Tables in files: reading the Excel and CSV breakdown tables offices keep
//! (`table`, within the limits `unpack` checks first), and writing tasks back
//! out in the same shape (`export`). Pure code: bytes in, rows out; no
//! database and no HTTP.

pub mod export;
pub mod table;
pub mod unpack;

pub use export::{to_csv, to_xlsx, ExportRow};
pub use table::{
    cell_ref, read_table, task_rows, Cell, ColumnRefs, FileKind, ImportRow, Limits, Sheet,
};

use crate::domain::Message;
use crate::error::{Error, Result};

/// The first sheet of an uploaded .xlsx or .csv file (by name, else by
/// content type), within `limits`; anything else is refused naming the
/// `file` field.
pub fn read_upload(
    filename: &str,
    content_type: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Sheet> {
    let kind = FileKind::from_file_name(filename)
        .or(match content_type {
            "text/csv" | "application/csv" => Some(FileKind::Csv),
            crate::http::download::XLSX => Some(FileKind::Xlsx),
            _ => None,
        })
        .ok_or_else(|| {
            Error::invalid_field(
                "file",
                Message::new(
                    "只接受 .xlsx 或 .csv 文件",
                    "only .xlsx and .csv files are accepted",
                ),
            )
        })?;
    read_table(bytes, kind, limits).map_err(|m| Error::invalid_field("file", m))
}
