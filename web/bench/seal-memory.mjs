// `make bench`: the browser sealer's memory while it seals and uploads a 200 MB envelope to
// the protocol server of web/support/server.mjs, in node (the same seal.js the portal
// serves). Prints the growth of the process's resident memory and the throughput; `make
// test` proves the bound that keeps it flat as a count (web/test/seal.test.mjs, "reading no
// further ahead than one part"), never as a measurement.
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { apiClient, sealEnvelope, uploadEnvelope } from "../../crates/portal/assets/js/seal.js";
import { startServer } from "../support/server.mjs";
import { onDemandFile } from "../support/on-demand-file.mjs";

const MB = 1024 * 1024;
const total = Number(process.env.SEAL_BENCH_MB || 200) * MB;
const recipient = await identityToRecipient(await generateX25519Identity());
const srv = await startServer({ recipients: { A: recipient, B: recipient, C: recipient }, chunkBytes: 8 * MB, keep: false });
try {
  const big = onDemandFile("elaborati.bin", total);
  const client = apiClient({ api: srv.base, csrf: srv.csrf });
  const bando = "00000000-0000-0000-0000-0000000000aa";
  const sealed = await sealEnvelope({ recipient, bando, busta: "A", files: [big] });
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = process.hrtime.bigint();
  await uploadEnvelope(client, {
    bando,
    busta: "A",
    stream: sealed.stream,
    size: sealed.size,
    sleep: async () => {},
    keepUpTo: 0,
    onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)),
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  console.log(
    `seal+upload ${total / MB} MB: resident memory grew ${((peak - before) / MB).toFixed(0)} MB ` +
      `(peak ${(peak / MB).toFixed(0)} MB), ${(total / MB / secs).toFixed(1)} MB/s`,
  );
} finally {
  await srv.close();
}
