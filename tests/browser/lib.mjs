// The shared harness of the real-browser tests: Debian's Chromium driven by playwright-core
// (never a browser of Playwright's own), axe-core for WCAG 2.1 AA, screenshots for the docs,
// and a guard that fails a page on any console error, CSP violation or request that leaves
// the machine. The scripts are started by crates/portal/tests/browser.rs, which runs the
// server and passes BASE_URL and the fixtures' ids in the environment.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '..', '..');
// SCREENSHOT_DIR moves them (the harness's own test writes into a temporary directory).
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || join(REPO, 'docs', 'screenshots');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps calling Google's hosts, which this
// closed network refuses; QUIC and the component updater do the same.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const VIEWPORT = { width: 1280, height: 800 };

/** Generous but bounded: a loaded 2-core machine, never a hang. */
export const TIMEOUT_MS = Number(process.env.BROWSER_TIMEOUT_MS || 30_000);

/** The server under test; every request must stay on this host. */
export const BASE_URL = requiredEnv('BASE_URL');
const ALLOWED_HOST = new URL(BASE_URL).hostname;

export function requiredEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
}

export function url(path) {
  return new URL(path, BASE_URL).toString();
}

/**
 * Chromium on a profile of its own: a new, empty user-data-dir per context, removed when it
 * closes (Playwright takes the directory only through a persistent context), as an Italian
 * user sees the portal, with the guard on every page it opens. `javaScript: false` gives the
 * no-JS pass.
 */
