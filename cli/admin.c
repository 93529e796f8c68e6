/* admin.c: the admin command (built as `postern`): init, users, organizations, apps, tokens, janitor, backup. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "postern.h"

static struct pt_config cfg;
static bool json;
static pt_arena *arena;

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
	const char *logout[PT_MAX_REDIRECT_URIS]; /* --post-logout-redirect-uri */
	int nlogout;
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
			} else if (strcmp(valued[k], "post-logout-redirect-uri") == 0) {
				if (o->nlogout == PT_MAX_REDIRECT_URIS)
					die("at most %d post-logout redirect URIs", PT_MAX_REDIRECT_URIS);
				o->logout[o->nlogout++] = argv[++i];
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
	pt_audit_open(cfg.audit_log);
}

/* An admin command's change in the audit log: by "admin", with the Unix uid that ran it. */
#define admin_audit(event, ...) \
	pt_audit((event), true, PT_AS("by", "admin"), PT_AI("uid", getuid()), __VA_ARGS__)

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
	/* the first OpenID Connect signing keys (none is made when there are some) */
	open_db();
	struct pt_key_row made[PT_OIDC_ALGS];
	size_t nmade;
	if (pt_keys_make(arena, &cfg, false, pt_now(), made, &nmade) != PT_OK)
		die("could not make the signing keys (database busy?): run `postern init` again");
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
	int64_t id, personal;
	int rc = pt_db_admin_user_id(name, &id, &personal);
	if (rc == PT_ERR_NOTFOUND)
		die("no user named %s", name);
	if (rc != PT_OK)
		die("could not read the user %s (database busy?)", name);
	if (org)
		*org = personal;
	return id;
}

/* The --email and --full-name of `user add` and `user set` ("" clears one): dies with
 * what is wrong. */
static void
profile_check(const char *email, const char *full)
{
	if (email != NULL && *email && !pt_email_valid(email, strlen(email)))
		die("--email must be an address like name@example.com, at most %d bytes of printable"
		    " ASCII", PT_MAX_EMAIL);
	if (full == NULL || *full == '\0')
		return;
	const char *why = pt_display_text_problem(arena, full, strlen(full), false);
	if (why != NULL)
		die("--full-name %s", why);
	if (pt_utf8_len(full, strlen(full)) > PT_MAX_FULL_NAME)
		die("--full-name must be at most %d characters", PT_MAX_FULL_NAME);
	char *t = pt_trimmed(arena, full, strlen(full));
	if (strlen(t) != strlen(full))
		die("--full-name must not start or end with a blank");
}

/* `user list`, a row at a time */
static int
print_user(void *arg, const struct pt_admin_user_row *u)
{
	int *n = arg;
	if (json) {
		printf("%s{\"id\":%lld,\"name\":", *n ? "," : "", (long long)u->id);
		json_str(u->name);
		printf(",\"admin\":%s,\"organization_id\":%lld}", u->admin ? "true" : "false",
		    (long long)u->org_id);
	} else {
		printf("%-6lld %-24s %-6s %lld\n", (long long)u->id, u->name, u->admin ? "yes" : "no",
		    (long long)u->org_id);
	}
	(*n)++;
	return PT_OK;
}

