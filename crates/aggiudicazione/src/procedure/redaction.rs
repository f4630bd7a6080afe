//! Requests to redact (oscuramento) parts of an offer from the other bidders' access: art. 35
//! c.4 lett. a (technical or commercial secrets, with a reasoned and proven declaration) and
//! art. 36 c.3–5 (the stazione appaltante decides each request, states the decision in the
//! award's communication, the decision may be challenged within ten days from it, and a part
//! whose redaction was refused is not shown before that term has passed).
//!
//! Trust: a request must say nothing to anyone before the deadline and the opening, or its
//! mere existence would tell who bid. So it travels sealed inside the envelope, as one more
//! file of the `centrale-busta/1` archive: `oscuramento.json` ([`offerte::archive::REDACTION_NAME`])
//!
//! ```json
//! {"requests": [{"file": "relazione.pdf", "redacted_copy": "relazione-oscurata.pdf",
//!                "reasons": "…", "evidence": ["brevetto.pdf"]}]}
//! ```
//!
//! naming, for each original file of the same envelope, the redacted copy the bidder put beside
//! it, the reasons and the files that prove them. The platform reads it only after the ranking
//! (the RUP then weighs it, envelope B included, with no influence left on the scores) and
//! keeps one row per request ([`RedactionState`]). Access ([`super::access`]) then serves to
//! the other bidders the redacted copy and, in place of the original, nothing until the
//! decision lets it go ([`RedactionState::original_disclosed`]). The request file itself and
//! its evidence are for the stazione appaltante only.

use std::fs::File;
use std::io::{BufReader, Read};

use accounts::Principal;
use chrono::{DateTime, Days, NaiveDate, Utc};
use db::audit::AuditCtx;
use diesel::prelude::*;
use offerte::archive::{self, REDACTION_NAME};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::schema::{agg_awards, agg_evaluations, agg_redaction_requests as rr, envelopes, opened_envelopes};
use super::{active_bid_ids, audit_only, event, is_insider, require_rup, tender, ProcedureError, Result, Tender};

/// `oscuramento.json` is a few requests; anything larger is not one.
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

/// The stazione appaltante's decision on a request (art. 36 c.3). (`Verdict`: the API
/// document already has a `Decision`, the albo's.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accepted,
    Rejected,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(Verdict::Accepted),
            "rejected" => Some(Verdict::Rejected),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Accepted => "accolta",
            Verdict::Rejected => "respinta",
        }
    }
}

/// The court's outcome of a challenge (art. 36 c.4, art. 116 c.p.a.): `upheld` overturns the
/// decision, `dismissed` confirms it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeOutcome {
    Upheld,
    Dismissed,
}

impl ChallengeOutcome {
    fn as_str(self) -> &'static str {
        match self {
            ChallengeOutcome::Upheld => "upheld",
            ChallengeOutcome::Dismissed => "dismissed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "upheld" => Some(ChallengeOutcome::Upheld),
            "dismissed" => Some(ChallengeOutcome::Dismissed),
            _ => None,
        }
    }
}

/// Where a request stands. Transitions: `Pending → Decided` ([`Self::decide`], before the
/// award), `Decided → Challenged` ([`Self::challenge`], after the award and before the term
/// ends), `Challenged → Settled` ([`Self::settle`]). Nothing goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RedactionState {
    Pending,
    Decided {
        decision: Verdict,
    },
    Challenged {
        decision: Verdict,
    },
    Settled {
        decision: Verdict,
        outcome: ChallengeOutcome,
    },
}

impl RedactionState {
    pub fn decide(self, d: Verdict) -> std::result::Result<Self, &'static str> {
        match self {
            RedactionState::Pending => Ok(RedactionState::Decided { decision: d }),
            _ => Err("redaction_decided"),
        }
    }

    pub fn challenge(self) -> std::result::Result<Self, &'static str> {
        match self {
            RedactionState::Decided { decision } => Ok(RedactionState::Challenged { decision }),
            RedactionState::Pending => Err("redaction_undecided"),
            _ => Err("challenge_recorded"),
        }
    }

    pub fn settle(self, outcome: ChallengeOutcome) -> std::result::Result<Self, &'static str> {
        match self {
            RedactionState::Challenged { decision } => Ok(RedactionState::Settled { decision, outcome }),
            RedactionState::Settled { .. } => Err("challenge_settled"),
            _ => Err("challenge_missing"),
        }
    }

    /// Whether the other bidders may now read the original file. `term_end` is the end of the
    /// challenge term (None before the award's communication, or when unknown).
    /// * undecided, accepted, or challenged: never (c.3, c.5: the part in dispute stays hidden);
    /// * rejected: once the term has passed with no challenge recorded (c.5);
    /// * settled: when the final outcome is that no redaction applies (a rejection confirmed,
    ///   or an acceptance overturned).
    pub fn original_disclosed(self, term_end: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match self {
            RedactionState::Pending
            | RedactionState::Challenged { .. }
            | RedactionState::Decided {
                decision: Verdict::Accepted,
            } => false,
            RedactionState::Decided {
                decision: Verdict::Rejected,
            } => term_end.is_some_and(|end| now >= end),
            RedactionState::Settled { decision, outcome } => matches!(
                (decision, outcome),
                (Verdict::Rejected, ChallengeOutcome::Dismissed) | (Verdict::Accepted, ChallengeOutcome::Upheld)
            ),
        }
    }

    /// Italian, for the pages and the communication.
    pub fn label(self) -> String {
        match self {
            RedactionState::Pending => "da decidere".into(),
            RedactionState::Decided { decision } => format!("richiesta {}", decision.label()),
            RedactionState::Challenged { decision } => {
                format!(
                    "richiesta {}; ricorso notificato, in attesa dell'esito",
                    decision.label()
                )
            }
            RedactionState::Settled { decision, outcome } => format!(
                "richiesta {}; ricorso {}",
                decision.label(),
                match outcome {
                    ChallengeOutcome::Upheld => "accolto (decisione riformata)",
                    ChallengeOutcome::Dismissed => "respinto (decisione confermata)",
                }
            ),
        }
    }
}

