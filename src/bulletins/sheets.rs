//! The bulletin's tables for spreadsheets (CSV and xlsx).

use super::render::{overdue_table, ranking_table};
use super::{BulletinRow, Snapshot};
use crate::domain::message::Lang;
use crate::render::t;
use crate::render::table::{to_csv, to_xlsx, Sheet};

/// The bulletin's tables: the ranking, then the overdue tasks.
pub fn sheets(s: &Snapshot, lang: Lang) -> Vec<Sheet> {
    let (headers, rows) = ranking_table(&s.ranking, lang);
    let (o_headers, o_rows) = overdue_table(&s.ranking, lang);
    vec![
        Sheet {
            name: t(lang, "排名", "Ranking").into(),
            widths: vec![8.0, 24.0],
            headers,
            rows,
        },
        Sheet {
            name: t(lang, "逾期任务", "Overdue tasks").into(),
            widths: vec![6.0, 12.0, 50.0, 24.0, 12.0, 10.0, 12.0],
            headers: o_headers,
            rows: o_rows,
        },
    ]
}

/// The ranking table as CSV.
pub fn csv(s: &Snapshot, lang: Lang) -> Vec<u8> {
    let (headers, rows) = ranking_table(&s.ranking, lang);
    to_csv(&Sheet {
        name: String::new(),
        widths: Vec::new(),
        headers,
        rows,
    })
}

/// The bulletin's tables as an xlsx workbook.
pub fn xlsx(_row: &BulletinRow, s: &Snapshot, lang: Lang) -> anyhow::Result<Vec<u8>> {
    to_xlsx(&sheets(s, lang))
}
