// @ts-check
// Tiny DOM helpers: h() builds elements, no framework.

/** @typedef {Node|string|number|null|undefined|false|ChildList} Child */
/** @typedef {Array<Child>} ChildList */

/**
 * Creates an element. Attributes: "class", "style" and plain attributes are
 * set as attributes (true → "", false/null/undefined → left out); "on…"
 * functions become listeners; "value", "checked", "selected" and
 * "indeterminate" are set as properties.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>|null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2).toLowerCase(), /** @type {EventListener} */ (v));
      } else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'indeterminate') {
        /** @type {any} */ (el)[k] = v;
      } else {
        el.setAttribute(k === 'className' ? 'class' : k, v === true ? '' : String(v));
      }
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element|DocumentFragment} el
 * @param {ChildList} children
 */
export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(typeof c === 'number' ? String(c) : c);
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...Child} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** @type {number} */
let idCounter = 0;
/** @param {string} prefix */
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * Returns the first element matching selector inside root, typed.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new (...args: any[]) => T} type
 * @returns {T}
 */
export function $(root, selector, type) {
  const el = root.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`missing ${selector}`);
  return el;
}

/**
 * Sets the attributes that differ (an unchanged one is not touched, so
 * the browser has nothing to restyle).
 * @param {HTMLElement} el
 * @param {Record<string, string>} attrs
 */
export function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) if (el.getAttribute(k) !== v) el.setAttribute(k, v);
}
