//! The Italian calendar of national public holidays, and how a period that ends on one is
//! extended (docs/legal.md, "Time": day counting, public holidays and maximum durations).
//!
//! National holidays: L. 27 maggio 1949 n. 260 artt. 1–2 as amended (L. 5 marzo 1977 n. 54
//! abolished the religious holidays it no longer lists; L. 20 novembre 2000 n. 336 restored
//! 2 June), plus 4 October, San Francesco d'Assisi, from 1 January 2026 (L. 8 ottobre 2025
//! n. 151, which adds it to art. 2 of L. 260/1949). Every Sunday is a holiday too (art. 2).
//!
//! Local patron-saint days (e.g. Sant'Ambrogio in Milan, 7 December) are **not** applied: they
//! are holidays of one comune only (art. 2 L. 260/1949 leaves them to local custom and
//! collective agreements), while a tender's terms run for bidders from anywhere in Italy and
//! the EU, who submit electronically on a platform open every day; an operator's own
//! municipality cannot move a term that is the same for every competitor.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The first year San Francesco (4 October) is a national holiday (L. 151/2025, in force
/// from 1 January 2026).
pub const SAN_FRANCESCO_FROM_YEAR: i32 = 2026;

/// Easter Sunday of the Gregorian calendar (the "anonymous" algorithm of Meeus/Jones/Butcher),
/// valid for every Gregorian year.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or(NaiveDate::MIN)
}

/// The name of the national public holiday on `day`, if it is one (Sundays aside: see
/// [`is_holiday`]).
pub fn public_holiday(day: NaiveDate) -> Option<&'static str> {
    let fixed = match (day.month(), day.day()) {
        (1, 1) => Some("Capodanno"),
        (1, 6) => Some("Epifania"),
        (4, 25) => Some("Festa della Liberazione"),
        (5, 1) => Some("Festa del Lavoro"),
        (6, 2) => Some("Festa della Repubblica"),
        (8, 15) => Some("Assunzione"),
        (10, 4) if day.year() >= SAN_FRANCESCO_FROM_YEAR => Some("San Francesco d'Assisi"),
        (11, 1) => Some("Ognissanti"),
        (12, 8) => Some("Immacolata Concezione"),
        (12, 25) => Some("Natale"),
        (12, 26) => Some("Santo Stefano"),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let easter = easter_sunday(day.year());
    if day == easter {
        Some("Pasqua")
    } else if easter.checked_add_days(Days::new(1)) == Some(day) {
        Some("Lunedì dell'Angelo")
    } else {
        None
    }
}

/// A holiday under art. 2 L. 260/1949: a national public holiday or a Sunday.
pub fn is_holiday(day: NaiveDate) -> bool {
    day.weekday() == Weekday::Sun || public_holiday(day).is_some()
}

/// A working day under Reg. (CEE, Euratom) 1182/71 art. 2(2): neither a public holiday nor a
/// Saturday nor a Sunday.
pub fn is_working_day(day: NaiveDate) -> bool {
    day.weekday() != Weekday::Sat && !is_holiday(day)
}

/// Which rule counts a period expressed in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Tenders at or above the EU thresholds: Reg. (CEE, Euratom) 1182/71 art. 3, which the
    /// Directive's time limits follow (Dir. 2014/24/UE, recital 106). A period whose last day
    /// is a public holiday, a Saturday or a Sunday ends with the last hour of the following
    /// working day (art. 3(4)).
    Eu,
    /// National (below-threshold) tenders: art. 155 c.4 c.p.c. and art. 2963 c.3 c.c. A period
    /// ending on a holiday (Sundays included) is extended to the next day that is not one.
    /// Saturday is not a holiday (L. 260/1949) and the Saturday extension of art. 155 c.5
    /// c.p.c. covers procedural acts only, so a national period may end on a Saturday.
    National,
}

