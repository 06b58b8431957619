// @ts-check
// Saving a call flow: the Save menu, the save itself with its markers,
// field errors and stale-revision (409) handling, reload, Save and
// Duplicate, Save and Create, Cancel. The editor's methods call these.

import { h } from './dom.js';
import { ApiError, describeError } from './api.js';
import { ROOT, canonical, docFromJSON, docToJSON, keyLabel, uidForPath, walk } from './model.js';
import { captionOf } from './schema.js';
import { confirmDialog, modal } from './dialogs.js';
import { openMenu } from './menu.js';
import { capital } from './editor.js';

/** @typedef {import('./editor.js').SbEditor} SbEditor */
/** @typedef {import('./types.js').FlowDoc} FlowDoc */

/**
 * @param {SbEditor} ed
 */
export function saveMenu(ed, focusLast = false) {
  if (ed.saveBtn.disabled) return;
  openMenu(ed.saveBtn, [
    { label: 'Save Changes', icon: 'check', hint: 'Ctrl+S', run: () => void ed.save(), testid: 'save-changes' },
    { label: 'Save and Duplicate', icon: 'copy', run: () => void ed.saveAndDuplicate(), testid: 'save-duplicate' },
    { label: 'Save and Create', icon: 'plus', run: () => void ed.saveAndCreate(), testid: 'save-create' },
    { label: 'Cancel', icon: 'close', run: () => void ed.cancel(), testid: 'save-cancel' },
  ], { label: 'Save', align: 'right', focusLast });
}

/**
 * @param {SbEditor} ed
 * Saves the flow. True when it was stored.
 * @returns {Promise<boolean>}
 */
export async function save(ed) {
  const doc = ed.doc;
  const api = ed.api;
  if (!doc || !api || ed.busy) return false;
  ed.computeMarkers();
  const bad = walk(doc).filter(({ node }) => {
    const m = ed.markers.get(node.uid);
    return m && (m.incomplete.length || m.errors.some((x) => x.startsWith('This server has no action')));
  });
  if (bad.length) {
    const first = bad[0].node;
    const m = ed.markers.get(first.uid);
    ed.toast(`Not saved: ${bad.length === 1 ? '1 block is' : `${bad.length} blocks are`} incomplete. ${capital(ed.labelOf(first.uid))}: ${m ? [...m.errors, ...m.incomplete][0] : ''}.`, { kind: 'error', testid: 'toast-incomplete' });
    ed.diagram.selected = first.uid;
    ed.render();
    ed.diagram.focusBlock(first.uid);
    return false;
  }
  ed.busy = true;
  ed.renderToolbar();
  try {
    const body = docToJSON(doc);
    const r = ed.flowId ? await api.updateCallflow(ed.flowId, body, ed.revision) : await api.createCallflow(body);
    ed.busy = false;
    ed.load(r.data, r.revision, { keepView: true });
    for (const t of ed.toasts.querySelectorAll('.toast.error')) t.remove();
    ed.toast(`Saved “${ed.displayName}”.`, { kind: 'success', testid: 'toast-saved' });
    ed.emit('sb-saved');
    ed.emit('sb-opened');
    return true;
  } catch (e) {
    ed.busy = false;
    ed.renderToolbar();
    if (e instanceof ApiError && e.status === 409) {
      await ed.staleConflict();
      return false;
    }
    if (e instanceof ApiError && e.status === 400) {
      ed.showServerErrors(e);
      return false;
    }
    ed.toast(`Not saved: ${describeError(e)}`, { kind: 'error' });
    return false;
  } finally {
    ed.busy = false;
    ed.renderToolbar();
  }
}

/**
 * @param {SbEditor} ed
 * @param {ApiError} e
 */
