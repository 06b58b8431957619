// @ts-check
// <sb-page>: the account's directory beside "Call flows": one page per
// kind (Users, Devices, Groups, Media, Voicemail boxes, Conferences,
// Time-of-day rules, Carriers) to list, search, create, edit and delete,
// and the Numbers page (which call flow has each number).

import { h } from './dom.js';
import { icon } from './icons.js';
import { confirmDialog } from './dialogs.js';
import { ApiError, describeError } from './api.js';
import { directory, docDialog } from './directory.js';
import { kindInfo } from './kinds.js';
import { messagesDialog } from './vmmessages.js';
import { playBlob } from './audio.js';

/** @typedef {import('./directory.js').Row} Row */

/** The pages, in the order of the navigation. */
export const PAGES = [
  { path: 'users', kind: 'users', label: 'Users' },
  { path: 'devices', kind: 'devices', label: 'Devices' },
  { path: 'groups', kind: 'groups', label: 'Groups' },
  { path: 'media', kind: 'media', label: 'Media' },
  { path: 'vmboxes', kind: 'vmboxes', label: 'Voicemail' },
  { path: 'conferences', kind: 'conferences', label: 'Conferences' },
  { path: 'temporal_rules', kind: 'temporal_rules', label: 'Time of day' },
  { path: 'numbers', kind: 'callflows', label: 'Numbers' },
  { path: 'resources', kind: 'resources', label: 'Carriers' },
  { path: 'trunks', kind: 'trunks', label: 'Trunks' },
];

/**
 * @typedef {{device_id: string, contact: string, source?: string, user_agent?: string, expires: number, transport?: string}} Registration
 */

/**
 * "in 4 min" for a binding's seconds left.
 * @param {number} s
 */
function expiresIn(s) {
  if (s < 90) return `expires in ${Math.max(0, s)} s`;
  if (s < 5400) return `expires in ${Math.round(s / 60)} min`;
  return `expires in ${Math.round(s / 3600)} h`;
}

/**
 * Deletes a document after saying who uses it (the references API); a
 * document changed meanwhile (409) or still used is not deleted, and the
 * admin is told why. True when it was deleted.
 * @param {string} kind
 * @param {string} id
 * @param {string} name
 * @param {string} [revision]
 * @param {(msg: string, kind: 'error'|'success') => void} [say]
 */
export async function deleteDoc(kind, id, name, revision, say = () => {}) {
  const api = directory.api;
  if (!api) return false;
  const info = kindInfo(kind);
  /** @type {Array<{kind: string, id: string, name: string, path: string}>} */
  let users = [];
  try {
    users = (await api.call('GET', `/${kind}/${encodeURIComponent(id)}/references`)).data || [];
  } catch { users = []; }
  const used = users.length
    ? h('div', null, h('p', null, `“${name}” is used by:`),
      h('ul', { class: 'used-by', 'data-testid': 'used-by' }, users.map((u) => h('li', null, `${kindInfo(u.kind).one} “${u.name || u.id}”`))),
      h('p', null, 'Deleting it leaves those pointing to nothing.'))
    : h('p', null, `Nothing uses “${name}”.`);
  const ok = await confirmDialog({ title: `Delete this ${info.one}?`, message: used, confirm: `Delete ${info.one}`, danger: true });
  if (!ok) return false;
  try {
    await api.call('DELETE', `/${kind}/${encodeURIComponent(id)}${users.length ? '?force=true' : ''}`, { revision });
    say(`${info.one.charAt(0).toUpperCase()}${info.one.slice(1)} “${name}” deleted.`, 'success');
    return true;
  } catch (e) {
    say(e instanceof ApiError && e.status === 409
      ? `Not deleted: “${name}” was changed by someone else since you opened it, or is still in use. Reload to see their version.`
      : `Not deleted: ${describeError(e)}`, 'error');
    return false;
  }
}