/// The end of the challenge term of art. 36 c.4 for a communication at `communicated`: the
/// number of days in force at the tender's publication (`published`), counted in calendar
/// days from the Rome day after the communication; a last day that is a Saturday, a Sunday or
/// a public holiday runs on to the next working day (art. 52 c.3 and c.5 c.p.a., the ricorso
/// being a procedural act). The term ends at the close of that day: the instant returned is
/// the following midnight in Rome, and a rejected part is shown from then on.
pub fn challenge_term_end(communicated: DateTime<Utc>, published: NaiveDate) -> DateTime<Utc> {
    let days = domain::legal::LegalTable::at(published)
        .after_deadline
        .redaction_challenge_days;
    let last = domain::deadlines::earliest_day(communicated, days.value as u64);
    let last = domain::holidays::Counting::Eu.period_end(last);
    let after = last.checked_add_days(Days::new(1)).unwrap_or(NaiveDate::MAX);
    domain::deadlines::rome_to_utc(after.and_time(chrono::NaiveTime::MIN)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// One request as the RUP (and its own bidder) sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RedactionRequest {
    pub id: Uuid,
    pub envelope_id: Uuid,
    pub bidder_id: Uuid,
    pub kind: String,
    /// The original file whose parts are to be hidden.
    pub file: String,
    /// The redacted copy the bidder sealed beside it (None when the request names none).
    pub redacted_copy: Option<String>,
    pub reasons: String,
    pub evidence: Vec<String>,
    /// What is wrong with the request as sealed (a file not in the envelope, no reasons…);
    /// such a request can only be rejected, or accepted when it names a redacted copy.
    pub defect: Option<String>,
    #[serde(flatten)]
    #[schema(inline)]
    pub state: RedactionState,
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub challenge_note: Option<String>,
    pub challenge_at: Option<DateTime<Utc>>,
    pub challenge_outcome_reason: Option<String>,
    pub challenge_outcome_at: Option<DateTime<Utc>>,
    /// End of the art. 36 c.4 term (from the award's communication; None before the award).
    pub term_end: Option<DateTime<Utc>>,
    /// Whether the other bidders may read the original now.
    pub original_disclosed: bool,
    /// Italian summary of the state.
    pub label: String,
}

/// `POST /bandi/{id}/oscuramento/{request}/decisione`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactionDecision {
    pub decision: Verdict,
    pub reason: String,
}

/// `POST /bandi/{id}/oscuramento/{request}/ricorso`: the ricorso notified to the stazione
/// appaltante (who, when, which court: free text).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeRecord {
    pub note: String,
}

/// `POST /bandi/{id}/oscuramento/{request}/ricorso/esito`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeSettlement {
    pub outcome: ChallengeOutcome,
    pub reason: String,
}

#[derive(Deserialize)]
struct Sealed {
    requests: Vec<SealedRequest>,
}

#[derive(Deserialize)]
struct SealedRequest {
    file: String,
    #[serde(default)]
    redacted_copy: Option<String>,
    #[serde(default)]
    reasons: String,
    #[serde(default)]
    evidence: Vec<String>,
}

/// A request read from the sealed file, checked against the envelope's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub file: String,
    pub redacted_copy: Option<String>,
    pub reasons: String,
    pub evidence: Vec<String>,
    pub defect: Option<String>,
}

