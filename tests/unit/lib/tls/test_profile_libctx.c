/*
 * Tests for lib/tls/profile_libctx.c: the library contexts that threads
 * parse certificates in, one per slot and kept, and the conditions under
 * which a parse there means what it means in the default context (only
 * OpenSSL's own providers there, no engine configured).
 */
#include <openssl/pem.h>
#include <openssl/provider.h>

#include "lib/tls/profile_fixture.h"
#include "tls/profile_int.h"

TEST(each_slot_has_one_context_kept)
{
	OSSL_LIB_CTX *a = stls__libctx_slot(0);
	OSSL_LIB_CTX *b = stls__libctx_slot(1);

	CHECK_NOT_NULL(a);
	CHECK_NOT_NULL(b);
	CHECK(a != b);
	CHECK(stls__libctx_slot(0) == a);
	CHECK(a != OSSL_LIB_CTX_get0_global_default());
	CHECK_NOT_NULL(stls__libctx_slot(STLS__LIBCTX_SLOTS - 1));
	CHECK_NULL(stls__libctx_slot(STLS__LIBCTX_SLOTS));
}

/* A certificate made in a slot's context is decoded by its provider. */
TEST(a_certificate_parsed_in_a_slot_context_stays_there)
{
	OSSL_LIB_CTX *ctx = stls__libctx_slot(2);
	OSSL_PROVIDER *def = OSSL_PROVIDER_load(NULL, "default");
	X509 *x = X509_new_ex(ctx, NULL);
	BIO *in = BIO_new_file(test_cert_path("server.pem"), "r");
	OSSL_PROVIDER *own;
	EVP_PKEY *pub;

	CHECK(x && in && def);
	CHECK(PEM_read_bio_X509(in, &x, NULL, NULL) == x);
	pub = X509_get0_pubkey(x);
	CHECK_NOT_NULL(pub);
	CHECK(EVP_PKEY_get0_provider(pub) != def);
	own = OSSL_PROVIDER_load(ctx, "default"); /* a new reference */
	CHECK(EVP_PKEY_get0_provider(pub) == own);
	OSSL_PROVIDER_unload(own);
	X509_free(x);
	BIO_free(in);
	OSSL_PROVIDER_unload(def);
}

/*
 * Private contexts only where they parse alike: not with an engine, not
 * while the default context has a provider of another kind loaded.
 */
TEST(private_contexts_only_where_they_parse_alike)
{
	struct stls_settings s;
	OSSL_PROVIDER *null;
	char *saved;

	CHECK_OK(stls_settings_init(&s));
	CHECK(stls__libctx_private_ok(&s));
	saved = s.engine;
	s.engine = (char *)"pkcs11";
	CHECK(!stls__libctx_private_ok(&s));
	s.engine = saved;
	CHECK(stls__libctx_private_ok(&s));
	/* OpenSSL's built-in "null" provider stands for any other. */
	null = OSSL_PROVIDER_load(NULL, "null");
	CHECK_NOT_NULL(null);
	CHECK(!stls__libctx_private_ok(&s));
	CHECK(OSSL_PROVIDER_unload(null) == 1);
	CHECK(stls__libctx_private_ok(&s));
	stls_settings_fini(&s);
}
