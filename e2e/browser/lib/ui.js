// Helpers that drive the configurator the way an admin does.

import assert from 'node:assert/strict';

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('playwright-core').Locator} Locator */

/**
 * The branching module the tests build with: "menu" when the catalog has
 * it, else any module with branch keys.
 * @param {Array<{name: string, label: string, branches: string[], free_branches: boolean, terminal: boolean}>} catalog
 */
export function branchingModule(catalog) {
  const m = catalog.find((e) => e.name === 'menu')
    || catalog.find((e) => e.free_branches)
    || catalog.find((e) => e.branches.length > 1);
  assert.ok(m, 'the catalog has no branching module');
  return m;
}

/**
 * The tree item of a block, by its accessible name.
 * @param {Page} page
 * @param {string|RegExp} name
 */
export function block(page, name) {
  return page.getByRole('treeitem', { name });
}

/**
 * The card (the visible box) of a tree item.
 * @param {Locator} item
 */
export function card(item) {
  return item.locator(':scope > .card');
}

/** @param {Page} page */
export function mainBlock(page) {
  return page.getByRole('treeitem', { name: /^Main Callflow Block/ });
}

/**
 * Shows a catalog action (searching for it) and returns its item.
 * @param {Page} page
 * @param {string} moduleName
 */
export async function catalogItem(page, moduleName) {
  const panel = page.getByRole('tabpanel', { name: 'Actions' });
  if (!(await panel.isVisible())) await page.getByRole('tab', { name: 'Actions' }).click();
  const search = page.getByRole('searchbox', { name: 'Search actions' });
  await search.fill('');
  const item = page.locator(`.cat-item[data-module="${moduleName}"]`);
  if (!(await item.isVisible())) {
    const label = await item.locator('.cat-label').textContent();
    await search.fill(String(label));
  }
  await item.waitFor({ state: 'visible' });
  return item;
}

/**
 * Drags a catalog action onto a block of the diagram.
 * @param {Page} page
 * @param {string} moduleName
 * @param {Locator} target a tree item
 */
export async function dragAction(page, moduleName, target) {
  const item = await catalogItem(page, moduleName);
  await item.dragTo(card(target));
}

/** The open modal dialog. @param {Page} page */
export function dialog(page) {
  return page.locator('dialog[open]');
}

/**
 * Fills the Pivot pop-up: URL, Method, Format, and some advanced fields.
 * @param {Page} page
 * @param {{url: string, method: 'GET'|'POST', format: 'TwiML'|'Kazoo JSON', debug?: boolean, timeoutMs?: number}} o
 */
export async function fillPivot(page, o) {
  const d = dialog(page);
  await d.getByLabel('URL', { exact: true }).fill(o.url);
  await d.getByLabel('Method', { exact: true }).selectOption({ label: o.method });
  await d.getByLabel('Format', { exact: true }).selectOption({ label: o.format });
  if (o.debug !== undefined || o.timeoutMs !== undefined) {
    await d.getByText('Advanced settings').click();
    if (o.debug) await d.getByLabel('Debug', { exact: true }).check();
    if (o.timeoutMs !== undefined) await d.getByLabel('Timeout (ms)', { exact: true }).fill(String(o.timeoutMs));
  }
}

/**
 * Opens the Save menu and picks an item.
 * @param {Page} page
 * @param {'Save Changes'|'Save and Duplicate'|'Save and Create'|'Cancel'} item
 */
export async function saveMenu(page, item) {
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('menuitem', { name: item }).click();
}

/**
 * Waits until the editor says its changes are saved.
 * @param {Page} page
 */
export async function waitSaved(page) {
  await page.getByTestId('save-state').filter({ hasText: /^Saved$/ }).waitFor();
}

/**
 * The id of the call flow open in the editor (from the URL).
 * @param {Page} page
 */
export function openFlowId(page) {
  const m = new URL(page.url()).pathname.match(/^\/callflows\/([^/]+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

/**
 * Presses Tab (or Shift+Tab) until an element has the focus: the keyboard
 * way to reach a control.
 * @param {Page} page
 * @param {Locator} target
 * @param {{back?: boolean, max?: number}} [o]
 */
export async function tabTo(page, target, o = {}) {
  const el = await target.elementHandle();
  assert.ok(el, 'tabTo: no such element');
  for (let i = 0; i < (o.max || 60); i++) {
    if (await el.evaluate((e) => e === document.activeElement)) return;
    await page.keyboard.press(o.back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`tabTo: could not reach ${target}`);
}

/**
 * The accessible name of the focused element.
 * @param {Page} page
 */
export async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    return e ? e.getAttribute('aria-label') || e.textContent || '' : '';
  });
}

/**
 * Opens a call flow from the list by its name.
 * @param {Page} page
 * @param {string} name
 */
export async function openFromList(page, name) {
  await page.getByTestId('flow-list').getByRole('link', { name: new RegExp(`^${name}\\b`) }).click();
  await page.locator('#flow-title').filter({ hasText: name }).waitFor();
}

/**
 * Asserts that no dialog opens within a moment.
 * @param {Page} page
 */
export async function assertNoDialog(page) {
  await page.waitForTimeout(400);
  assert.equal(await page.locator('dialog[open]').count(), 0, 'no dialog should be open');
}

/**
 * A Kazoo flow for tests: a menu whose key 1 leads to a Pivot.
 * @param {string} name
 * @param {string[]} numbers
 * @param {string} menuModule
 */
export function sampleFlow(name, numbers, menuModule = 'menu') {
  return {
    name, numbers,
    flow: {
      module: menuModule, data: {},
      children: {
        1: { module: 'pivot', data: { voice_url: 'https://example.com/one', method: 'get', req_format: 'twiml' } },
        _: { module: 'tts', data: { text: 'Goodbye' } },
      },
    },
  };
}

/**
 * Drags one element onto another with real mouse steps (the target is
 * scrolled into view first, so nothing moves mid-drag).
 * @param {Page} page
 * @param {Locator} src
 * @param {Locator} dst
 */
export async function dragWithMouse(page, src, dst) {
  await dst.scrollIntoViewIfNeeded();
  await src.scrollIntoViewIfNeeded();
  const a = await src.boundingBox();
  const b = await dst.boundingBox();
  assert.ok(a && b, 'dragWithMouse: both ends visible');
  await page.mouse.move(a.x + 40, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + 60, a.y + a.height / 2 + 10, { steps: 5 });
  await page.mouse.move(b.x + 40, b.y + b.height / 2, { steps: 10 });
  await page.mouse.up();
}

/**
 * Polls until fn returns the expected value (the page may still be busy
 * when a key press returns, on a loaded machine); fails with the last value.
 * @template T
 * @param {() => Promise<T>} fn
 * @param {T} expected
 * @param {string} [what]
 * @param {number} [timeout]
 */
export async function eventually(fn, expected, what = 'value', timeout = 5000) {
  const end = Date.now() + timeout;
  /** @type {T} */
  let last = await fn();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    last = await fn();
  }
  assert.deepEqual(last, expected, what);
}

/**
 * Polls until the focused element's name matches.
 * @param {Page} page
 * @param {RegExp} re
 */
export async function focusMatches(page, re) {
  const end = Date.now() + 5000;
  let name = await focused(page);
  while (!re.test(name) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    name = await focused(page);
  }
  assert.match(name, re);
  // Let a re-render that is already scheduled finish before the next key,
  // so a loaded machine does not drop it.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(undefined)))));
}
