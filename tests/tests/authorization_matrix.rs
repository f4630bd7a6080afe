//! Issue 9, "what it must show" §2: every operation of the OpenAPI document, called by every
//! actor on a tender in every state, answers what `tests/authorization/matrix.tsv` says.
//!
//! * The operations come from `docs/openapi.json` (the committed snapshot, kept equal to the
//!   generated one by `tests/tests/foundation.rs`): an operation without rows in the table,
//!   or a row for an operation that no longer exists, fails the test by name.
//! * Operations under `/bandi/{id}`, `/public/bandi/{id}` and `/buste/{id}` have one row per
//!   tender state (draft, published, closed, evaluated, awarded, see `journeys::matrix_world`);
//!   every other operation has one row with state `*`.
//! * Path parameters come from the world; every mutating call carries a fixed minimal body
//!   (`{}`, or a few bytes for uploads), so an allowed actor gets a validation or ordering
//!   answer (400/409/422) and a refused one 401/403/404: authorization is decided first.
//! * Calls are ordered so that a success does not spoil what follows: reads first, then
//!   mutations, then those that replace or withdraw bids and publish or move tenders, and
//!   `logout` last of all; within an operation, the least entitled actors first
//!   (`matrix_world::ACTORS`).
//! * `MATRIX_BLESS=1` rewrites the table with what was observed (the `why` column and the
//!   comments kept), for review as a diff. A 5xx fails the test even then.
//! * The same sweep, in a second test, reads every answer's body for the secret bidder of the
//!   published tender: no actor may find him before the deadline (issue 9 §3).
//!
//! docs/security.md, "Authorization matrix", explains how to read and bless it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use journeys::matrix_world::{matrix_world, MatrixWorld, ACTORS, STATES};
use journeys::serde_json::{json, Value};
use journeys::Reply;

const NIL: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    /// How the request body is sent: JSON `{}`, raw bytes with this content type, or none.
    raw_body: Option<String>,
    /// The smallest JSON body its schema accepts (see `minimal`).
    json_body: Value,
    required_query: Vec<String>,
}

impl Operation {
    fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn per_tender(&self) -> bool {
        ["/api/v1/bandi/{id}", "/api/v1/public/bandi/{id}", "/api/v1/buste/{id}"]
            .iter()
            .any(|p| self.path.starts_with(p))
    }

    fn states(&self) -> Vec<&'static str> {
        if self.per_tender() {
            STATES.to_vec()
        } else {
            vec!["*"]
        }
    }

    /// Reads, then mutations, then what replaces, withdraws, publishes or moves, then logout.
    fn rank(&self) -> u8 {
        let key = self.key();
        if key == "POST /api/v1/auth/logout" {
            4
        } else if key.ends_with("/offerta/buste/{kind}") {
            2
        } else if key == "DELETE /api/v1/bandi/{id}/offerta"
            || key.ends_with("/publish")
            || key.ends_with("/transitions")
        {
            3
        } else if self.method == "GET" {
            0
        } else {
            1
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn table_path() -> PathBuf {
    root().join("authorization").join("matrix.tsv")
}

fn operations() -> Vec<Operation> {
    let text = std::fs::read_to_string(root().join("../docs/openapi.json")).expect("docs/openapi.json");
    let doc: Value = journeys::serde_json::from_str(&text).expect("OpenAPI JSON");
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let content = op["requestBody"]["content"].as_object();
            let raw_body = content.and_then(|c| c.keys().find(|k| *k != "application/json").cloned());
            let required_query = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query" && p["required"] == true)
                        .map(|p| p["name"].as_str().expect("name").to_string())
                        .collect()
                })
                .unwrap_or_default();
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            let mut json_body = if schema.is_object() {
                minimal(&doc, schema)
            } else {
                json!({})
            };
            override_body(path, &mut json_body);
            ops.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                raw_body,
                json_body,
                required_query,
            });
        }
    }
    ops.sort_by_key(|o| (o.rank(), o.path.clone(), o.method.clone()));
    ops
}

