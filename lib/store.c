/* store.c: the storage functions of users, sessions, organizations and the OAuth core (apps, grants, codes, tokens, consent requests), on either backend. */
#include <string.h>

#include "store.h"

/* After the one row of a statement that changes rows (… RETURNING) was read: runs it to
 * its end, so its changes are counted and its locks are those of a finished statement. */
static int
finish(struct pt_st *st)
{
	int rc;
	while ((rc = st_step(st)) == ST_ROW)
		;
	st_reset(st);
	return rc == ST_DONE ? PT_OK : rc;
}

/* Room for one more row in an arena array of *n rows of size bytes: small per-user lists,
 * doubled as they grow (the arena keeps the old array until the request ends). */
static void *
grow(pt_arena *a, void *rows, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return rows;
	*cap = *cap ? *cap * 2 : 4;
	void *more = pt_alloc(a, *cap * size);
	if (n)
		memcpy(more, rows, n * size);
	return more;
}

/* ================================================ users, sessions, organizations */

/* Q_USER_BY_NAME: id, name, password, is_admin */
static void
read_login(pt_arena *a, struct pt_st *st, struct pt_login_row *r)
{
	r->id = st_col_int(st, 0);
	r->name = st_col_text(a, st, 1);
	r->password = st_col_text_or_null(a, st, 2);
	r->admin = st_col_int(st, 3) != 0;
}

int
pt_db_user_by_name(pt_arena *a, const char *name, size_t n, struct pt_login_row *r)
{
	struct pt_st *st = st_get(Q_USER_BY_NAME);
	st_textn(st, 1, name, n);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_login(a, st, r);
		st_reset(st);
	}
	return rc;
}

/* Q_USER_BY_ID, Q_SESSION_GET: id, name, is_admin */
static void
read_user(pt_arena *a, struct pt_st *st, struct pt_user *u)
{
	u->id = st_col_int(st, 0);
	u->name = st_col_text(a, st, 1);
	u->admin = st_col_int(st, 2) != 0;
}

int
pt_db_user_by_id(pt_arena *a, int64_t id, struct pt_user *u)
{
	struct pt_st *st = st_get(Q_USER_BY_ID);
	st_int(st, 1, id);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_user(a, st, u);
		st_reset(st);
	}
	return rc;
}

/* Q_USER_INSERT, Q_ORG_PERSONAL_INSERT, Q_GRANT_UPSERT: RETURNING id; Q_USER_APPS: id */
static void
read_id(struct pt_st *st, int64_t *id)
{
	*id = st_col_int(st, 0);
}

/* An INSERT … RETURNING id that must insert its row. */
static int
insert_returning(struct pt_st *st, int64_t *id)
{
	int rc = st_one(st);
	if (rc == PT_ERR_NOTFOUND)
		return PT_ERR_DB; /* an INSERT … VALUES always returns its row */
	if (rc != PT_OK)
		return rc;
	read_id(st, id);
	return finish(st);
}

int
pt_db_user_insert(const char *name, size_t n, const char *password_hash, bool admin, int64_t now,
    int64_t *id)
{
	struct pt_st *st = st_get(Q_USER_INSERT);
	st_textn(st, 1, name, n);
	st_text(st, 2, password_hash);
	st_int(st, 3, admin);
	st_int(st, 4, now);
	return insert_returning(st, id);
}

int
pt_db_org_personal_insert(const char *name, size_t n, int64_t user_id, int64_t now, int64_t *id)
{
	struct pt_st *st = st_get(Q_ORG_PERSONAL_INSERT);
	st_textn(st, 1, name, n);
	st_int(st, 2, user_id);
	st_int(st, 3, now);
	return insert_returning(st, id);
}

int
pt_db_member_insert(int64_t org_id, int64_t user_id, const char *role)
{
	struct pt_st *st = st_get(Q_MEMBER_INSERT);
	st_int(st, 1, org_id);
	st_int(st, 2, user_id);
	st_text(st, 3, role);
	return st_exec(st);
}

