//! Open data in the Open Contracting Data Standard (OCDS 1.1, with the bids, lots and
//! pagination extensions): one release per published tender, its current state, in a release
//! package ([`release_package`]), and the feed of all published tenders ([`feed`]). See
//! `docs/ocds.md`.
//!
//! Everything here is public at the instant it is built, and is built from the public readings
//! of the owning crates only: the tender as anonymous visitors read it
//! (`bando::service::get_public`, so drafts and procedures by invitation are not found), its
//! published versions (rettifiche), the award as `aggiudicazione::procedure::public_outcome`
//! publishes it (nothing at the proposal), and the count of bids received from
//! `offerte::public_stats` (nothing before the deadline). Before the submission deadline the
//! release says nothing about bids, not even whether there are any (art. 35 c.2 lett. a). After
//! it, the number of bids; after the award, the awardee. The other bidders are never named
//! (art. 36 gives access to their offers to the non-excluded bidders, not to the public).
//!
//! The output is deterministic: the same public facts give the same JSON, whatever the instant
//! of the request, except that crossing the deadline adds the bid count. Dates are those of
//! the facts (publication, rettifiche, state changes, deadline, award), never the request's.

use accounts::enti::Ente;
use aggiudicazione::procedure::public_outcome::{self, PublicAward};
use aggiudicazione::procedure::ProcedureError;
use bando::model::{
    AwardCriterion, Bando, ConductedBy, ContractType, DocumentKind, LotState, ProcedureType, PublicFilter, State,
};
use bando::BandoError;
use chrono::{DateTime, SecondsFormat, Utc};
use diesel::pg::PgConnection;
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The OCDS version of the packages (major.minor, as the schema wants it).
pub const OCDS_VERSION: &str = "1.1";

/// The extensions the releases use, by the URL of their `extension.json` (the versions whose
/// schemas `crates/documents/ocds-schema/` ships and the tests validate against).
pub const EXTENSIONS: [&str; 3] = [
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_pagination_extension/a0df51b5214325561d4efde52f775ea75271c683/extension.json",
];

/// Placeholder ocid prefix: not registered with the Open Contracting Partnership. A centrale
/// that publishes registers its own and sets `[ocds] ocid_prefix`.
pub const DEFAULT_OCID_PREFIX: &str = "ocds-ce36it";

/// The feed's default and largest page.
pub const FEED_DEFAULT_LIMIT: i64 = 20;
pub const FEED_MAX_LIMIT: i64 = 100;

/// Who publishes, and where (`[ocds]` and `[server] public_url` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    /// `ocds-` and the six characters the Open Contracting Partnership assigns.
    pub ocid_prefix: String,
    /// The publisher's name in every package.
    pub name: String,
    /// Public base URL (no trailing slash) of package URIs and document links.
    pub public_url: String,
    /// The data's license (a URI), if any.
    pub license: Option<String>,
}

impl Default for Publisher {
    fn default() -> Self {
        Publisher {
            ocid_prefix: DEFAULT_OCID_PREFIX.into(),
            name: "Centrale di committenza".into(),
            public_url: "http://127.0.0.1:8080".into(),
            license: None,
        }
    }
}

impl Publisher {
    fn base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The tender's Open Contracting ID: the prefix and the tender's id.
    pub fn ocid(&self, bando: Uuid) -> String {
        format!("{}-{bando}", self.ocid_prefix)
    }
}

/// The crate's refusals, with stable codes (mapped to HTTP at the edge).
#[derive(Debug, thiserror::Error)]
pub enum OcdsError {
    /// Not a published tender the public may read (drafts, procedures by invitation).
    #[error("{what} non trovato")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Invalid {
        code: &'static str,
        field: String,
        message: String,
    },
    /// A reading of another crate failed in a way that is not the caller's fault.
    #[error("{message}")]
    Upstream { code: &'static str, message: String },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl OcdsError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::Invalid { code, .. } | Self::Upstream { code, .. } => code,
            Self::Database(_) => "internal",
        }
    }
}

impl From<BandoError> for OcdsError {
    fn from(e: BandoError) -> Self {
        match e {
            BandoError::NotFound { what } => Self::NotFound { what },
            BandoError::Invalid { code, field, message } => Self::Invalid { code, field, message },
            BandoError::Database(d) => Self::Database(d),
            other => Self::Upstream {
                code: "bando_unavailable",
                message: other.to_string(),
            },
        }
    }
}

