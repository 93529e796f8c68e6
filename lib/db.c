/* db.c: the database handle and every SQL statement the executables run, by index. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "postern.h"

#define SCHEMA_VERSION 3

/* The whole SQL surface of the servers, one screen. Indexed by enum pt_stmt. */
static const char *const sql[ST__MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_APP_BY_CLIENT_ID] =
	    "SELECT id, client_id, name, description, picture IS NOT NULL, redirect_uris, scopes,"
	    " public, trusted, require_pkce, remember_consent, grant_types, secret_hash, owner_id"
	    " FROM apps WHERE client_id = ?",
	[ST_USER_BY_NAME] = "SELECT id, name, password, is_admin FROM users WHERE name = ?",
	[ST_USER_BY_ID] = "SELECT id, name, is_admin FROM users WHERE id = ?",
	[ST_USER_INSERT] =
	    "INSERT INTO users (name, password, is_admin, created) VALUES (?, ?, ?, ?)",
	[ST_ORG_PERSONAL_INSERT] =
	    "INSERT INTO orgs (name, personal_of, created) VALUES (?, ?, ?)",
	[ST_MEMBER_INSERT] = "INSERT INTO members (org_id, user_id, role) VALUES (?, ?, ?)",
	[ST_USER_ORGS] =
	    "SELECT o.id, o.name FROM members m JOIN orgs o ON o.id = m.org_id"
	    " WHERE m.user_id = ? ORDER BY o.personal_of IS NULL, o.name, o.id",
	[ST_USER_IN_ORG] = "SELECT 1 FROM members WHERE user_id = ? AND org_id = ?",
	[ST_SESSION_INSERT] =
	    "INSERT INTO sessions (hash, user_id, created, expires) VALUES (?, ?, ?, ?)",
	[ST_SESSION_GET] =
	    "SELECT u.id, u.name, u.is_admin FROM sessions s JOIN users u ON u.id = s.user_id"
	    " WHERE s.hash = ? AND s.expires > ?",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?",
	[ST_GRANT_FIND] = "SELECT id, scope FROM grants WHERE user_id = ? AND app_id = ? AND org_id = ?",
	[ST_GRANT_FIND_ANY] =
	    "SELECT id, scope, org_id FROM grants WHERE user_id = ? AND app_id = ?"
	    " ORDER BY coalesce(last_used, created) DESC",
	[ST_GRANT_UPSERT] =
	    "INSERT INTO grants (user_id, app_id, org_id, scope, created) VALUES (?, ?, ?, ?, ?)"
	    " ON CONFLICT (user_id, app_id, org_id) DO UPDATE SET scope = excluded.scope"
	    " RETURNING id",
	[ST_CODE_INSERT] =
	    "INSERT INTO tokens (kind, code_hash, grant_id, redirect_uri, redirect_given, scope,"
	    " challenge, resource, code_expires, created) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* the code's own row (the lowest id with its hash; later ones came from it by refresh) */
	[ST_CODE_GET] =
	    "SELECT t.grant_id, t.redirect_uri, t.redirect_given, t.scope, t.challenge,"
	    " t.resource, t.code_expires, t.kind <> 0, g.app_id, g.user_id, g.org_id, t.id"
	    " FROM tokens t JOIN grants g ON g.id = t.grant_id WHERE t.code_hash = ?"
	    " ORDER BY t.id LIMIT 1",
	/* a redemption: the code's row becomes the access token */
	[ST_CODE_REDEEM] =
	    "UPDATE tokens SET hash = ?, kind = 1, created = ?, expires = ?, redirect_uri = NULL,"
	    " challenge = NULL WHERE id = ? AND kind = 0",
	[ST_TOKEN_INSERT] =
	    "INSERT INTO tokens (hash, kind, grant_id, code_hash, scope, resource, created, expires)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	/* a replayed code: the tokens that came from it */
	[ST_TOKEN_DELETE_BY_CODE] = "DELETE FROM tokens WHERE code_hash = ?",
	/* the check: one indexed lookup and three rowid joins */
	[ST_TOKEN_CHECK] =
	    "SELECT u.name, g.org_id, t.scope, a.client_id, t.expires, t.id, g.id, t.created,"
	    " u.id, t.resource, t.kind, t.last_used, a.id"
	    " FROM tokens t JOIN grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id"
	    " JOIN apps a ON a.id = g.app_id WHERE t.hash = ?",
	[ST_TOKEN_TOUCH] = "UPDATE tokens SET last_used = ? WHERE id = ?",
	[ST_GRANT_TOUCH] = "UPDATE grants SET last_used = ? WHERE id = ?",
	/* refresh rotation: a used refresh token stays as kind 3 so reuse is seen */
	/* the code a refresh token came from passes to its successors: a replay of the
	 * code revokes them too (read here, off the check's hot path) */
	[ST_REFRESH_TAKE] = "UPDATE tokens SET kind = 3 WHERE id = ? AND kind = 2 RETURNING code_hash",
	[ST_GRANT_DELETE] = "DELETE FROM grants WHERE id = ?",
	[ST_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?",
};

static sqlite3 *db;
static sqlite3_stmt *stmts[ST__MAX];

