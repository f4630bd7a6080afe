// The custodian's side of the dealerless key ceremony and of the opening, in his own browser
// (docs/seal.md, "Custody" and "The custodian in the browser"). It computes exactly what
// `centrale keys contribute / ack / decrypt-share` compute (offerte::custodian,
// seal::custody): same JSON, same Feldman check, same Schnorr transcript, so the server
// cannot tell, and need not care, which tool a custodian used.
//
// The custodian's age transport identity (AGE-SECRET-KEY-1…) is made here and never leaves
// the machine: it is kept in this browser's localStorage under the tender and the user, and
// offered as a file in the format `centrale keys custodian-keygen --out` writes, so the CLI
// can take over. Only the public key (age1…) is posted. Shares are decrypted and summed in
// memory; what is posted is commitments, age ciphertexts, proofs and, at the opening of a
// kind, the custodian's own share of that kind.
//
// Group arithmetic: the Ed25519 group through @noble/curves (points in the wire form of
// curve25519-dalek's compressed Edwards Y, scalars as 32 little-endian bytes mod ℓ).

import {
  Encrypter,
  Decrypter,
  generateX25519Identity,
  identityToRecipient,
  ed25519,
  sha512,
  bytesToHex,
  hexToBytes,
  bech32,
} from "../vendor/age/age.bundle.js";

/** The three independent keys of a tender, one per envelope kind. */
export const KINDS = ["A", "B", "C"];
/** The first bytes of every binary age file (the server refuses any other share). */
const AGE_MAGIC = "age-encryption.org/v1\n";
/** Domain separation of the Schnorr challenge (seal::custody::PROOF_DOMAIN). */
const PROOF_DOMAIN = new TextEncoder().encode("centrale-dkg-proof/v1\n");

const Point = ed25519.Point;
/** ℓ, the order of the prime-order subgroup. */
export const ORDER = Point.Fn.ORDER;

/** A refusal or failure, with a stable `code` and an Italian `message`. */
export class CustodyFailure extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "CustodyFailure";
    this.code = code;
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------
// Scalars and points, in the wire forms of seal::custody.

const mod = (a) => ((a % ORDER) + ORDER) % ORDER;

function leToBig(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

function bigToLe32(n) {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** A uniformly random scalar: 64 random bytes reduced mod ℓ, as `random_scalar`. */
export function randomScalar() {
  const wide = new Uint8Array(64);
  crypto.getRandomValues(wide);
  const s = mod(leToBig(wide));
  wide.fill(0);
  return s;
}

/** Hex of a scalar (canonical little-endian bytes), as `scalar_hex`. */
export function scalarHex(s) {
  return bytesToHex(bigToLe32(mod(s)));
}

/** A canonical scalar from hex (`parse_scalar`); throws on anything else. */
export function parseScalar(hex) {
  const bytes = typeof hex === "string" ? safeHex(hex.trim()) : hex;
  if (!bytes || bytes.length !== 32) throw new CustodyFailure("share_malformed", "Serve un valore di 32 byte.");
  const s = leToBig(bytes);
  if (s >= ORDER) throw new CustodyFailure("share_malformed", "Valore non canonico.");
  return s;
}

function safeHex(s) {
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) return null;
  return hexToBytes(s);
}

/** s·B; the identity for s = 0 (noble refuses to multiply by 0, dalek does not). */
export function mulBase(s) {
  s = mod(s);
  return s === 0n ? Point.ZERO : Point.BASE.multiply(s);
}

/** s·P for public data (no constant-time need). */
function mulPublic(p, s) {
  return p.multiplyUnsafe(mod(s));
}

/** Hex of a compressed Edwards point (`point_hex`). */
export function pointHex(p) {
  return p.toHex();
}

/** A point of the prime-order subgroup, not the identity, from hex (`parse_point`). */
export function parsePoint(hex) {
  const bytes = typeof hex === "string" ? safeHex(hex.trim()) : null;
  if (!bytes || bytes.length !== 32) {
    throw new CustodyFailure("commitment_malformed", "Serve un punto di 32 byte in esadecimale.");
  }
  let p;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    throw new CustodyFailure("commitment_malformed", "Il punto non è sulla curva.");
  }
  if (p.is0() || !p.isTorsionFree()) {
    throw new CustodyFailure("commitment_malformed", "Il punto non appartiene al sottogruppo di ordine primo.");
  }
  return p;
}

