// @ts-check
// Audio in the browser, for media documents: a microphone recording turned
// into a PCM WAV (the server decodes WAV and MP3, not the WebM/Opus a
// MediaRecorder makes), and a player for audio fetched with the token.

/** The rate calls play at: a recording is resampled to it before upload. */
export const CALL_RATE = 8000;

/**
 * Encodes mono float samples (−1…1) as a 16-bit PCM WAV.
 * @param {Float32Array} samples
 * @param {number} rate
 * @returns {Blob}
 */
export function encodeWav(samples, rate) {
  const buf = new ArrayBuffer(44 + samples.length * 2);
  const v = new DataView(buf);
  const ascii = (/** @type {number} */ at, /** @type {string} */ s) => { for (let i = 0; i < s.length; i++) v.setUint8(at + i, s.charCodeAt(i)); };
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
  return new Blob([buf], { type: 'audio/wav' });
}

/**
 * Decodes any audio the browser plays (a MediaRecorder's WebM/Opus) and
 * resamples it to mono at rate, as a WAV.
 * @param {Blob} blob
 * @param {number} [rate]
 * @returns {Promise<{wav: Blob, seconds: number}>}
 */
export async function toWav(blob, rate = CALL_RATE) {
  const ctx = new AudioContext();
  /** @type {AudioBuffer} */
  let decoded;
  try {
    decoded = await ctx.decodeAudioData(await blob.arrayBuffer());
  } finally {
    void ctx.close();
  }
  const frames = Math.max(1, Math.ceil(decoded.duration * rate));
  const off = new OfflineAudioContext(1, frames, rate);
  const src = off.createBufferSource();
  src.buffer = decoded;
  src.connect(off.destination);
  src.start();
  const out = await off.startRendering();
  return { wav: encodeWav(out.getChannelData(0), rate), seconds: out.duration };
}

/**
 * A microphone recording in progress: stop() resolves with the WAV.
 * @typedef {{stop: () => Promise<{wav: Blob, seconds: number}>, cancel: () => void, started: number}} Recording
 */

/**
 * Starts recording from the microphone (the browser asks for permission).
 * @returns {Promise<Recording>}
 */
export async function startRecording() {
  if (!navigator.mediaDevices || typeof MediaRecorder === 'undefined') {
    throw new Error('This browser cannot record audio here (a microphone needs a secure page: https or localhost).');
  }
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const rec = new MediaRecorder(stream);
  /** @type {Blob[]} */
  const chunks = [];
  rec.addEventListener('dataavailable', (e) => { if (e.data.size) chunks.push(e.data); });
  const release = () => { for (const t of stream.getTracks()) t.stop(); };
  rec.start(250);
  return {
    started: Date.now(),
    stop: () => /** @type {Promise<{wav: Blob, seconds: number}>} */ (new Promise((resolve, reject) => {
      rec.addEventListener('stop', () => {
        release();
        const blob = new Blob(chunks, { type: rec.mimeType || 'audio/webm' });
        if (!blob.size) { reject(new Error('Nothing was recorded.')); return; }
        toWav(blob).then(resolve, (e) => reject(new Error(`The recording could not be converted: ${e instanceof Error ? e.message : e}`)));
      }, { once: true });
      rec.stop();
    })),
    cancel: () => { if (rec.state !== 'inactive') rec.stop(); release(); },
  };
}

/**
 * Plays a blob in an <audio> element through a blob: URL (freed when the
 * next one replaces it). Resolves true once playback started, false when
 * the browser would not start it (no audio device, autoplay rules): the
 * player is loaded and shown either way, for the admin to press play.
 * @param {HTMLAudioElement} audio
 * @param {Blob} blob
 */
export async function playBlob(audio, blob) {
  const old = audio.dataset.url;
  if (old) URL.revokeObjectURL(old);
  const url = URL.createObjectURL(blob);
  audio.dataset.url = url;
  audio.src = url;
  try {
    await audio.play();
    return true;
  } catch {
    return false;
  }
}

/**
 * "1:05" for 65 seconds.
 * @param {number} s
 */
export function duration(s) {
  const t = Math.max(0, Math.round(s));
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`;
}
