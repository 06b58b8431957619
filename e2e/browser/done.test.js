// Issue 15's "done means": a new admin builds, in the browser alone, a
// business-hours IVR — greetings uploaded as WAV files, a user, a
// time-of-day rule, a menu whose option 1 goes to a Pivot app and option 2
// rings a ring group that falls to voicemail when nobody answers, and a
// closed-hours greeting that falls to voicemail too — tests it at 10:00
// (both options) and at 22:00, and sees each path on the diagram. The
// voicemail block is the catalog's voicemail module when the server has
// one; until then a spoken "leave a message" stands in for it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, launchBrowser, screenshot, signIn } from './lib/harness.js';
import { block, card, dialog, dragAction, mainBlock, saveMenu, waitSaved } from './lib/ui.js';

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
  hook = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'text/xml');
      res.end('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Connecting you to sales.</Say><Hangup/></Response>');
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', () => r(null)));
  hookURL = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (hook.address()).port}/voice`;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  await new Promise((r) => hook?.close(r));
});

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function section(page, name) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
}

/**
 * Drags an action onto a block and answers the branch-key question.
 * @param {import('playwright-core').Page} page
 * @param {string} module
 * @param {import('playwright-core').Locator} target
 * @param {RegExp|null} key the key's radio, or null when none is asked
 */
async function addUnder(page, module, target, key) {
  await dragAction(page, module, target);
  if (key) {
    const d = dialog(page);
    await d.getByTestId('key-continue').waitFor();
    await d.getByRole('radio', { name: key }).check();
    await d.getByTestId('key-continue').click();
  }
  await dialog(page).getByTestId('params-ok').waitFor();
  return dialog(page);
}

/** 0.1 s of silence: an 8 kHz mono 16-bit PCM WAV file. */
function silence() {
  const pcm = Buffer.alloc(1600);
  const wav = Buffer.alloc(44);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + pcm.length, 4); wav.write('WAVEfmt ', 8); wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(8000, 24); wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([wav, pcm]);
}

/** The voicemail module, or its stand-in while the server has none. */
let vmModule = 'voicemail';

/**
 * Adds the voicemail block under a block.
 * @param {import('playwright-core').Page} page
 * @param {import('playwright-core').Locator} target
 * @param {RegExp|null} key
 */
async function addVoicemail(page, target, key) {
  const d = await addUnder(page, vmModule, target, key);
  if (vmModule === 'tts') await d.getByLabel('Text', { exact: true }).fill('Nobody can take your call. Please leave a message after the tone.');
  else await d.getByTestId('ref-id').getByLabel('Sales voicemail').check();
  await d.getByTestId('params-ok').click();
}

test('a business-hours IVR is built and tested at 10:00 and 22:00 in the browser alone', async () => {
  const catalog = (await srv.api.catalog()).map((e) => e.name);
  if (!catalog.includes('voicemail')) vmModule = 'tts';
  assert.ok(catalog.includes('ring_group'), 'the catalog has the ring_group module');
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: srv.url, timezoneId: 'UTC' });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await signIn(page, srv.adminKey);

  // The greetings, as WAV files uploaded with their media.
  for (const name of ['Main greeting', 'After hours']) {
    await section(page, 'Media');
    await page.getByTestId('page-new').click();
    const md = dialog(page);
    await md.getByLabel('Name', { exact: true }).fill(name);
    const file = md.getByTestId('media-file');
    assert.ok(await file.isEnabled(), 'the media dialog takes an audio file');
    await file.setInputFiles({ name: `${name}.wav`, mimeType: 'audio/wav', buffer: silence() });
    await md.getByTestId('doc-save').click();
    await page.getByTestId('page-table').getByRole('button', { name, exact: true }).waitFor();
  }
  const media = (await srv.api.call('GET', '/media?paginate=false')).body.data;
  for (const m of media) {
    const raw = await srv.api.call('GET', `/media/${m.id}`);
    assert.ok(Number(raw.body.data.content_length) > 0, `${m.name} has its audio`);
  }

  // Alice, whom the ring group rings.
  await section(page, 'Users');
  await page.getByTestId('page-new').click();
  let d = dialog(page);
  await d.getByLabel('First name', { exact: true }).fill('Alice');
  await d.getByLabel('Last name', { exact: true }).fill('Smith');
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Alice Smith', exact: true }).waitFor();

  // The voicemail box the unanswered and after-hours calls leave messages in.
  if (vmModule === 'voicemail') {
    await section(page, 'Voicemail');
    await page.getByTestId('page-new').click();
    d = dialog(page);
    await d.getByLabel('Name', { exact: true }).fill('Sales voicemail');
    await d.getByLabel('Box number', { exact: true }).fill('5001');
    await d.getByLabel('PIN', { exact: true }).fill('4321');
    await d.getByTestId('doc-save').click();
    await page.getByTestId('page-table').getByRole('button', { name: 'Sales voicemail', exact: true }).waitFor();
  }

  // Business hours: weekdays 09:00–17:00.
  await section(page, 'Time of day');
  await page.getByTestId('page-new').click();
  d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Business hours');
  for (const day of ['monday', 'tuesday', 'wednesday', 'thursday', 'friday']) await d.getByLabel(day, { exact: true }).check();
  await d.getByLabel('Opens at').fill('09:00');
  await d.getByLabel('Closes at').fill('17:00');
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Business hours', exact: true }).waitFor();

  // The flow.
  await section(page, 'Call flows');
  await page.getByTestId('new-flow').click();
  await card(mainBlock(page)).click();
  d = dialog(page);
  await d.getByTestId('flow-name').fill('Business IVR');
  await d.getByTestId('numbers-input').fill('5000');
  await d.getByTestId('numbers-input').press('Enter');
  await d.getByTestId('params-ok').click();

  d = await addUnder(page, 'temporal_route', mainBlock(page), null);
  await d.getByTestId('ref-rules').getByLabel('Business hours').check();
  await d.getByTestId('params-ok').click();
  const tod = block(page, /^Time of day/);
  await tod.getByText('Business hours').first().waitFor();

  d = await addUnder(page, 'menu', tod, /^Business hours$/);
  await d.getByLabel('Name', { exact: true }).fill('Main menu');
  await d.getByTestId('ref-greeting').getByLabel('Main greeting').check();
  await d.getByTestId('params-ok').click();
  const menu = block(page, /^Business hours: Menu/);
  await menu.waitFor();

  d = await addUnder(page, 'pivot', menu, /Key 1$/);
  await d.getByLabel('URL', { exact: true }).fill(hookURL);
  await d.getByLabel('Format', { exact: true }).selectOption({ label: 'TwiML' });
  await d.getByTestId('params-ok').click();

  d = await addUnder(page, 'ring_group', menu, /Key 2$/);
  await d.getByTestId('ring-members').getByLabel('Alice Smith').check();
  await d.getByTestId('params-ok').click();
  const ring = block(page, /^Key 2: Ring group/);
  await ring.waitFor();
  // Nobody answers: voicemail.
  await addVoicemail(page, ring, /^Default$/);

  // Closed: the after-hours greeting, then voicemail.
  d = await addUnder(page, 'play', tod, /^Default$/);
  await d.getByTestId('ref-id').getByLabel('After hours').check();
  await d.getByTestId('params-ok').click();
  const closed = block(page, /^Default: Play/);
  await closed.waitFor();
  await addVoicemail(page, closed, null);

  // The Time of day block says whether it is open right now.
  await tod.locator(':scope > .card').getByTestId('tod-badge').filter({ hasText: /^(Open now: Business hours|Closed now)$/ }).waitFor();
  await saveMenu(page, 'Save Changes');
  await waitSaved(page);
  await screenshot(page, 'done-flow');

  // Test at 10:00 on a weekday, pressing 1: time of day → menu → Pivot.
  await page.getByRole('tab', { name: 'Test call' }).click();
  const panel = page.getByRole('tabpanel', { name: 'Test call' });
  await panel.getByTestId('test-at-weekday-10-00').click();
  await panel.getByTestId('test-input').first().fill('1');
  await panel.getByTestId('test-run').click();
  await panel.getByText(/Time of day: open \(Business hours/).waitFor();
  const visited = () => page.locator('.card.visited').evaluateAll((els) => els.map((e) => e.getAttribute('data-module')));
  await page.getByTestId('trail-hook').filter({ hasText: 'HTTP 200' }).waitFor();
  assert.deepEqual((await visited()).sort(), ['menu', 'pivot', 'temporal_route']);
  await screenshot(page, 'done-test-10h');

  // Step-through replay.
  await panel.getByTestId('replay-next').click();
  await panel.getByTestId('replay-status').filter({ hasText: /^Step 1 of 3: Time of day/ }).waitFor();
  await panel.getByTestId('replay-next').click();
  await panel.getByTestId('replay-status').filter({ hasText: /^Step 2 of 3: Menu/ }).waitFor();
  assert.equal(await page.locator('.card.current').getAttribute('data-module'), 'menu');

  // At 10:00 pressing 2, nobody answering: the ring group falls to voicemail.
  await panel.getByTestId('test-input').first().fill('2');
  await panel.getByText('Dial outcomes').click();
  await panel.getByRole('button', { name: 'Add outcome' }).click();
  await panel.getByLabel('Outcome of dial 1').selectOption('no-answer');
  await panel.getByTestId('test-run').click();
  await page.locator('.card.visited[data-module="ring_group"]').waitFor();
  await page.locator(`.card.visited[data-module="${vmModule}"]`).waitFor();
  assert.deepEqual((await visited()).sort(), ['menu', 'ring_group', 'temporal_route', vmModule].sort());
  await screenshot(page, 'done-test-10h-ring-group');

  // At 22:00: closed, the after-hours greeting and voicemail.
  await panel.getByTestId('test-at-weekday-22-00').click();
  await panel.getByTestId('test-run').click();
  await panel.getByText(/Time of day: closed/).waitFor();
  await page.locator('.card.visited[data-module="play"]').waitFor();
  assert.deepEqual((await visited()).sort(), ['play', 'temporal_route', vmModule].sort());
  await screenshot(page, 'done-test-22h');
  if (vmModule === 'voicemail') {
    // The box answered both test calls that reached it: no "mailbox not
    // available" in the trace, a message kept from each.
    const boxes = (await srv.api.call('GET', '/vmboxes')).body.data;
    const box = boxes.find((/** @type {{name: string}} */ b) => b.name === 'Sales voicemail');
    assert.ok(box, 'the box is stored');
    const calls = (await srv.api.call('GET', '/calls')).body.data;
    let reached = 0;
    for (const c of calls) {
      const trace = JSON.stringify((await srv.api.call('GET', `/calls/${c.call_id}/trace`)).body);
      if (!trace.includes('"voicemail"')) continue;
      reached++;
      assert.ok(!trace.includes('vmbox_unavailable'), `the voicemail box is reached in call ${c.call_id}: ${trace.slice(0, 600)}`);
    }
    assert.equal(reached, 2, 'two test calls reached voicemail');
  }

  // The call log opens the same path-on-diagram view.
  await section(page, 'Calls');
  const rows = page.getByTestId('calls-table').locator('tbody tr');
  await rows.nth(1).waitFor();
  assert.equal(await rows.count(), 3, 'the three test calls are logged');
  await screenshot(page, 'done-call-log');
  await rows.first().getByRole('button', { name: /on the diagram/ }).click();
  await page.locator('#flow-title').filter({ hasText: 'Business IVR' }).waitFor();
  await page.locator('.card.visited').first().waitFor();
  await panel.getByRole('list', { name: 'Call trace' }).waitFor();
  assert.ok((await page.locator('.card.visited').count()) >= 2, 'the logged call\'s path is lit');
  assert.deepEqual(errors, []);
  await context.close();
});
