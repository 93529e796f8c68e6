// pages.test.mjs (browser): every page a person sees (sign-in, apps, new app, consent
// with the organization picker, approved apps, device code entry, error signed in and
// signed out), at a desktop width and at 320 px, checked in headless Chromium for what
// WCAG AA and the issue ask: text contrast (4.5:1, 3:1 for large text), a label on every
// control, alt on every image, a language and a title, no sideways scrolling, and no
// script or CSP errors.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { launch, shooter, signIn } from '../lib/browser.mjs';

/* Runs in the page: what fails the checks, as readable strings. */
function audit() {
  const problems = [];
  const rgba = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // the colour behind an element: its own background or the nearest painted ancestor's,
  // semi-transparent layers blended over what is below them
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let out = [255, 255, 255];
    for (const c of layers.reverse()) out = out.map((v, i) => v * (1 - c[3]) + c[i] * c[3]);
    return out;
  };
  const visible = (el) => {
    const s = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
  };
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''}`;

  for (const el of document.body.querySelectorAll('*')) {
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
    if (!text || !visible(el)) continue;
    const s = getComputedStyle(el);
    const fg = rgba(s.color);
    const bg = background(el);
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const px = parseFloat(s.fontSize);
    const large = px >= 24 || (px >= 18.66 && Number(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      problems.push(`contrast ${ratio.toFixed(2)} for "${text.slice(0, 30)}" (${name(el)})`);
  }
  for (const el of document.querySelectorAll('input, textarea, select')) {
    if (el.type === 'hidden') continue;
    const labelled = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push(`no label: ${name(el)} name=${el.name}`);
  }
  for (const el of document.querySelectorAll('button')) {
    if (visible(el) && !el.textContent.trim() && !el.getAttribute('aria-label')) problems.push(`button without a name: ${name(el)}`);
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push(`img without alt: ${img.src}`);
  }
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  if (!document.title.trim()) problems.push('no <title>');
  if (!document.querySelector('main')) problems.push('no <main>');
  if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
    problems.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${document.documentElement.clientWidth}`);
  return problems;
}

describe('browser: every page is readable and labelled, on a desktop and a phone', () => {
  let stack, browser;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'device_interval = 1' } });
    // a second organization so the consent page shows its picker
    stack.cli(['org', 'add', 'Acme Marketing', '--owner', 'demo']);
    browser = await launch();
  });
  after(async () => { await browser?.close(); await stack?.stop(); });

  test('the audit itself finds low contrast, a missing label, alt and language, and sideways scrolling', async () => {
    const page = await browser.newPage({ viewport: { width: 320, height: 640 } });
    await page.setContent('<html><head><title>t</title></head><body><main>'
      + '<p style="color:#999;background:#fff">grey on white</p>'
      + '<p style="color:#fff;background:rgba(0,0,0,0.1)">white on a faint veil</p>'
      + '<input name="q"><img src="data:,"><div style="width:900px">wide</div></main></body></html>');
    const problems = (await page.evaluate(audit)).join('\n');
    assert.match(problems, /contrast 2\.\d+ for "grey on white"/);
    assert.match(problems, /contrast 1\.\d+ for "white on a faint veil"/);
    assert.match(problems, /no label: input name=q/);
    assert.match(problems, /img without alt/);
    assert.match(problems, /no lang on <html>/);
    assert.match(problems, /scrolls sideways/);
    await page.close();
  });

  // the phone run asks for one scope more, so the remembered consent of the first run
  // does not skip the page
  const runs = [['desktop', { width: 1280, height: 800 }, 'profile posts:read'],
    ['phone', { width: 320, height: 640 }, 'profile posts:read posts:write']];
  for (const [label, viewport, scope] of runs) {
    test(`${label}: sign-in, apps, new app, consent, approved apps, device, error`, async () => {
      const shot = shooter(`pages-${label}`);
      const context = await browser.newContext({ baseURL: stack.url, viewport });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) errors.push(m.text()); });
      const found = {};
      const check = async (what) => {
        await shot(page, what);
        found[what] = await page.evaluate(audit);
      };

      await page.goto('/oauth/login');
      await check('login');
      await signIn(page, shot, stack.user, stack.password, '/oauth/apps');
      await check('apps');
      await page.goto('/oauth/apps/new');
      await check('apps-new');

      const app = stack.app;
      const q = new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: app.redirect_uris?.[0] ?? `${stack.url}/demo/callback`, scope, state: 'xyz' });
      await page.goto('/oauth/authorize?' + q);
      assert.ok(await page.getByRole('radio').count() >= 2, 'the organization picker is shown');
      // site_name: by default the base URL's host, in the question and the header
      assert.match(await page.locator('h1').textContent(), /wants to access your 127\.0\.0\.1 account/);
      assert.equal((await page.locator('header .brand').textContent()).trim(), '127.0.0.1');
      await check('consent');
      await page.getByLabel('Acme Marketing').check();
      await page.getByRole('button', { name: /authorize/i }).click();
      await page.waitForURL(/\/demo\/callback\?code=/);

      await page.goto('/oauth/approved');
      assert.match(await page.locator('main').textContent(), /Acme Marketing/);
      await check('approved');
      await page.goto('/oauth/device');
      await check('device');
      // an app sent the signed-in user with a bad request: the header stays, and the ways
      // back are the app's site (from the Referer) and this site's home
      await page.goto('/oauth/authorize?client_id=pca_unknown&response_type=code', { referer: 'https://app.example/start?x=1' });
      await check('error');
      assert.match(await page.locator('header.site').textContent(), /Signed in as\s+demo/);
      assert.ok(await page.getByRole('button', { name: 'Sign out', exact: true }).isVisible(), 'the sign-out button is on the error page');
      const ways = page.getByRole('list', { name: 'Where to go from here' });
      assert.equal(await ways.getByRole('link', { name: 'Back to app.example' }).getAttribute('href'), 'https://app.example/');
      assert.ok(await ways.getByRole('link', { name: 'Go to 127.0.0.1' }).isVisible());
      assert.equal(await ways.getByRole('link', { name: 'Sign in' }).count(), 0, 'a signed-in user is offered a sign-in');

      // signed out, the same page offers a sign-in, which leads to the form without a script
      const out = await browser.newContext({ baseURL: stack.url, viewport, javaScriptEnabled: false });
      const outPage = await out.newPage();
      await outPage.goto('/oauth/authorize?client_id=pca_unknown&response_type=code');
      await shot(outPage, 'error-signed-out');
      found['error-signed-out'] = await outPage.evaluate(audit);
      assert.equal(await outPage.locator('header.site nav').count(), 0, 'a signed-out user gets the signed-in header');
      await outPage.getByRole('link', { name: 'Sign in' }).click();
      await outPage.waitForURL(/\/oauth\/login$/);
      assert.ok(await outPage.getByLabel('User name').isVisible());
      await out.close();

      for (const [what, problems] of Object.entries(found))
        assert.deepEqual(problems, [], `${label} ${what}`);
      assert.deepEqual(errors, [], 'no script or CSP errors');
      await context.close();
    });
  }
});

