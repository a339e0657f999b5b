/*
 * The private keys of one profile: read, checked against their
 * certificate and installed (the certificates are profile_cert.c's).
 *
 * A key is a file, PEM text held in a database row (file_type = 1,
 * profile_pem.c), or an id of a key that stays in an HSM (/engine:,
 * pkcs11:, /uri:). Files try the fast reader of the set build first
 * (plain PKCS#8, profile_key.c). Everything else is read with our own
 * password callback, so that an encrypted key without a password gets its
 * own message; PEM text must be encrypted (whoever reads the table reads
 * the row), and a plain one is refused. HSM keys come from lib/hsm and are
 * checked there with real test signatures. Passwords never reach a log.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "stls/hsm.h"
#include "stls/p11uri.h"
#include "tls/ossl_err.h"
#include "tls/profile_int.h"

static int use_key(const struct stls__certdst *d, EVP_PKEY *pkey)
{
	return d->ssl ? SSL_use_PrivateKey(d->ssl, pkey)
		      : SSL_CTX_use_PrivateKey(d->ctx, pkey);
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

static const char *pw_name(enum stls_pf f)
{
	return f == STLS_PF_PRIVATE_KEY2 ? "private_key_password2"
					 : "private_key_password";
}

/* Warns about a key file that others may read. */
static void check_key_mode(const struct stls__build *b, enum stls_pf f,
			   const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH))) {
		stls__build_warn(b, f, "%s: '%s' is readable by group or "
				 "others (mode %04o)", key, path,
				 (unsigned int)(st.st_mode & 07777));
	}
}

/*
 * A key held as PEM text (a database row) must be encrypted: the row is
 * readable by whoever reads the table. A key read without asking for a
 * password was not encrypted.
 */
static EVP_PKEY *refuse_plain(const struct stls__build *b, enum stls_pf f,
			      const char *key, EVP_PKEY *pkey, bool asked)
{
	if (asked) {
		return pkey;
	}
	EVP_PKEY_free(pkey);
	stls__build_err(b, f, "%s: the PEM key is not encrypted: a key held "
			"in the database must be encrypted (with %s from the "
			"main config or a file)", key, pw_name(f));
	return NULL;
}

/*
 * The key of file <path> when the threads of this build parsed it ahead
 * (profile_ahead.c): from the file cache, by the digest of the bytes
 * they read. Only the fast reader's keys are there (profile_key.c).
 */
static EVP_PKEY *seen_key(const struct stls__build *b, const char *path)
{
	const unsigned char *md = stls__seen_md(b->seen, path);

	return md && b->cache_id && b->keys
		       ? stls__pcache_get_key(b->cache_id, md)
		       : NULL;
}

/*
 * The file-cache key of an encrypted key (profile_cache.c): the digest of
 * its bytes and the password together, so that another password, right or
 * wrong, never finds a key that the first one decrypted. Decrypting is
 * the cost of a reload of keys held in rows (PBKDF2: 0.9 ms a key here,
 * 9 s for 10,000 tenants); a digest is 2 us. Returns 0 or -errno.
 */
static int enc_key_md(const char *path, bool pem, const char *pw,
		      unsigned char md[STLS__PC_MD_LEN])
{
	static const char tag[] = "siptls encrypted key";
	struct stls__pc_file f;
	EVP_MD_CTX *c;
	int ok;

	if (stls__profile_src_read(path, pem, &f) != 0) {
		return -EIO;
	}
	c = EVP_MD_CTX_new();
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(c, tag, sizeof(tag)) &&
	     EVP_DigestUpdate(c, f.md, sizeof(f.md)) &&
	     EVP_DigestUpdate(c, pw, strlen(pw)) &&
	     EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	stls__pcache_file_fini(&f);
	if (!ok) {
		ERR_clear_error();
		return -ENOMEM;
	}
	return 0;
}

/*
 * A key the build has without decoding it the general way: read ahead
 * (seen_key), plain PKCS#8 through the fast reader, or an encrypted key
 * in the file cache. NULL otherwise; then *md_ok says whether md holds
 * the key's cache key (enc_key_md), for storing it once it is read.
 */
