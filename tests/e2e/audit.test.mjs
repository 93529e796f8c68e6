// audit.test.mjs: the audit log (config audit_log; tools/stack.sh sets DIR/logs/audit.log):
// each security event, made by the real action through the real stack (the web pages,
// the OAuth endpoints, the admin command), is one JSON line with its fields; no secret,
// code, token, password, cookie or CSRF token the test used is anywhere in the file;
// lines of many processes writing at once (workers of several executables and admin
// commands) are each whole JSON; a renamed (rotated) file is left for a new one, with or
// without SIGHUP, and SIGHUP stops nothing; a file that cannot be written breaks no
// request and is logged once per process. The bridged device login is in its own stack.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startStack, freePort, build } from '../lib/stack.mjs';
import { Session, authorize, token, revoke, consentForm, unescapeHtml, appForm, codeRequest } from '../lib/client.mjs';

const execFileP = promisify(execFile);
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/* The audit log's lines, each parsed (a line that is not one JSON object fails). */
function readAudit(file) {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  return text.slice(0, -1).split('\n').map((l, i) => {
    let o;
    assert.doesNotThrow(() => { o = JSON.parse(l); }, `line ${i + 1} is JSON: ${l}`);
    assert.equal(typeof o, 'object', l);
    assert.match(o.time, RFC3339_UTC, l);
    assert.match(o.event, /^[a-z_]+$/, l);
    assert.equal(typeof o.ok, 'boolean', l);
    return o;
  });
}

/* Whether line has every field of want with that value. */
const matches = (line, want) => Object.entries(want).every(([k, v]) => line[k] === v);

