//! `/trasparenza`: the transparency log as the public reads it (the latest signed checkpoint,
//! the keys to pin, the API's proof endpoints), and `/trasparenza/verifica`: checking a
//! receipt in the browser (`/static/js/verify.js`), or offline with `centrale verify`.

use actix_web::{get, web, HttpResponse};
use askama::Template;
use sha2::{Digest, Sha256};

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::forms;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(registro).service(verifica);
}

/// The checkpoint's body (C2SP tlog-checkpoint): origin, tree size, root hash, then the
/// signature lines of the note after a blank line.
pub struct Checkpoint {
    pub origin: String,
    pub size: String,
    pub root_hash: String,
    pub note: String,
    pub iso: String,
    pub rome: String,
}

impl Checkpoint {
    fn of(cp: &offerte::log::StoredCheckpoint) -> Self {
        let mut lines = cp.note.lines();
        Checkpoint {
            origin: lines.next().unwrap_or_default().to_string(),
            size: lines.next().unwrap_or_default().to_string(),
            root_hash: lines.next().unwrap_or_default().to_string(),
            note: cp.note.clone(),
            iso: forms::iso(&cp.created_at),
            rome: forms::rome(&cp.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "public/trasparenza.html")]
struct Registro {
    chrome: Chrome,
    checkpoint: Option<Checkpoint>,
    tree_size: u64,
    origin: String,
    log_key: String,
    log_key_id: String,
    platform_key: String,
    platform_fingerprint: String,
}

#[derive(Template)]
#[template(path = "public/verifica.html")]
struct Verifica {
    chrome: Chrome,
    /// The keys the page checks against, whatever keys a bundle carries: a bundle signed with
    /// any other key (a forged receipt, made self-consistent) fails its signature check here.
    platform_key: String,
    platform_fingerprint: String,
    log_key: String,
}

#[get("/trasparenza")]
async fn registro(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let latest = state
        .db(|conn| match offerte::log::checkpoint(conn, None) {
            Ok(cp) => Ok(Some(cp)),
            // An empty log has no checkpoint yet: the page says so.
            Err(offerte::OfferteError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    let log_key = state.seal.log_verifier().to_vkey();
    // The vkey is `name+keyhash+key`: its first two parts identify the key at a glance.
    let log_key_id = log_key
        .rsplit_once('+')
        .map(|(id, _)| id.to_string())
        .unwrap_or_default();
    let page = Registro {
        chrome: Chrome::new(&visitor, "Registro pubblico delle buste", Section::Trasparenza)
            .crumb("Registro pubblico delle buste", None),
        tree_size: latest.as_ref().map(|c| c.tree_size).unwrap_or(0),
        checkpoint: latest.as_ref().map(Checkpoint::of),
        origin: state.seal.origin().to_string(),
        platform_key: state.seal.public_key_b64(),
        platform_fingerprint: hex::encode(Sha256::digest(state.seal.public_key().as_bytes())),
        log_key_id,
        log_key,
    };
    super::super::render(&visitor, &page)
}

#[get("/trasparenza/verifica")]
async fn verifica(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let chrome = Chrome::new(&visitor, "Verifica una ricevuta", Section::Trasparenza)
        .crumb("Registro pubblico delle buste", Some("/trasparenza"))
        .crumb("Verifica una ricevuta", None);
    let page = Verifica {
        chrome,
        platform_key: state.seal.public_key_b64(),
        platform_fingerprint: hex::encode(Sha256::digest(state.seal.public_key().as_bytes())),
        log_key: state.seal.log_verifier().to_vkey(),
    };
    super::super::render(&visitor, &page)
}
