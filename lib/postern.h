/* postern.h: the interface of the shared library every postern executable links. */
#ifndef POSTERN_H
#define POSTERN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PT_WUR __attribute__((warn_unused_result))
#define PT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Error values: 0 is success, everything else says what went wrong. */
enum pt_err {
	PT_OK = 0,
	PT_ERR_NOMEM,     /* allocation failed */
	PT_ERR_TOOLONG,   /* a value or body is over its named limit */
	PT_ERR_ENCODING,  /* bad percent-encoding, JSON, base64 ... */
	PT_ERR_REPEATED,  /* a parameter given twice */
	PT_ERR_CONTROL,   /* NUL or control character where none belongs */
	PT_ERR_MISSING,   /* a required value is absent */
	PT_ERR_INVALID,   /* a value failed its validator */
	PT_ERR_DB,        /* the database failed (details in the log) */
	PT_ERR_NOTFOUND,  /* no such row */
	PT_ERR_IO,        /* file or socket failure */
	PT_ERR_CONFIG,    /* configuration is wrong */
	PT_ERR_BUSY,      /* the database is locked past PT_DB_BUSY_MS or unreachable: retry */
	PT_ERR_EXISTS,    /* a unique value (a name, a code) is already taken */
};

/* Named limits. Every one is checked while parsing and has a test. */
#define PT_MAX_BODY        (64 * 1024)   /* form or JSON body of any API endpoint */
#define PT_MAX_UPLOAD_BODY (1200 * 1024) /* multipart body of the apps form (picture + fields) */
#define PT_MAX_PICTURE     (1024 * 1024) /* an app picture */
#define PT_MAX_QUERY       8192          /* QUERY_STRING */
#define PT_MAX_AUTH_HEADER (PT_MAX_ACCESS_JWT + 16) /* HTTP_AUTHORIZATION: a scheme and a JWT access token */
#define PT_MAX_FIELDS      32            /* fields in one field table */
#define PT_MAX_PAIRS       64            /* key=value pairs in one query or body */
#define PT_MAX_REDIRECT_URI 2000         /* one redirect URI */
#define PT_MAX_REDIRECT_URIS 10          /* redirect URIs of one app */
#define PT_MAX_SCOPE       1000          /* a scope string */
#define PT_MAX_SCOPES      64            /* scopes in the config */
#define PT_MAX_STATE       1000          /* the state parameter */
#define PT_MAX_APP_NAME    100           /* app name, in characters */
#define PT_MAX_APP_DESC    1000          /* app description, in characters */
#define PT_MAX_USERNAME    64            /* user name */
#define PT_MAX_PASSWORD    1024          /* password */
#define PT_MIN_PASSWORD    8             /* password */
#define PT_MAX_ORG_NAME    100           /* organization name */
#define PT_MAX_RESOURCES   16            /* protected_resource lines in the config */
#define PT_MAX_TEMPLATE    (256 * 1024)  /* one template file */
#define PT_MAX_RESOURCE    512           /* an RFC 8707 resource indicator */
/* the life of a client_credentials token when access_token_ttl is 0 (access tokens
 * never expire): an app's own token always expires, the app asks again */
#define PT_CLIENT_TOKEN_TTL 3600
#define PT_MAX_NONCE       512           /* an OpenID Connect nonce */
#define PT_MAX_PROMPT      64            /* prompt (space-separated values) */
#define PT_MAX_MAX_AGE     10            /* max_age, in digits */
#define PT_MAX_ID_TOKEN_HINT 4096        /* id_token_hint (an id_token this server signed) */
#define PT_MAX_UI_LOCALES  64            /* ui_locales (accepted, not used) */
#define PT_MAX_LOGIN_HINT  254           /* login_hint (a user name or an address) */
#define PT_MAX_EMAIL       254           /* a user's email address (RFC 5321's path limit) */
#define PT_MAX_FULL_NAME   100           /* a user's full name, in characters */
#define PT_RSA_BITS        2048          /* RS256 signing keys */
#define PT_ID_TOKEN_TTL    3600          /* id_token lifetime, the config's default */
#define PT_REG_UNAPPROVED_TTL (7L * 86400) /* registration_unapproved_ttl default */
/* a JWT access token's lifetime (RFC 9068), the config's default (jwt_access_token_ttl):
 * other validators accept one until it expires, revoked or not */
#define PT_JWT_ACCESS_TTL  600
#define PT_MAX_ACCESS_JWT  4096          /* the token parameter of introspection and revocation */
#define PT_MAX_PENDING_CODES 5           /* unredeemed codes one grant keeps */
#define PT_MAX_PENDING_REQUESTS 10       /* consent pages one user has open */
#define PT_MIN_REQUEST_TTL 300           /* seconds a consent page's form stays good, at least */
#define PT_DB_BUSY_MS      1000          /* longest wait for another writer, then 503 */
#define PT_WAL_CHECKPOINT_PAGES 4000     /* WAL pages (16 MB) that make a checkpoint due */
#define PT_DELETE_BATCH    500           /* rows one short transaction deletes (janitor, app del) */
#define PT_MAX_PROCESSES   64            /* worker processes of one executable */
#define PT_MAX_UPSTREAM_SECRET 512       /* upstream_client_secret (or its file) */
#define PT_MAX_SEED_BYTES  (1024 * 1024) /* a seed file (postern seed) */
#define PT_MAX_SEED_USERS  1000          /* users in one seed file */
#define PT_MAX_SEED_APPS   1000          /* apps in one seed file */
#define PT_MAX_SEED_DEPTH  16            /* nesting of a seed file's JSON */
/* Longest values of request fields, in bytes (the parser refuses longer ones). */
#define PT_MAX_CLIENT_ID_FIELD 128       /* client_id of a client-authenticated request */
#define PT_MAX_AUTHZ_CLIENT_ID 64        /* client_id of an authorization request */
#define PT_MAX_CLIENT_SECRET_FIELD 128   /* client_secret */
#define PT_MAX_TOKEN_FIELD 128           /* token, code, refresh_token, device_code */
#define PT_MAX_GRANT_TYPE  64            /* grant_type */
#define PT_MAX_RESPONSE_TYPE 64          /* response_type */
#define PT_MAX_TOKEN_HINT  32            /* token_type_hint */
#define PT_MAX_PKCE        128           /* code_verifier, code_challenge */
#define PT_MAX_PKCE_METHOD 16            /* code_challenge_method */
#define PT_MAX_CSRF        64            /* csrf */
#define PT_MAX_REQUEST_ID  64            /* request (the consent form names its pending request) */
#define PT_MAX_ACTION      16            /* action (approve, deny) */
#define PT_MAX_ID_FIELD    20            /* org and other row ids */
#define PT_MAX_CONFIRM     8             /* confirm (yes) */
#define PT_MAX_NOTICE      16            /* done (a page's notice) */
#define PT_MAX_ALG         16            /* id_token_signed_response_alg (RS256, EdDSA) */
#define PT_MAX_FLAG        1             /* a checkbox: 1 */
#define PT_MAX_APP_TYPE    16            /* type (public, confidential) */
#define PT_MAX_USER_CODE_FIELD 64        /* a typed user code, with blanks and hyphens */
#define PT_MAX_UPSTREAM_CODE 2048        /* the upstream's authorization code (bridge) */
#define PT_MAX_OAUTH_ERROR 64            /* error of a redirect back */
#define PT_MAX_ERROR_DESC  1000          /* error_description of a redirect back */
#define PT_MAX_UPSTREAM_ANSWER (64 * 1024) /* the upstream token endpoint's answer */
#define PT_MAX_UPSTREAM_TOKEN 4096       /* the upstream's access token */
#define PT_MAX_UPSTREAM_ORG 256          /* the upstream's organization id */
#define PT_MAX_UPSTREAM_MESSAGE 300      /* an upstream error message shown on the page */
#define PT_MAX_SITE_NAME   64            /* site_name (config), in characters */
#define PT_MAX_REFERER     2048          /* a Referer an error page links back to (longer: no link) */
#define PT_UPSTREAM_CONNECT_MS 5000      /* connecting to the upstream */
#define PT_UPSTREAM_TIMEOUT_MS 15000     /* the whole upstream exchange */
/* Client ID Metadata Documents (lib/cimd.c) */
#define PT_CIMD_MAX_URL    512           /* a client_id that is a document's URL */
#define PT_CIMD_MAX_DOCUMENT (5 * 1024)  /* the document (the draft's suggested 5 KB) */
#define PT_CIMD_CONNECT_MS 2000          /* connecting to the document's host */
#define PT_CIMD_TIMEOUT_MS 3000          /* the whole fetch */
#define PT_CIMD_CACHE_MIN  300           /* a fetch is fresh at least this long (seconds) */
#define PT_CIMD_CACHE_MAX  86400         /* and at most this long */
#define PT_CIMD_CACHE_DEFAULT 3600       /* when the answer has no max-age */

/* ---------------------------------------------------------------- memory */

/* A region allocator: one per request, reset after the response. */
typedef struct pt_arena pt_arena;

pt_arena *pt_arena_new(void);
void pt_arena_free(pt_arena *);
/* Frees everything allocated since creation but keeps the first block. */
void pt_arena_reset(pt_arena *);
/* Never returns NULL: an out-of-memory aborts the worker (its supervisor forks
 * another), so callers need no NULL checks. */
void *pt_alloc(pt_arena *, size_t);
char *pt_strndup(pt_arena *, const char *, size_t);
char *pt_strdup(pt_arena *, const char *);
char *pt_printf(pt_arena *, const char *fmt, ...) PT_PRINTF(2, 3);

/* A growable byte buffer living in an arena. Always NUL-terminated. */
typedef struct {
	pt_arena *a;
	char *p;
	size_t n, cap;
} pt_buf;

void pt_buf_init(pt_buf *, pt_arena *);
void pt_buf_add(pt_buf *, const char *, size_t);
void pt_buf_adds(pt_buf *, const char *);
void pt_buf_addc(pt_buf *, char);
void pt_buf_addf(pt_buf *, const char *fmt, ...) PT_PRINTF(2, 3);
/* Escapes & < > " ' for HTML text and attribute values. */
void pt_buf_html(pt_buf *, const char *, size_t);
/* Percent-encodes everything but the RFC 3986 unreserved characters. */
void pt_buf_urlenc(pt_buf *, const char *, size_t);
/* Writes a quoted JSON string with every needed escape. */
void pt_buf_json(pt_buf *, const char *, size_t);

/* ---------------------------------------------------------------- parsing */

/* A field a handler accepts: name, longest value in bytes, validator (NULL: any
 * printable text), flags. Handlers index their values by their own enum. */
typedef bool (*pt_validator)(const char *v, size_t n);

enum {
	PT_F_MULTILINE = 1, /* allow \r \n \t (descriptions, redirect URI lists) */
	PT_F_REPEAT = 2,    /* may repeat: values are joined with '\n' */
	PT_F_BINARY = 4,    /* any bytes (file upload) */
};

struct pt_field {
	const char *name;
	size_t max;
	pt_validator valid;
	unsigned flags;
};

/* Parsed values, indexed like the field table. v[i] is NULL when absent. */
struct pt_params {
	const char *v[PT_MAX_FIELDS];
	size_t n[PT_MAX_FIELDS];
	const char *file_type[PT_MAX_FIELDS]; /* multipart Content-Type of a file part */
};

/* What failed, for the error message: the parameter and a short reason. */
struct pt_fail {
	const char *param;
	const char *reason;
};

/* application/x-www-form-urlencoded (also QUERY_STRING). Unknown names are
 * ignored (RFC 6749 §3.1), known names are decoded, limit-checked, checked for
 * control characters and validated. */
int pt_parse_form(pt_arena *, const char *s, size_t n, const struct pt_field *, size_t nfields,
    struct pt_params *, struct pt_fail *) PT_WUR;
/* A JSON object whose members are strings (numbers and booleans are taken as
 * their text). Same rules as pt_parse_form. */
int pt_parse_json(pt_arena *, const char *s, size_t n, const struct pt_field *, size_t nfields,
    struct pt_params *, struct pt_fail *) PT_WUR;
/* multipart/form-data with the boundary taken from content_type. */
int pt_parse_multipart(pt_arena *, const char *content_type, const char *s, size_t n,
    const struct pt_field *, size_t nfields, struct pt_params *, struct pt_fail *) PT_WUR;
/* Percent-decodes s into a new arena string ('+' is a space when plus is set). */
int pt_urldecode(pt_arena *, const char *s, size_t n, bool plus, char **out, size_t *outn) PT_WUR;
/* Finds cookie `name` in a Cookie header; returns false when absent. */
bool pt_cookie_get(const char *header, const char *name, const char **v, size_t *n);
/* Decodes "Basic base64(id:secret)" with RFC 6749 §2.3.1 form-decoding of both parts. */
int pt_basic_decode(pt_arena *, const char *hdr, size_t n, char **id, size_t *idn,
    char **secret, size_t *secretn) PT_WUR;
/* Standard base64 with padding; returns PT_ERR_ENCODING on anything else. */
int pt_base64_decode(pt_arena *, const char *s, size_t n, char **out, size_t *outn) PT_WUR;
/* Returns the token from "Bearer <t>" or a raw "<t>" Authorization header. */
bool pt_bearer(const char *hdr, const char **t, size_t *n);
/* The token of an Authorization header of scheme (case-insensitive), e.g. "DPoP":
 * false when the header is of another scheme or has no token. */
bool pt_auth_token(const char *hdr, const char *scheme, const char **t, size_t *n);

/* A copy of s (n bytes) without leading and trailing blanks (space, tab, CR, LF). */
char *pt_trimmed(pt_arena *, const char *s, size_t n);

/* A whole decimal number from min to max, strtonum-style: digits with an optional
 * leading '-', nothing else (no blanks, no '+'). PT_OK with *out; PT_ERR_MISSING (NULL),
 * PT_ERR_INVALID (not a number) or PT_ERR_TOOLONG (out of range), *out 0. */
int pt_strtonum(const char *s, long long min, long long max, long long *out) PT_WUR;

/* Validators shared by the executables. Every field names one; the parser has already
 * refused control characters (but for PT_F_MULTILINE's) and bad UTF-8 (but for
 * PT_F_BINARY fields), so pt_valid_text takes any such value: for a field whose handler
 * judges the value itself and answers in its own words (a token: invalid_grant, not
 * invalid_request). */
bool pt_valid_text(const char *, size_t);
bool pt_valid_id(const char *, size_t);        /* a row id: 1..19 digits, no leading 0 */
bool pt_valid_printable(const char *, size_t); /* no control characters */
bool pt_valid_b62ish(const char *, size_t);    /* [A-Za-z0-9_-] */
bool pt_valid_scope(const char *, size_t);     /* RFC 6749 §3.3 scope-tokens */
bool pt_valid_pkce_verifier(const char *, size_t);
bool pt_valid_pkce_challenge(const char *, size_t);
bool pt_valid_username(const char *, size_t);  /* [a-zA-Z0-9._@-], 1..64 */
bool pt_valid_utf8(const char *, size_t);
size_t pt_utf8_len(const char *, size_t);      /* characters, for "<= 100 chars" limits */
/* Text people are shown as the name or description of an app or organization: valid
 * UTF-8 with no control character (multiline allows \n and \t), noncharacter, or
 * invisible or format character (bidi overrides, zero-width characters, fillers,
 * tags; a variation selector only right after a visible character), so that what a
 * page shows is what was typed. When false and bad is not NULL, *bad is the first
 * refused code point, or PT_BAD_UTF8. */
