// dpop.test.mjs: DPoP (RFC 9449) end to end through nginx: oauth4webapi and openid-client
// (ES256 and Ed25519 keys, public and confidential clients) get DPoP-bound tokens at the
// token endpoint and use them at a location guarded by auth_request; the nonce dance
// (dpop_nonce = on) at both; proofs made by hand with node's crypto for every attack the
// check and the token endpoint must refuse (replay, another method or URL, another key,
// stale or future iat, ath, the wrong scheme, two headers, typ, alg, a private jwk, size,
// garbage), each refusal changing nothing; dpop_jkt, --require-dpop and registration's
// dpop_bound_access_tokens; introspection's cnf.jkt and a bound JWT access token; userinfo,
// revocation, ?require_dpop=1, the metadata; and the check's micro-cache never answering
// for a DPoP request.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { startStack, freePort, storedData, holds, unixNow, root } from '../lib/stack.mjs';
import { Session, authorize, token, revoke, pkce, consentForm, codeRequest } from '../lib/client.mjs';
import { echoUpstream } from '../lib/site.mjs';

const REDIRECT = 'https://app.example/cb';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { [oauth.allowInsecureRequests]: true };       // plain http on loopback
const oidcInsecure = { execute: [oidc.allowInsecureRequests] };

// ---------------------------------------------------------------- proofs by hand

const b64 = (b) => Buffer.from(b).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
/* ath (RFC 9449 §4.2): base64url SHA-256 of the access token. */
const ath = (t) => b64(createHash('sha256').update(t).digest());

/* A DPoP key pair made with node's crypto: 'ES256' (P-256) or 'EdDSA' (Ed25519); jwk is
 * its public JWK with the members RFC 7638 hashes and nothing else. */
function dpopKey(alg = 'ES256') {
  const { privateKey, publicKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { alg, privateKey, jwk: alg === 'ES256' ? { kty, crv, x, y } : { kty, crv, x } };
}
/* The RFC 7638 SHA-256 thumbprint of a key, as jose computes it. */
const thumbprint = (key) => jose.calculateJwkThumbprint(key.jwk, 'sha256');

/* A compact JWS of header and payload signed by key (ES256 as R||S, RFC 7518 §3.4). */
function jws(header, payload, key) {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(payload))}`;
  const sig = key.alg === 'ES256'
    ? cryptoSign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : cryptoSign(null, Buffer.from(input), key.privateKey);
  return `${input}.${b64(sig)}`;
}

/* A DPoP proof by key for htm and htu; with token, its ath. claims and header change the
 * payload and the JOSE header (a member set to undefined is left out); signer signs it in
 * place of key (whose jwk the header still carries). */
function proof(key, htm, htu, { token: t, claims = {}, header = {}, signer = key } = {}) {
  const h = { typ: 'dpop+jwt', alg: key.alg, jwk: key.jwk, ...header };
  const p = { jti: b64(randomBytes(18)), htm, htu, iat: now(), ...(t ? { ath: ath(t) } : {}), ...claims };
  for (const o of [h, p]) for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return jws(h, p, signer);
}

/* One request with node's http client, which sends a header given as an array once per
 * value (fetch would join them). Returns {status, headers, www (the WWW-Authenticate),
 * nonce (DPoP-Nonce), text, json}. */
function send(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json = null;
        try { json = JSON.parse(text); } catch { /* the caller checks */ }
        resolve({ status: res.statusCode, headers: res.headers, www: res.headers['www-authenticate'] ?? null,
          nonce: res.headers['dpop-nonce'] ?? null, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/* A refusal as the contract has it: status, a DPoP challenge (with the algorithms) naming
 * error. */
function assertChallenge(r, status, error) {
  assert.equal(r.status, status, `${r.status} ${r.www} ${r.text.slice(0, 200)}`);
  assert.match(r.www ?? '', /^DPoP /, `the challenge: ${r.www}`);
  assert.match(r.www, /algs="ES256 EdDSA Ed25519"/, r.www);
  assert.match(r.www, new RegExp(`error="${error}"`), r.www);
}

/* The site's locations behind the check, as nginx.conf.example writes them, with the
 * DPoP-Nonce of the check's answer relayed (also on the 401). /api/ takes any live token,
 * /write/ needs posts:write, /dpop-only/ refuses Bearer tokens (?require_dpop=1). */
function guardedLocations(upstream) {
  const guard = (args) => `
    auth_request /oauth/check${args};
    auth_request_set $oauth_user   $upstream_http_x_oauth_user;
    auth_request_set $oauth_scope  $upstream_http_x_oauth_scope;
    auth_request_set $oauth_client $upstream_http_x_oauth_client;
    auth_request_set $oauth_www    $upstream_http_www_authenticate;
    auth_request_set $oauth_dpop_nonce $upstream_http_dpop_nonce;
    add_header DPoP-Nonce $oauth_dpop_nonce always;
    error_page 401 = @dpop_401;
    error_page 403 = @dpop_403;
    proxy_set_header X-OAuth-User $oauth_user;
    proxy_set_header X-OAuth-Scope $oauth_scope;
    proxy_set_header X-OAuth-Client $oauth_client;
    proxy_set_header Authorization "";
    proxy_set_header DPoP "";
    proxy_pass http://127.0.0.1:${upstream};`;
  return `
  location /api/ { ${guard('')} }
  location /write/ { ${guard('?scope=posts:write')} }
  location /dpop-only/ { ${guard('?require_dpop=1')} }
  location /bare-guard/ { auth_request /oauth-check-bare; proxy_set_header Authorization ""; proxy_set_header DPoP ""; proxy_pass http://127.0.0.1:${upstream}; }
  location = /oauth-check-bare { internal; fastcgi_param DOCUMENT_URI /oauth/check; include @ROOT@/conf/fastcgi_params;
    fastcgi_pass_request_body off; fastcgi_pass unix:@STATE@/run/introspect.sock; }
  location @dpop_401 { add_header DPoP-Nonce $oauth_dpop_nonce always; default_type application/json; return 401 '{"error":"invalid_token"}'; }
  location @dpop_403 { add_header WWW-Authenticate $oauth_www always; default_type application/json; return 403 '{"error":"insufficient_scope"}'; }
`;
}

/* A stack with the guarded locations in front of an echo upstream, /api its RFC 9728
 * protected resource; env as startStack's, config more lines of its configuration. */
async function dpopStack(env = {}, config = []) {
  const up = await echoUpstream();
  const port = await freePort();
  try {
    const stack = await startStack({ env: {
      PORT: String(port), TOKEN_RATE: '1000r/s', REGISTER_RATE: '1000r/s', LOGIN_RATE: '1000r/s',
      EXTRA_CONFIG: ['access_token_ttl = 3600', `protected_resource = http://127.0.0.1:${port}/api`, ...config].join('\n'),
      EXTRA_NGINX: guardedLocations(up.port), ...env,
    } });
    return { stack, up };
  } catch (e) { await up.close(); throw e; }
}

