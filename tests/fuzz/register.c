/* register.c: fuzzes pt_register_parse (RFC 7591 registration bodies, POST /oauth/register). */
#include "fuzz.h"

static char profile[] = "profile", read[] = "posts:read", write[] = "posts:write", none[] = "";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pt_config cfg;
	if (cfg.nscopes == 0) {
		cfg.scopes[0] = (struct pt_scope){profile, none};
		cfg.scopes[1] = (struct pt_scope){read, none};
		cfg.scopes[2] = (struct pt_scope){write, none};
		cfg.nscopes = 3;
	}
	pt_arena *a = fuzz_arena();
	char *s = fuzz_copy(data, size, 0);
	struct pt_reg m;
	struct pt_reg_fail fail;
	int rc = pt_register_parse(a, &cfg, s, size, &m, &fail);
	if (rc == PT_OK) {
		FUZZ_ASSERT(fail.error == NULL);
		/* every URI checked, none cut short at a NUL the body escaped */
		FUZZ_ASSERT(m.redirect_uris != NULL && *m.redirect_uris != '\0');
		for (const char *u = m.redirect_uris; *u;) {
			size_t k = strcspn(u, "\n");
			FUZZ_ASSERT(pt_redirect_uri_valid(u, k));
			u += k;
			if (*u)
				u++;
		}
		if (m.client_name != NULL) {
			size_t n = strlen(m.client_name);
			FUZZ_ASSERT(n > 0 && pt_valid_display_text(m.client_name, n, false, NULL));
			FUZZ_ASSERT(pt_utf8_len(m.client_name, n) <= PT_MAX_APP_NAME);
			FUZZ_ASSERT(m.client_name[0] != ' ' && m.client_name[n - 1] != ' ');
		}
		if (m.grant_types != NULL)
			FUZZ_ASSERT(strcmp(m.grant_types, "authorization_code") == 0 ||
			    strcmp(m.grant_types, "authorization_code refresh_token") == 0 ||
			    strcmp(m.grant_types, "refresh_token authorization_code") == 0);
		if (m.scope != NULL)
			FUZZ_ASSERT(*m.scope && pt_scopes_ok(&cfg, m.scope, strlen(m.scope), NULL));
	} else {
		FUZZ_ASSERT(fail.error != NULL && fail.desc != NULL);
		FUZZ_ASSERT(strcmp(fail.error, "invalid_client_metadata") == 0 ||
		    strcmp(fail.error, "invalid_redirect_uri") == 0);
		FUZZ_ASSERT(m.redirect_uris == NULL && m.client_name == NULL);
	}
	free(s);
	return 0;
}
