// example-site.test.mjs: nginx.conf.example dropped into a site that already has its own
// `location /static/` and `location /`: nginx -t accepts the mix, the site's / and /static/
// still answer from the site, and postern's pages load their stylesheet and script from
// postern's own prefix (/oauth/static/, below the base path on a sub-path), served by the
// example's locations in front of a real stack's sockets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStack, freePort, root } from '../lib/stack.mjs';
import { Session, createApp } from '../lib/client.mjs';

const example = readFileSync(path.join(root, 'nginx.conf.example'), 'utf8');
const SECTION_START = '# ---------------------------------------------------------------- postern';
const SECTION_END = '# ---------------------------------------------------------------- protecting your API';

/* The example's postern locations (the "postern" part of its server block) as an admin
 * adds them to a site: pointed at this checkout's files and the stack's sockets, and for
 * a sub-path (prefix "/auth") with the prefix in front of every location and of the 429
 * page's stylesheet link, as the example's comment says. */
function posternLocations(stackDir, prefix = '') {
  const start = example.indexOf(SECTION_START), end = example.indexOf(SECTION_END);
  assert.ok(start > 0 && end > start, 'nginx.conf.example has no "postern" part in its server block');
  let text = example.slice(start, end)
    .replaceAll('/usr/local/share/postern/static/', `${root}/static/`)
    .replaceAll('/usr/local/share/postern/', `${root}/conf/`)
    .replaceAll('unix:/run/postern/', `unix:${stackDir}/run/`);
  if (prefix) {
    text = text
      .replace(/^(\s*location\s+(?:=|\^~)?\s*)\/(?!\.well-known)/gm, `$1${prefix}/`)
      .replace(/^(\s*location\s+~\s+\^)\//gm, `$1${prefix}/`)
      .replaceAll('href="/oauth/static/', `href="${prefix}/oauth/static/`);
  }
  return text;
}

/* The example's http-level lines a site adds: the request limit zones. */
const zones = () => example.split('\n').filter((l) => /^limit_req_(zone|status)\b/.test(l)).join('\n');

/* The paths the example's (uncommented) locations claim. */
const claimed = () => [...example.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n')
  .matchAll(/location\s+(=|\^~|~\*|~)?\s*([^\s{]+)\s*\{/g)].map((m) => ({ mod: m[1] ?? '', path: m[2] }));

/* An existing site: its own home page and /static/ (with a style.css of its own, so a
 * postern location that took /static/ would show), in a server block that includes
 * postern's locations. Started with `nginx -t` first; returns {url, dir, stop, test}. */
function startSite(stackDir, prefix = '') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postern-site-'));
  mkdirSync(path.join(dir, 'www'));
  mkdirSync(path.join(dir, 'static'));
  writeFileSync(path.join(dir, 'www', 'index.html'), '<!doctype html><title>The site</title><p>the site\'s own home page</p>\n');
  writeFileSync(path.join(dir, 'static', 'style.css'), '/* the site\'s own stylesheet */\n');
  writeFileSync(path.join(dir, 'postern-locations.conf'), posternLocations(stackDir, prefix));
  // as root, nginx's workers would become nobody, who cannot reach the stack's sockets
  const user = process.getuid() === 0 ? `user ${os.userInfo().username};` : '';
  return { dir, user, conf: (port) => `${user}
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events {}
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body; fastcgi_temp_path ${dir}/fastcgi; proxy_temp_path ${dir}/proxy;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${zones()}
  server {
    listen 127.0.0.1:${port};
    # the site's own
    location /static/ { alias ${dir}/static/; }
    location / { root ${dir}/www; index index.html; }
    # postern's, from nginx.conf.example
    include ${dir}/postern-locations.conf;
  }
}
` };
}

for (const prefix of ['', '/auth']) {
  describe(`nginx.conf.example inside a site with its own / and /static/${prefix ? ` (base path ${prefix})` : ''}`, () => {
    let stack, site, url, pid;
    before(async () => {
      stack = await startStack({ env: prefix ? { BASE_PATH: prefix } : {} });
      site = startSite(stack.dir, prefix);
      const port = await freePort();
      writeFileSync(path.join(site.dir, 'nginx.conf'), site.conf(port));
      const t = spawnSync('nginx', ['-t', '-p', site.dir, '-c', path.join(site.dir, 'nginx.conf')], { encoding: 'utf8' });
      site.test = t;
      if (t.status !== 0) return;
      const r = spawnSync('nginx', ['-p', site.dir, '-c', path.join(site.dir, 'nginx.conf')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      pid = Number(readFileSync(path.join(site.dir, 'nginx.pid'), 'utf8'));
      url = `http://127.0.0.1:${port}`;
    });
    after(async () => {
      if (pid) try { process.kill(pid); } catch { /* already gone */ }
      // nginx removes its pid file on the way out: wait for it, so no worker outlives the test
      for (let i = 0; pid && i < 100 && existsSync(path.join(site.dir, 'nginx.pid')); i++)
        await new Promise((r) => setTimeout(r, 20));
      if (site) rmSync(site.dir, { recursive: true, force: true });
      await stack?.stop();
    });

    test('nothing of postern claims / or /static/', () => {
      const bad = claimed().filter((l) => l.path === '/' || /^\/static(\/|$)/.test(l.path) || (l.mod.startsWith('~') && /^\^?\/(\$|static)/.test(l.path)));
      assert.deepEqual(bad, [], 'nginx.conf.example still claims / or /static/');
      assert.match(example, /location \^~ \/oauth\/static\/ \{\s*\n\s*alias \/usr\/local\/share\/postern\/static\/;/);
    });

    test('nginx -t accepts the example next to the site\'s own locations', () => {
      assert.equal(site.test.status, 0, `nginx -t refused:\n${site.test.stderr}`);
    });

    test('the site\'s own / and /static/ still answer from the site', async () => {
      assert.ok(url, 'nginx did not start');
      const home = await fetch(url + '/');
      assert.equal(home.status, 200);
      assert.match(await home.text(), /the site's own home page/);
      const css = await fetch(url + '/static/style.css');
      assert.equal(css.status, 200);
      assert.equal(await css.text(), '/* the site\'s own stylesheet */\n');
    });

    test(`postern's pages load their stylesheet and script from ${prefix}/oauth/static/`, async () => {
      assert.ok(url, 'nginx did not start');
      const s = new Session(url + prefix);
      const login = await s.get('/oauth/login');
      assert.equal(login.status, 200, login.text_.slice(0, 300));
      const links = [...login.text_.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1]);
      assert.deepEqual(links, [`${prefix}/oauth/static/style.css`]);
      await s.signIn('demo', stack.password);
      const app = await createApp(s, { name: 'Static check' });
      const scripts = [...app.page.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(scripts, [`${prefix}/oauth/static/apps.js`]);
      for (const [href, file, type] of [[links[0], 'style.css', /^text\/css/], [scripts[0], 'apps.js', /javascript/]]) {
        const r = await fetch(url + href);
        assert.equal(r.status, 200, href);
        assert.match(r.headers.get('content-type'), type, href);
        assert.equal(await r.text(), readFileSync(path.join(root, 'static', file), 'utf8'), `${href} is not postern's ${file}`);
      }
      // the 429 page nginx itself writes links the same stylesheet
      const page429 = readFileSync(path.join(site.dir, 'postern-locations.conf'), 'utf8').match(/return 429 '<!doctype html>[^']*'/);
      assert.ok(page429, 'no @postern_429_page');
      assert.match(page429[0], new RegExp(`<link rel="stylesheet" href="${prefix}/oauth/static/style\\.css">`));
    });
  });
}
