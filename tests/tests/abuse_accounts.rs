//! Issue 11: holds under abuse (accounts and web hygiene), tried as an attacker would.

use journeys::TestApp;

fn headers_of(url: &str) -> ureq::Response {
    match ureq::get(url).call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    }
}

#[test]
fn every_answer_carries_the_security_headers_and_api_answers_are_never_cached() {
    let app = TestApp::start();
    // A success, a refusal (401 problem), an unknown route (404 problem): the headers hold on
    // every path an attacker can reach, not only on the happy one.
    for path in [
        "/healthz",
        "/api/v1/auth/me",
        "/api/v1/no-such-route",
        "/api/v1/openapi.json",
    ] {
        let r = headers_of(&format!("{}{path}", app.base_url));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
    }
    let docs = headers_of(&format!("{}/api/docs/", app.base_url));
    assert_eq!(docs.header("x-content-type-options"), Some("nosniff"));
    assert!(docs
        .header("content-security-policy")
        .is_some_and(|c| c.contains("frame-ancestors 'none'")));
}
