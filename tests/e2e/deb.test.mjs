// deb.test.mjs: `make deb` (tools/deb.sh) as a Debian administrator receives it. The
// package is built into a temporary folder from the `make all` programs (built first
// when missing), unpacked with `dpkg-deb -x` and read with `dpkg-deb -I`: the layout,
// the control fields, the conffile, the maintainer scripts; and, when lintian is
// installed, no lintian tag but those tools/deb.sh explains. Skipped only when dpkg-deb
// is missing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CGIS = ['authorize', 'consent', 'token', 'apps', 'revoke', 'introspect', 'device'];
const UNITS = ['postern@.service', 'postern@.socket', 'postern.target', 'postern-janitor.service', 'postern-janitor.timer'];

const skip = spawnSync('dpkg-deb', ['--version']).error ? 'dpkg-deb is missing (apt-get install dpkg): no package is built' : false;
const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', ...opts });

describe('make deb', { skip }, () => {
  let dir, deb, x;
  const version = /^VERSION\s+\?= (\S+)$/m.exec(readFileSync(path.join(root, 'Makefile'), 'utf8'))?.[1];
  const arch = skip ? '' : sh('dpkg', ['--print-architecture']).stdout.trim();

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'postern-deb-'));
    const r = sh('make', ['-C', root, '--no-print-directory', 'deb', `DEBDIR=${dir}`], { timeout: 600_000 });
    assert.equal(r.status, 0, `make deb failed:\n${r.stdout}\n${r.stderr}`);
    deb = path.join(dir, `postern_${version}_${arch}.deb`);
    assert.ok(existsSync(deb), `no ${path.basename(deb)} in ${readdirSync(dir).join(' ')}`);
    assert.equal(r.stdout.trim().split('\n').at(-1), deb, 'make deb prints the package it made');
    x = path.join(dir, 'x');
    const e = sh('dpkg-deb', ['-x', deb, x]);
    assert.equal(e.status, 0, e.stderr);
  });
  after(() => { if (dir && !process.env.KEEP_STACK) rmSync(dir, { recursive: true, force: true }); });

  const file = (p) => path.join(x, p);
  const info = (part) => { const r = sh('dpkg-deb', ['-I', deb, part]); assert.equal(r.status, 0, `${part}: ${r.stderr}`); return r.stdout; };

  test('the name is postern_<version>_<arch>.deb', () => {
    assert.match(version, /^\d[\w.+~]*$/);
    assert.equal(path.basename(deb), `postern_${version}_${arch}.deb`);
  });

  test('control: package, version, architecture, the libraries it needs', () => {
    const control = info('control');
    const field = (f) => new RegExp(`^${f}: (.*)$`, 'm').exec(control)?.[1];
    assert.equal(field('Package'), 'postern');
    assert.equal(field('Version'), version);
    assert.equal(field('Architecture'), arch);
    assert.ok(field('Maintainer'));
    assert.match(field('Installed-Size'), /^\d+$/);
    const depends = field('Depends');
    for (const lib of ['libfcgi', 'libsqlite3', 'libpq', 'libsodium', 'libcjson', 'libcurl', 'libc6', 'adduser']) assert.match(depends, new RegExp(`\\b${lib}`), lib);
    assert.match(field('Recommends'), /\bnginx\b/);
    assert.match(field('Description'), /OAuth 2\.0/);
  });

  test('the config is a conffile; postinst makes the user and /var/lib/postern', () => {
    assert.equal(info('conffiles').trim(), '/etc/postern/postern.conf\n/etc/logrotate.d/postern');
    assert.equal(readFileSync(file('etc/logrotate.d/postern'), 'utf8'), readFileSync(path.join(root, 'contrib/postern.logrotate'), 'utf8'));
    const postinst = info('postinst');
    assert.match(postinst, /^set -e$/m);
    assert.match(postinst, /adduser --system --group --home \/var\/lib\/postern/);
    assert.match(postinst, /install -d -o postern -g postern -m 0750 \/var\/lib\/postern/);
    assert.match(postinst, /runuser -u postern -- postern --config \/etc\/postern\/postern.conf init/);
    const listing = sh('dpkg-deb', ['-c', deb]).stdout;
    for (const line of listing.trim().split('\n')) assert.match(line, / root\/root /, `owned by root: ${line}`);
  });

  test('the programs, stripped, in /usr/bin and /usr/lib/postern', () => {
    for (const p of ['usr/bin/postern', ...CGIS.map((c) => `usr/lib/postern/${c}`)]) {
      const st = statSync(file(p));
      assert.equal(st.mode & 0o777, 0o755, p);
      const syms = sh('readelf', ['-S', '--wide', file(p)]).stdout;
      if (syms) assert.doesNotMatch(syms, /\.debug_info|\.symtab/, `${p} is stripped`);
    }
    // the conffile is one the packaged admin command loads (the error is the missing
    // database or key, never a line of the config)
    const r = sh(file('usr/bin/postern'), ['--config', file('etc/postern/postern.conf'), 'user', 'list']);
    assert.doesNotMatch(r.stderr, /postern\.conf:\d+:/);
  });

  test('templates, static files, example configs and nginx files in /usr/share/postern', () => {
    for (const t of readdirSync(path.join(root, 'templates'))) assert.ok(existsSync(file(`usr/share/postern/templates/${t}`)), t);
    for (const s of readdirSync(path.join(root, 'static'))) assert.ok(existsSync(file(`usr/share/postern/static/${s}`)), s);
    for (const f of ['schema.sql', 'postern.conf.example', 'nginx.conf.example', 'fastcgi_params', 'check_cache.conf', 'check_cache.js']) {
      assert.equal(readFileSync(file(`usr/share/postern/${f}`), 'utf8'), readFileSync(path.join(root, f.startsWith('check_') || f === 'fastcgi_params' ? `conf/${f}` : f), 'utf8'), f);
    }
  });

  test('the units in /lib/systemd/system, naming /usr', () => {
    for (const u of [...UNITS, 'postern@device.service.d/bridge.conf']) {
      const text = readFileSync(file(`lib/systemd/system/${u}`), 'utf8');
      assert.doesNotMatch(text, /\/usr\/local/, u);
      assert.ok(!existsSync(file(`usr/share/postern/${u}`)), `${u} only once`);
    }
    assert.match(readFileSync(file('lib/systemd/system/postern@.service'), 'utf8'), /^ExecStart=\/usr\/lib\/postern\/%i$/m);
    assert.match(readFileSync(file('lib/systemd/system/postern-janitor.service'), 'utf8'), /^ExecStart=\/usr\/bin\/postern janitor$/m);
  });

  test('the man pages, compressed, in man8 and man5', () => {
    assert.equal(gunzipSync(readFileSync(file('usr/share/man/man8/postern.8.gz'))).toString(), readFileSync(path.join(root, 'man/postern.8'), 'utf8'));
    assert.equal(gunzipSync(readFileSync(file('usr/share/man/man5/postern.conf.5.gz'))).toString(), readFileSync(path.join(root, 'man/postern.conf.5'), 'utf8'));
  });

  test('/etc/postern/postern.conf is postern.conf.example with the paths of the package', () => {
    const conf = readFileSync(file('etc/postern/postern.conf'), 'utf8');
    const example = readFileSync(path.join(root, 'postern.conf.example'), 'utf8');
    assert.match(conf, /^secret_key_file = \/var\/lib\/postern\/secret\.key$/m);
    assert.match(conf, /^templates = \/usr\/share\/postern\/templates$/m);
    assert.match(conf, /^database = \/var\/lib\/postern\/postern\.db$/m);
    const differ = conf.split('\n').filter((l, i) => l !== example.split('\n')[i]);
    assert.equal(differ.length, 2, `only those two lines differ: ${differ.join(' | ')}`);
    for (const f of ['copyright', 'changelog.gz']) assert.ok(existsSync(file(`usr/share/doc/postern/${f}`)), f);
  });

  test('lintian reports only the tags tools/deb.sh explains', { skip: spawnSync('lintian', ['--version']).error ? 'lintian is missing (apt-get install lintian)' : false, timeout: 300_000 }, () => {
    const r = sh('lintian', ['--tag-display-limit', '0', '--display-info', deb], { timeout: 280_000 });
    const explained = new Set([...readFileSync(path.join(root, 'tools/deb.sh'), 'utf8').matchAll(/^# lintian: ([a-z0-9-]+)/gm)].map((m) => m[1]));
    const tags = [...r.stdout.matchAll(/^[EWIPX]: postern[^:]*: ([a-z0-9-]+)/gm)].map((m) => m[1]);
    const unexplained = [...new Set(tags)].filter((t) => !explained.has(t));
    assert.deepEqual(unexplained, [], `lintian tags not explained in tools/deb.sh:\n${r.stdout}`);
  });
});
