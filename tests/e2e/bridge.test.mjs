// bridge.test.mjs: device login bridged to an upstream provider (the upstream_* config
// keys; the self-hosted Postiz CLI auth server). The upstream here is a small HTTP server
// in this process that plays Postiz's token endpoint and can be told to fail; the browser
// is a cookie-jar Session that takes the state from the redirect to the upstream's
// authorize URL and comes back to /device/callback as the upstream would. The whole flow
// against a real second postern as the upstream, with the real CLI, is in
// interop/postiz.test.mjs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, freePort, hexSql, storedData, holds, unixNow } from '../lib/stack.mjs';
import { Session, pkce, unescapeHtml, basic } from '../lib/client.mjs';

const USER_CODE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$/;
const INVALID_CODE = 'That code is not valid or has expired. Check the code on your device.';

/* The upstream's token endpoint: answers as `mode` says and records every request. */
class FakeUpstream {
  constructor() { this.mode = 'ok'; this.requests = []; this.n = 0; }
  async start(port) {
    this.server = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      this.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const json = (status, v) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(typeof v === 'string' ? v : JSON.stringify(v)); };
      switch (this.mode) {
      case 'ok': this.token = `upstream-token-${++this.n}-${Date.now()}`; return json(201, { access_token: this.token, id: 'org-42', token_type: 'bearer' });
      case 'no-id': this.token = `upstream-token-${++this.n}`; return json(200, { access_token: this.token });
      case '500': return json(500, { statusCode: 500, message: '<script>alert(1)</script> the database is down' });
      case '400': return json(400, { error: 'invalid_grant', error_description: 'the code was already used' });
      case 'garbage': res.writeHead(200, { 'content-type': 'text/html' }); return res.end('<html>not json</html>');
      case 'no-token': return json(200, { token_type: 'bearer', id: 'org-42' });
      case 'big': return json(200, { access_token: 'x', pad: 'y'.repeat(200 * 1024) });
      default: throw new Error('mode ' + this.mode);
      }
    });
    await new Promise((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = port;
  }
  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
  get last() { return this.requests[this.requests.length - 1]; }
}

