//! The charts are well-formed XML, carry their numbers, escape their
//! labels and stay inside their picture whatever they are given.

use chrono::NaiveDate;
use proptest::prelude::*;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::kinds::{self, Bar, Segment, Series, Stack, Words};
use super::svg::{text_width, Fill, WIDTH};
use super::*;

/// An element as parsed: its name, attributes (unescaped) and direct text.
#[derive(Debug)]
pub(crate) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    /// Inside `<defs>` (a pattern's tile, not drawn where it stands).
    pub in_defs: bool,
}

impl Element {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, key: &str) -> Option<f64> {
        self.attr(key).map(|v| v.parse().unwrap())
    }
}

/// Parses `svg` strictly (one root, end names checked, only the five XML
/// entities); panics on anything not well-formed.
pub(crate) fn parse(svg: &str) -> Vec<Element> {
    let mut reader = Reader::from_str(svg);
    reader.config_mut().check_end_names = true;
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut roots = 0;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e}: {svg}")) {
            Event::Start(e) => {
                roots += usize::from(open.is_empty());
                let in_defs = open.iter().any(|&i| out[i].name == "defs");
                out.push(Element {
                    in_defs,
                    ..element(&e)
                });
                open.push(out.len() - 1);
            }
            Event::Empty(e) => {
                roots += usize::from(open.is_empty());
                let in_defs = open.iter().any(|&i| out[i].name == "defs");
                out.push(Element {
                    in_defs,
                    ..element(&e)
                });
            }
            Event::End(_) => {
                open.pop().expect("an end without a start");
            }
            Event::Text(t) => {
                let text = t.to_string();
                assert!(
                    !open.is_empty() || text.trim().is_empty(),
                    "text outside the root"
                );
                if let Some(&i) = open.last() {
                    out[i].text.push_str(&text);
                }
            }
            Event::GeneralRef(r) => {
                let c = match &*r {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => panic!("unknown entity &{other};"),
                };
                let i = *open.last().expect("a reference outside the root");
                out[i].text.push_str(c);
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(open.is_empty(), "unclosed elements");
    assert_eq!(roots, 1, "one root element");
    assert_eq!(out[0].name, "svg");
    out
}

fn element(e: &quick_xml::events::BytesStart) -> Element {
    Element {
        name: e.name().0.to_string(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                (
                    a.key.0.to_string(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .to_string(),
                )
            })
            .collect(),
        text: String::new(),
        in_defs: false,
    }
}

