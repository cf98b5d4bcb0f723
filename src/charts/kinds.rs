//! The three kinds of chart, drawn from plain data: horizontal bars (a
//! ranking), stacked horizontal bars (counts by kind per unit or domain) and
//! a line over periods (rates by month or by bulletin). Each chart shows its
//! title and legend as text, labels every value directly (so no number
//! depends on telling colours apart), and carries every number again in its
//! description for screen readers.

use super::svg::{clamp, fit, n, number, text_width, Fill, Svg, WIDTH};

const FONT: f64 = 12.0;
const TITLE_Y: f64 = 20.0;
const LEGEND_Y: f64 = 42.0;
const TOP: f64 = 58.0;
const ROW: f64 = 24.0;
const BAR: f64 = 15.0;
/// Room at the right of a bar for its value.
const VALUE_ROOM: f64 = 120.0;
const LABEL_MAX: f64 = 190.0;

/// One bar: its label, value, fill, and a word printed after the value
/// (the light's name, so the colour is never the only sign).
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub fill: Fill,
    pub note: String,
}

/// A part of a stacked bar: its name in the legend and its fill.
#[derive(Debug, Clone)]
pub struct Segment {
    pub name: String,
    pub fill: Fill,
}

/// One stacked bar: a value per segment, and a note after the total.
#[derive(Debug, Clone)]
pub struct Stack {
    pub label: String,
    pub values: Vec<f64>,
    pub note: String,
}

/// A line over the periods: one value (or a gap) per period.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// What a chart says when it has nothing to draw.
pub struct Words {
    pub no_data: String,
    /// Between a value and its unit (`%`, or nothing).
    pub suffix: String,
    /// The punctuation of the description: after a label, between values,
    /// between labels (full-width in Chinese).
    pub colon: &'static str,
    pub comma: &'static str,
    pub semicolon: &'static str,
}

/// A value a bar can be drawn with: finite and not negative.
fn drawable(v: f64) -> f64 {
    if v.is_finite() {
        v.max(0.0)
    } else {
        0.0
    }
}

fn label_column(labels: impl Iterator<Item = String>) -> f64 {
    labels
        .map(|l| text_width(&l, FONT))
        .fold(0.0, f64::max)
        .min(LABEL_MAX)
        + 12.0
}

fn heading(svg: &mut Svg, title: &str) {
    svg.text(8.0, TITLE_Y, 14.0, "start", &fit(title, 14.0, WIDTH - 16.0));
}

/// The legend: a swatch and a name for each fill, in one line.
fn legend(svg: &mut Svg, items: &[(Fill, String)]) {
    let mut x = 8.0;
    // Each item gets an equal share of the width, so the legend never
    // runs out of the picture.
    let room = WIDTH / items.len().max(1) as f64 - 40.0;
    for (fill, name) in items {
        svg.rect(x, LEGEND_Y - 10.0, 14.0, 12.0, *fill, None);
        let name = fit(name, FONT, room);
        svg.text(x + 18.0, LEGEND_Y, FONT, "start", &name);
        x += 18.0 + text_width(&name, FONT) + 16.0;
    }
}

fn empty(mut svg: Svg, title: &str, words: &Words) -> String {
    heading(&mut svg, title);
    svg.text(8.0, TOP, FONT, "start", &words.no_data);
    svg.set_height(TOP + 16.0);
    svg.finish(title, &words.no_data)
}

/// Horizontal bars, in the order given (a ranking: best first).
pub fn bars(title: &str, bars: &[Bar], legend_items: &[(Fill, String)], words: &Words) -> String {
    let key = bars.iter().fold(title.to_string(), |k, b| k + &b.label);
    let mut svg = Svg::new("bars", &key);
    if bars.is_empty() {
        return empty(svg, title, words);
    }
    heading(&mut svg, title);
    legend(&mut svg, legend_items);
    let left = label_column(bars.iter().map(|b| b.label.clone()));
    let room = WIDTH - left - VALUE_ROOM;
    let max = bars.iter().map(|b| drawable(b.value)).fold(0.0, f64::max);
    let mut desc = Vec::new();
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        let value = format!("{}{}", number(b.value), words.suffix);
        let shown = if b.note.is_empty() {
            value.clone()
        } else {
            format!("{value} {}", b.note)
        };
        svg.text(
            left - 6.0,
            y + BAR - 3.0,
            FONT,
            "end",
            &fit(&b.label, FONT, left - 12.0),
        );
        let w = if max > 0.0 {
            drawable(b.value) / max * room
        } else {
            0.0
        };
        svg.rect(
            left,
            y,
            w,
            BAR,
            b.fill,
            Some(&format!("{}{}{shown}", b.label, words.colon)),
        );
        svg.text(
            left + w + 4.0,
            y + BAR - 3.0,
            FONT,
            "start",
            &fit(&shown, FONT, VALUE_ROOM - 8.0),
        );
        desc.push(format!("{}{}{shown}", b.label, words.colon));
    }
    svg.line(
        left,
        TOP - 4.0,
        left,
        TOP + bars.len() as f64 * ROW,
        r##"stroke="#333""##,
    );
    svg.set_height(TOP + bars.len() as f64 * ROW + 8.0);
    svg.finish(title, &desc.join(words.semicolon))
}

