/*
 * PKCS#10 certificate requests (RFC 2986): the subject, the SANs as a
 * requested extension, the public key, signed with the subject's key.
 * With a key that stays in an HSM this is how an operator gets it
 * certified by a CA of their own: `siptlsctl cert csr NAME --key
 * pkcs11:...` (docs/hsm.md).
 */
#include <errno.h>

#include <openssl/pem.h>

#include "x509/x509_int.h"

static int add_sans(X509_REQ *r, const struct stls_x509_req *req,
		    struct stls_x509_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	X509_EXTENSION *ext = NULL;
	GENERAL_NAME *gen;
	int rc = -ENOMEM;
	size_t i;

	if (req->n_sans == 0) {
		return 0;
	}
	gens = sk_GENERAL_NAME_new_null();
	for (i = 0; gens && i < req->n_sans; i++) {
		if (stls_x509_san_validate(&req->sans[i], err)) {
			rc = -EINVAL;
			goto out;
		}
		gen = stls__x509_san_gen(&req->sans[i]);
		if (!gen || !sk_GENERAL_NAME_push(gens, gen)) {
			GENERAL_NAME_free(gen);
			goto fail;
		}
	}
	ext = gens ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gens) : NULL;
	exts = sk_X509_EXTENSION_new_null();
	if (!ext || !exts || !sk_X509_EXTENSION_push(exts, ext)) {
		goto fail;
	}
	ext = NULL; /* the stack owns it now */
	if (X509_REQ_add_extensions(r, exts)) {
		rc = 0;
		goto out;
	}
fail:
	stls__x509_err_ssl(err, "cannot add subjectAltName");
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return rc;
}

int stls_x509_csr_build(const struct stls_x509_req *req, X509_REQ **out,
			struct stls_x509_err *err)
{
	X509_REQ *r;
	int rc;

	if (!req->key || !req->subject) {
		stls_x509_err_set(err, "a request needs a key and a subject");
		return -EINVAL;
	}
	r = X509_REQ_new();
	if (!r || !X509_REQ_set_version(r, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(r, req->subject) ||
	    !X509_REQ_set_pubkey(r, req->key)) {
		X509_REQ_free(r);
		stls__x509_err_ssl(err, "cannot build request");
		return -ENOMEM;
	}
	rc = add_sans(r, req, err);
	if (rc) {
		X509_REQ_free(r);
		return rc;
	}
	if (!X509_REQ_sign(r, req->key, stls__x509_sign_md(req->key)) ||
	    X509_REQ_verify(r, req->key) != 1) {
		X509_REQ_free(r);
		stls__x509_err_ssl(err, "cannot sign request with the key");
		return -EPROTO;
	}
	*out = r;
	return 0;
}

int stls_x509_csr_write(const char *path, X509_REQ *csr, bool overwrite,
			struct stls_x509_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	int rc;

	if (!bio || !PEM_write_bio_X509_REQ(bio, csr)) {
		BIO_free(bio);
		stls__x509_err_ssl(err, "cannot encode request");
		return -ENOMEM;
	}
	len = BIO_get_mem_data(bio, &data);
	rc = stls_x509_file_write(path, data, (size_t)len, 0644, overwrite,
				  err);
	BIO_free(bio);
	return rc;
}
