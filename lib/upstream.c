/* upstream.c: what a bridged device login needs from an upstream provider without the
 * network: reading its token endpoint's answer, and sealing what is kept of it. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "postern.h"

/* Copies a string member that is 1..max printable ASCII characters (a token goes into a
 * JSON answer and an Authorization header: nothing else belongs in one). */
static bool
token_text(pt_arena *a, const cJSON *it, size_t max, const char **out)
{
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return false;
	size_t n = strlen(it->valuestring);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)it->valuestring[i] < 0x21 || (unsigned char)it->valuestring[i] > 0x7e)
			return false;
	*out = pt_strndup(a, it->valuestring, n);
	return true;
}

int
pt_upstream_answer_parse(pt_arena *a, const char *s, size_t n, struct pt_upstream_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (n > PT_MAX_UPSTREAM_ANSWER)
		return PT_ERR_TOOLONG;
	cJSON *root = cJSON_ParseWithLength(s, n);
	if (root == NULL)
		return PT_ERR_ENCODING;
	int rc = PT_OK;
	bool nul_in_key;
	if (!cJSON_IsObject(root) || pt_json_nul_member(s, n, &nul_in_key) >= 0) {
		/* an escaped NUL cuts cJSON's string short: a token read from it would be
		 * another token */
		rc = PT_ERR_ENCODING;
		goto out;
	}
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
	if (tok == NULL || cJSON_IsNull(tok)) {
		rc = PT_ERR_MISSING;
		goto out;
	}
	if (!token_text(a, tok, PT_MAX_UPSTREAM_TOKEN, &out->access_token)) {
		rc = PT_ERR_INVALID;
		goto out;
	}
	/* Postiz names the organization `id`, a string; a number is taken as its digits */
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (id == NULL || cJSON_IsNull(id))
		goto out;
	if (cJSON_IsNumber(id)) {
		double d = id->valuedouble;
		if (d < 0 || d > 9007199254740991.0 || d != (double)(long long)d) {
			rc = PT_ERR_INVALID;
			goto out;
		}
		out->org = pt_printf(a, "%lld", (long long)d);
	} else if (!token_text(a, id, PT_MAX_UPSTREAM_ORG, &out->org)) {
		rc = PT_ERR_INVALID;
	}
out:
	if (rc != PT_OK)
		memset(out, 0, sizeof(*out));
	cJSON_Delete(root);
	return rc;
}

/* Appends the printable part of s (control characters become spaces), at most max bytes
 * in all, cut at a character boundary. */
static void
add_message(pt_buf *b, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && b->n < max; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (b->n + k > max)
			break;
		if (c < 0x20 || c == 0x7f) {
			pt_buf_addc(b, ' ');
			continue;
		}
		if (strnlen(s + i, k) < k)
			break;
		pt_buf_add(b, s + i, k);
		i += k - 1;
	}
}

const char *
pt_upstream_error_message(pt_arena *a, const char *s, size_t n)
{
	if (n > PT_MAX_UPSTREAM_ANSWER)
		return NULL;
	cJSON *root = cJSON_ParseWithLength(s, n);
	if (root == NULL)
		return NULL;
	pt_buf b;
	pt_buf_init(&b, a);
	/* RFC 6749 §5.2 names, then what NestJS (Postiz) sends: message, a string or a list */
	static const char *const names[] = {"error_description", "error", "message"};
	for (size_t i = 0; cJSON_IsObject(root) && i < sizeof(names) / sizeof(names[0]) && b.n == 0; i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, names[i]);
		if (cJSON_IsString(it)) {
			add_message(&b, it->valuestring, PT_MAX_UPSTREAM_MESSAGE);
		} else if (cJSON_IsArray(it)) {
			for (const cJSON *e = it->child; e != NULL; e = e->next)
				if (cJSON_IsString(e)) {
					if (b.n)
						add_message(&b, "; ", PT_MAX_UPSTREAM_MESSAGE);
					add_message(&b, e->valuestring, PT_MAX_UPSTREAM_MESSAGE);
				}
		}
	}
	cJSON_Delete(root);
	if (!pt_valid_utf8(b.p, b.n))
		return NULL;
	return b.n ? b.p : NULL;
}

/* The key of one row: BLAKE2b keyed with the bridge's key over the row's id, so a sealed
 * value opens only in the row it was written for. */
static void
row_key(uint8_t out[crypto_secretbox_KEYBYTES], const uint8_t key[32], const uint8_t *row,
    size_t rown)
{
	crypto_generichash(out, crypto_secretbox_KEYBYTES, row, rown, key, 32);
}

void
pt_bridge_key(uint8_t out[32], const uint8_t server_key[32])
{
	/* a key of its own, so nothing sealed here can be confused with a keyed hash */
	crypto_kdf_derive_from_key(out, 32, 1, "pbridge1", server_key);
}

uint8_t *
pt_seal(pt_arena *a, const uint8_t key[32], const uint8_t *row, size_t rown, const char *m,
    size_t n, size_t *outn)
{
	uint8_t k[crypto_secretbox_KEYBYTES];
	uint8_t *c = pt_alloc(a, crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n);
	row_key(k, key, row, rown);
	randombytes_buf(c, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(c + crypto_secretbox_NONCEBYTES, (const uint8_t *)m, n, c, k);
	sodium_memzero(k, sizeof(k));
	*outn = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	return c;
}

char *
pt_unseal(pt_arena *a, const uint8_t key[32], const uint8_t *row, size_t rown, const uint8_t *c,
    size_t cn)
{
	uint8_t k[crypto_secretbox_KEYBYTES];
	if (c == NULL || cn < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return NULL;
	size_t n = cn - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	char *m = pt_alloc(a, n + 1);
	row_key(k, key, row, rown);
	int rc = crypto_secretbox_open_easy((uint8_t *)m, c + crypto_secretbox_NONCEBYTES,
	    cn - crypto_secretbox_NONCEBYTES, c, k);
	sodium_memzero(k, sizeof(k));
	if (rc != 0)
		return NULL;
	m[n] = '\0';
	return m;
}
