// custody.js (the custodian's browser) against the Rust CLI: web/test/fixtures/custody-ceremony.json
// is a 2-of-3 ceremony made by `centrale keys contribute / ack / decrypt-share`
// (custody-make.sh regenerates it). The JavaScript must compute the CLI's shares, accept its
// proofs (same transcript), read its identity files, and refuse every tampered contribution
// naming the dealer. crates/portal/tests/official_custodia.rs checks the other direction
// (JavaScript contributions and proofs accepted by the Rust code).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { identityToRecipient, Decrypter } from "age-encryption";
import * as c from "../../crates/portal/assets/js/custody.js";

const FIXTURE = JSON.parse(readFileSync(new URL("./fixtures/custody-ceremony.json", import.meta.url), "utf8"));
const ids = FIXTURE.identity_files.map((f) => c.parseIdentityFile(f));
const clone = () => structuredClone(FIXTURE.contributions);
const commitmentsOf = (all, kind) => {
  const order = all.custodians.map((x) => x.user_id);
  return all.contributions
    .filter((x) => x.kind === kind)
    .sort((a, b) => order.indexOf(a.dealer_user_id) - order.indexOf(b.dealer_user_id))
    .map((x) => x.commitments.map(c.parsePoint));
};

/** Lagrange interpolation at 0 (seal::custody::combine), for the tests only. */
function combine(shares) {
  const n = c.ORDER;
  const inv = (a) => {
    let [r0, r1, s0, s1] = [((a % n) + n) % n, n, 1n, 0n];
    while (r1 !== 0n) {
      const q = r0 / r1;
      [r0, r1, s0, s1] = [r1, r0 - q * r1, s1, s0 - q * s1];
    }
    return ((s0 % n) + n) % n;
  };
  let x = 0n;
  for (const [j, s] of shares) {
    let num = 1n;
    let den = 1n;
    for (const [l] of shares) {
      if (l !== j) {
        num = (num * BigInt(l)) % n;
        den = (den * (BigInt(l) - BigInt(j))) % n;
      }
    }
    x = (x + num * inv(den) * s) % n;
  }
  return ((x % n) + n) % n;
}

