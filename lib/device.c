/* device.c: collecting a device authorization (RFC 8628 §3.4), shared by the token
 * endpoint and the Postiz CLI's /device/token. */
#include <string.h>

#include <sodium.h>

#include "postern.h"

enum { DV_GET, DV_SLOW, DV_POLL, DV_COLLECT, DV__MAX };
static const char *const sql[DV__MAX] = {
	[DV_GET] = ("SELECT state, user_id, org_id, interval, last_poll, expires, app_id, scope"
		    " FROM devices WHERE hash = ?"),
	[DV_SLOW] = "UPDATE devices SET interval = interval + 5, last_poll = ? WHERE hash = ?",
	[DV_POLL] = "UPDATE devices SET last_poll = ? WHERE hash = ?",
	/* PT_DEVICE_APPROVED to PT_DEVICE_COLLECTED */
	[DV_COLLECT] = "UPDATE devices SET state = 3 WHERE hash = ? AND state = 1",
};
static sqlite3_stmt *stmts[DV__MAX];

static sqlite3_stmt *
stmt(int i)
{
	return pt_stmt_sql(&stmts[i], sql[i]);
}

/* pt_fail rolls back the transaction before it answers. */
#define FAIL(e, desc) do { pt_fail(r, (e), (desc)); return; } while (0)

void
pt_device_token(struct pt_req *r, const struct pt_app *app, const char *code, size_t n,
    bool postiz)
{
	uint8_t h[PT_HASH_LEN];
	struct pt_issued out;
	int64_t now = pt_now();

	if (code == NULL)
		FAIL(PT_E_INVALID_REQUEST, "device_code is missing");
	if (!pt_token_check(code, n, "pdc_"))
		FAIL(postiz ? PT_E_INVALID_REQUEST : PT_E_INVALID_GRANT, "the device code is not valid");
	pt_hash(h, code, n);
	if (pt_begin() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	sqlite3_stmt *st = stmt(DV_GET);
	pt_bind_blob(st, 1, h, sizeof(h));
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			FAIL(postiz ? PT_E_EXPIRED_TOKEN : PT_E_INVALID_GRANT, "the device code is not valid");
		FAIL(PT_E_BUSY, NULL);
	}
	enum pt_device_state state = (enum pt_device_state)sqlite3_column_int(st, 0);
	int64_t user = sqlite3_column_int64(st, 1);
	int64_t org = sqlite3_column_int64(st, 2);
	int64_t interval = sqlite3_column_int64(st, 3);
	bool polled = sqlite3_column_type(st, 4) != SQLITE_NULL;
	int64_t last_poll = sqlite3_column_int64(st, 4);
	int64_t expires = sqlite3_column_int64(st, 5);
	int64_t app_id = sqlite3_column_int64(st, 6);
	const char *scope = pt_col_text(r->ctx.a, st, 7);
	sqlite3_reset(st);

	if (app_id != app->id)
		FAIL(PT_E_INVALID_GRANT, "the device code was issued to another client");
	if (expires <= now)
		FAIL(PT_E_EXPIRED_TOKEN, "the device code has expired; start again");
	switch (state) {
	case PT_DEVICE_PENDING:
		/* RFC 8628 §3.5: polling too fast adds 5 s to this code's interval. Not for
		 * the Postiz CLI: it gives up on any error but authorization_pending, and
		 * network jitter alone can make its polls arrive early. */
		if (!postiz && polled && now - last_poll < interval) {
			st = stmt(DV_SLOW);
			sqlite3_bind_int64(st, 1, now);
			pt_bind_blob(st, 2, h, sizeof(h));
			if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
				FAIL(PT_E_BUSY, NULL);
			FAIL(PT_E_SLOW_DOWN, "poll less often");
		}
		st = stmt(DV_POLL);
		sqlite3_bind_int64(st, 1, now);
		pt_bind_blob(st, 2, h, sizeof(h));
		if (pt_exec(st) != PT_OK || pt_commit() != PT_OK)
			FAIL(PT_E_BUSY, NULL);
		FAIL(PT_E_AUTHORIZATION_PENDING, "the user has not acted yet");
	case PT_DEVICE_DENIED:
		FAIL(PT_E_ACCESS_DENIED, "the user denied the request");
	case PT_DEVICE_APPROVED:
		break;
	case PT_DEVICE_COLLECTED:
	default:
		FAIL(PT_E_INVALID_GRANT, "the device code was already used");
	}
	st = stmt(DV_COLLECT);
	pt_bind_blob(st, 1, h, sizeof(h));
	if (pt_exec(st) != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (sqlite3_changes(pt_db()) != 1)
		FAIL(PT_E_INVALID_GRANT, "the device code was already used");
	int64_t grant;
	rc = pt_grant_record(&r->ctx, user, app->id, org, scope, NULL, &grant);
	if (rc == PT_ERR_NOTFOUND)
		/* the user left the organization after approving: nothing is issued for it */
		FAIL(PT_E_ACCESS_DENIED, "the approval no longer holds; start again");
	if (rc != PT_OK || pt_tokens_issue(&r->ctx, grant, scope, NULL, NULL, NULL, 0, &out) != PT_OK ||
	    pt_commit() != PT_OK)
		FAIL(PT_E_BUSY, NULL);
	if (!postiz) {
		pt_token_response(r, &out, scope, org);
	} else {
		pt_buf b;
		pt_buf_init(&b, r->ctx.a);
		pt_buf_adds(&b, "{\"access_token\":");
		pt_buf_json(&b, out.access, PT_TOKEN_LEN);
		pt_buf_adds(&b, ",\"token_type\":\"Bearer\",\"api_url\":");
		pt_buf_json(&b, r->ctx.cfg->api_url, strlen(r->ctx.cfg->api_url));
		pt_buf_addf(&b, ",\"organization_id\":\"%lld\"}", (long long)org);
		pt_json(r, 200, &b);
		sodium_memzero(b.p, b.n);
	}
	sodium_memzero(&out, sizeof(out));
}
