/*
 * Peer facts (see stls/facts.h and docs/facts.md): built once at handshake
 * end, answered by name.
 *
 * Storage is compact: scalars, the static version string and SSL_CIPHER
 * OpenSSL keeps for the process, the SNI, and references (X509_up_ref) to
 * certificates OpenSSL had already parsed. Certificate strings (DNs, SANs,
 * serial, dates, PEM) are derived into the caller's buffer on query.
 *
 * Names are resolved to a query { kind, who, issuer, arg, index } through
 * tables: one for connection-level pseudo-variables, one for the per-
 * certificate suffixes after "tls_peer_" / "tls_my_", and alias tables for
 * the select grammar (facts_names.c).
 */
#include "tls/tls_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct stls_facts {
	const char *version;        /* static string inside libssl */
	const SSL_CIPHER *cipher;   /* static table entry inside libssl */
	long verify_result;
	int bits;
	bool resumed;
	X509 *peer;                 /* owned reference or NULL */
	X509 *own;                  /* owned reference or NULL */
	STACK_OF(X509) *chain;      /* owned references or NULL */
	char *sni;
};

int stls__facts_build(SSL *ssl, const char *sni, struct stls_facts **out)
{
	struct stls_facts *f = calloc(1, sizeof(*f));
	STACK_OF(X509) *vc;

	*out = NULL;
	if (!f) {
		return -ENOMEM;
	}
	f->version = SSL_get_version(ssl);
	f->cipher = SSL_get_current_cipher(ssl);
	f->bits = f->cipher ? SSL_CIPHER_get_bits(f->cipher, NULL) : 0;
	f->verify_result = SSL_get_verify_result(ssl);
	f->resumed = SSL_session_reused(ssl) == 1;
	/* get1: this reference is ours, released in stls_facts_free(). */
	f->peer = SSL_get1_peer_certificate(ssl);
	f->own = SSL_get_certificate(ssl);
	if (f->own && !X509_up_ref(f->own)) {
		f->own = NULL;
	}
	vc = SSL_get0_verified_chain(ssl);
	/* X509_chain_up_ref: the copy and its references are ours. */
	if (vc && !(f->chain = X509_chain_up_ref(vc))) {
		goto nomem;
	}
	if (sni && !(f->sni = strdup(sni))) {
		goto nomem;
	}
	*out = f;
	return 0;
nomem:
	stls_facts_free(f);
	return -ENOMEM;
}

void stls_facts_free(struct stls_facts *f)
{
	if (!f) {
		return;
	}
	X509_free(f->peer);
	X509_free(f->own);
	sk_X509_pop_free(f->chain, X509_free);
	free(f->sni);
	free(f);
}

bool stls_facts_has_peer_cert(const struct stls_facts *f)
{
	return f->peer != NULL;
}

bool stls_facts_is_peer_verified(const struct stls_facts *f)
{
	return f->peer && f->verify_result == X509_V_OK;
}

bool stls_facts_is_resumed(const struct stls_facts *f)
{
	return f->resumed;
}

long stls_facts_get_verify_result(const struct stls_facts *f)
{
	return f->verify_result;
}

const char *stls_facts_get_version(const struct stls_facts *f)
{
	return f->version ? f->version : "unknown";
}

const char *stls_facts_get_cipher(const struct stls_facts *f)
{
	return f->cipher ? SSL_CIPHER_get_name(f->cipher) : "(NONE)";
}

const char *stls_facts_get_sni(const struct stls_facts *f)
{
	return f->sni;
}

