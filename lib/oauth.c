/* oauth.c: apps, client authentication, the authorization request, codes and tokens. */
#include <assert.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "postern.h"

int
pt_app_get(pt_arena *a, const char *client_id, size_t n, struct pt_app *app)
{
	memset(app, 0, sizeof(*app));
	/* a Client ID Metadata Document's client: its row exists once authorize fetched it */
	if (pt_cimd_is_url(client_id, n))
		;
	else if (n != PT_CLIENT_ID_LEN || memcmp(client_id, "pca_", 4) != 0 ||
	    !pt_valid_b62ish(client_id, n))
		return PT_ERR_NOTFOUND;
	int rc = pt_db_app_by_client_id(a, client_id, n, app);
	if (rc == PT_OK || rc == PT_ERR_NOTFOUND)
		return rc;
	pt_warn("app lookup failed");
	return PT_ERR_DB;
}

/* Runs one batch delete until it deletes less than a batch: each run is its own short
 * transaction. */
static int
delete_batches(int (*batch)(int64_t id, int limit, int64_t *deleted), int64_t id)
{
	for (;;) {
		int64_t deleted;
		int rc = batch(id, PT_DELETE_BATCH, &deleted);
		if (rc != PT_OK)
			return rc;
		if (deleted < PT_DELETE_BATCH)
			return PT_OK;
	}
}

int
pt_app_delete(int64_t app_id)
{
	int rc;
	/* no new code, token or grant from here on; then its tokens and grants, a batch at
	 * a time; the last delete takes what was left (device requests, a late token) */
	if ((rc = pt_db_app_disable(app_id)) != PT_OK ||
	    (rc = delete_batches(pt_db_app_tokens_delete_batch, app_id)) != PT_OK ||
	    (rc = delete_batches(pt_db_app_grants_delete_batch, app_id)) != PT_OK)
		return rc;
	return pt_db_app_delete(app_id);
}

int
pt_user_delete(int64_t user_id)
{
	int rc;
	/* the user's own apps, one after the other, each in its batches */
	for (;;) {
		int64_t app;
		rc = pt_db_user_app_any(user_id, &app);
		if (rc == PT_ERR_NOTFOUND)
			break;
		if (rc != PT_OK)
			return rc;
		if ((rc = pt_app_delete(app)) != PT_OK && rc != PT_ERR_NOTFOUND)
			return rc;
	}
	if ((rc = delete_batches(pt_db_user_tokens_delete_batch, user_id)) != PT_OK)
		return rc;
	/* grants, sessions, memberships, device requests, pending consents and the
	 * personal organization (with what others were granted for it) go by cascade */
	return pt_db_user_delete(user_id);
}

bool
pt_app_allows_grant(const struct pt_app *app, const char *grant_type)
{
	return pt_word_in(grant_type, strlen(grant_type), app->grant_types);
}

