// The Save menu (Save Changes, Save and Duplicate, Save and Create,
// Cancel), the unsaved-changes guards, a stale revision and a number
// conflict: what the UI does, checked through the API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { assertNoDialog, block, branchingModule, card, dialog, dragAction, eventually, mainBlock, openFlowId, openFromList, sampleFlow, saveMenu, waitSaved } from './lib/ui.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;
let menuModule = 'menu';

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  menuModule = branchingModule(await srv.api.catalog()).name;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

/**
 * Changes the Pivot's URL through its pop-up.
 * @param {import('playwright-core').Page} page
 * @param {string} url
 */
async function changePivotURL(page, url) {
  await card(block(page, /Pivot/)).click();
  const d = dialog(page);
  await d.getByLabel('URL', { exact: true }).fill(url);
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });
}

test('Save and Duplicate: saves, then opens a copy named "… copy" without numbers', async () => {
  const orig = await srv.api.create({ ...sampleFlow('Sales', ['3001'], menuModule), patterns: ['^\\+1555(\\d{7})$'] });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Sales');
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true, 'Save is disabled before a change');
  await changePivotURL(page, 'https://example.com/sales');
  await eventually(() => page.getByTestId('save-state').innerText(), 'Unsaved changes', 'the change is pending');
  await saveMenu(page, 'Save and Duplicate');
  await page.getByTestId('toast-duplicated').waitFor();
  await page.locator('#flow-title').filter({ hasText: 'Sales copy' }).waitFor();
  await screenshot(page, '10-duplicated');

  const copyId = openFlowId(page);
  assert.ok(copyId && copyId !== orig.doc.id, 'the copy is open');
  const copy = (await srv.api.get(copyId)).doc;
  assert.equal(copy.name, 'Sales copy');
  assert.deepEqual(copy.numbers, []);
  assert.deepEqual(copy.patterns, []);
  assert.equal(copy.flow.children['1'].data.voice_url, 'https://example.com/sales');
  // The original was saved with the change and otherwise left alone.
  const after = await srv.api.get(orig.doc.id);
  assert.deepEqual(after.doc.numbers, ['3001']);
  assert.deepEqual(after.doc.patterns, ['^\\+1555(\\d{7})$']);
  assert.equal(after.doc.name, 'Sales');
  assert.equal(after.doc.flow.children['1'].data.voice_url, 'https://example.com/sales');
  assert.match(after.revision, /^2-/);
  // The copy's main block shows no numbers.
  assert.match(await mainBlock(page).getAttribute('aria-label') || '', /No numbers/);
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('Save and Create: saves, then opens a new empty call flow', async () => {
  const orig = await srv.api.create(sampleFlow('Support', ['3002'], menuModule));
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Support');
  await changePivotURL(page, 'https://example.com/support');
  await saveMenu(page, 'Save and Create');
  await page.getByTestId('toast-created').waitFor();
  await page.locator('#flow-title').filter({ hasText: 'New call flow' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/callflows/new');
  assert.equal(await page.getByTestId('save-state').innerText(), 'Not saved yet');
  assert.equal(await page.getByRole('treeitem').count(), 1, 'only the main block');
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true);
  await screenshot(page, '11-save-and-create');
  const saved = await srv.api.get(orig.doc.id);
  assert.equal(saved.doc.flow.children['1'].data.voice_url, 'https://example.com/support');

  // The new flow saves without numbers; the API accepts it.
  await dragAction(page, 'tts', mainBlock(page));
  await dialog(page).getByLabel('Text', { exact: true }).fill('Hello');
  await dialog(page).getByTestId('params-ok').click();
  await saveMenu(page, 'Save Changes');
  await waitSaved(page);
  const id = openFlowId(page);
  assert.ok(id && id !== 'new');
  const doc = (await srv.api.get(id)).doc;
  assert.deepEqual(doc.numbers, []);
  assert.equal(doc.flow.module, 'tts');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('Cancel: no question without changes; with changes it asks first, in the page', async () => {
  const orig = await srv.api.create(sampleFlow('Billing', ['3003'], menuModule));
  const { page, errors } = await newPage(browser, srv.url);
  page.on('dialog', (d) => { errors.push(`native dialog: ${d.type()}`); void d.dismiss(); });
  await signIn(page, srv.adminKey);

  // Without changes: Cancel closes the flow at once.
  await openFromList(page, 'Billing');
  await page.getByTestId('cancel').click();
  await assertNoDialog(page);
  await page.getByText('No call flow open').waitFor();
  assert.equal(new URL(page.url()).pathname, '/');

  // With changes: the in-page confirmation; "Keep editing" keeps them.
  await openFromList(page, 'Billing');
  await block(page, /Pivot/).focus();
  await page.keyboard.press('Delete');
  await dialog(page).getByTestId('confirm-ok').click();
  await page.getByTestId('save-state').filter({ hasText: 'Unsaved changes' }).waitFor();
  await page.getByTestId('cancel').click();
  let d = dialog(page);
  await d.getByRole('heading', { name: 'Discard your changes?' }).waitFor();
  assert.equal(await d.getAttribute('role'), 'alertdialog');
  await screenshot(page, '12-cancel-confirm');
  await d.getByTestId('confirm-cancel').click();
  await d.waitFor({ state: 'detached' });
  await eventually(() => page.getByTestId('save-state').innerText(), 'Unsaved changes', 'still dirty');
  assert.equal(await block(page, /Pivot/).count(), 0);

  // Cancel from the Save menu, then Discard: the flow closes, nothing stored.
  await saveMenu(page, 'Cancel');
  d = dialog(page);
  await d.getByRole('heading', { name: 'Discard your changes?' }).waitFor();
  await d.getByTestId('confirm-ok').click();
  await page.getByText('No call flow open').waitFor();
  const after = await srv.api.get(orig.doc.id);
  assert.equal(after.revision, orig.revision, 'nothing was saved');
  assert.ok(after.doc.flow.children['1'], 'the Pivot is still stored');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('switching call flow or leaving the page with unsaved changes asks first', async () => {
  await srv.api.create(sampleFlow('Alpha', ['3004'], menuModule));
  await srv.api.create(sampleFlow('Beta', ['3005'], menuModule));
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Alpha');
  // No changes: switching does not ask.
  await openFromList(page, 'Beta');
  await assertNoDialog(page);
  await changePivotURL(page, 'https://example.com/beta');
  await page.getByTestId('flow-list').getByRole('link', { name: /^Alpha/ }).click();
  const d = dialog(page);
  await d.getByRole('heading', { name: 'Discard unsaved changes?' }).waitFor();
  await d.getByTestId('confirm-cancel').click();
  assert.equal(await page.locator('#flow-title').innerText(), 'Beta');
  await eventually(() => page.getByTestId('save-state').innerText(), 'Unsaved changes', 'the change is pending');

  // Leaving the page: the browser's own beforeunload prompt.
  /** @type {string[]} */
  const seen = [];
  page.on('dialog', (dlg) => { seen.push(dlg.type()); void dlg.dismiss(); });
  await page.close({ runBeforeUnload: true });
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(seen, ['beforeunload']);
  assert.deepEqual(errors, []);
});

test('a stale revision (409) is reported and never overwrites', async () => {
  const orig = await srv.api.create(sampleFlow('Stale', ['3006'], menuModule));
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Stale');
  await changePivotURL(page, 'https://example.com/mine');
  // Someone else saves meanwhile.
  const theirs = { ...orig.doc, name: 'Stale (theirs)' };
  await srv.api.update(orig.doc.id, theirs, orig.revision);

  await saveMenu(page, 'Save Changes');
  let d = dialog(page);
  await d.getByRole('heading', { name: 'Someone else saved this call flow' }).waitFor();
  await screenshot(page, '13-stale');
  let stored = await srv.api.get(orig.doc.id);
  assert.equal(stored.doc.name, 'Stale (theirs)');
  assert.equal(stored.doc.flow.children['1'].data.voice_url, 'https://example.com/one', 'not overwritten');
  await d.getByTestId('stale-keep').click();
  await page.getByTestId('toast-stale').waitFor();
  await eventually(() => page.getByTestId('save-state').innerText(), 'Unsaved changes', 'the change is pending');

  // Saving again is refused again; then reload their version.
  await saveMenu(page, 'Save Changes');
  d = dialog(page);
  await d.getByRole('heading', { name: 'Someone else saved this call flow' }).waitFor();
  await d.getByTestId('stale-reload').click();
  await page.locator('#flow-title').filter({ hasText: 'Stale (theirs)' }).waitFor();
  assert.equal(await page.getByTestId('save-state').innerText(), 'Saved');
  stored = await srv.api.get(orig.doc.id);
  assert.equal(stored.doc.flow.children['1'].data.voice_url, 'https://example.com/one');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a stale revision shows their change beside mine, block by block, and saves my choices', async () => {
  const orig = await srv.api.create(sampleFlow('Merge', ['3007'], menuModule));
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Merge');
  await changePivotURL(page, 'https://example.com/mine');
  // They rename the flow, change the Default message and the same Pivot.
  const theirs = structuredClone(orig.doc);
  theirs.name = 'Merge (theirs)';
  theirs.flow.children._.data.text = 'Bye from them';
  theirs.flow.children['1'].data.voice_url = 'https://example.com/theirs';
  const t1 = await srv.api.update(orig.doc.id, theirs, orig.revision);

  await saveMenu(page, 'Save Changes');
  let d = dialog(page);
  const diff = d.getByTestId('stale-diff');
  await diff.waitFor();
  const rows = diff.getByTestId('stale-row');
  assert.equal(await rows.count(), 3, 'name, the Pivot, the Default message');
  const pivotRow = rows.filter({ hasText: /Key 1 → Pivot/ });
  assert.match(await pivotRow.innerText(), /Both changed/);
  assert.match(await pivotRow.innerText(), /URL: https:\/\/example\.com\/one → https:\/\/example\.com\/theirs/);
  assert.match(await pivotRow.innerText(), /URL: https:\/\/example\.com\/one → https:\/\/example\.com\/mine/);
  assert.match(await rows.filter({ hasText: /Default → Text to speech/ }).innerText(), /Goodbye → Bye from them[\s\S]*No change/);
  // Defaults: mine where I changed something, theirs elsewhere.
  assert.equal(await pivotRow.getByRole('radio', { name: /^Keep mine/ }).isChecked(), true);
  assert.equal(await rows.filter({ hasText: /^Name/ }).getByRole('radio', { name: /^Take theirs/ }).isChecked(), true);
  await screenshot(page, '13-stale-diff');
  await d.getByTestId('stale-merge').click();
  await waitSaved(page);
  let stored = await srv.api.get(orig.doc.id);
  assert.equal(stored.doc.name, 'Merge (theirs)');
  assert.equal(stored.doc.flow.children._.data.text, 'Bye from them');
  assert.equal(stored.doc.flow.children['1'].data.voice_url, 'https://example.com/mine');
  assert.notEqual(stored.revision, t1.revision);

  // Again, taking theirs for the block we both changed, and mine for a
  // block only I added.
  await changePivotURL(page, 'https://example.com/mine-again');
  await dragAction(page, 'tts', block(page, /Pivot/));
  d = dialog(page);
  await d.getByLabel('Text', { exact: true }).fill('Added by me');
  await d.getByTestId('params-ok').click();
  const again = structuredClone(stored.doc);
  again.flow.children['1'].data.voice_url = 'https://example.com/theirs-again';
  await srv.api.update(orig.doc.id, again, stored.revision);
  await saveMenu(page, 'Save Changes');
  d = dialog(page);
  await d.getByTestId('stale-diff').waitFor();
  await d.getByTestId('stale-row').filter({ hasText: /Key 1 → Pivot$|Key 1 → Pivot\s*Both/ }).getByRole('radio', { name: /^Take theirs/ }).check();
  await d.getByTestId('stale-row').filter({ hasText: /Added Text to speech “Added by me”/ }).waitFor();
  await d.getByTestId('stale-merge').click();
  await waitSaved(page);
  stored = await srv.api.get(orig.doc.id);
  assert.equal(stored.doc.flow.children['1'].data.voice_url, 'https://example.com/theirs-again');
  assert.equal(stored.doc.flow.children['1'].children._.data.text, 'Added by me');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a number another flow uses (400 numbers.unique) shows on the main block', async () => {
  await srv.api.create(sampleFlow('Owner', ['4001'], menuModule));
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await page.getByTestId('new-flow').click();
  await card(mainBlock(page)).click();
  let d = dialog(page);
  await d.getByTestId('flow-name').fill('Intruder');
  await d.getByTestId('numbers-input').fill('4001');
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });
  await dragAction(page, 'tts', mainBlock(page));
  await dialog(page).getByLabel('Text', { exact: true }).fill('Hi');
  await dialog(page).getByTestId('params-ok').click();
  await saveMenu(page, 'Save Changes');
  const err = page.getByTestId('main-error');
  await err.waitFor();
  assert.match(await err.innerText(), /Number 4001 is already used by call flow “Owner”/);
  assert.match(await mainBlock(page).getAttribute('aria-label') || '', /Error: Number 4001/);
  await page.getByTestId('toast-not-saved').waitFor();
  await screenshot(page, '14-number-conflict');
  assert.equal(openFlowId(page), 'new');

  // Fix the number: the marker goes, the save works.
  await card(mainBlock(page)).click();
  d = dialog(page);
  await d.getByRole('button', { name: 'Remove 4001' }).click();
  await d.getByTestId('numbers-input').fill('4002');
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });
  await eventually(() => page.getByTestId('main-error').count(), 0, 'conflict marker gone');
  await saveMenu(page, 'Save Changes');
  await waitSaved(page);
  const doc = (await srv.api.get(/** @type {string} */ (openFlowId(page)))).doc;
  assert.deepEqual(doc.numbers, ['4002']);
  assert.deepEqual(errors, []);
  await page.context().close();
});
