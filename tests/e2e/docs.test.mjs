// docs.test.mjs: the man pages. Both render without a single groff warning, every key
// lib/config.c accepts is in postern.conf.5, and every command and option of the admin
// command (cli/admin.c) is in postern.8. The keys, commands and options are read from
// the sources, so one added later without its documentation fails here.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f) => readFileSync(path.join(root, f), 'utf8');
const PAGES = ['man/postern.8', 'man/postern.conf.5'];

// man source as plain text: \- is -, font changes go
const plain = (s) => s.replace(/\\-/g, '-').replace(/\\f(\[[A-Z]*\]|\(..|[BIRP])/g, '').replace(/\\\(dq/g, '"');
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// a tag line of a .TP entry: `.B word`, `.BI "word " ARG`, ...
const tagged = (man, words) => new RegExp(`^\\.(?:B|BI|BR|I|IR)\\s+"?${esc(words)}(?=[\\s"]|$)`, 'm').test(man);

// the strings of a C string-literal concatenation
const cStrings = (src) => [...src.matchAll(/"((?:[^"\\]|\\.)*)"/g)]
  .map((m) => m[1].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')).join('');

/** The config keys lib/config.c accepts: every `strcmp(k, "key")`, and the prefixed
 * `strncmp(k, "scope ", 6)` kinds (without the `upstream_` dispatch, whose keys are
 * compared one by one in upstream_key). */
export function configKeys(src) {
  const keys = new Set();
  for (const m of src.matchAll(/\bstrn?cmp\(k, "([^"]+)"/g)) {
    const k = m[1].trim();
    if (!k.endsWith('_')) keys.add(k);
  }
  return [...keys];
}

/** The admin command's commands ("user sessions revoke", "janitor", ...) from its usage
 * text, and its options from the option tables of every command and main(). */
export function adminCommands(src) {
  const start = src.indexOf('static const char usage[] =');
  assert.ok(start >= 0, 'cli/admin.c: no usage[]');
  const usage = cStrings(src.slice(start, src.indexOf(';\n', start)));
  const commands = new Set();
  for (const line of usage.split('\n').filter((l) => l.startsWith('  '))) {
    for (const alt of line.split(' | ')) {
      const words = [];
      // the words before an argument, an option or the description column (2+ blanks)
      for (const w of alt.trim().split(/ {2,}/)[0].split(/\s+/)) {
        if (!/^[a-z]+$/.test(w)) break;
        words.push(w);
      }
      if (words.length) commands.add(words.join(' '));
    }
  }
  // the subcommands each cmd_NAME function compares its first argument with
  for (const fn of src.matchAll(/\ncmd_(\w+)\(int argc[^)]*\)\n\{([\s\S]*?)\n\}\n/g)) {
    for (const m of fn[2].matchAll(/strcmp\((?:sub|argv\[0\]), "(\w+)"\)/g)) commands.add(`${fn[1]} ${m[1]}`);
  }
  // the commands main() dispatches
  for (const m of src.matchAll(/strcmp\(args\[0\], "(\w+)"\)/g)) commands.add(m[1]);
  const options = new Set(['--config', '--json', '--help']);
  for (const m of src.matchAll(/(?:valued|flags)\[\] = \{([^}]*)\}/g)) {
    for (const o of m[1].matchAll(/"([a-z-]+)"/g)) options.add(`--${o[1]}`);
  }
  for (const m of usage.matchAll(/--[a-z][a-z-]*/g)) options.add(m[0]);
  return { commands: [...commands], options: [...options] };
}

describe('man pages', () => {
  const groff = spawnSync('groff', ['--version']);

  test('both render with groff -ww -mandoc -z without a warning', { skip: groff.error ? 'groff is missing (apt-get install groff)' : false }, () => {
    for (const page of PAGES) {
      const r = spawnSync('groff', ['-ww', '-mandoc', '-z', path.join(root, page)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${page}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${page} warns`);
      // and on a terminal, where long words are harder to fit
      const t = spawnSync('groff', ['-ww', '-mandoc', '-Tutf8', path.join(root, page)], { encoding: 'utf8' });
      assert.equal(t.stderr, '', `${page} warns on -Tutf8`);
    }
  });

  test('postern.conf.5 has every key lib/config.c accepts', () => {
    const keys = configKeys(read('lib/config.c'));
    for (const k of ['base_url', 'scope', 'processes', 'upstream_token_url', 'log_level']) assert.ok(keys.includes(k), `parser found ${k}`);
    const man = plain(read('man/postern.conf.5'));
    const missing = keys.filter((k) => !tagged(man, k));
    assert.deepEqual(missing, [], `keys without an entry in man/postern.conf.5: ${missing.join(', ')}`);
  });

  test('every key of postern.conf.example is one lib/config.c accepts', () => {
    const keys = configKeys(read('lib/config.c'));
    for (const line of read('postern.conf.example').split('\n')) {
      const m = /^#?\s*([a-z_]+)(?: [a-z:]+)? = /.exec(line);
      if (m) assert.ok(keys.includes(m[1]), `postern.conf.example: ${m[1]}`);
    }
  });

  test('postern.8 has every command and option of the admin command', () => {
    const { commands, options } = adminCommands(read('cli/admin.c'));
    for (const c of ['init', 'user add', 'user sessions revoke', 'app set', 'token issue', 'janitor', 'backup']) assert.ok(commands.includes(c), `parser found ${c}`);
    for (const o of ['--password-file', '--revoke-tokens', '--grant-types', '--no-resource-server', '--base-url']) assert.ok(options.includes(o), `parser found ${o}`);
    const man = plain(read('man/postern.8'));
    const missing = commands.filter((c) => !tagged(man, c));
    assert.deepEqual(missing, [], `commands without an entry in man/postern.8: ${missing.join(', ')}`);
    const absent = options.filter((o) => !new RegExp(`${esc(o)}(?![a-z-])`).test(man));
    assert.deepEqual(absent, [], `options not in man/postern.8: ${absent.join(', ')}`);
  });

  test('postern.8 has the sections an operator looks for', () => {
    const man = read('man/postern.8');
    for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'COMMANDS', 'DEPLOYMENT', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'SEE ALSO']) {
      assert.match(man, new RegExp(`^\\.SH "?${s}"?$`, 'm'), s);
    }
    const conf = read('man/postern.conf.5');
    for (const s of ['NAME', 'DESCRIPTION', 'KEYS', 'EXAMPLE', 'SEE ALSO']) assert.match(conf, new RegExp(`^\\.SH ${s}$`, 'm'), s);
  });

  test('make install puts them in man8 and man5, and the README points to them', () => {
    const mk = read('Makefile');
    assert.match(mk, /man\/postern\.8 \$\(DESTDIR\)\$\(MANDIR\)\/man8/);
    assert.match(mk, /man\/postern\.conf\.5 \$\(DESTDIR\)\$\(MANDIR\)\/man5/);
    assert.match(mk, /^MANDIR\s+\?= \$\(PREFIX\)\/share\/man$/m);
    const readme = read('README.md');
    assert.equal((readme.match(/man\/postern\.8/g) || []).length >= 2, true, 'README names man/postern.8 in both sections');
  });
});
