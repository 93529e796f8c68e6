/* admin.c: the admin command (built as `postern`): init, users, organizations, apps, tokens, janitor, backup. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store.h"

/* The admin command's own SQL, by index. */
enum {
	LQ_USER_LIST, LQ_USER_PASSWD, LQ_USER_ID, LQ_ORG_ADD, LQ_ORG_GET, LQ_MEMBER_ADD,
	LQ_MEMBER_DEL, LQ_MEMBER_GRANTS_DEL, LQ_MEMBER_DEVICES_DEL, LQ_ORG_DEL, LQ_APP_LIST,
	LQ_APP_ID, LQ_APP_SET_RS, LQ_TOKEN_LIST, LQ_TOKEN_DEL, LQ_GRANT_DEL, LQ_USER_GRANTS_DEL, LQ_USER_DEVICES_DEL,
	LQ_JANITOR_CODES, LQ_JANITOR_REDEEMED, LQ_JANITOR_SESSIONS, LQ_JANITOR_DEVICES, LQ_JANITOR_TOKENS,
	LQ_JANITOR_ATTEMPTS, LQ_JANITOR_REQUESTS, LQ_JANITOR_BRIDGE, LQ_GRANT_FOR, LQ_ORG_MEMBERS, LQ__MAX
};
static const char *const sql[LQ__MAX] = {
	[LQ_USER_LIST] = "SELECT u.id, u.name, u.is_admin, u.created, o.id FROM users u"
			" LEFT JOIN orgs o ON o.personal_of = u.id ORDER BY u.id",
	[LQ_USER_PASSWD] = "UPDATE users SET password = ? WHERE name = ?",
	[LQ_USER_ID] = "SELECT u.id, o.id FROM users u LEFT JOIN orgs o ON o.personal_of = u.id"
		      " WHERE u.name = ?",
	[LQ_ORG_ADD] = "INSERT INTO orgs (name, created) VALUES (?, ?)",
	[LQ_ORG_GET] = "SELECT id, name, personal_of FROM orgs WHERE id = ?",
	[LQ_MEMBER_ADD] = "INSERT INTO members (org_id, user_id, role) VALUES (?, ?, ?)"
			 " ON CONFLICT DO UPDATE SET role = excluded.role",
	[LQ_MEMBER_DEL] = "DELETE FROM members WHERE org_id = ? AND user_id = ?",
	/* leaving an organization ends what the user granted for it: grants (their codes
	 * and tokens go by cascade) and device approvals not yet collected */
	[LQ_MEMBER_GRANTS_DEL] = "DELETE FROM grants WHERE org_id = ? AND user_id = ?",
	[LQ_MEMBER_DEVICES_DEL] = "DELETE FROM devices WHERE org_id = ? AND user_id = ?",
	/* members, grants (codes, tokens) and device approvals go by cascade */
	[LQ_ORG_DEL] = "DELETE FROM orgs WHERE id = ? AND personal_of IS NULL",
	[LQ_APP_LIST] = "SELECT a.client_id, a.name, a.description, a.redirect_uris, a.scopes,"
		       " a.grant_types, a.public, a.trusted, a.require_pkce, a.registered,"
		       " coalesce(u.name, ''), a.created, a.resource_server FROM apps a"
		       " LEFT JOIN users u ON u.id = a.owner_id"
		       " WHERE ?1 IS NULL OR a.client_id = ?1 ORDER BY a.id",
	[LQ_APP_ID] = "SELECT id FROM apps WHERE client_id = ?",
	[LQ_APP_SET_RS] = "UPDATE apps SET resource_server = ? WHERE client_id = ?",
	[LQ_TOKEN_LIST] = "SELECT t.id, t.kind, u.name, a.client_id, g.org_id, t.scope, t.created,"
			 " t.expires, t.last_used, g.id FROM tokens t JOIN grants g ON g.id = t.grant_id"
			 " JOIN users u ON u.id = g.user_id JOIN apps a ON a.id = g.app_id"
			 " WHERE t.kind IN (1, 2) AND (?1 IS NULL OR u.name = ?1)"
			 " AND (?2 IS NULL OR a.client_id = ?2) ORDER BY t.id",
	[LQ_TOKEN_DEL] = "DELETE FROM tokens WHERE id = ?",
	[LQ_GRANT_DEL] = "DELETE FROM grants WHERE id = ?",
	[LQ_USER_GRANTS_DEL] = "DELETE FROM grants WHERE user_id = ?",
	[LQ_USER_DEVICES_DEL] = "DELETE FROM devices WHERE user_id = ?",
	/* each janitor statement removes at most a batch (?2): it runs again until less
	 * comes back, one short transaction at a time */
	[LQ_JANITOR_CODES] = "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens"
			    " WHERE code_expires <= ?1 AND kind = 0 LIMIT ?2)",
	/* a redeemed code past its life: its request goes (a replay can no longer be
	 * checked against it, and is refused without revoking anything) */
	[LQ_JANITOR_REDEEMED] = "UPDATE tokens SET code_expires = NULL, redirect_uri = NULL,"
			       " redirect_given = NULL, challenge = NULL WHERE id IN (SELECT id"
			       " FROM tokens WHERE code_expires <= ?1 LIMIT ?2)",
	[LQ_JANITOR_SESSIONS] = "DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions"
			       " WHERE expires <= ?1 LIMIT ?2)",
	[LQ_JANITOR_DEVICES] = "DELETE FROM devices WHERE hash IN (SELECT hash FROM devices"
			      " WHERE expires <= ?1 LIMIT ?2)",
	/* bridged device logins, with any upstream token never collected */
	[LQ_JANITOR_BRIDGE] = "DELETE FROM bridge_devices WHERE hash IN (SELECT hash FROM bridge_devices"
			     " WHERE expires <= ?1 LIMIT ?2)",
	[LQ_JANITOR_TOKENS] = "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens"
			     " WHERE expires IS NOT NULL AND expires <= ?1 LIMIT ?2)",
	[LQ_JANITOR_ATTEMPTS] = "DELETE FROM attempts WHERE (key, window) IN (SELECT key, window"
			       " FROM attempts WHERE window < ?1 LIMIT ?2)",
	[LQ_JANITOR_REQUESTS] = "DELETE FROM requests WHERE id IN (SELECT id FROM requests"
			       " WHERE expires <= ?1 LIMIT ?2)",
	[LQ_GRANT_FOR] = "SELECT id FROM grants WHERE user_id = ? AND app_id ="
			" (SELECT id FROM apps WHERE client_id = ?) AND org_id = ?",
	[LQ_ORG_MEMBERS] = "SELECT 1 FROM members WHERE org_id = ? AND user_id = ?",
};
static sqlite3_stmt *stmts[LQ__MAX];
static struct pt_config cfg;
static bool json;
static pt_arena *arena;