/* The browser's part of a code flow an OAuth library built the URL of: the signed-in
 * session s follows it and approves; returns the URL it was sent back to. */
async function browse(s, url) {
  const a = await authorize(s, Object.fromEntries(url.searchParams));
  assert.equal(a.status, 302, `${a.status} ${a.res.text_.slice(0, 200)}`);
  return new URL(a.location);
}

/* An app made with the admin command, with the options given. */
function createApp(stack, name, ...args) {
  return JSON.parse(stack.cli(['--json', 'app', 'create', '--name', name, '--redirect-uri', REDIRECT, ...args]));
}

// ---------------------------------------------------------------- the main stack

describe('DPoP (RFC 9449) through nginx', () => {
  let stack, up, s, base, TOKEN, pub, conf, jwtApp, as;

  before(async () => {
    ({ stack, up } = await dpopStack({}, ['registration = on', 'device_interval = 1']));
    base = new URL(stack.url).origin;
    TOKEN = `${stack.url}/oauth/token`;
    pub = createApp(stack, 'SPA', '--public');
    conf = createApp(stack, 'Web app', '--grant-types', 'authorization_code refresh_token client_credentials',
      '--scope', 'profile posts:read posts:write');
    jwtApp = createApp(stack, 'JWT app', '--access-token-format', 'jwt',
      '--grant-types', 'authorization_code refresh_token client_credentials');
    s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const issuer = new URL(stack.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(async () => { await stack?.stop(); await up?.close(); });

  /* A request to the guarded site: auth is the whole Authorization value, dpop the proof
   * (an array: one DPoP header per proof). */
  function api(p, { method = 'GET', auth, dpop, headers = {} } = {}) {
    const h = { ...headers };
    if (auth !== undefined) h.authorization = auth;
    if (dpop !== undefined) h.dpop = dpop;
    return send(base + p, { method, headers: h });
  }
  /* api() that must be refused with status and error before the upstream sees it. */
  async function refused(p, opts, error, status = 401) {
    const hits = up.hits.length;
    const r = await api(p, opts);
    assertChallenge(r, status, error);
    assert.equal(up.hits.length, hits, 'the refused request reached the upstream');
    return r;
  }
  /* api() with a DPoP-bound token and a fresh proof of key for the request: 200. */
  async function passes(p, t, key, method = 'GET') {
    const r = await api(p, { method, auth: `DPoP ${t}`, dpop: proof(key, method, base + p.replace(/\?.*/, ''), { token: t }) });
    assert.equal(r.status, 200, `${r.status} ${r.www} ${r.text.slice(0, 200)}`);
    return r.json;
  }
  /* POST /oauth/token with a proof (dpop: the header's value, or undefined for none). */
  function tokenWith(body, dpop, creds) {
    return token(stack.url, body, creds, { headers: dpop === undefined ? {} : { dpop } });
  }
  /* A token of the confidential app for itself (client_credentials), bound to key (none:
   * a Bearer token). */
  async function appToken(key, scope = 'profile posts:read') {
    const r = await tokenWith({ grant_type: 'client_credentials', scope }, key ? proof(key, 'POST', TOKEN) : undefined,
      [conf.client_id, conf.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, key ? 'DPoP' : 'Bearer');
    return r.body.access_token;
  }
  /* A code for app from the signed-in session (PKCE with verifier; extra authorize
   * parameters). */
  async function codeFor(app, { verifier, scope = 'profile', ...extra } = {}) {
    const a = await authorize(s, { ...codeRequest(app.client_id, { verifier, scope }), ...extra });
    assert.ok(a.code, `no code: ${a.status} ${a.location} ${a.res.text_.slice(0, 200)}`);
    return a.code;
  }
  async function introspect(t, app = conf) {
    const r = await token(stack.url, { token: t }, [app.client_id, app.client_secret], { path: '/oauth/introspect' });
    assert.equal(r.status, 200, r.text);
    return r.body;
  }

  // ------------------------------------------------------------ metadata

  test('the metadata lists dpop_signing_alg_values_supported (RFC 8414, OpenID discovery, RFC 9728)', async () => {
    const algs = ['ES256', 'EdDSA', 'Ed25519'];
    assert.deepEqual(as.dpop_signing_alg_values_supported, algs);
    const o = await (await fetch(`${stack.url}/.well-known/openid-configuration`)).json();
    assert.deepEqual(o.dpop_signing_alg_values_supported, algs);
    const r = await fetch(`${base}/.well-known/oauth-protected-resource/api`);
    assert.equal(r.status, 200);
    const m = await r.json();
    assert.equal(m.resource, `${base}/api`);
    assert.deepEqual(m.dpop_signing_alg_values_supported, algs);
  });

  // ------------------------------------------------------------ client libraries

  /* The code flow of oauth4webapi for client (PKCE, state) with a DPoP handle; returns the
   * processed token response. */
  async function o4wCode(client, clientAuth, DPoP, scope = 'profile') {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: 'code', scope, state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }))
      url.searchParams.set(k, v);
    const params = oauth.validateAuthResponse(as, client, await browse(s, url), state);
    const res = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, REDIRECT, verifier, { DPoP, ...insecure });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return oauth.processAuthorizationCodeResponse(as, client, res);
  }
  /* oauth4webapi's request to the guarded site; returns the upstream's echo. */
  async function o4wResource(t, DPoP, p = '/api/lib', method = 'GET') {
    const res = await oauth.protectedResourceRequest(t, method, new URL(base + p), undefined, method === 'GET' ? undefined : 'x=1',
      { DPoP, ...insecure });
    assert.equal(res.status, 200);
    return res.json();
  }

  for (const alg of ['ES256', 'Ed25519']) {
    test(`oauth4webapi, public client, ${alg} key: a DPoP token and a bound refresh token, the guarded location, a refresh`, async () => {
      const client = { client_id: pub.client_id, token_endpoint_auth_method: 'none' };
      const keyPair = await oauth.generateKeyPair(alg);
      const DPoP = oauth.DPoP(client, keyPair);
      const t = await o4wCode(client, oauth.None(), DPoP);
      assert.equal(t.token_type, 'dpop'); // the library lower-cases it
      assert.match(t.refresh_token, /^prt_/);
      const echo = await o4wResource(t.access_token, DPoP, '/api/o4w?page=2');
      assert.equal(echo.url, '/api/o4w?page=2');
      assert.equal(echo.headers['x-oauth-user'], 'demo');
      assert.equal(echo.headers['x-oauth-client'], pub.client_id);
      assert.equal(echo.headers.authorization, undefined);
      // the guarded request's own method is what the proof's htm is checked against
      assert.equal((await o4wResource(t.access_token, DPoP, '/api/o4w', 'POST')).url, '/api/o4w');
      // without its key the library sends it as a Bearer token: refused, with a DPoP challenge
      await assert.rejects(oauth.protectedResourceRequest(t.access_token, 'GET', new URL(`${base}/api/o4w`), undefined, undefined, insecure),
        (e) => e instanceof oauth.WWWAuthenticateChallengeError && e.response.status === 401 &&
          e.cause.some((c) => c.scheme === 'dpop' && c.parameters.error === 'invalid_token'));
      // the refresh token is bound: another key cannot use it, the right one can
      const other = oauth.DPoP(client, await oauth.generateKeyPair(alg));
      const bad = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), t.refresh_token, { DPoP: other, ...insecure });
      await assert.rejects(oauth.processRefreshTokenResponse(as, client, bad),
        (e) => e instanceof oauth.ResponseBodyError && e.status === 400 && e.error === 'invalid_dpop_proof');
      const res = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), t.refresh_token, { DPoP, ...insecure });
      const r = await oauth.processRefreshTokenResponse(as, client, res);
      assert.equal(r.token_type, 'dpop');
      assert.notEqual(r.access_token, t.access_token);
      assert.equal((await o4wResource(r.access_token, DPoP)).headers['x-oauth-user'], 'demo');
    });
  }

  test('oauth4webapi, confidential client: the code flow and client_credentials with DPoP; its refresh token is not bound', async () => {
    const client = { client_id: conf.client_id };
    const clientAuth = oauth.ClientSecretBasic(conf.client_secret);
    const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const t = await o4wCode(client, clientAuth, DPoP, 'profile posts:read');
    assert.equal(t.token_type, 'dpop');
    assert.equal((await o4wResource(t.access_token, DPoP)).headers['x-oauth-user'], 'demo');
    // RFC 9449 §5: a confidential client's refresh token is bound to its authentication
    const plain = await oauth.refreshTokenGrantRequest(as, client, clientAuth, t.refresh_token, insecure);
    const r = await oauth.processRefreshTokenResponse(as, client, plain);
    assert.equal(r.token_type, 'bearer');
    assert.equal(await (await fetch(`${base}/api/plain`, { headers: { authorization: `Bearer ${r.access_token}` } })).status, 200);

    const cc = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, { scope: 'posts:read' }, { DPoP, ...insecure });
    const c = await oauth.processClientCredentialsResponse(as, client, cc);
    assert.equal(c.token_type, 'dpop');
    assert.equal(c.refresh_token, undefined);
    const echo = await o4wResource(c.access_token, DPoP);
    assert.equal(echo.headers['x-oauth-client'], conf.client_id);
    assert.equal(echo.headers['x-oauth-scope'], 'posts:read');
    assert.equal(echo.headers['x-oauth-user'], undefined);
  });

  test('openid-client: getDPoPHandle, authorizationCodeGrant, fetchProtectedResource and fetchUserInfo with DPoP', async () => {
    const config = await oidc.discovery(new URL(stack.url), pub.client_id, undefined, oidc.None(), oidcInsecure);
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'profile', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const tokens = await oidc.authorizationCodeGrant(config, await browse(s, url),
      { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    assert.match(tokens.refresh_token, /^prt_/);
    const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${base}/api/oidc`), 'GET', undefined, undefined, { DPoP });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).headers['x-oauth-user'], 'demo');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, oidc.skipSubjectCheck, { DPoP });
    assert.equal(info.preferred_username, 'demo', JSON.stringify(info));
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    assert.equal(refreshed.token_type, 'dpop');
  });

  // ------------------------------------------------------------ what a bound token is

  test('introspection of a bound token: token_type DPoP and cnf.jkt, the RFC 7638 thumbprint; an unbound one has neither', async () => {
    const key = dpopKey();
    const r = await tokenWith({ grant_type: 'authorization_code', code: await codeFor(conf), redirect_uri: REDIRECT },
      proof(key, 'POST', TOKEN), [conf.client_id, conf.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'DPoP');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const i = await introspect(r.body.access_token);
    assert.equal(i.active, true);
    assert.equal(i.token_type, 'DPoP');
    assert.deepEqual(i.cnf, { jkt: await thumbprint(key) });
    // the refresh token of a confidential client is not bound: no cnf
    assert.equal((await introspect(r.body.refresh_token)).cnf, undefined);
    const plain = await introspect(await appToken(null));
    assert.equal(plain.token_type, 'Bearer');
    assert.equal(plain.cnf, undefined);
    // an Ed25519 key's thumbprint (kty OKP: crv, kty, x)
    const ed = dpopKey('EdDSA');
    assert.deepEqual((await introspect(await appToken(ed))).cnf, { jkt: await thumbprint(ed) });
  });

  test('a bound JWT access token (--access-token-format jwt) carries cnf.jkt, verified with jose; the check takes it with a proof', async () => {
    const key = dpopKey();
    const r = await tokenWith({ grant_type: 'client_credentials' }, proof(key, 'POST', TOKEN), [jwtApp.client_id, jwtApp.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'DPoP');
    const jwks = jose.createRemoteJWKSet(new URL(`${stack.url}/oauth/jwks`));
    const { payload } = await jose.jwtVerify(r.body.access_token, jwks, { issuer: stack.url, typ: 'at+jwt' });
    assert.deepEqual(payload.cnf, { jkt: await thumbprint(key) });
    await passes('/api/jwt', r.body.access_token, key);
    await refused('/api/jwt', { auth: `Bearer ${r.body.access_token}` }, 'invalid_token');
    await refused('/api/jwt', { auth: `DPoP ${r.body.access_token}`, dpop: proof(dpopKey(), 'GET', `${base}/api/jwt`, { token: r.body.access_token }) },
      'invalid_token');
    // a JWT without a proof stays a Bearer token
    const plain = await token(stack.url, { grant_type: 'client_credentials' }, [jwtApp.client_id, jwtApp.client_secret]);
    assert.equal((await jose.jwtVerify(plain.body.access_token, jwks, { issuer: stack.url })).payload.cnf, undefined);
  });

  test('the device_code grant with a proof gives a DPoP token', async () => {
    const d = await token(stack.url, { client_id: stack.cli_app.client_id }, undefined, { path: '/oauth/device_authorization' });
    assert.equal(d.status, 200, d.text);
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: d.body.user_code }));
    assert.equal(page.status, 200);
    const ok = await s.post('/oauth/device', { form: { ...consentForm(page.text_), action: 'approve' } });
    assert.ok(ok.status < 400, ok.text_.slice(0, 200));
    const key = dpopKey('EdDSA');
    const r = await tokenWith({ grant_type: DEVICE_GRANT, device_code: d.body.device_code, client_id: stack.cli_app.client_id },
      proof(key, 'POST', TOKEN));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'DPoP');
    assert.equal((await passes('/api/device', r.body.access_token, key)).headers['x-oauth-user'], 'demo');
  });

  test('userinfo with a bound token needs a proof for GET /oauth/userinfo', async () => {
    const key = dpopKey();
    const r = await tokenWith({ grant_type: 'authorization_code', code: await codeFor(conf), redirect_uri: REDIRECT },
      proof(key, 'POST', TOKEN), [conf.client_id, conf.client_secret]);
    const t = r.body.access_token;
    const url = `${stack.url}/oauth/userinfo`;
    const ok = await send(url, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', url, { token: t }) } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.preferred_username, 'demo', ok.text);
    assert.match(ok.json.sub, /^\d+$/);
    assertChallenge(await send(url, { headers: { authorization: `DPoP ${t}` } }), 401, 'invalid_dpop_proof');
    assertChallenge(await send(url, { headers: { authorization: `Bearer ${t}` } }), 401, 'invalid_token');
    assertChallenge(await send(url, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/api/x`, { token: t }) } }),
      401, 'invalid_dpop_proof');
    assertChallenge(await send(url, { method: 'POST', headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', url, { token: t }) } }),
      401, 'invalid_dpop_proof');
    assertChallenge(await send(url, { headers: { authorization: `DPoP ${t}`, dpop: proof(dpopKey(), 'GET', url, { token: t }) } }),
      401, 'invalid_token');
  });

  test('revoking a bound token makes the check refuse it, proof or not', async () => {
    const key = dpopKey();
    const t = await appToken(key);
    await passes('/api/rev', t, key);
    const r = await revoke(stack.url, { token: t }, [conf.client_id, conf.client_secret]);
    assert.equal(r.status, 200, r.text);
    await refused('/api/rev', { auth: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/api/rev`, { token: t }) }, 'invalid_token');
    assert.deepEqual(await introspect(t), { active: false });
  });

  // ------------------------------------------------------------ the check: what passes

  test('the check: hand-made ES256 and EdDSA proofs pass; htu without the query, scheme and host in any case, the default port; iat 30 s old', async () => {
    const port = new URL(base).port;
    for (const alg of ['ES256', 'EdDSA']) {
      const key = dpopKey(alg);
      const t = await appToken(key);
      const echo = await passes('/api/hand?q=1', t, key);
      assert.equal(echo.url, '/api/hand?q=1');
      assert.equal(echo.headers['x-oauth-client'], conf.client_id);
      const ok = async (htu, { claims, headers } = {}) => {
        const r = await api('/api/hand', { auth: `DPoP ${t}`, headers, dpop: proof(key, 'GET', htu, { token: t, claims }) });
        assert.equal(r.status, 200, `${htu}: ${r.www}`);
      };
      await ok(`HTTP://127.0.0.1:${port}/api/hand`);
      // what the client called the host (nginx's $http_host), in another case
      await ok(`http://localhost:${port}/api/hand`, { headers: { host: `LocalHost:${port}` } });
      // no port in the Host header: the default one, written or not
      await ok('http://127.0.0.1:80/api/hand', { headers: { host: '127.0.0.1' } });
      await ok('http://127.0.0.1/api/hand', { headers: { host: '127.0.0.1' } });
      await ok(`${base}/api/hand`, { claims: { iat: now() - 30 } });
      await ok(`${base}/api/hand`, { claims: { iat: now() + 3 } }); // within the 5 s of skew allowed
      // the scheme's name in any case (RFC 9110 §11.1)
      assert.equal((await api('/api/hand', { auth: `dpop ${t}`, dpop: proof(key, 'GET', `${base}/api/hand`, { token: t }) })).status, 200);
      // the path is compared exactly
      await refused('/api/hand', { auth: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/API/hand`, { token: t }) }, 'invalid_dpop_proof');
    }
  });

  test('the check called directly: 204 with the identity headers for a proof of /oauth/check; a refusal is no-store', async () => {
    const key = dpopKey();
    const t = await appToken(key);
    const url = `${base}/oauth/check`;
    const ok = await send(`${url}?scope=posts:read`, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', url, { token: t }) } });
    assert.equal(ok.status, 204, ok.www);
    assert.equal(ok.headers['x-oauth-client'], conf.client_id);
    assert.equal(ok.headers['x-oauth-scope'], 'profile posts:read');
    const no = await send(url, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/api/x`, { token: t }) } });
    assertChallenge(no, 401, 'invalid_dpop_proof');
    assert.equal(no.headers['cache-control'], 'no-store');
  });

  test('a check location without the X-Original-* params: a client\'s own X-Original-URL is checked against the request nginx guards, never trusted', async () => {
    // /bare-guard/ asks a check location that forgot the fastcgi_param lines
    const key = dpopKey();
    const t = await appToken(key);
    const at = (p) => proof(key, 'GET', base + p, { token: t });
    const hits = up.hits.length;
    // nothing names the guarded URL: the check fails closed (500 through auth_request)
    assert.equal((await api('/bare-guard/x', { auth: `DPoP ${t}`, dpop: at('/bare-guard/x') })).status, 500);
    // a client naming another URL (one its proof was made for) is refused too
    assert.equal((await api('/bare-guard/x', { auth: `DPoP ${t}`, dpop: at('/api/other'),
      headers: { 'x-original-url': `${base}/api/other`, 'x-original-method': 'GET' } })).status, 500);
    assert.equal((await api('/bare-guard/x', { auth: `DPoP ${t}`, dpop: at('/bare-guard/x'),
      headers: { 'x-original-url': `${base}/bare-guard/x`, 'x-original-method': 'POST' } })).status, 500);
    assert.equal(up.hits.length, hits, 'nothing reached the upstream');
    assert.match(stack.log('introspect.log'), /X-Original-URL or X-Original-Method is not the request nginx guards/);
    // one that names the very request it makes is what nginx would have said: it passes
    const ok = await api('/bare-guard/x', { auth: `DPoP ${t}`, dpop: at('/bare-guard/x'),
      headers: { 'x-original-url': `${base}/bare-guard/x`, 'x-original-method': 'GET' } });
    assert.equal(ok.status, 200, `${ok.status} ${ok.text.slice(0, 200)}`);
  });

  test('the check: a Bearer token that is not bound keeps working, its refusals keep the Bearer challenge', async () => {
    const t = await appToken(null);
    assert.equal((await api('/api/bearer', { auth: `Bearer ${t}` })).status, 200);
    assert.equal((await api('/api/bearer', { auth: t })).status, 200, 'the raw Postiz form too');
    const r = await api('/api/bearer', { auth: `Bearer pat_${'A'.repeat(49)}` });
    assert.equal(r.status, 401);
    assert.match(r.www, /^Bearer /);
  });

  test('the check: ?require_dpop=1 refuses a Bearer token with a DPoP challenge and takes a bound one', async () => {
    await refused('/dpop-only/x', { auth: `Bearer ${await appToken(null)}` }, 'invalid_token');
    const key = dpopKey();
    await passes('/dpop-only/x', await appToken(key), key);
  });

  test('the check: ?scope= a bound token lacks is 403 insufficient_scope with a DPoP challenge', async () => {
    const key = dpopKey();
    const t = await appToken(key, 'posts:read');
    await refused('/write/x', { auth: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/write/x`, { token: t }) }, 'insufficient_scope', 403);
    await passes('/write/x', await appToken(key, 'posts:write'), key);
  });

  // ------------------------------------------------------------ the check: attacks

  describe('attacks on the check, each 401 with a DPoP challenge, never upstream', () => {
    let key, t, url;
    before(async () => { key = dpopKey(); t = await appToken(key); url = `${base}/api/a`; });
    /* the token still passes with a fresh proof: a refusal changes nothing */
    after(async () => { await passes('/api/a', t, key); });
    const auth = () => `DPoP ${t}`;

    test('a replayed proof: the first use passes, the second is refused; a new proof with the same jti too', async () => {
      const p = proof(key, 'GET', url, { token: t });
      assert.equal((await api('/api/a', { auth: auth(), dpop: p })).status, 200);
      await refused('/api/a', { auth: auth(), dpop: p }, 'invalid_dpop_proof');
      const jti = JSON.parse(Buffer.from(p.split('.')[1], 'base64url')).jti;
      await refused('/api/b', { auth: auth(), dpop: proof(key, 'GET', `${base}/api/b`, { token: t, claims: { jti, iat: now() - 1 } }) },
        'invalid_dpop_proof');
    });

    test('one proof sent eight times at once passes once', async () => {
      const p = proof(key, 'GET', url, { token: t });
      const hits = up.hits.length;
      const all = await Promise.all(Array.from({ length: 8 }, () => api('/api/a', { auth: auth(), dpop: p })));
      assert.deepEqual(all.map((r) => r.status).sort(), [200, 401, 401, 401, 401, 401, 401, 401]);
      for (const r of all.filter((x) => x.status === 401)) assertChallenge(r, 401, 'invalid_dpop_proof');
      assert.equal(up.hits.length, hits + 1);
    });

    test('another method (htm)', async () => {
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'POST', url, { token: t }) }, 'invalid_dpop_proof');
      await refused('/api/a', { method: 'DELETE', auth: auth(), dpop: proof(key, 'GET', url, { token: t }) }, 'invalid_dpop_proof');
    });

    test('another URL (htu): another path, a proof for /api/a used on /api/b, another host or port', async () => {
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', `${base}/api/other`, { token: t }) }, 'invalid_dpop_proof');
      await refused('/api/b', { auth: auth(), dpop: proof(key, 'GET', url, { token: t }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', 'http://evil.example/api/a', { token: t }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', `http://127.0.0.1:1/api/a`, { token: t }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url.replace('http:', 'https:'), { token: t }) }, 'invalid_dpop_proof');
    });

    test('a client\'s own X-Original-URL and X-Original-Method cannot change what htu and htm are compared with', async () => {
      const spoof = { 'x-original-url': `${base}/api/b`, 'x-original-method': 'POST' };
      await refused('/api/a', { auth: auth(), headers: spoof, dpop: proof(key, 'POST', `${base}/api/b`, { token: t }) }, 'invalid_dpop_proof');
      assert.equal((await api('/api/a', { auth: auth(), headers: spoof, dpop: proof(key, 'GET', url, { token: t }) })).status, 200);
    });

    test('a proof signed by another key than its jwk; a proof by another key than the token is bound to', async () => {
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, signer: dpopKey() }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(dpopKey(), 'GET', url, { token: t }) }, 'invalid_token');
      await refused('/api/a', { auth: auth(), dpop: proof(dpopKey('EdDSA'), 'GET', url, { token: t }) }, 'invalid_token');
      // a tampered payload no longer matches its signature
      const [h, , sig] = proof(key, 'GET', `${base}/api/b`, { token: t }).split('.');
      const forged = `${h}.${b64(JSON.stringify({ jti: 'x1', htm: 'GET', htu: url, iat: now(), ath: ath(t) }))}.${sig}`;
      await refused('/api/a', { auth: auth(), dpop: forged }, 'invalid_dpop_proof');
    });

    test('a stale iat (now - 600), a future iat (now + 600, now + 30)', async () => {
      for (const iat of [now() - 600, now() + 600, now() + 30])
        await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, claims: { iat } }) }, 'invalid_dpop_proof');
    });

    test('a missing ath, the ath of another token', async () => {
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: await appToken(key) }) }, 'invalid_dpop_proof');
    });

    test('the bound token sent as Bearer, with a proof and without', async () => {
      await refused('/api/a', { auth: `Bearer ${t}`, dpop: proof(key, 'GET', url, { token: t }) }, 'invalid_token');
      await refused('/api/a', { auth: `Bearer ${t}` }, 'invalid_token');
      await refused('/api/a', { auth: t }, 'invalid_token');
    });

    test('an unbound Bearer token sent with the DPoP scheme and a valid proof', async () => {
      const plain = await appToken(null);
      await refused('/api/a', { auth: `DPoP ${plain}`, dpop: proof(key, 'GET', url, { token: plain }) }, 'invalid_token');
      assert.equal((await api('/api/a', { auth: `Bearer ${plain}` })).status, 200, 'the refusal changed nothing');
    });

    test('the DPoP scheme without a proof; two DPoP headers (each valid alone)', async () => {
      await refused('/api/a', { auth: auth() }, 'invalid_dpop_proof');
      const p1 = proof(key, 'GET', url, { token: t }), p2 = proof(key, 'GET', url, { token: t });
      await refused('/api/a', { auth: auth(), dpop: [p1, p2] }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: [p1, p1] }, 'invalid_dpop_proof');
    });

    test('typ other than dpop+jwt; alg none, HS256, RS256, or not the jwk\'s', async () => {
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, header: { typ: 'JWT' } }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, header: { typ: undefined } }) }, 'invalid_dpop_proof');
      const unsigned = (header) => {
        const h = { typ: 'dpop+jwt', jwk: key.jwk, ...header };
        return `${b64(JSON.stringify(h))}.${b64(JSON.stringify({ jti: b64(randomBytes(12)), htm: 'GET', htu: url, iat: now(), ath: ath(t) }))}`;
      };
      await refused('/api/a', { auth: auth(), dpop: `${unsigned({ alg: 'none' })}.` }, 'invalid_dpop_proof');
      const hs = unsigned({ alg: 'HS256' });
      const mac = createHmac('sha256', Buffer.from(key.jwk.x, 'base64url')).update(hs).digest();
      await refused('/api/a', { auth: auth(), dpop: `${hs}.${b64(mac)}` }, 'invalid_dpop_proof');
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const { kty, n, e } = rsa.publicKey.export({ format: 'jwk' });
      const rs = unsigned({ alg: 'RS256', jwk: { kty, n, e } });
      await refused('/api/a', { auth: auth(), dpop: `${rs}.${b64(cryptoSign('sha256', Buffer.from(rs), rsa.privateKey))}` }, 'invalid_dpop_proof');
      // an EC key under the EdDSA name, an Ed25519 key under ES256
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, header: { alg: 'EdDSA' } }) }, 'invalid_dpop_proof');
      const ed = dpopKey('EdDSA');
      await refused('/api/a', { auth: auth(), dpop: proof(ed, 'GET', url, { token: t, header: { alg: 'ES256' } }) }, 'invalid_dpop_proof');
    });

    test('a jwk with its private member d; no jwk; a jwk of another curve', async () => {
      const d = key.privateKey.export({ format: 'jwk' }).d;
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, header: { jwk: { ...key.jwk, d } } }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, header: { jwk: undefined } }) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, header: { jwk: { ...key.jwk, crv: 'P-384' } } }) },
        'invalid_dpop_proof');
    });

    test('claims missing or out of range: jti, htm, htu, iat; a jti of 257 characters (256 pass)', async () => {
      for (const claims of [{ jti: undefined }, { jti: '' }, { jti: 7 }, { jti: 'j'.repeat(257) }, { htm: undefined },
        { htu: undefined }, { htu: 'not a url' }, { iat: undefined }, { iat: String(now()) }])
        await refused('/api/a', { auth: auth(), dpop: proof(key, 'GET', url, { token: t, claims }) }, 'invalid_dpop_proof');
      const long = proof(key, 'GET', url, { token: t, claims: { jti: b64(randomBytes(12)).padEnd(256, 'j') } });
      assert.equal((await api('/api/a', { auth: auth(), dpop: long })).status, 200);
    });

    test('a proof longer than 2048 bytes (the longest at most 2048 passes)', async () => {
      /* proofs padded by an extra claim: their length depends on the padding alone */
      const padded = (n) => proof(key, 'GET', url, { token: t, claims: { jti: `p${n}-${b64(randomBytes(9))}`, pad: 'x'.repeat(n) } });
      let fits = null, over = null;
      for (let n = 1000; n < 2000 && !over; n++) {
        const p = padded(n);
        if (p.length <= 2048) fits = n; else over = n;
      }
      assert.ok(padded(fits).length <= 2048 && padded(fits).length >= 2045, String(padded(fits).length));
      assert.equal((await api('/api/a', { auth: auth(), dpop: padded(fits) })).status, 200);
      await refused('/api/a', { auth: auth(), dpop: padded(over) }, 'invalid_dpop_proof');
      await refused('/api/a', { auth: auth(), dpop: padded(4000) }, 'invalid_dpop_proof');
    });

    test('garbage', async () => {
      for (const g of ['garbage', 'a.b.c', '...', `${b64('{')}.${b64('{}')}.${b64('x')}`, 'eyJ0eXAiOiJkcG9wK2p3dCJ9..', '\u00e9t\u00e9'])
        await refused('/api/a', { auth: auth(), dpop: g }, 'invalid_dpop_proof');
    });
  });

  // ------------------------------------------------------------ the token endpoint: attacks

  test('token endpoint: a replayed proof, another htu or htm, a malformed proof: 400 invalid_dpop_proof, no-store', async () => {
    const key = dpopKey();
    const creds = [conf.client_id, conf.client_secret];
    const p = proof(key, 'POST', TOKEN);
    assert.equal((await tokenWith({ grant_type: 'client_credentials' }, p, creds)).status, 200);
    for (const dpop of [p, proof(key, 'POST', `${stack.url}/oauth/revoke`), proof(key, 'GET', TOKEN), proof(key, 'POST', TOKEN, { signer: dpopKey() }),
      proof(key, 'POST', TOKEN, { claims: { iat: now() - 600 } }), 'garbage']) {
      const r = await tokenWith({ grant_type: 'client_credentials' }, dpop, creds);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'invalid_dpop_proof', r.text);
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
  });

  test('token endpoint: two DPoP headers are refused; one proof sent six times at once issues one token', async () => {
    const key = dpopKey();
    const form = new URLSearchParams({ grant_type: 'client_credentials' }).toString();
    const post = (dpop) => send(TOKEN, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${conf.client_id}:${conf.client_secret}`).toString('base64')}`, dpop } });
    const two = await post([proof(key, 'POST', TOKEN), proof(key, 'POST', TOKEN)]);
    assert.equal(two.status, 400, two.text);
    assert.equal(two.json.error, 'invalid_dpop_proof');
    const p = proof(key, 'POST', TOKEN);
    const all = await Promise.all(Array.from({ length: 6 }, () => post(p)));
    assert.deepEqual(all.map((r) => r.status).sort(), [200, 400, 400, 400, 400, 400], all.map((r) => r.text).join('\n'));
    for (const r of all.filter((x) => x.status === 400)) assert.equal(r.json.error, 'invalid_dpop_proof');
  });

  test('token endpoint: a bound refresh token without a proof or with another key is refused and not consumed', async () => {
    const key = dpopKey();
    const { verifier } = pkce();
    const first = await tokenWith({ grant_type: 'authorization_code', code: await codeFor(pub, { verifier }), redirect_uri: REDIRECT,
      client_id: pub.client_id, code_verifier: verifier }, proof(key, 'POST', TOKEN));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.token_type, 'DPoP');
    const rt = first.body.refresh_token;
    const body = { grant_type: 'refresh_token', refresh_token: rt, client_id: pub.client_id };
    for (const dpop of [undefined, proof(dpopKey(), 'POST', TOKEN), proof(dpopKey('EdDSA'), 'POST', TOKEN)]) {
      const r = await tokenWith(body, dpop);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'invalid_dpop_proof', r.text);
    }
    // still live, and so is what it was issued with (no reuse detection was set off)
    await passes('/api/rt', first.body.access_token, key);
    const r = await tokenWith(body, proof(key, 'POST', TOKEN));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'DPoP');
    await passes('/api/rt', r.body.access_token, key);
    // the rotated refresh token is bound too
    const again = await tokenWith({ ...body, refresh_token: r.body.refresh_token });
    assert.equal(again.body?.error, 'invalid_dpop_proof', again.text);
  });

  test('dpop_jkt binds the code: redeemed without a proof or with another key it is refused, then redeemed with the key', async () => {
    const key = dpopKey('EdDSA');
    const { verifier } = pkce();
    const code = await codeFor(pub, { verifier, dpop_jkt: await thumbprint(key) });
    const body = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: pub.client_id, code_verifier: verifier };
    for (const dpop of [undefined, proof(dpopKey('EdDSA'), 'POST', TOKEN), proof(dpopKey(), 'POST', TOKEN)]) {
      const r = await tokenWith(body, dpop);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'invalid_dpop_proof', r.text);
    }
    const r = await tokenWith(body, proof(key, 'POST', TOKEN));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.token_type, 'DPoP');
    await passes('/api/jkt', r.body.access_token, key);
    // a second use by the key holder is still a replayed code: refused, and its token revoked
    const again = await tokenWith(body, proof(key, 'POST', TOKEN));
    assert.equal(again.body?.error, 'invalid_grant', again.text);
    await refused('/api/jkt', { auth: `DPoP ${r.body.access_token}`, dpop: proof(key, 'GET', `${base}/api/jkt`, { token: r.body.access_token }) },
      'invalid_token');
  });

  test('a malformed dpop_jkt is invalid_request at the redirect URI', async () => {
    for (const dpop_jkt of ['abc', 'A'.repeat(42), 'A'.repeat(44), `${'A'.repeat(42)}+`]) {
      const a = await authorize(s, { ...codeRequest(conf.client_id), dpop_jkt });
      assert.equal(a.status, 302, a.res.text_.slice(0, 200));
      assert.equal(a.error, 'invalid_request', `${dpop_jkt}: ${a.location}`);
      assert.equal(a.code, null);
    }
  });

  test('an app with --require-dpop (create and set) refuses a token request without a proof', async () => {
    const strict = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Strict', '--grant-types', 'client_credentials', '--require-dpop']));
    const later = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Later', '--grant-types', 'client_credentials']));
    assert.equal((await token(stack.url, { grant_type: 'client_credentials' }, [later.client_id, later.client_secret])).status, 200);
    stack.cli(['app', 'set', later.client_id, '--require-dpop']);
    for (const app of [strict, later]) {
      const r = await token(stack.url, { grant_type: 'client_credentials' }, [app.client_id, app.client_secret]);
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'invalid_dpop_proof');
      const key = dpopKey();
      const ok = await tokenWith({ grant_type: 'client_credentials' }, proof(key, 'POST', TOKEN), [app.client_id, app.client_secret]);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.token_type, 'DPoP');
    }
  });

  test('a used jti is kept as a keyed hash only, until the janitor removes it once it could no longer be fresh', async () => {
    const key = dpopKey();
    const t = await appToken(key);
    const jti = `jti-${b64(randomBytes(24))}`;
    const p = proof(key, 'GET', `${base}/api/j`, { token: t, claims: { jti } });
    assert.equal((await api('/api/j', { auth: `DPoP ${t}`, dpop: p })).status, 200);
    for (const { name, text } of storedData(stack)) assert.ok(!holds(text, jti), `${name} holds the jti as it is`);
    const count = () => Number(stack.sql('SELECT count(*) FROM dpop_proofs'));
    const before_ = count();
    assert.ok(before_ >= 1);
    // a row that could still be fresh stays
    stack.cli(['janitor']);
    assert.equal(count(), before_);
    stack.sql(`UPDATE dpop_proofs SET expires = ${unixNow() - 1}`);
    stack.cli(['janitor']);
    assert.equal(count(), 0);
  });

  test('registration: dpop_bound_access_tokens is echoed, and such a client needs a proof', async () => {
    const reg = await fetch(`${stack.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'DPoP agent', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'profile', dpop_bound_access_tokens: true }) });
    const c = await reg.json();
    assert.equal(reg.status, 201, JSON.stringify(c));
    assert.equal(c.dpop_bound_access_tokens, true);
    const { verifier } = pkce();
    const body = { grant_type: 'authorization_code', code: await codeFor(c, { verifier }), redirect_uri: REDIRECT,
      client_id: c.client_id, code_verifier: verifier };
    const r = await tokenWith(body);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error, 'invalid_dpop_proof');
    const key = dpopKey();
    const ok = await tokenWith(body, proof(key, 'POST', TOKEN));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.token_type, 'DPoP');
  });
});

// ---------------------------------------------------------------- nonces

describe('DPoP nonces (dpop_nonce = on)', () => {
  let stack, up, s, base, as, pub;
  before(async () => {
    ({ stack, up } = await dpopStack({}, ['dpop_nonce = on']));
    base = new URL(stack.url).origin;
    pub = createApp(stack, 'SPA', '--public');
    s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const issuer = new URL(stack.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  after(async () => { await stack?.stop(); await up?.close(); });

  test('oauth4webapi: use_dpop_nonce with a DPoP-Nonce at the token endpoint (400) and the guarded location (401), then through', async () => {
    const client = { client_id: pub.client_id, token_endpoint_auth_method: 'none' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const DPoP = oauth.DPoP(client, keyPair);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({ client_id: pub.client_id, redirect_uri: REDIRECT, response_type: 'code', scope: 'profile', state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }))
      url.searchParams.set(k, v);
    const params = oauth.validateAuthResponse(as, client, await browse(s, url), state);
    const grant = () => oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, { DPoP, ...insecure });

    let res = await grant();
    const first = res.headers.get('dpop-nonce');
    assert.ok(first, 'no DPoP-Nonce with use_dpop_nonce');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const err = await oauth.processAuthorizationCodeResponse(as, client, res).catch((e) => e);
    assert.ok(oauth.isDPoPNonceError(err), String(err));
    assert.equal(err.status, 400);
    // the nonce error did not consume the code: the library's retry carries the nonce
    res = await grant();
    assert.ok(res.headers.get('dpop-nonce'), 'no DPoP-Nonce on the success');
    const t = await oauth.processAuthorizationCodeResponse(as, client, res);
    assert.equal(t.token_type, 'dpop');

    // a new handle of the same key knows no nonce yet
    const fresh = oauth.DPoP(client, keyPair);
    const call = () => oauth.protectedResourceRequest(t.access_token, 'GET', new URL(`${base}/api/nonce`), undefined, undefined, { DPoP: fresh, ...insecure });
    const e401 = await call().catch((e) => e);
    assert.ok(e401 instanceof oauth.WWWAuthenticateChallengeError, String(e401));
    assert.equal(e401.response.status, 401);
    assert.ok(oauth.isDPoPNonceError(e401), e401.response.headers.get('www-authenticate'));
    assert.match(e401.response.headers.get('www-authenticate'), /^DPoP .*error="use_dpop_nonce"/);
    assert.ok(e401.response.headers.get('dpop-nonce'), 'nginx did not relay DPoP-Nonce on the 401');
    const ok = await call();
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).headers['x-oauth-user'], 'demo');
  });

  test('a proof with an unknown nonce or none: use_dpop_nonce with a new DPoP-Nonce, by hand at both', async () => {
    const key = dpopKey('EdDSA');
    const TOKEN = `${stack.url}/oauth/token`;
    const { verifier } = pkce();
    const a = await authorize(s, codeRequest(pub.client_id, { verifier, redirect_uri: REDIRECT }));
    const body = { grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT, client_id: pub.client_id, code_verifier: verifier };
    let nonce;
    for (const claims of [{}, { nonce: 'made-up-nonce' }]) {
      const r = await token(stack.url, body, undefined, { headers: { dpop: proof(key, 'POST', TOKEN, { claims }) } });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error, 'use_dpop_nonce', r.text);
      nonce = r.headers.get('dpop-nonce');
      assert.ok(nonce);
    }
    const r = await token(stack.url, body, undefined, { headers: { dpop: proof(key, 'POST', TOKEN, { claims: { nonce } }) } });
    assert.equal(r.status, 200, r.text);
    const t = r.body.access_token;
    const url = `${base}/api/n`;
    for (const claims of [{}, { nonce: 'made-up-nonce' }]) {
      const c = await send(url, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', url, { token: t, claims }) } });
      assertChallenge(c, 401, 'use_dpop_nonce');
      assert.ok(c.nonce, 'no DPoP-Nonce relayed');
      nonce = c.nonce;
    }
    const ok = await send(url, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', url, { token: t, claims: { nonce } }) } });
    assert.equal(ok.status, 200, `${ok.www} ${ok.text}`);
  });

  test('openid-client does the nonce dance by itself', async () => {
    const config = await oidc.discovery(new URL(stack.url), pub.client_id, undefined, oidc.None(), oidcInsecure);
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('Ed25519'));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'profile', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const tokens = await oidc.authorizationCodeGrant(config, await browse(s, url), { pkceCodeVerifier: verifier, expectedState: state },
      undefined, { DPoP });
    assert.equal(tokens.token_type, 'dpop');
    const res = await oidc.fetchProtectedResource(config, tokens.access_token, new URL(`${base}/api/oidc-nonce`), 'GET', undefined, undefined, { DPoP });
    assert.equal(res.status, 200);
  });
});

// ---------------------------------------------------------------- the micro-cache

describe('DPoP with the micro-cache of the check (CHECK_CACHE)', () => {
  let stack, up, base, app;
  before(async () => {
    ({ stack, up } = await dpopStack({ CHECK_CACHE: '5' }));
    base = new URL(stack.url).origin;
    app = createApp(stack, 'Service', '--grant-types', 'client_credentials');
  });
  after(async () => { await stack?.stop(); await up?.close(); });

  /* Every file of nginx's cache folder. */
  function cacheFiles() {
    const out = [];
    const walk = (d) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name)) : out.push(e.name);
    };
    walk(path.join(stack.dir, 'check-cache'));
    return out;
  }
  async function appToken(key) {
    const r = await token(stack.url, { grant_type: 'client_credentials' }, [app.client_id, app.client_secret],
      { headers: key ? { dpop: proof(key, 'POST', `${stack.url}/oauth/token`) } : {} });
    assert.equal(r.status, 200, r.text);
    return r.body.access_token;
  }

  test('a replayed DPoP request is refused, and no DPoP request is kept, while Bearer answers are', async () => {
    // the cache is on: a Bearer token's 204 is kept
    const plain = await appToken(null);
    assert.equal((await send(`${base}/api/c`, { headers: { authorization: `Bearer ${plain}` } })).status, 200);
    const kept = cacheFiles().length;
    assert.ok(kept >= 1, 'the micro-cache kept nothing: the test would prove nothing');

    const key = dpopKey();
    const t = await appToken(key);
    const headers = { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/api/c`, { token: t }) };
    assert.equal((await send(`${base}/api/c`, { headers })).status, 200);
    assertChallenge(await send(`${base}/api/c`, { headers }), 401, 'invalid_dpop_proof');
    // the same Authorization header without its proof, or with the Bearer scheme
    assertChallenge(await send(`${base}/api/c`, { headers: { authorization: `DPoP ${t}` } }), 401, 'invalid_dpop_proof');
    assertChallenge(await send(`${base}/api/c`, { headers: { authorization: `Bearer ${t}` } }), 401, 'invalid_token');
    // and a fresh proof still passes: the check answered each time
    assert.equal((await send(`${base}/api/c`, { headers: { authorization: `DPoP ${t}`, dpop: proof(key, 'GET', `${base}/api/c`, { token: t }) } })).status, 200);
    assert.equal(cacheFiles().length, kept, 'a DPoP request was cached');
  });
});