impl From<ProcedureError> for OcdsError {
    fn from(e: ProcedureError) -> Self {
        match e {
            ProcedureError::NotFound { what } => Self::NotFound { what },
            ProcedureError::Bando(b) => b.into(),
            ProcedureError::Database(d) => Self::Database(d),
            other => Self::Upstream {
                code: "award_unavailable",
                message: other.to_string(),
            },
        }
    }
}

impl From<offerte::OfferteError> for OcdsError {
    fn from(e: offerte::OfferteError) -> Self {
        match e {
            offerte::OfferteError::Database(d) => Self::Database(d),
            other => Self::Upstream {
                code: "bids_unavailable",
                message: other.to_string(),
            },
        }
    }
}

impl From<accounts::AccountsError> for OcdsError {
    fn from(e: accounts::AccountsError) -> Self {
        match e {
            accounts::AccountsError::Database(d) => Self::Database(d),
            accounts::AccountsError::NotFound { what } => Self::NotFound { what },
            other => Self::Upstream {
                code: "ente_unavailable",
                message: other.to_string(),
            },
        }
    }
}

/// One page of the feed: a release package and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct FeedPage {
    pub package: Value,
    /// Opaque; absent on the last page.
    pub next_cursor: Option<String>,
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An amount as a JSON number (OCDS `Value.amount` is a number): the decimal's shortest form.
fn amount(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

fn money(d: Decimal) -> Value {
    json!({ "amount": amount(d), "currency": "EUR" })
}

fn put(obj: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(v) = value {
        obj.insert(key.into(), v);
    }
}

/// OCDS `procurementMethod` (open, selective, limited, direct) and the Italian name.
fn method(p: ProcedureType) -> (&'static str, &'static str) {
    match p {
        ProcedureType::Aperta => ("open", "Procedura aperta (art. 71)"),
        ProcedureType::Ristretta => ("selective", "Procedura ristretta (art. 72)"),
        ProcedureType::CompetitivaConNegoziazione => ("selective", "Procedura competitiva con negoziazione (art. 73)"),
        ProcedureType::NegoziataSenzaBando => ("limited", "Procedura negoziata senza bando (art. 50 c.1 lett. c-e)"),
        ProcedureType::AffidamentoDiretto => ("direct", "Affidamento diretto (art. 50 c.1 lett. a-b)"),
    }
}

fn category(c: ContractType) -> &'static str {
    match c {
        ContractType::Works => "works",
        ContractType::Services => "services",
        ContractType::Supplies => "goods",
    }
}

fn criteria(c: AwardCriterion) -> (&'static str, &'static str) {
    match c {
        AwardCriterion::MinorPrezzo => ("priceOnly", "Minor prezzo (art. 108 c.3)"),
        AwardCriterion::Oepv => (
            "ratedCriteria",
            "Offerta economicamente più vantaggiosa, miglior rapporto qualità/prezzo (art. 108 c.1)",
        ),
    }
}

/// OCDS tender status (closed codelist) of the tender's state: the whole procedure, from the
/// publication to the decision, is `active`.
pub fn tender_status(s: State) -> Option<&'static str> {
    match s {
        State::Draft => None,
        State::Published | State::SubmissionsClosed | State::Opening | State::Evaluation | State::ProposedAward => {
            Some("active")
        }
        State::Awarded | State::Effective => Some("complete"),
        State::Cancelled => Some("cancelled"),
        State::Deserted => Some("unsuccessful"),
    }
}

fn lot_status(s: LotState) -> &'static str {
    match s {
        LotState::Active | LotState::ProposedAward => "active",
        LotState::Awarded | LotState::Effective => "complete",
        LotState::Deserted => "unsuccessful",
        LotState::Cancelled => "cancelled",
    }
}

fn document_type(k: DocumentKind) -> (&'static str, &'static str) {
    match k {
        DocumentKind::Disciplinare => ("biddingDocuments", "Disciplinare di gara"),
        DocumentKind::Capitolato => ("technicalSpecifications", "Capitolato"),
        DocumentKind::Allegato => ("biddingDocuments", "Allegato"),
    }
}

