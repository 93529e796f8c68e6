/* db_pg.c: the PostgreSQL backend of the storage module (libpq): one connection per
 * process, made again by itself when it is lost; the statements of sql.c prepared once
 * per connection; binary results; PostgreSQL's errors mapped onto postern's. */
#include <arpa/inet.h>
#include <assert.h>
#include <endian.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "store.h"

/* Type oids of the columns postern reads (catalog/pg_type_d.h, stable since forever). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23

/* A second between two attempts to reach a server that is down: in between, requests
 * are answered 503 at once instead of each waiting for its own attempt. */
#define PG_RECONNECT_EVERY_MS 1000
/* How long an attempt waits for the server (libpq's connect_timeout, seconds). */
#define PG_CONNECT_TIMEOUT "3"

/* Keys of the advisory locks: schema changes, and work one node does at a time. */
#define PG_LOCK_SCHEMA 0x706f73746572ll   /* "poster" */
#define PG_LOCK_EXCLUSIVE 0x706f73746573ll

static PGconn *conn;
static char *conn_uri;
static unsigned generation;    /* counts connections made: prepared statements belong to one */
static int64_t next_attempt_ms;
static char *texts[Q__MAX];    /* the PostgreSQL text of each statement, made on first use */

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs (CREATE ... IF NOT EXISTS) are not news */
}

/* Makes the connection; false (logged, and not tried again for PG_RECONNECT_EVERY_MS)
 * when the server cannot be reached. */
static bool
connect_now(void)
{
	if (conn != NULL && PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE) {
		/* between transactions the server has nothing to say to postern (which
		 * neither listens nor changes settings): anything to read is its goodbye (a
		 * restart, an idle timeout, a terminated backend), which libpq would see only
		 * on the next statement, failing it. One poll finds it; the statement goes to
		 * a new connection. */
		struct pollfd p = {.fd = PQsocket(conn), .events = POLLIN};
		if (poll(&p, 1, 0) == 0)
			return true;
		pt_warn("database: the server closed the connection: connecting again");
		next_attempt_ms = 0;
	} else if (conn != NULL && PQstatus(conn) == CONNECTION_OK) {
		return true;
	}
	int64_t t = now_ms();
	if (t < next_attempt_ms)
		return false;
	if (conn != NULL) {
		PQfinish(conn);
		conn = NULL;
	}
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	const char *values[] = {conn_uri, PG_CONNECT_TIMEOUT, "postern", NULL};
	conn = PQconnectdbParams(keys, values, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
		char *m = conn ? PQerrorMessage(conn) : "out of memory";
		size_t n = strcspn(m, "\n");
		pt_warn("database: cannot connect: %.*s", (int)n, m);
		PQfinish(conn);
		conn = NULL;
		next_attempt_ms = t + PG_RECONNECT_EVERY_MS;
		return false;
	}
	PQsetNoticeProcessor(conn, notice, NULL);
	/* a lock held past PT_DB_BUSY_MS fails the statement (503 and Retry-After), as
	 * SQLite's busy_timeout does; no statement of postern's runs for seconds */
	char set[160];
	snprintf(set, sizeof(set),
	    "SET lock_timeout = %d; SET statement_timeout = 30000;"
	    " SET idle_in_transaction_session_timeout = 60000",
	    PT_DB_BUSY_MS);
	PGresult *r = PQexec(conn, set);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		pt_warn("database: %s", PQerrorMessage(conn));
		PQfinish(conn);
		conn = NULL;
		next_attempt_ms = t + PG_RECONNECT_EVERY_MS;
		return false;
	}
	generation++;
	return true;
}

int
pgd_open(const char *uri)
{
	assert(conn == NULL);
	free(conn_uri);
	conn_uri = strdup(uri);
	if (conn_uri == NULL)
		return PT_ERR_NOMEM;
	next_attempt_ms = 0;
	/* a server that is down now is tried again at the first statement */
	(void)connect_now();
	return PT_OK;
}

void
pgd_close(void)
{
	PQfinish(conn);
	conn = NULL;
}

void *
pgd_handle(void)
{
	return &conn;
}

