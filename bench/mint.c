/* mint.c: bulk seeding for the benchmarks: codes, device codes, live tokens and expired rows, through the library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

/*
 * usage: mint --config FILE --user NAME --app CLIENT_ID [--scope S] KIND N
 *   --scope S  the scope of the grant and of what is minted (default: the config's
 *              default_scope); with openid, a code's redemption signs an id_token
 *   codes N    N authorization codes (no PKCE, redirect_uri not given), one per line
 *   devices N  N pending device codes for the app, one per line
 *   tokens N   N live access tokens in one transaction (not printed: seeding only)
 *   expired N  N expired codes, N expired device requests and N expired sessions
 *   unknown N  N well-formed access tokens that are not in the database, one per line
 *
 * Rows are written with the library's hash (pt_hash with the config's key) and its
 * storage functions, so the servers see exactly what the browser
 * flows would leave behind. One transaction per call: a million tokens take seconds.
 */

static void
die(const char *msg)
{
	fprintf(stderr, "mint: %s\n", msg);
	exit(1);
}

static void
inserted(int rc)
{
	if (rc != PT_OK)
		die("an insert failed (details in the log)");
}

/* An authorization code (no PKCE, redirect_uri not given) expiring at expires, the user
 * signed in an hour before (and, for openid, with a nonce, as a relying party sends). */
static void
code_insert(char tok[PT_TOKEN_LEN + 1], int64_t grant, const char *scope, int64_t expires)
{
	uint8_t h[PT_HASH_LEN];
	pt_token_new(tok, "pac_");
	pt_hash(h, tok, PT_TOKEN_LEN);
	struct pt_code_row c = {.grant_id = grant, .redirect_uri = "", .scope = scope, .expires = expires,
	    .nonce = pt_word_in("openid", 6, scope) ? "n-0S6_WzA2Mj-bench" : NULL,
	    .auth_time = expires - 3600};
	inserted(pt_db_code_insert(h, &c, expires - 3600));
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
	inserted(pt_db_device_insert(h, user_code, app_id, scope, interval, expires));
}

int
main(int argc, char **argv)
{
	const char *config = NULL, *user = NULL, *app_id = NULL, *kind = NULL, *scope = NULL;
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
		else if (strcmp(argv[i], "--scope") == 0 && i + 1 < argc)
			scope = argv[++i];
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
		die("usage: mint --config FILE --user NAME --app CLIENT_ID [--scope S] codes|devices|tokens|expired|unknown N");
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	if (pt_config_load(&cfg, config, err, sizeof(err)) != PT_OK)
		die(err);
	pt_hash_key(cfg.key);
	if (pt_db_open(cfg.database, PT_SYNC_NORMAL) != PT_OK)
		die("cannot open the database");
	/* a big page cache so a million random-key index inserts stay in memory */
	pt_db_bulk();

	struct pt_ctx ctx = pt_ctx_init(pt_arena_new(), &cfg);
	if (pt_db_admin_user_id(user, &uid, &org) != PT_OK || org == 0)
		die("no such user (with a personal organization)");
	if (pt_app_get(ctx.a, app_id, strlen(app_id), &app) != PT_OK)
		die("no such app");

	if (scope == NULL)
		scope = cfg.default_scope;
	else if (!pt_scopes_ok(&cfg, scope, strlen(scope), NULL))
		die("--scope names a scope that is not in the config");
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
			inserted(pt_db_token_insert(h, PT_KIND_ACCESS, grant, NULL, scope, NULL, now, 0, 0, NULL));
		} else if (strcmp(kind, "expired") == 0) {
			code_insert(tok, grant, scope, now - 60);
			device_insert(tok, app.id, scope, cfg.device_interval, now - 60);
			pt_token_new(tok, "pse_");
			pt_hash(h, tok, PT_TOKEN_LEN);
			inserted(pt_db_session_insert(h, uid, now - 7200, now - 60));
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
