//! The portal over plain HTTP and its JavaScript, one module per file; the real-browser tests are a binary of their own (`make screenshots` runs only them).

mod admin_notifiche;
mod admin_pages;
mod js_unit;
mod official_audit;
mod official_bandi;
mod official_bandi_criteri;
mod official_commissione;
mod official_cruscotto;
mod official_custodia;
mod official_lotti;
mod official_oscuramento;
mod official_valutazione;
mod portal_core;
mod public_pages;
mod supplier_atti;
mod supplier_pages;
mod supplier_richieste;
