//! A real SMTP server per [`crate::TestApp`] (mailin-embedded, plain SMTP on an ephemeral
//! loopback port) that captures every message it accepts, for assertions on what the
//! notification dispatcher sent. Never a mock: lettre talks SMTP over TCP to it.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use mailin_embedded::{response, Handler, Response, Server};

/// One message the server accepted: the SMTP envelope and the raw DATA.
#[derive(Debug, Clone)]
pub struct Mail {
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
    pub raw: Vec<u8>,
}

impl Mail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(&self.raw)
            .expect("a well-formed message")
    }

    /// The decoded Subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// The decoded plain-text body, with lines ending in `\n`.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.replace("\r\n", "\n"))
            .unwrap_or_default()
    }

    /// The To addresses of the header.
    pub fn to(&self) -> Vec<String> {
        let parsed = self.parsed();
        parsed
            .to()
            .map(|a| a.iter().filter_map(|m| m.address()).map(str::to_string).collect())
            .unwrap_or_default()
    }

    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_string()
    }

    /// A header's raw value, trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_string())
    }

    /// `type/subtype; charset` of the body, lowercase.
    pub fn content_type(&self) -> String {
        let parsed = self.parsed();
        parsed
            .content_type()
            .map(|ct| {
                format!(
                    "{}/{}; charset={}",
                    ct.ctype(),
                    ct.subtype().unwrap_or(""),
                    ct.attribute("charset").unwrap_or("")
                )
                .to_ascii_lowercase()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    messages: Vec<Mail>,
    refusing: bool,
}

/// The captured messages of one test's SMTP server.
#[derive(Clone)]
pub struct Mailbox {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Mailbox {
    /// Starts the server on `127.0.0.1:0`. Its thread serves until the test process ends.
    pub(crate) fn start() -> Mailbox {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the SMTP server");
        let addr = listener.local_addr().expect("SMTP address");
        let state = Arc::new(Mutex::new(State::default()));
        let handler = Session {
            state: state.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        std::thread::spawn(move || {
            let mut server = Server::new(handler);
            server
                .with_name("smtp.centrale.test")
                .with_num_threads(2)
                .with_tcp_listener(listener);
            let _ = server.serve();
        });
        Mailbox { addr, state }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A mailer for the app, talking plain SMTP to this server.
    pub fn mailer(&self) -> notify::Mailer {
        notify::Mailer::new(&notify::Config {
            smtp_host: self.addr.ip().to_string(),
            smtp_port: self.addr.port(),
            tls: notify::TlsMode::None,
            username: None,
            password: None,
            from: "Centrale di committenza <protocollo@pec.centrale.test>".into(),
            batch_size: 20,
            timeout: Duration::from_secs(5),
        })
        .expect("test mailer")
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Mail> {
        self.lock().messages.clone()
    }

    /// While set, every recipient is refused with `550 Mailbox unavailable`.
    pub fn set_refusing(&self, refusing: bool) {
        self.lock().refusing = refusing;
    }

    /// Waits (up to 10 s) until at least `n` messages arrived; returns them all.
    #[track_caller]
    pub fn wait_for(&self, n: usize) -> Vec<Mail> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, got {}",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// One SMTP session (the server clones the template per connection).
#[derive(Clone)]
struct Session {
    state: Arc<Mutex<State>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Session {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.from = from.to_string();
        self.to.clear();
        self.data.clear();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.state.lock().unwrap_or_else(PoisonError::into_inner).refusing {
            return response::NO_MAILBOX;
        }
        self.to.push(to.to_string());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let mail = Mail {
            envelope_from: std::mem::take(&mut self.from),
            envelope_to: std::mem::take(&mut self.to),
            raw: std::mem::take(&mut self.data),
        };
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .messages
            .push(mail);
        response::OK
    }
}
