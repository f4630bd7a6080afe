// Proves the steps of tests/browser/official/cruscotto.mjs on what
// crates/portal/tests/browser/official_journey.rs seeds: the RUP's draft and a published
// tender whose key ceremony has not started, a custodian, an official of another ente, and
// one notification the relay refused.
//
// Environment: BASE_URL, PASSWORD, RUP_EMAIL, CUSTODE_EMAIL, OTHER_EMAIL, ADMIN_EMAIL,
// ADMIN_PASSWORD, DRAFT_OGGETTO, TENDER_OGGETTO, ENTE_NOME, REFUSED_TO.

import { newContext, newPage, requiredEnv, run } from './lib.mjs';
import {
  expectNothingWaiting,
  expectQualificationRefused,
  expectWaiting,
  followWaiting,
  loginAs,
  openDashboard,
  openNotifications,
  recordQualification,
  retryNotification,
} from './official/cruscotto.mjs';

const password = requiredEnv('PASSWORD');
const rupEmail = requiredEnv('RUP_EMAIL');
const custodeEmail = requiredEnv('CUSTODE_EMAIL');
const otherEmail = requiredEnv('OTHER_EMAIL');
const adminEmail = requiredEnv('ADMIN_EMAIL');
const adminPassword = requiredEnv('ADMIN_PASSWORD');
const draft = requiredEnv('DRAFT_OGGETTO');
const tender = requiredEnv('TENDER_OGGETTO');
const ente = requiredEnv('ENTE_NOME');
const refusedTo = requiredEnv('REFUSED_TO');

async function as(email, pw, fn) {
  const context = await newContext();
  try {
    const page = await newPage(context);
    await loginAs(page, { email, password: pw });
    await fn(page);
  } finally {
    await context.close();
  }
}

await run('official dashboard and administration', async ({ step }) => {
  await step('the RUP sees his draft and his ceremony round, and follows the draft', () =>
    as(rupEmail, password, async (page) => {
      await openDashboard(page);
      await expectWaiting(page, { role: 'rup', texts: [/Bozza da completare/, draft] });
      await expectWaiting(page, { role: 'custode', texts: [/chiave di trasporto/, tender] });
      const path = await followWaiting(page, { text: /Bozza da completare/ });
      if (!/^\/ente\/bandi\/[0-9a-f-]+\/modifica$/.test(path)) throw new Error(`the draft's link went to ${path}`);
    }));

  await step('the custodian sees his round only', () =>
    as(custodeEmail, password, async (page) => {
      await openDashboard(page, { shot: 'official-cruscotto-custode' });
      await expectWaiting(page, { role: 'custode', texts: [tender] });
      await expectWaiting(page, { absent: [/Bozza da completare/] });
    }));

  await step("another ente's RUP sees nothing of this ente", () =>
    as(otherEmail, password, async (page) => {
      await openDashboard(page, { shot: null });
      await expectNothingWaiting(page);
    }));

  await step('the admin records a qualification and is refused a past expiry', () =>
    as(adminEmail, adminPassword, async (page) => {
      const refused = await expectQualificationRefused(page, { ente });
      if (!/già scaduta/i.test(refused)) throw new Error(`unexpected refusal: ${refused}`);
      const done = await recordQualification(page, { ente, sector: 'Lavori', level: 'Intermedio (lett. b)', until: '2031-12-31' });
      if (!/qualificazione registrata/i.test(done)) throw new Error(`unexpected outcome: ${done}`);
    }));

  await step('the admin retries the refused notification', () =>
    as(adminEmail, adminPassword, async (page) => {
      const rows = await openNotifications(page);
      if (!rows.some((r) => r.to === refusedTo)) throw new Error(`no row for ${refusedTo}: ${JSON.stringify(rows)}`);
      const message = await retryNotification(page, { to: refusedTo });
      if (!/rimessa in coda|già in coda/i.test(message)) throw new Error(`unexpected outcome: ${message}`);
    }));
});
