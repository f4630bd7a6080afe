//! Delivery of the notifications outbox.
//!
//! Domain crates write their messages (Italian subject and body, the recipient's PEC or
//! e-mail address) into `notifications_outbox` in the same transaction as the change they
//! announce. This crate sends them: [`dispatch`] claims due rows one at a time with
//! `FOR UPDATE SKIP LOCKED` (so two server instances never send the same row), sends each
//! through the configured SMTP relay with `lettre` (for PEC addresses the centrale's PEC
//! provider is an SMTP relay too), and in the same transaction either marks it sent and
//! writes a `notify.delivered` audit event, or counts the attempt, keeps the error and
//! schedules the next attempt with a growing backoff ([`backoff`]).
//!
//! Delivery is at least once: if the database cannot record a delivery the relay accepted,
//! the row is sent again later with the same `Message-ID`, so recipients can tell.

mod config;
mod dispatch;
pub mod inbox;
mod message;
pub mod retry;
pub mod schema;

pub use config::{valid_from, Config, TlsMode};
pub use dispatch::{backoff, dispatch, Report, AUDIT_ACTION};
pub use message::{build_message, Outgoing, NOTIFICATION_ID_HEADER, OBJECT_HEADER};

/// What can go wrong building the mailer or one message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid sender address `{0}`: {1}")]
    From(String, String),
    #[error("invalid recipient address `{0}`: {1}")]
    Recipient(String, String),
    #[error("cannot build the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// The SMTP relay and the sender, built once at start-up from the settings.
pub struct Mailer {
    transport: lettre::SmtpTransport,
    from: lettre::message::Mailbox,
    batch_size: u32,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(config: &Config) -> Result<Self, Error> {
        let from = config::parse_from(&config.from)?;
        let transport = config.transport(from.email.domain())?;
        Ok(Self {
            transport,
            from,
            batch_size: config.batch_size.max(1),
        })
    }

    pub fn from(&self) -> &lettre::message::Mailbox {
        &self.from
    }

    /// Sends one message; returns the relay's reply on success.
    fn send(&self, message: &lettre::Message) -> Result<String, Error> {
        use lettre::Transport;
        let reply = self.transport.send(message)?;
        Ok(format!(
            "{} {}",
            reply.code(),
            reply.message().collect::<Vec<_>>().join(" ")
        ))
    }
}
