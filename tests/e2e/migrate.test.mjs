// migrate.test.mjs: a database written by an older postern (schema 1: an index per code
// on tokens; schema 2: without it; both with codes in a table of their own) is brought up
// to date, by `postern init` or by the servers when they start, exactly once, and every
// token in it keeps working, ids and all; a newer one is refused. Schemas 1 to 4 were
// SQLite's only: on PostgreSQL, which starts at schema 5, only the refusal runs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomUUID, createHash, sign } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, backend, sqlOn, createDatabase, dropDatabase, root } from '../lib/stack.mjs';
import { check, Session, tokenFor } from '../lib/client.mjs';

const sql = sqlOn;
const SQLITE_ONLY = { skip: backend === 'pg' && 'schemas 1 to 4 were SQLite only: a PostgreSQL database starts at schema 5' };

/* Puts back schema 8: no DPoP columns, no dpop_proofs. */
const DOWN8 = `ALTER TABLE apps DROP COLUMN require_dpop; ALTER TABLE tokens DROP COLUMN jkt;
  DROP TABLE IF EXISTS dpop_proofs;`;

/* Puts back schema 7: no self-registration columns or token format on apps, no client_tokens
 * or client_documents. */
const DOWN7 = `${DOWN8} ALTER TABLE apps DROP COLUMN token_endpoint_auth_method; ALTER TABLE apps DROP COLUMN application_type;
  ALTER TABLE apps DROP COLUMN registration_token_hash; ALTER TABLE apps DROP COLUMN client_uri;
  ALTER TABLE apps DROP COLUMN policy_uri; ALTER TABLE apps DROP COLUMN tos_uri;
  ALTER TABLE apps DROP COLUMN access_token_format; DROP TABLE IF EXISTS client_tokens;
  DROP TABLE IF EXISTS client_documents;`;

/* Puts back schema 5: no OpenID Connect columns, no signing keys. */
const DOWN5 = `ALTER TABLE users DROP COLUMN email; ALTER TABLE users DROP COLUMN full_name;
  ALTER TABLE tokens DROP COLUMN nonce; ALTER TABLE tokens DROP COLUMN auth_time;
  ALTER TABLE apps DROP COLUMN id_token_signed_response_alg; DROP TABLE IF EXISTS keys;
  ALTER TABLE apps DROP COLUMN post_logout_redirect_uris; ${DOWN7}`;

/* Puts back schema 4: no table for bridged device logins. */
function downgrade4(db) {
  sql(db, `BEGIN; ${DOWN5} DROP TABLE bridge_devices; PRAGMA user_version = 4; COMMIT;`);
}

/* Puts back schema 3: users, orgs, grants and tokens without AUTOINCREMENT (ids kept),
 * pictures in the apps row, no consent requests table. */
