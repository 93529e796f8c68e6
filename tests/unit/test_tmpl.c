/* test_tmpl.c: template values, escaping, sections, lists, partials and bad templates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

static pt_buf out;

/* Renders src with t into out; returns the pt_tmpl_render_string result. */
static int
render(const char *src, const struct pt_tv *t)
{
	pt_buf_init(&out, unit_arena());
	return pt_tmpl_render_string(&out, src, t);
}

static struct pt_tv *
values(void)
{
	/* its own arena: render() replaces the unit arena */
	static pt_arena *a;
	pt_arena_free(a);
	a = pt_arena_new();
	return pt_tv_new(a);
}

static void
variables_are_escaped(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "name", "<script>alert('x')</script> & \"q\"");
	CHECK_INT(render("<p title=\"{{name}}\">{{name}}</p>", t), PT_OK);
	CHECK_STR(out.p, "<p title=\"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;\">"
	    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</p>");
}

static void
variables_plain_and_missing(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "a", "1");
	pt_tv_setn(t, "b", "2345", 2);
	pt_tv_setf(t, "c", "%d-%s", 7, "x");
	pt_tv_set(t, "nil", NULL);
	CHECK_INT(render("[{{a}}|{{b}}|{{c}}|{{missing}}|{{nil}}]", t), PT_OK);
	CHECK_STR(out.p, "[1|23|7-x||]");
	pt_tv_set(t, "a", "replaced");
	CHECK_INT(render("{{a}}", t), PT_OK);
	CHECK_STR(out.p, "replaced");
}

static void
text_without_tags_passes_through(void)
{
	struct pt_tv *t = values();
	CHECK_INT(render("a { b } c {x} \xc3\xa9 <b>&amp;</b>", t), PT_OK);
	CHECK_STR(out.p, "a { b } c {x} \xc3\xa9 <b>&amp;</b>");
	CHECK_INT(render("", t), PT_OK);
	CHECK_STR(out.p, "");
}

static void
sections_render_for_non_empty_values(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "yes", "1");
	pt_tv_set(t, "empty", "");
	CHECK_INT(render("<{{#yes}}Y{{yes}}{{/yes}}{{#empty}}E{{/empty}}{{#absent}}A{{/absent}}>", t),
	    PT_OK);
	CHECK_STR(out.p, "<Y1>");
}

static void
inverted_sections_render_for_absent_or_empty(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "yes", "1");
	pt_tv_set(t, "empty", "");
	CHECK_INT(render("<{{^yes}}Y{{/yes}}{{^empty}}E{{/empty}}{{^absent}}A{{/absent}}>", t), PT_OK);
	CHECK_STR(out.p, "<EA>");
	pt_tv_add(t, "list");
	CHECK_INT(render("<{{^list}}none{{/list}}>", t), PT_OK);
	CHECK_STR(out.p, "<>");
}

static void
lists_repeat_with_each_child(void)
{
	struct pt_tv *t = values();
	for (int i = 1; i <= 12; i++) /* more than the first allocation of children */
		pt_tv_setf(pt_tv_add(t, "items"), "n", "%d", i);
	CHECK_INT(render("{{#items}}[{{n}}]{{/items}}", t), PT_OK);
	CHECK_STR(out.p, "[1][2][3][4][5][6][7][8][9][10][11][12]");
}

static void
list_children_fall_back_to_parent(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "site", "S&P");
	pt_tv_set(t, "n", "parent");
	pt_tv_set(pt_tv_add(t, "items"), "n", "a");
	pt_tv_add(t, "items"); /* no n of its own */
	CHECK_INT(render("{{#items}}{{n}}@{{site}};{{/items}}", t), PT_OK);
	CHECK_STR(out.p, "a@S&amp;P;parent@S&amp;P;");
}