/// The requests of `oscuramento.json` (`bytes`), each checked against the names of the
/// envelope's files. A document that is not the expected JSON is kept as one defective
/// request on the request file itself, so the RUP sees it and must reject it.
pub fn parse_requests(bytes: &[u8], names: &[String]) -> Vec<Parsed> {
    let sealed: Sealed = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => {
            return vec![Parsed {
                file: REDACTION_NAME.into(),
                redacted_copy: None,
                reasons: String::new(),
                evidence: Vec::new(),
                defect: Some(format!("«{REDACTION_NAME}» non è una richiesta valida: {e}")),
            }]
        }
    };
    let known = |n: &str| names.iter().any(|x| x == n);
    let mut out: Vec<Parsed> = Vec::new();
    for r in sealed.requests.into_iter().take(archive::MAX_FILES) {
        let mut defects = Vec::new();
        let file: String = r.file.chars().filter(|c| !c.is_control()).take(100).collect();
        if file == REDACTION_NAME || !known(&file) {
            defects.push(format!("il file «{file}» non è nella busta"));
        }
        if out.iter().any(|p| p.file == file) {
            defects.push(format!("il file «{file}» è già oggetto di un'altra richiesta"));
        }
        let copy = r.redacted_copy.filter(|c| !c.trim().is_empty());
        let copy = match copy {
            Some(c) if c == file || c == REDACTION_NAME => {
                defects.push("la copia oscurata deve essere un altro file della busta".into());
                None
            }
            Some(c) if !known(&c) => {
                defects.push(format!("la copia oscurata «{c}» non è nella busta"));
                None
            }
            Some(c) => Some(c),
            None => {
                defects.push("manca la copia oscurata".into());
                None
            }
        };
        let reasons = r.reasons.trim().to_string();
        if reasons.is_empty() {
            defects.push("manca la motivazione (art. 35 c.4 lett. a)".into());
        }
        let evidence: Vec<String> = r.evidence.into_iter().filter(|e| known(e) && e != &file).collect();
        out.push(Parsed {
            file,
            redacted_copy: copy,
            reasons,
            evidence,
            defect: (!defects.is_empty()).then(|| defects.join("; ")),
        });
    }
    out
}

/// The names listed in an opened envelope's stored manifest (None for a single-body envelope
/// or an archive refused at the opening).
pub(crate) fn manifest_names(archive: Option<&serde_json::Value>) -> Option<Vec<String>> {
    let files = archive?.get("files")?.as_array()?;
    Some(
        files
            .iter()
            .filter_map(|f| f["name"].as_str().map(str::to_string))
            .collect(),
    )
}

/// Whether an envelope's manifest carries a request file.
pub(crate) fn carries_request(archive: Option<&serde_json::Value>) -> bool {
    manifest_names(archive).is_some_and(|n| n.iter().any(|x| x == REDACTION_NAME))
}

type OpenedRow = (Uuid, Uuid, String, Option<String>, Option<serde_json::Value>);

/// The opened, current envelopes of the scope's active bids: (envelope, bidder, kind,
/// plaintext path, stored manifest).
fn opened_envelopes_of(conn: &mut PgConnection, row: &Tender) -> Result<Vec<OpenedRow>> {
    let bids = active_bid_ids(conn, row)?;
    Ok(opened_envelopes::table
        .inner_join(envelopes::table)
        .filter(envelopes::bid_id.eq_any(bids))
        .filter(envelopes::superseded_at.is_null())
        .order((envelopes::bidder_id.asc(), envelopes::kind.asc()))
        .select((
            envelopes::id,
            envelopes::bidder_id,
            envelopes::kind,
            opened_envelopes::plaintext_path,
            opened_envelopes::archive,
        ))
        .load(conn)?)
}

fn ranking_computed(conn: &mut PgConnection, scope: Uuid) -> Result<bool> {
    let r: Option<Option<serde_json::Value>> = agg_evaluations::table
        .find(scope)
        .select(agg_evaluations::ranking)
        .first(conn)
        .optional()?;
    Ok(r.flatten().is_some())
}

/// (outcome, awarded_at) of the scope's award row.
fn award_state(conn: &mut PgConnection, scope: Uuid) -> Result<Option<(String, Option<DateTime<Utc>>)>> {
    Ok(agg_awards::table
        .find(scope)
        .select((agg_awards::outcome, agg_awards::awarded_at))
        .first(conn)
        .optional()?)
}

/// When the award was communicated (its art. 90 communication is written with the award).
pub(crate) fn communicated_at(conn: &mut PgConnection, scope: Uuid) -> Result<Option<DateTime<Utc>>> {
    Ok(award_state(conn, scope)?
        .filter(|(o, _)| o == "awarded" || o == "effective")
        .and_then(|(_, at)| at))
}

fn published(row: &Tender) -> NaiveDate {
    domain::deadlines::rome_date(row.published_at.unwrap_or(row.created_at))
}

/// The term's end for the scope, once the award is communicated.
pub(crate) fn term_end(conn: &mut PgConnection, row: &Tender) -> Result<Option<DateTime<Utc>>> {
    Ok(communicated_at(conn, row.scope())?.map(|at| challenge_term_end(at, published(row))))
}

