// review.test.mjs: the findings of the outside security review (issue 10), one test
// each, end to end: remembered consent of public and registered clients, errors not
// redirected to clients nobody vouched for, large Cookie headers, a held write lock,
// code replays, the single-use consent decision, refresh narrowing, invalid_client
// challenges, limited introspection, app_creation, userinfo's scope, scope and
// resource limits, and the synchronous config key.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startStack } from '../lib/stack.mjs';
import { Session, pkce, authorize, token, check, revoke, consentForm, addUser, createApp, basic } from '../lib/client.mjs';

const FAST = { LOGIN_RATE: '1000r/s', TOKEN_RATE: '1000r/s', REGISTER_RATE: '1000r/s', REVOKE_RATE: '1000r/s',
  INTROSPECT_RATE: '1000r/s', AUTHORIZE_RATE: '1000r/s', DEVICE_RATE: '1000r/s' };
const CODE_RE = /^pac_[0-9A-Za-z]{49}$/;

// ---------------------------------------------------------------- helpers

/* An app made with the admin command (so an administrator vouched for it), owned by demo. */
function cliApp(stack, args) {
  return JSON.parse(stack.cli(['--json', 'app', 'create', '--owner', 'demo', ...args]));
}

/* A token issued with the admin command; never used yet. */
function issued(stack, client_id, scope) {
  const args = ['--json', 'token', 'issue', '--user', 'demo', '--app', client_id];
  if (scope) args.push('--scope', scope);
  return JSON.parse(stack.cli(args)).access_token;
}

/* One value from the stack's database. */
function sql(stack, query) {
  return stack.sql(query);
}

/* RFC 7591 registration of a public client (registration = on). */
async function register(stack, redirect_uris) {
  const r = await fetch(stack.url + '/oauth/register', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris, client_name: 'Registered client', token_endpoint_auth_method: 'none' }),
  });
  const body = await r.json();
  assert.equal(r.status, 201, JSON.stringify(body));
  return body;
}

/* A form POST to an API endpoint: {status, headers, body (JSON or null), text}. */
async function postForm(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(body).toString() });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* the caller checks */ }
  return { status: r.status, headers: r.headers, body: json, text };
}

/* An authorization answered with an HTML error page and no redirect. */
function assertErrorPage(a, what) {
  assert.equal(a.status, 400, `${what}: ${a.status} ${a.location}`);
  assert.equal(a.location, null, what);
  assert.match(a.res.headers.get('content-type') ?? '', /^text\/html/, what);
  assert.equal(a.code, null, what);
}

/* A code through the browser step (consent approved when asked). */
async function codeOf(s, params, what = 'authorize') {
  const a = await authorize(s, { state: 'st8', ...params });
  assert.equal(a.status, 302, `${what}: ${a.status} ${a.res.text_.slice(0, 300)}`);
  assert.match(a.code ?? '', CODE_RE, `${what}: ${a.location}`);
  return a.code;
}

/* Holds the stack's database's write lock from another process until release(): on
 * SQLite a sqlite3 process in BEGIN IMMEDIATE; on PostgreSQL a psql process holding every
 * table in EXCLUSIVE mode, which, like SQLite's lock, lets readers through and makes
 * every writer wait. Then ROLLBACK. */