static int
cmd_user(int argc, char **argv)
{
	static const char *const valued[] = {"password-file", "email", "full-name", NULL};
	static const char *const flags[] = {"admin", "revoke-tokens", NULL};
	struct opts o;
	if (argc < 1)
		die("user: add|set|passwd|list|del|sessions (see --help)");
	parse_opts(argc - 1, argv + 1, valued, flags, &o);
	const char *sub = argv[0];
	open_db();
	if (strcmp(sub, "add") == 0) {
		if (o.npos != 1)
			die("usage: postern user add NAME [--admin] [--password-file F]");
		const char *name = o.pos[0];
		if (!pt_valid_username(name, strlen(name)))
			die("user names are 1-%d of a-z A-Z 0-9 . _ @ -", PT_MAX_USERNAME);
		const char *email = opt(&o, "email"), *full = opt(&o, "full-name");
		profile_check(email, full);
		char *pw = read_password(opt(&o, "password-file"));
		int64_t id;
		int rc = pt_user_create(name, strlen(name), pw, strlen(pw), opt(&o, "admin") != NULL, &id);
		sodium_memzero(pw, strlen(pw));
		if (rc != PT_OK)
			die("could not add %s (does the user exist already?)", name);
		if ((email != NULL || full != NULL) && pt_db_user_profile_set(name, email, full) != PT_OK)
			die("added %s, but could not save the email address and full name (database busy?):"
			    " run `postern user set %s` with them", name, name);
		int64_t org;
		user_id(name, &org);
		admin_audit("user_added", PT_AS("user", name), PT_AI("user_id", id),
		    PT_AB("admin", opt(&o, "admin") != NULL));
		if (json)
			printf("{\"id\":%lld,\"name\":\"%s\",\"organization_id\":%lld}\n", (long long)id,
			    name, (long long)org);
		else
			printf("added user %s (id %lld, organization %lld)\n", name, (long long)id,
			    (long long)org);
	} else if (strcmp(sub, "set") == 0) {
		const char *email = opt(&o, "email"), *full = opt(&o, "full-name");
		if (o.npos != 1 || (email == NULL && full == NULL))
			die("usage: postern user set NAME [--email ADDR] [--full-name NAME]");
		profile_check(email, full);
		int rc = pt_db_user_profile_set(o.pos[0], email, full);
		if (rc == PT_ERR_NOTFOUND)
			die("no user named %s", o.pos[0]);
		if (rc != PT_OK)
			die("could not save (database busy?); nothing changed");
		printf(json ? "{\"ok\":true}\n" : "saved %s\n", o.pos[0]);
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
		int rc = pt_db_admin_user_passwd(o.pos[0], hash);
		sodium_memzero(hash, sizeof(hash));
		if (rc == PT_ERR_NOTFOUND)
			die("no user named %s", o.pos[0]);
		if (rc != PT_OK)
			die("could not change the password (database busy?); nothing changed");
		int64_t ended, revoked = 0;
		if (pt_db_sessions_delete_user(uid, &ended) != PT_OK)
			die("could not end the sessions; nothing changed");
		if (revoke && pt_db_admin_user_revoke(uid, &revoked) != PT_OK)
			die("could not revoke the tokens; nothing changed");
		long long sessions = ended, grants = revoked;
		if (pt_commit() != PT_OK)
			die("could not save; nothing changed");
		admin_audit("user_password_changed", PT_AS("user", o.pos[0]), PT_AI("user_id", uid),
		    PT_AI("sessions_ended", sessions), PT_AI("grants_revoked", grants));
		if (json)
			printf("{\"ok\":true,\"sessions_ended\":%lld,\"grants_revoked\":%lld}\n", sessions, grants);
		else
			printf("password changed; %lld session%s ended%s\n", sessions, sessions == 1 ? "" : "s",
			    revoke ? pt_printf(arena, ", %lld approval%s and their tokens revoked", grants,
			    grants == 1 ? "" : "s") : " (tokens kept: --revoke-tokens ends them too)");
	} else if (strcmp(sub, "sessions") == 0) {
		if (o.npos != 2 || strcmp(o.pos[0], "revoke") != 0)
			die("usage: postern user sessions revoke NAME");
		int64_t uid = user_id(o.pos[1], NULL), ended;
		if (pt_db_sessions_delete_user(uid, &ended) != PT_OK)
			die("could not end the sessions");
		long long n = ended;
		admin_audit("user_sessions_ended", PT_AS("user", o.pos[1]), PT_AI("user_id", uid),
		    PT_AI("sessions_ended", n));
		if (json)
			printf("{\"ok\":true,\"sessions_ended\":%lld}\n", n);
		else
			printf("%lld session%s of %s ended\n", n, n == 1 ? "" : "s", o.pos[1]);
	} else if (strcmp(sub, "list") == 0) {
		int n = 0;
		if (json)
			fputc('[', stdout);
		else
			printf("%-6s %-24s %-6s %s\n", "ID", "NAME", "ADMIN", "ORGANIZATION");
		if (pt_db_admin_user_list(print_user, &n) != PT_OK)
			die("could not read the users (database busy?)");
		if (json)
			puts("]");
	} else if (strcmp(sub, "del") == 0) {
		if (o.npos != 1)
			die("usage: postern user del NAME");
		int64_t uid = user_id(o.pos[0], NULL);
		if (pt_user_delete(uid) != PT_OK)
			die("could not delete %s (database busy?): run it again", o.pos[0]);
		admin_audit("user_deleted", PT_AS("user", o.pos[0]), PT_AI("user_id", uid));
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
		int64_t id;
		if (pt_db_admin_org_add(name, pt_now(), &id) != PT_OK ||
		    pt_db_admin_member_set(id, owner, "owner") != PT_OK || pt_commit() != PT_OK)
			die("could not add the organization");
		admin_audit("org_added", PT_AI("org_id", id), PT_AS("org", name),
		    PT_AS("owner", opt(&o, "owner")));
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
		struct pt_admin_org_row row;
		int rc = pt_db_admin_org_get(arena, org, &row);
		if (rc == PT_ERR_NOTFOUND)
			die("no organization %lld", (long long)org);
		if (rc != PT_OK)
			die("could not read organization %lld (database busy?)", (long long)org);
		bool personal_of_user = row.personal_of == uid;
		if (remove && personal_of_user)
			die("organization %lld is %s's personal one: it goes with the user (user del)",
			    (long long)org, o.pos[1]);
		if (pt_begin() != PT_OK)
			die("database busy: try again");
		int64_t revoked = 0;
		if (remove) {
			/* in the same transaction: what the user granted apps for this organization
			 * ends with the membership (tokens, codes, uncollected device approvals) */
			rc = pt_db_admin_member_remove(org, uid, &revoked);
			if (rc == PT_ERR_NOTFOUND)
				die("%s is not a member of organization %lld", o.pos[1], (long long)org);
			if (rc != PT_OK)
				die("could not change membership; nothing changed");
		} else {
			const char *role = opt(&o, "role") ? opt(&o, "role") : "member";
			if (pt_db_admin_member_set(org, uid, role) != PT_OK)
				die("could not change membership; nothing changed");
		}
		long long grants = revoked;
		if (pt_commit() != PT_OK)
			die("could not save; nothing changed");
		if (remove)
			admin_audit("org_member_removed", PT_AI("org_id", org), PT_AS("user", o.pos[1]),
			    PT_AI("grants_revoked", grants));
		else
			admin_audit("org_member_set", PT_AI("org_id", org), PT_AS("user", o.pos[1]),
			    PT_AS("role", opt(&o, "role") ? opt(&o, "role") : "member"));
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
		int rc = pt_db_admin_org_delete(org);
		if (rc == PT_ERR_NOTFOUND)
			die("no organization %lld that is not a personal one", (long long)org);
		if (rc != PT_OK)
			die("could not delete the organization (database busy?)");
		admin_audit("org_deleted", PT_AI("org_id", org));
		printf(json ? "{\"ok\":true}\n" : "deleted; every approval for it and their tokens are revoked\n");
	} else {
		die("org: unknown subcommand %s", argv[0]);
	}
	return 0;
}