static sqlite3_stmt *
q(int i)
{
	return pt_stmt_sql(&stmts[i], sql[i]);
}

static void die(const char *fmt, ...) PT_PRINTF(1, 2) __attribute__((noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("postern: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void
json_str(const char *s)
{
	pt_buf b;
	pt_buf_init(&b, arena);
	pt_buf_json(&b, s, strlen(s));
	fputs(b.p, stdout);
}

/* ------------------------------------------------------------ options */

/* A tiny option scanner: --name VALUE and --flag; positional arguments kept in order. */
struct opts {
	const char *pos[8];
	int npos;
	const char *val[16][2];
	int nval;
	const char *multi[PT_MAX_REDIRECT_URIS];
	int nmulti;
};

static void
parse_opts(int argc, char **argv, const char *const *valued, const char *const *flags,
    struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0) {
			if (o->npos == 8)
				die("too many arguments");
			o->pos[o->npos++] = a;
			continue;
		}
		bool known = false;
		for (int k = 0; valued[k]; k++) {
			if (strcmp(a + 2, valued[k]) != 0)
				continue;
			if (i + 1 >= argc)
				die("%s needs a value", a);
			if (strcmp(valued[k], "redirect-uri") == 0) {
				if (o->nmulti == PT_MAX_REDIRECT_URIS)
					die("at most %d redirect URIs", PT_MAX_REDIRECT_URIS);
				o->multi[o->nmulti++] = argv[++i];
			} else {
				if (o->nval == 16)
					die("too many options");
				o->val[o->nval][0] = valued[k];
				o->val[o->nval++][1] = argv[++i];
			}
			known = true;
			break;
		}
		for (int k = 0; !known && flags[k]; k++) {
			if (strcmp(a + 2, flags[k]) == 0) {
				o->val[o->nval][0] = flags[k];
				o->val[o->nval++][1] = "1";
				known = true;
			}
		}
		if (!known)
			die("unknown option %s (see --help)", a);
	}
}

static const char *
opt(const struct opts *o, const char *name)
{
	for (int i = 0; i < o->nval; i++)
		if (strcmp(o->val[i][0], name) == 0)
			return o->val[i][1];
	return NULL;
}

/* ------------------------------------------------------------ setup */

static void
load_config(const char *path)
{
	char err[512];
	if (pt_config_load(&cfg, path, err, sizeof(err)) != PT_OK)
		die("%s", err);
}

static void
open_db(void)
{
	if (!cfg.have_key)
		die("no secret key at %s: run `postern init` first", cfg.secret_key_file);
	pt_hash_key(cfg.key);
	if (pt_db_open(cfg.database, PT_SYNC_FULL) != PT_OK)
		die("cannot open the database %s (run `postern init`?)", cfg.database);
}

/* Reads a password from a file or stdin (first line), never from argv. */
static char *
read_password(const char *file)
{
	static char pw[PT_MAX_PASSWORD + 2];
	FILE *f = stdin;
	if (file != NULL && (f = fopen(file, "r")) == NULL)
		die("%s: %s", file, strerror(errno));
	if (file == NULL && isatty(0))
		fputs("Password: ", stderr);
	if (fgets(pw, sizeof(pw), f) == NULL)
		die("no password given (on stdin or with --password-file)");
	if (f != stdin)
		fclose(f);
	size_t n = strcspn(pw, "\r\n");
	if (n > PT_MAX_PASSWORD)
		die("the password is longer than %d bytes", PT_MAX_PASSWORD);
	pw[n] = '\0';
	if (n < PT_MIN_PASSWORD)
		die("the password must have at least %d characters", PT_MIN_PASSWORD);
	return pw;
}

static int
cmd_init(int argc, char **argv, const char *config_path)
{
	static const char *const valued[] = {"base-url", NULL}, *const flags[] = {NULL};
	struct opts o;
	char err[512];
	parse_opts(argc, argv, valued, flags, &o);
	if (config_path == NULL)
		config_path = getenv("POSTERN_CONFIG");
	if (config_path == NULL)
		die("init needs --config FILE or POSTERN_CONFIG");
	if (access(config_path, F_OK) != 0) {
		/* a first run: write a config with every key at its default */
		const char *base = opt(&o, "base-url") ? opt(&o, "base-url") : "http://127.0.0.1:8080";
		int fd = open(config_path, O_WRONLY | O_CREAT | O_EXCL, 0640);
		if (fd < 0)
			die("%s: %s", config_path, strerror(errno));
		FILE *f = fdopen(fd, "w");
		fprintf(f, "# postern configuration (see postern.conf.example for every key)\n"
			   "base_url = %s\ndatabase = postern.db\nsecret_key_file = secret.key\n"
			   "scope profile = See your user name and organization\n"
			   "default_scope = profile\n", base);
		fclose(f);
	}
	if (pt_config_load(&cfg, config_path, err, sizeof(err)) != PT_OK)
		die("%s", err);
	if (!cfg.have_key) {
		uint8_t key[32];
		char hex[65];
		randombytes_buf(key, sizeof(key));
		sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
		int fd = open(cfg.secret_key_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			die("%s: %s", cfg.secret_key_file, strerror(errno));
		if (write(fd, hex, 64) != 64 || write(fd, "\n", 1) != 1 || close(fd) != 0)
			die("%s: write failed", cfg.secret_key_file);
		sodium_memzero(key, sizeof(key));
		sodium_memzero(hex, sizeof(hex));
		pt_config_free(&cfg);
		if (pt_config_load(&cfg, config_path, err, sizeof(err)) != PT_OK)
			die("%s", err);
	}
	if (pt_db_create(cfg.database, err, sizeof(err)) != PT_OK)
		die("%s: %s", cfg.database, err);
	if (json)
		printf("{\"config\":\"%s\",\"database\":\"%s\"}\n", config_path, cfg.database);
	else
		printf("initialised %s (database %s)\n", config_path, cfg.database);
	return 0;
}

/* ------------------------------------------------------------ users */

static int64_t
user_id(const char *name, int64_t *org)
{
	sqlite3_stmt *st = q(LQ_USER_ID);
	pt_bind_text(st, 1, name, strlen(name));
	if (sqlite3_step(st) != SQLITE_ROW)
		die("no user named %s", name);
	int64_t id = sqlite3_column_int64(st, 0);
	if (org)
		*org = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	return id;
}

static int
cmd_user(int argc, char **argv)
{
	static const char *const valued[] = {"password-file", NULL};
	static const char *const flags[] = {"admin", "revoke-tokens", NULL};
	struct opts o;
	if (argc < 1)
		die("user: add|passwd|list|del|sessions (see --help)");
	parse_opts(argc - 1, argv + 1, valued, flags, &o);
	const char *sub = argv[0];
	open_db();
	if (strcmp(sub, "add") == 0) {
		if (o.npos != 1)
			die("usage: postern user add NAME [--admin] [--password-file F]");
		const char *name = o.pos[0];
		if (!pt_valid_username(name, strlen(name)))
			die("user names are 1-%d of a-z A-Z 0-9 . _ @ -", PT_MAX_USERNAME);
		char *pw = read_password(opt(&o, "password-file"));
		int64_t id;
		int rc = pt_user_create(name, strlen(name), pw, strlen(pw), opt(&o, "admin") != NULL, &id);
		sodium_memzero(pw, strlen(pw));
		if (rc != PT_OK)
			die("could not add %s (does the user exist already?)", name);
		int64_t org;
		user_id(name, &org);
		if (json)
			printf("{\"id\":%lld,\"name\":\"%s\",\"organization_id\":%lld}\n", (long long)id,
			    name, (long long)org);
		else
			printf("added user %s (id %lld, organization %lld)\n", name, (long long)id,
			    (long long)org);
	} else if (strcmp(sub, "passwd") == 0) {
		if (o.npos != 1)
			die("usage: postern user passwd NAME [--password-file F]");
		char *pw = read_password(opt(&o, "password-file"));
		char hash[crypto_pwhash_STRBYTES];
		if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
			die("out of memory hashing the password");
		sodium_memzero(pw, strlen(pw));
		int64_t uid = user_id(o.pos[0], NULL);
		bool revoke = opt(&o, "revoke-tokens") != NULL;
		/* a new password ends every session in the same transaction: a stolen cookie
		 * dies with the old password; with --revoke-tokens every app's access too */
		if (pt_begin() != PT_OK)
			die("database busy: try again");
		sqlite3_stmt *st = q(LQ_USER_PASSWD);
		pt_bind_text(st, 1, hash, strlen(hash));
		pt_bind_text(st, 2, o.pos[0], strlen(o.pos[0]));
		if (pt_exec(st) != PT_OK || sqlite3_changes(pt_db()) != 1)
			die("no user named %s", o.pos[0]);
		sodium_memzero(hash, sizeof(hash));
		if (pt_sessions_end_all(uid) != PT_OK)
			die("could not end the sessions; nothing changed");
		long long sessions = sqlite3_changes(pt_db()), grants = 0;
		if (revoke) {
			st = q(LQ_USER_GRANTS_DEL);
			sqlite3_bind_int64(st, 1, uid);
			if (pt_exec(st) != PT_OK)
				die("could not revoke the tokens; nothing changed");
			grants = sqlite3_changes(pt_db());
			st = q(LQ_USER_DEVICES_DEL);
			sqlite3_bind_int64(st, 1, uid);
			if (pt_exec(st) != PT_OK)
				die("could not revoke the device approvals; nothing changed");
		}
		if (pt_commit() != PT_OK)
			die("could not save; nothing changed");
		if (json)
			printf("{\"ok\":true,\"sessions_ended\":%lld,\"grants_revoked\":%lld}\n", sessions, grants);
		else
			printf("password changed; %lld session%s ended%s\n", sessions, sessions == 1 ? "" : "s",
			    revoke ? pt_printf(arena, ", %lld approval%s and their tokens revoked", grants,
			    grants == 1 ? "" : "s") : " (tokens kept: --revoke-tokens ends them too)");
	} else if (strcmp(sub, "sessions") == 0) {
		if (o.npos != 2 || strcmp(o.pos[0], "revoke") != 0)
			die("usage: postern user sessions revoke NAME");
		int64_t uid = user_id(o.pos[1], NULL);
		if (pt_sessions_end_all(uid) != PT_OK)
			die("could not end the sessions");
		long long n = sqlite3_changes(pt_db());
		if (json)
			printf("{\"ok\":true,\"sessions_ended\":%lld}\n", n);
		else
			printf("%lld session%s of %s ended\n", n, n == 1 ? "" : "s", o.pos[1]);
	} else if (strcmp(sub, "list") == 0) {
		sqlite3_stmt *st = q(LQ_USER_LIST);
		int n = 0;
		if (json)
			fputc('[', stdout);
		else
			printf("%-6s %-24s %-6s %s\n", "ID", "NAME", "ADMIN", "ORGANIZATION");
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(st, 1);
			if (json) {
				printf("%s{\"id\":%lld,\"name\":", n ? "," : "", sqlite3_column_int64(st, 0));
				json_str(name);
				printf(",\"admin\":%s,\"organization_id\":%lld}",
				    sqlite3_column_int(st, 2) ? "true" : "false", sqlite3_column_int64(st, 4));
			} else {
				printf("%-6lld %-24s %-6s %lld\n", sqlite3_column_int64(st, 0), name,
				    sqlite3_column_int(st, 2) ? "yes" : "no", sqlite3_column_int64(st, 4));
			}
			n++;
		}
		if (json)
			puts("]");
	} else if (strcmp(sub, "del") == 0) {
		if (o.npos != 1)
			die("usage: postern user del NAME");
		if (pt_user_delete(user_id(o.pos[0], NULL)) != PT_OK)
			die("could not delete %s (database busy?): run it again", o.pos[0]);
		printf(json ? "{\"ok\":true}\n" : "deleted user %s and everything they approved\n",
		    o.pos[0]);
	} else {
		die("user: unknown subcommand %s", sub);
	}
	return 0;
}

static int64_t
org_id(const char *v)
{
	long long org;
	if (pt_strtonum(v, 1, INT64_MAX, &org) != PT_OK)
		die("ORG_ID must be a number");
	return org;
}

static int
cmd_org(int argc, char **argv)
{
	static const char *const valued[] = {"owner", "role", NULL}, *const flags[] = {"remove", NULL};
	struct opts o;
	if (argc < 1)
		die("org: add|member|del (see --help)");
	parse_opts(argc - 1, argv + 1, valued, flags, &o);
	open_db();
	if (strcmp(argv[0], "add") == 0) {
		if (o.npos != 1 || opt(&o, "owner") == NULL)
			die("usage: postern org add NAME --owner USER");
		const char *name = o.pos[0];
		const char *why = pt_display_text_problem(arena, name, strlen(name), false);
		if (why != NULL)
			die("the organization name %s", why);
		if (strlen(name) == 0 || pt_utf8_len(name, strlen(name)) > PT_MAX_ORG_NAME)
			die("organization names are 1-%d printable characters", PT_MAX_ORG_NAME);
		int64_t owner = user_id(opt(&o, "owner"), NULL);
		if (pt_begin() != PT_OK)
			die("database busy");
		sqlite3_stmt *st = q(LQ_ORG_ADD);
		pt_bind_text(st, 1, name, strlen(name));
		sqlite3_bind_int64(st, 2, pt_now());
		if (pt_exec(st) != PT_OK)
			die("could not add the organization");
		int64_t id = sqlite3_last_insert_rowid(pt_db());
		st = q(LQ_MEMBER_ADD);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, owner);
		sqlite3_bind_text(st, 3, "owner", -1, SQLITE_STATIC);
		if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
			die("could not add the organization");
		if (json)
			printf("{\"id\":%lld}\n", (long long)id);
		else
			printf("added organization %s (id %lld)\n", name, (long long)id);
	} else if (strcmp(argv[0], "member") == 0) {
		if (o.npos != 2)
			die("usage: postern org member ORG_ID USER [--role R] [--remove]");
		int64_t org = org_id(o.pos[0]);
		int64_t uid = user_id(o.pos[1], NULL);
		bool remove = opt(&o, "remove") != NULL;
		sqlite3_stmt *st = q(LQ_ORG_GET);
		sqlite3_bind_int64(st, 1, org);
		if (sqlite3_step(st) != SQLITE_ROW)
			die("no organization %lld", (long long)org);
		bool personal_of_user = sqlite3_column_int64(st, 2) == uid;
		sqlite3_reset(st);
		if (remove && personal_of_user)
			die("organization %lld is %s's personal one: it goes with the user (user del)",
			    (long long)org, o.pos[1]);
		if (pt_begin() != PT_OK)
			die("database busy: try again");
		st = q(remove ? LQ_MEMBER_DEL : LQ_MEMBER_ADD);
		sqlite3_bind_int64(st, 1, org);
		sqlite3_bind_int64(st, 2, uid);
		if (!remove) {
			const char *role = opt(&o, "role") ? opt(&o, "role") : "member";
			pt_bind_text(st, 3, role, strlen(role));
		}
		if (pt_exec(st) != PT_OK)
			die("could not change membership; nothing changed");
		long long grants = 0;
		if (remove) {
			if (sqlite3_changes(pt_db()) != 1)
				die("%s is not a member of organization %lld", o.pos[1], (long long)org);
			/* in the same transaction: what the user granted apps for this organization
			 * ends with the membership (tokens, codes, uncollected device approvals) */
			st = q(LQ_MEMBER_GRANTS_DEL);
			sqlite3_bind_int64(st, 1, org);
			sqlite3_bind_int64(st, 2, uid);
			if (pt_exec(st) != PT_OK)
				die("could not revoke the user's grants; nothing changed");
			grants = sqlite3_changes(pt_db());
			st = q(LQ_MEMBER_DEVICES_DEL);
			sqlite3_bind_int64(st, 1, org);
			sqlite3_bind_int64(st, 2, uid);
			if (pt_exec(st) != PT_OK)
				die("could not revoke the user's device approvals; nothing changed");
		}
		if (pt_commit() != PT_OK)
			die("could not save; nothing changed");
		if (json)
			printf("{\"ok\":true,\"grants_revoked\":%lld}\n", grants);
		else if (remove)
			printf("removed; %lld approval%s for the organization and their tokens revoked\n",
			    grants, grants == 1 ? "" : "s");
		else
			printf("done\n");
	} else if (strcmp(argv[0], "del") == 0) {
		if (o.npos != 1)
			die("usage: postern org del ORG_ID");
		int64_t org = org_id(o.pos[0]);
		sqlite3_stmt *st = q(LQ_ORG_DEL);
		sqlite3_bind_int64(st, 1, org);
		if (pt_exec(st) != PT_OK)
			die("could not delete the organization (database busy?)");
		if (sqlite3_changes(pt_db()) != 1)
			die("no organization %lld that is not a personal one", (long long)org);
		printf(json ? "{\"ok\":true}\n" : "deleted; every approval for it and their tokens are revoked\n");
	} else {
		die("org: unknown subcommand %s", argv[0]);
	}
	return 0;
}

