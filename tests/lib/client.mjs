// client.mjs: shared client helpers for test files: a browser-like Session (cookie jar
// over fetch, redirects not followed), PKCE pairs, the authorization request with its
// consent decision, the token endpoint and the nginx auth_request check.
//
//   const s = new Session(stack.url); await s.signIn('demo', stack.password);
//   const { verifier, challenge } = pkce();
//   const a = await authorize(s, { client_id, redirect_uri, code_challenge: challenge });
//   const t = await token(stack.url, { grant_type: 'authorization_code', code: a.code, ... }, [id, secret]);
//   assert.equal(await check(stack.url, t.body.access_token), 204);
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

export const b64url = (b) => Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/* Decodes the five entities the templates escape. */
export function unescapeHtml(s) {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/* A browser-like session: a cookie jar over fetch, redirects not followed. Every
 * response gets its body as res.text_. */
export class Session {
  constructor(base, headers = {}) { this.base = base; this.jar = new Map(); this.headers = headers; }

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

/* The hidden fields of the consent form, decoded, plus the first organization. */
export function consentForm(html) {
  const form = {};
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

/* POST /oauth/token. body is sent as a form, or as JSON with {json: true}; basic is
 * [client_id, client_secret] for HTTP Basic. Returns {status, headers, body, text}. */
export async function token(url, body, basic, { json = false, headers: extra = {}, path = '/oauth/token' } = {}) {
  const headers = { ...extra };
  let b;
  if (typeof body === 'string' || body instanceof Uint8Array) b = body;
  else if (json) { b = JSON.stringify(body); headers['content-type'] ??= 'application/json'; }
  else { b = new URLSearchParams(body).toString(); headers['content-type'] ??= 'application/x-www-form-urlencoded'; }
  if (basic) headers.authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64');
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
