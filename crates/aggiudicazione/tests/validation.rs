//! Input validation: error codes, fields and Italian messages; JSON parsing of requests.

use aggiudicazione::anomaly::{
    evaluate_anomaly, AmountBand, AnomalyMethod, AnomalyRequest, DiscountEntry, ReferenceKey,
};
use aggiudicazione::scoring::technical::{
    compute_technical_scores, TechnicalCriterion, TechnicalOffer, TechnicalRequest,
};
use aggiudicazione::scoring::{
    compute_economic_scores, EconomicFormula, EconomicParameters, EconomicScoresRequest, ValueEntry,
};
use aggiudicazione::EvalError;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn anomaly(method: AnomalyMethod, values: &[Decimal]) -> AnomalyRequest {
    AnomalyRequest::new(method, values.iter().copied().map(DiscountEntry::from).collect())
}

fn anomaly_err(req: &AnomalyRequest) -> EvalError {
    evaluate_anomaly(req).expect_err("should fail")
}

fn five() -> Vec<Decimal> {
    vec![dec!(10), dec!(11), dec!(12), dec!(13), dec!(14)]
}

#[test]
fn discount_out_of_range() {
    let mut values = five();
    values[2] = dec!(-0.5);
    let e = anomaly_err(&anomaly(AnomalyMethod::A, &values));
    assert_eq!(e.code(), "discount_out_of_range");
    assert_eq!(e.field().as_deref(), Some("discounts[2]"));
    assert!(e
        .to_string()
        .starts_with("Ribasso fuori intervallo: deve essere compreso tra 0 e 100"));
    values[2] = dec!(100);
    assert_eq!(
        anomaly_err(&anomaly(AnomalyMethod::A, &values)).code(),
        "discount_out_of_range"
    );
    values[2] = dec!(0);
    assert!(evaluate_anomaly(&anomaly(AnomalyMethod::A, &values)).is_ok());
    values[2] = dec!(99.99);
    assert!(evaluate_anomaly(&anomaly(AnomalyMethod::A, &values)).is_ok());
}

#[test]
fn too_many_decimals_empty_and_duplicates() {
    let mut values = five();
    values[0] = dec!(10.12345678901);
    assert_eq!(
        anomaly_err(&anomaly(AnomalyMethod::A, &values)).code(),
        "too_many_decimals"
    );
    let e = anomaly_err(&anomaly(AnomalyMethod::B, &[]));
    assert_eq!((e.code(), e.field().as_deref()), ("empty_offers", Some("discounts")));
    let req = AnomalyRequest::from_json(
        r#"{"method":"A","discounts":[{"id":"X","discount":"10"},{"id":"X","discount":"11"}]}"#,
    )
    .expect("parse");
    assert_eq!(anomaly_err(&req).code(), "duplicate_id");
}

#[test]
fn method_c_reference_rules() {
    let e = anomaly_err(&anomaly(AnomalyMethod::C, &five()));
    assert_eq!(
        (e.code(), e.field().as_deref()),
        ("missing_parameter", Some("reference_discount"))
    );
    let mut b = anomaly(AnomalyMethod::B, &five());
    b.reference_discount = Some(dec!(12));
    assert_eq!(anomaly_err(&b).code(), "unexpected_parameter");
    let mut c = anomaly(AnomalyMethod::C, &five());
    c.reference = Some(ReferenceKey {
        category: "OG1".into(),
        band: AmountBand::UpTo150k,
        percentile: 50,
    });
    let r = evaluate_anomaly(&c).expect("table lookup");
    assert_eq!(r.reference_discount, Some(dec!(23.791)));
    c.reference_discount = Some(dec!(12));
    assert_eq!(anomaly_err(&c).code(), "invalid_parameter");
}

