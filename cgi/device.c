/* device.c: device login. RFC 8628 device authorization and verification page, and the
 * Postiz CLI endpoints (/device/code, /device/token, /health): for postern's own apps, or,
 * with the upstream_* config keys, bridged to an upstream provider (/device/verify,
 * /device/callback). */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

enum { DA_CLIENT_ID, DA_CLIENT_SECRET, DA_SCOPE, DA_DEVICE_CODE, DA__MAX };
static const struct pt_field api_fields[DA__MAX] = {
	[DA_CLIENT_ID] = {"client_id", PT_MAX_CLIENT_ID_FIELD, pt_valid_text, 0},
	[DA_CLIENT_SECRET] = {"client_secret", PT_MAX_CLIENT_SECRET_FIELD, pt_valid_text, 0},
	[DA_SCOPE] = {"scope", PT_MAX_SCOPE, pt_valid_scope, 0},
	[DA_DEVICE_CODE] = {"device_code", PT_MAX_TOKEN_FIELD, pt_valid_text, 0},
};

enum { PG_CODE, PG_USER_CODE, PG_ACTION, PG_ORG, PG_CSRF, PG__MAX };
static const struct pt_field page_fields[PG__MAX] = {
	[PG_CODE] = {"code", PT_MAX_USER_CODE_FIELD, pt_valid_text, 0},
	[PG_USER_CODE] = {"user_code", PT_MAX_USER_CODE_FIELD, pt_valid_text, 0},
	[PG_ACTION] = {"action", PT_MAX_ACTION, pt_valid_text, 0},
	[PG_ORG] = {"org", PT_MAX_ID_FIELD, pt_valid_text, 0},
	[PG_CSRF] = {"csrf", PT_MAX_CSRF, pt_valid_text, 0},
};

/* ------------------------------------------------------------ API */

/* Issues a device code and user code (RFC 8628 §3.2): for app, or, with app NULL, a
 * device login bridged to the upstream, whose codes are entered at /device/verify. */
static void
issue(struct pt_req *r, const struct pt_app *app, const char *scope)
{
	char dc[PT_TOKEN_LEN + 1], uc[PT_USER_CODE_LEN + 1];
	if (pt_device_issue(&r->ctx, app, scope, dc, uc) != PT_OK) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	char pretty[PT_USER_CODE_LEN + 2];
	snprintf(pretty, sizeof(pretty), "%.4s-%.4s", uc, uc + 4);
	char *verify = pt_url(r, app != NULL ? "/oauth/device" : "/device/verify");
	const char *kv[] = {"code", pretty, NULL};
	char *complete = pt_uri_with_params(r->ctx.a, verify, kv);
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"device_code\":");
	pt_buf_json(&b, dc, PT_TOKEN_LEN);
	pt_buf_adds(&b, ",\"user_code\":");
	pt_buf_json(&b, pretty, strlen(pretty));
	pt_buf_adds(&b, ",\"verification_uri\":");
	pt_buf_json(&b, verify, strlen(verify));
	pt_buf_adds(&b, ",\"verification_uri_complete\":");
	pt_buf_json(&b, complete, strlen(complete));
	pt_buf_addf(&b, ",\"expires_in\":%ld,\"interval\":%ld}", r->ctx.cfg->device_code_ttl,
	    r->ctx.cfg->device_interval);
	pt_json(r, 200, &b);
}

/* Issues a device code for app with the scope it asks for (want; the default when
 * empty), or answers invalid_scope. */
static void
issue_for(struct pt_req *r, const struct pt_app *app, const char *want)
{
	const char *scope = pt_scope_for(&r->ctx, app, want);
	if (scope == NULL) {
		pt_fail(r, PT_E_INVALID_SCOPE, "a requested scope is unknown or not allowed");
		return;
	}
	issue(r, app, scope);
}

/* The POSTed body of a device API request, or false after a JSON error. */
static bool
api_body(struct pt_req *r, struct pt_params *p)
{
	struct pt_fail fail;
	if (pt_req_body(r, api_fields, DA__MAX, p, &fail) != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "%s %s", fail.param, fail.reason));
		return false;
	}
	return true;
}

