//! CUP (Codice Unico di Progetto): the 15-character code of a public investment project.

use super::IdError;

string_id!(
    /// A CUP, normalized to upper case, e.g. `I81C11000040006`.
    ///
    /// Only the observed format `^[A-Z]\d{2}[A-Z]\d{11}$` is checked. The check character
    /// or algorithm, if any, is not published (DIPE/OpenCUP), so a well-formed but
    /// non-existent CUP is accepted; the meaning of the positions is unverified too
    /// (characters 5–6 look like the year of issue).
    Cup
);

impl Cup {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        let well_formed = b.len() == 15
            && b.iter().enumerate().all(|(i, c)| match i {
                0 | 3 => c.is_ascii_uppercase(),
                _ => c.is_ascii_digit(),
            });
        if well_formed {
            Ok(Self(s))
        } else {
            Err(IdError::CupFormat)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_looking_codes() {
        for c in ["I81C11000040006", "I98I21000110001", "J51B21005520006"] {
            assert_eq!(Cup::parse(c).map(String::from), Ok(c.to_owned()));
        }
        let lower: Cup = " i81c11000040006".parse().expect("valid");
        assert_eq!(lower.as_str(), "I81C11000040006");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "I81C1100004000",   // 14
            "I81C110000400066", // 16
            "181C11000040006",  // digit first
            "I8AC11000040006",  // letter in position 3
            "I811C1000040006",  // digit in position 4
            "I81C1100004000X",
        ] {
            assert_eq!(Cup::parse(bad), Err(IdError::CupFormat), "{bad}");
        }
    }
}