/* ------------------------------------------------------------ apps */

static void
print_app_json(const struct pt_admin_app_row *app)
{
	fputs("{\"client_id\":", stdout);
	json_str(app->client_id);
	fputs(",\"name\":", stdout);
	json_str(app->name);
	fputs(",\"description\":", stdout);
	json_str(app->description);
	fputs(",\"redirect_uris\":[", stdout);
	const char *u = app->redirect_uris;
	for (int n = 0; u && *u; n++) {
		size_t k = strcspn(u, "\n");
		fputs(n ? "," : "", stdout);
		json_str(pt_strndup(arena, u, k));
		u += k;
		if (*u)
			u++;
	}
	fputs("],\"scopes\":", stdout);
	json_str(app->scopes);
	fputs(",\"grant_types\":", stdout);
	json_str(app->grant_types);
	printf(",\"public\":%s,\"trusted\":%s,\"require_pkce\":%s,\"registered\":%s,"
	    "\"resource_server\":%s,\"owner\":",
	    app->public ? "true" : "false", app->trusted ? "true" : "false",
	    app->require_pkce ? "true" : "false", app->registered ? "true" : "false",
	    app->resource_server ? "true" : "false");
	json_str(app->owner);
	fputs(",\"id_token_signed_response_alg\":", stdout);
	json_str(app->id_token_alg);
	fputs(",\"post_logout_redirect_uris\":[", stdout);
	u = app->post_logout_redirect_uris;
	for (int n = 0; u && *u; n++) {
		size_t k = strcspn(u, "\n");
		fputs(n ? "," : "", stdout);
		json_str(pt_strndup(arena, u, k));
		u += k;
		if (*u)
			u++;
	}
	fputs("],\"access_token_format\":", stdout);
	json_str(app->access_token_format);
	printf(",\"require_dpop\":%s,\"created\":%lld}", app->require_dpop ? "true" : "false",
	    (long long)app->created);
}

/* `app list` and `app show`, a row at a time */
struct app_listing {
	bool show;
	int n;
};

static int
print_app(void *arg, const struct pt_admin_app_row *app)
{
	struct app_listing *l = arg;
	if (json) {
		fputs(l->n ? "," : "", stdout);
		print_app_json(app);
	} else if (l->show) {
		printf("client_id:     %s\nname:          %s\ndescription:   %s\n"
		       "redirect_uris: %s\nscopes:        %s\ngrant_types:   %s\n"
		       "type:          %s%s%s\nowner:         %s\nid_token_alg:  %s\n"
		       "post_logout_redirect_uris: %s\naccess_tokens: %s%s\n",
		    app->client_id, app->name, app->description, app->redirect_uris, app->scopes,
		    app->grant_types, app->public ? "public" : "confidential",
		    app->trusted ? ", trusted" : "", app->registered ? ", registered" : "", app->owner,
		    app->id_token_alg, app->post_logout_redirect_uris, app->access_token_format,
		    app->require_dpop ? ", DPoP-bound only" : "");
	} else {
		printf("%s  %s%s\n", app->client_id, app->name, app->registered ? "  (registered)" : "");
	}
	l->n++;
	return PT_OK;
}

