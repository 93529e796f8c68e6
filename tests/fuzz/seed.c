/* seed.c: fuzzes pt_seed_read (seed files: `postern seed`, `postern-stack up --seed`). */
#include "fuzz.h"

static char profile[] = "profile", read[] = "posts:read", none[] = "";

static bool
b62(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pt_config cfg;
	if (cfg.nscopes == 0) {
		cfg.scopes[0] = (struct pt_scope){profile, none};
		cfg.scopes[1] = (struct pt_scope){read, none};
		cfg.nscopes = 2;
	}
	pt_arena *a = fuzz_arena();
	char *s = fuzz_copy(data, size, 0);
	struct pt_seed seed;
	const char *why = pt_seed_read(a, &cfg, s, size, &seed);
	if (why == NULL) {
		for (size_t i = 0; i < seed.nusers; i++) {
			const struct pt_seed_user *u = &seed.users[i];
			FUZZ_ASSERT(pt_valid_username(u->name, strlen(u->name)));
			FUZZ_ASSERT(u->password_n >= PT_MIN_PASSWORD && u->password_n <= PT_MAX_PASSWORD);
			FUZZ_ASSERT(memchr(u->password, '\0', u->password_n) == NULL);
			for (size_t k = 0; k < i; k++)
				FUZZ_ASSERT(strcmp(seed.users[k].name, u->name) != 0);
		}
		for (size_t i = 0; i < seed.napps; i++) {
			const struct pt_seed_app *sa = &seed.apps[i];
			if (sa->client_id != NULL)
				FUZZ_ASSERT(strlen(sa->client_id) == PT_CLIENT_ID_LEN &&
				    memcmp(sa->client_id, "pca_", 4) == 0 && b62(sa->client_id + 4, PT_CLIENT_ID_LEN - 4));
			if (sa->client_secret != NULL)
				FUZZ_ASSERT(!sa->app.public && strlen(sa->client_secret) == PT_CLIENT_SECRET_LEN &&
				    memcmp(sa->client_secret, "pcs_", 4) == 0 &&
				    b62(sa->client_secret + 4, PT_CLIENT_SECRET_LEN - 4));
			FUZZ_ASSERT(sa->nuris <= PT_MAX_REDIRECT_URIS);
			for (const char *u = sa->app.redirect_uris; *u;) {
				size_t k = strcspn(u, "\n");
				FUZZ_ASSERT(pt_redirect_uri_valid(u, k));
				u += k;
				if (*u)
					u++;
			}
			size_t nl = strlen(sa->app.name);
			FUZZ_ASSERT(nl > 0 && pt_valid_display_text(sa->app.name, nl, false, NULL));
			FUZZ_ASSERT(*sa->app.scopes == '\0' || pt_scopes_ok(&cfg, sa->app.scopes, strlen(sa->app.scopes), NULL));
			FUZZ_ASSERT(*sa->app.grant_types != '\0');
		}
	} else {
		/* every mistake names its line, except the whole file's size and a NUL byte */
		FUZZ_ASSERT(strncmp(why, "line ", 5) == 0 || strncmp(why, "the seed file ", 14) == 0);
	}
	free(s);
	return 0;
}
