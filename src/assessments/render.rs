//! The annual assessment for people: a printable HTML page, Markdown, and
//! a workbook (results, and every deduction), all escaped and guarded.

use std::fmt::Write;

use html_escape::encode_text;

use super::Assessment;
use crate::domain::message::Lang;
use crate::domain::period::zh_date;
use crate::http::download::Format;
use crate::render::table::{self, Sheet};
use crate::render::{html_table, md, md_table, t, STYLE};

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

pub fn html(a: &Assessment, lang: Lang) -> String {
    let e = |x: &str| encode_text(x).to_string();
    let title = title(a, lang);
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{}</p>",
        t(lang, "zh-CN", "en"),
        e(&title),
        e(&title),
        e(&note(a, lang))
    );
    let r = results(a, lang);
    html_table(&mut h, &r.headers, &r.rows, &[1, 6], &[]);
    let d = deductions(a, lang);
    let _ = writeln!(h, "<h2>{}</h2>", t(lang, "扣分明细", "Deductions"));
    html_table(&mut h, &d.headers, &d.rows, &[0, 4], &[]);
    if !a.not_assessed.is_empty() {
        let names: Vec<&str> = a.not_assessed.iter().map(|u| u.name.as_str()).collect();
        let _ = writeln!(
            h,
            "<p>{}{}</p>",
            t(
                lang,
                "本年度无到期任务、未参加考核排名的单位：",
                "Units with nothing due, not assessed: "
            ),
            e(&names.join("、"))
        );
    }
    h.push_str("</body>\n</html>\n");
    h
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
        Format::Html => html(a, lang).into_bytes(),
        Format::Markdown => markdown(a, lang).into_bytes(),
        Format::Csv => table::to_csv(&results(a, lang)),
        Format::Xlsx => table::to_xlsx(&[results(a, lang), deductions(a, lang)])?,
    })
}