#define PT_BAD_UTF8 UINT32_MAX
bool pt_valid_display_text(const char *, size_t, bool multiline, uint32_t *bad);
/* The same check as a phrase for a message ("contains an invisible or control
 * character (U+202E)", "is not valid UTF-8"), or NULL when the text is fine. */
const char *pt_display_text_problem(pt_arena *, const char *, size_t, bool multiline);
/* Bytes of the first character of s with the combining marks and variation selectors
 * right after it (the letter a page shows for an app without a picture); 0 when s is
 * empty or does not start with valid UTF-8. */
size_t pt_utf8_initial(const char *, size_t);
/* The top-level member of a JSON object (s already parsed as one by cJSON) whose name
 * or value holds an escaped NUL (\u0000), where cJSON's string would end early: its
 * index, with *in_key saying whether it was in the name; -1 when there is none. */
long pt_json_nul_member(const char *s, size_t n, bool *in_key);

/* ---------------------------------------------------------------- URIs */

/* Checks a redirect URI an app registers: absolute https, or http on a
 * loopback host; no fragment, no userinfo, at most PT_MAX_REDIRECT_URI bytes. */
bool pt_redirect_uri_valid(const char *, size_t);
/* What kind of redirect URI a registering client names (application_type decides which
 * it may): https; http on a loopback host; an RFC 8252 §7.1 private-use scheme
 * ("com.example.app:/cb"); or none of those. */
enum pt_redirect_kind { PT_RU_BAD, PT_RU_HTTPS, PT_RU_LOOPBACK, PT_RU_PRIVATE };
enum pt_redirect_kind pt_redirect_uri_kind(const char *, size_t);
/* Does the requested URI match a registered one? Exact string comparison, but
 * for http loopback URIs the port may differ (RFC 8252 §7.3). */
bool pt_redirect_uri_match(const char *registered, size_t rn, const char *requested, size_t qn);
/* Appends ?k=v or &k=v pairs (NULL-terminated, values may be NULL to skip) to
 * uri, keeping any query it has. */
char *pt_uri_with_params(pt_arena *, const char *uri, const char *const *kv);
/* "scheme://host[:port]" of an absolute http(s) URL without user info, blanks, quotes,
 * angle brackets or backslashes, at most PT_MAX_REFERER bytes; NULL when s is not one.
 * *rest (when not NULL) is what follows the origin: "" or "/path?query#fragment". */
char *pt_uri_origin(pt_arena *, const char *s, size_t n, const char **rest);

/* ---------------------------------------------------------------- tokens */

#define PT_TOKEN_RANDOM 43   /* base62 chars carrying 256 bits */
#define PT_TOKEN_CHECK 6     /* base62 CRC32 */
#define PT_TOKEN_LEN (4 + PT_TOKEN_RANDOM + PT_TOKEN_CHECK)
#define PT_CLIENT_ID_LEN (4 + 32)
#define PT_CLIENT_SECRET_LEN (4 + 48)
#define PT_HASH_LEN 32

/* What a row of the tokens table is (its kind column, schema.sql): a code becomes an
 * access token in its own row; a refresh token, once rotated, stays as used so that its
 * reuse is seen. */
enum pt_token_kind {
	PT_KIND_CODE = 0,
	PT_KIND_ACCESS = 1,
	PT_KIND_REFRESH = 2,
	PT_KIND_REFRESH_USED = 3,
};

/* Where a device authorization stands (the devices table's state column). */
enum pt_device_state {
	PT_DEVICE_PENDING = 0,   /* the user has not answered */
	PT_DEVICE_APPROVED = 1,  /* approved, not yet collected */
	PT_DEVICE_DENIED = 2,
	PT_DEVICE_COLLECTED = 3, /* its token was issued */
};

/* Fills out with n base62 characters from the CSPRNG (no NUL). */
void pt_random_b62(char *out, size_t n);
/* A new token: prefix ("pat_", "prt_", "pac_", "pdc_", "pse_"), random, checksum. */
void pt_token_new(char out[PT_TOKEN_LEN + 1], const char *prefix);
/* Format and checksum, no database: true for a well-formed token of that prefix. */
bool pt_token_check(const char *t, size_t n, const char *prefix);
/* Sets the key of pt_hash (from the config); must be called before pt_hash. */
void pt_hash_key(const uint8_t key[32]);
/* Keyed BLAKE2b-256 of a secret: the only form secrets are stored in. */
void pt_hash(uint8_t out[PT_HASH_LEN], const char *s, size_t n);
/* Keyed hash with a domain label, for derived values (CSRF tokens). */
void pt_hash2(uint8_t out[PT_HASH_LEN], const char *label, const char *s, size_t n);
/* base64url without padding of the SHA-256 of s (PKCE S256). */
void pt_pkce_s256(char out[44], const char *verifier, size_t n);
/* Constant-time equality of two strings of possibly different lengths. */
bool pt_ct_equal(const char *a, size_t an, const char *b, size_t bn);
uint32_t pt_crc32(const char *, size_t);

/* ---------------------------------------------------------------- config */

struct pt_scope {
	char *name;
	char *desc;
};

enum pt_login { PT_LOGIN_BUILTIN, PT_LOGIN_REMOTE_USER };

/* The FastCGI executables, for keys that name one (`processes NAME = N`). */
enum pt_exe {
	PT_EXE_AUTHORIZE,
	PT_EXE_CONSENT,
	PT_EXE_TOKEN,
	PT_EXE_APPS,
	PT_EXE_REVOKE,
	PT_EXE_INTROSPECT,
	PT_EXE_DEVICE,
	PT_EXE__MAX
};
/* The executable called name, or -1 when there is none. */
int pt_exe_by_name(const char *name);
/* The name of executable exe, or NULL when there is none. */
const char *pt_exe_name(int exe);

/* synchronous: which writes reach the disk before they are answered (a power cut
 * cannot take them back). */
enum pt_sync {
	PT_SYNC_NORMAL,       /* none: the last moments before a power cut can be lost */
	PT_SYNC_REVOCATIONS,  /* revocations, deletions, sign-outs, secret rotations (default) */
	PT_SYNC_FULL,         /* every write, token issuance included */
};

struct pt_config {
	char *path;          /* the file it came from */
	char *base_url;      /* = issuer, no trailing slash */
	char *base_path;     /* path part of base_url, "" at the root */
	char *database;
	char *secret_key_file;
	char *metrics_file;     /* the counters all processes share (lib/metrics.c) */
	uint8_t key[32];
	bool have_key;
	struct pt_scope scopes[PT_MAX_SCOPES];
	size_t nscopes;
	char *default_scope;
	long code_ttl;          /* seconds, default 600 */
	long access_token_ttl;  /* 0: access tokens never expire */
	long refresh_token_ttl; /* default 30 days */
	long session_ttl;       /* default 14 days */
	long registration_unapproved_ttl; /* self-registered clients nobody approved are deleted after; 0: never */
	long device_code_ttl;   /* default 900 */
	long device_interval;   /* default 5 */
	long id_token_ttl;      /* seconds, default PT_ID_TOKEN_TTL */
	long jwt_access_token_ttl; /* seconds, default PT_JWT_ACCESS_TTL; never 0 */
	long dpop_proof_lifetime; /* how old a DPoP proof's iat may be, default PT_DPOP_LIFETIME */
	bool dpop_nonce;        /* DPoP proofs must carry a nonce of ours (RFC 9449 §8, §9) */
	char *cookie_name;      /* default postern_session */
	int cookie_secure;      /* -1 auto (off for http loopback), 0, 1 */
	char *templates_dir;    /* built-in templates */
	char *templates_override; /* admin's folder, searched first */
	enum pt_login login;
	char *cli_app;          /* client_id of the app /device/code uses */
	char *api_url;          /* what the Postiz CLI is told to call */
	char *site_name;        /* names the site on every page; default: base_url's host */
	bool registration;      /* RFC 7591 dynamic registration */
	bool apps_admins_only;  /* app_creation = admins: only administrators make apps */
	enum pt_sync sync;      /* which commits must reach the disk before they are answered */
	char *resources[PT_MAX_RESOURCES]; /* RFC 9728 protected resources (and RFC 8707 targets) */
	size_t nresources;
	long processes[PT_EXE__MAX]; /* worker processes per executable, 1..PT_MAX_PROCESSES */
	/* Device login bridged to an upstream provider: set together (bridge is then true)
	 * or not at all. The URLs are https, or http on a loopback host. */
	char *upstream_authorize_url;
	char *upstream_token_url;
	char *upstream_client_id;
	char *upstream_client_secret; /* from the config or upstream_client_secret_file */
	char *upstream_secret_file;   /* where it came from, when it did */
	char *upstream_api_url;       /* what the CLI is told to call */
	bool upstream_redirect_uri;   /* send redirect_uri = base_url/device/callback */
	bool upstream_token_basic;    /* form body + HTTP Basic instead of Postiz's JSON body */
	bool bridge;
	char *audit_log;          /* the audit log's path; NULL: off */
	/* Client ID Metadata Documents: an https client_id with a path is fetched as the
	 * client's metadata (lib/cimd.c) */
	bool client_metadata_documents;
	char *client_metadata_allow_hosts; /* tests only: "HOST:PORT ..." exempt from the
					    * refusal of non-public addresses */
	char *client_metadata_ca_file;     /* tests only: the CA bundle fetches trust */
};

/* Loads the file at path (NULL: $POSTERN_CONFIG). On error writes a message
 * into err and returns PT_ERR_CONFIG. Relative paths are taken from the
 * directory of the config file. */
int pt_config_load(struct pt_config *, const char *path, char *err, size_t errlen) PT_WUR;
/* Frees what pt_config_load allocated (before loading the same struct again). */
void pt_config_free(struct pt_config *);
const struct pt_scope *pt_config_scope(const struct pt_config *, const char *name, size_t n);
/* Is every scope token in s configured (and, if allowed is not NULL, listed in allowed)? */
bool pt_scopes_ok(const struct pt_config *, const char *s, size_t n, const char *allowed);
/* Is v one of the configured protected resources (or are none configured)? */
bool pt_resource_known(const struct pt_config *, const char *v);
/* RFC 8707 §2: an absolute http(s) URI without a fragment. */
bool pt_resource_ok(const char *v);
/* Is every token of a contained in b? */
bool pt_scope_subset(const char *a, const char *b);
/* Is t (n bytes) one of the words of list (separated by spaces or newlines)? */
bool pt_word_in(const char *t, size_t n, const char *list);

/* ---------------------------------------------------------------- apps */

/* A new app, or what the app form says about one. */
struct pt_new_app {
	int64_t owner_id;           /* 0: none (the admin command without --owner) */
	const char *name;
	const char *description;
	const char *redirect_uris;  /* '\n'-separated, trimmed */
	const char *scopes;         /* space-separated, in config order; "" = every one */
	const char *grant_types;    /* space-separated */
	bool public, trusted, require_pkce, remember_consent, resource_server;
	const char *picture;        /* an upload, or NULL */
	size_t picture_n;
	const char *picture_type;   /* pt_picture_type of it */
	bool remove_picture;        /* the edit form: drop the picture */
	bool access_jwt;            /* JWT access tokens (RFC 9068); false: opaque */
	bool require_dpop;          /* its token requests must carry a DPoP proof (RFC 9449) */
	const char *id_token_alg;   /* pt_oidc_alg_ok; NULL: RS256 */
	const char *post_logout_redirect_uris; /* '\n'-separated, trimmed; NULL: none */
};

/* The app form as posted (NULL where a field was absent; scopes '\n'-separated). */
struct pt_app_posted {
	const char *name;
	size_t name_n;
	const char *description;
	size_t description_n;
	const char *redirect_uris;
	const char *scopes;
	const char *type;           /* "public" or "confidential" */
	const char *picture;
	size_t picture_n;
	const char *post_logout_redirect_uris; /* one a line, like redirect_uris; NULL: none */
	const char *id_token_alg;   /* RS256 or EdDSA; NULL: RS256 */
};

/* A list of redirect URIs, one a line (blank lines and blanks around them ignored). */
struct pt_uri_list {
	const char *uris;           /* '\n'-separated, trimmed ("" when none) */
	size_t count;
	const char *bad;            /* the first that fails pt_redirect_uri_valid, or NULL */
	bool repeated;              /* one is listed twice */
};

void pt_client_id_new(char out[PT_CLIENT_ID_LEN + 1]);
/* A new secret and its keyed hash (what is stored). */
void pt_client_secret_new(char out[PT_CLIENT_SECRET_LEN + 1], uint8_t hash[PT_HASH_LEN]);
/* The content type of a picture from its first bytes (PNG, JPEG, WebP), else NULL. */
const char *pt_picture_type(const char *, size_t);
/* Parses a redirect-URI list (s, n bytes) into *out (arena strings). */
void pt_uri_list_parse(pt_arena *, const char *s, size_t n, struct pt_uri_list *out);
/* Reads the app form into *f, keeping what was typed even when it is wrong (the page
 * shows it again): NULL when it is fine, else a message for the person (the first
 * problem, in the order of the form). Sets name, description, redirect_uris, scopes,
 * public, the picture, post_logout_redirect_uris and id_token_alg; the caller sets the
 * rest. */
const char *pt_app_form_read(pt_arena *, const struct pt_config *, const struct pt_app_posted *,
    struct pt_new_app *f);
/* Stores a new app (and its picture) in one transaction; fills its client id, and a
 * secret (shown once; stored only for a confidential app). */
int pt_app_insert(const struct pt_new_app *, char cid[PT_CLIENT_ID_LEN + 1],
    char secret[PT_CLIENT_SECRET_LEN + 1]) PT_WUR;
/* A new secret for a confidential app (of owner_id; 0: of anyone), durably: the old one
 * never works again. PT_OK with secret; PT_ERR_NOTFOUND (no such confidential app),
 * PT_ERR_BUSY or PT_ERR_DB. */
int pt_app_rotate_secret(const char *client_id, int64_t owner_id,
    char secret[PT_CLIENT_SECRET_LEN + 1]) PT_WUR;
/* seed.c: a seed file of users and apps with fixed credentials (`postern seed FILE`,
 * `postern-stack up DIR --seed FILE`), format in README ("For other projects' test
 * suites"). */
struct pt_seed_user {
	const char *name;
	const char *password;
	size_t password_n;
	bool admin;
	const char *email;          /* NULL: none (pt_email_valid) */
	int line;                   /* of its name in the file */
	int64_t id;                 /* pt_seed_store: the new user's id */
};
struct pt_seed_app {
	struct pt_new_app app;
	const char *client_id;      /* given (pca_ + 32 base62), or NULL: one is made */
	const char *client_secret;  /* given (pcs_ + 48 base62), or NULL: one is made */
	int nuris;                  /* redirect URIs */
	int line;                   /* of its client_id in the file, or of the app */
	/* pt_seed_store: the client id and secret it stored (the secret as its keyed hash) */
	char cid[PT_CLIENT_ID_LEN + 1];
	char secret[PT_CLIENT_SECRET_LEN + 1];
	uint8_t secret_hash[PT_HASH_LEN];
};
struct pt_seed {
	struct pt_seed_user *users;
	size_t nusers;
	struct pt_seed_app *apps;
	size_t napps;
};
/* Reads and checks a seed file (n bytes of JSON) against cfg's scopes: NULL when it is
 * good, else what is wrong, as "line N: FIELD: why" (FIELD like apps[1].client_id). */
