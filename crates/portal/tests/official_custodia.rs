//! `/ente/bandi/{id}/custodia` (issue 13 points 2 and 3) over real HTTP against a real server:
//! who sees the ceremony, what waits for each custodian round by round, the RUP's reset and
//! the share buttons only when the opening of a kind is allowed. The rounds themselves are
//! acts of the custodian's browser on the API (custody.js); here they are driven through the
//! API with the Rust custodian code, and the last test checks that the JavaScript computes
//! what the Rust code accepts (contributions, proofs, shares, recipients).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use journeys::serde_json::{self, json, Value};
use journeys::tender_world::{self, official, world, World, PASSWORD};
use journeys::web::WebClient;
use journeys::{Client, ADMIN_EMAIL, ADMIN_PASSWORD};
use offerte::custodian;
use offerte::custody::{Contributions, DealerContribution, TenderKey};
use seal::custody as dkg;
use seal::envelope::AgeIdentity;

fn page_of(bando: &str) -> String {
    format!("/ente/bandi/{bando}/custodia")
}

fn web(w: &World, email: &str) -> WebClient {
    let b = WebClient::new(&w.app.base_url);
    b.login(email, PASSWORD);
    b
}

fn seal_view(c: &Client, bando: &str) -> TenderKey {
    serde_json::from_value(c.get(&format!("/api/v1/bandi/{bando}/sigillo")).expect(200)).expect("view")
}

fn custodians(w: &World) -> Vec<(Client, &AgeIdentity)> {
    w.custodian_emails
        .iter()
        .zip(&w.custodian_keys)
        .map(|(e, (_, k))| (w.login(e), k))
        .collect()
}

fn register(c: &Client, key: &AgeIdentity, bando: &str) {
    c.post(
        &format!("/api/v1/bandi/{bando}/sigillo/custodi"),
        &json!({ "age_key": key.to_public().to_string() }),
    )
    .expect(201);
}

fn contribute(c: &Client, bando: &str) {
    let upload = custodian::contribution(&seal_view(c, bando)).expect("contribution");
    c.post(
        &format!("/api/v1/bandi/{bando}/sigillo/contributi"),
        &serde_json::to_value(upload).expect("json"),
    )
    .expect(201);
}

fn acknowledge(c: &Client, key: &AgeIdentity, bando: &str) {
    let ack = custodian::acknowledgement(key, &tender_world::contributions(c, bando)).expect("ack");
    c.post(
        &format!("/api/v1/bandi/{bando}/sigillo/conferme"),
        &serde_json::to_value(ack).expect("json"),
    )
    .expect(201);
}

fn other_ente_rup(w: &World) -> WebClient {
    let admin = w.app.admin();
    let ente = tender_world::id(
        &admin
            .post(
                "/api/v1/enti",
                &json!({ "nome": "Comune di Como", "codice_fiscale": "00417480134", "tipo": "comune",
                     "istat_code": "013075", "pec": "protocollo@pec.comune.como.it" }),
            )
            .expect(201),
    );
    official(&admin, "rup@comune.como.it", "rup", &ente);
    web(w, "rup@comune.como.it")
}