function downgrade3(db) {
  const rebuild = (t, cols, create) => `ALTER TABLE ${t} RENAME TO ${t}_4; ${create};
    INSERT INTO ${t} (${cols}) SELECT ${cols} FROM ${t}_4; DROP TABLE ${t}_4;`;
  sql(db, `PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; BEGIN; ${DOWN5}
    ALTER TABLE apps ADD COLUMN picture BLOB; ALTER TABLE apps ADD COLUMN picture_type TEXT;
    UPDATE apps SET picture = (SELECT picture FROM app_pictures p WHERE p.app_id = apps.id),
      picture_type = (SELECT type FROM app_pictures p WHERE p.app_id = apps.id);
    DROP TABLE app_pictures; DROP TABLE requests; DROP INDEX sessions_user; DROP TABLE IF EXISTS bridge_devices;
    ALTER TABLE apps DROP COLUMN resource_server;
    DROP INDEX grants_app; DROP INDEX tokens_hash; DROP INDEX tokens_code_hash; DROP INDEX tokens_grant;
    DROP INDEX tokens_expires; DROP INDEX tokens_code_expires;
    ${rebuild('users', 'id, name, password, is_admin, created', `CREATE TABLE users (id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE, password TEXT, is_admin INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL)`)}
    ${rebuild('orgs', 'id, name, personal_of, created', `CREATE TABLE orgs (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
      personal_of INTEGER UNIQUE REFERENCES users(id) ON DELETE CASCADE, created INTEGER NOT NULL)`)}
    ${rebuild('grants', 'id, user_id, app_id, org_id, scope, created, last_used', `CREATE TABLE grants (id INTEGER PRIMARY KEY,
      user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE, app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
      org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE, scope TEXT NOT NULL, created INTEGER NOT NULL,
      last_used INTEGER, UNIQUE (user_id, app_id, org_id))`)}
    ${rebuild('tokens', 'id, hash, kind, grant_id, code_hash, scope, resource, created, expires, last_used, redirect_uri, redirect_given, challenge, code_expires',
      `CREATE TABLE tokens (id INTEGER PRIMARY KEY, hash BLOB, kind INTEGER NOT NULL,
      grant_id INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE, code_hash BLOB, scope TEXT NOT NULL, resource TEXT,
      created INTEGER NOT NULL, expires INTEGER, last_used INTEGER, redirect_uri TEXT, redirect_given INTEGER,
      challenge TEXT, code_expires INTEGER)`)}
    CREATE INDEX grants_app ON grants(app_id);
    CREATE UNIQUE INDEX tokens_hash ON tokens(hash) WHERE hash IS NOT NULL;
    CREATE INDEX tokens_code_hash ON tokens(code_hash) WHERE code_hash IS NOT NULL;
    CREATE INDEX tokens_grant ON tokens(grant_id);
    CREATE INDEX tokens_expires ON tokens(expires) WHERE expires IS NOT NULL;
    CREATE INDEX tokens_code_expires ON tokens(code_expires) WHERE code_expires IS NOT NULL;
    DELETE FROM sqlite_sequence;
    PRAGMA user_version = 3;
    COMMIT;`);
}

/* Puts back the tokens and codes tables of schema 1 or 2 (their rows kept, codes
 * waiting for redemption left out), and a pending code in the old codes table. */
function downgrade(db, version) {
  downgrade3(db);
  sql(db, `BEGIN;
    DROP INDEX tokens_hash; DROP INDEX tokens_code_hash; DROP INDEX tokens_grant;
    DROP INDEX tokens_expires; DROP INDEX tokens_code_expires;
    ALTER TABLE tokens RENAME TO tokens_3;
    CREATE TABLE tokens (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, kind INTEGER NOT NULL,
      grant_id INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE, code_hash BLOB,
      scope TEXT NOT NULL, resource TEXT, created INTEGER NOT NULL, expires INTEGER, last_used INTEGER);
    INSERT INTO tokens SELECT id, hash, kind, grant_id, code_hash, scope, resource, created, expires, last_used
      FROM tokens_3 WHERE kind <> 0;
    DROP TABLE tokens_3;
    CREATE INDEX tokens_grant ON tokens(grant_id);
    CREATE INDEX tokens_expires ON tokens(expires) WHERE expires IS NOT NULL;
    ${version === 1 ? 'CREATE INDEX tokens_code ON tokens(code_hash) WHERE code_hash IS NOT NULL;' : ''}
    CREATE TABLE codes (hash BLOB PRIMARY KEY, grant_id INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
      redirect_uri TEXT NOT NULL, redirect_given INTEGER NOT NULL, scope TEXT NOT NULL, challenge TEXT,
      resource TEXT, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE INDEX codes_expires ON codes(expires);
    INSERT INTO codes (hash, grant_id, redirect_uri, redirect_given, scope, expires)
      SELECT randomblob(32), id, 'https://app.example/cb', 1, 'profile', unixepoch() + 60 FROM grants LIMIT 1;
    PRAGMA user_version = ${version};
    COMMIT;`);
}

