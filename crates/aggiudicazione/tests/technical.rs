//! Technical scores, riparametrazione, soglia di sbarramento and full OEPV (hand-computed).

use aggiudicazione::ranking::TieBreak;
use aggiudicazione::scoring::oepv::{evaluate_oepv, OepvRequest};
use aggiudicazione::scoring::technical::{
    compute_technical_scores, MinimumScoreStage, TechnicalCriterion, TechnicalOffer, TechnicalRequest,
};
use aggiudicazione::scoring::{
    EconomicFormula, EconomicParameters, EconomicScoresRequest, IdentifiedValue, ValueEntry,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn offer(id: &str, c1: &[Decimal], c2: &[Decimal]) -> TechnicalOffer {
    TechnicalOffer {
        id: id.into(),
        coefficients: [("C1".to_owned(), c1.to_vec()), ("C2".to_owned(), c2.to_vec())]
            .into_iter()
            .collect(),
    }
}

fn request() -> TechnicalRequest {
    TechnicalRequest {
        criteria: vec![
            TechnicalCriterion {
                id: "C1".into(),
                max_points: dec!(40),
                reparametrize: true,
            },
            TechnicalCriterion {
                id: "C2".into(),
                max_points: dec!(30),
                reparametrize: true,
            },
        ],
        offers: vec![
            // C1 averages 0.8, 0.6, 0.2; C2 averages 0.5, 1/3, 0.25.
            offer(
                "A",
                &[dec!(0.8), dec!(0.7), dec!(0.9)],
                &[dec!(0.5), dec!(0.5), dec!(0.5)],
            ),
            offer(
                "B",
                &[dec!(0.6), dec!(0.6), dec!(0.6)],
                &[dec!(0.3), dec!(0.3), dec!(0.4)],
            ),
            offer(
                "C",
                &[dec!(0.2), dec!(0.2), dec!(0.2)],
                &[dec!(0.25), dec!(0.25), dec!(0.25)],
            ),
        ],
        minimum_score: None,
        minimum_score_stage: MinimumScoreStage::default(),
        second_reparametrization: false,
        max_technical_points: None,
    }
}

#[test]
fn first_reparametrization_and_averages() {
    let r = compute_technical_scores(&request()).expect("scores");
    let b = &r.offers[1];
    // C1: 0.6 / 0.8 = 0.75 -> 30 points; C2: (1/3) / 0.5 = 2/3 -> 20 points.
    assert_eq!(b.criteria[0].average, dec!(0.6));
    assert_eq!(b.criteria[0].coefficient, dec!(0.75));
    assert_eq!(b.criteria[0].points, dec!(30));
    assert_eq!(b.criteria[1].average, dec!(0.33333333333333333333));
    assert_eq!(r.fractions.get("B.C2.average").map(String::as_str), Some("1/3"));
    assert_eq!(b.criteria[1].points, dec!(20));
    assert_eq!(b.total_before_second_reparametrization, dec!(50));
    assert_eq!(r.offers[0].total, Some(dec!(70)));
    // C: 0.25 * 40 + 0.5 * 30 = 25.
    assert_eq!(r.offers[2].total, Some(dec!(25)));
    assert_eq!(r.max_technical_points, dec!(70));
}

#[test]
fn sbarramento_then_second_reparametrization() {
    let mut req = request();
    // Make A weaker so the best total is below 70: A C2 = 0.25 (tied with C).
    req.offers[0] = offer("A", &[dec!(0.8)], &[dec!(0.25)]);
    req.minimum_score = Some(dec!(35));
    req.second_reparametrization = true;
    let r = compute_technical_scores(&req).expect("scores");
    // C2 best average is now B's 1/3: A = 40 + 22.5 = 62.5; B = 30 + 30 = 60; C = 10 + 22.5 = 32.5.
    assert_eq!(r.offers[0].total_before_second_reparametrization, dec!(62.5));
    assert_eq!(r.offers[1].total_before_second_reparametrization, dec!(60));
    assert_eq!(r.offers[2].total_before_second_reparametrization, dec!(32.5));
    assert!(!r.offers[2].admitted);
    assert_eq!(r.offers[2].total, None);
    // Second riparametrazione: A -> 70, B -> 60 * 70 / 62.5 = 67.2.
    assert_eq!(r.offers[0].total, Some(dec!(70)));
    assert_eq!(r.offers[1].total, Some(dec!(67.2)));

    // Applied after the second riparametrazione instead: C = 32.5 * 70 / 62.5 = 36.4 passes.
    req.minimum_score_stage = MinimumScoreStage::AfterSecondReparametrization;
    let r = compute_technical_scores(&req).expect("scores");
    assert!(r.offers[2].admitted);
    assert_eq!(r.offers[2].total, Some(dec!(36.4)));
}

#[test]
fn full_oepv_with_ranking_and_tie_rule() {
    let mut technical = request();
    technical.minimum_score = Some(dec!(35));
    let economic = EconomicScoresRequest {
        formula: EconomicFormula::Linear,
        parameters: EconomicParameters {
            max_points: dec!(30),
            x: None,
            alpha: None,
        },
        offers: [("A", dec!(10)), ("B", dec!(20)), ("C", dec!(40))]
            .into_iter()
            .map(|(id, value)| ValueEntry::Identified(IdentifiedValue { id: id.into(), value }))
            .collect(),
        draw_seed: None,
    };
    let r = evaluate_oepv(&OepvRequest {
        technical,
        economic,
        draw_seed: None,
    })
    .expect("oepv");
    // C (25 technical) is not admitted, so Rmax = 20 among A and B.
    assert_eq!(r.not_admitted, vec!["C".to_owned()]);
    // A: 70 + 15 = 85; B: 50 + 30 = 80.
    assert_eq!(r.totals[0].total, dec!(85));
    assert_eq!(r.totals[1].total, dec!(80));
    assert_eq!(r.ranking[0].id, "A");
    assert_eq!(r.ranking[0].tie_break, TieBreak::None);
    assert_eq!(r.ranking.len(), 2);
}

#[test]
fn equal_totals_decided_by_technical_score() {
    let technical = request();
    // A: 70 technical; B: 50 technical. Economic: A gets 10, B 30 -> both 80.
    let economic = EconomicScoresRequest {
        formula: EconomicFormula::Linear,
        parameters: EconomicParameters {
            max_points: dec!(30),
            x: None,
            alpha: None,
        },
        offers: [("A", dec!(10)), ("B", dec!(30)), ("C", dec!(0))]
            .into_iter()
            .map(|(id, value)| ValueEntry::Identified(IdentifiedValue { id: id.into(), value }))
            .collect(),
        draw_seed: None,
    };
    let r = evaluate_oepv(&OepvRequest {
        technical,
        economic,
        draw_seed: Some(1),
    })
    .expect("oepv");
    assert_eq!(r.totals[0].total, dec!(80));
    assert_eq!(r.totals[1].total, dec!(80));
    assert_eq!(r.ranking[0].id, "A");
    assert_eq!(r.ranking[0].tie_break, TieBreak::TechnicalScore);
    assert_eq!(r.ranking[1].id, "B");
}
