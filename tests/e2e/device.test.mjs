// device.test.mjs: device login. RFC 8628 (POST /oauth/device_authorization and the
// device_code grant at /oauth/token), the verification page (/oauth/device and
// /device/verify), its brute-force limit, and the Postiz CLI endpoints (/device/code,
// /device/token, /health), each answer against a real stack.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { startStack, storedData, holds } from '../lib/stack.mjs';
import { Session, consentForm, token, check } from '../lib/client.mjs';

// ---------------------------------------------------------------- helpers

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$/;
const INVALID_CODE = 'That code is not valid or has expired. Check the code on your device.';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* The server counts time in whole seconds: start a timing-sensitive step just after a
 * second begins, so two requests a few milliseconds apart fall in the same second. */
async function atSecondStart() {
  const ms = Date.now() % 1000;
  await sleep(1000 - ms + 20);
}

/* POST /oauth/device_authorization as a form; basic is [client_id, client_secret]. */
function deviceAuthorization(url, form, basic) {
  return token(url, form, basic, { path: '/oauth/device_authorization' });
}

/* One poll of the token endpoint with the device_code grant. */
function poll(url, client_id, device_code, extra = {}, basic) {
  const body = { grant_type: DEVICE_GRANT, device_code, ...extra };
  if (!basic) body.client_id = client_id;
  return token(url, body, basic);
}

/* POST to a Postiz CLI endpoint with Content-Type application/json and the raw body
 * given (the CLI itself sends none to /device/code). */
