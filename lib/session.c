/* session.c: sign-in sessions, trusted REMOTE_USER sign-in, CSRF tokens, users. */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

#define PRE_COOKIE "postern_csrf"
#define PRE_LEN 32

static bool
cookie_secure(const struct pt_req *r)
{
	if (r->ctx.cfg->cookie_secure >= 0)
		return r->ctx.cfg->cookie_secure;
	/* auto: Secure unless the base URL is plain http on loopback (SPEC: Every response) */
	const char *u = r->ctx.cfg->base_url;
	if (strncmp(u, "http://", 7) != 0)
		return true;
	u += 7;
	static const char *const loopback[] = {"127.0.0.1", "[::1]", "localhost"};
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
		size_t n = strlen(loopback[i]);
		if (strncmp(u, loopback[i], n) == 0 && (u[n] == '\0' || u[n] == ':' || u[n] == '/'))
			return false;
	}
	return true;
}

static void
set_cookie(struct pt_req *r, const char *name, const char *value, long max_age)
{
	const char *path = r->ctx.cfg->base_path[0] ? r->ctx.cfg->base_path : "/";
	char *c = pt_printf(r->ctx.a, "%s=%s; Path=%s; HttpOnly; SameSite=Lax%s", name, value, path,
	    cookie_secure(r) ? "; Secure" : "");
	if (max_age >= 0)
		c = pt_printf(r->ctx.a, "%s; Max-Age=%ld", c, max_age);
	pt_header(r, "Set-Cookie", c);
}

void
pt_cookie_set(struct pt_req *r, const char *name, const char *value, long max_age)
{
	set_cookie(r, name, value, max_age);
}

/* Reads our own cookie if it is well-formed; a malformed one counts as absent. */
static const char *
read_cookie(struct pt_req *r, const char *name, const char *prefix, size_t len)
{
	const char *v;
	size_t n;
	if (!pt_cookie_get(r->cookie, name, &v, &n))
		return NULL;
	if (prefix != NULL ? !pt_token_check(v, n, prefix) : (n != len || !pt_valid_b62ish(v, n)))
		return NULL;
	return pt_strndup(r->ctx.a, v, n);
}

