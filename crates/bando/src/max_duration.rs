//! The maximum durations of Allegato I.3 (art. 17 c.3): from the publication of the notice
//! (or the sending of the invitations) to the award, in months, by procedure and award
//! criterion, one month more when an abnormally low offer must be verified (all. I.3 c.4).
//!
//! Each tender shows its due date; the scheduler warns the RUPs of the tender's ente a
//! configurable number of days before it (`[max_duration] warning_days`), once per threshold,
//! and records an audit event when the duration ran out without an award. Nothing is blocked:
//! exceeding the term is "silenzio inadempimento" and bears on the RUP's duty of good faith
//! (art. 17 c.3), not on the validity of the procedure or of a late award.

use std::collections::HashSet;

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use db::audit::{self, AuditCtx, AuditEvent};
use diesel::prelude::*;
use diesel::sql_types;
use domain::deadlines::{self, ROME};
use domain::legal::{LegalTable, Rule};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::BandoError;
use crate::model::{AwardCriterion, Deadline, ProcedureType, State};
use crate::schema::{bandi, bando_duration_notices};
use crate::store::BandoRow;

/// Audit action of a warning sent to the RUPs.
pub const AUDIT_WARNING: &str = "bando.max_duration_warning";
/// Audit action of a duration that ran out without an award.
pub const AUDIT_EXCEEDED: &str = "bando.max_duration_exceeded";

/// A tender's maximum duration, as the bando view shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MaxDuration {
    /// Months from the publication to the award, the anomaly month included.
    pub months: i64,
    /// E.g. "all. I.3 c.2 lett. a".
    pub citation: String,
    pub source: String,
    /// One month added because an anomaly check began (all. I.3 c.4).
    pub anomaly_extension: bool,
    /// The last day (Rome) on which the award is within the term (art. 2963 c.4 c.c.: the
    /// day of the month matching the publication's, or that month's last day).
    pub due_date: NaiveDate,
    /// The last instant of that day.
    pub due: Deadline,
}

/// The Allegato I.3 term for this procedure and criterion; `None` for a direct award, which
/// is no "gara" (its art. 50 c.3 term is not tracked: docs/legal.md).
pub fn rule_for(t: &LegalTable, procedure: ProcedureType, criterion: AwardCriterion) -> Option<Rule<i64>> {
    let m = &t.max_months;
    let oepv = criterion == AwardCriterion::Oepv;
    Some(match (procedure, oepv) {
        (ProcedureType::Aperta, true) => m.oepv_open,
        (ProcedureType::Aperta, false) => m.lowest_price_open,
        (ProcedureType::Ristretta, true) => m.oepv_restricted,
        (ProcedureType::Ristretta, false) => m.lowest_price_restricted,
        (ProcedureType::CompetitivaConNegoziazione, true) => m.oepv_competitive_negotiation,
        (ProcedureType::CompetitivaConNegoziazione, false) => m.lowest_price_competitive_negotiation,
        (ProcedureType::NegoziataSenzaBando, true) => m.oepv_negotiated_without_notice,
        (ProcedureType::NegoziataSenzaBando, false) => m.lowest_price_negotiated_without_notice,
        (ProcedureType::AffidamentoDiretto, _) => return None,
    })
}

/// The term of a tender published at `published_at` (the table in force that day).
pub fn compute(
    published_at: DateTime<Utc>,
    procedure: ProcedureType,
    criterion: AwardCriterion,
    anomaly_check: bool,
) -> Option<MaxDuration> {
    let start = deadlines::rome_date(published_at);
    let table = LegalTable::at(start);
    let rule = rule_for(table, procedure, criterion)?;
    let extra = if anomaly_check {
        table.max_months.anomaly_extension.value
    } else {
        0
    };
    let months = rule.value + extra;
    let due_date = start.checked_add_months(Months::new(months.max(0) as u32))?;
    Some(MaxDuration {
        months,
        citation: if anomaly_check {
            format!("{} e {}", rule.article, table.max_months.anomaly_extension.article)
        } else {
            rule.article.to_string()
        },
        source: rule.source.to_string(),
        anomaly_extension: anomaly_check,
        due_date,
        due: Deadline::of(end_of_day(due_date)),
    })
}