/// Stacked horizontal bars: one per row, a part per segment, the total
/// and the note at the end.
pub fn stacked(
    title: &str,
    segments: &[Segment],
    stacks: &[Stack],
    total_word: &str,
    words: &Words,
) -> String {
    let key = stacks.iter().fold(title.to_string(), |k, s| k + &s.label);
    let mut svg = Svg::new("stacked", &key);
    if stacks.is_empty() || segments.is_empty() {
        return empty(svg, title, words);
    }
    heading(&mut svg, title);
    let items: Vec<(Fill, String)> = segments.iter().map(|s| (s.fill, s.name.clone())).collect();
    legend(&mut svg, &items);
    let left = label_column(stacks.iter().map(|s| s.label.clone()));
    let room = WIDTH - left - VALUE_ROOM;
    let total = |s: &Stack| {
        s.values
            .iter()
            .take(segments.len())
            .map(|v| drawable(*v))
            .sum::<f64>()
    };
    let max = stacks.iter().map(total).fold(0.0, f64::max);
    let mut desc = Vec::new();
    for (i, s) in stacks.iter().enumerate() {
        let y = TOP + i as f64 * ROW;
        svg.text(
            left - 6.0,
            y + BAR - 3.0,
            FONT,
            "end",
            &fit(&s.label, FONT, left - 12.0),
        );
        let mut x = left;
        let mut parts = Vec::new();
        for (seg, v) in segments
            .iter()
            .zip(s.values.iter().chain(std::iter::repeat(&0.0)))
        {
            let w = if max > 0.0 {
                drawable(*v) / max * room
            } else {
                0.0
            };
            let text = number(*v);
            svg.rect(
                x,
                y,
                w,
                BAR,
                seg.fill,
                Some(&format!("{} {}{}{text}", s.label, seg.name, words.colon)),
            );
            // The count inside its part when it fits, on a white ground so
            // it reads over any texture.
            let tw = text_width(&text, 11.0);
            if drawable(*v) > 0.0 && w >= tw + 6.0 {
                svg.raw(&format!(
                    r##"<rect x="{}" y="{}" width="{}" height="11" fill="#fff" opacity="0.85"/>"##,
                    n(x + w / 2.0 - tw / 2.0 - 1.5),
                    n(y + 2.0),
                    n(tw + 3.0)
                ));
                svg.text(x + w / 2.0, y + BAR - 4.0, 11.0, "middle", &text);
            }
            parts.push(format!("{} {text}", seg.name));
            x += w;
        }
        let end = format!("{total_word} {}", number(total(s)));
        let end = if s.note.is_empty() {
            end
        } else {
            format!("{end} {}", s.note)
        };
        svg.text(
            clamp(x + 4.0, 0.0, WIDTH),
            y + BAR - 3.0,
            FONT,
            "start",
            &fit(&end, FONT, VALUE_ROOM - 8.0),
        );
        let note = if s.note.is_empty() {
            String::new()
        } else {
            format!("{}{}", words.comma, s.note)
        };
        desc.push(format!(
            "{}{}{}{note}",
            s.label,
            words.colon,
            parts.join(words.comma)
        ));
    }
    svg.set_height(TOP + stacks.len() as f64 * ROW + 8.0);
    svg.finish(title, &desc.join(words.semicolon))
}

const PLOT_LEFT: f64 = 44.0;
const PLOT_RIGHT: f64 = WIDTH - 24.0;
const PLOT_HEIGHT: f64 = 190.0;

