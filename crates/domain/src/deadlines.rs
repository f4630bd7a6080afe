//! Legal time: deadlines are entered and shown in Europe/Rome and stored in UTC, and
//! minimum-day rules count calendar days as the law does.
//!
//! Counting (art. 2963 c.c., art. 155 c.p.c., reg. CEE 1182/71 art. 3): the day of the event
//! that starts the term (e.g. sending the notice) is not counted; days are calendar days of
//! the Italian calendar, so the count is the difference between the two **Rome dates**.
//! Hours do not matter: a term from 10 March to 9 April is 30 days even though, across the
//! switch to summer time, only 719 hours pass between 10:00 and 10:00. A term whose last day
//! is a holiday runs on to the next day ([`minimum_period_end`], [`crate::holidays`]).

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The legal time zone of the Italian Republic.
pub const ROME: Tz = chrono_tz::Europe::Rome;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalTimeError {
    #[error("Data e ora non valide: usare il formato AAAA-MM-GGTHH:MM (ora di Roma)")]
    Format,
    #[error("L'ora {0} non esiste a Roma (passaggio all'ora legale): scegliere un'altra ora")]
    Nonexistent(String),
    #[error("L'ora {0} è ambigua a Roma (ritorno all'ora solare): indicare l'offset, es. +02:00 o +01:00")]
    Ambiguous(String),
}

impl LocalTimeError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Format => "datetime_format",
            Self::Nonexistent(_) => "datetime_nonexistent_in_rome",
            Self::Ambiguous(_) => "datetime_ambiguous_in_rome",
        }
    }
}

/// A wall-clock time in Rome to the instant it denotes. Nonexistent times (the hour skipped
/// in March) and ambiguous ones (the hour repeated in October) are refused rather than
/// guessed: a deadline must be unequivocal.
pub fn rome_to_utc(local: NaiveDateTime) -> Result<DateTime<Utc>, LocalTimeError> {
    match ROME.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::None => Err(LocalTimeError::Nonexistent(local.to_string())),
        LocalResult::Ambiguous(_, _) => Err(LocalTimeError::Ambiguous(local.to_string())),
    }
}

/// Parses what a user types: `2026-06-05T12:00`, `2026-06-05T12:00:00`, `2026-06-05 12:00`
/// (Rome wall-clock time), or an RFC 3339 instant with an explicit offset.
pub fn parse_rome(input: &str) -> Result<DateTime<Utc>, LocalTimeError> {
    let s = input.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(s, fmt) {
            return rome_to_utc(local);
        }
    }
    Err(LocalTimeError::Format)
}

pub fn to_rome(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&ROME)
}