static int
cmd_app(int argc, char **argv)
{
	static const char *const valued[] = {"name", "description", "redirect-uri", "scope",
	    "owner", "grant-types", "id-token-alg", "post-logout-redirect-uri", "access-token-format", NULL};
	static const char *const flags[] = {"public", "trusted", "require-pkce", "device",
	    "resource-server", "no-resource-server", "require-dpop", "no-require-dpop", NULL};
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
		const char *alg = opt(&o, "id-token-alg");
		if (alg != NULL && !pt_oidc_alg_ok(alg))
			die("--id-token-alg must be RS256 or EdDSA");
		/* RFC 9068: "jwt" for JWT access tokens; opaque ones (pat_…) by default */
		const char *format = opt(&o, "access-token-format");
		if (format != NULL && strcmp(format, "jwt") != 0 && strcmp(format, "opaque") != 0)
			die("--access-token-format must be opaque or jwt");
		const char *grants = opt(&o, "grant-types");
		if (grants == NULL)
			grants = opt(&o, "device") ? "authorization_code refresh_token urn:ietf:params:oauth:grant-type:device_code"
						   : "authorization_code refresh_token";
		/* client_credentials (RFC 6749 §4.4): the app's own tokens, for confidential
		 * apps only */
		if (pt_word_in("client_credentials", 18, grants) && pub)
			die("client_credentials needs a confidential app (drop --public)");
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
		pt_buf logout;
		pt_buf_init(&logout, arena);
		for (int i = 0; i < o.nlogout; i++) {
			if (!pt_redirect_uri_valid(o.logout[i], strlen(o.logout[i])))
				die("post-logout redirect URI %s: must be absolute https (or http on 127.0.0.1/[::1]/localhost), without fragment", o.logout[i]);
			for (int j = 0; j < i; j++)
				if (strcmp(o.logout[i], o.logout[j]) == 0)
					die("post-logout redirect URI %s is listed twice", o.logout[i]);
			if (i)
				pt_buf_addc(&logout, '\n');
			pt_buf_adds(&logout, o.logout[i]);
		}
		int64_t owner = 0;
		if (opt(&o, "owner"))
			owner = user_id(opt(&o, "owner"), NULL);
		char cid[PT_CLIENT_ID_LEN + 1], secret[PT_CLIENT_SECRET_LEN + 1];
		const struct pt_new_app app = {.owner_id = owner, .name = name, .description = desc,
		    .redirect_uris = uris.p, .scopes = scope, .grant_types = grants, .public = pub,
		    .trusted = opt(&o, "trusted") != NULL, .require_pkce = opt(&o, "require-pkce") != NULL,
		    .remember_consent = true, .resource_server = opt(&o, "resource-server") != NULL,
		    .id_token_alg = alg, .post_logout_redirect_uris = logout.n ? logout.p : "",
		    .require_dpop = opt(&o, "require-dpop") != NULL};
		if (pt_app_insert(&app, cid, secret) != PT_OK)
			die("could not create the app");
		if (format != NULL && strcmp(format, "jwt") == 0 && pt_db_admin_app_set_format(cid, "jwt") != PT_OK)
			die("the app %s was created, but its access token format could not be set", cid);
		admin_audit("app_created", PT_AS("client_id", cid), PT_AS("name", name),
		    PT_AS("owner", opt(&o, "owner")), PT_AB("public", pub));
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
			fputs("],\"post_logout_redirect_uris\":[", stdout);
			for (int i = 0; i < o.nlogout; i++) {
				fputs(i ? "," : "", stdout);
				json_str(o.logout[i]);
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
		struct app_listing l = {.show = show};
		if (json && !show)
			fputc('[', stdout);
		if (pt_db_admin_app_list(show ? o.pos[0] : NULL, print_app, &l) != PT_OK)
			die("could not read the apps (database busy?)");
		int n = l.n;
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
		admin_audit("app_secret_rotated", PT_AS("client_id", o.pos[0]));
		if (json)
			printf("{\"client_id\":\"%s\",\"client_secret\":\"%s\"}\n", o.pos[0], secret);
		else
			printf("client_secret: %s   (shown once; the old one no longer works)\n", secret);
		sodium_memzero(secret, sizeof(secret));
	} else if (strcmp(sub, "set") == 0) {
		bool on = opt(&o, "resource-server") != NULL, off = opt(&o, "no-resource-server") != NULL;
		bool dp = opt(&o, "require-dpop") != NULL, no_dp = opt(&o, "no-require-dpop") != NULL;
		if (o.npos != 1 || (on && off) || (dp && no_dp) || (!on && !off && !dp && !no_dp))
			die("usage: postern app set CLIENT_ID [--resource-server | --no-resource-server]"
			    " [--require-dpop | --no-require-dpop]");
		int rc = PT_OK;
		if (on || off)
			rc = pt_db_admin_app_set_resource_server(o.pos[0], on);
		if (rc == PT_OK && (dp || no_dp))
			rc = pt_db_admin_app_set_dpop(o.pos[0], dp);
		if (rc == PT_ERR_NOTFOUND)
			die("no app %s", o.pos[0]);
		if (rc != PT_OK)
			die("could not change %s (database busy?)", o.pos[0]);
		if (on || off)
			admin_audit("app_edited", PT_AS("client_id", o.pos[0]), PT_AB("resource_server", on));
		if (dp || no_dp)
			admin_audit("app_edited", PT_AS("client_id", o.pos[0]), PT_AB("require_dpop", dp));
		if (json)
			puts("{\"ok\":true}");
		if (!json && (on || off))
			puts(on ? "it may now introspect every token" : "it may now introspect its own tokens only");
		if (!json && (dp || no_dp))
			puts(dp ? "its token requests must now carry a DPoP proof" : "it may now get Bearer tokens too");
	} else if (strcmp(sub, "del") == 0) {
		if (o.npos != 1)
			die("usage: postern app del CLIENT_ID");
		int64_t id;
		int rc = pt_db_admin_app_id(o.pos[0], &id);
		if (rc == PT_ERR_NOTFOUND)
			die("no app %s", o.pos[0]);
		if (rc != PT_OK)
			die("could not read the app %s (database busy?)", o.pos[0]);
		if (pt_app_delete(id) != PT_OK)
			die("could not finish deleting %s (database busy?): it no longer works; run it again", o.pos[0]);
		admin_audit("app_deleted", PT_AS("client_id", o.pos[0]), PT_AI("app_id", id));
		printf(json ? "{\"ok\":true}\n" : "deleted; every grant and token of the app is revoked\n");
	} else {
		die("app: unknown subcommand %s", sub);
	}
	return 0;
}

/* ------------------------------------------------------------ tokens */

