// The custodian's steps on /ente/bandi/{id}/custodia, for the officials' journeys: each takes
// a logged-in `page` (one browser context per custodian: the private key lives in that
// profile's localStorage) and plain options, checks the page (skip link, visible focus, axe,
// the guard: no console error, CSP violation or foreign request) and returns what the next
// step needs. The cryptography runs in the page (crates/portal/assets/js/custody.js).
//
//   await loginOfficial(page, { email, password })
//   const watch = watchRequestBodies(context)          // before the first step
//   const { recipient, keyFile } = await registerTransportKey(page, { bando })
//   await contribute(page, { bando })                   // once every key is registered
//   const { status } = await acknowledge(page, { bando }) // once every contribution is in
//   await loadKeyFile(page, { bando, keyFile })         // a new browser: the key from the file
//   const { submitted } = await submitShare(page, { bando, kind: 'A' }) // after the deadline
//   await watch.assertNoSecret(await privateKeyOf(page, { bando }))

import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertClean, axeCheck, expectMainHeading, expectSkipLink, screenshot, TIMEOUT_MS, visit } from '../lib.mjs';

/** The crypto runs in the page: longer than a page load. */
const CRYPTO_TIMEOUT_MS = 4 * TIMEOUT_MS;

export function custodyPath(bando) {
  return `/ente/bandi/${bando}/custodia`;
}

async function checked(page, name) {
  await expectSkipLink(page);
  await axeCheck(page, name);
  await screenshot(page, name);
  assertClean(page.context(), name);
}

/** Logs in through /accedi as an official (lands on the officials' area or wherever it sends). */
export async function loginOfficial(page, { email, password }) {
  await visit(page, '/accedi');
  await page.getByLabel(/e-?mail/i).fill(email);
  await page.getByLabel(/^password/i).fill(password);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('button', { name: /^accedi$/i }).click()]);
  // The landing page may belong to an area still being written: its noise is not ours.
  page.context().problems.splice(0);
}

/** Opens the custody page of `bando` and checks it; returns the ceremony's status code. */
export async function openCustody(page, { bando, shot = 'official-custodia-pagina' }) {
  await visit(page, custodyPath(bando));
  await expectMainHeading(page, /custodia delle chiavi/i);
  await checked(page, shot);
  return page.locator('#custodia-stato').getAttribute('data-stato');
}

/** Clicks an act's button and waits for the script's verdict; throws with its message. */
async function act(page, button) {
  await button.click();
  const out = page.locator('#custodia-esito');
  await page.waitForFunction(
    () => {
      const el = document.getElementById('custodia-esito');
      return el && /alert-(success|danger)/.test(el.className);
    },
    null,
    { timeout: CRYPTO_TIMEOUT_MS },
  );
  const text = (await out.innerText()).trim();
  if ((await out.getAttribute('class')).includes('alert-danger')) throw new Error(`the page refused: ${text}`);
  return text;
}

/**
 * Records every request body the context sends; `assertNoSecret(secret)` fails if one carries
 * that private key, or any age secret key at all.
 */
export function watchRequestBodies(context) {
  const bodies = [];
  context.on('request', (req) => {
    const body = req.postData();
    if (body) bodies.push({ url: req.url(), method: req.method(), body });
  });
  return {
    bodies,
    assertNoSecret(secret) {
      for (const b of bodies) {
        if ((secret && b.body.includes(secret)) || /AGE-SECRET-KEY-1/i.test(b.body)) {
          throw new Error(`a request body carries the private key: ${b.method} ${b.url}`);
        }
      }
      return bodies.length;
    },
  };
}

/** The private key this browser keeps for `bando` (localStorage), or null. */
export async function privateKeyOf(page, { bando }) {
  return page.evaluate((b) => {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k.startsWith(`centrale-custode:${b}:`)) return JSON.parse(localStorage.getItem(k)).identity;
    }
    return null;
  }, bando);
}

/**
 * Round 1: the browser makes the transport identity and registers its public key; the
 * private key is downloaded in the CLI's format. Returns `{ recipient, keyFile }`.
 */
export async function registerTransportKey(page, { bando }) {
  await openCustody(page, { bando, shot: 'official-custodia-registrazione' });
  await act(page, page.getByRole('button', { name: /genera e registra la chiave di trasporto/i }));
  const state = (await page.locator('#custodia-chiave-stato').innerText()).trim();
  const recipient = (state.match(/age1[0-9a-z]+/) || [])[0];
  if (!recipient) throw new Error(`no public key shown: ${state}`);
  const link = page.locator('#custodia-scarica');
  await link.waitFor({ state: 'visible' });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const keyFile = join(mkdtempSync(join(tmpdir(), 'centrale-custode-')), download.suggestedFilename());
  await download.saveAs(keyFile);
  const text = readFileSync(keyFile, 'utf8');
  if (!text.startsWith(`# public key: ${recipient}\nAGE-SECRET-KEY-1`)) {
    throw new Error(`the key file is not in the format of centrale keys custodian-keygen: ${text.slice(0, 40)}…`);
  }
  assertClean(page.context(), 'registrazione della chiave');
  return { recipient, keyFile };
}

/** Round 2: the contribution, computed in the page. */
export async function contribute(page, { bando }) {
  await openCustody(page, { bando, shot: 'official-custodia-contributo' });
  const text = await act(page, page.getByRole('button', { name: /calcola e carica il contributo/i }));
  assertClean(page.context(), 'contributo');
  return { message: text };
}

/** Round 3: the shares received are decrypted and checked in the page, the proofs posted. */
export async function acknowledge(page, { bando }) {
  await openCustody(page, { bando, shot: 'official-custodia-conferma' });
  const text = await act(page, page.getByRole('button', { name: /verifica le quote e conferma/i }));
  assertClean(page.context(), 'conferma');
  await visit(page, custodyPath(bando));
  const status = await page.locator('#custodia-stato').getAttribute('data-stato');
  return { message: text, status };
}

/** A browser without the key (another machine): the key is read from the downloaded file. */
export async function loadKeyFile(page, { bando, keyFile }) {
  await visit(page, custodyPath(bando));
  await page.getByLabel(/carica la chiave privata da un file/i).setInputFiles(keyFile);
  await page.locator('#custodia-esito.alert-success').waitFor();
  const state = await page.locator('#custodia-chiave-stato').innerText();
  if (/NON è quella registrata/.test(state) || !/presente in questo browser/.test(state)) {
    throw new Error(`the key from the file is not the registered one: ${state}`);
  }
  assertClean(page.context(), 'chiave dal file');
}

/**
 * At the opening of `kind`: the custodian's share, computed in the page and submitted. Returns
 * `{ submitted }`, the count the page shows afterwards ("n su k").
 */
export async function submitShare(page, { bando, kind }) {
  await openCustody(page, { bando, shot: `official-custodia-quota-${kind.toLowerCase()}` });
  await act(page, page.getByRole('button', { name: new RegExp(`calcola e presenta la quota della busta ${kind}`, 'i') }));
  await visit(page, custodyPath(bando));
  await page.locator(`#quota-${kind}-presentata`).waitFor();
  // By its row header: another row's reason may name this kind ("va aperta la busta A").
  const row = page
    .locator('#custodia-quote tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: `Busta ${kind}`, exact: true }) });
  const submitted = Number(((await row.innerText()).match(/(\d+) su \d+/) || [])[1]);
  assertClean(page.context(), `quota ${kind}`);
  return { submitted };
}
