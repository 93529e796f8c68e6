/* introspect.c: the nginx auth_request check, RFC 7662 introspection, userinfo, and
 * the RFC 8414 / RFC 9728 metadata documents. */
#include <string.h>

#include "postern.h"

/* "last used" is written at most once a minute per token, so the check stays a read. */
#define TOUCH_INTERVAL 60

enum { CK_SCOPE, CK_RESOURCE_METADATA, CK_REQUIRE_USER, CK_REQUIRE_DPOP, CK__MAX };
static const struct pt_field check_fields[CK__MAX] = {
	[CK_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	[CK_RESOURCE_METADATA] = {"resource_metadata", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	[CK_REQUIRE_USER] = {"require_user", 1, pt_valid_text, 0},
	[CK_REQUIRE_DPOP] = {"require_dpop", 1, pt_valid_text, 0},
};

enum { IN_TOKEN, IN_HINT, IN_CLIENT_ID, IN_CLIENT_SECRET, IN__MAX };
static const struct pt_field introspect_fields[IN__MAX] = {
	/* a JWT access token (RFC 9068) is longer than an opaque one */
	[IN_TOKEN] = {"token", PT_MAX_ACCESS_JWT, pt_valid_text, 0},
	[IN_HINT] = {"token_type_hint", PT_MAX_TOKEN_HINT, pt_valid_text, 0},
	[IN_CLIENT_ID] = {"client_id", PT_MAX_CLIENT_ID_FIELD, pt_valid_text, 0},
	[IN_CLIENT_SECRET] = {"client_secret", PT_MAX_CLIENT_SECRET_FIELD, pt_valid_text, 0},
};

/* A live token, as the check, introspection and userinfo need it. */
struct live {
	const char *user;       /* NULL: an app's own token (client_credentials) */
	int64_t user_id;
	int64_t org;
	const char *scope;
	const char *client_id;
	const char *resource;
	int64_t created;
	int64_t expires; /* 0: never */
	enum pt_token_kind kind;
	const char *jkt;        /* DPoP: the key it is bound to; NULL: a Bearer token */
};

/* Looks a token up. PT_OK for a live one, PT_ERR_NOTFOUND for anything not live
 * (malformed ones without touching the database), PT_ERR_BUSY while the database is
 * locked or unreachable (PostgreSQL restarting), PT_ERR_DB on any other failure. */
static int
lookup(struct pt_req *r, const char *t, size_t n, struct live *l)
{
	uint8_t h[PT_HASH_LEN];
	bool access = pt_token_check(t, n, "pat_");
	if (!access && pt_looks_jwt(t, n)) {
		/* a JWT access token (RFC 9068): this server's signature, typ, iss and exp, and
		 * then its row like an opaque one's, so a revoked one is refused here */
		int jrc = pt_access_jwt_check(&r->ctx, t, n);
		if (jrc == PT_ERR_BUSY || jrc == PT_ERR_DB)
			return jrc;
		if (jrc != PT_OK)
			return PT_ERR_NOTFOUND;
		access = true;
	} else if (!access && !pt_token_check(t, n, "prt_")) {
		return PT_ERR_NOTFOUND;
	}
	pt_hash(h, t, n);
	struct pt_token_row row;
	int rc = pt_db_token_check(r->ctx.a, h, &row);
	if (rc == PT_ERR_NOTFOUND)
		return PT_ERR_NOTFOUND;
	if (rc != PT_OK) {
		pt_warn("token lookup failed");
		return rc == PT_ERR_BUSY ? PT_ERR_BUSY : PT_ERR_DB;
	}
	int64_t now = pt_now();
	/* grant 0: an app's own token (client_credentials), no user */
	l->user = row.grant_id == 0 ? NULL : row.user_name;
	l->org = row.org_id;
	l->scope = row.scope;
	l->client_id = row.client_id;
	l->expires = row.expires;
	l->created = row.created;
	l->user_id = row.user_id;
	l->resource = row.resource;
	l->kind = row.kind;
	l->jkt = row.jkt;
	if ((l->kind != PT_KIND_ACCESS && l->kind != PT_KIND_REFRESH) ||
	    access != (l->kind == PT_KIND_ACCESS))
		return PT_ERR_NOTFOUND;
	if (l->expires != 0 && l->expires <= now)
		return PT_ERR_NOTFOUND;
	if (l->kind == PT_KIND_ACCESS && now - row.last_used >= TOUCH_INTERVAL) {
		/* best effort, and never waiting: while another process holds the write lock
		 * the check answers at once and the next check records the use */
		(void)!pt_db_token_touch(row.id, row.grant_id, now);
	}
	return PT_OK;
}

static bool
http_url(const char *v)
{
	return v != NULL && (strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0) &&
	    strpbrk(v, "\"\\ ") == NULL;
}

/* What a refusal of the check or userinfo names beside its error: the scope a location
 * needs (NULL: none) and its RFC 9728 resource metadata (NULL: none). */
struct ask {
	const char *scope;
	const char *metadata;
};

/* The RFC 6750 §3 answer of the check and userinfo, with no body (nginx builds the
 * client's answer from the header): status (401, or 403 for insufficient_scope) and a
 * challenge, Bearer, or DPoP (RFC 9449 §7.1) when the request used DPoP or the token is
 * bound. desc NULL: no token was sent, so the challenge names no error (§3.1). */
static void
challenge(struct pt_req *r, bool dpop, int status, const char *error, const char *desc,
    const struct ask *ask)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, dpop ? "DPoP algs=\"" PT_DPOP_ALGS "\"" : "Bearer realm=\"postern\"");
	if (desc)
		pt_buf_addf(&b, ", error=\"%s\", error_description=\"%s\"", error, desc);
	if (ask->scope)
		pt_buf_addf(&b, ", scope=\"%s\"", ask->scope);
	if (ask->metadata)
		pt_buf_addf(&b, ", resource_metadata=\"%s\"", ask->metadata);
	pt_header(r, "WWW-Authenticate", b.p);
	pt_header(r, "Cache-Control", "no-store");
	pt_respond(r, status, NULL, NULL, 0);
}

