/* test_register.c: RFC 7591 registration bodies, against lib/register.c. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

static struct pt_config cfg;
static struct pt_reg m;
static struct pt_reg_fail rf;

static int
reg(const char *body)
{
	static char profile[] = "profile", read[] = "posts:read", empty[] = "";
	if (cfg.nscopes == 0) {
		cfg.scopes[0] = (struct pt_scope){profile, empty};
		cfg.scopes[1] = (struct pt_scope){read, empty};
		cfg.nscopes = 2;
	}
	return pt_register_parse(unit_arena(), &cfg, body, strlen(body), &m, &rf);
}

#define URIS "\"redirect_uris\":[\"https://a.example/cb\",\"http://127.0.0.1:9/cb\"]"

static void
register_reads_the_metadata(void)
{
	CHECK_INT(reg("{" URIS ",\"client_name\":\"  MCP \\u00e9 \",\"scope\":\"posts:read\","
		      "\"grant_types\":[\"authorization_code\",\"refresh_token\"],"
		      "\"response_types\":[\"code\"],\"token_endpoint_auth_method\":\"none\","
		      "\"logo_uri\":\"https://a.example/x.png\"}"),
	    PT_OK);
	CHECK_STR(m.redirect_uris, "https://a.example/cb\nhttp://127.0.0.1:9/cb");
	CHECK_STR(m.client_name, "MCP \xc3\xa9");
	CHECK_STR(m.scope, "posts:read");
	CHECK_STR(m.grant_types, "authorization_code refresh_token");
	CHECK(rf.error == NULL);
}

static void
register_leaves_absent_members_to_the_caller(void)
{
	CHECK_INT(reg("{" URIS ",\"client_name\":\" \",\"scope\":\"\"}"), PT_OK);
	CHECK(m.client_name == NULL);
	CHECK(m.scope == NULL);
	CHECK(m.grant_types == NULL);
	CHECK_INT(reg("{" URIS ",\"grant_types\":[\"authorization_code\",\"authorization_code\"]}"), PT_OK);
	CHECK_STR(m.grant_types, "authorization_code");
}

static void
register_client_name_must_be_display_text(void)
{
	CHECK_INT(reg("{" URIS ",\"client_name\":\"Good\\u202egpj.exe\"}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_client_metadata");
	CHECK_STR(rf.desc, "client_name contains an invisible or control character (U+202E)");
	CHECK(m.redirect_uris == NULL);
	CHECK_INT(reg("{" URIS ",\"client_name\":\"Go\\u200bogle\"}"), PT_ERR_INVALID);
	CHECK(strstr(rf.desc, "U+200B") != NULL);
	CHECK_INT(reg("{" URIS ",\"client_name\":\"a\\u0085b\"}"), PT_ERR_INVALID);
	CHECK(strstr(rf.desc, "U+0085") != NULL);
	CHECK_INT(reg("{" URIS ",\"client_name\":\"tag\\udb40\\udc41\"}"), PT_ERR_INVALID); /* U+E0041 */
	CHECK(strstr(rf.desc, "U+E0041") != NULL);
	CHECK_INT(reg("{" URIS ",\"client_name\":\"\xff\"}"), PT_ERR_INVALID);
	CHECK_STR(rf.desc, "client_name is not valid UTF-8");
	CHECK_INT(reg("{" URIS ",\"client_name\":\"\\u65e5\\u672c \\u2764\\ufe0f\"}"), PT_OK);
	CHECK_STR(m.client_name, "\xe6\x97\xa5\xe6\x9c\xac \xe2\x9d\xa4\xef\xb8\x8f");
}

static void
register_escaped_nul_names_the_member(void)
{
	CHECK_INT(reg("{" URIS ",\"client_name\":\"Good\\u0000Evil\"}"), PT_ERR_CONTROL);
	CHECK_STR(rf.error, "invalid_client_metadata");
	CHECK_STR(rf.desc, "client_name contains a NUL character");
	CHECK_INT(reg("{\"redirect_uris\":[\"https://a.example/cb\\u0000x\"]}"), PT_ERR_CONTROL);
	CHECK_STR(rf.desc, "redirect_uris contains a NUL character");
	CHECK_INT(reg("{" URIS ",\"scope\\u0000x\":\"profile\"}"), PT_ERR_CONTROL);
	CHECK_STR(rf.desc, "scope has a NUL character in its name");
	CHECK_INT(reg("{" URIS ",\"other\":\"\\u0000\"}"), PT_ERR_CONTROL);
	CHECK_STR(rf.desc, "the body contains a NUL character");
	CHECK_INT(reg("{" URIS ",\"client_name\":\"a\\\\u0000\"}"), PT_OK); /* an escaped backslash */
	CHECK_STR(m.client_name, "a\\u0000");
}

