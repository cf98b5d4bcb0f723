//! The bulletin's tables for spreadsheets. The CSV is the ranking as the
//! printed table shows it (text, guarded against formula injection), the
//! units with nothing due in one sentence under it as on the page. The
//! xlsx workbook keeps numbers as numbers so the office can sort and sum:
//! counts and days as integers, rates as percentages, scores with two
//! decimals, the rank change as a signed number shown ↑2/↓1/→; a title row
//! on every sheet, and a chart sheet with the ranking as bars.

use super::render::{light, mark, overdue_table, ranking_table, unranked_sentence};
use super::{BulletinRow, Snapshot};
use crate::domain::message::Lang;
use crate::rankings::{Ranking, RankingRow};
use crate::render::t;
use crate::render::table::{to_csv, typed_xlsx, BarChart, Cell, Sheet, Table};

/// The ranking table as CSV.
pub fn csv(s: &Snapshot, lang: Lang) -> Vec<u8> {
    let (headers, mut rows) = ranking_table(&s.ranking, lang);
    if let Some(sentence) = unranked_sentence(&s.ranking, lang) {
        // A blank row, then the sentence, as wide as the table (a reader
        // expects every record to have the header's fields): no row of zeros.
        let blank = vec![String::new(); headers.len()];
        let mut note = blank.clone();
        if let Some(first) = note.first_mut() {
            *first = sentence;
        }
        rows.push(blank);
        rows.push(note);
    }
    to_csv(&Sheet {
        name: String::new(),
        widths: Vec::new(),
        headers,
        rows,
    })
}

/// The ranking's columns in the workbook; the score's index is `SCORE`.
fn ranking_headers(lang: Lang) -> Vec<String> {
    [
        t(lang, "排名", "Rank"),
        t(lang, "单位", "Unit"),
        t(lang, "到期任务", "Due"),
        t(lang, "按时完成", "On time"),
        t(lang, "逾期完成", "Late"),
        t(lang, "逾期未完成", "Overdue"),
        t(lang, "逾期天数", "Days overdue"),
        t(lang, "未到期", "Not yet due"),
        t(lang, "完成率", "Completion"),
        t(lang, "按时完成率", "On-time rate"),
        t(lang, "平均逾期完成天数", "Avg days late"),
        t(lang, "获准延期", "Extensions"),
        t(lang, "提醒", "Reminders"),
        t(lang, "催办", "Chases"),
        t(lang, "督办", "Supervision orders"),
        t(lang, "配合任务", "Cooperating"),
        t(lang, "得分", "Score"),
        t(lang, "名次变化", "Change"),
        t(lang, "灯", "Light"),
        t(lang, "通报", "Named"),
    ]
    .iter()
    .map(|h| h.to_string())
    .collect()
}

const UNIT: u16 = 1;
const SCORE: u16 = 16;

fn int(n: impl Into<i64>) -> Cell {
    Cell::Int(n.into())
}

/// A rate kept in percent (73.9) as the fraction a percent cell holds.
fn percent(rate: Option<f64>) -> Cell {
    rate.map_or(Cell::Blank, |r| Cell::Percent(r / 100.0))
}

fn decimal(x: Option<f64>) -> Cell {
    x.map_or(Cell::Blank, Cell::Decimal)
}

fn ranking_row(row: &RankingRow, lang: Lang) -> Vec<Cell> {
    let f = &row.figures;
    vec![
        row.rank.map_or(Cell::Blank, int),
        Cell::Text(row.unit.name.clone()),
        int(f.due),
        int(f.completed_on_time),
        int(f.completed_late),
        int(f.overdue),
        int(f.overdue_days),
        int(f.not_yet_due),
        percent(row.completion_rate),
        percent(row.on_time_rate),
        decimal(row.average_days_late),
        int(f.extensions),
        int(f.reminders),
        int(f.chases),
        int(f.supervision_orders),
        int(f.cooperating),
        decimal(row.score),
        row.rank_change.map_or(Cell::Blank, Cell::Change),
        Cell::Text(light(row.light, lang).into()),
        Cell::Text(mark(row, lang).into()),
    ]
}

fn ranking_sheet(r: &Ranking, lang: Lang) -> Table {
    let mut widths = vec![8.0, 24.0];
    widths.extend([10.0; 18]);
    Table {
        name: t(lang, "排名", "Ranking").into(),
        headers: ranking_headers(lang),
        widths,
        rows: r.ranked.iter().map(|row| ranking_row(row, lang)).collect(),
        notes: unranked_sentence(r, lang).into_iter().collect(),
    }
}

fn overdue_sheet(r: &Ranking, lang: Lang) -> Table {
    let (headers, _) = overdue_table(r, lang);
    Table {
        name: t(lang, "逾期任务", "Overdue tasks").into(),
        headers,
        widths: vec![6.0, 12.0, 50.0, 24.0, 12.0, 10.0, 12.0],
        rows: (1i64..)
            .zip(&r.overdue_tasks)
            .map(|(i, task)| {
                vec![
                    Cell::Int(i),
                    Cell::Text(task.code.clone()),
                    Cell::Text(task.title.clone()),
                    Cell::Text(task.unit_name.clone()),
                    Cell::Date(task.due_date),
                    Cell::Int(task.days_overdue),
                    task.leader.clone().map_or(Cell::Blank, Cell::Text),
                ]
            })
            .collect(),
        notes: Vec::new(),
    }
}

/// The title row: the bulletin's title and its number (or that it is a draft).
fn title(row: &BulletinRow, s: &Snapshot, lang: Lang) -> String {
    match row.number_label() {
        Some(label) => format!("{}（{label}）", s.title),
        None => format!(
            "{}{}",
            s.title,
            t(lang, "（草稿，未印发）", " (draft, not published)")
        ),
    }
}

/// The bulletin as an xlsx workbook: 排名, 逾期任务 and the chart sheet 排名图
/// (each ranked unit's score as a bar, rank 1 at the top; none when no unit
/// is ranked).
pub fn xlsx(row: &BulletinRow, s: &Snapshot, lang: Lang) -> anyhow::Result<Vec<u8>> {
    let r = &s.ranking;
    let chart = BarChart {
        sheet_name: t(lang, "排名图", "Ranking chart").into(),
        title: format!(
            "{}{}",
            t(lang, "各单位得分 ", "Scores, "),
            match lang {
                Lang::Zh => r.period_name.clone(),
                Lang::En => r.period.clone(),
            }
        ),
        table: 0,
        labels: UNIT,
        values: SCORE,
        rows: u32::try_from(r.ranked.len()).unwrap_or(u32::MAX),
        max: Some(100.0),
    };
    typed_xlsx(
        &[ranking_sheet(r, lang), overdue_sheet(r, lang)],
        &title(row, s, lang),
        Some(&chart),
    )
}
