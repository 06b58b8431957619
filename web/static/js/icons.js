// @ts-check
// Switchboard's own icon set: 24×24 line drawings keyed by the catalog's
// icon ids (engine.Spec.Icon), by call-trace ops, and by UI verbs. An id
// that is not here gets the generic block icon, so a module added on the
// server side shows up with a sensible picture before it has its own.

/** @type {Record<string, string>} */
const PATHS = {
  // generic block: the fallback for any unknown icon id
  block: '<rect x="4" y="4" width="16" height="16" rx="3"/><path d="M9 9h6v6H9z"/>',
  // modules
  pivot: '<circle cx="12" cy="12" r="8"/><path d="M4 12h16"/><path d="M12 4c2.4 2.2 3.5 5 3.5 8s-1.1 5.8-3.5 8c-2.4-2.2-3.5-5-3.5-8s1.1-5.8 3.5-8z"/>',
  tts: '<path d="M5 5h14a1 1 0 0 1 1 1v9a1 1 0 0 1-1 1h-8l-4 3v-3H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z"/><path d="M8 9h8M8 12h5"/>',
  play: '<path d="M4 9.5h3.5L12 6v12l-4.5-3.5H4z"/><path d="M15.5 9.5a3.5 3.5 0 0 1 0 5M18 7a7 7 0 0 1 0 10"/>',
  pause: '<path d="M7 4h10M7 20h10"/><path d="M8.5 4v2.5a3.5 3.5 0 0 0 7 0V4M8.5 20v-2.5a3.5 3.5 0 0 1 7 0V20"/>',
  dialpad: '<g fill="currentColor" stroke="none"><circle cx="7" cy="5" r="1.4"/><circle cx="12" cy="5" r="1.4"/><circle cx="17" cy="5" r="1.4"/><circle cx="7" cy="10" r="1.4"/><circle cx="12" cy="10" r="1.4"/><circle cx="17" cy="10" r="1.4"/><circle cx="7" cy="15" r="1.4"/><circle cx="12" cy="15" r="1.4"/><circle cx="17" cy="15" r="1.4"/><circle cx="12" cy="20" r="1.4"/></g>',
  response: '<path d="M6 5h2.5l1.5 3.5-1.8 1.3a10 10 0 0 0 5 5l1.3-1.8 3.5 1.5V17a2 2 0 0 1-2 2A13 13 0 0 1 4 7a2 2 0 0 1 2-2z"/><path d="M15 4l5 5M20 4l-5 5"/>',
  callflow: '<path d="M3 12h10M9.5 8.5 13 12l-3.5 3.5"/><rect x="15" y="5" width="6" height="14" rx="1.5"/>',
  menu: '<path d="M4 6h1.5M4 12h1.5M4 18h1.5M9 6h11M9 12h11M9 18h11"/>',
  user: '<circle cx="12" cy="8" r="3.5"/><path d="M5 20c.8-3.6 3.6-5.5 7-5.5s6.2 1.9 7 5.5"/>',
  device: '<rect x="7" y="3" width="10" height="18" rx="2"/><path d="M11 17.5h2"/>',
  ring_group: '<circle cx="9" cy="8.5" r="3"/><path d="M3.5 19c.7-3 2.8-4.6 5.5-4.6s4.8 1.6 5.5 4.6"/><path d="M15 5.8a3 3 0 0 1 0 5.4M17 14.6c1.7.5 3 1.9 3.5 4.4"/>',
  voicemail: '<circle cx="7" cy="12.5" r="3.5"/><circle cx="17" cy="12.5" r="3.5"/><path d="M7 16h10"/>',
  conference: '<circle cx="12" cy="7" r="2.5"/><circle cx="5.5" cy="11" r="2"/><circle cx="18.5" cy="11" r="2"/><path d="M8 19c.5-2.8 2-4.2 4-4.2s3.5 1.4 4 4.2M2.5 18c.3-1.7 1.4-2.8 3-2.8M21.5 18c-.3-1.7-1.4-2.8-3-2.8"/>',
  clock: '<circle cx="12" cy="12" r="8"/><path d="M12 7.5V12l3 2"/>',
  calendar: '<rect x="4" y="5.5" width="16" height="14" rx="2"/><path d="M4 10h16M8.5 3.5v4M15.5 3.5v4"/>',
  caller_id: '<rect x="3" y="5" width="18" height="14" rx="2"/><circle cx="9" cy="11" r="2"/><path d="M5.8 16c.6-1.4 1.8-2.1 3.2-2.1s2.6.7 3.2 2.1M14.5 10h4M14.5 13.5h3"/>',
  record: '<circle cx="12" cy="12" r="8"/><circle cx="12" cy="12" r="3.2" fill="currentColor"/>',
  queue: '<circle cx="6" cy="9" r="2"/><circle cx="12" cy="9" r="2"/><circle cx="18" cy="9" r="2"/><path d="M3 17c.4-2 1.5-3 3-3s2.6 1 3 3M9 17c.4-2 1.5-3 3-3s2.6 1 3 3M15 17c.4-2 1.5-3 3-3s2.6 1 3 3"/>',
  webhook: '<path d="M13 3 6 13h5l-1 8 8-11h-5z"/>',
  language: '<path d="M4 5.5h8M8 3.5v2M6 5.5c0 3.5 2.6 6.3 5.5 7.5M10 5.5c-.6 3-2.6 5.8-6 7.5M13.5 20.5l3.2-8 3.3 8M14.6 17.8h4.2"/>',
  variable: '<path d="M9 4c-2 0-3 1-3 3v2c0 1.5-.8 2.5-2 3 1.2.5 2 1.5 2 3v2c0 2 1 3 3 3M15 4c2 0 3 1 3 3v2c0 1.5.8 2.5 2 3-1.2.5-2 1.5-2 3v2c0 2-1 3-3 3"/>',
  fax: '<path d="M7 9V4h10v5"/><rect x="4" y="9" width="16" height="8" rx="2"/><path d="M7 14h10v6H7z"/>',
  transfer: '<path d="M6 5h2.5L10 8.5 8.2 9.8a10 10 0 0 0 5 5l1.3-1.8 3.5 1.5V17a2 2 0 0 1-2 2A13 13 0 0 1 4 7a2 2 0 0 1 2-2z"/><path d="M14 7h6M17.5 4.5 20 7l-2.5 2.5"/>',
  directory: '<path d="M6 4h11a1 1 0 0 1 1 1v15H7a2 2 0 0 1-2-2V5a1 1 0 0 1 1-1z"/><path d="M5 18a2 2 0 0 1 2-2h11"/><path d="M9 8h5"/>',
  megaphone: '<path d="M4 10v4h3l8 4V6L7 10z"/><path d="M7 14l1 5h2.5l-1-4.4M18 9.5a3 3 0 0 1 0 5"/>',
  headset: '<path d="M5 14v-2a7 7 0 0 1 14 0v2"/><rect x="4" y="13" width="3.5" height="6" rx="1.2"/><rect x="16.5" y="13" width="3.5" height="6" rx="1.2"/><path d="M18 19c0 1.2-1.5 2-4 2"/>',
  dnd: '<circle cx="12" cy="12" r="8"/><path d="M8 12h8"/>',
  forward: '<path d="M4 17v-3a5 5 0 0 1 5-5h11M16 5l4 4-4 4"/>',
  branch: '<circle cx="6" cy="5.5" r="2"/><circle cx="6" cy="18.5" r="2"/><circle cx="18" cy="8.5" r="2"/><path d="M6 7.5v9M18 10.5c0 4-6 3-10.5 6.5"/>',
  key: '<circle cx="8" cy="14" r="4"/><path d="M11 11l8-8M16 6l2.5 2.5M14 8l2 2"/>',
  music: '<path d="M9 18V6l10-2v12"/><circle cx="6.5" cy="18" r="2.5"/><circle cx="16.5" cy="16" r="2.5"/>',
  hangup: '<path d="M3 14.5c5-4.5 13-4.5 18 0l-2 2.5-3.3-1.5v-2.6a12 12 0 0 0-5.4 0v2.6L7 17z"/>',
  answer: '<path d="M6 5h2.5L10 8.5 8.2 9.8a10 10 0 0 0 5 5l1.3-1.8 3.5 1.5V17a2 2 0 0 1-2 2A13 13 0 0 1 4 7a2 2 0 0 1 2-2z"/>',
  route: '<path d="M12 21V11M12 11 7 6M12 11l5-5M4.5 6.5V3.5h3M19.5 6.5V3.5h-3"/>',
  redirect: '<path d="M4 12a7 7 0 0 1 12-5l3 3M19 4v6h-6"/><path d="M20 12a7 7 0 0 1-12 5"/>',
  error: '<path d="M12 3.5 21 19.5H3z"/><path d="M12 10v4.5M12 17.2v.1"/>',
  reject: '<circle cx="12" cy="12" r="8"/><path d="M6.5 6.5l11 11"/>',
  // UI verbs
  plus: '<path d="M12 5v14M5 12h14"/>',
  search: '<circle cx="11" cy="11" r="6"/><path d="M20 20l-4.5-4.5"/>',
  undo: '<path d="M9 14 4 9l5-5"/><path d="M4 9h10a6 6 0 0 1 0 12h-3"/>',
  redo: '<path d="m15 14 5-5-5-5"/><path d="M20 9H10a6 6 0 0 0 0 12h3"/>',
  trash: '<path d="M4 7h16M9.5 7V4.5h5V7M6 7l1 13h10l1-13M10 11v5.5M14 11v5.5"/>',
  move: '<path d="M12 3v18M3 12h18M12 3 9.5 5.5M12 3l2.5 2.5M12 21l-2.5-2.5M12 21l2.5-2.5M3 12l2.5-2.5M3 12l2.5 2.5M21 12l-2.5-2.5M21 12l-2.5 2.5"/>',
  edit: '<path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13.5 6.5l4 4"/>',
  chevron_down: '<path d="m6 9 6 6 6-6"/>',
  chevron_right: '<path d="m9 6 6 6-6 6"/>',
  close: '<path d="M6 6l12 12M18 6 6 18"/>',
  check: '<path d="m5 12.5 4.5 4.5L19 7.5"/>',
  more: '<g fill="currentColor" stroke="none"><circle cx="5.5" cy="12" r="1.6"/><circle cx="12" cy="12" r="1.6"/><circle cx="18.5" cy="12" r="1.6"/></g>',
  phone: '<path d="M6 5h2.5L10 8.5 8.2 9.8a10 10 0 0 0 5 5l1.3-1.8 3.5 1.5V17a2 2 0 0 1-2 2A13 13 0 0 1 4 7a2 2 0 0 1 2-2z"/>',
  warning: '<path d="M12 3.5 21 19.5H3z"/><path d="M12 10v4.5M12 17.2v.1"/>',
  info: '<circle cx="12" cy="12" r="8.5"/><path d="M12 11v5.5M12 7.8v.1"/>',
  flow: '<rect x="3" y="4" width="7" height="5" rx="1.5"/><rect x="14" y="4" width="7" height="5" rx="1.5"/><rect x="14" y="15" width="7" height="5" rx="1.5"/><path d="M10 6.5h4M17.5 9v6"/>',
  zoom_in: '<circle cx="11" cy="11" r="6"/><path d="M20 20l-4.5-4.5M8.5 11h5M11 8.5v5"/>',
  zoom_out: '<circle cx="11" cy="11" r="6"/><path d="M20 20l-4.5-4.5M8.5 11h5"/>',
  logout: '<path d="M10 5H5v14h5M14 8l4 4-4 4M18 12H9"/>',
  copy: '<rect x="8" y="8" width="12" height="12" rx="2"/><path d="M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3"/>',
};

