//! Who a bulletin names (通报): the commendation and criticism rules, cut by
//! rank rather than by position, so that units with equal figures are always
//! treated alike. Six units tied at rank 1 are all commended even when the
//! nominal count is three: listing order (the unit code) never decides who is
//! named, because no director can defend commending one of two identical
//! records and not the other.

/// The cuts the rules apply (from `scoring::Policy::cuts`, which holds them
/// with the rest of the installation's scoring policy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cuts {
    pub criticise_below: f64,
    pub criticise_bottom: u32,
    pub commend_top: u32,
    pub commend_from: f64,
}

/// What the rules need to know about one ranked unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// 1 is best; tied units share it (1, 1, 3).
    pub rank: u32,
    pub score: f64,
    /// Some task late or overdue in the period.
    pub faulty: bool,
}

/// The marks of one ranked unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub criticised: bool,
    pub commended: bool,
    /// Shares its rank with another ranked unit.
    pub tied: bool,
}

/// The marks of every ranked unit, in the order given (any order):
///
/// - **criticised**: scoring below `criticise_below`, or with late or overdue
///   tasks and fewer than `criticise_bottom` ranked units strictly behind it
///   (so every unit tied at the bottom cut is criticised);
/// - **commended**: not criticised, nothing late or overdue, scoring at least
///   `commend_from`, and fewer than `commend_top` such units strictly ahead
///   of it (so every unit tied at the top cut is commended).
///
/// A unit's marks depend only on its own figures (rank, score, faults) and on
/// how many units rank strictly ahead of or behind it, never on its position
/// in a list.
pub fn marks(units: &[Candidate], policy: &Cuts) -> Vec<Marks> {
    let behind = |rank: u32| units.iter().filter(|o| o.rank > rank).count();
    let criticised: Vec<bool> = units
        .iter()
        .map(|u| {
            u.score < policy.criticise_below
                || (u.faulty && behind(u.rank) < to_usize(policy.criticise_bottom))
        })
        .collect();
    let eligible: Vec<bool> = units
        .iter()
        .zip(&criticised)
        .map(|(u, c)| !c && !u.faulty && u.score >= policy.commend_from)
        .collect();
    units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let ahead = units
                .iter()
                .zip(&eligible)
                .filter(|(o, e)| **e && o.rank < u.rank)
                .count();
            Marks {
                criticised: criticised[i],
                commended: eligible[i] && ahead < to_usize(policy.commend_top),
                tied: units
                    .iter()
                    .enumerate()
                    .any(|(j, o)| j != i && o.rank == u.rank),
            }
        })
        .collect()
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clean(rank: u32, score: f64) -> Candidate {
        Candidate {
            rank,
            score,
            faulty: false,
        }
    }

    fn faulty(rank: u32, score: f64) -> Candidate {
        Candidate {
            rank,
            score,
            faulty: true,
        }
    }

    fn commended(m: &[Marks]) -> Vec<bool> {
        m.iter().map(|m| m.commended).collect()
    }

    fn criticised(m: &[Marks]) -> Vec<bool> {
        m.iter().map(|m| m.criticised).collect()
    }

    #[test]
    fn six_units_tied_at_rank_one_are_all_commended() {
        let mut units = vec![clean(1, 100.0); 6];
        units.push(clean(7, 98.0));
        let m = marks(&units, &defaults());
        assert_eq!(
            commended(&m),
            [true, true, true, true, true, true, false],
            "the nominal three become six; the seventh is behind all six"
        );
        assert!(m[..6].iter().all(|m| m.tied));
        assert!(!m[6].tied);
    }

    #[test]
    fn a_tie_straddling_the_commendation_cut_is_commended_whole() {
        // 1, 2, 3, 3, 5: the third place is shared, so four are commended.
        let units = [
            clean(1, 100.0),
            clean(2, 99.0),
            clean(3, 98.0),
            clean(3, 98.0),
            clean(5, 97.0),
        ];
        let m = marks(&units, &defaults());
        assert_eq!(commended(&m), [true, true, true, true, false]);
    }

    #[test]
    fn without_ties_the_nominal_count_holds() {
        let units = [
            clean(1, 100.0),
            clean(2, 99.0),
            clean(3, 98.0),
            clean(4, 97.0),
        ];
        let m = marks(&units, &defaults());
        assert_eq!(commended(&m), [true, true, true, false]);
        assert!(m.iter().all(|m| !m.tied));
    }

    #[test]
    fn ineligible_units_ahead_do_not_use_up_the_places() {
        // rank 1 has a late task: not commended, and 2, 3, 4 are.
        let units = [
            faulty(1, 99.0),
            clean(2, 98.0),
            clean(3, 97.0),
            clean(4, 96.0),
            clean(5, 95.0),
        ];
        let m = marks(&units, &defaults());
        assert_eq!(commended(&m), [false, true, true, true, false]);
    }

    #[test]
    fn units_tied_at_the_bottom_cut_are_all_criticised() {
        // The last two are criticised; three share the second-last place.
        let units = [
            clean(1, 100.0),
            faulty(2, 80.0),
            faulty(3, 70.0),
            faulty(3, 70.0),
            faulty(3, 70.0),
        ];
        let m = marks(&units, &defaults());
        assert_eq!(criticised(&m), [false, false, true, true, true]);
    }

    #[test]
    fn last_among_perfect_scores_is_not_criticised_and_low_scores_always_are() {
        let units = [clean(1, 100.0), clean(1, 100.0), faulty(3, 59.0)];
        let m = marks(&units, &defaults());
        assert_eq!(criticised(&m), [false, false, true]);
        assert_eq!(commended(&m), [true, true, false]);
    }

    /// Units as the ranking makes them: ranks from the score (equal scores,
    /// equal rank), faults drawn independently.
    fn any_units() -> impl Strategy<Value = Vec<Candidate>> {
        proptest::collection::vec((0u32..8, any::<bool>()), 0..16).prop_map(|raw| {
            let score = |s: u32| (44.0 + 8.0 * f64::from(s)).min(100.0);
            raw.iter()
                .map(|(s, faulty)| {
                    let ahead = raw.iter().filter(|(o, _)| score(*o) > score(*s)).count();
                    Candidate {
                        rank: u32::try_from(ahead + 1).unwrap_or(u32::MAX),
                        score: score(*s),
                        faulty: *faulty,
                    }
                })
                .collect()
        })
    }

    /// The cuts of the default scoring policy (docs/scoring.md).
    fn defaults() -> Cuts {
        Cuts {
            criticise_below: 60.0,
            criticise_bottom: 2,
            commend_top: 3,
            commend_from: 95.0,
        }
    }

    fn any_policy() -> impl Strategy<Value = Cuts> {
        (0u32..5, 0u32..5).prop_map(|(top, bottom)| Cuts {
            commend_top: top,
            criticise_bottom: bottom,
            ..defaults()
        })
    }

    proptest! {
        #[test]
        fn equal_figures_get_equal_marks(units in any_units(), policy in any_policy()) {
            let m = marks(&units, &policy);
            for i in 0..units.len() {
                for j in 0..units.len() {
                    if units[i] == units[j] {
                        prop_assert_eq!(m[i], m[j], "{:?} and {:?}", units[i], units[j]);
                    }
                }
            }
        }

        #[test]
        fn the_order_of_the_list_never_matters(units in any_units(), policy in any_policy()) {
            let m = marks(&units, &policy);
            let mut reversed = units.clone();
            reversed.reverse();
            let mut back = marks(&reversed, &policy);
            back.reverse();
            prop_assert_eq!(m, back);
        }

        #[test]
        fn more_than_the_nominal_count_only_when_a_tie_straddles_the_cut(units in any_units(), policy in any_policy()) {
            let m = marks(&units, &policy);
            let named: Vec<&Candidate> = units.iter().zip(&m).filter(|(_, m)| m.commended).map(|(u, _)| u).collect();
            let top = policy.commend_top as usize;
            if named.len() > top {
                // The worst commended rank is shared, and the units strictly
                // ahead of it fit within the nominal count.
                let worst = named.iter().map(|u| u.rank).max().unwrap_or(0);
                let at_worst = named.iter().filter(|u| u.rank == worst).count();
                prop_assert!(at_worst >= 2);
                prop_assert!(named.len() - at_worst < top);
            } else {
                // Without a straddling tie, every eligible unit up to the
                // nominal count is commended.
                let eligible = units.iter().zip(&m).filter(|(u, m)| !u.faulty && !m.criticised && u.score >= policy.commend_from).count();
                prop_assert_eq!(named.len(), eligible.min(top));
            }
        }

        #[test]
        fn no_unit_is_both_commended_and_criticised(units in any_units(), policy in any_policy()) {
            for m in marks(&units, &policy) {
                prop_assert!(!(m.commended && m.criticised));
            }
        }

        #[test]
        fn a_commended_unit_is_never_behind_an_uncommended_eligible_one(units in any_units(), policy in any_policy()) {
            let m = marks(&units, &policy);
            for (i, a) in units.iter().enumerate() {
                for (j, b) in units.iter().enumerate() {
                    let b_eligible = !b.faulty && !m[j].criticised && b.score >= policy.commend_from;
                    if m[i].commended && b_eligible && !m[j].commended {
                        prop_assert!(a.rank < b.rank);
                    }
                }
            }
        }
    }
}
