/* oauth.c: apps, client authentication, the authorization request, codes and tokens. */
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "postern.h"

int
pt_app_get(pt_arena *a, const char *client_id, size_t n, struct pt_app *app)
{
	memset(app, 0, sizeof(*app));
	if (n != PT_CLIENT_ID_LEN || memcmp(client_id, "pca_", 4) != 0 ||
	    !pt_valid_b62ish(client_id, n))
		return PT_ERR_NOTFOUND;
	sqlite3_stmt *st = pt_stmt(ST_APP_BY_CLIENT_ID);
	pt_bind_text(st, 1, client_id, n);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return PT_ERR_NOTFOUND;
		pt_warn("app lookup: %s", sqlite3_errmsg(pt_db()));
		return PT_ERR_DB;
	}
	app->id = sqlite3_column_int64(st, 0);
	app->client_id = pt_col_text(a, st, 1);
	app->name = pt_col_text(a, st, 2);
	app->description = pt_col_text(a, st, 3);
	app->has_picture = sqlite3_column_int(st, 4) != 0;
	app->redirect_uris = pt_col_text(a, st, 5);
	app->scopes = pt_col_text(a, st, 6);
	app->public = sqlite3_column_int(st, 7) != 0;
	app->trusted = sqlite3_column_int(st, 8) != 0;
	app->require_pkce = sqlite3_column_int(st, 9) != 0;
	app->remember_consent = sqlite3_column_int(st, 10) != 0;
	app->grant_types = pt_col_text(a, st, 11);
	if (sqlite3_column_bytes(st, 12) == PT_HASH_LEN) {
		memcpy(app->secret_hash, sqlite3_column_blob(st, 12), PT_HASH_LEN);
		app->has_secret = true;
	}
	app->owner_id = sqlite3_column_int64(st, 13);
	sqlite3_reset(st);
	return PT_OK;
}

bool
pt_app_allows_grant(const struct pt_app *app, const char *grant_type)
{
	return pt_word_in(grant_type, strlen(grant_type), app->grant_types);
}

int
pt_client_auth(struct pt_req *r, const char *body_id, size_t idn, const char *body_secret,
    size_t secn, struct pt_app *app, struct pt_client_fail *cf)
{
	char *bid = NULL, *bsec = NULL;
	size_t bidn = 0, bsecn = 0;
	const char *id = body_id, *sec = body_secret;
	cf->basic = false;
	cf->error = "invalid_client";
	cf->status = 401;
	if (strncasecmp(r->authorization, "Basic ", 6) == 0) {
		cf->basic = true;
		int rc = pt_basic_decode(r->a, r->authorization, strlen(r->authorization), &bid,
		    &bidn, &bsec, &bsecn);
		if (rc != PT_OK) {
			cf->desc = "the Authorization header is not valid Basic credentials";
			return PT_ERR_INVALID;
		}
		if (body_secret != NULL) {
			cf->error = "invalid_request";
			cf->status = 400;
			cf->desc = "use one client authentication method, not two";
			return PT_ERR_INVALID;
		}
		if (body_id != NULL && (idn != bidn || memcmp(body_id, bid, idn) != 0)) {
			cf->error = "invalid_request";
			cf->status = 400;
			cf->desc = "client_id does not match the Authorization header";
			return PT_ERR_INVALID;
		}
		id = bid;
		idn = bidn;
		sec = bsec;
		secn = bsecn;
	}
	if (id == NULL) {
		cf->desc = "client_id is missing";
		return PT_ERR_INVALID;
	}
	int rc = pt_app_get(r->a, id, idn, app);
	if (rc == PT_ERR_DB) {
		cf->error = "server_error";
		cf->status = 500;
		cf->desc = "internal error";
		return rc;
	}
	if (rc != PT_OK) {
		cf->desc = "unknown client";
		return PT_ERR_INVALID;
	}
	if (app->public) {
		if (sec != NULL && secn > 0) {
			cf->desc = "a public client has no secret";
			return PT_ERR_INVALID;
		}
		return PT_OK;
	}
	if (sec == NULL || !app->has_secret) {
		cf->desc = "client authentication is required";
		return PT_ERR_INVALID;
	}
	uint8_t h[PT_HASH_LEN];
	pt_hash(h, sec, secn);
	if (sodium_memcmp(h, app->secret_hash, PT_HASH_LEN) != 0) {
		cf->desc = "client authentication failed";
		return PT_ERR_INVALID;
	}
	return PT_OK;
}

