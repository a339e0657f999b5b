/*
 * The certificates of one profile: read, checked and installed, and their
 * chains built once; the keys that go with them are profile_pkey.c's.
 *
 * A profile's certificates go into its own SSL_CTX, or, when the profile
 * shares the SSL_CTX of an earlier profile with the same settings
 * (profile_share.c), into a scratch SSL made from that context: the same
 * OpenSSL calls in their SSL_CTX or SSL form (struct stls__certdst), so
 * both read, check and report alike. A value is a file, or PEM text held
 * in a database row (profile_pem.c), read from memory; both go through
 * the file cache (profile_cache.c).
 *
 * What ends up installed is then taken out as a bundle (struct
 * stls__certs) that an SSL of a sharing profile receives at each
 * connection: SSL_certs_clear() and SSL_use_cert_and_key() for each
 * chain, the current one last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls/ossl_err.h"
#include "tls/profile_int.h"

/* The SSL_CTX or SSL forms of the calls, for the target <d>. */
static int use_chain_file(const struct stls__certdst *d, const char *path)
{
	return d->ssl ? SSL_use_certificate_chain_file(d->ssl, path)
		      : SSL_CTX_use_certificate_chain_file(d->ctx, path);
}

static X509 *get0_cert(const struct stls__certdst *d)
{
	return d->ssl ? SSL_get_certificate(d->ssl)
		      : SSL_CTX_get0_certificate(d->ctx);
}

static EVP_PKEY *get0_key(const struct stls__certdst *d)
{
	return d->ssl ? SSL_get_privatekey(d->ssl)
		      : SSL_CTX_get0_privatekey(d->ctx);
}

static long set_current(const struct stls__certdst *d, long op)
{
	return d->ssl ? SSL_set_current_cert(d->ssl, op)
		      : SSL_CTX_set_current_cert(d->ctx, op);
}

static long select_current(const struct stls__certdst *d, X509 *x)
{
	return d->ssl ? SSL_select_current_cert(d->ssl, x)
		      : SSL_CTX_select_current_cert(d->ctx, x);
}

static long get0_chain(const struct stls__certdst *d, STACK_OF(X509) **sk)
{
	return d->ssl ? SSL_get0_chain_certs(d->ssl, sk)
		      : SSL_CTX_get0_chain_certs(d->ctx, sk);
}

static long build_chain(const struct stls__certdst *d, long flags)
{
	return d->ssl ? SSL_build_cert_chain(d->ssl, flags)
		      : SSL_CTX_build_cert_chain(d->ctx, flags);
}

/* Warns about a leaf that is expired, not yet valid or about to expire. */
static void check_validity(const struct stls__build *b, enum stls_pf f,
			   const char *key, const char *path, X509 *x)
{
	const ASN1_TIME *na = X509_get0_notAfter(x);
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	int days = 0, secs = 0;
	char when[48];

	if (X509_cmp_current_time(nb) > 0) {
		stls__build_warn(b, f, "%s: '%s' is not valid before %s", key,
				 path, stls__asn1_time_str(nb, when,
							   sizeof(when)));
	}
	if (!ASN1_TIME_diff(&days, &secs, NULL, na)) {
		return;
	}
	stls__asn1_time_str(na, when, sizeof(when));
	if (days < 0 || secs < 0) {
		stls__build_warn(b, f, "%s: '%s' expired on %s", key, path,
				 when);
	} else if (days < 30) {
		stls__build_warn(b, f, "%s: '%s' expires on %s (in %d days)",
				 key, path, when, days);
	}
}

/*
 * The next certificate of <bio> (with its trust settings when aux), made
 * in <libctx> (NULL: the default): a certificate made there first is
 * what the decoding fills, so that its public key is decoded in that
 * context. NULL at the end of the data or on an error (in the queue).
 */