async function postiz(url, p, body) {
  const r = await fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch { parsed = null; }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

/* A device request for the seeded CLI app through RFC 8628. */
async function startDevice(stack, scope) {
  const form = { client_id: stack.cli_app.client_id };
  if (scope) form.scope = scope;
  const r = await deviceAuthorization(stack.url, form);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/* The error line of the code-entry page. */
function pageError(html) {
  const m = html.match(/<p class="error" role="alert">([^<]*)<\/p>/);
  return m ? m[1] : null;
}

const isConsent = (html) => /name="action" value="approve"/.test(html);

/* Opens the consent page for user_code (GET ?code=) in a signed-in session and answers
 * it with decision; returns the final response. */
async function decide(s, userCode, decision) {
  const page = await s.get('/oauth/device?' + new URLSearchParams({ code: userCode }));
  assert.equal(page.status, 200, page.text_.slice(0, 300));
  assert.ok(isConsent(page.text_), 'the consent page shows');
  return s.post('/oauth/device', { form: { ...consentForm(page.text_), action: decision } });
}

/* A token with a right checksum that the server never issued: 43 random base62
 * characters, then the base62 CRC32 of prefix and those (lib/crypto.c). */
function wellFormed(prefix) {
  const b62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let t = prefix;
  for (const b of randomBytes(43)) t += b62[b % 62];
  let c = crc32(t), sum = '';
  for (let i = 0; i < 6; i++) { sum = b62[c % 62] + sum; c = Math.floor(c / 62); }
  return t + sum;
}

async function signedIn(stack, user = stack.user, password = stack.password, headers = {}) {
  const s = new Session(stack.url, headers);
  await s.signIn(user, password);
  return s;
}

function addUser(stack, name) {
  const pw = `pw-${name}-0123456789`;
  stack.cli(['user', 'add', name], pw + '\n');
  return pw;
}

// ---------------------------------------------------------------- RFC 8628

describe('RFC 8628 device authorization and the device_code grant', () => {
  let stack, tv, s;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'device_interval = 1' } });
    // a confidential app that may use the device grant
    tv = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Living room TV', '--owner', 'demo',
      '--redirect-uri', 'https://tv.example/cb', '--device']));
    s = await signedIn(stack);
  });
  after(async () => { await stack?.stop(); });

  test('a public app gets a device code, a XXXX-XXXX user code and the verification URIs', async () => {
    const r = await deviceAuthorization(stack.url, { client_id: stack.cli_app.client_id });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.headers.get('content-type'), /^application\/json/);
    const b = r.body;
    assert.match(b.device_code, /^pdc_[A-Za-z0-9]+$/);
    assert.match(b.user_code, USER_CODE);
    assert.equal(b.verification_uri, stack.url + '/oauth/device');
    const complete = new URL(b.verification_uri_complete);
    assert.equal(complete.origin + complete.pathname, b.verification_uri);
    assert.equal(complete.searchParams.get('code'), b.user_code);
    assert.equal(b.expires_in, 900);
    assert.equal(b.interval, 1);
    assert.deepEqual(Object.keys(b).sort(),
      ['device_code', 'expires_in', 'interval', 'user_code', 'verification_uri', 'verification_uri_complete']);
  });

  test('each request gets its own device code and user code', async () => {
    const a = await startDevice(stack), b = await startDevice(stack);
    assert.notEqual(a.device_code, b.device_code);
    assert.notEqual(a.user_code, b.user_code);
  });

  test('the device code is stored only as a hash', async () => {
    const d = await startDevice(stack);
    const stored = storedData(stack);
    assert.ok(stored.length > 0);
    for (const { name, text } of stored) {
      assert.ok(!holds(text, d.device_code), `${name} holds the device code in clear`);
      assert.ok(!holds(text, d.device_code.slice(4, 30)), `${name} holds part of the device code`);
    }
  });

  test('a confidential app authenticates with its secret, in the body or with Basic', async () => {
    let r = await deviceAuthorization(stack.url, { client_id: tv.client_id, client_secret: tv.client_secret });
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.user_code, USER_CODE);
    r = await deviceAuthorization(stack.url, {}, [tv.client_id, tv.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.device_code, /^pdc_/);
  });

  test('a confidential app without its secret, or with a wrong one, is invalid_client', async () => {
    let r = await deviceAuthorization(stack.url, { client_id: tv.client_id });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
    r = await deviceAuthorization(stack.url, {}, [tv.client_id, 'pcs_' + 'x'.repeat(48)]);
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
    assert.match(r.headers.get('www-authenticate'), /^Basic/);
  });

  test('an app not allowed the device grant is unauthorized_client', async () => {
    const r = await deviceAuthorization(stack.url, { client_id: stack.app.client_id, client_secret: stack.app.client_secret });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unauthorized_client');
  });

  test('an unknown or missing client is invalid_client', async () => {
    let r = await deviceAuthorization(stack.url, { client_id: 'pca_' + 'A'.repeat(32) });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
    r = await deviceAuthorization(stack.url, { scope: 'profile' });
    assert.equal(r.status, 401);
    assert.equal(r.body.error, 'invalid_client');
  });

  test('an unknown or malformed scope is refused', async () => {
    let r = await deviceAuthorization(stack.url, { client_id: stack.cli_app.client_id, scope: 'profile admin:everything' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_scope');
    r = await deviceAuthorization(stack.url, { client_id: stack.cli_app.client_id, scope: 'profile\u0001' });
    assert.equal(r.status, 400);
    assert.match(r.body.error, /^invalid_(scope|request)$/);
  });

  test('an app limited to some scopes gets those by default and invalid_scope beyond them', async () => {
    const narrow = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Narrow', '--public', '--device',
      '--scope', 'posts:read', '--redirect-uri', 'https://narrow.example/cb']));
    let r = await deviceAuthorization(stack.url, { client_id: narrow.client_id, scope: 'posts:write' });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_scope');
    r = await deviceAuthorization(stack.url, { client_id: narrow.client_id });
    assert.equal(r.status, 200, r.text);
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: r.body.user_code }));
    assert.match(page.text_, /<code>posts:read<\/code>/);
    assert.doesNotMatch(page.text_, /<code>profile<\/code>/);
  });

  test('device authorization takes POST only', async () => {
    const r = await fetch(stack.url + '/oauth/device_authorization?client_id=' + stack.cli_app.client_id);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.equal((await r.json()).error, 'invalid_request');
  });

  test('polling before the user acts is authorization_pending', async () => {
    const d = await startDevice(stack);
    const r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'authorization_pending');
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });

  test('polling at the interval stays authorization_pending', async () => {
    const d = await startDevice(stack);
    let r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.body.error, 'authorization_pending');
    await sleep(d.interval * 1000 + 100);
    r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'authorization_pending');
  });

  test('polling faster than the interval is slow_down, and the interval grows by 5 s', async () => {
    const d = await startDevice(stack);
    await atSecondStart();
    let r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.body.error, 'authorization_pending');
    r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'slow_down');
    // the old interval (1 s) has passed, the new one (6 s) has not
    await sleep(d.interval * 1000 + 600);
    r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'slow_down', 'the interval of this device code grew');
    // another device code keeps the configured interval
    const other = await startDevice(stack);
    r = await poll(stack.url, stack.cli_app.client_id, other.device_code);
    await sleep(other.interval * 1000 + 100);
    r = await poll(stack.url, stack.cli_app.client_id, other.device_code);
    assert.equal(r.body.error, 'authorization_pending');
  });

  test('after approval the token is handed out once, then invalid_grant', async () => {
    const d = await startDevice(stack, 'profile posts:read');
    const done = await decide(s, d.user_code, 'approve');
    assert.equal(done.status, 200);
    let r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.body.access_token, /^pat_[A-Za-z0-9]+$/);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.scope, 'profile posts:read');
    assert.match(String(r.body.id), /^\d+$/);
    const access = r.body.access_token;
    r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    // the token works at the nginx auth_request target, for the right user and app
    const c = await fetch(stack.url + '/oauth/check', { headers: { authorization: `Bearer ${access}` } });
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-user'), 'demo');
    assert.equal(c.headers.get('x-oauth-client'), stack.cli_app.client_id);
    assert.equal(c.headers.get('x-oauth-scope'), 'profile posts:read');
  });

  test('a confidential app collects its token with its secret', async () => {
    const d = (await deviceAuthorization(stack.url, {}, [tv.client_id, tv.client_secret])).body;
    let r = await poll(stack.url, tv.client_id, d.device_code, {}, [tv.client_id, tv.client_secret]);
    assert.equal(r.body.error, 'authorization_pending');
    assert.equal((await decide(s, d.user_code, 'approve')).status, 200);
    r = await poll(stack.url, tv.client_id, d.device_code);
    assert.equal(r.status, 401, 'no secret, no token');
    assert.equal(r.body.error, 'invalid_client');
    r = await poll(stack.url, tv.client_id, d.device_code, {}, [tv.client_id, tv.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.equal(await check(stack.url, r.body.access_token), 204);
  });

  test('after Deny the answer is access_denied, and stays so', async () => {
    const d = await startDevice(stack);
    const done = await decide(s, d.user_code, 'deny');
    assert.equal(done.status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'access_denied');
    }
  });

  test('a malformed, forged or unknown device code is invalid_grant', async () => {
    const d = await startDevice(stack);
    const id = stack.cli_app.client_id;
    for (const bad of ['nonsense', d.device_code.slice(0, -1), d.device_code.slice(0, -1) + (d.device_code.endsWith('A') ? 'B' : 'A'),
      'pac_' + d.device_code.slice(4)]) {
      const r = await poll(stack.url, id, bad);
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error, 'invalid_grant', bad);
    }
    // well formed, checksum right, but never issued
    const r = await poll(stack.url, id, wellFormed('pdc_'));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    const still = await poll(stack.url, id, d.device_code);
    assert.equal(still.body.error, 'authorization_pending', 'the real code still works');
  });

  test('a missing device_code is invalid_request', async () => {
    const r = await token(stack.url, { grant_type: DEVICE_GRANT, client_id: stack.cli_app.client_id });
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
  });

  test('a device code issued to another client is invalid_grant', async () => {
    const d = await startDevice(stack);
    const r = await poll(stack.url, tv.client_id, d.device_code, {}, [tv.client_id, tv.client_secret]);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });

  test('an app not allowed the device grant cannot poll: unauthorized_client', async () => {
    const d = await startDevice(stack);
    const r = await poll(stack.url, stack.app.client_id, d.device_code, {}, [stack.app.client_id, stack.app.client_secret]);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'unauthorized_client');
  });
});

