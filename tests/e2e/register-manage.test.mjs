// register-manage.test.mjs: what issue 15 adds to RFC 7591 registration: confidential
// clients (client_secret_basic/_post, a pcs_ secret shown once), application_type
// (native: loopback http and private-use schemes; web: https only), client_uri /
// policy_uri / tos_uri, the RFC 7592 client configuration endpoint
// (/oauth/register/<client_id> with the registration access token), the janitor rule for
// self-registered clients nobody approved (registration_unapproved_ttl), and their audit
// events.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, storedData, holds, hexSql, unixNow } from '../lib/stack.mjs';
import { Session, authorize, token, check, addUser, appsJson, codeRequest } from '../lib/client.mjs';

async function call(base, pathname, { method = 'POST', body, bearer, contentType = 'application/json' } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = contentType;
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  const r = await fetch(base + pathname, {
    method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* checked by the caller */ }
  return { status: r.status, body: json, text, headers: r.headers };
}
const register = (base, body) => call(base, '/oauth/register', { body });

function audit(stack) {
  const f = path.join(stack.dir, 'logs', 'audit.log');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const verifier = 'v'.repeat(20) + 'erifier-0123456789-abcdefghijkl';

describe('registration: confidential clients, application_type, RFC 7592', () => {
  let stack, alice;
  const secrets = [];
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'registration = on', REGISTER_RATE: '1000r/s' } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
  });
  after(async () => { await stack?.stop(); });

  for (const method of ['client_secret_post', 'client_secret_basic']) {
    test(`${method}: 201 with a pcs_ secret shown once, stored only as its keyed hash; the flow needs the secret`, async () => {
      const r = await register(stack.url, { redirect_uris: ['https://mcp.example/cb'], client_name: 'Agent', token_endpoint_auth_method: method });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const c = r.body;
      assert.match(c.client_secret, /^pcs_[A-Za-z0-9]{48}$/);
      assert.equal(c.client_secret_expires_at, 0);
      assert.equal(c.token_endpoint_auth_method, method);
      assert.match(c.registration_access_token, /^pra_[A-Za-z0-9]{49}$/);
      assert.equal(c.registration_client_uri, `${stack.url}/oauth/register/${c.client_id}`);
      secrets.push(c.client_secret, c.registration_access_token);
      const shown = JSON.parse(stack.cli(['--json', 'app', 'show', c.client_id]));
      assert.equal(shown.public, false);
      assert.equal(shown.registered, true);
      assert.equal(stack.sql(`SELECT length(secret_hash) FROM apps WHERE client_id = '${c.client_id}'`), '32');
      assert.equal(stack.sql(`SELECT length(registration_token_hash) FROM apps WHERE client_id = '${c.client_id}'`), '32');
      assert.equal(stack.sql(`SELECT token_endpoint_auth_method FROM apps WHERE client_id = '${c.client_id}'`), method);

      const a = await authorize(alice, codeRequest(c.client_id, { redirect_uri: 'https://mcp.example/cb', verifier }));
      assert.equal(a.consentShown, true);
      assert.ok(a.code);
      const body = { grant_type: 'authorization_code', code: a.code, redirect_uri: 'https://mcp.example/cb', code_verifier: verifier };
      // without the secret: refused (and the code is not used up by a failed client authentication)
      const none = await token(stack.url, { ...body, client_id: c.client_id });
      assert.equal(none.status, 401, none.text);
      assert.equal(none.body.error, 'invalid_client');
      const wrong = await token(stack.url, { ...body, client_id: c.client_id, client_secret: 'pcs_' + 'x'.repeat(48) });
      assert.equal(wrong.status, 401);
      const t = method === 'client_secret_post'
        ? await token(stack.url, { ...body, client_id: c.client_id, client_secret: c.client_secret })
        : await token(stack.url, body, [c.client_id, c.client_secret]);
      assert.equal(t.status, 200, t.text);
      assert.equal(await check(stack.url, t.body.access_token), 204);
      // a second read never shows the secret again
      const again = await call(stack.url, `/oauth/register/${c.client_id}`, { method: 'GET', bearer: c.registration_access_token });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.client_secret, undefined);
      assert.equal(again.body.registration_access_token, undefined);
      assert.equal(again.body.token_endpoint_auth_method, method);
    });
  }

  test('a public client (none) gets no secret but a registration access token', async () => {
    const r = await register(stack.url, { redirect_uris: ['https://mcp.example/cb'], token_endpoint_auth_method: 'none' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.client_secret, undefined);
    assert.equal(r.body.client_secret_expires_at, undefined);
    assert.match(r.body.registration_access_token, /^pra_/);
    secrets.push(r.body.registration_access_token);
    assert.equal(stack.sql(`SELECT coalesce(length(secret_hash), 0) FROM apps WHERE client_id = '${r.body.client_id}'`), '0');
  });

  test('application_type native: loopback http and a private-use scheme, through to the code', async () => {
    const r = await register(stack.url, { application_type: 'native', redirect_uris: ['com.example.agent:/oauth/cb', 'http://127.0.0.1/cb'] });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.application_type, 'native');
    assert.deepEqual(r.body.redirect_uris, ['com.example.agent:/oauth/cb', 'http://127.0.0.1/cb']);
    const a = await authorize(alice, codeRequest(r.body.client_id, { redirect_uri: 'com.example.agent:/oauth/cb', verifier }));
    assert.equal(a.consentShown, true);
    assert.match(a.location, /^com\.example\.agent:\/oauth\/cb\?code=pac_/);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: 'com.example.agent:/oauth/cb', client_id: r.body.client_id, code_verifier: verifier });
    assert.equal(t.status, 200, t.text);
  });

  test('application_type web refuses loopback http and private-use schemes; absent keeps https + loopback', async () => {
    const n = appsJson(stack).length;
    for (const uri of ['http://127.0.0.1/cb', 'http://localhost:8080/cb', 'com.example.agent:/cb']) {
      const r = await register(stack.url, { application_type: 'web', redirect_uris: [uri] });
      assert.equal(r.status, 400, uri);
      assert.equal(r.body.error, 'invalid_redirect_uri', uri);
      assert.match(r.body.error_description, /web app/);
    }
    const priv = await register(stack.url, { redirect_uris: ['com.example.agent:/cb'] });
    assert.equal(priv.status, 400);
    assert.equal(priv.body.error, 'invalid_redirect_uri');
    const other = await register(stack.url, { application_type: 'desktop', redirect_uris: ['https://a.example/cb'] });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_client_metadata');
    assert.equal(appsJson(stack).length, n, 'nothing was created');
    const web = await register(stack.url, { application_type: 'web', redirect_uris: ['https://a.example/cb'] });
    assert.equal(web.status, 201, web.text);
    const old = await register(stack.url, { redirect_uris: ['https://a.example/cb', 'http://127.0.0.1:9/cb'] });
    assert.equal(old.status, 201, old.text);
    assert.equal(old.body.application_type, undefined);
  });

  test('client_uri, policy_uri, tos_uri: https only, stored and answered', async () => {
    const links = { client_uri: 'https://agent.example/', policy_uri: 'https://agent.example/privacy', tos_uri: 'https://agent.example/terms' };
    const r = await register(stack.url, { redirect_uris: ['https://agent.example/cb'], ...links });
    assert.equal(r.status, 201, r.text);
    for (const [k, v] of Object.entries(links)) assert.equal(r.body[k], v);
    assert.equal(stack.sql(`SELECT client_uri || ' ' || policy_uri || ' ' || tos_uri FROM apps WHERE client_id = '${r.body.client_id}'`),
      Object.values(links).join(' '));
    for (const k of Object.keys(links)) {
      const bad = await register(stack.url, { redirect_uris: ['https://agent.example/cb'], [k]: 'http://agent.example/' });
      assert.equal(bad.status, 400, k);
      assert.equal(bad.body.error, 'invalid_client_metadata');
      assert.match(bad.body.error_description, new RegExp(`${k} must be an absolute https URI`));
    }
  });

  test('RFC 7592: read, update and delete with the registration access token', async () => {
    const { body: c } = await register(stack.url, { redirect_uris: ['https://mcp.example/cb'], client_name: 'Before', token_endpoint_auth_method: 'client_secret_post' });
    const uri = `/oauth/register/${c.client_id}`;
    const read = await call(stack.url, uri, { method: 'GET', bearer: c.registration_access_token });
    assert.equal(read.status, 200, read.text);
    assert.equal(read.headers.get('cache-control'), 'no-store');
    assert.equal(read.body.client_id, c.client_id);
    assert.equal(read.body.client_name, 'Before');
    assert.equal(read.body.registration_client_uri, c.registration_client_uri);
    assert.deepEqual(read.body.redirect_uris, ['https://mcp.example/cb']);

    const upd = await call(stack.url, uri, { method: 'PUT', bearer: c.registration_access_token,
      body: { client_id: c.client_id, client_name: 'After', redirect_uris: ['https://mcp.example/cb2'], token_endpoint_auth_method: 'client_secret_post', tos_uri: 'https://mcp.example/tos' } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.client_name, 'After');
    assert.deepEqual(upd.body.redirect_uris, ['https://mcp.example/cb2']);
    assert.equal(upd.body.tos_uri, 'https://mcp.example/tos');
    assert.equal(stack.sql(`SELECT name || ' ' || redirect_uris FROM apps WHERE client_id = '${c.client_id}'`), 'After https://mcp.example/cb2');
    // the secret still works after an update
    const a = await authorize(alice, codeRequest(c.client_id, { redirect_uri: 'https://mcp.example/cb2', verifier }));
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: 'https://mcp.example/cb2', client_id: c.client_id, client_secret: c.client_secret, code_verifier: verifier });
    assert.equal(t.status, 200, t.text);

    // an update that names another client, none, or another auth method; bad metadata
    for (const [body, re] of [
      [{ redirect_uris: ['https://mcp.example/cb'] }, /client_id/],
      [{ client_id: 'pca_' + 'x'.repeat(32), redirect_uris: ['https://mcp.example/cb'] }, /client_id/],
      [{ client_id: c.client_id, redirect_uris: ['https://mcp.example/cb'], token_endpoint_auth_method: 'none' }, /cannot change/],
    ]) {
      const r = await call(stack.url, uri, { method: 'PUT', bearer: c.registration_access_token, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, 'invalid_client_metadata');
      assert.match(r.body.error_description, re);
    }
    const badUri = await call(stack.url, uri, { method: 'PUT', bearer: c.registration_access_token, body: { client_id: c.client_id, redirect_uris: ['http://evil.example/cb'] } });
    assert.equal(badUri.status, 400);
    assert.equal(badUri.body.error, 'invalid_redirect_uri');
    assert.equal(stack.sql(`SELECT name FROM apps WHERE client_id = '${c.client_id}'`), 'After', 'refused updates changed nothing');

    const del = await call(stack.url, uri, { method: 'DELETE', bearer: c.registration_access_token });
    assert.equal(del.status, 204, del.text);
    assert.equal(stack.sql(`SELECT count(*) FROM apps WHERE client_id = '${c.client_id}'`), '0');
    assert.equal(await check(stack.url, t.body.access_token), 401, 'its tokens went with it');
    const gone = await call(stack.url, uri, { method: 'GET', bearer: c.registration_access_token });
    assert.equal(gone.status, 401);
  });

  test('RFC 7592: a missing or wrong token, another client\'s token, an unknown client: 401, nothing changed', async () => {
    const { body: c } = await register(stack.url, { redirect_uris: ['https://mcp.example/cb'], client_name: 'Mine' });
    const { body: other } = await register(stack.url, { redirect_uris: ['https://mcp.example/cb'], client_name: 'Other' });
    const uri = `/oauth/register/${c.client_id}`;
    const wrongs = [undefined, '', 'pra_' + 'A'.repeat(49), other.registration_access_token, c.registration_access_token + 'x'];
    for (const method of ['GET', 'PUT', 'DELETE']) {
      for (const bearer of wrongs) {
        const r = await call(stack.url, uri, { method, bearer, body: method === 'PUT' ? { client_id: c.client_id, client_name: 'Hacked', redirect_uris: ['https://evil.example/cb'] } : undefined });
        assert.equal(r.status, 401, `${method} ${bearer}`);
        assert.equal(r.body.error, 'invalid_token');
        assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer /);
      }
    }
    const unknown = await call(stack.url, `/oauth/register/pca_${'z'.repeat(32)}`, { method: 'GET', bearer: c.registration_access_token });
    assert.equal(unknown.status, 401);
    // an app made on the apps page is not reachable here, even with a token of the right shape
    assert.equal(stack.sql(`SELECT name FROM apps WHERE client_id = '${c.client_id}'`), 'Mine');
    const post = await call(stack.url, uri, { method: 'POST', bearer: c.registration_access_token, body: {} });
    assert.equal(post.status, 405);
    const patch = await call(stack.url, uri, { method: 'PATCH', bearer: c.registration_access_token, body: {} });
    assert.equal(patch.status, 405);
  });

  test('audit events: registrations with their auth method, configuration reads, updates, deletes and refusals', async () => {
    const lines = audit(stack);
    assert.ok(lines.some((l) => l.event === 'client_registered' && l.ok && l.auth_method === 'client_secret_post'));
    assert.ok(lines.some((l) => l.event === 'client_registered' && l.ok && l.application_type === 'native'));
    for (const op of ['update', 'delete'])
      assert.ok(lines.some((l) => l.event === 'client_config' && l.ok && l.op === op), op);
    assert.ok(lines.some((l) => l.event === 'client_config' && !l.ok && l.op === 'read'));
    assert.ok(lines.some((l) => l.event === 'client_config' && !l.ok && l.op === 'update'));
  });

  test('no secret or registration access token is stored or logged as it is', () => {
    assert.ok(secrets.length >= 5);
    for (const { name, text } of storedData(stack))
      for (const s of secrets) assert.ok(!holds(text, s), `${name} holds ${s.slice(0, 8)}…`);
    const logs = ['audit.log', 'apps.log'].map((f) => path.join(stack.dir, 'logs', f)).filter(existsSync)
      .map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const s of secrets) assert.ok(!logs.includes(s), `a log holds ${s.slice(0, 8)}…`);
  });
});

