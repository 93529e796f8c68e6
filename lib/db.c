/* db.c: the database handle and every SQL statement the executables run, by index. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "postern.h"

#define SCHEMA_VERSION 5

/* The whole SQL surface of the servers, one screen. Indexed by enum pt_stmt. */
static const char *const sql[ST__MAX] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_APP_BY_CLIENT_ID] =
	    "SELECT id, client_id, name, description,"
	    " EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = apps.id), redirect_uris, scopes,"
	    " public, trusted, require_pkce, remember_consent, grant_types, secret_hash, owner_id,"
	    " registered, resource_server,"
	    " coalesce((SELECT is_admin FROM users u WHERE u.id = apps.owner_id), owner_id IS NULL)"
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
	/* only grants for organizations the user is still a member of */
	[ST_GRANT_FIND_ANY] =
	    "SELECT g.id, g.scope, g.org_id, g.redirect_uri FROM grants g JOIN members m"
	    " ON m.user_id = g.user_id AND m.org_id = g.org_id WHERE g.user_id = ? AND g.app_id = ?"
	    " ORDER BY coalesce(g.last_used, g.created) DESC",
	/* no row unless the user is a member of the organization: nothing is ever granted
	 * for an organization the user has left */
	[ST_GRANT_UPSERT] =
	    "INSERT INTO grants (user_id, app_id, org_id, scope, created, redirect_uri)"
	    " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS"
	    " (SELECT 1 FROM members WHERE user_id = ?1 AND org_id = ?3)"
	    " ON CONFLICT (user_id, app_id, org_id) DO UPDATE SET scope = excluded.scope,"
	    " redirect_uri = coalesce(excluded.redirect_uri, redirect_uri) RETURNING id",
	[ST_CODE_INSERT] =
	    "INSERT INTO tokens (kind, code_hash, grant_id, redirect_uri, redirect_given, scope,"
	    " challenge, resource, code_expires, created) VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	/* the code's own row (the lowest id with its hash; later ones came from it by refresh) */
	[ST_CODE_GET] =
	    "SELECT t.grant_id, t.redirect_uri, t.redirect_given, t.scope, t.challenge,"
	    " t.resource, t.code_expires, t.kind <> 0, g.app_id, g.user_id, g.org_id, t.id"
	    " FROM tokens t JOIN grants g ON g.id = t.grant_id WHERE t.code_hash = ?"
	    " ORDER BY t.id LIMIT 1",
	/* a redemption: the code's row becomes the access token (keeping the request, so a
	 * replay is checked like a redemption before it revokes anything) */
	[ST_CODE_REDEEM] =
	    "UPDATE tokens SET hash = ?, kind = 1, created = ?, expires = ? WHERE id = ? AND kind = 0",
	/* a grant keeps its newest pending codes only (a page reloaded in a loop does not
	 * grow the database) */
	[ST_CODE_TRIM] =
	    "DELETE FROM tokens WHERE grant_id = ?1 AND kind = 0 AND id NOT IN"
	    " (SELECT id FROM tokens WHERE grant_id = ?1 AND kind = 0 ORDER BY id DESC LIMIT ?2)",
	[ST_REFRESH_FROM_CODE] =
	    "INSERT INTO tokens (hash, kind, grant_id, code_hash, scope, resource, created, expires,"
	    " redirect_uri, redirect_given, challenge, code_expires) SELECT ?1, 2, grant_id,"
	    " code_hash, ?2, resource, ?3, ?4, redirect_uri, redirect_given, challenge, code_expires"
	    " FROM tokens WHERE id = ?5",
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
	[ST_SESSIONS_END_ALL] = "DELETE FROM sessions WHERE user_id = ?",
	/* deleting an app or a user: switched off at once, then rows in short batches so
	 * no transaction holds the write lock for long, then the row itself */
	[ST_APP_DISABLE] =
	    "UPDATE apps SET grant_types = '', redirect_uris = '', secret_hash = NULL WHERE id = ?",
	[ST_APP_TOKENS_BATCH] =
	    "DELETE FROM tokens WHERE id IN (SELECT t.id FROM grants g JOIN tokens t"
	    " ON t.grant_id = g.id WHERE g.app_id = ? LIMIT ?)",
	[ST_APP_GRANTS_BATCH] =
	    "DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE app_id = ? LIMIT ?)",
	[ST_APP_DELETE] = "DELETE FROM apps WHERE id = ?",
	[ST_USER_APPS] = "SELECT id FROM apps WHERE owner_id = ? LIMIT 1",
	[ST_USER_TOKENS_BATCH] =
	    "DELETE FROM tokens WHERE id IN (SELECT t.id FROM grants g JOIN tokens t"
	    " ON t.grant_id = g.id WHERE g.user_id = ? LIMIT ?)",
	[ST_USER_DELETE] = "DELETE FROM users WHERE id = ?",
	/* pending consent decisions: a user keeps the newest few */
	[ST_REQUEST_TRIM] =
	    "DELETE FROM requests WHERE user_id = ?1 AND id NOT IN"
	    " (SELECT id FROM requests WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
	[ST_REQUEST_INSERT] = "INSERT INTO requests (hash, user_id, query, expires) VALUES (?, ?, ?, ?)",
	[ST_REQUEST_TAKE] =
	    "DELETE FROM requests WHERE hash = ? AND user_id = ? RETURNING query, expires",
	[ST_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?",
};

