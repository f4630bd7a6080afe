// The RUP's steps of the opening session and of the evaluation up to the award, in Chromium,
// as composable functions: each takes a page (logged in as the RUP) and plain options, visits
// the portal's pages through lib.mjs's checks (heading, skip link, visible focus, axe WCAG 2.1
// AA, console/CSP guard, screenshot) and returns what the next step needs. The custodians'
// shares come before each opening (helper area `custodia`), the commission's work between B
// and C under OEPV (area `commissione`).

import {
  assertClean,
  axeCheck,
  expectMainHeading,
  expectSkipLink,
  screenshot,
  visit,
} from '../lib.mjs';

const openingPath = (bando) => `/ente/bandi/${bando}/apertura`;
const evaluationPath = (bando) => `/ente/bandi/${bando}/valutazione`;

/** The checks every screen gets; `context` is the one newContext() gave (its guard). */
async function checked(page, name, context = page.context()) {
  await expectSkipLink(page);
  await axeCheck(page, name);
  await screenshot(page, name);
  if (context.problems) assertClean(context, name);
}

/** Submits the form of `button` and waits for the page it lands on. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
}

/** The opening session page, checked; returns its text of the shares of `kind` ("2 di 2"). */
export async function viewOpening(page, { bando, kind = 'A', context } = {}) {
  await visit(page, openingPath(bando));
  await expectMainHeading(page, /seduta di apertura/i);
  await checked(page, 'official-valutazione-apertura', context);
  return (await page.locator(`#quote-${kind}`).innerText()).trim();
}

/**
 * Opens envelope `kind` with the "Apri busta X" button (after the custodians' shares), then
 * checks the outcome: the envelopes opened, and their content linked only where the domain
 * allows. Returns the number of envelopes opened and the file links the page shows.
 */
export async function openEnvelope(page, { bando, kind, context }) {
  await visit(page, openingPath(bando));
  await expectMainHeading(page, /seduta di apertura/i);
  const button = page.getByRole('button', { name: new RegExp(`^apri busta ${kind}$`, 'i') });
  if ((await button.count()) !== 1) {
    const waiting = await page.locator(`#sezione-busta-${kind}`).innerText();
    throw new Error(`no "Apri busta ${kind}" button: ${waiting}`);
  }
  await submit(page, button);
  await page.getByRole('status').filter({ hasText: new RegExp(`busta ${kind} aperta`, 'i') }).waitFor();
  await checked(page, `official-valutazione-apertura-${kind.toLowerCase()}`, context);
  const rows = await page.locator(`#aperte-${kind} tbody tr`).count();
  const links = await page.locator(`#sezione-busta-${kind} a.file-busta`).evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  return { kind, envelopes: rows, links };
}

/** Admits every bidder still to examine, one "Ammetti" at a time; returns how many. */
export async function admitAll(page, { bando, context }) {
  await visit(page, evaluationPath(bando));
  await expectMainHeading(page, /valutazione/i);
  await checked(page, 'official-valutazione-ammissione', context);
  let admitted = 0;
  for (;;) {
    const button = page.locator('form.form-ammissione button[value="ammetti"]').first();
    if ((await button.count()) === 0) break;
    await submit(page, button);
    await page.getByRole('status').filter({ hasText: /ammissione registrata/i }).waitFor();
    admitted += 1;
    if (admitted > 100) throw new Error('admissions do not end');
  }
  if (context && context.problems) assertClean(context, 'ammissioni');
  return { admitted };
}

/**
 * Runs the economic phase and reads the computation the page shows step by step (Allegato
 * II.2 at lowest price) and the ranking. Returns the steps `{key: value}` and the ranking rows.
 */
