// stack.test.mjs: tools/stack.sh itself (what `make run` and every test stands on): a
// checkout in a private (0700) home comes up as root without widening any permission; a
// taken port is refused up front, named with the process that holds it, and nothing is
// left running; a second `up` on a running state folder is refused, naming it, while
// `down` and restarts work; a state folder moves to another PORT with its users, apps and
// secrets, base_url and the demo app's redirect URI following.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startStack, freePort, root, build, sanitizerReports } from '../lib/stack.mjs';
import { Session, check, tokenFor } from '../lib/client.mjs';

const EXES = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device', 'postern'];

/* tools/stack.sh CMD DIR (of checkout co) with env on top: {status, stdout, stderr}. */
function stackSh(cmd, dir, env = {}, co = root, bld = build) {
  return spawnSync(path.join(co, 'tools/stack.sh'), [cmd, dir],
    { env: { ...process.env, POSTERN_BUILD: bld, ...env }, encoding: 'utf8', timeout: 30000 });
}
const info = (r) => JSON.parse(r.stdout.trim().split('\n').pop());

function alive(pid) {
  let s;
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return false; }
  const state = s.slice(s.lastIndexOf(')') + 2)[0];
  return state !== 'Z' && state !== 'X';
}
/* The live processes started from state folder dir: nginx (its command line names dir)
 * and the executables under spawn-fcgi with their workers (POSTERN_CONFIG=dir/postern.conf). */
function processesOf(dir) {
  const env = `POSTERN_CONFIG=${path.join(dir, 'postern.conf')}`;
  const read = (f) => { try { return readFileSync(f, 'latin1'); } catch { return ''; } };
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((p) => p !== process.pid && alive(p)
    && (read(`/proc/${p}/cmdline`).includes(dir) || read(`/proc/${p}/environ`).split('\0').includes(env)));
}
const listening = (srv, port, host) => new Promise((resolve, reject) => {
  srv.once('error', reject);
  srv.listen(port, host, () => resolve(srv.address().port));
});
const closing = (srv) => new Promise((resolve) => srv.close(() => resolve()));