/* ------------------------------------------------------------ apps */

static void
print_app_json(sqlite3_stmt *st)
{
	fputs("{\"client_id\":", stdout);
	json_str((const char *)sqlite3_column_text(st, 0));
	fputs(",\"name\":", stdout);
	json_str((const char *)sqlite3_column_text(st, 1));
	fputs(",\"description\":", stdout);
	json_str((const char *)sqlite3_column_text(st, 2));
	fputs(",\"redirect_uris\":[", stdout);
	const char *u = (const char *)sqlite3_column_text(st, 3);
	for (int n = 0; u && *u; n++) {
		size_t k = strcspn(u, "\n");
		fputs(n ? "," : "", stdout);
		json_str(pt_strndup(arena, u, k));
		u += k;
		if (*u)
			u++;
	}
	fputs("],\"scopes\":", stdout);
	json_str((const char *)sqlite3_column_text(st, 4));
	fputs(",\"grant_types\":", stdout);
	json_str((const char *)sqlite3_column_text(st, 5));
	printf(",\"public\":%s,\"trusted\":%s,\"require_pkce\":%s,\"registered\":%s,"
	    "\"resource_server\":%s,\"owner\":",
	    sqlite3_column_int(st, 6) ? "true" : "false", sqlite3_column_int(st, 7) ? "true" : "false",
	    sqlite3_column_int(st, 8) ? "true" : "false", sqlite3_column_int(st, 9) ? "true" : "false",
	    sqlite3_column_int(st, 12) ? "true" : "false");
	json_str((const char *)sqlite3_column_text(st, 10));
	printf(",\"created\":%lld}", sqlite3_column_int64(st, 11));
}

