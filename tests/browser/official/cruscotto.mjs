// The official's dashboard (/ente) and the centrale's administration of enti and
// notifications, as composable steps: each takes a page (or its context) and plain options,
// checks the page it visits (heading, skip link, visible focus, axe WCAG 2.1 AA, the guard:
// no console error, no CSP violation, no foreign request) and returns what the next step
// needs. The end-to-end journey chains them; tests/browser/official-cruscotto.mjs proves them.

import {
  assertClean,
  axeCheck,
  expectMainHeading,
  expectSkipLink,
  screenshot,
  visit,
} from '../lib.mjs';

/** The checks every page of these steps passes. */
async function checked(page, label, shot) {
  await expectSkipLink(page);
  await axeCheck(page, label);
  if (shot) await screenshot(page, shot);
  assertClean(page.context(), label);
}

/** Logs in on /accedi as `email` and waits to land anywhere but the login page. */
export async function loginAs(page, { email, password }) {
  await visit(page, '/accedi');
  await page.getByLabel(/e-?mail/i).fill(email);
  await page.getByLabel(/^password/i).fill(password);
  await page.getByRole('button', { name: /^accedi$/i }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/accedi'));
  assertClean(page.context(), `login ${email}`);
}

/**
 * Opens /ente (from the "Area ente" link of the navigation, as an official would) and
 * returns what waits, by role: `{ rup: [...], custode: [...], commissione: [...],
 * revisore: [...], empty }`, each entry `{ text, href, datetime }`.
 */
export async function openDashboard(page, { shot = 'official-cruscotto-ente' } = {}) {
  await visit(page, '/');
  await page.getByRole('link', { name: /^area ente$/i }).first().click();
  await page.waitForURL(/\/ente$/);
  await expectMainHeading(page, /cosa ti aspetta/i);
  await checked(page, '/ente', shot);
  return readWaiting(page);
}

/** What the dashboard on screen lists, by role. */
export async function readWaiting(page) {
  const roles = { rup: 'attese-rup', custode: 'attese-custode', commissione: 'attese-commissione', revisore: 'attese-revisore' };
  const out = { empty: (await page.locator('#nessuna-attesa').count()) > 0 };
  for (const [key, id] of Object.entries(roles)) {
    out[key] = await page.locator(`#${id}-elenco li`).evaluateAll((items) =>
      items.map((li) => {
        const a = li.querySelector('a');
        const t = li.querySelector('time');
        return { text: li.textContent.replace(/\s+/g, ' ').trim(), href: a && a.getAttribute('href'), datetime: t && t.getAttribute('datetime') };
      }),
    );
  }
  return out;
}

/**
 * The dashboard lists every one of `texts` (strings or regular expressions) under `role`
 * (rup, custode, commissione, revisore; any role when absent) and none of `absent`. Each
 * listed item has a link and a Europe/Rome time (`+01:00` or `+02:00`). Returns the items.
 */
export async function expectWaiting(page, { texts = [], absent = [], role } = {}) {
  const waiting = await readWaiting(page);
  const items = role ? waiting[role] : [...waiting.rup, ...waiting.custode, ...waiting.commissione, ...waiting.revisore];
  const has = (t) => items.some((i) => (t instanceof RegExp ? t.test(i.text) : i.text.includes(t)));
  for (const t of texts) {
    if (!has(t)) throw new Error(`/ente: "${t}" not among ${JSON.stringify(items.map((i) => i.text))}`);
  }
  for (const t of absent) {
    if (has(t)) throw new Error(`/ente: "${t}" listed but should not be`);
  }
  for (const i of items) {
    if (!i.href) throw new Error(`/ente: "${i.text}" has no link`);
    if (!/[+]0[12]:00$/.test(i.datetime || '')) throw new Error(`/ente: "${i.text}" has no Rome time (${i.datetime})`);
  }
  return items;
}

/** The empty state of /ente, in Italian. */
export async function expectNothingWaiting(page) {
  const waiting = await readWaiting(page);
  if (!waiting.empty) throw new Error(`/ente: expected nothing waiting, got ${JSON.stringify(waiting)}`);
  await page.getByText(/nessuna attività in attesa/i).waitFor();
}

/** Follows the dashboard's link whose text matches `text`; returns the path reached. */
export async function followWaiting(page, { text }) {
  await page.locator('.attesa a', { hasText: text }).first().click();
  await page.waitForLoadState('load');
  return new URL(page.url()).pathname;
}

/** /amministrazione/enti, checked; returns the section of the ente named `ente`. */
export async function openEnti(page, { ente, shot = 'official-cruscotto-admin-enti' }) {
  await visit(page, '/amministrazione/enti');
  await expectMainHeading(page, /enti aderenti/i);
  await checked(page, '/amministrazione/enti', shot);
  return page.locator('section', { has: page.getByRole('heading', { name: new RegExp(ente) }) });
}

/**
 * Records (or renews) a qualification of `ente` from its form: `sector` is the label
 * ("Lavori", "Servizi e forniture"), `level` the label ("Base (lett. a)"...), `until`
 * `YYYY-MM-DD`. Returns the success message.
 */
export async function recordQualification(page, { ente, sector, level, until, anac = '' }) {
  const section = await openEnti(page, { ente, shot: null });
  const form = section.locator('form[action$="/qualificazioni"]');
  await form.getByLabel(/^settore$/i).selectOption({ label: sector });
  await form.getByLabel(/^livello$/i).selectOption({ label: level });
  await form.getByLabel(/valida fino al/i).fill(until);
  if (anac) await form.getByLabel(/riferimento anac/i).fill(anac);
  await form.getByRole('button', { name: /registra la qualificazione/i }).click();
  await page.waitForURL(/esito=qualificazione/);
  const message = (await page.locator('#esito-enti').innerText()).trim();
  await checked(page, 'qualificazione registrata');
  return message;
}

/**
 * Sends the qualification form with an expiry in the past: the accounts crate's refusal is
 * shown next to the form (the browser gets a 422, logged as a failed resource, which the
 * guard is told to forget). Returns the message.
 */
export async function expectQualificationRefused(page, { ente, until = '2020-01-01' }) {
  const section = await openEnti(page, { ente, shot: null });
  const form = section.locator('form[action$="/qualificazioni"]');
  await form.getByLabel(/valida fino al/i).fill(until);
  await form.getByRole('button', { name: /registra la qualificazione/i }).click();
  const alert = page.locator('[id^="errore-qualificazione-"]');
  await alert.waitFor();
  page.context().problems.splice(0);
  await axeCheck(page, 'qualificazione respinta');
  return (await alert.innerText()).trim();
}

/** /amministrazione/notifiche, checked; returns the rows `{ to, text }` listed. */
export async function openNotifications(page, { shot = 'official-cruscotto-admin-notifiche' } = {}) {
  await visit(page, '/amministrazione/notifiche');
  await expectMainHeading(page, /notifiche non recapitate/i);
  await checked(page, '/amministrazione/notifiche', shot);
  return page.locator('#notifiche-non-recapitate tbody tr').evaluateAll((rows) =>
    rows.map((r) => ({ to: r.querySelector('th').textContent.trim(), text: r.textContent.replace(/\s+/g, ' ').trim() })),
  );
}

/** Clicks "Riprova" on the row addressed to `to`; returns the outcome message. */
export async function retryNotification(page, { to }) {
  await openNotifications(page, { shot: null });
  await page.getByRole('button', { name: new RegExp(`riprova la notifica a ${to.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i') }).click();
  await page.waitForURL(/esito=/);
  const message = (await page.locator('#esito-notifiche').innerText()).trim();
  await checked(page, 'notifica rimessa in coda');
  return message;
}
