//! Assessment indicators (考核指标): targets as written in the catalogue
//! (≥20, ≤0.5, 100, 制定实施 …), whether a reported value meets them, and the
//! reporting periods and due days of monthly, quarterly and yearly indicators.

use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::period::Period;
use super::Message;

/// The six domains of the national indicator system.
pub const DOMAINS: [&str; 6] = [
    "生态制度",
    "生态安全",
    "生态空间",
    "生态经济",
    "生态生活",
    "生态文化",
];

/// How a value is compared with the target.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// At least the target value.
    Ge,
    /// At most the target value.
    Le,
    /// Exactly the target value (a bare number such as 100 %).
    Eq,
    /// A target in words (制定实施, 全面实施, 建立 …): the unit states met or not met.
    Qualitative,
    /// No target.
    None,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Ge => "ge",
            Comparison::Le => "le",
            Comparison::Eq => "eq",
            Comparison::Qualitative => "qualitative",
            Comparison::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Comparison> {
        Some(match s {
            "ge" => Comparison::Ge,
            "le" => Comparison::Le,
            "eq" => Comparison::Eq,
            "qualitative" => Comparison::Qualitative,
            "none" => Comparison::None,
            _ => return None,
        })
    }
}

/// A target: how to compare, and the number for numeric comparisons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    pub comparison: Comparison,
    pub value: Option<f64>,
}

/// Reads a target as written: `≥20`, `>=20`, `≤0.5`, `=100`, `100`, `100%`
/// are numeric; other text is qualitative; empty is no target.
pub fn parse_target(text: &str) -> Target {
    let t = text.trim();
    if t.is_empty() {
        return Target {
            comparison: Comparison::None,
            value: None,
        };
    }
    let (comparison, rest) = if let Some(r) = t.strip_prefix('≥').or_else(|| t.strip_prefix(">="))
    {
        (Comparison::Ge, r)
    } else if let Some(r) = t.strip_prefix('≤').or_else(|| t.strip_prefix("<=")) {
        (Comparison::Le, r)
    } else if let Some(r) = t.strip_prefix('=') {
        (Comparison::Eq, r)
    } else {
        (Comparison::Eq, t)
    };
    let number = rest.trim().trim_end_matches(['%', '％']).trim();
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() => Target {
            comparison,
            value: Some(v),
        },
        _ => Target {
            comparison: Comparison::Qualitative,
            value: None,
        },
    }
}

/// What a reported value says against the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Attainment {
    Met,
    NotMet,
    NoTarget,
}

/// Judges a value (numeric targets) or the unit's statement (qualitative).
pub fn attainment(target: &Target, value: Option<f64>, stated_met: Option<bool>) -> Attainment {
    // Reported figures carry rounding; compare to a millionth.
    const EPS: f64 = 1e-6;
    let met = match (target.comparison, target.value, value) {
        (Comparison::None, _, _) => return Attainment::NoTarget,
        (Comparison::Qualitative, _, _) => match stated_met {
            Some(m) => m,
            None => return Attainment::NoTarget,
        },
        (_, None, _) => return Attainment::NoTarget,
        (_, Some(_), None) => false,
        (Comparison::Ge, Some(t), Some(v)) => v >= t - EPS,
        (Comparison::Le, Some(t), Some(v)) => v <= t + EPS,
        (Comparison::Eq, Some(t), Some(v)) => (v - t).abs() <= EPS,
    };
    if met {
        Attainment::Met
    } else {
        Attainment::NotMet
    }
}

/// How often an indicator is reported.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Yearly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
        }
    }

    pub fn parse(s: &str) -> Result<Frequency, Message> {
        match s {
            "monthly" | "每月" | "月" => Ok(Frequency::Monthly),
            "quarterly" | "每季度" | "季度" => Ok(Frequency::Quarterly),
            "yearly" | "每年" | "年度" | "年" => Ok(Frequency::Yearly),
            _ => Err(Message::new(
                "报送频次必须是 monthly、quarterly 或 yearly（每月、每季度、每年）",
                "frequency must be monthly, quarterly or yearly",
            )),
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Frequency::Monthly => "每月",
            Frequency::Quarterly => "每季度",
            Frequency::Yearly => "每年",
        }
    }

    /// The reporting period that contains `day`.
    pub fn period_of(self, day: NaiveDate) -> Period {
        let text = match self {
            Frequency::Monthly => format!("{}-{:02}", day.year(), day.month()),
            Frequency::Quarterly => format!("{}-Q{}", day.year(), day.month().div_ceil(3)),
            Frequency::Yearly => day.year().to_string(),
        };
        // The text is built from a real date, so it always parses.
        Period::parse(&text).unwrap_or(Period {
            start: day,
            end: day,
        })
    }

    /// Whether `period` is one of this frequency's reporting periods.
    pub fn fits(self, period: &Period) -> bool {
        self.period_of(period.start) == *period
    }
}

/// The day a period's value is due: `report_day` of the month after it.
pub fn due_date(period: &Period, report_day: u32) -> NaiveDate {
    let next = period.end + Duration::days(1);
    NaiveDate::from_ymd_opt(next.year(), next.month(), report_day.clamp(1, 28)).unwrap_or(next)
}

/// The reporting periods owed from `from` on whose due date is on or before
/// `until`, oldest first.
pub fn owed_periods(
    frequency: Frequency,
    report_day: u32,
    from: NaiveDate,
    until: NaiveDate,
) -> Vec<(Period, NaiveDate)> {
    let mut out = Vec::new();
    let mut period = frequency.period_of(from);
    loop {
        let due = due_date(&period, report_day);
        if due > until {
            return out;
        }
        out.push((period, due));
        period = frequency.period_of(period.end + Duration::days(1));
    }
}

