// archive.js: the `centrale-busta/1` bytes (CONTRACT §1), the naming rules, and streaming.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import {
  describeFiles,
  packBytes,
  packStream,
  checkName,
  orderFiles,
  archiveSize,
  manifestBytes,
  MAX_FILES,
} from "../../crates/portal/assets/js/archive.js";

const sha = (b) => createHash("sha256").update(b).digest("hex");
const BANDO = "00000000-0000-0000-0000-000000000001";

/**
 * The shared conformance fixture: kind A, lotto null, domanda.txt and dgue.xml. The Rust
 * packer's output is crates/offerte/tests/fixtures/busta-a.tar (h2); when that file is in the
 * tree the bytes are compared with it, and always with this digest of the JavaScript output.
 */
const FIXTURE_SHA256 = "9c8daf31c1b6698d014ca7ac935c5b4bcd1dc4b9f030ba76feb6a7ec8b55cda8";
const RUST_FIXTURE = new URL("../../crates/offerte/tests/fixtures/busta-a.tar", import.meta.url);

async function conformance() {
  const files = [new File(["Domanda di partecipazione\n"], "domanda.txt"), new File(["<dgue/>\n"], "dgue.xml")];
  return packBytes({ bando: BANDO, lotto: null, busta: "A", entries: await describeFiles(files) });
}

/** Reads back a tar produced here, checking every header field the contract fixes. */
function readTar(bytes) {
  const ascii = (o, n) => new TextDecoder().decode(bytes.subarray(o, o + n));
  const out = [];
  let off = 0;
  for (;;) {
    const h = bytes.subarray(off, off + 512);
    if (h.every((b) => b === 0)) {
      assert.ok(bytes.subarray(off).every((b) => b === 0), "only zeros after the last entry");
      assert.equal(bytes.length - off, 1024, "two zero blocks end the archive");
      return out;
    }
    const nameEnd = h.subarray(0, 100).indexOf(0);
    const name = new TextDecoder().decode(h.subarray(0, nameEnd < 0 ? 100 : nameEnd));
    assert.equal(ascii(off + 100, 8), "0000644\0");
    assert.equal(ascii(off + 108, 8), "0000000\0");
    assert.equal(ascii(off + 116, 8), "0000000\0");
    assert.equal(h[135], 0);
    const size = parseInt(ascii(off + 124, 11), 8);
    assert.equal(ascii(off + 136, 12), "00000000000\0");
    assert.equal(ascii(off + 156, 1), "0");
    assert.ok(h.subarray(157, 257).every((b) => b === 0), "no linkname");
    assert.equal(ascii(off + 257, 6), "ustar\0");
    assert.equal(ascii(off + 263, 2), "00");
    assert.ok(h.subarray(265, 329).every((b) => b === 0), "no uname, gname");
    assert.equal(ascii(off + 329, 16), "0000000\x000000000\0");
    assert.ok(h.subarray(345, 512).every((b) => b === 0), "no prefix");
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    assert.equal(ascii(off + 148, 8), sum.toString(8).padStart(6, "0") + "\0 ");
    const data = bytes.subarray(off + 512, off + 512 + size);
    const padded = Math.ceil(size / 512) * 512;
    assert.ok(bytes.subarray(off + 512 + size, off + 512 + padded).every((b) => b === 0), "NUL padding");
    out.push({ name, data });
    off += 512 + padded;
  }
}

test("the conformance envelope has the agreed bytes", async () => {
  const tar = await conformance();
  assert.equal(sha(tar), FIXTURE_SHA256);
  if (existsSync(RUST_FIXTURE)) {
    assert.deepEqual(tar, new Uint8Array(readFileSync(RUST_FIXTURE)), "same bytes as the Rust packer");
  }
  const entries = readTar(tar);
  assert.deepEqual(entries.map((e) => e.name), ["manifest.json", "dgue.xml", "domanda.txt"]);
  assert.equal(
    new TextDecoder().decode(entries[0].data),
    `{"format":"centrale-busta/1","bando":"${BANDO}","lotto":null,"busta":"A","files":[` +
      `{"name":"dgue.xml","size":8,"sha256":"${sha("<dgue/>\n")}"},` +
      `{"name":"domanda.txt","size":26,"sha256":"${sha("Domanda di partecipazione\n")}"}]}`,
  );
  assert.equal(new TextDecoder().decode(entries[2].data), "Domanda di partecipazione\n");
});

