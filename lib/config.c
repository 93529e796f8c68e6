/* config.c: the config file, "key = value" lines, loaded once per process. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "postern.h"

#define CONFIG_MAX_LINE 2048

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		abort();
	return p;
}

/* Resolves a path relative to the config file's directory. */
static char *
relpath(const char *cfgpath, const char *v)
{
	if (v[0] == '/' || cfgpath == NULL)
		return xstrdup(v);
	const char *slash = strrchr(cfgpath, '/');
	if (slash == NULL)
		return xstrdup(v);
	size_t dn = (size_t)(slash - cfgpath);
	size_t n = dn + 1 + strlen(v) + 1;
	char *p = malloc(n);
	if (p == NULL)
		abort();
	snprintf(p, n, "%.*s/%s", (int)dn, cfgpath, v);
	return p;
}

static bool
parse_long(const char *v, long min, long max, long *out)
{
	long long x;
	if (pt_strtonum(v, min, max, &x) != PT_OK)
		return false;
	*out = (long)x;
	return true;
}

static bool
parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return false;
	return true;
}

static char *
trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static const char *const exe_names[PT_EXE__MAX] = {
	[PT_EXE_AUTHORIZE] = "authorize",
	[PT_EXE_CONSENT] = "consent",
	[PT_EXE_TOKEN] = "token",
	[PT_EXE_APPS] = "apps",
	[PT_EXE_REVOKE] = "revoke",
	[PT_EXE_INTROSPECT] = "introspect",
	[PT_EXE_DEVICE] = "device",
};

const char *
pt_exe_name(int exe)
{
	return exe >= 0 && exe < PT_EXE__MAX ? exe_names[exe] : NULL;
}

int
pt_exe_by_name(const char *name)
{
	for (int i = 0; i < PT_EXE__MAX; i++)
		if (strcmp(name, exe_names[i]) == 0)
			return i;
	return -1;
}

/* Worker processes for a small (1-2 core) server; postern.conf.example says why. */
static const long default_processes[PT_EXE__MAX] = {
	[PT_EXE_AUTHORIZE] = 1,
	[PT_EXE_CONSENT] = 2,
	[PT_EXE_TOKEN] = 2,
	[PT_EXE_APPS] = 1,
	[PT_EXE_REVOKE] = 1,
	[PT_EXE_INTROSPECT] = 2,
	[PT_EXE_DEVICE] = 1,
};

static void
defaults(struct pt_config *c)
{
	memset(c, 0, sizeof(*c));
	c->base_url = xstrdup("http://127.0.0.1:8080");
	c->database = xstrdup("postern.db");
	c->secret_key_file = xstrdup("secret.key");
	c->default_scope = NULL;
	c->code_ttl = 600;
	c->access_token_ttl = 0;
	c->refresh_token_ttl = 30L * 86400;
	c->session_ttl = 14L * 86400;
	c->registration_unapproved_ttl = PT_REG_UNAPPROVED_TTL;
	c->device_code_ttl = 900;
	c->id_token_ttl = PT_ID_TOKEN_TTL;
	c->jwt_access_token_ttl = PT_JWT_ACCESS_TTL;
	c->dpop_proof_lifetime = PT_DPOP_LIFETIME;
	c->device_interval = 5;
	c->cookie_name = xstrdup("postern_session");
	c->cookie_secure = -1;
	c->templates_dir = xstrdup(POSTERN_TEMPLATES);
	c->login = PT_LOGIN_BUILTIN;
	c->api_url = NULL;
	c->sync = PT_SYNC_REVOCATIONS;
	memcpy(c->processes, default_processes, sizeof(c->processes));
}

static int
load_key(struct pt_config *c, char *err, size_t errlen)
{
	int fd = open(c->secret_key_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return PT_OK; /* `postern init` creates it; servers refuse to start */
		snprintf(err, errlen, "%s: %s", c->secret_key_file, strerror(errno));
		return PT_ERR_CONFIG;
	}
	char hex[65 + 2];
	ssize_t n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n < 64) {
		snprintf(err, errlen, "%s: expected 64 hex characters", c->secret_key_file);
		return PT_ERR_CONFIG;
	}
	size_t bin;
	if (sodium_hex2bin(c->key, sizeof(c->key), hex, 64, NULL, &bin, NULL) != 0 ||
	    bin != 32) {
		snprintf(err, errlen, "%s: expected 64 hex characters", c->secret_key_file);
		return PT_ERR_CONFIG;
	}
	sodium_memzero(hex, sizeof(hex));
	c->have_key = true;
	return PT_OK;
}

