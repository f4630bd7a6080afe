//! The pages every public administration site links from its footer: the accessibility
//! statement (L. 4/2004, AgID guidelines), the privacy notice (GDPR art. 13), legal notes.

use actix_web::{get, web, HttpResponse};
use askama::Template;

use crate::chrome::{Chrome, Section};
use crate::error::PortalError;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(accessibility).service(privacy).service(legal);
}

#[derive(Template)]
#[template(path = "info/accessibilita.html")]
struct Accessibility {
    chrome: Chrome,
}

#[derive(Template)]
#[template(path = "info/privacy.html")]
struct Privacy {
    chrome: Chrome,
}

#[derive(Template)]
#[template(path = "info/note-legali.html")]
struct Legal {
    chrome: Chrome,
}

#[get("/accessibilita")]
async fn accessibility(visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let chrome = Chrome::new(&visitor, "Dichiarazione di accessibilità", Section::Info)
        .crumb("Dichiarazione di accessibilità", None);
    super::render(&visitor, &Accessibility { chrome })
}

#[get("/privacy")]
async fn privacy(visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let chrome =
        Chrome::new(&visitor, "Informativa sulla privacy", Section::Info).crumb("Informativa sulla privacy", None);
    super::render(&visitor, &Privacy { chrome })
}

#[get("/note-legali")]
async fn legal(visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let chrome = Chrome::new(&visitor, "Note legali", Section::Info).crumb("Note legali", None);
    super::render(&visitor, &Legal { chrome })
}
