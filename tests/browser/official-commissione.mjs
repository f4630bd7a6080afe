// The commission of an OEPV tender and an auditor in Chromium (issue 13 points 4-5): the RUP
// appoints three commissioners, each in a browser of his own declares, reads the B envelopes
// and enters his coefficients, the president closes the technical phase; then the ente's
// auditor finds every step in the tender's timeline and in the filtered trail. Every page
// passes axe and the guard (no console error, no CSP violation, no foreign request).
//
// Environment (crates/portal/tests/browser/official_commissione.rs): BASE_URL, BANDO_ID,
// BANDO_OGGETTO, PASSWORD, RUP_EMAIL, COMMISSIONERS (JSON list of e-mails, the president
// first), OFFERS (how many admitted offers), AUDITOR_EMAIL.

import { harness, newContext, newPage, requiredEnv, run } from './lib.mjs';
import { appointCommission, closeTechnicalPhase, declare, enterCoefficients, login } from './official/commissione.mjs';
import { filterTrail, findEveryStep } from './official/audit.mjs';

const bando = requiredEnv('BANDO_ID');
const oggetto = requiredEnv('BANDO_OGGETTO');
const password = requiredEnv('PASSWORD');
const rup = requiredEnv('RUP_EMAIL');
const commissioners = JSON.parse(requiredEnv('COMMISSIONERS'));
const offers = Number(requiredEnv('OFFERS'));
const auditor = requiredEnv('AUDITOR_EMAIL');

/** Each commissioner's coefficients, offer by offer (the first offer best on both criteria). */
const VALUES = [
  ['0,8', '0,6'],
  ['0,6', '0,5'],
  ['0,4', '0,3'],
];

await run(
  'commission and auditor',
  async ({ step }) => {
    const members = [];
    for (const email of commissioners) {
      const context = await newContext();
      const page = await newPage(context);
      members.push({ email, page });
    }

    await step('the RUP appoints the commission', async () => {
      const context = await newContext();
      const page = await newPage(context);
      await login(page, { email: rup, password });
      await appointCommission(page, { bando, members: commissioners, president: commissioners[0] });
    });

    await step('each commissioner declares in his own browser', async () => {
      for (const [i, m] of members.entries()) {
        await login(m.page, { email: m.email, password });
        await declare(m.page, { bando, screenshotName: i === 0 ? 'official-commissione-dichiarazione' : null });
      }
    });

    await step('each commissioner enters his own coefficients', async () => {
      for (const [i, m] of members.entries()) {
        const values = VALUES.slice(0, offers).map(([t1, t2]) => ({ T1: t1, T2: t2 }));
        const { files } = await enterCoefficients(m.page, {
          bando,
          values,
          screenshotName: i === 0 ? 'official-commissione-coefficienti' : null,
        });
        if (!files.some((f) => /relazione-tecnica/.test(f))) throw new Error(`files seen: ${JSON.stringify(files)}`);
      }
      await harness('check_coefficients', { expected: commissioners.length * offers * 2 });
    });

    await step('the president closes the technical phase', async () => {
      const { totals } = await closeTechnicalPhase(members[0].page, { bando });
      if (!totals.some((t) => /^70(\.0+)?$/.test(t))) throw new Error(`technical totals ${JSON.stringify(totals)}: the best offer takes 70`);
      await harness('check_closed', {});
    });

    await step('the auditor finds every step in the timeline and the trail', async () => {
      const context = await newContext();
      const page = await newPage(context);
      await login(page, { email: auditor, password });
      await findEveryStep(page, {
        bando,
        actions: [
          'bando.created',
          'bando.published',
          'offerte.envelope_submitted',
          'bando.buste_aperte',
          'aggiudicazione.ammissione',
          'aggiudicazione.commissione_nominata',
          'aggiudicazione.dichiarazione_commissario',
          'aggiudicazione.coefficienti',
          'aggiudicazione.valutazione_tecnica',
        ],
      });
      const { rows } = await filterTrail(page, { oggetto, action: 'aggiudicazione.dichiarazione_commissario' });
      if (rows !== commissioners.length) throw new Error(`${rows} declarations in the trail`);
    });
  },
  { stopOnFailure: true },
);