const char *pt_seed_read(pt_arena *, const struct pt_config *cfg, const char *text, size_t n,
    struct pt_seed *s) PT_WUR;
/* Stores every user and app of s in one transaction (passwords as Argon2id hashes, the
 * same cost as `user add`; secrets as keyed hashes): PT_OK, or an error with *why
 * (a name or client id that exists already names its field) and nothing stored. */
int pt_seed_store(pt_arena *, struct pt_seed *s, const char **why) PT_WUR;
/* Stores (picture not NULL) or clears the picture of owner_id's app app_id. */
int pt_app_picture_store(int64_t owner_id, int64_t app_id, const char *picture, size_t n,
    const char *type) PT_WUR;

/* ---------------------------------------------------------------- registration */

/* RFC 7591 client metadata from a registration body, checked; NULL where the member
 * was absent or blank (the caller applies its defaults). */
/* token_endpoint_auth_method of a self-registered client (pt_reg_auth_names). */
enum pt_reg_auth { PT_REG_AUTH_NONE, PT_REG_AUTH_BASIC, PT_REG_AUTH_POST };
extern const char *const pt_reg_auth_names[];
struct pt_reg {
	const char *redirect_uris; /* '\n'-separated, each pt_redirect_uri_valid; never NULL */
	const char *client_name;   /* trimmed, pt_valid_display_text, <= PT_MAX_APP_NAME chars */
	const char *grant_types;   /* "authorization_code" [" refresh_token"] */
	const char *scope;         /* configured scopes, space-separated */
	const char *id_token_alg;  /* id_token_signed_response_alg: RS256 or EdDSA */
	const char *post_logout_redirect_uris; /* '\n'-separated, each pt_redirect_uri_valid; NULL: none */
	enum pt_reg_auth auth_method; /* token_endpoint_auth_method; PT_REG_AUTH_NONE when absent */
	bool auth_given;              /* the body named token_endpoint_auth_method */
	const char *application_type; /* "web", "native", or NULL (absent: https or loopback http) */
	const char *client_uri, *policy_uri, *tos_uri; /* https (pt_redirect_uri_kind); NULL: none */
	const char *client_id;        /* RFC 7592 update: the client_id the body names; NULL: none */
	bool require_dpop;            /* dpop_bound_access_tokens (RFC 9449 §5.2) */
};

/* Why a registration body was refused: the RFC 7591 §3.2.2 error and a description. */
struct pt_reg_fail {
	const char *error;
	const char *desc;
};

/* Reads a registration body (application/json; no database): PT_OK, or PT_ERR_TOOLONG
 * (over PT_MAX_BODY), PT_ERR_ENCODING (not a JSON object), PT_ERR_CONTROL (an escaped
 * NUL) or PT_ERR_INVALID (bad metadata), with fail filled. Unknown members are ignored. */
int pt_register_parse(pt_arena *, const struct pt_config *, const char *body, size_t n,
    struct pt_reg *, struct pt_reg_fail *) PT_WUR;
struct pt_ctx;
/* The name of a registered client that sent none. */
#define PT_REG_NAME_DEFAULT "Unnamed app"
struct pt_register_row;
/* Stores a parsed registration (defaults applied: PT_REG_NAME_DEFAULT,
 * authorization_code, every configured scope): a public client with PKCE, or with
 * client_secret_basic/_post a confidential one with a new pcs_ secret; always a new pra_
 * registration access token (RFC 7592). Both only as keyed hashes. *cid its client id,
 * *answer the RFC 7591 §3.2.1 response document (the secret and the token shown this
 * once; registration_client_uri is config_base + cid). PT_OK, PT_ERR_BUSY or PT_ERR_DB. */
int pt_register_store(const struct pt_ctx *, const struct pt_reg *, const char *config_base,
    char cid[PT_CLIENT_ID_LEN + 1], pt_buf *answer) PT_WUR;
/* The RFC 7591/7592 document of a stored registration; secret and token only when just
 * made (NULL otherwise). */
void pt_register_answer(pt_buf *, pt_arena *, const char *cid, const struct pt_register_row *,
    const char *config_uri, const char *secret, const char *token);
/* RFC 7592 §2.2: replaces row's metadata with m's (defaults applied) and stores it. */
int pt_register_update_row(const struct pt_ctx *, const struct pt_reg *, struct pt_register_row *) PT_WUR;

/* ---------------------------------------------------------------- audit log */

/* The audit log (config audit_log; lib/audit.c): one JSON object a line, {"time" (RFC
 * 3339, UTC), "event" (a name from the list in man/postern.conf.5), "ok", then the
 * event's fields}. Never a secret, code, token, password, cookie or session id. */
#define PT_AUDIT_LINE_MAX  4096  /* a line with its newline: PIPE_BUF, one atomic write */
#define PT_AUDIT_FIELD_MAX 512   /* bytes of one string value; longer ones are cut */
enum pt_audit_kind { PT_AF_STR, PT_AF_INT, PT_AF_BOOL };
struct pt_audit_field {
	const char *key;          /* a constant of this program */
	enum pt_audit_kind kind;
	const char *s;            /* PT_AF_STR; NULL leaves the field out */
	int64_t i;                /* PT_AF_INT, PT_AF_BOOL */
};
#define PT_AS(k, v) {(k), PT_AF_STR, (v), 0}
#define PT_AI(k, v) {(k), PT_AF_INT, NULL, (int64_t)(v)}
#define PT_AB(k, v) {(k), PT_AF_BOOL, NULL, (int64_t)!!(v)}
/* The first PT_AUDIT_HASH_HEX hex digits of a (keyed) hash: enough to correlate lines,
 * never enough to stand for what was hashed. Returns buf. */
#define PT_AUDIT_HASH_HEX 8
const char *pt_audit_hash(char buf[PT_AUDIT_HASH_HEX + 1], const uint8_t *hash);
/* Where this process writes its lines (NULL or "": nowhere); opened at the first line. */
void pt_audit_open(const char *path);
/* Makes the next line reopen the file (a SIGHUP handler may call it). */
void pt_audit_reopen(void);
/* Writes one line; a failure is logged once (not per line) and never reaches the caller. */
void pt_audit_write(const char *event, bool ok, const struct pt_audit_field *, size_t n);
#define pt_audit(event, ok, ...)                                                  \
	pt_audit_write((event), (ok), (const struct pt_audit_field[]){__VA_ARGS__},  \
	    sizeof((const struct pt_audit_field[]){__VA_ARGS__}) / sizeof(struct pt_audit_field))

/* ---------------------------------------------------------------- OpenID Connect */

/* The id_token signing algorithms, the default first; an app names one
 * (id_token_signed_response_alg). */
#define PT_OIDC_ALGS 2
extern const char *const pt_oidc_algs[PT_OIDC_ALGS];
bool pt_oidc_alg_ok(const char *alg);

/* A signing key as the keys table keeps it (Q_KEY_SIGNING, Q_KEYS_LIST). */
struct pt_key_row {
	const char *kid;          /* the RFC 7638 thumbprint of its public key */
	const char *alg;          /* RS256 or EdDSA */
	const uint8_t *private_key; /* sealed (pt_seal) under a key derived from the server key */
	size_t private_n;
	const char *public_jwk;   /* what the JWKS publishes */
	int64_t created;
	int64_t retired;          /* when it stopped signing; 0: signs */
	int64_t expires;          /* when it leaves the JWKS; 0: never (it signs) */
};

/* New signing keys, one per algorithm (RSA PT_RSA_BITS through libcrypto, Ed25519 through
 * libsodium), each in its own durable transaction. rotate: the keys they replace stop
 * signing and stay published for id_token_ttl; otherwise a key is made only for an
 * algorithm that has none that signs (`postern init`, first use). made[*nmade]: the new
 * ones. PT_ERR_CONFIG without a server key. */
int pt_keys_make(pt_arena *, const struct pt_config *, bool rotate, int64_t now,
    struct pt_key_row made[PT_OIDC_ALGS], size_t *nmade) PT_WUR;
/* pt_keys_make(rotate false) once per process: what the executables that sign or
 * publish call first. */
int pt_keys_ensure(pt_arena *, const struct pt_config *) PT_WUR;
/* The JWKS document (RFC 7517 §5) of keys. */
void pt_jwks(const struct pt_key_row *keys, size_t n, pt_buf *);
/* A compact JWS of claims (a JSON object) signed with the signing key of alg:
 * *jwt in the arena. PT_ERR_CONFIG when there is no such key or it cannot be opened. */
int pt_jwt_sign(pt_arena *, const struct pt_config *, const char *alg, const char *claims,
    char **jwt) PT_WUR;

/* base64url without padding (RFC 7515 §2): of n bytes appended to b, or as a new string
 * in the arena; and decoded into the arena (NUL-terminated, *outn bytes when outn is not
 * NULL): NULL unless s..s+n is canonical base64url without padding. */
void pt_b64url_add(pt_buf *b, const uint8_t *p, size_t n);
char *pt_b64url(pt_arena *, const uint8_t *p, size_t n);
char *pt_unb64url(pt_arena *, const char *s, size_t n, size_t *outn);
/* A compact JWS split and decoded (into the arena): false unless it is three base64url
 * parts. Nothing is checked beyond that. */
struct pt_jws {
	char *header, *payload;   /* the decoded JSON texts, NUL-terminated */
	uint8_t *sig;
	size_t sig_n;
	size_t signed_n;          /* the signing input is the first signed_n bytes */
};
bool pt_jws_split(pt_arena *, const char *jwt, size_t n, struct pt_jws *out);

/* ---------------------------------------------------------------- DPoP (RFC 9449) */

#define PT_MAX_DPOP_PROOF    2048  /* one DPoP header */
#define PT_MAX_DPOP_JTI      256   /* a proof's jti */
#define PT_DPOP_LIFETIME     60    /* dpop_proof_lifetime default: the age a proof's iat may have */
#define PT_DPOP_LIFETIME_MIN 5
#define PT_DPOP_LIFETIME_MAX 600
#define PT_DPOP_SKEW         5     /* seconds a proof's iat may be ahead of this clock */
#define PT_DPOP_NONCE_WINDOW 300   /* a nonce of ours is good in its window and the next */
#define PT_JKT_LEN           43    /* an RFC 7638 SHA-256 thumbprint in base64url */
/* the algorithms of the proofs postern verifies (metadata, challenges) */
#define PT_DPOP_ALGS_JSON    "[\"ES256\",\"EdDSA\",\"Ed25519\"]"
#define PT_DPOP_ALGS         "ES256 EdDSA Ed25519"

/* The request a proof must be for. */
struct pt_dpop_req {
	const char *method;       /* htm */
	const char *url;          /* htu: compared without query and fragment */
	const char *token;        /* ath: the access token presented; NULL at the token endpoint */
	size_t token_n;
};
/* A proof that passed: its key, and what marks its single use. */
struct pt_dpop {
	char jkt[PT_JKT_LEN + 1]; /* the RFC 7638 thumbprint of its key */
	uint8_t replay[PT_HASH_LEN]; /* keyed hash of the key and the jti */
	int64_t expires;          /* when it can no longer pass as fresh */
};
enum pt_dpop_result {
	PT_DPOP_OK,
	PT_DPOP_INVALID,          /* invalid_dpop_proof: *why says what */
	PT_DPOP_NONCE,            /* use_dpop_nonce: a nonce of ours is needed (dpop_nonce = on) */
};
/* Checks the DPoP header(s) of a request (proof: the value, NULL when absent; count: how
 * many DPoP headers came) against q: one compact JWS of at most PT_MAX_DPOP_PROOF bytes,
 * typ dpop+jwt, ES256 with a P-256 jwk or EdDSA/Ed25519 with an Ed25519 jwk (public
 * members only), its signature, jti, htm, htu, iat within dpop_proof_lifetime (and
 * PT_DPOP_SKEW ahead), ath when q->token, and a nonce of ours when dpop_nonce is on. The
 * jti is not recorded: pt_dpop_use does that once everything else passed. */
enum pt_dpop_result pt_dpop_check(const struct pt_ctx *, const char *proof, int count,
    const struct pt_dpop_req *q, struct pt_dpop *out, const char **why);
/* Records the proof's single use: PT_OK; PT_ERR_EXISTS for a replay; PT_ERR_BUSY or
 * PT_ERR_DB. */
int pt_dpop_use(const struct pt_dpop *) PT_WUR;
/* The nonce of now's window (dpop_nonce = on): what DPoP-Nonce carries. */
char *pt_dpop_nonce(pt_arena *, const struct pt_config *, int64_t now);
/* Whether htu (a proof's claim) names url: scheme and host compared without case, a
 * default port left out, query and fragment of both ignored (RFC 9449 §4.3). */
bool pt_dpop_htu_match(pt_arena *, const char *htu, const char *url);
/* Whether s (n bytes) has the shape of a thumbprint: PT_JKT_LEN base64url characters
 * (an authorization request's dpop_jkt). */
bool pt_jkt_valid(const char *s, size_t n);

/* What an id_token says (OIDC Core §2, §3.1.3.6). */
struct pt_id_request {
	const char *alg;          /* the app's id_token_alg; NULL or unknown: RS256 */
	const char *client_id;    /* aud and azp */
	int64_t user_id;          /* sub */
	int64_t auth_time;        /* 0: left out */
	const char *nonce;        /* NULL: left out (refreshes, Core §12.2) */
	const char *access_token; /* at_hash; NULL: left out */
};
/* The signed id_token of q, issued now, expiring after id_token_ttl. The claims of the
 * granted scopes are not in it: the code flow always hands out an access token, and
 * they are at userinfo (Core §5.4). */
int pt_id_token(const struct pt_ctx *, const struct pt_id_request *q, char **out) PT_WUR;

struct pt_issued;
/* What a JWT access token says (RFC 9068 §2.2). */
struct pt_at_request {
	const char *alg;          /* the app's id_token_alg; NULL or unknown: RS256 */
	const char *client_id;    /* client_id (and aud without a resource) */
	int64_t user_id;          /* sub; 0: an app's own token, sub is the client_id */
	const char *scope;
	const char *resource;     /* aud; NULL: the client_id */
	int64_t auth_time;        /* 0: left out */
};
/* Makes the access token of out a signed JWT (typ at+jwt), issued now and expiring
 * after jwt_access_token_ttl (out->jwt, out->jwt_exp, out->expires_in). */
int pt_access_jwt(const struct pt_ctx *, const struct pt_at_request *q, struct pt_issued *out) PT_WUR;
/* Checks a compact JWS (n bytes) is a JWT access token this server signed (a published
 * key, typ at+jwt, iss base_url) and not expired: PT_OK, PT_ERR_INVALID, or PT_ERR_BUSY or
 * PT_ERR_DB when the keys cannot be read. */
int pt_access_jwt_check(const struct pt_ctx *, const char *jwt, size_t n) PT_WUR;
/* Whether t (n bytes) has the shape of a JWT access token: at most PT_MAX_ACCESS_JWT
 * bytes of base64url in three parts; says nothing of its signature. */
