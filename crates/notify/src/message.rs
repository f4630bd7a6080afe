//! Building one message from one outbox row: UTF-8 plain text, Italian subject and body
//! as written by the domain crate, a Message-ID derived from the row id (the same on
//! every attempt), and the notification id and the object it concerns in headers.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{Address, Message};
use uuid::Uuid;

use crate::Error;

/// Carries the outbox row id, for tracing a message back to its row and audit event.
pub const NOTIFICATION_ID_HEADER: &str = "X-Centrale-Notification-Id";
/// `object_type/object_id` of the row (e.g. `operatore/…`).
pub const OBJECT_HEADER: &str = "X-Centrale-Object";

/// What is sent: the fields of an outbox row.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: Uuid,
    pub recipient_address: String,
    pub subject: String,
    pub body: String,
    pub object_type: String,
    pub object_id: String,
}

#[derive(Clone)]
struct NotificationId(String);

impl Header for NotificationId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(NOTIFICATION_ID_HEADER)
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Clone)]
struct Object(String);

impl Header for Object {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(OBJECT_HEADER)
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The Message-ID of a row: `<id@sender-domain>`.
pub fn message_id(id: Uuid, from: &Mailbox) -> String {
    format!("<{id}@{}>", from.email.domain())
}

/// Builds the message for `row`, dated `at`.
pub fn build_message(from: &Mailbox, row: &Outgoing, at: DateTime<Utc>) -> Result<(Message, String), Error> {
    let to: Address = row
        .recipient_address
        .trim()
        .parse()
        .map_err(|e: lettre::address::AddressError| Error::Recipient(row.recipient_address.clone(), e.to_string()))?;
    let id = message_id(row.id, from);
    let message = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(row.subject.clone())
        .date(SystemTime::from(at))
        .message_id(Some(id.clone()))
        .header(NotificationId(row.id.to_string()))
        .header(Object(format!("{}/{}", row.object_type, row.object_id)))
        .header(ContentType::TEXT_PLAIN)
        .body(row.body.clone())
        .map_err(|e| Error::Build(e.to_string()))?;
    Ok((message, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use mail_parser::{MessageParser, MimeHeaders};

    fn sender() -> Mailbox {
        "Centrale di committenza <protocollo@pec.centrale.test>"
            .parse()
            .expect("from")
    }

    fn row() -> Outgoing {
        Outgoing {
            id: Uuid::from_u128(0x1234),
            recipient_address: "00514490010@legalmail.it".into(),
            subject: "Qualificazione nell'albo: esito favorevole — «Alfa Costruzioni S.r.l.»".into(),
            body: "Gentile operatore,\nla Sua iscrizione è stata accolta. Città: Forlì.\n".into(),
            object_type: "operatore".into(),
            object_id: "abc".into(),
        }
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 4, 8, 0, 0).single().expect("instant")
    }

    #[test]
    fn a_row_becomes_a_utf8_plain_text_message_with_traceable_headers() {
        let (message, id) = build_message(&sender(), &row(), at()).expect("message");
        assert_eq!(id, "<00000000-0000-0000-0000-000000001234@pec.centrale.test>");
        let raw = message.formatted();
        // Transfer-safe: the non-ASCII text is encoded, never sent as raw 8-bit.
        assert!(raw.iter().all(u8::is_ascii), "{}", String::from_utf8_lossy(&raw));
        let parsed = MessageParser::default().parse(&raw).expect("parses");
        assert_eq!(parsed.subject(), Some(row().subject.as_str()));
        // Lines travel as CRLF, as SMTP requires.
        let text = parsed.body_text(0).expect("text").replace("\r\n", "\n");
        assert_eq!(text, row().body);
        assert_eq!(
            parsed.message_id(),
            Some("00000000-0000-0000-0000-000000001234@pec.centrale.test")
        );
        let to = parsed
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .expect("to");
        assert_eq!(to, "00514490010@legalmail.it");
        let from = parsed.from().and_then(|a| a.first()).expect("from");
        assert_eq!(from.name(), Some("Centrale di committenza"));
        assert_eq!(from.address(), Some("protocollo@pec.centrale.test"));
        assert_eq!(
            parsed.header_raw(NOTIFICATION_ID_HEADER).map(str::trim),
            Some("00000000-0000-0000-0000-000000001234")
        );
        assert_eq!(parsed.header_raw(OBJECT_HEADER).map(str::trim), Some("operatore/abc"));
        let ct = parsed.content_type().expect("content type");
        assert_eq!(ct.ctype(), "text");
        assert_eq!(ct.subtype(), Some("plain"));
        assert_eq!(
            ct.attribute("charset").map(str::to_ascii_lowercase).as_deref(),
            Some("utf-8")
        );
        assert_eq!(parsed.date().map(|d| d.to_timestamp()), Some(at().timestamp()));
    }

    #[test]
    fn the_message_id_is_the_same_on_every_attempt() {
        let (_, a) = build_message(&sender(), &row(), at()).expect("message");
        let (_, b) = build_message(&sender(), &row(), at() + chrono::Duration::minutes(5)).expect("message");
        assert_eq!(a, b);
    }

    #[test]
    fn a_malformed_recipient_is_an_error_naming_it() {
        let mut r = row();
        r.recipient_address = "non è un indirizzo".into();
        let err = build_message(&sender(), &r, at()).expect_err("must fail");
        assert!(err.to_string().contains("non è un indirizzo"), "{err}");
    }
}
