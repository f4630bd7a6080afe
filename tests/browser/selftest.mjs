// The harness tries to break its own rules: pages that log a console error, break their CSP,
// call a foreign host, fail axe or hide the keyboard focus must each fail the check that
// watches for it, and a clean page must pass. The pages are answered inside Chromium
// (Playwright's route) under the server's own origin, so the real browser applies the real
// CSP header to them.

import {
  assertClean,
  axeCheck,
  expectMainHeading,
  expectSkipLink,
  harness,
  newContext,
  newPage,
  run,
  screenshot,
  url,
  visit,
} from './lib.mjs';

const CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'";
const page = (body, extra = '') => `<!doctype html><html lang="it"><head><meta charset="utf-8">
<title>Prova</title>${extra}</head><body><a href="#main" class="skip">Vai al contenuto</a>
<main id="main"><h1>Pagina di prova</h1>${body}</main></body></html>`;

const PAGES = {
  '/__harness/clean': page('<p>Niente da segnalare.</p>'.repeat(80), '<script type="module" src="/__harness/ok.js"></script>'),
  '/__harness/ok.js': 'document.querySelector("h1").dataset.js = "1";',
  '/__harness/inline': page('<script>document.title = "inline";</script>'),
  '/__harness/console': page('', '<script type="module" src="/__harness/boom.js"></script>'),
  '/__harness/boom.js': 'console.error("qualcosa è andato storto");',
  '/__harness/thrown': page('', '<script type="module" src="/__harness/throw.js"></script>'),
  '/__harness/throw.js': 'throw new Error("eccezione non gestita");',
  '/__harness/foreign': page('<img src="http://tracker.example.invalid/pixel.png" alt="">'),
  '/__harness/inaccessible': page('<form><input type="text" name="q"></form><p class="light">testo chiaro</p>',
    '<link rel="stylesheet" href="/__harness/light.css">'),
  '/__harness/light.css': '.light { color: #bbb; background: #fff; }',
  '/__harness/no-skip': `<!doctype html><html lang="it"><head><title>x</title></head><body><main><h1>Senza salto</h1><a href="/x">x</a></main></body></html>`,
  '/__harness/no-focus': page('<p><a href="/x">primo</a> <a href="/y">secondo</a></p>', '<link rel="stylesheet" href="/__harness/no-focus.css">'),
  '/__harness/no-focus.css': 'a:focus { outline: none; box-shadow: none; }',
  '/__harness/script-heading': page('', '<script type="module" src="/__harness/heading.js"></script>'),
  '/__harness/heading.js': 'document.querySelector("h1").textContent = "Scritto dal JavaScript";',
};

async function serve(context) {
  await context.route(url('/__harness/**'), (route) => {
    const path = new URL(route.request().url()).pathname;
    const body = PAGES[path];
    if (body === undefined) return route.fulfill({ status: 404, body: 'no' });
    const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.css') ? 'text/css' : 'text/html; charset=utf-8';
    return route.fulfill({
      status: 200,
      contentType: type,
      headers: { 'content-security-policy': CSP },
      body,
    });
  });
}

async function expectThrows(what, fn, pattern) {
  let error;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  if (!error) throw new Error(`${what}: expected a failure, got none`);
  if (!pattern.test(error.message)) throw new Error(`${what}: failure "${error.message}" does not match ${pattern}`);
}

// Console messages and request events arrive asynchronously: let them land before judging.
const settle = (tab) => tab.waitForTimeout(300);

await run('harness self-test', async ({ step }) => {
  const js = await newContext();
  await serve(js);

  await step('a clean page passes every check', async () => {
    const tab = await newPage(js);
    await visit(tab, '/__harness/clean');
    await tab.locator('h1[data-js="1"]').waitFor();
    await expectMainHeading(tab, /prova/i);
    await expectSkipLink(tab);
    await axeCheck(tab);
    // Only SCREENSHOTS=1 takes pictures (the Rust side sets it and checks the PNG).
    const asked = process.env.SCREENSHOTS;
    delete process.env.SCREENSHOTS;
    const none = await screenshot(tab, 'selftest-none');
    if (asked !== undefined) process.env.SCREENSHOTS = asked;
    if (none !== null) throw new Error('a screenshot was taken without SCREENSHOTS=1');
    if (asked === '1' && !(await screenshot(tab, 'selftest'))) throw new Error('no screenshot with SCREENSHOTS=1');
    await settle(tab);
    assertClean(js, 'clean');
    await tab.close();
  });

  const broken = [
    ['an inline script is a CSP violation', '/__harness/inline', /CSP violation.*inline script/s],
    ['a console error fails', '/__harness/console', /console error.*qualcosa è andato storto/s],
    ['an uncaught exception fails', '/__harness/thrown', /uncaught exception.*eccezione non gestita/s],
    ['a request to another host fails and is never sent', '/__harness/foreign', /foreign host: http:\/\/tracker\.example\.invalid/],
  ];
  for (const [name, path, pattern] of broken) {
    await step(name, async () => {
      const tab = await newPage(js);
      await visit(tab, path);
      await settle(tab);
      await expectThrows(name, async () => assertClean(js, path), pattern);
      await tab.close();
    });
  }

  await step('axe lists every violation with its nodes', async () => {
    const tab = await newPage(js);
    await visit(tab, '/__harness/inaccessible');
    for (const pattern of [/2 WCAG violation/, /label \(critical\).*\n.*at input/, /color-contrast \(serious\).*\n.*at p.*\n.*testo chiaro/]) {
      await expectThrows('axe', () => axeCheck(tab), pattern);
    }
    js.problems.splice(0);
    await tab.close();
  });

  await step('a page without a skip link fails', async () => {
    const tab = await newPage(js);
    await visit(tab, '/__harness/no-skip');
    await expectThrows('skip link', () => expectSkipLink(tab), /not a skip link/);
    js.problems.splice(0);
    await tab.close();
  });

  await step('a page whose focus cannot be seen fails', async () => {
    const tab = await newPage(js);
    await visit(tab, '/__harness/no-focus');
    await expectThrows('focus', () => expectSkipLink(tab), /focus is not visible on <a/);
    js.problems.splice(0);
    await tab.close();
  });

  await step('a missing page fails the visit', async () => {
    const tab = await newPage(js);
    await expectThrows('404', () => visit(tab, '/__harness/missing'), /answered 404/);
    js.problems.splice(0);
    await tab.close();
  });
  await js.close();

  await step('a harness request the Rust side refuses fails the step', async () => {
    await expectThrows('harness', () => harness('ping', { n: 1 }), /harness ping failed: .*answers no harness request/);
  });

  await step('the no-JS context runs no script', async () => {
    const nojs = await newContext({ javaScript: false });
    await serve(nojs);
    const tab = await newPage(nojs);
    await visit(tab, '/__harness/script-heading');
    await expectMainHeading(tab, /^Pagina di prova$/);
    assertClean(nojs, 'no JS');
    await nojs.close();
  });
});
