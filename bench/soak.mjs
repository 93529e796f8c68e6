// soak.mjs: a long mixed load against a real stack, watching for errors, leaks and crashes.
//
//   node bench/soak.mjs [--minutes 60]        (make soak)
//
// Starts its own stack (tests/lib/stack.mjs; POSTERN_BUILD, default build/), seeds users and
// two apps, and runs bounded loopback loops for the whole duration: sign-ins and sign-outs,
// code flows (a confidential app, and a public one with PKCE), refreshes, checks of the
// tokens it holds (most of the requests), introspection, RFC 7009 revocations, device
// flows, and the janitor every 60 s. Every answer is compared with what it must be, from
// what the soak knows of each token (issued when, expires when, revoked when). Every 30 s it
// samples each process (RSS, open files), the database and WAL sizes and the request counts
// into bench/out/soak-TIME.csv; at the end of the warm-up (the first 5 minutes, or 20% of a
// shorter run) and at the end it pauses the load for a few seconds and takes a quiet
// sample, and compares the two. The report goes to stdout and bench/out/soak-TIME.txt.
// Exit status 1 when any answer was wrong, a process was replaced or died, a sanitizer
// reported, or a process grew (RSS by more than 10%, or any open file).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startStack, root, build, sanitizerReports } from '../tests/lib/stack.mjs';
import { Session, authorize, token, check, revoke, pkce, consentForm } from '../tests/lib/client.mjs';

// ---------------------------------------------------------------- options

function usage(msg) {
  if (msg) console.error(`soak.mjs: ${msg}`);
  console.error('usage: node bench/soak.mjs [--minutes N]');
  process.exit(2);
}
let minutes = 60;
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--minutes') minutes = Number(process.argv[++i]);
  else if (a.startsWith('--minutes=')) minutes = Number(a.slice(10));
  else if (a === '--help' || a === '-h') usage();
  else usage(`unknown argument ${a}`);
}
if (!(minutes > 0)) usage('--minutes takes a positive number');

const DURATION = minutes * 60_000;
const WARMUP = Math.min(5 * 60_000, DURATION * 0.2);
const SAMPLE_EVERY = 30_000;
const JANITOR_EVERY = 60_000;
const QUIET = 6_000;              // load paused before a quiet sample (node drops idle sockets after 4 s)
const ACCESS_TTL = 120, REFRESH_TTL = 300, DEVICE_INTERVAL = 1;
const MARGIN = 2_000;             // the server counts whole seconds: no verdict this close to an expiry
const REQ_TIMEOUT = 15_000;
const RSS_GROWTH = 0.10;

const USERS = ['soak1', 'soak2', 'soak3', 'soak4'];
const CONF_CB = 'https://soak.example/cb', PUB_CB = 'http://127.0.0.1/soak-cb';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
const outDir = path.join(root, 'bench/out');
mkdirSync(outDir, { recursive: true });
const csvFile = path.join(outDir, `soak-${stamp}.csv`);
const txtFile = path.join(outDir, `soak-${stamp}.txt`);
let t0 = Date.now();        // set again when the load starts
const elapsed = () => Math.round((Date.now() - t0) / 1000);

// ---------------------------------------------------------------- counting

/* Every request goes through this fetch: counted by kind, and given a timeout. */
const counts = new Map();
const realFetch = globalThis.fetch;
function kindOf(method, url, body) {
  const p = new URL(url).pathname;
  let k = `${method} ${p}`;
  if (p === '/oauth/token' && typeof body === 'string') {
    const g = new URLSearchParams(body).get('grant_type') ?? '';
    k += ' ' + ({ authorization_code: 'code', refresh_token: 'refresh', [DEVICE_GRANT]: 'device' }[g] ?? g);
  }
  return k;
}
globalThis.fetch = (url, opts = {}) => {
  const k = kindOf(opts.method ?? 'GET', String(url), opts.body);
  counts.set(k, (counts.get(k) ?? 0) + 1);
  return realFetch(url, { ...opts, signal: opts.signal ?? AbortSignal.timeout(REQ_TIMEOUT) });
};
const totalRequests = () => [...counts.values()].reduce((a, b) => a + b, 0);

