/* device.c: device login. RFC 8628 device authorization and verification page, and the
 * Postiz CLI endpoints (/device/code, /device/token, /health). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

#define USER_CODE_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
#define USER_CODE_LEN 8
#define GUESS_WINDOW 900     /* seconds */
/* Wrong user codes per window: a signed-in user guesses for themself; an address may be a
 * NAT or a proxy with many people behind it, so it gets more; and every guess on the
 * server counts toward one cap, which bounds what a botnet of accounts can try against
 * the 32^8 user codes. */
#define GUESS_LIMIT_USER 10
#define GUESS_LIMIT_ADDR 100
#define GUESS_LIMIT_ALL  1000

enum { DQ_INSERT, DQ_BY_USER_CODE, DQ_DECIDE, DQ_ATTEMPT_GET, DQ_ATTEMPT_ADD, DQ__MAX };
static const char *const sql[DQ__MAX] = {
	[DQ_INSERT] = "INSERT INTO devices (hash, user_code, app_id, scope, interval, expires)"
		      " VALUES (?, ?, ?, ?, ?, ?)",
	[DQ_BY_USER_CODE] = "SELECT a.client_id, d.scope FROM devices d JOIN apps a ON a.id = d.app_id"
			    " WHERE d.user_code = ? AND d.state = 0 AND d.expires > ?",
	[DQ_DECIDE] = "UPDATE devices SET state = ?, user_id = ?, org_id = ?"
		      " WHERE user_code = ? AND state = 0 AND expires > ?",
	[DQ_ATTEMPT_GET] = "SELECT coalesce(sum(count), 0) FROM attempts WHERE key = ? AND window >= ?",
	[DQ_ATTEMPT_ADD] = "INSERT INTO attempts (key, window, count) VALUES (?, ?, 1)"
			   " ON CONFLICT (key, window) DO UPDATE SET count = count + 1",
};
static sqlite3_stmt *stmts[DQ__MAX];

static sqlite3_stmt *
stmt(int i)
{
	return pt_stmt_sql(&stmts[i], sql[i]);
}

