/* test_upstream.c: a bridged device login's pieces without the network: the upstream
 * token endpoint's answer, its error messages, and sealing what is kept of it. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "unit.h"

static int
parse(const char *s, struct pt_upstream_answer *out)
{
	return pt_upstream_answer_parse(unit_arena(), s, strlen(s), out);
}

static void
postiz_answer_gives_token_and_org(void)
{
	struct pt_upstream_answer a;
	CHECK_INT(parse("{\"access_token\":\"tok_123\",\"id\":\"org-1\",\"token_type\":\"bearer\"}", &a), PT_OK);
	CHECK_STR(a.access_token, "tok_123");
	CHECK_STR(a.org, "org-1");
	CHECK_INT(parse("{\"access_token\":\"t\",\"id\":42}", &a), PT_OK);
	CHECK_STR(a.org, "42");
	CHECK_INT(parse("{\"access_token\":\"t\"}", &a), PT_OK);
	CHECK(a.org == NULL);
	CHECK_INT(parse("{\"access_token\":\"t\",\"id\":null}", &a), PT_OK);
	CHECK(a.org == NULL);
}

static void
bad_answers_are_refused(void)
{
	struct pt_upstream_answer a;
	CHECK_INT(parse("", &a), PT_ERR_ENCODING);
	CHECK_INT(parse("<html>", &a), PT_ERR_ENCODING);
	CHECK_INT(parse("[\"access_token\"]", &a), PT_ERR_ENCODING);
	CHECK_INT(parse("\"x\"", &a), PT_ERR_ENCODING);
	CHECK_INT(parse("{\"token_type\":\"bearer\"}", &a), PT_ERR_MISSING);
	CHECK_INT(parse("{\"access_token\":null}", &a), PT_ERR_MISSING);
	CHECK_INT(parse("{\"access_token\":\"\"}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":12}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":\"a b\"}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":\"a\\nb\"}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":\"caf\\u00e9\"}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":\"ab\\u0000cd\"}", &a), PT_ERR_ENCODING);
	CHECK_INT(parse("{\"access_token\":\"t\",\"id\":1.5}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":\"t\",\"id\":-1}", &a), PT_ERR_INVALID);
	CHECK_INT(parse("{\"access_token\":\"t\",\"id\":[1]}", &a), PT_ERR_INVALID);
	CHECK(a.access_token == NULL && a.org == NULL);
	/* the named limits */
	char big[PT_MAX_UPSTREAM_TOKEN + 40];
	snprintf(big, sizeof(big), "{\"access_token\":\"%0*d\"}", PT_MAX_UPSTREAM_TOKEN, 0);
	CHECK_INT(parse(big, &a), PT_OK);
	snprintf(big, sizeof(big), "{\"access_token\":\"%0*d\"}", PT_MAX_UPSTREAM_TOKEN + 1, 0);
	CHECK_INT(parse(big, &a), PT_ERR_INVALID);
	size_t n = PT_MAX_UPSTREAM_ANSWER + 1;
	char *huge = pt_alloc(unit_arena(), n + 1);
	memset(huge, ' ', n);
	huge[n] = '\0';
	CHECK_INT(pt_upstream_answer_parse(unit_arena(), huge, n, &a), PT_ERR_TOOLONG);
}

static void
error_messages_are_read_and_bounded(void)
{
	pt_arena *a = unit_arena();
#define MSG(s) pt_upstream_error_message(a, s, strlen(s))
	CHECK_STR(MSG("{\"error\":\"invalid_grant\",\"error_description\":\"used\"}"), "used");
	CHECK_STR(MSG("{\"error\":\"invalid_grant\"}"), "invalid_grant");
	CHECK_STR(MSG("{\"statusCode\":400,\"message\":[\"code must be a string\",\"x\"]}"),
	    "code must be a string; x");
	CHECK_STR(MSG("{\"message\":\"line\\none\"}"), "line one");
	CHECK(MSG("not json") == NULL);
	CHECK(MSG("{\"statusCode\":500}") == NULL);
	CHECK(MSG("[\"message\"]") == NULL);
	char big[2000];
	snprintf(big, sizeof(big), "{\"message\":\"%0*d\"}", 1000, 0);
	CHECK_INT(strlen(MSG(big)), PT_MAX_UPSTREAM_MESSAGE);
	/* a multi-byte character is never cut in half at the limit */
	char utf[1400];
	size_t k = (size_t)snprintf(utf, sizeof(utf), "{\"message\":\"");
	for (int i = 0; i < PT_MAX_UPSTREAM_MESSAGE && k + 2 < sizeof(utf); i++)
		k += (size_t)snprintf(utf + k, sizeof(utf) - k, "\xc3\xa9");
	CHECK(k + 3 < sizeof(utf));
	snprintf(utf + k, sizeof(utf) - k, "\"}");
	const char *m = MSG(utf);
	CHECK(m != NULL && strlen(m) % 2 == 0 && pt_valid_utf8(m, strlen(m)));
#undef MSG
}

static void
sealed_values_open_only_in_their_row(void)
{
	pt_arena *a = unit_arena();
	uint8_t server[32], key[32], other[32], row1[32], row2[32];
	size_t n;
	randombytes_buf(server, sizeof(server));
	randombytes_buf(row1, sizeof(row1));
	randombytes_buf(row2, sizeof(row2));
	pt_bridge_key(key, server);
	CHECK(memcmp(key, server, 32) != 0);
	uint8_t *c = pt_seal(a, key, row1, 32, "upstream-token", 14, &n);
	CHECK_INT(n, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 14);
	CHECK(memmem(c, n, "upstream-token", 14) == NULL);
	CHECK_STR(pt_unseal(a, key, row1, 32, c, n), "upstream-token");
	CHECK(pt_unseal(a, key, row2, 32, c, n) == NULL);
	randombytes_buf(server, sizeof(server));
	pt_bridge_key(other, server);
	CHECK(pt_unseal(a, other, row1, 32, c, n) == NULL);
	c[n - 1] ^= 1;
	CHECK(pt_unseal(a, key, row1, 32, c, n) == NULL);
	CHECK(pt_unseal(a, key, row1, 32, c, 10) == NULL);
	CHECK(pt_unseal(a, key, row1, 32, NULL, 0) == NULL);
	/* a fresh nonce each time */
	size_t n2;
	uint8_t *c2 = pt_seal(a, key, row1, 32, "upstream-token", 14, &n2);
	CHECK(memcmp(c2, c, crypto_secretbox_NONCEBYTES) != 0);
}

void
suite_upstream(void)
{
	RUN(postiz_answer_gives_token_and_org);
	RUN(bad_answers_are_refused);
	RUN(error_messages_are_read_and_bounded);
	RUN(sealed_values_open_only_in_their_row);
}