describe('registration: the janitor deletes self-registered clients nobody approved', () => {
  let stack, alice;
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'registration = on\nregistration_unapproved_ttl = 3600', REGISTER_RATE: '1000r/s' } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
  });
  after(async () => { await stack?.stop(); });

  test('old and unapproved: deleted; approved, young, or made on the apps page: kept', async () => {
    const reg = async (name) => (await register(stack.url, { redirect_uris: ['https://mcp.example/cb'], client_name: name })).body.client_id;
    const oldUnapproved = await reg('old unapproved');
    const oldApproved = await reg('old approved');
    const young = await reg('young');
    const a = await authorize(alice, codeRequest(oldApproved, { redirect_uri: 'https://mcp.example/cb', verifier }));
    assert.ok(a.code);
    const past = unixNow() - 3601;
    stack.sql(`UPDATE apps SET created = ${past} WHERE client_id IN ('${oldUnapproved}', '${oldApproved}')`);
    stack.cli(['app', 'create', '--name', 'Admin app', '--redirect-uri', 'https://admin.example/cb']);
    stack.sql(`UPDATE apps SET created = ${past} WHERE registered = 0`);
    const before_ = appsJson(stack).length;
    const out = JSON.parse(stack.cli(['--json', 'janitor']));
    assert.equal(out.unapproved_clients, 1);
    const left = appsJson(stack).map((x) => x.client_id);
    assert.equal(left.length, before_ - 1);
    assert.ok(!left.includes(oldUnapproved));
    assert.ok(left.includes(oldApproved));
    assert.ok(left.includes(young));
    assert.ok(audit(stack).some((l) => l.event === 'janitor_run' && l.unapproved_clients === 1));
    assert.match(stack.cli(['janitor']), /0 unapproved registered clients/);
  });

});
