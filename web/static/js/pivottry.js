// @ts-check
// "Try it" in the Pivot pop-up: asks the server (POST …/pivot/try) to
// fetch the URL as a call would — the same webhook client and egress
// policy, sample call parameters — and shows the answer with its lint
// findings (bad TwiML with the line, unsupported verbs, a Content-Type or
// format that does not match, HTTP errors, redirects) before saving.

import { h } from './dom.js';
import { icon } from './icons.js';
import { describeError } from './api.js';
import { directory } from './directory.js';

/**
 * One lint result.
 * @typedef {{severity: 'error'|'warning'|'info', code?: number, message: string, line?: number, path?: string}} Finding
 */

/**
 * What the server answered.
 * @typedef {{
 *   ok: boolean, status: number, content_type?: string, kind?: string, body?: string, body_bytes?: number,
 *   truncated?: boolean, final_url?: string, duration_ms: number, findings: Finding[],
 *   request: {method: string, url: string, params: Record<string, unknown>},
 * }} TryResult
 */

/**
 * The extra part of a block's pop-up, by module: Try it for a Pivot.
 * @param {string} moduleName
 * @returns {((peek: () => Record<string, unknown>) => HTMLElement)|undefined}
 */
export function popupExtra(moduleName) {
  return moduleName === 'pivot' ? tryPanel : undefined;
}

/**
 * The Try it section: a button and what came back.
 * @param {() => Record<string, unknown>} peek the pop-up's current values
 * @returns {HTMLElement}
 */
export function tryPanel(peek) {
  const out = h('div', { class: 'try-out', 'aria-live': 'polite', 'data-testid': 'try-result' });
  const btn = h('button', { type: 'button', class: 'btn secondary small', 'data-testid': 'try-it' }, icon('play', 'icon sm'), 'Try it');
  btn.addEventListener('click', () => void run());
  const section = h('section', { class: 'try', 'aria-label': 'Try it' },
    h('div', { class: 'try-head' }, btn,
      h('p', { class: 'help' }, 'Asks the URL now, as a call would, with sample call details, and checks the answer. Nothing is saved.')),
    out);

  async function run() {
    const v = peek();
    const url = typeof v.voice_url === 'string' ? v.voice_url.trim() : '';
    if (!/^https?:\/\//.test(url)) {
      out.replaceChildren(h('p', { class: 'try-status bad', role: 'alert' }, 'Enter an http:// or https:// URL first.'));
      return;
    }
    const api = directory.api;
    if (!api) return;
    btn.disabled = true;
    out.replaceChildren(h('p', { class: 'try-status' }, `Asking ${url}…`));
    try {
      /** @type {Record<string, unknown>} */
      const body = { voice_url: url };
      for (const k of ['method', 'req_format', 'req_body_format', 'req_timeout_ms']) if (v[k] !== undefined && v[k] !== '') body[k] = v[k];
      const r = await api.call('POST', '/pivot/try', { data: body });
      out.replaceChildren(...resultView(/** @type {TryResult} */ (r.data)));
    } catch (e) {
      out.replaceChildren(h('p', { class: 'try-status bad', role: 'alert' }, `Could not try it: ${describeError(e)}`));
    } finally {
      btn.disabled = false;
    }
  }
  return section;
}

/**
 * @param {TryResult} r
 * @returns {HTMLElement[]}
 */
function resultView(r) {
  r.findings = Array.isArray(r.findings) ? r.findings : [];
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.filter((f) => f.severity === 'warning').length;
  const what = r.status ? `HTTP ${r.status}${r.content_type ? `, ${r.content_type}` : ''}${r.kind && r.kind !== 'unknown' ? ` (${kindName(r.kind)})` : ''}` : 'No answer';
  const verdict = errors ? `${errors} problem${errors === 1 ? '' : 's'}` : warnings ? `works, ${warnings} warning${warnings === 1 ? '' : 's'}` : 'looks good';
  /** @type {HTMLElement[]} */
  const out = [
    h('p', { class: `try-status ${errors ? 'bad' : warnings ? 'warn' : 'good'}`, 'data-testid': 'try-status' },
      icon(errors ? 'error' : warnings ? 'warning' : 'check', 'icon sm'), h('span', null, `${what} in ${r.duration_ms} ms: ${verdict}.`)),
  ];
  if (r.findings.length) {
    out.push(h('ul', { class: 'try-findings', 'aria-label': 'Findings' }, r.findings.map((f) => h('li', { class: `try-finding ${f.severity}`, 'data-testid': 'try-finding', 'data-severity': f.severity },
      h('span', { class: 'sr-only' }, `${f.severity}: `),
      icon(f.severity === 'error' ? 'error' : f.severity === 'warning' ? 'warning' : 'info', 'icon sm'),
      h('span', null, f.line ? `Line ${f.line}: ${f.message}` : f.path ? `${f.path}: ${f.message}` : f.message,
        f.code ? h('span', { class: 'muted' }, ` (${f.code})`) : null)))));
  }
  if (r.body !== undefined && r.body !== '') {
    out.push(h('details', { class: 'try-body' }, h('summary', null, `The answer (${r.body_bytes} bytes${r.truncated ? ', first 8 KB shown' : ''})`),
      numbered(r.body, r.findings.map((f) => f.line || 0).filter(Boolean))));
  }
  out.push(h('details', { class: 'try-body' }, h('summary', null, `What was sent: ${r.request.method} ${r.final_url ? `${r.request.url} → ${r.final_url}` : r.request.url}`),
    h('pre', null, Object.entries(r.request.params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('\n'))));
  return out;
}

/**
 * The body with line numbers, lines with findings marked.
 * @param {string} body
 * @param {number[]} marked
 */
function numbered(body, marked) {
  const lines = body.split('\n');
  return h('pre', { class: 'try-lines' }, lines.map((l, i) => h('span', { class: `try-line${marked.includes(i + 1) ? ' marked' : ''}` },
    h('span', { class: 'ln', 'aria-hidden': 'true' }, String(i + 1)), `${l}\n`)));
}

/** @param {string} kind */
function kindName(kind) {
  return ({ twiml: 'TwiML', kazoo: 'Kazoo JSON', text: 'plain text', audio: 'audio' })[kind] || kind;
}