static EVP_PKEY *known_key(const struct stls__build *b, const char *path,
			   bool pem, const char *pw,
			   unsigned char md[STLS__PC_MD_LEN], bool *md_ok)
{
	EVP_PKEY *pkey = pem ? NULL : seen_key(b, path);

	if (!pkey && !pem) {
		pkey = stls__keyrd_read(b->keys, path);
	}
	*md_ok = !pkey && pw && b->cache_id &&
		 enc_key_md(path, pem, pw, md) == 0;
	if (*md_ok) {
		pkey = stls__pcache_get_key(b->cache_id, md);
	}
	return pkey;
}

/*
 * Reads key <path> (a file, or PEM text when pem). Files try the fast
 * reader first (plain PKCS#8, profile_key.c); PEM text never does, since
 * it must be encrypted. An encrypted key read with a password goes into
 * the file cache under enc_key_md(), and the next build takes it there.
 */
static EVP_PKEY *read_key(const struct stls__build *b, enum stls_pf f,
			  const char *key, const char *path, bool pem,
			  const char *pw)
{
	struct pw_ask ask = { has_str(pw) ? pw : NULL, false };
	const char *name = stls__profile_src_name(path, pem);
	unsigned char md[STLS__PC_MD_LEN];
	char why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey;
	bool cached;
	BIO *bio;

	if (!pem) {
		check_key_mode(b, f, key, path);
	}
	pkey = known_key(b, path, pem, ask.pw, md, &cached);
	if (pkey) {
		return pkey;
	}
	/* Missing and unreadable files are reported here. */
	bio = stls__profile_open(b, f, key, path, pem);
	if (!bio) {
		return NULL;
	}
	stls__ossl_err_clear();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &ask);
	BIO_free(bio);
	if (pkey) {
		ERR_clear_error();
		if (cached && ask.asked) {
			stls__pcache_put_key(b->cache_id, md, pkey);
		}
		return pem ? refuse_plain(b, f, key, pkey, ask.asked) : pkey;
	}
	stls__ossl_err_drain(why, sizeof(why));
	if (ask.asked && !ask.pw) {
		stls__build_err(b, f, "%s: '%s' is encrypted and no %s is set",
				key, name, pw_name(f));
	} else if (ask.asked) {
		stls__build_err(b, f, "%s: cannot decrypt '%s' (wrong "
				"password?): %s", key, name, why);
	} else {
		stls__build_err(b, f, "%s: no private key in '%s': %s", key,
				name, why);
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
	    !loc->file || loc->line <= 0 || stat(loc->file, &st) != 0 ||
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

void stls__profile_key_load(const struct stls__build *b,
			    const struct stls__certdst *d, enum stls_pf f,
			    const char *kpath, const char *pw, enum stls_pf cf,
			    const char *cpath, X509 *leaf)
{
	const char *key = f == STLS_PF_PRIVATE_KEY2 ? "private_key2"
						    : "private_key";
	bool pem = stls_profile_conf_is_pem(b->c, f);
	const char *cname = stls__profile_src_name(
		cpath, stls_profile_conf_is_pem(b->c, cf));
	char why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey;

	if (!has_str(kpath)) {
		/* seed: the key may follow the certificate, and is read the
		 * way the certificate is (a file or PEM text). */
		kpath = cpath;
		pem = stls_profile_conf_is_pem(b->c, cf);
	}
	if (!pem && stls_hsm_is_key_id(kpath)) {
		load_hsm_key(b, d, f, key, kpath, pw, cname, leaf);
		return;
	}
	pkey = read_key(b, f, key, kpath, pem, pw);
	if (!pkey) {
		return;
	}
	stls__ossl_err_clear();
	if (X509_check_private_key(leaf, pkey) != 1) {
		ERR_clear_error();
		stls__build_err(b, f, "%s: does not match certificate '%s'",
				key, cname);
	} else if (use_key(d, pkey) != 1) {
		stls__build_err(b, f, "%s: cannot use '%s': %s", key,
				stls__profile_src_name(kpath, pem),
				stls__ossl_err_drain(why, sizeof(why)));
	}
	EVP_PKEY_free(pkey);
}
