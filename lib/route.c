/* route.c: the dispatcher: finds the row of an executable's route table that a request
 * names, answers 400/404/405 itself, signs the user in where a row needs it, then calls
 * the row's handler. */
#include <assert.h>
#include <string.h>

#include "postern.h"

/* The method bit of a request: HEAD is answered like GET. */
static unsigned
method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return PT_GET;
	if (strcmp(m, "POST") == 0)
		return PT_POST;
	return PT_OTHER;
}

bool
pt_route_path_match(const char *pattern, const char *path, const char **arg, size_t *argn)
{
	const char *p = pattern, *s = path;
	*arg = NULL;
	*argn = 0;
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			/* the rest, at least one character */
			assert(p[2] == '\0');
			if (*s == '\0')
				return false;
			*arg = s;
			*argn = strlen(s);
			return true;
		}
		if (*p == '*') {
			/* one non-empty segment */
			size_t k = strcspn(s, "/");
			if (k == 0)
				return false;
			*arg = s;
			*argn = k;
			s += k;
			p++;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

/* pt_route_find, and the path argument of the row found (NULL when none or no row). */
static const struct pt_route *
route_find(const struct pt_site *site, const struct pt_config *cfg, const char *method,
    const char *path, unsigned *allow, const struct pt_route **path_hit, const char **found_arg,
    size_t *found_argn)
{
	unsigned want = method_bit(method);
	const struct pt_route *found = NULL;
	*allow = 0;
	*path_hit = NULL;
	*found_arg = NULL;
	*found_argn = 0;
	for (size_t i = 0; i < site->nroutes; i++) {
		const struct pt_route *rt = &site->routes[i];
		const char *arg;
		size_t argn;
		if ((rt->needs & PT_BRIDGE) && !cfg->bridge)
			continue;
		if (!pt_route_path_match(rt->path, path, &arg, &argn))
			continue;
		if (*path_hit == NULL)
			*path_hit = rt;
		*allow |= rt->methods;
		if (found == NULL && (rt->methods & want)) {
			found = rt;
			*found_arg = arg;
			*found_argn = argn;
		}
	}
	return found;
}

const struct pt_route *
pt_route_find(const struct pt_site *site, const struct pt_config *cfg, const char *method,
    const char *path, unsigned *allow, const struct pt_route **path_hit)
{
	const char *arg;
	size_t argn;
	return route_find(site, cfg, method, path, allow, path_hit, &arg, &argn);
}

/* "GET, POST", "POST" or "GET": what a 405 says is allowed. */
static const char *
allow_header(unsigned allow)
{
	if ((allow & PT_GET) && (allow & PT_POST))
		return "GET, POST";
	return (allow & PT_POST) ? "POST" : "GET";
}

void
pt_dispatch(struct pt_req *r, const struct pt_site *site)
{
	struct pt_fail fail;
	unsigned allow;
	const struct pt_route *hit;
	const char *arg;
	size_t argn;
	int rc = pt_req_read(r, &fail);
	const struct pt_route *rt = route_find(site, r->ctx.cfg, r->method, r->path, &allow, &hit,
	    &arg, &argn);
	r->face = hit != NULL ? hit->face : site->unmatched;
	r->endpoint = hit;

	/* No body for GET/HEAD, nor for the check: as an nginx auth_request subrequest it
	 * carries the Content-Length (and method) of the request it guards, without the body. */
	bool bodyless = method_bit(r->method) == PT_GET || (hit != NULL && (hit->needs & PT_NOBODY));
	if (rc == PT_OK && !bodyless)
		rc = pt_req_read_body(r, site->max_body, &fail);
	if (rc != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "%s %s",
		    fail.param ? fail.param : "request", fail.reason ? fail.reason : "is malformed"));
		return;
	}
	if (hit == NULL) {
		pt_fail(r, PT_E_NOT_FOUND, NULL);
		return;
	}
	if (rt == NULL) {
		const char *allowed = allow_header(allow);
		pt_header(r, "Allow", allowed);
		pt_fail(r, PT_E_METHOD, r->face == PT_API
		    ? pt_printf(r->ctx.a, "this endpoint takes %s", allowed)
		    : pt_printf(r->ctx.a, "Use %s.", strcmp(allowed, "GET, POST") == 0 ? "GET or POST" : allowed));
		return;
	}
	r->arg = arg != NULL ? pt_strndup(r->ctx.a, arg, argn) : NULL;
	r->route = rt;
	if (rt->needs & PT_SESSION) {
		/* a GET comes back to itself after sign-in, a POST to the site's home page */
		struct pt_user u;
		const char *back = site->home;
		if (method_bit(r->method) == PT_GET)
			back = r->query[0] ? pt_printf(r->ctx.a, "%s?%s", pt_path(r, r->path), r->query)
					   : pt_path(r, r->path);
		else
			back = pt_path(r, back);
		if (!pt_signed_in(r, &u, back))
			return;
		assert(r->user != NULL);
	}
	rt->handler(r);
	/* a client-authenticated route never answers a success without authenticating */
	assert(!(rt->needs & PT_CLIENT) || (r->checked & PT_CLIENT) || !r->responded ||
	    r->status >= 400);
}