static int
cmd_app(int argc, char **argv)
{
	static const char *const valued[] = {"name", "description", "redirect-uri", "scope",
	    "owner", "grant-types", NULL};
	static const char *const flags[] = {"public", "trusted", "require-pkce", "device",
	    "resource-server", "no-resource-server", NULL};
	struct opts o;
	if (argc < 1)
		die("app: create|list|show|set|rotate|del (see --help)");
	parse_opts(argc - 1, argv + 1, valued, flags, &o);
	open_db();
	const char *sub = argv[0];
	if (strcmp(sub, "create") == 0) {
		const char *name = opt(&o, "name"), *desc = opt(&o, "description");
		const char *scope = opt(&o, "scope") ? opt(&o, "scope") : "";
		bool pub = opt(&o, "public") != NULL;
		if (name == NULL || *name == '\0')
			die("usage: postern app create --name NAME --redirect-uri URI [...]");
		const char *why = pt_display_text_problem(arena, name, strlen(name), false);
		if (why != NULL)
			die("--name %s", why);
		if (pt_utf8_len(name, strlen(name)) > PT_MAX_APP_NAME)
			die("the name must be 1-%d printable characters", PT_MAX_APP_NAME);
		if (desc == NULL)
			desc = "";
		if ((why = pt_display_text_problem(arena, desc, strlen(desc), true)) != NULL)
			die("--description %s", why);
		if (pt_utf8_len(desc, strlen(desc)) > PT_MAX_APP_DESC)
			die("the description must be at most %d characters", PT_MAX_APP_DESC);
		if (*scope && !pt_scopes_ok(&cfg, scope, strlen(scope), NULL))
			die("--scope names a scope that is not in the config");
		const char *grants = opt(&o, "grant-types");
		if (grants == NULL)
			grants = opt(&o, "device") ? "authorization_code refresh_token urn:ietf:params:oauth:grant-type:device_code"
						   : "authorization_code refresh_token";
		if (o.nmulti == 0 && strstr(grants, "authorization_code"))
			die("an app needs at least one --redirect-uri");
		pt_buf uris;
		pt_buf_init(&uris, arena);
		for (int i = 0; i < o.nmulti; i++) {
			if (!pt_redirect_uri_valid(o.multi[i], strlen(o.multi[i])))
				die("redirect URI %s: must be absolute https (or http on 127.0.0.1/[::1]/localhost), without fragment", o.multi[i]);
			if (i)
				pt_buf_addc(&uris, '\n');
			pt_buf_adds(&uris, o.multi[i]);
		}
		int64_t owner = 0;
		if (opt(&o, "owner"))
			owner = user_id(opt(&o, "owner"), NULL);
		char cid[PT_CLIENT_ID_LEN + 1], secret[PT_CLIENT_SECRET_LEN + 1];
		const struct pt_new_app app = {.owner_id = owner, .name = name, .description = desc,
		    .redirect_uris = uris.p, .scopes = scope, .grant_types = grants, .public = pub,
		    .trusted = opt(&o, "trusted") != NULL, .require_pkce = opt(&o, "require-pkce") != NULL,
		    .remember_consent = true, .resource_server = opt(&o, "resource-server") != NULL};
		if (pt_app_insert(&app, cid, secret) != PT_OK)
			die("could not create the app");
		if (json) {
			printf("{\"client_id\":\"%s\",", cid);
			if (!pub)
				printf("\"client_secret\":\"%s\",", secret);
			fputs("\"name\":", stdout);
			json_str(name);
			fputs(",\"redirect_uris\":[", stdout);
			for (int i = 0; i < o.nmulti; i++) {
				fputs(i ? "," : "", stdout);
				json_str(o.multi[i]);
			}
			printf("],\"public\":%s}\n", pub ? "true" : "false");
		} else {
			printf("client_id:     %s\n", cid);
			if (!pub)
				printf("client_secret: %s   (shown once: store it now)\n", secret);
		}
		sodium_memzero(secret, sizeof(secret));
	} else if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0) {
		bool show = strcmp(sub, "show") == 0;
		if (show && o.npos != 1)
			die("usage: postern app show CLIENT_ID");
		sqlite3_stmt *st = q(LQ_APP_LIST);
		if (show)
			pt_bind_text(st, 1, o.pos[0], strlen(o.pos[0]));
		int n = 0;
		if (json && !show)
			fputc('[', stdout);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if (json) {
				fputs(n ? "," : "", stdout);
				print_app_json(st);
			} else if (show) {
				printf("client_id:     %s\nname:          %s\ndescription:   %s\n"
				       "redirect_uris: %s\nscopes:        %s\ngrant_types:   %s\n"
				       "type:          %s%s%s\nowner:         %s\n",
				    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
				    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
				    sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
				    sqlite3_column_int(st, 6) ? "public" : "confidential",
				    sqlite3_column_int(st, 7) ? ", trusted" : "",
				    sqlite3_column_int(st, 9) ? ", registered" : "", sqlite3_column_text(st, 10));
			} else {
				printf("%s  %s%s\n", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
				    sqlite3_column_int(st, 9) ? "  (registered)" : "");
			}
			n++;
		}
		if (show && n == 0)
			die("no app %s", o.pos[0]);
		if (json)
			puts(show ? "" : "]");
	} else if (strcmp(sub, "rotate") == 0) {
		if (o.npos != 1)
			die("usage: postern app rotate CLIENT_ID");
		char secret[PT_CLIENT_SECRET_LEN + 1];
		if (pt_app_rotate_secret(o.pos[0], 0, secret) != PT_OK)
			die("no confidential app %s", o.pos[0]);
		if (json)
			printf("{\"client_id\":\"%s\",\"client_secret\":\"%s\"}\n", o.pos[0], secret);
		else
			printf("client_secret: %s   (shown once; the old one no longer works)\n", secret);
		sodium_memzero(secret, sizeof(secret));
	} else if (strcmp(sub, "set") == 0) {
		bool on = opt(&o, "resource-server") != NULL, off = opt(&o, "no-resource-server") != NULL;
		if (o.npos != 1 || on == off)
			die("usage: postern app set CLIENT_ID --resource-server | --no-resource-server");
		sqlite3_stmt *st = q(LQ_APP_SET_RS);
		sqlite3_bind_int(st, 1, on);
		pt_bind_text(st, 2, o.pos[0], strlen(o.pos[0]));
		if (pt_exec(st) != PT_OK || sqlite3_changes(pt_db()) != 1)
			die("no app %s", o.pos[0]);
		printf(json ? "{\"ok\":true}\n" : on ? "it may now introspect every token\n"
							 : "it may now introspect its own tokens only\n");
	} else if (strcmp(sub, "del") == 0) {
		if (o.npos != 1)
			die("usage: postern app del CLIENT_ID");
		sqlite3_stmt *st = q(LQ_APP_ID);
		pt_bind_text(st, 1, o.pos[0], strlen(o.pos[0]));
		if (sqlite3_step(st) != SQLITE_ROW)
			die("no app %s", o.pos[0]);
		int64_t id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (pt_app_delete(id) != PT_OK)
			die("could not finish deleting %s (database busy?): it no longer works; run it again", o.pos[0]);
		printf(json ? "{\"ok\":true}\n" : "deleted; every grant and token of the app is revoked\n");
	} else {
		die("app: unknown subcommand %s", sub);
	}
	return 0;
}

