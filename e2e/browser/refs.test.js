// Names, not hex ids: blocks and branches show the referenced document's
// name; pop-ups pick documents from lists that filter as you type and
// create them in a side dialog; an id that names nothing is flagged; a
// Pivot's child reads "If the server fails".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, screenshot, signIn } from './lib/harness.js';
import { block, card, dialog, openFromList } from './lib/ui.js';

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
 * @param {string} kind
 * @param {Record<string, unknown>} doc
 */
async function put(kind, doc) {
  const r = await srv.api.call('PUT', `/${kind}`, doc);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return /** @type {string} */ (r.body.data.id);
}

test('a Time of Day block and its branches read the rules\' names; unknown ids are flagged', async () => {
  const rule = await put('temporal_rules', { name: 'Business hours', cycle: 'weekly', interval: 1, wdays: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'], time_window_start: 32400, time_window_stop: 61200 });
  await srv.api.create({
    name: 'Hours', numbers: ['7101'],
    flow: {
      module: 'temporal_route', data: { rules: [rule], timezone: 'Europe/Paris' },
      children: {
        [rule]: { module: 'tts', data: { text: 'We are open' } },
        _: { module: 'tts', data: { text: 'We are closed' } },
        '0123456789abcdef0123456789abcdef': { module: 'tts', data: { text: 'Ghost' } },
      },
    },
  });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Hours');
  const tod = block(page, /^Time of day/);
  await tod.getByText('Business hours').first().waitFor();
  await page.locator('.key-pill', { hasText: 'Business hours' }).waitFor();
  assert.equal(await page.locator('.key-pill', { hasText: rule }).count(), 0, 'no branch shows the hex id');
  assert.match(await tod.first().getAttribute('aria-label') || '', /No time-of-day rule has the id 0123456789abcdef/);

  // The pop-up picks rules by name and creates one in a side dialog.
  await card(tod.first()).dblclick();
  const d = dialog(page);
  await d.getByTestId('ref-rules').getByText('Business hours').waitFor();
  await d.getByTestId('ref-new-rules').click();
  const side = page.locator('dialog[open].side');
  await side.getByLabel('Name', { exact: true }).fill('Saturday mornings');
  await side.getByLabel('Repeats', { exact: true }).selectOption({ label: 'weekly' });
  await side.getByLabel('saturday').check();
  await side.getByLabel('Opens at').fill('08:00');
  await side.getByLabel('Closes at').fill('12:00');
  await side.getByTestId('doc-save').click();
  await side.waitFor({ state: 'detached', timeout: 10_000 }).catch(async (e) => {
    throw new Error(`${e}: ${await page.locator('dialog[open] [data-testid=doc-error], dialog[open] .field-error').allTextContents()}`);
  });
  const holidays = d.getByTestId('ref-rules').getByLabel('Saturday mornings');
  assert.equal(await holidays.isChecked(), true, 'the new rule is picked');
  await d.getByTestId('ref-search-rules').fill('busi');
  assert.equal(await d.getByTestId('ref-rules').getByText('Saturday mornings').count(), 1, 'chosen rules stay listed while filtering');
  await screenshot(page, 'refs-time-of-day-popup');
  // A time zone is checked in the pop-up, and the message goes once fixed.
  const zone = d.getByLabel('Time zone', { exact: true });
  await zone.fill('Mars/Olympus_Mons');
  await d.getByTestId('params-ok').click();
  await d.getByText('is not a time zone').waitFor();
  await zone.fill('Europe/Paris');
  assert.equal(await d.getByText('is not a time zone').count(), 0, 'the message clears when the field is edited');
  await d.getByTestId('params-ok').click();
  await tod.first().getByText('Business hours, Saturday mornings').waitFor();
  const rules = (await srv.api.call('GET', '/temporal_rules?paginate=false')).body.data;
  assert.ok(rules.some((/** @type {{name: string}} */ r) => r.name === 'Saturday mornings'), 'the rule was stored');
  await screenshot(page, 'refs-time-of-day');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('a Play block picks its media by name, made in a side dialog; a Pivot\'s child is "If the server fails"', async () => {
  await srv.api.create({
    name: 'Media and Pivot', numbers: ['7102'],
    flow: { module: 'play', data: { id: 'https://example.com/a.wav' }, children: { _: { module: 'pivot', data: { voice_url: 'https://example.com/x' }, children: { _: { module: 'tts', data: { text: 'Sorry' } } } } } },
  });
  const { page, errors } = await newPage(browser, srv.url);
  await signIn(page, srv.adminKey);
  await openFromList(page, 'Media and Pivot');
  await page.locator('.key-pill', { hasText: 'If the server fails' }).waitFor();
  await card(block(page, /^Play media/).first()).dblclick();
  const d = dialog(page);
  await d.getByTestId('ref-new-id').click();
  const side = page.locator('dialog[open].side');
  await side.getByLabel('Name', { exact: true }).fill('Welcome greeting');
  await side.getByTestId('media-file').waitFor();
  await side.getByTestId('doc-save').click();
  await side.waitFor({ state: 'detached' });
  assert.equal(await d.getByTestId('ref-id').getByLabel('Welcome greeting').isChecked(), true);
  await d.getByTestId('params-ok').click();
  await block(page, /^Play media/).first().getByText('Welcome greeting').waitFor();
  assert.deepEqual(errors, []);
  await page.context().close();
});
