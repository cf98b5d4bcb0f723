//! The annual assessment for people: a printable HTML page, Markdown, and
//! a workbook (results, and every deduction), all escaped and guarded.

use std::fmt::Write;

use serde::Serialize;

use super::Assessment;
use crate::domain::message::Lang;
use crate::domain::period::zh_date;
use crate::http::download::Format;
use crate::render::table::{self, Sheet};
use crate::render::{md, md_table, t};

fn grade_name(g: crate::domain::scoring::Grade, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => g.name_zh(),
        Lang::En => g.name_en(),
    }
}

fn title(a: &Assessment, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{}年度目标责任考核结果", a.year),
        Lang::En => format!("Annual target-responsibility assessment {}", a.year),
    }
}

fn results(a: &Assessment, lang: Lang) -> Sheet {
    Sheet {
        name: t(lang, "考核结果", "Results").into(),
        headers: [
            t(lang, "名次", "Rank"),
            t(lang, "单位", "Unit"),
            t(lang, "任务得分", "Task score"),
            t(lang, "问责扣分", "Accountability points"),
            t(lang, "考核得分", "Score"),
            t(lang, "等次", "Grade"),
            t(lang, "逾期未完成任务", "Overdue tasks"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        widths: vec![6.0, 24.0, 10.0, 12.0, 10.0, 8.0, 50.0],
        rows: a
            .units
            .iter()
            .map(|u| {
                let accountability: f64 = u
                    .deductions
                    .iter()
                    .filter(|d| d.kind == super::DeductionKind::Accountability)
                    .map(|d| d.points)
                    .sum();
                vec![
                    u.rank.to_string(),
                    u.unit.name.clone(),
                    format!("{:.2}", u.task_score),
                    format!("{accountability:.2}"),
                    format!("{:.2}", u.score),
                    grade_name(u.grade, lang).to_string(),
                    u.overdue_tasks
                        .iter()
                        .map(|o| format!("{} {}", o.code, o.title))
                        .collect::<Vec<_>>()
                        .join("；"),
                ]
            })
            .collect(),
    }
}

fn deductions(a: &Assessment, lang: Lang) -> Sheet {
    Sheet {
        name: t(lang, "扣分明细", "Deductions").into(),
        headers: [
            t(lang, "单位", "Unit"),
            t(lang, "类别", "Kind"),
            t(lang, "数量", "Count"),
            t(lang, "扣分", "Points"),
            t(lang, "说明", "Detail"),
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        widths: vec![24.0, 16.0, 8.0, 8.0, 60.0],
        rows: a
            .units
            .iter()
            .flat_map(|u| {
                u.deductions.iter().map(|d| {
                    vec![
                        u.unit.name.clone(),
                        d.kind.as_str().to_string(),
                        d.count.to_string(),
                        format!("{:.2}", d.points),
                        d.detail.clone(),
                    ]
                })
            })
            .collect(),
    }
}

fn note(a: &Assessment, lang: Lang) -> String {
    let [e, g, p] = a.thresholds;
    let mut text = match lang {
        Lang::Zh => format!(
            "等次标准：{e}分及以上为优秀，{g}分及以上为良好，{p}分及以上为合格，其余为不合格。"
        ),
        Lang::En => {
            format!("Grades: excellent from {e}, good from {g}, pass from {p}, otherwise fail.")
        }
    };
    if a.running {
        text.push_str(&match lang {
            Lang::Zh => format!("年度尚未结束，数据截至{}。", zh_date(a.judged_on)),
            Lang::En => format!(" The year is not over; figures as of {}.", a.judged_on),
        });
    }
    text
}

/// What `documents/assessment.html` is given.
#[derive(Debug, Serialize)]
pub struct AssessmentDoc {
    pub lang: &'static str,
    pub year: i32,
    pub running: bool,
    /// 2026年12月1日 (zh-CN) or 2026-12-01.
    pub judged_on: String,
    pub thresholds: [f64; 3],
    pub units: Vec<AssessedUnit>,
    pub deductions: Vec<DeductionLine>,
    pub not_assessed: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct AssessedUnit {
    pub rank: u32,
    pub unit: String,
    pub task_score: String,
    pub accountability: String,
    pub score: String,
    pub grade: String,
    /// "code title" of each task still overdue.
    pub overdue_tasks: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DeductionLine {
    pub unit: String,
    pub kind: String,
    pub count: u32,
    pub points: String,
    pub detail: String,
}

pub fn document(a: &Assessment, lang: Lang) -> AssessmentDoc {
    AssessmentDoc {
        lang: crate::i18n::tag(lang),
        year: a.year,
        running: a.running,
        judged_on: match lang {
            Lang::Zh => zh_date(a.judged_on),
            Lang::En => a.judged_on.to_string(),
        },
        thresholds: a.thresholds,
        units: a
            .units
            .iter()
            .map(|u| AssessedUnit {
                rank: u.rank,
                unit: u.unit.name.clone(),
                task_score: format!("{:.2}", u.task_score),
                accountability: format!(
                    "{:.2}",
                    u.deductions
                        .iter()
                        .filter(|d| d.kind == super::DeductionKind::Accountability)
                        .map(|d| d.points)
                        .sum::<f64>()
                ),
                score: format!("{:.2}", u.score),
                grade: grade_name(u.grade, lang).to_string(),
                overdue_tasks: u
                    .overdue_tasks
                    .iter()
                    .map(|o| format!("{} {}", o.code, o.title))
                    .collect(),
            })
            .collect(),
        deductions: a
            .units
            .iter()
            .flat_map(|u| {
                u.deductions.iter().map(|d| DeductionLine {
                    unit: u.unit.name.clone(),
                    kind: crate::i18n::text(lang, &format!("doc.deduction.{}", d.kind.as_str()))
                        .to_string(),
                    count: d.count,
                    points: format!("{:.2}", d.points),
                    detail: d.detail.clone(),
                })
            })
            .collect(),
        not_assessed: a.not_assessed.iter().map(|u| u.name.clone()).collect(),
    }
}

/// The assessment as a printable HTML page (`documents/assessment.html`).
pub fn html(a: &Assessment, lang: Lang) -> anyhow::Result<String> {
    crate::templates::render("documents/assessment.html", document(a, lang))
}

pub fn markdown(a: &Assessment, lang: Lang) -> String {
    let mut m = format!("# {}\n\n{}\n\n", md(&title(a, lang)), md(&note(a, lang)));
    let r = results(a, lang);
    md_table(&mut m, &r.headers, &r.rows);
    let d = deductions(a, lang);
    let _ = writeln!(m, "\n## {}\n", t(lang, "扣分明细", "Deductions"));
    md_table(&mut m, &d.headers, &d.rows);
    m
}

pub fn file_bytes(a: &Assessment, format: Format, lang: Lang) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => serde_json::to_vec_pretty(a)?,
        Format::Html => html(a, lang)?.into_bytes(),
        Format::Markdown => markdown(a, lang).into_bytes(),
        Format::Csv => table::to_csv(&results(a, lang)),
        Format::Xlsx => table::to_xlsx(&[results(a, lang), deductions(a, lang)])?,
    })
}