static void
register_refuses_openid_metadata_it_cannot_honour_by_name(void)
{
	static const char *const refused[] = {"sector_identifier_uri", "id_token_encrypted_response_alg",
	    "id_token_encrypted_response_enc", "userinfo_signed_response_alg",
	    "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc",
	    "request_object_signing_alg", "request_object_encryption_alg",
	    "request_object_encryption_enc", "request_uris", "token_endpoint_auth_signing_alg",
	    "default_acr_values"};
	char body[256];
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(body, sizeof(body), "{" URIS ",\"%s\":\"RS256\"}", refused[i]);
		CHECK_INT(reg(body), PT_ERR_INVALID);
		CHECK_STR(rf.error, "invalid_client_metadata");
		CHECK(rf.desc != NULL && strstr(rf.desc, refused[i]) != NULL);
	}
	CHECK_INT(reg("{" URIS ",\"subject_type\":\"pairwise\"}"), PT_ERR_INVALID);
	CHECK(strstr(rf.desc, "subject_type") != NULL);
	/* what every client gets anyway, and metadata that is only informative, pass */
	CHECK_INT(reg("{" URIS ",\"subject_type\":\"public\",\"require_auth_time\":true,"
		      "\"application_type\":\"native\",\"default_max_age\":3600}"), PT_OK);
}

static void
register_refuses_bad_bodies_and_metadata(void)
{
	CHECK_INT(reg("[1]"), PT_ERR_ENCODING);
	CHECK_STR(rf.desc, "the body is not a JSON object");
	CHECK_INT(reg("{\"redirect_uris\":"), PT_ERR_ENCODING);
	CHECK_INT(reg("{}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_redirect_uri");
	CHECK_INT(reg("{\"redirect_uris\":[\"http://a.example/cb\"]}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_redirect_uri");
	CHECK_INT(reg("{" URIS "," URIS "}"), PT_ERR_INVALID);
	CHECK_STR(rf.desc, "redirect_uris is repeated");
	CHECK_INT(reg("{" URIS ",\"scope\":\"admin\"}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_client_metadata");
	CHECK_INT(reg("{" URIS ",\"grant_types\":[\"refresh_token\"]}"), PT_ERR_INVALID);
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":\"private_key_jwt\"}"), PT_ERR_INVALID);
	CHECK_STR(rf.desc, "token_endpoint_auth_method must be \"none\" (a public client with PKCE),"
	    " \"client_secret_basic\" or \"client_secret_post\"");
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":[\"none\"]}"), PT_ERR_INVALID);
	CHECK_INT(reg("{" URIS ",\"response_types\":[\"token\"]}"), PT_ERR_INVALID);
	pt_arena *a = unit_arena();
	size_t n = PT_MAX_BODY + 1;
	char *big = pt_alloc(a, n);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	CHECK_INT(pt_register_parse(a, &cfg, big, n, &m, &rf), PT_ERR_TOOLONG);
}

static void
register_reads_the_token_endpoint_auth_method(void)
{
	CHECK_INT(reg("{" URIS "}"), PT_OK);
	CHECK_INT(m.auth_method, PT_REG_AUTH_NONE);
	CHECK(!m.auth_given);
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":\"none\"}"), PT_OK);
	CHECK_INT(m.auth_method, PT_REG_AUTH_NONE);
	CHECK(m.auth_given);
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":\"client_secret_basic\"}"), PT_OK);
	CHECK_INT(m.auth_method, PT_REG_AUTH_BASIC);
	CHECK_STR(pt_reg_auth_names[m.auth_method], "client_secret_basic");
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":\"client_secret_post\"}"), PT_OK);
	CHECK_INT(m.auth_method, PT_REG_AUTH_POST);
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":\"Client_Secret_Post\"}"), PT_ERR_INVALID);
	CHECK_INT(reg("{" URIS ",\"token_endpoint_auth_method\":\"client_secret_jwt\"}"), PT_ERR_INVALID);
}

