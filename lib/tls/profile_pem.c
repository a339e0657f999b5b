/*
 * The file-valued keys of a profile (certificate, private_key, their "2"
 * twins, ca_list, crl) name a file, or hold the PEM text itself when the
 * profile comes from a database row with file_type = 1
 * (stls_profile_conf_is_pem()). Both are read through the same calls, so
 * the rest of the build does not care which: PEM text is read from memory
 * and never written to a temporary file. Its bytes are digested like a
 * file's, so that the parsed certificates of unchanged rows come from the
 * file cache (profile_cache.c) at the next reload, as unchanged files do.
 * Messages name a file by its path and PEM text as "(PEM value)", never
 * by its content.
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

int stls__profile_src_read(const char *v, bool pem, struct stls__pc_file *f)
{
	return pem ? stls__pcache_text(v, f) : stls__pcache_read(v, f);
}

/*
 * What SSL_CTX_use_certificate_chain_file() does, from a BIO and for
 * either target of <d>: the first certificate (with its trust settings)
 * becomes the certificate for its key type, the others its chain; PEM
 * blocks of other kinds (a key after the certificate) are skipped.
 */
int stls__certdst_use_chain_bio(const struct stls__certdst *d, BIO *bio)
{
	X509 *x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	unsigned long e;
	int ok;

	if (!x) {
		return 0;
	}
	ok = (d->ssl ? SSL_use_certificate(d->ssl, x)
		     : SSL_CTX_use_certificate(d->ctx, x)) == 1 &&
	     (d->ssl ? SSL_clear_chain_certs(d->ssl)
		     : SSL_CTX_clear_chain_certs(d->ctx)) == 1;
	X509_free(x);
	while (ok) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (!x) {
			break;
		}
		/* add0: the target takes our reference on success. */
		if ((d->ssl ? SSL_add0_chain_cert(d->ssl, x)
			    : SSL_CTX_add0_chain_cert(d->ctx, x)) != 1) {
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