bool
pgd_in_transaction(void)
{
	if (conn == NULL)
		return false;
	PGTransactionStatusType t = PQtransactionStatus(conn);
	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

/* The statement's text with SQLite's ?N and ? written $N. The table's texts keep no
 * '?' inside string literals. */
static char *
translate(const char *s)
{
	/* a '?' becomes at most "$" and PT_ST_MAX_PARAMS's digits: 4 bytes a byte is plenty */
	size_t n = strlen(s), size = n * 4 + 1;
	char *out = malloc(size);
	if (out == NULL)
		return NULL;
	char *o = out;
	int next = 1;
	bool quoted = false;
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			quoted = !quoted;
		if (*p != '?' || quoted) {
			*o++ = *p;
			continue;
		}
		*o++ = '$';
		if (p[1] >= '0' && p[1] <= '9') {
			while (p[1] >= '0' && p[1] <= '9')
				*o++ = *++p;
		} else {
			o += snprintf(o, size - (size_t)(o - out), "%d", next++);
		}
	}
	*o = '\0';
	return out;
}

static int error_of(PGresult *);

static void
clear(struct pt_st *st)
{
	PQclear(st->res);
	st->res = NULL;
	st->row = -1;
	st->nrows = 0;
	st->ran = false;
}

int
pgd_st_get(struct pt_st *st)
{
	clear(st);
	for (int i = 0; i < st->nparams; i++)
		st->values[i] = NULL;
	st->nparams = 0;
	st->changes = 0;
	if (!connect_now())
		return PT_ERR_BUSY;
	if (st->prepared_on == generation)
		return PT_OK;
	if (texts[st->id] == NULL) {
		const struct pt_sql *q = &pt_sql[st->id];
		texts[st->id] = q->pg ? strdup(q->pg) : translate(q->sqlite);
		if (texts[st->id] == NULL)
			return PT_ERR_NOMEM;
	}
	char name[16];
	snprintf(name, sizeof(name), "q%d", (int)st->id);
	PGresult *r = PQprepare(conn, name, texts[st->id], 0, NULL);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? PT_OK : error_of(r);
	if (rc != PT_OK)
		pt_warn("prepare %d failed", (int)st->id);
	PQclear(r);
	if (rc != PT_OK)
		return rc;
	st->prepared_on = generation;
	return PT_OK;
}

void
pgd_st_free(struct pt_st *st)
{
	clear(st);
	st->prepared_on = 0;
}

static void
param(struct pt_st *st, int i, const char *p, int n, int format)
{
	assert(i >= 1 && i <= PT_ST_MAX_PARAMS);
	for (int k = st->nparams; k < i - 1; k++)
		st->values[k] = NULL; /* a gap is NULL */
	st->values[i - 1] = p;
	st->lengths[i - 1] = n;
	st->formats[i - 1] = format;
	if (i > st->nparams)
		st->nparams = i;
}

void
pgd_bind_int(struct pt_st *st, int i, int64_t v)
{
	assert(i >= 1 && i <= PT_ST_MAX_PARAMS);
	int n = snprintf(st->ints[i - 1], sizeof(st->ints[0]), "%lld", (long long)v);
	param(st, i, st->ints[i - 1], n, 0);
}

void
pgd_bind(struct pt_st *st, int i, const void *p, size_t n, bool binary)
{
	(void)binary;
	/* texts go in binary format too: their bytes as they are, no terminating NUL
	 * needed (the caller's text may be a slice of a longer one) */
	param(st, i, p, (int)n, 1);
}

/* PostgreSQL's error as postern's: a lock or serialization conflict, or a server that
 * is going away, is PT_ERR_BUSY (retry later); a unique key PT_ERR_EXISTS. */
static int
error_of(PGresult *r)
{
	const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	/* no SQLSTATE: libpq's own error, the connection's; a shutdown (57P0x) or a
	 * connection exception (08xxx): the server is going or gone. The connection is
	 * dropped, and the next statement makes a new one. */
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK || code == NULL ||
	    !strncmp(code, "57P0", 4) || !strncmp(code, "08", 2)) {
		const char *m = r ? PQresultErrorMessage(r) : conn ? PQerrorMessage(conn) : "";
		pt_warn("database: the connection was lost: %.*s", (int)strcspn(m, "\n"), m);
		PQfinish(conn);
		conn = NULL;
		return PT_ERR_BUSY;
	}
	if (!strcmp(code, "23505"))
		return PT_ERR_EXISTS;
	pt_warn("sql: %.*s (%s)", (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r), code);
	/* serialization failure, deadlock, lock not available (lock_timeout), query
	 * canceled (statement_timeout): retry later */
	if (!strcmp(code, "40001") || !strcmp(code, "40P01") || !strcmp(code, "55P03") ||
	    !strcmp(code, "57014"))
		return PT_ERR_BUSY;
	return PT_ERR_DB;
}

