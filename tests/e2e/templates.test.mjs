// templates.test.mjs: an administrator's template folder (templates_override) takes
// precedence over the built-in templates without a rebuild, only for the files it has,
// and its slots are escaped like the built-in ones.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { Session } from '../lib/client.mjs';

describe('templates_override', () => {
  let stack, dir;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'postern-tpl-'));
    // a site's own sign-in page: its wording, the built-in header and footer, the same slots
    writeFileSync(path.join(dir, 'login.html'),
      '{{>header}}<h1>Sign in to Example Corp</h1><p class="site-note">Use your Example Corp account.</p>'
      + '{{#error}}<p class="error">{{error}}</p>{{/error}}'
      + '<form method="post" action="{{base}}/oauth/login"><input type="hidden" name="csrf" value="{{csrf}}">'
      + '<input type="hidden" name="return_to" value="{{return_to}}">'
      + '<label for="u">User name</label><input id="u" name="username" value="{{username}}">'
      + '<label for="p">Password</label><input id="p" name="password" type="password">'
      + '<button>Sign in</button></form>{{>footer}}');
    stack = await startStack({ env: { EXTRA_CONFIG: `templates_override = ${dir}` } });
  });
  after(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the admin's login page is served, with the built-in header and the page headers", async () => {
    const r = await new Session(stack.url).get('/oauth/login');
    assert.equal(r.status, 200);
    assert.match(r.text_, /<h1>Sign in to Example Corp<\/h1>/);
    assert.match(r.text_, /<link rel="stylesheet" href="\/oauth\/static\/style.css">/, 'the built-in header partial');
    assert.match(r.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  });

  test('it still signs people in, and its slots are escaped', async () => {
    const s = new Session(stack.url);
    const csrf = await s.csrf('/oauth/login');
    const bad = await s.post('/oauth/login', { form: { csrf, username: '<img src=x onerror=alert(1)>"', password: 'wrong', return_to: '/oauth/apps' } });
    assert.equal(bad.status, 401);
    assert.match(bad.text_, /Sign in to Example Corp/);
    assert.ok(!bad.text_.includes('<img src=x'), 'the typed name is not markup');
    assert.match(bad.text_, /value="&lt;img src=x onerror=alert\(1\)&gt;&quot;"/);
    const ok = await s.signIn(stack.user, stack.password);
    assert.equal(ok.headers.get('location'), '/oauth/apps');
  });

  test('pages the folder does not have come from the built-in templates', async () => {
    const s = new Session(stack.url);
    await s.signIn(stack.user, stack.password);
    const r = await s.get('/oauth/approved');
    assert.equal(r.status, 200);
    assert.match(r.text_, /<h1>Approved apps<\/h1>/);
    const e = await s.get('/oauth/authorize?client_id=pca_nobody&response_type=code');
    assert.equal(e.status, 400);
    assert.match(e.text_, /class="error"/);
  });
});
