// register.test.mjs: RFC 7591 dynamic client registration (POST /oauth/register):
// off by default, public PKCE clients only, metadata errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize, token, check, addUser, appsJson, codeRequest } from '../lib/client.mjs';

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

// ---------------------------------------------------------------- tests

describe('registration off (the default)', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { SEED: '0' } }); });
  after(async () => { await stack?.stop(); });

  test('is refused with access_denied and creates nothing', async () => {
    const r = await register(stack.url, metadata);
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, { error: 'access_denied', error_description: 'registration is disabled' });
    assert.equal(appsJson(stack).length, 0);
  });
});

describe('registration on', () => {
  let stack, alice;
  before(async () => {
    // many registrations from one address: nginx's limit is tested in limits.test.mjs
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'registration = on', REGISTER_RATE: '1000r/s' } });
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
    // a client that registered itself and was never approved is not sent errors: the
    // server's name would be an open redirector (RFC 9700 §4.11.2)
    const noPkce = await authorize(alice, codeRequest(c.client_id, { redirect_uri: 'https://mcp.example/callback' }));
    assert.equal(noPkce.status, 400);
    assert.equal(noPkce.location, null);
    assert.match(noPkce.page.text_, /invalid_request: PKCE/);
    const verifier = 'v'.repeat(20) + 'erifier-0123456789-abcdefghijkl';
    const a = await authorize(alice, codeRequest(c.client_id, { redirect_uri: 'https://mcp.example/callback', verifier }));
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
    assert.equal(r.body.scope, 'profile posts:read posts:write openid email');
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
    const n = appsJson(stack).length;
    const cases = [
      [{ token_endpoint_auth_method: 'private_key_jwt' }, /token_endpoint_auth_method/],
      [{ token_endpoint_auth_method: 'client_secret_jwt' }, /token_endpoint_auth_method/],
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
      // OpenID Connect Registration metadata this server cannot honour: named, not ignored
      [{ subject_type: 'pairwise' }, /subject_type/],
      [{ userinfo_signed_response_alg: 'RS256' }, /userinfo_signed_response_alg/],
      [{ id_token_encrypted_response_alg: 'RSA-OAEP' }, /id_token_encrypted_response_alg/],
      [{ request_uris: ['https://app.example/req'] }, /request_uris/],
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
    assert.equal(appsJson(stack).length, n, 'nothing was created');
  });

  test('a client_name with an invisible or control character is refused, naming the member and the character', async () => {
    const n = appsJson(stack).length;
    for (const [name, cp] of [['Good\u202Egpj.exe', 'U+202E'], ['Go\u200Bogle', 'U+200B'], ['\u2066Bank', 'U+2066'],
      ['Next\u0085line', 'U+0085'], ['Tag\u{E0041}', 'U+E0041'], ['Filler\u3164', 'U+3164'], ['Zero\uFEFF', 'U+FEFF']]) {
      const r = await register(stack.url, { ...metadata, client_name: name });
      assert.equal(r.status, 400, cp);
      assert.equal(r.body.error, 'invalid_client_metadata', cp);
      assert.equal(r.body.error_description, `client_name contains an invisible or control character (${cp})`);
    }
    assert.equal(appsJson(stack).length, n, 'nothing was created');
    const ok = await register(stack.url, { ...metadata, client_name: 'Émile 日本 ❤️' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.client_name, 'Émile 日本 ❤️');
  });

  test('an escaped NUL is refused naming the member it is in, never cut short', async () => {
    const n = appsJson(stack).length;
    const uris = '"redirect_uris":["https://a.example/cb"]';
    for (const [raw, desc] of [
      [`{${uris},"client_name":"Good\\u0000Evil"}`, 'client_name contains a NUL character'],
      ['{"redirect_uris":["https://a.example/cb\\u0000.evil.example"]}', 'redirect_uris contains a NUL character'],
      [`{${uris},"scope\\u0000x":"profile"}`, 'scope has a NUL character in its name'],
      [`{${uris},"logo_uri":"https://a.example/\\u0000"}`, 'the body contains a NUL character'],
    ]) {
      const r = await register(stack.url, raw);
      assert.equal(r.status, 400, raw);
      assert.equal(r.body.error, 'invalid_client_metadata', raw);
      assert.equal(r.body.error_description, desc, raw);
    }
    assert.equal(appsJson(stack).length, n, 'nothing was created');
    // a backslash followed by the letters u0000 is text, not a NUL
    const ok = await register(stack.url, `{${uris},"client_name":"back\\\\u0000slash"}`);
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.client_name, 'back\\u0000slash');
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
