// @ts-check
// <sb-editor>: one call flow being edited: the toolbar (undo, redo, add,
// move, delete, zoom, Cancel, Save menu), the diagram, the markers, and
// saving with stale-revision and number-conflict handling.

import { h } from './dom.js';
import { icon } from './icons.js';
import { ApiError } from './api.js';
import {
  ROOT, History, canTakeChild, canonical, contains, docFromJSON, docToJSON, emptyDoc, find,
  pathsOf, walk,
} from './model.js';
import { captionOf, validateData } from './schema.js';
import { confirmDialog } from './dialogs.js';
import { unknownRuleRefs } from './directory.js';
import { toolButton, addAction, blockMenu, changeKey, chooseKey, edit, insertNew, move, moveTargets, moveTo, pathLabel, removeBlock } from './editor-edit.js';
import { cancel, reload, save, saveAndCreate, saveAndDuplicate, saveMenu, showServerErrors, staleConflict } from './editor-save.js';
import './diagram.js';
import './minimap.js';

/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */
/** @typedef {import('./types.js').FlowDoc} FlowDoc */
/** @typedef {import('./types.js').FlowNode} FlowNode */
/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./diagram.js').SbDiagram} SbDiagram */
/** @typedef {import('./diagram.js').Marker} Marker */
/** @typedef {import('./minimap.js').SbMinimap} SbMinimap */

/** @typedef {{kind: 'new', entry: CatalogEntry}|{kind: 'move', uid: string}} DragState */



