/* store_apps.c: the storage functions of the apps pages, registration, app pictures,
 * the approved-apps pages, guess counting and revocation; the readers of their rows. */
#include <string.h>

#include "store.h"

/* A text bound with its length; "" for NULL, since these columns are NOT NULL. */
static void
bind_text(struct pt_st *st, int i, const char *s)
{
	st_text(st, i, s != NULL ? s : "");
}

/* Room for one more of n elements of size sz in *arr (capacity *cap), in the arena. */
static void *
grow(pt_arena *a, void *arr, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return arr;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = pt_alloc(a, ncap * sz);
	if (n)
		memcpy(p, arr, n * sz);
	*cap = ncap;
	return p;
}

/* ------------------------------------------------------------ apps */

/* Q_APP_INSERT (RETURNING id) */
static int64_t
read_app_id(struct pt_st *st)
{
	return st_col_int(st, 0);
}

int
pt_db_app_insert(const struct pt_new_app *f, const char *cid, const uint8_t *secret_hash,
    int64_t now, int64_t *id)
{
	struct pt_st *st = st_get(Q_APP_INSERT);
	*id = 0;
	st_textn(st, 1, cid, PT_CLIENT_ID_LEN);
	if (secret_hash != NULL)
		st_blob(st, 2, secret_hash, PT_HASH_LEN);
	else
		st_null(st, 2);
	if (f->owner_id > 0)
		st_int(st, 3, f->owner_id);
	else
		st_null(st, 3);
	bind_text(st, 4, f->name);
	bind_text(st, 5, f->description);
	bind_text(st, 6, f->redirect_uris);
	bind_text(st, 7, f->scopes);
	bind_text(st, 8, f->grant_types);
	st_int(st, 9, f->public);
	st_int(st, 10, f->trusted);
	st_int(st, 11, f->require_pkce);
	st_int(st, 12, f->remember_consent);
	st_int(st, 13, f->resource_server);
	st_int(st, 14, now);
	st_text(st, 15, f->id_token_alg != NULL ? f->id_token_alg : pt_oidc_algs[0]);
	st_text(st, 16, f->post_logout_redirect_uris != NULL ? f->post_logout_redirect_uris : "");
	st_text(st, 17, f->access_jwt ? "jwt" : "opaque");
	st_int(st, 18, f->require_dpop);
	int rc = st_one(st);
	if (rc == PT_OK) {
		*id = read_app_id(st);
		st_reset(st);
	}
	/* an INSERT … RETURNING with no row would be a broken statement, not a missing app */
	return rc == PT_ERR_NOTFOUND ? PT_ERR_DB : rc;
}

int
pt_db_app_picture_set(int64_t owner_id, int64_t app_id, const void *picture, size_t n,
    const char *type)
{
	struct pt_st *st = st_get(Q_APP_PICTURE_SET);
	st_blob(st, 1, picture, n);
	bind_text(st, 2, type);
	st_int(st, 3, app_id);
	st_int(st, 4, owner_id);
	return st_exec(st);
}

int
pt_db_app_picture_clear(int64_t owner_id, int64_t app_id)
{
	struct pt_st *st = st_get(Q_APP_PICTURE_CLEAR);
	st_int(st, 1, app_id);
	st_int(st, 2, owner_id);
	return st_exec(st);
}

int
pt_db_app_rotate(const char *client_id, int64_t owner_id, const uint8_t hash[PT_HASH_LEN])
{
	struct pt_st *st = st_get(Q_APP_ROTATE);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_text(st, 2, client_id);
	if (owner_id > 0)
		st_int(st, 3, owner_id);
	else
		st_null(st, 3);
	int rc = st_exec_one_durable(st);
	return rc;
}

/* Q_APPS_LIST */
static void
read_apps_row(pt_arena *a, struct pt_st *st, struct pt_apps_row *r)
{
	r->client_id = st_col_text(a, st, 0);
	r->name = st_col_text(a, st, 1);
	r->description = st_col_text(a, st, 2);
	r->has_picture = st_col_int(st, 3) != 0;
	r->public = st_col_int(st, 4) != 0;
	r->trusted = st_col_int(st, 5) != 0;
	r->created = st_col_int(st, 6);
	r->grants = st_col_int(st, 7);
}

