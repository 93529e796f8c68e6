// demo.test.mjs: what `make run` shows a newcomer: the bare address leads to the pages, and
// the demo app's redirect URI shows the code it got with the exact command that redeems it
// (the demo app's credentials filled in); running that command gives a working token.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { Session, authorize, check } from '../lib/client.mjs';

describe('the demo of make run', () => {
  let stack;
  before(async () => { stack = await startStack(); });
  after(async () => { await stack?.stop(); });

  test('the bare address leads to the pages', async () => {
    const r = await fetch(stack.url + '/', { redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.get('location'), stack.url + '/oauth/apps');
  });

  test('the demo callback shows the code and a command that redeems it', async () => {
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const cb = stack.app.redirect_uris[0];
    const a = await authorize(s, { client_id: stack.app.client_id, redirect_uri: cb, state: 'd' });
    assert.ok(a.code, `no code: ${a.status} ${a.location}`);
    const page = await fetch(a.location);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/plain/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const text = await page.text();
    assert.ok(text.includes(a.code), 'the code is shown');
    const cmd = text.split('\n').find((l) => l.trim().startsWith('curl '));
    assert.ok(cmd, text);
    // the command, run as a shell would: -u ID:SECRET, -d fields, the token URL
    const words = cmd.trim().split(/\s+/);
    const [id, secret] = words[words.indexOf('-u') + 1].split(':');
    assert.equal(id, stack.app.client_id);
    assert.equal(secret, stack.app.client_secret);
    const body = new URLSearchParams();
    words.forEach((w, i) => { if (w === '-d') { const [k, v] = words[i + 1].split('='); body.append(k, v); } });
    assert.equal(body.get('code'), a.code);
    const url = words[words.length - 1];
    assert.equal(url, stack.url + '/oauth/token');
    const t = await fetch(url, { method: 'POST', body, headers: { authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64') } });
    const tok = await t.json();
    assert.equal(t.status, 200, JSON.stringify(tok));
    assert.equal(await check(stack.url, tok.access_token), 204);
  });
});
