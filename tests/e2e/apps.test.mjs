// apps.test.mjs: the developer's apps (/oauth/apps...): create, list, edit, picture,
// rotate, delete, ownership, escaping, CSRF, sign-in rules.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize, token, check, addUser, appsJson, appForm, createApp, codeRequest, tokenFor } from '../lib/client.mjs';
import { png } from '../lib/fixtures.mjs';

// ---------------------------------------------------------------- tests

describe('apps', () => {
  let stack, alice, bob, admin;
  before(async () => {
    stack = await startStack({ env: { SEED: '0' } });
    const pa = addUser(stack, 'alice'), pb = addUser(stack, 'bob'), pr = addUser(stack, 'root', { admin: true });
    alice = new Session(stack.url); await alice.signIn('alice', pa);
    bob = new Session(stack.url); await bob.signIn('bob', pb);
    admin = new Session(stack.url); await admin.signIn('root', pr);
  });
  after(async () => { await stack?.stop(); });

  test('a signed-out visitor is sent to the login page and back', async () => {
    const r = await new Session(stack.url).get('/oauth/apps/new');
    assert.equal(r.status, 302);
    const loc = new URL(r.headers.get('location'), stack.url);
    assert.equal(loc.pathname, '/oauth/login');
    assert.equal(loc.searchParams.get('return_to'), '/oauth/apps/new');
  });

  test('a signed-out POST changes nothing and goes to the login page', async () => {
    const before_ = appsJson(stack).length;
    const r = await new Session(stack.url).post('/oauth/apps/new', { multipart: appForm('x') });
    assert.equal(r.status, 303);
    assert.match(r.headers.get('location'), /\/oauth\/login\?return_to=/);
    assert.equal(appsJson(stack).length, before_);
  });

  test('create shows the secret once, with a copy button; list and edit never show it', async () => {
    const app = await createApp(alice, { name: 'Shown once', picture: { data: png() } });
    assert.ok(app.client_secret, 'the secret is on the page after create');
    assert.match(app.page, /data-copy="client-secret"/);
    assert.match(app.page, /<script src="\/oauth\/static\/apps\.js"/);
    const list = await alice.get('/oauth/apps');
    assert.equal(list.status, 200);
    assert.ok(list.text_.includes('Shown once'));
    assert.ok(list.text_.includes(app.client_id));
    assert.ok(!list.text_.includes(app.client_secret));
    assert.ok(!/pcs_/.test(list.text_));
    const edit = await alice.get(`/oauth/apps/${app.client_id}`);
    assert.equal(edit.status, 200);
    assert.ok(!/pcs_/.test(edit.text_));
    // the secret works at the token endpoint
    const t = await tokenFor(stack, alice, app);
    assert.equal(await check(stack.url, t.access_token), 204);
  });

  test('pages carry the security headers and every form its CSRF token', async () => {
    for (const p of ['/oauth/apps', '/oauth/apps/new']) {
      const r = await alice.get(p);
      assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
      assert.match(r.headers.get('content-security-policy'), /script-src 'self'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      const forms = r.text_.match(/<form method="post"/g) ?? [];
      const tokens = r.text_.match(/name="csrf" value="[0-9a-f]{32}"/g) ?? [];
      assert.ok(tokens.length >= forms.length, p);
    }
  });

  test('the create form is multipart with labelled controls', async () => {
    const r = await alice.get('/oauth/apps/new');
    assert.match(r.text_, /enctype="multipart\/form-data"/);
    for (const id of ['name', 'description', 'picture', 'redirect_uris', 'type-confidential', 'type-public'])
      assert.match(r.text_, new RegExp(`<label for="${id}"`), id);
    assert.match(r.text_, /name="scope" value="posts:write"/);
    assert.ok(!r.text_.includes('name="trusted"'), 'no trusted box for a non-admin');
  });

  test('the picture is served publicly with its own type, nosniff and CSP', async () => {
    const data = png();
    const app = await createApp(alice, { name: 'Pictured', picture: { data } });
    const r = await fetch(`${stack.url}/oauth/apps/${app.client_id}/picture`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('content-security-policy'), "default-src 'none'");
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data);
    const none = await fetch(`${stack.url}/oauth/apps/pca_${'x'.repeat(32)}/picture`);
    assert.equal(none.status, 404);
  });

  test('JPEG and WebP are recognised by their first bytes', async () => {
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64)]);
    const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.from([60, 0, 0, 0]), Buffer.from('WEBPVP8 '), Buffer.alloc(52)]);
    for (const [data, type] of [[jpeg, 'image/jpeg'], [webp, 'image/webp']]) {
      // the declared type and name are ignored: the bytes decide
      const app = await createApp(alice, { name: type, picture: { data, type: 'application/octet-stream', name: 'x.bin' } });
      const r = await fetch(`${stack.url}/oauth/apps/${app.client_id}/picture`);
      assert.equal(r.headers.get('content-type'), type);
    }
  });

  test('a picture over 1 MiB is refused with a clear message', async () => {
    const n = appsJson(stack).length;
    const csrf = await alice.csrf('/oauth/apps/new');
    const big = Buffer.concat([png(), Buffer.alloc(1024 * 1024)]);
    const r = await alice.post('/oauth/apps/new', { multipart: appForm(csrf, { name: 'Too big', picture: { data: big } }) });
    assert.equal(r.status, 400);
    assert.match(r.text_, /larger than 1 MiB/);
    assert.match(r.text_, /value="Too big"/, 'the form keeps what was typed');
    assert.equal(appsJson(stack).length, n);
  });

  test('a text file named .png and a GIF are refused', async () => {
    const n = appsJson(stack).length;
    for (const [data, name, msg] of [
      [Buffer.from('this is not an image\n'), 'fake.png', /not a PNG, JPEG or WebP/],
      [Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(32)]), 'x.gif', /GIF/],
    ]) {
      const csrf = await alice.csrf('/oauth/apps/new');
      const r = await alice.post('/oauth/apps/new', { multipart: appForm(csrf, { picture: { data, name, type: 'image/png' } }) });
      assert.equal(r.status, 400, name);
      assert.match(r.text_, msg);
    }
    assert.equal(appsJson(stack).length, n);
  });

  test('name, description, redirect URIs and scopes are checked', async () => {
    const n = appsJson(stack).length;
    const cases = [
      [{ name: '' }, /Enter a name/],
      [{ name: 'x'.repeat(101) }, /longer than 100 characters/],
      [{ description: 'd'.repeat(1001) }, /longer than 1000 characters/],
      [{ redirect_uris: '' }, /at least one redirect URI/],
      [{ redirect_uris: 'http://app.example/cb' }, /is not valid/],
      [{ redirect_uris: 'https://app.example/cb#frag' }, /is not valid/],
      [{ redirect_uris: 'javascript:alert(1)' }, /is not valid/],
      [{ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}`).join('\n') }, /at most 10 redirect URIs/],
      [{ scopes: [] }, /at least one scope/],
      [{ scopes: ['admin'] }, /not one this server offers/],
      [{ type: 'weird' }, /confidential or public/],
    ];
    for (const [f, msg] of cases) {
      const csrf = await alice.csrf('/oauth/apps/new');
      const r = await alice.post('/oauth/apps/new', { multipart: appForm(csrf, f) });
      assert.equal(r.status, 400, JSON.stringify(f).slice(0, 80));
      assert.match(r.text_, msg);
    }
    // 100 characters (not bytes) is fine, and several URIs one per line with CRLF
    const ok = await createApp(alice, { name: 'é'.repeat(100), redirect_uris: 'https://a.example/1\r\nhttp://127.0.0.1:8123/cb\r\n' });
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', ok.client_id]));
    assert.deepEqual(shown.redirect_uris, ['https://a.example/1', 'http://127.0.0.1:8123/cb']);
    assert.equal(appsJson(stack).length, n + 1);
  });

  test('a name or description with an invisible or control character is refused, naming the character', async () => {
    const n = appsJson(stack).length;
    const cases = [
      [{ name: 'Good\u202Egpj.exe' }, /The name contains an invisible or control character \(U\+202E\)\./],
      [{ name: 'Pay\u200Bpal' }, /The name contains an invisible or control character \(U\+200B\)\./],
      [{ name: '\u2067Bank\u2069' }, /\(U\+2067\)/],
      [{ name: 'Soft\u00ADhyphen' }, /\(U\+00AD\)/],
      [{ name: 'Filler \u3164' }, /\(U\+3164\)/],
      [{ name: 'Next\u0085line' }, /\(U\+0085\)/],
      [{ name: 'Tag\u{E0041}' }, /\(U\+E0041\)/],
      [{ name: '\uFE0FStart' }, /\(U\+FE0F\)/],
      [{ description: 'One line\u2028another' }, /The description contains an invisible or control character \(U\+2028\)\./],
      [{ description: 'Looks \u200Fharmless' }, /The description contains an invisible or control character \(U\+200F\)\./],
      [{ description: 'Zero\uFEFFwidth' }, /\(U\+FEFF\)/],
    ];
    for (const [f, msg] of cases) {
      const csrf = await alice.csrf('/oauth/apps/new');
      const r = await alice.post('/oauth/apps/new', { multipart: appForm(csrf, f) });
      assert.equal(r.status, 400, JSON.stringify(f));
      assert.match(r.text_, msg, JSON.stringify(f));
    }
    // the edit form checks the same
    const app = await createApp(alice, { name: 'Plain name' });
    const csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    const r = await alice.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(csrf, { name: 'Plain\u202Ename' }) });
    assert.equal(r.status, 400);
    assert.match(r.text_, /The name contains an invisible or control character \(U\+202E\)\./);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'show', app.client_id])).name, 'Plain name');
    assert.equal(appsJson(stack).length, n + 1, 'only the plain app was created');
    // letters of any script, emoji with their presentation selector, tabs and line breaks in a description
    const ok = await createApp(alice, { name: 'Émile 日本 ❤️', description: 'Two\r\nlines\twith a tab' });
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', ok.client_id]));
    assert.equal(shown.name, 'Émile 日本 ❤️');
    assert.equal(shown.description, 'Two\nlines\twith a tab');
  });

  test('the letter of an app without a picture is its first character, on the apps, consent and approved pages', async () => {
    const initial = (html) => [...html.matchAll(/<span class="app-initial[^"]*" aria-hidden="true">([^<]*)<\/span>/g)].map((m) => m[1]);
    for (const [name, letter] of [['Émile', 'É'], ['Ωmega', 'Ω'], ['日本', '日'], ['E\u0301clair', 'E\u0301']]) {
      const app = await createApp(bob, { name });
      const list = await bob.get('/oauth/apps');
      assert.ok(!list.text_.includes('\uFFFD'), `${name}: the apps page is valid UTF-8`);
      assert.ok(initial(list.text_).includes(letter), `${name}: ${initial(list.text_)}`);
      const a = await authorize(bob, codeRequest(app.client_id), { decision: null });
      assert.ok(a.consentShown, name);
      assert.ok(!a.page.text_.includes('\uFFFD'), `${name}: the consent page is valid UTF-8`);
      assert.deepEqual(initial(a.page.text_), [letter]);
      await tokenFor(stack, bob, app);
      const approved = await bob.get('/oauth/approved');
      assert.ok(!approved.text_.includes('\uFFFD'), `${name}: the approved page is valid UTF-8`);
      assert.ok(initial(approved.text_).includes(letter), `${name}: ${initial(approved.text_)}`);
    }
  });

  test('names and descriptions are escaped on every page', async () => {
    const name = '<script>alert(1)</script>';
    const description = `He said "hi" & 'bye' <img src=x onerror=alert(2)>`;
    const app = await createApp(alice, { name, description });
    const pages = [app.page, (await alice.get('/oauth/apps')).text_,
      (await alice.get(`/oauth/apps/${app.client_id}`)).text_,
      (await alice.post(`/oauth/apps/${app.client_id}/delete`, { form: { csrf: await alice.csrf('/oauth/apps/new') } })).text_];
    for (const html of pages) {
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      assert.ok(!html.includes('<script>alert'), 'no executable script');
      assert.ok(!html.includes('<img src=x'));
    }
    const edit = pages[2];
    assert.ok(edit.includes('He said &quot;hi&quot; &amp; &#39;bye&#39; &lt;img src=x onerror=alert(2)&gt;'));
    // no inline script at all: the only script is the static file
    for (const html of pages)
      for (const m of html.matchAll(/<script\b[^>]*>/g)) assert.match(m[0], /src="\/oauth\/static\/apps\.js"/);
  });

  test('a POST without a valid CSRF token is refused', async () => {
    const n = appsJson(stack).length;
    const r = await alice.post('/oauth/apps/new', { multipart: appForm('0'.repeat(32), { name: 'Forged' }) });
    assert.equal(r.status, 403);
    const r2 = await alice.post('/oauth/apps/new', { multipart: (() => { const f = appForm('x'); f.delete('csrf'); return f; })() });
    assert.equal(r2.status, 403);
    assert.equal(appsJson(stack).length, n);
    const app = await createApp(alice, { name: 'Guarded' });
    for (const [p, form] of [[`/oauth/apps/${app.client_id}/rotate`, {}], [`/oauth/apps/${app.client_id}/delete`, { confirm: 'yes' }]]) {
      const x = await alice.post(p, { form: { ...form, csrf: 'f'.repeat(32) } });
      assert.equal(x.status, 403, p);
    }
    assert.ok(appsJson(stack).some((a) => a.client_id === app.client_id), 'still there');
    // the secret still works: the forged rotate did nothing
    const t = await tokenFor(stack, alice, app);
    assert.ok(t.access_token);
  });

  test('only an administrator can mark an app trusted', async () => {
    const mine = await createApp(alice, { name: 'Wants trust', trusted: true });
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'show', mine.client_id])).trusted, false);
    const form = await admin.get('/oauth/apps/new');
    assert.match(form.text_, /name="trusted"/);
    const adm = await createApp(admin, { name: 'First party', trusted: true });
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'show', adm.client_id])).trusted, true);
    // a trusted app skips consent
    const a = await authorize(admin, codeRequest(adm.client_id));
    assert.equal(a.consentShown, false);
    assert.ok(a.code);
  });

  test("another user's app is a 404 for view, edit, rotate and delete", async () => {
    const app = await createApp(alice, { name: 'Private to alice' });
    const csrf = await bob.csrf('/oauth/apps/new');
    const attempts = [
      ['GET', `/oauth/apps/${app.client_id}`, undefined],
      ['POST', `/oauth/apps/${app.client_id}`, appForm(csrf, { name: 'Stolen' })],
      ['POST', `/oauth/apps/${app.client_id}/rotate`, { csrf }],
      ['GET', `/oauth/apps/${app.client_id}/delete`, undefined],
      ['POST', `/oauth/apps/${app.client_id}/delete`, { csrf }],
      ['POST', `/oauth/apps/${app.client_id}/delete`, { csrf, confirm: 'yes' }],
    ];
    for (const [m, p, body] of attempts) {
      const opts = body instanceof FormData ? { multipart: body } : body ? { form: body } : {};
      const r = await bob.req(m, p, opts);
      assert.equal(r.status, 404, `${m} ${p}`);
      assert.ok(!r.text_.includes('Private to alice'));
    }
    const list = await bob.get('/oauth/apps');
    assert.ok(!list.text_.includes(app.client_id));
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', app.client_id]));
    assert.equal(shown.name, 'Private to alice');
    const t = await tokenFor(stack, alice, app);
    assert.ok(t.access_token, 'the secret was not rotated');
  });

  test('edit saves the changes; the picture can be replaced and removed', async () => {
    const app = await createApp(alice, { name: 'Before', picture: { data: png() } });
    let csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    let r = await alice.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(csrf, {
      name: 'After', description: 'New words', redirect_uris: 'https://b.example/cb\nhttps://c.example/cb', scopes: ['profile', 'posts:read'] }) });
    assert.equal(r.status, 303);
    r = await alice.get(new URL(r.headers.get('location'), stack.url).pathname + '?done=saved');
    assert.match(r.text_, /changes were saved/);
    assert.match(r.text_, /value="After"/);
    assert.match(r.text_, /name="scope" value="posts:read" checked/);
    assert.ok(!/name="scope" value="posts:write" checked/.test(r.text_));
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', app.client_id]));
    assert.equal(shown.name, 'After');
    assert.equal(shown.description, 'New words');
    assert.deepEqual(shown.redirect_uris, ['https://b.example/cb', 'https://c.example/cb']);
    assert.equal(shown.scopes, 'profile posts:read');
    // the picture stayed, since no new one was sent
    assert.equal((await fetch(`${stack.url}/oauth/apps/${app.client_id}/picture`)).status, 200);
    csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    r = await alice.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(csrf, { name: 'After', remove_picture: true }) });
    assert.equal(r.status, 303);
    assert.equal((await fetch(`${stack.url}/oauth/apps/${app.client_id}/picture`)).status, 404);
    // an invalid edit changes nothing
    csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    r = await alice.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(csrf, { name: '', redirect_uris: 'nope' }) });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'show', app.client_id])).name, 'After');
  });

  test('rotate: the old secret fails at once, the new one works, issued tokens keep working', async () => {
    const app = await createApp(alice, { name: 'Rotating' });
    const before_ = await tokenFor(stack, alice, app);
    const csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    const r = await alice.post(`/oauth/apps/${app.client_id}/rotate`, { form: { csrf } });
    assert.equal(r.status, 200);
    const fresh = r.text_.match(/pcs_[A-Za-z0-9]{48}/)[0];
    assert.notEqual(fresh, app.client_secret);
    assert.match(r.text_, /only time the secret is shown/);
    // the old secret: 401 invalid_client
    const a = await authorize(alice, codeRequest(app.client_id));
    const old = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: 'https://app.example/cb' }, [app.client_id, app.client_secret]);
    assert.equal(old.status, 401);
    assert.equal(old.body.error, 'invalid_client');
    // the new one
    const b = await authorize(alice, codeRequest(app.client_id));
    const ok = await token(stack.url, { grant_type: 'authorization_code', code: b.code, redirect_uri: 'https://app.example/cb' }, [app.client_id, fresh]);
    assert.equal(ok.status, 200);
    // the token issued before the rotation still passes the check
    assert.equal(await check(stack.url, before_.access_token), 204);
    // the edit page does not show the new secret again
    assert.ok(!(await alice.get(`/oauth/apps/${app.client_id}`)).text_.includes(fresh));
    // rotate takes POST only
    assert.equal((await alice.get(`/oauth/apps/${app.client_id}/rotate`)).status, 405);
  });

  test('delete asks first, then revokes everything and the client_id stops working', async () => {
    const app = await createApp(alice, { name: 'Doomed <b>' });
    const t = await tokenFor(stack, alice, app);
    const tb = await tokenFor(stack, bob, app);
    assert.equal(await check(stack.url, t.access_token), 204);
    const csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    // the first POST (and a GET) only ask
    const ask = await alice.post(`/oauth/apps/${app.client_id}/delete`, { form: { csrf } });
    assert.equal(ask.status, 200);
    assert.match(ask.text_, /<h1>Delete Doomed &lt;b&gt;\?<\/h1>/);
    assert.match(ask.text_, /name="confirm" value="yes"/);
    assert.equal((await alice.get(`/oauth/apps/${app.client_id}/delete`)).status, 200);
    assert.ok(appsJson(stack).some((a) => a.client_id === app.client_id), 'not deleted by asking');
    assert.equal(await check(stack.url, t.access_token), 204);
    // bob sees it among his approved apps until it is deleted
    assert.ok((await bob.get('/oauth/approved')).text_.includes('Doomed &lt;b&gt;'));
    const del = await alice.post(`/oauth/apps/${app.client_id}/delete`, { form: { csrf, confirm: 'yes' } });
    assert.equal(del.status, 303);
    const list = await alice.get(new URL(del.headers.get('location'), stack.url).pathname + '?done=deleted');
    assert.match(list.text_, /The app was deleted/);
    assert.ok(!list.text_.includes(app.client_id));
    assert.ok(!appsJson(stack).some((a) => a.client_id === app.client_id));
    // every token of every user is dead, and it left every approved-apps page
    assert.equal(await check(stack.url, t.access_token), 401);
    assert.equal(await check(stack.url, tb.access_token), 401);
    assert.ok(!(await bob.get('/oauth/approved')).text_.includes('Doomed'));
    // the client_id: a 400 page at authorize, 401 invalid_client at token
    const a = await alice.get('/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: 'https://app.example/cb' }));
    assert.equal(a.status, 400);
    assert.equal(a.headers.get('location'), null);
    assert.match(a.headers.get('content-type'), /text\/html/);
    const tk = await token(stack.url, { grant_type: 'authorization_code', code: 'pac_x', redirect_uri: 'https://app.example/cb' }, [app.client_id, app.client_secret]);
    assert.equal(tk.status, 401);
    assert.equal(tk.body.error, 'invalid_client');
    // and its pages are gone
    assert.equal((await alice.get(`/oauth/apps/${app.client_id}`)).status, 404);
  });

  test('a public app has no secret and cannot be rotated', async () => {
    const app = await createApp(alice, { name: 'Public one', type: 'public' });
    assert.equal(app.client_secret, null);
    assert.match(app.page, /public app/i);
    const csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    const r = await alice.post(`/oauth/apps/${app.client_id}/rotate`, { form: { csrf } });
    assert.equal(r.status, 400);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'show', app.client_id])).public, true);
  });

  test('switching type: public to confidential shows a new secret once, back to public drops it', async () => {
    const app = await createApp(alice, { name: 'Switcher', type: 'public' });
    let csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    let r = await alice.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(csrf, { name: 'Switcher', type: 'confidential' }) });
    assert.equal(r.status, 200);
    const secret = r.text_.match(/pcs_[A-Za-z0-9]{48}/)[0];
    const t = await tokenFor(stack, alice, { client_id: app.client_id, client_secret: secret });
    assert.ok(t.access_token);
    csrf = await alice.csrf(`/oauth/apps/${app.client_id}`);
    r = await alice.post(`/oauth/apps/${app.client_id}`, { multipart: appForm(csrf, { name: 'Switcher', type: 'public' }) });
    assert.equal(r.status, 303);
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', app.client_id]));
    assert.equal(shown.public, true);
    const old = await token(stack.url, { grant_type: 'authorization_code', code: 'pac_x', redirect_uri: 'https://app.example/cb' }, [app.client_id, secret]);
    assert.equal(old.status, 401, 'a public app takes no secret');
  });

  test('a non-admin edit keeps the trusted mark an administrator set', async () => {
    const app = await createApp(alice, { name: 'Blessed' });
    stack.cli(['app', 'del', app.client_id]);
    // recreate through the admin command as trusted and owned by alice, then edit as alice
    const made = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Blessed', '--owner', 'alice', '--trusted', '--redirect-uri', 'https://app.example/cb']));
    const csrf = await alice.csrf(`/oauth/apps/${made.client_id}`);
    const r = await alice.post(`/oauth/apps/${made.client_id}`, { multipart: appForm(csrf, { name: 'Blessed 2' }) });
    assert.equal(r.status, 303);
    const shown = JSON.parse(stack.cli(['--json', 'app', 'show', made.client_id]));
    assert.equal(shown.name, 'Blessed 2');
    assert.equal(shown.trusted, true);
  });

  test('unknown addresses and methods', async () => {
    assert.equal((await alice.get('/oauth/apps/pca_nope')).status, 404);
    assert.equal((await alice.get('/oauth/apps/new/extra')).status, 404);
    assert.equal((await alice.req('DELETE', '/oauth/apps')).status, 405);
  });
});

describe('apps with login = remote_user', () => {
  let stack;
  before(async () => {
    // /bypass reaches the apps executable without nginx's sign-in, as a misconfigured
    // site would: the executable itself must then refuse, never act for nobody
    const bypass = 'location = /bypass { root run; fastcgi_param REQUEST_METHOD $request_method;'
      + ' fastcgi_param DOCUMENT_URI /oauth/apps; fastcgi_param QUERY_STRING "";'
      + ' fastcgi_pass unix:$realpath_root/apps.sock; }';
    // (/health is behind auth_basic too in this mode; the stack's readiness probe needs it open)
    const health = 'location = /health { return 200; }';
    stack = await startStack({ env: { SEED: '0', LOGIN: 'remote_user', EXTRA_NGINX: bypass + ' ' + health } });
    writeFileSync(path.join(stack.dir, 'htpasswd'), 'carol:{PLAIN}carol-password\n');
  });
  after(async () => { await stack?.stop(); });

  test('a request without REMOTE_USER is refused, never anonymous', async () => {
    const r = await fetch(stack.url + '/bypass');
    assert.equal(r.status, 403);
    assert.ok(!(await r.text()).includes('Your apps'));
    // through the normal location nginx asks for credentials first
    assert.equal((await fetch(stack.url + '/oauth/apps')).status, 401);
  });

  test('the user nginx vouches for gets their apps page', async () => {
    const s = new Session(stack.url, { authorization: 'Basic ' + Buffer.from('carol:carol-password').toString('base64') });
    const r = await s.get('/oauth/apps');
    assert.equal(r.status, 200);
    assert.match(r.text_, /Your apps/);
    const csrf = await s.csrf('/oauth/apps/new');
    const c = await s.post('/oauth/apps/new', { multipart: appForm(csrf, { name: 'Carol app' }) });
    assert.equal(c.status, 200, c.text_.slice(0, 300));
    assert.match(c.text_, /pcs_[A-Za-z0-9]{48}/);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'list'])).find((a) => a.name === 'Carol app').owner, 'carol');
  });
});