bool pt_looks_jwt(const char *t, size_t n);

/* What an id_token this server signed says of whom (an id_token_hint, OIDC Core §3.1.2.1;
 * RP-Initiated Logout §2). */
struct pt_id_hint {
	int64_t user_id;          /* sub */
	const char *client_id;    /* aud: the app it was issued to */
};
/* Checks a compact JWS (n bytes) is an id_token this server signed: with a key still
 * published (retired ones included), issued by base_url, with a sub and an aud. Its
 * expiry is not checked: a hint is an expired id_token as often as not (Core §3.1.2.1).
 * PT_OK with *out; PT_ERR_INVALID for anything else (malformed, unknown kid, forged);
 * PT_ERR_BUSY or PT_ERR_DB when the keys cannot be read. */
int pt_id_token_check(const struct pt_ctx *, const char *jwt, size_t n, struct pt_id_hint *out) PT_WUR;

/* Q_USER_CLAIMS: what the claims of a user come from. */
struct pt_claims_row {
	int64_t id;
	const char *name;
	const char *email;        /* NULL: none */
	const char *full_name;    /* NULL: none (name is the user name) */
};
/* The claims of the scopes of scope (sub always; profile: name, preferred_username;
 * email: email, email_verified) as JSON members, without braces. */
void pt_claims_json(pt_buf *, const struct pt_claims_row *, const char *scope);
/* An email address as `postern user add/set` take it: local@domain.tld, printable ASCII,
 * at most PT_MAX_EMAIL bytes. */
bool pt_email_valid(const char *, size_t);

/* Storage (lib/store_oidc.c). */
int pt_db_key_insert(const struct pt_key_row *) PT_WUR;
/* Every signing key of alg stops signing at now and leaves the JWKS at expires; *retired,
 * unless NULL, how many. */
int pt_db_keys_retire(const char *alg, int64_t now, int64_t expires, int64_t *retired) PT_WUR;
/* The newest key of alg that signs: PT_OK, PT_ERR_NOTFOUND, or an error. */
int pt_db_key_signing(pt_arena *, const char *alg, struct pt_key_row *) PT_WUR;
/* The keys still published at now (0: every key), oldest first: an arena array. */
int pt_db_keys_list(pt_arena *, int64_t now, struct pt_key_row **rows, size_t *n) PT_WUR;
/* The claims of user_id: PT_OK, PT_ERR_NOTFOUND, or an error. */
int pt_db_user_claims(pt_arena *, int64_t user_id, struct pt_claims_row *) PT_WUR;
/* Sets a user's email and full name (NULL: kept; "": cleared): PT_ERR_NOTFOUND when there
 * is no such user. */
int pt_db_user_profile_set(const char *name, const char *email, const char *full_name) PT_WUR;
/* Sets an app's id_token signing algorithm: PT_ERR_NOTFOUND when there is no such app. */
int pt_db_admin_app_set_alg(const char *client_id, const char *alg) PT_WUR;
/* Sets an app's access token format: "opaque" or "jwt". */
int pt_db_admin_app_set_format(const char *client_id, const char *format) PT_WUR;
/* Sets whether an app's token requests must carry a DPoP proof: PT_ERR_NOTFOUND when
 * there is no such app. */
int pt_db_admin_app_set_dpop(const char *client_id, bool require) PT_WUR;

/* ---------------------------------------------------------------- log */

void pt_log(const char *level, const char *fmt, ...) PT_PRINTF(2, 3);
#define pt_warn(...) pt_log("warn", __VA_ARGS__)
#define pt_info(...) pt_log("info", __VA_ARGS__)

/* ---------------------------------------------------------------- database */

/* The storage module (lib/sql.c: every statement; lib/store*.c: the functions and
 * row structs below; lib/db.c and lib/db_pg.c: SQLite and PostgreSQL). Nothing else
 * holds SQL. One connection per process, opened by pt_db_open. */
#define PT_SCHEMA_VERSION 9

struct pt_store;
/* The process's open connection (for struct pt_ctx); NULL when none is open. */
struct pt_store *pt_store(void);
/* Once per process, before any connection: SQLite keeps no page cache up front. */
void pt_db_process_init(void);
/* A database config value that names PostgreSQL (postgresql://… or postgres://…). */
bool pt_db_is_pg(const char *database);
/* Opens the database once per process: an SQLite file (WAL, busy_timeout,
 * foreign_keys; sync says which commits are durable before they are answered), or a
 * PostgreSQL connection URI (libpq; a lost connection is made again at the next
 * statement, which meanwhile fails with PT_ERR_BUSY). */
int pt_db_open(const char *database, enum pt_sync sync) PT_WUR;
/* Creates the database (SQLite: the file, mode 0600) or brings its schema up to date,
 * then closes it (`postern init`). */
int pt_db_create(const char *database, char *err, size_t errlen) PT_WUR;
/* Closes the connection and its prepared statements, so a process can fork without
 * one (a connection must never cross fork()). */
int pt_db_close(void) PT_WUR;
/* From now on a commit that brings the WAL to PT_WAL_CHECKPOINT_PAGES does not copy it
 * back itself (SQLite's autocheckpoint would, before the request is answered): the
 * next pt_db_idle, called once the response is out, does. No-ops on PostgreSQL. */
void pt_db_defer_checkpoints(void);
void pt_db_idle(void);
int pt_begin(void) PT_WUR;
/* A transaction that ends access (a revocation, a deletion, a sign-out): with
 * synchronous = revocations (the default) or full it is on the disk before
 * pt_commit returns, so a power cut can never bring back what it ended. */
int pt_begin_durable(void) PT_WUR;
int pt_commit(void) PT_WUR;
void pt_rollback(void);
/* Creates or migrates the schema on the open connection. */
int pt_db_init_schema(char *err, size_t errlen) PT_WUR;
/* A consistent copy of an SQLite database into a new file dest (mode 0600), while the
 * servers go on; PT_ERR_CONFIG for PostgreSQL (pg_dump is its tool). */
int pt_db_backup(const char *dest, char *err, size_t errlen) PT_WUR;
/* After a janitor run: SQLite truncates its WAL and refreshes its statistics. */
void pt_db_maintain(void);
/* A bigger cache for a bulk load (the benchmarks' seeder). */
void pt_db_bulk(void);
/* Work only one node of several should do at a time (the janitor): *got true when
 * this process holds it (PostgreSQL: a session advisory lock, released when the
 * connection closes; SQLite: always). */
int pt_db_exclusive(bool *got) PT_WUR;
/* The schemas, embedded from schema.sql and schema.pg.sql at build time. */
extern const char pt_schema_sql[];
extern const char pt_schema_pg_sql[];

/* ---- storage functions, by area: each says what it returns; rows are named structs */

/* @@ users, sessions, organizations */
struct pt_user;
struct pt_app;

/* Q_USER_BY_NAME: a user as sign-in reads them. */
struct pt_login_row {
	int64_t id;
	const char *name;
	const char *password;   /* the libsodium hash; NULL: none (a REMOTE_USER account) */
	bool admin;
};
/* The user of that name: PT_OK, PT_ERR_NOTFOUND when there is none, or an error. */
int pt_db_user_by_name(pt_arena *, const char *name, size_t n, struct pt_login_row *) PT_WUR;
/* The user of that id (Q_USER_BY_ID): PT_OK, PT_ERR_NOTFOUND, or an error. */
int pt_db_user_by_id(pt_arena *, int64_t id, struct pt_user *) PT_WUR;
/* Inserts a user (password_hash NULL: none), *id the new id. PT_ERR_EXISTS when the
 * name is taken. In the caller's transaction, with the two below. */
int pt_db_user_insert(const char *name, size_t n, const char *password_hash, bool admin,
    int64_t now, int64_t *id) PT_WUR;
/* Inserts the personal organization of a user, *id the new id. */
int pt_db_org_personal_insert(const char *name, size_t n, int64_t user_id, int64_t now,
    int64_t *id) PT_WUR;
/* Makes a user a member of an organization with a role ("owner", "member"). */
int pt_db_member_insert(int64_t org_id, int64_t user_id, const char *role) PT_WUR;
/* Q_USER_ORGS: an organization a user is a member of. */
struct pt_org_row {
	int64_t id;
	const char *name;
};
/* The organizations of a user, the personal one first, then by name: an arena array
 * (*n 0 when none). PT_OK or an error (never a partial list). */
int pt_db_user_orgs(pt_arena *, int64_t user_id, struct pt_org_row **rows, size_t *n) PT_WUR;
/* PT_OK when the user is a member of the organization, PT_ERR_NOTFOUND when not, or
 * an error. */
int pt_db_user_in_org(int64_t user_id, int64_t org_id) PT_WUR;
/* Stores a session by the hash of its cookie. */
int pt_db_session_insert(const uint8_t hash[PT_HASH_LEN], int64_t user_id, int64_t now,
    int64_t expires) PT_WUR;
/* The user of the session with that hash, unexpired at now (Q_SESSION_GET): PT_OK,
 * PT_ERR_NOTFOUND when there is no such live session, or an error. */
int pt_db_session_user(pt_arena *, const uint8_t hash[PT_HASH_LEN], int64_t now,
    struct pt_user *) PT_WUR;
/* Ends one session / every session of a user: one durable statement each (PT_OK also
 * when there was none); *ended, unless NULL, how many sessions ended. */
int pt_db_session_delete(const uint8_t hash[PT_HASH_LEN]) PT_WUR;
int pt_db_sessions_delete_user(int64_t user_id, int64_t *ended) PT_WUR;

/* @@ the OAuth core: apps, grants, codes, tokens, consent requests */
/* The app with that client_id (Q_APP_BY_CLIENT_ID), texts in the arena: PT_OK,
 * PT_ERR_NOTFOUND, or an error. */
int pt_db_app_by_client_id(pt_arena *, const char *client_id, size_t n, struct pt_app *) PT_WUR;
/* Deleting apps and users, each one durable statement outside a transaction. The app
 * stops working (no grant type, no redirect URI, no secret): PT_ERR_NOTFOUND when
 * there is no such app. */
int pt_db_app_disable(int64_t app_id) PT_WUR;
/* One batch of at most limit tokens (grants) of an app, or tokens of a user: *deleted
 * says how many went (fewer than limit: the last batch). */
int pt_db_app_tokens_delete_batch(int64_t app_id, int limit, int64_t *deleted) PT_WUR;
int pt_db_app_grants_delete_batch(int64_t app_id, int limit, int64_t *deleted) PT_WUR;
int pt_db_user_tokens_delete_batch(int64_t user_id, int limit, int64_t *deleted) PT_WUR;
/* The row itself (what is left goes by cascade): PT_ERR_NOTFOUND when there was none. */
int pt_db_app_delete(int64_t app_id) PT_WUR;
int pt_db_user_delete(int64_t user_id) PT_WUR;
/* One app the user owns (Q_USER_APPS) into *app_id: PT_ERR_NOTFOUND when none is left. */
int pt_db_user_app_any(int64_t user_id, int64_t *app_id) PT_WUR;

/* Q_GRANT_FIND, Q_GRANT_FIND_ANY: what a user granted an app for one organization. */
struct pt_grant_row {
	int64_t id;
	const char *scope;
	int64_t org_id;
	const char *redirect_uri; /* the one approved on the consent page; NULL: none */
};
/* The grant of user to app for org: PT_OK, PT_ERR_NOTFOUND, or an error. */
int pt_db_grant_find(pt_arena *, int64_t user_id, int64_t app_id, int64_t org_id,
    struct pt_grant_row *) PT_WUR;
/* The user's grants to app for organizations they are still a member of, the last used
 * first: an arena array (*n 0 when none). PT_OK or an error. */
int pt_db_grants_of_app(pt_arena *, int64_t user_id, int64_t app_id, struct pt_grant_row **rows,
    size_t *n) PT_WUR;
/* Records (or replaces the scope of) the grant, *grant_id its id; redirect_uri NULL
 * keeps the one recorded. PT_ERR_NOTFOUND when the user is not a member of org. */
int pt_db_grant_upsert(int64_t user_id, int64_t app_id, int64_t org_id, const char *scope,
    int64_t now, const char *redirect_uri, int64_t *grant_id) PT_WUR;
/* Revokes a grant with its tokens (cascade); PT_OK also when it was gone already. */
int pt_db_grant_delete(int64_t grant_id) PT_WUR;

/* Q_CODE_GET: a code's own row, with its grant. */
struct pt_code_row {
	int64_t id;               /* the row: the access token's once redeemed */
	int64_t grant_id;
	const char *redirect_uri; /* NULL when the request is no longer kept */
	bool redirect_given;      /* the authorization request named it */
	const char *scope;
	const char *challenge;    /* PKCE S256; NULL: none */
	const char *resource;     /* NULL: none */
	int64_t expires;          /* of the code; 0: unknown (never live) */
	bool used;                /* redeemed (or a refresh token made from it) */
	int64_t app_id, user_id, org_id;
	const char *nonce;        /* OpenID Connect: the request's nonce; NULL: none */
	int64_t auth_time;        /* when the user signed in for it; 0: unknown */
	const char *jkt;          /* DPoP: the request's dpop_jkt (RFC 9449 §10); NULL: none */
};
/* The code with that hash: PT_OK, PT_ERR_NOTFOUND, or an error. */
int pt_db_code_get(pt_arena *, const uint8_t hash[PT_HASH_LEN], struct pt_code_row *) PT_WUR;
/* Stores a new code of c->grant_id with its request (redirect_uri, redirect_given,
 * scope, challenge, resource, expires, nonce, auth_time, jkt). */
int pt_db_code_insert(const uint8_t hash[PT_HASH_LEN], const struct pt_code_row *c, int64_t now)
    PT_WUR;
/* Deletes the pending codes of a grant but its newest keep. */
int pt_db_codes_trim(int64_t grant_id, int keep) PT_WUR;
/* Redeems the code in row code_id: it becomes the access token of hash (expires 0:
 * never), bound to the DPoP key thumbprint jkt (NULL: a Bearer token). One conditional
 * statement: PT_ERR_NOTFOUND when the row is no longer an unused code (redeemed
 * meanwhile, by another node too: a replay). */
int pt_db_code_redeem(const uint8_t hash[PT_HASH_LEN], int64_t now, int64_t expires,
    const char *jkt, int64_t code_id) PT_WUR;
/* A refresh token of hash that keeps a copy of the request of the code in row code_id,
 * bound to jkt (NULL: none): PT_ERR_NOTFOUND when that row is gone. */
int pt_db_refresh_from_code(const uint8_t hash[PT_HASH_LEN], const char *scope, int64_t now,
    int64_t expires, const char *jkt, int64_t code_id) PT_WUR;
/* Stores a token of kind (access or refresh) of a grant; code_hash (NULL: none) the
 * code it descends from, resource NULL: none, expires 0: never, auth_time (when the user
 * signed in for the grant's code) 0: unknown, jkt the DPoP key it is bound to (NULL:
 * none). */
int pt_db_token_insert(const uint8_t hash[PT_HASH_LEN], enum pt_token_kind kind, int64_t grant_id,
    const uint8_t *code_hash, const char *scope, const char *resource, int64_t now,
    int64_t expires, int64_t auth_time, const char *jkt) PT_WUR;
