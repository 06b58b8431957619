// Building a flow in the configurator by dragging from the Catalog of
// Actions, and by keyboard alone; both checked through the API.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { block, branchingModule, card, dialog, dragAction, eventually, fillPivot, focused, focusMatches, mainBlock, openFlowId, saveMenu, tabTo, waitSaved, catalogItem } from './lib/ui.js';

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

test('build a flow with a branching block and a Pivot by dragging from the catalog', async () => {
  const catalog = await srv.api.catalog();
  const branching = branchingModule(catalog);
  const { page, errors } = await newPage(browser, srv.url);
  await page.goto('/');
  await screenshot(page, '01-sign-in');
  await signIn(page, srv.adminKey);
  await page.getByText('No call flows yet').waitFor();
  await screenshot(page, '02-empty-list');

  await page.getByTestId('new-flow').click();
  await mainBlock(page).waitFor();
  // A new flow is not dirty: Save stays disabled until a change.
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), true);

  // Main Callflow Block: name and numbers in its pop-up.
  await card(mainBlock(page)).click();
  let d = dialog(page);
  await d.getByTestId('flow-name').fill('Reception');
  await d.getByTestId('numbers-input').fill('2001');
  await d.getByTestId('numbers-input').press('Enter');
  await d.getByTestId('numbers-input').fill('+14155550123');
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('button', { name: 'Save' }).isDisabled(), false);

  // Drag the branching module onto the main block: it takes it as its first block.
  await dragAction(page, branching.name, mainBlock(page));
  d = dialog(page);
  await d.getByRole('heading', { name: `New ${branching.label}` }).waitFor();
  if (branching.name === 'menu') {
    await d.getByLabel('Name', { exact: true }).fill('Main menu');
    await d.locator('fieldset[data-field="prompts"]').getByLabel('Greeting', { exact: true }).fill('For sales press 1, for support press 2.');
  }
  await screenshot(page, '03-branching-popup');
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });
  const menu = block(page, new RegExp(`^${branching.label}`));
  await menu.waitFor();

  // While dragging a Pivot, valid targets are marked and a full block refuses.
  const pivotItem = await catalogItem(page, 'pivot');
  await pivotItem.hover();
  await page.mouse.down();
  await card(menu).hover();
  await page.mouse.move(5, 5);
  await card(menu).hover();
  await screenshot(page, '04-dragging');
  await page.mouse.up();
  // (Whether the synthetic mouse drag reached the page or not, Escape out of any dialog it opened.)
  if (await dialog(page).count()) await dialog(page).getByRole('button', { name: 'Cancel' }).first().click();

  // Drag Pivot onto the branching block: the branch key comes first, then Pivot's pop-up.
  await dragAction(page, 'pivot', menu);
  d = dialog(page);
  await d.getByRole('heading', { name: new RegExp(`Which branch of ${branching.label}`) }).waitFor();
  await screenshot(page, '05-branch-key');
  const keyOne = d.getByRole('radio', { name: /Key 1$/ });
  if (await keyOne.count()) await keyOne.check();
  else await d.getByLabel('Other key').fill('1');
  await d.getByTestId('key-continue').click();
  d = dialog(page);
  await d.getByRole('heading', { name: 'New Pivot' }).waitFor();
  // Pivot's pop-up: URL, Method, Format up front; the rest under Advanced.
  await d.getByLabel('URL', { exact: true }).fill('ftp://example.com/x');
  await d.getByTestId('params-ok').click();
  await d.getByText('URL must start with http:// or https://').waitFor();
  await d.getByLabel('URL', { exact: true }).fill('https://example.com/ivr/voice');
  await screenshot(page, '06-pivot-popup');
  await fillPivot(page, { url: 'https://example.com/ivr/voice', method: 'POST', format: 'TwiML', debug: true, timeoutMs: 3000 });
  await screenshot(page, '06b-pivot-popup-advanced');
  await d.getByTestId('params-ok').click();
  await d.waitFor({ state: 'detached' });

  const pivot = block(page, /^Key 1: Pivot/);
  await pivot.waitFor();
  // The block shows its name and icon, not its URL or method.
  const text = await card(pivot).innerText();
  assert.match(text, /Pivot/);
  assert.doesNotMatch(text, /example\.com|POST/);
  // Hovering it shows them.
  await card(pivot).hover();
  const tip = page.getByRole('tooltip');
  await tip.waitFor();
  assert.match(await tip.innerText(), /https:\/\/example\.com\/ivr\/voice/);
  assert.match(await tip.innerText(), /POST/);
  await screenshot(page, '07-pivot-hover');
  await page.mouse.move(5, 400);

  // Save Changes, then check the stored document.
  await saveMenu(page, 'Save Changes');
  await waitSaved(page);
  await screenshot(page, '08-saved');
  const id = openFlowId(page);
  assert.ok(id, 'the URL names the saved flow');
  const { doc } = await srv.api.get(/** @type {string} */ (id));
  assert.equal(doc.name, 'Reception');
  assert.deepEqual(doc.numbers, ['2001', '+14155550123']);
  assert.equal(doc.flow.module, branching.name);
  const p = doc.flow.children['1'];
  assert.ok(p, 'the Pivot hangs on key 1');
  assert.equal(p.module, 'pivot');
  assert.equal(p.data.voice_url, 'https://example.com/ivr/voice');
  assert.equal(String(p.data.method).toUpperCase(), 'POST');
  assert.equal(p.data.req_format, 'twiml');
  assert.equal(p.data.debug, true);
  assert.equal(p.data.req_timeout_ms, 3000);
  if (branching.name === 'menu') {
    assert.equal(doc.flow.data.name, 'Main menu');
    assert.equal(doc.flow.data.prompts.greeting, 'For sales press 1, for support press 2.');
  }
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('build the same flow with the keyboard alone', async () => {
  const catalog = await srv.api.catalog();
  const branching = branchingModule(catalog);
  const { page, errors } = await newPage(browser, srv.url);
  const kb = page.keyboard;
  await page.goto('/');
  // Sign in: the key field has the focus.
  await page.getByLabel('Admin API key').waitFor();
  await kb.type(srv.adminKey);
  await kb.press('Enter');
  await page.getByTestId('new-flow').waitFor();
  await tabTo(page, page.getByTestId('new-flow'));
  await kb.press('Enter');

  // The Main Callflow Block has the focus: Enter opens its pop-up.
  await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'treeitem');
  await focusMatches(page, /^Main Callflow Block/);
  await kb.press('Enter');
  let d = dialog(page);
  await d.getByTestId('flow-name').waitFor();
  await kb.type('Keyboard line');
  await tabTo(page, d.getByTestId('numbers-input'));
  await kb.type('2002');
  await kb.press('Enter');
  await tabTo(page, d.getByTestId('params-ok'));
  await kb.press('Enter');
  await d.waitFor({ state: 'detached' });

  // "A" on the focused block: Add action…, a searchable list.
  await focusMatches(page, /^Main Callflow Block: Keyboard line/);
  await kb.press('a');
  d = dialog(page);
  await d.getByRole('combobox').waitFor();
  await kb.type(branching.label);
  await kb.press('Enter');
  d = dialog(page);
  await d.getByRole('heading', { name: `New ${branching.label}` }).waitFor();
  if (branching.name === 'menu') {
    await tabTo(page, d.locator('fieldset[data-field="prompts"]').getByLabel('Greeting', { exact: true }));
    await kb.type('Press 1 for the web app.');
  }
  await tabTo(page, d.getByTestId('params-ok'));
  await kb.press('Enter');
  await d.waitFor({ state: 'detached' });
  await focusMatches(page, new RegExp(`^${branching.label}`));

  // The block menu (Shift+F10) has the same "Add action…".
  await kb.press('Shift+F10');
  await page.getByRole('menu').waitFor();
  await page.getByRole('menuitem', { name: 'Add action…' }).waitFor();
  await kb.press('ArrowDown');
  await eventually(() => focused(page), 'Add action…', 'focused menu item');
  await kb.press('Enter');
  d = dialog(page);
  await d.getByRole('combobox').waitFor();
  await kb.type('Pivot');
  await kb.press('Enter');
  // Branch key: Key 1 is offered first.
  d = dialog(page);
  await d.getByRole('heading', { name: new RegExp(`Which branch of ${branching.label}`) }).waitFor();
  if (await d.getByRole('radio', { name: /Key 1$/ }).count()) {
    assert.equal(await d.getByRole('radio', { name: /Key 1$/ }).isChecked(), true);
    await kb.press('Enter');
  } else {
    await tabTo(page, d.getByLabel('Other key'));
    await kb.type('1');
    await kb.press('Enter');
  }
  d = dialog(page);
  await d.getByRole('heading', { name: 'New Pivot' }).waitFor();
  // URL has the focus; Method and Format are selects picked by typing.
  await kb.type('http://127.0.0.1:9/keyboard');
  await tabTo(page, d.getByLabel('Method', { exact: true }));
  await kb.type('P');
  await tabTo(page, d.getByLabel('Format', { exact: true }));
  await kb.type('T');
  await tabTo(page, d.getByTestId('params-ok'));
  await kb.press('Enter');
  await d.waitFor({ state: 'detached' });
  await focusMatches(page, /^Key 1: Pivot/);

  // Tree keys: Left goes to the parent, Left again folds it, Right unfolds,
  // Right again enters the first child; Home goes to the main block.
  const menu = block(page, new RegExp(`^${branching.label}`));
  await kb.press('ArrowLeft');
  await focusMatches(page, new RegExp(`^${branching.label}`));
  await eventually(() => menu.getAttribute('aria-expanded'), 'true', 'menu expanded');
  await kb.press('ArrowLeft');
  await eventually(() => menu.getAttribute('aria-expanded'), 'false', 'menu folded');
  await eventually(() => page.getByRole('treeitem', { name: /Pivot/ }).count(), 0, 'Pivot hidden');
  await kb.press('ArrowRight');
  await eventually(() => menu.getAttribute('aria-expanded'), 'true', 'menu expanded');
  await kb.press('ArrowRight');
  await focusMatches(page, /^Key 1: Pivot/);
  await kb.press('Home');
  await focusMatches(page, /^Main Callflow Block/);
  await kb.press('ArrowDown');
  await kb.press('ArrowDown');
  await focusMatches(page, /Pivot/);
  assert.equal(await page.getByRole('tree').count(), 1);
  assert.equal(await block(page, /Pivot/).getAttribute('aria-level'), '3');
  assert.equal(await block(page, /Pivot/).getAttribute('aria-selected'), 'true');
  await screenshot(page, '09-keyboard-built');

  // Save with the keyboard: the Save menu button, then Save Changes.
  await tabTo(page, page.getByRole('button', { name: 'Save' }));
  await kb.press('Enter');
  await page.getByRole('menuitem', { name: 'Save Changes' }).waitFor();
  await eventually(() => focused(page), 'Save Changes', 'focused menu item');
  await kb.press('Enter');
  await waitSaved(page);
  const id = openFlowId(page);
  const { doc } = await srv.api.get(/** @type {string} */ (id));
  assert.equal(doc.name, 'Keyboard line');
  assert.deepEqual(doc.numbers, ['2002']);
  assert.equal(doc.flow.module, branching.name);
  const p = doc.flow.children['1'];
  assert.equal(p.module, 'pivot');
  assert.equal(p.data.voice_url, 'http://127.0.0.1:9/keyboard');
  assert.equal(String(p.data.method).toUpperCase(), 'POST');
  assert.equal(p.data.req_format, 'twiml');
  assert.deepEqual(errors, []);
  await page.context().close();
});
