//! The world of the authorization matrix (tests/tests/authorization_matrix.rs): one centrale,
//! two enti, every actor of docs/security.md logged in, and one OEPV tender (envelopes A, B, C)
//! in each state of the matrix, all built through the API with the tender world's steps
//! (`tender`, `submit`, `open`, `admit`, ...), so that it follows however they work inside.
//!
//! | state       | tender                                                                     |
//! |-------------|----------------------------------------------------------------------------|
//! | `draft`     | created with a document, never published                                   |
//! | `published` | sealed, two bids in, a clarification, a rettifica after the bids; deadline months away |
//! | `closed`    | past its deadline and opening; commission appointed; A opened; a soccorso pending |
//! | `evaluated` | A, B, C opened; technical phase closed; economic phase done; art. 110 pending |
//! | `awarded`   | as evaluated, art. 110 accepted, proposal, award                           |
//!
//! The bidder (actor `bidder`) bids on every published tender, is the best offer and the one
//! asked for soccorso istruttorio and art. 110 explanations; a second bidder (not an actor)
//! keeps the ranking honest; a third, the secret bidder, bids on the published tender only,
//! so nothing may reveal him before its deadline. Only one clock: the published
//! tender's deadline lies after every instant the others need.

use serde_json::{json, Value};

use crate::tender_world::*;
use crate::{Client, TestApp};

/// The actors, in the order each operation is called: the least entitled first, so that an
/// operation that succeeds changes the world only after everyone who must be refused tried.
pub const ACTORS: [&str; 10] = [
    "anonymous",
    "other_supplier",
    "rup_other_ente",
    "auditor_other_ente",
    "auditor",
    "custodian",
    "commission",
    "bidder",
    "admin",
    "rup",
];

pub const STATES: [&str; 5] = ["draft", "published", "closed", "evaluated", "awarded"];

/// Ids a path parameter can take for one tender.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    pub bando: String,
    /// The bidder's envelopes by kind (none on the draft).
    pub envelopes: Vec<(String, String)>,
    pub soccorso: Option<String>,
    pub art110: Option<String>,
    pub question: Option<String>,
    pub doc: Option<String>,
}

impl Fixture {
    pub fn envelope(&self, kind: &str) -> Option<String> {
        self.envelopes.iter().find(|(k, _)| k == kind).map(|(_, e)| e.clone())
    }
}