/* The method and URL of the request the check guards (RFC 9449 §4.3: what htm and htu
 * name), from X-Original-Method and X-Original-URL, which the check's nginx location
 * sets itself (fastcgi_param overrides a client's header of the same name). Behind the
 * same nginx, REQUEST_URI and REQUEST_METHOD are the guarded request's too (auth_request
 * passes them on): a URL that disagrees with them came from the client, and is refused
 * as a configuration error rather than trusted. false: not usable (logged). */
static bool
guarded_request(struct pt_req *r, const char **method, const char **url)
{
	const char *m = pt_req_param(r, "HTTP_X_ORIGINAL_METHOD");
	const char *u = pt_req_param(r, "HTTP_X_ORIGINAL_URL");
	const char *ru = pt_req_param(r, "REQUEST_URI");
	*method = m != NULL ? m : r->method;
	*url = u;
	if (u == NULL) {
		pt_warn("check: a DPoP request needs X-Original-URL (fastcgi_param HTTP_X_ORIGINAL_URL "
			"$scheme://$http_host$request_uri; in the check's location, see nginx.conf.example)");
		return false;
	}
	const char *own = pt_path(r, "/oauth/check");
	if (ru == NULL || strncmp(ru, own, strlen(own)) == 0)
		return true;
	/* an auth_request subrequest: the guarded request's own URI and method */
	const char *host = strstr(u, "://");
	const char *path = host ? host + 3 + strcspn(host + 3, "/?#") : u;
	if (strcmp(path, ru) != 0 || strcmp(*method, r->method) != 0) {
		pt_warn("check: X-Original-URL or X-Original-Method is not the request nginx guards; "
			"set both with fastcgi_param in the check's location (nginx.conf.example)");
		return false;
	}
	return true;
}

/* How authenticate ended: the token is live and presented as it must be, or the answer
 * was sent, or the database is busy or failing (the caller answers those). */
