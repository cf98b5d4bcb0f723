//! Scoring and ranking units for a period (the bulletin's 排名): per-unit
//! figures in, a score, a rank with a stated tie rule, and a traffic light out.
//!
//! Score (kept between 0 and 100):
//!
//! ```text
//! on_time × on-time rate + completion × completion rate
//!   − overdue_penalty × tasks still overdue − supervision_penalty × supervision orders
//!   + early_bonus × tasks completed early (at most early_bonus_cap)
//! ```
//!
//! The rates are over the tasks due in or before the period. A unit with
//! nothing due has no score and is listed apart, unranked.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::figures::Outcome;
use super::ids::UnitId;
use super::named::{self, Candidate};
use super::traffic::TrafficLight;

/// What a unit did in the period (see `figures` for which tasks count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitFigures {
    pub unit_id: UnitId,
    /// Lead-unit tasks whose deadline has passed in or before the period
    /// (on time + late + overdue): the denominator of the rates.
    pub due: u32,
    pub completed_on_time: u32,
    pub completed_late: u32,
    /// Deadline passed, not completed.
    pub overdue: u32,
    /// Days overdue summed over the overdue tasks.
    pub overdue_days: i64,
    /// Days late summed over the tasks completed late.
    pub late_days: i64,
    /// Completed on time and at least a week early.
    pub completed_early: u32,
    /// Due later in a running period and not done yet (not in the rates).
    pub not_yet_due: u32,
    /// Extensions granted in the period.
    pub extensions: u32,
    /// Notices received in the period, by ladder step.
    pub reminders: u32,
    pub chases: u32,
    pub supervision_orders: u32,
    pub accountability_notices: u32,
    /// Tasks the unit cooperates on that count in the period, and how many
    /// of those are overdue (shown, not scored).
    pub cooperating: u32,
    pub cooperating_overdue: u32,
}

impl UnitFigures {
    /// A unit's figures before anything is counted.
    pub fn zero(unit_id: UnitId) -> UnitFigures {
        UnitFigures {
            unit_id,
            due: 0,
            completed_on_time: 0,
            completed_late: 0,
            overdue: 0,
            overdue_days: 0,
            late_days: 0,
            completed_early: 0,
            not_yet_due: 0,
            extensions: 0,
            reminders: 0,
            chases: 0,
            supervision_orders: 0,
            accountability_notices: 0,
            cooperating: 0,
            cooperating_overdue: 0,
        }
    }

    /// Counts one lead-unit task.
    pub fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::OnTime { early } => {
                self.due += 1;
                self.completed_on_time += 1;
                self.completed_early += u32::from(early);
            }
            Outcome::Late { days } => {
                self.due += 1;
                self.completed_late += 1;
                self.late_days += days;
            }
            Outcome::Overdue { days } => {
                self.due += 1;
                self.overdue += 1;
                self.overdue_days += days;
            }
            Outcome::NotYetDue => self.not_yet_due += 1,
        }
    }

    /// Counts one task the unit cooperates on.
    pub fn add_cooperating(&mut self, outcome: Outcome) {
        self.cooperating += 1;
        self.cooperating_overdue += u32::from(matches!(outcome, Outcome::Overdue { .. }));
    }

    pub fn completion_rate(&self) -> Option<f64> {
        rate(self.completed_on_time + self.completed_late, self.due)
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        rate(self.completed_on_time, self.due)
    }

    /// Average days late over the tasks completed late.
    pub fn average_days_late(&self) -> Option<f64> {
        (self.completed_late > 0)
            .then(|| round2(self.late_days as f64 / f64::from(self.completed_late)))
    }
}

/// A share as a percentage with two decimals; None over nothing.
fn rate(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| round2(100.0 * f64::from(part) / f64::from(whole)))
}

/// The formula's weights (configurable; documented defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    pub on_time: f64,
    pub completion: f64,
    pub overdue_penalty: f64,
    pub supervision_penalty: f64,
    pub early_bonus: f64,
    pub early_bonus_cap: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            on_time: 60.0,
            completion: 40.0,
            overdue_penalty: 2.0,
            supervision_penalty: 3.0,
            early_bonus: 1.0,
            early_bonus_cap: 5.0,
        }
    }
}