/* ------------------------------------------------------------ tokens */

static int
cmd_token(int argc, char **argv)
{
	static const char *const valued[] = {"user", "app", "grant", "org", "scope", NULL};
	static const char *const flags[] = {NULL};
	struct opts o;
	if (argc < 1)
		die("token: list|revoke|issue (see --help)");
	parse_opts(argc - 1, argv + 1, valued, flags, &o);
	open_db();
	if (strcmp(argv[0], "list") == 0) {
		sqlite3_stmt *st = q(LQ_TOKEN_LIST);
		const char *u = opt(&o, "user"), *a = opt(&o, "app");
		if (u)
			pt_bind_text(st, 1, u, strlen(u));
		if (a)
			pt_bind_text(st, 2, a, strlen(a));
		int n = 0;
		if (json)
			fputc('[', stdout);
		else
			printf("%-6s %-8s %-16s %-38s %-6s %s\n", "ID", "KIND", "USER", "APP", "GRANT", "SCOPE");
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *kind = sqlite3_column_int(st, 1) == PT_KIND_ACCESS ? "access" : "refresh";
			if (json) {
				printf("%s{\"id\":%lld,\"kind\":\"%s\",\"user\":", n ? "," : "",
				    sqlite3_column_int64(st, 0), kind);
				json_str((const char *)sqlite3_column_text(st, 2));
				printf(",\"client_id\":\"%s\",\"organization_id\":%lld,\"scope\":",
				    sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4));
				json_str((const char *)sqlite3_column_text(st, 5));
				printf(",\"created\":%lld,\"expires\":%lld,\"last_used\":%lld,\"grant_id\":%lld}",
				    sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7),
				    sqlite3_column_int64(st, 8), sqlite3_column_int64(st, 9));
			} else {
				printf("%-6lld %-8s %-16s %-38s %-6lld %s\n", sqlite3_column_int64(st, 0), kind,
				    sqlite3_column_text(st, 2), sqlite3_column_text(st, 3),
				    sqlite3_column_int64(st, 9), sqlite3_column_text(st, 5));
			}
			n++;
		}
		if (json)
			puts("]");
	} else if (strcmp(argv[0], "revoke") == 0) {
		const char *g = opt(&o, "grant");
		if ((o.npos != 1) == (g == NULL))
			die("usage: postern token revoke ID | --grant GRANT_ID");
		long long id;
		if (pt_strtonum(g ? g : o.pos[0], 1, INT64_MAX, &id) != PT_OK)
			die("the id must be a number");
		sqlite3_stmt *st = q(g ? LQ_GRANT_DEL : LQ_TOKEN_DEL);
		sqlite3_bind_int64(st, 1, id);
		if (pt_exec(st) != PT_OK || sqlite3_changes(pt_db()) != 1)
			die("no %s %lld", g ? "grant" : "token", id);
		printf(json ? "{\"ok\":true}\n" : "revoked\n");
	} else if (strcmp(argv[0], "issue") == 0) {
		/* For test suites and benchmarks: a token without the browser dance. */
		const char *u = opt(&o, "user"), *a = opt(&o, "app");
		if (u == NULL || a == NULL)
			die("usage: postern token issue --user NAME --app CLIENT_ID [--scope S] [--org ID]");
		int64_t org;
		int64_t uid = user_id(u, &org);
		if (opt(&o, "org"))
			org = org_id(opt(&o, "org"));
		const char *scope = opt(&o, "scope") ? opt(&o, "scope") : cfg.default_scope;
		if (!pt_scopes_ok(&cfg, scope, strlen(scope), NULL))
			die("--scope names a scope that is not in the config");
		struct pt_app app;
		if (pt_app_get(arena, a, strlen(a), &app) != PT_OK)
			die("no app %s", a);
		sqlite3_stmt *st = q(LQ_ORG_MEMBERS);
		sqlite3_bind_int64(st, 1, org);
		sqlite3_bind_int64(st, 2, uid);
		if (sqlite3_step(st) != SQLITE_ROW)
			die("%s is not a member of organization %lld", u, (long long)org);
		sqlite3_reset(st);
		struct pt_ctx ctx = pt_ctx_init(arena, &cfg);
		int64_t grant;
		struct pt_issued out;
		if (pt_begin() != PT_OK || pt_grant_record(&ctx, uid, app.id, org, scope, NULL, &grant) != PT_OK ||
		    pt_tokens_issue(&ctx, grant, scope, NULL, NULL, NULL, 0, &out) != PT_OK || pt_commit() != PT_OK)
			die("could not issue a token");
		if (json)
			printf("{\"access_token\":\"%s\",\"scope\":\"%s\",\"organization_id\":%lld,\"grant_id\":%lld}\n",
			    out.access, scope, (long long)org, (long long)grant);
		else
			printf("%s\n", out.access);
	} else {
		die("token: unknown subcommand %s", argv[0]);
	}
	return 0;
}

