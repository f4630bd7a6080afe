// Runs the browser verifier (crates/portal/assets/js/verify.js) on a bundle and an envelope
// file, outside the browser: `node web/support/verify-bundle.mjs BUNDLE.json ENVELOPE.age`.
// Prints the report as JSON; exits 0 only when every check passes. Used by the Rust test
// crates/centrale/tests/web_fixtures.rs on a bundle a live server has just produced.
import { readFileSync } from "node:fs";
import { verifyBundle } from "../../crates/portal/assets/js/verify.js";

const [bundlePath, envelopePath] = process.argv.slice(2);
const bundle = JSON.parse(readFileSync(bundlePath, "utf8"));
const envelope = new Blob([readFileSync(envelopePath)]);
const report = await verifyBundle(bundle, envelope);
const results = report.results.map(({ check, status, message, code }) => ({ check, status, message, code }));
console.log(JSON.stringify({ ok: report.ok, results, genTime: report.token?.genTimeText ?? null }));
process.exit(report.ok ? 0 : 1);
