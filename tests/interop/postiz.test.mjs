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
import { startStack } from '../lib/stack.mjs';

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