/* Why v cannot be the site_name (it is shown on every page, in the consent page's
 * question), or NULL when it can: 1..PT_MAX_SITE_NAME characters a page shows as they
 * were typed. */
static const char *
site_name_problem(const char *v)
{
	static char why[96];
	uint32_t bad;
	size_t n = strlen(v);
	if (n == 0)
		return "is empty (leave it out for the base URL's host)";
	if (!pt_valid_display_text(v, n, false, &bad)) {
		if (bad == PT_BAD_UTF8)
			return "is not valid UTF-8";
		snprintf(why, sizeof(why), "contains an invisible or control character (U+%04X)",
		    (unsigned)bad);
		return why;
	}
	if (pt_utf8_len(v, n) > PT_MAX_SITE_NAME) {
		snprintf(why, sizeof(why), "is longer than %d characters", PT_MAX_SITE_NAME);
		return why;
	}
	return NULL;
}

/* The default site_name: the host of the base URL, without user info or port
 * ("https://auth.example.com:8443/x" -> "auth.example.com"). */
static char *
host_of_url(const char *url)
{
	const char *h = strstr(url, "://");
	h = h != NULL ? h + 3 : url;
	size_t n = strcspn(h, "/?#");
	const char *at = memchr(h, '@', n);
	if (at != NULL) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	size_t end = n;
	for (size_t i = 0; i < n; i++)
		if (h[i] == ']')
			end = n;
		else if (h[i] == ':')
			end = i;
	/* a host that is only a port (or nothing) keeps the whole of it */
	if (end == 0)
		end = n;
	char *p = strndup(h, end);
	if (p == NULL)
		abort();
	return p;
}

/* The upstream_* keys of a bridged device login. A bad line is named by number; the
 * secret is never part of a message. */
static bool
upstream_key(struct pt_config *c, const char *path, const char *k, const char *v, char *err,
    size_t errlen, int lineno)
{
	char **url = !strcmp(k, "upstream_authorize_url") ? &c->upstream_authorize_url
	    : !strcmp(k, "upstream_token_url")		  ? &c->upstream_token_url
							  : NULL;
	if (url != NULL) {
		/* TLS is always verified; plain http only reaches this machine */
		if (!pt_redirect_uri_valid(v, strlen(v))) {
			snprintf(err, errlen, "%s:%d: %s must be an https URL without fragment or"
			    " user info (plain http only on a loopback host: 127.0.0.1, [::1],"
			    " localhost)", path, lineno, k);
			return false;
		}
		free(*url);
		*url = xstrdup(v);
	} else if (!strcmp(k, "upstream_client_id")) {
		if (!*v || strlen(v) > 256 || strpbrk(v, " \t") || !pt_valid_printable(v, strlen(v))) {
			snprintf(err, errlen, "%s:%d: upstream_client_id must be 1..256 printable"
			    " characters without blanks", path, lineno);
			return false;
		}
		free(c->upstream_client_id);
		c->upstream_client_id = xstrdup(v);
	} else if (!strcmp(k, "upstream_client_secret")) {
		size_t n = strlen(v);
		if (!n || n > PT_MAX_UPSTREAM_SECRET || strpbrk(v, " \t") || !pt_valid_printable(v, n)) {
			snprintf(err, errlen, "%s:%d: upstream_client_secret must be 1..%d printable"
			    " characters without blanks", path, lineno, PT_MAX_UPSTREAM_SECRET);
			return false;
		}
		if (c->upstream_client_secret != NULL)
			sodium_memzero(c->upstream_client_secret, strlen(c->upstream_client_secret));
		free(c->upstream_client_secret);
		c->upstream_client_secret = xstrdup(v);
	} else if (!strcmp(k, "upstream_client_secret_file")) {
		free(c->upstream_secret_file);
		c->upstream_secret_file = relpath(path, v);
	} else if (!strcmp(k, "upstream_api_url")) {
		if ((strncmp(v, "https://", 8) && strncmp(v, "http://", 7)) || strpbrk(v, "\" \\") ||
		    !pt_valid_printable(v, strlen(v))) {
			snprintf(err, errlen, "%s:%d: upstream_api_url must be an http(s) URL", path,
			    lineno);
			return false;
		}
		free(c->upstream_api_url);
		c->upstream_api_url = xstrdup(v);
	} else if (!strcmp(k, "upstream_send_redirect_uri")) {
		if (!parse_bool(v, &c->upstream_redirect_uri)) {
			snprintf(err, errlen, "%s:%d: upstream_send_redirect_uri must be on or off",
			    path, lineno);
			return false;
		}
	} else if (!strcmp(k, "upstream_token_auth")) {
		if (!strcmp(v, "json") || !strcmp(v, "basic")) {
			c->upstream_token_basic = !strcmp(v, "basic");
		} else {
			snprintf(err, errlen, "%s:%d: upstream_token_auth must be json (Postiz) or basic",
			    path, lineno);
			return false;
		}
	} else {
		snprintf(err, errlen, "%s:%d: unknown key '%s'", path, lineno, k);
		return false;
	}
	return true;
}

