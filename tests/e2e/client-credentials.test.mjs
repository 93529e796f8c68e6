// client-credentials.test.mjs: the client_credentials grant (RFC 6749 §4.4): an app's own
// tokens, with Basic and with body client authentication, the scope within the app's
// allowed scopes (RFC 6749 §3.3), no refresh token (§4.4.3), confidential apps only; the
// check's answer without X-OAuth-User and its ?require_user=1 switch; introspection (no
// sub or username), userinfo refusing, revocation (RFC 7009), app deletion, the janitor,
// metadata, audit and metrics.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { token, revoke, addUser, appForm, Session } from '../lib/client.mjs';

const CC = 'client_credentials';

describe('client_credentials', () => {
  let stack, svc, wide, pub, codeOnly;

  before(async () => {
    stack = await startStack();
    svc = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Cron job', '--grant-types', CC,
      '--scope', 'profile posts:read posts:write']));
    // allowed every configured scope: none asked for gives default_scope
    wide = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Backend', '--grant-types', `${CC} authorization_code`,
      '--redirect-uri', 'https://app.example/cb']));
    pub = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'SPA', '--public', '--grant-types', 'authorization_code',
      '--redirect-uri', 'https://app.example/cb']));
    codeOnly = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Web app', '--redirect-uri', 'https://app.example/cb']));
  });
  after(async () => { await stack?.stop(); });

  async function check(t, query = '') {
    const r = await fetch(`${stack.url}/oauth/check${query}`, { headers: { authorization: `Bearer ${t}` } });
    await r.arrayBuffer();
    return r;
  }
  async function introspect(t, app = svc) {
    const r = await token(stack.url, { token: t }, [app.client_id, app.client_secret], { path: '/oauth/introspect' });
    assert.equal(r.status, 200, r.text);
    return r.body;
  }

  test('Basic authentication: a token for the app itself, its allowed scopes when none is asked for, no refresh token', async () => {
    const t = await token(stack.url, { grant_type: CC }, [svc.client_id, svc.client_secret]);
    assert.equal(t.status, 200, t.text);
    assert.match(t.body.access_token, /^pat_[0-9A-Za-z]{49}$/);
    assert.equal(t.body.token_type, 'Bearer');
    assert.equal(t.body.scope, 'profile posts:read posts:write');
    assert.equal(t.body.refresh_token, undefined, 'RFC 6749 §4.4.3: no refresh token');
    assert.equal(t.body.id_token, undefined);
    // access tokens never expire in this config; an app's own still does
    assert.equal(t.body.expires_in, 3600);
    assert.equal(t.headers.get('cache-control'), 'no-store');
    const row = stack.sql(`SELECT count(*) AS n FROM client_tokens`);
    assert.match(row, /1/);
  });

  test('body authentication; a subset of the allowed scopes; a wider scope is invalid_scope', async () => {
    const t = await token(stack.url, { grant_type: CC, scope: 'posts:read', client_id: svc.client_id, client_secret: svc.client_secret });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.scope, 'posts:read');
    const c = await check(t.body.access_token, '?scope=posts:read');
    assert.equal(c.status, 204);
    assert.equal((await check(t.body.access_token, '?scope=posts:write')).status, 403);

    const wider = await token(stack.url, { grant_type: CC, scope: 'posts:read email' }, [svc.client_id, svc.client_secret]);
    assert.equal(wider.status, 400, wider.text);
    assert.equal(wider.body.error, 'invalid_scope');
    const unknown = await token(stack.url, { grant_type: CC, scope: 'nope' }, [svc.client_id, svc.client_secret]);
    assert.equal(unknown.body.error, 'invalid_scope');
    const oidc = await token(stack.url, { grant_type: CC, scope: 'openid' }, [wide.client_id, wide.client_secret]);
    assert.equal(oidc.status, 400, oidc.text);
    assert.equal(oidc.body.error, 'invalid_scope');
    assert.match(oidc.body.error_description, /openid/);
  });

  test('an app allowed every scope gets default_scope when it asks for none', async () => {
    const t = await token(stack.url, { grant_type: CC }, [wide.client_id, wide.client_secret]);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.body.scope, 'profile');
  });

  test('a public client, an app not allowed the grant and a wrong secret are refused', async () => {
    const p = await token(stack.url, { grant_type: CC, client_id: pub.client_id });
    assert.equal(p.status, 400, p.text);
    assert.equal(p.body.error, 'unauthorized_client');
    const n = await token(stack.url, { grant_type: CC }, [codeOnly.client_id, codeOnly.client_secret]);
    assert.equal(n.status, 400, n.text);
    assert.equal(n.body.error, 'unauthorized_client');
    const w = await token(stack.url, { grant_type: CC }, [svc.client_id, 'pcs_' + 'x'.repeat(48)]);
    assert.equal(w.status, 401, w.text);
    assert.equal(w.body.error, 'invalid_client');
    // even a public app allowed the grant by hand: the admin command refuses to make one
    assert.throws(() => stack.cli(['app', 'create', '--name', 'Bad', '--public', '--grant-types', CC]),
      /confidential/);
    stack.sql(`UPDATE apps SET grant_types = 'client_credentials' WHERE client_id = '${pub.client_id}'`);
    const p2 = await token(stack.url, { grant_type: CC, client_id: pub.client_id });
    assert.equal(p2.status, 400, p2.text);
    assert.equal(p2.body.error, 'unauthorized_client');
    assert.match(p2.body.error_description, /confidential/);
  });

  test('the check: 204 with X-OAuth-Client and X-OAuth-Scope, no X-OAuth-User; ?require_user=1 refuses it', async () => {
    const t = (await token(stack.url, { grant_type: CC, scope: 'posts:read' }, [svc.client_id, svc.client_secret])).body.access_token;
    const c = await check(t);
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-client'), svc.client_id);
    assert.equal(c.headers.get('x-oauth-scope'), 'posts:read');
    assert.equal(c.headers.get('x-oauth-user'), null);
    assert.equal(c.headers.get('x-oauth-organization'), null);
    const ru = await check(t, '?require_user=1');
    assert.equal(ru.status, 401);
    assert.match(ru.headers.get('www-authenticate'), /error="invalid_token".*user/);
    assert.equal((await check(t, '?require_user=0')).status, 204);
    // a malformed switch is the operator's mistake: never a 204
    assert.equal((await check(t, '?require_user=yes')).status, 500);
    // userinfo speaks of a user: there is none
    const u = await fetch(`${stack.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${t}` } });
    assert.equal(u.status, 401);
  });

  test('introspection: active, client_id, scope, exp; no sub, username or organization', async () => {
    const before_ = Math.floor(Date.now() / 1000);
    const t = (await token(stack.url, { grant_type: CC, scope: 'posts:write' }, [svc.client_id, svc.client_secret])).body.access_token;
    const i = await introspect(t);
    assert.equal(i.active, true);
    assert.equal(i.client_id, svc.client_id);
    assert.equal(i.scope, 'posts:write');
    assert.equal(i.token_type, 'Bearer');
    assert.equal(i.sub, undefined);
    assert.equal(i.username, undefined);
    assert.equal(i.organization, undefined);
    assert.ok(i.exp >= before_ + 3600 && i.exp <= before_ + 3602, String(i.exp));
    // another client sees it inactive (RFC 7662 §4)
    assert.deepEqual(await introspect(t, wide), { active: false });
  });

  test('revocation (RFC 7009) ends the token: the check and introspection refuse it', async () => {
    const t = (await token(stack.url, { grant_type: CC }, [svc.client_id, svc.client_secret])).body.access_token;
    assert.equal((await check(t)).status, 204);
    // another client cannot revoke it
    const other = await revoke(stack.url, { token: t }, [wide.client_id, wide.client_secret]);
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'unauthorized_client');
    assert.equal((await check(t)).status, 204);
    const r = await revoke(stack.url, { token: t, token_type_hint: 'access_token' }, [svc.client_id, svc.client_secret]);
    assert.equal(r.status, 200, r.text);
    assert.equal((await check(t)).status, 401);
    assert.deepEqual(await introspect(t), { active: false });
  });

  test('an expired token is refused, and the janitor removes it', async () => {
    const t = (await token(stack.url, { grant_type: CC }, [svc.client_id, svc.client_secret])).body.access_token;
    stack.sql('UPDATE client_tokens SET expires = 1');
    assert.equal((await check(t)).status, 401);
    assert.deepEqual(await introspect(t), { active: false });
    stack.cli(['janitor']);
    assert.match(stack.sql('SELECT count(*) AS n FROM client_tokens'), /(^|\D)0(\D|$)/);
  });

  test('deleting the app ends its tokens', async () => {
    const tmp = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Temp', '--grant-types', CC]));
    const t = (await token(stack.url, { grant_type: CC }, [tmp.client_id, tmp.client_secret])).body.access_token;
    assert.equal((await check(t)).status, 204);
    stack.cli(['app', 'del', tmp.client_id]);
    assert.equal((await check(t)).status, 401);
    const n = stack.sql(`SELECT count(*) AS n FROM client_tokens c JOIN apps a ON a.id = c.app_id WHERE a.client_id = '${tmp.client_id}'`);
    assert.match(n, /(^|\D)0(\D|$)/);
  });

  test('the apps page: an administrator allows the grant and JWT access tokens; nobody else can', async () => {
    const admin = new Session(stack.url);
    await admin.signIn('ada', addUser(stack, 'ada', { admin: true }));
    const f = appForm(await admin.csrf('/oauth/apps/new'), { name: 'Page service' });
    f.append('client_credentials', '1');
    f.append('access_token_jwt', '1');
    let r = await admin.post('/oauth/apps/new', { multipart: f });
    assert.equal(r.status, 200, r.text_);
    const app = { client_id: r.text_.match(/pca_[A-Za-z0-9]{32}/)[0], client_secret: r.text_.match(/pcs_[A-Za-z0-9]{48}/)[0] };
    assert.equal(stack.sql(`SELECT grant_types || '|' || access_token_format FROM apps WHERE client_id = '${app.client_id}'`).trim(),
      'authorization_code refresh_token client_credentials|jwt');
    const t = await token(stack.url, { grant_type: CC }, [app.client_id, app.client_secret]);
    assert.equal(t.status, 200, t.text);
    assert.match(t.body.access_token, /^eyJ/);
    assert.equal((await check(t.body.access_token)).status, 204);
    // the edit page shows both ticked; unticking takes them away
    const page = await admin.get(`/oauth/apps/${app.client_id}`);
    assert.match(page.text_, /id="client_credentials" name="client_credentials" value="1" checked/);
    assert.match(page.text_, /id="access_token_jwt" name="access_token_jwt" value="1" checked/);
    r = await admin.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(await admin.csrf('/oauth/apps/new'), { name: 'Page service' }) });
    assert.equal(r.status, 303, r.text_);
    assert.equal(stack.sql(`SELECT grant_types || '|' || access_token_format FROM apps WHERE client_id = '${app.client_id}'`).trim(),
      'authorization_code refresh_token|opaque');
    // a public app cannot have it
    const pf = appForm(await admin.csrf('/oauth/apps/new'), { name: 'Public service', type: 'public' });
    pf.append('client_credentials', '1');
    r = await admin.post('/oauth/apps/new', { multipart: pf });
    assert.equal(r.status, 400);
    assert.match(r.text_, /needs a confidential app/);

    // anyone else: the fields are not on the page, and posting them changes nothing
    const bob = new Session(stack.url);
    await bob.signIn('bob', addUser(stack, 'bob'));
    const newPage = await bob.get('/oauth/apps/new');
    assert.doesNotMatch(newPage.text_, /client_credentials/);
    const bf = appForm(await bob.csrf('/oauth/apps/new'), { name: 'Bob service' });
    bf.append('client_credentials', '1');
    bf.append('access_token_jwt', '1');
    r = await bob.post('/oauth/apps/new', { multipart: bf });
    assert.equal(r.status, 200, r.text_);
    const bobId = r.text_.match(/pca_[A-Za-z0-9]{32}/)[0];
    assert.equal(stack.sql(`SELECT grant_types || '|' || access_token_format FROM apps WHERE client_id = '${bobId}'`).trim(),
      'authorization_code refresh_token|opaque');
  });

  test('metadata lists the grant; audit and metrics count it', async () => {
    const d = await (await fetch(`${stack.url}/.well-known/oauth-authorization-server`)).json();
    assert.ok(d.grant_types_supported.includes(CC), JSON.stringify(d.grant_types_supported));
    const audit = readFileSync(path.join(stack.dir, 'logs', 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const issued = audit.filter((e) => e.event === 'token_issued' && e.grant_type === CC);
    assert.ok(issued.length >= 5, `${issued.length} client_credentials token_issued lines`);
    assert.equal(issued[0].client_id, svc.client_id);
    assert.equal(issued[0].user_id, undefined);
    const m = await (await fetch(`${stack.url}/oauth/metrics`)).text();
    const line = m.split('\n').find((l) => l.startsWith('postern_tokens_issued_total{grant_type="client_credentials"}'));
    assert.ok(line, 'no client_credentials counter');
    assert.ok(Number(line.split(' ').pop()) >= 5, line);
  });
});
