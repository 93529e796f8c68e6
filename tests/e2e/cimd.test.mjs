// cimd.test.mjs: Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document):
// an https client_id is fetched as the client's metadata. The documents are served by
// this test over https on loopback with a certificate it makes (openssl), trusted
// through client_metadata_ca_file; client_metadata_allow_hosts names the one server
// the fetches may reach, a second server on another loopback port is not named and
// must be refused before any connection. Off by default.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startStack, freePort } from '../lib/stack.mjs';
import { Session, authorize, token, check, addUser, pkce } from '../lib/client.mjs';
import { makeCert, docServer, json } from '../lib/cimd.mjs';

const CACHE_MIN = 300, CACHE_MAX = 86400, MAX_DOCUMENT = 5 * 1024, TIMEOUT_MS = 3000; // lib/postern.h

const REDIRECT = 'https://client.example/callback';
const SITE = 'Example Wiki';
const textOf = (html) => html.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
const madeBy = (html) => textOf(html.match(/<p class="made-by">([\s\S]*?)<\/p>/)[1]).trim();
const doc = (base, p, extra = {}) => ({
  client_id: base + p, client_name: 'Doc Client', client_uri: 'https://client.example/',
  logo_uri: 'https://client.example/logo.png', redirect_uris: [REDIRECT],
  grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  token_endpoint_auth_method: 'none', ...extra,
});

/* The error page of a refused document: 400, no redirect, the reason on the page. */
function assertErrorPage(a, why) {
  assert.equal(a.status, 400, a.page.text_.slice(0, 300));
  assert.equal(a.location, null, 'never a redirect');
  assert.match(a.page.headers.get('content-type'), /^text\/html/);
  assert.match(a.page.text_, /metadata document/);
  if (why) assert.match(a.page.text_, why);
}