/// All the text a person or a screen reader gets: the drawn texts, the
/// description and the rectangles' tooltips.
fn all_text(elements: &[Element]) -> String {
    elements
        .iter()
        .map(|e| e.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn desc(elements: &[Element]) -> String {
    elements
        .iter()
        .find(|e| e.name == "desc")
        .map(|e| e.text.clone())
        .unwrap_or_default()
}

/// Every shape and text inside the viewBox (texts by their estimated width).
pub(crate) fn inside(elements: &[Element]) {
    let view: Vec<f64> = elements[0]
        .attr("viewBox")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let (w, h) = (view[2], view[3]);
    assert_eq!(w, WIDTH);
    let within = |v: f64, hi: f64, what: &str| {
        assert!(
            v.is_finite() && v >= -0.05 && v <= hi + 0.05,
            "{what} = {v} outside 0..{hi}"
        );
    };
    for e in elements.iter().filter(|e| !e.in_defs) {
        for key in ["x", "x1", "x2", "cx"] {
            if let Some(v) = e.num(key) {
                within(v, w, key);
            }
        }
        for key in ["y", "y1", "y2", "cy"] {
            if let Some(v) = e.num(key) {
                within(v, h, key);
            }
        }
        if e.name == "rect" {
            let (x, y) = (e.num("x").unwrap_or(0.0), e.num("y").unwrap_or(0.0));
            within(x + e.num("width").unwrap(), w, "x + width");
            within(y + e.num("height").unwrap(), h, "y + height");
        }
        if e.name == "text" {
            let x = e.num("x").unwrap();
            let width = text_width(&e.text, e.num("font-size").unwrap());
            let (from, to) = match e.attr("text-anchor") {
                Some("end") => (x - width, x),
                Some("middle") => (x - width / 2.0, x + width / 2.0),
                _ => (x, x + width),
            };
            within(from, w, "text start");
            within(to, w, "text end");
        }
    }
}

fn words() -> Words {
    Words {
        no_data: "暂无数据".into(),
        suffix: "%".into(),
        colon: "：",
        comma: "，",
        semicolon: "；",
    }
}

fn legend() -> Vec<(Fill, String)> {
    vec![
        (Fill::Green, "绿灯".into()),
        (Fill::Yellow, "黄灯".into()),
        (Fill::Red, "红灯".into()),
    ]
}

pub(crate) const HOSTILE: &str = "<script>alert(1)</script>&amp;\"'市局]]>";

#[test]
fn bars_carry_every_value_and_are_valid_xml() {
    let bars = vec![
        Bar {
            label: "市住房和城乡建设局".into(),
            value: 86.5,
            fill: Fill::Green,
            note: "绿灯".into(),
        },
        Bar {
            label: "东城镇".into(),
            value: 73.9,
            fill: Fill::Red,
            note: "红灯".into(),
        },
    ];
    let svg = kinds::bars("得分排名", &bars, &legend(), &words());
    let elements = parse(&svg);
    inside(&elements);
    let text = all_text(&elements);
    for needle in [
        "86.5%",
        "73.9%",
        "市住房和城乡建设局",
        "东城镇",
        "红灯",
        "得分排名",
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    assert!(desc(&elements).contains("东城镇：73.9% 红灯"));
    // The fonts, and a pattern for each light (black-and-white print).
    assert!(svg.contains("font-family=\"'Noto Sans CJK SC'"), "{svg}");
    assert!(svg.contains("sans-serif\""));
    assert!(elements.iter().filter(|e| e.name == "pattern").count() >= 3);
    assert_eq!(elements[0].attr("role"), Some("img"));
    let red = elements
        .iter()
        .find(|e| e.name == "rect" && e.attr("fill").is_some_and(|f| f.ends_with("-red)")))
        .expect("a red bar");
    assert!(red.num("width").unwrap() < 640.0);
}

#[test]
fn hostile_labels_are_escaped_everywhere() {
    let bars = vec![Bar {
        label: HOSTILE.into(),
        value: 1.0,
        fill: Fill::Yellow,
        note: HOSTILE.into(),
    }];
    let stacks = vec![Stack {
        label: HOSTILE.into(),
        values: vec![1.0, 2.0],
        note: HOSTILE.into(),
    }];
    let segments = vec![
        Segment {
            name: HOSTILE.into(),
            fill: Fill::Green,
        },
        Segment {
            name: "b".into(),
            fill: Fill::Red,
        },
    ];
    let series = vec![Series {
        name: HOSTILE.into(),
        values: vec![Some(1.0)],
    }];
    for svg in [
        kinds::bars(HOSTILE, &bars, &[(Fill::Red, HOSTILE.into())], &words()),
        kinds::stacked(HOSTILE, &segments, &stacks, HOSTILE, &words()),
        kinds::lines(HOSTILE, &[HOSTILE.into()], &series, 100.0, &words()),
    ] {
        let elements = parse(&svg);
        assert!(elements.iter().all(|e| e.name != "script"), "{svg}");
        assert!(!svg.contains("<script"));
        // The label reads as typed in the alternative text.
        assert!(desc(&elements).contains(HOSTILE), "{svg}");
        assert!(elements
            .iter()
            .any(|e| e.name == "title" && e.text == HOSTILE));
    }
}

#[test]
fn stacked_bars_count_each_part() {
    let segments = [
        Segment {
            name: "达标".into(),
            fill: Fill::Green,
        },
        Segment {
            name: "未达标".into(),
            fill: Fill::Red,
        },
        Segment {
            name: "未报送".into(),
            fill: Fill::Grey,
        },
    ];
    let stacks = [
        Stack {
            label: "生态经济".into(),
            values: vec![7.0, 3.0, 1.0],
            note: "逾期 2".into(),
        },
        Stack {
            label: "生态文化".into(),
            values: vec![0.0, 0.0, 0.0],
            note: "逾期 0".into(),
        },
    ];
    let svg = kinds::stacked("各领域指标达标情况", &segments, &stacks, "合计", &words());
    let elements = parse(&svg);
    inside(&elements);
    let d = desc(&elements);
    assert!(
        d.contains("生态经济：达标 7，未达标 3，未报送 1，逾期 2"),
        "{d}"
    );
    assert!(
        d.contains("生态文化：达标 0，未达标 0，未报送 0，逾期 0"),
        "{d}"
    );
    let text = all_text(&elements);
    assert!(text.contains("合计 11 逾期 2"), "{text}");
    for n in ["7", "3"] {
        assert!(
            elements.iter().any(|e| e.name == "text" && e.text == n),
            "{n}"
        );
    }
}

#[test]
fn lines_label_every_point_and_leave_gaps() {
    let periods: Vec<String> = ["2026年9月", "2026年10月", "2026年11月"]
        .map(String::from)
        .to_vec();
    let series = [
        Series {
            name: "完成率".into(),
            values: vec![Some(50.0), None, Some(87.5)],
        },
        Series {
            name: "按时完成率".into(),
            values: vec![Some(25.0), Some(40.0), Some(62.25)],
        },
    ];
    let svg = kinds::lines("各月完成率", &periods, &series, 100.0, &words());
    let elements = parse(&svg);
    inside(&elements);
    let text = all_text(&elements);
    for n in ["50%", "87.5%", "25%", "40%", "62.25%", "2026年10月"] {
        assert!(text.contains(n), "{n} missing");
    }
    assert!(desc(&elements).contains("2026年10月：完成率 —，按时完成率 40%"));
    // The gap splits the first line: two runs, two moves.
    let first = elements
        .iter()
        .find(|e| {
            e.name == "path"
                && e.attr("stroke-dasharray").is_none()
                && e.attr("fill") == Some("none")
        })
        .unwrap();
    assert_eq!(first.attr("d").unwrap().matches('M').count(), 2);
    // The second line is dashed, so the two are told apart in print.
    assert!(elements
        .iter()
        .any(|e| e.name == "path" && e.attr("stroke-dasharray").is_some()));
}

#[test]
fn nothing_to_draw_says_so() {
    for svg in [
        kinds::bars("t", &[], &legend(), &words()),
        kinds::stacked("t", &[], &[], "合计", &words()),
        kinds::lines("t", &[], &[], 100.0, &words()),
        kinds::lines(
            "t",
            &["2026-11".into()],
            &[Series {
                name: "a".into(),
                values: vec![None],
            }],
            100.0,
            &words(),
        ),
    ] {
        let elements = parse(&svg);
        inside(&elements);
        assert!(desc(&elements).contains("暂无数据"));
    }
}

pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn monthly_rates_judge_each_month_like_a_bulletin() {
    let tasks = [
        // Due in September, done on time.
        TaskFacts {
            due: d(2026, 9, 10),
            done_on: Some(d(2026, 9, 9)),
        },
        // Due in October, done in November: overdue in October, late in November.
        TaskFacts {
            due: d(2026, 10, 10),
            done_on: Some(d(2026, 11, 3)),
        },
        // Due in November, not done.
        TaskFacts {
            due: d(2026, 11, 20),
            done_on: None,
        },
    ];
    let rates = monthly_rates(&tasks, d(2026, 12, 1), 12);
    let labels: Vec<String> = rates.iter().map(|r| r.0.label()).collect();
    assert_eq!(labels, ["2026-09", "2026-10", "2026-11", "2026-12"]);
    assert_eq!((rates[0].1, rates[0].2), (Some(100.0), Some(100.0)));
    // October: the October task still open at the end of October.
    assert_eq!((rates[1].1, rates[1].2), (Some(0.0), Some(0.0)));
    // November: the October task done late, the November one overdue.
    assert_eq!((rates[2].1, rates[2].2), (Some(50.0), Some(0.0)));
    // December so far: the November task is still overdue.
    assert_eq!((rates[3].1, rates[3].2), (Some(0.0), Some(0.0)));
    assert_eq!(monthly_rates(&tasks, d(2026, 12, 1), 2).len(), 2);
    assert!(monthly_rates(&[], d(2026, 12, 1), 12).is_empty());
}

#[test]
fn indicator_domains_stack_met_not_met_and_note_overdue() {
    use crate::indicators::dashboard::DomainGroup;
    let groups = vec![DomainGroup {
        domain: IndicatorDomain::Economy,
        met: 4,
        not_met: 2,
        no_value: 1,
        overdue: 3,
        indicators: Vec::new(),
    }];
    let svg = indicator_domains(&groups, Lang::Zh);
    let elements = parse(&svg);
    inside(&elements);
    assert!(desc(&elements).contains("生态经济：达标 4，未达标 2，未报送 1，逾期 3"));
}

fn arb_label() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(HOSTILE.to_string()),
        "[\\PC]{0,80}",
        ".{0,200}",
        "[市县乡镇局委办]{30,60}",
    ]
}

fn arb_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        0.0..100.0f64,
        -1e3..1e3f64,
        Just(f64::MAX),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(1e300),
        any::<f64>(),
    ]
}

