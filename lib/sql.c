/* sql.c: every SQL statement postern runs, in one table indexed by enum pt_q (store.h).
 * The text is SQL that SQLite and PostgreSQL (13 and later) both accept; where they
 * cannot agree, the PostgreSQL text follows as the entry's second string. Row readers
 * and the functions callers use are in store*.c. */
#include "store.h"

/* An app as struct pt_app has it (read by st_read_app): id, client_id, name, description,
 * has a picture, redirect_uris, scopes, public, trusted, require_pkce, remember_consent,
 * grant_types, secret_hash, owner_id, registered, resource_server, made by an
 * administrator (or by the admin command: no owner), the id_token signing algorithm, the
 * post-logout redirect URIs. */
#define APP_COLUMNS                                                                         \
	"SELECT id, client_id, name, description,"                                          \
	" EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = apps.id), redirect_uris, scopes," \
	" public, trusted, require_pkce, remember_consent, grant_types, secret_hash, owner_id,"  \
	" registered, resource_server,"                                                      \
	" coalesce((SELECT is_admin FROM users u WHERE u.id = apps.owner_id),"               \
	" CASE WHEN owner_id IS NULL THEN 1 ELSE 0 END), id_token_signed_response_alg,"          \
	" post_logout_redirect_uris, access_token_format, require_dpop"

