// stack.mjs: a throwaway postern stack (nginx + every executable under spawn-fcgi) for a
// test file, on a free loopback port in a temporary folder, through tools/stack.sh.
//
//   const stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: 'code_ttl = 1' } });
//   stack.url, stack.dir, stack.app (the seeded demo app), stack.cli(['user', 'add', 'a'], 'pw\n')
//   await stack.stop()   // stops it, fails if a sanitizer reported anything in the logs
//   await startStack({ seed: FILE })   // `up DIR --seed FILE`: stack.seed, no demo data
//   stack.sql('SELECT count(*) FROM tokens')   // one query on its database, rows as a|b lines
//
// Queries for both backends: unixNow() for SQLite's unixepoch(), blobLiteral, randomBlobSql
// and hexSql for blobs; storedData and holds look for a secret in what the database keeps.
//
// With POSTERN_PG_DIR set (a cluster started by tools/pg.sh, as `make test` does), every
// stack gets a new PostgreSQL database of that cluster instead of an SQLite file, unless
// the test names its own DATABASE; `backend` says which the run uses.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const build = process.env.POSTERN_BUILD || path.join(root, 'build');
export const pgDir = process.env.POSTERN_PG_DIR || '';
export const backend = pgDir ? 'pg' : 'sqlite';

let dbCount = 0;
/* A new empty PostgreSQL database of the run's cluster; returns its URI. */
export function createDatabase() {
  const name = `t${process.pid}_${dbCount++}_${Date.now() % 100000}`;
  return execFileSync(path.join(root, 'tools/pg.sh'), ['createdb', pgDir, name], { encoding: 'utf8' }).trim();
}

/* Runs one query on a database (an SQLite file or a PostgreSQL URI); the rows as lines of
 * columns joined by |, like the sqlite3 command prints them. */