export class SbPage extends HTMLElement {
  constructor() {
    super();
    this.kind = '';
    this.path = '';
    /** @type {Row[]} */
    this.rows = [];
    /** @type {Map<string, Registration[]>|null} the devices' bindings; null: unknown (SIP off) */
    this.regs = null;
    this.audio = h('audio', { controls: true, class: 'media-audio page-audio', hidden: true, 'data-testid': 'page-audio' });
    this.audio.addEventListener('playing', () => { this.audio.dataset.state = 'playing'; });
    this.titleEl = h('h1', { class: 'page-title', id: 'page-title' });
    this.search = h('input', { type: 'search', class: 'input', autocomplete: 'off', 'data-testid': 'page-search' });
    this.search.addEventListener('input', () => this.renderRows());
    this.newBtn = h('button', { type: 'button', class: 'btn primary', 'data-testid': 'page-new', onclick: () => void this.create() });
    this.status = h('p', { class: 'list-count', role: 'status' });
    this.refresh = h('button', { type: 'button', class: 'btn ghost small', 'data-testid': 'page-refresh', onclick: () => void this.reload() }, 'Refresh');
    this.table = h('table', { class: 'doc-table', 'data-testid': 'page-table' });
    this.message = h('div', { class: 'page-message', 'aria-live': 'polite' });
    this.body = h('div', { class: 'page' },
      h('div', { class: 'page-head' }, this.titleEl, h('div', { class: 'spacer' }), this.newBtn),
      h('div', { class: 'page-tools' }, h('div', { class: 'catalog-search' }, icon('search', 'icon search-icon'), this.search), this.status, this.refresh),
      this.message, this.audio, h('div', { class: 'table-wrap' }, this.table));
  }

  connectedCallback() {
    if (!this.body.isConnected) this.append(this.body);
  }

  /** @param {string} path one of PAGES' paths */
  async show(path) {
    const page = PAGES.find((p) => p.path === path) || PAGES[0];
    this.path = page.path;
    this.kind = page.kind;
    const info = kindInfo(this.kind);
    const numbers = this.path === 'numbers';
    this.titleEl.textContent = numbers ? 'Numbers' : info.title;
    this.search.setAttribute('aria-label', numbers ? 'Search numbers' : `Search ${info.title.toLowerCase()}`);
    this.search.placeholder = numbers ? 'Search numbers or call flows' : `Search ${info.title.toLowerCase()}`;
    this.newBtn.hidden = numbers;
    this.newBtn.replaceChildren(icon('plus'), `New ${info.one}`);
    this.message.replaceChildren();
    this.audio.hidden = true;
    this.audio.pause();
    await this.reload();
  }

  async reload() {
    this.status.textContent = 'Loading…';
    try {
      const [rows, regs] = await Promise.all([directory.load(this.kind, true), this.kind === 'devices' ? this.loadRegistrations() : null]);
      this.rows = rows;
      this.regs = regs;
    } catch (e) {
      this.rows = [];
      this.say(`The list could not be loaded: ${describeError(e)}`, 'error');
    }
    this.renderRows();
  }

  /**
   * Where each device is registered (…/registrations); null when this
   * server has no registrar (SIP off).
   * @returns {Promise<Map<string, Registration[]>|null>}
   */
  async loadRegistrations() {
    const api = directory.api;
    if (!api) return null;
    try {
      /** @type {Registration[]} */
      const all = (await api.call('GET', '/registrations')).data || [];
      /** @type {Map<string, Registration[]>} */
      const by = new Map();
      for (const g of all) by.set(g.device_id, [...(by.get(g.device_id) || []), g]);
      return by;
    } catch (e) {
      if (e instanceof ApiError && e.status === 503) return null;
      throw e;
    }
  }

  /**
   * A device's registration state, in words.
   * @param {Row} r
   */
  registration(r) {
    if (!this.regs) return h('span', { class: 'muted' }, 'Unknown: SIP is off');
    const regs = this.regs.get(r.id) || [];
    if (!regs.length) return h('span', { class: 'reg-state', 'data-testid': 'reg-state' }, h('span', { class: 'badge muted' }, 'Not registered'));
    return h('div', { class: 'reg-state', 'data-testid': 'reg-state' },
      h('span', { class: 'badge ok' }, regs.length > 1 ? `Registered (${regs.length})` : 'Registered'),
      regs.map((g) => h('span', { class: 'reg-detail muted' },
        [g.contact, g.source && !g.contact.includes(g.source) ? `from ${g.source}` : '', g.user_agent, expiresIn(g.expires)].filter(Boolean).join(' · '))));
  }

  /** @param {Row} r */
  async play(r) {
    const api = directory.api;
    if (!api) return;
    try {
      const blob = await api.fetchBlob(`/media/${encodeURIComponent(r.id)}/raw`);
      this.audio.hidden = false;
      this.audio.dataset.state = 'loading';
      this.audio.dataset.media = r.id;
      await playBlob(this.audio, blob);
    } catch (e) {
      this.say(`It could not be played: ${describeError(e)}`, 'error');
    }
  }

