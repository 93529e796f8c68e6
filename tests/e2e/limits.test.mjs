// limits.test.mjs: nginx's request limits in front of the endpoints people could hammer:
// password guessing at sign-in, the token endpoint, open registration (RFC 7591),
// revocation (RFC 7009), introspection (RFC 7662), the authorization request and the
// consent page (even for a signed-in user), and the anonymous device endpoints (each
// call writes a row). Over its burst a client gets 429 with Retry-After (RFC 6585 §4)
// and a body in the endpoint's format (JSON for APIs, an HTML page for pages), the
// servers behind see nothing more, and a client at another address is not affected.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, freePort, root } from '../lib/stack.mjs';
import { Session, basic } from '../lib/client.mjs';

const from = (addr) => ({ 'x-forwarded-for': addr });
const form = 'application/x-www-form-urlencoded';

/* A 429 from limit_req as clients can use it: Retry-After in whole seconds (expectRetry:
 * the seconds the zone's rate gives, '60' for 1r/m), never cached, and a JSON OAuth error
 * (RFC 6749 §5.2 shape) for an API or a page with the page headers for a browser. */
function assertLimited(r, kind, what, expectRetry = '60') {
  assert.equal(r.status, 429, what);
  const retry = r.headers.get('retry-after') ?? '';
  assert.match(retry, /^[1-9][0-9]*$/, `${what}: Retry-After "${retry}" is not a positive integer`);
  if (expectRetry) assert.equal(retry, expectRetry, `${what}: Retry-After is not what the rate gives`);
  assert.equal(r.headers.get('cache-control'), 'no-store', `${what}: Cache-Control`);
  const type = r.headers.get('content-type') ?? '';
  if (kind === 'json') {
    assert.match(type, /^application\/json/, `${what}: content type`);
    const body = JSON.parse(r.text);
    assert.equal(typeof body.error, 'string', `${what}: ${r.text}`);
    assert.equal(typeof body.error_description, 'string', `${what}: ${r.text}`);
  } else {
    assert.match(type, /^text\/html; charset=utf-8$/, `${what}: content type`);
    assert.match(r.text, /^<!doctype html>/i, `${what}: ${r.text.slice(0, 100)}`);
    assert.match(r.text, /<title>[^<]+<\/title>/, what);
    assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, `${what}: CSP`);
    assert.equal(r.headers.get('x-frame-options'), 'DENY', `${what}: X-Frame-Options`);
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer', `${what}: Referrer-Policy`);
  }
}

