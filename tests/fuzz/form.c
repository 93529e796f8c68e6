/* form.c: fuzzes pt_parse_form (query strings and form bodies) and pt_urldecode. */
#include "fuzz.h"

static const struct pt_field fields[] = {
	{"client_id", 64, pt_valid_b62ish, 0},
	{"redirect_uri", PT_MAX_REDIRECT_URI, pt_valid_text, 0},
	{"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	{"state", PT_MAX_STATE, pt_valid_text, 0},
	{"description", PT_MAX_APP_DESC, pt_valid_text, PT_F_MULTILINE},
	{"uri", 200, pt_valid_text, PT_F_REPEAT | PT_F_MULTILINE},
	{"picture", 1000, pt_valid_text, PT_F_BINARY},
	{"", 10, pt_valid_text, 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pt_arena *a = fuzz_arena();
	char *s = fuzz_copy(data, size, 0);
	struct pt_params p;
	struct pt_fail fail;
	int rc = pt_parse_form(a, s, size, fields, NFIELDS, &p, &fail);
	if (rc == PT_OK) {
		FUZZ_ASSERT(fail.param == NULL);
		for (size_t i = 0; i < NFIELDS; i++) {
			if (p.v[i] == NULL)
				continue;
			FUZZ_ASSERT(p.n[i] <= fields[i].max);
			FUZZ_ASSERT(p.v[i][p.n[i]] == '\0');
			if (!(fields[i].flags & PT_F_BINARY))
				FUZZ_ASSERT(pt_valid_utf8(p.v[i], p.n[i]));
		}
	} else {
		FUZZ_ASSERT(fail.param != NULL && fail.reason != NULL);
	}
	char *o;
	size_t on;
	if (pt_urldecode(a, s, size, true, &o, &on) == PT_OK)
		FUZZ_ASSERT(on <= size && o[on] == '\0');
	free(s);
	return 0;
}
