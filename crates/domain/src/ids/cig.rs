//! CIG (Codice Identificativo Gara): the 10-character tender/lot code issued by ANAC.

use super::IdError;

string_id!(
    /// A CIG, normalized to upper case. Three families share the 10 characters
    /// (domain.md §10), each with its own check:
    ///
    /// * ordinary (`[0-9]{7}[0-9A-F]{3}`, pre-2024): the last 3 are the hex of N·211 mod 4091,
    ///   N being the first 7 digits;
    /// * SmartCIG (`[V-Z][0-9A-F]{9}`, simplified procedures before 2024): characters 2–3
    ///   are the hex of H·211 mod 251, H being characters 4–10 read as hex;
    /// * PCP era (`[A-U][0-9A-F]{9}`, from 2024): the last 3 are the hex of
    ///   (H + L)·211 mod 4091, H being characters 2–7 read as hex and L the letter's index.
    Cig
);

/// The family of a CIG, told by its first character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CigKind {
    /// Seven decimal digits and three hex check characters (SIMOG, until 2023).
    Ordinary,
    /// SmartCIG for small contracts (SIMOG, until 2023).
    Smart,
    /// A letter A–U followed by hex characters (Piattaforma Contratti Pubblici, from 2024).
    Pcp,
}

impl Cig {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 10 || !b[1..].iter().all(u8::is_ascii_hexdigit) {
            return Err(IdError::CigFormat);
        }
        let valid = match kind_of(b).ok_or(IdError::CigFormat)? {
            CigKind::Ordinary => {
                if s == "0000000000" {
                    return Err(IdError::CigFormat);
                }
                ordinary_check_ok(&s)
            }
            CigKind::Smart => smart_check_ok(&s),
            CigKind::Pcp => pcp_check_ok(&s),
        };
        if valid {
            Ok(Self(s))
        } else {
            Err(IdError::CigCheck)
        }
    }

    pub fn kind(&self) -> CigKind {
        kind_of(self.0.as_bytes()).unwrap_or(CigKind::Ordinary)
    }
}

/// `None` when the characters do not fit any family. `b` is 10 bytes, the last 9 hex.
fn kind_of(b: &[u8]) -> Option<CigKind> {
    match b.first()? {
        b'0'..=b'9' if b[..7].iter().all(u8::is_ascii_digit) => Some(CigKind::Ordinary),
        b'V'..=b'Z' => Some(CigKind::Smart),
        b'A'..=b'U' => Some(CigKind::Pcp),
        _ => None,
    }
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or(u64::MAX)
}

fn ordinary_check_ok(s: &str) -> bool {
    let n: u64 = s[..7].parse().unwrap_or(0);
    n * 211 % 4091 == hex(&s[7..])
}

fn smart_check_ok(s: &str) -> bool {
    hex(&s[3..]) * 211 % 251 == hex(&s[1..3])
}

/// The letter's index is A=1 … U=21 over the full Latin alphabet. One public implementation
/// (Maggioli) also carries a 19-letter Italian alphabet without J and K, which changes the
/// index from J on. Real codes seen so far begin with A or B, where the two agree; for later
/// letters either index is accepted until ANAC documents the rule.
fn pcp_check_ok(s: &str) -> bool {
    let letter = s.as_bytes()[0];
    let n = hex(&s[1..7]);
    let check = hex(&s[7..]);
    let matches = |index: u64| (n + index) * 211 % 4091 == check;
    let latin = u64::from(letter - b'A') + 1;
    let italian = b"ABCDEFGHILMNOPQRSTU"
        .iter()
        .position(|&c| c == letter)
        .map(|i| i as u64 + 1);
    matches(latin) || italian.is_some_and(matches)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real CIGs seen in public notices and determinations.
    const REAL: [&str; 11] = [
        "915282916F",
        "95156957EC",
        "918052266A",
        "A015882CCD",
        "A00465395C",
        "A02590F330",
        "B0E1AD1F10",
        "B07E0997CB",
        "B96AE2FE01",
        "B4FFEEBE7E",
        "B9DA959E80",
    ];

    fn smart(body7: u64) -> String {
        format!("Z{:02X}{:07X}", body7 * 211 % 251, body7)
    }

    #[test]
    fn real_codes_are_valid() {
        for c in REAL {
            assert_eq!(Cig::parse(c).map(String::from), Ok(c.to_owned()), "{c}");
        }
        assert_eq!(Cig::parse("915282916F").map(|c| c.kind()), Ok(CigKind::Ordinary));
        assert_eq!(Cig::parse("B0E1AD1F10").map(|c| c.kind()), Ok(CigKind::Pcp));
    }

    #[test]
    fn lowercase_is_normalized() {
        let cig: Cig = " 915282916f ".parse().expect("valid");
        assert_eq!(cig.as_str(), "915282916F");
    }

    #[test]
    fn mutated_codes_fail_the_check() {
        for bad in [
            "915282916E", // last check char
            "915282917F", // a digit of N
            "925282916F", // first digit
            "9152829160", // check char
            "B0E1AD1F11",
            "B0E1AE1F10",
            "C0E1AD1F10", // same body, next letter
        ] {
            assert_eq!(Cig::parse(bad), Err(IdError::CigCheck), "{bad}");
        }
    }

    #[test]
    fn wrong_format() {
        for bad in [
            "",
            "915282916",
            "915282916FF",
            "91528291GF", // G is not hex
            "91528A916F", // ordinary needs 7 decimal digits
            "0000000000",
            "-15282916F",
        ] {
            assert_eq!(Cig::parse(bad), Err(IdError::CigFormat), "{bad}");
        }
    }

    #[test]
    fn smart_cig_check() {
        let valid = smart(0x1A2B3C4);
        assert_eq!(Cig::parse(&valid).map(|c| c.kind()), Ok(CigKind::Smart));
        for body in [0x0000001, 0x0FFFFFF, 0xFFFFFFF, 0x2F0A1B9] {
            let code = smart(body);
            assert!(Cig::parse(&code).is_ok(), "{code}");
            // Same body with the other SmartCIG prefixes is equally valid.
            assert!(Cig::parse(&code.replacen('Z', "X", 1)).is_ok());
            // Changing the body breaks the check.
            let broken = format!("{}{:07X}", &code[..3], (body + 1) & 0xFFFFFFF);
            assert_eq!(Cig::parse(&broken), Err(IdError::CigCheck), "{broken}");
        }
    }

    #[test]
    fn pcp_letters_beyond_b() {
        // Built with the full-alphabet index (A=1): F=6, M=13.
        let build = |letter: char, index: u64, n: u64| format!("{letter}{n:06X}{:03X}", (n + index) * 211 % 4091);
        assert!(Cig::parse(&build('F', 6, 0x00ABCD)).is_ok());
        assert!(Cig::parse(&build('M', 13, 0x123456)).is_ok());
        // M is 11th in the Italian alphabet variant: accepted as well (see pcp_check_ok).
        assert!(Cig::parse(&build('M', 11, 0x123456)).is_ok());
        assert_eq!(Cig::parse(&build('M', 12, 0x123456)), Err(IdError::CigCheck));
    }

    #[test]
    fn serde_validates() {
        let cig: Cig = serde_json::from_str("\"a015882ccd\"").expect("valid");
        assert_eq!(serde_json::to_string(&cig).expect("ser"), "\"A015882CCD\"");
        assert!(serde_json::from_str::<Cig>("\"A015882CCE\"").is_err());
    }
}