/* Copy s[0..n) as a C string; -ENOBUFS (truncated) when it does not fit. */
static ssize_t put(char *buf, size_t len, const char *s, size_t n)
{
	if (len == 0) {
		return -ENOBUFS;
	}
	if (n >= len) {
		memcpy(buf, s, len - 1);
		buf[len - 1] = '\0';
		return -ENOBUFS;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (ssize_t)n;
}

static ssize_t put_str(char *buf, size_t len, const char *s)
{
	return put(buf, len, s, strlen(s));
}

static ssize_t put_long(char *buf, size_t len, long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%ld", v);
	return put_str(buf, len, tmp);
}

/* Copy a memory BIO's contents (then free it). */
static ssize_t put_bio(char *buf, size_t len, BIO *b, bool ok)
{
	char *p = NULL;
	long n;
	ssize_t r;

	if (!b) {
		return -ENOMEM;
	}
	n = BIO_get_mem_data(b, &p);
	r = ok && n >= 0 ? put(buf, len, p, (size_t)n) : -ENOENT;
	BIO_free(b);
	return r;
}

static ssize_t put_pem(char *buf, size_t len, X509 *x, bool url)
{
	static const char hex[] = "0123456789ABCDEF";
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL;
	size_t i, o = 0;
	long n;
	ssize_t r;

	if (!b || !url) {
		return put_bio(buf, len, b, b && PEM_write_bio_X509(b, x));
	}
	if (!PEM_write_bio_X509(b, x)) {
		BIO_free(b);
		return -ENOENT;
	}
	n = BIO_get_mem_data(b, &p);
	r = 0;
	for (i = 0; i < (size_t)n && r == 0; i++) {
		unsigned char ch = (unsigned char)p[i];
		bool plain = (ch >= 'A' && ch <= 'Z') ||
			     (ch >= 'a' && ch <= 'z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' ||
			     ch == '_' || ch == '.' || ch == '~';

		if (o + (plain ? 1 : 3) >= len) {
			r = -ENOBUFS;
		} else if (plain) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	if (len) {
		buf[o] = '\0';
	}
	BIO_free(b);
	return r ? r : (ssize_t)o;
}

static ssize_t put_dn(char *buf, size_t len, X509_NAME *name)
{
	char *s = X509_NAME_oneline(name, NULL, 0);
	ssize_t r;

	if (!s) {
		return -ENOMEM;
	}
	r = put_str(buf, len, s);
	OPENSSL_free(s);
	return r;
}

static ssize_t put_comp(char *buf, size_t len, X509_NAME *name, int nid)
{
	int idx = X509_NAME_get_index_by_NID(name, nid, -1);
	unsigned char *u = NULL;
	int n;
	ssize_t r;

	if (idx < 0) {
		return -ENOENT;
	}
	n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
					    X509_NAME_get_entry(name, idx)));
	if (n < 0) {
		return -ENOENT;
	}
	r = put(buf, len, (const char *)u, (size_t)n);
	OPENSSL_free(u);
	return r;
}

/* Text of one SAN entry; false for IP lengths other than 4/16. */
static bool san_text(const GENERAL_NAME *g, char *tmp, size_t tlen,
		     const char **s, size_t *n)
{
	const ASN1_STRING *a = g->d.ia5;

	if (g->type == GEN_IPADD) {
		int l = ASN1_STRING_length(g->d.ip);
		int af = l == 4 ? AF_INET : l == 16 ? AF_INET6 : -1;

		if (af < 0 || !inet_ntop(af, ASN1_STRING_get0_data(g->d.ip),
					 tmp, (socklen_t)tlen)) {
			return false;
		}
		*s = tmp;
		*n = strlen(tmp);
		return true;
	}
	*s = (const char *)ASN1_STRING_get0_data(a);
	*n = (size_t)ASN1_STRING_length(a);
	return true;
}

static ssize_t put_san(char *buf, size_t len, X509 *x, int type, int index,
		       bool count)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
					       NULL);
	char tmp[INET6_ADDRSTRLEN];
	int i, seen = 0;
	ssize_t r = -ENOENT;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *s;
		size_t n;

		if (g->type != type || !san_text(g, tmp, sizeof(tmp), &s, &n)) {
			continue;
		}
		if (!count && seen == index) {
			r = put(buf, len, s, n);
			break;
		}
		seen++;
	}
	GENERAL_NAMES_free(gens);
	return count ? put_long(buf, len, seen) : r;
}

static ssize_t put_serial(char *buf, size_t len, X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *s = bn ? BN_bn2dec(bn) : NULL;
	ssize_t r = s ? put_str(buf, len, s) : -ENOMEM;

	OPENSSL_free(s);
	BN_free(bn);
	return r;
}