/** Aliases: other ids a module may name, mapped onto a drawing above. */
/** @type {Record<string, string>} */
const ALIASES = {
  generic: 'block', module: 'block', http: 'pivot', web: 'pivot', globe: 'pivot',
  say: 'tts', speech: 'tts', text: 'tts', media: 'play', audio: 'play', sleep: 'pause', wait: 'pause',
  collect_dtmf: 'dialpad', gather: 'dialpad', digits: 'dialpad', ivr: 'menu', list: 'menu',
  sip: 'response', busy: 'response', users: 'ring_group', group: 'ring_group', phone_device: 'device',
  mailbox: 'voicemail', vm: 'voicemail', temporal_route: 'clock', time: 'clock', time_of_day: 'clock',
  temporal: 'clock', schedule: 'calendar', cid: 'caller_id', prepend_cid: 'caller_id', dynamic_cid: 'caller_id',
  id_card: 'caller_id', callerid: 'caller_id', check_cid: 'caller_id', set_cid: 'caller_id', record_call: 'record', recording: 'record', acdc: 'queue', qubicle: 'queue',
  set_variables: 'variable', set: 'variable', variables: 'variable', cav: 'variable', receive_fax: 'fax',
  faxbox: 'fax', dial: 'transfer', offnet: 'transfer', resources: 'transfer', bridge: 'transfer',
  page_group: 'megaphone', paging: 'megaphone', intercom: 'megaphone', eavesdrop: 'headset',
  group_pickup: 'headset', do_not_disturb: 'dnd', call_forward: 'forward', branch_variable: 'branch',
  disa: 'key', pin: 'key', moh: 'music', hold: 'music', goto: 'callflow', link: 'callflow',
  gather_digits: 'dialpad', reject_call: 'reject', warn: 'warning',
};

