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

// ---------------------------------------------------------------------------------------------
// Login (issue 11 point 1) and accounts that end (point 2).

use std::sync::{Arc, Barrier};

use journeys::serde_json::{json, Value};
use journeys::tender_world::{official, world, world_with, PASSWORD};
use journeys::{Client, Reply};

const RUP: &str = "rup@comune.milano.it";

fn login(app: &TestApp, email: &str, password: &str) -> Reply {
    app.client()
        .post("/api/v1/auth/login", &json!({ "email": email, "password": password }))
}

fn token_of(reply: Reply) -> String {
    reply.expect(200)["token"].as_str().expect("token").to_string()
}

fn count(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    let mut conn = PgConnection::establish(&app.db_url).expect("database");
    diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("({sql})")))
        .get_result(&mut conn)
        .expect("count")
}

fn audited(app: &TestApp, action: &str, object_id: &str) -> i64 {
    count(
        app,
        &format!("SELECT count(*) FROM audit_events WHERE action = '{action}' AND object_id = '{object_id}'"),
    )
}

/// What a caller can compare between two answers: everything but the request id.
fn shape(r: &Reply) -> (u16, String, Option<String>, Value) {
    let mut body = r.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("request_id");
    }
    (r.status, r.content_type.clone(), r.retry_after.clone(), body)
}

#[test]
fn five_failures_lock_the_account_even_for_the_right_password_until_the_lock_ends() {
    let w = world();
    for _ in 0..5 {
        login(&w.app, RUP, "password-sbagliata").expect_problem(401, "invalid_credentials");
    }
    // Locked: the right password is refused too, with the time to wait.
    let locked = login(&w.app, RUP, PASSWORD);
    assert_eq!(locked.retry_after.as_deref(), Some("900"), "{}", locked.text);
    locked.expect_problem(429, "too_many_attempts");
    w.app.clock.advance(chrono::Duration::minutes(10));
    let still = login(&w.app, RUP, PASSWORD);
    assert_eq!(still.retry_after.as_deref(), Some("300"));
    still.expect_problem(429, "too_many_attempts");
    w.app.clock.advance(chrono::Duration::minutes(5));
    login(&w.app, RUP, PASSWORD).expect(200);
    // The second lock lasts twice as long.
    for _ in 0..5 {
        login(&w.app, RUP, "password-sbagliata").expect_problem(401, "invalid_credentials");
    }
    let again = login(&w.app, RUP, PASSWORD);
    assert_eq!(again.retry_after.as_deref(), Some("1800"));
    again.expect_problem(429, "too_many_attempts");
    // Failures spread wider than the window never lock.
    let custode = "custode@comune.milano.it";
    for _ in 0..8 {
        login(&w.app, custode, "password-sbagliata").expect_problem(401, "invalid_credentials");
        w.app.clock.advance(chrono::Duration::minutes(4));
    }
    login(&w.app, custode, PASSWORD).expect(200);
    // Audited: every failure and both locks, never the password.
    assert_eq!(audited(&w.app, "login.failed", &w.rup_id), 10);
    assert_eq!(audited(&w.app, "login.locked", &w.rup_id), 2);
    assert_eq!(
        count(
            &w.app,
            "SELECT count(*) FROM audit_events WHERE details::text LIKE '%sbagliata%'"
        ),
        0
    );
}

#[test]
fn a_locked_unknown_email_answers_exactly_like_a_locked_known_one() {
    let w = world();
    let unknown = "nessuno@comune.milano.it";
    for _ in 0..5 {
        let known = login(&w.app, RUP, "password-sbagliata");
        let other = login(&w.app, unknown, "password-sbagliata");
        assert_eq!(shape(&known), shape(&other));
        known.expect_problem(401, "invalid_credentials");
    }
    let known = login(&w.app, RUP, PASSWORD);
    let other = login(&w.app, unknown, PASSWORD);
    assert_eq!(shape(&known), shape(&other));
    known.expect_problem(429, "too_many_attempts");
    // The unknown address is stored nowhere in clear: neither in the trail nor in the counters.
    assert_eq!(
        count(
            &w.app,
            "SELECT count(*) FROM audit_events WHERE details::text LIKE '%nessuno%' OR object_id LIKE '%nessuno%'"
        ),
        0
    );
    assert_eq!(
        count(&w.app, "SELECT count(*) FROM login_throttle WHERE key LIKE '%nessuno%'"),
        0
    );
    assert_eq!(
        count(
            &w.app,
            "SELECT count(*) FROM audit_events WHERE action = 'login.locked' AND object_type = 'login'"
        ),
        1
    );
}

