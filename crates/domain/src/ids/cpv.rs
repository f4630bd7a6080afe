//! CPV (Common Procurement Vocabulary, Reg. (EC) 213/2008) main-vocabulary codes.
//!
//! Codes are validated against the official list (data/cpv2008.csv, 9,454 codes), never by
//! computing the check digit: the weighted formulas found in open-source code fail on real
//! codes (they give 45000000-0 instead of 45000000-7, 72000000-2 instead of 72000000-5).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use super::csv_data::parse_rows;
use super::IdError;

#[derive(Deserialize)]
struct CpvRow {
    code: String,
    it: String,
    en: String,
}

struct CpvTable {
    rows: Vec<CpvRow>,
    by_stem: HashMap<String, usize>,
}

fn table() -> &'static CpvTable {
    static TABLE: OnceLock<CpvTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows: Vec<CpvRow> = parse_rows("cpv2008.csv", include_str!("../../data/cpv2008.csv"));
        let by_stem = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.code[..8].to_owned(), i))
            .collect();
        CpvTable { rows, by_stem }
    })
}

fn row(stem: &str) -> Option<&'static CpvRow> {
    let t = table();
    t.by_stem.get(stem).map(|&i| &t.rows[i])
}

string_id!(
    /// A CPV 2008 code, stored in full form with its official check digit (`45000000-7`).
    ///
    /// Parsing accepts `NNNNNNNN-N` or the 8-digit stem alone (the check digit is then
    /// taken from the table); a full code whose check digit differs from the official one is
    /// rejected.
    Cpv
);

impl Cpv {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        let b = s.as_bytes();
        let stem_ok = b.len() >= 8 && b[..8].iter().all(u8::is_ascii_digit);
        let given_check = match b.len() {
            8 => None,
            10 if b[8] == b'-' && b[9].is_ascii_digit() => Some(char::from(b[9])),
            _ => return Err(IdError::CpvFormat),
        };
        if !stem_ok {
            return Err(IdError::CpvFormat);
        }
        let stem = &s[..8];
        let row = row(stem).ok_or_else(|| IdError::CpvUnknown { stem: stem.to_owned() })?;
        let official = char::from(row.code.as_bytes()[9]);
        match given_check {
            Some(c) if c != official => Err(IdError::CpvCheckDigit {
                stem: stem.to_owned(),
                expected: official,
            }),
            _ => Ok(Self(row.code.clone())),
        }
    }

    /// Every code of the vocabulary, in code order.
    pub fn all() -> impl Iterator<Item = Cpv> {
        table().rows.iter().map(|r| Cpv(r.code.clone()))
    }

    /// The full code, e.g. `45000000-7`.
    pub fn code(&self) -> &str {
        &self.0
    }

    /// The 8-digit stem, e.g. `45000000`.
    pub fn stem(&self) -> &str {
        &self.0[..8]
    }

    /// The division: the first two digits (e.g. `45`, construction work).
    pub fn division(&self) -> &str {
        &self.0[..2]
    }

    pub fn label_it(&self) -> &'static str {
        row(self.stem()).map_or("", |r| r.it.as_str())
    }

    pub fn label_en(&self) -> &'static str {
        row(self.stem()).map_or("", |r| r.en.as_str())
    }

    /// The significant prefix: the stem without its trailing zeros, keeping at least the
    /// two digits of the division (`45200000` → `452`, `03000000` → `03`).
    fn significant_prefix(&self) -> &str {
        let stem = self.stem();
        let len = stem.trim_end_matches('0').len().max(2);
        &stem[..len]
    }

    /// Whether `other` is this code or one of its descendants in the CPV hierarchy:
    /// `45000000-7` covers `45210000-2`; `45200000-9` covers `45210000-2` but not
    /// `45300000-0`.
    pub fn covers(&self, other: &Cpv) -> bool {
        other.stem().starts_with(self.significant_prefix())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpv(s: &str) -> Cpv {
        Cpv::parse(s).expect(s)
    }

    #[test]
    fn table_loads() {
        assert_eq!(Cpv::all().count(), 9454);
        assert!(Cpv::all().all(|c| !c.label_it().is_empty() && !c.label_en().is_empty()));
    }

    #[test]
    fn real_codes_where_the_formula_fails() {
        let lavori = cpv("45000000-7");
        assert_eq!(lavori.code(), "45000000-7");
        assert_eq!(lavori.stem(), "45000000");
        assert_eq!(lavori.division(), "45");
        assert_eq!(lavori.label_it(), "Lavori di costruzione");
        assert_eq!(cpv("72000000-5").code(), "72000000-5");
        assert_eq!(cpv("51000000-9").code(), "51000000-9");
    }

    #[test]
    fn stem_alone_gets_the_official_check_digit() {
        assert_eq!(cpv("45000000").as_str(), "45000000-7");
        assert_eq!(cpv(" 03000000-1 ").as_str(), "03000000-1");
    }

    #[test]
    fn wrong_check_digit_is_rejected_with_the_right_one() {
        // The values the weighted formula would produce.
        assert_eq!(
            Cpv::parse("45000000-0"),
            Err(IdError::CpvCheckDigit {
                stem: "45000000".into(),
                expected: '7'
            })
        );
        assert_eq!(
            Cpv::parse("72000000-2").err().map(|e| e.code()),
            Some("cpv_check_digit")
        );
    }

    #[test]
    fn unknown_and_malformed() {
        assert_eq!(
            Cpv::parse("45999999-1"),
            Err(IdError::CpvUnknown {
                stem: "45999999".into()
            })
        );
        for bad in [
            "",
            "4500000",
            "450000007",
            "45000000-",
            "45000000_7",
            "45000000-77",
            "4500000A-7",
            "45000000-X",
        ] {
            assert_eq!(Cpv::parse(bad), Err(IdError::CpvFormat), "{bad}");
        }
    }

    #[test]
    fn hierarchy() {
        let construction = cpv("45000000-7");
        let building = cpv("45200000-9");
        let civil = cpv("45210000-2");
        let installation = cpv("45300000-0");
        assert!(construction.covers(&civil));
        assert!(construction.covers(&installation));
        assert!(building.covers(&civil));
        assert!(!building.covers(&installation));
        assert!(!civil.covers(&building));
        assert!(civil.covers(&civil));
        assert!(!construction.covers(&cpv("72000000-5")));
        // Division 03 keeps both digits: it does not swallow division 30.
        let agri = cpv("03000000-1");
        assert!(!agri.covers(&cpv("30000000-9")));
        assert!(agri.covers(&cpv("03100000-2")));
    }

    #[test]
    fn serde_validates() {
        let c: Cpv = serde_json::from_str("\"45000000\"").expect("valid");
        assert_eq!(serde_json::to_string(&c).expect("ser"), "\"45000000-7\"");
        assert!(serde_json::from_str::<Cpv>("\"45000000-0\"").is_err());
    }
}