describe('audit log', () => {
  let stack, file;
  const secrets = new Set(); // everything that must never reach the file
  const keep = (...v) => { for (const s of v) if (s) secrets.add(String(s)); };
  const sessions = [];
  const session = () => { const s = new Session(stack.url); sessions.push(s); return s; };
  let mark = 0; // lines before the step under test
  const since = () => readAudit(file).slice(mark);
  const step = () => { mark = readAudit(file).length; };
  /* The one line (of those since the step began) of event with the fields of want;
   * waits a moment for a line written after the response. */
  async function expectEvent(event, ok, want = {}) {
    for (let i = 0; ; i++) {
      const found = since().filter((l) => l.event === event && l.ok === ok && matches(l, want));
      if (found.length === 1 || i === 20) {
        assert.equal(found.length, 1, `one ${event} ${JSON.stringify(want)} in:\n${since().map((l) => JSON.stringify(l)).join('\n')}`);
        return found[0];
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const cliJson = (args, input) => JSON.parse(stack.cli(['--json', ...args], input));
  const signedIn = async (name, pw) => { const s = session(); await s.signIn(name, pw); return s; };

  let alice, alicePw, web; // web: alice's app, made on the apps page
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: [
      'registration = on', 'access_token_ttl = 3600',
      'processes consent = 2', 'processes apps = 2', 'processes revoke = 3',
    ].join('\n') } });
    file = path.join(stack.dir, 'logs', 'audit.log');
  });
  after(async () => { await stack?.stop(); });

  test('stack.sh sets audit_log = logs/audit.log', () => {
    assert.match(readFileSync(stack.config, 'utf8'), /^audit_log = logs\/audit\.log$/m);
  });

  test('the admin command: user add, org add and membership, app create, set and rotate', () => {
    step();
    alicePw = 'pw-alice-"quoted"-0123456789';
    keep(alicePw);
    stack.cli(['user', 'add', 'alice', '--admin'], alicePw + '\n');
    stack.cli(['user', 'add', 'bob'], 'pw-bob-0123456789\n');
    keep('pw-bob-0123456789');
    return (async () => {
      const u = await expectEvent('user_added', true, { by: 'admin', user: 'alice', admin: true });
      assert.equal(typeof u.user_id, 'number');
      assert.equal(u.uid, process.getuid());
      // any Unicode and quotes in a value come back as they went in
      const orgName = 'Zoë "the" \\ Café 😀';
      const org = cliJson(['org', 'add', orgName, '--owner', 'alice']);
      await expectEvent('org_added', true, { by: 'admin', org_id: org.id, org: orgName, owner: 'alice' });
      stack.cli(['org', 'member', String(org.id), 'bob', '--role', 'member']);
      await expectEvent('org_member_set', true, { org_id: org.id, user: 'bob', role: 'member' });
      stack.cli(['org', 'member', String(org.id), 'bob', '--remove']);
      await expectEvent('org_member_removed', true, { org_id: org.id, user: 'bob', grants_revoked: 0 });
      const app = cliJson(['app', 'create', '--name', 'CLI "app" ☃', '--redirect-uri', 'https://cli.example/cb']);
      keep(app.client_secret);
      await expectEvent('app_created', true, { by: 'admin', client_id: app.client_id, name: 'CLI "app" ☃', public: false });
      stack.cli(['app', 'set', app.client_id, '--resource-server']);
      await expectEvent('app_edited', true, { by: 'admin', client_id: app.client_id, resource_server: true });
      const rot = cliJson(['app', 'rotate', app.client_id]);
      keep(rot.client_secret);
      await expectEvent('app_secret_rotated', true, { by: 'admin', client_id: app.client_id });
      stack.cli(['org', 'del', String(org.id)]);
      await expectEvent('org_deleted', true, { by: 'admin', org_id: org.id });
    })();
  });

  test('sign-in: ok with the user and address, failed with the name as typed', async () => {
    step();
    const s = session();
    const csrf = await s.csrf('/oauth/login');
    keep(csrf);
    const typed = 'mallory "x" \\ é';
    const bad = await s.post('/oauth/login', { form: { csrf, username: typed, password: 'wrong-password-123' } });
    keep('wrong-password-123');
    assert.equal(bad.status, 401);
    await expectEvent('sign_in', false, { user: typed, addr: '127.0.0.1' });
    alice = await signedIn('alice', alicePw);
    const ok = await expectEvent('sign_in', true, { user: 'alice', addr: '127.0.0.1' });
    assert.equal(typeof ok.user_id, 'number');
  });

  test('the apps pages: app created, edited, secret rotated', async () => {
    step();
    const csrf = await alice.csrf('/oauth/apps/new');
    const r = await alice.post('/oauth/apps/new', { multipart: appForm(csrf, { name: 'Web "app"' }) });
    assert.equal(r.status, 200);
    web = { client_id: r.text_.match(/pca_[A-Za-z0-9]{32}/)[0], client_secret: r.text_.match(/pcs_[A-Za-z0-9]{48}/)[0] };
    keep(web.client_secret);
    await expectEvent('app_created', true, { by: 'user', user: 'alice', client_id: web.client_id, name: 'Web "app"', public: false, addr: '127.0.0.1' });
    const e = await alice.post(`/oauth/apps/${web.client_id}`, { multipart: appForm(csrf, { name: 'Web app 2' }) });
    assert.equal(e.status, 303, e.text_.slice(0, 300));
    await expectEvent('app_edited', true, { by: 'user', user: 'alice', client_id: web.client_id, name: 'Web app 2', secret_issued: false });
    const rot = await alice.post(`/oauth/apps/${web.client_id}/rotate`, { form: { csrf } });
    assert.equal(rot.status, 200);
    web.client_secret = rot.text_.match(/pcs_[A-Za-z0-9]{48}/)[0];
    keep(web.client_secret);
    await expectEvent('app_secret_rotated', true, { by: 'user', user: 'alice', client_id: web.client_id });
  });

  test('consent denied and approved; token issued, refreshed, revoked by the client and by the user', async () => {
    step();
    const bobS = await signedIn('bob', 'pw-bob-0123456789');
    const denied = await authorize(bobS, codeRequest(web.client_id), { decision: 'deny' });
    assert.equal(denied.error, 'access_denied');
    await expectEvent('consent_denied', true, { user: 'bob', client_id: web.client_id, scope: 'profile' });
    const a = await authorize(bobS, codeRequest(web.client_id));
    assert.ok(a.code);
    keep(a.code);
    const approved = await expectEvent('consent_approved', true, { user: 'bob', client_id: web.client_id, scope: 'profile' });
    assert.equal(typeof approved.org_id, 'number');
    assert.equal(approved.remembered, undefined);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: 'https://app.example/cb' },
      [web.client_id, web.client_secret]);
    assert.equal(t.status, 200, t.text);
    keep(t.body.access_token, t.body.refresh_token);
    const issued = await expectEvent('token_issued', true, { grant_type: 'authorization_code', client_id: web.client_id, scope: 'profile', refresh: true });
    assert.equal(issued.user_id, approved.user_id);
    assert.equal(issued.org_id, approved.org_id);
    assert.match(issued.code_hash, /^[0-9a-f]{8}$/);
    // asked again: remembered, no page, a decision all the same
    const again = await authorize(bobS, codeRequest(web.client_id));
    assert.equal(again.consentShown, false);
    keep(again.code);
    await expectEvent('consent_approved', true, { user: 'bob', client_id: web.client_id, remembered: true });
    const r = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token }, [web.client_id, web.client_secret]);
    assert.equal(r.status, 200, r.text);
    keep(r.body.access_token, r.body.refresh_token);
    const refreshed = await expectEvent('token_refreshed', true, { grant_type: 'refresh_token', client_id: web.client_id, user: 'bob', scope: 'profile', grant_id: issued.grant_id });
    assert.match(refreshed.refresh_hash, /^[0-9a-f]{8}$/);
    // the old refresh token again: the grant goes
    const reuse = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token }, [web.client_id, web.client_secret]);
    assert.equal(reuse.status, 400);
    await expectEvent('refresh_reused', false, { client_id: web.client_id, grant_id: issued.grant_id });

    const b = await authorize(bobS, codeRequest(web.client_id));
    keep(b.code);
    const t2 = await token(stack.url, { grant_type: 'authorization_code', code: b.code, redirect_uri: 'https://app.example/cb' }, [web.client_id, web.client_secret]);
    keep(t2.body.access_token, t2.body.refresh_token);
    const rv = await revoke(stack.url, { token: t2.body.access_token }, [web.client_id, web.client_secret]);
    assert.equal(rv.status, 200);
    await expectEvent('token_revoked', true, { by: 'client', client_id: web.client_id, what: 'token' });
    // the same code again: a replay, its tokens revoked
    const replay = await token(stack.url, { grant_type: 'authorization_code', code: b.code, redirect_uri: 'https://app.example/cb' }, [web.client_id, web.client_secret]);
    assert.equal(replay.status, 400);
    await expectEvent('code_replayed', false, { client_id: web.client_id });

    const c = await authorize(bobS, codeRequest(web.client_id));
    keep(c.code);
    const t3 = await token(stack.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: 'https://app.example/cb' }, [web.client_id, web.client_secret]);
    keep(t3.body.access_token, t3.body.refresh_token);
    const list = await bobS.get('/oauth/approved');
    const id = Number(list.text_.match(/\/oauth\/approved\/(\d+)\/revoke/)[1]);
    const csrf = unescapeHtml(list.text_.match(/name="csrf" value="([^"]+)"/)[1]);
    keep(csrf);
    const done = await bobS.post(`/oauth/approved/${id}/revoke`, { form: { csrf, confirm: 'yes' } });
    assert.equal(done.status, 303);
    await expectEvent('token_revoked', true, { by: 'user', user: 'bob', what: 'grant', grant_id: id });
  });

  test('dynamic registration', async () => {
    step();
    const r = await fetch(stack.url + '/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://mcp.example/cb'], client_name: 'MCP «client»', token_endpoint_auth_method: 'none' }) });
    const body = await r.json();
    assert.equal(r.status, 201, JSON.stringify(body));
    await expectEvent('client_registered', true, { client_id: body.client_id, name: 'MCP «client»', addr: '127.0.0.1' });
  });

  test('device authorization: approved and denied, the device token issued', async () => {
    step();
    const dev = cliJson(['app', 'create', '--name', 'Device app', '--device', '--redirect-uri', 'https://dev.example/cb']);
    keep(dev.client_secret);
    const start = async () => {
      const d = await token(stack.url, { scope: 'profile' }, [dev.client_id, dev.client_secret], { path: '/oauth/device_authorization' });
      assert.equal(d.status, 200, d.text);
      keep(d.body.device_code, d.body.user_code, d.body.user_code.replace('-', ''));
      return d.body;
    };
    const decide = async (userCode, action) => {
      const page = await alice.get('/oauth/device?' + new URLSearchParams({ code: userCode }));
      const r = await alice.post('/oauth/device', { form: { ...consentForm(page.text_), action } });
      assert.equal(r.status, 200);
    };
    const d1 = await start();
    await decide(d1.user_code, 'approve');
    const ap = await expectEvent('device_approved', true, { user: 'alice', client_id: dev.client_id });
    assert.ok(ap.org_id > 0);
    const t = await token(stack.url, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: d1.device_code },
      [dev.client_id, dev.client_secret]);
    assert.equal(t.status, 200, t.text);
    keep(t.body.access_token, t.body.refresh_token);
    const issued = await expectEvent('token_issued', true, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: dev.client_id, org_id: ap.org_id, scope: 'profile' });
    assert.match(issued.device_code_hash, /^[0-9a-f]{8}$/);
    const d2 = await start();
    await decide(d2.user_code, 'deny');
    await expectEvent('device_denied', true, { user: 'alice', client_id: dev.client_id });
  });

  test('the admin command: token issue and revoke, passwd, sessions, janitor, app and user del', async () => {
    step();
    const t = cliJson(['token', 'issue', '--user', 'bob', '--app', web.client_id]);
    keep(t.access_token);
    const issued = await expectEvent('token_issued', true, { grant_type: 'admin', by: 'admin', client_id: web.client_id, user: 'bob', grant_id: t.grant_id });
    assert.equal(issued.scope, 'profile');
    stack.cli(['token', 'revoke', '--grant', String(t.grant_id)]);
    await expectEvent('token_revoked', true, { by: 'admin', what: 'grant', grant_id: t.grant_id });
    stack.cli(['user', 'passwd', 'bob', '--revoke-tokens'], 'pw-bob-new-0123456789\n');
    keep('pw-bob-new-0123456789');
    await expectEvent('user_password_changed', true, { by: 'admin', user: 'bob' });
    stack.cli(['user', 'sessions', 'revoke', 'alice']);
    await expectEvent('user_sessions_ended', true, { by: 'admin', user: 'alice' });
    stack.cli(['janitor']);
    const j = await expectEvent('janitor_run', true, { by: 'admin' });
    for (const k of ['codes', 'sessions', 'devices', 'tokens', 'attempts', 'requests']) assert.equal(typeof j[k], 'number', k);
    const tmp = cliJson(['app', 'create', '--name', 'Short-lived', '--redirect-uri', 'https://x.example/cb']);
    keep(tmp.client_secret);
    stack.cli(['app', 'del', tmp.client_id]);
    await expectEvent('app_deleted', true, { by: 'admin', client_id: tmp.client_id });
    stack.cli(['user', 'add', 'carol'], 'pw-carol-0123456789\n');
    keep('pw-carol-0123456789');
    stack.cli(['user', 'del', 'carol']);
    await expectEvent('user_deleted', true, { by: 'admin', user: 'carol' });
  });

  test('the apps page: app deleted; sign-out', async () => {
    step();
    alice = await signedIn('alice', alicePw); // its sessions were ended above
    const csrf = await alice.csrf('/oauth/apps/new');
    const del = await alice.post(`/oauth/apps/${web.client_id}/delete`, { form: { csrf, confirm: 'yes' } });
    assert.equal(del.status, 303);
    await expectEvent('app_deleted', true, { by: 'user', user: 'alice', client_id: web.client_id, name: 'Web app 2' });
    const out = await alice.post('/oauth/logout', { form: { csrf } });
    assert.equal(out.status, 303);
    await expectEvent('sign_out', true, { user: 'alice', everywhere: false, addr: '127.0.0.1' });
  });

  test('lines of many processes writing at once are each whole JSON', async () => {
    step();
    const app = cliJson(['app', 'create', '--name', 'Load', '--redirect-uri', 'https://load.example/cb']);
    keep(app.client_secret);
    const postern = path.join(build, 'postern');
    // admin commands at once, each its own process
    const issued = await Promise.all(Array.from({ length: 24 }, () =>
      execFileP(postern, ['--config', stack.config, '--json', 'token', 'issue', '--user', 'alice', '--app', app.client_id],
        { env: process.env }).then((r) => JSON.parse(r.stdout))));
    for (const t of issued) keep(t.access_token);
    // and the revoke executable's three workers at once, with more admin commands
    const [answers] = await Promise.all([
      Promise.all(issued.map((t) => revoke(stack.url, { token: t.access_token }, [app.client_id, app.client_secret]))),
      Promise.all(Array.from({ length: 8 }, (_, i) =>
        execFileP(postern, ['--config', stack.config, 'org', 'add', `Org ${i} "q" é`, '--owner', 'alice'], { env: process.env }))),
    ]);
    for (const a of answers) assert.equal(a.status, 200);
    const lines = since(); // readAudit: every line JSON
    assert.equal(lines.filter((l) => l.event === 'token_issued' && l.client_id === app.client_id).length, 24);
    assert.equal(lines.filter((l) => l.event === 'token_revoked' && l.by === 'client' && l.client_id === app.client_id).length, 24);
    assert.equal(lines.filter((l) => l.event === 'org_added' && /^Org \d "q" é$/.test(l.org)).length, 8);
    const raw = readFileSync(file, 'utf8');
    assert.equal(raw.split('\n').filter((l) => l.includes('"time"')).length, raw.split('\n').length - 1, 'one object a line');
  });

  test('a renamed file is left for a new one; SIGHUP reopens too and stops nothing', async () => {
    const pids = readFileSync(path.join(stack.dir, 'run', 'pids'), 'utf8').trim().split('\n').map(Number);
    renameSync(file, file + '.1');
    const s = session();
    const csrf = await s.csrf('/oauth/login');
    await s.post('/oauth/login', { form: { csrf, username: 'after-rename', password: 'wrong-password-123' } });
    mark = 0;
    await expectEvent('sign_in', false, { user: 'after-rename' });
    assert.ok(!readFileSync(file + '.1', 'utf8').includes('after-rename'));

    renameSync(file, file + '.2');
    for (const pid of pids) process.kill(pid, 'SIGHUP');
    const r = await s.post('/oauth/login', { form: { csrf, username: 'after-hup', password: 'wrong-password-123' } });
    assert.equal(r.status, 401);
    await expectEvent('sign_in', false, { user: 'after-hup' });
    // the default action of SIGHUP would have ended the supervisors (and their workers)
    for (const pid of pids) assert.doesNotThrow(() => process.kill(pid, 0), `supervisor ${pid} lives after SIGHUP`);
    assert.ok(!readFileSync(file + '.2', 'utf8').includes('after-hup'));
  });

  test('an audit log that cannot be written breaks no request and is logged once per process', async () => {
    renameSync(file, file + '.3');
    mkdirSync(file); // a folder where the file was: every open fails
    try {
      const before_ = stack.log('consent.log').split('\n').filter((l) => l.includes('audit log')).length;
      const s = session();
      const csrf = await s.csrf('/oauth/login');
      for (let i = 0; i < 6; i++) {
        const r = await s.post('/oauth/login', { form: { csrf, username: `nobody${i}`, password: 'wrong-password-123' } });
        assert.equal(r.status, 401);
      }
      await signedIn('alice', alicePw);
      const warned = stack.log('consent.log').split('\n').filter((l) => l.includes('audit log')).length - before_;
      assert.ok(warned >= 1 && warned <= 2, `logged once per consent worker (2), not per request: ${warned}`);
    } finally {
      rmdirSync(file);
    }
    mark = 0;
    const s = session();
    const csrf = await s.csrf('/oauth/login');
    await s.post('/oauth/login', { form: { csrf, username: 'writable-again', password: 'wrong-password-123' } });
    await expectEvent('sign_in', false, { user: 'writable-again' });
  });

  test('no secret, code, token, password, cookie or CSRF token is in the audit log', () => {
    for (const s of sessions) for (const v of s.jar.values()) keep(v);
    for (const s of sessions) for (const c of s.cookies) keep(c.split(';')[0].split('=').slice(1).join('='));
    const logs = path.join(stack.dir, 'logs');
    const text = ['audit.log', 'audit.log.1', 'audit.log.2', 'audit.log.3']
      .map((f) => path.join(logs, f)).filter(existsSync).map((f) => readFileSync(f, 'utf8')).join('');
    assert.ok(text.length > 1000);
    assert.ok(secrets.size > 40, `${secrets.size} secrets collected`);
    for (const v of secrets) {
      if (v.length < 8) continue; // an emptied cookie
      assert.ok(!text.includes(v), `the audit log holds ${v.slice(0, 8)}…`);
      // nor JSON-escaped
      assert.ok(!text.includes(JSON.stringify(v).slice(1, -1)), `the audit log holds ${v.slice(0, 8)}… (escaped)`);
    }
  });
});