/// The smallest value `schema` accepts: required properties only, each a placeholder of its
/// type (the nil uuid, "1", 1, true, [], the first enum value), so the body deserializes and
/// the handler reaches its authorization and domain checks instead of stopping at the JSON
/// extractor. A placeholder never names a real object, so an allowed caller gets 404/409/422.
fn minimal(doc: &Value, schema: &Value) -> Value {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().expect("ref name");
        return minimal(doc, &doc["components"]["schemas"][name]);
    }
    for alt in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[alt]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["type"] != "null").or_else(|| a.first()))
        {
            return minimal(doc, first);
        }
    }
    if let Some(e) = schema["enum"].as_array().and_then(|e| e.first()) {
        return e.clone();
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ if schema["properties"].is_object() => "object".to_string(),
        _ => "null".to_string(),
    };
    match ty.as_str() {
        "object" => {
            let mut out = journeys::serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().expect("property name");
                out.insert(name.to_string(), minimal(doc, &schema["properties"][name]));
            }
            Value::Object(out)
        }
        "string" => match schema["format"].as_str() {
            Some("uuid") => json!(NIL),
            Some("date") => json!("2026-01-01"),
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            _ => json!("1"),
        },
        // 5: inside every small range the API has (soccorso days 5..=10, k of n).
        "integer" | "number" => json!(5),
        "boolean" => json!(true),
        "array" => json!([]),
        _ => Value::Null,
    }
}

/// Where the minimal body says too little: transitions ask for the state the award procedure
/// owns (issue 9 §4: reachable only through it), and the tender's enums are written as the
/// API reads them (the OpenAPI document spells them in Rust case, see the report of H5).
fn override_body(path: &str, body: &mut Value) {
    if path.ends_with("/transitions") {
        body["to"] = json!("proposed_award");
    }
    if path == "/api/v1/bandi" || path == "/api/v1/bandi/{id}" {
        body["award_criterion"] = json!("minor_prezzo");
        body["procedure_type"] = json!("aperta");
    }
}

/// One row of the table: expected status per actor, and why (where it is a choice).
#[derive(Debug, Clone, Default)]
struct Row {
    cells: BTreeMap<String, u16>,
    why: String,
}

struct Table {
    comments: Vec<String>,
    rows: BTreeMap<(String, String), Row>,
}

fn columns() -> Vec<&'static str> {
    let mut c = vec!["operation", "state"];
    c.extend(ACTORS);
    c.push("why");
    c
}

fn read_table() -> Table {
    let text = std::fs::read_to_string(table_path()).unwrap_or_default();
    let mut comments = Vec::new();
    let mut rows = BTreeMap::new();
    let mut header: Option<Vec<String>> = None;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            comments.push(line.to_string());
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(|f| f.trim().to_string()).collect();
        let Some(h) = &header else {
            header = Some(fields);
            continue;
        };
        let get = |name: &str| {
            h.iter()
                .position(|c| c == name)
                .and_then(|i| fields.get(i))
                .cloned()
                .unwrap_or_default()
        };
        let mut row = Row {
            why: get("why"),
            ..Row::default()
        };
        for actor in ACTORS {
            let cell = get(actor);
            let status = cell
                .parse()
                .unwrap_or_else(|_| panic!("matrix.tsv line {}: bad status {cell:?} for {actor}", n + 1));
            row.cells.insert(actor.to_string(), status);
        }
        rows.insert((get("operation"), get("state")), row);
    }
    Table { comments, rows }
}

fn write_table(table: &Table, ops: &[Operation]) {
    let mut out = String::new();
    for c in &table.comments {
        out.push_str(c);
        out.push('\n');
    }
    out.push_str(&columns().join("\t"));
    out.push('\n');
    let mut ordered: Vec<&Operation> = ops.iter().collect();
    ordered.sort_by_key(|o| (o.path.clone(), o.method.clone()));
    for op in ordered {
        for state in op.states() {
            let row = &table.rows[&(op.key(), state.to_string())];
            let _ = write!(out, "{}\t{state}", op.key());
            for actor in ACTORS {
                let _ = write!(out, "\t{}", row.cells[actor]);
            }
            let _ = writeln!(out, "\t{}", row.why);
        }
    }
    std::fs::create_dir_all(table_path().parent().expect("dir")).expect("table dir");
    std::fs::write(table_path(), out).expect("write matrix.tsv");
}