const struct pt_sql pt_sql[Q__MAX] = {
	/* IMMEDIATE: SQLite takes the write lock at once, so two writers never deadlock on
	 * an upgrade; PostgreSQL locks rows, and every read-modify-write below is one
	 * conditional statement whose row count the caller checks */
	[Q_BEGIN] = {.sqlite = "BEGIN IMMEDIATE", .pg = "BEGIN"},
	[Q_COMMIT] = {.sqlite = "COMMIT"},
	[Q_ROLLBACK] = {.sqlite = "ROLLBACK"},

	/* ------------------------------------------------ users, sessions, organizations */
	[Q_USER_BY_NAME] = {.sqlite = "SELECT id, name, password, is_admin FROM users WHERE name = ?"},
	[Q_USER_BY_ID] = {.sqlite = "SELECT id, name, is_admin FROM users WHERE id = ?"},
	[Q_USER_INSERT] = {.sqlite = "INSERT INTO users (name, password, is_admin, created) VALUES (?, ?, ?, ?)"
			   " RETURNING id"},
	[Q_ORG_PERSONAL_INSERT] = {.sqlite = "INSERT INTO orgs (name, personal_of, created) VALUES (?, ?, ?)"
				   " RETURNING id"},
	[Q_MEMBER_INSERT] = {.sqlite = "INSERT INTO members (org_id, user_id, role) VALUES (?, ?, ?)"},
	[Q_USER_ORGS] = {.sqlite = "SELECT o.id, o.name FROM members m JOIN orgs o ON o.id = m.org_id"
			 " WHERE m.user_id = ? ORDER BY o.personal_of IS NULL, o.name, o.id"},
	[Q_USER_IN_ORG] = {.sqlite = "SELECT 1 FROM members WHERE user_id = ? AND org_id = ?"},
	[Q_SESSION_INSERT] = {.sqlite = "INSERT INTO sessions (hash, user_id, created, expires) VALUES (?, ?, ?, ?)"},
	[Q_SESSION_GET] = {.sqlite = "SELECT u.id, u.name, u.is_admin, s.created FROM sessions s JOIN users u ON u.id = s.user_id"
			   " WHERE s.hash = ? AND s.expires > ?"},
	[Q_SESSION_DELETE] = {.sqlite = "DELETE FROM sessions WHERE hash = ?"},
	[Q_SESSIONS_END_ALL] = {.sqlite = "DELETE FROM sessions WHERE user_id = ?"},

	/* ------------------------------------------------ apps as the OAuth core reads them */
	[Q_APP_BY_CLIENT_ID] = {.sqlite = APP_COLUMNS " FROM apps WHERE client_id = ?"},
	/* deleting an app or a user: switched off at once, then rows in short batches so
	 * no transaction holds the write lock for long, then the row itself */
	[Q_APP_DISABLE] = {.sqlite = "UPDATE apps SET grant_types = '', redirect_uris = '', secret_hash = NULL WHERE id = ?"},
	[Q_APP_TOKENS_BATCH] = {.sqlite = "DELETE FROM tokens WHERE id IN (SELECT t.id FROM grants g JOIN tokens t"
				" ON t.grant_id = g.id WHERE g.app_id = ? LIMIT ?)"},
	[Q_APP_GRANTS_BATCH] = {.sqlite = "DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE app_id = ? LIMIT ?)"},
	[Q_APP_DELETE] = {.sqlite = "DELETE FROM apps WHERE id = ?"},
	[Q_USER_APPS] = {.sqlite = "SELECT id FROM apps WHERE owner_id = ? LIMIT 1"},
	[Q_USER_TOKENS_BATCH] = {.sqlite = "DELETE FROM tokens WHERE id IN (SELECT t.id FROM grants g JOIN tokens t"
				 " ON t.grant_id = g.id WHERE g.user_id = ? LIMIT ?)"},
	[Q_USER_DELETE] = {.sqlite = "DELETE FROM users WHERE id = ?"},

	/* ------------------------------------------------ grants, codes, tokens */
	/* read to widen its scope: on PostgreSQL the row stays locked until the caller's
	 * transaction ends, so two approvals at once add both their scopes */
	[Q_GRANT_FIND] = {.sqlite = "SELECT id, scope FROM grants WHERE user_id = ? AND app_id = ? AND org_id = ?",
	    .pg = "SELECT id, scope FROM grants WHERE user_id = $1 AND app_id = $2 AND org_id = $3 FOR UPDATE"},
	/* only grants for organizations the user is still a member of */
	[Q_GRANT_FIND_ANY] = {
	    .sqlite = "SELECT g.id, g.scope, g.org_id, g.redirect_uri FROM grants g JOIN members m"
	    " ON m.user_id = g.user_id AND m.org_id = g.org_id WHERE g.user_id = ? AND g.app_id = ?"
	    " ORDER BY coalesce(g.last_used, g.created) DESC"},
	/* no row unless the user is a member of the organization: nothing is ever granted
	 * for an organization the user has left */
	[Q_GRANT_UPSERT] = {
	    .sqlite = "INSERT INTO grants (user_id, app_id, org_id, scope, created, redirect_uri)"
	    " SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT), CAST(?4 AS TEXT),"
	    " CAST(?5 AS BIGINT), CAST(?6 AS TEXT) WHERE EXISTS"
	    " (SELECT 1 FROM members WHERE user_id = ?1 AND org_id = ?3)"
	    " ON CONFLICT (user_id, app_id, org_id) DO UPDATE SET scope = excluded.scope,"
	    " redirect_uri = coalesce(excluded.redirect_uri, grants.redirect_uri) RETURNING id",
	    /* the membership row is locked (FOR KEY SHARE) until the grant commits: removing
	     * the member waits for it, then deletes the grant too; or it went first, and no
	     * grant is made (SQLite's writers are serialized anyway) */
	    .pg = "INSERT INTO grants (user_id, app_id, org_id, scope, created, redirect_uri)"
	    " SELECT CAST($1 AS BIGINT), CAST($2 AS BIGINT), CAST($3 AS BIGINT), CAST($4 AS TEXT),"
	    " CAST($5 AS BIGINT), CAST($6 AS TEXT) WHERE EXISTS"
	    " (SELECT 1 FROM members WHERE user_id = $1 AND org_id = $3 FOR KEY SHARE)"
	    " ON CONFLICT (user_id, app_id, org_id) DO UPDATE SET scope = excluded.scope,"
	    " redirect_uri = coalesce(excluded.redirect_uri, grants.redirect_uri) RETURNING id"},
	[Q_CODE_INSERT] = {
	    .sqlite = "INSERT INTO tokens (kind, code_hash, grant_id, redirect_uri, redirect_given, scope,"
	    " challenge, resource, code_expires, created, nonce, auth_time, jkt)"
	    " VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	/* a redemption: the code's row becomes the access token (keeping the request, so a
	 * replay is checked like a redemption before it revokes anything) */
	[Q_CODE_REDEEM] = {
	    .sqlite = "UPDATE tokens SET hash = ?, kind = 1, created = ?, expires = ?, jkt = ? WHERE id = ? AND kind = 0"},
	/* a grant keeps its newest pending codes only (a page reloaded in a loop does not
	 * grow the database) */
	[Q_CODE_TRIM] = {
	    .sqlite = "DELETE FROM tokens WHERE grant_id = ?1 AND kind = 0 AND id NOT IN"
	    " (SELECT id FROM tokens WHERE grant_id = ?1 AND kind = 0 ORDER BY id DESC LIMIT ?2)"},
	/* the code's own row (the lowest id with its hash; later ones came from it by refresh) */
	[Q_CODE_GET] = {
	    .sqlite = "SELECT t.grant_id, t.redirect_uri, t.redirect_given, t.scope, t.challenge,"
	    " t.resource, t.code_expires, t.kind <> 0, g.app_id, g.user_id, g.org_id, t.id, t.nonce,"
	    " t.auth_time, t.jkt"
	    " FROM tokens t JOIN grants g ON g.id = t.grant_id WHERE t.code_hash = ?"
	    " ORDER BY t.id LIMIT 1"},
	[Q_REFRESH_FROM_CODE] = {
	    .sqlite = "INSERT INTO tokens (hash, kind, grant_id, code_hash, scope, resource, created, expires,"
	    " redirect_uri, redirect_given, challenge, code_expires, auth_time, jkt) SELECT CAST(?1 AS BLOB), 2,"
	    " grant_id, code_hash, CAST(?2 AS TEXT), resource, CAST(?3 AS BIGINT), CAST(?4 AS BIGINT),"
	    " redirect_uri, redirect_given, challenge, code_expires, auth_time, CAST(?6 AS TEXT)"
	    " FROM tokens WHERE id = ?5",
	    .pg = "INSERT INTO tokens (hash, kind, grant_id, code_hash, scope, resource, created, expires,"
	    " redirect_uri, redirect_given, challenge, code_expires, auth_time, jkt) SELECT CAST($1 AS BYTEA), 2,"
	    " grant_id, code_hash, CAST($2 AS TEXT), resource, CAST($3 AS BIGINT), CAST($4 AS BIGINT),"
	    " redirect_uri, redirect_given, challenge, code_expires, auth_time, CAST($6 AS TEXT)"
	    " FROM tokens WHERE id = $5"},
	[Q_TOKEN_INSERT] = {
	    .sqlite = "INSERT INTO tokens (hash, kind, grant_id, code_hash, scope, resource, created, expires,"
	    " auth_time, jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
	/* a replayed code: the tokens that came from it */
	[Q_TOKEN_DELETE_BY_CODE] = {.sqlite = "DELETE FROM tokens WHERE code_hash = ?"},
	/* the check: one indexed lookup and three joins on primary keys */
	[Q_TOKEN_CHECK] = {
	    .sqlite = "SELECT u.name, g.org_id, t.scope, a.client_id, t.expires, t.id, g.id, t.created,"
	    " u.id, t.resource, t.kind, t.last_used, a.id, t.auth_time, t.jkt"
	    " FROM tokens t JOIN grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id"
	    " JOIN apps a ON a.id = g.app_id WHERE t.hash = ?"},
	[Q_TOKEN_TOUCH] = {.sqlite = "UPDATE tokens SET last_used = ? WHERE id = ?"},
	[Q_GRANT_TOUCH] = {.sqlite = "UPDATE grants SET last_used = ? WHERE id = ?"},
	/* refresh rotation: a used refresh token stays as kind 3 so reuse is seen; the code
	 * it came from passes to its successors (a replay of the code revokes them too) */
	[Q_REFRESH_TAKE] = {.sqlite = "UPDATE tokens SET kind = 3 WHERE id = ? AND kind = 2 RETURNING code_hash"},
	[Q_GRANT_DELETE] = {.sqlite = "DELETE FROM grants WHERE id = ?"},
	[Q_TOKEN_DELETE] = {.sqlite = "DELETE FROM tokens WHERE id = ?"},
	/* client_credentials: a token of the app itself, in the columns of Q_TOKEN_CHECK
	 * (no user, organization 0, grant 0, kind 1: access) */
	[Q_CLIENT_TOKEN_INSERT] = {
	    .sqlite = "INSERT INTO client_tokens (hash, app_id, scope, resource, created, expires, jkt)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?)"},
	[Q_CLIENT_TOKEN_CHECK] = {
	    .sqlite = "SELECT NULL, 0, c.scope, a.client_id, c.expires, c.id, 0, c.created, 0,"
	    " c.resource, 1, c.last_used, a.id, NULL, c.jkt FROM client_tokens c JOIN apps a ON a.id = c.app_id"
	    " WHERE c.hash = ?"},
	[Q_CLIENT_TOKEN_TOUCH] = {.sqlite = "UPDATE client_tokens SET last_used = ? WHERE id = ?"},
	[Q_CLIENT_TOKEN_DELETE] = {.sqlite = "DELETE FROM client_tokens WHERE id = ?"},
	/* a DPoP proof's first use (RFC 9449 §11.1): a row, or none when its hash is there
	 * and still live (a replay); a row past its life is taken over */
	[Q_DPOP_PROOF_USE] = {
	    .sqlite = "INSERT INTO dpop_proofs (hash, expires) VALUES (?1, ?2) ON CONFLICT (hash)"
	    " DO UPDATE SET expires = excluded.expires WHERE dpop_proofs.expires <= ?3"},

	/* ------------------------------------------------ pending consent requests */
	/* a user keeps the newest few */
	[Q_REQUEST_TRIM] = {
	    .sqlite = "DELETE FROM requests WHERE user_id = ?1 AND id NOT IN"
	    " (SELECT id FROM requests WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)"},
	[Q_REQUEST_INSERT] = {.sqlite = "INSERT INTO requests (hash, user_id, query, expires) VALUES (?, ?, ?, ?)"},
	[Q_REQUEST_TAKE] = {.sqlite = "DELETE FROM requests WHERE hash = ? AND user_id = ? RETURNING query, expires"},

	/* ------------------------------------------------ apps pages, registration, pictures */
	[Q_APP_INSERT] = {
	    .sqlite = "INSERT INTO apps (client_id, secret_hash, owner_id, name, description,"
	    " redirect_uris, scopes, grant_types, public, trusted, require_pkce,"
	    " remember_consent, resource_server, created, id_token_signed_response_alg,"
	    " post_logout_redirect_uris, access_token_format, require_dpop)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"},
	/* pictures live in a table of their own, off the row every token request reads;
	 * both statements name the owner, so a forged id never reaches another user's app */
	[Q_APP_PICTURE_SET] = {
	    .sqlite = "INSERT INTO app_pictures (app_id, picture, type)"
	    " SELECT id, CAST(?1 AS BLOB), CAST(?2 AS TEXT) FROM apps WHERE id = ?3 AND owner_id = ?4"
	    " ON CONFLICT (app_id) DO UPDATE SET picture = excluded.picture, type = excluded.type",
	    .pg = "INSERT INTO app_pictures (app_id, picture, type)"
	    " SELECT id, CAST($1 AS BYTEA), CAST($2 AS TEXT) FROM apps WHERE id = $3 AND owner_id = $4"
	    " ON CONFLICT (app_id) DO UPDATE SET picture = excluded.picture, type = excluded.type"},
	[Q_APP_PICTURE_CLEAR] = {
	    .sqlite = "DELETE FROM app_pictures WHERE app_id = (SELECT id FROM apps WHERE id = ? AND owner_id = ?)"},
	/* ?3: the owner, or NULL (the admin command) for any */
	[Q_APP_ROTATE] = {
	    .sqlite = "UPDATE apps SET secret_hash = ?1 WHERE client_id = ?2"
	    " AND (CAST(?3 AS BIGINT) IS NULL OR owner_id = ?3) AND public = 0"},
	[Q_APPS_LIST] = {
	    .sqlite = "SELECT a.client_id, a.name, a.description,"
	    " EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = a.id), a.public,"
	    " a.trusted, a.created, (SELECT count(*) FROM grants g WHERE g.app_id = a.id)"
	    " FROM apps a WHERE a.owner_id = ? ORDER BY a.created DESC, a.id DESC"},
	/* an app of its owner (the apps pages) */
	[Q_APPS_GET] = {.sqlite = APP_COLUMNS " FROM apps WHERE client_id = ? AND owner_id = ?"},
	/* ?9: public (drops the secret); ?10: a new secret hash, or NULL to keep the old one;
	 * ?12: public as the form found it, so a secret is never given to (or kept by) an app
	 * another save switched meanwhile (the caller checks that one row changed) */
	[Q_APPS_UPDATE] = {
	    .sqlite = "UPDATE apps SET name = ?1, description = ?2, redirect_uris = ?3, scopes = ?4,"
	    " trusted = ?5, require_pkce = ?6, remember_consent = ?7, public = ?9,"
	    " id_token_signed_response_alg = ?13, post_logout_redirect_uris = ?14,"
	    " grant_types = ?15, access_token_format = ?16,"
	    " secret_hash = CASE WHEN CAST(?9 AS BIGINT) <> 0 THEN NULL ELSE coalesce(?10, secret_hash) END"
	    " WHERE id = ?8 AND owner_id = ?11 AND public = ?12"},
	[Q_APPS_PICTURE_GET] = {
	    .sqlite = "SELECT p.picture, p.type FROM app_pictures p JOIN apps a ON a.id = p.app_id"
	    " WHERE a.client_id = ?"},
	/* a client that registered itself is public, needs PKCE, and never skips the consent
	 * page on a remembered approval (any local program can use its client_id) */
	/* a client that registered itself needs PKCE and never skips the consent page on a
	 * remembered approval (any local program can use its client_id); ?12: public (1
	 * for token_endpoint_auth_method none), ?13 its secret hash (NULL when public) */
	[Q_REGISTER_INSERT] = {
	    .sqlite = "INSERT INTO apps (client_id, name, redirect_uris, scopes, grant_types,"
	    " public, require_pkce, registered, remember_consent, created, id_token_signed_response_alg,"
	    " post_logout_redirect_uris, token_endpoint_auth_method, application_type,"
	    " registration_token_hash, client_uri, policy_uri, tos_uri, secret_hash, require_dpop)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?12, 1, 1, 0, ?6, ?7, ?8, ?9, ?10, ?11, ?14, ?15, ?16, ?13, ?17)"},
	/* what the consent page says of an app: its links, and who made it */
	[Q_APP_CONSENT_INFO] = {
	    .sqlite = "SELECT a.client_uri, a.policy_uri, a.tos_uri, u.name, coalesce(u.is_admin, 0)"
	    " FROM apps a LEFT JOIN users u ON u.id = a.owner_id WHERE a.id = ?"},
	/* RFC 7592: a self-registered client as its configuration endpoint reads it */
	[Q_REGISTER_GET] = {
	    .sqlite = "SELECT id, name, redirect_uris, scopes, grant_types, created,"
	    " id_token_signed_response_alg, post_logout_redirect_uris, token_endpoint_auth_method,"
	    " application_type, registration_token_hash, client_uri, policy_uri, tos_uri, public,"
	    " require_dpop FROM apps WHERE client_id = ? AND registered = 1"},
	[Q_REGISTER_UPDATE] = {
	    .sqlite = "UPDATE apps SET name = ?2, redirect_uris = ?3, scopes = ?4, grant_types = ?5,"
	    " id_token_signed_response_alg = ?6, post_logout_redirect_uris = ?7, application_type = ?8,"
	    " client_uri = ?9, policy_uri = ?10, tos_uri = ?11, require_dpop = ?12"
	    " WHERE id = ?1 AND registered = 1"},
	[Q_APPROVED_LIST] = {
	    .sqlite = "SELECT g.id, a.client_id, a.name, EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = a.id),"
	    " o.name, g.scope, g.created, g.last_used FROM grants g JOIN apps a ON a.id = g.app_id"
	    " JOIN orgs o ON o.id = g.org_id WHERE g.user_id = ?"
	    " ORDER BY coalesce(g.last_used, g.created) DESC, g.id DESC"},
	[Q_APPROVED_GET] = {
	    .sqlite = "SELECT g.id, a.client_id, a.name, EXISTS (SELECT 1 FROM app_pictures p WHERE p.app_id = a.id),"
	    " o.name, g.scope, g.created, g.last_used FROM grants g JOIN apps a ON a.id = g.app_id"
	    " JOIN orgs o ON o.id = g.org_id WHERE g.id = ? AND g.user_id = ?"},
	/* its codes and tokens go with it (ON DELETE CASCADE) */
	[Q_APPROVED_DELETE] = {.sqlite = "DELETE FROM grants WHERE id = ? AND user_id = ?"},
	[Q_ATTEMPTS_GET] = {
	    .sqlite = "SELECT CAST(coalesce(sum(count), 0) AS BIGINT) FROM attempts WHERE key = ? AND \"window\" >= ?"},
	[Q_ATTEMPTS_ADD] = {
	    .sqlite = "INSERT INTO attempts (key, \"window\", count) VALUES (?, ?, 1)"
	    " ON CONFLICT (key, \"window\") DO UPDATE SET count = attempts.count + 1"},
	/* a revocation (RFC 7009): whose token it is, and what goes with it */
	[Q_REVOCABLE_GET] = {
	    .sqlite = "SELECT t.id, t.grant_id, t.kind, g.app_id FROM tokens t JOIN grants g ON g.id = t.grant_id"
	    " WHERE t.hash = ?"},
	/* a client_credentials token: grant 0, kind 1 */
	[Q_CLIENT_REVOCABLE_GET] = {.sqlite = "SELECT id, 0, 1, app_id FROM client_tokens WHERE hash = ?"},

	/* ------------------------------------------------ device grant, bridged device logins */
	[Q_DEVICE_GET] = {
	    .sqlite = "SELECT state, user_id, org_id, \"interval\", last_poll, expires, app_id, scope"
	    " FROM devices WHERE hash = ?"},
	[Q_DEVICE_SLOW] = {.sqlite = "UPDATE devices SET \"interval\" = \"interval\" + 5, last_poll = ? WHERE hash = ?"},
	/* the poll allowed (?3 <> 0: only once the code's interval has passed) is decided
	 * by the write itself: of two polls at once on two nodes one changes the row, the
	 * other finds it just polled */
	[Q_DEVICE_POLL] = {
	    .sqlite = "UPDATE devices SET last_poll = ?1 WHERE hash = ?2"
	    " AND (?3 = 0 OR last_poll IS NULL OR last_poll + \"interval\" <= ?1)"},
	/* PT_DEVICE_APPROVED to PT_DEVICE_COLLECTED */
	[Q_DEVICE_COLLECT] = {.sqlite = "UPDATE devices SET state = 3 WHERE hash = ? AND state = 1"},
	[Q_DEVICE_INSERT] = {
	    .sqlite = "INSERT INTO devices (hash, user_code, app_id, scope, \"interval\", expires)"
	    " VALUES (?, ?, ?, ?, ?, ?)"},
	[Q_DEVICE_BY_USER_CODE] = {
	    .sqlite = "SELECT a.client_id, d.scope FROM devices d JOIN apps a ON a.id = d.app_id"
	    " WHERE d.user_code = ? AND d.state = 0 AND d.expires > ?"},
	[Q_DEVICE_DECIDE] = {
	    .sqlite = "UPDATE devices SET state = ?, user_id = ?, org_id = ?"
	    " WHERE user_code = ? AND state = 0 AND expires > ?"},
	/* bridged device logins: states as in schema.sql (0 pending, 1 sent upstream,
	 * 2 exchanging, 3 denied, 4 ready) */
	[Q_BRIDGE_INSERT] = {.sqlite = "INSERT INTO bridge_devices (hash, user_code, expires) VALUES (?, ?, ?)"},
	[Q_BRIDGE_POLL] = {.sqlite = "SELECT state, expires FROM bridge_devices WHERE hash = ?"},
	/* collected once: the upstream's token leaves the database with its answer */
	[Q_BRIDGE_COLLECT] = {
	    .sqlite = "DELETE FROM bridge_devices WHERE hash = ? AND state = 4 AND expires > ? RETURNING token, org"},
	[Q_BRIDGE_DELETE] = {.sqlite = "DELETE FROM bridge_devices WHERE hash = ?"},
	[Q_BRIDGE_BY_USER_CODE] = {
	    .sqlite = "SELECT hash FROM bridge_devices WHERE user_code = ? AND state IN (0, 1) AND expires > ?"},
	/* entering the code again (a tab closed at the upstream) starts over: the state
	 * sent before stops working */
	[Q_BRIDGE_SEND] = {
	    .sqlite = "UPDATE bridge_devices SET state = 1, oauth_state = ?, browser = ?, verifier = ?"
	    " WHERE hash = ? AND state IN (0, 1) AND expires > ?"},
	[Q_BRIDGE_BY_STATE] = {
	    .sqlite = "SELECT hash, browser, verifier, expires FROM bridge_devices WHERE oauth_state = ? AND state = 1"},
	/* the state is single-use: whoever clears it owns the callback */
	[Q_BRIDGE_TAKE_STATE] = {
	    .sqlite = "UPDATE bridge_devices SET state = ?, oauth_state = NULL, browser = NULL"
	    " WHERE hash = ? AND oauth_state = ? AND state = 1"},
	[Q_BRIDGE_READY] = {
	    .sqlite = "UPDATE bridge_devices SET state = 4, token = ?, org = ?, verifier = NULL WHERE hash = ? AND state = 2"},
	[Q_BRIDGE_RETRY] = {.sqlite = "UPDATE bridge_devices SET state = 0, verifier = NULL WHERE hash = ? AND state = 2"},

	/* ------------------------------------------------ the admin command */
	[Q_ADMIN_USER_LIST] = {
	    .sqlite = "SELECT u.id, u.name, u.is_admin, u.created, o.id FROM users u"
	    " LEFT JOIN orgs o ON o.personal_of = u.id ORDER BY u.id"},
	[Q_ADMIN_USER_PASSWD] = {.sqlite = "UPDATE users SET password = ? WHERE name = ?"},
	[Q_ADMIN_USER_ID] = {
	    .sqlite = "SELECT u.id, o.id FROM users u LEFT JOIN orgs o ON o.personal_of = u.id WHERE u.name = ?"},
	[Q_ADMIN_ORG_ADD] = {.sqlite = "INSERT INTO orgs (name, created) VALUES (?, ?) RETURNING id"},
	[Q_ADMIN_ORG_GET] = {.sqlite = "SELECT id, name, personal_of FROM orgs WHERE id = ?"},
	[Q_ADMIN_MEMBER_ADD] = {
	    .sqlite = "INSERT INTO members (org_id, user_id, role) VALUES (?, ?, ?)"
	    " ON CONFLICT (user_id, org_id) DO UPDATE SET role = excluded.role"},
	[Q_ADMIN_MEMBER_DEL] = {.sqlite = "DELETE FROM members WHERE org_id = ? AND user_id = ?"},
	/* leaving an organization ends what the user granted for it: grants (their codes
	 * and tokens go by cascade) and device approvals not yet collected */
	[Q_ADMIN_MEMBER_GRANTS_DEL] = {.sqlite = "DELETE FROM grants WHERE org_id = ? AND user_id = ?"},
	[Q_ADMIN_MEMBER_DEVICES_DEL] = {.sqlite = "DELETE FROM devices WHERE org_id = ? AND user_id = ?"},
	/* members, grants (codes, tokens) and device approvals go by cascade */
	[Q_ADMIN_ORG_DEL] = {.sqlite = "DELETE FROM orgs WHERE id = ? AND personal_of IS NULL"},
	[Q_ADMIN_APP_LIST] = {
	    .sqlite = "SELECT a.client_id, a.name, a.description, a.redirect_uris, a.scopes,"
	    " a.grant_types, a.public, a.trusted, a.require_pkce, a.registered,"
	    " coalesce(u.name, ''), a.created, a.resource_server, a.id_token_signed_response_alg,"
	    " a.post_logout_redirect_uris, a.access_token_format, a.require_dpop FROM apps a"
	    " LEFT JOIN users u ON u.id = a.owner_id"
	    " WHERE CAST(?1 AS TEXT) IS NULL OR a.client_id = ?1 ORDER BY a.id"},
	[Q_ADMIN_APP_ID] = {.sqlite = "SELECT id FROM apps WHERE client_id = ?"},
	[Q_ADMIN_APP_SET_RS] = {.sqlite = "UPDATE apps SET resource_server = ? WHERE client_id = ?"},
	[Q_ADMIN_TOKEN_LIST] = {
	    .sqlite = "SELECT t.id, t.kind, u.name, a.client_id, g.org_id, t.scope, t.created,"
	    " t.expires, t.last_used, g.id FROM tokens t JOIN grants g ON g.id = t.grant_id"
	    " JOIN users u ON u.id = g.user_id JOIN apps a ON a.id = g.app_id"
	    " WHERE t.kind IN (1, 2) AND (CAST(?1 AS TEXT) IS NULL OR u.name = ?1)"
	    " AND (CAST(?2 AS TEXT) IS NULL OR a.client_id = ?2) ORDER BY t.id"},
	[Q_ADMIN_USER_GRANTS_DEL] = {.sqlite = "DELETE FROM grants WHERE user_id = ?"},
	[Q_ADMIN_USER_DEVICES_DEL] = {.sqlite = "DELETE FROM devices WHERE user_id = ?"},
	[Q_ADMIN_GRANT_FOR] = {
	    .sqlite = "SELECT id FROM grants WHERE user_id = ? AND app_id ="
	    " (SELECT id FROM apps WHERE client_id = ?) AND org_id = ?"},
	/* ------------------------------------------------ OpenID Connect */
	[Q_KEY_INSERT] = {.sqlite = "INSERT INTO keys (kid, alg, private, public_jwk, created) VALUES (?, ?, ?, ?, ?)"},
	/* a rotation: the signing keys of an algorithm stop signing and stay published
	 * until ?2 */
	[Q_KEYS_RETIRE] = {.sqlite = "UPDATE keys SET retired = ?1, expires = ?2 WHERE alg = ?3 AND retired IS NULL"},
	[Q_KEY_SIGNING] = {
	    .sqlite = "SELECT kid, alg, private, public_jwk, created, retired, expires FROM keys"
	    " WHERE alg = ? AND retired IS NULL ORDER BY created DESC, kid LIMIT 1"},
	/* the published keys (the JWKS; the admin command lists with ?1 = 0: every one) */
	[Q_KEYS_LIST] = {
	    .sqlite = "SELECT kid, alg, private, public_jwk, created, retired, expires FROM keys"
	    " WHERE expires IS NULL OR expires > ? ORDER BY created, kid"},
	[Q_USER_CLAIMS] = {.sqlite = "SELECT id, name, email, full_name FROM users WHERE id = ?"},
	/* NULL keeps a value; '' clears it */
	[Q_USER_PROFILE_SET] = {
	    .sqlite = "UPDATE users SET email = CASE WHEN ?2 IS NULL THEN email WHEN ?2 = '' THEN NULL ELSE ?2 END,"
	    " full_name = CASE WHEN ?3 IS NULL THEN full_name WHEN ?3 = '' THEN NULL ELSE ?3 END WHERE name = ?1",
	    .pg = "UPDATE users SET email = CASE WHEN CAST($2 AS TEXT) IS NULL THEN email WHEN $2 = '' THEN NULL ELSE $2 END,"
	    " full_name = CASE WHEN CAST($3 AS TEXT) IS NULL THEN full_name WHEN $3 = '' THEN NULL ELSE $3 END"
	    " WHERE name = $1"},
	/* ------------------------------------------------ Client ID Metadata Documents */
	/* the app a document made, and until when its fetch is fresh */
	[Q_CIMD_GET] = {
	    .sqlite = "SELECT a.id, d.expires FROM apps a JOIN client_documents d ON d.app_id = a.id"
	    " WHERE a.client_id = ?"},
	/* a document's client: public, PKCE required, registered (untrusted, never
	 * remembered consent); a fresh fetch updates what the document says */
	[Q_CIMD_APP_SAVE] = {
	    .sqlite = "INSERT INTO apps (client_id, name, redirect_uris, scopes, grant_types, public,"
	    " require_pkce, registered, remember_consent, created) VALUES (?1, ?2, ?3, '', ?4, 1, 1, 1, 0, ?5)"
	    " ON CONFLICT (client_id) DO UPDATE SET name = excluded.name,"
	    " redirect_uris = excluded.redirect_uris, grant_types = excluded.grant_types"},
	[Q_CIMD_DOC_SAVE] = {
	    .sqlite = "INSERT INTO client_documents (app_id, fetched, expires)"
	    " SELECT id, ?2, ?3 FROM apps WHERE client_id = ?1"
	    " ON CONFLICT (app_id) DO UPDATE SET fetched = excluded.fetched, expires = excluded.expires"},
	[Q_ADMIN_APP_SET_ALG] = {.sqlite = "UPDATE apps SET id_token_signed_response_alg = ? WHERE client_id = ?"},
	[Q_ADMIN_APP_SET_FORMAT] = {.sqlite = "UPDATE apps SET access_token_format = ? WHERE client_id = ?"},
	[Q_ADMIN_APP_SET_DPOP] = {.sqlite = "UPDATE apps SET require_dpop = ? WHERE client_id = ?"},

	/* each janitor statement removes at most a batch (?2): it runs again until less
	 * comes back, one short transaction at a time */
	[Q_JANITOR_CODES] = {
	    .sqlite = "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens WHERE code_expires <= ?1 AND kind = 0 LIMIT ?2)"},
	/* a redeemed code past its life: its request goes (a replay can no longer be
	 * checked against it, and is refused without revoking anything) */
	[Q_JANITOR_REDEEMED] = {
	    .sqlite = "UPDATE tokens SET code_expires = NULL, redirect_uri = NULL, redirect_given = NULL,"
	    " challenge = NULL, nonce = NULL WHERE id IN (SELECT id FROM tokens WHERE code_expires <= ?1 LIMIT ?2)"},
	[Q_JANITOR_SESSIONS] = {
	    .sqlite = "DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions WHERE expires <= ?1 LIMIT ?2)"},
	[Q_JANITOR_DEVICES] = {
	    .sqlite = "DELETE FROM devices WHERE hash IN (SELECT hash FROM devices WHERE expires <= ?1 LIMIT ?2)"},
	/* bridged device logins, with any upstream token never collected */
	[Q_JANITOR_BRIDGE] = {
	    .sqlite = "DELETE FROM bridge_devices WHERE hash IN (SELECT hash FROM bridge_devices"
	    " WHERE expires <= ?1 LIMIT ?2)"},
	[Q_JANITOR_TOKENS] = {
	    .sqlite = "DELETE FROM tokens WHERE id IN (SELECT id FROM tokens"
	    " WHERE expires IS NOT NULL AND expires <= ?1 LIMIT ?2)"},
	[Q_JANITOR_CLIENT_TOKENS] = {
	    .sqlite = "DELETE FROM client_tokens WHERE id IN (SELECT id FROM client_tokens"
	    " WHERE expires <= ?1 LIMIT ?2)"},
	[Q_JANITOR_ATTEMPTS] = {
	    .sqlite = "DELETE FROM attempts WHERE (key, \"window\") IN (SELECT key, \"window\""
	    " FROM attempts WHERE \"window\" < ?1 LIMIT ?2)"},
	/* self-registered clients nobody approved (no grant), registered before the cutoff
	 * (registration_unapproved_ttl): their device requests go with them */
	[Q_JANITOR_UNAPPROVED] = {
	    .sqlite = "DELETE FROM apps WHERE id IN (SELECT a.id FROM apps a WHERE a.registered = 1"
	    " AND a.created <= ?1 AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.app_id = a.id) LIMIT ?2)"},
	/* proofs that could no longer pass as fresh */
	[Q_JANITOR_DPOP] = {
	    .sqlite = "DELETE FROM dpop_proofs WHERE hash IN (SELECT hash FROM dpop_proofs WHERE expires <= ?1 LIMIT ?2)"},
	[Q_JANITOR_REQUESTS] = {
	    .sqlite = "DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE expires <= ?1 LIMIT ?2)"},

	/* ------------------------------------------------ metrics (the gauges) */
	/* users and apps by their primary keys; the tokens by one scan of the table (kind
	 * and expiry have no index: the caller keeps the answer a few seconds) */
	[Q_METRICS_COUNTS] = {
	    .sqlite = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM apps),"
	    " count(*) FILTER (WHERE kind = 1), count(*) FILTER (WHERE kind = 2)"
	    " FROM tokens WHERE kind IN (1, 2) AND (expires IS NULL OR expires > ?1)"},
	/* a retired key out of the JWKS: nothing it signed is still valid */
	[Q_JANITOR_KEYS] = {
	    .sqlite = "DELETE FROM keys WHERE kid IN (SELECT kid FROM keys WHERE expires <= ?1 LIMIT ?2)"},
};
