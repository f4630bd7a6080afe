//! `/fornitore/notifiche`: the messages the platform sent the supplier (qualification
//! decisions, rettifiche of tenders it bid on...), from the notifications outbox, its own only.

use actix_web::{get, web, HttpResponse};
use askama::Template;

use crate::chrome::Chrome;
use crate::error::PortalError;
use crate::forms;
use crate::session::Visitor;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

/// The newest notifications shown; older ones stay in the supplier's PEC box.
const SHOWN: i64 = 100;

pub struct NoticeView {
    pub subject: String,
    pub body: String,
    pub at_iso: String,
    pub at: String,
    pub sent: Option<String>,
    pub bando: Option<String>,
}

#[derive(Template)]
#[template(path = "supplier/notifiche.html")]
struct NoticesPage {
    chrome: Chrome,
    notices: Vec<NoticeView>,
}

#[get("/fornitore/notifiche")]
async fn page(state: web::Data<api::AppState>, visitor: Visitor) -> Result<HttpResponse, PortalError> {
    let user = visitor.require_supplier("/fornitore/notifiche")?.user_id;
    let notices = state
        .db(move |conn| notify::inbox::for_user(conn, user, SHOWN).map_err(registry::RegistryError::from))
        .await?
        .into_iter()
        .map(|n| NoticeView {
            bando: (n.object_type == "bando" && uuid::Uuid::parse_str(&n.object_id).is_ok())
                .then(|| n.object_id.clone()),
            subject: n.subject,
            body: n.body,
            at_iso: forms::iso(&n.created_at),
            at: forms::rome(&n.created_at),
            sent: n.sent_at.as_ref().map(forms::rome),
        })
        .collect();
    let page = NoticesPage {
        chrome: super::chrome(&visitor, "Notifiche"),
        notices,
    };
    super::super::render(&visitor, &page)
}
