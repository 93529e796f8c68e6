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
	if (memmem(data, size, "<\x01", 2) == NULL)
		FUZZ_ASSERT(memmem(b.p, b.n, "<\x01", 2) == NULL);
	FUZZ_ASSERT(memmem(b.p, b.n, "javascript:", 11) == NULL ||
	    memmem(data, size, "javascript:", 11) != NULL);
	free(src);
	return 0;
}
