// cookies.test.mjs: the Secure flag of postern's cookies follows SPEC ("Every response"):
// on unless the base URL is plain http on loopback, whatever cookie_secure forces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';

async function loginCookies(extra) {
  const stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: extra } });
  try {
    const r = await fetch(stack.url + '/oauth/login', { redirect: 'manual' });
    await r.arrayBuffer();
    assert.equal(r.status, 200);
    const cookies = r.headers.getSetCookie();
    assert.ok(cookies.length > 0, 'the login page sets its CSRF cookie');
    return cookies;
  } finally {
    await stack.stop();
  }
}

test('plain http on a public name: Secure, HttpOnly, SameSite=Lax', async () => {
  // a later base_url line wins: the site claims a public http address
  for (const c of await loginCookies('base_url = http://postern.example'))
    assert.match(c, /; HttpOnly; SameSite=Lax; Secure/, c);
});

test('https base URL: Secure; cookie_secure = off forces it off', async () => {
  for (const c of await loginCookies('base_url = https://postern.example'))
    assert.match(c, /; Secure/, c);
  for (const c of await loginCookies('base_url = https://postern.example\ncookie_secure = off'))
    assert.doesNotMatch(c, /Secure/, c);
});
