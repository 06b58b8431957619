// @ts-check
// The Kazoo-compatible REST API, as the configurator uses it. Only the
// expiring auth token is kept in sessionStorage (this tab only), never the
// API key: when the token expires or is revoked the admin signs in again,
// and unsaved changes stay on screen meanwhile.

/** @typedef {import('./types.js').CatalogEntry} CatalogEntry */
/** @typedef {import('./types.js').CallflowSummary} CallflowSummary */
/** @typedef {import('./types.js').TraceEvent} TraceEvent */
/** @typedef {import('./types.js').WebhookExchange} WebhookExchange */

/** Where older versions kept the raw key; removed on load. */
const OLD_KEY = 'switchboard.api_key';
const TOKEN = 'switchboard.auth_token';
const EXPIRES = 'switchboard.expires_at';
const ACCOUNT = 'switchboard.account_id';
const ACCOUNT_NAME = 'switchboard.account_name';

/** An API failure: status, Kazoo message and field errors. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {Record<string, unknown>} data
   */
  constructor(status, message, data) {
    super(message);
    this.status = status;
    this.data = data;
  }

  /**
   * Field errors as a flat list: {path, rule, message}.
   * @returns {Array<{path: string, rule: string, message: string, cause?: unknown}>}
   */
  fieldErrors() {
    /** @type {Array<{path: string, rule: string, message: string, cause?: unknown}>} */
    const out = [];
    for (const [path, rules] of Object.entries(this.data || {})) {
      if (!rules || typeof rules !== 'object') continue;
      for (const [rule, detail] of Object.entries(/** @type {Record<string, unknown>} */ (rules))) {
        if (detail && typeof detail === 'object' && 'message' in detail) {
          const d = /** @type {{message: unknown, cause?: unknown}} */ (detail);
          out.push({ path, rule, message: String(d.message), cause: d.cause });
        }
      }
    }
    return out;
  }
}

/** Raised when the session cannot be renewed: the admin must sign in. */
export class SignedOut extends Error {}

export class Api {
  constructor() {
    sessionStorage.removeItem(OLD_KEY);
    /** @type {string|null} */
    this.token = sessionStorage.getItem(TOKEN);
    /** @type {number} when the token expires, by this browser's clock (ms since the epoch); 0 unknown */
    this.expiresAt = Number(sessionStorage.getItem(EXPIRES)) || 0;
    /** @type {string|null} */
    this.accountId = sessionStorage.getItem(ACCOUNT);
    /** @type {string} */
    this.accountName = sessionStorage.getItem(ACCOUNT_NAME) || '';
    /** @type {(() => void)|null} called when the key no longer works */
    this.onSignedOut = null;
  }

  get signedIn() {
    return Boolean(this.token && this.accountId && !this.expired);
  }

  /** Whether the token's lifetime is over (the server decides; this saves a round trip). */
  get expired() {
    return this.expiresAt > 0 && Date.now() >= this.expiresAt;
  }

