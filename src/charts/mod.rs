//! Charts rendered on the server as SVG strings, so that the printed
//! bulletin, its email attachment and the console show the same picture
//! (and nothing depends on JavaScript in the browser).
//!
//! Why a module of our own and not a crate: the crates that draw SVG
//! (`plotters` with its SVG backend, `charts-rs`) lay text out with font
//! files they load or embed (for `charts-rs`, text as paths or with its own
//! bundled Latin font), neither knows a hatched fill for black-and-white
//! print, and neither writes a `<title>`/`<desc>` text alternative; bending
//! them to that would be more code than three small chart kinds. Here text
//! stays `<text>` in "Noto Sans CJK SC" (installed with Chromium on the
//! servers) so Chinese labels print crisply and can be searched and read
//! aloud; widths are estimated per character (`svg::text_width`).
//!
//! Every chart: a visible title and legend; each value written beside its
//! bar or point; fills with a texture as well as a colour (green plain,
//! yellow hatched, red cross-hatched); `role="img"` with `<title>` and a
//! `<desc>` giving every number for screen readers; every label XML-escaped
//! (`svg::escape`), so a template may insert the result with `|safe`.
//!
//! `kinds` draws from plain data; the functions below turn duban's figures
//! into charts: the plan page (light distribution by lead unit, completion
//! and on-time rates by month), the indicator dashboard (met / not met / no
//! value by domain, overdue reports noted). A bulletin's pictures are drawn
//! by `bulletins::pictures` and a unit's record by `unit_record::chart`, with
//! the pieces here (they read bulletins, which charts does not).

pub mod kinds;
pub mod svg;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::domain::calendar::local_date;
use crate::domain::clock::Clock;
use crate::domain::figures::{classify, Judgement, Outcome, TaskFacts};
use crate::domain::kinds::IndicatorDomain;
use crate::domain::message::Lang;
use crate::domain::period::Period;
use crate::domain::task_state::TaskStatus;
use crate::domain::traffic::TrafficLight;
use crate::indicators::dashboard::DomainGroup;
use crate::tasks::model::TaskView;
use crate::tasks::tree::{Node, PlanTree};
use kinds::{Segment, Series, Stack, Words};
use svg::Fill;

pub(crate) fn t(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

pub(crate) fn words(lang: Lang, suffix: &str) -> Words {
    Words {
        no_data: t(lang, "暂无数据", "No data yet").into(),
        suffix: suffix.into(),
        colon: t(lang, "：", ": "),
        comma: t(lang, "，", ", "),
        semicolon: t(lang, "；", "; "),
    }
}

pub(crate) fn light_fill(light: Option<TrafficLight>) -> Fill {
    match light {
        Some(TrafficLight::Green) => Fill::Green,
        Some(TrafficLight::Yellow) => Fill::Yellow,
        Some(TrafficLight::Red) => Fill::Red,
        None => Fill::Grey,
    }
}

pub(crate) fn light_word(light: Option<TrafficLight>, lang: Lang) -> &'static str {
    match light {
        Some(TrafficLight::Green) => t(lang, "绿灯", "green"),
        Some(TrafficLight::Yellow) => t(lang, "黄灯", "yellow"),
        Some(TrafficLight::Red) => t(lang, "红灯", "red"),
        None => t(lang, "无灯", "no light"),
    }
}

pub(crate) fn light_legend(lang: Lang) -> Vec<(Fill, String)> {
    [
        Some(TrafficLight::Green),
        Some(TrafficLight::Yellow),
        Some(TrafficLight::Red),
    ]
    .into_iter()
    .map(|l| (light_fill(l), light_word(l, lang).to_string()))
    .collect()
}

fn light_segments(lang: Lang) -> Vec<Segment> {
    light_legend(lang)
        .into_iter()
        .map(|(fill, name)| Segment { name, fill })
        .collect()
}

/// Every task of a plan tree, parents before children.
fn flatten<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
    for n in nodes {
        out.push(n);
        flatten(&n.children, out);
    }
}

/// The plan's tasks by lead unit and light (each task's own light, not the
/// rolled-up one, so a task counts once), the units with red first.
pub fn light_by_unit(tree: &PlanTree, lang: Lang) -> String {
    let mut nodes = Vec::new();
    flatten(&tree.roots, &mut nodes);
    let mut by_unit: BTreeMap<&str, [f64; 3]> = BTreeMap::new();
    for n in nodes {
        let slot = match n.task.light {
            Some(TrafficLight::Green) => 0,
            Some(TrafficLight::Yellow) => 1,
            Some(TrafficLight::Red) => 2,
            None => continue,
        };
        by_unit.entry(n.lead_unit.as_str()).or_default()[slot] += 1.0;
    }
    let mut stacks: Vec<Stack> = by_unit
        .into_iter()
        .map(|(unit, values)| Stack {
            label: unit.to_string(),
            values: values.to_vec(),
            note: String::new(),
        })
        .collect();
    stacks.sort_by(|a, b| {
        b.values[2]
            .total_cmp(&a.values[2])
            .then(b.values[1].total_cmp(&a.values[1]))
    });
    kinds::stacked(
        t(
            lang,
            "各牵头单位任务灯色分布",
            "Tasks by lead unit and light",
        ),
        &light_segments(lang),
        &stacks,
        t(lang, "合计", "total"),
        &words(lang, ""),
    )
}

