//! Codice fiscale: the Italian tax code of a person (16 characters) or of any other
//! subject such as a company or public body (11 digits, same algorithm as the Partita IVA).

use chrono::{Datelike, NaiveDate};

use super::belfiore::{belfiore_place, BelfiorePlace};
use super::partita_iva;
use super::IdError;

string_id!(
    /// A codice fiscale, normalized to upper case without surrounding whitespace.
    ///
    /// A person's code is `[A-Z]{6}\d{2}[A-EHLMPRST]\d{2}[A-Z]\d{3}[A-Z]`, where omocodia may
    /// replace any digit with a letter of `LMNPQRSTUV` (0–9). Validation checks the pattern,
    /// the check character, the month letter, the day (1–31 for men, 41–71 for women, and
    /// possible in that month, 29 February always allowed) and that the place of birth is a
    /// known Belfiore code. The code is kept as issued (omocodia letters are not decoded in
    /// the stored text); [`CodiceFiscale::person`] decodes it.
    CodiceFiscale
);

/// Sex as encoded in a person's codice fiscale (day of birth + 40 for women).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sex {
    Male,
    Female,
}

/// The data decoded from a person's codice fiscale, omocodia undone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PersonData {
    year_2digits: u8,
    month: u32,
    day: u32,
    sex: Sex,
    belfiore: String,
}

impl PersonData {
    /// Birth year within its century (the code does not store the century).
    pub fn birth_year_2digits(&self) -> u8 {
        self.year_2digits
    }

    /// Birth month, 1–12.
    pub fn birth_month(&self) -> u32 {
        self.month
    }

    /// Birth day of month, 1–31 (the +40 for women removed).
    pub fn birth_day(&self) -> u32 {
        self.day
    }

    pub fn sex(&self) -> Sex {
        self.sex
    }

    /// The Belfiore code of the place of birth (a comune, or `Z...` for a foreign state).
    pub fn belfiore(&self) -> &str {
        &self.belfiore
    }

    /// The place of birth; always `Some` for a validated code.
    pub fn birth_place(&self) -> Option<&'static BelfiorePlace> {
        belfiore_place(&self.belfiore)
    }

    /// The full birth date, taking the latest century that does not put the birth after
    /// `reference` (typically today). A person aged 100 or more resolves a century too late:
    /// the code itself cannot tell. `None` only for 29 February in a resolved non-leap year.
    pub fn birth_date(&self, reference: NaiveDate) -> Option<NaiveDate> {
        let century = reference.year().div_euclid(100) * 100;
        let year = century + i32::from(self.year_2digits);
        // Compare (month, day) rather than dates, so 29 February is handled uniformly.
        let after_reference = (year, self.month, self.day) > (reference.year(), reference.month(), reference.day());
        let year = if after_reference { year - 100 } else { year };
        NaiveDate::from_ymd_opt(year, self.month, self.day)
    }
}

/// Positions (0-based) that hold digits, or omocodia letters in their place.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];
/// Omocodia substitutes for the digits 0–9.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Month letters for January–December.
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Odd-position (1st, 3rd, ...) score of a letter = its index in this string.
const ODD_SCORES: &[u8; 26] = b"BAKPLCQDREVOSFTGUHMINJWZYX";

impl CodiceFiscale {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        if partita_iva::is_eleven_digits(&s) {
            if s.bytes().all(|b| b == b'0') {
                return Err(IdError::CodiceFiscaleFormat);
            }
            if !partita_iva::check_digit_matches(&s) {
                return Err(IdError::CodiceFiscaleCheckChar);
            }
            return Ok(Self(s));
        }
        let b = s.as_bytes();
        if !is_person_pattern(b) {
            return Err(IdError::CodiceFiscaleFormat);
        }
        let mut first15 = [0u8; 15];
        first15.copy_from_slice(&b[..15]);
        if check_char(&first15) != b[15] {
            return Err(IdError::CodiceFiscaleCheckChar);
        }
        let person = decode_person(b)?;
        if belfiore_place(&person.belfiore).is_none() {
            return Err(IdError::CodiceFiscaleBelfioreUnknown {
                belfiore: person.belfiore,
            });
        }
        Ok(Self(s))
    }

    /// A natural person's 16-character code.
    pub fn is_person(&self) -> bool {
        self.0.len() == 16
    }

    /// The 11-digit code of a company, public body or other non-natural person.
    pub fn is_numeric(&self) -> bool {
        self.0.len() == 11
    }

    /// Whether omocodia letters replace some digits (the code was reissued to resolve a
    /// clash with another person's code).
    pub fn is_omocodia(&self) -> bool {
        self.is_person() && DIGIT_POSITIONS.iter().any(|&i| !self.0.as_bytes()[i].is_ascii_digit())
    }

    /// Birth data of a person's code; `None` for an 11-digit code.
    pub fn person(&self) -> Option<PersonData> {
        if !self.is_person() {
            return None;
        }
        decode_person(self.0.as_bytes()).ok()
    }
}