/// The custodians, the RUP, an auditor and the admin see the ceremony; the custodian's page
/// carries the script and his buttons, the others' only the status. A supplier, the RUP of
/// another ente and an official of the ente who is none of these get 403; anonymous, the login.
#[test]
fn who_sees_the_ceremony_and_who_gets_the_buttons() {
    let mut w = world();
    let bando = tender_world::three_custodian_tender(&mut w, "Custodia: accessi", 1);
    let here = page_of(&bando);

    let anon = WebClient::new(&w.app.base_url).get(&here).expect(303);
    assert!(
        anon.location.as_deref().is_some_and(|l| l.starts_with("/accedi")),
        "{anon:?}"
    );

    let third = web(&w, "terzo.custode@comune.milano.it").get(&here).expect(200);
    assert!(third.contains("Le tue operazioni (custode 3)"), "{}", third.text);
    assert!(third.contains("data-azione=\"registra\""));
    assert!(third.contains("<script type=\"module\" src=\"/static/js/custody.js\"></script>"));
    assert!(third.contains(&format!("data-bando=\"{bando}\"")));
    assert!(third.contains("<noscript>") && third.contains("centrale keys custodian-keygen"));
    assert!(third.contains("non iniziata"));
    assert!(
        !third.contains("Azzerare la cerimonia"),
        "a custodian who is not the RUP cannot reset"
    );
    assert!(third.csp.as_deref().is_some_and(|c| c.contains("script-src 'self'")));

    let auditor_email = "revisore@comune.milano.it";
    official(&w.app.admin(), auditor_email, "auditor", &w.ente);
    register(
        &w.login("terzo.custode@comune.milano.it"),
        &w.custodian_keys[2].1,
        &bando,
    );
    {
        let p = web(&w, auditor_email).get(&here).expect(200);
        assert!(p.contains("1ª fase"), "{}", p.text);
        assert!(p.contains("id=\"custodia-custodi\""));
        assert!(!p.contains("data-azione"), "no custodian's button for an auditor");
        assert!(!p.contains("custody.js"));
        assert!(!p.contains("Azzerare la cerimonia"));
    }
    let admin = WebClient::new(&w.app.base_url);
    admin.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert!(admin.get(&here).expect(200).contains("Azzerare la cerimonia"));

    // Nothing secret on the RUP's page (he is custodian 1 here, with no key yet).
    let rup = web(&w, "rup@comune.milano.it").get(&here).expect(200);
    assert!(rup.contains("Azzerare la cerimonia"));
    assert!(rup.contains("data-azione=\"registra\""));
    assert!(!rup.contains("AGE-SECRET-KEY"));

    tender_world::supplier(&w.app, "fornitore@impresa.it");
    assert_eq!(web(&w, "fornitore@impresa.it").get(&here).status, 403);
    assert_eq!(other_ente_rup(&w).get(&here).status, 403);
    official(&w.app.admin(), "commissario@comune.milano.it", "commission", &w.ente);
    let outsider = web(&w, "commissario@comune.milano.it").get(&here);
    assert_eq!(
        outsider.status, 403,
        "a commission member who is no custodian: {}",
        outsider.text
    );
    assert!(!outsider.contains("custodia-custodi"));
    let unknown = web(&w, "rup@comune.milano.it").get(&page_of(&uuid::Uuid::new_v4().to_string()));
    assert_eq!(unknown.status, 404);
}

/// Round by round, each custodian's page shows what he has done and the one button that
/// waits for him, following the API's state; once complete, the recipients the API
/// announces and no button.
#[test]
fn the_page_follows_the_rounds_and_offers_each_custodian_his_next_act() {
    let mut w = world();
    let bando = tender_world::three_custodian_tender(&mut w, "Custodia: fasi", 2);
    let here = page_of(&bando);
    let cs = custodians(&w);
    let browsers: Vec<WebClient> = w.custodian_emails.iter().map(|e| web(&w, e)).collect();
    let buttons = |i: usize| -> Vec<&'static str> {
        let p = browsers[i].get(&here).expect(200);
        ["registra", "contribuisci", "conferma", "quota"]
            .into_iter()
            .filter(|a| p.contains(&format!("data-azione=\"{a}\"")))
            .collect()
    };

    register(&cs[0].0, cs[0].1, &bando);
    assert_eq!(buttons(0), Vec::<&str>::new(), "registered: waits for the others");
    assert_eq!(buttons(1), ["registra"]);
    let p = browsers[0].get(&here).expect(200);
    assert!(p.contains(&format!("data-transport-key=\"{}\"", cs[0].1.to_public())));
    assert!(p.contains("In attesa che tutti i custodi registrino"));
    register(&cs[1].0, cs[1].1, &bando);
    register(&cs[2].0, cs[2].1, &bando);
    assert!(browsers[2].get(&here).contains("2ª fase"));
    for i in 0..3 {
        assert_eq!(buttons(i), ["contribuisci"], "custodian {}", i + 1);
    }
    contribute(&cs[1].0, &bando);
    assert_eq!(buttons(1), Vec::<&str>::new());
    assert!(browsers[1]
        .get(&here)
        .contains("in attesa dei contributi degli altri custodi"));
    assert_eq!(buttons(0), ["contribuisci"]);
    contribute(&cs[0].0, &bando);
    contribute(&cs[2].0, &bando);
    for i in 0..3 {
        assert_eq!(buttons(i), ["conferma"], "custodian {}", i + 1);
    }
    acknowledge(&cs[2].0, cs[2].1, &bando);
    assert_eq!(buttons(2), Vec::<&str>::new());
    acknowledge(&cs[0].0, cs[0].1, &bando);
    acknowledge(&cs[1].0, cs[1].1, &bando);
    let done = browsers[1].get(&here).expect(200);
    assert!(done.contains("data-stato=\"complete\""), "{}", done.text);
    assert!(!done.contains("data-azione"));
    assert!(!done.contains("Azzerare la cerimonia"));
    let view = seal_view(&w.rup, &bando);
    assert_eq!(view.status, "complete");
    for kind in ["A", "B", "C"] {
        assert!(done.contains(&view.recipients[kind]), "recipient of {kind} shown");
    }
    let rup = web(&w, "rup@comune.milano.it").get(&here).expect(200);
    assert!(!rup.contains("Azzerare la cerimonia"), "no reset once complete");
    assert_eq!(rup.text.matches("<td>inviata</td>").count(), 3);
}