/* Revokes every token descended from the code of code_hash (a replayed code). */
int pt_db_tokens_delete_by_code(const uint8_t code_hash[PT_HASH_LEN]) PT_WUR;
/* Revokes one token; PT_OK also when it was gone already. */
int pt_db_token_delete(int64_t token_id) PT_WUR;

/* Q_TOKEN_CHECK: a token row of any kind, with who and what it is for. */
struct pt_token_row {
	const char *user_name;
	int64_t org_id;
	const char *scope;
	const char *client_id;
	int64_t expires;        /* 0: never */
	int64_t id;
	int64_t grant_id;
	int64_t created;
	int64_t user_id;
	const char *resource;   /* NULL: none */
	enum pt_token_kind kind;
	int64_t last_used;      /* 0: never */
	int64_t app_id;
	int64_t auth_time;      /* when the user signed in for its code; 0: unknown */
	const char *jkt;        /* DPoP: the thumbprint of the key it is bound to; NULL: none */
};
/* The token row of that hash, whatever its kind or expiry: PT_OK, PT_ERR_NOTFOUND, or
 * an error. The check's one read. */
int pt_db_token_check(pt_arena *, const uint8_t hash[PT_HASH_LEN], struct pt_token_row *) PT_WUR;
/* (An app's own token, client_credentials, reads grant_id 0, user_id 0, user_name NULL,
 * org_id 0 and kind access.) Stores one, expiring at expires (never 0), bound to the
 * DPoP key jkt (NULL: none). */
int pt_db_client_token_insert(const uint8_t hash[PT_HASH_LEN], int64_t app_id, const char *scope,
    const char *resource, int64_t now, int64_t expires, const char *jkt) PT_WUR;
/* Records the first use of a DPoP proof (the keyed hash of its key and jti), kept until
 * expires: PT_OK, PT_ERR_EXISTS when it was used before and is still live (a replay),
 * PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_dpop_proof_use(const uint8_t hash[PT_HASH_LEN], int64_t expires, int64_t now) PT_WUR;
/* Records that a token (and its grant) was used at now; best effort and never waiting
 * for another writer: PT_ERR_BUSY at once when the write lock is held (the grant is
 * then not touched either). */
int pt_db_token_touch(int64_t token_id, int64_t grant_id, int64_t now) PT_WUR;
/* Rotates a refresh token: row token_id goes from kind refresh to used, in one
 * conditional statement. *from_code says whether it descends from a code, code_hash
 * then that code's hash. PT_ERR_NOTFOUND when it was no refresh token any more (used
 * meanwhile, by another node too: a reuse). */
int pt_db_refresh_take(int64_t token_id, uint8_t code_hash[PT_HASH_LEN], bool *from_code) PT_WUR;

/* Q_REQUEST_TAKE: a pending consent request. */
struct pt_request_row {
	const char *query;      /* the authorization request, form-encoded */
	int64_t expires;
};
/* Deletes a user's pending requests but the newest keep. */
int pt_db_requests_trim(int64_t user_id, int keep) PT_WUR;
/* Stores a pending request by the hash of its id. */
int pt_db_request_insert(const uint8_t hash[PT_HASH_LEN], int64_t user_id, const char *query,
    int64_t expires) PT_WUR;
/* Takes (deletes and returns) the user's request of that hash, expired or not: one
 * DELETE … RETURNING, so of two takes at once one gets it. PT_ERR_NOTFOUND when there
 * was none to take. */
int pt_db_request_take(pt_arena *, const uint8_t hash[PT_HASH_LEN], int64_t user_id,
    struct pt_request_row *) PT_WUR;

/* @@ apps pages, registration, pictures, approved apps, attempts */
struct pt_app;

/* Stores a new app (f) inside the caller's transaction, with client id cid, secret_hash
 * (NULL for a public app) and created now: PT_OK with *id, PT_ERR_EXISTS (the client id
 * is taken), PT_ERR_BUSY or PT_ERR_DB. The picture is stored apart (pt_db_app_picture_set). */
int pt_db_app_insert(const struct pt_new_app *f, const char *cid, const uint8_t *secret_hash,
    int64_t now, int64_t *id) PT_WUR;
/* Stores or replaces the picture (n bytes, of type) of owner_id's app app_id; an app
 * owner_id does not own is left alone (PT_OK all the same). PT_OK, PT_ERR_BUSY or
 * PT_ERR_DB. */
int pt_db_app_picture_set(int64_t owner_id, int64_t app_id, const void *picture, size_t n,
    const char *type) PT_WUR;
/* Removes the picture of owner_id's app app_id (none: PT_OK). */
int pt_db_app_picture_clear(int64_t owner_id, int64_t app_id) PT_WUR;
/* Replaces the secret hash of the confidential app client_id of owner_id (0: of anyone),
 * durably, outside a transaction: PT_OK; PT_ERR_NOTFOUND when no such confidential app
 * changed; PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_app_rotate(const char *client_id, int64_t owner_id,
    const uint8_t hash[PT_HASH_LEN]) PT_WUR;

/* A row of a developer's app list. */
struct pt_apps_row {
	const char *client_id;
	const char *name;
	const char *description;
	bool has_picture;
	bool public;
	bool trusted;
	int64_t created;
	int64_t grants;             /* the grants it holds: the people who approved it */
};
/* The apps of owner_id, newest first, as an arena array: PT_OK (*n may be 0),
 * PT_ERR_BUSY or PT_ERR_DB (a failed read is never an empty list). */
int pt_db_apps_list(pt_arena *, int64_t owner_id, struct pt_apps_row **rows, size_t *n) PT_WUR;
/* The app client_id if owner_id owns it, into *app (id, client_id, name, description,
 * has_picture, redirect_uris, scopes, public, trusted, require_pkce, remember_consent,
 * owner_id; the rest zero): PT_OK; PT_ERR_NOTFOUND for no app and for another user's
 * alike; PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_apps_get(pt_arena *, const char *client_id, int64_t owner_id, struct pt_app *app) PT_WUR;
/* Saves the edit form f (name, description, redirect_uris, scopes, trusted, require_pkce,
 * remember_consent, public) to app_id of f->owner_id, inside the caller's transaction,
 * if the app is still public as was_public says (what the form was made from); a public
 * app loses its secret, new_hash (not NULL) replaces it. PT_OK; PT_ERR_NOTFOUND when no
 * row changed (not that owner's app, or switched by another save meanwhile);
 * PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_apps_update(int64_t app_id, bool was_public, const struct pt_new_app *f,
    const uint8_t *new_hash) PT_WUR;
/* An app's picture as stored. */
struct pt_picture_row {
	const uint8_t *picture;
	size_t n;
	const char *type;           /* as stored ("" when NULL): check it before serving it */
};
/* The picture of the app client_id (anyone's: the consent page shows it): PT_OK;
 * PT_ERR_NOTFOUND when there is no such app or it has no picture; PT_ERR_BUSY or
 * PT_ERR_DB. */
int pt_db_apps_picture_get(pt_arena *, const char *client_id, struct pt_picture_row *) PT_WUR;

/* A self-registered client (RFC 7591/7592) as stored: strings never NULL but the
 * three links (NULL: none). */
struct pt_register_row {
	int64_t id;
	const char *name, *redirect_uris, *scopes, *grant_types, *id_token_alg;
	const char *post_logout_redirect_uris, *auth_method, *application_type;
	const char *client_uri, *policy_uri, *tos_uri;
	int64_t created;
	bool has_secret;                  /* confidential: secret_hash set */
	uint8_t secret_hash[PT_HASH_LEN];
	bool has_token;                   /* a registration access token hash is stored */
	uint8_t token_hash[PT_HASH_LEN];
	bool require_dpop;                /* dpop_bound_access_tokens (RFC 9449 §5.2) */
};
/* Stores a client that registered itself (RFC 7591): needs PKCE, never skips the consent
 * page on a remembered approval; public unless r->has_secret. PT_OK, PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_register_insert(const char *cid, const struct pt_register_row *r) PT_WUR;
/* What the consent page says of an app: its https links (NULL: none) and who made it
 * (owner_name NULL: the admin command, or a client that registered itself). */
struct pt_app_consent_row {
	const char *client_uri, *policy_uri, *tos_uri;
	const char *owner_name;
	bool owner_is_admin;
};
int pt_db_app_consent_info(pt_arena *, int64_t app_id, struct pt_app_consent_row *r) PT_WUR;
/* The self-registered client cid: PT_OK with *r, PT_ERR_NOTFOUND, PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_register_get(pt_arena *, const char *cid, struct pt_register_row *r) PT_WUR;
/* Replaces the metadata of self-registered client r->id (not its secret, token or auth
 * method): PT_OK, PT_ERR_NOTFOUND (gone meanwhile), PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_register_update(const struct pt_register_row *r) PT_WUR;

/* A grant as the approved-apps pages show it. */
struct pt_approved_row {
	int64_t grant_id;
	const char *client_id;
	const char *app_name;
	bool has_picture;
	const char *org_name;
	const char *scope;          /* space-separated */
	int64_t created;
	int64_t last_used;          /* 0: never used */
};
/* The grants of user_id, the most recently used first, as an arena array: PT_OK (*n
 * may be 0), PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_approved_list(pt_arena *, int64_t user_id, struct pt_approved_row **rows,
    size_t *n) PT_WUR;
/* Grant grant_id if it is user_id's: PT_OK; PT_ERR_NOTFOUND for no grant and another
 * user's alike; PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_approved_get(pt_arena *, int64_t grant_id, int64_t user_id,
    struct pt_approved_row *) PT_WUR;
/* Deletes grant grant_id of user_id with its codes and tokens: PT_OK; PT_ERR_NOTFOUND
 * when no such grant of that user was deleted (by this call); PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_approved_delete(int64_t grant_id, int64_t user_id) PT_WUR;

/* Wrong guesses counted under key in the windows starting at since or later, into
 * *count: PT_OK, PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_attempts_get(const char *key, int64_t since, int64_t *count) PT_WUR;
/* Counts one more guess under key in the window starting at window. */
int pt_db_attempts_add(const char *key, int64_t window) PT_WUR;

/* What a revocation (RFC 7009) needs to know of a token. */
struct pt_revocable_row {
	int64_t token_id;
	int64_t grant_id;
	enum pt_token_kind kind;
	int64_t app_id;             /* the app it was issued to */
};
/* The token whose hash is hash: PT_OK, PT_ERR_NOTFOUND, PT_ERR_BUSY or PT_ERR_DB. */
int pt_db_revocable_get(const uint8_t hash[PT_HASH_LEN], struct pt_revocable_row *) PT_WUR;
/* Revokes it inside the caller's transaction: an access token alone; a refresh token
 * with its whole grant (RFC 7009 §2.1). Gone already: PT_OK all the same. */
int pt_db_revocable_delete(const struct pt_revocable_row *) PT_WUR;

/* @@ device grant, bridged device logins */

/* A device authorization as its device code's polls read it (Q_DEVICE_GET). */
struct pt_device_row {
	enum pt_device_state state;
	int64_t user_id;   /* who answered; 0 while pending */
	int64_t org_id;    /* the organization approved for; 0 unless approved */
	int64_t interval;  /* seconds between polls, grown by each slow_down */
	bool polled;       /* last_poll is set */
	int64_t last_poll;
	int64_t expires;
	int64_t app_id;
	const char *scope;
};
/* The device authorization of a device code's hash: PT_OK with *row; PT_ERR_NOTFOUND
 * when there is none (unknown, or removed by the janitor); PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_device_get(pt_arena *, const uint8_t hash[PT_HASH_LEN], struct pt_device_row *row) PT_WUR;
/* Records a poll at now. With at_interval, only when the last poll is at least the
 * code's interval ago, decided and written in one statement (two nodes answering two
 * polls at once cannot both pass): PT_ERR_NOTFOUND when it is too early (nothing is
 * written; answer with pt_db_device_slow) or the code is gone. PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_device_poll(const uint8_t hash[PT_HASH_LEN], int64_t now, bool at_interval) PT_WUR;
/* A poll that came too early (RFC 8628 §3.5): the code's interval grows by 5 s and the
 * poll is recorded at now. PT_OK (also when the code is gone), PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_device_slow(const uint8_t hash[PT_HASH_LEN], int64_t now) PT_WUR;
/* Approved to collected, once: PT_OK for the one caller that changed it; PT_ERR_NOTFOUND
 * when it is not (or no longer) approved; PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_device_collect(const uint8_t hash[PT_HASH_LEN]) PT_WUR;
/* Stores a pending device authorization for app_id. PT_OK; PT_ERR_EXISTS when the
 * user code (or the hash) is taken: pick another and call again. Outside a transaction
 * (on PostgreSQL the unique violation would abort it). PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_device_insert(const uint8_t hash[PT_HASH_LEN], const char *user_code, int64_t app_id,
    const char *scope, int64_t interval, int64_t expires) PT_WUR;
/* A pending, live device authorization as the verification page shows it
 * (Q_DEVICE_BY_USER_CODE). */
struct pt_device_pending_row {
	const char *client_id; /* the app asking */
	const char *scope;
};
/* The pending device authorization of a (normalized) user code, live at now: PT_OK with
 * *row; PT_ERR_NOTFOUND when none is (unknown, answered or expired); PT_ERR_BUSY,
 * PT_ERR_DB. */
int pt_db_device_by_user_code(pt_arena *, const char *user_code, int64_t now,
    struct pt_device_pending_row *row) PT_WUR;
/* The person's answer to a pending, live user code: approved for org_id, or denied
 * (org_id unused). PT_OK; PT_ERR_NOTFOUND when it is no longer pending or has expired
 * (answered meanwhile elsewhere); PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_device_decide(const char *user_code, bool approve, int64_t user_id, int64_t org_id,
    int64_t now) PT_WUR;

/* Stores a pending bridged device login. PT_OK; PT_ERR_EXISTS when the user code (or
 * the hash) is taken: pick another and call again. Outside a transaction, as
 * pt_db_device_insert. PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_insert(const uint8_t hash[PT_HASH_LEN], const char *user_code, int64_t expires) PT_WUR;
/* Where a bridged device login stands, as its CLI's poll reads it (Q_BRIDGE_POLL). */
struct pt_bridge_poll_row {
	int state; /* enum pt_bridge_state */
	int64_t expires;
};
/* PT_OK with *row; PT_ERR_NOTFOUND for an unknown (or already collected or forgotten)
 * device code; PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_poll(const uint8_t hash[PT_HASH_LEN], struct pt_bridge_poll_row *row) PT_WUR;
/* The upstream's answer, sealed (pt_seal with the row's hash), as it leaves the database
 * (Q_BRIDGE_COLLECT). */
struct pt_bridge_token_row {
	const uint8_t *token;
	size_t token_len;
	const uint8_t *org; /* NULL when the upstream named none */
	size_t org_len;
};
/* Deletes a ready, live login and returns what it held: once. PT_OK with *row;
 * PT_ERR_NOTFOUND when it is not ready, has expired or another poll collected it;
 * PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_collect(pt_arena *, const uint8_t hash[PT_HASH_LEN], int64_t now,
    struct pt_bridge_token_row *row) PT_WUR;
/* Forgets a login (denied or expired, once answered). PT_OK (also when it is already
 * gone), PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_delete(const uint8_t hash[PT_HASH_LEN]) PT_WUR;
/* The hash of the login a (normalized) user code names, pending or sent upstream and
 * live at now: PT_OK with hash; PT_ERR_NOTFOUND; PT_ERR_BUSY, PT_ERR_DB (also for a
 * malformed row). */
