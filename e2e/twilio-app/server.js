// A small Twilio-style voice app, written the way Twilio's Node samples
// are (routes reading req.body.Digits and req.body.RecordingUrl), run by
// the Go e2e test (e2e/twilio_app_test.go) against a real switchboard.
//
// It takes its configuration from the environment:
//   SWITCHBOARD_URL, SWITCHBOARD_ACCOUNT, SWITCHBOARD_TOKEN  the API, to read
//     the account's auth token (GET …/accounts/{id}/auth_token)
//   STATIC_DIR  files served under /static/ (the MP3 prompt, wait music)
//   IVR_ROUNDS  rounds of the IVR (default 30)
// and prints "listening <port>" once it serves. Every request's
// X-Twilio-Signature is checked with the twilio package's validateRequest;
// a request that fails gets 403. GET /_log returns what it saw.
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const { validateRequest } = require('twilio');

const api = process.env.SWITCHBOARD_URL;
const account = process.env.SWITCHBOARD_ACCOUNT;
const staticDir = process.env.STATIC_DIR || __dirname;
const rounds = Number(process.env.IVR_ROUNDS || 30);

let authToken = '';
let accountSid = '';
const log = [];

// getJSON fetches a URL, with headers, and resolves {status, body}.
function get(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks), type: res.headers['content-type'] }));
    }).on('error', reject);
  });
}

async function loadAuthToken() {
  const res = await get(`${api}/v2/accounts/${account}/auth_token`, { 'X-Auth-Token': process.env.SWITCHBOARD_TOKEN });
  if (res.status !== 200) throw new Error(`auth_token: HTTP ${res.status}: ${res.body}`);
  const data = JSON.parse(res.body).data;
  authToken = data.auth_token;
  accountSid = data.account_sid;
}

// A tiny router in the Express style: handlers get (req, res) with
// req.body and req.query, and answer with res.type(...).send(...).
const routes = {};
function post(p, fn) { routes[p] = fn; }

function twiml(res, body) {
  res.type('text/xml').send(`<?xml version="1.0" encoding="UTF-8"?>\n<Response>${body}</Response>`);
}

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// 1. An MP3 prompt after a media that cannot be played: the bad one is
// skipped (an error in the trace), the MP3 is heard.
post('/mp3', (req, res) => twiml(res,
  '<Play>/static/not-audio.txt</Play><Play>/static/prompt.mp3</Play><Hangup/>'));

// 2. Leave a message, hear it back through RecordingUrl.
post('/record', (req, res) => twiml(res,
  '<Record maxLength="3" timeout="10" playBeep="false" trim="do-not-trim" action="/recorded" recordingStatusCallback="/recstatus"/>'));

post('/recorded', async (req, res) => {
  const url = req.body.RecordingUrl;
  const plain = url.replace(/\/recordings\/signed\/[^/]+\//, '/recordings/');
  const basic = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');
  const checks = {};
  for (const [name, u, h] of [['signed', url, {}], ['mp3', url + '.mp3', {}], ['wav', url + '.wav', {}],
    ['basic', plain, { Authorization: basic }], ['plain', plain, {}]]) {
    const r = await get(u, h);
    checks[name] = { status: r.status, type: r.type, bytes: r.body.length, head: r.body.subarray(0, 4).toString('latin1') };
  }
  req.entry.checks = checks;
  twiml(res, `<Play>${esc(url)}</Play><Hangup/>`);
});

post('/recstatus', (req, res) => res.status(204).send(''));

// 3. A slow app: ten seconds before the first answer.
post('/slow', (req, res) => {
  setTimeout(() => twiml(res, '<Say>Thank you for waiting.</Say><Hangup/>'), 10000);
});

// 4. An IVR of many rounds.
post('/ivr', (req, res) => {
  const round = Number(req.query.round || 1);
  if (req.body.Digits !== undefined && req.body.Digits !== '1') {
    return twiml(res, '<Say>Wrong key.</Say><Hangup/>');
  }
  if (round > rounds) return twiml(res, '<Say>All rounds done.</Say><Hangup/>');
  twiml(res, `<Gather numDigits="1" timeout="10" action="/ivr?round=${round + 1}"><Say>Press one.</Say></Gather><Say>No key.</Say><Hangup/>`);
});

// 5. A Dial that rings: the caller hears ringback until nobody answers.
post('/dial', (req, res) => twiml(res,
  `<Dial timeout="6" ringTone="us" action="/dialed"><Sip>${esc(req.query.to)}</Sip></Dial>`));
post('/dialed', (req, res) => twiml(res, '<Say>Nobody answered.</Say><Hangup/>'));

// 6. A queue: a caller waits with MP3 music, an agent takes the call.
post('/enqueue', (req, res) => twiml(res, '<Enqueue waitUrl="/wait" action="/left">support</Enqueue>'));
post('/wait', (req, res) => twiml(res, '<Play>/static/music.mp3</Play>'));
post('/left', (req, res) => twiml(res, '<Hangup/>'));
post('/agent', (req, res) => twiml(res, '<Dial action="/agent-done"><Queue url="/whisper">support</Queue></Dial>'));
post('/whisper', (req, res) => twiml(res, '<Say>Connecting.</Say>'));
post('/agent-done', (req, res) => twiml(res, '<Hangup/>'));

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://localhost');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    if (req.method === 'GET' && u.pathname === '/_log') {
      return send(res, 200, 'application/json', JSON.stringify(log));
    }
    if (req.method === 'GET' && u.pathname.startsWith('/static/')) {
      const file = path.join(staticDir, path.basename(u.pathname));
      if (!fs.existsSync(file)) return send(res, 404, 'text/plain', 'not found');
      const type = file.endsWith('.mp3') ? 'audio/mpeg' : 'text/plain';
      return send(res, 200, type, fs.readFileSync(file));
    }
    const body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const fullURL = `http://${req.headers.host}${req.url}`;
    const signature = req.headers['x-twilio-signature'] || '';
    const valid = validateRequest(authToken, signature, fullURL, req.method === 'POST' ? body : {});
    const entry = { path: u.pathname, query: Object.fromEntries(u.searchParams), body, valid, at: Date.now() };
    log.push(entry);
    if (!valid) return send(res, 403, 'text/plain', 'bad signature');
    const fn = routes[u.pathname];
    if (!fn) return send(res, 404, 'text/plain', 'no route');
    const r = {
      statusCode: 200, contentType: 'text/plain',
      status(c) { this.statusCode = c; return this; },
      type(t) { this.contentType = t; return this; },
      send(b) { send(res, this.statusCode, this.contentType, b); },
    };
    try {
      await fn({ body, query: Object.fromEntries(u.searchParams), entry }, r);
    } catch (err) {
      entry.error = String(err);
      send(res, 500, 'text/plain', String(err));
    }
  });
});

loadAuthToken().then(() => {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`listening ${server.address().port} ${accountSid}\n`);
  });
}).catch((err) => {
  process.stderr.write(`twilio-app: ${err.stack || err}\n`);
  process.exit(1);
});
