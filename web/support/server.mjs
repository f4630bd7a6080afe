// A real HTTP server on 127.0.0.1 that speaks the server side of CONTRACT §2 (resumable
// envelope upload) and the two reads seal.js needs (GET /sigillo, GET /offerta), so the
// client code runs over real sockets, dropped connections included. The production server
// is h3's crates/api/src/routes/caricamenti.rs; this one records what arrived, to check
// that only age ciphertext ever leaves the browser code.
import { createServer } from "node:http";
import { createHash, randomUUID } from "node:crypto";

const sha = (b) => createHash("sha256").update(b).digest("hex");

export async function startServer({ recipients, chunkBytes = 65536, csrf = "tok-csrf", faults = {}, keep = true }) {
  const state = {
    requests: [],
    uploads: new Map(),
    envelopes: [],
    faults, // { dropAfterStore: Set<index>, dropBeforeStore: Set<index>, loseCompleteAnswer, deadlinePassed }
  };
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, "http://x");
    const path = url.pathname.replace(/^\/api\/v1/, "");
    state.requests.push({ method: req.method, path, headers: req.headers, size: body.length });
    const send = (status, data) => {
      res.writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json" });
      res.end(JSON.stringify(data));
    };
    const problemOf = (status, code, detail) => send(status, { type: `urn:centrale:problem:${code}`, title: code, status, detail, code });
    if (req.method !== "GET" && req.headers["x-csrf-token"] !== csrf) {
      return problemOf(403, "csrf_invalid", "Token CSRF mancante o non valido");
    }
    let m;
    if (req.method === "GET" && (m = /^\/bandi\/([^/]+)\/sigillo$/.exec(path))) {
      return send(200, { bando_id: m[1], status: "complete", k: 2, n: 2, recipients });
    }
    if (req.method === "GET" && (m = /^\/bandi\/([^/]+)\/offerta$/.exec(path))) {
      const envs = state.envelopes.filter((e) => e.bando_id === m[1]);
      return send(200, envs.length ? [{ id: "bid", bando_id: m[1], lotto_id: null, envelopes: envs }] : []);
    }
    if (req.method === "POST" && (m = /^\/bandi\/([^/]+)\/offerta\/buste\/([ABC])\/caricamenti$/.exec(path))) {
      const id = randomUUID();
      const up = { id, bando: m[1], kind: m[2], lotto: url.searchParams.get("lotto"), count: 0, bytes: 0, hash: createHash("sha256"), data: [], lastDigest: null };
      state.uploads.set(id, up);
      return send(201, view(up));
    }
    function view(up) {
      return {
        id: up.id,
        chunk_bytes: chunkBytes,
        received_parts: up.count,
        received_bytes: up.bytes,
        expires_at: "2026-06-05T10:00:00Z",
      };
    }
    if ((m = /^\/caricamenti\/([^/]+)(\/parti\/(\d+)|\/completa)?$/.exec(path))) {
      const up = state.uploads.get(m[1]);
      if (!up) return problemOf(404, "not_found", "Caricamento inesistente");
      if (req.method === "GET" && !m[2]) return send(200, view(up));
      if (req.method === "DELETE" && !m[2]) {
        state.uploads.delete(up.id);
        res.writeHead(204).end();
        return;
      }
      if (req.method === "PUT" && m[3] !== undefined) {
        const index = Number(m[3]);
        const digest = req.headers["x-chunk-sha256"];
        if (index === up.count - 1 && digest === up.lastDigest) return send(200, view(up));
        if (index !== up.count) return problemOf(409, "upload_part_out_of_order", "Parte fuori ordine");
        if (digest !== sha(body)) return problemOf(422, "upload_part_digest", "Impronta della parte errata");
        if (faults.dropBeforeStore?.delete(index)) return req.socket.destroy();
        if (up.count > 0 && up.lastLength !== chunkBytes) return problemOf(422, "upload_part_size", "Parte intermedia corta");
        up.count += 1;
        up.bytes += body.length;
        up.lastLength = body.length;
        up.hash.update(body);
        if (keep) up.data.push(body);
        up.lastDigest = digest;
        if (faults.dropAfterStore?.delete(index)) return req.socket.destroy();
        return send(200, view(up));
      }
      if (req.method === "POST" && m[2] === "/completa") {
        const { parts, sha256 } = JSON.parse(body.toString("utf8"));
        const whole = up.hash.digest("hex");
        if (faults.deadlinePassed) {
          return problemOf(409, "deadline_passed", "Termine di presentazione scaduto: la busta non è stata accettata");
        }
        if (parts !== up.count || sha256 !== whole) {
          return problemOf(422, "upload_incomplete", "Caricamento incompleto");
        }
        const env = {
          envelope_id: randomUUID(),
          bando_id: up.bando,
          kind: up.kind,
          sealed_by: "client",
          sha256,
          size: up.bytes,
          received_at: "2026-05-04T08:00:00.000000Z",
          receipt: "",
          tsa_token: "",
        };
        state.envelopes.push(env);
        state.uploads.delete(up.id);
        state.stored = keep ? Buffer.concat(up.data) : null;
        if (faults.loseCompleteAnswer) {
          faults.loseCompleteAnswer = false;
          return req.socket.destroy();
        }
        return send(201, env);
      }
    }
    problemOf(404, "not_found", "Risorsa inesistente");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}/api/v1`;
  return {
    base,
    state,
    csrf,
    close: () => new Promise((r) => server.close(r)),
  };
}
