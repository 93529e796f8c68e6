// approved.test.mjs: the user's approved apps (/oauth/approved): list, revoke with a
// confirmation, remembered consent; and RFC 7009 token revocation (POST /oauth/revoke).
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

async function revoke(base, body, basic) {
  const headers = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = 'Basic ' + Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64');
  const r = await fetch(base + '/oauth/revoke', { method: 'POST', headers, body: new URLSearchParams(body).toString() });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

function grantIdOf(html, appName) {
  const i = html.indexOf(appName);
  const m = html.slice(i).match(/\/oauth\/approved\/(\d+)\/revoke/);
  return m[1];
}

describe('approved apps', () => {
  let stack, alice, bob, dev, app;
  before(async () => {
    stack = await startStack({ env: { SEED: '0' } });
    const pa = addUser(stack, 'alice'), pb = addUser(stack, 'bob'), pd = addUser(stack, 'dev');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
    bob = new Session(stack.url); await bob.signIn('bob', pb);
    dev = new Session(stack.url); await dev.signIn('dev', pd);
    app = await createApp(dev, { name: 'Scheduler <i>"quoted"</i>', picture: { data: png() }, scopes: ['profile', 'posts:read'] });
  });
  after(async () => { await stack?.stop(); });

  test('a signed-out visitor is sent to the login page and back', async () => {
    const r = await new Session(stack.url).get('/oauth/approved');
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get('location'), stack.url);
    assert.equal(loc.pathname, '/oauth/login');
    assert.equal(loc.searchParams.get('return_to'), '/oauth/approved');
  });

  test('an empty list says so', async () => {
    const r = await bob.get('/oauth/approved');
    assert.equal(r.status, 200);
    assert.match(r.text_, /not approved any apps/);
  });

  test('the list shows name, picture, organization, scopes, approval and last use', async () => {
    const t = await tokenFor(stack, alice, app, { scope: 'profile posts:read' });
    assert.equal(await check(stack.url, t.access_token), 204);
    const r = await alice.get('/oauth/approved');
    assert.equal(r.status, 200);
    assert.ok(r.text_.includes('Scheduler &lt;i&gt;&quot;quoted&quot;&lt;/i&gt;'));
    assert.ok(!r.text_.includes('<i>"quoted"'));
    assert.ok(r.text_.includes(`/oauth/apps/${app.client_id}/picture`));
    assert.match(r.text_, /<dt>Organization<\/dt><dd>alice<\/dd>/);
    assert.match(r.text_, /<code>profile<\/code>/);
    assert.match(r.text_, /<code>posts:read<\/code> Read your posts/);
    assert.match(r.text_, /<dt>Approved<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/dd>/);
    assert.match(r.text_, /<dt>Last used<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/dd>/);
    assert.match(r.text_, /name="csrf" value="[0-9a-f]{32}"/);
    assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    // bob approved nothing and sees nothing of alice's
    assert.ok(!(await bob.get('/oauth/approved')).text_.includes('Scheduler'));
  });

  test('consent is remembered, and revoking forgets it and kills every token at once', async () => {
    const first = await authorize(alice, app.client_id, { scope: 'profile' });
    assert.ok(first.code);
    const t1 = await token(stack.url, { grant_type: 'authorization_code', code: first.code, redirect_uri: 'https://app.example/cb' }, [app.client_id, app.client_secret]);
    // the same scopes again: no consent page, straight back with a code
    const again = await authorize(alice, app.client_id, { scope: 'profile' });
    assert.equal(again.consentShown, false);
    assert.equal(again.status, 302);
    assert.ok(again.code);
    const t2 = await token(stack.url, { grant_type: 'authorization_code', code: again.code, redirect_uri: 'https://app.example/cb' }, [app.client_id, app.client_secret]);
    assert.equal(await check(stack.url, t1.body.access_token), 204);
    assert.equal(await check(stack.url, t2.body.access_token), 204);

    const list = await alice.get('/oauth/approved');
    const id = grantIdOf(list.text_, 'Scheduler');
    const csrf = list.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
    // the button asks first
    const ask = await alice.post(`/oauth/approved/${id}/revoke`, { form: { csrf } });
    assert.equal(ask.status, 200);
    assert.match(ask.text_, /Revoke access for Scheduler &lt;i&gt;/);
    assert.match(ask.text_, /name="confirm" value="yes"/);
    assert.equal(await check(stack.url, t1.body.access_token), 204, 'asking revokes nothing');
    const done = await alice.post(`/oauth/approved/${id}/revoke`, { form: { csrf, confirm: 'yes' } });
    assert.equal(done.status, 303);
    assert.equal(new URL(done.headers.get('location'), stack.url).pathname, '/oauth/approved');
    // the very next call with any of the grant's tokens fails
    assert.equal(await check(stack.url, t1.body.access_token), 401);
    assert.equal(await check(stack.url, t2.body.access_token), 401);
    const after_ = await alice.get('/oauth/approved?done=revoked');
    assert.match(after_.text_, /Access revoked/);
    assert.ok(!after_.text_.includes('Scheduler'));
    // and the consent page is back
    const fresh = await alice.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: 'https://app.example/cb', scope: 'profile' }));
    assert.equal(fresh.status, 200);
    assert.match(fresh.text_, /value="approve"/);
  });

  test('an app that does not remember consent asks every time', async () => {
    const forgetful = await createApp(dev, { name: 'Forgetful', remember: false });
    const a = await authorize(alice, forgetful.client_id);
    assert.equal(a.consentShown, true);
    const b = await authorize(alice, forgetful.client_id);
    assert.equal(b.consentShown, true);
  });

  test('revoking needs the CSRF token', async () => {
    const t = await tokenFor(stack, alice, app);
    const list = await alice.get('/oauth/approved');
    const id = grantIdOf(list.text_, 'Scheduler');
    const r = await alice.post(`/oauth/approved/${id}/revoke`, { form: { csrf: 'a'.repeat(32), confirm: 'yes' } });
    assert.equal(r.status, 403);
    const r2 = await alice.post(`/oauth/approved/${id}/revoke`, { form: { confirm: 'yes' } });
    assert.equal(r2.status, 403);
    assert.equal(await check(stack.url, t.access_token), 204);
  });

  test("another user's grant is a 404 and stays", async () => {
    const t = await tokenFor(stack, alice, app);
    const id = grantIdOf((await alice.get('/oauth/approved')).text_, 'Scheduler');
    const csrf = await bob.csrf('/oauth/apps/new');
    for (const [m, opts] of [['GET', {}], ['POST', { form: { csrf } }], ['POST', { form: { csrf, confirm: 'yes' } }]]) {
      const r = await bob.req(m, `/oauth/approved/${id}/revoke`, opts);
      assert.equal(r.status, 404, m);
      assert.ok(!r.text_.includes('Scheduler'));
    }
    assert.equal(await check(stack.url, t.access_token), 204);
    assert.equal((await alice.get('/oauth/approved/999999/revoke')).status, 404);
    assert.equal((await alice.get('/oauth/approved/abc/revoke')).status, 404);
    assert.equal((await alice.get('/oauth/approved/1/other')).status, 404);
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  let stack, alice, app, other;
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'access_token_ttl = 3600' } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
    app = await createApp(alice, { name: 'Revoker' });
    other = await createApp(alice, { name: 'Other client' });
  });
  after(async () => { await stack?.stop(); });

  test('an access token, client authenticated with Basic, no hint', async () => {
    const t = await tokenFor(stack, alice, app);
    assert.ok(t.refresh_token, 'expiry is on: a refresh token too');
    const r = await revoke(stack.url, { token: t.access_token }, [app.client_id, app.client_secret]);
    assert.equal(r.status, 200);
    assert.equal(await check(stack.url, t.access_token), 401);
  });

  test('an access token, client authenticated in the body, with the hint', async () => {
    const t = await tokenFor(stack, alice, app);
    const r = await revoke(stack.url, { token: t.access_token, token_type_hint: 'access_token', client_id: app.client_id, client_secret: app.client_secret });
    assert.equal(r.status, 200);
    assert.equal(await check(stack.url, t.access_token), 401);
  });

  test('a refresh token revokes its grant: the refresh and the access token both stop', async () => {
    for (const hint of [undefined, 'refresh_token', 'access_token']) {
      const t = await tokenFor(stack, alice, app);
      const body = { token: t.refresh_token, ...(hint ? { token_type_hint: hint } : {}) };
      const r = await revoke(stack.url, body, [app.client_id, app.client_secret]);
      assert.equal(r.status, 200, String(hint));
      const again = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, [app.client_id, app.client_secret]);
      assert.equal(again.status, 400, String(hint));
      assert.equal(again.body.error, 'invalid_grant');
      assert.equal(await check(stack.url, t.access_token), 401, String(hint));
    }
  });

  test('unknown, malformed and already revoked tokens answer 200', async () => {
    const t = await tokenFor(stack, alice, app);
    const auth = [app.client_id, app.client_secret];
    assert.equal((await revoke(stack.url, { token: t.access_token }, auth)).status, 200);
    assert.equal((await revoke(stack.url, { token: t.access_token }, auth)).status, 200, 'already revoked');
    assert.equal((await revoke(stack.url, { token: 'pat_' + 'A'.repeat(49) }, auth)).status, 200, 'bad checksum');
    assert.equal((await revoke(stack.url, { token: 'nonsense' }, auth)).status, 200, 'malformed');
    assert.equal((await revoke(stack.url, { token: 'nonsense', token_type_hint: 'unknown_type' }, auth)).status, 200);
  });

  test("a client cannot revoke another client's token: it stays valid", async () => {
    const t = await tokenFor(stack, alice, app);
    const r = await revoke(stack.url, { token: t.access_token }, [other.client_id, other.client_secret]);
    assert.notEqual(r.status, 500);
    assert.equal(await check(stack.url, t.access_token), 204);
    const r2 = await revoke(stack.url, { token: t.refresh_token }, [other.client_id, other.client_secret]);
    assert.notEqual(r2.status, 500);
    assert.equal(await check(stack.url, t.access_token), 204);
  });

  test('client authentication is required and checked', async () => {
    const t = await tokenFor(stack, alice, app);
    const none = await revoke(stack.url, { token: t.access_token });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');
    const wrong = await revoke(stack.url, { token: t.access_token }, [app.client_id, 'pcs_' + 'x'.repeat(48)]);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate'), /^Basic/);
    assert.equal(await check(stack.url, t.access_token), 204);
  });
});
