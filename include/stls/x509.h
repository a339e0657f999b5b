/*
 * X.509 helpers: key generation, certificate and CRL building, PEM file I/O.
 *
 * These are the pieces behind `siptlsctl cert` (a small CA for operators)
 * and what the daemon may need later (self-signed demo certificates, key and
 * certificate checks). Everything here is plain OpenSSL 3 (EVP_PKEY, X509,
 * X509_CRL); nothing calls the openssl binary.
 *
 * Errors: fallible functions return 0 or a negative errno and, when given a
 * struct stls_x509_err, fill it with one readable sentence that names the
 * file involved and ends with the system or OpenSSL reason, e.g.
 * "cannot read CA key 'ca/ca.key': No such file or directory". Key material
 * and passwords never appear in messages.
 *
 * Files are written atomically: to a temporary file in the same directory,
 * created with its final mode (0600 for keys), flushed, then renamed. A
 * failure never leaves a partial or temporary file behind.
 *
 * Thread: all functions may run on any thread; objects are not shared.
 */
#ifndef STLS_X509_H
#define STLS_X509_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "stls/common.h"

/* One readable error sentence. */
struct stls_x509_err {
	char msg[512];
};

/* Sets err->msg (when err is not NULL); returns nothing. */
void stls_x509_err_set(struct stls_x509_err *err, const char *fmt, ...)
	STLS_PRINTF(2, 3);

/* --- keys -------------------------------------------------------------- */

enum stls_x509_keytype {
	STLS_X509_KEY_EC,  /* ECDSA on P-256 (the default) */
	STLS_X509_KEY_RSA, /* RSA, bits from 2048 to 16384 */
};

struct stls_x509_keyspec {
	enum stls_x509_keytype type;
	int bits; /* RSA only; 0 means 2048 */
};

/*
 * Generates a new private key. Refuses RSA sizes outside 2048..16384 with
 * -EINVAL. On success *out owns the key (EVP_PKEY_free()).
 */
STLS_MUST_USE int stls_x509_key_new(const struct stls_x509_keyspec *spec,
				    EVP_PKEY **out,
				    struct stls_x509_err *err);

/*
 * Describes a public key as "EC P-256", "RSA 2048", "ED25519", ... into buf.
 * Returns buf.
 */
const char *stls_x509_key_describe(const EVP_PKEY *key, char *buf,
				   size_t len);

/* True when key is the private key of cert's public key. */
bool stls_x509_key_matches(X509 *cert, EVP_PKEY *key);

/* --- files ------------------------------------------------------------- */

/*
 * Writes len bytes to path atomically with the given mode (before umask).
 * Refuses an existing path with -EEXIST unless overwrite. Returns 0 or
 * -errno; err names the file.
 */
STLS_MUST_USE int stls_x509_file_write(const char *path, const void *data,
				       size_t len, mode_t mode,
				       bool overwrite,
				       struct stls_x509_err *err);

/*
 * Writes a private key as PKCS#8 PEM with mode 0600, encrypted with
 * AES-256-CBC when pass is not NULL. Same rules as stls_x509_file_write().
 */
STLS_MUST_USE int stls_x509_key_write(const char *path, EVP_PKEY *key,
				      const char *pass, bool overwrite,
				      struct stls_x509_err *err);

/*
 * Writes n certificates as PEM, in order, with mode 0644. When comments is
 * true each one is preceded by "# subject: ..." and "# sha256: ..." lines
 * (text outside PEM blocks that every PEM reader skips).
 */
STLS_MUST_USE int stls_x509_certs_write(const char *path, X509 *const *v,
					size_t n, bool comments,
					bool overwrite,
					struct stls_x509_err *err);

/* Writes a CRL as PEM with mode 0644 (overwriting is expected). */
STLS_MUST_USE int stls_x509_crl_write(const char *path, X509_CRL *crl,
				      struct stls_x509_err *err);

/*
 * Reads a private key (PEM, or DER). what names the file in messages
 * ("CA key"). pass may be NULL: an encrypted key then fails with
 * -EKEYREJECTED and a message that says it is encrypted. On success *out
 * owns the key.
 */
STLS_MUST_USE int stls_x509_key_read(const char *path, const char *what,
				     const char *pass, EVP_PKEY **out,
				     struct stls_x509_err *err);

/*
 * Reads every certificate of a PEM file (or one DER certificate). Refuses a
 * file without any certificate with -ENODATA. On success *out owns the stack
 * (sk_X509_pop_free(sk, X509_free)).
 */
STLS_MUST_USE int stls_x509_certs_read(const char *path, const char *what,
				       STACK_OF(X509) **out,
				       struct stls_x509_err *err);

/* Reads the first certificate of a file; *out owns it (X509_free()). */
STLS_MUST_USE int stls_x509_cert_read(const char *path, const char *what,
				      X509 **out, struct stls_x509_err *err);

/* Reads a CRL (PEM or DER); *out owns it (X509_CRL_free()). */
STLS_MUST_USE int stls_x509_crl_read(const char *path, X509_CRL **out,
				     struct stls_x509_err *err);

/* True when the file holds a PEM CRL (looks for the PEM label only). */
bool stls_x509_file_is_crl(const char *path);

/* --- names ------------------------------------------------------------- */

