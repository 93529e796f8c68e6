// protect.test.mjs: protecting an existing site with nginx (SPEC "Protecting an existing
// site"): the auth_request check in front of a real upstream, RFC 7662 introspection,
// userinfo, RFC 8414 / RFC 9728 metadata, RFC 8707 resource, trusted sign-in through
// nginx auth_basic, and a sub-path deployment.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize as codeFlow, consentForm, pkce, basic, unescapeHtml } from '../lib/client.mjs';
import { echoUpstream, protectedLocations, protectedSite } from '../lib/site.mjs';

// ---------------------------------------------------------------- helpers

/* The consent form's fields, as the browser would post them after "Authorize". */
function approval(html) {
  const form = consentForm(html);
  assert.ok(form.org, 'no organization on the consent page');
  return { ...form, action: 'approve' };
}

/* The code flow's browser part (client.mjs's authorize, approving) for a session nginx
 * or a cookie signs in: returns {code, location, consent (the consent page), answer
 * (the final response)}. With `remembered`, an approval the user gave before may skip
 * the consent page. */
async function authorize(s, params, { remembered = false } = {}) {
  const a = await codeFlow(s, { state: 'st8', ...params });
  if (remembered && !a.consentShown && a.page.status === 302) // a grant the user already gave skips the page
    return { code: a.code, location: a.location, consent: null, answer: a.res };
  assert.ok(a.consentShown, `no consent page: ${a.page.status} ${a.page.headers.get('location')} ${a.page.text_.slice(0, 300)}`);
  assert.ok(consentForm(a.page.text_).org, 'no organization on the consent page');
  return { code: a.code, location: a.location, consent: a.page, answer: a.res };
}

async function postForm(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(body).toString() });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* the caller checks */ }
  return { status: r.status, body: json, text, headers: r.headers };
}

/* CRC32 as lib/crypto.c computes it, to forge tokens whose checksum is right. */
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function wellFormedToken(prefix = 'pat_') {
  let t = prefix;
  for (let i = 0; i < 43; i++) t += B62[randomInt(62)];
  let c = 0xffffffff;
  for (const x of Buffer.from(t)) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  c = (c ^ 0xffffffff) >>> 0;
  let sum = '';
  for (let i = 0; i < 6; i++) { sum = B62[c % 62] + sum; c = Math.floor(c / 62); }
  return t + sum;
}
/* The same token with one character of its random part changed: the checksum fails. */
function mistyped(t) {
  const i = 10;
  return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
}

function issue(stack, scope = 'profile posts:read', user = 'demo') {
  return JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', user, '--app', stack.app.client_id, '--scope', scope])).access_token;
}
/* Something that changes whenever the stack's database is written: the modification
 * times of the SQLite file and its WAL, or on PostgreSQL every row's version (ctid and
 * xmin, which an UPDATE changes even when it writes the same values) in every table. */
function writeMark(stack) {
  if (stack.backend === 'pg') {
    const tables = stack.sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1").split('\n');
    assert.ok(tables.includes('tokens'), tables.join(' '));
    return stack.sql(tables.map((t) => `SELECT '${t}', ctid::text, xmin::text FROM ${t}`).join(' UNION ALL ') + ' ORDER BY 1, 2');
  }
  return [stack.database, stack.database + '-wal'].map((f) => statSync(f, { bigint: true }).mtimeNs);
}

function tokenList(stack) { return JSON.parse(stack.cli(['--json', 'token', 'list'])); }
/* The id of the token the callback issues (the one new in `token list`). */
function issueWithId(stack, scope) {
  const before = new Set(tokenList(stack).map((t) => t.id));
  const t = issue(stack, scope);
  const row = tokenList(stack).filter((x) => !before.has(x.id));
  assert.equal(row.length, 1);
  return { token: t, row: row[0] };
}

async function call(stack, p, authorization, headers = {}) {
  const h = { ...headers };
  if (authorization !== undefined) h.authorization = authorization;
  const r = await fetch(stack.url.replace(/\/auth$/, '') + p, { headers: h });
  const text = await r.text();
  return { status: r.status, text, headers: r.headers, json: r.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : null };
}