/// The last second of a Rome day.
fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let next = day.checked_add_days(Days::new(1)).unwrap_or(day);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    ROME.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc) - chrono::Duration::seconds(1))
        .unwrap_or_default()
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = sql_types::Bool)]
    value: bool,
}

/// Whether an anomaly check (art. 110) began on the tender or one of its lots.
pub fn anomaly_check_began(conn: &mut PgConnection, bando: Uuid) -> QueryResult<bool> {
    diesel::sql_query(
        "SELECT EXISTS (SELECT 1 FROM agg_art110 WHERE scope_id = $1
                           OR scope_id IN (SELECT id FROM bando_lotti WHERE bando_id = $1)) AS value",
    )
    .bind::<sql_types::Uuid, _>(bando)
    .get_result::<Flag>(conn)
    .map(|f| f.value)
}

#[derive(QueryableByName)]
struct Began {
    #[diesel(sql_type = sql_types::Uuid)]
    id: Uuid,
}

/// [`anomaly_check_began`] for many tenders in one query: those of `bandi` where it did.
pub fn anomaly_checks_began(conn: &mut PgConnection, bandi: &[Uuid]) -> QueryResult<HashSet<Uuid>> {
    Ok(diesel::sql_query(
        "SELECT b.id FROM unnest($1::uuid[]) AS b(id)
          WHERE EXISTS (SELECT 1 FROM agg_art110 WHERE scope_id = b.id
                           OR scope_id IN (SELECT id FROM bando_lotti WHERE bando_id = b.id))",
    )
    .bind::<sql_types::Array<sql_types::Uuid>, _>(bandi)
    .load::<Began>(conn)?
    .into_iter()
    .map(|b| b.id)
    .collect())
}

/// The term of a stored tender, once published.
pub fn of_row(conn: &mut PgConnection, row: &BandoRow) -> QueryResult<Option<MaxDuration>> {
    let Some(published) = row.published_at else {
        return Ok(None);
    };
    let anomaly = anomaly_check_began(conn, row.id)?;
    Ok(compute(published, row.procedure_type(), row.award_criterion(), anomaly))
}

/// The states in which the award is still to come.
const RUNNING: [State; 5] = [
    State::Published,
    State::SubmissionsClosed,
    State::Opening,
    State::Evaluation,
    State::ProposedAward,
];

/// What one pass did to one tender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub bando_id: Uuid,
    pub due_date: NaiveDate,
    /// 0 when the duration ran out.
    pub days_before: i32,
    pub recipients: usize,
}

#[derive(QueryableByName)]
struct Rup {
    #[diesel(sql_type = sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = sql_types::Text)]
    email: String,
}

/// The active RUPs of an ente: only they are warned (never another ente's, never a bidder).
fn rups(conn: &mut PgConnection, ente: Uuid) -> QueryResult<Vec<Rup>> {
    diesel::sql_query(
        "SELECT DISTINCT u.id, u.email FROM users u JOIN role_grants g ON g.user_id = u.id
          WHERE g.role = 'rup' AND g.ente_id = $1 AND g.revoked_at IS NULL
            AND u.active AND u.kind = 'official'
          ORDER BY u.email",
    )
    .bind::<sql_types::Uuid, _>(ente)
    .load(conn)
}

