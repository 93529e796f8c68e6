// oauth4webapi-oidc.test.mjs: the oauth4webapi client library (panva) in its OpenID
// Connect mode against postern: Discovery 1.0 (algorithm 'oidc'), the code flow with PKCE,
// state and nonce, the id_token validated by the library (claims, nonce, auth_time with
// max_age) and its signature checked against the JWKS (validateApplicationLevelSignature),
// UserInfo with the expected subject, a refresh that brings a new id_token, and
// RP-Initiated Logout at the discovered end_session_endpoint; for a confidential app
// signed with RS256 and for a public client that registered itself (RFC 7591) with
// EdDSA and its post_logout_redirect_uris.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { startStack } from '../lib/stack.mjs';
import { Session, consentForm } from '../lib/client.mjs';

const insecure = { [oauth.allowInsecureRequests]: true };

describe('oauth4webapi (OpenID Connect) against postern', () => {
  let stack, as, userId;
  const password = 'pw-iris-0123456789';
  const redirectUri = 'https://rp.example/cb';
  const logoutUri = 'https://rp.example/signed-out';

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3600\nregistration = on',
      LOGIN_RATE: '1000r/s', TOKEN_RATE: '1000r/s', REGISTER_RATE: '1000r/s' } });
    stack.cli(['user', 'add', 'iris', '--email', 'iris@example.com', '--full-name', 'Iris Example'], password + '\n');
    userId = String(JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'iris').id);
    const issuer = new URL(stack.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }));
  });
  after(async () => { await stack?.stop(); });

  /* The browser: signs in on the login page it is sent to, approves the consent page;
   * returns the URL it was sent back to. */
  async function browse(browser, url) {
    let r = await browser.get(url.href);
    const loc = r.headers.get('location');
    if (r.status === 302 && new URL(loc, stack.url).pathname === '/oauth/login') {
      const page = await browser.get(loc);
      const csrf = page.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
      const s = await browser.post('/oauth/login', { form: { csrf, username: 'iris', password,
        return_to: new URL(loc, stack.url).searchParams.get('return_to') } });
      assert.equal(s.status, 303);
      r = await browser.get(s.headers.get('location'));
    }
    if (r.status === 200 && /name="action" value="approve"/.test(r.text_))
      r = await browser.post('/oauth/consent', { form: { ...consentForm(r.text_), action: 'approve' } });
    assert.equal(r.status, 302, r.text_.slice(0, 300));
    return new URL(r.headers.get('location'));
  }

  /* The whole flow as oauth4webapi runs it; returns {result, claims, res}. */
  async function signIn(browser, client, auth, { maxAge } = {}) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState(), nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint);
    const q = { client_id: client.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid profile email',
      state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' };
    if (maxAge !== undefined) q.max_age = String(maxAge);
    for (const [k, v] of Object.entries(q)) url.searchParams.set(k, v);
    const params = oauth.validateAuthResponse(as, client, await browse(browser, url), state);
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure);
    const result = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: nonce, requireIdToken: true, maxAge });
    // the id_token's signature, against the discovered JWKS
    await oauth.validateApplicationLevelSignature(as, res, insecure);
    return { result, claims: oauth.getValidatedIdTokenClaims(result) };
  }

  test('discovery in OpenID Connect mode: the endpoints a relying party needs', () => {
    assert.equal(as.issuer, stack.url);
    assert.equal(as.userinfo_endpoint, `${stack.url}/oauth/userinfo`);
    assert.equal(as.jwks_uri, `${stack.url}/oauth/jwks`);
    assert.equal(as.end_session_endpoint, `${stack.url}/oauth/end_session`);
    assert.ok(as.id_token_signing_alg_values_supported.includes('RS256'));
    assert.ok(as.id_token_signing_alg_values_supported.includes('EdDSA'));
    assert.ok(as.prompt_values_supported.includes('none'));
  });

  test('RS256, confidential: code flow with nonce, id_token, userinfo, refresh with id_token, logout', async () => {
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'o4w RS256', '--redirect-uri', redirectUri,
      '--post-logout-redirect-uri', logoutUri]));
    const client = { client_id: app.client_id };
    const auth = oauth.ClientSecretBasic(app.client_secret);
    const browser = new Session(stack.url);
    const { result, claims } = await signIn(browser, client, auth, { maxAge: 300 });
    assert.equal(claims.iss, stack.url);
    assert.equal(claims.sub, userId);
    assert.equal(claims.aud, app.client_id);
    assert.equal(typeof claims.auth_time, 'number');

    const ui = await oauth.processUserInfoResponse(as, client, claims.sub,
      await oauth.userInfoRequest(as, client, result.access_token, insecure));
    assert.equal(ui.sub, userId);
    assert.equal(ui.name, 'Iris Example');
    assert.equal(ui.preferred_username, 'iris');
    assert.equal(ui.email, 'iris@example.com');
    assert.equal(ui.email_verified, true);
    // the library checks the subject
    await assert.rejects(oauth.processUserInfoResponse(as, client, 'someone-else',
      await oauth.userInfoRequest(as, client, result.access_token, insecure)));

    const rres = await oauth.refreshTokenGrantRequest(as, client, auth, result.refresh_token, insecure);
    const refreshed = await oauth.processRefreshTokenResponse(as, client, rres);
    await oauth.validateApplicationLevelSignature(as, rres, insecure);
    const again = oauth.getValidatedIdTokenClaims(refreshed);
    assert.ok(again, 'a refresh of an openid grant brings an id_token');
    assert.equal(again.sub, claims.sub);
    assert.equal(again.auth_time, claims.auth_time);

    // RP-Initiated Logout: the id_token as hint, back at the registered URI with the state
    const lo = new URL(as.end_session_endpoint);
    lo.searchParams.set('id_token_hint', result.id_token);
    lo.searchParams.set('post_logout_redirect_uri', logoutUri);
    lo.searchParams.set('state', 'after-logout');
    const r = await browser.get(lo.href);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), `${logoutUri}?state=after-logout`);
    assert.notEqual((await browser.get('/oauth/apps')).status, 200, 'signed out');
  });

  test('EdDSA, a public client that registered itself with its post_logout_redirect_uris', async () => {
    const reg = await oauth.processDynamicClientRegistrationResponse(await oauth.dynamicClientRegistrationRequest(as, {
      redirect_uris: [redirectUri], post_logout_redirect_uris: [logoutUri], id_token_signed_response_alg: 'EdDSA',
      token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile email',
    }, insecure));
    assert.equal(reg.id_token_signed_response_alg, 'EdDSA');
    assert.deepEqual(reg.post_logout_redirect_uris, [logoutUri]);
    const client = { client_id: reg.client_id, id_token_signed_response_alg: 'EdDSA', token_endpoint_auth_method: 'none' };
    const browser = new Session(stack.url);
    const { result, claims } = await signIn(browser, client, oauth.None());
    assert.equal(claims.sub, userId);
    assert.equal(JSON.parse(Buffer.from(result.id_token.split('.')[0], 'base64url')).alg, 'EdDSA');
    const rres = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), result.refresh_token, insecure);
    const refreshed = await oauth.processRefreshTokenResponse(as, client, rres);
    await oauth.validateApplicationLevelSignature(as, rres, insecure);
    assert.equal(oauth.getValidatedIdTokenClaims(refreshed).sub, userId);
    const lo = new URL(as.end_session_endpoint);
    lo.searchParams.set('id_token_hint', refreshed.id_token);
    lo.searchParams.set('post_logout_redirect_uri', logoutUri);
    const r = await browser.get(lo.href);
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), logoutUri);
  });

  test('a wrong nonce and an id_token of another client are caught by the library', async () => {
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'o4w nonce', '--redirect-uri', redirectUri]));
    const client = { client_id: app.client_id };
    const auth = oauth.ClientSecretBasic(app.client_secret);
    const browser = new Session(stack.url);
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint);
    for (const [k, v] of Object.entries({ client_id: app.client_id, redirect_uri: redirectUri, response_type: 'code', scope: 'openid',
      state: 's', nonce: 'sent', code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier), code_challenge_method: 'S256' }))
      url.searchParams.set(k, v);
    const params = oauth.validateAuthResponse(as, client, await browse(browser, url), 's');
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, codeVerifier, insecure);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, client, res.clone(), { expectedNonce: 'other' }),
      /unexpected ID Token "nonce" claim value/);
    await assert.rejects(oauth.processAuthorizationCodeResponse(as, { client_id: 'pca_someoneelse' }, res, { expectedNonce: 'sent' }),
      /aud/);
  });
});
