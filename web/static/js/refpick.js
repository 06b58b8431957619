// @ts-check
// A field that names another stored document (a media file, a menu, a
// time-of-day rule …): picked by name from a list that filters as you
// type, with "New …" and "Edit" opening the document in a side dialog.
// An id that names nothing is flagged, never dropped.

import { h, uid } from './dom.js';
import { icon } from './icons.js';
import { kindInfo } from './kinds.js';

/** @typedef {import('./forms.js').FieldWidget} FieldWidget */
/** @typedef {import('./schema.js').Field} Field */
/** @typedef {import('./directory.js').Directory} Directory */
/** @typedef {import('./directory.js').Row} Row */

/**
 * @param {{kind: string, field: Field, value: unknown, present: boolean, directory: Directory, edit: (id?: string) => Promise<Row|null>}} o
 * @returns {FieldWidget}
 */
export function refWidget(o) {
  const info = kindInfo(o.kind);
  const f = o.field;
  const multi = f.kind === 'list' || (f.schema.type === 'array');
  const id = uid(`ref-${f.key}`);
  const errId = `${id}-err`;
  /** @type {string[]} */
  let chosen = multi ? (Array.isArray(o.value) ? o.value.map(String) : []) : typeof o.value === 'string' && o.value ? [o.value] : [];
  const search = h('input', {
    type: 'search', class: 'input ref-search', placeholder: `Search ${info.title.toLowerCase()}`, 'aria-label': `Search ${info.title.toLowerCase()}`,
    autocomplete: 'off', 'aria-controls': id, 'data-testid': `ref-search-${f.key}`,
  });
  const err = h('p', { id: errId, class: 'field-error', role: 'alert' });
  const list = h('div', {
    id, class: 'ref-list', role: multi ? 'group' : 'radiogroup', 'aria-labelledby': `${id}-label`, 'aria-describedby': errId, 'data-field': f.key,
    'data-testid': `ref-${f.key}`,
  });
  const newBtn = h('button', { type: 'button', class: 'btn secondary small', 'data-testid': `ref-new-${f.key}` }, icon('plus', 'icon sm'), `New ${info.one}…`);
  const editBtn = h('button', { type: 'button', class: 'btn ghost small', 'data-testid': `ref-edit-${f.key}` }, icon('edit', 'icon sm'), 'Edit selected…');
  const name = `${id}-pick`;

  const render = () => {
    const rows = o.directory.rows.get(o.kind) || [];
    const q = search.value.trim().toLowerCase();
    const known = new Set(rows.map((r) => r.id));
    /** @type {HTMLElement[]} */
    const items = [];
    if (!multi && !f.required) items.push(option('', 'None', ''));
    for (const c of chosen) {
      if (!known.has(c)) items.push(option(c, /^https?:/.test(c) ? `Address: ${c}` : `Unknown id ${c}`, 'missing'));
    }
    for (const r of rows) {
      const label = info.nameOf(r) || r.id;
      const detail = info.detail ? info.detail(r) : '';
      if (q && !`${label} ${detail}`.toLowerCase().includes(q) && !chosen.includes(r.id)) continue;
      items.push(option(r.id, label, detail));
    }
    if (!rows.length) items.push(h('p', { class: 'empty small' }, `No ${info.title.toLowerCase()} yet: create one with “New ${info.one}…”.`));
    list.replaceChildren(...items);
    const missing = chosen.filter((c) => !known.has(c) && !/^https?:/.test(c));
    err.textContent = missing.length && o.directory.rows.has(o.kind) ? `No ${info.one} has the id ${missing.join(', ')}.` : '';
    editBtn.disabled = !chosen.some((c) => known.has(c));
  };

  /**
   * @param {string} value
   * @param {string} label
   * @param {string} detail
   */
  function option(value, label, detail) {
    const input = h('input', { type: multi ? 'checkbox' : 'radio', name, value, checked: value ? chosen.includes(value) : !chosen.length });
    input.addEventListener('change', () => {
      if (multi) chosen = input.checked ? [...chosen, value] : chosen.filter((c) => c !== value);
      else chosen = value ? [value] : [];
      err.textContent = '';
      editBtn.disabled = !chosen.length;
    });
    return h('label', { class: `ref-option${detail === 'missing' ? ' missing' : ''}` }, input,
      h('span', { class: 'ref-name' }, label), detail && detail !== 'missing' ? h('span', { class: 'ref-detail' }, detail) : null);
  }

  search.addEventListener('input', render);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });
  newBtn.addEventListener('click', async () => {
    const doc = await o.edit();
    if (!doc) return;
    chosen = multi ? [...chosen, doc.id] : [doc.id];
    search.value = '';
    render();
  });
  editBtn.addEventListener('click', async () => {
    const known = new Set((o.directory.rows.get(o.kind) || []).map((r) => r.id));
    const target = chosen.find((c) => known.has(c));
    if (!target) return;
    await o.edit(target);
    render();
  });
  render();
  if (!o.directory.rows.has(o.kind)) void o.directory.load(o.kind).then(render, render);

  const el = h('div', { class: 'field field-ref' },
    h('div', { class: 'label-row' }, h('span', { class: 'field-label', id: `${id}-label`, title: `Field name: ${f.key}` }, f.title),
      f.required ? h('span', { class: 'req', 'aria-hidden': 'true', title: 'Required' }, '*') : null),
    search, list, h('div', { class: 'inline ref-actions' }, newBtn, editBtn), err);
  return {
    el,
    read: () => {
      if (multi) return { value: chosen.length || o.present ? [...chosen] : undefined };
      return { value: chosen[0] || undefined };
    },
    showError: (m) => { if (m) err.textContent = m; },
    focus: () => search.focus(),
  };
}