let errors = 0;
const samples = [];
function fail(what, msg) {
  errors++;
  if (samples.length < 20) samples.push(`${elapsed()}s ${what}: ${String(msg).replace(/\s+/g, ' ').slice(0, 300)}`);
}
const ops = new Map();   // operation -> { done, skipped } (skipped: no verdict possible, e.g. at an expiry)
const op = (name, field = 'done') => { const o = ops.get(name) ?? { done: 0, skipped: 0 }; o[field]++; ops.set(name, o); };

// ---------------------------------------------------------------- the stack

console.log(`soak: ${minutes} min, warm-up ${Math.round(WARMUP / 1000)} s, build ${build}`);
const RATE = '1000000r/s';
const stack = await startStack({ env: {
  EXTRA_CONFIG: `access_token_ttl = ${ACCESS_TTL}\nrefresh_token_ttl = ${REFRESH_TTL}\ndevice_interval = ${DEVICE_INTERVAL}`,
  LOGIN_RATE: RATE, TOKEN_RATE: RATE, AUTHORIZE_RATE: RATE, INTROSPECT_RATE: RATE,
  REVOKE_RATE: RATE, DEVICE_RATE: RATE, REGISTER_RATE: RATE,
} });
console.log(`soak: stack in ${stack.dir} at ${stack.url}`);

let stopping = false;
async function teardown(keep) {
  await stack.down();
  if (!keep && !process.env.KEEP_STACK) rmSync(stack.dir, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => {
  console.error(`soak: ${sig}, stopping the stack`);
  await teardown(false);
  process.exit(130);
});

const users = USERS.map((name) => {
  const password = `pw-${name}-${randomBytes(6).toString('hex')}`;
  stack.cli(['user', 'add', name], password + '\n');
  return { name, password, session: null, tail: Promise.resolve() };
});
const conf = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Soak confidential', '--owner', USERS[0],
  '--redirect-uri', CONF_CB]));
const pub = JSON.parse(stack.cli(['--json', 'app', 'create', '--name', 'Soak public', '--public',
  '--redirect-uri', PUB_CB]));
const cli = stack.cli_app;   // the seeded public device-flow app
const confCreds = [conf.client_id, conf.client_secret];
for (const u of users) { u.session = new Session(stack.url); await u.session.signIn(u.name, u.password); }

/* Runs fn with the user's lock held: everything that makes, changes or ends a grant of a
 * user (code and device flows, refreshes, revocations, sign-outs) runs one at a time per
 * user, so the soak always knows which tokens are live. */
function locked(u, fn) {
  const run = u.tail.then(fn);
  u.tail = run.catch(() => {});
  return run;
}

// ---------------------------------------------------------------- what the soak knows of its tokens

/* { access, refresh, user, app, key (the grant: user|app), sent, recv (when the token
 * answer was asked for and came: the issue time is in between), refreshUsed, revokeSent,
 * revokeDone } */
let pool = [];
function addTokens(u, app, body, sent, recv) {
  pool.push({ access: body.access_token, refresh: body.refresh_token, user: u.name, app: app.client_id,
    key: `${u.name}|${app.client_id}`, sent, recv, refreshUsed: false, revokeSent: 0, revokeDone: 0 });
  if (pool.length > 4000) pool = pool.slice(-3000);
}
/* 'live', 'dead' or 'either' for a request sent at a and answered at b. */
function accessState(t, a, b) {
  if ((t.revokeDone && t.revokeDone <= a) || a > t.recv + ACCESS_TTL * 1000 + MARGIN) return 'dead';
  if ((!t.revokeSent || t.revokeSent >= b) && b < t.sent + ACCESS_TTL * 1000 - MARGIN) return 'live';
  return 'either';
}
/* the seeded CLI app may use the device grant only: its tokens are never refreshed */
const refreshLive = (t, now) => t.app !== cli.client_id && !t.refreshUsed && !t.revokeSent && now < t.sent + REFRESH_TTL * 1000 - MARGIN;
const refreshExpired = (t, now) => t.app !== cli.client_id && !t.refreshUsed && !t.revokeSent && now > t.recv + REFRESH_TTL * 1000 + MARGIN;
function prune() {
  const now = Date.now();
  pool = pool.filter((t) => now < t.recv + Math.max(ACCESS_TTL, REFRESH_TTL) * 1000 + 120_000);
}
const clientOf = (app) => (app === conf.client_id ? conf : app === pub.client_id ? pub : cli);

