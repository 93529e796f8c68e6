// apps.test.mjs (browser): click through the developer and user pages in headless
// Chromium: sign in, create an app with a picture, authorize it, use the token, revoke
// it, rotate the secret, delete the app; and the pages at 320 px. Every page visited is
// saved as a screenshot under tests/out/screenshots/.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { token, check } from '../lib/client.mjs';
import { png } from '../lib/fixtures.mjs';
import { launch, shooter, signIn } from '../lib/browser.mjs';

/* A 64x64 PNG: a blue square with a lighter stripe. */
const picture = () => png({ width: 64, height: 64, pixel: (x, y) => (Math.abs(x - y) < 8 ? [120, 170, 255] : [30, 70, 160]) });

// the client's landing page: where the browser arrives with the code
const CALLBACK = "location = /client/callback { default_type text/html; return 200 '<!doctype html><title>Client</title><h1>Back at the client</h1>'; }";

describe('browser: apps and approved apps', () => {
  let stack, browser, password;
  before(async () => {
    stack = await startStack({ env: { SEED: '0', EXTRA_NGINX: CALLBACK } });
    password = 'alice-password-123';
    stack.cli(['user', 'add', 'alice'], password + '\n');
    browser = await launch();
  });
  after(async () => { await browser?.close(); await stack?.stop(); });

  test('create, authorize, use, revoke, rotate and delete by clicking', async () => {
    const shot = shooter('flow');
    const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url });
    const page = await context.newPage();
    const scriptErrors = [];
    page.on('pageerror', (e) => scriptErrors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) scriptErrors.push(m.text()); });

    await signIn(page, shot, 'alice', password);
    await shot(page, 'apps-empty');
    await page.getByRole('link', { name: /create an app/i }).click();
    await page.waitForURL(/\/oauth\/apps\/new$/);
    await page.getByLabel('Name', { exact: true }).fill('Postbot');
    await page.getByLabel(/description/i).fill('Schedules your posts. It says "hello" & waves.');
    await page.getByLabel(/^picture/i).setInputFiles({ name: 'postbot.png', mimeType: 'image/png', buffer: picture() });
    await page.getByLabel(/^redirect uris/i).fill(`${stack.url}/client/callback`);
    await page.getByLabel(/posts:read/).check();
    await page.getByLabel(/^confidential/i).check();
    await shot(page, 'apps-new-filled');
    await page.getByRole('button', { name: /create app/i }).click();

    // the secret page: shown once, with working copy buttons
    await page.waitForSelector('#client-secret');
    await shot(page, 'apps-secret');
    const clientId = await page.inputValue('#client-id');
    const secret = await page.inputValue('#client-secret');
    assert.match(clientId, /^pca_[A-Za-z0-9]{32}$/);
    assert.match(secret, /^pcs_[A-Za-z0-9]{48}$/);
    const copy = page.locator('button[data-copy="client-secret"]');
    assert.ok(await copy.isVisible(), 'the copy button shows once the script runs');
    await copy.click();
    await page.waitForFunction(() => document.querySelector('.copy-status').textContent.length > 0);
    assert.match(await page.textContent('.copy-status'), /copied/i);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);

    // the list shows the app and its picture, never the secret
    await page.getByRole('link', { name: /all your apps/i }).click();
    await page.waitForURL(/\/oauth\/apps$/);
    await shot(page, 'apps-list');
    assert.ok(!(await page.content()).includes(secret));
    const pic = page.locator(`img[src$="/oauth/apps/${clientId}/picture"]`).first();
    assert.ok(await pic.evaluate((img) => img.complete && img.naturalWidth === 64), 'the picture loads');

    // the authorization flow, as the app would start it
    const redirect = `${stack.url}/client/callback`;
    const authz = `/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, scope: 'profile posts:read', state: 'browser-state' })}`;
    await page.goto(authz);
    await shot(page, 'consent');
    assert.ok((await page.content()).includes('Postbot'));
    await page.getByRole('button', { name: /authorize/i }).click();
    await page.waitForURL(/\/client\/callback\?/);
    await shot(page, 'client-callback');
    const back = new URL(page.url());
    assert.equal(back.searchParams.get('state'), 'browser-state');
    const code = back.searchParams.get('code');
    assert.match(code, /^pac_/);
    const t = await token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: redirect }, [clientId, secret]);
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(await check(stack.url, t.body.access_token), 204);

    // approved apps: there, then revoked after the confirmation
    await page.goto('/oauth/approved');
    await shot(page, 'approved');
    assert.ok((await page.content()).includes('Postbot'));
    await page.getByRole('button', { name: /revoke postbot/i }).click();
    await page.waitForURL(/\/oauth\/approved\/\d+\/revoke$/);
    await shot(page, 'approved-revoke-confirm');
    assert.match(await page.textContent('h1'), /Revoke access for Postbot\?/);
    await page.getByRole('button', { name: /revoke access/i }).click();
    await page.waitForURL(/\/oauth\/approved\?done=revoked$/);
    await shot(page, 'approved-revoked');
    assert.ok(!(await page.locator('main').textContent()).includes('Postbot'));
    assert.equal(await check(stack.url, t.body.access_token), 401);

    // a second approval for the rotation check
    await page.goto(authz);
    await page.getByRole('button', { name: /authorize/i }).click();
    await page.waitForURL(/\/client\/callback\?/);
    const t2 = await token(stack.url, { grant_type: 'authorization_code', code: new URL(page.url()).searchParams.get('code'), redirect_uri: redirect }, [clientId, secret]);
    assert.equal(t2.status, 200);

    // rotate the secret
    await page.goto(`/oauth/apps/${clientId}`);
    await shot(page, 'apps-edit');
    assert.ok(!(await page.content()).includes(secret));
    await page.getByRole('button', { name: /rotate secret/i }).click();
    await page.waitForSelector('#client-secret');
    await shot(page, 'apps-rotated');
    const secret2 = await page.inputValue('#client-secret');
    assert.notEqual(secret2, secret);
    const stale = await token(stack.url, { grant_type: 'authorization_code', code: 'pac_nothing', redirect_uri: redirect }, [clientId, secret]);
    assert.equal(stale.status, 401);
    assert.equal(stale.body.error, 'invalid_client');
    assert.equal(await check(stack.url, t2.body.access_token), 204, 'issued tokens survive the rotation');
    // (remembered consent: no page this time) and the new secret works
    await page.goto(authz);
    await page.waitForURL(/\/client\/callback\?/);
    const t3 = await token(stack.url, { grant_type: 'authorization_code', code: new URL(page.url()).searchParams.get('code'), redirect_uri: redirect }, [clientId, secret2]);
    assert.equal(t3.status, 200);

    // delete, after the confirmation page
    await page.goto(`/oauth/apps/${clientId}`);
    await page.getByRole('button', { name: /delete app/i }).click();
    await page.waitForURL(/\/delete$/);
    await shot(page, 'apps-delete-confirm');
    assert.match(await page.textContent('h1'), /Delete Postbot\?/);
    await page.getByRole('button', { name: /delete postbot/i }).click();
    await page.waitForURL(/\/oauth\/apps\?done=deleted$/);
    await shot(page, 'apps-deleted');
    assert.ok(!(await page.locator('main').textContent()).includes('Postbot'));
    assert.equal(await check(stack.url, t2.body.access_token), 401);
    assert.equal(await check(stack.url, t3.body.access_token), 401);
    const gone = await page.goto(authz);
    assert.equal(gone.status(), 400);
    await shot(page, 'authorize-deleted-app');

    assert.deepEqual(scriptErrors, [], 'no script or CSP errors');
    await context.close();
  });

  test('the secret page works without JavaScript', async () => {
    const shot = shooter('nojs');
    const context = await browser.newContext({ baseURL: stack.url, javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, shot, 'alice', password);
    await page.goto('/oauth/apps/new');
    await page.getByLabel('Name', { exact: true }).fill('No script');
    await page.getByLabel(/^redirect uris/i).fill('https://noscript.example/cb');
    await page.getByRole('button', { name: /create app/i }).click();
    await page.waitForSelector('#client-secret');
    await shot(page, 'apps-secret');
    assert.match(await page.inputValue('#client-secret'), /^pcs_/);
    assert.equal(await page.locator('button[data-copy]').first().isVisible(), false, 'no dead copy button');
    await context.close();
  });

  test('an app without a picture shows the first character of a non-ASCII name, on the apps, consent and approved pages', async () => {
    const shot = shooter('initials');
    const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const redirect = `${stack.url}/client/callback`;
    const names = [['Émile', 'É'], ['Ωmega', 'Ω'], ['日本', '日']];
    const apps = names.map(([name]) => JSON.parse(stack.cli(['--json', 'app', 'create', '--name', name, '--owner', 'alice',
      '--redirect-uri', redirect, '--scope', 'profile'])));
    // the bytes nginx sent decode as UTF-8 with no replacement character, and the page shows none
    const utf8 = async (res, what) => {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(await res.body());
      assert.ok(!text.includes('\uFFFD'), `${what}: a replacement character in the HTML`);
      assert.ok(!(await page.locator('body').innerText()).includes('\uFFFD'), `${what}: a replacement character on the page`);
    };
    const initialOf = (scope, name) => scope.locator('li.app').filter({ hasText: name }).locator('.app-initial');

    await signIn(page, shot, 'alice', password);
    const list = await page.goto('/oauth/apps');
    await shot(page, 'apps-list');
    await utf8(list, 'apps list');
    for (const [name, letter] of names)
      assert.equal((await initialOf(page, name).innerText()).trim(), letter, `apps list: ${name}`);

    for (const [i, [name, letter]] of names.entries()) {
      const consent = await page.goto(`/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: apps[i].client_id, redirect_uri: redirect, scope: 'profile' })}`);
      await shot(page, `consent-${i}`);
      await utf8(consent, `consent for ${name}`);
      assert.equal((await page.locator('.app-initial.large').innerText()).trim(), letter, `consent: ${name}`);
      const box = await page.locator('.app-initial.large').boundingBox();
      assert.ok(box && box.width > 0 && box.height > 0, 'the initial is drawn');
      await page.getByRole('button', { name: /authorize/i }).click();
      await page.waitForURL(/\/client\/callback\?/);
    }

    const approved = await page.goto('/oauth/approved');
    await shot(page, 'approved');
    await utf8(approved, 'approved apps');
    for (const [name, letter] of names)
      assert.equal((await initialOf(page, name).innerText()).trim(), letter, `approved apps: ${name}`);
    await context.close();
  });

  test('at 320 px no page scrolls sideways', async () => {
    const shot = shooter('narrow');
    const context = await browser.newContext({ baseURL: stack.url, viewport: { width: 320, height: 640 } });
    const page = await context.newPage();
    const fits = async (name) => {
      await shot(page, name);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(w <= 320, `${name}: scrollWidth ${w} > 320`);
    };
    await page.goto('/oauth/login');
    await fits('login');
    await signIn(page, shot, 'alice', password);
    // an app with long words, so wrapping is really tested
    await page.goto('/oauth/apps/new');
    await fits('apps-new');
    await page.getByLabel('Name', { exact: true }).fill('Narrowscreen-supercalifragilistic-application');
    await page.getByLabel(/description/i).fill('A description with a long unbroken word: ' + 'x'.repeat(80));
    await page.getByLabel(/^picture/i).setInputFiles({ name: 'p.png', mimeType: 'image/png', buffer: picture() });
    await page.getByLabel(/^redirect uris/i).fill(`${stack.url}/client/callback/with/a/rather/long/path/segment`);
    await page.getByRole('button', { name: /create app/i }).click();
    await page.waitForSelector('#client-secret');
    await fits('apps-secret');
    const clientId = await page.inputValue('#client-id');
    await page.goto('/oauth/apps');
    await fits('apps-list');
    await page.goto(`/oauth/apps/${clientId}`);
    await fits('apps-edit');
    await page.goto(`/oauth/apps/${clientId}/delete`);
    await fits('apps-delete');
    const redirect = `${stack.url}/client/callback/with/a/rather/long/path/segment`;
    await page.goto(`/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, scope: 'profile' })}`);
    await fits('consent');
    await page.getByRole('button', { name: /authorize/i }).click();
    await page.waitForURL(/\/client\/callback\//);
    await page.goto('/oauth/approved');
    await fits('approved');
    await page.getByRole('button', { name: /revoke/i }).first().click();
    await page.waitForURL(/\/revoke$/);
    await fits('approved-revoke');
    await context.close();
  });
});
