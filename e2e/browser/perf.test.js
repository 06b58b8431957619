// How long a 200-node flow takes to become interactive in headless
// Chromium: measured and reported (test diagnostics), not asserted beyond a
// generous sanity bound.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { branchingModule } from './lib/ui.js';

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

/**
 * A menu of 10 menus of 10 options, each a TTS followed by a Pivot: 211 blocks.
 * @param {string} menu
 */
function bigFlow(menu) {
  /** @type {Record<string, unknown>} */
  const top = {};
  let n = 1;
  for (const a of KEYS) {
    /** @type {Record<string, unknown>} */
    const sub = {};
    for (const b of KEYS) {
      sub[b] = {
        module: 'tts', data: { text: `Option ${a}${b}` },
        children: { _: { module: 'pivot', data: { voice_url: `https://example.com/${a}${b}`, req_format: 'twiml' } } },
      };
      n += 2;
    }
    top[a] = { module: menu, data: { name: `Menu ${a}` }, children: sub };
    n += 1;
  }
  return { doc: { name: 'Big flow', numbers: ['8000'], flow: { module: menu, data: { name: 'Top' }, children: top } }, blocks: n };
}

test('a 200-node flow: time to interactive', async (t) => {
  const menu = branchingModule(await srv.api.catalog()).name;
  const { doc, blocks } = bigFlow(menu);
  assert.ok(blocks >= 200);
  const created = await srv.api.create(doc);
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);

  // Cold: load the page on the flow's address, until every block is drawn
  // and the tree has the focus (keys work from then on).
  const ready = (/** @type {number} */ n) => document.querySelectorAll('[role=treeitem]').length === n
    && Boolean(document.querySelector('[role=treeitem][tabindex="0"]'));
  const focusedItem = () => document.activeElement?.getAttribute('role') === 'treeitem';
  /** @type {number[]} */
  const cold = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(`/callflows/${created.doc.id}`);
    await page.waitForFunction(ready, blocks + 1, { polling: 'raf' });
    cold.push(await page.evaluate(() => performance.now()));
    await page.waitForFunction(focusedItem, null, { timeout: 5000 });
  }
  // Warm: open it from the list while another flow is open.
  /** @type {number[]} */
  const warm = [];
  for (let i = 0; i < 3; i++) {
    await page.getByTestId('new-flow').click();
    await page.waitForFunction(() => document.querySelectorAll('[role=treeitem]').length === 1);
    const t0 = Date.now();
    await page.getByTestId('flow-list').getByRole('link', { name: /^Big flow/ }).click();
    await page.waitForFunction(ready, blocks + 1, { polling: 'raf' });
    warm.push(Date.now() - t0);
  }
  // One edit: a full re-render of the diagram and toolbar.
  const render = await page.evaluate(() => {
    const ed = /** @type {any} */ (document.querySelector('sb-editor'));
    const times = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      ed.render();
      document.body.getBoundingClientRect(); // force layout
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[5];
  });
  // Edits, as the pop-up's Apply makes them (the editor's change()), each
  // timed with the performance API from the change to the layout done: the
  // goal is < 16 ms per edit at 200 blocks. A MutationObserver says which
  // blocks an edit touched: only the edited one.
  const edits = await page.evaluate(() => {
    const ed = /** @type {any} */ (document.querySelector('sb-editor'));
    /** @type {any[]} */
    const nodes = [];
    const walk = (/** @type {any} */ n) => { nodes.push(n); for (const b of n.children) walk(b.node); };
    walk(ed.doc.flow);
    const tts = nodes.filter((n) => n.module === 'tts');
    /** @type {Set<string>} */
    const touched = new Set();
    const mo = new MutationObserver((recs) => {
      for (const r of recs) {
        const el = r.target instanceof Element ? r.target : r.target.parentElement;
        const item = el && el.closest('[role=treeitem]');
        touched.add(item instanceof HTMLElement ? item.dataset.uid || '?' : '?');
      }
    });
    /** @type {number[]} */
    const times = [];
    /** @type {string[][]} */
    const touches = [];
    for (let i = 0; i < 41; i++) {
      const n = tts[(i * 7) % tts.length];
      ed.diagram.selected = n.uid;
      ed.render();
      document.body.getBoundingClientRect();
      touched.clear();
      mo.observe(ed.diagram.tree, { subtree: true, childList: true, attributes: true, characterData: true });
      performance.mark('edit-start');
      ed.change(() => { n.data = { ...n.data, text: `Edited ${i}` }; }, { select: n.uid });
      document.body.getBoundingClientRect(); // the layout, forced
      performance.mark('edit-end');
      mo.disconnect();
      times.push(performance.measure('edit', 'edit-start', 'edit-end').duration);
      touches.push([...touched].filter((u) => u !== n.uid));
    }
    // Undo and redo swap in a copy of the document: blocks are kept by uid.
    /** @type {number[]} */
    const undos = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      if (i % 2) ed.redo(); else ed.undo();
      document.body.getBoundingClientRect();
      undos.push(performance.now() - t0);
    }
    const undo = Math.min(...undos);
    const sorted = [...times].sort((a, b) => a - b);
    return { min: sorted[0], median: sorted[20], p90: sorted[36], max: sorted[40], others: touches.flat(), undo };
  });
  const editFigure = `edit ${edits.min.toFixed(1)} ms best, ${edits.median.toFixed(1)} ms median, ${edits.p90.toFixed(1)} ms p90 of 41 (goal < 16 ms); undo/redo ${edits.undo.toFixed(1)} ms best of 10`;
  t.diagnostic(`${editFigure}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  assert.deepEqual(edits.others, [], 'an edit touches only the edited block');
  // Wall-clock time on a machine others load too: the best of 41 edits is
  // what the work costs (goal < 16 ms); the median gets a loaded margin.
  assert.ok(edits.min < 16, `an edit re-renders in ${edits.min.toFixed(1)} ms at best (goal < 16 ms)`);
  assert.ok(edits.median < 100, `an edit re-renders in ${edits.median.toFixed(1)} ms, median`);
  // Keyboard response: ArrowDown to the next block.
  const key = await page.evaluate(async () => {
    const t0 = performance.now();
    document.activeElement?.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    return performance.now() - t0;
  });
  const cls = await page.evaluate(() => new Promise((resolve) => {
    let sum = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) sum += /** @type {any} */ (e).value || 0;
    }).observe({ type: 'layout-shift', buffered: true });
    setTimeout(() => resolve(sum), 100);
  }));
  await page.getByRole('button', { name: 'Fit' }).click();
  await screenshot(page, '22-200-blocks');
  const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const figure = `200-node flow (${blocks} blocks): interactive ${median(cold).toFixed(0)} ms after navigation (cold page load, median of 3: ${cold.map((x) => x.toFixed(0)).join('/')} ms); `
    + `opened from the list in ${median(warm)} ms; re-render ${render.toFixed(1)} ms; `
    + `${editFigure}; `
    + `ArrowDown ${key.toFixed(1)} ms; layout shift ${Number(cls).toFixed(3)}; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  t.diagnostic(figure);
  assert.ok(median(cold) < 10_000, 'interactive within 10 s');
  assert.deepEqual(errors, []);
  await page.context().close();
});
