//! A bulletin for people: a printable HTML page in the formal style of a
//! 督查通报 (red masthead, issue number, numbered sections, ranking and
//! overdue tables), and the text tables the Markdown shares with it; the
//! Markdown is in `markdown`, the spreadsheets in `sheets`. Every piece of
//! data is escaped: unit names and task titles are user input.

use std::fmt::Write;

use html_escape::encode_text;

use super::{BulletinRow, Snapshot};
use crate::domain::message::Lang;
use crate::domain::period::zh_date;
use crate::domain::traffic::TrafficLight;
use crate::http::download::Format;
use crate::rankings::{Ranking, RankingRow};
use crate::render::{html_table, t, STYLE};

pub(super) fn opt(v: Option<f64>, suffix: &str) -> String {
    v.map_or_else(|| "—".into(), |x| format!("{x:.2}{suffix}"))
}

pub(super) fn light(l: Option<TrafficLight>, lang: Lang) -> &'static str {
    match l {
        Some(TrafficLight::Green) => t(lang, "绿", "green"),
        Some(TrafficLight::Yellow) => t(lang, "黄", "yellow"),
        Some(TrafficLight::Red) => t(lang, "红", "red"),
        None => "—",
    }
}

pub(super) fn change(r: &RankingRow) -> String {
    match r.rank_change {
        Some(0) => "→".into(),
        Some(n) if n > 0 => format!("↑{n}"),
        Some(n) => format!("↓{}", -n),
        None => "—".into(),
    }
}

pub(super) fn mark(r: &RankingRow, lang: Lang) -> &'static str {
    if r.criticised {
        t(lang, "通报批评", "criticised")
    } else if r.commended {
        t(lang, "通报表扬", "commended")
    } else {
        ""
    }
}

