//! Custody no single person can break (issue 9 point 6): the dealerless ceremony, one key
//! per envelope kind, each custodian's own share at the opening, and who gets ciphertext.
//! Each test tries what an insider would, and fails to break the tender. See docs/seal.md.

use std::io::Read;

use journeys::serde_json::{self, json, Value};
use journeys::tender_world::{
    self, contributions, offer_c, official, past_opening, submit, submit_share, supplier, World, PASSWORD,
};
use journeys::Client;
use offerte::custodian;
use offerte::custody::TenderKey;
use seal::custody::{self as dkg, ThresholdIdentity};
use seal::envelope::{self, AgeIdentity};

fn body(w: &World, seed: u64, custodians: &[&str]) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": "Manutenzione delle strade comunali",
        "cig": tender_world::cig(3_000_000 + seed),
        "cpv_main": "45000000-7",
        "nuts": "ITC4C",
        "contract_type": "works",
        "procedure_type": "aperta",
        "award_criterion": "minor_prezzo",
        "base_amount": "1000000.00",
        "safety_costs": "20000.00",
        "questions_deadline": "2026-05-25T12:00",
        "submission_deadline": "2026-06-05T12:00",
        "opening_at": "2026-06-05T15:00",
        "envelopes": ["A", "B", "C"],
        "anomaly_method": "A",
        "custodians": custodians,
        "custodian_threshold": 2
    })
}

/// A tender of the world's two custodians (the RUP and `custode`), sealed, with one bid.
fn sealed_with_a_bid(w: &World, seed: u64) -> (String, Client) {
    let bando = tender_world::tender(w, body(w, seed, &[&w.rup_id, &w.custode]));
    supplier(&w.app, &format!("gare{seed}@acme.it"));
    let acme = w.login(&format!("gare{seed}@acme.it"));
    submit(&acme, &bando, "A", b"documentazione amministrativa");
    submit(&acme, &bando, "B", b"offerta tecnica");
    submit(&acme, &bando, "C", &offer_c("12.5"));
    (bando, acme)
}

fn rup_key(w: &World) -> &AgeIdentity {
    &w.custodian_keys[0].1
}

fn custode_key(w: &World) -> &AgeIdentity {
    &w.custodian_keys[1].1
}

fn custode(w: &World) -> Client {
    w.login("custode@comune.milano.it")
}

fn share_of(c: &Client, key: &AgeIdentity, bando: &str, kind: &str) -> Value {
    let share = custodian::opening_share(key, &contributions(c, bando), kind).expect("share");
    serde_json::to_value(share).expect("json")
}

fn get_bytes(w: &World, who: &Client, path: &str) -> (u16, Vec<u8>) {
    let resp = match ureq::get(&format!("{}{path}", w.app.base_url))
        .set(
            "Authorization",
            &format!("Bearer {}", who.token.as_deref().expect("token")),
        )
        .call()
    {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let mut out = Vec::new();
    resp.into_reader().read_to_end(&mut out).expect("read body");
    (status, out)
}

#[test]
fn the_rup_alone_even_as_a_custodian_cannot_open_or_derive_the_key() {
    let mut w = tender_world::world();
    let (bando, _) = sealed_with_a_bid(&w, 1);
    past_opening(&mut w, &bando);
    // The RUP holds one share of each kind: his own. He submits it; the opening still needs k.
    let mine = share_of(&w.rup, rup_key(&w), &bando, "A");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/A/quote"), &mine)
        .expect(201);
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/A"), &json!({}))
        .expect_problem(409, "opening_shares_missing");
    // Submitting again (as if for the other custodian) counts as his own, once.
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/A/quote"), &mine)
        .expect_problem(409, "share_already_submitted");
    // Everything the RUP can read (the ceremony, the contributions, his own transport key)
    // gives one share; interpolated alone it is not the key.
    let s = dkg::parse_scalar(mine["share"].as_str().expect("share")).expect("scalar");
    let key: TenderKey =
        serde_json::from_value(w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200)).expect("key");
    assert_eq!(key.status, "complete");
    assert!(dkg::combine(&[(1, s)], 2).is_err());
    let x_a = public_key(&w, &bando, "A");
    assert!(ThresholdIdentity::new(zeroize_box(s), &x_a).is_err());
    // The old single-dealer upload is gone.
    let gone = w.rup.put(
        &format!("/api/v1/bandi/{bando}/sigillo"),
        &json!({ "recipient": "age1x", "k": 2, "n": 2, "shares": [] }),
    );
    assert!(gone.status == 404 || gone.status == 405, "{}", gone.status);
    assert_eq!(
        w.app.psql("SELECT count(*) FROM seal_opening_shares"),
        "1",
        "only the RUP's own share is stored"
    );
}

