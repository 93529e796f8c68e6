/* test_error.c: the error table (lib/error.c): every error has a status and an OAuth
 * error code, and the ones the wire contract names keep theirs. */
#include <string.h>

#include "unit.h"

static void
every_error_has_a_row(void)
{
	for (int e = PT_E_NONE + 1; e < PT_E__MAX; e++) {
		int s = pt_error_status((enum pt_error)e);
		const char *code = pt_error_code((enum pt_error)e);
		CHECK(s >= 400 && s <= 599);
		CHECK(code != NULL && *code != '\0');
	}
}

static void
contract_statuses(void)
{
	/* SPEC.md: Token endpoint, Protecting an existing site, Device login */
	CHECK_INT(pt_error_status(PT_E_INVALID_REQUEST), 400);
	CHECK_STR(pt_error_code(PT_E_INVALID_REQUEST), "invalid_request");
	CHECK_INT(pt_error_status(PT_E_CLIENT_AUTH), 401);
	CHECK_STR(pt_error_code(PT_E_CLIENT_AUTH), "invalid_client");
	CHECK_INT(pt_error_status(PT_E_INVALID_GRANT), 400);
	CHECK_INT(pt_error_status(PT_E_UNAUTHORIZED_CLIENT), 400);
	CHECK_INT(pt_error_status(PT_E_UNSUPPORTED_GRANT_TYPE), 400);
	CHECK_INT(pt_error_status(PT_E_INVALID_SCOPE), 400);
	CHECK_INT(pt_error_status(PT_E_INVALID_TOKEN), 401);
	CHECK_INT(pt_error_status(PT_E_INSUFFICIENT_SCOPE), 403);
	CHECK_STR(pt_error_code(PT_E_INSUFFICIENT_SCOPE), "insufficient_scope");
	CHECK_INT(pt_error_status(PT_E_AUTHORIZATION_PENDING), 400);
	CHECK_STR(pt_error_code(PT_E_AUTHORIZATION_PENDING), "authorization_pending");
	CHECK_STR(pt_error_code(PT_E_SLOW_DOWN), "slow_down");
	CHECK_STR(pt_error_code(PT_E_EXPIRED_TOKEN), "expired_token");
	CHECK_INT(pt_error_status(PT_E_BUSY), 503);
	CHECK_STR(pt_error_code(PT_E_BUSY), "temporarily_unavailable");
	CHECK_INT(pt_error_status(PT_E_NOT_FOUND), 404);
	CHECK_INT(pt_error_status(PT_E_METHOD), 405);
	CHECK_INT(pt_error_status(PT_E_METADATA_TOO_LARGE), 413);
	CHECK_STR(pt_error_code(PT_E_METADATA_TOO_LARGE), "invalid_client_metadata");
	CHECK_STR(pt_error_code(PT_E_REDIRECT_URI), "invalid_redirect_uri");
	CHECK_INT(pt_error_status(PT_E_TOO_MANY_GUESSES), 429);
}

void
suite_error(void)
{
	RUN(every_error_has_a_row);
	RUN(contract_statuses);
}
