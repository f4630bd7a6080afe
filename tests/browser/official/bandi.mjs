// The RUP's tender from draft to publication in the browser (issue 13 point 2), as composable
// steps: each takes a Playwright `page` (and, for the checks, its `context`) and plain options,
// visits the pages through lib.mjs's checks (axe, skip link, visible focus, guard, screenshot),
// and returns what the next step needs. The lead's end-to-end journey starts with
// `login` + `createDraft` + `fixAndPublish`; tests/browser/official-bandi.mjs proves them.
//
// Every step works with JavaScript off too: the form's pickers and rows repost the form.

import { assertClean, axeCheck, expectMainHeading, expectSkipLink, screenshot, url, visit } from '../lib.mjs';

/** The page's checks: skip link and focus, axe WCAG 2.1 AA, screenshot, guard. */
export async function checked(page, context, name) {
  await expectSkipLink(page);
  await axeCheck(page, name);
  await screenshot(page, name);
  if (context) assertClean(context, name);
}

/**
 * The checks of a page already worked on (a filled form): axe, screenshot, guard. The skip
 * link is checked on the page as loaded, since Tab then starts where the typing stopped.
 */
export async function checkedAsFilled(page, context, name) {
  await axeCheck(page, name);
  await screenshot(page, name);
  if (context) assertClean(context, name);
}

/** Logs an official in through /accedi and lands on `back` (default the tenders' list). */
export async function login(page, { email, password, back = '/ente/bandi' }) {
  await page.goto(url(`/accedi?ritorno=${encodeURIComponent(back)}`), { waitUntil: 'load' });
  await page.getByLabel(/e-?mail/i).fill(email);
  await page.getByLabel(/^password/i).fill(password);
  await Promise.all([page.waitForURL((u) => u.pathname === back), page.getByRole('button', { name: /^accedi$/i }).click()]);
}

const byName = (page, name) => page.locator(`#modulo-bando [name="${name}"]`).first();

/**
 * Clicks a button of the draft form and waits for the form the server sends back: the old
 * form must be gone first, so nothing is read from the page being left (with or without JS).
 */
async function repost(page, button) {
  const old = await page.locator('#modulo-bando').elementHandle();
  await button.click();
  // Already detached is what we wait for too.
  await old.waitForElementState('hidden').catch((err) => {
    if (!/not attached/i.test(err.message)) throw err;
  });
  await page.waitForLoadState('load');
  await page.locator('#modulo-bando').waitFor();
}

async function select(page, name, value) {
  if (value !== undefined && value !== null) await byName(page, name).selectOption(String(value));
}

async function fill(page, name, value) {
  if (value !== undefined && value !== null) await byName(page, name).fill(String(value));
}

/**
 * Sets a checkbox as a person does: Bootstrap Italia draws the label over the box, so the
 * label is what gets clicked.
 */
async function setBox(page, box, on = true) {
  if ((await box.isChecked()) === on) return;
  const id = await box.getAttribute('id');
  await page.locator(`label[for="${id}"]`).click();
  if ((await box.isChecked()) !== on) throw new Error(`the checkbox ${id} did not change`);
}

async function tick(page, name, value, on = true) {
  await setBox(page, page.locator(`#modulo-bando input[name="${name}"][value="${value}"]`).first(), on);
}

/**
 * Searches `query` with the picker named `qName` and presses the result button `choice`;
 * `onResults` runs on the page that lists the results (the page checks).
 */
async function pick(page, qName, query, choice, onResults) {
  await byName(page, qName).fill(query);
  await repost(page, page.locator(`#modulo-bando button[name="azione"][value="${qName === 'cpv_q' ? 'cerca_cpv' : 'cerca_nuts'}"]`));
  if (onResults) await onResults();
  await repost(page, page.locator(`#modulo-bando button[name="scegli"][value="${choice}"]`));
}

const count = (page, selector) => page.locator(`#modulo-bando ${selector}`).count();

