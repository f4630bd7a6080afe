//! Form plumbing: field-level messages from the API's violations, URL encoding of links, and
//! the formats pages show (dates in Europe/Rome, euro amounts).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Rome;
use rust_decimal::Decimal;

/// Messages per field (`field` as the API names it), plus those that belong to no field.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    pub by_field: BTreeMap<String, String>,
    pub general: Vec<String>,
}

impl FieldErrors {
    /// From a refusal of the domain: its violations, or its one field and message.
    pub fn from_api(e: &api::ApiError) -> Self {
        let mut out = FieldErrors::default();
        if e.errors.is_empty() {
            match &e.field {
                Some(f) => {
                    out.by_field.insert(f.clone(), e.message.clone());
                }
                None => out.general.push(e.message.clone()),
            }
        } else {
            for v in &e.errors {
                match &v.field {
                    Some(f) => {
                        out.by_field.entry(f.clone()).or_insert_with(|| v.message.clone());
                    }
                    None => out.general.push(v.message.clone()),
                }
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.by_field.is_empty() && self.general.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.by_field.get(field).map(String::as_str)
    }

    pub fn has(&self, field: &str) -> bool {
        self.by_field.contains_key(field)
    }

    /// Messages of fields the form does not show, so none is lost.
    pub fn others(&self, shown: &[&str]) -> Vec<String> {
        let mut v = self.general.clone();
        for (f, m) in &self.by_field {
            if !shown.contains(&f.as_str()) {
                v.push(format!("{f}: {m}"));
            }
        }
        v
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A moment as people in Italy read it: `02/12/2026 18:00` (Europe/Rome).
pub fn rome(at: &DateTime<Utc>) -> String {
    at.with_timezone(&Rome).format("%d/%m/%Y %H:%M").to_string()
}

/// The same moment, for a `<time datetime>` attribute.
pub fn iso(at: &DateTime<Utc>) -> String {
    at.to_rfc3339()
}

/// Time left until `deadline`, in words: "3 giorni e 4 ore", "scaduto".
pub fn time_left(now: &DateTime<Utc>, deadline: &DateTime<Utc>) -> String {
    let left = *deadline - *now;
    if left <= chrono::Duration::zero() {
        return "termine scaduto".into();
    }
    let days = left.num_days();
    let hours = left.num_hours() % 24;
    let minutes = left.num_minutes() % 60;
    match (days, hours) {
        (0, 0) => format!("{minutes} minuti"),
        (0, h) => format!("{h} ore e {minutes} minuti"),
        (1, h) => format!("1 giorno e {h} ore"),
        (d, h) => format!("{d} giorni e {h} ore"),
    }
}

/// The first instant after `now` at which [`time_left`] of one of `deadlines` reads
/// differently (its minutes tick), or that deadline passes; `None` when none is ahead. A page
/// showing those countdowns may be served again until then (`api::public_cache`).
pub fn countdowns_change_at<'a>(
    now: &DateTime<Utc>,
    deadlines: impl IntoIterator<Item = &'a DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let minute = chrono::Duration::minutes(1);
    deadlines
        .into_iter()
        .filter(|d| *d > now)
        .map(|d| {
            let left = *d - *now;
            // The minutes shown are whole minutes left: they change when `left` is next a
            // multiple of a minute.
            let whole = left.num_minutes();
            *d - minute * i32::try_from(whole).unwrap_or(i32::MAX)
        })
        .min()
}

/// A score as people read it: three decimals, Italian comma (`54,167`). The engine computes
/// and stores exact fractions (twenty digits and more) and ranks on them; the API and the
/// verbale carry them whole, the pages round only what they show.
pub fn score(exact: &Decimal) -> String {
    exact
        .round_dp_with_strategy(3, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize()
        .to_string()
        .replace('.', ",")
}

/// [`score`] of a value the engine serialised (a decimal string or a number); "—" when absent,
/// anything else as it is.
pub fn score_value(v: &serde_json::Value) -> String {
    let exact = match v {
        serde_json::Value::Null => return "—".into(),
        serde_json::Value::String(s) => s.parse::<Decimal>().ok(),
        serde_json::Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
        _ => None,
    };
    match (exact, v) {
        (Some(d), _) => score(&d),
        (None, serde_json::Value::String(s)) => s.clone(),
        (None, other) => other.to_string(),
    }
}

/// `1.234.567,89 €`, as Italian documents write amounts.
pub fn euro(amount: &Decimal) -> String {
    let rounded = amount.round_dp(2);
    let s = format!("{rounded:.2}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (sign, digits) = int.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", int));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{frac} €")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_countdown_reads_the_same_until_the_instant_it_is_said_to_change() {
        let t = |s: &str| s.parse::<DateTime<Utc>>().expect("an instant");
        let d = t("2026-12-04T12:00:00Z");
        let ns = chrono::Duration::nanoseconds(1);
        for now in [
            t("2026-12-04T11:56:39.5Z"),
            t("2026-12-03T09:00:01Z"),
            t("2026-12-04T11:59:59.999Z"),
            t("2026-11-20T11:00:00.25Z"),
        ] {
            let at = countdowns_change_at(&now, [&d]).expect("a deadline ahead");
            assert!(at > now && at <= d, "{now} -> {at}");
            assert_eq!(time_left(&now, &d), time_left(&(at - ns), &d), "{now}");
            if d - now < chrono::Duration::hours(1) {
                // Shown in minutes, it changes right there (in days and hours, later).
                assert_ne!(time_left(&now, &d), time_left(&(at + ns), &d), "{now}");
            }
        }
        // On a whole minute the next change is now: nothing to serve again.
        assert_eq!(
            countdowns_change_at(&t("2026-12-04T11:58:00Z"), [&d]),
            Some(t("2026-12-04T11:58:00Z"))
        );
        // The earliest of several; a deadline passed changes nothing any more.
        let e = t("2026-12-04T11:57:10Z");
        assert_eq!(
            countdowns_change_at(&t("2026-12-04T11:56:00.5Z"), [&d, &e]),
            Some(t("2026-12-04T11:56:10Z"))
        );
        assert_eq!(countdowns_change_at(&t("2026-12-04T12:00:00Z"), [&d]), None);
    }

    #[test]
    fn euro_groups_thousands_the_italian_way() {
        assert_eq!(euro(&dec!(1234567.891)), "1.234.567,89 €");
        assert_eq!(euro(&dec!(999)), "999,00 €");
        assert_eq!(euro(&dec!(-1000.5)), "-1.000,50 €");
    }

    #[test]
    fn scores_show_three_decimals_and_keep_whole_numbers_short() {
        assert_eq!(score(&dec!(54.16666666666666666667)), "54,167");
        assert_eq!(score(&dec!(70)), "70");
        assert_eq!(score(&dec!(25.2)), "25,2");
        assert_eq!(score(&dec!(0.0005)), "0,001");
        assert_eq!(score_value(&serde_json::json!("81.76666666666666666667")), "81,767");
        assert_eq!(score_value(&serde_json::Value::Null), "—");
        assert_eq!(score_value(&serde_json::json!("n/d")), "n/d");
    }

    #[test]
    fn rome_time_follows_summer_time() {
        let winter: DateTime<Utc> = "2026-12-02T17:00:00Z".parse().expect("instant");
        let summer: DateTime<Utc> = "2026-07-02T10:00:00Z".parse().expect("instant");
        assert_eq!(rome(&winter), "02/12/2026 18:00");
        assert_eq!(rome(&summer), "02/07/2026 12:00");
    }

    #[test]
    fn a_login_redirect_never_leaves_the_site() {
        assert_eq!(crate::error::login_url("//evil.example/x"), "/accedi?ritorno=/");
        assert_eq!(crate::error::login_url("https://evil.example"), "/accedi?ritorno=/");
        assert_eq!(
            crate::error::login_url("/fornitore?x=1"),
            "/accedi?ritorno=/fornitore%3Fx%3D1"
        );
    }
}
