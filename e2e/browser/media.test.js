// Media in the configurator: a WAV or MP3 uploaded, played with the
// token, recorded from the microphone (Chromium's fake device, converted to
// a PCM WAV in the browser), or spoken from text with a preview — from the
// Media page and from the side dialog a Play block's pop-up opens. What the
// browser sent is checked on the server: the stored audio is real sound.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer, newPage, screenshot, signIn, CHROMIUM_ARGS } from './lib/harness.js';
import { block, card, dialog, openFromList } from './lib/ui.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  srv = await startServer();
  // A microphone that plays a test tone and needs no permission prompt:
  // only this test's browser has one.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true,
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
  });
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/**
 * A 16-bit mono WAV of a tone.
 * @param {number} seconds
 * @param {number} rate
 */
function toneWav(seconds, rate = 8000) {
  const n = Math.round(seconds * rate);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0); b.writeUInt32LE(36 + n * 2, 4); b.write('WAVE', 8); b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22); b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28); b.writeUInt16LE(2, 32); b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
}

/**
 * The stored audio of a media document, read as the server serves it.
 * @param {string} id
 */
async function rawOf(id) {
  const r = await fetch(`${srv.url}/v2/accounts/${srv.api.accountId}/media/${id}/raw`, { headers: { 'X-Auth-Token': srv.api.token } });
  assert.equal(r.status, 200, `raw of ${id}`);
  const b = Buffer.from(await r.arrayBuffer());
  assert.equal(b.toString('ascii', 0, 4), 'RIFF');
  const rate = b.readUInt32LE(24);
  const samples = (b.length - 44) / 2;
  let peak = 0;
  for (let i = 44; i + 1 < b.length; i += 2) peak = Math.max(peak, Math.abs(b.readInt16LE(i)));
  return { rate, seconds: samples / rate, peak };
}

/** @param {string} name */
async function mediaNamed(name) {
  const rows = (await srv.api.call('GET', '/media?paginate=false')).body.data;
  const m = rows.find((/** @type {{name: string}} */ r) => r.name === name);
  assert.ok(m, `media ${name} stored`);
  return m;
}

/**
 * Waits until an <audio> has loaded sound of at least min seconds.
 * @param {import('playwright-core').Locator} audio
 * @param {number} min
 */
async function loaded(audio, min) {
  await audio.waitFor({ state: 'visible' });
  const h = await audio.elementHandle();
  await h?.evaluate((a, m) => new Promise((resolve) => {
    const el = /** @type {HTMLAudioElement} */ (a);
    const ok = () => el.duration > m && el.currentSrc.startsWith('blob:');
    if (ok()) { resolve(undefined); return; }
    el.addEventListener('durationchange', () => { if (ok()) resolve(undefined); });
    el.addEventListener('loadedmetadata', () => { if (ok()) resolve(undefined); });
  }), min);
}

/** @param {import('playwright-core').Page} page */
async function mediaPage(page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Media', exact: true }).click();
  await page.locator('#page-title').filter({ hasText: 'Media' }).waitFor();
}

