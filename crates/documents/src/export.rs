//! The audit export: an ente's audit events as CSV (RFC 4180), for its auditors and the
//! centrale's admins.
//!
//! Columns: `id, occurred_at, actor_user_id, action, object_type, object_id, ente_id,
//! request_id, details`. Timestamps are UTC RFC 3339 with microseconds and `Z`; `details` is the
//! event's JSON (keys sorted, no whitespace). Rows in id order (the order of insertion), lines
//! ended by CRLF, a field quoted when it holds a comma, a double quote, CR or LF, with inner
//! double quotes doubled.
//!
//! Every export is an audit event ([`issue`], action [`ACTION`]) written in the same transaction
//! as the reading, after it: its id is above every row the file holds and its `occurred_at` is
//! the export's instant, so an export whose period ends (`to`) at or before that instant never
//! contains it, and the same period exported again gives the same bytes. An export without
//! `to` does list the earlier exports' events: it is the trail as it stands.

use accounts::{trail, AccountsError, Principal};
use chrono::{DateTime, SecondsFormat, Utc};
use db::audit::{self, AuditCtx, AuditEvent, AuditRow};
use diesel::pg::PgConnection;
use diesel::Connection;
use uuid::Uuid;

/// The audit action of an export of the trail.
pub const ACTION: &str = "documenti.audit_export";

pub const HEADER: [&str; 9] = [
    "id",
    "occurred_at",
    "actor_user_id",
    "action",
    "object_type",
    "object_id",
    "ente_id",
    "request_id",
    "details",
];

/// One CSV field, quoted only when needed (RFC 4180 §2.6–2.7).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One record, ended by CRLF.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields.iter().map(|f| field(f.as_ref())).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The CSV of `rows` (with the header line).
pub fn audit_csv(rows: &[AuditRow]) -> Vec<u8> {
    let mut out = record(&HEADER);
    for r in rows {
        out.push_str(&record(&[
            r.id.to_string(),
            utc(r.occurred_at),
            r.actor_user_id.map(|u| u.to_string()).unwrap_or_default(),
            r.action.clone(),
            r.object_type.clone(),
            r.object_id.clone(),
            r.ente_id.map(|u| u.to_string()).unwrap_or_default(),
            r.request_id.clone(),
            serde_json::to_string(&r.details).unwrap_or_default(),
        ]));
    }
    out.into_bytes()
}

/// The ente's events that `filter` keeps (period `from <= occurred_at < to`, actor, action,
/// tender; every field optional), in id order, as visible at `now` (events about bids only
/// after the tender's deadline, anonymous actors blanked and never matched by an actor
/// filter); auditors of the ente and admins only (`accounts::trail`, whose refusals these are:
/// a period that ends before it starts is 422 `invalid_range`). The portal's filtered trail and
/// this export are one reading, so the file holds exactly the rows the page listed.
pub fn audit_events(
    conn: &mut PgConnection,
    who: &Principal,
    ente: Uuid,
    filter: &db::audit::TrailFilter,
    now: DateTime<Utc>,
) -> Result<Vec<AuditRow>, AccountsError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = trail::for_ente_filtered(conn, who, ente, filter, after, trail::MAX_PAGE, now)?;
        let full = page.len() as i64 >= trail::MAX_PAGE;
        after = page.last().map_or(after, |r| r.id);
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// An export as issued: the CSV and its hex SHA-256.
#[derive(Debug, Clone)]
pub struct Export {
    pub csv: Vec<u8>,
    pub sha256: String,
    pub rows: usize,
}

/// Reads the ente's events that `filter` keeps ([`audit_events`], same refusals), writes the
/// CSV and records the export as an audit event of the ente (`documenti.audit_export`, object
/// `ente`, details: the filter, the row count, the first and last event id, the CSV's SHA-256),
/// in one transaction: nothing is recorded for a refused export, and no export goes unrecorded.
pub fn issue(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    ente: Uuid,
    filter: &db::audit::TrailFilter,
) -> Result<Export, AccountsError> {
    conn.transaction(|conn| {
        let rows = audit_events(conn, who, ente, filter, ctx.at)?;
        let csv = audit_csv(&rows);
        let sha256 = crate::sha256_hex(&csv);
        audit::record(
            conn,
            ctx,
            AuditEvent {
                action: ACTION,
                object_type: "ente",
                object_id: ente.to_string(),
                ente_id: Some(ente),
                details: serde_json::json!({
                    "from": filter.from.map(utc),
                    "to": filter.to.map(utc),
                    "actor": filter.actor,
                    "action": filter.action,
                    "bando": filter.bando,
                    "rows": rows.len(),
                    "first_event_id": rows.first().map(|r| r.id),
                    "last_event_id": rows.last().map(|r| r.id),
                    "sha256": sha256,
                    "size_bytes": csv.len(),
                }),
            },
        )?;
        Ok(Export {
            rows: rows.len(),
            csv,
            sha256,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed_with_quotes_doubled() {
        assert_eq!(field("semplice"), "semplice");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("il \"RUP\""), "\"il \"\"RUP\"\"\"");
        assert_eq!(field("riga\nnuova"), "\"riga\nnuova\"");
        assert_eq!(field("àèé"), "àèé");
        assert_eq!(record(&["1", "x,y", ""]), "1,\"x,y\",\r\n");
    }

    #[test]
    fn rows_in_utc_with_json_details() {
        let at = DateTime::parse_from_rfc3339("2026-06-05T12:00:00+02:00")
            .expect("t")
            .with_timezone(&Utc);
        let row = AuditRow {
            id: 7,
            occurred_at: at,
            actor_user_id: None,
            action: "aggiudicazione.aggiudicata".into(),
            object_type: "bando".into(),
            object_id: "b".into(),
            ente_id: None,
            request_id: "r1".into(),
            client_request_id: None,
            details: serde_json::json!({ "winner_id": "w", "nota": "a, \"b\"" }),
        };
        let csv = String::from_utf8(audit_csv(&[row])).expect("utf8");
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], HEADER.join(","));
        assert_eq!(
            lines[1],
            "7,2026-06-05T10:00:00.000000Z,,aggiudicazione.aggiudicata,bando,b,,r1,\"{\"\"nota\"\":\"\"a, \\\"\"b\\\"\"\"\",\"\"winner_id\"\":\"\"w\"\"}\""
        );
        assert_eq!(lines[2], "");
    }
}