/* Reads the upstream secret from its file: the first line, without the newline. */
static int
upstream_secret_file(struct pt_config *c, char *err, size_t errlen)
{
	char buf[PT_MAX_UPSTREAM_SECRET + 3];
	FILE *f = fopen(c->upstream_secret_file, "r");
	if (f == NULL) {
		snprintf(err, errlen, "upstream_client_secret_file %s: %s", c->upstream_secret_file,
		    strerror(errno));
		return PT_ERR_CONFIG;
	}
	bool got = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	size_t n = got ? strlen(buf) : 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	bool ok = n > 0 && n <= PT_MAX_UPSTREAM_SECRET && !strpbrk(buf, " \t") &&
	    pt_valid_printable(buf, n);
	if (ok) {
		if (c->upstream_client_secret != NULL)
			sodium_memzero(c->upstream_client_secret, strlen(c->upstream_client_secret));
		free(c->upstream_client_secret);
		c->upstream_client_secret = xstrdup(buf);
	}
	sodium_memzero(buf, sizeof(buf));
	if (!ok) {
		snprintf(err, errlen, "upstream_client_secret_file %s: the first line must be the"
		    " secret, 1..%d printable characters without blanks", c->upstream_secret_file,
		    PT_MAX_UPSTREAM_SECRET);
		return PT_ERR_CONFIG;
	}
	return PT_OK;
}

/* A bridge needs every upstream_* key but the optional ones; some without the rest is
 * a mistake, named here rather than found at the first login. */
static int
upstream_check(struct pt_config *c, const char *path, char *err, size_t errlen)
{
	if (c->upstream_secret_file != NULL && upstream_secret_file(c, err, errlen) != PT_OK)
		return PT_ERR_CONFIG;
	const struct {
		const char *name;
		const char *v;
	} need[] = {
		{"upstream_authorize_url", c->upstream_authorize_url},
		{"upstream_token_url", c->upstream_token_url},
		{"upstream_client_id", c->upstream_client_id},
		{"upstream_client_secret (or upstream_client_secret_file)", c->upstream_client_secret},
		{"upstream_api_url", c->upstream_api_url},
	};
	size_t have = 0, n = sizeof(need) / sizeof(need[0]);
	for (size_t i = 0; i < n; i++)
		have += need[i].v != NULL;
	if (have == 0 && !c->upstream_redirect_uri && !c->upstream_token_basic)
		return PT_OK;
	for (size_t i = 0; i < n; i++)
		if (need[i].v == NULL) {
			snprintf(err, errlen, "%s: a device login bridged to an upstream needs %s too",
			    path, need[i].name);
			return PT_ERR_CONFIG;
		}
	c->bridge = true;
	return PT_OK;
}

int
pt_config_load(struct pt_config *c, const char *path, char *err, size_t errlen)
{
	char line[CONFIG_MAX_LINE + 2];
	int lineno = 0;
	defaults(c);
	if (path == NULL)
		path = getenv("POSTERN_CONFIG");
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no config file: use --config FILE or POSTERN_CONFIG");
		return PT_ERR_CONFIG;
	}
	c->path = xstrdup(path);
	/* the default files live next to the config file, like relative paths in it */
	free(c->database);
	c->database = relpath(path, "postern.db");
	free(c->secret_key_file);
	c->secret_key_file = relpath(path, "secret.key");
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return PT_ERR_CONFIG;
	}