/// The rows the table lacks and the rows it has for operations that do not exist.
fn coverage(table: &Table, ops: &[Operation]) -> (Vec<String>, Vec<String>) {
    let mut wanted = std::collections::BTreeSet::new();
    let mut missing = Vec::new();
    for op in ops {
        for state in op.states() {
            let k = (op.key(), state.to_string());
            if !table.rows.contains_key(&k) {
                missing.push(format!("{} [{state}]", op.key()));
            }
            wanted.insert(k);
        }
    }
    let stale = table
        .rows
        .keys()
        .filter(|k| !wanted.contains(*k))
        .map(|(o, s)| format!("{o} [{s}]"))
        .collect();
    (missing, stale)
}

/// The concrete URL of `op` on the tender in `state`.
fn url(mw: &MatrixWorld, op: &Operation, state: &str) -> String {
    let fx = (state != "*").then(|| mw.fixture(state));
    let or_nil = |v: Option<String>| v.unwrap_or_else(|| NIL.to_string());
    let p = op.path.as_str();
    let mut filled = String::new();
    let mut rest = p;
    while let Some(start) = rest.find('{') {
        let end = rest[start..].find('}').expect("closing brace") + start;
        filled.push_str(&rest[..start]);
        let name = &rest[start + 1..end];
        let value = match (name, fx) {
            ("id", Some(fx)) if p.starts_with("/api/v1/buste/") => or_nil(fx.envelope("A")),
            ("id", Some(fx)) => fx.bando.clone(),
            ("envelope", Some(fx)) if p.contains("buste-b") => or_nil(fx.envelope("B")),
            ("envelope", Some(fx)) => or_nil(fx.envelope("C")),
            // A tender without its own soccorso / art. 110 / question is given another
            // tender's: a route scoped to its tender answers 404 (issue 9 §5).
            ("sid", Some(fx)) if p.contains("/soccorsi/") => fx
                .soccorso
                .clone()
                .unwrap_or_else(|| or_nil(mw.fixture("closed").soccorso.clone())),
            ("sid", Some(fx)) => fx
                .art110
                .clone()
                .unwrap_or_else(|| or_nil(mw.fixture("evaluated").art110.clone())),
            ("q", Some(fx)) => fx
                .question
                .clone()
                .unwrap_or_else(|| or_nil(mw.fixture("published").question.clone())),
            ("doc", Some(fx)) => or_nil(fx.doc.clone()),
            // No tender of the matrix has an exclusion proposal: the id of none (the RUP of
            // the ente gets 404 after the checks of who it is; award_order.rs has real ones).
            ("pid", _) => NIL.to_string(),
            // No offer of the matrix carries a redaction request (oscuramento.rs has real ones):
            // the RUP of the ente gets 404 after the checks of who he is, anyone else 403.
            ("request", _) => NIL.to_string(),
            ("kind", _) => "C".to_string(),
            ("lotto", _) => NIL.to_string(),
            // Resumable uploads are their owners' alone: the matrix has none, and whoever
            // asks for an upload that is not his gets 404 (resumable_upload.rs has real ones).
            ("upload", _) => NIL.to_string(),
            ("index", _) => "0".to_string(),
            // A file of an opened envelope: the matrix's envelopes are single-body, so whoever
            // may read them gets 409 envelope_not_archive (busta_files.rs has real archives).
            ("name", _) => "domanda.pdf".to_string(),
            ("id", None) if p.starts_with("/api/v1/enti/") => mw.ente.clone(),
            ("id", None) if p.starts_with("/api/v1/registry/operatori/") => mw.bidder_operatore.clone(),
            ("doc", None) => mw.bidder_document.clone(),
            ("id", None) if p.starts_with("/api/v1/registry/invitation-proposals/") => mw.proposal.clone(),
            ("id", None) if p.starts_with("/api/v1/users/") => mw.spare_official.clone(),
            (other, _) => panic!("no value for path parameter {{{other}}} of {}", op.key()),
        };
        filled.push_str(&value);
        rest = &rest[end + 1..];
    }
    filled.push_str(rest);
    let query: Vec<String> = op
        .required_query
        .iter()
        .map(|q| {
            let v = match q.as_str() {
                "start" | "first" => "0",
                "end" | "second" | "tree_size" => "1",
                "kind" => "allegato",
                "filename" | "nome_file" => "matrice.pdf",
                "tipo" => "visura_camerale",
                other => panic!("no value for query parameter {other} of {}", op.key()),
            };
            format!("{q}={v}")
        })
        .collect();
    if !query.is_empty() {
        filled.push('?');
        filled.push_str(&query.join("&"));
    }
    filled
}

