//! The drawing layer under the charts: an SVG document built as a string,
//! every piece of text XML-escaped on the way in, the fill patterns that keep
//! a chart legible in black and white, and the text measure used to fit
//! labels inside the picture (no font files on the server, so widths are
//! estimated: a CJK character is one em, other characters about 0.6 em).

use std::fmt::Write;

/// Every chart uses the same fonts: the CJK face installed with Chromium
/// on the servers (and on the office's PCs), then the platform's sans-serif.
pub const FONT_FAMILY: &str = "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', sans-serif";

/// The width of every chart, in user units (the SVG scales to its box).
pub const WIDTH: f64 = 640.0;

/// XML-escapes text for an element's content or a double-quoted attribute,
/// and drops the characters XML 1.0 forbids (control characters), so any
/// user-typed name yields a well-formed document.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The estimated width of `text` at `size` (see the module header).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f64>()
        * size
}

/// `text` cut (with an ellipsis) to fit `max` at `size`; the full text is
/// kept in the chart's description.
pub fn fit(text: &str, size: f64, max: f64) -> String {
    if text_width(text, size) <= max {
        return text.to_string();
    }
    if max < size {
        return String::new();
    }
    let mut out = String::new();
    let mut width = size; // room for the ellipsis
    for c in text.chars() {
        let w = if c.is_ascii() { 0.6 * size } else { size };
        if width + w > max {
            break;
        }
        width += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// A number for people: at most two decimals, no trailing zeros; a value
/// that is not a number (NaN, infinite) reads as a dash.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.abs() >= 1e9 {
        return format!("{v:.3e}");
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// How a series or a light is drawn: a pale colour for the screen and a
/// texture for black-and-white print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// Light green, plain: on track, met.
    Green,
    /// Yellow with diagonal hatching: at risk.
    Yellow,
    /// Red with cross-hatching: overdue, not met.
    Red,
    /// Grey with dots: no light, no value.
    Grey,
    /// Blue with horizontal lines: a neutral measure.
    Blue,
}

impl Fill {
    pub const ALL: [Fill; 5] = [Fill::Green, Fill::Yellow, Fill::Red, Fill::Grey, Fill::Blue];

    fn name(self) -> &'static str {
        match self {
            Fill::Green => "green",
            Fill::Yellow => "yellow",
            Fill::Red => "red",
            Fill::Grey => "grey",
            Fill::Blue => "blue",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Fill::Green => "#b7e4b0",
            Fill::Yellow => "#ffe38a",
            Fill::Red => "#f5a3a3",
            Fill::Grey => "#dddddd",
            Fill::Blue => "#a9c8ee",
        }
    }

    /// The texture drawn over the colour, in an 8×8 tile.
    fn texture(self) -> &'static str {
        match self {
            Fill::Green => "",
            Fill::Yellow => {
                r##"<path d="M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4" stroke="#333" stroke-width="1"/>"##
            }
            Fill::Red => r##"<path d="M0,0 l8,8 M8,0 l-8,8" stroke="#222" stroke-width="1.2"/>"##,
            Fill::Grey => r##"<circle cx="4" cy="4" r="1.2" fill="#333"/>"##,
            Fill::Blue => r##"<path d="M0,4 h8" stroke="#333" stroke-width="1"/>"##,
        }
    }
}

/// A chart's SVG document under construction.
pub struct Svg {
    /// Prefix of every id in this document: several charts share one HTML
    /// page, and ids in inline SVG are the page's.
    id: String,
    height: f64,
    body: String,
}

impl Svg {
    /// `key` names the chart and its data: the same chart gets the same ids.
    pub fn new(kind: &str, key: &str) -> Svg {
        // FNV-1a: stable across runs and builds, unlike the std hasher's seed.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Svg {
            id: format!("chart-{kind}-{:08x}", hash & 0xffff_ffff),
            height: 0.0,
            body: String::new(),
        }
    }

    pub fn set_height(&mut self, height: f64) {
        self.height = height;
    }

    /// The fill attribute value for `fill` (its pattern in this document).
    pub fn fill(&self, fill: Fill) -> String {
        format!("url(#{}-{})", self.id, fill.name())
    }

    pub fn raw(&mut self, markup: &str) {
        self.body.push_str(markup);
    }

    /// A rectangle, clipped to the picture; nothing for an empty one.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Fill, label: Option<&str>) {
        let x = clamp(x, 0.0, WIDTH);
        let w = clamp(w, 0.0, WIDTH - x);
        if w <= 0.0 || h <= 0.0 {
            return;
        }
        let _ = write!(
            self.body,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#333" stroke-width="0.8">"##,
            n(x),
            n(y),
            n(w),
            n(h),
            self.fill(fill)
        );
        if let Some(label) = label {
            let _ = write!(self.body, "<title>{}</title>", escape(label));
        }
        self.body.push_str("</rect>");
    }

    /// Text at (x, y); `anchor` is start, middle or end.
    pub fn text(&mut self, x: f64, y: f64, size: f64, anchor: &str, text: &str) {
        let _ = write!(
            self.body,
            r#"<text x="{}" y="{}" font-size="{}" text-anchor="{anchor}">{}</text>"#,
            n(clamp(x, 0.0, WIDTH)),
            n(y.max(0.0)),
            n(size),
            escape(text)
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, style: &str) {
        let _ = write!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" {style}/>"#,
            n(clamp(x1, 0.0, WIDTH)),
            n(y1),
            n(clamp(x2, 0.0, WIDTH)),
            n(y2)
        );
    }

    /// The finished document: `title` is its accessible name, `desc` the
    /// numbers in words for screen readers.
    pub fn finish(self, title: &str, desc: &str) -> String {
        let mut out = String::new();
        let id = &self.id;
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-labelledby="{id}-title" aria-describedby="{id}-desc" font-family="{font}" font-size="12" fill="#000">"##,
            w = n(WIDTH),
            h = n(self.height),
            font = FONT_FAMILY,
        );
        let _ = write!(
            out,
            r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc><defs>"#,
            escape(title),
            escape(desc)
        );
        for fill in Fill::ALL {
            let _ = write!(
                out,
                r#"<pattern id="{id}-{}" width="8" height="8" patternUnits="userSpaceOnUse"><rect width="8" height="8" fill="{}"/>{}</pattern>"#,
                fill.name(),
                fill.colour(),
                fill.texture()
            );
        }
        out.push_str("</defs>");
        out.push_str(&self.body);
        out.push_str("</svg>");
        out
    }
}

pub fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    if v.is_nan() {
        lo
    } else {
        v.max(lo).min(hi)
    }
}

/// A coordinate: one decimal is plenty at this size.
pub fn n(v: f64) -> String {
    let v = if v.is_finite() { v } else { 0.0 };
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_string)
}