int
pt_user_create(const char *name, size_t n, const char *pw, size_t pn, bool admin, int64_t *id)
{
	char hash[crypto_pwhash_STRBYTES];
	int64_t now = pt_now();
	if (pw != NULL &&
	    crypto_pwhash_str(hash, pw, pn, crypto_pwhash_OPSLIMIT_INTERACTIVE,
		crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return PT_ERR_NOMEM;
	if (pt_begin() != PT_OK)
		return PT_ERR_DB;
	int64_t org;
	if (pt_db_user_insert(name, n, pw ? hash : NULL, admin, now, id) != PT_OK ||
	    pt_db_org_personal_insert(name, n, *id, now, &org) != PT_OK ||
	    pt_db_member_insert(org, *id, "owner") != PT_OK || pt_commit() != PT_OK)
		goto fail;
	sodium_memzero(hash, sizeof(hash));
	return PT_OK;
fail:
	sodium_memzero(hash, sizeof(hash));
	pt_rollback();
	return PT_ERR_DB;
}

/* REMOTE_USER sign-in: nginx vouches for the name; create the user on first sight. */
static int
remote_user(struct pt_req *r, struct pt_user *u)
{
	size_t n = strlen(r->remote_user);
	u->auth_time = pt_now(); /* nginx authenticates every request it vouches for */
	if (!pt_valid_username(r->remote_user, n)) {
		pt_warn("REMOTE_USER is not a valid user name");
		return PT_ERR_NOTFOUND;
	}
	struct pt_login_row row;
	int rc = pt_db_user_by_name(r->ctx.a, r->remote_user, n, &row);
	if (rc == PT_OK) {
		u->id = row.id;
		u->name = row.name;
		u->admin = row.admin;
		return PT_OK;
	}
	if (rc != PT_ERR_NOTFOUND)
		return PT_ERR_DB;
	int64_t id;
	if ((rc = pt_user_create(r->remote_user, n, NULL, 0, false, &id)) != PT_OK)
		return rc;
	u->id = id;
	u->name = pt_strdup(r->ctx.a, r->remote_user);
	u->admin = false;
	pt_info("created user %s from REMOTE_USER", u->name);
	return PT_OK;
}

int
pt_session_user(struct pt_req *r, struct pt_user *u)
{
	if (r->user_looked_up) {
		if (r->user == NULL)
			return PT_ERR_NOTFOUND;
		*u = *r->user;
		return PT_OK;
	}
	int rc;
	if (r->ctx.cfg->login == PT_LOGIN_REMOTE_USER) {
		/* Never anonymous in this mode: no REMOTE_USER means nginx was bypassed or
		 * misconfigured, and the caller refuses the request. */
		if (r->remote_user == NULL)
			return PT_ERR_NOTFOUND;
		rc = remote_user(r, u);
	} else {
		r->sess = read_cookie(r, r->ctx.cfg->cookie_name, "pse_", 0);
		if (r->sess == NULL) {
			rc = PT_ERR_NOTFOUND;
		} else {
			uint8_t h[PT_HASH_LEN];
			pt_hash(h, r->sess, strlen(r->sess));
			rc = pt_db_session_user(r->ctx.a, h, pt_now(), u);
			if (rc == PT_ERR_NOTFOUND)
				r->sess = NULL;
			else if (rc != PT_OK)
				rc = PT_ERR_DB; /* never taken for "signed out" */
		}
	}
	if (rc == PT_ERR_DB)
		return rc;
	r->user_looked_up = true;
	if (rc == PT_OK) {
		r->user = pt_alloc(r->ctx.a, sizeof(*u));
		*r->user = *u;
	}
	return rc;
}

int
pt_session_start(struct pt_req *r, int64_t user_id)
{
	char tok[PT_TOKEN_LEN + 1];
	uint8_t h[PT_HASH_LEN];
	/* signing in again (prompt=login): the session it replaces ends */
	const char *old = r->sess ? r->sess : read_cookie(r, r->ctx.cfg->cookie_name, "pse_", 0);
	if (old != NULL) {
		pt_hash(h, old, strlen(old));
		if (pt_db_session_delete(h) != PT_OK)
			pt_warn("session delete failed");
	}
	pt_token_new(tok, "pse_");
	pt_hash(h, tok, PT_TOKEN_LEN);
	if (pt_db_session_insert(h, user_id, pt_now(), pt_now() + r->ctx.cfg->session_ttl) != PT_OK)
		return PT_ERR_DB;
	set_cookie(r, r->ctx.cfg->cookie_name, tok, r->ctx.cfg->session_ttl);
	r->sess = pt_strdup(r->ctx.a, tok);
	sodium_memzero(tok, sizeof(tok));
	return PT_OK;
}

void
pt_session_end(struct pt_req *r)
{
	const char *s = r->sess ? r->sess : read_cookie(r, r->ctx.cfg->cookie_name, "pse_", 0);
	if (s != NULL) {
		uint8_t h[PT_HASH_LEN];
		pt_hash(h, s, strlen(s));
		if (pt_db_session_delete(h) != PT_OK)
			pt_warn("session delete failed");
	}
	set_cookie(r, r->ctx.cfg->cookie_name, "", 0);
	r->sess = NULL;
	r->user = NULL;
}

int
pt_sessions_end_all(int64_t user_id)
{
	return pt_db_sessions_delete_user(user_id, NULL);
}

/* What a CSRF token is bound to: the session, or the pre-session cookie (plus
 * the trusted user name in remote_user mode). */
static const char *
csrf_binding(struct pt_req *r, bool create)
{
	if (r->sess != NULL)
		return r->sess;
	if (r->pre == NULL)
		r->pre = read_cookie(r, PRE_COOKIE, NULL, PRE_LEN);
	if (r->pre == NULL) {
		if (!create)
			return NULL;
		char v[PRE_LEN + 1];
		pt_random_b62(v, PRE_LEN);
		v[PRE_LEN] = '\0';
		r->pre = pt_strdup(r->ctx.a, v);
		set_cookie(r, PRE_COOKIE, v, -1);
	}
	if (r->ctx.cfg->login == PT_LOGIN_REMOTE_USER && r->remote_user != NULL)
		return pt_printf(r->ctx.a, "%s\n%s", r->pre, r->remote_user);
	return r->pre;
}

const char *
pt_csrf_token(struct pt_req *r)
{
	uint8_t h[PT_HASH_LEN];
	char *hex = pt_alloc(r->ctx.a, 33);
	const char *b = csrf_binding(r, true);
	pt_hash2(h, "csrf", b, strlen(b));
	sodium_bin2hex(hex, 33, h, 16);
	return hex;
}

bool
pt_csrf_ok(struct pt_req *r, const char *tok, size_t n)
{
	uint8_t h[PT_HASH_LEN];
	char hex[33];
	/* the route table must say so (struct pt_route) */
	assert(r->route == NULL || (r->route->needs & PT_CSRF));
	r->checked |= PT_CSRF;
	const char *b = csrf_binding(r, false);
	if (b == NULL || tok == NULL)
		return false;
	pt_hash2(h, "csrf", b, strlen(b));
	sodium_bin2hex(hex, sizeof(hex), h, 16);
	return pt_ct_equal(hex, 32, tok, n);
}

int
pt_password_check(pt_arena *a, const char *name, size_t nn, const char *pw, size_t pn,
    struct pt_user *u)
{
	/* A fixed hash to verify against when the user does not exist, so that an
	 * unknown name takes as long as a wrong password. */
	static char dummy[crypto_pwhash_STRBYTES];
	if (dummy[0] == '\0' &&
	    crypto_pwhash_str(dummy, "postern-dummy", 13, crypto_pwhash_OPSLIMIT_INTERACTIVE,
		crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return PT_ERR_NOMEM;
	struct pt_login_row row;
	int rc = pt_db_user_by_name(a, name, nn, &row);
	const char *stored = dummy;
	bool found = false;
	if (rc == PT_OK && row.password != NULL) {
		u->id = row.id;
		u->name = row.name;
		stored = row.password;
		u->admin = row.admin;
		found = true;
	} else if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		return PT_ERR_DB;
	}
	char *pwz = pt_strndup(a, pw, pn);
	bool ok = crypto_pwhash_str_verify(stored, pwz, pn) == 0;
	sodium_memzero(pwz, pn);
	return ok && found ? PT_OK : PT_ERR_NOTFOUND;
}
