//! Quantitative and tabular criteria, computed by the platform from the values the bidder
//! declared in envelope B (see docs/seal.md, "Envelope B structured values"): envelope B's
//! plaintext is a JSON object whose `values` member maps a criterion code to a number (or a
//! decimal string) or to the text of an option. Nobody types these coefficients: the tender's
//! formula or table decides them.
//!
//! * quantitative: linear within `[min, max]` (the value brought to the nearer end when outside);
//!   higher is better C = (V − min)/(max − min), lower is better C = (max − V)/(max − min);
//! * tabular: the coefficient of the row the value falls in (an option matched exactly, or a range
//!   `from ≤ V < to`).
//!
//! A value that is missing, not a number where one is needed, or in no row of the table scores 0,
//! and the reason is recorded next to the coefficient. Coefficients are exact; one with no
//! finite expansion in 10 decimals is rounded half-even to 10 and flagged `inexact`.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;

use bando::{Better, Criterion, CriterionKind};
use offerte::archive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use uuid::Uuid;

/// Envelope B with structured values is a small JSON document; anything bigger is not.
const MAX_B_JSON: u64 = 8 << 20;

/// One computed coefficient, stored with the technical report.
#[derive(Debug, Clone, Serialize)]
pub struct ComputedCoefficient {
    pub bidder_id: Uuid,
    pub criterion: String,
    pub kind: CriterionKind,
    /// The value as declared in envelope B (`null` when missing).
    pub declared: serde_json::Value,
    pub coefficient: Decimal,
    /// Why the coefficient is 0 without being computed (value missing or invalid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inexact: bool,
}

/// The `values` member of envelope B's plaintext at `path`, or why there is none.
pub fn read_values(path: Option<&Path>) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let Some(path) = path else {
        return Err("busta B non decifrabile".into());
    };
    let mut file = File::open(path).map_err(|e| format!("busta B illeggibile: {e}"))?;
    let mut first = [0u8; 512];
    let n = file.read(&mut first).map_err(|e| format!("busta B illeggibile: {e}"))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| format!("busta B illeggibile: {e}"))?;
    let mut buf = Vec::new();
    if archive::looks_like_archive(&first[..n]) {
        // Several files (the portal, `centrale seal --file`): the values are one member.
        let (_, member) = archive::extract(BufReader::new(file), archive::VALUES_NAME).map_err(|e| match e {
            archive::ArchiveError::FileNotFound { .. } => {
                format!(
                    "la busta B non contiene «{}» con i valori dichiarati",
                    archive::VALUES_NAME
                )
            }
            other => format!("busta B illeggibile: {other}"),
        })?;
        member
            .take(MAX_B_JSON + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("busta B illeggibile: {e}"))?;
    } else {
        file.take(MAX_B_JSON + 1)
            .read_to_end(&mut buf)
            .map_err(|e| format!("busta B illeggibile: {e}"))?;
    }
    if buf.len() as u64 > MAX_B_JSON {
        return Err("la busta B non è un documento JSON con i valori dichiarati".into());
    }
    parse_values(&buf)
}

/// Parses envelope B's plaintext: a JSON object with a `values` object.
pub fn parse_values(plaintext: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_slice::<serde_json::Value>(plaintext) {
        Ok(serde_json::Value::Object(mut m)) => match m.remove("values") {
            Some(serde_json::Value::Object(v)) => Ok(v),
            _ => Err("la busta B non contiene l'oggetto «values» con i valori dichiarati".into()),
        },
        _ => Err("la busta B non è un documento JSON con i valori dichiarati".into()),
    }
}

fn number(v: &serde_json::Value) -> Option<Decimal> {
    let s = match v {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.trim().replace(',', "."),
        _ => return None,
    };
    Decimal::from_str(&s).or_else(|_| Decimal::from_scientific(&s)).ok()
}

/// (coefficient, inexact) of num / den, den > 0.
fn ratio(num: Decimal, den: Decimal) -> (Decimal, bool) {
    let q = (num / den).round_dp_with_strategy(10, RoundingStrategy::MidpointNearestEven);
    (q.normalize(), q * den != num)
}

/// The criterion is discretionary, or has no formula/table: the platform cannot compute it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRule;

