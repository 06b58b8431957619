// @ts-check
// In-page dialogs on the native <dialog> element: focus is trapped and
// restored, Escape cancels. Never window.confirm.

import { h, uid } from './dom.js';
import { icon } from './icons.js';

/**
 * @typedef {{label: string, value?: string, kind?: 'primary'|'danger'|'secondary', submit?: boolean, testid?: string}} DialogAction
 */

/**
 * Opens a modal dialog. Submit buttons call onSubmit(value); it returns
 * the dialog's result, or undefined to keep the dialog open (a field is
 * wrong). Other buttons, Escape and the close button resolve null.
 * @template T
 * @param {{
 *   title: string,
 *   body: Array<Node|string|null|false>,
 *   actions: DialogAction[],
 *   onSubmit?: (value: string) => T|undefined,
 *   className?: string,
 *   initialFocus?: HTMLElement|null,
 *   role?: 'dialog'|'alertdialog',
 *   describedBy?: string,
 * }} opts
 * @returns {Promise<T|null>}
 */
export function modal(opts) {
  const titleId = uid('dlg-title');
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    /** @type {T|null} */
    let result = null;
    const form = h('form', { class: 'modal-form', novalidate: true });
    const dialog = h('dialog', {
      class: `modal ${opts.className || ''}`.trim(),
      'aria-labelledby': titleId,
      'aria-describedby': opts.describedBy,
      role: opts.role === 'alertdialog' ? 'alertdialog' : undefined,
    }, form);
    const close = () => dialog.close();
    const header = h('header', { class: 'modal-head' },
      h('h2', { id: titleId }, opts.title),
      h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Close', title: 'Close', onclick: close }, icon('close')));
    const footer = h('footer', { class: 'modal-foot' });
    /** @type {string} */
    let submitValue = '';
    for (const a of opts.actions) {
      const btn = h('button', {
        type: a.submit ? 'submit' : 'button',
        class: `btn ${a.kind || 'secondary'}`,
        value: a.value || '',
        'data-testid': a.testid,
      }, a.label);
      if (a.submit) btn.addEventListener('click', () => { submitValue = a.value || ''; });
      else btn.addEventListener('click', close);
      footer.append(btn);
    }
    form.append(header, h('div', { class: 'modal-body' }, ...opts.body), footer);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = opts.onSubmit ? opts.onSubmit(submitValue) : /** @type {T} */ (/** @type {unknown} */ (submitValue));
      if (v === undefined) return;
      result = v;
      close();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (before && before.isConnected) before.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = opts.initialFocus || form.querySelector('input:not([type=hidden]), select, textarea') || footer.querySelector('.primary, .danger');
    if (first instanceof HTMLElement) first.focus();
  });
}

/**
 * A yes/no question in the page.
 * @param {{title: string, message: string|Node, confirm: string, cancel?: string, danger?: boolean}} o
 * @returns {Promise<boolean>}
 */
export async function confirmDialog(o) {
  const msgId = uid('dlg-msg');
  const r = await modal({
    title: o.title,
    role: 'alertdialog',
    describedBy: msgId,
    className: 'confirm',
    body: [h('div', { id: msgId, class: 'confirm-message' }, o.message)],
    actions: [
      { label: o.cancel || 'Cancel', kind: 'secondary', testid: 'confirm-cancel' },
      { label: o.confirm, kind: o.danger ? 'danger' : 'primary', submit: true, value: 'yes', testid: 'confirm-ok' },
    ],
    onSubmit: () => true,
  });
  return r === true;
}

/**
 * @typedef {{id: string, label: string, detail?: string, icon?: string, group?: string, disabled?: boolean}} PickItem
 */

/**
 * A searchable list to pick one item from (actions, blocks), usable with
 * the keyboard alone: type to filter, arrows to move, Enter to choose.
 * @param {{title: string, label: string, items: PickItem[], empty: string, help?: string}} o
 * @returns {Promise<string|null>}
 */
