/*
 * Tests of lib/x509/x509_crl.c: reason names and CRL contents.
 */
#include <errno.h>

#include <openssl/x509v3.h>

#include "test.h"

#include "stls/x509.h"

TEST(reason_names_round_trip)
{
	CHECK_EQ(stls_x509_reason_parse("keyCompromise"),
		 CRL_REASON_KEY_COMPROMISE);
	CHECK_EQ(stls_x509_reason_parse("KEYCOMPROMISE"),
		 CRL_REASON_KEY_COMPROMISE);
	CHECK_EQ(stls_x509_reason_parse("certificateHold"), -EINVAL);
	CHECK_EQ(stls_x509_reason_parse(NULL), -EINVAL);
	CHECK_STR_EQ(stls_x509_reason_name(CRL_REASON_SUPERSEDED),
		     "superseded");
	CHECK_NULL(stls_x509_reason_name(99));
	CHECK_STR_HAS(stls_x509_reason_list(), "cessationOfOperation");
}

static void make_ca(EVP_PKEY **key, X509 **ca)
{
	struct stls_x509_keyspec ec = { 0 };
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_CA,
				     .days = 10 };

	CHECK_OK(stls_x509_key_new(&ec, key, NULL));
	CHECK_OK(stls_x509_name_parse("/CN=CRL CA", &req.subject, NULL));
	req.key = *key;
	CHECK_OK(stls_x509_cert_build(&req, ca, NULL));
	X509_NAME_free(req.subject);
}

TEST(crl_is_v2_signed_numbered_with_reasons)
{
	struct stls_x509_revoked v[] = {
		{ "0A", 1700000000, CRL_REASON_KEY_COMPROMISE },
		{ "7f00112233", 1700000001, CRL_REASON_UNSPECIFIED },
	};
	STACK_OF(X509_REVOKED) *revs;
	ASN1_INTEGER *num;
	ASN1_ENUMERATED *code;
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	X509_CRL *crl = NULL;
	int days = 0, secs = 0;

	make_ca(&key, &ca);
	CHECK_OK(stls_x509_crl_build(ca, key, v, 2, 42, 7, 0, &crl, NULL));
	CHECK_EQ(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	CHECK_EQ(X509_CRL_verify(crl, key), 1);
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	CHECK_EQ(ASN1_INTEGER_get(num), 42);
	ASN1_INTEGER_free(num);
	CHECK(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
			     X509_CRL_get0_nextUpdate(crl)));
	CHECK_EQ(days, 7);
	revs = X509_CRL_get_REVOKED(crl);
	CHECK_EQ(sk_X509_REVOKED_num(revs), 2);
	/* Sorted by serial: 0x0A first, with its reason. */
	code = X509_REVOKED_get_ext_d2i(sk_X509_REVOKED_value(revs, 0),
					NID_crl_reason, NULL, NULL);
	CHECK_EQ(ASN1_ENUMERATED_get(code), CRL_REASON_KEY_COMPROMISE);
	ASN1_ENUMERATED_free(code);
	CHECK_NULL(X509_REVOKED_get_ext_d2i(sk_X509_REVOKED_value(revs, 1),
					    NID_crl_reason, NULL, NULL));
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
}

TEST(crl_refuses_bad_input)
{
	struct stls_x509_revoked bad[] = { { "XYZ", 0, 0 } };
	struct stls_x509_err err;
	EVP_PKEY *key = NULL, *other = NULL;
	X509 *ca = NULL, *ca2 = NULL;
	X509_CRL *crl = NULL;

	make_ca(&key, &ca);
	make_ca(&other, &ca2);
	CHECK_EQ(stls_x509_crl_build(ca, key, bad, 1, 1, 7, 0, &crl, &err),
		 -EINVAL);
	CHECK_STR_HAS(err.msg, "bad serial 'XYZ'");
	CHECK_EQ(stls_x509_crl_build(ca, other, NULL, 0, 1, 7, 0, &crl, &err),
		 -EKEYREJECTED);
	CHECK_EQ(stls_x509_crl_build(ca, key, NULL, 0, 1, 0, 0, &crl, &err),
		 -EINVAL);
	CHECK_NULL(crl);
	X509_free(ca);
	X509_free(ca2);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}
