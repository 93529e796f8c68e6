/* apps.c: the developer's apps (/oauth/apps...: list, create, edit, picture, rotate the
 * secret, delete) and RFC 7591 dynamic client registration (POST /oauth/register). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "postern.h"

/* Byte limits of the form fields, derived from the character limits: UTF-8 takes at
 * most 4 bytes a character, and a browser sends each line break of a textarea as CRLF. */
#define APP_NAME_BYTES (PT_MAX_APP_NAME * 4)
#define APP_DESC_BYTES (PT_MAX_APP_DESC * 4 + PT_MAX_APP_DESC)
#define APP_URIS_BYTES (PT_MAX_REDIRECT_URIS * (PT_MAX_REDIRECT_URI + 2) + 512)
#define APP_GRANT_TYPES "authorization_code refresh_token"

/* The create and edit form (multipart/form-data, for the picture). */
enum {
	AF_NAME, AF_DESCRIPTION, AF_PICTURE, AF_REMOVE_PICTURE, AF_REDIRECT_URIS, AF_SCOPE,
	AF_TYPE, AF_TRUSTED, AF_REQUIRE_PKCE, AF_REMEMBER, AF_LOGOUT_URIS, AF_ID_TOKEN_ALG, AF_CSRF,
	AF_CLIENT_CREDENTIALS, AF_ACCESS_JWT, AF__MAX
};
static const struct pt_field app_fields[AF__MAX] = {
	[AF_NAME] = {"name", APP_NAME_BYTES, pt_valid_text, 0},
	[AF_DESCRIPTION] = {"description", APP_DESC_BYTES, pt_valid_text, PT_F_MULTILINE},
	/* over PT_MAX_PICTURE is refused below with its own message, keeping the form */
	[AF_PICTURE] = {"picture", PT_MAX_UPLOAD_BODY, pt_valid_text, PT_F_BINARY},
	[AF_REMOVE_PICTURE] = {"remove_picture", PT_MAX_FLAG, pt_valid_text, 0},
	[AF_REDIRECT_URIS] = {"redirect_uris", APP_URIS_BYTES, pt_valid_text, PT_F_MULTILINE},
	[AF_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_scope, PT_F_REPEAT},
	[AF_TYPE] = {"type", PT_MAX_APP_TYPE, pt_valid_text, 0},
	[AF_TRUSTED] = {"trusted", PT_MAX_FLAG, pt_valid_text, 0},
	[AF_REQUIRE_PKCE] = {"require_pkce", PT_MAX_FLAG, pt_valid_text, 0},
	[AF_REMEMBER] = {"remember_consent", PT_MAX_FLAG, pt_valid_text, 0},
	/* OpenID Connect: RP-Initiated Logout's return addresses, the id_token algorithm */
	[AF_LOGOUT_URIS] = {"post_logout_redirect_uris", APP_URIS_BYTES, pt_valid_text, PT_F_MULTILINE},
	[AF_ID_TOKEN_ALG] = {"id_token_signed_response_alg", PT_MAX_ALG, pt_valid_text, 0},
	[AF_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
	/* administrators only: the client_credentials grant, JWT access tokens (RFC 9068) */
	[AF_CLIENT_CREDENTIALS] = {"client_credentials", PT_MAX_FLAG, pt_valid_text, 0},
	[AF_ACCESS_JWT] = {"access_token_jwt", PT_MAX_FLAG, pt_valid_text, 0},
};

/* The small forms: rotate, delete (confirm) and the notices of the pages. */
enum { SF_CSRF, SF_CONFIRM, SF__MAX };
static const struct pt_field small_fields[SF__MAX] = {
	[SF_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
	[SF_CONFIRM] = {"confirm", PT_MAX_CONFIRM, pt_valid_text, 0},
};
enum { NQ_DONE, NQ__MAX };
static const struct pt_field notice_fields[NQ__MAX] = {
	[NQ_DONE] = {"done", PT_MAX_NOTICE, pt_valid_text, 0},
};

/* ------------------------------------------------------------ helpers */

static char *
app_path(struct pt_req *r, const char *client_id, const char *suffix)
{
	return pt_path(r, pt_printf(r->ctx.a, "/oauth/apps/%s%s", client_id, suffix));
}

static bool
is_yes(const struct pt_params *p, int i)
{
	return p->v[i] != NULL && p->n[i] == 1 && p->v[i][0] == '1';
}

/* The app client_id if the user owns it: PT_ERR_NOTFOUND for anyone else's (the same
 * answer as for no app at all), PT_ERR_BUSY or PT_ERR_DB on failure. */
static int
owned_app(struct pt_req *r, const struct pt_user *u, const char *cid, struct pt_app *app)
{
	memset(app, 0, sizeof(*app));
	size_t n = strlen(cid);
	if (n != PT_CLIENT_ID_LEN || memcmp(cid, "pca_", 4) != 0 || !pt_valid_b62ish(cid, n))
		return PT_ERR_NOTFOUND;
	/* the owner is part of the lookup, so a forged client id never reaches another
	 * user's app */
	return pt_db_apps_get(r->ctx.a, cid, u->id, app);
}

static void
not_found(struct pt_req *r)
{
	pt_fail(r, PT_E_NOT_FOUND, "There is no app at this address among your apps.");
}

static void
csrf_failed(struct pt_req *r)
{
	pt_fail(r, PT_E_CSRF,
	    "The form expired or came from another site. Open it again and retry.");
}

static void
db_failed(struct pt_req *r)
{
	pt_fail(r, PT_E_BUSY, "The server could not save your change. Try again in a moment.");
}

/* ------------------------------------------------------------ the form */

/* Reads the posted form into f, keeping what was typed even when it is wrong (the page
 * shows it again), and returns a message for the person when something is wrong. */
static const char *
form_read(struct pt_req *r, const struct pt_params *p, const struct pt_user *u,
    const struct pt_app *old, struct pt_new_app *f)
{
	/* a form without the OpenID Connect fields (a script's, an older page's) keeps them */
	const char *logout = p->v[AF_LOGOUT_URIS], *alg = p->v[AF_ID_TOKEN_ALG];
	if (logout == NULL && old != NULL)
		logout = old->post_logout_redirect_uris;
	if (alg == NULL && old != NULL)
		alg = old->id_token_alg;
	const struct pt_app_posted in = {p->v[AF_NAME], p->n[AF_NAME], p->v[AF_DESCRIPTION],
	    p->n[AF_DESCRIPTION], p->v[AF_REDIRECT_URIS], p->v[AF_SCOPE], p->v[AF_TYPE],
	    p->v[AF_PICTURE], p->n[AF_PICTURE], logout, alg};
	const char *err = pt_app_form_read(r->ctx.a, r->ctx.cfg, &in, f);
	/* only an administrator marks an app trusted; anyone else keeps what it was */
	f->trusted = u->admin ? is_yes(p, AF_TRUSTED) : (old != NULL && old->trusted);
	f->require_pkce = is_yes(p, AF_REQUIRE_PKCE);
	f->remember_consent = is_yes(p, AF_REMEMBER);
	f->remove_picture = is_yes(p, AF_REMOVE_PICTURE);
	f->owner_id = u->id;
	/* only an administrator allows client_credentials or JWT access tokens; anyone
	 * else keeps what the app had */
	const char *grants = old != NULL ? old->grant_types : APP_GRANT_TYPES;
	f->access_jwt = old != NULL && old->access_jwt;
	if (u->admin) {
		bool cc = is_yes(p, AF_CLIENT_CREDENTIALS);
		pt_buf g;
		pt_buf_init(&g, r->ctx.a);
		const char *s = grants;
		while (*s) {
			size_t n = strcspn(s, " ");
			if (n && !(n == 18 && strncmp(s, "client_credentials", 18) == 0)) {
				if (g.n)
					pt_buf_addc(&g, ' ');
				pt_buf_add(&g, s, n);
			}
			s += n + strspn(s + n, " ");
		}
		if (cc)
			pt_buf_adds(&g, g.n ? " client_credentials" : "client_credentials");
		grants = g.n ? g.p : "";
		f->access_jwt = is_yes(p, AF_ACCESS_JWT);
	}
	f->grant_types = grants;
	if (err == NULL && f->public && pt_word_in("client_credentials", 18, grants))
		err = "The client_credentials grant needs a confidential app: it signs in with its secret.";
	return err;
}

/* The form's values for an existing app (or the defaults of a new one). */
static void
form_from_app(const struct pt_config *c, const struct pt_app *app, struct pt_new_app *f, pt_arena *a)
{
	memset(f, 0, sizeof(*f));
	if (app == NULL) {
		f->name = f->description = f->redirect_uris = f->post_logout_redirect_uris = "";
		f->id_token_alg = pt_oidc_algs[0];
		f->scopes = c->default_scope;
		f->remember_consent = true;
		f->grant_types = APP_GRANT_TYPES;
		return;
	}
	f->grant_types = app->grant_types;
	f->access_jwt = app->access_jwt;
	f->name = app->name;
	f->description = app->description;
	f->redirect_uris = app->redirect_uris;
	f->post_logout_redirect_uris = app->post_logout_redirect_uris;
	f->id_token_alg = app->id_token_alg;
	f->public = app->public;
	f->trusted = app->trusted;
	f->require_pkce = app->require_pkce;
	f->remember_consent = app->remember_consent;
	if (*app->scopes) {
		f->scopes = app->scopes;
	} else {
		/* "" allows every configured scope: show them all ticked */
		pt_buf b;
		pt_buf_init(&b, a);
		for (size_t i = 0; i < c->nscopes; i++) {
			if (i)
				pt_buf_addc(&b, ' ');
			pt_buf_adds(&b, c->scopes[i].name);
		}
		f->scopes = b.p;
	}
}

/* The create form (app NULL) or the edit form of app. */
static void
form_page(struct pt_req *r, int status, const struct pt_user *u, const struct pt_app *app,
    const struct pt_new_app *f, const char *error, const char *notice)
{
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	if (app == NULL) {
		pt_tv_set(t, "title", "New app");
		pt_tv_set(t, "heading", "New app");
		pt_tv_set(t, "action", pt_path(r, "/oauth/apps/new"));
		pt_tv_set(t, "submit", "Create app");
	} else {
		pt_tv_setf(t, "title", "Edit %s", app->name);
		pt_tv_set(t, "heading", app->name);
		pt_tv_set(t, "editing", "1");
		pt_tv_set(t, "client_id", app->client_id);
		pt_tv_set(t, "action", app_path(r, app->client_id, ""));
		pt_tv_set(t, "rotate_action", app_path(r, app->client_id, "/rotate"));
		pt_tv_set(t, "delete_action", app_path(r, app->client_id, "/delete"));
		pt_tv_set(t, "submit", "Save changes");
		if (app->has_picture)
			pt_tv_url(t, "picture_url", app_path(r, app->client_id, "/picture"));
		if (!app->public)
			pt_tv_set(t, "has_secret", "1");
	}
	pt_tv_set(t, "apps_url", pt_path(r, "/oauth/apps"));
	pt_tv_set(t, "error", error);
	pt_tv_set(t, "notice", notice);
	pt_tv_set(t, "name", f->name);
	pt_tv_set(t, "description", f->description);
	pt_tv_set(t, "redirect_uris", f->redirect_uris);
	pt_tv_set(t, "post_logout_redirect_uris", f->post_logout_redirect_uris);
	bool ed = f->id_token_alg != NULL && strcmp(f->id_token_alg, "EdDSA") == 0;
	pt_tv_set(t, ed ? "alg_eddsa" : "alg_rs256", "1");
	pt_tv_setf(t, "name_max", "%d", PT_MAX_APP_NAME);
	pt_tv_setf(t, "desc_max", "%d", PT_MAX_APP_DESC);
	pt_tv_setf(t, "uris_max", "%d", PT_MAX_REDIRECT_URIS);
	for (size_t i = 0; i < r->ctx.cfg->nscopes; i++) {
		struct pt_tv *it = pt_tv_add(t, "scopes");
		pt_tv_set(it, "scope_name", r->ctx.cfg->scopes[i].name);
		pt_tv_set(it, "scope_desc", r->ctx.cfg->scopes[i].desc);
		pt_tv_setf(it, "scope_id", "scope-%zu", i);
		const char *name = r->ctx.cfg->scopes[i].name;
		pt_tv_set(it, "scope_checked", pt_word_in(name, strlen(name), f->scopes) ? "1" : "");
	}
	pt_tv_set(t, f->public ? "is_public" : "is_confidential", "1");
	if (u->admin)
		pt_tv_set(t, "is_admin", "1");
	pt_tv_set(t, "trusted", f->trusted ? "1" : "");
	pt_tv_set(t, "client_credentials",
	    f->grant_types != NULL && pt_word_in("client_credentials", 18, f->grant_types) ? "1" : "");
	pt_tv_set(t, "access_token_jwt", f->access_jwt ? "1" : "");
	pt_tv_set(t, "require_pkce", f->require_pkce ? "1" : "");
	pt_tv_set(t, "remember_consent", f->remember_consent ? "1" : "");
	pt_page(r, status, "apps_form", t);
}

/* The page right after create, rotate or a switch to confidential: the only time the
 * secret is ever shown. */
static void
secret_page(struct pt_req *r, const char *heading, const char *client_id, const char *name,
    const char *secret)
{
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	pt_tv_set(t, "title", heading);
	pt_tv_set(t, "heading", heading);
	pt_tv_set(t, "name", name);
	pt_tv_set(t, "client_id", client_id);
	pt_tv_set(t, "secret", secret);
	pt_tv_set(t, "app_url", app_path(r, client_id, ""));
	pt_tv_set(t, "apps_url", pt_path(r, "/oauth/apps"));
	pt_page(r, 200, "apps_secret", t);
}

/* ------------------------------------------------------------ pages */

/* GET /oauth/apps: the user's apps. */
static void
list_page(struct pt_req *r, const struct pt_user *u)
{
	struct pt_params q;
	struct pt_fail fail;
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	if (pt_req_query(r, notice_fields, NQ__MAX, &q, &fail) == PT_OK && q.v[NQ_DONE] != NULL &&
	    strcmp(q.v[NQ_DONE], "deleted") == 0)
		pt_tv_set(t, "notice", "The app was deleted. Its client ID no longer works.");
	pt_tv_set(t, "title", "Your apps");
	pt_tv_set(t, "new_url", pt_path(r, "/oauth/apps/new"));
	pt_tv_set(t, "approved_url", pt_path(r, "/oauth/approved"));
	struct pt_apps_row *apps;
	size_t n;
	if (pt_db_apps_list(r->ctx.a, u->id, &apps, &n) != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server could not load your apps. Try again in a moment.");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pt_apps_row *ap = &apps[i];
		pt_tv_set(t, "has_apps", "1");
		struct pt_tv *it = pt_tv_add(t, "apps");
		pt_tv_set(it, "client_id", ap->client_id);
		pt_tv_set(it, "app_name", ap->name);
		pt_tv_setn(it, "app_initial", ap->name, pt_utf8_initial(ap->name, strlen(ap->name)));
		pt_tv_set(it, "app_description", ap->description);
		if (ap->has_picture)
			pt_tv_url(it, "app_picture", app_path(r, ap->client_id, "/picture"));
		else
			pt_tv_set(it, "app_picture", "");
		pt_tv_set(it, "app_type", ap->public ? "Public" : "Confidential");
		pt_tv_set(it, "app_trusted", ap->trusted ? "1" : "");
		pt_tv_set(it, "app_created", pt_utc_time(r->ctx.a, ap->created));
		pt_tv_setf(it, "app_users", "%lld", (long long)ap->grants);
		pt_tv_set(it, "app_url", app_path(r, ap->client_id, ""));
	}
	pt_page(r, 200, "apps", t);
}

/* GET/POST /oauth/apps/new */
/* Reads the posted app form into *f; false after answering a malformed form, a
 * failed CSRF check or an invalid field (the form again, with the message). */
static bool
form_posted(struct pt_req *r, const struct pt_user *u, const struct pt_app *app,
    struct pt_new_app *f)
{
	struct pt_params p;
	struct pt_fail fail;
	int rc = pt_req_body(r, app_fields, AF__MAX, &p, &fail);
	const char *err = form_read(r, &p, u, app, f);
	if (rc != PT_OK) {
		form_page(r, pt_error_status(PT_E_INVALID_REQUEST), u, app, f,
		    pt_printf(r->ctx.a, "The form could not be read: %s %s.", fail.param, fail.reason), NULL);
		return false;
	}
	if (!pt_csrf_ok(r, p.v[AF_CSRF], p.n[AF_CSRF])) {
		csrf_failed(r);
		return false;
	}
	if (err != NULL) {
		form_page(r, pt_error_status(PT_E_INVALID_REQUEST), u, app, f, err, NULL);
		return false;
	}
	return true;
}

static void
create(struct pt_req *r, const struct pt_user *u)
{
	struct pt_new_app f;
	if (r->ctx.cfg->apps_admins_only && !u->admin) {
		pt_fail(r, PT_E_FORBIDDEN,
		    "On this server only administrators register apps. Ask one to register yours.");
		return;
	}
	if (!pt_is_post(r)) {
		form_from_app(r->ctx.cfg, NULL, &f, r->ctx.a);
		form_page(r, 200, u, NULL, &f, NULL, NULL);
		return;
	}
	if (!form_posted(r, u, NULL, &f))
		return;
	char cid[PT_CLIENT_ID_LEN + 1], secret[PT_CLIENT_SECRET_LEN + 1];
	if (pt_app_insert(&f, cid, secret) != PT_OK) {
		sodium_memzero(secret, sizeof(secret));
		db_failed(r);
		return;
	}
	pt_info("user %s created app %s", u->name, cid);
	pt_audit("app_created", true, PT_AS("by", "user"), PT_AS("user", u->name), PT_AI("user_id", u->id),
	    PT_AS("client_id", cid), PT_AS("name", f.name), PT_AB("public", f.public),
	    PT_AS("addr", r->remote_addr));
	secret_page(r, "App created", cid, f.name, f.public ? NULL : secret);
	sodium_memzero(secret, sizeof(secret));
}

/* GET/POST /oauth/apps/<client_id> */
static void
edit(struct pt_req *r, const struct pt_user *u, const struct pt_app *app)
{
	struct pt_fail fail;
	struct pt_new_app f;
	if (!pt_is_post(r)) {
		struct pt_params q;
		const char *notice = NULL;
		if (pt_req_query(r, notice_fields, NQ__MAX, &q, &fail) == PT_OK && q.v[NQ_DONE] != NULL &&
		    strcmp(q.v[NQ_DONE], "saved") == 0)
			notice = "Your changes were saved.";
		form_from_app(r->ctx.cfg, app, &f, r->ctx.a);
		form_page(r, 200, u, app, &f, NULL, notice);
		return;
	}
	if (!form_posted(r, u, app, &f))
		return;
	/* a public app that becomes confidential needs a secret, shown once like any other */
	char secret[PT_CLIENT_SECRET_LEN + 1];
	uint8_t hash[PT_HASH_LEN];
	bool fresh = app->public && !f.public;
	pt_client_secret_new(secret, hash);
	if (pt_begin() != PT_OK)
		goto fail;
	/* the owner (f.owner_id) and the type the app was read with are part of the
	 * update: an app another save switched meanwhile changes no row, and the person
	 * tries again on what it is now */
	if (pt_db_apps_update(app->id, app->public, &f, fresh ? hash : NULL) != PT_OK)
		goto fail;
	if ((f.picture != NULL || f.remove_picture) &&
	    pt_app_picture_store(u->id, app->id, f.picture, f.picture_n, f.picture_type) != PT_OK)
		goto fail;
	if (pt_commit() != PT_OK)
		goto fail;
	sodium_memzero(hash, sizeof(hash));
	pt_audit("app_edited", true, PT_AS("by", "user"), PT_AS("user", u->name), PT_AI("user_id", u->id),
	    PT_AS("client_id", app->client_id), PT_AS("name", f.name), PT_AB("public", f.public),
	    PT_AB("secret_issued", fresh), PT_AS("addr", r->remote_addr));
	if (fresh)
		secret_page(r, "App is now confidential", app->client_id, f.name, secret);
	else
		pt_see_other(r, pt_printf(r->ctx.a, "%s?done=saved", app_path(r, app->client_id, "")));
	sodium_memzero(secret, sizeof(secret));
	return;
fail:
	pt_rollback();
	sodium_memzero(hash, sizeof(hash));
	sodium_memzero(secret, sizeof(secret));
	db_failed(r);
}

/* POST /oauth/apps/<client_id>/rotate: a new secret; the old one fails from now on,
 * tokens already issued keep working (they belong to grants, not to the secret). */
static void
rotate(struct pt_req *r, const struct pt_user *u, const struct pt_app *app)
{
	struct pt_params p;
	struct pt_fail fail;
	if (pt_req_body(r, small_fields, SF__MAX, &p, &fail) != PT_OK ||
	    !pt_csrf_ok(r, p.v[SF_CSRF], p.n[SF_CSRF])) {
		csrf_failed(r);
		return;
	}
	if (app->public) {
		pt_fail(r, PT_E_NO_SECRET, "A public app has no secret to rotate.");
		return;
	}
	char secret[PT_CLIENT_SECRET_LEN + 1];
	int rc = pt_app_rotate_secret(app->client_id, u->id, secret);
	if (rc == PT_OK) {
		pt_info("user %s rotated the secret of %s", u->name, app->client_id);
		pt_audit("app_secret_rotated", true, PT_AS("by", "user"), PT_AS("user", u->name),
		    PT_AI("user_id", u->id), PT_AS("client_id", app->client_id),
		    PT_AS("addr", r->remote_addr));
		secret_page(r, "New secret", app->client_id, app->name, secret);
	} else if (rc == PT_ERR_NOTFOUND) {
		not_found(r);
	} else {
		db_failed(r);
	}
	sodium_memzero(secret, sizeof(secret));
}

/* GET or POST /oauth/apps/<client_id>/delete asks; POST with confirm=yes deletes. */
static void
delete(struct pt_req *r, const struct pt_user *u, const struct pt_app *app)
{
	struct pt_params p;
	struct pt_fail fail;
	if (pt_is_post(r)) {
		if (pt_req_body(r, small_fields, SF__MAX, &p, &fail) != PT_OK ||
		    !pt_csrf_ok(r, p.v[SF_CSRF], p.n[SF_CSRF])) {
			csrf_failed(r);
			return;
		}
		if (p.v[SF_CONFIRM] != NULL && strcmp(p.v[SF_CONFIRM], "yes") == 0) {
			/* owned_app found it with this owner: every grant, code, token and device
			 * request goes with it, in short transactions */
			int rc = pt_app_delete(app->id);
			if (rc == PT_ERR_NOTFOUND) {
				not_found(r);
				return;
			}
			if (rc != PT_OK) {
				db_failed(r);
				return;
			}
			pt_info("user %s deleted app %s", u->name, app->client_id);
			pt_audit("app_deleted", true, PT_AS("by", "user"), PT_AS("user", u->name),
			    PT_AI("user_id", u->id), PT_AS("client_id", app->client_id),
			    PT_AS("name", app->name), PT_AS("addr", r->remote_addr));
			pt_see_other(r, pt_path(r, "/oauth/apps?done=deleted"));
			return;
		}
	}
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	pt_tv_setf(t, "title", "Delete %s?", app->name);
	pt_tv_set(t, "name", app->name);
	pt_tv_set(t, "client_id", app->client_id);
	pt_tv_set(t, "action", app_path(r, app->client_id, "/delete"));
	pt_tv_set(t, "app_url", app_path(r, app->client_id, ""));
	pt_page(r, 200, "apps_delete", t);
}

/* GET /oauth/apps/<client_id>/picture: public, because the consent page shows it. */
static void
picture(struct pt_req *r, const char *cid)
{
	size_t n = strlen(cid);
	if (n != PT_CLIENT_ID_LEN || memcmp(cid, "pca_", 4) != 0 || !pt_valid_b62ish(cid, n)) {
		pt_fail(r, PT_E_NOT_FOUND, "This app has no picture.");
		return;
	}
	struct pt_picture_row pic;
	int rc = pt_db_apps_picture_get(r->ctx.a, cid, &pic);
	if (rc == PT_OK) {
		const char *type = pic.type;
		/* only what the upload check let in is ever served, whatever the row says */
		if (strcmp(type, "image/png") != 0 && strcmp(type, "image/jpeg") != 0 &&
		    strcmp(type, "image/webp") != 0)
			type = "application/octet-stream";
		pt_header(r, "X-Content-Type-Options", "nosniff");
		pt_header(r, "Content-Security-Policy", "default-src 'none'");
		pt_header(r, "Cache-Control", "no-cache");
		pt_respond(r, 200, type, (const char *)pic.picture, pic.n);
	} else if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_NOT_FOUND, "This app has no picture.");
	} else {
		pt_fail(r, PT_E_BUSY, "The server could not load the picture. Try again in a moment.");
	}
}

