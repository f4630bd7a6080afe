//! Worked examples of domain.md §6 (Method A), with the rounding stated there: none — the
//! values are exact (T = 15.7534 and T = 13.53 are exact results, not roundings).

use aggiudicazione::anomaly::{
    evaluate_anomaly, AnomalyMethod, AnomalyOutcome, AnomalyRequest, DiscountEntry, MethodABranch,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn request(values: &[Decimal]) -> AnomalyRequest {
    AnomalyRequest::new(
        AnomalyMethod::A,
        values.iter().copied().map(DiscountEntry::from).collect(),
    )
}

#[test]
fn sixteen_offers() {
    let r = evaluate_anomaly(&request(&[
        dec!(10.125),
        dec!(11.300),
        dec!(12.450),
        dec!(12.900),
        dec!(13.250),
        dec!(13.800),
        dec!(14.100),
        dec!(14.650),
        dec!(15.270),
        dec!(15.420),
        dec!(16.050),
        dec!(16.780),
        dec!(17.300),
        dec!(18.900),
        dec!(21.500),
        dec!(24.750),
    ]))
    .expect("evaluation");
    assert_eq!(r.branch, Some(MethodABranch::AtLeast15));
    assert_eq!(r.wing_size_k, Some(2));
    let wings: Vec<Decimal> = r.lower_wing.iter().chain(&r.upper_wing).map(|o| o.discount).collect();
    assert_eq!(wings, vec![dec!(10.125), dec!(11.300), dec!(21.500), dec!(24.750)]);
    assert_eq!(r.sum, Some(dec!(180.870)));
    assert_eq!(r.mean, Some(dec!(15.0725)));
    assert_eq!(r.above_mean.len(), 6);
    assert_eq!(r.mean_deviation, Some(dec!(1.5475)));
    assert_eq!(r.threshold_before_decrement, Some(dec!(16.620)));
    assert_eq!(r.sum_first_two_decimals, Some([8, 7]));
    assert_eq!(r.product_d1_d2, Some(56));
    assert_eq!(r.decrement, Some(dec!(0.8666)));
    assert_eq!(r.threshold, Some(dec!(15.7534)));
    assert!(r.inexact_fields.is_empty());
    let excluded: Vec<Decimal> = r.excluded.iter().map(|o| o.discount).collect();
    assert_eq!(excluded[0], dec!(16.050));
    assert_eq!(excluded.len(), 6);
    let winner = r.winner.expect("winner");
    assert_eq!(winner.discount, dec!(15.420));
    assert_eq!(winner.ids, vec!["O10".to_owned()]);
    assert_eq!(r.outcome, AnomalyOutcome::ThresholdApplied);
}

#[test]
fn eight_offers() {
    let r = evaluate_anomaly(&request(&[
        dec!(8.10),
        dec!(9.25),
        dec!(10.40),
        dec!(10.95),
        dec!(11.30),
        dec!(12.05),
        dec!(13.70),
        dec!(19.80),
    ]))
    .expect("evaluation");
    assert_eq!(r.branch, Some(MethodABranch::FewerThan15));
    assert_eq!(r.wing_size_k, Some(1));
    assert_eq!(r.mean, Some(dec!(11.275)));
    assert_eq!(r.mean_deviation, Some(dec!(1.075)));
    // R = 43/451 = 0.0953…, shown at 20 decimals.
    assert_eq!(r.ratio_sm_over_m, Some(dec!(0.09534368070953436807)));
    assert_eq!(r.fractions.get("ratio_SM_over_M").map(String::as_str), Some("43/451"));
    assert_eq!(r.ratio_le_0_15, Some(true));
    assert_eq!(r.threshold, Some(dec!(13.53)));
    let excluded: Vec<Decimal> = r.excluded.iter().map(|o| o.discount).collect();
    assert_eq!(excluded, vec![dec!(13.70), dec!(19.80)]);
    assert_eq!(r.winner.expect("winner").discount, dec!(12.05));
}

#[test]
fn fewer_than_five_offers_has_no_threshold() {
    let r = evaluate_anomaly(&request(&[dec!(10), dec!(12), dec!(14), dec!(16)])).expect("evaluation");
    assert!(!r.automatic_exclusion_applies);
    assert_eq!(r.outcome, AnomalyOutcome::NotApplicableLessThan5Offers);
    assert_eq!(r.threshold, None);
    assert!(r.excluded.is_empty());
    assert_eq!(r.winner.expect("winner").discount, dec!(16));
}

#[test]
fn rounding_trap_uses_exact_sum_digits() {
    // 15 offers whose trimmed sum is 180.875: d1·d2 = 8·7 = 56, not 8·8 from a rounded 180.88.
    let mut values = vec![dec!(1), dec!(2)];
    values.extend([dec!(15.075); 10]);
    values.push(dec!(30.125));
    values.extend([dec!(40), dec!(41)]);
    let r = evaluate_anomaly(&request(&values)).expect("evaluation");
    assert_eq!(r.sum, Some(dec!(180.875)));
    assert_eq!(r.sum_first_two_decimals, Some([8, 7]));
    assert_eq!(r.product_d1_d2, Some(56));
}

#[test]
fn seeded_lottery_for_tied_winner() {
    let mut req = request(&[dec!(10), dec!(11), dec!(12), dec!(12.5), dec!(13), dec!(13), dec!(20)]);
    req.options.lottery_seed = Some(2024);
    let first = evaluate_anomaly(&req).expect("evaluation").winner.expect("winner");
    let second = evaluate_anomaly(&req).expect("evaluation").winner.expect("winner");
    assert!(first.tie_lottery);
    assert_eq!(first.drawn_id, second.drawn_id);
    assert!(first.ids.contains(first.drawn_id.as_ref().expect("drawn")));
}
