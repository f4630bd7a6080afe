// Sealing an envelope in the bidder's browser (docs/portal-sealing.md): hash the files,
// pack them (archive.js), encrypt the archive to the tender's age recipient for this
// envelope kind, and upload only the ciphertext through the resumable protocol
// (CONTRACT §2), then show the receipt and verify it on the spot (verify.js).
//
// Every step streams: the files are read twice through File.stream() (hashes, then the
// archive), the archive flows through age's STREAM encryption, and the ciphertext is cut
// into parts of `chunk_bytes`. Memory holds one part, whatever the envelope's size.
//
// The functions below take `fetch` and `sleep` as parameters so that `node --test` drives
// them against a real HTTP server; `initSealForm` wires `#busta-form` in the page.

import { Encrypter, sha256, bytesToHex } from "../vendor/age/age.bundle.js";
import {
  describeFiles,
  packStream,
  manifestBytes,
  archiveSize,
  ECONOMIC_OFFER_NAME,
  TECHNICAL_VALUES_NAME,
  ArchiveError,
} from "./archive.js";
import { verifyBundle, readTimestampToken, romeTime, renderReport } from "./verify.js";

/** The first bytes of every binary age file. Nothing else is ever sent. */
export const AGE_MAGIC = "age-encryption.org/v1\n";
/** Ciphertexts up to this size are kept in the page for a direct download. */
export const KEEP_FOR_DOWNLOAD = 64 * 1024 * 1024;

/** A refusal or failure, with a stable `code` and an Italian `message`. */
export class SealFailure extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "SealFailure";
    this.code = code;
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------
// Envelope C's economic offer.

const DECIMAL = /^\d+(\.\d+)?$/;

/**
 * The JSON the award engine reads from envelope C (offerte::opening::economic_offer):
 * `{"discount"|"price", "labour_costs", "safety_costs"}` as decimal strings, never floats
 * (money is never a JavaScript number). An Italian decimal comma is accepted and written
 * as a point, as the engine itself would read it.
 */
export function economicOfferJson(criterion, values) {
  if (criterion !== "discount" && criterion !== "price") {
    throw new SealFailure("economic_criterion", "Criterio dell'offerta economica sconosciuto.");
  }
  const labels = {
    discount: "Ribasso percentuale",
    price: "Prezzo offerto",
    labour_costs: "Costi della manodopera",
    safety_costs: "Oneri aziendali per la sicurezza",
  };
  const out = {};
  for (const key of [criterion, "labour_costs", "safety_costs"]) {
    let raw = String(values[key] ?? "").trim();
    // "1.234,56" as Italians write it: the points group thousands, the comma is decimal.
    if (raw.includes(",")) raw = raw.replace(/\./g, "").replace(",", ".");
    if (!DECIMAL.test(raw)) {
      throw new SealFailure("economic_field_invalid", `${labels[key]}: inserire un numero (es. 12,345).`);
    }
    out[key] = raw;
  }
  return JSON.stringify(out);
}

// ---------------------------------------------------------------------------------------
// Envelope B's declared values.

const SIGNED_DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * The JSON the award engine reads from envelope B's `valori-tecnici.json`
 * (aggiudicazione::procedure::technical_values): `{"values": {code: value}}`. `fields` are
 * `{ code, value, numeric }`: a number (a quantitative criterion, or a table of ranges) is
 * written as a decimal string, an Italian comma accepted; a table's option as its text. An
 * empty field is left out: the engine scores it 0 and records why.
 */
export function technicalValuesJson(fields) {
  const values = {};
  for (const { code, value, numeric } of fields) {
    let raw = String(value ?? "").trim();
    if (raw === "") continue;
    if (numeric) {
      if (raw.includes(",")) raw = raw.replace(/\./g, "").replace(",", ".");
      if (!SIGNED_DECIMAL.test(raw)) {
        throw new SealFailure("technical_value_invalid", `Criterio ${code}: inserire un numero (es. 12,5).`);
      }
    }
    values[code] = raw;
  }
  return JSON.stringify({ values });
}

// ---------------------------------------------------------------------------------------
// The API, with the portal session (CONTRACT §3).

