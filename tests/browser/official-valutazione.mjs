// The opening session and the evaluation up to the award in Chromium (issue 13 points 3-4),
// for a lowest-price tender with five bidders seeded by crates/portal/tests/browser/
// official_valutazione.rs: the RUP logs in, opens A (after the custodians' shares, which the
// harness submits: their page is another area's), admits every bidder, opens C, runs the
// economic phase, confirms every proposed exclusion, checks the requirements and awards. The
// final state is checked on the Rust side through the API (`check_award`).
//
// OEPV=1: an OEPV tender with envelope B; after the admissions the RUP opens B and the
// harness plays the commission (declarations, coefficients, closing: another area's pages).
//
// Environment: BASE_URL, BANDO_ID, RUP_EMAIL, RUP_PASSWORD, BIDDERS (default 5), OEPV.

import { newContext, newPage, harness, requiredEnv, run, visit, expectMainHeading, assertClean } from './lib.mjs';
import {
  admitAll,
  award,
  checkRequirements,
  confirmExclusions,
  openEnvelope,
  runEconomicPhase,
  viewOpening,
} from './official/valutazione.mjs';

const bando = requiredEnv('BANDO_ID');
const email = requiredEnv('RUP_EMAIL');
const password = requiredEnv('RUP_PASSWORD');
const bidders = Number(process.env.BIDDERS || 5);
const oepv = process.env.OEPV === '1';

await run(
  'official valutazione',
  async ({ step }) => {
    const context = await newContext();
    const page = await newPage(context);
    let outcome;

    await step('the RUP logs in', async () => {
      await visit(page, `/accedi?ritorno=/ente/bandi/${bando}/apertura`);
      await page.getByLabel(/e-?mail/i).fill(email);
      await page.getByLabel(/^password/i).fill(password);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /^accedi$/i }).click()]);
      await expectMainHeading(page, /seduta di apertura/i);
      assertClean(context, 'login');
    });

    await step('the session page before the shares: no button', async () => {
      const shares = await viewOpening(page, { bando, kind: 'A', context });
      if (!/0 di 2/.test(shares)) throw new Error(`shares of A: ${shares}`);
      if (await page.getByRole('button', { name: /apri busta/i }).count()) throw new Error('a button without shares');
    });

    await step('envelope A opened', async () => {
      await harness('shares', { kind: 'A' });
      const a = await openEnvelope(page, { bando, kind: 'A', context });
      if (a.envelopes !== bidders) throw new Error(`opened ${a.envelopes} envelopes A`);
      if (!a.links.some((l) => l.endsWith('/file/domanda.pdf'))) throw new Error(`A's files not linked: ${a.links}`);
    });

    await step('every bidder admitted', async () => {
      const { admitted } = await admitAll(page, { bando, context });
      if (admitted !== bidders) throw new Error(`admitted ${admitted}`);
    });

    if (oepv) {
      await step('envelope B opened, not readable by the RUP; the commission scores', async () => {
        await harness('shares', { kind: 'B' });
        const b = await openEnvelope(page, { bando, kind: 'B', context });
        if (b.links.length) throw new Error(`the RUP sees B's files: ${b.links}`);
        await harness('commission');
      });
    }

    await step('envelope C opened and the economic phase run', async () => {
      await harness('shares', { kind: 'C' });
      await openEnvelope(page, { bando, kind: 'C', context });
      const { steps, ranking } = await runEconomicPhase(page, { bando, context });
      if (!oepv && !steps.threshold) throw new Error(`no threshold among ${Object.keys(steps)}`);
      if (!ranking.length) throw new Error('no ranking');
    });

    await step('the exclusions confirmed, the requirements checked, the award', async () => {
      const { confirmed } = await confirmExclusions(page, { bando, context });
      if (!oepv && confirmed < 1) throw new Error('no exclusion to confirm');
      await checkRequirements(page, { bando, context });
      outcome = await award(page, { bando, context });
      await harness('check_award', { winner: outcome.winner });
    });
  },
  { stopOnFailure: true },
);
