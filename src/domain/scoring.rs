//! Scoring and ranking units for a period (the bulletin's 排名): per-unit
//! figures in, a score, a rank with a stated tie rule, and a traffic light out.
//!
//! Score (0–100 before penalties and bonus, never below 0):
//!
//! ```text
//! on_time × on-time rate + completion × completion rate
//!   − overdue_penalty × tasks still overdue − supervision_penalty × supervision orders
//!   + early_bonus × tasks completed early (at most early_bonus_cap)
//! ```
//!
//! The rates are over the tasks due in or before the period. A unit with
//! nothing due has no score and is listed apart, unranked.

/// What a unit did in the period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitFigures {
    pub unit_id: i64,
    /// Tasks due in or before the period.
    pub due: u32,
    pub completed_on_time: u32,
    pub completed_late: u32,
    /// Due and not completed.
    pub overdue: u32,
    /// Days overdue summed over the overdue tasks.
    pub overdue_days: i64,
    /// Completed on time and at least a week early.
    pub completed_early: u32,
    pub supervision_orders: u32,
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
    Some(round2(raw.max(0.0)))
}

/// A ranked unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub unit_id: i64,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn figures(unit_id: i64, due: u32, on_time: u32, late: u32, overdue: u32) -> UnitFigures {
        UnitFigures {
            unit_id,
            due,
            completed_on_time: on_time,
            completed_late: late,
            overdue,
            overdue_days: i64::from(overdue) * 5,
            ..Default::default()
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
    fn ties_share_a_rank_and_tie_breaks_are_applied_in_order() {
        let w = Weights::default();
        let units = [
            (figures(1, 2, 2, 0, 0), "A"),
            (figures(2, 2, 2, 0, 0), "B"),
            (figures(3, 4, 2, 2, 0), "C"),
            (figures(4, 0, 0, 0, 0), "D"),
        ];
        let ranked = rank(&units, &w);
        let got: Vec<(i64, u32)> = ranked.iter().map(|r| (r.unit_id, r.rank)).collect();
        assert_eq!(
            got,
            [(1, 1), (2, 1), (3, 3)],
            "D has nothing due and is not ranked"
        );
    }

    fn any_figures() -> impl Strategy<Value = UnitFigures> {
        (0u32..10, 0u32..10, 0u32..10, 0u32..5, 0u32..5).prop_map(
            |(on_time, late, overdue, early, orders)| UnitFigures {
                unit_id: 0,
                due: on_time + late + overdue,
                completed_on_time: on_time,
                completed_late: late,
                overdue,
                overdue_days: i64::from(overdue) * 3,
                completed_early: early.min(on_time),
                supervision_orders: orders,
            },
        )
    }

    proptest! {
        #[test]
        fn ranks_cover_every_scored_unit_in_order(units in proptest::collection::vec(any_figures(), 0..20)) {
            let units: Vec<(UnitFigures, usize)> = units.into_iter().enumerate().map(|(i, mut f)| { f.unit_id = i as i64; (f, i) }).collect();
            let ranked = rank(&units, &Weights::default());
            let scored = units.iter().filter(|(f, _)| f.due > 0).count();
            prop_assert_eq!(ranked.len(), scored);
            let mut ids: Vec<i64> = ranked.iter().map(|r| r.unit_id).collect();
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