fn is_person_pattern(b: &[u8]) -> bool {
    b.len() == 16
        && b.iter().enumerate().all(|(i, &c)| {
            if DIGIT_POSITIONS.contains(&i) {
                c.is_ascii_digit() || OMOCODIA.contains(&c)
            } else {
                c.is_ascii_uppercase()
            }
        })
}

/// The check character of the first 15 characters (upper-case letters and digits).
fn check_char(first15: &[u8; 15]) -> u8 {
    let sum: usize = first15
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            // Digits score like the letters A–J.
            let letter = if c.is_ascii_digit() { c - b'0' + b'A' } else { c };
            if i % 2 == 0 {
                ODD_SCORES.iter().position(|&x| x == letter).unwrap_or(0)
            } else {
                usize::from(letter - b'A')
            }
        })
        .sum();
    b'A' + (sum % 26) as u8
}

/// The digit at position `i`, undoing omocodia. `b` must match the person pattern.
fn digit_at(b: &[u8], i: usize) -> u8 {
    let c = b[i];
    if c.is_ascii_digit() {
        c - b'0'
    } else {
        OMOCODIA.iter().position(|&x| x == c).unwrap_or(0) as u8
    }
}

fn decode_person(b: &[u8]) -> Result<PersonData, IdError> {
    let year_2digits = digit_at(b, 6) * 10 + digit_at(b, 7);
    let month = MONTHS
        .iter()
        .position(|&m| m == b[8])
        .ok_or(IdError::CodiceFiscaleMonth)? as u32
        + 1;
    let coded_day = u32::from(digit_at(b, 9) * 10 + digit_at(b, 10));
    let (day, sex) = match coded_day {
        1..=31 => (coded_day, Sex::Male),
        41..=71 => (coded_day - 40, Sex::Female),
        _ => return Err(IdError::CodiceFiscaleDay),
    };
    // 2000 is a leap year, so 29 February passes: the century is not known here.
    if NaiveDate::from_ymd_opt(2000, month, day).is_none() {
        return Err(IdError::CodiceFiscaleDay);
    }
    let belfiore: String = [
        b[11],
        b'0' + digit_at(b, 12),
        b'0' + digit_at(b, 13),
        b'0' + digit_at(b, 14),
    ]
    .iter()
    .map(|&c| char::from(c))
    .collect();
    Ok(PersonData {
        year_2digits,
        month,
        day,
        sex,
        belfiore,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    /// Appends the computed check character: builds valid codes for edge cases.
    fn with_check(first15: &str) -> String {
        let mut a = [0u8; 15];
        a.copy_from_slice(first15.as_bytes());
        format!("{first15}{}", char::from(check_char(&a)))
    }

    #[test]
    fn check_char_matches_known_codes() {
        // Computed independently of this module.
        assert_eq!(with_check("RSSMRA85T10A562"), "RSSMRA85T10A562S");
        assert_eq!(with_check("BNCLRA90A41H501"), "BNCLRA90A41H501F");
        assert_eq!(with_check("SMTJHN70M01Z404"), "SMTJHN70M01Z404Z");
    }

    #[test]
    fn male_person() {
        let cf = CodiceFiscale::parse("RSSMRA85T10A562S").expect("valid");
        assert!(cf.is_person());
        assert!(!cf.is_omocodia());
        let p = cf.person().expect("person");
        assert_eq!(p.birth_year_2digits(), 85);
        assert_eq!((p.birth_month(), p.birth_day()), (12, 10));
        assert_eq!(p.sex(), Sex::Male);
        assert_eq!(p.belfiore(), "A562");
        assert_eq!(p.birth_date(date(2026, 11, 22)), Some(date(1985, 12, 10)));
        assert!(p.birth_place().is_some());
    }

    #[test]
    fn female_person_born_in_rome() {
        let cf = CodiceFiscale::parse("BNCLRA90A41H501F").expect("valid");
        let p = cf.person().expect("person");
        assert_eq!(p.sex(), Sex::Female);
        assert_eq!(p.birth_day(), 1);
        assert_eq!(p.birth_month(), 1);
        assert_eq!(p.birth_place().map(|b| b.name.as_str()), Some("Roma"));
    }

    #[test]
    fn born_abroad() {
        let cf = CodiceFiscale::parse("SMTJHN70M01Z404Z").expect("valid");
        let p = cf.person().expect("person");
        assert_eq!(p.belfiore(), "Z404");
        assert!(p.birth_place().is_some_and(|b| b.is_foreign()));
    }

    #[test]
    fn lowercase_and_spaces_are_normalized() {
        let cf: CodiceFiscale = "  rssmra85t10a562s ".parse().expect("valid");
        assert_eq!(cf.as_str(), "RSSMRA85T10A562S");
    }

    #[test]
    fn omocodia_is_accepted_and_decoded() {
        // Last digit of the place 2 -> N, then 6 -> S: same person, new check characters.
        for code in ["RSSMRA85T10A56NH", "RSSMRA85T10A5SNT"] {
            let cf = CodiceFiscale::parse(code).expect(code);
            assert!(cf.is_omocodia());
            let p = cf.person().expect("person");
            assert_eq!(p.belfiore(), "A562");
            assert_eq!(p.birth_date(date(2026, 1, 1)), Some(date(1985, 12, 10)));
        }
        // Omocodia in the year and day too: 8->U, 5->R, 1->M, 0->L.
        let code = with_check("RSSMRAURTMLA562");
        assert_eq!(code, "RSSMRAURTMLA562P"); // computed independently
        let p = CodiceFiscale::parse(&code).expect("omocodia everywhere").person();
        let p = p.expect("person");
        assert_eq!((p.birth_year_2digits(), p.birth_day()), (85, 10));
    }

    #[test]
    fn wrong_check_char() {
        for bad in ["RSSMRA85T10A562T", "RSSMRA85T10A562A", "RSSMRA85T10A56NS"] {
            assert_eq!(CodiceFiscale::parse(bad), Err(IdError::CodiceFiscaleCheckChar), "{bad}");
        }
        // A transposition of two letters is caught.
        assert_eq!(
            CodiceFiscale::parse("SRSMRA85T10A562S"),
            Err(IdError::CodiceFiscaleCheckChar)
        );
    }

    #[test]
    fn wrong_format() {
        for bad in [
            "",
            "RSSMRA85T10A562",   // 15 chars
            "RSSMRA85T10A562SX", // 17 chars
            "RSSMRA8AT10A562S",  // A is not an omocodia letter
            "RSSMR185T10A562S",  // digit in a letter position
            "RSSMRA85T10A562 ",  // trimmed to 15
            "RSSMRA85T10A56-S",
            "00000000000",
        ] {
            assert_eq!(CodiceFiscale::parse(bad), Err(IdError::CodiceFiscaleFormat), "{bad:?}");
        }
    }

    #[test]
    fn invalid_month_and_days() {
        // F is not a month letter.
        assert_eq!(
            CodiceFiscale::parse(&with_check("RSSMRA85F10A562")),
            Err(IdError::CodiceFiscaleMonth)
        );
        for first15 in [
            "RSSMRA85T32A562", // day 32
            "RSSMRA85T00A562", // day 0
            "RSSMRA85T72A562", // day 72 (female 32)
            "RSSMRA85T40A562", // day 40
            "RSSMRA85D31A562", // 31 April
            "RSSMRA85B30A562", // 30 February
        ] {
            assert_eq!(
                CodiceFiscale::parse(&with_check(first15)),
                Err(IdError::CodiceFiscaleDay),
                "{first15}"
            );
        }
    }

    #[test]
    fn unknown_belfiore() {
        assert!(belfiore_place("A000").is_none());
        let code = with_check("RSSMRA85T10A000");
        assert_eq!(code, "RSSMRA85T10A000W");
        let err = CodiceFiscale::parse(&code).expect_err("unknown place");
        assert_eq!(err.code(), "codice_fiscale_belfiore_unknown");
        assert_eq!(
            err,
            IdError::CodiceFiscaleBelfioreUnknown {
                belfiore: "A000".into()
            }
        );
    }

    #[test]
    fn suppressed_comune_is_a_valid_birthplace() {
        // A002 (Abbadia, CO) no longer exists but people born there keep their code.
        let cf = CodiceFiscale::parse(&with_check("RSSMRA85T10A002")).expect("valid");
        assert_eq!(cf.person().map(|p| p.belfiore().to_owned()), Some("A002".into()));
    }

    #[test]
    fn century_resolution() {
        // Born 29 February 2000 (female: 29 + 40 = 69).
        let cf = CodiceFiscale::parse("VRDGPP00B69H501C").expect("valid");
        let p = cf.person().expect("person");
        assert_eq!(p.birth_date(date(2026, 1, 1)), Some(date(2000, 2, 29)));
        // Before that day the only possible century is 1900, and 1900 is not a leap year.
        assert_eq!(p.birth_date(date(2000, 2, 28)), None);

        let p = CodiceFiscale::parse("RSSMRA85T10A562S")
            .expect("valid")
            .person()
            .expect("person");
        // A reference date in 2085: born on 10 Dec 2085 is still in the future on 1 Dec.
        assert_eq!(p.birth_date(date(2085, 12, 1)), Some(date(1985, 12, 10)));
        assert_eq!(p.birth_date(date(2085, 12, 10)), Some(date(2085, 12, 10)));
    }

    #[test]
    fn company_code() {
        let cf = CodiceFiscale::parse("80211730587").expect("numeric CF");
        assert!(cf.is_numeric());
        assert!(!cf.is_person());
        assert_eq!(cf.person(), None);
        assert_eq!(
            CodiceFiscale::parse("80211730588"),
            Err(IdError::CodiceFiscaleCheckChar)
        );
    }

    #[test]
    fn serde_validates() {
        let cf: CodiceFiscale = serde_json::from_str("\"rssmra85t10a562s\"").expect("valid");
        assert_eq!(serde_json::to_string(&cf).expect("serialize"), "\"RSSMRA85T10A562S\"");
        assert!(serde_json::from_str::<CodiceFiscale>("\"RSSMRA85T10A562T\"").is_err());
    }
}
