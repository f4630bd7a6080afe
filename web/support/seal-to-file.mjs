// Seals envelopes with the portal's own code (seal.js → archive.js → age.bundle.js), as the
// browser would, and writes them for the Rust side to open:
// `node web/support/seal-to-file.mjs RECIPIENT OUTDIR` writes, for envelopes A and C,
// `busta-X.age` (the ciphertext) and `busta-X.tar` (the archive it must decrypt to).
// Run by crates/portal/tests/js_unit.rs, which decrypts with the Rust `age` crate.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sealEnvelope } from "../../crates/portal/assets/js/seal.js";
import { packBytes } from "../../crates/portal/assets/js/archive.js";

const [recipient, outDir] = process.argv.slice(2);
const bando = "00000000-0000-0000-0000-000000000001";
const cases = {
  A: { files: [new File(["Domanda di partecipazione\n"], "domanda.txt"), new File(["<dgue/>\n"], "dgue.xml")] },
  C: {
    files: [new File([new Uint8Array(200000).fill(0x43)], "offerta-firmata.pdf.p7m")],
    economic: { criterion: "discount", values: { discount: "12,345", labour_costs: "100000.00", safety_costs: "5000.00" } },
  },
};
for (const [busta, { files, economic }] of Object.entries(cases)) {
  const sealed = await sealEnvelope({ recipient, bando, lotto: null, busta, files, economic });
  const ciphertext = new Uint8Array(await new Response(sealed.stream).arrayBuffer());
  if (ciphertext.length !== sealed.size) throw new Error("ciphertext size differs from the announced one");
  writeFileSync(join(outDir, `busta-${busta}.age`), ciphertext);
  writeFileSync(join(outDir, `busta-${busta}.tar`), await packBytes({ bando, lotto: null, busta, entries: sealed.entries }));
}