async function holdWriteLock(stack) {
  let p, begin, end;
  if (stack.backend === 'pg') {
    const tables = stack.sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1").split('\n');
    assert.ok(tables.includes('tokens'), tables.join(' '));
    p = spawn('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', stack.database], { stdio: ['pipe', 'pipe', 'pipe'] });
    begin = `BEGIN;\nLOCK TABLE ${tables.join(', ')} IN EXCLUSIVE MODE;\nSELECT 'locked';\n`;
    end = 'ROLLBACK;\n\\q\n';
  } else {
    p = spawn('sqlite3', [stack.database], { stdio: ['pipe', 'pipe', 'pipe'] });
    begin = ".timeout 2000\nBEGIN IMMEDIATE;\nSELECT 'locked';\n";
    end = 'ROLLBACK;\n.quit\n';
  }
  let out = '', err = '';
  p.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => p.once('exit', resolve));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { p.kill(); reject(new Error(`no lock after 5 s: ${err}`)); }, 5000);
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked')) { clearTimeout(timer); resolve(); }
    });
    p.once('exit', (c) => { clearTimeout(timer); reject(new Error(`${p.spawnfile} exited (${c}): ${err}`)); });
    p.stdin.write(begin);
  });
  assert.equal(err, '', `${p.spawnfile} took the lock without complaint`);
  return {
    async release() {
      if (p.exitCode === null) p.stdin.end(end);
      const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function timed(f) {
  const t0 = performance.now();
  const v = await f();
  return [v, performance.now() - t0];
}

// ---------------------------------------------------------------- one stack for most findings

describe('security review (issue 10)', () => {
  let stack, demoApp, demoCreds, cb, demo;

  before(async () => {
    stack = await startStack({ env: { ...FAST, EXTRA_CONFIG: 'registration = on\naccess_token_ttl = 3600' } });
    demoApp = stack.app;
    demoCreds = [demoApp.client_id, demoApp.client_secret];
    cb = demoApp.redirect_uris[0];
    demo = new Session(stack.url);
    await demo.signIn('demo', stack.password);
  });
  after(async () => { await stack?.stop(); });

  test('a public client skips consent only for the exact loopback redirect URI approved; registered clients are always asked', async () => {
    const pub = cliApp(stack, ['--name', 'CLI', '--public', '--redirect-uri', 'http://127.0.0.1/cb']);
    const { challenge } = pkce();
    const req = (redirect_uri) => ({ client_id: pub.client_id, redirect_uri, scope: 'profile', state: 's1',
      code_challenge: challenge, code_challenge_method: 'S256' });

    const first = await authorize(demo, req('http://127.0.0.1:1111/cb'));
    assert.ok(first.consentShown, 'asked the first time');
    assert.match(first.code ?? '', CODE_RE, `approved: ${first.location}`);

    const other = await authorize(demo, req('http://127.0.0.1:2222/cb'), { decision: null });
    assert.ok(other.consentShown, `another port is asked again: ${other.status} ${other.location}`);
    assert.equal(other.status, 200);
    assert.equal(other.code, null);

    const same = await authorize(demo, req('http://127.0.0.1:1111/cb'), { decision: null });
    assert.equal(same.consentShown, false, 'the approved URI skips the page');
    assert.equal(same.status, 302);
    assert.match(same.code ?? '', CODE_RE);
    assert.ok(same.location.startsWith('http://127.0.0.1:1111/cb?'), same.location);

    // a confidential app, once approved, skips the page for any of its registered URIs
    const conf = cliApp(stack, ['--name', 'Conf', '--redirect-uri', 'https://conf.example/a', '--redirect-uri', 'https://conf.example/b']);
    const c1 = await authorize(demo, { client_id: conf.client_id, redirect_uri: 'https://conf.example/a', scope: 'profile' });
    assert.ok(c1.consentShown);
    assert.match(c1.code ?? '', CODE_RE);
    const c2 = await authorize(demo, { client_id: conf.client_id, redirect_uri: 'https://conf.example/b', scope: 'profile' }, { decision: null });
    assert.equal(c2.consentShown, false, 'confidential app: remembered for its other URI');
    assert.match(c2.code ?? '', CODE_RE);

    // a self-registered client is asked every time
    const reg = await register(stack, ['http://127.0.0.1:3333/cb']);
    const rq = { ...req('http://127.0.0.1:3333/cb'), client_id: reg.client_id };
    const r1 = await authorize(demo, rq);
    assert.ok(r1.consentShown);
    assert.match(r1.code ?? '', CODE_RE);
    const r2 = await authorize(demo, rq, { decision: null });
    assert.ok(r2.consentShown, `a registered client is asked again: ${r2.status} ${r2.location}`);
    assert.equal(r2.code, null);
  });

  test('authorization errors are shown, not redirected, before sign-in and for clients the user never approved', async () => {
    const reg = await register(stack, ['http://127.0.0.1:4444/cb']);
    const { challenge } = pkce();
    const regReq = { client_id: reg.client_id, redirect_uri: 'http://127.0.0.1:4444/cb', scope: 'profile', state: 'st2',
      code_challenge: challenge, code_challenge_method: 'S256' };
    const anon = new Session(stack.url);

    assertErrorPage(await authorize(anon, { ...regReq, response_type: 'foo' }, { decision: null }),
      'anonymous, registered client, response_type=foo');
    assertErrorPage(await authorize(anon, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'nonexistent', state: 'st2' }, { decision: null }),
      'anonymous, demo app, unknown scope');

    // signed in: the app an administrator made gets its error
    const v = await authorize(demo, { client_id: demoApp.client_id, redirect_uri: cb, state: 'st2', response_type: 'foo' }, { decision: null });
    assert.equal(v.status, 302, v.res.text_.slice(0, 300));
    assert.ok(v.location.startsWith(cb + '?'), v.location);
    assert.equal(v.error, 'unsupported_response_type');
    assert.equal(v.state, 'st2');
    assert.equal(v.iss, stack.url);

    // signed in: a registered client the user never approved does not
    assertErrorPage(await authorize(demo, { ...regReq, response_type: 'foo' }, { decision: null }),
      'signed in, registered client never approved');

    // once approved, it does
    await codeOf(demo, regReq, 'approve the registered client');
    const e = await authorize(demo, { ...regReq, response_type: 'foo' }, { decision: null });
    assert.equal(e.status, 302, e.res.text_.slice(0, 300));
    assert.ok(e.location.startsWith('http://127.0.0.1:4444/cb?'), e.location);
    assert.equal(e.error, 'unsupported_response_type');
    assert.equal(e.state, 'st2');
  });

  test('7 KB of ordinary site cookies do not break the check, the token endpoint, introspection or a signed-in page', async () => {
    const parts = [];
    for (let i = 0; parts.join('; ').length < 7000; i++) parts.push(`c${i}=${'x'.repeat(40)}`);
    const cookies = parts.join('; ');
    assert.ok(cookies.length > 4096);

    const live = issued(stack, demoApp.client_id);
    const c = await fetch(stack.url + '/oauth/check', { headers: { authorization: `Bearer ${live}`, cookie: cookies } });
    await c.arrayBuffer();
    assert.equal(c.status, 204, 'check');

    const code = await codeOf(demo, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'profile' });
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, demoCreds, { headers: { cookie: cookies } });
    assert.equal(t.status, 200, `token: ${t.text}`);
    const at = t.body.access_token;

    const i = await postForm(stack.url + '/oauth/introspect', { token: at }, { authorization: basic(...demoCreds), cookie: cookies });
    assert.equal(i.status, 200, `introspect: ${i.text}`);
    assert.equal(i.body.active, true);

    const session = [...demo.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const p = await fetch(stack.url + '/oauth/approved', { headers: { cookie: `${cookies}; ${session}` }, redirect: 'manual' });
    const html = await p.text();
    assert.equal(p.status, 200, `approved page: ${p.status} ${p.headers.get('location')}`);
    assert.match(html, /Demo app/);
  });

  test('a held write lock: the check answers at once, token and revoke answer 503 with Retry-After within 2 s, then work', async () => {
    const fresh = issued(stack, demoApp.client_id); // its first check wants to record last use
    const victim = issued(stack, demoApp.client_id);
    const code = await codeOf(demo, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'profile' });
    const redeem = () => token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, demoCreds);

    const lock = await holdWriteLock(stack);
    try {
      const [st, checkMs] = await timed(() => check(stack.url, fresh));
      assert.equal(st, 204, 'the check of a live token');
      assert.ok(checkMs < 1000, `the check took ${Math.round(checkMs)} ms`);

      const [t, tokenMs] = await timed(redeem);
      assert.equal(t.status, 503, `token: ${t.status} ${t.text}`);
      assert.ok(t.headers.get('retry-after'), 'token: Retry-After');
      assert.equal(t.body?.error, 'temporarily_unavailable');
      assert.ok(tokenMs < 2500, `token took ${Math.round(tokenMs)} ms`);

      const [rv, revokeMs] = await timed(() => revoke(stack.url, { token: victim }, demoCreds));
      assert.equal(rv.status, 503, `revoke: ${rv.status} ${rv.text}`);
      assert.ok(rv.headers.get('retry-after'), 'revoke: Retry-After');
      assert.equal(rv.body?.error, 'temporarily_unavailable');
      assert.ok(revokeMs < 2500, `revoke took ${Math.round(revokeMs)} ms`);
    } finally {
      await lock.release();
    }

    const t = await redeem();
    assert.equal(t.status, 200, `token after the lock: ${t.text}`);
    assert.equal(await check(stack.url, t.body.access_token), 204);
    assert.equal(await check(stack.url, victim), 204, 'the revoke refused under the lock changed nothing');
    const rv = await revoke(stack.url, { token: victim }, demoCreds);
    assert.equal(rv.status, 200, rv.text);
    assert.equal(await check(stack.url, victim), 401, 'revoked after the lock');
    assert.equal(await check(stack.url, fresh), 204);
  });

  test('a replayed code revokes tokens only when its own client replays it with the right verifier and redirect URI', async () => {
    // public client: a replay with a wrong verifier revokes nothing
    const pub = cliApp(stack, ['--name', 'Replay CLI', '--public', '--redirect-uri', 'http://127.0.0.1/cb']);
    const { verifier, challenge } = pkce();
    const pcb = 'http://127.0.0.1:5555/cb';
    const pcode = await codeOf(demo, { client_id: pub.client_id, redirect_uri: pcb, scope: 'profile',
      code_challenge: challenge, code_challenge_method: 'S256' });
    const redeemPub = (v) => token(stack.url, { grant_type: 'authorization_code', code: pcode, redirect_uri: pcb, client_id: pub.client_id, code_verifier: v });
    const pt = await redeemPub(verifier);
    assert.equal(pt.status, 200, pt.text);
    const wrong = await redeemPub(pkce().verifier);
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal(wrong.body.error, 'invalid_grant');
    assert.equal(await check(stack.url, pt.body.access_token), 204, 'a wrong verifier revoked the token');
    const right = await redeemPub(verifier);
    assert.equal(right.body.error, 'invalid_grant');
    assert.match(right.body.error_description, /already used/);
    assert.equal(await check(stack.url, pt.body.access_token), 401, 'the real replay revokes');

    // confidential client: another client's credentials, or none, revoke nothing
    const other = cliApp(stack, ['--name', 'Other', '--redirect-uri', cb]);
    const code = await codeOf(demo, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'profile' });
    const body = { grant_type: 'authorization_code', code, redirect_uri: cb };
    const t = await token(stack.url, body, demoCreds);
    assert.equal(t.status, 200, t.text);
    const at = t.body.access_token;

    const byOther = await token(stack.url, body, [other.client_id, other.client_secret]);
    assert.equal(byOther.status, 400, byOther.text);
    assert.equal(byOther.body.error, 'invalid_grant');
    assert.equal(await check(stack.url, at), 204, 'another client\'s replay revoked the token');

    const anon = await token(stack.url, body);
    assert.equal(anon.status, 401, anon.text);
    assert.equal(anon.body.error, 'invalid_client');
    const idOnly = await token(stack.url, { ...body, client_id: demoApp.client_id });
    assert.equal(idOnly.status, 401, idOnly.text);
    assert.equal(await check(stack.url, at), 204, 'an unauthenticated replay revoked the token');

    const replay = await token(stack.url, body, demoCreds);
    assert.equal(replay.status, 400, replay.text);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.match(replay.body.error_description, /already used/);
    assert.equal(await check(stack.url, at), 401, 'the client\'s own replay revokes');
    const rt = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token }, demoCreds);
    assert.equal(rt.body?.error, 'invalid_grant', 'the refresh token went too');
  });

  test('a consent decision is single-use and its form cannot be edited', async () => {
    const pw = addUser(stack, 'consenter');
    const s = new Session(stack.url);
    await s.signIn('consenter', pw);
    const mk = (name) => cliApp(stack, ['--name', name, '--redirect-uri', 'https://c6.example/a', '--redirect-uri', 'https://c6.example/b']);
    const page = async (app) => {
      const a = await authorize(s, { client_id: app.client_id, redirect_uri: 'https://c6.example/a', scope: 'profile', state: 'st6' }, { decision: null });
      assert.ok(a.consentShown, `consent page for ${app.client_id}: ${a.status} ${a.location}`);
      return consentForm(a.page.text_);
    };

    // posted twice: the second post gets nothing
    const x = cliApp(stack, ['--name', 'Twice', '--redirect-uri', 'https://c6.example/a']);
    const fx = await page(x);
    const ok = await s.post('/oauth/consent', { form: { ...fx, action: 'approve' } });
    assert.equal(ok.status, 302, ok.text_.slice(0, 300));
    assert.match(new URL(ok.headers.get('location')).searchParams.get('code') ?? '', CODE_RE);
    const again = await s.post('/oauth/consent', { form: { ...fx, action: 'approve' } });
    assert.equal(again.status, 400, `re-posted: ${again.status} ${again.headers.get('location')}`);
    assert.equal(again.headers.get('location'), null);

    // an edited form: wider scope, another registered URI; the request as asked wins
    const y = mk('Edited');
    const fy = await page(y);
    const ed = await s.post('/oauth/consent', { form: { ...fy, action: 'approve', scope: 'profile posts:read posts:write', redirect_uri: 'https://c6.example/b' } });
    assert.equal(ed.status, 302, ed.text_.slice(0, 300));
    const loc = new URL(ed.headers.get('location'));
    assert.equal(loc.origin + loc.pathname, 'https://c6.example/a', 'the redirect URI asked for');
    const t = await token(stack.url, { grant_type: 'authorization_code', code: loc.searchParams.get('code'), redirect_uri: 'https://c6.example/a' },
      [y.client_id, y.client_secret]);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.scope, 'profile', 'the scope asked for');

    // denied, then the same form re-posted as an approval
    const z = mk('Denied');
    const fz = await page(z);
    const no = await s.post('/oauth/consent', { form: { ...fz, action: 'deny' } });
    assert.equal(no.status, 302);
    assert.equal(new URL(no.headers.get('location')).searchParams.get('error'), 'access_denied');
    const flip = await s.post('/oauth/consent', { form: { ...fz, action: 'approve' } });
    assert.equal(flip.status, 400, `approve after deny: ${flip.status} ${flip.headers.get('location')}`);
    assert.equal(flip.headers.get('location'), null);
  });

  test('a refresh with a narrower scope narrows that access token only; the refresh token keeps the grant\'s scope', async () => {
    const code = await codeOf(demo, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'profile posts:read' });
    const t0 = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, demoCreds);
    assert.equal(t0.status, 200, t0.text);
    assert.equal(t0.body.scope, 'profile posts:read');
    const t1 = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t0.body.refresh_token, scope: 'profile' }, demoCreds);
    assert.equal(t1.status, 200, t1.text);
    assert.equal(t1.body.scope, 'profile');
    const t2 = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t1.body.refresh_token }, demoCreds);
    assert.equal(t2.status, 200, t2.text);
    assert.equal(t2.body.scope, 'profile posts:read');
  });

  test('every invalid_client 401 carries WWW-Authenticate: Basic, and an unknown client reads like a wrong secret', async () => {
    const unknown = { client_id: 'pca_' + 'Q'.repeat(32), client_secret: 'pcs_' + 'Q'.repeat(48) };
    const wrong = { client_id: demoApp.client_id, client_secret: 'pcs_' + 'W'.repeat(48) };
    const endpoints = {
      '/oauth/token': { grant_type: 'refresh_token', refresh_token: 'prt_x' },
      '/oauth/revoke': { token: 'pat_x' },
      '/oauth/introspect': { token: 'pat_x' },
      '/oauth/device_authorization': { scope: 'profile' },
    };
    for (const [p, params] of Object.entries(endpoints)) {
      const cases = {
        'unknown client in the body': await postForm(stack.url + p, { ...params, ...unknown }),
        'wrong secret in the body': await postForm(stack.url + p, { ...params, ...wrong }),
        'no client authentication': await postForm(stack.url + p, params),
        'wrong secret with Basic': await postForm(stack.url + p, params, { authorization: basic(wrong.client_id, wrong.client_secret) }),
      };
      for (const [what, r] of Object.entries(cases)) {
        assert.equal(r.status, 401, `${p}, ${what}: ${r.status} ${r.text}`);
        assert.equal(r.body?.error, 'invalid_client', `${p}, ${what}`);
        assert.match(r.headers.get('www-authenticate') ?? '', /^Basic\b/, `${p}, ${what}`);
      }
      assert.equal(cases['unknown client in the body'].body.error_description, cases['wrong secret in the body'].body.error_description,
        `${p}: unknown client and wrong secret answer alike`);
    }
  });

  test('introspection tells a client about its own tokens only, unless an administrator made it a resource server', async () => {
    const b = cliApp(stack, ['--name', 'App B', '--redirect-uri', 'https://b.example/cb']);
    const aToken = issued(stack, demoApp.client_id);
    const bToken = issued(stack, b.client_id);
    const introspect = (t, creds) => postForm(stack.url + '/oauth/introspect', { token: t }, { authorization: basic(...creds) });

    const foreign = await introspect(aToken, [b.client_id, b.client_secret]);
    assert.equal(foreign.status, 200, foreign.text);
    assert.deepEqual(foreign.body, { active: false });

    const own = await introspect(bToken, [b.client_id, b.client_secret]);
    assert.equal(own.body.active, true, own.text);
    assert.equal(own.body.client_id, b.client_id);
    assert.equal(own.body.username, 'demo');

    stack.cli(['app', 'set', b.client_id, '--resource-server']);
    const rs = await introspect(aToken, [b.client_id, b.client_secret]);
    assert.equal(rs.body.active, true, rs.text);
    assert.equal(rs.body.client_id, demoApp.client_id);

    const made = cliApp(stack, ['--name', 'API', '--redirect-uri', 'https://api.example/cb', '--resource-server']);
    const rs2 = await introspect(aToken, [made.client_id, made.client_secret]);
    assert.equal(rs2.body.active, true, rs2.text);
    assert.equal(rs2.body.username, 'demo');
  });

  test('userinfo needs the openid or profile scope: 403 insufficient_scope without it', async () => {
    const postsOnly = issued(stack, demoApp.client_id, 'posts:read');
    const r = await fetch(stack.url + '/oauth/userinfo', { headers: { authorization: `Bearer ${postsOnly}` } });
    await r.arrayBuffer();
    assert.equal(r.status, 403);
    const h = r.headers.get('www-authenticate') ?? '';
    assert.match(h, /error="insufficient_scope"/, h);
    // the stack offers openid: the scope OpenID Connect's UserInfo asks for
    assert.match(h, /scope="openid"/, h);

    const withProfile = issued(stack, demoApp.client_id, 'profile');
    const ok = await fetch(stack.url + '/oauth/userinfo', { headers: { authorization: `Bearer ${withProfile}` } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).name, 'demo');
  });

  test('scopes are normalised, a resource is capped, and a grant keeps at most 5 unredeemed codes', async () => {
    const code = await codeOf(demo, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'profile profile profile' });
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cb }, demoCreds);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.scope, 'profile');

    const resource = 'https://api.example/' + 'r'.repeat(580);
    assert.equal(resource.length, 600);
    const big = await authorize(demo, { client_id: demoApp.client_id, redirect_uri: cb, scope: 'profile', state: 'st11', resource });
    assert.equal(big.code, null, `a 600-byte resource got a code: ${big.location}`);
    assert.ok(big.status === 400 || (big.status === 302 && ['invalid_target', 'invalid_request'].includes(big.error)),
      `a 600-byte resource: ${big.status} ${big.location}`);
    assert.equal(sql(stack, 'SELECT count(*) FROM tokens WHERE length(resource) > 512'), '0');
    assert.equal(sql(stack, 'SELECT count(*) FROM requests WHERE length(query) > 600'), '0');

    const app = cliApp(stack, ['--name', 'Many codes', '--redirect-uri', 'https://many.example/cb']);
    const codes = [];
    for (let i = 0; i < 12; i++)
      codes.push(await codeOf(demo, { client_id: app.client_id, redirect_uri: 'https://many.example/cb', scope: 'profile' }, `request ${i}`));
    const pending = Number(sql(stack, `SELECT count(*) FROM tokens t JOIN grants g ON g.id = t.grant_id JOIN apps a ON a.id = g.app_id
      WHERE t.kind = 0 AND a.client_id = '${app.client_id}'`));
    assert.ok(pending >= 1 && pending <= 5, `${pending} unredeemed codes`);
    const newest = await token(stack.url, { grant_type: 'authorization_code', code: codes.at(-1), redirect_uri: 'https://many.example/cb' },
      [app.client_id, app.client_secret]);
    assert.equal(newest.status, 200, newest.text);
  });
});

