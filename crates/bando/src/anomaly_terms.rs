//! What the tender says about the automatic exclusion of abnormal offers beyond the method
//! (art. 54, Allegato II.2 as amended by D.Lgs. 209/2024), checked at publication:
//!
//! * Method C's reference discount ("sconto di riferimento", Metodo C point 1): required
//!   whenever Method C may apply; either taken from Tabella A (the platform's copy of the table
//!   is unverified, so the RUP states the value) or departing from it with a motivation.
//! * The certain cross-border interest (art. 54 c.1): then automatic exclusion does not apply
//!   and the offers are checked under art. 110.
//! * The methods among which the method is drawn at the evaluation (art. 54 c.2, "tramite
//!   sorteggio tra i metodi compatibili"), as an alternative to stating one method.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Violation;
use crate::model::AnomalyMethod;

/// Stored as one JSON column (`bandi.anomaly_terms`, migration 2026-12-03-010000).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnomalyTerms {
    /// Method C: the reference discount stated in the bando (percentage, e.g. "12.50").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "12.50")]
    pub reference_discount: Option<Decimal>,
    /// Method C: the value is one of Tabella A's (no motivation needed).
    #[serde(default)]
    pub reference_discount_tabella_a: bool,
    /// Method C: why the reference discount departs from Tabella A (Metodo C point 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_discount_motivation: Option<String>,
    /// The contract has a certain cross-border interest: no automatic exclusion (art. 54 c.1).
    #[serde(default)]
    pub cross_border_interest: bool,
    /// The methods the method is drawn among at the evaluation (art. 54 c.2); empty when the
    /// bando states the method.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draw_methods: Vec<AnomalyMethod>,
    /// The most decimal places the economic offer (its discount, or its price) may have, as
    /// the bando states it ("al massimo due cifre decimali"); unset: the platform's limit
    /// (10). Kept with these terms because the art. 54 computations run on those discounts.
    /// An envelope C with more is proposed for exclusion at the economic phase (issue 11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_decimals: Option<u32>,
}

/// The platform's own limit on the decimals of an economic offer (`aggiudicazione`'s
/// `MAX_INPUT_DECIMALS`): a bando may state fewer, never more.
pub const MAX_OFFER_DECIMALS: u32 = 10;

impl AnomalyTerms {
    /// Blank motivation means none; methods listed once, in A, B, C order.
    pub fn normalized(mut self) -> Self {
        self.reference_discount_motivation = self
            .reference_discount_motivation
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        self.draw_methods.sort_by_key(|m| m.as_str());
        self.draw_methods.dedup();
        self
    }

    /// Whether Method C may be the tender's method.
    pub fn may_use_c(&self, method: Option<AnomalyMethod>) -> bool {
        method == Some(AnomalyMethod::C) || self.draw_methods.contains(&AnomalyMethod::C)
    }
}

