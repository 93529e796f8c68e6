// jwt-access.test.mjs: JWT access tokens (RFC 9068), opt-in per app (`postern app create
// --access-token-format jwt`): verified with jose against /oauth/jwks (typ at+jwt, iss,
// sub, aud, client_id, scope, exp, iat, jti, auth_time), accepted by the check and
// introspection, refused by postern after revocation and after exp; refreshed; for
// client_credentials with the client as sub; opaque tokens stay the default.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { startStack } from '../lib/stack.mjs';
import { Session, token, revoke, tokenFor } from '../lib/client.mjs';

const REDIRECT = 'https://app.example/cb';

async function checkWith(stack, t, query = '') {
  const r = await fetch(`${stack.url}/oauth/check${query}`, { headers: { authorization: `Bearer ${t}` } });
  await r.arrayBuffer();
  return r;
}

describe('JWT access tokens (RFC 9068)', () => {
  let stack, s, jwtApp, edApp, plain, userId, jwks, signedInAt;

  before(async () => {
    stack = await startStack();
    const pw = 'pw-jules-0123456789';
    stack.cli(['user', 'add', 'jules'], pw + '\n');
    userId = JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'jules').id;
    jwtApp = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'JWT app', '--redirect-uri', REDIRECT,
      '--access-token-format', 'jwt', '--grant-types', 'authorization_code refresh_token client_credentials']));
    edApp = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Ed JWT app', '--redirect-uri', REDIRECT,
      '--access-token-format', 'jwt', '--id-token-alg', 'EdDSA']));
    plain = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Plain app', '--redirect-uri', REDIRECT]));
    s = new Session(stack.url);
    signedInAt = Math.floor(Date.now() / 1000);
    await s.signIn('jules', pw);
    jwks = jose.createRemoteJWKSet(new URL(`${stack.url}/oauth/jwks`));
  });
  after(async () => { await stack?.stop(); });

  async function verify(t, audience, alg = 'RS256') {
    return jose.jwtVerify(t, jwks, { issuer: stack.url, audience, typ: 'at+jwt', algorithms: [alg] });
  }
  async function introspect(t, app = jwtApp) {
    const r = await token(stack.url, { token: t }, [app.client_id, app.client_secret], { path: '/oauth/introspect' });
    assert.equal(r.status, 200, r.text);
    return r.body;
  }

  test('the code flow gives a JWT that jose verifies against the JWKS, with the RFC 9068 claims', async () => {
    const before_ = Math.floor(Date.now() / 1000);
    const t = await tokenFor(stack, s, jwtApp, { scope: 'profile posts:read' });
    assert.equal(t.token_type, 'Bearer');
    assert.equal(t.expires_in, 600, 'the default lifetime: 10 minutes');
    assert.match(t.refresh_token, /^prt_/, 'a refresh token beside the short-lived JWT');
    const { payload, protectedHeader } = await verify(t.access_token, jwtApp.client_id);
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(protectedHeader.alg, 'RS256');
    assert.ok(protectedHeader.kid);
    assert.equal(payload.iss, stack.url);
    assert.equal(payload.sub, String(userId));
    assert.equal(payload.aud, jwtApp.client_id);
    assert.equal(payload.client_id, jwtApp.client_id);
    assert.equal(payload.scope, 'profile posts:read');
    assert.ok(payload.iat >= before_ && payload.iat <= before_ + 5);
    assert.equal(payload.exp - payload.iat, 600);
    assert.match(payload.jti, /^[0-9A-Za-z]{22}$/);
    assert.ok(payload.auth_time >= signedInAt - 1 && payload.auth_time <= payload.iat, String(payload.auth_time));
    // nothing else signed by postern passes as one: an id_token has typ JWT
    await assert.rejects(jose.jwtVerify(t.access_token, jwks, { issuer: stack.url, audience: jwtApp.client_id, typ: 'JWT' }));
    // the token is not stored: only its hash
    assert.doesNotMatch(stack.sql('SELECT scope FROM tokens'), /eyJ/);

    const c = await checkWith(stack, t.access_token, '?scope=posts:read');
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-user'), 'jules');
    assert.equal(c.headers.get('x-oauth-client'), jwtApp.client_id);
    const i = await introspect(t.access_token);
    assert.equal(i.active, true);
    assert.equal(i.sub, String(userId));
    assert.equal(i.exp, payload.exp);
  });

  test('an app whose id_tokens are EdDSA gets EdDSA-signed JWT access tokens', async () => {
    const t = await tokenFor(stack, s, edApp);
    const { protectedHeader } = await verify(t.access_token, edApp.client_id, 'EdDSA');
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal((await checkWith(stack, t.access_token)).status, 204);
  });

  test('a refresh gives a new JWT; opaque tokens stay the default', async () => {
    const t = await tokenFor(stack, s, jwtApp);
    const r = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, [jwtApp.client_id, jwtApp.client_secret]);
    assert.equal(r.status, 200, r.text);
    const { payload } = await verify(r.body.access_token, jwtApp.client_id);
    assert.equal(payload.sub, String(userId));
    assert.equal((await checkWith(stack, r.body.access_token)).status, 204);
    const p = await tokenFor(stack, s, plain);
    assert.match(p.access_token, /^pat_/);
  });

  test('revoked, postern refuses it at once (a validator with the JWKS alone would not until exp)', async () => {
    const t = await tokenFor(stack, s, jwtApp);
    assert.equal((await checkWith(stack, t.access_token)).status, 204);
    const r = await revoke(stack.url, { token: t.access_token }, [jwtApp.client_id, jwtApp.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.equal((await checkWith(stack, t.access_token)).status, 401);
    assert.deepEqual(await introspect(t.access_token), { active: false });
    // the signature still verifies: that is what "until exp" means elsewhere
    await verify(t.access_token, jwtApp.client_id);
  });

  test('a forged or altered JWT is refused by the check', async () => {
    const t = await tokenFor(stack, s, jwtApp);
    const [h, p, sig] = t.access_token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url'));
    claims.scope = 'profile posts:read posts:write';
    const altered = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
    assert.equal((await checkWith(stack, altered)).status, 401);
    const { privateKey } = await jose.generateKeyPair('RS256');
    const forged = await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: JSON.parse(Buffer.from(h, 'base64url')).kid })
      .sign(privateKey);
    assert.equal((await checkWith(stack, forged)).status, 401);
    assert.equal((await checkWith(stack, t.access_token)).status, 204);
  });

  test('client_credentials: the client is the subject, no user at the check', async () => {
    const t = await token(stack.url, { grant_type: 'client_credentials', scope: 'posts:read' }, [jwtApp.client_id, jwtApp.client_secret]);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.refresh_token, undefined);
    const { payload } = await verify(t.body.access_token, jwtApp.client_id);
    assert.equal(payload.sub, jwtApp.client_id);
    assert.equal(payload.client_id, jwtApp.client_id);
    assert.equal(payload.auth_time, undefined);
    const c = await checkWith(stack, t.body.access_token);
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-user'), null);
    assert.equal((await checkWith(stack, t.body.access_token, '?require_user=1')).status, 401);
    const r = await revoke(stack.url, { token: t.body.access_token }, [jwtApp.client_id, jwtApp.client_secret]);
    assert.equal(r.status, 200);
    assert.equal((await checkWith(stack, t.body.access_token)).status, 401);
  });

  test('the admin command refuses an unknown format', () => {
    assert.throws(() => stack.cli(['app', 'create', '--name', 'X', '--redirect-uri', REDIRECT, '--access-token-format', 'jwe']),
      /opaque or jwt/);
  });
});

describe('JWT access tokens: expiry', () => {
  let stack, s, app;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'jwt_access_token_ttl = 2' } });
    const pw = 'pw-june-0123456789';
    stack.cli(['user', 'add', 'june'], pw + '\n');
    app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Short', '--redirect-uri', REDIRECT, '--access-token-format', 'jwt']));
    s = new Session(stack.url);
    await s.signIn('june', pw);
  });
  after(async () => { await stack?.stop(); });

  test('past its exp the check refuses it, even with its row kept alive', async () => {
    const t = await tokenFor(stack, s, app);
    assert.equal(t.expires_in, 2);
    assert.equal((await checkWith(stack, t.access_token)).status, 204);
    await sleep(3100);
    // the row no longer expires: only the JWT's own exp stops it now
    stack.sql('UPDATE tokens SET expires = NULL WHERE kind = 1');
    assert.equal((await checkWith(stack, t.access_token)).status, 401);
  });

});