/* A refused call: 401 (or 403) with a Bearer challenge, and the upstream never saw it. */
async function assertRefused(stack, up, p, authorization, { status = 401, error } = {}) {
  const before = up.hits.length;
  const r = await call(stack, p, authorization);
  assert.equal(r.status, status, r.text);
  const www = r.headers.get('www-authenticate');
  assert.ok(www, 'no WWW-Authenticate on the refusal');
  assert.match(www, /^Bearer /);
  if (error) assert.match(www, new RegExp(`error="${error}"`));
  else if (error === undefined) assert.doesNotMatch(www, /error=/); // RFC 6750 §3.1: no error code without credentials
  assert.equal(up.hits.length, before, 'the refused request reached the upstream');
  return r;
}

// ---------------------------------------------------------------- the protected site

describe('a protected location behind auth_request', () => {
  let site, stack, up, port, mcp;
  before(async () => { site = await protectedSite(); ({ stack, up, port, mcp } = site); });
  after(async () => { await site?.stop(); });

  test('a live token reaches the upstream with the caller, organization, scope and client', async () => {
    const t = issue(stack, 'profile posts:read');
    const r = await call(stack, '/api/posts?x=1', `Bearer ${t}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.url, '/api/posts?x=1');
    const h = r.json.headers;
    assert.equal(h['x-oauth-user'], 'demo');
    assert.equal(h['x-oauth-organization'], '1');
    assert.equal(h['x-oauth-scope'], 'profile posts:read');
    assert.equal(h['x-oauth-client'], stack.app.client_id);
    assert.equal(h.authorization, undefined, 'the token went on to the upstream');
  });

  test('headers a caller sends itself cannot impersonate another user', async () => {
    const t = issue(stack, 'profile');
    const r = await call(stack, '/api/me', `Bearer ${t}`, { 'x-oauth-user': 'admin', 'x-oauth-scope': 'posts:write' });
    assert.equal(r.status, 200);
    assert.equal(r.json.headers['x-oauth-user'], 'demo');
    assert.equal(r.json.headers['x-oauth-scope'], 'profile');
  });

  test('the raw Authorization: <token> of Postiz clients works too', async () => {
    const t = issue(stack, 'profile');
    const r = await call(stack, '/api/raw', t);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.headers['x-oauth-user'], 'demo');
    const lower = await call(stack, '/api/raw', `bearer ${t}`);
    assert.equal(lower.status, 200, 'the Bearer scheme is case-insensitive (RFC 7235)');
  });

  test('no token: 401 with a bare Bearer challenge, never upstream', async () => {
    const r = await assertRefused(stack, up, '/api/posts', undefined);
    assert.match(r.headers.get('www-authenticate'), /^Bearer realm="postern"$/);
    assert.deepEqual(r.json, { error: 'invalid_token' });
    // the scheme without a token (nginx trims the trailing space): refused all the same
    await assertRefused(stack, up, '/api/posts', 'Bearer ', { error: null });
  });

  test('a malformed token (checksum fails) gets 401 invalid_token, never upstream', async () => {
    const t = issue(stack, 'profile');
    await assertRefused(stack, up, '/api/posts', `Bearer ${mistyped(t)}`, { error: 'invalid_token' });
    await assertRefused(stack, up, '/api/posts', 'Bearer not-a-token', { error: 'invalid_token' });
    await assertRefused(stack, up, '/api/posts', `Bearer ${t}x`, { error: 'invalid_token' });
    await assertRefused(stack, up, '/api/posts', `Basic ${Buffer.from('demo:pw').toString('base64')}`, { error: 'invalid_token' });
  });

  test('an unknown token with a valid checksum gets 401, never upstream', async () => {
    await assertRefused(stack, up, '/api/posts', `Bearer ${wellFormedToken()}`, { error: 'invalid_token' });
    // a refresh token or any other kind is no access token
    await assertRefused(stack, up, '/api/posts', `Bearer ${wellFormedToken('prt_')}`, { error: 'invalid_token' });
    await assertRefused(stack, up, '/api/posts', `Bearer ${wellFormedToken('pac_')}`, { error: 'invalid_token' });
  });

  test('a token revoked with the admin command gets 401 at once, never upstream', async () => {
    const { token: t, row } = issueWithId(stack, 'profile');
    assert.equal((await call(stack, '/api/posts', `Bearer ${t}`)).status, 200);
    stack.cli(['token', 'revoke', String(row.id)]);
    await assertRefused(stack, up, '/api/posts', `Bearer ${t}`, { error: 'invalid_token' });
  });

  test('a location that asks for a scope: 403 insufficient_scope without it, through with it', async () => {
    const weak = issue(stack, 'profile posts:read');
    const r = await assertRefused(stack, up, '/write/posts', `Bearer ${weak}`, { status: 403, error: 'insufficient_scope' });
    assert.match(r.headers.get('www-authenticate'), /scope="posts:write"/);
    assert.deepEqual(r.json, { error: 'insufficient_scope' });
    // a bad token there is still a 401, not a 403
    await assertRefused(stack, up, '/write/posts', `Bearer ${wellFormedToken()}`, { error: 'invalid_token' });
    const strong = issue(stack, 'profile posts:write');
    const ok = await call(stack, '/write/posts', `Bearer ${strong}`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.headers['x-oauth-scope'], 'profile posts:write');
  });

  test('the check records last use, and does not write on every call', async () => {
    const { token: t, row } = issueWithId(stack, 'profile');
    assert.equal(row.last_used, 0, 'a fresh token has no last use');
    const t0 = Math.floor(Date.now() / 1000);
    assert.equal((await call(stack, '/api/one', `Bearer ${t}`)).status, 200);
    const used = tokenList(stack).find((x) => x.id === row.id).last_used;
    assert.ok(used >= t0 - 1 && used <= t0 + 5, `last_used ${used}, now ${t0}`);
    const before = writeMark(stack);
    for (let i = 0; i < 20; i++) assert.equal((await call(stack, '/api/again', `Bearer ${t}`)).status, 200);
    assert.deepEqual(writeMark(stack), before, 'twenty checks within a minute wrote to the database');
    assert.equal(tokenList(stack).find((x) => x.id === row.id).last_used, used);
  });

  test('the check itself answers 204 with the identity headers, 401 and 403 as nginx expects', async () => {
    const t = issue(stack, 'profile');
    const r = await call(stack, '/oauth/check', `Bearer ${t}`);
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('x-oauth-user'), 'demo');
    assert.equal(r.headers.get('x-oauth-client'), stack.app.client_id);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal((await call(stack, '/oauth/check?scope=posts:write', `Bearer ${t}`)).status, 403);
    assert.equal((await call(stack, '/oauth/check?scope=profile', `Bearer ${t}`)).status, 204);
    assert.equal((await call(stack, '/oauth/check', undefined)).status, 401);
  });

  // ---------------------------------------------------------------- RFC 9728

  test('an MCP location: the 401 names the protected-resource metadata (RFC 9728 §5.1)', async () => {
    const before = up.hits.length;
    const r = await call(stack, '/mcp', undefined);
    assert.equal(r.status, 401);
    const www = r.headers.get('www-authenticate');
    assert.match(www, /^Bearer /);
    const m = www.match(/resource_metadata="([^"]+)"/);
    assert.ok(m, www);
    assert.equal(m[1], `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
    const bad = await call(stack, '/mcp', `Bearer ${wellFormedToken()}`);
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /error="invalid_token".*resource_metadata="/);
    assert.equal(up.hits.length, before);
    const ok = await call(stack, '/mcp', `Bearer ${issue(stack, 'profile')}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.json.headers['x-oauth-user'], 'demo');
  });

  test('an MCP location that needs a scope: the 403 names the missing scope and the metadata, so an agent can step up', async () => {
    const before = up.hits.length;
    const weak = issue(stack, 'profile posts:read');
    const r = await call(stack, '/mcp-write', `Bearer ${weak}`);
    assert.equal(r.status, 403, r.text);
    const www = r.headers.get('www-authenticate');
    assert.match(www, /^Bearer realm="postern", error="insufficient_scope", error_description="[^"]+", scope="posts:write", resource_metadata="([^"]+)"$/);
    assert.equal(www.match(/resource_metadata="([^"]+)"/)[1], `http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(up.hits.length, before, 'the refused request reached the upstream');
    // without a token there: 401 with the metadata and no error; with a bad one 401 invalid_token
    const none = await call(stack, '/mcp-write', undefined);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /^Bearer realm="postern", scope="posts:write", resource_metadata="/);
    const bad = await call(stack, '/mcp-write', `Bearer ${wellFormedToken()}`);
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /error="invalid_token", error_description="[^"]+", scope="posts:write", resource_metadata="/);
    const strong = issue(stack, 'profile posts:write');
    const ok = await call(stack, '/mcp-write', `Bearer ${strong}`);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.headers['x-oauth-scope'], 'profile posts:write');
  });

  test('the protected-resource metadata document (RFC 9728 §3)', async () => {
    const r = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const m = await r.json();
    assert.equal(m.resource, mcp);
    assert.deepEqual(m.authorization_servers, [stack.url]);
    assert.deepEqual(m.bearer_methods_supported, ['header']);
    assert.deepEqual(m.scopes_supported, ['profile', 'posts:read', 'posts:write', 'openid', 'email']);
    const none = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/other`);
    assert.equal(none.status, 404);
  });

  // ---------------------------------------------------------------- RFC 8707

  test('resource (RFC 8707) is accepted at authorize and token and recorded on the token', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const redirect_uri = stack.app.redirect_uris[0];
    const a = await authorize(s, { client_id: stack.app.client_id, redirect_uri, scope: 'profile', resource: mcp }, { remembered: true });
    assert.ok(a.code, a.location);
    const wrong = await postForm(stack.url + '/oauth/token', { grant_type: 'authorization_code', code: a.code, redirect_uri, resource: 'http://127.0.0.1:1/other' },
      { authorization: basic(stack.app.client_id, stack.app.client_secret) });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_target');
    const b = await authorize(s, { client_id: stack.app.client_id, redirect_uri, scope: 'profile', resource: mcp }, { remembered: true });
    const t = await postForm(stack.url + '/oauth/token', { grant_type: 'authorization_code', code: b.code, redirect_uri, resource: mcp },
      { authorization: basic(stack.app.client_id, stack.app.client_secret) });
    assert.equal(t.status, 200, t.text);
    const i = await postForm(stack.url + '/oauth/introspect', { token: t.body.access_token }, { authorization: basic(stack.app.client_id, stack.app.client_secret) });
    assert.equal(i.body.active, true);
    assert.equal(i.body.aud, mcp);
    // a resource this server does not protect goes back as invalid_target
    const q = new URLSearchParams({ response_type: 'code', client_id: stack.app.client_id, redirect_uri, scope: 'profile', state: 's', resource: 'https://elsewhere.example/api' });
    const r = await s.get('/oauth/authorize?' + q);
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get('location'));
    assert.equal(loc.searchParams.get('error'), 'invalid_target');
    assert.equal(loc.searchParams.get('state'), 's');
  });

  // ---------------------------------------------------------------- RFC 7662

  test('introspection needs client authentication: 401 invalid_client without it', async () => {
    const t = issue(stack, 'profile');
    const none = await postForm(stack.url + '/oauth/introspect', { token: t });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');
    const wrong = await postForm(stack.url + '/oauth/introspect', { token: t }, { authorization: basic(stack.app.client_id, 'pcs_wrong') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate'), /^Basic /);
    const pub = await postForm(stack.url + '/oauth/introspect', { token: t, client_id: stack.cli_app.client_id });
    assert.equal(pub.status, 401, 'a public client cannot introspect');
    const get = await fetch(stack.url + '/oauth/introspect');
    assert.equal(get.status, 405);
  });

  test('introspection of a live token: active, scope, client_id, username, sub, iat, token_type', async () => {
    const t = issue(stack, 'profile posts:read');
    const t0 = Math.floor(Date.now() / 1000);
    const users = JSON.parse(stack.cli(['--json', 'user', 'list']));
    const demo = users.find((u) => u.name === 'demo');
    for (const auth of ['basic', 'post']) {
      const i = auth === 'basic'
        ? await postForm(stack.url + '/oauth/introspect', { token: t, token_type_hint: 'access_token' }, { authorization: basic(stack.app.client_id, stack.app.client_secret) })
        : await postForm(stack.url + '/oauth/introspect', { token: t, client_id: stack.app.client_id, client_secret: stack.app.client_secret });
      assert.equal(i.status, 200, i.text);
      assert.equal(i.headers.get('cache-control'), 'no-store');
      const b = i.body;
      assert.equal(b.active, true);
      assert.equal(b.scope, 'profile posts:read');
      assert.equal(b.client_id, stack.app.client_id);
      assert.equal(b.username, 'demo');
      assert.equal(b.sub, String(demo.id));
      assert.equal(b.token_type, 'Bearer');
      assert.equal(b.iss, stack.url);
      assert.ok(Number.isInteger(b.iat) && Math.abs(b.iat - t0) <= 5, `iat ${b.iat}`);
      assert.equal(b.exp, undefined, 'tokens do not expire unless access_token_ttl is set');
    }
  });

  test('introspection answers {"active":false} for unknown, malformed and revoked tokens', async () => {
    const auth = { authorization: basic(stack.app.client_id, stack.app.client_secret) };
    const { token: t, row } = issueWithId(stack, 'profile');
    stack.cli(['token', 'revoke', String(row.id)]);
    for (const token of [t, wellFormedToken(), mistyped(issue(stack, 'profile')), 'garbage', wellFormedToken('prt_')]) {
      const i = await postForm(stack.url + '/oauth/introspect', { token }, auth);
      assert.equal(i.status, 200);
      assert.deepEqual(i.body, { active: false }, token);
    }
    const missing = await postForm(stack.url + '/oauth/introspect', {}, auth);
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
  });

  // ---------------------------------------------------------------- userinfo

  test('userinfo: sub, name and organization of the token; 401 without one', async () => {
    const t = issue(stack, 'profile');
    const demo = JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'demo');
    const r = await call(stack, '/oauth/userinfo', `Bearer ${t}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.sub, String(demo.id));
    assert.equal(r.json.name, 'demo');
    assert.equal(r.json.organization, '1');
    const none = await call(stack, '/oauth/userinfo', undefined);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate'), /^Bearer /);
    const bad = await call(stack, '/oauth/userinfo', `Bearer ${wellFormedToken()}`);
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate'), /error="invalid_token"/);
  });

  // ---------------------------------------------------------------- RFC 8414

  test('the authorization server metadata (RFC 8414), field by field', async () => {
    const r = await fetch(stack.url + '/.well-known/oauth-authorization-server');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const m = await r.json();
    const u = stack.url;
    assert.equal(m.issuer, u);
    assert.equal(m.authorization_endpoint, `${u}/oauth/authorize`);
    assert.equal(m.token_endpoint, `${u}/oauth/token`);
    assert.equal(m.revocation_endpoint, `${u}/oauth/revoke`);
    assert.equal(m.introspection_endpoint, `${u}/oauth/introspect`);
    assert.equal(m.userinfo_endpoint, `${u}/oauth/userinfo`);
    assert.equal(m.device_authorization_endpoint, `${u}/oauth/device_authorization`);
    assert.equal(m.registration_endpoint, undefined, 'registration is off by default');
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.grant_types_supported.slice().sort(),
      ['authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(m.token_endpoint_auth_methods_supported.slice().sort(), ['client_secret_basic', 'client_secret_post', 'none']);
    assert.ok(m.revocation_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.deepEqual(m.introspection_endpoint_auth_methods_supported.slice().sort(), ['client_secret_basic', 'client_secret_post']);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(m.scopes_supported, ['profile', 'posts:read', 'posts:write', 'openid', 'email']);
    // every endpoint it names answers (not 404) at that URL
    for (const k of Object.keys(m).filter((k) => k.endsWith('_endpoint'))) {
      const e = await fetch(m[k], { method: 'POST', redirect: 'manual' });
      assert.notEqual(e.status, 404, `${k} ${m[k]}`);
    }
    // the issuer answers with the iss parameter (RFC 9207)
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const a = await authorize(s, { client_id: stack.app.client_id, scope: 'profile' }, { remembered: true });
    assert.equal(new URL(a.location).searchParams.get('iss'), m.issuer);
  });
});

