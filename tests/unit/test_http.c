/* test_http.c: requests through the dispatcher and the answers of http.c, error.c,
 * page.c, bridge.c and device_grant.c, captured instead of sent to FastCGI (the
 * database of suite_core, which runs first). */
#include <string.h>

#include <fcgiapp.h>

#include "unit.h"

static struct pt_config cfg;
static int handled;

static void
handler(struct pt_req *r)
{
	handled++;
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{}");
	pt_json(r, 200, &b);
}

/* A form whose post always comes too late, and a page whose database is always busy. */
static void
expired_form(struct pt_req *r)
{
	if (pt_is_post(r))
		pt_fail(r, PT_E_CSRF, NULL);
	else
		handler(r);
}

static void
busy_page(struct pt_req *r)
{
	pt_fail(r, PT_E_BUSY, NULL);
}

static const struct pt_route routes[] = {
	{PT_POST, "/api/x",   PT_API,  0,          handler},
	{PT_GET | PT_POST, "/form", PT_PAGE, PT_CSRF, expired_form},
	{PT_GET,  "/busy",    PT_PAGE, 0,          busy_page},
	{PT_GET,  "/page",    PT_PAGE, 0,          handler},
	{PT_GET,  "/private", PT_PAGE, PT_SESSION, handler},
	{PT_ANY,  "/any",     PT_API,  PT_NOBODY,  handler},
};
static const struct pt_site site = {"unit", PT_MAX_BODY, PT_API, "/page", routes,
    sizeof(routes) / sizeof(routes[0])};

static const char *serve_from(const char *method, const char *path, const char *query,
    const char *referer);

/* What the dispatcher answers to method path?query: status line, headers, body. */
static const char *
serve(const char *method, const char *path, const char *query)
{
	return serve_from(method, path, query, NULL);
}

/* The same, for a browser that came from referer (NULL: sends none). */
static const char *
serve_from(const char *method, const char *path, const char *query, const char *referer)
{
	static FCGX_Request fr;
	static char *env[8];
	pt_arena *a = unit_arena();
	pt_buf *out = pt_alloc(a, sizeof(*out));
	struct pt_req r;
	pt_buf_init(out, a);
	memset(&fr, 0, sizeof(fr));
	env[0] = pt_printf(a, "REQUEST_METHOD=%s", method);
	env[1] = pt_printf(a, "DOCUMENT_URI=%s", path);
	env[2] = pt_printf(a, "QUERY_STRING=%s", query);
	env[3] = "REMOTE_ADDR=192.0.2.1";
	env[4] = referer != NULL ? pt_printf(a, "HTTP_REFERER=%s", referer) : NULL;
	env[5] = NULL;
	fr.envp = env;
	memset(&r, 0, sizeof(r));
	r.fcgx = &fr;
	r.ctx = pt_ctx_init(a, &cfg);
	r.capture = out;
	pt_buf_init(&r.headers, a);
	pt_dispatch(&r, &site);
	CHECK(r.responded);
	return out->p;
}

static void
config(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.base_url = "https://auth.example";
	cfg.base_path = "";
	cfg.cookie_name = "postern_session";
	cfg.cookie_secure = -1;
	cfg.session_ttl = 3600;
	cfg.device_interval = 5;
	cfg.device_code_ttl = 900;
	cfg.default_scope = "profile";
	cfg.api_url = "https://api.example";
	cfg.site_name = "Example <Corp>";
	pt_tmpl_dirs("templates", NULL);
}

static void
dispatch_answers_404_and_405_in_the_route_face(void)
{
	config();
	const char *o = serve("GET", "/nothing", "");
	CHECK(strncmp(o, "Status: 404", 11) == 0);
	CHECK(strstr(o, "\"error\":\"not_found\"") != NULL); /* the site's unmatched face: API */
	o = serve("GET", "/api/x", "");
	CHECK(strncmp(o, "Status: 405", 11) == 0);
	CHECK(strstr(o, "Allow: POST\r\n") != NULL);
	CHECK(strstr(o, "\"error\":\"invalid_request\"") != NULL);
	o = serve("POST", "/page", "");
	CHECK(strncmp(o, "Status: 405", 11) == 0);
	CHECK(strstr(o, "Allow: GET\r\n") != NULL);
	CHECK(strstr(o, "Content-Type: text/html") != NULL);
	CHECK(strstr(o, "X-Frame-Options: DENY") != NULL);
	CHECK_INT(handled, 0);
	o = serve("HEAD", "/page", "");
	CHECK(strncmp(o, "Status: 200", 11) == 0);
	CHECK_INT(handled, 1);
	o = serve("DELETE", "/any", "");
	CHECK(strncmp(o, "Status: 200", 11) == 0);
	CHECK_INT(handled, 2);
}