// ---------------------------------------------------------------- the operations

function expectToken(what, r, refresh = true) {
  if (r.status !== 200 || !r.body?.access_token || (refresh && !r.body?.refresh_token) || r.body.expires_in !== ACCESS_TTL)
    throw new Error(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
}

/* A code flow for a user, with the confidential app or the public one (PKCE). */
function codeFlow(u, app) { return locked(u, () => codeFlowLocked(u, app)); }
async function codeFlowLocked(u, app) {
  const isPub = app === pub;
  const cb = isPub ? PUB_CB : CONF_CB;
  const { verifier, challenge } = pkce();
  const q = { client_id: app.client_id, redirect_uri: cb, scope: 'profile', state: randomBytes(6).toString('hex') };
  if (isPub) Object.assign(q, { code_challenge: challenge, code_challenge_method: 'S256' });
  const a = await authorize(u.session, q);
  if (!a.code || a.state !== q.state || !a.location?.startsWith(cb))
    throw new Error(`authorize ${a.status} ${a.location} ${a.res.text_.slice(0, 200)}`);
  const body = { grant_type: 'authorization_code', code: a.code, redirect_uri: cb };
  if (isPub) Object.assign(body, { client_id: app.client_id, code_verifier: verifier });
  const sent = Date.now();
  const r = await token(stack.url, body, isPub ? null : confCreds);
  expectToken('code redemption', r);
  addTokens(u, app, r.body, sent, Date.now());
  op(isPub ? 'code flow, public (PKCE)' : 'code flow, confidential');
}

async function refreshOne() {
  const now = Date.now();
  const expired = Math.random() < 0.1 ? pool.filter((t) => refreshExpired(t, now)) : [];
  const cands = expired.length ? expired : pool.filter((t) => refreshLive(t, now));
  if (!cands.length) return;
  const t = pick(cands);
  const u = users.find((x) => x.name === t.user);
  await locked(u, async () => {
    const n = Date.now();
    const live = refreshLive(t, n), dead = refreshExpired(t, n);
    if (!live && !dead) return;          // revoked or used meanwhile, or at its expiry
    const app = clientOf(t.app);
    const body = { grant_type: 'refresh_token', refresh_token: t.refresh };
    if (app !== conf) body.client_id = app.client_id;
    const sent = Date.now();
    const r = await token(stack.url, body, app === conf ? confCreds : null);
    t.refreshUsed = true;
    if (live) {
      expectToken('refresh', r);
      addTokens(u, app, r.body, sent, Date.now());
      op('refresh');
    } else {
      if (r.status !== 400 || r.body?.error !== 'invalid_grant') throw new Error(`refresh of an expired refresh token: ${r.status} ${r.text.slice(0, 200)}`);
      op('refresh, expired refresh token (invalid_grant)');
    }
  });
}

/* /oauth/check of a token the soak holds (or 1 in 20 times a made-up one). */
async function checkOne() {
  if (Math.random() < 0.05 || !pool.length) {
    const bogus = 'pat_' + randomBytes(30).toString('base64url').replace(/[-_]/g, 'x').slice(0, 49);
    const s = await check(stack.url, bogus);
    if (s !== 401) fail('check, unknown token', `${s}, expected 401`);
    op('check, unknown token');
    return;
  }
  const t = pick(pool);
  const a = Date.now();
  let status, user = null;
  if (Math.random() < 0.1) {   // now and then read the headers too
    const r = await fetch(stack.url + '/oauth/check', { headers: { authorization: `Bearer ${t.access}` } });
    await r.arrayBuffer();
    status = r.status;
    user = r.headers.get('x-oauth-user');
  } else status = await check(stack.url, t.access);
  const want = accessState(t, a, Date.now());
  if (want === 'either') { op('check', 'skipped'); if (status === 204 || status === 401) return; }
  const ok = want === 'live' ? status === 204 : want === 'dead' ? status === 401 : false;
  if (!ok) return fail('check', `${status} for a ${want === 'either' ? 'token at its end' : want} token (${t.user}, ${t.app === conf.client_id ? 'conf' : t.app === pub.client_id ? 'pub' : 'cli'}, age ${Math.round((a - t.recv) / 1000)} s, revoked ${t.revokeDone ? Math.round((a - t.revokeDone) / 1000) + ' s before' : 'no'})`);
  if (user !== null && status === 204 && user !== t.user) return fail('check', `X-OAuth-User ${user}, expected ${t.user}`);
  op(want === 'live' ? 'check, live token' : 'check, dead token');
}

/* Introspection by the confidential app: its own tokens are active or not as the soak
 * knows them; the other apps' tokens are always inactive to it. */
async function introspectOne() {
  if (!pool.length) return;
  const t = pick(pool);
  const a = Date.now();
  const r = await token(stack.url, { token: t.access }, confCreds, { path: '/oauth/introspect' });
  let want = t.app === conf.client_id ? accessState(t, a, Date.now()) : 'dead';
  if (r.status !== 200 || typeof r.body?.active !== 'boolean') return fail('introspect', `${r.status} ${r.text.slice(0, 200)}`);
  if (want === 'either') { op('introspect', 'skipped'); return; }
  if (r.body.active !== (want === 'live')) return fail('introspect', `active ${r.body.active} for a ${want} token`);
  if (r.body.active && r.body.username !== undefined && r.body.username !== t.user) return fail('introspect', `username ${r.body.username}, expected ${t.user}`);
  op(t.app === conf.client_id ? `introspect, ${want} token` : "introspect, another app's token");
}

/* RFC 7009: an access token (that token ends) or, 1 in 3, a refresh token (its whole grant
 * ends: every token of that user and app). */
async function revokeOne() {
  const now = Date.now();
  const cands = pool.filter((t) => !t.revokeSent && accessState(t, now, now) === 'live');
  if (!cands.length) return;
  const t = pick(cands);
  const u = users.find((x) => x.name === t.user);
  const refreshToo = Math.random() < 1 / 3;
  await locked(u, async () => {
    if (t.revokeSent) return;
    if (refreshToo && t.refreshUsed) return;   // only a live refresh token ends the grant
    const app = clientOf(t.app);
    const body = { token: refreshToo ? t.refresh : t.access };
    if (app !== conf) body.client_id = app.client_id;
    const hit = refreshToo ? pool.filter((x) => x.key === t.key && !x.revokeSent) : [t];
    const sent = Date.now();
    for (const x of hit) x.revokeSent = sent;
    const r = await revoke(stack.url, body, app === conf ? confCreds : null);
    const done = Date.now();
    if (r.status !== 200) {
      for (const x of hit) x.revokeSent = 0;
      throw new Error(`revoke ${refreshToo ? 'refresh' : 'access'}: ${r.status} ${r.text.slice(0, 200)}`);
    }
    for (const x of hit) x.revokeDone = done;
    if (refreshToo) for (const x of pool) if (x.key === t.key) x.refreshUsed = true;   // the grant's refresh tokens end too
    op(refreshToo ? 'revoke, refresh token (grant)' : 'revoke, access token');
    // the token is refused at once
    const s = await check(stack.url, t.access);
    if (s !== 401) fail('check after revoke', `${s}, expected 401`);
  });
}

/* RFC 8628 with the seeded public CLI app: ask, poll (pending), approve, poll (token),
 * poll again (invalid_grant). */
async function deviceFlow(u) {
  const d = await token(stack.url, { client_id: cli.client_id, scope: 'profile' }, null, { path: '/oauth/device_authorization' });
  if (d.status !== 200 || !d.body?.device_code) throw new Error(`device_authorization ${d.status} ${d.text.slice(0, 200)}`);
  const poll = () => token(stack.url, { grant_type: DEVICE_GRANT, device_code: d.body.device_code, client_id: cli.client_id });
  let r = await poll();
  if (r.status !== 400 || r.body?.error !== 'authorization_pending') throw new Error(`device poll before approval: ${r.status} ${r.text.slice(0, 200)}`);
  await locked(u, async () => {
    const page = await u.session.get('/oauth/device?' + new URLSearchParams({ code: d.body.user_code }));
    if (page.status !== 200 || !/name="action" value="approve"/.test(page.text_)) throw new Error(`device page ${page.status} ${page.text_.slice(0, 200)}`);
    const done = await u.session.post('/oauth/device', { form: { ...consentForm(page.text_), action: 'approve' } });
    if (done.status !== 200) throw new Error(`device approval ${done.status} ${done.text_.slice(0, 200)}`);
    await sleep(DEVICE_INTERVAL * 1000 + 100);
    const sent = Date.now();
    r = await poll();
    expectToken('device poll after approval', r, false);
    addTokens(u, cli, r.body, sent, Date.now());
    r = await poll();
    if (r.status !== 400 || r.body?.error !== 'invalid_grant') throw new Error(`device poll after collection: ${r.status} ${r.text.slice(0, 200)}`);
  });
  op('device flow');
}

/* A new sign-in replaces the user's session; the old one signs out and must be dead. */
async function signInOut(u) {
  await locked(u, async () => {
    const s = new Session(stack.url);
    await s.signIn(u.name, u.password);
    const old = u.session;
    u.session = s;
    op('sign-in');
    const cookie = [...old.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const csrf = await old.csrf('/oauth/apps');
    const out = await old.post('/oauth/logout', { form: { csrf } });
    if (out.status !== 303) throw new Error(`logout ${out.status} ${out.text_.slice(0, 200)}`);
    const r = await fetch(stack.url + '/oauth/authorize?' + new URLSearchParams({ response_type: 'code', client_id: conf.client_id, redirect_uri: CONF_CB }),
      { headers: { cookie }, redirect: 'manual' });
    await r.arrayBuffer();
    const loc = r.headers.get('location') ?? '';
    if (r.status !== 302 || new URL(loc, stack.url).pathname !== '/oauth/login') throw new Error(`signed-out cookie: ${r.status} ${loc}`);
    op('sign-out');
  });
}

const janitor = { runs: 0, totals: {} };
function runJanitor() {
  return new Promise((resolve) => {
    counts.set('janitor (admin command)', (counts.get('janitor (admin command)') ?? 0) + 1);
    execFile(path.join(build, 'postern'), ['--config', stack.config, '--json', 'janitor'], { encoding: 'utf8', timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) fail('janitor', `${err.message} ${stderr}`);
        else {
          janitor.runs++;
          try {
            for (const [k, v] of Object.entries(JSON.parse(stdout))) if (typeof v === 'number') janitor.totals[k] = (janitor.totals[k] ?? 0) + v;
          } catch { /* not JSON: counted as run */ }
        }
        resolve();
      });
  });
}

// ---------------------------------------------------------------- the loops

let gate = null;     // a promise while the load is paused for a quiet sample
let inFlight = 0;
async function loop(name, every, fn) {
  while (!stopping) {
    if (gate) { await gate; continue; }
    const start = Date.now();
    inFlight++;
    try { await fn(); } catch (e) { fail(name, e.message); } finally { inFlight--; }
    const rest = every - (Date.now() - start);
    if (rest > 0) await sleep(rest);
  }
}
const LOOPS = [
  // name, period (ms, at least: one operation, then the rest of it sleeping), operation, loops
  ['check', 10, checkOne, 2],
  ['introspect', 100, introspectOne, 1],
  ['code flow', 500, () => codeFlow(pick(users), Math.random() < 0.5 ? conf : pub), 2],
  ['refresh', 500, refreshOne, 1],
  ['revoke', 2000, revokeOne, 1],
  ['device flow', 2000, () => deviceFlow(pick(users)), 1],
  ['sign-in/out', 2000, () => signInOut(pick(users)), 1],
];

// ---------------------------------------------------------------- sampling

const cgis = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device'];
const supervisors = readFileSync(path.join(stack.dir, 'run/pids'), 'utf8').trim().split('\n').map(Number);
const nginxPid = Number(readFileSync(path.join(stack.dir, 'run/nginx.pid'), 'utf8').trim());

function children(pid) {
  try { return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { /* scan */ }
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}
function alive(pid) {
  try { const st = readFileSync(`/proc/${pid}/stat`, 'utf8'); return !/^[ZX]$/.test(st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3)); } catch { return false; }
}
function procInfo(pid) {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    let fds = 0, sockets = 0;
    for (const f of readdirSync(`/proc/${pid}/fd`)) {
      fds++;
      try { if (readlinkSync(`/proc/${pid}/fd/${f}`).startsWith('socket:')) sockets++; } catch { /* closed meanwhile */ }
    }
    return { rss, fds, sockets };
  } catch { return null; }
}

