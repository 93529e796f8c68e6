/* http.c: the FastCGI request loop and its worker processes, request reading with limits,
 * and responses. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "postern.h"

static const char *
status_text(int s)
{
	switch (s) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static const char *
param(const struct pt_req *r, const char *name)
{
	return FCGX_GetParam(name, r->fcgx->envp);
}

const char *
pt_req_param(const struct pt_req *r, const char *name)
{
	return param(r, name);
}

/* Header-borne input: bounded and free of control characters. */
static int
bounded(const char *v, size_t max, const char *name, struct pt_fail *fail)
{
	size_t n = strlen(v);
	fail->param = name;
	if (n > max) {
		fail->reason = "is too long";
		return PT_ERR_TOOLONG;
	}
	if (!pt_valid_printable(v, n)) {
		fail->reason = "contains a control character";
		return PT_ERR_CONTROL;
	}
	fail->param = NULL;
	return PT_OK;
}

int
pt_req_read(struct pt_req *r, struct pt_fail *fail)
{
	const char *v;
	int rc;
	fail->param = fail->reason = NULL;
	r->method = (v = param(r, "REQUEST_METHOD")) ? v : "GET";
	r->query = (v = param(r, "QUERY_STRING")) ? v : "";
	r->content_type = (v = param(r, "CONTENT_TYPE")) ? v : "";
	r->cookie = (v = param(r, "HTTP_COOKIE")) ? v : "";
	r->authorization = (v = param(r, "HTTP_AUTHORIZATION")) ? v : "";
	r->remote_user = param(r, "REMOTE_USER");
	if (r->remote_user != NULL && *r->remote_user == '\0')
		r->remote_user = NULL;
	r->remote_addr = (v = param(r, "REMOTE_ADDR")) ? v : "";
	/* only an error page reads it, and only one it can link to (pt_uri_origin) */
	r->referer = param(r, "HTTP_REFERER");
	/* RFC 9449 §4.3: one DPoP header, no more (nginx passes each it got) */
	r->dpop = param(r, "HTTP_DPOP");
	r->dpop_count = 0;
	if (r->dpop != NULL)
		for (char **e = r->fcgx->envp; *e != NULL; e++)
			r->dpop_count += strncmp(*e, "HTTP_DPOP=", 10) == 0;
	/* the path below the base URL */
	v = param(r, "DOCUMENT_URI");
	if (v == NULL)
		v = param(r, "SCRIPT_NAME");
	if (v == NULL)
		v = "/";
	size_t bl = strlen(r->ctx.cfg->base_path);
	if (bl && strncmp(v, r->ctx.cfg->base_path, bl) == 0 && (v[bl] == '/' || v[bl] == '\0'))
		v += bl;
	r->path = *v ? v : "/";
	/* nginx's auth_request does not split "/oauth/check?scope=x" into path and
	 * arguments: the URI arrives whole in DOCUMENT_URI, so split it here. */
	const char *qm = strchr(r->path, '?');
	if (qm != NULL) {
		if (r->query[0] == '\0')
			r->query = qm + 1;
		r->path = pt_strndup(r->ctx.a, r->path, (size_t)(qm - r->path));
	}
	r->body = "";
	r->body_len = 0;
	/* The Cookie header is not checked here: a browser calling the site's own API sends
	 * every cookie of the site, and endpoints that never read cookies must not refuse
	 * them (nginx bounds header sizes). The session code reads only its own cookies,
	 * each checked for its exact format. */
	if ((rc = bounded(r->query, PT_MAX_QUERY, "query", fail)) != PT_OK ||
	    (rc = bounded(r->authorization, PT_MAX_AUTH_HEADER, "Authorization", fail)) != PT_OK)
		return rc;
	if (r->remote_user && (rc = bounded(r->remote_user, PT_MAX_USERNAME, "REMOTE_USER", fail)))
		return rc;
	return PT_OK;
}

