// client.mjs: shared client helpers for test files: a browser-like Session (cookie jar
// over fetch, redirects not followed), PKCE pairs, the authorization request with its
// consent decision, the token endpoint and the nginx auth_request check.
//
//   const s = new Session(stack.url); await s.signIn('demo', stack.password);
//   const { verifier, challenge } = pkce();
//   const a = await authorize(s, { client_id, redirect_uri, code_challenge: challenge });
//   const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, ... }, [id, secret]);
//   assert.equal(await check(stack.url, t.body.access_token), 204);
//
// And for the developer's apps pages: addUser, appsJson, appForm, createApp,
// codeRequest (the authorize params of such an app), tokenFor; revoke (RFC 7009); basic,
// an HTTP Basic header.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

export const b64url = (b) => Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/* Decodes the five entities the templates escape. */
export function unescapeHtml(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/* An HTTP Basic Authorization header (RFC 7617) for user and password as they are. */
export const basic = (user, password) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

/* A browser-like session: a cookie jar over fetch, redirects not followed. Every
 * response gets its body as res.text_; every Set-Cookie line received is kept, in
 * order, in this.cookies. */
export class Session {
  constructor(base, headers = {}) { this.base = base; this.jar = new Map(); this.headers = headers; this.cookies = []; }

  async req(method, p, { form, multipart, json, body, headers = {} } = {}) {
    const h = { ...this.headers, ...headers };
    if (this.jar.size) h.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let b = body;
    if (form) { b = new URLSearchParams(form).toString(); h['content-type'] ??= 'application/x-www-form-urlencoded'; }
    if (multipart) b = multipart;
    if (json !== undefined) { b = typeof json === 'string' ? json : JSON.stringify(json); h['content-type'] ??= 'application/json'; }
    const url = /^https?:/.test(p) ? p : this.base + p;
    const res = await fetch(url, { method, headers: h, body: b, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      this.cookies.push(c);
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      const k = kv.slice(0, i), v = kv.slice(i + 1);
      if (v === '' || /Max-Age=0/i.test(c)) this.jar.delete(k); else this.jar.set(k, v);
    }
    res.text_ = await res.text();
    return res;
  }
  get(p, o) { return this.req('GET', p, o); }
  post(p, o) { return this.req('POST', p, o); }

  /* The CSRF token of the form on page p. */
  async csrf(p) {
    const r = await this.get(p);
    const m = r.text_.match(/name="csrf" value="([^"]+)"/);
    assert.ok(m, `no CSRF token on ${p} (${r.status})`);
    return unescapeHtml(m[1]);
  }

  /* Signs in through the login form; asserts the 303 that means success. */
  async signIn(user, password, returnTo = '/oauth/apps') {
    const csrf = await this.csrf('/oauth/login');
    const r = await this.post('/oauth/login', { form: { csrf, username: user, password, return_to: returnTo } });
    assert.equal(r.status, 303, `sign-in of ${user} failed: ${r.status} ${r.text_.slice(0, 200)}`);
    return r;
  }
}

/* A PKCE pair (RFC 7636): a 43-char verifier and its S256 challenge. */
export function pkce(verifier = b64url(randomBytes(32))) {
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
}

/* The hidden fields of the consent form, decoded, plus the first organization (not
 * those of the account line's "switch account" form). */
export function consentForm(html) {
  const form = {};
  html = html.replace(/<form class="switch"[\s\S]*?<\/form>/g, '');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    form[m[1]] = unescapeHtml(m[2]);
  const org = html.match(/name="org" value="(\d+)"/);
  if (org) form.org = org[1];
  return form;
}

/* Reads code, state, iss and error from a redirect's Location. */
export function parseLocation(location, base) {
  if (!location) return { code: null, state: null, iss: null, error: null, error_description: null };
  const u = new URL(location, base);
  const q = u.searchParams;
  return { url: u, code: q.get('code'), state: q.get('state'), iss: q.get('iss'), error: q.get('error'),
    error_description: q.get('error_description') };
}

/* GET /oauth/authorize with params (response_type defaults to code); when the consent
 * page shows, answers it with decision ('approve' or 'deny', null to stop there).
 * Returns {status, location, code, state, iss, error, error_description, consentShown,
 * page (the consent or error page's response), res (the last response)}. */
export async function authorize(session, params, { decision = 'approve', method = 'GET', edit } = {}) {
  const q = { response_type: 'code', ...params };
  for (const k of Object.keys(q)) if (q[k] === undefined) delete q[k];
  let r = method === 'GET'
    ? await session.get('/oauth/authorize?' + new URLSearchParams(q))
    : await session.post('/oauth/authorize', { form: q });
  let page = r, consentShown = false;
  if (r.status === 200 && /name="action" value="approve"/.test(r.text_)) {
    consentShown = true;
    if (decision) {
      const form = { ...consentForm(r.text_), action: decision };
      if (edit) edit(form);
      r = await session.post('/oauth/consent', { form });
    }
  }
  const location = r.headers.get('location');
  return { status: r.status, location, ...parseLocation(location, session.base), consentShown, page, res: r };
}

/* POST /oauth/token. body is sent as a form, or as JSON with {json: true}; creds is
 * [client_id, client_secret] for HTTP Basic. Returns {status, headers, body, text}. */
export async function token(url, body, creds, { json = false, headers: extra = {}, path = '/oauth/token' } = {}) {
  const headers = { ...extra };
  let b;
  if (typeof body === 'string' || body instanceof Uint8Array) b = body;
  else if (json) { b = JSON.stringify(body); headers['content-type'] ??= 'application/json'; }
  else { b = new URLSearchParams(body).toString(); headers['content-type'] ??= 'application/x-www-form-urlencoded'; }
  if (creds) headers.authorization = basic(encodeURIComponent(creds[0]), encodeURIComponent(creds[1])); // RFC 6749 §2.3.1
  const r = await fetch(url + path, { method: 'POST', headers, body: b });
  const text = await r.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: r.status, headers: r.headers, body: parsed, text };
}

