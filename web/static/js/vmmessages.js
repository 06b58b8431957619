// @ts-check
// A voicemail box's messages (…/vmboxes/{id}/messages): who called, when,
// how long; play one (its audio fetched with the token), mark it heard or
// new again, delete it.

import { h } from './dom.js';
import { icon } from './icons.js';
import { modal, confirmDialog } from './dialogs.js';
import { describeError } from './api.js';
import { playBlob, duration } from './audio.js';

/** @typedef {import('./api.js').Api} Api */
/**
 * @typedef {{media_id: string, caller_id_number?: string, caller_id_name?: string, timestamp?: number, length?: number, folder?: string}} Message
 */

/** Seconds from year 0 to the Unix epoch: Kazoo's timestamps count from year 0. */
const GREGORIAN = 62167219200;

/**
 * When a message was left, in the admin's words and time zone.
 * @param {number|undefined} ts Gregorian seconds
 */
export function received(ts) {
  if (typeof ts !== 'number') return '';
  const d = new Date((ts - GREGORIAN) * 1000);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/**
 * Who left a message.
 * @param {Message} m
 */
export function caller(m) {
  const name = (m.caller_id_name || '').trim();
  const num = (m.caller_id_number || '').trim();
  if (name && num && name !== num) return `${name} (${num})`;
  return name || num || 'Unknown caller';
}

/**
 * Opens the messages of a box.
 * @param {Api} api
 * @param {string} boxId
 * @param {string} boxName
 */
export async function messagesDialog(api, boxId, boxName) {
  const base = `/vmboxes/${encodeURIComponent(boxId)}/messages`;
  const status = h('p', { class: 'list-count', role: 'status', 'data-testid': 'vm-status' }, 'Loading…');
  const err = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'vm-error' });
  const audio = h('audio', { controls: true, class: 'media-audio', hidden: true, 'data-testid': 'vm-audio' });
  audio.addEventListener('playing', () => { audio.dataset.state = 'playing'; });
  const list = h('ul', { class: 'vm-list', 'data-testid': 'vm-list', 'aria-label': `Messages of ${boxName}` });
  /** @type {Message[]} */
  let messages = [];

  const load = async () => {
    err.textContent = '';
    try {
      messages = (await api.call('GET', base)).data || [];
    } catch (e) {
      messages = [];
      err.textContent = `The messages could not be loaded: ${describeError(e)}`;
    }
    render();
  };

  /**
   * @param {Message} m
   * @param {string} folder
   */
  const move = async (m, folder) => {
    err.textContent = '';
    try {
      await api.call('POST', `${base}/${encodeURIComponent(m.media_id)}`, { data: { folder } });
    } catch (e) {
      err.textContent = `Not changed: ${describeError(e)}`;
    }
    await load();
  };

  /** @param {Message} m */
  const play = async (m) => {
    err.textContent = '';
    try {
      const blob = await api.fetchBlob(`${base}/${encodeURIComponent(m.media_id)}/raw`);
      audio.hidden = false;
      audio.dataset.state = 'loading';
      audio.dataset.message = m.media_id;
      await playBlob(audio, blob);
      // Listening to a new message marks it heard, as a phone's menu does.
      if (m.folder === 'new') await move(m, 'saved');
    } catch (e) {
      err.textContent = `It could not be played: ${describeError(e)}`;
    }
  };

  /** @param {Message} m */
  const remove = async (m) => {
    const ok = await confirmDialog({ title: 'Delete this message?', message: `The message from ${caller(m)}, ${received(m.timestamp)}, is deleted for good.`, confirm: 'Delete message', danger: true });
    if (!ok) return;
    try {
      await api.call('DELETE', `${base}/${encodeURIComponent(m.media_id)}`);
    } catch (e) {
      err.textContent = `Not deleted: ${describeError(e)}`;
    }
    await load();
  };

  const render = () => {
    const fresh = messages.filter((m) => m.folder === 'new').length;
    status.textContent = messages.length ? `${messages.length} message${messages.length === 1 ? '' : 's'}, ${fresh} new` : 'No messages.';
    list.replaceChildren(...messages.map((m) => {
      const who = caller(m);
      const isNew = m.folder === 'new';
      return h('li', { class: `vm-item${isNew ? ' new' : ''}`, 'data-id': m.media_id },
        h('div', { class: 'vm-meta' },
          h('span', { class: 'vm-caller' }, who),
          h('span', { class: 'muted' }, `${received(m.timestamp)} · ${duration((m.length || 0) / 1000)}`),
          h('span', { class: `badge ${isNew ? 'new' : 'muted'}` }, isNew ? 'New' : 'Heard')),
        h('div', { class: 'vm-actions' },
          h('button', { type: 'button', class: 'btn secondary small', 'aria-label': `Play the message from ${who}`, onclick: () => void play(m) }, icon('play', 'icon sm'), 'Play'),
          h('button', { type: 'button', class: 'btn ghost small', 'aria-label': `${isNew ? 'Mark heard' : 'Mark new'}: the message from ${who}`, onclick: () => void move(m, isNew ? 'saved' : 'new') }, isNew ? 'Mark heard' : 'Mark new'),
          h('button', { type: 'button', class: 'btn ghost small danger', 'aria-label': `Delete the message from ${who}`, onclick: () => void remove(m) }, icon('trash', 'icon sm'), 'Delete')));
    }));
  };

  const opened = modal({
    title: `Messages of ${boxName}`,
    className: 'params side vm-messages',
    body: [status, err, list, audio],
    actions: [{ label: 'Close', kind: 'secondary', testid: 'vm-close' }],
  });
  await load();
  await opened;
}