enum auth { AUTH_OK, AUTH_ANSWERED, AUTH_BUSY, AUTH_DB };

/* The access token of the request: Bearer (RFC 6750), or DPoP (RFC 9449 §7) with a
 * proof for method and url (NULL: the check's guarded request); a token bound to a key
 * only with that key's proof, and with require_dpop only a bound one. The proof's
 * single use is recorded last, once the token passed. */
static enum auth
authenticate(struct pt_req *r, const char *method, const char *url, bool require_dpop,
    const struct ask *ask, struct live *l)
{
	const char *t;
	size_t n;
	bool dpop = pt_auth_token(r->authorization, "DPoP", &t, &n);
	if (!dpop && !pt_bearer(r->authorization, &t, &n)) {
		challenge(r, require_dpop, 401, NULL, NULL, ask);
		return AUTH_ANSWERED;
	}
	struct pt_dpop proof;
	if (dpop) {
		/* (no proof at all is refused below without asking nginx for the request) */
		if (url == NULL && r->dpop_count == 1 && !guarded_request(r, &method, &url)) {
			pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
			return AUTH_ANSWERED;
		}
		const struct pt_dpop_req q = {.method = method, .url = url, .token = t, .token_n = n};
		const char *why;
		enum pt_dpop_result res = pt_dpop_check(&r->ctx, r->dpop, r->dpop_count, &q, &proof, &why);
		if (r->ctx.cfg->dpop_nonce)
			pt_header(r, "DPoP-Nonce", pt_dpop_nonce(r->ctx.a, r->ctx.cfg, pt_now()));
		if (res != PT_DPOP_OK) {
			challenge(r, true, 401, res == PT_DPOP_NONCE ? "use_dpop_nonce" : "invalid_dpop_proof", why, ask);
			return AUTH_ANSWERED;
		}
	}
	int rc = lookup(r, t, n, l);
	if (rc == PT_ERR_BUSY || rc == PT_ERR_DB)
		return rc == PT_ERR_BUSY ? AUTH_BUSY : AUTH_DB;
	const char *bad = NULL;
	if (rc != PT_OK || l->kind != PT_KIND_ACCESS)
		bad = "the access token is not valid";
	else if (l->jkt != NULL && !dpop)
		bad = "the access token is bound to a DPoP key: send it with the DPoP scheme and a proof";
	else if (l->jkt != NULL && !pt_ct_equal(l->jkt, strlen(l->jkt), proof.jkt, strlen(proof.jkt)))
		bad = "the DPoP proof's key is not the one the access token is bound to";
	else if (l->jkt == NULL && dpop)
		bad = "the access token is not bound to a DPoP key";
	else if (l->jkt == NULL && require_dpop)
		bad = "this location needs a DPoP-bound access token";
	if (bad != NULL) {
		challenge(r, dpop || require_dpop || (rc == PT_OK && l->jkt != NULL), 401, "invalid_token", bad, ask);
		return AUTH_ANSWERED;
	}
	if (dpop) {
		rc = pt_dpop_use(&proof);
		if (rc == PT_ERR_EXISTS) {
			challenge(r, true, 401, "invalid_dpop_proof", "the DPoP proof was already used", ask);
			return AUTH_ANSWERED;
		}
		if (rc != PT_OK)
			return rc == PT_ERR_BUSY ? AUTH_BUSY : AUTH_DB;
	}
	return AUTH_OK;
}

/* GET /oauth/check: 204 + identity headers for nginx, 401/403, and 500 (never
 * 204) when the database fails. */