/** One criterion's own fields at `path`, with the kind's fields shown by reposting. */
async function fillCriterion(page, path, c) {
  await fill(page, `${path}.code`, c.code);
  await fill(page, `${path}.description`, c.description);
  await fill(page, `${path}.weight`, c.weight);
  if (c.kind && c.kind !== 'discretionary') {
    await select(page, `${path}.kind`, c.kind);
    await repost(page, page.locator('#modulo-bando button[name="azione"][value="tipo"]').first());
  }
  if (c.kind === 'quantitative') {
    await select(page, `${path}.quantitative.better`, c.better);
    await fill(page, `${path}.quantitative.min`, c.min);
    await fill(page, `${path}.quantitative.max`, c.max);
  }
  const table = c.table || [];
  for (let i = 0; (await count(page, `[name^="${path}.table["][name$="].coefficient"]`)) < table.length; i++) {
    if (i > 10) throw new Error(`the table rows of ${path} do not grow`);
    await repost(page, page.locator(`#modulo-bando button[name="azione"][value="righe_tabella|${path}"]`));
  }
  for (const [r, row] of table.entries()) {
    await fill(page, `${path}.table[${r}].option`, row.option);
    await fill(page, `${path}.table[${r}].from`, row.from);
    await fill(page, `${path}.table[${r}].to`, row.to);
    await fill(page, `${path}.table[${r}].coefficient`, row.coefficient);
  }
}

/**
 * Fills OEPV criterion `index` (its row must exist): `{ code, description, weight, kind
 * ('discretionary'|'quantitative'|'tabular'), better ('higher'|'lower'), min, max, table:
 * [{ option } or { from, to }, with coefficient], subs: [criteria like this one, without subs] }`.
 * Each kind's fields and each added row come from reposting the form, as without JavaScript.
 */
export async function addCriterion(page, { index, subs = [], ...c }) {
  const path = `oepv.criteria[${index}]`;
  await fillCriterion(page, path, c);
  for (let i = 0; (await count(page, `[name^="${path}.sub_criteria["][name$="].code"]`)) < subs.length; i++) {
    if (i > 10) throw new Error(`the sub-criteria of ${path} do not grow`);
    await repost(page, page.locator(`#modulo-bando button[name="azione"][value="sub_criteri|${path}"]`));
  }
  for (const [j, s] of subs.entries()) await fillCriterion(page, `${path}.sub_criteria[${j}]`, s);
}

/**
 * Fills the whole draft form from scratch on /ente/bandi/nuovo and saves it; returns the new
 * tender's id. `opts`:
 *  - oggetto, cig, cup, contractType ('works'|'services'|'supplies'), procedure ('aperta'…)
 *  - criterion: 'minor_prezzo' | 'oepv'; envelopes: ['A','C'] or ['A','B','C']
 *  - baseAmount, safetyCosts (as typed: '1000000,00')
 *  - cpvQuery + cpv (searched and chosen), nutsQuery + nuts (idem); or cpv/nuts typed alone
 *  - questionsDeadline, submissionDeadline, openingAt: Rome wall times '2026-06-05T12:00'
 *  - custodians: e-mails of the ente's officials holding the keys; threshold: k
 *  - anomalyMethod: 'A'|'B'|'C'|'' ; for OEPV: criteria [{code, description, weight}] (with
 *    `kind`, its rule and `subs` as `addCriterion` takes them), economicWeight, formula
 *    ('linear'…), technicalThreshold, reparametrization (bool)
 *  - lots: [{oggetto, cig, baseAmount, safetyCosts}] (optional)
 *  - context, screenshotName: to run the page checks on the empty and on the filled form
 *    (a JavaScript context only: axe and the focus checks run scripts in the page).
 */
