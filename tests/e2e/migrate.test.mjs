// migrate.test.mjs: a database written by an older postern (schema 1: an index per
// code on tokens) is brought up to date, by `postern init` or by the servers when they
// start, exactly once, and every token in it keeps working; a newer one is refused.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { check } from '../lib/client.mjs';

const sql = (db, q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, q], { encoding: 'utf8' }).trim();

/* Puts back what schema 1 had. */
function downgrade(db) {
  sql(db, 'CREATE INDEX tokens_code ON tokens(code_hash) WHERE code_hash IS NOT NULL; PRAGMA user_version = 1;');
}

describe('schema migration', () => {
  let stack, db;
  before(async () => {
    stack = await startStack();
    db = path.join(stack.dir, 'postern.db');
  });
  after(async () => { await stack?.stop(); });

  const issue = () => JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id])).access_token;
  const hasCodeIndex = () => sql(db, "SELECT count(*) FROM sqlite_master WHERE name = 'tokens_code'") === '1';

  test('`postern init` brings a schema 1 database up to date; its tokens keep working', async () => {
    const tokens = [issue(), issue()];
    downgrade(db);
    assert.equal(sql(db, 'PRAGMA user_version'), '1');
    assert.ok(hasCodeIndex());
    stack.cli(['init']);
    assert.equal(sql(db, 'PRAGMA user_version'), '2');
    assert.ok(!hasCodeIndex(), 'the index schema 2 dropped is gone');
    for (const t of tokens) assert.equal(await check(stack.url, t), 204);
    assert.equal(await check(stack.url, issue()), 204);
  });

  test('servers starting on a schema 1 database bring it up to date once, and serve its tokens', async () => {
    const t = issue();
    downgrade(db);
    await stack.restart();
    assert.equal(sql(db, 'PRAGMA user_version'), '2');
    assert.ok(!hasCodeIndex());
    assert.equal(await check(stack.url, t), 204);
    const logs = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device'].map((c) => stack.log(`${c}.log`)).join('');
    assert.equal((logs.match(/schema 1 brought up to 2/g) || []).length, 1, 'exactly one process did it');
  });

  test('a database from a newer postern is refused by the admin command and the servers', async () => {
    sql(db, 'PRAGMA user_version = 99');
    const r = stack.cliRun(['init']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /schema 99 is newer than this postern \(2\)/);
    await assert.rejects(stack.restart(), /did not come up/);
    assert.match(stack.log('token.log'), /schema 99 is newer than this postern/);
    sql(db, 'PRAGMA user_version = 2');
    await stack.restart();
    assert.equal(await check(stack.url, issue()), 204);
  });
});