// ---------------------------------------------------------------- the production config

describe('nginx.conf.example for DPoP', () => {
  const example = readFileSync(path.join(root, 'nginx.conf.example'), 'utf8');
  /* The body of the first location block whose opening line matches re. */
  const block = (re) => {
    const m = example.match(new RegExp(`^\\s*location ${re.source}[^{]*\\{([\\s\\S]*?)^\\s*\\}`, 'm'));
    assert.ok(m, `no location ${re.source} in nginx.conf.example`);
    return m[1].replace(/^\s*#.*$/gm, '');
  };

  test('the check names the guarded request: X-Original-Method and X-Original-URL set by fastcgi_param', () => {
    const check = block(/\^~ \/oauth\/check/);
    assert.match(check, /fastcgi_param\s+HTTP_X_ORIGINAL_METHOD\s+\$request_method;/);
    assert.match(check, /fastcgi_param\s+HTTP_X_ORIGINAL_URL\s+\$scheme:\/\/\$http_host\$request_uri;/);
  });

  test('the guarded location and its 401 relay the check\'s DPoP-Nonce', () => {
    assert.match(block(/\/api\//), /auth_request_set\s+\$oauth_dpop_nonce\s+\$upstream_http_dpop_nonce;/);
    assert.match(block(/@postern_401/), /add_header\s+DPoP-Nonce\s+\$oauth_dpop_nonce\s+always;/);
  });
});
