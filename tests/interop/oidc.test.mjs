// oidc.test.mjs: openid-client (panva) in its OpenID Connect mode against postern: Discovery
// 1.0, the code flow with PKCE, state and nonce, the id_token checked by the library
// (signature against the JWKS with its non-repudiation checks on, iss, aud, nonce, exp,
// iat), UserInfo with the expected subject, and a refresh that brings a new id_token; for
// an app signed with RS256 (the default) and one that registered EdDSA.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startStack } from '../lib/stack.mjs';
import { Session, consentForm } from '../lib/client.mjs';

const insecure = { execute: [client.allowInsecureRequests] };

/* Follows the authorization URL in a fresh browser: sign in, approve; returns the URL
 * the server sent the browser back to. */
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
    const action = r.text_.match(/<form method="post" action="([^"]*\/oauth\/consent)"/)[1];
    r = await b.post(new URL(action, authUrl).href, { form });
  }
  assert.equal(r.status, 302, r.text_.slice(0, 300));
  return new URL(r.headers.get('location'));
}

describe('openid-client (OpenID Connect) against postern', () => {
  let stack, userId;
  const password = 'pw-nora-0123456789';
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: [
      'access_token_ttl = 3600',
    ].join('\n') } });
    stack.cli(['user', 'add', 'nora', '--email', 'nora@example.com', '--full-name', 'Nora Example'], password + '\n');
    userId = String(JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'nora').id);
  });
  after(async () => { await stack?.stop(); });

  for (const alg of ['RS256', 'EdDSA']) {
    test(`${alg}: discovery, code flow with PKCE and nonce, id_token, userinfo, refresh with id_token`, async () => {
      const redirect_uri = `${stack.url}/rp/callback`;
      const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', `RP ${alg}`, '--redirect-uri', redirect_uri,
        '--id-token-alg', alg]));
      const config = await client.discovery(new URL(stack.url), app.client_id,
        { id_token_signed_response_alg: alg }, client.ClientSecretBasic(app.client_secret), insecure);
      // signatures of id_tokens from the token endpoint checked against the JWKS too
      client.enableNonRepudiationChecks(config);
      const m = config.serverMetadata();
      assert.equal(m.issuer, stack.url);
      assert.equal(m.jwks_uri, `${stack.url}/oauth/jwks`);
      assert.ok(m.id_token_signing_alg_values_supported.includes(alg));

      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState(), nonce = client.randomNonce();
      const authUrl = client.buildAuthorizationUrl(config, {
        redirect_uri, scope: 'openid profile email', state, nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      const back = await approve(authUrl, 'nora', password);
      const tokens = await client.authorizationCodeGrant(config, back,
        { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      const claims = tokens.claims();
      assert.equal(claims.iss, stack.url);
      assert.equal(claims.sub, userId);
      assert.equal(claims.aud, app.client_id);
      assert.equal(claims.nonce, nonce);
      assert.equal(typeof claims.auth_time, 'number');
      const [header] = tokens.id_token.split('.');
      assert.equal(JSON.parse(Buffer.from(header, 'base64url')).alg, alg);

      const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(info.sub, userId);
      assert.equal(info.name, 'Nora Example');
      assert.equal(info.preferred_username, 'nora');
      assert.equal(info.email, 'nora@example.com');
      assert.equal(info.email_verified, true);
      // a wrong expected subject is caught by the library
      await assert.rejects(client.fetchUserInfo(config, tokens.access_token, 'someone-else'));

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
      assert.ok(refreshed.id_token, 'a refresh of an openid grant brings an id_token');
      const again = refreshed.claims();
      assert.equal(again.sub, claims.sub);
      assert.equal(again.auth_time, claims.auth_time);
      assert.notEqual(refreshed.access_token, tokens.access_token);
    });
  }

  test('a wrong nonce is caught by the library', async () => {
    const redirect_uri = `${stack.url}/rp/callback`;
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'RP nonce', '--redirect-uri', redirect_uri]));
    const config = await client.discovery(new URL(stack.url), app.client_id, undefined,
      client.ClientSecretBasic(app.client_secret), insecure);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authUrl = client.buildAuthorizationUrl(config, { redirect_uri, scope: 'openid', state, nonce: 'sent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
    const back = await approve(authUrl, 'nora', password);
    await assert.rejects(client.authorizationCodeGrant(config, back,
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'other' }),
      (e) => /unexpected ID Token "nonce" claim/.test(e.cause?.message ?? ''));
  });
});
