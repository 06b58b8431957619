// The directory beside "Call flows": list, search, create, edit and delete
// users, media, time-of-day rules …, with "used by …" and the stale-edit
// (409) handling; Numbers shows which flow has each; a call flow can be
// deleted, duplicated, exported and imported.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { card, dialog, mainBlock, openFromList, saveMenu } from './lib/ui.js';

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

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
async function go(page, name) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  await page.locator('#page-title').filter({ hasText: name === 'Voicemail' ? 'Voicemail boxes' : name === 'Time of day' ? 'Time-of-day rules' : name }).waitFor();
}

test('users: create, search, edit; a stale edit is refused with words', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await go(page, 'Users');
  assert.match(new URL(page.url()).pathname, /^\/users$/);
  for (const [first, last, ext] of [['Ada', 'Lovelace', '201'], ['Alan', 'Turing', '202']]) {
    await page.getByTestId('page-new').click();
    const d = dialog(page);
    await d.getByLabel('First name').fill(first);
    await d.getByLabel('Last name').fill(last);
    await d.getByLabel('Extension').fill(ext);
    await d.getByTestId('doc-save').click();
    await page.getByTestId('page-table').getByRole('button', { name: `${first} ${last}`, exact: true }).waitFor();
  }
  await page.getByTestId('page-search').fill('turing');
  await page.getByTestId('page-table').getByText('Ada Lovelace').waitFor({ state: 'detached' });
  await page.getByTestId('page-search').fill('');
  await screenshot(page, 'page-users');

  // Someone else edits Ada while the dialog is open: the save is refused.
  const users = (await srv.api.call('GET', '/users?paginate=false')).body.data;
  const ada = users.find((/** @type {{first_name: string}} */ u) => u.first_name === 'Ada');
  await page.getByRole('button', { name: 'Edit Ada Lovelace' }).click();
  const d = dialog(page);
  await d.getByLabel('Email').fill('ada@example.com');
  const r = await srv.api.call('PATCH', `/users/${ada.id}`, { presence_id: '299' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await d.getByTestId('doc-save').click();
  await dialog(page).getByTestId('doc-error').filter({ hasText: 'Someone else changed this user' }).waitFor();
  await dialog(page).getByTestId('doc-cancel').click();
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('time-of-day rules: delete says which call flows use it; Numbers lists flows', async () => {
  const rule = await srv.api.call('PUT', '/temporal_rules', { name: 'Lunch', cycle: 'daily', interval: 1, time_window_start: 43200, time_window_stop: 46800 });
  const rid = rule.body.data.id;
  await srv.api.create({ name: 'Front desk', numbers: ['8100', '8101'], flow: { module: 'temporal_route', data: { rules: [rid] }, children: { [rid]: { module: 'tts', data: { text: 'Lunch' } } } } });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await go(page, 'Time of day');
  await page.getByRole('button', { name: 'Delete Lunch' }).click();
  await page.getByTestId('used-by').getByText('Front desk').waitFor();
  await screenshot(page, 'page-delete-used-by');
  await page.getByTestId('confirm-cancel').click();
  assert.equal((await srv.api.call('GET', `/temporal_rules/${rid}`)).status, 200, 'kept after Cancel');

  await go(page, 'Numbers');
  const row = page.getByTestId('page-table').getByRole('row', { name: /8101/ });
  await row.getByRole('link', { name: 'Front desk' }).click();
  await page.locator('#flow-title').filter({ hasText: 'Front desk' }).waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('media: created from its page', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await go(page, 'Media');
  await page.getByTestId('page-new').click();
  await dialog(page).getByLabel('Name', { exact: true }).fill('Hold music');
  await dialog(page).getByTestId('doc-save').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Hold music', exact: true }).waitFor();
  await screenshot(page, 'page-media');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a call flow is duplicated, exported, imported and deleted from its menu', async () => {
  await srv.api.create({ name: 'Sales', numbers: ['8200'], flow: { module: 'tts', data: { text: 'Hello sales' } } });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Sales');

  await page.getByTestId('flow-menu').click();
  await page.getByTestId('flow-duplicate').click();
  await page.locator('#flow-title').filter({ hasText: 'Copy of Sales' }).waitFor();
  assert.equal(await page.getByTestId('save-state').textContent(), 'Saved', 'a copy needs no dummy edit');

  await openFromList(page, 'Sales');
  const [download] = await Promise.all([page.waitForEvent('download'), (async () => {
    await page.getByTestId('flow-menu').click();
    await page.getByTestId('flow-export').click();
  })()]);
  const exported = JSON.parse(await readFile(/** @type {string} */ (await download.path()), 'utf8'));
  assert.equal(exported.data.name, 'Sales');
  assert.equal(exported.data.id, undefined);

  exported.data.name = 'Imported sales';
  exported.data.numbers = ['8201'];
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), (async () => {
    await page.getByTestId('flow-menu').click();
    await page.getByTestId('flow-import').click();
  })()]);
  await chooser.setFiles({ name: 'sales.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(exported)) });
  await page.locator('#flow-title').filter({ hasText: 'Imported sales' }).waitFor();

  await page.getByTestId('flow-menu').click();
  await page.getByTestId('flow-delete').click();
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId('flow-list').getByRole('link', { name: /^Imported sales/ }).waitFor({ state: 'detached' });
  const names = (await srv.api.list()).map((f) => f.name);
  assert.ok(!names.includes('Imported sales') && names.includes('Sales') && names.includes('Copy of Sales'), names.join(', '));
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('trunks: created, searched, edited, refused with words, deleted; Carriers stay beside them', async () => {
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await go(page, 'Trunks');
  assert.match(new URL(page.url()).pathname, /^\/trunks$/);
  await page.getByTestId('page-new').click();
  let d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Head office PBX');
  await d.getByLabel('Calls come from', { exact: true }).fill('not-an-address');
  await d.getByLabel('Send calls to', { exact: true }).fill('sip:pbx.example.net:5060');
  await d.getByTestId('doc-save').click();
  // The server's rule, in its words.
  await dialog(page).getByTestId('doc-error').filter({ hasText: 'an IP address or a CIDR such as 203.0.113.0/24' }).waitFor();
  d = dialog(page);
  await d.getByLabel('Calls come from', { exact: true }).fill('198.51.100.0/24');
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Head office PBX', exact: true }).waitFor();
  assert.match(await page.getByTestId('page-table').innerText(), /198\.51\.100\.0\/24 · sip:pbx\.example\.net:5060/);
  // A malformed gateway is refused in the pop-up, before the server.
  await page.getByRole('button', { name: 'Edit Head office PBX' }).click();
  d = dialog(page);
  await d.getByLabel('Send calls to', { exact: true }).fill('http://wrong');
  await d.getByTestId('doc-save').click();
  await d.getByText(/Send calls to does not have the expected form/).waitFor();
  // Someone else edits it meanwhile: the save is refused.
  const trunks = (await srv.api.call('GET', '/trunks')).body.data;
  const t = trunks.find((/** @type {{name: string}} */ x) => x.name === 'Head office PBX');
  const r = await srv.api.call('PATCH', `/trunks/${t.id}`, { outbound_uri: 'sip:other.example.net' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await d.getByLabel('Send calls to', { exact: true }).fill('sip:new.example.net');
  await d.getByTestId('doc-save').click();
  await dialog(page).getByTestId('doc-error').filter({ hasText: 'Someone else changed this trunk' }).waitFor();
  await dialog(page).getByTestId('doc-cancel').click();
  await page.getByTestId('page-search').fill('nothing like it');
  await page.getByTestId('page-table').getByText('Nothing matches.').waitFor();
  await page.getByTestId('page-search').fill('head');
  await screenshot(page, 'page-trunks');
  // The list still holds the revision before their change: not deleted.
  await page.getByRole('button', { name: 'Delete Head office PBX' }).click();
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId('page-error').filter({ hasText: 'was changed by someone else' }).waitFor();
  assert.equal((await srv.api.call('GET', `/trunks/${t.id}`)).status, 200, 'kept');
  await page.getByTestId('page-refresh').click();
  await page.getByRole('button', { name: 'Delete Head office PBX' }).click();
  await page.getByTestId('confirm-ok').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Head office PBX', exact: true }).waitFor({ state: 'detached' });
  assert.equal((await srv.api.call('GET', `/trunks/${t.id}`)).status, 404);
  await go(page, 'Carriers');
  assert.match(new URL(page.url()).pathname, /^\/resources$/);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a test call to a number nothing answers says so without the account id', async () => {
  await srv.api.create({ name: 'Test target', numbers: ['8300'], flow: { module: 'tts', data: { text: 'Hi' } } });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Test target');
  await page.getByRole('tab', { name: 'Test call' }).click();
  const panel = page.getByRole('tabpanel', { name: 'Test call' });
  await panel.getByTestId('test-to').fill('5550199');
  await panel.getByTestId('test-run').click();
  await panel.getByText('No call flow has the number 5550199 in this account').waitFor();
  assert.doesNotMatch(await panel.innerText(), new RegExp(srv.api.accountId));
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('after "Reload their version" the list shows their name', async () => {
  const orig = await srv.api.create({ name: 'Before rename', numbers: ['8310'], flow: { module: 'tts', data: { text: 'Hi' } } });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Before rename');
  await card(mainBlock(page)).click();
  await dialog(page).getByTestId('flow-name').fill('My rename');
  await dialog(page).getByTestId('params-ok').click();
  await srv.api.update(orig.doc.id, { ...orig.doc, name: 'Their rename' }, orig.revision);
  await saveMenu(page, 'Save Changes');
  await dialog(page).getByTestId('stale-reload').click();
  await page.locator('#flow-title').filter({ hasText: 'Their rename' }).waitFor();
  const list = page.getByTestId('flow-list');
  await list.getByRole('link', { name: /^Their rename/ }).waitFor();
  assert.equal(await list.getByRole('link', { name: /^Before rename/ }).count(), 0, 'the old name is gone from the list');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('forms ask what the server\'s schemas say: required gateways, ranges in "More settings"', async () => {
  const names = await (await fetch(`${srv.url}/v2/schemas`)).json();
  assert.ok(names.data.includes('resources') && names.data.includes('callflows.pivot'), JSON.stringify(names.data));
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  // A carrier needs gateways (the server's schema says so): the form asks.
  await go(page, 'Carriers');
  await page.getByTestId('page-new').click();
  let d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Carrier One');
  await d.getByTestId('doc-save').click();
  await d.getByText('Gateways is required').waitFor();
  await d.getByLabel('Gateways', { exact: true }).fill('[{"server": "sip.carrier-one.example", "enabled": true}]');
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Carrier One', exact: true }).waitFor();
  const carriers = (await srv.api.call('GET', '/resources?paginate=false')).body.data;
  const c = carriers.find((/** @type {{name: string}} */ x) => x.name === 'Carrier One');
  const stored = (await srv.api.call('GET', `/resources/${c.id}`)).body.data;
  assert.equal(stored.gateways[0].server, 'sip.carrier-one.example');

  // A voicemail box's fields beyond the hand-made form, with their ranges.
  await go(page, 'Voicemail');
  await page.getByTestId('page-new').click();
  d = dialog(page);
  await d.getByLabel('Name', { exact: true }).fill('Support box');
  await d.getByLabel('Box number', { exact: true }).fill('4100');
  await d.getByTestId('doc-more').locator('summary').click();
  await d.getByLabel('Max message length', { exact: true }).fill('0');
  await d.getByTestId('doc-save').click();
  await d.getByText('Max message length must be at least 1').waitFor();
  await screenshot(page, 'page-vmbox-more-settings');
  await d.getByLabel('Max message length', { exact: true }).fill('120');
  await d.getByTestId('doc-save').click();
  await page.getByTestId('page-table').getByRole('button', { name: 'Support box', exact: true }).waitFor();
  const boxes = (await srv.api.call('GET', '/vmboxes?paginate=false')).body.data;
  const b = boxes.find((/** @type {{name: string}} */ x) => x.name === 'Support box');
  assert.equal((await srv.api.call('GET', `/vmboxes/${b.id}`)).body.data.max_message_length, 120);
  assert.deepEqual(errors, []);
  await page.context().close();
});
