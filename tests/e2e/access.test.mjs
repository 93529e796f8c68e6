// access.test.mjs: what ends a user's access (README, "What ends access"). Removal from an
// organization, deleting an organization or a user, a password change and "sign out
// everywhere" each end, in one step, every session, grant, code, token and device
// approval they should, and nothing afterwards issues anything for an organization
// the user left.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, randomBlobSql, unixNow } from '../lib/stack.mjs';
import { Session, authorize, token, check, consentForm, addUser } from '../lib/client.mjs';

const CB = 'https://app.example/cb';

describe('what ends access', () => {
  let stack, app;
  const sql = (q) => stack.sql(q);

  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'access_token_ttl = 3600' } });
    app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Team tool', '--owner', 'demo',
      '--redirect-uri', CB, '--device']));
  });
  after(async () => { await stack?.stop(); });

  let seq = 0;
  /* A user who is a member of a new organization (besides their own). */
  async function member() {
    const name = `m${++seq}`;
    const pw = addUser(stack, name);
    const org = JSON.parse(stack.cli(['--json', 'org', 'add', `Team ${seq}`, '--owner', 'demo'])).id;
    stack.cli(['org', 'member', String(org), name]);
    const s = new Session(stack.url);
    await s.signIn(name, pw);
    return { name, pw, org: String(org), s };
  }

  /* Approves the app for org on the consent page; returns the token response. */
  async function approveFor(s, org, scope = 'profile') {
    const a = await authorize(s, { client_id: app.client_id, redirect_uri: CB, scope, state: 'x' },
      { edit: (f) => { f.org = org; } });
    assert.ok(a.code, `no code: ${a.status} ${a.location}`);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: CB },
      [app.client_id, app.client_secret]);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.id, org);
    return t.body;
  }

  async function deviceApproved(s, org) {
    const d = await (await fetch(stack.url + '/oauth/device_authorization', { method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64') },
      body: 'scope=profile' })).json();
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(page.status, 200);
    const form = { ...consentForm(page.text_), org, action: 'approve' };
    const r = await s.post('/oauth/device', { form });
    assert.equal(r.status, 200, r.text_.slice(0, 300));
    return d.device_code;
  }
  const pollDevice = (code) => token(stack.url, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: code },
    [app.client_id, app.client_secret]);

  test('removal from an organization ends the grants for it at once: tokens, refresh, remembered consent, device approvals', async () => {
    const m = await member();
    const t = await approveFor(m.s, m.org);
    // another scope, so the page shows again (and the personal organization is chosen)
    const personal = await approveFor(m.s, JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === m.name).organization_id.toString(), 'posts:read');
    const device = await deviceApproved(m.s, m.org);
    assert.equal(await check(stack.url, t.access_token), 204);
    const out = JSON.parse(stack.cli(['--json', 'org', 'member', m.org, m.name, '--remove']));
    assert.equal(out.grants_revoked, 1);
    assert.equal(await check(stack.url, t.access_token), 401, 'the access token for the organization');
    const r = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, [app.client_id, app.client_secret]);
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
    const d = await pollDevice(device);
    assert.equal(d.status, 400, 'an approved device request for the organization is not collected');
    assert.equal(d.body.access_token, undefined);
    assert.equal(await check(stack.url, personal.access_token), 204, 'the grant for another organization stays');
    // remembered consent never issues a code for the organization the user left: the
    // page shows again, and only the user's own organization is on it
    const a = await authorize(m.s, { client_id: app.client_id, redirect_uri: CB, scope: 'profile posts:read', state: 'y' }, { decision: null });
    assert.ok(a.consentShown, `a code was issued without the page: ${a.location}`);
    assert.ok(!a.page.text_.includes(`value="${m.org}"`), 'the organization is still offered');
    // a forged decision for that organization is refused and grants nothing
    const form = { ...consentForm(a.page.text_), org: m.org, action: 'approve' };
    const forged = await m.s.post('/oauth/consent', { form });
    assert.equal(forged.status, 403);
    assert.equal(forged.headers.get('location'), null);
    assert.equal(sql(`SELECT count(*) FROM grants WHERE org_id = ${m.org}`), '0');
  });

  test('removal is refused for a personal organization and for a non-member, changing nothing', async () => {
    const m = await member();
    const own = JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === m.name).organization_id;
    const r = stack.cliRun(['org', 'member', String(own), m.name, '--remove']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /personal one/);
    const other = addUser(stack, `outsider${seq}`) && `outsider${seq}`;
    const r2 = stack.cliRun(['org', 'member', m.org, other, '--remove']);
    assert.notEqual(r2.status, 0);
    assert.match(r2.stderr, /is not a member/);
  });

  test('deleting an organization ends every grant and token for it', async () => {
    const m = await member();
    const t = await approveFor(m.s, m.org);
    assert.equal(await check(stack.url, t.access_token), 204);
    stack.cli(['org', 'del', m.org]);
    assert.equal(await check(stack.url, t.access_token), 401);
    assert.equal(sql(`SELECT count(*) FROM grants WHERE org_id = ${m.org}`), '0');
    assert.equal(sql(`SELECT count(*) FROM members WHERE org_id = ${m.org}`), '0');
    const r = stack.cliRun(['org', 'del', m.org]);
    assert.notEqual(r.status, 0, 'a second delete names no organization');
  });

  test('deleting a user removes every grant, token, session, device request and app of theirs', async () => {
    const m = await member();
    const t = await approveFor(m.s, m.org);
    await deviceApproved(m.s, m.org);
    const own = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Their app', '--owner', m.name, '--redirect-uri', CB]));
    const uid = sql(`SELECT id FROM users WHERE name = '${m.name}'`);
    stack.cli(['user', 'del', m.name]);
    assert.equal(await check(stack.url, t.access_token), 401);
    for (const [table, col] of [['grants', 'user_id'], ['sessions', 'user_id'], ['devices', 'user_id'], ['members', 'user_id'], ['requests', 'user_id'], ['orgs', 'personal_of']])
      assert.equal(sql(`SELECT count(*) FROM ${table} WHERE ${col} = ${uid}`), '0', table);
    assert.equal(sql(`SELECT count(*) FROM apps WHERE client_id = '${own.client_id}'`), '0');
    assert.equal(sql('SELECT count(*) FROM tokens WHERE grant_id NOT IN (SELECT id FROM grants)'), '0', 'orphan tokens');
    const page = await m.s.get('/oauth/approved');
    assert.equal(page.status, 302, 'the session is gone');
    assert.match(page.headers.get('location'), /\/oauth\/login/);
  });

  test('deleting an app with more tokens than one batch revokes them all; the janitor clears more than a batch', async () => {
    const big = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Busy app', '--owner', 'demo', '--redirect-uri', CB]));
    const live = JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', big.client_id]));
    // 1,200 more tokens under the same grant (PT_DELETE_BATCH is 500: three batches)
    sql(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
      INSERT INTO tokens (hash, kind, grant_id, scope, created) SELECT ${randomBlobSql(stack)}, 1, ${live.grant_id}, 'profile', ${unixNow()} FROM n`);
    assert.equal(await check(stack.url, live.access_token), 204);
    stack.cli(['app', 'del', big.client_id]);
    assert.equal(await check(stack.url, live.access_token), 401);
    assert.equal(sql(`SELECT count(*) FROM tokens WHERE grant_id = ${live.grant_id}`), '0');
    assert.equal(sql(`SELECT count(*) FROM apps WHERE client_id = '${big.client_id}'`), '0');
    // expired sessions, more than a batch: the janitor takes them all in short transactions
    sql(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234)
      INSERT INTO sessions (hash, user_id, created, expires) SELECT ${randomBlobSql(stack)}, 1, 0, 1 FROM n`);
    const j = JSON.parse(stack.cli(['--json', 'janitor']));
    assert.ok(j.sessions >= 1234, JSON.stringify(j));
    assert.equal(sql(`SELECT count(*) FROM sessions WHERE expires <= ${unixNow()}`), '0');
  });

  test('a password change ends every session; tokens stay unless --revoke-tokens', async () => {
    const m = await member();
    const t = await approveFor(m.s, m.org);
    const other = new Session(stack.url);
    await other.signIn(m.name, m.pw);
    const out = JSON.parse(stack.cli(['--json', 'user', 'passwd', m.name], 'a-new-password-123\n'));
    assert.equal(out.sessions_ended, 2);
    for (const s of [m.s, other]) {
      const r = await s.get('/oauth/approved');
      assert.equal(r.status, 302, 'a session from before the change is dead');
    }
    assert.equal(await check(stack.url, t.access_token), 204, 'tokens are kept by default');
    const s = new Session(stack.url);
    await s.signIn(m.name, 'a-new-password-123');
    const device = await deviceApproved(s, m.org);
    const out2 = JSON.parse(stack.cli(['--json', 'user', 'passwd', m.name, '--revoke-tokens'], 'another-password-456\n'));
    assert.equal(out2.grants_revoked, 1);
    assert.equal(await check(stack.url, t.access_token), 401, '--revoke-tokens ends the tokens');
    const d = await pollDevice(device);
    assert.equal(d.body.access_token, undefined, 'and the device approvals not yet collected');
    assert.equal((await s.get('/oauth/approved')).status, 302);
  });

  test('`user sessions revoke` and "sign out everywhere" end every session of the user, and only theirs', async () => {
    const m = await member();
    const phone = new Session(stack.url);
    await phone.signIn(m.name, m.pw);
    const out = JSON.parse(stack.cli(['--json', 'user', 'sessions', 'revoke', m.name]));
    assert.equal(out.sessions_ended, 2);
    assert.equal((await m.s.get('/oauth/approved')).status, 302);
    assert.equal((await phone.get('/oauth/approved')).status, 302);
    // now from the page: the button on every page's header
    const laptop = new Session(stack.url);
    await laptop.signIn(m.name, m.pw);
    await phone.signIn(m.name, m.pw);
    const demo = new Session(stack.url);
    await demo.signIn('demo', stack.password);
    const page = await laptop.get('/oauth/approved');
    assert.match(page.text_, /name="everywhere" value="1"/);
    const csrf = page.text_.match(/name="csrf" value="([^"]+)"/)[1];
    const r = await laptop.post('/oauth/logout', { form: { csrf, everywhere: '1' } });
    assert.equal(r.status, 303);
    assert.equal((await phone.get('/oauth/approved')).status, 302, 'the other device is signed out');
    assert.equal((await laptop.get('/oauth/approved')).status, 302);
    assert.equal((await demo.get('/oauth/approved')).status, 200, 'another user is not');
  });
});
