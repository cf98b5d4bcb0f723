//! Writing a task table back out as CSV or xlsx, in the same columns the
//! importer reads, with every cell guarded against formula injection.

use crate::render::table::{self, Sheet};

/// One task as a row of the exported table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRow {
    pub code: String,
    pub title: String,
    pub lead: String,
    pub cooperating: String,
    pub leader: String,
    pub deadline: String,
    pub status: String,
    pub note: String,
}

impl ExportRow {
    fn cells(&self) -> [&str; 8] {
        [
            &self.code,
            &self.title,
            &self.lead,
            &self.cooperating,
            &self.leader,
            &self.deadline,
            &self.status,
            &self.note,
        ]
    }
}

/// The header row; `table::task_rows` recognises each of these names.
pub const HEADERS: [&str; 8] = [
    "序号",
    "任务",
    "牵头单位",
    "配合单位",
    "责任领导",
    "完成时限",
    "状态",
    "备注",
];

/// Column widths in Excel's character units, by column: task titles are
/// long, codes and statuses short.
const WIDTHS: [f64; 8] = [8.0, 50.0, 20.0, 30.0, 12.0, 16.0, 10.0, 30.0];

/// The rows as the table the importer reads.
fn sheet(rows: &[ExportRow], sheet_title: &str) -> Sheet {
    Sheet {
        name: if sheet_title.trim().is_empty() {
            "任务".into()
        } else {
            sheet_title.into()
        },
        headers: HEADERS.iter().map(|h| h.to_string()).collect(),
        widths: WIDTHS.to_vec(),
        rows: rows
            .iter()
            .map(|r| r.cells().iter().map(|c| c.to_string()).collect())
            .collect(),
    }
}

/// The table as CSV for Excel (see `render::table::to_csv`).
pub fn to_csv(rows: &[ExportRow]) -> Vec<u8> {
    table::to_csv(&sheet(rows, ""))
}

