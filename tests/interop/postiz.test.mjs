// postiz.test.mjs: the real Postiz CLI (npm `postiz`, pinned 2.1.0 in package.json)
// logs in against a running postern with `postiz auth:login`. No stdin; a stub
// `xdg-open` early on PATH plays the browser the CLI opens: it follows the URL, signs
// in, and approves the consent page. The CLI must exit 0 with a credentials file whose
// token the protected API (nginx auth_request → /oauth/check) accepts.
//
// What the CLI does (node_modules/postiz/dist/index.js, authLogin): POST
// $POSTIZ_AUTH_SERVER/device/code (Content-Type application/json, no body), prints the
// user code, runs `xdg-open "<verification_uri>?code=<user_code>"`, then every
// `interval` seconds until `expires_in` POSTs /device/token {"device_code"}; on
// authorization_pending it keeps polling, on any other error it exits 1; on success
// it writes ~/.postiz/credentials.json {accessToken, apiUrl, organizationId} (0600).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, statSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack, freePort } from '../lib/stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const postizBin = path.resolve(here, '../node_modules/.bin/postiz');
const TIMEOUT = 60000;

/* The browser the CLI opens: a CommonJS node script (no package.json near it) that
 * gets the URL as its argument, completes the verification like a person at a
 * browser, and writes what it saw to $POSTIZ_TEST_REPORT. */
const XDG_OPEN = `#!/usr/bin/env node
'use strict';
const fs = require('fs');
const report = { argv: process.argv.slice(2), steps: [] };
const done = () => fs.writeFileSync(process.env.POSTIZ_TEST_REPORT, JSON.stringify(report));
const jar = new Map();
async function req(method, url, form) {
  const headers = {};
  if (jar.size) headers.cookie = [...jar].map(([k, v]) => k + '=' + v).join('; ');
  let body;
  if (form) { body = new URLSearchParams(form).toString(); headers['content-type'] = 'application/x-www-form-urlencoded'; }
  const res = await fetch(url, { method, headers, body, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const kv = c.split(';')[0], i = kv.indexOf('=');
    if (kv.slice(i + 1) === '' || /Max-Age=0/i.test(c)) jar.delete(kv.slice(0, i)); else jar.set(kv.slice(0, i), kv.slice(i + 1));
  }
  const text = await res.text();
  report.steps.push({ method, url, status: res.status });
  return { res, text, location: res.headers.get('location') && new URL(res.headers.get('location'), url).href };
}
const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
function hidden(html) {
  const form = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) form[m[1]] = unescape(m[2]);
  return form;
}
/* The action of the form that holds marker (the page header has a sign-out form too). */
function formAction(html, marker, base) {
  for (const m of html.matchAll(/<form method="post" action="([^"]*)">([\\s\\S]*?)<\\/form>/g))
    if (m[2].includes(marker)) return new URL(unescape(m[1]), base).href;
  throw new Error('no form with ' + marker);
}
(async () => {
  const url = process.argv[2];
  // not signed in: the page sends the browser to the login form
  let r = await req('GET', url);
  if (!r.location) throw new Error('no redirect to the login page: ' + r.res.status);
  r = await req('GET', r.location);
  const login = hidden(r.text);
  const action = formAction(r.text, 'name="password"', url);
  r = await req('POST', action, { ...login, username: process.env.POSTIZ_TEST_USER, password: process.env.POSTIZ_TEST_PASSWORD });
  if (!r.location) throw new Error('sign-in failed: ' + r.res.status);
  // back at the code: the consent page
  r = await req('GET', r.location);
  report.consent = /name="action" value="approve"/.test(r.text);
  report.appNamed = /Postiz CLI/.test(r.text);
  report.warning = /Approve only if you started this yourself/.test(r.text);
  const form = hidden(r.text);
  const org = r.text.match(/name="org" value="(\\d+)"/);
  if (org) form.org = org[1];
  const consentAction = formAction(r.text, 'name="action" value="approve"', url);
  r = await req('POST', consentAction, { ...form, action: 'approve' });
  report.connected = /Device connected/.test(r.text);
  report.backToDevice = /go back to your device/.test(r.text);
})().catch((e) => { report.error = String(e && e.stack || e); }).finally(done);
`;

/* Runs the CLI with args; resolves {code, signal, stdout, stderr, timedOut}. */
function runPostiz(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [postizBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, TIMEOUT);
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr, timedOut }); });
  });
}