enum { DA_CLIENT_ID, DA_CLIENT_SECRET, DA_SCOPE, DA_DEVICE_CODE, DA__MAX };
static const struct pt_field api_fields[DA__MAX] = {
	[DA_CLIENT_ID] = {"client_id", 128, NULL, 0},
	[DA_CLIENT_SECRET] = {"client_secret", 128, NULL, 0},
	[DA_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	[DA_DEVICE_CODE] = {"device_code", 128, NULL, 0},
};

enum { PG_CODE, PG_USER_CODE, PG_ACTION, PG_ORG, PG_CSRF, PG__MAX };
static const struct pt_field page_fields[PG__MAX] = {
	[PG_CODE] = {"code", 64, NULL, 0},
	[PG_USER_CODE] = {"user_code", 64, NULL, 0},
	[PG_ACTION] = {"action", 16, NULL, 0},
	[PG_ORG] = {"org", 20, NULL, 0},
	[PG_CSRF] = {"csrf", 64, NULL, 0},
};

/* ------------------------------------------------------------ API */

/* Issues a device code and user code for app (RFC 8628 §3.2). */
static void
issue(struct pt_req *r, const struct pt_app *app, const char *scope)
{
	char dc[PT_TOKEN_LEN + 1], uc[USER_CODE_LEN + 1];
	uint8_t h[PT_HASH_LEN];
	int64_t now = pt_now();
	bool done = false;
	pt_token_new(dc, "pdc_");
	pt_hash(h, dc, PT_TOKEN_LEN);
	/* user codes are unique among live requests: retry on the rare collision */
	for (int attempt = 0; attempt < 5 && !done; attempt++) {
		for (int i = 0; i < USER_CODE_LEN; i++)
			uc[i] = USER_CODE_ALPHABET[randombytes_uniform(32)];
		uc[USER_CODE_LEN] = '\0';
		sqlite3_stmt *st = stmt(DQ_INSERT);
		pt_bind_blob(st, 1, h, sizeof(h));
		pt_bind_text(st, 2, uc, USER_CODE_LEN);
		sqlite3_bind_int64(st, 3, app->id);
		pt_bind_text(st, 4, scope, strlen(scope));
		sqlite3_bind_int64(st, 5, r->cfg->device_interval);
		sqlite3_bind_int64(st, 6, now + r->cfg->device_code_ttl);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			done = true;
		else if (sqlite3_extended_errcode(pt_db()) != SQLITE_CONSTRAINT_UNIQUE)
			break;
	}
	if (!done) {
		pt_json_error(r, PT_UNAVAILABLE);
		return;
	}
	char pretty[USER_CODE_LEN + 2];
	snprintf(pretty, sizeof(pretty), "%.4s-%.4s", uc, uc + 4);
	char *verify = pt_url(r, "/oauth/device");
	const char *kv[] = {"code", pretty, NULL};
	char *complete = pt_uri_with_params(r->a, verify, kv);
	pt_buf b;
	pt_buf_init(&b, r->a);
	pt_buf_adds(&b, "{\"device_code\":");
	pt_buf_json(&b, dc, PT_TOKEN_LEN);
	pt_buf_adds(&b, ",\"user_code\":");
	pt_buf_json(&b, pretty, strlen(pretty));
	pt_buf_adds(&b, ",\"verification_uri\":");
	pt_buf_json(&b, verify, strlen(verify));
	pt_buf_adds(&b, ",\"verification_uri_complete\":");
	pt_buf_json(&b, complete, strlen(complete));
	pt_buf_addf(&b, ",\"expires_in\":%ld,\"interval\":%ld}", r->cfg->device_code_ttl,
	    r->cfg->device_interval);
	pt_json(r, 200, &b);
}

static bool
scope_for(struct pt_req *r, const struct pt_app *app, const char *want, const char **scope)
{
	const char *s = want && *want ? want : r->cfg->default_scope;
	if (!(want && *want) && *app->scopes && !pt_scope_subset(s, app->scopes))
		s = app->scopes;
	if (!pt_scopes_ok(r->cfg, s, strlen(s), app->scopes))
		return false;
	*scope = pt_scope_normalize(r->a, s);
	return true;
}

/* POST /oauth/device_authorization */
/* The POSTed body of a device API request, or false after a JSON error. */
static bool
api_body(struct pt_req *r, struct pt_params *p, const char *not_post)
{
	struct pt_fail fail;
	if (!pt_is_post(r)) {
		pt_header(r, "Allow", "POST");
		pt_json_error(r, 405, "invalid_request", not_post);
		return false;
	}
	if (pt_req_body(r, api_fields, DA__MAX, p, &fail) != PT_OK) {
		pt_json_error(r, 400, "invalid_request", pt_printf(r->a, "%s %s", fail.param, fail.reason));
		return false;
	}
	return true;
}

static void
device_authorization(struct pt_req *r)
{
	struct pt_params p;
	struct pt_app app;
	struct pt_client_fail cf;
	const char *scope;
	if (!api_body(r, &p, "device authorization takes POST"))
		return;
	if (pt_client_auth(r, p.v[DA_CLIENT_ID], p.n[DA_CLIENT_ID], p.v[DA_CLIENT_SECRET],
		p.n[DA_CLIENT_SECRET], &app, &cf) != PT_OK) {
		pt_client_fail_respond(r, &cf);
		return;
	}
	if (!pt_app_allows_grant(&app, "urn:ietf:params:oauth:grant-type:device_code")) {
		pt_json_error(r, 400, "unauthorized_client", "this client may not use the device flow");
		return;
	}
	if (!scope_for(r, &app, p.v[DA_SCOPE], &scope)) {
		pt_json_error(r, 400, "invalid_scope", "a requested scope is unknown or not allowed");
		return;
	}
	issue(r, &app, scope);
}

/* The app the Postiz CLI logs in with, named by cli_app in the config. */
static bool
cli_app(struct pt_req *r, struct pt_app *app)
{
	const char *id = r->cfg->cli_app;
	if (id == NULL || pt_app_get(r->a, id, strlen(id), app) != PT_OK) {
		pt_json_error(r, 400, "invalid_request", "device login for the CLI is not configured");
		return false;
	}
	return true;
}

/* POST /device/code and /device/token: the Postiz CLI's shape of the same flow. */
static void
postiz(struct pt_req *r, bool token)
{
	struct pt_params p;
	struct pt_app app;
	const char *scope;
	if (!api_body(r, &p, "use POST"))
		return;
	if (!cli_app(r, &app))
		return;
	if (token) {
		pt_device_token(r, &app, p.v[DA_DEVICE_CODE], p.n[DA_DEVICE_CODE], true);
		return;
	}
	if (!scope_for(r, &app, p.v[DA_SCOPE], &scope)) {
		pt_json_error(r, 400, "invalid_scope", "a requested scope is unknown or not allowed");
		return;
	}
	issue(r, &app, scope);
}

/* ------------------------------------------------------------ the page */

/* Uppercases, drops spaces and hyphens; false unless 8 characters of the alphabet. */
static bool
normalize(const char *in, size_t n, char out[USER_CODE_LEN + 1])
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)toupper((unsigned char)in[i]);
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (k == USER_CODE_LEN || strchr(USER_CODE_ALPHABET, c) == NULL || c == '\0')
			return false;
		out[k++] = c;
	}
	out[k] = '\0';
	return k == USER_CODE_LEN;
}

