//! Writing a task table back out as CSV or xlsx, in the same columns the
//! importer reads, with every cell guarded against formula injection.

use crate::render::table::{self, Sheet};

/// One task as a row of the exported table (the ledger, 台账).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportRow {
    pub code: String,
    pub title: String,
    pub lead: String,
    pub cooperating: String,
    pub leader: String,
    /// The deadline as the office wrote it (2026年6月底前), else as duban
    /// says it; the importer reads this column back.
    pub deadline: String,
    /// The due date it gives, `YYYY-MM-DD` (empty when there is none).
    pub due_date: String,
    /// The latest progress report's text, and its local date.
    pub progress: String,
    pub progress_on: String,
    pub status: String,
    /// 红, 黄 or 绿 (empty for drafts and cancelled tasks).
    pub light: String,
    /// Days overdue, empty when not overdue.
    pub days_overdue: String,
    pub note: String,
}

impl ExportRow {
    fn cells(&self) -> [&str; 13] {
        [
            &self.code,
            &self.title,
            &self.lead,
            &self.cooperating,
            &self.leader,
            &self.deadline,
            &self.due_date,
            &self.progress,
            &self.progress_on,
            &self.status,
            &self.light,
            &self.days_overdue,
            &self.note,
        ]
    }
}

/// The header row; `table::task_rows` recognises the task columns among them
/// (完成时限 is the deadline it reads; the ledger's own columns are skipped).
pub const HEADERS: [&str; 13] = [
    "序号",
    "任务",
    "牵头单位",
    "配合单位",
    "责任领导",
    "完成时限",
    "到期日期",
    "最新进展",
    "进展日期",
    "状态",
    "红黄绿灯",
    "逾期天数",
    "备注",
];

/// Column widths in Excel's character units, by column: task titles and
/// progress are long, codes and statuses short.
const WIDTHS: [f64; 13] = [
    8.0, 50.0, 20.0, 30.0, 12.0, 16.0, 12.0, 50.0, 12.0, 10.0, 8.0, 8.0, 30.0,
];

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

/// The ledger's heading: the plan, 台账, the day it was exported.
pub fn ledger_title(plan_title: &str, today: chrono::NaiveDate) -> String {
    format!(
        "{plan_title}任务台账（导出日期：{}）",
        today.format("%Y年%m月%d日")
    )
}

/// The table as CSV for Excel (see `render::table::to_csv`), headed by
/// `title` when given.
pub fn to_csv(rows: &[ExportRow], title: Option<&str>) -> Vec<u8> {
    table::titled_csv(&sheet(rows, ""), title)
}

/// The table as an xlsx workbook with one worksheet named `sheet_title`,
/// headed by `title` when given.
pub fn to_xlsx(
    rows: &[ExportRow],
    sheet_title: &str,
    title: Option<&str>,
) -> Result<Vec<u8>, anyhow::Error> {
    table::titled_xlsx(&[sheet(rows, sheet_title)], title)
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
                due_date: "2026-06-30".into(),
                progress: "=1+1 完成过半".into(),
                progress_on: "2026-05-20".into(),
                status: "进行中".into(),
                light: "红".into(),
                days_overdue: "3".into(),
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
            note: row.note.clone(),
            ..ExportRow::default()
        }
    }

    fn without_status(rows: &[ExportRow]) -> Vec<ExportRow> {
        rows.iter()
            .map(|r| ExportRow {
                code: r.code.clone(),
                title: r.title.clone(),
                lead: r.lead.clone(),
                cooperating: r.cooperating.clone(),
                leader: r.leader.clone(),
                deadline: r.deadline.clone(),
                note: r.note.clone(),
                ..ExportRow::default()
            })
            .collect()
    }

    fn read_back(bytes: &[u8], kind: FileKind) -> Vec<ExportRow> {
        let sheet = read_table(bytes, kind, &Limits::default()).unwrap();
        task_rows(&sheet).unwrap().iter().map(as_export).collect()
    }

    #[test]
    fn csv_has_bom_headers_and_crlf() {
        let csv = to_csv(&[], None);
        assert!(csv.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(
            text,
            "\u{FEFF}序号,任务,牵头单位,配合单位,责任领导,完成时限,到期日期,最新进展,进展日期,状态,红黄绿灯,逾期天数,备注\r\n"
        );
    }

    #[test]
    fn csv_neutralises_hyperlink_formulas() {
        let text = String::from_utf8(to_csv(&sample(), None)).unwrap();
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
        let xlsx = to_xlsx(&sample(), "任务", None).unwrap();
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
    fn the_title_row_heads_both_formats_and_the_header_follows() {
        let title = ledger_title(
            "示范市方案",
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        );
        assert_eq!(title, "示范市方案任务台账（导出日期：2026年12月01日）");
        let csv = String::from_utf8(to_csv(&sample(), Some(&title))).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(format!("\u{FEFF}{title}").as_str()));
        assert!(lines.next().unwrap().starts_with("序号,任务"));
        assert!(csv.contains(",'=1+1 完成过半,"), "{csv}");
        let xlsx = to_xlsx(&sample(), "任务", Some(&title)).unwrap();
        let sheet = read_table(&xlsx, FileKind::Xlsx, &Limits::default()).unwrap();
        assert_eq!(sheet.text(0, 0), title);
        assert_eq!(sheet.text(1, 0), "序号");
        assert_eq!(sheet.text(2, 7), "'=1+1 完成过半");
    }

    #[test]
    fn csv_round_trip() {
        let rows = sample();
        assert_eq!(
            read_back(&to_csv(&rows, None), FileKind::Csv),
            without_status(&rows)
        );
    }

    #[test]
    fn xlsx_round_trip() {
        let rows = sample();
        let xlsx = to_xlsx(&rows, "2026年重点任务", Some("2026年方案任务台账")).unwrap();
        assert_eq!(read_back(&xlsx, FileKind::Xlsx), without_status(&rows));
    }

    #[test]
    fn empty_table_round_trips() {
        assert!(read_back(&to_csv(&[], None), FileKind::Csv).is_empty());
        assert!(read_back(&to_xlsx(&[], "x", None).unwrap(), FileKind::Xlsx).is_empty());
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
                    note,
                    ..ExportRow::default()
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn any_rows_round_trip_through_csv(rows in prop::collection::vec(row(), 0..6)) {
            prop_assert_eq!(read_back(&to_csv(&rows, None), FileKind::Csv), rows);
        }

        #[test]
        fn any_rows_round_trip_through_xlsx(rows in prop::collection::vec(row(), 0..6)) {
            let xlsx = to_xlsx(&rows, "任务", Some("台账")).unwrap();
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