static ssize_t put_time(char *buf, size_t len, const ASN1_TIME *t)
{
	BIO *b = BIO_new(BIO_s_mem());

	return put_bio(buf, len, b, b && t && ASN1_TIME_print(b, t));
}

static ssize_t peer_status(const struct stls_facts *f, enum stls_fkind k,
			   char *buf, size_t len)
{
	long want = k == F_REVOKED	 ? X509_V_ERR_CERT_REVOKED
		    : k == F_EXPIRED	 ? X509_V_ERR_CERT_HAS_EXPIRED
		    : k == F_SELFSIGNED ? X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
					 : X509_V_OK;

	return put_str(buf, len, f->peer && f->verify_result == want ? "1"
								      : "0");
}

static ssize_t conn_fact(const struct stls_facts *f, const struct stls_fq *q,
			 char *buf, size_t len)
{
	char d[256];

	switch (q->kind) {
	case F_VERSION:
		return put_str(buf, len, stls_facts_get_version(f));
	case F_DESC:
		if (!f->cipher || !SSL_CIPHER_description(f->cipher, d,
							  sizeof(d))) {
			return -ENOENT;
		}
		d[strcspn(d, "\n")] = '\0';
		return put_str(buf, len, d);
	case F_CIPHER:
		return f->cipher ? put_str(buf, len, stls_facts_get_cipher(f))
				 : -ENOENT;
	case F_BITS:
		return put_long(buf, len, f->bits);
	case F_SNI:
		return f->sni ? put_str(buf, len, f->sni) : -ENOENT;
	case F_RESUMED:
		return put_str(buf, len, f->resumed ? "1" : "0");
	default:
		return -EINVAL;
	}
}

static ssize_t answer(const struct stls_facts *f, const struct stls_fq *q,
		      char *buf, size_t len)
{
	X509 *x = q->who == W_PEER ? f->peer : f->own;

	if (q->who == W_CONN) {
		return conn_fact(f, q, buf, len);
	}
	if (q->kind >= F_VERIFIED && q->kind <= F_SELFSIGNED) {
		return q->who == W_PEER ? peer_status(f, q->kind, buf, len)
					: -EINVAL;
	}
	if (q->kind == F_CHAIN) {
		if (q->who != W_PEER) {
			return -EINVAL;
		}
		if (!f->chain || q->index < 0 ||
		    q->index >= sk_X509_num(f->chain)) {
			return -ENOENT;
		}
		return put_pem(buf, len, sk_X509_value(f->chain, q->index),
			       false);
	}
	if (!x) {
		return -ENOENT;
	}
	switch (q->kind) {
	case F_DN:
		return put_dn(buf, len, q->issuer ? X509_get_issuer_name(x)
						  : X509_get_subject_name(x));
	case F_COMP:
		return put_comp(buf, len,
				q->issuer ? X509_get_issuer_name(x)
					  : X509_get_subject_name(x),
				q->arg);
	case F_SAN:
	case F_SAN_COUNT:
		return put_san(buf, len, x, q->arg, q->index,
			       q->kind == F_SAN_COUNT);
	case F_SERIAL:
		return put_serial(buf, len, x);
	case F_XVER:
		return put_long(buf, len, X509_get_version(x));
	case F_PEM:
	case F_URLPEM:
		return put_pem(buf, len, x, q->kind == F_URLPEM);
	case F_NOTBEFORE:
		return put_time(buf, len, X509_get0_notBefore(x));
	case F_NOTAFTER:
		return put_time(buf, len, X509_get0_notAfter(x));
	default:
		return -EINVAL;
	}
}

ssize_t stls_facts_get(const struct stls_facts *f, const char *name,
		       int index, char *buf, size_t len)
{
	struct stls_fq q;
	int err;

	if (!f || !name || (!buf && len)) {
		return -EINVAL;
	}
	err = stls__facts_resolve(name, index, &q);
	if (err) {
		return err;
	}
	return answer(f, &q, buf, len);
}