export function showServerErrors(ed, e) {
  const doc = /** @type {FlowDoc} */ (ed.doc);
  ed.serverErrors.clear();
  /** @type {string[]} */
  const messages = [];
  for (const f of e.fieldErrors()) {
    let msg = f.message;
    if (f.rule === 'unique' && (f.path === 'numbers' || f.path === 'patterns')) {
      const d = /** @type {Record<string, Record<string, {callflow_id?: string, name?: string, cause?: string}>>} */ (e.data);
      const u = d[f.path] && d[f.path].unique;
      const other = u && (u.name || u.callflow_id);
      msg = `${f.path === 'numbers' ? 'Number' : 'Pattern'} ${u && u.cause ? u.cause : ''} is already used by call flow “${other || 'another flow'}”.`;
    }
    const id = uidForPath(doc, f.path) || ROOT;
    const list = ed.serverErrors.get(id) || [];
    list.push(msg);
    ed.serverErrors.set(id, list);
    messages.push(msg);
  }
  ed.render();
  const first = ed.serverErrors.keys().next().value;
  if (first) ed.diagram.focusBlock(first);
  ed.toast(`Not saved: ${messages.join(' ') || e.message}`, { kind: 'error', testid: 'toast-not-saved' });
}

/**
 * Someone else saved the flow since it was opened (409). Their change is
 * shown beside mine, block by block (added, removed, changed, with the
 * fields), each with "Keep mine" / "Take theirs"; saving the choices
 * starts from their version. Or reload theirs, or keep editing.
 * @param {SbEditor} ed
 */
export async function staleConflict(ed) {
  ed.stale = true;
  /** @type {{data: Record<string, unknown>, revision?: string}|null} */
  let theirs = null;
  if (ed.api && ed.flowId) {
    try { theirs = await ed.api.getCallflow(ed.flowId); } catch { theirs = null; }
  }
  const mine = docToJSON(/** @type {FlowDoc} */ (ed.doc));
  const rows = theirs ? diffRows(ed, JSON.parse(ed.baseline), mine, theirs.data) : [];
  const table = rows.length ? diffTable(rows) : null;
  const choice = await modal({
    title: 'Someone else saved this call flow',
    role: 'alertdialog',
    className: `confirm stale${table ? ' wide' : ''}`,
    body: [
      h('p', null, `“${ed.displayName}” was changed and saved by someone else after you opened it. Your changes are not saved, and nothing was overwritten.`),
      table
        ? h('p', null, 'Here is their change beside yours. Choose what to keep for each block, then save; or reload their version (your changes are dropped).')
        : h('p', null, 'Reload to see their version (your changes are dropped), or keep editing here to copy what you need first.'),
      table,
    ],
    actions: [
      { label: 'Keep editing', kind: 'secondary', testid: 'stale-keep' },
      { label: 'Reload their version', kind: table ? 'secondary' : 'primary', submit: true, value: 'reload', testid: 'stale-reload' },
      ...(table ? [{ label: 'Save with my choices', kind: /** @type {'primary'} */ ('primary'), submit: true, value: 'merge', testid: 'stale-merge' }] : []),
    ],
    onSubmit: (v) => v || 'reload',
  });
  if (choice === 'reload') {
    await ed.reload();
    return;
  }
  if (choice === 'merge' && theirs) {
    const merged = mergeDocs(theirs.data, mine, rows);
    ed.load(theirs.data, theirs.revision, { keepView: true });
    ed.history.push(/** @type {FlowDoc} */ (ed.doc));
    ed.doc = docFromJSON(merged);
    ed.render();
    await ed.save();
    return;
  }
  ed.toast('Not saved: someone else saved this call flow meanwhile. Saving again will not overwrite their version.', {
    kind: 'error', testid: 'toast-stale', actions: [{ label: 'Reload their version', run: () => void ed.reload() }],
  });
}

/**
 * One difference between the saved version I started from and mine or
 * theirs: a block (by its place in the tree) or a top-level field.
 * @typedef {{
 *   field: string, path: string[], label: string,
 *   base: RawNode|null, mine: RawNode|null, theirs: RawNode|null,
 *   mineChanged: boolean, theirsChanged: boolean, mineText: string, theirsText: string,
 *   radios: {mine: HTMLInputElement, theirs: HTMLInputElement}|null,
 * }} DiffRow
 */