impl super::closed::ClosedSet for Comparison {
    const ALL: &'static [Comparison] = &[
        Comparison::Ge,
        Comparison::Le,
        Comparison::Eq,
        Comparison::Qualitative,
        Comparison::None,
    ];
    fn as_str(self) -> &'static str {
        Comparison::as_str(self)
    }
    fn from_name(name: &str) -> Option<Comparison> {
        Comparison::parse(name)
    }
}

/// Stored by their English names; the Chinese ones are for tables people write.
impl super::closed::ClosedSet for Frequency {
    const ALL: &'static [Frequency] =
        &[Frequency::Monthly, Frequency::Quarterly, Frequency::Yearly];
    fn as_str(self) -> &'static str {
        Frequency::as_str(self)
    }
    fn from_name(name: &str) -> Option<Frequency> {
        <Frequency as super::closed::ClosedSet>::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn targets_as_written() {
        let t = |s: &str| {
            let t = parse_target(s);
            (t.comparison, t.value)
        };
        assert_eq!(t("≥20"), (Comparison::Ge, Some(20.0)));
        assert_eq!(t(">= 4.5"), (Comparison::Ge, Some(4.5)));
        assert_eq!(t("≤0.5"), (Comparison::Le, Some(0.5)));
        assert_eq!(t("100"), (Comparison::Eq, Some(100.0)));
        assert_eq!(t("100%"), (Comparison::Eq, Some(100.0)));
        assert_eq!(t("=95"), (Comparison::Eq, Some(95.0)));
        assert_eq!(t("制定实施"), (Comparison::Qualitative, None));
        assert_eq!(t("山区≥60；丘陵≥40"), (Comparison::Qualitative, None));
        assert_eq!(t("≥55 (干旱半干旱地区)"), (Comparison::Qualitative, None));
        assert_eq!(t(""), (Comparison::None, None));
    }

    #[test]
    fn values_against_each_kind_of_target() {
        let ge = parse_target("≥80");
        assert_eq!(attainment(&ge, Some(80.0), None), Attainment::Met);
        assert_eq!(attainment(&ge, Some(79.99), None), Attainment::NotMet);
        let le = parse_target("≤0.5");
        assert_eq!(attainment(&le, Some(0.5), None), Attainment::Met);
        assert_eq!(attainment(&le, Some(0.51), None), Attainment::NotMet);
        let eq = parse_target("100");
        assert_eq!(attainment(&eq, Some(100.0), None), Attainment::Met);
        assert_eq!(attainment(&eq, Some(99.0), None), Attainment::NotMet);
        assert_eq!(
            attainment(&eq, None, None),
            Attainment::NotMet,
            "no number for a numeric target"
        );
        let q = parse_target("全面实施");
        assert_eq!(attainment(&q, None, Some(true)), Attainment::Met);
        assert_eq!(attainment(&q, None, Some(false)), Attainment::NotMet);
        assert_eq!(
            attainment(&parse_target(""), Some(3.0), None),
            Attainment::NoTarget
        );
    }

    #[test]
    fn periods_and_due_days() {
        let m = Frequency::Monthly.period_of(d(2026, 11, 17));
        assert_eq!(m.label(), "2026-11");
        assert_eq!(due_date(&m, 10), d(2026, 12, 10));
        let q = Frequency::Quarterly.period_of(d(2026, 11, 17));
        assert_eq!(q.label(), "2026-Q4");
        assert_eq!(due_date(&q, 15), d(2027, 1, 15));
        let y = Frequency::Yearly.period_of(d(2026, 2, 1));
        assert_eq!(due_date(&y, 20), d(2027, 1, 20));
        assert!(Frequency::Monthly.fits(&m) && !Frequency::Quarterly.fits(&m));
        let owed = owed_periods(Frequency::Monthly, 10, d(2026, 9, 5), d(2026, 12, 10));
        let labels: Vec<String> = owed.iter().map(|(p, _)| p.label()).collect();
        assert_eq!(labels, ["2026-09", "2026-10", "2026-11"]);
        assert!(owed_periods(Frequency::Yearly, 10, d(2026, 1, 1), d(2026, 12, 31)).is_empty());
    }

    proptest! {
        #[test]
        fn owed_periods_follow_each_other_and_are_due_in_time(
            from in 0i64..800, span in 0i64..800, day in 1u32..29, f in 0usize..3,
        ) {
            let freq = [Frequency::Monthly, Frequency::Quarterly, Frequency::Yearly][f];
            let from = d(2025, 1, 1) + Duration::days(from);
            let until = from + Duration::days(span);
            let owed = owed_periods(freq, day, from, until);
            for (i, (p, due)) in owed.iter().enumerate() {
                prop_assert!(freq.fits(p));
                prop_assert!(*due <= until && *due > p.end);
                if i > 0 {
                    prop_assert_eq!(owed[i - 1].0.end + Duration::days(1), p.start);
                }
            }
            if let Some((first, _)) = owed.first() {
                prop_assert!(first.contains(from));
            }
        }

        #[test]
        fn a_higher_value_never_fails_an_at_least_target(t in -1e6f64..1e6, v in -1e6f64..1e6, more in 0.0f64..1e3) {
            let target = Target { comparison: Comparison::Ge, value: Some(t) };
            if attainment(&target, Some(v), None) == Attainment::Met {
                prop_assert_eq!(attainment(&target, Some(v + more), None), Attainment::Met);
            }
        }
    }
}