static void
nested_lists_and_same_key_sections(void)
{
	struct pt_tv *t = values();
	struct pt_tv *g = pt_tv_add(t, "groups");
	pt_tv_set(g, "g", "G1");
	pt_tv_set(pt_tv_add(g, "rows"), "r", "a");
	pt_tv_set(pt_tv_add(g, "rows"), "r", "b");
	CHECK_INT(render("{{#groups}}{{g}}:{{#rows}}{{r}}{{g}}{{/rows}}{{/groups}}", t), PT_OK);
	CHECK_STR(out.p, "G1:aG1bG1");
	pt_tv_set(t, "x", "1");
	CHECK_INT(render("{{#x}}a{{#x}}b{{/x}}c{{/x}}d", t), PT_OK);
	CHECK_STR(out.p, "abcd");
	CHECK_INT(render("{{^nope}}a{{^nope}}b{{/nope}}c{{/nope}}d", t), PT_OK);
	CHECK_STR(out.p, "abcd");
}

static void
comments_render_nothing(void)
{
	struct pt_tv *t = values();
	CHECK_INT(render("a{{! a comment }}b", t), PT_OK);
	CHECK_STR(out.p, "ab");
}

static void
unknown_or_spaced_tags_render_nothing(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "name", "n");
	/* tags are not trimmed: "{{ name }}" names the key " name " */
	CHECK_INT(render("[{{ name }}][{{}}][{{&name}}]", t), PT_OK);
	CHECK_STR(out.p, "[][][]");
}

static void
malformed_templates_are_errors(void)
{
	struct pt_tv *t = values();
	pt_tv_set(t, "a", "1");
	CHECK_INT(render("x{{a", t), PT_ERR_INVALID);
	CHECK_INT(render("x{{/a}}", t), PT_ERR_INVALID);
	CHECK_INT(render("{{#a}}open", t), PT_ERR_INVALID);
	CHECK_INT(render("{{^a}}open", t), PT_ERR_INVALID);
	CHECK_INT(render("{{#a}}x{{/b}}", t), PT_ERR_INVALID);
	CHECK_INT(render("{{#a}}{{/a}}{{/a}}", t), PT_ERR_INVALID);
}

static void
tv_url_keeps_only_safe_urls(void)
{
	struct pt_tv *t = values();
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"https://example.com/x?a=1", "https://example.com/x?a=1"},
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080/"},
		{"/oauth/apps", "/oauth/apps"},
		{"?page=2", "?page=2"},
		{"javascript:alert(1)", "#"},
		{"JavaScript:alert(1)", "#"},
		{"data:text/html,x", "#"},
		{"//evil.example/", "#"},
		{"/\\evil.example/", "#"},
		{"relative", "#"},
		{"", "#"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pt_tv_url(t, "u", cases[i].in);
		CHECK_INT(render("{{u}}", t), PT_OK);
		CHECK_STR(out.p, cases[i].want);
	}
	pt_tv_url(t, "u", NULL);
	CHECK_INT(render("{{u}}", t), PT_OK);
	CHECK_STR(out.p, "#");
}

static char tdir[64], odir[64];

static void
partials_load_from_dirs_override_first(void)
{
	unit_write_file(tdir, "ut_part.html", "<p>{{name}}</p>");
	unit_write_file(tdir, "ut_shadow.html", "builtin");
	unit_write_file(odir, "ut_shadow.html", "override {{name}}");
	unit_write_file(tdir, "ut_page.html", "[{{>ut_part}}|{{>ut_shadow}}]");
	struct pt_tv *t = values();
	pt_tv_set(t, "name", "<x>");
	CHECK_INT(render("{{>ut_part}}", t), PT_OK);
	CHECK_STR(out.p, "<p>&lt;x&gt;</p>");
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_page", t), PT_OK);
	CHECK_STR(out.p, "[<p>&lt;x&gt;</p>|override &lt;x&gt;]");
}

static void
partials_inside_lists_see_the_child(void)
{
	unit_write_file(tdir, "ut_row.html", "<li>{{n}}</li>");
	struct pt_tv *t = values();
	pt_tv_set(pt_tv_add(t, "rows"), "n", "1");
	pt_tv_set(pt_tv_add(t, "rows"), "n", "2");
	CHECK_INT(render("{{#rows}}{{>ut_row}}{{/rows}}", t), PT_OK);
	CHECK_STR(out.p, "<li>1</li><li>2</li>");
}

