/* store_cimd.c: the storage functions of Client ID Metadata Documents: the apps row a
 * document made and until when its fetch is fresh. */
#include "store.h"

int
pt_db_cimd_get(const char *url, int64_t *app_id, int64_t *expires)
{
	struct pt_st *st = st_get(Q_CIMD_GET);
	st_text(st, 1, url);
	int rc = st_one(st);
	if (rc == PT_OK) {
		*app_id = st_col_int(st, 0);
		*expires = st_col_int(st, 1);
		st_reset(st);
	}
	return rc;
}

int
pt_db_cimd_save(const char *url, const char *name, const char *redirect_uris,
    const char *grant_types, int64_t now, int64_t expires)
{
	int rc = pt_begin();
	if (rc != PT_OK)
		return rc;
	struct pt_st *st = st_get(Q_CIMD_APP_SAVE);
	st_text(st, 1, url);
	st_text(st, 2, name);
	st_text(st, 3, redirect_uris);
	st_text(st, 4, grant_types);
	st_int(st, 5, now);
	rc = st_exec(st);
	if (rc == PT_OK) {
		st = st_get(Q_CIMD_DOC_SAVE);
		st_text(st, 1, url);
		st_int(st, 2, now);
		st_int(st, 3, expires);
		rc = st_exec(st);
	}
	if (rc != PT_OK) {
		pt_rollback();
		return rc;
	}
	return pt_commit();
}
