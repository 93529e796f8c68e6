/* authorize.c: GET/POST /oauth/authorize, RFC 6749 §4.1.1 with PKCE and RFC 8707 resource. */
#include <string.h>

#include <fcgiapp.h>

#include "postern.h"

/* Re-encodes the request's parameters, for the return trip through the login page. */
static char *
request_query(struct pt_req *r, const struct pt_params *p)
{
	pt_buf b;
	pt_buf_init(&b, r->a);
	for (size_t i = 0; i < AZ__MAX; i++) {
		if (p->v[i] == NULL)
			continue;
		if (b.n)
			pt_buf_addc(&b, '&');
		pt_buf_adds(&b, pt_authz_fields[i].name);
		pt_buf_addc(&b, '=');
		pt_buf_urlenc(&b, p->v[i], p->n[i]);
	}
	return b.p;
}

static const char *
host_of(pt_arena *a, const char *uri)
{
	const char *h = strstr(uri, "://");
	h = h ? h + 3 : uri;
	return pt_strndup(a, h, strcspn(h, "/?#"));
}

/* The consent page: who is asking, for what, on behalf of which organization. */
static void
consent_page(struct pt_req *r, const struct pt_params *p, const struct pt_authz *az,
    const struct pt_user *u)
{
	struct pt_tv *t = pt_consent_vars(r, &az->app, az->scope, u, "/oauth/consent");
	if (t == NULL)
		return;
	pt_tv_set(t, "redirect_host", host_of(r->a, az->redirect_uri));
	for (size_t i = 0; i < AZ__MAX; i++) {
		if (p->v[i] == NULL)
			continue;
		struct pt_tv *it = pt_tv_add(t, "hidden");
		pt_tv_set(it, "name", pt_authz_fields[i].name);
		pt_tv_setn(it, "value", p->v[i], p->n[i]);
	}
	pt_page(r, 200, "consent", t);
}

/* A grant that already covers the request lets the user skip the page. */
static int
remembered_org(const struct pt_authz *az, const struct pt_user *u, int64_t *org)
{
	if (az->app.trusted) {
		sqlite3_stmt *st = pt_stmt(ST_USER_ORGS);
		sqlite3_bind_int64(st, 1, u->id);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*org = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return rc == SQLITE_ROW ? PT_OK : PT_ERR_NOTFOUND;
	}
	if (!az->app.remember_consent)
		return PT_ERR_NOTFOUND;
	sqlite3_stmt *st = pt_stmt(ST_GRANT_FIND_ANY);
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_int64(st, 2, az->app.id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *scope = (const char *)sqlite3_column_text(st, 1);
		if (scope != NULL && pt_scope_subset(az->scope, scope)) {
			*org = sqlite3_column_int64(st, 2);
			sqlite3_reset(st);
			return PT_OK;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? PT_ERR_NOTFOUND : PT_ERR_DB;
}

/* A malformed or repeated parameter other than client_id and redirect_uri goes back
 * to the client as invalid_request once those two check out (SPEC: Authorization
 * request); returns false when they do not, and the caller shows the error page. */
static bool
redirect_malformed(struct pt_req *r, const struct pt_fail *bad)
{
	const struct pt_field f[3] = {pt_authz_fields[AZ_CLIENT_ID],
	    pt_authz_fields[AZ_REDIRECT_URI], pt_authz_fields[AZ_STATE]};
	struct pt_params q, p;
	struct pt_fail fail;
	struct pt_authz az;
	const char *s = pt_is_post(r) ? r->body : r->query;
	size_t n = pt_is_post(r) ? r->body_len : strlen(r->query);

	if (bad->param == NULL || strcmp(bad->param, "client_id") == 0 ||
	    strcmp(bad->param, "redirect_uri") == 0)
		return false;
	/* the state is echoed only when it is itself well-formed */
	if (pt_parse_form(r->a, s, n, f, 3, &q, &fail) != PT_OK &&
	    pt_parse_form(r->a, s, n, f, 2, &q, &fail) != PT_OK)
		return false;
	memset(&p, 0, sizeof(p));
	p.v[AZ_CLIENT_ID] = q.v[0];
	p.n[AZ_CLIENT_ID] = q.n[0];
	p.v[AZ_REDIRECT_URI] = q.v[1];
	p.n[AZ_REDIRECT_URI] = q.n[1];
	if (pt_authz_check(r, &p, &az, &fail) != PT_OK)
		return false;
	az.state = q.v[2];
	pt_authz_redirect(r, &az, NULL, "invalid_request",
	    pt_printf(r->a, "%s %s", bad->param, bad->reason));
	return true;
}

static void
handle(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_authz az;
	struct pt_user u;
	int rc;

	if (strcmp(r->path, "/oauth/authorize") != 0) {
		pt_error_page(r, 404, "Not found", "There is no page at this address.");
		return;
	}
	if (pt_is_post(r))
		rc = pt_req_body(r, pt_authz_fields, AZ__MAX, &p, &fail);
	else if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		rc = pt_req_query(r, pt_authz_fields, AZ__MAX, &p, &fail);
	else {
		pt_header(r, "Allow", "GET, POST");
		pt_error_page(r, 405, "Method not allowed", "Use GET or POST.");
		return;
	}
	if (rc != PT_OK && redirect_malformed(r, &fail))
		return;
	if (rc != PT_OK) {
		pt_error_page(r, 400, "Bad request",
		    pt_printf(r->a, "The authorization request is malformed: %s %s.", fail.param,
			fail.reason));
		return;
	}
	rc = pt_authz_check(r, &p, &az, &fail);
	if (rc == PT_ERR_DB) {
		pt_error_page(r, 500, "Server error", fail.reason);
		return;
	}
	if (rc != PT_OK) {
		pt_error_page(r, 400, "Invalid authorization request", fail.reason);
		return;
	}
	if (az.error != NULL) {
		pt_authz_redirect(r, &az, NULL, az.error, az.error_description);
		return;
	}
	if (!pt_signed_in(r, &u, pt_printf(r->a, "%s?%s", pt_path(r, "/oauth/authorize"),
	    request_query(r, &p))))
		return;
	int64_t org;
	rc = remembered_org(&az, &u, &org);
	if (rc == PT_OK) {
		char code[PT_TOKEN_LEN + 1];
		if (pt_code_issue(r, &az, u.id, org, code) != PT_OK) {
			pt_authz_redirect(r, &az, NULL, "server_error", "the code could not be issued");
			return;
		}
		pt_authz_redirect(r, &az, code, NULL, NULL);
		return;
	}
	if (rc == PT_ERR_DB) {
		pt_error_page(r, 500, "Server error", "The server could not load your approvals.");
		return;
	}
	consent_page(r, &p, &az, &u);
}

int
main(void)
{
	return pt_serve("authorize", PT_MAX_BODY, handle);
}
