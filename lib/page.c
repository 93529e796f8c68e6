/* page.c: what every page executable does around sign-in. */
#include <string.h>
#include <time.h>

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
		pt_fail(r, PT_E_BUSY, "The server could not check your session. Try again in a moment.");
		return false;
	}
	if (r->ctx.cfg->login == PT_LOGIN_REMOTE_USER) {
		/* nginx should have authenticated this request: refused, never anonymous */
		pt_fail(r, PT_E_SIGN_IN_REQUIRED,
		    "This server takes sign-in from the site, and none was provided.");
		return false;
	}
	const char *kv[] = {"return_to", return_to, NULL};
	const char *login = pt_uri_with_params(r->ctx.a, pt_path(r, "/oauth/login"), kv);
	if (pt_is_post(r))
		pt_see_other(r, login);
	else
		pt_redirect(r, login);
	return false;
}

/* The slots of the consent page that the code flow and the device flow share: who
 * asks, for which scopes, for which of the user's organizations. NULL after a 500
 * page when the organizations cannot be read. */
/* Who made the app, as the consent page says it: a client that registered itself is
 * marked not verified (anyone can name one "Google Drive"), one whose client_id is a
 * metadata document's URL is "identified by" that URL's host, also not verified; an app of the admin command
 * or of an administrator is the site's; any other is its owner's. */
static bool
consent_origin(struct pt_req *r, const struct pt_app *app, struct pt_tv *t)
{
	struct pt_app_consent_row info;
	if (pt_db_app_consent_info(r->ctx.a, app->id, &info) != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not load the app. Try again in a moment.");
		return false;
	}
	if (app->registered && strncmp(app->client_id, "https://", 8) == 0) {
		/* a Client ID Metadata Document's: its URL's host is who identifies it */
		const char *h = app->client_id + 8;
		pt_tv_set(t, "document_host", pt_strndup(r->ctx.a, h, strcspn(h, "/?#")));
		pt_tv_set(t, "unverified", "1");
	} else if (app->registered) {
		pt_tv_set(t, "self_registered", "1");
		pt_tv_set(t, "unverified", "1");
	} else if (info.owner_name == NULL || info.owner_is_admin || app->vouched)
		pt_tv_set(t, "by_site", "1");
	else
		pt_tv_set(t, "by_owner", info.owner_name);
	if (app->trusted && !app->registered)
		pt_tv_set(t, "trusted", "1");
	/* stored https only (lib/register.c); checked again, as anything put in an href */
	const char *links[][2] = {{"Website", info.client_uri}, {"Privacy policy", info.policy_uri},
	    {"Terms of service", info.tos_uri}};
	for (size_t i = 0; i < 3; i++) {
		const char *u = links[i][1];
		if (u == NULL || pt_redirect_uri_kind(u, strlen(u)) != PT_RU_HTTPS)
			continue;
		struct pt_tv *it = pt_tv_add(t, "links");
		pt_tv_set(it, "label", links[i][0]);
		pt_tv_url(it, "href", u);
		pt_tv_set(t, "has_links", "1");
	}
	return true;
}

struct pt_tv *
pt_consent_vars(struct pt_req *r, const struct pt_app *app, const char *scope,
    const struct pt_user *u, const char *action, const char *return_to)
{
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	pt_tv_setf(t, "title", "Authorize %s", app->name);
	pt_tv_set(t, "app_name", app->name);
	pt_tv_set(t, "app_description", app->description);
	pt_tv_setn(t, "app_initial", app->name, pt_utf8_initial(app->name, strlen(app->name)));
	if (app->has_picture)
		pt_tv_url(t, "app_picture", pt_path(r, pt_printf(r->ctx.a, "/oauth/apps/%s/picture",
		    app->client_id)));
	pt_tv_set(t, "client_id", app->client_id);
	pt_tv_set(t, "user_name", u->name);
	pt_tv_set(t, "action", pt_path(r, action));
	/* signing out is this server's only with its own sign-in form */
	if (return_to != NULL && r->ctx.cfg->login != PT_LOGIN_REMOTE_USER)
		pt_tv_set(t, "switch_return", return_to);
	if (!consent_origin(r, app, t))
		return NULL;
	for (const char *s = scope; *s;) {
		size_t k = strcspn(s, " ");
		const struct pt_scope *sc = pt_config_scope(r->ctx.cfg, s, k);
		if (sc != NULL) {
			struct pt_tv *it = pt_tv_add(t, "scopes");
			pt_tv_set(it, "name", sc->name);
			pt_tv_set(it, "desc", sc->desc);
		}
		s += k;
		while (*s == ' ')
			s++;
	}
	struct pt_org_row *orgs;
	size_t n;
	if (pt_db_user_orgs(r->ctx.a, u->id, &orgs, &n) != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not load your organizations. Try again in a moment.");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct pt_tv *it = pt_tv_add(t, "orgs");
		pt_tv_setf(it, "id", "%lld", (long long)orgs[i].id);
		pt_tv_set(it, "name", orgs[i].name);
		if (i == 0)
			pt_tv_set(it, "checked", "1");
	}
	if (n > 1)
		pt_tv_set(t, "multi_org", "1");
	return t;
}

/* "YYYY-MM-DD HH:MM" in UTC, as the pages show times. */
const char *
pt_utc_time(pt_arena *a, int64_t t)
{
	struct tm tm;
	char buf[32];
	time_t tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm) == 0)
		return "";
	return pt_strdup(a, buf);
}