// ---------------------------------------------------------------- config keys

describe('app_creation = admins', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { ...FAST, EXTRA_CONFIG: 'app_creation = admins' } }); });
  after(async () => { await stack?.stop(); });

  test('only administrators register apps when app_creation = admins', async () => {
    const pw = addUser(stack, 'dev');
    const dev = new Session(stack.url);
    await dev.signIn('dev', pw);
    const before = JSON.parse(stack.cli(['--json', 'app', 'list'])).length;
    const g = await dev.get('/oauth/apps/new');
    assert.equal(g.status, 403, 'GET by a non-admin');
    const csrf = await dev.csrf('/oauth/approved'); // a valid token of the session, from another page
    const fd = new FormData();
    for (const [k, v] of Object.entries({ csrf, name: 'Sneaky', description: '', redirect_uris: 'https://x.example/cb', scope: 'profile', type: 'confidential' }))
      fd.append(k, v);
    const p = await dev.post('/oauth/apps/new', { multipart: fd });
    assert.equal(p.status, 403, `POST by a non-admin: ${p.status}`);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'list'])).length, before, 'nothing created');

    const admin = new Session(stack.url);
    await admin.signIn('demo', stack.password);
    const made = await createApp(admin, { name: 'By the admin' });
    assert.match(made.client_id, /^pca_/);
  });
});

describe('synchronous', () => {
  for (const mode of ['normal', 'full']) {
    test(`synchronous = ${mode} starts a working stack`, async () => {
      const stack = await startStack({ env: { ...FAST, EXTRA_CONFIG: `synchronous = ${mode}` } });
      try {
        const s = new Session(stack.url);
        await s.signIn('demo', stack.password);
        const cbu = stack.app.redirect_uris[0];
        const code = await codeOf(s, { client_id: stack.app.client_id, redirect_uri: cbu, scope: 'profile' });
        const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: cbu }, [stack.app.client_id, stack.app.client_secret]);
        assert.equal(t.status, 200, t.text);
        assert.equal(await check(stack.url, t.body.access_token), 204);
      } finally {
        await stack.stop();
      }
    });
  }

  test('synchronous = sometimes stops the stack with a message naming the key', async () => {
    await assert.rejects(startStack({ env: { SEED: '0', EXTRA_CONFIG: 'synchronous = sometimes' } }), /synchronous/);
  });
});
