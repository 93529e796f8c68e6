/* mint.c: bulk seeding for the benchmarks: codes, device codes, live tokens and expired rows, through the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store.h"

/*
 * usage: mint --config FILE --user NAME --app CLIENT_ID KIND N
 *   codes N    N authorization codes (no PKCE, redirect_uri not given), one per line
 *   devices N  N pending device codes for the app, one per line
 *   tokens N   N live access tokens in one transaction (not printed: seeding only)
 *   expired N  N expired codes, N expired device requests and N expired sessions
 *   unknown N  N well-formed access tokens that are not in the database, one per line
 *
 * Rows are written with the library's hash (pt_hash with the config's key) and its
 * prepared statements where one exists, so the servers see exactly what the browser
 * flows would leave behind. One transaction per call: a million tokens take seconds.
 */

enum { M_USER, M_DEVICE_INSERT, M_SESSION_INSERT, M__MAX };
static const char *const sql[M__MAX] = {
	[M_USER] = "SELECT u.id, o.id FROM users u JOIN orgs o ON o.personal_of = u.id WHERE u.name = ?",
	[M_DEVICE_INSERT] = "INSERT INTO devices (hash, user_code, app_id, scope, state, interval, expires)"
			    " VALUES (?, ?, ?, ?, 0, ?, ?)",
	[M_SESSION_INSERT] = "INSERT INTO sessions (hash, user_id, created, expires) VALUES (?, ?, ?, ?)",
};
static sqlite3_stmt *stmts[M__MAX];

static void
die(const char *msg)
{
	fprintf(stderr, "mint: %s\n", msg);
	exit(1);
}

static sqlite3_stmt *
q(int i)
{
	sqlite3_stmt *st = pt_stmt_sql(&stmts[i], sql[i]);
	if (st == NULL)
		die(sqlite3_errmsg(pt_db()));
	return st;
}

static void
step_done(sqlite3_stmt *st)
{
	if (pt_exec(st) != PT_OK)
		die(sqlite3_errmsg(pt_db()));
}

/* An authorization code (no PKCE, redirect_uri not given) expiring at expires. */
static void
code_insert(char tok[PT_TOKEN_LEN + 1], int64_t grant, const char *scope, int64_t expires)
{
	uint8_t h[PT_HASH_LEN];
	pt_token_new(tok, "pac_");
	pt_hash(h, tok, PT_TOKEN_LEN);
	sqlite3_stmt *st = pt_stmt(ST_CODE_INSERT);
	pt_bind_blob(st, 1, h, sizeof(h));
	sqlite3_bind_int64(st, 2, grant);
	pt_bind_text(st, 3, "", 0);
	sqlite3_bind_int(st, 4, 0);
	pt_bind_text(st, 5, scope, strlen(scope));
	sqlite3_bind_int64(st, 8, expires);
	sqlite3_bind_int64(st, 9, expires - 3600);
	step_done(st);
}

