// @ts-check
// The account's directory as the configurator holds it: every kind's
// listing, loaded once and refreshed after a change, so blocks and
// branches show names instead of ids; and the pop-up that creates or edits
// one document (from its kind's schema), used by the directory pages and
// as the side dialog of a block's pop-up.

import { h } from './dom.js';
import { modal } from './dialogs.js';
import { widget } from './forms.js';
import { fieldsOf, checkValue } from './schema.js';
import { kindInfo, REF_FIELDS } from './kinds.js';
import { ApiError, describeError } from './api.js';
import { refWidget } from './refpick.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./types.js').JSONSchema} JSONSchema */
/** @typedef {import('./forms.js').FieldWidget} FieldWidget */
/** @typedef {Record<string, unknown> & {id: string}} Row */

export class Directory extends EventTarget {
  constructor() {
    super();
    /** @type {Api|null} */
    this.api = null;
    /** @type {Map<string, Row[]>} */
    this.rows = new Map();
    /** @type {Map<string, {kind: string, name: string}>} */
    this.names = new Map();
    /** @type {Map<string, Promise<Row[]>>} */
    this.pending = new Map();
    /** @type {Promise<boolean>|null} whether PUT …/media/{id}/raw exists here */
    this.uploadProbe = null;
  }

  /**
   * A kind's rows (loaded once; force loads again).
   * @param {string} kind
   * @param {boolean} [force]
   * @returns {Promise<Row[]>}
   */
  async load(kind, force = false) {
    if (!force && this.rows.has(kind)) return /** @type {Row[]} */ (this.rows.get(kind));
    const busy = this.pending.get(kind);
    if (busy && !force) return busy;
    const api = this.api;
    if (!api) return [];
    const p = api.call('GET', `/${kind}?paginate=false`).then((r) => {
      /** @type {Row[]} */
      const rows = Array.isArray(r.data) ? r.data : [];
      this.set(kind, rows);
      return rows;
    }).finally(() => this.pending.delete(kind));
    this.pending.set(kind, p);
    return p;
  }

  /**
   * @param {string} kind
   * @param {Row[]} rows
   */
  set(kind, rows) {
    const info = kindInfo(kind);
    for (const [id, v] of this.names) if (v.kind === kind) this.names.delete(id);
    rows.sort((a, b) => info.nameOf(a).localeCompare(info.nameOf(b)));
    this.rows.set(kind, rows);
    for (const r of rows) this.names.set(r.id, { kind, name: info.nameOf(r) || r.id });
    this.dispatchEvent(new Event('change'));
  }

  /**
   * Loads the kinds blocks point to; failures leave ids shown.
   * @param {string[]} kinds
   */
  async loadAll(kinds) {
    await Promise.all(kinds.map((k) => this.load(k).catch(() => [])));
  }

  /**
   * The name of a stored document, when known.
   * @param {string} id
   */
  nameOf(id) {
    return this.names.get(id)?.name;
  }

  /**
   * @param {string} kind
   * @param {string} id
   */
  has(kind, id) {
    return (this.rows.get(kind) || []).some((r) => r.id === id);
  }

  /** Whether this server takes media uploads (…/media/{id}/raw). */
  canUpload() {
    if (!this.uploadProbe) {
      this.uploadProbe = fetch('/v2/openapi.json').then((r) => r.json())
        .then((d) => Object.keys((d && d.paths) || {}).some((p) => /\/media\/\{[^}]+\}\/raw$/.test(p)))
        .catch(() => false);
    }
    return this.uploadProbe;
  }
}

/** The configurator's one directory. */
export const directory = new Directory();

/**
 * The hook that makes reference fields pickers (forms.js RefHook).
 * @param {string} path
 * @param {import('./schema.js').Field} f
 * @param {unknown} value
 * @param {boolean} present
 * @returns {FieldWidget|null}
 */
export function refHook(path, f, value, present) {
  const kind = REF_FIELDS[path];
  if (!kind) return null;
  return refWidget({ kind, field: f, value, present, directory, edit: (id) => docDialog(kind, id) });
}

/**
 * A form from a JSON Schema: every field, references as pickers.
 * @param {string} kind
 * @param {JSONSchema} schema
 * @param {Record<string, unknown>} data
 */
export function schemaForm(kind, schema, data) {
  const fields = fieldsOf(schema);
  const widgets = fields.map((f) => ({ f, w: widget(f, data[f.key], f.key in data, { path: `${kind}.${f.key}`, ref: refHook }) }));
  return {
    el: h('div', { class: 'doc-form' }, widgets.map((x) => x.w.el)),
    /** @returns {Record<string, unknown>|undefined} undefined when a field is wrong */
    read() {
      /** @type {Record<string, unknown>} */
      const out = {};
      let bad = null;
      for (const { f, w } of widgets) {
        const r = w.read();
        // A required field left at its default takes the default.
        if (r.value === undefined && f.required && f.schema.default !== undefined) r.value = f.schema.default;
        const msg = r.error || (r.value === undefined ? (f.required ? `${f.title} is required` : '') : checkValue(f, r.value));
        w.showError(msg || '');
        if (msg && !bad) bad = w;
        if (r.value !== undefined) out[f.key] = r.value;
      }
      if (bad) { bad.focus(); return undefined; }
      return out;
    },
  };
}

