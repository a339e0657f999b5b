/*
 * One profile becomes one SSL_CTX.
 *
 * The steps follow the seed's parameters (sections 10.1-10.9, 10.28-10.30):
 * protocol versions from tls_method, the TLS <= 1.2 cipher list and the
 * TLS 1.3 suites, fixed options and modes, the global buffer parameters,
 * verification (profile_verify.c), the certificate chains and keys (last,
 * as the key may need its password), the SNI callback on server contexts,
 * and the session cache. Each step reports its own problems and the build
 * goes on, so that one run lists everything wrong with a profile.
 *
 * Keys are read with our own password callback so that an encrypted key
 * without a password gets its own message, and each key is compared with
 * its certificate before it is installed. Passwords never reach a log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls/ossl_err.h"
#include "stls/conn.h"
#include "tls/profile_int.h"

/*
 * BCP 195 (RFC 9325 section 4.2): forward secrecy (ECDHE) and AEAD only; no
 * CBC, no static RSA key exchange, no NULL, EXPORT or RC4. Every entry is a
 * TLS 1.2 suite; TLS 1.3 suites are set apart (cipher_suites).
 */
const char stls_profile_default_cipher_list[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/*
 * TLS 1.3: the three suites OpenSSL enables by default, with the server
 * preferring AES-128-GCM-SHA256, as RFC 9325 allows: its 128-bit
 * strength matches the X25519/P-256 key exchange, and its SHA-256
 * transcript and key schedule use the CPU's SHA extensions where
 * OpenSSL's default first choice (AES-256-GCM-SHA384) cannot: 11% less
 * server CPU per handshake here (docs/performance.md).
 */
const char stls_profile_default_cipher_suites[] =
	"TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
	"TLS_AES_256_GCM_SHA384";

/* How each tls_method value maps onto OpenSSL's version bounds. */
struct method_map {
	const char *name;
	int min, max;     /* 0 = no bound */
	bool legacy;      /* allows versions below TLS 1.2 */
	bool unavailable; /* OpenSSL 3 cannot do it at all */
};

static const struct method_map methods[STLS_METHOD__COUNT] = {
	[STLS_METHOD_SSLV2] = { "SSLv2", 0, 0, true, true },
#ifdef OPENSSL_NO_SSL3
	[STLS_METHOD_SSLV3] = { "SSLv3", 0, 0, true, true },
#else
	[STLS_METHOD_SSLV3] = { "SSLv3", SSL3_VERSION, SSL3_VERSION, true },
#endif
	[STLS_METHOD_SSLV23] = { "SSLv23", 0, 0, true },
	[STLS_METHOD_TLSV1] = { "TLSv1", TLS1_VERSION, TLS1_VERSION, true },
	[STLS_METHOD_TLSV1_PLUS] = { "TLSv1+", TLS1_VERSION, 0, true },
	[STLS_METHOD_TLSV1_1] = { "TLSv1.1", TLS1_1_VERSION, TLS1_1_VERSION,
				  true },
	[STLS_METHOD_TLSV1_1_PLUS] = { "TLSv1.1+", TLS1_1_VERSION, 0, true },
	[STLS_METHOD_TLSV1_2] = { "TLSv1.2", TLS1_2_VERSION, TLS1_2_VERSION },
	[STLS_METHOD_TLSV1_2_PLUS] = { "TLSv1.2+", TLS1_2_VERSION, 0 },
	[STLS_METHOD_TLSV1_3] = { "TLSv1.3", TLS1_3_VERSION, TLS1_3_VERSION },
	[STLS_METHOD_TLSV1_3_PLUS] = { "TLSv1.3+", TLS1_3_VERSION, 0 },
};

static void report(const struct stls__build *b, enum stls_diag_level level,
		   enum stls_pf field, const char *fmt, va_list ap)
{
	const struct stls_loc *loc = &b->c->loc;
	char msg[1024];

	if (field < STLS_PF__COUNT &&
	    stls_loc_is_set(&b->c->field_loc[field])) {
		loc = &b->c->field_loc[field];
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (loc->file) {
		stls_diag_add(b->diag, level, loc->file, loc->line, "%s", msg);
	} else {
		stls_diag_add(b->diag, level, NULL, 0, "%s: %s", b->name, msg);
	}
}

void stls__build_err(const struct stls__build *b, enum stls_pf field,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(b, STLS_DIAG_ERROR, field, fmt, ap);
	va_end(ap);
}

void stls__build_warn(const struct stls__build *b, enum stls_pf field,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(b, STLS_DIAG_WARNING, field, fmt, ap);
	va_end(ap);
}

const char *stls__asn1_time_str(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
		snprintf(buf, len, "(invalid time)");
	}
	return buf;
}

static void apply_method(const struct stls__build *b, SSL_CTX *ctx)
{
	int m = b->c->method;
	const struct method_map *mm;
	char why[STLS_OSSL_ERR_MAX];

	if (m == STLS_METHOD_UNSET) {
		m = STLS_METHOD_TLSV1_2_PLUS;
	}
	if (m < 0 || m >= STLS_METHOD__COUNT) {
		stls__build_err(b, STLS_PF_METHOD, "tls_method: invalid value %d",
				m);
		return;
	}
	mm = &methods[m];
	if (mm->unavailable) {
		stls__build_err(b, STLS_PF_METHOD,
				"tls_method: %s is not available in OpenSSL 3",
				mm->name);
		return;
	}
	stls__ossl_err_clear();
	if (!SSL_CTX_set_min_proto_version(ctx, mm->min) ||
	    !SSL_CTX_set_max_proto_version(ctx, mm->max)) {
		stls__build_err(b, STLS_PF_METHOD,
				"tls_method: OpenSSL refuses %s: %s", mm->name,
				stls__ossl_err_drain(why, sizeof(why)));
		return;
	}
	if (mm->legacy) {
		stls__build_warn(b, STLS_PF_METHOD,
				 "tls_method: %s allows protocols below "
				 "TLS 1.2 (deprecated, RFC 8996); OpenSSL 3 "
				 "refuses them at its default security level "
				 "and the default cipher list has no cipher "
				 "for them: to allow them, set cipher_list "
				 "to e.g. 'DEFAULT:@SECLEVEL=0'",
				 mm->name);
	}
}

static void apply_ciphers(const struct stls__build *b, SSL_CTX *ctx)
{
	const char *list = b->c->cipher_list;
	char why[STLS_OSSL_ERR_MAX];

	if (!has_str(list)) {
		list = stls_profile_default_cipher_list;
	}
	stls__ossl_err_clear();
	if (!SSL_CTX_set_cipher_list(ctx, list)) {
		stls__build_err(b, STLS_PF_CIPHER_LIST,
				"cipher_list: OpenSSL accepts no cipher in "
				"'%s': %s",
				list, stls__ossl_err_drain(why, sizeof(why)));
	}
	list = has_str(b->c->cipher_suites) ? b->c->cipher_suites
					    : stls_profile_default_cipher_suites;
	if (!SSL_CTX_set_ciphersuites(ctx, list)) {
		stls__build_err(b, STLS_PF_CIPHER_SUITES,
				"cipher_suites: OpenSSL refuses '%s': %s",
				list, stls__ossl_err_drain(why, sizeof(why)));
	}
}

/* Options, modes and the global buffer parameters (seed 10.14-10.18). */
static void apply_options(const struct stls__build *b, SSL_CTX *ctx)
{
	const struct stls_settings *s = b->s;
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;

	if (s->renegotiation == 1) {
		/* OpenSSL 3 refuses client renegotiation unless asked. */
		opts |= SSL_OP_ALLOW_CLIENT_RENEGOTIATION;
	} else {
		opts |= SSL_OP_NO_RENEGOTIATION;
	}
	SSL_CTX_set_options(ctx, opts);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (s->ssl_release_buffers == 1) {
		SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	} else if (s->ssl_release_buffers == 0) {
		SSL_CTX_clear_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	}
	if (s->ssl_max_send_fragment >= 512 &&
	    s->ssl_max_send_fragment <= 16384) {
		SSL_CTX_set_max_send_fragment(ctx,
					      (long)s->ssl_max_send_fragment);
	}
	if (s->ssl_read_ahead == 0 || s->ssl_read_ahead == 1) {
		SSL_CTX_set_read_ahead(ctx, s->ssl_read_ahead);
	}
}

static void apply_session(const struct stls__build *b, SSL_CTX *ctx)
{
	const struct stls_settings *s = b->s;
	const char *sid = has_str(s->session_id) ? s->session_id : "siptls";

	SSL_CTX_set_session_cache_mode(ctx, s->session_cache == 1 ?
					    SSL_SESS_CACHE_SERVER :
					    SSL_SESS_CACHE_OFF);
	/* Length checked once for the whole set (profile_set.c). */
	if (strlen(sid) <= SSL_MAX_SID_CTX_LENGTH) {
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid,
					       (unsigned int)strlen(sid));
	}
	if (b->c->role == STLS_ROLE_SERVER) {
		SSL_CTX_set_num_tickets(ctx, STLS_PROFILE_NUM_TICKETS);
		/* TLS 1.3 connections hand their record layer to the engine
		 * (docs/engine.md); a fresh context has no keylog callback,
		 * so this cannot be refused. */
		if (stls_conn_ctx_apply(ctx) != 0) {
			stls__build_warn(b, STLS_PF__COUNT,
					 "record hand-off unavailable");
		}
	}
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

/* Loads one chain (a file or PEM text); *leaf gets a reference on its
 * first certificate. */
static int load_chain(const struct stls__build *b, SSL_CTX *ctx,
		      enum stls_pf f, const char *key, const char *path,
		      X509 **leaf)
{
	bool pem = stls_profile_conf_is_pem(b->c, f);
	const char *name = stls__profile_src_name(path, pem);
	char why[STLS_OSSL_ERR_MAX];
	unsigned long e;
	BIO *bio;
	int ok;

	bio = stls__profile_open(b, f, key, path, pem);
	if (!bio) {
		return -ENOENT;
	}
	stls__ossl_err_clear();
	if (pem) {
		ok = stls__profile_use_chain_bio(ctx, bio);
	} else {
		ok = SSL_CTX_use_certificate_chain_file(ctx, path) == 1;
	}
	BIO_free(bio);
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
	*leaf = SSL_CTX_get0_certificate(ctx);
	if (!*leaf || !X509_up_ref(*leaf)) {
		*leaf = NULL;
		return -ENOMEM;
	}
	check_validity(b, f, key, name, *leaf);
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

/* Warns about a key file that others may read. */
static void check_key_mode(const struct stls__build *b, enum stls_pf f,
			   const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 &&
	    (st.st_mode & (S_IRGRP | S_IROTH))) {
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
			"main config or a file)", key,
			f == STLS_PF_PRIVATE_KEY2 ? "private_key_password2"
						  : "private_key_password");
	return NULL;
}

static EVP_PKEY *read_key(const struct stls__build *b, enum stls_pf f,
			  const char *key, const char *path, bool pem,
			  const char *pw)
{
	struct pw_ask ask = { has_str(pw) ? pw : NULL, false };
	const char *name = stls__profile_src_name(path, pem);
	char why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey = NULL;
	BIO *bio;

	if (!pem) {
		check_key_mode(b, f, key, path);
	}
	bio = stls__profile_open(b, f, key, path, pem);
	if (!bio) {
		return NULL;
	}
	stls__ossl_err_clear();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &ask);
	BIO_free(bio);
	if (pkey) {
		ERR_clear_error();
		return pem ? refuse_plain(b, f, key, pkey, ask.asked) : pkey;
	}
	stls__ossl_err_drain(why, sizeof(why));
	if (ask.asked && !ask.pw) {
		stls__build_err(b, f, "%s: '%s' is encrypted and no %s is set",
				key, name,
				f == STLS_PF_PRIVATE_KEY2 ? "private_key_password2"
							  : "private_key_password");
	} else if (ask.asked) {
		stls__build_err(b, f, "%s: cannot decrypt '%s' (wrong "
				"password?): %s", key, name, why);
	} else {
		stls__build_err(b, f, "%s: no private key in '%s': %s", key,
				name, why);
	}
	return NULL;
}