/// Reads the request files of the opened envelopes that carry one and have no rows yet: one
/// row per request, audited (`aggiudicazione.oscuramento_richieste_lette`). Only after the
/// ranking.
fn read_sealed(conn: &mut PgConnection, ctx: &AuditCtx, row: &Tender, store: &offerte::store::Store) -> Result<()> {
    for (envelope, bidder, kind, rel, manifest) in opened_envelopes_of(conn, row)? {
        if !carries_request(manifest.as_ref()) {
            continue;
        }
        let known: i64 = rr::table
            .filter(rr::envelope_id.eq(envelope))
            .count()
            .get_result(conn)?;
        if known > 0 {
            continue;
        }
        let names = manifest_names(manifest.as_ref()).unwrap_or_default();
        let bytes = rel
            .ok_or_else(|| "busta non decifrabile".to_string())
            .and_then(|r| store.local(&r, None).map_err(|e| e.to_string()))
            .and_then(|p| {
                let f = File::open(p).map_err(|e| e.to_string())?;
                let (_, member) = archive::extract(BufReader::new(f), REDACTION_NAME).map_err(|e| e.to_string())?;
                let mut buf = Vec::new();
                member
                    .take(MAX_REQUEST_BYTES + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| e.to_string())?;
                if buf.len() as u64 > MAX_REQUEST_BYTES {
                    return Err("richiesta troppo grande".into());
                }
                Ok(buf)
            });
        let parsed = match bytes {
            Ok(b) => parse_requests(&b, &names),
            Err(e) => vec![Parsed {
                file: REDACTION_NAME.into(),
                redacted_copy: None,
                reasons: String::new(),
                evidence: Vec::new(),
                defect: Some(format!("«{REDACTION_NAME}» illeggibile: {e}")),
            }],
        };
        // Two first readings at once: the unique (envelope, position) keeps one set of rows,
        // and only the reading that inserted them is audited.
        let mut inserted = 0;
        for (i, p) in parsed.iter().enumerate() {
            inserted += diesel::insert_into(rr::table)
                .values((
                    rr::id.eq(Uuid::new_v4()),
                    rr::scope_id.eq(row.scope()),
                    rr::envelope_id.eq(envelope),
                    rr::bidder_id.eq(bidder),
                    rr::position.eq(i as i32),
                    rr::file.eq(&p.file),
                    rr::redacted_copy.eq(&p.redacted_copy),
                    rr::reasons.eq(&p.reasons),
                    rr::evidence.eq(serde_json::json!(p.evidence)),
                    rr::defect.eq(&p.defect),
                    rr::read_at.eq(ctx.at),
                ))
                .on_conflict_do_nothing()
                .execute(conn)?;
        }
        if inserted == 0 {
            continue;
        }
        audit_only(
            conn,
            ctx,
            row,
            "aggiudicazione.oscuramento_richieste_lette",
            serde_json::json!({ "envelope_id": envelope, "bidder_id": bidder, "kind": kind, "requests": parsed.len() }),
        )?;
    }
    Ok(())
}

type Stored = (
    (
        Uuid,
        Uuid,
        Uuid,
        String,
        Option<String>,
        String,
        serde_json::Value,
        Option<String>,
    ),
    (Option<String>, Option<String>, Option<DateTime<Utc>>),
    (
        Option<String>,
        Option<DateTime<Utc>>,
        Option<String>,
        Option<String>,
        Option<DateTime<Utc>>,
    ),
);

fn state_of(decision: Option<&str>, challenged: bool, outcome: Option<&str>) -> RedactionState {
    match (
        decision.and_then(Verdict::parse),
        challenged,
        outcome.and_then(ChallengeOutcome::parse),
    ) {
        (None, _, _) => RedactionState::Pending,
        (Some(d), false, _) => RedactionState::Decided { decision: d },
        (Some(d), true, None) => RedactionState::Challenged { decision: d },
        (Some(d), true, Some(o)) => RedactionState::Settled {
            decision: d,
            outcome: o,
        },
    }
}

/// The stored requests of the scope, in envelope order.
pub(crate) fn stored(conn: &mut PgConnection, row: &Tender, now: DateTime<Utc>) -> Result<Vec<RedactionRequest>> {
    let rows: Vec<Stored> = rr::table
        .filter(rr::scope_id.eq(row.scope()))
        .order((rr::bidder_id.asc(), rr::envelope_id.asc(), rr::position.asc()))
        .select((
            (
                rr::id,
                rr::envelope_id,
                rr::bidder_id,
                rr::file,
                rr::redacted_copy,
                rr::reasons,
                rr::evidence,
                rr::defect,
            ),
            (rr::decision, rr::decision_reason, rr::decided_at),
            (
                rr::challenge_note,
                rr::challenge_at,
                rr::challenge_outcome,
                rr::challenge_outcome_reason,
                rr::challenge_outcome_at,
            ),
        ))
        .load(conn)?;
    let kinds: Vec<(Uuid, String)> = envelopes::table
        .filter(envelopes::id.eq_any(rows.iter().map(|r| r.0 .1).collect::<Vec<_>>()))
        .select((envelopes::id, envelopes::kind))
        .load(conn)?;
    let end = term_end(conn, row)?;
    Ok(rows
        .into_iter()
        .map(
            |((id, envelope_id, bidder_id, file, redacted_copy, reasons, evidence, defect), d, c)| {
                let state = state_of(d.0.as_deref(), c.1.is_some(), c.2.as_deref());
                RedactionRequest {
                    id,
                    envelope_id,
                    bidder_id,
                    kind: kinds
                        .iter()
                        .find(|(e, _)| *e == envelope_id)
                        .map(|(_, k)| k.clone())
                        .unwrap_or_default(),
                    file,
                    redacted_copy,
                    reasons,
                    evidence: serde_json::from_value(evidence).unwrap_or_default(),
                    defect,
                    state,
                    decision_reason: d.1,
                    decided_at: d.2,
                    challenge_note: c.0,
                    challenge_at: c.1,
                    challenge_outcome_reason: c.3,
                    challenge_outcome_at: c.4,
                    term_end: end,
                    original_disclosed: state.original_disclosed(end, now),
                    label: state.label(),
                }
            },
        )
        .collect())
}

