/* consent.c: sign-in, sign-out and the consent decision (POST /oauth/consent). */
#include <stdlib.h>
#include <string.h>

#include "postern.h"

enum { LG_USERNAME, LG_PASSWORD, LG_RETURN_TO, LG_CSRF, LG__MAX };
static const struct pt_field login_fields[LG__MAX] = {
	[LG_USERNAME] = {"username", PT_MAX_USERNAME, NULL, 0},
	[LG_PASSWORD] = {"password", PT_MAX_PASSWORD, NULL, 0},
	[LG_RETURN_TO] = {"return_to", PT_MAX_QUERY, NULL, 0},
	[LG_CSRF] = {"csrf", 64, NULL, 0},
};

/* The consent form: the authorization request again, plus the decision. */
enum { CS_ORG = AZ__MAX, CS_ACTION, CS_CSRF, CS__MAX };
static struct pt_field consent_fields[CS__MAX];

/* Where to go after sign-in: only a path of this site below the base path, so
 * the login page cannot be used as an open redirect. */
static const char *
safe_return(struct pt_req *r, const char *v)
{
	const char *base = r->cfg->base_path;
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
	struct pt_tv *t = pt_tv_new(r->a);
	pt_tv_set(t, "title", "Sign in");
	pt_tv_set(t, "error", error);
	pt_tv_set(t, "username", username);
	pt_tv_set(t, "return_to", return_to);
	pt_page(r, status, "login", t);
}

static void
login(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_user u;
	int rc;

	if (r->cfg->login == PT_LOGIN_REMOTE_USER) {
		pt_error_page(r, 404, "Not found",
		    "Sign-in is handled by the site itself; this server has no login form.");
		return;
	}
	if (!pt_is_post(r)) {
		rc = pt_req_query(r, login_fields, LG__MAX, &p, &fail);
		if (rc != PT_OK) {
			pt_error_page(r, 400, "Bad request",
			    pt_printf(r->a, "%s %s.", fail.param, fail.reason));
			return;
		}
		rc = pt_session_user(r, &u);
		if (rc == PT_OK) {
			pt_redirect(r, safe_return(r, p.v[LG_RETURN_TO]));
			return;
		}
		login_page(r, 200, NULL, NULL, safe_return(r, p.v[LG_RETURN_TO]));
		return;
	}
	rc = pt_req_body(r, login_fields, LG__MAX, &p, &fail);
	if (rc != PT_OK) {
		login_page(r, 400, pt_printf(r->a, "The form is malformed: %s %s.", fail.param,
		    fail.reason), NULL, safe_return(r, NULL));
		return;
	}
	const char *ret = safe_return(r, p.v[LG_RETURN_TO]);
	if (!pt_csrf_ok(r, p.v[LG_CSRF], p.n[LG_CSRF])) {
		login_page(r, 403, "The form expired or came from another site. Please try again.",
		    p.v[LG_USERNAME], ret);
		return;
	}
	if (p.v[LG_USERNAME] == NULL || p.v[LG_PASSWORD] == NULL || p.n[LG_USERNAME] == 0) {
		login_page(r, 400, "Enter your user name and password.", p.v[LG_USERNAME], ret);
		return;
	}
	rc = pt_password_check(r->a, p.v[LG_USERNAME], p.n[LG_USERNAME], p.v[LG_PASSWORD],
	    p.n[LG_PASSWORD], &u);
	if (rc == PT_ERR_NOTFOUND) {
		pt_info("failed sign-in for a user name from %s", r->remote_addr);
		login_page(r, 401, "Wrong user name or password.", p.v[LG_USERNAME], ret);
		return;
	}
	if (rc != PT_OK || pt_session_start(r, u.id) != PT_OK) {
		login_page(r, 500, "The server could not sign you in. Try again later.",
		    p.v[LG_USERNAME], ret);
		return;
	}
	pt_see_other(r, ret);
}