/*
 * Loads key <kpath> of field f (or, when unset, the key that follows the
 * certificate of field cf) and pairs it with <leaf>.
 */
static void load_key(const struct stls__build *b, SSL_CTX *ctx,
		     enum stls_pf f, const char *kpath, const char *pw,
		     enum stls_pf cf, const char *cpath, X509 *leaf)
{
	const char *key = f == STLS_PF_PRIVATE_KEY2 ? "private_key2"
						    : "private_key";
	bool pem = stls_profile_conf_is_pem(b->c, f);
	char why[STLS_OSSL_ERR_MAX];
	EVP_PKEY *pkey;

	if (!has_str(kpath)) {
		/* seed: the key may follow the certificate, and is read the
		 * way the certificate is (a file or PEM text). */
		kpath = cpath;
		pem = stls_profile_conf_is_pem(b->c, cf);
	}
	if (!pem && (strncmp(kpath, "/engine:", 8) == 0 ||
		     strncmp(kpath, "/uri:", 5) == 0)) {
		stls__build_err(b, f, "%s: HSM keys ('%s') are not supported "
				"yet", key, kpath);
		return;
	}
	pkey = read_key(b, f, key, kpath, pem, pw);
	if (!pkey) {
		return;
	}
	stls__ossl_err_clear();
	if (X509_check_private_key(leaf, pkey) != 1) {
		ERR_clear_error();
		bool cpem = stls_profile_conf_is_pem(b->c, cf);

		stls__build_err(b, f, "%s: does not match certificate '%s'",
				key, stls__profile_src_name(cpath, cpem));
	} else if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		stls__build_err(b, f, "%s: cannot use '%s': %s", key,
				stls__profile_src_name(kpath, pem),
				stls__ossl_err_drain(why, sizeof(why)));
	}
	EVP_PKEY_free(pkey);
}

