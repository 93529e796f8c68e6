// discovery.test.mjs: a client library nobody here wrote (openid-client) discovers postern
// from its RFC 8414 metadata and runs the code flow with PKCE against it, then calls an
// nginx-protected location; and an MCP-style client starts from a protected resource's
// 401, finds the server through RFC 9728 metadata, registers itself (RFC 7591) and runs
// the flow as a public client.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startStack } from '../lib/stack.mjs';
import { Session, consentForm } from '../lib/client.mjs';
import { protectedSite } from '../lib/site.mjs';

// ---------------------------------------------------------------- helpers

/* Follows the authorization URL as a person would, in a fresh browser (a Session with
 * URLs given whole): sign in, approve; returns the URL the server sent the browser back to. */
async function approve(authUrl, user, password) {
  const b = new Session('');
  let r = await b.get(authUrl.href);
  if (r.status === 302 && new URL(r.headers.get('location'), authUrl).pathname.endsWith('/oauth/login')) {
    const login = new URL(r.headers.get('location'), authUrl);
    const page = await b.get(login.href);
    const csrf = page.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
    const s = await b.post(new URL(page.text_.match(/<form method="post" action="([^"]*\/oauth\/login)"/)[1], login).href,
      { form: { csrf, username: user, password, return_to: login.searchParams.get('return_to') } });
    assert.equal(s.status, 303, 'sign-in failed');
    r = await b.get(new URL(s.headers.get('location'), authUrl).href);
  }
  if (r.status === 200) {
    const form = { ...consentForm(r.text_), action: 'approve' };
    assert.ok(form.org, 'no organization on the consent page');
    const action = r.text_.match(/<form method="post" action="([^"]*\/oauth\/consent)"/)[1];
    r = await b.post(new URL(action, authUrl).href, { form });
  }
  assert.equal(r.status, 302, r.text_.slice(0, 300));
  return new URL(r.headers.get('location'));
}

const insecure = { algorithm: 'oauth2', execute: [client.allowInsecureRequests] };

// ---------------------------------------------------------------- tests

