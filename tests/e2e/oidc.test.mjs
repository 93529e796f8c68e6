// oidc.test.mjs: postern as an OpenID Connect provider: Discovery 1.0, the JWKS, id_tokens
// of the code flow and of refreshes verified with a JOSE library against the JWKS (RS256
// and EdDSA), nonce, at_hash, auth_time, key rotation, UserInfo claims by scope, and the
// admin command's users with an email address and a full name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as jose from 'jose';
import { startStack, storedData } from '../lib/stack.mjs';
import { Session, authorize, token, pkce, b64url } from '../lib/client.mjs';

const REDIRECT = 'https://app.example/cb';
const CONFIG = [
  'access_token_ttl = 3600',
  'registration = on',
].join('\n');

/* at_hash (OIDC Core §3.1.3.6): the left half of the access token's hash, SHA-256 for
 * RS256, SHA-512 for EdDSA (Ed25519), as openid-client computes it. */
function atHash(accessToken, alg) {
  const h = createHash(alg === 'EdDSA' ? 'sha512' : 'sha256').update(accessToken).digest();
  return b64url(h.subarray(0, h.length / 2));
}

describe('OpenID Connect', () => {
  let stack, s, rsApp, edApp, jwks, userId, signedInAt;

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: CONFIG, REGISTER_RATE: '1000r/s' } });
    const pw = 'pw-olivia-0123456789';
    stack.cli(['user', 'add', 'olivia', '--email', 'olivia@example.com', '--full-name', 'Olivia Example'], pw + '\n');
    userId = JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'olivia').id;
    rsApp = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'RS app', '--redirect-uri', REDIRECT]));
    edApp = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Ed app', '--redirect-uri', REDIRECT, '--id-token-alg', 'EdDSA']));
    s = new Session(stack.url);
    signedInAt = Math.floor(Date.now() / 1000);
    await s.signIn('olivia', pw);
    jwks = jose.createRemoteJWKSet(new URL(`${stack.url}/oauth/jwks`));
  });
  after(async () => { await stack?.stop(); });

  /* The code flow with PKCE; returns the token response body. */
  async function codeFlow(app, { scope = 'openid profile email', nonce } = {}) {
    const { verifier, challenge } = pkce();
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: REDIRECT, scope, state: 'st',
      nonce, code_challenge: challenge, code_challenge_method: 'S256' });
    assert.ok(a.code, `no code: ${a.status} ${a.location} ${a.res.text_.slice(0, 300)}`);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT,
      code_verifier: verifier }, [app.client_id, app.client_secret]);
    assert.equal(t.status, 200, t.text);
    return t.body;
  }

  /* Verifies an id_token against the JWKS as a relying party would (the JWKS fetched
   * again: jose waits 30 s before it fetches again for an unknown kid). */
  async function verify(idToken, app, alg) {
    jwks = jose.createRemoteJWKSet(new URL(`${stack.url}/oauth/jwks`));
    const { payload, protectedHeader } = await jose.jwtVerify(idToken, jwks, {
      issuer: stack.url, audience: app.client_id, algorithms: [alg] });
    return { payload, header: protectedHeader };
  }

  async function userinfo(accessToken, method = 'GET') {
    const r = await fetch(`${stack.url}/oauth/userinfo`, { method, headers: { authorization: `Bearer ${accessToken}` } });
    return { status: r.status, headers: r.headers, body: r.status === 200 ? await r.json() : await r.text() };
  }

  test('discovery: every field Discovery §3 requires, at the issuer; RFC 8414 metadata is the same document', async () => {
    const r = await fetch(`${stack.url}/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const d = await r.json();
    assert.equal(d.issuer, stack.url);
    assert.equal(d.authorization_endpoint, `${stack.url}/oauth/authorize`);
    assert.equal(d.token_endpoint, `${stack.url}/oauth/token`);
    assert.equal(d.userinfo_endpoint, `${stack.url}/oauth/userinfo`);
    assert.equal(d.jwks_uri, `${stack.url}/oauth/jwks`);
    assert.deepEqual(d.response_types_supported, ['code']);
    assert.deepEqual(d.subject_types_supported, ['public']);
    assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256', 'EdDSA']);
    for (const sc of ['openid', 'profile', 'email']) assert.ok(d.scopes_supported.includes(sc), sc);
    for (const c of ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'preferred_username', 'email', 'email_verified'])
      assert.ok(d.claims_supported.includes(c), c);
    assert.ok(d.grant_types_supported.includes('authorization_code') && d.grant_types_supported.includes('refresh_token'));
    assert.ok(d.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    assert.equal(d.request_uri_parameter_supported, false, 'Discovery defaults it to true: it must be said');
    const m = await (await fetch(`${stack.url}/.well-known/oauth-authorization-server`)).json();
    assert.deepEqual(m, d);
  });

  test('JWKS: an RSA and an Ed25519 public key, kid = RFC 7638 thumbprint, nothing private', async () => {
    const r = await fetch(`${stack.url}/oauth/jwks`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/jwk-set\+json/);
    const { keys } = await r.json();
    const rsa = keys.filter((k) => k.kty === 'RSA'), okp = keys.filter((k) => k.kty === 'OKP');
    assert.equal(rsa.length, 1);
    assert.equal(okp.length, 1);
    assert.equal(rsa[0].alg, 'RS256');
    assert.equal(rsa[0].use, 'sig');
    assert.equal(rsa[0].e, 'AQAB');
    assert.equal(Buffer.from(rsa[0].n, 'base64url').length, 256, 'RSA 2048');
    assert.equal(okp[0].alg, 'EdDSA');
    assert.equal(okp[0].crv, 'Ed25519');
    assert.equal(okp[0].use, 'sig');
    assert.equal(Buffer.from(okp[0].x, 'base64url').length, 32);
    for (const k of keys) {
      assert.equal(k.kid, await jose.calculateJwkThumbprint(k, 'sha256'));
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined, priv);
      await jose.importJWK(k, k.alg); // a usable public key
    }
  });

  test('the private keys are stored sealed, never as PEM or raw key bytes', () => {
    const stored = storedData(stack).map((f) => f.text).join('\n');
    assert.doesNotMatch(stored, /BEGIN (RSA )?PRIVATE KEY/);
    assert.equal(stack.sql('SELECT count(*) FROM keys'), '2');
  });

  test('RS256 id_token: iss, sub, aud, azp, exp, iat, auth_time, nonce, at_hash; profile and email claims wait at userinfo', async () => {
    const t = await codeFlow(rsApp, { nonce: 'n-0S6_WzA2Mj' });
    assert.ok(t.id_token, JSON.stringify(t));
    const { payload: p, header } = await verify(t.id_token, rsApp, 'RS256');
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'JWT');
    assert.ok(header.kid);
    assert.equal(p.iss, stack.url);
    assert.equal(p.sub, String(userId));
    assert.equal(p.aud, rsApp.client_id);
    assert.equal(p.azp, rsApp.client_id);
    assert.equal(p.nonce, 'n-0S6_WzA2Mj');
    assert.equal(p.at_hash, atHash(t.access_token, 'RS256'));
    const now = Math.floor(Date.now() / 1000);
    assert.ok(Math.abs(p.iat - now) <= 5, `iat ${p.iat}`);
    assert.equal(p.exp - p.iat, 3600, 'id_token_ttl defaults to an hour');
    assert.ok(p.auth_time >= signedInAt - 1 && p.auth_time <= p.iat, `auth_time ${p.auth_time} vs sign-in ${signedInAt}`);
    for (const c of ['email', 'name', 'preferred_username', 'email_verified']) assert.equal(p[c], undefined, c);
  });

  test('EdDSA id_token for an app that asked for it; at_hash from SHA-512', async () => {
    const t = await codeFlow(edApp, { nonce: 'ed-nonce' });
    const { payload: p, header } = await verify(t.id_token, edApp, 'EdDSA');
    assert.equal(header.alg, 'EdDSA');
    assert.equal(p.nonce, 'ed-nonce');
    assert.equal(p.at_hash, atHash(t.access_token, 'EdDSA'));
    assert.notEqual(p.at_hash, atHash(t.access_token, 'RS256'));
    // the RS256 verifier refuses it: the algorithm is the app's, not the caller's choice
    await assert.rejects(jose.jwtVerify(t.id_token, jwks, { algorithms: ['RS256'] }));
  });

  test('no nonce in the request: none in the id_token; no openid scope: no id_token', async () => {
    const t = await codeFlow(rsApp);
    const { payload } = await verify(t.id_token, rsApp, 'RS256');
    assert.equal(payload.nonce, undefined);
    const plain = await codeFlow(rsApp, { scope: 'profile', nonce: 'ignored' });
    assert.equal(plain.id_token, undefined);
    assert.ok(plain.access_token);
  });

  test('a nonce over its limit is refused, naming it', async () => {
    const r = await s.get('/oauth/authorize?' + new URLSearchParams({ client_id: rsApp.client_id, redirect_uri: REDIRECT,
      response_type: 'code', scope: 'openid', nonce: 'n'.repeat(513) }));
    // client and redirect URI are good: the error goes back to the app, naming nonce
    assert.equal(r.status, 302, r.text_.slice(0, 300));
    const back = new URL(r.headers.get('location'));
    assert.equal(back.origin + back.pathname, REDIRECT);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description'), /nonce/);
    const ok = await codeFlow(rsApp, { nonce: 'n'.repeat(512) });
    assert.equal((await verify(ok.id_token, rsApp, 'RS256')).payload.nonce, 'n'.repeat(512));
  });

  test('a refresh brings a new id_token (Core §12.2): same sub and auth_time, new at_hash, no nonce', async () => {
    const first = await codeFlow(rsApp, { nonce: 'first' });
    const a = (await verify(first.id_token, rsApp, 'RS256')).payload;
    const r = await token(stack.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token },
      [rsApp.client_id, rsApp.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.id_token);
    const b = (await verify(r.body.id_token, rsApp, 'RS256')).payload;
    assert.equal(b.sub, a.sub);
    assert.equal(b.auth_time, a.auth_time);
    assert.equal(b.nonce, undefined);
    assert.equal(b.at_hash, atHash(r.body.access_token, 'RS256'));
    // a refresh narrowed to a scope without openid gets none
    const r2 = await token(stack.url, { grant_type: 'refresh_token', refresh_token: r.body.refresh_token, scope: 'profile' },
      [rsApp.client_id, rsApp.client_secret]);
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.body.id_token, undefined);
    // the refresh token keeps its scope and, rotated twice now, the original sign-in time
    const r3 = await token(stack.url, { grant_type: 'refresh_token', refresh_token: r2.body.refresh_token },
      [rsApp.client_id, rsApp.client_secret]);
    assert.equal(r3.status, 200, r3.text);
    const c = (await verify(r3.body.id_token, rsApp, 'RS256')).payload;
    assert.equal(c.auth_time, a.auth_time);
    assert.equal(c.sub, a.sub);
  });

  test('userinfo: claims by scope, GET and POST', async () => {
    const all = await codeFlow(rsApp);
    for (const method of ['GET', 'POST']) {
      const u = await userinfo(all.access_token, method);
      assert.equal(u.status, 200, `${method}: ${u.body}`);
      assert.equal(u.body.sub, String(userId));
      assert.equal(u.body.name, 'Olivia Example');
      assert.equal(u.body.preferred_username, 'olivia');
      assert.equal(u.body.email, 'olivia@example.com');
      assert.equal(u.body.email_verified, true);
    }
    const openid = await userinfo((await codeFlow(rsApp, { scope: 'openid' })).access_token);
    assert.equal(openid.status, 200);
    assert.deepEqual(openid.body, { sub: String(userId) });
    const email = await userinfo((await codeFlow(rsApp, { scope: 'openid email' })).access_token);
    assert.deepEqual(email.body, { sub: String(userId), email: 'olivia@example.com', email_verified: true });
    const none = await userinfo((await codeFlow(rsApp, { scope: 'posts:read' })).access_token);
    assert.equal(none.status, 403);
    assert.match(none.headers.get('www-authenticate'), /error="insufficient_scope"/);
    assert.match(none.headers.get('www-authenticate'), /scope="openid"/, 'openid is configured: the one to ask for');
    const bad = await userinfo('pat_nottoken');
    assert.equal(bad.status, 401);
  });

  test('key rotation: new kid signs, the old one stays published and its id_tokens still verify', async () => {
    const before = await codeFlow(rsApp, { nonce: 'pre' });
    const beforeEd = await codeFlow(edApp, { nonce: 'pre' });
    const oldKid = (await verify(before.id_token, rsApp, 'RS256')).header.kid;
    const oldEd = (await verify(beforeEd.id_token, edApp, 'EdDSA')).header.kid;
    const made = JSON.parse(stack.cli(['--json', 'key', 'rotate']));
    assert.deepEqual(made.map((k) => k.alg).sort(), ['EdDSA', 'RS256']);
    const { keys } = await (await fetch(`${stack.url}/oauth/jwks`)).json();
    const kids = keys.map((k) => k.kid);
    for (const k of [oldKid, oldEd, ...made.map((m) => m.kid)]) assert.ok(kids.includes(k), `${k} not in the JWKS`);
    assert.equal(keys.length, 4);
    const after = await codeFlow(rsApp, { nonce: 'post' });
    const afterEd = await codeFlow(edApp, { nonce: 'post' });
    const fresh = jose.createRemoteJWKSet(new URL(`${stack.url}/oauth/jwks`));
    const h1 = jose.decodeProtectedHeader(after.id_token), h2 = jose.decodeProtectedHeader(afterEd.id_token);
    assert.equal(h1.kid, made.find((m) => m.alg === 'RS256').kid);
    assert.equal(h2.kid, made.find((m) => m.alg === 'EdDSA').kid);
    for (const [t, app] of [[before, rsApp], [after, rsApp], [beforeEd, edApp], [afterEd, edApp]])
      await jose.jwtVerify(t.id_token, fresh, { issuer: stack.url, audience: app.client_id });
    const list = JSON.parse(stack.cli(['--json', 'key', 'list']));
    const old = list.find((k) => k.kid === oldKid);
    assert.equal(old.signing, false);
    assert.equal(old.published, true);
    assert.equal(old.expires - old.retired, 3600, 'published for id_token_ttl after it stopped signing');
    // once its id_tokens have expired, the old key leaves the JWKS
    stack.sql(`UPDATE keys SET expires = 1 WHERE kid = '${oldKid}'`);
    const later = (await (await fetch(`${stack.url}/oauth/jwks`)).json()).keys.map((k) => k.kid);
    assert.ok(!later.includes(oldKid));
    assert.ok(later.includes(oldEd));
    // and the janitor deletes it, and nothing else
    const j = JSON.parse(stack.cli(['--json', 'janitor']));
    assert.equal(j.keys, 1);
    assert.equal(stack.sql(`SELECT count(*) FROM keys WHERE kid = '${oldKid}'`), '0');
    assert.equal(stack.sql('SELECT count(*) FROM keys'), '3');
  });

  test('user add and user set: email and full name, checked, "" clears', async () => {
    const run = (args, input) => stack.cliRun(args, input);
    let r = run(['user', 'add', 'x1', '--email', 'not-an-address'], 'pw-x1-0123456789\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--email must be an address/);
    r = run(['user', 'add', 'x1', '--full-name', 'A'.repeat(101)], 'pw-x1-0123456789\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--full-name must be at most 100 characters/);
    r = run(['user', 'add', 'x1', '--full-name', 'Evil\u202eName'], 'pw-x1-0123456789\n');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--full-name .*U\+202E/);
    r = run(['user', 'add', 'x1', '--email', `${'a'.repeat(243)}@example.com`], 'pw-x1-0123456789\n');
    assert.notEqual(r.status, 0, 'an address of 255 bytes');
    assert.equal(JSON.parse(stack.cli(['--json', 'user', 'list'])).some((u) => u.name === 'x1'), false, 'nothing was added');
    stack.cli(['user', 'add', 'x1', '--email', `${'a'.repeat(242)}@example.com`, '--full-name', 'A'.repeat(100)], 'pw-x1-0123456789\n');
    assert.equal(stack.sql("SELECT length(email) || '|' || length(full_name) FROM users WHERE name = 'x1'"), '254|100');
    r = run(['user', 'set', 'x1']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /usage: postern user set NAME/);
    r = run(['user', 'set', 'nobody', '--email', 'a@b.example']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no user named nobody/);
    stack.cli(['user', 'set', 'olivia', '--email', '']);
    const u = await userinfo((await codeFlow(rsApp)).access_token);
    assert.equal(u.body.email, undefined);
    assert.equal(u.body.email_verified, undefined);
    assert.equal(u.body.name, 'Olivia Example', 'the full name was kept');
    stack.cli(['user', 'set', 'olivia', '--full-name', '']);
    assert.equal((await userinfo((await codeFlow(rsApp)).access_token)).body.name, 'olivia', 'the user name stands in');
    stack.cli(['user', 'set', 'olivia', '--email', 'olivia@example.com', '--full-name', 'Olivia Example']);
  });

  test('registration: id_token_signed_response_alg RS256 or EdDSA is kept; none, HS256 and others are invalid_client_metadata', async () => {
    const register = (meta) => fetch(`${stack.url}/oauth/register`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], ...meta }) });
    for (const alg of ['none', 'HS256', 'HS512', 'ES256', 'rs256', 7]) {
      const r = await register({ id_token_signed_response_alg: alg });
      assert.equal(r.status, 400, String(alg));
      const b = await r.json();
      assert.equal(b.error, 'invalid_client_metadata');
      assert.match(b.error_description, /id_token_signed_response_alg must be RS256 or EdDSA/);
    }
    const p0 = await register({});
    assert.equal(p0.status, 201);
    const plain = await p0.json();
    assert.equal(plain.id_token_signed_response_alg, 'RS256');
    const r = await register({ id_token_signed_response_alg: 'EdDSA', scope: 'openid profile' });
    assert.equal(r.status, 201);
    const app = await r.json();
    assert.equal(app.id_token_signed_response_alg, 'EdDSA');
    // a registered (public, PKCE) client gets an EdDSA id_token
    const { verifier, challenge } = pkce();
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: REDIRECT, scope: 'openid', state: 'x',
      nonce: 'reg', code_challenge: challenge, code_challenge_method: 'S256' });
    assert.ok(a.code, a.location);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT,
      code_verifier: verifier, client_id: app.client_id });
    assert.equal(t.status, 200, t.text);
    const { payload, header } = await verify(t.body.id_token, app, 'EdDSA');
    assert.equal(header.alg, 'EdDSA');
    assert.equal(payload.nonce, 'reg');
  });

  test('first use: servers that find no signing key make one (of each algorithm), once', async () => {
    stack.sql('DELETE FROM keys');
    await stack.restart();
    const t = await codeFlow(rsApp, { nonce: 'first-use' });
    const { payload } = await verify(t.id_token, rsApp, 'RS256');
    assert.equal(payload.nonce, 'first-use');
    const { keys } = await (await fetch(`${stack.url}/oauth/jwks`)).json();
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['EdDSA', 'RS256']);
    assert.equal(stack.sql('SELECT count(*) FROM keys'), '2');
    const logs = ['token', 'introspect'].map((c) => stack.log(`${c}.log`)).join('');
    assert.equal((logs.match(/made the first RS256 signing key/g) || []).length, 1, logs);
  });

  test('app create --id-token-alg takes RS256 or EdDSA only', () => {
    for (const alg of ['none', 'HS256', 'ES256', 'eddsa']) {
      const r = stack.cliRun(['app', 'create', '--name', 'Bad alg', '--redirect-uri', REDIRECT, '--id-token-alg', alg]);
      assert.notEqual(r.status, 0, alg);
      assert.match(r.stderr, /--id-token-alg must be RS256 or EdDSA/);
    }
  });
});