/// A task as the monthly rates count it: due, and done on the local day it
/// was submitted (submitted or completed), as in the rankings.
fn facts(task: &TaskView, clock: &Clock) -> Option<TaskFacts> {
    let done = matches!(task.status, TaskStatus::Submitted | TaskStatus::Completed);
    Some(TaskFacts {
        due: task.due_date?,
        done_on: task
            .submitted_at
            .filter(|_| done)
            .map(|at| local_date(at, clock.tz)),
    })
}

/// The month `day` falls in.
fn month_of(day: NaiveDate) -> Option<Period> {
    Period::parse(&format!("{}-{:02}", day.year(), day.month())).ok()
}

/// Completion and on-time rates (percent) of `tasks` for each month from
/// the first deadline to this month, at most the last `months`: each month
/// judged as a bulletin judges it (`domain::figures`), so a month's rates
/// are the ones its bulletin would show for these tasks.
pub fn monthly_rates(
    tasks: &[TaskFacts],
    today: NaiveDate,
    months: usize,
) -> Vec<(Period, Option<f64>, Option<f64>)> {
    let Some(first) = tasks.iter().map(|t| t.due).min() else {
        return Vec::new();
    };
    let mut periods = Vec::new();
    let mut day = first.min(today);
    while let Some(p) = month_of(day) {
        if p.start > today {
            break;
        }
        day = p.end + chrono::Duration::days(1);
        periods.push(p);
    }
    let skip = periods.len().saturating_sub(months);
    periods
        .into_iter()
        .skip(skip)
        .map(|p| {
            let j = Judgement::new(p, today);
            let (mut due, mut done, mut on_time) = (0u32, 0u32, 0u32);
            for task in tasks {
                match classify(task, &j) {
                    Some(Outcome::OnTime { .. }) => {
                        (due, done, on_time) = (due + 1, done + 1, on_time + 1)
                    }
                    Some(Outcome::Late { .. }) => (due, done) = (due + 1, done + 1),
                    Some(Outcome::Overdue { .. }) => due += 1,
                    Some(Outcome::NotYetDue) | None => {}
                }
            }
            let rate = |n: u32| {
                (due > 0).then(|| (f64::from(n) * 10000.0 / f64::from(due)).round() / 100.0)
            };
            (p, rate(done), rate(on_time))
        })
        .collect()
}

/// The plan's completion and on-time rates over the last twelve months.
pub fn plan_trend(tree: &PlanTree, clock: &Clock, lang: Lang) -> String {
    let mut nodes = Vec::new();
    flatten(&tree.roots, &mut nodes);
    let tasks: Vec<TaskFacts> = nodes.iter().filter_map(|n| facts(&n.task, clock)).collect();
    let rates = monthly_rates(&tasks, clock.today, 12);
    let periods: Vec<String> = rates
        .iter()
        .map(|(p, _, _)| match lang {
            Lang::Zh => p.label_zh(),
            Lang::En => p.label(),
        })
        .collect();
    let series = [
        Series {
            name: t(lang, "完成率", "completion rate").into(),
            values: rates.iter().map(|r| r.1).collect(),
        },
        Series {
            name: t(lang, "按时完成率", "on-time rate").into(),
            values: rates.iter().map(|r| r.2).collect(),
        },
    ];
    kinds::lines(
        t(
            lang,
            "各月完成率与按时完成率",
            "Completion and on-time rates by month",
        ),
        &periods,
        &series,
        100.0,
        &words(lang, "%"),
    )
}

fn domain_name(d: IndicatorDomain, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => d.as_str(),
        Lang::En => match d {
            IndicatorDomain::System => "Institutions",
            IndicatorDomain::Security => "Security",
            IndicatorDomain::Space => "Space",
            IndicatorDomain::Economy => "Economy",
            IndicatorDomain::Life => "Living",
            IndicatorDomain::Culture => "Culture",
        },
    }
}

/// The indicator dashboard by domain: met, not met and not yet reported
/// stacked (the latest value of each indicator; those without a target are
/// left out), and the indicators with a report overdue noted after the
/// total: overdue is not a third state of the value, an indicator can be
/// met and late with its next report, so it is not stacked.
pub fn indicator_domains(groups: &[DomainGroup], lang: Lang) -> String {
    let segments = [
        Segment {
            name: t(lang, "达标", "met").into(),
            fill: Fill::Green,
        },
        Segment {
            name: t(lang, "未达标", "not met").into(),
            fill: Fill::Red,
        },
        Segment {
            name: t(lang, "未报送", "no value").into(),
            fill: Fill::Grey,
        },
    ];
    let stacks: Vec<Stack> = groups
        .iter()
        .map(|g| Stack {
            label: domain_name(g.domain, lang).into(),
            values: vec![g.met as f64, g.not_met as f64, g.no_value as f64],
            note: format!("{} {}", t(lang, "逾期", "overdue"), g.overdue),
        })
        .collect();
    kinds::stacked(
        t(lang, "各领域指标达标情况", "Indicators by domain"),
        &segments,
        &stacks,
        t(lang, "合计", "total"),
        &words(lang, ""),
    )
}

#[cfg(test)]
pub(crate) mod tests;
