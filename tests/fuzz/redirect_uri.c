/* redirect_uri.c: fuzzes pt_redirect_uri_valid, pt_redirect_uri_match and
 * pt_uri_with_params. Input: registered URI, '\n', requested URI. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t rn = nl ? (size_t)(nl - data) : size;
	size_t qn = nl ? size - rn - 1 : 0;
	char *reg = fuzz_copy(data, rn, 0);
	char *req = fuzz_copy(nl ? nl + 1 : data, qn, 0);

	bool valid = pt_redirect_uri_valid(reg, rn);
	if (valid) {
		FUZZ_ASSERT(rn <= PT_MAX_REDIRECT_URI && memchr(reg, '#', rn) == NULL);
		FUZZ_ASSERT(memcmp(reg, "https://", rn < 8 ? rn : 8) == 0 ||
		    memcmp(reg, "http://", rn < 7 ? rn : 7) == 0);
		FUZZ_ASSERT(pt_redirect_uri_match(reg, rn, reg, rn));
	}
	bool match = pt_redirect_uri_match(reg, rn, req, qn);
	/* a match is the same URI or a loopback one differing in the port only */
	if (match && !(rn == qn && memcmp(reg, req, rn) == 0))
		FUZZ_ASSERT(rn >= 7 && memcmp(reg, "http://", 7) == 0 && qn >= 7 &&
		    memcmp(req, "http://", 7) == 0);
	if (valid && match) {
		char *r = fuzz_copy((const uint8_t *)req, qn, 1);
		const char *kv[] = {"code", "pac_x", "state", r, "iss", NULL, NULL};
		char *u = pt_uri_with_params(fuzz_arena(), r, kv);
		FUZZ_ASSERT(strncmp(u, r, strlen(r)) == 0);
		free(r);
	}
	free(reg);
	free(req);
	return 0;
}
