/* test_uri.c: redirect URI validation and matching (RFC 9700 §4.1.3, RFC 8252 §7.3)
 * and pt_uri_with_params. */
#include <string.h>

#include "unit.h"

#define VALID(s) pt_redirect_uri_valid(s, strlen(s))
#define MATCH(r, q) pt_redirect_uri_match(r, strlen(r), q, strlen(q))

static void
valid_accepts_https_anywhere(void)
{
	CHECK(VALID("https://example.com/cb"));
	CHECK(VALID("https://example.com"));
	CHECK(VALID("https://example.com:8443/cb?x=1&y=2"));
	CHECK(VALID("https://app.example.com/oauth/callback"));
	CHECK(VALID("https://[2001:db8::1]/cb"));
}

static void
valid_accepts_http_only_on_loopback(void)
{
	CHECK(VALID("http://127.0.0.1/cb"));
	CHECK(VALID("http://127.0.0.1:5000/cb"));
	CHECK(VALID("http://[::1]:80/cb"));
	CHECK(VALID("http://localhost:3000/cb"));
	CHECK(!VALID("http://example.com/cb"));
	CHECK(!VALID("http://127.0.0.1.evil.com/cb"));
	CHECK(!VALID("http://localhost.evil.com/cb"));
	CHECK(!VALID("http://127.0.0.2/cb"));
	CHECK(!VALID("http://[::2]/cb"));
}

static void
valid_refuses_fragments(void)
{
	CHECK(!VALID("https://example.com/cb#frag"));
	CHECK(!VALID("https://example.com/cb#"));
	CHECK(!VALID("http://127.0.0.1:5000/#x"));
}

static void
valid_refuses_userinfo(void)
{
	CHECK(!VALID("https://user@example.com/cb"));
	CHECK(!VALID("https://user:pw@example.com/cb"));
	CHECK(!VALID("https://example.com:443@evil.com/cb"));
	CHECK(!VALID("http://127.0.0.1@evil.com/cb"));
}

static void
valid_refuses_other_schemes_and_shapes(void)
{
	CHECK(!VALID(""));
	CHECK(!VALID("/relative/cb"));
	CHECK(!VALID("example.com/cb"));
	CHECK(!VALID("ftp://example.com/cb"));
	CHECK(!VALID("javascript:alert(1)"));
	CHECK(!VALID("javascript://example.com/%0aalert(1)"));
	CHECK(!VALID("data:text/html,x"));
	CHECK(!VALID("com.example.app:/cb"));
	CHECK(!VALID("https:///cb"));
	CHECK(!VALID("https://"));
	CHECK(!VALID("https://example.com:/cb"));
	CHECK(!VALID("https://example.com:123456/cb"));
	CHECK(!VALID("https://example.com:80x/cb"));
	CHECK(!VALID("https://[::1/cb"));
	CHECK(!VALID("https://exa mple.com/cb"));
	CHECK(!VALID("https://example.com/c\"b"));
	CHECK(!VALID("https://example.com/<cb>"));
	CHECK(!VALID("https://example.com\\@evil.com/"));
	CHECK(!VALID("https://example.com/c\nb"));
	CHECK(!VALID("https://example.com/c\tb"));
}

static void
valid_limits_the_length(void)
{
	char u[PT_MAX_REDIRECT_URI + 2];
	memset(u, 'a', sizeof(u));
	memcpy(u, "https://example.com/", 20);
	CHECK(pt_redirect_uri_valid(u, PT_MAX_REDIRECT_URI));
	CHECK(!pt_redirect_uri_valid(u, PT_MAX_REDIRECT_URI + 1));
}

static void
match_is_exact_for_https(void)
{
	CHECK(MATCH("https://example.com/cb", "https://example.com/cb"));
	CHECK(MATCH("https://example.com/cb?a=1", "https://example.com/cb?a=1"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com/cb/"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com/CB"));
	CHECK(!MATCH("https://example.com/cb", "https://EXAMPLE.com/cb"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com/cb?x=1"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com:443/cb"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com:444/cb"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com/cb#x"));
	CHECK(!MATCH("https://example.com/cb", "https://example.com/c"));
	CHECK(!MATCH("https://example.com/cb", ""));
}

