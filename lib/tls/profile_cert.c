/*
 * The certificates and private keys of one profile: read, checked and
 * installed, and their chains built once.
 *
 * A profile's certificates go into its own SSL_CTX, or, when the profile
 * shares the SSL_CTX of an earlier profile with the same settings
 * (profile_share.c), into a scratch SSL made from that context: the same
 * OpenSSL calls in their SSL_CTX or SSL form (struct stls__certdst), so
 * both read, check and report alike. Keys are read with our own password
 * callback so that an encrypted key without a password gets its own
 * message, and each key is compared with its certificate before it is
 * installed; unencrypted PKCS#8 keys go through the fast reader of the
 * set build (profile_key.c) first. Passwords never reach a log. Keys that
 * stay in an HSM (/engine:, pkcs11:, /uri: ids) come from lib/hsm and are
 * checked there with real test signatures.
 *
 * What ends up installed is then taken out as a bundle (struct
 * stls__certs) that an SSL of a sharing profile receives at each
 * connection: SSL_certs_clear() and SSL_use_cert_and_key() for each
 * chain, the current one last.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "stls/hsm.h"
#include "stls/p11uri.h"
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

static int use_key(const struct stls__certdst *d, EVP_PKEY *pkey)
{
	return d->ssl ? SSL_use_PrivateKey(d->ssl, pkey)
		      : SSL_CTX_use_PrivateKey(d->ctx, pkey);
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
 * The certificates of a PEM file's bytes as SSL_CTX_use_certificate_chain
 * _file() reads them: the first with its trust settings (X509_AUX), then
 * every further certificate, to the end of the data. NULL when the data
 * is not that (the file way then says why).
 */
static STACK_OF(X509) *pem_certs(const unsigned char *data, size_t len)
{
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	unsigned long e;
	X509 *x;

	x = bio && sk ? PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) : NULL;
	while (x && sk_X509_push(sk, x) > 0) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
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

/*
 * The certificates of <path> through the file cache (profile_cache.c):
 * its bytes read and digested, then parsed unless already known, and
 * installed. False when anything fails (the caller then loads the file
 * the usual way, which reports the problem).
 */
static bool use_cached_chain(const struct stls__build *b,
			     const struct stls__certdst *d, const char *path)
{
	struct stls__pc_file f;
	STACK_OF(X509) *sk;
	bool ok;

	if (!b->cache_id || stls__pcache_read(path, &f) != 0) {
		return false;
	}
	sk = stls__pcache_get_certs(b->cache_id, f.md);
	if (!sk && (sk = pem_certs(f.data, f.len)) != NULL) {
		stls__pcache_put_certs(b->cache_id, f.md, sk);
	}
	ok = sk && install_chain(d, sk);
	sk_X509_pop_free(sk, X509_free);
	stls__pcache_file_fini(&f);
	ERR_clear_error(); /* on failure the file way says it again */
	return ok;
}

/* Loads one chain file; *leaf gets a reference on its first certificate. */
static int load_chain(const struct stls__build *b,
		      const struct stls__certdst *d, enum stls_pf f,
		      const char *key, const char *path, X509 **leaf)
{
	char why[STLS_OSSL_ERR_MAX];
	unsigned long e;

	if (access(path, R_OK) != 0) {
		stls__build_err(b, f, "%s: cannot load '%s': %s", key, path,
				strerror(errno));
		return -ENOENT;
	}
	stls__ossl_err_clear();
	if (!use_cached_chain(b, d, path) && use_chain_file(d, path) != 1) {
		e = ERR_peek_error();
		if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
		    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
			ERR_clear_error();
			stls__build_err(b, f, "%s: no certificate in '%s'",
					key, path);
		} else {
			stls__build_err(b, f, "%s: cannot load '%s': %s", key,
					path,
					stls__ossl_err_drain(why, sizeof(why)));
		}
		return -EINVAL;
	}
	*leaf = get0_cert(d);
	if (!*leaf || !X509_up_ref(*leaf)) {
		*leaf = NULL;
		return -ENOMEM;
	}
	check_validity(b, f, key, path, *leaf);
	return 0;
}

struct pw_ask {
	const char *pw; /* borrowed from the caller's conf */
	bool asked;
};

static int pw_cb(char *buf, int size, int rwflag, void *u)
{
	struct pw_ask *a = u;
	size_t n;

	(void)rwflag;
	a->asked = true;
	if (!a->pw) {
		return -1;
	}
	n = strlen(a->pw);
	if (size < 0 || n > (size_t)size) {
		return -1;
	}
	memcpy(buf, a->pw, n);
	return (int)n;
}

