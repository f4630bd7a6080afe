//! Issued documents (issue 14): issuing is an explicit act, downloading writes nothing.
//!
//! [`issue`] renders the requested kind for the caller (who must be entitled to it *now*:
//! each kind's module authorizes and decides what its reader may see), and then, in one
//! transaction: if a document of the same kind and scope with the same SHA-256 was already
//! issued, returns it untouched (the double click issues once); otherwise stores the bytes as
//! the next version, appends a `decision` leaf to the seal's log whose details carry the
//! SHA-256, and records the audit event. Since every document is a pure function of the data
//! (its date is the act's instant, never the clock), "same data" is "same bytes": a new
//! version exists only when the data changed.
//!
//! [`get`], [`list`] and [`latest`] read; [`issued_for_tender`] is for the auditor's bundle.

use accounts::{Principal, Role};
use chrono::{DateTime, Utc};
use db::audit::{self, AuditCtx, AuditEvent, Visibility};
use db::schema::issued_documents as t;
use diesel::prelude::*;
use uuid::Uuid;

use crate::error::DocumentError;

/// The kinds of document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// Ricevuta di presentazione dell'offerta: to its bidder only.
    Ricevuta,
    /// Verbale della seduta di apertura di un tipo di busta.
    VerbaleSeduta,
    /// Verbale di aggiudicazione (from the proposal of award on).
    VerbaleAggiudicazione,
    /// Riepilogo del bando.
    Riepilogo,
}

impl Kind {
    pub const ALL: [Kind; 4] = [
        Kind::Ricevuta,
        Kind::VerbaleSeduta,
        Kind::VerbaleAggiudicazione,
        Kind::Riepilogo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ricevuta => "ricevuta",
            Kind::VerbaleSeduta => "verbale_seduta",
            Kind::VerbaleAggiudicazione => "verbale_aggiudicazione",
            Kind::Riepilogo => "riepilogo",
        }
    }

    pub fn parse(s: &str) -> Result<Kind, DocumentError> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            DocumentError::invalid(
                "unknown_document_kind",
                format!(
                    "Tipo di documento sconosciuto: {s} (ricevuta, verbale_seduta, verbale_aggiudicazione, riepilogo)"
                ),
            )
        })
    }

    /// The audit action (and decision leaf action) of an issue.
    pub fn action(self) -> &'static str {
        match self {
            Kind::Ricevuta => "documenti.ricevuta",
            Kind::VerbaleSeduta => "documenti.verbale_seduta",
            Kind::VerbaleAggiudicazione => "documenti.verbale_aggiudicazione",
            Kind::Riepilogo => "documenti.riepilogo",
        }
    }
}

/// What to issue: the kind, and the lot (award report, receipt of a tender with lots) or the
/// envelope kind (`A`, `B`, `C`: minutes of an opening session).
#[derive(Debug, Clone)]
pub struct IssueRequest {
    pub kind: Kind,
    pub lotto: Option<Uuid>,
    pub busta: Option<String>,
}

/// A document rendered for its reader, not yet stored.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// `''`, `lotto:<id>`, `busta:<A|B|C>` or `offerta:<bid id>`.
    pub scope: String,
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// The bidder a receipt belongs to (its only reader).
    pub owner: Option<Uuid>,
    /// Audit events about a bid stay hidden from the ente until the deadline.
    pub sealed_until_deadline: Option<Option<DateTime<Utc>>>,
}

/// One issued document.
#[derive(Debug, Clone)]
pub struct IssuedDocument {
    pub id: Uuid,
    pub bando_id: Uuid,
    pub kind: Kind,
    pub scope: String,
    pub version: i32,
    pub file_name: String,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    pub size_bytes: i64,
    pub bytes: Vec<u8>,
    pub owner_user_id: Option<Uuid>,
    pub issued_by: Uuid,
    pub issued_at: DateTime<Utc>,
    /// Hex hash of the `decision` leaf that recorded the issue.
    pub leaf_hash: String,
}

/// The outcome of [`issue`]: the document, and whether this call issued it.
#[derive(Debug, Clone)]
pub struct Issue {
    pub document: IssuedDocument,
    pub created: bool,
}

type Row = (
    Uuid,
    Uuid,
    String,
    String,
    i32,
    String,
    String,
    i64,
    Vec<u8>,
    Option<Uuid>,
    Uuid,
    DateTime<Utc>,
    Vec<u8>,
);

macro_rules! columns {
    () => {
        (
            t::id,
            t::bando_id,
            t::kind,
            t::scope,
            t::version,
            t::file_name,
            t::sha256,
            t::size_bytes,
            t::content,
            t::owner_user_id,
            t::issued_by,
            t::issued_at,
            t::leaf_hash,
        )
    };
}

