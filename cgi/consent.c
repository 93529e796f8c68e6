/* consent.c: sign-in, sign-out and the consent decision (POST /oauth/consent). */
#include <stdlib.h>
#include <string.h>

#include "postern.h"

enum { LG_USERNAME, LG_PASSWORD, LG_RETURN_TO, LG_CSRF, LG_EVERYWHERE, LG_LOGIN_HINT, LG_PROMPT,
	LG__MAX };
static const struct pt_field login_fields[LG__MAX] = {
	[LG_USERNAME] = {"username", PT_MAX_USERNAME, pt_valid_text, 0},
	[LG_PASSWORD] = {"password", PT_MAX_PASSWORD, pt_valid_text, 0},
	[LG_RETURN_TO] = {"return_to", PT_MAX_QUERY, pt_valid_text, 0},
	[LG_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
	[LG_EVERYWHERE] = {"everywhere", PT_MAX_FLAG, pt_valid_text, 0},
	/* from an authorization request: prefill the user name; prompt=login: the form even
	 * for a signed-in user */
	[LG_LOGIN_HINT] = {"login_hint", PT_MAX_LOGIN_HINT, pt_valid_text, 0},
	[LG_PROMPT] = {"prompt", PT_MAX_PROMPT, pt_valid_text, 0},
};

/* The consent form: the pending request's id and the decision. Nothing of the request
 * itself comes from the form: it is read back from the server's record. */
enum { CS_REQUEST, CS_ORG, CS_ACTION, CS_CSRF, CS__MAX };
static const struct pt_field consent_fields[CS__MAX] = {
	[CS_REQUEST] = {"request", PT_MAX_REQUEST_ID, pt_valid_text, 0},
	[CS_ORG] = {"org", PT_MAX_ID_FIELD, pt_valid_text, 0},
	[CS_ACTION] = {"action", PT_MAX_ACTION, pt_valid_text, 0},
	[CS_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
};

/* RP-Initiated Logout 1.0 §2: the end-session request; csrf and confirm come from this
 * server's own confirmation form. */
enum { ES_ID_TOKEN_HINT, ES_CLIENT_ID, ES_POST_LOGOUT, ES_STATE, ES_LOGOUT_HINT, ES_UI_LOCALES,
	ES_CSRF, ES_CONFIRM, ES__MAX };
static const struct pt_field end_session_fields[ES__MAX] = {
	[ES_ID_TOKEN_HINT] = {"id_token_hint", PT_MAX_ID_TOKEN_HINT, pt_valid_text, 0},
	[ES_CLIENT_ID] = {"client_id", PT_MAX_AUTHZ_CLIENT_ID, pt_valid_text, 0},
	[ES_POST_LOGOUT] = {"post_logout_redirect_uri", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	[ES_STATE] = {"state", PT_MAX_STATE, pt_valid_text, 0},
	/* accepted and not used: the session is the one of this browser */
	[ES_LOGOUT_HINT] = {"logout_hint", PT_MAX_LOGIN_HINT, pt_valid_text, 0},
	[ES_UI_LOCALES] = {"ui_locales", PT_MAX_UI_LOCALES, pt_valid_text, 0},
	[ES_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
	[ES_CONFIRM] = {"confirm", PT_MAX_CONFIRM, pt_valid_text, 0},
};

/* Where to go after sign-in: only a path of this site below the base path, so
 * the login page cannot be used as an open redirect. */
static const char *
safe_return(struct pt_req *r, const char *v)
{
	const char *base = r->ctx.cfg->base_path;
	size_t bl = strlen(base);
	const char *home = pt_path(r, "/oauth/apps");
	if (v == NULL || strncmp(v, base, bl) != 0 || v[bl] != '/' || v[bl + 1] == '/' ||
	    v[bl + 1] == '\\' || strchr(v, '\\') != NULL)
		return home;
	return v;
}

static void
login_page(struct pt_req *r, int status, const char *error, const char *username,
    const char *return_to)
{
	const char *kv[] = {"title", "Sign in", "error", error, "username", username,
	    "return_to", return_to, NULL};
	pt_page_kv(r, status, "login", kv);
}

static void
login(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_user u;
	int rc;

	if (r->ctx.cfg->login == PT_LOGIN_REMOTE_USER) {
		pt_fail(r, PT_E_NOT_FOUND,
		    "Sign-in is handled by the site itself; this server has no login form.");
		return;
	}
	if (!pt_is_post(r)) {
		rc = pt_req_query(r, login_fields, LG__MAX, &p, &fail);
		if (rc != PT_OK) {
			pt_fail(r, PT_E_INVALID_REQUEST,
			    pt_printf(r->ctx.a, "%s %s.", fail.param, fail.reason));
			return;
		}
		rc = pt_session_user(r, &u);
		bool again = p.v[LG_PROMPT] != NULL && strcmp(p.v[LG_PROMPT], "login") == 0;
		if (rc == PT_OK && !again) {
			pt_redirect(r, safe_return(r, p.v[LG_RETURN_TO]));
			return;
		}
		/* the form is checked before any session is looked up (the POST below): its
		 * CSRF token is bound to the pre-session cookie, signed in or not */
		r->sess = NULL;
		const char *hint = p.v[LG_LOGIN_HINT];
		if (hint != NULL && !pt_valid_username(hint, p.n[LG_LOGIN_HINT]))
			hint = NULL; /* an address or anything else that is not a user name here */
		login_page(r, 200, NULL, hint, safe_return(r, p.v[LG_RETURN_TO]));
		return;
	}
	rc = pt_req_body(r, login_fields, LG__MAX, &p, &fail);
	if (rc != PT_OK) {
		login_page(r, pt_error_status(PT_E_INVALID_REQUEST), pt_printf(r->ctx.a, "The form is malformed: %s %s.", fail.param,
		    fail.reason), NULL, safe_return(r, NULL));
		return;
	}
	const char *ret = safe_return(r, p.v[LG_RETURN_TO]);
	if (!pt_csrf_ok(r, p.v[LG_CSRF], p.n[LG_CSRF])) {
		login_page(r, pt_error_status(PT_E_CSRF), "The form expired or came from another site. Please try again.",
		    p.v[LG_USERNAME], ret);
		return;
	}
	if (p.v[LG_USERNAME] == NULL || p.v[LG_PASSWORD] == NULL || p.n[LG_USERNAME] == 0) {
		login_page(r, pt_error_status(PT_E_INVALID_REQUEST), "Enter your user name and password.", p.v[LG_USERNAME], ret);
		return;
	}
	rc = pt_password_check(r->ctx.a, p.v[LG_USERNAME], p.n[LG_USERNAME], p.v[LG_PASSWORD],
	    p.n[LG_PASSWORD], &u);
	if (rc == PT_ERR_NOTFOUND) {
		pt_metrics_sign_in(false);
		pt_info("failed sign-in for a user name from %s", r->remote_addr);
		pt_audit("sign_in", false, PT_AS("user", p.v[LG_USERNAME]), PT_AS("addr", r->remote_addr),
		    PT_AS("reason", "wrong user name or password"));
		login_page(r, pt_error_status(PT_E_SIGN_IN_FAILED), "Wrong user name or password.", p.v[LG_USERNAME], ret);
		return;
	}
	if (rc != PT_OK || pt_session_start(r, u.id) != PT_OK) {
		pt_audit("sign_in", false, PT_AS("user", p.v[LG_USERNAME]), PT_AS("addr", r->remote_addr),
		    PT_AS("reason", "server error"));
		login_page(r, pt_error_status(PT_E_SERVER), "The server could not sign you in. Try again later.",
		    p.v[LG_USERNAME], ret);
		return;
	}
	pt_audit("sign_in", true, PT_AS("user", u.name), PT_AI("user_id", u.id),
	    PT_AS("addr", r->remote_addr));
	pt_metrics_sign_in(true);
	pt_see_other(r, ret);
}

static void
logout(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_user u = {0};
	bool signed_in = false;
	if (pt_req_body(r, login_fields, LG__MAX, &p, &fail) != PT_OK ||
	    (!(signed_in = pt_session_user(r, &u) == PT_OK) && r->sess == NULL) ||
	    !pt_csrf_ok(r, p.v[LG_CSRF], p.n[LG_CSRF])) {
		pt_fail(r, PT_E_NOT_SIGNED_OUT,
		    "The sign-out form expired or came from another site.");
		return;
	}
	if (signed_in && p.v[LG_EVERYWHERE] != NULL && strcmp(p.v[LG_EVERYWHERE], "1") == 0) {
		/* every session of the account, on every device (after a stolen cookie) */
		if (pt_sessions_end_all(u.id) != PT_OK) {
			pt_fail(r, PT_E_BUSY, "The server could not end your sessions. Try again in a moment.");
			return;
		}
		pt_info("user %s signed out everywhere", u.name);
	}
	bool everywhere = signed_in && p.v[LG_EVERYWHERE] != NULL && strcmp(p.v[LG_EVERYWHERE], "1") == 0;
	pt_session_end(r);
	pt_audit("sign_out", true, PT_AS("user", signed_in ? u.name : NULL),
	    PT_AI("user_id", signed_in ? u.id : 0), PT_AB("everywhere", everywhere),
	    PT_AS("addr", r->remote_addr));
	/* "not you? switch account" on the consent page: the sign-in form, then back to the
	 * request (a path below the base URL, as for sign-in) */
	if (p.v[LG_RETURN_TO] != NULL) {
		const char *kv[] = {"return_to", safe_return(r, p.v[LG_RETURN_TO]), NULL};
		pt_see_other(r, pt_uri_with_params(r->ctx.a, pt_path(r, "/oauth/login"), kv));
		return;
	}
	pt_see_other(r, pt_path(r, "/oauth/login"));
}

/* Is uri (n bytes) one of the '\n'-separated list, byte for byte? */
static bool
uri_listed(const char *list, const char *uri, size_t n)
{
	for (const char *s = list; *s;) {
		size_t k = strcspn(s, "\n");
		if (k == n && memcmp(s, uri, n) == 0)
			return true;
		s += k;
		if (*s)
			s++;
	}
	return false;
}

/* The page that asks before signing out (RP-Initiated Logout §2, §6): a request that
 * does not prove it comes from an app this user signed in to (an id_token_hint of theirs)
 * may be another site's, and ends nothing without the user's say. */
static void
end_session_confirm(struct pt_req *r, const struct pt_params *p, const struct pt_app *app,
    const struct pt_user *u)
{
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	pt_tv_set(t, "title", "Sign out");
	pt_tv_set(t, "user_name", u->name);
	pt_tv_set(t, "app_name", app != NULL ? app->name : NULL);
	pt_tv_set(t, "action", pt_path(r, "/oauth/end_session"));
	pt_tv_set(t, "cancel_url", pt_path(r, "/oauth/apps"));
	static const int keep[] = {ES_CLIENT_ID, ES_POST_LOGOUT, ES_STATE};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *v = p->v[keep[i]];
		if (keep[i] == ES_CLIENT_ID && app != NULL)
			v = app->client_id; /* the one the id_token_hint named */
		if (v == NULL)
			continue;
		struct pt_tv *it = pt_tv_add(t, "hidden");
		pt_tv_set(it, "name", end_session_fields[keep[i]].name);
		pt_tv_set(it, "value", v);
	}
	pt_page(r, 200, "end_session", t);
}

/* GET or POST /oauth/end_session: RP-Initiated Logout 1.0. The post_logout_redirect_uri
 * must be one registered for the app the id_token_hint or client_id names, byte for
 * byte, or the error page says so and nothing redirects. */
static void
end_session(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	int rc = pt_is_post(r) ? pt_req_body(r, end_session_fields, ES__MAX, &p, &fail)
			       : pt_req_query(r, end_session_fields, ES__MAX, &p, &fail);
	if (rc != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "The sign-out request is malformed: %s %s.",
		    fail.param, fail.reason));
		return;
	}
	struct pt_id_hint hint;
	bool has_hint = false;
	if (p.v[ES_ID_TOKEN_HINT] != NULL) {
		/* expired or not (§2): but one this server signed */
		rc = pt_id_token_check(&r->ctx, p.v[ES_ID_TOKEN_HINT], p.n[ES_ID_TOKEN_HINT], &hint);
		if (rc == PT_ERR_DB || rc == PT_ERR_BUSY) {
			pt_fail(r, PT_E_BUSY, "The server could not read its signing keys. Try again in a moment.");
			return;
		}
		if (rc != PT_OK) {
			pt_fail(r, PT_E_INVALID_REQUEST, "The application sent a sign-out request with an "
			    "id_token_hint this server did not issue.");
			return;
		}
		has_hint = true;
	}
	const char *cid = p.v[ES_CLIENT_ID];
	if (cid != NULL && has_hint && strcmp(cid, hint.client_id) != 0) {
		pt_fail(r, PT_E_INVALID_REQUEST, "The sign-out request's client_id is not the application "
		    "its id_token_hint was issued to.");
		return;
	}
	if (cid == NULL && has_hint)
		cid = hint.client_id;
	struct pt_app app;
	bool has_app = false;
	if (cid != NULL) {
		rc = pt_app_get(r->ctx.a, cid, strlen(cid), &app);
		if (rc == PT_ERR_DB) {
			pt_fail(r, PT_E_BUSY, "The server could not look up the application. Try again in a moment.");
			return;
		}
		if (rc != PT_OK) {
			pt_fail(r, PT_E_INVALID_REQUEST, "The application that sent you here is not registered "
			    "(unknown client_id).");
			return;
		}
		has_app = true;
	}
	const char *back = p.v[ES_POST_LOGOUT];
	if (back != NULL && !has_app) {
		pt_fail(r, PT_E_INVALID_REQUEST, "The sign-out request names a post_logout_redirect_uri "
		    "without saying which application it belongs to (id_token_hint or client_id).");
		return;
	}
	if (back != NULL && !uri_listed(app.post_logout_redirect_uris, back, p.n[ES_POST_LOGOUT])) {
		pt_info("end_session: post_logout_redirect_uri not registered for %s", app.client_id);
		pt_fail(r, PT_E_INVALID_REQUEST, "The application asked to send you to an address it has "
		    "not registered (post_logout_redirect_uri mismatch). You were not signed out.");
		return;
	}
	struct pt_user u;
	rc = pt_session_user(r, &u);
	if (rc == PT_ERR_DB) {
		pt_fail(r, PT_E_BUSY, "The server could not check your session. Try again in a moment.");
		return;
	}
	bool signed_in = rc == PT_OK;
	bool confirmed = false;
	if (pt_is_post(r) && p.v[ES_CONFIRM] != NULL) {
		if (strcmp(p.v[ES_CONFIRM], "yes") != 0 || !pt_csrf_ok(r, p.v[ES_CSRF], p.n[ES_CSRF])) {
			pt_fail(r, PT_E_NOT_SIGNED_OUT, "The sign-out form expired or came from another site.");
			return;
		}
		confirmed = true;
	}
	if (signed_in && !confirmed && !(has_hint && hint.user_id == u.id)) {
		end_session_confirm(r, &p, has_app ? &app : NULL, &u);
		return;
	}
	if (signed_in) {
		pt_session_end(r);
		pt_audit("sign_out", true, PT_AS("user", u.name), PT_AI("user_id", u.id),
		    PT_AS("client_id", has_app ? app.client_id : NULL), PT_AB("confirmed", confirmed),
		    PT_AS("addr", r->remote_addr));
	}
	if (back != NULL) {
		const char *kv[] = {"state", p.v[ES_STATE], NULL};
		pt_redirect(r, pt_uri_with_params(r->ctx.a, back, kv));
		return;
	}
	const char *kv[] = {"title", "Signed out", "message", "You are signed out.", NULL};
	pt_page_kv(r, 200, "message", kv);
}

/* Takes the pending request the form names (it is gone afterwards, whatever the
 * decision): its parameters into q. PT_ERR_NOTFOUND when it is unknown, answered,
 * expired or another user's. */
static int
request_take(struct pt_req *r, const struct pt_params *p, const struct pt_user *u,
    struct pt_params *q)
{
	uint8_t h[PT_HASH_LEN];
	struct pt_fail fail;
	if (p->v[CS_REQUEST] == NULL || !pt_token_check(p->v[CS_REQUEST], p->n[CS_REQUEST], "pcr_"))
		return PT_ERR_NOTFOUND;
	pt_hash(h, p->v[CS_REQUEST], p->n[CS_REQUEST]);
	struct pt_request_row req;
	int rc = pt_db_request_take(r->ctx.a, h, u->id, &req);
	if (rc != PT_OK)
		return rc == PT_ERR_NOTFOUND || rc == PT_ERR_BUSY ? rc : PT_ERR_DB;
	if (req.expires <= pt_now())
		return PT_ERR_NOTFOUND;
	const char *query = req.query;
	if (pt_parse_form(r->ctx.a, query, strlen(query), pt_authz_fields, AZ__MAX, q, &fail) != PT_OK)
		return PT_ERR_NOTFOUND;
	return PT_OK;
}

static void
consent(struct pt_req *r)
{
	struct pt_params p, q;
	struct pt_fail fail;
	struct pt_authz az;
	struct pt_user u;

	if (!pt_is_post(r)) {
		/* a bookmarked or reloaded consent page: start the request again */
		pt_redirect(r, pt_printf(r->ctx.a, "%s?%s", pt_path(r, "/oauth/authorize"), r->query));
		return;
	}
	int rc = pt_req_body(r, consent_fields, CS__MAX, &p, &fail);
	if (rc != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST,
		    pt_printf(r->ctx.a, "The consent form is malformed: %s %s.", fail.param, fail.reason));
		return;
	}
	rc = pt_session_user(r, &u);
	if (rc != PT_OK) {
		pt_fail(r, rc == PT_ERR_DB ? PT_E_BUSY : PT_E_SIGNED_OUT,
		    "Your session ended. Go back to the application and start again.");
		return;
	}
	if (!pt_csrf_ok(r, p.v[CS_CSRF], p.n[CS_CSRF])) {
		pt_fail(r, PT_E_CSRF,
		    "The consent form expired or came from another site. Go back to the application and start again.");
		return;
	}
	const char *action = p.v[CS_ACTION] ? p.v[CS_ACTION] : "";
	bool approve = strcmp(action, "approve") == 0;
	if (!approve && strcmp(action, "deny") != 0) {
		pt_fail(r, PT_E_INVALID_REQUEST, "action must be approve or deny.");
		return;
	}
	rc = request_take(r, &p, &u, &q);
	if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_ANSWERED,
		    "This authorization request was already answered, or it expired. Go back to the application and start again.");
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not record your answer. Try again in a moment.");
		return;
	}
	/* the app may have changed since the page was shown: the request is checked again */
	rc = pt_authz_check(&r->ctx, &q, &az, &fail);
	if (rc != PT_OK) {
		pt_fail(r, rc == PT_ERR_DB ? PT_E_BUSY : PT_E_BAD_AUTHZ, fail.reason);
		return;
	}
	if (az.error != NULL) {
		pt_authz_fail(r, &az, &u);
		return;
	}
	if (!approve) {
		pt_audit("consent_denied", true, PT_AS("user", u.name), PT_AI("user_id", u.id),
		    PT_AS("client_id", az.app.client_id), PT_AS("scope", az.scope),
		    PT_AS("addr", r->remote_addr));
		pt_authz_redirect(r, &az, NULL, "access_denied", "the user denied the request");
		return;
	}
	long long org;
	if (pt_strtonum(p.v[CS_ORG], 1, INT64_MAX, &org) != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, "org is missing or not a number.");
		return;
	}
	char code[PT_TOKEN_LEN + 1];
	rc = pt_code_issue(&r->ctx, &az, &u, org, true, code);
	if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_FORBIDDEN, "You are not a member of that organization.");
		return;
	}
	if (rc != PT_OK) {
		pt_authz_redirect(r, &az, NULL, "temporarily_unavailable", "the code could not be issued; try again");
		return;
	}
	pt_audit("consent_approved", true, PT_AS("user", u.name), PT_AI("user_id", u.id),
	    PT_AS("client_id", az.app.client_id), PT_AI("org_id", org), PT_AS("scope", az.scope),
	    PT_AS("addr", r->remote_addr));
	pt_authz_redirect(r, &az, code, NULL, NULL);
}

static const struct pt_route routes[] = {
	/* methods         path             face     needs    handler */
	{PT_GET | PT_POST, "/oauth/login",   PT_PAGE, PT_CSRF, login},
	{PT_POST,          "/oauth/logout",  PT_PAGE, PT_CSRF, logout},
	{PT_GET | PT_POST, "/oauth/end_session", PT_PAGE, PT_CSRF, end_session},
	/* a GET (a reloaded consent page) starts the request again */
	{PT_GET | PT_POST, "/oauth/consent", PT_PAGE, PT_CSRF, consent},
};

int
main(void)
{
	static const struct pt_site site = {"consent", PT_MAX_BODY, PT_PAGE, "/oauth/login", routes,
	    sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
