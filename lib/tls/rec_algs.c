/*
 * The AEAD ciphers and digests of both record layers (rec13.c, rec12.c),
 * fetched with a library context and property query: those of the
 * SSL_CTX that did the handshake, so that the records after the hand-off
 * are protected by the same provider implementations as the handshake
 * (conn_ctx.c fetches a set per prepared context). Fetching is done once
 * per context, never per connection: OpenSSL 3.0 looks algorithms up by
 * name on every fetch. The default set (OpenSSL's default library context,
 * no property query) is fetched once per process and kept, like OpenSSL's
 * own tables; the record state takes references on what it uses.
 */
#include "tls/tls_int.h"

#include <errno.h>
#include <pthread.h>

static const char *const cipher_names[STLS_REC__CIPHERS] = {
	[STLS_REC_AES128_GCM] = "AES-128-GCM",
	[STLS_REC_AES256_GCM] = "AES-256-GCM",
	[STLS_REC_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};
static const char *const md_names[STLS_REC__MDS] = {
	[STLS_REC_SHA256] = "SHA256",
	[STLS_REC_SHA384] = "SHA384",
};

static struct stls_rec_algs dflt;
static pthread_once_t dflt_once = PTHREAD_ONCE_INIT;

/*
 * Fetch every algorithm with libctx and propq (both may be NULL: the
 * default context, no query) into *a (zeroed first; each entry a
 * reference, released by stls__rec_algs_free()). An algorithm the context
 * lacks stays NULL: the suites that need it keep their SSL. Returns 0, or
 * -ENOENT when not one cipher and one digest could be fetched (nothing
 * could be handed off; out of memory looks the same). Any thread.
 */
int stls__rec_algs_fetch(struct stls_rec_algs *a, OSSL_LIB_CTX *libctx,
			 const char *propq)
{
	bool cipher = false, md = false;
	size_t i;

	for (i = 0; i < STLS_REC__CIPHERS; i++) {
		a->cipher[i] = EVP_CIPHER_fetch(libctx, cipher_names[i], propq);
		cipher = cipher || a->cipher[i];
	}
	for (i = 0; i < STLS_REC__MDS; i++) {
		a->md[i] = EVP_MD_fetch(libctx, md_names[i], propq);
		md = md || a->md[i];
	}
	if (!cipher || !md) {
		stls__rec_algs_free(a);
		return -ENOENT;
	}
	return 0;
}

/* Release every reference of *a (NULL entries are fine). */
void stls__rec_algs_free(struct stls_rec_algs *a)
{
	size_t i;

	for (i = 0; i < STLS_REC__CIPHERS; i++) {
		EVP_CIPHER_free(a->cipher[i]);
		a->cipher[i] = NULL;
	}
	for (i = 0; i < STLS_REC__MDS; i++) {
		EVP_MD_free(a->md[i]);
		a->md[i] = NULL;
	}
}

static void fetch_default(void)
{
	/* Kept for the life of the process; a failure leaves NULLs, and
	 * those suites are never handed off. */
	(void)!stls__rec_algs_fetch(&dflt, NULL, NULL);
}

/* The default set, fetched at the first call. Any thread. */
const struct stls_rec_algs *stls__rec_algs_default(void)
{
	pthread_once(&dflt_once, fetch_default);
	return &dflt;
}
