// @ts-check
// Editing a call flow's blocks: keys for new children, adding, moving,
// deleting, changing a branch key, the pop-ups, the block menu. The
// editor's methods call these.

import { h } from './dom.js';
import { icon } from './icons.js';
import { ROOT, attach, canTakeChild, canonical, contains, detach, find, keyLabel, newUid, openKeys, rekey, size, walk } from './model.js';
import { confirmDialog, keyDialog, pickerDialog } from './dialogs.js';
import { mainBlockDialog, paramsDialog } from './forms.js';
import { openMenu } from './menu.js';
import { blockRefHook } from './ringmembers.js';
import { popupExtra } from './pivottry.js';
import { capital } from './editor.js';

/** @typedef {import('./editor.js').SbEditor} SbEditor */
/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */
/** @typedef {import('./types.js').FlowDoc} FlowDoc */
/** @typedef {import('./types.js').FlowNode} FlowNode */

/**
 * @param {SbEditor} ed
 * Picks a key for a new child of parent: the only one left, or asks.
 * @param {string} parent
 * @param {string} childLabel
 * @param {string} [suggested]
 * @returns {Promise<string|null>}
 */
export async function chooseKey(ed, parent, childLabel, suggested) {
  const doc = /** @type {FlowDoc} */ (ed.doc);
  const k = openKeys(doc, parent, (n) => ed.entryOf(n));
  if (!k.free && k.keys.length === 0) return null;
  if (!k.free && k.keys.length === 1) return k.keys[0];
  const loc = parent === ROOT ? null : find(doc, parent);
  const used = loc ? loc.node.children.map((b) => b.key) : [];
  return keyDialog({ parentLabel: ed.labelOf(parent), childLabel, keys: k.keys, used, free: k.free, suggested, keyLabel });
}

/**
 * @param {SbEditor} ed
 * Adds a new block of a catalog action under a parent: key first (for a
 * branching parent), then the block's pop-up; Cancel there removes it.
 * @param {string} parent
 * @param {CatalogEntry} entry
 */
