// Receipt verification in the browser: the checks `centrale verify` runs
// (offerte::bundle::verify_bundle over crates/seal/src/{receipt,checkpoint,merkle,verify}.rs),
// in the same order, with the same byte formats and the same strictness, so that a bundle
// the Rust verifier refuses is refused here too. The first failure stops the run, as there.
//
// Not checked here: the RFC 3161 token's CMS signature and certificate chain. The page reads
// the token's time and imprint (a small DER reader, below) and leaves the signature to
// `openssl ts -verify` (docs/portal-sealing.md); a browser has no audited CMS verifier.
//
// The exported functions need no DOM; `initVerifyForm` wires `#verifica-form` when present.

import { sha256, ed25519, bytesToHex, hexToBytes } from "../vendor/age/age.bundle.js";

const encoder = new TextEncoder();

/** The checks, in the order they run, with their Italian labels. */
export const CHECKS = [
  ["bundle", "Chiavi del pacchetto di verifica leggibili"],
  ["receipt-signature", "Firma Ed25519 della ricevuta (e della promessa di inclusione)"],
  ["envelope-digest", "Dimensione e impronta SHA-256 della busta cifrata uguali a quelle della ricevuta"],
  ["leaf-hash", "Foglia del registro ricalcolata dalla ricevuta"],
  ["checkpoint-signature", "Firma Ed25519 del checkpoint del registro (signed note)"],
  ["inclusion", "Inclusione della ricevuta nel registro (prova di Merkle RFC 6962 fino alla radice)"],
  ["consistency", "Coerenza con il checkpoint precedente"],
];

/** A failed check: `check` is the Rust name, `code` the SealError code. */
export class VerifyError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "VerifyError";
    this.code = code;
  }
}

const fail = (code, message) => {
  throw new VerifyError(code, message);
};
const malformed = (what) => fail("receipt.malformed", `Ricevuta non valida: ${what}`);

// ---------------------------------------------------------------------------------------
// Encodings, as strict as the Rust side (base64 crate STANDARD, hex, canonical decimals).

