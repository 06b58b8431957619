// @ts-check
// <sb-app>: sign-in, the call-flow list, the editor and the right-hand
// panel (Catalog of Actions, Test call). Paths: / (list), /callflows/ID,
// /callflows/new.

import { h } from './dom.js';
import { icon } from './icons.js';
import { Api, ApiError, describeError } from './api.js';
import './catalog.js';
import './editor.js';
import './testcall.js';
import { PAGES } from './pages.js';
import { openMenu } from './menu.js';
import { deleteFlow, duplicateFlow, exportFlow, importFlow } from './flowfile.js';
import { pathOf } from './tracewords.js';
import './calllog.js';
import { findBox, foldButton } from './jump.js';
import { directory } from './directory.js';
import { setKeyNames } from './model.js';

/** @typedef {import('./types.js').CallflowSummary} CallflowSummary */
/** @typedef {import('./catalog.js').SbCatalog} SbCatalog */
/** @typedef {import('./editor.js').SbEditor} SbEditor */
/** @typedef {import('./testcall.js').SbTestCall} SbTestCall */
/** @typedef {import('./pages.js').SbPage} SbPage */
/** @typedef {import('./calllog.js').SbCallLog} SbCallLog */

export class SbApp extends HTMLElement {
  constructor() {
    super();
    this.api = new Api();
    this.api.onSignedOut = () => this.showSignIn('Your session has ended. Sign in again to go on; your unsaved changes are kept.');
    directory.api = this.api;
    setKeyNames((k) => directory.nameOf(k));
    // Names arrive after the flow is drawn: draw it again with them.
    directory.addEventListener('change', () => { this.editor.diagram.namesVersion++; if (this.editor.isOpen) this.editor.render(); });
    /** @type {CallflowSummary[]} */
    this.flows = [];
    this.listState = 'loading';
    this.listError = '';
    this.catalogLoaded = false;

    this.editor = /** @type {SbEditor} */ (/** @type {unknown} */ (document.createElement('sb-editor')));
    this.editor.api = this.api;
    this.catalog = /** @type {SbCatalog} */ (/** @type {unknown} */ (document.createElement('sb-catalog')));
    this.testCall = /** @type {SbTestCall} */ (/** @type {unknown} */ (document.createElement('sb-test-call')));
    this.testCall.api = this.api;
    this.testCall.entryOf = (n) => this.editor.entryOf(n);
    this.testCall.onTrace = (trace) => this.showTrail(trace);

    this.catalog.onDrag = (entry) => this.editor.setDrag(entry ? { kind: 'new', entry } : null);
    this.catalog.onPick = (entry) => {
      if (!this.editor.isOpen) {
        this.editor.toast('Open or create a call flow first.', { kind: 'info' });
        return;
      }
      void this.editor.insertNew(this.editor.diagram.selected, entry);
    };
    this.editor.addEventListener('sb-new', () => void this.openNew());
    this.editor.addEventListener('sb-saved', () => void this.loadList());
    this.editor.addEventListener('sb-flow-menu', () => this.flowMenu());
    this.editor.addEventListener('sb-opened', () => { this.showTrail(null); this.syncURL(); });
    this.editor.addEventListener('sb-closed', () => this.syncURL());
    this.editor.addEventListener('sb-changed', () => {
      this.testCall.setFlow(this.editor.savedNumbers, this.editor.dirty, this.editor.isOpen);
      this.renderList();
    });

    // sign-in
    this.keyInput = h('input', { id: 'api-key', type: 'password', class: 'input', autocomplete: 'current-password', required: true, 'aria-describedby': 'signin-help signin-error', 'data-testid': 'api-key' });
    this.signInError = h('p', { id: 'signin-error', class: 'form-error', role: 'alert' });
    this.signInNote = h('p', { class: 'note', hidden: true });
    this.signInBtn = h('button', { type: 'submit', class: 'btn primary wide', 'data-testid': 'sign-in' }, 'Sign in');
    const signInForm = h('form', { class: 'signin-card', novalidate: true },
      h('div', { class: 'brand big' }, icon('flow', 'icon lg'), 'Switchboard'),
      h('h1', null, 'Sign in'),
      this.signInNote,
      h('div', { class: 'field' }, h('label', { for: 'api-key', class: 'field-label' }, 'Admin API key'), this.keyInput,
        h('p', { id: 'signin-help', class: 'help' }, 'The key printed when the server first started, or the one given with --admin-key. Only a session token that expires is kept, for this browser tab; the key itself is never stored.')),
      this.signInBtn, this.signInError);
    signInForm.addEventListener('submit', (e) => { e.preventDefault(); void this.signIn(); });
    this.signInEl = h('div', { class: 'signin', hidden: true }, signInForm);

    // list
    this.search = h('input', { type: 'search', class: 'input', placeholder: 'Search call flows', 'aria-label': 'Search call flows', autocomplete: 'off', 'data-testid': 'flow-search' });
    this.search.addEventListener('input', () => this.renderList());
    this.listEl = h('ul', { class: 'flow-list', 'aria-label': 'Call flows', 'data-testid': 'flow-list' });
    this.listStatus = h('div', { class: 'list-status' });

    // right-hand tabs
    this.tabActions = h('button', { type: 'button', role: 'tab', id: 'tab-actions', 'aria-controls': 'panel-actions', 'aria-selected': 'true', class: 'tab' }, 'Actions');
    this.tabTest = h('button', { type: 'button', role: 'tab', id: 'tab-test', 'aria-controls': 'panel-test', 'aria-selected': 'false', tabindex: '-1', class: 'tab', 'data-testid': 'tab-test' }, 'Test call');
    for (const t of [this.tabActions, this.tabTest]) {
      t.addEventListener('click', () => this.selectTab(t));
      t.addEventListener('keydown', (e) => {
        if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
          const other = t === this.tabActions ? this.tabTest : this.tabActions;
          this.selectTab(other);
          other.focus();
          e.preventDefault();
        }
      });
    }
    this.panelActions = h('div', { role: 'tabpanel', id: 'panel-actions', 'aria-labelledby': 'tab-actions', class: 'tabpanel' },
      h('h2', { class: 'panel-title' }, 'Catalog of Actions'), this.catalog);
    this.panelTest = h('div', { role: 'tabpanel', id: 'panel-test', 'aria-labelledby': 'tab-test', class: 'tabpanel', hidden: true },
      h('h2', { class: 'panel-title' }, 'Test call'), this.testCall);

