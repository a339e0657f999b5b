/*
 * OCSP responses and CRLs for the lib/revoc tests, made with OpenSSL's
 * API from the test PKI (tests/certs/mkcerts.sh): server-chain.pem is
 * issued by "int", which signs responses about it.
 */
#ifndef STLS_TEST_OCSP_FIXTURE_H
#define STLS_TEST_OCSP_FIXTURE_H

#include <stdio.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>

#include "test.h"

#ifndef UNUSED
#define UNUSED __attribute__((unused))
#endif

static UNUSED X509 *ox_cert(const char *name)
{
	FILE *fp = fopen(test_cert_path(name), "r");
	X509 *x;

	CHECK_NOT_NULL(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	CHECK_NOT_NULL(x);
	return x;
}

static UNUSED EVP_PKEY *ox_key(const char *name)
{
	FILE *fp = fopen(test_cert_path(name), "r");
	EVP_PKEY *k;

	CHECK_NOT_NULL(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	CHECK_NOT_NULL(k);
	return k;
}

/*
 * A DER response (OPENSSL_free) about <leaf> issued by <issuer>, signed
 * by <signer> (name of a .pem/.key pair), thisUpdate <tu> s and
 * nextUpdate <nu> s from now (nu 0: none).
 */
static UNUSED unsigned char *ox_resp(X509 *leaf, X509 *issuer,
				      const char *signer, int status,
				      long tu, long nu, size_t *len)
{
	char pem[64], key[64];
	X509 *sx;
	EVP_PKEY *sk;
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, issuer);
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	ASN1_TIME *t1 = X509_gmtime_adj(NULL, tu);
	ASN1_TIME *t2 = nu ? X509_gmtime_adj(NULL, nu) : NULL;
	ASN1_TIME *rt = X509_gmtime_adj(NULL, -7200);
	OCSP_RESPONSE *r;
	unsigned char *der = NULL;
	int n;

	snprintf(pem, sizeof(pem), "%s.pem", signer);
	snprintf(key, sizeof(key), "%s.key", signer);
	sx = ox_cert(pem);
	sk = ox_key(key);
	CHECK_NOT_NULL(OCSP_basic_add1_status(
		bs, id, status,
		status == V_OCSP_CERTSTATUS_REVOKED ?
			OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
		status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL, t1, t2));
	CHECK(OCSP_basic_sign(bs, sx, sk, EVP_sha256(), NULL, OCSP_NOCERTS));
	r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	CHECK_NOT_NULL(r);
	n = i2d_OCSP_RESPONSE(r, &der);
	CHECK(n > 0);
	*len = (size_t)n;
	OCSP_RESPONSE_free(r);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(t1);
	ASN1_TIME_free(t2);
	ASN1_TIME_free(rt);
	X509_free(sx);
	EVP_PKEY_free(sk);
	return der;
}

#endif