export async function newContext({ javaScript = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'centrale-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: TIMEOUT_MS,
    javaScriptEnabled: javaScript,
    viewport: VIEWPORT,
    locale: 'it-IT',
    timezoneId: 'Europe/Rome',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  context.setDefaultNavigationTimeout(TIMEOUT_MS);
  context.problems = [];
  // Nothing may leave the machine: a request to another host is recorded and never sent.
  await context.route('**/*', (route) => {
    const target = route.request().url();
    if (isLocal(target)) return route.continue();
    context.problems.push(`request to a foreign host: ${target}`);
    return route.abort('blockedbyclient');
  });
  for (const page of context.pages()) watch(page, context.problems);
  context.on('page', (page) => watch(page, context.problems));
  const close = context.close.bind(context);
  context.close = async () => {
    opened.delete(context);
    try {
      await close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  opened.add(context);
  return context;
}

const opened = new Set();

/** A page of `context` (the blank tab a new profile opens with, if still unused). */
export async function newPage(context) {
  const blank = context.pages().find((p) => p.url() === 'about:blank' && !p.used);
  const page = blank || (await context.newPage());
  page.used = true;
  return page;
}

function isLocal(target) {
  const u = new URL(target);
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  return u.hostname === ALLOWED_HOST;
}


/** Long enough to tell, short enough to read: a data: URL of a whole font is cut. */
function short(text) {
  return text.replace(/(data:[^,'"\s]{0,60},)[^'"\s]{40,}/g, '$1…');
}

function watch(page, problems) {
  const where = () => page.url();
  page.on('console', (msg) => {
    const at = msg.location();
    const from = at && at.url ? ` (from ${at.url}:${at.lineNumber})` : '';
    const text = short(msg.text()) + from;
    // Chromium reports CSP violations on the console, as "Refused to load/execute/apply ..."
    // or, since about version 150, as "... violates the following Content Security Policy".
    if (/Refused to|Content Security Policy/.test(text)) problems.push(`CSP violation on ${where()}: ${text}`);
    else if (msg.type() === 'error') problems.push(`console error on ${where()}: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception on ${where()}: ${err.message}`));
  page.on('request', (req) => {
    if (!isLocal(req.url())) problems.push(`request to a foreign host: ${req.url()}`);
  });
}

/** Throws listing everything the guard saw since the last call, then starts afresh. */
export function assertClean(context, label = '') {
  const seen = context.problems.splice(0);
  if (seen.length) {
    throw new Error(`${label ? label + ': ' : ''}${seen.length} problem(s)\n  - ${seen.join('\n  - ')}`);
  }
}

/** Opens `path`, failing on anything but a 2xx answer. */
export async function visit(page, path) {
  const response = await page.goto(url(path), { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${path}`);
  if (!response.ok()) throw new Error(`${path} answered ${response.status()}`);
  return response;
}

/** The page's one `h1`, visible, with text matching `pattern`. */
export async function expectMainHeading(page, pattern) {
  const h1 = page.locator('h1');
  const count = await h1.count();
  if (count !== 1) throw new Error(`${page.url()}: ${count} h1 headings, expected 1`);
  await h1.waitFor({ state: 'visible' });
  const text = (await h1.innerText()).trim();
  if (!pattern.test(text)) throw new Error(`${page.url()}: main heading "${text}" does not match ${pattern}`);
  return text;
}

/**
 * The first thing Tab reaches is a visible link to an element of the page (the skip link
 * "Vai al contenuto"), and following it moves the focus past the header.
 */
export async function expectSkipLink(page) {
  // A fragment moves where Tab starts (to its target): the page without it is checked instead.
  if (new URL(page.url()).hash) return;
  await page.locator('body').focus();
  await page.keyboard.press('Tab');
  const first = await page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el.tagName !== 'A') return { tag: el && el.tagName };
    const href = el.getAttribute('href') || '';
    const target = href.startsWith('#') ? document.getElementById(decodeURIComponent(href.slice(1))) : null;
    const box = el.getBoundingClientRect();
    return { tag: 'A', href, text: el.textContent.trim(), target: !!target, visible: box.width > 0 && box.height > 0 };
  });
  if (first.tag !== 'A' || !first.href.startsWith('#')) {
    throw new Error(`${page.url()}: the first focusable element is ${JSON.stringify(first)}, not a skip link`);
  }
  if (!first.target) throw new Error(`${page.url()}: skip link ${first.href} points to no element`);
  if (!first.visible) throw new Error(`${page.url()}: skip link "${first.text}" is not visible when focused`);
  await expectVisibleFocus(page);
}

/**
 * Focus is visible (WCAG 2.4.7), which axe does not check: the first `stops` elements the
 * keyboard reaches each show an outline or a box-shadow while focused. The focus is then
 * dropped, so that screenshots and clicks find the page as a visitor left it.
 */
export async function expectVisibleFocus(page, stops = 8) {
  await page.locator('body').focus();
  try {
    for (let i = 0; i < stops; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const s = getComputedStyle(el);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        const shadow = s.boxShadow && s.boxShadow !== 'none';
        return { ring: outline || shadow, what: el.outerHTML.slice(0, 120) };
      });
      if (!focused) return;
      if (!focused.ring) throw new Error(`${page.url()}: focus is not visible on ${focused.what}`);
    }
  } finally {
    await page.evaluate(() => document.activeElement && document.activeElement.blur && document.activeElement.blur());
  }
}

/**
 * The WCAG 2.1 A/AA rules of axe-core on the page as it is now: throws listing every
 * violation with every node it found it on.
 */
export async function axeCheck(page, label = page.url()) {
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  if (results.violations.length === 0) return results;
  const lines = [];
  for (const v of results.violations) {
    lines.push(`${v.id} (${v.impact}): ${v.help} — ${v.helpUrl}`);
    for (const node of v.nodes) {
      lines.push(`    at ${node.target.join(' ')}: ${node.failureSummary.replace(/\n/g, ' ')}`);
      lines.push(`       ${node.html}`);
    }
  }
  throw new Error(`axe: ${results.violations.length} WCAG violation(s) on ${label}\n  ${lines.join('\n  ')}`);
}

/**
 * The full page, 1280 pixels wide, into docs/screenshots/<name>.png: only when SCREENSHOTS=1
 * (`make screenshots`), so ordinary test runs leave the committed pictures alone.
 */
export async function screenshot(page, name) {
  if (process.env.SCREENSHOTS !== '1') return null;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`bad screenshot name ${name}`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const size = page.viewportSize();
  if (!size || size.width !== VIEWPORT.width) await page.setViewportSize(VIEWPORT);
  // The skip-link check leaves the focus on the skip link, which shows it: not in the picture.
  await page.evaluate(() => document.activeElement && document.activeElement.blur()).catch(() => {});
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  console.log(`screenshot ${path}`);
  return path;
}

/** The status a page answers with, without loading it in a tab (no guard noise for a 404). */
export async function status(context, path) {
  const response = await context.request.get(url(path), { maxRedirects: 0 });
  return response.status();
}

/**
 * Asks the Rust side of the test for something only it can do (move the server's clock,
 * qualify an operatore as the centrale's admin): one JSON line out, one JSON line back.
 */
let replies;
export async function harness(action, args = {}) {
  if (!replies) {
    const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
    replies = { next: () => lines.next() };
  }
  console.log(`@@harness ${JSON.stringify({ action, ...args })}`);
  const { value, done } = await replies.next();
  if (done) throw new Error(`the harness closed stdin before answering ${action}`);
  const reply = JSON.parse(value);
  if (!reply.ok) throw new Error(`harness ${action} failed: ${reply.error}`);
  return reply;
}

/** A step that cannot run yet because the portal does not serve its page (TODO(portal)). */
export class Pending extends Error {}

/**
 * Fails unless `path` answers; a page still marked `pending` that answers 404 stops the
 * journey as TODO instead (drop the mark when the page lands).
 */
export async function requirePage(context, path, { pending = false } = {}) {
  const code = await status(context, path);
  if (code === 404 && pending) throw new Pending(`${path} is not served yet (marked pending)`);
  if (pending) console.log(`TODO ${path} is served now: drop its pending mark`);
  if (code >= 400) throw new Error(`${path} answered ${code}`);
}

/**
 * Runs named steps in order and exits with 1 if any failed, listing every failure. With
 * `stopOnFailure` (a journey, where each step needs the one before) the first failure ends
 * the run; otherwise (independent pages) every step runs.
 */
export async function run(title, body, { stopOnFailure = false } = {}) {
  const started = Date.now();
  const failures = [];
  const todos = [];
  let passed = 0;
  let stoppedAt = null;
  const step = async (name, fn) => {
    if (stopOnFailure && failures.length) return;
    if (stoppedAt) {
      todo(name, `after ${stoppedAt}`);
      return;
    }
    const t0 = Date.now();
    try {
      await fn();
      passed += 1;
      console.log(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      if (err instanceof Pending) {
        todo(name, err.message);
        if (stopOnFailure) stoppedAt = name;
        return;
      }
      failures.push({ name, err });
      console.log(`FAIL ${name} (${Date.now() - t0} ms)\n${indent(err.stack || String(err))}`);
      await evidence(name);
    }
  };
  const todo = (name, why) => {
    todos.push(name);
    console.log(`TODO ${name}: ${why}`);
  };
  try {
    await body({ step, todo });
  } catch (err) {
    failures.push({ name: 'harness', err });
    console.log(`FAIL harness\n${indent(err.stack || String(err))}`);
  } finally {
    for (const context of opened) await context.close().catch(() => {});
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${title}: ${passed} passed, ${failures.length} failed, ${todos.length} todo (${secs} s)`);
  process.exit(failures.length ? 1 : 0);
}

/** Where every open tab stood when a step failed: its address, heading, alerts, a picture. */
async function evidence(step) {
  const dir = mkdtempSync(join(tmpdir(), 'centrale-failure-'));
  let n = 0;
  for (const context of opened) {
    for (const page of context.pages()) {
      if (page.isClosed() || page.url() === 'about:blank') continue;
      n += 1;
      const facts = await page
        .evaluate(() => ({
          h1: document.querySelector('h1')?.textContent.trim(),
          alerts: [...document.querySelectorAll('[role=alert], [role=status], .invalid-feedback')].map((e) =>
            e.textContent.trim().replace(/\s+/g, ' '),
          ),
        }))
        .catch(() => ({}));
      const path = join(dir, `${n}.png`);
      await page.screenshot({ path, fullPage: true }).catch(() => {});
      console.log(`     at ${page.url()}: ${JSON.stringify(facts)}; picture ${path} (${step})`);
    }
  }
}

function indent(text) {
  return text
    .split('\n')
    .map((l) => `     ${l}`)
    .join('\n');
}