/// The RUP resets an unfinished ceremony from the page; a custodian who is not the RUP, the
/// RUP of another ente, a forged token cannot; a double click resets once; a completed
/// ceremony cannot be reset (the domain's 409 in Italian).
#[test]
fn the_rup_resets_an_unfinished_ceremony_and_nobody_else_can() {
    let mut w = world();
    let bando = tender_world::three_custodian_tender(&mut w, "Custodia: azzeramento", 3);
    let here = page_of(&bando);
    let reset = format!("{here}/azzera");
    let cs = custodians(&w);
    register(&cs[1].0, cs[1].1, &bando);
    register(&cs[2].0, cs[2].1, &bando);
    let before = seal_view(&w.rup, &bando).ceremony_id.expect("a live ceremony");

    let second = web(&w, "custode@comune.milano.it");
    let csrf = second.get(&here).expect(200).csrf();
    let refused = second.post_form(&reset, &[("_csrf", &csrf)]);
    assert_eq!(refused.status, 403, "{}", refused.text);
    let como = other_ente_rup(&w);
    let csrf_como = como.get("/bandi").csrf();
    assert_eq!(como.post_form(&reset, &[("_csrf", &csrf_como)]).status, 403);
    assert_eq!(
        WebClient::new(&w.app.base_url)
            .post_form(&reset, &[("_csrf", "x")])
            .status,
        303
    );

    let rup = web(&w, "rup@comune.milano.it");
    let page = rup.get(&here).expect(200);
    assert!(page.contains(&format!("action=\"{reset}\"")));
    assert_eq!(rup.post_form(&reset, &[("_csrf", "forged")]).status, 403);
    assert_eq!(seal_view(&w.rup, &bando).ceremony_id, Some(before), "nothing done");

    let csrf = page.csrf();
    // Without its reason: refused next to the form, the ceremony untouched.
    let bare = rup.post_form(&reset, &[("_csrf", &csrf), ("motivazione", "  ")]);
    assert_eq!(bare.status, 422, "{}", bare.text);
    assert!(bare.contains("id=\"custodia-errore\""), "{}", bare.text);
    assert!(bare.contains("Indicare il motivo dell"), "{}", bare.text);
    assert_eq!(seal_view(&w.rup, &bando).ceremony_id, Some(before), "nothing done");
    let why = "Il terzo custode ha perso la chiave di trasporto";
    let done = rup
        .post_form(&reset, &[("_csrf", &csrf), ("motivazione", why)])
        .expect(303);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("{here}?esito=azzerata").as_str())
    );
    let view = seal_view(&w.rup, &bando);
    assert_eq!(view.status, "not_started");
    assert!(rup
        .get(done.location.as_deref().expect("location"))
        .expect(200)
        .contains("Cerimonia azzerata"));
    // The double click: nothing left to reset, said on the page; one reset in the trail.
    let again = rup.post_form(&reset, &[("_csrf", &csrf), ("motivazione", why)]);
    assert_eq!(again.status, 404, "{}", again.text);
    assert!(again.contains("id=\"custodia-errore\""));
    let resets: Vec<_> = tender_world::audit_events(&w)
        .into_iter()
        .filter(|e| e["action"] == "bando.sigillo_azzerato")
        .collect();
    assert_eq!(resets.len(), 1);
    assert_eq!(resets[0]["details"]["reason"], why, "the trail keeps the reason");

    // Redone with fresh keys to completion: the reset is refused with the domain's message.
    let fresh: Vec<AgeIdentity> = (0..3).map(|_| AgeIdentity::generate()).collect();
    let redo: Vec<(Client, &AgeIdentity)> = cs.iter().zip(&fresh).map(|((c, _), k)| (c.clone(), k)).collect();
    tender_world::ceremony(&redo, &bando);
    assert!(!rup.get(&here).expect(200).contains("Azzerare la cerimonia"));
    let late = rup.post_form(&reset, &[("_csrf", &csrf), ("motivazione", why)]);
    assert_eq!(late.status, 409, "{}", late.text);
    assert!(late.contains("La cerimonia del sigillo è conclusa"));
    assert_eq!(seal_view(&w.rup, &bando).status, "complete");
}