export async function pickerDialog(o) {
  const listId = uid('pick-list');
  const search = h('input', {
    type: 'search', class: 'input', role: 'combobox', 'aria-expanded': 'true', 'aria-controls': listId,
    'aria-autocomplete': 'list', 'aria-label': o.label, placeholder: 'Type to filter…', autocomplete: 'off',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'pick-list', 'aria-label': o.label });
  const empty = h('p', { class: 'empty small', hidden: true }, o.empty);
  /** @type {PickItem[]} */
  let shown = [];
  let active = 0;
  /** @type {string|null} */
  let chosen = null;
  const render = () => {
    const q = search.value.trim().toLowerCase();
    shown = o.items.filter((it) => !it.disabled && (!q || `${it.label} ${it.detail || ''} ${it.group || ''}`.toLowerCase().includes(q)));
    if (active >= shown.length) active = Math.max(0, shown.length - 1);
    list.replaceChildren(...shown.map((it, i) => h('li', {
      id: `${listId}-${i}`, role: 'option', class: 'pick-item', 'aria-selected': i === active ? 'true' : 'false',
      'data-id': it.id,
      onmousedown: (/** @type {MouseEvent} */ e) => e.preventDefault(),
      onclick: () => { active = i; submit(); },
    }, it.icon ? icon(it.icon) : null, h('span', { class: 'pick-label' }, it.label),
    it.detail || it.group ? h('span', { class: 'pick-detail' }, it.detail || it.group || '') : null)));
    empty.hidden = shown.length > 0;
    if (shown.length) {
      search.setAttribute('aria-activedescendant', `${listId}-${active}`);
      const el = list.children[active];
      if (el) el.scrollIntoView({ block: 'nearest' });
    } else search.removeAttribute('aria-activedescendant');
  };
  const submit = () => {
    const it = shown[active];
    if (!it) return;
    chosen = it.id;
    const form = search.closest('form');
    if (form) form.requestSubmit();
  };
  search.addEventListener('input', () => { active = 0; render(); });
  search.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { active = Math.min(shown.length - 1, active + 1); render(); e.preventDefault(); }
    else if (e.key === 'ArrowUp') { active = Math.max(0, active - 1); render(); e.preventDefault(); }
    else if (e.key === 'Home' && e.ctrlKey) { active = 0; render(); e.preventDefault(); }
    else if (e.key === 'End' && e.ctrlKey) { active = shown.length - 1; render(); e.preventDefault(); }
    else if (e.key === 'Enter') { e.preventDefault(); submit(); }
  });
  render();
  return modal({
    title: o.title,
    className: 'picker',
    initialFocus: search,
    body: [o.help ? h('p', { class: 'help' }, o.help) : null, search, list, empty],
    actions: [
      { label: 'Cancel', kind: 'secondary' },
      { label: 'Choose', kind: 'primary', submit: true, value: 'choose', testid: 'picker-choose' },
    ],
    onSubmit: () => {
      if (chosen === null) {
        const it = shown[active];
        if (!it) return undefined;
        chosen = it.id;
      }
      return chosen;
    },
  });
}

/**
 * Asks which branch of a block a new block goes on.
 * @param {{parentLabel: string, childLabel: string, keys: string[], used: string[], free: boolean, suggested?: string, keyLabel: (k: string) => string}} o
 * @returns {Promise<string|null>}
 */
export async function keyDialog(o) {
  const name = uid('key');
  const errId = uid('key-err');
  const err = h('p', { id: errId, class: 'field-error', role: 'alert' });
  const other = h('input', { type: 'text', class: 'input key-other', maxlength: '64', 'aria-label': 'Other key', placeholder: 'Other key…', 'aria-describedby': errId });
  const first = o.suggested && o.keys.includes(o.suggested) ? o.suggested : o.keys[0];
  const radio = (/** @type {string} */ k, /** @type {string} */ label) => h('input', { type: 'radio', name, value: k, checked: k === first, 'aria-label': label });
  // Phone keys as a keypad; named outcomes (timeout, default …) as rows.
  const pad = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
  const keypad = o.keys.filter((k) => pad.includes(k)).sort((a, b) => pad.indexOf(a) - pad.indexOf(b));
  const named = o.keys.filter((k) => !pad.includes(k));
  const otherRadio = h('input', { type: 'radio', name, value: '\u0000other', checked: !first, 'aria-label': 'Other key' });
  other.addEventListener('focus', () => { otherRadio.checked = true; });
  const group = h('div', { role: 'radiogroup', class: 'key-options', 'aria-label': 'Branch' },
    keypad.length ? h('div', { class: 'keypad' }, keypad.map((k) => h('label', { class: 'key-option pad', title: o.keyLabel(k) },
      radio(k, o.keyLabel(k)), h('span', { class: 'key-chip', 'aria-hidden': 'true' }, k)))) : null,
    named.map((k) => h('label', { class: 'key-option named' }, radio(k, k === '_' ? 'Default' : o.keyLabel(k)),
      h('span', { 'aria-hidden': 'true' }, k === '_' ? 'Default: any other outcome' : o.keyLabel(k)),
      k !== '_' && o.keyLabel(k) !== k ? h('span', { class: 'key-code mono', 'aria-hidden': 'true' }, k) : null)),
    o.free ? h('label', { class: 'key-option named other' }, otherRadio, other) : null);
  const used = o.used.length ? h('p', { class: 'help' }, `Already used: ${o.used.map(o.keyLabel).join(', ')}`) : null;
  return modal({
    title: `Which branch of ${o.parentLabel}?`,
    className: 'key-dialog',
    body: [h('p', null, `Choose the outcome of ${o.parentLabel} that leads to ${o.childLabel}.`), group, used, err],
    initialFocus: /** @type {HTMLInputElement|null} */ (group.querySelector('input:checked')) || other,
    actions: [
      { label: 'Cancel', kind: 'secondary' },
      { label: 'Continue', kind: 'primary', submit: true, value: 'ok', testid: 'key-continue' },
    ],
    onSubmit: () => {
      const picked = /** @type {HTMLInputElement|null} */ (group.querySelector('input[type=radio]:checked'));
      let key = picked ? picked.value : '';
      if (key === '\u0000other') key = other.value.trim();
      if (!key) { err.textContent = 'Choose a branch or type a key.'; return undefined; }
      if (o.used.includes(key)) { err.textContent = `${o.keyLabel(key)} already has a block.`; return undefined; }
      return key;
    },
  });
}
