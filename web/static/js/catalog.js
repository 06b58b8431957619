// @ts-check
// <sb-catalog>: the Catalog of Actions, built from GET …/callflows/actions.
// Groups (Basic first, then Advanced, then the rest by name), search, drag
// an action onto a block, or press Enter on it to add it to the selected
// block.

import { h, uid } from './dom.js';
import { icon } from './icons.js';

/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */

/** @param {string} g */
function groupRank(g) {
  if (g === 'Basic') return 0;
  if (g === 'Advanced') return 1;
  return 2;
}

/**
 * Groups of the catalog, ordered.
 * @param {CatalogEntry[]} entries
 * @returns {Array<{group: string, entries: CatalogEntry[]}>}
 */
export function groupCatalog(entries) {
  /** @type {Map<string, CatalogEntry[]>} */
  const by = new Map();
  for (const e of entries) {
    const g = e.group || 'Other';
    if (!by.has(g)) by.set(g, []);
    /** @type {CatalogEntry[]} */ (by.get(g)).push(e);
  }
  return [...by.entries()]
    .sort((a, b) => groupRank(a[0]) - groupRank(b[0]) || a[0].localeCompare(b[0]))
    .map(([group, list]) => ({ group, entries: list.sort((a, b) => a.label.localeCompare(b.label)) }));
}

export class SbCatalog extends HTMLElement {
  constructor() {
    super();
    /** @type {CatalogEntry[]} */
    this.entries = [];
    /** @type {Set<string>} */
    this.open = new Set(['Basic']);
    /** @type {string|null} an error to show instead of the list */
    this.error = null;
    /** @type {(entry: CatalogEntry) => void} */
    this.onPick = () => {};
    /** @type {(entry: CatalogEntry|null) => void} */
    this.onDrag = () => {};
    this.hintId = uid('cat-hint');
    this.search = h('input', { type: 'search', class: 'input', placeholder: 'Search actions', 'aria-label': 'Search actions', 'aria-controls': '', autocomplete: 'off' });
    this.list = h('div', { class: 'catalog-groups', id: uid('cat') });
    this.search.setAttribute('aria-controls', this.list.id);
    this.status = h('p', { class: 'sr-only', role: 'status' });
    this.search.addEventListener('input', () => this.render());
    this.search.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        const first = this.list.querySelector('.cat-item');
        if (first instanceof HTMLElement) { first.focus(); e.preventDefault(); }
      }
    });
  }

  connectedCallback() {
    if (this.childElementCount) return;
    this.classList.add('catalog');
    this.append(
      h('div', { class: 'catalog-search' }, icon('search', 'icon search-icon'), this.search),
      h('p', { id: this.hintId, class: 'catalog-hint' }, 'Drag an action onto a block, or select a block and press Enter on an action.'),
      this.list, this.status);
    this.render();
  }

  /** @param {CatalogEntry[]} entries */
  setEntries(entries) {
    this.entries = entries;
    this.error = null;
    this.render();
  }

  /** @param {string} message */
  setError(message) {
    this.error = message;
    this.render();
  }

  render() {
    const q = this.search.value.trim().toLowerCase();
    if (this.error) {
      this.list.replaceChildren(h('p', { class: 'empty error-text', role: 'alert' }, this.error));
      return;
    }
    if (!this.entries.length) {
      this.list.replaceChildren(h('p', { class: 'empty small' }, 'Loading actions…'));
      return;
    }
    const match = (/** @type {CatalogEntry} */ e) => !q || `${e.label} ${e.name} ${e.description || ''} ${e.group}`.toLowerCase().includes(q);
    const groups = groupCatalog(this.entries.filter(match));
    if (!groups.length) {
      this.list.replaceChildren(h('p', { class: 'empty small' }, `No action matches “${this.search.value.trim()}”.`));
      this.status.textContent = 'No action matches.';
      return;
    }
    this.status.textContent = q ? `${groups.reduce((n, g) => n + g.entries.length, 0)} actions match.` : '';
    this.list.replaceChildren(...groups.map(({ group, entries }) => {
      const isOpen = Boolean(q) || this.open.has(group);
      const bodyId = uid('grp');
      const toggle = h('button', {
        type: 'button', class: 'group-toggle', 'aria-expanded': isOpen ? 'true' : 'false', 'aria-controls': bodyId,
        onclick: () => {
          if (this.open.has(group)) this.open.delete(group); else this.open.add(group);
          if (!q) this.render();
          const again = this.list.querySelector(`[data-group="${CSS.escape(group)}"] .group-toggle`);
          if (again instanceof HTMLElement) again.focus();
        },
      }, icon(isOpen ? 'chevron_down' : 'chevron_right', 'icon sm'), h('span', null, group), h('span', { class: 'count' }, String(entries.length)));
      return h('section', { class: 'cat-group', 'data-group': group },
        h('h3', null, toggle),
        h('ul', { id: bodyId, class: 'cat-items', hidden: !isOpen }, entries.map((e) => h('li', null, this.item(e)))));
    }));
  }

  /** @param {CatalogEntry} e */
  item(e) {
    const btn = h('button', {
      type: 'button', class: 'cat-item', draggable: 'true', 'data-module': e.name,
      'aria-describedby': this.hintId, title: e.description || e.label,
    }, h('span', { class: 'cat-icon' }, icon(e.icon)),
    h('span', { class: 'cat-text' }, h('span', { class: 'cat-label' }, e.label),
      e.description ? h('span', { class: 'cat-desc' }, e.description) : null));
    btn.addEventListener('click', () => this.onPick(e));
    btn.addEventListener('dragstart', (ev) => {
      if (ev.dataTransfer) {
        ev.dataTransfer.setData('application/x-switchboard-module', e.name);
        ev.dataTransfer.setData('text/plain', e.label);
        ev.dataTransfer.effectAllowed = 'copy';
      }
      this.onDrag(e);
    });
    btn.addEventListener('dragend', () => this.onDrag(null));
    btn.addEventListener('keydown', (ev) => {
      const items = [...this.list.querySelectorAll('.cat-item')];
      const i = items.indexOf(btn);
      if (ev.key === 'ArrowDown' && items[i + 1] instanceof HTMLElement) { /** @type {HTMLElement} */ (items[i + 1]).focus(); ev.preventDefault(); }
      if (ev.key === 'ArrowUp') {
        if (i > 0) /** @type {HTMLElement} */ (items[i - 1]).focus(); else this.search.focus();
        ev.preventDefault();
      }
    });
    return btn;
  }
}

customElements.define('sb-catalog', SbCatalog);