int
pt_db_apps_list(pt_arena *a, int64_t owner_id, struct pt_apps_row **rows, size_t *n)
{
	struct pt_st *st = st_get(Q_APPS_LIST);
	struct pt_apps_row *arr = NULL;
	size_t cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	st_int(st, 1, owner_id);
	while ((rc = st_step(st)) == ST_ROW) {
		arr = grow(a, arr, *n, &cap, sizeof(*arr));
		read_apps_row(a, st, &arr[(*n)++]);
	}
	st_reset(st);
	if (rc != ST_DONE) {
		*n = 0;
		return rc;
	}
	*rows = arr;
	return PT_OK;
}

int
pt_db_apps_get(pt_arena *a, const char *client_id, int64_t owner_id, struct pt_app *app)
{
	struct pt_st *st = st_get(Q_APPS_GET);
	memset(app, 0, sizeof(*app));
	st_text(st, 1, client_id);
	st_int(st, 2, owner_id);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	st_read_app(a, st, app);
	app->owner_id = owner_id;
	st_reset(st);
	return PT_OK;
}

int
pt_db_apps_update(int64_t app_id, bool was_public, const struct pt_new_app *f,
    const uint8_t *new_hash)
{
	struct pt_st *st = st_get(Q_APPS_UPDATE);
	bind_text(st, 1, f->name);
	bind_text(st, 2, f->description);
	bind_text(st, 3, f->redirect_uris);
	bind_text(st, 4, f->scopes);
	st_int(st, 5, f->trusted);
	st_int(st, 6, f->require_pkce);
	st_int(st, 7, f->remember_consent);
	st_int(st, 8, app_id);
	st_int(st, 9, f->public);
	if (new_hash != NULL)
		st_blob(st, 10, new_hash, PT_HASH_LEN);
	else
		st_null(st, 10);
	st_int(st, 11, f->owner_id);
	st_int(st, 12, was_public);
	st_text(st, 13, f->id_token_alg != NULL ? f->id_token_alg : pt_oidc_algs[0]);
	st_text(st, 14, f->post_logout_redirect_uris != NULL ? f->post_logout_redirect_uris : "");
	st_text(st, 15, f->grant_types);
	st_text(st, 16, f->access_jwt ? "jwt" : "opaque");
	int rc = st_exec_one(st);
	return rc;
}

/* Q_APPS_PICTURE_GET */
static void
read_picture(pt_arena *a, struct pt_st *st, struct pt_picture_row *r)
{
	r->picture = st_col_blob(a, st, 0, &r->n);
	r->type = st_col_text(a, st, 1);
}

int
pt_db_apps_picture_get(pt_arena *a, const char *client_id, struct pt_picture_row *r)
{
	struct pt_st *st = st_get(Q_APPS_PICTURE_GET);
	memset(r, 0, sizeof(*r));
	st_text(st, 1, client_id);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_picture(a, st, r);
	st_reset(st);
	return PT_OK;
}

/* ------------------------------------------------------------ registration */

static void
bind_text_or_null(struct pt_st *st, int i, const char *s)
{
	if (s != NULL)
		st_text(st, i, s);
	else
		st_null(st, i);
}

int
pt_db_register_insert(const char *cid, const struct pt_register_row *r)
{
	struct pt_st *st = st_get(Q_REGISTER_INSERT);
	st_textn(st, 1, cid, PT_CLIENT_ID_LEN);
	bind_text(st, 2, r->name);
	bind_text(st, 3, r->redirect_uris);
	bind_text(st, 4, r->scopes);
	bind_text(st, 5, r->grant_types);
	st_int(st, 6, r->created);
	st_text(st, 7, r->id_token_alg);
	bind_text(st, 8, r->post_logout_redirect_uris);
	bind_text(st, 9, r->auth_method);
	bind_text(st, 10, r->application_type);
	st_blob(st, 11, r->token_hash, PT_HASH_LEN);
	st_int(st, 12, r->has_secret ? 0 : 1);
	if (r->has_secret)
		st_blob(st, 13, r->secret_hash, PT_HASH_LEN);
	else
		st_null(st, 13);
	bind_text_or_null(st, 14, r->client_uri);
	bind_text_or_null(st, 15, r->policy_uri);
	bind_text_or_null(st, 16, r->tos_uri);
	st_int(st, 17, r->require_dpop);
	return st_exec(st);
}