describe('request limits', () => {
  let stack, creds;
  before(async () => {
    stack = await startStack({ env: {
      LOGIN_RATE: '1r/m', TOKEN_RATE: '1r/m', REGISTER_RATE: '1r/m', REVOKE_RATE: '1r/m',
      INTROSPECT_RATE: '1r/m', AUTHORIZE_RATE: '1r/m', DEVICE_RATE: '1r/m',
      EXTRA_CONFIG: 'registration = on',
      EXTRA_NGINX: 'set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;',
    } });
    creds = basic(stack.app.client_id, stack.app.client_secret);
  });
  after(async () => { await stack?.stop(); });

  /* Sends n requests one after the other; returns {status, headers, text} of each. */
  async function hammer(n, path, init) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const r = await fetch(stack.url + path, { redirect: 'manual', ...init });
      out.push({ status: r.status, headers: r.headers, text: await r.text() });
    }
    return out;
  }
  /* The same through a signed-in session (cookies), n requests of method to path. */
  async function hammerSession(s, n, method, path, opts) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const r = await s.req(method, path, opts);
      out.push({ status: r.status, headers: r.headers, text: r.text_ });
    }
    return out;
  }
  const statuses = (rs) => rs.map((r) => r.status);
  /* Device requests in the database: what the anonymous device endpoints write. */
  const devices = () => Number(stack.sql('SELECT count(*) FROM devices'));

  /* Past a burst of `burst` (the first request plus the burst are served), the next two are
   * 429 as assertLimited wants them; served holds the statuses the endpoint itself gives. */
  function assertBurst(rs, burst, served, kind, what) {
    const ok = statuses(rs.slice(0, burst + 1));
    assert.ok(ok.every((x) => served.includes(x)), `${what}: the burst is served (${[...new Set(ok)]})`);
    assert.deepEqual(statuses(rs.slice(burst + 1)), [429, 429], what);
    for (const r of rs.slice(burst + 1)) assertLimited(r, kind, what);
  }

  test('sign-in: past a burst of 50, 429 with Retry-After and a page, until the rate allows again', async () => {
    const s = await hammer(53, '/oauth/login', { headers: from('10.1.0.1') });
    assertBurst(s, 50, [200], 'page', '/oauth/login');
    assert.equal((await hammer(1, '/oauth/login', { headers: from('10.1.0.2') }))[0].status, 200, 'another address');
  });

  test('token endpoint: past a burst of 100, 429 with Retry-After and JSON', async () => {
    const init = { method: 'POST', headers: { ...from('10.2.0.1'), 'content-type': form }, body: 'grant_type=authorization_code&code=x' };
    assertBurst(await hammer(103, '/oauth/token', init), 100, [400, 401], 'json', '/oauth/token');
  });

  test('registration: past a burst of 5, 429 with Retry-After and JSON, and no more apps are created', async () => {
    const before = JSON.parse(stack.cli(['--json', 'app', 'list'])).length;
    const body = JSON.stringify({ client_name: 'Agent', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' });
    const s = await hammer(9, '/oauth/register', { method: 'POST', headers: { ...from('10.3.0.1'), 'content-type': 'application/json' }, body });
    assert.deepEqual(statuses(s), [201, 201, 201, 201, 201, 201, 429, 429, 429]);
    for (const r of s.slice(6)) assertLimited(r, 'json', '/oauth/register');
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'list'])).length, before + 6);
  });

  test('revocation: past a burst of 100, 429 with Retry-After and JSON; another address is served', async () => {
    const init = (addr) => ({ method: 'POST', headers: { ...from(addr), 'content-type': form, authorization: creds }, body: 'token=pat_nosuchtoken' });
    assertBurst(await hammer(103, '/oauth/revoke', init('10.4.0.1')), 100, [200], 'json', '/oauth/revoke');
    assert.equal((await hammer(1, '/oauth/revoke', init('10.4.0.2')))[0].status, 200, 'another address');
  });

  test('introspection: past a burst of 100, 429 with Retry-After and JSON; another address is served', async () => {
    const init = (addr) => ({ method: 'POST', headers: { ...from(addr), 'content-type': form, authorization: creds }, body: 'token=pat_nosuchtoken' });
    const s = await hammer(103, '/oauth/introspect', init('10.5.0.1'));
    assertBurst(s, 100, [200], 'json', '/oauth/introspect');
    assert.deepEqual(JSON.parse(s[0].text), { active: false });
    assert.equal((await hammer(1, '/oauth/introspect', init('10.5.0.2')))[0].status, 200, 'another address');
  });

  test('authorization request: a signed-in user past a burst of 200 consent pages gets 429 with Retry-After and a page', async () => {
    const s = new Session(stack.url, from('10.6.0.1'));
    await s.signIn('demo', stack.password);
    const q = new URLSearchParams({ response_type: 'code', client_id: stack.app.client_id, state: 'x' });
    const rs = await hammerSession(s, 203, 'GET', '/oauth/authorize?' + q);
    assert.match(rs[0].text, /name="action" value="approve"/, 'the consent page');
    assertBurst(rs, 200, [200], 'page', '/oauth/authorize');
    const other = await new Session(stack.url, from('10.6.0.2')).get('/oauth/authorize?' + q);
    assert.equal(other.status, 302, 'another address goes on to sign in');
  });

  test('consent decision: a signed-in user past a burst of 200 gets 429 with Retry-After and a page', async () => {
    const s = new Session(stack.url, from('10.7.0.1'));
    await s.signIn('demo', stack.password);
    const rs = await hammerSession(s, 203, 'POST', '/oauth/consent', { form: { action: 'approve' } });
    assertBurst(rs, 200, [400, 403], 'page', '/oauth/consent');
  });

  test('Postiz device code: past a burst of 50, 429 with Retry-After and JSON, and no more device requests', async () => {
    const init = (addr) => ({ method: 'POST', headers: { ...from(addr), 'content-type': 'application/json' }, body: '{}' });
    const before = devices();
    const rs = await hammer(53, '/device/code', init('10.8.0.1'));
    assertBurst(rs, 50, [200], 'json', '/device/code');
    assert.equal(devices(), before + 51, 'a limited call wrote a row');
    assert.equal((await hammer(1, '/device/code', init('10.8.0.2')))[0].status, 200, 'another address');
  });

  test('device authorization (RFC 8628): past a burst of 50, 429 with Retry-After and JSON, and no more device requests', async () => {
    const body = new URLSearchParams({ client_id: stack.cli_app.client_id }).toString();
    const before = devices();
    const rs = await hammer(53, '/oauth/device_authorization', { method: 'POST', headers: { ...from('10.9.0.1'), 'content-type': form }, body });
    assertBurst(rs, 50, [200], 'json', '/oauth/device_authorization');
    assert.equal(devices(), before + 51, 'a limited call wrote a row');
  });
});