/* POST to a Postiz CLI endpoint with Content-Type application/json and a raw body. */
async function postiz(url, p, body) {
  const r = await fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch { parsed = null; }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

const pageError = (html) => { const m = html.match(/<p class="error" role="alert">([^<]*)<\/p>/); return m ? unescapeHtml(m[1]) : null; };
const pageStatus = (html) => { const m = html.match(/<p role="status">([^<]*)<\/p>/); return m ? unescapeHtml(m[1]) : null; };

describe('device login bridged to an upstream provider', () => {
  let stack, upstream, upstreamPort;
  const sql = (q) => stack.sql(q);
  const start = async () => {
    const r = await postiz(stack.url, '/device/code', '');
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const poll = (device_code) => postiz(stack.url, '/device/token', JSON.stringify({ device_code }));
  /* The code-entry page for userCode, then its form posted: the response of the POST. */
  async function enter(s, userCode) {
    const page = await s.get('/device/verify?' + new URLSearchParams({ code: userCode }));
    assert.equal(page.status, 200, page.text_.slice(0, 300));
    const csrf = unescapeHtml(page.text_.match(/name="csrf" value="([^"]+)"/)[1]);
    return s.post('/device/verify', { form: { csrf, user_code: userCode } });
  }
  /* Enters the code and follows nothing: the upstream authorize URL it was sent to. */
  async function toUpstream(s, userCode) {
    const r = await enter(s, userCode);
    assert.equal(r.status, 303, r.text_.slice(0, 400));
    return new URL(r.headers.get('location'));
  }
  const callback = (s, q) => s.get('/device/callback?' + new URLSearchParams(q));

  before(async () => {
    upstream = new FakeUpstream();
    upstreamPort = await freePort();
    await upstream.start(upstreamPort);
    const up = `http://127.0.0.1:${upstreamPort}`;
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: [
      'device_interval = 1',
      `upstream_authorize_url = ${up}/oauth/authorize?prompt=consent`,
      `upstream_token_url = ${up}/public/v1/oauth/token`,
      'upstream_client_id = pca_bridge0123456789',
      'upstream_client_secret = pcs_bridge-secret-0123456789',
      `upstream_api_url = ${up}/api`,
    ].join('\n') } });
  });
  after(async () => {
    await stack?.stop();
    await upstream?.stop();
  });

  test('/device/code answers the CLI with a user code entered at /device/verify; /health is up', async () => {
    const d = await start();
    assert.match(d.device_code, /^pdc_[A-Za-z0-9]+$/);
    assert.match(d.user_code, USER_CODE);
    assert.equal(d.verification_uri, stack.url + '/device/verify');
    assert.equal(d.expires_in, 900);
    assert.equal(d.interval, 1);
    assert.equal(sql(`SELECT count(*) FROM bridge_devices WHERE user_code = '${d.user_code.replace('-', '')}'`), '1');
    const h = await fetch(stack.url + '/health');
    assert.deepEqual(await h.json(), { status: 'ok' });
  });

  test('the CLI polls authorization_pending until the login is done; unknown codes are invalid_device_code', async () => {
    const d = await start();
    const r = await poll(d.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'authorization_pending');
    for (const code of ['pdc_nope', d.device_code.slice(0, -1) + (d.device_code.endsWith('A') ? 'B' : 'A')]) {
      const x = await poll(code);
      assert.equal(x.status, 400);
      assert.equal(x.body.error, 'invalid_device_code', code);
    }
    const m = await postiz(stack.url, '/device/token', '{}');
    assert.equal(m.body.error, 'invalid_request');
  });

  test('the code-entry page needs no sign-in, prefills ?code= and sets the browser cookie', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const page = await s.get('/device/verify?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(page.status, 200);
    assert.match(page.text_, new RegExp(`value="${d.user_code}"`));
    assert.match(page.text_, /action="\/device\/verify"/);
    assert.ok(s.jar.has('postern_bridge'), 'the browser cookie');
    const c = s.cookies.find((x) => x.startsWith('postern_bridge='));
    assert.match(c, /HttpOnly/);
    assert.match(c, /SameSite=Lax/);
  });

  test('entering the code sends the browser to the upstream: client_id, code, a fresh state, PKCE S256, no redirect_uri', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    assert.equal(u.origin + u.pathname, `http://127.0.0.1:${upstreamPort}/oauth/authorize`);
    const q = u.searchParams;
    assert.equal(q.get('prompt'), 'consent', 'the configured query is kept');
    assert.equal(q.get('client_id'), 'pca_bridge0123456789');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('state'), /^[A-Za-z0-9]{43}$/);
    assert.ok(!u.href.includes(d.device_code), 'the device code never goes upstream');
    assert.equal(q.get('redirect_uri'), null);
    // the state and the verifier are not stored as they are
    const row = sql(`SELECT ${hexSql(stack, 'oauth_state')} || ${hexSql(stack, 'verifier')} FROM bridge_devices WHERE user_code = '${d.user_code.replace('-', '')}'`);
    assert.match(row, /^[0-9A-F]+$/, 'the request has its state stored');
    assert.ok(!row.includes(Buffer.from(q.get('state')).toString('hex').toUpperCase()));
    // a second time: another state, and the first one stops working
    const u2 = await toUpstream(s, d.user_code);
    assert.notEqual(u2.searchParams.get('state'), q.get('state'));
    const r = await callback(s, { code: 'c1', state: q.get('state') });
    assert.equal(r.status, 400);
    assert.equal((await poll(d.device_code)).body.error, 'authorization_pending');
  });

  test('the whole login: the code is exchanged as Postiz wants it, the CLI gets the token once, nothing stays', async () => {
    upstream.mode = 'ok';
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    const r = await callback(s, { code: 'upstream-code-1', state: u.searchParams.get('state') });
    assert.equal(r.status, 200, r.text_.slice(0, 500));
    assert.match(pageStatus(r.text_), /signed in/);
    // the exchange: a JSON body with the app's credentials and the PKCE verifier
    const x = upstream.last;
    assert.equal(x.method, 'POST');
    assert.equal(x.url, '/public/v1/oauth/token');
    assert.match(x.headers['content-type'], /^application\/json/);
    assert.equal(x.headers.authorization, undefined);
    const body = JSON.parse(x.body);
    assert.equal(body.grant_type, 'authorization_code');
    assert.equal(body.code, 'upstream-code-1');
    assert.equal(body.client_id, 'pca_bridge0123456789');
    assert.equal(body.client_secret, 'pcs_bridge-secret-0123456789');
    assert.equal(pkce(body.code_verifier).challenge, u.searchParams.get('code_challenge'));
    assert.equal(body.redirect_uri, undefined);
    const token = upstream.token;
    // stored sealed until collected: not in the database as it is
    const stored = storedData(stack);
    assert.ok(stored.length > 0);
    for (const { name, text } of stored) assert.ok(!holds(text, token), name);
    const t = await poll(d.device_code);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.headers.get('cache-control'), 'no-store');
    assert.deepEqual(t.body, { access_token: token, api_url: `http://127.0.0.1:${upstreamPort}/api`, organization_id: 'org-42' });
    // collected once: then the request is gone
    const again = await poll(d.device_code);
    assert.equal(again.body.error, 'invalid_device_code');
    assert.equal(sql(`SELECT count(*) FROM bridge_devices WHERE user_code = '${d.user_code.replace('-', '')}'`), '0');
    // the callback cannot be replayed
    const replay = await callback(s, { code: 'upstream-code-1', state: u.searchParams.get('state') });
    assert.equal(replay.status, 400);
    assert.equal(upstream.requests.filter((q) => JSON.parse(q.body).code === 'upstream-code-1').length, 1);
    // never logged
    const logs = readdirSync(path.join(stack.dir, 'logs')).map((f) => stack.log(f)).join('');
    for (const secret of [token, 'pcs_bridge-secret-0123456789', body.code_verifier, d.device_code])
      assert.ok(!logs.includes(secret), 'a secret in the logs');
  });

  test('an upstream answer without id gives no organization_id', async () => {
    upstream.mode = 'no-id';
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    assert.equal((await callback(s, { code: 'c', state: u.searchParams.get('state') })).status, 200);
    const t = await poll(d.device_code);
    assert.deepEqual(Object.keys(t.body).sort(), ['access_token', 'api_url']);
    upstream.mode = 'ok';
  });

  test('a denial at the upstream is told to the CLI: access_denied at its next poll', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    const before = upstream.requests.length;
    const r = await callback(s, { error: 'access_denied', state: u.searchParams.get('state') });
    assert.equal(r.status, 200);
    assert.match(pageStatus(r.text_), /not connected/);
    assert.equal(upstream.requests.length, before, 'nothing exchanged');
    const t = await poll(d.device_code);
    assert.equal(t.status, 400);
    assert.equal(t.body.error, 'access_denied');
    assert.equal((await poll(d.device_code)).body.error, 'invalid_device_code');
  });

  test('a forged state, a missing one, or the right one from another browser is refused; the state stays usable', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    const state = u.searchParams.get('state');
    const before = upstream.requests.length;
    for (const q of [{ code: 'c', state: 'A'.repeat(43) }, { code: 'c' }, { code: 'c', state: d.device_code }, { code: 'c', state: '' }]) {
      const r = await callback(s, q);
      assert.equal(r.status, 400, JSON.stringify(q));
      assert.match(pageError(r.text_), /not valid or was already used/);
    }
    const other = new Session(stack.url);
    await other.get('/device/verify');
    for (const sess of [other, new Session(stack.url)]) {
      const r = await callback(sess, { code: 'c', state });
      assert.equal(r.status, 400);
      assert.match(pageError(r.text_), /browser where you entered the code/);
    }
    assert.equal(upstream.requests.length, before, 'nothing was exchanged');
    assert.equal((await poll(d.device_code)).body.error, 'authorization_pending');
    const ok = await callback(s, { code: 'c', state });
    assert.equal(ok.status, 200, ok.text_.slice(0, 300));
    assert.equal((await poll(d.device_code)).status, 200);
  });

  test('an upstream that is down: a clear page, the CLI keeps waiting, entering the code again works', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    await upstream.stop();
    try {
      const r = await callback(s, { code: 'c', state: u.searchParams.get('state') });
      assert.equal(r.status, 502);
      assert.match(pageError(r.text_), /could not be reached/);
      const t = await poll(d.device_code);
      assert.equal(t.status, 400);
      assert.equal(t.body.error, 'authorization_pending');
      assert.match(stack.log('device.log'), /bridge: the upstream token endpoint: .*(connect|refused)/i);
    } finally {
      await upstream.start(upstreamPort);
    }
    const u2 = await toUpstream(s, d.user_code);
    assert.equal((await callback(s, { code: 'c2', state: u2.searchParams.get('state') })).status, 200);
    assert.equal((await poll(d.device_code)).status, 200);
  });

  test('an upstream error answer shows its message, escaped; the CLI keeps waiting', async () => {
    for (const [mode, want] of [['500', /HTTP 500\): <script>alert\(1\)<\/script> the database is down/], ['400', /HTTP 400\): the code was already used/]]) {
      upstream.mode = mode;
      const d = await start();
      const s = new Session(stack.url);
      const u = await toUpstream(s, d.user_code);
      const r = await callback(s, { code: 'c', state: u.searchParams.get('state') });
      assert.equal(r.status, 502, mode);
      assert.ok(!r.text_.includes('<script>alert'), 'escaped');
      assert.match(pageError(r.text_), want);
      assert.equal((await poll(d.device_code)).body.error, 'authorization_pending');
    }
    upstream.mode = 'ok';
  });

  test('an upstream answer that is garbage, has no token, or is too large: a clear page, no token', async () => {
    for (const mode of ['garbage', 'no-token', 'big']) {
      upstream.mode = mode;
      const d = await start();
      const s = new Session(stack.url);
      const u = await toUpstream(s, d.user_code);
      const r = await callback(s, { code: 'c', state: u.searchParams.get('state') });
      assert.equal(r.status, 502, mode);
      assert.match(pageError(r.text_), mode === 'big' ? /too large/ : /no token/, mode);
      assert.equal((await poll(d.device_code)).body.error, 'authorization_pending', mode);
    }
    upstream.mode = 'ok';
  });

  test('an upstream error sent back to the callback (not a denial) is shown, and the code may be entered again', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    const r = await callback(s, { error: 'invalid_scope', error_description: 'scope <b>x</b> unknown', state: u.searchParams.get('state') });
    assert.equal(r.status, 502);
    assert.match(pageError(r.text_), /invalid_scope: scope <b>x<\/b> unknown/);
    assert.ok(!r.text_.includes('<b>x</b>'));
    assert.equal((await poll(d.device_code)).body.error, 'authorization_pending');
    const u2 = await toUpstream(s, d.user_code);
    assert.equal((await callback(s, { code: 'c', state: u2.searchParams.get('state') })).status, 200);
  });

  test('an expired request: expired_token to the CLI, the code refused on the page, the callback refused', async () => {
    const d = await start();
    const s = new Session(stack.url);
    const u = await toUpstream(s, d.user_code);
    sql(`UPDATE bridge_devices SET expires = ${unixNow() - 1} WHERE user_code = '${d.user_code.replace('-', '')}'`);
    const r = await callback(s, { code: 'c', state: u.searchParams.get('state') });
    assert.equal(r.status, 400);
    assert.match(pageError(r.text_), /expired/);
    const page = await enter(s, d.user_code);
    assert.equal(page.status, 400);
    assert.equal(pageError(page.text_), INVALID_CODE);
    const t = await poll(d.device_code);
    assert.equal(t.status, 400);
    assert.equal(t.body.error, 'expired_token');
    assert.equal((await poll(d.device_code)).body.error, 'invalid_device_code');
    // the janitor removes expired bridged requests
    const e = await start();
    sql(`UPDATE bridge_devices SET expires = ${unixNow() - 1} WHERE user_code = '${e.user_code.replace('-', '')}'`);
    const out = JSON.parse(stack.cli(['--json', 'janitor']));
    assert.ok(out.devices >= 1);
    assert.equal(sql(`SELECT count(*) FROM bridge_devices WHERE expires <= ${unixNow()}`), '0');
  });

  test('RFC 8628 and postern\'s own device page keep working beside the bridge', async () => {
    // no app here (SEED=0): the RFC 8628 endpoint answers as before, not with the bridge
    const r = await fetch(stack.url + '/oauth/device_authorization', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=pca_unknown' });
    assert.equal(r.status, 401);
    const page = await fetch(stack.url + '/oauth/device', { redirect: 'manual' });
    assert.equal(page.status, 302, 'the provider page still asks for a sign-in');
  });

  test('a form without its CSRF token is refused', async () => {
    const d = await start();
    const s = new Session(stack.url);
    await s.get('/device/verify');
    const r = await s.post('/device/verify', { form: { user_code: d.user_code } });
    assert.equal(r.status, 403);
  });

  // last: they use up this address's guesses
  test('wrong codes are limited per browser (10), then per address (100), with Retry-After', async () => {
    const s = new Session(stack.url);
    for (let i = 0; i < 10; i++) {
      const r = await enter(s, 'AAAA-AAAA');
      assert.equal(r.status, 400, `guess ${i}`);
      assert.equal(pageError(r.text_), INVALID_CODE);
    }
    const d = await start();
    const locked = await enter(s, d.user_code);
    assert.equal(locked.status, 429, 'even the right code, once locked');
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    // another browser on the same address goes on, until the address has had 100
    // (earlier tests entered a wrong code or two: the address's count is read back)
    let n = Number(sql("SELECT sum(count) FROM attempts WHERE key LIKE 'device:addr:%'")), status;
    assert.ok(n >= 10 && n < 100, String(n));
    while (n < 100) {
      const b = new Session(stack.url);
      for (let i = 0; i < 9 && n < 100; i++, n++) assert.equal((await enter(b, 'AAAA-AAAA')).status, 400);
    }
    const fresh = new Session(stack.url);
    status = (await enter(fresh, d.user_code)).status;
    assert.equal(status, 429, 'the address is locked');
  });
});

