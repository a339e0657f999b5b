/*
 * Fuzz target: OCSP responses as they come from a responder, a
 * `file:PATH` or a peer's staple (untrusted input): stls__ocsp_check()
 * parses, verifies against the fixed CA (fuzz/revoc_pki.h) and reads the
 * status of the fixed leaf, at a time inside the seeds' window and at
 * one after it. A response that is taken must say something sensible.
 * Bad data must fail cleanly: no crash, no read past the end (the input
 * is copied to a buffer of its own size), no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "revoc/revoc.h"
#include "revoc_pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *ca, *leaf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const time_t when[2] = { 1893456000,  /* 2030-01-01 */
					4102444800 }; /* 2100-01-01 */
	struct stls__ocsp_result r;
	unsigned char *copy;
	char why[160];
	size_t i;
	int err;

	if (!ca) {
		ca = fuzz_pem_cert(fuzz_ca_pem);
		leaf = fuzz_pem_cert(fuzz_leaf_pem);
		if (!ca || !leaf)
			abort();
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	for (i = 0; i < 2; i++) {
		err = stls__ocsp_check(copy, size, leaf, ca, when[i],
				       STLS__OCSP_SKEW, &r, why, sizeof(why));
		if (memchr(why, '\0', sizeof(why)) == NULL)
			abort();
		if (err == 0 && r.status != V_OCSP_CERTSTATUS_GOOD &&
		    r.status != V_OCSP_CERTSTATUS_REVOKED &&
		    r.status != V_OCSP_CERTSTATUS_UNKNOWN)
			abort();
	}
	/* The must-staple and issuer helpers on the same certificates. */
	(void)stls__must_staple(leaf);
	free(copy);
	ERR_clear_error();
	return 0;
}
