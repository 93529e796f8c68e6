/* session.c: sign-in sessions, trusted REMOTE_USER sign-in, CSRF tokens, users. */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "store.h"

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

static int
user_from_stmt(struct pt_req *r, sqlite3_stmt *st, struct pt_user *u)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		u->id = sqlite3_column_int64(st, 0);
		u->name = pt_col_text(r->ctx.a, st, 1);
		u->admin = sqlite3_column_int(st, 2) != 0;
		sqlite3_reset(st);
		return PT_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return PT_ERR_NOTFOUND;
	pt_warn("session lookup: %s", sqlite3_errmsg(pt_db()));
	return PT_ERR_DB;
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
	sqlite3_stmt *st = pt_stmt(ST_USER_INSERT);
	pt_bind_text(st, 1, name, n);
	pt_bind_text(st, 2, pw ? hash : NULL, pw ? strlen(hash) : 0);
	sqlite3_bind_int(st, 3, admin);
	sqlite3_bind_int64(st, 4, now);
	if (pt_exec(st) != PT_OK)
		goto fail;
	*id = sqlite3_last_insert_rowid(pt_db());
	st = pt_stmt(ST_ORG_PERSONAL_INSERT);
	pt_bind_text(st, 1, name, n);
	sqlite3_bind_int64(st, 2, *id);
	sqlite3_bind_int64(st, 3, now);
	if (pt_exec(st) != PT_OK)
		goto fail;
	int64_t org = sqlite3_last_insert_rowid(pt_db());
	st = pt_stmt(ST_MEMBER_INSERT);
	sqlite3_bind_int64(st, 1, org);
	sqlite3_bind_int64(st, 2, *id);
	sqlite3_bind_text(st, 3, "owner", -1, SQLITE_STATIC);
	if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
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
	if (!pt_valid_username(r->remote_user, n)) {
		pt_warn("REMOTE_USER is not a valid user name");
		return PT_ERR_NOTFOUND;
	}
	sqlite3_stmt *st = pt_stmt(ST_USER_BY_NAME);
	pt_bind_text(st, 1, r->remote_user, n);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		u->id = sqlite3_column_int64(st, 0);
		u->name = pt_col_text(r->ctx.a, st, 1);
		u->admin = sqlite3_column_int(st, 3) != 0;
		sqlite3_reset(st);
		return PT_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
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
			sqlite3_stmt *st = pt_stmt(ST_SESSION_GET);
			pt_bind_blob(st, 1, h, sizeof(h));
			sqlite3_bind_int64(st, 2, pt_now());
			rc = user_from_stmt(r, st, u);
			if (rc == PT_ERR_NOTFOUND)
				r->sess = NULL;
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
	pt_token_new(tok, "pse_");
	pt_hash(h, tok, PT_TOKEN_LEN);
	sqlite3_stmt *st = pt_stmt(ST_SESSION_INSERT);
	pt_bind_blob(st, 1, h, sizeof(h));
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, pt_now());
	sqlite3_bind_int64(st, 4, pt_now() + r->ctx.cfg->session_ttl);
	if (pt_exec(st) != PT_OK)
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
		sqlite3_stmt *st = pt_stmt(ST_SESSION_DELETE);
		pt_bind_blob(st, 1, h, sizeof(h));
		if (pt_exec_durable(st) != PT_OK)
			pt_warn("session delete failed");
	}
	set_cookie(r, r->ctx.cfg->cookie_name, "", 0);
	r->sess = NULL;
	r->user = NULL;
}

int
pt_sessions_end_all(int64_t user_id)
{
	sqlite3_stmt *st = pt_stmt(ST_SESSIONS_END_ALL);
	sqlite3_bind_int64(st, 1, user_id);
	return pt_exec_durable(st);
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
	sqlite3_stmt *st = pt_stmt(ST_USER_BY_NAME);
	pt_bind_text(st, 1, name, nn);
	int rc = sqlite3_step(st);
	const char *stored = dummy;
	bool found = false;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 2) == SQLITE_TEXT) {
		u->id = sqlite3_column_int64(st, 0);
		u->name = pt_col_text(a, st, 1);
		stored = pt_col_text(a, st, 2);
		u->admin = sqlite3_column_int(st, 3) != 0;
		found = true;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return PT_ERR_DB;
	}
	sqlite3_reset(st);
	char *pwz = pt_strndup(a, pw, pn);
	bool ok = crypto_pwhash_str_verify(stored, pwz, pn) == 0;
	sodium_memzero(pwz, pn);
	return ok && found ? PT_OK : PT_ERR_NOTFOUND;
}
