/* store_admin.c: the storage functions of the admin command and the janitor. */
#include <assert.h>
#include <string.h>

#include "store.h"

/* The lists read their rows' texts into an arena of their own, reset between rows:
 * a list can have millions of rows. Each list ends with its run: PT_OK when the rows
 * ran out, else the callback's value or the database's error. */
static int
list_end(struct pt_st *st, pt_arena *a, int rc)
{
	st_reset(st);
	pt_arena_free(a);
	return rc == ST_DONE ? PT_OK : rc;
}

/* ------------------------------------------------------------ users */

/* Q_ADMIN_USER_LIST */
static void
read_user(pt_arena *a, struct pt_st *st, struct pt_admin_user_row *r)
{
	r->id = st_col_int(st, 0);
	r->name = st_col_text(a, st, 1);
	r->admin = st_col_int(st, 2) != 0;
	r->created = st_col_int(st, 3);
	r->org_id = st_col_int(st, 4);
}

int
pt_db_admin_user_list(int (*each)(void *arg, const struct pt_admin_user_row *), void *arg)
{
	struct pt_admin_user_row r;
	struct pt_st *st = st_get(Q_ADMIN_USER_LIST);
	pt_arena *a = pt_arena_new();
	int rc;
	while ((rc = st_step(st)) == ST_ROW) {
		read_user(a, st, &r);
		if ((rc = each(arg, &r)) != PT_OK)
			break;
		pt_arena_reset(a);
	}
	return list_end(st, a, rc);
}

/* Q_ADMIN_USER_ID */
static void
read_user_id(struct pt_st *st, int64_t *id, int64_t *org_id)
{
	*id = st_col_int(st, 0);
	*org_id = st_col_int(st, 1);
}

int
pt_db_admin_user_id(const char *name, int64_t *id, int64_t *org_id)
{
	struct pt_st *st = st_get(Q_ADMIN_USER_ID);
	st_text(st, 1, name);
	int rc = st_one(st);
	*id = *org_id = 0;
	if (rc == PT_OK) {
		read_user_id(st, id, org_id);
		st_reset(st);
	}
	return rc;
}

int
pt_db_admin_user_passwd(const char *name, const char *hash)
{
	struct pt_st *st = st_get(Q_ADMIN_USER_PASSWD);
	st_text(st, 1, hash);
	st_text(st, 2, name);
	return st_exec_one(st);
}

int
pt_db_admin_user_revoke(int64_t user_id, int64_t *grants)
{
	struct pt_st *st = st_get(Q_ADMIN_USER_GRANTS_DEL);
	st_int(st, 1, user_id);
	int rc = st_exec(st);
	*grants = rc == PT_OK ? st_changes(st) : 0;
	if (rc != PT_OK)
		return rc;
	st = st_get(Q_ADMIN_USER_DEVICES_DEL);
	st_int(st, 1, user_id);
	return st_exec(st);
}

/* ------------------------------------------------------------ organizations */

int
pt_db_admin_org_add(const char *name, int64_t now, int64_t *id)
{
	struct pt_st *st = st_get(Q_ADMIN_ORG_ADD);
	st_text(st, 1, name);
	st_int(st, 2, now);
	int rc = st_one(st);
	*id = 0;
	if (rc == PT_OK) {
		*id = st_col_int(st, 0);
		/* to its end, so SQLite finishes the insert */
		rc = st_exec(st);
	}
	return rc == PT_ERR_NOTFOUND ? PT_ERR_DB : rc;
}

/* Q_ADMIN_ORG_GET */
static void
read_org(pt_arena *a, struct pt_st *st, struct pt_admin_org_row *r)
{
	r->id = st_col_int(st, 0);
	r->name = st_col_text(a, st, 1);
	r->personal_of = st_col_int(st, 2);
}

int
pt_db_admin_org_get(pt_arena *a, int64_t id, struct pt_admin_org_row *r)
{
	struct pt_st *st = st_get(Q_ADMIN_ORG_GET);
	st_int(st, 1, id);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_org(a, st, r);
		st_reset(st);
	}
	return rc;
}

int
pt_db_admin_member_set(int64_t org_id, int64_t user_id, const char *role)
{
	struct pt_st *st = st_get(Q_ADMIN_MEMBER_ADD);
	st_int(st, 1, org_id);
	st_int(st, 2, user_id);
	st_text(st, 3, role);
	return st_exec(st);
}

int
pt_db_admin_member_remove(int64_t org_id, int64_t user_id, int64_t *grants)
{
	*grants = 0;
	struct pt_st *st = st_get(Q_ADMIN_MEMBER_DEL);
	st_int(st, 1, org_id);
	st_int(st, 2, user_id);
	int rc = st_exec_one(st);
	if (rc != PT_OK)
		return rc;
	/* what the user granted apps for this organization ends with the membership */
	st = st_get(Q_ADMIN_MEMBER_GRANTS_DEL);
	st_int(st, 1, org_id);
	st_int(st, 2, user_id);
	if ((rc = st_exec(st)) != PT_OK)
		return rc;
	*grants = st_changes(st);
	st = st_get(Q_ADMIN_MEMBER_DEVICES_DEL);
	st_int(st, 1, org_id);
	st_int(st, 2, user_id);
	return st_exec(st);
}

int
pt_db_admin_org_delete(int64_t id)
{
	struct pt_st *st = st_get(Q_ADMIN_ORG_DEL);
	st_int(st, 1, id);
	return st_exec_one(st);
}

/* ------------------------------------------------------------ apps */