static void
register_application_type_decides_the_redirect_uris(void)
{
	/* absent: today's rule, https or loopback http, no private-use scheme */
	CHECK_INT(reg("{" URIS "}"), PT_OK);
	CHECK(m.application_type == NULL);
	CHECK_INT(reg("{\"redirect_uris\":[\"com.example.app:/cb\"]}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_redirect_uri");
	CHECK(strstr(rf.desc, "private-use scheme") != NULL);
	/* native: loopback http and private-use schemes too */
	CHECK_INT(reg("{\"application_type\":\"native\",\"redirect_uris\":[\"com.example.app:/cb\","
		      "\"http://127.0.0.1/cb\",\"http://[::1]:8080/cb\",\"https://a.example/cb\"]}"), PT_OK);
	CHECK_STR(m.application_type, "native");
	CHECK_STR(m.redirect_uris, "com.example.app:/cb\nhttp://127.0.0.1/cb\nhttp://[::1]:8080/cb\nhttps://a.example/cb");
	static const char *const never[] = {"http://a.example/cb", "javascript:alert(1)", "myapp:/cb",
	    "com.example.app:cb", "com.example.app:/cb#f", "data:text/html,x", "com.example.:/cb",
	    "1com.example:/cb", "com.ex ample:/cb", "file:///etc/passwd"};
	char body[256];
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		snprintf(body, sizeof(body), "{\"application_type\":\"native\",\"redirect_uris\":[\"%s\"]}", never[i]);
		CHECK_INT(reg(body), PT_ERR_INVALID);
		CHECK_STR(rf.error, "invalid_redirect_uri");
	}
	/* web: https only */
	CHECK_INT(reg("{\"application_type\":\"web\",\"redirect_uris\":[\"https://a.example/cb\"]}"), PT_OK);
	CHECK_STR(m.application_type, "web");
	CHECK_INT(reg("{\"application_type\":\"web\"," URIS "}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_redirect_uri");
	CHECK(strstr(rf.desc, "web app") != NULL);
	CHECK_INT(reg("{\"application_type\":\"web\",\"redirect_uris\":[\"com.example.app:/cb\"]}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_redirect_uri");
	/* anything else */
	CHECK_INT(reg("{\"application_type\":\"desktop\"," URIS "}"), PT_ERR_INVALID);
	CHECK_STR(rf.error, "invalid_client_metadata");
	CHECK_STR(rf.desc, "application_type must be \"web\" or \"native\"");
	CHECK_INT(reg("{\"application_type\":1," URIS "}"), PT_ERR_INVALID);
}

static void
register_links_must_be_https(void)
{
	CHECK_INT(reg("{" URIS ",\"client_uri\":\"https://a.example/\",\"policy_uri\":\"https://a.example/p\","
		      "\"tos_uri\":\"https://a.example/t\"}"), PT_OK);
	CHECK_STR(m.client_uri, "https://a.example/");
	CHECK_STR(m.policy_uri, "https://a.example/p");
	CHECK_STR(m.tos_uri, "https://a.example/t");
	CHECK_INT(reg("{" URIS "}"), PT_OK);
	CHECK(m.client_uri == NULL && m.policy_uri == NULL && m.tos_uri == NULL);
	static const char *const bad[] = {"http://a.example/", "javascript:alert(1)", "https://a.example/#x",
	    "https://u@a.example/", "com.example.app:/x"};
	static const char *const members[] = {"client_uri", "policy_uri", "tos_uri"};
	char body[256];
	for (size_t k = 0; k < 3; k++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			snprintf(body, sizeof(body), "{" URIS ",\"%s\":\"%s\"}", members[k], bad[i]);
			CHECK_INT(reg(body), PT_ERR_INVALID);
			CHECK_STR(rf.error, "invalid_client_metadata");
			CHECK(strstr(rf.desc, members[k]) != NULL && strstr(rf.desc, "https") != NULL);
		}
	CHECK_INT(reg("{" URIS ",\"client_uri\":7}"), PT_ERR_INVALID);
}

static void
register_reads_client_id_for_an_update(void)
{
	CHECK_INT(reg("{" URIS ",\"client_id\":\"pca_x\",\"client_secret\":\"ignored\","
		      "\"registration_access_token\":\"ignored\"}"), PT_OK);
	CHECK_STR(m.client_id, "pca_x");
	CHECK_INT(reg("{" URIS ",\"client_id\":3}"), PT_ERR_INVALID);
	CHECK_STR(rf.desc, "client_id must be a string");
}

static void
register_reads_dpop_bound_access_tokens(void)
{
	CHECK_INT(reg("{" URIS "}"), PT_OK);
	CHECK(!m.require_dpop);
	CHECK_INT(reg("{" URIS ",\"dpop_bound_access_tokens\":true}"), PT_OK);
	CHECK(m.require_dpop);
	CHECK_INT(reg("{" URIS ",\"dpop_bound_access_tokens\":false}"), PT_OK);
	CHECK(!m.require_dpop);
	static const char *const bad[] = {"\"true\"", "1", "null", "[true]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[200];
		snprintf(body, sizeof(body), "{" URIS ",\"dpop_bound_access_tokens\":%s}", bad[i]);
		CHECK_INT(reg(body), PT_ERR_INVALID);
		CHECK_STR(rf.desc, "dpop_bound_access_tokens must be true or false");
	}
}

void
suite_register(void)
{
	RUN(register_reads_dpop_bound_access_tokens);
	RUN(register_reads_the_token_endpoint_auth_method);
	RUN(register_application_type_decides_the_redirect_uris);
	RUN(register_links_must_be_https);
	RUN(register_reads_client_id_for_an_update);
	RUN(register_refuses_openid_metadata_it_cannot_honour_by_name);
	RUN(register_reads_the_metadata);
	RUN(register_leaves_absent_members_to_the_caller);
	RUN(register_client_name_must_be_display_text);
	RUN(register_escaped_nul_names_the_member);
	RUN(register_refuses_bad_bodies_and_metadata);
}