/** @typedef {{module: string, data: Record<string, unknown>, key: string, parentModule: string}} RawNode */

/**
 * Every block of a stored (Kazoo-shaped) document by its place.
 * @param {Record<string, unknown>} doc
 * @returns {Map<string, {path: string[], node: RawNode}>}
 */
function flatten(doc) {
  /** @type {Map<string, {path: string[], node: RawNode}>} */
  const out = new Map();
  /**
   * @param {unknown} raw
   * @param {string[]} path
   * @param {string} parentModule
   */
  const visit = (raw, path, parentModule) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return;
    const n = /** @type {Record<string, unknown>} */ (raw);
    const module = typeof n.module === 'string' ? n.module : '';
    const data = n.data && typeof n.data === 'object' && !Array.isArray(n.data) ? /** @type {Record<string, unknown>} */ (n.data) : {};
    out.set(path.join('\u0001'), { path, node: { module, data, key: path.length ? path[path.length - 1] : '', parentModule } });
    const ch = n.children && typeof n.children === 'object' ? /** @type {Record<string, unknown>} */ (n.children) : {};
    for (const [k, c] of Object.entries(ch)) visit(c, [...path, k], module);
  };
  if (doc.flow) visit(doc.flow, [], '');
  return out;
}

/**
 * @param {SbEditor} ed
 * @param {Record<string, unknown>} base what I opened
 * @param {Record<string, unknown>} mine
 * @param {Record<string, unknown>} theirs what is stored now
 * @returns {DiffRow[]}
 */
function diffRows(ed, base, mine, theirs) {
  /** @type {DiffRow[]} */
  const rows = [];
  const same = (/** @type {unknown} */ a, /** @type {unknown} */ b) => canonical(a ?? null) === canonical(b ?? null);
  for (const [field, label] of [['name', 'Name'], ['numbers', 'Numbers'], ['patterns', 'Patterns']]) {
    const b = base[field]; const m = mine[field]; const t = theirs[field];
    const mineChanged = !same(b, m);
    const theirsChanged = !same(b, t);
    if ((!mineChanged && !theirsChanged) || same(m, t)) continue;
    const show = (/** @type {unknown} */ v) => (Array.isArray(v) ? v.join(', ') || 'none' : String(v || '') || 'none');
    rows.push({ field, path: [], label, base: null, mine: null, theirs: null, mineChanged, theirsChanged,
      mineText: mineChanged ? `${show(b)} → ${show(m)}` : 'No change', theirsText: theirsChanged ? `${show(b)} → ${show(t)}` : 'No change', radios: null });
  }
  const fb = flatten(base); const fm = flatten(mine); const ft = flatten(theirs);
  const keys = [...new Set([...fb.keys(), ...fm.keys(), ...ft.keys()])].sort((a, b) => a.split('\u0001').length - b.split('\u0001').length || a.localeCompare(b));
  const sig = (/** @type {RawNode|null} */ n) => (n ? canonical({ module: n.module, data: n.data }) : null);
  for (const k of keys) {
    const b = fb.get(k)?.node || null; const m = fm.get(k)?.node || null; const t = ft.get(k)?.node || null;
    const path = (fb.get(k) || fm.get(k) || ft.get(k))?.path || [];
    const mineChanged = sig(b) !== sig(m);
    const theirsChanged = sig(b) !== sig(t);
    if ((!mineChanged && !theirsChanged) || sig(m) === sig(t)) continue;
    rows.push({ field: '', path, label: placeLabel(ed, path, fb, fm, ft), base: b, mine: m, theirs: t, mineChanged, theirsChanged,
      mineText: mineChanged ? change(ed, b, m) : 'No change', theirsText: theirsChanged ? change(ed, b, t) : 'No change', radios: null });
  }
  return rows;
}