/// The table as an xlsx workbook with one worksheet named `sheet_title`.
pub fn to_xlsx(rows: &[ExportRow], sheet_title: &str) -> Result<Vec<u8>, anyhow::Error> {
    table::to_xlsx(&[sheet(rows, sheet_title)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::table::{read_table, task_rows, FileKind, ImportRow, Limits};
    use crate::render::table::{guard_cell, unguard_cell, FORMULA_STARTS};
    use proptest::prelude::*;

    fn sample() -> Vec<ExportRow> {
        vec![
            ExportRow {
                code: "1".into(),
                title: "开展大气污染防治“百日攻坚”行动".into(),
                lead: "市生态环境局".into(),
                cooperating: "市住建局、市城管局\n市公安局".into(),
                leader: "张三".into(),
                deadline: "2026年6月底前".into(),
                status: "进行中".into(),
                note: "含\"引号\"，和逗号, 也行".into(),
            },
            ExportRow {
                code: "2".into(),
                title: "=HYPERLINK(\"http://evil.example\",\"点击\")".into(),
                lead: "市财政局".into(),
                deadline: "长期坚持".into(),
                note: "-待定".into(),
                ..ExportRow::default()
            },
            ExportRow {
                code: "3".into(),
                title: "@SUM(A1:A2)".into(),
                lead: "+市教育局".into(),
                leader: "'李四".into(),
                ..ExportRow::default()
            },
        ]
    }

    /// What the importer gives back, in the exporter's terms (the importer
    /// has no status column).
    fn as_export(row: &ImportRow) -> ExportRow {
        ExportRow {
            code: row.code.clone().unwrap_or_default(),
            title: row.title.clone(),
            lead: row.lead.clone(),
            cooperating: row.cooperating.clone(),
            leader: row.leader.clone(),
            deadline: row.deadline.clone(),
            status: String::new(),
            note: row.note.clone(),
        }
    }

    fn without_status(rows: &[ExportRow]) -> Vec<ExportRow> {
        rows.iter()
            .map(|r| ExportRow {
                status: String::new(),
                ..r.clone()
            })
            .collect()
    }

    fn read_back(bytes: &[u8], kind: FileKind) -> Vec<ExportRow> {
        let sheet = read_table(bytes, kind, &Limits::default()).unwrap();
        task_rows(&sheet).unwrap().iter().map(as_export).collect()
    }

    #[test]
    fn csv_has_bom_headers_and_crlf() {
        let csv = to_csv(&[]);
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(
            text,
            "\u{FEFF}序号,任务,牵头单位,配合单位,责任领导,完成时限,状态,备注\r\n"
        );
    }

    #[test]
    fn csv_neutralises_hyperlink_formulas() {
        let text = String::from_utf8(to_csv(&sample())).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点击\"\")\""));
        assert!(text.contains(",'-待定\r\n"));
        for line in text.lines() {
            for field in line.split(',') {
                let field = field.trim_start_matches('"');
                assert!(!field.starts_with(FORMULA_STARTS), "unguarded: {field}");
            }
        }
    }

    #[test]
    fn xlsx_neutralises_hyperlink_formulas() {
        let xlsx = to_xlsx(&sample(), "任务").unwrap();
        let sheet = read_table(&xlsx, FileKind::Xlsx, &Limits::default()).unwrap();
        assert_eq!(
            sheet.text(2, 1),
            "'=HYPERLINK(\"http://evil.example\",\"点击\")"
        );
        assert_eq!(sheet.text(3, 2), "'+市教育局");
        // Written as a string cell, not a formula: the xml has no <f> element.
        let formulas = calamine_formulas(&xlsx);
        assert!(formulas.iter().all(String::is_empty), "{formulas:?}");
    }

    fn calamine_formulas(xlsx: &[u8]) -> Vec<String> {
        use calamine::Reader;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(xlsx)).unwrap();
        let range = book.worksheet_formula("任务").unwrap();
        range.used_cells().map(|(_, _, f)| f.clone()).collect()
    }

    #[test]
    fn csv_round_trip() {
        let rows = sample();
        assert_eq!(
            read_back(&to_csv(&rows), FileKind::Csv),
            without_status(&rows)
        );
    }

    #[test]
    fn xlsx_round_trip() {
        let rows = sample();
        let xlsx = to_xlsx(&rows, "2026年重点任务").unwrap();
        assert_eq!(read_back(&xlsx, FileKind::Xlsx), without_status(&rows));
    }

    #[test]
    fn empty_table_round_trips() {
        assert!(read_back(&to_csv(&[]), FileKind::Csv).is_empty());
        assert!(read_back(&to_xlsx(&[], "x").unwrap(), FileKind::Xlsx).is_empty());
    }

    /// Cell text as the importer keeps it: trimmed, no control characters
    /// (which xml cannot carry and people do not type).
    fn text() -> impl Strategy<Value = String> {
        "\\PC{0,12}".prop_map(|s| s.trim().to_string())
    }

    fn row() -> impl Strategy<Value = ExportRow> {
        (
            (text(), "\\PC{1,12}", "\\PC{1,12}", text()),
            (text(), text(), text()),
        )
            .prop_map(
                |((code, title, lead, cooperating), (leader, deadline, note))| ExportRow {
                    code,
                    title: format!("任务{}", title.trim()),
                    lead: format!("单位{}", lead.trim()),
                    cooperating,
                    leader,
                    deadline,
                    status: String::new(),
                    note,
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn any_rows_round_trip_through_csv(rows in prop::collection::vec(row(), 0..6)) {
            prop_assert_eq!(read_back(&to_csv(&rows), FileKind::Csv), rows);
        }

        #[test]
        fn any_rows_round_trip_through_xlsx(rows in prop::collection::vec(row(), 0..6)) {
            let xlsx = to_xlsx(&rows, "任务").unwrap();
            prop_assert_eq!(read_back(&xlsx, FileKind::Xlsx), rows);
        }

        #[test]
        fn guarded_text_never_starts_a_formula_and_unguards_back(s in "\\PC{0,12}|[=+@'\t\r-].{0,8}") {
            let guarded = guard_cell(&s);
            prop_assert!(!guarded.starts_with(FORMULA_STARTS));
            prop_assert_eq!(unguard_cell(&guarded), s.as_str());
        }
    }
}