int
pt_req_read_body(struct pt_req *r, size_t max_body, struct pt_fail *fail)
{
	const char *v = param(r, "CONTENT_LENGTH");
	fail->param = fail->reason = NULL;
	if (v != NULL && *v) {
		long long n;
		int rc = pt_strtonum(v, 0, LLONG_MAX, &n);
		if (rc == PT_ERR_INVALID || v[0] == '-') {
			fail->param = "Content-Length";
			fail->reason = "is not a number";
			return PT_ERR_INVALID;
		}
		if (rc != PT_OK || (unsigned long long)n > max_body) {
			fail->param = "body";
			fail->reason = "is larger than this endpoint accepts";
			return PT_ERR_TOOLONG;
		}
		size_t len = (size_t)n;
		char *b = pt_alloc(r->ctx.a, (size_t)len + 1);
		size_t got = 0;
		while (got < len) {
			int k = FCGX_GetStr(b + got, (int)(len - got), r->fcgx->in);
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		if (got != len) {
			fail->param = "body";
			fail->reason = "is shorter than Content-Length";
			return PT_ERR_ENCODING;
		}
		b[len] = '\0';
		r->body = b;
		r->body_len = (size_t)len;
	}
	return PT_OK;
}

void
pt_header(struct pt_req *r, const char *name, const char *value)
{
	pt_buf_adds(&r->headers, name);
	pt_buf_add(&r->headers, ": ", 2);
	/* never let a value start another header */
	for (const char *p = value; *p; p++)
		pt_buf_addc(&r->headers, (*p == '\r' || *p == '\n') ? ' ' : *p);
	pt_buf_add(&r->headers, "\r\n", 2);
}

/* Writes to FastCGI, or to r->capture (the unit tests' requests). */
static void
put(struct pt_req *r, const char *p, size_t n)
{
	if (r->capture != NULL)
		pt_buf_add(r->capture, p, n);
	else
		FCGX_PutStr(p, (int)n, r->fcgx->out);
}

void
pt_respond(struct pt_req *r, int status, const char *ctype, const char *body, size_t n)
{
	char head[128];
	assert(status >= 100 && status <= 599);
	if (r->responded)
		return;
	r->responded = true;
	r->status = status;
	/* a client told to come back is told when (RFC 9110 §10.2.3) */
	if ((status == 503 || status == 429) &&
	    (r->headers.n == 0 || strstr(r->headers.p, "Retry-After:") == NULL))
		pt_header(r, "Retry-After", "1");
	int k = snprintf(head, sizeof(head), "Status: %d %s\r\n", status, status_text(status));
	put(r, head, (size_t)k);
	if (ctype != NULL) {
		k = snprintf(head, sizeof(head), "Content-Type: %s\r\n", ctype);
		put(r, head, (size_t)k);
	}
	put(r, r->headers.p, r->headers.n);
	put(r, "\r\n", 2);
	if (n)
		put(r, body, n);
}

static void
page_headers(struct pt_req *r)
{
	pt_header(r, "Content-Security-Policy",
	    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self';"
	    " base-uri 'none'; frame-ancestors 'none'");
	pt_header(r, "X-Frame-Options", "DENY");
	pt_header(r, "Referrer-Policy", "no-referrer");
	pt_header(r, "X-Content-Type-Options", "nosniff");
	pt_header(r, "Cache-Control", "no-store");
}

void
pt_respond_page(struct pt_req *r, int status, const char *html, size_t n)
{
	page_headers(r);
	pt_respond(r, status, "text/html; charset=utf-8", html, n);
}

/* Values every page template may use. */
static void
page_common(struct pt_req *r, struct pt_tv *t)
{
	pt_tv_set(t, "base", r->ctx.cfg->base_path);
	pt_tv_set(t, "static", pt_path(r, "/oauth/static"));
	pt_tv_set(t, "site_name", r->ctx.cfg->site_name ? r->ctx.cfg->site_name : "postern");
	pt_tv_set(t, "csrf", pt_csrf_token(r));
	if (r->user != NULL) {
		pt_tv_set(t, "signed_in", "1");
		pt_tv_set(t, "user_name", r->user->name);
		if (r->ctx.cfg->login == PT_LOGIN_BUILTIN)
			pt_tv_set(t, "can_logout", "1");
	}
}

void
pt_page(struct pt_req *r, int status, const char *name, struct pt_tv *t)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	page_common(r, t);
	if (pt_tmpl_render(&b, name, t) != PT_OK) {
		pt_warn("template %s failed to render", name);
		static const char msg[] = "<!doctype html><title>Error</title><p>Internal error.</p>";
		pt_respond_page(r, 500, msg, sizeof(msg) - 1);
		return;
	}
	pt_respond_page(r, status, b.p, b.n);
}

void
pt_page_kv(struct pt_req *r, int status, const char *name, const char *const *kv)
{
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	for (size_t i = 0; kv[i] != NULL; i += 2)
		pt_tv_set(t, kv[i], kv[i + 1]);
	pt_page(r, status, name, t);
}