test("the CLI's identity files are read, and the file the page offers is in the CLI's format", async () => {
  for (const [i, file] of FIXTURE.identity_files.entries()) {
    const pub = file.match(/^# public key: (age1\S+)$/m)[1];
    assert.equal(await identityToRecipient(ids[i]), pub);
    assert.equal(pub, FIXTURE.view.custodians[i].transport_key);
    // What the browser offers for download parses back, line for line as the CLI reads it.
    const ours = c.identityFile(ids[i], pub);
    assert.equal(ours, `# public key: ${pub}\n${ids[i]}\n`);
    assert.equal(c.parseIdentityFile(ours), ids[i]);
  }
  assert.throws(() => c.parseIdentityFile("# public key: age1xyz\n"), { code: "identity_missing" });
});

test("the browser computes exactly the CLI's opening shares (decrypt-share), for every custodian and kind", async () => {
  for (let j = 0; j < 3; j++) {
    assert.equal(await c.myIndex(ids[j], FIXTURE.contributions), j + 1);
    for (const kind of c.KINDS) {
      const mine = await c.openingShare(ids[j], FIXTURE.contributions, kind);
      assert.deepEqual(mine, { share: FIXTURE.shares[j][kind] }, `custodian ${j + 1}, kind ${kind}`);
    }
  }
});

test("the CLI's proofs verify in the browser (same Schnorr transcript), for S_j recomputed from the commitments", () => {
  const all = FIXTURE.contributions;
  for (let j = 1; j <= 3; j++) {
    for (const kind of c.KINDS) {
      const sj = c.verificationShare(commitmentsOf(all, kind), j);
      assert.ok(sj.equals(c.mulBase(c.parseScalar(FIXTURE.shares[j - 1][kind]))), "S_j = s_j·B");
      const proof = FIXTURE.acks[j - 1].kinds[kind];
      assert.ok(c.verifyProof(sj, proof, c.proofContext(all.bando_id, kind, j)), `CLI proof ${j} ${kind}`);
      // Bound to tender, kind and custodian: the same proof fails anywhere else.
      const other = kind === "A" ? "B" : "A";
      assert.ok(!c.verifyProof(sj, proof, c.proofContext(all.bando_id, other, j)));
      assert.ok(!c.verifyProof(sj, proof, c.proofContext(all.bando_id, kind, (j % 3) + 1)));
      assert.ok(!c.verifyProof(sj, proof, c.proofContext("00000000-0000-0000-0000-000000000000", kind, j)));
    }
  }
});

test("the browser's acknowledgement of the CLI's contributions carries valid proofs, fresh each time", async () => {
  const all = FIXTURE.contributions;
  for (let j = 1; j <= 3; j++) {
    const ack = await c.acknowledgement(ids[j - 1], all);
    assert.deepEqual(Object.keys(ack), ["kinds"]);
    assert.deepEqual(Object.keys(ack.kinds), ["A", "B", "C"]);
    for (const kind of c.KINDS) {
      const p = ack.kinds[kind];
      assert.deepEqual(Object.keys(p).sort(), ["commitment", "response"]);
      assert.match(p.commitment, /^[0-9a-f]{64}$/);
      assert.match(p.response, /^[0-9a-f]{64}$/);
      const sj = c.verificationShare(commitmentsOf(all, kind), j);
      assert.ok(c.verifyProof(sj, p, c.proofContext(all.bando_id, kind, j)));
    }
    const again = await c.acknowledgement(ids[j - 1], all);
    assert.notEqual(again.kinds.A.commitment, ack.kinds.A.commitment, "a fresh nonce per proof");
  }
});

test("two of three CLI shares interpolate to the key X = Σ C_i,0 whose recipient the browser recomputes", () => {
  const all = FIXTURE.contributions;
  for (const kind of c.KINDS) {
    const x = c.tenderPublicKey(commitmentsOf(all, kind));
    for (const [a, b] of [[1, 2], [1, 3], [3, 2]]) {
      const secret = combine([a, b].map((j) => [j, c.parseScalar(FIXTURE.shares[j - 1][kind])]));
      assert.ok(c.mulBase(secret).equals(x), `${kind}: custodians ${a} and ${b}`);
    }
    // One share alone is not the key.
    assert.ok(!c.mulBase(c.parseScalar(FIXTURE.shares[0][kind])).equals(x));
    assert.match(c.recipientsFromContributions(all)[kind], /^age1[02-9ac-hj-np-z]{58}$/);
  }
});

test("a tampered contribution is refused, naming its dealer, and nothing is acknowledged", async () => {
  // Dealer 2 publishes a commitment of another polynomial for B.
  const forged = clone();
  const row = forged.contributions.find((x) => x.dealer_index === 2 && x.kind === "B");
  row.commitments[1] = c.pointHex(c.mulBase(c.randomScalar()));
  for (let j = 0; j < 3; j++) {
    await assert.rejects(c.acknowledgement(ids[j], forged), (e) => {
      assert.equal(e.code, "custody_complaint");
      assert.match(e.message, /custode 2 \(22222222-2222-4222-8222-222222222222\), busta B/);
      assert.doesNotMatch(e.message, /custode [13] /);
      return true;
    });
    await assert.rejects(c.openingShare(ids[j], forged, "B"), { code: "custody_complaint" });
    // The other kinds are untouched and still give the CLI's share.
    assert.equal((await c.openingShare(ids[j], forged, "A")).share, FIXTURE.shares[j].A);
  }

  // Dealer 3 sends custodian 1 the share meant for custodian 2.
  const swapped = clone();
  const r3 = swapped.contributions.find((x) => x.dealer_index === 3 && x.kind === "A");
  r3.shares.find((s) => s.index === 1).ciphertext = r3.shares.find((s) => s.index === 2).ciphertext;
  await assert.rejects(c.acknowledgement(ids[0], swapped), /custode 3 .*busta A/);
  // Custodian 2 got his own share from everybody: he may acknowledge.
  await c.acknowledgement(ids[1], swapped);

  // A well-formed share that does not match: custodian 1's share from dealer 1 re-encrypted
  // with one added.
  const shifted = clone();
  const r1 = shifted.contributions.find((x) => x.dealer_index === 1 && x.kind === "C");
  const mine = r1.shares.find((s) => s.index === 1);
  const d = new Decrypter();
  d.addIdentity(ids[0]);
  const s = c.parseScalar(await d.decrypt(c.unb64(mine.ciphertext)));
  const wrong = await (async () => {
    const { Encrypter } = await import("age-encryption");
    const e = new Encrypter();
    e.addRecipient(FIXTURE.view.custodians[0].transport_key);
    const bytes = Uint8Array.from(Buffer.from(c.scalarHex(s + 1n), "hex"));
    return c.b64(await e.encrypt(bytes));
  })();
  mine.ciphertext = wrong;
  await assert.rejects(c.acknowledgement(ids[0], shifted), /custode 1 .*busta C/);

  // A missing commitment (k-1 of them), a point off the subgroup, a missing share.
  const short = clone();
  short.contributions.find((x) => x.dealer_index === 2 && x.kind === "A").commitments.pop();
  await assert.rejects(c.acknowledgement(ids[2], short), /custode 2 .*busta A/);
  const torsion = clone();
  // A point of order 8 (in the Ed25519 torsion subgroup): not in the prime-order subgroup.
  torsion.contributions.find((x) => x.dealer_index === 1 && x.kind === "A").commitments[0] =
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";
  await assert.rejects(c.acknowledgement(ids[2], torsion), /custode 1 .*busta A/);
  const missing = clone();
  const r2 = missing.contributions.find((x) => x.dealer_index === 2 && x.kind === "C");
  r2.shares = r2.shares.filter((x) => x.index !== 3);
  await assert.rejects(c.acknowledgement(ids[2], missing), /custode 2 .*busta C/);

  // A contribution missing altogether is not acknowledged either.
  const fewer = clone();
  fewer.contributions = fewer.contributions.filter((x) => !(x.dealer_index === 3 && x.kind === "B"));
  await assert.rejects(c.acknowledgement(ids[0], fewer), { code: "contributions_missing" });

  // An identity that is no custodian's is told so.
  const stranger = (await c.newTransportIdentity()).identity;
  await assert.rejects(c.acknowledgement(stranger, FIXTURE.contributions), /Nessun custode/);
});

test("a whole ceremony in the browser: JS contributions, JS acknowledgements, any two JS shares give X", async () => {
  const keys = [];
  for (let i = 0; i < 3; i++) keys.push(await c.newTransportIdentity());
  const view = structuredClone(FIXTURE.view);
  view.custodians.forEach((x, i) => (x.transport_key = keys[i].recipient));
  const all = structuredClone(FIXTURE.contributions);
  all.custodians = view.custodians;
  all.contributions = [];
  for (const [i, cust] of view.custodians.entries()) {
    const up = await c.contribution(view);
    assert.deepEqual(Object.keys(up), ["kinds"]);
    for (const kind of c.KINDS) {
      const kc = up.kinds[kind];
      assert.deepEqual(Object.keys(kc), ["commitments", "shares"]);
      assert.equal(kc.commitments.length, 2);
      assert.deepEqual(kc.shares.map((s) => s.index), [1, 2, 3]);
      for (const s of kc.shares) {
        assert.deepEqual(Object.keys(s), ["index", "ciphertext"]);
        assert.ok(Buffer.from(s.ciphertext, "base64").toString("latin1").startsWith("age-encryption.org/v1\n-> X25519 "));
      }
      all.contributions.push({ dealer_user_id: cust.user_id, dealer_index: i + 1, kind, ...kc });
    }
    // Nothing secret in what is posted: no identity, no plaintext share.
    const text = JSON.stringify(up);
    assert.doesNotMatch(text, /AGE-SECRET-KEY/);
  }
  const shares = [];
  for (let j = 1; j <= 3; j++) {
    const ack = await c.acknowledgement(keys[j - 1].identity, all);
    for (const kind of c.KINDS) {
      const sj = c.verificationShare(commitmentsOf(all, kind), j);
      assert.ok(c.verifyProof(sj, ack.kinds[kind], c.proofContext(all.bando_id, kind, j)));
    }
    shares.push(await c.openingShare(keys[j - 1].identity, all, "C"));
  }
  const x = c.tenderPublicKey(commitmentsOf(all, "C"));
  const secret = combine([[1, c.parseScalar(shares[0].share)], [3, c.parseScalar(shares[2].share)]]);
  assert.ok(c.mulBase(secret).equals(x));
  await assert.rejects(c.contribution({ k: 2, custodians: [{ index: 1, transport_key: null }] }), {
    code: "transport_keys_missing",
  });
});

test("the API calls: CSRF header on every POST, the session cookie, and never the private key in a body", async () => {
  const bodies = [];
  const keys = [];
  for (let i = 0; i < 2; i++) keys.push(await c.newTransportIdentity());
  const bando = FIXTURE.view.bando_id;
  const view = {
    ...structuredClone(FIXTURE.view),
    custodians: FIXTURE.view.custodians.slice(0, 2).map((x, i) => ({ ...x, transport_key: keys[i].recipient })),
  };
  const fakeFetch = async (url, init) => {
    bodies.push({ url, init });
    if (init.method === "POST") assert.equal(init.headers["X-CSRF-Token"], "tok");
    assert.equal(init.credentials, "same-origin");
    const json = (status, data) =>
      new Response(JSON.stringify(data), { status, headers: { "content-type": "application/json" } });
    if (url.endsWith("/sigillo") && init.method === "GET") return json(200, view);
    if (url.endsWith("/sigillo/custodi")) return json(201, view);
    if (url.endsWith("/sigillo/contributi") && init.method === "POST") {
      return json(409, { code: "contribution_exists", detail: "Il contributo di questo custode è già stato caricato" });
    }
    return json(404, { code: "not_found", detail: "x" });
  };
  const client = c.apiClient({ api: "http://portale/api/v1", csrf: "tok", fetch: fakeFetch });
  const store = new Map();
  const storage = { setItem: (k, v) => store.set(k, v), getItem: (k) => store.get(k) ?? null };
  const r = await c.registerTransportKey(client, { bando, user: "u1", storage });
  assert.deepEqual(JSON.parse(bodies[0].init.body), { age_key: r.recipient });
  assert.equal(c.loadIdentity(storage, bando, "u1").identity, r.identity, "kept in this browser");
  assert.equal(c.loadIdentity(storage, bando, "u2"), null, "per user");
  await assert.rejects(c.postContribution(client, { bando }), (e) => {
    assert.equal(e.code, "contribution_exists");
    assert.equal(e.status, 409);
    assert.match(e.message, /già stato caricato/);
    return true;
  });
  for (const b of bodies) assert.doesNotMatch(String(b.init.body ?? ""), /AGE-SECRET-KEY/);
});