fn call(mw: &MatrixWorld, op: &Operation, state: &str, actor: &str) -> Reply {
    let c = mw.client(actor);
    let url = url(mw, op, state);
    let body = &op.json_body;
    match (op.method.as_str(), &op.raw_body) {
        ("GET", _) => c.get(&url),
        ("DELETE", _) => c.delete(&url),
        ("POST", Some(ct)) => {
            let ct = if url.contains("/documenti") {
                "application/pdf"
            } else {
                ct.as_str()
            };
            c.post_raw(&url, ct, b"%PDF-1.7 matrice")
        }
        ("POST", None) => c.post(&url, body),
        ("PUT", _) => c.put(&url, body),
        ("PATCH", _) => c.patch(&url, body),
        (m, _) => panic!("method {m}"),
    }
}

/// Operations whose answers must not name the secret bidder: all but the albo and the user
/// list, which are about suppliers as such and not about any tender.
fn watched_for_secrecy(op: &Operation) -> bool {
    !op.path.starts_with("/api/v1/registry/") && !op.path.starts_with("/api/v1/users")
}

/// A new route without rows, or rows for a route that is gone, fail at once (no world needed).
#[test]
fn the_matrix_has_rows_for_exactly_the_operations_of_the_openapi_document() {
    let ops = operations();
    let table = read_table();
    let (missing, stale) = coverage(&table, &ops);
    assert!(
        missing.is_empty() && stale.is_empty(),
        "operations without rows in tests/authorization/matrix.tsv:\n  {}\nrows for operations \
         that do not exist:\n  {}",
        missing.join("\n  "),
        stale.join("\n  ")
    );
    // And the check itself bites: drop one operation's rows, invent one.
    let mut broken = read_table();
    let first = (ops[0].key(), ops[0].states()[0].to_string());
    broken.rows.remove(&first);
    broken
        .rows
        .insert(("GET /api/v1/nowhere".into(), "*".into()), Row::default());
    let (missing, stale) = coverage(&broken, &ops);
    assert_eq!(missing, vec![format!("{} [{}]", first.0, first.1)]);
    assert_eq!(stale, vec!["GET /api/v1/nowhere [*]".to_string()]);
}

type Answers = BTreeMap<(String, String), BTreeMap<String, (u16, String)>>;

/// Every operation, in every state, as every actor, in the order of `Operation::rank`.
struct Sweep {
    /// (operation, state) → actor → (status, problem code).
    observed: Answers,
    /// Answers that name the secret bidder.
    leaks: Vec<String>,
}