/* Guesses are counted in windows named by their start time; a count covers the
 * current and the previous window, so no 15-minute span allows more than the limit
 * (a fixed window alone would allow twice the limit across its boundary). */
static int64_t
window_start(void)
{
	int64_t now = pt_now();
	return now - now % GUESS_WINDOW;
}

/* Guesses counted under key since the window starting at since (an unreadable count
 * counts as over every limit). */
static int64_t
attempts(const char *key, int64_t since)
{
	sqlite3_stmt *st = stmt(DQ_ATTEMPT_GET);
	if (st == NULL)
		return INT32_MAX;
	pt_bind_text(st, 1, key, strlen(key));
	sqlite3_bind_int64(st, 2, since);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : INT32_MAX;
	sqlite3_reset(st);
	return n;
}

/* 0 when key may guess again, else the seconds until it may: the count covers this
 * window and the one before, so it falls when the one before drops out, or, when this
 * window alone is over the limit, when this one does. */
static int64_t
locked_for(const char *key, int64_t limit)
{
	int64_t w = window_start(), now = pt_now();
	if (attempts(key, w - GUESS_WINDOW) < limit)
		return 0;
	if (attempts(key, w) < limit)
		return w + GUESS_WINDOW - now;
	return w + 2 * GUESS_WINDOW - now;
}

static void
count_attempt(const char *key)
{
	sqlite3_stmt *st = stmt(DQ_ATTEMPT_ADD);
	pt_bind_text(st, 1, key, strlen(key));
	sqlite3_bind_int64(st, 2, window_start());
	if (pt_exec(st) != PT_OK)
		pt_warn("could not count a device code attempt");
}

static void
entry_page(struct pt_req *r, int status, const char *code, const char *error)
{
	struct pt_tv *t = pt_tv_new(r->a);
	pt_tv_set(t, "title", "Connect a device");
	pt_tv_set(t, "code", code);
	pt_tv_set(t, "error", error);
	pt_tv_set(t, "action", pt_path(r, "/oauth/device"));
	pt_page(r, status, "device", t);
}

static void
consent_page(struct pt_req *r, const struct pt_app *app, const char *scope, const char *uc,
    const struct pt_user *u)
{
	struct pt_tv *t = pt_consent_vars(r, app, scope, u, "/oauth/device");
	if (t == NULL)
		return;
	pt_tv_set(t, "device", "1");
	pt_tv_setf(t, "user_code", "%.4s-%.4s", uc, uc + 4);
	struct pt_tv *h = pt_tv_add(t, "hidden");
	pt_tv_set(h, "name", "user_code");
	pt_tv_set(h, "value", uc);
	pt_page(r, 200, "consent", t);
}

static void
message(struct pt_req *r, int status, const char *title, const char *msg)
{
	struct pt_tv *t = pt_tv_new(r->a);
	pt_tv_set(t, "title", title);
	pt_tv_set(t, "message", msg);
	pt_page(r, status, "message", t);
}

