// metrics.test.mjs: GET /oauth/metrics, the Prometheus text exposition (format 0.0.4):
// it parses under a strict parser; each counter moves with what it counts (sign-ins,
// check answers, tokens by grant type, database busy and errors, requests by endpoint
// and status); the histograms are cumulative with _count their +Inf bucket; the gauges
// match the database; counts add up over every worker and survive a killed worker and
// a restart of the whole stack (one shared file, made 0600 in the state folder; a file
// of another layout is replaced); nginx lets only loopback clients see it.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStack, root, unixNow } from '../lib/stack.mjs';
import { Session, createApp, tokenFor, token, check, consentForm } from '../lib/client.mjs';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// ---------------------------------------------------------------- a strict parser

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;

/* Label set text "{a="x",b="y"}" (without braces) into an object; throws on anything
 * the format does not allow (a bad name, an unknown escape, a repeated label). */
function parseLabels(s, line) {
  const labels = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    assert.ok(eq > i, `label without a name: ${line}`);
    const name = s.slice(i, eq);
    assert.match(name, LABEL, `bad label name in: ${line}`);
    assert.equal(s[eq + 1], '"', `label value not quoted: ${line}`);
    let v = '', j = eq + 2;
    for (;; j++) {
      assert.ok(j < s.length, `unterminated label value: ${line}`);
      if (s[j] === '"') break;
      if (s[j] === '\\') {
        const e = s[++j];
        assert.ok(e === '\\' || e === '"' || e === 'n', `bad escape \\${e}: ${line}`);
        v += e === 'n' ? '\n' : e;
      } else v += s[j];
    }
    assert.ok(!(name in labels), `label ${name} twice: ${line}`);
    labels[name] = v;
    i = j + 1;
    if (i < s.length) { assert.equal(s[i], ',', `expected , between labels: ${line}`); i++; }
  }
  return labels;
}

/* The exposition as {families: Map(name -> {type, help, samples})}; fails the test on
 * any line the text format 0.0.4 does not allow, a sample outside the family its TYPE
 * declared, a series given twice, a counter not named _total, a histogram whose buckets
 * are not cumulative in ascending le ending at +Inf or whose _count is not that bucket. */