// ---------------------------------------------------------------- the page

describe('the verification page', () => {
  let stack, s;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'device_interval = 1' } });
    s = await signedIn(stack);
  });
  after(async () => { await stack?.stop(); });

  test('a signed-out user goes through the login page and comes back to the code', async () => {
    const d = await startDevice(stack);
    const b = new Session(stack.url);
    const r = await b.get(new URL(d.verification_uri_complete).pathname + new URL(d.verification_uri_complete).search);
    assert.ok([302, 303].includes(r.status), `${r.status}`);
    const login = new URL(r.headers.get('location'), stack.url);
    assert.equal(login.pathname, '/oauth/login');
    const back = login.searchParams.get('return_to');
    assert.equal(new URL(back, stack.url).searchParams.get('code'), d.user_code);
    const signed = await b.signIn(stack.user, stack.password, back);
    assert.equal(signed.headers.get('location'), back);
    const page = await b.get(back);
    assert.equal(page.status, 200);
    assert.ok(isConsent(page.text_), 'back at the consent page for the code');
    assert.match(page.text_, new RegExp(d.user_code));
  });

  test('a signed-out user who types the code is sent to sign in and comes back to that code', async () => {
    const d = await startDevice(stack);
    const b = new Session(stack.url);
    // as when the session ended between showing the form and sending it
    const csrf = await b.csrf('/oauth/login');
    const r = await b.post('/oauth/device', { form: { csrf, user_code: d.user_code.toLowerCase() } });
    assert.equal(r.status, 303);
    const back = new URL(r.headers.get('location'), stack.url).searchParams.get('return_to');
    assert.equal(new URL(back, stack.url).searchParams.get('code'), d.user_code.toLowerCase());
    await b.signIn(stack.user, stack.password, back);
    const page = await b.get(back);
    assert.ok(isConsent(page.text_), 'back at the consent page for the typed code');
  });

  test('a signed-out user on /device/verify, as the Postiz CLI opens it, comes back too', async () => {
    const d = await postiz(stack.url, '/device/code', '');
    const url = `${d.body.verification_uri}?code=${encodeURIComponent(d.body.user_code)}`;
    const b = new Session(stack.url);
    let r = await b.get(url.slice(stack.url.length).replace('/oauth/device', '/device/verify'));
    assert.ok([302, 303].includes(r.status));
    const back = new URL(r.headers.get('location'), stack.url).searchParams.get('return_to');
    await b.signIn(stack.user, stack.password, back);
    r = await b.get(back);
    assert.ok(isConsent(r.text_));
  });

  test('the entry page asks for the code, carries the warning, a CSRF token and the page headers', async () => {
    const r = await s.get('/oauth/device');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.match(r.text_, /name="user_code"/);
    assert.match(r.text_, /name="csrf" value="[^"]+"/);
    assert.match(r.text_, /Only enter a code that you started yourself/);
    assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
    assert.ok(!isConsent(r.text_));
  });

  test('a typed code is found in lower case, without the hyphen and with spaces', async () => {
    for (const variant of [(c) => c.toLowerCase(), (c) => c.replace('-', ''), (c) => `  ${c}  `,
      (c) => ` ${c.toLowerCase().replace('-', ' ')} `]) {
      const d = await startDevice(stack);
      const csrf = await s.csrf('/oauth/device');
      const typed = variant(d.user_code);
      const r = await s.post('/oauth/device', { form: { csrf, user_code: typed } });
      assert.equal(r.status, 200, `${JSON.stringify(typed)}: ${pageError(r.text_)}`);
      assert.ok(isConsent(r.text_), JSON.stringify(typed));
      assert.match(r.text_, new RegExp(d.user_code));
    }
  });

  test('the code in the URL is found through verification_uri_complete and /device/verify, in any case', async () => {
    const d = await startDevice(stack);
    const u = new URL(d.verification_uri_complete);
    let r = await s.get(u.pathname + u.search);
    assert.equal(r.status, 200);
    assert.ok(isConsent(r.text_));
    for (const code of [d.user_code.toLowerCase(), d.user_code.replace('-', ''), ` ${d.user_code} `]) {
      r = await s.get('/device/verify?' + new URLSearchParams({ code }));
      assert.equal(r.status, 200, `${JSON.stringify(code)}: ${pageError(r.text_)}`);
      assert.ok(isConsent(r.text_), JSON.stringify(code));
    }
  });

  test('the consent page names the app and the scopes and warns to approve only your own code', async () => {
    const d = await startDevice(stack, 'profile posts:write');
    const r = await s.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 200);
    assert.match(r.text_, /Postiz CLI/);
    assert.match(r.text_, /<code>profile<\/code> See your user name and organization/);
    assert.match(r.text_, /<code>posts:write<\/code> Create and schedule posts for you/);
    assert.doesNotMatch(r.text_, /posts:read/);
    assert.match(r.text_, /Approve only if you started this yourself/);
    assert.match(r.text_, new RegExp(`<strong class="code">${d.user_code}</strong>`));
    assert.match(r.text_, /You are signed in as <strong>demo<\/strong>/);
    assert.match(r.text_, /name="action" value="deny"/);
    assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  });

  test('approve shows a success page that sends the user back to the device', async () => {
    const d = await startDevice(stack);
    const r = await decide(s, d.user_code, 'approve');
    assert.equal(r.status, 200);
    assert.match(r.text_, /Device connected/);
    assert.match(r.text_, /Postiz CLI is now connected to your account/);
    assert.match(r.text_, /go back to your device/);
    const t = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(t.status, 200);
  });

  test('deny shows a denial page that sends the user back to the device', async () => {
    const d = await startDevice(stack);
    const r = await decide(s, d.user_code, 'deny');
    assert.equal(r.status, 200);
    assert.match(r.text_, /Request denied/);
    assert.match(r.text_, /not connected/);
    assert.match(r.text_, /go back to your device/);
  });

  test('a decision without the CSRF token is refused and the request stays pending', async () => {
    const d = await startDevice(stack);
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    const form = { ...consentForm(page.text_), action: 'approve' };
    delete form.csrf;
    const r = await s.post('/oauth/device', { form });
    assert.equal(r.status, 403);
    assert.ok(!/Device connected/.test(r.text_));
    const t = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(t.body.error, 'authorization_pending');
  });

  test('a code already answered cannot be answered again', async () => {
    const d = await startDevice(stack);
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    const form = consentForm(page.text_);
    assert.equal((await s.post('/oauth/device', { form: { ...form, action: 'deny' } })).status, 200);
    const r = await s.post('/oauth/device', { form: { ...form, action: 'approve' } });
    assert.equal(r.status, 400);
    assert.equal(pageError(r.text_), INVALID_CODE);
    const t = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(t.body.error, 'access_denied', 'the first answer stands');
  });

  test('unknown and malformed codes get the same answer', async () => {
    const csrf = await s.csrf('/oauth/device');
    const answers = [];
    for (const typed of ['ZZZZ-ZZZZ', 'O0I1-!!!!', 'ABC']) {
      const r = await s.post('/oauth/device', { form: { csrf, user_code: typed } });
      answers.push([r.status, pageError(r.text_)]);
      assert.ok(!isConsent(r.text_));
    }
    for (const a of answers) assert.deepEqual(a, [400, INVALID_CODE]);
  });

  test('a typed code is echoed escaped', async () => {
    const csrf = await s.csrf('/oauth/device');
    const r = await s.post('/oauth/device', { form: { csrf, user_code: '"><b id=x>' } });
    assert.equal(r.status, 400);
    assert.ok(!r.text_.includes('"><b id=x>'), 'no markup from the input');
    assert.match(r.text_, /value="&quot;&gt;&lt;b id=x&gt;"/);
  });

  test('opening the right code again and again is not counted as guessing', async () => {
    const d = await startDevice(stack);
    for (let i = 0; i < 12; i++) {
      const r = await s.get('/device/verify?' + new URLSearchParams({ code: d.user_code }));
      assert.equal(r.status, 200, `open ${i}`);
      assert.ok(isConsent(r.text_));
    }
  });
});

