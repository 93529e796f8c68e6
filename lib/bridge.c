/* bridge.c: the CLI's side of a device login bridged to an upstream provider
 * (POST /device/token with the upstream_* keys): pending, denied, expired, or the
 * upstream's token, collected once. The browser's side is in cgi/device.c. */
#include <string.h>

#include <sodium.h>

#include "store.h"

enum { BQ_POLL, BQ_COLLECT, BQ_DELETE, BQ__MAX };
static const char *const sql[BQ__MAX] = {
	[BQ_POLL] = "SELECT state, expires FROM bridge_devices WHERE hash = ?",
	/* collected once: the upstream's token leaves the database with its answer */
	[BQ_COLLECT] = ("DELETE FROM bridge_devices WHERE hash = ? AND state = 4 AND expires > ?"
			" RETURNING token, org"),
	[BQ_DELETE] = "DELETE FROM bridge_devices WHERE hash = ?",
};
static sqlite3_stmt *stmts[BQ__MAX];

static sqlite3_stmt *
stmt(int i)
{
	return pt_stmt_sql(&stmts[i], sql[i]);
}

static int
delete_row(const uint8_t h[PT_HASH_LEN])
{
	sqlite3_stmt *st = stmt(BQ_DELETE);
	if (st == NULL)
		return PT_ERR_DB;
	pt_bind_blob(st, 1, h, PT_HASH_LEN);
	return pt_exec(st);
}

/* POST /device/token, bridged: the reference server's answers. */
/* True for a row (rc of sqlite3_step); otherwise answers: no row is an unknown (or
 * already collected) device code, anything else a busy database. */
static bool
found(struct pt_req *r, int rc)
{
	if (rc == SQLITE_ROW)
		return true;
	if (rc == SQLITE_DONE)
		pt_fail(r, PT_E_INVALID_DEVICE_CODE, "the device code is not valid");
	else
		pt_fail(r, PT_E_BUSY, NULL);
	return false;
}

void
pt_bridge_token(struct pt_req *r, const char *code, size_t n)
{
	uint8_t h[PT_HASH_LEN], key[32];
	int64_t now = pt_now();
	if (code == NULL) {
		pt_fail(r, PT_E_INVALID_REQUEST, "device_code is missing");
		return;
	}
	if (!pt_token_check(code, n, "pdc_")) {
		pt_fail(r, PT_E_INVALID_DEVICE_CODE, "the device code is not valid");
		return;
	}
	pt_hash(h, code, n);
	sqlite3_stmt *st = stmt(BQ_POLL);
	if (st == NULL) {
		pt_fail(r, PT_E_BUSY, NULL);
		return;
	}
	pt_bind_blob(st, 1, h, sizeof(h));
	int rc = sqlite3_step(st);
	enum pt_bridge_state state = (enum pt_bridge_state)sqlite3_column_int(st, 0);
	int64_t expires = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (!found(r, rc))
		return;
	/* expired and denied requests are answered once, then forgotten */
	if (expires <= now || state == PT_BRIDGE_DENIED) {
		if (delete_row(h) == PT_ERR_BUSY) {
			pt_fail(r, PT_E_BUSY, NULL);
			return;
		}
		if (expires <= now)
			pt_fail(r, PT_E_EXPIRED_TOKEN, "the device code has expired; start again");
		else
			pt_fail(r, PT_E_ACCESS_DENIED, "the user denied the request");
		return;
	}
	if (state != PT_BRIDGE_READY) {
		pt_fail(r, PT_E_AUTHORIZATION_PENDING, "the user has not finished yet");
		return;
	}
	st = stmt(BQ_COLLECT);
	pt_bind_blob(st, 1, h, sizeof(h));
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	size_t tn = 0, on = 0;
	const uint8_t *sealed_token = rc == SQLITE_ROW ? pt_col_blob(r->ctx.a, st, 0, &tn) : NULL;
	const uint8_t *sealed_org = rc == SQLITE_ROW ? pt_col_blob(r->ctx.a, st, 1, &on) : NULL;
	sqlite3_reset(st);
	if (!found(r, rc)) /* SQLITE_DONE: another poll collected it a moment ago */
		return;
	pt_bridge_key(key, r->ctx.cfg->key);
	char *token = pt_unseal(r->ctx.a, key, h, sizeof(h), sealed_token, tn);
	char *org = sealed_org ? pt_unseal(r->ctx.a, key, h, sizeof(h), sealed_org, on) : NULL;
	sodium_memzero(key, sizeof(key));
	if (token == NULL || (sealed_org != NULL && org == NULL)) {
		/* the server key changed since it was sealed: nothing to retry */
		pt_warn("bridge: a stored upstream token did not open (was the secret key replaced?)");
		pt_fail(r, PT_E_SERVER, "the login could not be completed; start again");
		return;
	}
	pt_buf b;
	pt_buf_init(&b, r->ctx.a);
	pt_buf_adds(&b, "{\"access_token\":");
	pt_buf_json(&b, token, strlen(token));
	pt_buf_adds(&b, ",\"api_url\":");
	pt_buf_json(&b, r->ctx.cfg->upstream_api_url, strlen(r->ctx.cfg->upstream_api_url));
	if (org != NULL) {
		pt_buf_adds(&b, ",\"organization_id\":");
		pt_buf_json(&b, org, strlen(org));
	}
	pt_buf_addc(&b, '}');
	pt_json(r, 200, &b);
	sodium_memzero(b.p, b.n);
	sodium_memzero(token, strlen(token));
}
