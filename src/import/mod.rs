//! Task tables in files: reading the Excel and CSV breakdown tables offices
//! keep (`table`), and writing tasks back out in the same shape (`export`).
//! Pure code: bytes in, rows out; no database and no HTTP.

pub mod export;
pub mod table;

pub use export::{to_csv, to_xlsx, ExportRow};
pub use table::{cell_ref, read_table, task_rows, Cell, ColumnRefs, FileKind, ImportRow, Sheet};
