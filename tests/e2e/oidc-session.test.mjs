// oidc-session.test.mjs: the OpenID Connect parameters of the authorization request
// (Core §3.1.2.1: prompt none/login/consent, max_age, login_hint, id_token_hint) and
// RP-Initiated Logout 1.0 at /oauth/end_session (registered post_logout_redirect_uris,
// state, the confirmation page a request without a valid id_token_hint gets); apps get
// their post-logout URIs and signing algorithm from the admin command, the apps page and
// registration.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize, token, pkce, parseLocation, appForm, unescapeHtml } from '../lib/client.mjs';

const REDIRECT = 'https://rp.example/cb';
const LOGOUT = 'https://rp.example/bye';

describe('OpenID Connect: prompt, max_age, hints and RP-initiated logout', () => {
  let stack, rp, other, pw, pwOscar, oliviaId, oscarId;

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3600\nregistration = on',
      LOGIN_RATE: '1000r/s', AUTHORIZE_RATE: '1000r/s', TOKEN_RATE: '1000r/s', REGISTER_RATE: '1000r/s' } });
    pw = 'pw-olivia-0123456789';
    pwOscar = 'pw-oscar-0123456789';
    stack.cli(['user', 'add', 'olivia', '--email', 'olivia@example.com'], pw + '\n');
    stack.cli(['user', 'add', 'oscar'], pwOscar + '\n');
    const users = JSON.parse(stack.cli(['--json', 'user', 'list']));
    oliviaId = users.find((u) => u.name === 'olivia').id;
    oscarId = users.find((u) => u.name === 'oscar').id;
    rp = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Relying party', '--redirect-uri', REDIRECT,
      '--post-logout-redirect-uri', LOGOUT, '--post-logout-redirect-uri', 'https://rp.example/bye2']));
    other = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Other RP', '--redirect-uri', REDIRECT]));
  });
  after(async () => { await stack?.stop(); });

  async function signedIn(user = 'olivia', password = pw) {
    const s = new Session(stack.url);
    await s.signIn(user, password);
    return s;
  }

  /* Moves the sessions of a user back in time: their sign-in is that old. */
  function age(userId, seconds) {
    stack.sql(`UPDATE sessions SET created = created - ${seconds} WHERE user_id = ${userId}`);
  }

  const params = (extra = {}, app = rp) => ({ client_id: app.client_id, redirect_uri: REDIRECT, scope: 'openid', state: 'st-1', ...extra });

  /* Redeems a code of app; returns the token response. */
  async function redeem(code, app = rp) {
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT }, [app.client_id, app.client_secret]);
    assert.equal(t.status, 200, t.text);
    return t.body;
  }

  async function claims(idToken, app = rp) {
    const jwks = jose.createRemoteJWKSet(new URL(`${stack.url}/oauth/jwks`));
    return (await jose.jwtVerify(idToken, jwks, { issuer: stack.url, audience: app.client_id })).payload;
  }

  /* An id_token of user for app, through the whole flow in a fresh session. */
  async function idTokenOf(user, password, app = rp) {
    const s = await signedIn(user, password);
    const a = await authorize(s, params({}, app));
    assert.ok(a.code, a.location);
    return (await redeem(a.code, app)).id_token;
  }

  /* Follows a redirect to the login page: signs in there (the form, its CSRF token and
   * return_to as the page has them) and comes back; returns the authorize() answer. */
  async function throughLogin(s, location, user = 'olivia', password = pw) {
    const login = new URL(location, stack.url);
    assert.equal(login.pathname, '/oauth/login');
    const page = await s.get(login.pathname + login.search);
    assert.equal(page.status, 200, 'the login form, signed in or not');
    const csrf = unescapeHtml(page.text_.match(/name="csrf" value="([^"]+)"/)[1]);
    const returnTo = unescapeHtml(page.text_.match(/name="return_to" value="([^"]*)"/)[1]);
    const r = await s.post('/oauth/login', { form: { csrf, username: user, password, return_to: returnTo } });
    assert.equal(r.status, 303, r.text_.slice(0, 300));
    const back = await s.get(r.headers.get('location'));
    let res = back, consentShown = false;
    if (back.status === 200 && /name="action" value="approve"/.test(back.text_)) {
      consentShown = true;
      const form = {};
      for (const m of back.text_.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form[m[1]] = unescapeHtml(m[2]);
      form.org = back.text_.match(/name="org" value="(\d+)"/)[1];
      form.action = 'approve';
      res = await s.post('/oauth/consent', { form });
    }
    return { ...parseLocation(res.headers.get('location'), stack.url), status: res.status, consentShown, returnTo };
  }

  test('discovery names the end_session_endpoint and the prompt values', async () => {
    const d = await (await fetch(`${stack.url}/.well-known/openid-configuration`)).json();
    assert.equal(d.end_session_endpoint, `${stack.url}/oauth/end_session`);
    assert.deepEqual(d.prompt_values_supported, ['none', 'login', 'consent', 'select_account']);
    for (const sc of ['openid', 'email']) assert.ok(d.scopes_supported.includes(sc), `the default stack offers ${sc}`);
  });

  test('prompt=none without a session: login_required at the redirect URI, with state and iss, no page', async () => {
    const s = new Session(stack.url);
    const a = await authorize(s, params({ prompt: 'none' }));
    assert.equal(a.status, 302);
    assert.equal(a.url.origin + a.url.pathname, REDIRECT);
    assert.equal(a.error, 'login_required');
    assert.equal(a.state, 'st-1');
    assert.equal(a.iss, stack.url);
    assert.equal(a.code, null);
  });

  test('prompt=none: consent_required before the first approval, a code without any page after it', async () => {
    const s = await signedIn();
    const none = await authorize(s, params({ prompt: 'none' }, other));
    assert.equal(none.status, 302);
    assert.equal(none.error, 'consent_required');
    assert.equal(none.state, 'st-1');
    assert.equal(none.consentShown, false);
    const first = await authorize(s, params({}, other));
    assert.ok(first.consentShown && first.code);
    const again = await authorize(s, params({ prompt: 'none' }, other), { decision: null });
    assert.equal(again.consentShown, false);
    assert.ok(again.code, again.location);
    // a wider scope than approved is a question for the user again
    const wider = await authorize(s, params({ prompt: 'none', scope: 'openid email' }, other));
    assert.equal(wider.error, 'consent_required');
  });

  test('prompt=consent shows the consent page even when the approval is remembered', async () => {
    const s = await signedIn();
    await authorize(s, params());
    const remembered = await authorize(s, params(), { decision: null });
    assert.equal(remembered.consentShown, false);
    assert.ok(remembered.code);
    const asked = await authorize(s, params({ prompt: 'consent' }), { decision: null });
    assert.equal(asked.consentShown, true);
    assert.equal(asked.status, 200);
  });

  test('prompt=login: signing in again even with a session; auth_time is the new sign-in; the old session ends', async () => {
    const s = await signedIn();
    await authorize(s, params());
    age(oliviaId, 600);
    const oldAuth = Math.floor(Date.now() / 1000) - 600;
    const before = stack.sql(`SELECT count(*) FROM sessions WHERE user_id = ${oliviaId}`);
    const a = await authorize(s, params({ prompt: 'login' }), { decision: null });
    assert.equal(a.status, 302);
    const login = new URL(a.location, stack.url);
    assert.equal(login.pathname, '/oauth/login');
    assert.equal(login.searchParams.get('prompt'), 'login');
    const t0 = Math.floor(Date.now() / 1000);
    const back = await throughLogin(s, a.location);
    assert.ok(back.code, JSON.stringify(back));
    assert.equal(back.state, 'st-1');
    const c = await claims((await redeem(back.code)).id_token);
    assert.ok(c.auth_time >= t0 - 1, `auth_time ${c.auth_time} is the new sign-in (${t0}), not ${oldAuth}`);
    assert.equal(stack.sql(`SELECT count(*) FROM sessions WHERE user_id = ${oliviaId}`), before, 'the replaced session was deleted');
    // select_account works the same way
    const sel = await authorize(s, params({ prompt: 'select_account' }), { decision: null });
    assert.equal(new URL(sel.location, stack.url).pathname, '/oauth/login');
  });

  test('prompt: an unknown value and none with another are invalid_request; other response types unsupported_response_type', async () => {
    const s = await signedIn();
    for (const [prompt, re] of [['bogus', /prompt must be none, login, consent or select_account/],
      ['none login', /prompt=none cannot be combined/], ['consent none', /prompt=none cannot be combined/]]) {
      const a = await authorize(s, params({ prompt }));
      assert.equal(a.status, 302, prompt);
      assert.equal(a.error, 'invalid_request', prompt);
      assert.match(a.error_description, re);
      assert.equal(a.state, 'st-1');
    }
    const ok = await authorize(s, params({ prompt: 'login consent' }), { decision: null });
    assert.equal(new URL(ok.location, stack.url).pathname, '/oauth/login', 'login and consent together are fine');
    for (const rt of ['id_token', 'code id_token', 'token', 'code token']) {
      const a = await authorize(s, params({ response_type: rt, nonce: 'n' }));
      assert.equal(a.error, 'unsupported_response_type', rt);
    }
  });

  test('nonce is optional in the code flow (Core §3.1.2.1): an openid request without one gets a code', async () => {
    const s = await signedIn();
    const a = await authorize(s, params());
    assert.ok(a.code);
    const c = await claims((await redeem(a.code)).id_token);
    assert.equal(c.nonce, undefined);
  });

  test('max_age: an older sign-in signs in again and auth_time says when; a younger one passes; prompt=none gets login_required', async () => {
    const s = await signedIn();
    await authorize(s, params());
    age(oliviaId, 300);
    const young = await authorize(s, params({ max_age: '1000' }), { decision: null });
    assert.ok(young.code, 'the sign-in is younger than max_age');
    const yc = await claims((await redeem(young.code)).id_token);
    assert.ok(Math.abs(yc.auth_time - (Math.floor(Date.now() / 1000) - 300)) <= 3, `auth_time ${yc.auth_time}`);
    const none = await authorize(s, params({ max_age: '60', prompt: 'none' }));
    assert.equal(none.error, 'login_required');
    const old = await authorize(s, params({ max_age: '60' }), { decision: null });
    assert.equal(new URL(old.location, stack.url).pathname, '/oauth/login');
    const t0 = Math.floor(Date.now() / 1000);
    const back = await throughLogin(s, old.location);
    assert.ok(back.code, JSON.stringify(back));
    const c = await claims((await redeem(back.code)).id_token);
    assert.ok(c.auth_time >= t0 - 1, `auth_time ${c.auth_time}`);
    for (const bad of ['-1', 'ten', '1e3']) {
      const a = await authorize(s, params({ max_age: bad }));
      assert.equal(a.error, 'invalid_request', bad);
      assert.match(a.error_description, /max_age must be a number of seconds/);
    }
  });

  test('login_hint prefills the user name on the login form (when it can be one)', async () => {
    const s = new Session(stack.url);
    const a = await authorize(s, params({ login_hint: 'olivia' }), { decision: null });
    const login = new URL(a.location, stack.url);
    assert.equal(login.pathname, '/oauth/login');
    assert.equal(login.searchParams.get('login_hint'), 'olivia');
    const page = await s.get(login.pathname + login.search);
    assert.match(page.text_, /name="username"[^>]*value="olivia"/);
    const back = await throughLogin(s, a.location);
    assert.ok(back.code || back.consentShown);
    const form = async (hint) => {
      const l = new URL((await authorize(new Session(stack.url), params({ login_hint: hint }), { decision: null })).location, stack.url);
      return (await new Session(stack.url).get(l.pathname + l.search)).text_;
    };
    // user names take [a-zA-Z0-9._@-]: an address can be one; a hint that cannot is left out
    assert.match(await form('olivia@example.com'), /name="username"[^>]*value="olivia@example.com"/);
    assert.match(await form('Olivia Example'), /name="username"[^>]*value=""/);
    assert.match(await form('<script>'), /name="username"[^>]*value=""/);
  });

  test('id_token_hint with prompt=none: the signed-in user\'s gets a code, another user\'s login_required', async () => {
    const mine = await idTokenOf('olivia', pw);
    const oscars = await idTokenOf('oscar', pwOscar);
    const s = await signedIn();
    await authorize(s, params());
    const good = await authorize(s, params({ prompt: 'none', id_token_hint: mine }), { decision: null });
    assert.ok(good.code, good.location);
    const c = await claims((await redeem(good.code)).id_token);
    assert.equal(c.sub, String(oliviaId));
    const wrong = await authorize(s, params({ prompt: 'none', id_token_hint: oscars }));
    assert.equal(wrong.error, 'login_required');
    assert.equal(wrong.state, 'st-1');
    // without prompt=none, the user is asked to sign in (as the hinted one, or anyone)
    const ask = await authorize(s, params({ id_token_hint: oscars }), { decision: null });
    assert.equal(new URL(ask.location, stack.url).pathname, '/oauth/login');
    const back = await throughLogin(s, ask.location, 'oscar', pwOscar);
    assert.ok(back.code || back.consentShown, JSON.stringify(back));
    // nobody signed in: login_required
    const nobody = await authorize(new Session(stack.url), params({ prompt: 'none', id_token_hint: mine }));
    assert.equal(nobody.error, 'login_required');
    assert.ok(oscarId > 0);
  });

  test('id_token_hint: forged, foreign, malformed or another client\'s is invalid_request; one signed by a retired key still published counts', async () => {
    const mine = await idTokenOf('olivia', pw);
    const s = await signedIn();
    await authorize(s, params());
    const [h, p, sig] = mine.split('.');
    const forged = [h, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url')), sub: String(oscarId) })).toString('base64url'), sig].join('.');
    const { privateKey } = await jose.generateKeyPair('RS256');
    const foreign = await new jose.SignJWT({ sub: String(oliviaId), aud: rp.client_id, iss: stack.url })
      .setProtectedHeader({ alg: 'RS256', kid: JSON.parse(Buffer.from(h, 'base64url')).kid }).setIssuedAt().setExpirationTime('1h').sign(privateKey);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    for (const [name, hint] of [['forged', forged], ['foreign key', foreign], ['alg none', unsigned], ['garbage', 'not.a.jwt'], ['one part', 'abc']]) {
      const a = await authorize(s, params({ prompt: 'none', id_token_hint: hint }));
      assert.equal(a.error, 'invalid_request', name);
      assert.match(a.error_description, /id_token_hint is not an ID Token this server issued/, name);
    }
    const others = await idTokenOf('olivia', pw, other);
    const cross = await authorize(s, params({ prompt: 'none', id_token_hint: others }));
    assert.equal(cross.error, 'invalid_request');
    assert.match(cross.error_description, /issued to another client/);
    // signed by a key that has stopped signing but is still published: still ours
    JSON.parse(stack.cli(['--json', 'key', 'rotate']));
    const still = await authorize(s, params({ prompt: 'none', id_token_hint: mine }), { decision: null });
    assert.ok(still.code, still.location);
  });

  test('prompt=none for a self-registered app the user never approved: the error page, not a redirect', async () => {
    const r = await fetch(`${stack.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://elsewhere.example/cb'] }) });
    const reg = await r.json();
    const { challenge } = pkce();
    const a = await authorize(new Session(stack.url), { client_id: reg.client_id, redirect_uri: 'https://elsewhere.example/cb', scope: 'openid',
      prompt: 'none', code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal(a.status, 400);
    assert.equal(a.location, null);
    assert.match(a.res.text_, /login_required/);
  });

  // ---------------------------------------------------------------- logout

  async function stillSignedIn(s) {
    const r = await s.get('/oauth/apps');
    return r.status === 200;
  }

  test('logout with an id_token_hint and a registered post_logout_redirect_uri: session ended, back with state', async () => {
    const s = await signedIn();
    const a = await authorize(s, params());
    const idt = (await redeem(a.code)).id_token;
    assert.ok(await stillSignedIn(s));
    const r = await s.get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: idt, post_logout_redirect_uri: LOGOUT, state: 'bye-1' }));
    assert.equal(r.status, 302, r.text_.slice(0, 300));
    const back = new URL(r.headers.get('location'));
    assert.equal(back.origin + back.pathname, LOGOUT);
    assert.equal(back.searchParams.get('state'), 'bye-1');
    assert.equal(await stillSignedIn(s), false);
    // POST works the same (the second registered URI, client_id matching the hint)
    const s2 = await signedIn();
    const r2 = await s2.post('/oauth/end_session', { form: { id_token_hint: idt, client_id: rp.client_id, post_logout_redirect_uri: 'https://rp.example/bye2' } });
    assert.equal(r2.status, 302);
    assert.equal(r2.headers.get('location'), 'https://rp.example/bye2');
    assert.equal(await stillSignedIn(s2), false);
  });

  test('an unregistered post_logout_redirect_uri: an error page, no redirect, still signed in', async () => {
    const s = await signedIn();
    const a = await authorize(s, params());
    const idt = (await redeem(a.code)).id_token;
    for (const uri of ['https://evil.example/bye', `${LOGOUT}/`, `${LOGOUT}?x=1`, 'https://RP.example/bye']) {
      const r = await s.get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: idt, post_logout_redirect_uri: uri, state: 's' }));
      assert.equal(r.status, 400, uri);
      assert.equal(r.headers.get('location'), null);
      assert.match(r.text_, /post_logout_redirect_uri mismatch/);
    }
    // another app's registered URI is not this one's
    const r = await s.get('/oauth/end_session?' + new URLSearchParams({ client_id: other.client_id, post_logout_redirect_uri: LOGOUT }));
    assert.equal(r.status, 400);
    // a URI without an app to check it against
    const r2 = await s.get('/oauth/end_session?' + new URLSearchParams({ post_logout_redirect_uri: LOGOUT }));
    assert.equal(r2.status, 400);
    assert.match(r2.text_, /without saying which application/);
    // a client_id that is not the hint's audience
    const r3 = await s.get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: idt, client_id: other.client_id }));
    assert.equal(r3.status, 400);
    assert.ok(await stillSignedIn(s));
  });

  test('logout without a valid id_token_hint asks on a CSRF-protected page; a cross-site confirmation does nothing', async () => {
    const s = await signedIn();
    // another site's GET (no hint): a page that asks, nothing ended
    const r = await s.get('/oauth/end_session?' + new URLSearchParams({ client_id: rp.client_id, post_logout_redirect_uri: LOGOUT, state: 'c-1' }));
    assert.equal(r.status, 200);
    assert.match(r.text_, /Relying party asks to sign you out/);
    assert.match(r.text_, /<strong>olivia<\/strong>/);
    assert.ok(await stillSignedIn(s));
    // a POST from elsewhere with confirm=yes but no token of this page: refused
    const forged = await s.post('/oauth/end_session', { form: { confirm: 'yes', client_id: rp.client_id, post_logout_redirect_uri: LOGOUT } });
    assert.equal(forged.status, 403);
    const wrongToken = await s.post('/oauth/end_session', { form: { confirm: 'yes', csrf: 'a'.repeat(32), client_id: rp.client_id } });
    assert.equal(wrongToken.status, 403);
    // a plain POST from an RP without a hint: the page again
    const plain = await s.post('/oauth/end_session', { form: { client_id: rp.client_id } });
    assert.equal(plain.status, 200);
    assert.match(plain.text_, /name="confirm" value="yes"/);
    assert.ok(await stillSignedIn(s));
    // the user confirms on the page: signed out, back at the registered URI with the state
    const form = {};
    for (const m of r.text_.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form[m[1]] = unescapeHtml(m[2]);
    assert.deepEqual(Object.keys(form).sort(), ['client_id', 'confirm', 'csrf', 'post_logout_redirect_uri', 'state']);
    const ok = await s.post('/oauth/end_session', { form });
    assert.equal(ok.status, 302, ok.text_.slice(0, 300));
    const back = new URL(ok.headers.get('location'));
    assert.equal(back.origin + back.pathname, LOGOUT);
    assert.equal(back.searchParams.get('state'), 'c-1');
    assert.equal(await stillSignedIn(s), false);
  });

  test('logout: another user\'s id_token_hint asks first; a forged one is refused; nobody signed in goes straight back', async () => {
    const oscars = await idTokenOf('oscar', pwOscar);
    const s = await signedIn();
    const r = await s.get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: oscars, post_logout_redirect_uri: LOGOUT }));
    assert.equal(r.status, 200);
    assert.match(r.text_, /name="confirm" value="yes"/);
    assert.ok(await stillSignedIn(s));
    const [h, p] = oscars.split('.');
    const forged = await s.get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: `${h}.${p}.AAAA`, post_logout_redirect_uri: LOGOUT }));
    assert.equal(forged.status, 400);
    assert.equal(forged.headers.get('location'), null);
    assert.match(forged.text_, /id_token_hint this server did not issue/);
    assert.ok(await stillSignedIn(s));
    const nobody = await new Session(stack.url).get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: oscars, post_logout_redirect_uri: LOGOUT, state: 'n' }));
    assert.equal(nobody.status, 302);
    assert.equal(nobody.headers.get('location'), `${LOGOUT}?state=n`);
    const plain = await new Session(stack.url).get('/oauth/end_session');
    assert.equal(plain.status, 200);
    assert.match(plain.text_, /You are signed out/);
  });

  // ---------------------------------------------------------------- app settings

  test('app create --post-logout-redirect-uri is checked like a redirect URI', () => {
    for (const [uri, re] of [['http://rp.example/bye', /must be absolute https/], ['https://rp.example/bye#x', /without fragment/]]) {
      const r = stack.cliRun(['app', 'create', '--name', 'Bad', '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', uri]);
      assert.notEqual(r.status, 0, uri);
      assert.match(r.stderr, re);
    }
    const twice = stack.cliRun(['app', 'create', '--name', 'Bad', '--redirect-uri', REDIRECT, '--post-logout-redirect-uri', LOGOUT,
      '--post-logout-redirect-uri', LOGOUT]);
    assert.match(twice.stderr, /listed twice/);
    assert.equal(stack.sql(`SELECT post_logout_redirect_uris FROM apps WHERE client_id = '${rp.client_id}'`), `${LOGOUT}\nhttps://rp.example/bye2`);
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', rp.client_id]));
    assert.deepEqual(shown.post_logout_redirect_uris, [LOGOUT, 'https://rp.example/bye2']);
    assert.equal(shown.id_token_signed_response_alg, 'RS256');
    assert.match(stack.cli(['app', 'show', rp.client_id]), /post_logout_redirect_uris: https:\/\/rp\.example\/bye\n/);
  });

  test('the apps page shows and edits the post-logout URIs and the id_token algorithm', async () => {
    const dev = await signedIn();
    const csrf = await dev.csrf('/oauth/apps/new');
    const fd = appForm(csrf, { name: 'Page RP', redirect_uris: REDIRECT, scopes: ['openid', 'profile'] });
    fd.append('post_logout_redirect_uris', `${LOGOUT}\r\nhttps://rp.example/bye3`);
    fd.append('id_token_signed_response_alg', 'EdDSA');
    const r = await dev.post('/oauth/apps/new', { multipart: fd });
    assert.equal(r.status, 200, r.text_.slice(0, 500));
    const cid = r.text_.match(/pca_[A-Za-z0-9]{32}/)[0];
    const secret = r.text_.match(/pcs_[A-Za-z0-9]{48}/)[0];
    assert.equal(stack.sql(`SELECT id_token_signed_response_alg || '|' || post_logout_redirect_uris FROM apps WHERE client_id = '${cid}'`),
      `EdDSA|${LOGOUT}\nhttps://rp.example/bye3`);
    const page = await dev.get(`/oauth/apps/${cid}`);
    assert.match(page.text_, /id="alg-eddsa" name="id_token_signed_response_alg" value="EdDSA" checked/);
    assert.doesNotMatch(page.text_, /value="RS256" checked/);
    assert.match(page.text_, /<textarea id="post_logout_redirect_uris"[^>]*>https:\/\/rp\.example\/bye\nhttps:\/\/rp\.example\/bye3<\/textarea>/);
    // an EdDSA id_token, and logout back to a URI set on the page
    const a = await authorize(dev, { client_id: cid, redirect_uri: REDIRECT, scope: 'openid' });
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT }, [cid, secret]);
    assert.equal(jose.decodeProtectedHeader(t.body.id_token).alg, 'EdDSA');
    // edit: back to RS256, one URI; a bad URI or algorithm keeps the form with a message
    const edit = async (alg, uris) => {
      const c = await dev.csrf(`/oauth/apps/${cid}`);
      const f = appForm(c, { name: 'Page RP', redirect_uris: REDIRECT, scopes: ['openid', 'profile'] });
      f.append('post_logout_redirect_uris', uris);
      f.append('id_token_signed_response_alg', alg);
      return dev.post(`/oauth/apps/${cid}`, { multipart: f });
    };
    let e = await edit('HS256', LOGOUT);
    assert.equal(e.status, 400);
    assert.match(e.text_, /Choose RS256 or EdDSA/);
    e = await edit('RS256', 'http://rp.example/bye');
    assert.equal(e.status, 400);
    assert.match(e.text_, /The post-logout redirect URI http:\/\/rp\.example\/bye is not valid/);
    e = await edit('RS256', `${LOGOUT}\n${LOGOUT}`);
    assert.match(e.text_, /A post-logout redirect URI is listed twice/);
    e = await edit('RS256', 'https://rp.example/after');
    assert.equal(e.status, 303);
    assert.equal(stack.sql(`SELECT id_token_signed_response_alg || '|' || post_logout_redirect_uris FROM apps WHERE client_id = '${cid}'`),
      'RS256|https://rp.example/after');
    const lo = await dev.get('/oauth/end_session?' + new URLSearchParams({ id_token_hint: t.body.id_token, post_logout_redirect_uri: 'https://rp.example/after' }));
    assert.equal(lo.status, 302);
    assert.equal(lo.headers.get('location'), 'https://rp.example/after');
  });

  test('registration: post_logout_redirect_uris kept and answered, checked like redirect_uris', async () => {
    const register = (meta) => fetch(`${stack.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT], ...meta }) });
    for (const bad of ['https://x.example/bye', ['http://x.example/bye'], ['https://x.example/bye#f'], [7],
      Array.from({ length: 11 }, (_, i) => `https://x.example/${i}`)]) {
      const r = await register({ post_logout_redirect_uris: bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      const b = await r.json();
      assert.equal(b.error, 'invalid_client_metadata');
      assert.match(b.error_description, /post_logout_redirect_uri/);
    }
    const r = await register({ post_logout_redirect_uris: ['https://x.example/bye', 'http://127.0.0.1:9/bye'] });
    assert.equal(r.status, 201);
    const app = await r.json();
    assert.deepEqual(app.post_logout_redirect_uris, ['https://x.example/bye', 'http://127.0.0.1:9/bye']);
    const s = await signedIn();
    const lo = await s.get('/oauth/end_session?' + new URLSearchParams({ client_id: app.client_id, post_logout_redirect_uri: 'https://x.example/bye' }));
    assert.equal(lo.status, 200, 'no hint: asked first');
    const none = await (await register({})).json();
    assert.equal(none.post_logout_redirect_uris, undefined);
  });
});
