/* token.c: POST /oauth/token: authorization_code, refresh_token and device_code grants. */
#include <string.h>

#include <sodium.h>

#include "store.h"

#define DEVICE_GRANT "urn:ietf:params:oauth:grant-type:device_code"

enum {
	TK_GRANT_TYPE, TK_CODE, TK_REDIRECT_URI, TK_CLIENT_ID, TK_CLIENT_SECRET,
	TK_CODE_VERIFIER, TK_REFRESH_TOKEN, TK_SCOPE, TK_RESOURCE, TK_DEVICE_CODE, TK__MAX
};
static const struct pt_field fields[TK__MAX] = {
	[TK_GRANT_TYPE] = {"grant_type", PT_MAX_GRANT_TYPE, pt_valid_text, 0},
	[TK_CODE] = {"code", PT_MAX_TOKEN_FIELD, pt_valid_text, 0},
	[TK_REDIRECT_URI] = {"redirect_uri", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	[TK_CLIENT_ID] = {"client_id", PT_MAX_CLIENT_ID_FIELD, pt_valid_text, 0},
	[TK_CLIENT_SECRET] = {"client_secret", PT_MAX_CLIENT_SECRET_FIELD, pt_valid_text, 0},
	[TK_CODE_VERIFIER] = {"code_verifier", PT_MAX_PKCE, pt_valid_text, 0},
	[TK_REFRESH_TOKEN] = {"refresh_token", PT_MAX_TOKEN_FIELD, pt_valid_text, 0},
	[TK_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	[TK_RESOURCE] = {"resource", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	[TK_DEVICE_CODE] = {"device_code", PT_MAX_TOKEN_FIELD, pt_valid_text, 0},
};

/* One exit for every error of this endpoint (RFC 6749 §5.2); pt_fail rolls back the
 * transaction before it answers. */
#define FAIL(e, desc) do { pt_fail(r, (e), (desc)); return; } while (0)

/* authorization_code and refresh_token run inside the transaction handle() began. */
static void
authorization_code(struct pt_req *r, const struct pt_params *p, const struct pt_app *app)
{
	const char *code = p->v[TK_CODE];
	uint8_t h[PT_HASH_LEN];
	struct pt_issued out;

	if (code == NULL)
		FAIL(PT_E_INVALID_REQUEST, "code is missing");
	/* a mistyped or forged code never reaches the database */
	if (!pt_token_check(code, p->n[TK_CODE], "pac_"))
		FAIL(PT_E_INVALID_GRANT, "the code is not valid");
	pt_hash(h, code, p->n[TK_CODE]);
	sqlite3_stmt *st = pt_stmt(ST_CODE_GET);
	pt_bind_blob(st, 1, h, sizeof(h));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			FAIL(PT_E_INVALID_GRANT, "the code is not valid");
		FAIL(PT_E_BUSY, NULL);
	}
	int64_t grant = sqlite3_column_int64(st, 0);
	bool kept = sqlite3_column_type(st, 1) != SQLITE_NULL; /* the request is still on the row */
	const char *redirect = pt_col_text(r->ctx.a, st, 1);
	bool redirect_given = sqlite3_column_int(st, 2) != 0;
	const char *scope = pt_col_text(r->ctx.a, st, 3);
	const char *challenge = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : pt_col_text(r->ctx.a, st, 4);
	const char *resource = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : pt_col_text(r->ctx.a, st, 5);
	bool live = sqlite3_column_type(st, 6) != SQLITE_NULL && sqlite3_column_int64(st, 6) > pt_now();
	bool used = sqlite3_column_int(st, 7) != 0;
	int64_t app_id = sqlite3_column_int64(st, 8);
	int64_t org = sqlite3_column_int64(st, 10);
	int64_t row = sqlite3_column_int64(st, 11);
	sqlite3_reset(st);

	/* Everything that proves the caller is the client the code was issued to comes
	 * before the replay check: a replay revokes tokens only when it comes from that
	 * client, with its redirect URI and PKCE verifier (OAuth 2.1 §7.5.2); anyone else
	 * holding a stolen code can revoke nothing. */
	if (app_id != app->id)
		FAIL(PT_E_INVALID_GRANT, "the code was issued to another client");
	if (!live || !kept)
		FAIL(PT_E_INVALID_GRANT, "the code has expired");
	const char *ru = p->v[TK_REDIRECT_URI];
	if (redirect_given ? (ru == NULL || strcmp(ru, redirect) != 0)
			   : (ru != NULL && strcmp(ru, redirect) != 0))
		FAIL(PT_E_INVALID_GRANT, "redirect_uri does not match the authorization request");
	const char *verifier = p->v[TK_CODE_VERIFIER];
	if (challenge != NULL) {
		char s256[44];
		if (verifier == NULL)
			FAIL(PT_E_INVALID_GRANT, "code_verifier is missing");
		if (!pt_valid_pkce_verifier(verifier, p->n[TK_CODE_VERIFIER]))
			FAIL(PT_E_INVALID_GRANT, "code_verifier is malformed");
		pt_pkce_s256(s256, verifier, p->n[TK_CODE_VERIFIER]);
		if (!pt_ct_equal(s256, strlen(s256), challenge, strlen(challenge)))
			FAIL(PT_E_INVALID_GRANT, "code_verifier does not match the code_challenge");
	} else if (verifier != NULL) {
		/* RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt */
		FAIL(PT_E_INVALID_GRANT, "code_verifier sent but no code_challenge was");
	}
	if (used) {
		/* RFC 6749 §4.1.2: a replayed code revokes what it produced (durably: the
		 * request's transaction gives way to one that reaches the disk) */
		pt_rollback();
		if (pt_begin_durable() != PT_OK)
			FAIL(PT_E_BUSY, NULL);
		st = pt_stmt(ST_TOKEN_DELETE_BY_CODE);
		pt_bind_blob(st, 1, h, sizeof(h));
		if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
			FAIL(PT_E_BUSY, NULL);
		pt_warn("code reuse for client %s: its tokens are revoked", app->client_id);
		FAIL(PT_E_INVALID_GRANT, "the code was already used");
	}
	if (p->v[TK_RESOURCE] != NULL && (resource == NULL || strcmp(p->v[TK_RESOURCE], resource)))
		FAIL(PT_E_INVALID_TARGET, "resource does not match the authorization request");
	/* the code's row becomes the access token: the code is used from now on */
	rc = pt_tokens_issue(&r->ctx, grant, scope, NULL, resource, h, row, &out);
	if (rc == PT_ERR_NOTFOUND)
		FAIL(PT_E_INVALID_GRANT, "the code was already used");
	if (rc != PT_OK || pt_commit() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	pt_token_response(r, &out, scope, org);
	sodium_memzero(&out, sizeof(out));
}

static void
refresh_token(struct pt_req *r, const struct pt_params *p, const struct pt_app *app)
{
	const char *rt = p->v[TK_REFRESH_TOKEN];
	uint8_t h[PT_HASH_LEN];
	struct pt_issued out;

	if (rt == NULL)
		FAIL(PT_E_INVALID_REQUEST, "refresh_token is missing");
	if (!pt_token_check(rt, p->n[TK_REFRESH_TOKEN], "prt_"))
		FAIL(PT_E_INVALID_GRANT, "the refresh token is not valid");
	pt_hash(h, rt, p->n[TK_REFRESH_TOKEN]);
	sqlite3_stmt *st = pt_stmt(ST_TOKEN_CHECK);
	pt_bind_blob(st, 1, h, sizeof(h));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			FAIL(PT_E_INVALID_GRANT, "the refresh token is not valid");
		FAIL(PT_E_BUSY, NULL);
	}
	int64_t org = sqlite3_column_int64(st, 1);
	const char *scope = pt_col_text(r->ctx.a, st, 2);
	bool expired = sqlite3_column_type(st, 4) != SQLITE_NULL && sqlite3_column_int64(st, 4) <= pt_now();
	int64_t token_id = sqlite3_column_int64(st, 5);
	int64_t grant = sqlite3_column_int64(st, 6);
	const char *resource = sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL : pt_col_text(r->ctx.a, st, 9);
	enum pt_token_kind kind = (enum pt_token_kind)sqlite3_column_int(st, 10);
	int64_t app_id = sqlite3_column_int64(st, 12);
	sqlite3_reset(st);
	if (app_id != app->id)
		FAIL(PT_E_INVALID_GRANT, "the refresh token was issued to another client");
	if (kind == PT_KIND_REFRESH_USED) {
		/* RFC 9700 §4.14.2: a rotated refresh token came back: revoke the grant */
		pt_rollback();
		if (pt_begin_durable() != PT_OK)
			FAIL(PT_E_BUSY, NULL);
		st = pt_stmt(ST_GRANT_DELETE);
		sqlite3_bind_int64(st, 1, grant);
		if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
			FAIL(PT_E_BUSY, NULL);
		pt_warn("refresh token reuse for client %s: the grant is revoked", app->client_id);
		FAIL(PT_E_INVALID_GRANT, "the refresh token was already used");
	}
	if (kind != PT_KIND_REFRESH)
		FAIL(PT_E_INVALID_GRANT, "the refresh token is not valid");
	if (expired)
		FAIL(PT_E_INVALID_GRANT, "the refresh token has expired");
	/* a narrower scope narrows the new access token only: the refresh token keeps the
	 * scope it had (RFC 6749 §6) */
	const char *want = p->v[TK_SCOPE];
	const char *access_scope = scope;
	if (want != NULL && *want) {
		if (!pt_scope_subset(want, scope))
			FAIL(PT_E_INVALID_SCOPE, "a refresh cannot widen the scope");
		access_scope = pt_scope_normalize(r->ctx.a, want);
	}
	st = pt_stmt(ST_REFRESH_TAKE);
	sqlite3_bind_int64(st, 1, token_id);
	rc = sqlite3_step(st);
	/* tokens refreshed from a code keep its hash: a replay of the code revokes them too */
	uint8_t code_hash[PT_HASH_LEN];
	bool from_code = rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == PT_HASH_LEN;
	if (from_code)
		memcpy(code_hash, sqlite3_column_blob(st, 0), PT_HASH_LEN);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		FAIL(PT_E_INVALID_GRANT, "the refresh token was already used");
	if (rc != SQLITE_ROW)
		FAIL(PT_E_BUSY, NULL);
	if (pt_tokens_issue(&r->ctx, grant, access_scope, scope, resource, from_code ? code_hash : NULL, 0,
		&out) != PT_OK || pt_commit() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	pt_token_response(r, &out, access_scope, org);
	sodium_memzero(&out, sizeof(out));
}

/* POST /oauth/token */
static void
token(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail pf;
	struct pt_app app;

	if (pt_req_body(r, fields, TK__MAX, &p, &pf) != PT_OK)
		FAIL(PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "%s %s", pf.param, pf.reason));
	const char *gt = p.v[TK_GRANT_TYPE];
	/* the code and refresh grants read the client and write the tokens in one
	 * transaction (one set of locks); the device grant keeps its own */
	bool txn = gt != NULL && (strcmp(gt, "authorization_code") == 0 || strcmp(gt, "refresh_token") == 0);
	if (txn && pt_begin() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (!pt_client(r, p.v[TK_CLIENT_ID], p.n[TK_CLIENT_ID], p.v[TK_CLIENT_SECRET],
	    p.n[TK_CLIENT_SECRET], &app))
		return;
	if (gt == NULL)
		FAIL(PT_E_INVALID_REQUEST, "grant_type is missing");
	if (strcmp(gt, "authorization_code") && strcmp(gt, "refresh_token") && strcmp(gt, DEVICE_GRANT))
		FAIL(PT_E_UNSUPPORTED_GRANT_TYPE, "grant_type is not supported");
	if (!pt_app_allows_grant(&app, gt))
		FAIL(PT_E_UNAUTHORIZED_CLIENT, "this client may not use this grant type");
	if (strcmp(gt, "authorization_code") == 0)
		authorization_code(r, &p, &app);
	else if (strcmp(gt, "refresh_token") == 0)
		refresh_token(r, &p, &app);
	else
		pt_device_token(r, &app, p.v[TK_DEVICE_CODE], p.n[TK_DEVICE_CODE], false);
}

static const struct pt_route routes[] = {
	/* methods path           face    needs      handler */
	{PT_POST, "/oauth/token", PT_API, PT_CLIENT, token},
};

int
main(void)
{
	static const struct pt_site site = {"token", PT_MAX_BODY, PT_API, "/oauth/token", routes,
	    sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
