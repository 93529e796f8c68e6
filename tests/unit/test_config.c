/* test_config.c: the config file: every key, defaults, and bad lines named by number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static char dir[64];
static char cfgpath[128];
static char err[512];
static struct pt_config cfg;

/* Writes text as the config file and loads it. */
static int
load(const char *text)
{
	unit_write_file(dir, "postern.conf", text);
	pt_config_free(&cfg);
	err[0] = '\0';
	return pt_config_load(&cfg, cfgpath, err, sizeof(err));
}

/* Does the error name the config file and this line? */
static bool
names_line(int line)
{
	char want[200];
	snprintf(want, sizeof(want), "%s:%d: ", cfgpath, line);
	bool ok = strncmp(err, want, strlen(want)) == 0;
	if (!ok)
		printf("     err \"%s\"\n", err);
	return ok;
}

static char *
in_dir(const char *name)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
defaults_apply_to_an_empty_file(void)
{
	CHECK_INT(load("# nothing\n\n   \n"), PT_OK);
	CHECK_STR(cfg.path, cfgpath);
	CHECK_STR(cfg.base_url, "http://127.0.0.1:8080");
	CHECK_STR(cfg.base_path, "");
	CHECK_INT(cfg.nscopes, 0);
	CHECK_STR(cfg.default_scope, "");
	CHECK_INT(cfg.code_ttl, 600);
	CHECK_INT(cfg.access_token_ttl, 0);
	CHECK_INT(cfg.refresh_token_ttl, 30L * 86400);
	CHECK_INT(cfg.session_ttl, 14L * 86400);
	CHECK_INT(cfg.device_code_ttl, 900);
	CHECK_INT(cfg.id_token_ttl, PT_ID_TOKEN_TTL);
	CHECK_INT(cfg.dpop_proof_lifetime, PT_DPOP_LIFETIME);
	CHECK(!cfg.dpop_nonce);
	CHECK_INT(cfg.registration_unapproved_ttl, 7L * 86400);
	CHECK_INT(cfg.device_interval, 5);
	CHECK_STR(cfg.cookie_name, "postern_session");
	CHECK_INT(cfg.cookie_secure, -1);
	CHECK_STR(cfg.templates_dir, POSTERN_TEMPLATES);
	CHECK(cfg.templates_override == NULL);
	CHECK_INT(cfg.login, PT_LOGIN_BUILTIN);
	CHECK(cfg.cli_app == NULL);
	CHECK_STR(cfg.api_url, "http://127.0.0.1:8080");
	CHECK(!cfg.registration);
	CHECK_INT(cfg.nresources, 0);
	CHECK_INT(cfg.processes[PT_EXE_AUTHORIZE], 1);
	CHECK_INT(cfg.processes[PT_EXE_CONSENT], 2);
	CHECK_INT(cfg.processes[PT_EXE_TOKEN], 2);
	CHECK_INT(cfg.processes[PT_EXE_APPS], 1);
	CHECK_INT(cfg.processes[PT_EXE_REVOKE], 1);
	CHECK_INT(cfg.processes[PT_EXE_INTROSPECT], 2);
	CHECK_INT(cfg.processes[PT_EXE_DEVICE], 1);
	/* the default files sit next to the config file, whatever the working directory */
	CHECK_STR(cfg.database, in_dir("postern.db"));
	CHECK_STR(cfg.secret_key_file, in_dir("secret.key"));
}