int pt_db_bridge_by_user_code(const char *user_code, int64_t now, uint8_t hash[PT_HASH_LEN]) PT_WUR;
/* Sends the login upstream with a fresh state (its hash), bound to a browser (its
 * hash), with its sealed PKCE verifier; the state sent before stops working. PT_OK;
 * PT_ERR_NOTFOUND when it is no longer pending or sent, or has expired; PT_ERR_BUSY,
 * PT_ERR_DB. */
int pt_db_bridge_send(const uint8_t hash[PT_HASH_LEN], const uint8_t state_hash[PT_HASH_LEN],
    const uint8_t browser_hash[PT_HASH_LEN], const uint8_t *sealed_verifier, size_t n,
    int64_t now) PT_WUR;
/* A login sent upstream, as the upstream's callback finds it by its state
 * (Q_BRIDGE_BY_STATE). */
struct pt_bridge_sent_row {
	uint8_t hash[PT_HASH_LEN];    /* the row's */
	uint8_t browser[PT_HASH_LEN]; /* the hash of the browser it is bound to */
	const uint8_t *verifier;      /* sealed; NULL if none */
	size_t verifier_len;
	int64_t expires;
};
/* PT_OK with *row; PT_ERR_NOTFOUND when no login was sent with that state (or it was
 * used); PT_ERR_BUSY, PT_ERR_DB (also for a malformed row). */
int pt_db_bridge_by_state(pt_arena *, const uint8_t state_hash[PT_HASH_LEN],
    struct pt_bridge_sent_row *row) PT_WUR;
/* Uses the state up: sent to state (PT_BRIDGE_EXCHANGING or PT_BRIDGE_DENIED), once.
 * PT_OK for the one caller that changed it; PT_ERR_NOTFOUND when the state was already
 * used or replaced; PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_take_state(const uint8_t hash[PT_HASH_LEN], const uint8_t state_hash[PT_HASH_LEN],
    int state) PT_WUR;
/* Exchanging to ready with the sealed token (and organization, NULL for none). PT_OK;
 * PT_ERR_NOTFOUND when it is no longer exchanging; PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_ready(const uint8_t hash[PT_HASH_LEN], const uint8_t *token, size_t token_len,
    const uint8_t *org, size_t org_len) PT_WUR;
/* Exchanging back to pending (the person may enter the code again). PT_OK (also when it
 * was not exchanging), PT_ERR_BUSY, PT_ERR_DB. */
int pt_db_bridge_retry(const uint8_t hash[PT_HASH_LEN]) PT_WUR;

/* @@ the admin command and the janitor (the benchmarks' seeder uses the flows' own) */

/* Lists that can be long (every user, app or token) are read through a callback
 * called once per row; a row's texts live until the callback returns. A callback
 * that returns anything but PT_OK ends the list with that value. */

/* A row of `postern user list` (Q_ADMIN_USER_LIST). */
struct pt_admin_user_row {
	int64_t id;
	const char *name;
	bool admin;
	int64_t created;
	int64_t org_id;            /* the personal organization; 0 when there is none */
};
/* Every user by id: PT_OK, or the callback's value, or a database error. */
int pt_db_admin_user_list(int (*each)(void *arg, const struct pt_admin_user_row *), void *arg) PT_WUR;
/* The user's id and personal organization (0 when there is none): PT_OK, or
 * PT_ERR_NOTFOUND when no user has that name. */
int pt_db_admin_user_id(const char *name, int64_t *id, int64_t *org_id) PT_WUR;
/* Sets the password hash of the user named name: PT_OK, or PT_ERR_NOTFOUND when no
 * user has that name. */
int pt_db_admin_user_passwd(const char *name, const char *hash) PT_WUR;
/* Revokes everything the user approved: grants (their codes and tokens go by cascade)
 * and device approvals not yet collected; *grants says how many grants went. */
int pt_db_admin_user_revoke(int64_t user_id, int64_t *grants) PT_WUR;

/* An organization (Q_ADMIN_ORG_GET). */
struct pt_admin_org_row {
	int64_t id;
	const char *name;
	int64_t personal_of;       /* the user whose personal one it is; 0 for a shared one */
};
/* Adds a (shared) organization made at now: PT_OK with *id. */
int pt_db_admin_org_add(const char *name, int64_t now, int64_t *id) PT_WUR;
/* PT_OK with the organization, or PT_ERR_NOTFOUND. */
int pt_db_admin_org_get(pt_arena *, int64_t id, struct pt_admin_org_row *) PT_WUR;
/* Makes the user a member of the organization with role, or changes the role of a
 * member. */
int pt_db_admin_member_set(int64_t org_id, int64_t user_id, const char *role) PT_WUR;
/* Ends a membership with what the user granted apps for the organization (grants,
 * their codes and tokens, uncollected device approvals): run it in a transaction.
 * PT_OK with *grants the grants revoked, or PT_ERR_NOTFOUND when the user was not a
 * member (nothing else removed). */
int pt_db_admin_member_remove(int64_t org_id, int64_t user_id, int64_t *grants) PT_WUR;
/* Deletes a shared organization (members, grants, codes, tokens and device approvals
 * by cascade): PT_OK, or PT_ERR_NOTFOUND when there is no such organization or it is
 * someone's personal one. */
int pt_db_admin_org_delete(int64_t id) PT_WUR;

/* An app as `postern app list/show` prints it (Q_ADMIN_APP_LIST). */
struct pt_admin_app_row {
	const char *client_id;
	const char *name;
	const char *description;
	const char *redirect_uris; /* '\n'-separated */
	const char *scopes;
	const char *grant_types;
	bool public;
	bool trusted;
	bool require_pkce;
	bool registered;
	const char *owner;         /* the owner's name; "" for none */
	int64_t created;
	bool resource_server;
	const char *id_token_alg;  /* RS256 or EdDSA */
	const char *post_logout_redirect_uris; /* '\n'-separated, "" when none */
	const char *access_token_format;       /* "opaque" or "jwt" */
	bool require_dpop;                     /* its token requests must carry a DPoP proof */
};
/* Every app by id, or only the one of client_id when it is not NULL (none: the
 * callback is never called). */
int pt_db_admin_app_list(const char *client_id, int (*each)(void *arg,
    const struct pt_admin_app_row *), void *arg) PT_WUR;
/* The app's row id: PT_OK, or PT_ERR_NOTFOUND when there is no such app. */
int pt_db_admin_app_id(const char *client_id, int64_t *id) PT_WUR;
/* Lets the app introspect every token (on) or its own only: PT_OK, or PT_ERR_NOTFOUND
 * when there is no such app. */
int pt_db_admin_app_set_resource_server(const char *client_id, bool on) PT_WUR;

/* A live access or refresh token (Q_ADMIN_TOKEN_LIST). */
struct pt_admin_token_row {
	int64_t id;
	int kind;                  /* PT_KIND_ACCESS or PT_KIND_REFRESH */
	const char *user;
	const char *client_id;
	int64_t org_id;
	const char *scope;
	int64_t created;
	int64_t expires;           /* 0: never */
	int64_t last_used;         /* 0: never */
	int64_t grant_id;
};
/* Access and refresh tokens by id, only the user's and the app's when user or
 * client_id is not NULL. */
int pt_db_admin_token_list(const char *user, const char *client_id,
    int (*each)(void *arg, const struct pt_admin_token_row *), void *arg) PT_WUR;
/* Revokes one token, or one grant with its codes and tokens: PT_OK, or
 * PT_ERR_NOTFOUND when there is no such row. */
int pt_db_admin_token_delete(int64_t id) PT_WUR;
int pt_db_admin_grant_delete(int64_t id) PT_WUR;

/* What the janitor removes, a batch at a time. */
enum pt_janitor {
	PT_JANITOR_CODES,          /* codes never redeemed, past their life */
	PT_JANITOR_REDEEMED,       /* redeemed codes past their life: their request is cleared */
	PT_JANITOR_SESSIONS,
	PT_JANITOR_DEVICES,
	PT_JANITOR_BRIDGE,         /* bridged device logins, with any token never collected */
	PT_JANITOR_TOKENS,
	PT_JANITOR_CLIENT_TOKENS,  /* client_credentials tokens past their life */
	PT_JANITOR_ATTEMPTS,       /* rate-limit counters whose window began before cutoff */
	PT_JANITOR_REQUESTS,       /* pending consent requests */
	PT_JANITOR_KEYS,           /* retired signing keys whose id_tokens have all expired */
	PT_JANITOR_UNAPPROVED,     /* self-registered clients no one approved, created before cutoff */
	PT_JANITOR_DPOP,           /* DPoP proofs that can no longer pass as fresh */
};
/* Removes (or clears) at most PT_DELETE_BATCH rows of the kind that expired at or
 * before cutoff, in one short statement; *n says how many: fewer than a batch means
 * none is left. */
int pt_db_janitor_batch(enum pt_janitor, int64_t cutoff, int64_t *n) PT_WUR;

/* @@ metrics: the gauges of GET /oauth/metrics */
/* Q_METRICS_COUNTS: what there is, at now. */
struct pt_metrics_counts_row {
	int64_t users;
	int64_t apps;
	int64_t access_tokens;   /* live (unexpired) access tokens */
	int64_t refresh_tokens;  /* live refresh tokens not yet used */
};
/* One statement: PT_OK with *row, or PT_ERR_BUSY / PT_ERR_DB. It counts the tokens
 * table's access and refresh rows by a scan of it (no index covers kind and expiry):
 * callers keep the answer for PT_METRICS_GAUGE_CACHE seconds. */
int pt_db_metrics_counts(int64_t now, struct pt_metrics_counts_row *row) PT_WUR;


int64_t pt_now(void);

/* ---------------------------------------------------------------- metrics */

/* Counters for Prometheus (lib/metrics.c), kept in one file of shared memory
 * (metrics_file) that every worker of every executable maps: a slot per executable
 * and worker, each counter an atomic add there, so counting costs no system call and no
 * lock, the counts of all processes add up, and a restarted worker's survive it. The
 * file starts with a magic, a layout version and its size; a file of another layout is
 * replaced, not reused. Without the file (it could not be opened or mapped: logged),
 * counting goes to a private slot and GET /oauth/metrics answers 500. */
#define PT_METRICS_ROUTES 32       /* route rows of one executable that get their own counts */
#define PT_METRICS_GAUGE_CACHE 10  /* seconds the database gauges (users, apps, tokens) are kept */

struct pt_site;
enum pt_mx_grant { PT_MX_CODE, PT_MX_REFRESH, PT_MX_DEVICE, PT_MX_CLIENT, PT_MX__GRANTS };

/* The supervisor, before it forks: maps cfg->metrics_file (creating it 0600 when there
 * is none) and records site's route paths for the labels. Workers inherit the mapping. */
void pt_metrics_open(const struct pt_config *, const struct pt_site *);
/* A worker: counts into slot `worker` (0..PT_MAX_PROCESSES-1) of its executable. */
void pt_metrics_worker(int worker);
struct pt_req;
/* One answered request: its route (r->endpoint) and status, and how long it took. */
void pt_metrics_request(const struct pt_req *, int64_t ns);
void pt_metrics_token(enum pt_mx_grant);
void pt_metrics_sign_in(bool ok);
/* A statement that failed: PT_ERR_BUSY counts as busy, PT_ERR_DB as an error. */
void pt_metrics_db(int rc);
/* The text exposition (format 0.0.4) of every executable's counters summed, and of
 * the gauges (NULL: left out, the database could not be read). */
struct pt_metrics_counts_row;
void pt_metrics_render(pt_buf *, const struct pt_metrics_counts_row *gauges);
/* Is the shared file mapped? */
bool pt_metrics_shared(void);

/* ---------------------------------------------------------------- templates */

/* Template values: key -> text, or key -> list of child values. Every text is
 * escaped when rendered; there is no raw slot. */
struct pt_tv;

struct pt_tv *pt_tv_new(pt_arena *);
void pt_tv_set(struct pt_tv *, const char *key, const char *value);
void pt_tv_setn(struct pt_tv *, const char *key, const char *value, size_t n);
void pt_tv_setf(struct pt_tv *, const char *key, const char *fmt, ...) PT_PRINTF(3, 4);
/* A URL for an href/src/action: kept only if relative or http(s), else "#". */
void pt_tv_url(struct pt_tv *, const char *key, const char *url);
/* Appends a child to the list `key` and returns it; lookups in the child fall
 * back to its parent. */
struct pt_tv *pt_tv_add(struct pt_tv *, const char *key);

/* Sets the directories searched for "name.html": override first, then dir. */
void pt_tmpl_dirs(const char *dir, const char *override);
/* Renders a template (compiled once per process) into b. Syntax:
 *   {{key}} escaped text; {{#key}}..{{/key}} a list or a non-empty value;
 *   {{^key}}..{{/key}} when absent or empty; {{>name}} another template. */
int pt_tmpl_render(pt_buf *, const char *name, const struct pt_tv *) PT_WUR;
/* Renders from a string, for tests. */
int pt_tmpl_render_string(pt_buf *, const char *src, const struct pt_tv *) PT_WUR;

/* ---------------------------------------------------------------- context */

/* What the OAuth core needs that is not HTTP: an arena for what it returns, the config
 * and the database. An executable hands over its request's (r->ctx); the admin command,
 * the benchmarks' seeder and the unit tests make their own with pt_ctx_init. */
struct pt_ctx {
	pt_arena *a;
	const struct pt_config *cfg;
	struct pt_store *store;
};

/* A context of arena a and config cfg on the open database (pt_db()). */
struct pt_ctx pt_ctx_init(pt_arena *a, const struct pt_config *cfg);

/* ---------------------------------------------------------------- requests */

/* What a route answers its errors in: an HTML page or a JSON OAuth error. */
enum pt_face { PT_PAGE, PT_API };

struct FCGX_Request;
struct pt_user {
	int64_t id;
	const char *name;
	bool admin;
	int64_t auth_time;   /* when this session signed in (now in remote_user mode); 0: unknown */
};

struct pt_req {
	struct pt_ctx ctx;        /* arena, config, database: what the core is handed */
	struct FCGX_Request *fcgx;
	const char *method;
	const char *path;         /* request path below base_path, starting with '/' */
	const char *query;        /* QUERY_STRING, "" when absent */
	const char *content_type; /* "" when absent */
	const char *cookie;       /* "" when absent */
	const char *authorization;/* "" when absent */
	const char *remote_user;  /* NULL when nginx did not set one */
	const char *remote_addr;
	const char *referer;      /* HTTP_REFERER, NULL when absent (error pages link back) */
	const char *dpop;         /* the DPoP header (RFC 9449), NULL when absent */
	int dpop_count;           /* how many DPoP headers came (more than one is refused) */
	const char *arg;          /* what the route's '*' or '**' matched, NULL when none */
	const struct pt_route *endpoint; /* the first row whose path matched (the metrics' label) */
	const struct pt_route *route; /* the dispatcher's match (NULL outside it: unit tests) */
	unsigned checked;         /* PT_CSRF, PT_CLIENT: what the handler has checked */
	const char *body;
	size_t body_len;
	pt_buf headers;           /* extra response headers, "Name: value\r\n" each */
	pt_buf *capture;          /* set (unit tests): the response is written here, not to FastCGI */
	enum pt_face face;        /* the route's: errors answered as a page or as JSON */
	bool responded;
	int status;               /* what was sent, for tests and logs */
	/* session state, filled by pt_session_user / pt_csrf_token */
	const char *sess;         /* session cookie value, NULL when none */
	const char *pre;          /* pre-session (CSRF) cookie value */
	struct pt_user *user;     /* cached signed-in user */
	bool user_looked_up;
};

