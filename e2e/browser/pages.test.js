// The directory beside "Call flows": list, search, create, edit and delete
// users, media, time-of-day rules …, with "used by …" and the stale-edit
// (409) handling; Numbers shows which flow has each; a call flow can be
// deleted, duplicated, exported and imported.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { dialog, openFromList } from './lib/ui.js';

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