/* POST /oauth/device_authorization */
static void
device_authorization(struct pt_req *r)
{
	struct pt_params p;
	struct pt_app app;
	if (!api_body(r, &p))
		return;
	if (!pt_client(r, p.v[DA_CLIENT_ID], p.n[DA_CLIENT_ID], p.v[DA_CLIENT_SECRET],
	    p.n[DA_CLIENT_SECRET], &app))
		return;
	if (!pt_app_allows_grant(&app, "urn:ietf:params:oauth:grant-type:device_code")) {
		pt_fail(r, PT_E_UNAUTHORIZED_CLIENT, "this client may not use the device flow");
		return;
	}
	issue_for(r, &app, p.v[DA_SCOPE]);
}

/* The app the Postiz CLI logs in with, named by cli_app in the config. */
static bool
cli_app(struct pt_req *r, struct pt_app *app)
{
	const char *id = r->ctx.cfg->cli_app;
	if (id == NULL || pt_app_get(r->ctx.a, id, strlen(id), app) != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, "device login for the CLI is not configured");
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
	if (!api_body(r, &p))
		return;
	if (r->ctx.cfg->bridge) {
		if (token)
			pt_bridge_token(r, p.v[DA_DEVICE_CODE], p.n[DA_DEVICE_CODE]);
		else
			issue(r, NULL, NULL);
		return;
	}
	if (!cli_app(r, &app))
		return;
	if (token)
		pt_device_token(r, &app, p.v[DA_DEVICE_CODE], p.n[DA_DEVICE_CODE], true, NULL);
	else
		issue_for(r, &app, p.v[DA_SCOPE]);
}

/* ------------------------------------------------------------ the page */

/* The code-entry form: posted, or in the query of a link (verification_uri_complete). */
static int
page_form(struct pt_req *r, struct pt_params *p, struct pt_fail *fail)
{
	return pt_is_post(r) ? pt_req_body(r, page_fields, PG__MAX, p, fail)
			     : pt_req_query(r, page_fields, PG__MAX, p, fail);
}

static void
entry_page(struct pt_req *r, int status, const char *code, const char *error)
{
	/* the bridge's page is /device/verify; postern's own is /oauth/device */
	bool bridged = r->ctx.cfg->bridge && strcmp(r->path, "/device/verify") == 0;
	const char *kv[] = {"title", "Connect a device", "code", code, "error", error, "action",
	    pt_path(r, bridged ? "/device/verify" : "/oauth/device"), NULL};
	pt_page_kv(r, status, "device", kv);
}

/* True after the 429 page when who (or its address, or everyone) is over a guess limit. */
static bool
too_many_guesses(struct pt_req *r, const char *who)
{
	int64_t wait = pt_guess_wait(r->ctx.a, who, r->remote_addr);
	if (wait <= 0)
		return false;
	long minutes = (long)((wait + 59) / 60);
	pt_header(r, "Retry-After", pt_printf(r->ctx.a, "%lld", (long long)wait));
	entry_page(r, pt_error_status(PT_E_TOO_MANY_GUESSES), NULL, pt_printf(r->ctx.a, "Too many wrong codes. Try again in %ld minute%s "
	    "with the code your device shows.", minutes, minutes == 1 ? "" : "s"));
	return true;
}

static void
consent_page(struct pt_req *r, const struct pt_app *app, const char *scope, const char *uc,
    const struct pt_user *u)
{
	const char *kv[] = {"code", uc, NULL};
	struct pt_tv *t = pt_consent_vars(r, app, scope, u, "/oauth/device",
	    pt_uri_with_params(r->ctx.a, pt_path(r, "/oauth/device"), kv));
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
	const char *kv[] = {"title", title, "message", msg, NULL};
	pt_page_kv(r, status, "message", kv);
}

