// The RUP's tenders in Chromium (issue 13 point 2), proving the steps of official/bandi.mjs:
// a lowest-price works tender with three custodians (2 of 3) drafted from scratch with the
// CPV and NUTS pickers, its too-short deadline shown with art. 71 and blocking «Pubblica»,
// fixed and published; an OEPV services tender with its criteria rows (sub-criteria, a tabular
// and a quantitative criterion), made with JavaScript off; a clarification answered; a rettifica with its diff. What the server stored is checked
// on the Rust side (crates/portal/tests/browser/official_bandi.rs) when the script asks.
//
// Environment: BASE_URL, RUP_EMAIL, RUP_PASSWORD, CUSTODIANS (three e-mails, comma-separated),
// CIG_WORKS, CIG_SERVICES.

import { assertClean, harness, newContext, newPage, requiredEnv, run } from './lib.mjs';
import {
  answerClarification,
  createDraft,
  expectCheckFails,
  fixAndPublish,
  issueRettifica,
  login,
} from './official/bandi.mjs';

const email = requiredEnv('RUP_EMAIL');
const password = requiredEnv('RUP_PASSWORD');
const custodians = requiredEnv('CUSTODIANS').split(',');

await run(
  'official bandi',
  async ({ step }) => {
    const context = await newContext();
    const page = await newPage(context);
    let works;
    await step('log in as the RUP', async () => {
      await login(page, { email, password });
    });
    await step('a lowest-price works draft from scratch, three custodians 2 of 3', async () => {
      works = await createDraft(page, {
        context,
        oggetto: 'Manutenzione straordinaria delle scuole comunali',
        cig: requiredEnv('CIG_WORKS'),
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
        submissionDeadline: '2026-05-20T12:00',
        openingAt: '2026-06-05T15:00',
        custodians,
        threshold: 2,
        anomalyMethod: 'A',
      });
    });
    await step('the too-short deadline is shown with art. 71 and blocks «Pubblica»', async () => {
      await expectCheckFails(page, { bando: works, article: 'art. 71', context });
    });
    await step('fixed and published', async () => {
      await fixAndPublish(page, { bando: works, submissionDeadline: '2026-06-05T12:00', context });
      await harness('check_published', { bando: works, custodians: 3, threshold: 2, criterion: 'minor_prezzo' });
    });
    await step('a clarification answered, its asker never named', async () => {
      const { question } = await harness('ask', { bando: works });
      const text = await answerClarification(page, {
        bando: works,
        question,
        answer: 'Sì: il sopralluogo si prenota con la PEC dell\'ente.',
        context,
      });
      if (!/il sopralluogo si prenota/.test(text)) throw new Error(`the answer is not shown: ${text}`);
      await harness('check_answer', { bando: works, html: await page.content() });
    });
    await step('a rettifica and its diff', async () => {
      const rows = await issueRettifica(page, {
        bando: works,
        reason: 'Proroga per la complessità del capitolato',
        submissionDeadline: '2026-06-12T12:00',
        openingAt: '2026-06-12T15:00',
        context,
      });
      const deadline = rows.find((r) => r[0] === 'Termine per le offerte');
      if (!deadline || !deadline[1].startsWith('05/06/2026 12:00') || !deadline[2].startsWith('12/06/2026 12:00')) {
        throw new Error(`the diff does not show the deadline old → new: ${JSON.stringify(rows)}`);
      }
    });
    await context.close();
    console.log('the JavaScript context is closed');

    const bare = await newContext({ javaScript: false });
    const nojs = await newPage(bare);
    await step('an OEPV services tender with criteria rows, without JavaScript', async () => {
      await login(nojs, { email, password });
      console.log('logged in without JavaScript');
      const services = await createDraft(nojs, {
        oggetto: 'Servizio di pulizia degli edifici comunali',
        cig: requiredEnv('CIG_SERVICES'),
        contractType: 'services',
        criterion: 'oepv',
        envelopes: ['A', 'B', 'C'],
        baseAmount: '250000,00',
        safetyCosts: '3000,00',
        cpvQuery: 'pulizia di edifici',
        cpv: '90911200-8',
        nuts: 'ITC4C',
        questionsDeadline: '2026-05-25T12:00',
        submissionDeadline: '2026-06-05T12:00',
        openingAt: '2026-06-05T15:00',
        custodians: custodians.slice(0, 2),
        threshold: 2,
        anomalyMethod: '',
        criteria: [
          {
            code: 'T1',
            description: 'Organizzazione del servizio',
            weight: '40',
            subs: [
              { code: 'a', description: 'Piano di lavoro', weight: '25' },
              { code: 'b', description: 'Ore di intervento garantite', weight: '15', kind: 'quantitative', better: 'higher', min: '0', max: '24' },
            ],
          },
          { code: 'T2', description: 'Prodotti ecologici', weight: '20', kind: 'tabular', table: [
            { option: 'Ecolabel UE', coefficient: '1' },
            { option: 'Nessuna', coefficient: '0' },
            { option: 'Altra certificazione', coefficient: '0,5' },
          ] },
          { code: 'T3', description: 'Formazione del personale', weight: '5' },
          { code: 'T4', description: 'Mezzi a basse emissioni (%)', weight: '5', kind: 'quantitative', better: 'higher', min: '0', max: '100' },
        ],
        economicWeight: '30',
        formula: 'linear',
        technicalThreshold: '20',
        reparametrization: true,
      });
      console.log(`OEPV draft ${services} saved`);
      await fixAndPublish(nojs, { bando: services });
      // axe and the focus checks need scripts: without them, only the guard.
      assertClean(bare, 'OEPV without JavaScript');
      await harness('check_published', { bando: services, custodians: 2, threshold: 2, criterion: 'oepv', criteria: 4, kinds: ['discretionary', 'tabular', 'discretionary', 'quantitative'], rows: 3, subs: 2 });
    });
    await bare.close();
  },
  { stopOnFailure: true },
);
