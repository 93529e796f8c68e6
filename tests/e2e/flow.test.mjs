// flow.test.mjs: the authorization-code flow end to end against a real stack: sign-in
// and return, consent approve and deny, every error of the authorization request, the
// token endpoint (both client authentications, form and JSON bodies, PKCE, code reuse,
// expiry, refresh rotation, SPEC.md's error table), CSRF, body limits and sign-out.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack } from '../lib/stack.mjs';
import { Session, pkce, authorize, token, check, consentForm, parseLocation } from '../lib/client.mjs';

const CODE_RE = /^pac_[0-9A-Za-z]{49}$/;
const ACCESS_RE = /^pat_[0-9A-Za-z]{49}$/;
const REFRESH_RE = /^prt_[0-9A-Za-z]{49}$/;

/* The headers SPEC.md ("Every response") puts on every page. */
function assertPageHeaders(r, what) {
  assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8$/, what);
  assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
  assert.equal(r.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(r.headers.get('cache-control'), 'no-store', what);
}

/* A JSON error of the token endpoint (RFC 6749 §5.2). */
function assertTokenError(t, status, error, descRe, what = '') {
  assert.equal(t.status, status, `${what} ${t.text}`);
  assert.match(t.headers.get('content-type'), /^application\/json/, what);
  assert.equal(t.headers.get('cache-control'), 'no-store', what);
  assert.equal(t.body.error, error, `${what} ${t.text}`);
  assert.equal(typeof t.body.error_description, 'string', what);
  if (descRe) assert.match(t.body.error_description, descRe, what);
  assert.equal(t.body.access_token, undefined, what);
}

/* A successful token response per SPEC.md, with expiry on. */
function assertTokenOk(t, scope = 'profile', what = '') {
  assert.equal(t.status, 200, `${what} ${t.text}`);
  assert.match(t.headers.get('content-type'), /^application\/json/, what);
  assert.equal(t.headers.get('cache-control'), 'no-store', what);
  assert.match(t.body.access_token, ACCESS_RE, what);
  assert.equal(t.body.token_type, 'Bearer', what);
  assert.equal(t.body.scope, scope, what);
  assert.match(String(t.body.id), /^\d+$/, what);
  assert.equal(t.body.expires_in, 3600, what);
  assert.match(t.body.refresh_token, REFRESH_RE, what);
}

function createApp(stack, args) {
  return JSON.parse(stack.cli(['--json', 'app', 'create', '--owner', 'demo', ...args]));
}


let userSeq = 0;
/* A new user with no grants (so the consent page shows), signed in. */
async function freshUser(stack) {
  const name = `user${++userSeq}`;
  const pw = `pw-${name}-0123456789`;
  stack.cli(['user', 'add', name], pw + '\n');
  const s = new Session(stack.url);
  await s.signIn(name, pw);
  return s;
}