static void
check(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct live l;

	if (pt_req_query(r, check_fields, CK__MAX, &p, &fail) != PT_OK) {
		pt_warn("check: %s %s (fix the auth_request URI in nginx)", fail.param, fail.reason);
		pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
		return;
	}
	const char *meta = http_url(p.v[CK_RESOURCE_METADATA]) ? p.v[CK_RESOURCE_METADATA] : NULL;
	/* the scope a location needs is named in every challenge (RFC 6750 §3), so a client
	 * asks for it the first time; the 403 names it as the one missing */
	const char *need = p.v[CK_SCOPE] != NULL && *p.v[CK_SCOPE] ? p.v[CK_SCOPE] : NULL;
	/* ?require_user=1: an API that must have a person refuses an app's own token;
	 * ?require_dpop=1: one that takes DPoP-bound tokens only */
	const char *ru = p.v[CK_REQUIRE_USER], *rd = p.v[CK_REQUIRE_DPOP];
	if ((ru != NULL && strcmp(ru, "1") != 0 && strcmp(ru, "0") != 0) ||
	    (rd != NULL && strcmp(rd, "1") != 0 && strcmp(rd, "0") != 0)) {
		pt_warn("check: require_user and require_dpop must be 1 or 0 (fix the auth_request URI in nginx)");
		pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
		return;
	}
	const struct ask ask = {need, meta};
	switch (authenticate(r, NULL, NULL, rd != NULL && strcmp(rd, "1") == 0, &ask, &l)) {
	case AUTH_OK:
		break;
	case AUTH_ANSWERED:
		return;
	case AUTH_BUSY:
		/* never a 204 it could not verify, nor a 401 that would make a client drop a
		 * good token: the database will be back */
		pt_header(r, "Retry-After", "1");
		pt_respond(r, pt_error_status(PT_E_BUSY), NULL, NULL, 0);
		return;
	case AUTH_DB:
		pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
		return;
	}
	bool dpop = l.jkt != NULL;
	if (l.user == NULL && ru != NULL && strcmp(ru, "1") == 0) {
		const struct ask no_scope = {NULL, meta};
		challenge(r, dpop, 401, "invalid_token", "this location needs a user's token, not an app's own",
		    &no_scope);
		return;
	}
	if (p.v[CK_SCOPE] != NULL && !pt_scope_subset(p.v[CK_SCOPE], l.scope)) {
		challenge(r, dpop, 403, "insufficient_scope", "the token lacks a required scope", &ask);
		return;
	}
	/* an app's own token (client_credentials): no user, no organization; the upstream
	 * sees X-OAuth-Client and X-OAuth-Scope only */
	if (l.user != NULL) {
		pt_header(r, "X-OAuth-User", l.user);
		pt_header(r, "X-OAuth-Organization", pt_printf(r->ctx.a, "%lld", (long long)l.org));
	}
	pt_header(r, "X-OAuth-Scope", l.scope);
	pt_header(r, "X-OAuth-Client", l.client_id);
	pt_header(r, "Cache-Control", "no-store");
	pt_respond(r, 204, NULL, NULL, 0);
}