describe('a checkout in a private home', () => {
  // not root, nginx's workers are the user's own processes: nothing to show
  test('as root, a stack in a 0700 folder serves /health, static files and pages; no permission widened',
    { skip: process.getuid() !== 0 && 'needs root', timeout: 60000 }, async () => {
      const home = mkdtempSync(path.join(os.tmpdir(), 'postern-home-'));
      chmodSync(home, 0o700);
      const co = path.join(home, 'postern');
      const state = path.join(co, 'var');
      try {
        for (const d of ['tools', 'conf', 'static', 'templates']) cpSync(path.join(root, d), path.join(co, d), { recursive: true });
        mkdirSync(path.join(co, 'build'));
        for (const e of EXES) copyFileSync(path.join(build, e), path.join(co, 'build', e));
        mkdirSync(state, { mode: 0o700 });
        const r = stackSh('up', state, { PORT: String(await freePort()) }, co, path.join(co, 'build'));
        try {
          assert.equal(r.status, 0, r.stderr);
          const s = info(r);
          assert.equal((await fetch(s.url + '/health')).status, 200);
          const css = await fetch(s.url + '/oauth/static/style.css');
          assert.equal(css.status, 200);
          assert.equal(await css.text(), readFileSync(path.join(co, 'static/style.css'), 'utf8'));
          // a page (templates) and the database through a sign-in
          await new Session(s.url).signIn('demo', s.password);
          assert.equal(statSync(home).mode & 0o777, 0o700, 'the home was opened up');
          assert.equal(statSync(state).mode & 0o777, 0o700, 'the state folder was opened up');
          for (const f of readdirSync(path.join(state, 'run')).filter((n) => n.endsWith('.sock')))
            assert.equal(statSync(path.join(state, 'run', f)).mode & 0o077, 0, `${f} is open to others`);
        } finally {
          stackSh('down', state, {}, co, path.join(co, 'build'));
        }
        assert.deepEqual(processesOf(state), []);
        assert.deepEqual(sanitizerReports(state), []);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });
});

describe('a taken port', () => {
  test('is named with the process that holds it, and nothing of the stack is left running', { timeout: 60000 }, async () => {
    const srv = createServer();
    const port = await listening(srv, 0, '127.0.0.1');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-test-'));
    try {
      const r = stackSh('up', dir, { PORT: String(port) });
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stderr, new RegExp(`port ${port} is taken: 127\\.0\\.0\\.1:${port} by \\S+ \\(pid ${process.pid}\\)`));
      assert.deepEqual(processesOf(dir), [], 'left running');
      // once the port is free, the same folder comes up
      await closing(srv);
      const ok = stackSh('up', dir, { PORT: String(port) });
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal((await fetch(info(ok).url + '/health')).status, 200);
    } finally {
      srv.close();
      stackSh('down', dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('by an IPv6 socket on every address: nginx fails to bind, the port is named, nothing is left', { timeout: 60000 }, async (t) => {
    const srv = createServer();
    let port;
    try { port = await listening(srv, 0, '::'); } catch { t.skip('no IPv6'); return; }
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-test-'));
    try {
      const r = stackSh('up', dir, { PORT: String(port) });
      if (r.status === 0) { t.skip('this IPv6 socket does not take 127.0.0.1 (IPV6_V6ONLY)'); return; }
      assert.match(r.stderr, new RegExp(`port ${port} is taken: \\[::\\]:${port} by \\S+ \\(pid ${process.pid}\\)`));
      assert.deepEqual(processesOf(dir), [], 'left running');
    } finally {
      srv.close();
      stackSh('down', dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('one stack per state folder', () => {
  test('a second up is refused, naming the running one; down stops it; restarts work', { timeout: 90000 }, async () => {
    const stack = await startStack();
    try {
      const port = new URL(stack.url).port;
      const nginxPid = () => Number(readFileSync(path.join(stack.dir, 'run/nginx.pid'), 'utf8'));
      const first = nginxPid();
      for (const p of [port, String(await freePort())]) {
        const r = stackSh('up', stack.dir, { PORT: p });
        assert.notEqual(r.status, 0, `up on PORT=${p} took over`);
        assert.match(r.stderr, new RegExp(`is running on 127\\.0\\.0\\.1:${port} \\(pids ${first} `));
        assert.match(r.stderr, /stack\.sh down /);
      }
      // untouched: same nginx, same port in the config, still answering
      assert.equal(nginxPid(), first);
      assert.match(readFileSync(stack.config, 'utf8'), new RegExp(`^base_url = http://127\\.0\\.0\\.1:${port}$`, 'm'));
      assert.equal((await fetch(stack.url + '/health')).status, 200);
      await stack.restart();
      assert.notEqual(nginxPid(), first);
      assert.equal((await fetch(stack.url + '/health')).status, 200);
      await stack.down();
      assert.deepEqual(processesOf(stack.dir), [], 'down left processes');
      // pids left by a stack killed outright, taken since by another process (here this
      // test's own): not a running stack, and up must not touch that process
      const stale = ['run/pids', 'run/nginx.pid'].map((f) => path.join(stack.dir, f));
      for (const f of stale) writeFileSync(f, `${process.pid}\n`);
      try {
        stack.up();
      } catch (e) {
        for (const f of stale) rmSync(f, { force: true }); // or stop() would signal this process
        throw e;
      }
      assert.equal((await fetch(stack.url + '/health')).status, 200);
      assert.ok(!readFileSync(path.join(stack.dir, 'run/pids'), 'utf8').split('\n').includes(String(process.pid)));
    } finally {
      await stack.stop();
    }
  });
});

describe('another PORT on the same state folder', () => {
  test('moves the state there: the demo user signs in, the demo app redirects to the new port', { timeout: 90000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-test-'));
    try {
      const p1 = await freePort();
      const r1 = stackSh('up', dir, { PORT: String(p1) });
      assert.equal(r1.status, 0, r1.stderr);
      const one = info(r1);
      const old = JSON.parse(readFileSync(path.join(dir, 'demo-app.json'), 'utf8'));
      stackSh('down', dir);
      let p2 = await freePort();
      while (p2 === p1) p2 = await freePort();
      const r2 = stackSh('up', dir, { PORT: String(p2) });
      assert.equal(r2.status, 0, r2.stderr);
      assert.match(r2.stderr, new RegExp(`set up for port ${p1}: moved to ${p2}`));
      const two = info(r2);
      const cb = `http://127.0.0.1:${p2}/demo/callback`;
      assert.equal(two.url, `http://127.0.0.1:${p2}`);
      assert.equal(two.password, one.password);
      assert.equal(two.app.client_id, old.client_id);
      assert.equal(two.app.client_secret, old.client_secret);
      assert.deepEqual(two.app.redirect_uris, [cb]);
      const conf = readFileSync(path.join(dir, 'postern.conf'), 'utf8');
      assert.match(conf, new RegExp(`^base_url = http://127\\.0\\.0\\.1:${p2}$`, 'm'));
      assert.match(conf, new RegExp(`^api_url = http://127\\.0\\.0\\.1:${p2}/api$`, 'm'));
      assert.ok(!conf.includes(`:${p1}`), conf);
      const shown = JSON.parse(execFileSync(path.join(build, 'postern'), ['--config', path.join(dir, 'postern.conf'), '--json', 'app', 'show', old.client_id], { encoding: 'utf8' }));
      assert.deepEqual(shown.redirect_uris, [cb]);
      const meta = await (await fetch(two.url + '/.well-known/oauth-authorization-server')).json();
      assert.equal(meta.issuer, two.url);
      // the same user, password and app, through the whole flow on the new port
      const s = new Session(two.url);
      await s.signIn('demo', one.password);
      const t = await tokenFor({ url: two.url }, s, old, { redirect_uri: cb });
      assert.equal(await check(two.url, t.access_token), 204);
      // (a loopback redirect URI matches on any port, RFC 8252 §7.3: the registered one is
      // what shows the move, above)
      // and on again
      stackSh('down', dir);
      const p3 = await freePort();
      const r3 = stackSh('up', dir, { PORT: String(p3) });
      assert.equal(r3.status, 0, r3.stderr);
      assert.deepEqual(info(r3).app.redirect_uris, [`http://127.0.0.1:${p3}/demo/callback`]);
      await new Session(info(r3).url).signIn('demo', one.password);
    } finally {
      stackSh('down', dir);
      const reports = sanitizerReports(dir);
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(reports, []);
    }
  });
});
