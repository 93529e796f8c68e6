// checkcache.test.mjs: the optional micro-cache of /oauth/check (conf/check_cache.js and
// conf/check_cache.conf, "micro-cache" in nginx.conf.example) in front of a real upstream:
// what it keeps, for how long, under which key, and what it never keeps.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, root } from '../lib/stack.mjs';
import { echoUpstream, protectedLocations } from '../lib/site.mjs';

const TTL = 2; // seconds: CHECK_CACHE, the stack's fastcgi_cache_valid for the 204

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Every file of the nginx cache folder, with its bytes. */
function cacheFiles(dir) {
  const out = [];
  const walk = (d) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ path: p, bytes: readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}

describe('micro-cache of the check', () => {
  let stack, up, cacheDir;
  const issue = (scope = 'profile') =>
    JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id, '--scope', scope])).access_token;
  const newestTokenId = () => {
    const list = JSON.parse(stack.cli(['--json', 'token', 'list', '--user', 'demo']));
    assert.ok(list.length > 0, 'token list is empty');
    return list[list.length - 1].id;
  };
  const get = (p, auth, method = 'GET') =>
    fetch(stack.url + p, { method, headers: auth === undefined ? {} : { authorization: auth } });

  before(async () => {
    up = await echoUpstream();
    stack = await startStack({ env: { CHECK_CACHE: String(TTL), EXTRA_NGINX: protectedLocations(up.port) } });
    cacheDir = path.join(stack.dir, 'check-cache');
  });
  after(async () => {
    if (stack) await stack.stop();
    if (up) await up.close();
  });

  test('a live token passes from the cache until its time is up, even once revoked', async () => {
    const tok = issue();
    const id = newestTokenId();
    let r = await get('/api/items', `Bearer ${tok}`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).headers['x-oauth-user'], 'demo');
    stack.cli(['token', 'revoke', String(id)]);
    // postern already refuses it; the cached answer (with the identity) still passes
    r = await get('/oauth/check', `Bearer ${tok}`);
    assert.equal(r.status, 204, 'the check location itself answers from the cache');
    r = await get('/api/items', `Bearer ${tok}`);
    assert.equal(r.status, 200, 'within the cache time the revoked token still passes');
    const body = await r.json();
    assert.equal(body.headers['x-oauth-user'], 'demo');
    assert.equal(body.headers['x-oauth-scope'], 'profile');
    assert.equal(body.headers.authorization, undefined);
    // auth_request's subrequest is a GET whatever the method: a PUT rides on the same entry
    r = await get('/api/items', `Bearer ${tok}`, 'PUT');
    assert.equal(r.status, 200);
    // nginx counts whole seconds: an entry lives until the end of its last second
    await sleep((TTL + 1) * 1000 + 300);
    r = await get('/api/items', `Bearer ${tok}`);
    assert.equal(r.status, 401, `after ${TTL} + 1 s the revoked token is refused`);
  });

  test('an entry renewed after its time ends on time too (nginx keeps cache files open)', async () => {
    const tok = issue();
    const id = newestTokenId();
    assert.equal((await get('/api/renew', `Bearer ${tok}`)).status, 200);
    await sleep((TTL + 1) * 1000 + 300);
    // expired: postern is asked again and the entry is written anew
    assert.equal((await get('/api/renew', `Bearer ${tok}`)).status, 200);
    stack.cli(['token', 'revoke', String(id)]);
    assert.equal((await get('/api/renew', `Bearer ${tok}`)).status, 200, 'the renewed entry serves');
    await sleep((TTL + 1) * 1000 + 300);
    assert.equal((await get('/api/renew', `Bearer ${tok}`)).status, 401, 'the renewed entry outlived its time');
    assert.equal((await get('/api/renew', `Bearer ${tok}`)).status, 401);
  });

  test('a burst of calls with a new token is not held back by the cache', async () => {
    // with fastcgi_cache_lock, all but the first waited for a 500 ms poll
    for (let round = 0; round < 3; round++) {
      const tok = issue();
      const times = await Promise.all(Array.from({ length: 12 }, async () => {
        const t0 = performance.now();
        const r = await get('/api/burst', `Bearer ${tok}`);
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        return performance.now() - t0;
      }));
      assert.ok(Math.max(...times) < 450, `a call took ${Math.round(Math.max(...times))} ms`);
    }
  });

  test('the cache key is a hash: no token and no Authorization header in any cache file', async () => {
    const tok = issue();
    assert.equal((await get('/api/a', `Bearer ${tok}`)).status, 200);
    assert.equal((await get('/api/a', tok)).status, 200, 'the raw Postiz form passes too');
    const files = cacheFiles(cacheDir);
    assert.ok(files.length >= 2, `no cache files in ${cacheDir}`);
    const keyOf = (h) => createHash('sha256').update(h).digest('base64url');
    const all = Buffer.concat(files.map((f) => f.bytes)).toString('latin1');
    assert.ok(!all.includes(tok), 'a cache file holds the token');
    assert.ok(!all.includes(tok.slice(4, 30)), 'a cache file holds part of the token');
    assert.ok(all.includes(`KEY: ${keyOf(`Bearer ${tok}`)} /oauth/check?`), 'the key is the SHA-256 of the header');
    assert.ok(all.includes(`KEY: ${keyOf(tok)} /oauth/check?`));
  });

  test('refusals are never cached: unknown, missing and malformed tokens, a missing scope', async () => {
    const before = cacheFiles(cacheDir).length;
    const unknown = 'pat_' + 'A'.repeat(49);
    for (let i = 0; i < 2; i++) {
      assert.equal((await get('/api/x', `Bearer ${unknown}`)).status, 401);
      assert.equal((await get('/api/x')).status, 401);
      assert.equal((await get('/api/x', 'Bearer ')).status, 401);
    }
    // the check's query is part of the key: a token cached for /api/ is still
    // refused where it lacks the scope, and that 403 is not kept
    const tok = issue('profile');
    assert.equal((await get('/api/y', `Bearer ${tok}`)).status, 200);
    const cachedOne = cacheFiles(cacheDir).length;
    assert.equal(cachedOne, before + 1, 'only the 204 of the live token was kept');
    for (let i = 0; i < 2; i++) assert.equal((await get('/write/y', `Bearer ${tok}`)).status, 403);
    assert.equal(cacheFiles(cacheDir).length, cachedOne, 'a 403 was cached');
    // a token with the scope passes there, cached under its own key
    const writer = issue('profile posts:write');
    assert.equal((await get('/write/y', `Bearer ${writer}`)).status, 200);
    assert.equal(cacheFiles(cacheDir).length, cachedOne + 1);
  });

  test('one token never answers for another', async () => {
    const a = issue();
    assert.equal((await get('/api/z', `Bearer ${a}`)).status, 200);
    const b = a.slice(0, -7) + (a.at(-7) === 'A' ? 'B' : 'A') + a.slice(-6); // checksum now wrong
    assert.equal((await get('/api/z', `Bearer ${b}`)).status, 401);
    const c = issue();
    stack.cli(['token', 'revoke', String(newestTokenId())]);
    assert.equal((await get('/api/z', `Bearer ${c}`)).status, 401, 'a revoked token rode on a cached one');
  });
});

