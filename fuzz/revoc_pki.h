/*
 * The fixed PKI of the revocation fuzz targets (fuzz_ocsp.c, fuzz_crl.c):
 * a CA "Fuzz CA" and a leaf "fuzz.test" (serial 0x1234), both valid for a
 * hundred years, made once with the openssl command. The seeds in
 * fuzz/corpus/ocsp/ (good, revoked, unknown responses from
 * ) and fuzz/corpus/crl/ (a CRL
 * revoking 0x1234, PEM and DER) are signed by this CA, so that mutations
 * reach the signature, status and time checks. The CA key is not kept.
 */
#ifndef STLS_FUZZ_REVOC_PKI_H
#define STLS_FUZZ_REVOC_PKI_H

#include <openssl/pem.h>

static const char fuzz_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBizCCATGgAwIBAgIUOKOWlr7LWCcGb5TnKm2e0yqLNVQwCgYIKoZIzj0EAwIw\n"
	"EjEQMA4GA1UEAwwHRnV6eiBDQTAgFw0yNjEyMDYxODE4MDhaGA8yMTI2MTExMjE4\n"
	"MTgwOFowEjEQMA4GA1UEAwwHRnV6eiBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
	"A0IABBSV7Igs5o4JJB4tzQfZNNXfptB97RDIi/zhCL1NBjcCJcmIYDoLUblzFrC3\n"
	"zp2XjAsGFIuCHwuPbYMx88EoZV+jYzBhMB0GA1UdDgQWBBSEjR0HZl3b3rDG0HDq\n"
	"NcBJPFBEnTAfBgNVHSMEGDAWgBSEjR0HZl3b3rDG0HDqNcBJPFBEnTAPBgNVHRMB\n"
	"Af8EBTADAQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNIADBFAiEAlhgt\n"
	"MUCzxAKwRil8OnqgOdlHv58lnpvtvxqJ5QCr9GQCIAfiZvyadTVGlSgkw8eM1Xwq\n"
	"z/3Sk96nK1d80B6AE6LF\n"
	"-----END CERTIFICATE-----\n";

static const char fuzz_leaf_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBlzCCATygAwIBAgICEjQwCgYIKoZIzj0EAwIwEjEQMA4GA1UEAwwHRnV6eiBD\n"
	"QTAgFw0yNjEyMDYxODE4MDhaGA8yMTI2MTExMjE4MTgwOFowFDESMBAGA1UEAwwJ\n"
	"ZnV6ei50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEruRZARCKEK4RQjwX\n"
	"mn3Q1MLa09nWFI5xnwQClnYas6l6ZLF/StyswqTfte0/UxKufiwED6VlxhBp/l1a\n"
	"IS0KBaN+MHwwCQYDVR0TBAIwADAvBggrBgEFBQcBAQQjMCEwHwYIKwYBBQUHMAGG\n"
	"E2h0dHA6Ly8xMjcuMC4wLjE6MS8wHQYDVR0OBBYEFOvTsWbt9eTJn3f4hVElocxM\n"
	"FDJNMB8GA1UdIwQYMBaAFISNHQdmXdvesMbQcOo1wEk8UESdMAoGCCqGSM49BAMC\n"
	"A0kAMEYCIQDnXg4h0zWDwho+zWDSEiAqgLa8P2rXy4QX+kObLQtXzgIhAJRysQFq\n"
	"1La7vaTiNnyWKDgm0WHLf8Dhw4pnOJbPP6KZ\n"
	"-----END CERTIFICATE-----\n";

static X509 *fuzz_pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

#endif
