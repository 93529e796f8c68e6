/* error.c: the one table of error answers (status, OAuth error, page wording,
 * WWW-Authenticate) and pt_fail, which answers from it in JSON or HTML. */
#include <assert.h>
#include <string.h>

#include "postern.h"

/* One row per error. desc: the JSON error_description when the caller gives none;
 * title and text: the error page's heading and message when the caller gives none. */
struct row {
	int status;
	const char *error;
	const char *desc;
	const char *title;
	const char *text;
	enum pt_challenge challenge;
};

#define BUSY_TEXT "The server is busy. Please try again in a moment."

static const struct row rows[PT_E__MAX] = {
	[PT_E_INVALID_REQUEST] = {400, "invalid_request", "the request is malformed", "Bad request",
	    "The request is malformed.", PT_CHALLENGE_NONE},
	[PT_E_NOT_FOUND] = {404, "not_found", "no such endpoint", "Not found",
	    "There is no page at this address.", PT_CHALLENGE_NONE},
	[PT_E_METHOD] = {405, "invalid_request", "this endpoint does not take this method",
	    "Method not allowed", "This page does not take this method.", PT_CHALLENGE_NONE},
	[PT_E_CLIENT_AUTH] = {401, "invalid_client", "client authentication failed",
	    "Client authentication failed", "Client authentication failed.", PT_CHALLENGE_BASIC},
	[PT_E_INVALID_GRANT] = {400, "invalid_grant", "the grant is not valid", "Bad request",
	    "The grant is not valid.", PT_CHALLENGE_NONE},
	[PT_E_UNAUTHORIZED_CLIENT] = {400, "unauthorized_client",
	    "this client may not use this grant type", "Bad request",
	    "This application may not do that.", PT_CHALLENGE_NONE},
	[PT_E_UNSUPPORTED_GRANT_TYPE] = {400, "unsupported_grant_type", "grant_type is not supported",
	    "Bad request", "grant_type is not supported.", PT_CHALLENGE_NONE},
	[PT_E_INVALID_SCOPE] = {400, "invalid_scope", "a requested scope is unknown or not allowed",
	    "Bad request", "A requested scope is unknown or not allowed.", PT_CHALLENGE_NONE},
	[PT_E_INVALID_TARGET] = {400, "invalid_target", "resource is not valid", "Bad request",
	    "The resource is not valid.", PT_CHALLENGE_NONE},
	[PT_E_CLIENT_METADATA] = {400, "invalid_client_metadata", "the client metadata is not valid",
	    "Bad request", "The client metadata is not valid.", PT_CHALLENGE_NONE},
	[PT_E_REDIRECT_URI] = {400, "invalid_redirect_uri", "a redirect URI is not valid",
	    "Bad request", "A redirect URI is not valid.", PT_CHALLENGE_NONE},
	[PT_E_METADATA_TOO_LARGE] = {413, "invalid_client_metadata", "the body is too large",
	    "Bad request", "The body is too large.", PT_CHALLENGE_NONE},
	[PT_E_REGISTRATION_OFF] = {403, "access_denied", "registration is disabled", "Not allowed",
	    "Registration is disabled.", PT_CHALLENGE_NONE},
	[PT_E_AUTHORIZATION_PENDING] = {400, "authorization_pending", "the user has not acted yet",
	    "Bad request", "The user has not acted yet.", PT_CHALLENGE_NONE},
	[PT_E_SLOW_DOWN] = {400, "slow_down", "poll less often", "Bad request", "Poll less often.",
	    PT_CHALLENGE_NONE},
	[PT_E_ACCESS_DENIED] = {400, "access_denied", "the user denied the request", "Bad request",
	    "The user denied the request.", PT_CHALLENGE_NONE},
	[PT_E_EXPIRED_TOKEN] = {400, "expired_token", "the device code has expired; start again",
	    "Bad request", "The device code has expired.", PT_CHALLENGE_NONE},
	[PT_E_INVALID_DEVICE_CODE] = {400, "invalid_device_code", "the device code is not valid",
	    "Bad request", "The device code is not valid.", PT_CHALLENGE_NONE},
	[PT_E_INVALID_TOKEN] = {401, "invalid_token", "the access token is not valid", "Not signed in",
	    "The access token is not valid.", PT_CHALLENGE_BEARER},
	[PT_E_INSUFFICIENT_SCOPE] = {403, "insufficient_scope", "the token lacks a required scope",
	    "Not allowed", "The token lacks a required scope.", PT_CHALLENGE_BEARER},
	[PT_E_BUSY] = {503, "temporarily_unavailable", "the server is busy; retry shortly",
	    "Server busy", BUSY_TEXT, PT_CHALLENGE_NONE},
	[PT_E_SERVER] = {500, "server_error", "internal error", "Error", "Internal error.",
	    PT_CHALLENGE_NONE},
	[PT_E_CSRF] = {403, "invalid_request", "the form expired or came from another site",
	    "Form expired",
	    "The form expired or came from another site. Open it again and retry.",
	    PT_CHALLENGE_NONE},
	[PT_E_FORBIDDEN] = {403, "access_denied", "not allowed", "Not allowed",
	    "You may not do that.", PT_CHALLENGE_NONE},
	[PT_E_SIGNED_OUT] = {403, "access_denied", "not signed in", "Not signed in",
	    "Your session ended. Go back to the application and start again.", PT_CHALLENGE_NONE},
	[PT_E_SIGN_IN_REQUIRED] = {403, "access_denied", "sign-in required", "Sign-in required",
	    "This server takes sign-in from the site, and none was provided.", PT_CHALLENGE_NONE},
	[PT_E_NOT_SIGNED_OUT] = {403, "invalid_request", "not signed out", "Not signed out",
	    "The sign-out form expired or came from another site.", PT_CHALLENGE_NONE},
	[PT_E_CLIENT_DOCUMENT] = {400, "invalid_client", "the client's metadata document is not usable",
	    "Unusable application", "The application's metadata document could not be used.",
	    PT_CHALLENGE_NONE},
	[PT_E_BAD_AUTHZ] = {400, "invalid_request", "the authorization request is not valid",
	    "Invalid authorization request", "The authorization request is not valid.",
	    PT_CHALLENGE_NONE},
	[PT_E_ANSWERED] = {400, "invalid_request", "the request was already answered",
	    "Request already answered",
	    "This authorization request was already answered, or it expired. Go back to the "
	    "application and start again.", PT_CHALLENGE_NONE},
	[PT_E_NO_SECRET] = {400, "invalid_request", "a public app has no secret", "No secret",
	    "A public app has no secret to rotate.", PT_CHALLENGE_NONE},
	[PT_E_EXPIRED] = {400, "invalid_request", "the request has expired", "Expired",
	    "The request has expired.", PT_CHALLENGE_NONE},
	[PT_E_UPSTREAM_DOWN] = {502, "temporarily_unavailable", "the upstream did not answer",
	    "The sign-in service did not answer", "The sign-in service could not be reached.",
	    PT_CHALLENGE_NONE},
	[PT_E_UPSTREAM_REFUSED] = {502, "access_denied", "the upstream refused the login",
	    "The sign-in service refused the login", "The sign-in service refused the login.",
	    PT_CHALLENGE_NONE},
	[PT_E_UPSTREAM_UNREADABLE] = {502, "server_error", "the upstream's answer is unreadable",
	    "The sign-in service sent an unreadable answer",
	    "The sign-in service sent an answer this server could not read.", PT_CHALLENGE_NONE},
	[PT_E_SIGN_IN_FAILED] = {401, "access_denied", "wrong user name or password", "Sign in",
	    "Wrong user name or password.", PT_CHALLENGE_NONE},
	[PT_E_INVALID_DPOP_PROOF] = {400, "invalid_dpop_proof", "the DPoP proof is not valid",
	    "Bad request", "The DPoP proof is not valid.", PT_CHALLENGE_NONE},
	[PT_E_USE_DPOP_NONCE] = {400, "use_dpop_nonce", "a DPoP nonce is required; use the one in DPoP-Nonce",
	    "Bad request", "A DPoP nonce is required.", PT_CHALLENGE_NONE},
	[PT_E_TOO_MANY_GUESSES] = {429, "too_many_requests", "too many wrong codes",
	    "Too many wrong codes", "Too many wrong codes. Try again later.", PT_CHALLENGE_NONE},
};

