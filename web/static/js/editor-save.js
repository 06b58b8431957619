// @ts-check
// Saving a call flow: the Save menu, the save itself with its markers,
// field errors and stale-revision (409) handling, reload, Save and
// Duplicate, Save and Create, Cancel. The editor's methods call these.

import { h } from './dom.js';
import { ApiError, describeError } from './api.js';
import { ROOT, docToJSON, uidForPath, walk } from './model.js';
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
 * @param {SbEditor} ed
 */
export async function staleConflict(ed) {
  ed.stale = true;
  const reload = await modal({
    title: 'Someone else saved this call flow',
    role: 'alertdialog',
    className: 'confirm stale',
    body: [
      h('p', null, `“${ed.displayName}” was changed and saved by someone else after you opened it. Your changes are not saved, and nothing was overwritten.`),
      h('p', null, 'Reload to see their version (your changes are dropped), or keep editing here to copy what you need first.'),
    ],
    actions: [
      { label: 'Keep my changes', kind: 'secondary', testid: 'stale-keep' },
      { label: 'Reload their version', kind: 'primary', submit: true, value: 'reload', testid: 'stale-reload' },
    ],
    onSubmit: () => true,
  });
  if (reload) {
    await ed.reload();
    return;
  }
  ed.toast('Not saved: someone else saved this call flow meanwhile. Saving again will not overwrite their version.', {
    kind: 'error', testid: 'toast-stale', actions: [{ label: 'Reload their version', run: () => void ed.reload() }],
  });
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
