// @ts-check
// A whole call flow as a file or a copy: delete (with "used by …"),
// duplicate as it is stored (no dummy edit needed), export as JSON,
// import a JSON file as a new call flow.

import { h } from './dom.js';
import { deleteDoc } from './pages.js';

/** @typedef {import('./api.js').Api} Api */

/**
 * A stored flow without what makes it this one (id, revision) and, for a
 * copy, without its numbers and patterns (they belong to the original).
 * @param {Record<string, unknown>} doc
 * @param {boolean} copy
 */
function strip(doc, copy) {
  const { id: _id, revision: _rev, ...rest } = doc;
  if (copy) {
    rest.numbers = [];
    rest.patterns = [];
    rest.name = `Copy of ${typeof doc.name === 'string' && doc.name ? doc.name : 'call flow'}`;
  }
  return rest;
}

/**
 * Duplicates the stored flow; resolves with the copy's id.
 * @param {Api} api
 * @param {string} id
 */
export async function duplicateFlow(api, id) {
  const r = await api.getCallflow(id);
  const c = await api.createCallflow(strip(r.data, true));
  return /** @type {string} */ (c.data.id);
}

/**
 * Downloads the stored flow as a JSON file.
 * @param {Api} api
 * @param {string} id
 */
export async function exportFlow(api, id) {
  const r = await api.getCallflow(id);
  const name = String(r.data.name || 'callflow').replace(/[^\w.-]+/g, '_');
  const blob = new Blob([JSON.stringify({ data: strip(r.data, false) }, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `${name}.json`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Asks for a JSON file and stores it as a new call flow; resolves with
 * its id, or null when nothing was chosen. Accepts a Kazoo envelope
 * ({"data": …}) or the bare document.
 * @param {Api} api
 * @returns {Promise<string|null>}
 */
export function importFlow(api) {
  return new Promise((resolve, reject) => {
    const input = h('input', { type: 'file', accept: 'application/json,.json', hidden: true, 'data-testid': 'import-file' });
    input.addEventListener('change', async () => {
      input.remove();
      const f = input.files && input.files[0];
      if (!f) { resolve(null); return; }
      try {
        const v = JSON.parse(await f.text());
        const doc = v && typeof v === 'object' && v.data && typeof v.data === 'object' ? v.data : v;
        if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('The file holds no call flow (a JSON object).');
        const c = await api.createCallflow(strip(doc, false));
        resolve(/** @type {string} */ (c.data.id));
      } catch (e) {
        reject(e instanceof SyntaxError ? new Error('The file is not JSON.') : e);
      }
    });
    input.addEventListener('cancel', () => { input.remove(); resolve(null); });
    document.body.append(input);
    input.click();
  });
}

/**
 * Deletes the stored flow after saying who uses it.
 * @param {string} id
 * @param {string} name
 * @param {string|undefined} revision
 * @param {(msg: string, kind: 'error'|'success') => void} say
 */
export async function deleteFlow(id, name, revision, say) {
  return deleteDoc('callflows', id, name, revision, say);
}