static void
logout(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	if (!pt_is_post(r)) {
		pt_header(r, "Allow", "POST");
		pt_error_page(r, 405, "Method not allowed", "Sign out with the button on the page.");
		return;
	}
	if (pt_req_body(r, login_fields, LG__MAX, &p, &fail) != PT_OK ||
	    (pt_session_user(r, &(struct pt_user){0}) != PT_OK && r->sess == NULL) ||
	    !pt_csrf_ok(r, p.v[LG_CSRF], p.n[LG_CSRF])) {
		pt_error_page(r, 403, "Not signed out",
		    "The sign-out form expired or came from another site.");
		return;
	}
	pt_session_end(r);
	pt_see_other(r, pt_path(r, "/oauth/login"));
}

static void
consent(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_authz az;
	struct pt_user u;

	if (!pt_is_post(r)) {
		/* a bookmarked or reloaded consent page: start the request again */
		pt_redirect(r, pt_printf(r->a, "%s?%s", pt_path(r, "/oauth/authorize"), r->query));
		return;
	}
	int rc = pt_req_body(r, consent_fields, CS__MAX, &p, &fail);
	if (rc != PT_OK) {
		pt_error_page(r, 400, "Bad request",
		    pt_printf(r->a, "The consent form is malformed: %s %s.", fail.param, fail.reason));
		return;
	}
	rc = pt_session_user(r, &u);
	if (rc != PT_OK) {
		pt_error_page(r, rc == PT_ERR_DB ? 500 : 403, "Not signed in",
		    "Your session ended. Go back to the application and start again.");
		return;
	}
	if (!pt_csrf_ok(r, p.v[CS_CSRF], p.n[CS_CSRF])) {
		pt_error_page(r, 403, "Form expired",
		    "The consent form expired or came from another site. Go back to the application and start again.");
		return;
	}
	rc = pt_authz_check(r, &p, &az, &fail);
	if (rc != PT_OK) {
		pt_error_page(r, rc == PT_ERR_DB ? 500 : 400, "Invalid authorization request",
		    fail.reason);
		return;
	}
	if (az.error != NULL) {
		pt_authz_redirect(r, &az, NULL, az.error, az.error_description);
		return;
	}
	const char *action = p.v[CS_ACTION] ? p.v[CS_ACTION] : "";
	if (strcmp(action, "deny") == 0) {
		pt_authz_redirect(r, &az, NULL, "access_denied", "the user denied the request");
		return;
	}
	if (strcmp(action, "approve") != 0) {
		pt_error_page(r, 400, "Bad request", "action must be approve or deny.");
		return;
	}
	char *end = NULL;
	long long org = p.v[CS_ORG] ? strtoll(p.v[CS_ORG], &end, 10) : 0;
	if (p.v[CS_ORG] == NULL || *end != '\0' || org <= 0) {
		pt_error_page(r, 400, "Bad request", "org is missing or not a number.");
		return;
	}
	sqlite3_stmt *st = pt_stmt(ST_USER_IN_ORG);
	sqlite3_bind_int64(st, 1, u.id);
	sqlite3_bind_int64(st, 2, org);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		pt_error_page(r, rc == SQLITE_DONE ? 403 : 500, "Not allowed",
		    "You are not a member of that organization.");
		return;
	}
	char code[PT_TOKEN_LEN + 1];
	if (pt_code_issue(r, &az, u.id, org, code) != PT_OK) {
		pt_authz_redirect(r, &az, NULL, "server_error", "the code could not be issued");
		return;
	}
	pt_authz_redirect(r, &az, code, NULL, NULL);
}

static void
handle(struct pt_req *r)
{
	if (strcmp(r->path, "/oauth/login") == 0)
		login(r);
	else if (strcmp(r->path, "/oauth/logout") == 0)
		logout(r);
	else if (strcmp(r->path, "/oauth/consent") == 0)
		consent(r);
	else
		pt_error_page(r, 404, "Not found", "There is no page at this address.");
}

int
main(void)
{
	memcpy(consent_fields, pt_authz_fields, sizeof(pt_authz_fields));
	consent_fields[CS_ORG] = (struct pt_field){"org", 20, NULL, 0};
	consent_fields[CS_ACTION] = (struct pt_field){"action", 16, NULL, 0};
	consent_fields[CS_CSRF] = (struct pt_field){"csrf", 64, NULL, 0};
	return pt_serve("consent", PT_MAX_BODY, handle);
}