// ---------------------------------------------------------------- expiry and failure

describe('expired tokens and a database that cannot be read', () => {
  let stack, up;
  before(async () => {
    up = await echoUpstream();
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3', EXTRA_NGINX: protectedLocations(up.port) } });
  });
  after(async () => { await stack?.stop(); await up?.close(); });

  test('an expired token gets 401, never upstream; introspection shows exp, then active:false', async () => {
    const auth = { authorization: basic(stack.app.client_id, stack.app.client_secret) };
    const t = issue(stack, 'profile');
    const i = await postForm(stack.url + '/oauth/introspect', { token: t }, auth);
    assert.equal(i.body.active, true);
    assert.equal(i.body.exp - i.body.iat, 3);
    assert.equal((await call(stack, '/api/x', `Bearer ${t}`)).status, 200);
    // the token dies when its clock second comes; wait for it (bounded). The server reads
    // time(), a coarse clock that can trail Date.now() by a tick: give it 200 ms more
    while (Date.now() / 1000 < i.body.exp + 0.2) await new Promise((r) => setTimeout(r, 100));
    await assertRefused(stack, up, '/api/x', `Bearer ${t}`, { error: 'invalid_token' });
    const gone = await postForm(stack.url + '/oauth/introspect', { token: t }, auth);
    assert.deepEqual(gone.body, { active: false });
    assert.equal((await call(stack, '/oauth/userinfo', `Bearer ${t}`)).status, 401);
  });

  test('the check fails closed (500, never 204) when the database cannot be read', async () => {
    const t = issue(stack, 'profile');
    assert.equal((await call(stack, '/api/x', `Bearer ${t}`)).status, 200);
    // The servers hold the database open, and as root a chmod would not stop them, so
    // take away what the check reads: the tokens table, from another connection.
    stack.sql('ALTER TABLE tokens RENAME TO tokens_away');
    try {
      const before = up.hits.length;
      const r = await call(stack, '/api/x', `Bearer ${t}`);
      assert.equal(r.status, 500);
      const direct = await call(stack, '/oauth/check', `Bearer ${t}`);
      assert.equal(direct.status, 500);
      assert.equal(direct.headers.get('x-oauth-user'), null);
      assert.equal(up.hits.length, before, 'a failed check let the request through');
      // the storage layer logs the database's reason, the check that the lookup failed
      assert.match(stack.log('introspect.log'), stack.backend === 'pg'
        ? /relation "tokens" does not exist[^\n]*\n[^\n]*token lookup failed/
        : /sql: no such table: tokens[^\n]*\n[^\n]*token lookup failed/);
      // a malformed token is refused from its checksum alone: no database read
      assert.equal((await call(stack, '/oauth/check', `Bearer ${mistyped(t)}`)).status, 401);
      // the API endpoints say the client may retry (RFC 9110: 503 + Retry-After)
      const i = await postForm(stack.url + '/oauth/introspect', { token: t }, { authorization: basic(stack.app.client_id, stack.app.client_secret) });
      assert.equal(i.status, 503);
      assert.equal(i.headers.get('retry-after'), '1');
      assert.equal(i.body.error, 'temporarily_unavailable');
      assert.equal(i.body.active, undefined);
      const u = await call(stack, '/oauth/userinfo', `Bearer ${t}`);
      assert.equal(u.status, 503);
      assert.equal(u.headers.get('retry-after'), '1');
    } finally {
      stack.sql('ALTER TABLE tokens_away RENAME TO tokens');
    }
    assert.equal((await call(stack, '/api/x', `Bearer ${t}`)).status, 200, 'the check recovers');
  });
});

