#!/usr/bin/env node
// lint.mjs (`make lint`): the route tables of cgi/*.c against both nginx configs
// (tools/nginx.conf.in and nginx.conf.example). Fails when a route is not sent to its
// executable by a config, or a config sends a path to an executable that has no route
// for it. With --map, prints the route map (route -> executable -> handler) instead.
// Also: SQL only in the storage module (lib/sql.c, lib/db*.c, lib/store*.c): a string
// literal that reads as SQL, or a call of SQLite's or libpq's API, in any other C file of lib/, cgi/, cli/ or bench/ (but the
// bare responders bench/bare*.c, the benchmarks' baselines) fails. --root DIR lints
// another tree (the tests use it).
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const rootArg = process.argv.indexOf('--root');
const root = rootArg > 0 ? process.argv[rootArg + 1] : join(dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

// ---------------------------------------------------------------- route tables

// Every row of `static const struct pt_route routes[]` and the name of the pt_site.
function readRoutes() {
  const routes = [];
  for (const f of readdirSync(join(root, 'cgi')).filter((f) => f.endsWith('.c')).sort()) {
    const src = readFileSync(join(root, 'cgi', f), 'utf8');
    const table = src.match(/static const struct pt_route routes\[\] = \{([\s\S]*?)\n\};/);
    const site = src.match(/struct pt_site site = \{\s*"([^"]+)"/);
    if (!table || !site) {
      problems.push(`cgi/${f}: no route table (static const struct pt_route routes[]) or pt_site`);
      continue;
    }
    // comments out, strings (which hold "/*") kept
    const body = table[1].replace(/"(?:[^"\\]|\\.)*"|\/\*[\s\S]*?\*\//g, (t) => (t[0] === '"' ? t : ''));
    const rows = [...body.matchAll(/\{\s*([^,]+),\s*"([^"]+)",\s*(PT_PAGE|PT_API),\s*([^,]+),\s*(\w+)\s*\}/g)];
    if (rows.length === 0)
      problems.push(`cgi/${f}: the route table has no row this lint can read`);
    for (const [, methods, path, face, needs, handler] of rows)
      routes.push({ exe: site[1], file: `cgi/${f}`, methods: methods.trim(), path, face, needs: needs.trim(), handler });
  }
  return routes;
}

// The same matching as pt_route_path_match (lib/route.c).
function routeMatches(pattern, path) {
  let p = 0, s = 0;
  while (p < pattern.length) {
    if (pattern.startsWith('**', p)) return s < path.length;
    if (pattern[p] === '*') {
      let k = s;
      while (k < path.length && path[k] !== '/') k++;
      if (k === s) return false;
      s = k; p++;
      continue;
    }
    if (pattern[p] !== path[s]) return false;
    p++; s++;
  }
  return s === path.length;
}

// A path the pattern matches, for asking nginx where it goes.
const sample = (pattern) => pattern.replace(/\*\*/g, 'x1').replace(/\*/g, 'x1');

// ---------------------------------------------------------------- nginx

// The locations of a config that pass to a FastCGI socket NAME.sock, and the others.
function readNginx(file) {
  let text = readFileSync(join(root, file), 'utf8')
    .split('\n').filter((l) => !/^\s*#/.test(l)).join('\n')
    .replace(/@BASE@/g, '').replace(/@[A-Z_]+@/g, '');
  const locations = [];
  const re = /location\s+(=|\^~|~\*|~)?\s*([^\s{]+)\s*\{/g;
  let m;
  while ((m = re.exec(text))) {
    let depth = 1, i = re.lastIndex;
    while (i < text.length && depth > 0) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
      i++;
    }
    const block = text.slice(re.lastIndex, i - 1);
    const pass = block.match(/fastcgi_pass\s+unix:\S*?\/(\w+)\.sock\s*;/);
    locations.push({ file, mod: m[1] || '', path: m[2], exe: pass ? pass[1] : null });
  }
  return locations;
}

// Which location nginx picks for uri: an exact match; else the longest prefix, taken at
// once when it is ^~; else the first regex that matches; else that longest prefix.
function pick(locations, uri) {
  const exact = locations.find((l) => l.mod === '=' && l.path === uri);
  if (exact) return exact;
  let longest = null;
  for (const l of locations)
    if ((l.mod === '' || l.mod === '^~') && !l.path.startsWith('@') && uri.startsWith(l.path) &&
        (!longest || l.path.length > longest.path.length))
      longest = l;
  if (longest && longest.mod === '^~') return longest;
  for (const l of locations)
    if ((l.mod === '~' || l.mod === '~*') && new RegExp(l.path, l.mod === '~*' ? 'i' : '').test(uri))
      return l;
  return longest;
}

// The paths a location names: itself, or each alternative of a ^/(a|b)$ regex.
function locationPaths(l) {
  if (l.mod !== '~' && l.mod !== '~*') return [l.path];
  const m = l.path.match(/^\^(.*?)\(([^()]+)\)(.*?)\$$/) || l.path.match(/^\^([^()|]*)()()\$$/);
  if (!m) {
    problems.push(`${l.file}: location ~ ${l.path}: a regex this lint cannot read (use ^/prefix/(a|b)$)`);
    return [];
  }
  const alts = m[2] === '' ? [''] : m[2].split('|');
  return alts.map((a) => m[1] + a + m[3]);
}

// ---------------------------------------------------------------- checks

const routes = readRoutes();
if (process.argv.includes('--map')) {
  const w = Math.max(...routes.map((r) => r.path.length));
  for (const r of routes)
    console.log(`${r.path.padEnd(w)}  ${r.exe.padEnd(10)} ${r.handler.padEnd(22)} ${r.face === 'PT_API' ? 'API ' : 'page'} ${r.methods}  ${r.needs}`);
  process.exit(0);
}
const exes = new Set(routes.map((r) => r.exe));
for (const file of ['tools/nginx.conf.in', 'nginx.conf.example']) {
  const locations = readNginx(file);
  for (const r of routes) {
    const l = pick(locations, sample(r.path));
    if (!l || l.exe !== r.exe)
      problems.push(`${file}: ${r.path} (${r.exe}, ${r.file}) goes ${l ? `to location ${l.mod} ${l.path} (${l.exe ?? 'no FastCGI'})` : 'nowhere'}`);
  }
  for (const l of locations.filter((x) => x.exe !== null)) {
    if (!exes.has(l.exe)) {
      problems.push(`${file}: location ${l.mod} ${l.path} passes to ${l.exe}.sock: no executable has that name`);
      continue;
    }
    for (const p of locationPaths(l)) {
      const mine = routes.filter((r) => r.exe === l.exe);
      const served = l.mod === '=' || l.mod === '~' || l.mod === '~*'
        ? mine.some((r) => routeMatches(r.path, p))
        : mine.some((r) => sample(r.path).startsWith(p));
      if (!served)
        problems.push(`${file}: location ${l.mod} ${l.path} sends ${p} to ${l.exe}, which has no route for it`);
    }
  }
}
// ---------------------------------------------------------------- SQL outside the storage module

const storage = /^lib\/(sql|db|db_pg|store[a-z_]*)\.c$/;
const SQL = /\b(SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|UNIQUE)|ALTER\s+TABLE|DROP\s+(TABLE|INDEX)|PRAGMA\s+\w|BEGIN\s+IMMEDIATE|^sqlite3_\w|^PQ[a-z]\w)/;
let sqlFiles = 0;
for (const dir of ['lib', 'cgi', 'cli', 'bench']) {
  let names;
  try { names = readdirSync(join(root, dir)); } catch { continue; }
  for (const f of names.filter((n) => n.endsWith('.c')).sort()) {
    const rel = `${dir}/${f}`;
    if (storage.test(rel) || /^bench\/bare/.test(rel)) continue;
    sqlFiles++;
    const src = readFileSync(join(root, rel), 'utf8').replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' '));
    const lines = src.split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/"(?:[^"\\]|\\.)*"|\bsqlite3_\w+|\bPQ[a-z]\w+/g))
        if (SQL.test(m[0])) problems.push(`${rel}:${i + 1}: SQL outside the storage module: ${m[0].slice(0, 60)}`);
    });
  }
}

if (problems.length) {
  for (const p of problems) console.error(`lint: ${p}`);
  process.exit(1);
}
console.log(`lint: ${routes.length} routes of ${exes.size} executables agree with tools/nginx.conf.in and nginx.conf.example;`
  + ` no SQL in ${sqlFiles} C files outside the storage module`);
