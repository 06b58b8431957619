// The front door in a real browser (issue 12): the configurator runs under
// its Content-Security-Policy with no violation (no inline script or style
// attribute), the page cannot be framed, the browser keeps only the
// expiring token (never the API key), and signing out revokes the token on
// the server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, signIn } from './lib/harness.js';
import { openFromList } from './lib/ui.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('the page loads under its CSP with no violation, and keeps no API key', async () => {
  await srv.api.create({ name: 'CSP line', numbers: ['8801'], flow: { module: 'tts', data: { text: 'hello' } } });
  const { page, errors } = await newPage(browser, srv.url);
  /** @type {string[]} */
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  await page.exposeFunction('reportViolation', (/** @type {string} */ v) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // @ts-ignore: exposed by the test
      void window.reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const res = await page.goto('/');
  const csp = (await res?.allHeaders())?.['content-security-policy'] || '';
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal((await res?.allHeaders())?.['x-frame-options'], 'DENY');

  await signIn(page, srv.adminKey);
  await openFromList(page, 'CSP line');
  // The test-call panel too: more of the UI under the policy.
  await page.getByTestId('tab-test').click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();

  const stored = await page.evaluate(() => Object.fromEntries(Object.keys(sessionStorage).map((k) => [k, sessionStorage.getItem(k)])));
  const local = await page.evaluate(() => Object.keys(localStorage));
  for (const [k, v] of Object.entries(stored)) {
    assert.ok(!String(v).includes(srv.adminKey), `sessionStorage ${k} holds the API key`);
    assert.doesNotMatch(k, /api_key/, `sessionStorage has ${k}`);
  }
  assert.ok(stored['switchboard.auth_token'], 'the token is kept for the tab');
  assert.deepEqual(local, [], 'nothing in localStorage');
  assert.deepEqual(violations, []);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the page refuses to be framed', async () => {
  const { page } = await newPage(browser, srv.url);
  // A page of another origin (about:blank here) frames the configurator;
  // setContent returns once the frame has loaded (or been refused).
  await page.setContent(`<iframe id="f" src="${srv.url}/"></iframe>`, { waitUntil: 'load' });
  assert.equal(page.frames().length, 2, 'the frame exists');
  for (const f of page.frames()) {
    const framed = await f.evaluate(() => Boolean(document.querySelector('sb-app'))).catch(() => false);
    assert.equal(framed, false, `the configurator rendered inside a frame (${f.url()})`);
  }
  await page.context().close();
});

test('sign out revokes the token on the server', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  const token = await page.evaluate(() => sessionStorage.getItem('switchboard.auth_token'));
  assert.ok(token);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Admin API key').waitFor();
  assert.deepEqual(await page.evaluate(() => Object.keys(sessionStorage)), []);
  // The revocation is sent as the tab signs out; poll until it landed.
  const deadline = Date.now() + 5000;
  let status = 0;
  while (Date.now() < deadline) {
    const r = await fetch(`${srv.url}/v2/accounts/${srv.api.accountId}`, { headers: { 'X-Auth-Token': String(token) } });
    status = r.status;
    if (status === 401) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(status, 401, 'the signed-out token still works');
  assert.deepEqual(errors, []);
  await page.context().close();
});
