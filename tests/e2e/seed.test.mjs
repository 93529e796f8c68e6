// seed.test.mjs: seed files (`postern seed`, `tools/stack.sh up DIR --seed FILE`): the users
// and apps they list, with the client ids and secrets they give used as they are (secrets
// stored only as keyed hashes, the passwords as Argon2id), no demo data; a bad file names
// its line and field and creates nothing, not even the good part of it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, storedData, holds } from '../lib/stack.mjs';

const ID = 'pca_0123456789abcdefghijABCDEFGHIJkl';
const SECRET = 'pcs_0123456789abcdefghijABCDEFGHIJ0123456789abcdefgh';
const ID2 = 'pca_ZYXWVUTSRQPONMLKJIHGFEDCBA987654';
const SEED = {
  users: [
    { name: 'alice', password: 'alice-password', admin: true, email: 'alice@example.org' },
    { name: 'bob', password: 'bob-password' },
  ],
  apps: [
    { name: 'Fixture app', client_id: ID, client_secret: SECRET, redirect_uris: ['http://127.0.0.1:5000/cb'],
      scopes: ['posts:read', 'profile'] },
    { name: 'SPA', client_id: ID2, public: true, redirect_uris: ['http://localhost:3000/cb'], scopes: 'profile' },
    { name: 'Made up', redirect_uris: ['https://app.example/cb'] },
    { name: 'Device', public: true, redirect_uris: [], grant_types: ['urn:ietf:params:oauth:grant-type:device_code'] },
  ],
};