describe('schema migration', () => {
  let stack, db;
  before(async () => {
    stack = await startStack();
    db = stack.database;
  });
  after(async () => { await stack?.stop(); });

  const issue = () => JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'demo', '--app', stack.app.client_id])).access_token;
  const has = (name) => sql(db, `SELECT count(*) FROM sqlite_master WHERE name = '${name}'`) === '1';
  const ids = () => sql(db, 'SELECT group_concat(id || kind || hex(hash), \',\') FROM (SELECT * FROM tokens ORDER BY id)');
  /* the whole code flow, for a confidential app made here: the redemption path */
  async function codeFlowPasses() {
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Migrated', '--redirect-uri', 'https://app.example/cb']));
    const s = new Session(stack.url);
    await s.signIn('demo', stack.password);
    const t = await tokenFor(stack, s, app);
    assert.equal(await check(stack.url, t.access_token), 204);
  }

  test('`postern init` brings a schema 2 database up to date; its tokens keep working', SQLITE_ONLY, async () => {
    const tokens = [issue(), issue()];
    downgrade(db, 2);
    const before = ids();
    assert.equal(sql(db, 'PRAGMA user_version'), '2');
    assert.ok(has('codes'));
    stack.cli(['init']);
    assert.equal(sql(db, 'PRAGMA user_version'), '9');
    assert.ok(!has('codes') && !has('tokens_2'), 'the old tables are gone');
    assert.ok(has('tokens_hash') && has('tokens_code_hash') && has('tokens_code_expires'));
    assert.equal(ids(), before, 'token rows changed');
    for (const t of tokens) assert.equal(await check(stack.url, t), 204);
    assert.equal(await check(stack.url, issue()), 204);
    await codeFlowPasses();
  });

  test('servers starting on a schema 1 database bring it up to date once, and serve its tokens', SQLITE_ONLY, async () => {
    const t = issue();
    downgrade(db, 1);
    assert.ok(has('tokens_code'));
    await stack.restart();
    assert.equal(sql(db, 'PRAGMA user_version'), '9');
    assert.ok(!has('tokens_code') && !has('codes'));
    assert.equal(await check(stack.url, t), 204);
    const logs = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device'].map((c) => stack.log(`${c}.log`)).join('');
    assert.equal((logs.match(/schema 1 brought up to 9/g) || []).length, 1, 'exactly one process did it');
    await codeFlowPasses();
  });

  test('schema 3 is brought up to 4: ids kept and never given again, pictures out of the apps row', SQLITE_ONLY, async () => {
    const t = issue();
    // a picture, straight into schema 3's apps row after the downgrade
    downgrade3(db);
    sql(db, `UPDATE apps SET picture = x'89504e470d0a1a0a00', picture_type = 'image/png' WHERE client_id = '${stack.app.client_id}'`);
    const users = sql(db, 'SELECT group_concat(id || name, \',\') FROM (SELECT * FROM users ORDER BY id)');
    const before = ids();
    assert.doesNotMatch(sql(db, "SELECT sql FROM sqlite_master WHERE name = 'users'"), /AUTOINCREMENT/);
    await stack.restart();
    assert.equal(sql(db, 'PRAGMA user_version'), '9');
    for (const table of ['users', 'orgs', 'grants', 'tokens'])
      assert.match(sql(db, `SELECT sql FROM sqlite_master WHERE name = '${table}'`), /AUTOINCREMENT/, table);
    assert.equal(sql(db, 'SELECT group_concat(id || name, \',\') FROM (SELECT * FROM users ORDER BY id)'), users);
    assert.equal(ids(), before, 'token rows changed');
    assert.equal(sql(db, "SELECT count(*) FROM pragma_table_info('apps') WHERE name LIKE 'picture%'"), '0');
    assert.equal(sql(db, `SELECT hex(p.picture) || p.type FROM app_pictures p JOIN apps a ON a.id = p.app_id WHERE a.client_id = '${stack.app.client_id}'`),
      '89504E470D0A1A0A00image/png');
    const pic = await fetch(`${stack.url}/oauth/apps/${stack.app.client_id}/picture`);
    assert.equal(pic.status, 200);
    assert.equal(pic.headers.get('content-type'), 'image/png');
    assert.equal(sql(db, 'PRAGMA foreign_key_check'), '');
    assert.equal(await check(stack.url, t), 204);
    // the newest user leaves; the next one gets a new id, and so does its organization
    stack.cli(['user', 'add', 'newest'], 'pw-newest-0123456789\n');
    const gone = JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'newest');
    stack.cli(['user', 'del', 'newest']);
    stack.cli(['user', 'add', 'newer'], 'pw-newer-0123456789\n');
    const fresh = JSON.parse(stack.cli(['--json', 'user', 'list'])).find((u) => u.name === 'newer');
    assert.ok(fresh.id > gone.id, `user id ${fresh.id} reused`);
    assert.ok(fresh.organization_id > gone.organization_id, `organization id ${fresh.organization_id} reused`);
    await codeFlowPasses();
  });

  test('schema 4 is brought up to date: the bridged device logins table appears, tokens kept', SQLITE_ONLY, async () => {
    const t = issue();
    const before = ids();
    downgrade4(db);
    assert.ok(!has('bridge_devices'));
    await stack.restart();
    assert.equal(sql(db, 'PRAGMA user_version'), '9');
    assert.ok(has('bridge_devices') && has('bridge_devices_expires'));
    assert.equal(ids(), before, 'token rows changed');
    assert.equal(await check(stack.url, t), 204);
  });

  test('schema 4 is brought up to date with the OpenID Connect columns and the keys table', SQLITE_ONLY, async () => {
    assert.equal(sql(db, "SELECT count(*) FROM pragma_table_info('users') WHERE name IN ('email', 'full_name')"), '2');
    assert.equal(sql(db, "SELECT count(*) FROM pragma_table_info('tokens') WHERE name IN ('nonce', 'auth_time')"), '2');
    assert.equal(sql(db, "SELECT count(*) FROM pragma_table_info('apps') WHERE name IN ('id_token_signed_response_alg', 'post_logout_redirect_uris')"), '2');
    assert.ok(has('keys'));
    assert.ok(has('client_documents'));
  });

  test('a database from a newer postern is refused by the admin command and the servers', async () => {
    // the schema level: SQLite's user_version, PostgreSQL's postern_schema table
    const setVersion = (v) => sql(db, stack.backend === 'pg' ? `UPDATE postern_schema SET version = ${v}` : `PRAGMA user_version = ${v}`);
    setVersion(99);
    const r = stack.cliRun(['init']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /schema 99 is newer than this postern \(9\)/);
    await assert.rejects(stack.restart(), /did not come up/);
    assert.match(stack.log('token.log'), /schema 99 is newer than this postern/);
    setVersion(9);
    await stack.restart();
    assert.equal(await check(stack.url, issue()), 204);
  });
});

