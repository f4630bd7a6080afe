//! Belfiore (cadastral) codes of places of birth, as encoded in a person's codice fiscale.
//!
//! The known set is the union of: current comuni (data/comuni.csv), former and suppressed
//! comuni (data/belfiore_comuni_storici.csv, needed for people born in a comune that has
//! since been merged or renamed) and foreign states (`Z` codes, data/belfiore_esteri.csv).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::comune::comuni;
use super::csv_data::parse_rows;

/// A place of birth identified by a Belfiore code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct BelfiorePlace {
    /// Four characters: a letter and three digits (e.g. "H501", "Z404").
    pub code: String,
    /// The current name for current comuni (e.g. "Roma"), otherwise the upper-case name
    /// from the historic list (latest active name, e.g. "ABANO TERME") or the state's name.
    pub name: String,
    /// Province abbreviation for Italian places; `None` for foreign states.
    pub province: Option<String>,
}

impl BelfiorePlace {
    /// Foreign states have codes starting with `Z`.
    pub fn is_foreign(&self) -> bool {
        self.code.starts_with('Z')
    }
}

#[derive(Deserialize)]
struct HistoricRow {
    codice_catastale: String,
    sigla_provincia: String,
    denominazione: String,
    attivo: u8,
}

#[derive(Deserialize)]
struct ForeignRow {
    codice_belfiore: String,
    denominazione: String,
}

fn table() -> &'static HashMap<String, BelfiorePlace> {
    static TABLE: OnceLock<HashMap<String, BelfiorePlace>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut places: HashMap<String, BelfiorePlace> = HashMap::new();
        let historic: Vec<HistoricRow> = parse_rows(
            "belfiore_comuni_storici.csv",
            include_str!("../../data/belfiore_comuni_storici.csv"),
        );
        // A code may have several rows (former names): an active row wins over inactive
        // ones, otherwise the last row in the file wins.
        let mut active = std::collections::HashSet::new();
        for row in historic {
            if active.contains(&row.codice_catastale) {
                continue;
            }
            if row.attivo == 1 {
                active.insert(row.codice_catastale.clone());
            }
            places.insert(
                row.codice_catastale.clone(),
                BelfiorePlace {
                    code: row.codice_catastale,
                    name: row.denominazione,
                    province: Some(row.sigla_provincia),
                },
            );
        }
        let foreign: Vec<ForeignRow> =
            parse_rows("belfiore_esteri.csv", include_str!("../../data/belfiore_esteri.csv"));
        for row in foreign {
            // Z000 (Italia) and the non-numeric ZZZZ/ZAA1/ZAA2 are ANAC PCP pseudo-codes,
            // not places of birth (data/SOURCES.md).
            let is_state_code =
                row.codice_belfiore.len() == 4 && row.codice_belfiore[1..].bytes().all(|b| b.is_ascii_digit());
            if !is_state_code || row.codice_belfiore == "Z000" {
                continue;
            }
            places.insert(
                row.codice_belfiore.clone(),
                BelfiorePlace {
                    code: row.codice_belfiore,
                    name: row.denominazione,
                    province: None,
                },
            );
        }
        // Current comuni last: their names are properly cased and authoritative.
        for c in comuni() {
            places.insert(
                c.belfiore.clone(),
                BelfiorePlace {
                    code: c.belfiore.clone(),
                    name: c.name.clone(),
                    province: Some(c.province.clone()),
                },
            );
        }
        places
    })
}

/// The place of birth with this Belfiore code, if it is a known comune (current or former)
/// or foreign state.
pub fn belfiore_place(code: &str) -> Option<&'static BelfiorePlace> {
    table().get(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_comune_uses_istat_name() {
        let roma = belfiore_place("H501").expect("Roma");
        assert_eq!(roma.name, "Roma");
        assert_eq!(roma.province.as_deref(), Some("RM"));
        assert!(!roma.is_foreign());
    }

    #[test]
    fn suppressed_comune_is_known() {
        // Present only in the historic list, never in the current ISTAT list.
        let code = "A002"; // ABBADIA (CO), suppressed
        assert!(super::super::comune::comune_by_belfiore(code).is_none());
        let place = belfiore_place(code).expect("historic comune");
        assert_eq!(place.province.as_deref(), Some("CO"));
    }

    #[test]
    fn renamed_comune_keeps_active_name() {
        // A001 has rows "ABANO BAGNI" (inactive) and "ABANO TERME" (active); it is also
        // a current comune, so the ISTAT spelling wins.
        assert_eq!(belfiore_place("A001").map(|p| p.name.as_str()), Some("Abano Terme"));
    }

    #[test]
    fn foreign_states() {
        let usa = belfiore_place("Z404").expect("USA");
        assert!(usa.is_foreign());
        assert_eq!(usa.province, None);
        assert!(belfiore_place("Z000").is_none(), "Italia is not a foreign birthplace");
        assert!(belfiore_place("ZZZZ").is_none());
    }

    #[test]
    fn unknown_code() {
        assert!(belfiore_place("A000").is_none());
        assert!(belfiore_place("h501").is_none(), "lookup is case-sensitive");
    }
}
