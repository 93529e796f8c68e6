/* test_arena.c: the region allocator, pt_buf, and the HTML, URL and JSON escapers. */
#include <stdint.h>
#include <string.h>

#include "unit.h"

static void
alloc_is_aligned_and_distinct(void)
{
	pt_arena *a = unit_arena();
	char *p = pt_alloc(a, 1), *q = pt_alloc(a, 3), *r = pt_alloc(a, 0);
	CHECK((uintptr_t)p % sizeof(max_align_t) == 0);
	CHECK((uintptr_t)q % sizeof(max_align_t) == 0);
	CHECK((uintptr_t)r % sizeof(max_align_t) == 0);
	CHECK(p != q && q != r && p != r);
	CHECK(q - p >= (ptrdiff_t)sizeof(max_align_t)); /* sequential in one block */
	memset(q, 'x', 3);
	CHECK(q[2] == 'x');
}

static void
alloc_larger_than_a_block_works(void)
{
	pt_arena *a = unit_arena();
	size_t big = 300 * 1024;
	char *p = pt_alloc(a, big);
	memset(p, 'a', big);
	char *q = pt_alloc(a, 16);
	memset(q, 'b', 16);
	CHECK(p[big - 1] == 'a');
	CHECK(q[0] == 'b');
}

static void
reset_keeps_arena_usable(void)
{
	pt_arena *a = unit_arena();
	for (int i = 0; i < 100; i++)
		memset(pt_alloc(a, 10000), 1, 10000); /* spills into several blocks */
	pt_arena_reset(a);
	char *s = pt_strdup(a, "after reset");
	CHECK_STR(s, "after reset");
	pt_arena_reset(a);
	pt_arena_reset(a);
	CHECK_STR(pt_strdup(a, "twice"), "twice");
}

static void
strndup_copies_and_terminates(void)
{
	pt_arena *a = unit_arena();
	CHECK_STR(pt_strndup(a, "abcdef", 3), "abc");
	CHECK_STR(pt_strndup(a, "", 0), "");
	CHECK_STR(pt_strdup(a, "xyz"), "xyz");
	char *p = pt_strndup(a, "a\0b", 3);
	CHECK(p[0] == 'a' && p[1] == '\0' && p[2] == 'b' && p[3] == '\0');
}

static void
printf_short_and_long(void)
{
	pt_arena *a = unit_arena();
	CHECK_STR(pt_printf(a, "%s=%d", "n", 42), "n=42");
	char big[1001];
	memset(big, 'q', 1000);
	big[1000] = '\0';
	char *s = pt_printf(a, "<%s>", big); /* longer than the 256-byte fast path */
	CHECK_INT(strlen(s), 1002);
	CHECK(s[0] == '<' && s[1001] == '>' && s[500] == 'q');
}

static void
buf_grows_and_stays_terminated(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	CHECK_INT(b.n, 0);
	CHECK_STR(b.p, "");
	for (int i = 0; i < 1000; i++)
		pt_buf_adds(&b, "0123456789");
	CHECK_INT(b.n, 10000);
	CHECK_INT(strlen(b.p), 10000);
	CHECK(memcmp(b.p + 9990, "0123456789", 10) == 0);
	pt_buf_addc(&b, '!');
	CHECK_INT(b.n, 10001);
	CHECK(b.p[10000] == '!' && b.p[10001] == '\0');
	pt_buf_add(&b, "zz", 0);
	CHECK_INT(b.n, 10001);
}

static void
buf_addf_formats_across_growth(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	pt_buf_addf(&b, "%d-%s", 7, "x");
	CHECK_STR(b.p, "7-x");
	char big[600];
	memset(big, 'y', 599);
	big[599] = '\0';
	pt_buf_addf(&b, "[%s]", big); /* over the initial capacity */
	CHECK_INT(b.n, 3 + 601);
	CHECK(b.p[3] == '[' && b.p[603] == ']' && b.p[604] == '\0');
	pt_buf_addf(&b, "%s", "");
	CHECK_INT(b.n, 604);
}

static void
html_escapes_the_five(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	const char *s = "<a href=\"x\" title='y'>Tom & Jerry</a>";
	pt_buf_html(&b, s, strlen(s));
	CHECK_STR(b.p, "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
}

static void
html_passes_plain_and_utf8(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	const char *s = "caf\xc3\xa9 \xe2\x9c\x93 ok";
	pt_buf_html(&b, s, strlen(s));
	CHECK_STR(b.p, s);
	pt_buf_init(&b, unit_arena());
	pt_buf_html(&b, "&&", 2);
	CHECK_STR(b.p, "&amp;&amp;");
	pt_buf_init(&b, unit_arena());
	pt_buf_html(&b, "ab<cd", 3); /* honours the length */
	CHECK_STR(b.p, "ab&lt;");
}

static void
urlenc_keeps_only_unreserved(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	const char *s = "AZaz09-._~ /?#&=+%\"<>";
	pt_buf_urlenc(&b, s, strlen(s));
	CHECK_STR(b.p, "AZaz09-._~%20%2F%3F%23%26%3D%2B%25%22%3C%3E");
	pt_buf_init(&b, unit_arena());
	pt_buf_urlenc(&b, "\xc3\xa9\n\x00", 4);
	CHECK_STR(b.p, "%C3%A9%0A%00");
}

static void
json_escapes_quotes_controls_and_lt(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	const char *s = "a\"b\\c\nd\re\tf</script>&";
	pt_buf_json(&b, s, strlen(s));
	CHECK_STR(b.p, "\"a\\\"b\\\\c\\nd\\re\\tf\\u003c/script>&\"");
	pt_buf_init(&b, unit_arena());
	pt_buf_json(&b, "\x01\x1f\x7f\x00", 4);
	CHECK_STR(b.p, "\"\\u0001\\u001f\\u007f\\u0000\"");
	pt_buf_init(&b, unit_arena());
	pt_buf_json(&b, "", 0);
	CHECK_STR(b.p, "\"\"");
}

static void
json_passes_utf8(void)
{
	pt_buf b;
	pt_buf_init(&b, unit_arena());
	const char *s = "caf\xc3\xa9 \xf0\x9f\x98\x80";
	pt_buf_json(&b, s, strlen(s));
	CHECK_STR(b.p, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
}

void
suite_arena(void)
{
	RUN(alloc_is_aligned_and_distinct);
	RUN(alloc_larger_than_a_block_works);
	RUN(reset_keeps_arena_usable);
	RUN(strndup_copies_and_terminates);
	RUN(printf_short_and_long);
	RUN(buf_grows_and_stays_terminated);
	RUN(buf_addf_formats_across_growth);
	RUN(html_escapes_the_five);
	RUN(html_passes_plain_and_utf8);
	RUN(urlenc_keeps_only_unreserved);
	RUN(json_escapes_quotes_controls_and_lt);
	RUN(json_passes_utf8);
}
