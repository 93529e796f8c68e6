// errorpages.test.mjs: the site's name on every page (config site_name) and in the consent
// question, and the error pages: the signed-in header kept, and a way back for whoever
// lands there (a user an app sent with a bad request, a user whose form expired or whose
// session ended, a signed-out user, a developer), in plain links, never a redirect.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, build } from '../lib/stack.mjs';
import { Session, consentForm, token, unescapeHtml } from '../lib/client.mjs';

const SITE = 'Example & Co';
const SITE_HTML = 'Example &amp; Co';

/* The links of an error page's "where to go from here" list: [{href, text}]. */
function ways(html) {
  const list = html.match(/<ul class="ways"[^>]*>([\s\S]*?)<\/ul>/);
  assert.ok(list, `no list of ways back on the page:\n${html.slice(0, 600)}`);
  return [...list[1].matchAll(/<a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => ({ href: unescapeHtml(m[1]), text: unescapeHtml(m[2]) }));
}

/* The signed-in header: the user's name and a sign-out form with its CSRF token. */
function header(html) {
  const h = html.match(/<header class="site">([\s\S]*?)<\/header>/);
  assert.ok(h, 'no header');
  const who = h[1].match(/Signed in as <strong>([^<]*)<\/strong>/);
  const csrf = h[1].match(/action="[^"]*\/oauth\/logout"[\s\S]*?name="csrf" value="([^"]+)"/);
  return { brand: h[1].match(/class="brand"[^>]*>([^<]*)</)?.[1], user: who?.[1] ?? null, csrf: csrf ? unescapeHtml(csrf[1]) : null };
}

describe('site_name and the error pages', () => {
  let stack;
  const bad = '/oauth/authorize?client_id=pca_unknown&response_type=code';
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: `site_name = ${SITE}\ndevice_interval = 1` } });
  });
  after(async () => { await stack?.stop(); });

  test('every page names the site in its title and header', async () => {
    const s = new Session(stack.url);
    const login = await s.get('/oauth/login');
    assert.match(login.text_, new RegExp(`<title>Sign in · ${SITE_HTML}</title>`));
    assert.equal(header(login.text_).brand, SITE_HTML);
    await s.signIn('demo', stack.password);
    for (const p of ['/oauth/apps', '/oauth/apps/new', '/oauth/approved', '/oauth/device', bad]) {
      const r = await s.get(p);
      assert.match(r.text_, new RegExp(`<title>[^<]+ · ${SITE_HTML}</title>`), p);
      assert.equal(header(r.text_).brand, SITE_HTML, p);
      assert.ok(!/>postern</.test(r.text_), `${p} still says postern`);
    }
  });

  test('the consent page asks for access to "your <site_name> account"', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const q = new URLSearchParams({ response_type: 'code', client_id: stack.app.client_id,
      redirect_uri: stack.app.redirect_uris?.[0] ?? `${stack.url}/demo/callback`, scope: 'profile', state: 's' });
    const r = await s.get('/oauth/authorize?' + q);
    assert.equal(r.status, 200, r.text_.slice(0, 300));
    assert.match(r.text_, new RegExp(`<h1><span class="app-name">[^<]+</span> wants to access your ${SITE_HTML} account</h1>`));
  });

  test('the device login\'s consent page asks the same', async () => {
    const d = await token(stack.url, { client_id: stack.cli_app.client_id }, null, { path: '/oauth/device_authorization' });
    assert.equal(d.status, 200, d.text);
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const r = await s.get('/oauth/device?' + new URLSearchParams({ code: d.body.user_code }));
    assert.equal(r.status, 200);
    assert.match(r.text_, /name="action" value="approve"/, 'the consent page shows');
    assert.match(r.text_, new RegExp(`wants to access your ${SITE_HTML} account</h1>`));
    assert.match(r.text_, /Approve only if you started this yourself/, 'the device consent page');
    const deny = await s.post('/oauth/device', { form: { ...consentForm(r.text_), action: 'deny' } });
    assert.equal(deny.status, 200);
  });

  test('a user an app sent with a bad request: back to the app\'s site (its origin only), sign in, the site\'s home', async () => {
    const s = new Session(stack.url, { referer: 'https://app.example/start?session=s3cret-value' });
    const r = await s.get(bad);
    assert.equal(r.status, 400);
    assert.deepEqual(ways(r.text_), [
      { href: 'https://app.example/', text: 'Back to app.example' },
      { href: '/oauth/login', text: 'Sign in' },
      { href: `${new URL(stack.url).origin}/`, text: `Go to ${SITE}` },
    ]);
    assert.ok(!r.text_.includes('s3cret-value'), 'the referring page\'s query is on the page');
    assert.equal(r.headers.get('location'), null, 'an error page never redirects');
    assert.ok(!/<script/i.test(r.text_), 'the ways back need no script');
  });

  test('a page of this site the user came from is linked by its path; anything but an http(s) page is not linked', async () => {
    let r = await new Session(stack.url, { referer: `${stack.url}/account/settings?token=s3cret` }).get(bad);
    assert.deepEqual(ways(r.text_)[0], { href: `${stack.url}/account/settings`, text: 'Back to the previous page' });
    assert.ok(!r.text_.includes('s3cret'));
    for (const referer of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'https://u:p@evil.example/', '/relative', 'not a url']) {
      r = await new Session(stack.url, { referer }).get(bad);
      assert.equal(r.status, 400);
      assert.ok(!ways(r.text_).some((w) => /^Back to/.test(w.text)), `${referer} became a link`);
      assert.ok(!r.text_.includes('evil.example') && !r.text_.includes('javascript:'), referer);
    }
    // longer than PT_MAX_REFERER (2048 bytes): no link
    r = await new Session(stack.url, { referer: 'https://app.example/' + 'a'.repeat(2048) }).get(bad);
    assert.ok(!ways(r.text_).some((w) => /^Back to/.test(w.text)));
    r = await new Session(stack.url, { referer: 'https://app.example/' + 'a'.repeat(2048 - 20) }).get(bad);
    assert.equal(ways(r.text_)[0].text, 'Back to app.example');
  });

  test('a signed-in user keeps the header on error pages, and its sign-out works', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    // an authorization error, a method the page does not take, a page that is not there:
    // none of them looked up the session before failing
    for (const [method, p, status] of [['GET', bad, 400], ['POST', '/oauth/approved', 405], ['GET', '/oauth/apps/pca_nothing_here', 404]]) {
      const r = await s.req(method, p, method === 'POST' ? { form: { x: '1' } } : {});
      assert.equal(r.status, status, p);
      const h = header(r.text_);
      assert.equal(h.user, 'demo', `${method} ${p}: no signed-in header`);
      assert.ok(h.csrf, `${method} ${p}: no sign-out form`);
      assert.ok(!ways(r.text_).some((w) => /^Sign in/.test(w.text)), `${p}: offers a sign-in to a signed-in user`);
      assert.match(r.text_, /href="\/oauth\/apps">Your apps<\/a>/, 'the developer\'s way to the apps');
    }
    const r = await s.get(bad);
    const out = await s.post('/oauth/logout', { form: { csrf: header(r.text_).csrf } });
    assert.equal(out.status, 303, 'the error page\'s sign-out form was refused');
    assert.equal((await s.get('/oauth/apps')).status, 302, 'still signed in after signing out');
    assert.equal(header((await s.get(bad)).text_).user, null, 'a signed-out user gets the header of a signed-in one');
  });

  test('an expired form: the form again, at its own address', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const r = await s.post('/oauth/apps/new', { form: { csrf: 'stale', name: 'x' } });
    assert.equal(r.status, 403);
    assert.ok(ways(r.text_).some((w) => w.href === '/oauth/apps/new' && w.text === 'Open the form again'), JSON.stringify(ways(r.text_)));
    assert.equal(header(r.text_).user, 'demo');
    const again = await s.get('/oauth/apps/new');
    assert.equal(again.status, 200, 'the link does not lead back to the form');
  });

  test('an expired consent form: no link to a form that cannot be opened again', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const r = await s.post('/oauth/consent', { form: { request: 'pcr_x', action: 'approve', csrf: 'stale' } });
    assert.equal(r.status, 403);
    assert.equal(header(r.text_).user, 'demo');
    const w = ways(r.text_);
    assert.ok(!w.some((x) => /form again|Try again/.test(x.text)), JSON.stringify(w));
    assert.equal(w.at(-1).text, `Go to ${SITE}`);
  });

  test('a session that ended before the consent answer: sign in again', async () => {
    const s = new Session(stack.url);
    const r = await s.post('/oauth/consent', { form: { request: 'pcr_x', action: 'approve', csrf: 'x' } });
    assert.equal(r.status, 403);
    const w = ways(r.text_);
    assert.ok(w.some((x) => x.href === '/oauth/login' && x.text === 'Sign in again'), JSON.stringify(w));
    assert.equal(w.at(-1).text, `Go to ${SITE}`);
  });

  test('a bad site_name stops the config from loading, naming the key, the line and the limit', () => {
    const conf = readFileSync(stack.config, 'utf8');
    const cases = [
      ['x'.repeat(65), /site_name is longer than 64 characters/],
      ['Evil\u202eCorp', /site_name contains an invisible or control character \(U\+202E\)/],
      ['', /site_name is empty/],
    ];
    for (const [value, why] of cases) {
      const file = path.join(stack.dir, 'bad.conf');
      writeFileSync(file, conf + `\nsite_name = ${value}\n`);
      const lines = (conf + '\n').split('\n').length;
      const r = spawnSync(path.join(build, 'postern'), ['--config', file, 'user', 'list'], { encoding: 'utf8' });
      assert.notEqual(r.status, 0, `site_name = ${value} was taken`);
      assert.match(r.stderr, why);
      assert.match(r.stderr, new RegExp(`bad\\.conf:${lines}: site_name`), r.stderr);
    }
    // 64 characters, even of two bytes each, are fine
    writeFileSync(path.join(stack.dir, 'ok.conf'), conf + `\nsite_name = ${'é'.repeat(64)}\n`);
    const ok = spawnSync(path.join(build, 'postern'), ['--config', path.join(stack.dir, 'ok.conf'), 'user', 'list'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
  });
});
