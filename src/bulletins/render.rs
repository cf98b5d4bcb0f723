//! A bulletin for people: a printable HTML page in the formal style of a
//! 督查通报 (red masthead, issue number, numbered sections, ranking and
//! overdue tables; the template `documents/bulletin.html`, see `templates`),
//! and the text tables the Markdown shares with it; the
//! Markdown is in `markdown`, the spreadsheets in `sheets`. Every piece of
//! data is escaped: unit names and task titles are user input.

use serde::Serialize;

use super::{BulletinRow, Snapshot};
use crate::domain::message::Lang;
use crate::domain::period::zh_date;
use crate::domain::traffic::TrafficLight;
use crate::rankings::{Ranking, RankingRow};
use crate::render::t;

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

/// The units with nothing due, in the one sentence every rendering names
/// them in (the printed page's `doc.bulletin.unranked`), not as rows of
/// zeros; none when every unit is ranked.
pub(super) fn unranked_sentence(r: &Ranking, lang: Lang) -> Option<String> {
    if r.unranked.is_empty() {
        return None;
    }
    let text = |key: &'static str| crate::i18n::text(lang, key);
    let names: Vec<&str> = r.unranked.iter().map(|x| x.unit.name.as_str()).collect();
    Some(format!(
        "{}{}{}",
        text("doc.bulletin.unranked").replace("{n}", &names.len().to_string()),
        names.join(text("doc.list_sep")),
        text("doc.full_stop")
    ))
}

/// The ranking table's header and rows (the ranked units; those with
/// nothing due are `unranked_sentence`), shared by every rendering.
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
        .map(|row| {
            let f = &row.figures;
            vec![
                row.rank.map_or_else(String::new, |n| n.to_string()),
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

/// What `documents/bulletin.html` is given: the bulletin's text and
/// figures, formatted, and the ranking condensed for a portrait A4 page.
#[derive(Debug, Serialize)]
pub struct BulletinDoc {
    pub lang: &'static str,
    pub title: String,
    /// 2026年第3期; none for a draft.
    pub number: Option<String>,
    pub issuer: String,
    /// 2026年12月1日
    pub issued_on: String,
    pub foreword: String,
    pub closing: String,
    /// Ranked units, best first.
    pub ranked: Vec<DocRow>,
    /// Units with nothing due: named in one sentence, not as rows of zeros.
    pub unranked: Vec<String>,
    /// The previous bulletin's number, which the rank changes compare with.
    pub previous: Option<String>,
    pub overdue: Vec<DocOverdue>,
    pub commended: Vec<String>,
    pub criticised: Vec<String>,
    pub rectifications: Vec<DocRectification>,
    /// Pictures (SVG, `pictures`) shown after the ranking; every label escaped.
    pub charts: String,
}

/// One ranked unit, as the printed table shows it.
#[derive(Debug, Serialize)]
pub struct DocRow {
    pub rank: u32,
    pub unit: String,
    pub due: u32,
    pub on_time: u32,
    pub late: u32,
    pub overdue: u32,
    pub completion: String,
    pub on_time_rate: String,
    pub score: String,
    /// ↑2, ↓1, → or —.
    pub change: String,
    /// green, yellow, red, or empty.
    pub light: &'static str,
    /// commended, criticised, or empty (also the row's class).
    pub mark: &'static str,
}

#[derive(Debug, Serialize)]
pub struct DocOverdue {
    pub code: String,
    pub title: String,
    pub unit: String,
    pub due: String,
    pub days: i64,
    pub leader: String,
}

#[derive(Debug, Serialize)]
pub struct DocRectification {
    pub unit: String,
    pub requirement: String,
    pub deadline: String,
}

/// The template context of a bulletin.
pub fn document(row: &BulletinRow, s: &Snapshot, lang: Lang) -> BulletinDoc {
    let r = &s.ranking;
    BulletinDoc {
        lang: crate::i18n::tag(lang),
        title: s.title.clone(),
        number: row.number_label(),
        issuer: s.issuer.clone(),
        issued_on: issued_on(s),
        foreword: s.foreword.clone(),
        closing: s.closing.clone(),
        ranked: r
            .ranked
            .iter()
            .map(|x| DocRow {
                rank: x.rank.unwrap_or_default(),
                unit: x.unit.name.clone(),
                due: x.figures.due,
                on_time: x.figures.completed_on_time,
                late: x.figures.completed_late,
                overdue: x.figures.overdue,
                completion: opt(x.completion_rate, "%"),
                on_time_rate: opt(x.on_time_rate, "%"),
                score: opt(x.score, ""),
                change: change(x),
                light: x.light.map_or("", |l| l.as_str()),
                mark: if x.criticised {
                    "criticised"
                } else if x.commended {
                    "commended"
                } else {
                    ""
                },
            })
            .collect(),
        unranked: r.unranked.iter().map(|x| x.unit.name.clone()).collect(),
        previous: r.previous_bulletin.as_ref().map(|p| p.number.clone()),
        overdue: r
            .overdue_tasks
            .iter()
            .map(|o| DocOverdue {
                code: o.code.clone(),
                title: o.title.clone(),
                unit: o.unit_name.clone(),
                due: o.due_date.to_string(),
                days: o.days_overdue,
                leader: o.leader.clone().unwrap_or_default(),
            })
            .collect(),
        commended: r.commended().map(|x| x.unit.name.clone()).collect(),
        criticised: r.criticised().map(|x| x.unit.name.clone()).collect(),
        rectifications: s
            .rectifications
            .iter()
            .map(|x| DocRectification {
                unit: x.unit_name.clone(),
                requirement: x.requirement.clone(),
                deadline: zh_date(x.deadline),
            })
            .collect(),
        charts: super::pictures::bulletin_charts(s, lang),
    }
}

/// The bulletin as a complete, printable HTML page (`documents/bulletin.html`).
pub fn html(row: &BulletinRow, s: &Snapshot, lang: Lang) -> anyhow::Result<String> {
    crate::templates::render("documents/bulletin.html", document(row, s, lang))
}