fn from_row(r: Row) -> Result<IssuedDocument, DocumentError> {
    Ok(IssuedDocument {
        id: r.0,
        bando_id: r.1,
        kind: Kind::parse(&r.2)?,
        scope: r.3,
        version: r.4,
        file_name: r.5,
        sha256: r.6,
        size_bytes: r.7,
        bytes: r.8,
        owner_user_id: r.9,
        issued_by: r.10,
        issued_at: r.11,
        leaf_hash: hex::encode(r.12),
    })
}

/// Whether `who` may issue some document of tender `bando` at all: an official of its ente
/// (RUP, commission, auditor) or an admin, or a supplier (its own receipt). Checked before the
/// request's kind is even read, so an outsider learns nothing from a malformed request.
pub fn may_issue_some(conn: &mut PgConnection, who: &Principal, bando: Uuid) -> Result<(), DocumentError> {
    let ente = bando::store::find(conn, bando)?.ente_id;
    if who.kind == accounts::UserKind::Supplier {
        return Ok(());
    }
    who.require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], ente)?;
    Ok(())
}

/// Renders `req` for `who` (authorizing it) without storing anything.
pub fn render(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    req: &IssueRequest,
) -> Result<Rendered, DocumentError> {
    match req.kind {
        Kind::VerbaleAggiudicazione => {
            let v = crate::verbale::load(conn, ctx, who, bando, req.lotto)?;
            Ok(Rendered {
                scope: req.lotto.map(|l| format!("lotto:{l}")).unwrap_or_default(),
                file_name: crate::verbale::file_name(&v),
                bytes: crate::verbale::render(&v),
                owner: None,
                sealed_until_deadline: None,
            })
        }
        Kind::Ricevuta => crate::ricevuta::render(conn, who, bando, req.lotto),
        Kind::VerbaleSeduta => {
            let busta = req
                .busta
                .as_deref()
                .ok_or_else(|| DocumentError::invalid("busta_required", "Indicare la busta della seduta (A, B o C)"))?;
            crate::seduta::render(conn, who, bando, busta)
        }
        Kind::Riepilogo => crate::riepilogo::render(conn, who, bando, ctx.at),
    }
}

/// Issues `req` for `who` (see the module's doc): one audit event and one log leaf, in one
/// transaction, only when the content is new.
pub fn issue(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    req: &IssueRequest,
) -> Result<Issue, DocumentError> {
    conn.transaction(|conn| {
        let r = render(conn, ctx, who, bando, req)?;
        // Two clicks at once: the second waits for the first and then finds its row.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 14))")
            .bind::<diesel::sql_types::Text, _>(format!("issued:{bando}:{}:{}", req.kind.as_str(), r.scope))
            .execute(conn)?;
        let sha256 = crate::sha256_hex(&r.bytes);
        let existing: Option<Row> = t::table
            .filter(t::bando_id.eq(bando))
            .filter(t::kind.eq(req.kind.as_str()))
            .filter(t::scope.eq(&r.scope))
            .filter(t::sha256.eq(&sha256))
            .select(columns!())
            .first(conn)
            .optional()?;
        if let Some(row) = existing {
            return Ok(Issue {
                document: from_row(row)?,
                created: false,
            });
        }
        let last: Option<i32> = t::table
            .filter(t::bando_id.eq(bando))
            .filter(t::kind.eq(req.kind.as_str()))
            .filter(t::scope.eq(&r.scope))
            .select(diesel::dsl::max(t::version))
            .first(conn)?;
        let version = last.unwrap_or(0) + 1;
        let ente_id = bando::store::find(conn, bando)?.ente_id;
        let mut details = serde_json::json!({
            "document": req.kind.as_str(),
            "scope": r.scope,
            "version": version,
            "file_name": r.file_name,
            "sha256": sha256,
            "size_bytes": r.bytes.len(),
        });
        if let (Some(l), Some(map)) = (req.lotto, details.as_object_mut()) {
            map.insert("lotto_id".into(), serde_json::json!(l));
        }
        let action = req.kind.action();
        let data = offerte::log::decision_leaf_data(bando, action, ctx.at, &details);
        let (leaf_id, leaf_hash) =
            offerte::log::append_leaf(conn, offerte::log::kind::DECISION, Some(bando), &data, ctx.at)?;
        let id = Uuid::new_v4();
        diesel::insert_into(t::table)
            .values((
                t::id.eq(id),
                t::bando_id.eq(bando),
                t::kind.eq(req.kind.as_str()),
                t::scope.eq(&r.scope),
                t::version.eq(version),
                t::file_name.eq(&r.file_name),
                t::sha256.eq(&sha256),
                t::size_bytes.eq(r.bytes.len() as i64),
                t::content.eq(&r.bytes),
                t::owner_user_id.eq(r.owner),
                t::issued_by.eq(who.user_id),
                t::issued_at.eq(ctx.at),
                t::leaf_id.eq(leaf_id),
                t::leaf_hash.eq(leaf_hash.to_vec()),
            ))
            .execute(conn)?;
        let visibility = match r.sealed_until_deadline {
            Some(deadline) => Visibility::after_deadline(bando, deadline),
            None => Visibility::default(),
        };
        audit::record_with(
            conn,
            ctx,
            AuditEvent {
                action,
                object_type: "bando",
                object_id: bando.to_string(),
                ente_id: Some(ente_id),
                details,
            },
            visibility,
        )?;
        Ok(Issue {
            document: IssuedDocument {
                id,
                bando_id: bando,
                kind: req.kind,
                scope: r.scope,
                version,
                file_name: r.file_name,
                sha256,
                size_bytes: r.bytes.len() as i64,
                bytes: r.bytes,
                owner_user_id: r.owner,
                issued_by: who.user_id,
                issued_at: ctx.at,
                leaf_hash: hex::encode(leaf_hash),
            },
            created: true,
        })
    })
}