/**
 * "Menu › Key 1 → Pivot": where a block is, in whichever version has it.
 * @param {SbEditor} ed
 * @param {string[]} path
 * @param {...Map<string, {path: string[], node: RawNode}>} maps
 */
function placeLabel(ed, path, ...maps) {
  const at = (/** @type {string[]} */ p) => { for (const m of maps) { const x = m.get(p.join('\u0001')); if (x) return x.node; } return null; };
  /** @type {string[]} */
  const parts = [];
  for (let i = 0; i <= path.length; i++) {
    const n = at(path.slice(0, i));
    if (!n) continue;
    const label = ed.entryOf(n.module)?.label || n.module;
    parts.push(i === 0 ? label : `${keyLabel(n.key, n.parentModule)} → ${label}`);
  }
  return parts.join(' › ') || 'First block';
}

/**
 * What changed from a to b, in words.
 * @param {SbEditor} ed
 * @param {RawNode|null} a
 * @param {RawNode|null} b
 */
function change(ed, a, b) {
  const entry = b ? ed.entryOf(b.module) : a ? ed.entryOf(a.module) : undefined;
  const name = (/** @type {RawNode} */ n) => { const e = ed.entryOf(n.module); const c = e ? captionOf(e.schema, n.data) : ''; return `${e ? e.label : n.module}${c ? ` “${c}”` : ''}`; };
  if (!a && b) return `Added ${name(b)}`;
  if (a && !b) return `Removed ${name(a)} (and what follows it)`;
  if (!a || !b) return 'No change';
  if (a.module !== b.module) return `${name(a)} replaced by ${name(b)}`;
  const props = entry?.schema.properties || {};
  const fields = [...new Set([...Object.keys(a.data), ...Object.keys(b.data)])].filter((k) => canonical(a.data[k] ?? null) !== canonical(b.data[k] ?? null));
  const short = (/** @type {unknown} */ v) => { const s = v === undefined ? 'not set' : typeof v === 'string' ? v : JSON.stringify(v); return s.length > 48 ? `${s.slice(0, 47)}…` : s; };
  return fields.map((k) => `${props[k]?.title || k}: ${short(a.data[k])} → ${short(b.data[k])}`).join('; ');
}

/**
 * The side-by-side table, with a choice per row.
 * @param {DiffRow[]} rows
 */