describe('openid-client against postern', () => {
  let site, stack, up, port, mcp;
  before(async () => { site = await protectedSite({ config: 'registration = on', write: null }); ({ stack, up, port, mcp } = site); });
  after(async () => { await site?.stop(); });

  test('discovers the server from its RFC 8414 metadata', async () => {
    const config = await client.discovery(new URL(stack.url), stack.app.client_id, undefined,
      client.ClientSecretBasic(stack.app.client_secret), insecure);
    const m = config.serverMetadata();
    assert.equal(m.issuer, stack.url);
    assert.equal(m.token_endpoint, `${stack.url}/oauth/token`);
    assert.equal(m.registration_endpoint, `${stack.url}/oauth/register`, 'registration = on is advertised');
    assert.equal(m.supportsPKCE(), true);
  });

  test('runs the code flow with PKCE, then calls the protected API, introspects and revokes', async () => {
    const config = await client.discovery(new URL(stack.url), stack.app.client_id, undefined,
      client.ClientSecretBasic(stack.app.client_secret), insecure);
    const redirect_uri = stack.app.redirect_uris[0];
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authUrl = client.buildAuthorizationUrl(config, {
      redirect_uri, scope: 'profile posts:read', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const back = await approve(authUrl, 'demo', stack.password);
    // the library checks state and the RFC 9207 iss parameter against the metadata
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state });
    assert.match(tokens.access_token, /^pat_[A-Za-z0-9]{49}$/);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(tokens.scope, 'profile posts:read');

    const res = await client.fetchProtectedResource(config, tokens.access_token, new URL(`http://127.0.0.1:${port}/api/me`), 'GET');
    assert.equal(res.status, 200);
    const echo = await res.json();
    assert.equal(echo.headers['x-oauth-user'], 'demo');
    assert.equal(echo.headers['x-oauth-client'], stack.app.client_id);

    const info = await client.tokenIntrospection(config, tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.username, 'demo');
    assert.equal(info.client_id, stack.app.client_id);

    // a PKCE verifier that does not match is refused
    const v2 = client.randomPKCECodeVerifier();
    const s2 = client.randomState();
    const url2 = client.buildAuthorizationUrl(config, { redirect_uri, scope: 'profile', state: s2,
      code_challenge: await client.calculatePKCECodeChallenge(v2), code_challenge_method: 'S256' });
    const back2 = await approve(url2, 'demo', stack.password);
    await assert.rejects(client.authorizationCodeGrant(config, back2, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: s2 }),
      (e) => e.error === 'invalid_grant');

    await client.tokenRevocation(config, tokens.access_token);
    const hits = up.hits.length;
    await assert.rejects(client.fetchProtectedResource(config, tokens.access_token, new URL(`http://127.0.0.1:${port}/api/me`), 'GET'),
      (e) => e.status === 401 && e.cause?.[0]?.scheme === 'bearer' && e.cause[0].parameters.error === 'invalid_token');
    assert.equal(up.hits.length, hits);
  });

  test('an MCP client: 401 → resource metadata → discovery → registration → PKCE flow → the MCP server', async () => {
    // 1. the MCP server refuses and says where its metadata is (RFC 9728 §5.1)
    const first = await fetch(mcp, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(first.status, 401);
    const www = first.headers.get('www-authenticate');
    const metaUrl = www.match(/resource_metadata="([^"]+)"/)[1];
    // 2. the protected-resource metadata names the authorization server
    const prm = await (await fetch(metaUrl)).json();
    assert.equal(prm.resource, mcp);
    const issuer = prm.authorization_servers[0];
    assert.equal(issuer, stack.url);
    // 3. register a public client with the library (RFC 7591)
    const redirect_uri = `http://127.0.0.1:${port}/demo/callback`;
    const config = await client.dynamicClientRegistration(new URL(issuer), {
      client_name: 'An AI agent', redirect_uris: [redirect_uri], grant_types: ['authorization_code'],
      response_types: ['code'], token_endpoint_auth_method: 'none',
    }, client.None(), insecure);
    const meta = config.clientMetadata();
    assert.match(meta.client_id, /^pca_[A-Za-z0-9]{32}$/);
    assert.equal(meta.client_secret, undefined, 'a public client gets no secret');
    const apps = JSON.parse(stack.cli(['--json', 'app', 'list']));
    assert.ok(apps.some((a) => a.client_id === meta.client_id && a.name === 'An AI agent'), 'the admin command sees the registered app');
    // 4. the code flow with PKCE and the resource indicator (RFC 8707)
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authUrl = client.buildAuthorizationUrl(config, {
      redirect_uri, scope: 'profile', state, resource: mcp,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const back = await approve(authUrl, 'demo', stack.password);
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state }, { resource: mcp });
    assert.match(tokens.access_token, /^pat_/);
    // 5. the MCP server now lets it in, and knows who it is
    const res = await client.fetchProtectedResource(config, tokens.access_token, new URL(mcp), 'POST', '{}', new Headers({ 'content-type': 'application/json' }));
    assert.equal(res.status, 200);
    const echo = await res.json();
    assert.equal(echo.headers['x-oauth-user'], 'demo');
    assert.equal(echo.headers['x-oauth-client'], meta.client_id);
    // the token is bound to the MCP resource; the MCP server introspects it as a resource
    // server (an administrator marks it one: a client sees only its own tokens otherwise)
    stack.cli(['app', 'set', stack.app.client_id, '--resource-server']);
    const i = await fetch(`${stack.url}/oauth/introspect`, {
      method: 'POST', body: new URLSearchParams({ token: tokens.access_token }),
      headers: { authorization: 'Basic ' + Buffer.from(`${stack.app.client_id}:${stack.app.client_secret}`).toString('base64') },
    });
    assert.equal((await i.json()).aud, mcp);
    // a public client without PKCE is refused at the authorization endpoint; with nobody
    // signed in the error is a page, not a redirect to a client that registered itself
    const noPkce = client.buildAuthorizationUrl(config, { redirect_uri, scope: 'profile', state: 'x' });
    const r = await fetch(noPkce, { redirect: 'manual' });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('location'), null);
    assert.match(await r.text(), /invalid_request: PKCE/);
  });
});

describe('openid-client against a sub-path deployment', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { BASE_PATH: '/auth' } }); });
  after(async () => { await stack?.stop(); });

  test('discovers the issuer at /.well-known/oauth-authorization-server/auth and runs the flow', async () => {
    const seen = [];
    const config = await client.discovery(new URL(stack.url), stack.app.client_id, undefined,
      client.ClientSecretPost(stack.app.client_secret),
      { ...insecure, [client.customFetch]: (url, o) => { seen.push(String(url)); return fetch(url, o); } });
    assert.equal(new URL(seen[0]).pathname, '/.well-known/oauth-authorization-server/auth');
    assert.equal(config.serverMetadata().issuer, stack.url);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authUrl = client.buildAuthorizationUrl(config, { redirect_uri: stack.app.redirect_uris[0], scope: 'profile', state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    assert.equal(authUrl.pathname, '/auth/oauth/authorize');
    const back = await approve(authUrl, 'demo', stack.password);
    const tokens = await client.authorizationCodeGrant(config, back, { pkceCodeVerifier: verifier, expectedState: state });
    const info = await client.fetchUserInfo(config, tokens.access_token, client.skipSubjectCheck);
    assert.equal(info.name, 'demo');
  });
});
