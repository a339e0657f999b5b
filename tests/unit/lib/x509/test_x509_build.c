/*
 * Tests of lib/x509/x509_build.c: profiles, serials, validity, SANs.
 */
#include <errno.h>

#include <openssl/x509v3.h>

#include "test.h"

#include "stls/x509.h"

struct pki {
	EVP_PKEY *ca_key, *key;
	X509 *ca;
	X509_NAME *ca_name, *name;
};

static void pki_init(struct pki *p, int ca_days)
{
	struct stls_x509_keyspec ec = { 0 };
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_CA };

	memset(p, 0, sizeof(*p));
	CHECK_OK(stls_x509_key_new(&ec, &p->ca_key, NULL));
	CHECK_OK(stls_x509_key_new(&ec, &p->key, NULL));
	CHECK_OK(stls_x509_name_parse("/CN=Test CA", &p->ca_name, NULL));
	CHECK_OK(stls_x509_name_parse("/CN=leaf", &p->name, NULL));
	req.subject = p->ca_name;
	req.key = p->ca_key;
	req.days = ca_days;
	CHECK_OK(stls_x509_cert_build(&req, &p->ca, NULL));
}

static void pki_fini(struct pki *p)
{
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->key);
	X509_free(p->ca);
	X509_NAME_free(p->ca_name);
	X509_NAME_free(p->name);
}

TEST(ca_profile)
{
	struct pki p;

	pki_init(&p, 100);
	CHECK_EQ(X509_check_ca(p.ca), 1);
	CHECK_EQ(X509_get_key_usage(p.ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	CHECK_EQ(X509_verify(p.ca, p.ca_key), 1);
	CHECK_EQ(X509_get_version(p.ca), X509_VERSION_3);
	/* Self-signed: AKI = SKI. */
	CHECK_EQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(p.ca),
				       X509_get0_authority_key_id(p.ca)), 0);
	pki_fini(&p);
}

TEST(leaf_is_signed_and_cut_to_the_ca_lifetime)
{
	struct stls_x509_san sans[] = { { STLS_X509_SAN_DNS, "a.example" } };
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_SERVER,
				     .sans = sans, .n_sans = 1, .days = 825 };
	struct pki p;
	X509 *x = NULL, *y = NULL;
	char s1[64], s2[64];

	pki_init(&p, 10);
	req.subject = p.name;
	req.key = p.key;
	req.issuer = p.ca;
	req.issuer_key = p.ca_key;
	CHECK_OK(stls_x509_cert_build(&req, &x, NULL));
	CHECK_OK(stls_x509_cert_build(&req, &y, NULL));
	CHECK_EQ(X509_verify(x, p.ca_key), 1);
	CHECK_EQ(X509_check_issued(p.ca, x), X509_V_OK);
	CHECK_EQ(ASN1_TIME_compare(X509_get0_notAfter(x),
				   X509_get0_notAfter(p.ca)), 0);
	CHECK_EQ(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(p.ca),
				       X509_get0_authority_key_id(x)), 0);
	/* Serials are random, 16 octets, positive. */
	stls_x509_serial_hex(x, s1, sizeof(s1));
	stls_x509_serial_hex(y, s2, sizeof(s2));
	CHECK(strcmp(s1, s2) != 0);
	CHECK_EQ(strlen(s1), 32);
	CHECK(s1[0] >= '0' && s1[0] <= '7');
	X509_free(x);
	X509_free(y);
	pki_fini(&p);
}

TEST(bad_requests_are_refused)
{
	struct stls_x509_san bad[] = { { STLS_X509_SAN_IP, "::g" } };
	struct stls_x509_req req = { .profile = STLS_X509_PROFILE_CLIENT,
				     .days = 1 };
	struct stls_x509_err err;
	struct pki p, q;
	X509 *x = NULL;

	pki_init(&p, 10);
	pki_init(&q, 10);
	CHECK_EQ(stls_x509_cert_build(&req, &x, &err), -EINVAL);
	req.subject = p.name;
	req.key = p.key;
	req.days = 0;
	CHECK_EQ(stls_x509_cert_build(&req, &x, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "validity of 0 days");
	req.days = 1;
	req.sans = bad;
	req.n_sans = 1;
	CHECK_EQ(stls_x509_cert_build(&req, &x, &err), -EINVAL);
	CHECK_STR_HAS(err.msg, "bad IP name '::g'");
	req.n_sans = 0;
	req.issuer = p.ca;
	req.issuer_key = q.ca_key;
	CHECK_EQ(stls_x509_cert_build(&req, &x, &err), -EKEYREJECTED);
	CHECK_STR_HAS(err.msg, "does not match");
	CHECK_NULL(x);
	pki_fini(&p);
	pki_fini(&q);
}

TEST(fingerprint_format)
{
	struct pki p;
	char fp[100];

	pki_init(&p, 1);
	stls_x509_fingerprint(p.ca, fp, sizeof(fp));
	CHECK_EQ(strlen(fp), 95);
	CHECK_EQ(fp[2], ':');
	CHECK(stls_x509_is_ca(p.ca));
	pki_fini(&p);
}
