//! SOA qualification of works contractors (Allegato II.12 D.Lgs. 36/2023): categories
//! (OG general works, OS specialised works) and classifiche (amount bands).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::csv_data::parse_rows;
use super::IdError;

#[derive(Deserialize)]
struct CategoriaRow {
    codice: String,
    codice_pcp: String,
    tipo: String,
    denominazione: String,
}

struct CategorieTable {
    rows: Vec<CategoriaRow>,
    by_code: HashMap<String, usize>,
}

fn categorie() -> &'static CategorieTable {
    static TABLE: OnceLock<CategorieTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows: Vec<CategoriaRow> = parse_rows("soa_categories.csv", include_str!("../../data/soa_categories.csv"));
        let by_code = rows.iter().enumerate().map(|(i, r)| (r.codice.clone(), i)).collect();
        CategorieTable { rows, by_code }
    })
}

fn categoria_row(code: &str) -> Option<&'static CategoriaRow> {
    let t = categorie();
    t.by_code.get(code).map(|&i| &t.rows[i])
}

string_id!(
    /// A SOA category in compact form: `OG1`–`OG13`, `OS1`–`OS35` including the lettered
    /// ones (`OS2-A`, `OS18-B`, ...).
    ///
    /// Parsing ignores case and spaces and accepts a missing hyphen before the letter, so
    /// `OS 18-A` (ANAC PCP form), `os18a` and `OS18-A` are the same category.
    SoaCategoria
);

impl SoaCategoria {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if categoria_row(&compact).is_some() {
            return Ok(Self(compact));
        }
        // "OS18A" -> "OS18-A"
        if let Some(last) = compact.chars().last().filter(char::is_ascii_uppercase) {
            let with_hyphen = format!("{}-{last}", &compact[..compact.len() - 1]);
            if categoria_row(&with_hyphen).is_some() {
                return Ok(Self(with_hyphen));
            }
        }
        Err(IdError::SoaCategoriaUnknown {
            code: input.trim().to_owned(),
        })
    }

    /// All 52 categories, OG first, in the order of the legal list.
    pub fn all() -> impl Iterator<Item = SoaCategoria> {
        categorie().rows.iter().map(|r| SoaCategoria(r.codice.clone()))
    }

    fn row(&self) -> &'static CategoriaRow {
        categoria_row(&self.0).expect("SoaCategoria is validated against the same table")
    }

    /// Italian title, e.g. "Edifici civili e industriali" for OG1.
    pub fn description(&self) -> &'static str {
        &self.row().denominazione
    }

    /// The code as the ANAC PCP interface expects it, e.g. `OS 18-A`.
    pub fn code_pcp(&self) -> &'static str {
        &self.row().codice_pcp
    }

    /// OG (opere generali) rather than OS (opere specializzate).
    pub fn is_general(&self) -> bool {
        self.row().tipo == "OG"
    }
}

/// SOA classifica: the amount band a contractor is qualified for in a category.
/// Ordered from the smallest (I) to the unlimited one (VIII).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SoaClassifica {
    I,
    II,
    III,
    IIIBis,
    IV,
    IVBis,
    V,
    VI,
    VII,
    VIII,
}

impl SoaClassifica {
    pub const ALL: [SoaClassifica; 10] = [
        Self::I,
        Self::II,
        Self::III,
        Self::IIIBis,
        Self::IV,
        Self::IVBis,
        Self::V,
        Self::VI,
        Self::VII,
        Self::VIII,
    ];

    /// The legal name, e.g. `III-bis`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::I => "I",
            Self::II => "II",
            Self::III => "III",
            Self::IIIBis => "III-bis",
            Self::IV => "IV",
            Self::IVBis => "IV-bis",
            Self::V => "V",
            Self::VI => "VI",
            Self::VII => "VII",
            Self::VIII => "VIII",
        }
    }

    /// The band's amount in euro (data/soa_classifiche.csv); `None` for VIII, which is
    /// unlimited.
    pub fn max_amount(self) -> Option<Decimal> {
        classifica_amounts()
            .get(self.as_str())
            .copied()
            .flatten()
            .map(Decimal::from)
    }

    /// Whether this classifica qualifies the firm for works of `amount` euro.
    ///
    /// Art. 2 c.2 Allegato II.12 D.Lgs. 36/2023 (formerly art. 61 c.2 DPR 207/2010): the
    /// qualification allows tenders up to the classifica's amount increased by one fifth.
    /// For joint bidders (RTI, consorzi) the fifth applies to each member only if it holds at
    /// least one fifth of the tender amount: that condition is not modelled here.
    pub fn covers_amount(self, amount: Decimal) -> bool {
        match self.max_amount() {
            None => true,
            Some(max) => amount <= max + max / Decimal::from(5),
        }
    }
}

#[derive(Deserialize)]
struct ClassificaRow {
    classifica: String,
    importo_massimo_eur: Option<u64>,
}

