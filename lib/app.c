/* app.c: making and checking apps, shared by the apps pages and the admin command:
 * client ids and secrets, the app form's checks, the redirect-URI list, the insert. */
#include <assert.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

void
pt_client_id_new(char out[PT_CLIENT_ID_LEN + 1])
{
	memcpy(out, "pca_", 4);
	pt_random_b62(out + 4, PT_CLIENT_ID_LEN - 4);
	out[PT_CLIENT_ID_LEN] = '\0';
}

void
pt_client_secret_new(char out[PT_CLIENT_SECRET_LEN + 1], uint8_t hash[PT_HASH_LEN])
{
	memcpy(out, "pcs_", 4);
	pt_random_b62(out + 4, PT_CLIENT_SECRET_LEN - 4);
	out[PT_CLIENT_SECRET_LEN] = '\0';
	pt_hash(hash, out, PT_CLIENT_SECRET_LEN);
}

const char *
pt_picture_type(const char *p, size_t n)
{
	if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 3 && memcmp(p, "\xff\xd8\xff", 3) == 0)
		return "image/jpeg";
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return "image/webp";
	return NULL;
}

void
pt_uri_list_parse(pt_arena *a, const char *s, size_t n, struct pt_uri_list *out)
{
	pt_buf uris;
	memset(out, 0, sizeof(*out));
	pt_buf_init(&uris, a);
	const char *end = s + n;
	while (s < end) {
		size_t k = 0;
		while (s + k < end && s[k] != '\n')
			k++;
		char *line = pt_trimmed(a, s, k);
		size_t ln = strlen(line);
		s += k < (size_t)(end - s) ? k + 1 : k;
		if (ln == 0)
			continue;
		if (out->bad == NULL && !pt_redirect_uri_valid(line, ln))
			out->bad = line;
		if (uris.n && !out->repeated) {
			for (const char *q = uris.p; *q;) {
				size_t qk = strcspn(q, "\n");
				if (qk == ln && memcmp(q, line, ln) == 0)
					out->repeated = true;
				q += qk;
				if (*q)
					q++;
			}
		}
		if (uris.n)
			pt_buf_addc(&uris, '\n');
		pt_buf_add(&uris, line, ln);
		out->count++;
	}
	out->uris = uris.n ? uris.p : "";
}