test("files are ordered by the bytes of their UTF-8 names, not by UTF-16", async () => {
  // U+FF5E sorts after U+1F600 in UTF-16 (0xFF5E > 0xD83D) but before it in UTF-8 (EF < F0).
  const names = ["😀.txt", "～.txt", "Z.txt", "a.txt", "é.txt", "a b.txt"];
  const entries = await describeFiles(names.map((n) => new File([n], n)));
  assert.deepEqual(entries.map((e) => e.name), ["Z.txt", "a b.txt", "a.txt", "é.txt", "～.txt", "😀.txt"]);
  const tar = await packBytes({ bando: BANDO, lotto: "00000000-0000-0000-0000-000000000002", busta: "B", entries });
  const read = readTar(tar);
  assert.deepEqual(read.slice(1).map((e) => e.name), entries.map((e) => e.name));
  const manifest = JSON.parse(new TextDecoder().decode(read[0].data));
  assert.equal(manifest.lotto, "00000000-0000-0000-0000-000000000002");
  assert.equal(manifest.busta, "B");
  const lotto = "00000000-0000-0000-0000-000000000002";
  assert.equal(tar.length, archiveSize(manifestBytes({ bando: BANDO, lotto, busta: "B", entries }).length, entries));
});

test("names that break the rules are refused with an Italian reason", () => {
  for (const [name, code] of [
    ["", "archive_name_empty"],
    ["a/b.pdf", "archive_name_invalid"],
    ["a\\b.pdf", "archive_name_invalid"],
    ["a\u0000b", "archive_name_invalid"],
    ["riga\nnuova", "archive_name_invalid"],
    ["\u0085", "archive_name_invalid"],
    [".", "archive_name_invalid"],
    ["..", "archive_name_invalid"],
    ["manifest.json", "archive_name_reserved"],
    ["\ud800.txt", "archive_name_invalid"],
    ["è".repeat(51), "archive_name_too_long"],
  ]) {
    assert.throws(() => checkName(name), (e) => e.code === code && /[a-zà-ù]/.test(e.message), JSON.stringify(name));
  }
  assert.equal(checkName("é".repeat(50)).length, 100, "100 bytes is the limit, not 100 characters");
  assert.throws(() => orderFiles([new File(["1"], "x.pdf"), new File(["2"], "x.pdf")]), (e) => e.code === "archive_name_duplicate");
  assert.throws(() => orderFiles([]), (e) => e.code === "archive_empty");
  const many = Array.from({ length: MAX_FILES + 1 }, (_, i) => new File(["x"], `f${i}.txt`));
  assert.throws(() => orderFiles(many), (e) => e.code === "archive_too_many_files");
  assert.equal(orderFiles(many.slice(0, MAX_FILES)).length, MAX_FILES);
});

test("a file changed after hashing stops the archive stream", async () => {
  let content = "prima versione";
  const file = { name: "offerta.pdf", size: 14, stream: () => new Blob([content]).stream() };
  const entries = await describeFiles([file]);
  content = "Prima versione";
  await assert.rejects(packBytes({ bando: BANDO, lotto: null, busta: "A", entries }), (e) => e.code === "archive_file_changed");
  content = "prima versione e altro";
  await assert.rejects(packBytes({ bando: BANDO, lotto: null, busta: "A", entries }), (e) => e.code === "archive_file_changed");
});

test("the archive is produced on demand, never read ahead of its reader", async () => {
  const MB = 1024 * 1024;
  let pulled = 0;
  const big = {
    name: "grande.bin",
    size: 100 * MB,
    stream() {
      let left = this.size;
      return new ReadableStream({
        pull(c) {
          if (left === 0) return c.close();
          left -= MB;
          pulled += 1;
          c.enqueue(new Uint8Array(MB));
        },
      });
    },
  };
  // The manifest needs the digest: fake it, this test only reads the first chunks.
  const entries = [{ name: big.name, nameBytes: new TextEncoder().encode(big.name), size: big.size, sha256: "0".repeat(64), file: big }];
  const reader = packStream({ bando: BANDO, lotto: null, busta: "A", entries }).getReader();
  let got = 0;
  while (got < 5 * MB) got += (await reader.read()).value.length;
  assert.ok(pulled <= 8, `read ${pulled} MB of the file to give ${got} bytes`);
  await reader.cancel();
});

test("a redaction request is packed like any file, beside the original and its redacted copy", async () => {
  // Art. 36 c.3–5 (docs/redaction.md): the request travels sealed in the envelope as
  // `oscuramento.json`; the browser packer needs nothing special, and must not refuse it.
  const request = JSON.stringify({
    requests: [{ file: "relazione.pdf", redacted_copy: "relazione-oscurata.pdf", reasons: "segreto industriale" }],
  });
  const files = [
    new File(["originale"], "relazione.pdf"),
    new File(["[omissis]"], "relazione-oscurata.pdf"),
    new File([request], "oscuramento.json"),
  ];
  for (const f of files) assert.doesNotThrow(() => checkName(f.name));
  const entries = await describeFiles(files);
  const read = readTar(await packBytes({ bando: BANDO, lotto: null, busta: "B", entries }));
  assert.deepEqual(read.map((e) => e.name), ["manifest.json", "oscuramento.json", "relazione-oscurata.pdf", "relazione.pdf"]);
  assert.equal(new TextDecoder().decode(read[1].data), request);
});
