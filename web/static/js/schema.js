// @ts-check
// Reading a module's JSON Schema: the pop-up's fields, defaults for a new
// block, and the checks behind the "incomplete" markers. Only what the
// schema says is used, so a module added on the server gets its form for
// free.

/** @typedef {import('./types.js').JSONSchema} JSONSchema */

/**
 * @typedef {'boolean'|'integer'|'number'|'enum'|'url'|'text'|'longtext'|'multienum'|'list'|'object'|'json'} FieldKind
 * @typedef {{key: string, schema: JSONSchema, kind: FieldKind, title: string, required: boolean, advanced: boolean}} Field
 */

/** Words spelled the way admins expect, for enum values and titles. */
/** @type {Record<string, string>} */
const WORDS = {
  twiml: 'TwiML', kazoo: 'Kazoo JSON', json: 'JSON', form: 'Form', get: 'GET', post: 'POST',
  url: 'URL', cdr: 'CDR', id: 'ID', tts: 'TTS', sip: 'SIP', dtmf: 'DTMF', ms: 'ms', s: 'seconds',
  m: 'minutes', h: 'hours', cid: 'caller ID',
};

/**
 * "req_timeout_ms" → "Req timeout ms".
 * @param {string} key
 */
export function humanize(key) {
  const words = key.split(/[_\-\s]+/).filter(Boolean).map((w) => WORDS[w.toLowerCase()] || w);
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * @param {JSONSchema} s
 * @returns {string[]}
 */
function types(s) {
  if (Array.isArray(s.type)) return s.type;
  if (typeof s.type === 'string') return [s.type];
  if (s.enum) return [...new Set(s.enum.map((v) => (typeof v === 'number' ? 'number' : typeof v)))];
  return [];
}

/** @param {JSONSchema} s */
export function isURLField(s) {
  return s.format === 'uri' || s.format === 'url' || (typeof s.pattern === 'string' && /^\^?\(?https\?/.test(s.pattern));
}

/**
 * @param {JSONSchema} s
 * @returns {FieldKind}
 */
export function kindOf(s) {
  const t = types(s);
  if (s.enum && s.enum.length) return 'enum';
  if (t.includes('boolean') && t.length === 1) return 'boolean';
  if (t.includes('integer')) return 'integer';
  if (t.includes('number')) return 'number';
  if (t.includes('string')) {
    if (isURLField(s)) return 'url';
    if ((s.maxLength || 0) > 256) return 'longtext';
    return 'text';
  }
  if (t.includes('object') && s.properties && Object.keys(s.properties).length) return 'object';
  if (t.includes('array')) {
    const it = s.items || {};
    if (it.enum && it.enum.length) return 'multienum';
    const itTypes = types(it);
    if (itTypes.length === 0 || itTypes.includes('string') || itTypes.includes('integer') || itTypes.includes('number')) return 'list';
  }
  return 'json';
}

/**
 * Which optional fields a few modules show up front; the rest of their
 * fields go under "Advanced". Presentation only: the fields themselves
 * always come from the schema.
 * @type {Record<string, string[]>}
 */
const PRIMARY = {
  pivot: ['voice_url', 'method', 'req_format'],
  menu: ['name', 'media', 'prompts', 'retries', 'timeout'],
  temporal_route: ['rules', 'timezone'],
};

/**
 * The fields of a module's pop-up, in schema order. The required fields and
 * the first two optional ones make the main part (or the module's own list
 * above); the rest is "Advanced" (small schemas show everything up front).
 * "skip_module" is always advanced.
 * @param {JSONSchema} schema
 * @param {string} [moduleName]
 * @returns {Field[]}
 */
export function fieldsOf(schema, moduleName) {
  // Read for every block on every render: worked out once per schema.
  let byModule = fieldCache.get(schema);
  if (!byModule) { byModule = new Map(); fieldCache.set(schema, byModule); }
  const key = moduleName || '';
  let fields = byModule.get(key);
  if (!fields) { fields = Object.freeze(fieldsOfUncached(schema, moduleName)); byModule.set(key, fields); }
  return /** @type {Field[]} */ (fields);
}

/** @type {WeakMap<JSONSchema, Map<string, readonly Field[]>>} */
const fieldCache = new WeakMap();

/**
 * @param {JSONSchema} schema
 * @param {string} [moduleName]
 * @returns {Field[]}
 */
function fieldsOfUncached(schema, moduleName) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const keys = Object.keys(props).filter((k) => !props[k].readOnly);
  const ordinary = keys.filter((k) => k !== 'skip_module');
  const small = ordinary.length <= 4;
  const primary = moduleName ? PRIMARY[moduleName] : undefined;
  let optionalShown = 0;
  return keys.map((key) => {
    const s = props[key];
    const req = required.has(key);
    let advanced = false;
    if (key === 'skip_module') advanced = true;
    else if (primary) advanced = !req && !primary.includes(key);
    else if (!req && !small) {
      advanced = optionalShown >= 2;
      if (!advanced) optionalShown++;
    }
    return { key, schema: s, kind: kindOf(s), title: s.title || humanize(key), required: req, advanced };
  });
}

/**
 * Enum options with labels; values equal but for case ("get"/"GET") are
 * offered once.
 * @param {unknown[]} values
 * @returns {Array<{value: unknown, label: string}>}
 */
export function enumOptions(values) {
  /** @type {Map<string, {value: unknown, label: string}>} */
  const seen = new Map();
  for (const v of values) {
    const id = typeof v === 'string' ? v.toLowerCase() : JSON.stringify(v);
    if (seen.has(id)) continue;
    const label = typeof v === 'string' ? WORDS[v.toLowerCase()] || v : String(v);
    seen.set(id, { value: v, label });
  }
  return [...seen.values()];
}

/**
 * A label for a value in an enum (or the value).
 * @param {unknown} v
 * @returns {string}
 */
export function valueLabel(v) {
  if (typeof v === 'string') return WORDS[v.toLowerCase()] || v;
  if (Array.isArray(v)) return v.map(valueLabel).join(', ');
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * The data of a new block: every default the schema declares.
 * @param {JSONSchema} schema
 */
export function defaultsOf(schema) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [k, s] of Object.entries(schema.properties || {})) {
    if (s.default !== undefined) out[k] = structuredClone(s.default);
  }
  return out;
}

