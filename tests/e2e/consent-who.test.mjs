// consent-who.test.mjs: the consent page says who is asking (issue 15): an app of a user's
// apps page "By <owner>", an app of an administrator or of the admin command "By
// <site_name>" (marked trusted when it is), a client that registered itself "Registered
// itself — <site_name> has not verified it" with its redirect host prominent; its
// client_uri, policy_uri and tos_uri as https links; the account line's "Not you? Switch
// account" (signs out, then the sign-in form comes back to the request); the client id in
// the monospace face (class "id"). The device flow's consent page shares it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize, addUser, createApp, codeRequest, unescapeHtml } from '../lib/client.mjs';

const SITE = 'Example Wiki';

async function register(base, body) {
  const r = await fetch(base + '/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
}

/* The consent page's text of a request (stopping there), tags removed. */
async function consentOf(s, q) {
  const a = await authorize(s, q, { decision: null });
  assert.equal(a.consentShown, true, `no consent page: ${a.status} ${a.page.text_.slice(0, 300)}`);
  return a.page.text_;
}
const textOf = (html) => unescapeHtml(html.replace(/<[^>]+>/g, ''));
const madeBy = (html) => textOf(html.match(/<p class="made-by">([\s\S]*?)<\/p>/)[1]).trim();

describe('the consent page says who is asking', () => {
  let stack, bob, admin, bobPw;
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: `registration = on\nsite_name = ${SITE}`, REGISTER_RATE: '1000r/s' } });
    bobPw = addUser(stack, 'bob');
    const pa = addUser(stack, 'root', { admin: true });
    bob = new Session(stack.url); await bob.signIn('bob', bobPw);
    admin = new Session(stack.url); await admin.signIn('root', pa);
  });
  after(async () => { await stack?.stop(); });

  test('an app of a user\'s apps page: "By <owner>"', async () => {
    const app = await createApp(bob, { name: 'Bob tool', remember: false });
    const html = await consentOf(bob, codeRequest(app.client_id));
    assert.equal(madeBy(html), `By bob, a user of ${SITE}`);
    assert.doesNotMatch(html, /Registered itself/);
    assert.match(html, new RegExp(`<code class="id">${app.client_id}</code>`));
    assert.match(textOf(html), /After you answer you go back to app\.example\./);
  });

  test('an app of an administrator, or of the admin command: "By <site_name>", trusted marked', async () => {
    const app = await createApp(admin, { name: 'Admin tool', remember: false });
    assert.equal(madeBy(await consentOf(bob, codeRequest(app.client_id))), `By ${SITE}`);
    const cli = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'CLI tool', '--redirect-uri', 'https://app.example/cb']));
    assert.equal(madeBy(await consentOf(bob, codeRequest(cli.client_id))), `By ${SITE}`);
    // trusted apps skip the page; with prompt=consent it shows, marked
    const trusted = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Trusted tool', '--trusted', '--redirect-uri', 'https://app.example/cb']));
    const html = await consentOf(bob, { ...codeRequest(trusted.client_id), prompt: 'consent' });
    assert.equal(madeBy(html), `By ${SITE} · trusted`);
  });

  test('a client that registered itself: not verified, its redirect host prominent, its https links', async () => {
    const c = await register(stack.url, {
      client_name: 'Google Drive', redirect_uris: ['https://drive-google.evil.example/cb'],
      client_uri: 'https://drive-google.evil.example/', policy_uri: 'https://drive-google.evil.example/privacy',
      tos_uri: 'https://drive-google.evil.example/terms',
    });
    const verifier = 'v'.repeat(43);
    const html = await consentOf(bob, codeRequest(c.client_id, { redirect_uri: 'https://drive-google.evil.example/cb', verifier }));
    assert.match(madeBy(html), new RegExp(`^Registered itself — ${SITE} has not verified it\\.`));
    assert.match(html, /<p class="redirect-host warning">After you answer you go to <strong class="host">drive-google\.evil\.example<\/strong>/);
    const links = [...html.matchAll(/<a href="([^"]+)" rel="noopener noreferrer">([^<]+)<\/a>/g)].map((m) => [m[2], unescapeHtml(m[1])]);
    assert.deepEqual(links, [['Website', 'https://drive-google.evil.example/'], ['Privacy policy', 'https://drive-google.evil.example/privacy'],
      ['Terms of service', 'https://drive-google.evil.example/terms']]);
    // without links: no links paragraph
    const bare = await register(stack.url, { client_name: 'Bare', redirect_uris: ['https://bare.example/cb'] });
    const html2 = await consentOf(bob, codeRequest(bare.client_id, { redirect_uri: 'https://bare.example/cb', verifier }));
    assert.doesNotMatch(html2, /class="app-links"/);
    // a link that somehow is not https in the database is not shown
    stack.sql(`UPDATE apps SET client_uri = 'javascript:alert(1)' WHERE client_id = '${bare.client_id}'`);
    const html3 = await consentOf(bob, codeRequest(bare.client_id, { redirect_uri: 'https://bare.example/cb', verifier }));
    assert.doesNotMatch(html3, /javascript:/);
  });

  test('the device flow\'s consent page says it too, and its switch account comes back to the code', async () => {
    const dev = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'TV', '--public', '--device', '--redirect-uri', 'https://tv.example/cb']));
    const d = await (await fetch(stack.url + '/oauth/device_authorization', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: dev.client_id, scope: 'profile' }) })).json();
    assert.ok(d.user_code, JSON.stringify(d));
    const r = await bob.get('/oauth/device?' + new URLSearchParams({ code: d.user_code }));
    assert.equal(r.status, 200, r.text_.slice(0, 300));
    assert.equal(madeBy(r.text_), `By ${SITE}`);
    const back = unescapeHtml(r.text_.match(/name="return_to" value="([^"]*)"/)[1]);
    assert.match(back, /^\/oauth\/device\?code=/);
  });

  test('"Not you? Switch account" signs out and the sign-in form comes back to the request', async () => {
    const s = new Session(stack.url); await s.signIn('bob', bobPw);
    const app = await createApp(bob, { name: 'Switch test', remember: false });
    const q = codeRequest(app.client_id);
    const html = await consentOf(s, q);
    const form = html.match(/<form class="switch" method="post" action="([^"]+)">([\s\S]*?)<\/form>/);
    assert.ok(form, 'the switch-account form is on the account line');
    assert.equal(form[1], '/oauth/logout');
    const field = (n) => unescapeHtml(form[2].match(new RegExp(`name="${n}" value="([^"]*)"`))[1]);
    const back = field('return_to');
    assert.match(back, /^\/oauth\/authorize\?/);
    assert.ok(back.includes(`client_id=${app.client_id}`));
    const r = await s.post('/oauth/logout', { form: { csrf: field('csrf'), return_to: back } });
    assert.equal(r.status, 303);
    const loc = new URL(r.headers.get('location'), stack.url);
    assert.equal(loc.pathname, '/oauth/login');
    assert.equal(loc.searchParams.get('return_to'), back);
    // signed out: the request asks for a sign-in; signing in as someone else comes back to it
    const again = await s.get(back);
    assert.equal(again.status, 302);
    assert.match(again.headers.get('location'), /\/oauth\/login\?return_to=/);
    const alice = addUser(stack, 'alice2');
    const signed = await s.signIn('alice2', alice, back);
    assert.equal(signed.headers.get('location'), back);
    assert.match(textOf((await s.get(back)).text_), /You are signed in as alice2\./);
  });

  test('switch account cannot be sent elsewhere: a return_to off the site goes to the apps page', async () => {
    const s = new Session(stack.url); await s.signIn('bob', bobPw);
    const csrf = await s.csrf('/oauth/apps');
    for (const bad of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const s2 = new Session(stack.url); await s2.signIn('bob', bobPw);
      const c2 = await s2.csrf('/oauth/apps');
      const r = await s2.post('/oauth/logout', { form: { csrf: c2, return_to: bad } });
      assert.equal(r.status, 303, bad);
      assert.equal(new URL(r.headers.get('location'), stack.url).searchParams.get('return_to'), '/oauth/apps', bad);
    }
    // a plain sign-out still goes to the bare sign-in page
    const r = await s.post('/oauth/logout', { form: { csrf } });
    assert.equal(r.headers.get('location'), '/oauth/login');
  });
});