/// The ranking table's header and rows, shared by every rendering.
pub(super) fn ranking_table(r: &Ranking, lang: Lang) -> (Vec<String>, Vec<Vec<String>>) {
    let headers = [
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
        t(lang, "提醒/催办/督办", "Reminders/chases/orders"),
        t(lang, "配合任务", "Cooperating"),
        t(lang, "得分", "Score"),
        t(lang, "名次变化", "Change"),
        t(lang, "灯", "Light"),
        t(lang, "通报", "Named"),
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let rows = r
        .ranked
        .iter()
        .chain(&r.unranked)
        .map(|row| {
            let f = &row.figures;
            vec![
                row.rank.map_or_else(
                    || t(lang, "未排名", "not ranked").to_string(),
                    |n| n.to_string(),
                ),
                row.unit.name.clone(),
                f.due.to_string(),
                f.completed_on_time.to_string(),
                f.completed_late.to_string(),
                f.overdue.to_string(),
                f.overdue_days.to_string(),
                f.not_yet_due.to_string(),
                opt(row.completion_rate, "%"),
                opt(row.on_time_rate, "%"),
                opt(row.average_days_late, ""),
                f.extensions.to_string(),
                format!("{}/{}/{}", f.reminders, f.chases, f.supervision_orders),
                f.cooperating.to_string(),
                opt(row.score, ""),
                change(row),
                light(row.light, lang).to_string(),
                mark(row, lang).to_string(),
            ]
        })
        .collect();
    (headers, rows)
}

pub(super) fn overdue_table(r: &Ranking, lang: Lang) -> (Vec<String>, Vec<Vec<String>>) {
    let headers = [
        t(lang, "序号", "No."),
        t(lang, "任务编号", "Code"),
        t(lang, "任务", "Task"),
        t(lang, "牵头单位", "Lead unit"),
        t(lang, "完成时限", "Due"),
        t(lang, "逾期天数", "Days overdue"),
        t(lang, "责任领导", "Responsible leader"),
    ]
    .iter()
    .map(|h| h.to_string())
    .collect();
    let rows = r
        .overdue_tasks
        .iter()
        .enumerate()
        .map(|(i, task)| {
            vec![
                (i + 1).to_string(),
                task.code.clone(),
                task.title.clone(),
                task.unit_name.clone(),
                task.due_date.to_string(),
                task.days_overdue.to_string(),
                task.leader.clone().unwrap_or_default(),
            ]
        })
        .collect();
    (headers, rows)
}

pub(super) fn number_line(row: &BulletinRow, lang: Lang) -> String {
    row.number_label()
        .unwrap_or_else(|| t(lang, "（草稿，未印发）", "(draft, not published)").to_string())
}

pub(super) fn issued_on(s: &Snapshot) -> String {
    zh_date(s.published_on.unwrap_or(s.generated_on))
}

/// The bulletin as a complete, printable HTML page.
pub fn html(row: &BulletinRow, s: &Snapshot, lang: Lang) -> String {
    let r = &s.ranking;
    let e = |x: &str| encode_text(x).to_string();
    let mut h = String::new();
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        t(lang, "zh-CN", "en"),
        e(&s.title)
    );
    let _ = writeln!(
        h,
        "<div class=\"masthead\">{}</div>\n<p class=\"number\">{}</p>\n<div class=\"issuer\"><span>{}</span><span>{}</span></div>\n<hr class=\"rule\">\n<h1>{}</h1>",
        t(lang, "督查通报", "Supervision Bulletin"),
        e(&number_line(row, lang)),
        e(&s.issuer),
        e(&issued_on(s)),
        e(&s.title)
    );
    let _ = writeln!(
        h,
        "<p class=\"to\">{}</p>\n<h2>{}</h2>\n<p>{}</p>",
        t(
            lang,
            "各乡镇、园区管委会，市直各有关单位：",
            "To all townships, park committees and departments:"
        ),
        t(lang, "一、总体情况", "1. Overview"),
        e(&s.foreword)
    );
    let _ = writeln!(h, "<h2>{}</h2>", t(lang, "二、排名情况", "2. Ranking"));
    let (headers, rows) = ranking_table(r, lang);
    let classes: Vec<&str> = r
        .ranked
        .iter()
        .chain(&r.unranked)
        .map(|line| {
            if line.criticised {
                "criticised"
            } else if line.commended {
                "commended"
            } else {
                ""
            }
        })
        .collect();
    html_table(&mut h, &headers, &rows, &[1], &classes);
    let _ = writeln!(
        h,
        "<p>{}</p>",
        e(&format!(
            "{}{}",
            t(lang, "得分计算方法见《督查排名计分办法》；无到期任务的单位不参加排名。名次变化与上期通报比较", "Scores follow the published scoring rules; units with nothing due are not ranked. Change compared with "),
            r.previous_bulletin
                .as_ref()
                .map_or_else(|| t(lang, "（无上期通报）。", "(no earlier bulletin).").to_string(), |p| format!("{}。", p.number))
        ))
    );
    let _ = writeln!(
        h,
        "<h2>{}</h2>",
        t(lang, "三、逾期未完成任务", "3. Overdue tasks")
    );
    if r.overdue_tasks.is_empty() {
        let _ = writeln!(
            h,
            "<p>{}</p>",
            t(lang, "本期无逾期未完成任务。", "No task is overdue.")
        );
    } else {
        let (headers, rows) = overdue_table(r, lang);
        html_table(&mut h, &headers, &rows, &[2, 3], &[]);
    }
    let _ = writeln!(
        h,
        "<h2>{}</h2>",
        t(lang, "四、表扬和批评", "4. Commendation and criticism")
    );
    let names = |rows: &mut dyn Iterator<Item = &RankingRow>| -> Vec<String> {
        rows.map(|x| x.unit.name.clone()).collect()
    };
    let commended = names(&mut r.commended());
    let criticised = names(&mut r.criticised());
    let _ = writeln!(
        h,
        "<p>{}{}</p>\n<p>{}{}</p>",
        t(lang, "通报表扬：", "Commended: "),
        e(&if commended.is_empty() {
            t(lang, "无", "none").to_string()
        } else {
            commended.join("、")
        }),
        t(lang, "通报批评：", "Criticised: "),
        e(&if criticised.is_empty() {
            t(lang, "无", "none").to_string()
        } else {
            criticised.join("、")
        }),
    );
    let _ = writeln!(
        h,
        "<h2>{}</h2>",
        t(lang, "五、整改要求", "5. Rectification")
    );
    if s.rectifications.is_empty() {
        let _ = writeln!(
            h,
            "<p>{}</p>",
            t(lang, "本期无整改要求。", "Nothing to rectify.")
        );
    }
    for (i, rect) in s.rectifications.iter().enumerate() {
        let _ = writeln!(
            h,
            "<p>{}. {}：{}{}{}</p>",
            i + 1,
            e(&rect.unit_name),
            e(&rect.requirement),
            t(lang, "整改时限：", " Deadline: "),
            e(&zh_date(rect.deadline))
        );
    }
    let _ = writeln!(
        h,
        "<h2>{}</h2>\n<p>{}</p>\n<p class=\"sign\">{}<br>{}</p>\n</body>\n</html>",
        t(lang, "六、工作要求", "6. Requirements"),
        e(&s.closing),
        e(&s.issuer),
        e(&issued_on(s))
    );
    h
}

/// The bulletin in a file format (JSON is served by the route itself).
pub fn file_bytes(
    row: &BulletinRow,
    s: &Snapshot,
    format: Format,
    lang: Lang,
) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => serde_json::to_vec_pretty(s)?,
        Format::Html => html(row, s, lang).into_bytes(),
        Format::Markdown => super::markdown::markdown(row, s, lang).into_bytes(),
        Format::Csv => super::sheets::csv(s, lang),
        Format::Xlsx => super::sheets::xlsx(row, s, lang)?,
    })
}

/// The file name (without extension): 督查通报-2026年第3期, or
/// 督查通报-草稿-2026-11 for a draft.
pub fn file_name(row: &BulletinRow) -> String {
    match row.number_label() {
        Some(label) => format!("督查通报-{label}"),
        None => format!("督查通报-草稿-{}", row.period),
    }
}
