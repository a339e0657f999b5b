/*
 * Private keys read quickly, for sets with thousands of profiles.
 *
 * OpenSSL 3.0 decodes a key through a decoder context that it assembles
 * for every call (PEM_read_bio_PrivateKey(): every decoder of every
 * provider is listed and chained), which costs about 4.4 million
 * instructions, ten times the decoding itself: 0.45 ms per key here, 4.5 s
 * for 10,000 tenants. One context, assembled once per set build and used
 * for every key, does the same decoding for 0.37 million.
 *
 * Only the usual form takes this path: an unencrypted PKCS#8 key, the
 * "PRIVATE KEY" PEM block (openssl genpkey, siptlsctl cert, ACME
 * clients), possibly after the certificates in the same file. Anything
 * else (encrypted keys, the traditional "EC/RSA PRIVATE KEY" blocks,
 * broken files) is left to the general reader in profile_cert.c, which
 * also words every error; this path never reports anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "tls/profile_int.h"

struct stls__keyrd {
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *out; /* where the context puts each key it decodes */
	bool asked;    /* the decoder asked for a passphrase */
};

/* A passphrase is never given: an encrypted key is not for this path. */
static int no_pass(char *buf, int size, int rwflag, void *u)
{
	struct stls__keyrd *kr = u;

	(void)buf;
	(void)size;
	(void)rwflag;
	kr->asked = true;
	return -1;
}

int stls__keyrd_new(struct stls__keyrd **out)
{
	struct stls__keyrd *kr = calloc(1, sizeof(*kr));

	if (!kr) {
		return -ENOMEM;
	}
	kr->dctx = OSSL_DECODER_CTX_new_for_pkey(&kr->out, "DER",
						 "PrivateKeyInfo", NULL,
						 EVP_PKEY_KEYPAIR, NULL, NULL);
	if (!kr->dctx ||
	    !OSSL_DECODER_CTX_set_pem_password_cb(kr->dctx, no_pass, kr)) {
		ERR_clear_error();
		stls__keyrd_free(kr);
		return -ENOMEM;
	}
	*out = kr;
	return 0;
}

void stls__keyrd_free(struct stls__keyrd *kr)
{
	if (!kr) {
		return;
	}
	OSSL_DECODER_CTX_free(kr->dctx);
	EVP_PKEY_free(kr->out);
	free(kr);
}

/*
 * The DER of the first key block of <bio> when it is "PRIVATE KEY" with
 * no headers; NULL otherwise (another key block first, none at all).
 */
static unsigned char *first_pkcs8(BIO *bio, long *len)
{
	char *name = NULL, *hdr = NULL;
	unsigned char *der = NULL;
	bool key, plain;

	while (PEM_read_bio(bio, &name, &hdr, &der, len) == 1) {
		key = strstr(name, "PRIVATE KEY") != NULL;
		plain = strcmp(name, "PRIVATE KEY") == 0 && hdr[0] == '\0';
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		if (plain) {
			return der;
		}
		OPENSSL_clear_free(der, (size_t)*len);
		der = NULL;
		if (key) {
			break;
		}
	}
	return NULL;
}

EVP_PKEY *stls__keyrd_read(struct stls__keyrd *kr, const char *path)
{
	const unsigned char *p;
	unsigned char *der;
	EVP_PKEY *key = NULL;
	size_t left;
	long len = 0;
	BIO *bio;

	if (!kr) {
		return NULL;
	}
	bio = BIO_new_file(path, "r");
	der = bio ? first_pkcs8(bio, &len) : NULL;
	BIO_free(bio);
	if (der) {
		p = der;
		left = (size_t)len;
		kr->asked = false;
		EVP_PKEY_free(kr->out);
		kr->out = NULL;
		if (OSSL_DECODER_from_data(kr->dctx, &p, &left) == 1 &&
		    !kr->asked && left == 0) {
			key = kr->out;
			kr->out = NULL;
		}
		OPENSSL_clear_free(der, (size_t)len);
	}
	ERR_clear_error();
	return key;
}