function diffTable(rows) {
  const body = rows.map((r, i) => {
    const name = `stale-choice-${i}`;
    const pick = r.mineChanged; // mine by default where I changed something
    const mineR = h('input', { type: 'radio', name, value: 'mine', checked: pick, 'aria-label': `Keep mine: ${r.label}` });
    const theirsR = h('input', { type: 'radio', name, value: 'theirs', checked: !pick, 'aria-label': `Take theirs: ${r.label}` });
    r.radios = { mine: mineR, theirs: theirsR };
    const both = r.mineChanged && r.theirsChanged;
    return h('tr', { class: both ? 'both' : '', 'data-testid': 'stale-row' },
      h('th', { scope: 'row' }, r.label, both ? h('span', { class: 'diff-both' }, 'Both changed') : null),
      h('td', { class: r.theirsChanged ? 'changed' : 'muted' }, r.theirsText),
      h('td', { class: r.mineChanged ? 'changed' : 'muted' }, r.mineText),
      h('td', { class: 'diff-pick' }, h('label', null, mineR, ' Keep mine'), h('label', null, theirsR, ' Take theirs')));
  });
  return h('div', { class: 'diff-wrap' }, h('table', { class: 'diff-table', 'data-testid': 'stale-diff' },
    h('caption', { class: 'sr-only' }, 'Their change beside mine, block by block'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Block'), h('th', { scope: 'col' }, 'Their change'), h('th', { scope: 'col' }, 'My change'), h('th', { scope: 'col' }, 'Keep'))),
    h('tbody', null, body)));
}

/**
 * Their version with my side taken where chosen.
 * @param {Record<string, unknown>} theirs
 * @param {Record<string, unknown>} mine
 * @param {DiffRow[]} rows
 * @returns {Record<string, unknown>}
 */
function mergeDocs(theirs, mine, rows) {
  const out = structuredClone(theirs);
  const at = (/** @type {string[]} */ path) => {
    /** @type {any} */
    let n = out.flow;
    for (const k of path) {
      if (!n || !n.children || typeof n.children !== 'object' || !(k in n.children)) return null;
      n = n.children[k];
    }
    return n && typeof n === 'object' ? n : null;
  };
  const chosen = rows.filter((r) => r.mineChanged && r.radios && r.radios.mine.checked);
  for (const r of chosen) if (r.field) out[r.field] = structuredClone(mine[r.field]);
  // Additions and changes parents first; removals children first.
  for (const r of chosen.filter((x) => !x.field && x.mine).sort((a, b) => a.path.length - b.path.length)) {
    const m = /** @type {RawNode} */ (r.mine);
    const n = at(r.path);
    if (n) { n.module = m.module; n.data = structuredClone(m.data); continue; }
    if (!r.path.length) { out.flow = { module: m.module, data: structuredClone(m.data) }; continue; }
    const parent = at(r.path.slice(0, -1));
    if (!parent) continue; // its parent is gone in the version kept
    parent.children = parent.children && typeof parent.children === 'object' ? parent.children : {};
    parent.children[r.path[r.path.length - 1]] = { module: m.module, data: structuredClone(m.data) };
  }
  for (const r of chosen.filter((x) => !x.field && !x.mine).sort((a, b) => b.path.length - a.path.length)) {
    if (!r.path.length) { delete out.flow; continue; }
    const parent = at(r.path.slice(0, -1));
    if (parent && parent.children) delete parent.children[r.path[r.path.length - 1]];
  }
  return out;
}

/**
 * @param {SbEditor} ed
 */
export async function reload(ed) {
  if (!ed.flowId || !ed.api) return;
  try {
    const r = await ed.api.getCallflow(ed.flowId);
    ed.load(r.data, r.revision);
    // Their version may have another name: the list shows what is stored.
    ed.emit('sb-saved');
    ed.toast('Reloaded the latest saved version.', { kind: 'info' });
  } catch (e) {
    ed.toast(`Could not reload: ${describeError(e)}`, { kind: 'error' });
  }
}

/**
 * @param {SbEditor} ed
 */
export async function saveAndDuplicate(ed) {
  if (ed.dirty && !(await ed.save())) return;
  const doc = ed.doc;
  const api = ed.api;
  if (!doc || !api) return;
  const copy = docToJSON(doc);
  delete copy.id;
  copy.name = `${doc.name || 'Call flow'} copy`;
  copy.numbers = [];
  copy.patterns = [];
  try {
    const original = ed.displayName;
    const r = await api.createCallflow(copy);
    ed.load(r.data, r.revision);
    ed.emit('sb-saved');
    ed.emit('sb-opened');
    ed.toast(`Saved “${original}” and opened its copy “${ed.displayName}”. The copy has no numbers yet.`, { kind: 'success', testid: 'toast-duplicated' });
  } catch (e) {
    ed.toast(`Saved, but the copy could not be made: ${describeError(e)}`, { kind: 'error' });
  }
}

/**
 * @param {SbEditor} ed
 */
export async function saveAndCreate(ed) {
  if (ed.dirty && !(await ed.save())) return;
  ed.newFlow();
  ed.toast('Saved. This is a new call flow: click the Main Callflow Block to name it and add numbers.', { kind: 'success', testid: 'toast-created' });
}

/**
 * @param {SbEditor} ed
 */
export async function cancel(ed) {
  if (ed.dirty) {
    const ok = await confirmDialog({
      title: 'Discard your changes?',
      message: `Your changes to “${ed.displayName}” since it was last saved will be lost.`,
      confirm: 'Discard changes', cancel: 'Keep editing', danger: true,
    });
    if (!ok) return;
  }
  ed.close();
}