// Schema 5 as the postern before OpenID Connect made it (schema.sql / schema.pg.sql of
// the commit before schema 6), with rows in it; the new postern brings it to 9.
/* A database at the schema of commit (the schema file of the backend under test, as that
 * commit had it) with rows in it: { database, drop() }. */
function databaseAt(commit, rows = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), `postern-${commit}-`));
  const file = backend === 'pg' ? 'schema.pg.sql' : 'schema.sql';
  const schema = execFileSync('git', ['-C', root, 'show', `${commit}:${file}`], { encoding: 'utf8' });
  const database = backend === 'pg' ? createDatabase() : path.join(dir, 'old.db');
  if (backend === 'pg') {
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', database], { input: schema + rows, encoding: 'utf8' });
  } else {
    writeFileSync(path.join(dir, 'old.sql'), schema + rows);
    execFileSync('sqlite3', [database, `.read ${path.join(dir, 'old.sql')}`]);
  }
  return {
    database,
    drop() {
      if (backend === 'pg') dropDatabase(database);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const SCHEMA5_COMMIT = '66a1510';
describe('schema 5 to 9 (OpenID Connect)', () => {
  let old, database, stack;
  before(() => {
    const now = Math.floor(Date.now() / 1000);
    const rows = `INSERT INTO users (name, password, is_admin, created) VALUES ('old5', NULL, 1, ${now});
      INSERT INTO orgs (name, personal_of, created) SELECT 'old5', id, ${now} FROM users WHERE name = 'old5';
      INSERT INTO members (org_id, user_id, role) SELECT o.id, u.id, 'owner' FROM orgs o JOIN users u ON u.id = o.personal_of;
      INSERT INTO apps (client_id, name, redirect_uris, created) VALUES ('pca_old5', 'Old app', 'https://app.example/cb', ${now});`;
    old = databaseAt(SCHEMA5_COMMIT, rows);
    database = old.database;
  });
  after(async () => {
    await stack?.stop();
    old?.drop();
  });

  test('a schema 5 database comes up to date with its rows, and the new columns work', async () => {
    const version = () => sql(database, backend === 'pg' ? 'SELECT max(version) FROM postern_schema' : 'PRAGMA user_version');
    assert.equal(version(), '5');
    stack = await startStack({ env: { DATABASE: database, SEED: '0' } });
    assert.equal(version(), '9');
    assert.equal(sql(database, "SELECT name || '|' || is_admin FROM users"), 'old5|1');
    assert.equal(sql(database, "SELECT client_id || '|' || name || '|' || id_token_signed_response_alg || '|' || post_logout_redirect_uris || '|' FROM apps"), 'pca_old5|Old app|RS256||');
    assert.equal(sql(database, "SELECT count(*) FROM tokens WHERE nonce IS NOT NULL OR auth_time IS NOT NULL"), '0');
    assert.equal(sql(database, 'SELECT count(*) FROM keys'), '2', '`postern init` made the first signing keys');
    stack.cli(['user', 'set', 'old5', '--email', 'old5@example.com', '--full-name', 'Old Five']);
    assert.equal(sql(database, "SELECT email || '|' || full_name FROM users WHERE name = 'old5'"), 'old5@example.com|Old Five');
  });
});

// Schema 6 as the first OpenID Connect postern made it (the commit that merged it), with an
// app signing with EdDSA; the new postern adds the post-logout redirect URIs (schema 7).
const SCHEMA6_COMMIT = 'e53c734';
describe('schema 6 to 9 (RP-Initiated Logout)', () => {
  let old, database, stack;
  before(() => {
    const now = Math.floor(Date.now() / 1000);
    const rows = `INSERT INTO users (name, password, is_admin, created, email) VALUES ('old6', NULL, 1, ${now}, 'old6@example.com');
      INSERT INTO apps (client_id, name, redirect_uris, created, id_token_signed_response_alg)
      VALUES ('pca_old6', 'Old six', 'https://app.example/cb', ${now}, 'EdDSA');`;
    old = databaseAt(SCHEMA6_COMMIT, rows);
    database = old.database;
  });
  after(async () => {
    await stack?.stop();
    old?.drop();
  });

  test('a schema 6 database comes up to date: its apps keep their algorithm and get no post-logout URI', async () => {
    const version = () => sql(database, backend === 'pg' ? 'SELECT max(version) FROM postern_schema' : 'PRAGMA user_version');
    assert.equal(version(), '6');
    stack = await startStack({ env: { DATABASE: database, SEED: '0' } });
    assert.equal(version(), '9');
    assert.equal(sql(database, "SELECT client_id || '|' || id_token_signed_response_alg || '|' || post_logout_redirect_uris || '|' FROM apps"),
      'pca_old6|EdDSA||');
    assert.equal(sql(database, "SELECT email FROM users WHERE name = 'old6'"), 'old6@example.com');
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'New seven', '--redirect-uri', 'https://app.example/cb',
      '--post-logout-redirect-uri', 'https://app.example/bye']));
    assert.deepEqual(app.post_logout_redirect_uris, ['https://app.example/bye']);
    assert.equal(sql(database, `SELECT post_logout_redirect_uris FROM apps WHERE client_id = '${app.client_id}'`), 'https://app.example/bye');
  });
});

