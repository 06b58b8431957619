// @ts-check
// The call-flow tree as the editor holds it, and the operations on it. The
// Kazoo document is {name, numbers, patterns, flow: {module, data,
// children: {key: node}}}; here children are an ordered list so a key can
// never be lost to a duplicate (Monster UI's data-loss bug).

/** @typedef {import('./types.js').FlowNode} FlowNode */
/** @typedef {import('./types.js').FlowDoc} FlowDoc */
/** @typedef {import('./types.js').Branch} Branch */
/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */

export const ROOT = 'root';

let seq = 0;
export function newUid() {
  seq += 1;
  return `n${seq}`;
}

/**
 * @param {unknown} v
 * @returns {v is Record<string, unknown>}
 */
function isObject(v) {
  return Boolean(v) && typeof v === 'object' && !Array.isArray(v);
}

/**
 * @param {unknown} raw a Kazoo node
 * @param {number} depth
 * @returns {FlowNode}
 */
function nodeFromJSON(raw, depth = 0) {
  const o = isObject(raw) ? raw : {};
  const { module, data, children, ...extra } = o;
  /** @type {FlowNode} */
  const node = {
    uid: newUid(),
    module: typeof module === 'string' ? module : '',
    data: isObject(data) ? structuredClone(data) : {},
    children: [],
    extra: structuredClone(extra),
  };
  if (isObject(children) && depth < 500) {
    for (const [key, child] of Object.entries(children)) {
      node.children.push({ key, node: nodeFromJSON(child, depth + 1) });
    }
    sortBranches(node);
  }
  return node;
}

/**
 * @param {FlowNode} n
 * @param {boolean} clone copy data (a document to send or keep); false
 *   shares it (a document only read at once, as by canonical)
 * @returns {Record<string, unknown>}
 */
function nodeToJSON(n, clone) {
  /** @type {Record<string, unknown>} */
  const out = clone
    ? { ...structuredClone(n.extra), module: n.module, data: structuredClone(n.data) }
    : { ...n.extra, module: n.module, data: n.data };
  if (n.children.length) {
    /** @type {Record<string, unknown>} */
    const ch = {};
    for (const b of n.children) ch[b.key] = nodeToJSON(b.node, clone);
    out.children = ch;
  }
  return out;
}

/**
 * A stored document → the editor's model.
 * @param {Record<string, unknown>} raw
 * @returns {FlowDoc}
 */
export function docFromJSON(raw) {
  const { name, numbers, patterns, flow, ...extra } = raw;
  return {
    name: typeof name === 'string' ? name : '',
    numbers: Array.isArray(numbers) ? numbers.map(String) : [],
    patterns: Array.isArray(patterns) ? patterns.map(String) : [],
    flow: isObject(flow) ? nodeFromJSON(flow) : null,
    extra: structuredClone(extra),
  };
}

/**
 * The model → the document to send.
 * @param {FlowDoc} doc
 * @param {boolean} [clone] false shares the blocks' data with the model:
 *   for a document read at once and dropped (comparing with canonical)
 * @returns {Record<string, unknown>}
 */
export function docToJSON(doc, clone = true) {
  /** @type {Record<string, unknown>} */
  const out = { ...(clone ? structuredClone(doc.extra) : doc.extra), name: doc.name, numbers: [...doc.numbers], patterns: [...doc.patterns] };
  if (doc.flow) out.flow = nodeToJSON(doc.flow, clone);
  return out;
}

/** @returns {FlowDoc} */
export function emptyDoc() {
  return { name: '', numbers: [], patterns: [], flow: null, extra: {} };
}

/**
 * JSON with sorted keys: two documents are the same when these are.
 * @param {unknown} v
 * @returns {string}
 */
export function canonical(v) {
  return JSON.stringify(v, (_k, val) => {
    if (isObject(val)) {
      /** @type {Record<string, unknown>} */
      const sorted = {};
      for (const k of Object.keys(val).sort()) sorted[k] = val[k];
      return sorted;
    }
    return val;
  });
}

/**
 * @typedef {{node: FlowNode, parent: FlowNode|null, key: string|null, depth: number}} Located
 */

/**
 * Every block in display order (depth first), with its parent and key.
 * @param {FlowDoc} doc
 * @returns {Located[]}
 */
export function walk(doc) {
  /** @type {Located[]} */
  const out = [];
  /**
   * @param {FlowNode} n
   * @param {FlowNode|null} parent
   * @param {string|null} key
   * @param {number} depth
   */
  const visit = (n, parent, key, depth) => {
    out.push({ node: n, parent, key, depth });
    for (const b of n.children) visit(b.node, n, b.key, depth + 1);
  };
  if (doc.flow) visit(doc.flow, null, '_', 1);
  return out;
}