/* The link back to the page the browser came from (its Referer), when that is an http(s)
 * page: "back_url" and "back_label". A page of this site's origin is linked by its path,
 * another site's by its origin only: its path and query may hold that site's secrets, and
 * the default Referrer-Policy sends no more anyway. A link the person follows, never a
 * redirect: it leads nowhere the browser was not just before (no open redirector, RFC
 * 9700 §4.11.2), and the label names the host it leads to. */
static void
way_back(struct pt_req *r, struct pt_tv *t)
{
	const char *rest, *self;
	if (r->referer == NULL)
		return;
	char *origin = pt_uri_origin(r->ctx.a, r->referer, strlen(r->referer), &rest);
	if (origin == NULL)
		return;
	self = pt_uri_origin(r->ctx.a, r->ctx.cfg->base_url, strlen(r->ctx.cfg->base_url), NULL);
	if (self != NULL && strcmp(origin, self) == 0) {
		/* absolute, so a path of "//host" stays on this site */
		size_t k = strcspn(rest, "?#");
		pt_tv_url(t, "back_url", pt_printf(r->ctx.a, "%s%.*s", origin, (int)k, k ? rest : "/"));
		pt_tv_set(t, "back_label", "Back to the previous page");
		return;
	}
	pt_tv_url(t, "back_url", pt_printf(r->ctx.a, "%s/", origin));
	pt_tv_setf(t, "back_label", "Back to %s", strstr(origin, "://") + 3);
}

/* What an error page offers besides the header's links (Your apps, Approved apps and
 * Sign out, when signed in): the page the browser came from (way_back); the form again
 * after an expired form, the same page again when the server was busy (a GET, or a form
 * that form_again can open again); signing in (again,
 * when the session ended) for a signed-out user of the built-in login; and the site's
 * home (the base URL's origin), named by site_name. */
static void
error_ways(struct pt_req *r, enum pt_error e, struct pt_tv *t)
{
	int status = pt_error_status(e);
	bool get = !pt_is_post(r);
	/* A page behind a sign-in whose GET shows the form its POST came from (the apps and
	 * approved-apps pages). Not the consent page, whose GET restarts a request from a
	 * query the form does not carry, nor authorize, whose POST is the request itself. */
	bool form_again = r->route != NULL && (r->route->methods & PT_GET) &&
	    (r->route->needs & (PT_SESSION | PT_CSRF)) == (PT_SESSION | PT_CSRF);
	const char *here = r->query[0] ? pt_printf(r->ctx.a, "%s?%s", pt_path(r, r->path), r->query)
				       : pt_path(r, r->path);
	way_back(r, t);
	if (e == PT_E_CSRF && !get && form_again) {
		pt_tv_url(t, "retry_url", here);
		pt_tv_set(t, "retry_label", "Open the form again");
	} else if ((status == 502 || status == 503) && (get || form_again)) {
		pt_tv_url(t, "retry_url", here);
		pt_tv_set(t, "retry_label", "Try again");
	}
	if (r->user == NULL && r->ctx.cfg->login == PT_LOGIN_BUILTIN) {
		pt_tv_url(t, "sign_in_url", pt_path(r, "/oauth/login"));
		pt_tv_set(t, "sign_in_label", e == PT_E_SIGNED_OUT ? "Sign in again" : "Sign in");
	}
	const char *home = pt_uri_origin(r->ctx.a, r->ctx.cfg->base_url,
	    strlen(r->ctx.cfg->base_url), NULL);
	pt_tv_url(t, "home_url", home != NULL ? pt_printf(r->ctx.a, "%s/", home) : "/");
}

void
pt_error_page(struct pt_req *r, enum pt_error e, const char *title, const char *message)
{
	int status = pt_error_status(e);
	/* The header of a signed-in user stays on the error page. Not after a 5xx: the
	 * database may be what failed, and the page must not wait for it. */
	struct pt_user u;
	if (!r->user_looked_up && status < 500 && pt_session_user(r, &u) == PT_ERR_DB)
		pt_warn("the error page could not look up the session");
	struct pt_tv *t = pt_tv_new(r->ctx.a);
	pt_tv_set(t, "title", title);
	pt_tv_set(t, "message", message);
	error_ways(r, e, t);
	pt_page(r, status, "error", t);
}

void
pt_json(struct pt_req *r, int status, const pt_buf *json)
{
	pt_header(r, "Cache-Control", "no-store");
	pt_header(r, "Pragma", "no-cache");
	pt_respond(r, status, "application/json", json->p, json->n);
}