/** Standard base64 with padding, canonical only (re-encoding gives the same text). */
export function decodeBase64(s) {
  if (typeof s !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  let bin;
  try {
    bin = atob(s);
  } catch {
    return null;
  }
  const out = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return encodeBase64(out) === s ? out : null;
}

export function encodeBase64(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

const HEX64 = /^[0-9a-f]{64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function canonicalDecimal(s, allowZero) {
  if (!/^\d+$/.test(s)) return false;
  return s === "0" ? allowZero : !s.startsWith("0");
}

/** A time in the receipt's canonical form (RFC 3339 UTC, 6 fractional digits, Z). */
function checkTime(s) {
  if (!TIME.test(s)) malformed("data non in forma canonica (UTC, 6 decimali, Z)");
  // Date.parse ignores digits past milliseconds; an impossible date (2026-02-30) is NaN or moves.
  const ms = Date.parse(s.slice(0, 23) + "Z");
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== s.slice(0, 19)) {
    malformed("data inesistente");
  }
  return s;
}

function checkId(id, what) {
  if (id.length === 0 || /[\s\u0000-\u001f\u007f-\u009f]/u.test(id)) malformed(`${what} vuoto o con spazi`);
}

/** Hex hash as bundles carry proofs: the hex crate accepts both cases. */
function proofHash(h) {
  if (typeof h !== "string" || !/^[0-9a-fA-F]{64}$/.test(h)) {
    fail("receipt.malformed", "Ricevuta non valida: hash di prova non valido");
  }
  return hexToBytes(h.toLowerCase());
}

function concat(...parts) {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

// ---------------------------------------------------------------------------------------
// Receipts (crates/seal/src/receipt.rs).

/**
 * Parses the transport form (`centrale-receipt/v1` lines plus `signature <base64>`), only
 * in canonical form. Returns the fields, the signed bytes and the leaf data.
 */
export function parseSignedReceipt(text) {
  if (typeof text !== "string" || !text.endsWith("\n")) malformed("manca l'a capo finale");
  const body = text.slice(0, -1);
  const cut = body.lastIndexOf("\n");
  if (cut < 0 || !body.slice(cut + 1).startsWith("signature ")) malformed("manca la riga della firma");
  const canonical = body.slice(0, cut + 1);
  const signature = decodeBase64(body.slice(cut + 1 + "signature ".length));
  if (!signature || signature.length !== 64) malformed("firma non in base64 canonico di 64 byte");
  const lines = canonical.slice(0, -1).split("\n");
  if (lines.length !== 9 || lines[0] !== "centrale-receipt/v1") malformed("intestazione o numero di righe errati");
  const field = (i, key) => {
    if (!lines[i].startsWith(key + " ")) malformed(`campo «${key}» mancante o fuori posto`);
    return lines[i].slice(key.length + 1);
  };
  const r = {
    tender: field(1, "tender"),
    bidder: field(2, "bidder"),
    envelope: field(3, "envelope"),
    ciphertextSha256: field(4, "ciphertext-sha256"),
    size: field(5, "size"),
    receivedAt: field(6, "received-at"),
    leafHash: field(7, "leaf-hash"),
  };
  checkId(r.tender, "identificativo della gara");
  checkId(r.bidder, "identificativo dell'operatore");
  if (!["A", "B", "C"].includes(r.envelope)) malformed("tipo di busta diverso da A, B, C");
  if (!HEX64.test(r.ciphertextSha256) || !HEX64.test(r.leafHash)) malformed("hash non di 64 cifre esadecimali minuscole");
  if (!canonicalDecimal(r.size, true) || !Number.isSafeInteger(Number(r.size))) malformed("numero non decimale canonico");
  r.size = Number(r.size);
  checkTime(r.receivedAt);
  if (lines[8].startsWith("leaf-index ")) {
    const i = lines[8].slice("leaf-index ".length);
    if (!canonicalDecimal(i, true) || !Number.isSafeInteger(Number(i))) malformed("numero non decimale canonico");
    r.leafIndex = Number(i);
  } else {
    const rest = field(8, "promise");
    const sp = rest.indexOf(" ");
    if (sp < 0) malformed("promessa incompleta");
    const sig = decodeBase64(rest.slice(sp + 1));
    if (!sig || sig.length !== 64) malformed("firma della promessa non valida");
    r.promise = { integrateBy: checkTime(rest.slice(0, sp)), signature: sig };
  }
  const entry = lines.slice(1, 7).map((l) => l + "\n").join("");
  return {
    ...r,
    signature,
    canonicalBytes: encoder.encode(canonical),
    leafData: encoder.encode("centrale-envelope-received/v1\n" + entry),
  };
}

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data) {
  return sha256(concat(Uint8Array.of(0), data));
}

/** RFC 6962 node hash: SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

/** Receipt signature (dalek `verify_strict`: zip215 off) and, for a promise, its signature. */
export function checkReceiptSignature(receipt, platformKey) {
  if (!ed25519.verify(receipt.signature, receipt.canonicalBytes, platformKey, { zip215: false })) {
    fail("receipt.signature_invalid", "Firma della ricevuta non valida");
  }
  if (receipt.promise) {
    const msg = encoder.encode(
      `centrale-promise/v1\nleaf-hash ${receipt.leafHash}\nintegrate-by ${receipt.promise.integrateBy}\n`,
    );
    if (!ed25519.verify(receipt.promise.signature, msg, platformKey)) {
      fail("receipt.promise_signature_invalid", "Firma della promessa di inclusione non valida");
    }
  }
}

/**
 * SHA-256 and size of an envelope file, streamed (a 200 MB file never sits in memory).
 * `source` is a Blob/File, or `{ size, sha256 }` already computed while uploading it.
 */
export async function digestEnvelope(source, onProgress = () => {}) {
  if (typeof source.stream !== "function") return source;
  const h = sha256.create();
  let size = 0;
  const reader = source.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
    size += value.length;
    onProgress(size, source.size);
  }
  return { size, sha256: bytesToHex(h.digest()) };
}

export function checkEnvelopeDigest(receipt, digest) {
  if (digest.size !== receipt.size) {
    fail(
      "verify.envelope_size_mismatch",
      `La busta ha ${digest.size} byte, la ricevuta ne indica ${receipt.size}`,
    );
  }
  if (digest.sha256 !== receipt.ciphertextSha256) {
    fail("verify.envelope_digest_mismatch", "L'impronta SHA-256 della busta non corrisponde alla ricevuta");
  }
}

export function checkLeafHash(receipt) {
  if (bytesToHex(leafHash(receipt.leafData)) !== receipt.leafHash) {
    fail("verify.leaf_hash_mismatch", "L'hash della foglia non corrisponde al contenuto della ricevuta");
  }
}

// ---------------------------------------------------------------------------------------
// Signed notes and checkpoints (crates/seal/src/checkpoint.rs).

const NOTE_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u;
const LINE_CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

function checkKeyName(name) {
  return name.length > 0 && !/[\s+\u0000-\u001f\u007f-\u009f]/u.test(name);
}

/** First 4 bytes of SHA-256(name || "\n" || 0x01 || key). */
export function noteKeyHash(name, key) {
  return sha256(concat(encoder.encode(name + "\n"), Uint8Array.of(1), key)).slice(0, 4);
}

/** Parses `<name>+<hex key hash>+<base64(0x01 || key)>`; the key hash must match. */
export function parseVkey(vkey) {
  const bad = () => fail("note.malformed", "Chiave di verifica (vkey) non valida");
  if (typeof vkey !== "string") bad();
  // The base64 part may contain '+': only the first two are separators (as splitn(3, '+')).
  const a = vkey.indexOf("+");
  const b = a < 0 ? -1 : vkey.indexOf("+", a + 1);
  if (b < 0) bad();
  const name = vkey.slice(0, a);
  const hashHex = vkey.slice(a + 1, b);
  const blob = decodeBase64(vkey.slice(b + 1));
  if (!blob || blob.length !== 33 || blob[0] !== 1 || !checkKeyName(name)) bad();
  const key = blob.slice(1);
  if (!validPoint(key)) bad();
  if (bytesToHex(noteKeyHash(name, key)) !== hashHex.toLowerCase()) bad();
  return { name, key };
}

/** Base64 Ed25519 platform key (32 bytes, a valid point, as VerifyingKey::from_bytes). */
export function parsePlatformKey(b64) {
  const raw = decodeBase64(String(b64).trim());
  if (!raw || raw.length !== 32 || !validPoint(raw)) {
    fail("receipt.malformed", "Chiave pubblica della piattaforma non valida");
  }
  return raw;
}

function validPoint(key) {
  try {
    ed25519.Point.fromBytes(key);
    return true;
  } catch {
    return false;
  }
}

function checkNoteText(text) {
  if (!text.endsWith("\n") || text.includes("\n\n") || text.startsWith("\n") || NOTE_CONTROL.test(text)) {
    fail("note.malformed", "Il testo deve terminare con un a capo e non contenere righe vuote");
  }
}

/** Syntax of a signed note: the text and its signature lines. */
export function parseNote(note) {
  const bad = (what) => fail("note.malformed", `Nota firmata non valida: ${what}`);
  if (typeof note !== "string") bad("non è testo");
  if (NOTE_CONTROL.test(note)) bad("caratteri di controllo nel testo");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) bad("manca la riga vuota prima delle firme");
  const text = note.slice(0, split + 1);
  let block = note.slice(split + 2);
  if (!block.endsWith("\n")) bad("la nota non termina con un a capo");
  block = block.slice(0, -1);
  checkNoteText(text);
  const signatures = block.split("\n").map((line) => {
    if (!line.startsWith("\u2014 ")) bad("riga di firma senza «— »");
    const rest = line.slice(2);
    const sp = rest.indexOf(" ");
    if (sp < 0) bad("riga di firma senza spazio");
    const name = rest.slice(0, sp);
    if (!checkKeyName(name)) bad("nome di chiave non valido nella firma");
    const blob = decodeBase64(rest.slice(sp + 1));
    if (!blob) bad("firma non in base64");
    if (blob.length < 5) bad("firma troppo corta");
    return { name, keyHash: blob.slice(0, 4), signature: blob.slice(4) };
  });
  if (signatures.length > 100) bad("troppe firme");
  return { text, signatures };
}