describe('postiz auth:login against postern', () => {
  let stack, tmp;
  before(async () => {
    // the protected API the CLI is sent to: a static list behind nginx auth_request, as
    // SPEC.md's "Protecting an existing site with nginx" (readable by nginx's workers)
    tmp = mkdtempSync(path.join(os.tmpdir(), 'postern-postiz-'));
    mkdirSync(path.join(tmp, 'api/public/v1'), { recursive: true });
    writeFileSync(path.join(tmp, 'api/public/v1/integrations'), '[]\n');
    for (const d of ['', 'api', 'api/public', 'api/public/v1']) chmodSync(path.join(tmp, d), 0o755);
    chmodSync(path.join(tmp, 'api/public/v1/integrations'), 0o644);
    stack = await startStack({ env: {
      EXTRA_CONFIG: 'device_interval = 1',
      EXTRA_NGINX: `location /api/ { auth_request /oauth/check; default_type application/json; alias ${tmp}/api/; }`,
    } });
  });
  after(async () => {
    await stack?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('the CLI logs in through the device flow and stores a token the protected API accepts', { timeout: TIMEOUT + 10000 }, async () => {
    assert.ok(existsSync(postizBin), 'npm postiz is installed (make deps)');
    const pkg = JSON.parse(readFileSync(path.resolve(here, '../node_modules/postiz/package.json'), 'utf8'));
    assert.equal(pkg.version, '2.1.0', 'the version this test was written against');
    const home = path.join(tmp, 'home'), bin = path.join(tmp, 'bin'), reportFile = path.join(tmp, 'browser.json');
    mkdirSync(home);
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'xdg-open'), XDG_OPEN, { mode: 0o755 });

    const env = {
      ...process.env,
      HOME: home,
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      POSTIZ_AUTH_SERVER: stack.url,
      POSTIZ_TEST_USER: stack.user,
      POSTIZ_TEST_PASSWORD: stack.password,
      POSTIZ_TEST_REPORT: reportFile,
    };
    delete env.POSTIZ_API_KEY;
    const r = await runPostiz(['auth:login'], env);
    const browser = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : null;
    const why = `exit ${r.code} ${r.signal ?? ''}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nbrowser: ${JSON.stringify(browser, null, 1)}`;
    assert.equal(r.timedOut, false, why);
    assert.equal(r.code, 0, why);
    assert.match(r.stdout, /Successfully authenticated/, why);

    // the browser was opened at <verification_uri>?code=<user_code>, with the code the CLI printed
    assert.ok(browser, 'the stub xdg-open ran');
    assert.equal(browser.error, undefined, why);
    const opened = new URL(browser.argv[0]);
    assert.equal(opened.origin + opened.pathname, stack.url + '/oauth/device');
    const userCode = opened.searchParams.get('code');
    assert.match(userCode, /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$/);
    assert.ok(r.stdout.includes(userCode), 'the CLI printed the same user code');
    assert.ok(r.stdout.includes(stack.url + '/oauth/device'), 'and the verification URI');
    assert.equal(browser.consent, true, 'the consent page showed');
    assert.equal(browser.appNamed, true, 'naming the CLI app');
    assert.equal(browser.warning, true, 'with the warning');
    assert.equal(browser.connected, true, 'approval succeeded');
    assert.equal(browser.backToDevice, true);

    // the credentials the CLI stored
    const file = path.join(home, '.postiz', 'credentials.json');
    assert.ok(existsSync(file), why);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const creds = JSON.parse(readFileSync(file, 'utf8'));
    assert.match(creds.accessToken, /^pat_[A-Za-z0-9]+$/);
    assert.equal(creds.apiUrl, new URL(stack.url).origin + '/api', 'the configured api_url');
    assert.match(String(creds.organizationId), /^\d+$/);
    assert.ok(r.stdout.includes(`Organization ID: ${creds.organizationId}`));

    // the token works at the protected API, as Bearer and as the raw header the CLI sends
    for (const authorization of [`Bearer ${creds.accessToken}`, creds.accessToken]) {
      const c = await fetch(stack.url + '/oauth/check', { headers: { authorization } });
      assert.equal(c.status, 204, authorization.slice(0, 7));
      assert.equal(c.headers.get('x-oauth-user'), stack.user);
      assert.equal(c.headers.get('x-oauth-client'), stack.cli_app.client_id);
      assert.equal(c.headers.get('x-oauth-organization'), String(creds.organizationId));
    }
    // the protected API lets the token through and nothing else
    const api = creds.apiUrl + '/public/v1/integrations';
    assert.equal((await fetch(api, { headers: { authorization: creds.accessToken } })).status, 200);
    assert.equal((await fetch(api)).status, 401);
    assert.equal((await fetch(api, { headers: { authorization: 'pat_' + 'x'.repeat(49) } })).status, 401);
    // and the CLI itself, with what it stored, gets through to that API
    const status = await runPostiz(['auth:status'], env);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, /Authentication method: OAuth2/);
    assert.ok(status.stdout.includes(creds.apiUrl));
    assert.match(status.stdout, /Credentials are valid\. 0 integration\(s\) connected/, status.stdout);
  });
});