fn ente_party_id(e: &Ente) -> String {
    format!("IT-CF-{}", e.codice_fiscale)
}

fn ente_party(e: &Ente, roles: &[&str]) -> Value {
    let mut address = Map::new();
    put(&mut address, "locality", e.comune.clone().map(Value::from));
    address.insert("countryName".into(), "Italia".into());
    json!({
        "id": ente_party_id(e),
        "name": e.nome,
        "identifier": { "scheme": "IT-CF", "id": e.codice_fiscale, "legalName": e.nome },
        "address": address,
        "contactPoint": { "email": e.pec },
        "roles": roles,
    })
}

fn supplier_party_id(a: &PublicAward) -> String {
    format!("IT-IVA-{}", a.partita_iva)
}

/// The releases' content hash names the release: the same facts give the same id, any change
/// a new one (OCDS: a release id is unique within its ocid).
fn release_id(release: &Value) -> String {
    let text = serde_json::to_string(release).unwrap_or_default();
    hex::encode(&Sha256::digest(text.as_bytes())[..12])
}

/// The tender's current release, as public at `now`. `tender` is the public reading
/// (`bando::service::get_public` with no principal).
pub fn release(
    conn: &mut PgConnection,
    publisher: &Publisher,
    tender: &Bando,
    now: DateTime<Utc>,
) -> Result<Value, OcdsError> {
    let published_at = tender.published_at.ok_or(OcdsError::NotFound { what: "Bando" })?;
    let status = tender_status(tender.state).ok_or(OcdsError::NotFound { what: "Bando" })?;
    let versions = bando::service::versions(conn, None, tender.id)?;
    let history = bando::store::history(conn, tender.id)?;
    let awards = public_outcome::public_awards(conn, None, tender.id)?;
    let counts = offerte::public_stats::bids_received(conn, tender.id, now)?;
    let ente = accounts::enti::find(conn, tender.ente_id)?;
    let runner = match (tender.conducted_by, tender.runner_ente_id) {
        (ConductedBy::Centrale, Some(r)) if r != tender.ente_id => Some(accounts::enti::find(conn, r)?),
        _ => None,
    };

    // The release's date: the latest public fact it carries.
    let mut date = published_at;
    let mut later = |at: DateTime<Utc>| {
        if at > date && at <= now {
            date = at;
        }
    };
    versions.iter().for_each(|v| later(v.published_at));
    history
        .iter()
        .filter(|h| h.occurred_at >= published_at)
        .for_each(|h| later(h.occurred_at));
    if let Some((deadline, _)) = &counts {
        later(*deadline);
    }
    awards.iter().for_each(|a| later(a.awarded_at));

    // Parties: the ente on whose behalf (buyer), who runs the procedure, the awardees.
    let mut parties = Vec::new();
    let procuring = match &runner {
        Some(c) => {
            parties.push(ente_party(&ente, &["buyer"]));
            parties.push(ente_party(c, &["procuringEntity"]));
            c
        }
        None => {
            parties.push(ente_party(&ente, &["buyer", "procuringEntity"]));
            &ente
        }
    };
    let mut seen = Vec::new();
    for a in &awards {
        let id = supplier_party_id(a);
        if seen.contains(&id) {
            continue;
        }
        seen.push(id.clone());
        parties.push(json!({
            "id": id,
            "name": a.ragione_sociale,
            "identifier": { "scheme": "IT-IVA", "id": a.partita_iva, "legalName": a.ragione_sociale },
            "roles": ["supplier", "tenderer"],
        }));
    }

    let (method_code, method_details) = method(tender.procedure_type);
    let (criteria_code, criteria_details) = criteria(tender.award_criterion);
    let classification = json!({
        "scheme": "CPV",
        "id": tender.cpv_main,
        "description": tender.cpv_main_label,
    });
    let additional: Vec<Value> = tender
        .cpv_additional
        .iter()
        .map(|c| json!({ "scheme": "CPV", "id": c }))
        .collect();
    let item = |id: String, description: &str, lot: Option<Uuid>| {
        let mut it = Map::new();
        it.insert("id".into(), id.into());
        it.insert("description".into(), description.into());
        it.insert("classification".into(), classification.clone());
        if !additional.is_empty() {
            it.insert("additionalClassifications".into(), additional.clone().into());
        }
        put(&mut it, "relatedLot", lot.map(|l| l.to_string().into()));
        Value::Object(it)
    };
    let items: Vec<Value> = if tender.lotti.is_empty() {
        vec![item("1".into(), &tender.oggetto, None)]
    } else {
        tender
            .lotti
            .iter()
            .map(|l| item(l.numero.to_string(), &l.oggetto, Some(l.id)))
            .collect()
    };

    let mut description = Vec::new();
    if let Some(cig) = &tender.cig {
        description.push(format!("CIG {cig}"));
    }
    if let Some(cup) = &tender.cup {
        description.push(format!("CUP {cup}"));
    }
    description.push(format!("NUTS {}", tender.nuts));
    description.push(format!("Stato: {}", tender.state.as_str()));
    let mut t = Map::new();
    t.insert("id".into(), tender.id.to_string().into());
    t.insert("title".into(), tender.oggetto.clone().into());
    t.insert("description".into(), description.join("; ").into());
    t.insert("status".into(), status.into());
    t.insert(
        "procuringEntity".into(),
        json!({ "id": ente_party_id(procuring), "name": procuring.nome }),
    );
    t.insert("items".into(), items.into());
    t.insert("value".into(), money(tender.base_amount));
    t.insert("procurementMethod".into(), method_code.into());
    t.insert("procurementMethodDetails".into(), method_details.into());
    t.insert("mainProcurementCategory".into(), category(tender.contract_type).into());
    t.insert("awardCriteria".into(), criteria_code.into());
    t.insert("awardCriteriaDetails".into(), criteria_details.into());
    t.insert("submissionMethod".into(), json!(["electronicSubmission"]));
    let mut period = Map::new();
    period.insert("startDate".into(), utc(published_at).into());
    put(
        &mut period,
        "endDate",
        tender.submission_deadline.as_ref().map(|d| utc(d.utc).into()),
    );
    t.insert("tenderPeriod".into(), period.into());
    if let Some(q) = &tender.questions_deadline {
        t.insert(
            "enquiryPeriod".into(),
            json!({ "startDate": utc(published_at), "endDate": utc(q.utc) }),
        );
        t.insert("hasEnquiries".into(), true.into());
    }
    if let Some((_, c)) = &counts {
        t.insert("numberOfTenderers".into(), c.bidders.into());
    }
    if !tender.lotti.is_empty() {
        let lots: Vec<Value> = tender
            .lotti
            .iter()
            .map(|l| {
                json!({
                    "id": l.id.to_string(),
                    "title": format!("Lotto {}: {}", l.numero, l.oggetto),
                    "description": format!("CIG {}", l.cig),
                    "status": lot_status(l.state),
                    "value": money(l.base_amount),
                })
            })
            .collect();
        t.insert("lots".into(), lots.into());
    }
    let documents: Vec<Value> = tender
        .documenti
        .iter()
        .map(|d| {
            let (kind, label) = document_type(d.kind);
            json!({
                "id": d.id.to_string(),
                "documentType": kind,
                "title": d.filename,
                "description": format!("{label}; SHA-256 {}; {} byte; versione {} del bando", d.sha256, d.size_bytes, d.version.max(1)),
                "url": format!("{}/api/v1/public/bandi/{}/documenti/{}", publisher.base(), tender.id, d.id),
                "datePublished": utc(d.uploaded_at.max(published_at)),
                "format": d.content_type,
                "language": "it",
            })
        })
        .collect();
    if !documents.is_empty() {
        t.insert("documents".into(), documents.into());
    }
    let amendments: Vec<Value> = versions
        .iter()
        .filter(|v| v.version > 1)
        .map(|v| {
            let changes: Vec<String> = v
                .changes
                .iter()
                .map(|c| format!("{}: {} → {}", c.field, c.from, c.to))
                .collect();
            let mut a = Map::new();
            a.insert("id".into(), format!("rettifica-{}", v.version).into());
            a.insert("date".into(), utc(v.published_at).into());
            put(&mut a, "rationale", v.reason.clone().map(Value::from));
            if !changes.is_empty() {
                a.insert("description".into(), changes.join("; ").into());
            }
            Value::Object(a)
        })
        .collect();
    if !amendments.is_empty() {
        t.insert("amendments".into(), amendments.into());
    }

    let mut r = Map::new();
    r.insert("ocid".into(), publisher.ocid(tender.id).into());
    r.insert("date".into(), utc(date).into());
    let mut tag = vec![if tender.state == State::Cancelled {
        "tenderCancellation"
    } else if tender.version > 1 {
        "tenderAmendment"
    } else {
        "tender"
    }];
    if !awards.is_empty() {
        tag.push("award");
    }
    r.insert("tag".into(), json!(tag));
    r.insert("initiationType".into(), "tender".into());
    r.insert("language".into(), "it".into());
    r.insert("buyer".into(), json!({ "id": ente_party_id(&ente), "name": ente.nome }));
    r.insert("parties".into(), parties.into());
    r.insert("tender".into(), t.into());

    // Bids: nothing before the deadline; then the count; the awardee's bid after the award.
    if let Some((deadline, c)) = &counts {
        let mut statistics = Vec::new();
        let total: i64 = c.scopes.iter().map(|s| s.bids).sum();
        statistics.push(json!({ "id": "bids", "measure": "bids", "value": total, "date": utc(*deadline) }));
        statistics.push(json!({ "id": "bidders", "measure": "bidders", "value": c.bidders, "date": utc(*deadline) }));
        for l in &tender.lotti {
            let n = c.scopes.iter().find(|s| s.lotto == Some(l.id)).map_or(0, |s| s.bids);
            statistics.push(json!({
                "id": format!("bids-lotto-{}", l.numero), "measure": "bids", "value": n,
                "date": utc(*deadline), "relatedLot": l.id.to_string(),
            }));
        }
        let mut bids = Map::new();
        bids.insert("statistics".into(), statistics.into());
        let details: Vec<Value> = awards
            .iter()
            .map(|a| {
                let mut b = Map::new();
                b.insert("id".into(), format!("{}-aggiudicataria", a.scope_id).into());
                b.insert("status".into(), "valid".into());
                b.insert(
                    "tenderers".into(),
                    json!([{ "id": supplier_party_id(a), "name": a.ragione_sociale }]),
                );
                if a.lotto.is_some() {
                    b.insert("relatedLots".into(), json!([a.scope_id.to_string()]));
                }
                Value::Object(b)
            })
            .collect();
        if !details.is_empty() {
            bids.insert("details".into(), details.into());
        }
        r.insert("bids".into(), bids.into());
    }
    if !awards.is_empty() {
        let list: Vec<Value> = awards
            .iter()
            .map(|a| {
                let mut aw = Map::new();
                aw.insert("id".into(), a.scope_id.to_string().into());
                aw.insert(
                    "title".into(),
                    match a.lotto {
                        Some(n) => format!("Aggiudicazione del lotto {n}"),
                        None => "Aggiudicazione".to_string(),
                    }
                    .into(),
                );
                if let Some(d) = a.awarded_discount {
                    aw.insert(
                        "description".into(),
                        format!(
                            "Ribasso di aggiudicazione {d}%; offerte ammesse alla procedura: {}",
                            a.participants
                        )
                        .into(),
                    );
                }
                aw.insert("status".into(), "active".into());
                aw.insert("date".into(), utc(a.awarded_at).into());
                put(&mut aw, "value", a.contract_amount.map(money));
                aw.insert(
                    "suppliers".into(),
                    json!([{ "id": supplier_party_id(a), "name": a.ragione_sociale }]),
                );
                aw.insert("relatedBid".into(), format!("{}-aggiudicataria", a.scope_id).into());
                if a.lotto.is_some() {
                    aw.insert("relatedLots".into(), json!([a.scope_id.to_string()]));
                }
                Value::Object(aw)
            })
            .collect();
        r.insert("awards".into(), list.into());
    }
    let id = release_id(&Value::Object(r.clone()));
    r.insert("id".into(), format!("{}-{id}", tender.id).into());
    Ok(Value::Object(r))
}