/** f(x) by Horner's rule, coefficients lowest degree first. */
function evaluate(coeffs, x) {
  const xb = BigInt(x);
  return coeffs.reduceRight((acc, c) => mod(acc * xb + c), 0n);
}

/** Σ_m j^m·C_m: what f(j)·B must be for a dealer with these commitments. */
export function expectedSharePoint(commitments, j) {
  return commitments.reduceRight((acc, c) => mulPublic(acc, BigInt(j)).add(c), Point.ZERO);
}

/** The Feldman check: is `share` the value at j of the committed polynomial? */
export function shareIsConsistent(commitments, j, share) {
  return mulBase(share).equals(expectedSharePoint(commitments, j));
}

/** The tender key X = Σ_i C_i,0. */
export function tenderPublicKey(all) {
  return all.filter((c) => c.length > 0).reduce((acc, c) => acc.add(c[0]), Point.ZERO);
}

/** Custodian j's verification share S_j = Σ_i Σ_m j^m·C_i,m. */
export function verificationShare(all, j) {
  return all.reduce((acc, c) => acc.add(expectedSharePoint(c, j)), Point.ZERO);
}

/** The age recipient (age1…) of an Edwards point: Bech32 of its Montgomery u (`recipient_of`). */
export function recipientOf(point) {
  const u = ed25519.utils.toMontgomery(point.toBytes());
  return bech32.encode("age", bech32.toWords(u), 1023);
}

// ---------------------------------------------------------------------------------------
// Schnorr proofs of knowledge (seal::custody::prove / verify_proof).

/** The context a proof is bound to: one tender, one kind, one custodian number. */
export function proofContext(tender, kind, j) {
  return new TextEncoder().encode(`tender ${tender}\nkind ${kind}\ncustodian ${j}\n`);
}

function challenge(context, sPoint, rPoint) {
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(context.length), false);
  const h = sha512.create();
  h.update(PROOF_DOMAIN);
  h.update(len);
  h.update(context);
  h.update(sPoint.toBytes());
  h.update(rPoint.toBytes());
  return mod(leToBig(h.digest()));
}

/** Proves knowledge of `secret` (S = secret·B) for `context`; the wire form of ProofWire. */
export function prove(secret, context) {
  let nonce = randomScalar();
  while (nonce === 0n) nonce = randomScalar();
  const commitment = Point.BASE.multiply(nonce);
  const c = challenge(context, mulBase(secret), commitment);
  const response = mod(nonce + c * secret);
  nonce = 0n;
  return { commitment: pointHex(commitment), response: scalarHex(response) };
}