static void
dispatch_refuses_malformed_requests_in_the_route_face(void)
{
	config();
	static char q[PT_MAX_QUERY + 2]; /* serve() takes a fresh arena */
	memset(q, 'a', PT_MAX_QUERY + 1);
	const char *o = serve("GET", "/page", q);
	CHECK(strncmp(o, "Status: 400", 11) == 0);
	CHECK(strstr(o, "Content-Type: text/html") != NULL);
	CHECK(strstr(o, "query is too long") != NULL);
	o = serve("GET", "/any", "x=\x01");
	CHECK(strncmp(o, "Status: 400", 11) == 0);
	CHECK(strstr(o, "Query contains a control character") != NULL ||
	    strstr(o, "query contains a control character") != NULL);
}

static void
dispatch_sends_the_signed_out_to_the_login_page(void)
{
	config();
	handled = 0;
	const char *o = serve("GET", "/private", "x=1");
	CHECK(strncmp(o, "Status: 302", 11) == 0);
	CHECK(strstr(o, "Location: /oauth/login?return_to=%2Fprivate%3Fx%3D1\r\n") != NULL);
	CHECK_INT(handled, 0);
}

/* A request for the library's answering functions, with a captured response. */
static struct pt_req
api_request(pt_buf *out)
{
	struct pt_req r;
	pt_arena *a = unit_arena();
	memset(&r, 0, sizeof(r));
	r.ctx = pt_ctx_init(a, &cfg);
	r.method = "GET";
	r.path = "/";
	r.query = "";
	r.face = PT_API;
	r.authorization = "";
	r.cookie = "";
	pt_buf_init(out, a);
	r.capture = out;
	pt_buf_init(&r.headers, a);
	return r;
}

static void
fail_answers_from_the_table(void)
{
	config();
	pt_buf out;
	struct pt_req r = api_request(&out);
	pt_fail(&r, PT_E_CLIENT_AUTH, NULL);
	CHECK(strncmp(out.p, "Status: 401", 11) == 0);
	CHECK(strstr(out.p, "WWW-Authenticate: Basic realm=\"postern\"") != NULL);
	CHECK(strstr(out.p, "{\"error\":\"invalid_client\",\"error_description\":\"client authentication failed\"}") != NULL);
	CHECK(strstr(out.p, "Cache-Control: no-store") != NULL);
	r = api_request(&out);
	pt_fail(&r, PT_E_BUSY, "later");
	CHECK(strncmp(out.p, "Status: 503", 11) == 0);
	CHECK(strstr(out.p, "Retry-After: 1\r\n") != NULL);
	CHECK(strstr(out.p, "\"error_description\":\"later\"") != NULL);
	r = api_request(&out);
	r.face = PT_PAGE;
	pt_fail(&r, PT_E_CSRF, NULL);
	CHECK(strncmp(out.p, "Status: 403", 11) == 0);
	CHECK(strstr(out.p, "Form expired") != NULL);
}

static void
error_pages_link_back_to_the_referers_origin_only(void)
{
	config();
	/* another site: its origin, never its path or query */
	const char *o = serve_from("POST", "/page", "", "https://app.example/start?token=s3cret#x");
	CHECK(strncmp(o, "Status: 405", 11) == 0);
	CHECK(strstr(o, "<a href=\"https://app.example/\">Back to app.example</a>") != NULL);
	CHECK(strstr(o, "s3cret") == NULL);
	/* this site's own page: its path, without the query */
	o = serve_from("POST", "/page", "", "https://auth.example/account/apps?token=s3cret");
	CHECK(strstr(o, "<a href=\"https://auth.example/account/apps\">Back to the previous page</a>") != NULL);
	CHECK(strstr(o, "s3cret") == NULL);
	/* a path that looks like another host stays on this one */
	o = serve_from("POST", "/page", "", "https://auth.example//evil.example/x");
	CHECK(strstr(o, "href=\"https://auth.example//evil.example/x\"") != NULL);
	/* nothing that is not an http(s) page: no link back at all */
	const char *bad[] = {"javascript:alert(1)", "data:text/html,x", "https://u@evil.example/",
	    "/relative", "https://x.example/\"onmouseover=\"x", NULL};
	for (size_t i = 0; bad[i] != NULL; i++) {
		o = serve_from("POST", "/page", "", bad[i]);
		CHECK(strncmp(o, "Status: 405", 11) == 0);
		CHECK(strstr(o, "Back to") == NULL);
	}
	o = serve("POST", "/page", "");
	CHECK(strstr(o, "Back to") == NULL);
	/* longer than PT_MAX_REFERER: no link */
	static char longref[PT_MAX_REFERER + 2];
	memset(longref, 'a', PT_MAX_REFERER + 1);
	memcpy(longref, "https://app.example/", 20);
	o = serve_from("POST", "/page", "", longref);
	CHECK(strstr(o, "Back to") == NULL);
	longref[PT_MAX_REFERER] = '\0';
	o = serve_from("POST", "/page", "", longref);
	CHECK(strstr(o, "Back to app.example") != NULL);
}