describe('a bridge that exchanges with a form body and HTTP Basic, and sends redirect_uri', () => {
  let stack, upstream, tmp;
  const clientId = 'id:with&odd+chars', secret = 'pcs_from-a-file/0123456789';
  before(async () => {
    upstream = new FakeUpstream();
    await upstream.start(await freePort());
    const up = `http://localhost:${upstream.port}`;
    tmp = mkdtempSync(path.join(os.tmpdir(), 'postern-bridge-'));
    writeFileSync(path.join(tmp, 'secret'), secret + '\n', { mode: 0o600 });
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: [
      `upstream_authorize_url = ${up}/authorize`,
      `upstream_token_url = ${up}/token`,
      `upstream_client_id = ${clientId}`,
      `upstream_client_secret_file = ${path.join(tmp, 'secret')}`,
      `upstream_api_url = ${up}/api`,
      'upstream_token_auth = basic',
      'upstream_send_redirect_uri = on',
    ].join('\n') } });
  });
  after(async () => {
    await stack?.stop();
    await upstream?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('redirect_uri goes to the upstream; the code is exchanged with Basic (form-encoded parts) and a form body', async () => {
    const d = (await postiz(stack.url, '/device/code', '')).body;
    const s = new Session(stack.url);
    const page = await s.get('/device/verify?' + new URLSearchParams({ code: d.user_code }));
    const csrf = unescapeHtml(page.text_.match(/name="csrf" value="([^"]+)"/)[1]);
    const r = await s.post('/device/verify', { form: { csrf, user_code: d.user_code.toLowerCase() } });
    assert.equal(r.status, 303, r.text_.slice(0, 300));
    const u = new URL(r.headers.get('location'));
    assert.equal(u.searchParams.get('redirect_uri'), stack.url + '/device/callback');
    assert.equal(u.searchParams.get('client_id'), clientId);
    const cb = await s.get('/device/callback?' + new URLSearchParams({ code: 'form-code', state: u.searchParams.get('state'), iss: 'ignored' }));
    assert.equal(cb.status, 200, cb.text_.slice(0, 500));
    const x = upstream.last;
    assert.equal(x.url, '/token');
    assert.match(x.headers['content-type'], /^application\/x-www-form-urlencoded/);
    assert.equal(x.headers.authorization, basic(encodeURIComponent(clientId), encodeURIComponent(secret)));
    const f = new URLSearchParams(x.body);
    assert.equal(f.get('grant_type'), 'authorization_code');
    assert.equal(f.get('code'), 'form-code');
    assert.equal(f.get('redirect_uri'), stack.url + '/device/callback');
    assert.equal(pkce(f.get('code_verifier')).challenge, u.searchParams.get('code_challenge'));
    assert.equal(f.get('client_secret'), null);
    const t = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(t.status, 200);
    assert.equal(t.body.access_token, upstream.token);
    assert.equal(t.body.api_url, `http://localhost:${upstream.port}/api`);
  });
});