// ---------------------------------------------------------------- expiry

describe('expiry (device_code_ttl = 3)', () => {
  let stack, s;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'device_interval = 1\ndevice_code_ttl = 3' } });
    s = await signedIn(stack);
  });
  after(async () => { await stack?.stop(); });

  test('after expires_in the grant answers expired_token, the CLI endpoint too, the page refuses the code', async () => {
    const rfc = await startDevice(stack);
    assert.equal(rfc.expires_in, 3);
    const cli = (await postiz(stack.url, '/device/code', '')).body;
    assert.equal(cli.expires_in, 3);
    const approved = await startDevice(stack);
    assert.equal((await decide(s, approved.user_code, 'approve')).status, 200);
    let r = await poll(stack.url, stack.cli_app.client_id, rfc.device_code);
    assert.equal(r.body.error, 'authorization_pending');
    // a second past expires_in, so the janitor (which keeps a request until its last second has passed) takes them too
    await sleep(4100);
    r = await poll(stack.url, stack.cli_app.client_id, rfc.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'expired_token');
    r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: cli.device_code }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'expired_token');
    // approved but not collected in time: expired too, no token
    r = await poll(stack.url, stack.cli_app.client_id, approved.device_code);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'expired_token');
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: rfc.user_code }));
    assert.equal(page.status, 400);
    assert.equal(pageError(page.text_), INVALID_CODE);
    // the janitor removes expired requests
    const j = JSON.parse(stack.cli(['--json', 'janitor']));
    assert.ok(j.devices >= 3, JSON.stringify(j));
  });
});

