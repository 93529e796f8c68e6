/* test_oidc.c: OpenID Connect pieces without a database (lib/oidc.c, lib/register.c): email
 * addresses, the signing algorithms, the JWKS document, registration's
 * id_token_signed_response_alg, and the claims of the granted scopes. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

static bool
email(const char *s)
{
	return pt_email_valid(s, strlen(s));
}

static void
email_addresses_are_checked(void)
{
	CHECK(email("a@example.com"));
	CHECK(email("first.last+tag@sub.example.co"));
	CHECK(email("o'neil@x-y.example"));
	CHECK(!email(""));
	CHECK(!email("plain"));
	CHECK(!email("@example.com"));
	CHECK(!email("a@"));
	CHECK(!email("a@example"));          /* no dot in the domain */
	CHECK(!email("a@.example.com"));
	CHECK(!email("a@example.com."));
	CHECK(!email("a@exa..mple.com"));
	CHECK(!email("a@b@example.com"));
	CHECK(!email("a b@example.com"));
	CHECK(!email("a@exa mple.com"));
	CHECK(!email("a<b>@example.com"));
	CHECK(!email("\xc3\xa9@example.com")); /* printable ASCII only */
	CHECK(!email("a@ex_ample.com"));
	CHECK(!pt_email_valid("a\0b@example.com", 15));
	/* PT_MAX_EMAIL bytes and no more */
	char buf[PT_MAX_EMAIL + 2];
	memset(buf, 'a', sizeof(buf));
	memcpy(buf + PT_MAX_EMAIL - 12, "@example.com", 12);
	CHECK(pt_email_valid(buf, PT_MAX_EMAIL));
	memset(buf, 'a', sizeof(buf));
	memcpy(buf + PT_MAX_EMAIL + 1 - 12, "@example.com", 12);
	CHECK(!pt_email_valid(buf, PT_MAX_EMAIL + 1));
}

static void
only_rs256_and_eddsa_sign(void)
{
	CHECK_STR(pt_oidc_algs[0], "RS256"); /* the default comes first */
	CHECK(pt_oidc_alg_ok("RS256"));
	CHECK(pt_oidc_alg_ok("EdDSA"));
	CHECK(!pt_oidc_alg_ok(NULL));
	CHECK(!pt_oidc_alg_ok("none"));
	CHECK(!pt_oidc_alg_ok("HS256"));
	CHECK(!pt_oidc_alg_ok("rs256"));
	CHECK(!pt_oidc_alg_ok("EdDSA "));
	CHECK(!pt_oidc_alg_ok("ES256"));
}

static void
jwks_lists_the_public_keys(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	pt_jwks(NULL, 0, &b);
	CHECK_STR(b.p, "{\"keys\":[]}");
	struct pt_key_row k[2] = {{.public_jwk = "{\"kid\":\"a\"}"}, {.public_jwk = "{\"kid\":\"b\"}"}};
	pt_buf_init(&b, unit_arena());
	pt_jwks(k, 2, &b);
	CHECK_STR(b.p, "{\"keys\":[{\"kid\":\"a\"},{\"kid\":\"b\"}]}");
}

static void
claims_follow_the_scopes(void)
{
	const struct pt_claims_row u = {.id = 42, .name = "ann", .email = "ann@example.com",
	    .full_name = "Ann \"A\" Example"};
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	pt_claims_json(&b, &u, "openid");
	CHECK_STR(b.p, "\"sub\":\"42\"");
	pt_buf_init(&b, unit_arena());
	pt_claims_json(&b, &u, "openid profile");
	CHECK_STR(b.p, "\"sub\":\"42\",\"name\":\"Ann \\\"A\\\" Example\",\"preferred_username\":\"ann\"");
	pt_buf_init(&b, unit_arena());
	pt_claims_json(&b, &u, "email openid");
	CHECK_STR(b.p, "\"sub\":\"42\",\"email\":\"ann@example.com\",\"email_verified\":true");
	/* no full name: the user name; no address: no email claims at all */
	const struct pt_claims_row bare = {.id = 7, .name = "bob"};
	pt_buf_init(&b, unit_arena());
	pt_claims_json(&b, &bare, "openid profile email");
	CHECK_STR(b.p, "\"sub\":\"7\",\"name\":\"bob\",\"preferred_username\":\"bob\"");
	/* a scope that only starts like one is not it */
	pt_buf_init(&b, unit_arena());
	pt_claims_json(&b, &u, "openid profiles emails");
	CHECK_STR(b.p, "\"sub\":\"42\"");
}

static int
reg(const char *body, struct pt_reg *m, struct pt_reg_fail *rf)
{
	static struct pt_config cfg;
	return pt_register_parse(unit_arena(), &cfg, body, strlen(body), m, rf);
}

static void
registration_takes_rs256_or_eddsa(void)
{
	struct pt_reg m;
	struct pt_reg_fail rf;
#define URI "\"redirect_uris\":[\"https://a.example/cb\"]"
	CHECK_INT(reg("{" URI "}", &m, &rf), PT_OK);
	CHECK(m.id_token_alg == NULL);
	CHECK_INT(reg("{" URI ",\"id_token_signed_response_alg\":\"EdDSA\"}", &m, &rf), PT_OK);
	CHECK_STR(m.id_token_alg, "EdDSA");
	CHECK_INT(reg("{" URI ",\"id_token_signed_response_alg\":\"RS256\"}", &m, &rf), PT_OK);
	CHECK_STR(m.id_token_alg, "RS256");
	static const char *const bad[] = {"\"none\"", "\"HS256\"", "\"HS384\"", "\"PS256\"", "\"\"", "1",
	    "null", "[\"RS256\"]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[200];
		snprintf(body, sizeof(body), "{" URI ",\"id_token_signed_response_alg\":%s}", bad[i]);
		CHECK_INT(reg(body, &m, &rf), PT_ERR_INVALID);
		CHECK_STR(rf.error, "invalid_client_metadata");
		CHECK(rf.desc != NULL && strstr(rf.desc, "id_token_signed_response_alg") != NULL);
	}
	CHECK_INT(reg("{" URI ",\"id_token_signed_response_alg\":\"RS256\","
		      "\"id_token_signed_response_alg\":\"EdDSA\"}", &m, &rf), PT_ERR_INVALID);
	CHECK(rf.desc != NULL && strstr(rf.desc, "id_token_signed_response_alg is repeated") != NULL);
#undef URI
}

void
suite_oidc(void)
{
	RUN(email_addresses_are_checked);
	RUN(only_rs256_and_eddsa_sign);
	RUN(jwks_lists_the_public_keys);
	RUN(claims_follow_the_scopes);
	RUN(registration_takes_rs256_or_eddsa);
}
