// express-openid-connect.test.mjs: a real relying party nobody here wrote, Auth0's
// express-openid-connect middleware in a ten-line express app, signs a postern user in end
// to end through nginx: discovery, the code flow with its own state, nonce and PKCE
// cookies, client_secret_post at the token endpoint, the id_token validated by the
// middleware (openid-client underneath), the claims it shows, UserInfo, and its federated
// logout (idpLogout) through /oauth/end_session back to the app.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import eoc from 'express-openid-connect';
import { startStack, freePort } from '../lib/stack.mjs';
import { Session, consentForm } from '../lib/client.mjs';

const { auth, requiresAuth } = eoc;

describe('express-openid-connect (Auth0) signs a user in with postern', () => {
  let stack, server, rp, app, userId;
  const password = 'pw-ruth-0123456789';

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3600', LOGIN_RATE: '1000r/s' } });
    stack.cli(['user', 'add', 'ruth', '--email', 'ruth@example.com', '--full-name', 'Ruth Example'], password + '\n');
    userId = String(JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'ruth').id);
    const port = await freePort();
    rp = `http://127.0.0.1:${port}`;
    // what an administrator types for the app: its callback and where logout returns
    app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Express app', '--redirect-uri', `${rp}/callback`,
      '--post-logout-redirect-uri', `${rp}/signed-out`]));
    const web = express();
    web.use(auth({
      issuerBaseURL: stack.url,
      baseURL: rp,
      clientID: app.client_id,
      clientSecret: app.client_secret,
      secret: 'a session secret of the relying party, at least 32 characters',
      authRequired: false,
      idpLogout: true,
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
      routes: { postLogoutRedirect: '/signed-out' },
    }));
    web.get('/', (req, res) => res.json({ signedIn: req.oidc.isAuthenticated(), user: req.oidc.user ?? null }));
    web.get('/profile', requiresAuth(), async (req, res) => res.json({ claims: req.oidc.idTokenClaims, userinfo: await req.oidc.fetchUserInfo() }));
    web.get('/signed-out', (req, res) => res.json({ signedOut: true }));
    await new Promise((resolve) => { server = web.listen(port, '127.0.0.1', resolve); });
  });
  after(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    await stack?.stop();
  });

  test('sign in, claims and userinfo, then logout at postern and back', async () => {
    // one browser for both sites (cookies of 127.0.0.1, whatever the port)
    const b = new Session(rp);
    let r = await b.get('/login');
    assert.equal(r.status, 302);
    let loc = new URL(r.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, `${stack.url}/oauth/authorize`);
    assert.equal(loc.searchParams.get('response_type'), 'code');
    assert.ok(loc.searchParams.get('nonce'), 'the middleware sends a nonce');
    r = await b.get(loc.href);
    // sign in at postern
    loc = new URL(r.headers.get('location'), stack.url);
    assert.equal(loc.pathname, '/oauth/login');
    const page = await b.get(loc.href);
    const csrf = page.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
    r = await b.post(`${stack.url}/oauth/login`, { form: { csrf, username: 'ruth', password, return_to: loc.searchParams.get('return_to') } });
    assert.equal(r.status, 303);
    r = await b.get(new URL(r.headers.get('location'), stack.url).href);
    assert.equal(r.status, 200, 'the consent page');
    assert.match(r.text_, /Express app/);
    r = await b.post(`${stack.url}/oauth/consent`, { form: { ...consentForm(r.text_), action: 'approve' } });
    assert.equal(r.status, 302);
    const cb = new URL(r.headers.get('location'));
    assert.equal(cb.origin + cb.pathname, `${rp}/callback`);
    // the middleware redeems the code and checks the id_token
    r = await b.get(cb.href);
    assert.equal(r.status, 302, `callback: ${r.text_.slice(0, 500)}`);
    const home = await b.get('/');
    const me = JSON.parse(home.text_);
    assert.equal(me.signedIn, true);
    assert.equal(me.user.sub, userId);
    assert.equal(me.user.iss, undefined, 'the middleware strips protocol claims from req.oidc.user');
    const prof = JSON.parse((await b.get('/profile')).text_);
    assert.equal(prof.claims.iss, stack.url);
    assert.equal(prof.claims.aud, app.client_id);
    assert.equal(prof.userinfo.sub, userId);
    assert.equal(prof.userinfo.name, 'Ruth Example');
    assert.equal(prof.userinfo.email, 'ruth@example.com');
    assert.equal(prof.userinfo.email_verified, true);
    assert.equal((await b.get(`${stack.url}/oauth/apps`)).status, 200, 'signed in at postern too');

    // federated logout: the app's session ends, then postern's, then back to the app
    r = await b.get('/logout');
    assert.equal(r.status, 302);
    loc = new URL(r.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, `${stack.url}/oauth/end_session`);
    assert.ok(loc.searchParams.get('id_token_hint'));
    assert.equal(loc.searchParams.get('post_logout_redirect_uri'), `${rp}/signed-out`);
    r = await b.get(loc.href);
    assert.equal(r.status, 302, r.text_.slice(0, 300));
    assert.equal(new URL(r.headers.get('location')).href.split('?')[0], `${rp}/signed-out`);
    assert.deepEqual(JSON.parse((await b.get(r.headers.get('location'))).text_), { signedOut: true });
    assert.equal(JSON.parse((await b.get('/')).text_).signedIn, false);
    assert.notEqual((await b.get(`${stack.url}/oauth/apps`)).status, 200, 'signed out at postern');
  });
});