/* Reads the FastCGI environment: method, path (always set, also on failure), query and
 * headers. Returns PT_ERR_TOOLONG for an oversized query or Authorization header (with
 * fail->param naming which), PT_ERR_CONTROL for control characters in them. */
int pt_req_read(struct pt_req *, struct pt_fail *) PT_WUR;
/* Reads the body, at most max_body bytes (PT_ERR_TOOLONG past that). */
int pt_req_read_body(struct pt_req *, size_t max_body, struct pt_fail *) PT_WUR;
const char *pt_req_param(const struct pt_req *, const char *name);
void pt_header(struct pt_req *, const char *name, const char *value);
/* Writes the status, headers and body. */
void pt_respond(struct pt_req *, int status, const char *ctype, const char *body, size_t n);
/* Same, with the page security headers (CSP frame-ancestors 'none', X-Frame-Options,
 * Referrer-Policy, nosniff, no-store). */
void pt_respond_page(struct pt_req *, int status, const char *html, size_t n);
/* Renders template `name` into a page response; a render failure gives 500. */
void pt_page(struct pt_req *, int status, const char *name, struct pt_tv *);
/* The same with the values of kv: key, value, ..., NULL (a NULL value leaves it empty). */
void pt_page_kv(struct pt_req *, int status, const char *name, const char *const *kv);
/* The JSON error: what pt_fail writes with (and pt_error_page, below, the HTML one).
 * A handler calls pt_fail with a named error instead (lib/error.c has the table). */
/* {"error","error_description"} with Cache-Control: no-store. */
void pt_json_error(struct pt_req *, int status, const char *error, const char *desc);
void pt_json(struct pt_req *, int status, const pt_buf *json);
void pt_redirect(struct pt_req *, const char *location);
/* 303 See Other: where a page goes after a form POST. */
void pt_see_other(struct pt_req *, const char *location);
/* An absolute URL of a path below the base URL ("/oauth/login" -> base + path). */
char *pt_url(struct pt_req *, const char *path);
/* The path below the site root ("/oauth/login" -> base_path + path), for cookies and forms. */
char *pt_path(struct pt_req *, const char *path);
bool pt_is_post(const struct pt_req *);
/* Parses the query, or the body as form or JSON by Content-Type. */
int pt_req_query(struct pt_req *, const struct pt_field *, size_t, struct pt_params *, struct pt_fail *) PT_WUR;
int pt_req_body(struct pt_req *, const struct pt_field *, size_t, struct pt_params *, struct pt_fail *) PT_WUR;

/* ---------------------------------------------------------------- errors */

/* Every error a request can end in. The table in error.c gives each its status, OAuth
 * error code, JSON description, page title and text, and WWW-Authenticate challenge;
 * a handler names the error and never a status. */
enum pt_error {
	PT_E_NONE = 0,
	PT_E_INVALID_REQUEST,       /* 400 invalid_request, "Bad request" */
	PT_E_NOT_FOUND,             /* 404 */
	PT_E_METHOD,                /* 405 (the dispatcher adds Allow) */
	PT_E_CLIENT_AUTH,           /* 401 invalid_client, WWW-Authenticate: Basic */
	PT_E_INVALID_GRANT,         /* 400 */
	PT_E_UNAUTHORIZED_CLIENT,   /* 400 */
	PT_E_UNSUPPORTED_GRANT_TYPE,/* 400 */
	PT_E_INVALID_SCOPE,         /* 400 */
	PT_E_INVALID_TARGET,        /* 400, RFC 8707 */
	PT_E_CLIENT_METADATA,       /* 400 invalid_client_metadata, RFC 7591 */
	PT_E_REDIRECT_URI,          /* 400 invalid_redirect_uri, RFC 7591 */
	PT_E_METADATA_TOO_LARGE,    /* 413 invalid_client_metadata */
	PT_E_REGISTRATION_OFF,      /* 403 access_denied */
	PT_E_AUTHORIZATION_PENDING, /* 400, RFC 8628 */
	PT_E_SLOW_DOWN,             /* 400, RFC 8628 */
	PT_E_ACCESS_DENIED,         /* 400 access_denied (a device flow's denial) */
	PT_E_EXPIRED_TOKEN,         /* 400, RFC 8628 */
	PT_E_INVALID_DEVICE_CODE,   /* 400 (the Postiz CLI's bridge) */
	PT_E_INVALID_TOKEN,         /* 401 invalid_token, WWW-Authenticate: Bearer */
	PT_E_INSUFFICIENT_SCOPE,    /* 403 insufficient_scope, WWW-Authenticate: Bearer */
	PT_E_BUSY,                  /* 503 temporarily_unavailable (pt_respond adds Retry-After) */
	PT_E_SERVER,                /* 500 server_error */
	PT_E_CSRF,                  /* 403 "Form expired" */
	PT_E_FORBIDDEN,             /* 403 "Not allowed" */
	PT_E_SIGNED_OUT,            /* 403 "Not signed in" */
	PT_E_SIGN_IN_REQUIRED,      /* 403: remote_user mode without REMOTE_USER */
	PT_E_NOT_SIGNED_OUT,        /* 403 "Not signed out" */
	PT_E_BAD_AUTHZ,             /* 400 "Invalid authorization request" (never redirected) */
	PT_E_ANSWERED,              /* 400 "Request already answered" */
	PT_E_NO_SECRET,             /* 400: rotating the secret of a public app */
	PT_E_EXPIRED,               /* 400 "Expired" */
	PT_E_UPSTREAM_DOWN,         /* 502: a bridge's upstream did not answer */
	PT_E_UPSTREAM_REFUSED,      /* 502: it answered with an error */
	PT_E_UPSTREAM_UNREADABLE,   /* 502: its answer held no token */
	PT_E_SIGN_IN_FAILED,        /* 401: wrong user name or password (the login form) */
	PT_E_TOO_MANY_GUESSES,      /* 429: over a limit of wrong user codes (with Retry-After) */
	PT_E_CLIENT_DOCUMENT,       /* 400: a client_id's metadata document is unusable (page) */
	PT_E_INVALID_DPOP_PROOF,    /* 400 invalid_dpop_proof (RFC 9449 §5) */
	PT_E_USE_DPOP_NONCE,        /* 400 use_dpop_nonce (RFC 9449 §8; the caller adds DPoP-Nonce) */
	PT_E__MAX
};

/* Which WWW-Authenticate goes with an error. */
enum pt_challenge { PT_CHALLENGE_NONE, PT_CHALLENGE_BASIC, PT_CHALLENGE_BEARER };

/* The status and the OAuth error code of e (for forms that answer with their own page). */
int pt_error_status(enum pt_error);
const char *pt_error_code(enum pt_error);
/* Answers e in the route's face (r->face, set by the dispatcher): JSON
 * {"error","error_description"} or the error page; detail replaces the table's
 * description or page text (NULL: keep it). Rolls back any open transaction first. */
void pt_fail(struct pt_req *, enum pt_error, const char *detail);
/* The error page of e (its status) with title and message: the signed-in header when the
 * user is signed in, and the ways back that fit (http.c: error_ways). */
void pt_error_page(struct pt_req *, enum pt_error, const char *title, const char *message);

/* ---------------------------------------------------------------- routes */

typedef void (*pt_handler)(struct pt_req *);

/* The methods a route takes (HEAD is taken as GET). */
enum {
	PT_GET = 1,
	PT_POST = 2,
	PT_OTHER = 4,                      /* PUT, DELETE, ... */
	PT_ANY = PT_GET | PT_POST | PT_OTHER, /* never a 405 (the check: nginx's auth_request
					       * keeps the method of the request it guards) */
};

/* What a route needs. The dispatcher enforces PT_SESSION (a signed-out visitor goes to
 * the login page; the handler finds the user in r->user), PT_NOBODY and PT_BRIDGE.
 * PT_CSRF and PT_CLIENT are checked by the handler, on the fields of its own form
 * (pt_csrf_ok, pt_client), and the table is held to them: either check on a route that
 * does not declare it is an assertion failure, and so is a PT_CLIENT route that answers
 * below 400 without having authenticated the client. */
enum {
	PT_SESSION = 1, /* a signed-in user */
	PT_CSRF = 2,    /* a POST carries the session's CSRF token */
	PT_CLIENT = 4,  /* client authentication (Basic or client_id + client_secret) */
	PT_NOBODY = 8,  /* never read a body: an nginx auth_request subrequest has none */
	PT_BRIDGE = 16, /* exists only with the upstream_* keys (a bridged device login) */
};

/* One row of an executable's route table. path is matched whole; '*' matches one
 * non-empty path segment and '**', at the end, the non-empty rest (r->arg gets either).
 * The first row matching path and method wins. */
struct pt_route {
	unsigned methods;
	const char *path;
	enum pt_face face;
	unsigned needs;
	pt_handler handler;
};

/* An executable: its name (processes NAME, the socket nginx passes to), its routes. */
struct pt_site {
	const char *name;
	size_t max_body;            /* the largest body any of its routes takes */
	enum pt_face unmatched;     /* what a 404 (and a malformed request to no route) is */
	const char *home;           /* a path: where a signed-out POST returns after sign-in */
	const struct pt_route *routes;
	size_t nroutes;
};

/* Does path match the route pattern? *arg, *argn: what '*' or '**' matched. */
bool pt_route_path_match(const char *pattern, const char *path, const char **arg, size_t *argn);
/* The first route matching method and path, or NULL; *allow gets the methods of every
 * route matching path, *path_hit the first of them (NULL: no route has this path). */
const struct pt_route *pt_route_find(const struct pt_site *, const struct pt_config *,
    const char *method, const char *path, unsigned *allow, const struct pt_route **path_hit);
/* Serves one request: reads it (400 when malformed), finds its route (404, 405 with
 * Allow), signs the user in when the route needs it, calls the handler. */
void pt_dispatch(struct pt_req *, const struct pt_site *);

/* An executable's main: loads the config, brings the schema up to date, then
 * supervises `processes NAME` worker processes that each open the database and accept
 * FastCGI requests on fd 0 (spawn-fcgi's socket), dispatching each with a fresh arena.
 * A worker that dies is forked again (at a bounded rate); SIGTERM or SIGINT stops the
 * workers and returns 0. */
int pt_serve(const struct pt_site *);

/* ---------------------------------------------------------------- sessions */

/* The signed-in user, from the session cookie or, with login = remote_user,
 * from REMOTE_USER (created on first sight). Returns PT_ERR_NOTFOUND when
 * signed out, PT_ERR_DB on failure. */
int pt_session_user(struct pt_req *, struct pt_user *) PT_WUR;
/* For pages: true with the signed-in user in *u; otherwise false with a response
 * already sent: the login page (coming back to return_to, a path below the base
 * URL) when signed out, 403 when nginx vouched for nobody in remote_user mode,
 * 500 when the session could not be read. */
bool pt_signed_in(struct pt_req *, struct pt_user *u, const char *return_to);
/* "YYYY-MM-DD HH:MM" in UTC, as the pages show times. */
const char *pt_utc_time(pt_arena *, int64_t t);
struct pt_app;
/* The consent page's shared slots (app, who made it and its links, scopes,
 * organizations; the form posts to action, a path below the base URL; "not you? switch
 * account" signs out and comes back to return_to, a path below the base URL, NULL:
 * no such link); NULL with a 500 page already sent. */
struct pt_tv *pt_consent_vars(struct pt_req *, const struct pt_app *, const char *scope,
    const struct pt_user *, const char *action, const char *return_to);
/* Sets a cookie of this server: Path = the base path, HttpOnly, SameSite=Lax, Secure
 * unless the base URL is plain http on loopback (or as cookie_secure says); max_age < 0
 * keeps it for the browser's session. */
void pt_cookie_set(struct pt_req *, const char *name, const char *value, long max_age);
/* Starts a session for user_id and sets the cookie. */
int pt_session_start(struct pt_req *, int64_t user_id) PT_WUR;
void pt_session_end(struct pt_req *);
/* Ends every session of a user (sign out everywhere, a password change). */
int pt_sessions_end_all(int64_t user_id) PT_WUR;
/* The CSRF token for forms on this page, bound to the session (or, before
 * sign-in, to a pre-session cookie it sets when missing). */
const char *pt_csrf_token(struct pt_req *);
bool pt_csrf_ok(struct pt_req *, const char *tok, size_t n);
/* Verifies a user's password; PT_OK, PT_ERR_NOTFOUND (unknown or wrong, same
 * time either way) or PT_ERR_DB. */
int pt_password_check(pt_arena *, const char *name, size_t nn, const char *pw, size_t pn,
    struct pt_user *) PT_WUR;
/* Creates a user (+ personal organization); pw may be NULL (remote_user). */
int pt_user_create(const char *name, size_t n, const char *pw, size_t pn, bool admin,
    int64_t *id) PT_WUR;

/* ---------------------------------------------------------------- oauth */

struct pt_app {
	int64_t id;
	const char *client_id;
	const char *name;
	const char *description;
	bool has_picture;
	const char *redirect_uris; /* '\n'-separated */
	const char *scopes;        /* allowed, space-separated; "" = every configured scope */
	bool public;
	bool trusted;
	bool require_pkce;
	bool remember_consent;
	const char *grant_types;   /* space-separated */
	uint8_t secret_hash[PT_HASH_LEN];
	bool has_secret;
	int64_t owner_id;
	bool registered;           /* came from RFC 7591 registration */
	bool resource_server;      /* an admin let it introspect every token */
	bool vouched;              /* made by an administrator (or the admin command) */
	const char *id_token_alg;  /* how its id_tokens are signed: "RS256" or "EdDSA" */
	const char *post_logout_redirect_uris; /* '\n'-separated, "" when none */
	bool access_jwt;           /* its access tokens are JWTs (RFC 9068), not pat_… */
	bool require_dpop;         /* its token requests must carry a DPoP proof (RFC 9449 §5.2) */
};

int pt_app_get(pt_arena *, const char *client_id, size_t n, struct pt_app *) PT_WUR;

/* Client ID Metadata Documents (lib/cimd.c; it links libcurl, only the authorize
 * executable calls it). Whether v is a client_id to fetch: https, a host, a path, no
 * user info, fragment or dot segment, at most PT_CIMD_MAX_URL bytes. */
bool pt_cimd_is_url(const char *v, size_t n);
/* Makes the apps row of the document at url fresh: nothing when the last fetch is
 * still fresh, else fetches (https only, no redirects, public addresses only unless
 * client_metadata_allow_hosts names it, PT_CIMD_TIMEOUT_MS, PT_CIMD_MAX_DOCUMENT,
 * application/json), checks and stores it. PT_OK; PT_ERR_INVALID with *why for the
 * error page; PT_ERR_DB. */
