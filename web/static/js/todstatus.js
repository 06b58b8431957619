// @ts-check
// "Open now / Closed now" on Time of day blocks. The server judges the
// rules (GET …/temporal_rules/status, the code a call runs, in each rule's
// own zone, else the block's), so the badge and a real call agree; this
// module asks for the rules blocks name, keeps the answers a minute, and
// picks a block's branch the way temporal_route does: its rules in order,
// then its other branch keys sorted, then its rule set.

import { directory } from './directory.js';

/**
 * A rule's or a set's status, as the server says it.
 * @typedef {{id: string, kind?: string, name?: string, active?: boolean, timezone?: string, local_time?: string, enabled?: boolean, rules?: RuleStatus[], error?: string}} RuleStatus
 */

/**
 * What a block's badge says.
 * @typedef {{open: boolean, key: string, text: string, title: string}} Badge
 */

/** How long an answer is trusted, and how often shown badges refresh. */
const FRESH_MS = 60_000;

export class TodStatus extends EventTarget {
  constructor() {
    super();
    /** @type {Map<string, {at: number, st: RuleStatus}>} "zone|id" → status */
    this.cache = new Map();
    /** @type {Set<string>} "zone|id" asked for, answer not back yet */
    this.pending = new Set();
    /** @type {Map<string, Set<string>>} zone → ids to ask for in the next batch */
    this.wanted = new Map();
    this.scheduled = false;
    /** @type {number|undefined} */
    this.timer = undefined;
    // An edited rule may have changed its answer.
    directory.addEventListener('change', () => this.forget());
  }

  forget() {
    if (!this.cache.size) return;
    for (const v of this.cache.values()) v.at = 0;
  }

  /**
   * The badge of a temporal_route block, or null (no rules, an override
   * block, answers not back yet).
   * @param {import('./types.js').FlowNode} node
   * @returns {Badge|null}
   */
  badge(node) {
    const d = node.data;
    if (node.module !== 'temporal_route' || (typeof d.action === 'string' && d.action && d.action !== 'route')) return null;
    const zone = typeof d.timezone === 'string' ? d.timezone : '';
    /** @type {Array<{id: string, key: string}>} */
    const refs = [];
    const seen = new Set();
    for (const id of Array.isArray(d.rules) ? d.rules.map(String) : []) {
      if (!seen.has(id)) { seen.add(id); refs.push({ id, key: id }); }
    }
    const keys = node.children.map((b) => b.key).filter((k) => k !== '_' && k !== 'rule_set' && !seen.has(k)).sort();
    for (const k of keys) { seen.add(k); refs.push({ id: k, key: k }); }
    if (typeof d.rule_set === 'string' && d.rule_set) {
      const has = (/** @type {string} */ k) => node.children.some((b) => b.key === k);
      refs.push({ id: d.rule_set, key: !has(d.rule_set) && has('rule_set') ? 'rule_set' : d.rule_set });
    }
    if (!refs.length) return null;
    const got = refs.map((r) => this.lookup(zone, r.id));
    if (got.some((s) => !s)) return null;
    const judged = /** @type {RuleStatus[]} */ (got).filter((s) => !s.error);
    if (!judged.length) return null;
    const when = (/** @type {RuleStatus} */ st) => (st.local_time ? ` at ${st.local_time.slice(11, 16)} ${st.timezone}` : '');
    for (const [i, r] of refs.entries()) {
      const s = got[i];
      if (!s || s.error || !s.active) continue;
      const name = directory.nameOf(s.id) || s.name || s.id;
      const inner = s.kind === 'set' ? (s.rules || []).filter((x) => x.active).map((x) => directory.nameOf(x.id) || x.name || x.id) : [];
      const label = inner.length ? `${name} (${inner.join(', ')})` : name;
      const by = s.kind === 'set' ? (s.rules || []).find((x) => x.active) || s : s;
      return { open: true, key: r.key, text: `Open now: ${label}`, title: `The server judges “${label}” active${when(by)}: a call now takes its branch.` };
    }
    const names = judged.map((s) => directory.nameOf(s.id) || s.name || s.id);
    return { open: false, key: '_', text: 'Closed now', title: `None of ${names.join(', ')} is active${when(judged[0])}: a call now takes the Default branch.` };
  }

  /**
   * A cached status; asks for it (again) when missing or old.
   * @param {string} zone
   * @param {string} id
   * @returns {RuleStatus|null}
   */
  lookup(zone, id) {
    const k = `${zone}|${id}`;
    const c = this.cache.get(k);
    if ((!c || Date.now() - c.at > FRESH_MS) && !this.pending.has(k)) this.want(zone, id);
    return c ? c.st : null;
  }

  /**
   * @param {string} zone
   * @param {string} id
   */
  want(zone, id) {
    const set = this.wanted.get(zone) || new Set();
    set.add(id);
    this.wanted.set(zone, set);
    this.pending.add(`${zone}|${id}`);
    if (this.scheduled) return;
    this.scheduled = true;
    // One batch per zone for everything a render asked for.
    queueMicrotask(() => void this.flush());
  }

  async flush() {
    this.scheduled = false;
    const api = directory.api;
    const batches = [...this.wanted.entries()];
    this.wanted.clear();
    if (!api) return;
    let changed = false;
    await Promise.all(batches.map(async ([zone, idSet]) => {
      const ids = [...idSet];
      for (let i = 0; i < ids.length; i += 100) {
        const part = ids.slice(i, i + 100);
        const q = new URLSearchParams({ ids: part.join(',') });
        if (zone) q.set('timezone', zone);
        try {
          const r = await api.call('GET', `/temporal_rules/status?${q}`);
          for (const st of /** @type {RuleStatus[]} */ (Array.isArray(r.data) ? r.data : [])) {
            const k = `${zone}|${st.id}`;
            const old = this.cache.get(k);
            if (!old || JSON.stringify(old.st) !== JSON.stringify(st)) changed = true;
            this.cache.set(k, { at: Date.now(), st });
          }
        } catch {
          // A bad zone (flagged on the block) or a failed request: no badge.
          for (const id of part) this.cache.set(`${zone}|${id}`, { at: Date.now(), st: { id, error: 'unknown' } });
        } finally {
          for (const id of part) this.pending.delete(`${zone}|${id}`);
        }
      }
    }));
    if (changed) this.dispatchEvent(new Event('change'));
    this.tick();
  }

  /** Refreshes shown badges every minute while answers are cached. */
  tick() {
    if (this.timer !== undefined || !this.cache.size) return;
    this.timer = window.setTimeout(() => {
      this.timer = undefined;
      this.forget();
      if (document.visibilityState === 'visible') this.dispatchEvent(new Event('stale'));
    }, FRESH_MS);
  }
}

/** The configurator's one status keeper. */
export const todStatus = new TodStatus();