/* Process slots: a name (token, token.w1, nginx.w1, ...) keeps its slot; a new pid in a
 * slot is a replaced process. */
const slots = new Map();    // name -> { pid, pids: [], samples: [{t, phase, rss, fds, sockets}] }
const replaced = [];
const deaths = [];
function assign(prefix, pids) {
  const mine = [...slots.entries()].filter(([n]) => n.startsWith(prefix + '.w'));
  const known = new Set(mine.map(([, s]) => s.pid));
  const fresh = pids.filter((p) => !known.has(p)).sort((a, b) => a - b);
  for (const [n, s] of mine) {
    if (pids.includes(s.pid) || !fresh.length) continue;
    const p = fresh.shift();
    replaced.push(`${elapsed()}s ${n}: pid ${s.pid} replaced by ${p}`);
    s.pid = p; s.pids.push(p);
  }
  for (const p of fresh) slots.set(`${prefix}.w${mine.length + 1 + fresh.indexOf(p)}`, { pid: p, pids: [p], samples: [] });
}
function slot(name, pid) {
  if (!slots.has(name)) slots.set(name, { pid, pids: [pid], samples: [] });
  return slots.get(name);
}
const dbFile = path.join(stack.dir, 'postern.db');
const size = (f) => { try { return statSync(f).size; } catch { return 0; } };
const dbSamples = [];
writeFileSync(csvFile, 'elapsed_s,phase,metric,subject,pid,value\n');
function sample(phase) {
  const t = elapsed();
  supervisors.forEach((pid, i) => {
    const name = cgis[i] ?? `sup${i}`;
    slot(name, pid);
    if (!alive(pid)) { if (!deaths.some((d) => d.includes(` ${name} `))) deaths.push(`${t}s supervisor ${name} (pid ${pid}) is gone`); return; }
    assign(name, children(pid));
  });
  slot('nginx', nginxPid);
  if (!alive(nginxPid) && !deaths.some((d) => d.includes('nginx'))) deaths.push(`${t}s nginx master (pid ${nginxPid}) is gone`);
  assign('nginx', children(nginxPid));
  const rows = [];
  for (const [name, s] of slots) {
    const info = procInfo(s.pid);
    if (!info) continue;
    s.samples.push({ t, phase, ...info });
    rows.push(`${t},${phase},rss_kib,${name},${s.pid},${info.rss}`, `${t},${phase},fds,${name},${s.pid},${info.fds}`,
      `${t},${phase},socket_fds,${name},${s.pid},${info.sockets}`);
  }
  const db = { t, phase, db: size(dbFile), wal: size(dbFile + '-wal') };
  dbSamples.push(db);
  rows.push(`${t},${phase},bytes,postern.db,,${db.db}`, `${t},${phase},bytes,postern.db-wal,,${db.wal}`,
    `${t},${phase},errors,all,,${errors}`, `${t},${phase},requests,all,,${totalRequests()}`);
  for (const [k, v] of counts) rows.push(`${t},${phase},requests,"${k}",,${v}`);
  appendFileSync(csvFile, rows.join('\n') + '\n');
}