#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); fclose(f); return PT_ERR_CONFIG; } while (0)
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strlen(line) > CONFIG_MAX_LINE)
			BAD("%s:%d: line longer than %d bytes", path, lineno, CONFIG_MAX_LINE);
		/* '#' starts a comment at the start of a line or after a blank, so
		 * "code_ttl = 600   # ten minutes" works and "a#b" stays a value. */
		for (char *h = line; (h = strchr(h, '#')) != NULL; h++)
			if (h == line || h[-1] == ' ' || h[-1] == '\t') {
				*h = '\0';
				break;
			}
		char *s = trim(line);
		if (*s == '#' || *s == '\0')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL)
			BAD("%s:%d: expected key = value", path, lineno);
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		if (strncmp(k, "scope ", 6) == 0) {
			char *name = trim(k + 6);
			if (c->nscopes == PT_MAX_SCOPES)
				BAD("%s:%d: more than %d scopes", path, lineno, PT_MAX_SCOPES);
			if (!pt_valid_scope(name, strlen(name)) || strchr(name, ' ') || !*name)
				BAD("%s:%d: bad scope name", path, lineno);
			c->scopes[c->nscopes].name = xstrdup(name);
			c->scopes[c->nscopes].desc = xstrdup(v);
			c->nscopes++;
		} else if (strncmp(k, "processes ", 10) == 0) {
			char *name = trim(k + 10);
			int e = pt_exe_by_name(name);
			if (e < 0)
				BAD("%s:%d: processes: no executable called '%s' (authorize, consent,"
				    " token, apps, revoke, introspect or device)", path, lineno, name);
			if (!parse_long(v, 1, PT_MAX_PROCESSES, &c->processes[e]))
				BAD("%s:%d: processes %s must be 1..%d", path, lineno, name,
				    PT_MAX_PROCESSES);
		} else if (!strcmp(k, "base_url")) {
			size_t n = strlen(v);
			while (n && v[n - 1] == '/')
				v[--n] = '\0';
			if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
				BAD("%s:%d: base_url must start with http:// or https://", path, lineno);
			free(c->base_url);
			c->base_url = xstrdup(v);
		} else if (!strcmp(k, "database")) {
			free(c->database);
			/* a libpq connection URI is taken as it is; anything else is an SQLite file */
			c->database = pt_db_is_pg(v) ? xstrdup(v) : relpath(path, v);
		} else if (!strcmp(k, "secret_key_file")) {
			free(c->secret_key_file);
			c->secret_key_file = relpath(path, v);
		} else if (!strcmp(k, "metrics_file")) {
			free(c->metrics_file);
			c->metrics_file = relpath(path, v);
		} else if (!strcmp(k, "default_scope")) {
			free(c->default_scope);
			c->default_scope = xstrdup(v);
		} else if (!strcmp(k, "code_ttl")) {
			if (!parse_long(v, 1, 3600, &c->code_ttl))
				BAD("%s:%d: code_ttl must be 1..3600 seconds", path, lineno);
		} else if (!strcmp(k, "access_token_ttl")) {
			if (!parse_long(v, 0, 10L * 365 * 86400, &c->access_token_ttl))
				BAD("%s:%d: access_token_ttl must be 0 (never) or seconds", path, lineno);
		} else if (!strcmp(k, "refresh_token_ttl")) {
			if (!parse_long(v, 60, 10L * 365 * 86400, &c->refresh_token_ttl))
				BAD("%s:%d: refresh_token_ttl must be seconds >= 60", path, lineno);
		} else if (!strcmp(k, "jwt_access_token_ttl")) {
			if (!parse_long(v, 1, 86400, &c->jwt_access_token_ttl))
				BAD("%s:%d: jwt_access_token_ttl must be 1..86400 seconds (never 0: a JWT cannot be revoked everywhere)", path, lineno);
		} else if (!strcmp(k, "dpop_proof_lifetime")) {
			if (!parse_long(v, PT_DPOP_LIFETIME_MIN, PT_DPOP_LIFETIME_MAX, &c->dpop_proof_lifetime))
				BAD("%s:%d: dpop_proof_lifetime must be %d..%d seconds", path, lineno,
				    PT_DPOP_LIFETIME_MIN, PT_DPOP_LIFETIME_MAX);
		} else if (!strcmp(k, "dpop_nonce")) {
			if (!parse_bool(v, &c->dpop_nonce))
				BAD("%s:%d: dpop_nonce must be on or off", path, lineno);
		} else if (!strcmp(k, "id_token_ttl")) {
			if (!parse_long(v, 60, 86400, &c->id_token_ttl))
				BAD("%s:%d: id_token_ttl must be 60..86400 seconds", path, lineno);
		} else if (!strcmp(k, "session_ttl")) {
			if (!parse_long(v, 60, 365L * 86400, &c->session_ttl))
				BAD("%s:%d: session_ttl must be seconds >= 60", path, lineno);
		} else if (!strcmp(k, "device_code_ttl")) {
			if (!parse_long(v, 1, 86400, &c->device_code_ttl))
				BAD("%s:%d: device_code_ttl must be 1..86400 seconds", path, lineno);
		} else if (!strcmp(k, "device_interval")) {
			if (!parse_long(v, 0, 60, &c->device_interval))
				BAD("%s:%d: device_interval must be 0..60 seconds", path, lineno);
		} else if (!strcmp(k, "cookie_name")) {
			if (!pt_valid_b62ish(v, strlen(v)))
				BAD("%s:%d: cookie_name must be letters, digits, _ or -", path, lineno);
			free(c->cookie_name);
			c->cookie_name = xstrdup(v);
		} else if (!strcmp(k, "cookie_secure")) {
			bool b;
			if (!strcmp(v, "auto"))
				c->cookie_secure = -1;
			else if (parse_bool(v, &b))
				c->cookie_secure = b;
			else
				BAD("%s:%d: cookie_secure must be auto, on or off", path, lineno);
		} else if (!strcmp(k, "templates")) {
			free(c->templates_dir);
			c->templates_dir = relpath(path, v);
		} else if (!strcmp(k, "audit_log")) {
			free(c->audit_log);
			c->audit_log = *v ? relpath(path, v) : NULL;
		} else if (!strcmp(k, "templates_override")) {
			free(c->templates_override);
			c->templates_override = relpath(path, v);
		} else if (!strcmp(k, "login")) {
			if (!strcmp(v, "builtin"))
				c->login = PT_LOGIN_BUILTIN;
			else if (!strcmp(v, "remote_user"))
				c->login = PT_LOGIN_REMOTE_USER;
			else
				BAD("%s:%d: login must be builtin or remote_user", path, lineno);
		} else if (!strcmp(k, "cli_app")) {
			free(c->cli_app);
			c->cli_app = xstrdup(v);
		} else if (!strcmp(k, "api_url")) {
			free(c->api_url);
			c->api_url = xstrdup(v);
		} else if (!strcmp(k, "client_metadata_documents")) {
			if (!parse_bool(v, &c->client_metadata_documents))
				BAD("%s:%d: client_metadata_documents must be on or off", path, lineno);
		} else if (!strcmp(k, "client_metadata_allow_hosts")) {
			free(c->client_metadata_allow_hosts);
			c->client_metadata_allow_hosts = xstrdup(v);
		} else if (!strcmp(k, "client_metadata_ca_file")) {
			free(c->client_metadata_ca_file);
			c->client_metadata_ca_file = relpath(path, v);
		} else if (!strcmp(k, "site_name")) {
			const char *why = site_name_problem(v);
			if (why != NULL)
				BAD("%s:%d: site_name %s", path, lineno, why);
			free(c->site_name);
			c->site_name = xstrdup(v);
		} else if (!strcmp(k, "app_creation")) {
			if (!strcmp(v, "everyone"))
				c->apps_admins_only = false;
			else if (!strcmp(v, "admins"))
				c->apps_admins_only = true;
			else
				BAD("%s:%d: app_creation must be everyone or admins", path, lineno);
		} else if (!strcmp(k, "synchronous")) {
			if (!strcmp(v, "full"))
				c->sync = PT_SYNC_FULL;
			else if (!strcmp(v, "revocations"))
				c->sync = PT_SYNC_REVOCATIONS;
			else if (!strcmp(v, "normal"))
				c->sync = PT_SYNC_NORMAL;
			else
				BAD("%s:%d: synchronous must be full, revocations or normal", path, lineno);
		} else if (!strcmp(k, "registration_unapproved_ttl")) {
			if (!parse_long(v, 0, 10L * 365 * 86400, &c->registration_unapproved_ttl) ||
			    (c->registration_unapproved_ttl > 0 && c->registration_unapproved_ttl < 60))
				BAD("%s:%d: registration_unapproved_ttl must be 0 (never) or seconds >= 60", path, lineno);
		} else if (!strcmp(k, "registration")) {
			if (!parse_bool(v, &c->registration))
				BAD("%s:%d: registration must be on or off", path, lineno);
		} else if (!strcmp(k, "protected_resource")) {
			if (c->nresources == PT_MAX_RESOURCES)
				BAD("%s:%d: more than %d protected resources", path, lineno, PT_MAX_RESOURCES);
			if ((strncmp(v, "https://", 8) && strncmp(v, "http://", 7)) || strpbrk(v, "#?\" \\"))
				BAD("%s:%d: protected_resource must be an http(s) URL without query or fragment", path, lineno);
			c->resources[c->nresources++] = xstrdup(v);
		} else if (!strncmp(k, "upstream_", 9)) {
			if (!upstream_key(c, path, k, v, err, errlen, lineno)) {
				fclose(f);
				return PT_ERR_CONFIG;
			}
		} else if (!strcmp(k, "log_level")) {
			/* never read by anything: accepted so that configs that still set it
			 * load, and otherwise ignored */
		} else {
			BAD("%s:%d: unknown key '%s'", path, lineno, k);
		}
	}
	fclose(f);