static void
introspect(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_app app;
	struct live l;

	if (pt_req_body(r, introspect_fields, IN__MAX, &p, &fail) != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "%s %s", fail.param, fail.reason));
		return;
	}
	if (!pt_client(r, p.v[IN_CLIENT_ID], p.n[IN_CLIENT_ID], p.v[IN_CLIENT_SECRET],
	    p.n[IN_CLIENT_SECRET], &app))
		return;
	if (app.public) {
		pt_fail(r, PT_E_CLIENT_AUTH, "introspection needs a confidential client");
		return;
	}
	if (p.v[IN_TOKEN] == NULL) {
		pt_fail(r, PT_E_INVALID_REQUEST, "token is missing");
		return;
	}
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	int rc = lookup(r, p.v[IN_TOKEN], p.n[IN_TOKEN], &l);
	if (rc == PT_ERR_DB || rc == PT_ERR_BUSY) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	/* a client learns about its own tokens only, unless an administrator made it a
	 * resource server (RFC 7662 §4: the rest are answered as inactive) */
	if (rc == PT_OK && !app.resource_server && strcmp(l.client_id, app.client_id) != 0) {
		pt_info("introspection by %s of another client's token answered inactive", app.client_id);
		rc = PT_ERR_NOTFOUND;
	}
	if (rc != PT_OK) {
		pt_buf_adds(&b, "{\"active\":false}");
		pt_json(r, 200, &b);
		return;
	}
	pt_buf_adds(&b, "{\"active\":true,\"scope\":");
	pt_buf_json(&b, l.scope, strlen(l.scope));
	pt_buf_adds(&b, ",\"client_id\":");
	pt_buf_json(&b, l.client_id, strlen(l.client_id));
	/* an app's own token (client_credentials) speaks for no user: no username, sub
	 * or organization */
	if (l.user != NULL) {
		pt_buf_adds(&b, ",\"username\":");
		pt_buf_json(&b, l.user, strlen(l.user));
		pt_buf_addf(&b, ",\"sub\":\"%lld\",\"organization\":\"%lld\"",
		    (long long)l.user_id, (long long)l.org);
	}
	pt_buf_addf(&b, ",\"iat\":%lld", (long long)l.created);
	if (l.expires)
		pt_buf_addf(&b, ",\"exp\":%lld", (long long)l.expires);
	pt_buf_adds(&b, l.kind != PT_KIND_ACCESS ? ",\"token_type\":\"refresh_token\""
		: l.jkt != NULL ? ",\"token_type\":\"DPoP\"" : ",\"token_type\":\"Bearer\"");
	/* RFC 9449 §6.2: the key a token is bound to */
	if (l.jkt != NULL)
		pt_buf_addf(&b, ",\"cnf\":{\"jkt\":\"%s\"}", l.jkt);
	pt_buf_adds(&b, ",\"iss\":");
	pt_buf_json(&b, r->ctx.cfg->base_url, strlen(r->ctx.cfg->base_url));
	if (l.resource) {
		pt_buf_adds(&b, ",\"aud\":");
		pt_buf_json(&b, l.resource, strlen(l.resource));
	}
	pt_buf_addc(&b, '}');
	pt_json(r, 200, &b);
}

