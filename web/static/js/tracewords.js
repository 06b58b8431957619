// @ts-check
// A call trace in words: error codes and hang-up causes explained, and the
// path a call took through a flow (which block, in what order, how long),
// for the Test call panel, the call log and the diagram.

import { uidForPath } from './model.js';

/** @typedef {import('./types.js').TraceEvent} TraceEvent */
/** @typedef {import('./types.js').FlowDoc} FlowDoc */

/** Twilio's and Kazoo's error codes an admin meets, in words. */
/** @type {Record<string, string>} */
export const ERROR_CODES = {
  11100: 'the webhook address is not a valid URL',
  11200: 'the web server could not be reached or did not answer in time',
  11205: 'the connection to the web server failed',
  11206: 'the web server answered with an HTTP error',
  11210: 'the web server\'s name could not be resolved',
  11215: 'too many redirects were followed',
  11217: 'the web server answered with an unexpected status',
  11770: 'the web server\'s answer was empty',
  12100: 'the answer is not a valid document (TwiML or Kazoo JSON could not be read)',
  12200: 'the answer does not follow the TwiML rules',
  12300: 'the answer\'s Content-Type does not match the chosen format',
  13212: 'a Dial has an invalid number or address',
  13215: 'a Dial\'s caller ID is not valid',
  13313: 'a Gather has an invalid attribute',
  13320: 'a Gather holds a verb it cannot hold',
  13410: 'a Play has no URL',
  13510: 'a Say has no text',
  13520: 'a Say\'s text is too long',
  13612: 'a Redirect has an invalid URL',
  13910: 'an attribute has an invalid value',
};

/** Hang-up causes, in words. */
/** @type {Record<string, string>} */
const CAUSES = {
  NORMAL_CLEARING: 'the call ended normally',
  USER_BUSY: 'the line was busy',
  NO_ANSWER: 'nobody answered',
  NO_USER_RESPONSE: 'nobody answered',
  CALL_REJECTED: 'the call was refused',
  UNALLOCATED_NUMBER: 'no call flow has this number',
  ORIGINATOR_CANCEL: 'the caller hung up first',
  NORMAL_TEMPORARY_FAILURE: 'a temporary failure ended the call',
  RECOVERY_ON_TIMER_EXPIRE: 'the call timed out',
};

/** @param {unknown} cause */
export function causeWords(cause) {
  const c = typeof cause === 'string' ? cause : '';
  return CAUSES[c] || c.toLowerCase().replace(/_/g, ' ') || 'unknown';
}

/** @param {unknown} code */
export function codeWords(code) {
  return ERROR_CODES[String(code)] || '';
}

/** @param {unknown} by */
export function byWords(by) {
  return by === 'caller' ? 'the caller hung up' : by === 'callee' ? 'the other party hung up' : by === 'switchboard' ? 'Switchboard ended it' : '';
}

/**
 * One step of a call's path: the block, when it was entered, how long it
 * kept the call, and the webhook exchanges it made.
 * @typedef {{uid: string, order: number, t_ms: number, ms: number, hooks: TraceEvent[], branch?: TraceEvent}} Step
 */

/**
 * The blocks a trace visited, in order ("module" lines mapped to the
 * flow's blocks by their node path). A block entered twice has two steps.
 * @param {FlowDoc} doc
 * @param {TraceEvent[]} trace
 * @returns {Step[]}
 */
export function pathOf(doc, trace) {
  /** @type {Step[]} */
  const steps = [];
  const end = trace.length ? Number(trace[trace.length - 1].t_ms) || 0 : 0;
  for (const ev of trace) {
    const cur = steps[steps.length - 1];
    if (ev.op === 'module' && typeof ev.node === 'string') {
      const uid = uidForPath(doc, ev.node);
      if (!uid) continue;
      if (cur) cur.ms = (Number(ev.t_ms) || 0) - cur.t_ms;
      steps.push({ uid, order: steps.length + 1, t_ms: Number(ev.t_ms) || 0, ms: 0, hooks: [] });
    } else if (cur && ev.op === 'webhook') cur.hooks.push(ev);
    else if (cur && ev.op === 'branch') cur.branch = ev;
  }
  const last = steps[steps.length - 1];
  if (last) last.ms = end - last.t_ms;
  return steps;
}

/**
 * What a step shows on its block: "2 · 1.20 s", and "GET … → HTTP 200"
 * for a webhook.
 * @param {Step[]} steps all the steps of one block
 */
export function stepLabel(steps) {
  const order = steps.map((s) => s.order).join(', ');
  const ms = steps.reduce((a, s) => a + s.ms, 0);
  return `${order} · ${(ms / 1000).toFixed(2)} s`;
}