/**
 * Whether an enum holds a value, ignoring case when the enum has both
 * spellings of it.
 * @param {unknown[]} en
 * @param {unknown} v
 */
function enumHas(en, v) {
  return en.some((e) => e === v || JSON.stringify(e) === JSON.stringify(v));
}

/**
 * Whether an IANA time zone name is known (the browser ships the same
 * database the server reads).
 * @param {string} zone
 */
export function validZone(zone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks one value against its property schema: the rules JSON Schema says,
 * with messages for people. Returns the first problem or "".
 * @param {Field} f
 * @param {unknown} v
 * @returns {string}
 */
export function checkValue(f, v) {
  const s = f.schema;
  const t = types(s);
  if (v === undefined || v === null || v === '') {
    return f.required ? `${f.title} is required` : '';
  }
  if (s.enum && !enumHas(s.enum, v)) return `${f.title} must be one of ${enumOptions(s.enum).map((o) => o.label).join(', ')}`;
  if (typeof v === 'string') {
    if (t.length && !t.includes('string')) return `${f.title} must be a ${t.join(' or ')}`;
    if (s.minLength !== undefined && [...v].length < s.minLength) return s.minLength === 1 ? `${f.title} is required` : `${f.title} needs at least ${s.minLength} characters`;
    if (s.maxLength !== undefined && [...v].length > s.maxLength) return `${f.title} is too long (at most ${s.maxLength} characters)`;
    if (s.pattern) {
      let re = null;
      try { re = new RegExp(s.pattern, 'u'); } catch { re = null; }
      if (re && !re.test(v)) {
        return isURLField(s) ? `${f.title} must start with http:// or https://` : `${f.title} does not have the expected form (${s.pattern})`;
      }
    }
    if (isURLField(s) && /^https?:\/\//i.test(v)) {
      try { new URL(v); } catch { return `${f.title} is not a valid web address`; }
    }
    if (f.key === 'timezone' && !validZone(v)) return `“${v}” is not a time zone this browser knows: use a name such as America/New_York or Europe/Paris`;
    return '';
  }
  if (typeof v === 'number') {
    if (t.length && !t.includes('number') && !t.includes('integer')) return `${f.title} must be a ${t.join(' or ')}`;
    if (t.includes('integer') && !t.includes('number') && !Number.isInteger(v)) return `${f.title} must be a whole number`;
    if (s.minimum !== undefined && v < s.minimum) return `${f.title} must be at least ${s.minimum}`;
    if (s.maximum !== undefined && v > s.maximum) return `${f.title} must be at most ${s.maximum}`;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return `${f.title} must be more than ${s.exclusiveMinimum}`;
    if (s.exclusiveMaximum !== undefined && v >= s.exclusiveMaximum) return `${f.title} must be less than ${s.exclusiveMaximum}`;
    return '';
  }
  if (typeof v === 'boolean') {
    return t.length && !t.includes('boolean') ? `${f.title} must be a ${t.join(' or ')}` : '';
  }
  if (Array.isArray(v)) {
    if (t.length && !t.includes('array')) return `${f.title} must be a ${t.join(' or ')}`;
    if (s.minItems !== undefined && v.length < s.minItems) return `${f.title} needs at least ${s.minItems} item(s)`;
    if (s.maxItems !== undefined && v.length > s.maxItems) return `${f.title} takes at most ${s.maxItems} item(s)`;
    if (s.uniqueItems && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) return `${f.title} has the same item twice`;
    if (s.items) {
      const itemField = { ...f, schema: s.items, required: false, title: `Each item of ${f.title}` };
      for (const item of v) {
        /** @type {string} */
        const m = checkValue(itemField, item);
        if (m) return m;
      }
    }
    return '';
  }
  if (typeof v === 'object') {
    if (t.length && !t.includes('object')) return `${f.title} must be a ${t.join(' or ')}`;
    if (s.properties) {
      for (const p of validateData(s, /** @type {Record<string, unknown>} */ (v))) return `${f.title}: ${p.message}`;
    }
    return '';
  }
  return '';
}

/**
 * Every problem of a block's data, for the "incomplete" marker.
 * @param {JSONSchema} schema
 * @param {Record<string, unknown>} data
 * @returns {Array<{key: string, message: string}>}
 */
export function validateData(schema, data) {
  /** @type {Array<{key: string, message: string}>} */
  const out = [];
  const fields = fieldsOf(schema);
  const known = new Set(fields.map((f) => f.key));
  for (const f of fields) {
    const m = checkValue(f, data[f.key]);
    if (m) out.push({ key: f.key, message: m });
  }
  for (const r of schema.required || []) {
    if (!known.has(r) && (data[r] === undefined || data[r] === '')) out.push({ key: r, message: `${humanize(r)} is required` });
  }
  return out;
}

/**
 * The short caption a block shows under its label: the first required
 * text field that is not an address (the Pivot URL stays in the pop-up
 * and the hover card).
 * @param {JSONSchema} schema
 * @param {Record<string, unknown>} data
 */
export function captionOf(schema, data) {
  for (const f of fieldsOf(schema)) {
    if (!f.required || f.kind === 'url') continue;
    const v = data[f.key];
    if (typeof v === 'string' && v.trim() && (f.kind === 'text' || f.kind === 'longtext')) return v.trim();
    if (typeof v === 'number' && (f.kind === 'integer' || f.kind === 'number')) return `${f.title} ${v}`;
    if (f.kind === 'enum' && v !== undefined) return valueLabel(v);
  }
  for (const k of ['name', 'label', 'variable']) {
    const v = data[k];
    if (typeof v === 'string' && v.trim()) return v.trim();
  }
  return '';
}