/* GET/POST /oauth/device (also /device/verify): enter or confirm the user code. */
static void
verify_page(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	struct pt_user u;
	char uc[PT_USER_CODE_LEN + 1];
	bool post = pt_is_post(r);
	int rc = page_form(r, &p, &fail);
	if (rc != PT_OK) {
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), NULL, pt_printf(r->ctx.a, "The form is malformed: %s %s.", fail.param,
		    fail.reason));
		return;
	}
	/* after sign-in the user comes back to the code they typed or were sent */
	const char *typed = p.v[PG_USER_CODE] ? p.v[PG_USER_CODE] : p.v[PG_CODE];
	char *ret = pt_path(r, "/oauth/device");
	if (typed != NULL && *typed) {
		const char *kv[] = {"code", typed, NULL};
		ret = pt_uri_with_params(r->ctx.a, ret, kv);
	}
	if (!pt_signed_in(r, &u, ret))
		return;
	const char *given = p.v[PG_USER_CODE] ? p.v[PG_USER_CODE] : p.v[PG_CODE];
	if (given == NULL || (!post && p.n[PG_CODE] == 0)) {
		entry_page(r, 200, NULL, NULL);
		return;
	}
	if (post && !pt_csrf_ok(r, p.v[PG_CSRF], p.n[PG_CSRF])) {
		entry_page(r, pt_error_status(PT_E_CSRF), given, "The form expired or came from another site. Please try again.");
		return;
	}
	/* RFC 8628 §5.1: guesses are limited per user, per address and in all */
	const char *kuser = pt_printf(r->ctx.a, "device:user:%lld", (long long)u.id);
	if (too_many_guesses(r, kuser))
		return;
	struct pt_app app;
	struct pt_device_pending_row d = {0};
	rc = PT_ERR_NOTFOUND;
	if (pt_user_code_normalize(given, strlen(given), uc)) {
		rc = pt_db_device_by_user_code(r->ctx.a, uc, pt_now(), &d);
		if (rc == PT_OK)
			rc = pt_app_get(r->ctx.a, d.client_id, strlen(d.client_id), &app);
	}
	if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		/* a failed read is no wrong guess */
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
		return;
	}
	if (rc != PT_OK) {
		pt_guess_count(r->ctx.a, kuser, r->remote_addr);
		/* the same answer for a malformed, unknown, used or expired code */
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), given, "That code is not valid or has expired. Check the code on your device.");
		return;
	}
	const char *action = p.v[PG_ACTION];
	if (!post || action == NULL) {
		consent_page(r, &app, d.scope, uc, &u);
		return;
	}
	bool approve = strcmp(action, "approve") == 0;
	if (!approve && strcmp(action, "deny") != 0) {
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), given, "action must be approve or deny.");
		return;
	}
	long long org;
	bool org_ok = pt_strtonum(p.v[PG_ORG], 1, INT64_MAX, &org) == PT_OK;
	if (approve) {
		rc = org_ok ? pt_db_user_in_org(u.id, org) : PT_ERR_NOTFOUND;
		if (rc == PT_ERR_NOTFOUND) {
			entry_page(r, pt_error_status(PT_E_FORBIDDEN), given, "You are not a member of that organization.");
			return;
		}
		if (rc != PT_OK) {
			pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
			return;
		}
	}
	/* pending to answered, once: answered meanwhile (another tab) is not valid */
	rc = pt_db_device_decide(uc, approve, u.id, org_ok ? org : 0, pt_now());
	if (rc == PT_ERR_NOTFOUND) {
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), NULL, "That code is not valid or has expired. Check the code on your device.");
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
		return;
	}
	pt_audit(approve ? "device_approved" : "device_denied", true, PT_AS("user", u.name),
	    PT_AI("user_id", u.id), PT_AS("client_id", app.client_id),
	    PT_AI("org_id", approve ? org : 0), PT_AS("addr", r->remote_addr));
	if (approve)
		message(r, 200, "Device connected",
		    pt_printf(r->ctx.a, "%s is now connected to your account. You can close this page and go back to your device.", app.name));
	else
		message(r, 200, "Request denied",
		    "The device was not connected. You can close this page and go back to your device.");
}

/* ------------------------------------------------------------ the bridge */

/* A device login bridged to an upstream provider (the upstream_* config keys): the CLI
 * starts it here (/device/code), the person enters the user code at /device/verify and
 * is sent to the upstream's consent page with a fresh state bound to their browser; the
 * upstream comes back to /device/callback with a code, exchanged here for its token,
 * which the CLI's next poll (/device/token) collects. */

#define BRIDGE_COOKIE "postern_bridge"
#define BRIDGE_COOKIE_LEN 32
#define BRIDGE_STATE_LEN 43    /* base62: 256 bits */
#define BRIDGE_VERIFIER_LEN 43 /* RFC 7636 §4.1: 43..128 unreserved characters */

enum { CB_CODE, CB_STATE, CB_ERROR, CB_ERROR_DESC, CB__MAX };
static const struct pt_field callback_fields[CB__MAX] = {
	[CB_CODE] = {"code", PT_MAX_UPSTREAM_CODE, pt_valid_text, 0},
	[CB_STATE] = {"state", PT_MAX_STATE, pt_valid_text, 0},
	[CB_ERROR] = {"error", PT_MAX_OAUTH_ERROR, pt_valid_text, 0},
	[CB_ERROR_DESC] = {"error_description", PT_MAX_ERROR_DESC, pt_valid_text, 0},
};

