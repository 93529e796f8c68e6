/* authorize.c: GET/POST /oauth/authorize, RFC 6749 §4.1.1 with PKCE and RFC 8707 resource. */
#include <string.h>

#include <fcgiapp.h>

#include "postern.h"

/* Re-encodes the request's parameters, for the return trip through the login page. */
static char *
request_query(struct pt_req *r, const struct pt_params *p)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
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

/* Keeps the request server-side until the user decides: the consent form names it by an
 * unguessable id, and the decision consumes it (RFC 9700 §4.7: the form's fields cannot
 * be edited, and a form posted twice gets nothing the second time). */
static int
request_store(struct pt_req *r, const struct pt_params *p, const struct pt_user *u,
    char id[PT_TOKEN_LEN + 1])
{
	uint8_t h[PT_HASH_LEN];
	const char *q = request_query(r, p);
	int rc = pt_begin();
	if (rc != PT_OK)
		return rc;
	if ((rc = pt_db_requests_trim(u->id, PT_MAX_PENDING_REQUESTS - 1)) != PT_OK)
		goto fail;
	pt_token_new(id, "pcr_");
	pt_hash(h, id, PT_TOKEN_LEN);
	/* as long as a code lives, and never less than PT_MIN_REQUEST_TTL: a person reads the
	 * page (a code_ttl of a second or two would expire the form under their hand) */
	long ttl = r->ctx.cfg->code_ttl > PT_MIN_REQUEST_TTL ? r->ctx.cfg->code_ttl : PT_MIN_REQUEST_TTL;
	if ((rc = pt_db_request_insert(h, u->id, q, pt_now() + ttl)) != PT_OK ||
	    (rc = pt_commit()) != PT_OK)
		goto fail;
	return PT_OK;
fail:
	pt_rollback();
	return rc;
}

/* The consent page: who is asking, for what, on behalf of which organization. */
static void
consent_page(struct pt_req *r, const struct pt_params *p, const struct pt_authz *az,
    const struct pt_user *u)
{
	char id[PT_TOKEN_LEN + 1];
	if (request_store(r, p, u, id) != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not start your approval. Try again in a moment.");
		return;
	}
	const char *back = pt_printf(r->ctx.a, "%s?%s", pt_path(r, "/oauth/authorize"), request_query(r, p));
	struct pt_tv *t = pt_consent_vars(r, &az->app, az->scope, u, "/oauth/consent", back);
	if (t == NULL)
		return;
	pt_tv_set(t, "redirect_host", host_of(r->ctx.a, az->redirect_uri));
	struct pt_tv *it = pt_tv_add(t, "hidden");
	pt_tv_set(it, "name", "request");
	pt_tv_set(it, "value", id);
	pt_page(r, 200, "consent", t);
}

/* A grant that already covers the request lets the user skip the page. A public client
 * can be any program on the user's machine that knows its client_id (RFC 8252 §8.6):
 * it skips the page only when it asks for exactly the redirect URI the user approved,
 * loopback port included (or, when an administrator marked it trusted, exactly one of
 * its registered URIs). */
static int
remembered_org(pt_arena *a, const struct pt_authz *az, const struct pt_user *u, int64_t *org)
{
	if (az->app.trusted && (!az->app.public || az->redirect_exact)) {
		struct pt_org_row *orgs;
		size_t n;
		if (pt_db_user_orgs(a, u->id, &orgs, &n) != PT_OK)
			return PT_ERR_DB;
		if (n == 0)
			return PT_ERR_NOTFOUND;
		*org = orgs[0].id;
		return PT_OK;
	}
	if (!az->app.remember_consent)
		return PT_ERR_NOTFOUND;
	struct pt_grant_row *grants;
	size_t n;
	if (pt_db_grants_of_app(a, u->id, az->app.id, &grants, &n) != PT_OK)
		return PT_ERR_DB;
	for (size_t i = 0; i < n; i++) {
		const struct pt_grant_row *g = &grants[i];
		if (az->app.public && (g->redirect_uri == NULL || strcmp(g->redirect_uri, az->redirect_uri) != 0))
			continue;
		if (pt_scope_subset(az->scope, g->scope)) {
			*org = g->org_id;
			return PT_OK;
		}
	}
	return PT_ERR_NOTFOUND;
}