/// Records one notice unless it exists (the primary key decides between instances).
fn claim(
    conn: &mut PgConnection,
    row: &BandoRow,
    due: NaiveDate,
    days_before: i32,
    recipients: usize,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::insert_into(bando_duration_notices::table)
        .values((
            bando_duration_notices::bando_id.eq(row.id),
            bando_duration_notices::due_date.eq(due),
            bando_duration_notices::days_before.eq(days_before),
            bando_duration_notices::recorded_at.eq(now),
            bando_duration_notices::recipients.eq(recipients as i32),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

/// Warns the RUPs of every running tender whose maximum duration runs out within one of
/// `warning_days` days (the nearest threshold reached; farther ones already passed are
/// recorded as superseded, so a late tick sends one message, not several), and records the
/// durations that ran out. Idempotent: a second pass at the same instant does nothing.
pub fn run_due(conn: &mut PgConnection, now: DateTime<Utc>, warning_days: &[u32]) -> Result<Vec<Notice>, BandoError> {
    let mut thresholds: Vec<i32> = warning_days.iter().map(|d| *d as i32).filter(|d| *d > 0).collect();
    thresholds.sort_unstable();
    thresholds.dedup();
    let widest = thresholds.last().copied().unwrap_or(0);
    // No term is shorter than 3 months: tenders published later cannot be in any window.
    let horizon = (now + chrono::Duration::days(i64::from(widest) + 1))
        .checked_sub_months(Months::new(3))
        .unwrap_or(now);
    let running: Vec<&str> = RUNNING.iter().map(|s| s.as_str()).collect();
    let rows: Vec<BandoRow> = bandi::table
        .filter(bandi::state.eq_any(running))
        .filter(bandi::published_at.le(horizon))
        .order((bandi::published_at.asc(), bandi::id.asc()))
        .select(BandoRow::as_select())
        .load(conn)?;
    let today = deadlines::rome_date(now);
    let mut done = Vec::new();
    for row in rows {
        let Some(term) = of_row(conn, &row)? else {
            continue;
        };
        let left = (term.due_date - today).num_days();
        let reached: Vec<i32> = if left < 0 {
            vec![0]
        } else {
            thresholds.iter().copied().filter(|d| i64::from(*d) >= left).collect()
        };
        let Some(&nearest) = reached.first() else {
            continue;
        };
        // Already given (the usual case on every later tick): skip without a transaction.
        let given: i64 = bando_duration_notices::table
            .find((row.id, term.due_date, nearest))
            .count()
            .get_result(conn)?;
        if given > 0 {
            continue;
        }
        let notice = conn.transaction(|conn| -> Result<Option<Notice>, BandoError> {
            let rups = rups(conn, row.ente_id)?;
            if !claim(conn, &row, term.due_date, nearest, rups.len(), now)? {
                return Ok(None);
            }
            for &farther in &reached[1..] {
                claim(conn, &row, term.due_date, farther, 0, now)?;
            }
            warn(conn, &row, &term, nearest, left, &rups, now)?;
            Ok(Some(Notice {
                bando_id: row.id,
                due_date: term.due_date,
                days_before: nearest,
                recipients: rups.len(),
            }))
        })?;
        done.extend(notice);
    }
    Ok(done)
}

/// The outbox messages and the audit event of one warning (or of the term running out).
fn warn(
    conn: &mut PgConnection,
    row: &BandoRow,
    term: &MaxDuration,
    days_before: i32,
    left: i64,
    rups: &[Rup],
    now: DateTime<Utc>,
) -> Result<(), BandoError> {
    use notify::schema::notifications_outbox as outbox;
    let due = term.due_date.format("%d/%m/%Y");
    let (subject, body) = if days_before == 0 {
        (
            format!("Durata massima superata: «{}»", row.oggetto),
            format!(
                "La procedura «{}» doveva concludersi con l'aggiudicazione entro il {due} ({} mesi dalla pubblicazione, {}).\n\
                 Il termine è scaduto senza aggiudicazione. Il superamento costituisce silenzio inadempimento e rileva ai fini \
                 della responsabilità del RUP (art. 17 c.3); non impedisce l'aggiudicazione, che resta possibile.",
                row.oggetto, term.months, term.citation
            ),
        )
    } else {
        (
            format!(
                "Durata massima della procedura «{}»: mancano {left} giorni",
                row.oggetto
            ),
            format!(
                "La procedura «{}» va conclusa con l'aggiudicazione entro il {due} ({} mesi dalla pubblicazione, {}).\n\
                 Mancano {left} giorni. Il superamento del termine costituisce silenzio inadempimento (art. 17 c.3).",
                row.oggetto, term.months, term.citation
            ),
        )
    };
    for rup in rups {
        diesel::insert_into(outbox::table)
            .values((
                outbox::id.eq(Uuid::new_v4()),
                outbox::recipient_user_id.eq(Some(rup.id)),
                outbox::recipient_address.eq(&rup.email),
                outbox::subject.eq(&subject),
                outbox::body.eq(&body),
                outbox::object_type.eq("bando"),
                outbox::object_id.eq(row.id.to_string()),
                outbox::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    let ctx = AuditCtx {
        actor: None,
        request_id: "scheduler".into(),
        client_request_id: None,
        at: now,
    };
    audit::record(
        conn,
        &ctx,
        AuditEvent {
            action: if days_before == 0 {
                AUDIT_EXCEEDED
            } else {
                AUDIT_WARNING
            },
            object_type: "bando",
            object_id: row.id.to_string(),
            ente_id: Some(row.ente_id),
            details: serde_json::json!({
                "bando_id": row.id,
                "due_date": term.due_date,
                "days_before": days_before,
                "days_left": left,
                "months": term.months,
                "citation": term.citation,
                "anomaly_extension": term.anomaly_extension,
                "state": row.state,
                "recipients": rups.iter().map(|r| r.id).collect::<Vec<_>>(),
            }),
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        deadlines::parse_rome(s).expect("valid")
    }

    #[test]
    fn due_dates_by_procedure_and_criterion_with_the_anomaly_month() {
        let published = at("2026-05-04T10:00");
        let due = |p, c, a| compute(published, p, c, a).map(|m| (m.months, m.due_date.to_string()));
        use AwardCriterion::*;
        use ProcedureType::*;
        assert_eq!(due(Aperta, Oepv, false), Some((9, "2027-02-04".into())));
        assert_eq!(due(Aperta, MinorPrezzo, false), Some((5, "2026-10-04".into())));
        assert_eq!(due(Aperta, MinorPrezzo, true), Some((6, "2026-11-04".into())));
        assert_eq!(due(Ristretta, Oepv, false), Some((10, "2027-03-04".into())));
        assert_eq!(due(Ristretta, MinorPrezzo, false), Some((6, "2026-11-04".into())));
        assert_eq!(
            due(CompetitivaConNegoziazione, Oepv, false),
            Some((7, "2026-12-04".into()))
        );
        assert_eq!(
            due(CompetitivaConNegoziazione, MinorPrezzo, false),
            Some((4, "2026-09-04".into()))
        );
        assert_eq!(due(NegoziataSenzaBando, Oepv, false), Some((4, "2026-09-04".into())));
        assert_eq!(
            due(NegoziataSenzaBando, MinorPrezzo, false),
            Some((3, "2026-08-04".into()))
        );
        assert_eq!(due(AffidamentoDiretto, MinorPrezzo, false), None);
        let m = compute(published, Aperta, MinorPrezzo, true).expect("term");
        assert_eq!(m.citation, "all. I.3 c.2 lett. a e all. I.3 c.4");
        assert_eq!(m.due.rome, "2026-11-04T23:59:59+01:00");
        // Art. 2963 c.4 c.c.: no 31 September, so the month's last day.
        let m = compute(at("2026-05-31T10:00"), CompetitivaConNegoziazione, MinorPrezzo, false).expect("term");
        assert_eq!(m.due_date.to_string(), "2026-09-30");
    }
}
