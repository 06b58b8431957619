// @ts-check
// The pop-ups of parameters, generated from each module's JSON Schema, and
// the Main Callflow Block's pop-up (name, numbers, patterns).

import { h, uid } from './dom.js';
import { icon } from './icons.js';
import { modal } from './dialogs.js';
import { fieldsOf, enumOptions, checkValue, defaultsOf } from './schema.js';

/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */
/** @typedef {import('./schema.js').Field} Field */

/**
 * @typedef {{el: HTMLElement, read: () => {value: unknown, error?: string}, showError: (msg: string) => void, focus: () => void}} FieldWidget
 */

/**
 * A field that names another document: given the field's dotted path
 * ("play.id", "menu.media.greeting"), a widget to pick it, or null.
 * @typedef {(path: string, f: Field, value: unknown, present: boolean) => FieldWidget|null} RefHook
 */

/**
 * @typedef {{words?: (text: string) => string, path?: string, ref?: RefHook}} WidgetOptions
 */

/**
 * @param {Field} f
 * @param {unknown} value the current value (undefined when not set)
 * @param {boolean} present whether the data had the key
 * @param {WidgetOptions} [o]
 * @returns {FieldWidget}
 */
export function widget(f, value, present, o = {}) {
  const words = o.words || ((/** @type {string} */ t) => t);
  const path = o.path || f.key;
  if (o.ref) {
    const r = o.ref(path, f, value, present);
    if (r) return r;
  }
  const id = uid(`f-${f.key}`);
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const s = f.schema;
  const described = [s.description ? helpId : '', errId].filter(Boolean).join(' ');
  // The admin's words on screen; the stored field name in a tooltip.
  const label = h('div', { class: 'label-row' }, h('label', { for: id, class: 'field-label', title: `Field name: ${f.key}` }, f.title),
    f.required ? h('span', { class: 'req', 'aria-hidden': 'true', title: 'Required' }, '*') : null);
  const help = s.description ? h('p', { id: helpId, class: 'help' }, words(s.description)) : null;
  const err = h('p', { id: errId, class: 'field-error' });
  /** @type {HTMLInputElement|HTMLSelectElement|HTMLTextAreaElement} */
  let control;
  /** @type {() => {value: unknown, error?: string}} */
  let read;
  /** @type {HTMLElement} */
  let el;
  const common = { id, name: f.key, 'aria-describedby': described, 'aria-required': f.required ? 'true' : undefined, 'data-field': f.key };

  switch (f.kind) {
    case 'boolean': {
      const cb = h('input', { ...common, type: 'checkbox', checked: value === true });
      control = cb;
      read = () => ({ value: cb.checked ? true : present || s.default !== undefined ? false : undefined });
      el = h('div', { class: 'field field-check' }, h('label', { class: 'check' }, cb, h('span', null, f.title)), help, err);
      break;
    }
    case 'integer':
    case 'number': {
      const inp = h('input', {
        ...common, type: 'number', class: 'input', inputmode: f.kind === 'integer' ? 'numeric' : 'decimal',
        step: f.kind === 'integer' ? '1' : 'any', min: s.minimum, max: s.maximum,
        value: typeof value === 'number' ? String(value) : '',
        placeholder: s.default !== undefined && value === undefined ? String(s.default) : undefined,
      });
      control = inp;
      read = () => {
        const raw = inp.value.trim();
        if (!raw) return { value: undefined };
        const n = Number(raw);
        if (!Number.isFinite(n)) return { value: raw, error: `${f.title} must be a number` };
        return { value: n };
      };
      el = h('div', { class: 'field' }, label, inp, help, err);
      break;
    }
    case 'enum': {
      const opts = enumOptions(s.enum || []);
      const sel = h('select', { ...common, class: 'input' });
      const same = (/** @type {unknown} */ a, /** @type {unknown} */ b) => a === b || (typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase());
      const cur = opts.findIndex((o) => same(o.value, value));
      // The default is one of the choices (not a third "Default (GET)"): it
      // stands for "not set" until another is picked.
      const dflt = s.default !== undefined && !present ? opts.findIndex((o) => same(o.value, s.default)) : -1;
      if (dflt < 0 && (!f.required || cur < 0)) sel.append(h('option', { value: '' }, f.required ? 'Choose…' : 'Not set'));
      opts.forEach((o, i) => sel.append(h('option', { value: i === dflt ? '' : String(i), selected: i === cur || i === dflt }, o.label)));
      control = sel;
      read = () => (sel.value === '' ? { value: undefined } : { value: opts[Number(sel.value)].value });
      el = h('div', { class: 'field' }, label, sel, help, err);
      break;
    }
    case 'multienum': {
      const opts = enumOptions((s.items && s.items.enum) || []);
      const chosen = Array.isArray(value) ? value : [];
      const boxes = opts.map((o) => h('input', { type: 'checkbox', value: String(o.value), checked: chosen.some((c) => c === o.value) }));
      const fs = h('fieldset', { class: 'field field-multi', 'aria-describedby': described, id },
        h('legend', { class: 'field-label' }, f.title, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
        h('div', { class: 'multi' }, boxes.map((b, i) => h('label', { class: 'check chip-check' }, b, h('span', null, opts[i].label)))),
        help, err);
      read = () => {
        const v = opts.filter((_o, i) => boxes[i].checked).map((o) => o.value);
        if (v.length === 0 && !present && s.default === undefined && !f.required) return { value: undefined };
        return { value: v };
      };
      return {
        el: fs, read,
        showError: (m) => { err.textContent = m; fs.classList.toggle('invalid', Boolean(m)); },
        focus: () => boxes[0]?.focus(),
      };
    }
    case 'list': {
      const ta = h('textarea', { ...common, class: 'input', rows: '3', placeholder: 'One per line' });
      ta.value = Array.isArray(value) ? value.map(String).join('\n') : '';
      control = ta;
      const itemTypes = s.items && s.items.type;
      const numeric = itemTypes === 'integer' || itemTypes === 'number';
      read = () => {
        const items = ta.value.split('\n').map((x) => x.trim()).filter(Boolean);
        if (!items.length && !present && !f.required) return { value: undefined };
        if (numeric) {
          const nums = items.map(Number);
          if (nums.some((n) => !Number.isFinite(n))) return { value: items, error: `${f.title} takes numbers only` };
          return { value: nums };
        }
        return { value: items };
      };
      el = h('div', { class: 'field' }, label, ta, h('p', { class: 'help' }, 'One per line.'), help, err);
      break;
    }
    case 'object': {
      const cur = value && typeof value === 'object' && !Array.isArray(value) ? /** @type {Record<string, unknown>} */ (value) : {};
      const subFields = fieldsOf(s);
      const subs = subFields.map((sf) => ({ sf, w: widget({ ...sf, advanced: false }, cur[sf.key], sf.key in cur, { ...o, path: `${path}.${sf.key}` }) }));
      const fs = h('fieldset', { class: 'field field-group', id, 'aria-describedby': described, 'data-field': f.key },
        h('legend', { class: 'field-label' }, f.title, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
        help, subs.map((x) => x.w.el), err);
      read = () => {
        /** @type {Record<string, unknown>} */
        const out = {};
        const known = new Set(subFields.map((sf) => sf.key));
        for (const [k, v] of Object.entries(cur)) if (!known.has(k)) out[k] = v;
        for (const { sf, w } of subs) {
          const r = w.read();
          const msg = r.error || checkValue(sf, r.value);
          w.showError(msg || '');
          if (msg) return { value: out, error: `${f.title}: ${msg}` };
          if (r.value !== undefined) out[sf.key] = r.value;
        }
        return { value: Object.keys(out).length ? out : f.required ? {} : undefined };
      };
      return {
        el: fs, read,
        showError: (m) => { err.textContent = m && !subs.length ? m : ''; },
        focus: () => {
          const bad = fs.querySelector('[aria-invalid="true"]') || fs.querySelector('input, select, textarea');
          if (bad instanceof HTMLElement) bad.focus();
        },
      };
    }
    case 'json': {
      const ta = h('textarea', { ...common, class: 'input mono', rows: '4', spellcheck: 'false' });
      ta.value = value === undefined ? '' : JSON.stringify(value, null, 2);
      control = ta;
      read = () => {
        const raw = ta.value.trim();
        if (!raw) return { value: undefined };
        try { return { value: JSON.parse(raw) }; } catch { return { value: raw, error: `${f.title} is not valid JSON` }; }
      };
      el = h('div', { class: 'field' }, label, ta, help, err);
      break;
    }
    case 'longtext': {
      const ta = h('textarea', { ...common, class: 'input', rows: '3', maxlength: s.maxLength });
      ta.value = typeof value === 'string' ? value : '';
      control = ta;
      read = () => ({ value: ta.value.trim() === '' ? undefined : ta.value });
      el = h('div', { class: 'field' }, label, ta, help, err);
      break;
    }
    default: {
      const inp = h('input', {
        ...common, type: f.kind === 'url' ? 'url' : 'text', class: 'input', maxlength: s.maxLength,
        value: typeof value === 'string' ? value : value === undefined ? '' : String(value),
        placeholder: f.kind === 'url' ? 'https://' : s.default !== undefined && value === undefined ? String(s.default) : undefined,
        autocomplete: 'off', spellcheck: f.kind === 'url' ? 'false' : undefined,
      });
      control = inp;
      const boolToo = Array.isArray(s.type) && s.type.includes('boolean');
      read = () => {
        const v = inp.value.trim();
        if (v === '') return { value: undefined };
        if (boolToo && (v === 'true' || v === 'false')) return { value: v === 'true' };
        return { value: v };
      };
      el = h('div', { class: 'field' }, label, inp, help, err);
    }
  }
  const ctl = control;
  // A field's message goes as soon as it is edited.
  ctl.addEventListener('input', () => { err.textContent = ''; ctl.removeAttribute('aria-invalid'); });
  return {
    el, read,
    showError: (m) => {
      err.textContent = m;
      if (m) ctl.setAttribute('aria-invalid', 'true');
      else ctl.removeAttribute('aria-invalid');
    },
    focus: () => ctl.focus(),
  };
}

/**
 * Rewrites a schema's description in an admin's words: another field's
 * stored name becomes its title in quotes, "_" becomes "Default", API
 * paths go.
 * @param {Field[]} fields
 * @returns {(text: string) => string}
 */
export function adminWords(fields) {
  const byKey = new Map(fields.map((f) => [f.key, f.title]));
  return (text) => text
    .replace(/\s*\(\/[a-z_]+\)/g, '')
    .replace(/(^|[\s(,])_(?=[\s),.;]|$)/g, '$1“Default”')
    .replace(/\b[a-z]+(?:_[a-z]+)+\b/g, (k) => (byKey.has(k) ? `“${byKey.get(k)}”` : k));
}

/**
 * The pop-up of a block's parameters. Resolves with the new data, or null
 * on Cancel. Keys the schema does not name are kept as they were.
 * @param {CatalogEntry|undefined} entry undefined for a module the catalog lacks
 * @param {string} moduleName
 * @param {Record<string, unknown>} data
 * @param {{isNew: boolean, ref?: RefHook, extra?: (peek: () => Record<string, unknown>) => Node}} opts
 *   extra: a section added under the fields (a Pivot's Try it), given the values as they stand
 * @returns {Promise<Record<string, unknown>|null>}
 */
export async function paramsDialog(entry, moduleName, data, opts) {
  if (!entry) return rawDialog(moduleName, data);
  const start = opts.isNew ? { ...defaultsOf(entry.schema), ...data } : data;
  const fields = fieldsOf(entry.schema, entry.name);
  const words = adminWords(fields);
  const widgets = fields.map((f) => ({ f, w: widget(f, start[f.key], f.key in start, { words, path: `${entry.name}.${f.key}`, ref: opts.ref }) }));
  const main = widgets.filter((x) => !x.f.advanced).map((x) => x.w.el);
  const adv = widgets.filter((x) => x.f.advanced).map((x) => x.w.el);
  const advanced = adv.length
    ? h('details', { class: 'advanced' }, h('summary', null, 'Advanced settings'), h('div', { class: 'advanced-body' }, adv))
    : null;
  const intro = h('div', { class: 'module-intro' }, icon(entry.icon, 'icon lg'),
    h('p', null, words(entry.schema.description || entry.description || '')));
  const errSummary = h('p', { class: 'form-error', role: 'alert' });
  for (const { w } of widgets) w.el.addEventListener('input', () => { errSummary.textContent = ''; });
  /** @returns {Record<string, unknown>} */
  const peek = () => Object.fromEntries(widgets.map(({ f, w }) => [f.key, w.read().value]).filter(([, v]) => v !== undefined));
  return modal({
    title: opts.isNew ? `New ${entry.label}` : entry.label,
    className: `params module-${entry.name}`,
    body: [intro, fields.length ? null : h('p', { class: 'empty small' }, 'This action has no settings.'), ...main, advanced, opts.extra ? opts.extra(peek) : null, errSummary],
    actions: [
      { label: 'Cancel', kind: 'secondary', testid: 'params-cancel' },
      { label: opts.isNew ? 'Add block' : 'Apply', kind: 'primary', submit: true, value: 'ok', testid: 'params-ok' },
    ],
    onSubmit: () => {
      /** @type {Record<string, unknown>} */
      const out = {};
      const known = new Set(fields.map((f) => f.key));
      for (const [k, v] of Object.entries(data)) if (!known.has(k)) out[k] = v;
      let firstBad = null;
      for (const { f, w } of widgets) {
        const r = w.read();
        // A required field left empty is allowed: the block is marked
        // incomplete and the flow cannot be saved until it is filled. A
        // value of the wrong form is refused here.
        const msg = r.error || (r.value === undefined ? '' : checkValue(f, r.value));
        w.showError(msg || '');
        if (msg && !firstBad) firstBad = { f, w };
        if (r.value !== undefined) out[f.key] = r.value;
      }
      if (firstBad) {
        if (firstBad.f.advanced && advanced) advanced.open = true;
        errSummary.textContent = 'Some settings need attention.';
        firstBad.w.focus();
        return undefined;
      }
      return out;
    },
  });
}

/**
 * A module the catalog does not know: its data as JSON, kept as is.
 * @param {string} moduleName
 * @param {Record<string, unknown>} data
 * @returns {Promise<Record<string, unknown>|null>}
 */
async function rawDialog(moduleName, data) {
  const id = uid('raw');
  const ta = h('textarea', { id, class: 'input mono', rows: '10', spellcheck: 'false' });
  ta.value = JSON.stringify(data, null, 2);
  const err = h('p', { class: 'field-error', role: 'alert' });
  return modal({
    title: `Unknown action “${moduleName}”`,
    className: 'params raw',
    body: [
      h('p', null, 'This server has no action of that name, so its settings are shown as JSON and kept as they are.'),
      h('label', { for: id, class: 'field-label' }, 'Data (JSON)'), ta, err,
    ],
    actions: [{ label: 'Cancel', kind: 'secondary' }, { label: 'Apply', kind: 'primary', submit: true, value: 'ok' }],
    onSubmit: () => {
      try {
        const v = JSON.parse(ta.value || '{}');
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        return v;
      } catch {
        err.textContent = 'Enter a JSON object, such as {"key": "value"}.';
        return undefined;
      }
    },
  });
}

/**
 * A list of short strings edited as chips: numbers, patterns.
 * @param {{label: string, items: string[], placeholder: string, addLabel: string, check: (v: string, all: string[]) => string, help: string, testid: string}} o
 */
function chipList(o) {
  const items = [...o.items];
  const id = uid('chips');
  const errId = `${id}-err`;
  const list = h('ul', { class: 'chips', 'aria-label': o.label });
  const input = h('input', { id, type: 'text', class: 'input', placeholder: o.placeholder, autocomplete: 'off', 'aria-describedby': `${id}-help ${errId}`, 'data-testid': `${o.testid}-input` });
  const err = h('p', { id: errId, class: 'field-error', role: 'alert' });
  const render = () => {
    list.replaceChildren(...items.map((v, i) => h('li', { class: 'chip' }, h('span', { class: 'mono' }, v),
      h('button', { type: 'button', class: 'chip-x', 'aria-label': `Remove ${v}`, title: `Remove ${v}`, onclick: () => { items.splice(i, 1); render(); input.focus(); } }, icon('close')))));
    if (!items.length) list.append(h('li', { class: 'chips-empty' }, 'None'));
  };
  const add = () => {
    const v = input.value.trim();
    if (!v) return true;
    const m = o.check(v, items);
    err.textContent = m;
    if (m) { input.setAttribute('aria-invalid', 'true'); return false; }
    input.removeAttribute('aria-invalid');
    items.push(v);
    input.value = '';
    render();
    return true;
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); add(); }
  });
  render();
  const el = h('div', { class: 'field' },
    h('label', { for: id, class: 'field-label' }, o.label), list,
    h('div', { class: 'inline' }, input, h('button', { type: 'button', class: 'btn secondary', onclick: () => { add(); input.focus(); }, 'data-testid': `${o.testid}-add` }, icon('plus'), o.addLabel)),
    h('p', { id: `${id}-help`, class: 'help' }, o.help), err);
  return { el, items, add, input };
}