/** Checks the signature by `verifier` ({name, key}); others' signatures are ignored. */
export function verifyNote(parsed, verifier) {
  const expected = noteKeyHash(verifier.name, verifier.key);
  let found = false;
  for (const s of parsed.signatures) {
    if (s.name !== verifier.name || !equalBytes(s.keyHash, expected)) continue;
    found = true;
    if (s.signature.length !== 64 || !ed25519.verify(s.signature, encoder.encode(parsed.text), verifier.key)) {
      fail("checkpoint.signature_invalid", "Firma del checkpoint non valida");
    }
  }
  if (!found) fail("checkpoint.signature_missing", `Nessuna firma di «${verifier.name}» sul checkpoint`);
}

/** Parses a checkpoint body: origin, size, base64 root, extension lines. */
export function parseCheckpointBody(body) {
  const bad = (what) => fail("checkpoint.malformed", `Checkpoint non valido: ${what}`);
  if (!body.endsWith("\n")) bad("il testo non termina con un a capo");
  const lines = body.slice(0, -1).split("\n");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (!origin || LINE_CONTROL.test(origin)) bad("origine mancante");
  if (sizeLine === undefined || !canonicalDecimal(sizeLine, true)) bad("dimensione non decimale");
  const size = BigInt(sizeLine);
  if (size > 0xffffffffffffffffn) bad("dimensione fuori intervallo");
  if (rootLine === undefined) bad("hash radice mancante");
  const root = decodeBase64(rootLine);
  if (!root || root.length !== 32) bad("hash radice non di 32 byte in base64");
  for (const e of extensions) {
    if (e.length === 0 || LINE_CONTROL.test(e)) bad("riga di estensione vuota o non valida");
  }
  return { origin, size, root, extensions };
}