/// Lines over periods, on a scale from 0 to `scale_max` (100 for rates),
/// raised when a value is higher. Each line has its own dash and marker and
/// every point its value, so the lines are told apart without colour.
pub fn lines(
    title: &str,
    periods: &[String],
    series: &[Series],
    scale_max: f64,
    words: &Words,
) -> String {
    let key = periods.iter().fold(title.to_string(), |k, p| k + p);
    let mut svg = Svg::new("lines", &key);
    let any = series
        .iter()
        .any(|s| s.values.iter().flatten().any(|v| v.is_finite()));
    if periods.is_empty() || series.is_empty() || !any {
        return empty(svg, title, words);
    }
    heading(&mut svg, title);
    let top = TOP + 12.0;
    let bottom = top + PLOT_HEIGHT;
    let highest = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .map(|v| drawable(*v))
        .fold(0.0, f64::max);
    let max = if highest > scale_max && highest.is_finite() {
        highest
    } else if scale_max > 0.0 {
        scale_max
    } else {
        1.0
    };
    // The scale: five lines, labelled.
    for k in 0..=4 {
        let v = max * f64::from(k) / 4.0;
        let y = bottom - PLOT_HEIGHT * f64::from(k) / 4.0;
        svg.line(
            PLOT_LEFT,
            y,
            PLOT_RIGHT,
            y,
            r##"stroke="#bbb" stroke-width="0.6""##,
        );
        svg.text(
            PLOT_LEFT - 4.0,
            y + 4.0,
            10.0,
            "end",
            &fit(&number(v), 10.0, PLOT_LEFT - 6.0),
        );
    }
    let step = if periods.len() > 1 {
        (PLOT_RIGHT - PLOT_LEFT - 20.0) / (periods.len() - 1) as f64
    } else {
        0.0
    };
    let x_of = |i: usize| {
        if periods.len() > 1 {
            PLOT_LEFT + 10.0 + step * i as f64
        } else {
            (PLOT_LEFT + PLOT_RIGHT) / 2.0
        }
    };
    // Period names under the axis: as many as fit side by side.
    let label_room = if periods.len() > 1 {
        step
    } else {
        PLOT_RIGHT - PLOT_LEFT
    };
    let widest = periods
        .iter()
        .map(|p| text_width(p, 10.0))
        .fold(0.0, f64::max);
    let every = if label_room > 0.0 {
        ((widest + 6.0) / label_room).ceil().max(1.0) as usize
    } else {
        1
    };
    for (i, p) in periods.iter().enumerate() {
        if i % every == 0 || i + 1 == periods.len() && every == 1 {
            let x = x_of(i);
            let room = (label_room * every as f64 - 4.0).min(2.0 * x.min(WIDTH - x) - 2.0);
            svg.text(x, bottom + 16.0, 10.0, "middle", &fit(p, 10.0, room));
        }
    }
    const DASHES: [&str; 3] = [
        "",
        r#" stroke-dasharray="6 4""#,
        r#" stroke-dasharray="2 3""#,
    ];
    let y_of = |v: f64| bottom - clamp(v, 0.0, max) / max * PLOT_HEIGHT;
    let mut items = Vec::new();
    for (k, s) in series.iter().enumerate() {
        let dash = DASHES[k % DASHES.len()];
        // A path per unbroken run: a missing period is a gap, not a zero.
        let mut d = String::new();
        let mut pen = false;
        for (i, v) in s.values.iter().take(periods.len()).enumerate() {
            match v.filter(|v| v.is_finite()) {
                Some(v) => {
                    d.push_str(&format!(
                        "{}{},{} ",
                        if pen { "L" } else { "M" },
                        n(x_of(i)),
                        n(y_of(v))
                    ));
                    pen = true;
                }
                None => pen = false,
            }
        }
        if !d.is_empty() {
            svg.raw(&format!(
                r##"<path d="{}" fill="none" stroke="#222" stroke-width="1.6"{dash}/>"##,
                d.trim_end()
            ));
        }
        for (i, v) in s.values.iter().take(periods.len()).enumerate() {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                continue;
            };
            let (x, y) = (x_of(i), y_of(v));
            marker(&mut svg, k, x, y);
            // The highest value at a period is labelled above its point, the
            // others below theirs, so close lines do not write over each other.
            let highest = series
                .iter()
                .filter_map(|s| s.values.get(i).copied().flatten())
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            let ty = if v >= highest { y - 7.0 } else { y + 16.0 };
            let text = format!("{}{}", number(v), words.suffix);
            let text = fit(&text, 10.0, 2.0 * x.min(WIDTH - x) - 2.0);
            svg.text(x, ty.max(TOP), 10.0, "middle", &text);
        }
        items.push(k);
    }
    // The legend draws each line's dash and marker beside its name.
    let mut x = 8.0;
    let room = WIDTH / series.len() as f64 - 58.0;
    for k in items {
        let dash = DASHES[k % DASHES.len()];
        svg.raw(&format!(
            r##"<path d="M{},{} h28" stroke="#222" stroke-width="1.6"{dash}/>"##,
            n(x),
            n(LEGEND_Y - 4.0)
        ));
        marker(&mut svg, k, x + 14.0, LEGEND_Y - 4.0);
        let name = fit(&series[k].name, FONT, room);
        svg.text(x + 34.0, LEGEND_Y, FONT, "start", &name);
        x += 34.0 + text_width(&name, FONT) + 18.0;
    }
    let desc: Vec<String> = periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let values: Vec<String> = series
                .iter()
                .map(|s| {
                    let v = s.values.get(i).copied().flatten();
                    let v = v.map_or("—".to_string(), |v| {
                        format!("{}{}", number(v), words.suffix)
                    });
                    format!("{} {v}", s.name)
                })
                .collect();
            format!("{p}{}{}", words.colon, values.join(words.comma))
        })
        .collect();
    svg.set_height(bottom + 28.0);
    svg.finish(title, &desc.join(words.semicolon))
}

/// A point's marker: a circle, a square or a triangle, white inside.
fn marker(svg: &mut Svg, k: usize, x: f64, y: f64) {
    let style = r##"fill="#fff" stroke="#222" stroke-width="1.4""##;
    svg.raw(&match k % 3 {
        0 => format!(r#"<circle cx="{}" cy="{}" r="3.5" {style}/>"#, n(x), n(y)),
        1 => format!(
            r#"<rect x="{}" y="{}" width="7" height="7" {style}/>"#,
            n(x - 3.5),
            n(y - 3.5)
        ),
        _ => format!(r#"<path d="M{},{} l4,7 h-8 z" {style}/>"#, n(x), n(y - 4.0)),
    });
}