/// The requests of the scope: every one to the ente's officials (RUP, commission, auditors)
/// and admins, once the ranking is computed (409 `redaction_not_yet` before: the requests are
/// read from the sealed envelopes only then, and never before the deadline and the opening);
/// to a bidder its own, from the award's communication on (an empty list before). Anyone else
/// gets an empty list: the existence of a request is not revealed.
pub fn list(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    store: &offerte::store::Store,
    who: &Principal,
    bando: Uuid,
) -> Result<Vec<RedactionRequest>> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        if is_insider(who, &row) {
            if !ranking_computed(conn, row.scope())? {
                return Err(ProcedureError::conflict(
                    "redaction_not_yet",
                    "Le richieste di oscuramento sigillate nelle offerte si esaminano dopo la graduatoria (art. 36 c.3)",
                ));
            }
            read_sealed(conn, ctx, &row, store)?;
            return stored(conn, &row, ctx.at);
        }
        if communicated_at(conn, row.scope())?.is_none() {
            return Ok(Vec::new());
        }
        Ok(stored(conn, &row, ctx.at)?
            .into_iter()
            .filter(|r| r.bidder_id == who.user_id)
            .collect())
    })
}

/// The award may be adopted only when every request sealed in the offers has been read and
/// decided (art. 36 c.3: the decisions are stated in the award's communication).
pub(crate) fn require_decided(conn: &mut PgConnection, row: &Tender) -> Result<()> {
    let unread = opened_envelopes_of(conn, row)?
        .into_iter()
        .filter(|(_, _, _, _, m)| carries_request(m.as_ref()))
        .map(|(e, ..)| e)
        .collect::<Vec<_>>();
    let read: Vec<Uuid> = rr::table
        .filter(rr::envelope_id.eq_any(&unread))
        .select(rr::envelope_id)
        .distinct()
        .load(conn)?;
    let pending: i64 = rr::table
        .filter(rr::scope_id.eq(row.scope()))
        .filter(rr::decision.is_null())
        .count()
        .get_result(conn)?;
    let unread = unread.iter().filter(|e| !read.contains(e)).count();
    if unread > 0 || pending > 0 {
        return Err(ProcedureError::conflict(
            "redaction_undecided",
            format!(
                "art. 36 c.3: le richieste di oscuramento si decidono prima dell'aggiudicazione \
                 ({pending} da decidere, {unread} buste con richieste non ancora esaminate: pagina «Oscuramento»)"
            ),
        ));
    }
    Ok(())
}

/// The paragraph of the award's communication on the decisions (art. 36 c.3), empty when no
/// offer carried a request. Every recipient reads every decision: a bidder may challenge the
/// acceptance of another's request as well as the rejection of its own.
pub(crate) fn communication_paragraph(conn: &mut PgConnection, row: &Tender, at: DateTime<Utc>) -> Result<String> {
    let all = stored(conn, row, at)?;
    if all.is_empty() {
        return Ok(String::new());
    }
    let end = challenge_term_end(at, published(row));
    let lines: Vec<String> = all
        .iter()
        .map(|r| {
            let d = match r.state {
                RedactionState::Decided { decision } => decision.label(),
                _ => "non decisa",
            };
            format!(
                "operatore {}, busta {}, file «{}»: {d} ({})",
                r.bidder_id,
                r.kind,
                r.file,
                r.decision_reason.as_deref().unwrap_or("")
            )
        })
        .collect();
    Ok(format!(
        " Decisioni sulle richieste di oscuramento (art. 36 c.3): {}. Le decisioni sono impugnabili con ricorso \
         ai sensi dell'art. 116 c.p.a. entro il termine di dieci giorni dalla presente comunicazione (art. 36 c.4), \
         che scade il {}; fino ad allora le parti di cui l'oscuramento è stato respinto non sono ostese (art. 36 c.5).",
        lines.join("; "),
        domain::deadlines::rome_rfc3339(end - chrono::Duration::seconds(1))
    ))
}

