//! Partita IVA: the Italian VAT number.

use super::IdError;

string_id!(
    /// An Italian Partita IVA: 11 digits (7 company number, 3 tax office, 1 check digit).
    ///
    /// Input is trimmed of surrounding whitespace; the `IT` VAT prefix is not accepted
    /// (strip it before parsing). The tax-office range is not checked.
    PartitaIva
);

impl PartitaIva {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        if !is_eleven_digits(s) {
            return Err(IdError::PartitaIvaFormat);
        }
        if s.bytes().all(|b| b == b'0') {
            return Err(IdError::PartitaIvaZero);
        }
        if !check_digit_matches(s) {
            return Err(IdError::PartitaIvaCheckDigit);
        }
        Ok(Self(s.to_owned()))
    }
}

pub(super) fn is_eleven_digits(s: &str) -> bool {
    s.len() == 11 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The Luhn-style check digit of the first ten digits (domain.md §10): X sums the digits in
/// odd positions 1–9; Y sums, over even positions 2–10, the doubled digit minus 9 when above
/// 9; the check is (10 − (X+Y) mod 10) mod 10. Also used by 11-digit codici fiscali.
pub(super) fn check_digit(first_ten: &[u8; 10]) -> u8 {
    let sum: u32 = first_ten
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                d
            } else if 2 * d > 9 {
                2 * d - 9
            } else {
                2 * d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// `s` must be 11 ASCII digits.
pub(super) fn check_digit_matches(s: &str) -> bool {
    let b = s.as_bytes();
    let mut first_ten = [0u8; 10];
    for (dst, src) in first_ten.iter_mut().zip(b) {
        *dst = src - b'0';
    }
    check_digit(&first_ten) == b[10] - b'0'
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: [&str; 5] = [
        "06363391001", // Agenzia delle Entrate
        "00488410010",
        "00905811006",
        "01565010293",
        "12345678903",
    ];

    #[test]
    fn accepts_valid_numbers() {
        for p in VALID {
            let piva = PartitaIva::parse(p).expect(p);
            assert_eq!(piva.as_str(), p);
        }
    }

    #[test]
    fn trims_whitespace() {
        let piva: PartitaIva = " 06363391001\n".parse().expect("valid");
        assert_eq!(piva.to_string(), "06363391001");
    }

    #[test]
    fn every_other_last_digit_is_rejected() {
        for p in VALID {
            let last = p.as_bytes()[10];
            for d in b'0'..=b'9' {
                if d == last {
                    continue;
                }
                let mutated = format!("{}{}", &p[..10], d as char);
                assert_eq!(
                    PartitaIva::parse(&mutated),
                    Err(IdError::PartitaIvaCheckDigit),
                    "{mutated}"
                );
            }
        }
    }

    #[test]
    fn swapped_adjacent_digits_are_rejected() {
        // 0636 -> 6036: odd/even weighting catches this transposition.
        assert_eq!(PartitaIva::parse("60363391001"), Err(IdError::PartitaIvaCheckDigit));
    }

    #[test]
    fn rejects_wrong_format_and_zero() {
        for bad in ["", "0636339100", "063633910011", "0636339100A", "IT06363391001"] {
            assert_eq!(PartitaIva::parse(bad), Err(IdError::PartitaIvaFormat), "{bad}");
        }
        // All zeros passes the checksum, so it needs its own rule.
        assert_eq!(PartitaIva::parse("00000000000"), Err(IdError::PartitaIvaZero));
    }

    #[test]
    fn serde_round_trip_validates() {
        let piva = PartitaIva::parse("06363391001").expect("valid");
        let json = serde_json::to_string(&piva).expect("serialize");
        assert_eq!(json, "\"06363391001\"");
        let back: PartitaIva = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, piva);
        assert!(serde_json::from_str::<PartitaIva>("\"06363391002\"").is_err());
    }
}
