// @ts-check
// <sb-diagram>: the call flow drawn as a tree of blocks, left to right,
// starting with the Main Callflow Block. It follows the WAI-ARIA tree
// pattern (role=tree/treeitem/group, aria-level, aria-expanded, roving
// tabindex, arrow keys) and takes drops of actions and blocks.

import { h, replace, setAttrs, uid as newId } from './dom.js';
import { icon } from './icons.js';
import { ROOT, keyLabel } from './model.js';
import { captionOf, fieldsOf, valueLabel } from './schema.js';
import { refCaption } from './directory.js';
import { stepLabel } from './tracewords.js';
import { todStatus } from './todstatus.js';

/** @typedef {import('./types.js').FlowDoc} FlowDoc */
/** @typedef {import('./types.js').FlowNode} FlowNode */
/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */

/**
 * What a block carries besides its data: problems to mark.
 * @typedef {{incomplete: string[], errors: string[]}} Marker
 */

/**
 * A block's elements kept between renders.
 * @typedef {{sig: string, item: HTMLElement, card: HTMLElement, label: string, group: HTMLElement|null}} CacheEntry
 */

/**
 * The editor side of the diagram.
 * @typedef {{
 *   entryOf: (name: string) => CatalogEntry|undefined,
 *   select: (uid: string) => void,
 *   edit: (uid: string) => void,
 *   addAction: (uid: string) => void,
 *   move: (uid: string) => void,
 *   remove: (uid: string) => void,
 *   changeKey: (uid: string) => void,
 *   blockMenu: (uid: string, anchor: HTMLElement) => void,
 *   canDrop: (targetUid: string) => boolean,
 *   drop: (targetUid: string) => void,
 *   dragBlock: (uid: string|null) => void,
 *   branching: (uid: string) => boolean,
 * }} DiagramHost
 */

export class SbDiagram extends HTMLElement {
  constructor() {
    super();
    /** @type {DiagramHost|null} */
    this.host = null;
    /** @type {FlowDoc|null} */
    this.doc = null;
    this.selected = ROOT;
    /** @type {Set<string>} */
    this.collapsed = new Set();
    /** @type {Map<string, Marker>} */
    this.markers = new Map();
    /** @type {Map<string, import('./tracewords.js').Step[]>} the blocks a test call visited */
    this.trail = new Map();
    /** the block of the replay's current step */
    this.current = '';
    /** @type {Map<string, CacheEntry>} each block's elements, kept across renders */
    this.cache = new Map();
    /** @type {Set<string>} the blocks drawn by the current render */
    this.seen = new Set();
    /** bumped when names change (the directory), so cards are drawn again */
    this.namesVersion = 0;
    /** @type {FlowDoc|null} the document the cache was drawn from */
    this.cacheDoc = null;
    /** @type {{sig: string, item: HTMLElement, wrap: HTMLElement|null}|null} */
    this.rootCache = null;
    this.zoom = 1;
    /** What the main block is called while the flow has no name. */
    this.untitled = 'Unnamed call flow';
    this.tree = h('div', { role: 'tree', class: 'tree', 'aria-label': 'Call flow diagram', 'aria-describedby': 'diagram-keys' });
    this.tip = h('div', { class: 'tip', role: 'tooltip', id: newId('tip'), hidden: true });
    /** @type {number|undefined} */
    this.tipTimer = undefined;
    this.tree.addEventListener('keydown', (e) => this.onKey(e));
    this.tree.addEventListener('focusin', (e) => this.onFocusIn(e));
    this.tree.addEventListener('focusout', () => this.hideTip());
    this.tree.addEventListener('click', (e) => this.onClick(e));
    this.tree.addEventListener('dragstart', (e) => this.onDragStart(e));
    this.tree.addEventListener('dragend', () => this.host?.dragBlock(null));
    this.tree.addEventListener('dragover', (e) => this.onDragOver(e));
    this.tree.addEventListener('dragleave', (e) => this.onDragLeave(e));
    this.tree.addEventListener('drop', (e) => this.onDrop(e));
    this.tree.addEventListener('mouseover', (e) => this.onHover(e));
    this.tree.addEventListener('mouseleave', () => this.hideTip());
    // The server's "open now" answers arrive after the blocks are drawn.
    todStatus.addEventListener('change', () => this.render());
    todStatus.addEventListener('stale', () => this.render());
  }