/* Q_USER_ORGS: o.id, o.name */
static void
read_org(pt_arena *a, struct pt_st *st, struct pt_org_row *r)
{
	r->id = st_col_int(st, 0);
	r->name = st_col_text(a, st, 1);
}

int
pt_db_user_orgs(pt_arena *a, int64_t user_id, struct pt_org_row **rows, size_t *n)
{
	struct pt_st *st = st_get(Q_USER_ORGS);
	st_int(st, 1, user_id);
	size_t cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	while ((rc = st_step(st)) == ST_ROW) {
		*rows = grow(a, *rows, *n, &cap, sizeof(**rows));
		read_org(a, st, &(*rows)[(*n)++]);
	}
	st_reset(st);
	if (rc != ST_DONE) {
		*n = 0;
		return rc;
	}
	return PT_OK;
}

/* Q_USER_IN_ORG: a row or none */
int
pt_db_user_in_org(int64_t user_id, int64_t org_id)
{
	struct pt_st *st = st_get(Q_USER_IN_ORG);
	st_int(st, 1, user_id);
	st_int(st, 2, org_id);
	int rc = st_one(st);
	st_reset(st);
	return rc;
}

int
pt_db_session_insert(const uint8_t hash[PT_HASH_LEN], int64_t user_id, int64_t now, int64_t expires)
{
	struct pt_st *st = st_get(Q_SESSION_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, user_id);
	st_int(st, 3, now);
	st_int(st, 4, expires);
	return st_exec(st);
}

int
pt_db_session_user(pt_arena *a, const uint8_t hash[PT_HASH_LEN], int64_t now, struct pt_user *u)
{
	struct pt_st *st = st_get(Q_SESSION_GET);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, now);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_user(a, st, u);
		u->auth_time = st_col_int(st, 3); /* a session starts at sign-in */
		st_reset(st);
	}
	return rc;
}

int
pt_db_session_delete(const uint8_t hash[PT_HASH_LEN])
{
	struct pt_st *st = st_get(Q_SESSION_DELETE);
	st_blob(st, 1, hash, PT_HASH_LEN);
	return st_exec_durable(st);
}

int
pt_db_sessions_delete_user(int64_t user_id, int64_t *ended)
{
	struct pt_st *st = st_get(Q_SESSIONS_END_ALL);
	st_int(st, 1, user_id);
	int rc = st_exec_durable(st);
	if (ended != NULL)
		*ended = rc == PT_OK ? st_changes(st) : 0;
	return rc;
}

/* ================================================ apps as the OAuth core reads them */

/* Q_APP_BY_CLIENT_ID, Q_APPS_GET: APP_COLUMNS (sql.c) */
void
st_read_app(pt_arena *a, struct pt_st *st, struct pt_app *app)
{
	app->id = st_col_int(st, 0);
	app->client_id = st_col_text(a, st, 1);
	app->name = st_col_text(a, st, 2);
	app->description = st_col_text(a, st, 3);
	app->has_picture = st_col_int(st, 4) != 0;
	app->redirect_uris = st_col_text(a, st, 5);
	app->scopes = st_col_text(a, st, 6);
	app->public = st_col_int(st, 7) != 0;
	app->trusted = st_col_int(st, 8) != 0;
	app->require_pkce = st_col_int(st, 9) != 0;
	app->remember_consent = st_col_int(st, 10) != 0;
	app->grant_types = st_col_text(a, st, 11);
	app->has_secret = st_col_fixed(st, 12, app->secret_hash, PT_HASH_LEN);
	app->owner_id = st_col_int(st, 13);
	app->registered = st_col_int(st, 14) != 0;
	app->resource_server = st_col_int(st, 15) != 0;
	app->vouched = !app->registered && st_col_int(st, 16) != 0;
	app->id_token_alg = st_col_text(a, st, 17);
	app->post_logout_redirect_uris = st_col_text(a, st, 18);
	app->access_jwt = strcmp(st_col_text(a, st, 19), "jwt") == 0;
	app->require_dpop = st_col_int(st, 20) != 0;
}