int
pt_error_status(enum pt_error e)
{
	assert(e > PT_E_NONE && e < PT_E__MAX && rows[e].status != 0);
	return rows[e].status;
}

const char *
pt_error_code(enum pt_error e)
{
	assert(e > PT_E_NONE && e < PT_E__MAX && rows[e].error != NULL);
	return rows[e].error;
}

void
pt_fail(struct pt_req *r, enum pt_error e, const char *detail)
{
	assert(e > PT_E_NONE && e < PT_E__MAX);
	const struct row *w = &rows[e];
	/* an error answer never leaves a transaction open behind it */
	pt_rollback();
	if (w->challenge == PT_CHALLENGE_BASIC)
		pt_header(r, "WWW-Authenticate", "Basic realm=\"postern\", charset=\"UTF-8\"");
	else if (w->challenge == PT_CHALLENGE_BEARER)
		pt_header(r, "WWW-Authenticate", pt_printf(r->ctx.a,
		    "Bearer realm=\"postern\", error=\"%s\", error_description=\"%s\"", w->error,
		    detail ? detail : w->desc));
	if (r->face == PT_API)
		pt_json_error(r, w->status, w->error, detail ? detail : w->desc);
	else
		pt_error_page(r, e, w->title, detail ? detail : w->text);
}
