/* page.c: what every page executable does around sign-in. */
#include "postern.h"

void
pt_see_other(struct pt_req *r, const char *location)
{
	pt_header(r, "Location", location);
	pt_header(r, "Cache-Control", "no-store");
	pt_respond(r, 303, NULL, NULL, 0);
}

bool
pt_signed_in(struct pt_req *r, struct pt_user *u, const char *return_to)
{
	int rc = pt_session_user(r, u);
	if (rc == PT_OK)
		return true;
	if (rc == PT_ERR_DB) {
		pt_error_page(r, 500, "Server error", "The server could not check your session.");
		return false;
	}
	if (r->cfg->login == PT_LOGIN_REMOTE_USER) {
		/* nginx should have authenticated this request: refused, never anonymous */
		pt_error_page(r, 403, "Sign-in required",
		    "This server takes sign-in from the site, and none was provided.");
		return false;
	}
	const char *kv[] = {"return_to", return_to, NULL};
	const char *login = pt_uri_with_params(r->a, pt_path(r, "/oauth/login"), kv);
	if (pt_is_post(r))
		pt_see_other(r, login);
	else
		pt_redirect(r, login);
	return false;
}
