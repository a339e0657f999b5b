/*
 * Fuzz target: CRLs as they come from a distribution point (untrusted
 * input): stls__crl_check() parses (DER or PEM), checks the issuer and
 * signature against the fixed CA (fuzz/revoc_pki.h) and the time window;
 * a CRL that is taken is compared with itself and searched for its
 * distribution point URLs. Bad data must fail cleanly: no crash, no read
 * past the end, no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "revoc/revoc.h"
#include "revoc_pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *ca;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs;
	X509_CRL *crl = NULL;
	unsigned char *copy;
	char why[160], *urls[4];
	size_t i, n;

	if (!ca && !(ca = fuzz_pem_cert(fuzz_ca_pem)))
		abort();
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (stls__crl_check(copy, size, ca, 1893456000, &crl, why,
			    sizeof(why)) == 0) {
		if (stls__crl_compare(crl, crl) != 0 ||
		    stls__crl_compare(crl, NULL) != 1)
			abort();
		certs = sk_X509_new_null();
		if (certs && sk_X509_push(certs, ca) > 0) {
			n = stls__crl_urls(crl, certs, urls, 4);
			for (i = 0; i < n; i++) {
				if (strncmp(urls[i], "http://", 7) != 0)
					abort();
				free(urls[i]);
			}
		}
		sk_X509_free(certs);
		X509_CRL_free(crl);
	}
	free(copy);
	ERR_clear_error();
	return 0;
}
