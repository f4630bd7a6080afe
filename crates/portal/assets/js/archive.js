// The envelope archive `centrale-busta/1` (docs/portal-sealing.md, CONTRACT §1): a
// deterministic POSIX ustar stream, `manifest.json` first, then the files sorted by the byte
// order of their UTF-8 names. The same inputs give the same bytes here and in the Rust packer
// (crates/offerte/src/archive.rs), so a bidder can rebuild and compare the plaintext.
//
// Nothing here touches the DOM: the module runs in the browser and under `node --test`.
// Files are anything with `name`, `size` and `stream()` (a File, a Blob with a name).

import { sha256, bytesToHex } from "../vendor/age/age.bundle.js";

export const FORMAT = "centrale-busta/1";
export const MAX_FILES = 50;
export const BLOCK = 512;
/** The largest size an 11-digit octal field holds. */
export const MAX_FILE_BYTES = 8 ** 11 - 1;
/** The name of envelope C's economic offer, read by the award engine at the opening. */
export const ECONOMIC_OFFER_NAME = "offerta-economica.json";
/** The member of envelope B with the declared values (offerte::archive::VALUES_NAME). */
export const TECHNICAL_VALUES_NAME = "valori-tecnici.json";

const encoder = new TextEncoder();

/** An archive refusal: a stable `code` for programs, an Italian `message` for people. */
export class ArchiveError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ArchiveError";
    this.code = code;
  }
}

/** Unicode category Cc, as Rust's `char::is_control` (the Rust reader applies the same rule). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;

/** The UTF-8 bytes of a file name allowed in an envelope, or an ArchiveError. */
export function checkName(name) {
  if (typeof name !== "string" || name.length === 0) {
    throw new ArchiveError("archive_name_empty", "Un file non ha nome.");
  }
  const bytes = encoder.encode(name);
  // A lone surrogate would be written as U+FFFD: the manifest would name another file.
  if (new TextDecoder().decode(bytes) !== name) {
    throw new ArchiveError("archive_name_invalid", `Il nome «${name}» non è UTF-8 valido.`);
  }
  if (bytes.length > 100) {
    throw new ArchiveError(
      "archive_name_too_long",
      `Il nome «${name}» supera 100 byte: rinominare il file con un nome più corto.`,
    );
  }
  if (name.includes("/") || name.includes("\\") || CONTROL.test(name)) {
    throw new ArchiveError(
      "archive_name_invalid",
      `Il nome «${name}» contiene caratteri non ammessi (/, \\ o caratteri di controllo).`,
    );
  }
  if (name === "." || name === "..") {
    throw new ArchiveError("archive_name_invalid", `Il nome «${name}» non è ammesso.`);
  }
  if (name === "manifest.json") {
    throw new ArchiveError(
      "archive_name_reserved",
      "Il nome «manifest.json» è riservato all'indice della busta: rinominare il file.",
    );
  }
  return bytes;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/**
 * Checks the names and sorts the files as the archive orders them. JavaScript compares
 * strings by UTF-16 code units, which differs from UTF-8 byte order above U+FFFF: the sort
 * uses the encoded bytes.
 */
export function orderFiles(files) {
  const list = Array.from(files);
  if (list.length === 0) {
    throw new ArchiveError("archive_empty", "La busta non contiene alcun file.");
  }
  if (list.length > MAX_FILES) {
    throw new ArchiveError(
      "archive_too_many_files",
      `Una busta contiene al massimo ${MAX_FILES} file (ne sono stati scelti ${list.length}).`,
    );
  }
  const named = list.map((file) => ({ file, nameBytes: checkName(file.name) }));
  named.sort((a, b) => compareBytes(a.nameBytes, b.nameBytes));
  for (let i = 1; i < named.length; i++) {
    if (compareBytes(named[i - 1].nameBytes, named[i].nameBytes) === 0) {
      throw new ArchiveError(
        "archive_name_duplicate",
        `Due file si chiamano «${named[i].file.name}»: i nomi devono essere diversi.`,
      );
    }
  }
  for (const { file } of named) {
    if (!Number.isSafeInteger(file.size) || file.size < 0 || file.size > MAX_FILE_BYTES) {
      throw new ArchiveError("archive_file_too_large", `Il file «${file.name}» è troppo grande.`);
    }
  }
  return named;
}

/** Reads a stream to the end, calling `onChunk` for each piece (no async iteration: Safari). */
async function eachChunk(stream, onChunk) {
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onChunk(value);
  }
}

/**
 * The first pass: SHA-256 and size of each file, read as a stream (memory stays flat).
 * Returns the entries in archive order: `{ name, nameBytes, size, sha256, file }`.
 * `onProgress(doneBytes, totalBytes)` is called as bytes are hashed.
 */