/* ------------------------------------------------------------ RFC 7591 */

/* The address of the RFC 7592 client configuration endpoint, but the client id. */
static const char *
config_base(struct pt_req *r)
{
	return pt_url(r, "/oauth/register/");
}

/* POST /oauth/register: registers a client that must use PKCE: public
 * (token_endpoint_auth_method none) or confidential (client_secret_basic/_post). */
static void
reg(struct pt_req *r)
{
	struct pt_reg m;
	struct pt_reg_fail rf;

	if (!r->ctx.cfg->registration) {
		pt_fail(r, PT_E_REGISTRATION_OFF, NULL);
		return;
	}
	if (r->body_len > PT_MAX_BODY) {
		pt_fail(r, PT_E_METADATA_TOO_LARGE,
		    pt_printf(r->ctx.a, "the body is larger than %d bytes", PT_MAX_BODY));
		return;
	}
	if (strncasecmp(r->content_type, "application/json", 16) != 0 ||
	    (r->content_type[16] != '\0' && r->content_type[16] != ';' && r->content_type[16] != ' ')) {
		pt_fail(r, PT_E_CLIENT_METADATA, "the body must be application/json");
		return;
	}
	int rc = pt_register_parse(r->ctx.a, r->ctx.cfg, r->body, r->body_len, &m, &rf);
	if (rc != PT_OK) {
		enum pt_error e = rc == PT_ERR_TOOLONG ? PT_E_METADATA_TOO_LARGE
		    : strcmp(rf.error, "invalid_redirect_uri") == 0 ? PT_E_REDIRECT_URI
		    : PT_E_CLIENT_METADATA;
		assert(strcmp(pt_error_code(e), rf.error) == 0);
		pt_fail(r, e, rf.desc);
		return;
	}
	pt_buf answer;
	char cid[PT_CLIENT_ID_LEN + 1];
	if (pt_register_store(&r->ctx, &m, config_base(r), cid, &answer) != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	pt_info("registered client %s", cid);
	pt_audit("client_registered", true, PT_AS("client_id", cid), PT_AS("name", m.client_name),
	    PT_AS("auth_method", pt_reg_auth_names[m.auth_method]),
	    PT_AS("application_type", m.application_type), PT_AS("addr", r->remote_addr));
	pt_json(r, 201, &answer);
}

/* GET, PUT, DELETE /oauth/register/<client_id>: RFC 7592's client configuration
 * endpoint, with the registration access token as the Bearer token. An unknown client
 * and a wrong token get the same 401. */
static void
reg_config(struct pt_req *r)
{
	const char *cid = r->arg;
	const char *t;
	size_t tn;
	struct pt_register_row row;
	const char *op = strcmp(r->method, "PUT") == 0 ? "update"
	    : strcmp(r->method, "DELETE") == 0 ? "delete"
	    : (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) ? "read" : NULL;
	if (!r->ctx.cfg->registration) {
		pt_fail(r, PT_E_REGISTRATION_OFF, NULL);
		return;
	}
	if (op == NULL) {
		pt_header(r, "Allow", "GET, PUT, DELETE");
		pt_fail(r, PT_E_METHOD, NULL);
		return;
	}
	if (!pt_bearer(r->authorization, &t, &tn)) {
		pt_audit("client_config", false, PT_AS("op", op), PT_AS("client_id", cid),
		    PT_AS("reason", "no registration access token"), PT_AS("addr", r->remote_addr));
		pt_fail(r, PT_E_INVALID_TOKEN, "the registration access token is missing (Authorization: Bearer)");
		return;
	}
	int rc = pt_token_check(t, tn, "pra_") ? pt_db_register_get(r->ctx.a, cid, &row) : PT_ERR_NOTFOUND;
	if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	uint8_t h[PT_HASH_LEN];
	pt_hash(h, t, tn);
	if (rc == PT_ERR_NOTFOUND || !row.has_token || sodium_memcmp(h, row.token_hash, PT_HASH_LEN) != 0) {
		pt_audit("client_config", false, PT_AS("op", op), PT_AS("client_id", cid),
		    PT_AS("reason", "wrong registration access token or no such client"),
		    PT_AS("addr", r->remote_addr));
		pt_fail(r, PT_E_INVALID_TOKEN, "the registration access token is not valid for this client");
		return;
	}
	pt_buf answer;
	const char *uri = pt_printf(r->ctx.a, "%s%s", config_base(r), cid);
	if (op[0] == 'r') {
		pt_register_answer(&answer, r->ctx.a, cid, &row, uri, NULL, NULL);
		pt_json(r, 200, &answer);
		return;
	}
	if (op[0] == 'd') {
		rc = pt_app_delete(row.id);
		if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
			pt_fail(r, PT_E_BUSY, NULL);
			return;
		}
		pt_info("self-registered client %s deleted itself", cid);
		pt_audit("client_config", true, PT_AS("op", op), PT_AS("client_id", cid),
		    PT_AS("addr", r->remote_addr));
		pt_respond(r, 204, "application/json", "", 0);
		return;
	}
	/* update: the whole metadata again (RFC 7592 §2.2), the same client_id */
	if (strncasecmp(r->content_type, "application/json", 16) != 0 ||
	    (r->content_type[16] != '\0' && r->content_type[16] != ';' && r->content_type[16] != ' ')) {
		pt_fail(r, PT_E_CLIENT_METADATA, "the body must be application/json");
		return;
	}
	struct pt_reg m;
	struct pt_reg_fail rf;
	rc = pt_register_parse(r->ctx.a, r->ctx.cfg, r->body, r->body_len, &m, &rf);
	if (rc != PT_OK) {
		enum pt_error e = rc == PT_ERR_TOOLONG ? PT_E_METADATA_TOO_LARGE
		    : strcmp(rf.error, "invalid_redirect_uri") == 0 ? PT_E_REDIRECT_URI
		    : PT_E_CLIENT_METADATA;
		pt_fail(r, e, rf.desc);
		return;
	}
	if (m.client_id == NULL || strcmp(m.client_id, cid) != 0) {
		pt_fail(r, PT_E_CLIENT_METADATA, "client_id must be given and be this client's");
		return;
	}
	if (m.auth_given && strcmp(pt_reg_auth_names[m.auth_method], row.auth_method) != 0 &&
	    !(row.auth_method[0] == '\0' && m.auth_method == PT_REG_AUTH_NONE)) {
		pt_fail(r, PT_E_CLIENT_METADATA, "token_endpoint_auth_method cannot change; register"
		    " a new client instead");
		return;
	}
	rc = pt_register_update_row(&r->ctx, &m, &row);
	if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_INVALID_TOKEN, "the registration access token is not valid for this client");
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	pt_audit("client_config", true, PT_AS("op", op), PT_AS("client_id", cid),
	    PT_AS("addr", r->remote_addr));
	pt_register_answer(&answer, r->ctx.a, cid, &row, uri, NULL, NULL);
	pt_json(r, 200, &answer);
}