#undef BAD
	/* base_path: the path part of base_url */
	const char *hp = strstr(c->base_url, "://") + 3;
	const char *slash = strchr(hp, '/');
	c->base_path = xstrdup(slash ? slash : "");
	if (c->default_scope == NULL)
		c->default_scope = xstrdup(c->nscopes ? c->scopes[0].name : "");
	if (c->default_scope[0] && !pt_scopes_ok(c, c->default_scope, strlen(c->default_scope), NULL)) {
		snprintf(err, errlen, "%s: default_scope names a scope that is not configured", path);
		return PT_ERR_CONFIG;
	}
	if (c->api_url == NULL)
		c->api_url = xstrdup(c->base_url);
	if (c->site_name == NULL)
		c->site_name = host_of_url(c->base_url);
	/* the counters' shared file lives with the state: next to an SQLite database, or
	 * next to the secret key when the database is PostgreSQL */
	if (c->metrics_file == NULL)
		c->metrics_file = relpath(pt_db_is_pg(c->database) ? c->secret_key_file : c->database,
		    "postern.metrics");
	if (upstream_check(c, path, err, errlen) != PT_OK)
		return PT_ERR_CONFIG;
	return load_key(c, err, errlen);
}

const struct pt_scope *
pt_config_scope(const struct pt_config *c, const char *name, size_t n)
{
	for (size_t i = 0; i < c->nscopes; i++)
		if (strlen(c->scopes[i].name) == n && memcmp(c->scopes[i].name, name, n) == 0)
			return &c->scopes[i];
	return NULL;
}