export async function describeFiles(files, onProgress = () => {}) {
  const named = orderFiles(files);
  const total = named.reduce((s, { file }) => s + file.size, 0);
  let done = 0;
  const entries = [];
  for (const { file, nameBytes } of named) {
    const h = sha256.create();
    let size = 0;
    await eachChunk(file.stream(), (chunk) => {
      h.update(chunk);
      size += chunk.length;
      done += chunk.length;
      onProgress(done, total);
    });
    if (size !== file.size) {
      throw new ArchiveError("archive_file_changed", `Il file «${file.name}» è cambiato durante la lettura.`);
    }
    entries.push({ name: file.name, nameBytes, size, sha256: bytesToHex(h.digest()), file });
  }
  return entries;
}

/**
 * The manifest's exact bytes: compact JSON, keys in the contract's order. JSON.stringify
 * escapes the characters a valid name can hold exactly as serde_json does (only `"` and `\`
 * need it; control characters are refused by checkName).
 */
export function manifestBytes({ bando, lotto, busta, entries }) {
  if (!["A", "B", "C"].includes(busta)) {
    throw new ArchiveError("archive_kind_invalid", "Tipo di busta diverso da A, B, C.");
  }
  const manifest = {
    format: FORMAT,
    bando,
    lotto: lotto || null,
    busta,
    files: entries.map((e) => ({ name: e.name, size: e.size, sha256: e.sha256 })),
  };
  return encoder.encode(JSON.stringify(manifest));
}

function putAscii(block, offset, text) {
  for (let i = 0; i < text.length; i++) block[offset + i] = text.charCodeAt(i);
}

function octal(value, digits) {
  const s = value.toString(8);
  if (s.length > digits) throw new ArchiveError("archive_file_too_large", "File troppo grande per l'archivio.");
  return s.padStart(digits, "0");
}

/** One ustar header block, every field as CONTRACT §1 fixes it. */
export function tarHeader(nameBytes, size) {
  const h = new Uint8Array(BLOCK);
  h.set(nameBytes, 0);
  putAscii(h, 100, "0000644\0");
  putAscii(h, 108, "0000000\0");
  putAscii(h, 116, "0000000\0");
  putAscii(h, 124, octal(size, 11) + "\0");
  putAscii(h, 136, "00000000000\0");
  putAscii(h, 148, "        ");
  h[156] = 0x30; // typeflag '0': regular file
  putAscii(h, 257, "ustar\0");
  putAscii(h, 263, "00");
  putAscii(h, 329, "0000000\0");
  putAscii(h, 337, "0000000\0");
  let sum = 0;
  for (const b of h) sum += b;
  putAscii(h, 148, octal(sum, 6) + "\0 ");
  return h;
}

function padding(size) {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

/** Total archive size for these entries (so progress and the ciphertext size are known up front). */
export function archiveSize(manifestLength, entries) {
  let n = BLOCK + manifestLength + padding(manifestLength);
  for (const e of entries) n += BLOCK + e.size + padding(e.size);
  return n + 2 * BLOCK;
}

/**
 * The second pass: the archive as a ReadableStream, produced on demand (pull), so a 200 MB
 * envelope never sits in memory. Each file is hashed again as it streams: a file changed
 * since the first pass errors the stream, and the upload stops before it is completed.
 */
export function packStream({ bando, lotto, busta, entries }) {
  const manifest = manifestBytes({ bando, lotto, busta, entries });
  const queue = [
    { nameBytes: encoder.encode("manifest.json"), size: manifest.length, bytes: manifest },
    ...entries,
  ];
  let index = 0;
  let current = null; // { entry, reader, hash, seen }
  let finished = false;
  return new ReadableStream({
    async pull(controller) {
      if (finished) return;
      if (current === null) {
        if (index === queue.length) {
          finished = true;
          controller.enqueue(new Uint8Array(2 * BLOCK));
          controller.close();
          return;
        }
        const entry = queue[index++];
        controller.enqueue(tarHeader(entry.nameBytes, entry.size));
        if (entry.bytes) {
          const block = new Uint8Array(entry.size + padding(entry.size));
          block.set(entry.bytes, 0);
          controller.enqueue(block);
          return;
        }
        current = { entry, reader: entry.file.stream().getReader(), hash: sha256.create(), seen: 0 };
        return;
      }
      const { entry, reader, hash } = current;
      const { done, value } = await reader.read();
      if (!done) {
        current.seen += value.length;
        if (current.seen > entry.size) {
          controller.error(changed(entry));
          return;
        }
        hash.update(value);
        controller.enqueue(value);
        return;
      }
      const seen = current.seen;
      current = null;
      if (seen !== entry.size || bytesToHex(hash.digest()) !== entry.sha256) {
        controller.error(changed(entry));
        return;
      }
      const pad = padding(entry.size);
      if (pad > 0) controller.enqueue(new Uint8Array(pad));
    },
    cancel(reason) {
      if (current) current.reader.cancel(reason);
    },
  });
}

function changed(entry) {
  return new ArchiveError(
    "archive_file_changed",
    `Il file «${entry.name}» è cambiato dopo il calcolo dell'impronta: sceglierlo di nuovo.`,
  );
}

/** The whole archive in memory: for tests and small envelopes only. */
export async function packBytes(args) {
  return new Uint8Array(await new Response(packStream(args)).arrayBuffer());
}
