/* store_oidc.c: the storage functions of OpenID Connect: signing keys, users' claims. */
#include <string.h>

#include "store.h"

/* Q_KEY_SIGNING, Q_KEYS_LIST: kid, alg, private, public_jwk, created, retired, expires */
static void
read_key(pt_arena *a, struct pt_st *st, struct pt_key_row *r)
{
	r->kid = st_col_text(a, st, 0);
	r->alg = st_col_text(a, st, 1);
	r->private_key = st_col_blob(a, st, 2, &r->private_n);
	r->public_jwk = st_col_text(a, st, 3);
	r->created = st_col_int(st, 4);
	r->retired = st_col_int(st, 5); /* NULL reads 0: signs */
	r->expires = st_col_int(st, 6); /* NULL reads 0: never */
}

int
pt_db_key_insert(const struct pt_key_row *k)
{
	struct pt_st *st = st_get(Q_KEY_INSERT);
	st_text(st, 1, k->kid);
	st_text(st, 2, k->alg);
	st_blob(st, 3, k->private_key, k->private_n);
	st_text(st, 4, k->public_jwk);
	st_int(st, 5, k->created);
	int rc = st_exec(st);
	return rc == PT_OK || rc == PT_ERR_BUSY || rc == PT_ERR_EXISTS ? rc : PT_ERR_DB;
}

int
pt_db_keys_retire(const char *alg, int64_t now, int64_t expires, int64_t *retired)
{
	struct pt_st *st = st_get(Q_KEYS_RETIRE);
	st_int(st, 1, now);
	st_int(st, 2, expires);
	st_text(st, 3, alg);
	int rc = st_exec(st);
	if (retired != NULL)
		*retired = rc == PT_OK ? st_changes(st) : 0;
	return rc;
}

int
pt_db_key_signing(pt_arena *a, const char *alg, struct pt_key_row *r)
{
	struct pt_st *st = st_get(Q_KEY_SIGNING);
	st_text(st, 1, alg);
	int rc = st_one(st);
	if (rc == PT_OK) {
		read_key(a, st, r);
		st_reset(st);
	}
	return rc;
}

int
pt_db_keys_list(pt_arena *a, int64_t now, struct pt_key_row **rows, size_t *n)
{
	struct pt_st *st = st_get(Q_KEYS_LIST);
	size_t cap = 0;
	int rc;
	*rows = NULL;
	*n = 0;
	st_int(st, 1, now);
	while ((rc = st_step(st)) == ST_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			struct pt_key_row *more = pt_alloc(a, cap * sizeof(*more));
			if (*n)
				memcpy(more, *rows, *n * sizeof(*more));
			*rows = more;
		}
		read_key(a, st, &(*rows)[(*n)++]);
	}
	st_reset(st);
	if (rc != ST_DONE) {
		*n = 0;
		return rc;
	}
	return PT_OK;
}

/* Q_USER_CLAIMS: id, name, email, full_name */
int
pt_db_user_claims(pt_arena *a, int64_t user_id, struct pt_claims_row *r)
{
	struct pt_st *st = st_get(Q_USER_CLAIMS);
	st_int(st, 1, user_id);
	int rc = st_one(st);
	if (rc == PT_OK) {
		r->id = st_col_int(st, 0);
		r->name = st_col_text(a, st, 1);
		r->email = st_col_text_or_null(a, st, 2);
		r->full_name = st_col_text_or_null(a, st, 3);
		st_reset(st);
	}
	return rc;
}

int
pt_db_user_profile_set(const char *name, const char *email, const char *full_name)
{
	struct pt_st *st = st_get(Q_USER_PROFILE_SET);
	st_text(st, 1, name);
	st_text(st, 2, email);
	st_text(st, 3, full_name);
	int rc = st_exec_one(st);
	return rc;
}

int
pt_db_admin_app_set_alg(const char *client_id, const char *alg)
{
	struct pt_st *st = st_get(Q_ADMIN_APP_SET_ALG);
	st_text(st, 1, alg);
	st_text(st, 2, client_id);
	int rc = st_exec_one(st);
	return rc;
}

int
pt_db_admin_app_set_format(const char *client_id, const char *format)
{
	struct pt_st *st = st_get(Q_ADMIN_APP_SET_FORMAT);
	st_text(st, 1, format);
	st_text(st, 2, client_id);
	int rc = st_exec_one(st);
	return rc;
}

int
pt_db_admin_app_set_dpop(const char *client_id, bool require)
{
	struct pt_st *st = st_get(Q_ADMIN_APP_SET_DPOP);
	st_int(st, 1, require);
	st_text(st, 2, client_id);
	return st_exec_one(st);
}