/// Loads one request of the scope for an act of the RUP, locked.
fn locked(
    conn: &mut PgConnection,
    row: &Tender,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(RedactionRequest, Option<String>)> {
    let found: Option<(Uuid, Option<String>)> = rr::table
        .filter(rr::id.eq(id))
        .filter(rr::scope_id.eq(row.scope()))
        .select((rr::id, rr::redacted_copy))
        .for_update()
        .first(conn)
        .optional()?;
    let Some((_, copy)) = found else {
        return Err(ProcedureError::NotFound {
            what: "Richiesta di oscuramento",
        });
    };
    let r = stored(conn, row, now)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(ProcedureError::NotFound {
            what: "Richiesta di oscuramento",
        })?;
    Ok((r, copy))
}

fn require_official_rup(who: &Principal, row: &Tender) -> Result<()> {
    // Outside the ente (another ente's RUP, a supplier): 403 before any lookup, so the answer
    // says nothing about whether the request exists.
    if !is_insider(who, row) {
        return Err(ProcedureError::Forbidden);
    }
    require_rup(who, row)
}

fn transition_error(code: &'static str) -> ProcedureError {
    let message = match code {
        "redaction_decided" => "La richiesta di oscuramento è già stata decisa",
        "redaction_undecided" => "La richiesta di oscuramento non è ancora stata decisa",
        "challenge_recorded" => "Il ricorso su questa decisione è già stato registrato",
        "challenge_settled" => "L'esito del ricorso è già stato registrato",
        "challenge_missing" => "Nessun ricorso registrato su questa decisione",
        _ => "Operazione non consentita in questo stato",
    };
    ProcedureError::conflict(code, message)
}

/// The RUP decides one request (accepted / rejected) with a reason, after the ranking and
/// before the award; audited and logged (`aggiudicazione.oscuramento_deciso`). A second
/// decision is 409 `redaction_decided`; no reason is 422 `reason_required`; accepting a
/// request that names no redacted copy is 422 `redacted_copy_missing`.
pub fn decide(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &RedactionDecision,
) -> Result<RedactionRequest> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_official_rup(who, &row)?;
        let (req, copy) = locked(conn, &row, id, ctx.at)?;
        let next = req.state.decide(input.decision).map_err(transition_error)?;
        if communicated_at(conn, row.scope())?.is_some() {
            return Err(ProcedureError::conflict(
                "already_awarded",
                "art. 36 c.3: le richieste di oscuramento si decidono prima dell'aggiudicazione",
            ));
        }
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(ProcedureError::invalid(
                "reason_required",
                "reason",
                "Indicare la motivazione della decisione",
            ));
        }
        if input.decision == Verdict::Accepted && copy.is_none() {
            return Err(ProcedureError::invalid(
                "redacted_copy_missing",
                "decision",
                "La richiesta non indica una copia oscurata nella busta: si può solo respingere",
            ));
        }
        let n = diesel::update(rr::table.find(id).filter(rr::decision.is_null()))
            .set((
                rr::decision.eq(Some(input.decision.as_str())),
                rr::decision_reason.eq(Some(reason)),
                rr::decided_by.eq(Some(who.user_id)),
                rr::decided_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        if n != 1 {
            return Err(transition_error("redaction_decided"));
        }
        let _ = next;
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.oscuramento_deciso",
            serde_json::json!({ "request_id": id, "envelope_id": req.envelope_id, "bidder_id": req.bidder_id,
                                "file": req.file, "decision": input.decision, "reason": reason }),
        )?;
        one(conn, &row, id, ctx.at)
    })
}

fn one(conn: &mut PgConnection, row: &Tender, id: Uuid, now: DateTime<Utc>) -> Result<RedactionRequest> {
    stored(conn, row, now)?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(ProcedureError::NotFound {
            what: "Richiesta di oscuramento",
        })
}

/// The RUP records a ricorso notified against a decision (art. 36 c.4): after the award's
/// communication and before the term ends (409 `challenge_term_expired` after it: a rejected
/// part may already have been shown). The part stays hidden until the outcome is recorded.
pub fn record_challenge(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &ChallengeRecord,
) -> Result<RedactionRequest> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_official_rup(who, &row)?;
        let (req, _) = locked(conn, &row, id, ctx.at)?;
        req.state.challenge().map_err(transition_error)?;
        let Some(end) = term_end(conn, &row)? else {
            return Err(ProcedureError::conflict(
                "award_not_communicated",
                "Il ricorso si registra dopo la comunicazione dell'aggiudicazione (art. 36 c.4)",
            ));
        };
        if ctx.at >= end {
            return Err(ProcedureError::conflict(
                "challenge_term_expired",
                format!(
                    "art. 36 c.4: il termine per il ricorso è scaduto il {}",
                    domain::deadlines::rome_rfc3339(end)
                ),
            ));
        }
        let note = input.note.trim();
        if note.is_empty() {
            return Err(ProcedureError::invalid(
                "note_required",
                "note",
                "Indicare gli estremi del ricorso notificato",
            ));
        }
        let n = diesel::update(rr::table.find(id).filter(rr::challenge_at.is_null()))
            .set((
                rr::challenge_note.eq(Some(note)),
                rr::challenge_by.eq(Some(who.user_id)),
                rr::challenge_at.eq(Some(ctx.at)),
            ))
            .execute(conn)?;
        if n != 1 {
            return Err(transition_error("challenge_recorded"));
        }
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.oscuramento_ricorso",
            serde_json::json!({ "request_id": id, "envelope_id": req.envelope_id, "bidder_id": req.bidder_id,
                                "file": req.file, "note": note }),
        )?;
        one(conn, &row, id, ctx.at)
    })
}