/* This browser's binding cookie, set when it has none (or a malformed one). */
static const char *
bridge_browser(struct pt_req *r)
{
	const char *v;
	size_t n;
	if (pt_cookie_get(r->cookie, BRIDGE_COOKIE, &v, &n) && n == BRIDGE_COOKIE_LEN &&
	    pt_valid_b62ish(v, n))
		return pt_strndup(r->ctx.a, v, n);
	char b[BRIDGE_COOKIE_LEN + 1];
	pt_random_b62(b, BRIDGE_COOKIE_LEN);
	b[BRIDGE_COOKIE_LEN] = '\0';
	pt_cookie_set(r, BRIDGE_COOKIE, b, -1);
	return pt_strdup(r->ctx.a, b);
}

/* GET/POST /device/verify, bridged: the person enters the user code (no sign-in here:
 * the upstream signs them in) and is sent to the upstream's consent page. */
static void
bridge_page(struct pt_req *r)
{
	struct pt_params p;
	struct pt_fail fail;
	char uc[PT_USER_CODE_LEN + 1];
	bool post = pt_is_post(r);
	int rc = page_form(r, &p, &fail);
	const char *browser = bridge_browser(r);
	if (rc != PT_OK) {
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), NULL, pt_printf(r->ctx.a, "The form is malformed: %s %s.", fail.param,
		    fail.reason));
		return;
	}
	const char *given = p.v[PG_USER_CODE] ? p.v[PG_USER_CODE] : p.v[PG_CODE];
	if (!post || given == NULL) {
		entry_page(r, 200, given, NULL);
		return;
	}
	if (!pt_csrf_ok(r, p.v[PG_CSRF], p.n[PG_CSRF])) {
		entry_page(r, pt_error_status(PT_E_CSRF), given, "The form expired or came from another site. Please try again.");
		return;
	}
	/* RFC 8628 §5.1: guesses are limited per browser, per address and in all */
	uint8_t bh[PT_HASH_LEN];
	char bhex[33];
	pt_hash2(bh, "bridge-browser", browser, BRIDGE_COOKIE_LEN);
	sodium_bin2hex(bhex, sizeof(bhex), bh, 16);
	const char *kbrowser = pt_printf(r->ctx.a, "device:browser:%s", bhex);
	if (too_many_guesses(r, kbrowser))
		return;
	uint8_t row[PT_HASH_LEN];
	rc = PT_ERR_NOTFOUND;
	if (pt_user_code_normalize(given, strlen(given), uc))
		rc = pt_db_bridge_by_user_code(uc, pt_now(), row);
	if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		/* a failed read is no wrong guess */
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
		return;
	}
	if (rc != PT_OK) {
		pt_guess_count(r->ctx.a, kbrowser, r->remote_addr);
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), given, "That code is not valid or has expired. Check the code on your device.");
		return;
	}
	/* a fresh state for this request and this browser: never the device code, which
	 * would land in the upstream's logs */
	char state[BRIDGE_STATE_LEN + 1], verifier[BRIDGE_VERIFIER_LEN + 1], challenge[44];
	uint8_t sh[PT_HASH_LEN], key[32];
	size_t sealed_n;
	pt_random_b62(state, BRIDGE_STATE_LEN);
	state[BRIDGE_STATE_LEN] = '\0';
	pt_random_b62(verifier, BRIDGE_VERIFIER_LEN);
	verifier[BRIDGE_VERIFIER_LEN] = '\0';
	pt_pkce_s256(challenge, verifier, BRIDGE_VERIFIER_LEN);
	pt_hash2(sh, "bridge-state", state, BRIDGE_STATE_LEN);
	pt_bridge_key(key, r->ctx.cfg->key);
	uint8_t *sealed = pt_seal(r->ctx.a, key, row, sizeof(row), verifier, BRIDGE_VERIFIER_LEN, &sealed_n);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(verifier, sizeof(verifier));
	rc = pt_db_bridge_send(row, sh, bh, sealed, sealed_n, pt_now());
	if (rc != PT_OK && rc != PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
		return;
	}
	if (rc == PT_ERR_NOTFOUND) {
		entry_page(r, pt_error_status(PT_E_INVALID_REQUEST), given, "That code is not valid or has expired. Check the code on your device.");
		return;
	}
	const char *redirect = r->ctx.cfg->upstream_redirect_uri ? pt_url(r, "/device/callback") : NULL;
	const char *kv[] = {"client_id", r->ctx.cfg->upstream_client_id, "response_type", "code",
	    "state", state, "code_challenge", challenge, "code_challenge_method", "S256",
	    "redirect_uri", redirect, NULL};
	pt_see_other(r, pt_uri_with_params(r->ctx.a, r->ctx.cfg->upstream_authorize_url, kv));
	sodium_memzero(state, sizeof(state));
}

