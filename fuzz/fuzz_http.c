/*
 * Fuzz target: an HTTP response as a distribution point or OCSP
 * responder sends it (untrusted input), through the same two steps as
 * stls__http_get() (lib/revoc/http_fetch.c) with memory in place of the
 * socket: OpenSSL's client (OSSL_HTTP_transfer() on a BIO that holds the
 * input) reads the status line and headers, then stls__http_body() reads
 * the body to the end of its DER or PEM object, within a small limit. A
 * body that is taken is handed to stls__crl_check(), as the refresh
 * does. Bad data must fail cleanly: no crash, no read past the end, no
 * leak, no body over the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/http.h>

#include "revoc/revoc.h"
#include "revoc_pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_BODY 4096

static X509 *ca;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BIO *in, *out, *rsp;
	unsigned char *body = NULL;
	X509_CRL *crl = NULL;
	size_t len = 0;
	char why[256];

	if (!ca && !(ca = fuzz_pem_cert(fuzz_ca_pem)))
		abort();
	if (size > 65536)
		return 0;
	in = BIO_new_mem_buf(data, (int)size); /* read-only: EOF at the end */
	out = BIO_new(BIO_s_mem());            /* where the request goes */
	if (!in || !out) {
		BIO_free(in);
		BIO_free(out);
		return 0;
	}
	rsp = OSSL_HTTP_transfer(NULL, NULL, NULL, "/ca.crl", 0, NULL, NULL,
				 out, in, NULL, NULL, 0, NULL, NULL, NULL,
				 NULL, 0, MAX_BODY, 0, 0);
	if (rsp) {
		if (stls__http_body(rsp, MAX_BODY, time(NULL) + 1, &body,
				    &len, why, sizeof(why)) == 0) {
			if (!body || len == 0 || len > MAX_BODY)
				abort();
			if (stls__crl_check(body, len, ca, 1893456000, &crl,
					    why, sizeof(why)) == 0)
				X509_CRL_free(crl);
			free(body);
		} else if (body || !why[0]) {
			abort();
		}
		/* A streamed response is <in> with a reference of its own. */
		BIO_free_all(rsp);
	}
	BIO_free(in);
	BIO_free(out);
	ERR_clear_error();
	return 0;
}
