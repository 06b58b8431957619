// @ts-check
// A Ring group's members, picked by name: the account's users, devices
// and groups as checkboxes, instead of typing endpoint JSON. What a
// member carried besides its id and type (delay, ring time) is kept.

import { h, uid } from './dom.js';
import { directory, refHook } from './directory.js';
import { kindInfo } from './kinds.js';

/** @typedef {import('./forms.js').FieldWidget} FieldWidget */
/** @typedef {import('./forms.js').RefHook} RefHook */
/** @typedef {{id: string, endpoint_type: string} & Record<string, unknown>} Endpoint */

const KINDS = /** @type {const} */ ([['users', 'user', 'Users'], ['devices', 'device', 'Devices'], ['groups', 'group', 'Groups']]);

/**
 * The pop-ups' reference hook with ring group members added.
 * @type {RefHook}
 */
export function blockRefHook(path, f, value, present) {
  if (path === 'ring_group.endpoints') return membersWidget(f.title, Array.isArray(value) ? value : []);
  return refHook(path, f, value, present);
}

/**
 * @param {string} title
 * @param {unknown[]} value
 * @returns {FieldWidget}
 */
function membersWidget(title, value) {
  /** @type {Map<string, Endpoint>} id → member as stored */
  const current = new Map();
  for (const v of value) {
    if (v && typeof v === 'object' && typeof (/** @type {any} */ (v).id) === 'string') current.set(/** @type {Endpoint} */ (v).id, /** @type {Endpoint} */ (v));
  }
  const errId = uid('members-err');
  const err = h('p', { id: errId, class: 'field-error' });
  const lists = h('div', { class: 'members' }, h('p', { class: 'muted small' }, 'Loading users, devices and groups…'));
  const fs = h('fieldset', { class: 'field field-group', 'data-testid': 'ring-members', 'data-field': 'endpoints', 'aria-describedby': errId },
    h('legend', { class: 'field-label', title: 'Field name: endpoints' }, title, h('span', { class: 'req', 'aria-hidden': 'true' }, ' *')),
    h('p', { class: 'help' }, 'Who rings when a call reaches this group. A group rings its members.'), lists, err);
  /** @type {Array<{box: HTMLInputElement, id: string, type: string}>} */
  const boxes = [];

  void Promise.all(KINDS.map(([kind]) => directory.load(kind).catch(() => []))).then((all) => {
    lists.replaceChildren();
    let any = false;
    KINDS.forEach(([kind, type, label], i) => {
      const rows = all[i];
      if (!rows.length) return;
      any = true;
      const info = kindInfo(kind);
      lists.append(h('div', { class: 'members-kind' }, h('div', { class: 'main-sub' }, label),
        rows.map((r) => {
          const id = uid('member');
          const box = h('input', { type: 'checkbox', id, checked: current.has(r.id) });
          boxes.push({ box, id: r.id, type });
          return h('label', { class: 'ref-option', for: id }, box, h('span', { class: 'ref-name' }, info.nameOf(r) || r.id));
        })));
    });
    // Members that name nothing stored any more stay listed, to keep or drop.
    const known = new Set(boxes.map((b) => b.id));
    const gone = [...current.values()].filter((m) => !known.has(m.id));
    if (gone.length) {
      lists.append(h('div', { class: 'members-kind' }, h('div', { class: 'main-sub' }, 'Not found'),
        gone.map((m) => {
          const id = uid('member');
          const box = h('input', { type: 'checkbox', id, checked: true });
          boxes.push({ box, id: m.id, type: m.endpoint_type });
          return h('label', { class: 'ref-option missing', for: id }, box, h('span', { class: 'ref-name' }, `Unknown ${m.endpoint_type} ${m.id}`));
        })));
    }
    if (!any && !gone.length) lists.append(h('p', { class: 'muted small' }, 'No users, devices or groups yet: create them on their pages first.'));
  });

  return {
    el: fs,
    read() {
      if (!boxes.length) return { value: value.length ? value : undefined };
      const out = boxes.filter((b) => b.box.checked).map((b) => ({ ...(current.get(b.id) || {}), id: b.id, endpoint_type: b.type }));
      return { value: out.length ? out : undefined };
    },
    showError(m) {
      err.textContent = m;
    },
    focus() {
      const first = fs.querySelector('input');
      if (first instanceof HTMLElement) first.focus();
    },
  };
}