/// A failed login sent with a forged `X-Forwarded-For`.
fn forged_login(app: &TestApp, email: &str, forwarded: &str) -> u16 {
    match ureq::post(&format!("{}/api/v1/auth/login", app.base_url))
        .set("X-Forwarded-For", forwarded)
        .send_json(json!({ "email": email, "password": "password-sbagliata" }))
    {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(e) => panic!("transport error: {e}"),
    }
}

#[test]
fn failures_from_one_address_lock_it_for_every_account_whatever_x_forwarded_for_says() {
    let w = world_with(|state| {
        let mut guard = api::guard::AccountGuard::default();
        guard.policy.address_failures = 6;
        state.accounts = Arc::new(guard);
    });
    // Six different accounts (one failure each: no account is near its own limit), each
    // claiming another client address: the server is not behind a proxy, so the header is
    // ignored and all six count against the one real address.
    for i in 0..6 {
        let status = forged_login(&w.app, &format!("prova{i}@comune.milano.it"), &format!("203.0.113.{i}"));
        assert_eq!(status, 401);
    }
    let refused = login(&w.app, RUP, PASSWORD);
    assert_eq!(refused.retry_after.as_deref(), Some("900"));
    refused.expect_problem(429, "too_many_attempts");
    assert_eq!(
        count(
            &w.app,
            "SELECT count(*) FROM audit_events WHERE action = 'login.locked' AND details->>'key' = 'address'"
        ),
        1
    );
    w.app.clock.advance(chrono::Duration::minutes(15));
    login(&w.app, RUP, PASSWORD).expect(200);
}

#[test]
fn registration_answers_the_same_for_a_taken_email_and_tells_its_owner() {
    let app = TestApp::start();
    let email = "gare@edilrossi.it";
    let body = |password: &str| json!({ "email": email, "full_name": "Edil Rossi", "password": password });
    let first = app.client().post("/api/v1/auth/register", &body("fornitore-password"));
    let second = app
        .client()
        .post("/api/v1/auth/register", &body("altra-password-lunga"));
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(shape(&first), shape(&second));
    assert_eq!(
        count(&app, &format!("SELECT count(*) FROM users WHERE email = '{email}'")),
        1
    );
    // The account is the first one; the second attempt changed nothing.
    login(&app, email, "fornitore-password").expect(200);
    login(&app, email, "altra-password-lunga").expect_problem(401, "invalid_credentials");
    // Its owner is told, by e-mail through the outbox.
    let mail = app.mailbox().wait_for(1);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to(), [email]);
    assert!(mail[0].subject().contains("registrazione"), "{}", mail[0].subject());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_events WHERE action = 'user.registration_email_taken'"
        ),
        1
    );
}

#[test]
fn a_login_flood_with_one_hashing_slot_never_hashes_twice_at_once() {
    let app = TestApp::start_with(|state| {
        let mut guard = api::guard::AccountGuard::default();
        guard.hashing = api::guard::HashGate::new(1, std::time::Duration::from_millis(1));
        state.accounts = Arc::new(guard);
    });
    let n = 12;
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let c = app.client();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                c.post(
                    "/api/v1/auth/login",
                    &json!({ "email": journeys::ADMIN_EMAIL, "password": journeys::ADMIN_PASSWORD }),
                )
            })
        })
        .collect();
    let replies: Vec<Reply> = threads.into_iter().map(|t| t.join().expect("thread")).collect();
    let mut busy = 0;
    for r in &replies {
        match r.status {
            200 => {}
            503 => {
                assert_eq!(r.code(), "hashing_busy", "{}", r.text);
                assert_eq!(r.retry_after.as_deref(), Some("1"));
                busy += 1;
            }
            s => panic!("unexpected {s}: {}", r.text),
        }
    }
    assert!(busy > 0 && busy < n, "{busy} of {n} refused");
    // The bound held: never two Argon2 runs at once in this process (nextest runs each test
    // in its own process).
    assert_eq!(accounts::password::peak_concurrent(), 1);
}

fn supplier(app: &TestApp) -> Client {
    app.register_supplier("gare@edilrossi.it", "Edil Rossi", PASSWORD).0
}

