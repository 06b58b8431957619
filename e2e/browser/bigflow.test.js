// Big flows: Fit shows a 211-block flow whole (below 50 %), "Find a
// block" jumps to a match inside a collapsed branch, the minimap frames
// what is on screen and moves the view on a click or a drag, the side
// panels fold away for more diagram.

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
  // All of it on screen: no minimap.
  await page.locator('sb-minimap').waitFor({ state: 'hidden' });

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

  // The minimap shows at 100 %, and its frame follows the jump.
  const minimap = page.locator('sb-minimap');
  await minimap.waitFor();
  /** @returns {Promise<{view: number[], scale: number, scroll: number[], hit: number[]}>} */
  const mapState = () => page.evaluate(() => {
    const m = /** @type {HTMLElement} */ (document.querySelector('sb-minimap'));
    const canvas = /** @type {HTMLElement} */ (document.querySelector('.canvas'));
    const card = document.querySelector('.ti.found > .card') || document.querySelector('[role=treeitem][aria-selected="true"] > .card');
    const cr = canvas.getBoundingClientRect();
    const r = card ? card.getBoundingClientRect() : cr;
    return {
      view: (m.dataset.view || '').split(',').map(Number), scale: Number(m.dataset.scale),
      scroll: [canvas.scrollLeft, canvas.scrollTop],
      hit: [r.left - cr.left + canvas.scrollLeft + r.width / 2, r.top - cr.top + canvas.scrollTop + r.height / 2],
    };
  });
  const inFrame = (/** @type {{view: number[], scale: number, hit: number[]}} */ st) => {
    const [x, y, w, h] = st.view;
    const hx = st.hit[0] * st.scale;
    const hy = st.hit[1] * st.scale;
    return hx >= x - 1 && hx <= x + w + 1 && hy >= y - 1 && hy <= y + h + 1;
  };
  await page.waitForFunction(() => (document.querySelector('sb-minimap')?.getAttribute('data-view') || '') !== '');
  let st = await mapState();
  assert.ok(inFrame(st), `the minimap frames the match: ${JSON.stringify(st)}`);
  await screenshot(page, 'big-flow-minimap');

  // A click on the minimap's top-left corner takes the view there; a drag
  // to the bottom-right moves it along.
  const box = await page.getByTestId('minimap-canvas').boundingBox();
  assert.ok(box, 'the minimap is on screen');
  await page.mouse.click(box.x + 2, box.y + 2);
  await page.waitForFunction(() => { const c = /** @type {HTMLElement} */ (document.querySelector('.canvas')); return c.scrollLeft < 5 && c.scrollTop < 5; });
  await page.mouse.move(box.x + 4, box.y + 4);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 4 });
  await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => {
    const c = /** @type {HTMLElement} */ (document.querySelector('.canvas'));
    return c.scrollTop + c.clientHeight >= c.scrollHeight - 5 && c.scrollLeft + c.clientWidth >= c.scrollWidth - 5;
  });
  st = await mapState();
  const [vx, vy, vw, vh] = st.view;
  const [cw, ch] = (await minimap.getAttribute('data-size') || '').split(',').map(Number);
  assert.ok(vx + vw >= cw - 2 && vy + vh >= ch - 2, `the frame followed the drag to the bottom-right: ${st.view} in ${cw}×${ch}`);

  // Find again after panning away: the view and the frame go back to it.
  await page.getByTestId('find-block').fill('option 13');
  await page.getByTestId('find-block').press('Enter');
  await page.getByRole('treeitem', { name: /Text to speech, Option 13/ }).and(page.locator('[aria-selected="true"]')).waitFor();
  await page.waitForFunction(() => document.querySelector('.ti.found') !== null);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(null)))));
  st = await mapState();
  assert.ok(inFrame(st), `the minimap frames the second match: ${JSON.stringify(st)}`);

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