/* The registered URI that the request names, or the only one when it names none. */
static const char *
pick_redirect(pt_arena *a, const char *list, const char *want, size_t wn)
{
	const char *s = list;
	size_t count = 0;
	const char *first = NULL;
	size_t firstn = 0;
	while (*s) {
		size_t k = strcspn(s, "\n");
		if (k) {
			if (want != NULL && pt_redirect_uri_match(s, k, want, wn))
				return pt_strndup(a, want, wn);
			if (count++ == 0) {
				first = s;
				firstn = k;
			}
		}
		s += k;
		if (*s)
			s++;
	}
	if (want == NULL && count == 1)
		return pt_strndup(a, first, firstn);
	return NULL;
}

const struct pt_field pt_authz_fields[AZ__MAX] = {
	[AZ_CLIENT_ID] = {"client_id", 64, NULL, 0},
	[AZ_REDIRECT_URI] = {"redirect_uri", PT_MAX_REDIRECT_URI, NULL, 0},
	[AZ_RESPONSE_TYPE] = {"response_type", 64, NULL, 0},
	[AZ_SCOPE] = {"scope", PT_MAX_SCOPE, NULL, 0},
	[AZ_STATE] = {"state", PT_MAX_STATE, NULL, 0},
	[AZ_CODE_CHALLENGE] = {"code_challenge", 128, NULL, 0},
	[AZ_CODE_CHALLENGE_METHOD] = {"code_challenge_method", 16, NULL, 0},
	[AZ_RESOURCE] = {"resource", PT_MAX_REDIRECT_URI, NULL, 0},
};

bool
pt_resource_known(const struct pt_config *c, const char *v)
{
	if (c->nresources == 0)
		return true; /* none configured: any absolute URI is recorded as given */
	for (size_t i = 0; i < c->nresources; i++)
		if (strcmp(c->resources[i], v) == 0)
			return true;
	return false;
}

static bool
resource_ok(const char *v)
{
	/* RFC 8707 §2: an absolute URI without a fragment */
	return (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0) &&
	    strchr(v, '#') == NULL && strchr(v, ' ') == NULL;
}

int
pt_authz_check(struct pt_req *r, const struct pt_params *p, struct pt_authz *az,
    struct pt_fail *fail)
{
	memset(az, 0, sizeof(*az));
	fail->param = "client_id";
	if (p->v[AZ_CLIENT_ID] == NULL || p->n[AZ_CLIENT_ID] == 0) {
		fail->reason = "The request does not name an application (client_id is missing).";
		return PT_ERR_INVALID;
	}
	int rc = pt_app_get(r->a, p->v[AZ_CLIENT_ID], p->n[AZ_CLIENT_ID], &az->app);
	if (rc == PT_ERR_DB) {
		fail->reason = "The server could not look up the application. Try again later.";
		return PT_ERR_DB;
	}
	if (rc != PT_OK) {
		fail->reason = "The application that sent you here is not registered (unknown client_id).";
		return PT_ERR_INVALID;
	}
	az->client_id = az->app.client_id;
	fail->param = "redirect_uri";
	az->redirect_uri_given = p->v[AZ_REDIRECT_URI] != NULL;
	az->redirect_uri = pick_redirect(r->a, az->app.redirect_uris, p->v[AZ_REDIRECT_URI],
	    p->n[AZ_REDIRECT_URI]);
	if (az->redirect_uri == NULL) {
		fail->reason = az->redirect_uri_given
		    ? "The application asked to send you to an address it has not registered (redirect_uri mismatch)."
		    : "The application has several redirect addresses and did not say which one to use (redirect_uri is missing).";
		return PT_ERR_INVALID;
	}
	fail->param = NULL;
	fail->reason = NULL;
	/* From here on, errors go back to the client. */
	az->state = p->v[AZ_STATE];
	az->response_type = p->v[AZ_RESPONSE_TYPE];
	az->challenge = p->v[AZ_CODE_CHALLENGE];
	az->resource = p->v[AZ_RESOURCE];
	const char *method = p->v[AZ_CODE_CHALLENGE_METHOD];
	const char *scope = p->v[AZ_SCOPE];
	const struct pt_config *c = r->cfg;
#define ERR(e, d) do { az->error = (e); az->error_description = (d); return PT_OK; } while (0)
	if (az->response_type == NULL)
		ERR("invalid_request", "response_type is missing");
	if (strcmp(az->response_type, "code") != 0)
		ERR("unsupported_response_type", "only response_type=code is supported");
	if (!pt_app_allows_grant(&az->app, "authorization_code"))
		ERR("unauthorized_client", "this client may not use the authorization code flow");
	if (scope == NULL || *scope == '\0') {
		scope = c->default_scope;
		if (*az->app.scopes && !pt_scope_subset(scope, az->app.scopes))
			scope = az->app.scopes;
	}
	if (!pt_scopes_ok(c, scope, strlen(scope), az->app.scopes))
		ERR("invalid_scope", "a requested scope is unknown or not allowed for this client");
	az->scope = scope;
	if (method != NULL && strcmp(method, "S256") != 0)
		ERR("invalid_request", "code_challenge_method must be S256");
	if (az->challenge != NULL) {
		if (method == NULL)
			ERR("invalid_request", "code_challenge_method must be S256");
		if (!pt_valid_pkce_challenge(az->challenge, strlen(az->challenge)))
			ERR("invalid_request", "code_challenge is not a base64url SHA-256 value");
	} else if (method != NULL) {
		ERR("invalid_request", "code_challenge is missing");
	} else if (az->app.public || az->app.require_pkce) {
		ERR("invalid_request", "PKCE (code_challenge with S256) is required for this client");
	}
	if (az->resource != NULL && !resource_ok(az->resource))
		ERR("invalid_target", "resource must be an absolute URI without a fragment");
	if (az->resource != NULL && !pt_resource_known(c, az->resource))
		ERR("invalid_target", "resource is not a protected resource of this server");
#undef ERR
	return PT_OK;
}

