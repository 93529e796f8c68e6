/* base64.c: fuzzes pt_base64_decode, and checks it inverts libsodium's encoder. */
#include "fuzz.h"

#include <sodium.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pt_arena *a = fuzz_arena();
	char *s = fuzz_copy(data, size, 0);
	char *o;
	size_t on;
	if (pt_base64_decode(a, s, size, &o, &on) == PT_OK)
		FUZZ_ASSERT(size % 4 == 0 && on <= size / 4 * 3 && on + 2 >= size / 4 * 3);
	free(s);

	/* the input as bytes: encode with sodium, decode back */
	if (size > 4096)
		return 0;
	size_t en = sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL);
	char *enc = malloc(en);
	if (enc == NULL)
		abort();
	sodium_bin2base64(enc, en, data, size, sodium_base64_VARIANT_ORIGINAL);
	FUZZ_ASSERT(pt_base64_decode(a, enc, strlen(enc), &o, &on) == PT_OK);
	FUZZ_ASSERT(on == size && (size == 0 || memcmp(o, data, size) == 0));
	free(enc);
	return 0;
}
