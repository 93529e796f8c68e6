/* token.c: POST /oauth/token: authorization_code, refresh_token, device_code and
 * client_credentials grants. */
#include <string.h>

#include <sodium.h>

#include "postern.h"

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

/* RFC 6749 §4.1.2: a replayed code revokes what it produced (durably: the request's
 * transaction gives way to one that reaches the disk), and the answer is invalid_grant.
 * A redemption that lost the race to another (PostgreSQL: on another node) is a replay
 * too: the code was used twice. */
static void
code_replayed(struct pt_req *r, const uint8_t code_hash[PT_HASH_LEN], const struct pt_app *app)
{
	pt_rollback();
	if (pt_begin_durable() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (pt_db_tokens_delete_by_code(code_hash) != PT_OK || pt_commit() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	pt_warn("code reuse for client %s: its tokens are revoked", app->client_id);
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit("code_replayed", false, PT_AS("client_id", app->client_id),
	    PT_AS("code_hash", pt_audit_hash(hx, code_hash)), PT_AS("addr", r->remote_addr),
	    PT_AS("revoked", "the tokens of the code"));
	FAIL(PT_E_INVALID_GRANT, "the code was already used");
}

/* RFC 9700 §4.14.2: a rotated refresh token came back: the grant is revoked (durably).
 * A rotation that lost the race to another is a reuse too. */
static void
refresh_reused(struct pt_req *r, int64_t grant, const struct pt_app *app)
{
	pt_rollback();
	if (pt_begin_durable() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (pt_db_grant_delete(grant) != PT_OK || pt_commit() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	pt_warn("refresh token reuse for client %s: the grant is revoked", app->client_id);
	pt_audit("refresh_reused", false, PT_AS("client_id", app->client_id), PT_AI("grant_id", grant),
	    PT_AS("addr", r->remote_addr), PT_AS("revoked", "the grant"));
	FAIL(PT_E_INVALID_GRANT, "the refresh token was already used");
}

/* OpenID Connect (Core §3.1.3.3, §12.2): with the openid scope the answer carries an
 * id_token for the access token just issued, signed before the tokens are committed so
 * that a failure leaves the code unused. nonce: the authorization request's (NULL on a
 * refresh). PT_OK also without the scope. */
static int
id_token(struct pt_req *r, const struct pt_app *app, const char *scope, int64_t user_id,
    int64_t auth_time, const char *nonce, struct pt_issued *out)
{
	if (!pt_word_in("openid", 6, scope))
		return PT_OK;
	const struct pt_id_request q = {.alg = app->id_token_alg, .client_id = app->client_id,
	    .user_id = user_id, .auth_time = auth_time, .nonce = nonce,
	    .access_token = out->jwt ? out->jwt : out->access};
	char *jwt;
	int rc = pt_id_token(&r->ctx, &q, &jwt);
	if (rc == PT_OK)
		out->id_token = jwt;
	return rc;
}

/* RFC 9068, for an app set to receive them: the access token of out becomes a JWT, with
 * a refresh token beside it when the app may refresh (a JWT's life is short even when
 * access_token_ttl is 0, so the app needs a way to a new one without the user). */
static int
access_jwt(struct pt_req *r, const struct pt_app *app, int64_t user_id, const char *scope,
    const char *resource, int64_t auth_time, struct pt_issued *out)
{
	if (!app->access_jwt)
		return PT_OK;
	const struct pt_at_request q = {.alg = app->id_token_alg, .client_id = app->client_id,
	    .user_id = user_id, .scope = scope, .resource = resource, .auth_time = auth_time};
	int rc = pt_access_jwt(&r->ctx, &q, out);
	if (rc == PT_OK && user_id > 0 && !out->has_refresh && pt_app_allows_grant(app, "refresh_token")) {
		out->has_refresh = true;
		pt_token_new(out->refresh, "prt_");
	}
	return rc;
}

/* RFC 9449 §5: the request's DPoP proof, for POST to this endpoint, checked and its
 * single use recorded. false: answered (invalid_dpop_proof, use_dpop_nonce, busy). */
static bool
proof_ok(struct pt_req *r, struct pt_dpop *proof)
{
	const struct pt_dpop_req q = {.method = "POST", .url = pt_url(r, "/oauth/token")};
	const char *why;
	enum pt_dpop_result res = pt_dpop_check(&r->ctx, r->dpop, r->dpop_count, &q, proof, &why);
	if (res != PT_DPOP_OK) {
		/* (DPoP-Nonce is on every answer of this endpoint when nonces are on) */
		pt_fail(r, res == PT_DPOP_NONCE ? PT_E_USE_DPOP_NONCE : PT_E_INVALID_DPOP_PROOF, why);
		return false;
	}
	int rc = pt_dpop_use(proof);
	if (rc == PT_ERR_EXISTS)
		pt_fail(r, PT_E_INVALID_DPOP_PROOF, "the DPoP proof was already used");
	else if (rc != PT_OK)
		pt_fail(r, PT_E_BUSY, NULL);
	return rc == PT_OK;
}

/* A code or refresh token bound to a key (jkt, NULL: none) needs a proof by that key.
 * Checked before anything is consumed or revoked: whoever lacks the key changes nothing. */
static bool
key_holds(struct pt_req *r, const char *jkt, const struct pt_dpop *proof, const char *what)
{
	if (jkt == NULL)
		return true;
	if (proof == NULL)
		pt_fail(r, PT_E_INVALID_DPOP_PROOF, pt_printf(r->ctx.a, "%s is bound to a DPoP key: send a DPoP proof", what));
	else if (!pt_ct_equal(jkt, strlen(jkt), proof->jkt, strlen(proof->jkt)))
		pt_fail(r, PT_E_INVALID_DPOP_PROOF, pt_printf(r->ctx.a, "the DPoP proof's key is not the one %s is bound to", what));
	else
		return true;
	return false;
}

/* The tokens of a redemption or a refresh: made and bound to the proof's key (NULL: none)
 * before the transaction that stores them, so the write lock is not held across an
 * id_token's RSA signature; then that transaction is begun. nonce: the authorization
 * request's (NULL on a refresh). false: answered (server error or busy), out wiped. */
static bool
tokens_ready(struct pt_req *r, const struct pt_app *app, const struct pt_dpop *proof, int64_t user_id,
    const char *scope, const char *resource, int64_t auth_time, const char *nonce, struct pt_issued *out)
{
	pt_tokens_new(&r->ctx, out);
	pt_tokens_bind(out, proof, app);
	int rc = access_jwt(r, app, user_id, scope, resource, auth_time, out);
	if (rc == PT_OK)
		rc = id_token(r, app, scope, user_id, auth_time, nonce, out);
	if (rc == PT_OK && pt_begin() != PT_OK)
		rc = PT_ERR_BUSY;
	if (rc == PT_OK)
		return true;
	sodium_memzero(out, sizeof(*out));
	pt_fail(r, rc == PT_ERR_CONFIG ? PT_E_SERVER : PT_E_BUSY, NULL);
	return false;
}

/* authorization_code and refresh_token read outside a transaction and begin one for
 * their writes. */
static void
authorization_code(struct pt_req *r, const struct pt_params *p, const struct pt_app *app,
    const struct pt_dpop *proof)
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
	struct pt_code_row c;
	int rc = pt_db_code_get(r->ctx.a, h, &c);
	if (rc == PT_ERR_NOTFOUND)
		FAIL(PT_E_INVALID_GRANT, "the code is not valid");
	if (rc != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	bool kept = c.redirect_uri != NULL; /* the request is still on the row */
	const char *redirect = c.redirect_uri;
	const char *challenge = c.challenge;
	const char *resource = c.resource;
	bool live = c.expires > pt_now();

	/* Everything that proves the caller is the client the code was issued to comes
	 * before the replay check: a replay revokes tokens only when it comes from that
	 * client, with its redirect URI and PKCE verifier (OAuth 2.1 §7.5.2); anyone else
	 * holding a stolen code can revoke nothing. */
	if (c.app_id != app->id)
		FAIL(PT_E_INVALID_GRANT, "the code was issued to another client");
	if (!live || !kept)
		FAIL(PT_E_INVALID_GRANT, "the code has expired");
	const char *ru = p->v[TK_REDIRECT_URI];
	if (c.redirect_given ? (ru == NULL || strcmp(ru, redirect) != 0)
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
	/* RFC 9449 §10: a code asked for with dpop_jkt is redeemed with that key only */
	if (!key_holds(r, c.jkt, proof, "this code"))
		return;
	if (c.used) {
		code_replayed(r, h, app);
		return;
	}
	if (p->v[TK_RESOURCE] != NULL && (resource == NULL || strcmp(p->v[TK_RESOURCE], resource)))
		FAIL(PT_E_INVALID_TARGET, "resource does not match the authorization request");
	if (!tokens_ready(r, app, proof, c.user_id, c.scope, resource, c.auth_time, c.nonce, &out))
		return;
	/* the code's row becomes the access token: the code is used from now on */
	rc = pt_tokens_store(&r->ctx, c.grant_id, c.scope, NULL, resource, h, c.id, c.auth_time, &out);
	if (rc == PT_ERR_NOTFOUND) {
		/* redeemed since it was read (PostgreSQL: by another node; the UPDATE waited for
		 * that one's commit and then found no unused code) */
		sodium_memzero(&out, sizeof(out));
		code_replayed(r, h, app);
		return;
	}
	if (rc != PT_OK || pt_commit() != PT_OK) {
		sodium_memzero(&out, sizeof(out));
		FAIL(PT_E_BUSY, NULL);
	}
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit("token_issued", true, PT_AS("grant_type", "authorization_code"),
	    PT_AS("client_id", app->client_id), PT_AI("user_id", c.user_id), PT_AI("org_id", c.org_id),
	    PT_AS("scope", c.scope), PT_AI("grant_id", c.grant_id), PT_AB("refresh", out.has_refresh),
	    PT_AS("code_hash", pt_audit_hash(hx, h)), PT_AS("dpop_jkt", *out.jkt ? out.jkt : NULL),
	    PT_AS("addr", r->remote_addr));
	pt_metrics_token(PT_MX_CODE);
	pt_token_response(r, &out, c.scope, c.org_id);
	sodium_memzero(&out, sizeof(out));
}

static void
refresh_token(struct pt_req *r, const struct pt_params *p, const struct pt_app *app,
    const struct pt_dpop *proof)
{
	const char *rt = p->v[TK_REFRESH_TOKEN];
	uint8_t h[PT_HASH_LEN];
	struct pt_issued out;

	if (rt == NULL)
		FAIL(PT_E_INVALID_REQUEST, "refresh_token is missing");
	if (!pt_token_check(rt, p->n[TK_REFRESH_TOKEN], "prt_"))
		FAIL(PT_E_INVALID_GRANT, "the refresh token is not valid");
	pt_hash(h, rt, p->n[TK_REFRESH_TOKEN]);
	struct pt_token_row t;
	int rc = pt_db_token_check(r->ctx.a, h, &t);
	if (rc == PT_ERR_NOTFOUND)
		FAIL(PT_E_INVALID_GRANT, "the refresh token is not valid");
	if (rc != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	const char *scope = t.scope;
	bool expired = t.expires != 0 && t.expires <= pt_now();
	if (t.app_id != app->id)
		FAIL(PT_E_INVALID_GRANT, "the refresh token was issued to another client");
	/* RFC 9449 §5: a public client's refresh token is bound to its key */
	if (!key_holds(r, t.jkt, proof, "this refresh token"))
		return;
	if (t.kind == PT_KIND_REFRESH_USED) {
		refresh_reused(r, t.grant_id, app);
		return;
	}
	if (t.kind != PT_KIND_REFRESH)
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
	if (!tokens_ready(r, app, proof, t.user_id, access_scope, t.resource, t.auth_time, NULL, &out))
		return;
	/* tokens refreshed from a code keep its hash: a replay of the code revokes them too */
	uint8_t code_hash[PT_HASH_LEN];
	bool from_code;
	rc = pt_db_refresh_take(t.id, code_hash, &from_code);
	if (rc == PT_ERR_NOTFOUND) {
		/* rotated since it was read (by another request, or on PostgreSQL by another
		 * node) */
		sodium_memzero(&out, sizeof(out));
		refresh_reused(r, t.grant_id, app);
		return;
	}
	if (rc != PT_OK || pt_tokens_store(&r->ctx, t.grant_id, access_scope, scope, t.resource,
		from_code ? code_hash : NULL, 0, t.auth_time, &out) != PT_OK || pt_commit() != PT_OK) {
		sodium_memzero(&out, sizeof(out));
		FAIL(PT_E_BUSY, NULL);
	}
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit("token_refreshed", true, PT_AS("grant_type", "refresh_token"),
	    PT_AS("client_id", app->client_id), PT_AS("user", t.user_name), PT_AI("user_id", t.user_id),
	    PT_AI("org_id", t.org_id),
	    PT_AS("scope", access_scope), PT_AI("grant_id", t.grant_id),
	    PT_AS("refresh_hash", pt_audit_hash(hx, h)), PT_AS("dpop_jkt", *out.jkt ? out.jkt : NULL),
	    PT_AS("addr", r->remote_addr));
	pt_metrics_token(PT_MX_REFRESH);
	pt_token_response(r, &out, access_scope, t.org_id);
	sodium_memzero(&out, sizeof(out));
}

/* client_credentials (RFC 6749 §4.4): a confidential app gets an access token for
 * itself: no user, no organization, no refresh token (§4.4.3), and always an expiry
 * (access_token_ttl, or PT_CLIENT_TOKEN_TTL when access tokens otherwise never expire).
 * The scope (§3.3): the one asked for, within the app's allowed scopes; none asked
 * for: the app's allowed scopes, or the configured default when it may have them all.
 * openid is refused: an id_token speaks of a user. */
static void
client_credentials(struct pt_req *r, const struct pt_params *p, const struct pt_app *app,
    const struct pt_dpop *proof)
{
	if (app->public)
		FAIL(PT_E_UNAUTHORIZED_CLIENT, "client_credentials needs a confidential client");
	const char *want = p->v[TK_SCOPE];
	const char *scope;
	if (want == NULL || *want == '\0')
		scope = pt_scope_normalize(r->ctx.a, *app->scopes ? app->scopes : r->ctx.cfg->default_scope);
	else if ((scope = pt_scope_for(&r->ctx, app, want)) == NULL)
		FAIL(PT_E_INVALID_SCOPE, "a requested scope is unknown or not allowed for this client");
	if (pt_word_in("openid", 6, scope))
		FAIL(PT_E_INVALID_SCOPE, "openid needs a user: client_credentials cannot have it");
	if (*scope == '\0')
		FAIL(PT_E_INVALID_SCOPE, "this client has no scope to ask for");
	const char *resource = p->v[TK_RESOURCE];
	if (resource != NULL && !pt_resource_ok(resource))
		FAIL(PT_E_INVALID_TARGET, "resource must be an absolute URI without a fragment");
	if (resource != NULL && !pt_resource_known(r->ctx.cfg, resource))
		FAIL(PT_E_INVALID_TARGET, "resource is not a protected resource of this server");
	struct pt_issued out;
	memset(&out, 0, sizeof(out));
	pt_token_new(out.access, "pat_");
	pt_tokens_bind(&out, proof, app);
	long ttl = r->ctx.cfg->access_token_ttl > 0 ? r->ctx.cfg->access_token_ttl : PT_CLIENT_TOKEN_TTL;
	out.expires_in = ttl;
	int64_t now = pt_now();
	int64_t expires = now + ttl;
	int rc = access_jwt(r, app, 0, scope, resource, 0, &out);
	if (rc != PT_OK) {
		sodium_memzero(&out, sizeof(out));
		FAIL(rc == PT_ERR_CONFIG ? PT_E_SERVER : PT_E_BUSY, NULL);
	}
	if (out.jwt != NULL)
		expires = out.jwt_exp;
	uint8_t h[PT_HASH_LEN];
	if (out.jwt != NULL)
		pt_hash(h, out.jwt, strlen(out.jwt));
	else
		pt_hash(h, out.access, PT_TOKEN_LEN);
	if (pt_db_client_token_insert(h, app->id, scope, resource, now, expires, *out.jkt ? out.jkt : NULL) != PT_OK) {
		sodium_memzero(&out, sizeof(out));
		FAIL(PT_E_BUSY, NULL);
	}
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit("token_issued", true, PT_AS("grant_type", "client_credentials"),
	    PT_AS("client_id", app->client_id), PT_AS("scope", scope),
	    PT_AS("token_hash", pt_audit_hash(hx, h)), PT_AS("dpop_jkt", *out.jkt ? out.jkt : NULL),
	    PT_AS("addr", r->remote_addr));
	pt_metrics_token(PT_MX_CLIENT);
	pt_token_response(r, &out, scope, 0);
	sodium_memzero(&out, sizeof(out));
}

/* POST /oauth/token */
static void
token(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail bad;
	struct pt_app app;

	if (pt_req_body(r, fields, TK__MAX, &p, &bad) != PT_OK)
		FAIL(PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "%s %s", bad.param, bad.reason));
	const char *gt = p.v[TK_GRANT_TYPE];
	/* the code and refresh grants read the client, the code or refresh token, and make
	 * the new tokens (and the id_token, an RSA signature) before their transaction, which
	 * holds the write lock only for the writes: the redemption and the rotation are
	 * conditional statements, single-use by their row counts whatever was read before */
	bool txn = gt != NULL && (strcmp(gt, "authorization_code") == 0 || strcmp(gt, "refresh_token") == 0 ||
	    strcmp(gt, "client_credentials") == 0);
	/* the first signing keys, once per process */
	if (txn && pt_keys_ensure(r->ctx.a, r->ctx.cfg) != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (!pt_client(r, p.v[TK_CLIENT_ID], p.n[TK_CLIENT_ID], p.v[TK_CLIENT_SECRET],
	    p.n[TK_CLIENT_SECRET], &app))
		return;
	if (gt == NULL)
		FAIL(PT_E_INVALID_REQUEST, "grant_type is missing");
	if (strcmp(gt, "authorization_code") && strcmp(gt, "refresh_token") && strcmp(gt, DEVICE_GRANT) &&
	    strcmp(gt, "client_credentials"))
		FAIL(PT_E_UNSUPPORTED_GRANT_TYPE, "grant_type is not supported");
	if (!pt_app_allows_grant(&app, gt))
		FAIL(PT_E_UNAUTHORIZED_CLIENT, "this client may not use this grant type");
	/* DPoP (RFC 9449): a proof binds what this request issues to its key; an app set to
	 * require it (dpop_bound_access_tokens, §5.2) gets nothing without one */
	struct pt_dpop proof;
	const struct pt_dpop *pf = NULL;
	if (r->ctx.cfg->dpop_nonce)
		pt_header(r, "DPoP-Nonce", pt_dpop_nonce(r->ctx.a, r->ctx.cfg, pt_now()));
	if (r->dpop_count > 0) {
		if (!proof_ok(r, &proof))
			return;
		pf = &proof;
	} else if (app.require_dpop) {
		FAIL(PT_E_INVALID_DPOP_PROOF, "this client must send a DPoP proof");
	}
	if (strcmp(gt, "authorization_code") == 0)
		authorization_code(r, &p, &app, pf);
	else if (strcmp(gt, "refresh_token") == 0)
		refresh_token(r, &p, &app, pf);
	else if (strcmp(gt, "client_credentials") == 0)
		client_credentials(r, &p, &app, pf);
	else
		pt_device_token(r, &app, p.v[TK_DEVICE_CODE], p.n[TK_DEVICE_CODE], false, pf);
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