    this.accountEl = h('span', { class: 'account' });
    // Sections: call flows, the directory pages, the call log.
    this.page = /** @type {SbPage} */ (/** @type {unknown} */ (document.createElement('sb-page')));
    this.page.hidden = true;
    this.page.addEventListener('click', (e) => this.followLink(e));
    const link = (/** @type {string} */ href, /** @type {string} */ label) => h('a', { href, class: 'nav-link', onclick: (/** @type {MouseEvent} */ e) => this.followLink(e) }, label);
    this.callLog = /** @type {SbCallLog} */ (/** @type {unknown} */ (document.createElement('sb-call-log')));
    this.callLog.hidden = true;
    this.callLog.api = this.api;
    this.callLog.onOpen = (c) => void this.openCall(c);
    this.navLinks = [link('/', 'Call flows'), ...PAGES.map((p) => link(`/${p.path}`, p.label)), link('/calls', 'Calls')];
    this.nav = h('nav', { class: 'topnav', 'aria-label': 'Sections' }, this.navLinks);
    this.shell = h('div', { class: 'shell' },
      h('header', { class: 'topbar' },
        h('div', { class: 'brand' }, icon('flow', 'icon'), 'Switchboard'),
        this.nav,
        h('div', { class: 'spacer' }),
        this.accountEl,
        h('button', { type: 'button', class: 'btn ghost small', onclick: () => void this.signOut(), 'data-testid': 'sign-out' }, icon('logout', 'icon sm'), 'Sign out')),
      this.page, this.callLog,
      this.layoutEl = h('main', { class: 'layout' },
        h('nav', { class: 'sidebar', id: 'sidebar', 'aria-label': 'Call flows' },
          h('div', { class: 'sidebar-head' },
            h('button', { type: 'button', class: 'btn primary wide', onclick: () => void this.openNew(), 'data-testid': 'new-flow' }, icon('plus'), 'New call flow'),
            h('div', { class: 'catalog-search' }, icon('search', 'icon search-icon'), this.search)),
          this.listStatus, this.listEl),
        h('section', { class: 'center', 'aria-labelledby': 'flow-title' }, this.editor),
        h('aside', { class: 'rightbar', id: 'rightbar', 'aria-label': 'Actions and test call' },
          h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Right panel' }, this.tabActions, this.tabTest),
          this.panelActions, this.panelTest)));
  }

  connectedCallback() {
    if (this.shell.isConnected) return;
    // Big flows: find a block, fold the side panels away.
    const tools = this.editor.mainEl.querySelector('.tools .spacer');
    const left = this.shell.querySelector('#sidebar');
    const right = this.shell.querySelector('#rightbar');
    if (tools && left instanceof HTMLElement && right instanceof HTMLElement) {
      tools.after(findBox(this.editor), h('div', { class: 'tool-group' },
        foldButton(left, 'the call-flow list', this.layoutEl, 'fold-left'), foldButton(right, 'the right panel', this.layoutEl, 'fold-right')));
    }
    this.append(this.shell, this.signInEl);
    window.addEventListener('beforeunload', (e) => {
      if (this.editor.dirty) {
        e.preventDefault();
        e.returnValue = '';
      }
    });
    window.addEventListener('popstate', () => void this.route(true));
    if (this.api.signedIn) void this.start();
    else this.showSignIn('');
  }

  /** @param {string} note */
  showSignIn(note) {
    this.signInNote.hidden = !note;
    this.signInNote.textContent = note;
    this.signInError.textContent = '';
    this.signInEl.hidden = false;
    this.shell.inert = true;
    this.keyInput.focus();
  }

  async signIn() {
    const key = this.keyInput.value.trim();
    if (!key) {
      this.signInError.textContent = 'Enter the admin API key.';
      this.keyInput.setAttribute('aria-invalid', 'true');
      this.keyInput.focus();
      return;
    }
    this.signInBtn.disabled = true;
    this.signInError.textContent = '';
    try {
      await this.api.signIn(key);
      this.keyInput.value = '';
      this.keyInput.removeAttribute('aria-invalid');
      this.signInEl.hidden = true;
      this.shell.inert = false;
      if (this.editor.isOpen) {
        void this.loadList();
        this.accountEl.textContent = this.api.accountName;
      } else {
        await this.start();
      }
    } catch (e) {
      this.keyInput.setAttribute('aria-invalid', 'true');
      this.signInError.textContent = e instanceof ApiError && e.status === 401 ? 'This key was not accepted. Check it and try again.' : describeError(e);
      this.keyInput.select();
    } finally {
      this.signInBtn.disabled = false;
    }
  }

  async signOut() {
    if (!(await this.editor.confirmDiscard('sign out'))) return;
    this.api.signOut(true);
    this.editor.close();
    this.flows = [];
    this.renderList();
    history.replaceState(null, '', '/');
    this.showSignIn('');
  }

  async start() {
    this.signInEl.hidden = true;
    this.shell.inert = false;
    this.accountEl.textContent = this.api.accountName;
    void directory.loadAll(['temporal_rules', 'temporal_rules_sets', 'media', 'menus', 'callflows', 'users', 'devices', 'groups', 'vmboxes', 'conferences']);
    await Promise.all([this.loadCatalog(), this.loadList()]);
    await this.route(false);
  }

  async loadCatalog() {
    try {
      const entries = await this.api.catalog();
      this.catalog.setEntries(entries);
      this.editor.setCatalog(entries);
      this.catalogLoaded = true;
    } catch (e) {
      this.catalog.setError(`The actions could not be loaded: ${describeError(e)}`);
    }
  }

  async loadList() {
    try {
      this.flows = await this.api.listCallflows();
      this.listState = 'ready';
    } catch (e) {
      this.listState = 'error';
      this.listError = describeError(e);
    }
    this.renderList();
  }

  renderList() {
    if (this.listState === 'loading') {
      this.listStatus.replaceChildren(h('p', { class: 'empty small' }, 'Loading call flows…'));
      this.listEl.replaceChildren();
      return;
    }
    if (this.listState === 'error') {
      this.listStatus.replaceChildren(h('div', { class: 'empty small', role: 'alert' }, h('p', null, `The call flows could not be loaded: ${this.listError}`),
        h('button', { type: 'button', class: 'btn secondary small', onclick: () => void this.loadList() }, 'Try again')));
      this.listEl.replaceChildren();
      return;
    }
    const q = this.search.value.trim().toLowerCase();
    const shown = this.flows
      .filter((f) => !q || `${f.name || ''} ${f.numbers.join(' ')} ${f.patterns.join(' ')}`.toLowerCase().includes(q))
      .sort((a, b) => (a.name || a.numbers[0] || '').localeCompare(b.name || b.numbers[0] || ''));
    if (!this.flows.length) this.listStatus.replaceChildren(h('p', { class: 'empty small' }, 'No call flows yet. Create the first one with “New call flow”.'));
    else if (!shown.length) this.listStatus.replaceChildren(h('p', { class: 'empty small' }, `No call flow matches “${this.search.value.trim()}”.`));
    else this.listStatus.replaceChildren(h('p', { class: 'list-count' }, q ? `${shown.length} of ${this.flows.length}` : `${this.flows.length} call flow${this.flows.length === 1 ? '' : 's'}`));
    const current = this.editor.isOpen ? this.editor.flowId : null;
    this.listEl.replaceChildren(...shown.map((f) => h('li', null,
      h('a', {
        href: `/callflows/${encodeURIComponent(f.id)}`, class: 'flow-item', 'aria-current': f.id === current ? 'page' : undefined, 'data-id': f.id,
        onclick: (/** @type {MouseEvent} */ e) => { if (e.button === 0 && !e.ctrlKey && !e.metaKey && !e.shiftKey) { e.preventDefault(); void this.openFlow(f.id); } },
      },
      h('span', { class: 'flow-name' }, f.name || (f.numbers.length ? f.numbers.join(', ') : 'Unnamed call flow')),
      h('span', { class: 'flow-numbers' }, f.numbers.length ? f.numbers.slice(0, 3).join(', ') + (f.numbers.length > 3 ? ` +${f.numbers.length - 3}` : '') : f.patterns.length ? `${f.patterns.length} pattern${f.patterns.length === 1 ? '' : 's'}` : 'No numbers')))));
  }

  /**
   * Lights up on the diagram the path a call took (order and time per
   * block, webhooks on their Pivot block), with step-through replay.
   * @param {import('./types.js').TraceEvent[]|null} trace
   */
  showTrail(trace) {
    const d = this.editor.diagram;
    const doc = this.editor.doc;
    const steps = doc && trace ? pathOf(doc, trace) : [];
    /** @type {Map<string, import('./tracewords.js').Step[]>} */
    const trail = new Map();
    for (const st of steps) trail.set(st.uid, [...(trail.get(st.uid) || []), st]);
    d.trail = trail;
    d.current = '';
    if (doc) this.editor.render();
    if (!steps.length) return;
    this.testCall.setReplay(steps.length, (i) => {
      d.current = steps[i].uid;
      this.editor.render();
      d.querySelector(`.card[data-uid="${steps[i].uid}"]`)?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      return this.editor.labelOf(steps[i].uid);
    });
  }

  /**
   * Opens a logged call's flow with its path on the diagram and its trace
   * in the Test call panel.
   * @param {import('./calllog.js').CallSummary} c
   */
  async openCall(c) {
    if (!c.callflow_id) return;
    history.pushState(null, '', `/callflows/${encodeURIComponent(c.callflow_id)}`);
    await this.route(true);
    if (this.editor.flowId !== c.callflow_id) return;
    try {
      const r = await this.api.call('GET', `/calls/${encodeURIComponent(c.call_id)}/trace`);
      const trace = Array.isArray(r.data) ? r.data : [];
      const hooks = trace.some((e) => e.op === 'webhook') ? await this.api.pivotDebug(c.call_id) : [];
      this.selectTab(this.tabTest);
      this.testCall.show(c.call_id, trace, { cause: c.hangup_cause, by: c.hangup_by, nodes: trace.filter((e) => e.op === 'module').length }, hooks);
      this.showTrail(trace);
    } catch (e) {
      this.editor.toast(`The call's trace could not be loaded: ${describeError(e)}`, { kind: 'error' });
    }
  }

  /** The call flow's own menu: duplicate, export, import, delete. */
  flowMenu() {
    const id = this.editor.flowId;
    const say = (/** @type {string} */ m, /** @type {'error'|'success'} */ kind) => this.editor.toast(m, { kind, testid: `toast-${kind}` });
    const run = (/** @type {() => Promise<void>} */ fn) => () => { fn().catch((e) => say(describeError(e), 'error')); };
    openMenu(this.editor.flowBtn, [
      { label: 'Duplicate', icon: 'copy', disabled: !id, testid: 'flow-duplicate', run: run(async () => {
        if (!id || !(await this.editor.confirmDiscard('open the copy'))) return;
        const copy = await duplicateFlow(this.api, id);
        await this.loadList();
        await this.editor.open(copy);
        say('Duplicated: this is the copy, without numbers.', 'success');
      }) },
      { label: 'Export as JSON', icon: 'redo', disabled: !id, testid: 'flow-export', run: run(async () => { if (id) await exportFlow(this.api, id); }) },
      { label: 'Import from JSON…', icon: 'plus', testid: 'flow-import', run: run(async () => {
        if (!(await this.editor.confirmDiscard('import a call flow'))) return;
        const nid = await importFlow(this.api);
        if (!nid) return;
        await this.loadList();
        await this.editor.open(nid);
        say('Imported as a new call flow.', 'success');
      }) },
      { label: 'Delete call flow…', icon: 'trash', danger: true, disabled: !id, testid: 'flow-delete', run: run(async () => {
        if (!id) return;
        const name = this.editor.displayName;
        if (await deleteFlow(id, name, this.editor.revision, say)) {
          this.editor.close();
          say(`Call flow “${name}” deleted.`, 'success');
          await this.loadList();
        }
      }) },
    ], { label: 'Call flow', align: 'right' });
  }

  /** @param {HTMLElement} tab */
  selectTab(tab) {
    const test = tab === this.tabTest;
    this.tabActions.setAttribute('aria-selected', test ? 'false' : 'true');
    this.tabTest.setAttribute('aria-selected', test ? 'true' : 'false');
    this.tabActions.tabIndex = test ? -1 : 0;
    this.tabTest.tabIndex = test ? 0 : -1;
    this.panelActions.hidden = test;
    this.panelTest.hidden = !test;
  }

  /** @param {string} id */
  async openFlow(id) {
    if (this.editor.isOpen && this.editor.flowId === id && !this.editor.dirty) return;
    if (!(await this.editor.confirmDiscard('open another call flow'))) return;
    try {
      await this.editor.open(id);
    } catch (e) {
      this.editor.close();
      this.editor.toast(`The call flow could not be opened: ${describeError(e)}`, { kind: 'error' });
    }
    this.renderList();
  }

  async openNew() {
    if (!(await this.editor.confirmDiscard('start a new call flow'))) return;
    this.editor.newFlow();
    this.renderList();
  }

  syncURL() {
    const path = !this.editor.isOpen ? '/' : this.editor.flowId ? `/callflows/${encodeURIComponent(this.editor.flowId)}` : '/callflows/new';
    if (location.pathname !== path) history.pushState(null, '', path);
    document.title = this.editor.isOpen ? `${this.editor.displayName} · Switchboard` : 'Call flows · Switchboard';
    this.renderList();
  }

  /**
   * Follows a same-site link inside the app without reloading.
   * @param {MouseEvent} e
   */
  followLink(e) {
    const a = e.target instanceof Element ? e.target.closest('a[href^="/"]') : null;
    if (!(a instanceof HTMLAnchorElement) || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    if (location.pathname !== a.pathname) history.pushState(null, '', a.pathname);
    void this.route(true);
  }

  /** Marks the current section in the navigation. */
  markNav() {
    const section = location.pathname.split('/')[1] || '';
    for (const a of this.navLinks) {
      const s = a.pathname.split('/')[1] || '';
      const on = s === section || (s === '' && section === 'callflows');
      if (on) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
  }

  /** @param {boolean} guard whether to ask before leaving unsaved changes */
  async route(guard) {
    this.markNav();
    const section = location.pathname.split('/')[1] || '';
    const page = PAGES.find((p) => p.path === section);
    const calls = section === 'calls';
    this.layoutEl.hidden = Boolean(page) || calls;
    this.page.hidden = !page;
    this.callLog.hidden = !calls;
    if (calls) {
      document.title = 'Calls · Switchboard';
      await this.callLog.load();
      return;
    }
    if (page) {
      document.title = `${page.label} · Switchboard`;
      await this.page.show(page.path);
      return;
    }
    if (!this.editor.isOpen && location.pathname === '/') document.title = 'Call flows · Switchboard';
    const m = location.pathname.match(/^\/callflows\/([^/]+)$/);
    const want = m ? decodeURIComponent(m[1]) : null;
    const cur = this.editor.isOpen ? this.editor.flowId || 'new' : null;
    if (want === cur) return;
    if (guard && !(await this.editor.confirmDiscard('leave this call flow'))) {
      this.syncURL();
      return;
    }
    if (want === 'new') this.editor.newFlow();
    else if (want) {
      try { await this.editor.open(want); } catch (e) {
        this.editor.close();
        this.editor.toast(`The call flow could not be opened: ${describeError(e)}`, { kind: 'error' });
      }
    } else this.editor.close();
    this.renderList();
  }
}

customElements.define('sb-app', SbApp);
