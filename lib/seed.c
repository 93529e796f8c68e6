/* seed.c: a seed file (`postern seed`, `postern-stack up DIR --seed FILE`): users and apps
 * with fixed credentials for other projects' test suites, read with line numbers so a
 * mistake names its line and field, then stored all at once or not at all. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "postern.h"

#define GRANT_DEVICE "urn:ietf:params:oauth:grant-type:device_code"

/* ------------------------------------------------------------ a JSON reader with lines */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype t;
	int line;
	bool b;
	const char *s;      /* J_STR: decoded, NUL-terminated (NUL inside refused) */
	size_t sn;
	const char *key;    /* a member of an object: its name */
	struct jval *kid;   /* J_ARR, J_OBJ: the first element or member */
	struct jval *next;
};

struct jp {
	pt_arena *a;
	const char *p, *end;
	int line, depth;
	const char *err;
};

static const char *const jtype_name[] = {"null", "true or false", "a number", "a string",
    "a list", "an object"};

static bool jvalue(struct jp *j, struct jval **out);

static bool
jfail(struct jp *j, const char *what)
{
	if (j->err == NULL)
		j->err = pt_printf(j->a, "line %d: %s", j->line, what);
	return false;
}

static void
jspace(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
		if (*j->p == '\n')
			j->line++;
		j->p++;
	}
}

static int
hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* A string at j->p (the opening quote), decoded into UTF-8. */
static bool
jstring(struct jp *j, const char **out, size_t *outn)
{
	pt_buf b;
	pt_buf_init(&b, j->a);
	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return jfail(j, "a string is not closed");
		unsigned char c = (unsigned char)*j->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return jfail(j, "a string has a control character or a line break in it (write \\n)");
		if (c != '\\') {
			pt_buf_addc(&b, (char)c);
			continue;
		}
		if (j->p >= j->end)
			return jfail(j, "a string is not closed");
		c = (unsigned char)*j->p++;
		const char *simple = strchr("\"\\/bfnrt", c);
		if (c != 0 && simple != NULL) {
			pt_buf_addc(&b, "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"]);
			continue;
		}
		if (c != 'u' || j->end - j->p < 4 || hex4(j->p) < 0)
			return jfail(j, "a string has a bad escape (\\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX)");
		long cp = hex4(j->p);
		j->p += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2) < 0xDC00 ||
			    hex4(j->p + 2) > 0xDFFF)
				return jfail(j, "a string has half of a \\u surrogate pair");
			cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(j->p + 2) - 0xDC00);
			j->p += 6;
		} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
			return jfail(j, "a string has half of a \\u surrogate pair");
		}
		if (cp == 0)
			return jfail(j, "a string has \\u0000 in it");
		char u[4];
		size_t k;
		if (cp < 0x80) {
			u[0] = (char)cp, k = 1;
		} else if (cp < 0x800) {
			u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
		} else if (cp < 0x10000) {
			u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
			u[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
		} else {
			u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
			u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), k = 4;
		}
		pt_buf_add(&b, u, k);
	}
	if (!pt_valid_utf8(b.n ? b.p : "", b.n))
		return jfail(j, "a string is not valid UTF-8");
	*out = b.n ? b.p : "";
	*outn = b.n;
	return true;
}

static bool
jword(struct jp *j, const char *w)
{
	size_t n = strlen(w);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return jfail(j, "expected a value (a string, a number, a list, an object, true, "
		    "false or null)");
	j->p += n;
	return true;
}

