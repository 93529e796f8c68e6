/* store.h: inside the storage module only (lib/sql.c, lib/db*.c, lib/store*.c): the ids
 * of the statement table and the calls that run them on whichever backend is open. */
#ifndef PT_STORE_H
#define PT_STORE_H

#include "postern.h"

/* Every statement of every executable, by index; the text is in sql.c. */
enum pt_q {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	/* ---- users, sessions, organizations */
	Q_USER_BY_NAME,
	Q_USER_BY_ID,
	Q_USER_INSERT,
	Q_ORG_PERSONAL_INSERT,
	Q_MEMBER_INSERT,
	Q_USER_ORGS,
	Q_USER_IN_ORG,
	Q_SESSION_INSERT,
	Q_SESSION_GET,
	Q_SESSION_DELETE,
	Q_SESSIONS_END_ALL,
	/* ---- apps as the OAuth core reads them; deleting apps and users */
	Q_APP_BY_CLIENT_ID,
	Q_APP_DISABLE,
	Q_APP_TOKENS_BATCH,
	Q_APP_GRANTS_BATCH,
	Q_APP_DELETE,
	Q_USER_APPS,
	Q_USER_TOKENS_BATCH,
	Q_USER_DELETE,
	/* ---- grants, codes, tokens */
	Q_GRANT_FIND,
	Q_GRANT_FIND_ANY,
	Q_GRANT_UPSERT,
	Q_CODE_INSERT,
	Q_CODE_REDEEM,
	Q_CODE_TRIM,
	Q_CODE_GET,
	Q_REFRESH_FROM_CODE,
	Q_TOKEN_INSERT,
	Q_TOKEN_DELETE_BY_CODE,
	Q_TOKEN_CHECK,
	Q_TOKEN_TOUCH,
	Q_GRANT_TOUCH,
	Q_REFRESH_TAKE,
	Q_GRANT_DELETE,
	Q_TOKEN_DELETE,
	Q_CLIENT_TOKEN_INSERT,
	Q_CLIENT_TOKEN_CHECK,
	Q_CLIENT_TOKEN_TOUCH,
	Q_CLIENT_TOKEN_DELETE,
	Q_DPOP_PROOF_USE,
	/* ---- pending consent requests */
	Q_REQUEST_TRIM,
	Q_REQUEST_INSERT,
	Q_REQUEST_TAKE,
	/* ---- apps pages, registration, pictures, approved apps */
	Q_APP_INSERT,
	Q_APP_PICTURE_SET,
	Q_APP_PICTURE_CLEAR,
	Q_APP_ROTATE,
	Q_APPS_LIST,
	Q_APPS_GET,
	Q_APPS_UPDATE,
	Q_APPS_PICTURE_GET,
	Q_REGISTER_INSERT,
	Q_REGISTER_GET,
	Q_APP_CONSENT_INFO,
	Q_REGISTER_UPDATE,
	Q_APPROVED_LIST,
	Q_APPROVED_GET,
	Q_APPROVED_DELETE,
	Q_ATTEMPTS_GET,
	Q_ATTEMPTS_ADD,
	Q_REVOCABLE_GET,
	Q_CLIENT_REVOCABLE_GET,
	/* ---- device grant and bridged device logins */
	Q_DEVICE_GET,
	Q_DEVICE_SLOW,
	Q_DEVICE_POLL,
	Q_DEVICE_COLLECT,
	Q_DEVICE_INSERT,
	Q_DEVICE_BY_USER_CODE,
	Q_DEVICE_DECIDE,
	Q_BRIDGE_INSERT,
	Q_BRIDGE_POLL,
	Q_BRIDGE_COLLECT,
	Q_BRIDGE_DELETE,
	Q_BRIDGE_BY_USER_CODE,
	Q_BRIDGE_SEND,
	Q_BRIDGE_BY_STATE,
	Q_BRIDGE_TAKE_STATE,
	Q_BRIDGE_READY,
	Q_BRIDGE_RETRY,
	/* ---- the admin command */
	Q_ADMIN_USER_LIST,
	Q_ADMIN_USER_PASSWD,
	Q_ADMIN_USER_ID,
	Q_ADMIN_ORG_ADD,
	Q_ADMIN_ORG_GET,
	Q_ADMIN_MEMBER_ADD,
	Q_ADMIN_MEMBER_DEL,
	Q_ADMIN_MEMBER_GRANTS_DEL,
	Q_ADMIN_MEMBER_DEVICES_DEL,
	Q_ADMIN_ORG_DEL,
	Q_ADMIN_APP_LIST,
	Q_ADMIN_APP_ID,
	Q_ADMIN_APP_SET_RS,
	Q_ADMIN_TOKEN_LIST,
	Q_ADMIN_USER_GRANTS_DEL,
	Q_ADMIN_USER_DEVICES_DEL,
	Q_ADMIN_GRANT_FOR,
	/* ---- OpenID Connect: signing keys, users' claims */
	Q_KEY_INSERT,
	Q_KEYS_RETIRE,
	Q_KEY_SIGNING,
	Q_KEYS_LIST,
	Q_USER_CLAIMS,
	Q_USER_PROFILE_SET,
	Q_ADMIN_APP_SET_ALG,
	Q_ADMIN_APP_SET_FORMAT,
	Q_ADMIN_APP_SET_DPOP,
	Q_JANITOR_CODES,
	Q_JANITOR_REDEEMED,
	Q_JANITOR_SESSIONS,
	Q_JANITOR_DEVICES,
	Q_JANITOR_BRIDGE,
	Q_JANITOR_TOKENS,
	Q_JANITOR_CLIENT_TOKENS,
	Q_JANITOR_ATTEMPTS,
	Q_JANITOR_REQUESTS,
	Q_JANITOR_DPOP,
	Q_METRICS_COUNTS,
	Q_JANITOR_KEYS,
	/* ---- Client ID Metadata Documents (lib/cimd.c) */
	Q_CIMD_GET,
	Q_CIMD_APP_SAVE,
	Q_CIMD_DOC_SAVE,
	Q_JANITOR_UNAPPROVED,
	Q__MAX
};