/* Pauses the load, lets in-flight requests and idle connections end, samples, resumes. */
async function quietSample(phase) {
  let open;
  gate = new Promise((r) => { open = r; });
  while (inFlight > 0) await sleep(50);
  await sleep(QUIET);
  sample(phase);
  gate = null;
  open();
}

// ---------------------------------------------------------------- run

t0 = Date.now();
sample('start');
const running = [];
for (const [name, every, fn, n] of LOOPS) for (let i = 0; i < n; i++) running.push(loop(name, every, fn));
const end = t0 + DURATION;
let nextSample = t0 + SAMPLE_EVERY, nextJanitor = t0 + JANITOR_EVERY, warmDone = false, janitorRun = null;
while (Date.now() < end) {
  await sleep(Math.min(1000, end - Date.now()));
  const now = Date.now();
  prune();
  if (!warmDone && now >= t0 + WARMUP) {
    warmDone = true;
    if (janitorRun) await janitorRun;
    await quietSample('warm');
    console.log(`soak: ${elapsed()} s, warm-up over: ${totalRequests()} requests, ${errors} errors`);
  }
  if (now >= nextJanitor && !janitorRun) {
    nextJanitor += JANITOR_EVERY;
    janitorRun = runJanitor().then(() => { janitorRun = null; });
  }
  if (now >= nextSample) {
    nextSample += SAMPLE_EVERY;
    sample('load');
    console.log(`soak: ${elapsed()} s: ${totalRequests()} requests, ${errors} errors`);
  }
}
stopping = true;
await Promise.all(running);
if (janitorRun) await janitorRun;
const wallS = (Date.now() - t0) / 1000;
await quietSample('end');
await runJanitor();   // once more after the load (in a short run the first tokens expire only now)