static bool
jcontainer(struct jp *j, struct jval *v, bool obj)
{
	char close = obj ? '}' : ']';
	struct jval **tail = &v->kid;
	if (++j->depth > PT_MAX_SEED_DEPTH)
		return jfail(j, pt_printf(j->a, "nested deeper than %d levels", PT_MAX_SEED_DEPTH));
	j->p++;
	jspace(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		const char *key = NULL;
		size_t kn;
		int key_line = j->line;
		if (obj) {
			if (j->p >= j->end || *j->p != '"')
				return jfail(j, "expected a member name in double quotes");
			if (!jstring(j, &key, &kn))
				return false;
			jspace(j);
			if (j->p >= j->end || *j->p != ':')
				return jfail(j, pt_printf(j->a, "expected ':' after \"%s\"", key));
			j->p++;
			jspace(j);
		}
		struct jval *kid;
		if (!jvalue(j, &kid))
			return false;
		if (obj) {
			for (struct jval *o = v->kid; o != NULL; o = o->next)
				if (strcmp(o->key, key) == 0) {
					j->line = key_line;
					return jfail(j, pt_printf(j->a, "\"%s\" is given twice", key));
				}
			kid->key = key;
			kid->line = key_line;
		}
		*tail = kid;
		tail = &kid->next;
		jspace(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jspace(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return jfail(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool
jvalue(struct jp *j, struct jval **out)
{
	struct jval *v = pt_alloc(j->a, sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->line = j->line;
	*out = v;
	if (j->p >= j->end)
		return jfail(j, "the file ends where a value was expected");
	switch (*j->p) {
	case '{':
		v->t = J_OBJ;
		return jcontainer(j, v, true);
	case '[':
		v->t = J_ARR;
		return jcontainer(j, v, false);
	case '"':
		v->t = J_STR;
		return jstring(j, &v->s, &v->sn);
	case 't':
		v->t = J_BOOL, v->b = true;
		return jword(j, "true");
	case 'f':
		v->t = J_BOOL;
		return jword(j, "false");
	case 'n':
		return jword(j, "null");
	default:
		break;
	}
	const char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	while (j->p < j->end && strchr("0123456789.eE+-", *j->p) != NULL && *j->p != '\0')
		j->p++;
	if (j->p == s || (j->p - s == 1 && *s == '-'))
		return jfail(j, "expected a value (a string, a number, a list, an object, true, "
		    "false or null)");
	v->t = J_NUM;
	return true;
}

/* ------------------------------------------------------------ the seed's shape */

struct ctx {
	pt_arena *a;
	const struct pt_config *cfg;
	const char *err;
};

static bool
bad(struct ctx *c, const struct jval *v, const char *path, const char *what)
{
	if (c->err == NULL)
		c->err = pt_printf(c->a, "line %d: %s: %s", v->line, path, what);
	return false;
}

static bool
want(struct ctx *c, const struct jval *v, const char *path, enum jtype t)
{
	if (v->t == t)
		return true;
	return bad(c, v, path, pt_printf(c->a, "must be %s, not %s", jtype_name[t], jtype_name[v->t]));
}

static bool
strict_b62(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

static size_t
count(const struct jval *v)
{
	size_t n = 0;
	for (const struct jval *k = v->kid; k != NULL; k = k->next)
		n++;
	return n;
}

/* A list of words (a JSON list of strings, or one space-separated string) as one
 * space-separated string; each word checked by ok (NULL: fine), which returns what is
 * wrong with it. */
static const char *
words(struct ctx *c, const struct jval *v, const char *path,
    const char *(*ok)(struct ctx *, const char *, size_t))
{
	pt_buf b;
	pt_buf_init(&b, c->a);
	if (v->t != J_ARR && v->t != J_STR) {
		bad(c, v, path, pt_printf(c->a, "must be a list of strings, not %s", jtype_name[v->t]));
		return NULL;
	}
	const struct jval *k = v->t == J_ARR ? v->kid : v;
	for (int i = 0; k != NULL; k = v->t == J_ARR ? k->next : NULL, i++) {
		const char *ip = v->t == J_ARR ? pt_printf(c->a, "%s[%d]", path, i) : path;
		if (!want(c, k, ip, J_STR))
			return NULL;
		for (const char *w = k->s; *w;) {
			size_t n = strcspn(w, " ");
			if (n > 0) {
				const char *why = ok(c, w, n);
				if (why != NULL) {
					bad(c, k, ip, why);
					return NULL;
				}
				if (pt_word_in(w, n, b.n ? b.p : "")) {
					bad(c, k, ip, pt_printf(c->a, "%.*s is listed twice", (int)n, w));
					return NULL;
				}
				if (b.n)
					pt_buf_addc(&b, ' ');
				pt_buf_add(&b, w, n);
			}
			w += n;
			while (*w == ' ')
				w++;
		}
	}
	return b.n ? b.p : "";
}

static const char *
scope_ok(struct ctx *c, const char *w, size_t n)
{
	if (pt_config_scope(c->cfg, w, n) != NULL)
		return NULL;
	return pt_printf(c->a, "the scope %.*s is not one this server offers (config: scope NAME = ...)",
	    (int)n, w);
}

static const char *
grant_ok(struct ctx *c, const char *w, size_t n)
{
	static const char *const known[] = {"authorization_code", "refresh_token", GRANT_DEVICE};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (n == strlen(known[i]) && memcmp(w, known[i], n) == 0)
			return NULL;
	return pt_printf(c->a, "the grant type %.*s is not one of authorization_code, refresh_token, "
	    GRANT_DEVICE, (int)n, w);
}

static bool
read_user(struct ctx *c, const struct jval *v, const char *path, struct pt_seed *s,
    struct pt_seed_user *u)
{
	const struct jval *name = NULL, *pw = NULL;
	memset(u, 0, sizeof(*u));
	if (!want(c, v, path, J_OBJ))
		return false;
	for (const struct jval *m = v->kid; m != NULL; m = m->next) {
		const char *mp = pt_printf(c->a, "%s.%s", path, m->key);
		if (strcmp(m->key, "name") == 0) {
			if (!want(c, m, mp, J_STR))
				return false;
			if (!pt_valid_username(m->s, m->sn))
				return bad(c, m, mp, pt_printf(c->a, "user names are 1-%d of a-z A-Z 0-9 . _ @ -",
				    PT_MAX_USERNAME));
			name = m;
		} else if (strcmp(m->key, "password") == 0) {
			if (!want(c, m, mp, J_STR))
				return false;
			if (m->sn < PT_MIN_PASSWORD || m->sn > PT_MAX_PASSWORD)
				return bad(c, m, mp, pt_printf(c->a, "a password has %d to %d bytes",
				    PT_MIN_PASSWORD, PT_MAX_PASSWORD));
			pw = m;
		} else if (strcmp(m->key, "admin") == 0) {
			if (!want(c, m, mp, J_BOOL))
				return false;
			u->admin = m->b;
		} else if (strcmp(m->key, "email") == 0) {
			if (!want(c, m, mp, J_STR))
				return false;
			if (!pt_email_valid(m->s, m->sn))
				return bad(c, m, mp, pt_printf(c->a, "an e-mail address (NAME@DOMAIN.TLD, "
				    "printable ASCII, at most %d bytes)", PT_MAX_EMAIL));
			u->email = m->s;
		} else {
			return bad(c, m, mp, "unknown field (a user has name, password, admin, email)");
		}
	}
	if (name == NULL)
		return bad(c, v, path, "a user needs \"name\"");
	if (pw == NULL)
		return bad(c, v, path, "a user needs \"password\"");
	for (size_t i = 0; i < s->nusers; i++)
		if (strcmp(s->users[i].name, name->s) == 0)
			return bad(c, name, pt_printf(c->a, "%s.name", path),
			    pt_printf(c->a, "%s is already users[%zu]", name->s, i));
	u->name = name->s;
	u->line = name->line;
	u->password = pw->s;
	u->password_n = pw->sn;
	return true;
}

static bool
read_app(struct ctx *c, const struct jval *v, const char *path, struct pt_seed *s,
    struct pt_seed_app *sa)
{
	const struct jval *name = NULL, *uris = NULL, *secret = NULL, *pub = NULL;
	struct pt_new_app *f = &sa->app;
	memset(sa, 0, sizeof(*sa));
	f->description = "";
	f->scopes = "";
	f->grant_types = "authorization_code refresh_token";
	f->remember_consent = true;
	if (!want(c, v, path, J_OBJ))
		return false;
	for (const struct jval *m = v->kid; m != NULL; m = m->next) {
		const char *mp = pt_printf(c->a, "%s.%s", path, m->key);
		if (strcmp(m->key, "name") == 0) {
			if (!want(c, m, mp, J_STR))
				return false;
			const char *why = pt_display_text_problem(c->a, m->s, m->sn, false);
			if (why != NULL)
				return bad(c, m, mp, pt_printf(c->a, "the name %s", why));
			if (m->sn == 0 || pt_utf8_len(m->s, m->sn) > PT_MAX_APP_NAME)
				return bad(c, m, mp, pt_printf(c->a, "an app's name has 1 to %d characters",
				    PT_MAX_APP_NAME));
			name = m;
		} else if (strcmp(m->key, "client_id") == 0) {
			if (!want(c, m, mp, J_STR))
				return false;
			if (m->sn != PT_CLIENT_ID_LEN || memcmp(m->s, "pca_", 4) != 0 ||
			    !strict_b62(m->s + 4, m->sn - 4))
				return bad(c, m, mp, pt_printf(c->a, "a client_id is pca_ and %d letters and "
				    "digits (A-Z a-z 0-9)", PT_CLIENT_ID_LEN - 4));
			for (size_t i = 0; i < s->napps; i++)
				if (s->apps[i].client_id != NULL && strcmp(s->apps[i].client_id, m->s) == 0)
					return bad(c, m, mp, pt_printf(c->a, "%s is already apps[%zu]'s", m->s, i));
			sa->client_id = m->s;
		} else if (strcmp(m->key, "client_secret") == 0) {
			if (!want(c, m, mp, J_STR))
				return false;
			if (m->sn != PT_CLIENT_SECRET_LEN || memcmp(m->s, "pcs_", 4) != 0 ||
			    !strict_b62(m->s + 4, m->sn - 4))
				return bad(c, m, mp, pt_printf(c->a, "a client_secret is pcs_ and %d letters and "
				    "digits (A-Z a-z 0-9)", PT_CLIENT_SECRET_LEN - 4));
			secret = m;
		} else if (strcmp(m->key, "redirect_uris") == 0) {
			if (!want(c, m, mp, J_ARR))
				return false;
			pt_buf b;
			pt_buf_init(&b, c->a);
			int i = 0;
			for (const struct jval *k = m->kid; k != NULL; k = k->next, i++) {
				const char *ip = pt_printf(c->a, "%s[%d]", mp, i);
				if (!want(c, k, ip, J_STR))
					return false;
				if (i == PT_MAX_REDIRECT_URIS)
					return bad(c, k, ip, pt_printf(c->a, "an app has at most %d redirect URIs",
					    PT_MAX_REDIRECT_URIS));
				if (!pt_redirect_uri_valid(k->s, k->sn))
					return bad(c, k, ip, pt_printf(c->a, "not a valid redirect URI: it must be an "
					    "absolute https URI (or http on 127.0.0.1, [::1] or localhost), without a "
					    "fragment, at most %d bytes", PT_MAX_REDIRECT_URI));
				for (const struct jval *o = m->kid; o != k; o = o->next)
					if (strcmp(o->s, k->s) == 0)
						return bad(c, k, ip, "this redirect URI is listed twice");
				if (b.n)
					pt_buf_addc(&b, '\n');
				pt_buf_add(&b, k->s, k->sn);
			}
			f->redirect_uris = b.n ? b.p : "";
			sa->nuris = i;
			uris = m;
		} else if (strcmp(m->key, "public") == 0) {
			if (!want(c, m, mp, J_BOOL))
				return false;
			f->public = m->b;
			pub = m;
		} else if (strcmp(m->key, "scopes") == 0) {
			const char *w = words(c, m, mp, scope_ok);
			if (w == NULL)
				return false;
			/* in config order, as the apps pages store them ("" = every scope) */
			pt_buf b;
			pt_buf_init(&b, c->a);
			for (size_t i = 0; i < c->cfg->nscopes; i++) {
				const char *sn = c->cfg->scopes[i].name;
				if (pt_word_in(sn, strlen(sn), w)) {
					if (b.n)
						pt_buf_addc(&b, ' ');
					pt_buf_adds(&b, sn);
				}
			}
			f->scopes = b.n ? b.p : "";
		} else if (strcmp(m->key, "grant_types") == 0) {
			const char *w = words(c, m, mp, grant_ok);
			if (w == NULL)
				return false;
			if (*w == '\0')
				return bad(c, m, mp, "list at least one grant type");
			f->grant_types = w;
		} else {
			return bad(c, m, mp, "unknown field (an app has name, client_id, client_secret, "
			    "redirect_uris, public, scopes, grant_types)");
		}
	}
	if (name == NULL)
		return bad(c, v, path, "an app needs \"name\"");
	if (uris == NULL)
		return bad(c, v, path, "an app needs \"redirect_uris\" (a list; [] for a device-only app)");
	if (sa->nuris == 0 && pt_word_in("authorization_code", 18, f->grant_types))
		return bad(c, uris, pt_printf(c->a, "%s.redirect_uris", path), "an app with the "
		    "authorization_code grant needs at least one redirect URI");
	if (secret != NULL && f->public)
		return bad(c, secret, pt_printf(c->a, "%s.client_secret", path), pt_printf(c->a,
		    "a public app (line %d) has no secret", pub->line));
	f->name = name->s;
	sa->line = v->line;
	for (const struct jval *m = v->kid; m != NULL; m = m->next)
		if (strcmp(m->key, "client_id") == 0)
			sa->line = m->line;
	sa->client_secret = secret ? secret->s : NULL;
	return true;
}

const char *
pt_seed_read(pt_arena *a, const struct pt_config *cfg, const char *text, size_t n,
    struct pt_seed *s)
{
	struct jp j = {.a = a, .p = text, .end = text + n, .line = 1};
	struct ctx c = {.a = a, .cfg = cfg};
	struct jval *root;
	memset(s, 0, sizeof(*s));
	if (n > PT_MAX_SEED_BYTES)
		return pt_printf(a, "the seed file is larger than %d bytes", PT_MAX_SEED_BYTES);
	if (memchr(text, '\0', n) != NULL)
		return "the seed file has a NUL byte in it";
	jspace(&j);
	if (!jvalue(&j, &root))
		return j.err;
	jspace(&j);
	if (j.p != j.end) {
		jfail(&j, "more after the seed's object");
		return j.err;
	}
	if (!want(&c, root, "the seed", J_OBJ))
		return c.err;
	for (const struct jval *m = root->kid; m != NULL; m = m->next) {
		bool users = strcmp(m->key, "users") == 0;
		if (!users && strcmp(m->key, "apps") != 0) {
			bad(&c, m, m->key, "unknown field (a seed has users and apps)");
			return c.err;
		}
		if (!want(&c, m, m->key, J_ARR))
			return c.err;
		size_t k = count(m);
		if (k > (users ? PT_MAX_SEED_USERS : PT_MAX_SEED_APPS)) {
			bad(&c, m, m->key, pt_printf(a, "at most %d", users ? PT_MAX_SEED_USERS : PT_MAX_SEED_APPS));
			return c.err;
		}
		if (users)
			s->users = pt_alloc(a, (k ? k : 1) * sizeof(*s->users));
		else
			s->apps = pt_alloc(a, (k ? k : 1) * sizeof(*s->apps));
		size_t i = 0;
		for (const struct jval *e = m->kid; e != NULL; e = e->next, i++) {
			const char *path = pt_printf(a, "%s[%zu]", m->key, i);
			if (users ? !read_user(&c, e, path, s, &s->users[s->nusers])
				  : !read_app(&c, e, path, s, &s->apps[s->napps]))
				return c.err;
			if (users)
				s->nusers++;
			else
				s->napps++;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ storing it */

int
pt_seed_store(pt_arena *a, struct pt_seed *s, const char **why)
{
	int rc = PT_OK;
	*why = NULL;
	/* the Argon2id hashes first, outside the transaction (the same cost as `user add`) */
	char **hashes = pt_alloc(a, (s->nusers ? s->nusers : 1) * sizeof(*hashes));
	for (size_t i = 0; i < s->nusers; i++) {
		hashes[i] = pt_alloc(a, crypto_pwhash_STRBYTES);
		if (crypto_pwhash_str(hashes[i], s->users[i].password, s->users[i].password_n,
			crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			*why = "out of memory hashing a password";
			s->nusers = i;
			rc = PT_ERR_NOMEM;
			goto out;
		}
	}
	/* the given client ids and secrets as they are, the others made here */
	for (size_t i = 0; i < s->napps; i++) {
		struct pt_seed_app *sa = &s->apps[i];
		pt_client_id_new(sa->cid);
		if (sa->client_id != NULL)
			memcpy(sa->cid, sa->client_id, PT_CLIENT_ID_LEN + 1);
		pt_client_secret_new(sa->secret, sa->secret_hash);
		if (sa->client_secret != NULL) {
			memcpy(sa->secret, sa->client_secret, PT_CLIENT_SECRET_LEN + 1);
			pt_hash(sa->secret_hash, sa->secret, PT_CLIENT_SECRET_LEN);
		}
	}
	if ((rc = pt_begin()) != PT_OK) {
		*why = "the database is busy: try again";
		goto out;
	}
	int64_t now = pt_now();
	for (size_t i = 0; i < s->nusers; i++) {
		struct pt_seed_user *u = &s->users[i];
		size_t n = strlen(u->name);
		int64_t id, org;
		rc = pt_db_user_insert(u->name, n, hashes[i], u->admin, now, &id);
		u->id = id;
		if (rc == PT_ERR_EXISTS) {
			*why = pt_printf(a, "line %d: users[%zu].name: a user named %s exists already",
			    u->line, i, u->name);
			goto fail;
		}
		if (rc != PT_OK || (rc = pt_db_org_personal_insert(u->name, n, id, now, &org)) != PT_OK ||
		    (rc = pt_db_member_insert(org, id, "owner")) != PT_OK ||
		    (u->email != NULL && (rc = pt_db_user_profile_set(u->name, u->email, NULL)) != PT_OK)) {
			*why = pt_printf(a, "users[%zu]: could not store the user (database busy?)", i);
			goto fail;
		}
	}
	for (size_t i = 0; i < s->napps; i++) {
		struct pt_seed_app *sa = &s->apps[i];
		int64_t id;
		rc = pt_db_app_insert(&sa->app, sa->cid, sa->app.public ? NULL : sa->secret_hash, now, &id);
		if (rc == PT_ERR_EXISTS) {
			*why = pt_printf(a, "line %d: apps[%zu].client_id: an app with client_id %s exists "
			    "already", sa->line, i, sa->cid);
			goto fail;
		}
		if (rc != PT_OK) {
			*why = pt_printf(a, "apps[%zu]: could not store the app (database busy?)", i);
			goto fail;
		}
	}
	if ((rc = pt_commit()) != PT_OK) {
		*why = "could not save (database busy?)";
		goto fail;
	}
	goto out;
fail:
	pt_rollback();
out:
	for (size_t i = 0; i < s->nusers; i++)
		sodium_memzero(hashes[i], crypto_pwhash_STRBYTES);
	for (size_t i = 0; i < s->napps; i++)
		sodium_memzero(s->apps[i].secret_hash, PT_HASH_LEN);
	return rc;
}