void
pt_authz_redirect(struct pt_req *r, const struct pt_authz *az, const char *code,
    const char *error, const char *desc)
{
	const char *kv[] = {"code", code, "error", error, "error_description", desc, "state",
	    az->state, "iss", r->cfg->base_url, NULL};
	pt_redirect(r, pt_uri_with_params(r->a, az->redirect_uri, kv));
}

/* Union of two scope strings, keeping a's order. */
static char *
scope_union(pt_arena *a, const char *have, const char *add)
{
	pt_buf b;
	pt_buf_init(&b, a);
	pt_buf_adds(&b, have);
	for (const char *s = add; *s;) {
		size_t k = strcspn(s, " ");
		if (k && !pt_word_in(s, k, have)) {
			if (b.n)
				pt_buf_addc(&b, ' ');
			pt_buf_add(&b, s, k);
		}
		s += k;
		while (*s == ' ')
			s++;
	}
	return b.p;
}

int
pt_grant_record(struct pt_req *r, int64_t user_id, int64_t app_id, int64_t org_id,
    const char *scope, int64_t *grant_id)
{
	sqlite3_stmt *st = pt_stmt(ST_GRANT_FIND);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, app_id);
	sqlite3_bind_int64(st, 3, org_id);
	const char *all = scope;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		all = scope_union(r->a, pt_col_text(r->a, st, 1), scope);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return PT_ERR_DB;
	st = pt_stmt(ST_GRANT_UPSERT);
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, app_id);
	sqlite3_bind_int64(st, 3, org_id);
	pt_bind_text(st, 4, all, strlen(all));
	sqlite3_bind_int64(st, 5, pt_now());
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*grant_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? PT_OK : PT_ERR_DB;
}

