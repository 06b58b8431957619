// Voicemail boxes' messages in the configurator: who called, when, how
// long; played with the token (which marks them heard), marked new again,
// deleted; usable on a phone-size screen.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;
let boxId = '';

/**
 * A 16-bit mono 8 kHz WAV of a tone.
 * @param {number} seconds
 */
function toneWav(seconds) {
  const rate = 8000;
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8); b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 523 * i) / rate)), 44 + i * 2);
  return b;
}

/**
 * Leaves a message the way Kazoo's API takes one: multipart, JSON + audio.
 * @param {string} box
 * @param {Record<string, string>} meta
 * @param {number} seconds
 */
async function leave(box, meta, seconds) {
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify({ data: meta })], { type: 'application/json' }));
  form.append('file', new Blob([toneWav(seconds)], { type: 'audio/wav' }), 'message.wav');
  const r = await fetch(`${srv.url}/v2/accounts/${srv.api.accountId}/vmboxes/${box}/messages`, { method: 'PUT', headers: { 'X-Auth-Token': srv.api.token }, body: form });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return body.data;
}

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  const box = await srv.api.call('PUT', '/vmboxes', { name: 'Sales voicemail', mailbox: '3100' });
  assert.equal(box.status, 201, JSON.stringify(box.body));
  boxId = box.body.data.id;
  await leave(boxId, { caller_id_name: 'Alan Turing', caller_id_number: '+14155550100' }, 2);
  await leave(boxId, { caller_id_number: '+442071838750' }, 65);
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/** @returns {Promise<Array<{media_id: string, folder: string, caller_id_number: string}>>} */
async function messages() {
  return (await srv.api.call('GET', `/vmboxes/${boxId}/messages`)).body.data;
}

test('a box\'s messages are listed, played (and so heard), marked new and deleted', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await page.goto('/vmboxes');
  await page.getByRole('button', { name: 'Messages of Sales voicemail' }).click();
  const d = page.locator('dialog[open].vm-messages');
  await d.getByTestId('vm-status').filter({ hasText: '2 messages, 2 new' }).waitFor();
  const items = d.getByTestId('vm-list').locator('li');
  assert.equal(await items.count(), 2);
  const alan = items.filter({ hasText: 'Alan Turing (+14155550100)' });
  assert.match(await alan.innerText(), /0:02/, 'its length');
  assert.match(await items.filter({ hasText: '+442071838750' }).innerText(), /1:05/);
  assert.match(await alan.innerText(), /New/);
  await screenshot(page, 'page-voicemail-messages');

  await alan.getByRole('button', { name: 'Play the message from Alan Turing (+14155550100)' }).click();
  const audio = d.getByTestId('vm-audio');
  await audio.waitFor({ state: 'visible' });
  const h = await audio.elementHandle();
  await h?.evaluate((a) => new Promise((resolve) => {
    const el = /** @type {HTMLAudioElement} */ (a);
    if (el.duration > 1.9) resolve(undefined);
    else el.addEventListener('durationchange', () => { if (el.duration > 1.9) resolve(undefined); });
  }));
  await d.getByTestId('vm-status').filter({ hasText: '2 messages, 1 new' }).waitFor();
  const heard = (await messages()).find((m) => m.caller_id_number === '+14155550100');
  assert.equal(heard?.folder, 'saved', 'played means heard');

  await alan.getByRole('button', { name: /^Mark new/ }).click();
  await d.getByTestId('vm-status').filter({ hasText: '2 messages, 2 new' }).waitFor();

  await items.filter({ hasText: '+442071838750' }).getByRole('button', { name: /^Delete/ }).click();
  await page.getByTestId('confirm-ok').click();
  await d.getByTestId('vm-status').filter({ hasText: '1 message, 1 new' }).waitFor();
  const left = await messages();
  assert.deepEqual(left.map((m) => m.caller_id_number), ['+14155550100']);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the voicemail page and its messages fit a phone', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: srv.url });
  const page = await context.newPage();
  await signIn(page, srv.adminKey);
  for (const path of ['/vmboxes', '/calls']) {
    await page.goto(path);
    await page.locator('.page-title').filter({ visible: true }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${path}: ${overflow}px wider than the phone`);
  }
  await page.goto('/vmboxes');
  await page.getByRole('button', { name: 'Messages of Sales voicemail' }).click();
  const d = page.locator('dialog[open].vm-messages');
  await d.getByTestId('vm-list').locator('li').first().waitFor();
  const box = await d.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the dialog fits: ${JSON.stringify(box)}`);
  const play = d.getByRole('button', { name: /^Play the message/ }).first();
  const pb = await play.boundingBox();
  assert.ok(pb && pb.x + pb.width <= 390, 'its buttons are on screen');
  await screenshot(page, 'phone-voicemail');
  await context.close();
});