fn package(publisher: &Publisher, uri: String, releases: Vec<Value>, next: Option<String>) -> Value {
    // On demand: the package's date is that of its latest content (OCDS `publishedDate`).
    let published = releases
        .iter()
        .filter_map(|r| r["date"].as_str())
        .max()
        .map(str::to_string)
        .unwrap_or_else(|| utc(DateTime::<Utc>::UNIX_EPOCH));
    let mut p = Map::new();
    p.insert("uri".into(), uri.into());
    p.insert("version".into(), OCDS_VERSION.into());
    p.insert("extensions".into(), json!(EXTENSIONS));
    p.insert("publishedDate".into(), published.into());
    p.insert("publisher".into(), json!({ "name": publisher.name }));
    put(&mut p, "license", publisher.license.clone().map(Value::from));
    p.insert("releases".into(), releases.into());
    if let Some(n) = next {
        p.insert("links".into(), json!({ "next": n }));
    }
    Value::Object(p)
}

/// The release package of one published tender (one release, its current state), as public at
/// `now`: drafts and procedures by invitation are `NotFound`, as on the public pages.
pub fn release_package(
    conn: &mut PgConnection,
    publisher: &Publisher,
    bando: Uuid,
    now: DateTime<Utc>,
) -> Result<Value, OcdsError> {
    let tender = bando::service::get_public(conn, None, bando)?;
    let r = release(conn, publisher, &tender, now)?;
    Ok(package(
        publisher,
        format!("{}/api/v1/bandi/{bando}/ocds", publisher.base()),
        vec![r],
        None,
    ))
}