int
pt_code_issue(struct pt_req *r, const struct pt_authz *az, int64_t user_id, int64_t org_id,
    char code[PT_TOKEN_LEN + 1])
{
	int64_t grant;
	uint8_t h[PT_HASH_LEN];
	if (pt_begin() != PT_OK)
		return PT_ERR_DB;
	if (pt_grant_record(r, user_id, az->app.id, org_id, az->scope, &grant) != PT_OK)
		goto fail;
	pt_token_new(code, "pac_");
	pt_hash(h, code, PT_TOKEN_LEN);
	sqlite3_stmt *st = pt_stmt(ST_CODE_INSERT);
	pt_bind_blob(st, 1, h, sizeof(h));
	sqlite3_bind_int64(st, 2, grant);
	pt_bind_text(st, 3, az->redirect_uri, strlen(az->redirect_uri));
	sqlite3_bind_int(st, 4, az->redirect_uri_given);
	pt_bind_text(st, 5, az->scope, strlen(az->scope));
	pt_bind_text(st, 6, az->challenge, az->challenge ? strlen(az->challenge) : 0);
	pt_bind_text(st, 7, az->resource, az->resource ? strlen(az->resource) : 0);
	int64_t now = pt_now();
	sqlite3_bind_int64(st, 8, now + r->cfg->code_ttl);
	sqlite3_bind_int64(st, 9, now);
	if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
		goto fail;
	return PT_OK;
fail:
	pt_rollback();
	return PT_ERR_DB;
}

/* Mints one token of kind (1 access, 2 refresh) into tok and stores its hash: in a new
 * row, or (code_row > 0) in the row of the code it is redeemed from. */
static int
token_store(char tok[PT_TOKEN_LEN + 1], const char *prefix, int kind, int64_t grant_id,
    const char *scope, const char *resource, const uint8_t *code_hash, int64_t code_row,
    int64_t now, int64_t expires)
{
	uint8_t h[PT_HASH_LEN];
	sqlite3_stmt *st;
	pt_token_new(tok, prefix);
	pt_hash(h, tok, PT_TOKEN_LEN);
	if (code_row > 0) {
		st = pt_stmt(ST_CODE_REDEEM);
		pt_bind_blob(st, 1, h, sizeof(h));
		sqlite3_bind_int64(st, 2, now);
		if (expires > 0)
			sqlite3_bind_int64(st, 3, expires);
		sqlite3_bind_int64(st, 4, code_row);
		if (pt_exec(st) != PT_OK)
			return PT_ERR_DB;
		return sqlite3_changes(pt_db()) == 1 ? PT_OK : PT_ERR_NOTFOUND;
	}
	st = pt_stmt(ST_TOKEN_INSERT);
	pt_bind_blob(st, 1, h, sizeof(h));
	sqlite3_bind_int(st, 2, kind);
	sqlite3_bind_int64(st, 3, grant_id);
	if (code_hash)
		pt_bind_blob(st, 4, code_hash, PT_HASH_LEN);
	pt_bind_text(st, 5, scope, strlen(scope));
	pt_bind_text(st, 6, resource, resource ? strlen(resource) : 0);
	sqlite3_bind_int64(st, 7, now);
	if (expires > 0)
		sqlite3_bind_int64(st, 8, expires);
	return pt_exec(st);
}

int
pt_tokens_issue(struct pt_req *r, int64_t grant_id, const char *scope, const char *resource,
    const uint8_t *code_hash, int64_t code_row, struct pt_issued *out)
{
	int64_t now = pt_now();
	long ttl = r->cfg->access_token_ttl;
	memset(out, 0, sizeof(*out));
	int rc = token_store(out->access, "pat_", 1, grant_id, scope, resource, code_hash, code_row,
	    now, ttl > 0 ? now + ttl : 0);
	if (rc != PT_OK || ttl <= 0)
		return rc;
	out->expires_in = ttl;
	out->has_refresh = true;
	return token_store(out->refresh, "prt_", 2, grant_id, scope, resource, code_hash, 0, now,
	    now + r->cfg->refresh_token_ttl);
}

void
pt_token_response(struct pt_req *r, const struct pt_issued *t, const char *scope, int64_t org_id)
{
	pt_buf b;
	pt_buf_init(&b, r->a);
	pt_buf_adds(&b, "{\"access_token\":");
	pt_buf_json(&b, t->access, PT_TOKEN_LEN);
	pt_buf_adds(&b, ",\"token_type\":\"Bearer\",\"scope\":");
	pt_buf_json(&b, scope, strlen(scope));
	pt_buf_addf(&b, ",\"id\":\"%lld\"", (long long)org_id);
	if (t->has_refresh) {
		pt_buf_addf(&b, ",\"expires_in\":%ld,\"refresh_token\":", t->expires_in);
		pt_buf_json(&b, t->refresh, PT_TOKEN_LEN);
	}
	pt_buf_addc(&b, '}');
	pt_json(r, 200, &b);
	sodium_memzero(b.p, b.n);
}