void
pt_json_error(struct pt_req *r, int status, const char *error, const char *desc)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"error\":");
	pt_buf_json(&b, error, strlen(error));
	if (desc != NULL) {
		pt_buf_adds(&b, ",\"error_description\":");
		pt_buf_json(&b, desc, strlen(desc));
	}
	pt_buf_addc(&b, '}');
	pt_json(r, status, &b);
}

void
pt_redirect(struct pt_req *r, const char *location)
{
	pt_header(r, "Location", location);
	pt_header(r, "Cache-Control", "no-store");
	pt_header(r, "Referrer-Policy", "no-referrer");
	pt_respond(r, 302, NULL, NULL, 0);
}

char *
pt_url(struct pt_req *r, const char *path)
{
	return pt_printf(r->ctx.a, "%s%s", r->ctx.cfg->base_url, path);
}

char *
pt_path(struct pt_req *r, const char *path)
{
	return pt_printf(r->ctx.a, "%s%s", r->ctx.cfg->base_path, path);
}

bool
pt_is_post(const struct pt_req *r)
{
	return strcmp(r->method, "POST") == 0;
}

int
pt_req_query(struct pt_req *r, const struct pt_field *f, size_t nf, struct pt_params *p,
    struct pt_fail *fail)
{
	return pt_parse_form(r->ctx.a, r->query, strlen(r->query), f, nf, p, fail);
}

static bool
ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int
pt_req_body(struct pt_req *r, const struct pt_field *f, size_t nf, struct pt_params *p,
    struct pt_fail *fail)
{
	if (r->body_len == 0) /* an empty body (the Postiz CLI sends one) has no parameters */
		return pt_parse_form(r->ctx.a, "", 0, f, nf, p, fail);
	if (ctype_is(r->content_type, "application/json"))
		return pt_parse_json(r->ctx.a, r->body, r->body_len, f, nf, p, fail);
	if (ctype_is(r->content_type, "multipart/form-data"))
		return pt_parse_multipart(r->ctx.a, r->content_type, r->body, r->body_len, f, nf, p, fail);
	if (ctype_is(r->content_type, "application/x-www-form-urlencoded") ||
	    (r->content_type[0] == '\0' && r->body_len == 0))
		return pt_parse_form(r->ctx.a, r->body, r->body_len, f, nf, p, fail);
	memset(p, 0, sizeof(*p));
	fail->param = "Content-Type";
	fail->reason = "must be application/x-www-form-urlencoded or application/json";
	return PT_ERR_INVALID;
}

/* ---------------------------------------------------------------- processes */

/* A supervisor (the process spawn-fcgi started) forks `processes NAME` workers that
 * all accept on the FastCGI socket, fd 0; the kernel hands each connection to one of
 * them, so a slow request (an Argon2id sign-in, a write waiting for the lock) holds up
 * only its own worker. A worker that dies is forked again at once, up to a burst per
 * window; past that the supervisor pauses, doubling the pause while they keep dying,
 * so a worker that cannot start is retried without spinning. */
#define RESTART_WINDOW_MS 1000   /* restarts are counted per window */
#define RESTART_BURST_MIN 4      /* restarts allowed per window (or the worker count) */
#define RESTART_PAUSE_MS  1000   /* the first pause after a burst */
#define RESTART_PAUSE_MAX_MS 30000
#define STOP_WAIT_MS      3000   /* SIGTERM to SIGKILL of the workers at shutdown */

/* Set by the worker's loop, read by its SIGTERM handler. */
static volatile sig_atomic_t worker_idle, worker_stopping;

/* A worker's SIGTERM: waiting for a connection it leaves at once; in a request it
 * finishes the request first. (A connection accepted in the instant before the loop
 * clears worker_idle is dropped: nginx answers that one 502, as it would a moment
 * later with every worker gone.) */
static void
worker_sigterm(int sig)
{
	(void)sig;
	if (worker_idle)
		_exit(0);
	worker_stopping = 1;
}

/* A worker's SIGHUP (forwarded by the supervisor): the audit log is reopened at its
 * next line (logrotate's postrotate may send one; a renamed file is noticed anyway). */