/// The share buttons: none before the deadline (the domain's reason instead), then only for
/// the kind whose opening is allowed (A before C), gone once the custodian's share is in; an
/// auditor sees the count and no button.
#[test]
fn the_share_button_appears_only_when_the_opening_of_its_kind_is_allowed() {
    let mut w = world();
    let body = tender_world::works_tender_body(&w.ente, [&w.rup_id, &w.custode], "Custodia: quote", 4);
    let bando = tender_world::tender(&w, body);
    let here = page_of(&bando);
    let custode = web(&w, "custode@comune.milano.it");
    let before = custode.get(&here).expect(200);
    assert!(before.contains("id=\"custodia-quote\""), "{}", before.text);
    assert!(!before.contains("data-azione=\"quota\""));
    assert!(
        before.contains("termine"),
        "the reason is the domain's: {}",
        before.text
    );

    tender_world::past_opening(&mut w, &bando);
    let custode = web(&w, "custode@comune.milano.it");
    let open_a = custode.get(&here).expect(200);
    assert!(
        open_a.contains("data-azione=\"quota\" data-busta=\"A\""),
        "{}",
        open_a.text
    );
    assert!(!open_a.contains("data-busta=\"C\""), "C only after A");
    assert!(open_a.contains("0 su 2 necessarie"));

    tender_world::submit_share(
        &w.login("custode@comune.milano.it"),
        &w.custodian_keys[1].1,
        &bando,
        "A",
    );
    let after = custode.get(&here).expect(200);
    assert!(after.contains("id=\"quota-A-presentata\""));
    assert!(!after.contains("data-azione=\"quota\""));
    assert!(after.contains("1 su 2 necessarie"));
    let rup = web(&w, "rup@comune.milano.it").get(&here).expect(200);
    assert!(
        rup.contains("data-azione=\"quota\" data-busta=\"A\""),
        "the RUP is custodian 1"
    );

    official(&w.app.admin(), "revisore@comune.milano.it", "auditor", &w.ente);
    let auditor = web(&w, "revisore@comune.milano.it").get(&here).expect(200);
    assert!(auditor.contains("1 su 2 necessarie"));
    assert!(!auditor.contains("data-azione"));
}