/// RFC 3339 with the Rome offset of that instant, e.g. `2026-06-05T12:00:00+02:00`.
pub fn rome_rfc3339(at: DateTime<Utc>) -> String {
    to_rome(at).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The calendar day in Rome at this instant.
pub fn rome_date(at: DateTime<Utc>) -> NaiveDate {
    to_rome(at).date_naive()
}

/// Calendar days from the day of `from` (not counted) to the day of `to` (counted), in Rome.
/// Negative when `to` is on an earlier day.
pub fn calendar_days(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (rome_date(to) - rome_date(from)).num_days()
}

/// The first Rome day on which a term of `days` days starting at `from` is satisfied.
pub fn earliest_day(from: DateTime<Utc>, days: u64) -> NaiveDate {
    rome_date(from)
        .checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// The first Rome day on which a deadline satisfies a minimum term of `days` days from
/// `from`, when a term whose last day is a holiday (and, for EU tenders, a Saturday) runs on
/// to the next day that is not one ([`crate::holidays::Counting`]).
pub fn minimum_period_end(from: DateTime<Utc>, days: u64, counting: crate::holidays::Counting) -> NaiveDate {
    counting.period_end(earliest_day(from, days))
}

/// The same Rome wall-clock time `days` calendar days later (e.g. offer validity counted
/// from the deadline). If that wall time does not exist or is ambiguous that day, the
/// earliest valid instant at or after it is used.
pub fn add_calendar_days(at: DateTime<Utc>, days: u64) -> DateTime<Utc> {
    let local = to_rome(at).naive_local();
    let Some(target) = local.checked_add_days(Days::new(days)) else {
        return at;
    };
    match ROME.from_local_datetime(&target) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => {
            // Inside the spring gap: the hour does not exist; move one hour on.
            let later = target + chrono::Duration::hours(1);
            ROME.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(at)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("valid").with_timezone(&Utc)
    }

    #[test]
    fn rome_offsets_switch_on_the_last_sundays_of_march_and_october_2026() {
        // 29 March 2026: 02:00 CET -> 03:00 CEST. 25 October 2026: 03:00 CEST -> 02:00 CET.
        assert_eq!(parse_rome("2026-03-29T01:30"), Ok(utc("2026-03-29T00:30:00Z")));
        assert_eq!(parse_rome("2026-03-29T03:30"), Ok(utc("2026-03-29T01:30:00Z")));
        assert_eq!(
            parse_rome("2026-03-29T02:30").map_err(|e| e.code()),
            Err("datetime_nonexistent_in_rome")
        );
        assert_eq!(
            parse_rome("2026-10-25T02:30").map_err(|e| e.code()),
            Err("datetime_ambiguous_in_rome")
        );
        assert_eq!(parse_rome("2026-10-25T02:30:00+01:00"), Ok(utc("2026-10-25T01:30:00Z")));
        assert_eq!(parse_rome("2026-06-05 12:00"), Ok(utc("2026-06-05T10:00:00Z")));
        assert_eq!(parse_rome("2026-12-05T12:00:00"), Ok(utc("2026-12-05T11:00:00Z")));
        assert_eq!(parse_rome("5/6/2026"), Err(LocalTimeError::Format));
        assert_eq!(rome_rfc3339(utc("2026-06-05T10:00:00Z")), "2026-06-05T12:00:00+02:00");
        assert_eq!(rome_rfc3339(utc("2026-12-05T11:00:00Z")), "2026-12-05T12:00:00+01:00");
    }

    #[test]
    fn thirty_days_across_the_spring_change_are_thirty_calendar_days() {
        let sent = parse_rome("2026-03-10T10:00").expect("valid");
        let deadline = parse_rome("2026-04-09T10:00").expect("valid");
        // One hour short of 30×24 hours, yet 30 calendar days as the law counts them.
        assert_eq!((deadline - sent).num_hours(), 30 * 24 - 1);
        assert_eq!(calendar_days(sent, deadline), 30);
        assert_eq!(
            earliest_day(sent, 30),
            NaiveDate::from_ymd_opt(2026, 4, 9).expect("date")
        );
        let day_before = parse_rome("2026-04-08T23:59").expect("valid");
        assert_eq!(calendar_days(sent, day_before), 29);
    }

    #[test]
    fn across_the_autumn_change_and_around_midnight() {
        let sent = parse_rome("2026-10-10T23:30").expect("valid");
        let deadline = parse_rome("2026-11-09T00:30").expect("valid");
        assert_eq!(calendar_days(sent, deadline), 30);
        assert_eq!((deadline - sent).num_hours(), 29 * 24 + 2);
        // UTC dates would say otherwise: 23:30 Rome on 10 Oct is 21:30Z, 00:30 on 9 Nov is 23:30Z of 8 Nov.
        assert_eq!((deadline.date_naive() - sent.date_naive()).num_days(), 29);
    }

    #[test]
    fn a_minimum_term_ending_on_a_holiday_runs_to_the_next_day_that_is_not_one() {
        use crate::holidays::Counting;
        // 30 days from 8 November 2026 end on Tuesday 8 December (Immacolata): Wednesday 9.
        let sent = parse_rome("2026-11-08T10:00").expect("valid");
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(earliest_day(sent, 30), d(2026, 12, 8));
        assert_eq!(minimum_period_end(sent, 30, Counting::Eu), d(2026, 12, 9));
        assert_eq!(minimum_period_end(sent, 30, Counting::National), d(2026, 12, 9));
        // 30 days from 7 May 2026 end on Saturday 6 June: Monday 8 for EU tenders only.
        let sent = parse_rome("2026-05-07T10:00").expect("valid");
        assert_eq!(minimum_period_end(sent, 30, Counting::Eu), d(2026, 6, 8));
        assert_eq!(minimum_period_end(sent, 30, Counting::National), d(2026, 6, 6));
    }

    #[test]
    fn adding_days_keeps_the_rome_wall_clock() {
        let deadline = parse_rome("2026-03-20T12:00").expect("valid");
        let validity_end = add_calendar_days(deadline, 180);
        assert_eq!(rome_rfc3339(validity_end), "2026-09-16T12:00:00+02:00");
        let before_switch = parse_rome("2026-03-28T12:00").expect("valid");
        assert_eq!(
            rome_rfc3339(add_calendar_days(before_switch, 1)),
            "2026-03-29T12:00:00+02:00"
        );
        let gap_source = parse_rome("2026-03-28T02:30").expect("valid");
        assert_eq!(
            rome_rfc3339(add_calendar_days(gap_source, 1)),
            "2026-03-29T03:30:00+02:00"
        );
    }
}