#[test]
fn a_deactivated_rup_loses_access_at_the_next_request_and_cannot_log_in() {
    let w = world();
    let admin = w.app.admin();
    let token = token_of(login(&w.app, RUP, PASSWORD));
    let rup = w.app.client().with_token(&token);
    rup.get("/api/v1/auth/me").expect(200);
    let path = format!("/api/v1/users/{}/deactivate", w.rup_id);
    admin
        .post(&path, &json!({ "reason": " " }))
        .expect_problem(422, "reason_required");
    let user = admin
        .post(&path, &json!({ "reason": "trasferito ad altro ente" }))
        .expect(200);
    assert_eq!(user["active"], false);
    rup.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
    w.rup.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
    // The right password now gets the same answer as a wrong one.
    login(&w.app, RUP, PASSWORD).expect_problem(401, "invalid_credentials");
    admin
        .post(&path, &json!({ "reason": "di nuovo" }))
        .expect_problem(409, "user_inactive");
    // Its data stay.
    assert_eq!(
        count(
            &w.app,
            &format!(
                "SELECT count(*) FROM role_grants WHERE user_id = '{}' AND revoked_at IS NULL",
                w.rup_id
            )
        ),
        1
    );
    assert_eq!(
        count(
            &w.app,
            &format!(
                "SELECT count(*) FROM audit_events WHERE action = 'user.deactivated' AND object_id = '{}' \
                 AND details->>'reason' = 'trasferito ad altro ente'",
                w.rup_id
            )
        ),
        1
    );
}

#[test]
fn the_last_active_admin_can_neither_be_deactivated_nor_lose_the_admin_role() {
    let w = world();
    let admin = w.app.admin();
    let me = admin.get("/api/v1/auth/me").expect(200)["id"]
        .as_str()
        .expect("id")
        .to_string();
    admin
        .post(&format!("/api/v1/users/{me}/deactivate"), &json!({ "reason": "prova" }))
        .expect_problem(409, "last_admin");
    admin
        .post(
            &format!("/api/v1/users/{me}/roles/revoke"),
            &json!({ "role": "admin", "reason": "prova" }),
        )
        .expect_problem(409, "last_admin");
    // With a second admin, the first may go; then the second is the last one.
    let second = journeys::tender_world::id(
        &admin
            .post(
                "/api/v1/users",
                &json!({ "email": "admin2@centrale.test", "full_name": "Seconda", "password": PASSWORD,
                          "roles": [{ "role": "admin" }] }),
            )
            .expect(201),
    );
    admin
        .post(
            &format!("/api/v1/users/{me}/deactivate"),
            &json!({ "reason": "fine incarico" }),
        )
        .expect(200);
    admin.get("/api/v1/users").expect_problem(401, "unauthenticated");
    let admin2 = w.app.client().logged_in("admin2@centrale.test", PASSWORD);
    admin2
        .post(
            &format!("/api/v1/users/{second}/deactivate"),
            &json!({ "reason": "prova" }),
        )
        .expect_problem(409, "last_admin");
}

#[test]
fn a_revoked_role_loses_its_route_at_the_next_request() {
    let w = world();
    let admin = w.app.admin();
    let members = format!("/api/v1/enti/{}/members", w.ente);
    w.rup.get(&members).expect(200);
    let path = format!("/api/v1/users/{}/roles/revoke", w.rup_id);
    let user = admin
        .post(
            &path,
            &json!({ "role": "rup", "ente_id": w.ente, "reason": "fine incarico" }),
        )
        .expect(200);
    assert_eq!(user["roles"], json!([]));
    // The same token, the next request: the role is gone.
    w.rup.get(&members).expect_problem(403, "forbidden");
    admin
        .post(
            &path,
            &json!({ "role": "rup", "ente_id": w.ente, "reason": "di nuovo" }),
        )
        .expect_problem(404, "not_found");
    assert_eq!(audited(&w.app, "role.revoked", &w.rup_id), 1);
}

#[test]
fn an_admin_ends_every_session_of_a_user() {
    let w = world();
    let admin = w.app.admin();
    let other = w.app.client().with_token(&token_of(login(&w.app, RUP, PASSWORD)));
    let ended = admin
        .post(&format!("/api/v1/users/{}/sessions/end", w.rup_id), &json!({}))
        .expect(200);
    assert_eq!(ended["sessions_ended"], 2);
    w.rup.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
    other.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
    // The account itself stays active.
    login(&w.app, RUP, PASSWORD).expect(200);
    assert_eq!(audited(&w.app, "user.sessions_ended", &w.rup_id), 1);
}