/**
 * Creates (id undefined) or edits one document in a dialog; resolves with
 * the stored document, or null on Cancel. A refusal keeps the dialog open
 * with the server's words; a 409 says someone else changed it.
 * @param {string} kind
 * @param {string} [id]
 * @returns {Promise<Row|null>}
 */
export async function docDialog(kind, id) {
  const api = directory.api;
  if (!api) return null;
  const info = kindInfo(kind);
  /** @type {Record<string, unknown>} */
  let stored = {};
  /** @type {string|undefined} */
  let revision;
  if (id) {
    const r = await api.call('GET', `/${kind}/${encodeURIComponent(id)}`);
    stored = r.data;
    revision = r.revision;
  }
  let start = info.toForm ? info.toForm(stored) : stored;
  let message = '';
  const upload = kind === 'media' ? await directory.canUpload() : false;
  for (;;) {
    const form = schemaForm(kind, info.schema, start);
    const err = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'doc-error' }, message);
    const file = kind === 'media' ? h('input', { type: 'file', accept: 'audio/wav,audio/x-wav,audio/mpeg,.wav,.mp3', id: 'media-file', class: 'input', disabled: !upload, 'data-testid': 'media-file' }) : null;
    const uploadField = file ? h('div', { class: 'field' }, h('label', { for: 'media-file', class: 'field-label' }, 'Audio file (WAV or MP3)'), file,
      h('p', { class: 'help' }, upload ? 'Uploaded when you save.' : 'Uploading is not available on this server yet: the media is saved without audio.')) : null;
    const values = await modal({
      title: id ? `Edit ${info.one}` : `New ${info.one}`,
      className: `params side doc-${kind}`,
      body: [form.el, uploadField, err],
      actions: [{ label: 'Cancel', kind: 'secondary', testid: 'doc-cancel' }, { label: id ? 'Save' : `Create ${info.one}`, kind: 'primary', submit: true, value: 'ok', testid: 'doc-save' }],
      onSubmit: () => form.read(),
    });
    if (!values) return null;
    const known = new Set(Object.keys(info.schema.properties || {}));
    /** @type {Record<string, unknown>} */
    let doc = {};
    for (const [k, v] of Object.entries(stored)) if (!known.has(k) && k !== 'id') doc[k] = v;
    Object.assign(doc, values);
    if (info.fromForm) doc = info.fromForm(doc);
    try {
      const r = id
        ? await api.call('POST', `/${kind}/${encodeURIComponent(id)}`, { data: doc, revision })
        : await api.call('PUT', `/${kind}`, { data: doc });
      const saved = /** @type {Row} */ (r.data);
      const chosen = file && file.files && file.files[0];
      if (chosen && upload) await api.upload(`/media/${encodeURIComponent(saved.id)}/raw`, chosen);
      await directory.load(kind, true).catch(() => []);
      return saved;
    } catch (e) {
      start = { ...start, ...values };
      message = e instanceof ApiError && e.status === 409
        ? `Someone else changed this ${info.one} since you opened it. Cancel and open it again to see their version.`
        : `Not saved: ${describeError(e)}`;
    }
  }
}

/**
 * What a block names, by name: "Business hours, Holidays" for a Time of
 * Day block, the media's name for a Play block; '' when it names nothing.
 * @param {string} module
 * @param {Record<string, unknown>} data
 */
export function refCaption(module, data) {
  /** @type {string[]} */
  const out = [];
  for (const [path, kind] of Object.entries(REF_FIELDS)) {
    if (!path.startsWith(`${module}.`)) continue;
    /** @type {unknown} */
    let v = data;
    for (const part of path.split('.').slice(1)) v = v && typeof v === 'object' ? /** @type {Record<string, unknown>} */ (v)[part] : undefined;
    for (const id of Array.isArray(v) ? v : v === undefined ? [] : [v]) {
      if (typeof id !== 'string' || !id) continue;
      const name = directory.nameOf(id);
      out.push(name || (directory.rows.has(kind) && !/^https?:/.test(id) ? `Unknown ${kindInfo(kind).one}` : id));
    }
  }
  return out.join(', ');
}

/**
 * A Time of Day block's rules and branch keys that name no stored rule
 * (once the rules are loaded).
 * @param {import('./types.js').FlowNode} node
 * @returns {string[]}
 */
export function unknownRuleRefs(node) {
  if (node.module !== 'temporal_route' || !directory.rows.has('temporal_rules')) return [];
  const known = (/** @type {string} */ id) => directory.has('temporal_rules', id) || directory.has('temporal_rules_sets', id);
  const rules = Array.isArray(node.data.rules) ? node.data.rules.map(String) : [];
  const keys = node.children.map((b) => b.key).filter((k) => k !== '_');
  return [...new Set([...rules, ...keys])].filter((id) => !known(id)).map((id) => `No time-of-day rule has the id ${id}`);
}
