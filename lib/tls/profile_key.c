/*
 * Private keys read quickly, for sets with thousands of profiles.
 *
 * OpenSSL 3.0 decodes a key through a decoder context that it assembles
 * for every call (PEM_read_bio_PrivateKey(): every decoder of every
 * provider is listed and chained), which costs about 4.4 million
 * instructions, ten times the decoding itself: 0.45 ms per key here, 4.5 s
 * for 10,000 tenants. One context, assembled once per set build and used
 * for every key, does the same decoding for 0.57 million. An EC key on a
 * named curve that carries its public key (what OpenSSL and every ACME
 * client write) is taken apart here instead (RFC 5208 PrivateKeyInfo,
 * RFC 5915 ECPrivateKey) and imported with EVP_PKEY_fromdata() through
 * one EC context: 0.2 million. The key is then compared with its
 * certificate as any other (profile_cert.c).
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

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls/profile_int.h"

struct stls__keyrd {
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *out;   /* where the context puts each key it decodes */
	bool asked;      /* the decoder asked for a passphrase */
	EVP_PKEY_CTX *ec; /* EC imports; NULL: every key is decoded */
	uint64_t cache_id; /* 0: no file cache */
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

int stls__keyrd_new(uint64_t cache_id, struct stls__keyrd **out)
{
	struct stls__keyrd *kr = calloc(1, sizeof(*kr));

	if (!kr) {
		return -ENOMEM;
	}
	kr->cache_id = cache_id;
	kr->dctx = OSSL_DECODER_CTX_new_for_pkey(&kr->out, "DER",
						 "PrivateKeyInfo", NULL,
						 EVP_PKEY_KEYPAIR, NULL, NULL);
	if (!kr->dctx ||
	    !OSSL_DECODER_CTX_set_pem_password_cb(kr->dctx, no_pass, kr)) {
		ERR_clear_error();
		stls__keyrd_free(kr);
		return -ENOMEM;
	}
	kr->ec = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	ERR_clear_error();
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
	EVP_PKEY_CTX_free(kr->ec);
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

/*
 * The next DER element of [*p, *p + *left): its tag and class, and its
 * contents in *val / *vlen; advances past it. False when malformed or of
 * indefinite length.
 */
static bool der_next(const unsigned char **p, long *left, int *tag, int *cls,
		     const unsigned char **val, long *vlen)
{
	const unsigned char *q = *p;
	int r;

	if (*left <= 0) {
		return false;
	}
	r = ASN1_get_object(&q, vlen, tag, cls, *left);
	if ((r & 0x80) || (r & 0x01)) {
		return false;
	}
	*val = q;
	*left -= (long)(q - *p) + *vlen;
	*p = q + *vlen;
	return true;
}

/* The private scalar and public point of an RFC 5915 ECPrivateKey
 * without parameters (they are in the PrivateKeyInfo). */
static bool ec_parts(const unsigned char *der, long len,
		     const unsigned char **priv, long *privlen,
		     const unsigned char **pub, long *publen)
{
	const unsigned char *p = der, *v;
	long left = len, n;
	int tag, cls;

	if (!der_next(&p, &left, &tag, &cls, &v, &n) ||
	    tag != V_ASN1_SEQUENCE || left != 0) {
		return false;
	}
	p = v;
	left = n;
	if (!der_next(&p, &left, &tag, &cls, &v, &n) ||
	    tag != V_ASN1_INTEGER || n != 1 || v[0] != 1 ||
	    !der_next(&p, &left, &tag, &cls, priv, privlen) ||
	    tag != V_ASN1_OCTET_STRING || *privlen < 1 || *privlen > 66 ||
	    !der_next(&p, &left, &tag, &cls, &v, &n) ||
	    cls != V_ASN1_CONTEXT_SPECIFIC || tag != 1 || left != 0) {
		return false;
	}
	p = v;
	left = n;
	if (!der_next(&p, &left, &tag, &cls, &v, &n) ||
	    tag != V_ASN1_BIT_STRING || left != 0 || n < 2 || v[0] != 0) {
		return false;
	}
	*pub = v + 1;
	*publen = n - 1;
	return true;
}

/* <der> as an EC key on a named curve, or NULL (then it is decoded). */
static EVP_PKEY *ec_import(struct stls__keyrd *kr, const unsigned char *der,
			   long len)
{
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &der, len);
	const unsigned char *pk, *priv, *pub;
	const ASN1_OBJECT *alg;
	const X509_ALGOR *pa;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	const char *curve = NULL;
	const void *pval = NULL;
	EVP_PKEY *key = NULL;
	BIGNUM *d = NULL;
	long privlen, publen;
	int pklen, ptype = 0;

	if (p8 && PKCS8_pkey_get0(&alg, &pk, &pklen, &pa, p8) == 1 &&
	    OBJ_obj2nid(alg) == NID_X9_62_id_ecPublicKey) {
		X509_ALGOR_get0(NULL, &ptype, &pval, pa);
	}
	if (ptype == V_ASN1_OBJECT) {
		curve = OBJ_nid2sn(OBJ_obj2nid(pval));
	}
	if (!curve || !ec_parts(pk, pklen, &priv, &privlen, &pub, &publen) ||
	    !(d = BN_secure_new()) || !BN_bin2bn(priv, (int)privlen, d) ||
	    !(bld = OSSL_PARAM_BLD_new()) ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     curve, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					      pub, (size_t)publen) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    EVP_PKEY_fromdata_init(kr->ec) != 1 ||
	    EVP_PKEY_fromdata(kr->ec, &key, EVP_PKEY_KEYPAIR, params) != 1) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	OSSL_PARAM_free(params); /* the scalar's copy: secure, cleared */
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return key;
}

