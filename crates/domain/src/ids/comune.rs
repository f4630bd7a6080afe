//! ISTAT codes of Italian comuni, validated against the embedded ISTAT list (data/comuni.csv).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::csv_data::parse_rows;
use super::IdError;

/// One current Italian comune, as listed by ISTAT (data/comuni.csv, "Fonte: ISTAT").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[non_exhaustive]
pub struct ComuneInfo {
    /// ISTAT code, 6 digits (e.g. "058091" for Roma).
    #[serde(rename = "codice_istat")]
    pub istat: String,
    /// The code in ANAC's current PCP list. Equal to `istat` except for Sardinia's comuni,
    /// which ANAC recodes from 2026-05-19 (new provinces; see data/SOURCES.md).
    #[serde(rename = "codice_istat_anac_pcp")]
    pub istat_anac_pcp: String,
    /// Italian name (e.g. "Bolzano").
    #[serde(rename = "denominazione_it")]
    pub name: String,
    /// Official name, bilingual where applicable (e.g. "Bolzano/Bozen").
    #[serde(rename = "denominazione")]
    pub official_name: String,
    /// Cadastral (Belfiore) code, as in codici fiscali (e.g. "H501").
    #[serde(rename = "codice_catastale")]
    pub belfiore: String,
    /// Province abbreviation (sigla automobilistica, e.g. "RM"). For Sardinia this is still
    /// the pre-2026 province (see data/SOURCES.md).
    #[serde(rename = "sigla_provincia")]
    pub province: String,
    /// Region name (e.g. "Lazio").
    #[serde(rename = "regione")]
    pub region: String,
    /// NUTS 3 (2021) code of the province (e.g. "ITI43").
    #[serde(rename = "nuts3_2021")]
    pub nuts3_2021: String,
}

struct ComuniTable {
    rows: Vec<ComuneInfo>,
    by_code: HashMap<String, usize>,
    by_belfiore: HashMap<String, usize>,
}

fn table() -> &'static ComuniTable {
    static TABLE: OnceLock<ComuniTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows: Vec<ComuneInfo> = parse_rows("comuni.csv", include_str!("../../data/comuni.csv"));
        let mut by_code = HashMap::with_capacity(rows.len() + 400);
        let mut by_belfiore = HashMap::with_capacity(rows.len());
        for (i, c) in rows.iter().enumerate() {
            by_code.insert(c.istat.clone(), i);
            by_code.entry(c.istat_anac_pcp.clone()).or_insert(i);
            by_belfiore.insert(c.belfiore.clone(), i);
        }
        ComuniTable {
            rows,
            by_code,
            by_belfiore,
        }
    })
}

/// All current comuni, in ISTAT order.
pub fn comuni() -> &'static [ComuneInfo] {
    &table().rows
}

/// The comune with this 6-digit code: the ISTAT code, or for Sardinia also ANAC's new code.
pub fn comune_by_istat(code: &str) -> Option<&'static ComuneInfo> {
    let t = table();
    t.by_code.get(code).map(|&i| &t.rows[i])
}

/// The current comune with this cadastral (Belfiore) code, e.g. "H501" → Roma.
pub fn comune_by_belfiore(code: &str) -> Option<&'static ComuneInfo> {
    let t = table();
    t.by_belfiore.get(code).map(|&i| &t.rows[i])
}

string_id!(
    /// The 6-digit ISTAT code of a current Italian comune (e.g. "058091", Roma).
    ///
    /// Both the ISTAT code and ANAC's PCP code are accepted (they differ only for Sardinia,
    /// recoded by ANAC from 2026-05-19); the code is kept as given, not translated.
    IstatComune
);

impl IstatComune {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdError::IstatFormat);
        }
        match comune_by_istat(s) {
            Some(_) => Ok(Self(s.to_owned())),
            None => Err(IdError::IstatUnknown { code: s.to_owned() }),
        }
    }

    /// The comune's data.
    pub fn info(&self) -> &'static ComuneInfo {
        comune_by_istat(&self.0).expect("IstatComune is validated against the same table")
    }

    pub fn name(&self) -> &'static str {
        &self.info().name
    }

    pub fn province(&self) -> &'static str {
        &self.info().province
    }

    pub fn region(&self) -> &'static str {
        &self.info().region
    }

    pub fn belfiore(&self) -> &'static str {
        &self.info().belfiore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads_every_comune() {
        assert_eq!(comuni().len(), 7896);
        assert!(comuni().iter().all(|c| c.istat.len() == 6 && c.belfiore.len() == 4));
    }

    #[test]
    fn roma() {
        let roma = IstatComune::parse("058091").expect("Roma");
        assert_eq!(roma.name(), "Roma");
        assert_eq!(roma.province(), "RM");
        assert_eq!(roma.region(), "Lazio");
        assert_eq!(roma.belfiore(), "H501");
        assert_eq!(roma.info().nuts3_2021, "ITI43");
        assert_eq!(comune_by_belfiore("H501").map(|c| c.istat.as_str()), Some("058091"));
    }

    #[test]
    fn bilingual_name() {
        let c = comune_by_istat("021008").expect("Bolzano");
        assert_eq!(c.name, "Bolzano");
        assert_eq!(c.official_name, "Bolzano/Bozen");
        assert_eq!(c.province, "BZ");
    }

    #[test]
    fn sardinian_anac_code_is_accepted_and_kept() {
        let istat = comune_by_istat("095001").expect("Abbasanta, ISTAT code");
        assert_eq!(istat.name, "Abbasanta");
        assert_eq!(istat.istat_anac_pcp, "115001");
        let anac = IstatComune::parse("115001").expect("ANAC code");
        assert_eq!(anac.as_str(), "115001");
        assert_eq!(anac.name(), "Abbasanta");
    }

    #[test]
    fn rejects_bad_codes() {
        assert_eq!(IstatComune::parse("58091"), Err(IdError::IstatFormat));
        assert_eq!(IstatComune::parse("05809A"), Err(IdError::IstatFormat));
        assert_eq!(
            IstatComune::parse("058999"),
            Err(IdError::IstatUnknown { code: "058999".into() })
        );
        assert_eq!(
            IstatComune::parse("058999").err().map(|e| e.code()),
            Some("istat_unknown")
        );
    }

    #[test]
    fn serde_validates() {
        let c: IstatComune = serde_json::from_str("\" 058091\"").expect("valid");
        assert_eq!(serde_json::to_string(&c).expect("serialize"), "\"058091\"");
        assert!(serde_json::from_str::<IstatComune>("\"000000\"").is_err());
    }
}
