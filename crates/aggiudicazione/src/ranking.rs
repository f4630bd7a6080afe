//! Final ranking with the tie rule, and the public draw.
//!
//! Order: higher total first; on equal totals, higher technical score first (tender-document
//! practice for OEPV); offers still tied are ordered by a draw. The draw is the platform's one
//! public algorithm, `domain::draw` ([`draw_order`]): in a procedure its seed comes from the
//! tender's signed checkpoint at closing ([`tie_break_seed`]), fixed before any envelope is
//! opened; the calculators take a number instead ([`calculator_seed`]). Without a seed the
//! tied offers share the rank and are flagged `draw_required`.

use domain::draw::{self, Purpose, Seed};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One line to rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoreLine {
    pub id: String,
    /// Total score (higher is better).
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Technical score, used to break ties on the total (OEPV).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub technical: Option<Decimal>,
}

/// How a position was decided relative to offers with the same total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TieBreak {
    /// No other offer has the same total.
    None,
    /// Same total as another offer; decided by the higher technical score.
    TechnicalScore,
    /// Same total and technical score; decided by the seeded draw.
    Draw,
    /// Same total and technical score and no seed: a draw is still required (shared rank).
    DrawRequired,
}

/// A ranked offer. Ranks start at 1; unresolved ties share a rank (1, 2, 2, 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RankedOffer {
    pub id: String,
    pub rank: usize,
    pub tie_break: TieBreak,
}

/// Rank score lines (exact comparisons on the given decimals).
pub fn rank_scores(lines: &[ScoreLine], seed: Option<&Seed>) -> Vec<RankedOffer> {
    let keys: Vec<(String, Decimal, Option<Decimal>)> =
        lines.iter().map(|l| (l.id.clone(), l.total, l.technical)).collect();
    rank_by(&keys, seed)
}

/// Generic ranking over any totally ordered score type (exact fractions internally).
pub(crate) fn rank_by<T: Ord + Clone>(items: &[(String, T, Option<T>)], seed: Option<&Seed>) -> Vec<RankedOffer> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Descending total, then descending technical score (None counts as lowest); stable.
    order.sort_by(|&a, &b| items[b].1.cmp(&items[a].1).then_with(|| items[b].2.cmp(&items[a].2)));

    let mut result = Vec::with_capacity(items.len());
    let mut position = 0;
    while position < order.len() {
        // Group of offers with equal total.
        let total = &items[order[position]].1;
        let mut end = position;
        while end < order.len() && &items[order[end]].1 == total {
            end += 1;
        }
        let total_group = &order[position..end];
        let mut sub = 0;
        while sub < total_group.len() {
            let technical = &items[total_group[sub]].2;
            let mut sub_end = sub;
            while sub_end < total_group.len() && &items[total_group[sub_end]].2 == technical {
                sub_end += 1;
            }
            let tied: Vec<String> = total_group[sub..sub_end].iter().map(|&i| items[i].0.clone()).collect();
            let first_rank = position + sub + 1;
            if tied.len() == 1 {
                let tie_break = if total_group.len() > 1 {
                    TieBreak::TechnicalScore
                } else {
                    TieBreak::None
                };
                result.push(RankedOffer {
                    id: tied[0].clone(),
                    rank: first_rank,
                    tie_break,
                });
            } else if let Some(seed) = seed {
                for (offset, id) in draw_order(seed, &tied).into_iter().enumerate() {
                    result.push(RankedOffer {
                        id,
                        rank: first_rank + offset,
                        tie_break: TieBreak::Draw,
                    });
                }
            } else {
                for id in tied {
                    result.push(RankedOffer {
                        id,
                        rank: first_rank,
                        tie_break: TieBreak::DrawRequired,
                    });
                }
            }
            sub = sub_end;
        }
        position = end;
    }
    result
}

/// The order in which `ids` are drawn (first = winner of the lot): `domain::draw::order`.
pub fn draw_order(seed: &Seed, ids: &[String]) -> Vec<String> {
    draw::order(seed, ids)
}

/// The seed of the ties of the evaluation of `scope` (the tender, or the lot): purpose
/// `tie-break`, subject the scope's id, beacon the tender's signed checkpoint at closing.
pub fn tie_break_seed(scope: &str, closing_checkpoint: &str) -> Result<Seed, draw::BadSubject> {
    draw::seed(Purpose::TieBreak, scope, closing_checkpoint)
}

/// The calculators' draw (`draw_seed`/`lottery_seed` of the tools, for what-if
/// computations, never used by a procedure): the public draw with purpose `tie-break`,
/// subject `calculator` and the number in decimal as beacon.
pub fn calculator_seed(n: u64) -> Seed {
    match draw::seed(Purpose::TieBreak, "calculator", &n.to_string()) {
        Ok(s) => s,
        Err(_) => unreachable!("constant one-line subject"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn draw_is_reproducible_and_independent_of_input_order() {
        let a = draw_order(&calculator_seed(42), &ids(&["O3", "O1", "O2"]));
        let b = draw_order(&calculator_seed(42), &ids(&["O1", "O2", "O3"]));
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, ids(&["O1", "O2", "O3"]));
        // Different seeds give (for this input) at least two different orders.
        let orders: std::collections::HashSet<Vec<String>> = (0..20)
            .map(|s| draw_order(&calculator_seed(s), &ids(&["O1", "O2", "O3"])))
            .collect();
        assert!(orders.len() > 1);
        assert_eq!(
            calculator_seed(7),
            draw::seed(Purpose::TieBreak, "calculator", "7").expect("seed")
        );
    }

    #[test]
    fn ties_broken_by_technical_then_draw() {
        let lines = vec![
            ScoreLine {
                id: "A".into(),
                total: dec!(80),
                technical: Some(dec!(50)),
            },
            ScoreLine {
                id: "B".into(),
                total: dec!(80),
                technical: Some(dec!(55)),
            },
            ScoreLine {
                id: "C".into(),
                total: dec!(90),
                technical: Some(dec!(60)),
            },
            ScoreLine {
                id: "D".into(),
                total: dec!(70),
                technical: Some(dec!(40)),
            },
            ScoreLine {
                id: "E".into(),
                total: dec!(70),
                technical: Some(dec!(40)),
            },
        ];
        let ranked = rank_scores(&lines, None);
        let view: Vec<(&str, usize, TieBreak)> = ranked.iter().map(|r| (r.id.as_str(), r.rank, r.tie_break)).collect();
        assert_eq!(
            view,
            vec![
                ("C", 1, TieBreak::None),
                ("B", 2, TieBreak::TechnicalScore),
                ("A", 3, TieBreak::TechnicalScore),
                ("D", 4, TieBreak::DrawRequired),
                ("E", 4, TieBreak::DrawRequired),
            ]
        );
        let drawn = rank_scores(&lines, Some(&calculator_seed(7)));
        assert_eq!(drawn[3].rank, 4);
        assert_eq!(drawn[4].rank, 5);
        assert_eq!(drawn[3].tie_break, TieBreak::Draw);
        assert_eq!(drawn[3].id, draw_order(&calculator_seed(7), &ids(&["D", "E"]))[0]);
    }
}