int pt_cimd_resolve(const struct pt_ctx *, const char *url, size_t n, const char **why) PT_WUR;
/* The storage of the above (lib/store_cimd.c). */
int pt_db_cimd_get(const char *url, int64_t *app_id, int64_t *expires) PT_WUR;
int pt_db_cimd_save(const char *url, const char *name, const char *redirect_uris,
    const char *grant_types, int64_t now, int64_t expires) PT_WUR;
/* Deletes an app with every grant, code, token and device request: the app stops
 * working at once, its rows go in batches of PT_DELETE_BATCH (one short transaction
 * each). PT_ERR_NOTFOUND when there is no such app. */
int pt_app_delete(int64_t app_id) PT_WUR;
/* Deletes a user with their apps (as pt_app_delete), grants, tokens, sessions, device
 * requests and personal organization. PT_ERR_NOTFOUND when there is no such user. */
int pt_user_delete(int64_t user_id) PT_WUR;
bool pt_app_allows_grant(const struct pt_app *, const char *grant_type);

/* Authenticates the client of a token/revoke/introspect request: HTTP Basic
 * (RFC 6749 §2.3.1) or client_id + client_secret from the body; a public app
 * sends client_id only. Secrets are compared as keyed hashes in constant time.
 * PT_E_NONE with *app filled; else PT_E_CLIENT_AUTH (an unknown client, a wrong secret
 * and a missing one are told apart in the log only), PT_E_INVALID_REQUEST (two methods,
 * or a client_id that differs from Basic's) or PT_E_BUSY, with *desc saying why. */
enum pt_error pt_client_auth(struct pt_req *, const char *id, size_t idn, const char *secret,
    size_t secretn, struct pt_app *, const char **desc) PT_WUR;
/* What a PT_CLIENT route calls: true with *app; false once the failure is answered
 * (a 401 carries WWW-Authenticate: Basic, RFC 6749 §5.2). */
bool pt_client(struct pt_req *, const char *id, size_t idn, const char *secret,
    size_t secretn, struct pt_app *) PT_WUR;

/* The fields of an authorization request, shared by authorize and consent. */
enum {
	AZ_CLIENT_ID,
	AZ_REDIRECT_URI,
	AZ_RESPONSE_TYPE,
	AZ_SCOPE,
	AZ_STATE,
	AZ_CODE_CHALLENGE,
	AZ_CODE_CHALLENGE_METHOD,
	AZ_RESOURCE,
	AZ_NONCE,
	AZ_PROMPT,          /* OpenID Connect Core §3.1.2.1 */
	AZ_MAX_AGE,
	AZ_LOGIN_HINT,
	AZ_ID_TOKEN_HINT,
	AZ_DPOP_JKT,        /* RFC 9449 §10: the code is bound to this key */
	AZ_AUTH_AFTER,      /* postern's own: the sign-in a prompt=login or max_age sent the
			     * user to; a session at least that new satisfies them */
	AZ__MAX
};
extern const struct pt_field pt_authz_fields[AZ__MAX];

/* A parsed and checked authorization request (authorize and consent both run it). */
struct pt_authz {
	struct pt_app app;
	const char *client_id;
	const char *redirect_uri;   /* the one to use (registered one when omitted) */
	bool redirect_uri_given;
	bool redirect_exact;        /* byte for byte a registered one (no loopback port change) */
	const char *response_type;
	const char *scope;          /* normalised, default applied */
	const char *state;
	const char *challenge;
	const char *resource;
	const char *nonce;          /* OpenID Connect; NULL: none */
	const char *dpop_jkt;       /* RFC 9449 §10; NULL: none */
	unsigned prompt;            /* PT_PROMPT_* bits */
	int64_t max_age;            /* seconds; -1: none */
	const char *login_hint;     /* NULL: none */
	bool has_hint;              /* an id_token_hint we signed, issued to this client */
	struct pt_id_hint hint;
	int64_t auth_after;         /* AZ_AUTH_AFTER; 0: none */
	/* set when an error goes back to the client, else NULL */
	const char *error;
	const char *error_description;
};

/* The prompt values (OIDC Core §3.1.2.1; select_account is taken as login: signing in
 * again is how one picks another account here). */
enum { PT_PROMPT_NONE = 1, PT_PROMPT_LOGIN = 2, PT_PROMPT_CONSENT = 4 };

/* Checks client_id and redirect_uri first: on failure returns PT_ERR_INVALID
 * with fail->reason describing it for the HTML error page. Otherwise returns
 * PT_OK, with az->error set if the rest of the request is bad (to redirect). */
int pt_authz_check(const struct pt_ctx *, const struct pt_params *, struct pt_authz *,
    struct pt_fail *) PT_WUR;
/* The redirect back to the client: error or code, with state and iss. */
void pt_authz_redirect(struct pt_req *, const struct pt_authz *, const char *code,
    const char *error, const char *desc);
/* An error of a checked request (az->error): back to the client only when the user is
 * signed in and the client is one the server may send people to unasked (made by an
 * administrator, trusted, or approved by this user before); otherwise an error page,
 * so this server's name is never an open redirector (RFC 9700 §4.11.2). u is NULL
 * when nobody is signed in. */
void pt_authz_fail(struct pt_req *, const struct pt_authz *, const struct pt_user *u);
/* Records the grant and issues a code for it; with on_page (the user approved on the
 * consent page) the grant remembers the redirect URI. PT_ERR_NOTFOUND when the user is
 * not a member of the organization. */
int pt_code_issue(const struct pt_ctx *, const struct pt_authz *, const struct pt_user *u,
    int64_t org_id, bool on_page, char code[PT_TOKEN_LEN + 1]) PT_WUR;

/* Records (or widens) the grant of user+app+org; inside the caller's transaction.
 * redirect_uri, when not NULL, is remembered with it. PT_ERR_NOTFOUND when the user is
 * not a member of the organization: nothing is granted for it; PT_ERR_BUSY (retry
 * later) or PT_ERR_DB. */
int pt_grant_record(const struct pt_ctx *, int64_t user_id, int64_t app_id, int64_t org_id,
    const char *scope, const char *redirect_uri, int64_t *grant_id) PT_WUR;
/* The scope an app gets when it asks for want: want itself, or, when want is NULL or
 * empty, the default scope (or the app's allowed scopes when the default is not among
 * them); normalised. NULL when a scope is unknown or not allowed for the app. */
const char *pt_scope_for(const struct pt_ctx *, const struct pt_app *, const char *want);
/* The scope tokens of s, each once, in their first order, one space apart. */
char *pt_scope_normalize(pt_arena *, const char *s);

struct pt_issued {
	/* DPoP (RFC 9449): the thumbprint of the key the access token is bound to ("": a
	 * Bearer token); the refresh token is bound too when refresh_bound (a public
	 * client's, §5). Set before pt_access_jwt (its cnf claim) and pt_tokens_store. */
	char jkt[PT_JKT_LEN + 1];
	bool refresh_bound;
	char access[PT_TOKEN_LEN + 1];
	const char *jwt;       /* the access token as a JWT (RFC 9068) instead; NULL: access */
	int64_t jwt_exp;       /* its exp */
	char refresh[PT_TOKEN_LEN + 1];
	bool has_refresh;
	long expires_in;
	const char *id_token;  /* OpenID Connect; NULL: none */
};

/* Issues an access token (and a refresh token when access_token_ttl is set)
 * under a grant; inside the caller's transaction. The refresh token carries
 * refresh_scope (NULL: scope), so a narrowed access token narrows nothing else
 * (RFC 6749 §6). code_hash: the code the tokens come from (or NULL); code_row > 0:
 * that code's row, which becomes the access token (PT_ERR_NOTFOUND if it was
 * redeemed meanwhile). auth_time: when the user signed in for the grant's code, kept on
 * new rows for the id_tokens of refreshes (0: unknown). */
int pt_tokens_issue(const struct pt_ctx *, int64_t grant_id, const char *scope,
    const char *refresh_scope, const char *resource, const uint8_t *code_hash,
    int64_t code_row, int64_t auth_time, struct pt_issued *) PT_WUR;
/* pt_tokens_issue in two steps, so what depends on the new tokens (an id_token's
 * at_hash, whose signature costs an RSA operation) is made before the transaction that
 * stores them, which then holds its locks only for the writes: pt_tokens_new makes the
 * token strings (no database), pt_tokens_store stores those of out. */
void pt_tokens_new(const struct pt_ctx *, struct pt_issued *);
int pt_tokens_store(const struct pt_ctx *, int64_t grant_id, const char *scope,
    const char *refresh_scope, const char *resource, const uint8_t *code_hash,
    int64_t code_row, int64_t auth_time, const struct pt_issued *) PT_WUR;
/* Binds the tokens of out to a DPoP proof's key (NULL: none): the access token, and the
 * refresh token too for a public client (RFC 9449 §5). After pt_tokens_new. */
void pt_tokens_bind(struct pt_issued *, const struct pt_dpop *proof, const struct pt_app *);
/* The token endpoint's success answer. */
void pt_token_response(struct pt_req *, const struct pt_issued *, const char *scope,
    int64_t org_id);

/* ---------------------------------------------------------------- device flow */

/* Collects a device-code grant for app (RFC 8628 §3.4-3.5): answers
 * authorization_pending, slow_down, access_denied, expired_token, invalid_grant
 * or the token. postiz selects the Postiz CLI answer shape
 * ({"access_token","token_type","api_url","organization_id"}). */
void pt_device_token(struct pt_req *, const struct pt_app *, const char *device_code, size_t n,
    bool postiz, const struct pt_dpop *proof);

/* A user code: 8 characters of ABCDEFGHJKLMNPQRSTUVWXYZ23456789, shown as XXXX-XXXX. */
#define PT_USER_CODE_LEN 8
/* Issues a device code and a user code (RFC 8628 §3.2) for app, or, with app NULL, for
 * a device login bridged to the upstream. PT_OK, PT_ERR_BUSY or PT_ERR_DB. */
int pt_device_issue(const struct pt_ctx *, const struct pt_app *app, const char *scope,
    char dc[PT_TOKEN_LEN + 1], char uc[PT_USER_CODE_LEN + 1]) PT_WUR;
/* A typed user code uppercased, without spaces and hyphens; false unless that leaves
 * PT_USER_CODE_LEN characters of the alphabet. */
bool pt_user_code_normalize(const char *in, size_t n, char out[PT_USER_CODE_LEN + 1]);

/* Wrong user codes (RFC 8628 §5.1) are limited per person (who: a key naming a signed-in
 * user or a browser), per address and in all: 0 when who may guess again from addr, else
 * the seconds until it may (an unreadable count counts as over the limit). */
int64_t pt_guess_wait(pt_arena *, const char *who, const char *addr);
/* Counts a wrong guess of who from addr. */
void pt_guess_count(pt_arena *, const char *who, const char *addr);

/* ---------------------------------------------------------------- upstream (bridge) */

/* Where a bridged device login stands (bridge_devices.state, schema.sql; the SQL of
 * lib/sql.c spells the same numbers). */
enum pt_bridge_state {
	PT_BRIDGE_PENDING = 0,    /* waiting for the person to enter the code */
	PT_BRIDGE_SENT = 1,       /* sent to the upstream with a state */
	PT_BRIDGE_EXCHANGING = 2, /* back with a code, exchanging it */
	PT_BRIDGE_DENIED = 3,
	PT_BRIDGE_READY = 4,      /* the upstream's token waits for the CLI */
};

/* POST /device/token of a login bridged to the upstream: authorization_pending,
 * access_denied and expired_token (each answered once), invalid_device_code, or
 * {"access_token","api_url","organization_id"} once. In lib/bridge.c. */
void pt_bridge_token(struct pt_req *, const char *device_code, size_t n);

/* What a bridged device login keeps of the upstream token endpoint's answer. */
struct pt_upstream_answer {
	const char *access_token; /* 1..PT_MAX_UPSTREAM_TOKEN printable ASCII characters */
	const char *org;          /* `id` (Postiz: the organization), or NULL when absent */
};

/* Reads a 2xx answer of the upstream token endpoint: a JSON object with a string
 * access_token and, optionally, id (a string, or a whole number taken as its digits).
 * PT_OK; PT_ERR_TOOLONG (over PT_MAX_UPSTREAM_ANSWER), PT_ERR_ENCODING (not a JSON
 * object, or an escaped NUL in a member), PT_ERR_MISSING (no access_token) or
 * PT_ERR_INVALID (a member of the wrong type, length or characters), *out zeroed. */
int pt_upstream_answer_parse(pt_arena *, const char *s, size_t n,
    struct pt_upstream_answer *out) PT_WUR;
/* The message of an upstream error answer (error_description, error, or NestJS's
 * message string or list), as valid UTF-8 without control characters, at most
 * PT_MAX_UPSTREAM_MESSAGE bytes, for a page (escaped there); NULL when there is none. */
const char *pt_upstream_error_message(pt_arena *, const char *s, size_t n);

/* The key a bridge seals with, derived from the server key (crypto_kdf). */
void pt_bridge_key(uint8_t out[32], const uint8_t server_key[32]);
/* Seals m (n bytes) for the row named by row (crypto_secretbox under a key derived from
 * key and row): nonce, MAC and ciphertext, *outn bytes, in the arena. */
uint8_t *pt_seal(pt_arena *, const uint8_t key[32], const uint8_t *row, size_t rown,
    const char *m, size_t n, size_t *outn);
/* Opens what pt_seal made for the same row: a NUL-terminated copy, or NULL when it was
 * altered, belongs to another row or another key. */
char *pt_unseal(pt_arena *, const uint8_t key[32], const uint8_t *row, size_t rown,
    const uint8_t *c, size_t cn);

/* An HTTP answer: status and body (in the arena, NUL-terminated), or why there was none. */
struct pt_fetched {
	int status;
	const char *body;
	size_t n;
	const char *error; /* for the log: libcurl's message (never a header or the body) */
};

/* POSTs body to url (http or https; TLS verified; no redirects followed;
 * PT_UPSTREAM_CONNECT_MS and PT_UPSTREAM_TIMEOUT_MS) with headers ("Name: value", NULL
 * ended). PT_OK with any status; PT_ERR_TOOLONG when the answer is over max bytes;
 * PT_ERR_IO when no answer came (out->error says why). In lib/fetch.c, which links
 * libcurl. */
int pt_fetch_post(pt_arena *, const char *url, const char *const *headers, const char *body,
    size_t n, size_t max, struct pt_fetched *out) PT_WUR;

/* Why an exchange at the upstream failed: the error to answer, a message for the page. */
struct pt_upstream_fail {
	enum pt_error error;  /* PT_E_UPSTREAM_DOWN, _REFUSED or _UNREADABLE */
	const char *message;
};
/* Exchanges a bridged login's code (and PKCE verifier) at upstream_token_url with the
 * upstream app's credentials (Postiz: a JSON body; upstream_token_basic: a form body
 * with HTTP Basic). PT_OK with *out; else PT_ERR_IO, PT_ERR_INVALID or PT_ERR_ENCODING
 * with *why (the details go to the log, never a header or a body). In lib/fetch.c. */
int pt_upstream_exchange(pt_arena *, const struct pt_config *, const char *code,
    const char *verifier, struct pt_upstream_answer *out, struct pt_upstream_fail *why) PT_WUR;

#endif
