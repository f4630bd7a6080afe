// The key ceremony in Chromium (issue 13 points 2 and 3): three custodians, each in a browser
// of his own, run the three rounds on /ente/bandi/{id}/custodia; no request body ever carries
// a private key. Then (bids seeded and the clock moved past the deadline by the Rust side)
// two of the three submit their share of envelope A in the browser, one of them from the key
// file in a fresh browser, and the RUP's opening through the API succeeds.
//
// Environment (crates/portal/tests/browser/official_custodia.rs): BASE_URL, BANDO_ID,
// CUSTODIANS (JSON array of e-mails, in custodian order), PASSWORD.
// Harness: seed_bids, past_opening, open {kind}.

import { harness, newContext, newPage, requiredEnv, run, visit, assertClean } from './lib.mjs';
import {
  acknowledge,
  contribute,
  custodyPath,
  loadKeyFile,
  loginOfficial,
  openCustody,
  privateKeyOf,
  registerTransportKey,
  submitShare,
  watchRequestBodies,
} from './official/custodia.mjs';

const bando = requiredEnv('BANDO_ID');
const emails = JSON.parse(requiredEnv('CUSTODIANS'));
const password = requiredEnv('PASSWORD');

await run('official-custodia', async ({ step }) => {
  const people = [];
  await step('each custodian logs in, in a browser of his own', async () => {
    for (const email of emails) {
      const context = await newContext();
      const page = await newPage(context);
      const watch = watchRequestBodies(context);
      await loginOfficial(page, { email, password });
      people.push({ email, context, page, watch });
    }
  });

  await step('without JavaScript the page reads the status and points to the CLI', async () => {
    const context = await newContext({ javaScript: false });
    const page = await newPage(context);
    await loginOfficial(page, { email: emails[0], password });
    await visit(page, custodyPath(bando));
    const noscript = await page.locator('noscript').first().textContent();
    if (!/centrale keys custodian-keygen/.test(noscript)) throw new Error('no CLI commands in <noscript>');
    if (!(await page.locator('#custodia-custodi, #custodia-stato').first().isVisible())) throw new Error('no status');
    // (axe runs a script in the page: it is checked with JavaScript, in the rounds below.)
    assertClean(context, 'custodia senza JavaScript');
    await context.close();
  });

  await step('round 1: each browser makes its transport key and registers only the public key', async () => {
    for (const p of people) {
      const r = await registerTransportKey(p.page, { bando });
      p.recipient = r.recipient;
      p.keyFile = r.keyFile;
      p.secret = await privateKeyOf(p.page, { bando });
      if (!p.secret || !p.secret.startsWith('AGE-SECRET-KEY-1')) throw new Error('the key is not kept in the browser');
    }
    const status = await openCustody(people[0].page, { bando });
    if (status !== 'contributing') throw new Error(`after three keys the ceremony is ${status}`);
  });

  await step('round 2: each browser computes and posts its contribution', async () => {
    for (const p of people) await contribute(p.page, { bando });
  });

  await step('round 3: each browser checks its shares (Feldman) and acknowledges; the ceremony completes', async () => {
    let last;
    for (const p of people) last = await acknowledge(p.page, { bando });
    if (last.status !== 'complete') throw new Error(`the ceremony is ${last.status}, not complete`);
    const keys = await people[1].page.locator('#custodia-chiavi dd').allInnerTexts();
    if (keys.length !== 3 || !keys.every((k) => k.startsWith('age1'))) throw new Error(`recipients: ${keys}`);
  });

  await step('no request body carried a private key', async () => {
    let n = 0;
    for (const p of people) for (const q of people) n += q.watch.assertNoSecret(p.secret);
    if (n < 9) throw new Error(`only ${n} request bodies seen: the watch saw nothing`);
  });

  await step('bids arrive and the clock passes the deadline and the session', async () => {
    await harness('seed_bids');
    await harness('past_opening');
    // The clock jumped past the sessions' lifetime: log in again (the keys stay in the profiles).
    for (const p of [people[0]]) await loginOfficial(p.page, { email: p.email, password });
  });

  await step('two of three custodians submit their share of A in the browser, one from the key file', async () => {
    const first = await submitShare(people[0].page, { bando, kind: 'A' });
    if (first.submitted !== 1) throw new Error(`after one share the page shows ${first.submitted}`);
    // Custodian 3 on another machine: a new browser, the key from the downloaded file.
    const context = await newContext();
    const page = await newPage(context);
    const watch = watchRequestBodies(context);
    await loginOfficial(page, { email: emails[2], password });
    await loadKeyFile(page, { bando, keyFile: people[2].keyFile });
    const second = await submitShare(page, { bando, kind: 'A' });
    if (second.submitted !== 2) throw new Error(`after two shares the page shows ${second.submitted}`);
    watch.assertNoSecret(people[2].secret);
    people[0].watch.assertNoSecret(people[0].secret);
  });

  await step("the RUP's opening of A through the API succeeds", async () => {
    const opened = await harness('open', { kind: 'A' });
    if (!(opened.envelopes >= 1)) throw new Error(`opening: ${JSON.stringify(opened)}`);
  });
});