#[test]
fn a_password_change_ends_the_other_sessions_but_not_this_one() {
    let w = world();
    let this = w.app.client().with_token(&token_of(login(&w.app, RUP, PASSWORD)));
    let new = "una-nuova-password-lunga";
    this.post(
        "/api/v1/auth/password",
        &json!({ "current_password": "password-sbagliata", "new_password": new }),
    )
    .expect_problem(422, "current_password_wrong");
    this.post(
        "/api/v1/auth/password",
        &json!({ "current_password": PASSWORD, "new_password": "corta" }),
    )
    .expect_problem(422, "password_too_short");
    let changed = this
        .post(
            "/api/v1/auth/password",
            &json!({ "current_password": PASSWORD, "new_password": new }),
        )
        .expect(200);
    assert_eq!(changed["sessions_ended"], 1);
    this.get("/api/v1/auth/me").expect(200);
    w.rup.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
    login(&w.app, RUP, PASSWORD).expect_problem(401, "invalid_credentials");
    login(&w.app, RUP, new).expect(200);
    assert_eq!(audited(&w.app, "user.password_changed", &w.rup_id), 1);
    // The wrong current password counted as a failed login of the account.
    assert_eq!(audited(&w.app, "login.failed", &w.rup_id), 2);
}

/// The one-time code of the last reset e-mail sent to `to`.
fn reset_code(app: &TestApp, n: usize, to: &str) -> String {
    let mails = app.mailbox().wait_for(n);
    let mail = mails.iter().rev().find(|m| m.to() == [to]).expect("a reset e-mail");
    assert_eq!(mail.subject(), "Reimpostazione della password");
    mail.text()
        .lines()
        .find_map(|l| l.strip_prefix("Codice: "))
        .expect("the code line")
        .trim()
        .to_string()
}

#[test]
fn a_reset_code_works_once_before_it_expires_and_only_the_newest() {
    let w = world();
    let admin = w.app.admin();
    let issue = format!("/api/v1/users/{}/password-reset", w.rup_id);
    let issued = admin.post(&issue, &json!({})).expect(202);
    assert_eq!(issued["sent_to"], RUP);
    assert!(issued.get("token").is_none(), "the admin never sees the code");
    let code = reset_code(&w.app, 1, RUP);
    // Hashed at rest.
    assert_eq!(
        count(
            &w.app,
            &format!("SELECT count(*) FROM password_resets WHERE position('{code}'::bytea in token_sha256) > 0")
        ),
        0
    );
    let new = "reimpostata-dal-link";
    let reset = |token: &str, password: &str| {
        w.app.client().post(
            "/api/v1/auth/password-reset",
            &json!({ "token": token, "new_password": password }),
        )
    };
    reset(&code, new).expect(204);
    w.rup.get("/api/v1/auth/me").expect_problem(401, "unauthenticated");
    login(&w.app, RUP, new).expect(200);
    // Once only.
    reset(&code, "un-altra-password").expect_problem(422, "reset_token_invalid");
    reset("inventato", "un-altra-password").expect_problem(422, "reset_token_invalid");
    // Expired after an hour.
    admin.post(&issue, &json!({})).expect(202);
    let late = reset_code(&w.app, 2, RUP);
    w.app.clock.advance(chrono::Duration::minutes(61));
    reset(&late, "un-altra-password").expect_problem(422, "reset_token_invalid");
    // A newer reset supersedes an older unused one.
    admin.post(&issue, &json!({})).expect(202);
    let older = reset_code(&w.app, 3, RUP);
    admin.post(&issue, &json!({})).expect(202);
    let newer = reset_code(&w.app, 4, RUP);
    reset(&older, "un-altra-password").expect_problem(422, "reset_token_invalid");
    reset(&newer, "un-altra-password").expect(204);
    assert_eq!(audited(&w.app, "user.password_reset_issued", &w.rup_id), 4);
    assert_eq!(audited(&w.app, "user.password_reset", &w.rup_id), 2);
}

#[test]
fn a_rup_or_a_supplier_cannot_call_the_account_admin_routes() {
    let w = world();
    let custode = official(&w.app.admin(), "altro@comune.milano.it", "commission", &w.ente);
    let supplier = supplier(&w.app);
    for caller in [&w.rup, &supplier] {
        for (path, body) in [
            (format!("/api/v1/users/{custode}/deactivate"), json!({ "reason": "x" })),
            (
                format!("/api/v1/users/{custode}/roles/revoke"),
                json!({ "role": "commission", "ente_id": w.ente, "reason": "x" }),
            ),
            (format!("/api/v1/users/{custode}/sessions/end"), json!({})),
            (format!("/api/v1/users/{custode}/password-reset"), json!({})),
        ] {
            caller.post(&path, &body).expect_problem(403, "forbidden");
        }
    }
    assert_eq!(count(&w.app, "SELECT count(*) FROM users WHERE active = false"), 0);
}