static X509 *pem_cert(BIO *bio, OSSL_LIB_CTX *libctx, bool aux)
{
	X509 *x = NULL;

	if (libctx && !(x = X509_new_ex(libctx, NULL))) {
		return NULL;
	}
	/* A failed decoding frees *x and sets it to NULL; a failed read
	 * of the PEM block leaves it: freed here. */
	if (!(aux ? PEM_read_bio_X509_AUX(bio, &x, NULL, NULL)
		  : PEM_read_bio_X509(bio, &x, NULL, NULL))) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/*
 * The certificates of a PEM file's bytes as SSL_CTX_use_certificate_chain
 * _file() reads them: the first with its trust settings (X509_AUX), then
 * every further certificate, to the end of the data; parsed in <libctx>
 * (NULL: the default). NULL when the data is not that (the file way then
 * says why).
 */
static STACK_OF(X509) *pem_certs(const unsigned char *data, size_t len,
				 OSSL_LIB_CTX *libctx)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	unsigned long e;
	X509 *x;

	x = bio && sk ? pem_cert(bio, libctx, true) : NULL;
	while (x && sk_X509_push(sk, x) > 0) {
		x = pem_cert(bio, libctx, false);
	}
	e = ERR_peek_last_error();
	if (x || sk_X509_num(sk) < 1 || ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		X509_free(x);
		sk_X509_pop_free(sk, X509_free);
		sk = NULL;
	}
	ERR_clear_error();
	BIO_free(bio);
	return sk;
}

/* Installs sk[0] with the rest as its chain, as the file call does. */
static bool install_chain(const struct stls__certdst *d, STACK_OF(X509) *sk)
{
	int i, ok;

	ok = (d->ssl ? SSL_use_certificate(d->ssl, sk_X509_value(sk, 0))
		     : SSL_CTX_use_certificate(d->ctx, sk_X509_value(sk, 0))) ==
		     1 &&
	     ERR_peek_error() == 0 &&
	     (d->ssl ? SSL_clear_chain_certs(d->ssl)
		     : SSL_CTX_clear_chain_certs(d->ctx)) == 1;
	for (i = 1; ok && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		ok = (d->ssl ? SSL_add1_chain_cert(d->ssl, x)
			     : SSL_CTX_add1_chain_cert(d->ctx, x)) == 1;
	}
	return ok;
}

STACK_OF(X509) *stls__certs_parse(uint64_t cache_id, OSSL_LIB_CTX *libctx,
				  const struct stls__pc_file *f)
{
	STACK_OF(X509) *sk = stls__pcache_get_certs(cache_id, f->md);

	if (!sk && (sk = pem_certs(f->data, f->len, libctx)) != NULL) {
		stls__pcache_put_certs(cache_id, f->md, sk);
	}
	ERR_clear_error();
	return sk;
}

STACK_OF(X509) *stls__certs_read(uint64_t cache_id, const char *v, bool pem)
{
	struct stls__pc_file f;
	STACK_OF(X509) *sk;

	if (!cache_id || stls__profile_src_read(v, pem, &f) != 0) {
		return NULL;
	}
	sk = stls__certs_parse(cache_id, NULL, &f);
	stls__pcache_file_fini(&f);
	return sk;
}

/*
 * The certificates of <path> (a file, or PEM text when pem) through the
 * file cache (profile_cache.c): a file the threads of this build parsed
 * ahead (profile_ahead.c) by the digest of the bytes they read, else
 * its bytes read and digested, then parsed unless already known; then
 * installed. False when anything fails (the caller then loads it the
 * usual way, which reports the problem).
 */
static bool use_cached_chain(const struct stls__build *b,
			     const struct stls__certdst *d, const char *path,
			     bool pem)
{
	const unsigned char *md = pem ? NULL : stls__seen_md(b->seen, path);
	STACK_OF(X509) *sk = NULL;
	bool ok;

	if (md && b->cache_id) {
		sk = stls__pcache_get_certs(b->cache_id, md);
	}
	if (!sk) {
		sk = stls__certs_read(b->cache_id, path, pem);
	}
	ok = sk && install_chain(d, sk);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error(); /* on failure the file way says it again */
	return ok;
}

/* The chain of PEM text the uncached way: 1, or 0 with the reason. */
static int use_chain_text(const struct stls__certdst *d, const char *text)
{
	BIO *bio = BIO_new_mem_buf(text, -1);
	int ok = bio && stls__certdst_use_chain_bio(d, bio) == 1;

	BIO_free(bio);
	return ok;
}