int64_t
pt_now(void)
{
	/* not time(): on Linux it reads a coarse clock that can trail the real time by a
	 * tick, so a token could outlive its second as clients see it */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

sqlite3 *
pt_db(void)
{
	return db;
}

int
pt_db_open(const char *path)
{
	char *err = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		pt_warn("database %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		db = NULL;
		return PT_ERR_DB;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db,
	    /* a checkpoint every 4000 pages (16 MB of WAL) instead of 1000: hot pages are
	     * copied back once per checkpoint, so fewer checkpoints write far less */
	    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
	    " PRAGMA wal_autocheckpoint = 4000;",
	    NULL, NULL, &err);
	if (rc != SQLITE_OK) {
		pt_warn("database %s: %s", path, err ? err : "pragma failed");
		sqlite3_free(err);
		return PT_ERR_DB;
	}
	return PT_OK;
}

int
pt_db_close(void)
{
	for (size_t i = 0; i < ST__MAX; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	/* sqlite3_close, not _v2: a statement still prepared elsewhere must keep the
	 * handle open (and the caller from forking), not turn it into a zombie */
	if (sqlite3_close(db) != SQLITE_OK) {
		pt_warn("database close: %s", sqlite3_errmsg(db));
		return PT_ERR_DB;
	}
	db = NULL;
	return PT_OK;
}

sqlite3_stmt *
pt_stmt(enum pt_stmt i)
{
	if (stmts[i] == NULL) {
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) !=
		    SQLITE_OK) {
			pt_warn("prepare %d: %s", (int)i, sqlite3_errmsg(db));
			stmts[i] = NULL;
			return NULL;
		}
	} else {
		sqlite3_reset(stmts[i]);
		sqlite3_clear_bindings(stmts[i]);
	}
	return stmts[i];
}

sqlite3_stmt *
pt_stmt_sql(sqlite3_stmt **slot, const char *q)
{
	if (*slot == NULL) {
		if (sqlite3_prepare_v3(db, q, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
			pt_warn("prepare: %s", sqlite3_errmsg(db));
			*slot = NULL;
		}
	} else {
		sqlite3_reset(*slot);
		sqlite3_clear_bindings(*slot);
	}
	return *slot;
}

int
pt_exec(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PT_OK;
	pt_warn("sql: %s", sqlite3_errmsg(db));
	return PT_ERR_DB;
}

int
pt_begin(void)
{
	return pt_exec(pt_stmt(ST_BEGIN));
}

int
pt_commit(void)
{
	return pt_exec(pt_stmt(ST_COMMIT));
}

void
pt_rollback(void)
{
	if (db != NULL && !sqlite3_get_autocommit(db))
		if (pt_exec(pt_stmt(ST_ROLLBACK)) != PT_OK)
			pt_warn("rollback failed");
}

void
pt_bind_text(sqlite3_stmt *st, int i, const char *s, size_t n)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
}

void
pt_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
}

char *
pt_col_text(pt_arena *a, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	if (t == NULL)
		return pt_strdup(a, "");
	return pt_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, col));
}

/*
 * Schema 1 and 2 kept codes in a table of their own and every token row had a hash: the
 * tokens table is rebuilt in schema.sql's shape around it, every token kept with its id.
 * Codes waiting to be redeemed (they live for minutes) are not carried over.
 */
static const char to3_before[] =
    "DROP INDEX IF EXISTS tokens_code; DROP INDEX IF EXISTS tokens_grant;"
    " DROP INDEX IF EXISTS tokens_expires; ALTER TABLE tokens RENAME TO tokens_2;"
    " DROP TABLE IF EXISTS codes;";
static const char to3_after[] =
    "INSERT INTO tokens (id, hash, kind, grant_id, code_hash, scope, resource, created,"
    " expires, last_used) SELECT id, hash, kind, grant_id, code_hash, scope, resource,"
    " created, expires, last_used FROM tokens_2; DROP TABLE tokens_2;";

int
pt_db_init_schema(sqlite3 *h, char *err, size_t errlen)
{
	char *msg = NULL;
	sqlite3_stmt *st;
	int version = -1;
	/* the version is read inside the write transaction: processes starting together
	 * bring the schema up to date once, one after the other */
	if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (version < 0 || version > SCHEMA_VERSION) {
		if (version < 0)
			snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(h));
		else
			snprintf(err, errlen, "database schema %d is newer than this postern (%d)",
			    version, SCHEMA_VERSION);
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		return PT_ERR_DB;
	}
	/* schema.sql is idempotent: it creates what is missing and drops what went away */
	if ((version > 0 && version < 3 && sqlite3_exec(h, to3_before, NULL, NULL, &msg) != SQLITE_OK) ||
	    (version < SCHEMA_VERSION && sqlite3_exec(h, pt_schema_sql, NULL, NULL, &msg) != SQLITE_OK) ||
	    (version > 0 && version < 3 && sqlite3_exec(h, to3_after, NULL, NULL, &msg) != SQLITE_OK) ||
	    sqlite3_exec(h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (version > 0 && version < SCHEMA_VERSION)
		pt_info("database schema %d brought up to %d", version, SCHEMA_VERSION);
	return PT_OK;
fail:
	snprintf(err, errlen, "schema: %s", msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	return PT_ERR_DB;
}