static void
userinfo(struct pt_req *r)
{
	struct live l;
	const struct ask none = {NULL, NULL};
	enum auth a = authenticate(r, r->method, pt_url(r, "/oauth/userinfo"), false, &none, &l);
	if (a == AUTH_ANSWERED)
		return;
	if (a != AUTH_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	if (l.user == NULL) {
		challenge(r, l.jkt != NULL, 401, "invalid_token", "an app's own token has no user", &none);
		return;
	}
	/* who the user is is what the profile (or OpenID Connect's openid) scope covers */
	if (!pt_word_in("profile", 7, l.scope) && !pt_word_in("openid", 6, l.scope)) {
		/* the challenge names the one to ask for: openid where OpenID Connect is on */
		const struct ask want = {pt_config_scope(r->ctx.cfg, "openid", 6) ? "openid" : "profile", NULL};
		challenge(r, l.jkt != NULL, 403, "insufficient_scope", "userinfo needs the openid or profile scope",
		    &want);
		return;
	}
	/* OIDC Core §5.3.2: sub always, the claims of the granted scopes beside it */
	struct pt_claims_row u;
	int rc = pt_db_user_claims(r->ctx.a, l.user_id, &u);
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_addc(&b, '{');
	pt_claims_json(&b, &u, l.scope);
	if (pt_word_in("profile", 7, l.scope))
		pt_buf_addf(&b, ",\"organization\":\"%lld\"", (long long)l.org);
	pt_buf_addc(&b, '}');
	pt_json(r, 200, &b);
}

static void
json_url(pt_buf *b, struct pt_req *r, const char *key, const char *path)
{
	char *u = pt_url(r, path);
	pt_buf_addf(b, ",\"%s\":", key);
	pt_buf_json(b, u, strlen(u));
}

/* RFC 8414: answered at /.well-known/oauth-authorization-server and, for an issuer
 * with a path, at /.well-known/oauth-authorization-server/<path> (§3.1); the same
 * document is the OpenID Connect Discovery 1.0 one, at the issuer's
 * /.well-known/openid-configuration (§4: the path appended to the issuer's). */
static void
metadata(struct pt_req *r)
{
	const struct pt_config *c = r->ctx.cfg;
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"issuer\":");
	pt_buf_json(&b, c->base_url, strlen(c->base_url));
	json_url(&b, r, "authorization_endpoint", "/oauth/authorize");
	json_url(&b, r, "token_endpoint", "/oauth/token");
	json_url(&b, r, "revocation_endpoint", "/oauth/revoke");
	json_url(&b, r, "introspection_endpoint", "/oauth/introspect");
	json_url(&b, r, "userinfo_endpoint", "/oauth/userinfo");
	json_url(&b, r, "jwks_uri", "/oauth/jwks");
	json_url(&b, r, "device_authorization_endpoint", "/oauth/device_authorization");
	/* RP-Initiated Logout 1.0 §2.1 */
	json_url(&b, r, "end_session_endpoint", "/oauth/end_session");
	if (c->registration)
		json_url(&b, r, "registration_endpoint", "/oauth/register");
	/* draft-ietf-oauth-client-id-metadata-document §5 */
	if (c->client_metadata_documents)
		pt_buf_adds(&b, ",\"client_id_metadata_document_supported\":true");
	pt_buf_adds(&b, ",\"scopes_supported\":[");
	for (size_t i = 0; i < c->nscopes; i++) {
		if (i)
			pt_buf_addc(&b, ',');
		pt_buf_json(&b, c->scopes[i].name, strlen(c->scopes[i].name));
	}
	pt_buf_adds(&b, "],\"response_types_supported\":[\"code\"],"
			"\"response_modes_supported\":[\"query\"],"
			"\"grant_types_supported\":[\"authorization_code\",\"refresh_token\",\"client_credentials\","
			"\"urn:ietf:params:oauth:grant-type:device_code\"],"
			"\"token_endpoint_auth_methods_supported\":[\"client_secret_basic\","
			"\"client_secret_post\",\"none\"],"
			"\"revocation_endpoint_auth_methods_supported\":[\"client_secret_basic\","
			"\"client_secret_post\",\"none\"],"
			"\"introspection_endpoint_auth_methods_supported\":[\"client_secret_basic\","
			"\"client_secret_post\"],"
			"\"code_challenge_methods_supported\":[\"S256\"],"
			"\"authorization_response_iss_parameter_supported\":true,"
			/* OpenID Connect Discovery §3 */
			"\"subject_types_supported\":[\"public\"],"
			"\"id_token_signing_alg_values_supported\":[\"RS256\",\"EdDSA\"],"
			"\"claims_supported\":[\"sub\",\"iss\",\"aud\",\"exp\",\"iat\",\"auth_time\","
			"\"nonce\",\"at_hash\",\"azp\",\"name\",\"preferred_username\",\"email\","
			"\"email_verified\"],"
			"\"claim_types_supported\":[\"normal\"],"
			/* Core §3.1.2.1, as OpenID Connect Prompt Create 1.0 §4.1 names it */
			"\"prompt_values_supported\":[\"none\",\"login\",\"consent\",\"select_account\"],"
			"\"claims_parameter_supported\":false,"
			"\"request_parameter_supported\":false,"
			"\"request_uri_parameter_supported\":false,"
			/* RFC 9449 §5.1 */
			"\"dpop_signing_alg_values_supported\":" PT_DPOP_ALGS_JSON "}");
	pt_header(r, "Cache-Control", "public, max-age=3600");
	pt_header(r, "Access-Control-Allow-Origin", "*");
	pt_respond(r, 200, "application/json", b.p, b.n);
}

/* The RFC 8414 §3.1 form for an issuer with a path: the well-known prefix at the
 * root, then the issuer's path. */
static void
metadata_at_path(struct pt_req *r)
{
	const char *wk = "/.well-known/oauth-authorization-server";
	const char *full = pt_req_param(r, "DOCUMENT_URI");
	size_t wl = strlen(wk);
	if (full && strncmp(full, wk, wl) == 0 && strcmp(full + wl, r->ctx.cfg->base_path) == 0)
		metadata(r);
	else
		pt_fail(r, PT_E_NOT_FOUND, "no such endpoint");
}