/// Rounds to two decimals, so equal scores compare equal.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The unit's score, or None when nothing was due.
pub fn score(f: &UnitFigures, w: &Weights) -> Option<f64> {
    if f.due == 0 {
        return None;
    }
    let due = f64::from(f.due);
    let on_time_rate = f64::from(f.completed_on_time) / due;
    let completion_rate = f64::from(f.completed_on_time + f.completed_late) / due;
    let bonus = (w.early_bonus * f64::from(f.completed_early)).min(w.early_bonus_cap);
    let raw = w.on_time * on_time_rate + w.completion * completion_rate
        - w.overdue_penalty * f64::from(f.overdue)
        - w.supervision_penalty * f64::from(f.supervision_orders)
        + bonus;
    // Kept within 0–100 so a score reads as marks out of a hundred.
    Some(round2(raw.clamp(0.0, 100.0)))
}

/// A ranked unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub unit_id: UnitId,
    pub score: f64,
    /// 1 is best; units equal on every tie-break share a rank (1, 2, 2, 4).
    pub rank: u32,
}

/// Ranks the units with something due. Order: higher score; then more tasks
/// completed on time; then fewer days overdue. Units equal on all three share
/// a rank and are listed by `order_key` (e.g. the unit code).
pub fn rank<K: Ord>(units: &[(UnitFigures, K)], w: &Weights) -> Vec<Ranked> {
    let mut scored: Vec<(f64, &UnitFigures, &K)> = units
        .iter()
        .filter_map(|(f, k)| score(f, w).map(|s| (s, f, k)))
        .collect();
    let key = |s: f64, f: &UnitFigures| {
        (
            -(s * 100.0).round() as i64,
            std::cmp::Reverse(f.completed_on_time),
            f.overdue_days,
        )
    };
    scored.sort_by(|a, b| key(a.0, a.1).cmp(&key(b.0, b.1)).then_with(|| a.2.cmp(b.2)));
    let mut out: Vec<Ranked> = Vec::with_capacity(scored.len());
    for (i, (s, f, _)) in scored.iter().enumerate() {
        let rank = match out.last() {
            Some(prev) if i > 0 && key(prev.score, scored[i - 1].1) == key(*s, f) => prev.rank,
            _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
        };
        out.push(Ranked {
            unit_id: f.unit_id,
            score: *s,
            rank,
        });
    }
    out
}

/// What the bulletin does with the scores: lights, who is criticised and
/// who commended (all configurable; defaults in `docs/scoring.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub weights: Weights,
    /// Green at or above this score, yellow at or above `yellow_from`, else red.
    pub green_from: f64,
    pub yellow_from: f64,
    /// Criticised: every unit scoring below this…
    pub criticise_below: f64,
    /// …and the last this many ranked units, when they have overdue or late
    /// tasks; units tied at the cut are all criticised (see `named`).
    pub criticise_bottom: u32,
    /// Commended: the first this many ranked units scoring at least
    /// `commend_from` with nothing late or overdue; units tied at the cut
    /// are all commended (see `named`).
    pub commend_top: u32,
    pub commend_from: f64,
}

impl Policy {
    /// The cuts of who a bulletin names (`named::marks`).
    pub fn cuts(&self) -> named::Cuts {
        named::Cuts {
            criticise_below: self.criticise_below,
            criticise_bottom: self.criticise_bottom,
            commend_top: self.commend_top,
            commend_from: self.commend_from,
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            weights: Weights::default(),
            green_from: 85.0,
            yellow_from: 60.0,
            criticise_below: 60.0,
            criticise_bottom: 2,
            commend_top: 3,
            commend_from: 95.0,
        }
    }
}

impl Policy {
    pub fn light(&self, score: f64) -> TrafficLight {
        if score >= self.green_from {
            TrafficLight::Green
        } else if score >= self.yellow_from {
            TrafficLight::Yellow
        } else {
            TrafficLight::Red
        }
    }
}

/// One unit's place in a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing<K> {
    pub figures: UnitFigures,
    pub key: K,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    /// Rank in the previous published bulletin, if the unit was ranked there.
    pub previous_rank: Option<u32>,
    pub light: Option<TrafficLight>,
    pub criticised: bool,
    pub commended: bool,
    /// Shares its rank with another unit (see `named`).
    pub tied: bool,
}

impl<K> Standing<K> {
    /// Places gained since the previous bulletin (negative: places lost).
    pub fn rank_change(&self) -> Option<i64> {
        Some(i64::from(self.previous_rank?) - i64::from(self.rank?))
    }
}