static void
match_lets_loopback_ip_vary_the_port(void)
{
	CHECK(MATCH("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
	CHECK(MATCH("http://127.0.0.1:8080/cb", "http://127.0.0.1:9/cb"));
	CHECK(MATCH("http://127.0.0.1:8080/cb", "http://127.0.0.1/cb"));
	CHECK(MATCH("http://[::1]:1/cb", "http://[::1]:2/cb"));
	CHECK(MATCH("http://127.0.0.1", "http://127.0.0.1:4000"));
}

static void
match_loopback_varies_nothing_but_the_port(void)
{
	CHECK(!MATCH("http://127.0.0.1/cb", "http://127.0.0.1:5/other"));
	CHECK(!MATCH("http://127.0.0.1/cb", "http://127.0.0.1:5/cb?x=1"));
	CHECK(!MATCH("http://127.0.0.1/cb", "http://127.0.0.1:5/cb#x"));
	CHECK(!MATCH("http://127.0.0.1/cb", "http://[::1]:5/cb"));
	CHECK(!MATCH("http://127.0.0.1/cb", "https://127.0.0.1:5/cb"));
	CHECK(!MATCH("http://127.0.0.1/cb", "http://127.0.0.1:5@evil.com/cb"));
	CHECK(!MATCH("http://127.0.0.1/cb", "http://evil.com:5/cb"));
	/* only IP literals (RFC 8252 §8.3: "localhost" is not recommended) */
	CHECK(!MATCH("http://localhost:3000/cb", "http://localhost:4000/cb"));
	CHECK(!MATCH("https://127.0.0.1/cb", "https://127.0.0.1:5/cb"));
}

static void
with_params_encodes_values(void)
{
	pt_arena *a = unit_arena();
	const char *kv[] = {"code", "pac_abc", "state", "x y&z=/?#", NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb", kv),
	    "https://a.example/cb?code=pac_abc&state=x%20y%26z%3D%2F%3F%23");
	const char *utf[] = {"state", "\xc3\xa9+", NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb", utf),
	    "https://a.example/cb?state=%C3%A9%2B");
}

static void
with_params_keeps_existing_query(void)
{
	pt_arena *a = unit_arena();
	const char *kv[] = {"code", "c", "iss", "https://i.example", NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb?app=1", kv),
	    "https://a.example/cb?app=1&code=c&iss=https%3A%2F%2Fi.example");
}

static void
with_params_skips_null_values(void)
{
	pt_arena *a = unit_arena();
	const char *kv[] = {"error", "access_denied", "state", NULL, "iss", "i", NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb", kv),
	    "https://a.example/cb?error=access_denied&iss=i");
	const char *skip[] = {"state", NULL, NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb", skip), "https://a.example/cb");
	const char *none[] = {NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb", none), "https://a.example/cb");
	const char *empty[] = {"state", "", NULL};
	CHECK_STR(pt_uri_with_params(a, "https://a.example/cb", empty), "https://a.example/cb?state=");
}

static void
origin_of_http_urls_only(void)
{
	pt_arena *a = unit_arena();
	const char *rest;
#define ORIGIN(s) pt_uri_origin(a, s, strlen(s), &rest)
	CHECK_STR(ORIGIN("https://app.example/page?x=1#f"), "https://app.example");
	CHECK_STR(rest, "/page?x=1#f");
	CHECK_STR(ORIGIN("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
	CHECK_STR(rest, "");
	CHECK_STR(ORIGIN("https://[::1]:9/"), "https://[::1]:9");
	CHECK(ORIGIN("javascript:alert(1)") == NULL);
	CHECK(ORIGIN("data:text/html,x") == NULL);
	CHECK(ORIGIN("ftp://x.example/") == NULL);
	CHECK(ORIGIN("HTTPS://x.example/") == NULL);
	CHECK(ORIGIN("https://user@x.example/") == NULL);
	CHECK(ORIGIN("https://x.example/a b") == NULL);
	CHECK(ORIGIN("https://x.example/\"><script>") == NULL);
	CHECK(ORIGIN("https://x.example\\@y.example/") == NULL);
	CHECK(ORIGIN("//x.example/") == NULL);
	CHECK(ORIGIN("/path") == NULL);
	CHECK(ORIGIN("") == NULL);
#undef ORIGIN
	/* at most PT_MAX_REFERER bytes */
	char *u = pt_alloc(a, PT_MAX_REFERER + 2);
	memset(u, 'a', PT_MAX_REFERER + 1);
	memcpy(u, "https://x.example/", 18);
	u[PT_MAX_REFERER] = '\0';
	CHECK_STR(pt_uri_origin(a, u, PT_MAX_REFERER, NULL), "https://x.example");
	u[PT_MAX_REFERER] = 'a';
	u[PT_MAX_REFERER + 1] = '\0';
	CHECK(pt_uri_origin(a, u, PT_MAX_REFERER + 1, NULL) == NULL);
}

#define CIMD(s) pt_cimd_is_url(s, strlen(s))

/* draft-ietf-oauth-client-id-metadata-document §3: which client_ids are fetched */
static void
cimd_url_shape(void)
{
	CHECK(CIMD("https://client.example/oauth/metadata.json"));
	CHECK(CIMD("https://client.example:8443/m"));
	CHECK(CIMD("https://client.example/m?v=1"));
	CHECK(!CIMD("https://client.example"));          /* no path */
	CHECK(!CIMD("https://client.example/"));         /* an empty one */
	CHECK(!CIMD("https:///m"));                      /* no host */
	CHECK(!CIMD("http://client.example/m"));         /* not https */
	CHECK(!CIMD("HTTPS://client.example/m"));
	CHECK(!CIMD("https://client.example/m#f"));      /* fragment */
	CHECK(!CIMD("https://u:p@client.example/m"));    /* user info */
	CHECK(!CIMD("https://client.example/a/../m"));   /* dot segments */
	CHECK(!CIMD("https://client.example/./m"));
	CHECK(!CIMD("https://client.example/m/.."));
	CHECK(CIMD("https://client.example/..m"));       /* a name, not a segment */
	CHECK(!CIMD("https://client.example/m x"));
	CHECK(!CIMD("https://client.example/\xc3\xa9"));
	CHECK(!CIMD("pca_0123456789abcdef0123456789abcdef"));
	char u[PT_CIMD_MAX_URL + 2];
	memset(u, 'a', sizeof(u));
	memcpy(u, "https://c.example/", 18);
	u[PT_CIMD_MAX_URL] = '\0';
	CHECK(CIMD(u));
	u[PT_CIMD_MAX_URL] = 'a';
	u[PT_CIMD_MAX_URL + 1] = '\0';
	CHECK(!CIMD(u));
}

static void
kind_tells_https_loopback_and_private_use_schemes_apart(void)
{
#define KIND(s) pt_redirect_uri_kind(s, strlen(s))
	CHECK_INT(KIND("https://a.example/cb"), PT_RU_HTTPS);
	CHECK_INT(KIND("http://127.0.0.1:8080/cb"), PT_RU_LOOPBACK);
	CHECK_INT(KIND("http://[::1]/cb"), PT_RU_LOOPBACK);
	CHECK_INT(KIND("http://localhost/cb"), PT_RU_LOOPBACK);
	CHECK_INT(KIND("com.example.app:/oauth/cb"), PT_RU_PRIVATE);
	CHECK_INT(KIND("com.example.app://cb"), PT_RU_PRIVATE);
	CHECK_INT(KIND("io.x-y+z.app:/cb?x=1"), PT_RU_PRIVATE);
	/* not a reverse domain, no path, a fragment, blanks, http elsewhere, other shapes */
	static const char *const bad[] = {"http://a.example/cb", "https://u@a.example/", "myapp:/cb",
	    "com.example.app:cb", "com.example.app:", "com.example.app:/cb#x", ".example.app:/cb",
	    "com.example.:/cb", "1com.example:/cb", "com.ex_ample:/cb", "com.example app:/cb",
	    "javascript:/x.y", "", "https://a.example/c b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(KIND(bad[i]), PT_RU_BAD);
	/* pt_redirect_uri_valid is unchanged: https and loopback http only */
	CHECK(!pt_redirect_uri_valid("com.example.app:/cb", 19));
#undef KIND
}

void
suite_uri(void)
{
	RUN(cimd_url_shape);
	RUN(kind_tells_https_loopback_and_private_use_schemes_apart);
	RUN(valid_accepts_https_anywhere);
	RUN(valid_accepts_http_only_on_loopback);
	RUN(valid_refuses_fragments);
	RUN(valid_refuses_userinfo);
	RUN(valid_refuses_other_schemes_and_shapes);
	RUN(valid_limits_the_length);
	RUN(match_is_exact_for_https);
	RUN(match_lets_loopback_ip_vary_the_port);
	RUN(match_loopback_varies_nothing_but_the_port);
	RUN(with_params_encodes_values);
	RUN(with_params_keeps_existing_query);
	RUN(with_params_skips_null_values);
	RUN(origin_of_http_urls_only);
}