/*
 * Loads one chain (a file, or PEM text held in a row); *leaf gets a
 * reference on its first certificate.
 */
static int load_chain(const struct stls__build *b,
		      const struct stls__certdst *d, enum stls_pf f,
		      const char *key, const char *path, X509 **leaf)
{
	bool pem = stls_profile_conf_is_pem(b->c, f);
	const char *name = stls__profile_src_name(path, pem);
	char why[STLS_OSSL_ERR_MAX];
	unsigned long e;
	int ok;

	if (!pem && access(path, R_OK) != 0) {
		stls__build_err(b, f, "%s: cannot load '%s': %s", key, path,
				strerror(errno));
		return -ENOENT;
	}
	stls__ossl_err_clear();
	ok = use_cached_chain(b, d, path, pem) ||
	     (pem ? use_chain_text(d, path) : use_chain_file(d, path) == 1);
	if (!ok) {
		e = ERR_peek_error();
		if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
			ERR_clear_error();
			stls__build_err(b, f, "%s: no certificate in '%s'",
					key, name);
		} else {
			stls__build_err(b, f, "%s: cannot load '%s': %s", key,
					name,
					stls__ossl_err_drain(why, sizeof(why)));
		}
		return -EINVAL;
	}
	*leaf = get0_cert(d);
	if (!*leaf || !X509_up_ref(*leaf)) {
		*leaf = NULL;
		return -ENOMEM;
	}
	check_validity(b, f, key, name, *leaf);
	return 0;
}

/* How value v of field f of c is named in messages. */
static const char *src_name(const struct stls_profile_conf *c,
			    enum stls_pf f, const char *v)
{
	return stls__profile_src_name(v, stls_profile_conf_is_pem(c, f));
}

static bool same_key_type(X509 *a, X509 *b)
{
	EVP_PKEY *ka = X509_get0_pubkey(a), *kb = X509_get0_pubkey(b);

	return ka && kb && EVP_PKEY_get_base_id(ka) == EVP_PKEY_get_base_id(kb);
}

static int apply_certs(const struct stls__build *b,
		       const struct stls__certdst *d)
{
	const struct stls_profile_conf *c = b->c;
	X509 *leaf = NULL, *leaf2 = NULL;
	int err = 0;

	if (!has_str(c->certificate)) {
		if (c->role == STLS_ROLE_SERVER && !c->implicit) {
			stls__build_err(b, STLS_PF_CERTIFICATE,
					"certificate: a server profile needs "
					"a certificate");
		} else if (c->role == STLS_ROLE_SERVER) {
			stls__build_warn(b, STLS_PF_CERTIFICATE,
					 "certificate: none set: connections "
					 "that match no other profile fail");
		}
		return 0;
	}
	err = load_chain(b, d, STLS_PF_CERTIFICATE, "certificate",
			 c->certificate, &leaf);
	if (err == -ENOMEM) {
		goto out;
	}
	if (leaf) {
		stls__profile_key_load(b, d, STLS_PF_PRIVATE_KEY,
				       c->private_key, c->private_key_password,
				       STLS_PF_CERTIFICATE, c->certificate,
				       leaf);
	}
	err = 0;
	if (!has_str(c->certificate2)) {
		goto out;
	}
	/* The second chain is for another key type (e.g. RSA + ECDSA). */
	err = load_chain(b, d, STLS_PF_CERTIFICATE2, "certificate2",
			 c->certificate2, &leaf2);
	if (err == -ENOMEM) {
		goto out;
	}
	err = 0;
	if (leaf2 && leaf && same_key_type(leaf, leaf2)) {
		stls__build_err(b, STLS_PF_CERTIFICATE2,
				"certificate2: '%s' has the same key type as "
				"certificate '%s' (one chain per key type)",
				src_name(c, STLS_PF_CERTIFICATE2,
					 c->certificate2),
				src_name(c, STLS_PF_CERTIFICATE,
					 c->certificate));
	} else if (leaf2) {
		stls__profile_key_load(b, d, STLS_PF_PRIVATE_KEY2,
				       c->private_key2,
				       c->private_key_password2,
				       STLS_PF_CERTIFICATE2, c->certificate2,
				       leaf2);
	}
out:
	X509_free(leaf);
	X509_free(leaf2);
	return err;
}