/* A pending device request of the app, expiring at expires; tok gets its device code. */
static void
device_insert(char tok[PT_TOKEN_LEN + 1], int64_t app_id, const char *scope, long interval,
    int64_t expires)
{
	uint8_t h[PT_HASH_LEN];
	char user_code[9];
	pt_token_new(tok, "pdc_");
	pt_hash(h, tok, PT_TOKEN_LEN);
	pt_random_b62(user_code, 8);
	user_code[8] = '\0';
	sqlite3_stmt *st = q(M_DEVICE_INSERT);
	pt_bind_blob(st, 1, h, sizeof(h));
	pt_bind_text(st, 2, user_code, 8);
	sqlite3_bind_int64(st, 3, app_id);
	pt_bind_text(st, 4, scope, strlen(scope));
	sqlite3_bind_int64(st, 5, interval);
	sqlite3_bind_int64(st, 6, expires);
	step_done(st);
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *user = NULL, *app_id = NULL, *kind = NULL;
	long n = -1;
	char err[512];
	struct pt_config cfg;
	struct pt_app app;
	int64_t uid, org, grant;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else if (strcmp(argv[i], "--app") == 0 && i + 1 < argc)
			app_id = argv[++i];
		else if (kind == NULL)
			kind = argv[i];
		else if (n < 0) {
			long long v;
			if (pt_strtonum(argv[i], 0, 100000000, &v) != PT_OK)
				die("N must be a number from 0 to 100000000");
			n = (long)v;
		} else
			die("too many arguments");
	}
	if (config == NULL || user == NULL || app_id == NULL || kind == NULL || n < 0)
		die("usage: mint --config FILE --user NAME --app CLIENT_ID codes|devices|tokens|expired|unknown N");
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	if (pt_config_load(&cfg, config, err, sizeof(err)) != PT_OK)
		die(err);
	pt_hash_key(cfg.key);
	if (pt_db_open(cfg.database, PT_SYNC_NORMAL) != PT_OK)
		die("cannot open the database");
	/* a big page cache so a million random-key index inserts stay in memory */
	sqlite3_exec(pt_db(), "PRAGMA cache_size = -262144", NULL, NULL, NULL);

	struct pt_ctx ctx = pt_ctx_init(pt_arena_new(), &cfg);
	sqlite3_stmt *st = q(M_USER);
	pt_bind_text(st, 1, user, strlen(user));
	if (sqlite3_step(st) != SQLITE_ROW)
		die("no such user");
	uid = sqlite3_column_int64(st, 0);
	org = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (pt_app_get(ctx.a, app_id, strlen(app_id), &app) != PT_OK)
		die("no such app");

	const char *scope = cfg.default_scope;
	int64_t now = pt_now();
	char tok[PT_TOKEN_LEN + 1];
	uint8_t h[PT_HASH_LEN];
	if (pt_begin() != PT_OK)
		die("BEGIN failed");
	if (pt_grant_record(&ctx, uid, app.id, org, scope, NULL, &grant) != PT_OK)
		die("could not record the grant");
	for (long i = 0; i < n; i++) {
		if (strcmp(kind, "codes") == 0) {
			/* long enough to outlive a whole benchmark run */
			code_insert(tok, grant, scope, now + 3600);
			puts(tok);
		} else if (strcmp(kind, "devices") == 0) {
			device_insert(tok, app.id, scope, cfg.device_interval, now + 3600);
			puts(tok);
		} else if (strcmp(kind, "tokens") == 0) {
			pt_token_new(tok, "pat_");
			pt_hash(h, tok, PT_TOKEN_LEN);
			st = pt_stmt(ST_TOKEN_INSERT);
			pt_bind_blob(st, 1, h, sizeof(h));
			sqlite3_bind_int(st, 2, PT_KIND_ACCESS);
			sqlite3_bind_int64(st, 3, grant);
			pt_bind_text(st, 5, scope, strlen(scope));
			sqlite3_bind_int64(st, 7, now);
			step_done(st);
		} else if (strcmp(kind, "expired") == 0) {
			code_insert(tok, grant, scope, now - 60);
			device_insert(tok, app.id, scope, cfg.device_interval, now - 60);
			pt_token_new(tok, "pse_");
			pt_hash(h, tok, PT_TOKEN_LEN);
			st = q(M_SESSION_INSERT);
			pt_bind_blob(st, 1, h, sizeof(h));
			sqlite3_bind_int64(st, 2, uid);
			sqlite3_bind_int64(st, 3, now - 7200);
			sqlite3_bind_int64(st, 4, now - 60);
			step_done(st);
		} else if (strcmp(kind, "unknown") == 0) {
			pt_token_new(tok, "pat_");
			puts(tok);
		} else {
			die("KIND is codes, devices, tokens, expired or unknown");
		}
	}
	if (pt_commit() != PT_OK)
		die("COMMIT failed");
	sodium_memzero(tok, sizeof(tok));
	return 0;
}
