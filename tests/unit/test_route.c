/* test_route.c: route patterns and the route lookup of the dispatcher (lib/route.c). */
#include <string.h>

#include "unit.h"

static void noop(struct pt_req *r) { (void)r; }

static const struct pt_route routes[] = {
	{PT_POST,          "/oauth/register",       PT_API,  0,          noop},
	{PT_GET,           "/oauth/apps",           PT_PAGE, PT_SESSION, noop},
	{PT_GET | PT_POST, "/oauth/apps/new",       PT_PAGE, PT_SESSION, noop},
	{PT_GET | PT_POST, "/oauth/apps/*",         PT_PAGE, PT_SESSION, noop},
	{PT_POST,          "/oauth/apps/*/rotate",  PT_PAGE, PT_SESSION, noop},
	{PT_ANY,           "/device/verify",        PT_PAGE, PT_BRIDGE,  noop},
	{PT_GET,           "/device/verify",        PT_PAGE, 0,          noop},
	{PT_ANY,           "/.well-known/x/**",     PT_API,  0,          noop},
};
static const struct pt_site site = {"unit", 1, PT_API, "/oauth/apps", routes,
    sizeof(routes) / sizeof(routes[0])};

static bool
match(const char *pattern, const char *path, const char *want_arg)
{
	const char *arg;
	size_t n;
	if (!pt_route_path_match(pattern, path, &arg, &n))
		return false;
	if (want_arg == NULL)
		return arg == NULL;
	return arg != NULL && n == strlen(want_arg) && memcmp(arg, want_arg, n) == 0;
}

static void
pattern_exact_and_segments(void)
{
	CHECK(match("/oauth/token", "/oauth/token", NULL));
	CHECK(!match("/oauth/token", "/oauth/tokens", NULL));
	CHECK(!match("/oauth/token", "/oauth/toke", NULL));
	CHECK(!match("/oauth/token", "/oauth/token/", NULL));
	CHECK(match("/oauth/apps/*", "/oauth/apps/pca_x", "pca_x"));
	CHECK(!match("/oauth/apps/*", "/oauth/apps/", NULL));     /* a segment is never empty */
	CHECK(!match("/oauth/apps/*", "/oauth/apps/a/b", NULL));  /* nor more than one */
	CHECK(match("/oauth/apps/*/rotate", "/oauth/apps/a/rotate", "a"));
	CHECK(!match("/oauth/apps/*/rotate", "/oauth/apps//rotate", NULL));
	CHECK(match("/w/**", "/w/a/b", "a/b"));
	CHECK(!match("/w/**", "/w/", NULL));
}

static void
find_first_row_of_path_and_method(void)
{
	struct pt_config cfg = {0};
	unsigned allow;
	const struct pt_route *hit;
	const struct pt_route *rt = pt_route_find(&site, &cfg, "GET", "/oauth/apps/new", &allow, &hit);
	CHECK(rt == &routes[2]);
	rt = pt_route_find(&site, &cfg, "HEAD", "/oauth/apps/pca_1", &allow, &hit);
	CHECK(rt == &routes[3]);
	/* a known path with another method: no route, the methods for Allow */
	rt = pt_route_find(&site, &cfg, "GET", "/oauth/apps/pca_1/rotate", &allow, &hit);
	CHECK(rt == NULL);
	CHECK(hit == &routes[4]);
	CHECK_INT(allow, PT_POST);
	rt = pt_route_find(&site, &cfg, "DELETE", "/oauth/apps", &allow, &hit);
	CHECK(rt == NULL && hit == &routes[1]);
	CHECK_INT(allow, PT_GET);
	/* an unknown path */
	rt = pt_route_find(&site, &cfg, "GET", "/oauth/nothing", &allow, &hit);
	CHECK(rt == NULL && hit == NULL);
	CHECK_INT(allow, 0);
}

static void
find_bridge_rows_only_with_the_bridge(void)
{
	struct pt_config cfg = {0};
	unsigned allow;
	const struct pt_route *hit;
	CHECK(pt_route_find(&site, &cfg, "GET", "/device/verify", &allow, &hit) == &routes[6]);
	CHECK(pt_route_find(&site, &cfg, "POST", "/device/verify", &allow, &hit) == NULL);
	cfg.bridge = true;
	CHECK(pt_route_find(&site, &cfg, "GET", "/device/verify", &allow, &hit) == &routes[5]);
	CHECK(pt_route_find(&site, &cfg, "PUT", "/device/verify", &allow, &hit) == &routes[5]);
}

void
suite_route(void)
{
	RUN(pattern_exact_and_segments);
	RUN(find_first_row_of_path_and_method);
	RUN(find_bridge_rows_only_with_the_bridge);
}