fn sweep(mw: &MatrixWorld, ops: &[Operation]) -> Sweep {
    if std::env::var("MATRIX_SHOW_BODIES").is_ok() {
        for op in ops {
            eprintln!("{}\t{}", op.key(), op.json_body);
        }
    }
    let mut leaks = Vec::new();
    let mut observed = Answers::new();
    for op in ops {
        for state in op.states() {
            for actor in ACTORS {
                let r = call(mw, op, state, actor);
                if watched_for_secrecy(op) {
                    for m in &mw.secret_markers {
                        if r.text.contains(m.as_str()) {
                            leaks.push(format!("{} [{state}] as {actor}: the answer contains {m}", op.key()));
                        }
                    }
                }
                observed
                    .entry((op.key(), state.to_string()))
                    .or_default()
                    .insert(actor.to_string(), (r.status, r.code().to_string()));
            }
        }
    }
    Sweep { observed, leaks }
}

/// Issue 9 §3: the secret bidder bid on the published tender (and asked a clarification); no
/// answer of any operation, to any actor (the RUP, the commission, the auditor, the admin
/// included), names him before the deadline: not his user id, operatore id, e-mail, partita
/// IVA or PEC. The albo and the user list are about suppliers, not tenders, and are not
/// watched.
#[test]
fn no_answer_to_any_actor_names_a_bidder_before_the_deadline() {
    let ops = operations();
    let mw = matrix_world();
    let Sweep { leaks, .. } = sweep(&mw, &ops);
    assert!(
        leaks.is_empty(),
        "{} answers reveal the secret bidder of the published tender before its deadline:\n  {}",
        leaks.len(),
        leaks.join("\n  ")
    );
}

#[test]
fn every_operation_answers_every_actor_in_every_tender_state_as_the_matrix_says() {
    let bless = std::env::var("MATRIX_BLESS").is_ok_and(|v| v == "1");
    let ops = operations();
    let mut table = read_table();
    let (missing, stale) = coverage(&table, &ops);
    if !bless && (!missing.is_empty() || !stale.is_empty()) {
        panic!(
            "tests/authorization/matrix.tsv is out of date with docs/openapi.json \
             (add rows, or run with MATRIX_BLESS=1 and review the diff)\n\
             operations without rows:\n  {}\nrows for operations that do not exist:\n  {}",
            missing.join("\n  "),
            stale.join("\n  ")
        );
    }

    let mw = matrix_world();
    let Sweep { observed, .. } = sweep(&mw, &ops);

    let mut server_errors = Vec::new();
    let mut mismatches = Vec::new();
    for ((op, state), answers) in &observed {
        for actor in ACTORS {
            let (got, code) = &answers[actor];
            if *got >= 500 {
                server_errors.push(format!("{op} [{state}] as {actor}: {got} {code}"));
            }
            let expected = table
                .rows
                .get(&(op.clone(), state.clone()))
                .and_then(|r| r.cells.get(actor));
            if expected != Some(got) {
                mismatches.push(format!(
                    "{op} [{state}] as {actor}: expected {}, got {got} {code}",
                    expected.map_or("-".to_string(), u16::to_string)
                ));
            }
        }
    }

    if bless {
        for ((op, state), answers) in &observed {
            let row = table.rows.entry((op.clone(), state.clone())).or_default();
            for (actor, (status, _)) in answers {
                row.cells.insert(actor.clone(), *status);
            }
        }
        table.rows.retain(|k, _| observed.contains_key(k));
        write_table(&table, &ops);
        eprintln!(
            "MATRIX_BLESS: rewrote {} ({} cells changed)",
            table_path().display(),
            mismatches.len()
        );
        for m in &mismatches {
            eprintln!("  {m}");
        }
    }
    // One message with everything, so a reviewer sees the whole picture at once.
    let mut report = String::new();
    if !server_errors.is_empty() {
        let _ = write!(
            report,
            "\n{} answers in the 5xx range (always a failure, even blessed):\n  {}",
            server_errors.len(),
            server_errors.join("\n  ")
        );
    }
    if !bless && !mismatches.is_empty() {
        let _ = write!(
            report,
            "\n{} cells of tests/authorization/matrix.tsv differ from the answers \
             (operation [state] as actor: expected, got status code):\n  {}",
            mismatches.len(),
            mismatches.join("\n  ")
        );
    }
    assert!(report.is_empty(), "{report}");
}
