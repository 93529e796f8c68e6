/* revoke.c: RFC 7009 token revocation (POST /oauth/revoke) and the user's approved apps
 * (/oauth/approved). */
#include <stdlib.h>
#include <string.h>

#include "store.h"

enum { RV_TOKEN, RV_HINT, RV_CLIENT_ID, RV_CLIENT_SECRET, RV__MAX };
static const struct pt_field revoke_fields[RV__MAX] = {
	[RV_TOKEN] = {"token", PT_MAX_TOKEN_FIELD, pt_valid_text, 0},
	[RV_HINT] = {"token_type_hint", PT_MAX_TOKEN_HINT, pt_valid_text, 0},
	[RV_CLIENT_ID] = {"client_id", PT_MAX_CLIENT_ID_FIELD, pt_valid_text, 0},
	[RV_CLIENT_SECRET] = {"client_secret", PT_MAX_CLIENT_SECRET_FIELD, pt_valid_text, 0},
};

static void
ok(struct pt_req *r)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{}");
	pt_json(r, 200, &b);
}

/* POST /oauth/revoke: unknown, malformed and already revoked tokens all answer 200
 * (RFC 7009 §2.2); revoking a refresh token revokes its whole grant (§2.1). */
static void
revoke(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_app app;
	uint8_t h[PT_HASH_LEN];

	if (pt_req_body(r, revoke_fields, RV__MAX, &p, &fail) != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "%s %s", fail.param, fail.reason));
		return;
	}
	if (!pt_client(r, p.v[RV_CLIENT_ID], p.n[RV_CLIENT_ID], p.v[RV_CLIENT_SECRET],
	    p.n[RV_CLIENT_SECRET], &app))
		return;
	const char *t = p.v[RV_TOKEN];
	size_t n = p.n[RV_TOKEN];
	if (t == NULL) {
		pt_fail(r, PT_E_INVALID_REQUEST, "token is missing");
		return;
	}
	if (!pt_token_check(t, n, "pat_") && !pt_token_check(t, n, "prt_")) {
		ok(r);
		return;
	}
	pt_hash(h, t, n);
	if (pt_begin_durable() != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	sqlite3_stmt *st = pt_stmt(ST_TOKEN_CHECK);
	pt_bind_blob(st, 1, h, sizeof(h));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		pt_rollback();
		if (rc == SQLITE_DONE)
			ok(r);
		else
			pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	int64_t token_id = sqlite3_column_int64(st, 5);
	int64_t grant_id = sqlite3_column_int64(st, 6);
	enum pt_token_kind kind = (enum pt_token_kind)sqlite3_column_int(st, 10);
	int64_t app_id = sqlite3_column_int64(st, 12);
	sqlite3_reset(st);
	if (app_id != app.id) {
		pt_rollback();
		pt_fail(r, PT_E_UNAUTHORIZED_CLIENT, "the token was not issued to this client");
		return;
	}
	st = pt_stmt(kind == PT_KIND_ACCESS ? ST_TOKEN_DELETE : ST_GRANT_DELETE);
	sqlite3_bind_int64(st, 1, kind == PT_KIND_ACCESS ? token_id : grant_id);
	if (pt_exec(st) != PT_OK || pt_commit() != PT_OK) {
		pt_rollback();
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	ok(r);
}

/* ------------------------------------------------------------ approved apps */

/* The approved-apps pages' own SQL, by index. Each statement names the user, so a
 * grant id from the address can never reach another user's grant. */
enum { AP_LIST, AP_GET, AP_DELETE, AP__MAX };
static const char *const ap_sql[AP__MAX] = {
	[AP_LIST] = "SELECT g.id, a.client_id, a.name, EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = a.id), o.name, g.scope,"
		    " g.created, g.last_used FROM grants g JOIN apps a ON a.id = g.app_id"
		    " JOIN orgs o ON o.id = g.org_id WHERE g.user_id = ?"
		    " ORDER BY coalesce(g.last_used, g.created) DESC, g.id DESC",
	[AP_GET] = "SELECT g.id, a.client_id, a.name, EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = a.id), o.name, g.scope,"
		   " g.created, g.last_used FROM grants g JOIN apps a ON a.id = g.app_id"
		   " JOIN orgs o ON o.id = g.org_id WHERE g.id = ? AND g.user_id = ?",
	/* its codes and tokens go with it (ON DELETE CASCADE) */
	[AP_DELETE] = "DELETE FROM grants WHERE id = ? AND user_id = ?",
};
static sqlite3_stmt *ap_stmts[AP__MAX];

static sqlite3_stmt *
ap_stmt(int i)
{
	return pt_stmt_sql(&ap_stmts[i], ap_sql[i]);
}

enum { AF_CSRF, AF_CONFIRM, AF__MAX };
static const struct pt_field approved_fields[AF__MAX] = {
	[AF_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
	[AF_CONFIRM] = {"confirm", PT_MAX_CONFIRM, pt_valid_text, 0},
};
enum { AN_DONE, AN__MAX };
static const struct pt_field approved_notice[AN__MAX] = {
	[AN_DONE] = {"done", PT_MAX_NOTICE, pt_valid_text, 0},
};

/* Fills a template item from a row of AP_LIST or AP_GET. */
static void
grant_item(struct pt_req *r, sqlite3_stmt *st, struct pt_tv *it)
{
	int64_t id = sqlite3_column_int64(st, 0);
	const char *cid = pt_col_text(r->ctx.a, st, 1);
	const char *name = pt_col_text(r->ctx.a, st, 2);
	pt_tv_set(it, "app_name", name);
	pt_tv_setn(it, "app_initial", name, pt_utf8_initial(name, strlen(name)));
	if (sqlite3_column_int(st, 3))
		pt_tv_url(it, "app_picture",
		    pt_path(r, pt_printf(r->ctx.a, "/oauth/apps/%s/picture", cid)));
	else
		pt_tv_set(it, "app_picture", "");
	pt_tv_set(it, "org_name", pt_col_text(r->ctx.a, st, 4));
	const char *scope = pt_col_text(r->ctx.a, st, 5);
	for (const char *s = scope; *s;) {
		size_t k = strcspn(s, " ");
		if (k) {
			struct pt_tv *sc = pt_tv_add(it, "scopes");
			const struct pt_scope *c = pt_config_scope(r->ctx.cfg, s, k);
			pt_tv_setn(sc, "scope_name", s, k);
			pt_tv_set(sc, "scope_desc", c != NULL ? c->desc : "");
		}
		s += k;
		while (*s == ' ')
			s++;
	}
	pt_tv_set(it, "approved_at", pt_utc_time(r->ctx.a, sqlite3_column_int64(st, 6)));
	pt_tv_set(it, "last_used", sqlite3_column_type(st, 7) == SQLITE_NULL
	    ? "" : pt_utc_time(r->ctx.a, sqlite3_column_int64(st, 7)));
	pt_tv_set(it, "revoke_url",
	    pt_path(r, pt_printf(r->ctx.a, "/oauth/approved/%lld/revoke", (long long)id)));
}

/* GET /oauth/approved: the apps the user approved, one row per grant. */
static void
approved_list(struct pt_req *r)
{
	const struct pt_user *u = r->user;
	struct pt_params q;
	struct pt_fail fail;
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	pt_tv_set(t, "title", "Approved apps");
	pt_tv_set(t, "apps_url", pt_path(r, "/oauth/apps"));
	if (pt_req_query(r, approved_notice, AN__MAX, &q, &fail) == PT_OK && q.v[AN_DONE] != NULL &&
	    strcmp(q.v[AN_DONE], "revoked") == 0)
		pt_tv_set(t, "notice", "Access revoked. The app can no longer act for you.");
	sqlite3_stmt *st = ap_stmt(AP_LIST);
	int rc = SQLITE_ERROR;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, u->id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			pt_tv_set(t, "has_grants", "1");
			grant_item(r, st, pt_tv_add(t, "grants"));
		}
		sqlite3_reset(st);
	}
	if (rc != SQLITE_DONE) {
		pt_fail(r, PT_E_BUSY, "The server could not load your approved apps. Try again in a moment.");
		return;
	}
	pt_page(r, 200, "approved", t);
}