pub struct MatrixWorld {
    pub w: World,
    /// Logged in after the last move of the clock; `None` is the anonymous caller.
    pub clients: Vec<(&'static str, Client)>,
    pub fixtures: Vec<(&'static str, Fixture)>,
    pub ente: String,
    pub other_ente: String,
    pub bidder_operatore: String,
    pub bidder_document: String,
    pub proposal: String,
    /// What identifies the secret bidder (user id, operatore id, e-mail, partita IVA, PEC):
    /// no answer to any actor may contain it (issue 9 §3).
    pub secret_markers: Vec<String>,
    /// An official who is none of the actors.
    pub spare_official: String,
}

impl MatrixWorld {
    pub fn app(&self) -> &TestApp {
        &self.w.app
    }

    pub fn fixture(&self, state: &str) -> &Fixture {
        &self
            .fixtures
            .iter()
            .find(|(s, _)| *s == state)
            .unwrap_or_else(|| panic!("no tender in state {state}"))
            .1
    }

    pub fn client(&self, actor: &str) -> &Client {
        &self
            .clients
            .iter()
            .find(|(a, _)| *a == actor)
            .unwrap_or_else(|| panic!("no actor {actor}"))
            .1
    }
}

const BIDDER: &str = "offerente@verde.it";
const SECOND: &str = "secondo@verde.it";
const OTHER_SUPPLIER: &str = "altro@verde.it";
/// Bids only on the published tender: before its deadline nobody may learn who he is.
const SECRET: &str = "riservato@verde.it";
const COMMISSION: [&str; 3] = [
    "presidente@comune.milano.it",
    "ingegnere@comune.milano.it",
    "agronomo@comune.milano.it",
];

fn oepv(w: &World, n: u64, deadline: &str, questions: &str, opening: &str) -> Value {
    json!({
        "ente_id": w.ente,
        "oggetto": format!("Servizio di manutenzione del verde, lotto funzionale {n}"),
        "cig": cig(5_000_000 + n),
        "cpv_main": "90910000-9",
        "nuts": "ITC4C",
        "contract_type": "services",
        "procedure_type": "aperta",
        "award_criterion": "oepv",
        "oepv": {
            "criteria": [
                { "code": "T1", "description": "Metodologia", "weight": "40", "kind": "discretionary" },
                { "code": "T2", "description": "Gruppo di lavoro", "weight": "30", "kind": "discretionary" }
            ],
            "economic_weight": "30",
            "economic_formula": { "kind": "linear" },
            "technical_threshold": "20",
            "reparametrization": true
        },
        "base_amount": "400000.00",
        "safety_costs": "0",
        "questions_deadline": questions,
        "submission_deadline": deadline,
        "opening_at": opening,
        "envelopes": ["A", "B", "C"],
        // The world's custodians, whoever they are (the ceremony of `tender` uses the same).
        "custodians": w.custodian_keys.iter().map(|(user, _)| user.clone()).collect::<Vec<_>>(),
        "custodian_threshold": 2
    })
}

fn upload_doc(w: &World, bando: &str, reason: bool) -> String {
    let reason = if reason { "&reason=Nuovo%20allegato" } else { "" };
    id(&w
        .rup
        .post_raw(
            &format!("/api/v1/bandi/{bando}/documenti?kind=allegato&filename=allegato.pdf{reason}"),
            "application/pdf",
            b"%PDF-1.7 allegato",
        )
        .expect(201))
}

fn bid(c: &Client, bando: &str, discount: &str) {
    submit(c, bando, "A", b"domanda e DGUE");
    submit(c, bando, "B", b"Relazione tecnica");
    submit(c, bando, "C", &offer_c(discount));
}

fn my_envelopes(c: &Client, bando: &str) -> Vec<(String, String)> {
    let bids = c.get(&format!("/api/v1/bandi/{bando}/offerta")).expect(200);
    let bid = bids
        .as_array()
        .and_then(|b| b.iter().find(|b| b["withdrawn_at"].is_null()))
        .unwrap_or_else(|| panic!("a live bid in {bids}"));
    bid["envelopes"]
        .as_array()
        .expect("envelopes")
        .iter()
        .filter(|e| e["superseded_at"].is_null())
        .map(|e| {
            let kind = e["kind"].as_str().expect("kind").to_string();
            let eid = e["envelope_id"].as_str().expect("envelope id").to_string();
            (kind, eid)
        })
        .collect()
}

pub fn matrix_world() -> MatrixWorld {
    // Every actor tries the same minimal login: the matrix is about who may call what, so the
    // login throttle (tested in abuse_accounts.rs) must not turn the later tries into 429.
    let mut w = world_with(|state| {
        let mut guard = api::guard::AccountGuard::default();
        guard.policy.account_failures = 10_000;
        guard.policy.address_failures = 10_000;
        state.accounts = std::sync::Arc::new(guard);
    });
    let admin = w.app.admin();
    let other_ente = roma_capitale(&admin);
    crate::tender_world::qualify(&admin, &other_ente);
    official(&admin, "rup@comune.roma.it", "rup", &other_ente);
    official(&admin, "revisore@comune.roma.it", "auditor", &other_ente);
    official(&admin, "revisore@comune.milano.it", "auditor", &w.ente);
    // The target of `/users/{id}` calls (a role granted there must not change an actor).
    let spare = official(&admin, "supplente@comune.milano.it", "commission", &w.ente);
    let members: Vec<String> = COMMISSION
        .iter()
        .map(|e| official(&admin, e, "commission", &w.ente))
        .collect();
    let bidder = supplier(&w.app, BIDDER);
    let second = supplier(&w.app, SECOND);
    supplier(&w.app, OTHER_SUPPLIER);
    let secret = supplier(&w.app, SECRET);
    let b1 = w.login(BIDDER);
    let b2 = w.login(SECOND);
    let b3 = w.login(SECRET);
    let bidder_operatore = id(&b1.get("/api/v1/registry/operatori/me").expect(200));
    let secret_op = b3.get("/api/v1/registry/operatori/me").expect(200);
    let secret_markers = vec![
        secret,
        id(&secret_op),
        SECRET.to_string(),
        secret_op["partita_iva"].as_str().expect("partita_iva").to_string(),
        secret_op["pec"].as_str().expect("pec").to_string(),
    ];
    let docs = b1
        .get(&format!("/api/v1/registry/operatori/{bidder_operatore}/documenti"))
        .expect(200);
    let bidder_document = docs
        .as_array()
        .and_then(|d| d.first())
        .map(id)
        .unwrap_or_else(|| panic!("a registry document in {docs}"));

    // An invitation proposal of the ente (its seed, if any, is the request's: issue 9 §6).
    let rup = w.rup.clone();
    let proposal_body = json!({ "ente_id": w.ente, "category": "OG1", "contract_type": "works", "value": "400000.00" });
    let mut reply = rup.post("/api/v1/registry/invitation-proposals", &proposal_body);
    if reply.status != 201 {
        let mut with_seed = proposal_body.clone();
        with_seed["seed"] = json!("sorteggio-matrice");
        reply = rup.post("/api/v1/registry/invitation-proposals", &with_seed);
    }
    let proposal = id(&reply.expect(201));

    // Draft: never published, with a document.
    let draft = id(&w
        .rup
        .post(
            "/api/v1/bandi",
            &oepv(&w, 1, "2026-06-05T12:00", "2026-05-25T12:00", "2026-06-05T15:00"),
        )
        .expect(201));
    let mut fixtures = vec![(
        "draft",
        Fixture {
            bando: draft.clone(),
            doc: Some(upload_doc(&w, &draft, false)),
            ..Fixture::default()
        },
    )];

    // Published (deadline in December) and three tenders that will pass their deadline.
    let published = tender(
        &w,
        oepv(&w, 2, "2026-12-04T12:00", "2026-11-20T12:00", "2026-12-04T15:00"),
    );
    let later: Vec<String> = (3..6)
        .map(|n| {
            tender(
                &w,
                oepv(&w, n, "2026-06-05T12:00", "2026-05-25T12:00", "2026-06-05T15:00"),
            )
        })
        .collect();
    let mut docs_of = Vec::new();
    for bando in std::iter::once(&published).chain(&later) {
        // A document added well before the deadline and before any bid: a rettifica
        // that needs no confirmation.
        docs_of.push(upload_doc(&w, bando, true));
        bid(&b1, bando, "25");
        bid(&b2, bando, "10");
    }
    let mut questions = Vec::new();
    for bando in std::iter::once(&published).chain(&later) {
        let q = id(&b1
            .post(
                &format!("/api/v1/bandi/{bando}/chiarimenti"),
                &json!({ "question": "Il sopralluogo è obbligatorio?" }),
            )
            .expect(201));
        questions.push(q);
    }
    // The secret bidder bids on the published tender only and asks a question there.
    bid(&b3, &published, "5");
    b3.post(
        &format!("/api/v1/bandi/{published}/chiarimenti"),
        &json!({ "question": "È ammesso il subappalto?" }),
    )
    .expect(201);
    // The published tender: a rettifica after the bids (issue 9 §1: it notifies the bidders),
    // and an answered clarification. An hour later, so the bids are before the rettifica.
    w.app.clock.set(at("2026-05-04T09:00:00Z"));
    w.rup
        .post(
            &format!("/api/v1/bandi/{published}/chiarimenti/{}/risposta", questions[0]),
            &json!({ "answer": "No, è facoltativo." }),
        )
        .expect(200);
    w.rup
        .post(
            &format!("/api/v1/bandi/{published}/rettifiche"),
            &json!({ "reason": "Proroga su richiesta degli operatori", "submission_deadline": "2026-12-11T12:00" }),
        )
        .expect(200);
    fixtures.push((
        "published",
        Fixture {
            bando: published.clone(),
            envelopes: my_envelopes(&b1, &published),
            question: Some(questions[0].clone()),
            doc: Some(docs_of[0].clone()),
            ..Fixture::default()
        },
    ));

    // Past the deadline and the opening of the three others.
    for bando in &later {
        past_opening(&mut w, bando);
    }
    let b1 = w.login(BIDDER);
    let k: Vec<Client> = COMMISSION.iter().map(|e| w.login(e)).collect();
    let states = ["closed", "evaluated", "awarded"];
    for (i, bando) in later.iter().enumerate() {
        let state = states[i];
        let v = format!("/api/v1/bandi/{bando}/valutazione");
        w.rup
            .post(
                &format!("{v}/commissione"),
                &json!({ "members": members, "president": members[0] }),
            )
            .expect(201);
        open(&w, bando, "A");
        admit(&w, bando, &second);
        let soccorso = id(&w
            .rup
            .post(
                &format!("{v}/soccorsi"),
                &json!({ "bidder_id": bidder, "request": "DGUE non firmato digitalmente", "days": 5 }),
            )
            .expect(201));
        let mut fx = Fixture {
            bando: bando.clone(),
            soccorso: Some(soccorso.clone()),
            question: Some(questions[i + 1].clone()),
            doc: Some(docs_of[i + 1].clone()),
            ..Fixture::default()
        };
        if state != "closed" {
            b1.post(
                &format!("{v}/soccorsi/{soccorso}/risposta"),
                &json!({ "answer": "Si allega il DGUE firmato" }),
            )
            .expect(200);
            w.rup
                .post(&format!("{v}/soccorsi/{soccorso}/esito"), &json!({ "accepted": true }))
                .expect(200);
            open(&w, bando, "B");
            for c in &k {
                c.post(
                    &format!("{v}/commissione/dichiarazione"),
                    &json!({ "no_incompatibility": true, "text": "Dichiaro l'assenza di cause di incompatibilità (art. 93 c.5)" }),
                )
                .expect(200);
            }
            for c in &k {
                for (who, t) in [(&bidder, "0.8"), (&second, "0.5")] {
                    c.post(
                        &format!("{v}/coefficienti"),
                        &json!({ "bidder_id": who, "coefficients": { "T1": t, "T2": t } }),
                    )
                    .expect(201);
                }
            }
            k[0].post(&format!("{v}/tecnica/chiusura"), &json!({})).expect(200);
            open(&w, bando, "C");
            let p = w.rup.post(&format!("{v}/economica"), &json!({})).expect(200);
            assert_eq!(p["evaluation"]["ranking"][0]["bidder_id"], bidder.as_str(), "{p}");
            let a110 = id(&w
                .rup
                .post(
                    &format!("{v}/art110"),
                    &json!({ "bidder_id": bidder, "request": "Giustificare il costo del personale" }),
                )
                .expect(201));
            if state == "awarded" {
                b1.post(
                    &format!("{v}/art110/{a110}/risposta"),
                    &json!({ "answer": "Si allegano le tabelle del CCNL applicato" }),
                )
                .expect(200);
                w.rup
                    .post(&format!("{v}/art110/{a110}/esito"), &json!({ "accepted": true }))
                    .expect(200);
                w.rup.post(&format!("{v}/proposta"), &json!({})).expect(200);
                w.rup
                    .post(
                        &format!("{v}/requisiti"),
                        &json!({ "requirement": "Iscrizione all'albo", "evidence": "Ordine, n. 1", "satisfied": true }),
                    )
                    .expect(201);
                let p = w.rup.post(&format!("{v}/aggiudicazione"), &json!({})).expect(200);
                assert_eq!(p["state"], "awarded", "{p}");
            }
            fx.art110 = Some(a110);
        }
        fx.envelopes = my_envelopes(&b1, bando);
        fixtures.push((state, fx));
    }

    // Everyone logs in now that the clock stays where it is.
    w.relogin();
    let app = &w.app;
    let clients: Vec<(&'static str, Client)> = ACTORS
        .iter()
        .map(|&actor| {
            let email = match actor {
                "anonymous" => return (actor, app.client()),
                "admin" => return (actor, app.admin()),
                "rup" => return (actor, w.rup.clone()),
                "other_supplier" => OTHER_SUPPLIER,
                "rup_other_ente" => "rup@comune.roma.it",
                "auditor_other_ente" => "revisore@comune.roma.it",
                "auditor" => "revisore@comune.milano.it",
                "custodian" => "custode@comune.milano.it",
                "commission" => COMMISSION[1],
                "bidder" => BIDDER,
                other => panic!("unknown actor {other}"),
            };
            (actor, w.login(email))
        })
        .collect();
    let ente = w.ente.clone();
    MatrixWorld {
        w,
        clients,
        fixtures,
        ente,
        other_ente,
        bidder_operatore,
        bidder_document,
        proposal,
        spare_official: spare,
        secret_markers,
    }
}