/* A statement's text for each backend. pg NULL: the SQLite text, its ?N and ?
 * parameters written $N for PostgreSQL (sql.c keeps to SQL both accept). */
struct pt_sql {
	const char *sqlite;
	const char *pg;
};
extern const struct pt_sql pt_sql[Q__MAX];

/* What st_step returns besides the PT_ERR_ codes. */
enum { ST_ROW = 100, ST_DONE = 101 };

/* A prepared statement of the table on the open connection. */
struct pt_st;

/* The statement ready for binds: prepared once per connection, its last run reset and
 * its binds cleared. NULL when it cannot be prepared or the database is unreachable
 * (logged); every st_ call below takes NULL and fails the run with PT_ERR_DB (or
 * PT_ERR_BUSY while the database is unreachable). */
struct pt_st *st_get(enum pt_q);
/* Binds parameter i (1-based). Texts and blobs are not copied: they must outlive the
 * run (they do: the caller's arena or stack). A NULL text binds NULL. */
void st_int(struct pt_st *, int i, int64_t v);
void st_text(struct pt_st *, int i, const char *s);
void st_textn(struct pt_st *, int i, const char *s, size_t n);
void st_blob(struct pt_st *, int i, const void *p, size_t n);
void st_null(struct pt_st *, int i);
/* The next row: ST_ROW, ST_DONE, PT_ERR_BUSY (locked past PT_DB_BUSY_MS, a
 * serialization failure, or the database unreachable: answer 503 and retry later),
 * PT_ERR_EXISTS (a unique key already taken) or PT_ERR_DB. */