int
pgd_step(struct pt_st *st)
{
	if (!st->ran) {
		if (conn == NULL || st->prepared_on != generation)
			return PT_ERR_BUSY; /* the connection went since st_get */
		char name[16];
		snprintf(name, sizeof(name), "q%d", (int)st->id);
		st->res = PQexecPrepared(conn, name, st->nparams, st->values, st->lengths, st->formats, 1);
		st->ran = true;
		ExecStatusType s = PQresultStatus(st->res);
		if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
			int rc = error_of(st->res);
			clear(st);
			st->ran = true;
			return rc;
		}
		st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
		const char *t = PQcmdTuples(st->res);
		st->changes = t && *t ? strtoll(t, NULL, 10) : 0;
		st->row = -1;
	}
	if (st->res == NULL)
		return ST_DONE;
	if (++st->row < st->nrows)
		return ST_ROW;
	return ST_DONE;
}

/* Sets lock_timeout on the connection (milliseconds; 0 would mean no limit). */
static bool
lock_timeout(int ms)
{
	char set[48];
	snprintf(set, sizeof(set), "SET lock_timeout = %d", ms);
	PGresult *r = PQexec(conn, set);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok;
}

int
pgd_exec_nowait(struct pt_st *st)
{
	/* a lock held by another (a table lock, a long writer) fails the statement after
	 * a millisecond instead of PT_DB_BUSY_MS; outside a transaction only (inside, the
	 * setting would outlive a failure until the rollback) */
	bool quick = conn != NULL && PQtransactionStatus(conn) == PQTRANS_IDLE && lock_timeout(1);
	int rc;
	while ((rc = pgd_step(st)) == ST_ROW)
		;
	pgd_reset(st);
	if (quick && conn != NULL && !lock_timeout(PT_DB_BUSY_MS))
		pt_warn("database: cannot set lock_timeout back");
	return rc == ST_DONE ? PT_OK : rc;
}

void
pgd_reset(struct pt_st *st)
{
	int64_t changes = st->changes;
	clear(st);
	st->changes = changes;
}

bool
pgd_col_null(struct pt_st *st, int col)
{
	assert(st->res != NULL && st->row < st->nrows);
	return PQgetisnull(st->res, st->row, col);
}

int64_t
pgd_col_int(struct pt_st *st, int col)
{
	assert(st->res != NULL && st->row < st->nrows);
	if (PQgetisnull(st->res, st->row, col))
		return 0;
	const char *v = PQgetvalue(st->res, st->row, col);
	uint64_t u = 0;
	switch (PQftype(st->res, col)) {
	case OID_INT8:
		memcpy(&u, v, 8);
		return (int64_t)be64toh(u);
	case OID_INT4: {
		uint32_t w;
		memcpy(&w, v, 4);
		return (int32_t)ntohl(w);
	}
	case OID_INT2: {
		uint16_t h;
		memcpy(&h, v, 2);
		return (int16_t)ntohs(h);
	}
	case OID_BOOL:
		return v[0] != 0;
	default:
		pt_warn("sql: statement %d column %d is not an integer", (int)st->id, col);
		return 0;
	}
}

const void *
pgd_col_bytes(struct pt_st *st, int col, size_t *n)
{
	assert(st->res != NULL && st->row < st->nrows);
	if (PQgetisnull(st->res, st->row, col)) {
		*n = 0;
		return NULL;
	}
	*n = (size_t)PQgetlength(st->res, st->row, col);
	return PQgetvalue(st->res, st->row, col);
}