int
pt_db_app_by_client_id(pt_arena *a, const char *client_id, size_t n, struct pt_app *app)
{
	struct pt_st *st = st_get(Q_APP_BY_CLIENT_ID);
	st_textn(st, 1, client_id, n);
	int rc = st_one(st);
	if (rc == PT_OK) {
		st_read_app(a, st, app);
		st_reset(st);
	}
	return rc;
}

int
pt_db_app_disable(int64_t app_id)
{
	struct pt_st *st = st_get(Q_APP_DISABLE);
	st_int(st, 1, app_id);
	return st_exec_one_durable(st);
}

/* A "DELETE … WHERE id IN (SELECT … WHERE x = ?1 LIMIT ?2)" statement, durable. */
static int
delete_batch(enum pt_q q, int64_t id, int limit, int64_t *deleted)
{
	struct pt_st *st = st_get(q);
	st_int(st, 1, id);
	st_int(st, 2, limit);
	int rc = st_exec_durable(st);
	*deleted = rc == PT_OK ? st_changes(st) : 0;
	return rc;
}

int
pt_db_app_tokens_delete_batch(int64_t app_id, int limit, int64_t *deleted)
{
	return delete_batch(Q_APP_TOKENS_BATCH, app_id, limit, deleted);
}

int
pt_db_app_grants_delete_batch(int64_t app_id, int limit, int64_t *deleted)
{
	return delete_batch(Q_APP_GRANTS_BATCH, app_id, limit, deleted);
}

int
pt_db_user_tokens_delete_batch(int64_t user_id, int limit, int64_t *deleted)
{
	return delete_batch(Q_USER_TOKENS_BATCH, user_id, limit, deleted);
}

int
pt_db_app_delete(int64_t app_id)
{
	struct pt_st *st = st_get(Q_APP_DELETE);
	st_int(st, 1, app_id);
	return st_exec_one_durable(st);
}

int
pt_db_user_delete(int64_t user_id)
{
	struct pt_st *st = st_get(Q_USER_DELETE);
	st_int(st, 1, user_id);
	return st_exec_one_durable(st);
}

int
pt_db_user_app_any(int64_t user_id, int64_t *app_id)
{
	struct pt_st *st = st_get(Q_USER_APPS);
	st_int(st, 1, user_id);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_id(st, app_id);
		st_reset(st);
	}
	return rc;
}

/* ================================================ grants, codes, tokens */

/* Q_GRANT_FIND: id, scope */
static void
read_grant(pt_arena *a, struct pt_st *st, struct pt_grant_row *r)
{
	r->id = st_col_int(st, 0);
	r->scope = st_col_text(a, st, 1);
}

int
pt_db_grant_find(pt_arena *a, int64_t user_id, int64_t app_id, int64_t org_id,
    struct pt_grant_row *r)
{
	struct pt_st *st = st_get(Q_GRANT_FIND);
	st_int(st, 1, user_id);
	st_int(st, 2, app_id);
	st_int(st, 3, org_id);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_grant(a, st, r);
		r->org_id = org_id;
		r->redirect_uri = NULL;
		st_reset(st);
	}
	return rc;
}

/* Q_GRANT_FIND_ANY: g.id, g.scope, g.org_id, g.redirect_uri */
static void
read_grant_any(pt_arena *a, struct pt_st *st, struct pt_grant_row *r)
{
	r->id = st_col_int(st, 0);
	r->scope = st_col_text(a, st, 1);
	r->org_id = st_col_int(st, 2);
	r->redirect_uri = st_col_text_or_null(a, st, 3);
}