static EVP_PKEY *read_key(const struct stls__build *b, enum stls_pf f,
			  const char *key, const char *path, const char *pw)
{
	struct pw_ask ask = { has_str(pw) ? pw : NULL, false };
	char why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey = NULL;
	struct stat st;
	BIO *bio;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
		stls__build_warn(b, f, "%s: '%s' is readable by group or "
				 "others (mode %04o)", key, path,
				 (unsigned int)(st.st_mode & 07777));
	}
	if (access(path, R_OK) != 0) {
		stls__build_err(b, f, "%s: cannot load '%s': %s", key, path,
				strerror(errno));
		return NULL;
	}
	pkey = stls__keyrd_read(b->keys, path);
	if (pkey) {
		return pkey;
	}
	stls__ossl_err_clear();
	bio = BIO_new_file(path, "r");
	if (bio) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &ask);
		BIO_free(bio);
	}
	if (pkey) {
		return pkey;
	}
	stls__ossl_err_drain(why, sizeof(why));
	if (ask.asked && !ask.pw) {
		stls__build_err(b, f, "%s: '%s' is encrypted and no %s is set",
				key, path,
				f == STLS_PF_PRIVATE_KEY2 ? "private_key_password2"
							  : "private_key_password");
	} else if (ask.asked) {
		stls__build_err(b, f, "%s: cannot decrypt '%s' (wrong "
				"password?): %s", key, path, why);
	} else {
		stls__build_err(b, f, "%s: no private key in '%s': %s", key,
				path, why);
	}
	return NULL;
}

/* A PIN written into a key id must not sit in a file others can read. */
static void warn_pin_in_id(const struct stls__build *b, enum stls_pf f,
			   const char *key, const char *id)
{
	const struct stls_loc *loc = &b->c->field_loc[f];
	struct stat st;
	char tmp[2];

	if (stls_p11uri_get(id, "pin-value", tmp, sizeof(tmp)) == -ENOENT ||
	    !loc->file || stat(loc->file, &st) != 0 ||
	    !(st.st_mode & (S_IRGRP | S_IROTH))) {
		return;
	}
	stls__build_warn(b, f, "%s: the key id holds a PIN (pin-value) and "
			 "'%s' is readable by group or others (mode %04o)",
			 key, loc->file, (unsigned int)(st.st_mode & 07777));
}

/*
 * A key that stays in an HSM (docs/hsm.md): loaded through lib/hsm, with
 * the profile's key password as the token PIN when neither engine_config
 * nor the URI gives one, then checked against <leaf> with real test
 * signatures for the profile's protocol versions.
 */
static void load_hsm_key(const struct stls__build *b,
			 const struct stls__certdst *d, enum stls_pf f,
			 const char *key, const char *id, const char *pw,
			 const char *cpath, X509 *leaf)
{
	struct stls_hsm_err herr;
	struct stls_hsm_conf hc;
	char shown[512], why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey = NULL;
	int rc, minv, maxv;

	stls_p11uri_redact(id, shown, sizeof(shown));
	warn_pin_in_id(b, f, key, id);
	/* siptlsd started the engine before building; a no-op then. */
	stls_hsm_conf_from_settings(b->s, &hc);
	rc = stls_hsm_init(&hc, b->diag);
	if (rc == -ENOMEM) {
		stls__build_err(b, f, "%s: out of memory", key);
		return;
	}
	rc = stls_hsm_key_load(id, has_str(pw) ? pw : NULL, &pkey, &herr);
	if (rc) {
		stls__build_err(b, f, "%s: '%s': %s", key, shown, herr.msg);
		return;
	}
	minv = (int)(d->ssl ? SSL_get_min_proto_version(d->ssl)
			    : SSL_CTX_get_min_proto_version(d->ctx));
	maxv = (int)(d->ssl ? SSL_get_max_proto_version(d->ssl)
			    : SSL_CTX_get_max_proto_version(d->ctx));
	rc = stls_hsm_key_check(leaf, pkey, minv, maxv, &herr);
	stls__ossl_err_clear();
	if (rc) {
		stls__build_err(b, f, "%s: '%s' with certificate '%s': %s",
				key, shown, cpath, herr.msg);
	} else if (use_key(d, pkey) != 1) {
		stls__build_err(b, f, "%s: cannot use '%s': %s", key, shown,
				stls__ossl_err_drain(why, sizeof(why)));
	}
	EVP_PKEY_free(pkey);
}

/* Loads key <kpath> (or the key inside <cpath>) and pairs it with <leaf>. */
static void load_key(const struct stls__build *b,
		     const struct stls__certdst *d, enum stls_pf f,
		     const char *kpath, const char *pw, const char *cpath,
		     X509 *leaf)
{
	const char *key = f == STLS_PF_PRIVATE_KEY2 ? "private_key2"
						    : "private_key";
	char why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey;

	if (!has_str(kpath)) {
		kpath = cpath; /* seed: the key may follow the certificate */
	}
	if (stls_hsm_is_key_id(kpath)) {
		load_hsm_key(b, d, f, key, kpath, pw, cpath, leaf);
		return;
	}
	pkey = read_key(b, f, key, kpath, pw);
	if (!pkey) {
		return;
	}
	stls__ossl_err_clear();
	if (X509_check_private_key(leaf, pkey) != 1) {
		ERR_clear_error();
		stls__build_err(b, f, "%s: does not match certificate '%s'",
				key, cpath);
	} else if (use_key(d, pkey) != 1) {
		stls__build_err(b, f, "%s: cannot use '%s': %s", key, kpath,
				stls__ossl_err_drain(why, sizeof(why)));
	}
	EVP_PKEY_free(pkey);
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
		load_key(b, d, STLS_PF_PRIVATE_KEY, c->private_key,
			 c->private_key_password, c->certificate, leaf);
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
				c->certificate2, c->certificate);
	} else if (leaf2) {
		load_key(b, d, STLS_PF_PRIVATE_KEY2, c->private_key2,
			 c->private_key_password2, c->certificate2, leaf2);
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