// ---------------------------------------------------------------------------------------
// The JavaScript against the Rust code.

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs one function of custody.js under node on `input` (JSON on stdin, JSON on stdout).
fn js(op: &str, input: &Value) -> Value {
    let module = repo().join("crates/portal/assets/js/custody.js");
    let script = format!(
        r#"import * as c from {module:?};
        let text = ""; for await (const chunk of process.stdin) text += chunk;
        const a = JSON.parse(text);
        const out = await ({{
          contribute: () => c.contribution(a.view),
          ack: () => c.acknowledgement(a.identity, a.all),
          share: () => c.openingShare(a.identity, a.all, a.kind),
          recipients: () => c.recipientsFromContributions(a.all),
          file: async () => {{ const k = await c.newTransportIdentity(); return {{ text: c.identityFile(k.identity, k.recipient), recipient: k.recipient }}; }},
        }})[{op:?}]();
        process.stdout.write(JSON.stringify(out));"#,
        module = format!("file://{}", module.display()),
    );
    let mut child = Command::new("node")
        .args(["--input-type=module", "-e", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs (scripts/test-tools.sh installs it)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("node");
    assert!(
        out.status.success(),
        "custody.js {op} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from node")
}

/// A contribution computed by custody.js is checked (Feldman) and summed by the Rust
/// custodian code like any other; the JavaScript's proofs verify with seal::custody for the
/// S_j the server would compute; its shares are the Rust code's; its recipients the ones
/// the server announces; the identity file it offers is read by the CLI's parser.
#[test]
fn javascript_contributions_proofs_and_shares_are_what_the_rust_code_accepts() {
    // The transport identities are made by the browser's code and read by the CLI's parser.
    let secrets: Vec<String> = (0..3)
        .map(|_| {
            let file = js("file", &json!({}));
            let text = file["text"].as_str().expect("text");
            assert!(text.starts_with("# public key: age1"));
            let line = text
                .lines()
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .expect("secret line");
            let id = seal::envelope::parse_identity(line).expect("the CLI reads it");
            assert_eq!(
                id.to_public().to_string(),
                file["recipient"].as_str().expect("recipient")
            );
            line.to_string()
        })
        .collect();
    let keys: Vec<AgeIdentity> = secrets
        .iter()
        .map(|s| seal::envelope::parse_identity(s).expect("identity"))
        .collect();
    let bando = uuid::Uuid::new_v4();
    let users: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::new_v4()).collect();
    let view: TenderKey = serde_json::from_value(json!({
        "bando_id": bando, "ceremony_id": uuid::Uuid::new_v4(), "status": "contributing", "k": 2, "n": 3,
        "submission_deadline": null, "recipients": {}, "leaf_hash": null, "completed_at": null,
        "custodians": (0..3).map(|i| json!({ "user_id": users[i], "index": i + 1,
            "transport_key": keys[i].to_public().to_string(), "contributed": false, "acked": false })).collect::<Vec<_>>(),
    }))
    .expect("view");
    // Dealer 2 is the browser; 1 and 3 the Rust code.
    let mut all = Contributions {
        bando_id: bando,
        ceremony_id: view.ceremony_id.expect("id"),
        k: 2,
        n: 3,
        custodians: view.custodians.clone(),
        contributions: Vec::new(),
    };
    for (i, user) in users.iter().enumerate() {
        let upload = if i == 1 {
            serde_json::from_value(js("contribute", &json!({ "view": view }))).expect("the upload's schema")
        } else {
            custodian::contribution(&view).expect("contribution")
        };
        for (kind, kc) in upload.kinds {
            all.contributions.push(DealerContribution {
                dealer_user_id: *user,
                dealer_index: i as u32 + 1,
                kind,
                commitments: kc.commitments,
                shares: kc.shares,
            });
        }
    }
    let all_json = serde_json::to_value(&all).expect("json");
    for (j, key) in keys.iter().enumerate() {
        let secret = &secrets[j];
        let j = j as u32 + 1;
        // The Rust custodian accepts the browser's shares (it would name dealer 2 otherwise).
        custodian::acknowledgement(key, &all).expect("the Rust ack accepts the JS contribution");
        let ack: offerte::custody::AckUpload =
            serde_json::from_value(js("ack", &json!({ "identity": secret, "all": all_json }))).expect("ack schema");
        for kind in ["A", "B", "C"] {
            let commitments: Vec<Vec<dkg::Point>> = all
                .contributions
                .iter()
                .filter(|c| c.kind == kind)
                .map(|c| {
                    c.commitments
                        .iter()
                        .map(|p| dkg::parse_point(p).expect("point"))
                        .collect()
                })
                .collect();
            let sj = dkg::verification_share(&commitments, j);
            let p = &ack.kinds[kind];
            let proof = dkg::Proof {
                commitment: dkg::parse_point(&p.commitment).expect("R"),
                response: dkg::parse_scalar(&p.response).expect("z"),
            };
            dkg::verify_proof(&sj, &proof, &dkg::proof_context(&bando.to_string(), kind, j))
                .expect("the server's check accepts the JS proof");
            let js_share = js("share", &json!({ "identity": secret, "all": all_json, "kind": kind }));
            let rust_share = custodian::opening_share(key, &all, kind).expect("share");
            assert_eq!(
                js_share["share"],
                rust_share.share.as_str(),
                "custodian {j}, kind {kind}"
            );
        }
    }
    let recipients = js("recipients", &json!({ "all": all_json }));
    for kind in ["A", "B", "C"] {
        let commitments: Vec<Vec<dkg::Point>> = all
            .contributions
            .iter()
            .filter(|c| c.kind == kind)
            .map(|c| {
                c.commitments
                    .iter()
                    .map(|p| dkg::parse_point(p).expect("point"))
                    .collect()
            })
            .collect();
        let expected = dkg::recipient_of(&dkg::tender_public_key(&commitments)).expect("recipient");
        assert_eq!(recipients[kind], expected.as_str());
    }

    // A tampered JS contribution is refused by the Rust custodian too, naming dealer 2.
    let mut forged = all.clone();
    let row = forged
        .contributions
        .iter_mut()
        .find(|c| c.dealer_index == 2 && c.kind == "C")
        .expect("row");
    // Swapped C_0 and C_1 still fit at j = 1 (C_0 + C_1 either way): custodian 2 notices.
    row.commitments.swap(0, 1);
    let e = custodian::acknowledgement(&keys[1], &forged).expect_err("refused");
    assert!(e.to_string().contains("custode 2"), "{e}");
}
