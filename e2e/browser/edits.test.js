// Editing blocks: undo and redo, delete with confirmation, moving a
// subtree (drag and keyboard), Cancel on a new block's pop-up, blocks that
// refuse a child, incomplete markers, the catalog built from the API, the
// list's search, and signing in again when the token expires.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { block, branchingModule, card, catalogItem, dialog, dragAction, dragWithMouse, eventually, mainBlock, openFlowId, openFromList, saveMenu, waitSaved } from './lib/ui.js';

/** @type {Awaited<ReturnType<typeof startServer>>} */
let srv;
/** @type {import('playwright-core').Browser} */
let browser;
let menuModule = 'menu';
let menuLabel = 'Menu';

before(async () => {
  srv = await startServer();
  browser = await launchBrowser();
  const m = branchingModule(await srv.api.catalog());
  menuModule = m.name;
  menuLabel = m.label;
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

test('undo, redo, delete a subtree (confirmed), move a subtree by drag and by keyboard', async () => {
  const orig = await srv.api.create({
    name: 'Edits', numbers: ['5001'],
    flow: {
      module: menuModule, data: {},
      children: {
        1: { module: 'tts', data: { text: 'one' }, children: { _: { module: 'pivot', data: { voice_url: 'https://example.com/p' } } } },
        2: { module: 'tts', data: { text: 'two' } },
        _: { module: 'tts', data: { text: 'bye' } },
      },
    },
  });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Edits');
  const items = page.getByRole('treeitem');
  await eventually(() => items.count(), 6, 'blocks');

  // Delete asks, naming what goes with the block.
  await block(page, /^Key 1: Text to speech/).focus();
  await page.keyboard.press('Delete');
  const d = dialog(page);
  await d.getByText('This deletes Text to speech and the block after it').waitFor();
  await d.getByTestId('confirm-cancel').click();
  await eventually(() => items.count(), 6, 'Cancel keeps the block');
  await page.getByTestId('delete').click();
  await dialog(page).getByTestId('confirm-ok').click();
  await eventually(() => items.count(), 4, 'blocks');
  await eventually(() => block(page, /Pivot/).count(), 0, 'Pivot deleted');
  // Undo (Ctrl+Z), redo (button), undo again.
  await page.keyboard.press('Control+z');
  await eventually(() => items.count(), 6, 'blocks');
  await page.getByTestId('redo').click();
  await eventually(() => items.count(), 4, 'blocks');
  await page.getByTestId('undo').click();
  await eventually(() => items.count(), 6, 'blocks');
  assert.equal(await page.getByTestId('save-state').innerText(), 'Saved', 'undone back to the saved state');
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true);

  // Drag "two" onto the Pivot: it moves under it.
  await dragWithMouse(page, card(block(page, /^Key 2: Text to speech/)), card(block(page, /Pivot/)));
  await block(page, /^If the server fails: Text to speech, two/).waitFor();
  assert.equal(await block(page, /^If the server fails: Text to speech, two/).getAttribute('aria-level'), '5');

  // Move "one" (with Pivot and "two" under it) with the keyboard, after "bye".
  await block(page, /^Key 1: Text to speech, one/).focus();
  await page.keyboard.press('m');
  const picker = dialog(page);
  await picker.getByRole('listbox').waitFor();
  const offered = await picker.getByRole('option').allInnerTexts();
  assert.ok(!offered.some((o) => /Pivot/.test(o)), `a block's own subtree is no target: ${offered.join(' | ')}`);
  await page.keyboard.type('bye');
  await page.keyboard.press('Enter');
  await picker.waitFor({ state: 'detached' });
  await block(page, /^Text to speech, one/).waitFor();
  assert.equal(await block(page, /^Text to speech, one/).getAttribute('aria-level'), '4');
  assert.equal(await block(page, /Pivot/).getAttribute('aria-level'), '5');
  assert.equal(await block(page, /^If the server fails: Text to speech, two/).getAttribute('aria-level'), '6');
  await screenshot(page, '15-moved');

  await saveMenu(page, 'Save Changes');
  await waitSaved(page);
  const doc = (await srv.api.get(orig.doc.id)).doc;
  assert.deepEqual(Object.keys(doc.flow.children).sort(), ['_']);
  const bye = doc.flow.children._;
  assert.equal(bye.data.text, 'bye');
  assert.equal(bye.children._.data.text, 'one');
  assert.equal(bye.children._.children._.module, 'pivot');
  assert.equal(bye.children._.children._.children._.data.text, 'two');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('Cancel in a new block\'s pop-up removes it; a block that takes no child refuses drops', async () => {
  const catalog = await srv.api.catalog();
  const terminal = catalog.find((e) => e.terminal);
  assert.ok(terminal, 'a terminal module');
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await page.getByTestId('new-flow').click();

  await dragAction(page, 'tts', mainBlock(page));
  await dialog(page).getByRole('heading', { name: 'New Text to speech' }).waitFor();
  await dialog(page).getByTestId('params-cancel').click();
  await eventually(() => page.getByRole('treeitem').count(), 1, 'the dropped block is gone');
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true, 'nothing changed');
  assert.equal(await page.getByTestId('undo').isDisabled(), true);

  // A terminal block (no children at all).
  await dragAction(page, terminal.name, mainBlock(page));
  const d = dialog(page);
  await d.getByRole('heading', { name: `New ${terminal.label}` }).waitFor();
  // "Go to call flow" picks a stored flow by name (issue 15), no typed id.
  if (terminal.name === 'callflow') {
    const first = d.getByTestId('ref-id').getByRole('radio').first();
    if (await first.count()) await first.check();
  }
  await d.getByTestId('params-ok').click();
  const term = block(page, new RegExp(`^${terminal.label}`));
  await term.waitFor();

  // While dragging, the terminal block and the full main block refuse.
  const tts = await catalogItem(page, 'tts');
  await tts.hover();
  await page.mouse.down();
  await card(term).hover({ force: true });
  await card(term).hover({ force: true });
  await eventually(() => card(term).getAttribute('data-drop'), 'no', 'the terminal block refuses');
  await eventually(() => card(mainBlock(page)).getAttribute('data-drop'), 'no', 'the full main block refuses');
  await screenshot(page, '16-refused-drop');
  await page.mouse.up();
  assert.equal(await dialog(page).count(), 0, 'the drop was refused');
  assert.equal(await page.getByRole('treeitem').count(), 2);

  // The keyboard path says why.
  await term.focus();
  assert.equal(await page.getByTestId('add-action').isDisabled(), true);
  await page.keyboard.press('a');
  await page.getByText(`${terminal.label} takes no further block.`).waitFor();
  assert.equal(await dialog(page).count(), 0);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('incomplete blocks are marked and block saving until filled', async () => {
  const before = (await srv.api.list()).length;
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await page.getByTestId('new-flow').click();
  await dragAction(page, 'tts', mainBlock(page));
  await dialog(page).getByTestId('params-ok').click(); // Text left empty
  const tts = block(page, /^Text to speech/);
  await tts.waitFor();
  assert.match(await tts.getAttribute('aria-label') || '', /Incomplete: Text is required/);
  assert.equal(await card(tts).getByTestId('marker').count(), 1);
  await saveMenu(page, 'Save Changes');
  await page.getByTestId('toast-incomplete').waitFor();
  assert.match(await page.getByTestId('toast-incomplete').innerText(), /1 block is incomplete/);
  await screenshot(page, '17-incomplete');
  assert.equal((await srv.api.list()).length, before, 'nothing was created');

  await card(tts).click();
  await dialog(page).getByLabel('Text', { exact: true }).fill('Thanks for calling');
  await dialog(page).getByTestId('params-ok').click();
  await eventually(() => card(tts).getByTestId('marker').count(), 0, 'marker gone');
  await saveMenu(page, 'Save Changes');
  await waitSaved(page);
  assert.equal((await srv.api.list()).length, before + 1);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the catalog is built from the API: groups, icons, forms from JSON Schema, search', async (t) => {
  const catalog = await srv.api.catalog();
  const { page, errors } = await newPage(browser, srv.url);
  // A module the UI has never heard of, added to the catalog the page gets.
  await page.route('**/callflows/actions', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.data.push({
      name: 'zz_future', label: 'Future action', group: 'Experimental', icon: 'zz-unknown-icon',
      description: 'A module added on the server later.', branches: ['ok', 'fail', '_'], free_branches: false, terminal: false,
      schema: {
        type: 'object', required: ['target'],
        properties: {
          target: { type: 'string', title: 'Target', pattern: '^[a-z]+$', description: 'Lower-case letters.' },
          level: { type: 'integer', title: 'Level', minimum: 1, maximum: 5, default: 2 },
          mode: { type: 'string', title: 'Mode', enum: ['fast', 'safe'] },
          loud: { type: 'boolean', title: 'Loud' },
        },
      },
    });
    await route.fulfill({ response: res, json: body });
  });
  await signIn(page, srv.adminKey);
  const groups = [...new Set(catalog.map((e) => e.group)), 'Experimental'];
  for (const g of groups) await page.getByRole('button', { name: new RegExp(`^${g}\\s*\\d+$`) }).waitFor();
  const headings = await page.locator('.group-toggle span:not(.count)').allInnerTexts();
  assert.equal(headings[0], 'Basic');
  assert.equal(headings[1], 'Advanced');
  // Pivot sits in Advanced, with its own icon; the unknown icon falls back.
  const pivot = page.locator('section[data-group="Advanced"] .cat-item[data-module="pivot"]');
  await page.getByRole('button', { name: /^Advanced/ }).click();
  await pivot.waitFor();
  assert.equal(await pivot.locator('svg').getAttribute('data-icon'), 'pivot');
  // Which of the server's icon ids fall back to the generic block (reported, not failed).
  for (const g of groups) {
    const btn = page.getByRole('button', { name: new RegExp(`^${g}\\s*\\d+$`) });
    if ((await btn.getAttribute('aria-expanded')) === 'false') await btn.click();
  }
  const fallbacks = await page.locator('.cat-item').evaluateAll((els) => els
    .filter((e) => e.querySelector('svg')?.getAttribute('data-icon') === 'block')
    .map((e) => e.getAttribute('data-module')));
  t.diagnostic(`modules drawn with the generic icon: ${fallbacks.join(', ') || 'none'}`);
  assert.ok(fallbacks.includes('zz_future'), 'an unknown icon id falls back to the generic block');
  assert.equal(await page.locator('.cat-item[data-module="zz_future"] svg').getAttribute('data-icon'), 'block');
  // Search filters and opens groups with hits.
  await page.getByRole('searchbox', { name: 'Search actions' }).fill('speech');
  assert.deepEqual(await page.locator('.cat-item:visible').evaluateAll((els) => els.map((e) => e.getAttribute('data-module'))), ['tts']);
  await page.getByRole('searchbox', { name: 'Search actions' }).fill('zzzz');
  await page.getByText('No action matches “zzzz”.').waitFor();
  await screenshot(page, '18-catalog-search');

  // Its pop-up comes from its schema; its branch keys from "branches".
  await page.getByTestId('new-flow').click();
  await dragAction(page, 'zz_future', mainBlock(page));
  let d = dialog(page);
  await d.getByRole('heading', { name: 'New Future action' }).waitFor();
  assert.equal(await d.getByLabel('Level', { exact: true }).inputValue(), '2');
  assert.equal(await d.getByLabel('Level', { exact: true }).getAttribute('max'), '5');
  assert.deepEqual(await d.getByLabel('Mode', { exact: true }).locator('option').allInnerTexts(), ['Not set', 'fast', 'safe']);
  await d.getByLabel('Target', { exact: true }).fill('Not OK');
  await d.getByTestId('params-ok').click();
  await d.getByText('Target does not have the expected form').waitFor();
  await d.getByLabel('Target', { exact: true }).fill('ok');
  await d.getByLabel('Level', { exact: true }).fill('9');
  await d.getByTestId('params-ok').click();
  await d.getByText('Level must be at most 5').waitFor();
  await d.getByLabel('Level', { exact: true }).fill('3');
  await d.getByLabel('Loud', { exact: true }).check();
  await screenshot(page, '19-generated-form');
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });
  const fut = block(page, /^Future action/);
  await fut.waitFor();
  await dragAction(page, 'tts', fut);
  d = dialog(page);
  await d.getByRole('heading', { name: 'Which branch of Future action?' }).waitFor();
  const keys = await d.getByRole('radio').evaluateAll((els) => els.map((e) => e.getAttribute('value')));
  assert.deepEqual(keys, ['ok', 'fail', '_']);
  await d.getByRole('button', { name: 'Cancel' }).click();
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('the list: search, empty results; a wrong key; an expired token asks for the key again', async () => {
  await srv.api.create({ name: 'Zebra line', numbers: ['7001'] });
  await srv.api.create({ name: 'Yak line', numbers: ['7002'] });
  const { page, errors } = await newPage(browser, srv.url);
  await page.goto('/');
  await page.getByLabel('Admin API key').fill('wrong-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('This key was not accepted').waitFor();
  await signIn(page, srv.adminKey);
  const search = page.getByTestId('flow-search');
  await search.fill('7002');
  await eventually(() => page.getByTestId('flow-list').locator('.flow-name').allInnerTexts(), ['Yak line'], 'the list filtered');
  await search.fill('nothing-like-this');
  await page.getByText('No call flow matches “nothing-like-this”.').waitFor();
  await search.fill('');
  // The token expires (here: is made invalid). No key is kept, so the
  // admin signs in again, and goes on where they were.
  await page.evaluate(() => sessionStorage.setItem('switchboard.auth_token', 'expired-token'));
  await page.reload();
  await page.getByLabel('Admin API key').waitFor();
  await page.getByLabel('Admin API key').fill(srv.adminKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await openFromList(page, 'Zebra line');
  const token = await page.evaluate(() => sessionStorage.getItem('switchboard.auth_token'));
  assert.ok(token && token !== 'expired-token', 'a new token');
  assert.equal(await page.getByLabel('Admin API key').isVisible(), false, 'signed in');
  assert.match(openFlowId(page) || '', /^[0-9a-f]+$/);
  assert.deepEqual(errors, []);
  await page.context().close();
});