/*
 * Each certificate's chain, built once here rather than at every
 * handshake. When a certificate file holds only the leaf, OpenSSL searches
 * the context's store for the rest of the chain each time it sends the
 * certificate (an X509_verify_cert() whose result it ignores). With the
 * issuer in ca_list that search verifies a signature and costs about a
 * third of a whole ECDSA handshake; with a ca_path it also opens files.
 * SSL_CTX_build_cert_chain() with errors ignored, no flags otherwise, runs
 * the same search over the same store and keeps what it found (root
 * included, as OpenSSL sends it), which turns the per-handshake search
 * off: the peer receives the same certificates. A file that carries its
 * chain is left alone (OpenSSL never searches then). A build that fails
 * (a CA below the security level) changes nothing, so the handshake fails
 * as before. The current certificate is restored afterwards.
 */
static void build_chains(const struct stls__certdst *d)
{
	const long flags = SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
			   SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR;
	X509 *cur = get0_cert(d);
	STACK_OF(X509) *sk;
	long r;

	if (!cur) {
		return;
	}
	r = set_current(d, SSL_CERT_SET_FIRST);
	while (r == 1) {
		sk = NULL;
		if (get0_chain(d, &sk) == 1 && !sk) {
			(void)build_chain(d, flags);
		}
		r = set_current(d, SSL_CERT_SET_NEXT);
	}
	(void)select_current(d, cur);
	ERR_clear_error();
}


int stls__profile_certs_apply(const struct stls__build *b,
			      const struct stls__certdst *d)
{
	size_t errors0 = b->diag->errors;
	int err = apply_certs(b, d);

	if (!err && b->diag->errors == errors0) {
		build_chains(d);
	}
	return err;
}

void stls__certs_free(struct stls__certs *c)
{
	size_t i;

	if (!c) {
		return;
	}
	for (i = 0; i < c->n; i++) {
		X509_free(c->v[i].x509);
		EVP_PKEY_free(c->v[i].key);
		sk_X509_pop_free(c->v[i].chain, X509_free);
	}
	free(c);
}

/* Takes a reference on the current certificate of <d>, its key, chain. */
static int take_current(const struct stls__certdst *d, struct stls__certs *c)
{
	struct stls__cert *e = &c->v[c->n];
	STACK_OF(X509) *sk = NULL;
	X509 *x = get0_cert(d);
	EVP_PKEY *key = get0_key(d);

	if (!x || !key || get0_chain(d, &sk) != 1) {
		return -EINVAL;
	}
	if (sk && !(e->chain = X509_chain_up_ref(sk))) {
		return -ENOMEM;
	}
	/* Plain reference counts: these cannot fail. */
	(void)X509_up_ref(x);
	(void)EVP_PKEY_up_ref(key);
	e->x509 = x;
	e->key = key;
	c->n++;
	return 0;
}

int stls__certs_get(const struct stls__certdst *d, struct stls__certs **out)
{
	struct stls__certs *c = calloc(1, sizeof(*c));
	X509 *cur = get0_cert(d);
	long r;
	int err = 0;

	if (!c) {
		return -ENOMEM;
	}
	/* The others first and the current one last, so that installing
	 * them in order leaves the same one current. */
	r = cur ? set_current(d, SSL_CERT_SET_FIRST) : 0;
	while (r == 1 && !err && c->n < STLS_ARRAY_SIZE(c->v)) {
		if (get0_cert(d) != cur) {
			err = take_current(d, c);
		}
		r = set_current(d, SSL_CERT_SET_NEXT);
	}
	if (cur && !err && select_current(d, cur) == 1 &&
	    c->n < STLS_ARRAY_SIZE(c->v)) {
		err = take_current(d, c);
	}
	ERR_clear_error();
	if (err) {
		stls__certs_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int stls__certs_install(SSL *ssl, const struct stls__certs *c)
{
	size_t i;

	SSL_certs_clear(ssl);
	for (i = 0; i < c->n; i++) {
		if (SSL_use_cert_and_key(ssl, c->v[i].x509, c->v[i].key,
					 c->v[i].chain, 1) != 1) {
			return -EPROTO;
		}
	}
	return 0;
}
