/* store_device.c: the storage functions of the device grant and of bridged device logins
 * (their statements are the Q_DEVICE_ and Q_BRIDGE_ entries of sql.c). */
#include <string.h>

#include "store.h"

/* ------------------------------------------------------------ the device grant */

/* Q_DEVICE_GET */
static void
read_device(pt_arena *a, struct pt_st *st, struct pt_device_row *r)
{
	r->state = (enum pt_device_state)st_col_int(st, 0);
	r->user_id = st_col_int(st, 1);
	r->org_id = st_col_int(st, 2);
	r->interval = st_col_int(st, 3);
	r->polled = !st_col_null(st, 4);
	r->last_poll = st_col_int(st, 4);
	r->expires = st_col_int(st, 5);
	r->app_id = st_col_int(st, 6);
	r->scope = st_col_text(a, st, 7);
}

int
pt_db_device_get(pt_arena *a, const uint8_t hash[PT_HASH_LEN], struct pt_device_row *row)
{
	memset(row, 0, sizeof(*row));
	struct pt_st *st = st_get(Q_DEVICE_GET);
	st_blob(st, 1, hash, PT_HASH_LEN);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_device(a, st, row);
	st_reset(st);
	return PT_OK;
}

int
pt_db_device_poll(const uint8_t hash[PT_HASH_LEN], int64_t now, bool at_interval)
{
	struct pt_st *st = st_get(Q_DEVICE_POLL);
	st_int(st, 1, now);
	st_blob(st, 2, hash, PT_HASH_LEN);
	st_int(st, 3, at_interval ? 1 : 0);
	return st_exec_one(st);
}

int
pt_db_device_slow(const uint8_t hash[PT_HASH_LEN], int64_t now)
{
	struct pt_st *st = st_get(Q_DEVICE_SLOW);
	st_int(st, 1, now);
	st_blob(st, 2, hash, PT_HASH_LEN);
	return st_exec(st);
}

