// The Pivot pop-up's "Try it" (the server fetches the URL as a call would
// and lints the answer, shown before saving) and the "Open now / Closed
// now" badge of Time of day blocks (judged by the server, as a call is).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { block, dialog, dragAction, mainBlock, openFromList } from './lib/ui.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {http.Server} */
let app;
let base = '';

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  app = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/good')) {
        res.setHeader('Content-Type', 'text/xml');
        res.end('<?xml version="1.0"?>\n<Response>\n  <Say>Welcome to sales.</Say>\n</Response>\n');
      } else if (req.url?.startsWith('/bad')) {
        res.setHeader('Content-Type', 'text/xml');
        res.end('<Response>\n  <Say>Unclosed\n  <Hangup/>\n</Response>\n');
      } else if (req.url?.startsWith('/json')) {
        res.setHeader('Content-Type', 'application/json');
        res.end('{"module":"tts","data":{"text":"Hello"}}');
      } else {
        res.statusCode = 500;
        res.end('boom');
      }
    });
  });
  await new Promise((r) => app.listen(0, '127.0.0.1', () => r(null)));
  base = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (app.address()).port}`;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise((r) => app?.close(r));
});

test('Try it in the Pivot pop-up shows the answer and its problems before saving', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await page.getByTestId('new-flow').click();
  await dragAction(page, 'pivot', mainBlock(page));
  const d = dialog(page);
  await d.getByTestId('params-ok').waitFor();

  // No URL yet: said, nothing asked.
  await d.getByTestId('try-it').click();
  await d.getByTestId('try-result').getByText('Enter an http:// or https:// URL first.').waitFor();

  // Bad XML: an error with its line, the line marked in the answer.
  await d.getByLabel('URL', { exact: true }).fill(`${base}/bad`);
  await d.getByLabel('Format', { exact: true }).selectOption({ label: 'TwiML' });
  await d.getByTestId('try-it').click();
  const status = d.getByTestId('try-status');
  await status.filter({ hasText: /HTTP 200, text\/xml.*1 problem/ }).waitFor();
  const bad = d.getByTestId('try-finding').filter({ hasText: /^error: Line \d+: The TwiML cannot be run/ });
  await bad.waitFor();
  await d.getByText(/^The answer \(\d+ bytes\)/).click();
  assert.equal(await d.locator('.try-line.marked').count(), 1);
  await screenshot(page, 'try-it-bad-xml');

  // Kazoo JSON while TwiML is chosen: a warning that says which to choose.
  await d.getByLabel('URL', { exact: true }).fill(`${base}/json`);
  await d.getByTestId('try-it').click();
  await d.getByTestId('try-finding').filter({ hasText: /Kazoo JSON, but Format is TwiML/ }).waitFor();
  assert.match(await status.textContent() || '', /application\/json \(Kazoo JSON\).*1 warning/);

  // A 500: what a call would do.
  await d.getByLabel('URL', { exact: true }).fill(`${base}/down`);
  await d.getByTestId('try-it').click();
  await d.getByTestId('try-finding').filter({ hasText: /HTTP 500: a call would take the “If the server fails” branch/ }).waitFor();

  // Good TwiML: looks good, and what was sent is one click away.
  await d.getByLabel('URL', { exact: true }).fill(`${base}/good?x=1`);
  await d.getByTestId('try-it').click();
  await status.filter({ hasText: /HTTP 200, text\/xml \(TwiML\) in \d+ ms: looks good\./ }).waitFor();
  assert.equal(await d.getByTestId('try-finding').count(), 0);
  await d.getByText(/^What was sent: GET/).click();
  await d.locator('.try-body pre').getByText(/CallSid=try-/).waitFor();
  await screenshot(page, 'try-it-good');

  // Trying saved nothing; Add block does.
  await d.getByTestId('params-ok').click();
  await block(page, /^Pivot/).waitFor();
  assert.equal((await srv.api.list()).length, 0, 'nothing was saved by trying');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a tenant cannot Try its way to loopback', async () => {
  // A second account through the API, signed in with its own key.
  const made = await srv.api.call('PUT', '', { name: 'Tenant' });
  assert.equal(made.status, 201);
  const key = made.body.data.api_key;
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, key);
  await page.getByTestId('new-flow').click();
  await dragAction(page, 'pivot', mainBlock(page));
  const d = dialog(page);
  await d.getByLabel('URL', { exact: true }).fill(`${base}/good`);
  await d.getByTestId('try-it').click();
  await d.getByTestId('try-finding').filter({ hasText: /may not be reached from this account/ }).waitFor();
  assert.match(await d.getByTestId('try-status').textContent() || '', /No answer/);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('Time of day blocks say whether they are open now, as a call would go', async () => {
  const always = await srv.api.call('PUT', '/temporal_rules', { name: 'Always open', cycle: 'daily', time_window_start: 0, time_window_stop: 86399, timezone: 'Asia/Tokyo' });
  const never = await srv.api.call('PUT', '/temporal_rules', { name: 'Old holiday', cycle: 'date', start_date: 63082281600 });
  assert.equal(always.status, 201);
  assert.equal(never.status, 201);
  const a = always.body.data.id;
  const n = never.body.data.id;
  const tts = (/** @type {string} */ text) => ({ module: 'tts', data: { text } });
  await srv.api.create({
    name: 'Hours', numbers: ['6100'],
    flow: { module: 'temporal_route', data: { rules: [n, a] }, children: { [n]: tts('Holiday'), [a]: tts('Open'), _: tts('Closed') } },
  });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Hours');
  const tod = block(page, /^Time of day/);
  const badge = tod.locator(':scope > .card').getByTestId('tod-badge');
  await badge.filter({ hasText: 'Open now: Always open' }).waitFor();
  assert.match(await badge.getAttribute('title') || '', /Asia\/Tokyo/);
  assert.match(await tod.getAttribute('aria-label') || '', /Open now: Always open/);

  // The engine agrees: a call now takes the same branch.
  const call = await srv.api.call('POST', '/simulate', { to: '6100' });
  assert.equal(call.status, 200);
  assert.ok(call.body.data.trace.some((/** @type {any} */ l) => l.op === 'say' && l.text === 'Open'), 'the call took the open branch');
  await screenshot(page, 'tod-badge-open');

  // A block whose only rule is not active: closed now, and a call agrees.
  await srv.api.create({ name: 'Holidays only', numbers: ['6101'], flow: { module: 'temporal_route', data: { rules: [n] }, children: { [n]: tts('Holiday'), _: tts('Closed') } } });
  await page.reload();
  await openFromList(page, 'Holidays only');
  await badge.filter({ hasText: 'Closed now' }).waitFor();
  assert.match(await badge.getAttribute('title') || '', /Default branch/);
  const closed = await srv.api.call('POST', '/simulate', { to: '6101' });
  assert.ok(closed.body.data.trace.some((/** @type {any} */ l) => l.op === 'say' && l.text === 'Closed'), 'the call took the Default branch');
  await screenshot(page, 'tod-badge-closed');
  assert.deepEqual(errors, []);
  await page.context().close();
});