/// Every unit's standing: the ranked units in rank order, then the units
/// with nothing due, by `key`. `previous` maps unit ids to their rank in the
/// previous published bulletin.
pub fn standings<K: Ord + Clone>(
    units: &[(UnitFigures, K)],
    policy: &Policy,
    previous: &HashMap<UnitId, u32>,
) -> Vec<Standing<K>> {
    let ranked = rank(units, &policy.weights);
    let by_id: HashMap<UnitId, &(UnitFigures, K)> =
        units.iter().map(|u| (u.0.unit_id, u)).collect();
    let candidates: Vec<Candidate> = ranked
        .iter()
        .filter_map(|r| {
            let (f, _) = by_id.get(&r.unit_id)?;
            Some(Candidate {
                rank: r.rank,
                score: r.score,
                faulty: f.overdue > 0 || f.completed_late > 0,
            })
        })
        .collect();
    let marks = named::marks(&candidates, &policy.cuts());
    let mut out: Vec<Standing<K>> = Vec::with_capacity(units.len());
    let ranked_units = ranked
        .iter()
        .filter_map(|r| by_id.get(&r.unit_id).map(|u| (r, *u)));
    for ((r, (f, key)), m) in ranked_units.zip(marks) {
        out.push(Standing {
            figures: *f,
            key: key.clone(),
            score: Some(r.score),
            rank: Some(r.rank),
            previous_rank: previous.get(&f.unit_id).copied(),
            light: Some(policy.light(r.score)),
            criticised: m.criticised,
            commended: m.commended,
            tied: m.tied,
        });
    }
    let mut unranked: Vec<&(UnitFigures, K)> = units.iter().filter(|(f, _)| f.due == 0).collect();
    unranked.sort_by(|a, b| a.1.cmp(&b.1));
    out.extend(unranked.into_iter().map(|(f, key)| Standing {
        figures: *f,
        key: key.clone(),
        score: None,
        rank: None,
        previous_rank: previous.get(&f.unit_id).copied(),
        light: None,
        criticised: false,
        commended: false,
        tied: false,
    }));
    out
}

/// The figures summed over all units (the bulletin's 总体情况).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Totals {
    pub units: u32,
    pub units_ranked: u32,
    pub due: u32,
    pub completed_on_time: u32,
    pub completed_late: u32,
    pub overdue: u32,
    pub overdue_days: i64,
    pub not_yet_due: u32,
    pub extensions: u32,
    pub supervision_orders: u32,
    /// Percentages over `due`, two decimals; null when nothing was due.
    pub completion_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
}

impl Totals {
    pub fn of<'a>(figures: impl IntoIterator<Item = &'a UnitFigures>) -> Totals {
        let mut t = Totals::default();
        for f in figures {
            t.units += 1;
            t.units_ranked += u32::from(f.due > 0);
            t.due += f.due;
            t.completed_on_time += f.completed_on_time;
            t.completed_late += f.completed_late;
            t.overdue += f.overdue;
            t.overdue_days += f.overdue_days;
            t.not_yet_due += f.not_yet_due;
            t.extensions += f.extensions;
            t.supervision_orders += f.supervision_orders;
        }
        t.completion_rate = rate(t.completed_on_time + t.completed_late, t.due);
        t.on_time_rate = rate(t.completed_on_time, t.due);
        t
    }
}

/// Annual assessment grades (年度目标责任考核等次).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 不合格
    Fail,
    /// 合格
    Pass,
    /// 良好
    Good,
    /// 优秀
    Excellent,
}

impl Grade {
    pub fn name_zh(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Good => "良好",
            Grade::Pass => "合格",
            Grade::Fail => "不合格",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Good => "good",
            Grade::Pass => "pass",
            Grade::Fail => "fail",
        }
    }
}