/// One page of the feed of published tenders, newest publication first (then id), keyset
/// paginated on `(published_at, id)` by `bando::service::list_public`: a tender published
/// while a client pages lands before its first page, so the pages it reads hold no duplicate
/// and skip nothing that existed when it started. `limit` 1–100 (default 20).
pub fn feed(
    conn: &mut PgConnection,
    publisher: &Publisher,
    cursor: Option<String>,
    limit: Option<i64>,
    now: DateTime<Utc>,
) -> Result<FeedPage, OcdsError> {
    let limit = limit.unwrap_or(FEED_DEFAULT_LIMIT);
    if !(1..=FEED_MAX_LIMIT).contains(&limit) {
        return Err(OcdsError::Invalid {
            code: "limit_invalid",
            field: "limit".into(),
            message: format!("limit deve essere tra 1 e {FEED_MAX_LIMIT}"),
        });
    }
    let filter = PublicFilter {
        cursor: cursor.clone(),
        limit: Some(limit),
        ..PublicFilter::default()
    };
    let page = bando::service::list_public(conn, None, &filter)?;
    let mut releases = Vec::with_capacity(page.items.len());
    for t in &page.items {
        releases.push(release(conn, publisher, t, now)?);
    }
    let here = format!("{}/api/v1/ocds/releases?limit={limit}", publisher.base());
    let uri = match &cursor {
        Some(c) => format!("{here}&cursor={c}"),
        None => here.clone(),
    };
    let next = page.next_cursor.as_ref().map(|c| format!("{here}&cursor={c}"));
    Ok(FeedPage {
        package: package(publisher, uri, releases, next),
        next_cursor: page.next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_json_numbers_in_their_shortest_form() {
        assert_eq!(amount(Decimal::new(100_000_000, 2)), json!(1_000_000));
        assert_eq!(amount(Decimal::new(12_345_678, 2)), json!(123_456.78));
        assert_eq!(money(Decimal::new(5, 1)), json!({ "amount": 0.5, "currency": "EUR" }));
    }

    #[test]
    fn every_state_after_the_draft_has_an_ocds_status() {
        for s in State::ALL {
            assert_eq!(tender_status(*s).is_none(), *s == State::Draft, "{s}");
        }
        assert_eq!(tender_status(State::Deserted), Some("unsuccessful"));
        assert_eq!(tender_status(State::Evaluation), Some("active"));
        assert_eq!(tender_status(State::Awarded), Some("complete"));
    }

    #[test]
    fn the_release_id_follows_the_content() {
        let a = json!({ "tender": { "status": "active" } });
        let b = json!({ "tender": { "status": "complete" } });
        assert_eq!(release_id(&a), release_id(&a.clone()));
        assert_ne!(release_id(&a), release_id(&b));
        assert_eq!(release_id(&a).len(), 24);
    }
}
