// @ts-check
// The audio part of a media document's dialog: play what is stored, pick
// a WAV or MP3 file, record from the microphone, or hear the text spoken.
// A file or recording is kept here until the document is saved, then
// uploaded to …/media/{id}/raw; a text-to-speech preview saves the
// document (the server speaks it) and plays the result.

import { h, uid } from './dom.js';
import { icon } from './icons.js';
import { describeError } from './api.js';
import { startRecording, playBlob, duration } from './audio.js';

/** @typedef {import('./api.js').Api} Api */
/** @typedef {{blob: Blob, source: 'upload'|'recording', label: string}} Pending */

/**
 * @param {{
 *   api: Api,
 *   id: () => string|undefined,
 *   stored: () => Record<string, unknown>,
 *   speak: () => Promise<void>,
 * }} o speak saves the document with its text (the server speaks it)
 */
export function mediaPanel(o) {
  const fileId = uid('media-file');
  const helpId = uid('media-help');
  /** @type {Pending|null} */
  let pending = null;
  /** @type {import('./audio.js').Recording|null} */
  let rec = null;
  /** @type {number|undefined} */
  let tick;

  const status = h('p', { class: 'media-status', role: 'status', 'data-testid': 'media-status' });
  const err = h('p', { class: 'field-error', role: 'alert', 'data-testid': 'media-error' });
  const audio = h('audio', { controls: true, class: 'media-audio', hidden: true, 'data-testid': 'media-audio', preload: 'auto' });
  audio.addEventListener('playing', () => { audio.dataset.state = 'playing'; });
  audio.addEventListener('ended', () => { audio.dataset.state = 'ended'; });
  const play = h('button', { type: 'button', class: 'btn secondary small', 'data-testid': 'media-play' }, icon('play', 'icon sm'), 'Play');
  const file = h('input', { type: 'file', id: fileId, class: 'input', accept: 'audio/wav,audio/x-wav,audio/mpeg,.wav,.mp3', 'aria-describedby': helpId, 'data-testid': 'media-file' });
  const record = h('button', { type: 'button', class: 'btn secondary small', 'data-testid': 'media-record' });
  const recTime = h('span', { class: 'muted mono', 'data-testid': 'media-rec-time' });
  const speak = h('button', { type: 'button', class: 'btn secondary small', 'data-testid': 'media-tts-preview' }, icon('play', 'icon sm'), 'Preview speech');

  const render = () => {
    const stored = o.stored();
    const size = typeof stored.content_length === 'number' ? stored.content_length : 0;
    status.textContent = pending
      ? `New audio: ${pending.label}. It is uploaded when you save.`
      : stored.content_type ? `Audio stored${size ? ` (${Math.max(1, Math.round(size / 1024))} KB)` : ''}.` : 'No audio yet.';
    play.disabled = !pending && !(o.id() && stored.content_type);
    record.replaceChildren(icon(rec ? 'close' : 'record', 'icon sm'), rec ? 'Stop recording' : 'Record from microphone');
    record.setAttribute('aria-pressed', rec ? 'true' : 'false');
  };

  /** @param {string} m */
  const fail = (m) => { err.textContent = m; };

  /** @param {() => Promise<Blob>} get */
  const playFrom = async (get) => {
    err.textContent = '';
    try {
      const blob = await get();
      audio.hidden = false;
      audio.dataset.state = 'loading';
      await playBlob(audio, blob);
    } catch (e) {
      fail(`It could not be played: ${describeError(e)}`);
    }
  };

  play.addEventListener('click', () => {
    const p = pending;
    const id = o.id();
    if (p) void playFrom(async () => p.blob);
    else if (id) void playFrom(() => o.api.fetchBlob(`/media/${encodeURIComponent(id)}/raw`));
  });

  file.addEventListener('change', () => {
    const f = file.files && file.files[0];
    err.textContent = '';
    if (!f) { pending = null; render(); return; }
    if (!/\.(wav|mp3)$/i.test(f.name) && !/^audio\/(wav|x-wav|wave|mpeg|mp3)$/.test(f.type)) {
      fail('Choose a WAV or MP3 file.');
      file.value = '';
      return;
    }
    pending = { blob: f, source: 'upload', label: f.name };
    render();
  });

  record.addEventListener('click', async () => {
    err.textContent = '';
    if (rec) {
      const r = rec;
      rec = null;
      clearInterval(tick);
      record.disabled = true;
      try {
        const { wav, seconds } = await r.stop();
        pending = { blob: wav, source: 'recording', label: `a recording of ${duration(seconds)}` };
        file.value = '';
      } catch (e) {
        fail(describeError(e));
      }
      record.disabled = false;
      recTime.textContent = '';
      render();
      return;
    }
    try {
      rec = await startRecording();
    } catch (e) {
      fail(e instanceof DOMException && e.name === 'NotAllowedError'
        ? 'The browser was not allowed to use the microphone: allow it in the address bar and try again.'
        : `Recording could not start: ${describeError(e)}`);
      return;
    }
    const started = rec.started;
    recTime.textContent = `Recording… ${duration(0)}`;
    tick = window.setInterval(() => { recTime.textContent = `Recording… ${duration((Date.now() - started) / 1000)}`; }, 250);
    render();
  });

  speak.addEventListener('click', async () => {
    err.textContent = '';
    speak.disabled = true;
    speak.setAttribute('aria-busy', 'true');
    try {
      await o.speak();
      pending = null;
      file.value = '';
      render();
      const id = o.id();
      if (id) await playFrom(() => o.api.fetchBlob(`/media/${encodeURIComponent(id)}/raw`));
    } catch (e) {
      fail(describeError(e));
    } finally {
      speak.disabled = false;
      speak.removeAttribute('aria-busy');
    }
  });

  render();
  const el = h('fieldset', { class: 'field field-group media-panel', 'data-testid': 'media-panel' },
    h('legend', { class: 'field-label' }, 'Audio'),
    status,
    h('div', { class: 'inline media-row' }, play, audio),
    h('div', { class: 'media-source' },
      h('label', { for: fileId, class: 'field-label' }, 'Upload a file (WAV or MP3)'), file),
    h('div', { class: 'inline media-row' }, record, recTime),
    h('div', { class: 'inline media-row' }, speak),
    h('p', { id: helpId, class: 'help' }, 'Preview speech saves the media and plays the text above as callers hear it.'),
    err);
  return {
    el,
    /** What to upload on save (null: nothing new). */
    pending: () => pending,
    /** Forgets the pending audio once uploaded, and stops a recording. */
    done: () => { pending = null; if (rec) { rec.cancel(); rec = null; clearInterval(tick); } render(); },
    /** @param {string} m */
    fail,
    render,
  };
}