/* RFC 9728 protected-resource metadata, for each protected_resource in the config, at
 * /.well-known/oauth-protected-resource + the resource's path (§3.1), at the root. */
static void
resource_metadata(struct pt_req *r)
{
	const char *wk = "/.well-known/oauth-protected-resource";
	const char *full = pt_req_param(r, "DOCUMENT_URI");
	size_t wl = strlen(wk);
	if (full == NULL || strncmp(full, wk, wl) != 0) {
		pt_fail(r, PT_E_NOT_FOUND, "no such endpoint");
		return;
	}
	for (size_t i = 0; i < r->ctx.cfg->nresources; i++) {
		const char *res = r->ctx.cfg->resources[i];
		const char *host = strstr(res, "://") + 3;
		const char *path = strchr(host, '/');
		if (strcmp(full + wl, path && strcmp(path, "/") ? path : "") != 0)
			continue;
		const struct pt_config *c = r->ctx.cfg;
		pt_buf b;
		pt_buf_init(&b, r->ctx.a);
		pt_buf_adds(&b, "{\"resource\":");
		pt_buf_json(&b, res, strlen(res));
		pt_buf_adds(&b, ",\"authorization_servers\":[");
		pt_buf_json(&b, c->base_url, strlen(c->base_url));
		pt_buf_adds(&b, "],\"bearer_methods_supported\":[\"header\"],"
				"\"dpop_signing_alg_values_supported\":" PT_DPOP_ALGS_JSON ",\"scopes_supported\":[");
		for (size_t k = 0; k < c->nscopes; k++) {
			if (k)
				pt_buf_addc(&b, ',');
			pt_buf_json(&b, c->scopes[k].name, strlen(c->scopes[k].name));
		}
		pt_buf_adds(&b, "]}");
		pt_header(r, "Cache-Control", "public, max-age=3600");
		pt_header(r, "Access-Control-Allow-Origin", "*");
		pt_respond(r, 200, "application/json", b.p, b.n);
		return;
	}
	pt_fail(r, PT_E_NOT_FOUND, "no such endpoint");
}

/* The public signing keys of id_tokens (RFC 7517 JWK Set): every key that signs and
 * every retired one until what it signed has expired. */
static void
jwks(struct pt_req *r)
{
	struct pt_key_row *k;
	size_t n;
	if (pt_keys_ensure(r->ctx.a, r->ctx.cfg) != PT_OK ||
	    pt_db_keys_list(r->ctx.a, pt_now(), &k, &n) != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_jwks(k, n, &b);
	/* short: a relying party that meets an unknown kid fetches again anyway */
	pt_header(r, "Cache-Control", "public, max-age=300");
	pt_header(r, "Access-Control-Allow-Origin", "*");
	pt_respond(r, 200, "application/jwk-set+json", b.p, b.n);
}

/* The check is nginx's auth_request target: it keeps the method of the request it guards
 * (any method) and its Content-Length without the body. */
static const struct pt_route routes[] = {
	/* methods path                                          face    needs      handler */
	{PT_ANY,  "/oauth/check",                               PT_API, PT_NOBODY, check},
	{PT_POST, "/oauth/introspect",                          PT_API, PT_CLIENT, introspect},
	{PT_ANY,  "/oauth/userinfo",                            PT_API, 0,         userinfo},
	{PT_ANY,  "/oauth/jwks",                                PT_API, 0,         jwks},
	{PT_ANY,  "/.well-known/openid-configuration",          PT_API, 0,         metadata},
	{PT_ANY,  "/.well-known/oauth-authorization-server",    PT_API, 0,         metadata},
	{PT_ANY,  "/.well-known/oauth-authorization-server/**", PT_API, 0,         metadata_at_path},
	{PT_ANY,  "/.well-known/oauth-protected-resource",      PT_API, 0,         resource_metadata},
	{PT_ANY,  "/.well-known/oauth-protected-resource/**",   PT_API, 0,         resource_metadata},
};

int
main(void)
{
	static const struct pt_site site = {"introspect", PT_MAX_BODY, PT_API, "/oauth/check",
	    routes, sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
