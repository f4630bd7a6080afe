//! The free-text and amount filters of the public list ([`crate::service::list_public`]):
//! parsed here once, so the API and the portal refuse the same inputs with the same codes.

use rust_decimal::Decimal;

use crate::error::BandoError;

/// Longest search text accepted: a tender's oggetto rarely exceeds it, and it bounds the
/// work of the `ILIKE` patterns.
pub const MAX_QUERY_CHARS: usize = 200;
/// Words beyond this are refused rather than silently dropped.
pub const MAX_QUERY_WORDS: usize = 8;

/// The words of `q`, each as an `ILIKE` pattern matching it anywhere (`%`, `_` and `\`
/// escaped, so they match themselves). Every word must match (in the oggetto, the CIG or
/// the ente's name); an empty or blank text is no filter.
pub fn query_patterns(q: &str) -> Result<Vec<String>, BandoError> {
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(BandoError::invalid(
            "query_too_long",
            "q",
            format!("Il testo da cercare può avere al più {MAX_QUERY_CHARS} caratteri"),
        ));
    }
    if q.chars().any(|c| c.is_control()) {
        return Err(BandoError::invalid(
            "query_invalid",
            "q",
            "Il testo da cercare contiene caratteri non ammessi",
        ));
    }
    let words: Vec<&str> = q.split_whitespace().collect();
    if words.len() > MAX_QUERY_WORDS {
        return Err(BandoError::invalid(
            "query_too_many_words",
            "q",
            format!("Cercare al più {MAX_QUERY_WORDS} parole"),
        ));
    }
    Ok(words.into_iter().map(like_anywhere).collect())
}

fn like_anywhere(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// An amount bound in euro: `40000`, `40000.50` or `40000,50` (no thousands separator, at
/// most two decimals, not negative).
pub fn parse_amount(field: &str, input: &str) -> Result<Decimal, BandoError> {
    let bad = || {
        BandoError::invalid(
            "amount_invalid",
            field,
            "Importo non valido: scrivere solo cifre, senza separatore delle migliaia, con al più due decimali (es. 40000 o 40000,50)",
        )
    };
    let s = input.trim();
    let digits_ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && s.chars().filter(|c| *c == '.' || *c == ',').count() <= 1
        && s.chars().next().is_some_and(|c| c.is_ascii_digit())
        && s.len() <= 20;
    if !digits_ok {
        return Err(bad());
    }
    let value: Decimal = s.replace(',', ".").parse().map_err(|_| bad())?;
    if value.scale() > 2 || value.is_sign_negative() {
        return Err(bad());
    }
    Ok(value)
}

/// Both bounds, checked together: the minimum may not exceed the maximum.
pub fn amount_range(min: Option<&str>, max: Option<&str>) -> Result<(Option<Decimal>, Option<Decimal>), BandoError> {
    let min = min.map(|s| parse_amount("amount_min", s)).transpose()?;
    let max = max.map(|s| parse_amount("amount_max", s)).transpose()?;
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(BandoError::invalid(
                "amount_range_invalid",
                "amount_max",
                "L'importo massimo è inferiore a quello minimo",
            ));
        }
    }
    Ok((min, max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn code_and_field(e: BandoError) -> (&'static str, String) {
        match e {
            BandoError::Invalid { code, field, .. } => (code, field),
            other => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn every_word_becomes_its_own_pattern() {
        assert_eq!(
            query_patterns("  manutenzione   strade ").expect("accepted"),
            vec!["%manutenzione%", "%strade%"]
        );
        assert!(query_patterns("").expect("accepted").is_empty());
        assert!(query_patterns("   ").expect("accepted").is_empty());
    }

    #[test]
    fn like_wildcards_typed_by_the_user_match_only_themselves() {
        // "%" alone would otherwise match every tender, "_" any character.
        assert_eq!(query_patterns("100%").expect("accepted"), vec!["%100\\%%"]);
        assert_eq!(query_patterns("a_b").expect("accepted"), vec!["%a\\_b%"]);
        assert_eq!(query_patterns("c:\\x").expect("accepted"), vec!["%c:\\\\x%"]);
    }

    #[test]
    fn an_oversized_or_odd_query_is_refused_on_its_field() {
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(
            code_and_field(query_patterns(&long).expect_err("refused")),
            ("query_too_long", "q".into())
        );
        assert!(query_patterns(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
        let many = ["w"; MAX_QUERY_WORDS + 1].join(" ");
        assert_eq!(
            code_and_field(query_patterns(&many).expect_err("refused")).0,
            "query_too_many_words"
        );
        assert_eq!(
            code_and_field(query_patterns("a\u{0}b").expect_err("refused")).0,
            "query_invalid"
        );
    }

    #[test]
    fn amounts_take_a_dot_or_a_comma_and_two_decimals_at_most() {
        assert_eq!(parse_amount("amount_min", "40000").expect("accepted"), dec!(40000));
        assert_eq!(
            parse_amount("amount_min", " 40000,50 ").expect("accepted"),
            dec!(40000.50)
        );
        assert_eq!(parse_amount("amount_min", "40000.5").expect("accepted"), dec!(40000.5));
        assert_eq!(parse_amount("amount_min", "0").expect("accepted"), dec!(0));
    }

    #[test]
    fn thousands_separators_negatives_and_words_are_not_amounts() {
        // "40.000" is forty thousand to an Italian reader and forty to a parser: refused.
        for bad in [
            "40.000",
            "1.000.000",
            "-5",
            "1e6",
            "abc",
            "",
            ",5",
            "12,345",
            "1 000",
            "NaN",
        ] {
            let (code, field) = code_and_field(parse_amount("amount_max", bad).expect_err("refused"));
            assert_eq!((code, field.as_str()), ("amount_invalid", "amount_max"), "{bad}");
        }
        assert!(parse_amount("amount_max", &"9".repeat(21)).is_err());
    }

    #[test]
    fn a_range_whose_minimum_exceeds_its_maximum_is_refused_on_the_maximum() {
        assert_eq!(
            amount_range(Some("100"), Some("99,99"))
                .map_err(code_and_field)
                .expect_err("refused"),
            ("amount_range_invalid", "amount_max".into())
        );
        assert_eq!(
            amount_range(Some("100"), Some("100")).expect("accepted"),
            (Some(dec!(100)), Some(dec!(100)))
        );
        assert_eq!(amount_range(None, Some("5")).expect("accepted"), (None, Some(dec!(5))));
        assert_eq!(
            code_and_field(amount_range(Some("x"), None).expect_err("refused")).1,
            "amount_min"
        );
    }
}