/// The RUP records the outcome of the ricorso (`upheld` overturns the decision, `dismissed`
/// confirms it), with its reference; audited and logged.
pub fn settle_challenge(
    conn: &mut PgConnection,
    ctx: &AuditCtx,
    who: &Principal,
    bando: Uuid,
    id: Uuid,
    input: &ChallengeSettlement,
) -> Result<RedactionRequest> {
    conn.transaction(|conn| {
        let row = tender(conn, bando)?;
        require_official_rup(who, &row)?;
        let (req, _) = locked(conn, &row, id, ctx.at)?;
        req.state.settle(input.outcome).map_err(transition_error)?;
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(ProcedureError::invalid(
                "reason_required",
                "reason",
                "Indicare gli estremi della decisione del giudice",
            ));
        }
        let n = diesel::update(
            rr::table
                .find(id)
                .filter(rr::challenge_at.is_not_null())
                .filter(rr::challenge_outcome.is_null()),
        )
        .set((
            rr::challenge_outcome.eq(Some(input.outcome.as_str())),
            rr::challenge_outcome_reason.eq(Some(reason)),
            rr::challenge_outcome_by.eq(Some(who.user_id)),
            rr::challenge_outcome_at.eq(Some(ctx.at)),
        ))
        .execute(conn)?;
        if n != 1 {
            return Err(transition_error("challenge_settled"));
        }
        event(
            conn,
            ctx,
            &row,
            "aggiudicazione.oscuramento_ricorso_esito",
            serde_json::json!({ "request_id": id, "envelope_id": req.envelope_id, "bidder_id": req.bidder_id,
                                "file": req.file, "outcome": input.outcome, "reason": reason }),
        )?;
        one(conn, &row, id, ctx.at)
    })
}

/// What another bidder may read of an envelope that carries requests, file by file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessibleFile {
    pub name: String,
    pub available: bool,
    /// Why not (or, for a redacted copy, what it stands for), in Italian.
    pub note: Option<String>,
}

