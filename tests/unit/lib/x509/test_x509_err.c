/*
 * Tests of lib/x509/x509_err.c: the caller's message buffer and the
 * reason taken from OpenSSL's error queue (its first entry).
 */
#include <openssl/err.h>
#include <openssl/pem.h>

#include "test.h"
#include "x509/x509_int.h"

TEST(err_set_formats_and_tolerates_null)
{
	struct stls_x509_err err;

	stls_x509_err_set(&err, "%s:%d: %s", "ca.pem", 7, "bad");
	CHECK_STR_EQ(err.msg, "ca.pem:7: bad");
	stls_x509_err_set(NULL, "ignored %d", 1);
}

TEST(err_ssl_names_the_first_reason_and_empties_the_queue)
{
	struct stls_x509_err err;
	BIO *b = BIO_new_mem_buf("-----BEGIN CERTIFICATE-----\nAA==\n"
				 "-----END CERTIFICATE-----\n", -1);

	ERR_clear_error();
	CHECK(PEM_read_bio_X509(b, NULL, NULL, NULL) == NULL);
	BIO_free(b);
	CHECK(ERR_peek_error() != 0);
	stls__x509_err_ssl(&err, "cannot read ca.pem");
	CHECK_STR_HAS(err.msg, "cannot read ca.pem: ");
	CHECK(strlen(err.msg) > strlen("cannot read ca.pem: "));
	CHECK_EQ(ERR_peek_error(), 0);
	/* Nothing queued: the message alone. */
	stls__x509_err_ssl(&err, "no reason");
	CHECK_STR_EQ(err.msg, "no reason");
}