/* Line breaks as '\n' only (a browser sends CRLF). */
static char *
unix_lines(pt_arena *a, const char *s, size_t n)
{
	char *o = pt_alloc(a, n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r') {
			if (i + 1 < n && s[i + 1] == '\n')
				continue;
			o[j++] = '\n';
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	return o;
}

/* The scopes of want ('\n'-separated) that the config has, space-separated in config
 * order; *unknown: the first one it does not have, or NULL. */
static const char *
scopes_in_config_order(pt_arena *a, const struct pt_config *cfg, const char *want,
    const char **unknown)
{
	pt_buf sc;
	pt_buf_init(&sc, a);
	*unknown = NULL;
	for (const char *w = want; *w;) {
		size_t k = strcspn(w, "\n");
		if (k && pt_config_scope(cfg, w, k) == NULL && *unknown == NULL)
			*unknown = pt_strndup(a, w, k);
		w += k;
		if (*w)
			w++;
	}
	for (size_t i = 0; i < cfg->nscopes; i++) {
		const char *nm = cfg->scopes[i].name;
		size_t nl = strlen(nm);
		bool on = false;
		for (const char *w = want; *w && !on;) {
			size_t k = strcspn(w, "\n");
			on = k == nl && memcmp(w, nm, nl) == 0;
			w += k;
			if (*w)
				w++;
		}
		if (on) {
			if (sc.n)
				pt_buf_addc(&sc, ' ');
			pt_buf_add(&sc, nm, nl);
		}
	}
	return sc.n ? sc.p : "";
}

const char *
pt_app_form_read(pt_arena *a, const struct pt_config *cfg, const struct pt_app_posted *in,
    struct pt_new_app *f)
{
	struct pt_uri_list uris;
	memset(f, 0, sizeof(*f));
	f->name = in->name ? pt_trimmed(a, in->name, in->name_n) : "";
	f->description = "";
	if (in->description != NULL) {
		char *d = unix_lines(a, in->description, in->description_n);
		f->description = pt_trimmed(a, d, strlen(d));
	}
	f->public = in->type != NULL && strcmp(in->type, "public") == 0;
	const char *list = in->redirect_uris ? in->redirect_uris : "";
	pt_uri_list_parse(a, list, strlen(list), &uris);
	f->redirect_uris = uris.uris;
	const char *unknown;
	f->scopes = scopes_in_config_order(a, cfg, in->scopes ? in->scopes : "", &unknown);
	f->picture = in->picture;
	f->picture_n = in->picture_n;
	struct pt_uri_list logout;
	const char *llist = in->post_logout_redirect_uris ? in->post_logout_redirect_uris : "";
	pt_uri_list_parse(a, llist, strlen(llist), &logout);
	f->post_logout_redirect_uris = logout.uris;
	f->id_token_alg = in->id_token_alg ? in->id_token_alg : pt_oidc_algs[0];

	/* now the checks, in the order of the form */
	size_t nl = strlen(f->name);
	if (nl == 0)
		return "Enter a name for the app.";
	if (pt_utf8_len(f->name, nl) > PT_MAX_APP_NAME)
		return pt_printf(a, "The name is longer than %d characters.", PT_MAX_APP_NAME);
	const char *why = pt_display_text_problem(a, f->name, nl, false);
	if (why != NULL)
		return pt_printf(a, "The name %s.", why);
	if (pt_utf8_len(f->description, strlen(f->description)) > PT_MAX_APP_DESC)
		return pt_printf(a, "The description is longer than %d characters.", PT_MAX_APP_DESC);
	why = pt_display_text_problem(a, f->description, strlen(f->description), true);
	if (why != NULL)
		return pt_printf(a, "The description %s.", why);
	if (f->picture != NULL) {
		if (f->picture_n > PT_MAX_PICTURE)
			return pt_printf(a, "The picture is larger than 1 MiB (%d bytes): upload a smaller one.",
			    PT_MAX_PICTURE);
		f->picture_type = pt_picture_type(f->picture, f->picture_n);
		if (f->picture_type == NULL) {
			if (f->picture_n >= 4 && memcmp(f->picture, "GIF8", 4) == 0)
				return "The picture is a GIF: upload a PNG, JPEG or WebP image instead.";
			return "The picture is not a PNG, JPEG or WebP image (the file's content is "
			       "checked, not its name).";
		}
	}
	if (uris.count == 0)
		return "Enter at least one redirect URI.";
	if (uris.count > PT_MAX_REDIRECT_URIS)
		return pt_printf(a, "An app has at most %d redirect URIs.", PT_MAX_REDIRECT_URIS);
	if (uris.bad != NULL)
		return pt_printf(a, "The redirect URI %s is not valid: it must be an absolute https URI "
		    "(or http on 127.0.0.1, [::1] or localhost), without a fragment, at most %d bytes.",
		    uris.bad, PT_MAX_REDIRECT_URI);
	if (uris.repeated)
		return "A redirect URI is listed twice.";
	if (unknown != NULL)
		return pt_printf(a, "The scope %s is not one this server offers.", unknown);
	if (*f->scopes == '\0')
		return "Choose at least one scope the app may ask for.";
	if (in->type == NULL ||
	    (strcmp(in->type, "public") != 0 && strcmp(in->type, "confidential") != 0))
		return "Choose whether the app is confidential or public.";
	if (logout.count > PT_MAX_REDIRECT_URIS)
		return pt_printf(a, "An app has at most %d post-logout redirect URIs.", PT_MAX_REDIRECT_URIS);
	if (logout.bad != NULL)
		return pt_printf(a, "The post-logout redirect URI %s is not valid: it must be an absolute "
		    "https URI (or http on 127.0.0.1, [::1] or localhost), without a fragment, at most %d bytes.",
		    logout.bad, PT_MAX_REDIRECT_URI);
	if (logout.repeated)
		return "A post-logout redirect URI is listed twice.";
	if (!pt_oidc_alg_ok(f->id_token_alg))
		return "Choose RS256 or EdDSA to sign the app's ID tokens.";
	return NULL;
}

int
pt_app_picture_store(int64_t owner_id, int64_t app_id, const char *picture, size_t n,
    const char *type)
{
	if (picture == NULL)
		return pt_db_app_picture_clear(owner_id, app_id);
	assert(type != NULL);
	return pt_db_app_picture_set(owner_id, app_id, picture, n, type);
}

int
pt_app_insert(const struct pt_new_app *f, char cid[PT_CLIENT_ID_LEN + 1],
    char secret[PT_CLIENT_SECRET_LEN + 1])
{
	uint8_t hash[PT_HASH_LEN];
	int64_t id;
	assert(f->name != NULL && f->redirect_uris != NULL && f->scopes != NULL &&
	    f->grant_types != NULL);
	pt_client_id_new(cid);
	pt_client_secret_new(secret, hash);
	int rc = pt_begin();
	if (rc != PT_OK)
		return rc;
	rc = pt_db_app_insert(f, cid, f->public ? NULL : hash, pt_now(), &id);
	if (rc == PT_OK && f->picture != NULL)
		rc = pt_app_picture_store(f->owner_id, id, f->picture, f->picture_n, f->picture_type);
	if (rc == PT_OK)
		rc = pt_commit();
	if (rc != PT_OK)
		pt_rollback();
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int
pt_app_rotate_secret(const char *client_id, int64_t owner_id,
    char secret[PT_CLIENT_SECRET_LEN + 1])
{
	uint8_t hash[PT_HASH_LEN];
	pt_client_secret_new(secret, hash);
	int rc = pt_db_app_rotate(client_id, owner_id, hash); /* durable: the old secret never works again */
	sodium_memzero(hash, sizeof(hash));
	if (rc != PT_OK)
		sodium_memzero(secret, PT_CLIENT_SECRET_LEN + 1);
	return rc;
}
