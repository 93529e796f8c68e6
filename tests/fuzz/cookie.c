/* cookie.c: fuzzes pt_cookie_get on a Cookie header. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* any length reaches pt_cookie_get (nginx bounds a header line, 8 KiB by default) */
	if (size > 16384)
		return 0;
	char *h = fuzz_copy(data, size, 1);
	static const char *const names[] = {"postern_session", "postern_pre", "a", ""};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v;
		size_t n;
		if (pt_cookie_get(h, names[i], &v, &n)) {
			FUZZ_ASSERT(v > h && v + n <= h + strlen(h));
			FUZZ_ASSERT(v[-1] == '=' && memchr(v, ';', n) == NULL);
		}
	}
	free(h);
	return 0;
}
