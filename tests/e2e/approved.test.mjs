// approved.test.mjs: the user's approved apps (/oauth/approved): list, revoke with a
// confirmation, remembered consent; and RFC 7009 token revocation (POST /oauth/revoke).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize, token, check, revoke, addUser, createApp, codeRequest, tokenFor } from '../lib/client.mjs';
import { png } from '../lib/fixtures.mjs';

function grantIdOf(html, appName) {
  const i = html.indexOf(appName);
  const m = html.slice(i).match(/\/oauth\/approved\/(\d+)\/revoke/);
  return m[1];
}

// ---------------------------------------------------------------- tests

describe('approved apps', () => {
  let stack, alice, bob, dev, app;
  before(async () => {
    stack = await startStack({ env: { SEED: '0' } });
    const pa = addUser(stack, 'alice'), pb = addUser(stack, 'bob'), pd = addUser(stack, 'dev');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
    bob = new Session(stack.url); await bob.signIn('bob', pb);
    dev = new Session(stack.url); await dev.signIn('dev', pd);
    app = await createApp(dev, { name: 'Scheduler <i>"quoted"</i>', picture: { data: png() }, scopes: ['profile', 'posts:read'] });
  });
  after(async () => { await stack?.stop(); });

  test('a signed-out visitor is sent to the login page and back', async () => {
    const r = await new Session(stack.url).get('/oauth/approved');
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get('location'), stack.url);
    assert.equal(loc.pathname, '/oauth/login');
    assert.equal(loc.searchParams.get('return_to'), '/oauth/approved');
  });

  test('an empty list says so', async () => {
    const r = await bob.get('/oauth/approved');
    assert.equal(r.status, 200);
    assert.match(r.text_, /not approved any apps/);
  });

  test('the list shows name, picture, organization, scopes, approval and last use', async () => {
    const t = await tokenFor(stack, alice, app, { scope: 'profile posts:read' });
    assert.equal(await check(stack.url, t.access_token), 204);
    const r = await alice.get('/oauth/approved');
    assert.equal(r.status, 200);
    assert.ok(r.text_.includes('Scheduler &lt;i&gt;&quot;quoted&quot;&lt;/i&gt;'));
    assert.ok(!r.text_.includes('<i>"quoted"'));
    assert.ok(r.text_.includes(`/oauth/apps/${app.client_id}/picture`));
    assert.match(r.text_, /<dt>Organization<\/dt><dd>alice<\/dd>/);
    assert.match(r.text_, /<code>profile<\/code>/);
    assert.match(r.text_, /<code>posts:read<\/code> Read your posts/);
    assert.match(r.text_, /<dt>Approved<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/dd>/);
    assert.match(r.text_, /<dt>Last used<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/dd>/);
    assert.match(r.text_, /name="csrf" value="[0-9a-f]{32}"/);
    assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    // bob approved nothing and sees nothing of alice's
    assert.ok(!(await bob.get('/oauth/approved')).text_.includes('Scheduler'));
  });

  test('consent is remembered, and revoking forgets it and kills every token at once', async () => {
    const first = await authorize(alice, codeRequest(app.client_id, { scope: 'profile' }));
    assert.ok(first.code);
    const t1 = await token(stack.url, { grant_type: 'authorization_code', code: first.code, redirect_uri: 'https://app.example/cb' }, [app.client_id, app.client_secret]);
    // the same scopes again: no consent page, straight back with a code
    const again = await authorize(alice, codeRequest(app.client_id, { scope: 'profile' }));
    assert.equal(again.consentShown, false);
    assert.equal(again.status, 302);
    assert.ok(again.code);
    const t2 = await token(stack.url, { grant_type: 'authorization_code', code: again.code, redirect_uri: 'https://app.example/cb' }, [app.client_id, app.client_secret]);
    assert.equal(await check(stack.url, t1.body.access_token), 204);
    assert.equal(await check(stack.url, t2.body.access_token), 204);

    const list = await alice.get('/oauth/approved');
    const id = grantIdOf(list.text_, 'Scheduler');
    const csrf = list.text_.match(/name="csrf" value="([0-9a-f]+)"/)[1];
    // the button asks first
    const ask = await alice.post(`/oauth/approved/${id}/revoke`, { form: { csrf } });
    assert.equal(ask.status, 200);
    assert.match(ask.text_, /Revoke access for Scheduler &lt;i&gt;/);
    assert.match(ask.text_, /name="confirm" value="yes"/);
    assert.equal(await check(stack.url, t1.body.access_token), 204, 'asking revokes nothing');
    const done = await alice.post(`/oauth/approved/${id}/revoke`, { form: { csrf, confirm: 'yes' } });
    assert.equal(done.status, 303);
    assert.equal(new URL(done.headers.get('location'), stack.url).pathname, '/oauth/approved');
    // the very next call with any of the grant's tokens fails
    assert.equal(await check(stack.url, t1.body.access_token), 401);
    assert.equal(await check(stack.url, t2.body.access_token), 401);
    const after_ = await alice.get('/oauth/approved?done=revoked');
    assert.match(after_.text_, /Access revoked/);
    assert.ok(!after_.text_.includes('Scheduler'));
    // and the consent page is back
    const fresh = await alice.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: 'https://app.example/cb', scope: 'profile' }));
    assert.equal(fresh.status, 200);
    assert.match(fresh.text_, /value="approve"/);
  });

  test('an app that does not remember consent asks every time', async () => {
    const forgetful = await createApp(dev, { name: 'Forgetful', remember: false });
    const a = await authorize(alice, codeRequest(forgetful.client_id));
    assert.equal(a.consentShown, true);
    const b = await authorize(alice, codeRequest(forgetful.client_id));
    assert.equal(b.consentShown, true);
  });

  test('revoking needs the CSRF token', async () => {
    const t = await tokenFor(stack, alice, app);
    const list = await alice.get('/oauth/approved');
    const id = grantIdOf(list.text_, 'Scheduler');
    const r = await alice.post(`/oauth/approved/${id}/revoke`, { form: { csrf: 'a'.repeat(32), confirm: 'yes' } });
    assert.equal(r.status, 403);
    const r2 = await alice.post(`/oauth/approved/${id}/revoke`, { form: { confirm: 'yes' } });
    assert.equal(r2.status, 403);
    assert.equal(await check(stack.url, t.access_token), 204);
  });

  test("another user's grant is a 404 and stays", async () => {
    const t = await tokenFor(stack, alice, app);
    const id = grantIdOf((await alice.get('/oauth/approved')).text_, 'Scheduler');
    const csrf = await bob.csrf('/oauth/apps/new');
    for (const [m, opts] of [['GET', {}], ['POST', { form: { csrf } }], ['POST', { form: { csrf, confirm: 'yes' } }]]) {
      const r = await bob.req(m, `/oauth/approved/${id}/revoke`, opts);
      assert.equal(r.status, 404, m);
      assert.ok(!r.text_.includes('Scheduler'));
    }
    assert.equal(await check(stack.url, t.access_token), 204);
    assert.equal((await alice.get('/oauth/approved/999999/revoke')).status, 404);
    assert.equal((await alice.get('/oauth/approved/abc/revoke')).status, 404);
    assert.equal((await alice.get('/oauth/approved/1/other')).status, 404);
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  let stack, alice, app, other;
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'access_token_ttl = 3600' } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
    app = await createApp(alice, { name: 'Revoker' });
    other = await createApp(alice, { name: 'Other client' });
  });
  after(async () => { await stack?.stop(); });

  test('an access token, client authenticated with Basic, no hint', async () => {
    const t = await tokenFor(stack, alice, app);
    assert.ok(t.refresh_token, 'expiry is on: a refresh token too');
    const r = await revoke(stack.url, { token: t.access_token }, [app.client_id, app.client_secret]);
    assert.equal(r.status, 200);
    assert.equal(await check(stack.url, t.access_token), 401);
  });

  test('an access token, client authenticated in the body, with the hint', async () => {
    const t = await tokenFor(stack, alice, app);
    const r = await revoke(stack.url, { token: t.access_token, token_type_hint: 'access_token', client_id: app.client_id, client_secret: app.client_secret });
    assert.equal(r.status, 200);
    assert.equal(await check(stack.url, t.access_token), 401);
  });

  test('a refresh token revokes its grant: the refresh and the access token both stop', async () => {
    for (const hint of [undefined, 'refresh_token', 'access_token']) {
      const t = await tokenFor(stack, alice, app);
      const body = { token: t.refresh_token, ...(hint ? { token_type_hint: hint } : {}) };
      const r = await revoke(stack.url, body, [app.client_id, app.client_secret]);
      assert.equal(r.status, 200, String(hint));
      const again = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, [app.client_id, app.client_secret]);
      assert.equal(again.status, 400, String(hint));
      assert.equal(again.body.error, 'invalid_grant');
      assert.equal(await check(stack.url, t.access_token), 401, String(hint));
    }
  });

  test('unknown, malformed and already revoked tokens answer 200', async () => {
    const t = await tokenFor(stack, alice, app);
    const auth = [app.client_id, app.client_secret];
    assert.equal((await revoke(stack.url, { token: t.access_token }, auth)).status, 200);
    assert.equal((await revoke(stack.url, { token: t.access_token }, auth)).status, 200, 'already revoked');
    assert.equal((await revoke(stack.url, { token: 'pat_' + 'A'.repeat(49) }, auth)).status, 200, 'bad checksum');
    assert.equal((await revoke(stack.url, { token: 'nonsense' }, auth)).status, 200, 'malformed');
    assert.equal((await revoke(stack.url, { token: 'nonsense', token_type_hint: 'unknown_type' }, auth)).status, 200);
  });

  test("a client cannot revoke another client's token: it stays valid", async () => {
    const t = await tokenFor(stack, alice, app);
    const r = await revoke(stack.url, { token: t.access_token }, [other.client_id, other.client_secret]);
    assert.notEqual(r.status, 500);
    assert.equal(await check(stack.url, t.access_token), 204);
    const r2 = await revoke(stack.url, { token: t.refresh_token }, [other.client_id, other.client_secret]);
    assert.notEqual(r2.status, 500);
    assert.equal(await check(stack.url, t.access_token), 204);
  });

  test('client authentication is required and checked', async () => {
    const t = await tokenFor(stack, alice, app);
    const none = await revoke(stack.url, { token: t.access_token });
    assert.equal(none.status, 401);
    assert.equal(none.body.error, 'invalid_client');
    const wrong = await revoke(stack.url, { token: t.access_token }, [app.client_id, 'pcs_' + 'x'.repeat(48)]);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate'), /^Basic/);
    assert.equal(await check(stack.url, t.access_token), 204);
  });
});