static void
error_pages_offer_the_form_sign_in_and_the_sites_home(void)
{
	config();
	/* an expired form: the form again only where its GET shows it behind a sign-in (the
	 * apps pages; errorpages.test); a page whose GET needs what the form carried (the
	 * consent page, a PT_CSRF row without PT_SESSION like this one) gets no such link */
	const char *o = serve("POST", "/form", "x=1");
	CHECK(strncmp(o, "Status: 403", 11) == 0);
	CHECK(strstr(o, "Open the form again") == NULL);
	/* signed out (built-in login): sign in; always the site's home, by its site_name */
	CHECK(strstr(o, "<a href=\"/oauth/login\">Sign in</a>") != NULL);
	CHECK(strstr(o, "<a href=\"https://auth.example/\">Go to Example &lt;Corp&gt;</a>") != NULL);
	CHECK(strstr(o, "<title>Form expired · Example &lt;Corp&gt;</title>") != NULL);
	CHECK(strstr(o, "class=\"brand\" href=\"/oauth/apps\">Example &lt;Corp&gt;</a>") != NULL);
	CHECK(strstr(o, "Try again") == NULL);
	/* a busy server: the same page again */
	o = serve("GET", "/busy", "a=b");
	CHECK(strncmp(o, "Status: 503", 11) == 0);
	CHECK(strstr(o, "<a href=\"/busy?a=b\">Try again</a>") != NULL);
	CHECK(strstr(o, "Open the form again") == NULL);
	/* a sub-path deployment: the home is the site's root, the rest below the base */
	cfg.base_url = "https://example.org/auth";
	cfg.base_path = "/auth";
	o = serve("POST", "/form", "");
	CHECK(strstr(o, "<a href=\"/auth/oauth/login\">Sign in</a>") != NULL);
	CHECK(strstr(o, "<a href=\"https://example.org/\">Go to Example &lt;Corp&gt;</a>") != NULL);
	CHECK(strstr(o, "href=\"/auth/oauth/static/style.css\"") != NULL);
	/* a site that signs people in itself: no sign-in link */
	cfg.login = PT_LOGIN_REMOTE_USER;
	o = serve("POST", "/form", "");
	CHECK(strstr(o, "Sign in") == NULL);
}

static void
device_and_bridge_polls(void)
{
	config();
	pt_buf out;
	struct pt_req r = api_request(&out);
	/* the bridge: a malformed or unknown device code */
	pt_bridge_token(&r, NULL, 0);
	CHECK(strstr(out.p, "\"error\":\"invalid_request\"") != NULL);
	r = api_request(&out);
	pt_bridge_token(&r, "pdc_nope", 8);
	CHECK(strstr(out.p, "\"error\":\"invalid_device_code\"") != NULL);
	char dc[PT_TOKEN_LEN + 1], uc[PT_USER_CODE_LEN + 1];
	r = api_request(&out);
	CHECK_INT(pt_device_issue(&r.ctx, NULL, NULL, dc, uc), PT_OK);
	pt_bridge_token(&r, dc, strlen(dc));
	CHECK(strncmp(out.p, "Status: 400", 11) == 0);
	CHECK(strstr(out.p, "\"error\":\"authorization_pending\"") != NULL);
	/* postern's own device flow: pending, then too fast */
	char cid[PT_CLIENT_ID_LEN + 1], secret[PT_CLIENT_SECRET_LEN + 1];
	struct pt_new_app n = {.name = "Device app", .redirect_uris = "", .scopes = "",
	    .grant_types = "urn:ietf:params:oauth:grant-type:device_code", .public = true};
	struct pt_app app;
	CHECK_INT(pt_app_insert(&n, cid, secret), PT_OK);
	r = api_request(&out);
	CHECK_INT(pt_app_get(r.ctx.a, cid, strlen(cid), &app), PT_OK);
	CHECK_INT(pt_device_issue(&r.ctx, &app, "profile", dc, uc), PT_OK);
	pt_device_token(&r, &app, dc, strlen(dc), false, NULL);
	CHECK(strstr(out.p, "\"error\":\"authorization_pending\"") != NULL);
	struct pt_req again = api_request(&out);
	pt_device_token(&again, &app, dc, strlen(dc), false, NULL);
	CHECK(strstr(out.p, "\"error\":\"slow_down\"") != NULL);
	struct pt_req other = api_request(&out);
	pt_device_token(&other, &app, "pdc_x", 5, false, NULL);
	CHECK(strstr(out.p, "\"error\":\"invalid_grant\"") != NULL);
}

void
suite_http(void)
{
	RUN(dispatch_answers_404_and_405_in_the_route_face);
	RUN(dispatch_refuses_malformed_requests_in_the_route_face);
	RUN(dispatch_sends_the_signed_out_to_the_login_page);
	RUN(fail_answers_from_the_table);
	RUN(error_pages_link_back_to_the_referers_origin_only);
	RUN(error_pages_offer_the_form_sign_in_and_the_sites_home);
	RUN(device_and_bridge_polls);
}