/* GET or POST /oauth/approved/<grant id>/revoke asks; POST with confirm=yes revokes:
 * the grant goes, and with it every code and token issued under it. */
static void
approved_revoke(struct pt_req *r)
{
	const struct pt_user *u = r->user;
	const char *idstr = r->arg;
	struct pt_params p;
	struct pt_fail fail;
	long long id;
	if (!pt_valid_id(idstr, strlen(idstr)) || pt_strtonum(idstr, 1, INT64_MAX, &id) != PT_OK) {
		pt_fail(r, PT_E_NOT_FOUND, "You have approved no app at this address.");
		return;
	}
	bool confirmed = false;
	if (pt_is_post(r)) {
		if (pt_req_body(r, approved_fields, AF__MAX, &p, &fail) != PT_OK ||
		    !pt_csrf_ok(r, p.v[AF_CSRF], p.n[AF_CSRF])) {
			pt_fail(r, PT_E_CSRF,
			    "The form expired or came from another site. Go back, reload the page and try again.");
			return;
		}
		confirmed = p.v[AF_CONFIRM] != NULL && strcmp(p.v[AF_CONFIRM], "yes") == 0;
	}
	sqlite3_stmt *st = ap_stmt(confirmed ? AP_DELETE : AP_GET);
	int rc = SQLITE_ERROR;
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	/* a revocation is on the disk before the page says so */
	if (confirmed && pt_begin_durable() != PT_OK)
		st = NULL;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, u->id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			grant_item(r, st, t);
		sqlite3_reset(st);
		if (confirmed && rc == SQLITE_DONE && pt_commit() != PT_OK)
			rc = SQLITE_BUSY;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pt_warn("approved: %s", sqlite3_errmsg(pt_db()));
		pt_fail(r, PT_E_BUSY, "The server could not revoke the app. Try again in a moment.");
		return;
	}
	if (confirmed && sqlite3_changes(pt_db()) == 1) {
		pt_info("user %s revoked grant %lld", u->name, id);
		pt_see_other(r, pt_path(r, "/oauth/approved?done=revoked"));
		return;
	}
	if (confirmed || rc != SQLITE_ROW) {
		pt_fail(r, PT_E_NOT_FOUND, "You have approved no app at this address.");
		return;
	}
	pt_tv_set(t, "title", "Revoke access?");
	pt_tv_set(t, "action", pt_path(r, pt_printf(r->ctx.a, "/oauth/approved/%lld/revoke", id)));
	pt_tv_set(t, "approved_url", pt_path(r, "/oauth/approved"));
	pt_page(r, 200, "approved_revoke", t);
}

static const struct pt_route routes[] = {
	/* methods         path                        face     needs                   handler */
	{PT_POST,          "/oauth/revoke",             PT_API,  PT_CLIENT,              revoke},
	{PT_GET,           "/oauth/approved",           PT_PAGE, PT_SESSION,             approved_list},
	{PT_GET,           "/oauth/approved/",          PT_PAGE, PT_SESSION,             approved_list},
	/* a GET or a POST without confirm=yes asks first */
	{PT_GET | PT_POST, "/oauth/approved/*/revoke",  PT_PAGE, PT_SESSION | PT_CSRF,   approved_revoke},
};

int
main(void)
{
	static const struct pt_site site = {"revoke", PT_MAX_BODY, PT_PAGE, "/oauth/approved",
	    routes, sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
