/*
 * Unit tests for lib/hsm/hsm_store.c: keys through OSSL_STORE URIs
 * ("/uri:file:..." works with the default provider; "pkcs11:" has no
 * loader on OpenSSL 3.0 and says what to do instead).
 */
#include <errno.h>

#include "hsm/hsm_int.h"
#include "test.h"

static int load(const char *id, const char *pin, struct stls_hsm_err *e,
		EVP_PKEY **k)
{
	*k = NULL;
	return stls_hsm_key_load(id, pin, k, e);
}

TEST(file_uri_loads_a_pem_key)
{
	char id[1200];
	struct stls_hsm_err e;
	EVP_PKEY *k;

	snprintf(id, sizeof(id), "/uri:file:%s", test_cert_path("server.key"));
	CHECK_OK(load(id, NULL, &e, &k));
	CHECK_NOT_NULL(k);
	CHECK(stls_hsm_key_is_hsm(k) || !stls_hsm_has_engine());
	EVP_PKEY_free(k);
}

TEST(missing_file_is_key_not_found)
{
	struct stls_hsm_err e;
	EVP_PKEY *k;

	CHECK_EQ(load("/uri:file:/nonexistent/key.pem", NULL, &e, &k),
		 -ENOENT);
	CHECK_EQ(e.cause, STLS_HSM_KEY_NOT_FOUND);
	CHECK_NULL(k);
}

TEST(pkcs11_without_engine_has_no_loader_and_says_what_to_do)
{
	struct stls_hsm_err e;
	EVP_PKEY *k;

	CHECK_EQ(load("pkcs11:token=t;object=k", NULL, &e, &k), -ENODEV);
	CHECK_EQ(e.cause, STLS_HSM_NO_LOADER);
	CHECK_STR_HAS(e.msg, "engine = pkcs11");
	CHECK_EQ(load("/uri:pkcs11:token=t;object=k", NULL, &e, &k),
		 -ENODEV);
	CHECK_EQ(e.cause, STLS_HSM_NO_LOADER);
}

TEST(engine_key_without_engine_is_named)
{
	struct stls_hsm_err e;
	EVP_PKEY *k;

	CHECK_EQ(load("/engine:my_HSM_key_label", NULL, &e, &k), -ENODEV);
	CHECK_EQ(e.cause, STLS_HSM_NO_ENGINE);
	CHECK_STR_HAS(e.msg, "set [tls] engine");
}
