// lint.test.mjs: `make lint` (tools/lint.mjs) passes on the tree, and fails on SQL or a
// database API call outside the storage module (issue 12), naming the file and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { root } from '../lib/stack.mjs';

const lint = (args = []) => spawnSync('node', [path.join(root, 'tools/lint.mjs'), ...args], { encoding: 'utf8' });

test('the tree passes: routes agree with both nginx configs, no SQL outside the storage module', () => {
  const r = lint();
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /no SQL in \d+ C files outside the storage module/);
});

test('a statement or an SQLite call outside lib/sql.c, lib/db*.c and lib/store*.c fails the lint', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-lint-'));
  try {
    for (const d of ['lib', 'cgi', 'cli', 'bench', 'tools']) cpSync(path.join(root, d), path.join(dir, d), { recursive: true });
    cpSync(path.join(root, 'nginx.conf.example'), path.join(dir, 'nginx.conf.example'));
    assert.equal(lint(['--root', dir]).status, 0, 'the copy passes before');
    writeFileSync(path.join(dir, 'cgi', 'sneaky.c'), '/* sneaky.c */\nstatic const char q[] = "DELETE FROM tokens WHERE id = ?";\n');
    writeFileSync(path.join(dir, 'lib', 'sneaky2.c'), '/* sneaky2.c */\nvoid f(void) { sqlite3_exec(0, 0, 0, 0, 0); }\n');
    // the storage module itself may hold SQL
    writeFileSync(path.join(dir, 'lib', 'store_extra.c'), '/* store_extra.c */\nstatic const char q[] = "SELECT 1 FROM users";\n');
    const r = lint(['--root', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cgi\/sneaky\.c:2: SQL outside the storage module: "DELETE FROM tokens/);
    assert.match(r.stderr, /lib\/sneaky2\.c:2: SQL outside the storage module: sqlite3_exec/);
    assert.doesNotMatch(r.stderr, /store_extra/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