/** Does `proof` (wire form) prove knowledge of the discrete log of `pub` for `context`? */
export function verifyProof(pub, proof, context) {
  try {
    const r = parsePoint(proof.commitment);
    const z = parseScalar(proof.response);
    const c = challenge(context, pub, r);
    return mulBase(z).equals(r.add(mulPublic(pub, c)));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------
// Base64 (the wire form of encrypted shares: standard alphabet, padded).

export function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function unb64(text) {
  try {
    const s = atob(String(text).trim());
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    throw new CustodyFailure("share_malformed", "Quota cifrata non in base64.");
  }
}

// ---------------------------------------------------------------------------------------
// The transport identity and its file.

/** A fresh age X25519 transport identity: `{ identity, recipient }`. */
export async function newTransportIdentity() {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The identity file as `centrale keys custodian-keygen --out` writes it. */
export function identityFile(identity, recipient) {
  return `# public key: ${recipient}\n${identity}\n`;
}

/** The AGE-SECRET-KEY- line of an identity file (as the CLI reads it), or a failure. */
export function parseIdentityFile(text) {
  const line = String(text)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.startsWith("AGE-SECRET-KEY-"));
  if (!line) throw new CustodyFailure("identity_missing", "Il file non contiene una chiave AGE-SECRET-KEY-.");
  return line;
}

/** Where this browser keeps a custodian's identity: one per tender and user. */
export function storageKey(bando, user) {
  return `centrale-custode:${bando}:${user}`;
}

export function saveIdentity(storage, bando, user, identity, recipient) {
  storage.setItem(storageKey(bando, user), JSON.stringify({ identity, recipient }));
}

/** `{ identity, recipient }` kept for this tender and user, or null. */
export function loadIdentity(storage, bando, user) {
  const raw = storage.getItem(storageKey(bando, user));
  if (!raw) return null;
  try {
    const v = JSON.parse(raw);
    return v && typeof v.identity === "string" ? v : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// The three acts, as offerte::custodian computes them.

async function sealShare(recipient, bytes) {
  const e = new Encrypter();
  e.addRecipient(recipient);
  const ct = await e.encrypt(bytes);
  return ct;
}

/**
 * A fresh contribution for every kind, to the custodians' registered transport keys
 * (`custodian::contribution`): `{ kinds: { A: { commitments, shares: [{ index, ciphertext }] }, … } }`.
 * `view` is GET /bandi/{id}/sigillo. The polynomials exist only inside this call.
 */
export async function contribution(view) {
  const participants = view.custodians.map((c) => {
    if (!c.transport_key) {
      throw new CustodyFailure(
        "transport_keys_missing",
        `Il custode ${c.index} non ha ancora registrato la chiave di trasporto`,
      );
    }
    return { index: c.index, key: c.transport_key };
  });
  const k = view.k;
  if (!(k >= 2 && k <= participants.length && participants.length <= 255)) {
    throw new CustodyFailure("invalid_threshold", `Soglia non valida: ${k} su ${participants.length}.`);
  }
  const kinds = {};
  for (const kind of KINDS) {
    const coeffs = [];
    for (let m = 0; m < k; m++) {
      let a = randomScalar();
      // a = 0 would commit to the identity, which the server refuses (probability 2^-252).
      while (a === 0n) a = randomScalar();
      coeffs.push(a);
    }
    const commitments = coeffs.map((a) => pointHex(Point.BASE.multiply(a)));
    const shares = [];
    for (const p of participants) {
      const plain = bigToLe32(evaluate(coeffs, p.index));
      const ct = await sealShare(p.key, plain);
      plain.fill(0);
      shares.push({ index: p.index, ciphertext: b64(ct) });
    }
    coeffs.fill(0n);
    kinds[kind] = { commitments, shares };
  }
  return { kinds };
}

/** The caller's custodian number: the one whose registered transport key is this identity's. */
export async function myIndex(identity, all) {
  const me = await identityToRecipient(identity);
  const c = all.custodians.find((x) => x.transport_key === me);
  if (!c) {
    throw new CustodyFailure("custody_complaint", `Nessun custode ha registrato la chiave di trasporto ${me}`);
  }
  return c.index;
}

async function openShare(identity, ciphertext) {
  const d = new Decrypter();
  d.addIdentity(identity);
  let plain;
  try {
    plain = await d.decrypt(ciphertext);
  } catch (e) {
    throw new CustodyFailure("share_decrypt_failed", `La quota non si decifra: ${e.message}`);
  }
  try {
    return parseScalar(plain);
  } finally {
    plain.fill(0);
  }
}

/**
 * Decrypts and checks (Feldman) every share sent to custodian j for `kind`, and sums them
 * (`combined_share`). A share that fails names its dealer: the ceremony must be redone.
 */
export async function combinedShare(identity, all, j, kind) {
  let sum = 0n;
  let dealers = 0;
  const cheaters = [];
  for (const c of all.contributions.filter((x) => x.kind === kind)) {
    dealers += 1;
    let ok = false;
    try {
      const commitments = c.commitments.map(parsePoint);
      const sealed = c.shares.find((s) => s.index === j);
      if (commitments.length === all.k && sealed) {
        const share = await openShare(identity, unb64(sealed.ciphertext));
        if (shareIsConsistent(commitments, j, share)) {
          sum = mod(sum + share);
          ok = true;
        }
      }
    } catch {
      ok = false;
    }
    if (!ok) cheaters.push(`custode ${c.dealer_index} (${c.dealer_user_id}), busta ${kind}`);
  }
  if (cheaters.length) {
    throw new CustodyFailure(
      "custody_complaint",
      `Reclamo: la quota ricevuta non è coerente con gli impegni pubblicati da ${cheaters.join("; ")}. Non confermare: il RUP deve azzerare la cerimonia`,
    );
  }
  if (dealers !== all.n) {
    throw new CustodyFailure("contributions_missing", `Busta ${kind}: contributi ricevuti ${dealers} su ${all.n}`);
  }
  return sum;
}

/** The acknowledgement to post (`custodian::acknowledgement`): a proof of knowledge per kind. */
export async function acknowledgement(identity, all) {
  const j = await myIndex(identity, all);
  const kinds = {};
  for (const kind of KINDS) {
    let s = await combinedShare(identity, all, j, kind);
    kinds[kind] = prove(s, proofContext(all.bando_id, kind, j));
    s = 0n;
  }
  return { kinds };
}

/** The custodian's share of `kind` to post at its opening (`custodian::opening_share`). */
export async function openingShare(identity, all, kind) {
  if (!KINDS.includes(kind)) throw new CustodyFailure("kind_invalid", `Busta «${kind}» sconosciuta.`);
  const j = await myIndex(identity, all);
  return { share: scalarHex(await combinedShare(identity, all, j, kind)) };
}

/**
 * What each kind's recipient must be, recomputed from the published commitments: the
 * custodian checks the key the server announces to bidders.
 */
export function recipientsFromContributions(all) {
  const out = {};
  const order = all.custodians.map((c) => c.user_id);
  for (const kind of KINDS) {
    const rows = all.contributions
      .filter((c) => c.kind === kind)
      .sort((a, b) => order.indexOf(a.dealer_user_id) - order.indexOf(b.dealer_user_id));
    out[kind] = recipientOf(tenderPublicKey(rows.map((c) => c.commitments.map(parsePoint))));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The API with the portal session: cookie, CSRF header on every non-GET, problem+json.

export function apiClient({ api, csrf = "", fetch = globalThis.fetch.bind(globalThis) }) {
  return {
    async request(method, path, json) {
      const headers = {};
      if (method !== "GET") headers["X-CSRF-Token"] = csrf;
      let body;
      if (json !== undefined) {
        headers["Content-Type"] = "application/json";
        body = JSON.stringify(json);
      }
      const res = await fetch(api + path, { method, headers, body, credentials: "same-origin" });
      const type = res.headers.get("content-type") || "";
      const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
      if (res.status >= 400) {
        const msg = (data && (data.detail || data.message || data.title)) || `errore ${res.status}`;
        throw new CustodyFailure((data && data.code) || `http_${res.status}`, msg, res.status);
      }
      return data;
    },
  };
}

/** Round 1: a new transport identity, kept first (so it cannot be lost), then registered. */
export async function registerTransportKey(client, { bando, user, storage }) {
  const { identity, recipient } = await newTransportIdentity();
  if (storage) saveIdentity(storage, bando, user, identity, recipient);
  const view = await client.request("POST", `/bandi/${bando}/sigillo/custodi`, { age_key: recipient });
  return { identity, recipient, view };
}

/** Round 2: the contribution, computed here from the registered transport keys. */
export async function postContribution(client, { bando }) {
  const view = await client.request("GET", `/bandi/${bando}/sigillo`);
  const upload = await contribution(view);
  return client.request("POST", `/bandi/${bando}/sigillo/contributi`, upload);
}

/** Round 3: every share checked, the proofs posted; the server's recipients checked too. */
export async function postAcknowledgement(client, { bando, identity }) {
  const all = await client.request("GET", `/bandi/${bando}/sigillo/contributi`);
  const ack = await acknowledgement(identity, all);
  const mine = recipientsFromContributions(all);
  const view = await client.request("GET", `/bandi/${bando}/sigillo`);
  for (const kind of KINDS) {
    if (view.recipients && view.recipients[kind] && view.recipients[kind] !== mine[kind]) {
      throw new CustodyFailure(
        "recipient_mismatch",
        `La chiave pubblica della busta ${kind} annunciata dalla piattaforma non è quella che risulta dagli impegni: non confermare e avvisare il RUP.`,
      );
    }
  }
  const done = await client.request("POST", `/bandi/${bando}/sigillo/conferme`, ack);
  return { view: done, recipients: mine };
}

/** At the opening of `kind`: this custodian's share of it, computed here and posted. */
export async function postOpeningShare(client, { bando, identity, kind }) {
  const all = await client.request("GET", `/bandi/${bando}/sigillo/contributi`);
  const share = await openingShare(identity, all, kind);
  return client.request("POST", `/bandi/${bando}/aperture/${kind}/quote`, share);
}

// ---------------------------------------------------------------------------------------
// The page (official::custody): `#custodia` carries data-bando, data-user, data-api and
// data-transport-key (the key the server has for this custodian, if any).

export function initCustodyPage(doc = document, win = globalThis) {
  const root = doc.getElementById("custodia");
  if (!root) return;
  const { bando, user } = root.dataset;
  const registered = root.dataset.transportKey || "";
  const api = root.dataset.api || "/api/v1";
  const meta = doc.querySelector('meta[name="csrf-token"]');
  const client = apiClient({ api, csrf: meta ? meta.content : "" });
  const storage = win.localStorage;
  const out = doc.getElementById("custodia-esito");
  const keyState = doc.getElementById("custodia-chiave-stato");
  const download = doc.getElementById("custodia-scarica");
  const fileInput = doc.getElementById("custodia-chiave-file");
  let held = loadIdentity(storage, bando, user);

  const say = (text, kind = "info") => {
    out.className = `alert alert-${kind} mt-3`;
    out.replaceChildren(doc.createTextNode(text));
  };
  const sayDone = (text) => {
    say(text, "success");
    const a = doc.createElement("a");
    a.href = win.location.pathname;
    a.textContent = " Aggiorna lo stato della cerimonia";
    a.id = "custodia-aggiorna";
    out.append(a);
  };
  const offerDownload = () => {
    if (!download) return;
    if (!held) {
      download.hidden = true;
      return;
    }
    const blob = new Blob([identityFile(held.identity, held.recipient)], { type: "text/plain" });
    download.href = URL.createObjectURL(blob);
    download.download = `chiave-custode-${bando}.txt`;
    download.hidden = false;
  };
  const showKey = () => {
    if (!keyState) return;
    if (!held) {
      keyState.textContent = registered
        ? "La chiave privata non è in questo browser: caricare il file della chiave scaricato alla registrazione."
        : "Nessuna chiave di trasporto in questo browser.";
    } else if (registered && held.recipient !== registered) {
      keyState.textContent = `La chiave in questo browser (${held.recipient}) NON è quella registrata per questo custode (${registered}).`;
    } else {
      keyState.textContent = `Chiave privata presente in questo browser; chiave pubblica ${held.recipient}.`;
    }
    offerDownload();
  };
  showKey();

  if (fileInput) {
    fileInput.addEventListener("change", async () => {
      const f = fileInput.files && fileInput.files[0];
      if (!f) return;
      try {
        const identity = parseIdentityFile(await f.text());
        const recipient = await identityToRecipient(identity);
        saveIdentity(storage, bando, user, identity, recipient);
        held = { identity, recipient };
        showKey();
        say("Chiave caricata dal file e conservata in questo browser.", "success");
      } catch (e) {
        say(e instanceof CustodyFailure ? e.message : `File non valido: ${e.message}`, "danger");
      }
    });
  }

  const needKey = () => {
    if (!held) {
      throw new CustodyFailure(
        "identity_missing",
        "Serve la chiave privata di trasporto: caricare il file scaricato alla registrazione.",
      );
    }
    return held.identity;
  };

  const acts = {
    async registra() {
      say("Generazione della chiave di trasporto in questo browser…");
      const r = await registerTransportKey(client, { bando, user, storage });
      held = { identity: r.identity, recipient: r.recipient };
      showKey();
      sayDone(
        `Chiave pubblica registrata: ${r.recipient}. La chiave privata resta in questo browser: scaricarne una copia e conservarla (serve anche per la quota all'apertura).`,
      );
    },
    async contribuisci() {
      say("Calcolo del contributo in questo browser…");
      await postContribution(client, { bando });
      sayDone("Contributo caricato: impegni pubblici e quote cifrate per ciascun custode.");
    },
    async conferma() {
      say("Decifratura e verifica delle quote ricevute in questo browser…");
      await postAcknowledgement(client, { bando, identity: needKey() });
      sayDone("Quote verificate e conferma inviata.");
    },
    async quota(button) {
      const kind = button.dataset.busta;
      say(`Calcolo della quota della busta ${kind} in questo browser…`);
      await postOpeningShare(client, { bando, identity: needKey(), kind });
      sayDone(`Quota della busta ${kind} presentata.`);
    },
  };

  for (const button of doc.querySelectorAll("[data-azione]")) {
    const act = acts[button.dataset.azione];
    if (!act) continue;
    button.disabled = false;
    button.addEventListener("click", async (ev) => {
      ev.preventDefault();
      button.disabled = true;
      try {
        await act(button);
      } catch (e) {
        const msg = e instanceof CustodyFailure ? e.message : `Errore imprevisto: ${e.message}`;
        say(`Operazione non eseguita. ${msg}`, "danger");
        button.disabled = false;
      }
    });
  }
}

if (typeof document !== "undefined") initCustodyPage(document, window);

export { AGE_MAGIC };
