// The Test call panel: a simulated call with the keys the admin types, its
// trace as a timeline, and each Pivot request and response.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { openFromList } from './lib/ui.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {http.Server} */
let hook;
let hookURL = '';

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  // The customer's web server: TwiML asking for a key, then answering it.
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      res.setHeader('Content-Type', 'text/xml');
      if (req.url?.startsWith('/voice')) {
        res.end('<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" action="/next" method="POST"><Say>Press 5 for the answer.</Say></Gather><Say>No answer.</Say></Response>');
      } else {
        const digits = new URLSearchParams(body).get('Digits') || '';
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Say>You pressed ${digits}. Goodbye.</Say><Hangup/></Response>`);
      }
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', () => r(null)));
  const addr = /** @type {import('node:net').AddressInfo} */ (hook.address());
  hookURL = `http://127.0.0.1:${addr.port}`;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise((r) => hook?.close(r));
});

test('a test call runs the saved flow with typed keys and shows its trace and webhooks', async () => {
  await srv.api.create({
    name: 'Web IVR', numbers: ['6001'],
    flow: { module: 'pivot', data: { voice_url: `${hookURL}/voice`, method: 'get', req_format: 'twiml', debug: true } },
  });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Web IVR');
  await page.getByRole('tab', { name: 'Test call' }).click();
  const panel = page.getByRole('tabpanel', { name: 'Test call' });
  assert.equal(await panel.getByTestId('test-to').inputValue(), '6001', 'the flow\'s number is offered');
  await panel.getByTestId('test-input').first().fill('5');
  await panel.getByTestId('test-run').click();
  const timeline = panel.getByRole('list', { name: 'Call trace' });
  await timeline.waitFor();
  const text = await timeline.innerText();
  assert.match(text, /Routed 6001/);
  assert.match(text, /Pivot/);
  assert.match(text, /GET http:\/\/127\.0\.0\.1:\d+\/voice/);
  assert.match(text, /HTTP 200/);
  assert.match(text, /Caller pressed 5/);
  assert.match(text, /POST http:\/\/127\.0\.0\.1:\d+\/next/);
  assert.match(text, /Said “You pressed 5\. Goodbye\.”/);
  assert.match(text, /Hung up/);
  // Ops in order, each with its time.
  const ops = await timeline.locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-op')));
  assert.equal(ops[0], 'route');
  assert.equal(ops[ops.length - 1], 'hangup');
  assert.ok(ops.indexOf('gather') < ops.lastIndexOf('webhook'));
  // Each webhook's request and response, bodies from the debug log.
  await screenshot(page, '20-test-call');
  const exchanges = panel.getByTestId('webhook-exchange');
  assert.equal(await exchanges.count(), 2);
  await exchanges.first().locator('summary').click();
  assert.match(await exchanges.first().getByTestId('webhook-response-body').innerText(), /<Gather numDigits="1"/);
  await exchanges.nth(1).locator('summary').click();
  assert.match(await exchanges.nth(1).innerText(), /Digits\s*5/);
  assert.match(await exchanges.nth(1).getByTestId('webhook-response-body').innerText(), /You pressed 5/);
  await exchanges.nth(1).getByTestId('webhook-response-body').scrollIntoViewIfNeeded();
  await screenshot(page, '21-test-call-webhook');

  // A number no flow answers: a clear error.
  await panel.getByTestId('test-to').fill('9999');
  await panel.getByTestId('test-run').click();
  await panel.getByText(/no call flow/i).first().waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});