/** Parses the note, checks its signature, returns the checkpoint (as open_checkpoint). */
export function openCheckpoint(note, verifier) {
  const parsed = parseNote(note);
  verifyNote(parsed, verifier);
  return parseCheckpointBody(parsed.text);
}

// ---------------------------------------------------------------------------------------
// Merkle proofs (crates/seal/src/merkle.rs, RFC 9162 §2.1.3.2 and §2.1.4.2). BigInt: tree
// sizes are u64 and JavaScript's bit operators work on 32 bits.

const invalidInclusion = () => fail("merkle.inclusion_proof_invalid", "Prova di inclusione non valida");

export function rootFromInclusionProof(leaf, index, treeSize, proof) {
  let fn = BigInt(index);
  let sn = BigInt(treeSize) - 1n;
  if (fn > sn) invalidInclusion();
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) invalidInclusion();
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) invalidInclusion();
  return r;
}

export function verifyInclusion(leaf, index, treeSize, proof, root) {
  if (!equalBytes(rootFromInclusionProof(leaf, index, treeSize, proof), root)) invalidInclusion();
}

export function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const invalid = () => fail("merkle.consistency_proof_invalid", "Prova di coerenza non valida");
  const m = BigInt(oldSize);
  const n = BigInt(newSize);
  if (m > n) fail("merkle.invalid_tree_sizes", "Dimensioni dell'albero non valide");
  if (m === 0n) {
    if (proof.length === 0 && (n > 0n || equalBytes(oldRoot, newRoot))) return;
    invalid();
  }
  if (m === n) {
    if (proof.length === 0 && equalBytes(oldRoot, newRoot)) return;
    invalid();
  }
  if (proof.length === 0) invalid();
  const path = (m & (m - 1n)) === 0n ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) invalid();
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (!(equalBytes(fr, oldRoot) && equalBytes(sr, newRoot) && sn === 0n)) invalid();
}