/* GET /oauth/check with the token as a Bearer token: 204 live, 401 not. */
export async function check(url, t) {
  const r = await fetch(url + '/oauth/check', { headers: { authorization: `Bearer ${t}` } });
  await r.arrayBuffer();
  return r.status;
}

/* POST /oauth/revoke (RFC 7009), sent like token(). The answer must be empty or JSON
 * (a JSON.parse error otherwise). Returns {status, headers, body (null when empty), text}. */
export async function revoke(url, body, creds, opts = {}) {
  const r = await token(url, body, creds, { ...opts, path: '/oauth/revoke' });
  r.body = r.text ? JSON.parse(r.text) : null;
  return r;
}

// ---------------------------------------------------------------- the apps pages

/* Adds a user through the CLI; returns its password. */
export function addUser(stack, name, { admin = false } = {}) {
  const pw = `pw-${name}-0123456789`;
  stack.cli(['user', 'add', name, ...(admin ? ['--admin'] : [])], pw + '\n');
  return pw;
}

/* Every app, as `postern --json app list` shows them. */
export function appsJson(stack) { return JSON.parse(stack.cli(['--json', 'app', 'list'])); }

/* The create/edit form of /oauth/apps as multipart/form-data. */
export function appForm(csrf, f = {}) {
  const fd = new FormData();
  fd.append('csrf', csrf);
  fd.append('name', f.name ?? 'Test app');
  fd.append('description', f.description ?? '');
  if (f.picture) fd.append('picture', new Blob([f.picture.data], { type: f.picture.type ?? 'image/png' }), f.picture.name ?? 'p.png');
  fd.append('redirect_uris', f.redirect_uris ?? 'https://app.example/cb');
  for (const s of f.scopes ?? ['profile']) fd.append('scope', s);
  fd.append('type', f.type ?? 'confidential');
  if (f.trusted) fd.append('trusted', '1');
  if (f.remember ?? true) fd.append('remember_consent', '1');
  if (f.remove_picture) fd.append('remove_picture', '1');
  return fd;
}

/* Creates an app through the page; returns {client_id, client_secret, page}. */
export async function createApp(s, f = {}) {
  const csrf = await s.csrf('/oauth/apps/new');
  const r = await s.post('/oauth/apps/new', { multipart: appForm(csrf, f) });
  assert.equal(r.status, 200, r.text_);
  const client_id = r.text_.match(/pca_[A-Za-z0-9]{32}/)[0];
  const sec = r.text_.match(/pcs_[A-Za-z0-9]{48}/);
  return { client_id, client_secret: sec ? sec[0] : null, page: r.text_ };
}

/* The authorize() params for an app made by appForm's defaults; with verifier, its
 * S256 challenge too. */
export function codeRequest(client_id, { redirect_uri = 'https://app.example/cb', scope = 'profile', verifier } = {}) {
  const q = { client_id, redirect_uri, scope, state: 'st8' };
  if (verifier) { q.code_challenge = pkce(verifier).challenge; q.code_challenge_method = 'S256'; }
  return q;
}

/* A token for a confidential app {client_id, client_secret} through the whole flow
 * (consent approved when asked); returns the token response's body. */
export async function tokenFor(stack, s, app, opts = {}) {
  const a = await authorize(s, codeRequest(app.client_id, opts));
  assert.ok(a.code, `no code: ${a.status} ${a.location} ${a.res.text_.slice(0, 200)}`);
  const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, redirect_uri: opts.redirect_uri ?? 'https://app.example/cb' },
    [app.client_id, app.client_secret]);
  assert.equal(t.status, 200, JSON.stringify(t.body));
  return t.body;
}