static void
every_key_is_parsed(void)
{
	unit_write_file(dir, "key.hex", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	int rc = load(
	    "# a comment\n"
	    "base_url = https://example.com/auth/\n"
	    "\tdatabase=data/p.db  \r\n"
	    "secret_key_file = key.hex\n"
	    "scope profile = See your name\n"
	    "scope  posts:read   =   Read your posts = all of them\n"
	    "default_scope = profile posts:read\n"
	    "code_ttl = 60\n"
	    "access_token_ttl = 3600\n"
	    "refresh_token_ttl = 86400\n"
	    "session_ttl = 7200\n"
	    "device_code_ttl = 300\n"
	    "id_token_ttl = 600\n"
	    "device_interval = 0\n"
	    "cookie_name = my-cookie_1\n"
	    "cookie_secure = on\n"
	    "templates = /usr/share/t\n"
	    "templates_override = over\n"
	    "login = remote_user\n"
	    "cli_app = pca_abc\n"
	    "api_url = https://api.example.com\n"
	    "registration = yes\n"
	    "protected_resource = https://example.com/mcp\n"
	    "protected_resource = http://127.0.0.1:9000/api\n"
	    "log_level = debug\n");
	CHECK_INT(rc, PT_OK);
	if (rc != PT_OK)
		printf("     err \"%s\"\n", err);
	CHECK_STR(cfg.base_url, "https://example.com/auth");
	CHECK_STR(cfg.base_path, "/auth");
	CHECK_STR(cfg.database, in_dir("data/p.db"));
	CHECK_STR(cfg.secret_key_file, in_dir("key.hex"));
	CHECK(cfg.have_key);
	CHECK(cfg.key[0] == 0x00 && cfg.key[1] == 0x01 && cfg.key[31] == 0x1f);
	CHECK_INT(cfg.nscopes, 2);
	CHECK_STR(cfg.scopes[0].name, "profile");
	CHECK_STR(cfg.scopes[0].desc, "See your name");
	CHECK_STR(cfg.scopes[1].name, "posts:read");
	CHECK_STR(cfg.scopes[1].desc, "Read your posts = all of them");
	CHECK_STR(cfg.default_scope, "profile posts:read");
	CHECK_INT(cfg.code_ttl, 60);
	CHECK_INT(cfg.access_token_ttl, 3600);
	CHECK_INT(cfg.refresh_token_ttl, 86400);
	CHECK_INT(cfg.session_ttl, 7200);
	CHECK_INT(cfg.device_code_ttl, 300);
	CHECK_INT(cfg.id_token_ttl, 600);
	CHECK_INT(cfg.device_interval, 0);
	CHECK_STR(cfg.cookie_name, "my-cookie_1");
	CHECK_INT(cfg.cookie_secure, 1);
	CHECK_STR(cfg.templates_dir, "/usr/share/t");
	CHECK_STR(cfg.templates_override, in_dir("over"));
	CHECK_INT(cfg.login, PT_LOGIN_REMOTE_USER);
	CHECK_STR(cfg.cli_app, "pca_abc");
	CHECK_STR(cfg.api_url, "https://api.example.com");
	CHECK(cfg.registration);
	CHECK_INT(cfg.nresources, 2);
	CHECK_STR(cfg.resources[0], "https://example.com/mcp");
	CHECK_STR(cfg.resources[1], "http://127.0.0.1:9000/api");
	/* log_level is accepted (older configs set it) and has no effect */
}

static void
processes_per_executable(void)
{
	CHECK_INT(load("processes introspect = 3\nprocesses   consent  =  64\n"
	    "processes authorize = 1 # one is enough\nprocesses token = 5\nprocesses token = 4\n"),
	    PT_OK);
	CHECK_INT(cfg.processes[PT_EXE_INTROSPECT], 3);
	CHECK_INT(cfg.processes[PT_EXE_CONSENT], PT_MAX_PROCESSES);
	CHECK_INT(cfg.processes[PT_EXE_AUTHORIZE], 1);
	CHECK_INT(cfg.processes[PT_EXE_TOKEN], 4); /* the last line wins */
	CHECK_INT(cfg.processes[PT_EXE_APPS], 1);  /* the others keep their defaults */
	CHECK_INT(cfg.processes[PT_EXE_DEVICE], 1);
	/* every executable has a name the key takes */
	for (int e = 0; e < PT_EXE__MAX; e++) {
		static const char *const names[] = {"authorize", "consent", "token", "apps",
		    "revoke", "introspect", "device"};
		char line[64];
		snprintf(line, sizeof(line), "processes %s = 7\n", names[e]);
		CHECK_INT(pt_exe_by_name(names[e]), e);
		CHECK_INT(load(line), PT_OK);
		CHECK_INT(cfg.processes[e], 7);
	}
	CHECK_INT(pt_exe_by_name("Introspect"), -1);
	CHECK_INT(pt_exe_by_name(""), -1);
}

static void
processes_out_of_range_or_unknown_refused(void)
{
	CHECK_INT(load("\nprocesses introspect = 0\n"), PT_ERR_CONFIG);
	CHECK(names_line(2));
	CHECK(strstr(err, "processes introspect must be 1..64") != NULL);
	CHECK_INT(load("processes introspect = 65\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK_INT(load("processes introspect = -1\n"), PT_ERR_CONFIG);
	CHECK_INT(load("processes introspect = two\n"), PT_ERR_CONFIG);
	CHECK_INT(load("processes introspect = 2x\n"), PT_ERR_CONFIG);
	CHECK_INT(load("processes introspect =\n"), PT_ERR_CONFIG);
	CHECK_INT(load("processes janitor = 2\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK(strstr(err, "no executable called 'janitor'") != NULL);
	CHECK(strstr(err, "introspect") != NULL); /* and it lists the ones there are */
	CHECK_INT(load("processes introspect token = 2\n"), PT_ERR_CONFIG);
	CHECK_INT(load("processes = 2\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "unknown key 'processes'") != NULL);
}

static void
default_scope_is_the_first_scope(void)
{
	CHECK_INT(load("scope b = B\nscope a = A\n"), PT_OK);
	CHECK_STR(cfg.default_scope, "b");
}

static void
booleans_and_cookie_secure_words(void)
{
	CHECK_INT(load("cookie_secure = off\nregistration = on\n"), PT_OK);
	CHECK_INT(cfg.cookie_secure, 0);
	CHECK(cfg.registration);
	CHECK_INT(load("cookie_secure = auto\nregistration = false\n"), PT_OK);
	CHECK_INT(cfg.cookie_secure, -1);
	CHECK(!cfg.registration);
	CHECK_INT(load("cookie_secure = 1\nregistration = 0\nlogin = builtin\n"), PT_OK);
	CHECK_INT(cfg.cookie_secure, 1);
	CHECK_INT(cfg.login, PT_LOGIN_BUILTIN);
}

static void
ttl_ranges_are_inclusive(void)
{
	CHECK_INT(load("code_ttl = 1\n"), PT_OK);
	CHECK_INT(load("code_ttl = 3600\n"), PT_OK);
	CHECK_INT(cfg.code_ttl, 3600);
	CHECK_INT(load("code_ttl = 3601\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK_INT(load("\ncode_ttl = 0\n"), PT_ERR_CONFIG);
	CHECK(names_line(2));
	CHECK_INT(load("refresh_token_ttl = 59\n"), PT_ERR_CONFIG);
	CHECK_INT(load("session_ttl = 59\n"), PT_ERR_CONFIG);
	CHECK_INT(load("id_token_ttl = 59\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "id_token_ttl must be 60..86400 seconds") != NULL);
	CHECK_INT(load("registration_unapproved_ttl = 59\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "registration_unapproved_ttl must be 0 (never) or seconds >= 60") != NULL);
	CHECK_INT(load("registration_unapproved_ttl = -1\n"), PT_ERR_CONFIG);
	CHECK_INT(load("registration_unapproved_ttl = 0\n"), PT_OK);
	CHECK_INT(cfg.registration_unapproved_ttl, 0);
	CHECK_INT(load("registration_unapproved_ttl = 60\n"), PT_OK);
	CHECK_INT(cfg.registration_unapproved_ttl, 60);
	CHECK_INT(load("id_token_ttl = 86401\n"), PT_ERR_CONFIG);
	CHECK_INT(load("id_token_ttl = 60\n"), PT_OK);
	CHECK_INT(load("id_token_ttl = 86400\n"), PT_OK);
	CHECK_INT(load("device_code_ttl = 86401\n"), PT_ERR_CONFIG);
	CHECK_INT(load("device_interval = 61\n"), PT_ERR_CONFIG);
	CHECK_INT(load("access_token_ttl = -1\n"), PT_ERR_CONFIG);
	/* DPoP: PT_DPOP_LIFETIME_MIN..PT_DPOP_LIFETIME_MAX, and a nonce switch */
	CHECK_INT(load("dpop_proof_lifetime = 4\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "dpop_proof_lifetime must be 5..600 seconds") != NULL);
	CHECK_INT(load("dpop_proof_lifetime = 601\n"), PT_ERR_CONFIG);
	CHECK_INT(load("dpop_proof_lifetime = 5\n"), PT_OK);
	CHECK_INT(load("dpop_proof_lifetime = 600\n"), PT_OK);
	CHECK_INT(cfg.dpop_proof_lifetime, 600);
	CHECK_INT(load("dpop_nonce = on\n"), PT_OK);
	CHECK(cfg.dpop_nonce);
	CHECK_INT(load("dpop_nonce = maybe\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "dpop_nonce must be on or off") != NULL);
}

static void
numbers_must_be_whole(void)
{
	CHECK_INT(load("code_ttl = 10s\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "code_ttl") != NULL);
	CHECK_INT(load("code_ttl = \n"), PT_ERR_CONFIG);
	CHECK_INT(load("code_ttl = 1e3\n"), PT_ERR_CONFIG);
	CHECK_INT(load("access_token_ttl = 99999999999999999999999\n"), PT_ERR_CONFIG);
}

static void
bad_lines_name_their_number(void)
{
	CHECK_INT(load("# ok\nbase_url = https://x.example\nno equals sign\n"), PT_ERR_CONFIG);
	CHECK(names_line(3));
	CHECK(strstr(err, "expected key = value") != NULL);
	CHECK_INT(load("\n\n\n\nfrobnicate = 1\n"), PT_ERR_CONFIG);
	CHECK(names_line(5));
	CHECK(strstr(err, "unknown key 'frobnicate'") != NULL);
	CHECK_INT(load("base_url = ftp://x.example\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK_INT(load("base_url = example.com\n"), PT_ERR_CONFIG);
	CHECK_INT(load("cookie_name = a b\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK_INT(load("cookie_name = a;b\n"), PT_ERR_CONFIG);
	CHECK_INT(load("cookie_secure = maybe\n"), PT_ERR_CONFIG);
	CHECK_INT(load("registration = maybe\n"), PT_ERR_CONFIG);
	CHECK_INT(load("login = ldap\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
}

static void
bad_scopes_and_resources_refused(void)
{
	CHECK_INT(load("scope a\"b = x\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK(strstr(err, "bad scope name") != NULL);
	CHECK_INT(load("scope  = x\n"), PT_ERR_CONFIG);
	CHECK_INT(load("scope a b = x\n"), PT_ERR_CONFIG);
	CHECK_INT(load("protected_resource = https://x.example/a#f\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
	CHECK_INT(load("protected_resource = https://x.example/a?q\n"), PT_ERR_CONFIG);
	CHECK_INT(load("protected_resource = ftp://x.example/\n"), PT_ERR_CONFIG);
	CHECK_INT(load("scope a = A\ndefault_scope = b\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "default_scope") != NULL);
}

static void
counted_keys_have_limits(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	for (int i = 0; i < PT_MAX_SCOPES; i++)
		pt_buf_addf(&b, "scope s%d = S\n", i);
	CHECK_INT(load(b.p), PT_OK);
	CHECK_INT(cfg.nscopes, PT_MAX_SCOPES);
	pt_buf_adds(&b, "scope one_more = S\n");
	CHECK_INT(load(b.p), PT_ERR_CONFIG);
	CHECK(names_line(PT_MAX_SCOPES + 1));
	pt_buf_init(&b, unit_arena());
	for (int i = 0; i < PT_MAX_RESOURCES; i++)
		pt_buf_addf(&b, "protected_resource = https://x.example/%d\n", i);
	CHECK_INT(load(b.p), PT_OK);
	CHECK_INT(cfg.nresources, PT_MAX_RESOURCES);
	pt_buf_adds(&b, "protected_resource = https://x.example/more\n");
	CHECK_INT(load(b.p), PT_ERR_CONFIG);
	CHECK(names_line(PT_MAX_RESOURCES + 1));
}

static void
long_lines_refused(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	pt_buf_adds(&b, "log_level = debug\nlog_level = ");
	for (int i = 0; i < 2100; i++)
		pt_buf_addc(&b, 'x');
	pt_buf_adds(&b, "\n");
	CHECK_INT(load(b.p), PT_ERR_CONFIG);
	CHECK(names_line(2));
	CHECK(strstr(err, "longer than") != NULL);
}

static void
key_file_must_hold_64_hex(void)
{
	unit_write_file(dir, "short.key", "abcd\n");
	CHECK_INT(load("secret_key_file = short.key\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "short.key") != NULL);
	unit_write_file(dir, "bad.key", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
	CHECK_INT(load("secret_key_file = bad.key\n"), PT_ERR_CONFIG);
	CHECK_INT(load("secret_key_file = absent.key\n"), PT_OK); /* `postern init` makes it */
	CHECK(!cfg.have_key);
}

static void
missing_file_is_an_error(void)
{
	err[0] = '\0';
	pt_config_free(&cfg);
	CHECK_INT(pt_config_load(&cfg, in_dir("nope.conf"), err, sizeof(err)), PT_ERR_CONFIG);
	CHECK(strstr(err, "nope.conf") != NULL);
	char *saved = getenv("POSTERN_CONFIG");
	unsetenv("POSTERN_CONFIG");
	pt_config_free(&cfg);
	CHECK_INT(pt_config_load(&cfg, NULL, err, sizeof(err)), PT_ERR_CONFIG);
	CHECK(strstr(err, "POSTERN_CONFIG") != NULL);
	pt_config_free(&cfg);
	setenv("POSTERN_CONFIG", cfgpath, 1);
	unit_write_file(dir, "postern.conf", "cookie_name = warn\n");
	CHECK_INT(pt_config_load(&cfg, NULL, err, sizeof(err)), PT_OK);
	CHECK_STR(cfg.cookie_name, "warn");
	if (saved != NULL)
		setenv("POSTERN_CONFIG", saved, 1);
	else
		unsetenv("POSTERN_CONFIG");
}

static void
example_config_loads(void)
{
	/* the shipped example, with its trailing comments, must be a valid config */
	FILE *f = fopen("postern.conf.example", "r"); /* build/unit runs from the root */
	if (!CHECK(f != NULL))
		return;
	char text[16384];
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	CHECK_INT(load(text), PT_OK);
	if (err[0])
		printf("     err \"%s\"\n", err);
	CHECK_STR(cfg.base_url, "https://example.com");
	CHECK_INT(cfg.code_ttl, 600);
	CHECK_INT(cfg.cookie_secure, -1);
	CHECK_INT(cfg.device_interval, 5);
	CHECK(!cfg.registration);
	CHECK_INT(cfg.processes[PT_EXE_INTROSPECT], 2);
	CHECK_INT(cfg.processes[PT_EXE_AUTHORIZE], 1);
}

static void
repeated_keys_take_the_last_value(void)
{
	/* (under LeakSanitizer this also proves the first values are freed) */
	CHECK_INT(load("scope a = A\nscope b = B\ndefault_scope = a\ndefault_scope = b\n"
	    "templates_override = o1\ntemplates_override = o2\ncli_app = c1\ncli_app = c2\n"
	    "api_url = https://1.example\napi_url = https://2.example\nlog_level = a\n"
	    "log_level = b\ndatabase = d1\ndatabase = d2\ncookie_name = n1\ncookie_name = n2\n"), PT_OK);
	CHECK_STR(cfg.default_scope, "b");
	CHECK_STR(cfg.templates_override, in_dir("o2"));
	CHECK_STR(cfg.cli_app, "c2");
	CHECK_STR(cfg.api_url, "https://2.example");
	CHECK_STR(cfg.database, in_dir("d2"));
	CHECK_STR(cfg.cookie_name, "n2");
}

static void
trailing_comments_are_stripped(void)
{
	CHECK_INT(load("code_ttl = 120 # two minutes\ncookie_name = debug\t# chatty\n"
	    "cli_app = pca_a#b\n   # indented comment\n"), PT_OK);
	CHECK_INT(cfg.code_ttl, 120);
	CHECK_STR(cfg.cookie_name, "debug");
	CHECK_STR(cfg.cli_app, "pca_a#b");
}

static void
scope_helpers(void)
{
	CHECK_INT(load("scope profile = P\nscope posts:read = R\nscope posts:write = W\n"), PT_OK);
	CHECK(pt_config_scope(&cfg, "posts:read", 10) == &cfg.scopes[1]);
	CHECK(pt_config_scope(&cfg, "posts:rea", 9) == NULL);
	CHECK(pt_config_scope(&cfg, "posts:readx", 10) == &cfg.scopes[1]); /* by length */
	CHECK(pt_scopes_ok(&cfg, "profile posts:read", 18, NULL));
	CHECK(pt_scopes_ok(&cfg, "profile", 7, ""));
	CHECK(!pt_scopes_ok(&cfg, "profile other", 13, NULL));
	CHECK(!pt_scopes_ok(&cfg, "profile  posts:read", 19, NULL));
	CHECK(pt_scopes_ok(&cfg, "posts:read", 10, "profile posts:read"));
	CHECK(!pt_scopes_ok(&cfg, "posts:write", 11, "profile posts:read"));
	CHECK(!pt_scopes_ok(&cfg, "posts", 5, "posts:read"));
	CHECK(pt_scope_subset("a b", "b c a"));
	CHECK(pt_scope_subset("", "a"));
	CHECK(!pt_scope_subset("a d", "a b c"));
	CHECK(!pt_scope_subset("ab", "a b"));
	CHECK(pt_scope_subset("a  b ", "a b"));
}

#define BRIDGE_KEYS \
	"upstream_authorize_url = https://platform.postiz.com/oauth/authorize\n" \
	"upstream_token_url = https://api.postiz.com/public/v1/oauth/token\n" \
	"upstream_client_id = pca_abc\n" \
	"upstream_api_url = https://api.postiz.com\n"

static void
site_name_defaults_to_the_base_urls_host(void)
{
	CHECK_INT(load("\n"), PT_OK);
	CHECK_STR(cfg.site_name, "127.0.0.1");
	CHECK_INT(load("base_url = https://auth.example.com:8443/sso\n"), PT_OK);
	CHECK_STR(cfg.site_name, "auth.example.com");
	CHECK_INT(load("base_url = http://[::1]:8080\n"), PT_OK);
	CHECK_STR(cfg.site_name, "[::1]");
	CHECK_INT(load("base_url = https://example.org\nsite_name = Example Corp\n"), PT_OK);
	CHECK_STR(cfg.site_name, "Example Corp");
}

static void
site_name_is_text_of_at_most_64_characters(void)
{
	char line[600], name[400];
	/* 64 characters, each two bytes: the limit counts characters */
	for (int i = 0; i < PT_MAX_SITE_NAME; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[2 * PT_MAX_SITE_NAME] = '\0';
	snprintf(line, sizeof(line), "site_name = %s\n", name);
	CHECK_INT(load(line), PT_OK);
	CHECK_STR(cfg.site_name, name);
	snprintf(line, sizeof(line), "\nsite_name = %sx\n", name);
	CHECK_INT(load(line), PT_ERR_CONFIG);
	CHECK(names_line(2));
	CHECK(strstr(err, "site_name is longer than 64 characters") != NULL);
	CHECK_INT(load("site_name =\n"), PT_ERR_CONFIG);
	CHECK(names_line(1) && strstr(err, "site_name is empty") != NULL);
	CHECK_INT(load("site_name = Evil\xe2\x80\xae" "Corp\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "site_name contains an invisible or control character (U+202E)") != NULL);
	CHECK_INT(load("site_name = bad\xff\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "site_name is not valid UTF-8") != NULL);
}

static void
bridge_keys_come_together(void)
{
	CHECK_INT(load("# nothing\n"), PT_OK);
	CHECK(!cfg.bridge);
	CHECK(cfg.upstream_authorize_url == NULL && cfg.upstream_client_secret == NULL);
	CHECK_INT(load(BRIDGE_KEYS "upstream_client_secret = pcs_s3cret\n"), PT_OK);
	CHECK(cfg.bridge);
	CHECK_STR(cfg.upstream_authorize_url, "https://platform.postiz.com/oauth/authorize");
	CHECK_STR(cfg.upstream_token_url, "https://api.postiz.com/public/v1/oauth/token");
	CHECK_STR(cfg.upstream_client_id, "pca_abc");
	CHECK_STR(cfg.upstream_client_secret, "pcs_s3cret");
	CHECK_STR(cfg.upstream_api_url, "https://api.postiz.com");
	CHECK(!cfg.upstream_token_basic);
	CHECK(!cfg.upstream_redirect_uri);
	CHECK_INT(load(BRIDGE_KEYS "upstream_client_secret = pcs_s3cret\nupstream_token_auth = basic\n"
	    "upstream_send_redirect_uri = on\n"), PT_OK);
	CHECK(cfg.upstream_token_basic && cfg.upstream_redirect_uri);
	/* one missing: named, and the secret is never in a message */
	CHECK_INT(load(BRIDGE_KEYS), PT_ERR_CONFIG);
	CHECK(strstr(err, "needs upstream_client_secret") != NULL);
	CHECK_INT(load("upstream_client_secret = pcs_s3cret\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "needs upstream_authorize_url") != NULL);
	CHECK(strstr(err, "pcs_s3cret") == NULL);
	CHECK_INT(load("upstream_token_auth = basic\n"), PT_ERR_CONFIG);
	CHECK_INT(load(BRIDGE_KEYS "upstream_client_secret = pcs_s3cret\nupstream_token_auth = form\n"), PT_ERR_CONFIG);
	CHECK(names_line(6));
	CHECK_INT(load("upstream_client_secret = pcs with blank\n"), PT_ERR_CONFIG);
	CHECK(names_line(1) && strstr(err, "pcs with") == NULL);
	CHECK_INT(load("upstream_colour = blue\n"), PT_ERR_CONFIG);
	CHECK(names_line(1));
}

static void
bridge_urls_are_https_or_loopback_http(void)
{
	static const char *const ok[] = {"https://postiz.example/oauth/authorize?x=1",
	    "http://127.0.0.1:5000/oauth/token", "http://localhost/t", "http://[::1]:8/t"};
	static const char *const bad[] = {"http://postiz.example/oauth/token",
	    "http://10.0.0.1/t", "ftp://postiz.example/t", "https://user:pw@postiz.example/t",
	    "https://postiz.example/t#frag", "postiz.example/t", "http://127.0.0.1.evil.example/t"};
	char text[512];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "upstream_token_url = %s\n", ok[i]);
		CHECK_INT(load(text), PT_ERR_CONFIG); /* the other keys are missing ... */
		CHECK(strstr(err, "needs") != NULL); /* ... but the URL was taken */
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "upstream_authorize_url = %s\n", bad[i]);
		CHECK_INT(load(text), PT_ERR_CONFIG);
		CHECK(names_line(1) && strstr(err, "must be an https URL") != NULL);
	}
}

static void
bridge_secret_from_a_file(void)
{
	unit_write_file(dir, "upstream-secret", "pcs_from_file\nsecond line\n");
	CHECK_INT(load(BRIDGE_KEYS "upstream_client_secret_file = upstream-secret\n"), PT_OK);
	CHECK_STR(cfg.upstream_client_secret, "pcs_from_file");
	CHECK(cfg.bridge);
	unit_write_file(dir, "upstream-secret", "\n");
	CHECK_INT(load(BRIDGE_KEYS "upstream_client_secret_file = upstream-secret\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "the first line must be the secret") != NULL);
	CHECK_INT(load(BRIDGE_KEYS "upstream_client_secret_file = no-such-file\n"), PT_ERR_CONFIG);
	CHECK(strstr(err, "no-such-file: No such file") != NULL);
}

void
suite_config(void)
{
	snprintf(dir, sizeof(dir), "/tmp/postern-unit-XXXXXX");
	if (!CHECK(mkdtemp(dir) != NULL))
		return;
	snprintf(cfgpath, sizeof(cfgpath), "%s/postern.conf", dir);
	RUN(defaults_apply_to_an_empty_file);
	RUN(every_key_is_parsed);
	RUN(processes_per_executable);
	RUN(processes_out_of_range_or_unknown_refused);
	RUN(default_scope_is_the_first_scope);
	RUN(booleans_and_cookie_secure_words);
	RUN(ttl_ranges_are_inclusive);
	RUN(numbers_must_be_whole);
	RUN(bad_lines_name_their_number);
	RUN(bad_scopes_and_resources_refused);
	RUN(counted_keys_have_limits);
	RUN(long_lines_refused);
	RUN(key_file_must_hold_64_hex);
	RUN(missing_file_is_an_error);
	RUN(repeated_keys_take_the_last_value);
	RUN(trailing_comments_are_stripped);
	RUN(example_config_loads);
	RUN(scope_helpers);
	RUN(site_name_defaults_to_the_base_urls_host);
	RUN(site_name_is_text_of_at_most_64_characters);
	RUN(bridge_keys_come_together);
	RUN(bridge_urls_are_https_or_loopback_http);
	RUN(bridge_secret_from_a_file);
	pt_config_free(&cfg);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}