  /**
   * Trades the admin API key for a token and keeps the token (not the key)
   * for this tab.
   * @param {string} apiKey
   */
  async signIn(apiKey) {
    const res = await fetch('/v2/api_auth', {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { api_key: apiKey } }),
    });
    const body = await readJSON(res);
    if (!res.ok) {
      throw new ApiError(res.status, String(body.message || res.statusText), /** @type {any} */ (body.data) || {});
    }
    const data = /** @type {{account_id: string, account_name?: string, ttl?: number}} */ (body.data);
    this.token = String(body.auth_token);
    this.accountId = data.account_id;
    this.accountName = data.account_name || '';
    // From the token's lifetime, not the server's expires_at, so a browser
    // clock that is off does not end every session at once.
    this.expiresAt = typeof data.ttl === 'number' && data.ttl > 0 ? Date.now() + data.ttl * 1000 : 0;
    sessionStorage.setItem(TOKEN, this.token);
    sessionStorage.setItem(EXPIRES, String(this.expiresAt));
    sessionStorage.setItem(ACCOUNT, this.accountId);
    sessionStorage.setItem(ACCOUNT_NAME, this.accountName);
  }

  /**
   * Forgets the session in this tab; with revoke, also ends the token on
   * the server (DELETE /v2/token_auth), so a copy of it is worthless.
   * @param {boolean} [revoke]
   */
  signOut(revoke = false) {
    const token = this.token;
    for (const k of [OLD_KEY, TOKEN, EXPIRES, ACCOUNT, ACCOUNT_NAME]) sessionStorage.removeItem(k);
    this.token = null;
    this.accountId = null;
    this.expiresAt = 0;
    if (revoke && token) {
      void fetch('/v2/token_auth', { method: 'DELETE', headers: { 'X-Auth-Token': token } }).catch(() => {});
    }
  }

  /**
   * One API call. An expired, revoked or missing token ends the session
   * (SignedOut): the admin signs in again, as no key is kept.
   * @param {string} method
   * @param {string} path relative to /v2/accounts/{account}
   * @param {{data?: unknown, revision?: string}} [opts]
   * @returns {Promise<{data: any, revision?: string, body: Record<string, unknown>}>}
   */
  async call(method, path, opts = {}) {
    if (!this.token || !this.accountId || this.expired) return this.#signedOut();
    const used = this.token;
    /** @type {Record<string, string>} */
    const headers = { 'X-Auth-Token': String(this.token) };
    /** @type {RequestInit} */
    const init = { method, headers };
    if (opts.data !== undefined) {
      headers['Content-Type'] = 'application/json';
      /** @type {Record<string, unknown>} */
      const env = { data: opts.data };
      if (opts.revision) env.revision = opts.revision;
      init.body = JSON.stringify(env);
    }
    if (opts.revision) headers['If-Match'] = `"${opts.revision}"`;
    const res = await fetch(`/v2/accounts/${this.accountId}${path}`, init);
    const body = await readJSON(res);
    if (res.status === 401) return this.#signedOut();
    if (!res.ok) {
      throw new ApiError(res.status, String(body.message || res.statusText), /** @type {any} */ (body.data) || {});
    }
    // A renewed token is kept only while this session lasts: an answer that
    // arrives after sign-out must not bring the session back.
    if (typeof body.auth_token === 'string' && this.token === used && body.auth_token !== used) {
      this.token = body.auth_token;
      sessionStorage.setItem(TOKEN, this.token);
    }
    return { data: body.data, revision: typeof body.revision === 'string' ? body.revision : undefined, body };
  }

  /** @returns {never} */
  #signedOut() {
    this.signOut();
    if (this.onSignedOut) this.onSignedOut();
    throw new SignedOut('Your session has ended: sign in again.');
  }

  /**
   * Sends a file as the body of a PUT (media audio).
   * @param {string} path relative to /v2/accounts/{account}
   * @param {Blob} blob
   */
  async upload(path, blob) {
    if (!this.token || !this.accountId || this.expired) return this.#signedOut();
    const res = await fetch(`/v2/accounts/${this.accountId}${path}`, {
      method: 'PUT', headers: { 'X-Auth-Token': String(this.token), 'Content-Type': blob.type || 'application/octet-stream' }, body: blob,
    });
    if (res.status === 401) return this.#signedOut();
    if (!res.ok) {
      const body = await readJSON(res);
      throw new ApiError(res.status, String(body.message || res.statusText), /** @type {any} */ (body.data) || {});
    }
  }

  /**
   * Fetches a file with the token (media audio, voicemail messages): the
   * <audio> element cannot send the token itself.
   * @param {string} path relative to /v2/accounts/{account}
   * @returns {Promise<Blob>}
   */
  async fetchBlob(path) {
    if (!this.token || !this.accountId || this.expired) return this.#signedOut();
    const res = await fetch(`/v2/accounts/${this.accountId}${path}`, { headers: { 'X-Auth-Token': String(this.token) } });
    if (res.status === 401) return this.#signedOut();
    if (!res.ok) {
      const body = await readJSON(res);
      throw new ApiError(res.status, String(body.message || res.statusText), /** @type {any} */ (body.data) || {});
    }
    return res.blob();
  }

  /** @returns {Promise<CallflowSummary[]>} */
  async listCallflows() {
    const r = await this.call('GET', '/callflows?paginate=false');
    return r.data;
  }

  /** @returns {Promise<CatalogEntry[]>} */
  async catalog() {
    const r = await this.call('GET', '/callflows/actions');
    return r.data;
  }

  /** @param {string} id */
  async getCallflow(id) {
    return this.call('GET', `/callflows/${encodeURIComponent(id)}`);
  }

  /** @param {Record<string, unknown>} doc */
  async createCallflow(doc) {
    return this.call('PUT', '/callflows', { data: doc });
  }

  /**
   * @param {string} id
   * @param {Record<string, unknown>} doc
   * @param {string|undefined} revision the revision the change is based on
   */
  async updateCallflow(id, doc, revision) {
    return this.call('POST', `/callflows/${encodeURIComponent(id)}`, { data: doc, revision });
  }

  /**
   * @param {{to: string, from?: string, inputs?: string[], dials?: string[]}} opts
   * @returns {Promise<{call_id: string, trace: TraceEvent[], result: {cause?: string, by?: string, nodes?: number}}>}
   */
  async simulate(opts) {
    const r = await this.call('POST', '/simulate', { data: opts });
    return r.data;
  }

  /**
   * The webhook exchanges of a call; [] when none were kept.
   * @param {string} callId
   * @returns {Promise<WebhookExchange[]>}
   */
  async pivotDebug(callId) {
    try {
      const r = await this.call('GET', `/pivot/debug/${encodeURIComponent(callId)}`);
      return r.data;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }
}

/**
 * @param {Response} res
 * @returns {Promise<Record<string, unknown>>}
 */
async function readJSON(res) {
  const text = await res.text();
  if (!text) return {};
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return { message: text.slice(0, 200) };
  }
}

/**
 * A sentence for an error, for people.
 * @param {unknown} e
 */
export function describeError(e) {
  if (e instanceof SignedOut) return e.message;
  if (e instanceof ApiError) {
    const fields = e.fieldErrors();
    if (fields.length) return fields.map((f) => f.message).join('; ');
    if (e.status >= 500) return `The server failed (${e.status} ${e.message}). Try again in a moment.`;
    return `${e.message} (${e.status})`;
  }
  if (e instanceof TypeError) return 'The server cannot be reached. Check your connection and try again.';
  return e instanceof Error ? e.message : String(e);
}