/* Is t (n bytes) one of the words of list, separated by spaces or newlines? */
bool
pt_word_in(const char *t, size_t n, const char *list)
{
	const char *s = list;
	while (*s) {
		size_t k = strcspn(s, " \n");
		if (k == n && memcmp(s, t, n) == 0)
			return true;
		s += k;
		while (*s == ' ' || *s == '\n')
			s++;
	}
	return false;
}

bool
pt_scopes_ok(const struct pt_config *c, const char *s, size_t n, const char *allowed)
{
	size_t i = 0;
	if (!pt_valid_scope(s, n))
		return false;
	while (i < n) {
		size_t k = 0;
		while (i + k < n && s[i + k] != ' ')
			k++;
		if (pt_config_scope(c, s + i, k) == NULL)
			return false;
		if (allowed != NULL && *allowed && !pt_word_in(s + i, k, allowed))
			return false;
		i += k + 1;
	}
	return true;
}

bool
pt_scope_subset(const char *a, const char *b)
{
	const char *s = a;
	while (*s) {
		size_t k = strcspn(s, " ");
		if (k && !pt_word_in(s, k, b))
			return false;
		s += k;
		while (*s == ' ')
			s++;
	}
	return true;
}

void
pt_config_free(struct pt_config *c)
{
	for (size_t i = 0; i < c->nscopes; i++) {
		free(c->scopes[i].name);
		free(c->scopes[i].desc);
	}
	for (size_t i = 0; i < c->nresources; i++)
		free(c->resources[i]);
	free(c->path);
	free(c->base_url);
	free(c->base_path);
	free(c->database);
	free(c->secret_key_file);
	free(c->metrics_file);
	free(c->default_scope);
	free(c->cookie_name);
	free(c->templates_dir);
	free(c->templates_override);
	free(c->audit_log);
	free(c->cli_app);
	free(c->api_url);
	free(c->site_name);
	free(c->client_metadata_allow_hosts);
	free(c->client_metadata_ca_file);
	free(c->upstream_authorize_url);
	free(c->upstream_token_url);
	free(c->upstream_client_id);
	if (c->upstream_client_secret != NULL)
		sodium_memzero(c->upstream_client_secret, strlen(c->upstream_client_secret));
	free(c->upstream_client_secret);
	free(c->upstream_secret_file);
	free(c->upstream_api_url);
	sodium_memzero(c, sizeof(*c));
}