static sqlite3 *db;
static sqlite3_stmt *stmts[ST__MAX];

struct pt_ctx
pt_ctx_init(pt_arena *a, const struct pt_config *cfg)
{
	struct pt_ctx c = {.a = a, .cfg = cfg, .db = pt_db()};
	assert(a != NULL && cfg != NULL && c.db != NULL);
	return c;
}

int64_t
pt_now(void)
{
	/* not time(): on Linux it reads a coarse clock that can trail the real time by a
	 * tick, so a token could outlive its second as clients see it */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

/* Checkpoints off the request path: the commit that crosses PT_WAL_CHECKPOINT_PAGES only
 * notes it, and the worker copies the WAL back into the database after it has answered
 * (pt_db_idle), while the other workers go on accepting. With SQLite's own
 * autocheckpoint the request whose commit crossed the mark waited for the copy (the
 * token endpoint's and the device poll's p99, bench/README.md). */
static bool checkpoint_due;

static int
wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
	(void)arg;
	(void)h;
	(void)name;
	if (frames >= PT_WAL_CHECKPOINT_PAGES)
		checkpoint_due = true;
	return SQLITE_OK;
}

void
pt_db_defer_checkpoints(void)
{
	sqlite3_wal_hook(db, wal_hook, NULL);
}

void
pt_db_idle(void)
{
	if (!checkpoint_due || db == NULL)
		return;
	checkpoint_due = false;
	/* PASSIVE: copies what no reader still needs and never waits for a lock; what it
	 * leaves is copied at a later mark */
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		pt_warn("checkpoint: %s", sqlite3_errmsg(db));
}

sqlite3 *
pt_db(void)
{
	return db;
}

/* synchronous: the connection runs at FULL when every write must be durable, else at
 * NORMAL and switches to FULL around the transactions that end access (SQLite takes the
 * change only outside a transaction) */
static enum pt_sync sync_mode;
static bool durable_now;

static void
durable(bool on)
{
	if (sync_mode != PT_SYNC_REVOCATIONS || durable_now == on)
		return;
	if (sqlite3_exec(db, on ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL,
		NULL, NULL) != SQLITE_OK)
		pt_warn("synchronous: %s", sqlite3_errmsg(db));
	durable_now = on;
}