static void
worker_sighup(int sig)
{
	(void)sig;
	pt_audit_reopen();
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Monotonic nanoseconds: a vDSO read, no system call. */
static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec
ms_timespec(int64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
	return ts;
}

/* One worker: its own database handle and FastCGI state, then the request loop until
 * SIGTERM. Returns the exit status (the caller _exits with it). */
static int
worker(const struct pt_site *site, struct pt_config *cfg, pid_t supervisor, const sigset_t *mask,
    int index)
{
	const char *name = site->name;
	FCGX_Request fr;
	struct sigaction sa;

	/* never outlive the supervisor, even one killed with SIGKILL; it may have died
	 * between fork() and here */
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGTERM) != 0 || getppid() != supervisor)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sigterm;
	sa.sa_flags = SA_RESTART; /* a request's reads and writes never see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = worker_sighup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the supervisor, which stops the workers */
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_SETMASK, mask, NULL);

	pt_metrics_worker(index); /* its slot: a restarted worker counts on from its predecessor's */
	pt_hash_key(cfg->key);
	pt_tmpl_dirs(cfg->templates_dir, cfg->templates_override);
	pt_audit_open(cfg->audit_log);
	if (pt_db_open(cfg->database, cfg->sync) != PT_OK)
		return 1;
	pt_db_defer_checkpoints();
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0) {
		fprintf(stderr, "%s: FastCGI initialisation failed\n", name);
		return 1;
	}
	pt_arena *a = pt_arena_new();
	for (;;) {
		worker_idle = 1;
		if (worker_stopping) /* a SIGTERM during start-up or the last request */
			break;
		if (FCGX_Accept_r(&fr) < 0) {
			pt_warn("%s: accepting on the FastCGI socket failed", name);
			return 1;
		}
		worker_idle = 0;
		int64_t start = now_ns();
		struct pt_req r;
		memset(&r, 0, sizeof(r));
		r.fcgx = &fr;
		r.ctx = pt_ctx_init(a, cfg);
		pt_buf_init(&r.headers, a);
		pt_dispatch(&r, site);
		if (!r.responded) {
			pt_warn("%s: handler for %s sent no response", name, r.path);
			pt_fail(&r, PT_E_SERVER, NULL);
		}
		pt_rollback(); /* a handler that failed mid-transaction leaves nothing behind */
		/* counted before the answer leaves: whoever got it (a scrape right after, a
		 * test) finds it counted */
		pt_metrics_request(&r, now_ns() - start);
		FCGX_Finish_r(&fr);
		pt_arena_reset(a);
		/* answered: a checkpoint the request made due is taken now, while the other
		 * workers accept */
		pt_db_idle();
	}
	pt_arena_free(a);
	return 0;
}

/* Forks one worker; its pid, or -1. The child never returns. */
static pid_t
spawn(const struct pt_site *site, struct pt_config *cfg, const sigset_t *mask, int index)
{
	pid_t self = getpid();
	pid_t pid = fork();
	if (pid == 0)
		_exit(worker(site, cfg, self, mask, index));
	if (pid < 0)
		pt_warn("%s: fork: %s", site->name, strerror(errno));
	return pid;
}

/* Reaps every exited worker, clearing its slot; logs it unless stopping. Returns the
 * number still running. */
static int
reap(const char *name, pid_t *pids, int n, bool stopping)
{
	int st, alive = 0;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < n; i++)
			if (pids[i] == pid)
				pids[i] = 0;
		if (stopping)
			continue;
		if (WIFSIGNALED(st))
			pt_warn("%s: worker %d killed by signal %d; starting another", name, (int)pid,
			    WTERMSIG(st));
		else
			pt_warn("%s: worker %d exited with status %d; starting another", name,
			    (int)pid, WEXITSTATUS(st));
	}
	for (int i = 0; i < n; i++)
		alive += pids[i] > 0;
	return alive;
}

