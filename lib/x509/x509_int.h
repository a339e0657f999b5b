/*
 * Internal helpers shared by the lib/x509 files. Not installed.
 */
#ifndef STLS_X509_INT_H
#define STLS_X509_INT_H

#include <openssl/x509v3.h>

#include "stls/x509.h"

/* Largest PEM or DER file read (a CA list of a few hundred roots fits). */
#define STLS__X509_FILE_MAX (4u << 20)

/*
 * Takes the most relevant reason from the OpenSSL error queue into buf
 * ("" when the queue is empty) and clears the queue. Returns buf.
 */
const char *stls__x509_ssl_reason(char *buf, size_t len);

/*
 * Sets err to "<what>: <OpenSSL reason>" (or just <what> when OpenSSL has
 * nothing to say) and clears the queue.
 */
void stls__x509_err_ssl(struct stls_x509_err *err, const char *what);

/*
 * Reads a whole file (at most STLS__X509_FILE_MAX bytes) into a new memory
 * BIO. what names the file in messages. *out owns the BIO.
 */
STLS_MUST_USE int stls__x509_file_slurp(const char *path, const char *what,
					BIO **out, struct stls_x509_err *err);

/* One SAN as a GENERAL_NAME (the caller frees it), or NULL. */
GENERAL_NAME *stls__x509_san_gen(const struct stls_x509_san *san);

/* SHA-256, or no digest for keys that sign without one (Ed25519). */
const EVP_MD *stls__x509_sign_md(EVP_PKEY *key);

#endif
