// @ts-check
// <sb-test-call>: runs a simulated call (POST …/simulate) with the keys
// the admin types, and shows the call trace as a timeline, with each Pivot
// request and response (GET …/pivot/debug/{call_id}).

import { h, uid } from './dom.js';
import { icon, opIcon } from './icons.js';
import { describeError } from './api.js';
import { byWords, causeWords, codeWords } from './tracewords.js';
import { keyLabel } from './model.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {import('./types.js').TraceEvent} TraceEvent */
/** @typedef {import('./types.js').WebhookExchange} WebhookExchange */
/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */

const DIALS = ['completed', 'busy', 'no-answer', 'failed'];

/** @param {number} ms */
function fmtTime(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

/**
 * @param {unknown} v
 * @returns {string}
 */
function str(v) {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * A body for reading: JSON pretty-printed, XML (TwiML) indented, the rest
 * as is.
 * @param {string|undefined} body
 */
function pretty(body) {
  if (!body) return '';
  const t = body.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try { return JSON.stringify(JSON.parse(t), null, 2); } catch { /* as is */ }
  }
  if (t.startsWith('<')) return indentXML(t);
  return body;
}

/**
 * One tag or text per line, indented by depth.
 * @param {string} xml
 */
function indentXML(xml) {
  const parts = xml.replace(/>\s*</g, '>\n<').split('\n');
  let depth = 0;
  /** @type {string[]} */
  const out = [];
  for (const raw of parts) {
    const line = raw.trim();
    if (!line) continue;
    const closing = /^<\//.test(line);
    const selfOrDecl = /\/>$/.test(line) || /^<\?/.test(line) || /^<!/.test(line);
    const opensAndCloses = /^<[^/!?][^>]*>.*<\/[^>]+>$/.test(line);
    if (closing) depth = Math.max(0, depth - 1);
    out.push(`${'  '.repeat(depth)}${line}`);
    if (!closing && !selfOrDecl && !opensAndCloses && line.startsWith('<')) depth++;
  }
  return out.join('\n');
}

export class SbTestCall extends HTMLElement {
  constructor() {
    super();
    /** @type {Api|null} */
    this.api = null;
    /** @type {(name: string) => CatalogEntry|undefined} */
    this.entryOf = () => undefined;
    /** @type {string[]} */
    this.numbers = [];
    this.dirty = false;
    this.running = false;
    const toId = uid('tc-to');
    const fromId = uid('tc-from');
    this.to = h('input', { id: toId, type: 'text', class: 'input', list: `${toId}-list`, placeholder: 'Number to call', autocomplete: 'off', 'data-testid': 'test-to' });
    this.toList = h('datalist', { id: `${toId}-list` });
    this.from = h('input', { id: fromId, type: 'text', class: 'input', placeholder: '+15555550100', autocomplete: 'off' });
    this.inputs = h('ol', { class: 'rows', 'aria-label': 'Keys the caller presses' });
    this.dials = h('ol', { class: 'rows', 'aria-label': 'Dial outcomes' });
    this.note = h('p', { class: 'note', hidden: true });
    const atId = uid('tc-at');
    this.at = h('input', { id: atId, type: 'datetime-local', class: 'input', 'data-testid': 'test-at', 'aria-describedby': `${atId}-help` });
    const preset = (/** @type {string} */ label, /** @type {() => Date|null} */ when) => h('button', {
      type: 'button', class: 'btn ghost small', 'data-testid': `test-at-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`,
      onclick: () => { const d = when(); this.at.value = d ? localInput(d) : ''; },
    }, label);
    this.atField = h('div', { class: 'field' }, h('label', { for: atId, class: 'field-label' }, 'At'), this.at,
      h('div', { class: 'at-presets', role: 'group', 'aria-label': 'At presets' },
        preset('Now', () => null), preset('Weekday 10:00', () => nextDay([1, 2, 3, 4, 5], 10)),
        preset('Weekday 22:00', () => nextDay([1, 2, 3, 4, 5], 22)), preset('Saturday night', () => nextDay([6], 23))),
      h('p', { id: `${atId}-help`, class: 'help' }, 'When the call happens, for Time of day blocks; now when empty.'));
    /** @type {(trace: TraceEvent[]|null) => void} called with each test call's trace (null: cleared) */
    this.onTrace = () => {};
    this.runBtn = h('button', { type: 'submit', class: 'btn primary wide', 'data-testid': 'test-run' }, icon('phone'), 'Run test call');
    this.error = h('p', { class: 'form-error', role: 'alert' });
    this.result = h('div', { class: 'tc-result', 'aria-live': 'polite', 'data-testid': 'test-result' },
      h('p', { class: 'empty small' }, 'The call’s timeline shows here: what was said, the keys collected, each Pivot request and response, and how the call ended.'));
    const form = h('form', { class: 'tc-form', novalidate: true },
      h('p', { class: 'help' }, 'Places a simulated call through the saved call flows, with no phone: the caller presses the keys you list, in order.'),
      this.note,
      h('div', { class: 'field' }, h('label', { for: toId, class: 'field-label' }, 'Call'), this.to, this.toList),
      h('div', { class: 'field' }, h('label', { for: fromId, class: 'field-label' }, 'From (optional)'), this.from),
      this.atField,
      h('div', { class: 'field' }, h('div', { class: 'field-label' }, 'Caller presses'), this.inputs,
        h('button', { type: 'button', class: 'btn ghost small', onclick: () => this.addInput(''), 'data-testid': 'test-add-input' }, icon('plus', 'icon sm'), 'Add keys'),
        h('p', { class: 'help' }, 'One entry per prompt, such as 1 or 1234#. Leave one empty for no answer, or type hangup.')),
      h('details', { class: 'advanced' }, h('summary', null, 'Dial outcomes'),
        h('div', { class: 'advanced-body' }, this.dials,
          h('button', { type: 'button', class: 'btn ghost small', onclick: () => this.addDial('busy') }, icon('plus', 'icon sm'), 'Add outcome'),
          h('p', { class: 'help' }, 'What each ring of a phone or number does, in order; answered when none is left.'))),
      this.runBtn, this.error);
    form.addEventListener('submit', (e) => { e.preventDefault(); void this.run(); });
    this.form = form;
  }

  connectedCallback() {
    if (!this.form.isConnected) {
      this.classList.add('test-call');
      this.append(this.form, this.result);
      if (!this.inputs.childElementCount) this.addInput('');
    }
  }

  /**
   * The flow being edited: its saved numbers and whether it has unsaved changes.
   * @param {string[]} numbers
   * @param {boolean} dirty
   * @param {boolean} open
   */
  setFlow(numbers, dirty, open) {
    const changed = numbers.join() !== this.numbers.join();
    this.numbers = numbers;
    this.dirty = dirty;
    if (changed) {
      this.toList.replaceChildren(...numbers.map((n) => h('option', { value: n })));
      if (!this.to.value || !numbers.includes(this.to.value)) this.to.value = numbers[0] || '';
    }
    this.note.hidden = !(dirty || (open && !numbers.length));
    this.note.textContent = dirty
      ? 'This call flow has unsaved changes: the test call uses the last saved version.'
      : 'This call flow has no number yet: add one to the Main Callflow Block and save to call it.';
  }

  /** @param {string} v */
  addInput(v) {
    const n = this.inputs.childElementCount + 1;
    const inp = h('input', { type: 'text', class: 'input', value: v, 'aria-label': `Keys for prompt ${n}`, placeholder: 'e.g. 1', autocomplete: 'off', 'data-testid': 'test-input' });
    const row = h('li', { class: 'row' }, inp,
      h('button', { type: 'button', class: 'icon-btn small', 'aria-label': `Remove keys for prompt ${n}`, title: 'Remove', onclick: () => { row.remove(); this.renumber(); } }, icon('close', 'icon sm')));
    this.inputs.append(row);
    inp.focus();
  }

  renumber() {
    [...this.inputs.querySelectorAll('input')].forEach((inp, i) => inp.setAttribute('aria-label', `Keys for prompt ${i + 1}`));
  }

  /** @param {string} v */
  addDial(v) {
    const n = this.dials.childElementCount + 1;
    const sel = h('select', { class: 'input', 'aria-label': `Outcome of dial ${n}` }, DIALS.map((d) => h('option', { value: d, selected: d === v }, d)));
    const row = h('li', { class: 'row' }, sel,
      h('button', { type: 'button', class: 'icon-btn small', 'aria-label': `Remove outcome ${n}`, title: 'Remove', onclick: () => row.remove() }, icon('close', 'icon sm')));
    this.dials.append(row);
    sel.focus();
  }

  async run() {
    const api = this.api;
    if (!api || this.running) return;
    const to = this.to.value.trim();
    if (!to) {
      this.error.textContent = 'Enter the number to call.';
      this.to.focus();
      return;
    }
    this.error.textContent = '';
    const inputs = [...this.inputs.querySelectorAll('input')].map((i) => i.value.trim());
    while (inputs.length && inputs[inputs.length - 1] === '') inputs.pop();
    const dials = [...this.dials.querySelectorAll('select')].map((s) => s.value);
    this.running = true;
    this.runBtn.disabled = true;
    this.result.replaceChildren(h('p', { class: 'empty small' }, 'Calling…'));
    try {
      const from = this.from.value.trim();
      const at = this.at.value ? new Date(this.at.value).toISOString() : '';
      const r = await api.simulate({ to, inputs, dials, ...(from ? { from } : {}), ...(at ? { at } : {}) });
      const hasHook = r.trace.some((e) => e.op === 'webhook');
      const hooks = hasHook ? await api.pivotDebug(r.call_id) : [];
      this.show(r.call_id, r.trace, r.result, hooks);
      this.onTrace(r.trace);
    } catch (e) {
      this.result.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, describeError(e)));
    } finally {
      this.running = false;
      this.runBtn.disabled = false;
    }
  }

  /**
   * @param {string} callId
   * @param {TraceEvent[]} trace
   * @param {{cause?: string, by?: string, nodes?: number}} result
   * @param {WebhookExchange[]} hooks
   */
  show(callId, trace, result, hooks) {
    const last = trace[trace.length - 1];
    const summary = h('div', { class: 'tc-summary' },
      h('strong', null, `Call ended: ${causeWords(result.cause)}`),
      h('span', { class: 'muted' }, ` · ${byWords(result.by) || result.by || '?'} · ${result.nodes ?? 0} block${result.nodes === 1 ? '' : 's'} · ${last ? fmtTime(last.t_ms) : ''}`),
      h('div', { class: 'muted small mono' }, callId));
    let hookIndex = 0;
    const items = trace.map((ev) => {
      const x = ev.op === 'webhook' ? hooks[hookIndex++] : undefined;
      return this.event(ev, x);
    });
    this.result.replaceChildren(summary, h('ol', { class: 'timeline', 'aria-label': 'Call trace' }, items));
  }

  /**
   * @param {TraceEvent} ev
   * @param {WebhookExchange|undefined} hook
   */
  event(ev, hook) {
    /** @type {string} */
    let title = ev.op;
    /** @type {Array<Node|string|null>} */
    const detail = [];
    let cls = '';
    /** @type {HTMLElement|null} */
    let extra = null;
    switch (ev.op) {
      case 'route':
        if (ev.error) { title = `No call flow for ${str(ev.number)}`; cls = 'bad'; detail.push(str(ev.error)); }
        else title = `Routed ${str(ev.number)}${ev.pattern ? ` (pattern ${str(ev.pattern)})` : ''}`;
        break;
      case 'module': {
        const e = this.entryOf(str(ev.module));
        title = `${e ? e.label : str(ev.module)}`;
        cls = 'block';
        break;
      }
      case 'branch': {
        const e = this.entryOf(str(ev.module));
        const where = [ev.local_time, ev.timezone].filter(Boolean).map(str).join(' ');
        const chosen = keyLabel(str(ev.key));
        title = ev.name || ev.rule
          ? `${e ? e.label : 'Time of day'}: open (${str(ev.name || ev.rule)}${where ? `, ${where}` : ''}) → ${chosen}`
          : ev.timezone ? `${e ? e.label : 'Time of day'}: closed${where ? ` (${where})` : ''} → ${chosen}` : `Took the branch ${chosen}`;
        break;
      }
      case 'answer': title = 'Answered'; break;
      case 'say':
        title = `Said “${str(ev.text)}”`;
        detail.push([ev.voice, ev.language].filter(Boolean).map(str).join(' · ') + (Number(ev.loop) > 1 ? ` · ${str(ev.loop)} times` : ''));
        break;
      case 'play': title = `Played ${str(ev.url || ev.media_id)}`; break;
      case 'pause': title = `Paused ${str(ev.seconds)} s`; break;
      case 'gather': {
        const d = str(ev.digits);
        title = d ? `Caller pressed ${d}` : 'No keys pressed';
        if (!d) cls = 'warn';
        const n = Number(ev.num_digits);
        detail.push(`${n === 1 ? 'one key' : n ? `up to ${n} keys` : 'any number of keys'} · timeout ${str(ev.timeout)} s${ev.finish_on_key ? ` · ends with ${str(ev.finish_on_key)}` : ''}`);
        break;
      }
      case 'webhook': {
        const status = Number(ev.status);
        title = `${str(ev.method)} ${shortURL(str(ev.url))}`;
        cls = ev.error || status >= 400 || status === 0 ? 'bad' : '';
        detail.push(h('span', { class: `status-badge ${cls ? 'bad' : 'ok'}` }, status ? `HTTP ${status}` : 'no response'),
          ` ${str(ev.format) === 'twiml' ? 'TwiML' : str(ev.format) === 'kazoo' ? 'Kazoo JSON' : str(ev.format)}`,
          ev.duration_ms !== undefined ? ` · ${str(ev.duration_ms)} ms` : '');
        if (ev.error) detail.push(h('div', { class: 'err-line' }, str(ev.error)));
        extra = this.exchange(ev, hook);
        break;
      }
      case 'record': title = `Recorded ${str(ev.duration)} s`; break;
      case 'dial': {
        const targets = Array.isArray(ev.targets) ? ev.targets.map((t) => (t && typeof t === 'object' ? `${str(/** @type {any} */ (t).value)}` : str(t))).join(', ') : '';
        title = `Dialled ${targets}`;
        const st = str(ev.status);
        cls = st === 'completed' || st === 'answered' ? '' : 'warn';
        detail.push(h('span', { class: `status-badge ${cls ? 'warn' : 'ok'}` }, st || '?'), ev.timeout !== undefined ? ` · timeout ${str(ev.timeout)} s` : '');
        break;
      }
      case 'redirect': title = `Redirected to ${str(ev.method)} ${shortURL(str(ev.url))}`; break;
      case 'set': title = `Set ${str(ev.key)} = ${str(ev.value)}`; break;
      case 'reject': title = `Rejected: ${str(ev.reason)}`; cls = 'bad'; break;
      case 'warning':
      case 'error': {
        const words = codeWords(ev.code);
        title = `${ev.op === 'error' ? 'Error' : 'Warning'} ${str(ev.code)}${words ? `: ${words}` : ''}`;
        cls = ev.op === 'error' ? 'bad' : 'warn';
        detail.push(str(ev.message));
        if (String(ev.code).startsWith('11') || String(ev.code).startsWith('12')) detail.push(h('div', { class: 'small' }, 'See the webhook’s request and response above.'));
        break;
      }
      case 'hangup': title = `Hung up: ${causeWords(ev.cause)}`; detail.push(byWords(ev.by)); break;
      default: title = `${ev.op.replace(/_/g, ' ')}`;
    }
    const raw = h('details', { class: 'tl-raw' }, h('summary', null, 'Raw'), h('pre', null, JSON.stringify(ev, null, 2)));
    return h('li', { class: `tl-item op-${ev.op} ${cls}`, 'data-op': ev.op },
      h('span', { class: 'tl-time' }, fmtTime(Number(ev.t_ms) || 0)),
      h('span', { class: 'tl-icon' }, opIcon(ev.op)),
      h('div', { class: 'tl-body' }, h('div', { class: 'tl-title' }, title), detail.length ? h('div', { class: 'tl-detail' }, detail) : null),
      extra, raw);
  }

  /**
   * Step-through replay of the call's path on the diagram: Previous and
   * Next move the highlighted block; go(-1) shows the whole path.
   * @param {number} n steps
   * @param {(i: number) => string} go highlights step i; answers its block's name
   */
  setReplay(n, go) {
    if (!n) return;
    let i = -1;
    const status = h('span', { class: 'small muted', role: 'status', 'data-testid': 'replay-status' }, `${n} block${n === 1 ? '' : 's'} lit on the diagram`);
    const move = (/** @type {number} */ d) => {
      i = Math.max(0, Math.min(n - 1, i + d));
      status.textContent = `Step ${i + 1} of ${n}: ${go(i)}`;
    };
    const bar = h('div', { class: 'tc-replay', role: 'group', 'aria-label': 'Replay' },
      h('button', { type: 'button', class: 'btn secondary small', onclick: () => move(-1), 'data-testid': 'replay-prev' }, 'Previous step'),
      h('button', { type: 'button', class: 'btn secondary small', onclick: () => move(1), 'data-testid': 'replay-next' }, 'Next step'),
      status);
    this.result.insertBefore(bar, this.result.children[1] || null);
  }

  /**
   * The request and response of a webhook: the trace's parameters and,
   * when the debug log kept them, the bodies.
   * @param {TraceEvent} ev
   * @param {WebhookExchange|undefined} hook
   */
  exchange(ev, hook) {
    const params = ev.params && typeof ev.params === 'object' ? Object.entries(/** @type {Record<string, unknown>} */ (ev.params)) : [];
    return h('details', { class: 'exchange', 'data-testid': 'webhook-exchange' },
      h('summary', null, 'Request and response'),
      h('div', { class: 'ex-part' }, h('div', { class: 'ex-head' }, 'Request'),
        h('div', { class: 'mono small wrap' }, `${str(ev.method)} ${shortURL(str(ev.url)).replace(/\?…$/, '')}`),
        params.length ? h('dl', { class: 'kv' }, params.filter(([, v]) => str(v) !== '').map(([k, v]) => [h('dt', null, k), h('dd', null, str(v))])) : null,
        params.some(([, v]) => str(v) === '') ? h('p', { class: 'muted small' }, `Also sent empty: ${params.filter(([, v]) => str(v) === '').map(([k]) => k).join(', ')}`) : null,
        hook && hook.req_body && !(params.length && /^[^\s{<]+=[^\s]*$/.test(hook.req_body.trim())) ? h('pre', { class: 'body' }, pretty(hook.req_body)) : null),
      h('div', { class: 'ex-part' }, h('div', { class: 'ex-head' }, 'Response'),
        hook
          ? [h('div', { class: 'small' }, hook.resp_status_code ? `HTTP ${hook.resp_status_code}` : 'No response', hook.error ? ` · ${hook.error}` : ''),
            hook.resp_body ? h('pre', { class: 'body', 'data-testid': 'webhook-response-body' }, pretty(hook.resp_body)) : h('p', { class: 'muted small' }, 'Empty body.')]
          : h('p', { class: 'muted small' }, 'The body was not kept. Turn on Debug in the Pivot block’s advanced settings to see it.')));
  }
}

/**
 * A date as a datetime-local input's value (the browser's time zone).
 * @param {Date} d
 */
function localInput(d) {
  const p = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/**
 * The next day (from tomorrow) whose weekday is one of days (0 Sunday), at hour:00.
 * @param {number[]} days
 * @param {number} hour
 */
function nextDay(days, hour) {
  const d = new Date();
  d.setHours(hour, 0, 0, 0);
  do d.setDate(d.getDate() + 1); while (!days.includes(d.getDay()));
  return d;
}

/** @param {string} u */
function shortURL(u) {
  const q = u.indexOf('?');
  return q > 0 ? `${u.slice(0, q)}?…` : u;
}

customElements.define('sb-test-call', SbTestCall);