// Schema 7 as the postern before issue 15 made it, with a self-registered client and an
// app of the apps page; the new postern adds the registration columns (schema 8).
const SCHEMA7_COMMIT = '32a4bba';
describe('schema 7 to 9 (self-registered clients: RFC 7592, application_type, links; Client ID Metadata Documents)', () => {
  let old, database, stack;
  before(() => {
    const now = Math.floor(Date.now() / 1000);
    const rows = `INSERT INTO apps (client_id, name, redirect_uris, created, public, require_pkce, registered, remember_consent)
      VALUES ('pca_old7reg', 'Old agent', 'https://agent.example/cb', ${now}, 1, 1, 1, 0);
      INSERT INTO apps (client_id, name, redirect_uris, created, post_logout_redirect_uris)
      VALUES ('pca_old7', 'Old seven', 'https://app.example/cb', ${now}, 'https://app.example/bye');`;
    old = databaseAt(SCHEMA7_COMMIT, rows);
    database = old.database;
  });
  after(async () => {
    await stack?.stop();
    old?.drop();
  });

  test('a schema 7 database comes up to 9: its apps keep their rows and get the new columns empty', async () => {
    const version = () => sql(database, backend === 'pg' ? 'SELECT max(version) FROM postern_schema' : 'PRAGMA user_version');
    assert.equal(version(), '7');
    stack = await startStack({ env: { DATABASE: database, SEED: '0', EXTRA_CONFIG: 'registration = on', REGISTER_RATE: '1000r/s' } });
    assert.equal(version(), '9');
    assert.equal(sql(database, "SELECT client_id || '|' || name || '|' || post_logout_redirect_uris || '|' || token_endpoint_auth_method || '|'"
      + " || application_type || '|' || coalesce(client_uri, 'null') || '|' || coalesce(policy_uri, 'null') || '|' || coalesce(tos_uri, 'null')"
      + " || '|' || CASE WHEN registration_token_hash IS NULL THEN 'nohash' ELSE 'hash' END FROM apps ORDER BY client_id"),
    'pca_old7|Old seven|https://app.example/bye|||null|null|null|nohash\npca_old7reg|Old agent||||null|null|null|nohash');
    // an old self-registered client has no registration access token: the endpoint says 401
    const r = await fetch(`${stack.url}/oauth/register/pca_old7reg`, { headers: { authorization: 'Bearer pra_' + 'A'.repeat(49) } });
    assert.equal(r.status, 401);
    // the new columns work
    const reg = await fetch(`${stack.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://agent.example/cb'], token_endpoint_auth_method: 'client_secret_post', tos_uri: 'https://agent.example/tos' }) });
    assert.equal(reg.status, 201);
    const c = await reg.json();
    assert.equal(sql(database, `SELECT token_endpoint_auth_method || '|' || tos_uri FROM apps WHERE client_id = '${c.client_id}'`),
      'client_secret_post|https://agent.example/tos');
    // and the client_documents table of Client ID Metadata Documents, which goes with its app
    sql(database, "INSERT INTO apps (client_id, name, created, registered, public) VALUES ('https://c.example/doc', 'Doc', 1, 1, 1)");
    sql(database, "INSERT INTO client_documents (app_id, fetched, expires) SELECT id, 1, 301 FROM apps WHERE client_id = 'https://c.example/doc'");
    assert.equal(sql(database, 'SELECT count(*) FROM client_documents'), '1');
  });
});


// Schema 7 as the postern before client_credentials made it (the commit this branch grew
// from), with an app in it; the new postern adds client_tokens and apps.access_token_format
// (schema 8): users' tokens and an app's own work, the old app's tokens stay opaque.
describe('schema 7 to 9 (client_credentials and JWT access tokens)', () => {
  let old, database, stack;
  before(() => {
    const now = Math.floor(Date.now() / 1000);
    const rows = `INSERT INTO users (name, password, is_admin, created) VALUES ('old7', NULL, 1, ${now});
      INSERT INTO apps (client_id, name, redirect_uris, created, grant_types)
      VALUES ('pca_old7', 'Old seven', 'https://app.example/cb', ${now}, 'authorization_code client_credentials');`;
    old = databaseAt(SCHEMA7_COMMIT, rows);
    database = old.database;
  });
  after(async () => {
    await stack?.stop();
    old?.drop();
  });

  test('a schema 7 database comes up to 9 with client_tokens and apps.access_token_format; users\' tokens and an app\'s own work', async () => {
    const version = () => sql(database, backend === 'pg' ? 'SELECT max(version) FROM postern_schema' : 'PRAGMA user_version');
    assert.equal(version(), '7');
    assert.throws(() => sql(database, 'SELECT count(*) FROM client_tokens'));
    stack = await startStack({ env: { DATABASE: database, SEED: '0' } });
    assert.equal(version(), '9');
    assert.equal(sql(database, 'SELECT count(*) FROM client_tokens'), '0');
    assert.equal(sql(database, "SELECT grant_types || '|' || access_token_format FROM apps WHERE client_id = 'pca_old7'"),
      'authorization_code client_credentials|opaque');
    const pw = 'pw-new8-0123456789';
    stack.cli(['user', 'add', 'new8'], pw + '\n');
    const s = new Session(stack.url);
    await s.signIn('new8', pw);
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Eight', '--redirect-uri', 'https://app.example/cb',
      '--grant-types', 'authorization_code client_credentials']));
    const user = await tokenFor(stack, s, app);
    assert.equal(await check(stack.url, user.access_token), 204);
    const own = await fetch(`${stack.url}/oauth/token`, { method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64') },
      body: 'grant_type=client_credentials' });
    const body = await own.json();
    assert.equal(own.status, 200, JSON.stringify(body));
    assert.equal(await check(stack.url, body.access_token), 204);
    assert.equal(sql(database, 'SELECT count(*) FROM client_tokens'), '1');
  });
});

// Schema 8 as the postern before DPoP made it, with an app and a live client_credentials
// token in it; the new postern adds the key columns and dpop_proofs (schema 9): the old
// token stays a Bearer token, a new one is bound to a DPoP key and checked with proofs.
const SCHEMA8_COMMIT = 'c4e9c22';
describe('schema 8 to 9 (DPoP)', () => {
  let old, database, stack;
  before(() => {
    old = databaseAt(SCHEMA8_COMMIT);
    database = old.database;
  });
  after(async () => {
    await stack?.stop();
    old?.drop();
  });

  test('a schema 8 database comes up to 9: old tokens stay Bearer, new ones bind to a DPoP key', async () => {
    const version = () => sql(database, backend === 'pg' ? 'SELECT max(version) FROM postern_schema' : 'PRAGMA user_version');
    assert.equal(version(), '8');
    assert.throws(() => sql(database, 'SELECT count(*) FROM dpop_proofs'));
    stack = await startStack({ env: { DATABASE: database, SEED: '0' } });
    assert.equal(version(), '9');
    const app = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Nine', '--redirect-uri', 'https://app.example/cb',
      '--grant-types', 'client_credentials']));
    const basic = 'Basic ' + Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64');
    const ask = (headers = {}) => fetch(`${stack.url}/oauth/token`, { method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, ...headers },
      body: 'grant_type=client_credentials' }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const bearer = await ask();
    assert.equal(bearer.status, 200);
    assert.equal(bearer.body.token_type, 'Bearer');
    assert.equal(await check(stack.url, bearer.body.access_token), 204);
    // a proof made here (ES256), for the token endpoint, then for the check
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const b64 = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
    const proof = (htm, htu, token) => {
      const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: publicKey.export({ format: 'jwk' }) })}.${b64({
        jti: randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000),
        ...(token ? { ath: createHash('sha256').update(token).digest('base64url') } : {}) })}`;
      return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    };
    const bound = await ask({ dpop: proof('POST', `${stack.url}/oauth/token`) });
    assert.equal(bound.status, 200, JSON.stringify(bound.body));
    assert.equal(bound.body.token_type, 'DPoP');
    const t = bound.body.access_token;
    const r = await fetch(`${stack.url}/oauth/check`, { headers: { authorization: `DPoP ${t}`,
      dpop: proof('GET', `${stack.url}/oauth/check`, t) } });
    assert.equal(r.status, 204);
    assert.equal(await check(stack.url, t), 401, 'a bound token is no Bearer token');
    assert.equal(sql(database, 'SELECT count(*) FROM client_tokens WHERE jkt IS NOT NULL'), '1');
    assert.equal(sql(database, 'SELECT count(*) FROM dpop_proofs'), '2');
  });
});
