// A tiny SIP phone for browser tests: REGISTERs over UDP from 127.0.0.1
// and answers the server's digest challenge (MD5, qop=auth) the way a desk
// phone does, so a page can show a real registration.

import dgram from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';

/** @param {string} s */
const md5 = (s) => createHash('md5').update(s).digest('hex');

/**
 * Reads the parameters of a Digest challenge.
 * @param {string} value
 * @returns {Record<string, string>}
 */
export function parseChallenge(value) {
  /** @type {Record<string, string>} */
  const out = {};
  const re = /(\w+)=(?:"([^"]*)"|([^,\s]+))/g;
  let m;
  while ((m = re.exec(value.replace(/^Digest\s+/i, '')))) out[m[1].toLowerCase()] = m[2] ?? m[3];
  return out;
}

export class SipPhone {
  /**
   * @param {{server: string, user: string, password: string, userAgent?: string}} o server is host:port
   */
  constructor(o) {
    this.o = o;
    this.sock = dgram.createSocket('udp4');
    this.callId = `${randomBytes(8).toString('hex')}@e2e`;
    this.tag = randomBytes(4).toString('hex');
    this.cseq = 0;
    this.local = '';
  }

  async open() {
    await new Promise((resolve) => this.sock.bind(0, '127.0.0.1', () => resolve(undefined)));
    const a = this.sock.address();
    this.local = `${a.address}:${a.port}`;
  }

  close() {
    this.sock.close();
  }

  /**
   * Sends one REGISTER and waits for its final answer (5 s).
   * @param {string} expires
   * @param {string} [authorization]
   * @returns {Promise<{status: number, headers: Record<string, string>}>}
   */
  async send(expires, authorization) {
    const [host] = this.o.server.split(':');
    this.cseq++;
    const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
    const lines = [
      `REGISTER sip:${host} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.local};branch=${branch};rport`,
      `From: <sip:${this.o.user}@${host}>;tag=${this.tag}`,
      `To: <sip:${this.o.user}@${host}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${this.cseq} REGISTER`,
      `Contact: <sip:${this.o.user}@${this.local}>`,
      `Expires: ${expires}`,
      'Max-Forwards: 70',
      `User-Agent: ${this.o.userAgent || 'e2e-phone/1.0'}`,
    ];
    if (authorization) lines.push(`Authorization: ${authorization}`);
    lines.push('Content-Length: 0', '', '');
    const [h, p] = this.o.server.split(':');
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.sock.off('message', on); reject(new Error(`no answer to REGISTER ${this.cseq}`)); }, 5000);
      /** @param {Buffer} msg */
      const on = (msg) => {
        const text = msg.toString('utf8');
        const [first, ...rest] = text.split('\r\n');
        const status = Number(first.split(' ')[1]);
        if (!(status >= 200)) return; // provisional
        /** @type {Record<string, string>} */
        const headers = {};
        for (const l of rest) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        if (!headers.cseq || !headers.cseq.startsWith(`${this.cseq} `)) return;
        clearTimeout(timer);
        this.sock.off('message', on);
        resolve({ status, headers });
      };
      this.sock.on('message', on);
    });
    this.sock.send(lines.join('\r\n'), Number(p), h);
    return /** @type {Promise<{status: number, headers: Record<string, string>}>} */ (answer);
  }

  /**
   * Registers (answering the challenge); expires "0" unregisters.
   * @param {string} [expires]
   * @returns {Promise<number>} the final status
   */
  async register(expires = '300') {
    const first = await this.send(expires);
    if (first.status !== 401) return first.status;
    const c = parseChallenge(first.headers['www-authenticate'] || '');
    const [host] = this.o.server.split(':');
    const uri = `sip:${host}`;
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    const ha1 = md5(`${this.o.user}:${c.realm}:${this.o.password}`);
    const ha2 = md5(`REGISTER:${uri}`);
    const qop = (c.qop || '').split(',').map((q) => q.trim()).includes('auth') ? 'auth' : '';
    const response = qop ? md5(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : md5(`${ha1}:${c.nonce}:${ha2}`);
    let auth = `Digest username="${this.o.user}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", response="${response}", algorithm=MD5`;
    if (qop) auth += `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`;
    if (c.opaque) auth += `, opaque="${c.opaque}"`;
    const second = await this.send(expires, auth);
    return second.status;
  }
}