fn zeroize_box(s: dkg::Scalar) -> zeroize::Zeroizing<dkg::Scalar> {
    zeroize::Zeroizing::new(s)
}

fn public_key(w: &World, bando: &str, kind: &str) -> dkg::Point {
    dkg::parse_point(&w.app.psql(&format!(
        "SELECT encode(public_key, 'hex') FROM seal_kind_keys WHERE bando_id = '{bando}' AND kind = '{kind}'"
    )))
    .expect("point")
}

#[test]
fn one_custodian_alone_cannot_open() {
    let mut w = tender_world::world();
    let (bando, _) = sealed_with_a_bid(&w, 2);
    past_opening(&mut w, &bando);
    let c = custode(&w);
    submit_share(&c, custode_key(&w), &bando, "A");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/A"), &json!({}))
        .expect_problem(409, "opening_shares_missing");
    assert_eq!(
        w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200),
        json!([])
    );
}

#[test]
fn a_custodian_cannot_upload_a_contribution_or_share_for_another_custodian() {
    let mut w = tender_world::world();
    let other = official(&w.app.admin(), "altro@comune.milano.it", "commission", &w.ente);
    let bando = tender_world::tender(&w, body(&w, 3, &[&w.rup_id, &w.custode]));
    let outsider = w.login("altro@comune.milano.it");
    assert!(!other.is_empty());
    // An official who is not a custodian of this tender takes no part.
    outsider
        .post(
            &format!("/api/v1/bandi/{bando}/sigillo/custodi"),
            &json!({ "age_key": AgeIdentity::generate().to_public().to_string() }),
        )
        .expect_problem(403, "not_custodian");
    let view: TenderKey =
        serde_json::from_value(w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200)).expect("view");
    let forged = serde_json::to_value(custodian::contribution(&view).expect("contribution")).expect("json");
    outsider
        .post(&format!("/api/v1/bandi/{bando}/sigillo/contributi"), &forged)
        .expect_problem(403, "not_custodian");
    // A custodian's contribution is his own, once: a second one (for someone else) is refused.
    custode(&w)
        .post(&format!("/api/v1/bandi/{bando}/sigillo/contributi"), &forged)
        .expect_problem(409, "seal_ceremony_complete");

    supplier(&w.app, "gare3@acme.it");
    submit(&w.login("gare3@acme.it"), &bando, "A", b"busta");
    submit(&w.login("gare3@acme.it"), &bando, "B", b"busta");
    submit(&w.login("gare3@acme.it"), &bando, "C", &offer_c("10"));
    past_opening(&mut w, &bando);
    let outsider = w.login("altro@comune.milano.it");
    // The RUP's share, handed to the other custodian to submit, is checked against the
    // submitter's own verification share: refused.
    let rups = share_of(&w.rup, rup_key(&w), &bando, "A");
    custode(&w)
        .post(&format!("/api/v1/bandi/{bando}/aperture/A/quote"), &rups)
        .expect_problem(422, "custody.share_invalid");
    outsider
        .post(&format!("/api/v1/bandi/{bando}/aperture/A/quote"), &rups)
        .expect_problem(403, "not_custodian");
    assert_eq!(w.app.psql("SELECT count(*) FROM seal_opening_shares"), "0");
}