/* Sends SIGTERM to every worker and waits for them, SIGKILL after STOP_WAIT_MS. */
static void
stop_workers(const char *name, pid_t *pids, int n, const sigset_t *wait_set)
{
	for (int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	int64_t deadline = now_ms() + STOP_WAIT_MS;
	while (reap(name, pids, n, true) > 0) {
		int64_t left = deadline - now_ms();
		if (left <= 0) {
			pt_warn("%s: workers still running %d ms after SIGTERM: killing them", name,
			    STOP_WAIT_MS);
			for (int i = 0; i < n; i++)
				if (pids[i] > 0 && kill(pids[i], SIGKILL) == 0)
					waitpid(pids[i], NULL, 0);
			return;
		}
		struct timespec ts = ms_timespec(left);
		sigtimedwait(wait_set, NULL, &ts); /* a SIGCHLD, or the deadline */
	}
}

/* The supervisor's loop: keeps n workers running until SIGTERM or SIGINT. */
static int
supervise(const struct pt_site *site, struct pt_config *cfg, int n)
{
	const char *name = site->name;
	pid_t pids[PT_MAX_PROCESSES] = {0};
	sigset_t wait_set, mask;
	int burst = n > RESTART_BURST_MIN ? n : RESTART_BURST_MIN;
	int restarts = 0;
	int64_t window = now_ms(), resume = 0, pause = RESTART_PAUSE_MS;
	bool started = false;

	assert(n >= 1 && n <= PT_MAX_PROCESSES);
	sigemptyset(&wait_set);
	sigaddset(&wait_set, SIGCHLD);
	sigaddset(&wait_set, SIGTERM);
	sigaddset(&wait_set, SIGINT);
	sigaddset(&wait_set, SIGHUP); /* forwarded to the workers: reopen the audit log */
	signal(SIGCHLD, SIG_DFL); /* an inherited SIG_IGN would reap the workers unseen */
	/* blocked before the first fork and taken with sigtimedwait: no exit or stop is
	 * missed between two looks */
	sigprocmask(SIG_BLOCK, &wait_set, &mask);
	pt_info("%s: %d worker process%s", name, n, n == 1 ? "" : "es");
	for (;;) {
		reap(name, pids, n, false);
		int64_t t = now_ms();
		for (int i = 0; i < n && t >= resume; i++) {
			if (pids[i] > 0)
				continue;
			if (started) { /* a restart: counted against the burst */
				if (t - window >= RESTART_WINDOW_MS) {
					if (restarts < burst)
						pause = RESTART_PAUSE_MS; /* the last window was calm */
					window = t;
					restarts = 0;
				}
				if (restarts >= burst) {
					resume = t + pause;
					pt_warn("%s: %d workers restarted within %d ms; pausing %lld ms", name,
					    restarts, RESTART_WINDOW_MS, (long long)pause);
					pause = pause * 2 < RESTART_PAUSE_MAX_MS ? pause * 2 : RESTART_PAUSE_MAX_MS;
					break;
				}
				restarts++;
			}
			pids[i] = spawn(site, cfg, &mask, i);
			if (pids[i] < 0) {
				pids[i] = 0;
				resume = t + RESTART_PAUSE_MS;
				break;
			}
		}
		started = true;
		/* until a worker exits, a stop arrives, or a pause ends (a second at most:
		 * the loop looks at the workers again whatever happens) */
		int64_t wait = resume > t ? resume - t : 1000;
		struct timespec ts = ms_timespec(wait < 1000 ? wait : 1000);
		int sig = sigtimedwait(&wait_set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGHUP)
			for (int i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGHUP);
	}
	stop_workers(name, pids, n, &wait_set);
	return 0;
}

int
pt_serve(const struct pt_site *site)
{
	static struct pt_config cfg;
	const char *name = site->name;
	char err[512];
	int exe = pt_exe_by_name(name);

	assert(exe >= 0 && site->nroutes > 0 && site->max_body > 0);
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", name);
		return 1;
	}
	if (pt_config_load(&cfg, NULL, err, sizeof(err)) != PT_OK) {
		fprintf(stderr, "%s: %s\n", name, err);
		return 1;
	}
	if (!cfg.have_key) {
		fprintf(stderr, "%s: no secret key in %s: run `postern init` first\n", name,
		    cfg.secret_key_file);
		return 1;
	}
	pt_db_process_init();
	/* a fixed threshold: glibc raises it when a big block is freed (Argon2id frees one of
	 * 128 KiB at every sign-in), and with it the heap it keeps instead of returning
	 * (consent held 220 KiB of heap at rest instead of 108) */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* a database from an older postern is brought up to date before serving, once, by
	 * the supervisor; its handle is closed before any fork (an SQLite connection must
	 * never cross one) and each worker opens its own */
	if (pt_db_open(cfg.database, cfg.sync) != PT_OK)
		return 1;
	if (pt_db_init_schema(err, sizeof(err)) != PT_OK) {
		fprintf(stderr, "%s: %s: %s\n", name, cfg.database, err);
		return 1;
	}
	if (pt_db_close() != PT_OK)
		return 1;
	/* mapped once here, inherited by every worker (fork keeps a MAP_SHARED mapping) */
	pt_metrics_open(&cfg, site);
	return supervise(site, &cfg, (int)cfg.processes[exe]);
}