// ---------------------------------------------------------------- report

const lines = [];
const say = (s = '') => lines.push(s);
const kib = (n) => (n === undefined ? '-' : String(n));
const problems = [];

say(`postern soak: ${new Date(t0).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} cores, ${os.release()}, build ${build}`);
say(`duration: ${(wallS / 60).toFixed(1)} min (asked ${minutes}), warm-up ${Math.round(WARMUP / 1000)} s; config access_token_ttl = ${ACCESS_TTL}, refresh_token_ttl = ${REFRESH_TTL}, device_interval = ${DEVICE_INTERVAL}; ${users.length} users`);
say();
say('requests (kind: count, per second):');
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) say(`  ${k.padEnd(36)} ${String(v).padStart(9)} ${(v / wallS).toFixed(1).padStart(8)}/s`);
say(`  ${'all'.padEnd(36)} ${String(totalRequests()).padStart(9)} ${(totalRequests() / wallS).toFixed(1).padStart(8)}/s`);
say();
say('operations checked (done, no verdict possible at an expiry or revocation boundary):');
for (const [k, v] of [...ops].sort()) say(`  ${k.padEnd(48)} ${String(v.done).padStart(8)}${v.skipped ? `  (${v.skipped} without verdict)` : ''}`);
say(`janitor: ${janitor.runs} runs, removed ${JSON.stringify(janitor.totals)}`);
say();
say(`errors: ${errors}`);
for (const s of samples) say(`  ${s}`);
if (errors) problems.push(`${errors} wrong answers`);
say();