/**
 * The Main Callflow Block pop-up.
 * @param {{name: string, numbers: string[], patterns: string[]}} cur
 * @param {string} [conflict] a number conflict the API reported
 * @returns {Promise<{name: string, numbers: string[], patterns: string[]}|null>}
 */
export async function mainBlockDialog(cur, conflict) {
  const nameId = uid('name');
  const name = h('input', { id: nameId, type: 'text', class: 'input', value: cur.name, maxlength: '128', placeholder: 'Such as “Main line” or “Support”', 'data-testid': 'flow-name' });
  const numbers = chipList({
    label: 'Extensions and phone numbers', items: cur.numbers, placeholder: 'Such as 2001 or +14155550100', addLabel: 'Add',
    help: 'Calls to these numbers run this flow. North American numbers are stored in E.164 (+1…). Leave empty for a flow that is only reached from another flow.',
    testid: 'numbers',
    check: (v, all) => (v.length > 36 ? 'A number has at most 36 characters.' : all.includes(v) ? `${v} is already in the list.` : /\s/.test(v) ? 'A number has no spaces.' : ''),
  });
  const patterns = chipList({
    label: 'Patterns', items: cur.patterns, placeholder: 'Such as ^\\+1(415\\d{7})$', addLabel: 'Add',
    help: 'Regular expressions tried on the dialled number when no number matches exactly.',
    testid: 'patterns',
    check: (v, all) => {
      if (all.includes(v)) return `${v} is already in the list.`;
      try { new RegExp(v); } catch { return 'This is not a valid regular expression.'; }
      return '';
    },
  });
  return modal({
    title: 'Main Callflow Block',
    className: 'params main-block',
    body: [
      conflict ? h('p', { class: 'form-error', role: 'alert' }, conflict) : null,
      h('div', { class: 'field' }, h('label', { for: nameId, class: 'field-label' }, 'Name'), name,
        h('p', { class: 'help' }, 'For people only; routing uses the numbers and patterns.')),
      numbers.el, patterns.el,
    ],
    actions: [{ label: 'Cancel', kind: 'secondary', testid: 'params-cancel' }, { label: 'Apply', kind: 'primary', submit: true, value: 'ok', testid: 'params-ok' }],
    onSubmit: () => {
      if (!numbers.add()) { numbers.input.focus(); return undefined; }
      if (!patterns.add()) { patterns.input.focus(); return undefined; }
      return { name: name.value.trim(), numbers: [...numbers.items], patterns: [...patterns.items] };
    },
  });
}