export function sqlOn(database, query) {
  if (/^postgres(ql)?:\/\//.test(database))
    return execFileSync('psql', ['-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-d', database, '-c', query],
      { encoding: 'utf8' }).trim();
  return execFileSync('sqlite3', ['-cmd', '.timeout 5000', database, query], { encoding: 'utf8' }).trim();
}

/* Whole seconds since the epoch, as the server counts time (SQLite's unixepoch(), which
 * PostgreSQL lacks: queries compare with this number instead). */
export const unixNow = () => Math.floor(Date.now() / 1000);

/* Bytes as an SQL literal the stack's database takes: X'ab..' on SQLite, '\xab..'::bytea
 * on PostgreSQL. */
export function blobLiteral(stack, buf) {
  const hex = Buffer.from(buf).toString('hex');
  return stack.backend === 'pg' ? `'\\x${hex}'::bytea` : `X'${hex}'`;
}

/* An SQL expression for 32 random bytes, new on every row: SQLite's randomblob(32). */
export function randomBlobSql(stack) {
  return stack.backend === 'pg' ? "decode(md5(random()::text) || md5(clock_timestamp()::text || random()::text), 'hex')"
    : 'randomblob(32)';
}

/* An SQL expression for a blob's bytes in uppercase hex, '' for NULL, as SQLite's hex()
 * gives them. */
export function hexSql(stack, expr) {
  return stack.backend === 'pg' ? `coalesce(upper(encode(${expr}, 'hex')), '')` : `hex(${expr})`;
}

/* Everything the stack's database holds, to look for what must not be stored as it is:
 * [{ name, text }], the SQLite files (the database, its -wal and -shm) byte for byte as
 * latin1, or on PostgreSQL a data-only pg_dump (where a bytea value shows as hex: see
 * holds). */
export function storedData(stack) {
  if (stack.backend === 'pg')
    return [{ name: 'pg_dump', text: execFileSync('pg_dump', ['--data-only', '-d', stack.database], { encoding: 'latin1', maxBuffer: 256 << 20 }) }];
  const dir = path.dirname(stack.database), base = path.basename(stack.database);
  return readdirSync(dir).filter((f) => f.startsWith(base))
    .map((f) => ({ name: f, text: readFileSync(path.join(dir, f)).toString('latin1') }));
}

/* Whether text (from storedData) holds secret as it is, or its bytes in hex. */
export function holds(text, secret) {
  const hex = Buffer.from(secret).toString('hex');
  return text.includes(secret) || text.toLowerCase().includes(hex);
}

export function dropDatabase(uri) {
  const name = uri.match(/^postgres(?:ql)?:\/\/[^/]*\/([^?]*)/)[1];
  const admin = uri.replace(/\/\/\/[^?]*/, '///postgres');
  try { sqlOn(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } catch { /* the cluster may be gone */ }
}

/* A port nobody listens on right now (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/* Sanitizer and crash reports in the stack's logs: a test run must end with none. */
export function sanitizerReports(dir) {
  const logs = path.join(dir, 'logs');
  if (!existsSync(logs)) return [];
  const found = [];
  for (const f of readdirSync(logs)) {
    const text = readFileSync(path.join(logs, f), 'utf8');
    for (const line of text.split('\n'))
      if (/ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: UndefinedBehavior/.test(line))
        found.push(`${f}: ${line}`);
  }
  return found;
}

export async function startStack({ env = {}, seed = '' } = {}) {
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-test-'));
    const port = await freePort();
    const e = { ...process.env, PORT: String(port), POSTERN_BUILD: build, ...env };
    const ownDb = pgDir && !env.DATABASE;
    if (ownDb) e.DATABASE = createDatabase();
    const args = ['up', dir, ...(seed ? ['--seed', seed] : [])];
    const r = spawnSync(path.join(root, 'tools/stack.sh'), args, { env: e, encoding: 'utf8', timeout: 30000 });
    if (r.status === 0) {
      const info = JSON.parse(r.stdout.trim().split('\n').pop());
      return makeStack(info, dir, e, ownDb);
    }
    lastErr = new Error(`stack.sh up failed (${r.status}): ${r.stderr}`);
    spawnSync(path.join(root, 'tools/stack.sh'), ['down', dir], { env: e });
    if (ownDb) dropDatabase(e.DATABASE);
    rmSync(dir, { recursive: true, force: true });
  }
  throw lastErr;
}

function makeStack(info, dir, env, ownDb) {
  const config = path.join(dir, 'postern.conf');
  const postern = path.join(build, 'postern');
  const database = env.DATABASE && /^postgres/.test(env.DATABASE) ? env.DATABASE
    : path.resolve(dir, env.DATABASE || 'postern.db');
  return {
    ...info,
    dir,
    config,
    /* the config's database: an SQLite file's path or a PostgreSQL URI */
    database,
    backend: /^postgres/.test(database) ? 'pg' : 'sqlite',
    /* One query on the stack's database (see sqlOn). */
    sql(query) {
      return sqlOn(database, query);
    },
    /* Runs the admin command; returns stdout, throws with stderr on a non-zero exit. */
    cli(args, input = '') {
      return execFileSync(postern, ['--config', config, ...args], { input, encoding: 'utf8', env, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    /* Runs the admin command; returns { status, stdout, stderr } whatever happens. */
    cliRun(args, input = '') {
      return spawnSync(postern, ['--config', config, ...args], { input, encoding: 'utf8', env });
    },
    /* Stops the servers, keeping the folder (config, database, logs). */
    async down() {
      spawnSync(path.join(root, 'tools/stack.sh'), ['down', dir], { env });
      // let fetch's pool see its kept-alive connections to the old nginx close
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    /* Starts the servers again on the same folder and port. */
    up() {
      const r = spawnSync(path.join(root, 'tools/stack.sh'), ['up', dir], { env, encoding: 'utf8', timeout: 30000 });
      if (r.status !== 0) throw new Error(`stack.sh up (restart) failed (${r.status}): ${r.stderr}`);
    },
    async restart() {
      await this.down();
      this.up();
    },
    log(name) {
      const f = path.join(dir, 'logs', name);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    async stop() {
      spawnSync(path.join(root, 'tools/stack.sh'), ['down', dir], { env });
      if (ownDb) dropDatabase(database);
      const reports = sanitizerReports(dir);
      if (reports.length) throw new Error(`sanitizer reports (logs kept in ${dir}):\n${reports.join('\n')}`);
      if (!process.env.KEEP_STACK) rmSync(dir, { recursive: true, force: true });
    },
  };
}
