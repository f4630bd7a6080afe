//! The officials' back office under `/ente` (issue 13): the RUP runs a tender from the draft to
//! the award, custodians hold the tender's keys in their own browsers, the commission scores,
//! auditors read the trail. Every page calls the same domain functions as the API, so the
//! rules (who may act, in which state, in which order) are the domain's: a page shows what the
//! domain allows and nothing else.
//!
//! One module per area; the paths below are the only place they are spelled, so the pages
//! link to each other without knowing each other's code.

pub mod apertura;
pub mod audit;
pub mod bandi;
pub mod chiarimenti;
pub mod commissione;
pub mod cruscotto;
pub mod custodia;
pub mod lotti;
pub mod oscuramento;
pub mod rettifiche;
pub mod valutazione;

use actix_web::web;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cruscotto::configure(cfg);
    bandi::configure(cfg);
    chiarimenti::configure(cfg);
    rettifiche::configure(cfg);
    custodia::configure(cfg);
    apertura::configure(cfg);
    valutazione::configure(cfg);
    oscuramento::configure(cfg);
    commissione::configure(cfg);
    audit::configure(cfg);
}

/// The official's dashboard: what waits for this person.
pub const DASHBOARD: &str = "/ente";
/// The tenders of the official's enti, and the new draft.
pub const TENDERS: &str = "/ente/bandi";
pub const NEW_TENDER: &str = "/ente/bandi/nuovo";
/// The ente's audit trail (auditors, admins).
pub const AUDIT: &str = "/ente/registro";

/// The pages of one tender, by area.
pub fn tender(id: Uuid) -> String {
    format!("/ente/bandi/{id}")
}
pub fn tender_edit(id: Uuid) -> String {
    format!("/ente/bandi/{id}/modifica")
}
pub fn clarifications(id: Uuid) -> String {
    format!("/ente/bandi/{id}/chiarimenti")
}
pub fn rettifiche(id: Uuid) -> String {
    format!("/ente/bandi/{id}/rettifiche")
}
/// The key ceremony and, after the deadline, each custodian's opening share.
pub fn custody(id: Uuid) -> String {
    format!("/ente/bandi/{id}/custodia")
}
/// The opening session: envelopes A, B, C opened in order, the bids with their receipts.
pub fn opening(id: Uuid) -> String {
    format!("/ente/bandi/{id}/apertura")
}
/// Admissions, soccorso istruttorio, the economic phase, art. 110, ranking, award.
pub fn evaluation(id: Uuid) -> String {
    format!("/ente/bandi/{id}/valutazione")
}
/// The commissione giudicatrice: appointment, declarations, coefficients, closing.
pub fn commission(id: Uuid) -> String {
    format!("/ente/bandi/{id}/commissione")
}
/// The tender's timeline (every audit event of the tender, in order).
pub fn timeline(id: Uuid) -> String {
    format!("/ente/bandi/{id}/cronologia")
}
