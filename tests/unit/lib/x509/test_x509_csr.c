/*
 * Unit tests for lib/x509/x509_csr.c: requests carry the subject, the
 * SANs and the key, verify with it, and bad input is refused.
 */
#include <errno.h>

#include <openssl/x509v3.h>

#include "stls/x509.h"
#include "test.h"

static X509_REQ *make(const struct stls_x509_san *sans, size_t n,
		      EVP_PKEY *key, int *rc)
{
	struct stls_x509_req req = { .sans = sans, .n_sans = n, .key = key };
	struct stls_x509_err err = { "" };
	X509_REQ *r = NULL;

	CHECK_OK(stls_x509_name_parse("/O=Example/CN=sip.example.test",
				      &req.subject, &err));
	*rc = stls_x509_csr_build(&req, &r, &err);
	X509_NAME_free(req.subject);
	return r;
}

TEST(request_has_subject_sans_and_verifies)
{
	struct stls_x509_san sans[] = {
		{ STLS_X509_SAN_DNS, "sip.example.test" },
		{ STLS_X509_SAN_URI, "sip:sip.example.test" },
		{ STLS_X509_SAN_IP, "192.0.2.7" },
	};
	struct stls_x509_keyspec ks = { STLS_X509_KEY_EC, 0 };
	struct stls_x509_err err;
	STACK_OF(X509_EXTENSION) *exts;
	EVP_PKEY *k = NULL;
	X509_REQ *r;
	char path[600];
	int rc;

	CHECK_OK(stls_x509_key_new(&ks, &k, &err));
	r = make(sans, 3, k, &rc);
	CHECK_OK(rc);
	CHECK_EQ(X509_REQ_verify(r, k), 1);
	exts = X509_REQ_get_extensions(r);
	CHECK_EQ(sk_X509_EXTENSION_num(exts), 1);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	snprintf(path, sizeof(path), "%s/r.csr", test_tmp_dir());
	CHECK_OK(stls_x509_csr_write(path, r, false, &err));
	CHECK_EQ(stls_x509_csr_write(path, r, false, &err), -EEXIST);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
}

TEST(bad_names_and_a_missing_key_are_refused)
{
	struct stls_x509_san bad = { STLS_X509_SAN_DNS, "not a name" };
	struct stls_x509_keyspec ks = { STLS_X509_KEY_EC, 0 };
	struct stls_x509_err err;
	EVP_PKEY *k = NULL;
	int rc;

	CHECK_NULL(make(NULL, 0, NULL, &rc));
	CHECK_EQ(rc, -EINVAL);
	CHECK_OK(stls_x509_key_new(&ks, &k, &err));
	CHECK_NULL(make(&bad, 1, k, &rc));
	CHECK_EQ(rc, -EINVAL);
	EVP_PKEY_free(k);
}
