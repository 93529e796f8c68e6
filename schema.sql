-- schema.sql: the whole postern database. PRAGMA user_version is the migration level.
-- Secrets (client secrets, codes, tokens, sessions, device codes) are stored only as
-- keyed BLAKE2b-256 hashes (32-byte BLOBs); the key lives outside the database.

PRAGMA user_version = 9;

-- Ids that leave the server (a user's `sub`, an organization's id, grant and token ids in
-- addresses and in the admin command) are AUTOINCREMENT: an id is never handed to a new
-- row after its row was deleted, so nothing keyed on it can reach a newer account.

CREATE TABLE IF NOT EXISTS users (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL UNIQUE,
	password   TEXT,                       -- crypto_pwhash_str (Argon2id), NULL: remote_user only
	is_admin   INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL,
	email      TEXT,                       -- OpenID Connect `email` claim; NULL: none
	full_name  TEXT                        -- `name` claim; NULL: the user name
);

CREATE TABLE IF NOT EXISTS orgs (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	name        TEXT NOT NULL,
	personal_of INTEGER UNIQUE REFERENCES users(id) ON DELETE CASCADE,
	created     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS members (
	org_id  INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role    TEXT NOT NULL DEFAULT 'member',
	PRIMARY KEY (user_id, org_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS apps (
	id               INTEGER PRIMARY KEY,
	client_id        TEXT NOT NULL UNIQUE,
	secret_hash      BLOB,                 -- NULL for public apps
	owner_id         INTEGER REFERENCES users(id) ON DELETE CASCADE,
	name             TEXT NOT NULL,
	description      TEXT NOT NULL DEFAULT '',
	redirect_uris    TEXT NOT NULL DEFAULT '',  -- one per line
	scopes           TEXT NOT NULL DEFAULT '',  -- allowed, space-separated; '' = all configured
	grant_types      TEXT NOT NULL DEFAULT 'authorization_code refresh_token',
	public           INTEGER NOT NULL DEFAULT 0,
	trusted          INTEGER NOT NULL DEFAULT 0,  -- first-party: consent is skipped
	require_pkce     INTEGER NOT NULL DEFAULT 0,
	remember_consent INTEGER NOT NULL DEFAULT 1,
	registered       INTEGER NOT NULL DEFAULT 0,  -- came from RFC 7591 registration
	created          INTEGER NOT NULL,
	resource_server  INTEGER NOT NULL DEFAULT 0,  -- an admin let it introspect every token
	-- how its OpenID Connect id_tokens are signed: RS256 or EdDSA
	id_token_signed_response_alg TEXT NOT NULL DEFAULT 'RS256',
	-- RP-Initiated Logout: where the end-session endpoint may send people back, '\n'-separated
	post_logout_redirect_uris TEXT NOT NULL DEFAULT '',
	-- RFC 7591/7592 (schema 8): how a self-registered client authenticates ('none',
	-- 'client_secret_basic', 'client_secret_post'), its application_type ('' absent,
	-- 'web', 'native'), the keyed hash of its registration_access_token (NULL: none)
	token_endpoint_auth_method TEXT NOT NULL DEFAULT '',
	application_type TEXT NOT NULL DEFAULT '',
	registration_token_hash BLOB,
	-- https links the consent page shows when registered; NULL: none
	client_uri TEXT,
	policy_uri TEXT,
	tos_uri    TEXT,
	-- what its access tokens are: 'opaque' (pat_…) or 'jwt' (RFC 9068), schema 8
	access_token_format TEXT NOT NULL DEFAULT 'opaque',
	-- RFC 9449 §5.2 dpop_bound_access_tokens (schema 9): its token requests must carry a
	-- DPoP proof
	require_dpop INTEGER NOT NULL DEFAULT 0
);

-- An app's picture, out of the apps row that every token request reads.
CREATE TABLE IF NOT EXISTS app_pictures (
	app_id  INTEGER PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
	picture BLOB NOT NULL,
	type    TEXT NOT NULL
);

-- A user's approval of an app for an organization and scopes.
CREATE TABLE IF NOT EXISTS grants (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	app_id    INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	org_id    INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	scope     TEXT NOT NULL,
	created   INTEGER NOT NULL,
	last_used INTEGER,
	-- the redirect URI the user approved on the consent page: a public client skips the
	-- page again only when it asks for exactly this one (RFC 8252 §8.6)
	redirect_uri TEXT,
	UNIQUE (user_id, app_id, org_id)
);
CREATE INDEX IF NOT EXISTS grants_app ON grants(app_id);

-- Authorization codes, access and refresh tokens, a row each. A code is a row of kind 0
-- found by code_hash; redeeming it turns that same row into the access token (its hash
-- set, kind 1): one row written and one index entry added. Tokens keep the hash of the
-- code they came from, refresh successors too, so a replayed code finds and revokes
-- them all. A revoked token is deleted; revoking a grant deletes its rows by cascade.
CREATE TABLE IF NOT EXISTS tokens (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	hash      BLOB,                        -- of the token; NULL while the row is a code
	kind      INTEGER NOT NULL,            -- 0 code, 1 access, 2 refresh, 3 used refresh
	grant_id  INTEGER NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
	code_hash BLOB,                        -- the code it is or came from
	scope     TEXT NOT NULL,
	resource  TEXT,
	created   INTEGER NOT NULL,
	expires   INTEGER,                     -- of the token; NULL: never
	last_used INTEGER,
	-- the authorization request a code answers (cleared when it is redeemed)
	redirect_uri   TEXT,
	redirect_given INTEGER,
	challenge      TEXT,
	code_expires   INTEGER,                -- the janitor clears it (and the request) once past
	nonce          TEXT,                   -- OpenID Connect: the request's nonce (a code's)
	auth_time      INTEGER,                -- when the user signed in for it (id_token auth_time)
	-- DPoP (RFC 9449, schema 9): the RFC 7638 thumbprint of the key the token is bound to
	-- (a code's: the authorization request's dpop_jkt); NULL: a Bearer token
	jkt            TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS tokens_hash ON tokens(hash) WHERE hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_code_hash ON tokens(code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens(grant_id);
CREATE INDEX IF NOT EXISTS tokens_expires ON tokens(expires) WHERE expires IS NOT NULL;
-- not changed by a redemption: the janitor finds expired codes here, then clears the
-- redeemed ones out of it
CREATE INDEX IF NOT EXISTS tokens_code_expires ON tokens(code_expires) WHERE code_expires IS NOT NULL;

-- Access tokens an app got for itself (client_credentials, RFC 6749 §4.4): no user, no
-- organization, no grant, no refresh token. Their own table, not a grant with no user,
-- so that every join of a user's token stays as it is; they go with their app (cascade),
-- on revocation (RFC 7009) and, once expired, with the janitor. (Schema 8: a new table,
-- which schema.sql creates; no rows move.)
CREATE TABLE IF NOT EXISTS client_tokens (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	hash      BLOB NOT NULL UNIQUE,        -- of the token
	app_id    INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	scope     TEXT NOT NULL,
	resource  TEXT,
	created   INTEGER NOT NULL,
	expires   INTEGER NOT NULL,            -- never "never"
	last_used INTEGER,
	jkt       TEXT                         -- DPoP: the bound key's thumbprint (schema 9)
);
CREATE INDEX IF NOT EXISTS client_tokens_app ON client_tokens(app_id);
CREATE INDEX IF NOT EXISTS client_tokens_expires ON client_tokens(expires);

-- DPoP proofs seen (RFC 9449 §11.1, schema 9): the keyed hash of a proof's key thumbprint
-- and jti, kept while the proof could still pass as fresh, so that each is used once.
CREATE TABLE IF NOT EXISTS dpop_proofs (
	hash    BLOB PRIMARY KEY,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dpop_proofs_expires ON dpop_proofs(expires);

CREATE TABLE IF NOT EXISTS sessions (
	hash    BLOB PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions(expires);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user_id);

-- Authorization requests waiting for the user's decision on the consent page. The form
-- names one by an unguessable id (only its keyed hash is here); the decision consumes it,
-- so a form cannot be posted twice, nor edited: the request is read back from here.
CREATE TABLE IF NOT EXISTS requests (
	id      INTEGER PRIMARY KEY,
	hash    BLOB NOT NULL UNIQUE,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	query   TEXT NOT NULL,                 -- the authorization request's parameters
	expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_user ON requests(user_id);
CREATE INDEX IF NOT EXISTS requests_expires ON requests(expires);

-- RFC 8628 device authorization requests.
CREATE TABLE IF NOT EXISTS devices (
	hash        BLOB PRIMARY KEY,          -- of the device code
	user_code   TEXT NOT NULL UNIQUE,      -- 8 chars, no hyphen
	app_id      INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
	scope       TEXT NOT NULL,
	state       INTEGER NOT NULL DEFAULT 0, -- 0 pending, 1 approved, 2 denied, 3 collected
	user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
	org_id      INTEGER REFERENCES orgs(id) ON DELETE CASCADE,
	interval    INTEGER NOT NULL,
	last_poll   INTEGER,
	expires     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_expires ON devices(expires);

-- Device logins bridged to an upstream provider (the upstream_* config keys): the CLI's
-- request, the browser that entered its user code and the state sent upstream with it,
-- then the upstream's answer until the CLI collects it. Secrets are keyed hashes, or, where
-- they must be read back (the PKCE verifier, the upstream's token), sealed with a key
-- derived from the server key (crypto_secretbox, a key per row). A row goes when the CLI
-- collects its answer, or when it expires (the janitor).
CREATE TABLE IF NOT EXISTS bridge_devices (
	hash        BLOB PRIMARY KEY,          -- of the device code
	user_code   TEXT NOT NULL UNIQUE,      -- 8 chars, no hyphen
	state       INTEGER NOT NULL DEFAULT 0, -- 0 pending, 1 sent upstream, 2 exchanging,
	                                        -- 3 denied, 4 ready
	oauth_state BLOB UNIQUE,               -- hash of the state sent upstream; single use
	browser     BLOB,                      -- hash of the cookie of the browser sent upstream
	verifier    BLOB,                      -- the PKCE verifier, sealed
	token       BLOB,                      -- the upstream's access token, sealed
	org         BLOB,                      -- the upstream's organization id, sealed
	expires     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bridge_devices_expires ON bridge_devices(expires);

-- Counters for rate limits kept by postern itself (device user-code guesses).
CREATE TABLE IF NOT EXISTS attempts (
	key     TEXT NOT NULL,
	window  INTEGER NOT NULL,               -- the start of its window, unix seconds
	count   INTEGER NOT NULL,
	PRIMARY KEY (key, window)
) WITHOUT ROWID;

-- OpenID Connect signing keys. The private key is sealed (crypto_secretbox) under a key
-- derived from the server key (crypto_kdf), bound to its kid; the public key is kept as
-- its JWK. The newest unretired key of an algorithm signs; a retired key stays in the
-- JWKS until `expires`, when every id_token it signed has expired.
CREATE TABLE IF NOT EXISTS keys (
	kid        TEXT PRIMARY KEY,
	alg        TEXT NOT NULL,               -- RS256 or EdDSA
	private    BLOB NOT NULL,               -- sealed: RSA PKCS#8 PEM, Ed25519 secret key
	public_jwk TEXT NOT NULL,               -- the JWK the JWKS publishes
	created    INTEGER NOT NULL,
	retired    INTEGER,                     -- when it stopped signing; NULL: signs
	expires    INTEGER                      -- when it leaves the JWKS; NULL: never (signs)
);

-- Client ID Metadata Documents: the apps row a fetched document made (client_id is the
-- document's URL) and until when that fetch is fresh (HTTP caching, within bounds).
CREATE TABLE IF NOT EXISTS client_documents (
	app_id  INTEGER PRIMARY KEY REFERENCES apps(id) ON DELETE CASCADE,
	fetched INTEGER NOT NULL,
	expires INTEGER NOT NULL
);
