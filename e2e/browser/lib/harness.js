// Test harness: builds the switchboard binary, starts it on a fresh data
// dir at 127.0.0.1:0 (the address read from its JSON log), talks to its API,
// and launches Debian's Chromium through playwright-core.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const artifactsDir = path.join(repoRoot, 'e2e/browser/artifacts');

/** @type {string|null} */
let builtBinary = null;

/** Builds ./cmd/switchboard once per test process (Go's cache makes repeats cheap). */
export function buildBinary() {
  if (process.env.SWITCHBOARD_BIN) return process.env.SWITCHBOARD_BIN;
  if (builtBinary) return builtBinary;
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-e2e-bin-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const bin = path.join(dir, 'switchboard');
  const goBin = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
  execFileSync(goBin, ['build', '-o', bin, './cmd/switchboard'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  builtBinary = bin;
  return bin;
}

/**
 * A thin client of the REST API, for arranging and checking what the UI did.
 */
export class ApiClient {
  /**
   * @param {string} base
   * @param {string} apiKey
   */
  constructor(base, apiKey) {
    this.base = base;
    this.apiKey = apiKey;
    this.token = '';
    this.accountId = '';
  }

  async auth() {
    const r = await fetch(`${this.base}/v2/api_auth`, { method: 'PUT', body: JSON.stringify({ data: { api_key: this.apiKey } }) });
    const b = await r.json();
    if (!r.ok) throw new Error(`auth: ${r.status} ${JSON.stringify(b)}`);
    this.token = b.auth_token;
    this.accountId = b.data.account_id;
  }

  /**
   * @param {string} method
   * @param {string} p path under /v2/accounts/{id}
   * @param {unknown} [data]
   * @param {Record<string, string>} [headers]
   * @returns {Promise<{status: number, body: any}>}
   */
  async call(method, p, data, headers = {}) {
    if (!this.token) await this.auth();
    const r = await fetch(`${this.base}/v2/accounts/${this.accountId}${p}`, {
      method,
      headers: { 'X-Auth-Token': this.token, ...headers },
      body: data === undefined ? undefined : JSON.stringify({ data }),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  }

  async catalog() {
    const r = await this.call('GET', '/callflows/actions');
    return /** @type {Array<{name: string, label: string, group: string, icon: string, branches: string[], free_branches: boolean, terminal: boolean, schema: any}>} */ (r.body.data);
  }

  async list() {
    const r = await this.call('GET', '/callflows?paginate=false');
    return /** @type {Array<{id: string, name: string, numbers: string[], patterns: string[]}>} */ (r.body.data);
  }

  /** @param {string} id */
  async get(id) {
    const r = await this.call('GET', `/callflows/${id}`);
    if (r.status !== 200) throw new Error(`get ${id}: ${r.status}`);
    return { doc: r.body.data, revision: r.body.revision };
  }

  /** @param {Record<string, unknown>} doc */
  async create(doc) {
    const r = await this.call('PUT', '/callflows', doc);
    if (r.status !== 201) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
    return { doc: r.body.data, revision: r.body.revision };
  }

  /**
   * @param {string} id
   * @param {Record<string, unknown>} doc
   * @param {string} [revision]
   */
  async update(id, doc, revision) {
    const r = await this.call('POST', `/callflows/${id}`, doc, revision ? { 'If-Match': `"${revision}"` } : {});
    if (r.status !== 200) throw new Error(`update: ${r.status} ${JSON.stringify(r.body)}`);
    return { doc: r.body.data, revision: r.body.revision };
  }
}

/**
 * Starts switchboard serve on a fresh data dir; with sip, SIP listens on
 * 127.0.0.1 at a free port too (sipAddr: its UDP address).
 * @param {{sip?: boolean}} [opts]
 * @returns {Promise<{url: string, sipAddr: string, adminKey: string, api: ApiClient, stop: () => Promise<void>}>}
 */
export async function startServer(opts = {}) {
  const bin = buildBinary();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'sb-e2e-data-'));
  const adminKey = `e2e-${randomBytes(16).toString('hex')}`;
  const sipArgs = opts.sip ? ['--sip-addr', '127.0.0.1:0'] : ['--sip-addr', ''];
  let sipAddr = '';
  const proc = spawn(bin, ['serve', '--http-addr', '127.0.0.1:0', '--data-dir', dataDir, '--admin-key', adminKey, '--log-format', 'json', ...sipArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // A test process that dies takes its server with it.
  const killOnExit = () => { if (proc.exitCode === null) proc.kill('SIGKILL'); };
  process.on('exit', killOnExit);
  /** @type {string[]} */
  const log = [];
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchboard did not start in 30 s:\n${log.join('\n')}`)), 30_000);
    const rl = createInterface({ input: /** @type {import('node:stream').Readable} */ (proc.stderr) });
    let httpAddr = '';
    rl.on('line', (line) => {
      log.push(line);
      try {
        const o = JSON.parse(line);
        if (o.msg === 'http listening' && o.addr) httpAddr = String(o.addr);
        if (o.msg === 'sip listening' && o.transport === 'udp' && o.addr) sipAddr = String(o.addr);
        if (httpAddr && (sipAddr || !opts.sip)) {
          clearTimeout(timer);
          resolve(httpAddr);
        }
      } catch { /* not JSON */ }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`switchboard exited (${code}):\n${log.join('\n')}`)); });
  });
  const url = `http://${addr}`;
  const api = new ApiClient(url, adminKey);
  await api.auth();
  return {
    url, sipAddr, adminKey, api,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      process.off('exit', killOnExit);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** Launches Debian's Chromium (no browser download). */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A new page at 1280×800 that fails the test on a page error.
 * @param {import('playwright-core').Browser} browser
 * @param {string} baseURL
 */
export async function newPage(browser, baseURL) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  // The browser logs every 4xx answer; the API's refusals are expected in
  // some tests, so only script errors count.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  return { context, page, errors };
}

/**
 * Saves a screenshot under e2e/browser/artifacts/.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Signs in through the UI.
 * @param {import('playwright-core').Page} page
 * @param {string} key
 */
export async function signIn(page, key) {
  await page.goto('/');
  await page.getByLabel('Admin API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The shell is drawn (inert) behind the sign-in form: signed in means
  // the form is gone, not that the shell's buttons show.
  await page.getByLabel('Admin API key').waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'New call flow' }).first().waitFor();
}
