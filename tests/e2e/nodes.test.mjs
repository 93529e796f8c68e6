// nodes.test.mjs: two nodes (each its own nginx and executables) sharing one PostgreSQL
// database and one secret key, as two hosts behind a load balancer would (issue 12): what
// one node issues or ends the other sees at once, single-use stays single-use across
// nodes, the janitor works on one node at a time, and a restarted PostgreSQL is found
// again by the running processes. Needs PostgreSQL: `make test` runs it through
// tools/e2e-pg.sh; on SQLite it is skipped.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startStack, backend, pgDir, createDatabase, dropDatabase, root } from '../lib/stack.mjs';
import { Session, authorize, codeRequest, consentForm, token, check, revoke, addUser } from '../lib/client.mjs';

const CB = 'https://app.example/cb';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/* the advisory lock the janitor takes (lib/db_pg.c, PG_LOCK_EXCLUSIVE) */
const JANITOR_LOCK = 0x706f73746573;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('two nodes on one PostgreSQL database', { skip: backend !== 'pg' && 'needs PostgreSQL (make test runs it through tools/e2e-pg.sh)' }, () => {
  let a, b, database, app, pw;

  before(async () => {
    database = createDatabase();
    const EXTRA_CONFIG = 'access_token_ttl = 3600';
    a = await startStack({ env: { DATABASE: database, EXTRA_CONFIG } });
    b = await startStack({ env: { DATABASE: database, SECRET_KEY_FILE: path.join(a.dir, 'secret.key'), SEED: '0', EXTRA_CONFIG } });
    pw = addUser(a, 'nodeuser');
    app = JSON.parse(a.cli(['--json', 'app', 'create', '--name', 'Two-node app', '--owner', 'nodeuser', '--redirect-uri', CB,
      '--grant-types', 'authorization_code refresh_token']));
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    if (database) dropDatabase(database);
  });

  const creds = () => [app.client_id, app.client_secret];
  async function signedIn(stack) {
    const s = new Session(stack.url);
    await s.signIn('nodeuser', pw);
    return s;
  }
  async function codeOn(stack) {
    const a1 = await authorize(await signedIn(stack), codeRequest(app.client_id));
    assert.ok(a1.code, `no code: ${a1.status} ${a1.location}`);
    return a1.code;
  }
  function redeemOn(stack, code) {
    return token(stack.url, { grant_type: 'authorization_code', code, redirect_uri: CB }, creds());
  }

  test('the second node seeded nothing and shares the first one\'s key, users and apps', () => {
    assert.equal(readFileSync(path.join(b.dir, 'postern.conf'), 'utf8').match(/^secret_key_file = (.*)$/m)[1], path.join(a.dir, 'secret.key'));
    const apps = JSON.parse(b.cli(['--json', 'app', 'list']));
    assert.ok(apps.some((x) => x.client_id === app.client_id), 'B sees the app made on A');
    assert.equal(apps.filter((x) => x.name === 'Demo app').length, 1, 'B added no demo app of its own');
  });

  test('a code issued on node A is redeemed on node B, and its token works on both', async () => {
    const t = await redeemOn(b, await codeOn(a));
    assert.equal(t.status, 200, t.text);
    assert.equal(await check(a.url, t.body.access_token), 204);
    assert.equal(await check(b.url, t.body.access_token), 204);
  });

  test('a session made on A is valid on B, and signing out on B ends it on A', async () => {
    const sa = await signedIn(a);
    const sb = new Session(b.url);
    sb.jar = new Map(sa.jar);
    const page = await sb.get('/oauth/apps');
    assert.equal(page.status, 200);
    assert.match(page.text_, /nodeuser/);
    const csrf = page.text_.match(/name="csrf" value="([^"]+)"/)[1];
    const out = await sb.post('/oauth/logout', { form: { csrf } });
    assert.ok([303, 200].includes(out.status), `logout: ${out.status}`);
    const again = await sa.get('/oauth/apps');
    assert.equal(again.status, 302, 'A sends the signed-out browser to the login page');
    assert.match(again.headers.get('location'), /\/oauth\/login/);
  });

  test('a token revoked on B is refused on A at once', async () => {
    const t = (await redeemOn(a, await codeOn(a))).body;
    assert.equal(await check(a.url, t.access_token), 204);
    const r = await revoke(b.url, { token: t.access_token }, creds());
    assert.equal(r.status, 200);
    assert.equal(await check(a.url, t.access_token), 401, 'no cache keeps it alive on A');
    assert.equal(await check(b.url, t.access_token), 401);
  });

  test('one code redeemed on both nodes at once: exactly one wins, and the replay revokes its token', async () => {
    for (let i = 0; i < 12; i++) {
      const code = await codeOn(a);
      const [ra, rb] = await Promise.all([redeemOn(a, code), redeemOn(b, code)]);
      const won = [ra, rb].filter((r) => r.status === 200);
      const lost = [ra, rb].filter((r) => r.status !== 200);
      assert.equal(won.length, 1, `round ${i}: ${ra.status} ${ra.text} / ${rb.status} ${rb.text}`);
      assert.equal(lost[0].status, 400);
      assert.equal(lost[0].body.error, 'invalid_grant');
      assert.equal(await check(a.url, won[0].body.access_token), 401, `round ${i}: the replay revoked what the code gave`);
    }
  });

  test('a refresh token rotated on A and reused on B ends the grant on both', async () => {
    const t = (await redeemOn(a, await codeOn(a))).body;
    assert.ok(t.refresh_token);
    const next = await token(a.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, creds());
    assert.equal(next.status, 200, next.text);
    const reuse = await token(b.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, creds());
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.equal(await check(a.url, next.body.access_token), 401);
    const again = await token(a.url, { grant_type: 'refresh_token', refresh_token: next.body.refresh_token }, creds());
    assert.equal(again.status, 400);
  });

  test('a device login started on A is approved on B and collected on A; polling B right after A is too fast', async () => {
    const d = await token(a.url, { client_id: a.cli_app.client_id }, null, { path: '/oauth/device_authorization' });
    assert.equal(d.status, 200, d.text);
    const first = await token(a.url, { grant_type: DEVICE_GRANT, device_code: d.body.device_code, client_id: a.cli_app.client_id });
    assert.equal(first.body.error, 'authorization_pending');
    const fast = await token(b.url, { grant_type: DEVICE_GRANT, device_code: d.body.device_code, client_id: a.cli_app.client_id });
    assert.equal(fast.body.error, 'slow_down', 'the interval is kept across nodes');
    const sb = await signedIn(b);
    const page = await sb.get('/oauth/device?' + new URLSearchParams({ code: d.body.user_code }));
    assert.equal(page.status, 200);
    const done = await sb.post('/oauth/device', { form: { ...consentForm(page.text_), action: 'approve' } });
    assert.equal(done.status, 200);
    let got;
    for (let i = 0; i < 30; i++) {
      got = await token(a.url, { grant_type: DEVICE_GRANT, device_code: d.body.device_code, client_id: a.cli_app.client_id });
      if (got.status === 200 || got.body?.error !== 'slow_down') break;
      await sleep(1000);
    }
    assert.equal(got.status, 200, got.text);
    assert.equal(await check(b.url, got.body.access_token), 204);
    const twice = await token(b.url, { grant_type: DEVICE_GRANT, device_code: d.body.device_code, client_id: a.cli_app.client_id });
    assert.notEqual(twice.status, 200, 'collected once');
  });

  test('the janitor works on one node at a time: with another holding the lock it removes nothing and says so', async () => {
    const holder = spawn('psql', ['-X', '-q', '-d', database], { stdio: ['pipe', 'pipe', 'pipe'] });
    holder.stdin.write(`SELECT pg_advisory_lock(${JANITOR_LOCK});\n\\echo held\n`);
    await new Promise((resolve, reject) => {
      holder.stdout.on('data', (c) => { if (String(c).includes('held')) resolve(); });
      holder.once('exit', (c) => reject(new Error(`psql exited ${c}`)));
    });
    try {
      const r = b.cliRun(['--json', 'janitor']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.match(String(out.skipped), /another janitor is running/, r.stdout);
    } finally {
      holder.stdin.end('\\q\n');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    const both = await Promise.all([a, b].map((s) => new Promise((resolve) => {
      const p = spawn(path.join(process.env.POSTERN_BUILD || path.join(root, 'build'), 'postern'), ['--config', s.config, '--json', 'janitor']);
      let out = '';
      p.stdout.on('data', (c) => { out += c; });
      p.once('exit', (code) => resolve({ code, out }));
    })));
    for (const r of both) assert.equal(r.code, 0, r.out);
  });

  test('PostgreSQL restarting under load: 503 with Retry-After meanwhile, never a false answer, then the same processes serve again', async () => {
    const live = (await redeemOn(a, await codeOn(a))).body.access_token;
    const dead = (await redeemOn(a, await codeOn(a))).body.access_token;
    assert.equal((await revoke(a.url, { token: dead }, creds())).status, 200);
    const pids = readFileSync(path.join(a.dir, 'run', 'pids'), 'utf8');
    const seen = { live: new Map(), dead: new Map() };
    let noRetryAfter = 0, stop = false;
    async function hammer() {
      while (!stop) {
        for (const [name, t] of [['live', live], ['dead', dead]]) {
          const r = await fetch(a.url + '/oauth/check', { headers: { authorization: `Bearer ${t}` } });
          await r.arrayBuffer();
          seen[name].set(r.status, (seen[name].get(r.status) || 0) + 1);
          if (r.status === 503 && !r.headers.get('retry-after')) noRetryAfter++;
        }
      }
    }
    const load = [hammer(), hammer(), hammer()];
    await sleep(300);
    // not spawnSync: the load goes on while PostgreSQL stops and starts
    const rs = await new Promise((resolve) => {
      const p = spawn(path.join(root, 'tools/pg.sh'), ['restart', pgDir], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (c) => { err += c; });
      p.once('exit', (status) => resolve({ status, err }));
    });
    assert.equal(rs.status, 0, rs.err);
    // back within a few seconds, without restarting postern
    let back = false;
    for (let i = 0; i < 50 && !back; i++) {
      await sleep(200);
      back = (await check(a.url, live)) === 204 && (await check(b.url, live)) === 204;
    }
    stop = true;
    await Promise.all(load);
    assert.ok(back, 'both nodes answer again after the restart');
    assert.deepEqual([...seen.dead.keys()].filter((s) => s !== 401 && s !== 503), [], `revoked token: ${[...seen.dead]}`);
    assert.deepEqual([...seen.live.keys()].filter((s) => s !== 204 && s !== 503), [], `live token: ${[...seen.live]}`);
    assert.ok((seen.live.get(503) || 0) + (seen.dead.get(503) || 0) > 0, 'the restart was seen (503s)');
    assert.equal(noRetryAfter, 0, 'every 503 carries Retry-After');
    assert.equal(readFileSync(path.join(a.dir, 'run', 'pids'), 'utf8'), pids, 'the same executables');
    const t = await redeemOn(b, await codeOn(a));
    assert.equal(t.status, 200, 'writes work again too');
  });
});
