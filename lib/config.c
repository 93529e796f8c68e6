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
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || x < min || x > max)
		return false;
	*out = x;
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
	c->device_code_ttl = 900;
	c->device_interval = 5;
	c->cookie_name = xstrdup("postern_session");
	c->cookie_secure = -1;
	c->templates_dir = xstrdup(POSTERN_TEMPLATES);
	c->login = PT_LOGIN_BUILTIN;
	c->api_url = NULL;
	c->log_level = xstrdup("info");
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
		long x;
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
			c->database = relpath(path, v);
		} else if (!strcmp(k, "secret_key_file")) {
			free(c->secret_key_file);
			c->secret_key_file = relpath(path, v);
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
		} else if (!strcmp(k, "registration")) {
			if (!parse_bool(v, &c->registration))
				BAD("%s:%d: registration must be on or off", path, lineno);
		} else if (!strcmp(k, "protected_resource")) {
			if (c->nresources == PT_MAX_RESOURCES)
				BAD("%s:%d: more than %d protected resources", path, lineno, PT_MAX_RESOURCES);
			if ((strncmp(v, "https://", 8) && strncmp(v, "http://", 7)) || strpbrk(v, "#?\" \\"))
				BAD("%s:%d: protected_resource must be an http(s) URL without query or fragment", path, lineno);
			c->resources[c->nresources++] = xstrdup(v);
		} else if (!strcmp(k, "log_level")) {
			free(c->log_level);
			c->log_level = xstrdup(v);
		} else {
			BAD("%s:%d: unknown key '%s'", path, lineno, k);
		}
		(void)x;
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
	free(c->default_scope);
	free(c->cookie_name);
	free(c->templates_dir);
	free(c->templates_override);
	free(c->cli_app);
	free(c->api_url);
	free(c->log_level);
	sodium_memzero(c, sizeof(*c));
}