/* The browser for a login through a bridge: the code-entry page of the bridge (no
 * sign-in there), then the upstream's sign-in and consent page, answered with
 * $POSTIZ_TEST_DECISION, then back to the bridge's /device/callback. One cookie jar for
 * every port, as browsers keep cookies per host. */
const BRIDGE_XDG_OPEN = XDG_OPEN.replace(/\(async \(\) => \{[\s\S]*$/, `(async () => {
  const url = process.argv[2];
  let r = await req('GET', url);
  const entry = hidden(r.text);
  const code = r.text.match(/name="user_code"[^>]* value="([^"]*)"/);
  r = await req('POST', formAction(r.text, 'name="user_code"', url), { ...entry, user_code: unescape(code[1]) });
  if (r.res.status !== 303) throw new Error('the code was not taken: ' + r.res.status + ' ' + r.text.slice(0, 300));
  report.upstream = r.location;
  // the upstream: not signed in, so its login form, then back to its authorize URL
  r = await req('GET', r.location);
  r = await req('GET', r.location);
  const login = hidden(r.text);
  r = await req('POST', formAction(r.text, 'name="password"', r.res.url), { ...login, username: process.env.POSTIZ_TEST_USER, password: process.env.POSTIZ_TEST_PASSWORD });
  if (!r.location) throw new Error('sign-in failed: ' + r.res.status);
  r = await req('GET', r.location);
  report.consent = /name="action" value="approve"/.test(r.text);
  const form = hidden(r.text);
  const org = r.text.match(/name="org" value="(\\d+)"/);
  if (org) form.org = report.org = org[1];
  r = await req('POST', formAction(r.text, 'name="action" value="approve"', r.res.url), { ...form, action: process.env.POSTIZ_TEST_DECISION });
  report.callback = r.location;
  // back at the bridge
  r = await req('GET', r.location);
  report.final = { status: r.res.status, connected: /You are signed in/.test(r.text), denied: /was not connected/.test(r.text) };
})().catch((e) => { report.error = String(e && e.stack || e); }).finally(done);
`);

describe('postiz auth:login through postern bridged to an upstream postern (the self-hosted CLI auth server)', () => {
  let upstream, bridge, app, tmp;
  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'postern-postiz-bridge-'));
    mkdirSync(path.join(tmp, 'api/public/v1'), { recursive: true });
    writeFileSync(path.join(tmp, 'api/public/v1/integrations'), '[]\n');
    for (const d of ['', 'api', 'api/public', 'api/public/v1']) chmodSync(path.join(tmp, d), 0o755);
    chmodSync(path.join(tmp, 'api/public/v1/integrations'), 0o644);
    // the upstream plays Postiz: its API behind its own token check, and the bridge's app
    upstream = await startStack({ env: {
      EXTRA_NGINX: `location /api/ { auth_request /oauth/check; default_type application/json; alias ${tmp}/api/; }`,
    } });
    const bridgePort = await freePort();
    app = JSON.parse(upstream.cli(['--json', 'app', 'create', '--name', 'Postiz CLI auth server', '--owner', 'demo',
      '--redirect-uri', `http://127.0.0.1:${bridgePort}/device/callback`]));
    assert.match(app.client_secret, /^pcs_/, 'a confidential app');
    bridge = await startStack({ env: { PORT: String(bridgePort), SEED: '0', EXTRA_CONFIG: [
      'device_interval = 1',
      `upstream_authorize_url = ${upstream.url}/oauth/authorize`,
      `upstream_token_url = ${upstream.url}/oauth/token`,
      `upstream_client_id = ${app.client_id}`,
      `upstream_client_secret = ${app.client_secret}`,
      `upstream_api_url = ${upstream.url}/api`,
    ].join('\n') } });
  });
  after(async () => {
    await bridge?.stop();
    await upstream?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /* Runs `postiz auth:login` against the bridge with a fresh HOME; the browser answers
   * the upstream's consent page with decision. */
  async function login(name, decision) {
    const home = path.join(tmp, name, 'home'), bin = path.join(tmp, name, 'bin'), reportFile = path.join(tmp, name, 'browser.json');
    mkdirSync(home, { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(bin, 'xdg-open'), BRIDGE_XDG_OPEN, { mode: 0o755 });
    const env = {
      ...process.env,
      HOME: home,
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      POSTIZ_AUTH_SERVER: bridge.url,
      POSTIZ_TEST_USER: upstream.user,
      POSTIZ_TEST_PASSWORD: upstream.password,
      POSTIZ_TEST_REPORT: reportFile,
      POSTIZ_TEST_DECISION: decision,
    };
    delete env.POSTIZ_API_KEY;
    const r = await runPostiz(['auth:login'], env);
    const browser = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : null;
    const why = `exit ${r.code} ${r.signal ?? ''}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nbrowser: ${JSON.stringify(browser, null, 1)}`;
    return { r, browser, why, env, file: path.join(home, '.postiz', 'credentials.json') };
  }

  test('a denial at the upstream ends the CLI\'s login at once with access_denied', { timeout: TIMEOUT + 10000 }, async () => {
    const { r, browser, why, file } = await login('deny', 'deny');
    assert.equal(r.timedOut, false, why);
    assert.equal(r.code, 1, why);
    assert.match(r.stderr, /Authorization failed: access_denied/, why);
    assert.equal(browser.error, undefined, why);
    assert.equal(browser.consent, true, 'the upstream showed its consent page');
    assert.equal(browser.final.denied, true, why);
    assert.ok(!existsSync(file), 'no credentials');
  });

  test('the CLI logs in through the bridge and holds the upstream\'s token and API URL', { timeout: TIMEOUT + 10000 }, async () => {
    const { r, browser, why, env, file } = await login('approve', 'approve');
    assert.equal(r.timedOut, false, why);
    assert.equal(r.code, 0, why);
    assert.match(r.stdout, /Successfully authenticated/, why);
    // the browser went from the bridge's page to the upstream and back
    const opened = new URL(browser.argv[0]);
    assert.equal(opened.origin + opened.pathname, bridge.url + '/device/verify');
    const up = new URL(browser.upstream);
    assert.equal(up.origin + up.pathname, upstream.url + '/oauth/authorize');
    assert.equal(up.searchParams.get('client_id'), app.client_id);
    assert.equal(up.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(browser.callback.startsWith(bridge.url + '/device/callback?'), browser.callback);
    assert.equal(browser.final.connected, true, why);

    const creds = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(creds.accessToken, /^pat_[A-Za-z0-9]+$/);
    assert.equal(creds.apiUrl, upstream.url + '/api');
    assert.equal(String(creds.organizationId), browser.org, 'the organization chosen at the upstream');
    // the upstream's token: its check takes it, the bridge's does not know it
    const c = await fetch(upstream.url + '/oauth/check', { headers: { authorization: creds.accessToken } });
    assert.equal(c.status, 204);
    assert.equal(c.headers.get('x-oauth-client'), app.client_id);
    assert.equal(c.headers.get('x-oauth-user'), upstream.user);
    assert.equal(c.headers.get('x-oauth-organization'), String(creds.organizationId));
    assert.equal((await fetch(bridge.url + '/oauth/check', { headers: { authorization: creds.accessToken } })).status, 401);
    // and the CLI talks to the upstream's API with it
    const status = await runPostiz(['auth:status'], env);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.ok(status.stdout.includes(upstream.url + '/api'));
    assert.match(status.stdout, /Credentials are valid\. 0 integration\(s\) connected/, status.stdout);
    // nothing of the login stays at the bridge
    assert.equal(JSON.parse(bridge.cli(['--json', 'janitor'])).devices, 0);
    assert.ok(!bridge.log('device.log').includes(creds.accessToken));
  });
});