/**
 * @param {FlowDoc} doc
 * @param {string} uid
 * @returns {Located|null}
 */
export function find(doc, uid) {
  // A depth-first search that stops at the block (read on every render:
  // the toolbar asks whether the selected block takes a child).
  /**
   * @param {FlowNode} n
   * @param {FlowNode|null} parent
   * @param {string|null} key
   * @param {number} depth
   * @returns {Located|null}
   */
  const visit = (n, parent, key, depth) => {
    if (n.uid === uid) return { node: n, parent, key, depth };
    for (const b of n.children) {
      const hit = visit(b.node, n, b.key, depth + 1);
      if (hit) return hit;
    }
    return null;
  };
  return doc.flow ? visit(doc.flow, null, '_', 1) : null;
}

/**
 * The number of blocks in a subtree, itself included.
 * @param {FlowNode} n
 * @returns {number}
 */
export function size(n) {
  return 1 + n.children.reduce((acc, b) => acc + size(b.node), 0);
}

/**
 * @param {FlowNode} n
 * @param {string} uid
 * @returns {boolean}
 */
export function contains(n, uid) {
  return n.uid === uid || n.children.some((b) => contains(b.node, uid));
}

/**
 * The branch keys a block can still take a child on. Root takes one child.
 * `free` means any other key may be typed (menu digits, rule ids).
 * @param {FlowDoc} doc
 * @param {string} uid block uid or ROOT
 * @param {(name: string) => CatalogEntry|undefined} entryOf
 * @returns {{keys: string[], free: boolean, suggestions: string[]}}
 */
export function openKeys(doc, uid, entryOf) {
  if (uid === ROOT) return { keys: doc.flow ? [] : ['_'], free: false, suggestions: [] };
  const loc = find(doc, uid);
  if (!loc) return { keys: [], free: false, suggestions: [] };
  const entry = entryOf(loc.node.module);
  const used = new Set(loc.node.children.map((b) => b.key));
  if (!entry) {
    // An unknown module: keep what it has, offer the default key only.
    return { keys: used.has('_') ? [] : ['_'], free: false, suggestions: [] };
  }
  if (entry.terminal) return { keys: [], free: false, suggestions: [] };
  if (entry.free_branches) {
    const base = freeKeySuggestions(entry, loc.node.data);
    return { keys: base.filter((k) => !used.has(k)), free: true, suggestions: base };
  }
  const fixed = entry.branches.length ? entry.branches : ['_'];
  return { keys: fixed.filter((k) => !used.has(k)), free: false, suggestions: fixed };
}

const MENU_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#', 'timeout', 'max_retries', '_'];

/**
 * The keys offered first for a module with free branch keys: menu options,
 * the rule ids of a time-of-day block, else the default; any other key can
 * be typed.
 * @param {CatalogEntry} entry
 * @param {Record<string, unknown>} data
 * @returns {string[]}
 */
function freeKeySuggestions(entry, data) {
  const rules = Array.isArray(data.rules) ? data.rules.map(String) : [];
  if (typeof data.rule_set === 'string' && data.rule_set) rules.push(data.rule_set);
  if (rules.length) return [...rules, '_'];
  if (entry.name === 'menu') return MENU_KEYS;
  return ['_'];
}

/**
 * Whether a block can take one more child.
 * @param {FlowDoc} doc
 * @param {string} uid
 * @param {(name: string) => CatalogEntry|undefined} entryOf
 */
export function canTakeChild(doc, uid, entryOf) {
  const k = openKeys(doc, uid, entryOf);
  return k.keys.length > 0 || k.free;
}

/**
 * Adds a block under a parent on a key.
 * @param {FlowDoc} doc
 * @param {string} parentUid
 * @param {string} key
 * @param {FlowNode} node
 */
export function attach(doc, parentUid, key, node) {
  if (parentUid === ROOT) {
    doc.flow = node;
    return;
  }
  const loc = find(doc, parentUid);
  if (!loc) throw new Error('no such block');
  if (loc.node.children.some((b) => b.key === key)) throw new Error(`key ${key} is taken`);
  loc.node.children.push({ key, node });
  sortBranches(loc.node);
}

/**
 * Detaches a block (with its subtree) from the tree and returns it.
 * @param {FlowDoc} doc
 * @param {string} uid
 * @returns {FlowNode|null}
 */
export function detach(doc, uid) {
  if (doc.flow && doc.flow.uid === uid) {
    const n = doc.flow;
    doc.flow = null;
    return n;
  }
  const loc = find(doc, uid);
  if (!loc || !loc.parent) return null;
  const parent = loc.parent;
  parent.children = parent.children.filter((b) => b.node.uid !== uid);
  return loc.node;
}

