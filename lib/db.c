/* db.c: the storage module's connection: opening and closing it, transactions, and
 * running the statements of sql.c on SQLite (the embedded default) or, for a database
 * named postgresql://…, through db_pg.c. Also SQLite's schema and its migrations. */
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "store.h"

#define SCHEMA_VERSION PT_SCHEMA_VERSION

static sqlite3 *db;
static bool pg;                   /* the open database is PostgreSQL (db_pg.c) */
static struct pt_st stmts[Q__MAX];

struct pt_ctx
pt_ctx_init(pt_arena *a, const struct pt_config *cfg)
{
	struct pt_ctx c = {.a = a, .cfg = cfg, .store = pt_store()};
	assert(a != NULL && cfg != NULL && c.store != NULL);
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

bool
pt_db_is_pg(const char *database)
{
	return strncmp(database, "postgresql://", 13) == 0 || strncmp(database, "postgres://", 11) == 0;
}

void
pt_db_process_init(void)
{
	/* no bulk page-cache allocation per connection (SQLite's default is 20 pages up
	 * front): a process at rest holds only the pages it has read */
	sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

bool
st_is_pg(void)
{
	return pg;
}

/* The one connection of the process, for struct pt_ctx; NULL when none is open. */
struct pt_store *
pt_store(void)
{
	return pg ? (struct pt_store *)pgd_handle() : (struct pt_store *)db;
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
	if (!pg && db != NULL)
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

/* synchronous: the connection runs at FULL when every write must be durable, else at
 * NORMAL and switches to FULL around the transactions that end access (SQLite takes the
 * change only outside a transaction). PostgreSQL's commits are durable as its server is
 * configured (synchronous_commit). */
static enum pt_sync sync_mode;
static bool durable_now;

static void
durable(bool on)
{
	if (pg || sync_mode != PT_SYNC_REVOCATIONS || durable_now == on)
		return;
	if (sqlite3_exec(db, on ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL,
		NULL, NULL) != SQLITE_OK)
		pt_warn("synchronous: %s", sqlite3_errmsg(db));
	durable_now = on;
}

static int
lite_open(const char *path, int flags)
{
	bool sync_full = sync_mode == PT_SYNC_FULL;
	char *err = NULL;
	int rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
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
		sqlite3_close(db);
		db = NULL;
		return PT_ERR_DB;
	}
	return PT_OK;
}

int
pt_db_open(const char *database, enum pt_sync sync)
{
	assert(db == NULL && !pg);
	sync_mode = sync;
	durable_now = false;
	for (size_t i = 0; i < Q__MAX; i++)
		stmts[i] = (struct pt_st){.id = (enum pt_q)i};
	if (pt_db_is_pg(database)) {
		int rc = pgd_open(database);
		pg = rc == PT_OK;
		return rc;
	}
	return lite_open(database, SQLITE_OPEN_READWRITE);
}

int
pt_db_create(const char *database, char *err, size_t errlen)
{
	int rc;
	if (pt_db_is_pg(database)) {
		if ((rc = pt_db_open(database, PT_SYNC_FULL)) != PT_OK) {
			snprintf(err, errlen, "cannot connect to the database (see the log above)");
			return rc;
		}
	} else {
		sync_mode = PT_SYNC_FULL;
		for (size_t i = 0; i < Q__MAX; i++)
			stmts[i] = (struct pt_st){.id = (enum pt_q)i};
		if ((rc = lite_open(database, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) != PT_OK) {
			snprintf(err, errlen, "%s: cannot create the database", database);
			return rc;
		}
		chmod(database, 0600);
	}
	if ((rc = pt_db_init_schema(err, errlen)) != PT_OK) {
		if (pt_db_close() != PT_OK)
			pt_warn("database close failed");
		return rc;
	}
	return pt_db_close();
}

int
pt_db_close(void)
{
	if (pg) {
		for (size_t i = 0; i < Q__MAX; i++)
			pgd_st_free(&stmts[i]);
		pgd_close();
		pg = false;
		return PT_OK;
	}
	for (size_t i = 0; i < Q__MAX; i++) {
		sqlite3_finalize(stmts[i].lite);
		stmts[i].lite = NULL;
	}
	if (db == NULL)
		return PT_OK;
	/* sqlite3_close, not _v2: a statement still prepared elsewhere must keep the
	 * handle open (and the caller from forking), not turn it into a zombie */
	if (sqlite3_close(db) != SQLITE_OK) {
		pt_warn("database close: %s", sqlite3_errmsg(db));
		return PT_ERR_DB;
	}
	db = NULL;
	return PT_OK;
}

/* ------------------------------------------------------------ statements */

/* Why the last st_get gave NULL: what st_step(NULL) answers (PT_ERR_BUSY while
 * PostgreSQL is unreachable, PT_ERR_DB for a statement that cannot be prepared). */
static int get_error = PT_ERR_DB;

struct pt_st *
st_get(enum pt_q i)
{
	assert(i < Q__MAX);
	struct pt_st *st = &stmts[i];
	if (pg) {
		int rc = pgd_st_get(st);
		get_error = rc;
		return rc == PT_OK ? st : NULL;
	}
	get_error = PT_ERR_DB;
	if (db == NULL)
		return NULL;
	if (st->lite == NULL) {
		if (sqlite3_prepare_v3(db, pt_sql[i].sqlite, -1, SQLITE_PREPARE_PERSISTENT, &st->lite,
			NULL) != SQLITE_OK) {
			pt_warn("prepare %d: %s", (int)i, sqlite3_errmsg(db));
			st->lite = NULL;
			return NULL;
		}
	} else {
		sqlite3_reset(st->lite);
		sqlite3_clear_bindings(st->lite);
	}
	st->changes = 0;
	return st;
}

void
st_int(struct pt_st *st, int i, int64_t v)
{
	if (st == NULL)
		return;
	if (pg)
		pgd_bind_int(st, i, v);
	else
		sqlite3_bind_int64(st->lite, i, v);
}

void
st_textn(struct pt_st *st, int i, const char *s, size_t n)
{
	if (st == NULL)
		return;
	assert(n <= INT32_MAX);
	if (pg)
		pgd_bind(st, i, s, n, false);
	else if (s == NULL)
		sqlite3_bind_null(st->lite, i);
	else
		sqlite3_bind_text(st->lite, i, s, (int)n, SQLITE_STATIC);
}

void
st_text(struct pt_st *st, int i, const char *s)
{
	st_textn(st, i, s, s ? strlen(s) : 0);
}

void
st_blob(struct pt_st *st, int i, const void *p, size_t n)
{
	if (st == NULL)
		return;
	assert(n <= INT32_MAX);
	if (pg)
		pgd_bind(st, i, p ? p : "", n, true);
	else
		sqlite3_bind_blob(st->lite, i, p ? p : "", (int)n, SQLITE_STATIC);
}

void
st_null(struct pt_st *st, int i)
{
	if (st == NULL)
		return;
	if (pg)
		pgd_bind(st, i, NULL, 0, false);
	else
		sqlite3_bind_null(st->lite, i);
}

static int
lite_error(int rc)
{
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		pt_warn("sql: the database stayed locked for %d ms", PT_DB_BUSY_MS);
		return PT_ERR_BUSY;
	}
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return PT_ERR_EXISTS;
	pt_warn("sql: %s", sqlite3_errmsg(db));
	return PT_ERR_DB;
}

/* st_step on the open backend. */
static int
st_step_run(struct pt_st *st)
{
	if (st == NULL)
		return get_error;
	if (pg)
		return pgd_step(st);
	int rc = sqlite3_step(st->lite);
	if (rc == SQLITE_ROW)
		return ST_ROW;
	if (rc == SQLITE_DONE) {
		st->changes = sqlite3_changes64(db);
		return ST_DONE;
	}
	rc = lite_error(sqlite3_extended_errcode(db));
	sqlite3_reset(st->lite);
	return rc;
}

int
st_step(struct pt_st *st)
{
	int rc = st_step_run(st);
	if (rc == PT_ERR_BUSY || rc == PT_ERR_DB) /* every failed statement, either backend */
		pt_metrics_db(rc);
	return rc;
}

int
st_exec(struct pt_st *st)
{
	int rc;
	while ((rc = st_step(st)) == ST_ROW)
		;
	/* a statement that returns rows (RETURNING) counts them as it goes */
	if (rc == ST_DONE && !pg && st->changes == 0)
		st->changes = sqlite3_changes64(db);
	st_reset(st);
	return rc == ST_DONE ? PT_OK : rc;
}

int
st_exec_nowait(struct pt_st *st)
{
	/* a best-effort write (when a token was last used) never queues behind another
	 * writer: every request of this process would queue behind it. */
	if (st == NULL)
		return st_exec(st);
	if (pg)
		return pgd_exec_nowait(st);
	sqlite3_busy_timeout(db, 0);
	int rc = sqlite3_step(st->lite);
	sqlite3_reset(st->lite);
	sqlite3_busy_timeout(db, PT_DB_BUSY_MS);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PT_OK;
	return (rc & 0xff) == SQLITE_BUSY ? PT_ERR_BUSY : PT_ERR_DB;
}

int
st_exec_durable(struct pt_st *st)
{
	durable(true);
	int rc = st_exec(st);
	durable(false);
	return rc;
}

static int
one_changed(struct pt_st *st, int rc)
{
	return rc == PT_OK && st_changes(st) != 1 ? PT_ERR_NOTFOUND : rc;
}

int
st_exec_one(struct pt_st *st)
{
	return one_changed(st, st_exec(st));
}

int
st_exec_one_durable(struct pt_st *st)
{
	return one_changed(st, st_exec_durable(st));
}

int
st_one(struct pt_st *st)
{
	int rc = st_step(st);
	if (rc == ST_ROW)
		return PT_OK;
	st_reset(st);
	return rc == ST_DONE ? PT_ERR_NOTFOUND : rc;
}

int64_t
st_changes(struct pt_st *st)
{
	return st == NULL ? 0 : st->changes;
}

void
st_reset(struct pt_st *st)
{
	if (st == NULL)
		return;
	if (pg)
		pgd_reset(st);
	else
		sqlite3_reset(st->lite);
}

int64_t
st_col_int(struct pt_st *st, int col)
{
	return pg ? pgd_col_int(st, col) : sqlite3_column_int64(st->lite, col);
}

bool
st_col_null(struct pt_st *st, int col)
{
	return pg ? pgd_col_null(st, col) : sqlite3_column_type(st->lite, col) == SQLITE_NULL;
}

/* The bytes of a column, *n its length; NULL for NULL. Valid until the next step. */
static const void *
col_bytes(struct pt_st *st, int col, size_t *n)
{
	if (pg)
		return pgd_col_bytes(st, col, n);
	const void *p = sqlite3_column_type(st->lite, col) == SQLITE_TEXT
			    ? (const void *)sqlite3_column_text(st->lite, col)
			    : sqlite3_column_blob(st->lite, col);
	*n = (size_t)sqlite3_column_bytes(st->lite, col);
	if (p == NULL && sqlite3_column_type(st->lite, col) != SQLITE_NULL)
		p = ""; /* an empty blob */
	return p;
}

char *
st_col_text_or_null(pt_arena *a, struct pt_st *st, int col)
{
	size_t n;
	const char *p = col_bytes(st, col, &n);
	return p == NULL ? NULL : pt_strndup(a, p, n);
}

char *
st_col_text(pt_arena *a, struct pt_st *st, int col)
{
	char *s = st_col_text_or_null(a, st, col);
	return s ? s : pt_strdup(a, "");
}

const uint8_t *
st_col_blob(pt_arena *a, struct pt_st *st, int col, size_t *n)
{
	const void *p = col_bytes(st, col, n);
	if (p == NULL)
		return NULL;
	uint8_t *c = pt_alloc(a, *n ? *n : 1);
	memcpy(c, p, *n);
	return c;
}

bool
st_col_fixed(struct pt_st *st, int col, void *out, size_t n)
{
	size_t len;
	const void *p = col_bytes(st, col, &len);
	if (p == NULL || len != n) {
		memset(out, 0, n);
		return false;
	}
	memcpy(out, p, n);
	return true;
}

/* ------------------------------------------------------------ transactions */

int
pt_begin(void)
{
	return st_exec(st_get(Q_BEGIN));
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
pt_commit(void)
{
	int rc = st_exec(st_get(Q_COMMIT));
	if (rc == PT_OK)
		durable(false);
	return rc;
}

static bool
in_transaction(void)
{
	if (pg)
		return pgd_in_transaction();
	return db != NULL && !sqlite3_get_autocommit(db);
}

void
pt_rollback(void)
{
	if (in_transaction())
		if (st_exec(st_get(Q_ROLLBACK)) != PT_OK)
			pt_warn("rollback failed");
	if (!in_transaction())
		durable(false);
}

/* ------------------------------------------------------------ maintenance */

int
pt_db_backup(const char *dest, char *err, size_t errlen)
{
	if (pg) {
		snprintf(err, errlen, "a PostgreSQL database is backed up with pg_dump"
				      " (README, \"Backups\")");
		return PT_ERR_CONFIG;
	}
	sqlite3 *dst;
	if (sqlite3_open(dest, &dst) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", dest, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return PT_ERR_IO;
	}
	chmod(dest, 0600);
	/* copied in steps, so the servers keep their access to the database */
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", db, "main");
	if (b == NULL) {
		snprintf(err, errlen, "%s: %s", dest, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		return PT_ERR_IO;
	}
	int rc;
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(5);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", dest, sqlite3_errstr(rc));
		sqlite3_close(dst);
		return PT_ERR_IO;
	}
	sqlite3_close(dst);
	return PT_OK;
}

void
pt_db_maintain(void)
{
	if (pg)
		pgd_maintain();
	else if (db != NULL)
		sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;", NULL, NULL, NULL);
}

void
pt_db_bulk(void)
{
	/* the benchmarks' seeder writes millions of rows: a bigger page cache */
	if (!pg && db != NULL)
		sqlite3_exec(db, "PRAGMA cache_size = -262144", NULL, NULL, NULL);
}

int
pt_db_exclusive(bool *got)
{
	if (pg)
		return pgd_try_lock(got);
	*got = true; /* SQLite: one file, one host; its writers queue on the file lock */
	return PT_OK;
}

/* ------------------------------------------------------------ SQLite's schema */

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

/*
 * Schema 6 (OpenID Connect): users get email and full_name, tokens a code's nonce and
 * auth_time (tables rebuilt before 4 get them from schema.sql), apps the id_token
 * signing algorithm; the keys table is new (schema.sql creates it).
 */
static const char to6_before_apps[] =
    "ALTER TABLE apps ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256';";
static const char to6_before[] =
    "ALTER TABLE users ADD COLUMN email TEXT; ALTER TABLE users ADD COLUMN full_name TEXT;"
    " ALTER TABLE tokens ADD COLUMN nonce TEXT; ALTER TABLE tokens ADD COLUMN auth_time INTEGER;";

/*
 * Schema 7 (RP-Initiated Logout): apps get their post-logout redirect URIs.
 */
static const char to7_before_apps[] =
    "ALTER TABLE apps ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '';";

/*
 * Schema 8: the client_documents table is new (Client ID Metadata Documents) and so is
 * client_tokens (client_credentials; schema.sql creates both, no rows move); apps get
 * (self-registered clients, RFC 7591/7592; the consent page's links) their
 * token_endpoint_auth_method, application_type, registration access token hash,
 * client_uri, policy_uri and tos_uri, and (JWT access tokens) their access_token_format.
 */
static const char to8_before_apps[] =
    "ALTER TABLE apps ADD COLUMN token_endpoint_auth_method TEXT NOT NULL DEFAULT '';"
    " ALTER TABLE apps ADD COLUMN application_type TEXT NOT NULL DEFAULT '';"
    " ALTER TABLE apps ADD COLUMN registration_token_hash BLOB;"
    " ALTER TABLE apps ADD COLUMN client_uri TEXT; ALTER TABLE apps ADD COLUMN policy_uri TEXT;"
    " ALTER TABLE apps ADD COLUMN tos_uri TEXT;"
    " ALTER TABLE apps ADD COLUMN access_token_format TEXT NOT NULL DEFAULT 'opaque';";

/*
 * Schema 9 (DPoP, RFC 9449): tokens and client_tokens get the thumbprint of the key they
 * are bound to, apps whether they must use DPoP; dpop_proofs is new (schema.sql makes it).
 * Tables rebuilt before 4 get the tokens column from schema.sql.
 */
static const char to9_before_apps[] =
    "ALTER TABLE apps ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;";
static const char to9_before[] = "ALTER TABLE tokens ADD COLUMN jkt TEXT;";
static const char to9_before_client_tokens[] = "ALTER TABLE client_tokens ADD COLUMN jkt TEXT;";

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

static int
lite_init_schema(sqlite3 *h, char *err, size_t errlen)
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
	    !step(h, version, 1, 6, to6_before_apps, &msg) || !step(h, version, 4, 6, to6_before, &msg) ||
	    !step(h, version, 1, 7, to7_before_apps, &msg) ||
	    !step(h, version, 1, 8, to8_before_apps, &msg) ||
	    !step(h, version, 1, 9, to9_before_apps, &msg) || !step(h, version, 4, 9, to9_before, &msg) ||
	    !step(h, version, 8, 9, to9_before_client_tokens, &msg) ||
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

int
pt_db_init_schema(char *err, size_t errlen)
{
	if (pg)
		return pgd_init_schema(err, errlen);
	if (db == NULL) {
		snprintf(err, errlen, "no database is open");
		return PT_ERR_DB;
	}
	return lite_init_schema(db, err, errlen);
}
