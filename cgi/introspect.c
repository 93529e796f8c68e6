/* introspect.c: the nginx auth_request check, RFC 7662 introspection, userinfo, and
 * the RFC 8414 / RFC 9728 metadata documents. */
#include <string.h>

#include "postern.h"

/* "last used" is written at most once a minute per token, so the check stays a read. */
#define TOUCH_INTERVAL 60

enum { CK_SCOPE, CK_RESOURCE_METADATA, CK_REQUIRE_USER, CK__MAX };
static const struct pt_field check_fields[CK__MAX] = {
	[CK_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	[CK_RESOURCE_METADATA] = {"resource_metadata", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	[CK_REQUIRE_USER] = {"require_user", 1, pt_valid_text, 0},
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

/* The RFC 6750 §3 answer of the check and userinfo: the status of e (PT_E_INVALID_TOKEN
 * or PT_E_INSUFFICIENT_SCOPE) and a Bearer challenge, with no body (nginx builds the
 * client's answer from the header). desc NULL: no token was sent, so the challenge
 * names no error (§3.1). */
static void
unauthorized(struct pt_req *r, enum pt_error e, const char *desc, const char *scope,
    const char *metadata)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "Bearer realm=\"postern\"");
	if (desc)
		pt_buf_addf(&b, ", error=\"%s\", error_description=\"%s\"", pt_error_code(e), desc);
	if (scope)
		pt_buf_addf(&b, ", scope=\"%s\"", scope);
	if (metadata)
		pt_buf_addf(&b, ", resource_metadata=\"%s\"", metadata);
	pt_header(r, "WWW-Authenticate", b.p);
	pt_header(r, "Cache-Control", "no-store");
	pt_respond(r, pt_error_status(e), NULL, NULL, 0);
}

/* GET /oauth/check: 204 + identity headers for nginx, 401/403, and 500 (never
 * 204) when the database fails. */
static void
check(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct live l;
	const char *t;
	size_t n;

	if (pt_req_query(r, check_fields, CK__MAX, &p, &fail) != PT_OK) {
		pt_warn("check: %s %s (fix the auth_request URI in nginx)", fail.param, fail.reason);
		pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
		return;
	}
	const char *meta = http_url(p.v[CK_RESOURCE_METADATA]) ? p.v[CK_RESOURCE_METADATA] : NULL;
	/* the scope a location needs is named in every challenge (RFC 6750 §3), so a client
	 * asks for it the first time; the 403 names it as the one missing */
	const char *need = p.v[CK_SCOPE] != NULL && *p.v[CK_SCOPE] ? p.v[CK_SCOPE] : NULL;
	if (!pt_bearer(r->authorization, &t, &n)) {
		unauthorized(r, PT_E_INVALID_TOKEN, NULL, need, meta);
		return;
	}
	int rc = lookup(r, t, n, &l);
	if (rc == PT_ERR_BUSY) {
		/* never a 204 it could not verify, nor a 401 that would make a client drop a
		 * good token: the database will be back */
		pt_header(r, "Retry-After", "1");
		pt_respond(r, pt_error_status(PT_E_BUSY), NULL, NULL, 0);
		return;
	}
	if (rc == PT_ERR_DB) {
		pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
		return;
	}
	if (rc != PT_OK || l.kind != PT_KIND_ACCESS) {
		unauthorized(r, PT_E_INVALID_TOKEN, "the access token is not valid", need, meta);
		return;
	}
	/* ?require_user=1: an API that must have a person refuses an app's own token */
	const char *ru = p.v[CK_REQUIRE_USER];
	if (ru != NULL && strcmp(ru, "1") != 0 && strcmp(ru, "0") != 0) {
		pt_warn("check: require_user must be 1 or 0 (fix the auth_request URI in nginx)");
		pt_respond(r, pt_error_status(PT_E_SERVER), NULL, NULL, 0);
		return;
	}
	if (l.user == NULL && ru != NULL && strcmp(ru, "1") == 0) {
		unauthorized(r, PT_E_INVALID_TOKEN, "this location needs a user's token, not an app's own",
		    NULL, meta);
		return;
	}
	if (p.v[CK_SCOPE] != NULL && !pt_scope_subset(p.v[CK_SCOPE], l.scope)) {
		unauthorized(r, PT_E_INSUFFICIENT_SCOPE, "the token lacks a required scope",
		    p.v[CK_SCOPE], meta);
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
	pt_buf_adds(&b, l.kind == PT_KIND_ACCESS ? ",\"token_type\":\"Bearer\"" : ",\"token_type\":\"refresh_token\"");
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
	const char *t;
	size_t n;
	if (!pt_bearer(r->authorization, &t, &n)) {
		unauthorized(r, PT_E_INVALID_TOKEN, NULL, NULL, NULL);
		return;
	}
	int rc = lookup(r, t, n, &l);
	if (rc == PT_ERR_DB || rc == PT_ERR_BUSY) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	if (rc != PT_OK || l.kind != PT_KIND_ACCESS) {
		unauthorized(r, PT_E_INVALID_TOKEN, "the access token is not valid", NULL, NULL);
		return;
	}
	if (l.user == NULL) {
		unauthorized(r, PT_E_INVALID_TOKEN, "an app's own token has no user", NULL, NULL);
		return;
	}
	/* who the user is is what the profile (or OpenID Connect's openid) scope covers */
	if (!pt_word_in("profile", 7, l.scope) && !pt_word_in("openid", 6, l.scope)) {
		/* the challenge names the one to ask for: openid where OpenID Connect is on */
		unauthorized(r, PT_E_INSUFFICIENT_SCOPE, "userinfo needs the openid or profile scope",
		    pt_config_scope(r->ctx.cfg, "openid", 6) ? "openid" : "profile", NULL);
		return;
	}
	/* OIDC Core §5.3.2: sub always, the claims of the granted scopes beside it */
	struct pt_claims_row u;
	rc = pt_db_user_claims(r->ctx.a, l.user_id, &u);
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
			"\"request_uri_parameter_supported\":false}");
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
		pt_buf_adds(&b, "],\"bearer_methods_supported\":[\"header\"],\"scopes_supported\":[");
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