/// The files of envelope `envelope` (manifest `names`) as a bidder other than its owner may
/// read them at `now` (`now` None: as if the term had not passed).
pub(crate) fn files_for_others(
    conn: &mut PgConnection,
    row: &Tender,
    envelope: Uuid,
    names: &[String],
    now: Option<DateTime<Utc>>,
) -> Result<Vec<AccessibleFile>> {
    let at = now.unwrap_or(DateTime::<Utc>::MIN_UTC);
    let reqs: Vec<RedactionRequest> = stored(conn, row, at)?
        .into_iter()
        .filter(|r| r.envelope_id == envelope)
        .collect();
    Ok(names
        .iter()
        .map(|name| {
            let (available, note) = if reqs.is_empty() {
                (false, Some("richieste di oscuramento non ancora esaminate".to_string()))
            } else if name == REDACTION_NAME || reqs.iter().any(|r| r.evidence.contains(name)) {
                (
                    false,
                    Some("richiesta di oscuramento e sua comprova: riservate alla stazione appaltante".into()),
                )
            } else if let Some(r) = reqs.iter().find(|r| &r.file == name) {
                let open = reqs
                    .iter()
                    .filter(|x| &x.file == name)
                    .all(|x| x.state.original_disclosed(x.term_end, at));
                let note = if open {
                    format!("ostensibile: {}", r.label)
                } else {
                    match (r.state, r.term_end) {
                        (
                            RedactionState::Decided {
                                decision: Verdict::Rejected,
                            },
                            Some(end),
                        ) => format!(
                            "oscurato fino al termine per il ricorso ({}, art. 36 c.4–5): {}",
                            domain::deadlines::rome_rfc3339(end),
                            r.label
                        ),
                        _ => format!(
                            "oscurato: {}{}",
                            r.label,
                            r.redacted_copy
                                .as_ref()
                                .map(|c| format!("; si consulti la copia oscurata «{c}»"))
                                .unwrap_or_default()
                        ),
                    }
                };
                (open, Some(note))
            } else if let Some(r) = reqs.iter().find(|r| r.redacted_copy.as_deref() == Some(name.as_str())) {
                (true, Some(format!("copia oscurata di «{}»", r.file)))
            } else {
                (true, None)
            };
            AccessibleFile {
                name: name.clone(),
                available,
                note,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().expect("instant")
    }

    #[test]
    fn transitions_go_forward_only() {
        let p = RedactionState::Pending;
        let d = p.decide(Verdict::Rejected).expect("decide");
        assert_eq!(
            d,
            RedactionState::Decided {
                decision: Verdict::Rejected
            }
        );
        assert_eq!(d.decide(Verdict::Accepted), Err("redaction_decided"));
        assert_eq!(p.challenge(), Err("redaction_undecided"));
        assert_eq!(p.settle(ChallengeOutcome::Upheld), Err("challenge_missing"));
        assert_eq!(d.settle(ChallengeOutcome::Upheld), Err("challenge_missing"));
        let c = d.challenge().expect("challenge");
        assert_eq!(c.challenge(), Err("challenge_recorded"));
        assert_eq!(c.decide(Verdict::Accepted), Err("redaction_decided"));
        let s = c.settle(ChallengeOutcome::Dismissed).expect("settle");
        assert_eq!(s.settle(ChallengeOutcome::Upheld), Err("challenge_settled"));
        assert_eq!(s.challenge(), Err("challenge_recorded"));
    }

    #[test]
    fn the_original_is_shown_only_when_no_redaction_applies_any_more() {
        let end = utc(2026, 6, 20, 22);
        let (before, after) = (utc(2026, 6, 20, 21), utc(2026, 6, 20, 22));
        let rejected = RedactionState::Decided {
            decision: Verdict::Rejected,
        };
        let accepted = RedactionState::Decided {
            decision: Verdict::Accepted,
        };
        assert!(!RedactionState::Pending.original_disclosed(Some(end), after));
        assert!(!accepted.original_disclosed(Some(end), after));
        assert!(!rejected.original_disclosed(Some(end), before));
        assert!(rejected.original_disclosed(Some(end), after));
        assert!(!rejected.original_disclosed(None, after), "no communication, no term");
        for d in [Verdict::Accepted, Verdict::Rejected] {
            assert!(!RedactionState::Challenged { decision: d }.original_disclosed(Some(end), after));
        }
        let settled =
            |decision, outcome| RedactionState::Settled { decision, outcome }.original_disclosed(Some(end), after);
        assert!(settled(Verdict::Rejected, ChallengeOutcome::Dismissed));
        assert!(!settled(Verdict::Rejected, ChallengeOutcome::Upheld));
        assert!(settled(Verdict::Accepted, ChallengeOutcome::Upheld));
        assert!(!settled(Verdict::Accepted, ChallengeOutcome::Dismissed));
    }

    #[test]
    fn the_term_is_ten_days_to_the_end_of_a_working_day() {
        let published = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
        // Communicated Monday 8 June 2026 (Rome): the tenth day is Thursday 18 June; the term
        // ends at the following midnight, 19 June 00:00 Rome = 18 June 22:00Z.
        assert_eq!(challenge_term_end(utc(2026, 6, 8, 10), published), utc(2026, 6, 18, 22));
        // Communicated Wednesday 10 June: the tenth day is Saturday 20 June, which runs on to
        // Monday 22 June (art. 52 c.5 c.p.a.).
        assert_eq!(
            challenge_term_end(utc(2026, 6, 10, 10), published),
            utc(2026, 6, 22, 22)
        );
        // Communicated 5 August: the tenth day is 15 August (a Saturday and a holiday), which
        // runs on to Monday 17 August.
        assert_eq!(challenge_term_end(utc(2026, 8, 5, 10), published), utc(2026, 8, 17, 22));
    }

    #[test]
    fn sealed_requests_are_checked_against_the_envelope() {
        let names: Vec<String> = [
            "oscuramento.json",
            "relazione.pdf",
            "relazione-oscurata.pdf",
            "brevetto.pdf",
        ]
        .map(String::from)
        .to_vec();
        let ok = br#"{"requests":[{"file":"relazione.pdf","redacted_copy":"relazione-oscurata.pdf","reasons":"know-how","evidence":["brevetto.pdf","altro.pdf"]}]}"#;
        let p = parse_requests(ok, &names);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].defect, None);
        assert_eq!(p[0].evidence, vec!["brevetto.pdf".to_string()]);
        let bad = br#"{"requests":[{"file":"manca.pdf","redacted_copy":"manca.pdf","reasons":" "}]}"#;
        let p = parse_requests(bad, &names);
        let defect = p[0].defect.clone().expect("defect");
        assert!(
            defect.contains("non è nella busta") && defect.contains("motivazione"),
            "{defect}"
        );
        assert_eq!(p[0].redacted_copy, None);
        let p = parse_requests(b"not json", &names);
        assert_eq!(p[0].file, REDACTION_NAME);
        assert!(p[0].defect.is_some());
    }
}