int st_step(struct pt_st *);
/* Runs a statement to its end (rows, if any, skipped); PT_OK or st_step's errors. */
int st_exec(struct pt_st *) PT_WUR;
/* The same without waiting for another writer: PT_ERR_BUSY at once when locked. */
int st_exec_nowait(struct pt_st *) PT_WUR;
/* One statement outside a transaction, durable like pt_begin_durable. */
int st_exec_durable(struct pt_st *) PT_WUR;
/* Runs a statement that must change exactly one row (a conditional UPDATE or DELETE:
 * single use, a state change, an owner's row): PT_OK, PT_ERR_NOTFOUND when it changed
 * none, or st_step's errors. The durable one as st_exec_durable. */
int st_exec_one(struct pt_st *) PT_WUR;
int st_exec_one_durable(struct pt_st *) PT_WUR;
/* Steps once: PT_OK with the row to read, PT_ERR_NOTFOUND when there is none, or an
 * error of st_step. */
int st_one(struct pt_st *) PT_WUR;
/* Rows the last run of the statement inserted, changed or deleted. */
int64_t st_changes(struct pt_st *);
/* Ends a run early (releases its read snapshot); st_get does it too. */
void st_reset(struct pt_st *);
/* Columns of the current row, 0-based. Integers and booleans read as int64 (NULL 0). */
int64_t st_col_int(struct pt_st *, int col);
bool st_col_null(struct pt_st *, int col);
/* A text column copied into the arena; "" for NULL. */
char *st_col_text(pt_arena *, struct pt_st *, int col);
/* The same, NULL for NULL. */
char *st_col_text_or_null(pt_arena *, struct pt_st *, int col);
/* A blob column copied into the arena, *n its length; NULL for NULL. */
const uint8_t *st_col_blob(pt_arena *, struct pt_st *, int col, size_t *n);
/* Copies a blob column of exactly n bytes into out; false (out zeroed) otherwise. */
bool st_col_fixed(struct pt_st *, int col, void *out, size_t n);

/* Reads a row of APP_COLUMNS (sql.c): Q_APP_BY_CLIENT_ID and Q_APPS_GET. */
void st_read_app(pt_arena *, struct pt_st *, struct pt_app *);

/* Which backend the open connection is. */
bool st_is_pg(void);

/* ---------------------------------------------------------------- backends */

#define PT_ST_MAX_PARAMS 20

struct sqlite3_stmt;
struct pg_result;

/* One statement of the table on the open connection (db.c keeps Q__MAX of them). */
struct pt_st {
	enum pt_q id;
	int64_t changes;                  /* rows its last run changed */
	struct sqlite3_stmt *lite;        /* SQLite: prepared once per process */
	/* PostgreSQL (db_pg.c): prepared once per connection, as "q<id>" */
	unsigned prepared_on;             /* the connection generation it was prepared on */
	int nparams;
	const char *values[PT_ST_MAX_PARAMS];
	int lengths[PT_ST_MAX_PARAMS];
	int formats[PT_ST_MAX_PARAMS];
	char ints[PT_ST_MAX_PARAMS][24];  /* integers are sent as decimal text */
	struct pg_result *res;            /* the run's rows, read one by one */
	int row, nrows;
	bool ran;
};

/* db_pg.c, for db.c only. */
int pgd_open(const char *uri);
void pgd_close(void);
void *pgd_handle(void);
int pgd_init_schema(char *err, size_t errlen);
int pgd_st_get(struct pt_st *);
void pgd_st_free(struct pt_st *);
void pgd_bind_int(struct pt_st *, int i, int64_t v);
void pgd_bind(struct pt_st *, int i, const void *p, size_t n, bool binary);
int pgd_step(struct pt_st *);
int pgd_exec_nowait(struct pt_st *);
void pgd_reset(struct pt_st *);
int64_t pgd_col_int(struct pt_st *, int col);
bool pgd_col_null(struct pt_st *, int col);
const void *pgd_col_bytes(struct pt_st *, int col, size_t *n);
bool pgd_in_transaction(void);
void pgd_maintain(void);
int pgd_try_lock(bool *got);


#endif