// ---------------------------------------------------------------- trusted sign-in

function htpasswdLine(user, password) {
  const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: password + '\n', encoding: 'utf8' }).trim();
  return `${user}:${hash}\n`;
}

describe('trusted sign-in (login = remote_user) through nginx auth_basic', () => {
  let stack, app;
  const pw = 'carol-pass-0123';
  before(async () => {
    // /bypass/ reaches the executables without auth_basic: what a misconfigured or
    // bypassed nginx would send
    stack = await startStack({ env: { SEED: '0', LOGIN: 'remote_user', EXTRA_NGINX: `
      location ^~ /bypass/oauth/consent { rewrite ^/bypass(/.*)$ $1 break; include @ROOT@/conf/fastcgi_params; fastcgi_pass unix:@STATE@/run/consent.sock; }
      location ^~ /bypass/oauth/authorize { rewrite ^/bypass(/.*)$ $1 break; include @ROOT@/conf/fastcgi_params; fastcgi_pass unix:@STATE@/run/authorize.sock; }
    ` } });
    writeFileSync(path.join(stack.dir, 'htpasswd'), htpasswdLine('carol', pw) + htpasswdLine('dave', 'dave-pass-0123'));
    stack.cli(['user', 'add', 'owner'], 'owner-pass-0123\n');
    app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Site app', '--owner', 'owner', '--redirect-uri', 'https://app.example/cb']));
  });
  after(async () => { await stack?.stop(); });
  const users = () => JSON.parse(stack.cli(['--json', 'user', 'list'])).map((u) => u.name);

  test('without credentials nginx asks for them; a wrong password is refused', async () => {
    const q = new URLSearchParams({ response_type: 'code', client_id: app.client_id, scope: 'profile' });
    const r = await fetch(`${stack.url}/oauth/authorize?${q}`, { redirect: 'manual' });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Basic /);
    const w = await fetch(`${stack.url}/oauth/authorize?${q}`, { redirect: 'manual', headers: { authorization: basic('carol', 'nope') } });
    assert.equal(w.status, 401);
    assert.ok(!users().includes('carol'));
  });

  test('the user nginx vouches for sees consent at once, is created on first sight, and gets a token', async () => {
    assert.ok(!users().includes('carol'));
    const s = new Session(stack.url, { authorization: basic('carol', pw) });
    const a = await authorize(s, { client_id: app.client_id, scope: 'profile' });
    assert.match(a.consent.text_, /Site app/);
    assert.match(a.consent.text_, /carol/);
    assert.doesNotMatch(a.consent.text_, /type="password"/);
    assert.ok(users().includes('carol'), 'carol was not created');
    assert.equal(a.answer.status, 302);
    assert.ok(a.code, a.location);
    const t = await postForm(stack.url + '/oauth/token', { grant_type: 'authorization_code', code: a.code, redirect_uri: 'https://app.example/cb' },
      { authorization: basic(app.client_id, app.client_secret) });
    assert.equal(t.status, 200, t.text);
    const c = await call(stack, '/oauth/check', `Bearer ${t.body.access_token}`);
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-user'), 'carol');
    // the second visit finds the same user
    const again = await authorize(s, { client_id: app.client_id, scope: 'profile' }, { remembered: true });
    assert.ok(again.code);
    assert.equal(users().filter((u) => u === 'carol').length, 1);
  });

  test('the login page offers no password form in this mode', async () => {
    const s = new Session(stack.url, { authorization: basic('dave', 'dave-pass-0123') });
    const r = await s.get('/oauth/login');
    assert.doesNotMatch(r.text_, /type="password"/);
    assert.doesNotMatch(r.text_, /name="password"/);
    const p = await s.post('/oauth/login', { form: { username: 'carol', password: pw } });
    assert.doesNotMatch(p.text_, /type="password"/);
    assert.notEqual(p.status, 303, 'a password sign-in was accepted');
    assert.equal(p.headers.getSetCookie().filter((c) => /^postern_session=|pse_/.test(c)).length, 0);
  });

  test('a request that reaches the executables without REMOTE_USER is refused, not anonymous', async () => {
    const before = users();
    const q = new URLSearchParams({ response_type: 'code', client_id: app.client_id, scope: 'profile' });
    // the Basic header alone, with nginx not checking it, must not sign anyone in
    const r = await fetch(`${stack.url}/bypass/oauth/authorize?${q}`, { redirect: 'manual', headers: { authorization: basic('mallory', 'x') } });
    assert.equal(r.status, 403);
    const text = await r.text();
    assert.match(text, /Sign-in required/);
    assert.doesNotMatch(text, /name="action" value="approve"/);
    // a consent form posted straight to the executable: refused, no code
    const carol = new Session(stack.url, { authorization: basic('carol', pw) });
    const page = await carol.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id, scope: 'profile posts:read', state: 'x' }));
    assert.equal(page.status, 200);
    const form = approval(page.text_);
    const bypass = new Session(stack.url);
    bypass.jar = new Map(carol.jar);
    const c = await bypass.post('/bypass/oauth/consent', { form });
    assert.equal(c.status, 403, c.text_.slice(0, 200));
    assert.match(c.text_, /Not signed in/); // refused for the missing user, before the CSRF check
    assert.equal(c.headers.get('location'), null);
    assert.deepEqual(users(), before);
  });
});