  connectedCallback() {
    if (!this.tree.isConnected) this.append(this.tree, this.tip);
  }

  /**
   * Draws the document.
   * @param {{keepFocus?: boolean}} [opts]
   */
  render(opts = {}) {
    const hadFocus = this.tree.contains(document.activeElement);
    this.hideTip();
    if (!this.doc || !this.host) {
      this.tree.replaceChildren();
      return;
    }
    if (this.tree.style.getPropertyValue('zoom') !== String(this.zoom)) this.tree.style.setProperty('zoom', String(this.zoom));
    // The cache is by block uid: an undone document (a copy with the same
    // uids) keeps every block that did not change; another flow's blocks
    // have other uids, and what is not drawn is dropped below.
    this.cacheDoc = this.doc;
    this.seen = new Set();
    const root = this.rootItem(this.doc);
    if (this.tree.firstElementChild !== root) this.tree.replaceChildren(root);
    for (const id of [...this.cache.keys()]) if (!this.seen.has(id)) this.cache.delete(id);
    const sel = this.itemOf(this.selected) || this.itemOf(ROOT);
    // Only the blocks whose state changes are touched (no restyle else).
    for (const t of this.tree.querySelectorAll('[role=treeitem][tabindex="0"], [role=treeitem][aria-selected="true"], .ti.found')) {
      t.classList.remove('found');
      if (t === sel) continue;
      /** @type {HTMLElement} */ (t).tabIndex = -1;
      t.setAttribute('aria-selected', 'false');
    }
    if (sel) {
      if (sel.tabIndex !== 0) sel.tabIndex = 0;
      if (sel.getAttribute('aria-selected') !== 'true') sel.setAttribute('aria-selected', 'true');
      if (hadFocus || opts.keepFocus) sel.focus({ preventScroll: true });
      sel.querySelector(':scope > .card')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
    this.dispatchEvent(new Event('sb-rendered'));
  }

  /**
   * @param {string} uid
   * @returns {HTMLElement|null}
   */
  itemOf(uid) {
    return this.tree.querySelector(`[role=treeitem][data-uid="${CSS.escape(uid)}"]`);
  }

  /** @param {string} uid */
  focusBlock(uid) {
    const el = this.itemOf(uid);
    if (!el) return;
    for (const t of this.tree.querySelectorAll('[role=treeitem][tabindex="0"], [role=treeitem][aria-selected="true"]')) {
      if (t === el) continue;
      /** @type {HTMLElement} */ (t).tabIndex = -1;
      t.setAttribute('aria-selected', 'false');
    }
    if (el.tabIndex !== 0) el.tabIndex = 0;
    if (el.getAttribute('aria-selected') !== 'true') el.setAttribute('aria-selected', 'true');
    el.focus({ preventScroll: true });
    el.querySelector(':scope > .card')?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  /** @param {FlowDoc} doc */
  rootItem(doc) {
    const sig = JSON.stringify([doc.name, doc.numbers, doc.patterns, this.markers.get(ROOT) || 0, Boolean(doc.flow), this.collapsed.has(ROOT), this.untitled]);
    const rc = this.rootCache && this.rootCache.sig === sig ? this.rootCache : null;
    const item = rc ? rc.item : this.rootFresh(doc);
    if (!rc) this.rootCache = { sig, item, wrap: null };
    const cache = /** @type {{sig: string, item: HTMLElement, wrap: HTMLElement|null}} */ (this.rootCache);
    if (doc.flow && !this.collapsed.has(ROOT)) {
      const child = this.nodeItem(doc.flow, '_', 2, false, 1, 1);
      // The first block sits in a wrapper inside the group: when both are
      // still in place, nothing moves (re-parenting the whole tree would
      // restyle and lay out every block again).
      if (!cache.wrap || child.parentElement?.parentElement !== cache.wrap) {
        cache.wrap?.remove();
        cache.wrap = h('div', { role: 'group', class: 'group single' }, h('div', { class: 'child only', role: 'none' }, child));
      }
      if (cache.wrap.parentElement !== item) item.append(cache.wrap);
    } else if (cache.wrap) {
      cache.wrap.remove();
      cache.wrap = null;
    }
    return item;
  }

  /** @param {FlowDoc} doc */
  rootFresh(doc) {
    const m = this.markers.get(ROOT);
    const numbers = doc.numbers;
    const shown = numbers.slice(0, 6);
    const title = doc.name || this.untitled;
    const card = h('div', { class: `card main-card${m && m.errors.length ? ' has-error' : ''}`, 'data-uid': ROOT },
      h('div', { class: 'main-head' }, icon('flow'), h('span', null, 'Main Callflow Block'),
        h('button', { type: 'button', class: 'card-btn card-edit', tabindex: '-1', 'aria-label': 'Edit name, numbers and patterns', title: 'Edit' }, icon('edit', 'icon sm'))),
      h('div', { class: 'main-name', 'data-testid': 'main-name' }, title),
      h('div', { class: 'main-section' },
        h('div', { class: 'main-sub' }, 'Numbers'),
        numbers.length
          ? h('ul', { class: 'num-list', 'data-testid': 'main-numbers' }, shown.map((n) => h('li', { class: 'num' }, n === 'no_match' ? 'Catch all' : n)),
            numbers.length > shown.length ? h('li', { class: 'num more' }, `+${numbers.length - shown.length} more`) : null)
          : h('p', { class: 'muted small' }, 'No numbers yet: click to add one')),
      doc.patterns.length
        ? h('div', { class: 'main-section' }, h('div', { class: 'main-sub' }, 'Patterns'),
          h('ul', { class: 'num-list' }, doc.patterns.slice(0, 3).map((p) => h('li', { class: 'num mono' }, p)),
            doc.patterns.length > 3 ? h('li', { class: 'num more' }, `+${doc.patterns.length - 3} more`) : null))
        : null,
      m && m.errors.length ? h('div', { class: 'card-problem error', role: 'note', 'data-testid': 'main-error' }, icon('error', 'icon sm'), h('span', null, m.errors.join(' '))) : null,
      !doc.flow ? h('p', { class: 'main-empty' }, 'Drag a first action here from the catalog') : null);
    const label = `Main Callflow Block: ${title}. ${numbers.length ? `Numbers ${numbers.join(', ')}` : 'No numbers'}${doc.patterns.length ? `. Patterns ${doc.patterns.join(', ')}` : ''}${m && m.errors.length ? `. Error: ${m.errors.join(' ')}` : ''}`;
    const item = h('div', {
      role: 'treeitem', class: 'ti root', 'data-uid': ROOT, 'aria-level': '1', tabindex: '-1',
      'aria-selected': 'false', 'aria-label': label, 'aria-posinset': '1', 'aria-setsize': '1',
    }, card);
    if (doc.flow) {
      const expanded = !this.collapsed.has(ROOT);
      item.setAttribute('aria-expanded', expanded ? 'true' : 'false');
      card.append(this.toggleButton(expanded));
    }
    return item;
  }

  /** @param {boolean} expanded */
  toggleButton(expanded) {
    return h('button', {
      type: 'button', class: 'card-btn card-toggle', tabindex: '-1',
      'aria-label': expanded ? 'Collapse' : 'Expand', title: expanded ? 'Collapse' : 'Expand',
    }, icon(expanded ? 'chevron_down' : 'chevron_right', 'icon sm'));
  }

  /**
   * @param {FlowNode} n
   * @param {string} key
   * @param {number} level
   * @param {boolean} showKey
   * @param {number} pos
   * @param {number} setSize
   * @param {string} [parentModule]
   * @returns {HTMLElement}
   */
  nodeItem(n, key, level, showKey, pos, setSize, parentModule = '') {
    const host = /** @type {DiagramHost} */ (this.host);
    const entry = host.entryOf(n.module);
    const m = this.markers.get(n.uid);
    const steps = this.trail.get(n.uid);
    const expanded = !this.collapsed.has(n.uid);
    // (host.branching looks the block up again: the entry says it here.)
    const branching = Boolean(entry && (entry.free_branches || entry.branches.length > 1));
    const tod = n.module === 'temporal_route' ? todStatus.badge(n) : null;
    // An edit redraws only what changed: a block whose own look is the
    // same keeps its card, and a branch keeps its elements in place.
    const sig = JSON.stringify([n.module, n.data, key, showKey, parentModule, m || 0, steps ? stepLabel(steps) : 0, steps ? steps.flatMap((st) => st.hooks).map((x) => x.status) : 0,
      this.current === n.uid, Boolean(entry), n.children.length, expanded, keyLabel(key, parentModule), this.namesVersion, tod ? `${tod.key}|${tod.text}` : 0]);
    const cached = this.cache.get(n.uid);
    /** @type {HTMLElement} */
    let item;
    if (cached) {
      item = cached.item;
      if (cached.sig !== sig) {
        const fresh = this.card(n, key, showKey, parentModule, expanded, tod);
        cached.card.replaceWith(fresh.card);
        cached.card = fresh.card;
        cached.label = fresh.ariaLabel;
      }
    } else {
      const fresh = this.card(n, key, showKey, parentModule, expanded, tod);
      item = h('div', { role: 'treeitem', class: 'ti', 'data-uid': n.uid, tabindex: '-1', 'aria-selected': 'false' }, fresh.card);
      this.cache.set(n.uid, { sig, item, card: fresh.card, label: fresh.ariaLabel, group: null });
    }
    const c = /** @type {CacheEntry} */ (this.cache.get(n.uid));
    c.sig = sig;
    this.seen.add(n.uid);
    setAttrs(item, { 'aria-level': String(level), 'aria-label': c.label, 'aria-posinset': String(pos), 'aria-setsize': String(setSize) });
    if (n.children.length) setAttrs(item, { 'aria-expanded': expanded ? 'true' : 'false' });
    else item.removeAttribute('aria-expanded');
    item.classList.toggle('open-end', n.children.length === 0 && Boolean(entry) && !(entry && entry.terminal));
    if (n.children.length && expanded) {
      const group = c.group || h('div', { role: 'group' });
      c.group = group;
      const cls = `group${n.children.length === 1 ? ' single' : ''}`;
      if (group.className !== cls) group.className = cls;
      /** @type {HTMLElement[]} */
      const wrappers = n.children.map((b, i) => {
        const show = branching || b.key !== '_' || n.module === 'pivot';
        const pos2 = n.children.length === 1 ? 'only' : i === 0 ? 'first' : i === n.children.length - 1 ? 'last' : 'mid';
        const child = this.nodeItem(b.node, b.key, level + 1, show, i + 1, n.children.length, n.module);
        const wsig = `${pos2}|${show}|${b.key}|${keyLabel(b.key, n.module)}|${n.module === 'pivot'}`;
        const old = /** @type {HTMLElement|null} */ (child.parentElement);
        if (old && old.dataset.wsig === wsig && old.parentElement === group) return old;
        const w = h('div', { class: `child ${pos2}${show ? ' keyed' : ''}`, role: 'none', 'data-wsig': wsig },
          show ? h('button', { type: 'button', class: `key-pill${b.key === '_' && n.module === 'pivot' ? ' fail' : ''}`, tabindex: '-1', 'data-key': b.key, 'data-uid': b.node.uid, title: `${keyLabel(b.key, n.module)}: click to change the key${keyLabel(b.key) !== b.key && b.key !== '_' ? ` (${b.key})` : ''}`, 'aria-label': `Change key ${keyLabel(b.key, n.module)}` }, /^[0-9*#]$/.test(b.key) ? b.key : keyLabel(b.key, n.module)) : null,
          child);
        return w;
      });
      // Only the wrappers that differ move.
      wrappers.forEach((w, i) => { if (group.children[i] !== w) group.insertBefore(w, group.children[i] || null); });
      while (group.children.length > wrappers.length) group.lastElementChild?.remove();
      if (group.parentElement !== item) item.append(group);
    } else if (c.group) {
      c.group.remove();
      c.group = null;
    }
    return item;
  }

  /**
   * A block's card and its accessible name.
   * @param {FlowNode} n
   * @param {string} key
   * @param {boolean} showKey
   * @param {string} parentModule
   * @param {boolean} expanded
   * @param {import('./todstatus.js').Badge|null} [tod] a Time of day block's "open now"
   */
  card(n, key, showKey, parentModule, expanded, tod = null) {
    const host = /** @type {DiagramHost} */ (this.host);
    const entry = host.entryOf(n.module);
    const m = this.markers.get(n.uid);
    const label = entry ? entry.label : n.module || 'Block';
    const caption = entry ? refCaption(n.module, n.data) || captionOf(entry.schema, n.data) : `Unknown action “${n.module}”`;
    const skipped = n.data.skip_module === true;
    const problems = m ? [...m.errors, ...m.incomplete] : [];
    const steps = this.trail.get(n.uid);
    const hooks = steps ? steps.flatMap((st) => st.hooks) : [];
    const visit = steps ? `Step ${stepLabel(steps)}` : '';
    const card = h('div', {
      class: `card block${entry ? '' : ' unknown'}${m && m.errors.length ? ' has-error' : m && m.incomplete.length ? ' has-warning' : ''}${skipped ? ' skipped' : ''}${steps ? ' visited' : ''}${this.current === n.uid ? ' current' : ''}`,
      'data-uid': n.uid, 'data-module': n.module, draggable: 'true',
    },
    h('span', { class: 'card-icon' }, icon(entry ? entry.icon : 'block')),
    h('span', { class: 'card-text' }, h('span', { class: 'card-label' }, label),
      caption ? h('span', { class: 'card-caption' }, caption) : null,
      skipped ? h('span', { class: 'card-caption' }, 'Skipped') : null,
      tod ? h('span', { class: `tod-badge ${tod.open ? 'open' : 'closed'}`, 'data-testid': 'tod-badge', title: tod.title }, tod.text) : null,
      hooks.map((x) => h('span', { class: `card-caption hook${x.error || !Number(x.status) || Number(x.status) >= 400 ? ' bad' : ''}`, 'data-testid': 'trail-hook', title: x.error ? String(x.error) : '' },
        `${String(x.method || '')} → ${Number(x.status) ? `HTTP ${x.status}` : 'no response'}`))),
    steps ? h('span', { class: 'trail-badge', 'data-testid': 'trail-badge', title: `${visit} (order visited · time spent)` }, steps.map((st) => st.order).join(',')) : null,
    problems.length
      ? h('span', { class: `marker ${m && m.errors.length ? 'error' : 'warn'}`, 'data-testid': 'marker', title: problems.join('\n') }, icon(m && m.errors.length ? 'error' : 'warning', 'icon sm'))
      : null,
    h('button', { type: 'button', class: 'card-btn card-more', tabindex: '-1', 'aria-label': `Actions for ${label}`, 'aria-haspopup': 'menu', 'aria-expanded': 'false', title: 'Actions' }, icon('more', 'icon sm')));
    if (n.children.length) card.append(this.toggleButton(expanded));
    const keyText = showKey ? `${keyLabel(key, parentModule)}: ` : '';
    const ariaLabel = `${keyText}${label}${caption ? `, ${caption}` : ''}${tod ? `, ${tod.text}` : ''}${skipped ? ', skipped' : ''}${visit ? `, visited: ${visit}` : ''}${problems.length ? `. ${m && m.errors.length ? 'Error' : 'Incomplete'}: ${problems.join('; ')}` : ''}`;
    return { card, ariaLabel };
  }

  // ---- events ----

  /**
   * @param {EventTarget|null} t
   * @returns {HTMLElement|null}
   */
  itemFrom(t) {
    return t instanceof Element ? /** @type {HTMLElement|null} */ (t.closest('[role=treeitem]')) : null;
  }

  /** @param {FocusEvent} e */
  onFocusIn(e) {
    const item = this.itemFrom(e.target);
    if (!item || e.target !== item) return;
    const id = item.dataset.uid || ROOT;
    if (id !== this.selected) {
      this.selected = id;
      // Only the block that was selected and this one change (touching
      // every block's attributes cost ~10 ms at 200 blocks).
      for (const t of this.tree.querySelectorAll('[role=treeitem][tabindex="0"], [role=treeitem][aria-selected="true"]')) {
        if (t === item) continue;
        /** @type {HTMLElement} */ (t).tabIndex = -1;
        t.setAttribute('aria-selected', 'false');
      }
      if (item.tabIndex !== 0) item.tabIndex = 0;
      if (item.getAttribute('aria-selected') !== 'true') item.setAttribute('aria-selected', 'true');
      this.host?.select(id);
    }
    if (item.matches(':focus-visible')) this.showTipSoon(item);
  }

  /** @param {MouseEvent} e */
  onClick(e) {
    const t = e.target instanceof Element ? e.target : null;
    if (!t) return;
    const host = this.host;
    if (!host) return;
    const pill = t.closest('.key-pill');
    if (pill instanceof HTMLElement && pill.dataset.uid) {
      this.focusBlock(pill.dataset.uid);
      host.changeKey(pill.dataset.uid);
      return;
    }
    const card = t.closest('.card');
    const item = this.itemFrom(t);
    if (!card || !item) return;
    const id = item.dataset.uid || ROOT;
    this.focusBlock(id);
    if (t.closest('.card-toggle')) {
      if (this.collapsed.has(id)) this.collapsed.delete(id); else this.collapsed.add(id);
      this.render({ keepFocus: true });
      return;
    }
    const more = t.closest('.card-more');
    if (more instanceof HTMLElement) {
      host.blockMenu(id, more);
      return;
    }
    this.hideTip();
    host.edit(id);
  }

  /** @returns {HTMLElement[]} */
  visibleItems() {
    return /** @type {HTMLElement[]} */ ([...this.tree.querySelectorAll('[role=treeitem]')]);
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    const item = this.itemFrom(e.target);
    const host = this.host;
    if (!item || !host || e.target !== item) return;
    const id = item.dataset.uid || ROOT;
    const items = this.visibleItems();
    const i = items.indexOf(item);
    const expanded = item.getAttribute('aria-expanded');
    const go = (/** @type {HTMLElement|undefined|null} */ el) => { if (el) this.focusBlock(el.dataset.uid || ROOT); };
    if (e.altKey || e.metaKey) return;
    if (e.ctrlKey) return; // undo/redo and the like are the editor's
    switch (e.key) {
      case 'ArrowDown': go(items[i + 1]); break;
      case 'ArrowUp': go(items[i - 1]); break;
      case 'Home': go(items[0]); break;
      case 'End': go(items[items.length - 1]); break;
      case 'ArrowRight':
        if (expanded === 'false') { this.collapsed.delete(id); this.render({ keepFocus: true }); }
        else if (expanded === 'true') go(/** @type {HTMLElement|null} */ (item.querySelector(':scope > [role=group] [role=treeitem]')));
        break;
      case 'ArrowLeft':
        if (expanded === 'true') { this.collapsed.add(id); this.render({ keepFocus: true }); }
        else go(item.parentElement ? this.itemFrom(item.parentElement) : null);
        break;
      case 'Enter':
      case 'F2':
        host.edit(id); break;
      case 'Delete':
      case 'Backspace':
        host.remove(id); break;
      case 'ContextMenu':
        host.blockMenu(id, /** @type {HTMLElement} */ (item.querySelector(':scope > .card .card-more') || item.querySelector(':scope > .card'))); break;
      case 'F10':
        if (!e.shiftKey) return;
        host.blockMenu(id, /** @type {HTMLElement} */ (item.querySelector(':scope > .card .card-more') || item.querySelector(':scope > .card'))); break;
      case 'Insert': case 'a': case 'A': case '+':
        host.addAction(id); break;
      case 'm': case 'M':
        host.move(id); break;
      case 'k': case 'K':
        host.changeKey(id); break;
      case '*': {
        const parent = item.parentElement?.closest('[role=group]');
        if (parent) for (const sib of parent.querySelectorAll(':scope > .child > [role=treeitem]')) this.collapsed.delete(/** @type {HTMLElement} */ (sib).dataset.uid || '');
        this.render({ keepFocus: true });
        break;
      }
      default: return;
    }
    e.preventDefault();
  }

  // ---- drag and drop ----

  /** @param {DragEvent} e */
  onDragStart(e) {
    const card = e.target instanceof Element ? e.target.closest('.card.block') : null;
    if (!(card instanceof HTMLElement) || !card.dataset.uid) return;
    if (e.dataTransfer) {
      e.dataTransfer.setData('application/x-switchboard-block', card.dataset.uid);
      e.dataTransfer.setData('text/plain', card.textContent || '');
      e.dataTransfer.effectAllowed = 'move';
    }
    this.hideTip();
    this.host?.dragBlock(card.dataset.uid);
  }

  /** Marks every block as a valid or refused drop target. */
  markTargets() {
    const host = this.host;
    if (!host) return;
    this.tree.classList.add('dragging');
    for (const card of this.tree.querySelectorAll('.card')) {
      const c = /** @type {HTMLElement} */ (card);
      c.dataset.drop = host.canDrop(c.dataset.uid || ROOT) ? 'ok' : 'no';
    }
  }

  clearTargets() {
    this.tree.classList.remove('dragging');
    for (const card of this.tree.querySelectorAll('.card')) {
      const c = /** @type {HTMLElement} */ (card);
      delete c.dataset.drop;
      c.classList.remove('drop-hover');
    }
  }

  /**
   * @param {DragEvent} e
   * @returns {HTMLElement|null}
   */
  cardOf(e) {
    const c = e.target instanceof Element ? e.target.closest('.card') : null;
    return c instanceof HTMLElement ? c : null;
  }

  /** @param {DragEvent} e */
  onDragOver(e) {
    const card = this.cardOf(e);
    if (!card || card.dataset.drop !== 'ok') {
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'none';
      return;
    }
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = e.dataTransfer.effectAllowed === 'move' ? 'move' : 'copy';
    if (!card.classList.contains('drop-hover')) {
      for (const c of this.tree.querySelectorAll('.drop-hover')) c.classList.remove('drop-hover');
      card.classList.add('drop-hover');
    }
  }

  /** @param {DragEvent} e */
  onDragLeave(e) {
    const card = this.cardOf(e);
    if (card && !(e.relatedTarget instanceof Node && card.contains(e.relatedTarget))) card.classList.remove('drop-hover');
  }

  /** @param {DragEvent} e */
  onDrop(e) {
    const card = this.cardOf(e);
    if (!card || card.dataset.drop !== 'ok') return;
    e.preventDefault();
    const target = card.dataset.uid || ROOT;
    this.clearTargets();
    this.host?.drop(target);
  }

  // ---- the hover card ----

  /** @param {MouseEvent} e */
  onHover(e) {
    if (this.tree.classList.contains('dragging')) return;
    const card = e.target instanceof Element ? e.target.closest('.card') : null;
    if (!(card instanceof HTMLElement)) return;
    const item = this.itemFrom(card);
    if (item && this.tip.dataset.for !== item.dataset.uid) this.showTipSoon(item);
  }

  /** @param {HTMLElement} item */
  showTipSoon(item) {
    window.clearTimeout(this.tipTimer);
    this.tipTimer = window.setTimeout(() => this.showTip(item), 250);
  }

  hideTip() {
    window.clearTimeout(this.tipTimer);
    this.tip.hidden = true;
    delete this.tip.dataset.for;
  }

  /** @param {HTMLElement} item */
  showTip(item) {
    const host = this.host;
    const doc = this.doc;
    if (!host || !doc || !item.isConnected) return;
    const id = item.dataset.uid || ROOT;
    if (id === ROOT) return;
    const card = item.querySelector(':scope > .card');
    const loc = findNode(doc, id);
    if (!card || !loc) return;
    const entry = host.entryOf(loc.module);
    /** @type {Array<[string, string]>} */
    const rows = [];
    if (entry) {
      for (const f of fieldsOf(entry.schema, entry.name)) {
        const v = loc.data[f.key];
        if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
        rows.push([f.title, f.kind === 'boolean' ? (v ? 'Yes' : 'No') : valueLabel(v)]);
      }
    } else {
      rows.push(['Data', JSON.stringify(loc.data)]);
    }
    const m = this.markers.get(id);
    const problems = m ? [...m.errors, ...m.incomplete] : [];
    replace(this.tip,
      h('div', { class: 'tip-title' }, entry ? entry.label : loc.module),
      entry && entry.description ? h('div', { class: 'tip-desc' }, entry.description) : null,
      rows.length ? h('dl', { class: 'tip-rows' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])) : h('p', { class: 'tip-desc' }, 'No settings yet.'),
      problems.length ? h('ul', { class: 'tip-problems' }, problems.map((p) => h('li', null, p))) : null);
    this.tip.dataset.for = id;
    this.tip.hidden = false;
    const r = card.getBoundingClientRect();
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    let left = r.left;
    let top = r.bottom + 6;
    if (top + th > window.innerHeight - 8) top = r.top - th - 6;
    left = Math.max(8, Math.min(left, window.innerWidth - tw - 8));
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${Math.max(8, top)}px`;
  }
}

/**
 * @param {FlowDoc} doc
 * @param {string} id
 * @returns {FlowNode|null}
 */
function findNode(doc, id) {
  /** @type {FlowNode[]} */
  const stack = doc.flow ? [doc.flow] : [];
  while (stack.length) {
    const n = /** @type {FlowNode} */ (stack.pop());
    if (n.uid === id) return n;
    for (const b of n.children) stack.push(b.node);
  }
  return null;
}

customElements.define('sb-diagram', SbDiagram);