// Issue 15: on a 390 px phone the consent page of a client that registered itself says so,
// and neither it nor the secret page scrolls sideways or cuts off a client id or secret,
// which are set in the monospace face that tells I/l/1 and O/0 apart.
describe('browser: who is asking, and ids and secrets at 390 px', () => {
  let stack, browser;
  before(async () => {
    stack = await startStack({ env: { EXTRA_CONFIG: 'registration = on', REGISTER_RATE: '1000r/s' } });
    browser = await launch();
  });
  after(async () => { await browser?.close(); await stack?.stop(); });

  /* Runs in the page: every .id element that is cut off (wider or taller than its box, or
   * past the viewport), and the face and numerals it is set in. */
  function ids() {
    const out = [];
    for (const el of document.querySelectorAll('.id')) {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      out.push({
        text: el.value ?? el.textContent,
        cut: el.scrollWidth > el.clientWidth + 1 || (el.tagName === 'TEXTAREA' && el.scrollHeight > el.clientHeight + 1)
          || r.right > document.documentElement.clientWidth + 1 || r.left < -1,
        font: s.fontFamily, numeric: s.fontVariantNumeric,
      });
    }
    return out;
  }

  test('the consent page of a self-registered client and the secret page of a new app', async () => {
    const shot = shooter('pages-390');
    const reg = await (await fetch(stack.url + '/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Google Drive', redirect_uris: [`${stack.url}/demo/callback`], client_uri: 'https://drive.example/',
        policy_uri: 'https://drive.example/privacy', tos_uri: 'https://drive.example/terms' }) })).json();
    const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, shot, stack.user, stack.password, '/oauth/apps');
    const q = new URLSearchParams({ response_type: 'code', client_id: reg.client_id, redirect_uri: `${stack.url}/demo/callback`,
      scope: 'profile', state: 'xyz', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    await page.goto('/oauth/authorize?' + q);
    await shot(page, 'consent-self-registered');
    assert.match(await page.locator('.made-by').textContent(), /Registered itself — 127\.0\.0\.1 has not verified it/);
    assert.equal((await page.locator('.redirect-host .host').textContent()).trim(), '127.0.0.1:' + new URL(stack.url).port);
    assert.equal(await page.getByRole('link', { name: 'Privacy policy' }).getAttribute('href'), 'https://drive.example/privacy');
    assert.ok(await page.getByRole('button', { name: 'Switch account' }).isVisible());
    let problems = await page.evaluate(audit);
    assert.deepEqual(problems, [], 'consent page');
    let found = await page.evaluate(ids);
    assert.equal(found.length, 1);
    assert.equal(found[0].text, reg.client_id);
    assert.equal(found[0].cut, false, 'the client id is cut off');
    assert.match(found[0].font, /^"DejaVu Sans Mono"/);
    assert.match(found[0].numeric, /slashed-zero/);

    // a confidential app's secret page
    await page.goto('/oauth/apps/new');
    await page.getByLabel('Name', { exact: true }).fill('Phone app');
    await page.getByLabel(/^redirect uris/i).fill(`${stack.url}/client/callback`);
    await page.getByLabel(/^confidential/i).check();
    await page.getByRole('button', { name: /create app/i }).click();
    await page.waitForSelector('#client-secret');
    await shot(page, 'secret');
    problems = await page.evaluate(audit);
    assert.deepEqual(problems, [], 'secret page');
    found = await page.evaluate(ids);
    assert.equal(found.length, 2);
    assert.match(found[0].text, /^pca_[A-Za-z0-9]{32}$/);
    assert.match(found[1].text, /^pcs_[A-Za-z0-9]{48}$/);
    for (const f of found) {
      assert.equal(f.cut, false, `${f.text.slice(0, 4)} is cut off`);
      assert.match(f.font, /^"DejaVu Sans Mono"/);
    }
    assert.equal(await page.inputValue('#client-secret'), found[1].text);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