/* <der> through the decoder context, or NULL. */
static EVP_PKEY *decode(struct stls__keyrd *kr, const unsigned char *der,
			long len)
{
	const unsigned char *p = der;
	size_t left = (size_t)len;
	EVP_PKEY *key = NULL;

	kr->asked = false;
	EVP_PKEY_free(kr->out);
	kr->out = NULL;
	if (OSSL_DECODER_from_data(kr->dctx, &p, &left) == 1 && !kr->asked &&
	    left == 0) {
		key = kr->out;
		kr->out = NULL;
	}
	return key;
}

/* The first key of <bio>, when it takes this path; or NULL. */
static EVP_PKEY *read_bio(struct stls__keyrd *kr, BIO *bio)
{
	EVP_PKEY *key = NULL;
	unsigned char *der;
	long len = 0;

	der = bio ? first_pkcs8(bio, &len) : NULL;
	if (der) {
		key = kr->ec ? ec_import(kr, der, len) : NULL;
		key = key ? key : decode(kr, der, len);
		OPENSSL_clear_free(der, (size_t)len);
	}
	return key;
}

EVP_PKEY *stls__keyrd_parse(struct stls__keyrd *kr,
			    const struct stls__pc_file *f)
{
	EVP_PKEY *key;
	BIO *bio;

	if (!kr) {
		return NULL;
	}
	if (kr->cache_id && (key = stls__pcache_get_key(kr->cache_id, f->md))) {
		return key;
	}
	bio = BIO_new_mem_buf(f->data, (int)f->len);
	key = read_bio(kr, bio);
	BIO_free(bio);
	if (key && kr->cache_id) {
		stls__pcache_put_key(kr->cache_id, f->md, key);
	}
	ERR_clear_error();
	return key;
}

EVP_PKEY *stls__keyrd_read(struct stls__keyrd *kr, const char *path)
{
	struct stls__pc_file f;
	EVP_PKEY *key;
	BIO *bio;

	if (!kr) {
		return NULL;
	}
	/* What is parsed is what was digested, not the file again. */
	if (kr->cache_id && stls__pcache_read(path, &f) == 0) {
		key = stls__keyrd_parse(kr, &f);
		stls__pcache_file_fini(&f);
		return key;
	}
	bio = BIO_new_file(path, "r");
	key = read_bio(kr, bio);
	BIO_free(bio);
	ERR_clear_error();
	return key;
}