function parseExposition(text) {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const families = new Map();
  const seen = new Set();
  let current = null;
  for (const line of text.slice(0, -1).split('\n')) {
    assert.notEqual(line, '', 'no empty line');
    let m;
    if ((m = line.match(/^# HELP (\S+) (.+)$/))) {
      assert.match(m[1], NAME);
      assert.ok(!families.has(m[1]), `family ${m[1]} declared twice`);
      current = { name: m[1], help: m[2], type: null, samples: [] };
      families.set(m[1], current);
      continue;
    }
    if ((m = line.match(/^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/))) {
      assert.ok(current && current.name === m[1] && current.type === null, `TYPE ${m[1]} right after its HELP, once`);
      assert.equal(current.samples.length, 0, `TYPE ${m[1]} before its samples`);
      current.type = m[2];
      if (m[2] === 'counter') assert.match(m[1], /_total$/, `counter ${m[1]} ends in _total`);
      continue;
    }
    assert.ok(!line.startsWith('#'), `unknown comment line: ${line}`);
    m = line.match(/^([^{\s]+)(?:\{([^}]*)\})? (\S+)$/);
    assert.ok(m, `malformed sample line: ${line}`);
    const [, name, labelText, value] = m;
    assert.match(name, NAME, `bad metric name: ${line}`);
    assert.match(value, VALUE, `bad value: ${line}`);
    assert.ok(current && current.type, `sample before any TYPE: ${line}`);
    const base = current.type === 'histogram' ? name.replace(/_(bucket|sum|count)$/, '') : name;
    assert.equal(base, current.name, `sample ${name} outside its family ${current.name}`);
    if (current.type === 'histogram') assert.notEqual(name, base, `histogram sample ${name} needs a suffix`);
    const labels = labelText === undefined ? {} : parseLabels(labelText, line);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    assert.ok(!seen.has(key), `series given twice: ${line}`);
    seen.add(key);
    const v = Number(value.replace('Inf', 'Infinity'));
    if (current.type === 'counter' || current.type === 'histogram') assert.ok(v >= 0, `negative counter: ${line}`);
    current.samples.push({ name, labels, value: v });
  }
  for (const f of families.values()) {
    assert.ok(f.type, `family ${f.name} has a TYPE`);
    if (f.type !== 'histogram') continue;
    const buckets = f.samples.filter((s) => s.name === f.name + '_bucket');
    assert.ok(buckets.length >= 2, `${f.name} has buckets`);
    let le = -Infinity, cum = 0;
    for (const b of buckets) {
      const bound = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      assert.ok(!Number.isNaN(bound) && bound > le, `${f.name}: le ascending (${b.labels.le})`);
      assert.ok(b.value >= cum, `${f.name}: buckets cumulative at le=${b.labels.le}`);
      le = bound;
      cum = b.value;
    }
    assert.equal(le, Infinity, `${f.name}: the last bucket is +Inf`);
    const count = f.samples.find((s) => s.name === f.name + '_count');
    const sum = f.samples.find((s) => s.name === f.name + '_sum');
    assert.ok(count && sum, `${f.name} has _count and _sum`);
    assert.equal(count.value, cum, `${f.name}_count is the +Inf bucket`);
  }
  return families;
}

/* The parser must refuse what it claims to: each of these breaks one rule. */
test('the strict parser refuses malformed expositions', () => {
  const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
  parseExposition(ok);
  for (const bad of [
    ok.slice(0, -1),                                                     // no final newline
    '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} two\n',   // value
    '# HELP a A.\n# TYPE a counter\na 1\n',                              // counter without _total
    '# HELP a_total A.\n# TYPE a_total counter\na_total{x=1} 2\n',       // unquoted
    '# HELP a_total A.\n# TYPE a_total counter\na_total 1\na_total 2\n', // twice
    '# HELP a_total A.\n# TYPE a_total counter\nb_total 1\n',            // outside its family
    '# HELP h A.\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 0\nh_count 1\n',
    '# HELP h A.\n# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 0\nh_count 3\n',
  ]) assert.throws(() => parseExposition(bad), undefined, JSON.stringify(bad));
});

// ---------------------------------------------------------------- helpers

async function scrape(stack, headers = {}) {
  const r = await fetch(stack.url + '/oauth/metrics', { headers });
  const text = await r.text();
  assert.equal(r.status, 200, text.slice(0, 300));
  assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(text);
}

/* The sum of the samples of name whose labels include want (0 when there is none). */
function value(families, name, want = {}) {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const f = families.get(name) ?? families.get(base);
  if (!f) return 0;
  return f.samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

/* {state, ppid} from /proc, or null once gone. */
function procStat(pid) {
  let s;
  try { s = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return null; }
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], ppid: Number(rest[1]) };
}
const alive = (pid) => { const s = procStat(pid); return s !== null && s.state !== 'Z' && s.state !== 'X'; };
function children(pid) {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)
    .filter((p) => procStat(p)?.ppid === pid && alive(p)).sort((a, b) => a - b);
}
function supervisor(stack, name) {
  const pids = readFileSync(path.join(stack.dir, 'run/pids'), 'utf8').trim().split('\n').map(Number);
  const pid = pids.find((p) => {
    try { return path.basename(readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0]) === name; } catch { return false; }
  });
  assert.ok(pid, `no supervisor of ${name}`);
  return pid;
}
async function waitFor(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/* Holds the database's write lock (SQLite) or an exclusive lock on table (PostgreSQL)
 * for ms; resolves once it is held, with {done}: a promise of the holder's end (in an
 * object: an async function returning a promise would wait for it). */
async function holdLock(stack, table, ms) {
  const args = stack.backend === 'pg'
    ? ['psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', stack.database]]
    : ['sqlite3', [stack.database]];
  const p = spawn(args[0], args[1], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise((resolve) => p.on('exit', resolve));
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  // the shell's echo, not a query's output: the clients buffer theirs until they end
  if (stack.backend === 'pg')
    p.stdin.end(`BEGIN;\nLOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE;\n\\! echo locked\nSELECT pg_sleep(${ms / 1000});\nCOMMIT;\n`);
  else
    p.stdin.end(`.timeout 5000\n.bail on\nBEGIN IMMEDIATE;\n.shell echo locked\n.shell sleep ${ms / 1000}\nCOMMIT;\n`);
  await waitFor(() => out.includes('locked'), 5000, 'the lock is held');
  return { done };
}

// ---------------------------------------------------------------- the counters

describe('metrics', () => {
  let stack, s, app;
  before(async () => {
    stack = await startStack({ env: {
      EXTRA_CONFIG: 'processes introspect = 2\nprocesses token = 2\naccess_token_ttl = 3600\nmetrics_file = custom.metrics',
      LOGIN_RATE: '1000r/s',
    } });
    s = new Session(stack.url);
    await s.signIn(stack.user, stack.password);
    app = await createApp(s, { name: 'Metrics app' });
  });
  after(async () => { await stack?.stop(); });

  test('the exposition parses, every name starts with postern_, and the gauges match the database', async () => {
    const m = await scrape(stack);
    for (const name of m.keys()) assert.match(name, /^postern_/);
    for (const name of ['postern_requests_total', 'postern_check_answers_total', 'postern_tokens_issued_total',
      'postern_sign_ins_total', 'postern_database_busy_total', 'postern_database_errors_total',
      'postern_check_duration_seconds', 'postern_token_duration_seconds', 'postern_users', 'postern_apps',
      'postern_live_tokens'])
      assert.ok(m.has(name), `${name} is exposed`);
    const now = unixNow();
    assert.equal(value(m, 'postern_users'), Number(stack.sql('SELECT count(*) FROM users')));
    assert.equal(value(m, 'postern_apps'), Number(stack.sql('SELECT count(*) FROM apps')));
    assert.ok(value(m, 'postern_apps') >= 2, 'the demo app and the one made here');
    assert.equal(value(m, 'postern_live_tokens', { kind: 'access' }),
      Number(stack.sql(`SELECT count(*) FROM tokens WHERE kind = 1 AND (expires IS NULL OR expires > ${now})`)));
    assert.equal(value(m, 'postern_live_tokens', { kind: 'refresh' }),
      Number(stack.sql(`SELECT count(*) FROM tokens WHERE kind = 2 AND (expires IS NULL OR expires > ${now})`)));
    // the sign-in of before() and the app pages went through the consent and apps executables
    assert.ok(value(m, 'postern_requests_total', { executable: 'consent', endpoint: '/oauth/login', status: '303' }) >= 1);
    assert.ok(value(m, 'postern_requests_total', { executable: 'apps', endpoint: '/oauth/apps/new', status: '200' }) >= 2);
  });

  test('the counts live in the file metrics_file names, made 0600 with its magic header', () => {
    const f = path.join(stack.dir, 'custom.metrics');
    const st = statSync(f);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(readFileSync(f).subarray(0, 16).toString('latin1'), 'postern-metrics\0');
    assert.ok(!existsSync(path.join(stack.dir, 'postern.metrics')), 'not at the default path');
  });

  test('a failed sign-in counts as failed and a good one as ok', async () => {
    const before = await scrape(stack);
    const x = new Session(stack.url);
    const csrf = await x.csrf('/oauth/login');
    const r = await x.post('/oauth/login', { form: { csrf, username: stack.user, password: 'wrong-password-1', return_to: '/oauth/apps' } });
    assert.equal(r.status, 401);
    let m = await scrape(stack);
    assert.equal(value(m, 'postern_sign_ins_total', { result: 'failed' }) - value(before, 'postern_sign_ins_total', { result: 'failed' }), 1);
    assert.equal(value(m, 'postern_sign_ins_total', { result: 'ok' }), value(before, 'postern_sign_ins_total', { result: 'ok' }));
    assert.equal(value(m, 'postern_requests_total', { endpoint: '/oauth/login', status: '401' }) -
      value(before, 'postern_requests_total', { endpoint: '/oauth/login', status: '401' }), 1);
    await x.signIn(stack.user, stack.password);
    m = await scrape(stack);
    assert.equal(value(m, 'postern_sign_ins_total', { result: 'ok' }) - value(before, 'postern_sign_ins_total', { result: 'ok' }), 1);
  });

  test('check answers: an unknown token counts a 401, a live one 204, a missing scope 403; the histogram counts each check', async () => {
    const t = (await tokenFor(stack, s, app)).access_token;
    const before = await scrape(stack);
    assert.equal(await check(stack.url, 'pat_unknown'), 401);
    assert.equal(await check(stack.url, 'pat_unknown2'), 401);
    assert.equal(await check(stack.url, t), 204);
    const r = await fetch(stack.url + '/oauth/check?scope=posts:write', { headers: { authorization: `Bearer ${t}` } });
    assert.equal(r.status, 403);
    const m = await scrape(stack);
    const d = (name, labels) => value(m, name, labels) - value(before, name, labels);
    assert.equal(d('postern_check_answers_total', { status: '401' }), 2);
    assert.equal(d('postern_check_answers_total', { status: '204' }), 1);
    assert.equal(d('postern_check_answers_total', { status: '403' }), 1);
    assert.equal(d('postern_check_answers_total', { status: '500' }), 0);
    assert.equal(d('postern_check_answers_total', { status: '503' }), 0);
    assert.equal(d('postern_requests_total', { executable: 'introspect', endpoint: '/oauth/check', status: '401' }), 2);
    assert.equal(d('postern_check_duration_seconds_count'), 4);
    assert.equal(d('postern_check_duration_seconds_bucket', { le: '+Inf' }), 4);
    assert.ok(d('postern_check_duration_seconds_sum') > 0, 'the durations add up to more than 0');
    // the token endpoint's histogram did not move for checks
    assert.equal(d('postern_token_duration_seconds_count'), 0);
  });

  test('tokens issued by grant type: authorization_code, refresh_token, device_code; the token histogram counts every request', async () => {
    const before = await scrape(stack);
    const body = await tokenFor(stack, s, app);
    assert.ok(body.refresh_token, 'access_token_ttl gives a refresh token');
    let r = await token(stack.url, { grant_type: 'refresh_token', refresh_token: body.refresh_token }, [app.client_id, app.client_secret]);
    assert.equal(r.status, 200, r.text);
    r = await token(stack.url, { grant_type: 'authorization_code', code: 'pac_nonsense', redirect_uri: 'https://app.example/cb' },
      [app.client_id, app.client_secret]);
    assert.equal(r.status, 400); // invalid_grant: no token, one more request
    // a device login of the seeded CLI app, approved by the signed-in user
    const da = await token(stack.url, { client_id: stack.cli_app.client_id }, null, { path: '/oauth/device_authorization' });
    assert.equal(da.status, 200, da.text);
    const page = await s.get('/oauth/device?' + new URLSearchParams({ code: da.body.user_code }));
    assert.equal(page.status, 200);
    const done = await s.post('/oauth/device', { form: { ...consentForm(page.text_), action: 'approve' } });
    assert.equal(done.status, 200);
    r = await token(stack.url, { grant_type: DEVICE_GRANT, device_code: da.body.device_code, client_id: stack.cli_app.client_id });
    assert.equal(r.status, 200, r.text);
    const m = await scrape(stack);
    const d = (name, labels) => value(m, name, labels) - value(before, name, labels);
    assert.equal(d('postern_tokens_issued_total', { grant_type: 'authorization_code' }), 1);
    assert.equal(d('postern_tokens_issued_total', { grant_type: 'refresh_token' }), 1);
    assert.equal(d('postern_tokens_issued_total', { grant_type: 'device_code' }), 1);
    assert.equal(d('postern_token_duration_seconds_count'), 4);
    assert.equal(d('postern_requests_total', { executable: 'token', endpoint: '/oauth/token', status: '200' }), 3);
    assert.equal(d('postern_requests_total', { executable: 'token', endpoint: '/oauth/token', status: '400' }), 1);
  });

  test('a 404 counts as unmatched, a POST to the metrics a 405 of its endpoint', async () => {
    const before = await scrape(stack);
    assert.equal((await fetch(stack.url + '/oauth/apps/x/y/z')).status, 404);
    assert.equal((await fetch(stack.url + '/oauth/metrics', { method: 'POST' })).status, 405);
    const m = await scrape(stack);
    const d = (name, labels) => value(m, name, labels) - value(before, name, labels);
    assert.equal(d('postern_requests_total', { executable: 'apps', endpoint: 'unmatched', status: '404' }), 1);
    assert.equal(d('postern_requests_total', { executable: 'apps', endpoint: '/oauth/metrics', status: '405' }), 1);
    // the scrape before this one counted itself
    assert.ok(value(m, 'postern_requests_total', { endpoint: '/oauth/metrics', status: '200' }) >= 1);
  });

  test('a database locked past its wait counts as busy (503), a failing statement as an error', { timeout: 30000 }, async () => {
    const t = (await tokenFor(stack, s, app)).access_token;
    const before = await scrape(stack);
    // a revocation deletes the token: it waits PT_DB_BUSY_MS for the lock, then gives up
    const held = await holdLock(stack, 'tokens', 4000);
    const r = await token(stack.url, { token: t }, [app.client_id, app.client_secret], { path: '/oauth/revoke' });
    await held.done;
    assert.equal(r.status, 503, r.text);
    let m = await scrape(stack);
    assert.ok(value(m, 'postern_database_busy_total') - value(before, 'postern_database_busy_total') >= 1, 'busy counted');
    const errorsBefore = value(m, 'postern_database_errors_total');
    // a table that is gone: every statement on it fails
    stack.sql('ALTER TABLE attempts RENAME TO attempts_gone');
    try {
      const y = new Session(stack.url);
      await y.signIn(stack.user, stack.password);
      const q = await y.get('/oauth/device?' + new URLSearchParams({ code: 'BCDF-GHJK' }));
      assert.ok(q.status >= 400, `a wrong user code with no attempts table: ${q.status}`);
    } finally {
      stack.sql('ALTER TABLE attempts_gone RENAME TO attempts');
    }
    m = await scrape(stack);
    assert.ok(value(m, 'postern_database_errors_total') - errorsBefore >= 1, 'the failed statement counted');
  });

  test('counts add up over the workers and survive a killed worker and a restart of the stack', { timeout: 60000 }, async () => {
    const t = (await tokenFor(stack, s, app)).access_token;
    const sup = supervisor(stack, 'introspect');
    const workers = children(sup);
    assert.equal(workers.length, 2);
    // every worker answers some checks (the kernel spreads the connections)
    for (let i = 0; i < 20; i++) assert.equal(await check(stack.url, t), 204);
    const before = await scrape(stack);
    const checks = value(before, 'postern_check_answers_total', { status: '204' });
    const tokens = value(before, 'postern_tokens_issued_total');
    assert.ok(checks >= 20);
    process.kill(workers[0], 'SIGKILL');
    await waitFor(() => { const c = children(sup); return c.length === 2 && !c.includes(workers[0]) && c; }, 5000, 'a new worker');
    // the apps worker serving the metrics too
    const appsWorker = children(supervisor(stack, 'apps'))[0];
    process.kill(appsWorker, 'SIGKILL');
    await waitFor(() => { const c = children(supervisor(stack, 'apps')); return c.length === 1 && c[0] !== appsWorker; }, 5000, 'a new apps worker');
    let m = await waitFor(async () => {
      try { return await scrape(stack); } catch { return null; }
    }, 5000, 'the metrics answer again');
    assert.equal(value(m, 'postern_check_answers_total', { status: '204' }), checks, 'no check count lost');
    assert.equal(value(m, 'postern_tokens_issued_total'), tokens);
    for (let i = 0; i < 10; i++) assert.equal(await check(stack.url, t), 204);
    m = await scrape(stack);
    assert.equal(value(m, 'postern_check_answers_total', { status: '204' }), checks + 10, 'the new worker counts on');
    // the whole stack down and up: the file outlives the processes
    await stack.restart();
    m = await scrape(stack);
    assert.equal(value(m, 'postern_check_answers_total', { status: '204' }), checks + 10, 'counts kept over a restart');
  });
});

// ---------------------------------------------------------------- the file and nginx

describe('metrics file and access', () => {
  let stack;
  before(async () => {
    // nginx takes the client address from X-Forwarded-For of a loopback peer: a test
    // can then play a client from elsewhere
    stack = await startStack({ env: { EXTRA_NGINX: 'set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For;' } });
  });
  after(async () => { await stack?.stop(); });

  test('the stack\'s nginx serves the metrics to loopback clients and refuses others', async () => {
    await scrape(stack);
    await scrape(stack, { 'x-forwarded-for': '::1' });
    for (const addr of ['203.0.113.9', '10.0.0.1', '2001:db8::1']) {
      const r = await fetch(stack.url + '/oauth/metrics', { headers: { 'x-forwarded-for': addr } });
      assert.equal(r.status, 403, `a client at ${addr}`);
      assert.doesNotMatch(await r.text(), /postern_/);
    }
  });

  test('nginx.conf.example allows the metrics from loopback only, to the apps executable', () => {
    const conf = readFileSync(path.join(root, 'nginx.conf.example'), 'utf8');
    const m = conf.match(/location = \/oauth\/metrics \{([^}]*)\}/);
    assert.ok(m, 'a location for /oauth/metrics');
    const body = m[1].split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    assert.deepEqual(body.filter((l) => /^(allow|deny)\b/.test(l)), ['allow 127.0.0.1;', 'allow ::1;', 'deny all;']);
    assert.ok(body.includes('fastcgi_pass unix:/run/postern/apps.sock;'));
  });

  test('the default file is postern.metrics next to the database (or the key), mode 0600', () => {
    const f = path.join(stack.dir, 'postern.metrics');
    assert.equal(statSync(f).mode & 0o777, 0o600);
  });

  test('a file of another layout is replaced with a new one, not read', { timeout: 60000 }, async () => {
    const f = path.join(stack.dir, 'postern.metrics');
    assert.equal(await check(stack.url, 'pat_unknown'), 401);
    assert.ok(value(await scrape(stack), 'postern_check_answers_total', { status: '401' }) >= 1);
    await stack.down();
    const junk = Buffer.alloc(statSync(f).size, 0xff);
    writeFileSync(f, junk);
    stack.up();
    const m = await scrape(stack);
    assert.equal(value(m, 'postern_check_answers_total', { status: '401' }), 0, 'a fresh file');
    assert.equal(readFileSync(f).subarray(0, 16).toString('latin1'), 'postern-metrics\0');
    const logs = readdirSync(path.join(stack.dir, 'logs')).map((n) => stack.log(n)).join('');
    assert.match(logs, /has another layout: starting a new one/);
  });
});