int
pt_db_grants_of_app(pt_arena *a, int64_t user_id, int64_t app_id, struct pt_grant_row **rows,
    size_t *n)
{
	struct pt_st *st = st_get(Q_GRANT_FIND_ANY);
	st_int(st, 1, user_id);
	st_int(st, 2, app_id);
	size_t cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	while ((rc = st_step(st)) == ST_ROW) {
		*rows = grow(a, *rows, *n, &cap, sizeof(**rows));
		read_grant_any(a, st, &(*rows)[(*n)++]);
	}
	st_reset(st);
	if (rc != ST_DONE) {
		*n = 0;
		return rc;
	}
	return PT_OK;
}

int
pt_db_grant_upsert(int64_t user_id, int64_t app_id, int64_t org_id, const char *scope, int64_t now,
    const char *redirect_uri, int64_t *grant_id)
{
	struct pt_st *st = st_get(Q_GRANT_UPSERT);
	st_int(st, 1, user_id);
	st_int(st, 2, app_id);
	st_int(st, 3, org_id);
	st_text(st, 4, scope);
	st_int(st, 5, now);
	st_text(st, 6, redirect_uri);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc; /* PT_ERR_NOTFOUND: no membership, no row */
	read_id(st, grant_id);
	return finish(st);
}

int
pt_db_grant_delete(int64_t grant_id)
{
	struct pt_st *st = st_get(Q_GRANT_DELETE);
	st_int(st, 1, grant_id);
	return st_exec(st);
}

/* Q_CODE_GET: t.grant_id, t.redirect_uri, t.redirect_given, t.scope, t.challenge,
 * t.resource, t.code_expires, used, g.app_id, g.user_id, g.org_id, t.id */
static void
read_code(pt_arena *a, struct pt_st *st, struct pt_code_row *r)
{
	r->grant_id = st_col_int(st, 0);
	r->redirect_uri = st_col_text_or_null(a, st, 1);
	r->redirect_given = st_col_int(st, 2) != 0;
	r->scope = st_col_text(a, st, 3);
	r->challenge = st_col_text_or_null(a, st, 4);
	r->resource = st_col_text_or_null(a, st, 5);
	r->expires = st_col_int(st, 6); /* NULL reads 0: never live */
	r->used = st_col_int(st, 7) != 0;
	r->app_id = st_col_int(st, 8);
	r->user_id = st_col_int(st, 9);
	r->org_id = st_col_int(st, 10);
	r->id = st_col_int(st, 11);
	r->nonce = st_col_text_or_null(a, st, 12);
	r->auth_time = st_col_int(st, 13); /* NULL reads 0: unknown */
	r->jkt = st_col_text_or_null(a, st, 14);
}

int
pt_db_code_get(pt_arena *a, const uint8_t hash[PT_HASH_LEN], struct pt_code_row *r)
{
	struct pt_st *st = st_get(Q_CODE_GET);
	st_blob(st, 1, hash, PT_HASH_LEN);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_code(a, st, r);
		st_reset(st);
	}
	return rc;
}

int
pt_db_code_insert(const uint8_t hash[PT_HASH_LEN], const struct pt_code_row *c, int64_t now)
{
	struct pt_st *st = st_get(Q_CODE_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, c->grant_id);
	st_text(st, 3, c->redirect_uri);
	st_int(st, 4, c->redirect_given);
	st_text(st, 5, c->scope);
	st_text(st, 6, c->challenge);
	st_text(st, 7, c->resource);
	st_int(st, 8, c->expires);
	st_int(st, 9, now);
	st_text(st, 10, c->nonce);
	if (c->auth_time > 0)
		st_int(st, 11, c->auth_time);
	else
		st_null(st, 11);
	st_text(st, 12, c->jkt);
	return st_exec(st);
}

int
pt_db_codes_trim(int64_t grant_id, int keep)
{
	struct pt_st *st = st_get(Q_CODE_TRIM);
	st_int(st, 1, grant_id);
	st_int(st, 2, keep);
	return st_exec(st);
}