describe('Client ID Metadata Documents', () => {
  let stack, alice, tls, good, other, dir, closedPort, lastRefresh;
  const routes = (base) => ({
    '/good': json(doc(base, '/good'), { 'cache-control': 'public, max-age=600' }),
    '/pkce': json(doc(base, '/pkce')),
    '/marker': json(doc(base, '/marker', { client_name: 'Google Drive' })),
    '/cached-min': json(doc(base, '/cached-min'), { 'cache-control': 'max-age=0' }),
    '/cached-max': json(doc(base, '/cached-max'), { 'cache-control': 'max-age=9999999' }),
    '/no-cache-header': json(doc(base, '/no-cache-header')),
    '/wrong-id': json(doc(base, '/wrong-id', { client_id: base + '/someone-else' })),
    '/secret-basic': json(doc(base, '/secret-basic', { token_endpoint_auth_method: 'client_secret_basic' })),
    '/secret-post': json(doc(base, '/secret-post', { token_endpoint_auth_method: 'client_secret_post' })),
    '/not-json': json('{"client_id": '),
    '/text-html': (req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end(JSON.stringify(doc(base, '/text-html'))); },
    '/big': json(doc(base, '/big', { padding: 'x'.repeat(MAX_DOCUMENT) })),
    '/slow': (req, res) => { const t = setTimeout(() => json(doc(base, '/slow'))(req, res), TIMEOUT_MS + 3000); res.on('close', () => clearTimeout(t)); },
    '/redirect-private': (req, res) => { res.writeHead(302, { location: 'https://10.0.0.1/doc' }); res.end(); },
    '/missing': (req, res) => { res.writeHead(404); res.end(); },
  });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cimd-'));
    tls = makeCert(dir);
    const p1 = await freePort(), p2 = await freePort();
    closedPort = await freePort();
    good = await docServer(tls, p1, routes);
    other = await docServer(tls, p2, (base) => ({ '/good': json(doc(base, '/good')) }));
    stack = await startStack({ env: { SEED: '0', REGISTER_RATE: '1000r/s', EXTRA_CONFIG: [
      'client_metadata_documents = on', 'access_token_ttl = 3600', 'registration = on', `site_name = ${SITE}`,
      `client_metadata_allow_hosts = 127.0.0.1:${p1} 127.0.0.1:${closedPort}`,
      `client_metadata_ca_file = ${tls.certPath}`].join('\n') } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
  });
  after(async () => {
    await stack?.stop();
    await good?.close();
    await other?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the metadata says so (both documents)', async () => {
    for (const p of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const m = await (await fetch(stack.url + p)).json();
      assert.equal(m.client_id_metadata_document_supported, true, p);
    }
  });

  test('a full code flow with PKCE through consent to a token; cached: the second authorize does not fetch', async () => {
    const cid = good.base + '/good';
    const { verifier, challenge } = pkce();
    const q = { client_id: cid, redirect_uri: REDIRECT, scope: 'profile', state: 's1', code_challenge: challenge, code_challenge_method: 'S256' };
    const a = await authorize(alice, q);
    assert.equal(a.consentShown, true, 'a metadata-document client never skips consent');
    assert.match(a.page.text_, /Doc Client/);
    assert.ok(a.code, `no code: ${a.status} ${a.location} ${a.res.text_.slice(0, 300)}`);
    assert.equal(a.state, 's1');
    assert.equal(good.hits('/good'), 1);
    const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT, client_id: cid, code_verifier: verifier });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    assert.equal(await check(stack.url, t.body.access_token), 204);
    assert.ok(t.body.refresh_token, 'the document allows refresh_token');
    const rt = await token(stack.url, { grant_type: 'refresh_token', refresh_token: t.body.refresh_token, client_id: cid });
    assert.equal(rt.status, 200, JSON.stringify(rt.body));
    // a secret sent for it is refused like for any public client
    const withSecret = await token(stack.url, { grant_type: 'refresh_token', refresh_token: rt.body.refresh_token }, [cid, 'pcs_guess']);
    assert.equal(withSecret.status, 401);
    lastRefresh = rt.body.refresh_token;

    // cached within max-age (600 s): a second authorize does not fetch again
    const again = await authorize(alice, { ...q, state: 's2' }, { decision: null });
    assert.equal(again.consentShown, true);
    assert.equal(good.hits('/good'), 1, 'no second fetch within max-age');
    const row = stack.sql(`SELECT d.expires - d.fetched FROM client_documents d JOIN apps a ON a.id = d.app_id WHERE a.client_id = '${cid}'`);
    assert.equal(row.trim(), '600');
    // once stale, the next authorize fetches it again
    stack.sql(`UPDATE client_documents SET expires = 1 WHERE app_id = (SELECT id FROM apps WHERE client_id = '${cid}')`);
    const stale = await authorize(alice, { ...q, state: 's3' }, { decision: null });
    assert.equal(stale.consentShown, true);
    assert.equal(good.hits('/good'), 2);
  });

  test('the consent page: identified by the document\'s host, not verified, the redirect host prominent', async () => {
    const { challenge } = pkce();
    const cid = good.base + '/marker';
    const a = await authorize(alice, { client_id: cid, redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' }, { decision: null });
    assert.equal(a.consentShown, true, a.page.text_.slice(0, 300));
    const html = a.page.text_;
    const host = new URL(good.base).host; // 127.0.0.1:port
    assert.equal(madeBy(html), `Identified by ${host} — ${SITE} has not verified it. Its name and picture are what that site says.`);
    assert.match(html, new RegExp(`<strong class="unverified">Identified by <span class="host">${host.replace(/\./g, '\\.')}</span>`));
    assert.doesNotMatch(html, /Registered itself/);
    assert.match(html, /<p class="redirect-host warning">After you answer you go to <strong class="host">client\.example<\/strong>/);
    assert.doesNotMatch(textOf(html), /go back to client\.example/, 'the redirect host is in the warning, not the account line');
    // a client that registered itself keeps its own wording
    const reg = await fetch(stack.url + '/oauth/register', { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Google Drive', redirect_uris: ['https://drive.evil.example/cb'] }) });
    assert.equal(reg.status, 201);
    const { client_id } = await reg.json();
    const b = await authorize(alice, { client_id, redirect_uri: 'https://drive.evil.example/cb', scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' }, { decision: null });
    assert.equal(b.consentShown, true, b.page.text_.slice(0, 300));
    assert.match(madeBy(b.page.text_), new RegExp(`^Registered itself — ${SITE} has not verified it\\.`));
    assert.doesNotMatch(b.page.text_, /Identified by/);
    assert.match(b.page.text_, /<p class="redirect-host warning">After you answer you go to <strong class="host">drive\.evil\.example<\/strong>/);
  });

  test('PKCE is required and redirect URIs match exactly', async () => {
    // a client never approved gets the page, not a redirect (like a registered one)
    const noPkce = await authorize(alice, { client_id: good.base + '/pkce', redirect_uri: REDIRECT, scope: 'profile', state: 'x' });
    assert.equal(noPkce.status, 400);
    assert.equal(noPkce.location, null);
    assert.match(noPkce.page.text_, /PKCE/);
    // one approved before (the flow above): an error redirect, never a code
    const cid = good.base + '/good';
    const approved = await authorize(alice, { client_id: cid, redirect_uri: REDIRECT, scope: 'profile', state: 'x' });
    assert.equal(approved.status, 302);
    assert.equal(approved.code, null);
    assert.equal(approved.error, 'invalid_request');
    assert.match(approved.error_description, /PKCE|code_challenge/);
    assert.ok(approved.location.startsWith(REDIRECT + '?'));
    const { challenge } = pkce();
    for (const ru of [REDIRECT + '/', 'https://client.example/other', 'https://evil.example/callback']) {
      const a = await authorize(alice, { client_id: cid, redirect_uri: ru, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal(a.status, 400, ru);
      assert.equal(a.location, null, `never a redirect to ${ru}`);
      assert.match(a.page.text_, /redirect_uri mismatch/);
    }
  });

  test('cache lifetimes are bounded: minutes to a day', async () => {
    const { challenge } = pkce();
    const life = async (p) => {
      const cid = good.base + p;
      const a = await authorize(alice, { client_id: cid, redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' }, { decision: null });
      assert.equal(a.consentShown, true, a.page.text_.slice(0, 300));
      return Number(stack.sql(`SELECT d.expires - d.fetched FROM client_documents d JOIN apps a ON a.id = d.app_id WHERE a.client_id = '${cid}'`).trim());
    };
    assert.equal(await life('/cached-min'), CACHE_MIN);
    assert.equal(await life('/cached-max'), CACHE_MAX);
    assert.equal(await life('/no-cache-header'), 3600);
  });

  test('bad documents get the error page, never a redirect', async () => {
    const { challenge } = pkce();
    const cases = [
      ['/wrong-id', /client_id is not its own URL/],
      ['/secret-basic', /secret-based token_endpoint_auth_method/],
      ['/secret-post', /secret-based token_endpoint_auth_method/],
      ['/not-json', /not a JSON object/],
      ['/text-html', /not served as application\/json/],
      ['/big', new RegExp(`larger than ${MAX_DOCUMENT} bytes`)],
      ['/missing', /answered HTTP 404/],
      ['/redirect-private', /redirect \(HTTP 302\), which is not followed/],
    ];
    for (const [p, why] of cases) {
      const a = await authorize(alice, { client_id: good.base + p, redirect_uri: REDIRECT, scope: 'profile', state: 'x', code_challenge: challenge, code_challenge_method: 'S256' });
      assertErrorPage(a, why);
      assert.equal(stack.sql(`SELECT count(*) FROM apps WHERE client_id = '${good.base + p}'`).trim(), '0', `${p} made no app`);
    }
    // unreachable: nothing listens there
    const un = await authorize(alice, { client_id: `https://127.0.0.1:${closedPort}/doc`, redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' });
    assertErrorPage(un, /could not be fetched/);
  });

  test('slow: given up after the timeout', async () => {
    const { challenge } = pkce();
    const t0 = Date.now();
    const a = await authorize(alice, { client_id: good.base + '/slow', redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' });
    const took = Date.now() - t0;
    assertErrorPage(a, new RegExp(`did not arrive within ${TIMEOUT_MS} ms`));
    assert.ok(took >= TIMEOUT_MS - 200 && took < TIMEOUT_MS + 2500, `took ${took} ms`);
  });

  test('SSRF: loopback (by address, by name, IPv4-mapped) and private addresses are refused before connecting', async () => {
    const { challenge } = pkce();
    const port = new URL(other.base).port;
    const before = other.connections();
    for (const cid of [`${other.base}/good`, `https://localhost:${port}/good`, `https://[::ffff:127.0.0.1]:${port}/good`,
      'https://10.1.2.3/doc', 'https://192.168.0.1/doc', 'https://169.254.169.254/latest/meta-data', 'https://100.64.0.1/doc',
      'https://[::1]/doc', 'https://[fd00::1]/doc', 'https://0.0.0.0/doc']) {
      const a = await authorize(alice, { client_id: cid, redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' });
      assertErrorPage(a, /not a public one/);
    }
    assert.equal(other.connections(), before, 'no connection reached the server that is not allowed');
  });

  test('the audit log has each fetch: used, or refused with its reason', async () => {
    const lines = readFileSync(path.join(stack.dir, 'logs', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((l) => l.event === 'client_document');
    const used = lines.filter((l) => l.ok && l.client_id === good.base + '/good');
    assert.equal(used.length, 2, 'the first fetch and the one after it went stale');
    assert.equal(used[0].fresh_seconds, 600);
    const refused = lines.find((l) => !l.ok && l.client_id === 'https://10.1.2.3/doc');
    assert.match(refused?.reason ?? '', /not a public one/);
    assert.ok(lines.some((l) => !l.ok && l.client_id === good.base + '/wrong-id' && /client_id is not its own URL/.test(l.reason)));
  });

  test('turned off, its clients stop working: unknown at authorize and token', async () => {
    const cid = good.base + '/good';
    const conf = readFileSync(stack.config, 'utf8');
    writeFileSync(stack.config, conf.replace(/^client_metadata_documents = on$/m, 'client_metadata_documents = off'));
    try {
      await stack.restart();
      const m = await (await fetch(stack.url + '/.well-known/oauth-authorization-server')).json();
      assert.equal(m.client_id_metadata_document_supported, undefined);
      const { challenge } = pkce();
      const a = await authorize(alice, { client_id: cid, redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal(a.status, 400);
      assert.match(a.page.text_, /unknown client_id/);
      const rt = await token(stack.url, { grant_type: 'refresh_token', refresh_token: lastRefresh, client_id: cid });
      assert.equal(rt.status, 401, JSON.stringify(rt.body));
      assert.equal(rt.body.error, 'invalid_client');
    } finally {
      writeFileSync(stack.config, conf);
      await stack.restart();
    }
    const rt = await token(stack.url, { grant_type: 'refresh_token', refresh_token: lastRefresh, client_id: cid });
    assert.equal(rt.status, 200, 'on again, it works again');
  });

  test('client_ids that are not document URLs are unknown clients', async () => {
    for (const cid of ['http://127.0.0.1/doc', good.base, good.base + '/', good.base + '/a/../good', good.base + '/good#x', `https://u@127.0.0.1:1/good`]) {
      const a = await authorize(alice, { client_id: cid, redirect_uri: REDIRECT, scope: 'profile' });
      assert.equal(a.status, 400, cid);
      assert.equal(a.location, null);
      assert.match(a.page.text_, /unknown client_id/, cid);
    }
  });
});

describe('Client ID Metadata Documents off (the default)', () => {
  let stack, alice, tls, srv, dir;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cimd-off-'));
    tls = makeCert(dir);
    const port = await freePort();
    srv = await docServer(tls, port, (base) => ({ '/good': json(doc(base, '/good')) }));
    stack = await startStack({ env: { SEED: '0', EXTRA_CONFIG: `client_metadata_allow_hosts = 127.0.0.1:${port}\nclient_metadata_ca_file = ${tls.certPath}` } });
    const pa = addUser(stack, 'alice');
    alice = new Session(stack.url); await alice.signIn('alice', pa);
  });
  after(async () => {
    await stack?.stop();
    await srv?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('no metadata flag, and a URL client_id is an unknown client, never fetched', async () => {
    const m = await (await fetch(stack.url + '/.well-known/oauth-authorization-server')).json();
    assert.equal(m.client_id_metadata_document_supported, undefined);
    const { challenge } = pkce();
    const a = await authorize(alice, { client_id: srv.base + '/good', redirect_uri: REDIRECT, scope: 'profile', code_challenge: challenge, code_challenge_method: 'S256' });
    assert.equal(a.status, 400);
    assert.equal(a.location, null);
    assert.match(a.page.text_, /unknown client_id/);
    assert.equal(srv.hits('/good'), 0);
    assert.equal(srv.connections(), 0);
  });
});
