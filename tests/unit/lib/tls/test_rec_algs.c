/*
 * Unit tests for lib/tls/rec_algs.c: the record layers' ciphers and
 * digests fetched with a library context and property query (references
 * released by stls__rec_algs_free()), the default set fetched once, and a
 * query no provider answers refused with nothing kept.
 */
#include <errno.h>

#include <openssl/provider.h>

#include "test.h"
#include "tls/tls_int.h"

TEST(default_set_fetched_once)
{
	const struct stls_rec_algs *a = stls__rec_algs_default();
	size_t i;

	CHECK(a == stls__rec_algs_default());
	for (i = 0; i < STLS_REC__CIPHERS; i++) {
		CHECK(a->cipher[i] != NULL);
		CHECK_EQ(EVP_CIPHER_get_iv_length(a->cipher[i]), 12);
	}
	CHECK_EQ(EVP_MD_get_size(a->md[STLS_REC_SHA256]), 32);
	CHECK_EQ(EVP_MD_get_size(a->md[STLS_REC_SHA384]), 48);
}

TEST(fetched_from_the_given_context)
{
	OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
	OSSL_PROVIDER *prov = lc ? OSSL_PROVIDER_load(lc, "default") : NULL;
	struct stls_rec_algs a;
	size_t i;

	CHECK(prov != NULL);
	CHECK_OK(stls__rec_algs_fetch(&a, lc, "provider=default"));
	for (i = 0; i < STLS_REC__CIPHERS; i++) {
		CHECK(EVP_CIPHER_get0_provider(a.cipher[i]) == prov);
	}
	CHECK(EVP_MD_get0_provider(a.md[STLS_REC_SHA384]) == prov);
	stls__rec_algs_free(&a);
	CHECK(a.cipher[0] == NULL && a.md[0] == NULL);
	/* A context without providers: nothing at all. */
	OSSL_PROVIDER_unload(prov);
	CHECK_EQ(stls__rec_algs_fetch(&a, lc, NULL), -ENOENT);
	CHECK(a.cipher[0] == NULL && a.md[1] == NULL);
	OSSL_LIB_CTX_free(lc);
}

TEST(query_without_providers_refused)
{
	struct stls_rec_algs a;

	CHECK_EQ(stls__rec_algs_fetch(&a, NULL, "provider=nowhere"), -ENOENT);
	CHECK(a.cipher[1] == NULL);
}