/** Trace ops → icons. */
/** @type {Record<string, string>} */
const OPS = {
  route: 'route', module: 'block', answer: 'answer', say: 'tts', play: 'play', pause: 'pause',
  gather: 'dialpad', webhook: 'pivot', record: 'record', dial: 'transfer', redirect: 'redirect',
  set: 'variable', reject: 'reject', error: 'error', hangup: 'hangup',
};

/** @type {Map<string, SVGSVGElement>} */
const cache = new Map();

/**
 * Whether the set has its own drawing (not the fallback) for an id.
 * @param {string} id
 */
export function hasIcon(id) {
  return id in PATHS || id in ALIASES;
}

/**
 * An icon as an inline SVG (aria-hidden; the caller labels it).
 * @param {string|undefined} id
 * @param {string} [cls]
 * @returns {SVGSVGElement}
 */
export function icon(id, cls = 'icon') {
  const key = id && PATHS[id] ? id : (id && ALIASES[id]) || 'block';
  let tpl = cache.get(key);
  if (!tpl) {
    const holder = document.createElement('div');
    holder.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${PATHS[key]}</svg>`;
    tpl = /** @type {SVGSVGElement} */ (holder.firstElementChild);
    cache.set(key, tpl);
  }
  const svg = /** @type {SVGSVGElement} */ (tpl.cloneNode(true));
  svg.setAttribute('class', cls);
  svg.dataset.icon = key;
  return svg;
}

/**
 * The icon of a call-trace op.
 * @param {string} op
 * @param {string} [cls]
 */
export function opIcon(op, cls = 'icon') {
  return icon(OPS[op] || 'info', cls);
}