enum pt_error
pt_client_auth(struct pt_req *r, const char *body_id, size_t idn, const char *body_secret,
    size_t secn, struct pt_app *app, const char **desc)
{
	char *bid = NULL, *bsec = NULL;
	size_t bidn = 0, bsecn = 0;
	const char *id = body_id, *sec = body_secret;
	if (strncasecmp(r->authorization, "Basic ", 6) == 0) {
		int rc = pt_basic_decode(r->ctx.a, r->authorization, strlen(r->authorization), &bid,
		    &bidn, &bsec, &bsecn);
		if (rc != PT_OK) {
			*desc = "the Authorization header is not valid Basic credentials";
			return PT_E_CLIENT_AUTH;
		}
		if (body_secret != NULL) {
			*desc = "use one client authentication method, not two";
			return PT_E_INVALID_REQUEST;
		}
		if (body_id != NULL && (idn != bidn || memcmp(body_id, bid, idn) != 0)) {
			*desc = "client_id does not match the Authorization header";
			return PT_E_INVALID_REQUEST;
		}
		id = bid;
		idn = bidn;
		sec = bsec;
		secn = bsecn;
	}
	if (id == NULL) {
		*desc = "client_id is missing";
		return PT_E_CLIENT_AUTH;
	}
	/* an unknown client, a wrong secret, a missing one and a secret sent for a public
	 * client get the same answer, and the secret is hashed either way: the answer does
	 * not tell which client ids exist */
	*desc = "client authentication failed";
	uint8_t h[PT_HASH_LEN];
	pt_hash(h, sec ? sec : "", sec ? secn : 0);
	/* a metadata-document client works only while the feature is on */
	int rc = pt_cimd_is_url(id, idn) && !r->ctx.cfg->client_metadata_documents
	    ? PT_ERR_NOTFOUND : pt_app_get(r->ctx.a, id, idn, app);
	if (rc == PT_ERR_DB) {
		*desc = "the server could not look up the client; retry shortly";
		return PT_E_BUSY;
	}
	if (rc != PT_OK) {
		pt_info("client authentication: unknown client_id");
		return PT_E_CLIENT_AUTH;
	}
	if (app->public) {
		if (sec != NULL && secn > 0) {
			pt_info("client authentication: a secret sent for public client %s", app->client_id);
			return PT_E_CLIENT_AUTH;
		}
		return PT_E_NONE;
	}
	if (sec == NULL || !app->has_secret) {
		pt_info("client authentication: no secret for %s", app->client_id);
		return PT_E_CLIENT_AUTH;
	}
	if (sodium_memcmp(h, app->secret_hash, PT_HASH_LEN) != 0) {
		pt_info("client authentication: wrong secret for %s", app->client_id);
		return PT_E_CLIENT_AUTH;
	}
	return PT_E_NONE;
}

bool
pt_client(struct pt_req *r, const char *id, size_t idn, const char *secret, size_t secretn,
    struct pt_app *app)
{
	const char *desc = NULL;
	/* the route table must say so (struct pt_route) */
	assert(r->route == NULL || (r->route->needs & PT_CLIENT));
	r->checked |= PT_CLIENT;
	enum pt_error e = pt_client_auth(r, id, idn, secret, secretn, app, &desc);
	if (e == PT_E_NONE)
		return true;
	pt_fail(r, e, desc);
	return false;
}

/* The registered URI that the request names, or the only one when it names none;
 * *exact says whether it is one of them byte for byte. */
static const char *
pick_redirect(pt_arena *a, const char *list, const char *want, size_t wn, bool *exact)
{
	*exact = false;
	if (want != NULL) {
		/* an exact match first: with a loopback URI registered twice (two ports) the
		 * exact one wins */
		for (const char *s = list; *s;) {
			size_t k = strcspn(s, "\n");
			if (k == wn && memcmp(s, want, wn) == 0) {
				*exact = true;
				return pt_strndup(a, want, wn);
			}
			s += k;
			if (*s)
				s++;
		}
	}
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
	if (want == NULL && count == 1) {
		*exact = true;
		return pt_strndup(a, first, firstn);
	}
	return NULL;
}

