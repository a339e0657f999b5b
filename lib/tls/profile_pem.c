/*
 * The file-valued keys of a profile (certificate, private_key, their "2"
 * twins, ca_list, crl) name a file, or hold the PEM text itself when the
 * profile comes from a database row with file_type = 1
 * (stls_profile_conf_is_pem()). Both are read through a BIO, so the rest
 * of the build does not care which: PEM text is read from memory and never
 * written to a temporary file. Messages name a file by its path and PEM
 * text as "(PEM value)", never by its content.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "tls/ossl_err.h"
#include "tls/profile_int.h"

/* How PEM text is named in messages (its location names the record). */
static const char pem_label[] = "(PEM value)";

const char *stls__profile_src_name(const char *v, bool pem)
{
	return pem ? pem_label : v;
}

BIO *stls__profile_open(const struct stls__build *b, enum stls_pf f,
			const char *key, const char *v, bool pem)
{
	BIO *bio;

	if (pem) {
		/* Read-only view of the conf's string: no copy, no file. */
		bio = BIO_new_mem_buf(v, -1);
	} else if (access(v, R_OK) != 0) {
		stls__build_err(b, f, "%s: cannot load '%s': %s", key, v,
				strerror(errno));
		return NULL;
	} else {
		bio = BIO_new_file(v, "r");
	}
	if (!bio) {
		ERR_clear_error();
		stls__build_err(b, f, "%s: cannot read '%s'", key,
				stls__profile_src_name(v, pem));
	}
	return bio;
}

/*
 * What SSL_CTX_use_certificate_chain_file() does, from a BIO: the first
 * certificate (with its trust settings) becomes the context's certificate
 * for its key type, the others its chain; PEM blocks of other kinds (a
 * key after the certificate) are skipped. Returns 1, or 0 with the reason
 * on the OpenSSL error queue.
 */
int stls__profile_use_chain_bio(SSL_CTX *ctx, BIO *bio)
{
	X509 *x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	unsigned long e;
	int ok;

	if (!x) {
		return 0;
	}
	ok = SSL_CTX_use_certificate(ctx, x) == 1 &&
	     SSL_CTX_clear_chain_certs(ctx) == 1;
	X509_free(x);
	while (ok) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!x) {
			break;
		}
		/* add0: the context takes our reference on success. */
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			ok = 0;
		}
	}
	if (!ok) {
		return 0;
	}
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error(); /* the end of the text */
		return 1;
	}
	return e == 0;
}
