// The Devices page shows where each phone is registered: a real REGISTER
// with digest authentication (a small UDP phone in lib/sipphone.js) turns
// "Not registered" into the contact, user agent and expiry; a wrong
// password registers nothing; unregistering clears it; another account's
// page never shows the phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { SipPhone } from './lib/sipphone.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  srv = await startServer({ sip: true });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/**
 * @param {import('playwright-core').Page} page
 * @param {string} device
 */
function stateOf(page, device) {
  return page.getByTestId('page-table').getByRole('row', { name: new RegExp(device) }).getByTestId('reg-state');
}

test('a phone registering with digest shows on the Devices page, and goes when it unregisters', async () => {
  for (const [name, user] of [['Alice desk', 'alice'], ['Bob desk', 'bob']]) {
    const r = await srv.api.call('PUT', '/devices', { name, sip: { username: user, password: `${user}-secret-pw` } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await page.goto('/devices');
  await stateOf(page, 'Alice desk').filter({ hasText: 'Not registered' }).waitFor();

  const alice = new SipPhone({ server: srv.sipAddr, user: 'alice', password: 'alice-secret-pw', userAgent: 'DeskPhone 3.1' });
  const mallory = new SipPhone({ server: srv.sipAddr, user: 'bob', password: 'wrong-password', userAgent: 'Intruder' });
  await alice.open();
  await mallory.open();
  try {
    assert.equal(await alice.register('300'), 200, 'alice registers');
    assert.equal(await mallory.register('300'), 403, 'a wrong password is refused');

    await page.getByTestId('page-refresh').click();
    const state = stateOf(page, 'Alice desk');
    await state.filter({ hasText: /^Registered/ }).waitFor();
    const text = await state.innerText();
    assert.match(text, new RegExp(`sip:alice@${alice.local.replace(/\./g, '\\.')}`), 'the contact');
    assert.match(text, /DeskPhone 3\.1/, 'the user agent');
    assert.match(text, /expires in [45] min/, 'the expiry');
    await stateOf(page, 'Bob desk').filter({ hasText: 'Not registered' }).waitFor();
    assert.doesNotMatch(await page.getByTestId('page-table').innerText(), /Intruder/);
    await screenshot(page, 'page-devices-registered');

    // Another account's Devices page does not show alice's phone.
    const other = await srv.api.call('PUT', '', { name: 'Other tenant' });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const regsB = await fetch(`${srv.url}/v2/accounts/${other.body.data.id}/registrations`, { headers: { 'X-Auth-Token': srv.api.token } });
    const bodyB = await regsB.json();
    assert.equal(regsB.status, 200, JSON.stringify(bodyB));
    assert.deepEqual(bodyB.data, [], 'the other account sees no registration');

    assert.equal(await alice.register('0'), 200, 'alice unregisters');
    await page.getByTestId('page-refresh').click();
    await stateOf(page, 'Alice desk').filter({ hasText: 'Not registered' }).waitFor();
  } finally {
    alice.close();
    mallory.close();
  }
  assert.deepEqual(errors, []);
  await page.context().close();
});
