// register.test.mjs: RFC 7591 dynamic client registration (POST /oauth/register):
// off by default, public PKCE clients only, metadata errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { startStack } from '../lib/stack.mjs';

// ---------------------------------------------------------------- helpers

/* A browser-like session: a cookie jar over fetch, redirects not followed. */
class Session {
  constructor(base, headers = {}) { this.base = base; this.jar = new Map(); this.headers = headers; }
  async req(method, p, { form, multipart, json, headers = {} } = {}) {
    const h = { ...this.headers, ...headers };
    if (this.jar.size) h.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body;
    if (form) { body = new URLSearchParams(form).toString(); h['content-type'] = 'application/x-www-form-urlencoded'; }
    if (multipart) body = multipart;
    if (json !== undefined) { body = typeof json === 'string' ? json : JSON.stringify(json); h['content-type'] = 'application/json'; }
    const res = await fetch(this.base + p, { method, headers: h, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      const k = kv.slice(0, i), v = kv.slice(i + 1);
      if (v === '' || /Max-Age=0/i.test(c)) this.jar.delete(k); else this.jar.set(k, v);
    }
    res.text_ = await res.text();
    return res;
  }
  get(p, o) { return this.req('GET', p, o); }
  post(p, o) { return this.req('POST', p, o); }
  async csrf(p) {
    const r = await this.get(p);
    const m = r.text_.match(/name="csrf" value="([0-9a-f]+)"/);
    assert.ok(m, `no CSRF token on ${p} (${r.status})`);
    return m[1];
  }
  async signIn(user, password) {
    const csrf = await this.csrf('/oauth/login');
    const r = await this.post('/oauth/login', { form: { csrf, username: user, password, return_to: '/oauth/apps' } });
    assert.equal(r.status, 303, `sign-in of ${user} failed: ${r.status}`);
  }
}

function addUser(stack, name, { admin = false } = {}) {
  const pw = `pw-${name}-0123456789`;
  stack.cli(['user', 'add', name, ...(admin ? ['--admin'] : [])], pw + '\n');
  return pw;
}

/* A valid 4x4 red PNG. */
function png() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const t = Buffer.concat([Buffer.from(type), data]);
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const c = Buffer.alloc(4); c.writeUInt32BE(crc(t));
    return Buffer.concat([len, t, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4, 0); ihdr.writeUInt32BE(4, 4); ihdr[8] = 8; ihdr[9] = 2;
  const raw = Buffer.concat(Array.from({ length: 4 }, () => Buffer.from([0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/* The create/edit form as multipart/form-data. */
function appForm(csrf, f = {}) {
  const fd = new FormData();
  fd.append('csrf', csrf);
  fd.append('name', f.name ?? 'Test app');
  fd.append('description', f.description ?? '');
  if (f.picture) fd.append('picture', new Blob([f.picture.data], { type: f.picture.type ?? 'image/png' }), f.picture.name ?? 'p.png');
  fd.append('redirect_uris', f.redirect_uris ?? 'https://app.example/cb');
  for (const s of f.scopes ?? ['profile']) fd.append('scope', s);
  fd.append('type', f.type ?? 'confidential');
  if (f.trusted) fd.append('trusted', '1');
  if (f.remember ?? true) fd.append('remember_consent', '1');
  if (f.remove_picture) fd.append('remove_picture', '1');
  return fd;
}

/* Creates an app through the page; returns {client_id, client_secret, page}. */
async function createApp(s, f = {}) {
  const csrf = await s.csrf('/oauth/apps/new');
  const r = await s.post('/oauth/apps/new', { multipart: appForm(csrf, f) });
  assert.equal(r.status, 200, r.text_);
  const client_id = r.text_.match(/pca_[A-Za-z0-9]{32}/)[0];
  const sec = r.text_.match(/pcs_[A-Za-z0-9]{48}/);
  return { client_id, client_secret: sec ? sec[0] : null, page: r.text_ };
}

const b64url = (b) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/* The authorization code flow for a signed-in session: approves the consent page when
 * it shows; returns {status, location, code, consentShown}. */
async function authorize(s, client_id, { redirect_uri = 'https://app.example/cb', scope = 'profile', verifier } = {}) {
  const q = new URLSearchParams({ response_type: 'code', client_id, redirect_uri, scope, state: 'st8' });
  if (verifier) { q.set('code_challenge', b64url(createHash('sha256').update(verifier).digest())); q.set('code_challenge_method', 'S256'); }
  let r = await s.get('/oauth/authorize?' + q);
  let consentShown = false;
  if (r.status === 200 && /name="action" value="approve"/.test(r.text_)) {
    consentShown = true;
    const form = {};
    for (const m of r.text_.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const org = r.text_.match(/name="org" value="(\d+)"/);
    form.org = org[1];
    form.action = 'approve';
    r = await s.post('/oauth/consent', { form });
  }
  const location = r.headers.get('location');
  const code = location ? new URL(location).searchParams.get('code') : null;
  return { status: r.status, location, code, consentShown, text: r.text_ };
}

async function token(base, body, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = 'Basic ' + Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64');
  const r = await fetch(base + '/oauth/token', { method: 'POST', headers, body: new URLSearchParams(body).toString() });
  return { status: r.status, body: await r.json() };
}

async function check(base, t) {
  const r = await fetch(base + '/oauth/check', { headers: { authorization: `Bearer ${t}` } });
  return r.status;
}

/* A token for a confidential app through the whole flow. */
async function tokenFor(stack, s, app, opts = {}) {
  const a = await authorize(s, app.client_id, opts);
  assert.ok(a.code, `no code: ${a.status} ${a.location} ${a.text?.slice(0, 200)}`);
  const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: opts.redirect_uri ?? 'https://app.example/cb' },
    [app.client_id, app.client_secret]);
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return t.body;
}

function appsJson(stack) { return JSON.parse(stack.cli(['--json', 'app', 'list'])); }

// ---------------------------------------------------------------- tests

async function register(base, body, { contentType = 'application/json' } = {}) {
  const r = await fetch(base + '/oauth/register', {
    method: 'POST', headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* checked by the caller */ }
  return { status: r.status, body: json, text, headers: r.headers };
}

const metadata = {
  redirect_uris: ['https://mcp.example/callback', 'http://127.0.0.1:33418/cb'],
  client_name: 'MCP client',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: 'profile posts:read',
};

describe('registration off (the default)', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { SEED: '0' } }); });
  after(async () => { await stack?.stop(); });

  test('is refused with access_denied and creates nothing', async () => {
    const r = await register(stack.url, metadata);
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { error: 'access_denied', error_description: 'registration is disabled' });
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'list'])).length, 0);
  });
});