/* ------------------------------------------------------------ upkeep */

/* Runs a janitor statement (?1 the cutoff, ?2 the batch) until it removes less than a
 * batch; returns how many rows it removed in all. */
static long long
janitor_step(int i, int64_t cutoff, const char *name)
{
	long long n = 0;
	for (;;) {
		sqlite3_stmt *st = q(i);
		sqlite3_bind_int64(st, 1, cutoff);
		sqlite3_bind_int(st, 2, PT_DELETE_BATCH);
		if (pt_exec(st) != PT_OK)
			die("janitor: %s failed", name);
		int k = sqlite3_changes(pt_db());
		n += k;
		if (k < PT_DELETE_BATCH)
			return n;
	}
}

static int
cmd_janitor(void)
{
	/* batches of PT_DELETE_BATCH rows, one short transaction each, so the servers are
	 * never blocked for long; after removes more past the same cutoff without being
	 * counted */
	static const struct {
		int q, after;
		const char *name;
		int64_t age;
	} steps[] = {
		/* codes never redeemed; then the redeemed ones leave the code_expires index */
		{LQ_JANITOR_CODES, LQ_JANITOR_REDEEMED, "codes", 0},
		{LQ_JANITOR_SESSIONS, -1, "sessions", 0},
		{LQ_JANITOR_DEVICES, -1, "devices", 0},
		{LQ_JANITOR_TOKENS, -1, "tokens", 0},
		{LQ_JANITOR_ATTEMPTS, -1, "attempts", 86400},
		{LQ_JANITOR_REQUESTS, -1, "requests", 0},
	};
	enum { N = sizeof(steps) / sizeof(steps[0]) };
	long long removed[N];
	open_db();
	for (size_t i = 0; i < N; i++) {
		int64_t cutoff = pt_now() - steps[i].age;
		removed[i] = janitor_step(steps[i].q, cutoff, steps[i].name);
		if (steps[i].after >= 0)
			janitor_step(steps[i].after, cutoff, steps[i].name);
	}
	/* counted with the device requests they are */
	removed[2] += janitor_step(LQ_JANITOR_BRIDGE, pt_now(), "bridged device requests");
	sqlite3_exec(pt_db(), "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA optimize;", NULL, NULL, NULL);
	if (json)
		printf("{\"codes\":%lld,\"sessions\":%lld,\"devices\":%lld,\"tokens\":%lld,"
		       "\"attempts\":%lld,\"requests\":%lld}\n",
		    removed[0], removed[1], removed[2], removed[3], removed[4], removed[5]);
	else
		printf("removed %lld codes, %lld sessions, %lld device requests, %lld tokens, %lld counters, "
		       "%lld consent requests\n",
		    removed[0], removed[1], removed[2], removed[3], removed[4], removed[5]);
	return 0;
}

