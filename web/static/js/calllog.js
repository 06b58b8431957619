// @ts-check
// <sb-call-log>: the account's recent calls, real and test (…/calls);
// each opens its call flow with the path it took lit on the diagram and
// its trace in the Test call panel. Read-only, so it reads on a phone.

import { h } from './dom.js';
import { icon } from './icons.js';
import { describeError } from './api.js';
import { directory } from './directory.js';
import { causeWords } from './tracewords.js';

/** @typedef {import('./api.js').Api} Api */
/**
 * @typedef {{call_id: string, callflow_id?: string, from?: string, to?: string, started?: string, ended?: string, hangup_cause?: string, hangup_by?: string}} CallSummary
 */

export class SbCallLog extends HTMLElement {
  constructor() {
    super();
    /** @type {Api|null} */
    this.api = null;
    /** @type {(c: CallSummary) => void} */
    this.onOpen = () => {};
    /** @type {CallSummary[]} */
    this.calls = [];
    this.search = h('input', { type: 'search', class: 'input', placeholder: 'Search numbers', 'aria-label': 'Search calls', autocomplete: 'off', 'data-testid': 'calls-search' });
    this.search.addEventListener('input', () => this.render());
    this.status = h('p', { class: 'list-count', role: 'status' });
    this.table = h('table', { class: 'doc-table', 'data-testid': 'calls-table' });
    this.body = h('div', { class: 'page' },
      h('div', { class: 'page-head' }, h('h1', { class: 'page-title', id: 'page-title' }, 'Calls'), h('div', { class: 'spacer' }),
        h('button', { type: 'button', class: 'btn secondary', onclick: () => void this.load() }, 'Refresh')),
      h('div', { class: 'page-tools' }, h('div', { class: 'catalog-search' }, icon('search', 'icon search-icon'), this.search), this.status),
      h('div', { class: 'table-wrap' }, this.table));
  }

  connectedCallback() {
    if (!this.body.isConnected) this.append(this.body);
  }

  async load() {
    if (!this.api) return;
    this.status.textContent = 'Loading…';
    try {
      const r = await this.api.call('GET', '/calls?paginate=false');
      this.calls = Array.isArray(r.data) ? r.data : [];
      await directory.load('callflows', true).catch(() => []);
    } catch (e) {
      this.calls = [];
      this.status.textContent = `The calls could not be loaded: ${describeError(e)}`;
      return;
    }
    this.render();
  }

  render() {
    const q = this.search.value.trim().toLowerCase();
    const shown = this.calls.filter((c) => !q || `${c.from || ''} ${c.to || ''} ${directory.nameOf(c.callflow_id || '') || ''}`.toLowerCase().includes(q));
    this.status.textContent = `${shown.length} call${shown.length === 1 ? '' : 's'}`;
    const when = (/** @type {string|undefined} */ t) => (t ? new Date(t).toLocaleString() : '');
    this.table.replaceChildren(
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'When'), h('th', { scope: 'col' }, 'From → To'), h('th', { scope: 'col' }, 'Call flow'),
        h('th', { scope: 'col' }, 'Ended'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Open')))),
      h('tbody', null, shown.length ? shown.map((c) => h('tr', { 'data-id': c.call_id },
        h('td', null, when(c.started)),
        h('th', { scope: 'row', class: 'mono' }, `${c.from || '?'} → ${c.to || '?'}`),
        h('td', null, c.callflow_id ? directory.nameOf(c.callflow_id) || 'Unnamed call flow' : 'No call flow'),
        h('td', { class: 'muted' }, causeWords(c.hangup_cause)),
        h('td', { class: 'row-actions' }, c.callflow_id
          ? h('button', { type: 'button', class: 'btn ghost small', 'aria-label': `Show call from ${c.from || '?'} to ${c.to || '?'} on the diagram`, onclick: () => this.onOpen(c) }, icon('flow', 'icon sm'), 'On the diagram')
          : null)))
        : h('tr', null, h('td', { colspan: '5', class: 'empty small' }, 'No calls yet. Real calls and test calls show here.'))));
  }
}

customElements.define('sb-call-log', SbCallLog);