const tmp = mkdtempSync(path.join(os.tmpdir(), 'postern-seed-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
/* A seed file with text as it is; returns its path. */
let files = 0;
function file(text) {
  const f = path.join(tmp, `seed${files++}.json`);
  writeFileSync(f, typeof text === 'string' ? text : JSON.stringify(text, null, 2));
  return f;
}
/* POST /oauth/introspect as client id:secret: { status, body } */
async function introspect(stack, id, secret, token) {
  const r = await fetch(`${stack.url}/oauth/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ token }),
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

describe('a stack started with --seed', () => {
  let stack;
  before(async () => { stack = await startStack({ seed: file(SEED) }); });
  after(async () => { await stack?.stop(); });

  test('has the seed\'s users and apps and no demo ones; the JSON line lists them with their credentials', () => {
    assert.equal(stack.user, '');
    assert.deepEqual(stack.app, {});
    assert.deepEqual(stack.seed.users, [{ name: 'alice', admin: true }, { name: 'bob', admin: false }]);
    assert.deepEqual(stack.seed.apps.map((a) => a.name), ['Fixture app', 'SPA', 'Made up', 'Device']);
    assert.equal(stack.seed.apps[0].client_id, ID);
    assert.equal(stack.seed.apps[0].client_secret, SECRET);
    assert.equal(stack.seed.apps[1].client_id, ID2);
    assert.equal(stack.seed.apps[1].client_secret, undefined, 'a public app has no secret');
    assert.match(stack.seed.apps[2].client_id, /^pca_[0-9A-Za-z]{32}$/);
    assert.match(stack.seed.apps[2].client_secret, /^pcs_[0-9A-Za-z]{48}$/);
    const users = JSON.parse(stack.cli(['--json', 'user', 'list']));
    assert.deepEqual(users.map((u) => [u.name, u.admin]), [['alice', true], ['bob', false]]);
    const apps = JSON.parse(stack.cli(['--json', 'app', 'list']));
    assert.deepEqual(apps.map((a) => a.client_id).sort(), stack.seed.apps.map((a) => a.client_id).sort());
  });

  test('scopes (in config order), grant types and the public flag are stored as the seed says', () => {
    const show = (id) => JSON.parse(stack.cli(['--json', 'app', 'show', id]));
    const fixed = show(ID);
    assert.equal(fixed.scopes, 'profile posts:read');
    assert.equal(fixed.grant_types, 'authorization_code refresh_token');
    assert.equal(fixed.public, false);
    assert.deepEqual(fixed.redirect_uris, ['http://127.0.0.1:5000/cb']);
    assert.equal(show(ID2).public, true);
    assert.equal(show(ID2).scopes, 'profile');
    const device = show(stack.seed.apps[3].client_id);
    assert.equal(device.grant_types, 'urn:ietf:params:oauth:grant-type:device_code');
    assert.deepEqual(device.redirect_uris, []);
  });

  test('the given secret and the made one authenticate their apps; a wrong one does not', async () => {
    const token = JSON.parse(stack.cli(['--json', 'token', 'issue', '--user', 'alice', '--app', ID])).access_token;
    const ok = await introspect(stack, ID, SECRET, token);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.active, true);
    assert.equal(ok.body.username, 'alice');
    const made = stack.seed.apps[2];
    assert.equal((await introspect(stack, made.client_id, made.client_secret, 'x')).status, 200);
    assert.equal((await introspect(stack, ID, `pcs_${'0'.repeat(48)}`, token)).status, 401);
  });

  test('the seeded password signs in; secrets and passwords are stored only as hashes', async () => {
    const rows = stack.sql("SELECT password FROM users WHERE name = 'bob'");
    assert.match(rows, /^\$argon2id\$/);
    for (const { name, text } of storedData(stack)) {
      assert.ok(!holds(text, SECRET), `${name} holds the client secret`);
      assert.ok(!holds(text, 'bob-password'), `${name} holds a password`);
    }
  });

  test('seeding again: a user or a client_id that exists is named, with its line, and nothing is created', () => {
    const before = [stack.sql('SELECT count(*) FROM users'), stack.sql('SELECT count(*) FROM apps')];
    let r = stack.cliRun(['seed', file({ users: [{ name: 'carol', password: 'carol-password' }, { name: 'bob', password: 'bob-password' }] })]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 8: users\[1\]\.name: a user named bob exists already; nothing created/);
    r = stack.cliRun(['seed', file({ users: [{ name: 'dave', password: 'dave-password' }],
      apps: [{ name: 'New', redirect_uris: ['https://n.example/cb'] }, { name: 'Again', client_id: ID, redirect_uris: ['https://n.example/cb'] }] })]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`line 17: apps\\[1\\]\\.client_id: an app with client_id ${ID} exists already`));
    assert.deepEqual([stack.sql('SELECT count(*) FROM users'), stack.sql('SELECT count(*) FROM apps')], before);
  });

  test('the audit log has each seeded user and app, with the seed file, and no secret or password', () => {
    const text = readFileSync(path.join(stack.dir, 'logs', 'audit.log'), 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const users = lines.filter((l) => l.event === 'user_added' && l.seed);
    assert.deepEqual(users.map((l) => [l.user, l.admin, l.by]), [['alice', true, 'admin'], ['bob', false, 'admin']]);
    const apps = lines.filter((l) => l.event === 'app_created' && l.seed);
    assert.deepEqual(apps.map((l) => l.client_id), stack.seed.apps.map((a) => a.client_id));
    assert.ok(apps.every((l) => l.seed.endsWith('.json')));
    assert.ok(!text.includes(SECRET) && !text.includes('alice-password'));
  });

  test('"email" is stored as the user\'s address; a malformed one is refused naming its line', () => {
    const r = stack.cliRun(['seed', file({ users: [{ name: 'erin', password: 'erin-password', email: 'erin@example.org' }] })]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(stack.sql("SELECT email FROM users WHERE name = 'erin'"), 'erin@example.org');
    const bad = stack.cliRun(['seed', file({ users: [{ name: 'fred', password: 'fred-password', email: 'fred at example' }] })]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /line \d+: users\[0\]\.email: an e-mail address/);
    assert.equal(stack.sql("SELECT count(*) FROM users WHERE name = 'fred'"), '0');
  });
});

describe('a bad seed file', () => {
  let stack;
  before(async () => { stack = await startStack({ env: { SEED: '0' } }); });
  after(async () => { await stack?.stop(); });

  const good = () => JSON.parse(JSON.stringify(SEED));
  const cases = [
    ['an unknown field of a user', (s) => { s.users[1].colour = 'blue'; }, /line 12: users\[1\]\.colour: unknown field/],
    ['an unknown top-level field', (s) => { s.orgs = []; }, /line \d+: orgs: unknown field \(a seed has users and apps\)/],
    ['a malformed client_id', (s) => { s.apps[1].client_id = 'pca_short'; }, /line 29: apps\[1\]\.client_id: a client_id is pca_ and 32 letters and digits/],
    ['a client_id with a character outside base62', (s) => { s.apps[0].client_id = `${ID.slice(0, -1)}-`; }, /line 17: apps\[0\]\.client_id: a client_id is pca_/],
    ['a malformed client_secret', (s) => { s.apps[0].client_secret = 'pcs_abc'; }, /line 18: apps\[0\]\.client_secret: a client_secret is pcs_ and 48/],
    ['a wrong type', (s) => { s.apps[1].public = 'yes'; }, /line 30: apps\[1\]\.public: must be true or false, not a string/],
    ['a list that is not one', (s) => { s.users = {}; }, /line 2: users: must be a list, not an object/],
    ['a secret for a public app', (s) => { s.apps[1].client_secret = SECRET; }, /line 35: apps\[1\]\.client_secret: a public app \(line 30\) has no secret/],
    ['a scope the config lacks', (s) => { s.apps[0].scopes = ['profile', 'admin']; }, /line 24: apps\[0\]\.scopes\[1\]: the scope admin is not one this server offers/],
    ['an unknown grant type', (s) => { s.apps[2].grant_types = 'client_credentials'; }, /apps\[2\]\.grant_types: the grant type client_credentials is not one of/],
    ['a bad redirect URI', (s) => { s.apps[2].redirect_uris = ['http://app.example/cb']; }, /apps\[2\]\.redirect_uris\[0\]: not a valid redirect URI/],
    ['a user without a password', (s) => { delete s.users[0].password; }, /line 3: users\[0\]: a user needs "password"/],
    ['a short password', (s) => { s.users[0].password = 'short'; }, /users\[0\]\.password: a password has 8 to 1024 bytes/],
    ['a bad user name', (s) => { s.users[0].name = 'al ice'; }, /line 4: users\[0\]\.name: user names are/],
    ['a user twice', (s) => { s.users[1].name = 'alice'; }, /users\[1\]\.name: alice is already users\[0\]/],
    ['a client_id twice', (s) => { s.apps[1].client_id = ID; }, /apps\[1\]\.client_id: pca_\S+ is already apps\[0\]'s/],
    ['an authorization-code app without redirect URIs', (s) => { s.apps[0].redirect_uris = []; }, /apps\[0\]\.redirect_uris: an app with the authorization_code grant needs at least one redirect URI/],
  ];
  for (const [what, change, message] of cases) {
    test(`${what}: named with its line, nothing created`, () => {
      const s = good();
      change(s);
      const r = stack.cliRun(['seed', file(s)]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /; nothing created\n$/);
      assert.equal(stack.sql('SELECT count(*) FROM users'), '0');
      assert.equal(stack.sql('SELECT count(*) FROM apps'), '0');
    });
  }

  test('JSON that does not parse: the line of the mistake', () => {
    for (const [text, message] of [
      ['{\n  "users": [\n    {"name": "a",}\n  ]\n}', /line 3: expected a member name in double quotes/],
      ['{\n  "users": [\n', /line 3: the file ends where a value was expected/],
      ['{"apps": [{"name": "a\nb"}]}', /line 1: a string has a control character or a line break/],
      ['{"users": [], "users": []}', /line 1: "users" is given twice/],
      ['{"users": []} x', /line 1: more after the seed's object/],
      ['[]', /line 1: the seed: must be an object, not a list/],
      [`${'['.repeat(40)}`, /nested deeper than 16 levels/],
    ]) {
      const r = stack.cliRun(['seed', file(text)]);
      assert.equal(r.status, 1, text);
      assert.match(r.stderr, message, text);
    }
    assert.equal(stack.sql('SELECT count(*) FROM users'), '0');
  });

  test('a good file after them creates all of it', () => {
    const r = stack.cliRun(['--json', 'seed', file(SEED)]);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.apps[0].client_secret, SECRET);
    assert.equal(stack.sql('SELECT count(*) FROM users'), '2');
    assert.equal(stack.sql('SELECT count(*) FROM apps'), '4');
  });
});