int
pt_db_code_redeem(const uint8_t hash[PT_HASH_LEN], int64_t now, int64_t expires, const char *jkt,
    int64_t code_id)
{
	struct pt_st *st = st_get(Q_CODE_REDEEM);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, now);
	if (expires > 0)
		st_int(st, 3, expires);
	else
		st_null(st, 3);
	st_text(st, 4, jkt);
	st_int(st, 5, code_id);
	/* "WHERE id = ? AND kind = 0": on PostgreSQL a redemption that lost the race to
	 * another node waits for its row lock, then finds kind 1 and changes nothing */
	return st_exec_one(st);
}

int
pt_db_refresh_from_code(const uint8_t hash[PT_HASH_LEN], const char *scope, int64_t now,
    int64_t expires, const char *jkt, int64_t code_id)
{
	struct pt_st *st = st_get(Q_REFRESH_FROM_CODE);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_text(st, 2, scope);
	st_int(st, 3, now);
	st_int(st, 4, expires);
	st_int(st, 5, code_id);
	st_text(st, 6, jkt);
	return st_exec_one(st);
}

int
pt_db_token_insert(const uint8_t hash[PT_HASH_LEN], enum pt_token_kind kind, int64_t grant_id,
    const uint8_t *code_hash, const char *scope, const char *resource, int64_t now, int64_t expires,
    int64_t auth_time, const char *jkt)
{
	struct pt_st *st = st_get(Q_TOKEN_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, kind);
	st_int(st, 3, grant_id);
	if (code_hash != NULL)
		st_blob(st, 4, code_hash, PT_HASH_LEN);
	else
		st_null(st, 4);
	st_text(st, 5, scope);
	st_text(st, 6, resource);
	st_int(st, 7, now);
	if (expires > 0)
		st_int(st, 8, expires);
	else
		st_null(st, 8);
	if (auth_time > 0)
		st_int(st, 9, auth_time);
	else
		st_null(st, 9);
	st_text(st, 10, jkt);
	return st_exec(st);
}

int
pt_db_tokens_delete_by_code(const uint8_t code_hash[PT_HASH_LEN])
{
	struct pt_st *st = st_get(Q_TOKEN_DELETE_BY_CODE);
	st_blob(st, 1, code_hash, PT_HASH_LEN);
	return st_exec(st);
}

int
pt_db_token_delete(int64_t token_id)
{
	struct pt_st *st = st_get(Q_TOKEN_DELETE);
	st_int(st, 1, token_id);
	return st_exec(st);
}

/* Q_TOKEN_CHECK: u.name, g.org_id, t.scope, a.client_id, t.expires, t.id, g.id,
 * t.created, u.id, t.resource, t.kind, t.last_used, a.id */
static void
read_token(pt_arena *a, struct pt_st *st, struct pt_token_row *r)
{
	r->user_name = st_col_text(a, st, 0);
	r->org_id = st_col_int(st, 1);
	r->scope = st_col_text(a, st, 2);
	r->client_id = st_col_text(a, st, 3);
	r->expires = st_col_int(st, 4); /* NULL reads 0: never */
	r->id = st_col_int(st, 5);
	r->grant_id = st_col_int(st, 6);
	r->created = st_col_int(st, 7);
	r->user_id = st_col_int(st, 8);
	r->resource = st_col_text_or_null(a, st, 9);
	r->kind = (enum pt_token_kind)st_col_int(st, 10);
	r->last_used = st_col_int(st, 11);
	r->app_id = st_col_int(st, 12);
	r->auth_time = st_col_int(st, 13); /* NULL reads 0: unknown */
	r->jkt = st_col_text_or_null(a, st, 14);
}

int
pt_db_token_check(pt_arena *a, const uint8_t hash[PT_HASH_LEN], struct pt_token_row *r)
{
	struct pt_st *st = st_get(Q_TOKEN_CHECK);
	st_blob(st, 1, hash, PT_HASH_LEN);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_token(a, st, r);
		st_reset(st);
		return rc;
	}
	if (rc != PT_ERR_NOTFOUND)
		return rc;
	/* not a user's: perhaps an app's own (client_credentials), in the same columns */
	st = st_get(Q_CLIENT_TOKEN_CHECK);
	st_blob(st, 1, hash, PT_HASH_LEN);
	rc = st_one(st);
	if (rc == PT_OK) {
		read_token(a, st, r);
		st_reset(st);
	}
	return rc;
}

