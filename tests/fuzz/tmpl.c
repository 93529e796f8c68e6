/* tmpl.c: fuzzes template rendering: the input is a template, rendered with fixed
 * values that carry markup; no value may come out unescaped. Partials load from
 * templates/ (run from the repository root). */
#include "fuzz.h"

#define MARK "<\x01mark>"

/* Missing partials are normal here: keep the log quiet (replaces log.c's). */
void
pt_log(const char *level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static size_t
count_lt(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == '<';
	return k;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	pt_tmpl_dirs("templates", NULL);
	pt_arena *a = fuzz_arena();
	char *src = fuzz_copy(data, size, 1);
	struct pt_tv *t = pt_tv_new(a);
	pt_tv_set(t, "a", MARK "&\"'");
	pt_tv_set(t, "empty", "");
	pt_tv_setf(t, "n", "%d", 42);
	pt_tv_url(t, "u", "javascript:alert(1)");
	/* one child per list: lists nested through the parent stay linear */
	struct pt_tv *c = pt_tv_add(t, "items");
	pt_tv_set(c, "b", MARK);
	pt_tv_set(pt_tv_add(c, "rows"), "c", MARK);
	pt_buf b;
	pt_buf_init(&b, a);
	int rc = pt_tmpl_render_string(&b, src, t);
	FUZZ_ASSERT(rc == PT_OK || rc == PT_ERR_INVALID);
	FUZZ_ASSERT(strlen(b.p) == b.n);
	/* With one child per list and no partial, each template byte is written at
	 * most once, so every '<' out must come from the template, none from a value. */
	if (strstr(src, "{{>") == NULL)
		FUZZ_ASSERT(count_lt(b.p, b.n) <= count_lt(src, strlen(src)));
	free(src);
	return 0;
}
