// oauth4webapi.test.mjs: the oauth4webapi client library (panva, RFC-strict) completes the
// authorization-code flow against a real stack: RFC 8414 discovery, PKCE + state, the
// RFC 9207 iss check, the code exchange with client_secret_basic, a refresh, and RFC 7009
// revocation; and it sees postern's errors as the RFCs say it should.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startStack } from '../lib/stack.mjs';
import { Session, check } from '../lib/client.mjs';

/* Plain http on loopback: the library refuses it unless told otherwise. */
const insecure = { [oauth.allowInsecureRequests]: true };

describe('oauth4webapi', () => {
  let stack, as, client, auth, redirectUri, browser;

  /* The browser step: opens the authorization URL in a signed-in session, approves the
   * consent page when it shows, and returns the URL the browser was sent back to. */
  async function browse(authorizationUrl, decision = 'approve') {
    let r = await browser.get(authorizationUrl.href);
    if (r.status === 200 && /name="action" value="approve"/.test(r.text_)) {
      const form = {};
      for (const m of r.text_.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
        form[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
      form.org = r.text_.match(/name="org" value="(\d+)"/)[1];
      form.action = decision;
      r = await browser.post('/oauth/consent', { form });
    }
    assert.equal(r.status, 302, r.text_.slice(0, 300));
    const back = new URL(r.headers.get('location'));
    assert.equal(back.origin + back.pathname, redirectUri);
    return back;
  }

  /* An authorization URL built by the library, with PKCE S256 and a state. */
  async function authorizationUrl(scope = 'profile') {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { url, codeVerifier, state };
  }

  /* The whole flow up to the token response. */
  async function tokens(scope = 'profile') {
    const { url, codeVerifier, state } = await authorizationUrl(scope);
    const params = oauth.validateAuthResponse(as, client, await browse(url), state);
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure);
    return oauth.processAuthorizationCodeResponse(as, client, res);
  }

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3600', LOGIN_RATE: '1000r/s', TOKEN_RATE: '1000r/s' } });
    const issuer = new URL(stack.url);
    const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
    as = await oauth.processDiscoveryResponse(issuer, res);
    client = { client_id: stack.app.client_id };
    auth = oauth.ClientSecretBasic(stack.app.client_secret);
    redirectUri = stack.app.redirect_uris[0];
    browser = new Session(stack.url);
    await browser.signIn('demo', stack.password);
  });
  after(async () => { await stack?.stop(); });

  test('discovery: RFC 8414 metadata at /.well-known/oauth-authorization-server', () => {
    assert.equal(as.issuer, stack.url);
    assert.equal(as.authorization_endpoint, `${stack.url}/oauth/authorize`);
    assert.equal(as.token_endpoint, `${stack.url}/oauth/token`);
    assert.equal(as.revocation_endpoint, `${stack.url}/oauth/revoke`);
    assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
    assert.ok(as.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
    assert.equal(as.authorization_response_iss_parameter_supported, true);
  });

  test('discovery of another issuer is refused by the library (issuer must match)', async () => {
    const res = await oauth.discoveryRequest(new URL(stack.url), { algorithm: 'oauth2', ...insecure });
    await assert.rejects(oauth.processDiscoveryResponse(new URL('http://127.0.0.1:1/other'), res),
      (e) => e instanceof oauth.OperationProcessingError && e.code === oauth.JSON_ATTRIBUTE_COMPARISON && /issuer/.test(e.message));
  });

  test('the whole flow: authorize with PKCE and state, iss checked, code exchanged with client_secret_basic', async () => {
    const { url, codeVerifier, state } = await authorizationUrl('profile posts:read');
    const back = await browse(url);
    assert.equal(back.searchParams.get('iss'), stack.url);
    const params = oauth.validateAuthResponse(as, client, back, state);
    assert.match(params.get('code'), /^pac_/);
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const t = await oauth.processAuthorizationCodeResponse(as, client, res);
    assert.match(t.access_token, /^pat_/);
    assert.equal(t.token_type, 'bearer'); // the library lower-cases it
    assert.equal(t.scope, 'profile posts:read');
    assert.equal(t.expires_in, 3600);
    assert.match(t.refresh_token, /^prt_/);
    assert.match(String(t.id), /^\d+$/);
    assert.equal(await check(stack.url, t.access_token), 204);
  });

  test('validateAuthResponse refuses a wrong state and a missing or foreign iss', async () => {
    const { url, state } = await authorizationUrl();
    const back = await browse(url);
    assert.throws(() => oauth.validateAuthResponse(as, client, back, state + 'x'),
      (e) => e instanceof oauth.OperationProcessingError && e.code === oauth.INVALID_RESPONSE && /"state"/.test(e.message));
    const noIss = new URL(back); noIss.searchParams.delete('iss');
    assert.throws(() => oauth.validateAuthResponse(as, client, noIss, state),
      (e) => e instanceof oauth.OperationProcessingError && e.code === oauth.INVALID_RESPONSE && /"iss" \(issuer\) missing/.test(e.message));
    const foreign = new URL(back); foreign.searchParams.set('iss', 'https://evil.example');
    assert.throws(() => oauth.validateAuthResponse(as, client, foreign, state),
      (e) => e instanceof oauth.OperationProcessingError && e.code === oauth.INVALID_RESPONSE && /unexpected "iss"/.test(e.message));
    // the untouched response still validates
    assert.match(oauth.validateAuthResponse(as, client, back, state).get('code'), /^pac_/);
  });

  test('a denial comes back as an access_denied error the library reports', async () => {
    const other = new Session(stack.url);
    const pw = 'pw-interop-0123456789';
    stack.cli(['user', 'add', 'interop'], pw + '\n');
    await other.signIn('interop', pw);
    const saved = browser;
    browser = other;
    try {
      const { url, state } = await authorizationUrl();
      const back = await browse(url, 'deny');
      assert.throws(() => oauth.validateAuthResponse(as, client, back, state),
        (e) => e instanceof oauth.AuthorizationResponseError && e.error === 'access_denied');
    } finally { browser = saved; }
  });

  test('a wrong code_verifier and a reused code are invalid_grant to the library', async () => {
    const { url, codeVerifier, state } = await authorizationUrl();
    const params = oauth.validateAuthResponse(as, client, await browse(url), state);
    const wrong = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, oauth.generateRandomCodeVerifier(), insecure);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, wrong),
      (e) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant' && e.status === 400);
    const ok = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure);
    const t = await oauth.processAuthorizationCodeResponse(as, client, ok);
    const again = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, again),
      (e) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant');
    assert.equal(await check(stack.url, t.access_token), 401, 'the reused code revoked its token');
  });

  test('a wrong client secret is invalid_client with a Basic challenge', async () => {
    const { url, codeVerifier, state } = await authorizationUrl();
    const params = oauth.validateAuthResponse(as, client, await browse(url), state);
    const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic('pcs_' + 'x'.repeat(48)), params, redirectUri, codeVerifier, insecure);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /^Basic /);
    assert.equal((await res.clone().json()).error, 'invalid_client');
    // the library reports the challenge first (RFC 6749 §5.2: 401 with WWW-Authenticate)
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, res),
      (e) => e instanceof oauth.WWWAuthenticateChallengeError && e.status === 401 &&
        e.cause.length === 1 && e.cause[0].scheme === 'basic' && e.cause[0].parameters.realm === 'postern');
  });

  test('refresh: the library rotates the refresh token; the old one is then refused', async () => {
    const t = await tokens();
    const res = await oauth.refreshTokenGrantRequest(as, client, auth, t.refresh_token, insecure);
    const r = await oauth.processRefreshTokenResponse(as, client, res);
    assert.match(r.access_token, /^pat_/);
    assert.notEqual(r.access_token, t.access_token);
    assert.match(r.refresh_token, /^prt_/);
    assert.notEqual(r.refresh_token, t.refresh_token);
    assert.equal(r.scope, 'profile');
    assert.equal(await check(stack.url, r.access_token), 204);
    const reuse = await oauth.refreshTokenGrantRequest(as, client, auth, t.refresh_token, insecure);
    await assert.rejects(oauth.processRefreshTokenResponse(as, client, reuse),
      (e) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant');
    assert.equal(await check(stack.url, r.access_token), 401, 'reuse revoked the grant');
  });

  test('revocation: an access token, then a refresh token with its grant', async () => {
    const t = await tokens();
    const res = await oauth.revocationRequest(as, client, auth, t.access_token, { ...insecure, additionalParameters: { token_type_hint: 'access_token' } });
    assert.equal(res.status, 200);
    assert.equal(await oauth.processRevocationResponse(res), undefined);
    assert.equal(await check(stack.url, t.access_token), 401);

    const t2 = await tokens();
    assert.equal(await check(stack.url, t2.access_token), 204);
    const res2 = await oauth.revocationRequest(as, client, auth, t2.refresh_token, insecure);
    await oauth.processRevocationResponse(res2);
    assert.equal(await check(stack.url, t2.access_token), 401);
    const refresh = await oauth.refreshTokenGrantRequest(as, client, auth, t2.refresh_token, insecure);
    await assert.rejects(oauth.processRefreshTokenResponse(as, client, refresh),
      (e) => e instanceof oauth.ResponseBodyError && e.error === 'invalid_grant');
  });
});