/** A small client: cookie session, CSRF header on every non-GET, problem+json errors. */
export function apiClient({ api, csrf = "", fetch = globalThis.fetch.bind(globalThis) }) {
  return {
    api,
    async request(method, path, { json, body, headers = {} } = {}) {
      const h = { ...headers };
      if (method !== "GET" && method !== "HEAD") h["X-CSRF-Token"] = csrf;
      if (json !== undefined) {
        h["Content-Type"] = "application/json";
        body = JSON.stringify(json);
      }
      const res = await fetch(api + path, { method, headers: h, body, credentials: "same-origin" });
      const type = res.headers.get("content-type") || "";
      const data = type.includes("json") ? await res.json().catch(() => null) : await res.text();
      return { status: res.status, data, headers: res.headers };
    },
  };
}

function problem(res, fallback) {
  const d = res.data && typeof res.data === "object" ? res.data : {};
  return new SealFailure(d.code || `http_${res.status}`, d.detail || fallback, res.status);
}

/** The tender's age recipient for envelope `busta` (GET /bandi/{id}/sigillo). */
export async function fetchRecipient(client, bando, busta) {
  const res = await client.request("GET", `/bandi/${bando}/sigillo`);
  if (res.status !== 200) throw problem(res, "Impossibile leggere la chiave pubblica del bando.");
  if (res.data.status !== "complete") {
    throw new SealFailure(
      "seal_ceremony_incomplete",
      "La cerimonia delle chiavi del bando non è conclusa: non è ancora possibile presentare buste.",
    );
  }
  const recipient = res.data.recipients && res.data.recipients[busta];
  if (typeof recipient !== "string" || !recipient.startsWith("age1")) {
    throw new SealFailure("seal_recipient_missing", `Il bando non ha una chiave per la busta ${busta}.`);
  }
  return recipient;
}

// ---------------------------------------------------------------------------------------
// Sealing.

/**
 * Hashes and packs the files and returns the ciphertext as a stream, with its exact size.
 * For envelope C pass `economic` (`{ criterion, values }`): its JSON joins the files. For
 * envelope B of a tender with quantitative or tabular criteria pass `technical` (the fields
 * of `technicalValuesJson`): its JSON joins the files as `valori-tecnici.json`.
 */
export async function sealEnvelope({ recipient, bando, lotto, busta, files, economic, technical, onHashProgress }) {
  const list = Array.from(files);
  if (busta === "C") {
    if (!economic) throw new SealFailure("economic_missing", "La busta C richiede l'offerta economica.");
    list.push(new File([economicOfferJson(economic.criterion, economic.values)], ECONOMIC_OFFER_NAME, { type: "application/json" }));
  }
  if (busta === "B" && technical) {
    list.push(new File([technicalValuesJson(technical)], TECHNICAL_VALUES_NAME, { type: "application/json" }));
  }
  const entries = await describeFiles(list, onHashProgress);
  const plainSize = archiveSize(manifestBytes({ bando, lotto, busta, entries }).length, entries);
  const e = new Encrypter();
  e.addRecipient(recipient);
  const stream = await e.encrypt(packStream({ bando, lotto, busta, entries }));
  return { stream, size: stream.size(plainSize), plainSize, entries };
}