/* Q_ADMIN_APP_LIST */
static void
read_app(pt_arena *a, struct pt_st *st, struct pt_admin_app_row *r)
{
	r->client_id = st_col_text(a, st, 0);
	r->name = st_col_text(a, st, 1);
	r->description = st_col_text(a, st, 2);
	r->redirect_uris = st_col_text(a, st, 3);
	r->scopes = st_col_text(a, st, 4);
	r->grant_types = st_col_text(a, st, 5);
	r->public = st_col_int(st, 6) != 0;
	r->trusted = st_col_int(st, 7) != 0;
	r->require_pkce = st_col_int(st, 8) != 0;
	r->registered = st_col_int(st, 9) != 0;
	r->owner = st_col_text(a, st, 10);
	r->created = st_col_int(st, 11);
	r->resource_server = st_col_int(st, 12) != 0;
	r->id_token_alg = st_col_text(a, st, 13);
	r->post_logout_redirect_uris = st_col_text(a, st, 14);
	r->access_token_format = st_col_text(a, st, 15);
	r->require_dpop = st_col_int(st, 16) != 0;
}

int
pt_db_admin_app_list(const char *client_id, int (*each)(void *arg, const struct pt_admin_app_row *),
    void *arg)
{
	struct pt_admin_app_row r;
	struct pt_st *st = st_get(Q_ADMIN_APP_LIST);
	st_text(st, 1, client_id);
	pt_arena *a = pt_arena_new();
	int rc;
	while ((rc = st_step(st)) == ST_ROW) {
		read_app(a, st, &r);
		if ((rc = each(arg, &r)) != PT_OK)
			break;
		pt_arena_reset(a);
	}
	return list_end(st, a, rc);
}

int
pt_db_admin_app_id(const char *client_id, int64_t *id)
{
	struct pt_st *st = st_get(Q_ADMIN_APP_ID);
	st_text(st, 1, client_id);
	int rc = st_one(st);
	*id = 0;
	if (rc == PT_OK) {
		*id = st_col_int(st, 0);
		st_reset(st);
	}
	return rc;
}

int
pt_db_admin_app_set_resource_server(const char *client_id, bool on)
{
	struct pt_st *st = st_get(Q_ADMIN_APP_SET_RS);
	st_int(st, 1, on);
	st_text(st, 2, client_id);
	return st_exec_one(st);
}

/* ------------------------------------------------------------ tokens */

/* Q_ADMIN_TOKEN_LIST */
static void
read_token(pt_arena *a, struct pt_st *st, struct pt_admin_token_row *r)
{
	r->id = st_col_int(st, 0);
	r->kind = (int)st_col_int(st, 1);
	r->user = st_col_text(a, st, 2);
	r->client_id = st_col_text(a, st, 3);
	r->org_id = st_col_int(st, 4);
	r->scope = st_col_text(a, st, 5);
	r->created = st_col_int(st, 6);
	r->expires = st_col_int(st, 7);
	r->last_used = st_col_int(st, 8);
	r->grant_id = st_col_int(st, 9);
}

int
pt_db_admin_token_list(const char *user, const char *client_id,
    int (*each)(void *arg, const struct pt_admin_token_row *), void *arg)
{
	struct pt_admin_token_row r;
	struct pt_st *st = st_get(Q_ADMIN_TOKEN_LIST);
	st_text(st, 1, user);
	st_text(st, 2, client_id);
	pt_arena *a = pt_arena_new();
	int rc;
	while ((rc = st_step(st)) == ST_ROW) {
		read_token(a, st, &r);
		if ((rc = each(arg, &r)) != PT_OK)
			break;
		pt_arena_reset(a);
	}
	return list_end(st, a, rc);
}

int
pt_db_admin_token_delete(int64_t id)
{
	struct pt_st *st = st_get(Q_TOKEN_DELETE);
	st_int(st, 1, id);
	return st_exec_one(st);
}

int
pt_db_admin_grant_delete(int64_t id)
{
	struct pt_st *st = st_get(Q_GRANT_DELETE);
	st_int(st, 1, id);
	return st_exec_one(st);
}

/* ------------------------------------------------------------ the janitor */

int
pt_db_janitor_batch(enum pt_janitor what, int64_t cutoff, int64_t *n)
{
	static const enum pt_q q[] = {
		[PT_JANITOR_CODES] = Q_JANITOR_CODES,
		[PT_JANITOR_REDEEMED] = Q_JANITOR_REDEEMED,
		[PT_JANITOR_SESSIONS] = Q_JANITOR_SESSIONS,
		[PT_JANITOR_DEVICES] = Q_JANITOR_DEVICES,
		[PT_JANITOR_BRIDGE] = Q_JANITOR_BRIDGE,
		[PT_JANITOR_TOKENS] = Q_JANITOR_TOKENS,
		[PT_JANITOR_CLIENT_TOKENS] = Q_JANITOR_CLIENT_TOKENS,
		[PT_JANITOR_ATTEMPTS] = Q_JANITOR_ATTEMPTS,
		[PT_JANITOR_REQUESTS] = Q_JANITOR_REQUESTS,
		[PT_JANITOR_KEYS] = Q_JANITOR_KEYS,
		[PT_JANITOR_UNAPPROVED] = Q_JANITOR_UNAPPROVED,
		[PT_JANITOR_DPOP] = Q_JANITOR_DPOP,
	};
	assert((size_t)what < sizeof(q) / sizeof(q[0]));
	struct pt_st *st = st_get(q[what]);
	st_int(st, 1, cutoff);
	st_int(st, 2, PT_DELETE_BATCH);
	int rc = st_exec(st);
	*n = rc == PT_OK ? st_changes(st) : 0;
	return rc;
}
