/* bearer.c: fuzzes pt_bearer, then pt_token_check and the validators on what it
 * extracts (the path of every bearer-protected request). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PT_MAX_AUTH_HEADER)
		return 0;
	char *h = fuzz_copy(data, size, 1);
	const char *t;
	size_t n;
	if (pt_bearer(h, &t, &n)) {
		FUZZ_ASSERT(n > 0 && t >= h && t + n <= h + strlen(h));
		static const char *const prefixes[] = {"pat_", "prt_", "pac_", "pdc_", "pse_"};
		for (size_t i = 0; i < 5; i++)
			if (pt_token_check(t, n, prefixes[i]))
				FUZZ_ASSERT(n == PT_TOKEN_LEN && memcmp(t, prefixes[i], 4) == 0 &&
				    pt_valid_b62ish(t, n));
		char *exact = fuzz_copy((const uint8_t *)t, n, 0);
		(void)pt_valid_b62ish(exact, n);
		(void)pt_valid_scope(exact, n);
		(void)pt_valid_username(exact, n);
		(void)pt_utf8_len(exact, n);
		if (pt_valid_pkce_verifier(exact, n)) {
			char ch[44];
			pt_pkce_s256(ch, exact, n);
			FUZZ_ASSERT(pt_valid_pkce_challenge(ch, strlen(ch)));
		}
		free(exact);
	}
	free(h);
	return 0;
}
