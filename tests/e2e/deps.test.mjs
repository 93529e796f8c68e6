// deps.test.mjs: `make run` installs and needs only what the server needs; `make test`
// brings the test tools (issue 13, item 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { root } from '../lib/stack.mjs';

const list = (what) => execFileSync(path.join(root, 'tools/deps.sh'), ['--list', what], { encoding: 'utf8' }).trim().split('\n');
const TEST_TOOLS = ['chromium', 'clang', 'wrk', 'nodejs', 'npm', 'jq', 'libnginx-mod-http-js', 'postgresql'];

test('the server list has what building and running need, and no test tool', () => {
  const server = list('server');
  for (const p of ['build-essential', 'pkg-config', 'libfcgi-dev', 'libsqlite3-dev', 'libpq-dev', 'libsodium-dev', 'libcjson-dev', 'libcurl4-openssl-dev', 'nginx-light', 'spawn-fcgi'])
    assert.ok(server.includes(p), `server lacks ${p}`);
  for (const p of TEST_TOOLS) assert.ok(!server.includes(p), `server installs the test tool ${p}`);
  const all = list('all');
  for (const p of [...server, ...TEST_TOOLS]) assert.ok(all.includes(p), `all lacks ${p}`);
});

test('make run asks for the server list only; make test for everything', () => {
  const dry = (target) => execFileSync('make', ['-n', '-C', root, target], { encoding: 'utf8' });
  assert.match(dry('run'), /tools\/deps\.sh server/);
  assert.doesNotMatch(dry('run'), /tools\/deps\.sh all/);
  assert.match(dry('test'), /tools\/deps\.sh all/);
});

test('a wrong argument is refused with its usage', () => {
  assert.throws(() => execFileSync(path.join(root, 'tools/deps.sh'), ['tests'], { stdio: 'pipe' }), /usage: tools\/deps\.sh/);
});