/* GET /device/callback: the upstream sends the browser back with a code (or an error)
 * and the state. */
static void
bridge_callback(struct pt_req *r)
{
	static const char used[] = "This sign-in link is not valid or was already used. Start "
				   "again by entering the code from your device.";
	struct pt_params p;
	struct pt_fail fail;
	if (pt_req_query(r, callback_fields, CB__MAX, &p, &fail) != PT_OK) {
		pt_fail(r, PT_E_INVALID_REQUEST, pt_printf(r->ctx.a, "The sign-in answer is malformed: "
		    "%s %s.", fail.param, fail.reason));
		return;
	}
	if (p.v[CB_STATE] == NULL) {
		pt_fail(r, PT_E_INVALID_REQUEST, used);
		return;
	}
	uint8_t sh[PT_HASH_LEN], bh[PT_HASH_LEN], key[32];
	pt_hash2(sh, "bridge-state", p.v[CB_STATE], p.n[CB_STATE]);
	struct pt_bridge_sent_row sent;
	int rc = pt_db_bridge_by_state(r->ctx.a, sh, &sent);
	if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_INVALID_REQUEST, used);
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
		return;
	}
	const uint8_t *row = sent.hash;
	if (sent.expires <= pt_now()) {
		pt_fail(r, PT_E_EXPIRED, "The login request has expired. Start again on your "
		    "device.");
		return;
	}
	/* only the browser that entered the code may finish it (and a forged link does not
	 * use the state up) */
	const char *v;
	size_t n;
	if (!pt_cookie_get(r->cookie, BRIDGE_COOKIE, &v, &n) || n != BRIDGE_COOKIE_LEN) {
		pt_fail(r, PT_E_INVALID_REQUEST, "Finish the login in the browser where you "
		    "entered the code.");
		return;
	}
	pt_hash2(bh, "bridge-browser", v, n);
	if (sodium_memcmp(bh, sent.browser, PT_HASH_LEN) != 0) {
		pt_fail(r, PT_E_INVALID_REQUEST, "Finish the login in the browser where you "
		    "entered the code.");
		return;
	}
	bool denied = p.v[CB_ERROR] != NULL && strcmp(p.v[CB_ERROR], "access_denied") == 0;
	/* the state is single-use: whoever takes it owns the callback */
	rc = pt_db_bridge_take_state(row, sh, denied ? PT_BRIDGE_DENIED : PT_BRIDGE_EXCHANGING);
	if (rc == PT_ERR_NOTFOUND) {
		pt_fail(r, PT_E_INVALID_REQUEST, used);
		return;
	}
	if (rc != PT_OK) {
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again in a moment.");
		return;
	}
	char hx[PT_AUDIT_HASH_HEX + 1];
	pt_audit_hash(hx, row);
	if (denied) {
		pt_audit("device_bridged", false, PT_AS("device_code_hash", hx),
		    PT_AS("reason", "denied at the upstream"), PT_AS("addr", r->remote_addr));
		/* told to the CLI at its next poll */
		message(r, 200, "Request denied",
		    "The device was not connected. You can close this page and go back to your device.");
		return;
	}
	struct pt_upstream_answer ans;
	char *verifier = NULL;
	if (p.v[CB_ERROR] != NULL) {
		const char *desc = p.v[CB_ERROR_DESC];
		pt_warn("bridge: the upstream sent back error %s", p.v[CB_ERROR]);
		pt_fail(r, PT_E_UPSTREAM_REFUSED,
		    pt_printf(r->ctx.a, "The sign-in service answered: %s%s%s. Start again by entering "
		    "the code from your device.", p.v[CB_ERROR], desc ? ": " : "", desc ? desc : ""));
		rc = PT_ERR_INVALID;
	} else if (p.v[CB_CODE] == NULL || p.n[CB_CODE] == 0) {
		pt_fail(r, PT_E_INVALID_REQUEST, "The sign-in answer has no code. Start again by "
		    "entering the code from your device.");
		rc = PT_ERR_MISSING;
	} else {
		pt_bridge_key(key, r->ctx.cfg->key);
		verifier = pt_unseal(r->ctx.a, key, row, PT_HASH_LEN, sent.verifier, sent.verifier_len);
		sodium_memzero(key, sizeof(key));
		if (verifier == NULL) {
			pt_warn("bridge: a stored PKCE verifier did not open (was the secret key replaced?)");
			pt_fail(r, PT_E_SERVER, "The login could not be completed. Start again on "
			    "your device.");
			rc = PT_ERR_INVALID;
		} else {
			struct pt_upstream_fail why;
			rc = pt_upstream_exchange(r->ctx.a, r->ctx.cfg, p.v[CB_CODE], verifier, &ans, &why);
			if (rc != PT_OK)
				pt_fail(r, why.error, why.message);
			sodium_memzero(verifier, strlen(verifier));
		}
	}
	if (rc != PT_OK) {
		pt_audit("device_bridged", false, PT_AS("device_code_hash", hx),
		    PT_AS("reason", "the upstream's answer failed"), PT_AS("addr", r->remote_addr));
		/* the person may enter the code again; the CLI keeps waiting meanwhile */
		if (pt_db_bridge_retry(row) != PT_OK)
			pt_warn("bridge: could not reopen a login request");
		return;
	}
	size_t tn, on = 0;
	pt_bridge_key(key, r->ctx.cfg->key);
	uint8_t *token = pt_seal(r->ctx.a, key, row, PT_HASH_LEN, ans.access_token,
	    strlen(ans.access_token), &tn);
	uint8_t *org = ans.org ? pt_seal(r->ctx.a, key, row, PT_HASH_LEN, ans.org, strlen(ans.org), &on)
			       : NULL;
	sodium_memzero(key, sizeof(key));
	sodium_memzero((char *)ans.access_token, strlen(ans.access_token));
	if (pt_db_bridge_ready(row, token, tn, org, on) != PT_OK) {
		if (pt_db_bridge_retry(row) != PT_OK)
			pt_warn("bridge: could not reopen a login request");
		pt_fail(r, PT_E_BUSY, "The server is busy. Please try again: enter the "
		    "code from your device again.");
		return;
	}
	pt_audit("device_bridged", true, PT_AS("device_code_hash", hx), PT_AB("org", ans.org != NULL),
	    PT_AS("addr", r->remote_addr));
	message(r, 200, "Device connected", "You are signed in. You can close this page and go "
	    "back to your device.");
}