describe('audit log: bridged device login', () => {
  let stack, upstream, file, upstreamToken;
  before(async () => {
    const port = await freePort();
    upstream = createServer(async (req, res) => {
      for await (const _ of req) { /* the body */ }
      upstreamToken = `upstream-token-${Date.now()}-secret`;
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: upstreamToken, id: 'org-42' }));
    });
    await new Promise((r) => upstream.listen(port, '127.0.0.1', r));
    const up = `http://127.0.0.1:${port}`;
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: [
      `upstream_authorize_url = ${up}/oauth/authorize`,
      `upstream_token_url = ${up}/public/v1/oauth/token`,
      'upstream_client_id = pca_bridge0123456789',
      'upstream_client_secret = pcs_bridge-secret-0123456789',
      `upstream_api_url = ${up}/api`,
    ].join('\n') } });
    file = path.join(stack.dir, 'logs', 'audit.log');
  });
  after(async () => {
    await stack?.stop();
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  test('the upstream login and its collection are logged; no code, state or token is', async () => {
    const post = (p, body) => fetch(stack.url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then(async (r) => ({ status: r.status, body: await r.json() }));
    const d = (await post('/device/code', '')).body;
    const b = new Session(stack.url);
    const page = await b.get('/device/verify?' + new URLSearchParams({ code: d.user_code }));
    const csrf = unescapeHtml(page.text_.match(/name="csrf" value="([^"]+)"/)[1]);
    const sent = await b.post('/device/verify', { form: { csrf, user_code: d.user_code } });
    assert.equal(sent.status, 303, sent.text_.slice(0, 300));
    const state = new URL(sent.headers.get('location')).searchParams.get('state');
    const upstreamCode = 'upstream-code-0123456789-secret';
    const cb = await b.get('/device/callback?' + new URLSearchParams({ code: upstreamCode, state }));
    assert.equal(cb.status, 200, cb.text_.slice(0, 300));
    const t = await post('/device/token', JSON.stringify({ device_code: d.device_code }));
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(t.body.access_token, upstreamToken);
    const lines = readAudit(file);
    const bridged = lines.filter((l) => l.event === 'device_bridged' && l.ok);
    assert.equal(bridged.length, 1, JSON.stringify(lines));
    assert.equal(bridged[0].org, true);
    assert.equal(bridged[0].addr, '127.0.0.1');
    const collected = lines.filter((l) => l.event === 'device_bridged_collected');
    assert.equal(collected.length, 1);
    assert.match(collected[0].device_code_hash, /^[0-9a-f]{8}$/);
    assert.equal(collected[0].device_code_hash, bridged[0].device_code_hash, 'the same login, correlated');
    const text = readFileSync(file, 'utf8');
    for (const v of [d.device_code, d.user_code, state, upstreamCode, upstreamToken, csrf, 'pcs_bridge-secret-0123456789', ...b.jar.values()])
      assert.ok(!text.includes(v), `the audit log holds ${v.slice(0, 8)}…`);
  });
});
