// @ts-check
// The server's JSON Schema of a document kind (GET /v2/schemas/{kind})
// joined to the form kinds.js lays out: the hand-made fields keep their
// words and order but take the server's rules (lengths, patterns, ranges,
// choices, what is required), and the fields the hand-made form leaves out
// become "More settings", so a form asks what the server will check.

/** @typedef {import('./types.js').JSONSchema} JSONSchema */

/** Rules copied from the server's property onto the form's. */
const RULES = /** @type {const} */ (['minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'enum', 'minItems', 'maxItems', 'uniqueItems']);

/** Fields the server fills or keeps secret: never in a form. */
const NOT_EDITED = new Set(['content_type', 'content_length', 'password', 'pin_hash', 'password_hash', 'id']);

/**
 * The JSON types a property allows.
 * @param {JSONSchema|undefined} s
 */
function typesOf(s) {
  if (!s) return [];
  if (Array.isArray(s.type)) return s.type;
  return s.type ? [s.type] : [];
}

/**
 * A hand-made property with the server's rules (only when both say the
 * same type: a form that edits "09:00" for a number of seconds keeps its
 * own rules).
 * @param {JSONSchema} hand
 * @param {JSONSchema|undefined} server
 * @returns {JSONSchema}
 */
function withRules(hand, server) {
  if (!server) return hand;
  const ht = typesOf(hand);
  const st = typesOf(server);
  if (ht.length && st.length && !ht.some((t) => st.includes(t))) return hand;
  /** @type {JSONSchema} */
  const out = { ...hand };
  for (const r of RULES) {
    if (server[r] !== undefined) /** @type {any} */ (out)[r] = server[r];
  }
  if (hand.properties && server.properties) {
    /** @type {Record<string, JSONSchema>} */
    const props = {};
    for (const [k, v] of Object.entries(hand.properties)) props[k] = withRules(v, server.properties[k]);
    out.properties = props;
  }
  if (hand.items && server.items) out.items = withRules(hand.items, server.items);
  return out;
}

/**
 * Joins the form of a kind to the server's schema.
 * @param {JSONSchema} hand the form kinds.js lays out
 * @param {JSONSchema|null} server
 * @param {string[]} [derived] fields the form computes from others (a group's endpoints from its members)
 * @returns {{main: JSONSchema, more: JSONSchema|null}}
 */
export function joinSchema(hand, server, derived = []) {
  if (!server || !server.properties) return { main: hand, more: null };
  const handProps = hand.properties || {};
  const serverRequired = new Set(server.required || []);
  /** @type {Record<string, JSONSchema>} */
  const props = {};
  for (const [k, v] of Object.entries(handProps)) props[k] = withRules(v, server.properties[k]);
  const required = [...new Set([...(hand.required || []), ...[...serverRequired].filter((k) => k in handProps)])];
  /** @type {Record<string, JSONSchema>} */
  const extra = {};
  for (const [k, v] of Object.entries(server.properties)) {
    if (k in handProps || NOT_EDITED.has(k) || derived.includes(k) || v.readOnly) continue;
    if (/^Write only/i.test(v.description || '')) continue;
    extra[k] = v;
  }
  const extraRequired = [...serverRequired].filter((k) => k in extra);
  return {
    main: { ...hand, properties: props, required },
    more: Object.keys(extra).length ? { properties: extra, required: extraRequired } : null,
  };
}