enum stls_x509_san_type {
	STLS_X509_SAN_DNS,
	STLS_X509_SAN_URI,
	STLS_X509_SAN_IP,
	STLS_X509_SAN_EMAIL,
};

struct stls_x509_san {
	enum stls_x509_san_type type;
	const char *value; /* borrowed */
};

/*
 * Parses a subject written as "/O=Example/CN=Example SIP CA" (OpenSSL's
 * one-line form; "\/" is a literal slash). Refuses an empty subject, an
 * unknown attribute or an empty value with -EINVAL. *out owns the name.
 */
STLS_MUST_USE int stls_x509_name_parse(const char *text, X509_NAME **out,
				       struct stls_x509_err *err);

/*
 * Checks one SAN value: a DNS name (letters, digits, '-', '.', a leading
 * "*." wildcard), a URI with a scheme ("sip:example.com"), an IPv4 or IPv6
 * address, an e-mail address with one '@'. Returns 0 or -EINVAL with a
 * message naming the value.
 */
STLS_MUST_USE int stls_x509_san_validate(const struct stls_x509_san *san,
					 struct stls_x509_err *err);

/* "DNS", "URI", "IP", "email". */
const char *stls_x509_san_type_name(enum stls_x509_san_type type);

/* --- certificates ------------------------------------------------------ */

enum stls_x509_profile {
	STLS_X509_PROFILE_CA,     /* CA:TRUE, keyCertSign + cRLSign */
	STLS_X509_PROFILE_SERVER, /* serverAuth + clientAuth */
	STLS_X509_PROFILE_CLIENT, /* clientAuth */
};

/* What one certificate should say. Every pointer is borrowed. */
struct stls_x509_req {
	enum stls_x509_profile profile;
	X509_NAME *subject;
	const struct stls_x509_san *sans;
	size_t n_sans;
	int days;         /* validity from now, 1..36500 */
	EVP_PKEY *key;    /* the subject's key (its public half is used) */
	X509 *issuer;     /* NULL: self-signed with key */
	EVP_PKEY *issuer_key;
	time_t now;       /* 0: the current time */
};

/*
 * Builds and signs (SHA-256) one X.509 v3 certificate: a random positive
 * 128-bit serial, notBefore five minutes in the past (clock skew),
 * basicConstraints, keyUsage (digitalSignature, plus keyEncipherment for
 * RSA leaf keys), extendedKeyUsage, SANs, subject and authority key
 * identifiers. A leaf never outlives its issuer: notAfter is cut to the
 * issuer's. Refuses bad SANs, a missing key and days out of range with
 * -EINVAL. On success *out owns the certificate.
 */
STLS_MUST_USE int stls_x509_cert_build(const struct stls_x509_req *req,
				       X509 **out,
				       struct stls_x509_err *err);

/*
 * Builds and signs (SHA-256, with req->key: a token key signs in the
 * token) a PKCS#10 certificate request with req's subject and SANs; the
 * other fields of req are ignored. On success *out owns it.
 */
STLS_MUST_USE int stls_x509_csr_build(const struct stls_x509_req *req,
				      X509_REQ **out,
				      struct stls_x509_err *err);

/* Writes a certificate request as PEM with mode 0644. */
STLS_MUST_USE int stls_x509_csr_write(const char *path, X509_REQ *csr,
				      bool overwrite,
				      struct stls_x509_err *err);

/*
 * Formats a certificate's serial in upper-case hex without separators
 * (at most 40 digits) into buf. Returns buf, or "" on failure.
 */
const char *stls_x509_serial_hex(X509 *cert, char *buf, size_t len);

/* SHA-256 fingerprint as "AB:CD:..." (96 bytes with the NUL). */
const char *stls_x509_fingerprint(X509 *cert, char *buf, size_t len);

/* True when the certificate may act as a CA (X509_check_ca()). */
bool stls_x509_is_ca(X509 *cert);

/* --- CRLs -------------------------------------------------------------- */

/* One revoked serial as the CRL lists it. */
struct stls_x509_revoked {
	const char *serial_hex; /* upper- or lower-case hex, borrowed */
	time_t when;
	int reason; /* CRL_REASON_* (openssl/x509v3.h); unspecified omits it */
};

/*
 * Parses a reason name ("keyCompromise", case-insensitive) into its code.
 * Returns the code, or -EINVAL for an unknown name. stls_x509_reason_name()
 * does the reverse (NULL for an unknown code).
 */
STLS_MUST_USE int stls_x509_reason_parse(const char *name);
const char *stls_x509_reason_name(int reason);
/* The accepted names separated by ", " (for usage messages). */
const char *stls_x509_reason_list(void);

/*
 * Builds and signs (SHA-256) a v2 CRL for issuer: lastUpdate now,
 * nextUpdate now + days, cRLNumber number, the authority key identifier,
 * and one entry per revoked serial with its reason. Refuses a bad serial
 * with -EINVAL. On success *out owns the CRL.
 */
STLS_MUST_USE int stls_x509_crl_build(X509 *issuer, EVP_PKEY *issuer_key,
				      const struct stls_x509_revoked *v,
				      size_t n, unsigned long number, int days,
				      time_t now, X509_CRL **out,
				      struct stls_x509_err *err);

#endif