export async function insertNew(ed, parent, entry) {
  if (!ed.doc) return;
  if (!canTakeChild(ed.doc, parent, (n) => ed.entryOf(n))) {
    ed.toast(`${capital(ed.labelOf(parent))} takes no further block.`, { kind: 'error' });
    return;
  }
  const key = await ed.chooseKey(parent, entry.label);
  if (key === null) return;
  /** @type {FlowNode} */
  const node = { uid: newUid(), module: entry.name, data: {}, children: [], extra: {} };
  ed.change((d) => attach(d, parent, key, node), { select: node.uid });
  ed.diagram.focusBlock(node.uid);
  const data = await paramsDialog(entry, entry.name, {}, { isNew: true, ref: blockRefHook, extra: popupExtra(entry.name) });
  if (data === null) {
    // Cancel on a new block's pop-up takes the block away again.
    const d = /** @type {FlowDoc} */ (ed.doc);
    detach(d, node.uid);
    ed.history.drop();
    ed.diagram.selected = parent;
    ed.render();
    ed.diagram.focusBlock(parent);
    ed.announce(`${entry.label} not added`);
    return;
  }
  node.data = data;
  ed.render();
  ed.diagram.focusBlock(node.uid);
  ed.announce(`${entry.label} added under ${ed.labelOf(parent)}${key !== '_' ? `, ${keyLabel(key)}` : ''}`);
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 */
export async function addAction(ed, id) {
  if (!ed.doc) return;
  if (!canTakeChild(ed.doc, id, (n) => ed.entryOf(n))) {
    ed.toast(`${capital(ed.labelOf(id))} takes no further block${id === ROOT ? ': it already leads to the first block' : ''}.`, { kind: 'error' });
    return;
  }
  const chosen = await pickerDialog({
    title: `Add action after ${ed.labelOf(id)}`,
    label: 'Actions',
    empty: 'No action matches.',
    items: ed.catalog.map((e) => ({ id: e.name, label: e.label, detail: e.group, icon: e.icon })).sort((a, b) => a.label.localeCompare(b.label)),
  });
  if (!chosen) return;
  const entry = ed.entryOf(chosen);
  if (entry) await ed.insertNew(id, entry);
}

/**
 * @param {SbEditor} ed
 * Moves a block with its subtree under another block.
 * @param {string} id
 * @param {string} target
 */
export async function moveTo(ed, id, target) {
  const doc = /** @type {FlowDoc} */ (ed.doc);
  const loc = find(doc, id);
  if (!loc) return;
  const key = await ed.chooseKey(target, ed.labelOf(id), loc.key || '_');
  if (key === null) return;
  ed.change((d) => {
    const n = detach(d, id);
    if (n) attach(d, target, key, n);
  }, { select: id });
  ed.diagram.focusBlock(id);
  ed.announce(`Moved ${ed.labelOf(id)} under ${ed.labelOf(target)}`);
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 */
export async function move(ed, id) {
  const doc = ed.doc;
  if (!doc || id === ROOT) return;
  const loc = find(doc, id);
  if (!loc) return;
  const targets = ed.moveTargets(id);
  const chosen = await pickerDialog({
    title: `Move ${ed.labelOf(id)}`,
    label: 'New place',
    help: `${capital(ed.labelOf(id))}${loc.node.children.length ? ' and the blocks after it go' : ' goes'} after the block you choose.`,
    empty: 'No block can take it.',
    items: targets.map((t) => ({ id: t, label: ed.titleOf(t), detail: ed.pathLabel(t), icon: t === ROOT ? 'flow' : ed.entryOf(find(doc, t)?.node.module || '')?.icon })),
  });
  if (chosen) await ed.moveTo(id, chosen);
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 */
export function moveTargets(ed, id) {
  const doc = /** @type {FlowDoc} */ (ed.doc);
  const loc = find(doc, id);
  if (!loc) return [];
  /** @type {string[]} */
  const out = [];
  if (canTakeChild(doc, ROOT, (n) => ed.entryOf(n))) out.push(ROOT);
  for (const { node } of walk(doc)) {
    if (contains(loc.node, node.uid)) continue;
    if (canTakeChild(doc, node.uid, (n) => ed.entryOf(n))) out.push(node.uid);
  }
  return out;
}

/**
 * "Main › Menu › Key 1"
 * @param {SbEditor} ed
 * @param {string} id
 */
export function pathLabel(ed, id) {
  const doc = /** @type {FlowDoc} */ (ed.doc);
  if (id === ROOT) return 'Start';
  /** @type {string[]} */
  const parts = [];
  let cur = find(doc, id);
  while (cur) {
    const e = ed.entryOf(cur.node.module);
    parts.unshift(`${cur.parent && cur.key !== '_' ? `${keyLabel(cur.key || '_')} → ` : ''}${e ? e.label : cur.node.module}`);
    cur = cur.parent ? find(doc, cur.parent.uid) : null;
  }
  return parts.join(' › ');
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 */
export async function removeBlock(ed, id) {
  const doc = ed.doc;
  if (!doc) return;
  if (id === ROOT) {
    ed.toast('The Main Callflow Block cannot be deleted.', { kind: 'error' });
    return;
  }
  const loc = find(doc, id);
  if (!loc) return;
  const n = size(loc.node) - 1;
  const label = ed.labelOf(id);
  const ok = await confirmDialog({
    title: `Delete ${label}?`,
    message: n ? `This deletes ${label} and the ${n === 1 ? 'block' : `${n} blocks`} after it. You can undo it.` : `This deletes the ${label} block. You can undo it.`,
    confirm: 'Delete', danger: true,
  });
  if (!ok) return;
  const parent = loc.parent ? loc.parent.uid : ROOT;
  ed.change((d) => { detach(d, id); }, { select: parent });
  ed.diagram.focusBlock(parent);
  ed.announce(`${label} deleted`);
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 */
export async function changeKey(ed, id) {
  const doc = ed.doc;
  if (!doc || id === ROOT) return;
  const loc = find(doc, id);
  if (!loc || !loc.parent) {
    ed.toast('The first block has no branch key.', { kind: 'info' });
    return;
  }
  const parent = loc.parent;
  const k = openKeys(doc, parent.uid, (n) => ed.entryOf(n));
  const current = loc.key || '_';
  const keys = [current, ...k.keys.filter((x) => x !== current)];
  if (!k.free && keys.length === 1) {
    ed.toast(`${capital(ed.labelOf(parent.uid))} has no other branch.`, { kind: 'info' });
    return;
  }
  const used = parent.children.map((b) => b.key).filter((x) => x !== current);
  const key = await keyDialog({ parentLabel: ed.labelOf(parent.uid), childLabel: ed.labelOf(id), keys, used, free: k.free, suggested: current, keyLabel });
  if (key === null || key === current) return;
  ed.change((d) => rekey(d, id, key), { select: id });
  ed.diagram.focusBlock(id);
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 */
export async function edit(ed, id) {
  const doc = ed.doc;
  if (!doc) return;
  if (id === ROOT) {
    const errs = ed.serverErrors.get(ROOT);
    const r = await mainBlockDialog({ name: doc.name, numbers: doc.numbers, patterns: doc.patterns }, errs ? errs.join(' ') : undefined);
    if (!r) return;
    if (r.name === doc.name && canonical(r.numbers) === canonical(doc.numbers) && canonical(r.patterns) === canonical(doc.patterns)) return;
    ed.serverErrors.delete(ROOT);
    ed.change((d) => { d.name = r.name; d.numbers = r.numbers; d.patterns = r.patterns; }, { select: ROOT });
    ed.diagram.focusBlock(ROOT);
    return;
  }
  const loc = find(doc, id);
  if (!loc) return;
  const node = loc.node;
  const data = await paramsDialog(ed.entryOf(node.module), node.module, node.data, { isNew: false, ref: blockRefHook, extra: popupExtra(node.module) });
  if (!data || canonical(data) === canonical(node.data)) return;
  ed.serverErrors.delete(id);
  ed.change((d) => {
    const l = find(d, id);
    if (l) l.node.data = data;
  }, { select: id });
  ed.diagram.focusBlock(id);
}

/**
 * @param {SbEditor} ed
 * @param {string} id
 * @param {HTMLElement} anchor
 */
export function blockMenu(ed, id, anchor) {
  const doc = ed.doc;
  if (!doc) return;
  const canAdd = canTakeChild(doc, id, (n) => ed.entryOf(n));
  /** @type {import('./menu.js').MenuItem[]} */
  const items = [
    { label: id === ROOT ? 'Edit name and numbers…' : 'Edit settings…', icon: 'edit', hint: 'Enter', run: () => void ed.edit(id), testid: 'menu-edit' },
    { label: 'Add action…', icon: 'plus', hint: 'A', disabled: !canAdd, run: () => void ed.addAction(id), testid: 'menu-add' },
  ];
  if (id !== ROOT) {
    const loc = find(doc, id);
    items.push(
      { label: 'Change branch key…', icon: 'key', hint: 'K', disabled: !loc || !loc.parent, run: () => void ed.changeKey(id), testid: 'menu-key' },
      { label: 'Move…', icon: 'move', hint: 'M', run: () => void ed.move(id), testid: 'menu-move' },
      { label: 'Delete…', icon: 'trash', hint: 'Del', danger: true, run: () => void ed.removeBlock(id), testid: 'menu-delete' });
  }
  openMenu(anchor, items, { label: `Actions for ${ed.labelOf(id)}` });
}

/**
 * @param {string} label
 * @param {string} iconId
 * @param {() => void} run
 * @param {{testid?: string, text?: boolean, shortcut?: string}} [o]
 */
export function toolButton(label, iconId, run, o = {}) {
  return h('button', {
    type: 'button', class: `btn ${o.text ? 'ghost' : 'icon-btn'}`, 'aria-label': o.text ? undefined : label,
    title: o.shortcut ? `${label} (${o.shortcut})` : label, 'aria-keyshortcuts': o.shortcut, onclick: run, 'data-testid': o.testid,
  }, icon(iconId), o.text ? h('span', null, label) : null);
}
