//! NUTS 2021 codes of Italian territorial units.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::comune::comuni;
use super::IdError;

string_id!(
    /// An Italian NUTS 2021 code (`IT`, NUTS 1 `ITC`, NUTS 2 `ITC4`, NUTS 3 `ITC4C`),
    /// normalized to upper case.
    ///
    /// Validated against the set derived from the ISTAT comuni list: every NUTS 3 (2021) code
    /// found there and its prefixes (NUTS codes nest by prefix). The Eurostat "Extra-Regio"
    /// codes (`ITZ`, `ITZZ`, `ITZZZ`) are not included.
    Nuts
);

fn known_codes() -> &'static HashSet<String> {
    static CODES: OnceLock<HashSet<String>> = OnceLock::new();
    CODES.get_or_init(|| {
        let mut codes = HashSet::new();
        for c in comuni() {
            for len in 2..=c.nuts3_2021.len() {
                codes.insert(c.nuts3_2021[..len].to_owned());
            }
        }
        codes
    })
}

impl Nuts {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let well_formed = s.len() <= 5 && s.starts_with("IT") && s.bytes().skip(2).all(|b| b.is_ascii_alphanumeric());
        if !well_formed {
            return Err(IdError::NutsFormat);
        }
        if known_codes().contains(&s) {
            Ok(Self(s))
        } else {
            Err(IdError::NutsUnknown { code: s })
        }
    }

    /// 0 for the country, 1–3 for NUTS 1–3.
    pub fn level(&self) -> usize {
        self.0.len() - 2
    }

    /// Whether `other` is this unit or lies inside it (e.g. `ITC` covers `ITC4C`).
    pub fn covers(&self, other: &Nuts) -> bool {
        other.0.starts_with(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_levels() {
        for (code, level) in [("IT", 0), ("ITC", 1), ("ITC4", 2), ("ITC4C", 3), ("ITI43", 3)] {
            let nuts = Nuts::parse(code).expect(code);
            assert_eq!(nuts.level(), level);
        }
        let milano: Nuts = "itc4c".parse().expect("Milano");
        assert_eq!(milano.as_str(), "ITC4C");
        let derived = known_codes();
        // 1 country, 5 NUTS 1, 21 NUTS 2, 107 NUTS 3.
        assert_eq!(derived.len(), 1 + 5 + 21 + 107);
    }

    #[test]
    fn hierarchy() {
        let nord_ovest = Nuts::parse("ITC").expect("valid");
        let milano = Nuts::parse("ITC4C").expect("valid");
        let roma = Nuts::parse("ITI43").expect("valid");
        assert!(nord_ovest.covers(&milano));
        assert!(!nord_ovest.covers(&roma));
        assert!(milano.covers(&milano));
        assert!(!milano.covers(&nord_ovest));
    }

    #[test]
    fn rejects() {
        for bad in ["", "I", "FR101", "ITC4CX", "IT-4C", "ITC 4"] {
            assert_eq!(Nuts::parse(bad), Err(IdError::NutsFormat), "{bad}");
        }
        for unknown in ["ITC9", "ITZZZ", "ITX", "ITC4Z"] {
            assert_eq!(
                Nuts::parse(unknown).err().map(|e| e.code()),
                Some("nuts_unknown"),
                "{unknown}"
            );
        }
    }
}