/* ------------------------------------------------------------ routing */

static void
apps_list(struct pt_req *r)
{
	list_page(r, r->user);
}

static void
apps_new(struct pt_req *r)
{
	create(r, r->user);
}

/* Runs fn on the app of the address (r->arg) when the signed-in user owns it; 404 for
 * anyone else's, the same answer as for no app at all. */
static void
with_owned_app(struct pt_req *r, void (*fn)(struct pt_req *, const struct pt_user *,
    const struct pt_app *))
{
	struct pt_app app;
	int rc = owned_app(r, r->user, r->arg, &app);
	if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_BUSY, "The server could not load the app. Try again in a moment.");
		return;
	}
	if (rc != PT_OK) {
		not_found(r);
		return;
	}
	fn(r, r->user, &app);
}

static void
app_edit(struct pt_req *r)
{
	with_owned_app(r, edit);
}

static void
app_rotate(struct pt_req *r)
{
	with_owned_app(r, rotate);
}

static void
app_delete(struct pt_req *r)
{
	with_owned_app(r, delete);
}

static void
app_picture(struct pt_req *r)
{
	picture(r, r->arg);
}

/* The first row that matches wins: /oauth/apps/new before /oauth/apps/<client_id>. */
/* GET /oauth/metrics: the Prometheus text exposition of every process's counters (the
 * shared file) and of the database gauges, which this worker keeps for
 * PT_METRICS_GAUGE_CACHE seconds: counting the tokens scans their table. nginx lets
 * only loopback addresses in. */