/* GET/POST /oauth/device (also /device/verify): enter or confirm the user code. */
static void
verify_page(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_user u;
	char uc[USER_CODE_LEN + 1];
	bool post = pt_is_post(r);
	int rc = post ? pt_req_body(r, page_fields, PG__MAX, &p, &fail)
		      : pt_req_query(r, page_fields, PG__MAX, &p, &fail);
	if (rc != PT_OK) {
		entry_page(r, 400, NULL, pt_printf(r->a, "The form is malformed: %s %s.", fail.param,
		    fail.reason));
		return;
	}
	/* after sign-in the user comes back to the code they typed or were sent */
	const char *typed = p.v[PG_USER_CODE] ? p.v[PG_USER_CODE] : p.v[PG_CODE];
	char *ret = pt_path(r, "/oauth/device");
	if (typed != NULL && *typed) {
		const char *kv[] = {"code", typed, NULL};
		ret = pt_uri_with_params(r->a, ret, kv);
	}
	if (!pt_signed_in(r, &u, ret))
		return;
	const char *given = p.v[PG_USER_CODE] ? p.v[PG_USER_CODE] : p.v[PG_CODE];
	if (given == NULL || (!post && p.n[PG_CODE] == 0)) {
		entry_page(r, 200, NULL, NULL);
		return;
	}
	if (post && !pt_csrf_ok(r, p.v[PG_CSRF], p.n[PG_CSRF])) {
		entry_page(r, 403, given, "The form expired or came from another site. Please try again.");
		return;
	}
	/* RFC 8628 §5.1: guesses are limited per user, per address and in all */
	const char *kaddr = pt_printf(r->a, "device:addr:%s", r->remote_addr);
	const char *kuser = pt_printf(r->a, "device:user:%lld", (long long)u.id);
	const char *kall = "device:all";
	int64_t wait = locked_for(kuser, GUESS_LIMIT_USER);
	if (wait == 0)
		wait = locked_for(kaddr, GUESS_LIMIT_ADDR);
	if (wait == 0)
		wait = locked_for(kall, GUESS_LIMIT_ALL);
	if (wait > 0) {
		long minutes = (long)((wait + 59) / 60);
		pt_header(r, "Retry-After", pt_printf(r->a, "%lld", (long long)wait));
		entry_page(r, 429, NULL, pt_printf(r->a, "Too many wrong codes. Try again in %ld minute%s "
		    "with the code your device shows.", minutes, minutes == 1 ? "" : "s"));
		return;
	}
	struct pt_app app;
	const char *scope = NULL;
	bool found = false;
	if (normalize(given, strlen(given), uc)) {
		sqlite3_stmt *st = stmt(DQ_BY_USER_CODE);
		pt_bind_text(st, 1, uc, USER_CODE_LEN);
		sqlite3_bind_int64(st, 2, pt_now());
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *cid = pt_col_text(r->a, st, 0);
			scope = pt_col_text(r->a, st, 1);
			sqlite3_reset(st);
			found = pt_app_get(r->a, cid, strlen(cid), &app) == PT_OK;
		} else {
			sqlite3_reset(st);
		}
	}
	if (!found) {
		count_attempt(kaddr);
		count_attempt(kuser);
		count_attempt(kall);
		/* the same answer for a malformed, unknown, used or expired code */
		entry_page(r, 400, given, "That code is not valid or has expired. Check the code on your device.");
		return;
	}
	const char *action = p.v[PG_ACTION];
	if (!post || action == NULL) {
		consent_page(r, &app, scope, uc, &u);
		return;
	}
	bool approve = strcmp(action, "approve") == 0;
	if (!approve && strcmp(action, "deny") != 0) {
		entry_page(r, 400, given, "action must be approve or deny.");
		return;
	}
	char *end = NULL;
	long long org = p.v[PG_ORG] ? strtoll(p.v[PG_ORG], &end, 10) : 0;
	if (approve) {
		sqlite3_stmt *st = pt_stmt(ST_USER_IN_ORG);
		sqlite3_bind_int64(st, 1, u.id);
		sqlite3_bind_int64(st, 2, org);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (p.v[PG_ORG] == NULL || *end != '\0' || rc != SQLITE_ROW) {
			entry_page(r, 403, given, "You are not a member of that organization.");
			return;
		}
	}
	sqlite3_stmt *st = stmt(DQ_DECIDE);
	sqlite3_bind_int(st, 1, approve ? 1 : 2);
	sqlite3_bind_int64(st, 2, u.id);
	if (approve)
		sqlite3_bind_int64(st, 3, org);
	pt_bind_text(st, 4, uc, USER_CODE_LEN);
	sqlite3_bind_int64(st, 5, pt_now());
	if (pt_exec(st) != PT_OK || sqlite3_changes(pt_db()) != 1) {
		entry_page(r, 400, NULL, "That code is not valid or has expired. Check the code on your device.");
		return;
	}
	if (approve)
		message(r, 200, "Device connected",
		    pt_printf(r->a, "%s is now connected to your account. You can close this page and go back to your device.", app.name));
	else
		message(r, 200, "Request denied",
		    "The device was not connected. You can close this page and go back to your device.");
}

static void
health(struct pt_req *r)
{
	pt_buf b;
	pt_buf_init(&b, r->a);
	pt_buf_adds(&b, "{\"status\":\"ok\"}");
	pt_json(r, 200, &b);
}

static void
handle(struct pt_req *r)
{
	const char *path = r->path;
	if (strcmp(path, "/oauth/device_authorization") == 0)
		device_authorization(r);
	else if (strcmp(path, "/oauth/device") == 0 || strcmp(path, "/device/verify") == 0)
		verify_page(r);
	else if (strcmp(path, "/device/code") == 0)
		postiz(r, false);
	else if (strcmp(path, "/device/token") == 0)
		postiz(r, true);
	else if (strcmp(path, "/health") == 0)
		health(r);
	else
		pt_json_error(r, 404, "not_found", "no such endpoint");
}

int
main(void)
{
	return pt_serve("device", PT_MAX_BODY, handle);
}