/* The signed-in user or NULL, without answering: an error of the request is shown or
 * redirected depending on it (pt_authz_fail). */
static const struct pt_user *
user_or_null(struct pt_req *r, struct pt_user *u)
{
	return pt_session_user(r, u) == PT_OK ? u : NULL;
}

/* Whether the signed-in user u must sign in again first (OIDC Core §3.1.2.1): prompt=login
 * (or select_account), a sign-in older than max_age, or an id_token_hint naming someone
 * else; unless the session is as new as the sign-in the request was sent to
 * (auth_after), which ends the round trip through the login page. */
static bool
must_sign_in_again(const struct pt_req *r, const struct pt_authz *az, const struct pt_user *u)
{
	bool other = az->has_hint && az->hint.user_id != u->id;
	if (r->ctx.cfg->login == PT_LOGIN_REMOTE_USER)
		return other; /* nginx signs in every request: its sign-in is always fresh */
	int64_t at = u->auth_time;
	bool stale = (az->prompt & PT_PROMPT_LOGIN) || other ||
	    (az->max_age >= 0 && pt_now() - at > az->max_age);
	/* prompt=none never was at the login page: its auth_after proves nothing */
	if (stale && !(az->prompt & PT_PROMPT_NONE) && az->auth_after > 0 && at >= az->auth_after)
		return false;
	return stale;
}

/* The login page, coming back to this request (marked with the time it was sent, so
 * that the new session satisfies prompt=login and max_age); login_hint prefills the
 * user name; a signed-in user gets the form all the same (prompt=login). */
static void
to_login(struct pt_req *r, struct pt_params *p, const struct pt_authz *az, bool signed_in)
{
	const char *now = pt_printf(r->ctx.a, "%lld", (long long)pt_now());
	p->v[AZ_AUTH_AFTER] = now;
	p->n[AZ_AUTH_AFTER] = strlen(now);
	const char *back = pt_printf(r->ctx.a, "%s?%s", pt_path(r, "/oauth/authorize"), request_query(r, p));
	const char *kv[] = {"return_to", back, "login_hint", az->login_hint,
	    "prompt", signed_in ? "login" : NULL, NULL};
	pt_redirect(r, pt_uri_with_params(r->ctx.a, pt_path(r, "/oauth/login"), kv));
}

/* An answer to prompt=none (Core §3.1.2.6): at the redirect URI, never a sign-in or
 * consent page. An app an administrator made or trusts gets it always; any other (a
 * self-registered one) only when the signed-in user approved it before, else the error
 * page, so that registration cannot turn this server into an open redirector (RFC 9700
 * §4.11.2). */
static void
none_fail(struct pt_req *r, struct pt_authz *az, const struct pt_user *u, const char *error,
    const char *desc)
{
	az->error = error;
	az->error_description = desc;
	if (az->app.trusted || az->app.vouched) {
		pt_authz_redirect(r, az, NULL, error, desc);
		return;
	}
	pt_authz_fail(r, az, u);
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
	if (pt_parse_form(r->ctx.a, s, n, f, 3, &q, &fail) != PT_OK &&
	    pt_parse_form(r->ctx.a, s, n, f, 2, &q, &fail) != PT_OK)
		return false;
	memset(&p, 0, sizeof(p));
	p.v[AZ_CLIENT_ID] = q.v[0];
	p.n[AZ_CLIENT_ID] = q.n[0];
	p.v[AZ_REDIRECT_URI] = q.v[1];
	p.n[AZ_REDIRECT_URI] = q.n[1];
	if (pt_authz_check(&r->ctx, &p, &az, &fail) != PT_OK)
		return false;
	struct pt_user u;
	az.state = q.v[2];
	az.error = "invalid_request";
	az.error_description = pt_printf(r->ctx.a, "%s %s", bad->param, bad->reason);
	pt_authz_fail(r, &az, user_or_null(r, &u));
	return true;
}