describe('registration on', () => {
  let stack, alice;
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'registration = on' } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
  });
  after(async () => { await stack?.stop(); });

  test('registers a public PKCE client and answers 201 with its metadata', async () => {
    const r = await register(stack.url, metadata);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const b = r.body;
    assert.match(b.client_id, /^pca_[A-Za-z0-9]{32}$/);
    assert.equal(typeof b.client_id_issued_at, 'number');
    assert.ok(Math.abs(b.client_id_issued_at - Date.now() / 1000) < 60);
    assert.equal(b.client_name, 'MCP client');
    assert.deepEqual(b.redirect_uris, metadata.redirect_uris);
    assert.deepEqual(b.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(b.response_types, ['code']);
    assert.equal(b.token_endpoint_auth_method, 'none');
    assert.equal(b.scope, 'profile posts:read');
    assert.equal(b.client_secret, undefined);
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', b.client_id]));
    assert.equal(shown.public, true);
    assert.equal(shown.require_pkce, true);
    assert.equal(shown.registered, true);
    assert.equal(shown.owner, '');
    assert.match(stack.cli(['app', 'list']), new RegExp(`${b.client_id}  MCP client  \\(registered\\)`));
  });

  test('the registered client runs the flow with PKCE and no secret; without PKCE it is refused', async () => {
    const { body: c } = await register(stack.url, metadata);
    const noPkce = await authorize(alice, c.client_id, { redirect_uri: 'https://mcp.example/callback' });
    assert.equal(noPkce.status, 302);
    assert.equal(new URL(noPkce.location).searchParams.get('error'), 'invalid_request');
    const verifier = 'v'.repeat(20) + 'erifier-0123456789-abcdefghijkl';
    const a = await authorize(alice, c.client_id, { redirect_uri: 'https://mcp.example/callback', verifier });
    assert.equal(a.consentShown, true, 'a registered client never skips consent');
    assert.ok(a.code);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: 'https://mcp.example/callback', client_id: c.client_id, code_verifier: verifier });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(await check(stack.url, t.body.access_token), 204);
    // it belongs to nobody: no user's apps page shows it
    assert.ok(!(await alice.get('/oauth/apps')).text_.includes(c.client_id));
    assert.equal((await alice.get(`/oauth/apps/${c.client_id}`)).status, 404);
  });

  test('defaults: a name, the authorization_code grant, every configured scope', async () => {
    const r = await register(stack.url, { redirect_uris: ['https://min.example/cb'] });
    assert.equal(r.status, 201, r.text);
    assert.equal(typeof r.body.client_name, 'string');
    assert.ok(r.body.client_name.length > 0);
    assert.deepEqual(r.body.grant_types, ['authorization_code']);
    assert.equal(r.body.token_endpoint_auth_method, 'none');
    assert.equal(r.body.scope, 'profile posts:read posts:write');
  });

  test('bad redirect URIs: 400 invalid_redirect_uri', async () => {
    for (const uris of [undefined, [], 'https://a.example/cb', [42], ['http://a.example/cb'], ['https://a.example/cb#frag'],
      ['javascript:alert(1)'], ['https://a.example/cb', 'not a uri'], Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`)]) {
      const body = { ...metadata };
      if (uris === undefined) delete body.redirect_uris; else body.redirect_uris = uris;
      const r = await register(stack.url, body);
      assert.equal(r.status, 400, JSON.stringify(uris));
      assert.equal(r.body.error, 'invalid_redirect_uri', JSON.stringify(uris));
      assert.ok(r.body.error_description);
    }
  });

  test('bad metadata: 400 invalid_client_metadata with a description', async () => {
    const n = JSON.parse(stack.cli(['--json', 'app', 'list'])).length;
    const cases = [
      [{ token_endpoint_auth_method: 'client_secret_basic' }, /none/],
      [{ token_endpoint_auth_method: 'client_secret_post' }, /none/],
      [{ grant_types: ['client_credentials'] }, /grant_types/],
      [{ grant_types: ['refresh_token'] }, /authorization_code/],
      [{ grant_types: ['authorization_code', 'implicit'] }, /grant_types/],
      [{ grant_types: 'authorization_code' }, /grant_types/],
      [{ response_types: ['token'] }, /response_types/],
      [{ scope: 'admin' }, /scope/],
      [{ scope: 7 }, /scope/],
      [{ client_name: 'x'.repeat(101) }, /client_name/],
      [{ client_name: 'tab\there' }, /client_name/],
      [{ client_name: ['x'] }, /client_name/],
    ];
    for (const [patch, msg] of cases) {
      const r = await register(stack.url, { ...metadata, ...patch });
      assert.equal(r.status, 400, JSON.stringify(patch));
      assert.equal(r.body.error, 'invalid_client_metadata', JSON.stringify(patch));
      assert.match(r.body.error_description, msg);
    }
    for (const raw of ['not json', '[1,2]', '"x"', '{"redirect_uris":["https://a.example/cb"]', '{"client_name":"a\\u0000b","redirect_uris":["https://a.example/cb"]}']) {
      const r = await register(stack.url, raw);
      assert.equal(r.status, 400, raw);
      assert.equal(r.body.error, 'invalid_client_metadata', raw);
    }
    const form = await register(stack.url, 'redirect_uris=https://a.example/cb', { contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 400);
    assert.equal(form.body.error, 'invalid_client_metadata');
    const dup = await register(stack.url, '{"redirect_uris":["https://a.example/cb"],"client_name":"a","client_name":"b"}');
    assert.equal(dup.status, 400);
    assert.match(dup.body.error_description, /repeated/);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'list'])).length, n, 'nothing was created');
  });

  test('a body over 64 KiB is refused', async () => {
    const r = await register(stack.url, { ...metadata, client_uri: 'https://a.example/' + 'x'.repeat(70 * 1024) });
    assert.ok(r.status === 413 || r.status === 400, String(r.status));
    assert.equal(r.body.error, 'invalid_client_metadata');
  });

  test('only POST', async () => {
    const r = await fetch(stack.url + '/oauth/register');
    assert.equal(r.status, 405);
    assert.equal((await r.json()).error, 'invalid_request');
  });
});
