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
import { mediaPanel } from './mediapanel.js';
import { joinSchema } from './kindschema.js';

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
    /** @type {Map<string, Promise<JSONSchema|null>>} the server's schemas by kind */
    this.schemas = new Map();
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
   * The server's JSON Schema of a kind (GET /v2/schemas/{kind}); null when
   * it has none or cannot be reached (the form's own rules then apply).
   * @param {string} kind
   * @returns {Promise<JSONSchema|null>}
   */
  serverSchema(kind) {
    let p = this.schemas.get(kind);
    if (!p) {
      p = fetch(`/v2/schemas/${encodeURIComponent(kind)}`)
        .then((r) => (r.ok ? r.json() : null))
        .then((b) => (b && b.data && typeof b.data === 'object' ? /** @type {JSONSchema} */ (b.data) : null))
        .catch(() => null);
      this.schemas.set(kind, p);
    }
    return p;
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
 * "More settings": the fields of the server's schema the hand-made form
 * leaves out, built when first opened (at once when one is required).
 * Once built, its keys are edited keys (a field emptied there is removed).
 * @param {string} kind
 * @param {JSONSchema|null} schema
 * @param {Record<string, unknown>} data
 * @param {Set<string>} edited
 */
function moreSettings(kind, schema, data, edited) {
  if (!schema) return null;
  const keys = Object.keys(schema.properties || {});
  const body = h('div', { class: 'advanced-body' });
  const el = h('details', { class: 'advanced more-settings', 'data-testid': 'doc-more' }, h('summary', null, `More settings (${keys.length})`), body);
  /** @type {ReturnType<typeof schemaForm>|null} */
  let form = null;
  const build = () => {
    if (form) return;
    form = schemaForm(kind, schema, data);
    body.append(form.el);
    for (const k of keys) edited.add(k);
  };
  if ((schema.required || []).length) { build(); el.open = true; } else el.addEventListener('toggle', build);
  return {
    el,
    /** @returns {Record<string, unknown>|undefined} */
    read: () => {
      if (!form) return {};
      const v = form.read();
      if (!v) el.open = true;
      return v;
    },
  };
}

/**
 * Creates (id undefined) or edits one document in a dialog; resolves with
 * the stored document, or null on Cancel. A refusal keeps the dialog open
 * with the server's words; a 409 says someone else changed it. A media
 * document's dialog also takes its audio (mediapanel.js).
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
  const creating = !id;
  const joined = joinSchema(info.schema, await directory.serverSchema(kind), info.derives);
  /** the keys the dialog edits: others of the stored document are kept as they are */
  const edited = new Set(Object.keys(joined.main.properties || {}));
  /** @type {Row|null} a document stored while the dialog was open (a speech preview) */
  let savedEarly = null;
  /**
   * Stores the form's values over the stored document (unknown keys kept).
   * @param {Record<string, unknown>} values
   */
  const save = async (values) => {
    /** @type {Record<string, unknown>} */
    let doc = {};
    for (const [k, v] of Object.entries(stored)) if (!edited.has(k) && k !== 'id') doc[k] = v;
    Object.assign(doc, values);
    if (info.fromForm) doc = info.fromForm(doc);
    const r = id
      ? await api.call('POST', `/${kind}/${encodeURIComponent(id)}`, { data: doc, revision })
      : await api.call('PUT', `/${kind}`, { data: doc });
    stored = r.data;
    id = String(r.data.id);
    revision = r.revision;
    return /** @type {Row} */ (r.data);
  };
  /** @type {ReturnType<typeof schemaForm>|null} */
  let form = null;
  /** @type {ReturnType<typeof moreSettings>} */
  let moreForm = null;
  const panel = kind === 'media' ? mediaPanel({
    api,
    id: () => id,
    stored: () => stored,
    speak: async () => {
      const main = form && form.read();
      const extra = moreForm ? moreForm.read() : {};
      if (!main || !extra) throw new Error('Correct the fields marked first.');
      const values = { ...main, ...extra };
      const tts = values.tts && typeof values.tts === 'object' ? /** @type {Record<string, unknown>} */ (values.tts) : {};
      if (typeof tts.text !== 'string' || !tts.text.trim()) throw new Error('Type the text to speak under “Text to speech” first.');
      values.media_source = 'tts';
      savedEarly = await save(values);
      start = { ...start, ...values };
      const src = document.querySelector('dialog[open] [data-field="media_source"]');
      // It is stored now: the dialog's button saves it again.
      const ok = document.querySelector('dialog[open] [data-testid="doc-save"]');
      if (ok) ok.textContent = 'Save';
      // The select's values are option indices: pick the TTS one by its words.
      if (src instanceof HTMLSelectElement) {
        for (const o of src.options) if ((o.textContent || '').trim().toLowerCase() === 'tts') src.value = o.value;
      }
      await directory.load(kind, true).catch(() => []);
    },
  }) : null;
  let start = info.toForm ? info.toForm(stored) : stored;
  let message = '';
  for (;;) {
    const f = schemaForm(kind, joined.main, start);
    form = f;
    const more = moreSettings(kind, joined.more, start, edited);
    moreForm = more;
    const err = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'doc-error' }, message);
    const values = await modal({
      title: creating ? `New ${info.one}` : `Edit ${info.one}`,
      className: `params side doc-${kind}`,
      body: [f.el, more ? more.el : null, panel ? panel.el : null, err],
      actions: [{ label: 'Cancel', kind: 'secondary', testid: 'doc-cancel' }, { label: creating && !savedEarly ? `Create ${info.one}` : 'Save', kind: 'primary', submit: true, value: 'ok', testid: 'doc-save' }],
      onSubmit: () => {
        const a = f.read();
        const b = more ? more.read() : {};
        return a && b ? { ...a, ...b } : undefined;
      },
    });
    if (!values) {
      if (panel) panel.done();
      return savedEarly;
    }
    const pending = panel ? panel.pending() : null;
    if (pending) values.media_source = pending.source;
    try {
      let saved = await save(values);
      if (pending && id) {
        try {
          await api.upload(`/media/${encodeURIComponent(id)}/raw`, pending.blob);
        } catch (e) {
          // The document is stored; its audio is not: say so and stay.
          savedEarly = saved;
          throw e;
        }
        const r = await api.call('GET', `/${kind}/${encodeURIComponent(id)}`);
        stored = r.data;
        revision = r.revision;
        saved = /** @type {Row} */ (r.data);
      }
      if (panel) panel.done();
      await directory.load(kind, true).catch(() => []);
      return saved;
    } catch (e) {
      start = { ...start, ...values };
      message = e instanceof ApiError && e.status === 409
        ? `Someone else changed this ${info.one} since you opened it. Cancel and open it again to see their version.`
        : savedEarly && pending ? `Saved, but the audio was not: ${describeError(e)}` : `Not saved: ${describeError(e)}`;
      if (panel) panel.render();
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