int
pt_db_device_collect(const uint8_t hash[PT_HASH_LEN])
{
	struct pt_st *st = st_get(Q_DEVICE_COLLECT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	return st_exec_one(st);
}

int
pt_db_device_insert(const uint8_t hash[PT_HASH_LEN], const char *user_code, int64_t app_id,
    const char *scope, int64_t interval, int64_t expires)
{
	struct pt_st *st = st_get(Q_DEVICE_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_text(st, 2, user_code);
	st_int(st, 3, app_id);
	st_text(st, 4, scope);
	st_int(st, 5, interval);
	st_int(st, 6, expires);
	return st_exec(st);
}

/* Q_DEVICE_BY_USER_CODE */
static void
read_device_pending(pt_arena *a, struct pt_st *st, struct pt_device_pending_row *r)
{
	r->client_id = st_col_text(a, st, 0);
	r->scope = st_col_text(a, st, 1);
}

int
pt_db_device_by_user_code(pt_arena *a, const char *user_code, int64_t now,
    struct pt_device_pending_row *row)
{
	memset(row, 0, sizeof(*row));
	struct pt_st *st = st_get(Q_DEVICE_BY_USER_CODE);
	st_text(st, 1, user_code);
	st_int(st, 2, now);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_device_pending(a, st, row);
	st_reset(st);
	return PT_OK;
}

int
pt_db_device_decide(const char *user_code, bool approve, int64_t user_id, int64_t org_id,
    int64_t now)
{
	struct pt_st *st = st_get(Q_DEVICE_DECIDE);
	st_int(st, 1, approve ? PT_DEVICE_APPROVED : PT_DEVICE_DENIED);
	st_int(st, 2, user_id);
	/* a denied request belongs to no organization */
	if (approve)
		st_int(st, 3, org_id);
	else
		st_null(st, 3);
	st_text(st, 4, user_code);
	st_int(st, 5, now);
	return st_exec_one(st);
}

/* ------------------------------------------------------------ bridged device logins */

int
pt_db_bridge_insert(const uint8_t hash[PT_HASH_LEN], const char *user_code, int64_t expires)
{
	struct pt_st *st = st_get(Q_BRIDGE_INSERT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_text(st, 2, user_code);
	st_int(st, 3, expires);
	return st_exec(st);
}

/* Q_BRIDGE_POLL */
static void
read_bridge_poll(struct pt_st *st, struct pt_bridge_poll_row *r)
{
	r->state = (int)st_col_int(st, 0);
	r->expires = st_col_int(st, 1);
}

int
pt_db_bridge_poll(const uint8_t hash[PT_HASH_LEN], struct pt_bridge_poll_row *row)
{
	memset(row, 0, sizeof(*row));
	struct pt_st *st = st_get(Q_BRIDGE_POLL);
	st_blob(st, 1, hash, PT_HASH_LEN);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	read_bridge_poll(st, row);
	st_reset(st);
	return PT_OK;
}

/* Q_BRIDGE_COLLECT (its RETURNING list) */
static void
read_bridge_token(pt_arena *a, struct pt_st *st, struct pt_bridge_token_row *r)
{
	r->token = st_col_blob(a, st, 0, &r->token_len);
	r->org = st_col_blob(a, st, 1, &r->org_len);
}

int
pt_db_bridge_collect(pt_arena *a, const uint8_t hash[PT_HASH_LEN], int64_t now,
    struct pt_bridge_token_row *row)
{
	memset(row, 0, sizeof(*row));
	struct pt_st *st = st_get(Q_BRIDGE_COLLECT);
	st_blob(st, 1, hash, PT_HASH_LEN);
	st_int(st, 2, now);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	/* one row at most (the hash is the key), deleted by the time it is read */
	read_bridge_token(a, st, row);
	st_reset(st);
	return PT_OK;
}

int
pt_db_bridge_delete(const uint8_t hash[PT_HASH_LEN])
{
	struct pt_st *st = st_get(Q_BRIDGE_DELETE);
	st_blob(st, 1, hash, PT_HASH_LEN);
	return st_exec(st);
}

/* Q_BRIDGE_BY_USER_CODE; false for a hash that is not PT_HASH_LEN bytes. */
static bool
read_bridge_hash(struct pt_st *st, uint8_t hash[PT_HASH_LEN])
{
	return st_col_fixed(st, 0, hash, PT_HASH_LEN);
}

int
pt_db_bridge_by_user_code(const char *user_code, int64_t now, uint8_t hash[PT_HASH_LEN])
{
	memset(hash, 0, PT_HASH_LEN);
	struct pt_st *st = st_get(Q_BRIDGE_BY_USER_CODE);
	st_text(st, 1, user_code);
	st_int(st, 2, now);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	bool ok = read_bridge_hash(st, hash);
	st_reset(st);
	if (!ok) {
		pt_warn("bridge_devices: a row with a malformed hash");
		return PT_ERR_DB;
	}
	return PT_OK;
}

int
pt_db_bridge_send(const uint8_t hash[PT_HASH_LEN], const uint8_t state_hash[PT_HASH_LEN],
    const uint8_t browser_hash[PT_HASH_LEN], const uint8_t *sealed_verifier, size_t n,
    int64_t now)
{
	struct pt_st *st = st_get(Q_BRIDGE_SEND);
	st_blob(st, 1, state_hash, PT_HASH_LEN);
	st_blob(st, 2, browser_hash, PT_HASH_LEN);
	st_blob(st, 3, sealed_verifier, n);
	st_blob(st, 4, hash, PT_HASH_LEN);
	st_int(st, 5, now);
	return st_exec_one(st);
}

/* Q_BRIDGE_BY_STATE; false when the hash or the browser is not PT_HASH_LEN bytes. */
static bool
read_bridge_sent(pt_arena *a, struct pt_st *st, struct pt_bridge_sent_row *r)
{
	bool ok = st_col_fixed(st, 0, r->hash, PT_HASH_LEN);
	ok = st_col_fixed(st, 1, r->browser, PT_HASH_LEN) && ok;
	r->verifier = st_col_blob(a, st, 2, &r->verifier_len);
	r->expires = st_col_int(st, 3);
	return ok;
}

int
pt_db_bridge_by_state(pt_arena *a, const uint8_t state_hash[PT_HASH_LEN],
    struct pt_bridge_sent_row *row)
{
	memset(row, 0, sizeof(*row));
	struct pt_st *st = st_get(Q_BRIDGE_BY_STATE);
	st_blob(st, 1, state_hash, PT_HASH_LEN);
	int rc = st_one(st);
	if (rc != PT_OK)
		return rc;
	bool ok = read_bridge_sent(a, st, row);
	st_reset(st);
	if (!ok) {
		pt_warn("bridge_devices: a sent row without its hash or browser");
		return PT_ERR_DB;
	}
	return PT_OK;
}

int
pt_db_bridge_take_state(const uint8_t hash[PT_HASH_LEN], const uint8_t state_hash[PT_HASH_LEN],
    int state)
{
	struct pt_st *st = st_get(Q_BRIDGE_TAKE_STATE);
	st_int(st, 1, state);
	st_blob(st, 2, hash, PT_HASH_LEN);
	st_blob(st, 3, state_hash, PT_HASH_LEN);
	return st_exec_one(st);
}

int
pt_db_bridge_ready(const uint8_t hash[PT_HASH_LEN], const uint8_t *token, size_t token_len,
    const uint8_t *org, size_t org_len)
{
	struct pt_st *st = st_get(Q_BRIDGE_READY);
	st_blob(st, 1, token, token_len);
	if (org != NULL)
		st_blob(st, 2, org, org_len);
	else
		st_null(st, 2);
	st_blob(st, 3, hash, PT_HASH_LEN);
	return st_exec_one(st);
}

int
pt_db_bridge_retry(const uint8_t hash[PT_HASH_LEN])
{
	struct pt_st *st = st_get(Q_BRIDGE_RETRY);
	st_blob(st, 1, hash, PT_HASH_LEN);
	return st_exec(st);
}