say('processes (RSS KiB; fds = open file descriptors): warm = quiet sample after the warm-up, end = quiet sample at the end,');
say("max = any sample (under load: a consent worker's includes the 64 MiB of an Argon2id sign-in in progress)");
say(`  ${'process'.padEnd(14)} ${'pid'.padStart(7)} ${'rss warm'.padStart(9)} ${'rss end'.padStart(9)} ${'rss max'.padStart(9)} ${'growth'.padStart(7)}  ${'fds warm'.padStart(8)} ${'fds end'.padStart(8)} ${'fds max'.padStart(8)}  flag`);
for (const [name, s] of slots) {
  const warm = s.samples.find((x) => x.phase === 'warm'), last = s.samples.findLast((x) => x.phase === 'end');
  const maxRss = Math.max(...s.samples.map((x) => x.rss)), maxFds = Math.max(...s.samples.map((x) => x.fds));
  const flags = [];
  let growth = '-';
  if (warm && last) {
    const g = (last.rss - warm.rss) / warm.rss;
    growth = `${(g * 100).toFixed(1)}%`;
    if (g > RSS_GROWTH) flags.push('RSS GREW');
    if (last.fds > warm.fds) flags.push(`FDS GREW (sockets ${warm.sockets}->${last.sockets})`);
  } else flags.push('not sampled at warm-up and end');
  if (s.pids.length > 1) flags.push(`replaced ${s.pids.length - 1}x`);
  for (const f of flags) if (f !== `replaced ${s.pids.length - 1}x`) problems.push(`${name}: ${f}`);
  say(`  ${name.padEnd(14)} ${String(s.pid).padStart(7)} ${kib(warm?.rss).padStart(9)} ${kib(last?.rss).padStart(9)} ${String(maxRss).padStart(9)} ${growth.padStart(7)}  ${kib(warm?.fds).padStart(8)} ${kib(last?.fds).padStart(8)} ${String(maxFds).padStart(8)}  ${flags.join(', ') || 'ok'}`);
}
say();
say(`worker restarts (a pid replaced): ${replaced.length}`);
for (const r of replaced) say(`  ${r}`);
for (const d of deaths) say(`  ${d}`);
if (replaced.length) problems.push(`${replaced.length} processes replaced`);
if (deaths.length) problems.push(`${deaths.length} processes gone`);
say();
const dbAt = (ph) => dbSamples.find((x) => x.phase === ph);
const mb = (n) => `${(n / 1048576).toFixed(2)} MiB`;
const dbMax = Math.max(...dbSamples.map((x) => x.db)), walMax = Math.max(...dbSamples.map((x) => x.wal));
say(`database: postern.db ${mb(dbAt('start').db)} at the start, ${dbAt('warm') ? mb(dbAt('warm').db) : '-'} after the warm-up, ${mb(dbAt('end').db)} at the end (max ${mb(dbMax)}); WAL ${mb(dbAt('end').wal)} at the end (max ${mb(walMax)})`);
say();