export async function runEconomicPhase(page, { bando, context }) {
  await visit(page, evaluationPath(bando));
  await submit(page, page.getByRole('button', { name: /svolgi la fase economica/i }));
  await page.locator('#graduatoria').waitFor();
  await checked(page, 'official-valutazione-economica', context);
  const steps = await page.locator('#passaggi-anomalia tbody tr').evaluateAll((rows) =>
    Object.fromEntries(rows.map((r) => [r.id.replace(/^passo-/, ''), r.querySelector('td').textContent.trim()])),
  );
  const ranking = await page.locator('#graduatoria tbody tr').evaluateAll((rows) =>
    rows.map((r) => Array.from(r.children).map((c) => c.textContent.trim())),
  );
  return { steps, ranking };
}

/**
 * The RUP's decision on every exclusion the platform proposed (art. 30 c.3 lett. b): each
 * confirmed with `reason`. Returns how many were confirmed.
 */
export async function confirmExclusions(page, { bando, reason = 'Verificato il calcolo della piattaforma', context }) {
  await visit(page, evaluationPath(bando));
  let confirmed = 0;
  for (;;) {
    const form = page.locator('form.form-esclusione').first();
    if ((await form.count()) === 0) break;
    await form.getByLabel(/motivazione del rup/i).fill(reason);
    await submit(page, form.getByRole('button', { name: /conferma l'esclusione/i }));
    await page.getByRole('status').filter({ hasText: /proposta di esclusione registrata/i }).waitFor();
    confirmed += 1;
    if (confirmed > 100) throw new Error('exclusions do not end');
  }
  await checked(page, 'official-valutazione-esclusioni', context);
  return { confirmed };
}

/** Proposes the award to the best offer (after every exclusion is decided). */
export async function proposeAward(page, { bando, context }) {
  await visit(page, evaluationPath(bando));
  await submit(page, page.getByRole('button', { name: /proponi l'aggiudicazione/i }));
  await page.getByRole('status').filter({ hasText: /proposta di aggiudicazione registrata/i }).waitFor();
  if (context && context.problems) assertClean(context, 'proposta');
}

/**
 * Records the check of each requirement of the proposed winner (art. 17 c.5), proposing the
 * award first when it is not proposed yet. `requirements`: [{requirement, evidence, satisfied}].
 */
export async function checkRequirements(page, { bando, requirements, context }) {
  await visit(page, evaluationPath(bando));
  if ((await page.getByRole('button', { name: /proponi l'aggiudicazione/i }).count()) === 1) {
    await proposeAward(page, { bando, context });
  }
  const list = requirements || [
    { requirement: 'Attestazione SOA OG3 classifica III', evidence: 'Casellario ANAC, FVOE', satisfied: true },
  ];
  for (const r of list) {
    await visit(page, evaluationPath(bando));
    await page.getByLabel(/^requisito$/i).fill(r.requirement);
    await page.getByLabel(/^prova/i).fill(r.evidence);
    await page.getByLabel(/esito della verifica/i).selectOption(r.satisfied === false ? 'non_soddisfatto' : 'soddisfatto');
    await submit(page, page.getByRole('button', { name: /registra la verifica/i }));
    await page.getByRole('status').filter({ hasText: /verifica del requisito registrata/i }).waitFor();
  }
  await checked(page, 'official-valutazione-requisiti', context);
  return { checked: list.length };
}

/** The award ("Aggiudica"): returns the awardee and the end of the standstill (Europe/Rome). */
export async function award(page, { bando, context }) {
  await visit(page, evaluationPath(bando));
  await submit(page, page.getByRole('button', { name: /^aggiudica$/i }));
  await page.getByRole('status').filter({ hasText: /aggiudicazione disposta/i }).waitFor();
  await checked(page, 'official-valutazione-aggiudicazione', context);
  const outcome = (await page.locator('#esito-gara').innerText()).trim();
  if (!/aggiudicata/i.test(outcome)) throw new Error(`the award reads "${outcome}"`);
  const winner = (await page.locator('#aggiudicatario').innerText()).trim();
  const end = page.locator('#fine-standstill');
  const standstillEnd = (await end.count()) ? (await end.innerText()).trim() : null;
  const verbale = await page.locator('#link-verbale').getAttribute('href');
  return { winner, standstillEnd, verbale };
}
