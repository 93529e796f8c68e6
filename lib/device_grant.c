/* device_grant.c: collecting a device authorization (RFC 8628 §3.4), shared by the token
 * endpoint and the Postiz CLI's /device/token. */
#include <assert.h>
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "store.h"

#define USER_CODE_ALPHABET "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

enum { DV_GET, DV_SLOW, DV_POLL, DV_COLLECT, DV_INSERT, DV_BR_INSERT, DV__MAX };
static const char *const sql[DV__MAX] = {
	[DV_GET] = ("SELECT state, user_id, org_id, interval, last_poll, expires, app_id, scope"
		    " FROM devices WHERE hash = ?"),
	[DV_SLOW] = "UPDATE devices SET interval = interval + 5, last_poll = ? WHERE hash = ?",
	[DV_POLL] = "UPDATE devices SET last_poll = ? WHERE hash = ?",
	/* PT_DEVICE_APPROVED to PT_DEVICE_COLLECTED */
	[DV_COLLECT] = "UPDATE devices SET state = 3 WHERE hash = ? AND state = 1",
	[DV_INSERT] = "INSERT INTO devices (hash, user_code, app_id, scope, interval, expires)"
		      " VALUES (?, ?, ?, ?, ?, ?)",
	[DV_BR_INSERT] = "INSERT INTO bridge_devices (hash, user_code, expires) VALUES (?, ?, ?)",
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

int
pt_device_issue(const struct pt_ctx *ctx, const struct pt_app *app, const char *scope,
    char dc[PT_TOKEN_LEN + 1], char uc[PT_USER_CODE_LEN + 1])
{
	uint8_t h[PT_HASH_LEN];
	int64_t now = pt_now();
	int rc = SQLITE_ERROR;
	assert(app == NULL || scope != NULL);
	pt_token_new(dc, "pdc_");
	pt_hash(h, dc, PT_TOKEN_LEN);
	/* user codes are unique among live requests: retry on the rare collision */
	for (int attempt = 0; attempt < 5; attempt++) {
		for (int i = 0; i < PT_USER_CODE_LEN; i++)
			uc[i] = USER_CODE_ALPHABET[randombytes_uniform(32)];
		uc[PT_USER_CODE_LEN] = '\0';
		sqlite3_stmt *st = stmt(app != NULL ? DV_INSERT : DV_BR_INSERT);
		if (st == NULL)
			return PT_ERR_DB;
		pt_bind_blob(st, 1, h, sizeof(h));
		pt_bind_text(st, 2, uc, PT_USER_CODE_LEN);
		if (app != NULL) {
			sqlite3_bind_int64(st, 3, app->id);
			pt_bind_text(st, 4, scope, strlen(scope));
			sqlite3_bind_int64(st, 5, ctx->cfg->device_interval);
			sqlite3_bind_int64(st, 6, now + ctx->cfg->device_code_ttl);
		} else {
			sqlite3_bind_int64(st, 3, now + ctx->cfg->device_code_ttl);
		}
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return PT_OK;
		if (sqlite3_extended_errcode(pt_db()) != SQLITE_CONSTRAINT_UNIQUE)
			break;
	}
	return (rc & 0xff) == SQLITE_BUSY ? PT_ERR_BUSY : PT_ERR_DB;
}

bool
pt_user_code_normalize(const char *in, size_t n, char out[PT_USER_CODE_LEN + 1])
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)toupper((unsigned char)in[i]);
		if (c == ' ' || c == '-' || c == '\t')
			continue;
		if (k == PT_USER_CODE_LEN || strchr(USER_CODE_ALPHABET, c) == NULL || c == '\0')
			return false;
		out[k++] = c;
	}
	out[k] = '\0';
	return k == PT_USER_CODE_LEN;
}