static void
metrics(struct pt_req *r)
{
	static struct pt_metrics_counts_row gauges;
	static int64_t counted_at;
	static bool counted;
	if (!pt_metrics_shared()) {
		pt_fail(r, PT_E_SERVER, "the metrics file could not be opened (see the log)");
		return;
	}
	int64_t now = pt_now();
	if (!counted || now - counted_at >= PT_METRICS_GAUGE_CACHE || now < counted_at) {
		/* a database that cannot be read leaves the gauges out, not the counters */
		counted = pt_db_metrics_counts(now, &gauges) == PT_OK;
		counted_at = now;
	}
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_metrics_render(&b, counted ? &gauges : NULL);
	pt_respond(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.p, b.n);
}

static const struct pt_route routes[] = {
	/* methods         path                     face     needs                  handler */
	{PT_POST,          "/oauth/register",        PT_API,  0,                     reg},
	{PT_GET | PT_OTHER, "/oauth/register/*",     PT_API,  0,                     reg_config},
	{PT_GET,           "/oauth/metrics",         PT_API,  0,                     metrics},
	{PT_GET,           "/oauth/apps",            PT_PAGE, PT_SESSION,            apps_list},
	{PT_GET,           "/oauth/apps/",           PT_PAGE, PT_SESSION,            apps_list},
	{PT_GET | PT_POST, "/oauth/apps/new",        PT_PAGE, PT_SESSION | PT_CSRF,  apps_new},
	{PT_GET | PT_POST, "/oauth/apps/*",          PT_PAGE, PT_SESSION | PT_CSRF,  app_edit},
	{PT_GET,           "/oauth/apps/*/picture",  PT_PAGE, 0,                     app_picture},
	{PT_POST,          "/oauth/apps/*/rotate",   PT_PAGE, PT_SESSION | PT_CSRF,  app_rotate},
	{PT_GET | PT_POST, "/oauth/apps/*/delete",   PT_PAGE, PT_SESSION | PT_CSRF,  app_delete},
};

int
main(void)
{
	static const struct pt_site site = {"apps", PT_MAX_UPLOAD_BODY, PT_PAGE, "/oauth/apps",
	    routes, sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