describe('authorization code flow', () => {
  let stack, app, cb, basic, pub, other, multi, cliApp;
  let demo; // the demo user, signed in

  /* A code for the demo app through the whole browser step. */
  async function codeFor(s = demo, params = {}, opts) {
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb, state: 'st-1', ...params }, opts);
    assert.equal(a.status, 302, `authorize: ${a.status} ${a.res.text_.slice(0, 300)}`);
    assert.match(a.code ?? '', CODE_RE, a.location);
    return a.code;
  }
  /* Tokens for the demo app, client_secret_basic. */
  async function tokensFor(s = demo, params = {}) {
    const code = await codeFor(s, params);
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenOk(t, params.scope ?? 'profile');
    return t.body;
  }

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3600', LOGIN_RATE: '1000r/s', TOKEN_RATE: '1000r/s' } });
    app = stack.app;
    cb = app.redirect_uris[0];
    basic = [app.client_id, app.client_secret];
    cliApp = stack.cli_app;
    pub = createApp(stack, ['--name', 'Public app', '--public', '--redirect-uri', 'https://pub.example/cb']);
    other = createApp(stack, ['--name', 'Other app', '--redirect-uri', cb]);
    multi = createApp(stack, ['--name', 'Two URIs', '--redirect-uri', 'https://a.example/cb?tenant=7', '--redirect-uri', 'https://b.example/cb']);
    demo = new Session(stack.url);
    await demo.signIn('demo', stack.password);
  });
  after(async () => { await stack?.stop(); });

  // ------------------------------------------------------------ sign-in

  test('a signed-out user goes to the login page and comes back to the same request', async () => {
    const s = new Session(stack.url);
    const params = { response_type: 'code', client_id: app.client_id, redirect_uri: cb, state: 'back again', scope: 'profile' };
    const r = await s.get('/oauth/authorize?' + new URLSearchParams(params));
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const loc = new URL(r.headers.get('location'), stack.url);
    assert.equal(loc.pathname, '/oauth/login');
    const ret = loc.searchParams.get('return_to');
    const retUrl = new URL(ret, stack.url);
    assert.equal(retUrl.pathname, '/oauth/authorize');
    for (const [k, v] of Object.entries(params)) assert.equal(retUrl.searchParams.get(k), v, k);

    const login = await s.get(loc.pathname + loc.search);
    assert.equal(login.status, 200);
    assertPageHeaders(login, 'login page');
    assert.match(login.text_, /name="username"/);
    assert.match(login.text_, /name="password"/);
    const hiddenRet = login.text_.match(/name="return_to" value="([^"]*)"/);
    assert.ok(hiddenRet, 'the login form carries return_to');
    assert.equal(hiddenRet[1].replace(/&amp;/g, '&'), ret);
    const csrf = login.text_.match(/name="csrf" value="([^"]+)"/)[1];

    const post = await s.post('/oauth/login', { form: { csrf, username: 'demo', password: stack.password, return_to: ret } });
    assert.equal(post.status, 303);
    assert.equal(post.headers.get('location'), ret);
    assert.equal(post.headers.get('cache-control'), 'no-store');
    const cookie = post.headers.getSetCookie().find((c) => !/Max-Age=0/i.test(c));
    assert.ok(cookie, 'a session cookie is set');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Lax/i);
    assert.doesNotMatch(cookie, /Secure/i, 'plain http on loopback: no Secure flag');

    const back = await authorize(s, params);
    assert.equal(back.status, 302);
    assert.match(back.code, CODE_RE);
    assert.equal(back.state, 'back again');
  });

  test('an outside return_to is not followed after sign-in', async () => {
    const s = new Session(stack.url);
    const csrf = await s.csrf('/oauth/login');
    for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const r = await s.post('/oauth/login', { form: { csrf, username: 'demo', password: stack.password, return_to: bad } });
      assert.equal(r.status, 303, bad);
      assert.equal(r.headers.get('location'), '/oauth/apps', bad);
    }
  });

  test('a wrong password is refused and starts no session', async () => {
    const s = new Session(stack.url);
    const csrf = await s.csrf('/oauth/login');
    const r = await s.post('/oauth/login', { form: { csrf, username: 'demo', password: 'wrong password', return_to: '/oauth/apps' } });
    assert.equal(r.status, 401);
    assertPageHeaders(r, 'failed login');
    assert.match(r.text_, /Wrong user name or password/);
    assert.equal(r.headers.get('location'), null);
    const unknown = await s.post('/oauth/login', { form: { csrf, username: 'nobody', password: 'whatever', return_to: '/oauth/apps' } });
    assert.equal(unknown.status, 401);
    assert.match(unknown.text_, /Wrong user name or password/, 'an unknown user reads the same');
    const a = await s.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id }));
    assert.equal(a.status, 302);
    assert.equal(new URL(a.headers.get('location'), stack.url).pathname, '/oauth/login', 'still signed out');
  });

  test('sign-in without or with a wrong CSRF token is refused (403) and starts no session', async () => {
    const s = new Session(stack.url);
    const good = await s.csrf('/oauth/login');
    for (const csrf of [undefined, 'f'.repeat(32), good.slice(0, -1) + (good.endsWith('0') ? '1' : '0')]) {
      const form = { username: 'demo', password: stack.password, return_to: '/oauth/apps' };
      if (csrf !== undefined) form.csrf = csrf;
      const r = await s.post('/oauth/login', { form });
      assert.equal(r.status, 403, String(csrf));
      assertPageHeaders(r, 'csrf failure');
      assert.equal(r.headers.get('location'), null);
      assert.match(r.text_, /expired or came from another site/);
    }
    // a token from another browser's session does not work either
    const otherCsrf = await new Session(stack.url).csrf('/oauth/login');
    const r = await new Session(stack.url).post('/oauth/login', { form: { csrf: otherCsrf, username: 'demo', password: stack.password } });
    assert.equal(r.status, 403);
    const a = await s.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id }));
    assert.equal(new URL(a.headers.get('location'), stack.url).pathname, '/oauth/login', 'still signed out');
  });

  // ------------------------------------------------------------ consent

  test('the consent page shows the app, the scopes and the decision, with page headers', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb, state: 's', scope: 'profile posts:read' }, { decision: null });
    assert.equal(a.status, 200);
    assert.ok(a.consentShown);
    assertPageHeaders(a.page, 'consent page');
    const html = a.page.text_;
    assert.match(html, /Demo app/);
    assert.match(html, /An example third-party app\./);
    assert.match(html, /<code>profile<\/code> See your user name and organization/);
    assert.match(html, /<code>posts:read<\/code> Read your posts/);
    assert.match(html, /name="action" value="deny"/);
    assert.match(html, /action="\/oauth\/consent"/);
    // the form names the request kept on the server, and carries none of its fields
    const form = consentForm(html);
    assert.deepEqual(Object.keys(form).sort(), ['csrf', 'org', 'request']);
    assert.match(form.request, /^pcr_[0-9A-Za-z]{49}$/);
    assert.match(form.csrf, /^[0-9a-f]{32}$/);
    assert.match(form.org, /^\d+$/);
  });

  test('approving redirects with code, state and iss', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb, state: 'x&y=z é' });
    assert.ok(a.consentShown);
    assert.equal(a.status, 302);
    assert.equal(a.res.headers.get('cache-control'), 'no-store');
    assert.ok(a.location.startsWith(cb + '?'), a.location);
    assert.match(a.code, CODE_RE);
    assert.equal(a.state, 'x&y=z é');
    assert.equal(a.iss, stack.url);
    assert.equal(a.error, null);
    // the code works once
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: cb }, basic);
    assertTokenOk(t);
    assert.equal(await check(stack.url, t.body.access_token), 204);
  });

  test('denying redirects with access_denied, state and iss, and issues nothing', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb, state: 'deny-me' }, { decision: 'deny' });
    assert.ok(a.consentShown);
    assert.equal(a.status, 302);
    assert.ok(a.location.startsWith(cb + '?'), a.location);
    assert.equal(a.error, 'access_denied');
    assert.equal(a.state, 'deny-me');
    assert.equal(a.iss, stack.url);
    assert.equal(a.code, null);
    // no grant was remembered: the page shows again
    const again = await authorize(s, { client_id: app.client_id, redirect_uri: cb }, { decision: null });
    assert.equal(again.status, 200);
    assert.ok(again.consentShown);
  });

  test('consent without or with a wrong CSRF token is refused (403) and issues no code', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb, state: 'c' }, { decision: null });
    const form = { ...consentForm(a.page.text_), action: 'approve' };
    for (const csrf of [undefined, 'f'.repeat(32), '']) {
      const f = { ...form };
      if (csrf === undefined) delete f.csrf; else f.csrf = csrf;
      const r = await s.post('/oauth/consent', { form: f });
      assert.equal(r.status, 403, String(csrf));
      assertPageHeaders(r, 'consent csrf');
      assert.equal(r.headers.get('location'), null);
      assert.match(r.text_, /expired or came from another site/);
    }
    // another user's CSRF token is not this session's
    const s2 = await freshUser(stack);
    const otherCsrf = await s2.csrf('/oauth/apps');
    const r = await s.post('/oauth/consent', { form: { ...form, csrf: otherCsrf } });
    assert.equal(r.status, 403);
    // nothing was granted: the consent page shows again
    const again = await authorize(s, { client_id: app.client_id, redirect_uri: cb }, { decision: null });
    assert.ok(again.consentShown);
  });

  test('consent from a signed-out browser is refused (403)', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb }, { decision: null });
    const form = { ...consentForm(a.page.text_), action: 'approve' };
    const anon = new Session(stack.url);
    const r = await anon.post('/oauth/consent', { form });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('location'), null);
    assertPageHeaders(r, 'signed-out consent');
  });

  test('consent for an organization the user is not in is refused', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb }, { decision: null });
    const form = { ...consentForm(a.page.text_), action: 'approve', org: '1' };
    assert.notEqual(consentForm(a.page.text_).org, '1', 'org 1 is the demo user\'s');
    const r = await s.post('/oauth/consent', { form });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get('location'), null);
    const bad = await s.post('/oauth/consent', { form: { ...form, org: 'abc' } });
    assert.equal(bad.status, 400);
    const noAction = await s.post('/oauth/consent', { form: { ...form, action: 'maybe' } });
    assert.equal(noAction.status, 400);
  });

  // ------------------------------------------------------------ authorization request errors

  test('an unknown, missing or malformed client_id gets an HTML error page, never a redirect', async () => {
    for (const client_id of ['pca_' + 'A'.repeat(32), undefined, '', 'not-a-client', app.client_id + 'x']) {
      const q = { response_type: 'code', redirect_uri: cb, state: 's' };
      if (client_id !== undefined) q.client_id = client_id;
      const r = await demo.get('/oauth/authorize?' + new URLSearchParams(q));
      assert.equal(r.status, 400, String(client_id));
      assert.equal(r.headers.get('location'), null, String(client_id));
      assertPageHeaders(r, String(client_id));
      assert.match(r.text_, /client_id/, String(client_id));
    }
  });

  test('a redirect_uri that is not registered gets an HTML error page, never a redirect', async () => {
    for (const redirect_uri of ['https://evil.example/cb', cb + 'x', cb + '/', cb + '?a=1', cb.replace('http:', 'https:'), cb.toUpperCase(), '']) {
      const r = await demo.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri, state: 's' }));
      assert.equal(r.status, 400, redirect_uri);
      assert.equal(r.headers.get('location'), null, redirect_uri);
      assertPageHeaders(r, redirect_uri);
      assert.match(r.text_, /redirect_uri/, redirect_uri);
    }
    // several registered URIs: redirect_uri cannot be left out
    const r = await demo.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: multi.client_id }));
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('location'), null);
    assert.match(r.text_, /redirect_uri is missing/);
    // a bad redirect_uri wins over a bad response_type: still no redirect
    const both = await demo.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'token', client_id: app.client_id, redirect_uri: 'https://evil.example/cb' }));
    assert.equal(both.status, 400);
    assert.equal(both.headers.get('location'), null);
  });

  test('a repeated client_id or redirect_uri gets an HTML error page, never a redirect', async () => {
    for (const q of [
      `response_type=code&client_id=${app.client_id}&client_id=${app.client_id}&redirect_uri=${encodeURIComponent(cb)}`,
      `response_type=code&client_id=${app.client_id}&redirect_uri=${encodeURIComponent(cb)}&redirect_uri=https%3A%2F%2Fevil.example%2F`,
    ]) {
      const r = await demo.get('/oauth/authorize?' + q);
      assert.equal(r.status, 400, q);
      assert.equal(r.headers.get('location'), null, q);
      assert.match(r.text_, /is repeated/, q);
    }
  });

  test('redirect_uri may be left out when the app has exactly one', async () => {
    const a = await authorize(demo, { client_id: app.client_id, state: 'one' });
    assert.equal(a.status, 302);
    assert.ok(a.location.startsWith(cb + '?'));
    assert.match(a.code, CODE_RE);
    // and then the token request may leave it out too
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code }, basic);
    assertTokenOk(t);
  });

  test('a query the registered redirect URI already has is kept', async () => {
    const a = await authorize(demo, { client_id: multi.client_id, redirect_uri: 'https://a.example/cb?tenant=7', state: 'q' });
    assert.equal(a.status, 302, a.res.text_.slice(0, 200));
    assert.equal(a.url.origin + a.url.pathname, 'https://a.example/cb');
    assert.equal(a.url.searchParams.get('tenant'), '7');
    assert.match(a.code, CODE_RE);
    assert.equal(a.state, 'q');
    assert.equal(a.iss, stack.url);
    const e = await authorize(demo, { client_id: multi.client_id, redirect_uri: 'https://a.example/cb?tenant=7', response_type: 'token', state: 'q' });
    assert.equal(e.url.searchParams.get('tenant'), '7');
    assert.equal(e.error, 'unsupported_response_type');
  });

  /* An authorization error that goes back to the client. */
  async function assertAuthzRedirectError(params, error, descRe, { state = 'err-state', raw } = {}) {
    const r = raw !== undefined
      ? await demo.get('/oauth/authorize?' + raw)
      : await demo.get('/oauth/authorize?' + new URLSearchParams({ client_id: app.client_id, redirect_uri: cb, state, ...params }));
    const what = raw ?? JSON.stringify(params);
    assert.equal(r.status, 302, `${what}: ${r.text_.slice(0, 300)}`);
    assert.equal(r.headers.get('cache-control'), 'no-store', what);
    const l = parseLocation(r.headers.get('location'), stack.url);
    assert.equal(l.url.origin + l.url.pathname, cb, what);
    assert.equal(l.error, error, what);
    assert.equal(l.state, state, what);
    assert.equal(l.iss, stack.url, what);
    assert.equal(l.code, null, what);
    if (descRe) assert.match(l.error_description ?? '', descRe, what);
  }

  test('a bad or missing response_type goes back as unsupported_response_type / invalid_request', async () => {
    await assertAuthzRedirectError({ response_type: 'token' }, 'unsupported_response_type', /code/);
    await assertAuthzRedirectError({ response_type: 'code id_token' }, 'unsupported_response_type');
    await assertAuthzRedirectError({}, 'invalid_request', /response_type/);
  });

  test('an unknown or disallowed scope goes back as invalid_scope', async () => {
    await assertAuthzRedirectError({ response_type: 'code', scope: 'admin' }, 'invalid_scope');
    await assertAuthzRedirectError({ response_type: 'code', scope: 'profile nonsense' }, 'invalid_scope');
  });

  test('PKCE: plain and unknown methods, a bad challenge, or a method without a challenge go back as invalid_request', async () => {
    const { challenge } = pkce();
    await assertAuthzRedirectError({ response_type: 'code', code_challenge: challenge, code_challenge_method: 'plain' }, 'invalid_request', /S256/);
    await assertAuthzRedirectError({ response_type: 'code', code_challenge: challenge, code_challenge_method: 's256' }, 'invalid_request', /S256/);
    await assertAuthzRedirectError({ response_type: 'code', code_challenge: challenge }, 'invalid_request', /S256/);
    await assertAuthzRedirectError({ response_type: 'code', code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request', /code_challenge/);
    await assertAuthzRedirectError({ response_type: 'code', code_challenge_method: 'S256' }, 'invalid_request', /code_challenge/);
  });

  test('a public app without PKCE goes back as invalid_request', async () => {
    const r = await demo.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: pub.client_id, redirect_uri: 'https://pub.example/cb', state: 'p' }));
    assert.equal(r.status, 302);
    const l = parseLocation(r.headers.get('location'));
    assert.equal(l.url.origin + l.url.pathname, 'https://pub.example/cb');
    assert.equal(l.error, 'invalid_request');
    assert.match(l.error_description, /PKCE/);
    assert.equal(l.state, 'p');
    assert.equal(l.iss, stack.url);
    assert.equal(l.code, null);
  });

  test('a repeated or malformed parameter goes back as invalid_request naming it', async () => {
    const base = `client_id=${app.client_id}&redirect_uri=${encodeURIComponent(cb)}`;
    await assertAuthzRedirectError(null, 'invalid_request', /response_type is repeated/, { raw: `${base}&state=err-state&response_type=code&response_type=code` });
    await assertAuthzRedirectError(null, 'invalid_request', /scope is repeated/, { raw: `${base}&state=err-state&response_type=code&scope=profile&scope=profile` });
    await assertAuthzRedirectError(null, 'invalid_request', /scope contains a control character/, { raw: `${base}&state=err-state&response_type=code&scope=profile%0a` });
    await assertAuthzRedirectError(null, 'invalid_request', /code_challenge has malformed percent-encoding/, { raw: `${base}&state=err-state&response_type=code&code_challenge=%zz` });
    // the broken parameter is the state itself: it is not echoed
    await assertAuthzRedirectError(null, 'invalid_request', /state is repeated/, { raw: `${base}&state=a&state=b&response_type=code`, state: null });
    await assertAuthzRedirectError(null, 'invalid_request', /state contains a control character/, { raw: `${base}&state=a%00b&response_type=code`, state: null });
  });

  test('the authorization request also works as a POST', async () => {
    const a = await authorize(demo, { client_id: app.client_id, redirect_uri: cb, state: 'posted' }, { method: 'POST' });
    assert.equal(a.status, 302);
    assert.match(a.code, CODE_RE);
    assert.equal(a.state, 'posted');
    assert.equal(a.iss, stack.url);
    const r = await demo.req('PUT', '/oauth/authorize');
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, POST');
  });

  // ------------------------------------------------------------ token endpoint

  test('code exchange with client_secret_basic, form body', async () => {
    const code = await codeFor();
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenOk(t);
    assert.equal(t.headers.get('pragma'), 'no-cache');
    assert.equal(await check(stack.url, t.body.access_token), 204);
    const r = await fetch(stack.url + '/oauth/check', { headers: { authorization: `Bearer ${t.body.access_token}` } });
    assert.equal(r.headers.get('x-oauth-user'), 'demo');
    assert.equal(r.headers.get('x-oauth-client'), app.client_id);
    assert.equal(r.headers.get('x-oauth-scope'), 'profile');
    assert.equal(r.headers.get('x-oauth-organization'), String(t.body.id));
  });

  test('code exchange with client_secret_post, form body', async () => {
    const code = await codeFor();
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, client_id: app.client_id, client_secret: app.client_secret });
    assertTokenOk(t);
    assert.equal(await check(stack.url, t.body.access_token), 204);
  });

  test('code exchange with a JSON body, client_secret_post and client_secret_basic', async () => {
    const code = await codeFor();
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, client_id: app.client_id, client_secret: app.client_secret }, null, { json: true });
    assertTokenOk(t, 'profile', 'json post');
    const code2 = await codeFor();
    const t2 = await token(stack.url, { grant_type: 'authorization_code', code: code2, redirect_uri: cb }, basic, { json: true });
    assertTokenOk(t2, 'profile', 'json basic');
    assert.equal(await check(stack.url, t.body.access_token), 204);
    assert.equal(await check(stack.url, t2.body.access_token), 204);
    const code3 = await codeFor();
    const t3 = await token(stack.url, { grant_type: 'authorization_code', code: code3, redirect_uri: cb }, basic, { json: true, headers: { 'content-type': 'application/json; charset=utf-8' } });
    assertTokenOk(t3, 'profile', 'json with charset');
  });

  test('the token response names the organization and the granted scope', async () => {
    const s = await freshUser(stack);
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: cb, scope: 'profile posts:read' }, { decision: null });
    const org = consentForm(a.page.text_).org;
    const form = { ...consentForm(a.page.text_), action: 'approve' };
    const r = await s.post('/oauth/consent', { form });
    const code = parseLocation(r.headers.get('location')).code;
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenOk(t, 'profile posts:read');
    assert.equal(String(t.body.id), org);
  });

  test('PKCE S256: the right verifier succeeds, a wrong or missing one is invalid_grant', async () => {
    const { verifier, challenge } = pkce();
    const code = await codeFor(demo, { code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, code_verifier: pkce().verifier }, basic);
    assertTokenError(wrong, 400, 'invalid_grant', /code_verifier does not match/);
    const missing = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenError(missing, 400, 'invalid_grant', /code_verifier is missing/);
    const malformed = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, code_verifier: 'too-short' }, basic);
    assertTokenError(malformed, 400, 'invalid_grant', /code_verifier/);
    const ok = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, code_verifier: verifier }, basic);
    assertTokenOk(ok);
    // a verifier for a code issued without a challenge is a downgrade attempt
    const plainCode = await codeFor();
    const down = await token(stack.url, { grant_type: 'authorization_code', code: plainCode, redirect_uri: cb, code_verifier: verifier }, basic);
    assertTokenError(down, 400, 'invalid_grant', /no code_challenge/);
  });

  test('a public app: PKCE with client_id only succeeds; a secret or a wrong verifier fails', async () => {
    const { verifier, challenge } = pkce();
    const pubCode = async () => {
      const a = await authorize(demo, { client_id: pub.client_id, redirect_uri: 'https://pub.example/cb', state: 'p', code_challenge: challenge, code_challenge_method: 'S256' });
      assert.match(a.code ?? '', CODE_RE, a.location);
      return a.code;
    };
    const code = await pubCode();
    const bad = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: 'https://pub.example/cb', client_id: pub.client_id, code_verifier: pkce().verifier });
    assertTokenError(bad, 400, 'invalid_grant', /code_verifier/);
    const withSecret = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: 'https://pub.example/cb', client_id: pub.client_id, client_secret: 'pcs_' + 'x'.repeat(48), code_verifier: verifier });
    assertTokenError(withSecret, 401, 'invalid_client', /^client authentication failed$/);
    assert.match(withSecret.headers.get('www-authenticate') ?? '', /^Basic /, 'every 401 has a challenge (RFC 6749 §5.2)');
    const ok = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: 'https://pub.example/cb', client_id: pub.client_id, code_verifier: verifier });
    assertTokenOk(ok);
    assert.equal(await check(stack.url, ok.body.access_token), 204);
  });

  test('a reused code is invalid_grant and revokes the tokens of its first exchange', async () => {
    const code = await codeFor();
    const first = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenOk(first);
    assert.equal(await check(stack.url, first.body.access_token), 204);
    const again = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenError(again, 400, 'invalid_grant', /already used/);
    assert.equal(await check(stack.url, first.body.access_token), 401, 'the first access token is revoked');
    const refresh = await token(stack.url, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, basic);
    assertTokenError(refresh, 400, 'invalid_grant', null, 'the first refresh token is revoked');
    const third = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenError(third, 400, 'invalid_grant');
  });

  test('a reused code also revokes the tokens refreshed from its first exchange', async () => {
    const code = await codeFor();
    const first = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenOk(first);
    const refreshed = await token(stack.url, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, basic);
    assertTokenOk(refreshed);
    assert.equal(await check(stack.url, refreshed.body.access_token), 204);
    const again = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenError(again, 400, 'invalid_grant', /already used/);
    assert.equal(await check(stack.url, refreshed.body.access_token), 401, 'the refreshed access token is revoked');
    const more = await token(stack.url, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token }, basic);
    assertTokenError(more, 400, 'invalid_grant', null, 'the refreshed refresh token is revoked');
  });

  test('a reused code whose access token was revoked first still counts as used and revokes the rest', async () => {
    const code = await codeFor();
    const first = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenOk(first);
    // the access token (the code's own row) goes first; its refresh token still knows the code
    const rv = await token(stack.url, { token: first.body.access_token }, basic, { path: '/oauth/revoke' });
    assert.equal(rv.status, 200);
    assert.equal(await check(stack.url, first.body.access_token), 401);
    const again = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenError(again, 400, 'invalid_grant', /already used/);
    const refresh = await token(stack.url, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token }, basic);
    assertTokenError(refresh, 400, 'invalid_grant', null, 'the refresh token of a replayed code is revoked');
  });

  test('a code whose grant was revoked is invalid_grant', async () => {
    const s = await freshUser(stack);
    const t = await tokensFor(s);
    // consent is remembered: the next code belongs to the same grant
    const code = await codeFor(s);
    const rv = await token(stack.url, { token: t.refresh_token }, basic, { path: '/oauth/revoke' });
    assert.equal(rv.status, 200);
    assert.equal(await check(stack.url, t.access_token), 401);
    const r = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
    assertTokenError(r, 400, 'invalid_grant', /not valid/);
  });

  test('a deleted client is unknown at authorize (HTML 400, no redirect) and at the token endpoint', async () => {
    const gone = createApp(stack, ['--name', 'Short-lived', '--redirect-uri', cb]);
    const a = await authorize(demo, { client_id: gone.client_id, redirect_uri: cb, state: 'g' });
    assert.equal(a.status, 302);
    assert.match(a.code, CODE_RE);
    stack.cli(['app', 'del', gone.client_id]);
    const r = await demo.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: gone.client_id, redirect_uri: cb, state: 'g' }));
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('location'), null);
    assertPageHeaders(r, 'deleted client');
    assert.match(r.text_, /unknown client_id/);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: cb }, [gone.client_id, gone.client_secret]);
    assertTokenError(t, 401, 'invalid_client', /^client authentication failed$/);
  });

  test('a code for another client is invalid_grant', async () => {
    const code = await codeFor();
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, [other.client_id, other.client_secret]);
    assertTokenError(t, 400, 'invalid_grant', /another client/);
  });

  test('a wrong or missing redirect_uri at the token endpoint is invalid_grant', async () => {
    const code = await codeFor();
    for (const redirect_uri of [cb + 'x', 'https://evil.example/cb', '']) {
      const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri }, basic);
      assertTokenError(t, 400, 'invalid_grant', /redirect_uri/, redirect_uri);
    }
    // given at authorize, so required here
    const t = await token(stack.url, { grant_type: 'authorization_code', code }, basic);
    assertTokenError(t, 400, 'invalid_grant', /redirect_uri/, 'missing');
    assertTokenOk(await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic));
  });

  test('a malformed, forged or unknown code is invalid_grant', async () => {
    const real = await codeFor();
    const flipped = real.slice(0, 10) + (real[10] === 'A' ? 'B' : 'A') + real.slice(11);
    for (const code of ['nonsense', 'pac_' + 'A'.repeat(49), flipped, 'pat_' + real.slice(4)]) {
      const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic);
      assertTokenError(t, 400, 'invalid_grant', /not valid/, code);
    }
  });

  test('invalid_client: wrong secret, unknown client, no authentication: 401 with a Basic challenge, one description for unknown and wrong', async () => {
    const code = await codeFor();
    const body = { grant_type: 'authorization_code', code, redirect_uri: cb };
    const wrongBasic = await token(stack.url, body, [app.client_id, 'pcs_' + 'x'.repeat(48)]);
    assertTokenError(wrongBasic, 401, 'invalid_client', /authentication failed/);
    assert.match(wrongBasic.headers.get('www-authenticate') ?? '', /^Basic /);
    const wrongPost = await token(stack.url, { ...body, client_id: app.client_id, client_secret: 'pcs_' + 'x'.repeat(48) });
    assertTokenError(wrongPost, 401, 'invalid_client', /authentication failed/);
    assert.match(wrongPost.headers.get('www-authenticate') ?? '', /^Basic realm="postern"/, 'credentials in the body: still a challenge');
    const unknown = await token(stack.url, body, ['pca_' + 'B'.repeat(32), 'pcs_' + 'x'.repeat(48)]);
    assertTokenError(unknown, 401, 'invalid_client');
    assert.equal(unknown.body.error_description, wrongBasic.body.error_description, 'an unknown client reads like a wrong secret');
    assert.match(unknown.headers.get('www-authenticate') ?? '', /^Basic /);
    const unknownPost = await token(stack.url, { ...body, client_id: 'pca_' + 'C'.repeat(32), client_secret: 'pcs_' + 'x'.repeat(48) });
    assert.equal(unknownPost.body.error_description, wrongPost.body.error_description);
    const none = await token(stack.url, body);
    assertTokenError(none, 401, 'invalid_client', /client_id is missing/);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /, 'no credentials at all: a challenge');
    const idOnly = await token(stack.url, { ...body, client_id: app.client_id });
    assertTokenError(idOnly, 401, 'invalid_client', /^client authentication failed$/);
    assert.match(idOnly.headers.get('www-authenticate') ?? '', /^Basic /);
    const badHeader = await token(stack.url, body, null, { headers: { authorization: 'Basic !!!notbase64' } });
    assertTokenError(badHeader, 401, 'invalid_client', /Basic/);
    assert.match(badHeader.headers.get('www-authenticate') ?? '', /^Basic /);
    // none of these spent the code
    assertTokenOk(await token(stack.url, body, basic));
  });

  test('two client authentication methods at once are invalid_request', async () => {
    const code = await codeFor();
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, client_secret: app.client_secret }, basic);
    assertTokenError(t, 400, 'invalid_request', /one client authentication method/);
    const t2 = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb, client_id: other.client_id }, basic);
    assertTokenError(t2, 400, 'invalid_request', /client_id does not match/);
  });

  test('unsupported_grant_type, unauthorized_client and missing parameters', async () => {
    for (const grant_type of ['password', 'implicit', '']) {
      const t = await token(stack.url, { grant_type, username: 'demo', password: stack.password }, basic);
      assertTokenError(t, 400, 'unsupported_grant_type', null, grant_type);
    }
    // supported, but this app was not allowed it (client-credentials.test.mjs)
    const cc = await token(stack.url, { grant_type: 'client_credentials' }, basic);
    assertTokenError(cc, 400, 'unauthorized_client');
    const missingGt = await token(stack.url, { code: 'x' }, basic);
    assertTokenError(missingGt, 400, 'invalid_request', /grant_type is missing/);
    const missingCode = await token(stack.url, { grant_type: 'authorization_code', redirect_uri: cb }, basic);
    assertTokenError(missingCode, 400, 'invalid_request', /code is missing/);
    const missingRt = await token(stack.url, { grant_type: 'refresh_token' }, basic);
    assertTokenError(missingRt, 400, 'invalid_request', /refresh_token is missing/);
    // the Postiz CLI app may use only the device grant
    const cliTry = await token(stack.url, { grant_type: 'authorization_code', code: 'pac_x', client_id: cliApp.client_id });
    assertTokenError(cliTry, 400, 'unauthorized_client');
  });

  test('a repeated, over-long, control-character or badly encoded parameter is invalid_request naming it', async () => {
    const code = await codeFor();
    const cases = [
      [`grant_type=authorization_code&code=${code}&code=${code}`, /code is repeated/],
      [`grant_type=authorization_code&grant_type=refresh_token&code=${code}`, /grant_type is repeated/],
      [`grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(cb)}%0a`, /redirect_uri contains a control character/],
      [`grant_type=authorization_code&code=${'a'.repeat(200)}`, /code is too long/],
      [`grant_type=authorization_code&code=%zz`, /code has malformed percent-encoding/],
      [`grant_type=authorization_code&code=%ff%fe`, /code is not valid UTF-8/],
    ];
    for (const [body, re] of cases) {
      const t = await token(stack.url, body, basic, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assertTokenError(t, 400, 'invalid_request', re, body);
    }
    const jsonCases = [
      ['{"grant_type":"authorization_code","code":', /not a JSON object|body|JSON/],
      // an escaped NUL would end cJSON's string early: refused, naming the parameter
      ['{"grant_type":"authorization_code","code":"a\\u0000b"}', /^code contains a NUL character$/],
      [`{"grant_type":"authorization_code\\u0000x","code":"${code}"}`, /^grant_type contains a NUL character$/],
      [`{"grant_type":"authorization_code","code\\u0000x":"${code}"}`, /^code has a NUL character in its name$/],
      [`{"grant_type":"authorization_code","code":"${code}","x\\u0000":"y"}`, /^request has a parameter name with a NUL character$/],
      ['{"grant_type":"authorization_code","code":"a","code":"b"}', /code is repeated/],
      ['{"grant_type":"authorization_code","code":["x"]}', /code must be a string/],
      ['[1,2]', /JSON/],
    ];
    for (const [body, re] of jsonCases) {
      const t = await token(stack.url, body, basic, { headers: { 'content-type': 'application/json' } });
      assertTokenError(t, 400, 'invalid_request', re, body);
    }
    const ctype = await token(stack.url, 'grant_type=authorization_code', basic, { headers: { 'content-type': 'text/plain' } });
    assertTokenError(ctype, 400, 'invalid_request', /Content-Type/);
    // the code survived every malformed request
    assertTokenOk(await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic));
  });

  test('a body over the endpoint limit is refused naming the body, and never reaches the grant', async () => {
    const code = await codeFor();
    const pad = 'x'.repeat(64 * 1024);
    const t = await token(stack.url, `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(cb)}&pad=${pad}`, basic,
      { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assertTokenError(t, 400, 'invalid_request', /body is larger than this endpoint accepts/);
    // nginx's own limit (client_max_body_size 2m) answers 413 before postern
    const huge = await token(stack.url, 'a='.padEnd(3 * 1024 * 1024, 'x'), basic, { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(huge.status, 413);
    assertTokenOk(await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, basic));
  });

  test('the token endpoint takes only POST', async () => {
    const r = await fetch(stack.url + '/oauth/token');
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal((await r.json()).error, 'invalid_request');
  });

  // ------------------------------------------------------------ refresh

  test('a refresh token rotates: new tokens work, scope can narrow but not widen', async () => {
    const t = await tokensFor(demo, { scope: 'profile posts:read' });
    const wide = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, scope: 'profile posts:write' }, basic);
    assertTokenError(wide, 400, 'invalid_scope', /widen/);
    const r = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic);
    assertTokenOk(r, 'profile posts:read');
    assert.notEqual(r.body.access_token, t.access_token);
    assert.notEqual(r.body.refresh_token, t.refresh_token);
    assert.equal(await check(stack.url, r.body.access_token), 204);
    const narrow = await token(stack.url, { grant_type: 'refresh_token', refresh_token: r.body.refresh_token, client_id: app.client_id, client_secret: app.client_secret, scope: 'profile' }, null, { json: true });
    assertTokenOk(narrow, 'profile');
    const res = await fetch(stack.url + '/oauth/check', { headers: { authorization: `Bearer ${narrow.body.access_token}` } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('x-oauth-scope'), 'profile');
  });

  test('a reused refresh token is invalid_grant and revokes the whole grant', async () => {
    const s = await freshUser(stack);
    const t = await tokensFor(s);
    const r1 = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic);
    assertTokenOk(r1);
    const reuse = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic);
    assertTokenError(reuse, 400, 'invalid_grant', /already used/);
    assert.equal(await check(stack.url, r1.body.access_token), 401, 'the rotated access token is revoked');
    assert.equal(await check(stack.url, t.access_token), 401, 'the first access token is revoked');
    const next = await token(stack.url, { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token }, basic);
    assertTokenError(next, 400, 'invalid_grant', null, 'the rotated refresh token is revoked');
    // the grant is gone: the consent page asks again
    const again = await authorize(s, { client_id: app.client_id, redirect_uri: cb }, { decision: null });
    assert.ok(again.consentShown);
  });

  test("a refresh token is bound to its client; an access token is not a refresh token", async () => {
    const t = await tokensFor();
    const wrong = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, [other.client_id, other.client_secret]);
    assertTokenError(wrong, 400, 'invalid_grant', /another client/);
    const access = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.access_token }, basic);
    assertTokenError(access, 400, 'invalid_grant', /not valid/);
    const forged = await token(stack.url, { grant_type: 'refresh_token', refresh_token: 'prt_' + 'A'.repeat(49) }, basic);
    assertTokenError(forged, 400, 'invalid_grant', /not valid/);
    // the failures did not spend it
    assertTokenOk(await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, basic));
  });

  // ------------------------------------------------------------ sign-out

  test('sign-out needs POST and the CSRF token, then ends the session', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const csrf = await s.csrf('/oauth/apps');
    const get = await s.get('/oauth/logout');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    for (const bad of [undefined, 'f'.repeat(32)]) {
      const r = await s.post('/oauth/logout', { form: bad === undefined ? {} : { csrf: bad } });
      assert.equal(r.status, 403, String(bad));
      assertPageHeaders(r, 'logout csrf');
    }
    assert.equal((await s.get('/oauth/apps')).status, 200, 'still signed in');
    const cookieBefore = [...s.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    assert.ok(cookieBefore);
    const out = await s.post('/oauth/logout', { form: { csrf } });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/oauth/login');
    assert.ok(out.headers.getSetCookie().some((c) => /Max-Age=0|=;/i.test(c)), 'the cookie is cleared');
    const a = await s.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id }));
    assert.equal(a.status, 302);
    assert.equal(new URL(a.headers.get('location'), stack.url).pathname, '/oauth/login');
    // the old cookie is dead on the server too, not only forgotten by the browser
    const r = await fetch(stack.url + '/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id }),
      { headers: { cookie: cookieBefore }, redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(new URL(r.headers.get('location'), stack.url).pathname, '/oauth/login');
  });
});

describe('code expiry', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { EXTRA_CONFIG: 'code_ttl = 1\naccess_token_ttl = 3600' } }); });
  after(async () => { await stack?.stop(); });

  test('an expired code is invalid_grant', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const cb = stack.app.redirect_uris[0];
    const basic = [stack.app.client_id, stack.app.client_secret];
    const fresh = await authorize(s, { client_id: stack.app.client_id, redirect_uri: cb });
    assert.match(fresh.code, CODE_RE);
    assertTokenOk(await token(stack.url, { grant_type: 'authorization_code', code: fresh.code, redirect_uri: cb }, basic), 'profile', 'in time');
    const a = await authorize(s, { client_id: stack.app.client_id, redirect_uri: cb });
    assert.match(a.code, CODE_RE);
    await sleep(2100); // the code lives 1 s (whole seconds on the server's clock)
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: cb }, basic);
    assertTokenError(t, 400, 'invalid_grant', /expired/);
  });
});