test('a WAV is uploaded from the Media page, played before and after saving; bad files are refused', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await mediaPage(page);
  await page.getByTestId('page-new').click();
  let d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Welcome');
  // Not audio at all: refused in the browser.
  await d.getByTestId('media-file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await d.getByTestId('media-error').filter({ hasText: 'Choose a WAV or MP3 file.' }).waitFor();
  await d.getByTestId('media-file').setInputFiles({ name: 'welcome.wav', mimeType: 'audio/wav', buffer: toneWav(1.5, 16000) });
  await d.getByTestId('media-status').filter({ hasText: 'New audio: welcome.wav' }).waitFor();
  await d.getByTestId('media-play').click();
  await loaded(d.getByTestId('media-audio'), 1.4);
  await screenshot(page, 'media-upload');
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-success').filter({ hasText: 'Welcome' }).waitFor();
  const m = await mediaNamed('Welcome');
  assert.equal(m.content_type, 'audio/wav');
  const raw = await rawOf(m.id);
  assert.equal(raw.rate, 8000, 'stored at the call rate');
  assert.ok(Math.abs(raw.seconds - 1.5) < 0.05, `1.5 s stored, got ${raw.seconds}`);
  assert.ok(raw.peak > 4000, `the tone survived (peak ${raw.peak})`);

  // The list plays it, fetched with the token.
  await page.getByRole('button', { name: 'Play Welcome' }).click();
  await loaded(page.getByTestId('page-audio'), 1.4);

  // A file named .wav that is not audio: the server refuses it; the
  // document is kept and the dialog says the audio was not saved.
  await page.getByTestId('page-new').click();
  d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Broken');
  await d.getByTestId('media-file').setInputFiles({ name: 'broken.wav', mimeType: 'audio/wav', buffer: Buffer.from('RIFF....WAVEnot really') });
  await d.getByTestId('doc-save').click();
  await dialog(page).getByTestId('doc-error').filter({ hasText: /Saved, but the audio was not: .*not playable audio/ }).waitFor();
  await screenshot(page, 'media-upload-refused');
  await dialog(page).getByTestId('doc-cancel').click();
  const broken = await mediaNamed('Broken');
  assert.equal(broken.content_type, undefined, 'no audio recorded for the broken file');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a recording from the microphone becomes a PCM WAV on the server', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: srv.url });
  await context.grantPermissions(['microphone'], { origin: srv.url });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await signIn(page, srv.adminKey);
  await mediaPage(page);
  await page.getByTestId('page-new').click();
  const d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Recorded greeting');
  await d.getByTestId('media-record').click();
  await d.getByTestId('media-record').filter({ hasText: 'Stop recording' }).waitFor();
  // Recorded for at least a second and a half, as the timer shows.
  await d.getByTestId('media-rec-time').filter({ hasText: /Recording… 0:0[2-9]/ }).waitFor({ timeout: 20_000 });
  await screenshot(page, 'media-recording');
  await d.getByTestId('media-record').click();
  await d.getByTestId('media-status').filter({ hasText: /New audio: a recording of 0:0[1-9]/ }).waitFor({ timeout: 20_000 });
  await d.getByTestId('media-play').click();
  await loaded(d.getByTestId('media-audio'), 1);
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-success').filter({ hasText: 'Recorded greeting' }).waitFor();
  const m = await mediaNamed('Recorded greeting');
  assert.equal(m.media_source, 'recording');
  const raw = await rawOf(m.id);
  assert.equal(raw.rate, 8000);
  assert.ok(raw.seconds >= 1, `at least a second recorded, got ${raw.seconds}`);
  assert.ok(raw.peak > 500, `the fake microphone's tone is in it (peak ${raw.peak})`);
  assert.deepEqual(errors, []);
  await context.close();
});

test('text to speech is previewed (saved and played), and needs text first', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await mediaPage(page);
  await page.getByTestId('page-new').click();
  const d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('After hours');
  await d.getByTestId('media-tts-preview').click();
  await d.getByTestId('media-error').filter({ hasText: 'Type the text to speak' }).waitFor();
  await d.getByLabel('Text', { exact: true }).fill('We are closed. Please call again tomorrow.');
  await d.getByTestId('media-tts-preview').click();
  await loaded(d.getByTestId('media-audio'), 1);
  await d.getByTestId('media-status').filter({ hasText: 'Audio stored' }).waitFor();
  const source = await d.locator('select[data-field="media_source"]').evaluate((el) => {
    const sel = /** @type {HTMLSelectElement} */ (el);
    return sel.options[sel.selectedIndex]?.textContent;
  });
  assert.equal(source, 'TTS', 'the source follows the preview');
  await screenshot(page, 'media-tts');
  const first = await mediaNamed('After hours');
  const spoken = await rawOf(first.id);
  assert.ok(spoken.seconds > 1 && spoken.peak > 1000, `speech stored (${spoken.seconds} s, peak ${spoken.peak})`);
  // Saving keeps the same document (no second one), still speaking.
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-success').filter({ hasText: 'After hours' }).waitFor();
  const all = (await srv.api.call('GET', '/media?paginate=false')).body.data.filter((/** @type {{name: string}} */ r) => r.name === 'After hours');
  assert.equal(all.length, 1, 'the preview and the save are one document');
  assert.equal(all[0].media_source, 'tts');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a Play block\'s side dialog uploads the new media\'s audio', async () => {
  await srv.api.create({ name: 'Greeting line', numbers: ['7301'], flow: { module: 'play', data: { id: 'https://example.com/old.wav' } } });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Greeting line');
  await card(block(page, /^Play media/).first()).dblclick();
  const d = dialog(page);
  await d.getByTestId('ref-new-id').click();
  const side = page.locator('dialog[open].side');
  await side.getByLabel('Name', { exact: true }).fill('Main greeting');
  await side.getByTestId('media-file').setInputFiles({ name: 'greeting.wav', mimeType: 'audio/wav', buffer: toneWav(1) });
  await side.getByTestId('doc-save').click();
  await side.waitFor({ state: 'detached' });
  assert.equal(await d.getByTestId('ref-id').getByLabel('Main greeting').isChecked(), true, 'the new media is picked');
  await d.getByTestId('params-ok').click();
  await block(page, /^Play media/).first().getByText('Main greeting').waitFor();
  const m = await mediaNamed('Main greeting');
  const raw = await rawOf(m.id);
  assert.ok(Math.abs(raw.seconds - 1) < 0.05 && raw.peak > 4000, 'the audio was uploaded');
  assert.deepEqual(errors, []);
  await page.context().close();
});
