/*
 * Unit tests for lib/hsm/hsm_check.c: a key is checked against its
 * certificate by type, by public key and by real test signatures, with
 * file keys (the test PKI) and with token keys, including one the token
 * will not sign with (CKA_SIGN false).
 */
#include <errno.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "lib/hsm/softhsm_fixture.h"

static X509 *cert(const char *name)
{
	struct stls_x509_err e;
	X509 *x = NULL;

	CHECK_OK(stls_x509_cert_read(test_cert_path(name), "cert", &x, &e));
	return x;
}

static EVP_PKEY *key(const char *name)
{
	struct stls_x509_err e;
	EVP_PKEY *k = NULL;

	CHECK_OK(stls_x509_key_read(test_cert_path(name), "key", NULL, &k,
				    &e));
	return k;
}

TEST(file_keys_match_and_mismatch)
{
	X509 *c = cert("server.pem"), *c2 = cert("server2.pem");
	EVP_PKEY *k = key("server.key");
	struct stls_hsm_err e;

	CHECK_OK(stls_hsm_key_check(c, k, 0, 0, &e));
	CHECK_OK(stls_hsm_key_check(c, k, TLS1_3_VERSION, 0, &e));
	CHECK_EQ(stls_hsm_key_check(c2, k, 0, 0, &e), -EKEYREJECTED);
	CHECK_EQ(e.cause, STLS_HSM_KEY_MISMATCH);
	X509_free(c);
	X509_free(c2);
	EVP_PKEY_free(k);
}

TEST(token_keys_sign_every_scheme_of_their_type)
{
	struct token_fx fx;
	struct stls_diag d;
	struct stls_hsm_err e;
	EVP_PKEY *ec, *rsa;
	char ecp[700], rsap[700];
	X509 *ecc, *rsac;
	struct stls_x509_err xe;

	token_make(&fx, true);
	stls_diag_init(&d);
	CHECK_OK(token_engine(fx.engine_cnf, &d));
	ec = token_key(FX_EC);
	rsa = token_key(FX_RSA);
	snprintf(ecp, sizeof(ecp), "%s/ec.pem", fx.dir);
	snprintf(rsap, sizeof(rsap), "%s/rsa.pem", fx.dir);
	token_cert(ec, "ec.example.test", ecp);
	token_cert(rsa, "rsa.example.test", rsap);
	CHECK_OK(stls_x509_cert_read(ecp, "c", &ecc, &xe));
	CHECK_OK(stls_x509_cert_read(rsap, "c", &rsac, &xe));
	CHECK_OK(stls_hsm_key_check(ecc, ec, 0, 0, &e));
	CHECK_OK(stls_hsm_key_check(rsac, rsa, TLS1_2_VERSION, 0, &e));
	CHECK_OK(stls_hsm_key_check(rsac, rsa, TLS1_3_VERSION, 0, &e));
	/* RSA key, EC certificate: named by type. */
	CHECK_EQ(stls_hsm_key_check(ecc, rsa, 0, 0, &e), -EKEYREJECTED);
	CHECK_STR_HAS(e.msg, "the key is rsaEncryption");
	X509_free(ecc);
	X509_free(rsac);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	stls_hsm_fini();
	stls_diag_fini(&d);
}

TEST(a_token_key_that_may_not_sign_is_found_before_any_handshake)
{
	struct token_fx fx;
	struct stls_diag d;
	struct stls_hsm_err e;
	struct stls_x509_err xe;
	char path[700];
	EVP_PKEY *k;
	X509 *c;
	BIO *b;

	token_make(&fx, false);
	/* An RSA key for decryption only: CKA_SIGN false. */
	fx_sh("pkcs11-tool --module %s --token-label %s --login --pin %s "
	      "--keypairgen --key-type rsa:2048 --label dec --id 03 "
	      ">/dev/null 2>&1", fx.module, FX_LABEL, FX_PIN);
	token_set_sign(&fx, "dec", false);
	stls_diag_init(&d);
	CHECK_OK(token_engine(fx.engine_cnf, &d));
	k = token_key("pkcs11:token=siptls-test;object=dec");
	/* Its certificate, signed by a file key (the token would not). */
	snprintf(path, sizeof(path), "%s/dec.pem", fx.dir);
	{
		EVP_PKEY *ca = key("ca.key");
		X509 *cac = cert("ca.pem");
		struct stls_x509_req req = { .profile =
						     STLS_X509_PROFILE_SERVER };

		CHECK_OK(stls_x509_name_parse("/CN=dec", &req.subject, &xe));
		req.days = 10;
		req.key = k;
		req.issuer = cac;
		req.issuer_key = ca;
		CHECK_OK(stls_x509_cert_build(&req, &c, &xe));
		X509_NAME_free(req.subject);
		EVP_PKEY_free(ca);
		X509_free(cac);
	}
	b = BIO_new_file(path, "w");
	CHECK(PEM_write_bio_X509(b, c) == 1);
	BIO_free(b);
	CHECK_EQ(stls_hsm_key_check(c, k, 0, 0, &e), -EPERM);
	CHECK_EQ(e.cause, STLS_HSM_KEY_CANNOT_SIGN);
	CHECK_STR_HAS(e.msg, "rsa_pkcs1_sha256");
	X509_free(c);
	EVP_PKEY_free(k);
	stls_hsm_fini();
	stls_diag_fini(&d);
}
