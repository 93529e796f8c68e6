/* upstream.c: fuzzes pt_upstream_answer_parse and pt_upstream_error_message (what a
 * bridged device login reads of the upstream token endpoint's answer). */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pt_arena *a = fuzz_arena();
	char *s = fuzz_copy(data, size, 0);
	struct pt_upstream_answer ans;
	int rc = pt_upstream_answer_parse(a, s, size, &ans);
	if (rc == PT_OK) {
		size_t n = strlen(ans.access_token);
		FUZZ_ASSERT(n > 0 && n <= PT_MAX_UPSTREAM_TOKEN);
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT(ans.access_token[i] > 0x20 && ans.access_token[i] < 0x7f);
		FUZZ_ASSERT(ans.org == NULL || (*ans.org && strlen(ans.org) <= PT_MAX_UPSTREAM_ORG));
	} else {
		FUZZ_ASSERT(ans.access_token == NULL && ans.org == NULL);
	}
	const char *m = pt_upstream_error_message(a, s, size);
	if (m != NULL) {
		size_t n = strlen(m);
		FUZZ_ASSERT(n > 0 && n <= PT_MAX_UPSTREAM_MESSAGE && pt_valid_utf8(m, n));
		for (size_t i = 0; i < n; i++)
			FUZZ_ASSERT((unsigned char)m[i] >= 0x20 && m[i] != 0x7f);
	}
	free(s);
	return 0;
}
