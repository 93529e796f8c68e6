/* revoke.c: RFC 7009 token revocation (POST /oauth/revoke) and the user's approved apps
 * (/oauth/approved). */
#include <stdlib.h>
#include <string.h>

#include "postern.h"

enum { RV_TOKEN, RV_HINT, RV_CLIENT_ID, RV_CLIENT_SECRET, RV__MAX };
static const struct pt_field revoke_fields[RV__MAX] = {
	/* a JWT access token (RFC 9068) is longer than an opaque one */
	[RV_TOKEN] = {"token", PT_MAX_ACCESS_JWT, pt_valid_text, 0},
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
	/* a JWT access token (RFC 9068) is found by its hash like an opaque one */
	if (!pt_token_check(t, n, "pat_") && !pt_token_check(t, n, "prt_") && !pt_looks_jwt(t, n)) {
		ok(r);
		return;
	}
	pt_hash(h, t, n);
	if (pt_begin_durable() != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	struct pt_revocable_row tok;
	int rc = pt_db_revocable_get(h, &tok);
	if (rc != PT_OK) {
		pt_rollback();
		if (rc == PT_ERR_NOTFOUND)
			ok(r);
		else
			pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	if (tok.app_id != app.id) {
		pt_rollback();
		pt_fail(r, PT_E_UNAUTHORIZED_CLIENT, "the token was not issued to this client");
		return;
	}
	if (pt_db_revocable_delete(&tok) != PT_OK || pt_commit() != PT_OK) {
		pt_rollback();
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	char hx[PT_AUDIT_HASH_HEX + 1];
	bool refresh = tok.kind != PT_KIND_ACCESS;
	pt_audit("token_revoked", true, PT_AS("by", "client"), PT_AS("client_id", app.client_id),
	    PT_AS("what", refresh ? "grant" : "token"), PT_AI(refresh ? "grant_id" : "token_id",
	    refresh ? tok.grant_id : tok.token_id), PT_AS("token_hash", pt_audit_hash(hx, h)),
	    PT_AS("addr", r->remote_addr));
	ok(r);
}

/* ------------------------------------------------------------ approved apps */

enum { AF_CSRF, AF_CONFIRM, AF__MAX };
static const struct pt_field approved_fields[AF__MAX] = {
	[AF_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
	[AF_CONFIRM] = {"confirm", PT_MAX_CONFIRM, pt_valid_text, 0},
};
enum { AN_DONE, AN__MAX };
static const struct pt_field approved_notice[AN__MAX] = {
	[AN_DONE] = {"done", PT_MAX_NOTICE, pt_valid_text, 0},
};

/* Fills a template item from a grant of the user's. */
static void
grant_item(struct pt_req *r, const struct pt_approved_row *g, struct pt_tv *it)
{
	pt_tv_set(it, "app_name", g->app_name);
	pt_tv_setn(it, "app_initial", g->app_name, pt_utf8_initial(g->app_name, strlen(g->app_name)));
	if (g->has_picture)
		pt_tv_url(it, "app_picture",
		    pt_path(r, pt_printf(r->ctx.a, "/oauth/apps/%s/picture", g->client_id)));
	else
		pt_tv_set(it, "app_picture", "");
	pt_tv_set(it, "org_name", g->org_name);
	for (const char *s = g->scope; *s;) {
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
	pt_tv_set(it, "approved_at", pt_utc_time(r->ctx.a, g->created));
	pt_tv_set(it, "last_used", g->last_used == 0 ? "" : pt_utc_time(r->ctx.a, g->last_used));
	pt_tv_set(it, "revoke_url",
	    pt_path(r, pt_printf(r->ctx.a, "/oauth/approved/%lld/revoke", (long long)g->grant_id)));
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
	struct pt_approved_row *grants;
	size_t n;
	if (pt_db_approved_list(r->ctx.a, u->id, &grants, &n) != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not load your approved apps. Try again in a moment.");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		pt_tv_set(t, "has_grants", "1");
		grant_item(r, &grants[i], pt_tv_add(t, "grants"));
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
			    "The form expired or came from another site. Open it again and retry.");
			return;
		}
		confirmed = p.v[AF_CONFIRM] != NULL && strcmp(p.v[AF_CONFIRM], "yes") == 0;
	}
	if (confirmed) {
		/* a revocation is on the disk before the page says so; the user is part of
		 * the delete, so an id from the address never reaches another user's grant */
		int rc = pt_begin_durable();
		if (rc == PT_OK) {
			rc = pt_db_approved_delete(id, u->id);
			if (rc == PT_OK || rc == PT_ERR_NOTFOUND) {
				int crc = pt_commit();
				if (crc != PT_OK)
					rc = crc;
			}
			if (rc != PT_OK && rc != PT_ERR_NOTFOUND)
				pt_rollback();
		}
		if (rc == PT_OK) {
			pt_info("user %s revoked grant %lld", u->name, id);
			pt_audit("token_revoked", true, PT_AS("by", "user"), PT_AS("user", u->name),
			    PT_AI("user_id", u->id), PT_AS("what", "grant"), PT_AI("grant_id", id),
			    PT_AS("addr", r->remote_addr));
			pt_see_other(r, pt_path(r, "/oauth/approved?done=revoked"));
		} else if (rc == PT_ERR_NOTFOUND) {
			pt_fail(r, PT_E_NOT_FOUND, "You have approved no app at this address.");
		} else {
			pt_fail(r, PT_E_BUSY, "The server could not revoke the app. Try again in a moment.");
		}
		return;
	}
	struct pt_approved_row g;
	int rc = pt_db_approved_get(r->ctx.a, id, u->id, &g);
	if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_NOT_FOUND, "You have approved no app at this address.");
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not revoke the app. Try again in a moment.");
		return;
	}
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	grant_item(r, &g, t);
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
