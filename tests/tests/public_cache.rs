//! The public page cache (issue 15, public reads; crates/api/src/public_cache.rs). What an
//! anonymous visitor is served from memory must be what the database and the clock say now,
//! and never what was drawn for somebody else.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use journeys::serde_json::json;
use journeys::tender_world::{self, at, id, works_tender_body, World};
use journeys::TestApp;

/// The tables that announce no change, because no public page reads them and the deadline
/// rush writes them (migration 2026-12-07-010000_public_views_notify).
const SILENT: &[&str] = &[
    "__diesel_schema_migrations",
    "audit_events",
    "bid_amendment_notices",
    "bid_confirmations",
    "bids",
    "envelopes",
    "log_checkpoints",
    "log_leaves",
    "log_subtree_hashes",
    "login_throttle",
    "notifications_outbox",
    "password_resets",
    "receipts",
    "seal_upload_sessions",
    "sessions",
];

struct Seen {
    hit: bool,
    set_cookie: bool,
    body: String,
}

fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Seen {
    let mut req = ureq::get(&format!("{}{path}", app.base_url));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let res = req.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
    Seen {
        hit: res.header("x-cache") == Some("hit"),
        set_cookie: res.header("set-cookie").is_some(),
        body: res.into_string().expect("body"),
    }
}

/// The four pages the cache serves: the list and a tender's page, of the API and the portal.
fn pages(bando: &str) -> [String; 4] {
    [
        "/api/v1/public/bandi".to_string(),
        format!("/api/v1/public/bandi/{bando}"),
        "/bandi".to_string(),
        format!("/bandi/{bando}"),
    ]
}

/// A published tender, on a clock that is not on a whole minute (a countdown on a whole
/// minute changes at once, so its page is not kept).
fn published(oggetto: &str) -> (World, String) {
    let w = tender_world::world();
    w.app.clock.set(at("2026-05-04T08:00:30Z"));
    let bando = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &works_tender_body(&w.ente, [&w.rup_id, &w.custode], oggetto, 4101),
        )
        .expect(201));
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    (w, bando)
}

fn kept(app: &TestApp, path: &str) -> Seen {
    let first = get(app, path, &[]);
    let again = get(app, path, &[]);
    assert!(again.hit, "{path} is served from memory the second time");
    assert_eq!(first.body, again.body, "{path}: the page kept is the page drawn");
    again
}

#[test]
fn a_change_made_through_this_server_is_served_at_once() {
    let (w, bando) = published("Manutenzione strade comunali");
    for p in pages(&bando) {
        assert!(!kept(&w.app, &p).body.contains("2026-06-12"), "{p}");
    }
    w.rup
        .post(
            &format!("/api/v1/bandi/{bando}/rettifiche"),
            &json!({ "reason": "Proroga", "submission_deadline": "2026-06-12T12:00" }),
        )
        .expect(200);
    for p in pages(&bando) {
        let after = get(&w.app, &p, &[]);
        assert!(!after.hit, "{p}: the rettifica made the kept page out of date");
        assert!(
            after.body.contains("2026-06-12") || after.body.contains("12/06/2026"),
            "{p} shows the new deadline"
        );
        assert!(get(&w.app, &p, &[]).hit, "{p} is kept again");
    }
}

