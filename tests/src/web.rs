//! A browser-like client for the portal's pages: keeps cookies, does not follow redirects (so
//! tests see each 303), fills forms with the CSRF token the page carries.

use serde_json::Value;

/// A page as tests look at it.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    /// `Location` of a redirect.
    pub location: Option<String>,
    pub content_type: String,
    pub csp: Option<String>,
    pub text: String,
}

impl Page {
    #[track_caller]
    pub fn expect(self, status: u16) -> Page {
        assert_eq!(self.status, status, "unexpected status; page: {}", self.text);
        self
    }

    /// The CSRF token of the page's forms (the hidden `_csrf` field, or the meta tag).
    #[track_caller]
    pub fn csrf(&self) -> String {
        for marker in ["name=\"_csrf\" value=\"", "<meta name=\"csrf-token\" content=\""] {
            if let Some(start) = self.text.find(marker) {
                let rest = &self.text[start + marker.len()..];
                return rest[..rest.find('"').expect("closing quote")].to_string();
            }
        }
        panic!("no CSRF token on the page: {}", self.text)
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }
}

pub struct WebClient {
    base: String,
    agent: ureq::Agent,
}

impl WebClient {
    pub fn new(base: &str) -> Self {
        WebClient {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new().redirects(0).build(),
        }
    }

    fn page(result: Result<ureq::Response, ureq::Error>) -> Page {
        let r = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("transport error: {e}"),
        };
        Page {
            status: r.status(),
            location: r.header("location").map(str::to_string),
            content_type: r.content_type().to_string(),
            csp: r.header("content-security-policy").map(str::to_string),
            text: r.into_string().unwrap_or_default(),
        }
    }

    pub fn get(&self, path: &str) -> Page {
        Self::page(self.agent.get(&format!("{}{path}", self.base)).call())
    }

    /// Posts a form as a browser does (`application/x-www-form-urlencoded`).
    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        Self::page(self.agent.post(&format!("{}{path}", self.base)).send_form(fields))
    }

    /// A JSON API call with the session cookie, as the portal's scripts make it.
    pub fn api(&self, method: &str, path: &str, csrf: Option<&str>, body: Option<&Value>) -> crate::Reply {
        let mut req = self.agent.request(method, &format!("{}{path}", self.base));
        if let Some(t) = csrf {
            req = req.set("X-CSRF-Token", t);
        }
        let result = match body {
            Some(b) => req.send_json(b),
            None => req.call(),
        };
        crate::Client::reply_of(result)
    }

    /// The value of a cookie this client holds for the server.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = url_of(&self.base);
        self.agent
            .cookie_store()
            .get(url.host_str().unwrap_or("127.0.0.1"), "/", name)
            .map(|c| c.value().to_string())
    }

    /// Logs in through the login form; panics unless it redirects.
    #[track_caller]
    pub fn login(&self, email: &str, password: &str) -> Page {
        let form = self.get("/accedi").expect(200);
        let csrf = form.csrf();
        self.post_form("/accedi", &[("_csrf", &csrf), ("email", email), ("password", password)])
            .expect(303)
    }
}

fn url_of(base: &str) -> url::Url {
    url::Url::parse(base).expect("base url")
}