const struct pt_field pt_authz_fields[AZ__MAX] = {
	[AZ_CLIENT_ID] = {"client_id", PT_MAX_AUTHZ_CLIENT_ID, pt_valid_text, 0},
	[AZ_REDIRECT_URI] = {"redirect_uri", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	[AZ_RESPONSE_TYPE] = {"response_type", PT_MAX_RESPONSE_TYPE, pt_valid_text, 0},
	[AZ_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_text, 0},
	[AZ_STATE] = {"state", PT_MAX_STATE, pt_valid_text, 0},
	[AZ_CODE_CHALLENGE] = {"code_challenge", PT_MAX_PKCE, pt_valid_text, 0},
	[AZ_CODE_CHALLENGE_METHOD] = {"code_challenge_method", PT_MAX_PKCE_METHOD, pt_valid_text, 0},
	[AZ_RESOURCE] = {"resource", PT_MAX_RESOURCE, pt_valid_text, 0},
	[AZ_NONCE] = {"nonce", PT_MAX_NONCE, pt_valid_text, 0},
	[AZ_PROMPT] = {"prompt", PT_MAX_PROMPT, pt_valid_text, 0},
	[AZ_MAX_AGE] = {"max_age", PT_MAX_MAX_AGE, pt_valid_text, 0},
	[AZ_LOGIN_HINT] = {"login_hint", PT_MAX_LOGIN_HINT, pt_valid_text, 0},
	[AZ_ID_TOKEN_HINT] = {"id_token_hint", PT_MAX_ID_TOKEN_HINT, pt_valid_text, 0},
	[AZ_DPOP_JKT] = {"dpop_jkt", PT_JKT_LEN, pt_valid_text, 0},
	[AZ_AUTH_AFTER] = {"auth_after", PT_MAX_MAX_AGE, pt_valid_text, 0},
};

/* The prompt parameter (Core §3.1.2.1): a space-separated list of none, login, consent
 * and select_account, none alone. PT_ERR_INVALID with *why for anything else. */
static int
prompt_parse(const char *s, unsigned *out, const char **why)
{
	static const struct { const char *name; unsigned bit; } values[] = {
		{"none", PT_PROMPT_NONE}, {"login", PT_PROMPT_LOGIN}, {"consent", PT_PROMPT_CONSENT},
		{"select_account", PT_PROMPT_LOGIN},
	};
	size_t count = 0;
	*out = 0;
	while (*s) {
		size_t k = strcspn(s, " ");
		if (k > 0) {
			size_t i;
			for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
				if (strlen(values[i].name) == k && memcmp(values[i].name, s, k) == 0)
					break;
			if (i == sizeof(values) / sizeof(values[0])) {
				*why = "prompt must be none, login, consent or select_account";
				return PT_ERR_INVALID;
			}
			*out |= values[i].bit;
			count++;
		}
		s += k;
		while (*s == ' ')
			s++;
	}
	if ((*out & PT_PROMPT_NONE) && count > 1) {
		*why = "prompt=none cannot be combined with another value";
		return PT_ERR_INVALID;
	}
	return PT_OK;
}

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

bool
pt_resource_ok(const char *v)
{
	/* RFC 8707 §2: an absolute URI without a fragment */
	return (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0) &&
	    strchr(v, '#') == NULL && strchr(v, ' ') == NULL;
}

int
pt_authz_check(const struct pt_ctx *ctx, const struct pt_params *p, struct pt_authz *az,
    struct pt_fail *fail)
{
	memset(az, 0, sizeof(*az));
	fail->param = "client_id";
	if (p->v[AZ_CLIENT_ID] == NULL || p->n[AZ_CLIENT_ID] == 0) {
		fail->reason = "The request does not name an application (client_id is missing).";
		return PT_ERR_INVALID;
	}
	int rc = pt_cimd_is_url(p->v[AZ_CLIENT_ID], p->n[AZ_CLIENT_ID]) &&
		!ctx->cfg->client_metadata_documents
	    ? PT_ERR_NOTFOUND : pt_app_get(ctx->a, p->v[AZ_CLIENT_ID], p->n[AZ_CLIENT_ID], &az->app);
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
	az->redirect_uri = pick_redirect(ctx->a, az->app.redirect_uris, p->v[AZ_REDIRECT_URI],
	    p->n[AZ_REDIRECT_URI], &az->redirect_exact);
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
	az->nonce = p->v[AZ_NONCE];
	const char *method = p->v[AZ_CODE_CHALLENGE_METHOD];
	const char *scope = p->v[AZ_SCOPE];
	const struct pt_config *c = ctx->cfg;
#define ERR(e, d) do { az->error = (e); az->error_description = (d); return PT_OK; } while (0)
	if (az->response_type == NULL)
		ERR("invalid_request", "response_type is missing");
	if (strcmp(az->response_type, "code") != 0)
		ERR("unsupported_response_type", "only response_type=code is supported");
	if (!pt_app_allows_grant(&az->app, "authorization_code"))
		ERR("unauthorized_client", "this client may not use the authorization code flow");
	az->scope = pt_scope_for(ctx, &az->app, scope);
	if (az->scope == NULL)
		ERR("invalid_scope", "a requested scope is unknown or not allowed for this client");
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
	az->dpop_jkt = p->v[AZ_DPOP_JKT];
	if (az->dpop_jkt != NULL && !pt_jkt_valid(az->dpop_jkt, p->n[AZ_DPOP_JKT]))
		ERR("invalid_request", "dpop_jkt must be a base64url SHA-256 JWK thumbprint");
	if (az->resource != NULL && !pt_resource_ok(az->resource))
		ERR("invalid_target", "resource must be an absolute URI without a fragment");
	if (az->resource != NULL && !pt_resource_known(c, az->resource))
		ERR("invalid_target", "resource is not a protected resource of this server");
	const char *why;
	if (p->v[AZ_PROMPT] != NULL && prompt_parse(p->v[AZ_PROMPT], &az->prompt, &why) != PT_OK)
		ERR("invalid_request", why);
	long long v;
	az->max_age = -1;
	if (p->v[AZ_MAX_AGE] != NULL) {
		if (pt_strtonum(p->v[AZ_MAX_AGE], 0, 999999999, &v) != PT_OK)
			ERR("invalid_request", "max_age must be a number of seconds");
		az->max_age = v;
	}
	if (p->v[AZ_AUTH_AFTER] != NULL) {
		if (pt_strtonum(p->v[AZ_AUTH_AFTER], 1, 9999999999, &v) != PT_OK)
			ERR("invalid_request", "auth_after must be a time in seconds");
		az->auth_after = v;
	}
	az->login_hint = p->v[AZ_LOGIN_HINT] != NULL && p->n[AZ_LOGIN_HINT] > 0 ? p->v[AZ_LOGIN_HINT] : NULL;
	if (p->v[AZ_ID_TOKEN_HINT] != NULL) {
		/* Core §3.1.2.1: an id_token this server issued to this client, expired or not;
		 * anything else is a malformed request, not a question of who is signed in */
		rc = pt_id_token_check(ctx, p->v[AZ_ID_TOKEN_HINT], p->n[AZ_ID_TOKEN_HINT], &az->hint);
		if (rc == PT_ERR_DB || rc == PT_ERR_BUSY)
			ERR("temporarily_unavailable", "the server could not read its signing keys; try again");
		if (rc != PT_OK)
			ERR("invalid_request", "id_token_hint is not an ID Token this server issued");
		if (strcmp(az->hint.client_id, az->app.client_id) != 0)
			ERR("invalid_request", "id_token_hint was issued to another client");
		az->has_hint = true;
	}
#undef ERR
	return PT_OK;
}

void
pt_authz_redirect(struct pt_req *r, const struct pt_authz *az, const char *code,
    const char *error, const char *desc)
{
	const char *kv[] = {"code", code, "error", error, "error_description", desc, "state",
	    az->state, "iss", r->ctx.cfg->base_url, NULL};
	pt_redirect(r, pt_uri_with_params(r->ctx.a, az->redirect_uri, kv));
}

/* Has the user approved this app before (for any organization they are still in)? */
static bool
approved_before(pt_arena *a, const struct pt_authz *az, const struct pt_user *u)
{
	struct pt_grant_row *rows;
	size_t n;
	/* a failed read counts as never: the error is shown, not sent to the redirect URI */
	return pt_db_grants_of_app(a, u->id, az->app.id, &rows, &n) == PT_OK && n > 0;
}

void
pt_authz_fail(struct pt_req *r, const struct pt_authz *az, const struct pt_user *u)
{
	if (u != NULL && (az->app.trusted || az->app.vouched || approved_before(r->ctx.a, az, u))) {
		pt_authz_redirect(r, az, NULL, az->error, az->error_description);
		return;
	}
	pt_info("authorization error %s for client %s shown, not redirected", az->error,
	    az->client_id);
	pt_fail(r, PT_E_BAD_AUTHZ,
	    pt_printf(r->ctx.a, "The application %s sent an authorization request this server "
	    "cannot accept (%s: %s). Go back to the application and tell its developer.",
	    az->app.name, az->error, az->error_description ? az->error_description : ""));
}

const char *
pt_scope_for(const struct pt_ctx *ctx, const struct pt_app *app, const char *want)
{
	const char *s = want;
	if (s == NULL || *s == '\0') {
		s = ctx->cfg->default_scope;
		if (*app->scopes && !pt_scope_subset(s, app->scopes))
			s = app->scopes;
	}
	if (!pt_scopes_ok(ctx->cfg, s, strlen(s), app->scopes))
		return NULL;
	return pt_scope_normalize(ctx->a, s);
}

char *
pt_scope_normalize(pt_arena *a, const char *s)
{
	pt_buf b;
	pt_buf_init(&b, a);
	while (*s) {
		size_t k = strcspn(s, " ");
		if (k && !(b.n && pt_word_in(s, k, b.p))) {
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

/* Union of two scope strings, keeping have's order. */
static char *
scope_union(pt_arena *a, const char *have, const char *add)
{
	return pt_scope_normalize(a, pt_printf(a, "%s %s", have, add));
}

int
pt_grant_record(const struct pt_ctx *ctx, int64_t user_id, int64_t app_id, int64_t org_id,
    const char *scope, const char *redirect_uri, int64_t *grant_id)
{
	struct pt_grant_row g;
	const char *all = scope;
	int rc = pt_db_grant_find(ctx->a, user_id, app_id, org_id, &g);
	if (rc == PT_OK)
		all = scope_union(ctx->a, g.scope, scope);
	else if (rc != PT_ERR_NOTFOUND)
		return rc == PT_ERR_BUSY ? rc : PT_ERR_DB;
	rc = pt_db_grant_upsert(user_id, app_id, org_id, all, pt_now(), redirect_uri, grant_id);
	if (rc == PT_ERR_NOTFOUND) {
		pt_warn("no grant: user %lld is not a member of organization %lld",
		    (long long)user_id, (long long)org_id);
		return PT_ERR_NOTFOUND;
	}
	return rc == PT_OK || rc == PT_ERR_BUSY ? rc : PT_ERR_DB;
}

int
pt_code_issue(const struct pt_ctx *ctx, const struct pt_authz *az, const struct pt_user *u,
    int64_t org_id, bool on_page, char code[PT_TOKEN_LEN + 1])
{
	int64_t user_id = u->id;
	int64_t grant;
	uint8_t h[PT_HASH_LEN];
	int rc = pt_begin();
	if (rc != PT_OK)
		return rc;
	rc = pt_grant_record(ctx, user_id, az->app.id, org_id, az->scope,
	    on_page ? az->redirect_uri : NULL, &grant);
	if (rc != PT_OK)
		goto fail;
	if ((rc = pt_db_codes_trim(grant, PT_MAX_PENDING_CODES - 1)) != PT_OK)
		goto fail;
	pt_token_new(code, "pac_");
	pt_hash(h, code, PT_TOKEN_LEN);
	int64_t now = pt_now();
	struct pt_code_row c = {.grant_id = grant, .redirect_uri = az->redirect_uri,
	    .redirect_given = az->redirect_uri_given, .scope = az->scope, .challenge = az->challenge,
	    .resource = az->resource, .expires = now + ctx->cfg->code_ttl,
	    /* the nonce matters to an id_token only */
	    .nonce = pt_word_in("openid", 6, az->scope) ? az->nonce : NULL, .jkt = az->dpop_jkt,
	    .auth_time = u->auth_time > 0 ? u->auth_time : now};
	if ((rc = pt_db_code_insert(h, &c, now)) != PT_OK || (rc = pt_commit()) != PT_OK)
		goto fail;
	return PT_OK;
fail:
	pt_rollback();
	return rc == PT_ERR_NOTFOUND || rc == PT_ERR_BUSY ? rc : PT_ERR_DB;
}

/* Mints one token of kind (access or refresh) into tok and stores its hash: in a new
 * row, or (code_row > 0) for an access token in the row of the code it is redeemed
 * from; a refresh token from a code gets a copy of the code's request, so that a
 * replay of the code is checked like a redemption even after the access token (the
 * code's own row) was revoked. */
static int
token_store(const char *tok, enum pt_token_kind kind, int64_t grant_id,
    const char *scope, const char *resource, const uint8_t *code_hash, int64_t code_row,
    int64_t now, int64_t expires, int64_t auth_time, const char *jkt)
{
	uint8_t h[PT_HASH_LEN];
	assert(kind == PT_KIND_ACCESS || kind == PT_KIND_REFRESH);
	/* an opaque token, or a JWT access token (RFC 9068), stored the same way */
	pt_hash(h, tok, strlen(tok));
	if (code_row > 0 && kind == PT_KIND_REFRESH)
		return pt_db_refresh_from_code(h, scope, now, expires, jkt, code_row);
	if (code_row > 0) {
		int rc = pt_db_code_redeem(h, now, expires, jkt, code_row);
		return rc == PT_OK || rc == PT_ERR_NOTFOUND ? rc : PT_ERR_DB;
	}
	return pt_db_token_insert(h, kind, grant_id, code_hash, scope, resource, now, expires,
	    auth_time, jkt);
}

void
pt_tokens_new(const struct pt_ctx *ctx, struct pt_issued *out)
{
	memset(out, 0, sizeof(*out));
	pt_token_new(out->access, "pat_");
	if (ctx->cfg->access_token_ttl > 0) {
		out->expires_in = ctx->cfg->access_token_ttl;
		out->has_refresh = true;
		pt_token_new(out->refresh, "prt_");
	}
}

int
pt_tokens_store(const struct pt_ctx *ctx, int64_t grant_id, const char *scope, const char *refresh_scope,
    const char *resource, const uint8_t *code_hash, int64_t code_row, int64_t auth_time,
    const struct pt_issued *out)
{
	int64_t now = pt_now();
	long ttl = ctx->cfg->access_token_ttl;
	/* a JWT access token expires with its exp, whatever access_token_ttl says */
	const char *jkt = *out->jkt ? out->jkt : NULL;
	int rc = token_store(out->jwt ? out->jwt : out->access, PT_KIND_ACCESS, grant_id, scope, resource,
	    code_hash, code_row, now, out->jwt ? out->jwt_exp : ttl > 0 ? now + ttl : 0, auth_time, jkt);
	if (rc != PT_OK || !out->has_refresh)
		return rc;
	return token_store(out->refresh, PT_KIND_REFRESH, grant_id, refresh_scope ? refresh_scope : scope,
	    resource, code_hash, code_row, now, now + ctx->cfg->refresh_token_ttl, auth_time,
	    out->refresh_bound ? jkt : NULL);
}

int
pt_tokens_issue(const struct pt_ctx *ctx, int64_t grant_id, const char *scope, const char *refresh_scope,
    const char *resource, const uint8_t *code_hash, int64_t code_row, int64_t auth_time,
    struct pt_issued *out)
{
	pt_tokens_new(ctx, out);
	return pt_tokens_store(ctx, grant_id, scope, refresh_scope, resource, code_hash, code_row,
	    auth_time, out);
}

void
pt_tokens_bind(struct pt_issued *out, const struct pt_dpop *proof, const struct pt_app *app)
{
	if (proof == NULL)
		return;
	memcpy(out->jkt, proof->jkt, sizeof(out->jkt));
	out->refresh_bound = app->public;
}

void
pt_token_response(struct pt_req *r, const struct pt_issued *t, const char *scope, int64_t org_id)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"access_token\":");
	if (t->jwt != NULL)
		pt_buf_json(&b, t->jwt, strlen(t->jwt));
	else
		pt_buf_json(&b, t->access, PT_TOKEN_LEN);
	/* RFC 9449 §5: a bound token is of type DPoP */
	pt_buf_adds(&b, *t->jkt ? ",\"token_type\":\"DPoP\",\"scope\":" : ",\"token_type\":\"Bearer\",\"scope\":");
	pt_buf_json(&b, scope, strlen(scope));
	pt_buf_addf(&b, ",\"id\":\"%lld\"", (long long)org_id);
	/* expires_in: with a refresh token, or alone for an app's own token (client_credentials) */
	if (t->expires_in > 0)
		pt_buf_addf(&b, ",\"expires_in\":%ld", t->expires_in);
	if (t->has_refresh) {
		pt_buf_adds(&b, ",\"refresh_token\":");
		pt_buf_json(&b, t->refresh, PT_TOKEN_LEN);
	}
	if (t->id_token != NULL) {
		pt_buf_adds(&b, ",\"id_token\":");
		pt_buf_json(&b, t->id_token, strlen(t->id_token));
	}
	pt_buf_addc(&b, '}');
	pt_json(r, 200, &b);
	sodium_memzero(b.p, b.n);
}