#[test]
fn a_change_made_behind_the_servers_back_is_served_within_its_poll() {
    let (w, bando) = published("Pulizia uffici");
    for p in pages(&bando) {
        kept(&w.app, &p);
    }
    // psql, not TestApp::psql: nothing waits for the cache, the listener must find it.
    journeys::psql(
        &w.app.db_url,
        &format!("UPDATE bandi SET oggetto = 'Pulizia uffici e scuole' WHERE id = '{bando}'"),
    );
    for p in pages(&bando) {
        let started = Instant::now();
        loop {
            let seen = get(&w.app, &p, &[]);
            if seen.body.contains("Pulizia uffici e scuole") {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "{p} still shows the old oggetto after 5 s"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn a_page_drawn_for_someone_is_never_served_to_anyone_else() {
    let (w, bando) = published("Servizio mensa");
    let token = w.rup.token.clone().expect("the RUP's token");
    let page = format!("/bandi/{bando}");
    // The RUP, logged in on the portal (its cookie) and on the API (its bearer token), first.
    let cookie = format!("{}={token}", api::auth::SESSION_COOKIE);
    let bearer = format!("Bearer {token}");
    for _ in 0..2 {
        let rup = get(&w.app, &page, &[("cookie", &cookie)]);
        assert!(!rup.hit, "a logged-in visitor is never served from memory");
        assert!(rup.body.contains("rup@comune.milano.it"), "the RUP's page names him");
        assert!(!get(&w.app, "/api/v1/public/bandi", &[("authorization", &bearer)]).hit);
    }
    // An anonymous visitor who already has a CSRF token of his own (he saw the login form).
    let mine = "0123456789abcdef0123456789abcdef";
    let anon_cookie = format!("centrale_csrf={mine}");
    let first = get(&w.app, &page, &[("cookie", &anon_cookie)]);
    assert!(!first.hit, "nothing drawn for the RUP was kept");
    assert!(!first.body.contains("rup@comune.milano.it"));
    assert!(!first.body.contains(mine), "a public page carries no visitor's token");
    assert!(!first.set_cookie, "a public page sets no cookie");
    // Another anonymous visitor gets that same page from memory, and nobody's token or name.
    let other = get(&w.app, &page, &[]);
    assert!(other.hit);
    assert!(!other.body.contains(mine) && !other.body.contains("rup@comune.milano.it"));
    assert!(!other.body.contains("csrf-token"), "{}", other.body);
    // And the RUP, after them, is still drawn his own page.
    assert!(get(&w.app, &page, &[("cookie", &cookie)])
        .body
        .contains("rup@comune.milano.it"));
}

#[test]
fn the_countdown_on_a_kept_page_follows_the_clock() {
    let (w, bando) = published("Fornitura arredi");
    let page = format!("/bandi/{bando}");
    // The deadline is 12:00 in Rome (10:00 UTC) on 5 June 2026.
    w.app.clock.set(at("2026-06-05T09:56:30Z"));
    let before = kept(&w.app, &page);
    assert!(before.body.contains("3 minuti"), "{}", before.body);
    w.app.clock.set(at("2026-06-05T09:56:59.9Z"));
    assert!(get(&w.app, &page, &[]).hit, "the countdown has not moved yet");
    w.app.clock.set(at("2026-06-05T09:57:01Z"));
    let later = get(&w.app, &page, &[]);
    assert!(!later.hit, "the minute turned: the page is drawn again");
    assert!(later.body.contains("2 minuti"), "{}", later.body);
    // Past the deadline, before any scheduler tick: no longer open to bids.
    assert!(later.body.contains("presenta-offerta"));
    w.app.clock.set(at("2026-06-05T10:00:00.5Z"));
    let closed = get(&w.app, &page, &[]);
    assert!(!closed.hit);
    assert!(closed.body.contains("termine scaduto"));
    assert!(
        !closed.body.contains("presenta-offerta"),
        "no way to bid is offered after the deadline"
    );
}

#[test]
fn a_bid_leaves_the_kept_pages_kept() {
    let w = tender_world::world();
    w.app.clock.set(at("2026-05-04T08:00:30Z"));
    let bando = tender_world::tender(
        &w,
        works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Lavori piazza", 4102),
    );
    tender_world::supplier(&w.app, "gare@edilizia-lombarda.it");
    let bidder = w.login("gare@edilizia-lombarda.it");
    for p in pages(&bando) {
        kept(&w.app, &p);
    }
    let busta = tender_world::busta(&bando, "A", &[("domanda.pdf", b"%PDF-1.7 domanda")]);
    tender_world::submit(&bidder, &bando, "A", &busta);
    for p in pages(&bando) {
        assert!(
            get(&w.app, &p, &[]).hit,
            "{p}: a bid changes nothing a public page shows"
        );
    }
}

#[test]
fn changes_made_while_the_listener_was_away_are_not_missed() {
    let (w, bando) = published("Illuminazione pubblica");
    let page = format!("/api/v1/public/bandi/{bando}");
    kept(&w.app, &page);
    let name = api::public_cache::APPLICATION_NAME;
    let killed = w.app.psql(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{name}' AND datname = current_database()"
    ));
    assert_eq!(killed, "1", "one listener per server");
    journeys::psql(
        &w.app.db_url,
        &format!("UPDATE bandi SET oggetto = 'Illuminazione pubblica a LED' WHERE id = '{bando}'"),
    );
    let started = Instant::now();
    while !get(&w.app, &page, &[]).body.contains("a LED") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the change is still not served after 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    while journeys::psql(
        &w.app.db_url,
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{name}' AND datname = current_database()"
        ),
    ) != "1"
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the listener did not come back"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kept(&w.app, &page);
}

/// Every table the cached pages read announces its changes: the pages' own loaders run in one
/// transaction, and PostgreSQL's per-transaction statistics say which tables they scanned.
#[test]
fn every_table_a_public_page_reads_announces_its_changes() {
    let (w, bando) = published("Trasporto scolastico");
    let id: uuid::Uuid = bando.parse().expect("uuid");
    let mut conn = PgConnection::establish(&w.app.db_url).expect("connect");
    let read: BTreeSet<String> = conn
        .transaction::<_, diesel::result::Error, _>(|conn| {
            let f = bando::model::PublicFilter::default();
            bando::service::list_public(conn, None, &f).expect("list");
            bando::service::get_public(conn, None, id).expect("tender");
            bando::service::versions(conn, None, id).expect("versions");
            bando::service::public_clarifications(conn, None, id).expect("clarifications");
            let (_, found) = portal::pages::public::bandi::list_data(conn, None, Ok(f)).expect("portal list");
            assert!(found.is_ok(), "the portal's list");
            portal::pages::public::bandi::detail_data(conn, None, id).expect("portal page");
            Ok(journeys::table_names(
                conn,
                "SELECT relname::text AS name FROM pg_stat_xact_user_tables WHERE seq_scan + coalesce(idx_scan, 0) > 0",
            ))
        })
        .expect("read");
    let announcing = journeys::table_names(
        &mut conn,
        "SELECT DISTINCT tgrelid::regclass::text AS name FROM pg_trigger WHERE tgname = 'public_views_changed'",
    );
    assert!(
        read.contains("bandi") && read.contains("bando_lotti") && read.contains("enti"),
        "{read:?}"
    );
    let silent_read: Vec<_> = read.difference(&announcing).collect();
    assert!(
        silent_read.is_empty(),
        "public pages read tables that announce no change: {silent_read:?}"
    );
    let all = journeys::table_names(
        &mut conn,
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'",
    );
    let silent: BTreeSet<String> = all.difference(&announcing).cloned().collect();
    let expected: BTreeSet<String> = SILENT.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        silent, expected,
        "a new table must announce its changes (give it the public_views_changed trigger) or join SILENT with its reason"
    );
}