/* `token list`, a row at a time */
static int
print_token(void *arg, const struct pt_admin_token_row *t)
{
	int *n = arg;
	const char *kind = t->kind == PT_KIND_ACCESS ? "access" : "refresh";
	if (json) {
		printf("%s{\"id\":%lld,\"kind\":\"%s\",\"user\":", *n ? "," : "", (long long)t->id, kind);
		json_str(t->user);
		printf(",\"client_id\":\"%s\",\"organization_id\":%lld,\"scope\":", t->client_id,
		    (long long)t->org_id);
		json_str(t->scope);
		printf(",\"created\":%lld,\"expires\":%lld,\"last_used\":%lld,\"grant_id\":%lld}",
		    (long long)t->created, (long long)t->expires, (long long)t->last_used,
		    (long long)t->grant_id);
	} else {
		printf("%-6lld %-8s %-16s %-38s %-6lld %s\n", (long long)t->id, kind, t->user,
		    t->client_id, (long long)t->grant_id, t->scope);
	}
	(*n)++;
	return PT_OK;
}

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
		int n = 0;
		if (json)
			fputc('[', stdout);
		else
			printf("%-6s %-8s %-16s %-38s %-6s %s\n", "ID", "KIND", "USER", "APP", "GRANT", "SCOPE");
		if (pt_db_admin_token_list(opt(&o, "user"), opt(&o, "app"), print_token, &n) != PT_OK)
			die("could not read the tokens (database busy?)");
		if (json)
			puts("]");
	} else if (strcmp(argv[0], "revoke") == 0) {
		const char *g = opt(&o, "grant");
		if ((o.npos != 1) == (g == NULL))
			die("usage: postern token revoke ID | --grant GRANT_ID");
		long long id;
		if (pt_strtonum(g ? g : o.pos[0], 1, INT64_MAX, &id) != PT_OK)
			die("the id must be a number");
		int rc = g ? pt_db_admin_grant_delete(id) : pt_db_admin_token_delete(id);
		if (rc == PT_ERR_NOTFOUND)
			die("no %s %lld", g ? "grant" : "token", id);
		if (rc != PT_OK)
			die("could not revoke %s %lld (database busy?)", g ? "grant" : "token", id);
		admin_audit("token_revoked", PT_AS("what", g ? "grant" : "token"),
		    PT_AI(g ? "grant_id" : "token_id", id));
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
		int rc = pt_db_user_in_org(uid, org);
		if (rc == PT_ERR_NOTFOUND)
			die("%s is not a member of organization %lld", u, (long long)org);
		if (rc != PT_OK)
			die("could not read the memberships of %s (database busy?)", u);
		struct pt_ctx ctx = pt_ctx_init(arena, &cfg);
		int64_t grant;
		struct pt_issued out;
		if (pt_begin() != PT_OK || pt_grant_record(&ctx, uid, app.id, org, scope, NULL, &grant) != PT_OK ||
		    pt_tokens_issue(&ctx, grant, scope, NULL, NULL, NULL, 0, 0, &out) != PT_OK || pt_commit() != PT_OK)
			die("could not issue a token");
		admin_audit("token_issued", PT_AS("grant_type", "admin"), PT_AS("client_id", a),
		    PT_AS("user", u), PT_AI("user_id", uid), PT_AI("org_id", org), PT_AS("scope", scope),
		    PT_AI("grant_id", grant));
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

/* Runs a janitor step (?1 the cutoff, ?2 the batch) until it removes less than a
 * batch; returns how many rows it removed in all. */
static long long
janitor_step(enum pt_janitor what, int64_t cutoff, const char *name)
{
	long long n = 0;
	for (;;) {
		int64_t k;
		if (pt_db_janitor_batch(what, cutoff, &k) != PT_OK)
			die("janitor: %s failed", name);
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
		int what, after;
		bool counted;   /* what after removes is counted with what */
		const char *name;
		int64_t age;
	} steps[] = {
		/* codes never redeemed; then the redeemed ones leave the code_expires index */
		{PT_JANITOR_CODES, PT_JANITOR_REDEEMED, false, "codes", 0},
		{PT_JANITOR_SESSIONS, -1, false, "sessions", 0},
		{PT_JANITOR_DEVICES, -1, false, "devices", 0},
		/* the users' tokens, then the apps' own (client_credentials) */
		{PT_JANITOR_TOKENS, PT_JANITOR_CLIENT_TOKENS, true, "tokens", 0},
		{PT_JANITOR_ATTEMPTS, -1, false, "attempts", 86400},
		{PT_JANITOR_REQUESTS, -1, false, "requests", 0},
		{PT_JANITOR_KEYS, -1, false, "signing keys", 0},
		/* DPoP proofs too old to pass as fresh: their jti may not be kept */
		{PT_JANITOR_DPOP, -1, false, "DPoP proofs", 0},
	};
	enum { N = sizeof(steps) / sizeof(steps[0]) };
	long long removed[N];
	open_db();
	/* nodes sharing one PostgreSQL database may all run it at once: one does the work */
	bool got;
	if (pt_db_exclusive(&got) != PT_OK)
		die("janitor: could not tell whether another janitor is running (database busy?)");
	if (!got) {
		printf(json ? "{\"skipped\":\"another janitor is running\"}\n"
			    : "another janitor is running; nothing removed\n");
		return 0;
	}
	for (size_t i = 0; i < N; i++) {
		int64_t cutoff = pt_now() - steps[i].age;
		removed[i] = janitor_step((enum pt_janitor)steps[i].what, cutoff, steps[i].name);
		if (steps[i].after >= 0) {
			long long k = janitor_step((enum pt_janitor)steps[i].after, cutoff, steps[i].name);
			if (steps[i].counted)
				removed[i] += k;
		}
	}
	/* counted with the device requests they are */
	removed[2] += janitor_step(PT_JANITOR_BRIDGE, pt_now(), "bridged device requests");
	/* self-registered clients nobody approved within registration_unapproved_ttl */
	long long unapproved = cfg.registration_unapproved_ttl > 0
	    ? janitor_step(PT_JANITOR_UNAPPROVED, pt_now() - cfg.registration_unapproved_ttl,
		  "unapproved registered clients") : 0;
	pt_db_maintain();
	admin_audit("janitor_run", PT_AI("codes", removed[0]), PT_AI("sessions", removed[1]),
	    PT_AI("devices", removed[2]), PT_AI("tokens", removed[3]), PT_AI("attempts", removed[4]),
	    PT_AI("requests", removed[5]), PT_AI("dpop_proofs", removed[7]),
	    PT_AI("unapproved_clients", unapproved));
	if (json)
		printf("{\"codes\":%lld,\"sessions\":%lld,\"devices\":%lld,\"tokens\":%lld,"
		       "\"attempts\":%lld,\"requests\":%lld,\"keys\":%lld,\"dpop_proofs\":%lld,"
		       "\"unapproved_clients\":%lld}\n",
		    removed[0], removed[1], removed[2], removed[3], removed[4], removed[5], removed[6],
		    removed[7], unapproved);
	else
		printf("removed %lld codes, %lld sessions, %lld device requests, %lld tokens, %lld counters, "
		       "%lld consent requests, %lld signing keys, %lld DPoP proofs, "
		       "%lld unapproved registered clients\n",
		    removed[0], removed[1], removed[2], removed[3], removed[4], removed[5], removed[6],
		    removed[7], unapproved);
	return 0;
}

static int
cmd_backup(int argc, char **argv)
{
	char err[512];
	if (argc != 1)
		die("usage: postern backup FILE");
	open_db();
	if (access(argv[0], F_OK) == 0)
		die("%s exists; choose a new file", argv[0]);
	int rc = pt_db_backup(argv[0], err, sizeof(err));
	if (rc == PT_ERR_CONFIG)
		die("%s", err);
	if (rc != PT_OK)
		die("backup failed: %s", err);
	printf(json ? "{\"ok\":true}\n" : "backed up to %s (keep the secret key file with it)\n", argv[0]);
	return 0;
}

/* ------------------------------------------------------------ seed */

/* `postern seed FILE`: users and apps with fixed credentials, all or none (lib/seed.c) */
static int
cmd_seed(int argc, char **argv)
{
	if (argc != 1)
		die("usage: postern seed FILE.json   (- for stdin)");
	const char *path = argv[0];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	char *text = pt_alloc(arena, PT_MAX_SEED_BYTES + 1);
	size_t n = fread(text, 1, PT_MAX_SEED_BYTES + 1, f);
	if (ferror(f))
		die("%s: read failed", path);
	if (f != stdin)
		fclose(f);
	struct pt_seed seed;
	const char *why = pt_seed_read(arena, &cfg, text, n, &seed);
	if (why != NULL)
		die("%s %s; nothing created", path, why);
	open_db();
	if (pt_seed_store(arena, &seed, &why) != PT_OK)
		die("%s%s%s; nothing created", path, strncmp(why, "line ", 5) == 0 ? " " : ": ", why);
	/* in the audit log like `user add` and `app create`, with where they came from */
	for (size_t i = 0; i < seed.nusers; i++)
		admin_audit("user_added", PT_AS("user", seed.users[i].name), PT_AI("user_id", seed.users[i].id),
		    PT_AB("admin", seed.users[i].admin), PT_AS("seed", path));
	for (size_t i = 0; i < seed.napps; i++)
		admin_audit("app_created", PT_AS("client_id", seed.apps[i].cid), PT_AS("name", seed.apps[i].app.name),
		    PT_AS("owner", NULL), PT_AB("public", seed.apps[i].app.public), PT_AS("seed", path));
	if (!json) {
		printf("seeded %zu user%s and %zu app%s\n", seed.nusers, seed.nusers == 1 ? "" : "s",
		    seed.napps, seed.napps == 1 ? "" : "s");
		for (size_t i = 0; i < seed.napps; i++) {
			const struct pt_seed_app *sa = &seed.apps[i];
			printf("%s  %s", sa->cid, sa->app.name);
			if (!sa->app.public && sa->client_secret == NULL)
				printf("  client_secret: %s", sa->secret);
			fputc('\n', stdout);
		}
	} else {
		fputs("{\"users\":[", stdout);
		for (size_t i = 0; i < seed.nusers; i++) {
			fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
			json_str(seed.users[i].name);
			printf(",\"admin\":%s}", seed.users[i].admin ? "true" : "false");
		}
		fputs("],\"apps\":[", stdout);
		for (size_t i = 0; i < seed.napps; i++) {
			const struct pt_seed_app *sa = &seed.apps[i];
			printf("%s{\"client_id\":\"%s\",", i ? "," : "", sa->cid);
			if (!sa->app.public)
				printf("\"client_secret\":\"%s\",", sa->secret);
			fputs("\"name\":", stdout);
			json_str(sa->app.name);
			fputs(",\"redirect_uris\":[", stdout);
			const char *u = sa->app.redirect_uris;
			for (int k = 0; u && *u; k++) {
				size_t m = strcspn(u, "\n");
				fputs(k ? "," : "", stdout);
				json_str(pt_strndup(arena, u, m));
				u += m + (u[m] != '\0');
			}
			printf("],\"public\":%s}", sa->app.public ? "true" : "false");
		}
		puts("]}");
	}
	for (size_t i = 0; i < seed.napps; i++)
		sodium_memzero(seed.apps[i].secret, sizeof(seed.apps[i].secret));
	sodium_memzero(text, n);
	return 0;
}

/* ------------------------------------------------------------ signing keys */

static int
cmd_key(int argc, char **argv)
{
	static const char *const valued[] = {NULL}, *const flags[] = {NULL};
	struct opts o;
	if (argc < 1)
		die("key: rotate|list (see --help)");
	parse_opts(argc - 1, argv + 1, valued, flags, &o);
	if (o.npos != 0)
		die("usage: postern key rotate | postern key list");
	open_db();
	int64_t now = pt_now();
	if (strcmp(argv[0], "rotate") == 0) {
		struct pt_key_row made[PT_OIDC_ALGS];
		size_t n;
		if (pt_keys_make(arena, &cfg, true, now, made, &n) != PT_OK)
			die("could not rotate the signing keys (database busy?): run it again");
		if (json)
			fputc('[', stdout);
		for (size_t i = 0; i < n; i++) {
			if (json)
				printf("%s{\"kid\":\"%s\",\"alg\":\"%s\"}", i ? "," : "", made[i].kid, made[i].alg);
			else
				printf("new %s signing key %s\n", made[i].alg, made[i].kid);
		}
		if (json)
			puts("]");
		else
			printf("the keys they replace stay in the JWKS for id_token_ttl (%ld s)\n",
			    cfg.id_token_ttl);
	} else if (strcmp(argv[0], "list") == 0) {
		struct pt_key_row *k;
		size_t n;
		if (pt_db_keys_list(arena, 0, &k, &n) != PT_OK)
			die("could not read the keys (database busy?)");
		if (json)
			fputc('[', stdout);
		else
			printf("%-44s %-6s %-17s %-17s %s\n", "KID", "ALG", "CREATED", "RETIRED", "PUBLISHED UNTIL");
		for (size_t i = 0; i < n; i++) {
			bool published = k[i].expires == 0 || k[i].expires > now;
			if (json) {
				printf("%s{\"kid\":\"%s\",\"alg\":\"%s\",\"created\":%lld,\"signing\":%s,"
				       "\"published\":%s", i ? "," : "", k[i].kid, k[i].alg,
				    (long long)k[i].created, k[i].retired ? "false" : "true",
				    published ? "true" : "false");
				if (k[i].retired)
					printf(",\"retired\":%lld,\"expires\":%lld", (long long)k[i].retired,
					    (long long)k[i].expires);
				fputc('}', stdout);
			} else {
				printf("%-44s %-6s %-17s %-17s %s\n", k[i].kid, k[i].alg,
				    pt_utc_time(arena, k[i].created),
				    k[i].retired ? pt_utc_time(arena, k[i].retired) : "(signs)",
				    k[i].retired ? (published ? pt_utc_time(arena, k[i].expires) : "(gone)") : "-");
			}
		}
		if (json)
			puts("]");
	} else {
		die("key: unknown subcommand %s", argv[0]);
	}
	return 0;
}

static const char usage[] =
    "usage: postern [--config FILE] [--json] COMMAND ...\n"
    "The config file comes from --config or $POSTERN_CONFIG. --json prints what a\n"
    "script reads. `postern COMMAND --help` explains one command.\n\n"
    "  init [--base-url URL]        create the config (if missing), the secret key and the database\n"
    "  user add NAME [--admin] [--password-file F] [--email ADDR] [--full-name NAME]\n"
    "  user set NAME [--email ADDR] [--full-name NAME]   \"\" clears one\n"
    "  user passwd NAME [--password-file F] [--revoke-tokens]   ends every session of the user\n"
    "  user list | user del NAME | user sessions revoke NAME\n"
    "  org add NAME --owner USER    an organization (every user also has a personal one)\n"
    "  org member ORG_ID USER [--role R] [--remove] | org del ORG_ID\n"
    "  app create --name N --redirect-uri URI [--redirect-uri URI2 ...] [--description D]\n"
    "             [--scope \"a b\"] [--owner USER] [--public] [--trusted] [--require-pkce] [--device]\n"
    "             [--resource-server] [--id-token-alg RS256|EdDSA]\n"
    "             [--post-logout-redirect-uri URI ...] [--require-dpop]\n"
    "  app list | app show ID | app rotate ID | app del ID\n"
    "  app set ID [--resource-server | --no-resource-server] [--require-dpop | --no-require-dpop]\n"
    "  token list [--user NAME] [--app ID] | token revoke ID | token revoke --grant ID\n"
    "  token issue --user NAME --app ID [--scope S] [--org ID]\n"
    "  key rotate | key list        OpenID Connect signing keys\n"
    "  janitor                      delete expired codes, sessions, device requests, tokens\n"
    "  backup FILE                  an online copy of the database\n"
    "  seed FILE.json               users and apps with fixed credentials, all or none\n";

/* `postern COMMAND --help` */
static const struct {
	const char *cmd, *text;
} help[] = {
    {"init", "usage: postern init [--base-url URL]    (the config file: --config FILE or $POSTERN_CONFIG)\n"
	     "Writes the config with every key at its default when it does not exist (base_url from\n"
	     "--base-url), makes the secret key for keyed hashes (mode 0600) when it is missing,\n"
	     "and creates the database or brings its schema up to date. Safe to run again.\n"},
    {"user", "usage: postern user add NAME [--admin] [--password-file F] [--email ADDR] [--full-name NAME]\n"
	     "       postern user set NAME [--email ADDR] [--full-name NAME]\n"
	     "       postern user passwd NAME [--password-file F] [--revoke-tokens]\n"
	     "       postern user list\n"
	     "       postern user del NAME\n"
	     "       postern user sessions revoke NAME\n"
	     "Built-in accounts. The password is the first line of F, or of stdin; never an\n"
	     "argument. It is stored as an Argon2id hash. add also makes the user's personal\n"
	     "organization; --admin lets the user mark apps trusted. passwd ends every session\n"
	     "of the user in the same transaction; --revoke-tokens also revokes every app's\n"
	     "approval and tokens. sessions revoke signs the user out everywhere. del removes\n"
	     "the user with their sessions, apps, approvals, tokens and personal organization.\n"
	     "--email (at most 254 bytes) and --full-name (at most 100 characters) are what OpenID\n"
	     "Connect apps get as email and name; set changes them, \"\" clears one.\n"},
    {"key", "usage: postern key rotate\n"
	    "       postern key list\n"
	    "OpenID Connect signing keys: an RS256 (RSA 2048) and an EdDSA (Ed25519) key, the\n"
	    "private halves sealed under the secret key. rotate makes new ones that sign from\n"
	    "then on; the old public keys stay at the jwks_uri for id_token_ttl, until every\n"
	    "id_token they signed has expired. `postern init` makes the first ones.\n"},
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
	    "           [--id-token-alg RS256|EdDSA] [--post-logout-redirect-uri URI ...]\n"
	    "           [--access-token-format opaque|jwt] [--require-dpop]\n"
	    "       postern app list | show CLIENT_ID | rotate CLIENT_ID | del CLIENT_ID\n"
	    "       postern app set CLIENT_ID [--resource-server | --no-resource-server]\n"
	    "           [--require-dpop | --no-require-dpop]\n"
	    "create prints the client_id and, for a confidential app, the secret: the only time\n"
	    "it is shown. rotate makes a new secret (the old one stops working, tokens stay);\n"
	    "del revokes every grant and token of the app. A client introspects its own tokens\n"
	    "only; a resource server (an API that checks tokens) may introspect every token.\n"
	    "--post-logout-redirect-uri (repeatable) is where the end-session endpoint may send\n"
	    "people back after an OpenID Connect logout, matched exactly.\n"
	    "--require-dpop: the app's token requests must carry a DPoP proof (RFC 9449), so\n"
	    "every token it gets is bound to its key.\n"},
    {"token", "usage: postern token list [--user NAME] [--app CLIENT_ID]\n"
	      "       postern token revoke ID | token revoke --grant GRANT_ID\n"
	      "       postern token issue --user NAME --app CLIENT_ID [--scope S] [--org ID]\n"
	      "issue records a grant and prints a live access token without the browser, for\n"
	      "tests and scripts; revoke --grant ends a whole approval.\n"},
    {"janitor", "usage: postern janitor\n"
		"Deletes expired codes, sessions, device requests, tokens, consent requests, old\n"
		"rate-limit counters, retired signing keys no longer published and self-registered\n"
		"clients nobody approved within registration_unapproved_ttl, in batches of\n"
		"short transactions (run it hourly:\n"
		"postern-janitor.timer). When another janitor holds the database (nodes sharing\n"
		"one PostgreSQL database), it says so and removes nothing.\n"},
    {"seed", "usage: postern seed FILE.json    (- reads stdin)\n"
	     "Creates the users and apps of a seed file in one transaction, or nothing when any of\n"
	     "it is wrong (the message names the line and the field, e.g. line 7: apps[0].client_id).\n"
	     "{\"users\": [{\"name\", \"password\", \"admin\"?, \"email\"?}],\n"
	     " \"apps\": [{\"name\", \"client_id\"?, \"client_secret\"?, \"redirect_uris\": [...],\n"
	     "           \"public\"?, \"scopes\"?, \"grant_types\"?}]}\n"
	     "A given client_id (pca_ + 32 of A-Z a-z 0-9) and client_secret (pcs_ + 48) are used as\n"
	     "they are, so a test suite's fixtures stay the same; missing ones are made and printed.\n"
	     "Passwords are stored as Argon2id hashes, secrets as keyed hashes; \"email\" is the\n"
	     "user's address (userinfo's email claim). scopes and grant_types\n"
	     "are lists (or space-separated strings); scopes must be in the config.\n"},
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
	if (strcmp(args[0], "key") == 0)
		return cmd_key(n - 1, args + 1);
	if (strcmp(args[0], "janitor") == 0)
		return cmd_janitor();
	if (strcmp(args[0], "backup") == 0)
		return cmd_backup(n - 1, args + 1);
	if (strcmp(args[0], "seed") == 0)
		return cmd_seed(n - 1, args + 1);
	die("unknown command %s (see --help)", args[0]);
	return 2;
}