export class SbEditor extends HTMLElement {
  constructor() {
    super();
    /** @type {Api|null} */
    this.api = null;
    /** @type {CatalogEntry[]} */
    this.catalog = [];
    /** @type {Map<string, CatalogEntry>} */
    this.entries = new Map();
    /** @type {string|null} */
    this.flowId = null;
    /** @type {string|undefined} */
    this.revision = undefined;
    /** @type {FlowDoc|null} null when no flow is open */
    this.doc = null;
    this.baseline = '';
    /** @type {string[]} the numbers as last saved */
    this.savedNumbers = [];
    this.history = new History();
    /** @type {Map<string, string[]>} */
    this.serverErrors = new Map();
    /** @type {DragState|null} */
    this.dragging = null;
    this.busy = false;
    this.stale = false;
    /** @type {Map<string, Marker>} */
    this.markers = new Map();
    /** @type {boolean|null} whether the document differs from the saved one; null: not worked out since the last render */
    this.dirtyMemo = null;
    /** @type {Map<string, string[]>} a block's problems by module and data, kept across renders */
    this.problemCache = new Map();

    this.diagram = /** @type {SbDiagram} */ (/** @type {unknown} */ (document.createElement('sb-diagram')));
    this.diagram.host = {
      entryOf: (n) => this.entries.get(n),
      select: () => this.renderToolbar(false),
      edit: (id) => void this.edit(id),
      addAction: (id) => void this.addAction(id),
      move: (id) => void this.move(id),
      remove: (id) => void this.removeBlock(id),
      changeKey: (id) => void this.changeKey(id),
      blockMenu: (id, anchor) => this.blockMenu(id, anchor),
      canDrop: (t) => this.canDrop(t),
      drop: (t) => void this.drop(t),
      dragBlock: (id) => this.setDrag(id ? { kind: 'move', uid: id } : null),
      branching: (id) => this.branching(id),
    };

    // Big flows: the whole flow in small, click or drag to move the view.
    this.canvasEl = h('div', { class: 'canvas' }, this.diagram);
    this.minimap = /** @type {SbMinimap} */ (/** @type {unknown} */ (document.createElement('sb-minimap')));
    this.minimap.attach(this.canvasEl, this.diagram.tree);
    this.diagram.addEventListener('sb-rendered', () => this.minimap.update());
    this.titleEl = h('h1', { class: 'flow-title', id: 'flow-title' });
    this.stateEl = h('span', { class: 'state-chip', 'data-testid': 'save-state' });
    this.undoBtn = toolButton('Undo', 'undo', () => this.undo(), { shortcut: 'Control+Z', testid: 'undo' });
    this.redoBtn = toolButton('Redo', 'redo', () => this.redo(), { shortcut: 'Control+Shift+Z', testid: 'redo' });
    this.addBtn = toolButton('Add action…', 'plus', () => void this.addAction(this.diagram.selected), { text: true, shortcut: 'A', testid: 'add-action' });
    this.moveBtn = toolButton('Move…', 'move', () => void this.move(this.diagram.selected), { text: true, shortcut: 'M', testid: 'move' });
    this.deleteBtn = toolButton('Delete', 'trash', () => void this.removeBlock(this.diagram.selected), { text: true, shortcut: 'Delete', testid: 'delete' });
    this.zoomOut = toolButton('Zoom out', 'zoom_out', () => this.setZoom(this.diagram.zoom - 0.1));
    this.zoomIn = toolButton('Zoom in', 'zoom_in', () => this.setZoom(this.diagram.zoom + 0.1));
    this.zoomLabel = h('button', { type: 'button', class: 'btn ghost zoom-label', title: 'Reset zoom to 100%', 'aria-label': 'Reset zoom', onclick: () => this.setZoom(1) }, '100%');
    this.fitBtn = h('button', { type: 'button', class: 'btn ghost small', title: 'Zoom to fit the whole flow', onclick: () => this.fit() }, 'Fit');
    // Delete, duplicate, export: the page does them (flowfile.js).
    this.flowBtn = h('button', { type: 'button', class: 'btn ghost', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'data-testid': 'flow-menu', onclick: () => this.emit('sb-flow-menu') }, icon('more', 'icon sm'), h('span', null, 'Call flow'));
    this.cancelBtn = h('button', { type: 'button', class: 'btn secondary', onclick: () => void this.cancel(), 'data-testid': 'cancel' }, 'Cancel');
    this.saveBtn = h('button', {
      type: 'button', class: 'btn primary', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'data-testid': 'save',
      onclick: () => this.saveMenu(),
    }, h('span', null, 'Save'), icon('chevron_down', 'icon sm'));
    this.saveBtn.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') { e.preventDefault(); this.saveMenu(e.key === 'ArrowUp'); }
    });
    this.toasts = h('div', { class: 'toasts', 'aria-live': 'polite' });
    this.announcer = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
    this.emptyEl = h('div', { class: 'editor-empty' },
      h('div', { class: 'empty-card' }, icon('flow', 'icon xl'),
        h('h2', null, 'No call flow open'),
        h('p', null, 'Choose a call flow on the left, or create a new one.'),
        h('button', { type: 'button', class: 'btn primary', onclick: () => this.dispatchEvent(new CustomEvent('sb-new')) }, icon('plus'), 'New call flow')));
    this.mainEl = h('div', { class: 'editor-main', hidden: true },
      h('div', { class: 'toolbar' },
        h('div', { class: 'title-row' },
          h('div', { class: 'title-block' }, this.titleEl, this.stateEl),
          h('div', { class: 'save-group' }, this.flowBtn, this.cancelBtn, this.saveBtn)),
        h('div', { class: 'tools', 'aria-label': 'Edit tools', role: 'group' },
          h('div', { class: 'tool-group' }, this.undoBtn, this.redoBtn),
          h('div', { class: 'tool-group' }, this.addBtn, this.moveBtn, this.deleteBtn),
          h('div', { class: 'spacer' }),
          h('div', { class: 'tool-group' }, this.zoomOut, this.zoomLabel, this.zoomIn, this.fitBtn))),
      h('div', { class: 'canvas-wrap' }, this.canvasEl, this.minimap),
      h('p', { class: 'keys-help', id: 'diagram-keys' }, 'Keys: ',
        h('kbd', null, '↑↓←→'), ' go · ', h('kbd', null, 'Enter'), ' edit · ', h('kbd', null, 'A'), ' add · ',
        h('kbd', null, 'M'), ' move · ', h('kbd', null, 'K'), ' branch · ', h('kbd', null, 'Del'), ' delete · ',
        h('kbd', null, 'Shift+F10'), ' menu · ', h('kbd', null, 'Ctrl+Z'), ' undo'),
      this.announcer);
    this.addEventListener('keydown', (e) => this.onKey(e));
  }

  connectedCallback() {
    if (!this.emptyEl.isConnected) this.append(this.emptyEl, this.mainEl, this.toasts);
  }

  /** @param {CatalogEntry[]} entries */
  setCatalog(entries) {
    this.catalog = entries;
    this.problemCache.clear();
    this.entries = new Map(entries.map((e) => [e.name, e]));
    if (this.doc) this.render();
  }

  /** @param {string} name */
  entryOf(name) {
    return this.entries.get(name);
  }

  get dirty() {
    if (!this.doc) return false;
    // Read several times per edit (toolbar, list, test call): worked out
    // once per render, which every change of the document goes through.
    if (this.dirtyMemo === null) this.dirtyMemo = canonical(docToJSON(this.doc, false)) !== this.baseline;
    return this.dirtyMemo;
  }

  get isOpen() {
    return this.doc !== null;
  }

  get displayName() {
    if (!this.doc) return '';
    return this.doc.name || (this.doc.numbers.length ? this.doc.numbers.join(', ') : this.flowId ? 'Unnamed call flow' : 'New call flow');
  }

  // ---- opening and closing ----

  /**
   * Shows a stored document.
   * @param {Record<string, unknown>} raw
   * @param {string|undefined} revision
   * @param {{keepView?: boolean}} [o]
   */
  load(raw, revision, o = {}) {
    const old = this.doc;
    const selPath = old && o.keepView ? pathOfUid(old, this.diagram.selected) : null;
    const collapsedPaths = old && o.keepView ? [...this.diagram.collapsed].map((u) => pathOfUid(old, u)) : [];
    this.flowId = typeof raw.id === 'string' ? raw.id : null;
    this.revision = revision;
    this.doc = docFromJSON(raw);
    this.dirtyMemo = null;
    this.baseline = canonical(docToJSON(this.doc, false));
    this.savedNumbers = [...this.doc.numbers];
    this.serverErrors.clear();
    this.stale = false;
    const paths = pathsOf(this.doc);
    paths.set('', ROOT);
    if (o.keepView) {
      this.diagram.selected = (selPath !== null && paths.get(selPath)) || ROOT;
      this.diagram.collapsed = new Set(collapsedPaths.map((p) => (p !== null && paths.get(p)) || '').filter(Boolean));
    } else {
      this.history.clear();
      this.diagram.selected = ROOT;
      this.diagram.collapsed = new Set();
      this.clearToasts();
    }
    this.show();
  }

  /** @param {string} id */
  async open(id) {
    if (!this.api) return;
    const r = await this.api.getCallflow(id);
    this.load(r.data, r.revision);
    this.emit('sb-opened');
  }

  newFlow() {
    this.flowId = null;
    this.revision = undefined;
    this.doc = emptyDoc();
    this.dirtyMemo = null;
    this.baseline = canonical(docToJSON(this.doc, false));
    this.savedNumbers = [];
    this.history.clear();
    this.serverErrors.clear();
    this.stale = false;
    this.diagram.selected = ROOT;
    this.diagram.collapsed = new Set();
    this.clearToasts();
    this.show();
    this.emit('sb-opened');
  }

  close() {
    this.doc = null;
    this.dirtyMemo = null;
    this.flowId = null;
    this.revision = undefined;
    this.history.clear();
    this.clearToasts();
    this.emptyEl.hidden = false;
    this.mainEl.hidden = true;
    this.emit('sb-closed');
  }

  show() {
    this.emptyEl.hidden = true;
    this.mainEl.hidden = false;
    this.render();
    this.diagram.focusBlock(this.diagram.selected);
  }

  /** @param {string} type */
  emit(type) {
    this.dispatchEvent(new CustomEvent(type, { bubbles: true }));
  }

  /**
   * Asks before throwing away unsaved changes; true when it may go ahead.
   * @param {string} [action]
   */
  async confirmDiscard(action = 'leave') {
    if (!this.dirty) return true;
    return confirmDialog({
      title: 'Discard unsaved changes?',
      message: `You have changed “${this.displayName}” and not saved it. If you ${action}, your changes are lost.`,
      confirm: 'Discard changes', cancel: 'Keep editing', danger: true,
    });
  }

  // ---- rendering ----

  render() {
    this.dirtyMemo = null;
    if (!this.doc) return;
    this.computeMarkers();
    // An error toast about incomplete blocks goes once they are fixed.
    if (![...this.markers.values()].some((m) => m.incomplete.length || m.errors.length)) this.toasts.querySelector('[data-testid="toast-incomplete"]')?.remove();
    this.diagram.doc = this.doc;
    this.diagram.markers = this.markers;
    this.diagram.untitled = this.flowId ? 'Unnamed call flow' : 'New call flow';
    this.diagram.render();
    this.renderToolbar();
  }

  /** @param {boolean} [notify] tell the page (list, test call) too; not on a mere selection */
  renderToolbar(notify = true) {
    if (!this.doc) return;
    const dirty = this.dirty;
    this.titleEl.textContent = this.displayName;
    this.stateEl.textContent = this.busy ? 'Saving…' : dirty ? 'Unsaved changes' : this.flowId ? 'Saved' : 'Not saved yet';
    this.stateEl.className = `state-chip${dirty ? ' dirty' : ''}`;
    this.undoBtn.disabled = !this.history.canUndo;
    this.redoBtn.disabled = !this.history.canRedo;
    const sel = this.diagram.selected;
    this.addBtn.disabled = !canTakeChild(this.doc, sel, (n) => this.entryOf(n));
    this.moveBtn.disabled = sel === ROOT;
    this.deleteBtn.disabled = sel === ROOT;
    this.saveBtn.disabled = !dirty || this.busy;
    this.zoomLabel.textContent = `${Math.round(this.diagram.zoom * 100)}%`;
    this.zoomLabel.setAttribute('aria-label', `Reset zoom from ${this.zoomLabel.textContent}`);
    if (notify) this.emit('sb-changed');
  }

  computeMarkers() {
    /** @type {Map<string, Marker>} */
    const out = new Map();
    const doc = /** @type {FlowDoc} */ (this.doc);
    if (this.problemCache.size > 5000) this.problemCache.clear();
    for (const { node } of walk(doc)) {
      const entry = this.entryOf(node.module);
      // The schema's verdict on a block depends on its module and data
      // only: an edit checks the blocks it changed, the rest are looked up.
      let incomplete = /** @type {string[]} */ ([]);
      if (entry) {
        const key = `${node.module}\u0000${JSON.stringify(node.data)}`;
        const known = this.problemCache.get(key);
        if (known) incomplete = known;
        else {
          incomplete = validateData(entry.schema, node.data).map((p) => p.message);
          this.problemCache.set(key, incomplete);
        }
      }
      const errors = [...(this.serverErrors.get(node.uid) || [])];
      if (!entry && this.catalog.length) errors.push(`This server has no action “${node.module}”`);
      errors.push(...unknownRuleRefs(node));
      if (incomplete.length || errors.length) out.set(node.uid, { incomplete, errors });
    }
    const rootErr = this.serverErrors.get(ROOT);
    if (rootErr && rootErr.length) out.set(ROOT, { incomplete: [], errors: rootErr });
    this.markers = out;
  }

  /** @param {number} z */
  setZoom(z) {
    this.diagram.zoom = Math.min(1.5, Math.max(0.1, Math.round(z * 10) / 10));
    if (z < 0.1) this.diagram.zoom = Math.max(0.02, z);
    this.render();
  }

  /** Zooms so the whole flow shows, between 10% and 100%. */
  fit() {
    const canvas = this.diagram.parentElement;
    if (!canvas) return;
    // Measured, zoomed, measured again: card text and borders do not scale
    // exactly, so a second pass corrects the first.
    for (let pass = 0; pass < 3; pass++) {
      const root = this.diagram.tree.firstElementChild;
      if (!root) return;
      const z = this.diagram.zoom;
      const r = root.getBoundingClientRect();
      const ratio = Math.min((canvas.clientWidth - 40) / r.width, (canvas.clientHeight - 40) / r.height);
      const next = Math.max(0.02, Math.min(1, Math.floor(z * ratio * 100) / 100));
      if (Math.abs(next - z) < 0.005) break;
      this.diagram.zoom = next;
      this.render();
    }
    canvas.scrollTo({ left: 0, top: 0 });
  }

  // ---- messages ----

  /**
   * @param {string} message
   * @param {{kind?: 'info'|'success'|'error', actions?: Array<{label: string, run: () => void}>, persist?: boolean, testid?: string}} [o]
   */
  toast(message, o = {}) {
    const kind = o.kind || 'info';
    const el = h('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': o.testid || `toast-${kind}` },
      icon(kind === 'error' ? 'error' : kind === 'success' ? 'check' : 'info'),
      h('div', { class: 'toast-text' }, message),
      (o.actions || []).map((a) => h('button', { type: 'button', class: 'btn secondary small', onclick: () => { el.remove(); a.run(); } }, a.label)),
      h('button', { type: 'button', class: 'icon-btn small', 'aria-label': 'Dismiss', title: 'Dismiss', onclick: () => el.remove() }, icon('close', 'icon sm')));
    while (this.toasts.childElementCount >= 3) this.toasts.firstElementChild?.remove();
    this.toasts.append(el);
    if (!o.persist && kind !== 'error') window.setTimeout(() => el.remove(), 5000);
  }

  clearToasts() {
    this.toasts.replaceChildren();
  }

  /** @param {string} text */
  announce(text) {
    this.announcer.textContent = '';
    window.setTimeout(() => { this.announcer.textContent = text; }, 30);
  }

  // ---- changes ----

  /**
   * Applies one undoable change.
   * @param {(doc: FlowDoc) => void} fn
   * @param {{select?: string}} [o]
   */
  change(fn, o = {}) {
    const doc = /** @type {FlowDoc} */ (this.doc);
    this.history.push(doc);
    fn(doc);
    if (o.select) this.diagram.selected = o.select;
    this.render();
  }

  undo() {
    if (!this.doc) return;
    const prev = this.history.undo(this.doc);
    if (!prev) return;
    this.doc = prev;
    this.keepSelection();
    this.render();
    this.diagram.focusBlock(this.diagram.selected);
    this.announce('Undone');
  }

  redo() {
    if (!this.doc) return;
    const next = this.history.redo(this.doc);
    if (!next) return;
    this.doc = next;
    this.keepSelection();
    this.render();
    this.diagram.focusBlock(this.diagram.selected);
    this.announce('Redone');
  }

  keepSelection() {
    const doc = /** @type {FlowDoc} */ (this.doc);
    if (this.diagram.selected !== ROOT && !find(doc, this.diagram.selected)) this.diagram.selected = ROOT;
  }

  /** @param {string} id */
  labelOf(id) {
    if (id === ROOT) return 'the Main Callflow Block';
    const loc = this.doc ? find(this.doc, id) : null;
    if (!loc) return 'the block';
    const e = this.entryOf(loc.node.module);
    return e ? e.label : loc.node.module;
  }

  /**
   * A block's label with its caption: "Text to speech: Welcome".
   * @param {string} id
   */
  titleOf(id) {
    const loc = id === ROOT || !this.doc ? null : find(this.doc, id);
    if (!loc) return capital(this.labelOf(id));
    const e = this.entryOf(loc.node.module);
    const caption = e ? captionOf(e.schema, loc.node.data) : '';
    return `${capital(this.labelOf(id))}${caption ? `: ${caption}` : ''}`;
  }

  /** @param {string} id */
  branching(id) {
    if (id === ROOT || !this.doc) return false;
    const loc = find(this.doc, id);
    const e = loc ? this.entryOf(loc.node.module) : undefined;
    return Boolean(e && (e.free_branches || e.branches.length > 1));
  }

  /**
   * Picks a key for a new child of parent: the only one left, or asks.
   * @param {string} parent
   * @param {string} childLabel
   * @param {string} [suggested]
   * @returns {Promise<string|null>}
   */
  async chooseKey(parent, childLabel, suggested) {
    return chooseKey(this, parent, childLabel, suggested);
  }

  /**
   * Adds a new block of a catalog action under a parent: key first (for a
   * branching parent), then the block's pop-up; Cancel there removes it.
   * @param {string} parent
   * @param {CatalogEntry} entry
   */
  async insertNew(parent, entry) {
    return insertNew(this, parent, entry);
  }

  /** @param {string} id */
  async addAction(id) {
    return addAction(this, id);
  }

  /**
   * Moves a block with its subtree under another block.
   * @param {string} id
   * @param {string} target
   */
  async moveTo(id, target) {
    return moveTo(this, id, target);
  }

  /** @param {string} id */
  async move(id) {
    return move(this, id);
  }

  /** @param {string} id */
  moveTargets(id) {
    return moveTargets(this, id);
  }

  /**
   * "Main › Menu › Key 1"
   * @param {string} id
   */
  pathLabel(id) {
    return pathLabel(this, id);
  }

  /** @param {string} id */
  async removeBlock(id) {
    return removeBlock(this, id);
  }

  /** @param {string} id */
  async changeKey(id) {
    return changeKey(this, id);
  }

  /** @param {string} id */
  async edit(id) {
    return edit(this, id);
  }

  /**
   * @param {string} id
   * @param {HTMLElement} anchor
   */
  blockMenu(id, anchor) {
    return blockMenu(this, id, anchor);
  }

  // ---- drag and drop ----

  /** @param {DragState|null} d */
  setDrag(d) {
    this.dragging = d;
    if (d) this.diagram.markTargets();
    else this.diagram.clearTargets();
  }

  /** @param {string} target */
  canDrop(target) {
    const doc = this.doc;
    const d = this.dragging;
    if (!doc || !d) return false;
    if (d.kind === 'new') return canTakeChild(doc, target, (n) => this.entryOf(n));
    const loc = find(doc, d.uid);
    if (!loc || contains(loc.node, target)) return false;
    return canTakeChild(doc, target, (n) => this.entryOf(n));
  }

  /** @param {string} target */
  async drop(target) {
    const d = this.dragging;
    this.setDrag(null);
    if (!d) return;
    if (d.kind === 'new') await this.insertNew(target, d.entry);
    else await this.moveTo(d.uid, target);
  }

  // ---- saving (editor-save.js) ----

  saveMenu(focusLast = false) {
    return saveMenu(this, focusLast);
  }

  /**
   * Saves the flow. True when it was stored.
   * @returns {Promise<boolean>}
   */
  async save() {
    return save(this);
  }

  /** @param {ApiError} e */
  showServerErrors(e) {
    return showServerErrors(this, e);
  }

  async staleConflict() {
    return staleConflict(this);
  }

  async reload() {
    return reload(this);
  }

  async saveAndDuplicate() {
    return saveAndDuplicate(this);
  }

  async saveAndCreate() {
    return saveAndCreate(this);
  }

  async cancel() {
    return cancel(this);
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (!this.doc) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    const mod = e.ctrlKey || e.metaKey;
    if (mod && !e.altKey && e.key.toLowerCase() === 'z') {
      if (e.shiftKey) this.redo(); else this.undo();
      e.preventDefault();
    } else if (mod && e.key.toLowerCase() === 'y') {
      this.redo();
      e.preventDefault();
    } else if (mod && e.key.toLowerCase() === 's') {
      e.preventDefault();
      if (this.dirty) void this.save();
    }
  }
}

/**
 * The document path of a block ("" for the main block).
 * @param {FlowDoc} doc
 * @param {string} id
 * @returns {string|null}
 */
function pathOfUid(doc, id) {
  if (id === ROOT) return '';
  for (const [p, u] of pathsOf(doc)) if (u === id) return p;
  return null;
}

/** @param {string} s */
export function capital(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

customElements.define('sb-editor', SbEditor);