static void
partials_missing_or_badly_named_fail(void)
{
	struct pt_tv *t = values();
	unit_write_file(tdir, "UT_Upper.html", "x");
	CHECK_INT(render("{{>ut_nonexistent}}", t), PT_ERR_INVALID);
	CHECK_INT(render("{{>../etc/passwd}}", t), PT_ERR_INVALID);
	CHECK_INT(render("{{>ut.part}}", t), PT_ERR_INVALID);
	CHECK_INT(render("{{>UT_Upper}}", t), PT_ERR_INVALID);
	CHECK_INT(render("{{>}}", t), PT_ERR_INVALID);
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_nonexistent", t), PT_ERR_NOTFOUND);
}

static void
recursive_partials_stop_at_the_depth_limit(void)
{
	unit_write_file(tdir, "ut_self.html", "x{{>ut_self}}");
	struct pt_tv *t = values();
	CHECK_INT(render("{{>ut_self}}", t), PT_ERR_INVALID);
}

static void
templates_are_cached_once_loaded(void)
{
	unit_write_file(tdir, "ut_cached.html", "first");
	struct pt_tv *t = values();
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_cached", t), PT_OK);
	CHECK_STR(out.p, "first");
	unit_write_file(tdir, "ut_cached.html", "second");
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_cached", t), PT_OK);
	CHECK_STR(out.p, "first");
}

static void
templates_over_the_size_limit_or_not_files_fail(void)
{
	struct pt_tv *t = values();
	char *big = malloc(PT_MAX_TEMPLATE + 2);
	CHECK(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'a', PT_MAX_TEMPLATE + 1);
	big[PT_MAX_TEMPLATE] = '\0';
	unit_write_file(tdir, "ut_limit.html", big);
	big[PT_MAX_TEMPLATE] = 'a';
	big[PT_MAX_TEMPLATE + 1] = '\0';
	unit_write_file(tdir, "ut_over.html", big);
	free(big);
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_limit", t), PT_OK);
	CHECK_INT((int)out.n, PT_MAX_TEMPLATE);
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_over", t), PT_ERR_NOTFOUND);
	CHECK_INT(render("{{>ut_over}}", t), PT_ERR_INVALID);
	/* a folder with a template's name is not a template */
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/ut_folder.html", tdir);
	CHECK(mkdir(sub, 0700) == 0);
	pt_buf_init(&out, unit_arena());
	CHECK_INT(pt_tmpl_render(&out, "ut_folder", t), PT_ERR_NOTFOUND);
}

static void
remove_dir(const char *dir)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

void
suite_tmpl(void)
{
	RUN(variables_are_escaped);
	RUN(variables_plain_and_missing);
	RUN(text_without_tags_passes_through);
	RUN(sections_render_for_non_empty_values);
	RUN(inverted_sections_render_for_absent_or_empty);
	RUN(lists_repeat_with_each_child);
	RUN(list_children_fall_back_to_parent);
	RUN(nested_lists_and_same_key_sections);
	RUN(comments_render_nothing);
	RUN(unknown_or_spaced_tags_render_nothing);
	RUN(malformed_templates_are_errors);
	RUN(tv_url_keeps_only_safe_urls);

	snprintf(tdir, sizeof(tdir), "/tmp/postern-unit-XXXXXX");
	snprintf(odir, sizeof(odir), "/tmp/postern-unit-XXXXXX");
	if (!CHECK(mkdtemp(tdir) != NULL && mkdtemp(odir) != NULL))
		return;
	pt_tmpl_dirs(tdir, odir);
	RUN(partials_load_from_dirs_override_first);
	RUN(partials_inside_lists_see_the_child);
	RUN(partials_missing_or_badly_named_fail);
	RUN(recursive_partials_stop_at_the_depth_limit);
	RUN(templates_are_cached_once_loaded);
	RUN(templates_over_the_size_limit_or_not_files_fail);
	pt_tmpl_dirs("templates", NULL);
	remove_dir(tdir);
	remove_dir(odir);
}