export async function createDraft(page, opts) {
  const o = { contractType: 'works', procedure: 'aperta', criterion: 'minor_prezzo', envelopes: ['A', 'C'], ...opts };
  await visit(page, '/ente/bandi');
  await expectMainHeading(page, /bandi/i);
  if (o.context) await checked(page, o.context, 'official-bandi-elenco');
  await Promise.all([page.waitForURL(/\/ente\/bandi\/nuovo$/), page.getByRole('link', { name: /^nuovo bando$/i }).click()]);
  await expectMainHeading(page, /nuovo bando/i);
  if (o.context) await checked(page, o.context, 'official-bandi-nuovo');
  if (o.ente) {
    await select(page, 'ente_id', o.ente);
    await repost(page, page.locator('#modulo-bando button[name="azione"][value="ente"]'));
  }
  // The rows first: adding rows reposts the form, which keeps what was typed anyway.
  const criteria = o.criteria || [];
  for (let i = 0; (await page.locator('#modulo-bando [name$="].code"]').count()) < criteria.length; i++) {
    if (i > 10) throw new Error('the criteria rows do not grow');
    await repost(page, page.locator('#modulo-bando button[value="righe_criteri"]'));
  }
  const lots = o.lots || [];
  for (let i = 0; (await page.locator('#modulo-bando [name^="lotti["][name$="].oggetto"]').count()) < lots.length; i++) {
    if (i > 10) throw new Error('the lot rows do not grow');
    await repost(page, page.locator('#modulo-bando button[value="righe_lotti"]'));
  }
  if (o.cpvQuery) {
    const onResults = o.context && (() => checkedAsFilled(page, o.context, 'official-bandi-cpv'));
    await pick(page, 'cpv_q', o.cpvQuery, `cpv_main|${o.cpv}`, onResults);
  }
  else await fill(page, 'cpv_main', o.cpv);
  if (o.nutsQuery) await pick(page, 'nuts_q', o.nutsQuery, `nuts|${o.nuts}`);
  else await fill(page, 'nuts', o.nuts);
  await fill(page, 'oggetto', o.oggetto);
  await fill(page, 'cig', o.cig);
  await fill(page, 'cup', o.cup);
  await select(page, 'contract_type', o.contractType);
  await select(page, 'procedure_type', o.procedure);
  await select(page, 'award_criterion', o.criterion);
  for (const e of ['A', 'B', 'C']) await tick(page, 'envelopes', e, o.envelopes.includes(e));
  await fill(page, 'base_amount', o.baseAmount);
  await fill(page, 'safety_costs', o.safetyCosts);
  for (const [i, l] of lots.entries()) {
    await fill(page, `lotti[${i}].oggetto`, l.oggetto);
    await fill(page, `lotti[${i}].cig`, l.cig);
    await fill(page, `lotti[${i}].base_amount`, l.baseAmount);
    await fill(page, `lotti[${i}].safety_costs`, l.safetyCosts);
  }
  await fill(page, 'questions_deadline', o.questionsDeadline);
  await fill(page, 'submission_deadline', o.submissionDeadline);
  await fill(page, 'opening_at', o.openingAt);
  for (const email of o.custodians || []) {
    // The label ends with the e-mail: «custode@…» must not also pick «terzo.custode@…».
    const label = new RegExp(`(^|\\s)${email.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    await setBox(page, page.locator('#modulo-bando fieldset').filter({ hasText: /custodi delle chiavi/i }).getByLabel(label));
  }
  await fill(page, 'custodian_threshold', o.threshold);
  if (o.anomalyMethod !== undefined) await select(page, 'anomaly_method', o.anomalyMethod);
  for (const [i, c] of criteria.entries()) await addCriterion(page, { index: i, ...c });
  await fill(page, 'oepv.economic_weight', o.economicWeight);
  if (o.formula) await select(page, 'oepv.economic_formula.kind', o.formula);
  await fill(page, 'oepv.technical_threshold', o.technicalThreshold);
  if (o.reparametrization) await setBox(page, page.locator('#modulo-bando input[name="oepv.reparametrization"]'));
  if (o.context) await checkedAsFilled(page, o.context, o.screenshotName || 'official-bandi-modulo');
  await Promise.all([
    page.waitForURL(/\/ente\/bandi\/[0-9a-f-]{36}\?esito=salvato$/),
    page.locator('#modulo-bando button[name="azione"][value="salva"]').first().click(),
  ]);
  await page.getByRole('status').filter({ hasText: /bozza salvata/i }).waitFor();
  return new URL(page.url()).pathname.split('/')[3];
}

/**
 * The draft's page shows the legal checks failing: returns each violation's text; with
 * `article`, throws unless one cites it, and unless «Pubblica» is absent.
 */
export async function expectCheckFails(page, { bando, article, context }) {
  await visit(page, `/ente/bandi/${bando}`);
  const items = page.locator('#violazioni li');
  await items.first().waitFor();
  const texts = await items.allInnerTexts();
  if (article && !texts.some((t) => t.startsWith(article))) {
    throw new Error(`no violation cites ${article}: ${JSON.stringify(texts)}`);
  }
  if (await page.locator('#pubblica').count()) throw new Error('«Pubblica» is offered while a check fails');
  if (context) await checked(page, context, 'official-bandi-controlli');
  return texts;
}

/**
 * Fixes the draft (the deadlines given, in Rome time, through the edit form) when its checks
 * fail, then publishes it with «Pubblica». Returns `{ bando }` once the page says published.
 */
export async function fixAndPublish(page, { bando, submissionDeadline, questionsDeadline, openingAt, context }) {
  await visit(page, `/ente/bandi/${bando}`);
  if ((await page.locator('#violazioni').count()) && (submissionDeadline || questionsDeadline || openingAt)) {
    await visit(page, `/ente/bandi/${bando}/modifica`);
    await expectMainHeading(page, /modifica/i);
    await fill(page, 'submission_deadline', submissionDeadline);
    await fill(page, 'questions_deadline', questionsDeadline);
    await fill(page, 'opening_at', openingAt);
    await Promise.all([
      page.waitForURL(/\?esito=salvato$/),
      page.locator('#modulo-bando button[name="azione"][value="salva"]').first().click(),
    ]);
  }
  await page.locator('#controlli-superati').waitFor();
  if (context) await checked(page, context, 'official-bandi-pubblicabile');
  await Promise.all([page.waitForURL(/\?esito=pubblicato$/), page.getByRole('button', { name: /^pubblica$/i }).click()]);
  await page.getByRole('status').filter({ hasText: /bando pubblicato/i }).waitFor();
  const state = await page.locator('#stato-bando').getAttribute('data-stato');
  if (state !== 'published') throw new Error(`after «Pubblica» the tender is ${state}`);
  if (context) await checked(page, context, 'official-bandi-bando');
  return { bando };
}

/**
 * Answers the question whose text contains `question` on the clarifications page; returns
 * the page's text of the answered question (which never names who asked).
 */
export async function answerClarification(page, { bando, question, answer, extendTo, context }) {
  await visit(page, `/ente/bandi/${bando}/chiarimenti`);
  await expectMainHeading(page, /chiarimenti/i);
  if (context) await checked(page, context, 'official-chiarimenti');
  const section = page.locator('section[id^="quesito-"]').filter({ hasText: question });
  await section.locator('textarea[name="risposta"]').fill(answer);
  if (extendTo) await section.locator('input[name="proroga"]').fill(extendTo);
  await Promise.all([page.waitForURL(/esito=risposta/), section.getByRole('button', { name: /pubblica la risposta/i }).click()]);
  await page.getByRole('status').filter({ hasText: /risposta pubblicata/i }).waitFor();
  const done = page.locator('section[id^="quesito-"]').filter({ hasText: question });
  return done.innerText();
}

/**
 * Issues a rettifica (reason and new Rome times) and returns the rows of its diff as
 * `[field, before, after]`.
 */
export async function issueRettifica(page, { bando, reason, submissionDeadline, questionsDeadline, openingAt, context }) {
  await visit(page, `/ente/bandi/${bando}/rettifiche`);
  await expectMainHeading(page, /rettifiche/i);
  if (context) await checked(page, context, 'official-rettifiche');
  await page.getByLabel(/motivo della rettifica/i).fill(reason);
  if (questionsDeadline) await page.getByLabel(/nuovo termine per i chiarimenti/i).fill(questionsDeadline);
  if (submissionDeadline) await page.getByLabel(/nuovo termine per le offerte/i).fill(submissionDeadline);
  if (openingAt) await page.getByLabel(/nuova apertura/i).fill(openingAt);
  await Promise.all([page.waitForURL(/esito=rettifica/), page.getByRole('button', { name: /pubblica la rettifica/i }).click()]);
  await page.getByRole('status').filter({ hasText: /rettifica pubblicata/i }).waitFor();
  if (context) await checked(page, context, 'official-rettifiche-diff');
  const rows = page.locator('article[id^="versione-"]').first().locator('tbody tr');
  const out = [];
  for (let i = 0; i < (await rows.count()); i++) {
    out.push(await rows.nth(i).locator('th, td').allInnerTexts());
  }
  return out;
}