impl Counting {
    /// The citation quoted when the extension applies.
    pub fn article(self) -> &'static str {
        match self {
            Counting::Eu => "Reg. (CEE, Euratom) 1182/71 art. 3 par. 4",
            Counting::National => "art. 155 c.4 c.p.c. e art. 2963 c.3 c.c.",
        }
    }

    /// Whether a period whose last day is `day` runs on to the next day.
    pub fn extends_past(self, day: NaiveDate) -> bool {
        match self {
            Counting::Eu => !is_working_day(day),
            Counting::National => is_holiday(day),
        }
    }

    /// Why `day` cannot be a period's last day under this rule, in Italian ("domenica",
    /// "sabato", or the holiday's name), or `None` when it can.
    pub fn why_not_last(self, day: NaiveDate) -> Option<String> {
        if !self.extends_past(day) {
            return None;
        }
        Some(match (public_holiday(day), day.weekday()) {
            (Some(name), _) => format!("festivo ({name})"),
            (None, Weekday::Sun) => "domenica".to_string(),
            (None, _) => "sabato".to_string(),
        })
    }

    /// The day a period nominally ending on `last_day` actually ends on.
    pub fn period_end(self, last_day: NaiveDate) -> NaiveDate {
        let mut day = last_day;
        while self.extends_past(day) {
            match day.checked_add_days(Days::new(1)) {
                Some(next) => day = next,
                None => break,
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn easter_sunday_for_known_years() {
        for (year, month, day) in [
            (1943, 4, 25), // the latest possible date
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2038, 4, 25), // on the Liberation day again
            (2285, 3, 22), // the earliest possible date
        ] {
            assert_eq!(easter_sunday(year), d(year, month, day), "Easter {year}");
            assert_eq!(easter_sunday(year).weekday(), Weekday::Sun);
        }
    }

    #[test]
    fn easter_monday_and_the_fixed_holidays() {
        assert_eq!(public_holiday(d(2026, 4, 6)), Some("Lunedì dell'Angelo"));
        assert_eq!(public_holiday(d(2027, 3, 29)), Some("Lunedì dell'Angelo"));
        assert_eq!(public_holiday(d(2026, 4, 7)), None);
        assert_eq!(public_holiday(d(2026, 4, 5)), Some("Pasqua"));
        for (m, day) in [
            (1, 1),
            (1, 6),
            (4, 25),
            (5, 1),
            (6, 2),
            (8, 15),
            (11, 1),
            (12, 8),
            (12, 25),
            (12, 26),
        ] {
            assert!(public_holiday(d(2026, m, day)).is_some(), "{m}/{day}");
            assert!(is_holiday(d(2030, m, day)));
        }
        // Abolished by L. 54/1977 and not restored: 19 March, Ascension, 29 June, 4 November.
        for (m, day) in [(3, 19), (6, 29), (11, 4)] {
            assert_eq!(public_holiday(d(2027, m, day)), None);
        }
        // A local patron saint is not a national holiday (Sant'Ambrogio, Milan).
        assert_eq!(public_holiday(d(2026, 12, 7)), None);
    }

    #[test]
    fn san_francesco_is_a_national_holiday_from_2026() {
        assert_eq!(public_holiday(d(2025, 10, 4)), None);
        assert_eq!(public_holiday(d(2024, 10, 4)), None);
        assert_eq!(public_holiday(d(2026, 10, 4)), Some("San Francesco d'Assisi"));
        // 2027: a Monday, so it now matters.
        assert_eq!(d(2027, 10, 4).weekday(), Weekday::Mon);
        assert!(!is_working_day(d(2027, 10, 4)));
        assert!(Counting::National.extends_past(d(2027, 10, 4)));
        assert!(is_working_day(d(2024, 10, 4)), "a Friday before L. 151/2025");
    }

    #[test]
    fn saturdays_extend_eu_periods_only() {
        let saturday = d(2026, 6, 6);
        assert_eq!(Counting::Eu.period_end(saturday), d(2026, 6, 8));
        assert_eq!(Counting::National.period_end(saturday), saturday);
        let sunday = d(2026, 6, 7);
        assert_eq!(Counting::Eu.period_end(sunday), d(2026, 6, 8));
        assert_eq!(Counting::National.period_end(sunday), d(2026, 6, 8));
        // Christmas 2026 is a Friday: the EU rule skips 25, 26 (Sat), 27 (Sun) to Monday 28;
        // the national one skips 25 and 26 (Santo Stefano) and 27 (Sunday) too.
        assert_eq!(Counting::Eu.period_end(d(2026, 12, 25)), d(2026, 12, 28));
        assert_eq!(Counting::National.period_end(d(2026, 12, 25)), d(2026, 12, 28));
        // 8 December 2026, a Tuesday: both end on Wednesday 9.
        assert_eq!(Counting::Eu.period_end(d(2026, 12, 8)), d(2026, 12, 9));
        assert_eq!(Counting::National.period_end(d(2026, 12, 8)), d(2026, 12, 9));
        // A working day stays.
        assert_eq!(Counting::Eu.period_end(d(2026, 6, 3)), d(2026, 6, 3));
        assert_eq!(Counting::Eu.why_not_last(d(2026, 6, 6)).as_deref(), Some("sabato"));
        assert_eq!(
            Counting::National.why_not_last(d(2026, 12, 8)).as_deref(),
            Some("festivo (Immacolata Concezione)")
        );
        assert_eq!(Counting::National.why_not_last(d(2026, 6, 6)), None);
    }
}
