// Issue 13 "Done means", in Chromium: a RUP who has never seen the API drafts a lowest-price
// tender from an empty form, sees a legal check fail with its article, fixes it and publishes;
// the three custodians (the RUP one of them) run the key ceremony each in his own browser;
// five suppliers bid (through the API: their pages are issue 12's journey); past the deadline
// two of the three custodians submit their shares in their browsers and the RUP opens A, admits,
// opens C, runs the economic phase, confirms the proposed exclusions, checks the requirements
// and awards. Next to it an OEPV tender, opened to envelope B by the harness, is scored by its
// three commissioners in their own browsers and awarded by the RUP. Last, the ente's auditor
// finds every step of both tenders in their timelines. Every page passes axe and the guard.
//
// Environment (crates/portal/tests/browser/official_journey.rs): BASE_URL, PASSWORD,
// RUP_EMAIL, CUSTODIANS (JSON: the three custodians' e-mails, the RUP first), CIG,
// OEPV_BANDO, COMMISSIONERS (JSON, the president first), AUDITOR_EMAIL.

import { harness, newContext, newPage, requiredEnv, run } from './lib.mjs';
import { createDraft, expectCheckFails, fixAndPublish, login } from './official/bandi.mjs';
import { acknowledge, contribute, registerTransportKey, submitShare, watchRequestBodies, privateKeyOf } from './official/custodia.mjs';
import {
  admitAll,
  award,
  checkRequirements,
  confirmExclusions,
  openEnvelope,
  runEconomicPhase,
  viewOpening,
} from './official/valutazione.mjs';
import { appointCommission, closeTechnicalPhase, declare, enterCoefficients } from './official/commissione.mjs';
import { findEveryStep } from './official/audit.mjs';

const password = requiredEnv('PASSWORD');
const rupEmail = requiredEnv('RUP_EMAIL');
const custodianEmails = JSON.parse(requiredEnv('CUSTODIANS'));
const cig = requiredEnv('CIG');
const oepvBando = requiredEnv('OEPV_BANDO');
const commissioners = JSON.parse(requiredEnv('COMMISSIONERS'));
const auditorEmail = requiredEnv('AUDITOR_EMAIL');

/** One browser (context) per person: each custodian's key lives in his own profile. */
async function person(email) {
  const context = await newContext();
  const page = await newPage(context);
  return { email, context, page, watch: watchRequestBodies(context) };
}

/** After the clock moved by weeks the sessions have expired: each person logs in again. */
async function relogin(p, back = '/ente/bandi') {
  await login(p.page, { email: p.email, password, back });
}