int
pt_db_app_consent_info(pt_arena *a, int64_t app_id, struct pt_app_consent_row *r)
{
	struct pt_st *st = st_get(Q_APP_CONSENT_INFO);
	memset(r, 0, sizeof(*r));
	st_int(st, 1, app_id);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	r->client_uri = st_col_text_or_null(a, st, 0);
	r->policy_uri = st_col_text_or_null(a, st, 1);
	r->tos_uri = st_col_text_or_null(a, st, 2);
	r->owner_name = st_col_text_or_null(a, st, 3);
	r->owner_is_admin = st_col_int(st, 4) != 0;
	st_reset(st);
	return PT_OK;
}

int
pt_db_register_get(pt_arena *a, const char *cid, struct pt_register_row *r)
{
	struct pt_st *st = st_get(Q_REGISTER_GET);
	memset(r, 0, sizeof(*r));
	st_text(st, 1, cid);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	r->id = st_col_int(st, 0);
	r->name = st_col_text(a, st, 1);
	r->redirect_uris = st_col_text(a, st, 2);
	r->scopes = st_col_text(a, st, 3);
	r->grant_types = st_col_text(a, st, 4);
	r->created = st_col_int(st, 5);
	r->id_token_alg = st_col_text(a, st, 6);
	r->post_logout_redirect_uris = st_col_text(a, st, 7);
	r->auth_method = st_col_text(a, st, 8);
	r->application_type = st_col_text(a, st, 9);
	size_t n = 0;
	const uint8_t *h = st_col_blob(a, st, 10, &n);
	r->has_token = h != NULL && n == PT_HASH_LEN;
	if (r->has_token)
		memcpy(r->token_hash, h, PT_HASH_LEN);
	r->client_uri = st_col_text_or_null(a, st, 11);
	r->policy_uri = st_col_text_or_null(a, st, 12);
	r->tos_uri = st_col_text_or_null(a, st, 13);
	r->has_secret = st_col_int(st, 14) == 0;
	r->require_dpop = st_col_int(st, 15) != 0;
	st_reset(st);
	return PT_OK;
}

int
pt_db_register_update(const struct pt_register_row *r)
{
	struct pt_st *st = st_get(Q_REGISTER_UPDATE);
	st_int(st, 1, r->id);
	bind_text(st, 2, r->name);
	bind_text(st, 3, r->redirect_uris);
	bind_text(st, 4, r->scopes);
	bind_text(st, 5, r->grant_types);
	st_text(st, 6, r->id_token_alg);
	bind_text(st, 7, r->post_logout_redirect_uris);
	bind_text(st, 8, r->application_type);
	bind_text_or_null(st, 9, r->client_uri);
	bind_text_or_null(st, 10, r->policy_uri);
	bind_text_or_null(st, 11, r->tos_uri);
	st_int(st, 12, r->require_dpop);
	int rc = st_exec_one(st);
	return rc;
}

/* ------------------------------------------------------------ approved apps */

/* Q_APPROVED_LIST and Q_APPROVED_GET (the same columns) */
static void
read_approved(pt_arena *a, struct pt_st *st, struct pt_approved_row *r)
{
	r->grant_id = st_col_int(st, 0);
	r->client_id = st_col_text(a, st, 1);
	r->app_name = st_col_text(a, st, 2);
	r->has_picture = st_col_int(st, 3) != 0;
	r->org_name = st_col_text(a, st, 4);
	r->scope = st_col_text(a, st, 5);
	r->created = st_col_int(st, 6);
	r->last_used = st_col_null(st, 7) ? 0 : st_col_int(st, 7);
}

