// limits.test.mjs: nginx's request limits in front of the endpoints people could hammer:
// password guessing at sign-in, the token endpoint, and open registration (RFC 7591).
// Over its burst a client gets 429, the servers behind see nothing more, and a client at
// another address is not affected.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';

const from = (addr) => ({ 'x-forwarded-for': addr });

describe('request limits', () => {
  let stack;
  before(async () => {
    stack = await startStack({ env: {
      LOGIN_RATE: '1r/m', TOKEN_RATE: '1r/m', REGISTER_RATE: '1r/m',
      EXTRA_CONFIG: 'registration = on',
      EXTRA_NGINX: 'set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;',
    } });
  });
  after(async () => { await stack?.stop(); });

  /* Sends n requests; returns their statuses. */
  async function hammer(n, path, init) {
    const out = [];
    for (let i = 0; i < n; i++) {
      const r = await fetch(stack.url + path, { redirect: 'manual', ...init });
      await r.arrayBuffer();
      out.push(r.status);
    }
    return out;
  }

  test('sign-in: past a burst of 50, 429 until the rate allows again', async () => {
    const s = await hammer(53, '/oauth/login', { headers: from('10.1.0.1') });
    assert.deepEqual(s.slice(0, 51).filter((x) => x !== 200), [], 'the burst is served');
    assert.deepEqual(s.slice(51), [429, 429]);
    assert.equal((await hammer(1, '/oauth/login', { headers: from('10.1.0.2') }))[0], 200, 'another address');
  });

  test('token endpoint: past a burst of 100, 429', async () => {
    const init = { method: 'POST', headers: { ...from('10.2.0.1'), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=authorization_code&code=x' };
    const s = await hammer(103, '/oauth/token', init);
    assert.ok(s.slice(0, 101).every((x) => x === 401 || x === 400), `served: ${[...new Set(s.slice(0, 101))]}`);
    assert.deepEqual(s.slice(101), [429, 429]);
  });

  test('registration: past a burst of 5, 429, and no more apps are created', async () => {
    const before = JSON.parse(stack.cli(['--json', 'app', 'list'])).length;
    const body = JSON.stringify({ client_name: 'Agent', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' });
    const s = await hammer(9, '/oauth/register', { method: 'POST', headers: { ...from('10.3.0.1'), 'content-type': 'application/json' }, body });
    assert.deepEqual(s, [201, 201, 201, 201, 201, 201, 429, 429, 429]);
    assert.equal(JSON.parse(stack.cli(['--json', 'app', 'list'])).length, before + 6);
  });
});