await run(
  'officials from an empty draft to the award',
  async ({ step }) => {
    const rup = await person(rupEmail);
    const custodians = [rup, ...(await Promise.all(custodianEmails.slice(1).map(person)))];
    let bando;

    await step('the RUP drafts a lowest-price tender from an empty form', async () => {
      await login(rup.page, { email: rupEmail, password });
      bando = await createDraft(rup.page, {
        context: rup.context,
        screenshotName: 'official-journey-bozza',
        oggetto: 'Riqualificazione della piazza del mercato',
        cig,
        contractType: 'works',
        criterion: 'minor_prezzo',
        envelopes: ['A', 'C'],
        baseAmount: '1000000,00',
        safetyCosts: '20000,00',
        cpvQuery: '45000000',
        cpv: '45000000-7',
        nutsQuery: 'Milano',
        nuts: 'ITC4C',
        questionsDeadline: '2026-05-12T12:00',
        // Too short for an open procedure: the page must say so with the article.
        submissionDeadline: '2026-05-20T12:00',
        openingAt: '2026-06-05T15:00',
        custodians: custodianEmails,
        threshold: 2,
        anomalyMethod: 'A',
      });
    });

    await step('the legal check fails with its article, then the tender is fixed and published', async () => {
      await expectCheckFails(rup.page, { bando, article: 'art. 71', context: rup.context });
      await fixAndPublish(rup.page, { bando, submissionDeadline: '2026-06-05T12:00', context: rup.context });
    });

    await step('three custodians run the key ceremony, each in his own browser', async () => {
      for (const c of custodians.slice(1)) await login(c.page, { email: c.email, password });
      for (const c of custodians) await registerTransportKey(c.page, { bando });
      for (const c of custodians) await contribute(c.page, { bando });
      for (const c of custodians) {
        const { status } = await acknowledge(c.page, { bando });
        if (c === custodians.at(-1) && status !== 'complete') throw new Error(`the ceremony ends ${status}`);
      }
    });

    await step('five suppliers bid; the deadline and the opening time pass', async () => {
      const { bids } = await harness('bids', { bando });
      if (bids !== 5) throw new Error(`${bids} bids`);
      await harness('opening_time', { bando });
      for (const c of custodians) await relogin(c);
    });

    await step('two of three custodians submit their shares of A; the RUP opens A and admits', async () => {
      await viewOpening(rup.page, { bando, kind: 'A', context: rup.context });
      for (const c of custodians.slice(0, 2)) await submitShare(c.page, { bando, kind: 'A' });
      const a = await openEnvelope(rup.page, { bando, kind: 'A', context: rup.context });
      if (a.envelopes !== 5) throw new Error(`opened ${a.envelopes} envelopes A`);
      const { admitted } = await admitAll(rup.page, { bando, context: rup.context });
      if (admitted !== 5) throw new Error(`admitted ${admitted}`);
    });

    await step('the same two open C; the economic phase with the anomaly threshold', async () => {
      for (const c of custodians.slice(0, 2)) await submitShare(c.page, { bando, kind: 'C' });
      await openEnvelope(rup.page, { bando, kind: 'C', context: rup.context });
      const { steps, ranking } = await runEconomicPhase(rup.page, { bando, context: rup.context });
      if (!steps.threshold) throw new Error(`no threshold among ${Object.keys(steps)}`);
      if (ranking.length === 0) throw new Error('no ranking');
    });

    await step('the RUP confirms the exclusions, checks the requirements and awards', async () => {
      await confirmExclusions(rup.page, { bando, context: rup.context });
      await checkRequirements(rup.page, { bando, context: rup.context });
      const { winner } = await award(rup.page, { bando, context: rup.context });
      await harness('check_award', { bando, winner });
    });

    await step('no custodian browser ever sent its private key', async () => {
      for (const c of custodians) c.watch.assertNoSecret(await privateKeyOf(c.page, { bando }));
    });

    await step('an OEPV tender: the commission scores in three browsers, the RUP awards', async () => {
      await harness('oepv_to_b', {});
      await relogin(rup);
      await appointCommission(rup.page, { bando: oepvBando, members: commissioners, president: commissioners[0] });
      const members = await Promise.all(commissioners.map(person));
      const values = [
        { T1: '0,8', T2: '0,6' },
        { T1: '0,6', T2: '0,5' },
        { T1: '0,4', T2: '0,3' },
      ];
      for (const m of members) {
        await login(m.page, { email: m.email, password });
        await declare(m.page, { bando: oepvBando });
      }
      for (const m of members) await enterCoefficients(m.page, { bando: oepvBando, values });
      await closeTechnicalPhase(members[0].page, { bando: oepvBando });
      await harness('oepv_shares', { kind: 'C' });
      await openEnvelope(rup.page, { bando: oepvBando, kind: 'C', context: rup.context });
      await runEconomicPhase(rup.page, { bando: oepvBando, context: rup.context });
      await confirmExclusions(rup.page, { bando: oepvBando, context: rup.context });
      await checkRequirements(rup.page, { bando: oepvBando, context: rup.context });
      const { winner } = await award(rup.page, { bando: oepvBando, context: rup.context });
      await harness('check_award', { bando: oepvBando, winner });
    });

    await step('the auditor finds every step of both tenders in their timelines', async () => {
      const auditor = await person(auditorEmail);
      await login(auditor.page, { email: auditorEmail, password, back: '/ente' });
      for (const b of [bando, oepvBando]) {
        const { actions } = await harness('actions', { bando: b });
        await findEveryStep(auditor.page, { bando: b, actions });
      }
    });
  },
  { stopOnFailure: true },
);