fn classifica_amounts() -> &'static HashMap<String, Option<u64>> {
    static AMOUNTS: OnceLock<HashMap<String, Option<u64>>> = OnceLock::new();
    AMOUNTS.get_or_init(|| {
        let rows: Vec<ClassificaRow> =
            parse_rows("soa_classifiche.csv", include_str!("../../data/soa_classifiche.csv"));
        rows.into_iter()
            .map(|r| (r.classifica, r.importo_massimo_eur))
            .collect()
    })
}

impl FromStr for SoaClassifica {
    type Err = IdError;

    /// Accepts the legal names ignoring case, spaces and the hyphen before "bis"
    /// (`III-bis`, `iii bis`, `IIIBIS`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().replace('-', "").to_ascii_uppercase() == compact)
            .ok_or_else(|| IdError::SoaClassificaUnknown {
                value: s.trim().to_owned(),
            })
    }
}

impl TryFrom<String> for SoaClassifica {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<SoaClassifica> for String {
    fn from(c: SoaClassifica) -> String {
        c.as_str().to_owned()
    }
}

impl AsRef<str> for SoaClassifica {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for SoaClassifica {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn categories_load() {
        assert_eq!(SoaCategoria::all().count(), 52);
        assert_eq!(SoaCategoria::all().filter(SoaCategoria::is_general).count(), 13);
    }

    #[test]
    fn category_forms() {
        let og1 = SoaCategoria::parse("OG1").expect("OG1");
        assert_eq!(og1.description(), "Edifici civili e industriali");
        assert!(og1.is_general());
        for input in ["OS18-A", "OS 18-A", "os18a", " os 18 a "] {
            let c = SoaCategoria::parse(input).expect(input);
            assert_eq!(c.as_str(), "OS18-A");
            assert_eq!(c.code_pcp(), "OS 18-A");
            assert!(!c.is_general());
        }
        assert_eq!(SoaCategoria::parse("OS2-B").map(String::from), Ok("OS2-B".into()));
    }

    #[test]
    fn unknown_categories() {
        for bad in ["", "OG14", "OS36", "OS18", "OS1-A", "OS18-C", "FB", "OG 0"] {
            assert_eq!(
                SoaCategoria::parse(bad).err().map(|e| e.code()),
                Some("soa_categoria_unknown"),
                "{bad}"
            );
        }
    }

    #[test]
    fn classifiche_follow_the_data_file_order_and_amounts() {
        let names: Vec<&str> = SoaClassifica::ALL.iter().map(|c| c.as_str()).collect();
        let mut sorted = SoaClassifica::ALL;
        sorted.sort();
        assert_eq!(sorted, SoaClassifica::ALL);
        assert_eq!(classifica_amounts().len(), 10);
        for name in names {
            assert!(classifica_amounts().contains_key(name), "{name}");
        }
        assert_eq!(SoaClassifica::I.max_amount(), Some(dec!(258000)));
        assert_eq!(SoaClassifica::IIIBis.max_amount(), Some(dec!(1500000)));
        assert_eq!(SoaClassifica::VII.max_amount(), Some(dec!(15494000)));
        assert_eq!(SoaClassifica::VIII.max_amount(), None);
        // Amounts increase with the classifica.
        let amounts: Vec<Decimal> = SoaClassifica::ALL.iter().filter_map(|c| c.max_amount()).collect();
        assert_eq!(amounts.len(), 9);
        assert!(amounts.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn ordering() {
        assert!(SoaClassifica::III < SoaClassifica::IIIBis);
        assert!(SoaClassifica::IIIBis < SoaClassifica::IV);
        assert!(SoaClassifica::VII < SoaClassifica::VIII);
    }

    #[test]
    fn covers_amount_with_one_fifth() {
        let i = SoaClassifica::I;
        assert!(i.covers_amount(dec!(258000)));
        assert!(i.covers_amount(dec!(309600))); // 258,000 + 1/5
        assert!(!i.covers_amount(dec!(309600.01)));
        assert!(SoaClassifica::VIII.covers_amount(dec!(1000000000)));
    }

    #[test]
    fn classifica_parsing_and_serde() {
        for (input, expected) in [
            ("III-bis", SoaClassifica::IIIBis),
            ("iii bis", SoaClassifica::IIIBis),
            ("IVBIS", SoaClassifica::IVBis),
            (" viii ", SoaClassifica::VIII),
            ("II", SoaClassifica::II),
        ] {
            assert_eq!(input.parse::<SoaClassifica>(), Ok(expected), "{input}");
        }
        for bad in ["", "IX", "III-ter", "3", "V-bis"] {
            assert_eq!(
                bad.parse::<SoaClassifica>().err().map(|e| e.code()),
                Some("soa_classifica_unknown"),
                "{bad}"
            );
        }
        let json = serde_json::to_string(&SoaClassifica::IVBis).expect("ser");
        assert_eq!(json, "\"IV-bis\"");
        assert_eq!(
            serde_json::from_str::<SoaClassifica>(&json).expect("de"),
            SoaClassifica::IVBis
        );
        assert!(serde_json::from_str::<SoaClassifica>("\"IX\"").is_err());
    }
}