int
pt_db_client_token_insert(const uint8_t hash[PT_HASH_LEN], int64_t app_id, const char *scope,
    const char *resource, int64_t now, int64_t expires, const char *jkt)
{
	struct pt_st *st = st_get(Q_CLIENT_TOKEN_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, app_id);
	st_text(st, 3, scope);
	st_text(st, 4, resource);
	st_int(st, 5, now);
	st_int(st, 6, expires);
	st_text(st, 7, jkt);
	return st_exec(st);
}

int
pt_db_dpop_proof_use(const uint8_t hash[PT_HASH_LEN], int64_t expires, int64_t now)
{
	struct pt_st *st = st_get(Q_DPOP_PROOF_USE);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, expires);
	st_int(st, 3, now);
	/* no row changed: the hash is there and live (on PostgreSQL also after waiting for
	 * the node that inserted it at the same moment) */
	int rc = st_exec_one(st);
	return rc == PT_ERR_NOTFOUND ? PT_ERR_EXISTS : rc;
}

int
pt_db_token_touch(int64_t token_id, int64_t grant_id, int64_t now)
{
	/* grant 0: an app's own token (client_credentials) */
	struct pt_st *st = st_get(grant_id == 0 ? Q_CLIENT_TOKEN_TOUCH : Q_TOKEN_TOUCH);
	st_int(st, 1, now);
	st_int(st, 2, token_id);
	int rc = st_exec_nowait(st);
	if (rc != PT_OK || grant_id == 0)
		return rc;
	st = st_get(Q_GRANT_TOUCH);
	st_int(st, 1, now);
	st_int(st, 2, grant_id);
	return st_exec_nowait(st);
}

/* Q_REFRESH_TAKE: RETURNING code_hash (NULL, or a hash: the token descends from a code) */
static void
read_taken(struct pt_st *st, uint8_t code_hash[PT_HASH_LEN], bool *from_code)
{
	*from_code = st_col_fixed(st, 0, code_hash, PT_HASH_LEN);
}

int
pt_db_refresh_take(int64_t token_id, uint8_t code_hash[PT_HASH_LEN], bool *from_code)
{
	struct pt_st *st = st_get(Q_REFRESH_TAKE);
	st_int(st, 1, token_id);
	*from_code = false;
	/* no row returned: the UPDATE found kind 2 no more (on PostgreSQL after waiting for
	 * the node that rotated it first) */
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_taken(st, code_hash, from_code);
	return finish(st);
}

/* ================================================ pending consent requests */

int
pt_db_requests_trim(int64_t user_id, int keep)
{
	struct pt_st *st = st_get(Q_REQUEST_TRIM);
	st_int(st, 1, user_id);
	st_int(st, 2, keep);
	return st_exec(st);
}

int
pt_db_request_insert(const uint8_t hash[PT_HASH_LEN], int64_t user_id, const char *query,
    int64_t expires)
{
	struct pt_st *st = st_get(Q_REQUEST_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, user_id);
	st_text(st, 3, query);
	st_int(st, 4, expires);
	return st_exec(st);
}

/* Q_REQUEST_TAKE: RETURNING query, expires */
static void
read_request(pt_arena *a, struct pt_st *st, struct pt_request_row *r)
{
	r->query = st_col_text(a, st, 0);
	r->expires = st_col_int(st, 1);
}

int
pt_db_request_take(pt_arena *a, const uint8_t hash[PT_HASH_LEN], int64_t user_id,
    struct pt_request_row *r)
{
	struct pt_st *st = st_get(Q_REQUEST_TAKE);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, user_id);
	/* single use by the row the DELETE returned: of two takes at once (two nodes), the
	 * second deletes nothing and gets no row */
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_request(a, st, r);
	return finish(st);
}