/// The grade of a score, given the lowest scores of 优秀, 良好 and 合格.
pub fn grade(score: f64, [excellent, good, pass]: [f64; 3]) -> Grade {
    if score >= excellent {
        Grade::Excellent
    } else if score >= good {
        Grade::Good
    } else if score >= pass {
        Grade::Pass
    } else {
        Grade::Fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn figures(unit_id: i64, due: u32, on_time: u32, late: u32, overdue: u32) -> UnitFigures {
        UnitFigures {
            unit_id: UnitId(unit_id),
            due,
            completed_on_time: on_time,
            completed_late: late,
            overdue,
            overdue_days: i64::from(overdue) * 5,
            ..UnitFigures::zero(UnitId(unit_id))
        }
    }

    #[test]
    fn the_formula_by_hand() {
        let w = Weights::default();
        // 4 due: 2 on time, 1 late, 1 overdue; one supervision order; one early.
        let f = UnitFigures {
            completed_early: 1,
            supervision_orders: 1,
            ..figures(1, 4, 2, 1, 1)
        };
        // 60×0.5 + 40×0.75 − 2×1 − 3×1 + 1 = 30 + 30 − 2 − 3 + 1 = 56
        assert_eq!(score(&f, &w), Some(56.0));
        assert_eq!(
            score(&figures(2, 0, 0, 0, 0), &w),
            None,
            "nothing due: no score"
        );
        assert_eq!(
            score(&figures(3, 1, 0, 0, 1), &w),
            Some(0.0),
            "never below zero"
        );
    }

    #[test]
    fn grades_at_their_thresholds() {
        let t = [90.0, 75.0, 60.0];
        assert_eq!(grade(90.0, t), Grade::Excellent);
        assert_eq!(grade(89.99, t), Grade::Good);
        assert_eq!(grade(75.0, t), Grade::Good);
        assert_eq!(grade(60.0, t), Grade::Pass);
        assert_eq!(grade(59.99, t), Grade::Fail);
        assert_eq!(Grade::Excellent.name_zh(), "优秀");
    }

    #[test]
    fn ties_share_a_rank_and_tie_breaks_are_applied_in_order() {
        let w = Weights::default();
        let units = [
            (figures(1, 2, 2, 0, 0), "A"),
            (figures(2, 2, 2, 0, 0), "B"),
            (figures(3, 4, 2, 2, 0), "C"),
            (figures(4, 0, 0, 0, 0), "D"),
        ];
        let ranked = rank(&units, &w);
        let got: Vec<(i64, u32)> = ranked.iter().map(|r| (r.unit_id.0, r.rank)).collect();
        assert_eq!(
            got,
            [(1, 1), (2, 1), (3, 3)],
            "D has nothing due and is not ranked"
        );
    }

    #[test]
    fn six_units_tied_at_the_top_are_all_commended_whatever_their_codes() {
        let mut units: Vec<(UnitFigures, &str)> = ["T06", "T05", "D01", "P02", "T01", "D09"]
            .into_iter()
            .zip(1..)
            .map(|(code, id)| (figures(id, 3, 3, 0, 0), code))
            .collect();
        units.push((figures(7, 4, 3, 1, 0), "A00"));
        let rows = standings(&units, &Policy::default(), &HashMap::new());
        let top: Vec<(&str, Option<u32>, bool, bool)> = rows
            .iter()
            .map(|r| (r.key, r.rank, r.commended, r.tied))
            .collect();
        assert_eq!(
            top,
            [
                ("D01", Some(1), true, true),
                ("D09", Some(1), true, true),
                ("P02", Some(1), true, true),
                ("T01", Some(1), true, true),
                ("T05", Some(1), true, true),
                ("T06", Some(1), true, true),
                ("A00", Some(7), false, false),
            ],
            "listed by code, all six commended although the nominal count is three"
        );
    }

    fn any_figures() -> impl Strategy<Value = UnitFigures> {
        (0u32..10, 0u32..10, 0u32..10, 0u32..5, 0u32..5).prop_map(
            |(on_time, late, overdue, early, orders)| UnitFigures {
                unit_id: UnitId(0),
                due: on_time + late + overdue,
                completed_on_time: on_time,
                completed_late: late,
                overdue,
                overdue_days: i64::from(overdue) * 3,
                completed_early: early.min(on_time),
                supervision_orders: orders,
                ..UnitFigures::zero(UnitId(0))
            },
        )
    }

    proptest! {
        #[test]
        fn ranks_cover_every_scored_unit_in_order(units in proptest::collection::vec(any_figures(), 0..20)) {
            let units: Vec<(UnitFigures, usize)> = units.into_iter().enumerate().map(|(i, mut f)| { f.unit_id = UnitId(i as i64); (f, i) }).collect();
            let ranked = rank(&units, &Weights::default());
            let scored = units.iter().filter(|(f, _)| f.due > 0).count();
            prop_assert_eq!(ranked.len(), scored);
            let mut ids: Vec<i64> = ranked.iter().map(|r| r.unit_id.0).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), scored, "each unit once");
            for (i, r) in ranked.iter().enumerate() {
                prop_assert!(r.rank >= 1 && r.rank as usize <= i + 1);
                if i > 0 {
                    prop_assert!(ranked[i - 1].score >= r.score);
                    prop_assert!(ranked[i - 1].rank <= r.rank);
                }
            }
            if let Some(first) = ranked.first() { prop_assert_eq!(first.rank, 1); }
        }

        #[test]
        fn standings_list_every_unit_once_ranked_first(units in proptest::collection::vec(any_figures(), 0..20)) {
            let units: Vec<(UnitFigures, usize)> = units.into_iter().enumerate().map(|(i, mut f)| { f.unit_id = UnitId(i as i64); (f, i) }).collect();
            let rows = standings(&units, &Policy::default(), &HashMap::new());
            let mut ids: Vec<i64> = rows.iter().map(|r| r.figures.unit_id.0).collect();
            ids.sort();
            prop_assert_eq!(ids, (0..units.len() as i64).collect::<Vec<_>>(), "a permutation of the units");
            let ranked = rows.iter().take_while(|r| r.rank.is_some()).count();
            prop_assert!(rows[ranked..].iter().all(|r| r.rank.is_none() && r.figures.due == 0));
            for r in &rows[..ranked] {
                // rank = 1 + the number of units strictly ahead
                let ahead = rows[..ranked].iter().filter(|o| o.rank < r.rank).count();
                prop_assert_eq!(r.rank, Some(ahead as u32 + 1));
                prop_assert!(!(r.criticised && r.commended));
            }
        }

        #[test]
        fn units_with_equal_figures_are_named_alike(units in proptest::collection::vec(any_figures(), 0..20), twins in proptest::collection::vec(0usize..20, 0..6)) {
            // Some units get a twin: the same figures under another id and code.
            let mut units: Vec<(UnitFigures, usize)> = units.into_iter().enumerate().map(|(i, mut f)| { f.unit_id = UnitId(i as i64); (f, i) }).collect();
            let n = units.len();
            for (k, t) in twins.into_iter().enumerate() {
                if let Some((f, _)) = units.get(t).copied() {
                    let id = n + k;
                    units.push((UnitFigures { unit_id: UnitId(id as i64), ..f }, id));
                }
            }
            let rows = standings(&units, &Policy::default(), &HashMap::new());
            for a in &rows {
                for b in &rows {
                    let same = UnitFigures { unit_id: a.figures.unit_id, ..b.figures } == a.figures;
                    if same {
                        prop_assert_eq!((a.rank, a.commended, a.criticised, a.light), (b.rank, b.commended, b.criticised, b.light));
                        if a.figures.unit_id != b.figures.unit_id && a.rank.is_some() {
                            prop_assert!(a.tied && b.tied);
                        }
                    }
                }
            }
        }

        #[test]
        fn a_higher_score_never_gets_a_lower_grade(a in 0.0f64..110.0, b in 0.0f64..110.0) {
            let t = [90.0, 75.0, 60.0];
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(grade(lo, t) <= grade(hi, t));
        }

        #[test]
        fn totals_are_the_sum_of_the_rows(units in proptest::collection::vec(any_figures(), 0..20)) {
            let t = Totals::of(units.iter());
            prop_assert_eq!(t.units as usize, units.len());
            prop_assert_eq!(t.due, units.iter().map(|f| f.due).sum::<u32>());
            prop_assert_eq!(t.completed_on_time, units.iter().map(|f| f.completed_on_time).sum::<u32>());
            prop_assert_eq!(t.completed_late, units.iter().map(|f| f.completed_late).sum::<u32>());
            prop_assert_eq!(t.overdue, units.iter().map(|f| f.overdue).sum::<u32>());
            prop_assert_eq!(t.due, t.completed_on_time + t.completed_late + t.overdue);
        }

        #[test]
        fn more_on_time_completions_never_lower_the_score(f in any_figures(), extra in 1u32..5) {
            // the same tasks plus `extra` more, all finished on time
            let better = UnitFigures { due: f.due + extra, completed_on_time: f.completed_on_time + extra, ..f };
            let w = Weights::default();
            prop_assert!(score(&better, &w) >= score(&f, &w));
        }

        #[test]
        fn finishing_a_late_task_on_time_never_lowers_the_score(f in any_figures()) {
            prop_assume!(f.completed_late > 0);
            let better = UnitFigures { completed_late: f.completed_late - 1, completed_on_time: f.completed_on_time + 1, ..f };
            let w = Weights::default();
            prop_assert!(score(&better, &w) >= score(&f, &w));
        }

        #[test]
        fn completing_an_overdue_task_on_time_raises_the_score(f in any_figures()) {
            prop_assume!(f.overdue > 0);
            let better = UnitFigures { overdue: f.overdue - 1, completed_on_time: f.completed_on_time + 1, ..f };
            let w = Weights::default();
            prop_assert!(score(&better, &w) >= score(&f, &w));
        }
    }
}
