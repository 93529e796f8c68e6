// cli.test.mjs: the admin command as a script and a self-hoster use it: help for each
// command, JSON output, passwords never from argv, clear refusals that change nothing,
// the janitor keeping the database small, and a backup that restores to a working server.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { startStack, backend, blobLiteral, unixNow } from '../lib/stack.mjs';
import { check } from '../lib/client.mjs';

describe('the admin command', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { EXTRA_CONFIG: 'code_ttl = 1\nsession_ttl = 60' } }); });
  after(async () => { await stack?.stop(); });

  const sql = (q) => stack.sql(q);

  test('--help explains each command on its own', () => {
    for (const [cmd, want] of [['init', /--base-url/], ['user', /first line of F, or of stdin/], ['org', /org member ORG_ID USER/],
      ['app', /the only time\nit is shown/], ['token', /token issue --user NAME/], ['janitor', /Deletes expired codes/], ['backup', /secret\nkey file/]]) {
      const out = stack.cli([cmd, '--help']);
      assert.match(out, new RegExp(`^usage: postern ${cmd}`), cmd);
      assert.match(out, want, cmd);
    }
    assert.match(stack.cli(['--help']), /`postern COMMAND --help` explains one command/);
  });

  test('a password is never taken from the command line, and an empty one is refused', () => {
    const r = stack.cliRun(['user', 'add', 'eve', '--password', 'secret123']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown option --password/);
    const empty = stack.cliRun(['user', 'add', 'eve'], '\n');
    assert.notEqual(empty.status, 0);
    assert.equal(sql("SELECT count(*) FROM users WHERE name = 'eve'"), '0', 'nothing half-written');
  });

  test('users: add, list as JSON, a duplicate refused, delete takes their apps along', () => {
    stack.cli(['user', 'add', 'frank'], 'frank-password-1\n');
    const users = JSON.parse(stack.cli(['--json', 'user', 'list']));
    assert.ok(users.some((u) => u.name === 'frank'));
    const dup = stack.cliRun(['user', 'add', 'frank'], 'another-password\n');
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /exist/);
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Frank app', '--owner', 'frank', '--redirect-uri', 'https://frank.example/cb']));
    const t = JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'frank', '--app', app.client_id]));
    stack.cli(['user', 'del', 'frank']);
    assert.equal(sql(`SELECT count(*) FROM apps WHERE client_id = '${app.client_id}'`), '0');
    return check(stack.url, t.access_token).then((s) => assert.equal(s, 401));
  });

  test('app create refuses bad redirect URIs with the reason, and writes nothing', () => {
    const before = sql('SELECT count(*) FROM apps');
    for (const uri of ['http://example.com/cb', 'https://x.example/cb#frag', 'not a uri']) {
      const r = stack.cliRun(['app', 'create', '--name', 'Bad', '--redirect-uri', uri]);
      assert.notEqual(r.status, 0, uri);
      assert.match(r.stderr, /must be absolute https/, uri);
    }
    assert.equal(sql('SELECT count(*) FROM apps'), before);
  });

  test('app and organization names with an invisible or control character are refused naming it, and write nothing', () => {
    const apps = sql('SELECT count(*) FROM apps'), orgs = sql('SELECT count(*) FROM orgs');
    const uri = ['--redirect-uri', 'https://x.example/cb'];
    for (const [args, msg] of [
      [['--name', 'Good\u202Egpj.exe'], /--name contains an invisible or control character \(U\+202E\)/],
      [['--name', 'Pay\u200Bpal'], /--name contains an invisible or control character \(U\+200B\)/],
      [['--name', 'Tag\u{E0041}'], /\(U\+E0041\)/],
      [['--name', 'Two\nlines'], /--name contains an invisible or control character \(U\+000A\)/],
      [['--name', 'Fine', '--description', 'Hidden\u2066text'], /--description contains an invisible or control character \(U\+2066\)/],
      [['--name', 'Fine', '--description', 'Esc\u001b[31m'], /--description contains an invisible or control character \(U\+001B\)/],
    ]) {
      const r = stack.cliRun(['app', 'create', ...args, ...uri]);
      assert.notEqual(r.status, 0, JSON.stringify(args));
      assert.match(r.stderr, msg, JSON.stringify(args));
    }
    for (const [name, cp] of [['Acme\u202Eevil', 'U\\+202E'], ['Soft\u00ADhyphen', 'U\\+00AD'], ['C1\u0085', 'U\\+0085']]) {
      const r = stack.cliRun(['org', 'add', name, '--owner', 'demo']);
      assert.notEqual(r.status, 0, name);
      assert.match(r.stderr, new RegExp(`the organization name contains an invisible or control character \\(${cp}\\)`), name);
    }
    assert.equal(sql('SELECT count(*) FROM apps'), apps);
    assert.equal(sql('SELECT count(*) FROM orgs'), orgs);
    // any script, emoji, and line breaks in a description are fine
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Émile 日本 ❤️', '--description', 'Two\nlines', ...uri]));
    assert.equal(sql(`SELECT name || '|' || description FROM apps WHERE client_id = '${app.client_id}'`), 'Émile 日本 ❤️|Two\nlines');
    stack.cli(['org', 'add', 'Ωmega Ltd', '--owner', 'demo']);
    assert.equal(sql("SELECT count(*) FROM orgs WHERE name = 'Ωmega Ltd'"), '1');
  });

  test('the janitor removes expired codes and sessions and reports it as JSON; a redeemed code\'s token stays', async () => {
    // an expired code and an expired session, as a day of traffic leaves them
    const live = JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id])).access_token;
    sql(`INSERT INTO tokens (kind, code_hash, grant_id, redirect_uri, redirect_given, scope, code_expires, created)
         SELECT 0, ${blobLiteral(stack, randomBytes(32))}, id, 'https://x/cb', 0, 'profile', 1, 1 FROM grants LIMIT 1`);
    // the live token as if it came from a code that expired after its redemption
    sql(`UPDATE tokens SET code_hash = ${blobLiteral(stack, randomBytes(32))}, code_expires = 1 WHERE id = (SELECT max(id) FROM tokens WHERE kind = 1)`);
    sql(`INSERT INTO sessions (hash, user_id, created, expires) SELECT ${blobLiteral(stack, randomBytes(32))}, id, 1, 2 FROM users LIMIT 1`);
    const out = JSON.parse(stack.cli(['--json', 'janitor']));
    assert.ok(out.codes >= 1, JSON.stringify(out));
    assert.ok(out.sessions >= 1, JSON.stringify(out));
    const now = unixNow();
    assert.equal(sql(`SELECT count(*) FROM tokens WHERE kind = 0 AND code_expires <= ${now}`), '0');
    assert.equal(sql(`SELECT count(*) FROM tokens WHERE code_expires <= ${now}`), '0', 'redeemed codes left in the code_expires index');
    assert.equal(sql(`SELECT count(*) FROM sessions WHERE expires <= ${now}`), '0');
    assert.equal(await check(stack.url, live), 204, 'the janitor took a live token');
  });

  test('backup: an online copy that a fresh server reads, tokens included; it never overwrites',
    { skip: backend === 'pg' && 'the backup is an SQLite file; a PostgreSQL database is refused (the next test)' }, async () => {
    const t = JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id])).access_token;
    const file = path.join(stack.dir, 'backup.db');
    stack.cli(['backup', file]);
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = stack.cliRun(['backup', file]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /exists; choose a new file/);
    // a token issued after the backup is not in it
    const later = JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id])).access_token;
    // restore: servers stopped, the copy in place of the database, the same key
    await stack.down();
    for (const ext of ['-wal', '-shm']) rmSync(stack.database + ext, { force: true });
    copyFileSync(file, stack.database);
    stack.up();
    assert.equal(await check(stack.url, later), 401);
    assert.equal(await check(stack.url, t), 204);
  });

  test('backup of a PostgreSQL database is refused, naming pg_dump, and writes no file',
    { skip: backend !== 'pg' && 'only a PostgreSQL database is refused' }, () => {
    const file = path.join(stack.dir, 'backup-pg.db');
    const r = stack.cliRun(['backup', file]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /pg_dump/);
    assert.ok(!existsSync(file), 'a file was written');
  });
});