// ---------------------------------------------------------------- sub-path

describe('a sub-path deployment (base_url ending in /auth)', () => {
  let stack, up, origin;
  before(async () => {
    up = await echoUpstream();
    stack = await startStack({ env: { BASE_PATH: '/auth', EXTRA_NGINX: protectedLocations(up.port) } });
    origin = new URL(stack.url).origin;
  });
  after(async () => { await stack?.stop(); await up?.close(); });

  /* Every link, form action and asset of a page is under /auth. */
  function allUnderBase(html, where) {
    const urls = [...html.matchAll(/(?:href|action|src)="([^"]*)"/g)].map((m) => unescapeHtml(m[1]));
    assert.ok(urls.length > 0, `no links on ${where}`);
    for (const u of urls) {
      if (/^https?:/.test(u)) { assert.ok(u.startsWith(stack.url + '/'), `${where}: ${u}`); continue; }
      assert.ok(u.startsWith('/auth/'), `${where}: ${u} is not under /auth`);
    }
  }

  test('the code flow works end to end under /auth, with every URL and cookie under it', async () => {
    assert.ok(stack.url.endsWith('/auth'));
    const redirect_uri = stack.app.redirect_uris[0];
    const { verifier, challenge } = pkce();
    const s = new Session(origin);
    const q = new URLSearchParams({ response_type: 'code', client_id: stack.app.client_id, redirect_uri, scope: 'profile posts:read', state: 'sp',
      code_challenge: challenge, code_challenge_method: 'S256' });
    // signed out: to the login page under /auth, which comes back to the request
    const first = await s.get('/auth/oauth/authorize?' + q);
    assert.equal(first.status, 302);
    const toLogin = new URL(first.headers.get('location'), origin);
    assert.equal(toLogin.pathname, '/auth/oauth/login');
    const back = toLogin.searchParams.get('return_to');
    assert.ok(back.startsWith('/auth/oauth/authorize?'), back);
    const login = await s.get(toLogin.pathname + toLogin.search);
    assert.equal(login.status, 200);
    allUnderBase(login.text_, 'login');
    assert.match(login.text_, /action="\/auth\/oauth\/login"/);
    const csrf = login.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
    const signed = await s.post('/auth/oauth/login', { form: { csrf, username: 'demo', password: stack.password, return_to: back } });
    assert.equal(signed.status, 303);
    assert.equal(signed.headers.get('location'), back);
    assert.ok(s.cookies.length > 0);
    for (const c of s.cookies) assert.match(c, /; Path=\/auth(;|$)/, c);
    const consent = await s.get(back);
    assert.equal(consent.status, 200, consent.text_.slice(0, 300));
    allUnderBase(consent.text_, 'consent');
    assert.match(consent.text_, /action="\/auth\/oauth\/consent"/);
    const answer = await s.post('/auth/oauth/consent', { form: approval(consent.text_) });
    assert.equal(answer.status, 302);
    const loc = new URL(answer.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, redirect_uri);
    assert.equal(loc.searchParams.get('iss'), stack.url);
    assert.equal(loc.searchParams.get('state'), 'sp');
    const t = await postForm(stack.url + '/oauth/token', { grant_type: 'authorization_code', code: loc.searchParams.get('code'), redirect_uri, code_verifier: verifier },
      { authorization: basic(stack.app.client_id, stack.app.client_secret) });
    assert.equal(t.status, 200, t.text);
    const api = await call(stack, '/api/x', `Bearer ${t.body.access_token}`);
    assert.equal(api.status, 200);
    assert.equal(api.json.headers['x-oauth-user'], 'demo');
    assert.equal(api.json.headers['x-oauth-scope'], 'profile posts:read');
    const none = await call(stack, '/api/x', undefined);
    assert.equal(none.status, 401);
    // the pages a signed-in user moves between stay under /auth too
    for (const p of ['/auth/oauth/apps', '/auth/oauth/approved']) {
      const r = await s.get(p);
      assert.equal(r.status, 200, p);
      allUnderBase(r.text_, p);
    }
    const out = await s.get('/auth/oauth/approved');
    const lcsrf = out.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
    const bye = await s.post('/auth/oauth/logout', { form: { csrf: lcsrf } });
    assert.equal(bye.status, 303);
    assert.equal(bye.headers.get('location'), '/auth/oauth/login');
    // nothing of postern answers at the root
    assert.equal((await fetch(origin + '/oauth/authorize?' + q, { redirect: 'manual' })).status, 404);
  });

  test('metadata at the RFC 8414 §3.1 path-inserted URL, with every URL under /auth', async () => {
    const r = await fetch(origin + '/.well-known/oauth-authorization-server/auth');
    assert.equal(r.status, 200);
    const m = await r.json();
    assert.equal(m.issuer, stack.url);
    for (const [k, v] of Object.entries(m).filter(([k]) => k.endsWith('_endpoint')))
      assert.ok(v.startsWith(stack.url + '/oauth/'), `${k} ${v}`);
    assert.equal(m.authorization_endpoint, `${stack.url}/oauth/authorize`);
    assert.equal(m.token_endpoint, `${stack.url}/oauth/token`);
    const other = await fetch(origin + '/.well-known/oauth-authorization-server/elsewhere');
    assert.equal(other.status, 404);
  });
});
