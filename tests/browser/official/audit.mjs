// The auditor's steps in the browser (issue 13 point 5): the tender's timeline and the ente's
// trail filtered on the tender. Composable: each takes a page logged in as the auditor and
// plain options, checks the page (skip link, axe WCAG 2.1 AA, guard), returns what it found.

import { assertClean, axeCheck, expectMainHeading, expectSkipLink, screenshot, visit } from '../lib.mjs';

async function checked(page, name) {
  await expectSkipLink(page);
  await axeCheck(page, name);
  await screenshot(page, name);
  assertClean(page.context(), name);
}

/** The action codes of the events a page lists, in order. */
async function actionsShown(page) {
  return page.locator('#eventi tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.azione));
}

/**
 * The tender's timeline lists every action of `actions` (stable codes), in the order given,
 * with the award report and the receipt check linked. Returns the codes shown.
 */
export async function findEveryStep(page, { bando, actions }) {
  await visit(page, `/ente/bandi/${bando}/cronologia`);
  await expectMainHeading(page, /cronologia del bando/i);
  await checked(page, 'official-audit-cronologia');
  const shown = await actionsShown(page);
  let at = -1;
  for (const a of actions) {
    const next = shown.indexOf(a, at + 1);
    if (next < 0) throw new Error(`the timeline misses ${a} (after position ${at}): ${JSON.stringify(shown)}`);
    at = next;
  }
  for (const id of ['#verbale-pdf', '#verifica-ricevuta', '#esporta-csv']) await page.locator(id).waitFor();
  return { shown };
}

/**
 * The ente's trail (`/ente/registro`) filtered on the tender `oggetto` and on `action` through
 * the form: every row shown is that action. Returns the number of rows.
 */
export async function filterTrail(page, { oggetto, action }) {
  await visit(page, '/ente/registro');
  await expectMainHeading(page, /registro degli eventi/i);
  await page.getByLabel(/^bando$/i).selectOption({ label: oggetto });
  const options = await page.getByLabel(/^evento$/i).locator('option').allInnerTexts();
  const label = options.find((o) => o.includes(`(${action})`));
  if (!label) throw new Error(`no action ${action} among the filter's options`);
  await page.getByLabel(/^evento$/i).selectOption({ label });
  await page.getByRole('button', { name: /^filtra$/i }).click();
  await page.waitForLoadState('load');
  const shown = await actionsShown(page);
  if (shown.length === 0 || shown.some((a) => a !== action)) {
    throw new Error(`the filtered trail shows ${JSON.stringify(shown)}, expected only ${action}`);
  }
  await checked(page, 'official-audit-registro');
  return { rows: shown.length };
}