fn arb_fill() -> impl Strategy<Value = Fill> {
    prop::sample::select(Fill::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bars_are_well_formed_and_inside(
        title in arb_label(),
        bars in prop::collection::vec((arb_label(), arb_value(), arb_fill(), arb_label()), 0..40),
    ) {
        let bars: Vec<Bar> = bars
            .into_iter()
            .map(|(label, value, fill, note)| Bar { label, value, fill, note })
            .collect();
        let elements = parse(&kinds::bars(&title, &bars, &legend(), &words()));
        inside(&elements);
    }

    #[test]
    fn any_stacks_are_well_formed_and_inside(
        title in arb_label(),
        names in prop::collection::vec((arb_label(), arb_fill()), 0..5),
        stacks in prop::collection::vec((arb_label(), prop::collection::vec(arb_value(), 0..6), arb_label()), 0..30),
    ) {
        let segments: Vec<Segment> = names.into_iter().map(|(name, fill)| Segment { name, fill }).collect();
        let stacks: Vec<Stack> = stacks
            .into_iter()
            .map(|(label, values, note)| Stack { label, values, note })
            .collect();
        let elements = parse(&kinds::stacked(&title, &segments, &stacks, "合计", &words()));
        inside(&elements);
    }

    #[test]
    fn any_lines_are_well_formed_and_inside(
        title in arb_label(),
        periods in prop::collection::vec(arb_label(), 0..30),
        series in prop::collection::vec((arb_label(), prop::collection::vec(prop::option::of(arb_value()), 0..35)), 0..4),
        scale in arb_value(),
    ) {
        let series: Vec<Series> = series.into_iter().map(|(name, values)| Series { name, values }).collect();
        let elements = parse(&kinds::lines(&title, &periods, &series, scale, &words()));
        inside(&elements);
    }
}
