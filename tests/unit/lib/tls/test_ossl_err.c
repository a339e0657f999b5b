/*
 * Tests for lib/tls/ossl_err.c: the OpenSSL error queue as one line.
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "test.h"
#include "tls/ossl_err.h"

TEST(empty_queue)
{
	char buf[STLS_OSSL_ERR_MAX];

	ERR_clear_error();
	CHECK_STR_EQ(stls__ossl_err_drain(buf, sizeof(buf)),
		     "unknown OpenSSL error");
}

/* A missing file: the system reason, without the generic layers. */
TEST(system_error_is_readable)
{
	char buf[STLS_OSSL_ERR_MAX];
	BIO *b;

	ERR_clear_error();
	b = BIO_new_file("/nonexistent/file.pem", "r");
	CHECK_NULL(b);
	CHECK_STR_HAS(stls__ossl_err_drain(buf, sizeof(buf)),
		      "No such file or directory");
	CHECK(strstr(buf, " lib") == NULL);
	CHECK_EQ(ERR_peek_error(), 0);
}

TEST(several_reasons_joined)
{
	char buf[STLS_OSSL_ERR_MAX];

	ERR_clear_error();
	ERR_raise(ERR_LIB_SSL, SSL_R_NO_CIPHER_MATCH);
	ERR_raise(ERR_LIB_SSL, SSL_R_NO_CIPHER_MATCH);
	ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
	CHECK_STR_EQ(stls__ossl_err_drain(buf, sizeof(buf)),
		     "no cipher match: no start line");
}

/* Only generic reasons: keep one rather than say nothing. */
TEST(generic_only)
{
	char buf[STLS_OSSL_ERR_MAX];

	ERR_clear_error();
	ERR_raise(ERR_LIB_SSL, ERR_R_SYS_LIB);
	CHECK_STR_EQ(stls__ossl_err_drain(buf, sizeof(buf)), "system lib");
}

TEST(truncates_and_terminates)
{
	char buf[8];
	int i;

	ERR_clear_error();
	for (i = 0; i < 5; i++) {
		ERR_raise(ERR_LIB_SSL, SSL_R_NO_CIPHER_MATCH);
		ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
	}
	stls__ossl_err_drain(buf, sizeof(buf));
	CHECK_EQ(strlen(buf), 7);
	CHECK_EQ(ERR_peek_error(), 0);
}

TEST(clear_drops_stale_errors)
{
	ERR_raise(ERR_LIB_SSL, SSL_R_NO_CIPHER_MATCH);
	stls__ossl_err_clear();
	CHECK_EQ(ERR_peek_error(), 0);
	stls__ossl_err_clear();
}