int
pt_db_approved_list(pt_arena *a, int64_t user_id, struct pt_approved_row **rows, size_t *n)
{
	struct pt_st *st = st_get(Q_APPROVED_LIST);
	struct pt_approved_row *arr = NULL;
	size_t cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	st_int(st, 1, user_id);
	while ((rc = st_step(st)) == ST_ROW) {
		arr = grow(a, arr, *n, &cap, sizeof(*arr));
		read_approved(a, st, &arr[(*n)++]);
	}
	st_reset(st);
	if (rc != ST_DONE) {
		*n = 0;
		return rc;
	}
	*rows = arr;
	return PT_OK;
}

int
pt_db_approved_get(pt_arena *a, int64_t grant_id, int64_t user_id, struct pt_approved_row *r)
{
	struct pt_st *st = st_get(Q_APPROVED_GET);
	memset(r, 0, sizeof(*r));
	st_int(st, 1, grant_id);
	st_int(st, 2, user_id);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_approved(a, st, r);
	st_reset(st);
	return PT_OK;
}

int
pt_db_approved_delete(int64_t grant_id, int64_t user_id)
{
	struct pt_st *st = st_get(Q_APPROVED_DELETE);
	st_int(st, 1, grant_id);
	st_int(st, 2, user_id);
	int rc = st_exec_one(st);
	return rc;
}

/* ------------------------------------------------------------ attempts */

/* Q_ATTEMPTS_GET: one row, the sum */
static int64_t
read_attempts(struct pt_st *st)
{
	return st_col_int(st, 0);
}

int
pt_db_attempts_get(const char *key, int64_t since, int64_t *count)
{
	struct pt_st *st = st_get(Q_ATTEMPTS_GET);
	*count = 0;
	st_text(st, 1, key);
	st_int(st, 2, since);
	int rc = st_one(st);
	if (rc == PT_OK) {
		*count = read_attempts(st);
		st_reset(st);
	}
	/* an aggregate always has its row */
	return rc == PT_ERR_NOTFOUND ? PT_ERR_DB : rc;
}

int
pt_db_attempts_add(const char *key, int64_t window)
{
	struct pt_st *st = st_get(Q_ATTEMPTS_ADD);
	st_text(st, 1, key);
	st_int(st, 2, window);
	return st_exec(st);
}

/* ------------------------------------------------------------ revocation */

/* Q_REVOCABLE_GET */
static void
read_revocable(struct pt_st *st, struct pt_revocable_row *r)
{
	r->token_id = st_col_int(st, 0);
	r->grant_id = st_col_int(st, 1);
	r->kind = (enum pt_token_kind)st_col_int(st, 2);
	r->app_id = st_col_int(st, 3);
}

int
pt_db_revocable_get(const uint8_t hash[PT_HASH_LEN], struct pt_revocable_row *r)
{
	struct pt_st *st = st_get(Q_REVOCABLE_GET);
	memset(r, 0, sizeof(*r));
	st_blob(st, 1, hash, PT_HASH_LEN);
	int rc = st_one(st);
	if (rc == PT_ERR_NOTFOUND) {
		/* an app's own token (client_credentials): grant 0 */
		st = st_get(Q_CLIENT_REVOCABLE_GET);
		st_blob(st, 1, hash, PT_HASH_LEN);
		rc = st_one(st);
	}
	if (rc != PT_OK)
		return rc;
	read_revocable(st, r);
	st_reset(st);
	return PT_OK;
}

int
pt_db_revocable_delete(const struct pt_revocable_row *r)
{
	/* codes and tokens of a grant go with it (ON DELETE CASCADE) */
	bool access = r->kind == PT_KIND_ACCESS;
	struct pt_st *st;
	if (r->grant_id == 0) {
		/* an app's own token (client_credentials) */
		st = st_get(Q_CLIENT_TOKEN_DELETE);
		st_int(st, 1, r->token_id);
		return st_exec(st);
	}
	st = st_get(access ? Q_TOKEN_DELETE : Q_GRANT_DELETE);
	st_int(st, 1, access ? r->token_id : r->grant_id);
	return st_exec(st);
}
