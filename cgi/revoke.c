/* revoke.c: RFC 7009 token revocation (POST /oauth/revoke) and the user's approved apps
 * (/oauth/approved). */
#include <string.h>

#include "postern.h"

enum { RV_TOKEN, RV_HINT, RV_CLIENT_ID, RV_CLIENT_SECRET, RV__MAX };
static const struct pt_field revoke_fields[RV__MAX] = {
	[RV_TOKEN] = {"token", 128, NULL, 0},
	[RV_HINT] = {"token_type_hint", 32, NULL, 0},
	[RV_CLIENT_ID] = {"client_id", 128, NULL, 0},
	[RV_CLIENT_SECRET] = {"client_secret", 128, NULL, 0},
};

static void
ok(struct pt_req *r)
{
	pt_buf b;
	pt_buf_init(&b, r->a);
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
	struct pt_client_fail cf;
	uint8_t h[PT_HASH_LEN];

	if (!pt_is_post(r)) {
		pt_header(r, "Allow", "POST");
		pt_json_error(r, 405, "invalid_request", "revocation takes POST");
		return;
	}
	if (pt_req_body(r, revoke_fields, RV__MAX, &p, &fail) != PT_OK) {
		pt_json_error(r, 400, "invalid_request", pt_printf(r->a, "%s %s", fail.param, fail.reason));
		return;
	}
	if (pt_client_auth(r, p.v[RV_CLIENT_ID], p.n[RV_CLIENT_ID], p.v[RV_CLIENT_SECRET],
		p.n[RV_CLIENT_SECRET], &app, &cf) != PT_OK) {
		if (cf.basic && cf.status == 401)
			pt_header(r, "WWW-Authenticate", "Basic realm=\"postern\"");
		pt_json_error(r, cf.status, cf.error, cf.desc);
		return;
	}
	const char *t = p.v[RV_TOKEN];
	size_t n = p.n[RV_TOKEN];
	if (t == NULL) {
		pt_json_error(r, 400, "invalid_request", "token is missing");
		return;
	}
	if (!pt_token_check(t, n, "pat_") && !pt_token_check(t, n, "prt_")) {
		ok(r);
		return;
	}
	pt_hash(h, t, n);
	if (pt_begin() != PT_OK) {
		pt_json_error(r, 500, "server_error", "internal error");
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
			pt_json_error(r, 500, "server_error", "internal error");
		return;
	}
	int64_t token_id = sqlite3_column_int64(st, 5);
	int64_t grant_id = sqlite3_column_int64(st, 6);
	int kind = sqlite3_column_int(st, 10);
	int64_t app_id = sqlite3_column_int64(st, 12);
	sqlite3_reset(st);
	if (app_id != app.id) {
		pt_rollback();
		pt_json_error(r, 400, "unauthorized_client", "the token was not issued to this client");
		return;
	}
	st = pt_stmt(kind == 1 ? ST_TOKEN_DELETE : ST_GRANT_DELETE);
	sqlite3_bind_int64(st, 1, kind == 1 ? token_id : grant_id);
	if (pt_exec(st) != PT_OK || pt_commit() != PT_OK) {
		pt_rollback();
		pt_json_error(r, 500, "server_error", "internal error");
		return;
	}
	ok(r);
}

static void
handle(struct pt_req *r)
{
	if (strcmp(r->path, "/oauth/revoke") == 0)
		revoke(r);
	else
		pt_error_page(r, 404, "Not found", "There is no page at this address.");
}

int
main(void)
{
	return pt_serve("revoke", PT_MAX_BODY, handle);
}