/**
 * Changes the key a block hangs on.
 * @param {FlowDoc} doc
 * @param {string} uid
 * @param {string} key
 */
export function rekey(doc, uid, key) {
  const loc = find(doc, uid);
  if (!loc || !loc.parent) return;
  const b = loc.parent.children.find((x) => x.node.uid === uid);
  if (b) b.key = key;
  sortBranches(loc.parent);
}

/** Digits first (0-9 in phone order 1…9, 0), then *, #, words, default last. */
const ORDER = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];

/** @param {string} k */
function keyRank(k) {
  const i = ORDER.indexOf(k);
  if (i >= 0) return i;
  if (k === '_') return 1000;
  if (k === 'timeout') return 999;
  return 100;
}

/** @param {FlowNode} n */
function sortBranches(n) {
  n.children.sort((a, b) => keyRank(a.key) - keyRank(b.key) || a.key.localeCompare(b.key));
}

/** @type {(key: string) => string|undefined} */
let keyNames = () => undefined;

/**
 * Sets how a branch key that is a document id (a time-of-day rule) gets
 * its name.
 * @param {(key: string) => string|undefined} fn
 */
export function setKeyNames(fn) {
  keyNames = fn;
}

/**
 * A key for people: a rule's name, "Key 1", "Default" ("If the server
 * fails" under a Pivot, whose child runs only then).
 * @param {string} key
 * @param {string} [parentModule]
 */
export function keyLabel(key, parentModule = '') {
  if (key === '_') return parentModule === 'pivot' ? 'If the server fails' : 'Default';
  const named = keyNames(key);
  if (named) return named;
  if (key === 'timeout') return 'Timeout';
  if (key === 'max_retries') return 'All attempts failed';
  if (key === 'nomatch') return 'No match';
  if (key === 'match') return 'Match';
  if (/^[0-9*#]$/.test(key)) return `Key ${key}`;
  return key;
}

/**
 * Reassigns fresh uids to a subtree (after a paste or a duplicate).
 * @param {FlowNode} n
 */
export function reuid(n) {
  n.uid = newUid();
  for (const b of n.children) reuid(b.node);
}

/**
 * The document path of every block, as the API names it in errors:
 * "flow", "flow.children.1", "flow.children._.children.timeout".
 * @param {FlowDoc} doc
 * @returns {Map<string, string>} path → uid
 */
export function pathsOf(doc) {
  /** @type {Map<string, string>} */
  const out = new Map();
  /**
   * @param {FlowNode} n
   * @param {string} path
   */
  const visit = (n, path) => {
    out.set(path, n.uid);
    for (const b of n.children) visit(b.node, `${path}.children.${b.key.replaceAll('.', '%2E')}`);
  };
  if (doc.flow) visit(doc.flow, 'flow');
  return out;
}

/**
 * The block an API error path names: the longest block path it starts with.
 * "numbers", "patterns" and "name" belong to the main block.
 * @param {FlowDoc} doc
 * @param {string} path
 * @returns {string|null}
 */
export function uidForPath(doc, path) {
  if (/^(numbers|patterns|name)(\.|$)/.test(path)) return ROOT;
  const paths = pathsOf(doc);
  let best = null;
  let bestLen = -1;
  for (const [p, uid] of paths) {
    if ((path === p || path.startsWith(`${p}.`)) && p.length > bestLen) {
      best = uid;
      bestLen = p.length;
    }
  }
  return best;
}

/**
 * An undo/redo history of snapshots of the document.
 */
export class History {
  constructor(limit = 200) {
    this.limit = limit;
    /** @type {FlowDoc[]} */
    this.undoStack = [];
    /** @type {FlowDoc[]} */
    this.redoStack = [];
  }

  /** @param {FlowDoc} before the document as it was before a change */
  push(before) {
    this.undoStack.push(structuredClone(before));
    if (this.undoStack.length > this.limit) this.undoStack.shift();
    this.redoStack = [];
  }

  /** Forgets the last push (a change that was abandoned). */
  drop() {
    this.undoStack.pop();
  }

  /**
   * @param {FlowDoc} current
   * @returns {FlowDoc|null}
   */
  undo(current) {
    const prev = this.undoStack.pop();
    if (!prev) return null;
    this.redoStack.push(structuredClone(current));
    return prev;
  }

  /**
   * @param {FlowDoc} current
   * @returns {FlowDoc|null}
   */
  redo(current) {
    const next = this.redoStack.pop();
    if (!next) return null;
    this.undoStack.push(structuredClone(current));
    return next;
  }

  clear() {
    this.undoStack = [];
    this.redoStack = [];
  }

  get canUndo() {
    return this.undoStack.length > 0;
  }

  get canRedo() {
    return this.redoStack.length > 0;
  }
}