// ---------------------------------------------------------------- brute force

describe('the brute-force limit on user codes (RFC 8628 §5.1)', () => {
  let stack;
  before(async () => {
    // the real client address comes from X-Forwarded-For so the test can play several
    stack = await startStack({ env: { EXTRA_NGINX: 'set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;' } });
  });
  after(async () => { await stack?.stop(); });

  test('after 10 wrong codes a user gets 429 with Retry-After even for the right code; another user at the same address is not locked out', async () => {
    const d = await startDevice(stack);
    const s = await signedIn(stack, stack.user, stack.password, { 'x-forwarded-for': '10.0.0.1' });
    const csrf = await s.csrf('/oauth/device');
    for (let i = 0; i < 10; i++) {
      const typed = i % 2 ? `WXYZ-${'23456789'[i % 8]}${'ABCDEFGH'[i % 8]}QR` : `bad!${i}`;
      const r = await s.post('/oauth/device', { form: { csrf, user_code: typed } });
      assert.equal(r.status, 400, `guess ${i}`);
      assert.equal(pageError(r.text_), INVALID_CODE, `guess ${i}`);
    }
    let r = await s.post('/oauth/device', { form: { csrf, user_code: d.user_code } });
    assert.equal(r.status, 429);
    assert.match(pageError(r.text_), /Too many wrong codes\. Try again in \d+ minutes?/);
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(Number.isInteger(wait) && wait > 0 && wait <= 1800, `Retry-After: ${r.headers.get('retry-after')}`);
    assert.ok(!isConsent(r.text_));
    r = await s.get('/device/verify?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 429);
    assert.ok(!r.text_.includes(d.user_code), 'the 429 page does not echo the code');
    // another user behind the same address (a NAT, a proxy) is not locked out
    const pw = addUser(stack, 'bob');
    const bob = await signedIn(stack, 'bob', pw, { 'x-forwarded-for': '10.0.0.1' });
    r = await bob.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 200);
    assert.ok(isConsent(r.text_), 'bob sees the consent page for the right code');
    // the janitor keeps the live counters
    stack.cli(['janitor']);
    r = await s.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 429, 'still limited after the janitor ran');
    // the device request itself is untouched
    const t = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(t.body.error, 'authorization_pending');
  });

  test('an address is limited at 100 wrong codes, whoever types them', async () => {
    const d = await startDevice(stack);
    const addr = { 'x-forwarded-for': '10.0.9.9' };
    // 10 users, 10 wrong codes each (the most one user may): the address reaches 100
    for (let u = 0; u < 10; u++) {
      const pw = addUser(stack, `nat${u}`);
      const s = await signedIn(stack, `nat${u}`, pw, addr);
      const csrf = await s.csrf('/oauth/device');
      for (let i = 0; i < 10; i++) {
        const r = await s.post('/oauth/device', { form: { csrf, user_code: 'ZZZZ-ZZZ' + 'ABCDEFGHJK'[i] } });
        assert.equal(r.status, 400, `user ${u} guess ${i}`);
      }
    }
    const pw = addUser(stack, 'nat10');
    const s = await signedIn(stack, 'nat10', pw, addr);
    const r = await s.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 429, 'a new user at that address waits');
    assert.ok(Number(r.headers.get('retry-after')) > 0);
    const elsewhere = await signedIn(stack, 'nat10', pw, { 'x-forwarded-for': '10.0.9.10' });
    assert.equal((await elsewhere.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }))).status, 200, 'the same user elsewhere is not');
  });

  test('the limit follows the user to another address, and other users elsewhere are not limited', async () => {
    const d = await startDevice(stack);
    const pw = addUser(stack, 'carol');
    const c1 = await signedIn(stack, 'carol', pw, { 'x-forwarded-for': '10.0.1.1' });
    const csrf = await c1.csrf('/oauth/device');
    for (let i = 0; i < 10; i++) {
      const r = await c1.post('/oauth/device', { form: { csrf, user_code: 'ZZZZ-ZZZ' + 'ABCDEFGHJK'[i] } });
      assert.equal(r.status, 400);
    }
    const c2 = await signedIn(stack, 'carol', pw, { 'x-forwarded-for': '10.0.1.2' });
    let r = await c2.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 429, 'same user, new address');
    const dave = await signedIn(stack, 'dave', addUser(stack, 'dave'), { 'x-forwarded-for': '10.0.1.3' });
    r = await dave.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 200);
    assert.ok(isConsent(r.text_), 'a fresh user at a fresh address gets the consent page');
  });
});

