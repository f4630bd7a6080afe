//! The centrale's operators (admins), under `/amministrazione` (issue 13 point 1; this first
//! page serves the supplier journey of issue 12: the qualification of a new operatore in the
//! browser). Officials without the admin role get 403; anonymous visitors go to the login.

pub mod enti;
pub mod notifiche;
pub mod qualificazioni;
pub mod utenti;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    enti::configure(cfg);
    notifiche::configure(cfg);
    qualificazioni::configure(cfg);
    utenti::configure(cfg);
}