static void
postiz_code(struct pt_req *r)
{
	postiz(r, false);
}

static void
postiz_token(struct pt_req *r)
{
	postiz(r, true);
}

static void
health(struct pt_req *r)
{
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"status\":\"ok\"}");
	pt_json(r, 200, &b);
}

/* The first row that matches wins: with the upstream_* keys /device/verify is the
 * bridge's page, without them the same page as /oauth/device. */
static const struct pt_route routes[] = {
	/* methods         path                           face     needs      handler */
	{PT_POST,          "/oauth/device_authorization", PT_API,  PT_CLIENT, device_authorization},
	{PT_ANY,           "/device/verify",              PT_PAGE, PT_BRIDGE | PT_CSRF, bridge_page},
	{PT_ANY,           "/device/callback",            PT_PAGE, PT_BRIDGE, bridge_callback},
	{PT_ANY,           "/oauth/device",               PT_PAGE, PT_CSRF,   verify_page},
	{PT_ANY,           "/device/verify",              PT_PAGE, PT_CSRF,   verify_page},
	{PT_POST,          "/device/code",                PT_API,  0,         postiz_code},
	{PT_POST,          "/device/token",               PT_API,  0,         postiz_token},
	{PT_ANY,           "/health",                     PT_API,  0,         health},
};

int
main(void)
{
	static const struct pt_site site = {"device", PT_MAX_BODY, PT_API, "/oauth/device", routes,
	    sizeof(routes) / sizeof(routes[0])};
	return pt_serve(&site);
}