// ---------------------------------------------------------------- Postiz CLI endpoints

describe('the Postiz CLI endpoints', () => {
  let stack, s;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'device_interval = 1' } });
    s = await signedIn(stack);
  });
  after(async () => { await stack?.stop(); });

  test('GET /health answers {"status":"ok"}', async () => {
    const r = await fetch(stack.url + '/health');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(await r.json(), { status: 'ok' });
  });

  test('POST /device/code with an empty JSON body uses the configured CLI app', async () => {
    const r = await postiz(stack.url, '/device/code', undefined);
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.device_code, /^pdc_/);
    assert.match(r.body.user_code, USER_CODE);
    assert.equal(r.body.verification_uri, stack.url + '/oauth/device');
    assert.equal(new URL(r.body.verification_uri_complete).searchParams.get('code'), r.body.user_code);
    assert.equal(r.body.expires_in, 900);
    assert.equal(r.body.interval, 1);
    // it is a request of the CLI app: its page names that app
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: r.body.user_code }));
    assert.match(page.text_, /Postiz CLI/);
    assert.match(page.text_, new RegExp(stack.cli_app.client_id));
  });

  test('POST /device/code with {} works the same', async () => {
    const r = await postiz(stack.url, '/device/code', '{}');
    assert.equal(r.status, 200, r.text);
    assert.match(r.body.user_code, USER_CODE);
    assert.equal(typeof r.body.expires_in, 'number');
  });

  test('/device/code and /device/token take POST only', async () => {
    for (const p of ['/device/code', '/device/token']) {
      const r = await fetch(stack.url + p);
      assert.equal(r.status, 405, p);
      assert.equal(r.headers.get('allow'), 'POST');
    }
  });

  test('POST /device/token is authorization_pending, then the token with api_url and organization_id, once', async () => {
    const d = (await postiz(stack.url, '/device/code', '')).body;
    let r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(r.status, 400);
    assert.deepEqual(Object.keys(r.body).includes('error') && r.body.error, 'authorization_pending');
    assert.equal((await decide(s, d.user_code, 'approve')).status, 200);
    r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.match(r.body.access_token, /^pat_/);
    assert.equal(r.body.token_type, 'Bearer');
    assert.equal(r.body.api_url, new URL(stack.url).origin + '/api');
    assert.match(String(r.body.organization_id), /^\d+$/);
    // the organization is the one that /oauth/userinfo names for the token
    const ui = await fetch(stack.url + '/oauth/userinfo', { headers: { authorization: r.body.access_token } });
    assert.equal(ui.status, 200);
    const info = await ui.json();
    assert.equal(info.sub !== undefined, true);
    assert.equal(String(info.organization?.id ?? info.organization), String(r.body.organization_id));
    // the raw Authorization: <token> the Postiz CLI sends is accepted, and Bearer too
    const raw = await fetch(stack.url + '/oauth/check', { headers: { authorization: r.body.access_token } });
    assert.equal(raw.status, 204);
    assert.equal(await check(stack.url, r.body.access_token), 204);
    const again = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(again.status, 400);
    assert.ok(!again.body.access_token);
    assert.equal(again.body.error, 'invalid_grant');
  });

  test('a user in several organizations picks one; the token and organization_id are for it', async () => {
    const pw = addUser(stack, 'erin');
    const acme = JSON.parse(stack.cli(['--json', 'org', 'add', 'Acme Ltd', '--owner', 'erin'])).id;
    const e = await signedIn(stack, 'erin', pw);
    const d = (await postiz(stack.url, '/device/code', '')).body;
    const page = await e.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.match(page.text_, /For which organization\?/);
    assert.match(page.text_, new RegExp(`type="radio" id="org-${acme}" name="org" value="${acme}"`));
    assert.match(page.text_, /Acme Ltd/);
    const form = { ...consentForm(page.text_), org: String(acme), action: 'approve' };
    assert.equal((await e.post('/oauth/device', { form })).status, 200);
    const r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(r.status, 200, r.text);
    assert.equal(String(r.body.organization_id), String(acme));
    const c = await fetch(stack.url + '/oauth/check', { headers: { authorization: r.body.access_token } });
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-organization'), String(acme));
  });

  test('approving for an organization the user is not in is refused and the request stays pending', async () => {
    const pw = addUser(stack, 'frank');
    const foreign = JSON.parse(stack.cli(['--json', 'org', 'add', 'Not Franks', '--owner', 'demo'])).id;
    const f = await signedIn(stack, 'frank', pw);
    const d = (await postiz(stack.url, '/device/code', '')).body;
    const page = await f.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    for (const org of [String(foreign), '999999', 'x1', '']) {
      const r = await f.post('/oauth/device', { form: { ...consentForm(page.text_), org, action: 'approve' } });
      assert.equal(r.status, 403, `org ${JSON.stringify(org)}`);
      assert.doesNotMatch(r.text_, /Device connected/);
    }
    const r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(r.body.error, 'authorization_pending');
  });

  test('POST /device/token after Deny is access_denied', async () => {
    const d = (await postiz(stack.url, '/device/code', '')).body;
    assert.equal((await decide(s, d.user_code, 'deny')).status, 200);
    const r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'access_denied');
  });

  test('POST /device/token polled quickly stays authorization_pending, the one pending answer the CLI knows', async () => {
    const d = (await postiz(stack.url, '/device/code', '')).body;
    for (let i = 0; i < 3; i++) {
      const r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: d.device_code }));
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'authorization_pending', `poll ${i}`);
    }
    // and the quick polls did not grow the code's interval: one interval later the RFC
    // endpoint, which does count, is still pending rather than slow_down
    await new Promise((res) => setTimeout(res, d.interval * 1000 + 100));
    const r = await poll(stack.url, stack.cli_app.client_id, d.device_code);
    assert.equal(r.body.error, 'authorization_pending');
  });

  test('POST /device/token with a missing, malformed or unknown device code', async () => {
    let r = await postiz(stack.url, '/device/token', '{}');
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
    r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: 'not-a-code' }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
    // well formed but never issued (or already cleaned up): the CLI is told to start again
    r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: wellFormed('pdc_') }));
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'expired_token');
    r = await postiz(stack.url, '/device/token', '{"device_code":');
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
    // a code of the RFC flow for another app is not the CLI's
    const tv = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'TV', '--owner', 'demo',
      '--redirect-uri', 'https://tv.example/cb', '--device']));
    const other = (await deviceAuthorization(stack.url, {}, [tv.client_id, tv.client_secret])).body;
    r = await postiz(stack.url, '/device/token', JSON.stringify({ device_code: other.device_code }));
    assert.equal(r.status, 400);
    assert.notEqual(r.body.error, 'authorization_pending');
    assert.ok(!r.body.access_token);
  });
});

describe('without a configured CLI app', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { SEED: '0' } }); });
  after(async () => { await stack?.stop(); });

  test('/device/code says device login for the CLI is not configured; /health still answers', async () => {
    const r = await postiz(stack.url, '/device/code', '');
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_request');
    assert.match(r.body.error_description, /not configured/);
    assert.equal((await fetch(stack.url + '/health')).status, 200);
  });
});

describe('the default interval', () => {
  let stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  test('/device/code and /oauth/device_authorization answer interval 5 and expires_in 900 by default', async () => {
    const a = await postiz(stack.url, '/device/code', '');
    assert.equal(a.body.interval, 5);
    assert.equal(a.body.expires_in, 900);
    const b = await startDevice(stack);
    assert.equal(b.interval, 5);
  });
});
