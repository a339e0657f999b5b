/*
 * Tests of lib/x509/x509_key.c: key generation, description, matching.
 */
#include <openssl/pem.h>

#include <errno.h>

#include "test.h"

#include "stls/x509.h"

TEST(ec_is_the_default_and_p256)
{
	struct stls_x509_keyspec spec = { 0 };
	EVP_PKEY *k = NULL;
	char buf[64];

	CHECK_OK(stls_x509_key_new(&spec, &k, NULL));
	CHECK_STR_EQ(stls_x509_key_describe(k, buf, sizeof(buf)), "EC P-256");
	EVP_PKEY_free(k);
}

TEST(rsa_sizes_are_checked)
{
	struct stls_x509_keyspec spec = { STLS_X509_KEY_RSA, 1024 };
	struct stls_x509_err err;
	EVP_PKEY *k = NULL;
	char buf[64];

	CHECK_EQ(stls_x509_key_new(&spec, &k, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "RSA key size 1024 is out of range");
	spec.bits = 0; /* 2048 */
	CHECK_OK(stls_x509_key_new(&spec, &k, &err));
	CHECK_STR_EQ(stls_x509_key_describe(k, buf, sizeof(buf)), "RSA 2048");
	EVP_PKEY_free(k);
	CHECK_STR_EQ(stls_x509_key_describe(NULL, buf, sizeof(buf)), "none");
}

TEST(key_matches_only_its_certificate)
{
	FILE *f = fopen(test_cert_path("server.pem"), "r");
	struct stls_x509_keyspec spec = { 0 };
	EVP_PKEY *mine = NULL, *other = NULL;
	X509 *x;

	CHECK_NOT_NULL(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(test_cert_path("server.key"), "r");
	CHECK_NOT_NULL(f);
	mine = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	CHECK_OK(stls_x509_key_new(&spec, &other, NULL));
	CHECK(stls_x509_key_matches(x, mine));
	CHECK(!stls_x509_key_matches(x, other));
	CHECK(!stls_x509_key_matches(x, NULL));
	EVP_PKEY_free(mine);
	EVP_PKEY_free(other);
	X509_free(x);
}