#[test]
fn json_requests() {
    let e = AnomalyRequest::from_json(r#"{"method":"D","discounts":["10"]}"#).expect_err("unknown method");
    assert_eq!((e.code(), e.field().as_deref()), ("unknown_method", Some("method")));
    assert!(e.to_string().contains("Metodo di calcolo dell'anomalia sconosciuto"));
    // deny_unknown_fields
    let e = AnomalyRequest::from_json(r#"{"method":"A","discounts":["10"],"foo":1}"#).expect_err("unknown field");
    assert_eq!(e.code(), "invalid_request");
    // Decimals must be strings, never JSON floats.
    let e = AnomalyRequest::from_json(r#"{"method":"A","discounts":[10.5]}"#).expect_err("float");
    assert_eq!(e.code(), "invalid_request");
    let ok = AnomalyRequest::from_json(
        r#"{"method":"b","discounts":["10","11.5",{"id":"ACME","discount":"12"},"13","14"],
            "publication_date":"2024-12-30",
            "options":{"equal_to_threshold":"excluded","wing_ties":"distinct_values","lottery_seed":9}}"#,
    )
    .expect("parse");
    assert_eq!(ok.method, AnomalyMethod::B);
    let report = evaluate_anomaly(&ok).expect("evaluate");
    // The same options for a tender published on the day the correttivo applies: refused.
    let mut amended = ok.clone();
    amended.publication_date = chrono::NaiveDate::from_ymd_opt(2024, 12, 31);
    let e = evaluate_anomaly(&amended).expect_err("options contradict the amended text");
    assert_eq!(e.code(), "option_not_in_force");
    assert_eq!(report.sorted_ascending[2].id, "ACME");
    // Report serializes decimals as strings.
    let json = serde_json::to_value(&report).expect("json");
    assert!(json["mean"].is_string());
    let back: aggiudicazione::AnomalyReport = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, report);

    let e =
        EconomicScoresRequest::from_json(r#"{"formula":"quadratic","parameters":{"max_points":"30"},"offers":["1"]}"#)
            .expect_err("unknown formula");
    assert_eq!(e.code(), "unknown_formula");
    let req = EconomicScoresRequest::from_json(
        r#"{"formula":"bilinear","parameters":{"max_points":"30","X":"0.85"},"offers":["12.50","18.00"]}"#,
    )
    .expect("parse");
    assert!(compute_economic_scores(&req).is_ok());
}

fn economic(
    formula: EconomicFormula,
    x: Option<Decimal>,
    alpha: Option<Decimal>,
    values: &[Decimal],
) -> EconomicScoresRequest {
    EconomicScoresRequest {
        formula,
        parameters: EconomicParameters {
            max_points: dec!(30),
            x,
            alpha,
        },
        offers: values.iter().copied().map(ValueEntry::Plain).collect(),
        draw_seed: None,
    }
}

fn economic_code(req: &EconomicScoresRequest) -> (&'static str, Option<String>) {
    let e = compute_economic_scores(req).expect_err("should fail");
    (e.code(), e.field())
}

#[test]
fn economic_parameters() {
    let v = [dec!(10), dec!(20)];
    let bil = |x| economic(EconomicFormula::Bilinear, Some(x), None, &v);
    assert_eq!(
        economic_code(&bil(dec!(0.75))),
        ("invalid_parameter", Some("parameters.X".into()))
    );
    assert!(compute_economic_scores(&bil(dec!(0.8))).is_ok());
    assert!(compute_economic_scores(&bil(dec!(0.900))).is_ok());
    assert_eq!(
        economic_code(&economic(EconomicFormula::Bilinear, None, None, &v)).0,
        "missing_parameter"
    );
    let con = |a| economic(EconomicFormula::Concave, None, Some(a), &v);
    for bad in [dec!(0), dec!(-0.5), dec!(1.01), dec!(0.3333)] {
        assert_eq!(
            economic_code(&con(bad)),
            ("invalid_parameter", Some("parameters.alpha".into())),
            "{bad}"
        );
    }
    assert!(compute_economic_scores(&con(dec!(1))).is_ok());
    assert!(compute_economic_scores(&con(dec!(0.001))).is_ok());
    assert_eq!(
        economic_code(&economic(EconomicFormula::Linear, None, Some(dec!(0.5)), &v)).0,
        "unexpected_parameter"
    );
    assert_eq!(
        economic_code(&economic(EconomicFormula::Linear, None, None, &[dec!(100)])).0,
        "discount_out_of_range"
    );
    assert_eq!(
        economic_code(&economic(
            EconomicFormula::InverseProportional,
            None,
            None,
            &[dec!(100), dec!(0)]
        )),
        ("price_out_of_range", Some("offers[1]".into()))
    );
    assert!(compute_economic_scores(&economic(
        EconomicFormula::InverseProportional,
        None,
        None,
        &[dec!(150000)]
    ))
    .is_ok());
    assert_eq!(
        economic_code(&economic(EconomicFormula::Linear, None, None, &[])).0,
        "empty_offers"
    );
    let mut zero = economic(EconomicFormula::Linear, None, None, &v);
    zero.parameters.max_points = dec!(0);
    assert_eq!(economic_code(&zero).0, "invalid_parameter");
}

#[test]
fn technical_validation() {
    let req = |c: Vec<Decimal>, key: &str| TechnicalRequest {
        criteria: vec![TechnicalCriterion {
            id: "C1".into(),
            max_points: dec!(70),
            reparametrize: true,
        }],
        offers: vec![TechnicalOffer {
            id: "A".into(),
            coefficients: [(key.to_owned(), c)].into_iter().collect(),
        }],
        minimum_score: None,
        minimum_score_stage: Default::default(),
        second_reparametrization: false,
        max_technical_points: None,
    };
    let e = compute_technical_scores(&req(vec![dec!(1.2)], "C1")).expect_err("range");
    assert_eq!(
        (e.code(), e.field().as_deref()),
        ("coefficient_out_of_range", Some("offers[0].coefficients.C1[0]"))
    );
    assert_eq!(
        compute_technical_scores(&req(vec![dec!(0.5)], "C9"))
            .expect_err("x")
            .code(),
        "unknown_criterion"
    );
    assert_eq!(
        compute_technical_scores(&req(vec![], "C1")).expect_err("x").code(),
        "missing_score"
    );
}
