// The commissione giudicatrice's steps in the browser (issue 13 point 4), each on the page
// /ente/bandi/{id}/commissione as its actor sees it: the RUP appoints, each member declares
// and enters his own coefficients, the president closes the technical phase. Composable:
// every step takes a page already logged in as its actor and plain options, checks the page
// (skip link, axe WCAG 2.1 AA, guard) and returns what the next step needs.

import { assertClean, axeCheck, expectMainHeading, expectSkipLink, screenshot, visit } from '../lib.mjs';

export const commissionPath = (bando) => `/ente/bandi/${bando}/commissione`;

/** Accessibility, a picture, the guard: after every screen. */
async function checked(page, name) {
  await expectSkipLink(page);
  await axeCheck(page, name);
  await screenshot(page, name);
  assertClean(page.context(), name);
}

/** The page's success message (role=status), matching `pattern`. */
async function expectOutcome(page, pattern) {
  const status = page.locator('#esito-commissione');
  await status.waitFor();
  const text = await status.innerText();
  if (!pattern.test(text)) throw new Error(`outcome "${text}" does not match ${pattern}`);
}

/** Logs `page` in as `email` on /accedi. */
export async function login(page, { email, password }) {
  await visit(page, '/accedi');
  await page.getByLabel(/e-?mail/i).fill(email);
  await page.getByLabel(/^password/i).fill(password);
  await page.getByRole('button', { name: /^accedi$/i }).click();
  await page.waitForLoadState('load');
}

/**
 * The RUP appoints the commission: `members` are the e-mails of the officials to tick (each
 * listed on the page as "Nome (e-mail)"), `president` one of them. Returns the members' rows.
 */
export async function appointCommission(page, { bando, members, president }) {
  await visit(page, commissionPath(bando));
  await expectMainHeading(page, /commissione giudicatrice/i);
  await checked(page, 'official-commissione-nomina');
  const form = page.locator('#modulo-nomina');
  for (const email of members) {
    await tick(form, form.getByRole('checkbox', { name: new RegExp(`Componente .*\\(${literal(email)}\\)`) }));
  }
  await tick(form, form.getByRole('radio', { name: new RegExp(`Presidente .*\\(${literal(president)}\\)`) }));
  await form.getByRole('button', { name: /nomina la commissione/i }).click();
  await page.waitForLoadState('load');
  await expectOutcome(page, /commissione nominata/i);
  const rows = await page.locator('#tabella-componenti tbody tr').count();
  if (rows !== members.length) throw new Error(`${rows} members shown, ${members.length} appointed`);
  await checked(page, 'official-commissione-nominata');
  return { members: rows };
}

/** A member records his declaration of no incompatibility (art. 93 c.5). */
export async function declare(page, { bando, screenshotName = null }) {
  await visit(page, commissionPath(bando));
  await expectMainHeading(page, /commissione giudicatrice/i);
  const form = page.locator('#modulo-dichiarazione');
  await form.waitFor();
  if (screenshotName) await checked(page, screenshotName);
  await tick(form, form.getByLabel(/non trovarmi in alcuna causa di incompatibilità/i));
  await form.getByRole('button', { name: /rendi la dichiarazione/i }).click();
  await page.waitForLoadState('load');
  await expectOutcome(page, /dichiarazione registrata/i);
  assertClean(page.context(), 'dichiarazione');
}

/**
 * A declared member enters his coefficients: `values` is a list, one entry per offer in the
 * page's order, each mapping a criterion code to a coefficient as typed ("0,8"). Returns the
 * envelope B file names the member saw.
 */
export async function enterCoefficients(page, { bando, values, screenshotName = null }) {
  await visit(page, commissionPath(bando));
  const files = await page.locator('#buste-b a').allInnerTexts();
  if (files.length === 0) throw new Error('no envelope B file shown to the member');
  if (screenshotName) await checked(page, screenshotName);
  const forms = page.locator('form[id^="coefficienti-"]');
  const count = await forms.count();
  if (count !== values.length) throw new Error(`${count} offers to score, ${values.length} sets of values given`);
  for (let i = 0; i < count; i += 1) {
    const form = page.locator('form[id^="coefficienti-"]').nth(i);
    for (const [code, value] of Object.entries(values[i])) {
      await form.getByLabel(new RegExp(`^${literal(code)} ·`)).fill(value);
    }
    await form.getByRole('button', { name: /registra i coefficienti/i }).click();
    await page.waitForLoadState('load');
    await expectOutcome(page, /coefficienti registrati/i);
  }
  assertClean(page.context(), 'coefficienti');
  return { files };
}

/** The president closes the technical phase; returns the technical totals shown, by row. */
export async function closeTechnicalPhase(page, { bando }) {
  await visit(page, commissionPath(bando));
  await page.getByRole('button', { name: /chiudi la valutazione tecnica/i }).click();
  await page.waitForLoadState('load');
  await expectOutcome(page, /valutazione tecnica chiusa/i);
  const rows = page.locator('#punteggi-tecnici tbody tr');
  const totals = [];
  for (let i = 0; i < (await rows.count()); i += 1) {
    totals.push((await rows.nth(i).locator('td').nth(1).innerText()).trim());
  }
  if (totals.length === 0) throw new Error('no technical score shown after the closing');
  await checked(page, 'official-commissione-chiusa');
  return { totals };
}

/**
 * Ticks a checkbox or radio as a visitor does, on its label: Bootstrap Italia draws the box
 * on the label, which lies over the input.
 */
async function tick(form, input) {
  const id = await input.getAttribute('id');
  await form.locator(`label[for="${id}"]`).click();
  if (!(await input.isChecked())) throw new Error(`${id} is not ticked after a click on its label`);
}

function literal(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