/// (coefficient, why it is 0 when the value is missing or invalid, inexact).
pub type Computed = (Decimal, Option<String>, bool);

/// The coefficient of a quantitative or tabular leaf for the declared `value`.
pub fn coefficient(c: &Criterion, value: Option<&serde_json::Value>) -> Result<Computed, NoRule> {
    let zero = |why: &str| Ok((Decimal::ZERO, Some(why.to_string()), false));
    match c.kind {
        CriterionKind::Discretionary => Err(NoRule),
        CriterionKind::Quantitative => {
            let rule = c.quantitative.as_ref().ok_or(NoRule)?;
            let Some(v) = value else {
                return zero("valore non dichiarato");
            };
            let Some(v) = number(v) else {
                return zero("valore non numerico");
            };
            let v = v.clamp(rule.min, rule.max);
            let num = match rule.better {
                Better::Higher => v - rule.min,
                Better::Lower => rule.max - v,
            };
            let (q, inexact) = ratio(num, rule.max - rule.min);
            Ok((q, None, inexact))
        }
        CriterionKind::Tabular => {
            if c.table.is_empty() {
                return Err(NoRule);
            }
            let Some(v) = value else {
                return zero("valore non dichiarato");
            };
            let options = c.table.iter().any(|r| r.option.is_some());
            let row = if options {
                let text = match v {
                    serde_json::Value::String(s) => s.trim().to_string(),
                    other => other.to_string(),
                };
                c.table
                    .iter()
                    .find(|r| r.option.as_deref().map(str::trim) == Some(text.as_str()))
            } else {
                let Some(n) = number(v) else {
                    return zero("valore non numerico");
                };
                c.table
                    .iter()
                    .find(|r| r.from.is_none_or(|f| f <= n) && r.to.is_none_or(|t| n < t))
            };
            match row {
                Some(r) => Ok((r.coefficient.normalize(), None, false)),
                None => zero("valore in nessuna riga della tabella"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    fn crit(v: serde_json::Value) -> Criterion {
        serde_json::from_value(v).expect("criterion")
    }

    #[test]
    fn linear_in_the_range_both_ways_and_tables() {
        let lower = crit(
            json!({ "code": "Q", "description": "d", "weight": 10, "kind": "quantitative",
                                  "quantitative": { "better": "lower", "min": "0", "max": "40" } }),
        );
        let c = |cr: &Criterion, v: serde_json::Value| coefficient(cr, Some(&v)).expect("rule");
        assert_eq!(c(&lower, json!("10")).0, dec("0.75"));
        assert_eq!(c(&lower, json!(50)).0, Decimal::ZERO);
        let higher = crit(
            json!({ "code": "Q", "description": "d", "weight": 10, "kind": "quantitative",
                                   "quantitative": { "better": "higher", "min": "0", "max": "3" } }),
        );
        let (q, _, inexact) = c(&higher, json!(1));
        assert_eq!(q, dec("0.3333333333"));
        assert!(inexact);
        assert_eq!(
            coefficient(&higher, None).expect("rule").1.as_deref(),
            Some("valore non dichiarato")
        );
        let ranges = crit(
            json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular",
            "table": [ { "to": "12", "coefficient": "0" }, { "from": "12", "to": "24", "coefficient": "0.5" }, { "from": "24", "coefficient": "1" } ] }),
        );
        assert_eq!(c(&ranges, json!(12)).0, dec("0.5"));
        assert_eq!(c(&ranges, json!("30")).0, Decimal::ONE);
        let options = crit(
            json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular",
            "table": [ { "option": "ISO 14001", "coefficient": "1" }, { "option": "nessuna", "coefficient": "0" } ] }),
        );
        assert_eq!(c(&options, json!("ISO 14001")).0, Decimal::ONE);
        assert!(c(&options, json!("EMAS")).1.is_some());
        let bare = crit(json!({ "code": "T", "description": "d", "weight": 10, "kind": "tabular" }));
        assert!(coefficient(&bare, None).is_err());
        assert!(parse_values(b"Relazione tecnica").is_err());
        assert_eq!(parse_values(br#"{"values": {"T": 3}}"#).expect("values")["T"], json!(3));
    }
}