/// The violations of these terms. `applies`: art. 54 c.1 would require automatic exclusion
/// (lowest price, works or services, below threshold), before the cross-border interest.
pub fn violations(terms: &AnomalyTerms, method: Option<AnomalyMethod>, applies: bool, article: &str) -> Vec<Violation> {
    let mut v = Vec::new();
    let applies_here = applies && !terms.cross_border_interest;
    let drawn = !terms.draw_methods.is_empty();
    if applies_here {
        match (method, drawn) {
            (None, false) => v.push(Violation::new(
                "anomaly_method_required",
                "anomaly_method",
                format!("{article}: per lavori e servizi sotto soglia al minor prezzo il bando indica il metodo di calcolo dell'anomalia (Allegato II.2) o i metodi tra cui sorteggiarlo"),
            )),
            (Some(_), true) => v.push(Violation::new(
                "anomaly_method_and_draw",
                "anomaly_terms.draw_methods",
                "art. 54 c.2: il bando indica il metodo oppure lo fa sorteggiare in sede di valutazione, non entrambi",
            )),
            (None, true) if terms.draw_methods.len() < 2 => v.push(Violation::new(
                "anomaly_draw_methods_too_few",
                "anomaly_terms.draw_methods",
                "art. 54 c.2: il sorteggio si fa tra almeno due metodi dell'Allegato II.2",
            )),
            _ => {}
        }
    } else if method.is_some() || drawn {
        let why = if applies {
            "art. 54 c.1: con un interesse transfrontaliero certo l'esclusione automatica non si applica (verifica ai sensi dell'art. 110)".to_string()
        } else {
            format!("{article}: l'esclusione automatica riguarda solo lavori e servizi sotto soglia aggiudicati al minor prezzo")
        };
        let field = if method.is_some() {
            "anomaly_method"
        } else {
            "anomaly_terms.draw_methods"
        };
        v.push(Violation::new("anomaly_method_not_applicable", field, why));
    }

    let uses_c = applies_here && terms.may_use_c(method);
    match (uses_c, terms.reference_discount) {
        (true, None) => v.push(Violation::new(
            "reference_discount_required",
            "anomaly_terms.reference_discount",
            "Allegato II.2 metodo C punto 1: il bando indica lo sconto di riferimento",
        )),
        (true, Some(r)) if r < Decimal::ZERO || r >= Decimal::ONE_HUNDRED => v.push(Violation::new(
            "reference_discount_out_of_range",
            "anomaly_terms.reference_discount",
            "Lo sconto di riferimento è una percentuale tra 0 e 100 (escluso)",
        )),
        (true, Some(_)) if !terms.reference_discount_tabella_a && terms.reference_discount_motivation.is_none() => {
            v.push(Violation::new(
                "reference_discount_motivation_required",
                "anomaly_terms.reference_discount_motivation",
                "Allegato II.2 metodo C punto 1: uno sconto di riferimento diverso dai valori della Tabella A va motivato con criteri verificabili",
            ))
        }
        (false, Some(_)) => v.push(Violation::new(
            "reference_discount_not_applicable",
            "anomaly_terms.reference_discount",
            "Lo sconto di riferimento serve solo con il metodo C dell'Allegato II.2",
        )),
        _ => {}
    }
    if terms.offer_decimals.is_some_and(|n| n > MAX_OFFER_DECIMALS) {
        v.push(Violation::new(
            "offer_decimals_out_of_range",
            "anomaly_terms.offer_decimals",
            format!("Le cifre decimali ammesse nell'offerta economica sono al massimo {MAX_OFFER_DECIMALS}"),
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn codes(t: &AnomalyTerms, m: Option<AnomalyMethod>, applies: bool) -> Vec<&'static str> {
        violations(t, m, applies, "art. 54 c.1–2")
            .into_iter()
            .map(|v| v.code)
            .collect()
    }

    #[test]
    fn method_c_needs_its_reference_discount_and_a_motivation_off_the_table() {
        let mut t = AnomalyTerms::default();
        assert_eq!(
            codes(&t, Some(AnomalyMethod::C), true),
            vec!["reference_discount_required"]
        );
        t.reference_discount = Some(dec!(12.5));
        assert_eq!(
            codes(&t, Some(AnomalyMethod::C), true),
            vec!["reference_discount_motivation_required"]
        );
        t.reference_discount_tabella_a = true;
        assert!(codes(&t, Some(AnomalyMethod::C), true).is_empty());
        t.reference_discount_tabella_a = false;
        t.reference_discount_motivation = Some("costi della manodopera".into());
        assert!(codes(&t, Some(AnomalyMethod::C), true).is_empty());
        t.reference_discount = Some(dec!(100));
        assert_eq!(
            codes(&t, Some(AnomalyMethod::C), true),
            vec!["reference_discount_out_of_range"]
        );
        t.reference_discount = Some(dec!(12.5));
        assert_eq!(
            codes(&t, Some(AnomalyMethod::A), true),
            vec!["reference_discount_not_applicable"]
        );
    }

    #[test]
    fn cross_border_interest_removes_the_automatic_exclusion() {
        let t = AnomalyTerms {
            cross_border_interest: true,
            ..Default::default()
        };
        assert!(codes(&t, None, true).is_empty());
        assert_eq!(
            codes(&t, Some(AnomalyMethod::A), true),
            vec!["anomaly_method_not_applicable"]
        );
    }

    #[test]
    fn the_draw_is_among_at_least_two_methods_instead_of_one() {
        let mut t = AnomalyTerms {
            draw_methods: vec![AnomalyMethod::A],
            ..Default::default()
        };
        assert_eq!(codes(&t, None, true), vec!["anomaly_draw_methods_too_few"]);
        t.draw_methods.push(AnomalyMethod::B);
        assert!(codes(&t, None, true).is_empty());
        assert_eq!(codes(&t, Some(AnomalyMethod::A), true), vec!["anomaly_method_and_draw"]);
        t.draw_methods.push(AnomalyMethod::C);
        assert_eq!(codes(&t, None, true), vec!["reference_discount_required"]);
        assert_eq!(codes(&t, None, false), vec!["anomaly_method_not_applicable"]);
    }
}