/* Runs SQL text (no parameters, several statements allowed) on the connection. */
static bool
run(const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType s = PQresultStatus(r);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
	if (!ok)
		snprintf(err, errlen, "schema: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok;
}

/* One integer from a query without parameters; -1 when there is no row. */
static long long
scalar(const char *sql, bool *ok)
{
	PGresult *r = PQexec(conn, sql);
	long long v = -1;
	*ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	if (*ok && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return v;
}

/* Schema 6 (OpenID Connect): the columns of the tables that were there at 5 (the keys
 * table is new: schema.pg.sql makes it). */
static const char to6_columns[] =
    "ALTER TABLE users ADD COLUMN IF NOT EXISTS email TEXT, ADD COLUMN IF NOT EXISTS full_name TEXT;"
    " ALTER TABLE tokens ADD COLUMN IF NOT EXISTS nonce TEXT, ADD COLUMN IF NOT EXISTS auth_time BIGINT;"
    " ALTER TABLE apps ADD COLUMN IF NOT EXISTS id_token_signed_response_alg TEXT NOT NULL"
    " DEFAULT 'RS256';";

/* Schema 7 (RP-Initiated Logout): apps get their post-logout redirect URIs. */
static const char to7_columns[] =
    "ALTER TABLE apps ADD COLUMN IF NOT EXISTS post_logout_redirect_uris TEXT NOT NULL DEFAULT '';";

/* Schema 8: apps get (self-registered clients, RFC 7591/7592; the consent page's links)
 * their auth method, application_type, registration token hash and links, and (JWT
 * access tokens) their access token format; client_documents and client_tokens are new
 * (schema.pg.sql makes them). */
static const char to8_columns[] =
    "ALTER TABLE apps ADD COLUMN IF NOT EXISTS token_endpoint_auth_method TEXT NOT NULL DEFAULT '',"
    " ADD COLUMN IF NOT EXISTS application_type TEXT NOT NULL DEFAULT '',"
    " ADD COLUMN IF NOT EXISTS registration_token_hash BYTEA, ADD COLUMN IF NOT EXISTS client_uri TEXT,"
    " ADD COLUMN IF NOT EXISTS policy_uri TEXT, ADD COLUMN IF NOT EXISTS tos_uri TEXT,"
    " ADD COLUMN IF NOT EXISTS access_token_format TEXT NOT NULL DEFAULT 'opaque';";

/* Schema 9 (DPoP): tokens and client_tokens get their key thumbprint, apps require_dpop;
 * dpop_proofs is new (schema.pg.sql makes it, and client_tokens with its jkt below 8). */
static const char to9_columns[] =
    "ALTER TABLE apps ADD COLUMN IF NOT EXISTS require_dpop BIGINT NOT NULL DEFAULT 0;"
    " ALTER TABLE tokens ADD COLUMN IF NOT EXISTS jkt TEXT;";
static const char to9_client_tokens[] = "ALTER TABLE client_tokens ADD COLUMN IF NOT EXISTS jkt TEXT;";

int
pgd_init_schema(char *err, size_t errlen)
{
	if (!connect_now()) {
		snprintf(err, errlen, "cannot connect to the database");
		return PT_ERR_BUSY;
	}
	char sql[160];
	bool ok;
	/* nodes starting together bring the schema up to date once, one after the other */
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)", PG_LOCK_SCHEMA);
	if (!run(sql, err, errlen))
		goto fail;
	long long version = scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
				   " AND tablename = 'postern_schema'", &ok);
	if (ok && version > 0)
		version = scalar("SELECT coalesce(max(version), 0) FROM postern_schema", &ok);
	if (!ok || version < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s", PQerrorMessage(conn));
		goto fail;
	}
	if (version > PT_SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema %lld is newer than this postern (%d)", version,
		    PT_SCHEMA_VERSION);
		goto fail;
	}
	/* schema.pg.sql is idempotent and records its level; the columns that tables it
	 * finds already made lack come before it, as in SQLite's migrations */
	if (version >= 5 && version < 6 && !run(to6_columns, err, errlen))
		goto fail;
	if (version >= 5 && version < 7 && !run(to7_columns, err, errlen))
		goto fail;
	if (version >= 5 && version < 8 && !run(to8_columns, err, errlen))
		goto fail;
	if (version >= 5 && version < 9 && !run(to9_columns, err, errlen))
		goto fail;
	if (version == 8 && !run(to9_client_tokens, err, errlen))
		goto fail;
	if (version < PT_SCHEMA_VERSION && !run(pt_schema_pg_sql, err, errlen))
		goto fail;
	if (!run("COMMIT", err, errlen))
		goto fail;
	if (version > 0 && version < PT_SCHEMA_VERSION)
		pt_info("database schema %lld brought up to %d", version, PT_SCHEMA_VERSION);
	return PT_OK;
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return PT_ERR_DB;
}

void
pgd_maintain(void)
{
	/* autovacuum keeps PostgreSQL's tables and statistics: nothing to do */
}

int
pgd_try_lock(bool *got)
{
	*got = false;
	if (!connect_now())
		return PT_ERR_BUSY;
	char sql[80];
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)", PG_LOCK_EXCLUSIVE);
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok)
		*got = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	return ok ? PT_OK : PT_ERR_DB;
}