  /**
   * The buttons a row of this kind has besides Edit and Delete.
   * @param {Row} r
   * @param {string} name
   */
  extraActions(r, name) {
    const api = directory.api;
    if (this.kind === 'media' && r.content_type) {
      return h('button', { type: 'button', class: 'btn ghost small', 'aria-label': `Play ${name}`, onclick: () => void this.play(r) }, icon('play', 'icon sm'), 'Play');
    }
    if (this.kind === 'vmboxes' && api) {
      return h('button', { type: 'button', class: 'btn ghost small', 'aria-label': `Messages of ${name}`, onclick: () => void messagesDialog(api, r.id, name) }, icon('voicemail', 'icon sm'), 'Messages');
    }
    return null;
  }

  /**
   * @param {string} msg
   * @param {'error'|'success'} kind
   */
  say(msg, kind) {
    this.message.replaceChildren(h('p', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `page-${kind}` }, msg));
  }

  renderRows() {
    if (this.path === 'numbers') return this.renderNumbers();
    const info = kindInfo(this.kind);
    const q = this.search.value.trim().toLowerCase();
    const shown = this.rows.filter((r) => !q || `${info.nameOf(r)} ${info.detail ? info.detail(r) : ''}`.toLowerCase().includes(q));
    this.status.textContent = q ? `${shown.length} of ${this.rows.length}` : `${this.rows.length} ${this.rows.length === 1 ? info.one : info.title.toLowerCase()}`;
    const devices = this.kind === 'devices';
    this.table.replaceChildren(
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Details'),
        devices ? h('th', { scope: 'col' }, 'Registration') : null, h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
      h('tbody', null, shown.length ? shown.map((r) => {
        const name = info.nameOf(r) || r.id;
        return h('tr', { 'data-id': r.id },
          h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link-btn', onclick: () => void this.edit(r.id) }, name)),
          h('td', { class: 'muted' }, info.detail ? info.detail(r) : ''),
          devices ? h('td', { class: 'reg-cell' }, this.registration(r)) : null,
          h('td', { class: 'row-actions' },
            this.extraActions(r, name),
            h('button', { type: 'button', class: 'btn ghost small', 'aria-label': `Edit ${name}`, onclick: () => void this.edit(r.id) }, icon('edit', 'icon sm'), 'Edit'),
            h('button', { type: 'button', class: 'btn ghost small danger', 'aria-label': `Delete ${name}`, onclick: () => void this.removeRow(r) }, icon('trash', 'icon sm'), 'Delete')));
      }) : h('tr', null, h('td', { colspan: devices ? '4' : '3', class: 'empty small' }, this.rows.length ? 'Nothing matches.' : `No ${info.title.toLowerCase()} yet.`))));
  }

  renderNumbers() {
    const q = this.search.value.trim().toLowerCase();
    /** @type {Array<{number: string, flow: Row}>} */
    const all = [];
    for (const f of this.rows) {
      for (const n of Array.isArray(f.numbers) ? f.numbers : []) all.push({ number: String(n), flow: f });
    }
    all.sort((a, b) => a.number.localeCompare(b.number));
    const name = (/** @type {Row} */ f) => kindInfo('callflows').nameOf(f) || 'Unnamed call flow';
    const shown = all.filter((x) => !q || `${x.number} ${name(x.flow)}`.toLowerCase().includes(q));
    this.status.textContent = `${shown.length} number${shown.length === 1 ? '' : 's'}`;
    this.table.replaceChildren(
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Number'), h('th', { scope: 'col' }, 'Call flow'))),
      h('tbody', null, shown.length ? shown.map((x) => h('tr', null, h('th', { scope: 'row', class: 'mono' }, x.number),
        h('td', null, h('a', { href: `/callflows/${encodeURIComponent(x.flow.id)}`, 'data-nav': '' }, name(x.flow))))) : h('tr', null, h('td', { colspan: '2', class: 'empty small' }, 'No numbers yet: give a call flow a number in its Main Callflow Block.'))));
  }

  async create() {
    const saved = await docDialog(this.kind);
    if (saved) {
      const one = kindInfo(this.kind).one;
      this.say(`${one.charAt(0).toUpperCase()}${one.slice(1)} “${kindInfo(this.kind).nameOf(saved)}” created.`, 'success');
      await this.reload();
    }
  }

  /** @param {string} id */
  async edit(id) {
    try {
      const saved = await docDialog(this.kind, id);
      if (saved) await this.reload();
    } catch (e) {
      this.say(`It could not be opened: ${describeError(e)}`, 'error');
    }
  }

  /** @param {Row} r */
  async removeRow(r) {
    const info = kindInfo(this.kind);
    if (await deleteDoc(this.kind, r.id, info.nameOf(r) || r.id, typeof r.revision === 'string' ? r.revision : undefined, (m, k) => this.say(m, k))) await this.reload();
  }
}

customElements.define('sb-page', SbPage);