/// May `who` read this document? A receipt: its bidder only. The others: the RUP,
/// commission and auditors of the ente, and admins (the same readers who may issue them).
fn may_read(who: &Principal, ente: Uuid, d: &IssuedDocument) -> bool {
    match d.kind {
        Kind::Ricevuta => d.owner_user_id == Some(who.user_id),
        _ => who
            .require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], ente)
            .is_ok(),
    }
}

/// One issued document of tender `bando`, for a reader entitled to it. Reads only.
pub fn get(conn: &mut PgConnection, who: &Principal, bando: Uuid, id: Uuid) -> Result<IssuedDocument, DocumentError> {
    let ente = bando::store::find(conn, bando)?.ente_id;
    let row: Option<Row> = t::table
        .filter(t::bando_id.eq(bando))
        .filter(t::id.eq(id))
        .select(columns!())
        .first(conn)
        .optional()?;
    let d = from_row(row.ok_or(DocumentError::NotFound { what: "Documento" })?)?;
    if !may_read(who, ente, &d) {
        return Err(DocumentError::Forbidden);
    }
    Ok(d)
}

/// The documents of tender `bando` the caller may read, oldest first (bytes included).
pub fn list(conn: &mut PgConnection, who: &Principal, bando: Uuid) -> Result<Vec<IssuedDocument>, DocumentError> {
    let ente = bando::store::find(conn, bando)?.ente_id;
    let insider = who
        .require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], ente)
        .is_ok();
    if !insider && who.kind != accounts::UserKind::Supplier {
        return Err(DocumentError::Forbidden);
    }
    Ok(issued_for_tender(conn, bando)?
        .into_iter()
        .filter(|d| may_read(who, ente, d))
        .collect())
}

/// The latest version of `kind` in `scope`, for a reader entitled to it. Reads only.
pub fn latest(
    conn: &mut PgConnection,
    who: &Principal,
    bando: Uuid,
    kind: Kind,
    scope: &str,
) -> Result<IssuedDocument, DocumentError> {
    let ente = bando::store::find(conn, bando)?.ente_id;
    if kind != Kind::Ricevuta {
        who.require_any_in(&[Role::Rup, Role::Auditor, Role::Commission], ente)?;
    }
    let row: Option<Row> = t::table
        .filter(t::bando_id.eq(bando))
        .filter(t::kind.eq(kind.as_str()))
        .filter(t::scope.eq(scope))
        .order(t::version.desc())
        .select(columns!())
        .first(conn)
        .optional()?;
    let d = from_row(row.ok_or_else(|| {
        DocumentError::conflict(
            "document_not_issued",
            "Il documento non è ancora stato emesso: emetterlo con POST /api/v1/bandi/{id}/documenti-emessi",
        )
    })?)?;
    if !may_read(who, ente, &d) {
        return Err(DocumentError::Forbidden);
    }
    Ok(d)
}

/// Every document issued for tender `bando`, every version, oldest first. No authorization:
/// the caller (the auditor's bundle) has checked who may export the tender.
pub fn issued_for_tender(conn: &mut PgConnection, bando: Uuid) -> Result<Vec<IssuedDocument>, DocumentError> {
    let rows: Vec<Row> = t::table
        .filter(t::bando_id.eq(bando))
        .order((t::issued_at.asc(), t::kind.asc(), t::scope.asc(), t::version.asc()))
        .select(columns!())
        .load(conn)?;
    rows.into_iter().map(from_row).collect()
}