/** The leaf index to prove: the receipt's own, or for a promise the one the log served. */
function leafIndex(receipt, served) {
  const has = served !== null && served !== undefined;
  if (receipt.leafIndex !== undefined) {
    if (!has || served === receipt.leafIndex) return receipt.leafIndex;
    invalidInclusion();
  }
  if (has) return served;
  fail("verify.receipt_not_integrated", "La ricevuta non è ancora inclusa in un checkpoint del registro");
}

export function checkInclusion(receipt, servedIndex, proof, checkpoint) {
  const index = leafIndex(receipt, servedIndex);
  if (BigInt(index) >= checkpoint.size) {
    fail(
      "verify.leaf_not_in_checkpoint",
      `La foglia ${index} non è nel checkpoint di dimensione ${checkpoint.size}`,
    );
  }
  verifyInclusion(hexToBytes(receipt.leafHash), index, checkpoint.size, proof, checkpoint.root);
}

// ---------------------------------------------------------------------------------------
// The RFC 3161 token, read only for display: genTime and the message imprint.
//
// A hand-written DER reader, on purpose this small: it walks a fixed path
// (ContentInfo → SignedData → encapContentInfo → TSTInfo) and trusts nothing it reads, since
// nothing here decides validity; bundling a full ASN.1/CMS library for two fields would add
// code to the page without adding assurance (the signature check is `openssl ts -verify`).

function derChildren(bytes, start = 0, end = bytes.length) {
  const out = [];
  let i = start;
  while (i < end) {
    const tag = bytes[i++];
    if (i >= end) throw new Error("DER troncato");
    let len = bytes[i++];
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || i + n > end) throw new Error("lunghezza DER non valida");
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + bytes[i++];
    }
    if (i + len > end) throw new Error("DER troncato");
    out.push({ tag, start: i, end: i + len });
    i += len;
  }
  return out;
}

const OID_SIGNED_DATA = "2a864886f70d010702";
const OID_TST_INFO = "2a864886f70d0109100104";

