/* dpop.c: fuzzes pt_dpop_check (a DPoP header: compact JWS, JOSE header, jwk, claims,
 * signature) and pt_dpop_htu_match on the two halves of the input. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pt_config cfg;
	static const uint8_t key[32] = {9};
	if (cfg.dpop_proof_lifetime == 0) {
		cfg.base_url = "https://auth.example";
		cfg.base_path = "";
		cfg.dpop_proof_lifetime = PT_DPOP_LIFETIME;
		memcpy(cfg.key, key, sizeof(key));
		pt_hash_key(key);
	}
	if (size > PT_MAX_DPOP_PROOF + 16)
		return 0;
	struct pt_ctx ctx = {.a = fuzz_arena(), .cfg = &cfg};
	char *p = fuzz_copy(data, size, 1);
	struct pt_dpop d;
	const char *why = NULL;
	/* the token endpoint's request, then a protected resource's (with ath), with nonces
	 * off and on */
	const struct pt_dpop_req qs[] = {
		{.method = "POST", .url = "https://server.example.com/token"},
		{.method = "GET", .url = "https://resource.example.org/protectedresource", .token = "pat_x",
		    .token_n = 5},
	};
	for (size_t i = 0; i < 2; i++) {
		cfg.dpop_nonce = i == 1;
		enum pt_dpop_result r = pt_dpop_check(&ctx, p, 1, &qs[i], &d, &why);
		if (r == PT_DPOP_OK)
			FUZZ_ASSERT(why == NULL && pt_jkt_valid(d.jkt, strlen(d.jkt)) && d.expires > 0);
		else
			FUZZ_ASSERT(why != NULL && strchr(why, '"') == NULL && strchr(why, '\\') == NULL);
	}
	/* htu against url: the first line against the rest */
	char *nl = memchr(p, '\n', size);
	if (nl != NULL) {
		*nl = '\0';
		bool m = pt_dpop_htu_match(ctx.a, p, nl + 1);
		FUZZ_ASSERT(m == pt_dpop_htu_match(ctx.a, nl + 1, p)); /* symmetric */
	}
	free(p);
	return 0;
}
