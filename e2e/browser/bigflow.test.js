// Big flows: Fit shows a 211-block flow whole (below 50 %), "Find a
// block" jumps to a match inside a collapsed branch, the side panels fold
// away for more diagram.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { openFromList } from './lib/ui.js';

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

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

test('a 211-block flow fits, finds, and folds', async () => {
  /** @type {Record<string, unknown>} */
  const top = {};
  for (const a of KEYS) {
    /** @type {Record<string, unknown>} */
    const sub = {};
    for (const b of KEYS) sub[b] = { module: 'tts', data: { text: `Option ${a}${b}` }, children: { _: { module: 'pivot', data: { voice_url: `https://example.com/${a}${b}` } } } };
    top[a] = { module: 'menu', data: { name: `Menu ${a}` }, children: sub };
  }
  await srv.api.create({ name: 'Big flow', numbers: ['8000'], flow: { module: 'menu', data: { name: 'Top' }, children: top } });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Big flow');

  await page.getByRole('button', { name: 'Fit' }).click();
  const zoom = Number((await page.getByRole('button', { name: /Reset zoom/ }).textContent())?.replace('%', ''));
  assert.ok(zoom < 50, `fit goes below 50 % (${zoom} %)`);
  const fits = await page.evaluate(() => {
    const canvas = /** @type {HTMLElement} */ (document.querySelector('.canvas'));
    return [canvas.scrollWidth, canvas.clientWidth, canvas.scrollHeight, canvas.clientHeight];
  });
  await screenshot(page, 'big-flow-fit');
  assert.ok(fits[0] <= fits[1] + 2 && fits[2] <= fits[3] + 2, `the whole flow shows: ${fits.join(', ')} at ${zoom} %`);
  await screenshot(page, 'big-flow-fit');

  // Collapse menu 5, then find one of its options: the branch opens.
  await page.getByRole('button', { name: 'Reset zoom' }).click();
  const menu5 = page.getByRole('treeitem', { name: /^Key 5: Menu/ });
  await menu5.locator(':scope > .card .card-toggle').click();
  assert.equal(await menu5.getAttribute('aria-expanded'), 'false');
  await page.getByTestId('find-block').fill('option 57');
  await page.getByTestId('find-block').press('Enter');
  const hit = page.getByRole('treeitem', { name: /Text to speech, Option 57/ });
  await hit.waitFor();
  assert.equal(await hit.getAttribute('aria-selected'), 'true');
  assert.equal(await menu5.getAttribute('aria-expanded'), 'true');

  // Fold both panels: the diagram gets the room.
  const before = await page.locator('.canvas').evaluate((e) => e.clientWidth);
  await page.getByRole('button', { name: 'Hide the call-flow list' }).click();
  await page.getByRole('button', { name: 'Hide the right panel' }).click();
  const after = await page.locator('.canvas').evaluate((e) => e.clientWidth);
  assert.ok(after > before + 400, `canvas ${before} → ${after} px`);
  await screenshot(page, 'big-flow-folded');
  await page.getByRole('button', { name: 'Show the right panel' }).click();
  assert.deepEqual(errors, []);
  await page.context().close();
});