describe('nginx.conf.example: its limits answer 429 with Retry-After', () => {
  /* The example as shipped, on plain HTTP on a loopback port, with nothing behind it: every
   * request that passes a limit is a 502 (no socket), every one over it the example's 429. */
  let dir, url, pid;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'postern-example-limits-'));
    const port = await freePort();
    const text = readFileSync(path.join(root, 'nginx.conf.example'), 'utf8')
      .replaceAll('/usr/local/share/postern/', `${root}/conf/`)
      .replaceAll('unix:/run/postern/', `unix:${dir}/`)
      .replace(/listen 443 ssl http2;/, `listen 127.0.0.1:${port};`)
      .replace(/^\s*ssl_\S+ .*$/gm, '');
    assert.match(text, new RegExp(`listen 127\\.0\\.0\\.1:${port};`));
    writeFileSync(path.join(dir, 'postern.conf'), text);
    writeFileSync(path.join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body; fastcgi_temp_path ${dir}/fastcgi; proxy_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/postern.conf;
}
`);
    const r = spawnSync('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
    assert.equal(r.status, 0, `nginx refused nginx.conf.example: ${r.stderr}`);
    pid = Number(readFileSync(path.join(dir, 'nginx.pid'), 'utf8'));
    url = `http://127.0.0.1:${port}`;
  });
  after(() => {
    if (pid) try { process.kill(pid); } catch { /* already gone */ }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /* Requests to path until the first 429 (at most limit, so a missing limit fails). */
  async function firstLimited(path_, init, limit) {
    for (let i = 0; i < limit; i++) {
      const r = await fetch(url + path_, { redirect: 'manual', ...init });
      const out = { status: r.status, headers: r.headers, text: await r.text() };
      if (r.status === 429) return { ...out, served: i };
      assert.equal(r.status, 502, `${path_}: ${r.status} before the limit`);
    }
    assert.fail(`${path_}: no 429 in ${limit} requests`);
  }
  const post = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' };
  const cases = [
    // path, request, body kind, Retry-After, the most requests the burst lets through
    ['/oauth/login', {}, 'page', '12', 11],
    ['/oauth/authorize', {}, 'page', '1', 60],
    ['/oauth/consent', post, 'page', '1', 60],
    ['/oauth/token', post, 'json', '1', 60],
    ['/oauth/revoke', post, 'json', '1', 30],
    ['/oauth/introspect', post, 'json', '1', 120],
    ['/device/code', post, 'json', '6', 11],
    ['/oauth/device_authorization', post, 'json', '6', 11],
    ['/oauth/register', post, 'json', '60', 6],
  ];
  for (const [p, init, kind, retry, most] of cases) {
    test(`${p}: 429 with Retry-After ${retry} and ${kind === 'json' ? 'JSON' : 'a page'}`, async () => {
      const r = await firstLimited(p, init, most + 100);
      assert.ok(r.served <= most, `${p}: ${r.served} requests passed`);
      assertLimited(r, kind, p, retry);
      assert.match(r.headers.get('strict-transport-security') ?? '', /max-age=/, `${p}: HSTS of the server level`);
    });
  }
});
