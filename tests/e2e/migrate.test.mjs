// migrate.test.mjs: a database written by an older postern (schema 2: tokens with a
// counted rowid and a UNIQUE index on the hash) is brought up to date, by `postern init`
// or by the servers when they start, and every token in it keeps working.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startStack } from '../lib/stack.mjs';
import { check } from '../lib/client.mjs';

/* Rewrites the tokens table the way schema 2 had it. */
function downgrade(db) {
  execFileSync('sqlite3', [db], { input: `
    PRAGMA foreign_keys = OFF;
    BEGIN IMMEDIATE;
    CREATE TABLE tokens_old (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, kind INTEGER NOT NULL,
      grant_id INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE, code_hash BLOB,
      scope TEXT NOT NULL, resource TEXT, created INTEGER NOT NULL, expires INTEGER, last_used INTEGER);
    INSERT INTO tokens_old (hash, kind, grant_id, code_hash, scope, resource, created, expires, last_used)
      SELECT hash, kind, grant_id, code_hash, scope, resource, created, expires, last_used FROM tokens ORDER BY created;
    DROP TABLE tokens;
    ALTER TABLE tokens_old RENAME TO tokens;
    CREATE INDEX tokens_grant ON tokens(grant_id);
    CREATE INDEX tokens_code ON tokens(code_hash) WHERE code_hash IS NOT NULL;
    PRAGMA user_version = 2;
    COMMIT;` });
}

const sql = (db, q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();

describe('schema migration', () => {
  let stack, db;
  before(async () => {
    stack = await startStack();
    db = path.join(stack.dir, 'postern.db');
  });
  after(async () => { await stack?.stop(); });

  const issue = () => JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id])).access_token;

  test('`postern init` migrates a schema 2 database; its tokens keep working', async () => {
    const tokens = [issue(), issue(), issue()];
    downgrade(db);
    assert.equal(sql(db, 'PRAGMA user_version'), '2');
    assert.deepEqual(sql(db, 'SELECT id FROM tokens ORDER BY id').split('\n'), ['1', '2', '3']);
    stack.cli(['init']);
    assert.equal(sql(db, 'PRAGMA user_version'), '3');
    assert.equal(sql(db, 'SELECT count(*) FROM tokens'), '3');
    assert.equal(sql(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('tokens_code', 'tokens_v2') OR sql LIKE '%hash BLOB NOT NULL UNIQUE%'"), '0');
    assert.equal(sql(db, "SELECT count(*) FROM sqlite_master WHERE name = 'tokens_grant'"), '1');
    for (const t of tokens) assert.equal(await check(stack.url, t), 204);
    const fresh = issue();
    assert.equal(await check(stack.url, fresh), 204);
    // revoking by the id the admin command lists still works
    const row = JSON.parse(stack.cli(['--json', 'token', 'list'])).find((x) => x.created && x.kind === 'access');
    stack.cli(['token', 'revoke', String(row.id)]);
    assert.equal(sql(db, `SELECT count(*) FROM tokens WHERE id = ${row.id}`), '0');
  });

  test('servers starting on a schema 2 database migrate it once, and serve its tokens', async () => {
    const t = issue();
    downgrade(db);
    await stack.restart();
    assert.equal(sql(db, 'PRAGMA user_version'), '3');
    assert.equal(await check(stack.url, t), 204);
    const log = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device'].map((c) => stack.log(`${c}.log`)).join('');
    assert.equal((log.match(/schema 2 migrated to 3/g) || []).length, 1, 'exactly one process migrated');
  });

  test('a database from a newer postern is refused, not damaged', () => {
    sql(db, 'PRAGMA user_version = 99');
    const r = stack.cliRun(['init']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /schema 99 is newer than this postern \(3\)/);
    sql(db, 'PRAGMA user_version = 3');
  });
});