/** Reads a byte stream in parts of exactly `n` bytes (the last one shorter, never empty). */
function partReader(stream) {
  const reader = stream.getReader();
  let pending = null;
  let done = false;
  return {
    async next(n) {
      const part = new Uint8Array(n);
      let filled = 0;
      while (filled < n && !done) {
        if (!pending || pending.length === 0) {
          const r = await reader.read();
          if (r.done) {
            done = true;
            break;
          }
          pending = r.value;
        }
        const k = Math.min(n - filled, pending.length);
        part.set(pending.subarray(0, k), filled);
        pending = pending.subarray(k);
        filled += k;
      }
      return filled === n ? part : part.slice(0, filled);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  };
}

const defaultSleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/**
 * Uploads a ciphertext stream of `size` bytes through the resumable protocol and returns
 * `{ receipt, sha256, size, blob }`. A failed part (dropped connection, 5xx) is retried
 * after asking the server where the upload stands, with exponential backoff: the part that
 * arrived is not sent again, the one that did not is, and the upload never restarts from 0.
 */
export async function uploadEnvelope(client, opts) {
  const {
    bando,
    lotto,
    busta,
    stream,
    size,
    onProgress = () => {},
    onStatus = () => {},
    sleep = defaultSleep,
    maxAttempts = 20,
    baseDelayMs = 1000,
    maxDelayMs = 30000,
    keepUpTo = KEEP_FOR_DOWNLOAD,
  } = opts;
  const query = lotto ? `?lotto=${encodeURIComponent(lotto)}` : "";
  const created = await client.request("POST", `/bandi/${bando}/offerta/buste/${busta}/caricamenti${query}`, {
    json: {},
  });
  if (created.status !== 201) throw problem(created, "Il caricamento non è stato aperto.");
  const upload = created.data;
  const chunk = upload.chunk_bytes;
  if (!Number.isSafeInteger(chunk) || chunk <= 0) {
    throw new SealFailure("upload_protocol", "Risposta del server inattesa (dimensione delle parti).");
  }
  const base = `/caricamenti/${upload.id}`;
  const parts = partReader(stream);
  const whole = sha256.create();
  const kept = size <= keepUpTo ? [] : null;
  let index = 0;
  let sent = 0;

  const backoff = async (attempt, res, what = `parte ${index + 1}`) => {
    if (attempt >= maxAttempts) {
      throw new SealFailure(
        "upload_gave_up",
        "Connessione assente da troppo tempo: il caricamento è sospeso. Riprovare; la busta conta solo se l'ultimo byte arriva entro il termine.",
      );
    }
    const retryAfter = Number(res && res.headers && res.headers.get("retry-after"));
    const ms = retryAfter > 0 ? retryAfter * 1000 : Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
    onStatus(`Connessione interrotta: nuovo tentativo tra ${Math.ceil(ms / 1000)} secondi (${what}).`);
    await sleep(ms);
  };

  /** Where the server stands: its number of received parts, or null when unreachable. */
  const receivedParts = async () => {
    try {
      const st = await client.request("GET", base);
      if (st.status === 200) return st.data.received_parts;
      if (!RETRYABLE.has(st.status)) throw problem(st, "Il caricamento non è più disponibile.");
    } catch (e) {
      if (e instanceof SealFailure) throw e;
    }
    return null;
  };

  const sendPart = async (part, digest) => {
    for (let attempt = 0; ; attempt++) {
      let res = null;
      try {
        res = await client.request("PUT", `${base}/parti/${index}`, {
          body: part,
          headers: { "Content-Type": "application/octet-stream", "X-Chunk-Sha256": digest },
        });
        if ((res.status === 200 || res.status === 201) && res.data.received_parts === index + 1) return;
        if (res.status !== 409 && res.status !== 422 && !RETRYABLE.has(res.status)) {
          throw problem(res, `Parte ${index + 1} rifiutata dal server.`);
        }
        if (res.status === 409 && res.data && res.data.code !== "upload_part_out_of_order") {
          throw problem(res, `Parte ${index + 1} rifiutata dal server.`);
        }
      } catch (e) {
        if (e instanceof SealFailure) throw e;
        // A network error: the part may or may not have arrived.
      }
      await backoff(attempt, res);
      const received = await receivedParts();
      if (received === index + 1) return;
      if (received !== null && received !== index) {
        throw new SealFailure("upload_protocol", "Lo stato del caricamento sul server non corrisponde a quanto inviato.");
      }
    }
  };

  for (;;) {
    const part = await parts.next(chunk);
    if (part.length === 0) break;
    if (index === 0 && new TextDecoder().decode(part.subarray(0, AGE_MAGIC.length)) !== AGE_MAGIC) {
      // Cannot happen with age-encryption; refusing here keeps any bug from sending plaintext.
      await parts.cancel("not age");
      await client.request("DELETE", base).catch(() => {});
      throw new SealFailure("not_ciphertext", "Errore interno: i dati da inviare non sono cifrati. Nulla è stato inviato.");
    }
    const digest = bytesToHex(sha256(part));
    await sendPart(part, digest);
    whole.update(part);
    if (kept) kept.push(part);
    sent += part.length;
    index += 1;
    onProgress(sent, size);
    if (part.length < chunk) break;
  }
  if (sent !== size) {
    throw new SealFailure("upload_protocol", "La dimensione della busta cifrata è diversa da quella attesa.");
  }
  const digest = bytesToHex(whole.digest());
  onStatus("Tutte le parti sono arrivate: chiusura del caricamento…");
  const receipt = await complete(client, { base, bando, lotto, busta, parts: index, digest, sleep, backoff });
  if (receipt.sha256 !== digest || receipt.size !== size) {
    throw new SealFailure(
      "receipt_mismatch",
      "ATTENZIONE: la ricevuta non corrisponde alla busta inviata da questo browser. Conservare questa pagina e contattare la stazione appaltante.",
    );
  }
  const blob = kept ? new Blob(kept, { type: "application/octet-stream" }) : null;
  return { receipt, sha256: digest, size, blob };
}

/**
 * `POST /completa`. If the answer is lost, asking again may find the upload already
 * consumed: the bid's envelopes are then searched for this exact ciphertext.
 */
async function complete(client, { base, bando, lotto, busta, parts, digest, backoff }) {
  for (let attempt = 0; ; attempt++) {
    let res = null;
    try {
      res = await client.request("POST", `${base}/completa`, { json: { parts, sha256: digest } });
      if (res.status === 201 || res.status === 200) return res.data;
      if (attempt > 0 && (res.status === 404 || res.status === 409)) {
        const found = await findReceipt(client, bando, lotto, busta, digest);
        if (found) return found;
      }
      if (!RETRYABLE.has(res.status)) throw problem(res, "La busta non è stata accettata.");
    } catch (e) {
      if (e instanceof SealFailure) throw e;
    }
    await backoff(attempt, res, "chiusura del caricamento");
  }
}

async function findReceipt(client, bando, lotto, busta, digest) {
  const res = await client.request("GET", `/bandi/${bando}/offerta`);
  if (res.status !== 200 || !Array.isArray(res.data)) return null;
  for (const bid of res.data) {
    if ((bid.lotto_id || null) !== (lotto || null)) continue;
    const env = (bid.envelopes || []).find((e) => e.kind === busta && e.sha256 === digest);
    if (env) return env;
  }
  return null;
}

/** The verification bundle once the sequencer has put the leaf in a checkpoint (bounded wait). */
export async function bundleWhenIntegrated(client, envelopeId, { sleep = defaultSleep, tries = 30, delayMs = 2000 } = {}) {
  for (let i = 0; i < tries; i++) {
    const res = await client.request("GET", `/buste/${envelopeId}/ricevuta`);
    if (res.status === 200 && res.data.checkpoint && res.data.leaf_index !== null && res.data.leaf_index !== undefined) {
      return res.data;
    }
    if (res.status !== 200 && !RETRYABLE.has(res.status)) throw problem(res, "Ricevuta non disponibile.");
    await sleep(delayMs);
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// The page (CONTRACT §4).

function el(doc, tag, text, attrs = {}) {
  const e = doc.createElement(tag);
  if (text !== undefined) e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function showReceipt(doc, out, result, api) {
  const r = result.receipt;
  const box = el(doc, "div");
  box.append(el(doc, "h3", `Ricevuta della busta ${r.kind}`, { class: "h5" }));
  const dl = el(doc, "dl");
  const row = (k, v) => dl.append(el(doc, "dt", k), el(doc, "dd", v));
  row("Ricevuta alle (ora italiana)", romeTime(new Date(r.received_at)));
  row("SHA-256 della busta cifrata", r.sha256);
  row("Dimensione", `${r.size} byte`);
  try {
    const t = readTimestampToken(r.tsa_token);
    row("Marca temporale RFC 3161", `${romeTime(t.genTime)} (genTime ${t.genTimeText})`);
  } catch (e) {
    row("Marca temporale RFC 3161", `illeggibile: ${e.message}`);
  }
  box.append(dl);
  const links = el(doc, "p");
  if (result.blob) {
    const a = el(doc, "a", "Scarica la busta cifrata (copia inviata da questo browser)", {
      href: URL.createObjectURL(result.blob),
      download: `busta-${r.kind}-${r.envelope_id}.age`,
      class: "me-3",
    });
    links.append(a);
  }
  links.append(
    el(doc, "a", "Scarica la busta cifrata conservata dalla piattaforma", {
      href: `${api}/buste/${r.envelope_id}/cifrato`,
      download: `busta-${r.kind}-${r.envelope_id}.age`,
      class: "me-3",
    }),
    el(doc, "a", "Scarica il pacchetto di verifica della ricevuta (JSON)", {
      href: `${api}/buste/${r.envelope_id}/ricevuta`,
      download: `ricevuta-${r.envelope_id}.json`,
    }),
  );
  if (!result.blob) {
    links.prepend(
      el(
        doc,
        "span",
        "La busta cifrata è troppo grande per essere conservata nella pagina: scaricarla dalla piattaforma. ",
      ),
    );
  }
  box.append(links);
  const check = el(doc, "div", "Verifica della ricevuta in corso (attesa dell'inclusione nel registro)…");
  box.append(check);
  out.replaceChildren(box);
  return check;
}

/** Wires `<form id="busta-form">`: on submit, seal, upload, show and verify the receipt. */
export function initSealForm(doc = document) {
  const form = doc.getElementById("busta-form");
  if (!form) return;
  const out = doc.getElementById("busta-esito");
  const bar = doc.getElementById("busta-progress");
  const say = (text) => {
    out.textContent = text;
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const submit = form.querySelector('[type="submit"]');
    if (submit) submit.disabled = true;
    const meta = doc.querySelector('meta[name="csrf-token"]');
    const { bando, lotto, busta } = form.dataset;
    const api = form.dataset.api || "/api/v1";
    const client = apiClient({ api, csrf: meta ? meta.content : "" });
    try {
      const files = doc.getElementById("busta-files").files;
      let economic;
      if (busta === "C") {
        const criterion = form.dataset.criterion || "discount";
        const v = (n) => (form.elements.namedItem(n) ? form.elements.namedItem(n).value : "");
        economic = { criterion, values: { [criterion]: v(criterion), labour_costs: v("labour_costs"), safety_costs: v("safety_costs") } };
        // Checked before any file is read, so a typo is reported at once.
        economicOfferJson(criterion, economic.values);
      }
      let technical;
      const declared = form.querySelectorAll("[data-criterio]");
      if (busta === "B" && declared.length) {
        technical = Array.from(declared, (el) => ({
          code: el.dataset.criterio,
          value: el.value,
          numeric: el.dataset.numero === "1",
        }));
        technicalValuesJson(technical);
      }
      say("Lettura della chiave pubblica del bando…");
      bar.removeAttribute("value");
      const recipient = await fetchRecipient(client, bando, busta);
      say("Calcolo delle impronte SHA-256 dei file (nel browser)…");
      const sealed = await sealEnvelope({
        recipient,
        bando,
        lotto: lotto || null,
        busta,
        files,
        economic,
        technical,
        onHashProgress: (done, total) => {
          bar.max = total || 1;
          bar.value = done;
        },
      });
      say("Cifratura nel browser e invio della busta cifrata…");
      bar.max = sealed.size;
      bar.value = 0;
      const result = await uploadEnvelope(client, {
        bando,
        lotto: lotto || null,
        busta,
        stream: sealed.stream,
        size: sealed.size,
        onProgress: (sent) => {
          bar.value = sent;
        },
        onStatus: say,
      });
      const check = showReceipt(doc, out, result, api);
      const bundle = await bundleWhenIntegrated(client, result.receipt.envelope_id);
      if (!bundle) {
        check.textContent =
          "La ricevuta non è ancora inclusa in un checkpoint del registro: verificarla più tardi dalla pagina del registro di trasparenza.";
        return;
      }
      // Checked against the keys the page was served with, not those the bundle carries.
      const pins = {};
      if (form.dataset.platformKey) pins.platformKey = form.dataset.platformKey;
      if (form.dataset.logKey) pins.logKey = form.dataset.logKey;
      const report = await verifyBundle(bundle, { size: result.size, sha256: result.sha256 }, { pins });
      renderReport(doc, check, report);
    } catch (e) {
      const msg = e instanceof SealFailure || e instanceof ArchiveError ? e.message : `Errore imprevisto: ${e.message}`;
      say(`Busta NON presentata. ${msg}`);
    } finally {
      if (submit) submit.disabled = false;
    }
  });
}

if (typeof document !== "undefined") initSealForm(document);