// logs: sanitizer reports and lines matching 'warn' (the access log is not read)
const sanitizer = sanitizerReports(stack.dir);
say(`logs (${path.join(stack.dir, 'logs')}): lines matching 'warn' per file`);
for (const f of readdirSync(path.join(stack.dir, 'logs')).sort()) {
  if (f === 'access.log') continue;
  const hits = readFileSync(path.join(stack.dir, 'logs', f), 'utf8').split('\n').filter((l) => /warn/i.test(l));
  say(`  ${f.padEnd(22)} ${hits.length}`);
  for (const h of hits.slice(0, 3)) say(`      ${h.slice(0, 240)}`);
}
const access = readFileSync(path.join(stack.dir, 'logs/access.log'), 'utf8').split('\n');
const five = access.filter((l) => /" 5\d\d /.test(l));
say(`  access.log: ${access.length - 1} lines, ${five.length} with a 5xx status`);
for (const l of five.slice(0, 3)) say(`      ${l.slice(0, 240)}`);
say(`sanitizer reports: ${sanitizer.length}`);
for (const s of sanitizer.slice(0, 5)) say(`  ${s.slice(0, 240)}`);
if (sanitizer.length) problems.push(`${sanitizer.length} sanitizer reports`);
say();
say(problems.length ? `FAIL: ${problems.join('; ')}` : 'OK: no wrong answer, no replaced process, no growth');
say(`csv: ${csvFile}`);
if (problems.length || process.env.KEEP_STACK) say(`stack folder kept: ${stack.dir}`);

const report = lines.join('\n') + '\n';
writeFileSync(txtFile, report);
process.stdout.write('\n' + report);
console.log(`report written to ${txtFile}`);
await teardown(problems.length > 0);
process.exit(problems.length ? 1 : 0);