int
pt_db_open(const char *path, enum pt_sync sync)
{
	bool sync_full = sync == PT_SYNC_FULL;
	sync_mode = sync;
	durable_now = false;
	char *err = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		pt_warn("database %s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		db = NULL;
		return PT_ERR_DB;
	}
	sqlite3_busy_timeout(db, PT_DB_BUSY_MS);
	rc = sqlite3_exec(db,
	    /* a checkpoint every 4000 pages (PT_WAL_CHECKPOINT_PAGES, 16 MB of WAL) instead of
	     * 1000: hot pages are copied back once per checkpoint, so fewer checkpoints write
	     * far less (the servers take them off the request path: pt_db_defer_checkpoints) */
	    sync_full ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
			" PRAGMA wal_autocheckpoint = 4000;"
		      : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
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
	if (st == NULL)
		return PT_ERR_DB;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PT_OK;
	if ((rc & 0xff) == SQLITE_BUSY) {
		pt_warn("sql: the database stayed locked for %d ms", PT_DB_BUSY_MS);
		return PT_ERR_BUSY;
	}
	pt_warn("sql: %s", sqlite3_errmsg(db));
	return PT_ERR_DB;
}

int
pt_exec_nowait(sqlite3_stmt *st)
{
	/* a best-effort write (when a token was last used) never queues behind another
	 * writer: every request of this process would queue behind it */
	sqlite3_busy_timeout(db, 0);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_busy_timeout(db, PT_DB_BUSY_MS);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PT_OK;
	return (rc & 0xff) == SQLITE_BUSY ? PT_ERR_BUSY : PT_ERR_DB;
}

int
pt_begin(void)
{
	return pt_exec(pt_stmt(ST_BEGIN));
}

int
pt_begin_durable(void)
{
	durable(true);
	int rc = pt_begin();
	if (rc != PT_OK)
		durable(false);
	return rc;
}

int
pt_exec_durable(sqlite3_stmt *st)
{
	durable(true);
	int rc = pt_exec(st);
	durable(false);
	return rc;
}

int
pt_commit(void)
{
	int rc = pt_exec(pt_stmt(ST_COMMIT));
	if (rc == PT_OK)
		durable(false);
	return rc;
}

void
pt_rollback(void)
{
	if (db != NULL && !sqlite3_get_autocommit(db))
		if (pt_exec(pt_stmt(ST_ROLLBACK)) != PT_OK)
			pt_warn("rollback failed");
	if (db != NULL && sqlite3_get_autocommit(db))
		durable(false);
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

const uint8_t *
pt_col_blob(pt_arena *a, sqlite3_stmt *st, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(st, col);
	*n = (size_t)sqlite3_column_bytes(st, col);
	if (p == NULL)
		return NULL;
	uint8_t *c = pt_alloc(a, *n ? *n : 1);
	memcpy(c, p, *n);
	return c;
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

/*
 * Schema 4: users, orgs, grants and tokens become AUTOINCREMENT (an id is never given
 * again), rebuilt around their rows with every id kept; pictures leave the apps row.
 * Runs with foreign keys off and legacy renames, so that the tables which reference
 * the renamed ones keep naming the new ones.
 */
static const char to4_before[] =
    "DROP INDEX IF EXISTS grants_app; ALTER TABLE users RENAME TO users_3;"
    " ALTER TABLE orgs RENAME TO orgs_3; ALTER TABLE grants RENAME TO grants_3;";
static const char to4_before_tokens[] =
    "DROP INDEX IF EXISTS tokens_hash; DROP INDEX IF EXISTS tokens_code_hash;"
    " DROP INDEX IF EXISTS tokens_grant; DROP INDEX IF EXISTS tokens_expires;"
    " DROP INDEX IF EXISTS tokens_code_expires; ALTER TABLE tokens RENAME TO tokens_3;";
static const char to4_after_tokens[] =
    "INSERT INTO tokens (id, hash, kind, grant_id, code_hash, scope, resource, created,"
    " expires, last_used, redirect_uri, redirect_given, challenge, code_expires)"
    " SELECT id, hash, kind, grant_id, code_hash, scope, resource, created, expires,"
    " last_used, redirect_uri, redirect_given, challenge, code_expires FROM tokens_3;"
    " DROP TABLE tokens_3;";
static const char to4_after[] =
    "INSERT INTO users (id, name, password, is_admin, created)"
    " SELECT id, name, password, is_admin, created FROM users_3;"
    " INSERT INTO orgs (id, name, personal_of, created)"
    " SELECT id, name, personal_of, created FROM orgs_3;"
    " INSERT INTO grants (id, user_id, app_id, org_id, scope, created, last_used)"
    " SELECT id, user_id, app_id, org_id, scope, created, last_used FROM grants_3;"
    " DROP TABLE grants_3; DROP TABLE orgs_3; DROP TABLE users_3;"
    " INSERT INTO app_pictures (app_id, picture, type) SELECT id, picture,"
    " coalesce(picture_type, 'application/octet-stream') FROM apps WHERE picture IS NOT NULL;"
    " ALTER TABLE apps DROP COLUMN picture; ALTER TABLE apps DROP COLUMN picture_type;"
    " ALTER TABLE apps ADD COLUMN resource_server INTEGER NOT NULL DEFAULT 0;";

/*
 * Schema 5 adds bridge_devices (device logins bridged to an upstream provider): a new
 * table, which schema.sql creates; no rows move, so there is no step of its own.
 */

/* Runs one migration step when from <= version < to (version 0 is a new database). */
static bool
step(sqlite3 *h, int version, int from, int to, const char *sql_text, char **msg)
{
	if (version < from || version >= to)
		return true;
	return sqlite3_exec(h, sql_text, NULL, NULL, msg) == SQLITE_OK;
}

/* Fails unless every foreign key still finds its row. */
static bool
keys_intact(sqlite3 *h)
{
	sqlite3_stmt *st;
	bool ok = false;
	if (sqlite3_prepare_v2(h, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK) {
		ok = sqlite3_step(st) == SQLITE_DONE;
		sqlite3_finalize(st);
	}
	return ok;
}

static int
pragma_int(sqlite3 *h, const char *q)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(h, q, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

int
pt_db_init_schema(sqlite3 *h, char *err, size_t errlen)
{
	char *msg = NULL;
	int version = -1;
	/* tables are rebuilt with their rows: foreign keys must not cascade meanwhile (the
	 * pragma is a no-op inside a transaction, so it is set before) */
	int fk = pragma_int(h, "PRAGMA foreign_keys");
	sqlite3_exec(h, "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON;", NULL, NULL, NULL);
	/* the version is read inside the write transaction: processes starting together
	 * bring the schema up to date once, one after the other */
	if (sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	version = pragma_int(h, "PRAGMA user_version");
	if (version < 0 || version > SCHEMA_VERSION) {
		if (version < 0)
			snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(h));
		else
			snprintf(err, errlen, "database schema %d is newer than this postern (%d)",
			    version, SCHEMA_VERSION);
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
		goto restore;
	}
	/* schema.sql is idempotent: it creates what is missing; the steps around it move
	 * the rows of tables whose shape changed */
	if (!step(h, version, 1, 3, to3_before, &msg) || !step(h, version, 1, 4, to4_before, &msg) ||
	    !step(h, version, 3, 4, to4_before_tokens, &msg) ||
	    !step(h, version, 0, SCHEMA_VERSION, pt_schema_sql, &msg) ||
	    !step(h, version, 1, 3, to3_after, &msg) || !step(h, version, 3, 4, to4_after_tokens, &msg) ||
	    !step(h, version, 1, 4, to4_after, &msg))
		goto fail;
	if (version > 0 && version < SCHEMA_VERSION && !keys_intact(h)) {
		msg = sqlite3_mprintf("a foreign key lost its row while migrating");
		goto fail;
	}
	if (sqlite3_exec(h, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto fail;
	if (version > 0 && version < SCHEMA_VERSION)
		pt_info("database schema %d brought up to %d", version, SCHEMA_VERSION);
	sqlite3_exec(h, fk == 1 ? "PRAGMA legacy_alter_table = OFF; PRAGMA foreign_keys = ON;"
				: "PRAGMA legacy_alter_table = OFF;", NULL, NULL, NULL);
	return PT_OK;
fail:
	snprintf(err, errlen, "schema: %s", msg ? msg : sqlite3_errmsg(h));
	sqlite3_free(msg);
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
restore:
	sqlite3_exec(h, fk == 1 ? "PRAGMA legacy_alter_table = OFF; PRAGMA foreign_keys = ON;"
				: "PRAGMA legacy_alter_table = OFF;", NULL, NULL, NULL);
	return PT_ERR_DB;
}