static int
cmd_backup(int argc, char **argv)
{
	if (argc != 1)
		die("usage: postern backup FILE");
	open_db();
	sqlite3 *dst;
	if (access(argv[0], F_OK) == 0)
		die("%s exists; choose a new file", argv[0]);
	if (sqlite3_open(argv[0], &dst) != SQLITE_OK)
		die("%s: %s", argv[0], sqlite3_errmsg(dst));
	chmod(argv[0], 0600);
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", pt_db(), "main");
	int rc = SQLITE_OK;
	if (b == NULL)
		die("backup: %s", sqlite3_errmsg(dst));
	/* copy in steps so the servers keep their access to the database */
	while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_sleep(5);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		die("backup failed: %s", sqlite3_errstr(rc));
	sqlite3_close(dst);
	printf(json ? "{\"ok\":true}\n" : "backed up to %s (keep the secret key file with it)\n", argv[0]);
	return 0;
}

static const char usage[] =
    "usage: postern [--config FILE] [--json] COMMAND ...\n"
    "The config file comes from --config or $POSTERN_CONFIG. --json prints what a\n"
    "script reads. `postern COMMAND --help` explains one command.\n\n"
    "  init [--base-url URL]        create the config (if missing), the secret key and the database\n"
    "  user add NAME [--admin] [--password-file F]   password from F or the first line of stdin\n"
    "  user passwd NAME [--password-file F] [--revoke-tokens]   ends every session of the user\n"
    "  user list | user del NAME | user sessions revoke NAME\n"
    "  org add NAME --owner USER    an organization (every user also has a personal one)\n"
    "  org member ORG_ID USER [--role R] [--remove] | org del ORG_ID\n"
    "  app create --name N --redirect-uri URI [--redirect-uri URI2 ...] [--description D]\n"
    "             [--scope \"a b\"] [--owner USER] [--public] [--trusted] [--require-pkce] [--device]\n"
    "             [--resource-server]\n"
    "  app list | app show ID | app rotate ID | app del ID\n"
    "  app set ID --resource-server | --no-resource-server\n"
    "  token list [--user NAME] [--app ID] | token revoke ID | token revoke --grant ID\n"
    "  token issue --user NAME --app ID [--scope S] [--org ID]\n"
    "  janitor                      delete expired codes, sessions, device requests, tokens\n"
    "  backup FILE                  an online copy of the database\n";