describe('nginx.conf.example', () => {
  /* The example as an admin installs it (paths pointed at this checkout, a throwaway
   * certificate), inside a minimal nginx.conf: `nginx -t` must accept it. */
  function nginxTest(withCache) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-example-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=example.com', '-days', '1',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
      let text = readFileSync(path.join(root, 'nginx.conf.example'), 'utf8')
        .replaceAll('/usr/local/share/postern/', `${root}/conf/`)
        .replace(/ssl_certificate +\S+;/, `ssl_certificate ${dir}/cert.pem;`)
        .replace(/ssl_certificate_key +\S+;/, `ssl_certificate_key ${dir}/key.pem;`)
        .replaceAll('/var/cache/nginx/postern-check', `${dir}/check-cache`);
      if (withCache) {
        const lines = ['js_import', 'js_set', 'map $postern_token_key', 'fastcgi_cache_path', 'fastcgi_cache_valid', 'include'];
        let n = 0;
        text = text.replace(/^(\s*)#((\S+).*)$/gm, (all, sp, rest) => {
          if (!lines.some((l) => rest.startsWith(l)) || (rest.startsWith('include') && !rest.includes('check_cache'))) return all;
          n++;
          return sp + rest;
        });
        assert.equal(n, 6, 'the micro-cache is not six commented lines in nginx.conf.example');
      }
      writeFileSync(path.join(dir, 'postern.conf'), text);
      writeFileSync(path.join(dir, 'nginx.conf'), `${withCache ? 'load_module /usr/lib/nginx/modules/ngx_http_js_module.so;' : ''}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body; fastcgi_temp_path ${dir}/fastcgi; proxy_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  include ${dir}/postern.conf;
}
`);
      const r = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
      assert.equal(r.status, 0, `nginx -t refused nginx.conf.example${withCache ? ' with the micro-cache' : ''}:\n${r.stderr}`);
      return text;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('nginx -t accepts it as shipped', () => {
    assert.ok(!nginxTest(false).match(/^\s*fastcgi_cache /m), 'the micro-cache is on by default');
  });

  test('nginx -t accepts it with the micro-cache lines uncommented', () => {
    assert.match(nginxTest(true), /^\s*include \S+check_cache\.conf;/m);
  });
});