#[test]
fn a_wrong_or_forged_share_is_refused() {
    let mut w = tender_world::world();
    let (bando, _) = sealed_with_a_bid(&w, 4);
    past_opening(&mut w, &bando);
    let path = format!("/api/v1/bandi/{bando}/aperture/A/quote");
    let forged = dkg::scalar_hex(&dkg::random_scalar());
    w.rup
        .post(&path, &json!({ "share": forged }))
        .expect_problem(422, "custody.share_invalid");
    w.rup
        .post(&path, &json!({ "share": "zz" }))
        .expect_problem(422, "custody.share_malformed");
    // The share of another kind is not the share of A.
    let c_share = share_of(&w.rup, rup_key(&w), &bando, "C");
    w.rup.post(&path, &c_share).expect_problem(422, "custody.share_invalid");
    // Before the opening of B is allowed (A not open yet) no share of B is taken.
    let b_share = share_of(&w.rup, rup_key(&w), &bando, "B");
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/aperture/B/quote"), &b_share)
        .expect_problem(409, "opening_out_of_order");
    assert_eq!(w.app.psql("SELECT count(*) FROM seal_opening_shares"), "0");
}

#[test]
fn bids_are_refused_until_every_custodian_acked_and_a_cheating_contributor_is_named() {
    let w = tender_world::world();
    let bando = tender_world::id(
        &w.rup
            .post("/api/v1/bandi", &body(&w, 5, &[&w.rup_id, &w.custode]))
            .expect(201),
    );
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    supplier(&w.app, "gare5@acme.it");
    let acme = w.login("gare5@acme.it");
    let refused = |acme: &Client| {
        acme.post_raw(
            &format!("/api/v1/bandi/{bando}/offerta/buste/A"),
            "application/octet-stream",
            b"x",
        )
        .expect_problem(409, "seal_ceremony_incomplete");
    };
    refused(&acme);
    let c = custode(&w);
    let seal = format!("/api/v1/bandi/{bando}/sigillo");
    for (who, key) in [(&w.rup, rup_key(&w)), (&c, custode_key(&w))] {
        who.post(
            &format!("{seal}/custodi"),
            &json!({ "age_key": key.to_public().to_string() }),
        )
        .expect(201);
    }
    // The RUP contributes honestly; the other custodian sends the RUP a share of A that is
    // not on his committed polynomial.
    let view: TenderKey = serde_json::from_value(w.rup.get(&seal).expect(200)).expect("view");
    let honest = custodian::contribution(&view).expect("contribution");
    w.rup
        .post(
            &format!("{seal}/contributi"),
            &serde_json::to_value(&honest).expect("json"),
        )
        .expect(201);
    let mut cheat = custodian::contribution(&view).expect("contribution");
    let other = custodian::contribution(&view).expect("contribution");
    let a = cheat.kinds.get_mut("A").expect("A");
    a.shares[0] = other.kinds["A"].shares[0].clone();
    c.post(
        &format!("{seal}/contributi"),
        &serde_json::to_value(&cheat).expect("json"),
    )
    .expect(201);
    refused(&acme);
    let all = contributions(&w.rup, &bando);
    let complaint = custodian::acknowledgement(rup_key(&w), &all).expect_err("the RUP's check fails");
    assert!(complaint.to_string().contains("custode 2"), "{complaint}");
    // The cheater's own acknowledgement is consistent for him, and a forged proof is refused.
    let mut forged = custodian::acknowledgement(custode_key(&w), &all).expect("his ack");
    forged.kinds.get_mut("C").expect("C").response = dkg::scalar_hex(&dkg::random_scalar());
    c.post(
        &format!("{seal}/conferme"),
        &serde_json::to_value(&forged).expect("json"),
    )
    .expect_problem(422, "custody.proof_invalid");
    let ack = custodian::acknowledgement(custode_key(&w), &all).expect("his ack");
    c.post(&format!("{seal}/conferme"), &serde_json::to_value(&ack).expect("json"))
        .expect(201);
    // One custodian short of every acknowledgement: still no bids.
    refused(&acme);
    // The RUP resets the ceremony (only the RUP; never once complete) and it is redone.
    c.post(&format!("{seal}/azzera"), &json!({}))
        .expect_problem(403, "forbidden");
    // Without a reason the RUP's reset is refused and the ceremony stays as it was.
    w.rup
        .post(&format!("{seal}/azzera"), &json!({ "reason": " " }))
        .expect_problem(422, "reason_required");
    w.rup
        .post(&format!("{seal}/azzera"), &json!({}))
        .expect_problem(422, "reason_required");
    let why = "Il custode segnala una quota non coerente";
    let reset = w
        .rup
        .post(&format!("{seal}/azzera"), &json!({ "reason": why }))
        .expect(200);
    assert_eq!(reset["status"], "not_started");
    let kept = tender_world::audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "bando.sigillo_azzerato")
        .map(|e| e["details"]["reason"].clone())
        .collect::<Vec<_>>();
    assert_eq!(kept, vec![json!(why)], "the trail keeps the reason");
    tender_world::ceremony(&[(w.rup.clone(), rup_key(&w)), (c.clone(), custode_key(&w))], &bando);
    w.rup
        .post(&format!("{seal}/azzera"), &json!({ "reason": why }))
        .expect_problem(409, "seal_ceremony_complete");
    submit(&acme, &bando, "A", b"ora si");
}

