// units.test.mjs: the systemd units of contrib/ as an operator installs them.
// `systemd-analyze verify` accepts every unit (a copy whose ExecStart paths point at
// existing files, and whose Documentation= finds man/), and `systemd-analyze security
// --offline=true` rates each service at most 2.5 (what this file reached: 0.2 for the
// servers and the janitor, 1.1 for the device executable, which may reach the network
// for a bridged device login). Skipped only when systemd-analyze is missing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const contrib = path.join(root, 'contrib');
const CGIS = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device'];
const MAX_EXPOSURE = 2.5;

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const skip = analyze.error ? 'systemd-analyze is missing (apt-get install systemd): the units are not checked' : false;

describe('systemd units', { skip }, () => {
  let dir, units;
  before(() => {
    // a copy of contrib/ with the installed paths pointing at files that exist: the
    // build's executables when POSTERN_BUILD has them, small scripts otherwise
    dir = mkdtempSync(path.join(os.tmpdir(), 'postern-units-'));
    units = path.join(dir, 'units');
    mkdirSync(units);
    mkdirSync(path.join(dir, 'lib'));
    mkdirSync(path.join(dir, 'bin'));
    const build = process.env.POSTERN_BUILD;
    for (const name of [...CGIS.map((c) => `lib/${c}`), 'bin/postern']) {
      const real = build && path.join(build, path.basename(name));
      if (real && existsSync(real)) copyFileSync(real, path.join(dir, name));
      else writeFileSync(path.join(dir, name), '#!/bin/sh\nexit 0\n');
      chmodSync(path.join(dir, name), 0o755);
    }
    for (const f of readdirSync(contrib, { withFileTypes: true })) {
      const src = path.join(contrib, f.name);
      if (f.isDirectory()) { cpSync(src, path.join(units, f.name), { recursive: true }); continue; }
      const text = readFileSync(src, 'utf8')
        .replaceAll('/usr/local/lib/postern/', `${dir}/lib/`)
        .replaceAll('/usr/local/bin/postern', `${dir}/bin/postern`);
      writeFileSync(path.join(units, f.name), text);
    }
    // Documentation=man:postern(8) man:postern.conf(5) resolves to man/
    mkdirSync(path.join(dir, 'man/man8'), { recursive: true });
    mkdirSync(path.join(dir, 'man/man5'), { recursive: true });
    copyFileSync(path.join(root, 'man/postern.8'), path.join(dir, 'man/man8/postern.8'));
    copyFileSync(path.join(root, 'man/postern.conf.5'), path.join(dir, 'man/man5/postern.conf.5'));
  });
  after(() => { if (dir && !process.env.KEEP_STACK) rmSync(dir, { recursive: true, force: true }); });

  const run = (args) => {
    const haveMan = !spawnSync('man', ['--version']).error;
    return spawnSync('systemd-analyze', haveMan ? args : ['--man=no', ...args], {
      encoding: 'utf8', env: { ...process.env, MANPATH: path.join(dir, 'man'), SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
    });
  };

  test('contrib/ has the units the docs name', () => {
    for (const f of ['postern@.service', 'postern@.socket', 'postern.target', 'postern-janitor.service',
      'postern-janitor.timer', 'postern@device.service.d/bridge.conf']) assert.ok(existsSync(path.join(contrib, f)), f);
  });

  test('systemd-analyze verify accepts every unit, without a warning', () => {
    const names = [...CGIS.map((c) => `postern@${c}.service`), ...CGIS.map((c) => `postern@${c}.socket`),
      'postern.target', 'postern-janitor.service', 'postern-janitor.timer'];
    for (const name of names) {
      const r = run(['verify', path.join(units, name)]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${name} warns`);
    }
  });

  test('verify refuses a unit whose executable is missing (the check has teeth)', () => {
    const broken = path.join(units, 'postern-broken.service');
    writeFileSync(broken, readFileSync(path.join(units, 'postern-janitor.service'), 'utf8')
      .replace(`${dir}/bin/postern`, `${dir}/bin/missing`));
    const r = run(['verify', broken]);
    rmSync(broken);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /missing/);
  });

  // the overall level (text output) and each check, by name (JSON output: set or not)
  const exposure = (name) => {
    const r = run(['security', '--offline=true', path.join(units, name)]);
    assert.equal(r.status, 0, `${name}: ${r.stderr}`);
    const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout);
    assert.ok(m, `${name}: no overall exposure in\n${r.stdout}`);
    const j = run(['security', '--offline=true', '--json=short', path.join(units, name)]);
    assert.equal(j.status, 0, `${name}: ${j.stderr}`);
    const checks = Object.fromEntries(JSON.parse(j.stdout).map((c) => [c.name, c.set]));
    return { level: Number(m[1]), table: r.stdout, checks };
  };

  test(`systemd-analyze security rates every service at most ${MAX_EXPOSURE}`, () => {
    const seen = {};
    for (const name of [...CGIS.map((c) => `postern@${c}.service`), 'postern-janitor.service']) {
      const { level, table } = exposure(name);
      seen[name] = level;
      assert.ok(level <= MAX_EXPOSURE, `${name}: exposure ${level} > ${MAX_EXPOSURE}\n${table}`);
    }
    console.log('exposure:', JSON.stringify(seen));
  });

  test('only the device executable may reach the network (for a bridged device login)', () => {
    for (const name of [...CGIS.filter((c) => c !== 'device').map((c) => `postern@${c}.service`), 'postern-janitor.service']) {
      const { checks } = exposure(name);
      assert.equal(checks['PrivateNetwork='], true, name);
      assert.equal(checks['RestrictAddressFamilies=~AF_(INET|INET6)'], true, name);
    }
    const { checks } = exposure('postern@device.service');
    assert.equal(checks['RestrictAddressFamilies=~AF_(INET|INET6)'], false, 'the drop-in applies to the device executable');
    assert.equal(checks['RestrictAddressFamilies=~AF_PACKET'], true);
    assert.equal(checks['PrivateNetwork='], false);
  });

  test('the services run as the postern user, with no capabilities, and write only /var/lib/postern', () => {
    for (const f of ['postern@.service', 'postern-janitor.service']) {
      const text = readFileSync(path.join(contrib, f), 'utf8');
      assert.match(text, /^User=postern$/m, f);
      assert.match(text, /^StateDirectory=postern$/m, f);
      assert.match(text, /^ProtectSystem=strict$/m, f);
      assert.match(text, /^CapabilityBoundingSet=$/m, f);
      assert.doesNotMatch(text, /^ReadWritePaths=/m, `${f}: the state folder is the only writable one`);
    }
    // the socket: nginx's group, nobody else
    const sock = readFileSync(path.join(contrib, 'postern@.socket'), 'utf8');
    assert.match(sock, /^ListenStream=\/run\/postern\/%i\.sock$/m);
    assert.match(sock, /^SocketGroup=www-data$/m);
    assert.match(sock, /^SocketMode=0660$/m);
  });
});
