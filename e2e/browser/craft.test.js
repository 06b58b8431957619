// Craft: every page has no serious axe-core violation and fits from
// 1,024 px up (read-only pages on a phone too); screenshots of each page at
// 1440×900 and 1024×768 go to e2e/browser/artifacts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startServer, launchBrowser, screenshot, signIn } from './lib/harness.js';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;
let flowId = '';

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  const rule = await srv.api.call('PUT', '/temporal_rules', { name: 'Business hours', cycle: 'weekly', interval: 1, wdays: ['monday', 'friday'], time_window_start: 32400, time_window_stop: 61200 });
  await srv.api.call('PUT', '/users', { first_name: 'Ada', last_name: 'Lovelace', presence_id: '201' });
  await srv.api.call('PUT', '/media', { name: 'Main greeting' });
  await srv.api.call('PUT', '/trunks', { name: 'Front office PBX', source_cidrs: ['198.51.100.7'], outbound_uri: 'sip:pbx.example.net:5060' });
  const box = await srv.api.call('PUT', '/vmboxes', { name: 'Front desk', mailbox: '3000' });
  // One message in the box, left as Kazoo's API takes one.
  const wav = Buffer.alloc(44 + 16000);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + 16000, 4); wav.write('WAVEfmt ', 8); wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22); wav.writeUInt32LE(8000, 24); wav.writeUInt32LE(16000, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34);
  wav.write('data', 36); wav.writeUInt32LE(16000, 40);
  const form = new FormData();
  form.append('metadata', new Blob([JSON.stringify({ data: { caller_id_name: 'Grace Hopper', caller_id_number: '+12025550123' } })], { type: 'application/json' }));
  form.append('file', new Blob([wav], { type: 'audio/wav' }), 'm.wav');
  const left = await fetch(`${srv.url}/v2/accounts/${srv.api.accountId}/vmboxes/${box.body.data.id}/messages`, { method: 'PUT', headers: { 'X-Auth-Token': srv.api.token }, body: form });
  assert.equal(left.status, 201);
  const rid = rule.body.data.id;
  const f = await srv.api.create({
    name: 'Main line', numbers: ['3000'],
    flow: { module: 'temporal_route', data: { rules: [rid] }, children: { [rid]: { module: 'pivot', data: { voice_url: 'https://example.com/v' }, children: { _: { module: 'tts', data: { text: 'Sorry' } } } }, _: { module: 'tts', data: { text: 'Closed' } } } },
  });
  flowId = f.doc.id;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const PAGES = [
  ['flows', '/', 'Choose a call flow'],
  ['flow', '', 'Main line'],
  ['users', '/users', 'Ada Lovelace'],
  ['devices', '/devices', 'No devices yet'],
  ['groups', '/groups', 'No groups yet'],
  ['media', '/media', 'Main greeting'],
  ['vmboxes', '/vmboxes', 'Front desk'],
  ['conferences', '/conferences', 'No conferences yet'],
  ['time-of-day', '/temporal_rules', 'Business hours'],
  ['numbers', '/numbers', '3000'],
  ['carriers', '/resources', 'No carriers yet'],
  ['trunks', '/trunks', 'Front office PBX'],
  ['calls', '/calls', 'No calls yet'],
];

for (const [w, hgt] of [[1440, 900], [1024, 768]]) {
  test(`every page at ${w}×${hgt}: no serious axe violation, nothing cut off`, async () => {
    const context = await browser.newContext({ viewport: { width: w, height: hgt }, baseURL: srv.url, bypassCSP: true });
    const page = await context.newPage();
    /** @type {string[]} */
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto('/');
    await page.getByLabel('Admin API key').waitFor();
    await checkPage(page, `sign-in-${w}`);
    await signIn(page, srv.adminKey);
    for (const [name, path, marker] of PAGES) {
      await page.goto(path || `/callflows/${flowId}`);
      await page.getByText(marker).first().waitFor();
      await checkPage(page, `page-${name}-${w}`);
    }
    // The dialogs of the directory pages: a media file's audio, a box's messages.
    await page.goto('/media');
    await page.getByTestId('page-new').click();
    await page.locator('dialog[open] [data-testid=media-panel]').waitFor();
    await checkPage(page, `dialog-media-${w}`);
    await page.getByTestId('doc-cancel').click();
    await page.goto('/vmboxes');
    await page.getByRole('button', { name: 'Messages of Front desk' }).click();
    await page.locator('dialog[open] [data-testid=vm-list] li').first().waitFor();
    await checkPage(page, `dialog-voicemail-${w}`);
    await page.getByTestId('vm-close').click();
    assert.deepEqual(errors, []);
    await context.close();
  });
}

test('read-only pages are usable on a phone', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: srv.url });
  const page = await context.newPage();
  await signIn(page, srv.adminKey);
  for (const [name, path, marker] of [['numbers', '/numbers', '3000'], ['users', '/users', 'Ada Lovelace'], ['vmboxes', '/vmboxes', 'Front desk'], ['calls', '/calls', 'No calls yet']]) {
    await page.goto(path);
    await page.getByText(marker).first().waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${name}: ${overflow}px wider than the phone`);
    await screenshot(page, `phone-${name}`);
  }
  await context.close();
});

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function checkPage(page, name) {
  await screenshot(page, name);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `${name}: the page is ${overflow}px wider than the window`);
  await page.addScriptTag({ path: axePath });
  const violations = await page.evaluate(async () => {
    // @ts-ignore axe is the script just added
    // A block's name says its branch key, caption and problems, while its
    // visible text also holds the blocks under it (a tree item contains
    // its group): label-content-name-mismatch is checked everywhere else.
    const tags = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, rules: { 'label-content-name-mismatch': { enabled: false } } };
    // @ts-ignore
    const r = await window.axe.run(document, tags);
    // @ts-ignore
    const r2 = await window.axe.run({ include: [['body']], exclude: [['[role=treeitem]']] }, { runOnly: { type: 'rule', values: ['label-content-name-mismatch'] } });
    return [...r.violations, ...r2.violations].filter((/** @type {{impact: string}} */ v) => v.impact === 'serious' || v.impact === 'critical')
      .map((/** @type {{id: string, help: string, nodes: Array<{target: string[]}>}} */ v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')})`);
  });
  assert.deepEqual(violations, [], `${name}: serious accessibility violations`);
}