#[test]
fn opening_a_does_not_yield_material_that_decrypts_c() {
    let mut w = tender_world::world();
    let (bando, acme) = sealed_with_a_bid(&w, 6);
    let key: Value = w.rup.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200);
    let r = &key["recipients"];
    assert!(
        r["A"] != r["B"] && r["B"] != r["C"] && r["A"] != r["C"],
        "one key per kind: {r}"
    );
    let bid = acme.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let c_env = bid[0]["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .find(|e| e["kind"] == "C")
        .expect("C")["envelope_id"]
        .as_str()
        .expect("id")
        .to_string();
    past_opening(&mut w, &bando);
    tender_world::open(&w, &bando, "A");
    // Whoever saw everything the opening of A used (both custodians' shares of A, in the
    // database) rebuilds the key of A, and it does not open C.
    let rows = w.app.psql(&format!("SELECT position || ':' || encode(share, 'hex') FROM seal_opening_shares WHERE bando_id = '{bando}' AND kind = 'A'"),
    );
    let shares: Vec<(u32, dkg::Scalar)> = rows
        .lines()
        .map(|l| {
            let (j, s) = l.split_once(':').expect("row");
            (j.parse().expect("j"), dkg::parse_scalar(s).expect("share"))
        })
        .collect();
    assert_eq!(shares.len(), 2);
    let x = dkg::combine(&shares, 2).expect("x_A");
    let id_a = ThresholdIdentity::new(x, &public_key(&w, &bando, "A")).expect("the key of A");
    assert!(ThresholdIdentity::new(dkg::combine(&shares, 2).expect("x"), &public_key(&w, &bando, "C")).is_err());
    let acme = w.login("gare6@acme.it");
    let (status, ct) = get_bytes(&w, &acme, &format!("/api/v1/buste/{c_env}/cifrato"));
    assert_eq!(status, 200);
    let err = envelope::open_stream(&id_a, &ct[..], std::io::sink()).expect_err("A's key on C");
    assert_eq!(err.code(), "envelope.decrypt_failed");
    // No share of C exists before C may be opened.
    assert_eq!(
        w.app.psql("SELECT count(*) FROM seal_opening_shares WHERE kind = 'C'"),
        "0"
    );
}