static bool same_key_type(X509 *a, X509 *b)
{
	EVP_PKEY *ka = X509_get0_pubkey(a), *kb = X509_get0_pubkey(b);

	return ka && kb && EVP_PKEY_get_base_id(ka) == EVP_PKEY_get_base_id(kb);
}

static int apply_certs(const struct stls__build *b, SSL_CTX *ctx)
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
	err = load_chain(b, ctx, STLS_PF_CERTIFICATE, "certificate",
			 c->certificate, &leaf);
	if (err == -ENOMEM) {
		goto out;
	}
	if (leaf) {
		load_key(b, ctx, STLS_PF_PRIVATE_KEY, c->private_key,
			 c->private_key_password, STLS_PF_CERTIFICATE,
			 c->certificate, leaf);
	}
	err = 0;
	if (!has_str(c->certificate2)) {
		goto out;
	}
	/* The second chain is for another key type (e.g. RSA + ECDSA). */
	err = load_chain(b, ctx, STLS_PF_CERTIFICATE2, "certificate2",
			 c->certificate2, &leaf2);
	if (err == -ENOMEM) {
		goto out;
	}
	err = 0;
	if (leaf2 && leaf && same_key_type(leaf, leaf2)) {
		stls__build_err(b, STLS_PF_CERTIFICATE2,
				"certificate2: '%s' has the same key type as "
				"certificate '%s' (one chain per key type)",
				stls__profile_src_name(
					c->certificate2,
					stls_profile_conf_is_pem(
						c, STLS_PF_CERTIFICATE2)),
				stls__profile_src_name(
					c->certificate,
					stls_profile_conf_is_pem(
						c, STLS_PF_CERTIFICATE)));
	} else if (leaf2) {
		load_key(b, ctx, STLS_PF_PRIVATE_KEY2, c->private_key2,
			 c->private_key_password2, STLS_PF_CERTIFICATE2,
			 c->certificate2, leaf2);
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
static void build_chains(SSL_CTX *ctx)
{
	X509 *cur = SSL_CTX_get0_certificate(ctx);
	STACK_OF(X509) *sk;
	long r;

	if (!cur) {
		return;
	}
	r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	while (r == 1) {
		sk = NULL;
		if (SSL_CTX_get0_chain_certs(ctx, &sk) == 1 && !sk) {
			(void)SSL_CTX_build_cert_chain(
				ctx, SSL_BUILD_CHAIN_FLAG_IGNORE_ERROR |
					     SSL_BUILD_CHAIN_FLAG_CLEAR_ERROR);
		}
		r = SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_NEXT);
	}
	(void)SSL_CTX_select_current_cert(ctx, cur);
	ERR_clear_error();
}

int stls__profile_ctx_build(const struct stls__build *b, SSL_CTX **out)
{
	size_t errors0 = b->diag->errors;
	SSL_CTX *ctx;
	int err = 0;

	stls__ossl_err_clear();
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		ERR_clear_error();
		return -ENOMEM;
	}
	apply_method(b, ctx);
	apply_ciphers(b, ctx);
	apply_options(b, ctx);
	stls__profile_verify_apply(b, ctx);
	err = apply_certs(b, ctx);
	if (!err && b->diag->errors == errors0) {
		build_chains(ctx);
	}
	if (!err && b->c->role == STLS_ROLE_SERVER) {
		err = stls__profile_sni_install(ctx);
	}
	apply_session(b, ctx);
	if (!err && b->diag->errors > errors0) {
		err = -EINVAL;
	}
	if (err) {
		SSL_CTX_free(ctx);
		return err;
	}
	*out = ctx;
	return 0;
}