/** `{ genTime: Date, genTimeText, imprint: hex }` from a base64 DER TimeStampToken. */
export function readTimestampToken(b64) {
  const der = decodeBase64(b64);
  if (!der) throw new Error("marca temporale non in base64");
  const hexOf = (n) => bytesToHex(der.slice(n.start, n.end));
  const want = (node, tag) => {
    if (!node || node.tag !== tag) throw new Error("struttura della marca temporale inattesa");
    return node;
  };
  const [ci] = derChildren(der);
  const [ctype, ctx] = derChildren(der, want(ci, 0x30).start, ci.end);
  if (hexOf(want(ctype, 0x06)) !== OID_SIGNED_DATA) throw new Error("non è un SignedData");
  const [sd] = derChildren(der, want(ctx, 0xa0).start, ctx.end);
  const encap = derChildren(der, want(sd, 0x30).start, sd.end)[2];
  const [etype, econtent] = derChildren(der, want(encap, 0x30).start, encap.end);
  if (hexOf(want(etype, 0x06)) !== OID_TST_INFO) throw new Error("non è un TSTInfo");
  const [octets] = derChildren(der, want(econtent, 0xa0).start, econtent.end);
  const [tst] = derChildren(der, want(octets, 0x04).start, octets.end);
  const fields = derChildren(der, want(tst, 0x30).start, tst.end);
  const imprintSeq = want(fields[2], 0x30);
  const [, hashed] = derChildren(der, imprintSeq.start, imprintSeq.end);
  const gt = want(fields[4], 0x18);
  const text = new TextDecoder().decode(der.slice(gt.start, gt.end));
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(text);
  if (!m) throw new Error("genTime non valido");
  const frac = m[7] ? m[7].slice(1, 4).padEnd(3, "0") : "000";
  const genTime = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${frac}Z`);
  return { genTime, genTimeText: text, imprint: hexOf(want(hashed, 0x04)) };
}

// ---------------------------------------------------------------------------------------
// The whole bundle (offerte::bundle::verify_bundle).

/**
 * Runs every check in order and stops at the first failure. `envelope` is a Blob/File or a
 * `{ size, sha256 }` digest; `pins` may fix `platformKey` (base64) and `logKey` (vkey)
 * instead of trusting the bundle's own; `olderCheckpoint` (a note) adds the consistency check.
 * Returns `{ ok, results: [{ check, label, status: "ok"|"failed"|"skipped", message }], receipt, checkpoint, token }`.
 */
export async function verifyBundle(bundle, envelope, { pins = {}, olderCheckpoint = null, onProgress } = {}) {
  const wanted = CHECKS.filter(([c]) => c !== "consistency" || olderCheckpoint);
  const results = wanted.map(([check, label]) => ({ check, label, status: "skipped", message: "" }));
  const out = { ok: false, results, receipt: null, checkpoint: null, token: null };
  const pass = (check) => {
    results.find((r) => r.check === check).status = "ok";
  };
  let current = "bundle";
  try {
    if (!bundle || typeof bundle !== "object") malformed("il pacchetto non è un oggetto JSON");
    const platformKey = parsePlatformKey(pins.platformKey ?? bundle.platform_key);
    const logKey = parseVkey(pins.logKey ?? bundle.log_key);
    pass("bundle");

    current = "receipt-signature";
    const receipt = parseSignedReceipt(bundle.receipt);
    checkReceiptSignature(receipt, platformKey);
    out.receipt = receipt;
    pass(current);

    current = "envelope-digest";
    checkEnvelopeDigest(receipt, await digestEnvelope(envelope, onProgress));
    pass(current);

    current = "leaf-hash";
    checkLeafHash(receipt);
    pass(current);

    if (!bundle.checkpoint) {
      current = "inclusion";
      fail("verify.receipt_not_integrated", "La ricevuta non è ancora inclusa in un checkpoint del registro");
    }
    current = "checkpoint-signature";
    const checkpoint = openCheckpoint(bundle.checkpoint, logKey);
    out.checkpoint = checkpoint;
    pass(current);

    current = "inclusion";
    const proof = (bundle.inclusion_proof || []).map(proofHash);
    checkInclusion(receipt, bundle.leaf_index, proof, checkpoint);
    pass(current);

    if (olderCheckpoint) {
      current = "consistency";
      const older = openCheckpoint(olderCheckpoint, logKey);
      let cproof;
      const c = bundle.consistency;
      if (c && BigInt(c.first) === older.size && BigInt(c.second) === checkpoint.size) {
        cproof = (c.proof || []).map(proofHash);
      } else if (older.size === 0n || older.size === checkpoint.size) {
        cproof = [];
      } else {
        fail("merkle.consistency_proof_invalid", "Prova di coerenza mancante per questo checkpoint");
      }
      if (older.origin !== checkpoint.origin) {
        fail("verify.origin_mismatch", `Registri diversi: «${older.origin}» e «${checkpoint.origin}»`);
      }
      if (checkpoint.size < older.size) fail("verify.log_shrunk", "Il registro si è accorciato");
      verifyConsistency(older.size, checkpoint.size, older.root, checkpoint.root, cproof);
      pass(current);
    }
    out.ok = true;
  } catch (e) {
    const r = results.find((x) => x.check === current);
    r.status = "failed";
    r.message = e instanceof VerifyError ? e.message : `Errore: ${e.message}`;
    r.code = e.code;
  }
  if (out.receipt && bundle.tsa_token) {
    try {
      const t = readTimestampToken(bundle.tsa_token);
      t.coversReceipt = t.imprint === bytesToHex(sha256(out.receipt.canonicalBytes));
      out.token = t;
    } catch (e) {
      out.token = { error: e.message };
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Presentation (shared with seal.js).

/** A time in Europe/Rome, as the portal shows every time. */
export function romeTime(date) {
  return new Intl.DateTimeFormat("it-IT", {
    timeZone: "Europe/Rome",
    dateStyle: "long",
    timeStyle: "long",
  }).format(date);
}

function el(doc, tag, text, cls) {
  const e = doc.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Renders a verifyBundle() result as a list (textContent only: bundle data is untrusted). */
export function renderReport(doc, container, report) {
  const frag = doc.createDocumentFragment();
  frag.append(
    el(
      doc,
      "p",
      report.ok
        ? "Ricevuta verificata: tutti i controlli sono superati."
        : "Verifica NON superata: vedere il controllo indicato.",
      report.ok ? "fw-bold text-success" : "fw-bold text-danger",
    ),
  );
  const ul = el(doc, "ul", undefined, "list-unstyled");
  const word = { ok: "superato", failed: "NON superato", skipped: "non eseguito" };
  for (const r of report.results) {
    const li = el(doc, "li", `${r.label}: ${word[r.status]}${r.message ? ` — ${r.message}` : ""}`);
    li.dataset.check = r.check;
    li.dataset.status = r.status;
    ul.append(li);
  }
  frag.append(ul);
  if (report.receipt) {
    const r = report.receipt;
    const dl = el(doc, "dl");
    const row = (k, v) => dl.append(el(doc, "dt", k), el(doc, "dd", v));
    row("Busta", r.envelope);
    row("Ricevuta alle (ora italiana)", romeTime(new Date(r.receivedAt)));
    row("SHA-256 della busta cifrata", r.ciphertextSha256);
    row("Dimensione", `${r.size} byte`);
    if (report.checkpoint) row("Checkpoint del registro", `${report.checkpoint.origin}, ${report.checkpoint.size} foglie`);
    if (report.token && !report.token.error) {
      row("Marca temporale RFC 3161 (genTime)", `${romeTime(report.token.genTime)} (${report.token.genTimeText})`);
      row(
        "Impronta marcata",
        report.token.coversReceipt
          ? "corrisponde alla ricevuta (la firma della marca si verifica con openssl ts -verify)"
          : "NON corrisponde alla ricevuta",
      );
    } else if (report.token) {
      row("Marca temporale RFC 3161", `illeggibile: ${report.token.error}`);
    }
    frag.append(dl);
  }
  container.replaceChildren(frag);
}

/** Wires `<form id="verifica-form">` (bundle JSON + envelope file → `#verifica-esito`). */
export function initVerifyForm(doc = document) {
  const form = doc.getElementById("verifica-form");
  if (!form) return;
  const out = doc.getElementById("verifica-esito");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const bundleFile = doc.getElementById("verifica-ricevuta").files[0];
    const envelopeFile = doc.getElementById("verifica-busta").files[0];
    if (!bundleFile || !envelopeFile) {
      out.textContent = "Scegliere il pacchetto della ricevuta (JSON) e il file della busta cifrata.";
      return;
    }
    out.textContent = "Verifica in corso…";
    let bundle;
    try {
      bundle = JSON.parse(await bundleFile.text());
    } catch {
      out.textContent = "Il pacchetto della ricevuta non è un file JSON valido.";
      return;
    }
    const pins = {};
    if (form.dataset.platformKey) pins.platformKey = form.dataset.platformKey;
    if (form.dataset.logKey) pins.logKey = form.dataset.logKey;
    renderReport(doc, out, await verifyBundle(bundle, envelopeFile, { pins }));
  });
}

if (typeof document !== "undefined") initVerifyForm(document);