#[test]
fn two_of_three_custodians_open_a_b_and_c() {
    let mut w = tender_world::world();
    let third = official(&w.app.admin(), "terzo@comune.milano.it", "auditor", &w.ente);
    let bando = tender_world::id(
        &w.rup
            .post("/api/v1/bandi", &body(&w, 7, &[&w.rup_id, &w.custode, &third]))
            .expect(201),
    );
    w.rup
        .post(&format!("/api/v1/bandi/{bando}/publish"), &json!({}))
        .expect(200);
    let third_key = AgeIdentity::generate();
    tender_world::ceremony(
        &[
            (w.rup.clone(), rup_key(&w)),
            (custode(&w), custode_key(&w)),
            (w.login("terzo@comune.milano.it"), &third_key),
        ],
        &bando,
    );
    supplier(&w.app, "gare7@acme.it");
    let acme = w.login("gare7@acme.it");
    submit(&acme, &bando, "A", b"amministrativa");
    submit(&acme, &bando, "B", b"tecnica");
    submit(&acme, &bando, "C", &offer_c("7.5"));
    past_opening(&mut w, &bando);
    for kind in ["A", "B", "C"] {
        // The RUP opens without being one of the two who submit.
        submit_share(&custode(&w), custode_key(&w), &bando, kind);
        submit_share(&w.login("terzo@comune.milano.it"), &third_key, &bando, kind);
        let o = w
            .rup
            .post(&format!("/api/v1/bandi/{bando}/aperture/{kind}"), &json!({}))
            .expect(201);
        let env = &o["envelopes"][0];
        assert!(env["error"].is_null(), "{o}");
        assert_eq!(o["shares_used"], 2);
    }
    let c = &w.rup.get(&format!("/api/v1/bandi/{bando}/aperture")).expect(200)[2];
    assert_eq!(c["envelopes"][0]["economic_offer"]["discount"], "7.5");
}

#[test]
fn the_rup_cannot_download_ciphertext_but_an_auditor_can() {
    let mut w = tender_world::world();
    official(&w.app.admin(), "revisore@comune.milano.it", "auditor", &w.ente);
    let (bando, acme) = sealed_with_a_bid(&w, 8);
    let bid = acme.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let env = bid[0]["envelopes"][0]["envelope_id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/buste/{env}/cifrato");
    let auditor = w.login("revisore@comune.milano.it");
    // Before the deadline nobody but the bidder learns the envelope exists.
    assert_eq!(get_bytes(&w, &auditor, &path).0, 404);
    past_opening(&mut w, &bando);
    let (status, mine) = get_bytes(&w, &w.login("gare8@acme.it"), &path);
    assert_eq!(status, 200);
    for who in [&w.rup, &custode(&w)] {
        assert_eq!(
            get_bytes(&w, who, &path).0,
            403,
            "the officials who open get no ciphertext"
        );
    }
    let auditor = w.login("revisore@comune.milano.it");
    let (status, theirs) = get_bytes(&w, &auditor, &path);
    assert_eq!((status, theirs == mine), (200, true));
    let _ = PASSWORD;
}

#[test]
fn a_double_click_on_submitting_a_share_stores_it_once_and_answers_no_5xx() {
    let mut w = tender_world::world();
    let (bando, _) = sealed_with_a_bid(&w, 9);
    past_opening(&mut w, &bando);
    let mine = share_of(&w.rup, rup_key(&w), &bando, "A");
    let path = format!("/api/v1/bandi/{bando}/aperture/A/quote");
    let n = 4;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let replies: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (c, barrier, body, path) = (w.rup.clone(), barrier.clone(), mine.clone(), path.clone());
                scope.spawn(move || {
                    barrier.wait();
                    let r = c.post(&path, &body);
                    (r.status, r.body)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(replies.iter().filter(|(s, _)| *s == 201).count(), 1, "{replies:?}");
    for (s, b) in replies.iter().filter(|(s, _)| *s != 201) {
        assert_eq!((*s, b["code"].as_str()), (409, Some("share_already_submitted")), "{b}");
    }
    let stored = w.app.psql(&format!(
        "SELECT count(*) FROM seal_opening_shares WHERE bando_id = '{bando}' AND kind = 'A'"
    ));
    assert_eq!(stored.trim(), "1");
}