/* GET or POST /oauth/authorize */
static void
authorize(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_authz az;
	struct pt_user u;
	int rc;

	if (pt_is_post(r))
		rc = pt_req_body(r, pt_authz_fields, AZ__MAX, &p, &fail);
	else
		rc = pt_req_query(r, pt_authz_fields, AZ__MAX, &p, &fail);
	if (rc != PT_OK && redirect_malformed(r, &fail))
		return;
	if (rc != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST,
		    pt_printf(r->ctx.a, "The authorization request is malformed: %s %s.", fail.param,
			fail.reason));
		return;
	}
	/* a Client ID Metadata Document: its apps row made fresh before the checks read it;
	 * an unusable document gets the error page, never a redirect */
	if (r->ctx.cfg->client_metadata_documents &&
	    pt_cimd_is_url(p.v[AZ_CLIENT_ID], p.n[AZ_CLIENT_ID])) {
		const char *why = NULL;
		rc = pt_cimd_resolve(&r->ctx, p.v[AZ_CLIENT_ID], p.n[AZ_CLIENT_ID], &why);
		if (rc != PT_OK) {
			pt_fail(r, rc == PT_ERR_DB ? PT_E_BUSY : PT_E_CLIENT_DOCUMENT, why);
			return;
		}
	}
	rc = pt_authz_check(&r->ctx, &p, &az, &fail);
	if (rc == PT_ERR_DB) {
		pt_fail(r, PT_E_BUSY, fail.reason);
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BAD_AUTHZ, fail.reason);
		return;
	}
	if (az.error != NULL) {
		pt_authz_fail(r, &az, user_or_null(r, &u));
		return;
	}
	rc = pt_session_user(r, &u);
	if (rc == PT_ERR_DB) {
		pt_fail(r, PT_E_BUSY, "The server could not check your session. Try again in a moment.");
		return;
	}
	bool signed_in = rc == PT_OK;
	bool none = az.prompt & PT_PROMPT_NONE;
	if (!signed_in || must_sign_in_again(r, &az, &u)) {
		if (none) {
			none_fail(r, &az, signed_in ? &u : NULL, "login_required",
			    signed_in ? "the user must sign in again" : "the user is not signed in");
			return;
		}
		if (r->ctx.cfg->login == PT_LOGIN_REMOTE_USER) {
			/* the site signs people in: an id_token_hint for someone else is all that
			 * can be stale here, and only the site can change who is signed in */
			if (!pt_signed_in(r, &u, NULL))
				return;
			az.error = "login_required";
			az.error_description = "the signed-in user is not the one id_token_hint names";
			pt_authz_fail(r, &az, &u);
			return;
		}
		to_login(r, &p, &az, signed_in);
		return;
	}
	int64_t org;
	/* prompt=consent: the page even when the grant covers the request */
	rc = (az.prompt & PT_PROMPT_CONSENT) ? PT_ERR_NOTFOUND : remembered_org(r->ctx.a, &az, &u, &org);
	if (rc == PT_OK) {
		char code[PT_TOKEN_LEN + 1];
		rc = pt_code_issue(&r->ctx, &az, &u, org, false, code);
		if (rc == PT_OK) {
			/* approved before (or a trusted app): no page, but a decision all the same */
			pt_audit("consent_approved", true, PT_AS("user", u.name), PT_AI("user_id", u.id),
			    PT_AS("client_id", az.app.client_id), PT_AI("org_id", org), PT_AS("scope", az.scope),
			    PT_AB("remembered", true), PT_AS("addr", r->remote_addr));
			pt_authz_redirect(r, &az, code, NULL, NULL);
			return;
		}
		if (rc != PT_ERR_NOTFOUND) {
			pt_authz_redirect(r, &az, NULL, "temporarily_unavailable", "the code could not be issued; try again");
			return;
		}
		/* the membership went away meanwhile: ask again */
		if (none) {
			none_fail(r, &az, &u, "interaction_required",
			    "the user must choose an organization again");
			return;
		}
	} else if (rc == PT_ERR_DB) {
		pt_fail(r, PT_E_BUSY, "The server could not load your approvals. Try again in a moment.");
		return;
	} else if (none) {
		none_fail(r, &az, &u, "consent_required", "the user has not approved this request");
		return;
	}
	consent_page(r, &p, &az, &u);
}

static const struct pt_route routes[] = {
	/* methods         path               face     needs  handler */
	{PT_GET | PT_POST, "/oauth/authorize", PT_PAGE, 0,     authorize},
};

int
main(void)
{
	static const struct pt_site site = {"authorize", PT_MAX_BODY, PT_PAGE, "/oauth/authorize",
	    routes, sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