/* `postern COMMAND --help` */
static const struct {
	const char *cmd, *text;
} help[] = {
    {"init", "usage: postern init [--base-url URL]    (the config file: --config FILE or $POSTERN_CONFIG)\n"
	     "Writes the config with every key at its default when it does not exist (base_url from\n"
	     "--base-url), makes the secret key for keyed hashes (mode 0600) when it is missing,\n"
	     "and creates the database or brings its schema up to date. Safe to run again.\n"},
    {"user", "usage: postern user add NAME [--admin] [--password-file F]\n"
	     "       postern user passwd NAME [--password-file F] [--revoke-tokens]\n"
	     "       postern user list\n"
	     "       postern user del NAME\n"
	     "       postern user sessions revoke NAME\n"
	     "Built-in accounts. The password is the first line of F, or of stdin; never an\n"
	     "argument. It is stored as an Argon2id hash. add also makes the user's personal\n"
	     "organization; --admin lets the user mark apps trusted. passwd ends every session\n"
	     "of the user in the same transaction; --revoke-tokens also revokes every app's\n"
	     "approval and tokens. sessions revoke signs the user out everywhere. del removes\n"
	     "the user with their sessions, apps, approvals, tokens and personal organization.\n"},
    {"org", "usage: postern org add NAME --owner USER\n"
	    "       postern org member ORG_ID USER [--role R] [--remove]\n"
	    "       postern org del ORG_ID\n"
	    "Organizations a token can act for; a user in several picks one on the consent page.\n"
	    "--remove ends, in the same transaction, every approval the user gave apps for the\n"
	    "organization, with its codes and tokens. del does the same for every member (a\n"
	    "personal organization goes with its user).\n"},
    {"app", "usage: postern app create --name N --redirect-uri URI [--redirect-uri URI2 ...]\n"
	    "           [--description D] [--scope \"a b\"] [--owner USER] [--public] [--trusted]\n"
	    "           [--require-pkce] [--device] [--grant-types \"g1 g2\"] [--resource-server]\n"
	    "       postern app list | show CLIENT_ID | rotate CLIENT_ID | del CLIENT_ID\n"
	    "       postern app set CLIENT_ID --resource-server | --no-resource-server\n"
	    "create prints the client_id and, for a confidential app, the secret: the only time\n"
	    "it is shown. rotate makes a new secret (the old one stops working, tokens stay);\n"
	    "del revokes every grant and token of the app. A client introspects its own tokens\n"
	    "only; a resource server (an API that checks tokens) may introspect every token.\n"},
    {"token", "usage: postern token list [--user NAME] [--app CLIENT_ID]\n"
	      "       postern token revoke ID | token revoke --grant GRANT_ID\n"
	      "       postern token issue --user NAME --app CLIENT_ID [--scope S] [--org ID]\n"
	      "issue records a grant and prints a live access token without the browser, for\n"
	      "tests and scripts; revoke --grant ends a whole approval.\n"},
    {"janitor", "usage: postern janitor\n"
		"Deletes expired codes, sessions, device requests, tokens, consent requests and old\n"
		"rate-limit counters, in batches of short transactions (run it hourly:\n"
		"postern-janitor.timer).\n"},
    {"backup", "usage: postern backup FILE\n"
	       "An online, consistent copy of the database while the servers run. Keep the secret\n"
	       "key file with it: without the key no stored secret or token can be verified.\n"},
};

int
main(int argc, char **argv)
{
	const char *config = NULL;
	char *args[64];
	int n = 0;
	if (sodium_init() < 0)
		die("libsodium failed to initialise");
	arena = pt_arena_new();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			for (size_t k = 0; n > 0 && k < sizeof(help) / sizeof(help[0]); k++)
				if (strcmp(args[0], help[k].cmd) == 0) {
					fputs(help[k].text, stdout);
					return 0;
				}
			fputs(usage, stdout);
			return 0;
		} else if (n < 63)
			args[n++] = argv[i];
		else
			die("too many arguments");
	}
	args[n] = NULL;
	if (n == 0) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(args[0], "init") == 0)
		return cmd_init(n - 1, args + 1, config);
	load_config(config);
	if (strcmp(args[0], "user") == 0)
		return cmd_user(n - 1, args + 1);
	if (strcmp(args[0], "org") == 0)
		return cmd_org(n - 1, args + 1);
	if (strcmp(args[0], "app") == 0)
		return cmd_app(n - 1, args + 1);
	if (strcmp(args[0], "token") == 0)
		return cmd_token(n - 1, args + 1);
	if (strcmp(args[0], "janitor") == 0)
		return cmd_janitor();
	if (strcmp(args[0], "backup") == 0)
		return cmd_backup(n - 1, args + 1);
	die("unknown command %s (see --help)", args[0]);
	return 2;
}
