//! The relay settings (filled from `[notify]` by the api's typed settings).

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::SmtpTransport;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::Error;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain SMTP (a relay on the same host or a test server only).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587); refused if not offered.
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
}

/// Everything the mailer needs. `password` is a `SecretString`: its Debug output is
/// redacted and it is exposed only to the SMTP client.
#[derive(Debug, Clone)]
pub struct Config {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: TlsMode,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. `Centrale di committenza <protocollo@pec.centrale.it>`.
    pub from: String,
    /// Most messages sent per scheduler tick.
    pub batch_size: u32,
    /// Connect/command timeout.
    pub timeout: Duration,
}

impl Config {
    pub(crate) fn transport(&self, hello_domain: &str) -> Result<SmtpTransport, Error> {
        let builder = match self.tls {
            TlsMode::None => SmtpTransport::builder_dangerous(&self.smtp_host),
            TlsMode::Starttls => SmtpTransport::starttls_relay(&self.smtp_host)?,
            TlsMode::Tls => SmtpTransport::relay(&self.smtp_host)?,
        };
        let mut builder = builder
            .port(self.smtp_port)
            .timeout(Some(self.timeout))
            .hello_name(ClientId::Domain(hello_domain.to_string()));
        if let Some(user) = self.username.as_deref().filter(|u| !u.is_empty()) {
            let password = self
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_string())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(user.to_string(), password));
        }
        Ok(builder.build())
    }
}

/// Parses the configured sender (`Name <address>` or a bare address).
pub(crate) fn parse_from(from: &str) -> Result<Mailbox, Error> {
    from.parse::<Mailbox>()
        .map_err(|e| Error::From(from.to_string(), e.to_string()))
}

/// Whether `from` is a usable sender address (for settings validation).
pub fn valid_from(from: &str) -> bool {
    parse_from(from).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(tls: TlsMode) -> Config {
        Config {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 2525,
            tls,
            username: Some("centrale".into()),
            password: Some(SecretString::from("hunter2-smtp".to_string())),
            from: "Centrale <protocollo@pec.centrale.test>".into(),
            batch_size: 10,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn every_tls_mode_builds_and_the_password_is_never_printed() {
        for tls in [TlsMode::None, TlsMode::Starttls, TlsMode::Tls] {
            let c = config(tls);
            let mailer = crate::Mailer::new(&c).expect("mailer");
            assert!(!format!("{c:?}").contains("hunter2"));
            assert!(!format!("{mailer:?}").contains("hunter2"));
        }
    }

    #[test]
    fn tls_modes_are_lowercase_words() {
        #[derive(Deserialize)]
        struct T {
            tls: TlsMode,
        }
        let t: T = serde_json::from_str(r#"{"tls":"starttls"}"#).expect("parse");
        assert_eq!(t.tls, TlsMode::Starttls);
        assert!(serde_json::from_str::<T>(r#"{"tls":"ssl"}"#).is_err());
    }

    #[test]
    fn the_sender_must_be_an_address() {
        assert!(valid_from("Centrale di committenza <protocollo@pec.centrale.test>"));
        assert!(valid_from("noreply@centrale.local"));
        assert!(!valid_from("centrale"));
        let mut c = config(TlsMode::None);
        c.from = "nessuno".into();
        assert!(crate::Mailer::new(&c).is_err());
    }
}
